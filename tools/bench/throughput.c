// SPDX-License-Identifier: GPL-2.0
/*
 * Throughput: a one-way stream from a sender process to a receiver
 * process that sums every byte it gets; and memcpy() of the same sizes on
 * one thread, the copy ceiling.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

struct cell tput_res[NMECH][MAX_SIZES][MAX_REPS];

static void tput_sender(struct chan *c, size_t size)
{
	const struct mech *m = c->m;
	uint64_t seq = 0, c0;
	void *p;

	c->role = ROLE_SEND;
	m->attach(c);
	wait_go();
	c0 = cpu_ns();
	while (!atomic_load_explicit(&ctl->stop, memory_order_relaxed)) {
		p = m->sbuf(c);
		if (O.fill)
			memset(p, (int)(seq & 0xff), size);
		send_hdr(p, seq++);
		m->send(c, size);
		/* It may be killed at any time once the receiver is done. */
		if (!(seq & 63) || size >= 64 * KiB) {
			ctl->scpu = cpu_ns() - c0;
			ctl->sent = seq;
		}
	}
	/* The receiver has measured and gone: the parent reaps us. */
	_exit(0);
}

enum { PH_WARM, PH_MEASURE };

static void tput_receiver(struct chan *c, size_t size)
{
	const struct mech *m = c->m;
	uint64_t start, now, t0 = 0, n0 = 0, cpu0 = 0, count = 0, expect = 0;
	uint64_t next = 1, last_t, last_n = 0, step, errors = 0, sum = 0, seq, csw0 = 0;
	uint64_t min_n = (uint64_t)O.min_msgs;
	uint64_t warm_ns = (uint64_t)(O.warm_s * NSEC), cell_ns = (uint64_t)(O.cell_s * NSEC);
	int phase = PH_WARM;
	const void *p;
	size_t len;

	/*
	 * At least a queue's worth and one more: the window then spans a
	 * whole cycle of the pipeline, whatever it held when the clock
	 * started.
	 */
	if (min_n < (uint64_t)c->depth + 1)
		min_n = (uint64_t)c->depth + 1;
	c->role = ROLE_RECV;
	m->attach(c);
	wait_go();
	start = last_t = now_ns();
	for (;;) {
		p = m->recv(c, &len);
		if (!p)
			break;
		seq = recv_hdr(p, len);
		if (seq != expect || len != size)
			errors++;
		expect = seq + 1;
		sum += sum_bytes(p, len);
		m->rdone(c);
		if (++count < next)
			continue;
		now = now_ns();
		if (phase == PH_WARM && now - start >= warm_ns) {
			phase = PH_MEASURE;
			t0 = now;
			n0 = count;
			cpu0 = cpu_ns();
			csw0 = ctx_switches();
		} else if (phase == PH_MEASURE && now - t0 >= cell_ns &&
			   count - n0 >= min_n) {
			ctl->t0 = t0;
			ctl->t1 = now;
			ctl->n = count - n0;
			ctl->rcpu = cpu_ns() - cpu0;
			ctl->rcsw = ctx_switches() - csw0;
			ctl->errors = errors;
			sink += sum;
			/*
			 * Done: no draining.  The parent kills the sender, and
			 * the kernel cleans up what was in flight.
			 */
			atomic_store(&ctl->stop, 1);
			_exit(0);
		}
		/* Look at the clock about every millisecond. */
		step = now > last_t ? (count - last_n) * 1000000 / (now - last_t) : 1;
		if (step < 1)
			step = 1;
		if (step > 4096)
			step = 4096;
		next = count + step;
		last_t = now;
		last_n = count;
	}
	child_fail("%s: stream ended early (%" PRIu64 " messages)", m->name, count);
}

static double memcpy_rate(size_t size, double *msgs)
{
	char *src = alloc_buf(size, 0x5a), *dst = alloc_buf(size, 0);
	uint64_t t0, t, n = 0, warm = now_ns() + (uint64_t)(O.warm_s * NSEC);
	uint64_t cell = (uint64_t)(O.cell_s * NSEC), k = 1, i;
	double r;

	if (!src || !dst)
		die("memcpy: cannot allocate %zu bytes", size);
	while (now_ns() < warm) {
		memcpy(dst, src, size);
		sink += (uint64_t)dst[size - 1];
	}
	t0 = now_ns();
	for (;;) {
		for (i = 0; i < k; i++) {
			memcpy(dst, src, size);
			sink += (uint64_t)dst[size / 2];
		}
		n += k;
		t = now_ns();
		if (t - t0 >= cell && n >= (uint64_t)O.min_msgs)
			break;
		if (t - t0 < cell / 100 && k < 65536)
			k *= 2;
	}
	r = (double)n * NSEC / (double)(t - t0);
	free_buf(src, size);
	free_buf(dst, size);
	*msgs = r;
	return r * (double)size / MiB;
}

const struct mech mech_memcpy = {
	.name = "memcpy", .what = "memcpy() of the same size on one thread: the copy ceiling",
	.tests = TT, .flags = MF_MEMCPY, .copies = "1 (user)",
};

static void run_tput_cell(int mi, int si, int rep)
{
	const struct mech *m = &mechs[mi];
	struct cell *res = &tput_res[mi][si][rep];
	size_t size = O.tput_sizes[si];
	struct chan c;
	char why[160] = "";
	pid_t pids[2];
	double secs;

	res->status = ST_NONE;
	if (m->flags & MF_MEMCPY) {
		res->v[TM_MIBS] = memcpy_rate(size, &res->v[TM_MSGS]);
		res->v[TM_SCPU] = res->v[TM_RCPU] = NSEC / res->v[TM_MSGS];
		res->v[TM_RCSW] = 0;
		res->status = ST_OK;
		return;
	}
	if (m->max_size && size > m->max_size) {
		res->status = ST_SKIP;
		snprintf(res->note, sizeof(res->note), "not run above %zu bytes (batching is for small messages)",
			 m->max_size);
		return;
	}
	chan_init(&c, m, size, depth_for(size));
	if (m->setup(&c, why, sizeof(why))) {
		res->status = ST_SKIP;
		snprintf(res->note, sizeof(res->note), "%s", why);
		m->teardown(&c);
		return;
	}
	reset_ctl();
	pids[0] = fork();
	if (!pids[0]) {
		pin_to(cpu_server());
		tput_receiver(&c, size);
	}
	pids[1] = fork();
	if (!pids[1]) {
		pin_to(cpu_client());
		tput_sender(&c, size);
	}
	m->parent_close(&c);
	release_children(2);
	if (reap(pids, 2, 1, O.timeout_s, why, sizeof(why))) {
		res->status = ST_ERR;
		snprintf(res->note, sizeof(res->note), "%s", why);
	} else if (!ctl->n) {
		res->status = ST_ERR;
		snprintf(res->note, sizeof(res->note), "no measurement");
	} else if (ctl->errors) {
		res->status = ST_ERR;
		snprintf(res->note, sizeof(res->note), "%" PRIu64 " messages out of sequence",
			 ctl->errors);
	} else {
		secs = (double)(ctl->t1 - ctl->t0) / NSEC;
		res->status = ST_OK;
		res->v[TM_MSGS] = (double)ctl->n / secs;
		res->v[TM_MIBS] = res->v[TM_MSGS] * (double)size / MiB;
		res->v[TM_RCPU] = (double)ctl->rcpu / (double)ctl->n;
		res->v[TM_SCPU] = ctl->sent ? (double)ctl->scpu / (double)ctl->sent : NAN;
		res->v[TM_RCSW] = (double)ctl->rcsw / (double)ctl->n;
		snprintf(res->note, sizeof(res->note), "%s%sdepth %d, %" PRIu64 " msgs in %.3f s",
			 c.note, c.note[0] ? "; " : "", c.depth, ctl->n, secs);
	}
	m->teardown(&c);
}

void run_throughput(void)
{
	int list[NMECH], n = mech_list(TT, list), rep, si, j;
	char sz[32];

	for (rep = 0; rep < O.reps; rep++)
		for (si = 0; si < O.n_tput_sizes; si++)
			for (j = 0; j < n; j++) {
				int mi = list[(j + rep) % n];

				run_tput_cell(mi, si, rep);
				progress("throughput", rep, mechs[mi].name,
					 size_str(O.tput_sizes[si], sz, sizeof(sz)),
					 &tput_res[mi][si][rep], TM_MIBS, "MiB/s", 1);
			}
}
