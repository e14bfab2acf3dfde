// SPDX-License-Identifier: GPL-2.0
/*
 * Lifecycle: deletion, names, process-owned and kernel-owned ports.
 *
 * doc/semantics.md, "Ports": deleting unlinks the name at once (it may be
 * reused), frees the queued messages and wakes every waiter with EIDRM;
 * afterwards send and receive get EIDRM on any handle, poll reports
 * EPOLLHUP, stat works and reports KPORT_STATUS_DEAD, delete again gets
 * EIDRM.  Kernel-owned ports live until deleted; process-owned ports are
 * deleted when the creator's handle (the open file description) is
 * released; a descriptor inherited through fork keeps it alive.
 */
#include "kport_test.h"

#define MSG_SIZE	64
#define NR_WAITERS	3

FIXTURE(life) {
	char name[KPORT_NAME_MAX];
	int fd;
	pid_t child[NR_WAITERS + 1];
	int to_child[2];	/* tokens parent -> child */
	int to_parent[2];	/* tokens child -> parent */
};

FIXTURE_SETUP(life)
{
	int i;

	kt_name(self->name, _metadata->name);
	self->fd = -1;
	for (i = 0; i <= NR_WAITERS; i++)
		self->child[i] = -1;
	ASSERT_EQ(0, pipe2(self->to_child, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->to_parent, O_CLOEXEC));
}

FIXTURE_TEARDOWN(life)
{
	int i;

	for (i = 0; i <= NR_WAITERS; i++)
		kt_kill_reap(self->child[i]);
	if (self->fd >= 0)
		close(self->fd);
	kt_unlink(self->name);
	close(self->to_child[0]);
	close(self->to_child[1]);
	close(self->to_parent[0]);
	close(self->to_parent[1]);
}

/*
 * Fork a child that polls @fd for @events and exits 0 if it is woken with
 * POLLHUP before its KT_TIMEOUT_MS timeout expires (poll() looks once
 * more when it expires, so a missed wake-up shows only as a late return);
 * returns once it sleeps in poll().
 */
static pid_t fork_hangup_poller(int fd, short events)
{
	pid_t pid = kt_fork();

	if (pid == 0) {
		struct pollfd pfd = { .fd = fd, .events = events };
		uint64_t start = kt_now_ns();

		KT_CHILD_ASSERT(poll(&pfd, 1, KT_TIMEOUT_MS) == 1);
		KT_CHILD_ASSERT(kt_now_ns() - start <
				KT_TIMEOUT_MS * KT_NSEC_PER_MSEC);
		KT_CHILD_ASSERT(pfd.revents & POLLHUP);
		_exit(0);
	}
	if (pid > 0 && kt_wait_sleeping(pid, "poll")) {
		kt_kill_reap(pid);
		return -1;
	}
	return pid;
}

static uint32_t status_of(int fd)
{
	struct kport_stat st;

	if (kt_stat(fd, &st))
		return 0xffffffffU;
	return st.status;
}

/* ---- Deletion wakes every waiter ------------------------------------------ */

TEST_F(life, delete_wakes_every_blocked_receiver_and_poller_of_an_empty_port)
{
	int i;

	self->fd = kt_create_simple(NULL, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	for (i = 0; i < NR_WAITERS; i++) {
		self->child[i] = kt_fork_receiver(self->fd, MSG_SIZE, 0, 0,
						  -EIDRM, NULL);
		ASSERT_LT(0, self->child[i]);
	}
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, NR_WAITERS));
	self->child[NR_WAITERS] = fork_hangup_poller(self->fd, POLLIN);
	ASSERT_LT(0, self->child[NR_WAITERS]);

	ASSERT_EQ(0, kt_delete(self->fd));
	for (i = 0; i <= NR_WAITERS; i++) {
		ASSERT_EQ(0, kt_reap(self->child[i], 2 * KT_TIMEOUT_MS));
		self->child[i] = -1;
	}
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 0));
}

TEST_F(life, delete_wakes_every_blocked_sender_and_poller_of_a_full_port)
{
	int i;

	self->fd = kt_create_simple(NULL, 1, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_send(self->fd, "full", 4, 0, 0, 0));
	for (i = 0; i < NR_WAITERS; i++) {
		self->child[i] = kt_fork_sender(self->fd, "blocked", 7, 0, 0,
						-EIDRM);
		ASSERT_LT(0, self->child[i]);
	}
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, NR_WAITERS));
	self->child[NR_WAITERS] = fork_hangup_poller(self->fd, POLLOUT);
	ASSERT_LT(0, self->child[NR_WAITERS]);

	ASSERT_EQ(0, kt_delete(self->fd));
	for (i = 0; i <= NR_WAITERS; i++) {
		ASSERT_EQ(0, kt_reap(self->child[i], 2 * KT_TIMEOUT_MS));
		self->child[i] = -1;
	}
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 0));
}

TEST_F(life, delete_wakes_blocked_rendezvous_sender_with_EIDRM)
{
	self->fd = kt_create_simple(NULL, 0, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	self->child[0] = kt_fork_sender(self->fd, "r", 1, 0, 0, -EIDRM);
	ASSERT_LT(0, self->child[0]);
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 1));

	ASSERT_EQ(0, kt_delete(self->fd));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;
}

TEST_F(life, unlink_by_name_wakes_blocked_receiver_with_EIDRM)
{
	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	self->child[0] = kt_fork_receiver(self->fd, MSG_SIZE, 0, 0, -EIDRM,
					  NULL);
	ASSERT_LT(0, self->child[0]);
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));

	ASSERT_EQ(0, kt_unlink(self->name));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;
}

/* ---- Delete by name and by handle ------------------------------------------ */

TEST_F(life, unlink_by_name_deletes_the_port)
{
	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0U, status_of(self->fd));

	ASSERT_EQ(0, kt_unlink(self->name));
	ASSERT_EQ((uint32_t)KPORT_STATUS_DEAD, status_of(self->fd));
	ASSERT_EQ(-ENOENT, kt_open(self->name, KPORT_RIGHTS_ALL, 0));
	ASSERT_EQ(-EIDRM, kt_send(self->fd, "x", 1, 0, 0, 0));
}

TEST_F(life, delete_by_handle_unlinks_the_name)
{
	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);

	ASSERT_EQ(0, kt_delete(self->fd));
	ASSERT_EQ(-ENOENT, kt_open(self->name, KPORT_RIGHTS_ALL, 0));
	ASSERT_EQ(-ENOENT, kt_unlink(self->name));
}

TEST_F(life, name_is_reusable_after_delete)
{
	struct kport_stat old_st, new_st;
	int fd2;

	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_stat(self->fd, &old_st));
	ASSERT_EQ(0, kt_delete(self->fd));

	fd2 = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, kt_stat(fd2, &new_st));
	EXPECT_NE(old_st.id, new_st.id);
	EXPECT_STREQ(self->name, new_st.name);
	/* The new port works; the old handle still sees the dead one. */
	EXPECT_EQ(0, kt_send(fd2, "new", 3, 0, 0, 0));
	EXPECT_EQ(-EIDRM, kt_send(self->fd, "old", 3, 0, 0, 0));
	EXPECT_EQ((uint32_t)KPORT_STATUS_DEAD, status_of(self->fd));
	EXPECT_EQ(0U, status_of(fd2));
	close(fd2);
}

TEST_F(life, delete_again_fails_with_EIDRM)
{
	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_delete(self->fd));
	ASSERT_EQ(-EIDRM, kt_delete(self->fd));
}

/* ---- A dead port ---------------------------------------------------------- */

TEST_F(life, deleted_port_refuses_send_and_receive_with_EIDRM)
{
	char buf[MSG_SIZE];

	self->fd = kt_create_simple(NULL, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_delete(self->fd));

	ASSERT_EQ(-EIDRM, kt_send(self->fd, "x", 1, 0, 0, 0));
	ASSERT_EQ(-EIDRM, kt_send(self->fd, "x", 1, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(-EIDRM, kt_recv(self->fd, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(-EIDRM, kt_recv(self->fd, buf, sizeof(buf),
				  KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(-EIDRM, kt_recv_ex(self->fd, buf, sizeof(buf),
				     KPORT_MSG_DEADLINE, 0,
				     kt_deadline_ms(KT_TIMEOUT_MS), NULL));
}

TEST_F(life, deleted_port_refuses_read_and_write_with_EIDRM)
{
	char buf[MSG_SIZE];

	self->fd = kt_create_simple(NULL, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_delete(self->fd));

	ASSERT_EQ(-1, write(self->fd, "x", 1));
	ASSERT_EQ(EIDRM, errno);
	ASSERT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(EIDRM, errno);
}

TEST_F(life, delete_discards_queued_messages)
{
	struct kport_stat st;
	char buf[MSG_SIZE];
	int fd2;

	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	fd2 = kt_open(self->name, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, kt_send(self->fd, "a", 1, 0, 0, 0));
	EXPECT_EQ(0, kt_send(self->fd, "b", 1, 0, 0, 0));
	EXPECT_EQ(0, kt_delete(self->fd));

	/* Neither handle can get at the messages any more. */
	EXPECT_EQ(-EIDRM, kt_recv(fd2, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
				  NULL));
	EXPECT_EQ(-EIDRM, kt_recv(self->fd, buf, sizeof(buf),
				  KPORT_MSG_NONBLOCK, NULL));
	EXPECT_EQ(0, kt_stat(fd2, &st));
	EXPECT_EQ(0U, st.nr_msgs);
	EXPECT_EQ(0ULL, st.bytes);
	close(fd2);
}

TEST_F(life, stat_on_deleted_port_works_and_reports_DEAD)
{
	struct kport_stat before, after;

	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_stat(self->fd, &before));
	ASSERT_EQ(0U, before.status);
	ASSERT_EQ(0, kt_delete(self->fd));

	ASSERT_EQ(0, kt_stat(self->fd, &after));
	ASSERT_EQ((uint32_t)KPORT_STATUS_DEAD, after.status);
	ASSERT_EQ(before.id, after.id);
	ASSERT_EQ(before.capacity, after.capacity);
	ASSERT_EQ(before.msg_size, after.msg_size);
}

TEST_F(life, deletion_is_seen_through_every_handle)
{
	int snd, rcv, none;

	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	snd = kt_open(self->name, KPORT_RIGHT_SEND, 0);
	ASSERT_LE(0, snd);
	rcv = kt_open(self->name, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, rcv);
	none = kt_open(self->name, 0, 0);
	ASSERT_LE(0, none);

	ASSERT_EQ(0, kt_delete(none));
	EXPECT_EQ(-EIDRM, kt_send(snd, "x", 1, 0, 0, 0));
	EXPECT_EQ(-EIDRM, kt_recv_u32(rcv, &(uint32_t){ 0 }, 0));
	EXPECT_EQ((uint32_t)KPORT_STATUS_DEAD, status_of(self->fd));
	EXPECT_EQ((uint32_t)KPORT_STATUS_DEAD, status_of(snd));
	EXPECT_EQ((uint32_t)KPORT_STATUS_DEAD, status_of(rcv));
	close(snd);
	close(rcv);
	close(none);
}

/* ---- Process-owned ports ------------------------------------------------- */

TEST_F(life, process_owned_port_is_deleted_when_its_creator_exits)
{
	struct kport_stat st;
	pid_t creator;
	int fd;

	/* The creator: makes the port, reports, waits for the word to exit. */
	creator = self->child[0] = kt_fork();
	ASSERT_LE(0, creator);
	if (creator == 0) {
		int pfd = kt_create(self->name, KPORT_CREATE_PROCESS, 4, MSG_SIZE,
				    0600, KPORT_RIGHTS_ALL);

		KT_CHILD_ASSERT(pfd >= 0);
		KT_CHILD_ASSERT(kt_token_put(self->to_parent[1], 'c') == 0);
		KT_CHILD_ASSERT(kt_token_get(self->to_child[0], -1) == 'x');
		_exit(0);
	}
	ASSERT_EQ('c', kt_token_get(self->to_parent[0], -1));
	fd = self->fd = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(creator, st.owner_pid);
	ASSERT_EQ(KPORT_CREATE_PROCESS, st.port_flags & KPORT_CREATE_PROCESS);

	/* A peer blocks receiving on it. */
	self->child[1] = kt_fork_receiver(fd, MSG_SIZE, 0, 0, -EIDRM, NULL);
	ASSERT_LT(0, self->child[1]);
	ASSERT_EQ(0, kt_wait_recv_waiters(fd, 1));

	ASSERT_EQ(0, kt_token_put(self->to_child[1], 'x'));
	ASSERT_EQ(0, kt_reap(creator, -1));
	self->child[0] = -1;
	ASSERT_EQ(0, kt_reap(self->child[1], -1));
	self->child[1] = -1;

	ASSERT_EQ(0, kt_wait_dead(fd));
	ASSERT_EQ(-EIDRM, kt_send(fd, "x", 1, 0, 0, 0));
	ASSERT_EQ(-ENOENT, kt_open(self->name, KPORT_RIGHTS_ALL, 0));
}

TEST_F(life, process_owned_port_is_deleted_when_its_creator_closes_the_handle)
{
	struct pollfd pfd;
	int fd2;

	self->fd = kt_create(self->name, KPORT_CREATE_PROCESS, 4, MSG_SIZE,
			     0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd);
	fd2 = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, kt_send(fd2, "x", 1, 0, 0, 0));

	close(self->fd);
	self->fd = fd2;
	ASSERT_EQ(0, kt_wait_dead(fd2));
	ASSERT_EQ(-EIDRM, kt_send(fd2, "y", 1, 0, 0, 0));
	ASSERT_EQ(-EIDRM, kt_recv_u32(fd2, &(uint32_t){ 0 }, 0));
	ASSERT_EQ(-ENOENT, kt_open(self->name, KPORT_RIGHTS_ALL, 0));
	pfd = (struct pollfd){ .fd = fd2, .events = POLLIN | POLLOUT };
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(POLLHUP, pfd.revents & POLLHUP);
}

TEST_F(life, process_owned_port_is_not_deleted_while_a_dup_of_the_handle_is_open)
{
	int dupfd, fd2;

	self->fd = kt_create(self->name, KPORT_CREATE_PROCESS, 4, MSG_SIZE,
			     0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd);
	fd2 = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, fd2);
	dupfd = dup(self->fd);
	ASSERT_LE(0, dupfd);

	close(self->fd);
	self->fd = fd2;
	EXPECT_EQ(0U, status_of(fd2));
	EXPECT_EQ(0, kt_send(fd2, "alive", 5, 0, 0, 0));

	close(dupfd);
	ASSERT_EQ(0, kt_wait_dead(fd2));
}

TEST_F(life, process_owned_port_is_kept_alive_by_a_child_holding_the_inherited_handle)
{
	int fd2, reopened;

	self->fd = kt_create(self->name, KPORT_CREATE_PROCESS, 4, MSG_SIZE,
			     0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd);
	fd2 = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, fd2);

	/* The child holds the creator's handle through the inherited fd. */
	self->child[0] = kt_fork();
	ASSERT_LE(0, self->child[0]);
	if (self->child[0] == 0) {
		close(fd2);
		KT_CHILD_ASSERT(kt_token_get(self->to_child[0], -1) == 'x');
		_exit(0);
	}
	close(self->fd);
	self->fd = fd2;

	ASSERT_EQ(0U, status_of(fd2));
	ASSERT_EQ(0, kt_send(fd2, "alive", 5, 0, 0, 0));
	reopened = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, reopened);
	close(reopened);

	/* The child exits: the last descriptor of that handle goes. */
	ASSERT_EQ(0, kt_token_put(self->to_child[1], 'x'));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;
	ASSERT_EQ(0, kt_wait_dead(fd2));
	ASSERT_EQ(-ENOENT, kt_open(self->name, KPORT_RIGHTS_ALL, 0));
}

TEST_F(life, process_owned_port_is_not_deleted_when_another_handle_closes)
{
	int fd2;

	self->fd = kt_create(self->name, KPORT_CREATE_PROCESS, 4, MSG_SIZE,
			     0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd);
	fd2 = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, fd2);
	close(fd2);
	ASSERT_EQ(0U, status_of(self->fd));
	ASSERT_EQ(0, kt_send(self->fd, "alive", 5, 0, 0, 0));
}

/* ---- Kernel-owned and anonymous ports ------------------------------------- */

TEST_F(life, kernel_owned_port_survives_its_creator)
{
	struct kport_stat st;
	char buf[MSG_SIZE];

	self->child[0] = kt_fork();
	ASSERT_LE(0, self->child[0]);
	if (self->child[0] == 0) {
		int fd = kt_create_simple(self->name, 4, MSG_SIZE);

		KT_CHILD_ASSERT(fd >= 0);
		KT_CHILD_ASSERT(kt_send(fd, "left behind", 11, 0, 0, 0) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;

	self->fd = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(0U, st.status);
	ASSERT_EQ(0, st.owner_pid);
	ASSERT_EQ(11, kt_recv(self->fd, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(0, memcmp(buf, "left behind", 11));
}

TEST_F(life, kernel_owned_port_keeps_its_messages_with_no_handle_open)
{
	char buf[MSG_SIZE];
	int fd;

	fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_send(fd, "kept", 4, 0, 0, 0));
	close(fd);

	self->fd = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(4, kt_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
			     NULL));
	ASSERT_EQ(0, memcmp(buf, "kept", 4));
}

TEST_F(life, anonymous_port_has_no_name_and_works_through_an_inherited_handle)
{
	struct kport_stat st;
	char buf[MSG_SIZE];

	self->fd = kt_create_simple(NULL, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ('\0', st.name[0]);

	self->child[0] = kt_fork_sender(self->fd, "anon", 4, 0, 0, 0);
	ASSERT_LT(0, self->child[0]);
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;
	ASSERT_EQ(4, kt_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
			     NULL));
	ASSERT_EQ(0, memcmp(buf, "anon", 4));
}

TEST_F(life, anonymous_port_can_be_deleted_through_its_handle)
{
	self->fd = kt_create_simple(NULL, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_delete(self->fd));
	ASSERT_EQ((uint32_t)KPORT_STATUS_DEAD, status_of(self->fd));
	ASSERT_EQ(-EIDRM, kt_send(self->fd, "x", 1, 0, 0, 0));
}

TEST_HARNESS_MAIN
