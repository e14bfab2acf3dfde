// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's verdicts: whether a result is one the contract allows
 * (fz_check()), what a successful call returned measured against the
 * model (fz_check_stat() and the others), and the record of violations:
 * the first few of each kind printed with everything needed to reproduce
 * them, all of them counted.
 */
#include "fuzz.h"

#include <stdarg.h>

static const int fz_errnos[] = {
	0, EPERM, ENOENT, ESRCH, EINTR, EBADF, EAGAIN, ENOMEM, EACCES, EFAULT,
	EBUSY, EEXIST, ENODEV, EINVAL, ENOSPC, ENOTTY, E2BIG, EMSGSIZE, ENOBUFS,
	ETIMEDOUT, EIDRM, EOPNOTSUPP,
};
#define FZ_NR_ERRNOS	(sizeof(fz_errnos) / sizeof(fz_errnos[0]))
#define FZ_OTHER	31

static int fz_bit(long ret)
{
	size_t i;

	if (ret >= 0)
		return FZE_OK;
	for (i = 1; i < FZ_NR_ERRNOS; i++)
		if (-ret == fz_errnos[i])
			return (int)i;
	return FZ_OTHER;
}

static void fz_mask_str(uint32_t mask, char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < FZ_NR_ERRNOS && n + 16 < size; i++) {
		if (!(mask & (1U << i)))
			continue;
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "," : "",
				      i ? strerrorname_np(fz_errnos[i]) : "ok");
	}
}

/* ---- Reporting -------------------------------------------------------------------- */

/*
 * Record a violation of kind (@op, @key, @bit, @allowed); the first few of
 * each kind are printed with the seed, thread, operation number and the
 * operation's arguments.
 */
static void fz_record(struct fz_thread *th, const char *op, const void *key,
		      int bit, uint32_t allowed, const char *msg)
{
	struct fz_result *res = th->run->res;
	struct fz_sig *sig = NULL;
	int n, i;

	pthread_mutex_lock(&th->run->report_lock);
	n = res->violations++;
	for (i = 0; i < res->nsigs; i++) {
		struct fz_sig *x = &res->sigs[i];

		if (x->key == key && x->bit == bit && x->allowed == allowed &&
		    !strcmp(x->op, op)) {
			sig = x;
			break;
		}
	}
	if (!sig && res->nsigs < FZ_SIGS) {
		sig = &res->sigs[res->nsigs++];
		snprintf(sig->op, sizeof(sig->op), "%s", op);
		sig->key = key;
		sig->bit = bit;
		sig->allowed = allowed;
		snprintf(sig->example, sizeof(sig->example),
			 "seed %llu thread %d op %llu: %s [%s%s]",
			 (unsigned long long)th->run->seed, th->idx,
			 (unsigned long long)th->n, msg, th->desc,
			 th->resv ? ", a reserved word set" : "");
	}
	if (n == 0)
		snprintf(res->first, sizeof(res->first),
			 "seed %llu thread %d op %llu %s: %s",
			 (unsigned long long)th->run->seed, th->idx,
			 (unsigned long long)th->n, op, msg);
	if (!sig || sig->count++ < FZ_SIG_PRINT)
		fprintf(stderr, "# fuzz VIOLATION seed=%llu thread=%d op=%llu %s: %s [%s%s]\n",
			(unsigned long long)th->run->seed, th->idx,
			(unsigned long long)th->n, op, msg, th->desc,
			th->resv ? ", a reserved word set" : "");
	pthread_mutex_unlock(&th->run->report_lock);
}

void fz_violation(struct fz_thread *th, const char *op, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fz_record(th, op, fmt, -1, 0, msg);
}

/* ---- Results ------------------------------------------------------------------------ */

static uint32_t fz_allowed(const struct fz_expect *e)
{
	if (e->excl)
		return e->excl;
	if (e->early)
		return e->early | e->late;
	if (e->late)
		return e->late | (e->state & ~B(OK));
	return e->state | B(OK);
}

/* Check @ret against @e; true if it was allowed. */
bool fz_check(struct fz_thread *th, const char *op, long ret,
	      const struct fz_expect *e)
{
	uint32_t allowed = fz_allowed(e);
	int bit = fz_bit(ret);
	char want[256];

	if (bit != FZ_OTHER && (allowed & (1U << bit))) {
		if (ret >= 0) {
			__atomic_fetch_add(&th->run->res->successes, 1,
					   __ATOMIC_RELAXED);
			__atomic_fetch_add(&th->run->res->op_ok[th->cur_op], 1,
					   __ATOMIC_RELAXED);
		}
		return true;
	}
	{
		char msg[320];

		fz_mask_str(allowed, want, sizeof(want));
		snprintf(msg, sizeof(msg), "returned %ld (%s), allowed {%s}", ret,
			 ret >= 0 ? "ok" : strerrorname_np((int)-ret) ?: "?", want);
		fz_record(th, op, NULL, bit, allowed, msg);
	}
	return false;
}

/* An operation that is not checked through fz_check() went well. */
void fz_ok(struct fz_thread *th)
{
	__atomic_fetch_add(&th->run->res->op_ok[th->cur_op], 1, __ATOMIC_RELAXED);
}

/* ---- What a call returned, against the model ----------------------------------------- */

void fz_check_handle_fd(struct fz_thread *th, const char *op, int fd,
			bool nonblock)
{
	int fdfl = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL);

	if (fdfl < 0 || !(fdfl & FD_CLOEXEC) || fl < 0 ||
	    !!(fl & O_NONBLOCK) != nonblock)
		fz_violation(th, op, "new descriptor: FD flags %#x, file flags %#x, O_NONBLOCK wanted %d",
			     fdfl, fl, nonblock);
}

/* A stat through @o: attributes as the port was made, counters sane. */
void fz_check_stat(struct fz_thread *th, const char *op, const struct fz_ofd *o,
		   const struct kport_stat *st)
{
	struct fz_run *run = th->run;
	const struct fz_port *p = o->port;
	bool dead = st->status & KPORT_STATUS_DEAD;

	if (!p)
		return;
	if (st->id != p->id || st->capacity != p->capacity ||
	    st->msg_size != p->msg_size || st->port_flags != p->flags ||
	    st->mode != p->mode || st->pool_size != p->pool_size ||
	    st->uid != p->uid || st->rights != o->rights || !st->handles ||
	    st->pool_threshold != p->threshold || st->owner_pid != p->owner_pid)
		fz_violation(th, op, "stat: id %llu/%llu capacity %u/%u msg_size %u/%u flags %#llx/%#llx mode %o/%o pool %llu/%llu uid %u/%u rights %u/%u handles %u threshold %u/%u owner %d/%d",
			     (unsigned long long)st->id, (unsigned long long)p->id,
			     st->capacity, p->capacity, st->msg_size, p->msg_size,
			     (unsigned long long)st->port_flags,
			     (unsigned long long)p->flags, st->mode, p->mode,
			     (unsigned long long)st->pool_size,
			     (unsigned long long)p->pool_size, st->uid, p->uid,
			     st->rights, o->rights, st->handles, st->pool_threshold,
			     p->threshold, st->owner_pid, p->owner_pid);
	if (st->status & ~KPORT_STATUS_DEAD)
		fz_violation(th, op, "stat: status %#x", st->status);
	if (dead && !fz_port_maybe_dead(run, p))
		fz_violation(th, op, "stat: port %llu DEAD though nobody deleted it",
			     (unsigned long long)p->id);
	if (dead && (st->nr_msgs || st->bytes || st->send_waiters || st->recv_waiters))
		fz_violation(th, op, "stat: dead port with %u messages, %llu bytes, %u/%u waiters",
			     st->nr_msgs, (unsigned long long)st->bytes,
			     st->send_waiters, st->recv_waiters);
	if (st->nr_msgs < st->send_waiters ||
	    st->bytes > (uint64_t)st->nr_msgs * p->msg_size ||
	    st->pool_used > st->pool_size ||
	    (!p->pool_size && (st->pool_used || st->slices_held)) ||
	    st->__reserved[0] || st->__reserved[1] || st->__reserved[2])
		fz_violation(th, op, "stat: %u messages %llu bytes %u blocked senders, pool %llu/%llu, %u slices",
			     st->nr_msgs, (unsigned long long)st->bytes,
			     st->send_waiters, (unsigned long long)st->pool_used,
			     (unsigned long long)st->pool_size, st->slices_held);
}

/* A received message: size, identity, payload. */
void fz_check_received(struct fz_thread *th, const char *op,
		       const struct fz_port *p, const struct kport_msg *m,
		       const char *payload, size_t len, bool check_pid)
{
	if (len > p->msg_size ||
	    ((p->flags & KPORT_CREATE_FIXED) && len != p->msg_size))
		fz_violation(th, op, "received %zu bytes from a port of msg_size %u",
			     len, p->msg_size);
	if (m && (m->priority >= KPORT_PRIO_MAX ||
		  (check_pid && m->pid != th->run->self) ||
		  m->uid != th->run->euid))
		fz_violation(th, op, "received priority %u pid %d uid %u (we are %d, uid %u)",
			     m->priority, m->pid, m->uid, th->run->self,
			     th->run->euid);
	/* Only the kernel writes the messages of a port that is not zero-copy. */
	if (payload && !fz_port_zc(p)) {
		size_t bad = fz_check_pat(payload, len);

		if (bad)
			fz_violation(th, op, "payload of %zu bytes differs at %zu",
				     len, bad - 1);
	}
}

void fz_check_revents(struct fz_thread *th, const char *op,
		      const struct fz_ofd *o, unsigned int rev)
{
	unsigned int ok = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLHUP;

	if ((rev & ~ok) ||
	    ((rev & POLLHUP) && (rev & ~POLLHUP)) ||
	    ((rev & POLLHUP) && o && !fz_port_maybe_dead(th->run, o->port)))
		fz_violation(th, op, "revents %#x on port %llu", rev,
			     o ? (unsigned long long)o->port->id : 0ULL);
}
