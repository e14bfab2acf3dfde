// SPDX-License-Identifier: GPL-2.0
/*
 * Waiting: blocking and non-blocking calls, deadlines, signals, read/write
 * and EMSGSIZE.
 *
 * doc/semantics.md, "Waiting": KPORT_MSG_NONBLOCK or O_NONBLOCK on the
 * handle gives EAGAIN instead of waiting; KPORT_MSG_DEADLINE gives
 * ETIMEDOUT once CLOCK_MONOTONIC passes deadline_ns (a past deadline still
 * completes a call that need not wait); a signal restarts the call
 * (SA_RESTART) or fails it with EINTR, only when nothing has happened yet.
 * "Receive": a too small buffer gets EMSGSIZE, the size in len, and the
 * message stays first in line.  "read/write": one message each.
 */
#include "kport_test.h"
#include "kport.h"

#define MSG_SIZE	64
#define SHORT_MS	200	/* a deadline the tests let expire */
#define SLACK_MS	5000	/* generous upper bound for emulated guests */

FIXTURE(port) {
	char name[KPORT_NAME_MAX];
	int fd;		/* capacity 1, MSG_SIZE, all rights, blocking */
	pid_t child;
};

FIXTURE_SETUP(port)
{
	self->child = -1;
	kt_name(self->name, _metadata->name);
	self->fd = kt_create_simple(self->name, 1, MSG_SIZE);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(port)
{
	kt_kill_reap(self->child);
	close(self->fd);
	kt_unlink(self->name);
}

static bool fd_is_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK);
}

/* ---- Blocking ---------------------------------------------------------- */

TEST_F(port, receive_on_empty_port_waits_for_a_message)
{
	self->child = kt_fork_receiver(self->fd, MSG_SIZE, 0, 0, 5, "hello");
	ASSERT_LT(0, self->child);
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));
	ASSERT_EQ(0, waitpid(self->child, NULL, WNOHANG));

	ASSERT_EQ(0, kt_send(self->fd, "hello", 5, 0, 0, 0));
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;
}

TEST_F(port, send_to_full_port_waits_for_room)
{
	char buf[MSG_SIZE];

	ASSERT_EQ(0, kt_send(self->fd, "first", 5, 0, 0, 0));
	self->child = kt_fork_sender(self->fd, "second", 6, 0, 0, 0);
	ASSERT_LT(0, self->child);
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 1));
	ASSERT_EQ(0, waitpid(self->child, NULL, WNOHANG));

	ASSERT_EQ(5, kt_recv(self->fd, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;
	ASSERT_EQ(6, kt_recv(self->fd, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(0, memcmp(buf, "second", 6));
}

/* ---- Non-blocking: per call, O_NONBLOCK, create and open flags ------------ */

TEST_F(port, nonblock_flag_receive_on_empty_port_fails_with_EAGAIN)
{
	char buf[MSG_SIZE];

	ASSERT_EQ(-EAGAIN, kt_recv(self->fd, buf, sizeof(buf),
				   KPORT_MSG_NONBLOCK, NULL));
}

TEST_F(port, nonblock_flag_send_to_full_port_fails_with_EAGAIN)
{
	char buf[MSG_SIZE];

	ASSERT_EQ(0, kt_send(self->fd, "a", 1, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(-EAGAIN, kt_send(self->fd, "b", 1, 0, KPORT_MSG_NONBLOCK, 0));
	/* The refused message was not queued. */
	ASSERT_EQ(1, kt_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
			     NULL));
	ASSERT_EQ('a', buf[0]);
	ASSERT_EQ(-EAGAIN, kt_recv(self->fd, buf, sizeof(buf),
				   KPORT_MSG_NONBLOCK, NULL));
}

TEST_F(port, O_NONBLOCK_set_with_fcntl_makes_receive_fail_with_EAGAIN)
{
	char buf[MSG_SIZE];

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-EAGAIN, kt_recv(self->fd, buf, sizeof(buf), 0, NULL));
}

TEST_F(port, O_NONBLOCK_set_with_fcntl_makes_send_fail_with_EAGAIN)
{
	ASSERT_EQ(0, kt_send(self->fd, "a", 1, 0, 0, 0));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-EAGAIN, kt_send(self->fd, "b", 1, 0, 0, 0));
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 1));
}

TEST_F(port, O_NONBLOCK_cleared_with_fcntl_makes_receive_wait_again)
{
	char buf[MSG_SIZE];
	uint64_t deadline;

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-EAGAIN, kt_recv(self->fd, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, 0));
	/* Waiting now: it ends with the deadline, not with EAGAIN. */
	deadline = kt_deadline_ms(SHORT_MS);
	ASSERT_EQ(-ETIMEDOUT, kt_recv_ex(self->fd, buf, sizeof(buf),
					 KPORT_MSG_DEADLINE, 0, deadline, NULL));
	ASSERT_LE(deadline, kt_now_ns());
}

TEST_F(port, CREATE_NONBLOCK_returns_an_O_NONBLOCK_handle)
{
	char buf[MSG_SIZE];
	int fd;

	fd = kt_create(NULL, KPORT_CREATE_NONBLOCK, 1, MSG_SIZE, 0600,
		       KPORT_RIGHTS_ALL);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(fd_is_nonblocking(fd));
	EXPECT_EQ(-EAGAIN, kt_recv(fd, buf, sizeof(buf), 0, NULL));
	EXPECT_EQ(0, kt_send(fd, "a", 1, 0, 0, 0));
	EXPECT_EQ(-EAGAIN, kt_send(fd, "b", 1, 0, 0, 0));
	close(fd);
}

TEST_F(port, OPEN_NONBLOCK_returns_an_O_NONBLOCK_handle)
{
	char buf[MSG_SIZE];
	int fd;

	fd = kt_open(self->name, KPORT_RIGHTS_ALL, KPORT_OPEN_NONBLOCK);
	ASSERT_LE(0, fd);
	EXPECT_TRUE(fd_is_nonblocking(fd));
	EXPECT_EQ(-EAGAIN, kt_recv(fd, buf, sizeof(buf), 0, NULL));
	EXPECT_EQ(0, kt_send(fd, "a", 1, 0, 0, 0));
	EXPECT_EQ(-EAGAIN, kt_send(fd, "b", 1, 0, 0, 0));
	/* O_NONBLOCK belongs to that handle only. */
	EXPECT_FALSE(fd_is_nonblocking(self->fd));
	close(fd);
}

TEST_F(port, read_on_O_NONBLOCK_handle_fails_with_EAGAIN)
{
	char buf[MSG_SIZE];

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(EAGAIN, errno);
}

TEST_F(port, write_on_O_NONBLOCK_handle_to_full_port_fails_with_EAGAIN)
{
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	ASSERT_EQ(1, write(self->fd, "a", 1));
	ASSERT_EQ(-1, write(self->fd, "b", 1));
	ASSERT_EQ(EAGAIN, errno);
}

/* ---- Deadlines ----------------------------------------------------------- */

TEST_F(port, receive_deadline_expires_with_ETIMEDOUT_not_before_it)
{
	char buf[MSG_SIZE];
	uint64_t start, deadline, end;

	start = kt_now_ns();
	deadline = start + SHORT_MS * KT_NSEC_PER_MSEC;
	ASSERT_EQ(-ETIMEDOUT, kt_recv_ex(self->fd, buf, sizeof(buf),
					 KPORT_MSG_DEADLINE, 0, deadline, NULL));
	end = kt_now_ns();
	ASSERT_LE(deadline, end);
	ASSERT_GT(deadline + SLACK_MS * KT_NSEC_PER_MSEC, end);
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 0));
}

TEST_F(port, send_deadline_expires_with_ETIMEDOUT_not_before_it)
{
	struct kport_stat st;
	uint64_t deadline, end;

	ASSERT_EQ(0, kt_send(self->fd, "full", 4, 0, 0, 0));
	deadline = kt_deadline_ms(SHORT_MS);
	ASSERT_EQ(-ETIMEDOUT, kt_send(self->fd, "late", 4, 0,
				      KPORT_MSG_DEADLINE, deadline));
	end = kt_now_ns();
	ASSERT_LE(deadline, end);
	ASSERT_GT(deadline + SLACK_MS * KT_NSEC_PER_MSEC, end);
	/* The timed-out message was not queued. */
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(0U, st.send_waiters);
}

TEST_F(port, receive_with_past_deadline_on_empty_port_fails_with_ETIMEDOUT)
{
	char buf[MSG_SIZE];

	ASSERT_EQ(-ETIMEDOUT, kt_recv_ex(self->fd, buf, sizeof(buf),
					 KPORT_MSG_DEADLINE, 0, 1, NULL));
	ASSERT_EQ(-ETIMEDOUT, kt_recv_ex(self->fd, buf, sizeof(buf),
					 KPORT_MSG_DEADLINE, 0,
					 kt_now_ns() - KT_NSEC_PER_MSEC, NULL));
}

TEST_F(port, receive_with_past_deadline_takes_a_queued_message)
{
	char buf[MSG_SIZE];

	ASSERT_EQ(0, kt_send(self->fd, "ready", 5, 0, 0, 0));
	ASSERT_EQ(5, kt_recv_ex(self->fd, buf, sizeof(buf),
				KPORT_MSG_DEADLINE, 0, 1, NULL));
	ASSERT_EQ(0, memcmp(buf, "ready", 5));
}

TEST_F(port, send_with_past_deadline_to_port_with_room_succeeds)
{
	ASSERT_EQ(0, kt_send(self->fd, "ok", 2, 0, KPORT_MSG_DEADLINE, 1));
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 1));
}

TEST_F(port, send_with_past_deadline_to_full_port_fails_with_ETIMEDOUT)
{
	ASSERT_EQ(0, kt_send(self->fd, "full", 4, 0, 0, 0));
	ASSERT_EQ(-ETIMEDOUT, kt_send(self->fd, "no", 2, 0,
				      KPORT_MSG_DEADLINE, 1));
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 1));
}

TEST_F(port, receive_deadline_is_met_by_a_late_sender)
{
	self->child = kt_fork_receiver(self->fd, MSG_SIZE, KPORT_MSG_DEADLINE,
				       kt_deadline_ms(KT_TIMEOUT_MS), 4, "late");
	ASSERT_LT(0, self->child);
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));
	ASSERT_EQ(0, kt_send(self->fd, "late", 4, 0, 0, 0));
	ASSERT_EQ(0, kt_reap(self->child, 2 * KT_TIMEOUT_MS));
	self->child = -1;
}

TEST_F(port, send_deadline_is_met_by_a_late_receiver)
{
	char buf[MSG_SIZE];

	ASSERT_EQ(0, kt_send(self->fd, "full", 4, 0, 0, 0));
	self->child = kt_fork_sender(self->fd, "late", 4, KPORT_MSG_DEADLINE,
				     kt_deadline_ms(KT_TIMEOUT_MS), 0);
	ASSERT_LT(0, self->child);
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 1));
	ASSERT_EQ(4, kt_recv(self->fd, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(0, kt_reap(self->child, 2 * KT_TIMEOUT_MS));
	self->child = -1;
	ASSERT_EQ(4, kt_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
			     NULL));
	ASSERT_EQ(0, memcmp(buf, "late", 4));
}

TEST_F(port, library_relative_receive_timeout_expires_with_ETIMEDOUT)
{
	char buf[MSG_SIZE];
	uint64_t start;

	start = kt_now_ns();
	ASSERT_EQ(-ETIMEDOUT, kport_recv_timeout(self->fd, buf, sizeof(buf),
						 SHORT_MS * KT_NSEC_PER_MSEC,
						 NULL));
	ASSERT_LE(start + SHORT_MS * KT_NSEC_PER_MSEC, kt_now_ns());
}

TEST_F(port, library_relative_send_timeout_expires_with_ETIMEDOUT)
{
	uint64_t start;

	ASSERT_EQ(0, kport_send(self->fd, "full", 4, 0, 0));
	start = kt_now_ns();
	ASSERT_EQ(-ETIMEDOUT, kport_send_timeout(self->fd, "x", 1, 0,
						 SHORT_MS * KT_NSEC_PER_MSEC));
	ASSERT_LE(start + SHORT_MS * KT_NSEC_PER_MSEC, kt_now_ns());
}

/* ---- Signals ----------------------------------------------------------- */

static volatile sig_atomic_t signals_seen;
static int signal_pipe = -1;

static void on_signal(int sig)
{
	char c = 's';
	int saved = errno;

	(void)sig;
	signals_seen++;
	if (signal_pipe >= 0 && write(signal_pipe, &c, 1) < 0)
		signals_seen += 100;
	errno = saved;
}

TEST_F(port, signal_fails_blocked_receive_with_EINTR_without_SA_RESTART)
{
	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		char buf[MSG_SIZE];

		KT_CHILD_ASSERT(kt_sigaction(SIGUSR1, on_signal, 0) == 0);
		KT_CHILD_ASSERT(kt_recv(self->fd, buf, sizeof(buf), 0, NULL) ==
				-EINTR);
		KT_CHILD_ASSERT(signals_seen == 1);
		_exit(0);
	}
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));
	ASSERT_EQ(0, kill(self->child, SIGUSR1));
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;

	/* The interrupted receive took nothing and left no waiter behind. */
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 0));
	ASSERT_EQ(0, kt_send(self->fd, "kept", 4, 0, 0, 0));
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 1));
}

TEST_F(port, signal_with_SA_RESTART_restarts_blocked_receive)
{
	int pipefd[2];

	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		char buf[MSG_SIZE];

		close(pipefd[0]);
		signal_pipe = pipefd[1];
		KT_CHILD_ASSERT(kt_sigaction(SIGUSR1, on_signal, SA_RESTART) == 0);
		KT_CHILD_ASSERT(kt_recv(self->fd, buf, sizeof(buf), 0, NULL) == 7);
		KT_CHILD_ASSERT(memcmp(buf, "restart", 7) == 0);
		KT_CHILD_ASSERT(signals_seen == 1);
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));
	ASSERT_EQ(0, kill(self->child, SIGUSR1));
	/* The handler ran ... */
	ASSERT_EQ('s', kt_token_get(pipefd[0], -1));
	/* ... and the receive went back to waiting instead of returning. */
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));
	ASSERT_EQ(0, waitpid(self->child, NULL, WNOHANG));

	ASSERT_EQ(0, kt_send(self->fd, "restart", 7, 0, 0, 0));
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;
	close(pipefd[0]);
}

TEST_F(port, signal_fails_blocked_send_with_EINTR_and_queues_nothing)
{
	char buf[MSG_SIZE];

	ASSERT_EQ(0, kt_send(self->fd, "full", 4, 0, 0, 0));
	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		KT_CHILD_ASSERT(kt_sigaction(SIGUSR1, on_signal, 0) == 0);
		KT_CHILD_ASSERT(kt_send(self->fd, "intr", 4, 0, 0, 0) == -EINTR);
		KT_CHILD_ASSERT(signals_seen == 1);
		_exit(0);
	}
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 1));
	ASSERT_EQ(0, kill(self->child, SIGUSR1));
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;

	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 0));
	ASSERT_EQ(4, kt_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
			     NULL));
	ASSERT_EQ(0, memcmp(buf, "full", 4));
	ASSERT_EQ(-EAGAIN, kt_recv(self->fd, buf, sizeof(buf),
				   KPORT_MSG_NONBLOCK, NULL));
}

/* ---- read / write ---------------------------------------------------------- */

TEST_F(port, write_sends_one_message_at_priority_0_and_returns_its_size)
{
	struct kport_msg m;
	char buf[MSG_SIZE];

	ASSERT_EQ(5, write(self->fd, "abcde", 5));
	ASSERT_EQ(5, kt_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
			     &m));
	ASSERT_EQ(0, memcmp(buf, "abcde", 5));
	ASSERT_EQ(0U, m.priority);
}

TEST_F(port, read_receives_one_message_and_returns_its_size)
{
	char buf[MSG_SIZE];
	int fd;

	/* Two messages need room for two. */
	fd = kt_create_simple(NULL, 4, MSG_SIZE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_send(fd, "abc", 3, 0, 0, 0));
	ASSERT_EQ(0, kt_send(fd, "defghij", 7, 0, 0, 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(3, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	EXPECT_EQ(7, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "defghij", 7));
	close(fd);
}

TEST_F(port, read_blocks_until_a_message_arrives)
{
	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		char buf[MSG_SIZE];

		KT_CHILD_ASSERT(read(self->fd, buf, sizeof(buf)) == 4);
		KT_CHILD_ASSERT(memcmp(buf, "wake", 4) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));
	ASSERT_EQ(4, write(self->fd, "wake", 4));
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;
}

TEST_F(port, read_into_too_small_buffer_fails_with_EMSGSIZE_and_keeps_message)
{
	char buf[MSG_SIZE];

	ASSERT_EQ(0, kt_send(self->fd, "0123456789", 10, 0, 0, 0));
	ASSERT_EQ(-1, read(self->fd, buf, 9));
	ASSERT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(10, read(self->fd, buf, 10));
	ASSERT_EQ(0, memcmp(buf, "0123456789", 10));
}

TEST_F(port, write_larger_than_msg_size_fails_with_EMSGSIZE)
{
	char buf[MSG_SIZE + 1];

	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ(-1, write(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 0));
}

/* ---- EMSGSIZE on receive ----------------------------------------------- */

TEST_F(port, receive_into_too_small_buffer_fails_with_EMSGSIZE_and_reports_size)
{
	struct kport_msg m;
	char buf[MSG_SIZE], payload[40];
	struct kport_stat st;

	kt_fill(payload, sizeof(payload), 40);
	ASSERT_EQ(0, kt_send(self->fd, payload, sizeof(payload), 0, 0, 0));
	ASSERT_EQ(-EMSGSIZE, kt_recv(self->fd, buf, 39, 0, &m));
	ASSERT_EQ(40U, m.len);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(0ULL, st.received);

	ASSERT_EQ(40, kt_recv(self->fd, buf, 40, 0, &m));
	ASSERT_EQ(0U, kt_check_fill(buf, 40, 40));
}

TEST_F(port, blocked_receive_with_too_small_buffer_fails_with_EMSGSIZE_when_a_message_arrives)
{
	char buf[MSG_SIZE];

	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		struct kport_msg m;

		KT_CHILD_ASSERT(kt_recv(self->fd, buf, 4, 0, &m) == -EMSGSIZE);
		KT_CHILD_ASSERT(m.len == 10);
		_exit(0);
	}
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));
	ASSERT_EQ(0, kt_send(self->fd, "0123456789", 10, 0, 0, 0));
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;

	/* The message was not consumed by the failed receive. */
	ASSERT_EQ(10, kt_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
			      NULL));
	ASSERT_EQ(0, memcmp(buf, "0123456789", 10));
}

TEST_F(port, message_refused_with_EMSGSIZE_stays_first_in_line)
{
	char buf[MSG_SIZE];
	int fd;

	fd = kt_create_simple(NULL, 4, MSG_SIZE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_send(fd, "long message", 12, 0, 0, 0));
	ASSERT_EQ(0, kt_send(fd, "short", 5, 0, 0, 0));
	/* The second message would fit, but the first stays in front. */
	EXPECT_EQ(-EMSGSIZE, kt_recv(fd, buf, 8, 0, NULL));
	EXPECT_EQ(-EMSGSIZE, kt_recv(fd, buf, 8, KPORT_MSG_NONBLOCK, NULL));
	EXPECT_EQ(12, kt_recv(fd, buf, sizeof(buf), 0, NULL));
	EXPECT_EQ(0, memcmp(buf, "long message", 12));
	EXPECT_EQ(5, kt_recv(fd, buf, sizeof(buf), 0, NULL));
	EXPECT_EQ(0, memcmp(buf, "short", 5));
	close(fd);
}

TEST_F(port, library_receive_reports_size_on_EMSGSIZE)
{
	struct kport_info info;
	char buf[MSG_SIZE];

	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, kport_send(self->fd, "0123456789abcdef", 16, 0, 0));
	ASSERT_EQ(-EMSGSIZE, kport_recv(self->fd, buf, 4, 0, &info));
	ASSERT_EQ(16U, info.len);
	ASSERT_EQ(16, kport_recv(self->fd, buf, sizeof(buf), 0, &info));
	ASSERT_EQ(0, memcmp(buf, "0123456789abcdef", 16));
}

TEST_HARNESS_MAIN
