// SPDX-License-Identifier: GPL-2.0
/*
 * The results: medians over the repetitions, the tables on stdout and the
 * CSV (one row per mechanism, size and metric).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

struct stat3 summarize(struct cell *reps, int k)
{
	struct stat3 s = { 0, ST_NONE, "", NAN, NAN, NAN };
	double v[MAX_REPS];
	int i;

	for (i = 0; i < O.reps; i++) {
		if (reps[i].status == ST_OK) {
			v[s.n++] = reps[i].v[k];
			if (reps[i].note[0])
				s.note = reps[i].note;
		} else if (s.status == ST_NONE || (s.status == ST_SKIP &&
						    reps[i].status == ST_ERR)) {
			s.status = reps[i].status;
			s.note = reps[i].note;
		}
	}
	if (!s.n)
		return s;
	s.status = ST_OK;
	qsort(v, (size_t)s.n, sizeof(v[0]), cmp_double);
	s.med = s.n % 2 ? v[s.n / 2] : (v[s.n / 2 - 1] + v[s.n / 2]) / 2;
	s.min = v[0];
	s.max = v[s.n - 1];
	return s;
}

void progress(const char *test, int rep, const char *mech, const char *what,
		     const struct cell *r, int k, const char *unit, double scale)
{
	fprintf(stderr, "# %-10s rep %d %-15s %-6s ", test, rep + 1, mech, what);
	if (r->status == ST_OK)
		fprintf(stderr, "%12.2f %s\n", r->v[k] * scale, unit);
	else
		fprintf(stderr, "%s: %s\n", r->status == ST_SKIP ? "skip" : "ERROR", r->note);
}

static FILE *csv;

void csv_open(const char *path)
{
	csv = fopen(path, "w");
	if (!csv)
		die("%s: %s", path, strerror(errno));
	fprintf(csv, "pass,test,mech,size,procs,metric,median,min,max,n,unit,note\n");
}

void csv_close(void)
{
	if (csv && fclose(csv))
		die("%s: %s", O.csv, strerror(errno));
}

static void csv_row(const char *test, const char *mech, size_t size, int procs,
		    const char *metric, const struct stat3 *s, const char *unit)
{
	char note[200];
	size_t i, j = 0;

	if (!csv)
		return;
	/* No commas or quotes inside the note: keep the CSV trivial. */
	for (i = 0; s->note && s->note[i] && j < sizeof(note) - 1; i++)
		note[j++] = (s->note[i] == ',' || s->note[i] == '"') ? ';' : s->note[i];
	note[j] = 0;
	if (s->status == ST_OK)
		fprintf(csv, "%s,%s,%s,%zu,%d,%s,%.6g,%.6g,%.6g,%d,%s,%s\n", O.label, test,
			mech, size, procs, metric, s->med, s->min, s->max, s->n, unit, note);
	else
		fprintf(csv, "%s,%s,%s,%zu,%d,%s,,,,0,%s,%s\n", O.label, test, mech, size,
			procs, s->status == ST_SKIP ? "skip" : s->status == ST_ERR ? "error" :
			"none", unit, note);
}

void csv_value(const char *test, const char *mech, size_t size, int procs,
		      const char *metric, double v, const char *unit, const char *note)
{
	struct stat3 s = { 1, ST_OK, note, v, v, v };

	csv_row(test, mech, size, procs, metric, &s, unit);
}

static double spread_pct(const struct stat3 *s)
{
	return s->n > 1 && s->med > 0 ? 100.0 * (s->max - s->min) / s->med : 0;
}

void report_latency(void)
{
	static const char *names[] = { "min", "p50", "p99", "p99.9", "max", "mean" };
	int list[NMECH], n = mech_list(TL, list), si, j, k;
	char sz[32];

	printf("\n== Round-trip latency, ping-pong between two processes (us; median of %d "
	       "repetitions) ==\n", O.reps);
	printf("%-6s %-15s %9s %9s %9s %9s %9s %8s %7s\n", "size", "mechanism", "min", "p50",
	       "p99", "p99.9", "max", "p50/best", "spread");
	for (si = 0; si < O.n_lat_sizes; si++) {
		double best = INFINITY;

		for (j = 0; j < n; j++) {
			struct stat3 s = summarize(lat_res[list[j]][si], LM_P50);

			if ((mechs[list[j]].flags & MF_PEER) && s.status == ST_OK && s.med < best)
				best = s.med;
		}
		for (j = 0; j < n; j++) {
			int mi = list[j];
			struct stat3 s[LM_N];

			for (k = 0; k < LM_N; k++) {
				s[k] = summarize(lat_res[mi][si], k);
				csv_row("latency", mechs[mi].name, O.lat_sizes[si], 2, names[k],
					&s[k], "ns");
			}
			printf("%-6s %-15s ", size_str(O.lat_sizes[si], sz, sizeof(sz)),
			       mechs[mi].name);
			if (s[0].status != ST_OK) {
				printf("%s: %s\n", s[0].status == ST_SKIP ? "skip" : "ERROR",
				       s[0].note);
				continue;
			}
			for (k = 0; k < LM_MEAN; k++)
				printf("%9.2f ", s[k].med / 1000);
			printf("%8.2f %6.1f%%\n", s[LM_P50].med / best, spread_pct(&s[LM_P50]));
		}
	}
}

void report_throughput(void)
{
	int list[NMECH], n = mech_list(TT, list), si, j, mc = mech_index("memcpy");
	char sz[32];

	printf("\n== One-way throughput, receiver reads every byte (median of %d "
	       "repetitions) ==\n", O.reps);
	printf("%-6s %-15s %12s %10s %8s %7s %9s %9s %6s  %s\n", "size", "mechanism", "msgs/s",
	       "MiB/s", "/memcpy", "spread", "snd ns/m", "rcv ns/m", "csw/m", "copies");
	for (si = 0; si < O.n_tput_sizes; si++) {
		struct stat3 ms = summarize(tput_res[mc][si], TM_MIBS);

		for (j = 0; j < n; j++) {
			int mi = list[j];
			const struct mech *m = &mechs[mi];
			struct stat3 msgs = summarize(tput_res[mi][si], TM_MSGS);
			struct stat3 mibs = summarize(tput_res[mi][si], TM_MIBS);
			struct stat3 scpu = summarize(tput_res[mi][si], TM_SCPU);
			struct stat3 rcpu = summarize(tput_res[mi][si], TM_RCPU);
			struct stat3 rcsw = summarize(tput_res[mi][si], TM_RCSW);
			size_t size = O.tput_sizes[si];

			csv_row("throughput", m->name, size, 2, "msgs_per_s", &msgs, "1/s");
			csv_row("throughput", m->name, size, 2, "mib_per_s", &mibs, "MiB/s");
			csv_row("throughput", m->name, size, 2, "send_cpu_ns_per_msg", &scpu, "ns");
			csv_row("throughput", m->name, size, 2, "recv_cpu_ns_per_msg", &rcpu, "ns");
			csv_row("throughput", m->name, size, 2, "recv_csw_per_msg", &rcsw, "1");
			if (mibs.status == ST_OK)
				csv_value("throughput", m->name, size, 2, "copied_bytes_per_msg",
					  (double)size * (m->flags & MF_MEMCPY ? 1 : m->kcopies),
					  "B", m->copies);
			printf("%-6s %-15s ", size_str(size, sz, sizeof(sz)), m->name);
			if (mibs.status != ST_OK) {
				printf("%s: %s\n", mibs.status == ST_SKIP ? "skip" : "ERROR",
				       mibs.note);
				continue;
			}
			printf("%12.0f %10.1f %8.2f %6.1f%% %9.0f %9.0f %6.2f  %s\n", msgs.med,
			       mibs.med, ms.status == ST_OK ? mibs.med / ms.med : NAN,
			       spread_pct(&mibs), scpu.med, rcpu.med, rcsw.med, m->copies);
		}
	}
}

void report_scaling(void)
{
	int list[NMECH], n = mech_list(TS, list), ni, j;
	char sz[32];

	printf("\n== Scaling: N senders and N receivers on one channel, %s messages "
	       "(msgs/s, median of %d) ==\n", size_str(O.scale_size, sz, sizeof(sz)), O.reps);
	printf("%-15s", "mechanism");
	for (ni = 0; ni < O.n_scale; ni++)
		printf(" %9dx%d", O.scale_n[ni], O.scale_n[ni]);
	printf("\n");
	for (j = 0; j < n; j++) {
		int mi = list[j];

		printf("%-15s", mechs[mi].name);
		for (ni = 0; ni < O.n_scale; ni++) {
			struct stat3 s = summarize(scale_res[mi][ni], TM_MSGS);

			csv_row("scaling", mechs[mi].name, O.scale_size, 2 * O.scale_n[ni],
				"msgs_per_s", &s, "1/s");
			if (s.status == ST_OK)
				printf(" %11.0f", s.med);
			else
				printf(" %11s", s.status == ST_SKIP ? "skip" : "ERROR");
		}
		printf("\n");
	}
	for (j = 0; j < n; j++)
		for (ni = 0; ni < O.n_scale; ni++) {
			struct stat3 s = summarize(scale_res[list[j]][ni], TM_MSGS);

			if (s.status != ST_OK && s.status != ST_NONE)
				printf("  %s %dx%d: %s\n", mechs[list[j]].name, O.scale_n[ni],
				       O.scale_n[ni], s.note);
		}
}
