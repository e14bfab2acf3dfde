// SPDX-License-Identifier: GPL-2.0
/*
 * KPORT_IOC_SENDRECV: a request and the wait for its reply in one call,
 * built from the send of send.c and the receive of recv.c.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/uaccess.h>

#include "kport.h"

/**
 * kport_ioctl_sendrecv() - KPORT_IOC_SENDRECV
 * @file: the handle to send on, with the send right (the table checked).
 * @arg:  the struct kport_sendrecv, copied in.
 * @uarg: the caller's: "done" and the received descriptor are written
 *        there.
 *
 * Send on @file, then receive on recv_fd (or @file).  "done" is cleared
 * before anything happens and set once the send is done.  The send is the
 * commit point: after it the call never restarts
 * (a restart would send again), so a signal in the receive gives -EINTR;
 * and it never fails as if nothing had happened, so if "done" cannot be
 * written (another thread made the page read-only meanwhile) the call
 * returns KPORT_SR_SENT without receiving.
 *
 * Context: process context; may sleep.
 * Return: 0 (sent and received), KPORT_SR_SENT (sent, "done" could not
 * be written), or a negative errno: nothing sent if "done" is still 0.
 */
long kport_ioctl_sendrecv(struct file *file, void *arg, void __user *uarg)
{
	struct kport_sendrecv __user *usr = uarg;
	struct kport_sendrecv *sr = arg;
	struct file *rfile = file;
	struct fd f = {};
	ktime_t skt, rkt;
	long ret;

	if (sr->flags ||
	    !kport_reserved_zero(sr->__reserved, ARRAY_SIZE(sr->__reserved)))
		return -EINVAL;
	ret = kport_msg_check_common(&sr->send, KPORT_MSG_NONBLOCK |
				     KPORT_MSG_DEADLINE | KPORT_MSG_POST);
	if (ret)
		return ret;
	ret = kport_msg_check_common(&sr->recv, KPORT_MSG_FLAGS &
				     ~KPORT_MSG_POST);
	if (ret)
		return ret;
	/* An argument error must be found before anything is sent. */
	if ((sr->recv.flags & KPORT_MSG_FROM_PID) && sr->recv.pid <= 0)
		return -EINVAL;
	if (sr->recv_fd != -1) {
		f = fdget(sr->recv_fd);
		if (!fd_file(f))
			return -EBADF;
		rfile = fd_file(f);
		ret = -EINVAL;
		if (rfile->f_op != &kport_port_fops)
			goto out;
	}
	ret = -EBADF;
	if (!(((struct kport_handle *)rfile->private_data)->rights &
	      KPORT_RIGHT_RECV))
		goto out;
	ret = -EFAULT;
	if (put_user(0, &usr->done))
		goto out;

	ret = kport_send_one(file, &sr->send,
			     kport_nonblock(file, sr->send.flags),
			     kport_deadline(&sr->send, &skt));
	if (ret)
		goto out;
	ret = KPORT_SR_SENT;
	if (put_user(KPORT_SR_SENT, &usr->done))
		goto out;
	ret = kport_recv_one(rfile, &sr->recv, &usr->recv,
			     kport_nonblock(rfile, sr->recv.flags),
			     kport_deadline(&sr->recv, &rkt), NULL);
	if (ret == -ERESTARTSYS)
		ret = -EINTR;
out:
	fdput(f);
	return ret;
}
