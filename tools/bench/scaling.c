// SPDX-License-Identifier: GPL-2.0
/*
 * Scaling: N senders and N receivers on one channel, aggregate messages/s.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "bench.h"

struct cell scale_res[NMECH][4][MAX_REPS];

static void scale_sender(struct chan *c, int idx)
{
	const struct mech *m = c->m;
	uint64_t seq = (uint64_t)idx << 48;

	c->role = ROLE_SEND;
	m->attach(c);
	wait_go();
	while (!atomic_load_explicit(&ctl->stop, memory_order_relaxed)) {
		send_hdr(m->sbuf(c), seq++);
		m->send(c, c->size);
	}
	m->flush(c);
	_exit(0);
}

static void scale_receiver(struct chan *c, int idx)
{
	const struct mech *m = c->m;
	uint64_t n = 0, sum = 0;
	const void *p;
	size_t len;

	c->role = ROLE_RECV;
	m->attach(c);
	wait_go();
	for (;;) {
		p = m->recv(c, &len);
		if (!p)
			break;
		sum += sum_bytes(p, len);
		m->rdone(c);
		atomic_store_explicit(&ctl->cnt[idx].n, ++n, memory_order_relaxed);
	}
	sink += sum;
	_exit(0);
}

static uint64_t scale_count(int nrecv)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < nrecv; i++)
		s += atomic_load_explicit(&ctl->cnt[i].n, memory_order_relaxed);
	return s;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / NSEC), (long)(ns % NSEC) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void run_scale_cell(int mi, int ni, int rep)
{
	const struct mech *m = &mechs[mi];
	struct cell *res = &scale_res[mi][ni][rep];
	int n = O.scale_n[ni], i, nproc = 2 * n, failed;
	pid_t pids[2 * MAX_PROCS];
	char why[160] = "";
	uint64_t c0, c1, t0, t1;
	struct chan c;

	chan_init(&c, m, O.scale_size, depth_for(O.scale_size));
	c.nrecv = n;
	if (m->setup(&c, why, sizeof(why))) {
		res->status = ST_SKIP;
		snprintf(res->note, sizeof(res->note), "%s", why);
		m->teardown(&c);
		return;
	}
	reset_ctl();
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (!pids[i])
			scale_receiver(&c, i);
	}
	for (i = 0; i < n; i++) {
		pids[n + i] = fork();
		if (!pids[n + i])
			scale_sender(&c, i);
	}
	m->parent_close(&c);
	release_children(nproc);
	sleep_ns((uint64_t)(O.warm_s * NSEC));
	t0 = now_ns();
	c0 = scale_count(n);
	sleep_ns((uint64_t)(O.scale_s * NSEC));
	t1 = now_ns();
	c1 = scale_count(n);
	/* Measured: nothing after this counts, so no orderly shutdown. */
	failed = atomic_load(&ctl->failed);
	atomic_store(&ctl->stop, 1);
	for (i = 0; i < nproc; i++)
		kill(pids[i], SIGKILL);
	reap(pids, nproc, 0, O.timeout_s, why, sizeof(why));
	if (failed) {
		snprintf(why, sizeof(why), "%s", ctl->err);
	} else if (c1 > c0) {
		res->status = ST_OK;
		res->v[TM_MSGS] = (double)(c1 - c0) * NSEC / (double)(t1 - t0);
		res->v[TM_MIBS] = res->v[TM_MSGS] * (double)O.scale_size / MiB;
		snprintf(res->note, sizeof(res->note), "%s", c.note);
	} else {
		snprintf(why, sizeof(why), "no message received");
	}
	if (res->status != ST_OK) {
		res->status = ST_ERR;
		snprintf(res->note, sizeof(res->note), "%s", why);
	}
	m->teardown(&c);
}

void run_scaling(void)
{
	int list[NMECH], n = mech_list(TS, list), rep, ni, j;
	char what[32];

	for (rep = 0; rep < O.reps; rep++)
		for (ni = 0; ni < O.n_scale; ni++)
			for (j = 0; j < n; j++) {
				int mi = list[(j + rep) % n];

				run_scale_cell(mi, ni, rep);
				snprintf(what, sizeof(what), "%dx%d", O.scale_n[ni], O.scale_n[ni]);
				progress("scaling", rep, mechs[mi].name, what,
					 &scale_res[mi][ni][rep], TM_MSGS, "msg/s", 1);
			}
}
