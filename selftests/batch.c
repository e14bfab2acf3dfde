// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftests: several messages in one call (KPORT_IOC_SENDV/RECVV).
 *
 * A batch behaves as that many single calls in a row, except that only
 * the first may wait and the batch stops at the first message that cannot
 * be done, reporting how many were.
 */
#include "kport_test.h"
#include "kport.h"

#define BATCH_MSG 32

struct batch_bufs {
	struct kport_msg m[KPORT_BATCH_MAX];
	char data[KPORT_BATCH_MAX][BATCH_MSG];
};

static int batch_call(int fd, unsigned long cmd, struct kport_msg *m,
		      uint32_t count, uint64_t flags, uint64_t deadline)
{
	struct kport_batch b;

	memset(&b, 0, sizeof(b));
	b.flags = flags;
	b.msgs = (uintptr_t)m;
	b.count = count;
	b.msg_size = sizeof(*m);
	if (flags & KPORT_MSG_DEADLINE)
		b.deadline_ns = deadline;
	return kt_ioctl(fd, cmd, &b);
}

/* Element i carries "msg <base + i>" (len 1 + its digits). */
static void batch_fill_send(struct batch_bufs *bb, uint32_t count,
			    uint32_t base)
{
	uint32_t i;

	memset(bb->m, 0, sizeof(bb->m[0]) * count);
	for (i = 0; i < count; i++) {
		int n = snprintf(bb->data[i], BATCH_MSG, "msg %u", base + i);

		bb->m[i].buf = (uintptr_t)bb->data[i];
		bb->m[i].len = n + 1;
	}
}

static void batch_fill_recv(struct batch_bufs *bb, uint32_t count)
{
	uint32_t i;

	memset(bb->m, 0, sizeof(bb->m[0]) * count);
	memset(bb->data, 0, sizeof(bb->data[0]) * count);
	for (i = 0; i < count; i++) {
		bb->m[i].buf = (uintptr_t)bb->data[i];
		bb->m[i].len = BATCH_MSG;
	}
}

FIXTURE(batch) {
	char name[KPORT_NAME_MAX];
	int fd;
	struct batch_bufs *bb;
};

FIXTURE_SETUP(batch)
{
	kt_name(self->name, _metadata->name);
	self->fd = kt_create_simple(self->name, 8, BATCH_MSG);
	ASSERT_LE(0, self->fd);
	self->bb = calloc(1, sizeof(*self->bb));
	ASSERT_NE(NULL, self->bb);
}

FIXTURE_TEARDOWN(batch)
{
	free(self->bb);
	if (self->fd >= 0)
		close(self->fd);
	kt_unlink(self->name);
}

TEST_F(batch, version_reports_the_batch_feature)
{
	struct kport_version v;

	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, kt_ioctl(kt_dev(), KPORT_IOC_VERSION, &v));
	ASSERT_TRUE(v.features & KPORT_FEAT_BATCH);
}

TEST_F(batch, sendv_sends_every_message_in_order)
{
	char buf[BATCH_MSG];
	uint32_t i;

	batch_fill_send(self->bb, 6, 0);
	ASSERT_EQ(6, batch_call(self->fd, KPORT_IOC_SENDV, self->bb->m, 6, 0, 0));
	for (i = 0; i < 6; i++) {
		char want[BATCH_MSG];
		int n = snprintf(want, sizeof(want), "msg %u", i) + 1;

		ASSERT_EQ(n, kt_recv(self->fd, buf, sizeof(buf),
				     KPORT_MSG_NONBLOCK, NULL));
		ASSERT_STREQ(want, buf);
	}
}

TEST_F(batch, recvv_receives_in_order_and_reports_each_sender)
{
	uint32_t i;

	batch_fill_send(self->bb, 5, 10);
	ASSERT_EQ(5, batch_call(self->fd, KPORT_IOC_SENDV, self->bb->m, 5, 0, 0));
	batch_fill_recv(self->bb, 5);
	ASSERT_EQ(5, batch_call(self->fd, KPORT_IOC_RECVV, self->bb->m, 5,
				KPORT_MSG_NONBLOCK, 0));
	for (i = 0; i < 5; i++) {
		char want[BATCH_MSG];
		int n = snprintf(want, sizeof(want), "msg %u", 10 + i) + 1;

		ASSERT_EQ((uint32_t)n, self->bb->m[i].len);
		ASSERT_STREQ(want, self->bb->data[i]);
		ASSERT_EQ(getpid(), self->bb->m[i].pid);
		ASSERT_EQ(geteuid(), self->bb->m[i].uid);
		/* The kernel does not add NONBLOCK to the elements. */
		ASSERT_EQ(0, self->bb->m[i].flags);
	}
}

TEST_F(batch, sendv_stops_when_the_port_is_full_and_reports_how_many)
{
	struct kport_stat st;

	batch_fill_send(self->bb, 12, 0);
	/* Capacity 8: the first 8 fit, the 9th would wait and is not sent. */
	ASSERT_EQ(8, batch_call(self->fd, KPORT_IOC_SENDV, self->bb->m, 12, 0, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(8, st.nr_msgs);
	ASSERT_EQ(8, st.sent);
}

TEST_F(batch, nonblocking_sendv_to_a_full_port_fails_with_EAGAIN)
{
	struct kport_stat st;

	batch_fill_send(self->bb, 8, 0);
	ASSERT_EQ(8, batch_call(self->fd, KPORT_IOC_SENDV, self->bb->m, 8, 0, 0));
	ASSERT_EQ(-EAGAIN, batch_call(self->fd, KPORT_IOC_SENDV, self->bb->m, 3,
				      KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(8, st.nr_msgs);
}

TEST_F(batch, recvv_returns_what_is_there_without_waiting_for_more)
{
	batch_fill_send(self->bb, 3, 0);
	ASSERT_EQ(3, batch_call(self->fd, KPORT_IOC_SENDV, self->bb->m, 3, 0, 0));
	batch_fill_recv(self->bb, 16);
	/* Blocking batch: waits for the first only, then takes what is queued. */
	ASSERT_EQ(3, batch_call(self->fd, KPORT_IOC_RECVV, self->bb->m, 16, 0, 0));
	ASSERT_STREQ("msg 2", self->bb->data[2]);
}

TEST_F(batch, nonblocking_recvv_on_an_empty_port_fails_with_EAGAIN)
{
	batch_fill_recv(self->bb, 4);
	ASSERT_EQ(-EAGAIN, batch_call(self->fd, KPORT_IOC_RECVV, self->bb->m, 4,
				      KPORT_MSG_NONBLOCK, 0));
}

TEST_F(batch, recvv_deadline_applies_to_the_first_message)
{
	uint64_t start = kt_now_ns();

	batch_fill_recv(self->bb, 4);
	ASSERT_EQ(-ETIMEDOUT, batch_call(self->fd, KPORT_IOC_RECVV, self->bb->m, 4,
					 KPORT_MSG_DEADLINE,
					 kt_deadline_ms(100)));
	ASSERT_LE(start + 100 * KT_NSEC_PER_MSEC, kt_now_ns());
}

TEST_F(batch, blocking_recvv_is_woken_by_a_single_send)
{
	pid_t pid;

	pid = kt_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kport_msg m[4];
		char data[4][BATCH_MSG];
		int i, n;

		memset(m, 0, sizeof(m));
		for (i = 0; i < 4; i++) {
			m[i].buf = (uintptr_t)data[i];
			m[i].len = BATCH_MSG;
		}
		n = batch_call(self->fd, KPORT_IOC_RECVV, m, 4,
			       KPORT_MSG_DEADLINE, kt_deadline_ms(KT_TIMEOUT_MS));
		KT_CHILD_ASSERT(n == 1);
		KT_CHILD_ASSERT(!strcmp(data[0], "late"));
		_exit(0);
	}
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));
	ASSERT_EQ(0, kt_send(self->fd, "late", 5, 0, 0, 0));
	ASSERT_EQ(0, kt_reap(pid, -1));
}

TEST_F(batch, recvv_stops_at_a_message_too_big_and_keeps_it)
{
	char big[BATCH_MSG];
	struct kport_stat st;

	memset(big, 'x', sizeof(big));
	ASSERT_EQ(0, kt_send(self->fd, "a", 2, 0, 0, 0));
	ASSERT_EQ(0, kt_send(self->fd, big, sizeof(big), 0, 0, 0));
	batch_fill_recv(self->bb, 2);
	self->bb->m[1].len = 4;
	ASSERT_EQ(1, batch_call(self->fd, KPORT_IOC_RECVV, self->bb->m, 2,
				KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(1, st.nr_msgs);
	/* As the first element, the same message reports its size. */
	batch_fill_recv(self->bb, 1);
	self->bb->m[0].len = 4;
	ASSERT_EQ(-EMSGSIZE, batch_call(self->fd, KPORT_IOC_RECVV, self->bb->m, 1,
					KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(BATCH_MSG, self->bb->m[0].len);
}

TEST_F(batch, sendv_stops_at_an_invalid_element_and_sends_those_before)
{
	struct kport_stat st;

	batch_fill_send(self->bb, 4, 0);
	self->bb->m[2].priority = KPORT_PRIO_MAX;
	ASSERT_EQ(2, batch_call(self->fd, KPORT_IOC_SENDV, self->bb->m, 4, 0, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(2, st.nr_msgs);
}

TEST_F(batch, elements_may_not_carry_their_own_waiting_flags)
{
	struct kport_stat st;

	batch_fill_send(self->bb, 2, 0);
	self->bb->m[0].flags = KPORT_MSG_NONBLOCK;
	ASSERT_EQ(-EINVAL, batch_call(self->fd, KPORT_IOC_SENDV, self->bb->m, 2,
				      0, 0));
	batch_fill_send(self->bb, 2, 0);
	self->bb->m[0].flags = KPORT_MSG_DEADLINE;
	self->bb->m[0].deadline_ns = kt_deadline_ms(10);
	ASSERT_EQ(-EINVAL, batch_call(self->fd, KPORT_IOC_SENDV, self->bb->m, 2,
				      0, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(0, st.nr_msgs);
}

TEST_F(batch, bad_batches_fail_with_EINVAL_and_send_nothing)
{
	struct kport_batch b;
	struct kport_stat st;

	batch_fill_send(self->bb, 2, 0);
	ASSERT_EQ(-EINVAL, batch_call(self->fd, KPORT_IOC_SENDV, self->bb->m, 0, 0, 0));
	ASSERT_EQ(-EINVAL, batch_call(self->fd, KPORT_IOC_SENDV, self->bb->m,
				      KPORT_BATCH_MAX + 1, 0, 0));
	ASSERT_EQ(-EINVAL, batch_call(self->fd, KPORT_IOC_SENDV, self->bb->m, 2,
				      1ULL << 40, 0));

	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)self->bb->m;
	b.count = 2;
	b.msg_size = KPORT_MSG_SIZE_VER0 - 8;
	ASSERT_EQ(-EINVAL, kt_ioctl(self->fd, KPORT_IOC_SENDV, &b));
	b.msg_size = sizeof(struct kport_msg);
	b.__reserved[3] = 1;
	ASSERT_EQ(-EINVAL, kt_ioctl(self->fd, KPORT_IOC_SENDV, &b));
	b.__reserved[3] = 0;
	b.deadline_ns = 1;
	ASSERT_EQ(-EINVAL, kt_ioctl(self->fd, KPORT_IOC_SENDV, &b));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(0, st.nr_msgs);
}

TEST_F(batch, a_bad_array_pointer_fails_with_EFAULT)
{
	ASSERT_EQ(-EFAULT, batch_call(self->fd, KPORT_IOC_SENDV, NULL, 2, 0, 0));
	ASSERT_EQ(-EFAULT, batch_call(self->fd, KPORT_IOC_RECVV, NULL, 2,
				      KPORT_MSG_NONBLOCK, 0));
}

TEST_F(batch, a_larger_element_stride_with_zero_tails_is_accepted)
{
	struct big_msg {
		struct kport_msg m;
		uint64_t tail;
	} bm[3];
	struct kport_batch b;
	char data[3][8] = { "one", "two", "six" };
	int i;

	memset(bm, 0, sizeof(bm));
	for (i = 0; i < 3; i++) {
		bm[i].m.buf = (uintptr_t)data[i];
		bm[i].m.len = 4;
	}
	memset(&b, 0, sizeof(b));
	b.msgs = (uintptr_t)bm;
	b.count = 3;
	b.msg_size = sizeof(bm[0]);
	ASSERT_EQ(3, kt_ioctl(self->fd, KPORT_IOC_SENDV, &b));
	/* Element 1's unknown tail is not zero: the batch stops before it. */
	bm[1].tail = 1;
	ASSERT_EQ(1, kt_ioctl(self->fd, KPORT_IOC_SENDV, &b));
	bm[0].tail = 1;
	ASSERT_EQ(-E2BIG, kt_ioctl(self->fd, KPORT_IOC_SENDV, &b));
}

TEST_F(batch, rights_are_enforced)
{
	int rfd, sfd;

	rfd = kt_open(self->name, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, rfd);
	sfd = kt_open(self->name, KPORT_RIGHT_SEND, 0);
	ASSERT_LE(0, sfd);
	batch_fill_send(self->bb, 1, 0);
	ASSERT_EQ(-EBADF, batch_call(rfd, KPORT_IOC_SENDV, self->bb->m, 1, 0, 0));
	ASSERT_EQ(-EBADF, batch_call(sfd, KPORT_IOC_RECVV, self->bb->m, 1,
				     KPORT_MSG_NONBLOCK, 0));
	close(rfd);
	close(sfd);
}

TEST_F(batch, a_full_batch_of_KPORT_BATCH_MAX_moves_every_message)
{
	char name[KPORT_NAME_MAX];
	uint32_t i;
	int fd;

	kt_name(name, "batchmax");
	fd = kt_create(name, 0, KPORT_CAPACITY_UNBOUNDED, BATCH_MSG, 0600,
		       KPORT_RIGHTS_ALL);
	ASSERT_LE(0, fd);
	batch_fill_send(self->bb, KPORT_BATCH_MAX, 0);
	ASSERT_EQ(KPORT_BATCH_MAX, batch_call(fd, KPORT_IOC_SENDV, self->bb->m,
					      KPORT_BATCH_MAX, 0, 0));
	batch_fill_recv(self->bb, KPORT_BATCH_MAX);
	ASSERT_EQ(KPORT_BATCH_MAX, batch_call(fd, KPORT_IOC_RECVV, self->bb->m,
					      KPORT_BATCH_MAX,
					      KPORT_MSG_NONBLOCK, 0));
	for (i = 0; i < KPORT_BATCH_MAX; i++) {
		char want[BATCH_MSG];

		snprintf(want, sizeof(want), "msg %u", i);
		ASSERT_STREQ(want, self->bb->data[i]);
	}
	close(fd);
	kt_unlink(name);
}

TEST_F(batch, library_sendv_and_recvv_move_a_batch)
{
	batch_fill_send(self->bb, 4, 100);
	ASSERT_EQ(4, kport_sendv(self->fd, self->bb->m, 4, 0));
	batch_fill_recv(self->bb, 6);
	ASSERT_EQ(4, kport_recvv(self->fd, self->bb->m, 6, KPORT_MSG_NONBLOCK));
	ASSERT_STREQ("msg 103", self->bb->data[3]);
	ASSERT_EQ(-EAGAIN, kport_recvv(self->fd, self->bb->m, 6,
				       KPORT_MSG_NONBLOCK));
	ASSERT_EQ(-EINVAL, kport_recvv(self->fd, self->bb->m, 6,
				       KPORT_MSG_DEADLINE));
}

TEST_HARNESS_MAIN
