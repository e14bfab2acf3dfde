/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kport-bench's own header: what its files share.  main.c has the
 * overview; doc/bench.md is the methodology.
 *
 *   main.c        the options, the order of the run, the header lines
 *   util.c        small helpers: sizes, buffers, files, clocks, CPUs
 *   tune.c        the system limits raised for the run, restored at exit
 *   harness.c     the control block shared with the children, starting and
 *                 reaping them; channels; the table of mechanisms
 *   mech_kport.c  kport's mechanisms
 *   mech_fd.c     pipes and UNIX socketpairs
 *   mech_mq.c     POSIX message queues
 *   mech_sysv.c   SysV message queues
 *   mech_shm.c    the shared-memory ring with eventfd wake-ups
 *   latency.c throughput.c scaling.c
 *                 the three tests: their processes, cells and results
 *   report.c      medians, the tables on stdout, the CSV
 *   targets.c     the targets and the summary
 *
 * A family of mechanisms (mech_*.c) keeps its state in a struct of its
 * own, which only its file knows (struct chan's priv), and defines each
 * of its mechanisms as a struct mech; harness.c lists them.
 */
#ifndef KPORT_BENCH_H
#define KPORT_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#define KiB		1024UL
#define MiB		(1024UL * 1024UL)
#define NSEC		1000000000ULL
#define FIN_SEQ		UINT64_MAX	/* latency: the client is done */
#define MAX_PROCS	8
#define MAX_REPS	15
#define MAX_SIZES	16
#define MAX_SAMPLES	400000
#define PAGE		4096UL

/* ---- options (main.c) ------------------------------------------------------ */

enum pin_mode { PIN_AUTO, PIN_NONE, PIN_SAME, PIN_CROSS };

struct options {
	const char *csv;
	const char *label;
	int reps;
	double cell_s;		/* measured time per throughput cell */
	double lat_s;		/* sampling time per latency cell */
	double scale_s;		/* measured time per scaling cell */
	double warm_s;		/* throughput/scaling warm-up */
	int warm_rt;		/* latency warm-up round trips */
	int min_msgs;		/* measured messages per throughput cell, at least */
	int min_samples;	/* latency samples per cell, at least */
	int lat_batch;		/* round trips per latency sample (0: auto) */
	int batch;		/* messages per SENDV/RECVV/sendmmsg */
	size_t inflight;	/* bytes in flight per channel */
	int spin;		/* shm ring: polls before sleeping */
	bool fill;		/* senders write the whole payload per message */
	enum pin_mode pin;
	bool tune;
	bool quick;
	bool do_lat, do_tput, do_scale;
	const char *mechs;	/* comma-separated filter */
	size_t lat_sizes[MAX_SIZES];
	int n_lat_sizes;
	size_t tput_sizes[MAX_SIZES];
	int n_tput_sizes;
	int scale_n[4];
	int n_scale;
	size_t scale_size;
	int timeout_s;		/* per cell, guest seconds */
};

extern struct options O;
extern int ncpus;

/* ---- small helpers (util.c) ------------------------------------------------- */

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

uint64_t cpu_ns(void);
uint64_t ctx_switches(void);

static inline size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

const char *size_str(size_t s, char *buf, size_t len);
void *alloc_buf(size_t len, int pattern);
void free_buf(void *p, size_t len);
void touch_pages(const void *p, size_t len);
int write_file(const char *path, const char *val);
int read_file(const char *path, char *buf, size_t len);
long long read_ll(const char *path);
void pin_to(int cpu);
int cmp_double(const void *a, const void *b);

/* ---- system limits (tune.c) ------------------------------------------------- */

void tune_system(void);
void restore_tuning(void);
void restore_tuning_at_exit(void);
void pool_threshold_lower(void);
void pool_threshold_restore(void);

/* ---- shared control block, children (harness.c) ---------------------------- */

struct ctl {
	_Atomic int ready;
	_Atomic int go;
	_Atomic int stop;
	_Atomic int failed;
	char err[160];
	/* throughput, written by the receiver */
	uint64_t t0, t1, n, rcpu, rcsw, errors;
	/* written by the sender */
	uint64_t sent, scpu;
	/* latency, written by the client */
	uint64_t nsamples, batch;
	/* scaling: per receiver message counts */
	struct {
		_Atomic uint64_t n;
		char pad[56];
	} cnt[MAX_PROCS];
};

extern struct ctl *ctl;
extern double *samples;		/* shared: latency samples, ns */

void child_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void wait_go(void);
int reap(pid_t *pids, int n, int nfirst, int timeout_s, char *why, size_t len);
void reset_ctl(void);
void release_children(int n);
int cpu_client(void);
int cpu_server(void);

extern volatile uint64_t sink;
uint64_t sum_bytes(const void *p, size_t len);

static inline void send_hdr(void *p, uint64_t seq)
{
	memcpy(p, &seq, sizeof(seq));
}

static inline uint64_t recv_hdr(const void *p, size_t len)
{
	uint64_t seq;

	if (len < sizeof(seq))
		return FIN_SEQ - 1;
	memcpy(&seq, p, sizeof(seq));
	return seq;
}

/* ---- channels: one mechanism's endpoints (harness.c) ----------------------- */

enum role { ROLE_SEND, ROLE_RECV };

struct chan {
	const struct mech *m;
	size_t size;		/* largest message */
	int depth;		/* messages in flight */
	int batch;		/* messages per batched call */
	int nrecv;		/* receivers (scaling) */
	enum role role;
	char note[96];		/* set up with a caveat */
	/* private buffers (chan_bufs()): messages of stride bytes */
	char *buf;
	size_t buf_len, stride;
	/*
	 * The family's own state (struct kp_chan, fd_chan, ...): allocated
	 * by its setup (chan_priv_new()), copied into the children by fork()
	 * like the rest of the chan, freed by its teardown.
	 */
	void *priv;
};

/* Mechanism flags */
#define MF_KPORT	0x01	/* a kport path (for the targets' "kport") */
#define MF_PEER		0x02	/* a peer mechanism */
#define MF_COPYING	0x04	/* a peer that copies the payload (in and out) */
#define MF_BATCH	0x08	/* several messages per call */
#define MF_POOL		0x10	/* port with a pool */
#define MF_MEMCPY	0x20	/* not a channel: memcpy on one thread */
#define MF_ZC		0x40	/* zero-copy port: senders write the pool */

/* Mechanisms that batch are not run above this (batching is for small messages). */
#define BATCH_MAX_SIZE	(256 * KiB)

/* Tests */
#define TL	0x1
#define TT	0x2
#define TS	0x4

struct mech {
	const char *name;
	const char *what;
	unsigned tests;
	unsigned flags;
	int kcopies;		/* payload copies by the kernel per message */
	const char *copies;	/* how the payload travels, for the table */
	size_t max_size;	/* not run above (0: no limit of ours) */
	/*
	 * Defined with designated initializers; sbuf, flush, rdone and
	 * parent_close may be left out (mechs_init()).  setup runs in the
	 * parent, and teardown after it whether it failed or not; attach and
	 * the calls after it in each child, with c->role set.
	 */
	int (*setup)(struct chan *c, char *why, size_t len);
	void (*attach)(struct chan *c);
	void *(*sbuf)(struct chan *c);		/* where the next message goes */
	void (*send)(struct chan *c, size_t len);
	void (*flush)(struct chan *c);		/* the batch send() left pending */
	const void *(*recv)(struct chan *c, size_t *len);	/* NULL: peer gone */
	void (*rdone)(struct chan *c);		/* done with what recv() returned */
	/*
	 * Latency, request-reply: send on @out and receive the reply on @in
	 * in one call (instead of send, flush, recv); NULL for the others.
	 */
	const void *(*call)(struct chan *out, struct chan *in, size_t len, size_t *got);
	void (*parent_close)(struct chan *c);	/* parent, after the forks */
	void (*teardown)(struct chan *c);
};

extern const struct mech mech_memcpy;		/* throughput.c */
extern const struct mech mech_kport, mech_kport_rw, mech_kport_call, mech_kport_batch,
	mech_kport_pool, mech_kport_inplace, mech_kport_zc;	/* mech_kport.c */
extern const struct mech mech_pipe, mech_unix_stream, mech_unix_seqpacket,
	mech_seqpacket_mmsg;				/* mech_fd.c */
extern const struct mech mech_posix_mq;		/* mech_mq.c */
extern const struct mech mech_sysv_msg;		/* mech_sysv.c */
extern const struct mech mech_shm_eventfd;	/* mech_shm.c */

#define NMECH	15	/* harness.c's table */

extern struct mech mechs[NMECH];
extern bool mech_enabled[NMECH];

void mechs_init(void);
int mech_index(const char *name);
int mech_list(unsigned test, int *out);
void chan_init(struct chan *c, const struct mech *m, size_t size, int depth);
int depth_for(size_t size);
void chan_noop(struct chan *c);
void *chan_sbuf(struct chan *c);
void chan_bufs(struct chan *c, int n, size_t extra);
void *chan_priv_new(struct chan *c, size_t size);
void chan_priv_free(struct chan *c);

/* ---- results ---------------------------------------------------------------- */

enum { ST_NONE, ST_OK, ST_SKIP, ST_ERR };
enum { LM_MIN, LM_P50, LM_P99, LM_P999, LM_MAX, LM_MEAN, LM_N };
enum { TM_MSGS, TM_MIBS, TM_SCPU, TM_RCPU, TM_RCSW, TM_N };

struct cell {
	int status;
	char note[160];
	double v[8];
};

extern struct cell lat_res[NMECH][MAX_SIZES][MAX_REPS];	/* latency.c */
extern struct cell tput_res[NMECH][MAX_SIZES][MAX_REPS];	/* throughput.c */
extern struct cell scale_res[NMECH][4][MAX_REPS];		/* scaling.c */

/* Median (and spread) of metric @k over the repetitions that ran. */
struct stat3 {
	int n;			/* repetitions that succeeded */
	int status;		/* ST_OK if any succeeded, else the first status */
	const char *note;
	double med, min, max;
};

/* ---- the tests (latency.c, throughput.c, scaling.c) ------------------------- */

extern uint64_t clock_cost_ns, clock_res_ns;

void measure_clock(void);
void run_latency(void);
void run_throughput(void);
void run_scaling(void);

/* ---- reporting (report.c, targets.c) ---------------------------------------- */

struct stat3 summarize(struct cell *reps, int k);
void progress(const char *test, int rep, const char *mech, const char *what,
	      const struct cell *r, int k, const char *unit, double scale);
void csv_open(const char *path);
void csv_close(void);
void csv_value(const char *test, const char *mech, size_t size, int procs,
	       const char *metric, double v, const char *unit, const char *note);
void report_latency(void);
void report_throughput(void);
void report_scaling(void);
void compute_targets(void);
void report_targets(void);

#endif /* KPORT_BENCH_H */
