// SPDX-License-Identifier: GPL-2.0
/*
 * Latency: ping-pong between two processes, a client and a server; every
 * sample times one round trip (or a batch of them when the clock is
 * coarse).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

struct cell lat_res[NMECH][MAX_SIZES][MAX_REPS];

uint64_t clock_cost_ns, clock_res_ns;

void measure_clock(void)
{
	double d[1001];
	struct timespec r;
	int i;

	for (i = 0; i < 1001; i++) {
		uint64_t a = now_ns(), b = now_ns();

		d[i] = (double)(b - a);
	}
	qsort(d, 1001, sizeof(d[0]), cmp_double);
	clock_cost_ns = (uint64_t)d[500];
	clock_getres(CLOCK_MONOTONIC, &r);
	clock_res_ns = (uint64_t)r.tv_sec * NSEC + (uint64_t)r.tv_nsec;
}

static void rt_once(struct chan *out, struct chan *in, size_t size, uint64_t seq)
{
	const struct mech *m = out->m;
	const void *q;
	size_t len;

	if (m->call) {
		send_hdr(out->buf, seq);
		q = m->call(out, in, size, &len);
		if (!q || recv_hdr(q, len) != seq || len != size)
			child_fail("%s: round trip %" PRIu64 " failed", m->name, seq);
		return;
	}
	send_hdr(m->sbuf(out), seq);
	m->send(out, size);
	m->flush(out);
	q = m->recv(in, &len);
	if (!q)
		child_fail("%s: peer gone", m->name);
	if (recv_hdr(q, len) != seq || len != size)
		child_fail("%s: round trip %" PRIu64 ": got seq %" PRIu64 ", %zu bytes",
			   m->name, seq, recv_hdr(q, len), len);
	m->rdone(in);
}

static void lat_client(struct chan *out, struct chan *in, size_t size, int batch)
{
	uint64_t seq = 0, t, t_end, t_cap, k = 0;
	int i, j;

	out->role = ROLE_SEND;
	in->role = ROLE_RECV;
	out->m->attach(out);
	in->m->attach(in);
	wait_go();
	for (i = 0; i < O.warm_rt; i++)
		rt_once(out, in, size, seq++);
	t_end = now_ns() + (uint64_t)(O.lat_s * NSEC);
	/* At least --min-samples, unless round trips are so slow (a busy
	 * host under -smp 2) that it would take 5 times --lat-time. */
	t_cap = t_end + (uint64_t)(4 * O.lat_s * NSEC);
	for (;;) {
		t = now_ns();
		if (k >= MAX_SAMPLES || (k >= (uint64_t)O.min_samples && t >= t_end) ||
		    (k && t >= t_cap))
			break;
		for (j = 0; j < batch; j++)
			rt_once(out, in, size, seq++);
		samples[k++] = (double)(now_ns() - t) / batch;
	}
	send_hdr(out->m->sbuf(out), FIN_SEQ);
	out->m->send(out, size);
	out->m->flush(out);
	ctl->nsamples = k;
	ctl->batch = (uint64_t)batch;
	_exit(0);
}

static void lat_server(struct chan *in, struct chan *out)
{
	const struct mech *m = in->m;
	const void *q;
	uint64_t seq;
	size_t len;

	in->role = ROLE_RECV;
	out->role = ROLE_SEND;
	in->m->attach(in);
	out->m->attach(out);
	wait_go();
	q = m->recv(in, &len);
	for (;;) {
		if (!q)
			_exit(0);
		seq = recv_hdr(q, len);
		m->rdone(in);
		if (seq == FIN_SEQ)
			_exit(0);
		if (m->call) {
			/* The reply and the wait for the next request: one call. */
			send_hdr(out->buf, seq);
			q = m->call(out, in, len, &len);
			continue;
		}
		send_hdr(m->sbuf(out), seq);
		m->send(out, len);
		m->flush(out);
		q = m->recv(in, &len);
	}
}

static double pct(const double *v, uint64_t n, double q)
{
	uint64_t r = (uint64_t)ceil(q * (double)n);

	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return v[r - 1];
}

static void run_lat_cell(int mi, int si, int rep)
{
	const struct mech *m = &mechs[mi];
	struct cell *res = &lat_res[mi][si][rep];
	size_t size = O.lat_sizes[si];
	struct chan a, b;
	char why[160] = "";
	pid_t pids[2];
	int batch = O.lat_batch;
	uint64_t n, i;
	double sum = 0;

	if (!batch)
		batch = (clock_res_ns > 1000 || clock_cost_ns > 1000) ? 16 : 1;
	chan_init(&a, m, size, 16);
	chan_init(&b, m, size, 16);
	if (m->max_size && size > m->max_size) {
		res->status = ST_SKIP;
		snprintf(res->note, sizeof(res->note), "not run above %zu bytes", m->max_size);
		return;
	}
	if (m->setup(&a, why, sizeof(why))) {
		res->status = ST_SKIP;
		snprintf(res->note, sizeof(res->note), "%s", why);
		m->teardown(&a);
		return;
	}
	if (m->setup(&b, why, sizeof(why))) {
		res->status = ST_SKIP;
		snprintf(res->note, sizeof(res->note), "%s", why);
		m->teardown(&a);
		m->teardown(&b);
		return;
	}
	reset_ctl();
	pids[0] = fork();
	if (!pids[0]) {
		pin_to(cpu_server());
		lat_server(&a, &b);
	}
	pids[1] = fork();
	if (!pids[1]) {
		pin_to(cpu_client());
		lat_client(&a, &b, size, batch);
	}
	m->parent_close(&a);
	m->parent_close(&b);
	release_children(2);
	if (reap(pids, 2, 0, O.timeout_s, why, sizeof(why))) {
		res->status = ST_ERR;
		snprintf(res->note, sizeof(res->note), "%s", why);
	} else {
		n = ctl->nsamples;
		qsort(samples, n, sizeof(samples[0]), cmp_double);
		for (i = 0; i < n; i++)
			sum += samples[i];
		res->status = ST_OK;
		res->v[LM_MIN] = samples[0];
		res->v[LM_P50] = pct(samples, n, 0.50);
		res->v[LM_P99] = pct(samples, n, 0.99);
		res->v[LM_P999] = pct(samples, n, 0.999);
		res->v[LM_MAX] = samples[n - 1];
		res->v[LM_MEAN] = sum / (double)n;
		snprintf(res->note, sizeof(res->note), "%s%s%" PRIu64 " samples x %d rt",
			 a.note, a.note[0] ? "; " : "", n, batch);
	}
	m->teardown(&a);
	m->teardown(&b);
}

void run_latency(void)
{
	int list[NMECH], n = mech_list(TL, list), rep, si, j;
	char sz[32];

	for (rep = 0; rep < O.reps; rep++)
		for (si = 0; si < O.n_lat_sizes; si++)
			for (j = 0; j < n; j++) {
				int mi = list[(j + rep) % n];

				run_lat_cell(mi, si, rep);
				progress("latency", rep, mechs[mi].name,
					 size_str(O.lat_sizes[si], sz, sizeof(sz)),
					 &lat_res[mi][si][rep], LM_P50, "us p50", 1e-3);
			}
}
