// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency: many senders and receivers on one port.
 *
 * doc/semantics.md: a message is delivered whole, once; order is FIFO
 * within a priority; several receivers waiting are served in arrival
 * order, one message each (exclusive wake-ups); same for senders.
 *
 * The stress test moves STRESS_TOTAL messages (100000 unless the
 * environment variable KPORT_STRESS_MESSAGES says otherwise) from
 * NR_SENDERS sender processes to NR_RECEIVERS receiver processes over one
 * bounded port.  Each message carries (sender id, sequence number).  The
 * receivers count what they get in shared memory; every message must be
 * counted exactly once, and the messages of one sender that a receiver
 * gets must come in increasing sequence order.  Every send and receive
 * has a KT_TIMEOUT_MS deadline, so a lost message or wake-up fails the
 * test instead of hanging it.
 */
#include "kport_test.h"

#define NR_SENDERS	4
#define NR_RECEIVERS	4
#define STRESS_TOTAL	100000
#define STRESS_CAP	64
#define STOP_SENDER	0xffffffffU

struct stress_msg {
	uint32_t sender;
	uint32_t seq;
};

struct stress_shared {
	uint64_t received[NR_RECEIVERS];
	uint8_t seen[];		/* [sender * per_sender + seq]: times received */
};

static unsigned int stress_per_sender(void)
{
	const char *env = getenv("KPORT_STRESS_MESSAGES");
	long total = env ? strtol(env, NULL, 0) : STRESS_TOTAL;

	if (total < NR_SENDERS)
		total = NR_SENDERS;
	return (unsigned int)(total / NR_SENDERS);
}

static void stress_sender(int fd, uint32_t id, unsigned int per_sender)
{
	struct stress_msg m = { .sender = id };

	/* No send may wait KT_TIMEOUT_MS: a stuck run fails instead of hanging. */
	for (m.seq = 0; m.seq < per_sender; m.seq++)
		KT_CHILD_ASSERT(kt_send(fd, &m, sizeof(m), 0, KPORT_MSG_DEADLINE,
					kt_deadline_ms(KT_TIMEOUT_MS)) == 0);
	_exit(0);
}

static void stress_receiver(int fd, int id, unsigned int per_sender,
			    struct stress_shared *sh)
{
	int64_t last[NR_SENDERS];
	struct stress_msg m;
	int i, ret;

	for (i = 0; i < NR_SENDERS; i++)
		last[i] = -1;
	for (;;) {
		ret = kt_recv_ex(fd, &m, sizeof(m), KPORT_MSG_DEADLINE, 0,
				 kt_deadline_ms(KT_TIMEOUT_MS), NULL);
		KT_CHILD_ASSERT(ret == sizeof(m));
		if (m.sender == STOP_SENDER)
			break;
		KT_CHILD_ASSERT(m.sender < NR_SENDERS);
		KT_CHILD_ASSERT(m.seq < per_sender);
		/* Per-sender order as this receiver sees it. */
		if ((int64_t)m.seq <= last[m.sender]) {
			fprintf(stderr, "# receiver %d: sender %u seq %u after %lld\n",
				id, m.sender, m.seq, (long long)last[m.sender]);
			_exit(3);
		}
		last[m.sender] = m.seq;
		__atomic_fetch_add(&sh->seen[m.sender * per_sender + m.seq], 1,
				   __ATOMIC_RELAXED);
		sh->received[id]++;
	}
	_exit(0);
}

FIXTURE(many) {
	int fd;
	pid_t senders[NR_SENDERS];
	pid_t receivers[NR_RECEIVERS];
	struct stress_shared *sh;
	size_t sh_size;
};

FIXTURE_SETUP(many)
{
	int i;

	for (i = 0; i < NR_SENDERS; i++)
		self->senders[i] = -1;
	for (i = 0; i < NR_RECEIVERS; i++)
		self->receivers[i] = -1;
	self->sh_size = sizeof(*self->sh) +
			(size_t)NR_SENDERS * stress_per_sender();
	self->sh = kt_shared_alloc(self->sh_size);
	ASSERT_NE(NULL, self->sh);
	self->fd = kt_create(NULL, KPORT_CREATE_FIXED, STRESS_CAP,
			     sizeof(struct stress_msg), 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(many)
{
	int i;

	for (i = 0; i < NR_SENDERS; i++)
		kt_kill_reap(self->senders[i]);
	for (i = 0; i < NR_RECEIVERS; i++)
		kt_kill_reap(self->receivers[i]);
	close(self->fd);
	munmap(self->sh, self->sh_size);
}

TEST_F_TIMEOUT(many, every_message_is_delivered_exactly_once_in_per_sender_order,
	       150)
{
	unsigned int per_sender = stress_per_sender();
	struct stress_msg stop = { .sender = STOP_SENDER };
	uint64_t total = (uint64_t)per_sender * NR_SENDERS, sum = 0;
	uint64_t start = kt_now_ns();
	struct kport_stat st;
	size_t i, missing = 0, dup = 0;
	int r, s;

	for (r = 0; r < NR_RECEIVERS; r++) {
		self->receivers[r] = kt_fork();
		ASSERT_LE(0, self->receivers[r]);
		if (self->receivers[r] == 0)
			stress_receiver(self->fd, r, per_sender, self->sh);
	}
	for (s = 0; s < NR_SENDERS; s++) {
		self->senders[s] = kt_fork();
		ASSERT_LE(0, self->senders[s]);
		if (self->senders[s] == 0)
			stress_sender(self->fd, (uint32_t)s, per_sender);
	}
	for (s = 0; s < NR_SENDERS; s++) {
		ASSERT_EQ(0, kt_reap(self->senders[s], 120 * 1000));
		self->senders[s] = -1;
	}
	/* Every data message is queued or taken: stop each receiver. */
	for (r = 0; r < NR_RECEIVERS; r++) {
		ASSERT_EQ(0, kt_send(self->fd, &stop, sizeof(stop), 0,
				     KPORT_MSG_DEADLINE,
				     kt_deadline_ms(KT_TIMEOUT_MS)));
	}
	for (r = 0; r < NR_RECEIVERS; r++) {
		ASSERT_EQ(0, kt_reap(self->receivers[r], -1));
		self->receivers[r] = -1;
	}

	for (i = 0; i < total; i++) {
		if (self->sh->seen[i] == 0)
			missing++;
		else if (self->sh->seen[i] > 1)
			dup++;
	}
	for (r = 0; r < NR_RECEIVERS; r++)
		sum += self->sh->received[r];
	TH_LOG("%llu messages in %llu ms",
	       (unsigned long long)total,
	       (unsigned long long)((kt_now_ns() - start) / KT_NSEC_PER_MSEC));
	ASSERT_EQ(0U, missing);
	ASSERT_EQ(0U, dup);
	ASSERT_EQ(total, sum);

	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(total + NR_RECEIVERS, st.sent);
	ASSERT_EQ(total + NR_RECEIVERS, st.received);
	ASSERT_EQ(0U, st.nr_msgs);
	ASSERT_EQ(0U, st.send_waiters);
	ASSERT_EQ(0U, st.recv_waiters);
}

/* ---- Several blocked receivers / senders -------------------------------- */

#define NR_WAITERS	4

FIXTURE(waiters) {
	int fd;
	pid_t child[NR_WAITERS];
	uint32_t *got;		/* shared: what child i received */
};

FIXTURE_SETUP(waiters)
{
	int i;

	for (i = 0; i < NR_WAITERS; i++)
		self->child[i] = -1;
	self->got = kt_shared_alloc(sizeof(uint32_t) * NR_WAITERS);
	ASSERT_NE(NULL, self->got);
	self->fd = kt_create_simple(NULL, 16, 64);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(waiters)
{
	int i;

	for (i = 0; i < NR_WAITERS; i++)
		kt_kill_reap(self->child[i]);
	close(self->fd);
	munmap(self->got, sizeof(uint32_t) * NR_WAITERS);
}

TEST_F(waiters, each_blocked_receiver_gets_exactly_one_message)
{
	unsigned int mask = 0;
	int i;

	for (i = 0; i < NR_WAITERS; i++) {
		self->got[i] = 0xdead;
		self->child[i] = kt_fork();
		ASSERT_LE(0, self->child[i]);
		if (self->child[i] == 0) {
			uint32_t v;

			KT_CHILD_ASSERT(kt_recv_u32(self->fd, &v, 0) == 0);
			self->got[i] = v;
			_exit(0);
		}
	}
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, NR_WAITERS));

	/* Four messages in a burst, while all four wait. */
	for (i = 0; i < NR_WAITERS; i++) {
		ASSERT_EQ(0, kt_send_u32(self->fd, (uint32_t)i, KPORT_MSG_NONBLOCK));
	}
	for (i = 0; i < NR_WAITERS; i++) {
		ASSERT_EQ(0, kt_reap(self->child[i], -1));
		self->child[i] = -1;
	}
	for (i = 0; i < NR_WAITERS; i++) {
		ASSERT_GT((uint32_t)NR_WAITERS, self->got[i]);
		mask |= 1U << self->got[i];
	}
	ASSERT_EQ((1U << NR_WAITERS) - 1, mask);
	ASSERT_EQ(0, kt_wait_nr_msgs(self->fd, 0));
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 0));
}

TEST_F(waiters, blocked_receivers_are_served_in_arrival_order)
{
	uint32_t values[NR_WAITERS];
	int i;

	for (i = 0; i < NR_WAITERS; i++) {
		values[i] = 1000 + (uint32_t)i;
		self->child[i] = kt_fork_receiver(self->fd, 64, 0, 0, 4,
						  &values[i]);
		ASSERT_LT(0, self->child[i]);
		ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, (uint32_t)i + 1));
	}
	/* The i-th message goes to the i-th receiver to have blocked. */
	for (i = 0; i < NR_WAITERS; i++) {
		ASSERT_EQ(0, kt_send_u32(self->fd, values[i], 0));
		ASSERT_EQ(0, kt_reap(self->child[i], -1));
		self->child[i] = -1;
		ASSERT_EQ(0, kt_wait_recv_waiters(self->fd,
						  NR_WAITERS - 1 - (uint32_t)i));
	}
}

TEST_F(waiters, blocked_senders_each_deliver_one_message_in_arrival_order)
{
	uint32_t values[NR_WAITERS], v;
	int fd, i;

	fd = kt_create_simple(NULL, 1, 64);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_send_u32(fd, 7, 0));
	for (i = 0; i < NR_WAITERS; i++) {
		values[i] = 2000 + (uint32_t)i;
		self->child[i] = kt_fork_sender(fd, &values[i], 4, 0, 0, 0);
		ASSERT_LT(0, self->child[i]);
		ASSERT_EQ(0, kt_wait_send_waiters(fd, (uint32_t)i + 1));
	}
	ASSERT_EQ(0, kt_recv_u32(fd, &v, 0));
	ASSERT_EQ(7U, v);
	for (i = 0; i < NR_WAITERS; i++) {
		ASSERT_EQ(0, kt_reap(self->child[i], -1));
		self->child[i] = -1;
		ASSERT_EQ(0, kt_recv_u32(fd, &v, 0));
		ASSERT_EQ(values[i], v);
	}
	ASSERT_EQ(-EAGAIN, kt_recv_u32(fd, &v, KPORT_MSG_NONBLOCK));
	close(fd);
}

TEST_HARNESS_MAIN
