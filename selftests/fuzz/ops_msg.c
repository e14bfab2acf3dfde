// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's message operations on a handle: SEND (copied, or a
 * borrowed slice posted), RECV (copied or in place), read and write.
 */
#include "fuzz.h"

/* ---- SEND ------------------------------------------------------------------------- */

struct fz_send {
	struct fz_call c;
	struct kport_msg m;
	bool post;		/* KPORT_MSG_POST on a handle */
	bool may_wait, may_timeout;
	bool picked;		/* a slice of ours picked to post... */
	int slice;		/* ...or found at the offset; -1: none */
	uint64_t slice_len;
	uint32_t bkind;		/* where the payload is */
	size_t valid;		/* readable bytes there */
};

/* A post: a slice we borrowed most of the time, any offset else. */
static void send_gen_post(struct fz_thread *th, struct fz_send *a)
{
	struct fz_ofd *o = a->c.t.ofd;
	struct kport_msg *m = &a->m;
	int slice;

	if (fz_pct(th, 4))
		m->buf = (uintptr_t)th->send;
	for (slice = 0; slice < o->nslices; slice++)
		if (o->slices[slice].borrowed)
			break;
	if (slice < o->nslices && fz_pct(th, 85)) {
		a->picked = true;
		a->slice = slice;
		a->slice_len = o->slices[slice].len;
		m->offset = o->slices[slice].off;
		m->len = (uint32_t)(o->slices[slice].len - fz_below(th, 2) *
				    fz_below(th, (uint32_t)o->slices[slice].len + 1));
		if (fz_pct(th, 5))
			m->len = (uint32_t)o->slices[slice].len + 1;
		return;
	}
	m->offset = FZ_PAGE * fz_below(th, 40);
	m->len = 1 + fz_below(th, 4096);
	if (fz_pct(th, 20))
		m->offset += 1 + fz_below(th, 4095);
	/* By chance a slice we borrowed: it is posted. */
	slice = fz_slice_find(o, m->offset);
	if (slice >= 0 && o->slices[slice].borrowed) {
		a->slice = slice;
		a->slice_len = o->slices[slice].len;
	}
}

/* A copied send: lengths about the port's msg_size, any buffer. */
static void send_gen_copy(struct fz_thread *th, struct fz_send *a)
{
	const struct fz_port *p = a->c.t.ofd->port;
	struct kport_msg *m = &a->m;
	uint32_t r;

	if (!th->clean && fz_pct(th, 3))
		m->offset = FZ_PAGE;
	r = fz_below(th, 9);
	if (r == 4)
		m->len = fz_pct(th, 50) ? 0x7fffffffU : 0xffffffffU;
	else if (r == 5)
		m->len = p->pool_size ? p->threshold + 1 : FZ_STRADDLE;
	else
		m->len = fz_len_near(p, r);
	if (th->clean && (m->len > p->msg_size || (p->flags & KPORT_CREATE_FIXED)))
		m->len = p->msg_size;
	a->bkind = fz_pick_pkind(th, 88);
	m->buf = (uintptr_t)fz_data_ptr(th, a->bkind, false, &a->valid);
}

static void send_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_send *a = FZ_ARGS(struct fz_send, c);
	struct kport_msg *m = &a->m;
	const struct fz_port *p;
	uint32_t r;

	a->slice = -1;
	fz_target_port(th, &c->t, 8);
	p = c->t.ofd ? c->t.ofd->port : NULL;
	r = fz_below(th, th->clean ? 92 : 100);
	if (r < 20)
		m->flags = 0;
	else if (r < 45)
		m->flags = KPORT_MSG_NONBLOCK;
	else if (r < 80)
		m->flags = KPORT_MSG_DEADLINE;
	else if (r < 85)
		m->flags = KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE;
	else if (r < 92)
		m->flags = KPORT_MSG_POST | (fz_pct(th, 50) ? KPORT_MSG_DEADLINE : KPORT_MSG_NONBLOCK);
	else if (r < 95)
		m->flags = fz_pct(th, 50) ? KPORT_MSG_FROM_PID : KPORT_MSG_INPLACE;
	else if (r < 98)
		m->flags = fz_unknown_bit(th, KPORT_MSG_FLAGS);
	else
		m->flags = ~0ULL;
	a->post = m->flags & KPORT_MSG_POST;
	fz_pick_deadline(th, m, &a->may_wait, &a->may_timeout);
	m->priority = th->clean || fz_pct(th, 95) ? fz_below(th, KPORT_PRIO_MAX) :
		      KPORT_PRIO_MAX + fz_below(th, 1000);
	/* Output only, refused on input. */
	if (!th->clean && fz_pct(th, 3))
		m->pid = (int32_t)kt_rand64(&th->rng) | 1;
	if (!th->clean && fz_pct(th, 3))
		m->uid = 1 + fz_below(th, 1000);
	if (!th->clean && fz_pct(th, 3))
		m->result = 1 + fz_below(th, 4);
	fz_reserved(th, &m->__reserved32, sizeof(m->__reserved32) + sizeof(m->__reserved));
	if (p && a->post) {
		/* Held until check: the slice list must stay as expect saw it. */
		pthread_mutex_lock(&c->t.ofd->lock);
		send_gen_post(th, a);
	} else if (p) {
		send_gen_copy(th, a);
	} else {
		m->len = 1 + fz_below(th, 100);
		m->buf = (uintptr_t)th->send;
	}
	fz_place(th, c, KPORT_IOC_SEND, m, sizeof(*m), FZ_NO_WRITE_BACK);
	FZ_DESC(th, "SEND on %s, %s: flags %#llx len %u prio %u buf %s deadline %llu offset %llu port %llu cap %u msg_size %u pool %llu",
		fz_tkind[c->t.kind], c->what, (unsigned long long)m->flags, m->len,
		m->priority, a->post ? "-" : fz_pkind[a->bkind],
		(unsigned long long)m->deadline_ns, (unsigned long long)m->offset,
		p ? (unsigned long long)p->id : 0ULL, p ? p->capacity : 0,
		p ? p->msg_size : 0, p ? (unsigned long long)p->pool_size : 0ULL);
	c->timed = true;
	c->arm = a->may_wait && !a->may_timeout;
}

static void send_expect(struct fz_thread *th, const struct fz_call *c,
			struct fz_expect *e)
{
	const struct fz_send *a = FZ_ARGS(const struct fz_send, c);
	const struct fz_port *p = c->t.ofd ? c->t.ofd->port : NULL;
	const struct kport_msg *m = &a->m;
	bool fixed = p && (p->flags & KPORT_CREATE_FIXED);

	fz_target_expect(c, e);
	if (m->flags & ~(KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE | KPORT_MSG_POST))
		e->early |= B(EINVAL);
	if (fz_bad_deadline(m->flags, m->deadline_ns) ||
	    m->priority >= KPORT_PRIO_MAX || m->pid || m->uid || m->result ||
	    th->resv)
		e->early |= B(EINVAL);
	if (!p)
		return;
	if (!(c->t.ofd->rights & KPORT_RIGHT_SEND))
		e->early |= B(EBADF);
	if (a->post) {
		if (!fz_port_zc(p))
			e->early |= B(EOPNOTSUPP);
		/* A post names its payload by offset, not by buffer. */
		if (m->buf)
			e->early |= B(EINVAL);
		if (a->slice < 0)
			e->early |= B(EINVAL) | B(ENOENT);
		else if (m->len > a->slice_len)
			e->early |= B(EINVAL);
		if (fixed && m->len != p->msg_size)
			e->early |= B(EMSGSIZE);
	} else {
		if (m->offset)
			e->early |= B(EINVAL);
		if (m->len > p->msg_size || (fixed && m->len != p->msg_size))
			e->early |= B(EMSGSIZE);
		else if (m->len > a->valid)
			e->late |= B(EFAULT);
	}
	e->state |= fz_wait_state(m->flags, a->may_wait, a->may_timeout);
}

/*
 * A post that may go through carries the pattern.  The slice leaves our
 * list for the call: it comes back if the post fails.
 */
static long send_call(struct fz_thread *th, struct fz_call *c,
		      const struct fz_expect *e)
{
	struct fz_send *a = FZ_ARGS(struct fz_send, c);
	struct fz_ofd *o = c->t.ofd;

	if (a->picked && !e->excl && !e->early && fz_port_zc(o->port) && o->map &&
	    (o->map_prot & PROT_WRITE) && a->m.offset + a->m.len <= o->map_len)
		fz_fill(o->map + a->m.offset, a->m.len);
	if (o && a->post && a->slice >= 0)
		fz_slice_drop(o, a->slice);
	return fz_ioctl(th, c);
}

static void send_check(struct fz_thread *th, struct fz_call *c, long ret,
		       struct fz_expect *e)
{
	struct fz_send *a = FZ_ARGS(struct fz_send, c);
	struct fz_ofd *o = c->t.ofd;
	struct fz_run *run = th->run;

	if (o)
		e->state |= fz_after(run, o, a->m.len, !a->post);
	if (o && a->post) {
		if (a->slice >= 0 && ret < 0)
			fz_slice_add(o, a->m.offset, a->slice_len, true);
		pthread_mutex_unlock(&o->lock);
	}
	if (fz_check(th, "SEND", ret, e) && ret == 0 && o)
		fz_charge(run, o->port, a->post ? 0 : a->m.len, true);
	if (ret == -EINTR)
		__atomic_fetch_add(&run->res->injected_eintr, 1, __ATOMIC_RELAXED);
	fz_target_done(&c->t);
}

const struct fz_op fz_op_send = {
	.name = "SEND", .size = sizeof(struct fz_send),
	.gen = send_gen, .expect = send_expect, .call = send_call,
	.check = send_check,
};

/* ---- RECV ------------------------------------------------------------------------- */

struct fz_recv {
	struct fz_call c;
	struct kport_msg m;
	bool may_wait, may_timeout, inplace;
	bool dead, badpid;	/* of KPORT_MSG_FROM_PID's pid */
	uint32_t bkind;		/* where the payload goes */
	char *buf;
	size_t valid;		/* writable bytes there */
};

static void recv_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_recv *a = FZ_ARGS(struct fz_recv, c);
	struct kport_msg *m = &a->m;
	const struct fz_port *p;
	uint32_t r;

	fz_target_port(th, &c->t, 8);
	p = c->t.ofd ? c->t.ofd->port : NULL;
	r = fz_below(th, th->clean ? 88 : 100);
	if (r < 15)
		m->flags = 0;
	else if (r < 40)
		m->flags = KPORT_MSG_NONBLOCK;
	else if (r < 65)
		m->flags = KPORT_MSG_DEADLINE;
	else if (r < 75)
		m->flags = KPORT_MSG_INPLACE | (fz_pct(th, 50) ? KPORT_MSG_DEADLINE : KPORT_MSG_NONBLOCK);
	else if (r < 88)
		m->flags = KPORT_MSG_FROM_PID | (fz_pct(th, 50) ? KPORT_MSG_DEADLINE : KPORT_MSG_NONBLOCK);
	else if (r < 91)
		m->flags = KPORT_MSG_POST | KPORT_MSG_NONBLOCK;
	else if (r < 97)
		m->flags = fz_unknown_bit(th, KPORT_MSG_FLAGS);
	else
		m->flags = ~0ULL;
	a->inplace = m->flags & KPORT_MSG_INPLACE;
	fz_pick_deadline(th, m, &a->may_wait, &a->may_timeout);
	if (m->flags & KPORT_MSG_FROM_PID)
		m->pid = fz_pick_pid(th, &a->dead, &a->badpid);
	else if (fz_pct(th, 20))
		m->pid = (int32_t)kt_rand64(&th->rng);	/* ignored without FROM_PID */
	if (fz_pct(th, 20)) {		/* output only */
		m->priority = (uint32_t)kt_rand64(&th->rng);
		m->uid = (uint32_t)kt_rand64(&th->rng);
		m->offset = kt_rand64(&th->rng);
		m->result = (uint32_t)kt_rand64(&th->rng);
	}
	fz_reserved(th, &m->__reserved32, sizeof(m->__reserved32) + sizeof(m->__reserved));
	a->bkind = fz_pick_pkind(th, 85);
	a->buf = fz_data_ptr(th, a->bkind, true, &a->valid);
	m->buf = (uintptr_t)a->buf;
	if (p) {
		r = th->clean ? 7 : fz_below(th, 8);
		m->len = r == 4 ? 0xffffffffU : fz_len_near(p, r);
		/* So that what the kernel did not write shows. */
		if (a->bkind == P_VALID)
			memset(a->buf, 0xa5, m->len < p->msg_size ? m->len : p->msg_size);
		else if (a->bkind == P_STRAD)
			memset(a->buf, 0xa5, FZ_STRADDLE);
		/* Held until check: a slice received in place joins the list. */
		if (a->inplace)
			pthread_mutex_lock(&c->t.ofd->lock);
	} else {
		m->len = 64;
	}
	fz_place(th, c, KPORT_IOC_RECV, m, sizeof(*m), FZ_WRITE_BACK);
	FZ_DESC(th, "RECV on %s, %s: flags %#llx len %u buf %s pid %d deadline %llu port %llu cap %u msg_size %u pool %llu",
		fz_tkind[c->t.kind], c->what, (unsigned long long)m->flags, m->len,
		fz_pkind[a->bkind], m->pid, (unsigned long long)m->deadline_ns,
		p ? (unsigned long long)p->id : 0ULL, p ? p->capacity : 0,
		p ? p->msg_size : 0, p ? (unsigned long long)p->pool_size : 0ULL);
	c->timed = true;
	c->arm = a->may_wait && !a->may_timeout;
}

static void recv_expect(struct fz_thread *th, const struct fz_call *c,
			struct fz_expect *e)
{
	const struct fz_recv *a = FZ_ARGS(const struct fz_recv, c);
	const struct fz_port *p = c->t.ofd ? c->t.ofd->port : NULL;
	const struct kport_msg *m = &a->m;

	fz_target_expect(c, e);
	if ((m->flags & ~KPORT_MSG_FLAGS) || fz_bad_deadline(m->flags, m->deadline_ns) ||
	    th->resv)
		e->early |= B(EINVAL);
	if (m->flags & KPORT_MSG_FROM_PID) {
		if (a->badpid)
			e->early |= B(EINVAL);
		else if (a->dead)
			e->early |= B(ESRCH);
	}
	if (!p)
		return;
	if (!(c->t.ofd->rights & KPORT_RIGHT_RECV))
		e->early |= B(EBADF);
	e->state |= fz_wait_state(m->flags, a->may_wait, a->may_timeout);
	if (m->len < p->msg_size)
		e->state |= B(EMSGSIZE);
	if (a->valid < p->msg_size && a->valid < m->len)
		e->state |= B(EFAULT);
	if (m->flags & KPORT_MSG_POST)
		e->early |= B(EINVAL);	/* send only */
}

/* A message received (@got, written back): where it is, and what. */
static void recv_check_got(struct fz_thread *th, struct fz_recv *a,
			   const struct kport_msg *got)
{
	struct fz_ofd *o = a->c.t.ofd;
	const struct fz_port *p = o->port;
	bool in_pool = got->result & KPORT_RESULT_INPLACE;

	if (got->result & ~KPORT_RESULT_INPLACE ||
	    (in_pool && (!a->inplace || !p->pool_size ||
			 got->offset % FZ_PAGE ||
			 got->offset + got->len > p->pool_size)) ||
	    (!in_pool && got->offset) ||
	    (!fz_port_zc(p) && p->pool_size && a->inplace &&
	     in_pool != (got->len > p->threshold)))
		fz_violation(th, "RECV", "result %#x offset %llu len %u (in place asked %d, pool %llu threshold %u)",
			     got->result, (unsigned long long)got->offset,
			     got->len, a->inplace,
			     (unsigned long long)p->pool_size, p->threshold);
	else if (in_pool)
		fz_check_received(th, "RECV", p, got,
				  o->map && got->offset + got->len <= o->map_len ?
				  o->map + got->offset : NULL,
				  got->len, true);
	else if (got->len > a->valid || got->len > a->m.len)
		fz_violation(th, "RECV", "%u bytes into a buffer of %u (%zu writable)",
			     got->len, a->m.len, a->valid);
	else
		fz_check_received(th, "RECV", p, got, a->buf, got->len, true);
	if (in_pool && o->nslices < FZ_MAX_SLICES)
		fz_slice_add(o, got->offset, got->len, false);
	else if (in_pool && kt_release(a->c.t.fd, got->offset, got->len))
		fz_violation(th, "RECV", "could not release a slice received in place");
	fz_charge(th->run, p, got->len, false);
}

static void recv_check(struct fz_thread *th, struct fz_call *c, long ret,
		       struct fz_expect *e)
{
	struct fz_recv *a = FZ_ARGS(struct fz_recv, c);
	const struct kport_msg *got = c->arg;
	struct fz_ofd *o = c->t.ofd;
	struct fz_run *run = th->run;

	if (o)
		e->state |= fz_after(run, o, 0, false);
	if (ret == -EINTR)
		__atomic_fetch_add(&run->res->injected_eintr, 1, __ATOMIC_RELAXED);
	if (fz_check(th, "RECV", ret, e) && o && fz_readable(th, got)) {
		if (ret == -EMSGSIZE && got && (c->cmd & (_IOC_READ << _IOC_DIRSHIFT)) &&
		    (got->len <= a->m.len || got->len > o->port->msg_size))
			fz_violation(th, "RECV", "EMSGSIZE with a %u-byte buffer reported %u",
				     a->m.len, got->len);
		if (ret == 0)
			recv_check_got(th, a, got);
	}
	if (o && a->inplace)
		pthread_mutex_unlock(&o->lock);
	fz_target_done(&c->t);
}

const struct fz_op fz_op_recv = {
	.name = "RECV", .size = sizeof(struct fz_recv),
	.gen = recv_gen, .expect = recv_expect, .check = recv_check,
};

/* ---- read and write ----------------------------------------------------------------- */

struct fz_rw {
	struct fz_call c;
	uint32_t bkind;
	char *buf;
	size_t n, valid;
};

static void rw_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_rw *a = FZ_ARGS(struct fz_rw, c);
	bool is_write = c->op->variant;
	const struct fz_port *p;

	fz_target_port(th, &c->t, 10);
	if (c->t.kind == T_PIPE || c->t.kind == T_NULL) {
		fz_target_done(&c->t);
		fz_target_special(th, &c->t, fz_pct(th, 50) ? T_DEV : T_CLOSED);
	}
	p = c->t.ofd ? c->t.ofd->port : NULL;
	a->bkind = fz_pick_pkind(th, 85);
	a->buf = fz_data_ptr(th, a->bkind, !is_write, &a->valid);
	a->n = 1 + fz_below(th, 64);
	if (p) {
		switch (fz_below(th, 7)) {
		case 0:
			a->n = 0;
			break;
		case 1:
			a->n = p->msg_size - 1;
			break;
		case 2:
			a->n = p->msg_size + 1;
			break;
		case 3:
			a->n = is_write ? FZ_STRADDLE : (size_t)1 << 30;
			break;
		default:
			a->n = p->msg_size;
			break;
		}
		if (!is_write && a->bkind == P_VALID && a->n > FZ_AREA)
			a->valid = FZ_AREA;
		if (!is_write && a->bkind == P_VALID)
			memset(a->buf, 0xa5, a->n < p->msg_size ? a->n : p->msg_size);
	}
	FZ_DESC(th, "%s on %s: %zu bytes buf %s port %llu msg_size %u",
		is_write ? "write" : "read", fz_tkind[c->t.kind], a->n,
		fz_pkind[a->bkind], p ? (unsigned long long)p->id : 0ULL,
		p ? p->msg_size : 0);
}

static void rw_expect(struct fz_thread *th, const struct fz_call *c,
		      struct fz_expect *e)
{
	const struct fz_rw *a = FZ_ARGS(const struct fz_rw, c);
	const struct fz_port *p = c->t.ofd ? c->t.ofd->port : NULL;
	bool is_write = c->op->variant;

	if (!p) {
		/* /dev/kport has no read or write */
		e->excl = c->t.kind == T_CLOSED ? B(EBADF) : B(EINVAL);
		return;
	}
	if (!(c->t.ofd->rights & (is_write ? KPORT_RIGHT_SEND : KPORT_RIGHT_RECV)))
		e->early |= B(EBADF);
	if (is_write && (a->n > p->msg_size ||
			 ((p->flags & KPORT_CREATE_FIXED) && a->n != p->msg_size)))
		e->early |= B(EMSGSIZE);
	else if (is_write && a->n > a->valid)
		e->late |= B(EFAULT);
	if (!is_write && a->n < p->msg_size)
		e->state |= B(EMSGSIZE);
	if (!is_write && a->valid < p->msg_size && a->valid < a->n)
		e->state |= B(EFAULT);
	e->state |= B(EINTR);
}

static long rw_call(struct fz_thread *th, struct fz_call *c,
		    const struct fz_expect *e)
{
	struct fz_rw *a = FZ_ARGS(struct fz_rw, c);
	long ret;

	fz_arm(th, true);
	ret = c->op->variant ? write(c->t.fd, a->buf, a->n) : read(c->t.fd, a->buf, a->n);
	if (ret < 0)
		ret = -errno;
	fz_arm(th, false);
	return ret;
}

static void rw_check(struct fz_thread *th, struct fz_call *c, long ret,
		     struct fz_expect *e)
{
	struct fz_rw *a = FZ_ARGS(struct fz_rw, c);
	const struct fz_port *p = c->t.ofd ? c->t.ofd->port : NULL;
	bool is_write = c->op->variant;
	struct fz_run *run = th->run;

	if (p)
		e->state |= fz_after(run, c->t.ofd, a->n, is_write);
	if (ret == -EINTR)
		__atomic_fetch_add(&run->res->injected_eintr, 1, __ATOMIC_RELAXED);
	if (fz_check(th, is_write ? "write" : "read", ret, e) && ret >= 0 && p) {
		if (is_write && (size_t)ret != a->n)
			fz_violation(th, "write", "returned %ld for %zu bytes", ret, a->n);
		if (is_write)
			fz_charge(run, p, ret, true);
		if (!is_write && ((size_t)ret > a->n || (size_t)ret > a->valid))
			fz_violation(th, "read", "%ld bytes into a buffer of %zu (%zu writable)",
				     ret, a->n, a->valid);
		else if (!is_write)
			fz_check_received(th, "read", p, NULL, a->buf, (size_t)ret, false);
		if (!is_write)
			fz_charge(run, p, ret, false);
	}
	fz_target_done(&c->t);
}

const struct fz_op fz_op_read = {
	.name = "read", .size = sizeof(struct fz_rw), .variant = 0,
	.gen = rw_gen, .expect = rw_expect, .call = rw_call, .check = rw_check,
};

const struct fz_op fz_op_write = {
	.name = "write", .size = sizeof(struct fz_rw), .variant = 1,
	.gen = rw_gen, .expect = rw_expect, .call = rw_call, .check = rw_check,
};
