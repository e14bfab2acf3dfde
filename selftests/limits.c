// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftest: limits (doc/semantics.md, "Limits" and "Memory").
 *
 * The module parameters under /sys/module/kport/parameters/ bound what
 * users can make the kernel hold: ports (max_ports, max_ports_per_user),
 * port attributes (max_msg_size, max_capacity, max_pool_size), queued
 * bytes per user (max_user_bytes, each message costing len + an overhead
 * of at most 256 bytes, charged to the user that opened the sending
 * handle; a message in a pool costs only its header) and pools per user
 * (max_user_pool_bytes, charged to the creator).  pool_threshold is taken
 * by each port when it is created.  Each test
 * lowers one and checks the exact error at the boundary, that the refused
 * call changed nothing, and that making room makes the call succeed
 * again.
 *
 * Every test saves the parameters in its setup and restores them in its
 * teardown; the values found when the program started are restored once
 * more when it exits, in case a test died before its teardown.
 */
#include "kport_test.h"

#include <grp.h>
#include <sys/socket.h>

static const char *const params[] = {
	"max_ports", "max_ports_per_user", "max_msg_size", "max_capacity",
	"max_user_bytes", "max_pool_size", "pool_threshold",
	"max_user_pool_bytes",
};
#define NR_PARAMS	ARRAY_SIZE(params)

/* The quota the memory tests run with, and their message size. */
#define QUOTA		(256U << 10)
#define CHUNK		4096U
#define OVERHEAD_MAX	256U
#define FILL_MIN	(QUOTA / (CHUNK + OVERHEAD_MAX))	/* 60 */
#define FILL_MAX	(QUOTA / CHUNK)				/* 64 */

#define MAX_FDS		80

/*
 * SKIP() from a fixture's setup: the 6.1 harness would still run the test
 * after a plain SKIP(return, ...), so end the test's process the way its
 * own SKIP() does (exit status 255, the reason in shared memory).
 */
#define SETUP_SKIP(fmt, ...)	SKIP(_exit(255), fmt, ##__VA_ARGS__)

/* ---- Parameters -------------------------------------------------------------- */

/* Safety net: what the module had when this program started (kport_test.h). */
static void __attribute__((constructor)) save_params_at_start(void)
{
	kt_params_save_for_exit(params, NR_PARAMS);
}

/* ---- Other helpers ----------------------------------------------------------------- */

/* In a child: become @uid (and the group of the same number), no groups. */
static void child_become(uid_t uid)
{
	kt_dev_close();
	KT_CHILD_ASSERT(setgroups(0, NULL) == 0);
	KT_CHILD_ASSERT(setresgid(uid, uid, uid) == 0);
	KT_CHILD_ASSERT(setresuid(uid, uid, uid) == 0);
	KT_CHILD_ASSERT(kt_dev() >= 0);
}

static struct kport_version query_version(struct __test_metadata *_metadata)
{
	struct kport_version v;

	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, kt_ioctl(kt_dev(), KPORT_IOC_VERSION, &v));
	return v;
}

/*
 * Send CHUNK-byte messages (message i filled with pattern i, counting on
 * from *count) without waiting until a send fails; return its -errno,
 * with *count the number of messages sent in all.  -E2BIG if none failed
 * after @max.
 */
static int fill(int fd, unsigned int *count, unsigned int max)
{
	static char buf[CHUNK];
	unsigned int sent = 0;
	int ret;

	for (;;) {
		kt_fill(buf, CHUNK, *count);
		ret = kt_send(fd, buf, CHUNK, 0, KPORT_MSG_NONBLOCK, 0);
		if (ret)
			return ret;
		++*count;
		if (++sent > max)
			return -E2BIG;
	}
}

/* Receive one CHUNK message and check it carries pattern @seed. */
static int recv_chunk(int fd, unsigned int seed)
{
	static char buf[CHUNK];
	int ret = kt_recv(fd, buf, CHUNK, KPORT_MSG_NONBLOCK, NULL);

	if (ret < 0)
		return ret;
	if (ret != CHUNK || kt_check_fill(buf, CHUNK, seed))
		return -EPROTO;
	return 0;
}

/* ---- Fixture ----------------------------------------------------------------------- */

FIXTURE(limits) {
	char saved[NR_PARAMS][32];
	bool saved_ok;
	int fds[MAX_FDS];
	unsigned int nr_fds;
	char names[6][KPORT_NAME_MAX];	/* named ports to unlink at the end */
	pid_t child;
};

FIXTURE_SETUP(limits)
{
	size_t i;

	self->child = -1;
	for (i = 0; i < MAX_FDS; i++)
		self->fds[i] = -1;
	if (geteuid() != 0)
		SETUP_SKIP("needs root to change module parameters");
	for (i = 0; i < NR_PARAMS; i++) {
		ASSERT_EQ(0, kt_param_read(params[i], self->saved[i],
					sizeof(self->saved[i])))
			TH_LOG("parameter %s", params[i]);
	}
	self->saved_ok = true;
	for (i = 0; i < ARRAY_SIZE(self->names); i++) {
		char tag[16];

		snprintf(tag, sizeof(tag), "lim%zu", i);
		kt_name(self->names[i], tag);
	}
	ASSERT_LE(0, kt_dev());
}

FIXTURE_TEARDOWN(limits)
{
	size_t i;

	kt_kill_reap(self->child);
	for (i = 0; i < MAX_FDS; i++)
		if (self->fds[i] >= 0)
			close(self->fds[i]);
	for (i = 0; i < ARRAY_SIZE(self->names); i++)
		kt_unlink(self->names[i]);
	if (!self->saved_ok)
		return;
	for (i = 0; i < NR_PARAMS; i++) {
		EXPECT_EQ(0, kt_param_write(params[i], self->saved[i]))
			TH_LOG("restoring %s", params[i]);
	}
}

/* Keep @fd for the teardown to close; returns it. */
static int keep(FIXTURE_DATA(limits) *self, int fd)
{
	if (fd >= 0 && self->nr_fds < MAX_FDS)
		self->fds[self->nr_fds++] = fd;
	return fd;
}

/* Delete and close the port behind the kept fd at @i. */
static void drop(FIXTURE_DATA(limits) *self, unsigned int i)
{
	kt_delete(self->fds[i]);
	close(self->fds[i]);
	self->fds[i] = -1;
}

static int anon_port(void)
{
	return kt_create(NULL, 0, 1, 8, 0600, KPORT_RIGHTS_ALL);
}

static int unbounded_port(uint32_t mode)
{
	return kt_create(NULL, 0, KPORT_CAPACITY_UNBOUNDED, CHUNK, mode,
			 KPORT_RIGHTS_ALL);
}

/* ---- max_ports ---------------------------------------------------------------------- */

TEST_F(limits, max_ports_refuses_create_with_enospc_until_a_port_goes)
{
	unsigned int n, i;
	int ret;

	ASSERT_EQ(0, kt_param_set("max_ports", 32));
	/* whatever else exists, at most 32 ports: create until refused */
	for (n = 0; n < MAX_FDS; n++) {
		ret = keep(self, anon_port());
		if (ret < 0)
			break;
	}
	ASSERT_EQ(-ENOSPC, ret);
	ASSERT_LT(0U, n) TH_LOG("32 ports existed before the test");
	ASSERT_GE(32U, n);
	/* refused again: the failure made nothing */
	ASSERT_EQ(-ENOSPC, anon_port());
	/* one port goes: exactly one can be created */
	drop(self, 0);
	self->fds[0] = anon_port();
	ASSERT_LE(0, self->fds[0]);
	ASSERT_EQ(-ENOSPC, anon_port());
	/* one more allowed: exactly one more */
	ASSERT_EQ(0, kt_param_set("max_ports", 33));
	ASSERT_LE(0, keep(self, anon_port()));
	ASSERT_EQ(-ENOSPC, anon_port());
	/* named ports count the same */
	ASSERT_EQ(-ENOSPC, kt_create(self->names[0], 0, 1, 8, 0600,
				     KPORT_RIGHTS_ALL));
	ASSERT_EQ(-ENOENT, kt_open(self->names[0], 0, 0));
	for (i = 0; i < self->nr_fds; i++)
		drop(self, i);
	ASSERT_LE(0, keep(self, anon_port()));
}

TEST_F(limits, lowered_max_ports_applies_to_new_ports_only)
{
	char buf[8];
	int a, b, fd;

	a = keep(self, kt_create(self->names[0], 0, 1, 8, 0600,
				 KPORT_RIGHTS_ALL));
	ASSERT_LE(0, a);
	b = keep(self, anon_port());
	ASSERT_LE(0, b);
	ASSERT_EQ(0, kt_param_set("max_ports", 1));
	ASSERT_EQ(-ENOSPC, anon_port());
	/* the ports that exist keep working, and can be opened */
	ASSERT_EQ(0, kt_send(a, "a", 1, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(1, kt_recv(a, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0, kt_send(b, "b", 1, 0, KPORT_MSG_NONBLOCK, 0));
	fd = kt_open(self->names[0], KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, fd);
	close(fd);
}

/* ---- max_ports_per_user ------------------------------------------------------------- */

#define USER_A	4100
#define USER_B	4101

/*
 * In a child as @uid: create the kernel-owned ports names[from..to) and
 * then one more (names[to]); exit 0 if the first ones were created and the
 * last one refused with ENOSPC.
 */
static void create_as(FIXTURE_DATA(limits) *self, uid_t uid, int from, int to,
		      int last_err)
{
	int i, fd;

	child_become(uid);
	for (i = from; i < to; i++) {
		fd = kt_create(self->names[i], 0, 1, 8, 0600, KPORT_RIGHTS_ALL);
		KT_CHILD_ASSERT(fd >= 0);
		close(fd);	/* kernel-owned: the port stays */
	}
	fd = kt_create(self->names[to], 0, 1, 8, 0600, KPORT_RIGHTS_ALL);
	if (last_err) {
		KT_CHILD_ASSERT(fd == -last_err);
	} else {
		KT_CHILD_ASSERT(fd >= 0);
		close(fd);
	}
	_exit(0);
}

TEST_F(limits, max_ports_per_user_refuses_the_users_next_create_with_enospc)
{
	struct kport_stat st;
	int fd;

	/* Users are independent here only in the initial user namespace. */
	if (!kt_initial_userns())
		SKIP(return, "in a user namespace its users share their creator's quota (ns.c tests that)");

	ASSERT_EQ(0, kt_param_set("max_ports_per_user", 3));
	/* user A: three ports, the fourth refused */
	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0)
		create_as(self, USER_A, 0, 3, ENOSPC);
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;
	ASSERT_EQ(-ENOENT, kt_open(self->names[3], 0, 0));
	fd = keep(self, kt_open(self->names[2], 0, 0));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ((uint32_t)USER_A, st.uid);

	/* another user is not affected by A's count */
	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0)
		create_as(self, USER_B, 4, 4, 0);
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;

	/* nor is root */
	ASSERT_LE(0, keep(self, anon_port()));
}

TEST_F(limits, deleting_a_port_gives_its_owner_room_for_another)
{
	ASSERT_EQ(0, kt_param_set("max_ports_per_user", 2));
	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0)
		create_as(self, USER_A, 0, 2, ENOSPC);
	ASSERT_EQ(0, kt_reap(self->child, -1));

	/* root deletes one of A's ports: A may create one more, not two */
	ASSERT_EQ(0, kt_unlink(self->names[0]));
	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0)
		create_as(self, USER_A, 3, 4, ENOSPC);
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;
	ASSERT_EQ(-ENOENT, kt_open(self->names[4], 0, 0));
}

/* ---- max_msg_size and max_capacity -------------------------------------------------- */

TEST_F(limits, max_msg_size_refuses_larger_ports_and_accepts_the_limit)
{
	struct kport_version v;

	ASSERT_EQ(0, kt_param_set("max_msg_size", 4096));
	ASSERT_EQ(-EINVAL, kt_create(NULL, 0, 1, 4097, 0600, KPORT_RIGHTS_ALL));
	ASSERT_EQ(-EINVAL, kt_create(NULL, KPORT_CREATE_FIXED, 1, 4097, 0600,
				     KPORT_RIGHTS_ALL));
	ASSERT_LE(0, keep(self, kt_create(NULL, 0, 1, 4096, 0600,
					  KPORT_RIGHTS_ALL)));
	v = query_version(_metadata);
	ASSERT_EQ(4096U, v.max_msg_size);
}

TEST_F(limits, lowered_max_msg_size_leaves_existing_ports_alone)
{
	static char buf[8192];
	int fd;

	fd = keep(self, kt_create(NULL, 0, 1, sizeof(buf), 0600,
				  KPORT_RIGHTS_ALL));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_param_set("max_msg_size", 4096));
	kt_fill(buf, sizeof(buf), 1);
	ASSERT_EQ(0, kt_send(fd, buf, sizeof(buf), 0, KPORT_MSG_NONBLOCK, 0));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ((int)sizeof(buf), kt_recv(fd, buf, sizeof(buf),
					    KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0U, kt_check_fill(buf, sizeof(buf), 1));
}

TEST_F(limits, max_msg_size_stops_at_the_64_mib_ceiling)
{
	struct kport_version v;
	int ret;

	ASSERT_EQ(0, kt_param_set("max_msg_size", 64U << 20));
	v = query_version(_metadata);
	ASSERT_EQ(64U << 20, v.max_msg_size);
	ASSERT_LE(0, keep(self, kt_create(NULL, 0, 1, 64U << 20, 0600,
					  KPORT_RIGHTS_ALL)));
	/* above the ceiling: refused, or clamped, never honoured */
	ret = kt_param_set("max_msg_size", (64ULL << 20) + 1);
	ASSERT_TRUE(ret == -EINVAL || ret == 0);
	ASSERT_GE(64LL << 20, kt_param_get("max_msg_size"));
	ASSERT_EQ(-EINVAL, kt_create(NULL, 0, 1, (64U << 20) + 1, 0600,
				     KPORT_RIGHTS_ALL));
}

TEST_F(limits, max_capacity_refuses_larger_ports_and_accepts_the_limit)
{
	struct kport_version v;

	ASSERT_EQ(0, kt_param_set("max_capacity", 8));
	ASSERT_EQ(-EINVAL, kt_create(NULL, 0, 9, 8, 0600, KPORT_RIGHTS_ALL));
	ASSERT_LE(0, keep(self, kt_create(NULL, 0, 8, 8, 0600,
					  KPORT_RIGHTS_ALL)));
	/* rendezvous and unbounded are not bounded capacities */
	ASSERT_LE(0, keep(self, kt_create(NULL, 0, 0, 8, 0600,
					  KPORT_RIGHTS_ALL)));
	ASSERT_LE(0, keep(self, kt_create(NULL, 0, KPORT_CAPACITY_UNBOUNDED, 8,
					  0600, KPORT_RIGHTS_ALL)));
	v = query_version(_metadata);
	ASSERT_EQ(8U, v.max_capacity);
}

TEST_F(limits, version_reports_the_limits_as_they_change)
{
	struct kport_version v;

	ASSERT_EQ(0, kt_param_set("max_msg_size", 12345));
	ASSERT_EQ(0, kt_param_set("max_capacity", 77));
	v = query_version(_metadata);
	ASSERT_EQ(12345U, v.max_msg_size);
	ASSERT_EQ(77U, v.max_capacity);
	ASSERT_EQ(0, kt_param_set("max_msg_size", 54321));
	ASSERT_EQ(0, kt_param_set("max_capacity", 7));
	v = query_version(_metadata);
	ASSERT_EQ(54321U, v.max_msg_size);
	ASSERT_EQ(7U, v.max_capacity);
}

/* ---- max_user_bytes ----------------------------------------------------------------- */

TEST_F(limits, sends_fill_the_user_quota_then_fail_with_enobufs)
{
	unsigned int n = 0;
	int fd;

	ASSERT_EQ(0, kt_param_set("max_user_bytes", QUOTA));
	fd = keep(self, unbounded_port(0600));
	ASSERT_LE(0, fd);
	ASSERT_EQ(-ENOBUFS, fill(fd, &n, FILL_MAX + 1));
	/* each message costs CHUNK plus 0..256 bytes */
	ASSERT_LE(FILL_MIN, n);
	ASSERT_GE(FILL_MAX, n);
}

TEST_F(limits, send_over_the_quota_changes_nothing)
{
	struct kport_stat before, after;
	unsigned int n = 0, i;
	int fd;

	ASSERT_EQ(0, kt_param_set("max_user_bytes", QUOTA));
	fd = keep(self, unbounded_port(0600));
	ASSERT_LE(0, fd);
	ASSERT_EQ(-ENOBUFS, fill(fd, &n, FILL_MAX + 1));
	ASSERT_EQ(0, kt_stat(fd, &before));
	ASSERT_EQ(n, before.nr_msgs);
	ASSERT_EQ((uint64_t)n * CHUNK, before.bytes);
	/* the same send again (one byte would still fit) */
	ASSERT_EQ(-ENOBUFS, fill(fd, &n, 0));
	ASSERT_EQ(before.nr_msgs, n);
	ASSERT_EQ(0, kt_stat(fd, &after));
	ASSERT_EQ(before.nr_msgs, after.nr_msgs);
	ASSERT_EQ(before.bytes, after.bytes);
	ASSERT_EQ(before.sent, after.sent);
	/* everything queued is intact and in order */
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, recv_chunk(fd, i)) TH_LOG("message %u", i);
	}
	ASSERT_EQ(-EAGAIN, kt_recv(fd, NULL, 0, KPORT_MSG_NONBLOCK, NULL));
}

TEST_F(limits, receiving_a_message_makes_room_for_one_more_send)
{
	unsigned int n = 0, more;
	int fd;

	ASSERT_EQ(0, kt_param_set("max_user_bytes", QUOTA));
	fd = keep(self, unbounded_port(0600));
	ASSERT_LE(0, fd);
	ASSERT_EQ(-ENOBUFS, fill(fd, &n, FILL_MAX + 1));
	ASSERT_EQ(0, recv_chunk(fd, 0));
	more = n;
	ASSERT_EQ(-ENOBUFS, fill(fd, &more, 2));
	ASSERT_EQ(n + 1, more);
}

TEST_F(limits, deleting_the_port_releases_the_charge)
{
	unsigned int n = 0, again = 0;
	int fd;

	ASSERT_EQ(0, kt_param_set("max_user_bytes", QUOTA));
	fd = keep(self, unbounded_port(0600));
	ASSERT_LE(0, fd);
	ASSERT_EQ(-ENOBUFS, fill(fd, &n, FILL_MAX + 1));
	/* deleted, though a handle stays open: its messages are freed */
	ASSERT_EQ(0, kt_delete(fd));
	fd = keep(self, unbounded_port(0600));
	ASSERT_LE(0, fd);
	ASSERT_EQ(-ENOBUFS, fill(fd, &again, FILL_MAX + 1));
	ASSERT_EQ(n, again);
}

TEST_F(limits, closing_the_last_handle_of_an_anonymous_port_releases_the_charge)
{
	unsigned int n = 0, again = 0;
	int fd;

	ASSERT_EQ(0, kt_param_set("max_user_bytes", QUOTA));
	fd = unbounded_port(0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-ENOBUFS, fill(fd, &n, FILL_MAX + 1));
	close(fd);
	fd = keep(self, unbounded_port(0600));
	ASSERT_LE(0, fd);
	ASSERT_EQ(-ENOBUFS, fill(fd, &again, FILL_MAX + 1));
	ASSERT_EQ(n, again);
}

TEST_F(limits, bounded_ports_are_charged_too)
{
	unsigned int n = 0;
	int fd;

	ASSERT_EQ(0, kt_param_set("max_user_bytes", QUOTA));
	fd = keep(self, kt_create(NULL, 0, 1000, CHUNK, 0600,
				  KPORT_RIGHTS_ALL));
	ASSERT_LE(0, fd);
	ASSERT_EQ(-ENOBUFS, fill(fd, &n, FILL_MAX + 1));
	ASSERT_LE(FILL_MIN, n);
	ASSERT_GE(FILL_MAX, n);
}

TEST_F(limits, the_quota_is_shared_by_all_ports_of_a_user)
{
	unsigned int n = 0, half = 0;
	int a, b;

	ASSERT_EQ(0, kt_param_set("max_user_bytes", QUOTA));
	a = keep(self, unbounded_port(0600));
	b = keep(self, unbounded_port(0600));
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	/* half the quota in a, the rest fits in b */
	ASSERT_EQ(-E2BIG, fill(a, &half, FILL_MIN / 2 - 1));
	n = half;
	ASSERT_EQ(-ENOBUFS, fill(b, &n, FILL_MAX + 1));
	ASSERT_LE(FILL_MIN, n);
	ASSERT_GE(FILL_MAX, n);
}

#define SENDER_UID	4300
#define SENDER2_UID	4301

TEST_F(limits, messages_are_charged_to_the_user_that_opened_the_sending_handle)
{
	unsigned int n = 0;
	int sv[2], port, theirs;

	/* Users are independent here only in the initial user namespace. */
	if (!kt_initial_userns())
		SKIP(return, "in a user namespace its users share their creator's quota (ns.c tests that)");

	ASSERT_EQ(0, kt_param_set("max_user_bytes", QUOTA));
	port = keep(self, kt_create(self->names[0], 0, KPORT_CAPACITY_UNBOUNDED,
				    CHUNK, 0622, KPORT_RIGHTS_ALL));
	ASSERT_LE(0, port);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	keep(self, sv[0]);
	keep(self, sv[1]);

	/* an unprivileged user opens a send handle and gives it to root */
	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		int fd;

		child_become(SENDER_UID);
		fd = kt_open(self->names[0], KPORT_RIGHT_SEND, 0);
		KT_CHILD_ASSERT(fd >= 0);
		KT_CHILD_ASSERT(kt_send_fd(sv[1], fd) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;
	theirs = keep(self, kt_recv_fd(sv[0]));
	ASSERT_LE(0, theirs);

	/* root sends through it: the other user's quota fills */
	ASSERT_EQ(-ENOBUFS, fill(theirs, &n, FILL_MAX + 1));
	ASSERT_LE(FILL_MIN, n);
	ASSERT_GE(FILL_MAX, n);
	/* root's own quota is untouched: a whole quota's worth more fits */
	ASSERT_EQ(-E2BIG, fill(port, &n, FILL_MIN - 1));
}

TEST_F(limits, an_unprivileged_sender_fills_only_its_own_quota)
{
	unsigned int *counts = kt_shared_alloc(2 * sizeof(unsigned int));
	unsigned int n = 0, uid;
	int port, i;

	/* Users are independent here only in the initial user namespace. */
	if (!kt_initial_userns())
		SKIP(return, "in a user namespace its users share their creator's quota (ns.c tests that)");

	ASSERT_NE(NULL, counts);
	ASSERT_EQ(0, kt_param_set("max_user_bytes", QUOTA));
	port = keep(self, kt_create(self->names[0], 0, KPORT_CAPACITY_UNBOUNDED,
				    CHUNK, 0622, KPORT_RIGHTS_ALL));
	ASSERT_LE(0, port);

	/* two unprivileged users in turn each fill their own quota */
	for (i = 0, uid = SENDER_UID; uid <= SENDER2_UID; uid++, i++) {
		self->child = kt_fork();
		ASSERT_LE(0, self->child);
		if (self->child == 0) {
			int fd;

			child_become(uid);
			fd = kt_open(self->names[0], KPORT_RIGHT_SEND, 0);
			KT_CHILD_ASSERT(fd >= 0);
			KT_CHILD_ASSERT(fill(fd, &counts[i], FILL_MAX + 1) ==
					-ENOBUFS);
			_exit(0);
		}
		ASSERT_EQ(0, kt_reap(self->child, -1));
		self->child = -1;
		ASSERT_LE(FILL_MIN, counts[i]);
		ASSERT_GE(FILL_MAX, counts[i]);
	}
	/* and root still has all of its own */
	ASSERT_EQ(-ENOBUFS, fill(port, &n, FILL_MAX + 1));
	ASSERT_LE(FILL_MIN, n);
	ASSERT_GE(FILL_MAX, n);
	munmap(counts, 2 * sizeof(unsigned int));
}

TEST_F(limits, lowered_max_user_bytes_applies_to_new_sends_only)
{
	unsigned int n = 0, i;
	int fd;

	fd = keep(self, unbounded_port(0600));
	ASSERT_LE(0, fd);
	ASSERT_EQ(-E2BIG, fill(fd, &n, 7));
	ASSERT_EQ(8U, n);
	/* 8 messages queued, more than the new limit allows */
	ASSERT_EQ(0, kt_param_set("max_user_bytes", 4 * CHUNK));
	ASSERT_EQ(-ENOBUFS, kt_send(fd, "x", 1, 0, KPORT_MSG_NONBLOCK, 0));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, recv_chunk(fd, i)) TH_LOG("message %u", i);
	}
	ASSERT_EQ(0, kt_send(fd, "x", 1, 0, KPORT_MSG_NONBLOCK, 0));
}

/* ---- The pool: max_pool_size, pool_threshold, max_user_pool_bytes ----------------- */

#define PAGE		4096U
#define POOL_QUOTA	(1U << 20)
#define POOL_PART	(256U << 10)

/* A port with a pool of @pool bytes, messages up to @msg_size. */
static int pool_port(const char *name, uint32_t msg_size, uint64_t pool)
{
	return kt_create_pool(name, 0, 16, msg_size, pool);
}

TEST_F(limits, max_pool_size_refuses_larger_pools_and_accepts_the_limit)
{
	struct kport_version v;

	ASSERT_EQ(0, kt_param_set("max_pool_size", 64 * PAGE));
	v = query_version(_metadata);
	ASSERT_EQ(64ULL * PAGE, v.max_pool_size);
	ASSERT_EQ(-EINVAL, pool_port(NULL, PAGE, 65 * PAGE));
	ASSERT_EQ(-EINVAL, pool_port(NULL, PAGE, 1ULL << 30));
	ASSERT_EQ(-ENOENT, kt_open(self->names[0], 0, 0));
	ASSERT_EQ(-EINVAL, pool_port(self->names[0], PAGE, 65 * PAGE));
	ASSERT_EQ(-ENOENT, kt_open(self->names[0], 0, 0));
	ASSERT_LE(0, keep(self, pool_port(self->names[0], PAGE, 64 * PAGE)));
	ASSERT_LE(0, keep(self, pool_port(NULL, 64 * PAGE, 64 * PAGE)));
}

TEST_F(limits, max_pool_size_stops_at_the_1_gib_ceiling)
{
	struct kport_version v;
	int ret;

	ASSERT_EQ(0, kt_param_set("max_pool_size", 1ULL << 30));
	v = query_version(_metadata);
	ASSERT_EQ(1ULL << 30, v.max_pool_size);
	/* above the ceiling: refused, or clamped, never honoured */
	ret = kt_param_set("max_pool_size", (1ULL << 30) + PAGE);
	ASSERT_TRUE(ret == -EINVAL || ret == 0) TH_LOG("write: %d", ret);
	ASSERT_GE(1LL << 30, kt_param_get("max_pool_size"));
	v = query_version(_metadata);
	ASSERT_GE(1ULL << 30, v.max_pool_size);
	ASSERT_EQ(-EINVAL, pool_port(NULL, PAGE, (1ULL << 30) + PAGE));
	ASSERT_EQ(-EINVAL, pool_port(NULL, PAGE, 2ULL << 30));
}

TEST_F(limits, lowered_max_pool_size_leaves_existing_pools_alone)
{
	static char buf[48 << 10];
	struct kport_stat st;
	int fd;

	ASSERT_EQ(0, kt_param_set("pool_threshold", 16384));
	fd = keep(self, pool_port(NULL, sizeof(buf), 32 * PAGE));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_param_set("max_pool_size", 16 * PAGE));
	ASSERT_EQ(-EINVAL, pool_port(NULL, PAGE, 32 * PAGE));
	kt_fill(buf, sizeof(buf), 3);
	ASSERT_EQ(0, kt_send(fd, buf, sizeof(buf), 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(32ULL * PAGE, st.pool_size);
	ASSERT_EQ((uint64_t)sizeof(buf), st.pool_used);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ((int)sizeof(buf), kt_recv(fd, buf, sizeof(buf),
					    KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0U, kt_check_fill(buf, sizeof(buf), 3));
}

TEST_F(limits, max_msg_size_bounds_only_ports_without_a_pool)
{
	static char buf[64 << 10];
	int fd;

	ASSERT_EQ(0, kt_param_set("max_msg_size", PAGE));
	ASSERT_EQ(-EINVAL, kt_create(NULL, 0, 1, sizeof(buf), 0600,
				     KPORT_RIGHTS_ALL));
	fd = keep(self, pool_port(NULL, sizeof(buf), sizeof(buf)));
	ASSERT_LE(0, fd);
	/* and messages of that size go through */
	kt_fill(buf, sizeof(buf), 4);
	ASSERT_EQ(0, kt_send(fd, buf, sizeof(buf), 0, KPORT_MSG_NONBLOCK, 0));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ((int)sizeof(buf), kt_recv(fd, buf, sizeof(buf),
					    KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0U, kt_check_fill(buf, sizeof(buf), 4));
}

TEST_F(limits, pool_threshold_is_taken_when_a_port_is_created)
{
	static char buf[6000];
	struct kport_version v;
	struct kport_stat st;
	struct kport_msg m;
	int a, b;

	ASSERT_EQ(0, kt_param_set("pool_threshold", 4096));
	a = keep(self, pool_port(NULL, 4 * PAGE, 16 * PAGE));
	ASSERT_LE(0, a);
	ASSERT_EQ(0, kt_param_set("pool_threshold", 8192));
	b = keep(self, pool_port(NULL, 4 * PAGE, 16 * PAGE));
	ASSERT_LE(0, b);
	v = query_version(_metadata);
	ASSERT_EQ(8192U, v.pool_threshold);
	ASSERT_EQ(0, kt_stat(a, &st));
	ASSERT_EQ(4096U, st.pool_threshold);
	ASSERT_EQ(0, kt_stat(b, &st));
	ASSERT_EQ(8192U, st.pool_threshold);

	/* 6000 bytes: through a's pool, through b's queue */
	kt_fill(buf, sizeof(buf), 5);
	ASSERT_EQ(0, kt_send(a, buf, sizeof(buf), 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(0, kt_send(b, buf, sizeof(buf), 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(0, kt_stat(a, &st));
	ASSERT_EQ(2ULL * PAGE, st.pool_used);
	ASSERT_EQ(0, kt_stat(b, &st));
	ASSERT_EQ(0U, st.pool_used);

	memset(buf, 0, sizeof(buf));
	ASSERT_EQ((int)sizeof(buf), kt_recv(a, buf, sizeof(buf),
					    KPORT_MSG_NONBLOCK | KPORT_MSG_INPLACE,
					    &m));
	ASSERT_EQ((uint32_t)KPORT_RESULT_INPLACE, m.result);
	ASSERT_EQ(0, kt_release(a, m.offset, sizeof(buf)));
	ASSERT_EQ((int)sizeof(buf), kt_recv(b, buf, sizeof(buf),
					    KPORT_MSG_NONBLOCK | KPORT_MSG_INPLACE,
					    &m));
	ASSERT_EQ(0U, m.result);
	ASSERT_EQ(0U, kt_check_fill(buf, sizeof(buf), 5));
	/* a port keeps its threshold whatever the parameter becomes */
	ASSERT_EQ(0, kt_param_set("pool_threshold", 65536));
	ASSERT_EQ(0, kt_stat(a, &st));
	ASSERT_EQ(4096U, st.pool_threshold);
}

TEST_F(limits, max_user_pool_bytes_refuses_pools_past_the_quota_with_enobufs)
{
	unsigned int i;
	int fd;

	ASSERT_EQ(0, kt_param_set("max_user_pool_bytes", POOL_QUOTA));
	for (i = 0; i < POOL_QUOTA / POOL_PART; i++) {
		ASSERT_LE(0, keep(self, pool_port(NULL, PAGE, POOL_PART)))
			TH_LOG("pool %u", i);
	}
	/* the quota is full: not one more page, and nothing is made */
	ASSERT_EQ(-ENOBUFS, pool_port(self->names[0], PAGE, PAGE));
	ASSERT_EQ(-ENOENT, kt_open(self->names[0], 0, 0));
	ASSERT_EQ(-ENOBUFS, pool_port(NULL, PAGE, PAGE));
	/* ports without a pool are not concerned */
	ASSERT_LE(0, keep(self, anon_port()));
	/* a pool goes: its bytes, and no more, can be had again */
	drop(self, 0);
	ASSERT_EQ(-ENOBUFS, pool_port(NULL, PAGE, POOL_PART + PAGE));
	fd = pool_port(NULL, PAGE, POOL_PART);
	ASSERT_LE(0, fd);
	self->fds[0] = fd;
	ASSERT_EQ(-ENOBUFS, pool_port(NULL, PAGE, PAGE));
	/* raised: room again */
	ASSERT_EQ(0, kt_param_set("max_user_pool_bytes", POOL_QUOTA + PAGE));
	ASSERT_LE(0, keep(self, pool_port(NULL, PAGE, PAGE)));
	ASSERT_EQ(-ENOBUFS, pool_port(NULL, PAGE, PAGE));
}

TEST_F(limits, max_user_pool_bytes_is_counted_per_creating_user)
{
	unsigned int i;

	/* Users are independent here only in the initial user namespace. */
	if (!kt_initial_userns())
		SKIP(return, "in a user namespace its users share their creator's quota (ns.c tests that)");

	ASSERT_EQ(0, kt_param_set("max_user_pool_bytes", POOL_QUOTA));
	/* user A fills its quota with kernel-owned ports, which outlive it */
	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		int fd;

		child_become(USER_A);
		for (i = 0; i < POOL_QUOTA / POOL_PART; i++) {
			fd = pool_port(self->names[i], PAGE, POOL_PART);
			KT_CHILD_ASSERT(fd >= 0);
			close(fd);
		}
		KT_CHILD_ASSERT(pool_port(NULL, PAGE, PAGE) == -ENOBUFS);
		_exit(0);
	}
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;
	/* root's quota is its own */
	for (i = 0; i < POOL_QUOTA / POOL_PART; i++) {
		ASSERT_LE(0, keep(self, pool_port(NULL, PAGE, POOL_PART)));
	}
	ASSERT_EQ(-ENOBUFS, pool_port(NULL, PAGE, PAGE));
	/* A's ports deleted: A has its quota back */
	for (i = 0; i < POOL_QUOTA / POOL_PART; i++) {
		ASSERT_EQ(0, kt_unlink(self->names[i]));
	}
	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		int fd;

		child_become(USER_A);
		fd = pool_port(NULL, PAGE, POOL_QUOTA);
		KT_CHILD_ASSERT(fd >= 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;
}

TEST_F(limits, a_pool_message_charges_only_its_header_to_max_user_bytes)
{
	static char buf[100 << 10];
	unsigned int i;
	int pool, plain;

	ASSERT_EQ(0, kt_param_set("pool_threshold", 16384));
	ASSERT_EQ(0, kt_param_set("max_user_bytes", 32 << 10));
	pool = keep(self, pool_port(NULL, sizeof(buf), 1U << 20));
	ASSERT_LE(0, pool);
	plain = keep(self, kt_create(NULL, 0, 16, sizeof(buf), 0600,
				     KPORT_RIGHTS_ALL));
	ASSERT_LE(0, plain);
	kt_fill(buf, sizeof(buf), 6);
	/* one of these through the queue is over the quota */
	ASSERT_EQ(-ENOBUFS, kt_send(plain, buf, sizeof(buf), 0,
				    KPORT_MSG_NONBLOCK, 0));
	/* through the pool, eight of them cost eight headers */
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, kt_send(pool, buf, sizeof(buf), 0,
				     KPORT_MSG_NONBLOCK, 0))
			TH_LOG("message %u", i);
	}
	/* the quota still takes what fits through the queue */
	ASSERT_EQ(0, kt_send(plain, buf, 16 << 10, 0, KPORT_MSG_NONBLOCK, 0));
	for (i = 0; i < 8; i++) {
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ((int)sizeof(buf), kt_recv(pool, buf, sizeof(buf),
						    KPORT_MSG_NONBLOCK, NULL));
		ASSERT_EQ(0U, kt_check_fill(buf, sizeof(buf), 6));
	}
}

TEST_F(limits, version_reports_the_pool_limits_as_they_change)
{
	struct kport_version v;

	ASSERT_EQ(0, kt_param_set("max_pool_size", 40 * PAGE));
	ASSERT_EQ(0, kt_param_set("pool_threshold", 12345));
	v = query_version(_metadata);
	ASSERT_EQ(40ULL * PAGE, v.max_pool_size);
	ASSERT_EQ(12345U, v.pool_threshold);
	ASSERT_EQ(0, kt_param_set("max_pool_size", 80 * PAGE));
	ASSERT_EQ(0, kt_param_set("pool_threshold", 54321));
	v = query_version(_metadata);
	ASSERT_EQ(80ULL * PAGE, v.max_pool_size);
	ASSERT_EQ(54321U, v.pool_threshold);
}

TEST_HARNESS_MAIN
