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
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kport.h"

#define KiB		1024UL
#define MiB		(1024UL * 1024UL)
#define NSEC		1000000000ULL
#define FIN_SEQ		UINT64_MAX	/* latency: the client is done */
#define MAX_PROCS	8
#define MAX_REPS	15
#define MAX_SIZES	16
#define MAX_SAMPLES	400000
#define PAGE		4096UL

/* ---- options ------------------------------------------------------------ */

enum pin_mode { PIN_AUTO, PIN_NONE, PIN_SAME, PIN_CROSS };

static struct {
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
} O = {
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

static int ncpus = 1;

/* ---- small helpers -------------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void restore_tuning(void);

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "kport-bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	restore_tuning();
	exit(2);
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

/* Context switches of the calling process, voluntary or not. */
static uint64_t ctx_switches(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
}

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

static const char *size_str(size_t s, char *buf, size_t len)
{
	if (s >= MiB && s % MiB == 0)
		snprintf(buf, len, "%zuM", s / MiB);
	else if (s >= KiB && s % KiB == 0)
		snprintf(buf, len, "%zuK", s / KiB);
	else
		snprintf(buf, len, "%zu", s);
	return buf;
}

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

/* Anonymous private memory, written once so that it is populated. */
static void *alloc_buf(size_t len, int pattern)
{
	void *p;

	if (!len)
		len = 1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, pattern, len);
	return p;
}

static void free_buf(void *p, size_t len)
{
	if (p)
		munmap(p, len ? len : 1);
}

/* Read every page once: populate a mapping outside the timed part. */
static void touch_pages(const void *p, size_t len)
{
	const volatile char *c = p;
	size_t i;

	for (i = 0; i < len; i += PAGE)
		(void)c[i];
}

static volatile uint64_t sink;

/*
 * The receiver's work: read every byte it got (a 64-bit lane sum).  The
 * same function for every mechanism, unrolled to 128 bytes with SSE2 so
 * that it reads about as fast as memcpy() copies: it should not hide the
 * transport.  Aligned payloads (all but a few odd cases) take the loop
 * whose adds read memory directly.
 */
typedef uint64_t v2du __attribute__((vector_size(16)));

static uint64_t sum_bytes(const void *p, size_t len)
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

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static long long read_ll(const char *path)
{
	char buf[64];

	if (read_file(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 0);
}

/* ---- system limits: raise for the run, restore at exit --------------------- */

struct tunable {
	const char *path;
	char saved[64];
	bool changed;
};

#define KPARAM(n) "/sys/module/kport/parameters/" n
static struct tunable tunables[] = {
	{ .path = KPARAM("max_msg_size") }, { .path = KPARAM("max_user_bytes") },
	{ .path = KPARAM("max_pool_size") }, { .path = KPARAM("pool_threshold") },
	{ .path = KPARAM("max_user_pool_bytes") },
	{ .path = "/proc/sys/fs/mqueue/msgsize_max" },
	{ .path = "/proc/sys/fs/mqueue/msg_max" },
	{ .path = "/proc/sys/kernel/msgmax" }, { .path = "/proc/sys/kernel/msgmnb" },
	{ .path = "/proc/sys/fs/pipe-max-size" },
};
enum { T_KMSG, T_KUSER, T_KPOOL, T_KTHRESH, T_KUSERPOOL, T_MQSIZE, T_MQMSG,
       T_MSGMAX, T_MSGMNB, T_PIPEMAX, T_NTUNABLES };

static struct tunable *tun(int i)
{
	return &tunables[i];
}

static int set_tunable(int i, const char *val)
{
	struct tunable *t = tun(i);
	int ret;

	if (!t->changed) {
		ret = read_file(t->path, t->saved, sizeof(t->saved));
		if (ret)
			return ret;
	}
	ret = write_file(t->path, val);
	if (!ret)
		t->changed = true;
	return ret;
}

static void restore_tuning(void)
{
	int i;

	for (i = T_NTUNABLES - 1; i >= 0; i--) {
		struct tunable *t = tun(i);

		if (!t->changed)
			continue;
		if (write_file(t->path, t->saved))
			fprintf(stderr, "kport-bench: cannot restore %s to %s\n",
				t->path, t->saved);
		t->changed = false;
	}
}

static pid_t main_pid;

static void restore_at_exit(void)
{
	if (getpid() == main_pid)
		restore_tuning();
}

static void on_signal(int sig)
{
	if (getpid() == main_pid)
		restore_tuning();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void tune_system(void)
{
	struct rlimit rl;
	char v[32];
	int i, ret;
	struct { int t; unsigned long long v; } want[] = {
		{ T_KMSG, 64 * MiB },
		{ T_KUSER, 2048ULL * MiB },
		{ T_KPOOL, 512 * MiB },
		{ T_KUSERPOOL, 1024 * MiB },
		{ T_MQSIZE, 16 * MiB },		/* the kernel's hard maximum */
		{ T_MQMSG, 1024 },
		{ T_MSGMAX, 64 * MiB + 64 },
		{ T_MSGMNB, 256 * MiB },
		{ T_PIPEMAX, 64 * MiB },
	};

	/* Everyone may raise the soft limit to the hard one; root more. */
	rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
	if (setrlimit(RLIMIT_MSGQUEUE, &rl) && !getrlimit(RLIMIT_MSGQUEUE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MSGQUEUE, &rl);
	}
	if (!O.tune)
		return;
	if (geteuid())
		die("--tune needs root");
	for (i = 0; i < (int)(sizeof(want) / sizeof(want[0])); i++) {
		long long cur = read_ll(tun(want[i].t)->path);

		if (cur < 0)
			continue;	/* no such knob (module not loaded) */
		if ((unsigned long long)cur >= want[i].v)
			continue;
		snprintf(v, sizeof(v), "%llu", want[i].v);
		ret = set_tunable(want[i].t, v);
		if (ret)
			fprintf(stderr, "kport-bench: cannot set %s to %s: %s\n",
				tun(want[i].t)->path, v, strerror(-ret));
	}
}

/* ---- shared control block ------------------------------------------------- */

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

static struct ctl *ctl;
static double *samples;		/* shared: latency samples, ns */

static void child_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void child_fail(const char *fmt, ...)
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

/* ---- channels: one mechanism's endpoints ---------------------------------- */

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

static void noop(struct chan *c)
{
	(void)c;
}

/* Private buffers for the process's side: n messages, stride-aligned. */
static void chan_bufs(struct chan *c, int n, size_t extra)
{
	c->stride = round_up(c->size + extra, 64);
	c->buf_len = c->stride * (size_t)n;
	c->buf = alloc_buf(c->buf_len, 0x5a);
	if (!c->buf)
		child_fail("%s: cannot allocate %zu bytes", c->m->name, c->buf_len);
}

static void *sbuf_single(struct chan *c)
{
	return c->buf;
}

/*
 * A family's setup starts with this: its private state, zeroed.  Its
 * teardown ends with chan_priv_free(), which is the end of the chan.
 */
static void *chan_priv_new(struct chan *c, size_t size)
{
	c->priv = calloc(1, size);
	if (!c->priv)
		die("%s: out of memory", c->m->name);
	return c->priv;
}

static void chan_priv_free(struct chan *c)
{
	free(c->priv);
	c->priv = NULL;
}

/* Pin the calling process to a CPU (best effort). */
static void pin_to(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= ncpus)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* ---- kport ---------------------------------------------------------------- */

struct kp_chan {
	int kfd;		/* the creator's handle (parent) */
	int hfd;		/* this process's own handle */
	char kname[KPORT_NAME_MAX];
	char *pool;
	size_t pool_size;
	uint64_t held_off, borrow_off;
	uint32_t held_len;
	bool held;
	struct kport_msg *km;	/* batches: one per message */
	int cur;		/* sender: messages in the pending batch */
	int bn, bpos;		/* receiver: batch received, next to hand out */
};

static struct kp_chan *kp(struct chan *c)
{
	return c->priv;
}

static int kport_setup_port(struct chan *c, uint64_t flags, size_t pool,
			    char *why, size_t len)
{
	struct kp_chan *k = chan_priv_new(c, sizeof(*k));
	static int seq;
	struct kport_create cr;
	int fd;

	k->kfd = k->hfd = -1;
	memset(&cr, 0, sizeof(cr));
	snprintf(k->kname, sizeof(k->kname), "kbench.%d.%d", (int)getpid(), seq++);
	memcpy(cr.name, k->kname, strlen(k->kname));
	cr.flags = KPORT_CREATE_PROCESS | flags;
	cr.mode = 0600;
	cr.capacity = (uint32_t)c->depth;
	cr.msg_size = (uint32_t)c->size;
	cr.rights = KPORT_RIGHTS_ALL;
	cr.pool_size = pool;
	/* Every size through the pool: the threshold is read at create. */
	if (pool && tun(T_KTHRESH)->path && geteuid() == 0 && O.tune)
		set_tunable(T_KTHRESH, "0");
	fd = kport_create_raw(&cr);
	if (pool && tun(T_KTHRESH)->changed) {
		write_file(tun(T_KTHRESH)->path, tun(T_KTHRESH)->saved);
		tun(T_KTHRESH)->changed = false;
	}
	if (fd < 0) {
		snprintf(why, len, "create port (msg_size %zu, capacity %d, pool %zu): %s",
			 c->size, c->depth, pool, strerror(-fd));
		return -1;
	}
	k->kfd = fd;
	k->pool_size = pool;
	if (pool) {
		struct kport_stat st;

		if (!kport_stat(fd, &st) && c->size <= st.pool_threshold)
			snprintf(c->note, sizeof(c->note),
				 "at or below the pool threshold (%u): inline",
				 st.pool_threshold);
	}
	return 0;
}

static int kp_setup(struct chan *c, char *why, size_t len)
{
	return kport_setup_port(c, 0, 0, why, len);
}

static size_t pool_bytes(struct chan *c)
{
	return round_up(c->size, PAGE) * (size_t)c->depth;
}

static int kp_pool_setup(struct chan *c, char *why, size_t len)
{
	return kport_setup_port(c, 0, pool_bytes(c), why, len);
}

static int kp_zc_setup(struct chan *c, char *why, size_t len)
{
	return kport_setup_port(c, KPORT_CREATE_ZEROCOPY, pool_bytes(c), why, len);
}

/* Each process opens its own handle, as separate programs would. */
static void kp_open_own(struct chan *c)
{
	struct kp_chan *k = kp(c);
	struct kport_open o;
	int fd;

	memset(&o, 0, sizeof(o));
	memcpy(o.name, k->kname, strlen(k->kname));
	o.rights = c->role == ROLE_SEND ? KPORT_RIGHT_SEND : KPORT_RIGHT_RECV;
	/*
	 * A send-only handle is an O_WRONLY file, and mmap() of a file not
	 * open for reading is refused by the VFS (EACCES) before kport sees
	 * it: a zero-copy sender needs the receive right too to map the pool.
	 */
	if (c->role == ROLE_SEND && (c->m->flags & MF_ZC))
		o.rights = KPORT_RIGHTS_ALL;
	fd = kport_open_raw(&o);
	if (fd < 0)
		child_fail("%s: open %s: %s", c->m->name, k->kname, strerror(-fd));
	close(k->kfd);
	k->hfd = fd;
}

static void kp_attach(struct chan *c)
{
	kp_open_own(c);
	chan_bufs(c, 1, 0);
}

static void kp_attach_batch(struct chan *c)
{
	struct kp_chan *k = kp(c);
	int i;

	kp_open_own(c);
	chan_bufs(c, c->batch, 0);
	k->km = calloc((size_t)c->batch, sizeof(*k->km));
	if (!k->km)
		child_fail("out of memory");
	for (i = 0; i < c->batch; i++)
		k->km[i].buf = (uintptr_t)(c->buf + (size_t)i * c->stride);
}

/* In place: map the pool (writable for a zero-copy sender) and populate it. */
static void kp_attach_pool(struct chan *c)
{
	struct kp_chan *k = kp(c);
	void *p;
	size_t sz;
	int ret;

	kp_open_own(c);
	chan_bufs(c, 1, 0);
	/* A sender on a port that is not zero-copy only calls SEND. */
	if (c->role == ROLE_SEND && !(c->m->flags & MF_ZC))
		return;
	ret = kport_pool_map(k->hfd, c->role == ROLE_SEND ? KPORT_POOL_WRITE : 0,
			     &p, &sz);
	if (ret < 0)
		child_fail("%s: map pool: %s", c->m->name, strerror(-ret));
	k->pool = p;
	k->pool_size = sz;
	touch_pages(p, sz);
}

static void kp_send(struct chan *c, size_t len)
{
	struct kp_chan *k = kp(c);
	struct kport_msg m;

	memset(&m, 0, sizeof(m));
	m.buf = (uintptr_t)c->buf;
	m.len = (uint32_t)len;
	if (kport_sendmsg(k->hfd, &m) < 0)
		child_fail("%s: send: %s", c->m->name, strerror(errno));
}

static const void *kp_recv(struct chan *c, size_t *len)
{
	struct kp_chan *k = kp(c);
	struct kport_msg m;

	memset(&m, 0, sizeof(m));
	m.buf = (uintptr_t)c->buf;
	m.len = (uint32_t)c->size;
	if (kport_recvmsg(k->hfd, &m) < 0) {
		if (errno == EIDRM)
			return NULL;
		child_fail("%s: recv: %s", c->m->name, strerror(errno));
	}
	*len = m.len;
	return c->buf;
}

static void kp_rw_send(struct chan *c, size_t len)
{
	struct kp_chan *k = kp(c);

	if (write(k->hfd, c->buf, len) != (ssize_t)len)
		child_fail("%s: write: %s", c->m->name, strerror(errno));
}

static const void *kp_rw_recv(struct chan *c, size_t *len)
{
	struct kp_chan *k = kp(c);
	ssize_t n = read(k->hfd, c->buf, c->size);

	if (n < 0) {
		if (errno == EIDRM)
			return NULL;
		child_fail("%s: read: %s", c->m->name, strerror(errno));
	}
	*len = (size_t)n;
	return c->buf;
}

static void *kp_batch_sbuf(struct chan *c)
{
	struct kp_chan *k = kp(c);

	return c->buf + (size_t)k->cur * c->stride;
}

static void kp_batch_flush(struct chan *c)
{
	struct kp_chan *k = kp(c);
	struct kport_batch b;
	int done = 0, ret;

	while (done < k->cur) {
		memset(&b, 0, sizeof(b));
		b.msgs = (uintptr_t)&k->km[done];
		b.count = (uint32_t)(k->cur - done);
		b.msg_size = sizeof(struct kport_msg);
		ret = ioctl(k->hfd, KPORT_IOC_SENDV, &b);
		if (ret <= 0)
			child_fail("%s: SENDV: %s", c->m->name,
				   ret ? strerror(errno) : "sent nothing");
		done += ret;
	}
	k->cur = 0;
}

static void kp_batch_send(struct chan *c, size_t len)
{
	struct kp_chan *k = kp(c);

	k->km[k->cur].len = (uint32_t)len;
	if (++k->cur == c->batch)
		kp_batch_flush(c);
}

static const void *kp_batch_recv(struct chan *c, size_t *len)
{
	struct kp_chan *k = kp(c);
	const void *p;

	if (k->bpos == k->bn) {
		struct kport_batch b;
		int i, ret;

		for (i = 0; i < c->batch; i++) {
			struct kport_msg *m = &k->km[i];

			memset(m, 0, sizeof(*m));
			m->buf = (uintptr_t)(c->buf + (size_t)i * c->stride);
			m->len = (uint32_t)c->size;
		}
		memset(&b, 0, sizeof(b));
		b.msgs = (uintptr_t)k->km;
		b.count = (uint32_t)c->batch;
		b.msg_size = sizeof(struct kport_msg);
		ret = ioctl(k->hfd, KPORT_IOC_RECVV, &b);
		if (ret < 0) {
			if (errno == EIDRM)
				return NULL;
			child_fail("%s: RECVV: %s", c->m->name, strerror(errno));
		}
		k->bn = ret;
		k->bpos = 0;
	}
	*len = k->km[k->bpos].len;
	p = c->buf + (size_t)k->bpos * c->stride;
	k->bpos++;
	return p;
}

static const void *kp_inplace_recv(struct chan *c, size_t *len)
{
	struct kp_chan *k = kp(c);
	struct kport_msg m;

	memset(&m, 0, sizeof(m));
	m.flags = KPORT_MSG_INPLACE;
	m.buf = (uintptr_t)c->buf;
	m.len = (uint32_t)c->size;
	if (kport_recvmsg(k->hfd, &m) < 0) {
		if (errno == EIDRM)
			return NULL;
		child_fail("%s: recv in place: %s", c->m->name, strerror(errno));
	}
	*len = m.len;
	if (!(m.result & KPORT_RESULT_INPLACE))
		return c->buf;
	k->held = true;
	k->held_off = m.offset;
	k->held_len = m.len;
	return k->pool + m.offset;
}

static void kp_inplace_rdone(struct chan *c)
{
	struct kp_chan *k = kp(c);
	int ret;

	if (!k->held)
		return;
	k->held = false;
	ret = kport_release(k->hfd, k->held_off, k->held_len);
	if (ret < 0 && ret != -EIDRM)
		child_fail("%s: release: %s", c->m->name, strerror(-ret));
}

static void *kp_zc_sbuf(struct chan *c)
{
	struct kp_chan *k = kp(c);
	int ret = kport_borrow(k->hfd, c->size, -1, &k->borrow_off);

	if (ret < 0)
		child_fail("%s: borrow: %s", c->m->name, strerror(-ret));
	return k->pool + k->borrow_off;
}

static void kp_zc_send(struct chan *c, size_t len)
{
	struct kp_chan *k = kp(c);
	int ret = kport_post(k->hfd, k->borrow_off, len, 0, 0);

	if (ret < 0)
		child_fail("%s: post: %s", c->m->name, strerror(-ret));
}

/*
 * KPORT_IOC_SENDRECV: send on @out's handle, then receive on @in's, in one
 * call.  Returns the received message (in @in's buffer), NULL once the
 * port is gone.
 */
static const void *kp_call(struct chan *out, struct chan *in, size_t len, size_t *got)
{
	struct kport_sendrecv sr;

	memset(&sr, 0, sizeof(sr));
	sr.recv_fd = kp(in)->hfd;
	sr.send.buf = (uintptr_t)out->buf;
	sr.send.len = (uint32_t)len;
	sr.recv.buf = (uintptr_t)in->buf;
	sr.recv.len = (uint32_t)in->size;
	if (ioctl(kp(out)->hfd, KPORT_IOC_SENDRECV, &sr) < 0) {
		if (errno == EIDRM)
			return NULL;
		child_fail("%s: SENDRECV: %s", out->m->name, strerror(errno));
	}
	*got = sr.recv.len;
	return in->buf;
}

static void kp_teardown(struct chan *c)
{
	struct kp_chan *k = kp(c);

	if (k->kfd >= 0) {
		kport_delete(k->kfd);
		close(k->kfd);
	}
	chan_priv_free(c);
}

static const struct mech mech_kport = {
	.name = "kport", .what = "kport, one SEND/RECV ioctl per message, payload inline",
	.tests = TL | TT | TS, .flags = MF_KPORT, .kcopies = 2, .copies = "2 (kernel)",
	.setup = kp_setup, .attach = kp_attach, .send = kp_send, .recv = kp_recv,
	.teardown = kp_teardown,
};

static const struct mech mech_kport_rw = {
	.name = "kport-rw", .what = "kport through write()/read() on the port fd",
	.tests = TL, .flags = MF_KPORT, .kcopies = 2, .copies = "2 (kernel)",
	.setup = kp_setup, .attach = kp_attach, .send = kp_rw_send, .recv = kp_rw_recv,
	.teardown = kp_teardown,
};

static const struct mech mech_kport_call = {
	.name = "kport-call",
	.what = "kport request-reply: SENDRECV, one call per side per round trip",
	.tests = TL, .flags = MF_KPORT, .kcopies = 2, .copies = "2 (kernel)",
	.setup = kp_setup, .attach = kp_attach, .send = kp_send, .recv = kp_recv,
	.call = kp_call, .teardown = kp_teardown,
};

static const struct mech mech_kport_batch = {
	.name = "kport-batch", .what = "kport, SENDV/RECVV of up to --batch messages per call",
	.tests = TT | TS, .flags = MF_KPORT | MF_BATCH, .kcopies = 2, .copies = "2 (kernel)",
	.max_size = BATCH_MAX_SIZE,
	.setup = kp_setup, .attach = kp_attach_batch, .sbuf = kp_batch_sbuf, .send = kp_batch_send,
	.flush = kp_batch_flush, .recv = kp_batch_recv, .teardown = kp_teardown,
};

static const struct mech mech_kport_pool = {
	.name = "kport-pool", .what = "kport port with a pool, plain receive (kernel copies out)",
	.tests = TT, .flags = MF_KPORT | MF_POOL, .kcopies = 2, .copies = "2 (kernel in+out)",
	.setup = kp_pool_setup, .attach = kp_attach, .send = kp_send, .recv = kp_recv,
	.teardown = kp_teardown,
};

static const struct mech mech_kport_inplace = {
	.name = "kport-inplace", .what = "kport pool, receive in place (INPLACE, mmap, RELEASE)",
	.tests = TT, .flags = MF_KPORT | MF_POOL, .kcopies = 1, .copies = "1 (kernel in)",
	.setup = kp_pool_setup, .attach = kp_attach_pool, .send = kp_send, .recv = kp_inplace_recv,
	.rdone = kp_inplace_rdone, .teardown = kp_teardown,
};

static const struct mech mech_kport_zc = {
	.name = "kport-zc",
	.what = "kport zero-copy: BORROW, write in place, POST; receive in place",
	.tests = TT, .flags = MF_KPORT | MF_POOL | MF_ZC, .kcopies = 0, .copies = "0",
	.setup = kp_zc_setup, .attach = kp_attach_pool, .sbuf = kp_zc_sbuf, .send = kp_zc_send,
	.recv = kp_inplace_recv, .rdone = kp_inplace_rdone, .teardown = kp_teardown,
};

/* ---- pipe ----------------------------------------------------------------- */

/* Pipes and socketpairs: fd[1] sends, fd[0] receives. */
struct fd_chan {
	int fd[2];
	size_t sockbuf;		/* socket buffers asked for */
	struct mmsghdr *mm;	/* sendmmsg/recvmmsg: one per message */
	struct iovec *iov;
	int cur;		/* sender: messages in the pending batch */
	int bn, bpos;		/* receiver: batch received, next to hand out */
};

static struct fd_chan *fdc(struct chan *c)
{
	return c->priv;
}

static struct fd_chan *fd_chan_new(struct chan *c)
{
	struct fd_chan *f = chan_priv_new(c, sizeof(*f));

	f->fd[0] = f->fd[1] = -1;
	return f;
}

/* Stream buffers: the in-flight budget, at least 64 KiB, at most 64 MiB. */
static size_t stream_bytes(struct chan *c)
{
	size_t b = c->size * (size_t)c->depth;

	if (b < 64 * KiB)
		b = 64 * KiB;
	if (b > 64 * MiB)
		b = 64 * MiB;
	return b;
}

static int pipe_setup(struct chan *c, char *why, size_t len)
{
	struct fd_chan *f = fd_chan_new(c);
	size_t want = stream_bytes(c), p = PAGE;
	int got;

	if (pipe2(f->fd, O_CLOEXEC)) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		return -1;
	}
	while (p < want)
		p *= 2;		/* the kernel rounds to a power of two pages */
	got = fcntl(f->fd[1], F_SETPIPE_SZ, (int)p);
	if (got < 0) {
		got = fcntl(f->fd[1], F_GETPIPE_SZ);
		snprintf(c->note, sizeof(c->note), "pipe buffer %d (F_SETPIPE_SZ %zu: %s)",
			 got, p, strerror(errno));
	}
	return 0;
}

static void fd_attach(struct chan *c)
{
	struct fd_chan *f = fdc(c);

	/* Senders write fd[1], receivers read fd[0] (socketpairs alike). */
	close(f->fd[c->role == ROLE_SEND ? 0 : 1]);
	chan_bufs(c, 1, 0);
}

static void write_all(struct chan *c, int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			child_fail("%s: write: %s", c->m->name, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

static void pipe_send(struct chan *c, size_t len)
{
	struct fd_chan *f = fdc(c);

	write_all(c, f->fd[1], c->buf, len);
}

/* One message of exactly c->size bytes; NULL at end of stream. */
static const void *pipe_recv(struct chan *c, size_t *len)
{
	struct fd_chan *f = fdc(c);
	size_t got = 0;

	while (got < c->size) {
		ssize_t n = read(f->fd[0], c->buf + got, c->size - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			child_fail("%s: read: %s", c->m->name, strerror(errno));
		}
		if (!n) {
			if (got)
				child_fail("%s: end of stream inside a message", c->m->name);
			return NULL;
		}
		got += (size_t)n;
	}
	*len = got;
	return c->buf;
}

static void fd_parent_close(struct chan *c)
{
	struct fd_chan *f = fdc(c);

	if (f->fd[0] >= 0)
		close(f->fd[0]);
	if (f->fd[1] >= 0)
		close(f->fd[1]);
	f->fd[0] = f->fd[1] = -1;
}

static void fd_teardown(struct chan *c)
{
	fd_parent_close(c);
	chan_priv_free(c);
}

static const struct mech mech_pipe = {
	.name = "pipe",
	.what = "pipe, one write/read per message, buffer sized to the in-flight budget",
	.tests = TL | TT | TS, .flags = MF_PEER | MF_COPYING, .kcopies = 2, .copies = "2 (kernel)",
	.setup = pipe_setup, .attach = fd_attach, .send = pipe_send, .recv = pipe_recv,
	.parent_close = fd_parent_close, .teardown = fd_teardown,
};

/* ---- UNIX sockets ------------------------------------------------------------ */

static void set_sockbuf(struct chan *c, int fd, int force, int plain, int val)
{
	if (!setsockopt(fd, SOL_SOCKET, force, &val, sizeof(val)))
		return;
	if (setsockopt(fd, SOL_SOCKET, plain, &val, sizeof(val)))
		snprintf(c->note, sizeof(c->note), "socket buffer: %s", strerror(errno));
	else
		snprintf(c->note, sizeof(c->note), "socket buffer capped by wmem_max/rmem_max");
}

static int sock_setup_type(struct chan *c, int type, char *why, size_t len)
{
	struct fd_chan *f = fd_chan_new(c);
	size_t b = stream_bytes(c);
	int sv[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv)) {
		snprintf(why, len, "socketpair: %s", strerror(errno));
		return -1;
	}
	/* fd[1] sends, fd[0] receives, as for a pipe. */
	f->fd[1] = sv[0];
	f->fd[0] = sv[1];
	if (type == SOCK_SEQPACKET && b < 2 * c->size + 4096)
		b = 2 * c->size + 4096;	/* one message must fit */
	f->sockbuf = b;
	set_sockbuf(c, f->fd[1], SO_SNDBUFFORCE, SO_SNDBUF, (int)b);
	set_sockbuf(c, f->fd[0], SO_RCVBUFFORCE, SO_RCVBUF, (int)b);
	return 0;
}

static int stream_setup(struct chan *c, char *why, size_t len)
{
	return sock_setup_type(c, SOCK_STREAM, why, len);
}

/* A seqpacket message must be allocated whole: try one before the run. */
static int seqpacket_setup(struct chan *c, char *why, size_t len)
{
	struct fd_chan *f;
	char *p;
	ssize_t n;

	if (sock_setup_type(c, SOCK_SEQPACKET, why, len))
		return -1;
	f = fdc(c);
	p = alloc_buf(c->size, 1);
	if (!p) {
		snprintf(why, len, "out of memory");
		goto fail;
	}
	n = send(f->fd[1], p, c->size, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n != (ssize_t)c->size) {
		snprintf(why, len, "one %zu-byte message: %s", c->size,
			 n < 0 ? strerror(errno) : "short send");
		free_buf(p, c->size);
		goto fail;
	}
	n = recv(f->fd[0], p, c->size, MSG_DONTWAIT);
	free_buf(p, c->size);
	if (n != (ssize_t)c->size) {
		snprintf(why, len, "probe receive: %s", n < 0 ? strerror(errno) : "short");
		goto fail;
	}
	return 0;
fail:
	fd_parent_close(c);
	return -1;
}

static void sock_send(struct chan *c, size_t len)
{
	struct fd_chan *f = fdc(c);
	const char *p = c->buf;

	while (len) {
		ssize_t n = send(f->fd[1], p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			child_fail("%s: send: %s", c->m->name, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

static const void *stream_recv(struct chan *c, size_t *len)
{
	struct fd_chan *f = fdc(c);
	size_t got = 0;

	while (got < c->size) {
		ssize_t n = recv(f->fd[0], c->buf + got, c->size - got, MSG_WAITALL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			child_fail("%s: recv: %s", c->m->name, strerror(errno));
		}
		if (!n) {
			if (got)
				child_fail("%s: end of stream inside a message", c->m->name);
			return NULL;
		}
		got += (size_t)n;
	}
	*len = got;
	return c->buf;
}

static const void *seqpacket_recv(struct chan *c, size_t *len)
{
	struct fd_chan *f = fdc(c);
	ssize_t n;

	do {
		n = recv(f->fd[0], c->buf, c->size, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		child_fail("%s: recv: %s", c->m->name, strerror(errno));
	if (!n)
		return NULL;	/* the senders are gone */
	*len = (size_t)n;
	return c->buf;
}

static void mmsg_attach(struct chan *c)
{
	struct fd_chan *f = fdc(c);
	int i;

	close(f->fd[c->role == ROLE_SEND ? 0 : 1]);
	chan_bufs(c, c->batch, 0);
	f->mm = calloc((size_t)c->batch, sizeof(*f->mm));
	f->iov = calloc((size_t)c->batch, sizeof(*f->iov));
	if (!f->mm || !f->iov)
		child_fail("out of memory");
	for (i = 0; i < c->batch; i++) {
		f->iov[i].iov_base = c->buf + (size_t)i * c->stride;
		f->iov[i].iov_len = c->size;
		f->mm[i].msg_hdr.msg_iov = &f->iov[i];
		f->mm[i].msg_hdr.msg_iovlen = 1;
	}
}

static void mmsg_flush(struct chan *c)
{
	struct fd_chan *f = fdc(c);
	int done = 0;

	while (done < f->cur) {
		int n = sendmmsg(f->fd[1], &f->mm[done], (unsigned int)(f->cur - done),
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			child_fail("%s: sendmmsg: %s", c->m->name, strerror(errno));
		}
		done += n;
	}
	f->cur = 0;
}

static void mmsg_send(struct chan *c, size_t len)
{
	struct fd_chan *f = fdc(c);

	f->iov[f->cur].iov_len = len;
	if (++f->cur == c->batch)
		mmsg_flush(c);
}

static const void *mmsg_recv(struct chan *c, size_t *len)
{
	struct fd_chan *f = fdc(c);
	const void *p;

	if (f->bpos == f->bn) {
		int i, n;

		for (i = 0; i < c->batch; i++) {
			f->iov[i].iov_len = c->size;
			f->mm[i].msg_len = 0;
		}
		do {
			n = recvmmsg(f->fd[0], f->mm, (unsigned int)c->batch,
				     MSG_WAITFORONE, NULL);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			child_fail("%s: recvmmsg: %s", c->m->name, strerror(errno));
		f->bn = n;
		f->bpos = 0;
	}
	if (f->bpos == f->bn || !f->mm[f->bpos].msg_len)
		return NULL;	/* end of stream */
	*len = f->mm[f->bpos].msg_len;
	p = f->iov[f->bpos].iov_base;
	f->bpos++;
	return p;
}

static void *mmsg_sbuf(struct chan *c)
{
	struct fd_chan *f = fdc(c);

	return f->iov[f->cur].iov_base;
}

static const struct mech mech_unix_stream = {
	.name = "unix-stream", .what = "UNIX socketpair, SOCK_STREAM",
	.tests = TL | TT, .flags = MF_PEER | MF_COPYING, .kcopies = 2, .copies = "2 (kernel)",
	.setup = stream_setup, .attach = fd_attach, .send = sock_send, .recv = stream_recv,
	.parent_close = fd_parent_close, .teardown = fd_teardown,
};

static const struct mech mech_unix_seqpacket = {
	.name = "unix-seqpacket", .what = "UNIX socketpair, SOCK_SEQPACKET",
	.tests = TL | TT | TS, .flags = MF_PEER | MF_COPYING, .kcopies = 2, .copies = "2 (kernel)",
	.setup = seqpacket_setup, .attach = fd_attach, .send = sock_send, .recv = seqpacket_recv,
	.parent_close = fd_parent_close, .teardown = fd_teardown,
};

static const struct mech mech_seqpacket_mmsg = {
	.name = "seqpacket-mmsg", .what = "UNIX SOCK_SEQPACKET, sendmmsg/recvmmsg of up to --batch",
	.tests = TT | TS, .flags = MF_PEER | MF_COPYING | MF_BATCH, .kcopies = 2,
	.copies = "2 (kernel)", .max_size = BATCH_MAX_SIZE,
	.setup = seqpacket_setup, .attach = mmsg_attach, .sbuf = mmsg_sbuf, .send = mmsg_send,
	.flush = mmsg_flush, .recv = mmsg_recv, .parent_close = fd_parent_close,
	.teardown = fd_teardown,
};

/* ---- POSIX message queues ------------------------------------------------- */

struct mq_chan {
	mqd_t mq;
};

static struct mq_chan *mqc(struct chan *c)
{
	return c->priv;
}

static int mq_setup(struct chan *c, char *why, size_t len)
{
	struct mq_chan *q = chan_priv_new(c, sizeof(*q));
	static int seq;
	struct mq_attr attr;
	char name[64];

	q->mq = (mqd_t)-1;
	memset(&attr, 0, sizeof(attr));
	attr.mq_maxmsg = c->depth;
	attr.mq_msgsize = (long)c->size;
	snprintf(name, sizeof(name), "/kbench.%d.%d", (int)getpid(), seq++);
	q->mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
	if (q->mq == (mqd_t)-1) {
		long long max = read_ll("/proc/sys/fs/mqueue/msgsize_max");

		snprintf(why, len, "mq_open(maxmsg %d, msgsize %zu): %s%s", c->depth,
			 c->size, strerror(errno),
			 errno == EINVAL && c->size > 16 * MiB ?
			 " (above the kernel's hard limit of 16 MiB)" :
			 errno == EINVAL && max >= 0 && (long long)c->size > max ?
			 " (above msgsize_max)" : "");
		return -1;
	}
	mq_unlink(name);	/* lives while open */
	return 0;
}

static void mq_attach(struct chan *c)
{
	chan_bufs(c, 1, 0);
}

static void mq_send_one(struct chan *c, size_t len)
{
	struct mq_chan *q = mqc(c);

	while (mq_send(q->mq, c->buf, len, 0)) {
		if (errno != EINTR)
			child_fail("%s: mq_send: %s", c->m->name, strerror(errno));
	}
}

static const void *mq_recv_one(struct chan *c, size_t *len)
{
	struct mq_chan *q = mqc(c);
	ssize_t n;

	do {
		n = mq_receive(q->mq, c->buf, c->size, NULL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		child_fail("%s: mq_receive: %s", c->m->name, strerror(errno));
	*len = (size_t)n;
	return c->buf;
}

static void mq_teardown(struct chan *c)
{
	struct mq_chan *q = mqc(c);

	if (q->mq != (mqd_t)-1)
		mq_close(q->mq);
	chan_priv_free(c);
}

static const struct mech mech_posix_mq = {
	.name = "posix-mq", .what = "POSIX message queue (mq_maxmsg = depth, mq_msgsize = size)",
	.tests = TL | TT | TS, .flags = MF_PEER | MF_COPYING, .kcopies = 2, .copies = "2 (kernel)",
	.setup = mq_setup, .attach = mq_attach, .send = mq_send_one, .recv = mq_recv_one,
	.teardown = mq_teardown,
};

/* ---- SysV message queues ---------------------------------------------------- */

struct sysv_chan {
	int msqid;
};

static struct sysv_chan *sysvc(struct chan *c)
{
	return c->priv;
}

struct sysv_hdr {
	long mtype;
	char data[];
};

static int sysv_setup(struct chan *c, char *why, size_t len)
{
	struct sysv_chan *q = chan_priv_new(c, sizeof(*q));
	long long max = read_ll("/proc/sys/kernel/msgmax");
	struct msqid_ds ds;
	size_t want = c->size * (size_t)c->depth;

	q->msqid = -1;
	if (max >= 0 && (long long)c->size > max) {
		snprintf(why, len, "message above msgmax (%lld)", max);
		return -1;
	}
	q->msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q->msqid < 0) {
		snprintf(why, len, "msgget: %s", strerror(errno));
		return -1;
	}
	if (msgctl(q->msqid, IPC_STAT, &ds) == 0 && ds.msg_qbytes < want) {
		ds.msg_qbytes = want > INT_MAX ? INT_MAX : want;
		if (msgctl(q->msqid, IPC_SET, &ds)) {
			if (msgctl(q->msqid, IPC_STAT, &ds) || ds.msg_qbytes < c->size) {
				snprintf(why, len, "msg_qbytes %zu: %s", want, strerror(errno));
				msgctl(q->msqid, IPC_RMID, NULL);
				return -1;
			}
			snprintf(c->note, sizeof(c->note), "msg_qbytes %lu",
				 (unsigned long)ds.msg_qbytes);
		}
	}
	return 0;
}

/* mtype at offset 8 of the buffer, so that the payload is 16-byte aligned. */
static struct sysv_hdr *sysv_msg(struct chan *c)
{
	return (struct sysv_hdr *)(c->buf + 8);
}

static void sysv_attach(struct chan *c)
{
	chan_bufs(c, 1, 16);
	sysv_msg(c)->mtype = 1;
}

static void *sysv_sbuf(struct chan *c)
{
	return sysv_msg(c)->data;
}

static void sysv_send(struct chan *c, size_t len)
{
	struct sysv_chan *q = sysvc(c);

	while (msgsnd(q->msqid, sysv_msg(c), len, 0)) {
		if (errno != EINTR)
			child_fail("%s: msgsnd: %s", c->m->name, strerror(errno));
	}
}

static const void *sysv_recv(struct chan *c, size_t *len)
{
	struct sysv_chan *q = sysvc(c);
	ssize_t n;

	do {
		n = msgrcv(q->msqid, sysv_msg(c), c->size, 0, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EIDRM || errno == EINVAL)
			return NULL;
		child_fail("%s: msgrcv: %s", c->m->name, strerror(errno));
	}
	*len = (size_t)n;
	return sysv_msg(c)->data;
}

static void sysv_teardown(struct chan *c)
{
	struct sysv_chan *q = sysvc(c);

	if (q->msqid >= 0)
		msgctl(q->msqid, IPC_RMID, NULL);
	chan_priv_free(c);
}

static const struct mech mech_sysv_msg = {
	.name = "sysv-msg", .what = "SysV message queue (msg_qbytes = depth x size)",
	.tests = TL | TT | TS, .flags = MF_PEER | MF_COPYING, .kcopies = 2, .copies = "2 (kernel)",
	.setup = sysv_setup, .attach = sysv_attach, .sbuf = sysv_sbuf, .send = sysv_send,
	.recv = sysv_recv, .teardown = sysv_teardown,
};

/* ---- shared-memory ring with eventfd wake-ups -------------------------------
 *
 * Single producer, single consumer.  Slots live in a shared mapping; the
 * producer fills a slot in place and publishes it by advancing head, the
 * consumer reads it in place and frees it by advancing tail.  A side that
 * finds nothing to do (empty ring, full ring) announces that it is going to
 * sleep, re-checks, and blocks in read() on its eventfd; the other side
 * writes that eventfd only when it sees the announcement.  The announcement
 * and the index are each followed by a full fence before the other is read
 * (Dekker), so a wake-up cannot be lost; a stale one only makes the sleeper
 * look again.  --spin N polls N times before sleeping (default 0: under
 * emulation a spinning CPU starves its peer).
 */

/* The shared mapping: the indices and flags, each on its own cache line. */
struct ring {
	_Atomic uint64_t head;
	char pad0[56];
	_Atomic uint64_t tail;
	char pad1[56];
	_Atomic int cons_waiting;
	char pad2[60];
	_Atomic int prod_waiting;
	char pad3[60];
	uint32_t len[];
};

/* Each process's view of it. */
struct shm_chan {
	struct ring *ring;
	char *slots;
	size_t ring_bytes, slot_stride;
	int efd_c, efd_p;	/* the consumer's and the producer's eventfd */
	uint64_t rhead, rtail;	/* the producer's head, the consumer's tail */
};

static struct shm_chan *shm(struct chan *c)
{
	return c->priv;
}

static int ring_setup(struct chan *c, char *why, size_t len)
{
	struct shm_chan *s = chan_priv_new(c, sizeof(*s));
	size_t hdr = round_up(sizeof(struct ring) + sizeof(uint32_t) * (size_t)c->depth,
			      PAGE);

	s->efd_c = s->efd_p = -1;
	s->slot_stride = round_up(c->size, 64);
	s->ring_bytes = hdr + s->slot_stride * (size_t)c->depth;
	s->ring = mmap(NULL, s->ring_bytes, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->ring == MAP_FAILED) {
		s->ring = NULL;
		snprintf(why, len, "mmap %zu: %s", s->ring_bytes, strerror(errno));
		return -1;
	}
	s->slots = (char *)s->ring + hdr;
	/* The slots play the part of the copying senders' prepared buffer. */
	memset(s->slots, 0x5a, s->slot_stride * (size_t)c->depth);
	s->efd_c = eventfd(0, EFD_CLOEXEC);
	s->efd_p = eventfd(0, EFD_CLOEXEC);
	if (s->efd_c < 0 || s->efd_p < 0) {
		snprintf(why, len, "eventfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void ring_attach(struct chan *c)
{
	struct shm_chan *s = shm(c);

	touch_pages(s->ring, s->ring_bytes);
}

static void ring_sleep(struct chan *c, int efd)
{
	uint64_t v;

	while (read(efd, &v, sizeof(v)) < 0) {
		if (errno != EINTR)
			child_fail("%s: eventfd read: %s", c->m->name, strerror(errno));
	}
}

static void ring_wake(struct chan *c, int efd)
{
	uint64_t v = 1;

	if (write(efd, &v, sizeof(v)) != sizeof(v))
		child_fail("%s: eventfd write: %s", c->m->name, strerror(errno));
}

static bool ring_full(struct chan *c)
{
	struct shm_chan *s = shm(c);

	return s->rhead - atomic_load_explicit(&s->ring->tail, memory_order_acquire) >=
	       (uint64_t)c->depth;
}

static bool ring_empty(struct chan *c)
{
	struct shm_chan *s = shm(c);

	return atomic_load_explicit(&s->ring->head, memory_order_acquire) == s->rtail;
}

static void *ring_sbuf(struct chan *c)
{
	struct shm_chan *s = shm(c);
	struct ring *r = s->ring;
	int i;

	while (ring_full(c)) {
		for (i = 0; i < O.spin && ring_full(c); i++)
			;
		if (!ring_full(c))
			break;
		atomic_store(&r->prod_waiting, 1);
		atomic_thread_fence(memory_order_seq_cst);
		if (!ring_full(c)) {
			atomic_store(&r->prod_waiting, 0);
			break;
		}
		ring_sleep(c, s->efd_p);
	}
	return s->slots + (s->rhead % (uint64_t)c->depth) * s->slot_stride;
}

static void ring_send(struct chan *c, size_t len)
{
	struct shm_chan *s = shm(c);
	struct ring *r = s->ring;

	r->len[s->rhead % (uint64_t)c->depth] = (uint32_t)len;
	s->rhead++;
	atomic_store_explicit(&r->head, s->rhead, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&r->cons_waiting, memory_order_relaxed) &&
	    atomic_exchange(&r->cons_waiting, 0))
		ring_wake(c, s->efd_c);
}

static const void *ring_recv(struct chan *c, size_t *len)
{
	struct shm_chan *s = shm(c);
	struct ring *r = s->ring;
	int i;

	while (ring_empty(c)) {
		for (i = 0; i < O.spin && ring_empty(c); i++)
			;
		if (!ring_empty(c))
			break;
		atomic_store(&r->cons_waiting, 1);
		atomic_thread_fence(memory_order_seq_cst);
		if (!ring_empty(c)) {
			atomic_store(&r->cons_waiting, 0);
			break;
		}
		ring_sleep(c, s->efd_c);
	}
	*len = r->len[s->rtail % (uint64_t)c->depth];
	return s->slots + (s->rtail % (uint64_t)c->depth) * s->slot_stride;
}

static void ring_rdone(struct chan *c)
{
	struct shm_chan *s = shm(c);
	struct ring *r = s->ring;

	s->rtail++;
	atomic_store_explicit(&r->tail, s->rtail, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&r->prod_waiting, memory_order_relaxed) &&
	    atomic_exchange(&r->prod_waiting, 0))
		ring_wake(c, s->efd_p);
}

static void ring_teardown(struct chan *c)
{
	struct shm_chan *s = shm(c);

	if (s->ring)
		munmap(s->ring, s->ring_bytes);
	if (s->efd_c >= 0)
		close(s->efd_c);
	if (s->efd_p >= 0)
		close(s->efd_p);
	chan_priv_free(c);
}

static const struct mech mech_shm_eventfd = {
	.name = "shm-eventfd", .what = "shared-memory SPSC ring, eventfd wake-ups, read in place",
	.tests = TL | TT, .flags = MF_PEER, .kcopies = 0, .copies = "0",
	.setup = ring_setup, .attach = ring_attach, .sbuf = ring_sbuf, .send = ring_send,
	.recv = ring_recv, .rdone = ring_rdone, .teardown = ring_teardown,
};

/* ---- the mechanisms ----------------------------------------------------------- */

static const struct mech mech_memcpy = {
	.name = "memcpy", .what = "memcpy() of the same size on one thread: the copy ceiling",
	.tests = TT, .flags = MF_MEMCPY, .copies = "1 (user)",
};

/* The mechanisms, in the order of the tables. */
static const struct mech *const mech_defs[] = {
	&mech_memcpy,
	&mech_kport, &mech_kport_rw, &mech_kport_call, &mech_kport_batch,
	&mech_kport_pool, &mech_kport_inplace, &mech_kport_zc,
	&mech_pipe, &mech_unix_stream, &mech_unix_seqpacket, &mech_seqpacket_mmsg,
	&mech_posix_mq, &mech_sysv_msg, &mech_shm_eventfd,
};

#define NMECH ((int)(sizeof(mech_defs) / sizeof(mech_defs[0])))

/*
 * The table the run uses (mechs_init()): each mechanism as defined, the
 * operations it leaves out filled in with ones that do nothing (sbuf: the
 * one private buffer), so that every cell makes the same calls whatever
 * the mechanism.
 */
static struct mech mechs[NMECH];

static void mechs_init(void)
{
	int i;

	for (i = 0; i < NMECH; i++) {
		struct mech *m = &mechs[i];

		*m = *mech_defs[i];
		if (!m->sbuf)
			m->sbuf = sbuf_single;
		if (!m->flush)
			m->flush = noop;
		if (!m->rdone)
			m->rdone = noop;
		if (!m->parent_close)
			m->parent_close = noop;
	}
}

static bool mech_enabled[NMECH];

static int mech_index(const char *name)
{
	int i;

	for (i = 0; i < NMECH; i++)
		if (!strcmp(mechs[i].name, name))
			return i;
	return -1;
}

static void chan_init(struct chan *c, const struct mech *m, size_t size, int depth)
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
static int depth_for(size_t size)
{
	size_t d = O.inflight / size;

	if (d < 2)
		d = 2;
	if (d > 256)
		d = 256;
	return (int)d;
}

/* ---- running children ---------------------------------------------------------- */

static void wait_go(void)
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
static int reap(pid_t *pids, int n, int nfirst, int timeout_s, char *why, size_t len)
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

static void reset_ctl(void)
{
	memset(ctl, 0, sizeof(*ctl));
}

/* Start everyone, give them the go once all are ready. */
static void release_children(int n)
{
	uint64_t t = now_ns();

	while (atomic_load(&ctl->ready) < n && !atomic_load(&ctl->failed)) {
		if (now_ns() - t > (uint64_t)O.timeout_s * NSEC)
			break;
		usleep(1000);
	}
	atomic_store(&ctl->go, 1);
}

static void send_hdr(void *p, uint64_t seq)
{
	memcpy(p, &seq, sizeof(seq));
}

static uint64_t recv_hdr(const void *p, size_t len)
{
	uint64_t seq;

	if (len < sizeof(seq))
		return FIN_SEQ - 1;
	memcpy(&seq, p, sizeof(seq));
	return seq;
}

/* ---- results ------------------------------------------------------------------- */

enum { ST_NONE, ST_OK, ST_SKIP, ST_ERR };
enum { LM_MIN, LM_P50, LM_P99, LM_P999, LM_MAX, LM_MEAN, LM_N };
enum { TM_MSGS, TM_MIBS, TM_SCPU, TM_RCPU, TM_RCSW, TM_N };

struct cell {
	int status;
	char note[160];
	double v[8];
};

static struct cell lat_res[NMECH][MAX_SIZES][MAX_REPS];
static struct cell tput_res[NMECH][MAX_SIZES][MAX_REPS];
static struct cell scale_res[NMECH][4][MAX_REPS];

/* Median (and spread) of metric @k over the repetitions that ran. */
struct stat3 {
	int n;			/* repetitions that succeeded */
	int status;		/* ST_OK if any succeeded, else the first status */
	const char *note;
	double med, min, max;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct stat3 summarize(struct cell *reps, int k)
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

/* ---- latency ------------------------------------------------------------------- */

static uint64_t clock_cost_ns, clock_res_ns;

static void measure_clock(void)
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

static int cpu_client(void)
{
	return O.pin == PIN_CROSS || O.pin == PIN_SAME ? 0 : -1;
}

static int cpu_server(void)
{
	return O.pin == PIN_CROSS ? 1 : O.pin == PIN_SAME ? 0 : -1;
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

/* ---- throughput ------------------------------------------------------------------ */

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

/* ---- scaling --------------------------------------------------------------------- */

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

/* ---- order of the cells ------------------------------------------------------------ */

static int mech_list(unsigned test, int *out)
{
	int i, n = 0;

	for (i = 0; i < NMECH; i++)
		if (mech_enabled[i] && (mechs[i].tests & test))
			out[n++] = i;
	return n;
}

static double elapsed_s(uint64_t since)
{
	return (double)(now_ns() - since) / NSEC;
}

static void progress(const char *test, int rep, const char *mech, const char *what,
		     const struct cell *r, int k, const char *unit, double scale)
{
	fprintf(stderr, "# %-10s rep %d %-15s %-6s ", test, rep + 1, mech, what);
	if (r->status == ST_OK)
		fprintf(stderr, "%12.2f %s\n", r->v[k] * scale, unit);
	else
		fprintf(stderr, "%s: %s\n", r->status == ST_SKIP ? "skip" : "ERROR", r->note);
}

static void run_latency(void)
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

static void run_throughput(void)
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

static void run_scaling(void)
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

/* ---- reporting --------------------------------------------------------------------- */

static FILE *csv;

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

static void csv_value(const char *test, const char *mech, size_t size, int procs,
		      const char *metric, double v, const char *unit, const char *note)
{
	struct stat3 s = { 1, ST_OK, note, v, v, v };

	csv_row(test, mech, size, procs, metric, &s, unit);
}

static double spread_pct(const struct stat3 *s)
{
	return s->n > 1 && s->med > 0 ? 100.0 * (s->max - s->min) / s->med : 0;
}

static void report_latency(void)
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

static void report_throughput(void)
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

static void report_scaling(void)
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

/* ---- targets -------------------------------------------------------------------------- */

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

static void compute_targets(void)
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

static void report_targets(void)
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

/* ---- main --------------------------------------------------------------------------- */

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
	main_pid = getpid();
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (O.pin == PIN_AUTO)
		O.pin = ncpus >= 2 ? PIN_CROSS : PIN_NONE;

	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		   -1, 0);
	samples = mmap(NULL, sizeof(double) * MAX_SAMPLES, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED || samples == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	if (O.csv) {
		csv = fopen(O.csv, "w");
		if (!csv)
			die("%s: %s", O.csv, strerror(errno));
		fprintf(csv, "pass,test,mech,size,procs,metric,median,min,max,n,unit,note\n");
	}

	/* Without the module every kport mechanism is skipped, not the run. */
	if (kport_query_version(&ver) < 0) {
		fprintf(stderr, "kport-bench: /dev/kport: %s: kport mechanisms skipped\n",
			strerror(errno));
		for (i = 0; i < NMECH; i++)
			if (mechs[i].flags & MF_KPORT)
				mech_enabled[i] = false;
	}
	atexit(restore_at_exit);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
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
	if (csv && fclose(csv))
		die("%s: %s", O.csv, strerror(errno));
	restore_tuning();
	return 0;
}
