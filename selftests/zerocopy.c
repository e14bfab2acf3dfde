// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftest: zero-copy ports (doc/semantics.md, "The pool (large
 * payloads)", Zero-copy).
 *
 * On a port created with KPORT_CREATE_ZEROCOPY a sender maps the pool
 * writable, borrows a slice (KPORT_IOC_BORROW), writes the payload there
 * itself and sends it with KPORT_MSG_POST; receivers take it in place and
 * RELEASE it.  The tests (zerocopy.*): who may borrow and how much, who
 * may map the pool writable, a post reaching another process, every way
 * a post is refused and that the slice stays borrowed, a borrowed slice
 * given back unposted or with its handle, waiting for a slice, posts in a
 * batch.
 *
 * The pool's other rules are tested in pool.c and mmap.c; the helpers and
 * the environment the fixtures share are in pool_test.h.
 */
#include "kport_test.h"
#include "pool_test.h"

#define ZC_POOL		(16 * PAGE)
#define ZC_MSG		(8 * PAGE)

/*
 * Borrow @len bytes; @flags KPORT_MSG_NONBLOCK, KPORT_MSG_DEADLINE (with
 * @deadline), or 0 for a wait bounded by KT_TIMEOUT_MS.  Sets *@offset.
 */
static int slice_borrow(int fd, uint64_t len, uint64_t flags,
			uint64_t deadline, uint64_t *offset)
{
	struct kport_slice s;
	int ret;

	memset(&s, 0, sizeof(s));
	if (!(flags & (KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE))) {
		flags |= KPORT_MSG_DEADLINE;
		deadline = LONG_WAIT();
	}
	s.flags = flags;
	s.len = len;
	if (flags & KPORT_MSG_DEADLINE)
		s.deadline_ns = deadline;
	ret = slice_ioctl(fd, KPORT_IOC_BORROW, &s);
	if (!ret && offset)
		*offset = s.offset;
	return ret;
}

/* POST the borrowed slice at @offset as a message of @len bytes. */
static int slice_post_buf(int fd, uint64_t offset, uint32_t len,
			  uint64_t flags, uint64_t buf)
{
	struct kport_msg m;
	int ret;

	memset(&m, 0, sizeof(m));
	if (!(flags & (KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE))) {
		flags |= KPORT_MSG_DEADLINE;
		m.deadline_ns = LONG_WAIT();
	}
	m.flags = flags | KPORT_MSG_POST;
	m.buf = buf;
	m.offset = offset;
	m.len = len;
	ret = kt_ioctl(fd, KPORT_IOC_SEND, &m);
	return ret < 0 ? ret : 0;
}

static int slice_post(int fd, uint64_t offset, uint32_t len, uint64_t flags)
{
	return slice_post_buf(fd, offset, len, flags, 0);
}

FIXTURE(zerocopy) {
	struct env e;
	int fd;			/* names[0], zero-copy, all rights */
	unsigned char *wmap;	/* fd's writable mapping */
};

FIXTURE_SETUP(zerocopy)
{
	struct kport_version v;

	env_setup(_metadata, &self->e);
	v = version(_metadata);
	ASSERT_TRUE(v.features & KPORT_FEAT_ZEROCOPY);
	self->fd = make_port(&self->e, 0, KPORT_CREATE_ZEROCOPY, 4, ZC_MSG,
			     ZC_POOL);
	ASSERT_LE(0, self->fd);
	self->wmap = map_pool(&self->e, self->fd, ZC_POOL,
			      PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, self->wmap);
}

FIXTURE_TEARDOWN(zerocopy)
{
	env_teardown(_metadata, &self->e);
}

/* Borrow @len bytes on fd, fill them with pattern @seed; the offset. */
static uint64_t zc_fill(struct __test_metadata *_metadata,
			FIXTURE_DATA(zerocopy) *self, uint32_t len,
			uint32_t seed)
{
	uint64_t off = ~0ULL;

	ASSERT_EQ(0, slice_borrow(self->fd, len, KPORT_MSG_NONBLOCK, 0, &off));
	ASSERT_EQ(0ULL, off % PAGE);
	ASSERT_GE(ZC_POOL, off + len);
	pat_fill(self->wmap + off, len, seed);
	return off;
}

/* Receive in place on fd a message of @len bytes, pattern @seed, at @off. */
static void zc_take(struct __test_metadata *_metadata,
		    FIXTURE_DATA(zerocopy) *self, uint64_t off, uint32_t len,
		    uint32_t seed)
{
	struct kport_msg m;

	ASSERT_EQ((int)len, recv_inplace(self->fd, KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ((uint32_t)KPORT_RESULT_INPLACE, m.result);
	ASSERT_EQ(off, m.offset);
	ASSERT_EQ(0U, pat_check(self->wmap + off, len, seed));
	ASSERT_EQ(0, kt_release(self->fd, off, len));
}

TEST_F(zerocopy, borrowing_without_the_send_right_fails_with_EBADF)
{
	int r, h0;

	r = open_port(&self->e, 0, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, r);
	h0 = open_port(&self->e, 0, 0, 0);
	ASSERT_LE(0, h0);
	ASSERT_EQ(-EBADF, slice_borrow(r, PAGE, KPORT_MSG_NONBLOCK, 0, NULL));
	ASSERT_EQ(-EBADF, slice_borrow(h0, PAGE, KPORT_MSG_NONBLOCK, 0, NULL));
	ASSERT_POOL(self->fd, 0, 0);
}

/* A deleted port lends nothing, whether its pool has room or not. */
TEST_F(zerocopy, borrowing_on_a_deleted_port_fails_with_EIDRM)
{
	ASSERT_EQ(0, kt_delete(self->fd));
	ASSERT_EQ(-EIDRM, slice_borrow(self->fd, PAGE, KPORT_MSG_NONBLOCK, 0, NULL));
	ASSERT_EQ(-EIDRM, slice_borrow(self->fd, PAGE, 0, 0, NULL));
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(zerocopy, borrowing_on_a_port_that_is_not_zero_copy_fails_with_EOPNOTSUPP)
{
	int pool, plain;

	pool = make_port(&self->e, 1, 0, 4, ZC_MSG, ZC_POOL);
	ASSERT_LE(0, pool);
	plain = make_port(&self->e, 2, 0, 4, 64, 0);
	ASSERT_LE(0, plain);
	ASSERT_EQ(-EOPNOTSUPP, slice_borrow(pool, PAGE, KPORT_MSG_NONBLOCK, 0,
					    NULL));
	ASSERT_EQ(-EOPNOTSUPP, slice_borrow(plain, 8, KPORT_MSG_NONBLOCK, 0,
					    NULL));
	ASSERT_POOL(pool, 0, 0);
}

TEST_F(zerocopy, borrowing_zero_bytes_or_more_than_msg_size_fails_with_EINVAL)
{
	uint64_t off;

	ASSERT_EQ(-EINVAL, slice_borrow(self->fd, 0, KPORT_MSG_NONBLOCK, 0,
					NULL));
	ASSERT_EQ(-EINVAL, slice_borrow(self->fd, ZC_MSG + 1,
					KPORT_MSG_NONBLOCK, 0, NULL));
	ASSERT_EQ(-EINVAL, slice_borrow(self->fd, ZC_POOL, KPORT_MSG_NONBLOCK,
					0, NULL));
	ASSERT_EQ(-EINVAL, slice_borrow(self->fd, 1ULL << 32 | 1,
					KPORT_MSG_NONBLOCK, 0, NULL));
	ASSERT_POOL(self->fd, 0, 0);
	/* msg_size itself is fine, and so is one byte */
	ASSERT_EQ(0, slice_borrow(self->fd, ZC_MSG, KPORT_MSG_NONBLOCK, 0, &off));
	ASSERT_POOL(self->fd, ZC_MSG, 1);
	ASSERT_EQ(0, kt_release(self->fd, off, ZC_MSG));
	ASSERT_EQ(0, slice_borrow(self->fd, 1, KPORT_MSG_NONBLOCK, 0, &off));
	ASSERT_POOL(self->fd, PAGE, 1);
	ASSERT_EQ(0, kt_release(self->fd, off, 1));
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(zerocopy, a_send_only_handle_maps_the_pool_read_only_and_writable)
{
	unsigned char *w;
	int s, ro, rw;

	s = open_port(&self->e, 0, KPORT_RIGHT_SEND, 0);
	ASSERT_LE(0, s);
	ro = try_map(s, ZC_POOL, PROT_READ, MAP_SHARED, 0);
	rw = try_map(s, ZC_POOL, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
	TH_LOG("send-only handle: read-only mmap %d, writable mmap %d", ro, rw);
	ASSERT_EQ(0, ro);
	ASSERT_EQ(0, rw);
	/* what it writes is what the receivers see */
	w = map_pool(&self->e, s, ZC_POOL, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, w);
	pat_fill(w, ZC_POOL, 60);
	ASSERT_EQ(0U, pat_check(self->wmap, ZC_POOL, 60));
	/* mapping is all it may do of a receiver's: no read(), no receive */
	ASSERT_EQ(0, kt_send(self->fd, "x", 1, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(-1, read(s, w, 1));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(-EBADF, recv_msg(s, w, 1, KPORT_MSG_NONBLOCK, NULL));
	ASSERT_QUEUED(self->fd, 1);
}

TEST_F(zerocopy, a_handle_with_the_send_right_maps_the_pool_writable_and_shared)
{
	const unsigned char *r;
	uint64_t off;
	int rfd;

	rfd = open_port(&self->e, 0, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, rfd);
	r = map_pool(&self->e, rfd, ZC_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, r);
	/* a receiver may not map a zero-copy pool writable */
	ASSERT_EQ(-EACCES, try_map(rfd, ZC_POOL, PROT_READ | PROT_WRITE,
				   MAP_SHARED, 0));
	/* the fixture's handle has it mapped PROT_READ | PROT_WRITE */
	off = zc_fill(_metadata, self, ZC_MSG, 61);
	ASSERT_EQ(0U, pat_check(r + off, ZC_MSG, 61));
	ASSERT_EQ(0, kt_release(self->fd, off, ZC_MSG));
}

TEST_F(zerocopy, a_posted_slice_reaches_another_process_in_place_with_its_sender)
{
	const uint32_t len = 20000;
	uint64_t off;
	pid_t me = getpid();

	keep_kid(&self->e, 0, kt_fork());
	ASSERT_LE(0, self->e.kids[0]);
	if (self->e.kids[0] == 0) {
		const unsigned char *map;
		struct kport_msg m;
		int fd;

		fd = kt_open(self->e.names[0], KPORT_RIGHT_RECV, 0);
		KT_CHILD_ASSERT(fd >= 0);
		map = mmap(NULL, ZC_POOL, PROT_READ, MAP_SHARED, fd, 0);
		KT_CHILD_ASSERT(map != MAP_FAILED);
		KT_CHILD_ASSERT(kt_token_put(self->e.to_parent[1], 'r') == 0);
		KT_CHILD_ASSERT(recv_inplace(fd, 0, &m) == (int)len);
		KT_CHILD_ASSERT(m.result == KPORT_RESULT_INPLACE);
		KT_CHILD_ASSERT(m.pid == me);
		KT_CHILD_ASSERT(m.uid == geteuid());
		KT_CHILD_ASSERT(m.priority == 3);
		KT_CHILD_ASSERT(pat_check(map + m.offset, len, 62) == 0);
		/* tell the parent where it was */
		KT_CHILD_ASSERT(kt_write_full(self->e.to_parent[1], &m.offset,
					      sizeof(m.offset)) == 0);
		KT_CHILD_ASSERT(kt_release(fd, m.offset, len) == 0);
		_exit(0);
	}
	ASSERT_EQ('r', kt_token_get(self->e.to_parent[0], -1));
	off = zc_fill(_metadata, self, len, 62);
	ASSERT_POOL(self->fd, PAGE_UP(len), 1);
	{
		struct kport_msg m;

		memset(&m, 0, sizeof(m));
		m.flags = KPORT_MSG_POST | KPORT_MSG_DEADLINE;
		m.deadline_ns = LONG_WAIT();
		m.offset = off;
		m.len = len;
		m.priority = 3;
		ASSERT_EQ(0, kt_ioctl(self->fd, KPORT_IOC_SEND, &m));
	}
	ASSERT_EQ(0, reap_kid(&self->e, 0));
	{
		uint64_t where;

		ASSERT_EQ(0, kt_read_full(self->e.to_parent[0], &where,
					  sizeof(where)));
		ASSERT_EQ(off, where) TH_LOG("the payload did not stay put");
	}
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(zerocopy, posting_a_slice_that_was_not_borrowed_fails_with_ENOENT)
{
	struct kport_msg m;
	uint64_t off, o, held;

	off = zc_fill(_metadata, self, 5000, 63);
	/* a slice held after an in-place receive is not a borrowed one */
	ASSERT_EQ(0, send_pattern(self->fd, 20000, 64));
	ASSERT_EQ(20000, recv_inplace(self->fd, KPORT_MSG_NONBLOCK, &m));
	held = m.offset;
	ASSERT_EQ(-ENOENT, slice_post(self->fd, held, 20000, KPORT_MSG_NONBLOCK));
	ASSERT_EQ(-ENOENT, slice_post(self->fd, held, 5000, KPORT_MSG_NONBLOCK));
	for (o = 0; o < ZC_POOL; o += PAGE) {
		if (o == off || o == held)
			continue;
		ASSERT_EQ(-ENOENT, slice_post(self->fd, o, 100,
					      KPORT_MSG_NONBLOCK))
			TH_LOG("offset %llu", (unsigned long long)o);
	}
	ASSERT_QUEUED(self->fd, 0);
	ASSERT_POOL(self->fd, 2 * PAGE + 5 * PAGE, 2);
	ASSERT_EQ(0U, pat_check(self->wmap + held, 20000, 64));
	ASSERT_EQ(0, kt_release(self->fd, held, 20000));
	/* the borrowed one still posts */
	ASSERT_EQ(0, slice_post(self->fd, off, 5000, 0));
	zc_take(_metadata, self, off, 5000, 63);
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(zerocopy, posting_more_than_was_borrowed_fails_with_EINVAL)
{
	uint64_t off;

	off = zc_fill(_metadata, self, 8000, 65);
	ASSERT_EQ(-EINVAL, slice_post(self->fd, off, 8001, KPORT_MSG_NONBLOCK));
	ASSERT_EQ(-EINVAL, slice_post(self->fd, off, 2 * PAGE,
				      KPORT_MSG_NONBLOCK));
	ASSERT_EQ(-EINVAL, slice_post(self->fd, off, ZC_MSG, KPORT_MSG_NONBLOCK));
	ASSERT_QUEUED(self->fd, 0);
	ASSERT_POOL(self->fd, 2 * PAGE, 1);
	/* less than borrowed is a shorter message */
	ASSERT_EQ(0, slice_post(self->fd, off, 6000, 0));
	ASSERT_POOL(self->fd, 2 * PAGE, 0);
	zc_take(_metadata, self, off, 6000, 65);
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(zerocopy, posting_with_a_buffer_fails_with_EINVAL)
{
	static char other[16];
	uint64_t off;

	off = zc_fill(_metadata, self, 9000, 66);
	ASSERT_EQ(-EINVAL, slice_post_buf(self->fd, off, 9000,
					  KPORT_MSG_NONBLOCK,
					  (uintptr_t)other));
	ASSERT_EQ(-EINVAL, slice_post_buf(self->fd, off, 9000,
					  KPORT_MSG_NONBLOCK,
					  (uintptr_t)(self->wmap + off)));
	ASSERT_QUEUED(self->fd, 0);
	ASSERT_POOL(self->fd, 3 * PAGE, 1);
	ASSERT_EQ(0, slice_post(self->fd, off, 9000, 0));
	zc_take(_metadata, self, off, 9000, 66);
}

TEST_F(zerocopy, posting_another_length_on_a_fixed_port_fails_with_EMSGSIZE)
{
	const uint32_t size = 20000;
	unsigned char *w;
	struct kport_msg m;
	uint64_t off;
	int fx;

	fx = make_port(&self->e, 1, KPORT_CREATE_ZEROCOPY | KPORT_CREATE_FIXED,
		       4, size, ZC_POOL);
	ASSERT_LE(0, fx);
	w = map_pool(&self->e, fx, ZC_POOL, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, w);
	ASSERT_EQ(0, slice_borrow(fx, size, KPORT_MSG_NONBLOCK, 0, &off));
	pat_fill(w + off, size, 67);
	ASSERT_EQ(-EMSGSIZE, slice_post(fx, off, size - 1, KPORT_MSG_NONBLOCK));
	ASSERT_EQ(-EMSGSIZE, slice_post(fx, off, 1, KPORT_MSG_NONBLOCK));
	ASSERT_QUEUED(fx, 0);
	ASSERT_POOL(fx, PAGE_UP(size), 1);
	ASSERT_EQ(0, slice_post(fx, off, size, 0));
	ASSERT_EQ((int)size, recv_inplace(fx, KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ(off, m.offset);
	ASSERT_EQ(0U, pat_check(w + off, size, 67));
	ASSERT_EQ(0, kt_release(fx, off, size));
	ASSERT_POOL(fx, 0, 0);
}

TEST_F(zerocopy, a_post_refused_with_EAGAIN_leaves_the_slice_borrowed)
{
	unsigned char *w;
	char small[8];
	struct kport_msg m;
	uint64_t off;
	int one;

	one = make_port(&self->e, 1, KPORT_CREATE_ZEROCOPY, 1, ZC_MSG, ZC_POOL);
	ASSERT_LE(0, one);
	w = map_pool(&self->e, one, ZC_POOL, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, w);
	/* capacity 1, full */
	ASSERT_EQ(0, kt_send(one, "full", 4, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(0, slice_borrow(one, 20000, KPORT_MSG_NONBLOCK, 0, &off));
	pat_fill(w + off, 20000, 68);
	ASSERT_EQ(-EAGAIN, slice_post(one, off, 20000, KPORT_MSG_NONBLOCK));
	ASSERT_QUEUED(one, 1);
	ASSERT_POOL(one, PAGE_UP(20000), 1);
	/* room again: the same slice posts */
	ASSERT_EQ(4, recv_msg(one, small, sizeof(small), KPORT_MSG_NONBLOCK,
			      NULL));
	ASSERT_EQ(0, slice_post(one, off, 20000, KPORT_MSG_NONBLOCK));
	ASSERT_POOL(one, PAGE_UP(20000), 0);
	ASSERT_EQ(20000, recv_inplace(one, KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ(off, m.offset);
	ASSERT_EQ(0U, pat_check(w + off, 20000, 68));
	ASSERT_EQ(0, kt_release(one, off, 20000));
	/* refused again, then given back unposted */
	ASSERT_EQ(0, kt_send(one, "full", 4, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(0, slice_borrow(one, 20000, KPORT_MSG_NONBLOCK, 0, &off));
	/* a deadline of 0, long past: refused at once */
	ASSERT_EQ(-ETIMEDOUT, slice_post(one, off, 20000, KPORT_MSG_DEADLINE));
	ASSERT_POOL(one, PAGE_UP(20000), 1);
	ASSERT_EQ(0, kt_release(one, off, 20000));
	ASSERT_POOL(one, 0, 0);
	ASSERT_QUEUED(one, 1);
}

TEST_F(zerocopy, releasing_a_borrowed_slice_unposted_gives_it_back)
{
	uint64_t off;

	ASSERT_EQ(0, slice_borrow(self->fd, 3 * PAGE, KPORT_MSG_NONBLOCK, 0,
				  &off));
	ASSERT_POOL(self->fd, 3 * PAGE, 1);
	ASSERT_EQ(-EINVAL, kt_release(self->fd, off, 3 * PAGE - 1));
	ASSERT_EQ(-EINVAL, kt_release(self->fd, off, 3 * PAGE + 1));
	ASSERT_POOL(self->fd, 3 * PAGE, 1);
	ASSERT_EQ(0, kt_release(self->fd, off, 3 * PAGE));
	ASSERT_POOL(self->fd, 0, 0);
	ASSERT_EQ(-ENOENT, kt_release(self->fd, off, 3 * PAGE));
	ASSERT_EQ(-ENOENT, slice_post(self->fd, off, 3 * PAGE,
				      KPORT_MSG_NONBLOCK));
	ASSERT_QUEUED(self->fd, 0);
}

TEST_F(zerocopy, a_borrowers_slices_are_freed_when_it_closes)
{
	uint64_t a, b;
	int h2;

	h2 = open_port(&self->e, 0, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, h2);
	ASSERT_EQ(0, slice_borrow(h2, ZC_MSG, KPORT_MSG_NONBLOCK, 0, &a));
	ASSERT_EQ(0, slice_borrow(h2, ZC_MSG, KPORT_MSG_NONBLOCK, 0, &b));
	ASSERT_POOL(self->fd, ZC_POOL, 2);
	ASSERT_EQ(-EAGAIN, slice_borrow(self->fd, 1, KPORT_MSG_NONBLOCK, 0,
					NULL));
	close_fd(&self->e, h2);
	ASSERT_POOL(self->fd, 0, 0);
	ASSERT_EQ(0, slice_borrow(self->fd, ZC_MSG, KPORT_MSG_NONBLOCK, 0, &a));
	ASSERT_EQ(0, slice_borrow(self->fd, ZC_MSG, KPORT_MSG_NONBLOCK, 0, &b));
	ASSERT_EQ(0, kt_release(self->fd, a, ZC_MSG));
	ASSERT_EQ(0, kt_release(self->fd, b, ZC_MSG));
}

TEST_F(zerocopy, borrowing_from_an_exhausted_pool_fails_with_EAGAIN_or_ETIMEDOUT)
{
	uint64_t a, b, deadline;
	int nb;

	ASSERT_EQ(0, slice_borrow(self->fd, ZC_MSG, KPORT_MSG_NONBLOCK, 0, &a));
	ASSERT_EQ(0, slice_borrow(self->fd, ZC_MSG, KPORT_MSG_NONBLOCK, 0, &b));
	ASSERT_POOL(self->fd, ZC_POOL, 2);
	ASSERT_EQ(-EAGAIN, slice_borrow(self->fd, 1, KPORT_MSG_NONBLOCK, 0,
					NULL));
	nb = open_port(&self->e, 0, KPORT_RIGHT_SEND, KPORT_OPEN_NONBLOCK);
	ASSERT_LE(0, nb);
	{
		struct kport_slice s;

		memset(&s, 0, sizeof(s));
		s.len = PAGE;
		ASSERT_EQ(-EAGAIN, slice_ioctl(nb, KPORT_IOC_BORROW, &s));
	}
	deadline = kt_deadline_ms(150);
	ASSERT_EQ(-ETIMEDOUT, slice_borrow(self->fd, PAGE, KPORT_MSG_DEADLINE,
					   deadline, NULL));
	ASSERT_LE(deadline, kt_now_ns());
	ASSERT_POOL(self->fd, ZC_POOL, 2);
	ASSERT_EQ(0, kt_release(self->fd, a, ZC_MSG));
	ASSERT_EQ(0, slice_borrow(self->fd, ZC_MSG, KPORT_MSG_NONBLOCK, 0, &a));
	ASSERT_EQ(0, kt_release(self->fd, a, ZC_MSG));
	ASSERT_EQ(0, kt_release(self->fd, b, ZC_MSG));
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(zerocopy, a_blocked_borrow_completes_when_a_slice_is_released)
{
	uint64_t a, b, got;
	pid_t pid;

	ASSERT_EQ(0, slice_borrow(self->fd, ZC_MSG, KPORT_MSG_NONBLOCK, 0, &a));
	ASSERT_EQ(0, slice_borrow(self->fd, ZC_MSG, KPORT_MSG_NONBLOCK, 0, &b));
	pid = keep_kid(&self->e, 0, kt_fork());
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint64_t off;

		KT_CHILD_ASSERT(slice_borrow(self->fd, 2 * PAGE, 0, 0,
					     &off) == 0);
		KT_CHILD_ASSERT(kt_write_full(self->e.to_parent[1], &off,
					      sizeof(off)) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_wait_sleeping(pid, "kport"));
	kt_sleep_ms(20);
	ASSERT_TRUE(running(pid));
	ASSERT_EQ(0, kt_release(self->fd, b, ZC_MSG));
	ASSERT_EQ(0, reap_kid(&self->e, 0));
	ASSERT_EQ(0, kt_read_full(self->e.to_parent[0], &got, sizeof(got)));
	/* the child borrowed through the handle it shares with us */
	ASSERT_POOL(self->fd, ZC_MSG + 2 * PAGE, 2);
	ASSERT_EQ(0, kt_release(self->fd, got, 2 * PAGE));
	ASSERT_EQ(0, kt_release(self->fd, a, ZC_MSG));
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(zerocopy, a_batch_posts_borrowed_slices_and_receives_them_in_place)
{
	static const uint32_t lens[3] = { 20000, 3 * PAGE, 5 };
	struct kport_msg m[3];
	uint64_t off[3];
	unsigned int i;

	memset(m, 0, sizeof(m));
	for (i = 0; i < 3; i++) {
		off[i] = zc_fill(_metadata, self, lens[i], 90 + i);
		m[i].flags = KPORT_MSG_POST;
		m[i].offset = off[i];
		m[i].len = lens[i];
	}
	ASSERT_EQ(3, kt_batch(self->fd, KPORT_IOC_SENDV, m, 3, KPORT_MSG_NONBLOCK, 0));
	ASSERT_QUEUED(self->fd, 3);
	ASSERT_POOL(self->fd, 5 * PAGE + 3 * PAGE + PAGE, 0);
	memset(m, 0, sizeof(m));
	for (i = 0; i < 3; i++)
		m[i].flags = KPORT_MSG_INPLACE;
	ASSERT_EQ(3, kt_batch(self->fd, KPORT_IOC_RECVV, m, 3, KPORT_MSG_NONBLOCK, 0));
	ASSERT_POOL(self->fd, 5 * PAGE + 3 * PAGE + PAGE, 3);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ((uint32_t)KPORT_RESULT_INPLACE, m[i].result);
		ASSERT_EQ(lens[i], m[i].len);
		ASSERT_EQ(off[i], m[i].offset);
		ASSERT_EQ(getpid(), m[i].pid);
		ASSERT_EQ(0U, pat_check(self->wmap + off[i], lens[i], 90 + i));
		ASSERT_EQ(0, kt_release(self->fd, off[i], lens[i]));
	}
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_HARNESS_MAIN
