// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftest: every allocation of every operation fails cleanly.
 *
 * doc/semantics.md: "A failed call changes nothing."  For each operation
 * (one variant each) the test sets up the state, then for n = 1, 2, 3 ...
 * writes n to /proc/thread-self/fail-nth (the n-th fault point the task
 * reaches fails: slab, page allocation; see the kernel's
 * Documentation/fault-injection/fault-injection.rst), makes the call,
 * reads fail-nth back (0: the fault was injected) and disarms it:
 *  - the call failed: a fault must have been injected, the error must be
 *    ENOMEM (or EFAULT where user copies can be failed too), and nothing
 *    visible may have changed: the port is (or is not) there, its
 *    counters and queue are as before, the message is still first in
 *    line, no descriptor, handle, slice or mapping leaked, /proc/kport
 *    lists the same ports;
 *  - the call succeeded: it must have done exactly what it should, even
 *    if a fault was injected and tolerated (kvmalloc falling back to
 *    vmalloc, a batch stopping early);
 * until the call succeeds without an injected fault.  At the end the
 * module's refcount and /proc/kport are back where they were; kmemleak
 * (in the guest's final scan) catches what was freed nowhere.
 *
 * fail-nth needs CONFIG_FAULT_INJECTION (and failslab/fail_page_alloc with
 * ignore-gfp-wait=N, as the debug lane's guest sets them): Debian's kernel
 * has none, so in the stock lane every test is skipped.  The binary
 * prints, if anything ran,
 *   kport-figure: faults injected=N ops=M calls=C
 */
#include "kport_test.h"

#include <dirent.h>
#include <stdbool.h>
#include <sys/epoll.h>

#define FT_FAIL_NTH	"/proc/thread-self/fail-nth"
#define FT_MAX_N	5000		/* fault points of one call, at most */
#define FT_MSG		64U
#define FT_LARGE	65536U		/* above a page: kvmalloc */
#define FT_POOL		131072U
#define FT_POOL_MSG	40000U		/* above the default pool threshold */
#define FT_BUF		FT_POOL

/* Counted over all the variants: shared with each test's process. */
struct ft_totals {
	uint64_t injected;	/* faults injected (failed or tolerated) */
	uint64_t ops;		/* operations swept to the end */
	uint64_t calls;		/* calls made under fail-nth */
};

static struct ft_totals *ft_totals;

static void __attribute__((constructor)) ft_totals_init(void)
{
	ft_totals = kt_shared_alloc(sizeof(*ft_totals));
}

static void __attribute__((destructor)) ft_totals_print(void)
{
	/* Runs in the harness's own process, after every test. */
	if (ft_totals && ft_totals->ops)
		printf("kport-figure: faults injected=%llu ops=%llu calls=%llu\n",
		       (unsigned long long)ft_totals->injected,
		       (unsigned long long)ft_totals->ops,
		       (unsigned long long)ft_totals->calls);
}

/* ---- fail-nth ---------------------------------------------------------------- */

static int ft_arm(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(fd, buf, (size_t)len, 0) == len ? 0 : -errno;
}

/*
 * Whether the fault armed before the call was injected: fail-nth reads 0.
 * If the read itself fails, it consumed the last count (a user copy fault
 * point), so the call did not.
 */
static bool ft_injected(int fd)
{
	char buf[16];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strtoul(buf, NULL, 10) == 0;
}

static void ft_disarm(int fd)
{
	/* Twice: a write's own user copy may have consumed the count. */
	if (pwrite(fd, "0", 1, 0) != 1)
		(void)!pwrite(fd, "0", 1, 0);
}

/* Fault the stack in, so that the call does not fault (and allocate) on it. */
static void __attribute__((noinline)) ft_prefault_stack(void)
{
	volatile char pad[64 << 10];
	size_t i;

	for (i = 0; i < sizeof(pad); i += 1024)
		pad[i] = 0;
}

/* ---- Looking at the state ----------------------------------------------------- */

static int ft_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* ---- The fixture ----------------------------------------------------------------- */

struct ft_op;

FIXTURE(faults) {
	int fail_fd;
	char prefix[32];
	char name[KPORT_NAME_MAX];
	int port;		/* the port the operation acts on */
	int port2;		/* SENDRECV's receiving port */
	pid_t child;		/* a receiver blocked on a rendezvous port */
	int epfd;
	void *map;		/* a mapping made by the call */
	size_t map_len;
	void *pool_map;		/* the receiver's mapping of the pool */
	struct kport_stat st0;	/* the port before the call */
	struct kport_stat st2;	/* port2 before the call */
	struct kport_msg m;	/* the call's message struct (written back) */
	struct kport_slice slice;
	struct kport_sendrecv sr;
	struct kport_msg batch[3];
	char *buf;		/* payload to send */
	char *rbuf;		/* receive buffer */
	long refcnt0;
	int ports0;
	bool usercopy;		/* fail-nth can fail user copies too: EFAULT */
};

FIXTURE_VARIANT(faults) {
	const struct ft_op *op;
};

/*
 * An operation under fault injection.  prepare runs once; setup before
 * every call, to bring the state back; call must make exactly one system
 * call (nothing else may reach a fault point while fail-nth is armed);
 * unchanged checks, after a failed call, that nothing changed; succeeded
 * checks, after a call that worked, that it did what it should, and undoes
 * it.  Each returns 0, or -1 with a reason in @why.
 */
#define FT_SELF		FIXTURE_DATA(faults) *self
struct ft_op {
	int (*prepare)(FT_SELF, char *why);
	int (*setup)(FT_SELF, char *why);
	long (*call)(FT_SELF);
	int (*unchanged)(FT_SELF, char *why);
	int (*succeeded)(FT_SELF, long ret, char *why);
};

#define FT_WHY(...)	(snprintf(why, 256, __VA_ARGS__), -1)

FIXTURE_SETUP(faults)
{
	int ours;

	self->port = self->port2 = self->epfd = -1;
	self->child = -1;
	self->fail_fd = open(FT_FAIL_NTH, O_RDWR | O_CLOEXEC);
	if (self->fail_fd < 0)
		SKIP(_exit(255), "no %s (no CONFIG_FAULT_INJECTION): runs in make check-debug",
		     FT_FAIL_NTH);
	self->usercopy = access("/sys/kernel/debug/fail_usercopy", F_OK) == 0;
	snprintf(self->prefix, sizeof(self->prefix), "kft.%d.", (int)getpid());
	snprintf(self->name, sizeof(self->name), "%sport", self->prefix);
	self->buf = malloc(FT_BUF);
	self->rbuf = malloc(FT_BUF);
	ASSERT_NE(NULL, self->buf);
	ASSERT_NE(NULL, self->rbuf);
	kt_fill(self->buf, FT_BUF, 7);
	memset(self->rbuf, 0, FT_BUF);
	self->refcnt0 = kt_module_refcnt();
	ASSERT_LE(0, self->refcnt0);
	self->ports0 = kt_proc_ports(self->prefix, &ours);
	ASSERT_LE(0, self->ports0);
	ASSERT_LE(0, kt_dev());		/* cached: calls reuse it */
}

FIXTURE_TEARDOWN(faults)
{
	if (self->fail_fd >= 0) {
		ft_disarm(self->fail_fd);
		close(self->fail_fd);
	}
	kt_kill_reap(self->child);
	if (self->map)
		munmap(self->map, self->map_len);
	if (self->pool_map)
		munmap(self->pool_map, FT_POOL);
	if (self->port >= 0)
		close(self->port);
	if (self->port2 >= 0)
		close(self->port2);
	if (self->epfd >= 0)
		close(self->epfd);
	kt_unlink(self->name);
	free(self->buf);
	free(self->rbuf);
	kt_dev_close();
}

/* ---- Shared pieces of operations ------------------------------------------------------ */

static int ft_stat(int fd, struct kport_stat *st, char *why)
{
	int ret = kt_stat(fd, st);

	return ret ? FT_WHY("stat: %d", ret) : 0;
}

/* The port's queue and counters are what they were before the call. */
static int ft_same_port(int fd, const struct kport_stat *st0, char *why)
{
	struct kport_stat st;

	if (ft_stat(fd, &st, why))
		return -1;
	if (st.nr_msgs != st0->nr_msgs || st.bytes != st0->bytes ||
	    st.sent != st0->sent || st.received != st0->received ||
	    st.handles != st0->handles || st.status != st0->status ||
	    st.pool_used != st0->pool_used || st.slices_held != st0->slices_held ||
	    st.send_waiters != st0->send_waiters ||
	    st.recv_waiters != st0->recv_waiters)
		return FT_WHY("port changed: msgs %u->%u bytes %llu->%llu sent %llu->%llu received %llu->%llu handles %u->%u status %u->%u pool_used %llu->%llu slices %u->%u waiters %u/%u->%u/%u",
			      st0->nr_msgs, st.nr_msgs,
			      (unsigned long long)st0->bytes, (unsigned long long)st.bytes,
			      (unsigned long long)st0->sent, (unsigned long long)st.sent,
			      (unsigned long long)st0->received,
			      (unsigned long long)st.received, st0->handles,
			      st.handles, st0->status, st.status,
			      (unsigned long long)st0->pool_used,
			      (unsigned long long)st.pool_used, st0->slices_held,
			      st.slices_held, st0->send_waiters, st0->recv_waiters,
			      st.send_waiters, st.recv_waiters);
	return 0;
}

static int ft_snapshot(FT_SELF, char *why)
{
	return ft_stat(self->port, &self->st0, why);
}

/* Receive the one message the call sent: @len bytes of self->buf at @prio. */
static int ft_take_sent(FT_SELF, uint32_t len, uint32_t prio, char *why)
{
	struct kport_msg m;
	struct kport_stat st;
	int ret;

	if (ft_stat(self->port, &st, why))
		return -1;
	if (st.sent != self->st0.sent + 1 || st.nr_msgs != self->st0.nr_msgs + 1)
		return FT_WHY("after the send: sent %llu (was %llu), %u messages (were %u)",
			      (unsigned long long)st.sent,
			      (unsigned long long)self->st0.sent, st.nr_msgs,
			      self->st0.nr_msgs);
	/* The new message is last (or first, by priority): drain and look. */
	for (;;) {
		ret = kt_recv(self->port, self->rbuf, FT_BUF, KPORT_MSG_NONBLOCK, &m);
		if (ret < 0)
			return FT_WHY("the message sent is not there: %d", ret);
		if ((uint32_t)ret == len && m.priority == prio &&
		    !memcmp(self->rbuf, self->buf, len))
			return 0;
	}
}

/* Drain the port and remember its state. */
static int ft_setup_empty(FT_SELF, char *why)
{
	while (kt_recv(self->port, self->rbuf, FT_BUF, KPORT_MSG_NONBLOCK, NULL) >= 0)
		;
	return ft_snapshot(self, why);
}

/* Exactly one message (@len bytes of self->buf) queued; remember the state. */
static int ft_setup_one(FT_SELF, uint32_t len, char *why)
{
	struct kport_stat st;
	int ret;

	if (ft_stat(self->port, &st, why))
		return -1;
	if (st.nr_msgs == 0) {
		ret = kt_send(self->port, self->buf, len, 0, KPORT_MSG_NONBLOCK, 0);
		if (ret)
			return FT_WHY("queueing a message: %d", ret);
	}
	return ft_snapshot(self, why);
}

static int ft_make_port(FT_SELF, const char *name, uint64_t flags, uint32_t capacity,
			uint32_t msg_size, uint64_t pool, char *why)
{
	self->port = kt_create_pool(name, flags, capacity, msg_size, pool);
	return self->port < 0 ? FT_WHY("create: %d", self->port) : 0;
}

/* ---- Create -------------------------------------------------------------------------- */

static long ft_call_create_named(FT_SELF)
{
	return kt_create(self->name, 0, 4, FT_MSG, 0600, KPORT_RIGHTS_ALL);
}

static long ft_call_create_process(FT_SELF)
{
	return kt_create(self->name, KPORT_CREATE_PROCESS, 4, FT_MSG, 0600,
			 KPORT_RIGHTS_ALL);
}

static long ft_call_create_anon(FT_SELF)
{
	return kt_create(NULL, 0, 4, FT_MSG, 0600, KPORT_RIGHTS_ALL);
}

static long ft_call_create_inbox(FT_SELF)
{
	return kt_create(NULL, KPORT_CREATE_INBOX, 4, FT_MSG, 0600,
			 KPORT_RIGHTS_ALL);
}

static long ft_call_create_pool(FT_SELF)
{
	return kt_create_pool(NULL, KPORT_CREATE_ZEROCOPY, 4, FT_POOL_MSG,
			      FT_POOL);
}

/* The name is free: a failed create left no port behind. */
static int ft_no_name(FT_SELF, char *why)
{
	int fd = kt_open(self->name, 0, 0);

	if (fd >= 0) {
		struct kport_stat st;

		kt_stat(fd, &st);
		close(fd);
		kt_unlink(self->name);
		return FT_WHY("a failed create left port %s (id %llu, %u handles, status %u) behind",
			      self->name, (unsigned long long)st.id, st.handles,
			      st.status);
	}
	return fd == -ENOENT ? 0 : FT_WHY("open of %s: %d", self->name, fd);
}

static int ft_no_inbox(FT_SELF, char *why)
{
	int fd = kt_open_inbox(getpid(), 0, 0);

	(void)self;
	if (fd >= 0) {
		close(fd);
		return FT_WHY("a failed create left an inbox behind");
	}
	return fd == -ENOENT ? 0 : FT_WHY("open of the inbox: %d", fd);
}

static int ft_setup_nothing(FT_SELF, char *why)
{
	(void)self;
	(void)why;
	return 0;
}

/* A new port as asked: check, close, and make sure it is gone or unlink it. */
static int ft_created(FT_SELF, long ret, uint64_t flags, uint64_t pool,
		      const char *name, char *why)
{
	struct kport_stat st;
	int fd = (int)ret, err = 0;

	if (kt_stat(fd, &st) || st.status || st.nr_msgs ||
	    st.pool_size != pool || strncmp(st.name, name ? name : "", KPORT_NAME_MAX) ||
	    (st.port_flags & ~(uint64_t)KPORT_CREATE_PROCESS) !=
	    (flags & ~(uint64_t)KPORT_CREATE_PROCESS))
		err = FT_WHY("the new port: status %u msgs %u pool %llu name '%.20s' flags %#llx",
			     st.status, st.nr_msgs, (unsigned long long)st.pool_size,
			     st.name, (unsigned long long)st.port_flags);
	close(fd);
	if (name && !(flags & KPORT_CREATE_PROCESS) && kt_unlink(name))
		err = FT_WHY("unlink of the new port failed");
	return err;
}

static int ft_done_create_named(FT_SELF, long ret, char *why)
{
	return ft_created(self, ret, 0, 0, self->name, why);
}

static int ft_done_create_process(FT_SELF, long ret, char *why)
{
	if (ft_created(self, ret, KPORT_CREATE_PROCESS, 0, self->name, why))
		return -1;
	/* Closing the creator's handle deleted it. */
	return ft_no_name(self, why);
}

static int ft_done_create_anon(FT_SELF, long ret, char *why)
{
	return ft_created(self, ret, 0, 0, NULL, why);
}

static int ft_done_create_inbox(FT_SELF, long ret, char *why)
{
	if (ft_created(self, ret, KPORT_CREATE_INBOX, 0, NULL, why))
		return -1;
	return ft_no_inbox(self, why);
}

static int ft_done_create_pool(FT_SELF, long ret, char *why)
{
	return ft_created(self, ret, KPORT_CREATE_ZEROCOPY, FT_POOL, NULL, why);
}

static const struct ft_op ft_create_named = {
	.setup = ft_setup_nothing, .call = ft_call_create_named,
	.unchanged = ft_no_name, .succeeded = ft_done_create_named,
};
static const struct ft_op ft_create_process = {
	.setup = ft_setup_nothing, .call = ft_call_create_process,
	.unchanged = ft_no_name, .succeeded = ft_done_create_process,
};
static const struct ft_op ft_create_anon = {
	.setup = ft_setup_nothing, .call = ft_call_create_anon,
	.unchanged = ft_setup_nothing, .succeeded = ft_done_create_anon,
};
static const struct ft_op ft_create_inbox = {
	.setup = ft_setup_nothing, .call = ft_call_create_inbox,
	.unchanged = ft_no_inbox, .succeeded = ft_done_create_inbox,
};
static const struct ft_op ft_create_pool = {
	.setup = ft_setup_nothing, .call = ft_call_create_pool,
	.unchanged = ft_setup_nothing, .succeeded = ft_done_create_pool,
};

/* ---- Open, unlink, delete -------------------------------------------------------------- */

static int ft_prepare_named(FT_SELF, char *why)
{
	if (ft_make_port(self, self->name, 0, 4, FT_MSG, 0, why))
		return -1;
	return kt_send(self->port, self->buf, 8, 0, 0, 0) ?
	       FT_WHY("send") : 0;
}

static int ft_prepare_inbox(FT_SELF, char *why)
{
	if (ft_make_port(self, NULL, KPORT_CREATE_INBOX, 4, FT_MSG, 0, why))
		return -1;
	return kt_send(self->port, self->buf, 8, 0, 0, 0) ?
	       FT_WHY("send") : 0;
}

static long ft_call_open_named(FT_SELF)
{
	return kt_open(self->name, KPORT_RIGHTS_ALL, 0);
}

static long ft_call_open_inbox(FT_SELF)
{
	return kt_open_inbox(getpid(), KPORT_RIGHTS_ALL, 0);
}

static int ft_same(FT_SELF, char *why)
{
	return ft_same_port(self->port, &self->st0, why);
}

/* A second handle to the same port, which closing gives back. */
static int ft_done_open(FT_SELF, long ret, char *why)
{
	struct kport_stat st;
	int fd = (int)ret;

	if (kt_stat(fd, &st) || st.id != self->st0.id ||
	    st.handles != self->st0.handles + 1 || st.nr_msgs != 1) {
		close(fd);
		return FT_WHY("the opened handle: id %llu (want %llu) handles %u msgs %u",
			      (unsigned long long)st.id,
			      (unsigned long long)self->st0.id, st.handles,
			      st.nr_msgs);
	}
	close(fd);
	return ft_same_port(self->port, &self->st0, why);
}

static const struct ft_op ft_open_named = {
	.prepare = ft_prepare_named, .setup = ft_snapshot,
	.call = ft_call_open_named, .unchanged = ft_same,
	.succeeded = ft_done_open,
};
static const struct ft_op ft_open_inbox = {
	.prepare = ft_prepare_inbox, .setup = ft_snapshot,
	.call = ft_call_open_inbox, .unchanged = ft_same,
	.succeeded = ft_done_open,
};

/* A fresh named port for each call that deletes one. */
static int ft_setup_fresh(FT_SELF, char *why)
{
	if (self->port < 0 && ft_make_port(self, self->name, 0, 4, FT_MSG, 0, why))
		return -1;
	return ft_snapshot(self, why);
}

static long ft_call_unlink(FT_SELF)
{
	return kt_unlink(self->name);
}

static long ft_call_delete(FT_SELF)
{
	return kt_delete(self->port);
}

/* Not deleted: alive, and the name still leads to it. */
static int ft_alive(FT_SELF, char *why)
{
	int fd;

	if (ft_same(self, why))
		return -1;
	fd = kt_open(self->name, 0, 0);
	if (fd < 0)
		return FT_WHY("the name is gone after a failed delete: %d", fd);
	close(fd);
	return 0;
}

static int ft_done_delete(FT_SELF, long ret, char *why)
{
	struct kport_stat st;
	int fd;

	(void)ret;
	if (ft_stat(self->port, &st, why))
		return -1;
	if (!(st.status & KPORT_STATUS_DEAD))
		return FT_WHY("not dead after a delete");
	fd = kt_open(self->name, 0, 0);
	if (fd != -ENOENT)
		return FT_WHY("the name still opens after a delete: %d", fd);
	close(self->port);
	self->port = -1;
	return 0;
}

static const struct ft_op ft_unlink = {
	.setup = ft_setup_fresh, .call = ft_call_unlink,
	.unchanged = ft_alive, .succeeded = ft_done_delete,
};
static const struct ft_op ft_delete = {
	.setup = ft_setup_fresh, .call = ft_call_delete,
	.unchanged = ft_alive, .succeeded = ft_done_delete,
};

/* ---- Send ------------------------------------------------------------------------------- */

static int ft_prepare_small(FT_SELF, char *why)
{
	return ft_make_port(self, NULL, 0, 4, FT_MSG, 0, why);
}

static int ft_prepare_large(FT_SELF, char *why)
{
	return ft_make_port(self, NULL, 0, 2, 2 * FT_LARGE, 0, why);
}

static int ft_prepare_pool(FT_SELF, char *why)
{
	return ft_make_port(self, NULL, 0, 2, FT_POOL_MSG, FT_POOL, why);
}

static int ft_prepare_zc(FT_SELF, char *why)
{
	return ft_make_port(self, NULL, KPORT_CREATE_ZEROCOPY, 2, FT_POOL_MSG,
			    FT_POOL, why);
}

static int ft_prepare_unbounded(FT_SELF, char *why)
{
	int i;

	if (ft_make_port(self, NULL, 0, KPORT_CAPACITY_UNBOUNDED, FT_MSG, 0, why))
		return -1;
	for (i = 0; i < 3; i++)
		if (kt_send(self->port, self->buf, 4, 0, 0, 0))
			return FT_WHY("send");
	return 0;
}

static long ft_call_send_small(FT_SELF)
{
	return kt_send(self->port, self->buf, 16, 3, KPORT_MSG_NONBLOCK, 0);
}

static long ft_call_send_large(FT_SELF)
{
	return kt_send(self->port, self->buf, FT_LARGE, 3, KPORT_MSG_NONBLOCK, 0);
}

static long ft_call_send_pool(FT_SELF)
{
	return kt_send(self->port, self->buf, FT_POOL_MSG, 3, KPORT_MSG_NONBLOCK, 0);
}

static long ft_call_write(FT_SELF)
{
	ssize_t n = write(self->port, self->buf, 16);

	return n < 0 ? -errno : n;
}

static int ft_done_send_small(FT_SELF, long ret, char *why)
{
	(void)ret;
	return ft_take_sent(self, 16, 3, why);
}

static int ft_done_send_large(FT_SELF, long ret, char *why)
{
	(void)ret;
	return ft_take_sent(self, FT_LARGE, 3, why);
}

static int ft_done_send_pool(FT_SELF, long ret, char *why)
{
	(void)ret;
	return ft_take_sent(self, FT_POOL_MSG, 3, why);
}

static int ft_done_write(FT_SELF, long ret, char *why)
{
	if (ret != 16)
		return FT_WHY("write returned %ld", ret);
	return ft_take_sent(self, 16, 0, why);
}

/* At priority 3 the new message comes first; the three others stay. */
static int ft_done_send_unbounded(FT_SELF, long ret, char *why)
{
	struct kport_stat st;

	(void)ret;
	if (ft_take_sent(self, 16, 3, why) || ft_stat(self->port, &st, why))
		return -1;
	return st.nr_msgs == 3 ? 0 : FT_WHY("%u messages left, want 3", st.nr_msgs);
}

static int ft_setup_empty_op(FT_SELF, char *why)
{
	return ft_setup_empty(self, why);
}

static const struct ft_op ft_send_small = {
	.prepare = ft_prepare_small, .setup = ft_setup_empty_op,
	.call = ft_call_send_small, .unchanged = ft_same,
	.succeeded = ft_done_send_small,
};
static const struct ft_op ft_send_large = {
	.prepare = ft_prepare_large, .setup = ft_setup_empty_op,
	.call = ft_call_send_large, .unchanged = ft_same,
	.succeeded = ft_done_send_large,
};
static const struct ft_op ft_send_pool = {
	.prepare = ft_prepare_pool, .setup = ft_setup_empty_op,
	.call = ft_call_send_pool, .unchanged = ft_same,
	.succeeded = ft_done_send_pool,
};
static const struct ft_op ft_send_unbounded = {
	.prepare = ft_prepare_unbounded, .setup = ft_snapshot,
	.call = ft_call_send_small, .unchanged = ft_same,
	.succeeded = ft_done_send_unbounded,
};
static const struct ft_op ft_write = {
	.prepare = ft_prepare_small, .setup = ft_setup_empty_op,
	.call = ft_call_write, .unchanged = ft_same,
	.succeeded = ft_done_write,
};

/* A receiver blocked on the rendezvous port, waiting for the payload. */
static int ft_setup_receiver(FT_SELF, char *why)
{
	int ret;

	if (self->child < 0) {
		self->child = kt_fork_receiver(self->port, FT_MSG, KPORT_MSG_DEADLINE,
					       kt_deadline_ms(6 * KT_TIMEOUT_MS),
					       16, self->buf);
		if (self->child < 0)
			return FT_WHY("fork: %d", self->child);
	}
	ret = kt_wait_recv_waiters(self->port, 1);
	if (ret)
		return FT_WHY("the receiver does not wait: %d", ret);
	return ft_snapshot(self, why);
}

static int ft_prepare_rendezvous(FT_SELF, char *why)
{
	return ft_make_port(self, NULL, 0, 0, FT_MSG, 0, why);
}

/* The waiting receiver got it; the port is as it was, but for the count. */
static int ft_done_rendezvous(FT_SELF, long ret, char *why)
{
	struct kport_stat st;
	int rc;

	(void)ret;
	rc = kt_reap(self->child, -1);
	self->child = -1;
	if (rc)
		return FT_WHY("the receiver ended with %d", rc);
	if (ft_stat(self->port, &st, why))
		return -1;
	if (st.sent != self->st0.sent + 1 || st.nr_msgs || st.recv_waiters)
		return FT_WHY("after the hand-off: sent %llu msgs %u waiters %u",
			      (unsigned long long)st.sent, st.nr_msgs,
			      st.recv_waiters);
	return 0;
}

static const struct ft_op ft_send_rendezvous = {
	.prepare = ft_prepare_rendezvous, .setup = ft_setup_receiver,
	.call = ft_call_send_small, .unchanged = ft_same,
	.succeeded = ft_done_rendezvous,
};

/* ---- Receive ------------------------------------------------------------------------------ */

static int ft_setup_one_small(FT_SELF, char *why)
{
	return ft_setup_one(self, 16, why);
}

static int ft_setup_one_pool(FT_SELF, char *why)
{
	return ft_setup_one(self, FT_POOL_MSG, why);
}

static long ft_call_recv(FT_SELF)
{
	return kt_recv(self->port, self->rbuf, FT_BUF, KPORT_MSG_NONBLOCK, NULL);
}

static long ft_call_read(FT_SELF)
{
	ssize_t n = read(self->port, self->rbuf, FT_BUF);

	return n < 0 ? -errno : n;
}

/* The message came out whole, and the port is empty. */
static int ft_done_recv(FT_SELF, long ret, uint32_t len, char *why)
{
	struct kport_stat st;

	if (ret != (long)len || memcmp(self->rbuf, self->buf, len))
		return FT_WHY("received %ld bytes, want %u of the payload", ret, len);
	if (ft_stat(self->port, &st, why))
		return -1;
	if (st.nr_msgs || st.received != self->st0.received + 1 || st.pool_used)
		return FT_WHY("after the receive: msgs %u received %llu pool_used %llu",
			      st.nr_msgs, (unsigned long long)st.received,
			      (unsigned long long)st.pool_used);
	return 0;
}

static int ft_done_recv_small(FT_SELF, long ret, char *why)
{
	return ft_done_recv(self, ret, 16, why);
}

static int ft_done_recv_pool(FT_SELF, long ret, char *why)
{
	return ft_done_recv(self, ret, FT_POOL_MSG, why);
}

static const struct ft_op ft_recv = {
	.prepare = ft_prepare_small, .setup = ft_setup_one_small,
	.call = ft_call_recv, .unchanged = ft_same,
	.succeeded = ft_done_recv_small,
};
static const struct ft_op ft_recv_pool = {
	.prepare = ft_prepare_pool, .setup = ft_setup_one_pool,
	.call = ft_call_recv, .unchanged = ft_same,
	.succeeded = ft_done_recv_pool,
};
static const struct ft_op ft_read = {
	.prepare = ft_prepare_small, .setup = ft_setup_one_small,
	.call = ft_call_read, .unchanged = ft_same,
	.succeeded = ft_done_recv_small,
};

static int ft_prepare_pool_mapped(FT_SELF, char *why)
{
	if (ft_prepare_pool(self, why))
		return -1;
	self->pool_map = mmap(NULL, FT_POOL, PROT_READ, MAP_SHARED, self->port, 0);
	if (self->pool_map == MAP_FAILED) {
		self->pool_map = NULL;
		return FT_WHY("mmap of the pool: errno %d", errno);
	}
	return 0;
}

static long ft_call_recv_inplace(FT_SELF)
{
	memset(&self->m, 0, sizeof(self->m));
	self->m.flags = KPORT_MSG_NONBLOCK | KPORT_MSG_INPLACE;
	self->m.buf = (uintptr_t)self->rbuf;
	self->m.len = FT_BUF;
	return kt_ioctl(self->port, KPORT_IOC_RECV, &self->m);
}

static int ft_done_recv_inplace(FT_SELF, long ret, char *why)
{
	struct kport_slice s;
	struct kport_stat st;
	int r;

	(void)ret;
	if (!(self->m.result & KPORT_RESULT_INPLACE) || self->m.len != FT_POOL_MSG ||
	    self->m.offset + FT_POOL_MSG > FT_POOL ||
	    memcmp((char *)self->pool_map + self->m.offset, self->buf, FT_POOL_MSG))
		return FT_WHY("in place: result %#x len %u offset %llu",
			      self->m.result, self->m.len,
			      (unsigned long long)self->m.offset);
	if (ft_stat(self->port, &st, why))
		return -1;
	if (st.slices_held != 1 || st.nr_msgs)
		return FT_WHY("held %u slices, %u messages", st.slices_held, st.nr_msgs);
	memset(&s, 0, sizeof(s));
	s.offset = self->m.offset;
	s.len = self->m.len;
	r = kt_ioctl(self->port, KPORT_IOC_RELEASE, &s);
	if (r)
		return FT_WHY("release: %d", r);
	if (ft_stat(self->port, &st, why))
		return -1;
	return st.slices_held || st.pool_used ?
	       FT_WHY("after release: %u slices, %llu used", st.slices_held,
		      (unsigned long long)st.pool_used) : 0;
}

static const struct ft_op ft_recv_inplace = {
	.prepare = ft_prepare_pool_mapped, .setup = ft_setup_one_pool,
	.call = ft_call_recv_inplace, .unchanged = ft_same,
	.succeeded = ft_done_recv_inplace,
};

/* ---- Stat, poll, epoll, mmap, borrow ---------------------------------------------------- */

static long ft_call_stat(FT_SELF)
{
	return kt_ioctl(self->port, KPORT_IOC_STAT, &self->st2);
}

static int ft_done_stat(FT_SELF, long ret, char *why)
{
	(void)ret;
	if (self->st2.id != self->st0.id || self->st2.nr_msgs != self->st0.nr_msgs)
		return FT_WHY("stat reported id %llu msgs %u",
			      (unsigned long long)self->st2.id, self->st2.nr_msgs);
	return ft_same(self, why);
}

static int ft_setup_stat(FT_SELF, char *why)
{
	memset(&self->st2, 0, sizeof(self->st2));
	return ft_setup_one(self, 16, why);
}

static const struct ft_op ft_stat_op = {
	.prepare = ft_prepare_small, .setup = ft_setup_stat,
	.call = ft_call_stat, .unchanged = ft_same,
	.succeeded = ft_done_stat,
};

static long ft_call_poll(FT_SELF)
{
	struct pollfd pfd = { .fd = self->port, .events = POLLIN | POLLOUT };
	int n = poll(&pfd, 1, 0);

	if (n < 0)
		return -errno;
	return n == 1 ? pfd.revents : -EPROTO;
}

static int ft_done_poll(FT_SELF, long ret, char *why)
{
	/* Only what was asked for is reported: not RDNORM, WRNORM. */
	if (ret != (POLLIN | POLLOUT))
		return FT_WHY("poll: revents %#lx", ret);
	return ft_same(self, why);
}

static const struct ft_op ft_poll = {
	.prepare = ft_prepare_small, .setup = ft_setup_one_small,
	.call = ft_call_poll, .unchanged = ft_same,
	.succeeded = ft_done_poll,
};

static int ft_prepare_epoll(FT_SELF, char *why)
{
	if (ft_prepare_small(self, why))
		return -1;
	self->epfd = epoll_create1(EPOLL_CLOEXEC);
	return self->epfd < 0 ? FT_WHY("epoll_create1: errno %d", errno) : 0;
}

static long ft_call_epoll_add(FT_SELF)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 };

	return epoll_ctl(self->epfd, EPOLL_CTL_ADD, self->port, &ev) ? -errno : 0;
}

/* Not registered: deleting the registration finds nothing. */
static int ft_epoll_unchanged(FT_SELF, char *why)
{
	struct epoll_event ev;

	if (epoll_ctl(self->epfd, EPOLL_CTL_DEL, self->port, &ev) == 0 ||
	    errno != ENOENT)
		return FT_WHY("a failed EPOLL_CTL_ADD left the port registered (errno %d)",
			      errno);
	return ft_same(self, why);
}

static int ft_done_epoll(FT_SELF, long ret, char *why)
{
	struct epoll_event ev;
	int n;

	(void)ret;
	n = epoll_wait(self->epfd, &ev, 1, 0);
	if (n != 1 || ev.data.u32 != 7 || !(ev.events & EPOLLIN))
		return FT_WHY("epoll_wait: %d events %#x", n, n == 1 ? ev.events : 0);
	if (epoll_ctl(self->epfd, EPOLL_CTL_DEL, self->port, &ev))
		return FT_WHY("EPOLL_CTL_DEL: errno %d", errno);
	return ft_same(self, why);
}

static const struct ft_op ft_epoll = {
	.prepare = ft_prepare_epoll, .setup = ft_setup_one_small,
	.call = ft_call_epoll_add, .unchanged = ft_epoll_unchanged,
	.succeeded = ft_done_epoll,
};

static long ft_call_mmap(FT_SELF)
{
	void *p = mmap(NULL, FT_POOL, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->port, 0);

	if (p == MAP_FAILED)
		return -errno;
	self->map = p;
	self->map_len = FT_POOL;
	return 0;
}

/* A failed mmap left no mapping counted against the handle. */
static int ft_mmap_unchanged(FT_SELF, char *why)
{
	void *p = mmap(NULL, FT_POOL, PROT_READ, MAP_SHARED, self->port, 0);

	if (p == MAP_FAILED)
		return FT_WHY("mmap after a failed one: errno %d", errno);
	munmap(p, FT_POOL);
	return ft_same(self, why);
}

static int ft_done_mmap(FT_SELF, long ret, char *why)
{
	(void)ret;
	memset(self->map, 0x5a, 4096);		/* writable, as asked */
	munmap(self->map, self->map_len);
	self->map = NULL;
	return ft_same(self, why);
}

static const struct ft_op ft_mmap = {
	.prepare = ft_prepare_zc, .setup = ft_snapshot,
	.call = ft_call_mmap, .unchanged = ft_mmap_unchanged,
	.succeeded = ft_done_mmap,
};

static long ft_call_borrow(FT_SELF)
{
	memset(&self->slice, 0, sizeof(self->slice));
	self->slice.flags = KPORT_MSG_NONBLOCK;
	self->slice.len = 4096;
	return kt_ioctl(self->port, KPORT_IOC_BORROW, &self->slice);
}

static int ft_done_borrow(FT_SELF, long ret, char *why)
{
	struct kport_stat st;
	int r;

	(void)ret;
	if (ft_stat(self->port, &st, why))
		return -1;
	if (st.slices_held != 1 || st.pool_used != 4096)
		return FT_WHY("after borrow: %u slices, %llu used", st.slices_held,
			      (unsigned long long)st.pool_used);
	self->slice.flags = 0;
	r = kt_ioctl(self->port, KPORT_IOC_RELEASE, &self->slice);
	if (r)
		return FT_WHY("release: %d", r);
	return ft_same(self, why);
}

static const struct ft_op ft_borrow = {
	.prepare = ft_prepare_zc, .setup = ft_snapshot,
	.call = ft_call_borrow, .unchanged = ft_same,
	.succeeded = ft_done_borrow,
};

/* ---- Batches and request-reply ------------------------------------------------------------ */

static long ft_call_sendv(FT_SELF)
{
	struct kport_batch b;
	int i;

	memset(self->batch, 0, sizeof(self->batch));
	for (i = 0; i < 3; i++) {
		self->batch[i].buf = (uintptr_t)self->buf;
		self->batch[i].len = 16;
	}
	memset(&b, 0, sizeof(b));
	b.flags = KPORT_MSG_NONBLOCK;
	b.msgs = (uintptr_t)self->batch;
	b.count = 3;
	b.msg_size = sizeof(struct kport_msg);
	return kt_ioctl(self->port, KPORT_IOC_SENDV, &b);
}

/* A batch may stop early: exactly as many messages as it reports. */
static int ft_done_sendv(FT_SELF, long ret, char *why)
{
	struct kport_stat st;

	if (ret < 1 || ret > 3)
		return FT_WHY("SENDV returned %ld", ret);
	if (ft_stat(self->port, &st, why))
		return -1;
	if (st.nr_msgs != (uint32_t)ret || st.sent != self->st0.sent + (uint64_t)ret)
		return FT_WHY("SENDV reported %ld, the port has %u (sent %llu -> %llu)",
			      ret, st.nr_msgs, (unsigned long long)self->st0.sent,
			      (unsigned long long)st.sent);
	return ft_setup_empty(self, why);
}

static const struct ft_op ft_sendv = {
	.prepare = ft_prepare_small, .setup = ft_setup_empty_op,
	.call = ft_call_sendv, .unchanged = ft_same,
	.succeeded = ft_done_sendv,
};

static int ft_prepare_sendrecv(FT_SELF, char *why)
{
	if (ft_prepare_small(self, why))
		return -1;
	self->port2 = kt_create(NULL, 0, 4, FT_MSG, 0600, KPORT_RIGHTS_ALL);
	return self->port2 < 0 ? FT_WHY("create: %d", self->port2) : 0;
}

static int ft_setup_sendrecv(FT_SELF, char *why)
{
	struct kport_stat st;

	if (ft_setup_empty(self, why) || ft_stat(self->port2, &st, why))
		return -1;
	if (!st.nr_msgs && kt_send(self->port2, self->buf, 8, 0, 0, 0))
		return FT_WHY("send to the receiving port");
	return ft_stat(self->port2, &self->st2, why);
}

static long ft_call_sendrecv(FT_SELF)
{
	memset(&self->sr, 0, sizeof(self->sr));
	self->sr.recv_fd = self->port2;
	self->sr.send.buf = (uintptr_t)self->buf;
	self->sr.send.len = 16;
	self->sr.recv.flags = KPORT_MSG_NONBLOCK;
	self->sr.recv.buf = (uintptr_t)self->rbuf;
	self->sr.recv.len = FT_MSG;
	return kt_ioctl(self->port, KPORT_IOC_SENDRECV, &self->sr);
}

static int ft_sendrecv_unchanged(FT_SELF, char *why)
{
	if (self->sr.done)
		return FT_WHY("failed, but done = %#x", self->sr.done);
	if (ft_same(self, why))
		return -1;
	return ft_same_port(self->port2, &self->st2, why);
}

static int ft_done_sendrecv(FT_SELF, long ret, char *why)
{
	struct kport_stat st;

	(void)ret;
	if (!(self->sr.done & KPORT_SR_SENT) || self->sr.recv.len != 8 ||
	    memcmp(self->rbuf, self->buf, 8))
		return FT_WHY("done %#x, received %u bytes", self->sr.done,
			      self->sr.recv.len);
	if (ft_stat(self->port2, &st, why))
		return -1;
	if (st.nr_msgs)
		return FT_WHY("the reply is still queued");
	return ft_take_sent(self, 16, 0, why);
}

static const struct ft_op ft_sendrecv = {
	.prepare = ft_prepare_sendrecv, .setup = ft_setup_sendrecv,
	.call = ft_call_sendrecv, .unchanged = ft_sendrecv_unchanged,
	.succeeded = ft_done_sendrecv,
};

/* ---- The variants and the sweep --------------------------------------------------------- */

FIXTURE_VARIANT_ADD(faults, create_named_port) { .op = &ft_create_named };
FIXTURE_VARIANT_ADD(faults, create_process_owned_port) { .op = &ft_create_process };
FIXTURE_VARIANT_ADD(faults, create_anonymous_port) { .op = &ft_create_anon };
FIXTURE_VARIANT_ADD(faults, create_inbox) { .op = &ft_create_inbox };
FIXTURE_VARIANT_ADD(faults, create_port_with_pool) { .op = &ft_create_pool };
FIXTURE_VARIANT_ADD(faults, open_by_name) { .op = &ft_open_named };
FIXTURE_VARIANT_ADD(faults, open_inbox) { .op = &ft_open_inbox };
FIXTURE_VARIANT_ADD(faults, unlink) { .op = &ft_unlink };
FIXTURE_VARIANT_ADD(faults, delete) { .op = &ft_delete };
FIXTURE_VARIANT_ADD(faults, send_small) { .op = &ft_send_small };
FIXTURE_VARIANT_ADD(faults, send_large) { .op = &ft_send_large };
FIXTURE_VARIANT_ADD(faults, send_through_pool) { .op = &ft_send_pool };
FIXTURE_VARIANT_ADD(faults, send_to_waiting_rendezvous_receiver) { .op = &ft_send_rendezvous };
FIXTURE_VARIANT_ADD(faults, send_unbounded) { .op = &ft_send_unbounded };
FIXTURE_VARIANT_ADD(faults, write) { .op = &ft_write };
FIXTURE_VARIANT_ADD(faults, recv) { .op = &ft_recv };
FIXTURE_VARIANT_ADD(faults, recv_from_pool) { .op = &ft_recv_pool };
FIXTURE_VARIANT_ADD(faults, recv_in_place) { .op = &ft_recv_inplace };
FIXTURE_VARIANT_ADD(faults, read) { .op = &ft_read };
FIXTURE_VARIANT_ADD(faults, stat) { .op = &ft_stat_op };
FIXTURE_VARIANT_ADD(faults, poll) { .op = &ft_poll };
FIXTURE_VARIANT_ADD(faults, epoll_add) { .op = &ft_epoll };
FIXTURE_VARIANT_ADD(faults, mmap_pool) { .op = &ft_mmap };
FIXTURE_VARIANT_ADD(faults, borrow) { .op = &ft_borrow };
FIXTURE_VARIANT_ADD(faults, sendv) { .op = &ft_sendv };
FIXTURE_VARIANT_ADD(faults, sendrecv) { .op = &ft_sendrecv };

TEST_F_TIMEOUT(faults, fails_cleanly_at_every_injected_fault_and_leaks_nothing, 300)
{
	const struct ft_op *op = variant->op;
	uint64_t end = kt_now_ns() + KT_TIMEOUT_MS * KT_NSEC_PER_MSEC;
	unsigned int n, failed = 0, tolerated = 0;
	char why[256] = "";
	int fds, ports, ours;
	long ret, ref;
	bool injected;

	if (op->prepare) {
		ASSERT_EQ(0, op->prepare(self, why)) {
			TH_LOG("prepare: %s", why);
		}
	}
	for (n = 1; n <= FT_MAX_N; n++) {
		ASSERT_EQ(0, op->setup(self, why)) {
			TH_LOG("n=%u: setup: %s", n, why);
		}
		fds = ft_count_fds();
		ports = kt_proc_ports(self->prefix, NULL);
		ft_prefault_stack();
		ASSERT_EQ(0, ft_arm(self->fail_fd, n));
		ret = op->call(self);
		injected = ft_injected(self->fail_fd);
		ft_disarm(self->fail_fd);
		__atomic_fetch_add(&ft_totals->calls, 1, __ATOMIC_RELAXED);
		if (injected)
			__atomic_fetch_add(&ft_totals->injected, 1, __ATOMIC_RELAXED);
		if (ret >= 0) {
			ASSERT_EQ(0, op->succeeded(self, ret, why)) {
				TH_LOG("n=%u (fault %s): the call returned %ld but %s",
				       n, injected ? "injected, tolerated" : "not injected",
				       ret, why);
			}
			if (!injected)
				break;
			tolerated++;
			continue;
		}
		failed++;
		ASSERT_TRUE(injected) {
			TH_LOG("n=%u: failed with %ld (%s) without an injected fault",
			       n, ret, strerror((int)-ret));
		}
		ASSERT_TRUE(ret == -ENOMEM || (self->usercopy && ret == -EFAULT)) {
			TH_LOG("n=%u: an injected fault gave %ld (%s), not ENOMEM",
			       n, ret, strerror((int)-ret));
		}
		ASSERT_EQ(0, op->unchanged(self, why)) {
			TH_LOG("n=%u: after a failed call (%s): %s", n,
			       strerror((int)-ret), why);
		}
		ASSERT_EQ(fds, ft_count_fds()) {
			TH_LOG("n=%u: a failed call leaked a descriptor", n);
		}
		ASSERT_EQ(ports, kt_proc_ports(self->prefix, NULL)) {
			TH_LOG("n=%u: a failed call changed /proc/kport", n);
		}
	}
	ASSERT_GE(FT_MAX_N, n) {
		TH_LOG("still injecting faults after %u calls", FT_MAX_N);
	}
	TH_LOG("%u fault points: %u calls failed cleanly, %u faults were tolerated",
	       n - 1, failed, tolerated);
	__atomic_fetch_add(&ft_totals->ops, 1, __ATOMIC_RELAXED);

	/* Nothing left: every handle closed, the module's refcount back. */
	kt_kill_reap(self->child);
	self->child = -1;
	if (self->pool_map)
		munmap(self->pool_map, FT_POOL);
	self->pool_map = NULL;
	if (self->port >= 0)
		close(self->port);
	if (self->port2 >= 0)
		close(self->port2);
	self->port = self->port2 = -1;
	kt_unlink(self->name);
	kt_dev_close();
	do {
		ports = kt_proc_ports(self->prefix, &ours);
		ref = kt_module_refcnt();
		if (ports == self->ports0 && !ours && ref == self->refcnt0)
			break;
		kt_sleep_ms(10);
	} while (kt_now_ns() < end);
	EXPECT_EQ(self->ports0, ports);
	EXPECT_EQ(0, ours);
	EXPECT_EQ(self->refcnt0, ref);
}

TEST_HARNESS_MAIN
