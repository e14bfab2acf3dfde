// SPDX-License-Identifier: GPL-2.0
/*
 * The targets: ratios of medians against the goals of doc/bench.md, and
 * the summary whose last lines read
 *	target NAME: RATIO (goal OP GOAL) met|missed
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "bench.h"

static int lat_size_index(size_t size)
{
	int i;

	for (i = 0; i < O.n_lat_sizes; i++)
		if (O.lat_sizes[i] == size)
			return i;
	return -1;
}

static int tput_size_index(size_t size)
{
	int i;

	for (i = 0; i < O.n_tput_sizes; i++)
		if (O.tput_sizes[i] == size)
			return i;
	return -1;
}

static double tput_med(const char *mech, size_t size, int k)
{
	int mi = mech_index(mech), si = tput_size_index(size);
	struct stat3 s;

	if (mi < 0 || si < 0 || !mech_enabled[mi])
		return NAN;
	s = summarize(tput_res[mi][si], k);
	return s.status == ST_OK ? s.med : NAN;
}

/* The best copying peer at @size (MiB/s), its name in *@who. */
static double best_copying(size_t size, const char **who)
{
	double best = NAN, v;
	int i;

	*who = "none";
	for (i = 0; i < NMECH; i++) {
		if (!(mechs[i].flags & MF_COPYING) || !(mechs[i].tests & TT))
			continue;
		v = tput_med(mechs[i].name, size, TM_MIBS);
		if (!isnan(v) && (isnan(best) || v > best)) {
			best = v;
			*who = mechs[i].name;
		}
	}
	return best;
}

struct target {
	char name[64];
	double ratio;
	bool le;		/* goal is ratio <= goal (else >=, or > if strict) */
	bool strict;
	double goal;
	char how[160];
};

static struct target targets[16];
static int ntargets;

static void add_target(const char *name, double ratio, bool le, bool strict, double goal,
		       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void add_target(const char *name, double ratio, bool le, bool strict, double goal,
		       const char *fmt, ...)
{
	struct target *t = &targets[ntargets++];
	va_list ap;

	snprintf(t->name, sizeof(t->name), "%s", name);
	t->ratio = ratio;
	t->le = le;
	t->strict = strict;
	t->goal = goal;
	va_start(ap, fmt);
	vsnprintf(t->how, sizeof(t->how), fmt, ap);
	va_end(ap);
}

static bool target_met(const struct target *t)
{
	if (isnan(t->ratio))
		return false;
	if (t->le)
		return t->strict ? t->ratio < t->goal : t->ratio <= t->goal;
	return t->strict ? t->ratio > t->goal : t->ratio >= t->goal;
}

void compute_targets(void)
{
	int si = lat_size_index(64), i;
	const char *who = "none";
	double best = NAN;
	char name[64], sz[32];
	size_t sizes[2] = { MiB, 64 * MiB };

	/*
	 * 1. 64 B round trip p50: kport's best way of doing a round trip
	 * (send and receive, read/write, or request-reply) below every peer.
	 */
	if (si >= 0 && O.do_lat) {
		double kbest = NAN;
		const char *kwho = "kport";

		for (i = 0; i < NMECH; i++) {
			struct stat3 s;

			if (!(mechs[i].flags & (MF_PEER | MF_KPORT)) ||
			    !(mechs[i].tests & TL) || !mech_enabled[i])
				continue;
			s = summarize(lat_res[i][si], LM_P50);
			if (s.status != ST_OK)
				continue;
			if ((mechs[i].flags & MF_KPORT) && (isnan(kbest) || s.med < kbest)) {
				kbest = s.med;
				kwho = mechs[i].name;
			}
			if ((mechs[i].flags & MF_PEER) && (isnan(best) || s.med < best)) {
				best = s.med;
				who = mechs[i].name;
			}
		}
		add_target("rt-64B-p50-vs-best-peer", kbest / best, true, false, 0.9,
			   "%s %.2f us / %s %.2f us", kwho, kbest / 1000, who, best / 1000);
	}
	/* 2. Small messages, batched: against mq and pipe. */
	if (O.do_tput) {
		double kb = tput_med("kport-batch", 64, TM_MSGS);
		double mq = tput_med("posix-mq", 64, TM_MSGS);
		double pp = tput_med("pipe", 64, TM_MSGS);

		add_target("tput-64B-batch-vs-posix-mq", kb / mq, false, false, 1.5,
			   "kport-batch %.0f / posix-mq %.0f msgs/s", kb, mq);
		add_target("tput-64B-batch-vs-pipe", kb / pp, false, false, 1.5,
			   "kport-batch %.0f / pipe %.0f msgs/s", kb, pp);
		/* 3. Large messages through the pool; 4. zero-copy above memcpy. */
		for (i = 0; i < 2; i++) {
			double pool = tput_med("kport-inplace", sizes[i], TM_MIBS);
			double mc = tput_med("memcpy", sizes[i], TM_MIBS);
			double bc = best_copying(sizes[i], &who);
			double zc = tput_med("kport-zc", sizes[i], TM_MIBS);

			snprintf(sz, sizeof(sz), "%zuMiB", sizes[i] / MiB);
			snprintf(name, sizeof(name), "pool-%s-vs-best-copying-peer", sz);
			add_target(name, pool / bc, false, false, 2.0,
				   "kport-inplace %.1f / %s %.1f MiB/s", pool, who, bc);
			snprintf(name, sizeof(name), "pool-%s-vs-memcpy", sz);
			add_target(name, pool / mc, false, false, 0.8,
				   "kport-inplace %.1f / memcpy %.1f MiB/s", pool, mc);
			snprintf(name, sizeof(name), "zerocopy-%s-vs-memcpy", sz);
			add_target(name, zc / mc, false, true, 1.0,
				   "kport-zc %.1f / memcpy %.1f MiB/s", zc, mc);
		}
	}
}

void report_targets(void)
{
	int i;
	size_t sizes[2] = { MiB, 64 * MiB };
	char sz[32];

	printf("\n== Summary (%s) ==\n", O.label);
	/* Context for the pool targets: the plain receive, and the other paths. */
	for (i = 0; O.do_tput && i < 2; i++) {
		const char *who;
		double bc = best_copying(sizes[i], &who);
		double mc = tput_med("memcpy", sizes[i], TM_MIBS);
		double pl = tput_med("kport-pool", sizes[i], TM_MIBS);
		double kp = tput_med("kport", sizes[i], TM_MIBS);

		snprintf(sz, sizeof(sz), "%zuMiB", sizes[i] / MiB);
		printf("note %s: kport-pool (plain receive) %.1f MiB/s = %.2fx %s, %.2fx memcpy; "
		       "kport inline %.1f MiB/s = %.2fx %s\n", sz, pl, pl / bc, who, pl / mc,
		       kp, kp / bc, who);
	}
	for (i = 0; i < ntargets; i++) {
		struct target *t = &targets[i];
		char goal[32];

		snprintf(goal, sizeof(goal), "%s%.2f",
			 t->le ? (t->strict ? "<" : "<=") : (t->strict ? ">" : ">="), t->goal);
		printf("note %s: %s\n", t->name, t->how);
		/* The row carries all of the target line: report.py prints it. */
		csv_value("target", t->name, 0, 0, target_met(t) ? "met" : "missed", t->ratio,
			  goal, t->how);
	}
	for (i = 0; i < ntargets; i++) {
		struct target *t = &targets[i];

		/* Two decimals, three where two would round onto the goal. */
		printf("target %s: %.*f (goal %s %.2f) %s\n", t->name,
		       fabs(t->ratio - t->goal) < 0.005 ? 3 : 2, t->ratio,
		       t->le ? (t->strict ? "<" : "<=") : (t->strict ? ">" : ">="), t->goal,
		       target_met(t) ? "met" : "missed");
	}
}
