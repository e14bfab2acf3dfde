// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftests: several messages in one call (KPORT_IOC_SENDV/RECVV).
 *
 * A batch behaves as that many single calls in a row, except that only
 * the first may wait and the batch stops at the first message that cannot
 * be done, reporting how many were.
 */
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kport_test.h"
#include "kport.h"

#define BATCH_MSG 32

struct batch_bufs {
	struct kport_msg m[KPORT_BATCH_MAX];
	char data[KPORT_BATCH_MAX][BATCH_MSG];
};

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
	ASSERT_EQ(6, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m, 6, 0, 0));
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
	ASSERT_EQ(5, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m, 5, 0, 0));
	batch_fill_recv(self->bb, 5);
	ASSERT_EQ(5, kt_batch(self->fd, KPORT_IOC_RECVV, self->bb->m, 5,
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
	ASSERT_EQ(8, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m, 12, 0, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(8, st.nr_msgs);
	ASSERT_EQ(8, st.sent);
}

TEST_F(batch, nonblocking_sendv_to_a_full_port_fails_with_EAGAIN)
{
	struct kport_stat st;

	batch_fill_send(self->bb, 8, 0);
	ASSERT_EQ(8, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m, 8, 0, 0));
	ASSERT_EQ(-EAGAIN, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m, 3,
				    KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(8, st.nr_msgs);
}

TEST_F(batch, recvv_returns_what_is_there_without_waiting_for_more)
{
	batch_fill_send(self->bb, 3, 0);
	ASSERT_EQ(3, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m, 3, 0, 0));
	batch_fill_recv(self->bb, 16);
	/* Blocking batch: waits for the first only, then takes what is queued. */
	ASSERT_EQ(3, kt_batch(self->fd, KPORT_IOC_RECVV, self->bb->m, 16, 0, 0));
	ASSERT_STREQ("msg 2", self->bb->data[2]);
}

TEST_F(batch, nonblocking_recvv_on_an_empty_port_fails_with_EAGAIN)
{
	batch_fill_recv(self->bb, 4);
	ASSERT_EQ(-EAGAIN, kt_batch(self->fd, KPORT_IOC_RECVV, self->bb->m, 4,
				    KPORT_MSG_NONBLOCK, 0));
}

TEST_F(batch, recvv_deadline_applies_to_the_first_message)
{
	uint64_t start = kt_now_ns();

	batch_fill_recv(self->bb, 4);
	ASSERT_EQ(-ETIMEDOUT, kt_batch(self->fd, KPORT_IOC_RECVV, self->bb->m, 4,
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
		n = kt_batch(self->fd, KPORT_IOC_RECVV, m, 4,
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
	ASSERT_EQ(1, kt_batch(self->fd, KPORT_IOC_RECVV, self->bb->m, 2,
			      KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(1, st.nr_msgs);
	/* As the first element, the same message reports its size. */
	batch_fill_recv(self->bb, 1);
	self->bb->m[0].len = 4;
	ASSERT_EQ(-EMSGSIZE, kt_batch(self->fd, KPORT_IOC_RECVV, self->bb->m, 1,
				      KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(BATCH_MSG, self->bb->m[0].len);
}

TEST_F(batch, sendv_stops_at_an_invalid_element_and_sends_those_before)
{
	struct kport_stat st;

	batch_fill_send(self->bb, 4, 0);
	self->bb->m[2].priority = KPORT_PRIO_MAX;
	ASSERT_EQ(2, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m, 4, 0, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(2, st.nr_msgs);
}

TEST_F(batch, elements_may_not_carry_their_own_waiting_flags)
{
	struct kport_stat st;

	batch_fill_send(self->bb, 2, 0);
	self->bb->m[0].flags = KPORT_MSG_NONBLOCK;
	ASSERT_EQ(-EINVAL, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m, 2,
				    0, 0));
	batch_fill_send(self->bb, 2, 0);
	self->bb->m[0].flags = KPORT_MSG_DEADLINE;
	self->bb->m[0].deadline_ns = kt_deadline_ms(10);
	ASSERT_EQ(-EINVAL, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m, 2,
				    0, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(0, st.nr_msgs);
}

TEST_F(batch, bad_batches_fail_with_EINVAL_and_send_nothing)
{
	struct kport_batch b;
	struct kport_stat st;

	batch_fill_send(self->bb, 2, 0);
	ASSERT_EQ(-EINVAL, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m, 0, 0, 0));
	ASSERT_EQ(-EINVAL, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m,
				    KPORT_BATCH_MAX + 1, 0, 0));
	ASSERT_EQ(-EINVAL, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m, 2,
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
	ASSERT_EQ(-EFAULT, kt_batch(self->fd, KPORT_IOC_SENDV, NULL, 2, 0, 0));
	ASSERT_EQ(-EFAULT, kt_batch(self->fd, KPORT_IOC_RECVV, NULL, 2,
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
	ASSERT_EQ(-EBADF, kt_batch(rfd, KPORT_IOC_SENDV, self->bb->m, 1, 0, 0));
	ASSERT_EQ(-EBADF, kt_batch(sfd, KPORT_IOC_RECVV, self->bb->m, 1,
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
	ASSERT_EQ(KPORT_BATCH_MAX, kt_batch(fd, KPORT_IOC_SENDV, self->bb->m,
					    KPORT_BATCH_MAX, 0, 0));
	batch_fill_recv(self->bb, KPORT_BATCH_MAX);
	ASSERT_EQ(KPORT_BATCH_MAX, kt_batch(fd, KPORT_IOC_RECVV, self->bb->m,
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

/*
 * After its first message a batch goes in chunks (16 in the kernel): one
 * lock for a chunk's messages.  These cross chunk boundaries on purpose.
 */
#define BATCH_LONG 40

/* Priority of element i: a mix, so that the queue must reorder. */
static uint32_t batch_prio(uint32_t i)
{
	return (i * 7) % 3;
}

/* A port with room for BATCH_LONG messages. */
FIXTURE(chunk) {
	char name[KPORT_NAME_MAX];
	int fd;
	struct batch_bufs *bb;
};

FIXTURE_SETUP(chunk)
{
	kt_name(self->name, _metadata->name);
	self->fd = kt_create_simple(self->name, BATCH_LONG, BATCH_MSG);
	ASSERT_LE(0, self->fd);
	self->bb = calloc(1, sizeof(*self->bb));
	ASSERT_NE(NULL, self->bb);
}

FIXTURE_TEARDOWN(chunk)
{
	free(self->bb);
	if (self->fd >= 0)
		close(self->fd);
	kt_unlink(self->name);
}

/* Queue "msg 0" .. "msg 39" with one SENDV. */
static int chunk_fill(FIXTURE_DATA(chunk) *self)
{
	batch_fill_send(self->bb, BATCH_LONG, 0);
	return kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m, BATCH_LONG,
			0, 0);
}

TEST_F(chunk, chunks_keep_priority_and_fifo_order_across_chunk_boundaries)
{
	char want[BATCH_MSG];
	uint32_t i, k = 0;
	int p;

	batch_fill_send(self->bb, BATCH_LONG, 0);
	for (i = 0; i < BATCH_LONG; i++)
		self->bb->m[i].priority = batch_prio(i);
	ASSERT_EQ(BATCH_LONG, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m,
				       BATCH_LONG, 0, 0));
	batch_fill_recv(self->bb, BATCH_LONG);
	ASSERT_EQ(BATCH_LONG, kt_batch(self->fd, KPORT_IOC_RECVV, self->bb->m,
				       BATCH_LONG, KPORT_MSG_NONBLOCK, 0));
	/* Highest priority first, and in send order within a priority. */
	for (p = 2; p >= 0; p--) {
		for (i = 0; i < BATCH_LONG; i++) {
			if (batch_prio(i) != (uint32_t)p)
				continue;
			snprintf(want, sizeof(want), "msg %u", i);
			ASSERT_STREQ(want, self->bb->data[k]);
			ASSERT_EQ((uint32_t)p, self->bb->m[k].priority);
			ASSERT_EQ(getpid(), self->bb->m[k].pid);
			k++;
		}
	}
	ASSERT_EQ(BATCH_LONG, k);
}

TEST_F(batch, sendv_fills_a_port_mid_chunk_and_frees_what_it_did_not_send)
{
	struct kport_stat st, before;
	char name[KPORT_NAME_MAX];
	int fd;

	kt_name(name, "chunkfull");
	fd = kt_create_simple(name, 21, BATCH_MSG);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_stat(fd, &before));
	batch_fill_send(self->bb, BATCH_LONG, 0);
	/* 1 + 16 + 4 of the next chunk fit. */
	ASSERT_EQ(21, kt_batch(fd, KPORT_IOC_SENDV, self->bb->m, BATCH_LONG,
			       0, 0));
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(21, st.nr_msgs);
	ASSERT_EQ(21, st.sent);
	batch_fill_recv(self->bb, BATCH_LONG);
	ASSERT_EQ(21, kt_batch(fd, KPORT_IOC_RECVV, self->bb->m, BATCH_LONG,
			       KPORT_MSG_NONBLOCK, 0));
	ASSERT_STREQ("msg 20", self->bb->data[20]);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(0, st.nr_msgs);
	ASSERT_EQ(0, st.bytes);
	close(fd);
	kt_unlink(name);
}

TEST_F(chunk, a_receive_fault_mid_chunk_keeps_the_rest_in_order)
{
	char want[BATCH_MSG];
	struct kport_stat st;
	uint32_t i;

	ASSERT_EQ(BATCH_LONG, chunk_fill(self));
	/* Element 9 (in the first chunk after the first message) faults. */
	batch_fill_recv(self->bb, BATCH_LONG);
	self->bb->m[9].buf = 8;
	ASSERT_EQ(9, kt_batch(self->fd, KPORT_IOC_RECVV, self->bb->m, BATCH_LONG,
			      KPORT_MSG_NONBLOCK, 0));
	ASSERT_STREQ("msg 8", self->bb->data[8]);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(BATCH_LONG - 9, st.nr_msgs);
	ASSERT_EQ(9, st.received);
	/* The first element of a chunk faulting: the batch stops there too. */
	batch_fill_recv(self->bb, BATCH_LONG);
	self->bb->m[1].buf = 8;
	ASSERT_EQ(1, kt_batch(self->fd, KPORT_IOC_RECVV, self->bb->m, BATCH_LONG,
			      KPORT_MSG_NONBLOCK, 0));
	ASSERT_STREQ("msg 9", self->bb->data[0]);
	/* Nothing lost, nothing reordered. */
	batch_fill_recv(self->bb, BATCH_LONG);
	ASSERT_EQ(BATCH_LONG - 10, kt_batch(self->fd, KPORT_IOC_RECVV, self->bb->m,
					    BATCH_LONG, KPORT_MSG_NONBLOCK,
					    0));
	for (i = 0; i < BATCH_LONG - 10; i++) {
		snprintf(want, sizeof(want), "msg %u", 10 + i);
		ASSERT_STREQ(want, self->bb->data[i]);
	}
}

TEST_F(chunk, a_send_fault_mid_chunk_sends_those_before_it)
{
	struct kport_stat st;

	batch_fill_send(self->bb, BATCH_LONG, 0);
	self->bb->m[20].buf = 8;
	ASSERT_EQ(20, kt_batch(self->fd, KPORT_IOC_SENDV, self->bb->m, BATCH_LONG,
			       0, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(20, st.nr_msgs);
	batch_fill_recv(self->bb, BATCH_LONG);
	ASSERT_EQ(20, kt_batch(self->fd, KPORT_IOC_RECVV, self->bb->m, BATCH_LONG,
			       KPORT_MSG_NONBLOCK, 0));
	ASSERT_STREQ("msg 19", self->bb->data[19]);
}

TEST_F(chunk, recvv_reports_the_size_of_a_too_big_message_mid_chunk)
{
	struct kport_stat st;

	ASSERT_EQ(BATCH_LONG, chunk_fill(self));
	batch_fill_recv(self->bb, BATCH_LONG);
	self->bb->m[25].len = 2;
	ASSERT_EQ(25, kt_batch(self->fd, KPORT_IOC_RECVV, self->bb->m, BATCH_LONG,
			       KPORT_MSG_NONBLOCK, 0));
	/* "msg 25" and its NUL: what the element would need. */
	ASSERT_EQ(7, self->bb->m[25].len);
	ASSERT_EQ(0, self->bb->data[25][0]);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(BATCH_LONG - 25, st.nr_msgs);
}

TEST_F(chunk, filtered_and_plain_elements_mix_in_one_recvv)
{
	char want[BATCH_MSG];
	uint32_t i;

	ASSERT_EQ(BATCH_LONG, chunk_fill(self));
	batch_fill_recv(self->bb, BATCH_LONG);
	/* Every fifth element only takes our own messages: all of them. */
	for (i = 0; i < BATCH_LONG; i += 5) {
		self->bb->m[i].flags = KPORT_MSG_FROM_PID;
		self->bb->m[i].pid = getpid();
	}
	ASSERT_EQ(BATCH_LONG, kt_batch(self->fd, KPORT_IOC_RECVV, self->bb->m,
				       BATCH_LONG, KPORT_MSG_NONBLOCK, 0));
	for (i = 0; i < BATCH_LONG; i++) {
		snprintf(want, sizeof(want), "msg %u", i);
		ASSERT_STREQ(want, self->bb->data[i]);
	}
}

TEST_F(batch, pool_sized_and_small_messages_mix_in_one_sendv)
{
	struct kport_version v;
	uint32_t i, big;
	char *data;
	int fd;

	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, kt_ioctl(kt_dev(), KPORT_IOC_VERSION, &v));
	big = v.pool_threshold + 1;
	data = calloc(BATCH_LONG, big);
	ASSERT_NE(NULL, data);
	fd = kt_create_pool(NULL, 0, BATCH_LONG, big, 4 << 20);
	ASSERT_LE(0, fd);
	/* Every third message goes through the pool, one at a time. */
	memset(self->bb->m, 0, sizeof(self->bb->m[0]) * BATCH_LONG);
	for (i = 0; i < BATCH_LONG; i++) {
		kt_fill(data + (size_t)i * big, big, i);
		self->bb->m[i].buf = (uintptr_t)(data + (size_t)i * big);
		self->bb->m[i].len = i % 3 ? 16 : big;
	}
	ASSERT_EQ(BATCH_LONG, kt_batch(fd, KPORT_IOC_SENDV, self->bb->m,
				       BATCH_LONG, 0, 0));
	memset(data, 0, (size_t)BATCH_LONG * big);
	for (i = 0; i < BATCH_LONG; i++) {
		self->bb->m[i].len = big;
		self->bb->m[i].priority = 0;
	}
	ASSERT_EQ(BATCH_LONG, kt_batch(fd, KPORT_IOC_RECVV, self->bb->m,
				       BATCH_LONG, KPORT_MSG_NONBLOCK, 0));
	for (i = 0; i < BATCH_LONG; i++) {
		uint32_t len = i % 3 ? 16 : big;

		ASSERT_EQ(len, self->bb->m[i].len);
		ASSERT_EQ(0, kt_check_fill(data + (size_t)i * big, len, i));
	}
	free(data);
	close(fd);
}

/*
 * A receive that faults puts its messages back and wakes every waiting
 * receiver to look again: none may sleep on while messages are queued.
 * A batch receiver whose every second element faults races a blocking
 * receiver; every message arrives once, and nobody waits for nothing.
 */
TEST_F(batch, faulting_batches_racing_a_blocked_receiver_lose_nothing)
{
	const uint32_t total = 2000;
	char name[KPORT_NAME_MAX];
	uint32_t *seen, i, got = 0, v;
	struct kport_msg m[2];
	int fd, ret, status;
	pid_t pid;

	kt_name(name, "chunkrace");
	fd = kt_create_simple(name, 64, sizeof(uint32_t));
	ASSERT_LE(0, fd);
	seen = kt_shared_alloc(total * sizeof(*seen));
	ASSERT_NE(NULL, seen);
	pid = kt_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The blocking receiver: a lost wake-up shows as a timeout. */
		for (;;) {
			ret = kt_recv_ex(fd, &v, sizeof(v), KPORT_MSG_DEADLINE,
					 0, kt_deadline_ms(10000), NULL);
			if (ret != sizeof(v))
				_exit(ret == -EIDRM ? 0 : 1);
			if (v == UINT32_MAX)
				_exit(0);
			KT_CHILD_ASSERT(v < total);
			__atomic_fetch_add(&seen[v], 1, __ATOMIC_RELAXED);
		}
	}
	for (i = 0; i < total; i++) {
		ASSERT_EQ(0, kt_send_u32(fd, i, 0));
		if (i % 2)
			continue;
		memset(m, 0, sizeof(m));
		m[0].buf = (uintptr_t)&v;
		m[0].len = sizeof(v);
		m[1].buf = 8;
		m[1].len = sizeof(v);
		ret = kt_batch(fd, KPORT_IOC_RECVV, m, 2, KPORT_MSG_NONBLOCK,
			       0);
		ASSERT_TRUE(ret == 1 || ret == -EAGAIN);
		if (ret == 1) {
			ASSERT_GT(total, v);
			__atomic_fetch_add(&seen[v], 1, __ATOMIC_RELAXED);
		}
	}
	ASSERT_EQ(0, kt_send_u32(fd, UINT32_MAX, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	for (i = 0; i < total; i++) {
		ASSERT_EQ(1, seen[i]);
		got++;
	}
	ASSERT_EQ(total, got);
	close(fd);
	kt_unlink(name);
}

/*
 * The same, made certain: the batch receiver takes two messages, then
 * blocks copying the second out (its buffer is a userfaultfd page), so the
 * port is empty while a second receiver starts to wait.  The copy is then
 * made to fault: the message put back must wake that receiver.
 */
struct batch_uffd_recv {
	int fd;
	struct kport_msg m[2];
	char first[BATCH_MSG];
	int ret;
};

static void *batch_uffd_receiver(void *arg)
{
	struct batch_uffd_recv *r = arg;

	r->ret = kt_batch(r->fd, KPORT_IOC_RECVV, r->m, 2,
			  KPORT_MSG_NONBLOCK, 0);
	return NULL;
}

struct batch_waiter {
	int fd;
	char buf[BATCH_MSG];
	int ret;
};

static void *batch_waiter(void *arg)
{
	struct batch_waiter *w = arg;

	w->ret = kt_recv_ex(w->fd, w->buf, sizeof(w->buf), KPORT_MSG_DEADLINE,
			    0, kt_deadline_ms(10000), NULL);
	return NULL;
}

TEST_F(batch, a_message_put_back_after_a_fault_wakes_a_waiting_receiver)
{
	struct uffdio_register reg;
	struct uffdio_api api;
	struct uffdio_range range;
	struct batch_uffd_recv r;
	struct batch_waiter w;
	struct uffd_msg ev;
	pthread_t rt, wt;
	struct pollfd pfd;
	long page = sysconf(_SC_PAGESIZE);
	char *area;
	int uffd;

	uffd = (int)syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	memset(&api, 0, sizeof(api));
	api.api = UFFD_API;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	area = mmap(NULL, page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)area;
	reg.range.len = page;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	ASSERT_EQ(0, kt_send(self->fd, "one", 4, 0, 0, 0));
	ASSERT_EQ(0, kt_send(self->fd, "two", 4, 0, 0, 0));
	memset(&r, 0, sizeof(r));
	r.fd = self->fd;
	r.m[0].buf = (uintptr_t)r.first;
	r.m[0].len = BATCH_MSG;
	r.m[1].buf = (uintptr_t)area;
	r.m[1].len = BATCH_MSG;
	ASSERT_EQ(0, pthread_create(&rt, NULL, batch_uffd_receiver, &r));

	/* The batch receiver is stuck copying "two" out: the port is empty. */
	pfd.fd = uffd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(sizeof(ev), read(uffd, &ev, sizeof(ev)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, ev.event);
	memset(&w, 0, sizeof(w));
	w.fd = self->fd;
	ASSERT_EQ(0, pthread_create(&wt, NULL, batch_waiter, &w));
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));

	/* Now the copy faults for good. */
	ASSERT_EQ(0, mprotect(area, page, PROT_NONE));
	range.start = (uintptr_t)area;
	range.len = page;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_WAKE, &range));
	ASSERT_EQ(0, pthread_join(rt, NULL));
	ASSERT_EQ(1, r.ret);
	ASSERT_STREQ("one", r.first);
	ASSERT_EQ(0, pthread_join(wt, NULL));
	ASSERT_EQ(4, w.ret);
	ASSERT_STREQ("two", w.buf);
	munmap(area, page);
	close(uffd);
}

/*
 * Past its first message, a send chunk takes at most 64 KiB of payload
 * (and one message of any size): large messages cross chunks by bytes.
 */
TEST_F(batch, large_messages_cross_chunks_by_bytes_in_order)
{
	const uint32_t n = 24, big = 100 << 10, mid = 16 << 10;
	char name[KPORT_NAME_MAX];
	struct kport_msg *m;
	uint32_t i, len;
	char *data;
	int fd;

	kt_name(name, "chunkbytes");
	fd = kt_create_simple(name, n, big);
	ASSERT_LE(0, fd);
	data = calloc(n, big);
	m = calloc(n, sizeof(*m));
	ASSERT_NE(NULL, data);
	ASSERT_NE(NULL, m);
	/* Mostly 16 KiB (four to a chunk), every seventh 100 KiB. */
	for (i = 0; i < n; i++) {
		len = i % 7 == 3 ? big : mid + i;
		kt_fill(data + (size_t)i * big, len, i);
		m[i].buf = (uintptr_t)(data + (size_t)i * big);
		m[i].len = len;
	}
	ASSERT_EQ((int)n, kt_batch(fd, KPORT_IOC_SENDV, m, n, 0, 0));
	memset(data, 0, (size_t)n * big);
	for (i = 0; i < n; i++)
		m[i].len = big;
	ASSERT_EQ((int)n, kt_batch(fd, KPORT_IOC_RECVV, m, n,
				   KPORT_MSG_NONBLOCK, 0));
	for (i = 0; i < n; i++) {
		len = i % 7 == 3 ? big : mid + i;
		ASSERT_EQ(len, m[i].len);
		ASSERT_EQ(0, kt_check_fill(data + (size_t)i * big, len, i));
	}
	free(m);
	free(data);
	close(fd);
	kt_unlink(name);
}

TEST_HARNESS_MAIN
