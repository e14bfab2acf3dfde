// SPDX-License-Identifier: GPL-2.0
/*
 * poll() and epoll: readiness and wake-ups.
 *
 * doc/semantics.md, "poll/epoll": EPOLLIN | EPOLLRDNORM when a receive
 * would not wait (a queued message, or a sender blocked on a rendezvous
 * port); EPOLLOUT | EPOLLWRNORM when a send would not wait (room in the
 * queue, unbounded, or a receiver waiting on a rendezvous port); EPOLLHUP
 * once the port is deleted.
 *
 * Every test runs twice: with poll() and with epoll (level-triggered).
 * A poller is a child process that waits at most KT_TIMEOUT_MS; the test
 * acts only once the child sleeps in poll (/proc/PID/stat and wchan).
 */
#include "kport_test.h"
#include <sys/epoll.h>

#define IN_BITS		(POLLIN | POLLRDNORM)
#define OUT_BITS	(POLLOUT | POLLWRNORM)
#define ALL_BITS	(IN_BITS | OUT_BITS)
#define MSG_SIZE	32

/* poll and epoll use the same bit values for these events. */
_Static_assert(POLLIN == EPOLLIN && POLLOUT == EPOLLOUT &&
	       POLLRDNORM == EPOLLRDNORM && POLLWRNORM == EPOLLWRNORM &&
	       POLLHUP == EPOLLHUP && POLLERR == EPOLLERR, "poll bits");

FIXTURE(readiness) {
	int fd;
	pid_t child;	/* the poller, or a blocked peer */
	pid_t peer;	/* a blocked peer while the poller runs */
};

FIXTURE_VARIANT(readiness) {
	bool epoll;
};

FIXTURE_VARIANT_ADD(readiness, poll) {
	.epoll = false,
};

FIXTURE_VARIANT_ADD(readiness, epoll) {
	.epoll = true,
};

FIXTURE_SETUP(readiness)
{
	self->fd = -1;
	self->child = -1;
	self->peer = -1;
}

FIXTURE_TEARDOWN(readiness)
{
	kt_kill_reap(self->child);
	kt_kill_reap(self->peer);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * Wait up to @timeout_ms for @fd to report one of @events (or hang-up,
 * error), with poll() or with a fresh level-triggered epoll instance.
 * Returns the events (0 on timeout) or -errno.
 */
static int wait_events(bool use_epoll, int fd, int events, int timeout_ms)
{
	struct epoll_event ev = { .events = (uint32_t)events };
	struct pollfd pfd = { .fd = fd, .events = (short)events };
	int ep, ret;

	if (!use_epoll) {
		ret = poll(&pfd, 1, timeout_ms);
		if (ret < 0)
			return -errno;
		return ret ? pfd.revents : 0;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		ret = -errno;
		close(ep);
		return ret;
	}
	memset(&ev, 0, sizeof(ev));
	ret = epoll_wait(ep, &ev, 1, timeout_ms);
	if (ret < 0)
		ret = -errno;
	else
		ret = ret ? (int)ev.events : 0;
	close(ep);
	return ret;
}

/* What @fd reports right now, asked for every IN and OUT bit. */
static int events_now(const FIXTURE_VARIANT(readiness) *variant, int fd)
{
	return wait_events(variant->epoll, fd, ALL_BITS, 0);
}

/*
 * Fork a poller: it waits for @events on @fd for at most KT_TIMEOUT_MS
 * and exits 0 if all of @want were reported, 2 if it was not woken
 * before its timeout, 3 otherwise.  (poll() looks at the file once more
 * when its timeout expires, so a missed wake-up shows only as a late
 * return.)  Returns once the poller sleeps in poll() / epoll_wait(), or -1.
 */
static pid_t fork_poller(const FIXTURE_VARIANT(readiness) *variant, int fd,
			 int events, int want)
{
	pid_t pid = kt_fork();

	if (pid == 0) {
		uint64_t start = kt_now_ns();
		int ev = wait_events(variant->epoll, fd, events, KT_TIMEOUT_MS);

		if (ev == 0 ||
		    kt_now_ns() - start >= KT_TIMEOUT_MS * KT_NSEC_PER_MSEC) {
			fprintf(stderr, "# poller: not woken within %d ms\n",
				KT_TIMEOUT_MS);
			_exit(2);
		}
		if (ev < 0 || (ev & want) != want) {
			fprintf(stderr, "# poller: events %#x, wanted %#x\n",
				ev, want);
			_exit(3);
		}
		_exit(0);
	}
	if (pid > 0 && kt_wait_sleeping(pid, "poll")) {
		kt_kill_reap(pid);
		return -1;
	}
	return pid;
}

/* ---- Readiness: bounded ---------------------------------------------------- */

TEST_F(readiness, empty_bounded_port_is_writable_not_readable)
{
	self->fd = kt_create_simple(NULL, 2, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(OUT_BITS, events_now(variant, self->fd));
}

TEST_F(readiness, partly_filled_bounded_port_is_readable_and_writable)
{
	self->fd = kt_create_simple(NULL, 2, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_send(self->fd, "a", 1, 0, 0, 0));
	ASSERT_EQ(IN_BITS | OUT_BITS, events_now(variant, self->fd));
}

TEST_F(readiness, full_bounded_port_is_readable_not_writable)
{
	self->fd = kt_create_simple(NULL, 2, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_send(self->fd, "a", 1, 0, 0, 0));
	ASSERT_EQ(0, kt_send(self->fd, "b", 1, 0, 0, 0));
	ASSERT_EQ(IN_BITS, events_now(variant, self->fd));
}

TEST_F(readiness, drained_bounded_port_is_writable_not_readable_again)
{
	char buf[MSG_SIZE];

	self->fd = kt_create_simple(NULL, 1, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_send(self->fd, "a", 1, 0, 0, 0));
	ASSERT_EQ(IN_BITS, events_now(variant, self->fd));
	ASSERT_EQ(1, kt_recv(self->fd, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(OUT_BITS, events_now(variant, self->fd));
}

/* ---- Readiness: rendezvous ---------------------------------------------- */

TEST_F(readiness, idle_rendezvous_port_is_neither_readable_nor_writable)
{
	self->fd = kt_create_simple(NULL, 0, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, events_now(variant, self->fd));
}

TEST_F(readiness, rendezvous_port_with_waiting_receiver_is_writable)
{
	self->fd = kt_create_simple(NULL, 0, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	self->child = kt_fork_receiver(self->fd, MSG_SIZE, 0, 0, 2, "ok");
	ASSERT_LT(0, self->child);
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));

	ASSERT_EQ(OUT_BITS, events_now(variant, self->fd));

	ASSERT_EQ(0, kt_send(self->fd, "ok", 2, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;
	ASSERT_EQ(0, events_now(variant, self->fd));
}

TEST_F(readiness, rendezvous_port_with_blocked_sender_is_readable)
{
	char buf[MSG_SIZE];

	self->fd = kt_create_simple(NULL, 0, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	self->child = kt_fork_sender(self->fd, "ok", 2, 0, 0, 0);
	ASSERT_LT(0, self->child);
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 1));

	ASSERT_EQ(IN_BITS, events_now(variant, self->fd));

	ASSERT_EQ(2, kt_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
			     NULL));
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;
	ASSERT_EQ(0, events_now(variant, self->fd));
}

/* ---- Readiness: unbounded --------------------------------------------------- */

TEST_F(readiness, unbounded_port_is_always_writable)
{
	int i;

	self->fd = kt_create_simple(NULL, KPORT_CAPACITY_UNBOUNDED, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(OUT_BITS, events_now(variant, self->fd));
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, kt_send(self->fd, "u", 1, 0, 0, 0));
	}
	ASSERT_EQ(IN_BITS | OUT_BITS, events_now(variant, self->fd));
}

/* ---- Readiness: deleted ------------------------------------------------------ */

TEST_F(readiness, deleted_port_reports_hang_up)
{
	int ev;

	self->fd = kt_create_simple(NULL, 2, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_send(self->fd, "a", 1, 0, 0, 0));
	ASSERT_EQ(0, kt_delete(self->fd));
	ev = events_now(variant, self->fd);
	ASSERT_LT(0, ev);
	ASSERT_EQ(POLLHUP, ev & POLLHUP);
}

TEST_F(readiness, deleted_rendezvous_port_reports_hang_up)
{
	int ev;

	self->fd = kt_create_simple(NULL, 0, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_delete(self->fd));
	ev = events_now(variant, self->fd);
	ASSERT_LT(0, ev);
	ASSERT_EQ(POLLHUP, ev & POLLHUP);
}

/* ---- Wake-ups --------------------------------------------------------------- */

TEST_F(readiness, poller_waiting_for_input_is_woken_by_a_send)
{
	self->fd = kt_create_simple(NULL, 2, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	self->child = fork_poller(variant, self->fd, IN_BITS, IN_BITS);
	ASSERT_LT(0, self->child);

	ASSERT_EQ(0, kt_send(self->fd, "in", 2, 0, 0, 0));
	ASSERT_EQ(0, kt_reap(self->child, 2 * KT_TIMEOUT_MS));
	self->child = -1;
}

TEST_F(readiness, poller_waiting_for_output_is_woken_when_space_is_freed)
{
	char buf[MSG_SIZE];

	self->fd = kt_create_simple(NULL, 1, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_send(self->fd, "full", 4, 0, 0, 0));
	self->child = fork_poller(variant, self->fd, OUT_BITS, OUT_BITS);
	ASSERT_LT(0, self->child);

	ASSERT_EQ(4, kt_recv(self->fd, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(0, kt_reap(self->child, 2 * KT_TIMEOUT_MS));
	self->child = -1;
}

TEST_F(readiness, poller_is_woken_by_deletion_with_hang_up)
{
	self->fd = kt_create_simple(NULL, 2, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	self->child = fork_poller(variant, self->fd, IN_BITS, POLLHUP);
	ASSERT_LT(0, self->child);

	ASSERT_EQ(0, kt_delete(self->fd));
	ASSERT_EQ(0, kt_reap(self->child, 2 * KT_TIMEOUT_MS));
	self->child = -1;
}

TEST_F(readiness, poller_on_rendezvous_port_is_woken_when_a_receiver_starts_waiting)
{
	self->fd = kt_create_simple(NULL, 0, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	self->child = fork_poller(variant, self->fd, OUT_BITS, OUT_BITS);
	ASSERT_LT(0, self->child);

	self->peer = kt_fork_receiver(self->fd, MSG_SIZE, 0, 0, 1, "r");
	ASSERT_LT(0, self->peer);
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));
	ASSERT_EQ(0, kt_reap(self->child, 2 * KT_TIMEOUT_MS));
	self->child = -1;

	ASSERT_EQ(0, kt_send(self->fd, "r", 1, 0, 0, 0));
	ASSERT_EQ(0, kt_reap(self->peer, -1));
	self->peer = -1;
}

TEST_F(readiness, poller_on_rendezvous_port_is_woken_when_a_sender_starts_waiting)
{
	char buf[MSG_SIZE];

	self->fd = kt_create_simple(NULL, 0, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	self->child = fork_poller(variant, self->fd, IN_BITS, IN_BITS);
	ASSERT_LT(0, self->child);

	self->peer = kt_fork_sender(self->fd, "s", 1, 0, 0, 0);
	ASSERT_LT(0, self->peer);
	ASSERT_EQ(0, kt_wait_send_waiters(self->fd, 1));
	ASSERT_EQ(0, kt_reap(self->child, 2 * KT_TIMEOUT_MS));
	self->child = -1;

	ASSERT_EQ(1, kt_recv(self->fd, buf, sizeof(buf), 0, NULL));
	ASSERT_EQ(0, kt_reap(self->peer, -1));
	self->peer = -1;
}

TEST_HARNESS_MAIN
