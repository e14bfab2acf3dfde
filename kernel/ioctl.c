// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl dispatch, once for both tables: /dev/kport's (main.c) and a
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
#include <linux/fs.h>
#include <linux/uaccess.h>

#include "kport.h"

/* The sizes kport_ioctl_copy_in() knows; a struct that grows adds its own. */
static __always_inline bool kport_ioctl_size_known(size_t size)
{
	switch (size) {
	case 64: case 88: case 104: case 128: case 160: case 208:
		return true;
	}
	return false;
}

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
	case 64:	/* version, msg, batch, slice */
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
	/* Cannot happen: kport_ioctl_dispatch() checks the sizes at build time. */
	WARN_ON_ONCE(1);
	return -ENOTTY;
}

/**
 * kport_ioctl_dispatch() - run the ioctl @cmd of @file from its table
 * @table:  the file's ioctls, indexed by command number from @first.
 * @n:      how many.
 * @first:  the command number of @table[0].
 * @rights: the rights of the handle (KPORT_RIGHTS_ALL for /dev/kport).
 * @file:   the file.
 * @cmd:    the command.
 * @arg:    its argument.
 *
 * Context: process context; the handler may sleep.
 * Return: the handler's result, or the errors above.
 */
long kport_ioctl_dispatch(const struct kport_ioctl *table, unsigned int n,
			  unsigned int first, u32 rights, struct file *file,
			  unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	const struct kport_ioctl *def;
	union kport_ioctl_arg u;
	unsigned int ksize;
	long ret;

	BUILD_BUG_ON(!kport_ioctl_size_known(sizeof(struct kport_version)));
	BUILD_BUG_ON(!kport_ioctl_size_known(sizeof(struct kport_create)));
	BUILD_BUG_ON(!kport_ioctl_size_known(sizeof(struct kport_open)));
	BUILD_BUG_ON(!kport_ioctl_size_known(sizeof(struct kport_unlink)));
	BUILD_BUG_ON(!kport_ioctl_size_known(sizeof(struct kport_msg)));
	BUILD_BUG_ON(!kport_ioctl_size_known(sizeof(struct kport_stat)));
	BUILD_BUG_ON(!kport_ioctl_size_known(sizeof(struct kport_slice)));
	BUILD_BUG_ON(!kport_ioctl_size_known(sizeof(struct kport_batch)));
	BUILD_BUG_ON(!kport_ioctl_size_known(sizeof(struct kport_sendrecv)));

	if (_IOC_NR(cmd) - first >= n)
		return -ENOTTY;
	def = &table[_IOC_NR(cmd) - first];
	/* Without a struct, no size may be given either. */
	if (!def->fn ||
	    (def->min_size ? !KPORT_CMD_IS(cmd, def->cmd) : cmd != def->cmd))
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
	if (!ret && def->copy_out && copy_to_user(uarg, &u, ksize))
		ret = -EFAULT;
	return ret;
}
