// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftest: the pool (doc/semantics.md, "The pool (large payloads)").
 *
 * The mmap rules are tested in mmap.c, BORROW and POST in zerocopy.c;
 * the helpers and the environment the fixtures share are in pool_test.h.
 *
 * The tests, by area:
 *  - pool.*:      what VERSION and stat report; which receives need a
 *                 buffer;
 *  - payload.*:   every size that matters, across processes, through a
 *                 plain and an in-place receive, content checked byte for
 *                 byte, the pool's stat rising and falling back to 0;
 *  - receivers.*: several processes taking messages in place at once;
 *  - release.*:   every way RELEASE refuses, and that a refusal changes
 *                 nothing;
 *  - full_pool.*: waiting for room: EAGAIN, ETIMEDOUT, wake-up, signals,
 *                 EIDRM;
 *  - reclaim.*:   slices come back when their holder dies or closes;
 *  - libkport.*:  the library's pool calls.
 */
#include "kport_test.h"
#include "pool_test.h"

#include "kport.h"

/* ==== The pool's attributes ============================================== */

FIXTURE(pool) {
	struct env e;
};

FIXTURE_SETUP(pool)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(pool)
{
	env_teardown(_metadata, &self->e);
}

TEST_F(pool, version_reports_the_pool_features_and_the_threshold)
{
	struct kport_version v = version(_metadata);

	ASSERT_TRUE(v.features & KPORT_FEAT_POOL);
	ASSERT_TRUE(v.features & KPORT_FEAT_ZEROCOPY);
	ASSERT_EQ(THRESHOLD, v.pool_threshold);
	ASSERT_LE(72ULL * MIB, v.max_pool_size);
}

TEST_F(pool, stat_reports_the_pool_size_and_threshold_of_an_empty_pool)
{
	struct kport_stat st;
	int fd, plain;

	fd = make_port(&self->e, 0, KPORT_CREATE_ZEROCOPY, 4, 8 * PAGE,
		       16 * PAGE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(16 * PAGE, st.pool_size);
	ASSERT_EQ(THRESHOLD, st.pool_threshold);
	ASSERT_EQ(0ULL, st.pool_used);
	ASSERT_EQ(0U, st.slices_held);
	ASSERT_EQ((uint64_t)KPORT_CREATE_ZEROCOPY, st.port_flags);
	plain = make_port(&self->e, -1, 0, 4, 64, 0);
	ASSERT_LE(0, plain);
	ASSERT_EQ(0, kt_stat(plain, &st));
	ASSERT_EQ(0ULL, st.pool_size);
	ASSERT_EQ(0ULL, st.pool_used);
	ASSERT_EQ(0U, st.slices_held);
}

TEST_F(pool, an_in_place_receive_needs_a_buffer_only_for_messages_outside_the_pool)
{
	unsigned char buf[100];
	struct kport_msg m;
	int fd;

	fd = make_port(&self->e, 0, 0, 4, 16 * PAGE, 16 * PAGE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_pattern(fd, 100, 80));
	ASSERT_EQ(0, send_pattern(fd, 20000, 81));
	/* within the threshold: the buffer must hold it, the message stays */
	ASSERT_EQ(-EMSGSIZE, recv_msg(fd, buf, 99,
				      KPORT_MSG_NONBLOCK | KPORT_MSG_INPLACE,
				      &m));
	ASSERT_EQ(100U, m.len);
	ASSERT_EQ(-EMSGSIZE, recv_inplace(fd, KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ(100U, m.len);
	ASSERT_QUEUED(fd, 2);
	ASSERT_EQ(100, recv_msg(fd, buf, 100,
				KPORT_MSG_NONBLOCK | KPORT_MSG_INPLACE, &m));
	ASSERT_EQ(0U, m.result);
	ASSERT_EQ(0U, pat_check(buf, 100, 80));
	/* in the pool: a plain receive needs room, an in-place one none */
	ASSERT_EQ(-EMSGSIZE, recv_msg(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
				      &m));
	ASSERT_EQ(20000U, m.len);
	ASSERT_QUEUED(fd, 1);
	ASSERT_POOL(fd, PAGE_UP(20000), 0);
	ASSERT_EQ(20000, recv_inplace(fd, KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ((uint32_t)KPORT_RESULT_INPLACE, m.result);
	ASSERT_POOL(fd, PAGE_UP(20000), 1);
	ASSERT_EQ(0, kt_release(fd, m.offset, 20000));
	ASSERT_POOL(fd, 0, 0);
}

/* ==== Payloads of every size that matters ================================== */

FIXTURE(payload) {
	struct env e;
	int fd;			/* the creator's handle: all rights */
	int rfd;		/* a receive-only handle */
	uint32_t len;
	uint64_t pool;
};

FIXTURE_VARIANT(payload) {
	bool from_threshold;	/* len is the threshold + delta */
	bool whole_pool;	/* len is the pool size itself */
	int64_t len;		/* bytes, or the delta */
	uint64_t pool;
};

FIXTURE_VARIANT_ADD(payload, zero_bytes) {
	.len = 0, .pool = 2 * MIB,
};

FIXTURE_VARIANT_ADD(payload, one_byte) {
	.len = 1, .pool = 2 * MIB,
};

FIXTURE_VARIANT_ADD(payload, threshold_minus_1) {
	.from_threshold = true, .len = -1, .pool = 2 * MIB,
};

FIXTURE_VARIANT_ADD(payload, threshold) {
	.from_threshold = true, .len = 0, .pool = 2 * MIB,
};

FIXTURE_VARIANT_ADD(payload, threshold_plus_1) {
	.from_threshold = true, .len = 1, .pool = 2 * MIB,
};

FIXTURE_VARIANT_ADD(payload, one_mib) {
	.len = MIB, .pool = 2 * MIB,
};

FIXTURE_VARIANT_ADD(payload, sixty_four_mib) {
	.len = 64 * MIB, .pool = 72 * MIB,
};

/* An odd number of pages, all of it one message. */
FIXTURE_VARIANT_ADD(payload, the_whole_pool) {
	.whole_pool = true, .pool = 8 * MIB + 3 * PAGE,
};

FIXTURE_SETUP(payload)
{
	struct kport_stat st;

	env_setup(_metadata, &self->e);
	self->pool = variant->pool;
	self->fd = make_port(&self->e, 0, 0, 4, (uint32_t)variant->pool,
			     variant->pool);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(THRESHOLD, st.pool_threshold);
	if (variant->whole_pool)
		self->len = (uint32_t)variant->pool;
	else if (variant->from_threshold)
		self->len = (uint32_t)(st.pool_threshold + variant->len);
	else
		self->len = (uint32_t)variant->len;
	self->rfd = open_port(&self->e, 0, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, self->rfd);
}

FIXTURE_TEARDOWN(payload)
{
	env_teardown(_metadata, &self->e);
}

/* A child sends the payload (pattern 7); the parent waits for it. */
static void payload_send(struct __test_metadata *_metadata,
			 FIXTURE_DATA(payload) *self, pid_t *sender)
{
	bool in_pool = self->len > THRESHOLD;

	*sender = keep_kid(&self->e, 0,
			   fork_pattern_sender(self->fd, self->len, 7, 0));
	ASSERT_LT(0, *sender);
	ASSERT_EQ(0, reap_kid(&self->e, 0));
	ASSERT_QUEUED(self->fd, 1);
	/* only a message longer than the threshold takes a slice */
	ASSERT_POOL(self->fd, in_pool ? PAGE_UP(self->len) : 0, 0);
}

TEST_F(payload, a_plain_receive_copies_it_out_intact_and_frees_its_slice)
{
	struct kport_msg m;
	unsigned char *buf;
	pid_t sender;
	unsigned int i;

	payload_send(_metadata, self, &sender);
	buf = keep_buf(&self->e, (size_t)self->len + 64);
	ASSERT_NE(NULL, buf);
	memset(buf, 0xa5, (size_t)self->len + 64);
	ASSERT_EQ((int)self->len, recv_msg(self->rfd, buf, self->len + 64,
					   KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ(0U, m.result);
	ASSERT_EQ(0ULL, m.offset);
	ASSERT_EQ(sender, m.pid);
	ASSERT_EQ(0U, pat_check(buf, self->len, 7));
	for (i = 0; i < 64; i++) {
		ASSERT_EQ(0xa5, buf[self->len + i]) TH_LOG("byte %u after", i);
	}
	ASSERT_QUEUED(self->fd, 0);
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(payload, an_in_place_receive_leaves_it_in_the_pool_iff_above_the_threshold)
{
	unsigned char small[64];
	const unsigned char *map;
	struct kport_msg m;
	pid_t sender;
	unsigned int i;

	map = map_pool(&self->e, self->rfd, self->pool, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, map);
	payload_send(_metadata, self, &sender);

	if (self->len > THRESHOLD) {
		/* no buffer needed, and none written */
		memset(small, 0xa5, sizeof(small));
		ASSERT_EQ((int)self->len,
			  recv_msg(self->rfd, small, sizeof(small),
				   KPORT_MSG_NONBLOCK | KPORT_MSG_INPLACE, &m));
		ASSERT_EQ((uint32_t)KPORT_RESULT_INPLACE, m.result);
		ASSERT_EQ(sender, m.pid);
		ASSERT_EQ(0ULL, m.offset % PAGE);
		ASSERT_GE(self->pool, m.offset + self->len);
		for (i = 0; i < sizeof(small); i++) {
			ASSERT_EQ(0xa5, small[i]);
		}
		/* held by the receiving handle, counted by every handle */
		ASSERT_POOL(self->rfd, PAGE_UP(self->len), 1);
		ASSERT_POOL(self->fd, PAGE_UP(self->len), 1);
		ASSERT_QUEUED(self->fd, 0);
		ASSERT_EQ(0U, pat_check(map + m.offset, self->len, 7));
		ASSERT_EQ(0, kt_release(self->rfd, m.offset, self->len));
	} else {
		unsigned char *buf = keep_buf(&self->e, (size_t)self->len + 64);

		ASSERT_NE(NULL, buf);
		memset(buf, 0xa5, (size_t)self->len + 64);
		ASSERT_EQ((int)self->len,
			  recv_msg(self->rfd, buf, self->len + 64,
				   KPORT_MSG_NONBLOCK | KPORT_MSG_INPLACE, &m));
		/* not in the pool: copied as usual, result 0 */
		ASSERT_EQ(0U, m.result);
		ASSERT_EQ(0ULL, m.offset);
		ASSERT_EQ(sender, m.pid);
		ASSERT_EQ(0U, pat_check(buf, self->len, 7));
		ASSERT_EQ(0xa5, buf[self->len]);
	}
	ASSERT_POOL(self->fd, 0, 0);
	ASSERT_QUEUED(self->fd, 0);
}

/* ==== Several receivers at once ============================================ */

#define NR_RECEIVERS	4
#define NR_MANY		160
#define MANY_POOL	(128 * PAGE)
#define MANY_SEED	1000U

/* Message @id: 8 bytes of id, then pattern MANY_SEED + id; 16 KiB + 1 .. 64 KiB. */
static uint32_t many_len(uint32_t id)
{
	return THRESHOLD + 1 + (id * 7919U) % (48U << 10);
}

struct tally {
	uint32_t seen[NR_MANY];
	uint32_t got[NR_RECEIVERS];
	uint32_t holding;
	uint32_t max_holding;
};

static void many_receiver(struct env *e, struct tally *t, unsigned int me,
			  pid_t parent)
{
	const unsigned char *map;
	int fd;

	close(e->to_kid[1]);
	close(e->to_parent[0]);
	fd = kt_open(e->names[0], KPORT_RIGHT_RECV, 0);
	KT_CHILD_ASSERT(fd >= 0);
	map = mmap(NULL, MANY_POOL, PROT_READ, MAP_SHARED, fd, 0);
	KT_CHILD_ASSERT(map != MAP_FAILED);
	KT_CHILD_ASSERT(kt_token_put(e->to_parent[1], 'r') == 0);
	for (;;) {
		char small[8];
		struct kport_msg m;
		uint32_t h, max;
		uint64_t id;
		int ret;

		ret = recv_msg(fd, small, sizeof(small), KPORT_MSG_INPLACE, &m);
		KT_CHILD_ASSERT(ret >= 0);
		if (!(m.result & KPORT_RESULT_INPLACE)) {
			KT_CHILD_ASSERT(ret == 4 && !memcmp(small, "stop", 4));
			break;
		}
		KT_CHILD_ASSERT(m.pid == parent);
		KT_CHILD_ASSERT(m.offset % PAGE == 0);
		KT_CHILD_ASSERT(m.offset + m.len <= MANY_POOL);
		h = __atomic_add_fetch(&t->holding, 1, __ATOMIC_SEQ_CST);
		max = __atomic_load_n(&t->max_holding, __ATOMIC_SEQ_CST);
		while (h > max &&
		       !__atomic_compare_exchange_n(&t->max_holding, &max, h,
						    false, __ATOMIC_SEQ_CST,
						    __ATOMIC_SEQ_CST))
			;
		memcpy(&id, map + m.offset, sizeof(id));
		KT_CHILD_ASSERT(id < NR_MANY);
		KT_CHILD_ASSERT(m.len == many_len((uint32_t)id));
		KT_CHILD_ASSERT(pat_check(map + m.offset + 8, m.len - 8,
					  MANY_SEED + (uint32_t)id) == 0);
		__atomic_fetch_add(&t->seen[id], 1, __ATOMIC_SEQ_CST);
		t->got[me]++;
		__atomic_sub_fetch(&t->holding, 1, __ATOMIC_SEQ_CST);
		KT_CHILD_ASSERT(kt_release(fd, m.offset, m.len) == 0);
	}
	/* done: stay until the parent has looked at the pool */
	KT_CHILD_ASSERT(kt_token_put(e->to_parent[1], 'd') == 0);
	KT_CHILD_ASSERT(kt_token_get(e->to_kid[0], -1) == 'x');
	_exit(0);
}

FIXTURE(receivers) {
	struct env e;
	int fd;
	struct tally *t;
};

FIXTURE_SETUP(receivers)
{
	env_setup(_metadata, &self->e);
	self->fd = make_port(&self->e, 0, 0, 8, 64 << 10, MANY_POOL);
	ASSERT_LE(0, self->fd);
	self->t = kt_shared_alloc(sizeof(*self->t));
	ASSERT_NE(NULL, self->t);
}

FIXTURE_TEARDOWN(receivers)
{
	env_teardown(_metadata, &self->e);
	if (self->t)
		munmap(self->t, sizeof(*self->t));
}

TEST_F(receivers, four_processes_in_place_get_each_message_exactly_once)
{
	unsigned char *buf;
	unsigned int i, total = 0;
	pid_t pid;

	for (i = 0; i < NR_RECEIVERS; i++) {
		pid = keep_kid(&self->e, i, kt_fork());
		ASSERT_LE(0, pid);
		if (pid == 0)
			many_receiver(&self->e, self->t, i, getppid());
	}
	for (i = 0; i < NR_RECEIVERS; i++) {
		ASSERT_EQ('r', kt_token_get(self->e.to_parent[0], -1));
	}
	buf = keep_buf(&self->e, 64 << 10);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < NR_MANY; i++) {
		uint64_t id = i;
		uint32_t len = many_len(i);

		memcpy(buf, &id, sizeof(id));
		pat_fill(buf + 8, len - 8, MANY_SEED + i);
		/* the pool (128 pages) fills up: senders wait for releases */
		ASSERT_EQ(0, send_msg(self->fd, buf, len, 0)) TH_LOG("msg %u", i);
	}
	/* FIFO: every data message is taken before the first stop */
	for (i = 0; i < NR_RECEIVERS; i++) {
		ASSERT_EQ(0, send_msg(self->fd, "stop", 4, 0));
	}
	for (i = 0; i < NR_RECEIVERS; i++) {
		ASSERT_EQ('d', kt_token_get(self->e.to_parent[0], -1));
	}
	/* every slice was released by its receiver, which still lives */
	ASSERT_POOL(self->fd, 0, 0);
	ASSERT_QUEUED(self->fd, 0);
	for (i = 0; i < NR_RECEIVERS; i++) {
		ASSERT_EQ(0, kt_token_put(self->e.to_kid[1], 'x'));
	}
	for (i = 0; i < NR_RECEIVERS; i++) {
		ASSERT_EQ(0, reap_kid(&self->e, i)) TH_LOG("receiver %u", i);
	}
	for (i = 0; i < NR_MANY; i++) {
		ASSERT_EQ(1U, self->t->seen[i]) TH_LOG("message %u", i);
	}
	for (i = 0; i < NR_RECEIVERS; i++)
		total += self->t->got[i];
	ASSERT_EQ((unsigned int)NR_MANY, total);
	ksft_print_msg("kport-figure: in-place receivers %u/%u/%u/%u messages, up to %u slices read at once\n",
		       self->t->got[0], self->t->got[1], self->t->got[2],
		       self->t->got[3], self->t->max_holding);
	fflush(stdout);
}

/* ==== RELEASE and its refusals ================================================ */

#define REL_POOL	(16 * PAGE)
#define REL_SLICE	(5 * PAGE)

FIXTURE(release) {
	struct env e;
	int fd;
	const unsigned char *map;
	uint64_t off;		/* the slice fd holds, pattern 1 */
};

FIXTURE_SETUP(release)
{
	struct kport_msg m;

	env_setup(_metadata, &self->e);
	self->fd = make_port(&self->e, 0, 0, 4, REL_POOL, REL_POOL);
	ASSERT_LE(0, self->fd);
	self->map = map_pool(&self->e, self->fd, REL_POOL, PROT_READ,
			     MAP_SHARED);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_EQ(0, send_pattern(self->fd, REL_LEN, 1));
	ASSERT_EQ((int)REL_LEN, recv_inplace(self->fd, KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ((uint32_t)KPORT_RESULT_INPLACE, m.result);
	self->off = m.offset;
	ASSERT_POOL(self->fd, REL_SLICE, 1);
}

FIXTURE_TEARDOWN(release)
{
	env_teardown(_metadata, &self->e);
}

/*
 * After a refusal: the slice is still held, its content intact, the stat
 * as before; it can be released with the right arguments, and the pool
 * then carries a new message as well as ever.
 */
static void release_still_intact(struct __test_metadata *_metadata,
				 FIXTURE_DATA(release) *self)
{
	struct kport_msg m;

	ASSERT_POOL(self->fd, REL_SLICE, 1);
	ASSERT_EQ(0U, pat_check(self->map + self->off, REL_LEN, 1));
	ASSERT_EQ(0, kt_release(self->fd, self->off, REL_LEN));
	ASSERT_POOL(self->fd, 0, 0);
	ASSERT_EQ(0, send_pattern(self->fd, REL_POOL, 2));
	ASSERT_EQ((int)REL_POOL, recv_inplace(self->fd, KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ(0ULL, m.offset);
	ASSERT_EQ(0U, pat_check(self->map, REL_POOL, 2));
	ASSERT_EQ(0, kt_release(self->fd, 0, REL_POOL));
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(release, of_a_held_slice_frees_it_and_a_second_time_fails_with_ENOENT)
{
	ASSERT_EQ(0, kt_release(self->fd, self->off, REL_LEN));
	ASSERT_POOL(self->fd, 0, 0);
	ASSERT_EQ(-ENOENT, kt_release(self->fd, self->off, REL_LEN));
	ASSERT_POOL(self->fd, 0, 0);
	/* the slice is free again: a whole-pool message fits */
	ASSERT_EQ(0, send_pattern(self->fd, REL_POOL, 3));
	ASSERT_EQ(-ENOENT, kt_release(self->fd, 0, REL_POOL));
	ASSERT_POOL(self->fd, REL_POOL, 0);
}

TEST_F(release, of_a_slice_never_held_fails_with_ENOENT)
{
	struct kport_msg m;
	unsigned char *buf;
	uint64_t off;

	/* another message in flight: its slice is queued, held by no one */
	ASSERT_EQ(0, send_pattern(self->fd, REL_LEN, 4));
	ASSERT_POOL(self->fd, 2 * REL_SLICE, 1);
	for (off = 0; off < REL_POOL; off += PAGE) {
		if (off == self->off)
			continue;
		ASSERT_EQ(-ENOENT, kt_release(self->fd, off, PAGE))
			TH_LOG("offset %llu", (unsigned long long)off);
		if (off + REL_LEN <= REL_POOL) {
			ASSERT_EQ(-ENOENT, kt_release(self->fd, off, REL_LEN))
				TH_LOG("offset %llu", (unsigned long long)off);
		}
	}
	/* the message in flight was not touched */
	buf = keep_buf(&self->e, REL_LEN);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ((int)REL_LEN, recv_msg(self->fd, buf, REL_LEN,
					 KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ(0U, pat_check(buf, REL_LEN, 4));
	release_still_intact(_metadata, self);
}

TEST_F(release, of_a_slice_held_by_another_handle_fails_with_ENOENT)
{
	struct kport_msg m;
	uint64_t other;
	int h2, h0;

	h2 = open_port(&self->e, 0, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, h2);
	h0 = open_port(&self->e, 0, 0, 0);
	ASSERT_LE(0, h0);
	ASSERT_EQ(0, send_pattern(self->fd, REL_LEN, 5));
	ASSERT_EQ((int)REL_LEN, recv_inplace(h2, KPORT_MSG_NONBLOCK, &m));
	other = m.offset;
	ASSERT_NE(self->off, other);
	ASSERT_POOL(self->fd, 2 * REL_SLICE, 2);
	/* neither may release the other's, nor may a third handle */
	ASSERT_EQ(-ENOENT, kt_release(self->fd, other, REL_LEN));
	ASSERT_EQ(-ENOENT, kt_release(h2, self->off, REL_LEN));
	ASSERT_EQ(-ENOENT, kt_release(h0, self->off, REL_LEN));
	ASSERT_EQ(-ENOENT, kt_release(h0, other, REL_LEN));
	/* nor a child through a handle of its own */
	keep_kid(&self->e, 0, kt_fork());
	ASSERT_LE(0, self->e.kids[0]);
	if (self->e.kids[0] == 0) {
		int fd = kt_open(self->e.names[0], KPORT_RIGHT_RECV, 0);

		KT_CHILD_ASSERT(fd >= 0);
		KT_CHILD_ASSERT(kt_release(fd, self->off, REL_LEN) == -ENOENT);
		KT_CHILD_ASSERT(kt_release(fd, other, REL_LEN) == -ENOENT);
		_exit(0);
	}
	ASSERT_EQ(0, reap_kid(&self->e, 0));
	ASSERT_POOL(self->fd, 2 * REL_SLICE, 2);
	ASSERT_EQ(0U, pat_check(self->map + other, REL_LEN, 5));
	ASSERT_EQ(0, kt_release(h2, other, REL_LEN));
	release_still_intact(_metadata, self);
}

TEST_F(release, at_a_misaligned_offset_fails_with_EINVAL)
{
	static const uint64_t delta[] = { 1, 8, 2048, PAGE - 1 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(delta); i++) {
		ASSERT_EQ(-EINVAL, kt_release(self->fd, self->off + delta[i],
						 REL_LEN))
			TH_LOG("offset + %llu", (unsigned long long)delta[i]);
		ASSERT_POOL(self->fd, REL_SLICE, 1);
	}
	release_still_intact(_metadata, self);
}

TEST_F(release, at_an_offset_past_the_pool_fails_with_EINVAL)
{
	static const uint64_t offs[] = {
		REL_POOL, REL_POOL + PAGE, 1ULL << 32, 1ULL << 63,
		~(uint64_t)(PAGE - 1),
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		ASSERT_EQ(-EINVAL, kt_release(self->fd, offs[i], REL_LEN))
			TH_LOG("offset %#llx", (unsigned long long)offs[i]);
		ASSERT_EQ(-EINVAL, kt_release(self->fd, offs[i], PAGE));
	}
	release_still_intact(_metadata, self);
}

TEST_F(release, with_a_length_other_than_the_one_received_fails_with_EINVAL)
{
	const uint64_t lens[] = {
		0, 1, REL_LEN - 1, REL_LEN + 1, REL_SLICE, PAGE,
		REL_POOL - self->off + 1,		/* past the pool */
		UINT64_MAX, 1ULL << 32 | REL_LEN,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(-EINVAL, kt_release(self->fd, self->off, lens[i]))
			TH_LOG("len %llu", (unsigned long long)lens[i]);
		ASSERT_POOL(self->fd, REL_SLICE, 1);
	}
	/* a length past the pool at an offset held by no one either */
	ASSERT_EQ(-EINVAL, kt_release(self->fd, REL_POOL - PAGE, 2 * PAGE));
	release_still_intact(_metadata, self);
}

TEST_F(release, with_flags_a_deadline_or_reserved_bits_fails_with_EINVAL)
{
	struct kport_slice s;
	unsigned int i;

	memset(&s, 0, sizeof(s));
	s.offset = self->off;
	s.len = REL_LEN;
	s.flags = KPORT_MSG_NONBLOCK;
	ASSERT_EQ(-EINVAL, slice_ioctl(self->fd, KPORT_IOC_RELEASE, &s));
	s.flags = KPORT_MSG_DEADLINE;
	s.deadline_ns = LONG_WAIT();
	ASSERT_EQ(-EINVAL, slice_ioctl(self->fd, KPORT_IOC_RELEASE, &s));
	s.flags = 1ULL << 63;
	s.deadline_ns = 0;
	ASSERT_EQ(-EINVAL, slice_ioctl(self->fd, KPORT_IOC_RELEASE, &s));
	s.flags = 0;
	s.deadline_ns = 1;
	ASSERT_EQ(-EINVAL, slice_ioctl(self->fd, KPORT_IOC_RELEASE, &s));
	s.deadline_ns = 0;
	for (i = 0; i < ARRAY_SIZE(s.__reserved); i++) {
		s.__reserved[i] = 1;
		ASSERT_EQ(-EINVAL, slice_ioctl(self->fd, KPORT_IOC_RELEASE, &s))
			TH_LOG("__reserved[%u]", i);
		s.__reserved[i] = 0;
	}
	ASSERT_POOL(self->fd, REL_SLICE, 1);
	release_still_intact(_metadata, self);
}

TEST_F(release, on_a_port_without_a_pool_fails_with_EOPNOTSUPP)
{
	int plain;

	plain = make_port(&self->e, 1, 0, 4, 64, 0);
	ASSERT_LE(0, plain);
	ASSERT_EQ(-EOPNOTSUPP, kt_release(plain, self->off, REL_LEN));
	ASSERT_EQ(-EOPNOTSUPP, kt_release(plain, 0, PAGE));
	ASSERT_EQ(0, kt_send(plain, "x", 1, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(-EOPNOTSUPP, kt_release(plain, 0, 1));
	release_still_intact(_metadata, self);
}

/* ==== A full pool ============================================================ */

#define FULL_POOL	(16 * PAGE)

FIXTURE(full_pool) {
	struct env e;
	int fd;
};

/* The pool is full: one message of its whole size (pattern 30) is queued. */
FIXTURE_SETUP(full_pool)
{
	env_setup(_metadata, &self->e);
	self->fd = make_port(&self->e, 0, 0, 8, FULL_POOL, FULL_POOL);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, send_pattern(self->fd, FULL_POOL, 30));
	ASSERT_POOL(self->fd, FULL_POOL, 0);
	ASSERT_QUEUED(self->fd, 1);
}

FIXTURE_TEARDOWN(full_pool)
{
	env_teardown(_metadata, &self->e);
}

/* Receive the message that fills the pool, and check it. */
static void full_pool_drain(struct __test_metadata *_metadata,
			    FIXTURE_DATA(full_pool) *self)
{
	unsigned char *buf = keep_buf(&self->e, FULL_POOL);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ((int)FULL_POOL, recv_msg(self->fd, buf, FULL_POOL,
					   KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0U, pat_check(buf, FULL_POOL, 30));
}

TEST_F(full_pool, a_nonblocking_send_fails_with_EAGAIN_and_queues_nothing)
{
	static unsigned char buf[THRESHOLD + 1];
	struct pollfd pfd = { .events = POLLOUT };
	int nb;

	pat_fill(buf, sizeof(buf), 31);
	ASSERT_EQ(-EAGAIN, kt_send(self->fd, buf, sizeof(buf), 0,
				   KPORT_MSG_NONBLOCK, 0));
	nb = open_port(&self->e, 0, KPORT_RIGHT_SEND, KPORT_OPEN_NONBLOCK);
	ASSERT_LE(0, nb);
	ASSERT_EQ(-EAGAIN, kt_send(nb, buf, sizeof(buf), 0, 0, 0));
	ASSERT_EQ(-1, write(nb, buf, sizeof(buf)));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_QUEUED(self->fd, 1);
	ASSERT_POOL(self->fd, FULL_POOL, 0);
	/* EPOLLOUT is about the queue; a message within the threshold passes */
	pfd.fd = self->fd;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_TRUE(pfd.revents & POLLOUT);
	ASSERT_EQ(0, kt_send(self->fd, buf, THRESHOLD, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_QUEUED(self->fd, 2);
	ASSERT_POOL(self->fd, FULL_POOL, 0);
	full_pool_drain(_metadata, self);
	ASSERT_EQ((int)THRESHOLD, recv_msg(self->fd, buf, sizeof(buf),
					   KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0U, pat_check(buf, THRESHOLD, 31));
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(full_pool, a_send_with_a_deadline_fails_with_ETIMEDOUT_not_before_it)
{
	static unsigned char buf[20000];
	uint64_t deadline = kt_deadline_ms(150);

	ASSERT_EQ(-ETIMEDOUT, kt_send(self->fd, buf, sizeof(buf), 0,
				      KPORT_MSG_DEADLINE, deadline));
	ASSERT_LE(deadline, kt_now_ns());
	ASSERT_QUEUED(self->fd, 1);
	ASSERT_POOL(self->fd, FULL_POOL, 0);
	/* a deadline already past fails at once */
	ASSERT_EQ(-ETIMEDOUT, kt_send(self->fd, buf, sizeof(buf), 0,
				      KPORT_MSG_DEADLINE, kt_now_ns() - 1));
	full_pool_drain(_metadata, self);
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(full_pool, a_blocked_sender_completes_when_the_receiver_releases_its_slice)
{
	unsigned char *buf;
	struct kport_msg m;
	pid_t pid;

	/* taken in place: the queue is empty, the pool still full */
	ASSERT_EQ((int)FULL_POOL, recv_inplace(self->fd, KPORT_MSG_NONBLOCK, &m));
	ASSERT_QUEUED(self->fd, 0);
	ASSERT_POOL(self->fd, FULL_POOL, 1);
	pid = keep_kid(&self->e, 0, fork_pattern_sender(self->fd, 20000, 32, 0));
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, kt_wait_sleeping(pid, "kport"));
	kt_sleep_ms(50);
	ASSERT_TRUE(running(pid));
	buf = keep_buf(&self->e, 20000);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(-EAGAIN, recv_msg(self->fd, buf, 20000, KPORT_MSG_NONBLOCK,
				    NULL));
	ASSERT_EQ(0, kt_release(self->fd, m.offset, FULL_POOL));
	ASSERT_EQ(0, reap_kid(&self->e, 0));
	ASSERT_POOL(self->fd, PAGE_UP(20000), 0);
	ASSERT_EQ(20000, recv_msg(self->fd, buf, 20000, KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ(pid, m.pid);
	ASSERT_EQ(0U, pat_check(buf, 20000, 32));
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(full_pool, a_plain_receive_makes_room_for_a_blocked_sender)
{
	unsigned char *buf;
	pid_t pid;

	pid = keep_kid(&self->e, 0, fork_pattern_sender(self->fd, FULL_POOL,
							33, 0));
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, kt_wait_sleeping(pid, "kport"));
	ASSERT_TRUE(running(pid));
	ASSERT_QUEUED(self->fd, 1);
	full_pool_drain(_metadata, self);
	ASSERT_EQ(0, reap_kid(&self->e, 0));
	buf = keep_buf(&self->e, FULL_POOL);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ((int)FULL_POOL, recv_msg(self->fd, buf, FULL_POOL,
					   KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0U, pat_check(buf, FULL_POOL, 33));
	ASSERT_POOL(self->fd, 0, 0);
}

static void on_signal(int sig)
{
	(void)sig;
}

TEST_F(full_pool, a_signal_interrupts_a_sender_waiting_for_room_or_restarts_it)
{
	unsigned char *buf;
	struct kport_msg m;
	pid_t pid;

	ASSERT_EQ((int)FULL_POOL, recv_inplace(self->fd, KPORT_MSG_NONBLOCK, &m));
	/* without SA_RESTART: EINTR, nothing sent */
	pid = keep_kid(&self->e, 0, kt_fork());
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p = malloc(20000);

		KT_CHILD_ASSERT(p);
		KT_CHILD_ASSERT(kt_sigaction(SIGUSR1, on_signal, 0) == 0);
		pat_fill(p, 20000, 35);
		KT_CHILD_ASSERT(send_msg(self->fd, p, 20000, 0) == -EINTR);
		_exit(0);
	}
	ASSERT_EQ(0, kt_wait_sleeping(pid, "kport"));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, reap_kid(&self->e, 0));
	ASSERT_QUEUED(self->fd, 0);
	ASSERT_POOL(self->fd, FULL_POOL, 1);
	/* with SA_RESTART: waits on, and sends once there is room */
	pid = keep_kid(&self->e, 0, kt_fork());
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p = malloc(20000);

		KT_CHILD_ASSERT(p);
		KT_CHILD_ASSERT(kt_sigaction(SIGUSR1, on_signal, SA_RESTART) == 0);
		pat_fill(p, 20000, 36);
		KT_CHILD_ASSERT(send_msg(self->fd, p, 20000, 0) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_wait_sleeping(pid, "kport"));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	kt_sleep_ms(50);
	ASSERT_EQ(0, kt_wait_sleeping(pid, "kport"));
	ASSERT_TRUE(running(pid));
	ASSERT_EQ(0, kt_release(self->fd, m.offset, FULL_POOL));
	ASSERT_EQ(0, reap_kid(&self->e, 0));
	buf = keep_buf(&self->e, 20000);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(20000, recv_msg(self->fd, buf, 20000, KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0U, pat_check(buf, 20000, 36));
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(full_pool, deleting_the_port_fails_a_sender_waiting_for_room_with_EIDRM)
{
	pid_t pid;

	pid = keep_kid(&self->e, 0, fork_pattern_sender(self->fd, 20000, 34,
							-EIDRM));
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, kt_wait_sleeping(pid, "kport"));
	kt_sleep_ms(20);
	ASSERT_TRUE(running(pid));
	ASSERT_EQ(0, kt_delete(self->fd));
	ASSERT_EQ(0, reap_kid(&self->e, 0));
	/* deletion freed the queued message and its slice */
	ASSERT_POOL(self->fd, 0, 0);
}

/* ==== Slices come back ======================================================= */

#define RC_POOL		(32 * PAGE)

FIXTURE(reclaim) {
	struct env e;
	int fd;
};

FIXTURE_SETUP(reclaim)
{
	env_setup(_metadata, &self->e);
	self->fd = make_port(&self->e, 0, 0, 8, RC_POOL, RC_POOL);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(reclaim)
{
	env_teardown(_metadata, &self->e);
}

/* The whole pool is free: a message of its size goes in at once. */
static void reclaim_pool_whole(struct __test_metadata *_metadata,
			       FIXTURE_DATA(reclaim) *self)
{
	struct kport_msg m;

	ASSERT_POOL(self->fd, 0, 0);
	ASSERT_EQ(0, send_pattern(self->fd, RC_POOL, 40));
	ASSERT_EQ((int)RC_POOL, recv_inplace(self->fd, KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ(0, kt_release(self->fd, m.offset, RC_POOL));
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(reclaim, a_receiver_killed_while_holding_slices_gives_them_back)
{
	unsigned int i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, send_pattern(self->fd, RC_LEN, 41 + i));
	}
	keep_kid(&self->e, 0, kt_fork());
	ASSERT_LE(0, self->e.kids[0]);
	if (self->e.kids[0] == 0) {
		const unsigned char *map;
		struct kport_msg m;
		int fd;

		fd = kt_open(self->e.names[0], KPORT_RIGHT_RECV, 0);
		KT_CHILD_ASSERT(fd >= 0);
		map = mmap(NULL, RC_POOL, PROT_READ, MAP_SHARED, fd, 0);
		KT_CHILD_ASSERT(map != MAP_FAILED);
		for (i = 0; i < 3; i++) {
			KT_CHILD_ASSERT(recv_inplace(fd, 0, &m) == (int)RC_LEN);
			KT_CHILD_ASSERT(pat_check(map + m.offset, RC_LEN,
						  41 + i) == 0);
		}
		KT_CHILD_ASSERT(kt_token_put(self->e.to_parent[1], 'h') == 0);
		kt_token_get(self->e.to_kid[0], -1);
		_exit(1);
	}
	ASSERT_EQ('h', kt_token_get(self->e.to_parent[0], -1));
	ASSERT_POOL(self->fd, 3 * PAGE_UP(RC_LEN), 3);
	ASSERT_EQ(0, kill(self->e.kids[0], SIGKILL));
	ASSERT_EQ(128 + SIGKILL, reap_kid(&self->e, 0));
	reclaim_pool_whole(_metadata, self);
}

TEST_F(reclaim, closing_a_handle_that_holds_slices_gives_them_back)
{
	struct kport_msg m;
	unsigned int i;
	int h2;

	h2 = open_port(&self->e, 0, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, h2);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, send_pattern(self->fd, RC_LEN, 45 + i));
		ASSERT_EQ((int)RC_LEN, recv_inplace(h2, KPORT_MSG_NONBLOCK, &m));
	}
	ASSERT_POOL(self->fd, 4 * PAGE_UP(RC_LEN), 4);
	close_fd(&self->e, h2);
	reclaim_pool_whole(_metadata, self);
}

TEST_F(reclaim, a_closed_handle_keeps_its_slices_while_its_mapping_lives)
{
	const unsigned char *map;
	struct kport_msg m;
	int h2;

	h2 = open_port(&self->e, 0, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, h2);
	map = map_pool(&self->e, h2, RC_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, send_pattern(self->fd, RC_LEN, 49));
	ASSERT_EQ((int)RC_LEN, recv_inplace(h2, KPORT_MSG_NONBLOCK, &m));
	/* the mapping holds the handle's file: the handle is not released */
	close_fd(&self->e, h2);
	ASSERT_POOL(self->fd, PAGE_UP(RC_LEN), 1);
	ASSERT_EQ(0U, pat_check(map + m.offset, RC_LEN, 49));
	ASSERT_EQ(0, unmap_pool(&self->e, (void *)map, RC_POOL));
	reclaim_pool_whole(_metadata, self);
}

/* ==== The library ============================================================ */

#define LIB_MSG		MIB
#define LIB_POOL	(2 * MIB)

FIXTURE(libkport) {
	struct env e;
};

FIXTURE_SETUP(libkport)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(libkport)
{
	env_teardown(_metadata, &self->e);
}

static int lib_port(struct env *e, int idx, uint64_t flags)
{
	struct kport_attr a = KPORT_ATTR_DEFAULT;

	a.flags = flags;
	a.msg_size = LIB_MSG;
	a.pool_size = LIB_POOL;
	a.capacity = 4;
	return keep_fd(e, kport_create(e->names[idx], &a));
}

TEST_F(libkport, kport_send_and_kport_recv_carry_1_mib_through_the_pool)
{
	struct kport_info info;
	unsigned char *buf;
	pid_t pid;
	int fd;

	fd = lib_port(&self->e, 0, 0);
	ASSERT_LE(0, fd);
	pid = keep_kid(&self->e, 0, kt_fork());
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned char *p = malloc(LIB_MSG);

		KT_CHILD_ASSERT(p);
		pat_fill(p, LIB_MSG, 70);
		KT_CHILD_ASSERT(kport_send(fd, p, LIB_MSG, 1, 0) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, reap_kid(&self->e, 0));
	/* it went through the pool */
	ASSERT_POOL(fd, LIB_MSG, 0);
	buf = keep_buf(&self->e, LIB_MSG);
	ASSERT_NE(NULL, buf);
	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ((ssize_t)LIB_MSG, kport_recv(fd, buf, LIB_MSG,
					       KPORT_MSG_NONBLOCK, &info));
	ASSERT_EQ((size_t)LIB_MSG, info.len);
	ASSERT_EQ(pid, info.pid);
	ASSERT_EQ(1U, info.priority);
	ASSERT_EQ(0, info.in_pool);
	ASSERT_EQ(0U, pat_check(buf, LIB_MSG, 70));
	ASSERT_POOL(fd, 0, 0);
}

TEST_F(libkport, kport_recv_inplace_points_into_the_pool_and_kport_release_frees_it)
{
	struct kport_info info;
	const void *data;
	char small[64];
	void *pool;
	size_t size;
	int fd, rfd;

	fd = lib_port(&self->e, 0, 0);
	ASSERT_LE(0, fd);
	rfd = keep_fd(&self->e, kport_open(self->e.names[0], KPORT_RIGHT_RECV));
	ASSERT_LE(0, rfd);
	ASSERT_EQ(0, kport_pool_map(rfd, 0, &pool, &size));
	ASSERT_EQ((size_t)LIB_POOL, size);
	track_map(&self->e, pool, size);
	ASSERT_EQ(0, send_pattern(fd, LIB_MSG, 71));
	ASSERT_EQ(0, kport_send(fd, "tiny", 5, 0, KPORT_MSG_NONBLOCK));
	ASSERT_EQ((ssize_t)LIB_MSG, kport_recv_inplace(rfd, pool, small,
						       sizeof(small), &data,
						       KPORT_MSG_NONBLOCK,
						       &info));
	ASSERT_EQ(1, info.in_pool);
	ASSERT_EQ((size_t)LIB_MSG, info.len);
	ASSERT_EQ((const char *)pool + info.offset, (const char *)data);
	ASSERT_EQ(0U, pat_check(data, LIB_MSG, 71));
	ASSERT_POOL(fd, LIB_MSG, 1);
	/* a small message is copied into the buffer */
	{
		struct kport_info i2;
		const void *d2;

		ASSERT_EQ(5, kport_recv_inplace(rfd, pool, small, sizeof(small),
						&d2, KPORT_MSG_NONBLOCK, &i2));
		ASSERT_EQ(0, i2.in_pool);
		ASSERT_EQ((const void *)small, d2);
		ASSERT_STREQ("tiny", small);
	}
	ASSERT_EQ(0, kport_release(rfd, info.offset, info.len));
	ASSERT_POOL(fd, 0, 0);
	ASSERT_EQ(-ENOENT, kport_release(rfd, info.offset, info.len));
	forget_map(&self->e, pool);
	ASSERT_EQ(0, kport_pool_unmap(pool, size));
}

TEST_F(libkport, kport_borrow_and_kport_post_send_a_slice_without_a_copy)
{
	struct kport_info info;
	const void *data;
	void *wpool, *rpool;
	size_t wsize, rsize;
	uint64_t off, a, b;
	int fd, rfd;

	fd = lib_port(&self->e, 0, KPORT_CREATE_ZEROCOPY);
	ASSERT_LE(0, fd);
	rfd = keep_fd(&self->e, kport_open(self->e.names[0], KPORT_RIGHT_RECV));
	ASSERT_LE(0, rfd);
	ASSERT_EQ(0, kport_pool_map(fd, KPORT_POOL_WRITE, &wpool, &wsize));
	track_map(&self->e, wpool, wsize);
	ASSERT_EQ(0, kport_pool_map(rfd, 0, &rpool, &rsize));
	track_map(&self->e, rpool, rsize);
	ASSERT_EQ(0, kport_borrow(fd, 300000, 0, &off));
	pat_fill((char *)wpool + off, 300000, 72);
	ASSERT_EQ(0, kport_post(fd, off, 300000, 2, 0));
	ASSERT_EQ(300000, kport_recv_inplace(rfd, rpool, NULL, 0, &data,
					     KPORT_MSG_NONBLOCK, &info));
	ASSERT_EQ(1, info.in_pool);
	ASSERT_EQ(off, info.offset);
	ASSERT_EQ(getpid(), info.pid);
	ASSERT_EQ(2U, info.priority);
	ASSERT_EQ(0U, pat_check(data, 300000, 72));
	ASSERT_EQ(0, kport_release(rfd, info.offset, info.len));
	/* an exhausted pool: no wait, or a bounded one */
	ASSERT_EQ(0, kport_borrow(fd, LIB_MSG, 0, &a));
	ASSERT_EQ(0, kport_borrow(fd, LIB_MSG,
				  KT_TIMEOUT_MS * (int64_t)KT_NSEC_PER_MSEC, &b));
	ASSERT_EQ(-ETIMEDOUT, kport_borrow(fd, 1, 0, &off));
	ASSERT_EQ(-ETIMEDOUT, kport_borrow(fd, 1, 50 * KT_NSEC_PER_MSEC, &off));
	ASSERT_EQ(0, kport_release(fd, a, LIB_MSG));
	ASSERT_EQ(0, kport_release(fd, b, LIB_MSG));
	ASSERT_POOL(fd, 0, 0);
}

TEST_HARNESS_MAIN
