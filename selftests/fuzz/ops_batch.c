// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's operations of several messages in one call: SENDV and
 * RECVV (batches), SENDRECV (a request and its reply).
 */
#include "fuzz.h"

/* ---- SENDV and RECVV ---------------------------------------------------------------- */

#define FZ_BATCH	4	/* elements built; more are refused or unread */

/* What is wrong with an element, on purpose. */
enum {
	FZ_EL_LEN = 1,		/* longer than msg_size */
	FZ_EL_FLAGS = 2,	/* a batch-level or unknown flag */
	FZ_EL_RESV = 4,		/* its reserved word set */
	FZ_EL_TAIL = 8,		/* a byte set past the struct it knows */
};

struct fz_batch {
	struct fz_call c;
	struct kport_batch b;
	uint32_t stride, akind;	/* the array's element size and memory */
	bool bad_count;		/* 0 or more than KPORT_BATCH_MAX */
	bool may_wait, may_timeout;
	uint32_t elen[FZ_BATCH];	/* the elements' lengths */
	uint32_t edefect[FZ_BATCH];	/* FZ_EL_* */
	uint32_t first_bad;	/* the first element with a defect, at most count */
};

/* The elements, in th->vec. */
static void batch_gen_elements(struct fz_thread *th, struct fz_batch *a, bool send)
{
	const struct fz_port *p = a->c.t.ofd ? a->c.t.ofd->port : NULL;
	uint32_t stride = a->stride, i;

	memset(th->vec, 0, 2 * FZ_PAGE);
	a->first_bad = FZ_BATCH;
	for (i = 0; i < FZ_BATCH; i++) {
		struct kport_msg *m = (void *)(th->vec + i * (stride <= FZ_PAGE / 2 &&
							     stride >= KPORT_MSG_SIZE_VER0 ?
							     stride : KPORT_MSG_SIZE_VER0));
		uint32_t msg_size = p ? p->msg_size : 64;

		if (send) {
			m->buf = (uintptr_t)th->send;
			m->len = a->elen[i] = (p && (p->flags & KPORT_CREATE_FIXED)) ?
					      msg_size : fz_below(th, msg_size + 1);
			m->priority = fz_below(th, KPORT_PRIO_MAX);
			if (!th->clean && fz_pct(th, 5)) {
				m->len = a->elen[i] = msg_size + 1;
				a->edefect[i] |= FZ_EL_LEN;
			}
		} else {
			m->buf = (uintptr_t)(th->recv + i * (FZ_AREA / FZ_BATCH));
			m->len = a->elen[i] = FZ_AREA / FZ_BATCH;
			if (fz_pct(th, 20)) {
				m->flags = KPORT_MSG_FROM_PID;
				m->pid = th->run->self;
			}
			if (fz_pct(th, 20))
				m->priority = m->uid = 0x5555;	/* output only */
		}
		if (!th->clean && fz_pct(th, 4)) {
			m->flags |= fz_pct(th, 50) ? KPORT_MSG_NONBLOCK :
				    fz_unknown_bit(th, KPORT_MSG_FLAGS);
			a->edefect[i] |= FZ_EL_FLAGS;
		}
		if (!th->clean && fz_pct(th, 2)) {
			m->__reserved = 1;
			a->edefect[i] |= FZ_EL_RESV;
		}
		if (stride == KPORT_MSG_SIZE_VER0 + 8 && !th->clean && fz_pct(th, 4)) {
			((char *)m)[KPORT_MSG_SIZE_VER0 + fz_below(th, 8)] = 1;
			a->edefect[i] |= FZ_EL_TAIL;
		}
		if (a->edefect[i] && a->first_bad == FZ_BATCH)
			a->first_bad = i;
	}
	if (a->first_bad >= a->b.count)
		a->first_bad = a->b.count;
}

static void batch_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_batch *a = FZ_ARGS(struct fz_batch, c);
	bool send = c->op->variant;
	struct kport_batch *b = &a->b;
	const struct fz_port *p;
	uint32_t r;

	a->stride = KPORT_MSG_SIZE_VER0;
	fz_target_port(th, &c->t, 8);
	p = c->t.ofd ? c->t.ofd->port : NULL;
	r = fz_below(th, th->clean ? 85 : 100);
	b->flags = r < 40 ? KPORT_MSG_NONBLOCK : r < 70 ? KPORT_MSG_DEADLINE :
		   r < 85 ? 0 : r < 95 ? fz_unknown_bit(th, KPORT_MSG_NONBLOCK |
							  KPORT_MSG_DEADLINE) : ~0ULL;
	if (b->flags & KPORT_MSG_DEADLINE) {
		b->deadline_ns = fz_pct(th, 20) ? 1 : kt_deadline_ms(fz_below(th, 3));
		a->may_timeout = true;
	} else if (!th->clean && fz_pct(th, 3)) {
		b->deadline_ns = 7;
	}
	a->may_wait = !(b->flags & KPORT_MSG_NONBLOCK);
	b->count = 1 + fz_below(th, FZ_BATCH);
	if (!th->clean && fz_pct(th, 8)) {
		b->count = fz_pct(th, 50) ? 0 : KPORT_BATCH_MAX + 1;
		a->bad_count = true;
	}
	if (!th->clean && fz_pct(th, 20)) {
		r = fz_below(th, 4);
		a->stride = r == 0 ? 32 : r == 1 ? 2 * FZ_PAGE : KPORT_MSG_SIZE_VER0 + 8;
	}
	b->msg_size = a->stride;
	fz_reserved(th, b->__reserved, sizeof(b->__reserved));
	a->akind = fz_pick_pkind(th, 90);
	batch_gen_elements(th, a, send);
	if (a->akind == P_NULL || a->akind == P_NONE || a->akind == P_STRAD) {
		b->msgs = a->akind == P_NULL ? 0 : a->akind == P_NONE ?
			  (uintptr_t)th->none : (uintptr_t)th->astrad;
	} else {
		b->msgs = (uintptr_t)th->vec;
		if (a->akind == P_RO)	/* until the call returns */
			mprotect(th->vec, 2 * FZ_PAGE, PROT_READ);
	}
	if (!p)
		b->count = 1;
	fz_place(th, c, send ? KPORT_IOC_SENDV : KPORT_IOC_RECVV, b, sizeof(*b),
		 FZ_NO_WRITE_BACK);
	FZ_DESC(th, "%s on %s, %s: flags %#llx count %u stride %u array %s first bad %u port %llu msg_size %u",
		c->op->name, fz_tkind[c->t.kind], c->what, (unsigned long long)b->flags,
		b->count, a->stride, fz_pkind[a->akind], a->first_bad,
		p ? (unsigned long long)p->id : 0ULL, p ? p->msg_size : 0);
	c->timed = true;
	c->arm = a->may_wait && !a->may_timeout;
}

/* What an element's defects call for. */
static uint32_t batch_element_errors(uint32_t defects)
{
	return (defects & FZ_EL_LEN ? B(EMSGSIZE) : 0) |
	       (defects & (FZ_EL_FLAGS | FZ_EL_RESV) ? B(EINVAL) : 0) |
	       (defects & FZ_EL_TAIL ? B(E2BIG) : 0);
}

/*
 * Batch-level argument errors fail the call; an element's fails it only
 * if it is the first (nothing done), else the batch stops before it: the
 * count returned may not pass the first bad element.
 */
static void batch_expect(struct fz_thread *th, const struct fz_call *c,
			 struct fz_expect *e)
{
	const struct fz_batch *a = FZ_ARGS(const struct fz_batch, c);
	const struct fz_port *p = c->t.ofd ? c->t.ofd->port : NULL;
	const struct kport_batch *b = &a->b;
	bool send = c->op->variant;

	fz_target_expect(c, e);
	if ((b->flags & ~(KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE)) ||
	    fz_bad_deadline(b->flags, b->deadline_ns) || a->bad_count ||
	    (a->stride != KPORT_MSG_SIZE_VER0 && a->stride != KPORT_MSG_SIZE_VER0 + 8) ||
	    th->resv)
		e->early |= B(EINVAL);
	if (p && !(c->t.ofd->rights & (send ? KPORT_RIGHT_SEND : KPORT_RIGHT_RECV)))
		e->early |= B(EBADF);
	/* The array is read after the batch's own arguments are checked. */
	if (a->akind == P_NULL || a->akind == P_NONE || a->akind == P_STRAD) {
		if (!e->early)
			e->early |= B(EFAULT);
	} else if (a->akind == P_RO && !send) {
		e->late |= B(EFAULT);		/* the first write-back */
	}
	if (a->first_bad == 0 && !e->early)
		e->early |= batch_element_errors(a->edefect[0]);
	if (!p)
		return;
	e->state |= fz_wait_state(b->flags, a->may_wait, a->may_timeout);
	if (!send && a->elen[0] < p->msg_size)
		e->state |= B(EMSGSIZE);
}

static long batch_call(struct fz_thread *th, struct fz_call *c,
		       const struct fz_expect *e)
{
	long ret = fz_ioctl(th, c);

	mprotect(th->vec, 2 * FZ_PAGE, PROT_READ | PROT_WRITE);
	return ret;
}

static void batch_check(struct fz_thread *th, struct fz_call *c, long ret,
			struct fz_expect *e)
{
	struct fz_batch *a = FZ_ARGS(struct fz_batch, c);
	const struct fz_port *p = c->t.ofd ? c->t.ofd->port : NULL;
	const char *op = c->op->name;
	bool send = c->op->variant;
	struct fz_run *run = th->run;
	uint32_t i;

	if (p)
		e->state |= fz_after(run, c->t.ofd, a->elen[0], send);
	if (fz_check(th, op, ret, e) && ret > 0 && p) {
		if ((uint32_t)ret > a->first_bad || (uint32_t)ret > a->b.count)
			fz_violation(th, op, "did %ld of %u messages, the first bad one is %u",
				     ret, a->b.count, a->first_bad);
		for (i = 0; i < (uint32_t)ret && i < FZ_BATCH; i++) {
			struct kport_msg *m = (void *)(th->vec + i * a->stride);

			if (send) {
				fz_charge(run, p, a->elen[i], true);
				continue;
			}
			if (m->len > a->elen[i] || m->result)
				fz_violation(th, op, "element %u: %u bytes into %u, result %#x",
					     i, m->len, a->elen[i], m->result);
			else
				fz_check_received(th, op, p, m, (char *)(uintptr_t)m->buf,
						  m->len, true);
			fz_charge(run, p, m->len, false);
		}
	}
	fz_target_done(&c->t);
}

const struct fz_op fz_op_sendv = {
	.name = "SENDV", .size = sizeof(struct fz_batch), .variant = 1,
	.gen = batch_gen, .expect = batch_expect, .call = batch_call,
	.check = batch_check,
};

const struct fz_op fz_op_recvv = {
	.name = "RECVV", .size = sizeof(struct fz_batch), .variant = 0,
	.gen = batch_gen, .expect = batch_expect, .call = batch_call,
	.check = batch_check,
};

/* ---- SENDRECV --------------------------------------------------------------------- */

struct fz_sendrecv {
	struct fz_call c;
	struct kport_sendrecv sr;
	struct fz_ofd *o2;	/* the reply's handle, if a port */
	struct fz_slot *s2;	/* read-locked when another slot's */
	uint32_t rkind;		/* 0: a port; 1 a pipe, 2 /dev/kport, 3 closed */
};

/* Where the reply comes from: the same handle, another, or no port. */
static void sendrecv_gen_reply(struct fz_thread *th, struct fz_sendrecv *a)
{
	struct fz_target *t = &a->c.t;
	struct fz_run *run = th->run;
	struct fz_slot *s2;
	uint32_t r;

	r = fz_below(th, th->clean ? 80 : 100);
	a->sr.recv_fd = -1;
	if (r < 40) {
		a->o2 = t->ofd;
	} else if (r < 80) {
		s2 = &run->slots[fz_below(th, FZ_SLOTS)];
		if (s2 == t->slot || pthread_rwlock_tryrdlock(&s2->lock)) {
			a->o2 = t->ofd;
		} else if (s2->fd < 0) {
			pthread_rwlock_unlock(&s2->lock);
			a->o2 = t->ofd;
		} else {
			a->s2 = s2;
			a->sr.recv_fd = s2->fd;
			a->o2 = s2->ofd;
		}
	} else {
		a->rkind = 1 + fz_below(th, 3);
		a->sr.recv_fd = a->rkind == 1 ? run->pipe_r : a->rkind == 2 ? run->dev :
				run->closed_fd;
	}
}

static void sendrecv_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_sendrecv *a = FZ_ARGS(struct fz_sendrecv, c);
	struct kport_sendrecv *sr = &a->sr;
	const struct fz_port *p, *p2;
	bool forever = false;
	uint32_t r;

	fz_target_port(th, &c->t, 8);
	p = c->t.ofd ? c->t.ofd->port : NULL;
	sendrecv_gen_reply(th, a);
	p2 = a->o2 ? a->o2->port : NULL;
	if (!th->clean && fz_pct(th, 3))
		sr->flags = fz_unknown_bit(th, 0);
	fz_reserved(th, sr->__reserved, sizeof(sr->__reserved));
	/* The send part. */
	r = fz_below(th, th->clean ? 90 : 100);
	sr->send.flags = r < 40 ? KPORT_MSG_NONBLOCK : r < 80 ? KPORT_MSG_DEADLINE :
			 r < 90 ? 0 : fz_pct(th, 50) ? KPORT_MSG_FROM_PID : KPORT_MSG_INPLACE;
	if (sr->send.flags & KPORT_MSG_DEADLINE)
		sr->send.deadline_ns = kt_deadline_ms(fz_below(th, 3));
	/* Each part waits on its own terms: either may need the timer. */
	if (!(sr->send.flags & KPORT_MSG_NONBLOCK))
		forever |= !(sr->send.flags & KPORT_MSG_DEADLINE);
	sr->send.buf = (uintptr_t)th->send;
	sr->send.len = p ? ((p->flags & KPORT_CREATE_FIXED) ? p->msg_size :
			    fz_below(th, p->msg_size + 1)) : 8;
	sr->send.priority = fz_below(th, KPORT_PRIO_MAX);
	if (!th->clean && fz_pct(th, 4))
		sr->send.uid = 3;
	/* The receive part. */
	r = fz_below(th, th->clean ? 90 : 100);
	sr->recv.flags = r < 45 ? KPORT_MSG_NONBLOCK : r < 75 ? KPORT_MSG_DEADLINE :
			 r < 90 ? KPORT_MSG_FROM_PID | KPORT_MSG_NONBLOCK :
			 fz_pct(th, 50) ? KPORT_MSG_POST : fz_unknown_bit(th, KPORT_MSG_FLAGS);
	if (sr->recv.flags & KPORT_MSG_FROM_PID)
		sr->recv.pid = fz_pct(th, 90) ? th->run->self : 0;
	if (sr->recv.flags & KPORT_MSG_DEADLINE)
		sr->recv.deadline_ns = kt_deadline_ms(fz_below(th, 3));
	else if (!(sr->recv.flags & KPORT_MSG_NONBLOCK))
		forever = true;
	sr->recv.buf = (uintptr_t)th->recv;
	sr->recv.len = FZ_AREA;
	/* A read-only struct: "done" cannot be cleared, nothing happens. */
	fz_place(th, c, KPORT_IOC_SENDRECV, sr, sizeof(*sr), FZ_WRITE_BACK_FIRST);
	FZ_DESC(th, "SENDRECV on %s, %s: recv_fd %d (%s) send flags %#llx len %u recv flags %#llx pid %d ports %llu -> %llu",
		fz_tkind[c->t.kind], c->what, sr->recv_fd,
		a->rkind ? fz_tkind[a->rkind] : "port",
		(unsigned long long)sr->send.flags, sr->send.len,
		(unsigned long long)sr->recv.flags, sr->recv.pid,
		p ? (unsigned long long)p->id : 0ULL,
		p2 ? (unsigned long long)p2->id : 0ULL);
	c->timed = true;
	c->arm = forever;
}

/* The result if nothing was sent is the send part's: in e->state. */
static void sendrecv_expect(struct fz_thread *th, const struct fz_call *c,
			    struct fz_expect *e)
{
	const struct fz_sendrecv *a = FZ_ARGS(const struct fz_sendrecv, c);
	const struct kport_sendrecv *sr = &a->sr;
	const struct fz_port *p = c->t.ofd ? c->t.ofd->port : NULL;

	fz_target_expect(c, e);
	if (a->rkind)
		e->early |= a->rkind == 3 ? B(EBADF) : B(EINVAL);
	if (a->o2 && !(a->o2->rights & KPORT_RIGHT_RECV))
		e->early |= B(EBADF);
	if (p && !(c->t.ofd->rights & KPORT_RIGHT_SEND))
		e->early |= B(EBADF);
	if (sr->flags || th->resv)
		e->early |= B(EINVAL);
	if ((sr->send.flags & ~(KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE)) || sr->send.uid)
		e->early |= B(EINVAL);
	if (sr->send.flags & KPORT_MSG_DEADLINE)
		e->state |= B(ETIMEDOUT);
	if (!(sr->send.flags & KPORT_MSG_NONBLOCK))
		e->state |= B(EINTR);
	else
		e->state |= B(EAGAIN);
	if (sr->recv.flags & ~(KPORT_MSG_FLAGS & ~KPORT_MSG_POST))
		e->early |= B(EINVAL);
	/* Refused with the other arguments, before anything is sent. */
	if ((sr->recv.flags & KPORT_MSG_FROM_PID) && sr->recv.pid <= 0)
		e->early |= B(EINVAL);
}

/* The results the receive part allows, once the send is done. */
static uint32_t sendrecv_recv_state(const struct fz_sendrecv *a)
{
	const struct kport_msg *m = &a->sr.recv;
	uint32_t s = B(EAGAIN);

	if (m->flags & KPORT_MSG_DEADLINE)
		s |= B(ETIMEDOUT) | B(EINTR);
	else if (!(m->flags & KPORT_MSG_NONBLOCK))
		s |= B(EINTR);
	if (a->o2 && a->o2->port->msg_size > FZ_AREA)
		s |= B(EMSGSIZE);
	return s;
}

static void sendrecv_check(struct fz_thread *th, struct fz_call *c, long ret,
			   struct fz_expect *e)
{
	struct fz_sendrecv *a = FZ_ARGS(struct fz_sendrecv, c);
	uint32_t send_state = e->state, recv_state = sendrecv_recv_state(a);
	const struct kport_sendrecv *out = c->arg;
	const struct fz_port *p = c->t.ofd ? c->t.ofd->port : NULL;
	const struct fz_port *p2 = a->o2 ? a->o2->port : NULL;
	struct fz_run *run = th->run;

	if (p) {
		send_state |= fz_after(run, c->t.ofd, a->sr.send.len, true);
		if (a->o2)
			recv_state |= fz_after(run, a->o2, 0, false) & ~B(ENOBUFS);
	}
	if (fz_readable(th, out) && (out->done & KPORT_SR_SENT) &&
	    (e->excl || e->early || !p)) {
		fz_violation(th, "SENDRECV", "sent although its arguments were refused (%ld)",
			     ret);
	} else if (fz_readable(th, out) && (out->done & KPORT_SR_SENT)) {
		/* Sent: what follows is the receive's. */
		fz_charge(run, p, a->sr.send.len, true);
		e->state = recv_state;
		if (fz_check(th, "SENDRECV", ret, e) && ret == 0 && p2) {
			if (out->recv.len > FZ_AREA)
				fz_violation(th, "SENDRECV", "received %u bytes into %u",
					     out->recv.len, FZ_AREA);
			else
				fz_check_received(th, "SENDRECV", p2, &out->recv,
						  th->recv, out->recv.len, true);
			fz_charge(run, p2, out->recv.len, false);
		}
	} else {
		e->state = send_state;
		if (ret == 0)
			fz_violation(th, "SENDRECV", "succeeded without reporting the send done (%#x)",
				     fz_readable(th, out) ? out->done : 0);
		else
			fz_check(th, "SENDRECV", ret, e);
	}
	if (a->s2)
		pthread_rwlock_unlock(&a->s2->lock);
	fz_target_done(&c->t);
}

const struct fz_op fz_op_sendrecv = {
	.name = "SENDRECV", .size = sizeof(struct fz_sendrecv),
	.gen = sendrecv_gen, .expect = sendrecv_expect, .check = sendrecv_check,
};
