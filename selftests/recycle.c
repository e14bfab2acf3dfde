// SPDX-License-Identifier: GPL-2.0
/*
 * Recycled messages: small messages (header and payload within 256 bytes)
 * come from a cache of their own and, once received, wait on their port's
 * stash for the next send (kernel/queue.c, "Small messages").  Reusing the
 * memory must change nothing a user can see: a message carries exactly its
 * own bytes, sender and uid, whatever message used the memory before, and
 * the quota is charged per message in use.  That no stashed memory is left
 * behind after a delete or an unload is for kmemleak (make check-debug).
 */
#include "kport_test.h"

#include <sys/wait.h>

#define SMALL		160	/* payload of the largest small message */
#define BURST		300	/* more than a port's stash keeps (256) */
#define NOBODY		65534

FIXTURE(recycle) {
	int fd;
	char saved_quota[32];	/* max_user_bytes, when a test changed it */
};

FIXTURE_SETUP(recycle)
{
	self->saved_quota[0] = '\0';
	self->fd = kt_create(NULL, 0, KPORT_CAPACITY_UNBOUNDED, SMALL, 0666,
			     KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(recycle)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->saved_quota[0])
		EXPECT_EQ(0, kt_param_write("max_user_bytes", self->saved_quota));
}

/* Fill the stash: a burst of full-size messages, sent then received. */
static int burst(int fd, uint8_t byte)
{
	uint8_t buf[SMALL];
	int i, ret;

	memset(buf, byte, sizeof(buf));
	for (i = 0; i < BURST; i++) {
		ret = kt_send(fd, buf, sizeof(buf), 0, 0, 0);
		if (ret)
			return ret;
	}
	for (i = 0; i < BURST; i++) {
		ret = kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL);
		if (ret != SMALL)
			return ret < 0 ? ret : -EPROTO;
	}
	return 0;
}

TEST_F(recycle, a_recycled_message_carries_only_its_own_bytes)
{
	uint8_t out[SMALL], in[SMALL + 16];
	uint32_t len;
	int i;

	ASSERT_EQ(0, burst(self->fd, 0xaa));
	/* Every length from 0 to SMALL, each into memory that held 0xaa. */
	for (len = 0; len <= SMALL; len++) {
		kt_fill(out, len, len);
		ASSERT_EQ(0, kt_send(self->fd, out, len, 0, 0, 0));
	}
	for (len = 0; len <= SMALL; len++) {
		memset(in, 0x11, sizeof(in));
		ASSERT_EQ((int)len, kt_recv(self->fd, in, sizeof(in),
					    KPORT_MSG_NONBLOCK, NULL));
		ASSERT_EQ(0, kt_check_fill(in, len, len));
		for (i = len; i < (int)sizeof(in); i++)
			ASSERT_EQ(0x11, in[i]) TH_LOG("len %u: byte %d written", len, i);
	}
}

TEST_F(recycle, a_recycled_message_reports_its_own_sender_and_uid)
{
	struct kport_msg m;
	uint8_t buf[SMALL];
	pid_t pid;

	ASSERT_EQ(0, burst(self->fd, 0xaa));
	/* Another process of another user sends into the recycled memory. */
	pid = kt_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		KT_CHILD_ASSERT(setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
		KT_CHILD_ASSERT(kt_send(self->fd, "x", 1, 3, 0, 0) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_reap(pid, KT_TIMEOUT_MS));
	ASSERT_EQ(1, kt_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m));
	EXPECT_EQ(pid, m.pid);
	EXPECT_EQ(NOBODY, m.uid);
	EXPECT_EQ(3, m.priority);
	EXPECT_EQ('x', buf[0]);
	/* And ours again, after it. */
	ASSERT_EQ(0, kt_send(self->fd, "yz", 2, 0, 0, 0));
	ASSERT_EQ(2, kt_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m));
	EXPECT_EQ(getpid(), m.pid);
	EXPECT_EQ(getuid(), m.uid);
	EXPECT_EQ(0, m.priority);
}

/*
 * A batch receive remembers the sender's ids from one message to the next
 * (kernel/recv.c, struct kport_sender_ids): a batch mixing senders must
 * still report each message's own.
 */
TEST_F(recycle, a_batch_from_several_senders_reports_each_senders_ids)
{
	struct kport_msg m[6];
	struct kport_batch b;
	uint8_t bufs[6][SMALL];
	pid_t pids[3];
	int i;

	for (i = 0; i < 3; i++) {
		pids[i] = kt_fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			uint8_t v = (uint8_t)i;

			if (i == 1)
				KT_CHILD_ASSERT(setgid(NOBODY) == 0 &&
						setuid(NOBODY) == 0);
			KT_CHILD_ASSERT(kt_send(self->fd, &v, 1, 0, 0, 0) == 0);
			KT_CHILD_ASSERT(kt_send(self->fd, &v, 1, 0, 0, 0) == 0);
			_exit(0);
		}
		ASSERT_EQ(0, kt_reap(pids[i], KT_TIMEOUT_MS));
	}
	/* Queued in the order: 0, 0, 1, 1, 2, 2. */
	memset(m, 0, sizeof(m));
	for (i = 0; i < 6; i++) {
		m[i].buf = (uintptr_t)bufs[i];
		m[i].len = SMALL;
	}
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)m;
	b.count = 6;
	b.msg_size = sizeof(m[0]);
	b.flags = KPORT_MSG_NONBLOCK;
	ASSERT_EQ(6, kt_ioctl(self->fd, KPORT_IOC_RECVV, &b));
	for (i = 0; i < 6; i++) {
		EXPECT_EQ(1, m[i].len);
		EXPECT_EQ(i / 2, bufs[i][0]);
		EXPECT_EQ(pids[i / 2], m[i].pid);
		EXPECT_EQ(i / 2 == 1 ? NOBODY : getuid(), m[i].uid);
	}
}

/*
 * The quota counts messages in use, not stashed memory: a user whose
 * quota a burst filled can send as much again once it is received.
 */
TEST_F(recycle, stashed_memory_is_not_charged_to_anyone)
{
	uint8_t buf[SMALL];
	int i, n;

	if (geteuid())
		SKIP(return, "needs root to lower max_user_bytes");
	ASSERT_EQ(0, kt_param_read("max_user_bytes", self->saved_quota,
				   sizeof(self->saved_quota)));
	/* About 4000 messages: enough to need the stash many times over. */
	ASSERT_EQ(0, kt_param_set("max_user_bytes", 1 << 20));
	memset(buf, 0x5a, sizeof(buf));
	/* Fill to ENOBUFS... */
	for (n = 0; n < 1 << 20; n++) {
		int ret = kt_send(self->fd, buf, sizeof(buf), 0, 0, 0);

		if (ret == -ENOBUFS)
			break;
		ASSERT_EQ(0, ret);
	}
	ASSERT_LT(BURST, n) TH_LOG("the quota took only %d messages", n);
	for (i = 0; i < n; i++)
		ASSERT_EQ(SMALL, kt_recv(self->fd, buf, sizeof(buf),
					 KPORT_MSG_NONBLOCK, NULL));
	/* ...then exactly as many fit again, through the stash. */
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, kt_send(self->fd, buf, sizeof(buf), 0, 0, 0))
			TH_LOG("message %d of %d", i, n);
	ASSERT_EQ(-ENOBUFS, kt_send(self->fd, buf, sizeof(buf), 0, 0, 0));
	for (i = 0; i < n; i++)
		ASSERT_EQ(SMALL, kt_recv(self->fd, buf, sizeof(buf),
					 KPORT_MSG_NONBLOCK, NULL));
}

TEST_F(recycle, a_deleted_port_with_a_full_stash_goes_cleanly)
{
	uint8_t buf[SMALL];

	ASSERT_EQ(0, burst(self->fd, 0xaa));
	ASSERT_EQ(0, kt_delete(self->fd));
	ASSERT_EQ(-EIDRM, kt_send(self->fd, buf, 1, 0, 0, 0));
	close(self->fd);
	self->fd = -1;
}

TEST_HARNESS_MAIN
