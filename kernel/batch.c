// SPDX-License-Identifier: GPL-2.0
/*
 * Batches: KPORT_IOC_SENDV and KPORT_IOC_RECVV, several messages in one
 * call, as sendmmsg()/recvmmsg() with MSG_WAITFORONE do.  Only the first
 * message may wait (as the batch's flags say); the others are done
 * without waiting, and the batch stops at the first that fails.  The
 * array's stride is the caller's sizeof(struct kport_msg), so it can grow
 * as every struct here does.
 *
 * After the first, messages go KPORT_BATCH_CHUNK at a time: a chunk's
 * elements are read with one copy, its messages built (a send's payloads
 * copied in) without port->lock, queued or taken under one hold of it,
 * then (a receive) copied out without it and the elements written back
 * with one copy.  Per message that saves the lock, the poll wake-up and
 * two user copies with the calls around them, which for a small message
 * are a good part of the cost.  And the receiver is woken once a chunk is
 * queued, not at the first message: woken earlier, it would preempt the
 * sender at the next allocation and take the messages one by one.
 * Messages that need more than a plain copy (POST, a pool slice, a sender
 * filter, a receive in place) go one at a time, as single calls do.
 *
 * Locking: a chunk is queued or taken under one hold of port->lock, by
 * kport_queue_send_many() and kport_queue_recv_many() (queue.c); nothing
 * here holds a lock across a copy.
 */
#include <linux/fs.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kport.h"
#include "trace.h"

#define KPORT_BATCH_CHUNK	16

/**
 * struct kport_batch_run - a batch in progress
 * @b:     the request.
 * @descs: the current chunk's elements (KPORT_BATCH_CHUNK of them).
 * @ids:   see struct kport_sender_ids.
 */
struct kport_batch_run {
	struct kport_batch b;
	struct kport_msg *descs;
	struct kport_sender_ids ids;
};

static void __user *kport_batch_elem(const struct kport_batch_run *r, u32 i)
{
	return u64_to_user_ptr(r->b.msgs + (u64)i * r->b.msg_size);
}

/*
 * Read elements @first.. (@n of them) into ->descs.  Return: how many were
 * read whole; *@err is the error of the next one, if that is fewer.
 */
static int kport_batch_read(struct kport_batch_run *r, u32 first, int n,
			    int *err)
{
	const size_t size = sizeof(struct kport_msg);
	unsigned long left;
	int i;

	*err = 0;
	if (r->b.msg_size == size) {
		left = copy_from_user(r->descs, kport_batch_elem(r, first),
				      n * size);
		if (left)
			*err = -EFAULT;
		return n - DIV_ROUND_UP(left, size);
	}
	for (i = 0; i < n; i++) {
		*err = copy_struct_from_user(&r->descs[i], size,
					     kport_batch_elem(r, first + i),
					     r->b.msg_size);
		if (*err)
			break;
	}
	return i;
}

/* Write ->descs back to elements @first.. Return: how many were, whole. */
static int kport_batch_write(struct kport_batch_run *r, u32 first, int n)
{
	const size_t size = sizeof(struct kport_msg);
	unsigned long left;
	int i;

	if (r->b.msg_size == size) {
		left = copy_to_user(kport_batch_elem(r, first), r->descs,
				    n * size);
		return n - DIV_ROUND_UP(left, size);
	}
	for (i = 0; i < n; i++) {
		if (copy_to_user(kport_batch_elem(r, first + i), &r->descs[i],
				 size))
			break;
	}
	return i;
}

/*
 * A send chunk's messages are all allocated before any is queued (and
 * freed again if the queue is full): past its first, a chunk takes no
 * more than this many payload bytes.
 */
#define KPORT_BATCH_CHUNK_BYTES	SZ_64K

/*
 * Whether a send goes by the chunked path: a message copied in, to a port
 * with a queue (a rendezvous send waits for its receiver's copy).
 */
static bool kport_send_chunkable(const struct kport_port *port,
				 const struct kport_msg *m)
{
	return port->capacity && !(m->flags & KPORT_MSG_POST) &&
	       !(port->pool && m->len > port->pool->threshold);
}

/*
 * Send elements @first.. of a batch, without waiting: up to a chunk of
 * them, or one that does not go by the chunked path.  *@stop is set when
 * the batch ends here, one of them having failed.  Return: how many were
 * sent, or the error of @first.
 */
static long kport_sendv_chunk(struct file *file, struct kport_batch_run *r,
			      u32 first, bool *stop)
{
	struct kport_handle *h = file->private_data;
	struct kport_port *port = h->port;
	int i, n, nread, sent, err;
	struct kport_kmsg *msgs[KPORT_BATCH_CHUNK];
	struct kport_msg *m;
	struct kport_ident from;
	size_t bytes = 0;
	long ret = 0;

	*stop = true;
	kport_ident_current(&from);
	nread = kport_batch_read(r, first, min_t(u32, r->b.count - first,
						 KPORT_BATCH_CHUNK), &err);
	for (n = 0; n < nread; n++) {
		m = &r->descs[n];
		ret = kport_msg_check_common(m, KPORT_MSG_POST);
		if (ret)
			break;
		if (!kport_send_chunkable(port, m)) {
			if (n)
				break;
			ret = kport_send_one(file, m, true, NULL);
			*stop = ret;
			return ret ?: 1;
		}
		if (n && bytes + m->len > KPORT_BATCH_CHUNK_BYTES)
			break;
		bytes += m->len;
		ret = kport_send_desc_check(m);
		if (ret)
			break;
		/* Inline (see kport_send_chunkable()): it does not wait. */
		msgs[n] = kport_send_prepare(h, &from, u64_to_user_ptr(m->buf),
					     m->len, m->priority, true, NULL);
		if (IS_ERR(msgs[n])) {
			ret = PTR_ERR(msgs[n]);
			trace_kport_send(port->id, m->len, m->priority,
					 KPORT_SENT_REFUSED, ret);
			break;
		}
	}
	if (n == nread && err)
		ret = err;
	if (!n)
		return ret;
	sent = kport_queue_send_many(port, msgs, n);
	/*
	 * What was not delivered: a full queue, or a deleted port.  The
	 * first refused has its event (kport_queue_send_many()); the
	 * others are refused with it.
	 */
	for (i = max(sent, 0); i < n; i++) {
		if (sent < 0 || i > sent)
			trace_kport_send(port->id, msgs[i]->len, msgs[i]->prio,
					 KPORT_SENT_REFUSED,
					 sent < 0 ? sent : -EAGAIN);
		kport_msg_free(port, msgs[i]);
	}
	/* Go on if every element read was sent. */
	*stop = ret || sent < n;
	return sent ?: -EAGAIN;
}

/*
 * Receive elements @first.. of a batch, without waiting; see
 * kport_sendv_chunk().  A message is freed only once its element, written
 * back, says it arrived: until then a fault puts it back.
 */
static long kport_recvv_chunk(struct file *file, struct kport_batch_run *r,
			      u32 first, bool *stop)
{
	struct kport_handle *h = file->private_data;
	struct kport_port *port = h->port;
	int i, n, nread, got, copied, written, err;
	struct kport_kmsg *msgs[KPORT_BATCH_CHUNK];
	u32 bufsize[KPORT_BATCH_CHUNK], needed;
	struct kport_msg __user *um;
	struct kport_msg *m;
	long ret = 0;
	u64 buf;

	*stop = true;
	nread = kport_batch_read(r, first, min_t(u32, r->b.count - first,
						 KPORT_BATCH_CHUNK), &err);
	for (n = 0; n < nread; n++) {
		m = &r->descs[n];
		ret = kport_msg_check_common(m, KPORT_MSG_FROM_PID |
					     KPORT_MSG_INPLACE);
		if (ret)
			break;
		if (m->flags) {
			if (n)
				break;
			ret = kport_recv_one(file, m, kport_batch_elem(r, first),
					     true, NULL, &r->ids);
			*stop = ret;
			return ret ?: 1;
		}
		bufsize[n] = m->len;
	}
	if (n == nread && err)
		ret = err;
	if (!n)
		return ret;

	got = kport_queue_recv_many(port, bufsize, msgs, n, &needed);
	if (got < 0)
		return got;
	for (copied = 0; copied < got; copied++) {
		struct kport_kmsg *msg = msgs[copied];

		/* What a single receive writes back: see kport_recv_one(). */
		m = &r->descs[copied];
		buf = m->buf;
		memset(m, 0, sizeof(*m));
		m->buf = buf;
		m->len = msg->len;
		m->priority = msg->prio;
		kport_sender_ids_fill(&r->ids, msg, m);
		if (copy_to_user(u64_to_user_ptr(buf), kport_msg_payload(msg),
				 msg->len))
			break;
	}
	written = kport_batch_write(r, first, copied);
	for (i = 0; i < written; i++)
		kport_queue_consumed(port, msgs[i]);
	if (written < got) {
		kport_queue_putback_many(port, msgs + written, got - written);
		return written ?: -EFAULT;
	}
	if (needed) {
		/* Too small a buffer: the size needed, as a single receive says. */
		um = kport_batch_elem(r, first + got);
		if (put_user(needed, &um->len))
			return got ?: -EFAULT;
		return got ?: -EMSGSIZE;
	}
	/* Go on if every element read was received. */
	*stop = ret || got < n;
	return got ?: -EAGAIN;
}

/* Return: how many were done, or the first one's error. */
static long kport_batch(struct file *file, const struct kport_batch *b,
			bool send)
{
	struct kport_batch_run r = {
		.b = *b,
		.ids = { .kuid = INVALID_UID, .uid = overflowuid },
	};
	const ktime_t *deadline;
	struct kport_msg m;
	bool stop = false;
	u32 done = 0;
	ktime_t kt;
	int err;
	long ret;

	if (kport_flags_check(r.b.flags, KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE,
			      r.b.deadline_ns) ||
	    !kport_reserved_zero(r.b.__reserved, ARRAY_SIZE(r.b.__reserved)))
		return -EINVAL;
	if (!r.b.count || r.b.count > KPORT_BATCH_MAX ||
	    r.b.msg_size < KPORT_MSG_SIZE_VER0 || r.b.msg_size > PAGE_SIZE)
		return -EINVAL;
	deadline = kport_deadline_of(r.b.flags, r.b.deadline_ns, &kt);

	/* The first message, the one that may wait. */
	r.descs = &m;
	if (kport_batch_read(&r, 0, 1, &err) != 1)
		return err;
	ret = kport_msg_check_common(&m, send ? KPORT_MSG_POST :
				     KPORT_MSG_FROM_PID | KPORT_MSG_INPLACE);
	if (ret)
		return ret;
	ret = send ? kport_send_one(file, &m, kport_nonblock(file, r.b.flags),
				    deadline) :
		     kport_recv_one(file, &m, kport_batch_elem(&r, 0),
				    kport_nonblock(file, r.b.flags), deadline,
				    &r.ids);
	if (ret)
		goto out;
	done = 1;
	if (done == r.b.count)
		goto out;
	/* Transient, and at most a chunk: not charged to anyone. */
	r.descs = kmalloc_array(min_t(u32, r.b.count - 1, KPORT_BATCH_CHUNK),
				sizeof(*r.descs), GFP_KERNEL);
	if (!r.descs)
		goto out;
	while (!stop && done < r.b.count) {
		ret = send ? kport_sendv_chunk(file, &r, done, &stop) :
			     kport_recvv_chunk(file, &r, done, &stop);
		if (ret > 0)
			done += ret;
	}
	kfree(r.descs);
out:
	put_pid(r.ids.pid);
	return done ?: ret;
}

/**
 * kport_ioctl_sendv() - KPORT_IOC_SENDV
 * @file: the handle, with the send right (the table checked).
 * @arg:  the struct kport_batch, copied in.
 * @uarg: the caller's (not written: the elements are, through @arg).
 *
 * Context: process context; may sleep (for the first message only).
 * Return: how many messages were sent, or the first one's error.
 */
long kport_ioctl_sendv(struct file *file, void *arg, void __user *uarg)
{
	return kport_batch(file, arg, true);
}

/**
 * kport_ioctl_recvv() - KPORT_IOC_RECVV
 * @file: the handle, with the receive right (the table checked).
 * @arg:  the struct kport_batch, copied in.
 * @uarg: the caller's (not written: the elements are, through @arg).
 *
 * Context: process context; may sleep (for the first message only).
 * Return: how many messages were received, or the first one's error.
 */
long kport_ioctl_recvv(struct file *file, void *arg, void __user *uarg)
{
	return kport_batch(file, arg, false);
}
