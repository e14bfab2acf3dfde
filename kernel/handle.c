// SPDX-License-Identifier: GPL-2.0
/*
 * A port handle: the file that CREATE and OPEN return, with the rights it
 * was opened with, and its file operations: the ioctls (dispatched to
 * send.c, recv.c, sendrecv.c, batch.c and pool.c; STAT and DELETE here),
 * read(), write(), poll(), mmap() (pool.c) and release.
 *
 * Credentials: what a handle may do was decided when it was opened (its
 * rights; file->f_cred for DELETE), never by current's credentials, so a
 * handle passed to another process, or kept across exec or setuid, has
 * exactly the power it was opened with.  A message sent by an ioctl is
 * from the caller (see struct kport_ident); one written with write() is
 * from the handle's opener: read() and write() never act on current.
 *
 * Locking: a handle has no lock of its own but handle->lock, for the
 * slices it holds (pool.c).  Its release takes kport_table_lock through
 * kport_owner_handle_put().
 */
#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ioctl.h"
#include "kport.h"

static bool kport_handle_is_owners(const struct kport_handle *h)
{
	return uid_eq(h->user->uid, h->port->owner->uid);
}

/*
 * Make the file for a new handle.  On success the handle owns the caller's
 * reference to @port.
 */
static struct file *kport_handle_file(struct kport_port *port, u32 rights,
				      bool creator, bool nonblock)
{
	struct kport_handle *h;
	struct file *file;
	int flags;

	h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h)
		return ERR_PTR(-ENOMEM);
	h->user = kport_user_get(current_cred());
	if (!h->user) {
		kfree(h);
		return ERR_PTR(-ENOMEM);
	}
	h->port = port;
	h->rights = rights;
	/* The file's f_cred, as anon_inode_getfile() below records it. */
	kport_ident_current(&h->opener);
	get_pid(h->opener.pid);
	h->creator = creator;
	kport_handle_init_slices(h);

	/*
	 * The file mode follows the rights, so read() and write() match;
	 * except that a sender on a zero-copy port must be able to mmap()
	 * the pool writable, which needs both modes (read() still checks
	 * the receive right and fails with -EBADF without it).
	 */
	if (rights == KPORT_RIGHTS_ALL ||
	    ((rights & KPORT_RIGHT_SEND) && port->pool && port->pool->zerocopy))
		flags = O_RDWR;
	else if (rights == KPORT_RIGHT_SEND)
		flags = O_WRONLY;
	else
		flags = O_RDONLY;
	if (nonblock)
		flags |= O_NONBLOCK;
	file = anon_inode_getfile("[kport]", &kport_port_fops, h, flags);
	if (IS_ERR(file)) {
		put_pid(h->opener.pid);
		kport_user_put(h->user);
		kfree(h);
		return file;
	}
	/*
	 * A stream of messages has no file position: without this, read()
	 * and write() by threads sharing the file race on ->f_pos (KCSAN
	 * reports ksys_read against ksys_write), for nothing.  lseek(),
	 * pread() and pwrite() get -ESPIPE, as on a pipe (without FMODE_LSEEK
	 * the VFS never calls ->llseek, which is left unset: 6.12 has no
	 * no_llseek any more).
	 */
	stream_open(file_inode(file), file);
	atomic_inc(&port->handles);
	if (kport_handle_is_owners(h))
		kport_owner_handle_get(port);
	return file;
}

/**
 * kport_new_handle() - reserve an fd and make a handle file for a port
 * @port:     the port; the caller's reference is consumed (on failure too).
 * @rights:   KPORT_RIGHT_*.
 * @creator:  whether the handle deletes the port when it goes (a
 *            process-owned port's creator).
 * @nonblock: O_NONBLOCK on the file.
 * @filep:    the file, for the caller to fd_install() once nothing else
 *            can fail.
 *
 * Context: process context.
 * Return: the fd, or a negative errno.
 */
int kport_new_handle(struct kport_port *port, u32 rights, bool creator,
		     bool nonblock, struct file **filep)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		kport_port_put(port);
		return fd;
	}
	file = kport_handle_file(port, rights, creator, nonblock);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		kport_port_put(port);
		return PTR_ERR(file);
	}
	*filep = file;
	return fd;
}

/* KPORT_IOC_STAT: the struct is only output (the table copies it back). */
static long kport_ioctl_stat(struct file *file, void *arg, void __user *uarg)
{
	struct kport_stat *st = arg;
	struct kport_handle *h = file->private_data;
	struct kport_port *port = h->port;

	if (st->flags ||
	    !kport_reserved_zero(st->__reserved, ARRAY_SIZE(st->__reserved)))
		return -EINVAL;
	/* Everything else is output only. */
	memset(st, 0, sizeof(*st));
	st->id = port->id;
	memcpy(st->name, port->name, KPORT_NAME_MAX);
	st->port_flags = port->flags;
	/* SETATTR changes them under port->lock: one moment's three. */
	kport_port_attrs(port, &st->mode, &st->uid, &st->gid,
			 current_user_ns());
	st->capacity = port->capacity;
	st->msg_size = port->msg_size;
	st->rights = h->rights;
	/* As a sender's pid: 0 once it names another program. */
	st->owner_pid = port->owner_pid ?
			kport_pid_nr(port->owner_pid, port->owner_exec) : 0;
	st->handles = atomic_read(&port->handles);
	kport_queue_stat(port, st);
	if (port->pool)
		kport_pool_stat(port->pool, st);
	return 0;
}

/* KPORT_IOC_DELETE: no struct (the table checked that the argument is 0). */
static long kport_ioctl_delete(struct file *file, void *arg, void __user *uarg)
{
	struct kport_handle *h = file->private_data;

	if (!kport_may_delete(h->port, file))
		return -EPERM;
	return kport_port_delete(h->port);
}

/* KPORT_IOC_SETATTR: the checks and the change are port.c's. */
static long kport_ioctl_setattr(struct file *file, void *arg, void __user *uarg)
{
	struct kport_handle *h = file->private_data;

	return kport_port_setattr(h->port, file, arg);
}

/*
 * A handle's ioctls.  The right each needs is checked before its struct
 * is read (kport_ioctl_dispatch()); DELETE, SETATTR and STAT need none
 * (DELETE and SETATTR check the owner or a capability, STAT shows only
 * what the handle may see), RELEASE
 * none either: a handle gives back only slices it holds, whichever right
 * got them.
 */
#define KPORT_HANDLE_IOC_FIRST	_IOC_NR(KPORT_IOC_SEND)
#define KPORT_HANDLE_IOC(c)	(_IOC_NR(c) - KPORT_HANDLE_IOC_FIRST)

static const struct kport_ioctl kport_handle_ioctls[] = {
	[KPORT_HANDLE_IOC(KPORT_IOC_SEND)] = {
		.cmd = KPORT_IOC_SEND, .min_size = KPORT_MSG_SIZE_VER0,
		.rights = KPORT_RIGHT_SEND, .fn = kport_ioctl_send,
	},
	[KPORT_HANDLE_IOC(KPORT_IOC_RECV)] = {
		.cmd = KPORT_IOC_RECV, .min_size = KPORT_MSG_SIZE_VER0,
		.rights = KPORT_RIGHT_RECV, .fn = kport_ioctl_recv,
	},
	[KPORT_HANDLE_IOC(KPORT_IOC_STAT)] = {
		.cmd = KPORT_IOC_STAT, .min_size = KPORT_STAT_SIZE_VER0,
		.copy_out = true, .fn = kport_ioctl_stat,
	},
	[KPORT_HANDLE_IOC(KPORT_IOC_DELETE)] = {
		.cmd = KPORT_IOC_DELETE, .fn = kport_ioctl_delete,
	},
	[KPORT_HANDLE_IOC(KPORT_IOC_BORROW)] = {
		.cmd = KPORT_IOC_BORROW, .min_size = KPORT_SLICE_SIZE_VER0,
		.rights = KPORT_RIGHT_SEND, .fn = kport_ioctl_borrow,
	},
	[KPORT_HANDLE_IOC(KPORT_IOC_RELEASE)] = {
		.cmd = KPORT_IOC_RELEASE, .min_size = KPORT_SLICE_SIZE_VER0,
		.fn = kport_ioctl_release,
	},
	[KPORT_HANDLE_IOC(KPORT_IOC_SENDV)] = {
		.cmd = KPORT_IOC_SENDV, .min_size = KPORT_BATCH_SIZE_VER0,
		.rights = KPORT_RIGHT_SEND, .fn = kport_ioctl_sendv,
	},
	[KPORT_HANDLE_IOC(KPORT_IOC_RECVV)] = {
		.cmd = KPORT_IOC_RECVV, .min_size = KPORT_BATCH_SIZE_VER0,
		.rights = KPORT_RIGHT_RECV, .fn = kport_ioctl_recvv,
	},
	[KPORT_HANDLE_IOC(KPORT_IOC_SENDRECV)] = {
		.cmd = KPORT_IOC_SENDRECV, .min_size = KPORT_SENDRECV_SIZE_VER0,
		.rights = KPORT_RIGHT_SEND, .fn = kport_ioctl_sendrecv,
	},
	[KPORT_HANDLE_IOC(KPORT_IOC_SETATTR)] = {
		.cmd = KPORT_IOC_SETATTR, .min_size = KPORT_SETATTR_SIZE_VER0,
		.fn = kport_ioctl_setattr,
	},
};

static long kport_port_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct kport_handle *h = file->private_data;

	return kport_ioctl_dispatch(kport_handle_ioctls,
				    ARRAY_SIZE(kport_handle_ioctls),
				    KPORT_HANDLE_IOC_FIRST, h->rights, file,
				    cmd, arg);
}

/*
 * write() and read() act on the handle alone, never on current's
 * credentials: a message written is from the handle's opener (see struct
 * kport_ident), whoever does the write.
 */
static ssize_t kport_port_write(struct file *file, const char __user *buf,
				size_t count, loff_t *ppos)
{
	struct kport_handle *h = file->private_data;
	int ret;

	if (count > U32_MAX)
		return -EMSGSIZE;
	ret = kport_send_copy(file, &h->opener, buf, count, 0,
			      file->f_flags & O_NONBLOCK, NULL);
	return ret ? ret : count;
}

static ssize_t kport_port_read(struct file *file, char __user *buf,
			       size_t count, loff_t *ppos)
{
	struct kport_handle *h = file->private_data;
	struct kport_kmsg *msg;
	u32 needed, len;

	if (!(h->rights & KPORT_RIGHT_RECV))
		return -EBADF;
	msg = kport_queue_recv(h->port, NULL, min_t(size_t, count, U32_MAX),
			       false, file->f_flags & O_NONBLOCK, NULL, &needed);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	len = msg->len;
	if (copy_to_user(buf, kport_msg_payload(msg), len)) {
		kport_queue_putback(h->port, msg);
		return -EFAULT;
	}
	kport_queue_consumed(h->port, msg);
	return len;
}

static __poll_t kport_port_poll(struct file *file, poll_table *wait)
{
	struct kport_handle *h = file->private_data;

	/* Added to the waitqueue before looking: see kport_wake_pollers(). */
	poll_wait(file, &h->port->poll_wq, wait);
	return kport_queue_poll_mask(h->port);
}

static int kport_handle_release(struct inode *inode, struct file *file)
{
	struct kport_handle *h = file->private_data;
	struct kport_port *port = h->port;

	if (h->creator)
		kport_port_delete(port);
	kport_handle_release_all(h);
	atomic_dec(&port->handles);
	if (kport_handle_is_owners(h))
		kport_owner_handle_put(port);
	put_pid(h->opener.pid);
	kport_user_put(h->user);
	kfree(h);
	kport_port_put(port);
	return 0;
}

const struct file_operations kport_port_fops = {
	.owner		= THIS_MODULE,
	.release	= kport_handle_release,
	.read		= kport_port_read,
	.write		= kport_port_write,
	.poll		= kport_port_poll,
	.mmap		= kport_port_mmap,
	.unlocked_ioctl	= kport_port_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= kport_handle_show_fdinfo,
};
