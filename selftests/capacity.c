// SPDX-License-Identifier: GPL-2.0
/*
 * Capacity: rendezvous (0), bounded (n) and unbounded ports.
 *
 * doc/semantics.md, "Messages": a send to a full queue waits; on a
 * rendezvous port a send completes only when a receiver takes the message
 * (at once if one waits, else when one arrives), and a non-blocking send
 * with no receiver waiting gets EAGAIN; an unbounded port never makes a
 * send wait.  Blocked senders are served in arrival order.
 *
 * A blocked peer is always observed through kport_stat's send_waiters /
 * recv_waiters before the test acts, never guessed from a sleep.
 */
#include "kport_test.h"

#define MSG_SIZE	64
#define BOUNDED_CAP	4

/* The messages used to fill a bounded port: "m0", "m1", ... */
static void msg_text(char *buf, int i)
{
	memset(buf, 0, 8);
	snprintf(buf, 8, "m%d", i);
}

/* ---- Capacity 0: rendezvous ---------------------------------------------- */

FIXTURE(rendezvous) {
	int fd;
	pid_t child[2];
};

FIXTURE_SETUP(rendezvous)
{
	self->child[0] = self->child[1] = -1;
	self->fd = kt_create_simple(NULL, 0, MSG_SIZE);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(rendezvous)
{
	kt_kill_reap(self->child[0]);
	kt_kill_reap(self->child[1]);
	close(self->fd);
}

TEST_F(rendezvous, stat_reports_capacity_zero)
{
	struct kport_stat st;

	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(0U, st.capacity);
	ASSERT_EQ((uint32_t)MSG_SIZE, st.msg_size);
}

TEST_F(rendezvous, send_blocks_until_a_receiver_arrives)
{
	struct kport_msg m;
	char buf[MSG_SIZE];

	self->child[0] = kt_fork_sender(self->fd, "hello", 5, 0, 0, 0);
	ASSERT_LT(0, self->child[0]);
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 1));
	/* Still blocked: the message has not been taken yet. */
	ASSERT_EQ(0, waitpid(self->child[0], NULL, WNOHANG));

	ASSERT_EQ(5, kt_recv(self->fd, buf, sizeof(buf), 0, &m));
	ASSERT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 0));
}

TEST_F(rendezvous, receive_blocks_until_a_sender_arrives)
{
	self->child[0] = kt_fork_receiver(self->fd, MSG_SIZE, 0, 0, 4, "ping");
	ASSERT_LT(0, self->child[0]);
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));
	ASSERT_EQ(0, waitpid(self->child[0], NULL, WNOHANG));

	ASSERT_EQ(0, kt_send(self->fd, "ping", 4, 0, 0, 0));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 0));
}

TEST_F(rendezvous, nonblocking_send_without_waiting_receiver_fails_with_EAGAIN)
{
	struct kport_stat st;
	char buf[MSG_SIZE];

	ASSERT_EQ(-EAGAIN, kt_send(self->fd, "x", 1, 0, KPORT_MSG_NONBLOCK, 0));
	/* Nothing was left behind for a later receiver. */
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(0U, st.nr_msgs);
	ASSERT_EQ(0U, st.send_waiters);
	ASSERT_EQ(-EAGAIN, kt_recv(self->fd, buf, sizeof(buf),
				   KPORT_MSG_NONBLOCK, NULL));
}

TEST_F(rendezvous, nonblocking_send_hands_message_to_waiting_receiver)
{
	self->child[0] = kt_fork_receiver(self->fd, MSG_SIZE, 0, 0, 3, "abc");
	ASSERT_LT(0, self->child[0]);
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));

	ASSERT_EQ(0, kt_send(self->fd, "abc", 3, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;
}

TEST_F(rendezvous, nonblocking_receive_takes_message_of_blocked_sender)
{
	char buf[MSG_SIZE];

	self->child[0] = kt_fork_sender(self->fd, "late", 4, 0, 0, 0);
	ASSERT_LT(0, self->child[0]);
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 1));

	ASSERT_EQ(4, kt_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
			     NULL));
	ASSERT_EQ(0, memcmp(buf, "late", 4));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;
}

TEST_F(rendezvous, nonblocking_receive_without_sender_fails_with_EAGAIN)
{
	char buf[MSG_SIZE];

	ASSERT_EQ(-EAGAIN, kt_recv(self->fd, buf, sizeof(buf),
				   KPORT_MSG_NONBLOCK, NULL));
}

TEST_F(rendezvous, blocked_senders_are_served_in_arrival_order)
{
	char buf[MSG_SIZE];

	self->child[0] = kt_fork_sender(self->fd, "first", 5, 0, 0, 0);
	ASSERT_LT(0, self->child[0]);
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 1));
	self->child[1] = kt_fork_sender(self->fd, "second", 6, 0, 0, 0);
	ASSERT_LT(0, self->child[1]);
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 2));

	ASSERT_EQ(5, kt_recv(self->fd, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(0, memcmp(buf, "first", 5));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 1));

	ASSERT_EQ(6, kt_recv(self->fd, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(0, memcmp(buf, "second", 6));
	ASSERT_EQ(0, kt_reap(self->child[1], -1));
	self->child[1] = -1;
}

TEST_F(rendezvous, each_send_is_taken_by_exactly_one_receive)
{
	char buf[MSG_SIZE];

	self->child[0] = kt_fork_receiver(self->fd, MSG_SIZE, 0, 0, 3, "one");
	ASSERT_LT(0, self->child[0]);
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));
	ASSERT_EQ(0, kt_send(self->fd, "one", 3, 0, 0, 0));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;

	/* The message was consumed by the child: none is left over. */
	ASSERT_EQ(-EAGAIN, kt_recv(self->fd, buf, sizeof(buf),
				   KPORT_MSG_NONBLOCK, NULL));
}

/* ---- Capacity n -------------------------------------------------------- */

FIXTURE(bounded) {
	int fd;
	pid_t child[2];
};

FIXTURE_SETUP(bounded)
{
	self->child[0] = self->child[1] = -1;
	self->fd = kt_create_simple(NULL, BOUNDED_CAP, MSG_SIZE);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(bounded)
{
	kt_kill_reap(self->child[0]);
	kt_kill_reap(self->child[1]);
	close(self->fd);
}

/* Fill the port with m0..m(BOUNDED_CAP-1) without waiting. */
static int fill(int fd)
{
	char buf[8];
	int i, ret;

	for (i = 0; i < BOUNDED_CAP; i++) {
		msg_text(buf, i);
		ret = kt_send(fd, buf, sizeof(buf), 0, KPORT_MSG_NONBLOCK, 0);
		if (ret)
			return ret;
	}
	return 0;
}

/* Receive one message without waiting; 0 if it is "m<i>". */
static int expect_msg(int fd, int i)
{
	char want[8], buf[MSG_SIZE];
	int ret;

	msg_text(want, i);
	ret = kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL);
	if (ret < 0)
		return ret;
	if (ret != sizeof(want) || memcmp(buf, want, sizeof(want)))
		return -EBADMSG;
	return 0;
}

TEST_F(bounded, holds_capacity_messages_then_nonblocking_send_fails_with_EAGAIN)
{
	struct kport_stat st;

	ASSERT_EQ(0, fill(self->fd));
	ASSERT_EQ(-EAGAIN, kt_send(self->fd, "over", 4, 0,
				   KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ((uint32_t)BOUNDED_CAP, st.capacity);
	ASSERT_EQ((uint32_t)BOUNDED_CAP, st.nr_msgs);
	ASSERT_EQ((uint64_t)BOUNDED_CAP, st.sent);
}

TEST_F(bounded, receive_frees_room_for_exactly_one_message)
{
	char buf[8];

	ASSERT_EQ(0, fill(self->fd));
	ASSERT_EQ(0, expect_msg(self->fd, 0));

	msg_text(buf, BOUNDED_CAP);
	ASSERT_EQ(0, kt_send(self->fd, buf, sizeof(buf), 0,
			     KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(-EAGAIN, kt_send(self->fd, "over", 4, 0,
				   KPORT_MSG_NONBLOCK, 0));
	for (int i = 1; i <= BOUNDED_CAP; i++) {
		ASSERT_EQ(0, expect_msg(self->fd, i));
	}
	ASSERT_EQ(-EAGAIN, expect_msg(self->fd, 0));
}

TEST_F(bounded, blocked_sender_is_released_by_a_receive)
{
	struct kport_stat st;
	char extra[8];

	ASSERT_EQ(0, fill(self->fd));
	msg_text(extra, BOUNDED_CAP);
	self->child[0] = kt_fork_sender(self->fd, extra, sizeof(extra), 0, 0, 0);
	ASSERT_LT(0, self->child[0]);
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 1));
	ASSERT_EQ(0, waitpid(self->child[0], NULL, WNOHANG));

	ASSERT_EQ(0, expect_msg(self->fd, 0));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;

	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(0U, st.send_waiters);
	ASSERT_EQ((uint32_t)BOUNDED_CAP, st.nr_msgs);
	/* The released message went behind the ones already queued. */
	for (int i = 1; i <= BOUNDED_CAP; i++) {
		ASSERT_EQ(0, expect_msg(self->fd, i));
	}
}

TEST_F(bounded, blocked_senders_are_released_in_arrival_order)
{
	char a[8], b[8];

	ASSERT_EQ(0, fill(self->fd));
	msg_text(a, 100);
	msg_text(b, 101);
	self->child[0] = kt_fork_sender(self->fd, a, sizeof(a), 0, 0, 0);
	ASSERT_LT(0, self->child[0]);
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 1));
	self->child[1] = kt_fork_sender(self->fd, b, sizeof(b), 0, 0, 0);
	ASSERT_LT(0, self->child[1]);
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 2));

	/* One slot frees: the first to block gets it. */
	ASSERT_EQ(0, expect_msg(self->fd, 0));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 1));

	ASSERT_EQ(0, expect_msg(self->fd, 1));
	ASSERT_EQ(0, kt_reap(self->child[1], -1));
	self->child[1] = -1;

	for (int i = 2; i < BOUNDED_CAP; i++) {
		ASSERT_EQ(0, expect_msg(self->fd, i));
	}
	ASSERT_EQ(0, expect_msg(self->fd, 100));
	ASSERT_EQ(0, expect_msg(self->fd, 101));
}

TEST_F(bounded, send_to_port_with_room_does_not_wait)
{
	/* A deadline already past still completes a call that need not wait. */
	ASSERT_EQ(0, kt_send(self->fd, "now", 3, 0, KPORT_MSG_DEADLINE, 1));
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 1));
}

/* ---- Unbounded ----------------------------------------------------------- */

#define UNBOUNDED_BURST	5000

FIXTURE(unbounded) {
	int fd;
};

FIXTURE_SETUP(unbounded)
{
	self->fd = kt_create_simple(NULL, KPORT_CAPACITY_UNBOUNDED, MSG_SIZE);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(unbounded)
{
	close(self->fd);
}

TEST_F(unbounded, stat_reports_unbounded_capacity)
{
	struct kport_stat st;

	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(KPORT_CAPACITY_UNBOUNDED, st.capacity);
}

TEST_F(unbounded, send_never_waits)
{
	struct kport_stat st;
	uint32_t v;
	int i;

	/*
	 * Far more messages than any default capacity, each with a deadline
	 * already past: a send that had to wait would fail with ETIMEDOUT.
	 */
	for (i = 0; i < UNBOUNDED_BURST; i++) {
		v = (uint32_t)i;
		ASSERT_EQ(0, kt_send(self->fd, &v, sizeof(v), 0,
				     KPORT_MSG_DEADLINE, 1));
	}
	ASSERT_EQ(0, kt_send_u32(self->fd, UNBOUNDED_BURST, KPORT_MSG_NONBLOCK));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ((uint32_t)UNBOUNDED_BURST + 1, st.nr_msgs);
	ASSERT_EQ(0U, st.send_waiters);

	for (i = 0; i <= UNBOUNDED_BURST; i++) {
		ASSERT_EQ(0, kt_recv_u32(self->fd, &v, KPORT_MSG_NONBLOCK));
		ASSERT_EQ((uint32_t)i, v);
	}
	ASSERT_EQ(-EAGAIN, kt_recv_u32(self->fd, &v, KPORT_MSG_NONBLOCK));
}

TEST_F(unbounded, blocking_send_without_receiver_returns_at_once)
{
	pid_t child;

	/* A blocking send by another process, with nobody receiving. */
	child = kt_fork_sender(self->fd, "x", 1, 0, 0, 0);
	ASSERT_LT(0, child);
	ASSERT_EQ(0, kt_reap(child, -1));
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 1));
}

TEST_HARNESS_MAIN
