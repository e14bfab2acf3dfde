// SPDX-License-Identifier: GPL-2.0
/*
 * Order and size: FIFO, priorities, fixed- and variable-length ports,
 * payload integrity.
 *
 * doc/semantics.md, "Messages": higher priority first, FIFO within a
 * priority; priority >= KPORT_PRIO_MAX gets EINVAL; EMSGSIZE if len >
 * msg_size or, on a fixed port, len != msg_size.  A message is delivered
 * whole, once.
 */
#include "kport_test.h"

#define QUEUE_CAP	64

FIXTURE(fifo) {
	int fd;
};

FIXTURE_SETUP(fifo)
{
	self->fd = kt_create_simple(NULL, QUEUE_CAP, 64);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(fifo)
{
	close(self->fd);
}

TEST_F(fifo, messages_of_one_priority_are_received_in_send_order)
{
	uint32_t v;
	int i;

	for (i = 0; i < QUEUE_CAP; i++) {
		ASSERT_EQ(0, kt_send_u32(self->fd, (uint32_t)i * 7 + 1, 0));
	}
	for (i = 0; i < QUEUE_CAP; i++) {
		ASSERT_EQ(0, kt_recv_u32(self->fd, &v, KPORT_MSG_NONBLOCK));
		ASSERT_EQ((uint32_t)i * 7 + 1, v);
	}
	ASSERT_EQ(-EAGAIN, kt_recv_u32(self->fd, &v, KPORT_MSG_NONBLOCK));
}

TEST_F(fifo, order_is_kept_across_interleaved_sends_and_receives)
{
	uint32_t next_send = 0, next_recv = 0, v;
	int round, i;

	for (round = 0; round < 20; round++) {
		for (i = 0; i < 3; i++) {
			ASSERT_EQ(0, kt_send_u32(self->fd, next_send++, 0));
		}
		for (i = 0; i < 2; i++) {
			ASSERT_EQ(0, kt_recv_u32(self->fd, &v, KPORT_MSG_NONBLOCK));
			ASSERT_EQ(next_recv++, v);
		}
	}
	while (next_recv < next_send) {
		ASSERT_EQ(0, kt_recv_u32(self->fd, &v, KPORT_MSG_NONBLOCK));
		ASSERT_EQ(next_recv++, v);
	}
}

/* Send the 4-byte value @v at priority @prio. */
static int send_prio(int fd, uint32_t v, uint32_t prio)
{
	return kt_send(fd, &v, sizeof(v), prio, 0, 0);
}

TEST_F(fifo, higher_priority_is_received_first_and_fifo_within_a_priority)
{
	static const struct { uint32_t value, prio; } sent[] = {
		{ 1, 0 }, { 2, 5 }, { 3, KPORT_PRIO_MAX - 1 }, { 4, 5 },
		{ 5, 0 }, { 6, KPORT_PRIO_MAX - 1 }, { 7, 1 }, { 8, 5 },
	};
	static const struct { uint32_t value, prio; } expect[] = {
		{ 3, KPORT_PRIO_MAX - 1 }, { 6, KPORT_PRIO_MAX - 1 },
		{ 2, 5 }, { 4, 5 }, { 8, 5 }, { 7, 1 }, { 1, 0 }, { 5, 0 },
	};
	struct kport_msg m;
	uint32_t v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sent); i++) {
		ASSERT_EQ(0, send_prio(self->fd, sent[i].value, sent[i].prio));
	}
	for (i = 0; i < ARRAY_SIZE(expect); i++) {
		ASSERT_EQ(4, kt_recv(self->fd, &v, sizeof(v), KPORT_MSG_NONBLOCK,
				     &m));
		ASSERT_EQ(expect[i].value, v);
		ASSERT_EQ(expect[i].prio, m.priority);
	}
}

TEST_F(fifo, message_of_higher_priority_overtakes_queued_ones)
{
	struct kport_msg m;
	uint32_t v;

	ASSERT_EQ(0, send_prio(self->fd, 1, 0));
	ASSERT_EQ(0, send_prio(self->fd, 2, 0));
	ASSERT_EQ(4, kt_recv(self->fd, &v, sizeof(v), 0, &m));
	ASSERT_EQ(1U, v);
	ASSERT_EQ(0, send_prio(self->fd, 3, 1));
	ASSERT_EQ(4, kt_recv(self->fd, &v, sizeof(v), 0, &m));
	ASSERT_EQ(3U, v);
	ASSERT_EQ(1U, m.priority);
	ASSERT_EQ(4, kt_recv(self->fd, &v, sizeof(v), 0, &m));
	ASSERT_EQ(2U, v);
	ASSERT_EQ(0U, m.priority);
}

TEST_F(fifo, every_priority_below_KPORT_PRIO_MAX_is_accepted)
{
	struct kport_msg m;
	uint32_t v;
	int p;

	for (p = 0; p < KPORT_PRIO_MAX; p++) {
		ASSERT_EQ(0, send_prio(self->fd, (uint32_t)p, (uint32_t)p));
	}
	for (p = KPORT_PRIO_MAX - 1; p >= 0; p--) {
		ASSERT_EQ(4, kt_recv(self->fd, &v, sizeof(v), 0, &m));
		ASSERT_EQ((uint32_t)p, v);
		ASSERT_EQ((uint32_t)p, m.priority);
	}
}

TEST_F(fifo, priority_KPORT_PRIO_MAX_fails_with_EINVAL_and_queues_nothing)
{
	ASSERT_EQ(-EINVAL, send_prio(self->fd, 1, KPORT_PRIO_MAX));
	ASSERT_EQ(-EINVAL, send_prio(self->fd, 1, 0xffffffffU));
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 0));
}

TEST_F(fifo, receive_reports_priority_0_for_write)
{
	struct kport_msg m;
	uint32_t v = 42;

	ASSERT_EQ(0, send_prio(self->fd, 1, 9));
	ASSERT_EQ((ssize_t)sizeof(v), write(self->fd, &v, sizeof(v)));
	ASSERT_EQ(4, kt_recv(self->fd, &v, sizeof(v), 0, &m));
	ASSERT_EQ(9U, m.priority);
	ASSERT_EQ(4, kt_recv(self->fd, &v, sizeof(v), 0, &m));
	ASSERT_EQ(42U, v);
	ASSERT_EQ(0U, m.priority);
}

/* ---- Fixed-length ports ------------------------------------------------- */

#define FIXED_SIZE	24

FIXTURE(fixed) {
	int fd;
};

FIXTURE_SETUP(fixed)
{
	self->fd = kt_create(NULL, KPORT_CREATE_FIXED, 8, FIXED_SIZE, 0600,
			     KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(fixed)
{
	close(self->fd);
}

TEST_F(fixed, stat_reports_the_fixed_flag_and_size)
{
	struct kport_stat st;

	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(KPORT_CREATE_FIXED, st.port_flags & KPORT_CREATE_FIXED);
	ASSERT_EQ((uint32_t)FIXED_SIZE, st.msg_size);
}

TEST_F(fixed, message_of_exact_size_is_accepted)
{
	char buf[FIXED_SIZE], out[FIXED_SIZE * 2];

	kt_fill(buf, sizeof(buf), 1);
	ASSERT_EQ(0, kt_send(self->fd, buf, FIXED_SIZE, 0, 0, 0));
	ASSERT_EQ(FIXED_SIZE, kt_recv(self->fd, out, sizeof(out), 0, NULL));
	ASSERT_EQ(0U, kt_check_fill(out, FIXED_SIZE, 1));
}

TEST_F(fixed, shorter_message_fails_with_EMSGSIZE)
{
	char buf[FIXED_SIZE];

	memset(buf, 'a', sizeof(buf));
	ASSERT_EQ(-EMSGSIZE, kt_send(self->fd, buf, FIXED_SIZE - 1, 0, 0, 0));
	ASSERT_EQ(-EMSGSIZE, kt_send(self->fd, buf, 1, 0, 0, 0));
	ASSERT_EQ(-EMSGSIZE, kt_send(self->fd, buf, 0, 0, 0, 0));
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 0));
}

TEST_F(fixed, longer_message_fails_with_EMSGSIZE)
{
	char buf[FIXED_SIZE + 1];

	memset(buf, 'a', sizeof(buf));
	ASSERT_EQ(-EMSGSIZE, kt_send(self->fd, buf, FIXED_SIZE + 1, 0, 0, 0));
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 0));
}

TEST_F(fixed, write_of_another_size_fails_with_EMSGSIZE)
{
	char buf[FIXED_SIZE + 1];

	memset(buf, 'a', sizeof(buf));
	ASSERT_EQ(-1, write(self->fd, buf, FIXED_SIZE - 1));
	ASSERT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(-1, write(self->fd, buf, FIXED_SIZE + 1));
	ASSERT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(FIXED_SIZE, write(self->fd, buf, FIXED_SIZE));
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 1));
}

/* ---- Variable-length ports ---------------------------------------------- */

#define VAR_MAX		300

FIXTURE(variable) {
	int fd;
};

FIXTURE_SETUP(variable)
{
	self->fd = kt_create_simple(NULL, 8, VAR_MAX);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(variable)
{
	close(self->fd);
}

TEST_F(variable, every_size_from_0_to_max_is_accepted_and_delivered_intact)
{
	char buf[VAR_MAX], out[VAR_MAX + 16];
	struct kport_msg m;
	int len;

	for (len = 0; len <= VAR_MAX; len++) {
		kt_fill(buf, (size_t)len, (uint32_t)len);
		ASSERT_EQ(0, kt_send(self->fd, buf, (uint32_t)len, 0, 0, 0));
		ASSERT_EQ(len, kt_recv(self->fd, out, sizeof(out),
				       KPORT_MSG_NONBLOCK, &m));
		ASSERT_EQ((uint32_t)len, m.len);
		ASSERT_EQ(0U, kt_check_fill(out, (size_t)len, (uint32_t)len));
	}
}

TEST_F(variable, empty_message_is_a_message)
{
	struct kport_stat st;
	char out[8];

	ASSERT_EQ(0, kt_send(self->fd, out, 0, 0, 0, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(0ULL, st.bytes);
	ASSERT_EQ(0, kt_recv(self->fd, out, sizeof(out), KPORT_MSG_NONBLOCK,
			     NULL));
	ASSERT_EQ(-EAGAIN, kt_recv(self->fd, out, sizeof(out),
				   KPORT_MSG_NONBLOCK, NULL));
}

TEST_F(variable, message_one_byte_over_max_fails_with_EMSGSIZE)
{
	char buf[VAR_MAX + 1];

	memset(buf, 'v', sizeof(buf));
	ASSERT_EQ(-EMSGSIZE, kt_send(self->fd, buf, VAR_MAX + 1, 0, 0, 0));
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 0));
}

TEST_F(variable, stat_counts_queued_payload_bytes)
{
	char buf[VAR_MAX];
	struct kport_stat st;

	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, kt_send(self->fd, buf, 10, 0, 0, 0));
	ASSERT_EQ(0, kt_send(self->fd, buf, 290, 0, 0, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(2U, st.nr_msgs);
	ASSERT_EQ(300ULL, st.bytes);
}

/* ---- Payload integrity ---------------------------------------------------- */

#define BIG_MAX		(256 * 1024)

static const uint32_t big_sizes[] = {
	1, 7, 63, 64, 65, 4095, 4096, 4097, 8191, 65537, BIG_MAX - 1, BIG_MAX,
};

FIXTURE(payload) {
	int fd;
	pid_t child;
	char *buf;
};

FIXTURE_SETUP(payload)
{
	self->child = -1;
	self->buf = malloc(BIG_MAX + 64);
	ASSERT_NE(NULL, self->buf);
	self->fd = kt_create_simple(NULL, 4, BIG_MAX);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(payload)
{
	kt_kill_reap(self->child);
	close(self->fd);
	free(self->buf);
}

TEST_F(payload, large_messages_arrive_intact_from_another_process)
{
	size_t i;

	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		for (i = 0; i < ARRAY_SIZE(big_sizes); i++) {
			kt_fill(self->buf, big_sizes[i], big_sizes[i]);
			KT_CHILD_ASSERT(kt_send(self->fd, self->buf, big_sizes[i],
						0, 0, 0) == 0);
		}
		_exit(0);
	}
	for (i = 0; i < ARRAY_SIZE(big_sizes); i++) {
		memset(self->buf, 0, BIG_MAX);
		ASSERT_EQ((int)big_sizes[i],
			  kt_recv_ex(self->fd, self->buf, BIG_MAX, KPORT_MSG_DEADLINE,
				     0, kt_deadline_ms(KT_TIMEOUT_MS), NULL));
		ASSERT_EQ(0U, kt_check_fill(self->buf, big_sizes[i],
					    big_sizes[i]));
	}
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;
}

TEST_F(payload, unaligned_buffers_are_copied_intact)
{
	char *out = malloc(BIG_MAX + 64);

	ASSERT_NE(NULL, out);
	kt_fill(self->buf + 3, 10001, 77);
	ASSERT_EQ(0, kt_send(self->fd, self->buf + 3, 10001, 0, 0, 0));
	memset(out, 0, BIG_MAX + 64);
	EXPECT_EQ(10001, kt_recv(self->fd, out + 5, BIG_MAX, 0, NULL));
	EXPECT_EQ(0U, kt_check_fill(out + 5, 10001, 77));
	free(out);
}

TEST_F(payload, sender_buffer_reused_after_send_does_not_change_the_message)
{
	kt_fill(self->buf, 1000, 5);
	ASSERT_EQ(0, kt_send(self->fd, self->buf, 1000, 0, 0, 0));
	memset(self->buf, 0xee, 1000);
	ASSERT_EQ(1000, kt_recv(self->fd, self->buf, BIG_MAX, 0, NULL));
	ASSERT_EQ(0U, kt_check_fill(self->buf, 1000, 5));
}

TEST_HARNESS_MAIN
