// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's pool operations: BORROW and RELEASE of slices, mmap of the
 * pool, and mprotect or munmap of a mapping made before.
 */
#include "fuzz.h"

/* ---- BORROW ----------------------------------------------------------------------- */

struct fz_borrow {
	struct fz_call c;
	struct kport_slice s;
};

static void borrow_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_borrow *a = FZ_ARGS(struct fz_borrow, c);
	struct kport_slice *s = &a->s;
	const struct fz_port *p;
	uint32_t r;

	fz_target_port(th, &c->t, 8);
	p = c->t.ofd ? c->t.ofd->port : NULL;
	r = fz_below(th, 100);
	if (r < 40)
		s->flags = KPORT_MSG_NONBLOCK;
	else if (r < 85)
		s->flags = KPORT_MSG_DEADLINE;
	else if (r < 90)
		s->flags = 0;
	else
		s->flags = fz_pct(th, 50) ? fz_unknown_bit(th, KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE) : ~0ULL;
	if (s->flags & KPORT_MSG_DEADLINE)
		s->deadline_ns = fz_pct(th, 20) ? 1 : kt_deadline_ms(fz_below(th, 3));
	else if (fz_pct(th, 3))
		s->deadline_ns = 5;
	if (fz_pct(th, 20))
		s->offset = kt_rand64(&th->rng);	/* output only */
	fz_reserved(th, s->__reserved, sizeof(s->__reserved));
	if (p) {
		r = fz_below(th, 10);
		s->len = r == 0 ? 0 : r == 1 ? p->msg_size + 1 : r == 2 ? p->msg_size :
			 1 + fz_below(th, p->msg_size);
		/* Held until check: the slice joins the list. */
		pthread_mutex_lock(&c->t.ofd->lock);
	} else {
		s->len = 1;
	}
	fz_place(th, c, KPORT_IOC_BORROW, s, sizeof(*s), FZ_WRITE_BACK);
	FZ_DESC(th, "BORROW on %s, %s: flags %#llx len %llu port %llu", fz_tkind[c->t.kind],
		c->what, (unsigned long long)s->flags, (unsigned long long)s->len,
		p ? (unsigned long long)p->id : 0ULL);
	c->timed = true;
	c->arm = !(s->flags & (KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE));
}

static void borrow_expect(struct fz_thread *th, const struct fz_call *c,
			  struct fz_expect *e)
{
	const struct fz_borrow *a = FZ_ARGS(const struct fz_borrow, c);
	const struct fz_port *p = c->t.ofd ? c->t.ofd->port : NULL;
	const struct kport_slice *s = &a->s;

	fz_target_expect(c, e);
	if ((s->flags & ~(KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE)) ||
	    fz_bad_deadline(s->flags, s->deadline_ns) || th->resv)
		e->early |= B(EINVAL);
	if (s->flags & KPORT_MSG_DEADLINE)
		e->state |= B(ETIMEDOUT);
	if (!p)
		return;
	if (!s->len || s->len > p->msg_size)
		e->early |= B(EINVAL);
	if (!(c->t.ofd->rights & KPORT_RIGHT_SEND))
		e->early |= B(EBADF);
	if (!fz_port_zc(p))
		e->early |= B(EOPNOTSUPP);
	if (s->flags & KPORT_MSG_NONBLOCK)
		e->state |= B(EAGAIN);
	else
		e->state |= B(EINTR);
}

static void borrow_check(struct fz_thread *th, struct fz_call *c, long ret,
			 struct fz_expect *e)
{
	struct fz_borrow *a = FZ_ARGS(struct fz_borrow, c);
	const struct kport_slice *out = c->arg;
	struct fz_ofd *o = c->t.ofd;
	struct fz_run *run = th->run;

	if (o)
		e->state |= fz_after(run, o, 0, true);
	if (fz_check(th, "BORROW", ret, e) && ret == 0 && o && fz_readable(th, out)) {
		if (out->offset % FZ_PAGE || out->offset + a->s.len > o->port->pool_size)
			fz_violation(th, "BORROW", "offset %llu for %llu bytes in a pool of %llu",
				     (unsigned long long)out->offset,
				     (unsigned long long)a->s.len,
				     (unsigned long long)o->port->pool_size);
		else if (o->nslices < FZ_MAX_SLICES)
			fz_slice_add(o, out->offset, a->s.len, true);
		else if (kt_release(c->t.fd, out->offset, a->s.len))
			fz_violation(th, "BORROW", "could not release a borrowed slice");
		fz_charge(run, o->port, 0, true);
	}
	if (o)
		pthread_mutex_unlock(&o->lock);
	fz_target_done(&c->t);
}

const struct fz_op fz_op_borrow = {
	.name = "BORROW", .size = sizeof(struct fz_borrow),
	.gen = borrow_gen, .expect = borrow_expect, .check = borrow_check,
};

/* ---- RELEASE ---------------------------------------------------------------------- */

struct fz_release {
	struct fz_call c;
	struct kport_slice s;
	bool picked;		/* a slice of ours picked... */
	int slice;		/* ...or found at the offset, to drop; -1: none */
};

static void release_expect(struct fz_thread *th, const struct fz_call *c,
			   struct fz_expect *e)
{
	const struct fz_release *a = FZ_ARGS(const struct fz_release, c);
	const struct fz_ofd *o = c->t.ofd;
	const struct kport_slice *s = &a->s;
	const struct fz_port *p;
	int i;

	fz_target_expect(c, e);
	/* It takes no flags and no deadline. */
	if (s->flags || s->deadline_ns || th->resv)
		e->early |= B(EINVAL);
	if (!o)
		return;
	p = o->port;
	if (!p->pool_size)
		e->early |= B(EOPNOTSUPP);
	if (a->picked) {
		if (s->len != o->slices[a->slice].len)
			e->early |= B(EINVAL);
		return;
	}
	i = fz_slice_find(o, s->offset);
	if (s->offset % FZ_PAGE || s->offset >= p->pool_size ||
	    s->len > p->pool_size - s->offset)
		e->early |= B(EINVAL);
	else if (i >= 0)
		e->early |= o->slices[i].len == s->len ? 0 : B(EINVAL);
	else
		e->early |= B(ENOENT);
}

static void release_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_release *a = FZ_ARGS(struct fz_release, c);
	struct kport_slice *s = &a->s;
	const struct fz_port *p;
	struct fz_ofd *o;

	a->slice = -1;
	fz_target_port(th, &c->t, 8);
	o = c->t.ofd;
	p = o ? o->port : NULL;
	if (fz_pct(th, 4))
		s->flags = fz_pct(th, 50) ? KPORT_MSG_NONBLOCK : fz_unknown_bit(th, 0);
	if (fz_pct(th, 3))
		s->deadline_ns = 1;
	fz_reserved(th, s->__reserved, sizeof(s->__reserved));
	if (p) {
		/* Held until check: the slice leaves the list. */
		pthread_mutex_lock(&o->lock);
		if (o->nslices && fz_pct(th, 70)) {
			a->picked = true;
			a->slice = (int)fz_below(th, (uint32_t)o->nslices);
			s->offset = o->slices[a->slice].off;
			s->len = o->slices[a->slice].len;
			if (fz_pct(th, 15))
				s->len += fz_pct(th, 50) ? 1 : -1;
		} else {
			struct fz_expect own = { 0 };
			int i;

			s->offset = FZ_PAGE * fz_below(th, 40);
			s->len = 1 + fz_below(th, 8192);
			if (fz_pct(th, 20))
				s->offset += 1 + fz_below(th, 4095);
			/* A slice at that offset goes if the release may succeed. */
			i = fz_slice_find(o, s->offset);
			release_expect(th, c, &own);
			if (i >= 0 && !(own.early & ~B(EOPNOTSUPP)))
				a->slice = i;
		}
	}
	fz_place(th, c, KPORT_IOC_RELEASE, s, sizeof(*s), FZ_NO_WRITE_BACK);
	FZ_DESC(th, "RELEASE on %s, %s: offset %llu len %llu slice %d port %llu",
		fz_tkind[c->t.kind], c->what, (unsigned long long)s->offset,
		(unsigned long long)s->len, a->slice,
		p ? (unsigned long long)p->id : 0ULL);
}

static void release_check(struct fz_thread *th, struct fz_call *c, long ret,
			  struct fz_expect *e)
{
	struct fz_release *a = FZ_ARGS(struct fz_release, c);
	struct fz_ofd *o = c->t.ofd;

	fz_check(th, "RELEASE", ret, e);
	if (o) {
		if (ret == 0 && a->slice >= 0)
			fz_slice_drop(o, a->slice);
		pthread_mutex_unlock(&o->lock);
	}
	fz_target_done(&c->t);
}

const struct fz_op fz_op_release = {
	.name = "RELEASE", .size = sizeof(struct fz_release),
	.gen = release_gen, .expect = release_expect, .check = release_check,
};

/* ---- mmap, mprotect, munmap ---------------------------------------------------------- */

enum { MM_MAP, MM_PROTECT, MM_UNMAP, MM_NONE };

struct fz_mmap {
	struct fz_call c;
	int what;		/* MM_* */
	size_t len;
	off_t off;
	int prot, flags;
	size_t touch;		/* MM_UNMAP: the byte read first */
	void *m;		/* MM_MAP: the mapping made */
};

/* Unmap, or try to make a read-only mapping writable. */
static void mmap_gen_again(struct fz_thread *th, struct fz_mmap *a)
{
	struct fz_ofd *o = a->c.t.ofd;

	/* Held until check: the mapping is the ofd's. */
	pthread_mutex_lock(&o->lock);
	a->what = MM_NONE;
	if (o->map && !(o->map_prot & PROT_WRITE) && fz_pct(th, 30)) {
		a->what = MM_PROTECT;
		FZ_DESC(th, "mprotect RW of a read-only pool mapping");
	} else if (o->map) {
		a->what = MM_UNMAP;
		FZ_DESC(th, "munmap of a pool mapping");
		a->touch = fz_below(th, (uint32_t)o->map_len);
	}
}

static void mmap_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_mmap *a = FZ_ARGS(struct fz_mmap, c);
	struct fz_ofd *o;
	const struct fz_port *p;

	fz_target_port(th, &c->t, 8);
	if (c->t.kind == T_PIPE || c->t.kind == T_NULL) {
		fz_target_done(&c->t);
		fz_target_special(th, &c->t, fz_pct(th, 50) ? T_DEV : T_CLOSED);
	}
	o = c->t.ofd;
	p = o ? o->port : NULL;
	a->prot = fz_pct(th, 50) ? PROT_READ : PROT_READ | PROT_WRITE;
	a->flags = fz_pct(th, 90) ? MAP_SHARED : MAP_PRIVATE;
	if (p && o->map && fz_pct(th, 60)) {
		mmap_gen_again(th, a);
		return;
	}
	a->what = MM_MAP;
	if (c->t.kind == T_CLOSED || c->t.kind == T_DEV) {
		a->len = FZ_PAGE;
	} else {
		switch (fz_below(th, 8)) {
		case 0:
			a->len = p->pool_size + FZ_PAGE;
			break;
		case 1:
			a->len = p->pool_size / 2;
			break;
		case 2:
			a->len = 0;
			break;
		default:
			a->len = p->pool_size;
			break;
		}
		if (fz_pct(th, 5))
			a->off = FZ_PAGE;
		if (!p->pool_size)
			a->len = a->len ? a->len : FZ_PAGE;
		/* Held until check: one mapping per handle. */
		pthread_mutex_lock(&o->lock);
	}
	FZ_DESC(th, "mmap on %s: len %zu off %ld prot %d %s rights %u pool %llu zc %d",
		fz_tkind[c->t.kind], a->len, (long)a->off, a->prot,
		a->flags == MAP_SHARED ? "shared" : "private",
		o ? o->rights : 0, p ? (unsigned long long)p->pool_size : 0ULL,
		p ? fz_port_zc(p) : 0);
}

static void mmap_expect(struct fz_thread *th, const struct fz_call *c,
			struct fz_expect *e)
{
	const struct fz_mmap *a = FZ_ARGS(const struct fz_mmap, c);
	const struct fz_ofd *o = c->t.ofd;
	const struct fz_port *p = o ? o->port : NULL;
	bool zc_sender;

	if (a->what != MM_MAP)
		return;
	if (c->t.kind == T_CLOSED) {
		e->excl = B(EBADF);
		return;
	}
	if (c->t.kind == T_DEV) {
		e->excl = B(ENODEV);
		return;
	}
	zc_sender = fz_port_zc(p) && (o->rights & KPORT_RIGHT_SEND);
	if (!p->pool_size)
		e->early |= B(ENODEV);
	if (!a->len)
		e->early |= B(EINVAL);
	if (a->off || a->len > p->pool_size)
		e->early |= B(EINVAL);
	if ((a->prot & PROT_WRITE) && a->flags == MAP_PRIVATE)
		e->early |= B(EINVAL);
	if ((a->prot & PROT_WRITE) && !zc_sender)
		e->early |= B(EACCES);
	if (!(a->prot & PROT_WRITE) && !(o->rights & KPORT_RIGHT_RECV) && !zc_sender)
		e->early |= B(EACCES);
	if (o->map)
		e->early |= B(EBUSY);
}

static long mmap_call(struct fz_thread *th, struct fz_call *c,
		      const struct fz_expect *e)
{
	struct fz_mmap *a = FZ_ARGS(struct fz_mmap, c);
	struct fz_ofd *o = c->t.ofd;

	switch (a->what) {
	case MM_PROTECT:
		return mprotect(o->map, o->map_len, PROT_READ | PROT_WRITE) ? -errno : 0;
	case MM_UNMAP:
		/* Touch it first: it stays readable after deletion. */
		(void)*(volatile char *)(o->map + a->touch);
		munmap(o->map, o->map_len);
		return 0;
	case MM_MAP:
		a->m = mmap(NULL, a->len, a->prot, a->flags, c->t.fd, a->off);
		return a->m == MAP_FAILED ? -errno : 0;
	default:
		return 0;
	}
}

static void mmap_check(struct fz_thread *th, struct fz_call *c, long ret,
		       struct fz_expect *e)
{
	struct fz_mmap *a = FZ_ARGS(struct fz_mmap, c);
	struct fz_ofd *o = c->t.ofd;

	if (a->what == MM_PROTECT && ret != -EACCES)
		fz_violation(th, "mprotect", "made a read-only pool mapping writable (errno %d)",
			     (int)-ret);
	if (a->what == MM_UNMAP)
		o->map = NULL;
	if (a->what == MM_MAP) {
		if (fz_check(th, "mmap", ret, e) && ret == 0 && o) {
			o->map = a->m;
			o->map_len = a->len;
			o->map_prot = a->prot;
			(void)*(volatile char *)((char *)a->m + fz_below(th, (uint32_t)a->len));
		} else if (ret == 0) {
			munmap(a->m, a->len);
		}
	}
	if (o)
		pthread_mutex_unlock(&o->lock);
	fz_target_done(&c->t);
}

const struct fz_op fz_op_mmap = {
	.name = "mmap", .size = sizeof(struct fz_mmap),
	.gen = mmap_gen, .expect = mmap_expect, .call = mmap_call,
	.check = mmap_check,
};
