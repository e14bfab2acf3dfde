// SPDX-License-Identifier: GPL-2.0
/*
 * Receiving: KPORT_IOC_RECV, and the receive that SENDRECV and RECVV
 * share with it: taking a message off the queue (from anyone or from one
 * process), copying it out or holding its pool slice in place, and telling
 * the receiver who sent it as its own namespaces see that.
 *
 * Commit point: kport_queue_consumed() (or kport_queue_delivered() for a
 * receive in place), after every copy to user memory has succeeded.  A
 * copy that faults puts the message back where it was
 * (kport_queue_putback()): a failed receive never loses a message.
 */
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/pid.h>
#include <linux/uaccess.h>

#include "kport.h"

/**
 * kport_sender_ids_fill() - tell a receiver who sent @msg
 * @ids: what the batch's previous message translated (see struct
 *       kport_sender_ids), or NULL for a single receive.
 * @msg: the message.
 * @m:   the receiver's descriptor: its pid and uid are set, in the
 *       receiver's namespaces (pid 0 if it no longer names the program
 *       that sent: see kport_pid_nr()).
 */
void kport_sender_ids_fill(struct kport_sender_ids *ids,
			   const struct kport_kmsg *msg, struct kport_msg *m)
{
	if (!ids) {
		m->pid = kport_pid_nr(msg->sender, msg->sender_exec);
		m->uid = from_kuid_munged(current_user_ns(), msg->uid);
		return;
	}
	if (ids->pid != msg->sender || ids->exec != msg->sender_exec) {
		put_pid(ids->pid);
		ids->pid = get_pid(msg->sender);
		ids->exec = msg->sender_exec;
		ids->nr = kport_pid_nr(msg->sender, msg->sender_exec);
	}
	if (!uid_eq(ids->kuid, msg->uid)) {
		ids->kuid = msg->uid;
		ids->uid = from_kuid_munged(current_user_ns(), msg->uid);
	}
	m->pid = ids->nr;
	m->uid = ids->uid;
}

/**
 * kport_recv_one() - one receive, its flags already checked
 * @file:     the receiving handle.
 * @m:        the descriptor, copied in; written out to @uarg on success
 *            (and with the needed length on -EMSGSIZE).
 * @uarg:     where @m goes back to.
 * @nonblock: fail with -EAGAIN rather than wait; see kport_send_one().
 * @deadline: when to give up waiting (CLOCK_MONOTONIC), or NULL.
 * @ids:      see kport_sender_ids_fill().
 *
 * Context: process context; may sleep.
 * Return: 0, or a negative errno with the message (if any) left in the
 * queue where it was.
 */
long kport_recv_one(struct file *file, struct kport_msg *m,
		    void __user *uarg, bool nonblock,
		    const ktime_t *deadline,
		    struct kport_sender_ids *ids)
{
	struct kport_handle *h = file->private_data;
	struct kport_port *port = h->port;
	struct kport_kmsg *msg;
	struct pid *from = NULL;
	u32 needed = 0;
	bool inplace;
	int ret;

	if (m->flags & KPORT_MSG_FROM_PID) {
		if (m->pid <= 0)
			return -EINVAL;
		from = kport_get_tgid(m->pid);
		if (!from)
			return -ESRCH;
	}

	inplace = m->flags & KPORT_MSG_INPLACE;
	msg = kport_queue_recv(port, from, m->len, inplace, nonblock, deadline,
			       &needed);
	put_pid(from);
	if (IS_ERR(msg)) {
		ret = PTR_ERR(msg);
		if (ret == -EMSGSIZE) {
			m->len = needed;
			if (copy_to_user(uarg, m, sizeof(*m)))
				ret = -EFAULT;
		}
		return ret;
	}

	m->len = msg->len;
	m->priority = msg->prio;
	kport_sender_ids_fill(ids, msg, m);
	m->offset = 0;
	m->result = 0;
	if (inplace && msg->pool) {
		/*
		 * Nothing to copy: the handle holds the slice until released.
		 * Commit point: the struct is written out before the slice
		 * goes on the handle's tree, where another thread may release
		 * it at once; after that nothing can be put back.
		 */
		m->offset = msg->offset;
		m->result = KPORT_RESULT_INPLACE;
		ret = -EFAULT;
		if (copy_to_user(uarg, m, sizeof(*m)))
			goto err_putback;
		kport_queue_delivered(port, msg);
		/* Cannot fail (but for a bug): the slice is ours alone. */
		if (WARN_ON_ONCE(kport_handle_hold(h, msg)))
			kport_msg_free(port, msg);
		return 0;
	}
	ret = -EFAULT;
	if (copy_to_user(u64_to_user_ptr(m->buf), kport_msg_payload(msg),
			 msg->len) ||
	    copy_to_user(uarg, m, sizeof(*m)))
		goto err_putback;
	kport_queue_consumed(port, msg);
	return 0;

err_putback:
	kport_queue_putback(port, msg);
	return ret;
}

/**
 * kport_ioctl_recv() - KPORT_IOC_RECV
 * @file: the handle, with the receive right (the table checked).
 * @arg:  the struct kport_msg, copied in.
 * @uarg: the caller's, written back by kport_recv_one().
 *
 * Context: process context; may sleep.
 * Return: 0 or a negative errno; see kport_recv_one().
 */
long kport_ioctl_recv(struct file *file, void *arg, void __user *uarg)
{
	struct kport_msg *m = arg;
	ktime_t kt;
	int ret;

	ret = kport_msg_check_common(m, KPORT_MSG_FLAGS & ~KPORT_MSG_POST);
	if (ret)
		return ret;
	return kport_recv_one(file, m, uarg, kport_nonblock(file, m->flags),
			      kport_deadline(m, &kt), NULL);
}
