// SPDX-License-Identifier: GPL-2.0
/*
 * kport-bench: kport against pipes, sockets, message queues and shared
 * memory, side by side, in one run.
 *
 *	kport-bench [OPTIONS] [latency] [throughput] [scaling]   (default: all)
 *
 * latency     ping-pong between two processes; every sample times one round
 *             trip (or a batch of them when the clock is coarse); min, p50,
 *             p99, p99.9, max.
 * throughput  one-way stream from a sender process to a receiver process
 *             that touches (sums) every byte it gets; messages/s and MiB/s;
 *             plus memcpy of the same sizes on one thread, the copy ceiling.
 * scaling     N senders and N receivers (N = 1, 2, 4) on one channel, 64 B
 *             messages, aggregate messages/s.
 *
 * Every mechanism gets the same treatment: the same message sizes, the
 * same in-flight budget (--inflight bytes, 2..256 messages), the same
 * receiver work (a sum of every byte), the same sender work (an 8-byte
 * sequence number per message, the payload prepared once; --fill writes
 * it all), the same timing.  Cells are repeated (--reps), the order
 * of the mechanisms rotated at each repetition so that drift hits all of
 * them alike, and medians are reported.  doc/bench.md is the methodology.
 *
 * Output: a table on stdout, a CSV (--csv FILE: one row per mechanism,
 * size and metric, with the median and the spread across repetitions),
 * and a summary whose last lines read
 *	target NAME: RATIO (goal OP GOAL) met|missed
 *
 * As root with --tune, the limits a user would raise for this are raised
 * for the run and restored at exit: kport's max_msg_size, max_user_bytes,
 * max_pool_size and pool_threshold (0 while pool ports are created, so
 * that every size takes the pool path), POSIX mq msgsize_max and msg_max,
 * RLIMIT_MSGQUEUE, SysV msgmax and msgmnb, pipe-max-size.  Sockets get
 * SO_SNDBUFFORCE/SO_RCVBUFFORCE when root.
 *
 * The files of tools/bench/ are listed at the top of bench.h.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kport.h"
#include "bench.h"

struct options O = {
	.label = "run",
	.reps = 3,
	.cell_s = 0.3,
	.lat_s = 0.5,
	.scale_s = 0.3,
	.warm_s = 0.05,
	.warm_rt = 1000,
	.min_msgs = 3,
	.min_samples = 1000,
	.lat_batch = 0,
	.batch = 64,
	.inflight = 16 * MiB,
	.spin = 0,
	.pin = PIN_AUTO,
	.lat_sizes = { 8, 64, 1024, 8192 },
	.n_lat_sizes = 4,
	.tput_sizes = { 64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB,
			MiB, 4 * MiB, 16 * MiB, 64 * MiB },
	.n_tput_sizes = 11,
	.scale_n = { 1, 2, 4 },
	.n_scale = 3,
	.scale_size = 64,
	.timeout_s = 120,
};

int ncpus = 1;

static size_t parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v <= 0)
		die("bad size '%s'", s);
	switch (*end) {
	case 'k': case 'K': v *= KiB; end++; break;
	case 'm': case 'M': v *= MiB; end++; break;
	case 'g': case 'G': v *= 1024.0 * MiB; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end)
		die("bad size '%s'", s);
	return (size_t)v;
}

static int parse_sizes(const char *s, size_t *out, int max)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			die("too many sizes in '%s'", s);
		out[n++] = parse_size(tok);
	}
	free(copy);
	if (!n)
		die("no sizes in '%s'", s);
	return n;
}

static double elapsed_s(uint64_t since)
{
	return (double)(now_ns() - since) / NSEC;
}

static void usage(int status)
{
	printf("usage: kport-bench [OPTIONS] [latency] [throughput] [scaling]\n"
	       "  --csv FILE          write the results as CSV\n"
	       "  --label NAME        name of this run in the CSV (default run)\n"
	       "  --reps N            repetitions, medians reported (3)\n"
	       "  --cell-time S       measured seconds per throughput cell (0.3)\n"
	       "  --lat-time S        sampling seconds per latency cell (0.5)\n"
	       "  --scale-time S      measured seconds per scaling cell (0.3)\n"
	       "  --warm-time S       warm-up seconds of a throughput/scaling cell (0.05)\n"
	       "  --warm-rt N         warm-up round trips per latency cell (1000)\n"
	       "  --min-msgs N        measured messages per throughput cell, at least (3;\n"
	       "                      and never fewer than the channel's depth + 1)\n"
	       "  --min-samples N     latency samples per cell, at least (1000)\n"
	       "  --lat-batch N       round trips per latency sample (0: 1, or 16 if the clock is coarse)\n"
	       "  --batch N           messages per batched call (64)\n"
	       "  --inflight BYTES    in-flight budget per channel (16M; 2..256 messages)\n"
	       "  --lat-sizes LIST    latency sizes (8,64,1K,8K)\n"
	       "  --sizes LIST        throughput sizes (64,256,1K,...,64M)\n"
	       "  --scale-size BYTES  scaling message size (64)\n"
	       "  --mechs LIST        only these mechanisms (see --list; memcpy is one)\n"
	       "  --pin auto|none|same|cross   CPUs of the two processes (auto: cross if 2+ CPUs)\n"
	       "  --spin N            shm ring: polls before sleeping (0)\n"
	       "  --fill              senders write the whole payload for every message\n"
	       "  --tune              as root: raise the limits for the run, restore after\n"
	       "  --timeout S         per cell (120)\n"
	       "  --quick             a short run: few sizes, 1 repetition\n"
	       "  --list              list the mechanisms\n");
	exit(status);
}

static void list_mechs(void)
{
	int i;

	for (i = 0; i < NMECH; i++)
		printf("%-15s %s%s%s  copies: %-20s %s\n", mechs[i].name,
		       mechs[i].tests & TL ? "L" : "-", mechs[i].tests & TT ? "T" : "-",
		       mechs[i].tests & TS ? "S" : "-", mechs[i].copies, mechs[i].what);
	exit(0);
}

static void parse_args(int argc, char **argv)
{
	enum { O_CSV = 256, O_LABEL, O_REPS, O_CELL, O_LAT, O_SCALE, O_WARM, O_WARMRT,
	       O_MINMSGS, O_MINSAMP, O_LATBATCH, O_BATCH, O_INFLIGHT, O_LATSIZES,
	       O_SIZES, O_SCALESIZE, O_MECHS, O_PIN, O_SPIN, O_FILL, O_TUNE, O_TIMEOUT,
	       O_QUICK, O_LIST, O_HELP };
	static const struct option lo[] = {
		{ "csv", 1, 0, O_CSV }, { "label", 1, 0, O_LABEL }, { "reps", 1, 0, O_REPS },
		{ "cell-time", 1, 0, O_CELL }, { "lat-time", 1, 0, O_LAT },
		{ "scale-time", 1, 0, O_SCALE }, { "warm-time", 1, 0, O_WARM },
		{ "warm-rt", 1, 0, O_WARMRT }, { "min-msgs", 1, 0, O_MINMSGS },
		{ "min-samples", 1, 0, O_MINSAMP }, { "lat-batch", 1, 0, O_LATBATCH },
		{ "batch", 1, 0, O_BATCH }, { "inflight", 1, 0, O_INFLIGHT },
		{ "lat-sizes", 1, 0, O_LATSIZES }, { "sizes", 1, 0, O_SIZES },
		{ "scale-size", 1, 0, O_SCALESIZE }, { "mechs", 1, 0, O_MECHS },
		{ "pin", 1, 0, O_PIN }, { "spin", 1, 0, O_SPIN }, { "fill", 0, 0, O_FILL },
		{ "tune", 0, 0, O_TUNE }, { "timeout", 1, 0, O_TIMEOUT },
		{ "quick", 0, 0, O_QUICK }, { "list", 0, 0, O_LIST }, { "help", 0, 0, O_HELP },
		{ 0, 0, 0, 0 }
	};
	bool sizes_given = false, lat_sizes_given = false;
	int c, i;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_CSV: O.csv = optarg; break;
		case O_LABEL: O.label = optarg; break;
		case O_REPS: O.reps = atoi(optarg); break;
		case O_CELL: O.cell_s = atof(optarg); break;
		case O_LAT: O.lat_s = atof(optarg); break;
		case O_SCALE: O.scale_s = atof(optarg); break;
		case O_WARM: O.warm_s = atof(optarg); break;
		case O_WARMRT: O.warm_rt = atoi(optarg); break;
		case O_MINMSGS: O.min_msgs = atoi(optarg); break;
		case O_MINSAMP: O.min_samples = atoi(optarg); break;
		case O_LATBATCH: O.lat_batch = atoi(optarg); break;
		case O_BATCH: O.batch = atoi(optarg); break;
		case O_INFLIGHT: O.inflight = parse_size(optarg); break;
		case O_LATSIZES:
			O.n_lat_sizes = parse_sizes(optarg, O.lat_sizes, MAX_SIZES);
			lat_sizes_given = true;
			break;
		case O_SIZES:
			O.n_tput_sizes = parse_sizes(optarg, O.tput_sizes, MAX_SIZES);
			sizes_given = true;
			break;
		case O_SCALESIZE: O.scale_size = parse_size(optarg); break;
		case O_MECHS: O.mechs = optarg; break;
		case O_PIN:
			if (!strcmp(optarg, "auto")) O.pin = PIN_AUTO;
			else if (!strcmp(optarg, "none")) O.pin = PIN_NONE;
			else if (!strcmp(optarg, "same")) O.pin = PIN_SAME;
			else if (!strcmp(optarg, "cross")) O.pin = PIN_CROSS;
			else die("--pin: auto, none, same or cross");
			break;
		case O_SPIN: O.spin = atoi(optarg); break;
		case O_FILL: O.fill = true; break;
		case O_TUNE: O.tune = true; break;
		case O_TIMEOUT: O.timeout_s = atoi(optarg); break;
		case O_QUICK: O.quick = true; break;
		case O_LIST: list_mechs(); break;
		case O_HELP: case 'h': usage(0); break;
		default: usage(2);
		}
	}
	for (i = optind; i < argc; i++) {
		if (!strcmp(argv[i], "latency"))
			O.do_lat = true;
		else if (!strcmp(argv[i], "throughput"))
			O.do_tput = true;
		else if (!strcmp(argv[i], "scaling"))
			O.do_scale = true;
		else if (!strcmp(argv[i], "all"))
			O.do_lat = O.do_tput = O.do_scale = true;
		else
			die("unknown test '%s' (latency, throughput, scaling, all)", argv[i]);
	}
	if (!O.do_lat && !O.do_tput && !O.do_scale)
		O.do_lat = O.do_tput = O.do_scale = true;
	if (O.quick) {
		if (!sizes_given)
			O.n_tput_sizes = parse_sizes("64,4K,1M", O.tput_sizes, MAX_SIZES);
		if (!lat_sizes_given)
			O.n_lat_sizes = parse_sizes("64", O.lat_sizes, MAX_SIZES);
		O.reps = 1;
		O.cell_s = 0.1;
		O.lat_s = 0.1;
		O.scale_s = 0.1;
		O.n_scale = 2;
	}
	if (O.reps < 1 || O.reps > MAX_REPS)
		die("--reps: 1..%d", MAX_REPS);
	if (O.batch < 1 || O.batch > KPORT_BATCH_MAX)
		die("--batch: 1..%d", KPORT_BATCH_MAX);
	if (O.min_msgs < 1)
		O.min_msgs = 1;
	if (O.min_samples < 1)
		O.min_samples = 1;
	if (O.min_samples > MAX_SAMPLES)
		O.min_samples = MAX_SAMPLES;
	for (i = 0; i < O.n_lat_sizes; i++)
		if (O.lat_sizes[i] < 8)
			die("sizes below 8 bytes cannot carry the sequence number");
	for (i = 0; i < O.n_tput_sizes; i++)
		if (O.tput_sizes[i] < 8 || O.tput_sizes[i] > 64 * MiB)
			die("throughput sizes: 8 bytes .. 64 MiB");
	for (i = 0; i < NMECH; i++)
		mech_enabled[i] = !O.mechs;
	if (O.mechs) {
		char *copy = strdup(O.mechs), *save = NULL, *tok;

		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			int mi = mech_index(tok);

			if (mi < 0)
				die("unknown mechanism '%s' (--list)", tok);
			mech_enabled[mi] = true;
		}
		free(copy);
	}
	if (O.quick && !O.mechs) {
		for (i = 0; i < NMECH; i++)
			mech_enabled[i] = false;
		mech_enabled[mech_index("memcpy")] = true;
		mech_enabled[mech_index("kport")] = true;
		mech_enabled[mech_index("kport-batch")] = true;
		mech_enabled[mech_index("kport-inplace")] = true;
		mech_enabled[mech_index("kport-zc")] = true;
		mech_enabled[mech_index("pipe")] = true;
		mech_enabled[mech_index("posix-mq")] = true;
		mech_enabled[mech_index("shm-eventfd")] = true;
	}
}

int main(int argc, char **argv)
{
	struct kport_version ver;
	struct utsname un;
	char cs[64] = "?";
	uint64_t t_start = now_ns();
	int i;

	mechs_init();
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv);
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (O.pin == PIN_AUTO)
		O.pin = ncpus >= 2 ? PIN_CROSS : PIN_NONE;

	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		   -1, 0);
	samples = mmap(NULL, sizeof(double) * MAX_SAMPLES, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED || samples == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	if (O.csv)
		csv_open(O.csv);

	/* Without the module every kport mechanism is skipped, not the run. */
	if (kport_query_version(&ver) < 0) {
		fprintf(stderr, "kport-bench: /dev/kport: %s: kport mechanisms skipped\n",
			strerror(errno));
		for (i = 0; i < NMECH; i++)
			if (mechs[i].flags & MF_KPORT)
				mech_enabled[i] = false;
	}
	restore_tuning_at_exit();
	signal(SIGPIPE, SIG_IGN);
	tune_system();
	measure_clock();
	uname(&un);
	read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource", cs,
		  sizeof(cs));

	printf("kport-bench: %s, kernel %s, %d CPU(s), clocksource %s, clock_gettime %" PRIu64
	       " ns (resolution %" PRIu64 " ns)\n", O.label, un.release, ncpus, cs,
	       clock_cost_ns, clock_res_ns);
	printf("kport-bench: %d repetitions (mechanism order rotated), medians; throughput "
	       "%.2f s per cell after %.2f s warm-up (at least %d messages); latency %.2f s "
	       "per cell after %d round trips; scaling %.2f s; in-flight %zu bytes "
	       "(2..256 messages); batch %d; pin %s; senders write %s\n", O.reps, O.cell_s,
	       O.warm_s, O.min_msgs, O.lat_s, O.warm_rt, O.scale_s, O.inflight, O.batch,
	       O.pin == PIN_CROSS ? "cross (sender/client CPU 0, receiver/server CPU 1)" :
	       O.pin == PIN_SAME ? "same CPU" : "none", O.fill ? "the whole payload" :
	       "an 8-byte header (payload prepared once)");
	csv_value("info", "kernel", 0, 0, "release", 0, "", un.release);
	csv_value("info", "clocksource", 0, 0, "name", 0, "", cs);
	csv_value("info", "cpus", 0, 0, "count", ncpus, "", "");
	csv_value("info", "clock_gettime", 0, 0, "cost_ns", (double)clock_cost_ns, "ns", cs);

	if (O.do_lat)
		run_latency();
	if (O.do_tput)
		run_throughput();
	if (O.do_scale)
		run_scaling();

	printf("\nMechanisms:\n");
	for (i = 0; i < NMECH; i++)
		if (mech_enabled[i])
			printf("  %-15s payload copies %-20s %s\n", mechs[i].name, mechs[i].copies,
			       mechs[i].what);
	if (O.do_lat)
		report_latency();
	if (O.do_tput)
		report_throughput();
	if (O.do_scale)
		report_scaling();
	compute_targets();
	csv_value("info", "elapsed", 0, 0, "seconds", elapsed_s(t_start), "s", "");
	printf("\nkport-bench: %s took %.1f s\n", O.label, elapsed_s(t_start));
	report_targets();
	csv_close();
	restore_tuning();
	return 0;
}

