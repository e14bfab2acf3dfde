// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftest: stress.  Many processes and threads send, receive, poll,
 * open, close, create and delete at once while the test kills some of them
 * with SIGKILL and interrupts others with signals, at random moments, for
 * a bounded time; then an independent tally proves that no message was
 * lost or duplicated and that nothing leaked.
 *
 * doc/semantics.md: a message is delivered whole, once; a failed call
 * changes nothing; deletion frees queued messages and wakes waiters with
 * EIDRM; a signal restarts a wait or fails it with EINTR only when nothing
 * happened yet; process-owned ports go with their creator; slices held by
 * a handle go with it; handles pin the module, ports without handles do
 * not.
 *
 * The tally.  Every message carries a unique id (from a counter in shared
 * memory), a header with its destination and a checksum, and a payload
 * derived from its id.  Shared per-id bitmaps, set with atomic
 * test-and-set:
 *   ack   the send returned 0 and the sender recorded it (tally ports);
 *   disc  the same on a churn port, whose messages deletion may discard;
 *   nack  the send failed: the message must never be received;
 *   got   a receiver got it: setting a bit that is already set is a
 *         duplicate.
 * The windows.  A sender killed between a successful send and recording
 * it leaves a message that is received but neither acked nor nacked: the
 * final check allows at most one such message per killed sending thread.
 * Receivers of the tally ports are never killed (only interrupted with
 * SIGUSR1, which must never lose a message), so every message they take is
 * recorded: at the end every acked id must have been got, and the ports'
 * own counters must agree with the tally (sum of stat.received == messages
 * got).  Messages on ports that get deleted are legitimately discarded, so
 * deletion, process-owned ports, inboxes and killed receivers are
 * exercised on separate churn ports, whose messages are checked for
 * duplicates, integrity and destination but not for loss.
 *
 * Nothing leaks: at the end no port of the test is listed in /proc/kport,
 * the module's refcount is back, and the user's max_user_bytes quota has
 * exactly the room it had before (probed by filling it with the limit
 * lowered for a moment): a queued message that was never freed, say on
 * deletion, would still be charged.  A second test kills holders of every
 * kind of handle (creators of process-owned ports, inboxes, borrowed pool
 * slices and mappings, blocked senders and receivers) all at once, round
 * after round, and checks the same.
 *
 * Reproducing: the seed is printed; KPORT_STRESS_SEED=<seed> makes the
 * same random choices (the interleaving is the scheduler's).
 * KPORT_STRESS_SECONDS sets the duration (default 20 s, 15 s in the debug
 * lane: KPORT_LANE=debug).  The main test prints one line
 *   kport-figure: stress messages=N acked=N kills=N ops=N seconds=S
 */
#include "kport_test.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/epoll.h>

/* ---- Configuration -------------------------------------------------------- */

#define ST_THREADS	2		/* threads per worker process */
#define ST_MAX_IDS	(1U << 22)	/* message ids the tally can follow */
#define ST_MAX_SLOTS	4096		/* sender incarnations followed for order */
#define ST_MAGIC	0x6b707374U
#define ST_CHURN_PORT	0x100U		/* st_hdr.port of a churn message */
#define ST_NR_CHURN	3		/* churn port names */
#define ST_CHURN_MSG	256U		/* msg_size of churn ports */
#define ST_CHURN_FDS	6		/* descriptors a churn thread juggles */
#define ST_BUF_SIZE	65536U		/* receive buffer: above every msg_size */
#define ST_HOLDERS	6		/* children of the killed-holders test */

enum st_role { ST_SENDER, ST_RECEIVER, ST_POLLER, ST_OPENER, ST_CHURNER,
	       ST_NR_ROLES };

static const char *const st_role_name[ST_NR_ROLES] = {
	"sender", "receiver", "poller", "opener", "churner",
};

static const int st_role_count[ST_NR_ROLES] = { 3, 2, 1, 1, 2 };
#define ST_MAX_PER_ROLE	3

/* The tally ports: created by the test, never deleted until the end. */
struct st_port_spec {
	const char *tag;
	uint64_t flags;
	uint32_t capacity;
	uint32_t msg_size;
	uint64_t pool_size;
};

#define ST_NR_TALLY	6
static const struct st_port_spec st_tally[ST_NR_TALLY] = {
	{ "q8", 0, 8, 512, 0 },				/* bounded */
	{ "rv", 0, 0, 512, 0 },				/* rendezvous */
	{ "ub", 0, KPORT_CAPACITY_UNBOUNDED, 8192, 0 },	/* unbounded */
	{ "fx", KPORT_CREATE_FIXED, 4, 64, 0 },		/* fixed size */
	{ "pl", 0, 4, 40000, 256 << 10 },		/* pool (above 16 KiB) */
	{ "zc", KPORT_CREATE_ZEROCOPY, 2, 20000, 128 << 10 }, /* borrow/post */
};
#define ST_ZC		5

/* What every message starts with; the payload after it is st_fill(id). */
struct st_hdr {
	uint32_t magic;
	uint32_t id;
	uint32_t port;		/* tally index, or ST_CHURN_PORT | churn index */
	uint32_t slot;		/* sender incarnation */
	uint32_t thread;
	uint32_t seq;		/* per (slot, thread) */
	uint32_t prio;
	uint32_t len;		/* whole message */
	uint64_t port_id;	/* stat.id of the destination */
	int32_t pid;		/* sender's process */
	uint32_t check;
};

struct st_shared {
	uint64_t seed;
	int phase;		/* 0 run; 1 workers stop; 2 receivers drain */
	uint32_t next_id;
	uint64_t ops;
	uint64_t acked, nacked, got_tally, got_churn;
	uint64_t inplace, borrowed, eintr;
	int failures;
	char why[256];
	pid_t pids[ST_NR_ROLES][ST_MAX_PER_ROLE];
	char tally_name[ST_NR_TALLY][KPORT_NAME_MAX];
	uint64_t tally_id[ST_NR_TALLY];
	char churn_name[ST_NR_CHURN][KPORT_NAME_MAX];
	char prefix[32];
	uint64_t ack[ST_MAX_IDS / 64];
	uint64_t disc[ST_MAX_IDS / 64];
	uint64_t nack[ST_MAX_IDS / 64];
	uint64_t got[ST_MAX_IDS / 64];
};

static struct st_shared *sh;

/* ---- Small helpers ---------------------------------------------------------- */

static uint32_t st_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(kt_rand64(s) % n) : 0;
}

static uint64_t st_mix(uint64_t a, uint64_t b)
{
	uint64_t s = a ^ (b * 0xd1342543de82ef95ULL);

	return kt_rand64(&s);
}

/* Record a failure; the first one is kept for the final report. */
static void __attribute__((format(printf, 1, 2))) st_fail(const char *fmt, ...)
{
	char msg[sizeof(sh->why)];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = __atomic_fetch_add(&sh->failures, 1, __ATOMIC_SEQ_CST);
	if (n < 20)
		fprintf(stderr, "# stress: pid %d: %s\n", (int)getpid(), msg);
	if (n == 0)
		memcpy(sh->why, msg, sizeof(msg));
}

static void st_count(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static int st_phase(void)
{
	return __atomic_load_n(&sh->phase, __ATOMIC_ACQUIRE);
}

/* Set bit @id of @map; returns whether it was set already. */
static bool st_bit_set(uint64_t *map, uint32_t id)
{
	uint64_t bit = 1ULL << (id % 64);

	return __atomic_fetch_or(&map[id / 64], bit, __ATOMIC_SEQ_CST) & bit;
}

static bool st_bit(const uint64_t *map, uint32_t id)
{
	return __atomic_load_n(&map[id / 64], __ATOMIC_SEQ_CST) &
	       (1ULL << (id % 64));
}

/* Is @err (a negative errno) one of the zero-terminated list? */
static bool st_err_in(int err, const int *list)
{
	for (; *list; list++)
		if (err == -*list)
			return true;
	return false;
}

#define ST_ERRS(...)	((const int[]){ __VA_ARGS__, 0 })

static uint32_t st_check(const struct st_hdr *h)
{
	const unsigned char *p = (const void *)h;
	uint32_t x = 2166136261U;
	size_t i;

	for (i = 0; i < offsetof(struct st_hdr, check); i++)
		x = (x ^ p[i]) * 16777619U;
	return x;
}

/* The payload after the header: kt_fill()'s pattern seeded with the id. */
static void st_build(void *buf, uint32_t id, uint32_t port, uint32_t slot,
		     uint32_t thread, uint32_t seq, uint32_t prio, uint32_t len,
		     uint64_t port_id)
{
	struct st_hdr *h = buf;

	memset(h, 0, sizeof(*h));
	h->magic = ST_MAGIC;
	h->id = id;
	h->port = port;
	h->slot = slot;
	h->thread = thread;
	h->seq = seq;
	h->prio = prio;
	h->len = len;
	h->port_id = port_id;
	h->pid = getpid();
	h->check = st_check(h);
	kt_fill((char *)buf + sizeof(*h), len - sizeof(*h), id);
}

/*
 * Check a received message and record it in the tally.  @port is what the
 * destination must be (tally index or ST_CHURN_PORT | c), @port_id its
 * stat.id, @m the receive's result (NULL after read()).  Returns the
 * header, or NULL if the message is corrupt (a failure is recorded).
 */
static const struct st_hdr *st_take(const void *buf, uint32_t len,
				    uint32_t port, uint64_t port_id,
				    const struct kport_msg *m)
{
	const struct st_hdr *h = buf;

	if (len < sizeof(*h) || h->magic != ST_MAGIC || h->check != st_check(h) ||
	    h->len != len || h->id >= ST_MAX_IDS) {
		st_fail("corrupt message: len %u magic %#x id %u", len,
			len >= sizeof(*h) ? h->magic : 0,
			len >= sizeof(*h) ? h->id : 0);
		return NULL;
	}
	if (kt_check_fill((const char *)buf + sizeof(*h), len - sizeof(*h),
			  h->id)) {
		st_fail("message %u: payload corrupt", h->id);
		return NULL;
	}
	if (h->port != port || h->port_id != port_id)
		st_fail("message %u for port %#x (id %llu) received on %#x (id %llu)",
			h->id, h->port, (unsigned long long)h->port_id, port,
			(unsigned long long)port_id);
	if (m && (m->priority != h->prio || m->pid != h->pid || m->uid != 0))
		st_fail("message %u: priority %u pid %d uid %u, sent with %u %d 0",
			h->id, m->priority, m->pid, m->uid, h->prio, h->pid);
	if (st_bit_set(sh->got, h->id))
		st_fail("message %u (slot %u thread %u seq %u) received twice",
			h->id, h->slot, h->thread, h->seq);
	if (st_bit(sh->nack, h->id))
		st_fail("message %u received although its send failed", h->id);
	st_count(port & ST_CHURN_PORT ? &sh->got_churn : &sh->got_tally);
	return h;
}

/* ---- /proc/kport and the module's reference count ----------------------- */

/*
 * Wait (at most KT_TIMEOUT_MS) until /proc/kport lists @ports ports, none
 * named @prefix..., and the module's refcount is @refcnt.  0 or -ETIMEDOUT
 * (with what was seen in the out parameters).
 */
static int st_wait_quiet(const char *prefix, int ports, long refcnt,
			 int *seen_ports, int *seen_ours, long *seen_ref)
{
	uint64_t end = kt_now_ns() + KT_TIMEOUT_MS * KT_NSEC_PER_MSEC;

	for (;;) {
		*seen_ports = kt_proc_ports(prefix, seen_ours);
		*seen_ref = kt_module_refcnt();
		if (*seen_ports == ports && *seen_ours == 0 &&
		    *seen_ref == refcnt)
			return 0;
		if (kt_now_ns() > end)
			return -ETIMEDOUT;
		kt_sleep_ms(10);
	}
}

/* ---- The user's quota: what is still charged ------------------------------- */

#define ST_PROBE_LIMIT	(4UL << 20)
#define ST_PROBE_MSG	(1U << 20)

struct st_headroom {
	int full;		/* ST_PROBE_MSG messages that fit */
	long last;		/* and the largest one after them, -1: none */
};

static int st_param(const char *name, char *val, size_t size, const char *set)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/kport/parameters/%s", name);
	fd = open(path, (set ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (set)
		n = write(fd, set, strlen(set));
	else
		n = read(fd, val, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	if (!set)
		val[n] = '\0';
	return 0;
}

/*
 * How much of max_user_bytes is free for us, in messages: with the limit
 * lowered to ST_PROBE_LIMIT, how many ST_PROBE_MSG-byte messages an
 * unbounded port takes, and how large one more may be.  Everything this
 * user has queued anywhere (or leaked) lowers it; the per-message overhead
 * is the same at every probe, so two probes with nothing queued in between
 * must agree exactly.  0, or -errno if the probe cannot be made.
 */
static int st_probe_headroom(struct st_headroom *hr)
{
	char old[32], num[32];
	int big = -1, one = -1, ret = 0;
	long lo, hi;
	char *buf;

	buf = malloc(ST_PROBE_MSG);
	if (!buf)
		return -ENOMEM;
	memset(buf, 0x5a, ST_PROBE_MSG);
	ret = st_param("max_user_bytes", old, sizeof(old), NULL);
	if (ret)
		goto out_free;
	snprintf(num, sizeof(num), "%lu", ST_PROBE_LIMIT);
	ret = st_param("max_user_bytes", NULL, 0, num);
	if (ret)
		goto out_free;
	big = kt_create(NULL, 0, KPORT_CAPACITY_UNBOUNDED, ST_PROBE_MSG, 0600,
			KPORT_RIGHTS_ALL);
	one = kt_create(NULL, 0, 1, ST_PROBE_MSG, 0600, KPORT_RIGHTS_ALL);
	if (big < 0 || one < 0) {
		ret = big < 0 ? big : one;
		goto out;
	}
	hr->full = 0;
	while (hr->full < 64 &&
	       kt_send(big, buf, ST_PROBE_MSG, 0, KPORT_MSG_NONBLOCK, 0) == 0)
		hr->full++;
	/* The largest message that still fits: [lo, hi) */
	lo = -1;
	hi = ST_PROBE_MSG;
	while (hi - lo > 1) {
		long mid = (lo + hi) / 2;

		if (kt_send(one, buf, (uint32_t)mid, 0, KPORT_MSG_NONBLOCK, 0) == 0) {
			lo = mid;
			kt_recv(one, buf, ST_PROBE_MSG, KPORT_MSG_NONBLOCK, NULL);
		} else {
			hi = mid;
		}
	}
	hr->last = lo;
out:
	if (big >= 0)
		close(big);
	if (one >= 0)
		close(one);
	if (st_param("max_user_bytes", NULL, 0, old) && !ret)
		ret = -EIO;
out_free:
	free(buf);
	return ret;
}

/* ---- Workers ----------------------------------------------------------------- */

struct st_worker {
	int role;
	int idx;
	uint32_t slot;
	uint32_t thread;
	uint64_t rng;
	pthread_t tid;
};

static void st_on_signal(int sig)
{
	(void)sig;
}

/* A tally handle and, for pool ports, its mapping. */
struct st_handle {
	int fd;
	bool nonblock;
	void *map;
	size_t map_len;
};

static void st_handle_close(struct st_handle *h)
{
	if (h->map)
		munmap(h->map, h->map_len);
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->map = NULL;
}

/*
 * Open tally port @t for @rights (O_NONBLOCK with @nonblock); map its pool
 * with @prot if it has one (0: do not map).  Returns 0 or records a
 * failure (tally ports are never deleted: opening them must work).
 */
static int st_handle_open(struct st_handle *h, int t, uint32_t rights,
			  bool nonblock, int prot)
{
	h->map = NULL;
	h->nonblock = nonblock;
	h->fd = kt_open(sh->tally_name[t], rights,
			nonblock ? KPORT_OPEN_NONBLOCK : 0);
	if (h->fd < 0) {
		st_fail("open tally port %s rights %u: %d", sh->tally_name[t],
			rights, h->fd);
		h->fd = -1;
		return -1;
	}
	if (st_tally[t].pool_size && prot) {
		h->map_len = st_tally[t].pool_size;
		h->map = mmap(NULL, h->map_len, prot, MAP_SHARED, h->fd, 0);
		if (h->map == MAP_FAILED) {
			st_fail("mmap pool of %s prot %d: errno %d",
				sh->tally_name[t], prot, errno);
			h->map = NULL;
			st_handle_close(h);
			return -1;
		}
	}
	return 0;
}

/*
 * Zero-copy send of @len bytes built in place: borrow, write, post.
 * Returns what the post returned, or the borrow's error with *@id_used
 * false (no id was spent).
 */
static int st_zc_send(struct st_worker *w, struct st_handle *h, uint32_t id,
		      uint32_t seq, uint32_t prio, uint32_t len,
		      uint64_t deadline, bool *id_used)
{
	struct kport_slice s;
	struct kport_msg m;
	int ret;

	*id_used = false;
	memset(&s, 0, sizeof(s));
	s.flags = KPORT_MSG_DEADLINE;
	s.len = len;
	s.deadline_ns = deadline;
	ret = kt_ioctl(h->fd, KPORT_IOC_BORROW, &s);
	if (ret < 0)
		return ret;
	st_count(&sh->borrowed);
	if (s.offset + len > h->map_len || s.offset % 4096) {
		st_fail("borrow returned offset %llu for %u bytes",
			(unsigned long long)s.offset, len);
		return -EPROTO;
	}
	st_build((char *)h->map + s.offset, id, ST_ZC, w->slot, w->thread, seq,
		 prio, len, sh->tally_id[ST_ZC]);
	*id_used = true;
	memset(&m, 0, sizeof(m));
	m.flags = KPORT_MSG_POST | KPORT_MSG_DEADLINE;
	m.len = len;
	m.priority = prio;
	m.offset = s.offset;
	m.deadline_ns = deadline;
	ret = kt_ioctl(h->fd, KPORT_IOC_SEND, &m);
	if (ret < 0) {
		/* A failed post leaves the slice borrowed: give it back. */
		int r = kt_release(h->fd, s.offset, len);

		if (r)
			st_fail("release of a slice whose post failed (%d): %d",
				ret, r);
	}
	return ret < 0 ? ret : 0;
}

static void *st_sender(void *arg)
{
	struct st_worker *w = arg;
	struct st_handle hd[ST_NR_TALLY];
	char *buf = malloc(ST_BUF_SIZE);
	uint32_t seq = 0;
	int t;

	if (!buf) {
		st_fail("sender: out of memory");
		return NULL;
	}
	for (t = 0; t < ST_NR_TALLY; t++)
		hd[t].fd = -1;
	while (st_phase() == 0) {
		const struct st_port_spec *ps;
		uint32_t id, len, prio, method;
		uint64_t deadline = 0;
		bool deadline_used = false, nonblock, id_used = true;
		int ret;

		t = (int)st_below(&w->rng, ST_NR_TALLY);
		ps = &st_tally[t];
		if (hd[t].fd < 0) {
			uint32_t rights = st_below(&w->rng, 3) ?
					  KPORT_RIGHT_SEND : KPORT_RIGHTS_ALL;

			/*
			 * A send-only handle is an O_WRONLY file, which mmap()
			 * refuses (EACCES) although the contract lets a
			 * zero-copy sender map the pool: the fuzzer reports that;
			 * here a zero-copy sender takes both rights.
			 */
			if (t == ST_ZC)
				rights = KPORT_RIGHTS_ALL;

			if (st_handle_open(&hd[t], t, rights,
					   st_below(&w->rng, 4) == 0,
					   t == ST_ZC ? PROT_READ | PROT_WRITE : 0)) {
				kt_sleep_ms(10);
				continue;
			}
		}
		id = __atomic_fetch_add(&sh->next_id, 1, __ATOMIC_RELAXED);
		if (id >= ST_MAX_IDS) {
			kt_sleep_ms(5);
			continue;
		}
		if (ps->flags & KPORT_CREATE_FIXED)
			len = ps->msg_size;
		else
			len = sizeof(struct st_hdr) +
			      st_below(&w->rng, ps->msg_size -
					sizeof(struct st_hdr) + 1);
		method = st_below(&w->rng, 10);
		prio = st_below(&w->rng, 2) ? 0 : st_below(&w->rng, KPORT_PRIO_MAX);
		if (method == 9 && hd[t].nonblock)
			prio = 0;	/* write() sends at priority 0 */
		nonblock = hd[t].nonblock || method == 6 || method == 7;

		if (t == ST_ZC && method < 4) {
			deadline = kt_deadline_ms(1 + st_below(&w->rng, 20));
			deadline_used = true;
			ret = st_zc_send(w, &hd[t], id, seq, prio, len, deadline,
					 &id_used);
		} else {
			st_build(buf, id, (uint32_t)t, w->slot, w->thread, seq,
				 prio, len, sh->tally_id[t]);
			if (method == 6 || method == 7) {
				ret = kt_send(hd[t].fd, buf, len, prio,
					      KPORT_MSG_NONBLOCK, 0);
			} else if (method == 8) {
				/* A past deadline: complete at once or time out. */
				deadline_used = true;
				ret = kt_send(hd[t].fd, buf, len, prio,
					      KPORT_MSG_DEADLINE, 1);
			} else if (method == 9 && hd[t].nonblock) {
				ssize_t n = write(hd[t].fd, buf, len);

				ret = n < 0 ? -errno : (n == (ssize_t)len ? 0 : -EPROTO);
			} else {
				deadline_used = true;
				deadline = kt_deadline_ms(1 + st_below(&w->rng, 20));
				ret = kt_send(hd[t].fd, buf, len, prio,
					      KPORT_MSG_DEADLINE, deadline);
			}
		}
		st_count(&sh->ops);
		seq++;
		if (ret == 0) {
			st_bit_set(sh->ack, id);
			st_count(&sh->acked);
		} else if (id_used) {
			st_bit_set(sh->nack, id);
			st_count(&sh->nacked);
		}
		if (ret == -EINTR)
			st_count(&sh->eintr);
		if (ret && !st_err_in(ret, ST_ERRS(EINTR, ENOBUFS)) &&
		    !(ret == -EAGAIN && nonblock) &&
		    !(ret == -ETIMEDOUT && deadline_used))
			st_fail("send to %s (method %u, len %u): %d",
				sh->tally_name[t], method, len, ret);
		if (st_below(&w->rng, 100) == 0)
			st_handle_close(&hd[t]);
	}
	for (t = 0; t < ST_NR_TALLY; t++)
		st_handle_close(&hd[t]);
	free(buf);
	return NULL;
}

/* Per-thread order check: prio-0 messages of one sender thread on one port. */
struct st_order {
	uint32_t last[ST_NR_TALLY][ST_MAX_SLOTS][ST_THREADS];	/* seq + 1 */
};

static void st_order_check(struct st_order *o, int t, const struct st_hdr *h)
{
	uint32_t *last;

	if (!h || h->prio || h->slot >= ST_MAX_SLOTS || h->thread >= ST_THREADS)
		return;
	last = &o->last[t][h->slot][h->thread];
	if (*last && h->seq + 1 <= *last)
		st_fail("port %s: sender slot %u thread %u: seq %u after %u",
			sh->tally_name[t], h->slot, h->thread, h->seq, *last - 1);
	*last = h->seq + 1;
}

/*
 * One receive from tally port @t by a method chosen at random; records
 * what it gets.  Returns the receive's result (a size or -errno).
 */
static int st_receive_one(struct st_worker *w, struct st_handle *hd, int t,
			  int ep, char *buf, struct st_order *o, bool drain)
{
	const struct st_port_spec *ps = &st_tally[t];
	struct st_handle *h = &hd[t];
	uint32_t method = drain ? 3 : st_below(&w->rng, 10);
	bool nonblock = h->nonblock || drain;
	struct kport_msg m;
	uint64_t flags;
	int ret, i;

	memset(&m, 0, sizeof(m));
	switch (method) {
	case 3:		/* non-blocking */
		ret = kt_recv_ex(h->fd, buf, ST_BUF_SIZE, KPORT_MSG_NONBLOCK, 0,
				 0, &m);
		nonblock = true;
		break;
	case 4: {	/* a buffer too small first: EMSGSIZE leaves it queued */
		uint32_t small = st_below(&w->rng, ps->msg_size);

		ret = kt_recv_ex(h->fd, buf, small, KPORT_MSG_DEADLINE, 0,
				 kt_deadline_ms(1 + st_below(&w->rng, 10)), &m);
		if (ret == -EMSGSIZE) {
			if (m.len <= small || m.len > ps->msg_size)
				st_fail("EMSGSIZE for a %u-byte buffer reported %u",
					small, m.len);
			ret = kt_recv_ex(h->fd, buf, ST_BUF_SIZE,
					 KPORT_MSG_NONBLOCK, 0, 0, &m);
			nonblock = true;
		} else if (ret >= 0 && (uint32_t)ret > small) {
			st_fail("a %u-byte message into a %u-byte buffer", ret,
				small);
		}
		break;
	}
	case 5:		/* read() on a non-blocking handle */
		if (!h->nonblock)
			goto deadline;
		ret = (int)read(h->fd, buf, ST_BUF_SIZE);
		if (ret < 0)
			ret = -errno;
		if (ret >= 0)
			st_order_check(o, t, st_take(buf, (uint32_t)ret, (uint32_t)t,
						     sh->tally_id[t], NULL));
		return ret;
	case 6: {	/* poll, then a non-blocking receive */
		struct pollfd pfd = { .fd = h->fd, .events = POLLIN };

		ret = poll(&pfd, 1, (int)st_below(&w->rng, 10));
		if (ret < 0 && errno != EINTR)
			st_fail("poll: errno %d", errno);
		if (ret > 0 && (pfd.revents & ~(POLLIN | POLLRDNORM)))
			st_fail("poll of %s: revents %#x", sh->tally_name[t],
				pfd.revents);
		ret = kt_recv_ex(h->fd, buf, ST_BUF_SIZE, KPORT_MSG_NONBLOCK, 0,
				 0, &m);
		nonblock = true;
		break;
	}
	case 7: {	/* epoll over every tally port, then receive from one */
		struct epoll_event ev[ST_NR_TALLY];
		int n = epoll_wait(ep, ev, ST_NR_TALLY, (int)st_below(&w->rng, 10));

		if (n < 0 && errno != EINTR)
			st_fail("epoll_wait: errno %d", errno);
		if (n > 0) {
			t = (int)ev[st_below(&w->rng, (uint32_t)n)].data.u32;
			h = &hd[t];
			ps = &st_tally[t];
		}
		ret = kt_recv_ex(h->fd, buf, ST_BUF_SIZE, KPORT_MSG_NONBLOCK, 0,
				 0, &m);
		nonblock = true;
		break;
	}
	case 8: {	/* only from one sender, maybe dead, maybe gone */
		pid_t from = __atomic_load_n(&sh->pids[ST_SENDER][st_below(&w->rng,
					     (uint32_t)st_role_count[ST_SENDER])],
					     __ATOMIC_RELAXED);

		if (from <= 0)
			goto deadline;
		ret = kt_recv_ex(h->fd, buf, ST_BUF_SIZE,
				 KPORT_MSG_FROM_PID | KPORT_MSG_DEADLINE, from,
				 kt_deadline_ms(1 + st_below(&w->rng, 10)), &m);
		if (ret == -ESRCH)
			return ret;
		if (ret >= 0 && m.pid != from)
			st_fail("FROM_PID %d got a message from %d", from, m.pid);
		break;
	}
	case 9:		/* in place, from a pool port */
		if (!h->map)
			goto deadline;
		ret = kt_recv_ex(h->fd, buf, ST_BUF_SIZE,
				 KPORT_MSG_INPLACE | KPORT_MSG_DEADLINE, 0,
				 kt_deadline_ms(1 + st_below(&w->rng, 10)), &m);
		if (ret >= 0 && (m.result & KPORT_RESULT_INPLACE)) {
			st_count(&sh->inplace);
			if (m.offset % 4096 || m.offset + m.len > h->map_len) {
				st_fail("in-place message at %llu+%u in a %zu-byte pool",
					(unsigned long long)m.offset, m.len,
					h->map_len);
				return ret;
			}
			st_order_check(o, t, st_take((char *)h->map + m.offset,
						     m.len, (uint32_t)t,
						     sh->tally_id[t], &m));
			i = kt_release(h->fd, m.offset, m.len);
			if (i)
				st_fail("release of a received slice: %d", i);
			return ret;
		}
		break;
	default:
deadline:
		flags = KPORT_MSG_DEADLINE;
		ret = kt_recv_ex(h->fd, buf, ST_BUF_SIZE, flags, 0,
				 kt_deadline_ms(1 + st_below(&w->rng, 20)), &m);
		break;
	}
	if (ret >= 0)
		st_order_check(o, t, st_take(buf, (uint32_t)ret, (uint32_t)t,
					     sh->tally_id[t], &m));
	else if (ret == -EINTR)
		st_count(&sh->eintr);
	else if (!(ret == -EAGAIN && nonblock) && ret != -ETIMEDOUT &&
		 ret != -EINTR)
		st_fail("receive from %s (method %u): %d", sh->tally_name[t],
			method, ret);
	return ret;
}

static void *st_receiver(void *arg)
{
	struct st_worker *w = arg;
	struct st_handle hd[ST_NR_TALLY];
	struct st_order *o = calloc(1, sizeof(*o));
	char *buf = malloc(ST_BUF_SIZE);
	int t, ep;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!o || !buf || ep < 0) {
		st_fail("receiver: setup failed (errno %d)", errno);
		return NULL;
	}
	for (t = 0; t < ST_NR_TALLY; t++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)t };

		if (st_handle_open(&hd[t], t, st_below(&w->rng, 2) ?
				   KPORT_RIGHT_RECV : KPORT_RIGHTS_ALL,
				   st_below(&w->rng, 2), PROT_READ))
			return NULL;
		if (st_below(&w->rng, 2))
			ev.events |= EPOLLEXCLUSIVE;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, hd[t].fd, &ev))
			st_fail("epoll_ctl ADD: errno %d", errno);
	}
	while (st_phase() < 2) {
		t = (int)st_below(&w->rng, ST_NR_TALLY);
		st_receive_one(w, hd, t, ep, buf, o, false);
		st_count(&sh->ops);
	}
	/* Drain: nothing is sent any more. */
	for (t = 0; t < ST_NR_TALLY; t++)
		while (st_receive_one(w, hd, t, ep, buf, o, true) >= 0)
			;
	close(ep);
	for (t = 0; t < ST_NR_TALLY; t++)
		st_handle_close(&hd[t]);
	free(buf);
	free(o);
	return NULL;
}

/* Stat of a tally port: attributes as created, counters consistent. */
static void st_check_tally_stat(int t, const struct kport_stat *st)
{
	const struct st_port_spec *ps = &st_tally[t];
	uint32_t queued = st->nr_msgs - st->send_waiters;

	if (st->id != sh->tally_id[t] || st->capacity != ps->capacity ||
	    st->msg_size != ps->msg_size || st->status ||
	    st->pool_size != ps->pool_size ||
	    strncmp(st->name, sh->tally_name[t], KPORT_NAME_MAX))
		st_fail("stat of %s: id %llu capacity %u msg_size %u status %u",
			sh->tally_name[t], (unsigned long long)st->id,
			st->capacity, st->msg_size, st->status);
	if (st->nr_msgs < st->send_waiters ||
	    (ps->capacity != KPORT_CAPACITY_UNBOUNDED && queued > ps->capacity))
		st_fail("stat of %s: %u messages with %u blocked senders, capacity %u",
			sh->tally_name[t], st->nr_msgs, st->send_waiters,
			ps->capacity);
	if (st->bytes > (uint64_t)st->nr_msgs * ps->msg_size ||
	    ((ps->flags & KPORT_CREATE_FIXED) &&
	     st->bytes != (uint64_t)st->nr_msgs * ps->msg_size))
		st_fail("stat of %s: %llu bytes in %u messages", sh->tally_name[t],
			(unsigned long long)st->bytes, st->nr_msgs);
	if (st->pool_used > st->pool_size)
		st_fail("stat of %s: pool_used %llu of %llu", sh->tally_name[t],
			(unsigned long long)st->pool_used,
			(unsigned long long)st->pool_size);
}

static void *st_poller(void *arg)
{
	struct st_worker *w = arg;
	int fd[ST_NR_TALLY], t, ep;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		st_fail("poller: epoll_create1: errno %d", errno);
		return NULL;
	}
	for (t = 0; t < ST_NR_TALLY; t++)
		fd[t] = -1;
	while (st_phase() == 0) {
		struct pollfd pfd[ST_NR_TALLY];
		struct epoll_event ev[ST_NR_TALLY];
		struct kport_stat st;
		int n, i, ret;

		t = (int)st_below(&w->rng, ST_NR_TALLY);
		if (fd[t] < 0) {
			struct epoll_event e = { .data.u32 = (uint32_t)t };

			fd[t] = kt_open(sh->tally_name[t], st_below(&w->rng, 4),
					st_below(&w->rng, 2) ? KPORT_OPEN_NONBLOCK : 0);
			if (fd[t] < 0) {
				st_fail("poller: open %s: %d", sh->tally_name[t], fd[t]);
				fd[t] = -1;
				kt_sleep_ms(10);
				continue;
			}
			e.events = st_below(&w->rng, 2) ? EPOLLIN : EPOLLIN | EPOLLOUT;
			if (st_below(&w->rng, 2))
				e.events |= EPOLLEXCLUSIVE;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, fd[t], &e))
				st_fail("poller: epoll_ctl: errno %d", errno);
		}
		switch (st_below(&w->rng, 4)) {
		case 0:
			for (n = 0, i = 0; i < ST_NR_TALLY; i++) {
				if (fd[i] < 0)
					continue;
				pfd[n].fd = fd[i];
				pfd[n].events = POLLIN | POLLOUT;
				pfd[n].revents = 0;
				n++;
			}
			ret = poll(pfd, (nfds_t)n, (int)st_below(&w->rng, 10));
			if (ret < 0 && errno != EINTR)
				st_fail("poller: poll: errno %d", errno);
			for (i = 0; ret > 0 && i < n; i++)
				if (pfd[i].revents & ~(POLLIN | POLLRDNORM |
						       POLLOUT | POLLWRNORM))
					st_fail("poll of a tally port: revents %#x",
						pfd[i].revents);
			break;
		case 1:
			n = epoll_wait(ep, ev, ST_NR_TALLY, (int)st_below(&w->rng, 10));
			if (n < 0 && errno != EINTR)
				st_fail("poller: epoll_wait: errno %d", errno);
			for (i = 0; i < n; i++)
				if (ev[i].events & ~(EPOLLIN | EPOLLOUT))
					st_fail("epoll of a tally port: events %#x",
						ev[i].events);
			break;
		case 2:
			ret = kt_stat(fd[t], &st);
			if (ret)
				st_fail("stat of %s: %d", sh->tally_name[t], ret);
			else
				st_check_tally_stat(t, &st);
			break;
		default:
			close(fd[t]);
			fd[t] = -1;
			break;
		}
		st_count(&sh->ops);
	}
	for (t = 0; t < ST_NR_TALLY; t++)
		if (fd[t] >= 0)
			close(fd[t]);
	close(ep);
	return NULL;
}

static void *st_opener(void *arg)
{
	struct st_worker *w = arg;

	while (st_phase() == 0) {
		int t = (int)st_below(&w->rng, ST_NR_TALLY);
		uint32_t rights = st_below(&w->rng, 4);
		struct kport_version v;
		struct kport_stat st;
		int fd, fd2, ret;
		pid_t pid;

		fd = kt_open(sh->tally_name[t], rights,
			     st_below(&w->rng, 2) ? KPORT_OPEN_NONBLOCK : 0);
		st_count(&sh->ops);
		if (fd < 0) {
			st_fail("opener: open %s: %d", sh->tally_name[t], fd);
			kt_sleep_ms(10);
			continue;
		}
		ret = kt_stat(fd, &st);
		if (ret || st.rights != rights || st.handles < 2)
			st_fail("opener: stat of %s: %d rights %u handles %u",
				sh->tally_name[t], ret, st.rights, st.handles);
		else
			st_check_tally_stat(t, &st);
		switch (st_below(&w->rng, 8)) {
		case 0:		/* a second descriptor of the same handle */
			fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 0);
			if (fd2 < 0)
				st_fail("opener: dup: errno %d", errno);
			else
				close(fd2);
			break;
		case 1:		/* handles pass through fork */
			if (w->thread != 0)
				break;
			pid = fork();
			if (pid == 0) {
				ret = kt_stat(fd, &st);
				_exit(ret == 0 && st.id == sh->tally_id[t] ? 0 : 1);
			}
			if (pid < 0 || kt_reap(pid, KT_TIMEOUT_MS) != 0)
				st_fail("opener: forked holder of %s failed",
					sh->tally_name[t]);
			break;
		case 2:		/* a fresh /dev/kport */
			fd2 = open(KPORT_DEVICE, O_RDWR | O_CLOEXEC);
			memset(&v, 0, sizeof(v));
			if (fd2 < 0 || kt_ioctl(fd2, KPORT_IOC_VERSION, &v) ||
			    v.api_version != KPORT_API_VERSION)
				st_fail("opener: /dev/kport: errno %d", errno);
			if (fd2 >= 0)
				close(fd2);
			break;
		default:
			break;
		}
		close(fd);
	}
	return NULL;
}

/* ---- Churn: ports that come and go --------------------------------------- */

struct st_cfd {
	int fd;
	int churn;		/* churn name index, -1 for an inbox */
	uint32_t rights;
	uint64_t port_id;
};

static void st_cfd_close(struct st_cfd *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Learn the id of the port behind a new churn descriptor. */
static void st_cfd_set(struct st_cfd *c, int fd, int churn, uint32_t rights)
{
	struct kport_stat st;
	int ret;

	st_cfd_close(c);
	c->fd = fd;
	c->churn = churn;
	c->rights = rights;
	c->port_id = 0;
	ret = kt_stat(fd, &st);
	if (ret || st.rights != rights)
		st_fail("churn: stat of a new handle: %d rights %u", ret, st.rights);
	else
		c->port_id = st.id;
}

static void st_churn_send(struct st_worker *w, struct st_cfd *c, char *buf,
			  uint32_t *seq)
{
	uint32_t id, len;
	int ret;

	id = __atomic_fetch_add(&sh->next_id, 1, __ATOMIC_RELAXED);
	if (id >= ST_MAX_IDS)
		return;
	len = sizeof(struct st_hdr) +
	      st_below(&w->rng, ST_CHURN_MSG - sizeof(struct st_hdr) + 1);
	st_build(buf, id, ST_CHURN_PORT | (uint32_t)(c->churn & 0xff), w->slot,
		 w->thread, (*seq)++, 0, len, c->port_id);
	ret = kt_send(c->fd, buf, len, 0, KPORT_MSG_DEADLINE,
		      kt_deadline_ms(1 + st_below(&w->rng, 10)));
	if (ret == 0) {
		st_bit_set(sh->disc, id);
	} else {
		st_bit_set(sh->nack, id);
		if (!st_err_in(ret, ST_ERRS(EIDRM, ETIMEDOUT, EAGAIN, ENOBUFS)))
			st_fail("churn: send: %d", ret);
	}
}

static void st_churn_recv(struct st_worker *w, struct st_cfd *c, char *buf)
{
	struct kport_msg m;
	int ret;

	ret = kt_recv_ex(c->fd, buf, ST_BUF_SIZE, KPORT_MSG_DEADLINE, 0,
			 kt_deadline_ms(1 + st_below(&w->rng, 10)), &m);
	if (ret >= 0)
		st_take(buf, (uint32_t)ret,
			ST_CHURN_PORT | (uint32_t)(c->churn & 0xff), c->port_id,
			&m);
	else if (!st_err_in(ret, ST_ERRS(EIDRM, ETIMEDOUT, EAGAIN)))
		st_fail("churn: receive: %d", ret);
}

static void *st_churner(void *arg)
{
	static const uint32_t caps[] = { 0, 1, 4, KPORT_CAPACITY_UNBOUNDED };
	struct st_worker *w = arg;
	struct st_cfd cfd[ST_CHURN_FDS];
	char *buf = malloc(ST_BUF_SIZE);
	uint32_t seq = 0;
	int i;

	if (!buf) {
		st_fail("churner: out of memory");
		return NULL;
	}
	for (i = 0; i < ST_CHURN_FDS; i++)
		cfd[i].fd = -1;
	while (st_phase() == 0) {
		int churn = (int)st_below(&w->rng, ST_NR_CHURN);
		struct st_cfd *c = &cfd[st_below(&w->rng, ST_CHURN_FDS)];
		const char *name = sh->churn_name[churn];
		struct kport_stat st;
		struct pollfd pfd;
		uint64_t flags;
		uint32_t rights;
		pid_t peer;
		int fd, ret;

		st_count(&sh->ops);
		switch (st_below(&w->rng, 14)) {
		case 0:		/* create, kernel- or process-owned */
			flags = st_below(&w->rng, 3) ? 0 : KPORT_CREATE_PROCESS;
			fd = kt_create(name, flags, caps[st_below(&w->rng, 4)],
				       ST_CHURN_MSG, 0600, KPORT_RIGHTS_ALL);
			if (fd >= 0)
				st_cfd_set(c, fd, churn, KPORT_RIGHTS_ALL);
			else if (fd != -EEXIST)
				st_fail("churn: create %s: %d", name, fd);
			break;
		case 1:
		case 2:		/* open */
			rights = st_below(&w->rng, 4);
			fd = kt_open(name, rights, 0);
			if (fd >= 0)
				st_cfd_set(c, fd, churn, rights);
			else if (fd != -ENOENT)
				st_fail("churn: open %s: %d", name, fd);
			break;
		case 3:
		case 4:
		case 5:
			if (c->fd >= 0 && (c->rights & KPORT_RIGHT_SEND))
				st_churn_send(w, c, buf, &seq);
			break;
		case 6:
		case 7:
		case 8:
			if (c->fd >= 0 && (c->rights & KPORT_RIGHT_RECV))
				st_churn_recv(w, c, buf);
			break;
		case 9:		/* delete through a handle */
			if (c->fd < 0)
				break;
			ret = kt_delete(c->fd);
			if (ret && ret != -EIDRM)
				st_fail("churn: delete: %d", ret);
			break;
		case 10:	/* unlink by name */
			ret = kt_unlink(name);
			if (ret && ret != -ENOENT)
				st_fail("churn: unlink %s: %d", name, ret);
			break;
		case 11:	/* poll and stat: a deleted port is empty, HUP alone */
			if (c->fd < 0)
				break;
			pfd.fd = c->fd;
			pfd.events = POLLIN | POLLOUT;
			pfd.revents = 0;
			ret = poll(&pfd, 1, (int)st_below(&w->rng, 5));
			if (ret < 0 ||
			    (pfd.revents & ~(POLLIN | POLLRDNORM | POLLOUT |
					     POLLWRNORM | POLLHUP)) ||
			    ((pfd.revents & POLLHUP) &&
			     (pfd.revents & ~POLLHUP)))
				st_fail("churn: poll: %d revents %#x", ret,
					pfd.revents);
			ret = kt_stat(c->fd, &st);
			if (ret || st.id != c->port_id ||
			    ((st.status & KPORT_STATUS_DEAD) &&
			     (st.nr_msgs || st.bytes || st.send_waiters ||
			      st.recv_waiters)))
				st_fail("churn: stat: %d id %llu status %u msgs %u bytes %llu",
					ret, (unsigned long long)st.id, st.status,
					st.nr_msgs, (unsigned long long)st.bytes);
			break;
		case 12:	/* inboxes: mine, or the other churner's */
			if (st_below(&w->rng, 2)) {
				fd = kt_create(NULL, KPORT_CREATE_INBOX, 2,
					       ST_CHURN_MSG, 0600, KPORT_RIGHTS_ALL);
				if (fd >= 0)
					st_cfd_set(c, fd, ST_NR_CHURN, KPORT_RIGHTS_ALL);
				else if (fd != -EEXIST)
					st_fail("churn: create inbox: %d", fd);
				break;
			}
			peer = __atomic_load_n(&sh->pids[ST_CHURNER][st_below(&w->rng,
					       (uint32_t)st_role_count[ST_CHURNER])],
					       __ATOMIC_RELAXED);
			if (peer <= 0)
				break;
			fd = kt_open_inbox(peer, KPORT_RIGHTS_ALL, 0);
			if (fd >= 0)
				st_cfd_set(c, fd, ST_NR_CHURN, KPORT_RIGHTS_ALL);
			else if (fd != -ENOENT && fd != -ESRCH)
				st_fail("churn: open inbox of %d: %d", peer, fd);
			break;
		default:
			st_cfd_close(c);
			break;
		}
	}
	for (i = 0; i < ST_CHURN_FDS; i++)
		st_cfd_close(&cfd[i]);
	free(buf);
	return NULL;
}

static void *(*const st_role_fn[ST_NR_ROLES])(void *) = {
	st_sender, st_receiver, st_poller, st_opener, st_churner,
};

/* A worker process: ST_THREADS threads of one role, then _exit(). */
static void st_worker_main(int role, int idx, uint32_t slot)
{
	struct st_worker w[ST_THREADS];
	int i;

	for (i = 0; i < ST_THREADS; i++) {
		w[i].role = role;
		w[i].idx = idx;
		w[i].slot = slot;
		w[i].thread = (uint32_t)i;
		w[i].rng = st_mix(sh->seed, ((uint64_t)slot << 8) | (uint64_t)i);
		KT_CHILD_ASSERT(pthread_create(&w[i].tid, NULL, st_role_fn[role],
					       &w[i]) == 0);
	}
	for (i = 0; i < ST_THREADS; i++)
		pthread_join(w[i].tid, NULL);
	_exit(0);
}

static pid_t st_spawn(int role, int idx, uint32_t slot)
{
	pid_t pid = kt_fork();

	if (pid == 0)
		st_worker_main(role, idx, slot);
	if (pid > 0)
		__atomic_store_n(&sh->pids[role][idx], pid, __ATOMIC_RELEASE);
	return pid;
}

/* ---- The fixture ---------------------------------------------------------------- */

FIXTURE(stress) {
	int tally_fd[ST_NR_TALLY];
	pid_t pid[ST_NR_ROLES][ST_MAX_PER_ROLE];
	pid_t holder[ST_HOLDERS];
	int ports_before;
	long refcnt_before;
	unsigned int seconds;
};

FIXTURE_SETUP(stress)
{
	int r, i, ours;

	for (r = 0; r < ST_NR_ROLES; r++)
		for (i = 0; i < ST_MAX_PER_ROLE; i++)
			self->pid[r][i] = -1;
	for (i = 0; i < ST_HOLDERS; i++)
		self->holder[i] = -1;
	for (i = 0; i < ST_NR_TALLY; i++)
		self->tally_fd[i] = -1;
	self->seconds = kt_env_uint("KPORT_STRESS_SECONDS",
				    kt_debug_lane() ? 15 : 20);
	sh = kt_shared_alloc(sizeof(*sh));
	ASSERT_NE(NULL, sh);
	sh->seed = kt_env_seed("KPORT_STRESS_SEED");
	snprintf(sh->prefix, sizeof(sh->prefix), "kst.%d.", (int)getpid());
	for (i = 0; i < ST_NR_TALLY; i++)
		snprintf(sh->tally_name[i], KPORT_NAME_MAX, "%s%s", sh->prefix,
			 st_tally[i].tag);
	for (i = 0; i < ST_NR_CHURN; i++)
		snprintf(sh->churn_name[i], KPORT_NAME_MAX, "%sc%d", sh->prefix, i);
	/* Before anything of ours exists. */
	self->refcnt_before = kt_module_refcnt();
	ASSERT_LE(0, self->refcnt_before);
	self->ports_before = kt_proc_ports(sh->prefix, &ours);
	ASSERT_LE(0, self->ports_before);
	ASSERT_EQ(0, ours);
	/* Interrupted waits return EINTR; installed before any fork. */
	ASSERT_EQ(0, kt_sigaction(SIGUSR1, st_on_signal, 0));
}

FIXTURE_TEARDOWN(stress)
{
	int r, i;

	if (sh)
		__atomic_store_n(&sh->phase, 2, __ATOMIC_RELEASE);
	for (r = 0; r < ST_NR_ROLES; r++)
		for (i = 0; i < ST_MAX_PER_ROLE; i++)
			kt_kill_reap(self->pid[r][i]);
	for (i = 0; i < ST_HOLDERS; i++)
		kt_kill_reap(self->holder[i]);
	for (i = 0; i < ST_NR_TALLY; i++)
		if (self->tally_fd[i] >= 0)
			close(self->tally_fd[i]);
	if (sh) {
		for (i = 0; i < ST_NR_TALLY; i++)
			kt_unlink(sh->tally_name[i]);
		for (i = 0; i < ST_NR_CHURN; i++)
			kt_unlink(sh->churn_name[i]);
		munmap(sh, sizeof(*sh));
		sh = NULL;
	}
	kt_dev_close();
}

/* Reap worker @pid, which must have ended with @expect (exit code or 128+sig). */
static int st_reap(pid_t pid, int expect, const char *what, int idx)
{
	int rc = kt_reap(pid, KT_TIMEOUT_MS);

	if (rc != expect)
		st_fail("%s #%d (pid %d) ended with %d, expected %d", what, idx,
			(int)pid, rc, expect);
	return rc;
}

/* A worker that ended on its own (not killed by us) is a failure: respawn. */
static void st_reap_unexpected(FIXTURE_DATA(stress) *self, uint32_t *slot)
{
	int status, r, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (r = 0; r < ST_NR_ROLES; r++)
			for (i = 0; i < st_role_count[r]; i++)
				if (self->pid[r][i] == pid) {
					st_fail("%s #%d (pid %d) ended by itself: status %#x",
						st_role_name[r], i, (int)pid, status);
					self->pid[r][i] = st_spawn(r, i, (*slot)++);
				}
	}
}

TEST_F_TIMEOUT(stress, acked_messages_arrive_exactly_once_while_peers_are_killed_and_ports_deleted,
	       170)
{
	uint64_t start, end, lost = 0, nack_got = 0, inflight = 0, acked = 0;
	uint64_t got = 0, sum_sent = 0, sum_received = 0, kills[ST_NR_ROLES] = { 0 };
	uint64_t total_kills = 0, rng, max_inflight, signals = 0;
	uint32_t slot = 0, n, i;
	struct st_headroom hr0, hr1;
	int r, k, t, ports, ours;
	long ref;
	char *buf;

	/* What the user's quota looks like with nothing of ours queued. */
	ASSERT_EQ(0, st_probe_headroom(&hr0));
	rng = sh->seed;
	printf("# stress: seed=%llu seconds=%u lane=%s (KPORT_STRESS_SEED=%llu reproduces the choices)\n",
	       (unsigned long long)sh->seed, self->seconds,
	       getenv("KPORT_LANE") ?: (kt_debug_lane() ? "debug" : "stock"),
	       (unsigned long long)sh->seed);
	fflush(stdout);

	for (t = 0; t < ST_NR_TALLY; t++) {
		const struct st_port_spec *ps = &st_tally[t];
		struct kport_stat st;

		self->tally_fd[t] = kt_create_pool(sh->tally_name[t], ps->flags,
						   ps->capacity, ps->msg_size,
						   ps->pool_size);
		ASSERT_LE(0, self->tally_fd[t]) {
			TH_LOG("create %s: %d", sh->tally_name[t], self->tally_fd[t]);
		}
		ASSERT_EQ(0, kt_stat(self->tally_fd[t], &st));
		sh->tally_id[t] = st.id;
	}

	for (r = 0; r < ST_NR_ROLES; r++)
		for (k = 0; k < st_role_count[r]; k++) {
			self->pid[r][k] = st_spawn(r, k, slot++);
			ASSERT_LT(0, self->pid[r][k]);
		}

	/* The killer: SIGKILL any worker but the tally's receivers, SIGUSR1 all. */
	start = kt_now_ns();
	end = start + (uint64_t)self->seconds * KT_NSEC_PER_SEC;
	while (kt_now_ns() < end && !__atomic_load_n(&sh->failures, __ATOMIC_SEQ_CST)) {
		uint32_t pick = st_below(&rng, 100);

		kt_sleep_ms(2 + st_below(&rng, 30));
		st_reap_unexpected(self, &slot);
		/* Interrupt a sender or receiver, maybe in the middle of a wait. */
		for (i = st_below(&rng, 4); i; i--) {
			r = st_below(&rng, 2) ? ST_SENDER : ST_RECEIVER;
			k = (int)st_below(&rng, (uint32_t)st_role_count[r]);
			kill(self->pid[r][k], SIGUSR1);
			signals++;
			kt_sleep_ms(st_below(&rng, 3));
		}
		if (pick < 20)
			continue;
		r = pick < 65 ? ST_SENDER : pick < 80 ? ST_CHURNER :
		    pick < 90 ? ST_POLLER : ST_OPENER;
		k = (int)st_below(&rng, (uint32_t)st_role_count[r]);
		kill(self->pid[r][k], SIGKILL);
		st_reap(self->pid[r][k], 128 + SIGKILL, st_role_name[r], k);
		kills[r]++;
		total_kills++;
		self->pid[r][k] = st_spawn(r, k, slot++);
		ASSERT_LT(0, self->pid[r][k]);
	}
	end = kt_now_ns();

	/* Stop: every worker but the receivers ends, then they drain and end. */
	__atomic_store_n(&sh->phase, 1, __ATOMIC_RELEASE);
	for (r = 0; r < ST_NR_ROLES; r++) {
		if (r == ST_RECEIVER)
			continue;
		for (k = 0; k < st_role_count[r]; k++) {
			st_reap(self->pid[r][k], 0, st_role_name[r], k);
			self->pid[r][k] = -1;
		}
	}
	__atomic_store_n(&sh->phase, 2, __ATOMIC_RELEASE);
	for (k = 0; k < st_role_count[ST_RECEIVER]; k++) {
		st_reap(self->pid[ST_RECEIVER][k], 0, "receiver", k);
		self->pid[ST_RECEIVER][k] = -1;
	}

	/* What the receivers left (nothing, unless one missed a wake-up). */
	buf = malloc(ST_BUF_SIZE);
	ASSERT_NE(NULL, buf);
	for (t = 0; t < ST_NR_TALLY; t++) {
		struct kport_msg m;
		struct kport_stat st;
		int ret, left = 0;

		while ((ret = kt_recv_ex(self->tally_fd[t], buf, ST_BUF_SIZE,
					 KPORT_MSG_NONBLOCK, 0, 0, &m)) >= 0) {
			st_take(buf, (uint32_t)ret, (uint32_t)t, sh->tally_id[t], &m);
			left++;
		}
		EXPECT_EQ(-EAGAIN, ret);
		EXPECT_EQ(0, left) {
			TH_LOG("%s: %d messages left after the receivers drained it",
			       sh->tally_name[t], left);
		}
		ASSERT_EQ(0, kt_stat(self->tally_fd[t], &st));
		st_check_tally_stat(t, &st);
		EXPECT_EQ(0U, st.nr_msgs);
		EXPECT_EQ(0U, st.send_waiters);
		EXPECT_EQ(0U, st.recv_waiters);
		EXPECT_EQ(st.sent, st.received);
		EXPECT_EQ(0U, st.pool_used);	/* slices go with their handles */
		EXPECT_EQ(0U, st.slices_held);
		EXPECT_EQ(1U, st.handles);	/* ours: the killed ones' are gone */
		sum_sent += st.sent;
		sum_received += st.received;
	}
	free(buf);

	/* The tally. */
	n = sh->next_id < ST_MAX_IDS ? sh->next_id : ST_MAX_IDS;
	for (i = 0; i < n; i++) {
		bool a = st_bit(sh->ack, i), g = st_bit(sh->got, i);
		bool k2 = st_bit(sh->nack, i), d = st_bit(sh->disc, i);

		acked += a;
		got += g;
		if (a && !g && lost++ < 10)
			TH_LOG("message %u was acked and never received", i);
		if (k2 && g)
			nack_got++;
		if (g && !a && !k2 && !d)
			inflight++;
	}
	max_inflight = (kills[ST_SENDER] + kills[ST_CHURNER]) * ST_THREADS;
	printf("kport-figure: stress messages=%llu acked=%llu kills=%llu ops=%llu seconds=%llu\n",
	       (unsigned long long)sh->got_tally, (unsigned long long)acked,
	       (unsigned long long)total_kills, (unsigned long long)sh->ops,
	       (unsigned long long)((end - start + KT_NSEC_PER_SEC / 2) /
				    KT_NSEC_PER_SEC));
	fflush(stdout);
	TH_LOG("ids %u, acked %llu, nacked %llu, got %llu (tally %llu, churn %llu), in flight at a kill %llu (at most %llu)",
	       n, (unsigned long long)acked, (unsigned long long)sh->nacked,
	       (unsigned long long)got, (unsigned long long)sh->got_tally,
	       (unsigned long long)sh->got_churn, (unsigned long long)inflight,
	       (unsigned long long)max_inflight);
	TH_LOG("kills: %llu senders, %llu churners, %llu pollers, %llu openers; %llu SIGUSR1, %llu EINTR; %llu in place, %llu borrowed",
	       (unsigned long long)kills[ST_SENDER],
	       (unsigned long long)kills[ST_CHURNER],
	       (unsigned long long)kills[ST_POLLER],
	       (unsigned long long)kills[ST_OPENER], (unsigned long long)signals,
	       (unsigned long long)sh->eintr, (unsigned long long)sh->inplace,
	       (unsigned long long)sh->borrowed);

	EXPECT_EQ(0, sh->failures) {
		TH_LOG("%d failures, the first: %s (seed %llu)", sh->failures,
		       sh->why, (unsigned long long)sh->seed);
	}
	EXPECT_EQ(0U, lost);
	EXPECT_EQ(0U, nack_got);
	EXPECT_GE(max_inflight, inflight);
	/* Every message the ports delivered was recorded by a receiver. */
	EXPECT_EQ(sum_received, sh->got_tally);
	EXPECT_EQ(sum_sent, sum_received);
	/* Not a vacuous pass. */
	EXPECT_LT(100U, acked);
	if (self->seconds >= 2) {
		EXPECT_LT(0U, total_kills);
	}

	/* Nothing of ours is left: close, unlink, and look. */
	for (t = 0; t < ST_NR_TALLY; t++) {
		ASSERT_EQ(0, kt_unlink(sh->tally_name[t]));
		close(self->tally_fd[t]);
		self->tally_fd[t] = -1;
	}
	for (i = 0; i < ST_NR_CHURN; i++) {
		int ret = kt_unlink(sh->churn_name[i]);

		EXPECT_TRUE(ret == 0 || ret == -ENOENT);
	}
	kt_dev_close();
	EXPECT_EQ(0, st_wait_quiet(sh->prefix, self->ports_before,
				   self->refcnt_before, &ports, &ours, &ref)) {
		TH_LOG("/proc/kport: %d ports (%d before), %d of ours; refcnt %ld (%ld before)",
		       ports, self->ports_before, ours, ref, self->refcnt_before);
	}
	/* Every byte our messages were charged was given back. */
	ASSERT_EQ(0, st_probe_headroom(&hr1));
	kt_dev_close();
	EXPECT_TRUE(hr0.full == hr1.full && hr0.last == hr1.last) {
		TH_LOG("the user's quota has less room than before: %d messages of %u and one of %ld, before %d and %ld: queued bytes leaked",
		       hr1.full, ST_PROBE_MSG, hr1.last, hr0.full, hr0.last);
	}
}

/* ---- Killed holders ------------------------------------------------------------ */

/*
 * Children that own or hold every kind of handle, blocked in every kind of
 * wait, all killed at once: afterwards no port of theirs is listed (the
 * process-owned ones went with their creators, the anonymous ones with
 * their last handle), the kernel-owned one remains with no handle of
 * theirs and its messages, and the module's refcount is back.
 */
struct st_holders {
	int ready;
	char pname[KPORT_NAME_MAX];	/* process-owned, made by holder 0 */
	char kname[KPORT_NAME_MAX];	/* kernel-owned, made by holder 3 */
	pid_t inbox_pid;		/* holder 1 */
};

/*
 * Holder @kind: set up, report ready, then wait (far deadlines) until
 * killed.  No holder's wait can be satisfied by another holder: receivers
 * accept only messages from themselves.
 */
static void st_holder(struct st_holders *hs, int kind)
{
	uint64_t far = kt_deadline_ms(4 * KT_TIMEOUT_MS);
	char buf[64] = "held";
	int fd, fd2, i;

	switch (kind) {
	case 0:	/* creator of a process-owned rendezvous port, receiving */
		fd = kt_create(hs->pname, KPORT_CREATE_PROCESS, 0, 64, 0600,
			       KPORT_RIGHTS_ALL);
		KT_CHILD_ASSERT(fd >= 0);
		__atomic_fetch_add(&hs->ready, 1, __ATOMIC_SEQ_CST);
		kt_recv_ex(fd, buf, sizeof(buf),
			   KPORT_MSG_DEADLINE | KPORT_MSG_FROM_PID, getpid(),
			   far, NULL);
		break;
	case 1:	/* an inbox and a second handle to it, receiving */
		fd = kt_create(NULL, KPORT_CREATE_INBOX, 1, 64, 0600,
			       KPORT_RIGHTS_ALL);
		KT_CHILD_ASSERT(fd >= 0);
		fd2 = kt_open_inbox(getpid(), KPORT_RIGHT_RECV, 0);
		KT_CHILD_ASSERT(fd2 >= 0);
		__atomic_fetch_add(&hs->ready, 1, __ATOMIC_SEQ_CST);
		kt_recv_ex(fd2, buf, sizeof(buf),
			   KPORT_MSG_DEADLINE | KPORT_MSG_FROM_PID, getpid(),
			   far, NULL);
		break;
	case 2:	/* a borrowed pool slice, a mapping, a blocked send */
		fd = kt_create(NULL, 0, 1, 64, 0600, KPORT_RIGHTS_ALL);
		KT_CHILD_ASSERT(fd >= 0);
		KT_CHILD_ASSERT(kt_send(fd, buf, 8, 0, 0, 0) == 0);
		{
			struct kport_slice s;
			int zc;

			zc = kt_create_pool(NULL, KPORT_CREATE_ZEROCOPY, 2,
					    4096, 16384);
			KT_CHILD_ASSERT(zc >= 0);
			KT_CHILD_ASSERT(mmap(NULL, 16384, PROT_READ | PROT_WRITE,
					     MAP_SHARED, zc, 0) != MAP_FAILED);
			memset(&s, 0, sizeof(s));
			s.len = 4096;
			KT_CHILD_ASSERT(kt_ioctl(zc, KPORT_IOC_BORROW, &s) == 0);
		}
		__atomic_fetch_add(&hs->ready, 1, __ATOMIC_SEQ_CST);
		kt_send(fd, buf, 8, 0, KPORT_MSG_DEADLINE, far);
		break;
	case 3:	/* a kernel-owned port: three messages, more handles, waiting */
		fd = kt_create(hs->kname, 0, 4, 64, 0600, KPORT_RIGHTS_ALL);
		KT_CHILD_ASSERT(fd >= 0);
		for (i = 0; i < 3; i++)
			KT_CHILD_ASSERT(kt_send(fd, buf, 4, 0, 0, 0) == 0);
		for (i = 0; i < 3; i++)
			KT_CHILD_ASSERT(kt_open(hs->kname, KPORT_RIGHT_SEND, 0) >= 0);
		fd2 = kt_create(NULL, 0, 1, 64, 0600, KPORT_RIGHTS_ALL);
		KT_CHILD_ASSERT(fd2 >= 0);
		__atomic_fetch_add(&hs->ready, 1, __ATOMIC_SEQ_CST);
		kt_recv_ex(fd2, buf, sizeof(buf), KPORT_MSG_DEADLINE, 0, far, NULL);
		break;
	case 4:	/* a sender blocked on holder 0's rendezvous port */
		do {
			fd = kt_open(hs->pname, KPORT_RIGHT_SEND, 0);
		} while (fd == -ENOENT && kt_now_ns() < far);
		KT_CHILD_ASSERT(fd >= 0);
		__atomic_fetch_add(&hs->ready, 1, __ATOMIC_SEQ_CST);
		/* EIDRM if holder 0 dies first: then wait to be killed. */
		kt_send(fd, buf, 4, 0, KPORT_MSG_DEADLINE, far);
		break;
	default: /* a sender to holder 1's inbox: one queued, one blocked */
		while (!__atomic_load_n(&hs->inbox_pid, __ATOMIC_SEQ_CST) &&
		       kt_now_ns() < far)
			kt_sleep_ms(1);
		do {
			fd = kt_open_inbox(hs->inbox_pid, KPORT_RIGHT_SEND, 0);
		} while (fd == -ENOENT && kt_now_ns() < far);
		KT_CHILD_ASSERT(fd >= 0);
		__atomic_fetch_add(&hs->ready, 1, __ATOMIC_SEQ_CST);
		if (kt_send(fd, buf, 4, 0, KPORT_MSG_DEADLINE, far) == 0)
			kt_send(fd, buf, 4, 0, KPORT_MSG_DEADLINE, far);
		break;
	}
	/* Whatever ended the wait early, the test kills us. */
	while (kt_now_ns() < far)
		kt_sleep_ms(100);
	_exit(0);
}

TEST_F_TIMEOUT(stress, killed_owners_and_holders_leave_no_port_handle_or_module_reference,
	       120)
{
	unsigned int rounds = kt_env_uint("KPORT_STRESS_ROUNDS",
					  kt_debug_lane() ? 4 : 12);
	struct st_holders *hs = kt_shared_alloc(sizeof(*hs));
	pid_t *pids = self->holder;	/* reaped by the teardown */
	unsigned int round;
	int i, ports, ours;
	uint64_t rng = sh->seed;
	long ref;

	ASSERT_NE(NULL, hs);
	for (round = 0; round < rounds; round++) {
		struct kport_stat st;
		int fd;

		memset(hs, 0, sizeof(*hs));
		snprintf(hs->pname, KPORT_NAME_MAX, "%sp%u", sh->prefix, round);
		snprintf(hs->kname, KPORT_NAME_MAX, "%sk%u", sh->prefix, round);
		for (i = 0; i < ST_HOLDERS; i++) {
			pids[i] = kt_fork();
			ASSERT_LE(0, pids[i]);
			if (pids[i] == 0)
				st_holder(hs, i);
			if (i == 1)
				__atomic_store_n(&hs->inbox_pid, pids[i],
						 __ATOMIC_SEQ_CST);
		}
		for (i = 0; i < 1000 && __atomic_load_n(&hs->ready, __ATOMIC_SEQ_CST) <
						ST_HOLDERS; i++)
			kt_sleep_ms(10);
		ASSERT_EQ(ST_HOLDERS, hs->ready);
		kt_sleep_ms(5 + st_below(&rng, 20));	/* let them block */
		for (i = 0; i < ST_HOLDERS; i++) {
			int k = (int)st_below(&rng, ST_HOLDERS);
			pid_t p = pids[i];

			pids[i] = pids[k];
			pids[k] = p;
		}
		for (i = 0; i < ST_HOLDERS; i++) {
			kill(pids[i], SIGKILL);
			ASSERT_EQ(128 + SIGKILL, kt_reap(pids[i], KT_TIMEOUT_MS));
			pids[i] = -1;
		}
		/* The process-owned port went with its creator. */
		ASSERT_EQ(-ENOENT, kt_open(hs->pname, 0, 0));
		/* The kernel-owned one stays, with its messages and no handle. */
		fd = kt_open(hs->kname, 0, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, kt_stat(fd, &st));
		EXPECT_EQ(1U, st.handles);
		EXPECT_EQ(3U, st.nr_msgs);
		EXPECT_EQ(0U, st.status);
		ASSERT_EQ(0, kt_unlink(hs->kname));
		close(fd);
		kt_dev_close();
		ASSERT_EQ(0, st_wait_quiet(sh->prefix, self->ports_before,
					   self->refcnt_before, &ports, &ours, &ref)) {
			TH_LOG("round %u: /proc/kport: %d ports (%d before), %d of ours; refcnt %ld (%ld before)",
			       round, ports, self->ports_before, ours, ref,
			       self->refcnt_before);
		}
	}
	munmap(hs, sizeof(*hs));
}

/*
 * Set each test's harness timeout from the configured duration, so that
 * KPORT_STRESS_SECONDS may exceed the defaults (before the harness runs).
 */
static void __attribute__((constructor)) st_timeouts(void)
{
	unsigned int s = kt_env_uint("KPORT_STRESS_SECONDS", 0);

	if (s + 60 > 170)
		_stress_acked_messages_arrive_exactly_once_while_peers_are_killed_and_ports_deleted_object.timeout =
			(int)s + 60;
}

TEST_HARNESS_MAIN
