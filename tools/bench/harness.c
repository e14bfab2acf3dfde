// SPDX-License-Identifier: GPL-2.0
/*
 * What every mechanism's processes share: the control block the children
 * report through, starting them together and reaping them, the receiver's
 * work, a chan's common parts, and the table of mechanisms.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* ---- the control block, the children ------------------------------------ */

struct ctl *ctl;
double *samples;

void child_fail(const char *fmt, ...)
{
	va_list ap;
	int expected = 0;

	/* Once the measurement is over, the peer going away is expected. */
	if (atomic_load(&ctl->stop))
		_exit(0);
	va_start(ap, fmt);
	if (atomic_compare_exchange_strong(&ctl->failed, &expected, 1))
		vsnprintf(ctl->err, sizeof(ctl->err), fmt, ap);
	va_end(ap);
	atomic_store(&ctl->stop, 1);
	_exit(1);
}

void wait_go(void)
{
	atomic_fetch_add(&ctl->ready, 1);
	while (!atomic_load(&ctl->go))
		usleep(1000);
}

/*
 * Wait for the children in @pids, looking every 10 ms; kill them all if
 * one of them failed or they are not all done within @timeout_s.
 * Return: 0, or -1 if one failed or timed out.
 */
int reap(pid_t *pids, int n, int nfirst, int timeout_s, char *why, size_t len)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_s * NSEC;
	int i, status, left = n, bad = 0, first = nfirst;
	bool kill_all = false, done = false;

	for (i = 0; i < n; i++)
		if (pids[i] <= 0)
			left--;
	while (left) {
		struct timespec ts = { 0, 10000000 };

		for (i = 0; i < n; i++) {
			pid_t p;

			if (pids[i] <= 0)
				continue;
			p = waitpid(pids[i], &status, WNOHANG);
			if (p == 0)
				continue;
			/* Killed by us once the measurement was over: fine. */
			if (p == pids[i] && !done && (!WIFEXITED(status) || WEXITSTATUS(status)))
				bad = 1;
			pids[i] = 0;
			left--;
			if (i < nfirst)
				first--;
		}
		if (!left)
			break;
		/*
		 * The first @nfirst processes (the measuring ones) are done and
		 * the measurement is over: nothing the others do still counts.
		 */
		if (!done && !kill_all && nfirst && !first && atomic_load(&ctl->stop) &&
		    !atomic_load(&ctl->failed)) {
			done = true;
			for (i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
		}
		if (!kill_all && !done && (atomic_load(&ctl->failed) || now_ns() > deadline)) {
			if (!atomic_load(&ctl->failed))
				snprintf(why, len, "timed out after %d s", timeout_s);
			kill_all = true;
			for (i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
		}
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&ctl->failed)) {
		snprintf(why, len, "%s", ctl->err);
		return -1;
	}
	if (kill_all)
		return -1;
	if (bad) {
		snprintf(why, len, "a child process failed");
		return -1;
	}
	return 0;
}

void reset_ctl(void)
{
	memset(ctl, 0, sizeof(*ctl));
}

/* Start everyone, give them the go once all are ready. */
void release_children(int n)
{
	uint64_t t = now_ns();

	while (atomic_load(&ctl->ready) < n && !atomic_load(&ctl->failed)) {
		if (now_ns() - t > (uint64_t)O.timeout_s * NSEC)
			break;
		usleep(1000);
	}
	atomic_store(&ctl->go, 1);
}

int cpu_client(void)
{
	return O.pin == PIN_CROSS || O.pin == PIN_SAME ? 0 : -1;
}

int cpu_server(void)
{
	return O.pin == PIN_CROSS ? 1 : O.pin == PIN_SAME ? 0 : -1;
}

/* ---- the receiver's work ------------------------------------------------- */

volatile uint64_t sink;

/*
 * The receiver's work: read every byte it got (a 64-bit lane sum).  The
 * same function for every mechanism, unrolled to 128 bytes with SSE2 so
 * that it reads about as fast as memcpy() copies: it should not hide the
 * transport.  Aligned payloads (all but a few odd cases) take the loop
 * whose adds read memory directly.
 */
typedef uint64_t v2du __attribute__((vector_size(16)));

uint64_t sum_bytes(const void *p, size_t len)
{
	const unsigned char *c = p;
	v2du a0 = { 0, 0 }, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
	uint64_t s = 0;
	size_t i = 0;

	if (!((uintptr_t)c & 15)) {
		const v2du *v = (const v2du *)c;

		for (; i + 128 <= len; i += 128, v += 8) {
			a0 += v[0]; a1 += v[1]; a2 += v[2]; a3 += v[3];
			a4 += v[4]; a5 += v[5]; a6 += v[6]; a7 += v[7];
		}
	} else {
		for (; i + 128 <= len; i += 128) {
			v2du t[8];

			memcpy(t, c + i, sizeof(t));
			a0 += t[0]; a1 += t[1]; a2 += t[2]; a3 += t[3];
			a4 += t[4]; a5 += t[5]; a6 += t[6]; a7 += t[7];
		}
	}
	a0 += a1 + a2 + a3 + a4 + a5 + a6 + a7;
	s = a0[0] + a0[1];
	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, c + i, sizeof(w));
		s += w;
	}
	for (; i < len; i++)
		s += c[i];
	return s;
}

/* ---- channels ------------------------------------------------------------ */

void chan_init(struct chan *c, const struct mech *m, size_t size, int depth)
{
	memset(c, 0, sizeof(*c));
	c->m = m;
	c->size = size;
	c->depth = depth;
	c->batch = O.batch < depth ? O.batch : depth;
	if (c->batch < 1)
		c->batch = 1;
	c->nrecv = 1;
}

/* Messages in flight: the byte budget, 2..256 messages. */
int depth_for(size_t size)
{
	size_t d = O.inflight / size;

	if (d < 2)
		d = 2;
	if (d > 256)
		d = 256;
	return (int)d;
}

void chan_noop(struct chan *c)
{
	(void)c;
}

/* Private buffers for the process's side: n messages, stride-aligned. */
void chan_bufs(struct chan *c, int n, size_t extra)
{
	c->stride = round_up(c->size + extra, 64);
	c->buf_len = c->stride * (size_t)n;
	c->buf = alloc_buf(c->buf_len, 0x5a);
	if (!c->buf)
		child_fail("%s: cannot allocate %zu bytes", c->m->name, c->buf_len);
}

void *chan_sbuf(struct chan *c)
{
	return c->buf;
}

/*
 * A family's setup starts with this: its private state, zeroed.  Its
 * teardown ends with chan_priv_free(), which is the end of the chan.
 */
void *chan_priv_new(struct chan *c, size_t size)
{
	c->priv = calloc(1, size);
	if (!c->priv)
		die("%s: out of memory", c->m->name);
	return c->priv;
}

void chan_priv_free(struct chan *c)
{
	free(c->priv);
	c->priv = NULL;
}

/* ---- the table of mechanisms --------------------------------------------- */

/* The mechanisms (mech_*.c, throughput.c), in the order of the tables. */
static const struct mech *const mech_defs[] = {
	&mech_memcpy,
	&mech_kport, &mech_kport_rw, &mech_kport_call, &mech_kport_batch,
	&mech_kport_pool, &mech_kport_inplace, &mech_kport_zc,
	&mech_pipe, &mech_unix_stream, &mech_unix_seqpacket, &mech_seqpacket_mmsg,
	&mech_posix_mq, &mech_sysv_msg, &mech_shm_eventfd,
};

_Static_assert(sizeof(mech_defs) / sizeof(mech_defs[0]) == NMECH,
	       "NMECH is the number of mechanisms");

/*
 * The table the run uses (mechs_init()): each mechanism as defined, the
 * operations it leaves out filled in with ones that do nothing (sbuf: the
 * one private buffer), so that every cell makes the same calls whatever
 * the mechanism.
 */
struct mech mechs[NMECH];

void mechs_init(void)
{
	int i;

	for (i = 0; i < NMECH; i++) {
		struct mech *m = &mechs[i];

		*m = *mech_defs[i];
		if (!m->sbuf)
			m->sbuf = chan_sbuf;
		if (!m->flush)
			m->flush = chan_noop;
		if (!m->rdone)
			m->rdone = chan_noop;
		if (!m->parent_close)
			m->parent_close = chan_noop;
	}
}

bool mech_enabled[NMECH];

int mech_index(const char *name)
{
	int i;

	for (i = 0; i < NMECH; i++)
		if (!strcmp(mechs[i].name, name))
			return i;
	return -1;
}

int mech_list(unsigned test, int *out)
{
	int i, n = 0;

	for (i = 0; i < NMECH; i++)
		if (mech_enabled[i] && (mechs[i].tests & test))
			out[n++] = i;
	return n;
}
