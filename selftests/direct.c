// SPDX-License-Identifier: GPL-2.0
/*
 * Direct naming: inboxes opened by pid, and senders known by pid and uid.
 *
 * doc/semantics.md: KPORT_CREATE_INBOX creates the calling process's
 * inbox, process-owned, one per process (EEXIST); KPORT_OPEN_INBOX opens
 * it by pid: ESRCH if no such process, ENOENT if it has no inbox.  A
 * receive reports the sender's pid and uid, and with KPORT_MSG_FROM_PID
 * takes only that sender's messages (EINVAL for pid <= 0, ESRCH if no
 * such process); the others stay queued.
 */
#include "kport_test.h"
#include "kport.h"
#include <grp.h>
#include <pthread.h>

#define MSG_SIZE	64
#define NOBODY		65534

FIXTURE(inbox) {
	int fd;			/* this process's inbox */
	pid_t child[3];
	int to_child[2];
	int to_parent[2];
};

FIXTURE_SETUP(inbox)
{
	struct kport_attr attr = KPORT_ATTR_DEFAULT;
	int i;

	for (i = 0; i < 3; i++)
		self->child[i] = -1;
	ASSERT_EQ(0, pipe2(self->to_child, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->to_parent, O_CLOEXEC));
	/* Others may send (write bit), only the owner may receive. */
	attr.mode = 0622;
	attr.capacity = 8;
	attr.msg_size = MSG_SIZE;
	self->fd = kport_create_inbox(&attr);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(inbox)
{
	int i;

	for (i = 0; i < 3; i++)
		kt_kill_reap(self->child[i]);
	close(self->fd);
	close(self->to_child[0]);
	close(self->to_child[1]);
	close(self->to_parent[0]);
	close(self->to_parent[1]);
}

/*
 * Fork a child that opens @owner's inbox and sends @text.  With @wait_first
 * it reads a token 's' from the to_child pipe before sending; with
 * @linger it then reads a token 'x' before exiting (so that its pid stays
 * valid for FROM_PID).  Only lingering children and the one that waits
 * first read tokens, so a test has at most one child waiting for 's'.
 */
static pid_t fork_inbox_sender(FIXTURE_DATA(inbox) *self, pid_t owner,
			       const char *text, bool wait_first, bool linger)
{
	pid_t pid = kt_fork();

	if (pid == 0) {
		int fd = kport_open_inbox(owner, KPORT_RIGHT_SEND);

		KT_CHILD_ASSERT(fd >= 0);
		if (wait_first)
			KT_CHILD_ASSERT(kt_token_get(self->to_child[0], -1) == 's');
		KT_CHILD_ASSERT(kport_send(fd, text, strlen(text), 0, 0) == 0);
		if (linger)
			KT_CHILD_ASSERT(kt_token_get(self->to_child[0], -1) == 'x');
		_exit(0);
	}
	return pid;
}

/* Let @n children blocked in fork_inbox_sender() exit. */
static int release_children(FIXTURE_DATA(inbox) *self, int n)
{
	while (n--)
		if (kt_token_put(self->to_child[1], 'x'))
			return -1;
	return 0;
}

TEST_F(inbox, stat_reports_the_owner_pid_and_no_name)
{
	struct kport_stat st;

	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(getpid(), st.owner_pid);
	ASSERT_EQ('\0', st.name[0]);
	ASSERT_EQ(KPORT_CREATE_INBOX, st.port_flags & KPORT_CREATE_INBOX);
}

TEST_F(inbox, another_process_opens_it_by_pid_and_the_receiver_learns_pid_and_uid)
{
	struct kport_info info;
	char buf[MSG_SIZE];

	self->child[0] = fork_inbox_sender(self, getpid(), "hello inbox", false,
					    true);
	ASSERT_LT(0, self->child[0]);

	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(11, kport_recv_timeout(self->fd, buf, sizeof(buf),
					 KT_TIMEOUT_MS * KT_NSEC_PER_MSEC, &info));
	ASSERT_EQ(0, memcmp(buf, "hello inbox", 11));
	ASSERT_EQ(self->child[0], info.pid);
	ASSERT_EQ(geteuid(), info.uid);
	ASSERT_EQ(11U, info.len);

	ASSERT_EQ(0, release_children(self, 1));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;
}

TEST_F(inbox, two_processes_exchange_messages_through_their_inboxes)
{
	struct kport_info info;
	char buf[MSG_SIZE];
	int reply_fd;

	/* The child: own inbox, request to ours, reply expected from us. */
	self->child[0] = kt_fork();
	ASSERT_LE(0, self->child[0]);
	if (self->child[0] == 0) {
		struct kport_attr attr = KPORT_ATTR_DEFAULT;
		struct kport_info ci;
		pid_t parent = getppid();
		int in, out;

		attr.msg_size = MSG_SIZE;
		in = kport_create_inbox(&attr);
		KT_CHILD_ASSERT(in >= 0);
		out = kport_open_inbox(parent, KPORT_RIGHT_SEND);
		KT_CHILD_ASSERT(out >= 0);
		KT_CHILD_ASSERT(kport_send(out, "request", 7, 0, 0) == 0);
		KT_CHILD_ASSERT(kport_recv_timeout(in, buf, sizeof(buf),
						   KT_TIMEOUT_MS * KT_NSEC_PER_MSEC,
						   &ci) == 5);
		KT_CHILD_ASSERT(memcmp(buf, "reply", 5) == 0);
		KT_CHILD_ASSERT(ci.pid == parent);
		KT_CHILD_ASSERT(ci.uid == geteuid());
		_exit(0);
	}

	ASSERT_EQ(7, kport_recv_timeout(self->fd, buf, sizeof(buf),
					KT_TIMEOUT_MS * KT_NSEC_PER_MSEC, &info));
	ASSERT_EQ(0, memcmp(buf, "request", 7));
	ASSERT_EQ(self->child[0], info.pid);

	/* Reply to whoever asked, by the pid the request carried. */
	reply_fd = kport_open_inbox(info.pid, KPORT_RIGHT_SEND);
	ASSERT_LE(0, reply_fd);
	EXPECT_EQ(0, kport_send(reply_fd, "reply", 5, 0, 0));
	close(reply_fd);
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;
}

TEST_F(inbox, receive_from_pid_takes_only_that_senders_messages)
{
	struct kport_info info;
	char buf[MSG_SIZE];
	pid_t a, b;

	/* A sends a1, then B sends b1, then A sends a2 (one process each). */
	a = self->child[0] = fork_inbox_sender(self, getpid(), "a1", false, true);
	ASSERT_LT(0, a);
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 1));
	b = self->child[1] = fork_inbox_sender(self, getpid(), "b1", false, true);
	ASSERT_LT(0, b);
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 2));
	ASSERT_EQ(0, kt_send(self->fd, "own", 3, 0, 0, 0));
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 3));

	ASSERT_EQ(2, kport_recv_from(self->fd, b, buf, sizeof(buf), 0, &info));
	ASSERT_EQ(0, memcmp(buf, "b1", 2));
	ASSERT_EQ(b, info.pid);
	/* Nothing more from B; the others' messages are still there. */
	ASSERT_EQ(-ETIMEDOUT, kport_recv_from(self->fd, b, buf, sizeof(buf), 0,
					   &info));
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 2));

	ASSERT_EQ(2, kport_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
				&info));
	ASSERT_EQ(0, memcmp(buf, "a1", 2));
	ASSERT_EQ(a, info.pid);
	ASSERT_EQ(3, kport_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
				&info));
	ASSERT_EQ(0, memcmp(buf, "own", 3));
	ASSERT_EQ(getpid(), info.pid);

	ASSERT_EQ(0, release_children(self, 2));
	ASSERT_EQ(0, kt_reap(a, -1));
	self->child[0] = -1;
	ASSERT_EQ(0, kt_reap(b, -1));
	self->child[1] = -1;
}

TEST_F(inbox, receive_from_pid_waits_for_that_sender_while_others_stay_queued)
{
	struct kport_info info;
	char buf[MSG_SIZE];
	pid_t a, b;

	/* A sends and exits: its message stays queued. */
	a = self->child[0] = fork_inbox_sender(self, getpid(), "from a", false,
					       false);
	ASSERT_LT(0, a);
	ASSERT_EQ(0, kt_reap(a, -1));
	self->child[0] = -1;
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 1));
	/* B opens the inbox now but sends only when told ('s'). */
	b = self->child[1] = fork_inbox_sender(self, getpid(), "from b", true,
					       true);
	ASSERT_LT(0, b);

	/* A receiver that wants B's message only: it must wait. */
	self->child[2] = kt_fork();
	ASSERT_LE(0, self->child[2]);
	if (self->child[2] == 0) {
		struct kport_info ri;

		KT_CHILD_ASSERT(kport_recv_from(self->fd, b, buf, sizeof(buf),
						-1, &ri) == 6);
		KT_CHILD_ASSERT(memcmp(buf, "from b", 6) == 0);
		KT_CHILD_ASSERT(ri.pid == b);
		_exit(0);
	}
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));

	ASSERT_EQ(0, kt_token_put(self->to_child[1], 's'));
	ASSERT_EQ(0, kt_reap(self->child[2], -1));
	self->child[2] = -1;

	/* A's message stayed queued through all this. */
	ASSERT_EQ(6, kport_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
				&info));
	ASSERT_EQ(0, memcmp(buf, "from a", 6));
	ASSERT_EQ(a, info.pid);

	ASSERT_EQ(0, release_children(self, 1));
	ASSERT_EQ(0, kt_reap(b, -1));
	self->child[1] = -1;
}

TEST_F(inbox, receive_from_pid_of_nonexistent_process_fails_with_ESRCH)
{
	char buf[MSG_SIZE];
	pid_t gone;

	gone = kt_fork();
	ASSERT_LE(0, gone);
	if (gone == 0)
		_exit(0);
	ASSERT_EQ(0, kt_reap(gone, -1));

	ASSERT_EQ(-ESRCH, kt_recv_ex(self->fd, buf, sizeof(buf),
				     KPORT_MSG_FROM_PID | KPORT_MSG_NONBLOCK,
				     gone, 0, NULL));
	ASSERT_EQ(-ESRCH, kt_recv_ex(self->fd, buf, sizeof(buf),
				     KPORT_MSG_FROM_PID, gone, 0, NULL));
}

TEST_F(inbox, receive_from_pid_zero_or_negative_fails_with_EINVAL)
{
	char buf[MSG_SIZE];

	ASSERT_EQ(0, kt_send(self->fd, "q", 1, 0, 0, 0));
	ASSERT_EQ(-EINVAL, kt_recv_ex(self->fd, buf, sizeof(buf),
				      KPORT_MSG_FROM_PID, 0, 0, NULL));
	ASSERT_EQ(-EINVAL, kt_recv_ex(self->fd, buf, sizeof(buf),
				      KPORT_MSG_FROM_PID, -1, 0, NULL));
	/* A failed call changes nothing. */
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 1));
}

TEST_F(inbox, second_inbox_of_a_process_fails_with_EEXIST)
{
	ASSERT_EQ(-EEXIST, kport_create_inbox(NULL));
	ASSERT_EQ(-EEXIST, kt_create(NULL, KPORT_CREATE_INBOX, 4, MSG_SIZE,
				     0600, KPORT_RIGHTS_ALL));
	/* The existing inbox is untouched. */
	ASSERT_EQ(0, kt_stat(self->fd, &(struct kport_stat){ 0 }));
}

static void *create_inbox_in_thread(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)kport_create_inbox(NULL);
}

TEST_F(inbox, another_thread_of_the_process_cannot_create_a_second_inbox)
{
	pthread_t thread;
	void *ret;

	ASSERT_EQ(0, pthread_create(&thread, NULL, create_inbox_in_thread, NULL));
	ASSERT_EQ(0, pthread_join(thread, &ret));
	ASSERT_EQ(-EEXIST, (int)(intptr_t)ret);
}

TEST_F(inbox, inbox_can_be_created_again_once_the_old_one_is_closed)
{
	struct kport_stat old_st, new_st;

	ASSERT_EQ(0, kt_stat(self->fd, &old_st));
	close(self->fd);
	self->fd = kport_create_inbox(NULL);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_stat(self->fd, &new_st));
	ASSERT_NE(old_st.id, new_st.id);
}

TEST_F(inbox, open_inbox_of_a_process_without_one_fails_with_ENOENT)
{
	/* The harness's runner has no inbox; neither has a fresh child. */
	ASSERT_EQ(-ENOENT, kport_open_inbox(getppid(), KPORT_RIGHT_SEND));

	self->child[0] = kt_fork();
	ASSERT_LE(0, self->child[0]);
	if (self->child[0] == 0) {
		KT_CHILD_ASSERT(kt_token_get(self->to_child[0], -1) == 'x');
		_exit(0);
	}
	ASSERT_EQ(-ENOENT, kport_open_inbox(self->child[0], KPORT_RIGHT_SEND));
	ASSERT_EQ(0, release_children(self, 1));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	self->child[0] = -1;
}

TEST_F(inbox, open_inbox_of_a_nonexistent_pid_fails_with_ESRCH)
{
	pid_t gone;

	gone = kt_fork();
	ASSERT_LE(0, gone);
	if (gone == 0)
		_exit(0);
	ASSERT_EQ(0, kt_reap(gone, -1));
	ASSERT_EQ(-ESRCH, kport_open_inbox(gone, KPORT_RIGHT_SEND));
}

TEST_F(inbox, inbox_is_deleted_when_its_process_exits)
{
	struct kport_stat st;
	int fd;

	self->child[0] = kt_fork();
	ASSERT_LE(0, self->child[0]);
	if (self->child[0] == 0) {
		struct kport_attr attr = KPORT_ATTR_DEFAULT;

		attr.mode = 0622;
		KT_CHILD_ASSERT(kport_create_inbox(&attr) >= 0);
		KT_CHILD_ASSERT(kt_token_put(self->to_parent[1], 'c') == 0);
		KT_CHILD_ASSERT(kt_token_get(self->to_child[0], -1) == 'x');
		_exit(0);
	}
	ASSERT_EQ('c', kt_token_get(self->to_parent[0], -1));
	fd = kport_open_inbox(self->child[0], KPORT_RIGHT_SEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, kt_stat(fd, &st));
	EXPECT_EQ(self->child[0], st.owner_pid);
	EXPECT_EQ(0, kport_send(fd, "before", 6, 0, 0));

	ASSERT_EQ(0, release_children(self, 1));
	ASSERT_EQ(0, kt_reap(self->child[0], -1));
	EXPECT_EQ(0, kt_wait_dead(fd));
	EXPECT_EQ(-EIDRM, kport_send(fd, "after", 5, 0, 0));
	EXPECT_EQ(-ESRCH, kport_open_inbox(self->child[0], KPORT_RIGHT_SEND));
	self->child[0] = -1;
	close(fd);
}

TEST_F(inbox, sender_uid_is_reported_after_setresuid_to_nobody)
{
	struct kport_info info;
	char buf[MSG_SIZE];
	pid_t owner = getpid();

	if (geteuid() != 0)
		SKIP(return, "setresuid() to another user needs root");

	self->child[0] = kt_fork();
	ASSERT_LE(0, self->child[0]);
	if (self->child[0] == 0) {
		int fd;

		KT_CHILD_ASSERT(setgroups(0, NULL) == 0);
		KT_CHILD_ASSERT(setresgid(NOBODY, NOBODY, NOBODY) == 0);
		KT_CHILD_ASSERT(setresuid(NOBODY, NOBODY, NOBODY) == 0);
		/* Open /dev/kport and the inbox with the new credentials. */
		kt_dev_close();
		fd = kt_open_inbox(owner, KPORT_RIGHT_SEND, 0);
		KT_CHILD_ASSERT(fd >= 0);
		KT_CHILD_ASSERT(kt_send(fd, "nobody", 6, 0, 0, 0) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_reap(self->child[0], -1));

	ASSERT_EQ(6, kport_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
				&info));
	ASSERT_EQ(0, memcmp(buf, "nobody", 6));
	ASSERT_EQ((uid_t)NOBODY, info.uid);
	ASSERT_EQ(self->child[0], info.pid);
	self->child[0] = -1;
}

/* ---- Sender identity on ordinary ports ---------------------------------- */

TEST(named_port_receive_reports_sender_pid_and_uid)
{
	struct kport_msg m;
	char buf[MSG_SIZE];
	pid_t child;
	int fd;

	fd = kt_create_simple(NULL, 4, MSG_SIZE);
	ASSERT_LE(0, fd);
	child = kt_fork_sender(fd, "who", 3, 0, 0, 0);
	ASSERT_LT(0, child);
	ASSERT_EQ(0, kt_reap(child, -1));

	ASSERT_EQ(0, kt_send(fd, "me", 2, 0, 0, 0));
	ASSERT_EQ(3, kt_recv(fd, buf, sizeof(buf), 0, &m));
	ASSERT_EQ(child, m.pid);
	ASSERT_EQ(geteuid(), m.uid);
	ASSERT_EQ(2, kt_recv(fd, buf, sizeof(buf), 0, &m));
	ASSERT_EQ(getpid(), m.pid);
	ASSERT_EQ(geteuid(), m.uid);
	close(fd);
}

TEST_HARNESS_MAIN
