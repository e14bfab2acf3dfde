/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioctl dispatch, the same for both tables: /dev/kport's (main.c) and a
 * port handle's (handle.c).  Each ioctl is one struct kport_ioctl; what
 * every ioctl does before and after its handler happens here, in one
 * order, so that a call wrong in several ways always gets the first of:
 *
 *   -ENOTTY  not an ioctl of this file (another type, number or
 *            direction; the size field may differ, a struct may grow, but
 *            not for an ioctl without one);
 *   -EBADF   the handle lacks a right the ioctl needs;
 *   -EINVAL  an ioctl without a struct given a non-zero argument, or the
 *            caller's struct smaller than the first published one;
 *   -E2BIG   a struct larger than a page, or with a non-zero tail this
 *            module does not know;
 *   -EFAULT  the struct cannot be read;
 *
 * then whatever the handler finds in the struct.  An ioctl whose struct is
 * only output (STAT, VERSION) has it copied back here, after the handler
 * succeeded; any other writes back itself, where its commit point says.
 */
#ifndef KPORT_IOCTL_H
#define KPORT_IOCTL_H

#include <linux/fs.h>
#include <linux/uaccess.h>

#include "kport.h"

/**
 * struct kport_ioctl - one ioctl, as a dispatch table describes it
 * @cmd:      its command: direction, number, and the size of the struct
 *            as this module knows it (the caller's may differ).
 * @min_size: the first published size of its struct (KPORT_*_SIZE_VER0);
 *            0 for an ioctl that takes none (its argument must be 0).
 * @rights:   the KPORT_RIGHT_* a handle needs for it.
 * @copy_out: its struct is only output: copied back once @fn succeeded.
 * @fn:       the handler: the file, the struct copied in (NULL if none),
 *            and the caller's pointer to it.
 *
 * The tables: kport_dev_ioctls (main.c), kport_handle_ioctls (handle.c);
 * kport_ioctl_dispatch() runs them.
 */
struct kport_ioctl {
	unsigned int cmd;
	u16 min_size;
	u8 rights;
	bool copy_out;
	long (*fn)(struct file *file, void *arg, void __user *uarg);
};

/* Room for any ioctl's struct (kport_ioctl_dispatch() copies it here). */
union kport_ioctl_arg {
	struct kport_version version;
	struct kport_create create;
	struct kport_open open;
	struct kport_unlink unlink;
	struct kport_msg msg;
	struct kport_stat stat;
	struct kport_slice slice;
	struct kport_batch batch;
	struct kport_sendrecv sendrecv;
	struct kport_setattr setattr;
};

/*
 * Copy an ioctl's struct in.  kport_copy_arg() with the size a constant
 * for each size an ioctl's struct has, so that every copy is of constant
 * size, as when each handler did its own: checked at build time, and no
 * run-time object lookup by hardened usercopy on the hot path.
 */
static __always_inline int kport_ioctl_copy_in(void *karg, unsigned int ksize,
					       unsigned int minsize,
					       unsigned int cmd,
					       const void __user *uarg)
{
	switch (ksize) {
	case 64:	/* version, msg, batch, slice, setattr */
		return kport_copy_arg(karg, 64, minsize, cmd, uarg);
	case 88:	/* unlink */
		return kport_copy_arg(karg, 88, minsize, cmd, uarg);
	case 104:	/* open */
		return kport_copy_arg(karg, 104, minsize, cmd, uarg);
	case 128:	/* create */
		return kport_copy_arg(karg, 128, minsize, cmd, uarg);
	case 160:	/* sendrecv */
		return kport_copy_arg(karg, 160, minsize, cmd, uarg);
	case 208:	/* stat */
		return kport_copy_arg(karg, 208, minsize, cmd, uarg);
	}
	/*
	 * @ksize is a table entry's, a constant where this is inlined: a
	 * struct of a size not listed above fails the build here.
	 */
	BUILD_BUG();
	return -ENOTTY;
}

/* Most ioctls one table may have: the cases of kport_ioctl_dispatch(). */
#define KPORT_IOCTL_MAX	10

/*
 * Run @table[@i] for @cmd.  Inlined with @i a constant into each case of
 * kport_ioctl_dispatch(), so that the compiler reads the entry at build
 * time: the handler is called directly, the copy is of constant size and
 * the rights are a constant mask, and the dispatch costs what the chains
 * of ifs it replaces did.
 */
static __always_inline long
kport_ioctl_run(const struct kport_ioctl *table, unsigned int n,
		unsigned int i, u32 rights, struct file *file,
		unsigned int cmd, unsigned long arg)
{
	const struct kport_ioctl *def = &table[i];
	void __user *uarg = (void __user *)arg;
	union kport_ioctl_arg u;
	unsigned int ksize;
	long ret;

	/* (->cmd, not ->fn: a constant here, where an address is not) */
	if (i >= n || !def->cmd)
		return -ENOTTY;
	/* Without a struct, no size may be given either. */
	if (def->min_size ? !KPORT_CMD_IS(cmd, def->cmd) : cmd != def->cmd)
		return -ENOTTY;
	if ((rights & def->rights) != def->rights)
		return -EBADF;
	if (!def->min_size)
		return arg ? -EINVAL : def->fn(file, NULL, NULL);

	ksize = _IOC_SIZE(def->cmd);
	ret = kport_ioctl_copy_in(&u, ksize, def->min_size, cmd, uarg);
	if (ret)
		return ret;
	ret = def->fn(file, &u, uarg);
	/* No more than the caller's struct holds, if it is an older, smaller one. */
	if (!ret && def->copy_out &&
	    copy_to_user(uarg, &u, min(ksize, _IOC_SIZE(cmd))))
		ret = -EFAULT;
	return ret;
}

/**
 * kport_ioctl_dispatch() - run the ioctl @cmd of @file from its table
 * @table:  the file's ioctls, indexed by command number from @first; a
 *          static const array, so that each entry is known at build time.
 *          Every entry has a ->cmd; a slot without one is -ENOTTY.
 * @n:      how many (at most KPORT_IOCTL_MAX).
 * @first:  the command number of @table[0].
 * @rights: the rights of the handle (0 for /dev/kport, whose ioctls need
 *          none).
 * @file:   the file.
 * @cmd:    the command.
 * @arg:    its argument.
 *
 * A switch on the command number, each case kport_ioctl_run() of its
 * entry: nothing indexes the table with a number from userspace (no
 * Spectre v1 gadget), and no call goes through a pointer (no retpoline).
 *
 * Context: process context; the handler may sleep.
 * Return: the handler's result, or the errors above.
 */
static __always_inline long
kport_ioctl_dispatch(const struct kport_ioctl *table, unsigned int n,
		     unsigned int first, u32 rights, struct file *file,
		     unsigned int cmd, unsigned long arg)
{
	BUILD_BUG_ON(n > KPORT_IOCTL_MAX);

	/*
	 * The first two first, before the switch's search: a handle's are
	 * SEND and RECV, its hot path.
	 */
	if (_IOC_NR(cmd) == first)
		return kport_ioctl_run(table, n, 0, rights, file, cmd, arg);
	if (_IOC_NR(cmd) == first + 1)
		return kport_ioctl_run(table, n, 1, rights, file, cmd, arg);
	switch (_IOC_NR(cmd) - first) {
	case 2:
		return kport_ioctl_run(table, n, 2, rights, file, cmd, arg);
	case 3:
		return kport_ioctl_run(table, n, 3, rights, file, cmd, arg);
	case 4:
		return kport_ioctl_run(table, n, 4, rights, file, cmd, arg);
	case 5:
		return kport_ioctl_run(table, n, 5, rights, file, cmd, arg);
	case 6:
		return kport_ioctl_run(table, n, 6, rights, file, cmd, arg);
	case 7:
		return kport_ioctl_run(table, n, 7, rights, file, cmd, arg);
	case 8:
		return kport_ioctl_run(table, n, 8, rights, file, cmd, arg);
	case 9:
		return kport_ioctl_run(table, n, 9, rights, file, cmd, arg);
	}
	return -ENOTTY;
}

#endif /* KPORT_IOCTL_H */
