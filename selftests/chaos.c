// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftest: the races the fuzzer's model cannot follow, judged by what
 * must hold whatever the interleaving.
 *
 * The fuzzer checks each result against the contract, one operation at a
 * time, so it must know the state: its threads take a lock per open file
 * around slices and mappings.  That lock hid the crash of issue 8 (a
 * BORROW or in-place receive whose copy-out faulted while another thread
 * released the slice).  Here nothing is serialised.  Worker threads, one
 * of them running as nobody (its own credentials: setresuid on one
 * thread), share the handles of three ports (a pool port with zero-copy,
 * a rendezvous port, an unbounded one) and send, write(), receive (copied
 * and in place), receive in batches, SENDRECV, borrow and post, release
 * slices blindly, replace handles under each other with dup2(), fork
 * children that exec this binary or become nobody and go on using the
 * inherited handles, and create and delete a victim port under each
 * other.  Meanwhile
 *   - the argument structs (and some payload buffers) lie in a window whose
 *     pages another thread keeps making read-only, inaccessible or
 *     unmapped: the calls see the same memory through that window that
 *     the workers write and read through a second, stable mapping;
 *   - some structs lie on pages write-protected through userfaultfd, so a
 *     call stalls at its copy-out while the others go on;
 *   - a thread signals the workers at random, SIGUSR1 with SA_RESTART,
 *     SIGUSR2 without.
 * What must hold:
 *   - conservation: every message whose send succeeded is received exactly
 *     once (by a worker, a child, or the drain at the end), none whose
 *     send failed ever is, and a failed receive loses nothing; each
 *     message carries a tag, and a shared table (inherited across exec)
 *     counts what happened to each;
 *   - identity: a message says it is from the sender's pid (or 0) and
 *     euid for an ioctl, from the opener's for write();
 *   - payloads arrive intact;
 *   - only errors the contract allows for such a call;
 *   - at the end the ports hold nothing: no message, slice, waiter or
 *     pool byte; no port of the test is left, and the module's refcount
 *     is back.
 * An in-place receive on the handle the blind releases aim at cannot
 * read its payload reliably (another thread may have released the slice
 * and the pool reused it): those receives are counted, not read, and the
 * table's count of messages nobody accounted for must equal them.
 *
 * KPORT_CHAOS_SECONDS (default 10; 8 in the debug lane), KPORT_CHAOS_SEED
 * and KPORT_CHAOS_THREADS (4) steer it; it prints
 *   kport-figure: chaos ops=N sent=N received=N eintr=N efault=N
 *   stalls=N children=N seed=S seconds=S
 */
#include "kport_test.h"

#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define CH_NOBODY	65534
#define CH_PAGE		4096UL
#define CH_WIN_PAGES	16		/* the window's pages for structs */
#define CH_AREA_PAGES	6		/* a payload area in the window */
#define CH_WIN_ALL	(CH_WIN_PAGES + 2 * CH_MAX_THREADS * CH_AREA_PAGES)
#define CH_MAX_THREADS	6
#define CH_SLOTS	(CH_MAX_THREADS + 4096)	/* senders: threads, then children */
#define CH_THREAD_SEQ	(1U << 20)	/* tags per thread */
#define CH_CHILD_SEQ	64U		/* tags per child (it sends CH_CHILD_MSGS) */
#define CH_TAGS		(CH_MAX_THREADS * CH_THREAD_SEQ + \
			 (CH_SLOTS - CH_MAX_THREADS) * CH_CHILD_SEQ)
#define CH_UNACCOUNTED	0xffffffffffffffffULL	/* the victim port's tag */
#define CH_MAGIC	0x6b63686fU
#define CH_BIG_MSG	(64U << 10)	/* the pool port's msg_size */
#define CH_SMALL_MSG	1024U
#define CH_POOL		(2U << 20)
#define CH_RING		64
#define CH_MAX_CHILDREN	2		/* alive at once */
#define CH_CHILD_MSGS	24
#define CH_ENV		"KPORT_CHAOS_CHILD"

enum { P_POOL, P_RV, P_UB, CH_NPORTS };
static const char *const ch_pname[CH_NPORTS] = { "kch.pool", "kch.rv", "kch.ub" };
static const uint32_t ch_msize[CH_NPORTS] = { CH_BIG_MSG, CH_SMALL_MSG, CH_SMALL_MSG };

/* Tag states: set by the sender around its call. */
enum { T_UNUSED, T_FLIGHT, T_OK, T_FAILED };

/* What every message starts with; the rest is a pattern of its tag. */
struct ch_hdr {
	uint32_t magic;
	uint32_t len;
	uint64_t tag;
	uint32_t uid;	/* the identity the receiver must be told */
	int32_t pid;
};

/* Shared by everyone, across fork and exec (a memfd). */
struct ch_shared {
	uint8_t state[CH_TAGS];
	uint8_t got[CH_TAGS];
	uint8_t how[CH_TAGS];		/* the call that sent it, for reports */
	uint32_t next_slot;		/* children's slots: CH_MAX_THREADS.. */
	uint64_t ops, sent, received, blind_received, eintr, efault, stalls;
	uint64_t children, restarts;
	uint32_t nviol;
	char viol[8][200];		/* the first violations, in full */
	uint64_t pool_threshold;
};

struct ch_run;

struct ch_thread {
	struct ch_run *run;
	pthread_t tid;
	pid_t ktid;
	int idx;
	uint64_t rng;
	uint32_t seq;
	bool nobody;
	char *sbuf, *rbuf;		/* private payload buffers */
	char *post_map;			/* writable pool mapping of post_fd */
	int post_fd;			/* this thread's zero-copy send handle */
	char *wp;			/* a page of its own, write-protectable */
	int children;
	pid_t child[CH_MAX_CHILDREN];
};

struct ch_run {
	int shfd;
	int nthreads;
	volatile int stop;		/* the workers: time is up */
	volatile int joined;		/* the workers are gone */
	uint64_t end_ns;
	/* Handles (fd numbers stay, dup2 may change the file behind some). */
	int send_fd[CH_NPORTS];		/* replaced under the workers */
	int clean_fd[CH_NPORTS];	/* receive: no blind release, tags read */
	int blind_fd[CH_NPORTS];	/* receive: blind releases, replaced */
	int borrow_fd;			/* pool port: borrow and blind release */
	int map_fd;			/* pool port: the readers' mapping */
	const char *pool_map;
	/* The window: the calls' view (flipped) and the workers' (stable). */
	char *win, *alias;
	int winfd;
	/* userfaultfd, write-protect mode: -1 if the kernel has none. */
	int uffd;
	char *wp_area;
	/* Offsets recently received in place on blind_fd / borrowed on borrow_fd. */
	uint64_t ring_blind[CH_RING], ring_borrow[CH_RING];
	uint32_t ring_blind_n, ring_borrow_n;
	struct ch_thread th[CH_MAX_THREADS];
	pthread_t flipper, signaller, uffd_tid;
};

/* The tag table and counters (struct ch_shared), mapped from the memfd. */
static struct ch_shared *ch_sh;

/* ---- Little helpers ---------------------------------------------------------- */

static uint32_t ch_below(struct ch_thread *t, uint32_t n)
{
	return n ? (uint32_t)(kt_rand64(&t->rng) % n) : 0;
}

static bool ch_pct(struct ch_thread *t, uint32_t pct)
{
	return ch_below(t, 100) < pct;
}

static unsigned char ch_pat(uint64_t tag, size_t i)
{
	return (unsigned char)((tag * 131) ^ (i * 7) ^ (i >> 8));
}

static void __attribute__((format(printf, 1, 2))) ch_violation(const char *fmt, ...)
{
	uint32_t n = __atomic_fetch_add(&ch_sh->nviol, 1, __ATOMIC_SEQ_CST);
	va_list ap;

	if (n >= 8)
		return;
	va_start(ap, fmt);
	vsnprintf(ch_sh->viol[n], sizeof(ch_sh->viol[n]), fmt, ap);
	va_end(ap);
}

static void ch_count(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

/* Count an errno that interests the figure. */
static void ch_note_err(int err)
{
	if (err == EINTR)
		ch_count(&ch_sh->eintr);
	else if (err == EFAULT)
		ch_count(&ch_sh->efault);
}

/* An error the contract does not allow here: record it. */
static void ch_check_err(const char *op, long ret, const int *allowed)
{
	int e = ret < 0 ? (int)-ret : 0;

	if (!e)
		return;
	ch_note_err(e);
	for (; *allowed; allowed++)
		if (*allowed == e)
			return;
	ch_violation("%s: unexpected error %ld (%s)", op, ret, strerror(e));
}

static long ch_ioctl(int fd, unsigned long cmd, void *arg)
{
	long ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/* Errors any call on a shared handle may see. */
#define CH_ERR_COMMON	EINTR, EFAULT, EAGAIN, ETIMEDOUT, EBADF

/* ---- Messages and the tag table ------------------------------------------------ */

static uint64_t ch_tag(uint32_t slot, uint32_t seq)
{
	if (slot < CH_MAX_THREADS)
		return (uint64_t)slot * CH_THREAD_SEQ + seq;
	return (uint64_t)CH_MAX_THREADS * CH_THREAD_SEQ +
	       (uint64_t)(slot - CH_MAX_THREADS) * CH_CHILD_SEQ + seq;
}

/* The sender of @tag (its slot). */
static uint32_t ch_tag_slot(uint64_t tag)
{
	if (tag < (uint64_t)CH_MAX_THREADS * CH_THREAD_SEQ)
		return (uint32_t)(tag / CH_THREAD_SEQ);
	return CH_MAX_THREADS +
	       (uint32_t)((tag - (uint64_t)CH_MAX_THREADS * CH_THREAD_SEQ) / CH_CHILD_SEQ);
}

/* A new tag for sender @slot, or CH_UNACCOUNTED once it has used them all. */
static uint64_t ch_new_tag(uint32_t slot, uint32_t *seq)
{
	if (*seq >= (slot < CH_MAX_THREADS ? CH_THREAD_SEQ : CH_CHILD_SEQ))
		return CH_UNACCOUNTED;
	return ch_tag(slot, (*seq)++);
}

/* Build a message of @len bytes for @tag in @buf, seen as from @uid/@pid. */
static void ch_build(char *buf, uint32_t len, uint64_t tag, uint32_t uid, pid_t pid)
{
	struct ch_hdr h = { CH_MAGIC, len, tag, uid, pid };
	size_t i;

	memcpy(buf, &h, sizeof(h));
	for (i = sizeof(h); i < len; i++)
		buf[i] = (char)ch_pat(tag, i);
}

static void ch_sent(uint64_t tag, long ret)
{
	if (tag == CH_UNACCOUNTED)
		return;
	__atomic_store_n(&ch_sh->state[tag], ret >= 0 ? T_OK : T_FAILED, __ATOMIC_SEQ_CST);
	if (ret >= 0)
		ch_count(&ch_sh->sent);
}

enum { H_SEND = 1, H_WRITE, H_SENDRECV, H_POST, H_CHILD_SEND, H_CHILD_WRITE };
static const char *const ch_how[] = { "?", "SEND", "write", "SENDRECV", "POST",
				      "child SEND", "child write" };

/* @tag is about to be sent by @how to @port. */
static void ch_flight(uint64_t tag, int how, int port)
{
	if (tag == CH_UNACCOUNTED)
		return;
	ch_sh->how[tag] = (uint8_t)(how | port << 4);
	__atomic_store_n(&ch_sh->state[tag], T_FLIGHT, __ATOMIC_SEQ_CST);
}

/*
 * A message received with @m (as the kernel wrote it back) and its
 * payload at @p: check it and count it.
 */
static void ch_account(const char *op, const struct kport_msg *m, const char *p)
{
	struct ch_hdr h;
	uint8_t st, was;
	size_t i;

	ch_count(&ch_sh->received);
	if (m->len < sizeof(h)) {
		ch_violation("%s: a %u-byte message", op, m->len);
		return;
	}
	memcpy(&h, p, sizeof(h));
	if (h.magic != CH_MAGIC || h.len != m->len) {
		ch_violation("%s: corrupt header (magic %#x len %u, kernel says %u)",
			     op, h.magic, h.len, m->len);
		return;
	}
	for (i = sizeof(h); i < m->len; i += (i < 512 ? 1 : 61))
		if ((unsigned char)p[i] != ch_pat(h.tag, i)) {
			ch_violation("%s: tag %llu: payload byte %zu wrong", op,
				     (unsigned long long)h.tag, i);
			return;
		}
	if (m->uid != h.uid || (m->pid != h.pid && m->pid != 0))
		ch_violation("%s: tag %llu from pid %d uid %u, the kernel says pid %d uid %u",
			     op, (unsigned long long)h.tag, h.pid, h.uid, m->pid, m->uid);
	if (h.tag == CH_UNACCOUNTED)
		return;
	if (h.tag >= CH_TAGS) {
		ch_violation("%s: tag %llu out of range", op, (unsigned long long)h.tag);
		return;
	}
	was = __atomic_fetch_add(&ch_sh->got[h.tag], 1, __ATOMIC_SEQ_CST);
	st = __atomic_load_n(&ch_sh->state[h.tag], __ATOMIC_SEQ_CST);
	if (was)
		ch_violation("%s: tag %llu received %u times", op,
			     (unsigned long long)h.tag, was + 1);
	if (st == T_FAILED || st == T_UNUSED)
		ch_violation("%s: tag %llu received, its send %s", op,
			     (unsigned long long)h.tag, st == T_FAILED ? "failed" : "never began");
}

/* ---- Where arguments go ---------------------------------------------------------- */

/*
 * A place for an argument of @size bytes: in the window (the call's
 * pointer, *@view, and the workers' alias, the return value), on the
 * thread's write-protectable page (*@wp set), or in @priv.
 */
static void *ch_place(struct ch_thread *t, size_t size, void *priv, void **view, bool *wp)
{
	struct ch_run *run = t->run;
	uint32_t where = ch_below(t, 100);
	size_t off;

	*wp = false;
	if (where < 45 && size <= 512) {
		/*
		 * The thread's own cell (512 bytes at 512 * (idx + 1)) of a
		 * random page, or its own place across a page boundary.
		 */
		if (ch_pct(t, 20))
			off = (2 * (size_t)t->idx + 1) * CH_PAGE - size / 2;
		else
			off = ch_below(t, CH_WIN_PAGES) * CH_PAGE + 512 * ((size_t)t->idx + 1);
		*view = run->win + off;
		return run->alias + off;
	}
	if (where < 65 && run->uffd >= 0 && size <= CH_PAGE) {
		*wp = true;
		*view = t->wp;
		return t->wp;
	}
	*view = priv;
	return priv;
}

/* The offset in the window of the thread's payload area @which (0 send, 1 receive). */
static size_t ch_area(const struct ch_thread *t, int which)
{
	return (CH_WIN_PAGES + (2 * (size_t)t->idx + (size_t)which) * CH_AREA_PAGES) * CH_PAGE;
}

/* Write-protect the thread's page before a call: its copy-out stalls. */
static void ch_wp(struct ch_thread *t, bool on)
{
	struct uffdio_writeprotect w = {
		.range = { (uintptr_t)t->wp, CH_PAGE },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	if (ioctl(t->run->uffd, UFFDIO_WRITEPROTECT, &w))
		ch_violation("UFFDIO_WRITEPROTECT: %s", strerror(errno));
}

/*
 * ioctl @cmd on @fd with @view; @wp: the struct is on the thread's
 * write-protectable page, protected for the call so that its copy-out
 * stalls in userfaultfd.
 */
static long ch_call(struct ch_thread *t, int fd, unsigned long cmd, void *view, bool wp)
{
	long ret;

	if (wp)
		ch_wp(t, true);
	ret = ch_ioctl(fd, cmd, view);
	if (wp)
		ch_wp(t, false);
	return ret;
}

static uint64_t ch_deadline(struct ch_thread *t, __u64 *flags)
{
	if (ch_pct(t, 40)) {
		*flags |= KPORT_MSG_NONBLOCK;
		return 0;
	}
	*flags |= KPORT_MSG_DEADLINE;
	return kt_now_ns() + (1 + ch_below(t, 3)) * KT_NSEC_PER_MSEC;
}

static uint32_t ch_len(struct ch_thread *t, int port)
{
	uint64_t thr = ch_sh->pool_threshold;

	if (port == P_POOL && ch_pct(t, 50))
		return (uint32_t)thr + 1 + ch_below(t, 4096);
	return sizeof(struct ch_hdr) + ch_below(t, CH_SMALL_MSG - sizeof(struct ch_hdr) + 1);
}

/* ---- Operations ---------------------------------------------------------------- */

static const int ch_send_errs[] = { CH_ERR_COMMON, ENOBUFS, 0 };

static void ch_op_send(struct ch_thread *t)
{
	int port = (int)ch_below(t, CH_NPORTS);
	uint32_t len = ch_len(t, port);
	uint64_t tag = ch_new_tag((uint32_t)t->idx, &t->seq);
	struct kport_msg priv, *m, *view;
	char *buf = t->sbuf;
	bool wp;
	long ret;

	m = ch_place(t, sizeof(*m), &priv, (void **)&view, &wp);
	memset(m, 0, sizeof(*m));
	if (ch_pct(t, 15)) {
		/* The payload in the window too: a copy-in that may fault. */
		size_t off = ch_area(t, 0);

		buf = t->run->alias + off;
		m->buf = (uintptr_t)(t->run->win + off);
	} else {
		m->buf = (uintptr_t)buf;
	}
	ch_build(buf, len, tag, t->nobody ? CH_NOBODY : 0, getpid());
	m->len = len;
	m->priority = ch_below(t, 4);
	m->deadline_ns = ch_deadline(t, &m->flags);
	ch_flight(tag, H_SEND, port);
	ret = ch_ioctl(t->run->send_fd[port], KPORT_IOC_SEND, view);
	ch_sent(tag, ret);
	ch_check_err("SEND", ret, ch_send_errs);
}

/* write() on the unbounded port: never blocks; the opener's identity. */
static void ch_op_write(struct ch_thread *t)
{
	uint32_t len = ch_len(t, P_UB);
	uint64_t tag = ch_new_tag((uint32_t)t->idx, &t->seq);
	static const int errs[] = { EINTR, EBADF, ENOBUFS, 0 };
	ssize_t n;

	/* Opened by the test process, as root: its identity, whoever writes. */
	ch_build(t->sbuf, len, tag, 0, getpid());
	ch_flight(tag, H_WRITE, P_UB);
	n = write(t->run->send_fd[P_UB], t->sbuf, len);
	if (n >= 0 && n != (ssize_t)len)
		ch_violation("write: %zd of %u bytes", n, len);
	ch_sent(tag, n < 0 ? -errno : 0);
	ch_check_err("write", n < 0 ? -errno : 0, errs);
}

/* Read an in-place payload through the readers' mapping. */
static const char *ch_pool_at(struct ch_run *run, const struct kport_msg *m)
{
	if (m->offset >= CH_POOL || m->len > CH_POOL - m->offset) {
		ch_violation("in-place: slice %llu+%u outside the pool",
			     (unsigned long long)m->offset, m->len);
		return NULL;
	}
	return run->pool_map + m->offset;
}

/* A ring of slices (offset << 32 | length) others got, for blind releases. */
static void ch_ring_put(uint64_t *ring, uint32_t *n, uint64_t off, uint64_t len)
{
	uint32_t i = __atomic_fetch_add(n, 1, __ATOMIC_RELAXED);

	__atomic_store_n(&ring[i % CH_RING], off << 32 | len, __ATOMIC_RELAXED);
}

/* A slice from @ring, sometimes with a wrong offset or length. */
static void ch_ring_get(struct ch_thread *t, uint64_t *ring, struct kport_slice *s)
{
	uint64_t v = __atomic_load_n(&ring[ch_below(t, CH_RING)], __ATOMIC_RELAXED);

	s->offset = v >> 32;
	s->len = (uint32_t)v;
	if (ch_pct(t, 10))
		s->offset += CH_PAGE * ch_below(t, 3);
	if (ch_pct(t, 10))
		s->len = ch_below(t, 2 * CH_PAGE);
}

static const int ch_recv_errs[] = { CH_ERR_COMMON, 0 };

/*
 * After a successful receive on @fd (blind or not) with @m as written
 * back: account for it and give back its slice.
 */
static void ch_received(struct ch_thread *t, const char *op, int fd, bool blind,
			const struct kport_msg *m, const char *copy)
{
	struct ch_run *run = t->run;
	const char *p = copy;
	long ret;

	if (!(m->result & KPORT_RESULT_INPLACE)) {
		ch_account(op, m, p);
		return;
	}
	if (blind) {
		/* Not read: another thread may release it under us. */
		ch_count(&ch_sh->received);
		ch_count(&ch_sh->blind_received);
		ch_ring_put(run->ring_blind, &run->ring_blind_n, m->offset, m->len);
		if (ch_pct(t, 50))
			return;		/* left for a blind release or the close */
		ret = kt_release(fd, m->offset, m->len);
		if (ret && ret != -ENOENT && ret != -EINVAL && ret != -EBADF && ret != -EINTR)
			ch_violation("%s: release of a blind slice: %ld", op, ret);
		return;
	}
	p = ch_pool_at(run, m);
	if (!p)
		return;
	ch_account(op, m, p);
	ret = kt_release(fd, m->offset, m->len);
	if (ret)
		ch_violation("%s: release of its own slice %llu+%u: %ld", op,
			     (unsigned long long)m->offset, m->len, ret);
}

static void ch_op_recv(struct ch_thread *t)
{
	struct ch_run *run = t->run;
	int port = (int)ch_below(t, CH_NPORTS);
	bool blind = ch_pct(t, 40);
	int fd = blind ? run->blind_fd[port] : run->clean_fd[port];
	struct kport_msg priv, *m, *view, out;
	char *buf = t->rbuf, *bview = t->rbuf;
	uint32_t len = ch_msize[port];
	bool wp;
	long ret;

	m = ch_place(t, sizeof(*m), &priv, (void **)&view, &wp);
	memset(m, 0, sizeof(*m));
	if (ch_pct(t, 15)) {
		/* The payload buffer in the window: a copy-out that may fault. */
		size_t off = ch_area(t, 1);

		buf = run->alias + off;
		bview = run->win + off;
		len = CH_AREA_PAGES * CH_PAGE;	/* the largest message sent */
	}
	m->buf = (uintptr_t)bview;
	m->len = len;
	if (port == P_POOL && ch_pct(t, 60))
		m->flags |= KPORT_MSG_INPLACE;
	m->deadline_ns = ch_deadline(t, &m->flags);
	ret = ch_call(t, fd, KPORT_IOC_RECV, view, wp);
	ch_check_err("RECV", ret, ch_recv_errs);
	if (ret < 0)
		return;
	out = *m;
	ch_received(t, "RECV", fd, blind, &out, buf);
}

/* RECVV of one to four on a clean handle, the array in the window. */
static void ch_op_recvv(struct ch_thread *t)
{
	struct ch_run *run = t->run;
	int port = (int)ch_below(t, CH_NPORTS);
	uint32_t count = 1 + ch_below(t, 4), i;
	struct kport_msg privm[4], *ms, *vms;
	struct kport_batch pb, *b, *vb;
	size_t each = ch_msize[port];
	char *bufs;
	bool wp, wpb;
	long ret;

	if (port == P_POOL)
		each = ch_sh->pool_threshold + 8192;
	bufs = t->rbuf;
	ms = ch_place(t, sizeof(privm), privm, (void **)&vms, &wp);
	if (wp) {
		ms = privm;	/* one write-protected page: the batch struct's */
		vms = privm;
	}
	b = ch_place(t, sizeof(*b), &pb, (void **)&vb, &wpb);
	if ((char *)b < (char *)ms + sizeof(privm) && (char *)ms < (char *)b + sizeof(*b)) {
		b = &pb;	/* both landed in one cell */
		vb = &pb;
		wpb = false;
	}
	memset(ms, 0, sizeof(privm));
	for (i = 0; i < count; i++) {
		ms[i].buf = (uintptr_t)(bufs + i * each);
		ms[i].len = (uint32_t)each;
		if (port == P_POOL && ch_pct(t, 50))
			ms[i].flags = KPORT_MSG_INPLACE;
	}
	memset(b, 0, sizeof(*b));
	b->msgs = (uintptr_t)vms;
	b->count = count;
	b->msg_size = sizeof(struct kport_msg);
	b->deadline_ns = ch_deadline(t, &b->flags);
	ret = ch_call(t, run->clean_fd[port], KPORT_IOC_RECVV, vb, wpb);
	ch_check_err("RECVV", ret, ch_recv_errs);
	if (ret > count)
		ch_violation("RECVV: %ld of %u", ret, count);
	for (i = 0; ret > 0 && i < (uint32_t)ret && i < count; i++) {
		struct kport_msg out = ms[i];

		ch_received(t, "RECVV", run->clean_fd[port], false, &out,
			    bufs + i * each);
	}
}

static void ch_op_sendrecv(struct ch_thread *t)
{
	static const int errs[] = { CH_ERR_COMMON, ENOBUFS, 0 };
	struct ch_run *run = t->run;
	int sp = (int)ch_below(t, CH_NPORTS), rp = (int)ch_below(t, CH_NPORTS);
	uint32_t len = ch_len(t, sp);
	uint64_t tag = ch_new_tag((uint32_t)t->idx, &t->seq);
	struct kport_sendrecv priv, *sr, *view;
	uint32_t done;
	bool wp;
	long ret;

	sr = ch_place(t, sizeof(*sr), &priv, (void **)&view, &wp);
	memset(sr, 0, sizeof(*sr));
	sr->recv_fd = run->clean_fd[rp];
	ch_build(t->sbuf, len, tag, t->nobody ? CH_NOBODY : 0, getpid());
	sr->send.buf = (uintptr_t)t->sbuf;
	sr->send.len = len;
	sr->send.deadline_ns = ch_deadline(t, &sr->send.flags);
	sr->recv.buf = (uintptr_t)t->rbuf;
	sr->recv.len = ch_msize[rp];
	sr->recv.deadline_ns = ch_deadline(t, &sr->recv.flags);
	if (rp == P_POOL && ch_pct(t, 50))
		sr->recv.flags |= KPORT_MSG_INPLACE;
	ch_flight(tag, H_SENDRECV, sp);
	ret = ch_call(t, run->send_fd[sp], KPORT_IOC_SENDRECV, view, wp);
	done = sr->done;
	if (ret == KPORT_SR_SENT) {
		/* Sent; done could not be written: nothing was received. */
		ch_sent(tag, 0);
		return;
	}
	if (ret > 0)
		ch_violation("SENDRECV: returned %ld", ret);
	ch_sent(tag, ret == 0 || (done & KPORT_SR_SENT) ? 0 : -1);
	ch_check_err("SENDRECV", ret, errs);
	if (ret == 0) {
		struct kport_msg out = sr->recv;

		ch_received(t, "SENDRECV", run->clean_fd[rp], false, &out, t->rbuf);
	}
}

/* BORROW on the arena handle (never posted) with its struct anywhere. */
static void ch_op_borrow(struct ch_thread *t)
{
	static const int errs[] = { CH_ERR_COMMON, ENOSPC, ENOBUFS, 0 };
	struct ch_run *run = t->run;
	struct kport_slice priv, *s, *view;
	bool wp;
	long ret;

	s = ch_place(t, sizeof(*s), &priv, (void **)&view, &wp);
	memset(s, 0, sizeof(*s));
	s->len = 1 + ch_below(t, 3 * CH_PAGE);
	s->flags = KPORT_MSG_NONBLOCK;
	ret = ch_call(t, run->borrow_fd, KPORT_IOC_BORROW, view, wp);
	ch_check_err("BORROW", ret, errs);
	if (ret == 0)
		ch_ring_put(run->ring_borrow, &run->ring_borrow_n, s->offset, s->len);
}

/* RELEASE of offsets other threads got on a shared handle, blindly. */
static void ch_op_release(struct ch_thread *t)
{
	static const int errs[] = { CH_ERR_COMMON, ENOENT, EINVAL, 0 };
	struct ch_run *run = t->run;
	bool borrow = ch_pct(t, 50);
	int fd = borrow ? run->borrow_fd : run->blind_fd[P_POOL];
	struct kport_slice priv, *s, *view;
	bool wp;
	long ret;

	s = ch_place(t, sizeof(*s), &priv, (void **)&view, &wp);
	memset(s, 0, sizeof(*s));
	ch_ring_get(t, borrow ? run->ring_borrow : run->ring_blind, s);
	ret = ch_ioctl(fd, KPORT_IOC_RELEASE, view);
	ch_check_err("RELEASE", ret, errs);
}

/* BORROW, fill, POST on this thread's own zero-copy handle. */
static void ch_op_post(struct ch_thread *t)
{
	static const int errs[] = { CH_ERR_COMMON, ENOBUFS, 0 };
	struct kport_slice s;
	struct kport_msg priv, *m, *view;
	uint32_t len = (uint32_t)ch_sh->pool_threshold + 1 + ch_below(t, 8192);
	uint64_t tag;
	bool wp;
	long ret;

	memset(&s, 0, sizeof(s));
	s.len = len;
	s.flags = KPORT_MSG_NONBLOCK;
	ret = ch_ioctl(t->post_fd, KPORT_IOC_BORROW, &s);
	ch_check_err("BORROW(post)", ret, (const int[]){ CH_ERR_COMMON, ENOSPC, ENOBUFS, 0 });
	if (ret)
		return;
	tag = ch_new_tag((uint32_t)t->idx, &t->seq);
	ch_build(t->post_map + s.offset, len, tag, t->nobody ? CH_NOBODY : 0, getpid());
	m = ch_place(t, sizeof(*m), &priv, (void **)&view, &wp);
	memset(m, 0, sizeof(*m));
	m->flags = KPORT_MSG_POST;
	m->offset = s.offset;
	m->len = len;
	m->deadline_ns = ch_deadline(t, &m->flags);
	ch_flight(tag, H_POST, P_POOL);
	ret = ch_ioctl(t->post_fd, KPORT_IOC_SEND, view);
	ch_sent(tag, ret);
	ch_check_err("POST", ret, errs);
	if (ret) {
		/* A failed post changed nothing: the slice is still ours. */
		ret = kt_release(t->post_fd, s.offset, s.len);
		if (ret)
			ch_violation("POST failed, then RELEASE of its slice: %ld", ret);
	}
}

/* Replace a shared handle under the other threads. */
static void ch_op_replace(struct ch_thread *t)
{
	struct ch_run *run = t->run;
	int port = (int)ch_below(t, CH_NPORTS);
	bool blind = ch_pct(t, 50);
	int fd, target = blind ? run->blind_fd[port] : run->send_fd[port];

	if (blind && port != P_POOL)
		return;
	/* write() says who opened the handle: keep that the test process as root. */
	if (t->nobody && !blind && port == P_UB)
		return;
	fd = kt_open(ch_pname[port], KPORT_RIGHTS_ALL, 0);
	if (fd < 0) {
		ch_violation("reopen %s: %d", ch_pname[port], fd);
		return;
	}
	if (dup2(fd, target) < 0)
		ch_violation("dup2: %s", strerror(errno));
	close(fd);
}

/* A victim port: created, used and deleted under each other. */
static void ch_op_victim(struct ch_thread *t)
{
	static const int errs[] = { CH_ERR_COMMON, EIDRM, ENOENT, EEXIST, ENOBUFS, EACCES, 0 };
	struct kport_msg priv, *m, *view;
	int fd = kt_open("kch.victim", KPORT_RIGHTS_ALL, KPORT_OPEN_NONBLOCK);
	bool wp;
	long ret;

	if (fd == -ENOENT)
		fd = kt_create_pool("kch.victim", KPORT_CREATE_NONBLOCK | KPORT_CREATE_ZEROCOPY,
				    2, CH_BIG_MSG, 256 << 10);
	ch_check_err("victim open", fd < 0 ? fd : 0, errs);
	if (fd < 0)
		return;
	ch_build(t->sbuf, 64, CH_UNACCOUNTED, t->nobody ? CH_NOBODY : 0, getpid());
	(void)kt_send(fd, t->sbuf, ch_pct(t, 50) ? 64 : (uint32_t)ch_sh->pool_threshold + 64,
		      0, 0, 0);
	m = ch_place(t, sizeof(*m), &priv, (void **)&view, &wp);
	memset(m, 0, sizeof(*m));
	m->buf = (uintptr_t)t->rbuf;
	m->len = CH_BIG_MSG;
	m->flags = KPORT_MSG_INPLACE;
	ret = ch_call(t, fd, KPORT_IOC_RECV, view, wp);
	ch_check_err("victim RECV", ret, errs);
	if (ch_pct(t, 30)) {
		ret = kt_delete(fd);
		ch_check_err("victim DELETE", ret, (const int[]){ EIDRM, EPERM, EINTR, 0 });
		ret = kt_unlink("kch.victim");
		ch_check_err("victim UNLINK", ret, (const int[]){ ENOENT, EPERM, 0 });
	}
	close(fd);
}

/* STAT with its output anywhere: nothing to get wrong but the copy-out. */
static void ch_op_stat(struct ch_thread *t)
{
	struct kport_stat priv, *st, *view;
	bool wp;
	long ret;

	st = ch_place(t, sizeof(*st), &priv, (void **)&view, &wp);
	memset(st, 0, sizeof(*st));
	ret = ch_call(t, t->run->clean_fd[ch_below(t, CH_NPORTS)], KPORT_IOC_STAT, view, wp);
	ch_check_err("STAT", ret, ch_recv_errs);
}

/* ---- Children: fork, then exec this binary or become nobody -------------------- */

/* A child's work: send and receive through the handles it inherited. */
static void ch_child_work(struct ch_run *run, uint32_t slot, uint32_t uid, bool exec)
{
	struct ch_thread t = { .run = run, .idx = (int)slot, .rng = slot * 7919ULL };
	static char sbuf[CH_BIG_MSG], rbuf[CH_BIG_MSG];
	int i, port;

	for (i = 0; i < CH_CHILD_MSGS; i++) {
		struct kport_msg m = { 0 };
		uint64_t tag = ch_new_tag(slot, &t.seq);
		uint32_t len;
		long ret;

		port = (int)ch_below(&t, CH_NPORTS);
		len = sizeof(struct ch_hdr) + ch_below(&t, 200);
		if (ch_pct(&t, 30)) {
			/* write(): the opener's identity, the test process's. */
			ch_build(sbuf, len, tag, 0, getppid());
			ch_flight(tag, H_CHILD_WRITE, P_UB);
			ret = write(run->send_fd[P_UB], sbuf, len);
			ch_sent(tag, ret < 0 ? -errno : 0);
			continue;
		}
		ch_build(sbuf, len, tag, uid, getpid());
		m.buf = (uintptr_t)sbuf;
		m.len = len;
		m.flags = KPORT_MSG_DEADLINE;
		m.deadline_ns = kt_now_ns() + 3 * KT_NSEC_PER_MSEC;
		ch_flight(tag, H_CHILD_SEND, port);
		ret = ch_ioctl(run->send_fd[port], KPORT_IOC_SEND, &m);
		ch_sent(tag, ret);
		memset(&m, 0, sizeof(m));
		m.buf = (uintptr_t)rbuf;
		m.len = CH_BIG_MSG;
		m.flags = KPORT_MSG_NONBLOCK;
		port = (int)ch_below(&t, CH_NPORTS);
		ret = ch_ioctl(run->clean_fd[port], KPORT_IOC_RECV, &m);
		if (ret >= 0)
			ch_account(exec ? "child(exec) RECV" : "child(setuid) RECV", &m, rbuf);
	}
}

/*
 * The child of an exec: KPORT_CHAOS_CHILD is "SHFD SLOT SEND0 SEND1 SEND2
 * CLEAN0 CLEAN1 CLEAN2", the descriptors it inherited.
 */
static void __attribute__((constructor)) ch_exec_child(void)
{
	const char *env = getenv(CH_ENV);
	struct ch_run run = { 0 };
	unsigned int slot;
	int shfd;

	if (!env)
		return;
	if (sscanf(env, "%d %u %d %d %d %d %d %d", &shfd, &slot, &run.send_fd[0],
		   &run.send_fd[1], &run.send_fd[2], &run.clean_fd[0],
		   &run.clean_fd[1], &run.clean_fd[2]) != 8)
		_exit(90);
	ch_sh = mmap(NULL, sizeof(*ch_sh), PROT_READ | PROT_WRITE, MAP_SHARED, shfd, 0);
	if (ch_sh == MAP_FAILED)
		_exit(91);
	ch_child_work(&run, slot, 0, true);
	_exit(0);
}

static void ch_child_status(pid_t pid, int status)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		ch_violation("child %d: %s %d", pid,
			     WIFEXITED(status) ? "exit" : "signal",
			     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

static void ch_op_fork(struct ch_thread *t)
{
	struct ch_run *run = t->run;
	uint32_t slot;
	char env[128];
	pid_t pid;
	int i;

	for (i = 0; i < t->children; i++) {
		int status;

		if (waitpid(t->child[i], &status, WNOHANG) == t->child[i]) {
			ch_child_status(t->child[i], status);
			t->child[i] = t->child[--t->children];
			i--;
		}
	}
	if (t->children >= CH_MAX_CHILDREN)
		return;
	slot = __atomic_fetch_add(&ch_sh->next_slot, 1, __ATOMIC_RELAXED);
	if (slot >= CH_SLOTS)
		return;
	snprintf(env, sizeof(env), "%d %u %d %d %d %d %d %d", run->shfd, slot,
		 run->send_fd[0], run->send_fd[1], run->send_fd[2],
		 run->clean_fd[0], run->clean_fd[1], run->clean_fd[2]);
	pid = fork();
	if (pid < 0) {
		ch_violation("fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (slot % 2) {
			/* Through exec: the new program inherits the handles. */
			for (i = 0; i < CH_NPORTS; i++) {
				fcntl(run->send_fd[i], F_SETFD, 0);
				fcntl(run->clean_fd[i], F_SETFD, 0);
			}
			setenv(CH_ENV, env, 1);
			execl("/proc/self/exe", "chaos-child", (char *)NULL);
			_exit(92);
		}
		if (setresuid(CH_NOBODY, CH_NOBODY, CH_NOBODY))
			_exit(93);
		ch_child_work(run, slot, CH_NOBODY, false);
		_exit(0);
	}
	ch_count(&ch_sh->children);
	t->child[t->children++] = pid;
}

/* ---- Threads ------------------------------------------------------------------------ */

static void ch_on_signal(int sig)
{
	if (sig == SIGUSR1)
		__atomic_fetch_add(&ch_sh->restarts, 1, __ATOMIC_RELAXED);
}

static void *ch_worker(void *arg)
{
	struct ch_thread *t = arg;
	struct ch_run *run = t->run;

	t->ktid = (pid_t)syscall(SYS_gettid);
	/* One thread is nobody: its own credentials, not the process's. */
	if (t->nobody && syscall(SYS_setresuid, CH_NOBODY, CH_NOBODY, CH_NOBODY)) {
		ch_violation("setresuid on one thread: %s", strerror(errno));
		return NULL;
	}
	while (!run->stop) {
		uint32_t op = ch_below(t, 100);

		ch_count(&ch_sh->ops);
		if (op < 18)
			ch_op_send(t);
		else if (op < 24)
			ch_op_write(t);
		else if (op < 44)
			ch_op_recv(t);
		else if (op < 50)
			ch_op_recvv(t);
		else if (op < 58)
			ch_op_sendrecv(t);
		else if (op < 65)
			ch_op_borrow(t);
		else if (op < 75)
			ch_op_release(t);
		else if (op < 83)
			ch_op_post(t);
		else if (op < 87)
			ch_op_replace(t);
		else if (op < 91)
			ch_op_victim(t);
		else if (op < 96)
			ch_op_stat(t);
		else if (!t->nobody)
			ch_op_fork(t);
		if (kt_now_ns() > run->end_ns)
			run->stop = 1;
	}
	while (t->children > 0) {
		pid_t pid = t->child[--t->children];
		int status;

		pid_t got;

		/* SIGUSR2 (no SA_RESTART) keeps coming until all are joined. */
		do
			got = waitpid(pid, &status, 0);
		while (got < 0 && errno == EINTR);
		if (got == pid)
			ch_child_status(pid, status);
		else
			ch_violation("waitpid %d: %s", pid, strerror(errno));
	}
	return NULL;
}

/* Keep changing what the window's pages allow, and unmapping them. */
static void *ch_flipper(void *arg)
{
	struct ch_run *run = arg;
	uint64_t rng = 42;
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE };

	while (!run->stop) {
		size_t page = kt_rand64(&rng) % CH_WIN_ALL;
		char *p = run->win + page * CH_PAGE;
		uint32_t what = (uint32_t)(kt_rand64(&rng) % 10);

		if (what < 2) {
			munmap(p, CH_PAGE);
			usleep(200);
			if (mmap(p, CH_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				 run->winfd, (off_t)(page * CH_PAGE)) != p)
				ch_violation("window remap: %s", strerror(errno));
		} else {
			mprotect(p, CH_PAGE, prots[what % 3]);
		}
		usleep(100 + kt_rand64(&rng) % 400);
	}
	mprotect(run->win, CH_WIN_ALL * CH_PAGE, PROT_READ | PROT_WRITE);
	return NULL;
}

/* Signal the workers at random, with and without SA_RESTART. */
static void *ch_signaller(void *arg)
{
	struct ch_run *run = arg;
	uint64_t rng = 7;
	int i, n = run->nthreads;

	while (!run->stop) {
		struct ch_thread *t = &run->th[kt_rand64(&rng) % (uint64_t)n];

		if (t->ktid)
			syscall(SYS_tgkill, getpid(), t->ktid,
				kt_rand64(&rng) % 2 ? SIGUSR1 : SIGUSR2);
		usleep(200 + kt_rand64(&rng) % 800);
	}
	/* Shutdown: a worker blocked in write() gets out with EINTR. */
	for (i = 0; i < 200; i++) {
		int alive = 0, j;

		for (j = 0; j < n; j++) {
			if (__atomic_load_n(&run->th[j].ktid, __ATOMIC_RELAXED) > 0) {
				alive++;
				syscall(SYS_tgkill, getpid(), run->th[j].ktid, SIGUSR2);
			}
		}
		if (!alive)
			break;
		usleep(5000);
	}
	return NULL;
}

/* Resolve write-protect faults after a pause: calls stall at copy-out. */
static void *ch_uffd_handler(void *arg)
{
	struct ch_run *run = arg;
	struct pollfd pfd = { .fd = run->uffd, .events = POLLIN };
	uint64_t rng = 99;

	while (!run->joined || poll(&pfd, 1, 0) > 0) {
		struct uffd_msg msg;
		struct uffdio_writeprotect w;

		if (poll(&pfd, 1, 20) <= 0)
			continue;
		if (read(run->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		ch_count(&ch_sh->stalls);
		usleep(500 + kt_rand64(&rng) % 3000);
		w.range.start = msg.arg.pagefault.address & ~(CH_PAGE - 1);
		w.range.len = CH_PAGE;
		w.mode = 0;
		if (ioctl(run->uffd, UFFDIO_WRITEPROTECT, &w) && errno != ENOENT)
			ch_violation("uffd resolve: %s", strerror(errno));
	}
	return NULL;
}

/* ---- Setup, drain, verdict -------------------------------------------------------- */

static int ch_setup_uffd(struct ch_run *run)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	struct uffdio_register reg;
	size_t len = CH_MAX_THREADS * CH_PAGE;

	run->uffd = -1;
	run->wp_area = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (run->wp_area == MAP_FAILED)
		return -1;
	memset(run->wp_area, 0, len);
	run->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (run->uffd < 0)
		return 0;
	reg.range.start = (uintptr_t)run->wp_area;
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	if (ioctl(run->uffd, UFFDIO_API, &api) || ioctl(run->uffd, UFFDIO_REGISTER, &reg)) {
		close(run->uffd);
		run->uffd = -1;
	}
	return 0;
}

/* Receive what is left, from everything, and account for it. */
static void ch_drain(struct ch_run *run, char *buf, bool late)
{
	int port;

	for (port = 0; port < CH_NPORTS; port++) {
		for (;;) {
			struct kport_msg m = { 0 };
			long ret;

			m.buf = (uintptr_t)buf;
			m.len = ch_msize[port];
			m.flags = KPORT_MSG_NONBLOCK;
			ret = ch_ioctl(run->clean_fd[port], KPORT_IOC_RECV, &m);
			if (ret == -EAGAIN)
				break;
			if (ret < 0) {
				ch_violation("drain %s: %ld", ch_pname[port], ret);
				break;
			}
			if (late) {
				struct ch_hdr h;

				memcpy(&h, buf, sizeof(h));
				printf("# chaos: late message on %s: tag %llu (%s), state %u\n",
				       ch_pname[port], (unsigned long long)h.tag,
				       h.tag < CH_TAGS ? ch_how[ch_sh->how[h.tag] & 15] : "-",
				       h.tag < CH_TAGS ? ch_sh->state[h.tag] : 0);
			}
			ch_account("drain", &m, buf);
		}
	}
}

FIXTURE(chaos) {
	struct ch_run *run;
	long refcnt_before;
	int ports_before;
	uint64_t seed;
	unsigned int seconds;
};

FIXTURE_SETUP(chaos)
{
	int ours;

	self->run = NULL;
	self->seed = kt_env_seed("KPORT_CHAOS_SEED");
	self->seconds = kt_env_uint("KPORT_CHAOS_SECONDS", kt_debug_lane() ? 8 : 10);
	self->refcnt_before = kt_module_refcnt_settled();
	ASSERT_LE(0, self->refcnt_before);
	self->ports_before = kt_proc_ports("kch.", &ours);
	ASSERT_LE(0, self->ports_before);
	ASSERT_EQ(0, ours);
}

FIXTURE_TEARDOWN(chaos)
{
	kt_dev_close();
}

/*
 * The harness's own alarm is only a backstop: the run lasts
 * KPORT_CHAOS_SECONDS, and the guest's KPORT_TEST_TIMEOUT kills a binary
 * that overstays.
 */
TEST_F_TIMEOUT(chaos, shared_handles_signals_faults_exec_and_two_users_lose_and_duplicate_nothing, 7200)
{
	struct ch_run *run = calloc(1, sizeof(*run));
	struct kport_version ver = { 0 };
	struct kport_stat st;
	uint64_t unaccounted = 0, ok = 0, bad = 0, flight = 0, shown = 0;
	char *drainbuf;
	uint32_t i;
	int port, ours, fd;

	ASSERT_NE(NULL, run);
	self->run = run;
	run->nthreads = (int)kt_env_uint("KPORT_CHAOS_THREADS", 4);
	if (run->nthreads < 2)
		run->nthreads = 2;
	if (run->nthreads > CH_MAX_THREADS)
		run->nthreads = CH_MAX_THREADS;

	/* The shared table, a memfd so that exec'd children map it too. */
	run->shfd = (int)syscall(SYS_memfd_create, "kch.table", 0);
	ASSERT_LE(0, run->shfd);
	ASSERT_EQ(0, ftruncate(run->shfd, sizeof(struct ch_shared)));
	ch_sh = mmap(NULL, sizeof(struct ch_shared), PROT_READ | PROT_WRITE, MAP_SHARED,
		     run->shfd, 0);
	ASSERT_NE(MAP_FAILED, ch_sh);
	ch_sh->next_slot = CH_MAX_THREADS;
	ASSERT_EQ(0, kt_ioctl(kt_dev(), KPORT_IOC_VERSION, &ver));
	ch_sh->pool_threshold = ver.pool_threshold;
	ASSERT_LT(ver.pool_threshold + 12288, CH_BIG_MSG);

	/* The window: one memfd, mapped twice. */
	run->winfd = (int)syscall(SYS_memfd_create, "kch.window", 0);
	ASSERT_LE(0, run->winfd);
	ASSERT_EQ(0, ftruncate(run->winfd, CH_WIN_ALL * CH_PAGE));
	run->win = mmap(NULL, CH_WIN_ALL * CH_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			run->winfd, 0);
	run->alias = mmap(NULL, CH_WIN_ALL * CH_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			  run->winfd, 0);
	ASSERT_NE(MAP_FAILED, run->win);
	ASSERT_NE(MAP_FAILED, run->alias);
	ASSERT_EQ(0, ch_setup_uffd(run));

	/* The ports, open to everyone; the handles, all opened as root. */
	fd = kt_create(ch_pname[P_RV], 0, 0, CH_SMALL_MSG, 0666, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, fd);
	close(fd);
	fd = kt_create(ch_pname[P_UB], 0, KPORT_CAPACITY_UNBOUNDED, CH_SMALL_MSG, 0666,
		       KPORT_RIGHTS_ALL);
	ASSERT_LE(0, fd);
	close(fd);
	{
		struct kport_create c = { 0 };

		c.flags = KPORT_CREATE_ZEROCOPY;
		kt_copy_name(c.name, ch_pname[P_POOL]);
		c.mode = 0666;
		c.capacity = 16;
		c.msg_size = CH_BIG_MSG;
		c.rights = KPORT_RIGHTS_ALL;
		c.pool_size = CH_POOL;
		fd = kt_create_raw(&c);
		ASSERT_LE(0, fd);
		close(fd);
	}
	for (port = 0; port < CH_NPORTS; port++) {
		run->send_fd[port] = kt_open(ch_pname[port], KPORT_RIGHTS_ALL, 0);
		run->clean_fd[port] = kt_open(ch_pname[port], KPORT_RIGHTS_ALL, 0);
		run->blind_fd[port] = kt_open(ch_pname[port], KPORT_RIGHTS_ALL, 0);
		ASSERT_LE(0, run->send_fd[port]);
		ASSERT_LE(0, run->clean_fd[port]);
		ASSERT_LE(0, run->blind_fd[port]);
	}
	run->borrow_fd = kt_open(ch_pname[P_POOL], KPORT_RIGHTS_ALL, 0);
	run->map_fd = kt_open(ch_pname[P_POOL], KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, run->borrow_fd);
	ASSERT_LE(0, run->map_fd);
	run->pool_map = mmap(NULL, CH_POOL, PROT_READ, MAP_SHARED, run->map_fd, 0);
	ASSERT_NE(MAP_FAILED, run->pool_map);

	for (i = 0; i < (uint32_t)run->nthreads; i++) {
		struct ch_thread *t = &run->th[i];

		t->run = run;
		t->idx = (int)i;
		t->rng = self->seed * 1000003ULL + i;
		t->nobody = i == 1;
		t->sbuf = malloc(CH_BIG_MSG);
		t->rbuf = malloc(4 * CH_BIG_MSG);
		ASSERT_NE(NULL, t->sbuf);
		ASSERT_NE(NULL, t->rbuf);
		t->wp = run->wp_area + i * CH_PAGE;
		t->post_fd = kt_open(ch_pname[P_POOL], KPORT_RIGHTS_ALL, 0);
		ASSERT_LE(0, t->post_fd);
		t->post_map = mmap(NULL, CH_POOL, PROT_READ | PROT_WRITE, MAP_SHARED,
				   t->post_fd, 0);
		ASSERT_NE(MAP_FAILED, t->post_map);
	}
	ASSERT_EQ(0, kt_sigaction(SIGUSR1, ch_on_signal, SA_RESTART));
	ASSERT_EQ(0, kt_sigaction(SIGUSR2, ch_on_signal, 0));

	printf("# chaos: seed=%llu seconds=%u threads=%d userfaultfd=%s (KPORT_CHAOS_SEED reproduces the choices, not the timing)\n",
	       (unsigned long long)self->seed, self->seconds, run->nthreads,
	       run->uffd >= 0 ? "yes" : "no");
	run->end_ns = kt_now_ns() + self->seconds * KT_NSEC_PER_SEC;
	for (i = 0; i < (uint32_t)run->nthreads; i++)
		ASSERT_EQ(0, pthread_create(&run->th[i].tid, NULL, ch_worker, &run->th[i]));
	ASSERT_EQ(0, pthread_create(&run->flipper, NULL, ch_flipper, run));
	ASSERT_EQ(0, pthread_create(&run->signaller, NULL, ch_signaller, run));
	if (run->uffd >= 0)
		ASSERT_EQ(0, pthread_create(&run->uffd_tid, NULL, ch_uffd_handler, run));
	for (i = 0; i < (uint32_t)run->nthreads; i++) {
		pthread_join(run->th[i].tid, NULL);
		__atomic_store_n(&run->th[i].ktid, -1, __ATOMIC_RELAXED);
	}
	run->stop = 1;
	run->joined = 1;
	pthread_join(run->flipper, NULL);
	pthread_join(run->signaller, NULL);
	if (run->uffd >= 0)
		pthread_join(run->uffd_tid, NULL);

	/* Everything received or still queued is accounted for. */
	drainbuf = malloc(CH_BIG_MSG);
	ASSERT_NE(NULL, drainbuf);
	ch_drain(run, drainbuf, false);
	{
		uint64_t before = ch_sh->received;

		kt_sleep_ms(200);
		ch_drain(run, drainbuf, true);
		if (ch_sh->received != before)
			ch_violation("drain: %llu more messages 200 ms after the queues were empty",
				     (unsigned long long)(ch_sh->received - before));
	}
	for (i = 0; i < CH_TAGS; i++) {
		uint8_t s = ch_sh->state[i], got = ch_sh->got[i];

		if (s == T_OK) {
			ok++;
			if (!got)
				unaccounted++;
		} else if (s == T_FAILED) {
			bad++;
		} else if (s == T_FLIGHT) {
			flight++;
		}
		if ((s == T_FLIGHT || (s == T_OK && !got && unaccounted > ch_sh->blind_received)) &&
		    ++shown <= 6)
			printf("# chaos: tag %u (sender %u, %s to %s) %s\n", i, ch_tag_slot(i),
			       ch_how[ch_sh->how[i] & 15], ch_pname[ch_sh->how[i] >> 4],
			       s == T_FLIGHT ? "never finished sending" :
			       "sent, not received (unread in place, or lost)");
	}
	printf("kport-figure: chaos ops=%llu sent=%llu failed-sends=%llu received=%llu in-place-unread=%llu eintr=%llu efault=%llu stalls=%llu restart-signals=%llu children=%llu seed=%llu seconds=%u\n",
	       (unsigned long long)ch_sh->ops, (unsigned long long)ok,
	       (unsigned long long)bad, (unsigned long long)ch_sh->received,
	       (unsigned long long)ch_sh->blind_received,
	       (unsigned long long)ch_sh->eintr, (unsigned long long)ch_sh->efault,
	       (unsigned long long)ch_sh->stalls, (unsigned long long)ch_sh->restarts,
	       (unsigned long long)ch_sh->children, (unsigned long long)self->seed,
	       self->seconds);
	for (i = 0; i < ch_sh->nviol && i < 8; i++)
		printf("# chaos violation: %s\n", ch_sh->viol[i]);
	fflush(stdout);
	EXPECT_EQ(0, ch_sh->nviol);
	EXPECT_EQ(0, flight);
	/* Sent and never read: exactly the in-place receives nobody read. */
	EXPECT_EQ(ch_sh->blind_received, unaccounted);
	EXPECT_EQ(ok, ch_sh->received);
	/* Not a vacuous pass. */
	EXPECT_LT(100, ok);
	EXPECT_LT(0, ch_sh->efault);
	EXPECT_LT(0, ch_sh->eintr);
	EXPECT_LT(0, ch_sh->children);

	/* Close every handle but one: the ports hold nothing. */
	for (i = 0; i < (uint32_t)run->nthreads; i++) {
		munmap(run->th[i].post_map, CH_POOL);
		close(run->th[i].post_fd);
		free(run->th[i].sbuf);
		free(run->th[i].rbuf);
	}
	munmap((void *)run->pool_map, CH_POOL);
	close(run->map_fd);
	close(run->borrow_fd);
	for (port = 0; port < CH_NPORTS; port++) {
		close(run->send_fd[port]);
		close(run->blind_fd[port]);
		ASSERT_EQ(0, kt_stat(run->clean_fd[port], &st));
		printf("# chaos: %s at the end: nr_msgs=%u bytes=%llu send_waiters=%u recv_waiters=%u slices_held=%u pool_used=%llu handles=%u\n",
		       ch_pname[port], st.nr_msgs, (unsigned long long)st.bytes,
		       st.send_waiters, st.recv_waiters, st.slices_held,
		       (unsigned long long)st.pool_used, st.handles);
		fflush(stdout);
		EXPECT_EQ(0, st.nr_msgs);
		EXPECT_EQ(0, st.bytes);
		EXPECT_EQ(0, st.send_waiters);
		EXPECT_EQ(0, st.recv_waiters);
		EXPECT_EQ(0, st.slices_held);
		EXPECT_EQ(0, st.pool_used);
		EXPECT_EQ(1, st.handles);
		EXPECT_EQ(0, kt_delete(run->clean_fd[port]));
		close(run->clean_fd[port]);
	}
	fd = kt_open("kch.victim", KPORT_RIGHTS_ALL, 0);
	if (fd >= 0) {
		EXPECT_EQ(0, kt_delete(fd));
		close(fd);
	}
	free(drainbuf);
	if (run->uffd >= 0)
		close(run->uffd);
	munmap(run->win, CH_WIN_ALL * CH_PAGE);
	munmap(run->alias, CH_WIN_ALL * CH_PAGE);
	close(run->winfd);
	kt_dev_close();
	for (i = 0; i < 100; i++) {
		if (kt_proc_ports("kch.", &ours) >= 0 && ours == 0 &&
		    kt_module_refcnt() == self->refcnt_before)
			break;
		kt_sleep_ms(50);
	}
	EXPECT_EQ(0, ours);
	EXPECT_EQ(self->refcnt_before, kt_module_refcnt());
	munmap(ch_sh, sizeof(struct ch_shared));
	close(run->shfd);
	free(run);
}

TEST_HARNESS_MAIN
