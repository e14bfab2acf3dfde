// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's operations on descriptors as such: poll, epoll, close, dup
 * and fcntl(O_NONBLOCK).  None has an errno to expect: each either works
 * or is a violation, checked directly.
 */
#include "fuzz.h"

#include <sys/epoll.h>

/* ---- poll ------------------------------------------------------------------------- */

struct fz_poll {
	struct fz_call c;
	struct pollfd pfd;
	int timeout_ms;
};

static void poll_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_poll *a = FZ_ARGS(struct fz_poll, c);

	fz_target_port(th, &c->t, 15);
	a->pfd.fd = c->t.fd;
	a->pfd.events = (short)(fz_pct(th, 50) ? POLLIN : fz_pct(th, 50) ? POLLOUT :
				POLLIN | POLLOUT);
	FZ_DESC(th, "poll on %s events %#x", fz_tkind[c->t.kind], a->pfd.events);
	a->timeout_ms = (int)fz_below(th, 3);
}

static long poll_call(struct fz_thread *th, struct fz_call *c,
		      const struct fz_expect *e)
{
	struct fz_poll *a = FZ_ARGS(struct fz_poll, c);
	int ret = poll(&a->pfd, 1, a->timeout_ms);

	return ret < 0 ? -errno : ret;
}

static void poll_check(struct fz_thread *th, struct fz_call *c, long ret,
		       struct fz_expect *e)
{
	struct fz_poll *a = FZ_ARGS(struct fz_poll, c);

	if (ret < 0 && ret != -EINTR)
		fz_violation(th, "poll", "errno %d", (int)-ret);
	if (ret >= 0)
		fz_ok(th);
	if (ret > 0 && c->t.kind == T_PORT)
		fz_check_revents(th, "poll", c->t.ofd, (unsigned int)a->pfd.revents);
	if (ret > 0 && c->t.kind == T_CLOSED && a->pfd.fd >= 0 &&
	    a->pfd.revents != POLLNVAL)
		fz_violation(th, "poll", "closed descriptor: revents %#x", a->pfd.revents);
	fz_target_done(&c->t);
}

const struct fz_op fz_op_poll = {
	.name = "poll", .size = sizeof(struct fz_poll),
	.gen = poll_gen, .call = poll_call, .check = poll_check,
};

/* ---- epoll ------------------------------------------------------------------------ */

struct fz_epoll {
	struct fz_call c;
	bool add;		/* the target joins the thread's epoll set first */
	struct epoll_event ev_add;
	long add_ret;
	int timeout_ms;
	struct epoll_event ev[8];
};

static void epoll_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_epoll *a = FZ_ARGS(struct fz_epoll, c);

	fz_target_port(th, &c->t, 0);
	if (c->t.kind == T_PORT && fz_pct(th, 40)) {
		struct epoll_event add = {
			.events = EPOLLIN | (fz_pct(th, 50) ? EPOLLOUT : 0) |
				  (fz_pct(th, 30) ? EPOLLEXCLUSIVE : 0),
		};

		a->add = true;
		a->ev_add = add;
	}
	a->timeout_ms = (int)fz_below(th, 3);
}

/* Two calls: the add (the target is released after it), the wait. */
static long epoll_call(struct fz_thread *th, struct fz_call *c,
		       const struct fz_expect *e)
{
	struct fz_epoll *a = FZ_ARGS(struct fz_epoll, c);
	int n;

	if (a->add) {
		FZ_DESC(th, "epoll_ctl ADD");
		a->add_ret = epoll_ctl(th->epfd, EPOLL_CTL_ADD, c->t.fd, &a->ev_add) ?
			     -errno : 0;
	}
	fz_target_done(&c->t);
	FZ_DESC(th, "epoll_wait");
	n = epoll_wait(th->epfd, a->ev, 8, a->timeout_ms);
	return n < 0 ? -errno : n;
}

static void epoll_check(struct fz_thread *th, struct fz_call *c, long ret,
			struct fz_expect *e)
{
	struct fz_epoll *a = FZ_ARGS(struct fz_epoll, c);
	long i;

	if (a->add && a->add_ret && a->add_ret != -EEXIST) {
		FZ_DESC(th, "epoll_ctl ADD");
		fz_violation(th, "epoll_ctl", "ADD of a port: errno %d", (int)-a->add_ret);
		FZ_DESC(th, "epoll_wait");
	}
	if (ret >= 0)
		fz_ok(th);
	if (ret < 0 && ret != -EINTR)
		fz_violation(th, "epoll_wait", "errno %d", (int)-ret);
	for (i = 0; i < ret; i++)
		fz_check_revents(th, "epoll_wait", NULL, a->ev[i].events);
}

const struct fz_op fz_op_epoll = {
	.name = "epoll", .size = sizeof(struct fz_epoll),
	.gen = epoll_gen, .call = epoll_call, .check = epoll_check,
};

/* ---- close ------------------------------------------------------------------------ */

struct fz_close {
	struct fz_call c;
	struct fz_slot *s;
	int fd;			/* what the slot held; -1: nothing */
};

static void close_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_close *a = FZ_ARGS(struct fz_close, c);

	a->s = &th->run->slots[fz_below(th, FZ_SLOTS)];
}

/* Empty the slot, then close what it held, or a number that is closed. */
static long close_call(struct fz_thread *th, struct fz_call *c,
		       const struct fz_expect *e)
{
	struct fz_close *a = FZ_ARGS(struct fz_close, c);
	struct fz_ofd *o;

	pthread_rwlock_wrlock(&a->s->lock);
	a->fd = a->s->fd;
	o = a->s->ofd;
	a->s->fd = -1;
	a->s->ofd = NULL;
	pthread_rwlock_unlock(&a->s->lock);
	if (a->fd < 0) {
		FZ_DESC(th, "close of a closed descriptor");
		return close(th->run->closed_fd) ? -errno : 0;
	}
	FZ_DESC(th, "close of port %llu", (unsigned long long)o->port->id);
	fz_ofd_put(th->run, o, a->fd);
	return 0;
}

static void close_check(struct fz_thread *th, struct fz_call *c, long ret,
			struct fz_expect *e)
{
	struct fz_close *a = FZ_ARGS(struct fz_close, c);

	if (a->fd >= 0)
		fz_ok(th);
	else if (ret != -EBADF)
		fz_violation(th, "close", "of a closed descriptor: errno %d", (int)-ret);
}

const struct fz_op fz_op_close = {
	.name = "close", .size = sizeof(struct fz_close),
	.gen = close_gen, .call = close_call, .check = close_check,
};

/* ---- dup and fcntl: on a port handle only ------------------------------------------------ */

/* A port handle, or nothing to do. */
static bool fz_gen_handle(struct fz_thread *th, struct fz_call *c)
{
	fz_target_port(th, &c->t, 0);
	if (c->t.kind != T_PORT) {
		fz_target_done(&c->t);
		c->skip = true;
		return false;
	}
	return true;
}

static void dup_gen(struct fz_thread *th, struct fz_call *c)
{
	if (fz_gen_handle(th, c))
		FZ_DESC(th, "dup of port %llu", (unsigned long long)c->t.ofd->port->id);
}

static long dup_call(struct fz_thread *th, struct fz_call *c,
		     const struct fz_expect *e)
{
	int fd = fcntl(c->t.fd, F_DUPFD_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

/* The new descriptor shares the open file description. */
static void dup_check(struct fz_thread *th, struct fz_call *c, long ret,
		      struct fz_expect *e)
{
	struct fz_run *run = th->run;

	if (ret < 0) {
		fz_violation(th, "dup", "errno %d", (int)-ret);
		fz_target_done(&c->t);
		return;
	}
	pthread_mutex_lock(&run->table_lock);
	c->t.ofd->refs++;
	pthread_mutex_unlock(&run->table_lock);
	fz_slot_put(th, (int)ret, c->t.ofd);
	fz_ok(th);
	fz_target_done(&c->t);
}

const struct fz_op fz_op_dup = {
	.name = "dup", .size = sizeof(struct fz_call),
	.gen = dup_gen, .call = dup_call, .check = dup_check,
};

struct fz_fcntl {
	struct fz_call c;
	bool set;		/* set O_NONBLOCK, or clear it */
};

static void fcntl_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_fcntl *a = FZ_ARGS(struct fz_fcntl, c);

	if (!fz_gen_handle(th, c))
		return;
	FZ_DESC(th, "fcntl O_NONBLOCK on port %llu", (unsigned long long)c->t.ofd->port->id);
	a->set = fz_pct(th, 50);
}

/* O_NONBLOCK may be set from now on: others expect EAGAIN (for good). */
static long fcntl_call(struct fz_thread *th, struct fz_call *c,
		       const struct fz_expect *e)
{
	struct fz_fcntl *a = FZ_ARGS(struct fz_fcntl, c);
	int fl = fcntl(c->t.fd, F_GETFL);

	if (a->set) {
		__atomic_store_n(&c->t.ofd->maybe_nonblock, 1, __ATOMIC_SEQ_CST);
		fl |= O_NONBLOCK;
	} else {
		fl &= ~O_NONBLOCK;
	}
	return fl < 0 || fcntl(c->t.fd, F_SETFL, fl) ? -errno : 0;
}

static void fcntl_check(struct fz_thread *th, struct fz_call *c, long ret,
			struct fz_expect *e)
{
	if (ret)
		fz_violation(th, "fcntl", "errno %d", (int)-ret);
	else
		fz_ok(th);
	fz_target_done(&c->t);
}

const struct fz_op fz_op_fcntl = {
	.name = "fcntl", .size = sizeof(struct fz_fcntl),
	.gen = fcntl_gen, .call = fcntl_call, .check = fcntl_check,
};
