// SPDX-License-Identifier: GPL-2.0
/*
 * Sending: KPORT_IOC_SEND and what every other send shares with it
 * (write() in handle.c, SENDRECV, the batches of batch.c): the checks of a
 * message's arguments and length, and building a message from user memory
 * (copied inline, or into a pool slice when the port has a pool and the
 * message is large).  A zero-copy post is pool.c's (kport_pool_post()).
 *
 * Commit point: kport_queue_send().  Everything that can fail (the
 * checks, the allocation and the copy from user memory) comes before it,
 * and a message it refuses is freed here, so a failed send leaves nothing
 * behind.
 */
#include <linux/fs.h>
#include <linux/uaccess.h>

#include "kport.h"
#include "trace.h"

/* Whether @port takes a message of @len bytes: 0 or -EMSGSIZE. */
static int kport_send_len_ok(const struct kport_port *port, u32 len)
{
	if (len > port->msg_size ||
	    ((port->flags & KPORT_CREATE_FIXED) && len != port->msg_size))
		return -EMSGSIZE;
	return 0;
}

/* A message of @len bytes copied in from @buf, not from a pool. */
static struct kport_kmsg *kport_msg_copy_in(struct kport_handle *h,
					    const struct kport_ident *from,
					    const void __user *buf, u32 len,
					    u32 prio)
{
	struct kport_kmsg *msg;

	msg = kport_msg_alloc(h->port, h->user, from, len, prio);
	if (IS_ERR(msg))
		return msg;
	if (copy_from_user(msg->data, buf, len)) {
		kport_msg_free(h->port, msg);
		return ERR_PTR(-EFAULT);
	}
	return msg;
}

/* A large message, copied once: from the sender straight into a slice. */
static struct kport_kmsg *kport_msg_copy_to_pool(struct kport_handle *h,
						 const struct kport_ident *from,
						 const void __user *buf,
						 u32 len, u32 prio,
						 bool nonblock,
						 const ktime_t *deadline)
{
	struct kport_port *port = h->port;
	struct kport_kmsg *msg;
	int ret;

	msg = kport_msg_alloc(port, h->user, from, 0, prio);
	if (IS_ERR(msg))
		return msg;
	ret = kport_pool_attach(port, msg, len, nonblock, deadline);
	if (!ret && copy_from_user(port->pool->vaddr + msg->offset, buf, len))
		ret = -EFAULT;
	if (ret) {
		kport_msg_free(port, msg);
		return ERR_PTR(ret);
	}
	return msg;
}

/**
 * kport_send_desc_check() - the fields of a send's descriptor
 * @m: the descriptor; its flags are checked already.
 *
 * The output fields must be 0, the priority in range, the offset 0 but
 * for a POST (which names a slice with it).
 *
 * Return: 0 or -EINVAL.
 */
int kport_send_desc_check(const struct kport_msg *m)
{
	if (m->pid || m->uid || m->result || m->priority >= KPORT_PRIO_MAX)
		return -EINVAL;
	if (!(m->flags & KPORT_MSG_POST) && m->offset)
		return -EINVAL;
	return 0;
}

/**
 * kport_send_prepare() - a send's message, built from user memory
 * @h:        the sending handle (charged for it).
 * @from:     who it is from: the caller (ioctls) or the handle's opener
 *            (write()).
 * @buf:      the payload.
 * @len:      its length.
 * @prio:     its priority.
 * @nonblock: fail with -EAGAIN rather than wait for room in the pool.
 * @deadline: when to give up waiting (CLOCK_MONOTONIC), or NULL.
 *
 * What a single send and each message of a batch do before queueing: the
 * length is checked against the port, then the payload copied once,
 * inline, or straight into a pool slice when the port has a pool and the
 * message is longer than its threshold (the only case that may wait).
 *
 * Context: process context; may sleep.
 * Return: the message, not yet visible to anyone, or an ERR_PTR():
 * -EMSGSIZE, -ENOMEM, -ENOBUFS, -EFAULT, or a pool wait's error.
 */
struct kport_kmsg *kport_send_prepare(struct kport_handle *h,
				      const struct kport_ident *from,
				      const void __user *buf, u32 len,
				      u32 prio, bool nonblock,
				      const ktime_t *deadline)
{
	struct kport_port *port = h->port;
	int ret;

	ret = kport_send_len_ok(port, len);
	if (ret)
		return ERR_PTR(ret);
	if (port->pool && len > port->pool->threshold)
		return kport_msg_copy_to_pool(h, from, buf, len, prio, nonblock,
					      deadline);
	return kport_msg_copy_in(h, from, buf, len, prio);
}

/**
 * kport_send_copy() - send a message whose payload is copied from user memory
 * @file:     the sending handle.
 * @from:     see kport_send_prepare().
 * @buf:      the payload.
 * @len:      its length.
 * @prio:     its priority.
 * @nonblock: fail with -EAGAIN rather than wait for room or a receiver.
 * @deadline: when to give up waiting (CLOCK_MONOTONIC), or NULL.
 *
 * Context: process context; may sleep.
 * Return: 0 once the message is queued or handed to a receiver, or a
 * negative errno with nothing sent.
 */
int kport_send_copy(struct file *file, const struct kport_ident *from,
		    const void __user *buf, u32 len, u32 prio,
		    bool nonblock, const ktime_t *deadline)
{
	struct kport_handle *h = file->private_data;
	struct kport_kmsg *msg;
	int ret;

	/* (write() has no table: a handle opened for writing may lack it) */
	if (!(h->rights & KPORT_RIGHT_SEND))
		return -EBADF;
	msg = kport_send_prepare(h, from, buf, len, prio, nonblock, deadline);
	if (IS_ERR(msg)) {
		trace_kport_send(h->port->id, len, prio, KPORT_SENT_REFUSED,
				 PTR_ERR(msg));
		return PTR_ERR(msg);
	}
	/* Commit point: queued or handed over, or refused and freed here. */
	ret = kport_queue_send(h->port, msg, nonblock, deadline);
	if (ret)
		kport_msg_free(h->port, msg);
	return ret;
}

/**
 * kport_send_one() - one send, its flags already checked
 * @file:     the sending handle.
 * @m:        the message's descriptor (KPORT_MSG_POST: a borrowed slice).
 * @nonblock: see kport_send_copy(); decided by the caller (a single send
 *            from its flags, a batch only for its first message).
 * @deadline: see kport_send_copy().
 *
 * Context: process context; may sleep.
 * Return: 0, or a negative errno with nothing sent.
 */
long kport_send_one(struct file *file, const struct kport_msg *m,
		    bool nonblock, const ktime_t *deadline)
{
	struct kport_ident from;
	int ret;

	ret = kport_send_desc_check(m);
	if (ret)
		return ret;
	if (m->flags & KPORT_MSG_POST)
		return kport_pool_post(file, m, nonblock, deadline);
	kport_ident_current(&from);
	return kport_send_copy(file, &from, u64_to_user_ptr(m->buf), m->len,
			       m->priority, nonblock, deadline);
}

/**
 * kport_ioctl_send() - KPORT_IOC_SEND
 * @file: the handle, with the send right (the table checked).
 * @arg:  the struct kport_msg, copied in.
 * @uarg: the caller's (not written: a send has no output).
 *
 * Context: process context; may sleep.
 * Return: 0, or a negative errno with nothing sent.
 */
long kport_ioctl_send(struct file *file, void *arg, void __user *uarg)
{
	const struct kport_msg *m = arg;
	ktime_t kt;
	int ret;

	ret = kport_msg_check_common(m, KPORT_MSG_NONBLOCK |
				     KPORT_MSG_DEADLINE | KPORT_MSG_POST);
	if (ret)
		return ret;
	return kport_send_one(file, m, kport_nonblock(file, m->flags),
			      kport_deadline(m, &kt));
}
