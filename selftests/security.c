// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftest: the holes of issue 8, each as the attack that found it
 * (doc/security.md).
 *
 * Every call has a commit point: nothing becomes visible to another thread
 * before the last step that can fail, and nothing done is undone or redone
 * behind the caller's back.  The tests break that rule the ways it breaks:
 * an output struct on a read-only page while another thread releases what
 * the call would publish, a signal after the call's side effect, a write()
 * done by a process that did not open the handle, an exec between
 * creating an inbox and looking it up, a deleted port kept by a handle,
 * and a rendezvous receiver whose copy faults.  Needs root (to change ids
 * and module parameters).
 */
#include "kport_test.h"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define MSG_SIZE	64
#define POOL_SIZE	(64 * 4096)
#define BIG		8192	/* travels through a pool */
#define NOBODY		65534

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* A read-only page: a copy-out into it faults.  NULL on failure. */
static void *ro_buffer(void)
{
	void *p = mmap(NULL, page_size(), PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Two pages: the first writable, the second read-only.  @ro_at bytes of
 * an object placed at the returned address minus @ro_at lie on the first
 * page, the rest on the read-only one.  @init is copied there first.
 */
static void *straddle(const void *init, size_t size, size_t ro_at)
{
	long ps = page_size();
	char *p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memcpy(p + ps - ro_at, init, size);
	if (mprotect(p + ps, ps, PROT_READ))
		return NULL;
	return p + ps - ro_at;
}

static void unstraddle(void *obj, size_t ro_at)
{
	long ps = page_size();

	munmap((char *)obj + ro_at - ps, 2 * ps);
}

/* A pool port (zero-copy if asked) of capacity 8, all rights, 0600. */
static int pool_port(bool zerocopy)
{
	return kt_create_pool(NULL, zerocopy ? KPORT_CREATE_ZEROCOPY : 0, 8,
			      BIG, POOL_SIZE);
}

/* ---- 1. Nothing is published before the last copy-out ------------------- */

struct releaser {
	int fd;
	volatile bool stop;
	unsigned long released;
};

/* Release every slice offset there is, again and again. */
static void *release_everything(void *arg)
{
	struct releaser *r = arg;
	uint64_t off;

	while (!r->stop) {
		for (off = 0; off < POOL_SIZE; off += 4096) {
			if (!kt_release(r->fd, off, BIG))
				r->released++;
			if (!kt_release(r->fd, off, 4096))
				r->released++;
		}
	}
	return NULL;
}

TEST(borrow_onto_a_read_only_struct_fails_and_leaves_no_slice)
{
	struct kport_slice s, *ro;
	struct kport_stat st;
	int fd = pool_port(true);

	ASSERT_LE(0, fd);
	memset(&s, 0, sizeof(s));
	s.len = BIG;
	ro = straddle(&s, sizeof(s), 0);
	ASSERT_NE(NULL, ro);
	ASSERT_EQ(-EFAULT, kt_ioctl(fd, KPORT_IOC_BORROW, ro));
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(0U, st.slices_held);
	ASSERT_EQ(0U, st.pool_used);
	ASSERT_EQ(-ENOENT, kt_release(fd, 0, BIG));
	/* And a borrow that can write its answer still works. */
	ASSERT_EQ(0, kt_ioctl(fd, KPORT_IOC_BORROW, &s));
	ASSERT_EQ(0, kt_release(fd, s.offset, BIG));
	unstraddle(ro, 0);
	close(fd);
}

TEST(borrow_faulting_while_another_thread_releases_cannot_free_twice)
{
	struct releaser r = { .stop = false };
	struct kport_slice s, *ro;
	struct kport_stat st;
	pthread_t t;
	int i;

	r.fd = pool_port(true);
	ASSERT_LE(0, r.fd);
	memset(&s, 0, sizeof(s));
	s.len = BIG;
	ro = straddle(&s, sizeof(s), 0);
	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, pthread_create(&t, NULL, release_everything, &r));
	for (i = 0; i < 3000; i++)
		ASSERT_EQ(-EFAULT, kt_ioctl(r.fd, KPORT_IOC_BORROW, ro));
	r.stop = true;
	pthread_join(t, NULL);
	/* Nothing failed was ever on the handle for the releaser to find. */
	ASSERT_EQ(0UL, r.released);
	ASSERT_EQ(0, kt_stat(r.fd, &st));
	ASSERT_EQ(0U, st.slices_held);
	ASSERT_EQ(0U, st.pool_used);
	unstraddle(ro, 0);
	close(r.fd);
}

/* Receive in place with the struct on a read-only page. */
static int recv_inplace_ro(int fd, struct kport_msg **rop)
{
	struct kport_msg m;

	memset(&m, 0, sizeof(m));
	m.flags = KPORT_MSG_INPLACE | KPORT_MSG_NONBLOCK;
	if (!*rop)
		*rop = straddle(&m, sizeof(m), 0);
	return kt_ioctl(fd, KPORT_IOC_RECV, *rop);
}

TEST(in_place_receive_onto_a_read_only_struct_keeps_the_message_queued)
{
	struct kport_msg *ro = NULL, m;
	static char big[BIG], got[BIG];
	struct kport_stat st;
	int fd = pool_port(false);

	ASSERT_LE(0, fd);
	kt_fill(big, sizeof(big), 1);
	ASSERT_EQ(0, kt_send(fd, big, BIG, 0, 0, 0));
	ASSERT_EQ(-EFAULT, recv_inplace_ro(fd, &ro));
	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(0U, st.slices_held);
	ASSERT_EQ(-ENOENT, kt_release(fd, 0, BIG));
	/* The message is whole for the next receive. */
	ASSERT_EQ(BIG, kt_recv(fd, got, sizeof(got), 0, &m));
	ASSERT_EQ(0U, kt_check_fill(got, BIG, 1));
	unstraddle(ro, 0);
	close(fd);
}

TEST(in_place_receive_faulting_while_another_thread_releases_loses_nothing)
{
	struct releaser r = { .stop = false };
	struct kport_msg *ro = NULL;
	static char big[BIG];
	struct kport_stat st;
	pthread_t t;
	int i;

	r.fd = pool_port(false);
	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, kt_send(r.fd, big, BIG, 0, 0, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, release_everything, &r));
	for (i = 0; i < 3000; i++)
		ASSERT_EQ(-EFAULT, recv_inplace_ro(r.fd, &ro));
	r.stop = true;
	pthread_join(t, NULL);
	ASSERT_EQ(0UL, r.released);
	ASSERT_EQ(0, kt_stat(r.fd, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(0U, st.slices_held);
	unstraddle(ro, 0);
	close(r.fd);
}

TEST(recvv_in_place_onto_a_read_only_element_keeps_the_message_queued)
{
	struct kport_msg m, *ro;
	struct kport_batch b;
	static char big[BIG];
	struct kport_stat st;
	int fd = pool_port(false);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_send(fd, big, BIG, 0, 0, 0));
	memset(&m, 0, sizeof(m));
	m.flags = KPORT_MSG_INPLACE;
	ro = straddle(&m, sizeof(m), 0);
	ASSERT_NE(NULL, ro);
	memset(&b, 0, sizeof(b));
	b.flags = KPORT_MSG_NONBLOCK;
	b.msgs = (uintptr_t)ro;
	b.count = 1;
	b.msg_size = sizeof(m);
	ASSERT_EQ(-EFAULT, kt_ioctl(fd, KPORT_IOC_RECVV, &b));
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(0U, st.slices_held);
	unstraddle(ro, 0);
	close(fd);
}

TEST(sendrecv_in_place_reply_onto_a_read_only_page_says_sent_and_keeps_it)
{
	const size_t recv_at = offsetof(struct kport_sendrecv, recv);
	struct kport_sendrecv sr, *p;
	static char big[BIG];
	struct kport_stat st;
	int req = kt_create_simple(NULL, 8, MSG_SIZE);
	int rep = pool_port(false);

	ASSERT_LE(0, req);
	ASSERT_LE(0, rep);
	ASSERT_EQ(0, kt_send(rep, big, BIG, 0, 0, 0));
	memset(&sr, 0, sizeof(sr));
	sr.recv_fd = rep;
	sr.send.buf = (uintptr_t)"ping";
	sr.send.len = 4;
	sr.recv.flags = KPORT_MSG_INPLACE | KPORT_MSG_NONBLOCK;
	/* done is writable, the reply's struct is not */
	p = straddle(&sr, sizeof(sr), recv_at);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(-EFAULT, kt_ioctl(req, KPORT_IOC_SENDRECV, p));
	ASSERT_EQ(KPORT_SR_SENT, p->done);
	ASSERT_EQ(0, kt_stat(req, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(0, kt_stat(rep, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(0U, st.slices_held);
	unstraddle(p, recv_at);
	close(req);
	close(rep);
}

TEST(a_pool_mapped_after_a_delivery_holds_no_trace_of_it)
{
	static char big[BIG], got[BIG];
	const unsigned char *map;
	int fd = pool_port(true), i;
	struct kport_slice s;
	size_t off;

	ASSERT_LE(0, fd);
	memset(big, 0xa5, sizeof(big));
	/* one message copied through the pool, one posted zero-copy */
	ASSERT_EQ(0, kt_send(fd, big, BIG, 0, 0, 0));
	ASSERT_EQ(BIG, kt_recv(fd, got, sizeof(got), 0, NULL));
	memset(&s, 0, sizeof(s));
	s.len = BIG - 3000;	/* a slice of BIG bytes */
	ASSERT_EQ(0, kt_ioctl(fd, KPORT_IOC_BORROW, &s));
	map = mmap(NULL, POOL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	/* a zero-copy sender may write the whole slice, not only len */
	memset((char *)map + s.offset, 0x5a, BIG);
	ASSERT_EQ(0, kt_release(fd, s.offset, BIG - 3000));
	munmap((void *)map, POOL_SIZE);
	/* Whoever maps it now sees zeroes only. */
	map = mmap(NULL, POOL_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	for (off = 0, i = 0; off < POOL_SIZE; off++)
		i |= map[off];
	ASSERT_EQ(0, i);
	munmap((void *)map, POOL_SIZE);
	close(fd);
}

/* ---- 2. A call that has sent is never restarted ---------------------------- */

static volatile int signals_caught;

static void on_signal(int sig)
{
	(void)sig;
	signals_caught++;
}

struct pester {
	pthread_t target;
	int port;		/* wait until it has a receiver (or sender) */
	bool sender;
	int count;
};

static void *pester(void *arg)
{
	struct pester *p = arg;
	int i;

	if (p->sender ? kt_wait_send_waiters(p->port, 1) :
			kt_wait_recv_waiters(p->port, 1))
		return NULL;
	for (i = 0; i < p->count; i++) {
		pthread_kill(p->target, SIGUSR1);
		kt_sleep_ms(20);
	}
	return NULL;
}

/* A SENDRECV of "ping" on @req, the reply to @buf from @rep. */
static void ping(struct kport_sendrecv *sr, int rep, char *buf)
{
	memset(sr, 0, sizeof(*sr));
	sr->recv_fd = rep;
	sr->send.buf = (uintptr_t)"ping";
	sr->send.len = 4;
	sr->recv.buf = (uintptr_t)buf;
	sr->recv.len = MSG_SIZE;
}

/*
 * SENDRECV @sr on @req while @p signals us (an SA_RESTART handler) once
 * its port has a waiter.  Returns what the ioctl did, or -ECHILD if the
 * pester thread could not start.
 */
static int pestered_sendrecv(int req, struct kport_sendrecv *sr,
			     struct pester *p)
{
	pthread_t t;
	int ret;

	if (kt_sigaction(SIGUSR1, on_signal, SA_RESTART))
		return -ECHILD;
	signals_caught = 0;
	p->target = pthread_self();
	if (pthread_create(&t, NULL, pester, p))
		return -ECHILD;
	ret = kt_ioctl(req, KPORT_IOC_SENDRECV, sr);
	pthread_join(t, NULL);
	signal(SIGUSR1, SIG_DFL);
	return ret;
}

TEST(sendrecv_interrupted_after_sending_gives_eintr_and_sends_once)
{
	struct pester p = { .count = 5 };
	struct kport_sendrecv sr;
	struct kport_stat st;
	char buf[MSG_SIZE];
	int req = kt_create_simple(NULL, 16, MSG_SIZE);
	int rep = kt_create_simple(NULL, 16, MSG_SIZE);

	ASSERT_LE(0, req);
	ASSERT_LE(0, rep);
	ping(&sr, rep, buf);
	sr.recv.flags = KPORT_MSG_DEADLINE;
	sr.recv.deadline_ns = kt_deadline_ms(2000);
	p.port = rep;
	ASSERT_EQ(-EINTR, pestered_sendrecv(req, &sr, &p));
	ASSERT_EQ(KPORT_SR_SENT, sr.done);
	ASSERT_LE(1, signals_caught);
	ASSERT_EQ(0, kt_stat(req, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(1U, st.sent);
	close(req);
	close(rep);
}

TEST(sendrecv_interrupted_before_sending_restarts_and_sends_once)
{
	struct pester p = { .count = 3, .sender = true };
	struct kport_sendrecv sr;
	struct kport_stat st;
	char buf[MSG_SIZE];
	/* a rendezvous request port: the send itself waits */
	int req = kt_create_simple(NULL, 0, MSG_SIZE);
	int rep = kt_create_simple(NULL, 16, MSG_SIZE);

	ASSERT_LE(0, req);
	ASSERT_LE(0, rep);
	ping(&sr, rep, buf);
	sr.send.flags = KPORT_MSG_DEADLINE;
	sr.send.deadline_ns = kt_deadline_ms(300);
	p.port = req;
	/* Nobody receives: the send times out, restarted by each signal. */
	ASSERT_EQ(-ETIMEDOUT, pestered_sendrecv(req, &sr, &p));
	ASSERT_EQ(0U, sr.done);
	ASSERT_EQ(3, signals_caught);
	ASSERT_EQ(0, kt_stat(req, &st));
	ASSERT_EQ(0U, st.nr_msgs);
	ASSERT_EQ(0U, st.sent);
	close(req);
	close(rep);
}

struct taker {
	int fd;
	void *page;	/* made read-only before taking */
	size_t len;
	int ret;
};

static void *protect_then_take(void *arg)
{
	struct taker *tk = arg;
	char buf[MSG_SIZE];

	tk->ret = kt_wait_send_waiters(tk->fd, 1);
	if (tk->ret)
		return NULL;
	if (mprotect(tk->page, tk->len, PROT_READ)) {
		tk->ret = -errno;
		return NULL;
	}
	tk->ret = kt_recv(tk->fd, buf, sizeof(buf), 0, NULL);
	return NULL;
}

TEST(sendrecv_whose_done_turns_read_only_after_sending_returns_sent)
{
	struct kport_sendrecv *sr;
	struct taker tk = { 0 };
	struct kport_stat st;
	pthread_t t;
	int req = kt_create_simple(NULL, 0, MSG_SIZE);
	int rep = kt_create_simple(NULL, 16, MSG_SIZE);

	ASSERT_LE(0, req);
	ASSERT_LE(0, rep);
	sr = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sr);
	sr->recv_fd = rep;
	sr->send.buf = (uintptr_t)"ping";
	sr->send.len = 4;
	sr->recv.flags = KPORT_MSG_NONBLOCK;
	tk.fd = req;
	tk.page = sr;
	tk.len = page_size();
	ASSERT_EQ(0, pthread_create(&t, NULL, protect_then_take, &tk));
	/* Blocks in the rendezvous send until the taker has the page RO. */
	ASSERT_EQ(KPORT_SR_SENT, kt_ioctl(req, KPORT_IOC_SENDRECV, sr));
	pthread_join(t, NULL);
	ASSERT_EQ(4, tk.ret);
	ASSERT_EQ(0U, sr->done);
	ASSERT_EQ(0, kt_stat(req, &st));
	ASSERT_EQ(1U, st.sent);
	munmap(sr, page_size());
	close(req);
	close(rep);
}

/* ---- 3. write() is from the opener, whoever writes ---------------------------- */

TEST(write_by_a_setuid_root_holder_of_a_nobody_handle_says_nobody)
{
	char name[KPORT_NAME_MAX];
	struct kport_msg m;
	char buf[MSG_SIZE];
	int port, ret;
	pid_t pid;

	kt_name(name, _metadata->name);
	port = kt_create(name, 0, 8, MSG_SIZE, 0666, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, port);
	pid = kt_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		/* Open as nobody... */
		KT_CHILD_ASSERT(!setresuid(NOBODY, NOBODY, 0));
		fd = kt_open(name, KPORT_RIGHT_SEND, 0);
		KT_CHILD_ASSERT(fd >= 0);
		/* ...and write as root, as a setuid program would. */
		KT_CHILD_ASSERT(!setresuid(0, 0, 0));
		KT_CHILD_ASSERT(geteuid() == 0);
		KT_CHILD_ASSERT(write(fd, "written", 7) == 7);
		/* An ioctl is the caller's own act: it says root. */
		KT_CHILD_ASSERT(kt_send(fd, "ioctl", 5, 0, 0, 0) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_reap(pid, -1));
	ret = kt_recv(port, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m);
	ASSERT_EQ(7, ret);
	ASSERT_EQ((uint32_t)NOBODY, m.uid);
	ret = kt_recv(port, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m);
	ASSERT_EQ(5, ret);
	ASSERT_EQ(0U, m.uid);
	ASSERT_EQ(0, kt_unlink(name));
	close(port);
}

TEST(write_by_another_process_carries_the_openers_pid)
{
	struct kport_msg m;
	char buf[MSG_SIZE];
	int port = kt_create_simple(NULL, 8, MSG_SIZE);
	pid_t pid;

	ASSERT_LE(0, port);
	pid = kt_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		KT_CHILD_ASSERT(write(port, "w", 1) == 1);
		KT_CHILD_ASSERT(kt_send(port, "s", 1, 0, 0, 0) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_reap(pid, -1));
	ASSERT_EQ(1, kt_recv(port, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ('w', buf[0]);
	ASSERT_EQ(getpid(), m.pid);
	ASSERT_EQ(1, kt_recv(port, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ('s', buf[0]);
	/* the child is gone: still its number (nobody else has it) */
	ASSERT_EQ(pid, m.pid);
	close(port);
}

/*
 * read() is a receive through the handle: its rights decide, never the
 * reader's credentials.  A handle opened by nobody with the send right
 * only cannot be read by root (a setuid program it is passed to), and a
 * handle opened by root with the receive right reads for a process that
 * has become nobody, on a port nobody could not open.
 */
TEST(read_through_a_handle_passed_across_setuid_uses_the_handles_rights)
{
	char name[KPORT_NAME_MAX], buf[MSG_SIZE];
	int port, ro;
	pid_t pid;

	kt_name(name, _metadata->name);
	/* Others may send, not receive. */
	port = kt_create(name, 0, 8, MSG_SIZE, 0622, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, port);
	ro = kt_open(name, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, kt_send(port, "one", 3, 0, 0, 0));
	ASSERT_EQ(0, kt_send(port, "two", 3, 0, 0, 0));
	pid = kt_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int snd;

		KT_CHILD_ASSERT(!setresuid(NOBODY, NOBODY, 0));
		snd = kt_open(name, KPORT_RIGHT_SEND, 0);
		KT_CHILD_ASSERT(snd >= 0);
		/* Root again, as a setuid program the handle is passed to. */
		KT_CHILD_ASSERT(!setresuid(0, 0, 0));
		KT_CHILD_ASSERT(read(snd, buf, sizeof(buf)) == -1 && errno == EBADF);
		/* Nobody for good: root's receive handle still reads. */
		KT_CHILD_ASSERT(!setresuid(NOBODY, NOBODY, NOBODY));
		KT_CHILD_ASSERT(kt_open(name, KPORT_RIGHT_RECV, 0) == -EACCES);
		KT_CHILD_ASSERT(read(ro, buf, sizeof(buf)) == 3);
		KT_CHILD_ASSERT(!memcmp(buf, "one", 3));
		_exit(0);
	}
	ASSERT_EQ(0, kt_reap(pid, -1));
	/* Nothing else was taken: the second message is still there. */
	ASSERT_EQ(3, read(ro, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "two", 3));
	ASSERT_EQ(0, kt_unlink(name));
	close(ro);
	close(port);
}

/* read() into a buffer the kernel cannot write: EFAULT, and nothing lost. */
TEST(read_onto_a_read_only_buffer_fails_and_keeps_the_message)
{
	int port = kt_create_simple(NULL, 8, MSG_SIZE);
	struct kport_stat st;
	char *page, buf[MSG_SIZE];

	ASSERT_LE(0, port);
	page = ro_buffer();
	ASSERT_NE(NULL, page);
	ASSERT_EQ(5, write(port, "hello", 5));
	ASSERT_EQ(-1, read(port, page, MSG_SIZE));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, kt_stat(port, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(0U, st.received);
	ASSERT_EQ(5, read(port, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "hello", 5));
	munmap(page, page_size());
	close(port);
}

#define RW_MSGS		2000
#define RW_THREADS	2	/* writers, and as many readers */

struct rw_share {
	int fd;
	char *ro;		/* a read-only page: some reads aim there */
	unsigned int next;	/* messages handed out to writers */
	unsigned int got;	/* messages read */
	unsigned char seen[RW_THREADS * RW_MSGS];
	unsigned int dups, efault, bad;
};

static void *rw_writer(void *arg)
{
	struct rw_share *sh = arg;
	unsigned int i;

	while ((i = __atomic_fetch_add(&sh->next, 1, __ATOMIC_SEQ_CST)) <
	       RW_THREADS * RW_MSGS) {
		ssize_t ret;

		while ((ret = write(sh->fd, &i, sizeof(i))) < 0 && errno == EAGAIN)
			sched_yield();
		if (ret != sizeof(i))
			__atomic_fetch_add(&sh->bad, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void *rw_reader(void *arg)
{
	struct rw_share *sh = arg;
	unsigned int v, n = 0;
	ssize_t ret;

	while (__atomic_load_n(&sh->got, __ATOMIC_SEQ_CST) < RW_THREADS * RW_MSGS) {
		if (n++ % 3 == 0) {
			/* Faults: must leave the message for the next read. */
			ret = read(sh->fd, sh->ro, sizeof(v));
			if (ret != -1 || (errno != EFAULT && errno != EAGAIN))
				__atomic_fetch_add(&sh->bad, 1, __ATOMIC_SEQ_CST);
			else if (errno == EFAULT)
				__atomic_fetch_add(&sh->efault, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		ret = read(sh->fd, &v, sizeof(v));
		if (ret < 0 && errno == EAGAIN) {
			sched_yield();
			continue;
		}
		if (ret != sizeof(v) || v >= RW_THREADS * RW_MSGS) {
			__atomic_fetch_add(&sh->bad, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		if (__atomic_fetch_add(&sh->seen[v], 1, __ATOMIC_SEQ_CST))
			__atomic_fetch_add(&sh->dups, 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&sh->got, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/*
 * Two writers and two readers on one descriptor (one open file), the
 * readers' every third read() aimed at a read-only page: each message is
 * read exactly once, and the faulting reads take nothing.
 */
TEST(write_and_read_by_threads_on_one_handle_lose_and_duplicate_nothing)
{
	pthread_t w[RW_THREADS], r[RW_THREADS];
	struct rw_share *sh = calloc(1, sizeof(*sh));
	struct kport_stat st;
	unsigned int i;

	ASSERT_NE(NULL, sh);
	/* Non-blocking: a full or empty queue is tried again. */
	sh->fd = kt_create(NULL, KPORT_CREATE_NONBLOCK, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, sh->fd);
	sh->ro = ro_buffer();
	ASSERT_NE(NULL, sh->ro);
	for (i = 0; i < RW_THREADS; i++) {
		ASSERT_EQ(0, pthread_create(&w[i], NULL, rw_writer, sh));
		ASSERT_EQ(0, pthread_create(&r[i], NULL, rw_reader, sh));
	}
	for (i = 0; i < RW_THREADS; i++) {
		pthread_join(w[i], NULL);
		pthread_join(r[i], NULL);
	}
	EXPECT_EQ(0U, sh->bad);
	EXPECT_EQ(0U, sh->dups);
	EXPECT_LT(0U, sh->efault);
	for (i = 0; i < RW_THREADS * RW_MSGS; i++)
		EXPECT_EQ(1, sh->seen[i]);
	ASSERT_EQ(0, kt_stat(sh->fd, &st));
	EXPECT_EQ(0U, st.nr_msgs);
	EXPECT_EQ((uint64_t)RW_THREADS * RW_MSGS, st.received);
	munmap(sh->ro, page_size());
	close(sh->fd);
	free(sh);
}

/* Fork a child that sleeps until killed; its pid or -errno. */
static pid_t sleeper(void)
{
	pid_t pid = kt_fork();

	if (pid == 0) {
		/* holding no handle of the test's */
		syscall(SYS_close_range, 3, ~0U, 0);
		pause();
		_exit(0);
	}
	return pid < 0 ? -errno : pid;
}

TEST(a_dead_senders_pid_reused_by_another_process_reads_as_0)
{
	struct kport_msg m;
	char buf[MSG_SIZE], last[16];
	int port = kt_create_simple(NULL, 8, MSG_SIZE), fd, ret;
	pid_t pid, other;

	ASSERT_LE(0, port);
	pid = kt_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		KT_CHILD_ASSERT(kt_send(port, "a", 1, 0, 0, 0) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_reap(pid, -1));
	/* Give its number to a new process (root may pick the next pid). */
	fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
	if (fd < 0 && errno == ENOENT) {
		close(port);
		SKIP(return, "no ns_last_pid (CONFIG_CHECKPOINT_RESTORE): runs in the stock lane");
	}
	ASSERT_LE(0, fd);
	snprintf(last, sizeof(last), "%d", (int)pid - 1);
	ASSERT_LT(0, write(fd, last, strlen(last)));
	close(fd);
	other = sleeper();
	ASSERT_LT(0, other);
	if (other != pid) {
		kt_kill_reap(other);
		SKIP(return, "pid %d went to another fork first", (int)pid);
	}
	ret = kt_recv(port, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m);
	kt_kill_reap(other);
	ASSERT_EQ(1, ret);
	ASSERT_EQ(0, m.pid);
	close(port);
}

/* ---- 4. An inbox belongs to a program image, not to a pid -------------------- */

#define EXEC_ENV	"KPORT_SECURITY_EXEC"

/*
 * After the exec: the old image's inbox (still held by a child) must not
 * be what our pid names, and we may make our own.  Exit 0 when so.
 */
static void after_exec(void)
{
	char buf[MSG_SIZE];
	int fd, mine;

	fd = kt_open_inbox(getpid(), KPORT_RIGHT_SEND, 0);
	if (fd != -ENOENT) {
		fprintf(stderr, "# after exec: open inbox gave %d\n", fd);
		_exit(1);
	}
	mine = kt_create(NULL, KPORT_CREATE_INBOX, 8, MSG_SIZE, 0600,
			 KPORT_RIGHTS_ALL);
	if (mine < 0) {
		fprintf(stderr, "# after exec: create inbox gave %d\n", mine);
		_exit(2);
	}
	fd = kt_open_inbox(getpid(), KPORT_RIGHTS_ALL, 0);
	if (fd < 0)
		_exit(3);
	/* It is the new one: empty, not the old one with "old" queued. */
	if (kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL) != -EAGAIN)
		_exit(4);
	_exit(0);
}

/* "wait:R:W": say so on fd W, then wait for fd R to close. */
static void exec_and_wait(const char *how)
{
	int r, w;
	char c;

	if (sscanf(how, "wait:%d:%d", &r, &w) != 2)
		_exit(5);
	if (write(w, "e", 1) != 1)
		_exit(6);
	(void)!read(r, &c, 1);
	_exit(0);
}

/*
 * "rw:FD:R:W": read one message from handle FD, write one, then as
 * exec_and_wait(); exit 0 if all worked.
 */
static void exec_and_use(const char *how)
{
	char buf[MSG_SIZE];
	int fd, r, w;

	if (sscanf(how, "rw:%d:%d:%d", &fd, &r, &w) != 3)
		_exit(5);
	if (read(fd, buf, sizeof(buf)) != 1 || buf[0] != 'x')
		_exit(6);
	if (write(fd, "post", 4) != 4)
		_exit(7);
	if (write(w, "e", 1) != 1)
		_exit(8);
	(void)!read(r, buf, 1);
	_exit(0);
}

static void __attribute__((constructor)) maybe_after_exec(void)
{
	const char *how = getenv(EXEC_ENV);

	if (how && !strncmp(how, "wait:", 5))
		exec_and_wait(how);
	if (how && !strncmp(how, "rw:", 3))
		exec_and_use(how);
	if (how)
		after_exec();
}

TEST(a_sender_that_has_exec_d_since_is_reported_as_pid_0)
{
	int port = kt_create_simple(NULL, 8, MSG_SIZE), token[2], ready[2];
	struct kport_msg m;
	char buf[MSG_SIZE], how[48];
	pid_t pid;

	ASSERT_LE(0, port);
	ASSERT_EQ(0, pipe(token));
	ASSERT_EQ(0, pipe(ready));
	pid = kt_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(token[1]);
		KT_CHILD_ASSERT(kt_send(port, "i", 1, 0, 0, 0) == 0);
		KT_CHILD_ASSERT(write(port, "w", 1) == 1);
		snprintf(how, sizeof(how), "wait:%d:%d", token[0], ready[1]);
		setenv(EXEC_ENV, how, 1);
		execl("/proc/self/exe", "security", (char *)NULL);
		_exit(99);
	}
	close(token[0]);
	close(ready[1]);
	/* The same process, another program: its number is no longer it. */
	ASSERT_EQ(1, read(ready[0], buf, 1));
	ASSERT_EQ(1, kt_recv(port, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ(0, m.pid);
	ASSERT_EQ(0U, m.uid);
	ASSERT_EQ(1, kt_recv(port, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ(getpid(), m.pid);	/* written: the opener's, us */
	close(token[1]);
	ASSERT_EQ(0, kt_reap(pid, -1));
	close(ready[0]);
	close(port);
}

/*
 * A handle whose opener has exec'd: the new program may still read and
 * write through it (the handle's rights), but what it writes does not say
 * it is from the opener's pid, which now names another program.
 */
TEST(write_after_the_openers_exec_reads_as_pid_0_and_the_handle_still_works)
{
	char name[KPORT_NAME_MAX], buf[MSG_SIZE], how[48];
	int port, token[2], ready[2];
	struct kport_msg m;
	pid_t pid;

	kt_name(name, _metadata->name);
	port = kt_create(name, 0, 8, MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, port);
	ASSERT_EQ(0, pipe(token));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, kt_send(port, "x", 1, 0, 0, 0));
	pid = kt_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = kt_open(name, KPORT_RIGHTS_ALL, 0);

		close(token[1]);
		KT_CHILD_ASSERT(fd >= 0);
		KT_CHILD_ASSERT(fcntl(fd, F_SETFD, 0) == 0);	/* kept across exec */
		KT_CHILD_ASSERT(write(fd, "pre", 3) == 3);
		snprintf(how, sizeof(how), "rw:%d:%d:%d", fd, token[0], ready[1]);
		setenv(EXEC_ENV, how, 1);
		execl("/proc/self/exe", "security", (char *)NULL);
		_exit(99);
	}
	close(token[0]);
	close(ready[1]);
	/* While the new program runs: its pid names it, not the opener. */
	ASSERT_EQ(1, read(ready[0], buf, 1));
	ASSERT_EQ(3, kt_recv(port, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ(0, memcmp(buf, "pre", 3));
	ASSERT_EQ(0, m.pid);	/* its writer has exec'd since */
	ASSERT_EQ(4, kt_recv(port, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ(0, memcmp(buf, "post", 4));
	ASSERT_EQ(0, m.pid);	/* the opener's image, gone: not the new program */
	ASSERT_EQ(0U, m.uid);
	close(token[1]);
	ASSERT_EQ(0, kt_reap(pid, -1));
	close(ready[0]);
	ASSERT_EQ(0, kt_unlink(name));
	close(port);
}

/* STAT's owner_pid, like a sender's pid, stops naming a process that exec'd. */
TEST(stat_reports_a_process_owned_ports_owner_as_0_after_it_execs)
{
	char name[KPORT_NAME_MAX], how[48], c;
	int token[2], ready[2], go[2], fd;
	struct kport_stat st;
	pid_t pid;

	kt_name(name, _metadata->name);
	ASSERT_EQ(0, pipe(token));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = kt_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int port = kt_create(name, KPORT_CREATE_PROCESS, 4, MSG_SIZE, 0600,
				     KPORT_RIGHTS_ALL);

		close(token[1]);
		KT_CHILD_ASSERT(port >= 0);
		/* The creator's handle, so the port, lives across the exec. */
		KT_CHILD_ASSERT(fcntl(port, F_SETFD, 0) == 0);
		KT_CHILD_ASSERT(write(ready[1], "c", 1) == 1);
		KT_CHILD_ASSERT(read(go[0], &c, 1) == 1);
		snprintf(how, sizeof(how), "wait:%d:%d", token[0], ready[1]);
		setenv(EXEC_ENV, how, 1);
		execl("/proc/self/exe", "security", (char *)NULL);
		_exit(99);
	}
	close(token[0]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	fd = kt_open(name, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(pid, st.owner_pid);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(ready[0], &c, 1));	/* the new program runs */
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(0, st.owner_pid);
	ASSERT_EQ(0U, st.status);	/* still its creator's handle: alive */
	close(token[1]);
	ASSERT_EQ(0, kt_reap(pid, -1));
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(KPORT_STATUS_DEAD, st.status);
	close(fd);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

TEST(inbox_left_behind_by_exec_is_not_reached_by_the_pid)
{
	int token[2], report[2];
	pid_t pid, keeper;

	ASSERT_EQ(0, pipe(token));
	ASSERT_EQ(0, pipe(report));
	/* The keeper outlives its parent: make it ours to reap. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
	pid = kt_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[MSG_SIZE];
		int inbox;
		char c;

		inbox = kt_create(NULL, KPORT_CREATE_INBOX, 8, MSG_SIZE, 0600,
				  KPORT_RIGHTS_ALL);
		KT_CHILD_ASSERT(inbox >= 0);
		KT_CHILD_ASSERT(kt_send(inbox, "old", 3, 0, 0, 0) == 0);
		keeper = fork();
		KT_CHILD_ASSERT(keeper >= 0);
		if (keeper == 0) {
			/* Keeps the old inbox alive, and may still use it. */
			KT_CHILD_ASSERT(read(token[0], &c, 1) == 1);
			KT_CHILD_ASSERT(kt_recv(inbox, buf, sizeof(buf),
						KPORT_MSG_NONBLOCK, NULL) == 3);
			_exit(0);
		}
		KT_CHILD_ASSERT(write(report[1], &keeper, sizeof(keeper)) ==
				sizeof(keeper));
		/* Same pid, new program: see after_exec(). */
		setenv(EXEC_ENV, "1", 1);
		execl("/proc/self/exe", "security", (char *)NULL);
		_exit(99);
	}
	ASSERT_EQ((ssize_t)sizeof(keeper), read(report[0], &keeper,
						 sizeof(keeper)));
	ASSERT_EQ(0, kt_reap(pid, -1));
	ASSERT_EQ(1, write(token[1], "go", 1));
	ASSERT_EQ(0, kt_reap(keeper, -1));
	close(token[0]);
	close(token[1]);
	close(report[0]);
	close(report[1]);
}

/* ---- 5. A deleted port stops counting against its owner ---------------------- */

static const char *const params[] = { "max_ports_per_user" };

/* Whatever a test leaves set is put back when the binary exits. */
static void __attribute__((constructor)) save_params(void)
{
	if (!getenv(EXEC_ENV))
		kt_params_save_for_exit(params, 1);
}

/*
 * A child that opens @name as nobody and holds it until @token closes; it
 * closes @inherited, the owner's handle, which fork gave it.
 */
static pid_t nobody_holder(const char *name, int inherited, int token[2],
			   int ready[2])
{
	pid_t pid = kt_fork();
	char c;
	int fd;

	if (pid == 0) {
		close(inherited);
		close(token[1]);
		KT_CHILD_ASSERT(!setresuid(NOBODY, NOBODY, NOBODY));
		fd = kt_open(name, KPORT_RIGHT_SEND, 0);
		KT_CHILD_ASSERT(fd >= 0);
		KT_CHILD_ASSERT(write(ready[1], "r", 1) == 1);
		(void)!read(token[0], &c, 1);
		_exit(0);
	}
	return pid;
}

TEST(deleted_port_held_by_another_user_no_longer_counts_against_its_owner)
{
	long long old = kt_param_get("max_ports_per_user");
	int a, b, deleted, over_before, over_after, own, own_over;
	int token[2], ready[2];
	char name[KPORT_NAME_MAX], c;
	pid_t holder;

	ASSERT_LE(0, old);
	ASSERT_EQ(0, pipe(token));
	ASSERT_EQ(0, pipe(ready));
	kt_name(name, _metadata->name);
	ASSERT_EQ(0, kt_param_set("max_ports_per_user", 1));
	/* Everything is done before asserting, so the limit is put back. */
	a = kt_create(name, 0, 4, MSG_SIZE, 0666, KPORT_RIGHTS_ALL);
	over_before = kt_create_simple(NULL, 4, MSG_SIZE);
	holder = nobody_holder(name, a, token, ready);
	(void)!read(ready[0], &c, 1);
	deleted = kt_delete(a);
	close(a);
	/* nobody keeps the dead port's memory, not its owner's count */
	b = kt_create_simple(NULL, 4, MSG_SIZE);
	over_after = kt_create_simple(NULL, 4, MSG_SIZE);
	/* but the owner keeping a handle to its deleted port still pays */
	own = dup(b);
	kt_delete(b);
	close(b);
	own_over = kt_create_simple(NULL, 4, MSG_SIZE);
	close(own);
	ASSERT_EQ(0, kt_param_set("max_ports_per_user", old));
	close(token[1]);
	ASSERT_EQ(0, kt_reap(holder, -1));
	ASSERT_LE(0, a);
	ASSERT_EQ(-ENOSPC, over_before);
	ASSERT_EQ(0, deleted);
	ASSERT_LE(0, b);
	ASSERT_EQ(-ENOSPC, over_after);
	ASSERT_EQ(-ENOSPC, own_over);
	close(token[0]);
	close(ready[0]);
	close(ready[1]);
}

#define RACE_LIMIT	4
#define RACE_ROUNDS	3000

struct open_race {
	char name[KPORT_NAME_MAX];
	pthread_barrier_t go;
	int fd;
};

static void *race_open(void *arg)
{
	struct open_race *r = arg;

	pthread_barrier_wait(&r->go);
	r->fd = kt_open(r->name, 0, 0);
	return NULL;
}

/*
 * The owner opens its port (rights 0) while another of its threads
 * unlinks it, again and again, keeping every handle it got: each is a
 * handle of the owner's to a deleted port, which must count against its
 * max_ports_per_user however the two calls interleaved (an OPEN that found
 * the port before the unlink and made its handle after it once escaped the
 * count).  So the owner can never hold more such ports than its limit.
 */
static void open_unlink_race_child(int limit_reached[2])
{
	struct open_race r;
	int held[RACE_LIMIT + 8], nheld = 0, round, fd;
	pthread_t t;
	char c = 'n';

	kt_dev_close();
	KT_CHILD_ASSERT(!setresuid(1000, 1000, 1000));
	kt_name(r.name, "open_unlink_race");
	KT_CHILD_ASSERT(!pthread_barrier_init(&r.go, NULL, 2));
	for (round = 0; round < RACE_ROUNDS && nheld < RACE_LIMIT + 8; round++) {
		fd = kt_create(r.name, 0, 1, MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
		if (fd == -ENOSPC) {
			c = 'y';
			break;
		}
		KT_CHILD_ASSERT(fd >= 0);
		close(fd);
		KT_CHILD_ASSERT(!pthread_create(&t, NULL, race_open, &r));
		pthread_barrier_wait(&r.go);
		(void)kt_unlink(r.name);
		pthread_join(t, NULL);
		if (r.fd >= 0)
			held[nheld++] = r.fd;
	}
	/* How many ports it holds, dead or not: at most its limit. */
	KT_CHILD_ASSERT(write(limit_reached[1], &c, 1) == 1);
	KT_CHILD_ASSERT(write(limit_reached[1], &nheld, sizeof(nheld)) == sizeof(nheld));
	while (nheld > 0)
		close(held[--nheld]);
	/* All gone: the count is back to 0, so exactly the limit fits again. */
	for (round = 0; round < RACE_LIMIT + 2; round++) {
		fd = kt_create_simple(NULL, 1, MSG_SIZE);
		if (fd < 0)
			break;
		held[nheld++] = fd;
	}
	KT_CHILD_ASSERT(write(limit_reached[1], &nheld, sizeof(nheld)) == sizeof(nheld));
	KT_CHILD_ASSERT(write(limit_reached[1], &fd, sizeof(fd)) == sizeof(fd));
	while (nheld > 0)
		close(held[--nheld]);
	_exit(0);
}

TEST(open_racing_unlink_cannot_let_the_owner_escape_its_port_limit)
{
	long long old = kt_param_get("max_ports_per_user");
	int report[2], nheld = -1, again = -1, refusal = 0;
	char c = '?';
	pid_t pid;

	ASSERT_LE(0, old);
	ASSERT_EQ(0, pipe(report));
	ASSERT_EQ(0, kt_param_set("max_ports_per_user", RACE_LIMIT));
	pid = kt_fork();
	if (pid == 0)
		open_unlink_race_child(report);
	(void)!read(report[0], &c, 1);
	(void)!read(report[0], &nheld, sizeof(nheld));
	(void)!read(report[0], &again, sizeof(again));
	(void)!read(report[0], &refusal, sizeof(refusal));
	kt_reap(pid, -1);
	ASSERT_EQ(0, kt_param_set("max_ports_per_user", old));
	ASSERT_LE(0, pid);
	printf("# %d handles to deleted ports held, limit reached: %c\n", nheld, c);
	fflush(stdout);
	ASSERT_LE(nheld, RACE_LIMIT);
	/* Not vacuous: the owner got there, holding as many as it may. */
	ASSERT_EQ('y', c);
	ASSERT_EQ(RACE_LIMIT, nheld);
	/* Nothing leaked or was given back twice. */
	ASSERT_EQ(RACE_LIMIT, again);
	ASSERT_EQ(-ENOSPC, refusal);
	close(report[0]);
	close(report[1]);
}

/* ---- 6. A rendezvous send completes only when the receiver has it ------------ */

/* A receive into a read-only buffer: its copy-out faults. */
struct bad_receiver {
	int fd;
	void *buf;
	int ret;
	volatile bool *stop;
};

/* Receive into a read-only buffer again and again, until told or EIDRM. */
static void *keep_faulting(void *arg)
{
	struct bad_receiver *br = arg;

	while (!*br->stop) {
		br->ret = kt_recv(br->fd, br->buf, MSG_SIZE, 0, NULL);
		if (br->ret == -EIDRM)
			break;
	}
	return NULL;
}

/*
 * Start @n threads receiving on @fd into @ro, faulting, until *@stop.
 * Return: 0, or pthread_create()'s error.
 */
static int start_faulting(struct bad_receiver *br, pthread_t *t, int n,
			  int fd, void *ro, volatile bool *stop)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		br[i].fd = fd;
		br[i].buf = ro;
		br[i].stop = stop;
		ret = pthread_create(&t[i], NULL, keep_faulting, &br[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Stop them: *@stop, then DELETE (waking any waiting), then join. */
static int stop_faulting(pthread_t *t, int n, int fd, volatile bool *stop)
{
	int i, ret;

	*stop = true;
	ret = kt_delete(fd);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return ret;
}

static void *receive_into_ro(void *arg)
{
	struct bad_receiver *br = arg;

	br->ret = kt_recv(br->fd, br->buf, MSG_SIZE, 0, NULL);
	return NULL;
}

TEST(rendezvous_handoff_to_a_faulting_receiver_does_not_complete_the_send)
{
	struct bad_receiver br;
	struct kport_stat st;
	pthread_t t;
	int fd = kt_create_simple(NULL, 0, MSG_SIZE);

	ASSERT_LE(0, fd);
	br.fd = fd;
	br.buf = ro_buffer();
	ASSERT_NE(NULL, br.buf);
	ASSERT_EQ(0, pthread_create(&t, NULL, receive_into_ro, &br));
	ASSERT_EQ(0, kt_wait_recv_waiters(fd, 1));
	/* Handed over, faulted, handed back: nobody received it. */
	ASSERT_EQ(-ETIMEDOUT, kt_send(fd, "hello", 5, 0, KPORT_MSG_DEADLINE,
				      kt_deadline_ms(300)));
	pthread_join(t, NULL);
	ASSERT_EQ(-EFAULT, br.ret);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(0U, st.nr_msgs);
	ASSERT_EQ(0U, st.sent);
	ASSERT_EQ(0U, st.received);
	munmap(br.buf, page_size());
	close(fd);
}

TEST(rendezvous_nonblocking_send_to_a_faulting_receiver_gives_eagain)
{
	struct bad_receiver br;
	struct kport_stat st;
	pthread_t t;
	int fd = kt_create_simple(NULL, 0, MSG_SIZE);

	ASSERT_LE(0, fd);
	br.fd = fd;
	br.buf = ro_buffer();
	ASSERT_NE(NULL, br.buf);
	ASSERT_EQ(0, pthread_create(&t, NULL, receive_into_ro, &br));
	ASSERT_EQ(0, kt_wait_recv_waiters(fd, 1));
	ASSERT_EQ(-EAGAIN, kt_send(fd, "hello", 5, 0, KPORT_MSG_NONBLOCK, 0));
	pthread_join(t, NULL);
	ASSERT_EQ(-EFAULT, br.ret);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(0U, st.nr_msgs);
	ASSERT_EQ(0U, st.send_waiters);
	munmap(br.buf, page_size());
	close(fd);
}

TEST(faulting_receivers_in_turn_cannot_hold_a_sender_past_its_deadline)
{
	struct bad_receiver br[3];
	volatile bool stop = false;
	pthread_t t[3];
	uint64_t t0;
	int fd = kt_create_simple(NULL, 0, MSG_SIZE), ret;
	void *ro = ro_buffer();

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, start_faulting(br, t, 3, fd, ro, &stop));
	ASSERT_EQ(0, kt_wait_recv_waiters(fd, 3));
	t0 = kt_now_ns();
	ret = kt_send(fd, "hello", 5, 0, KPORT_MSG_DEADLINE,
		      kt_deadline_ms(300));
	ASSERT_EQ(-ETIMEDOUT, ret);
	ASSERT_GT(5 * KT_NSEC_PER_SEC, kt_now_ns() - t0);
	ASSERT_EQ(-EAGAIN, kt_send(fd, "hello", 5, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(0, stop_faulting(t, 3, fd, &stop));
	munmap(ro, page_size());
	close(fd);
}

TEST(rendezvous_send_restarted_by_signals_while_receivers_fault_sends_nothing)
{
	struct pester p = { .count = 3 };
	struct bad_receiver br[2];
	volatile bool stop = false;
	struct kport_stat st;
	pthread_t t[2], pt;
	int fd = kt_create_simple(NULL, 0, MSG_SIZE), ret;
	void *ro = ro_buffer();

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, start_faulting(br, t, 2, fd, ro, &stop));
	ASSERT_EQ(0, kt_wait_recv_waiters(fd, 2));
	ASSERT_EQ(0, kt_sigaction(SIGUSR1, on_signal, SA_RESTART));
	signals_caught = 0;
	p.target = pthread_self();
	p.port = fd;
	ASSERT_EQ(0, pthread_create(&pt, NULL, pester, &p));
	/* Each signal restarts a send that has done nothing yet. */
	ret = kt_send(fd, "hello", 5, 0, KPORT_MSG_DEADLINE,
		      kt_deadline_ms(400));
	pthread_join(pt, NULL);
	signal(SIGUSR1, SIG_DFL);
	ASSERT_EQ(0, stop_faulting(t, 2, fd, &stop));
	ASSERT_EQ(-ETIMEDOUT, ret);
	ASSERT_EQ(3, signals_caught);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(0U, st.sent);
	ASSERT_EQ(0U, st.received);
	munmap(ro, page_size());
	close(fd);
}

struct blocked_sender {
	int fd;
	int ret;
	volatile bool returned;
};

static void *send_and_wait(void *arg)
{
	struct blocked_sender *bs = arg;

	bs->ret = kt_send(bs->fd, "hello", 5, 0, KPORT_MSG_DEADLINE,
			  kt_deadline_ms(KT_TIMEOUT_MS));
	bs->returned = true;
	return NULL;
}

TEST(rendezvous_sender_waits_on_while_a_receiver_faults_then_is_received)
{
	struct blocked_sender bs = { .returned = false };
	struct kport_stat st;
	char buf[MSG_SIZE];
	void *ro;
	pthread_t t;
	int fd = kt_create_simple(NULL, 0, MSG_SIZE);

	ASSERT_LE(0, fd);
	ro = ro_buffer();
	ASSERT_NE(NULL, ro);
	bs.fd = fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, send_and_wait, &bs));
	ASSERT_EQ(0, kt_wait_send_waiters(fd, 1));
	ASSERT_EQ(-EFAULT, kt_recv(fd, ro, MSG_SIZE, KPORT_MSG_NONBLOCK,
				   NULL));
	/* The sender is still waiting, first in line, its message whole. */
	ASSERT_EQ(0, kt_wait_send_waiters(fd, 1));
	ASSERT_FALSE(bs.returned);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(1U, st.send_waiters);
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(5, kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0, memcmp(buf, "hello", 5));
	pthread_join(t, NULL);
	ASSERT_EQ(0, bs.ret);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(1U, st.sent);
	ASSERT_EQ(1U, st.received);
	ASSERT_EQ(0U, st.nr_msgs);
	munmap(ro, page_size());
	close(fd);
}

TEST(rendezvous_recvv_fault_gives_every_message_back_to_its_sender)
{
	struct blocked_sender bs[3];
	struct kport_msg m[3];
	struct kport_batch b;
	struct kport_stat st;
	char buf[3][MSG_SIZE];
	int fd = kt_create_simple(NULL, 0, MSG_SIZE), i, returned;
	pthread_t t[3];
	void *ro;

	ASSERT_LE(0, fd);
	ro = ro_buffer();
	ASSERT_NE(NULL, ro);
	memset(bs, 0, sizeof(bs));
	for (i = 0; i < 3; i++) {
		bs[i].fd = fd;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, send_and_wait,
					    &bs[i]));
		ASSERT_EQ(0, kt_wait_send_waiters(fd, i + 1));
	}
	/*
	 * The first element is received alone; the other two are taken
	 * together, and the copy into the second faults: both go back.
	 */
	memset(m, 0, sizeof(m));
	for (i = 0; i < 3; i++) {
		m[i].buf = (uintptr_t)(i == 1 ? ro : buf[i]);
		m[i].len = MSG_SIZE;
	}
	memset(&b, 0, sizeof(b));
	b.flags = KPORT_MSG_NONBLOCK;
	b.msgs = (uintptr_t)m;
	b.count = 3;
	b.msg_size = sizeof(m[0]);
	ASSERT_EQ(1, kt_ioctl(fd, KPORT_IOC_RECVV, &b));
	ASSERT_EQ(0, kt_wait_send_waiters(fd, 2));
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(2U, st.send_waiters);
	ASSERT_EQ(1U, st.sent);
	ASSERT_EQ(1U, st.received);
	kt_sleep_ms(50);
	for (returned = 0, i = 0; i < 3; i++)
		returned += bs[i].returned;
	ASSERT_EQ(1, returned);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(5, kt_recv(fd, buf[0], MSG_SIZE, KPORT_MSG_NONBLOCK,
				     NULL));
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		ASSERT_EQ(0, bs[i].ret);
	}
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(3U, st.sent);
	ASSERT_EQ(0U, st.nr_msgs);
	munmap(ro, page_size());
	close(fd);
}

/* ---- A faulting receiver cannot grow a bounded queue -------------------------- */

struct flood {
	int fd;
	volatile bool stop;
	unsigned int sent;
};

static void *flood_sender(void *arg)
{
	struct flood *f = arg;

	while (!f->stop) {
		/* Blocks while the queue is full; the deadline lets it stop. */
		if (!kt_send(f->fd, "m", 1, 0, KPORT_MSG_DEADLINE, kt_deadline_ms(20)))
			f->sent++;
	}
	return NULL;
}

/*
 * A receive takes its message out of the queue before its copy-out, which
 * lets a blocked sender in; a copy that faults puts the message back even
 * into a full queue (a fault must not lose it).  So a receive in progress
 * may hold one message beyond the capacity, no more: a thousand faulting
 * receives in a row keep the queue at capacity + 1, not growing with each
 * (doc/security.md, "Queued messages are charged to the sender").
 */
TEST(faulting_receives_in_a_row_overfill_a_bounded_queue_by_at_most_one)
{
	int fd = kt_create_simple(NULL, 1, MSG_SIZE), i, most = 0;
	struct flood f = { 0 };
	struct kport_stat st;
	struct kport_msg m;
	pthread_t t;
	char *ro;

	ASSERT_LE(0, fd);
	ro = ro_buffer();
	ASSERT_NE(NULL, ro);
	f.fd = fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, flood_sender, &f));
	ASSERT_EQ(0, kt_wait_send_waiters(fd, 1));
	for (i = 0; i < 1000; i++) {
		memset(&m, 0, sizeof(m));
		m.buf = (uintptr_t)ro;
		m.len = MSG_SIZE;
		m.flags = KPORT_MSG_NONBLOCK;
		ASSERT_EQ(-EFAULT, kt_ioctl(fd, KPORT_IOC_RECV, &m));
		ASSERT_EQ(0, kt_stat(fd, &st));
		/* nr_msgs counts blocked senders' messages too. */
		if ((int)(st.nr_msgs - st.send_waiters) > most)
			most = (int)(st.nr_msgs - st.send_waiters);
	}
	f.stop = true;
	pthread_join(t, NULL);
	printf("# at most %d queued on a capacity-1 port; %u sent\n", most, f.sent);
	fflush(stdout);
	EXPECT_LE(most, 2);
	/* Nothing lost: every message sent is there to receive. */
	for (i = 0; i < (int)f.sent; i++)
		ASSERT_EQ(1, kt_recv(fd, &m, sizeof(m), KPORT_MSG_NONBLOCK, NULL));
	EXPECT_EQ(-EAGAIN, kt_recv(fd, &m, sizeof(m), KPORT_MSG_NONBLOCK, NULL));
	munmap(ro, page_size());
	close(fd);
}

/* ---- Deadlines are on the caller's clock ------------------------------------ */

#define NO_TIMENS	4	/* exit code: this kernel has no time namespaces */

/* In a new time namespace 1000 s ahead: does a 200 ms deadline hold? */
static void timens_child(void)
{
	char buf[MSG_SIZE];
	uint64_t t0, took;
	pid_t pid;
	int fd;

	if (unshare(CLONE_NEWTIME))
		_exit(errno == EINVAL ? NO_TIMENS : 1);
	fd = open("/proc/self/timens_offsets", O_WRONLY);
	KT_CHILD_ASSERT(fd >= 0);
	KT_CHILD_ASSERT(write(fd, "monotonic 1000 0", 16) == 16);
	close(fd);
	pid = fork();	/* the namespace is its children's */
	KT_CHILD_ASSERT(pid >= 0);
	if (pid == 0) {
		fd = kt_create_simple(NULL, 4, MSG_SIZE);
		KT_CHILD_ASSERT(fd >= 0);
		t0 = kt_now_ns();
		KT_CHILD_ASSERT(kt_recv_ex(fd, buf, sizeof(buf),
					   KPORT_MSG_DEADLINE, 0,
					   t0 + 200 * KT_NSEC_PER_MSEC,
					   NULL) == -ETIMEDOUT);
		took = kt_now_ns() - t0;
		KT_CHILD_ASSERT(took >= 200 * KT_NSEC_PER_MSEC);
		KT_CHILD_ASSERT(took < 5 * KT_NSEC_PER_SEC);
		/* A deadline past on our clock is past. */
		KT_CHILD_ASSERT(kt_recv_ex(fd, buf, sizeof(buf),
					   KPORT_MSG_DEADLINE, 0,
					   kt_now_ns() - KT_NSEC_PER_MSEC,
					   NULL) == -ETIMEDOUT);
		_exit(0);
	}
	_exit(kt_reap(pid, -1));
}

TEST(deadlines_are_read_on_the_callers_time_namespace_clock)
{
	pid_t pid = kt_fork();
	int ret;

	ASSERT_LE(0, pid);
	if (pid == 0)
		timens_child();
	ret = kt_reap(pid, -1);
	if (ret == NO_TIMENS)
		SKIP(return, "no time namespaces in this kernel");
	ASSERT_EQ(0, ret);
}

TEST_HARNESS_MAIN
