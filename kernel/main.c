// SPDX-License-Identifier: GPL-2.0
/*
 * kport: kernel mailbox IPC.  The /dev/kport misc device and its ioctls.
 *
 * /dev/kport is open to every user, as POSIX message queues are: access
 * control is per port (port.c), consumption is bounded per user
 * (limits.c).  The device file holds no state; every ioctl on it acts for
 * the calling task, and the port handles it returns are independent files.
 *
 * An administrator who wants kport for one group only sets dev_mode (say
 * 0660) and has udev set the group: the node is created with dev_mode, so
 * there is no moment, as there would be with a udev rule alone, when it
 * is 0666 and a process may open it and keep the descriptor.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

#include "ioctl.h"
#include "kport.h"

/* The tracepoints are defined here, once; every other file only calls them. */
#define CREATE_TRACE_POINTS
#include "trace.h"

/* Layouts are ABI: pin them, as userspace's copy of the header does. */
static_assert(sizeof(struct kport_version) == KPORT_VERSION_SIZE_VER0);
static_assert(sizeof(struct kport_create) == KPORT_CREATE_SIZE_VER0);
static_assert(sizeof(struct kport_open) == KPORT_OPEN_SIZE_VER0);
static_assert(sizeof(struct kport_unlink) == KPORT_UNLINK_SIZE_VER0);
static_assert(sizeof(struct kport_msg) == KPORT_MSG_SIZE_VER0);
static_assert(sizeof(struct kport_stat) == KPORT_STAT_SIZE_VER0);
static_assert(sizeof(struct kport_slice) == KPORT_SLICE_SIZE_VER0);
static_assert(sizeof(struct kport_batch) == KPORT_BATCH_SIZE_VER0);
static_assert(sizeof(struct kport_sendrecv) == KPORT_SENDRECV_SIZE_VER0);
static_assert(KPORT_PRIO_MAX <= BITS_PER_LONG);

#define KPORT_FEATURES	(KPORT_FEAT_RENDEZVOUS | KPORT_FEAT_UNBOUNDED | \
			 KPORT_FEAT_PRIORITY | KPORT_FEAT_DEADLINE |	\
			 KPORT_FEAT_PROCESS | KPORT_FEAT_INBOX |	\
			 KPORT_FEAT_FROM_PID | KPORT_FEAT_FIXED |	\
			 KPORT_FEAT_POOL | KPORT_FEAT_ZEROCOPY |	\
			 KPORT_FEAT_BATCH | KPORT_FEAT_SENDRECV | \
			 KPORT_FEAT_SETATTR)

/* KPORT_IOC_VERSION: the struct is only output (the table copies it back). */
static long kport_ioctl_version(struct file *file, void *arg,
				void __user *uarg)
{
	struct kport_version *v = arg;

	if (v->flags || v->__reserved32 ||
	    !kport_reserved_zero(v->__reserved, ARRAY_SIZE(v->__reserved)))
		return -EINVAL;
	v->features = KPORT_FEATURES;
	v->api_version = KPORT_API_VERSION;
	v->name_max = KPORT_NAME_MAX;
	v->max_msg_size = READ_ONCE(kport_max_msg_size);
	v->max_capacity = READ_ONCE(kport_max_capacity);
	v->max_pool_size = READ_ONCE(kport_max_pool_size);
	v->pool_threshold = READ_ONCE(kport_pool_threshold);
	return 0;
}

static long kport_ioctl_create(struct file *file, void *arg, void __user *uarg)
{
	return kport_port_create(arg);
}

static long kport_ioctl_open(struct file *file, void *arg, void __user *uarg)
{
	return kport_port_open(arg);
}

static long kport_ioctl_unlink(struct file *file, void *arg, void __user *uarg)
{
	return kport_port_unlink(arg);
}

/*
 * /dev/kport's ioctls.  No rights: the device is everyone's, and each
 * ioctl checks the caller's credentials against the port it names.
 */
static const struct kport_ioctl kport_dev_ioctls[] = {
	[_IOC_NR(KPORT_IOC_VERSION)] = {
		.cmd = KPORT_IOC_VERSION, .min_size = KPORT_VERSION_SIZE_VER0,
		.copy_out = true, .fn = kport_ioctl_version,
	},
	[_IOC_NR(KPORT_IOC_CREATE)] = {
		.cmd = KPORT_IOC_CREATE, .min_size = KPORT_CREATE_SIZE_VER0,
		.fn = kport_ioctl_create,
	},
	[_IOC_NR(KPORT_IOC_OPEN)] = {
		.cmd = KPORT_IOC_OPEN, .min_size = KPORT_OPEN_SIZE_VER0,
		.fn = kport_ioctl_open,
	},
	[_IOC_NR(KPORT_IOC_UNLINK)] = {
		.cmd = KPORT_IOC_UNLINK, .min_size = KPORT_UNLINK_SIZE_VER0,
		.fn = kport_ioctl_unlink,
	},
};

static long kport_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	return kport_ioctl_dispatch(kport_dev_ioctls,
				    ARRAY_SIZE(kport_dev_ioctls), 0, 0, file,
				    cmd, arg);
}

static const struct file_operations kport_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= kport_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static umode_t kport_dev_mode = 0666;

/* Octal, as chmod takes it; read and write bits only (no x, no setuid). */
static int kport_set_dev_mode(const char *val, const struct kernel_param *kp)
{
	u16 mode;

	/*
	 * -EINVAL for any bad value, out of range too: one clear errno.  Not
	 * 0 either: misc_devnode() reads 0 as "no mode" and makes the node
	 * 0600, which the parameter would not say.
	 */
	if (kstrtou16(val, 8, &mode) || !mode || mode & ~0666)
		return -EINVAL;
	*(umode_t *)kp->arg = mode;
	return 0;
}

static int kport_get_dev_mode(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%04o\n", *(umode_t *)kp->arg);
}

static const struct kernel_param_ops kport_dev_mode_ops = {
	.set = kport_set_dev_mode,
	.get = kport_get_dev_mode,
};

/* Read-only once loaded: it is the mode the node was created with. */
module_param_cb(dev_mode, &kport_dev_mode_ops, &kport_dev_mode, 0444);
MODULE_PARM_DESC(dev_mode, "Mode /dev/kport is created with (octal, rw bits only; default 0666)");

static struct miscdevice kport_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "kport",
	.fops	= &kport_dev_fops,
};

static int __init kport_init(void)
{
	int ret;

	kport_insts_init();
	ret = kport_msg_cache_init();
	if (ret)
		return ret;
	ret = kport_procfs_init();
	if (ret)
		goto err_cache;
	kport_miscdev.mode = kport_dev_mode;
	ret = misc_register(&kport_miscdev);
	if (ret)
		goto err_procfs;
	return 0;

err_procfs:
	kport_procfs_exit();
err_cache:
	kport_msg_cache_exit();
	return ret;
}

static void __exit kport_exit(void)
{
	misc_deregister(&kport_miscdev);
	kport_procfs_exit();
	kport_insts_destroy();
	kport_msg_cache_exit();
}

module_init(kport_init);
module_exit(kport_exit);

MODULE_DESCRIPTION("kport: kernel mailbox IPC");
MODULE_AUTHOR("The kport developers");
MODULE_LICENSE("GPL");
