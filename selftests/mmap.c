// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftest: mapping a port's pool (doc/semantics.md, "The pool
 * (large payloads)", mmap).
 *
 * A handle maps its port's pool (at offset 0, at most pool_size bytes)
 * read-only with the receive right, for good (mprotect cannot add write),
 * or writable and shared with the send right on a zero-copy port; one
 * mapping per handle at a time, and the mapping keeps the pool, the port's
 * record and the module alive until it goes.
 *
 * The tests, by area:
 *  - mapping.*:   the mmap rules (rights, size, offset, one mapping per
 *                 handle, read-only for good, munmap/mremap/fork);
 *  - lifetime.*:  the mapping outlives the port, and pins the module.
 *
 * The rest of the pool is tested in pool.c, zero-copy ports in
 * zerocopy.c; the helpers and the environment the fixtures share are in
 * pool_test.h.
 */
#include "kport_test.h"
#include "pool_test.h"

#include <sys/syscall.h>

/* ==== mmap ================================================================== */

#define MAP_POOL	(16 * PAGE)

FIXTURE(mapping) {
	struct env e;
	int fd;		/* all rights, names[0]: pool, not zero-copy */
	int rfd;	/* receive only */
};

FIXTURE_SETUP(mapping)
{
	env_setup(_metadata, &self->e);
	self->fd = make_port(&self->e, 0, 0, 4, MAP_POOL, MAP_POOL);
	ASSERT_LE(0, self->fd);
	self->rfd = open_port(&self->e, 0, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, self->rfd);
}

FIXTURE_TEARDOWN(mapping)
{
	env_teardown(_metadata, &self->e);
}

TEST_F(mapping, a_read_only_mapping_of_a_receive_handle_shows_the_payloads)
{
	static const uint32_t lens[] = { THRESHOLD + 1, 5 * PAGE, 20000 };
	const unsigned char *map;
	struct kport_msg m[3];
	unsigned int i;
	pid_t pid;

	map = map_pool(&self->e, self->rfd, MAP_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, map);
	for (i = 0; i < 3; i++) {
		pid = keep_kid(&self->e, 0,
			       fork_pattern_sender(self->fd, lens[i], 10 + i, 0));
		ASSERT_LT(0, pid);
		ASSERT_EQ(0, reap_kid(&self->e, 0));
		ASSERT_EQ((int)lens[i], recv_inplace(self->rfd, 0, &m[i]));
		ASSERT_EQ((uint32_t)KPORT_RESULT_INPLACE, m[i].result);
		ASSERT_EQ(pid, m[i].pid);
	}
	ASSERT_POOL(self->fd, PAGE_UP(lens[0]) + PAGE_UP(lens[1]) +
		    PAGE_UP(lens[2]), 3);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0U, pat_check(map + m[i].offset, lens[i], 10 + i))
			TH_LOG("message %u", i);
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, kt_release(self->rfd, m[i].offset, lens[i]));
	}
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(mapping, a_second_mmap_of_a_handle_fails_with_EBUSY_until_it_is_unmapped)
{
	void *a, *b;

	a = map_pool(&self->e, self->rfd, MAP_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(-EBUSY, try_map(self->rfd, MAP_POOL, PROT_READ, MAP_SHARED, 0));
	ASSERT_EQ(-EBUSY, try_map(self->rfd, PAGE, PROT_READ, MAP_PRIVATE, 0));
	/* one mapping per handle, not per port */
	b = map_pool(&self->e, self->fd, MAP_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_EQ(-EBUSY, try_map(self->fd, MAP_POOL, PROT_READ, MAP_SHARED, 0));
	ASSERT_EQ(0, unmap_pool(&self->e, a, MAP_POOL));
	a = map_pool(&self->e, self->rfd, PAGE, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(-EBUSY, try_map(self->rfd, PAGE, PROT_READ, MAP_SHARED, 0));
}

TEST_F(mapping, a_mapping_longer_than_the_pool_fails_with_EINVAL)
{
	ASSERT_EQ(-EINVAL, try_map(self->rfd, MAP_POOL + PAGE, PROT_READ,
				   MAP_SHARED, 0));
	ASSERT_EQ(-EINVAL, try_map(self->rfd, MAP_POOL + 1, PROT_READ,
				   MAP_SHARED, 0));
	ASSERT_EQ(-EINVAL, try_map(self->rfd, 2 * MAP_POOL, PROT_READ,
				   MAP_PRIVATE, 0));
	/* the refusals left no mapping behind: the whole pool maps */
	ASSERT_EQ(0, try_map(self->rfd, MAP_POOL, PROT_READ, MAP_SHARED, 0));
	ASSERT_EQ(0, try_map(self->rfd, PAGE, PROT_READ, MAP_SHARED, 0));
}

TEST_F(mapping, a_mapping_at_a_nonzero_offset_fails_with_EINVAL)
{
	ASSERT_EQ(-EINVAL, try_map(self->rfd, PAGE, PROT_READ, MAP_SHARED,
				   PAGE));
	ASSERT_EQ(-EINVAL, try_map(self->rfd, PAGE, PROT_READ, MAP_SHARED,
				   MAP_POOL - PAGE));
	ASSERT_EQ(-EINVAL, try_map(self->rfd, PAGE, PROT_READ, MAP_SHARED,
				   MAP_POOL));
	ASSERT_EQ(0, try_map(self->rfd, MAP_POOL, PROT_READ, MAP_SHARED, 0));
}

TEST_F(mapping, a_writable_shared_mapping_of_a_port_not_zero_copy_fails_with_EACCES)
{
	ASSERT_EQ(-EACCES, try_map(self->fd, MAP_POOL, PROT_READ | PROT_WRITE,
				   MAP_SHARED, 0));
	ASSERT_EQ(-EACCES, try_map(self->fd, MAP_POOL, PROT_WRITE, MAP_SHARED,
				   0));
	ASSERT_EQ(-EACCES, try_map(self->rfd, MAP_POOL, PROT_READ | PROT_WRITE,
				   MAP_SHARED, 0));
	ASSERT_EQ(0, try_map(self->fd, MAP_POOL, PROT_READ, MAP_SHARED, 0));
}

TEST_F(mapping, a_private_writable_mapping_of_a_zero_copy_port_fails_with_EINVAL)
{
	int zc;

	zc = make_port(&self->e, 1, KPORT_CREATE_ZEROCOPY, 4, MAP_POOL,
		       MAP_POOL);
	ASSERT_LE(0, zc);
	ASSERT_EQ(-EINVAL, try_map(zc, MAP_POOL, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, 0));
	ASSERT_EQ(-EINVAL, try_map(zc, PAGE, PROT_WRITE, MAP_PRIVATE, 0));
	ASSERT_EQ(0, try_map(zc, MAP_POOL, PROT_READ | PROT_WRITE, MAP_SHARED,
			     0));
}

TEST_F(mapping, mmap_of_a_port_without_a_pool_fails_with_ENODEV)
{
	int plain;

	plain = make_port(&self->e, 1, 0, 4, 64, 0);
	ASSERT_LE(0, plain);
	ASSERT_EQ(-ENODEV, try_map(plain, PAGE, PROT_READ, MAP_SHARED, 0));
	ASSERT_EQ(-ENODEV, try_map(plain, PAGE, PROT_READ, MAP_PRIVATE, 0));
	ASSERT_EQ(-ENODEV, try_map(plain, PAGE, PROT_READ | PROT_WRITE,
				   MAP_SHARED, 0));
}

TEST_F(mapping, mmap_of_a_handle_without_rights_fails_with_EACCES)
{
	int h0, zc, zc0;

	h0 = open_port(&self->e, 0, 0, 0);
	ASSERT_LE(0, h0);
	ASSERT_EQ(-EACCES, try_map(h0, MAP_POOL, PROT_READ, MAP_SHARED, 0));
	ASSERT_EQ(-EACCES, try_map(h0, PAGE, PROT_READ, MAP_PRIVATE, 0));
	zc = make_port(&self->e, 1, KPORT_CREATE_ZEROCOPY, 4, MAP_POOL,
		       MAP_POOL);
	ASSERT_LE(0, zc);
	zc0 = open_port(&self->e, 1, 0, 0);
	ASSERT_LE(0, zc0);
	ASSERT_EQ(-EACCES, try_map(zc0, MAP_POOL, PROT_READ, MAP_SHARED, 0));
	/* the refusals left no mapping behind */
	ASSERT_EQ(0, try_map(self->rfd, MAP_POOL, PROT_READ, MAP_SHARED, 0));
}

TEST_F(mapping, mprotect_cannot_add_write_to_a_read_only_mapping)
{
	void *p;
	int zc;

	p = map_pool(&self->e, self->rfd, MAP_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(-1, mprotect(p, MAP_POOL, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(-1, mprotect(p, PAGE, PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(0, unmap_pool(&self->e, p, MAP_POOL));
	/* private read-only: no copy-on-write pages either */
	p = map_pool(&self->e, self->rfd, MAP_POOL, PROT_READ, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(-1, mprotect(p, MAP_POOL, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	/* a zero-copy sender that mapped read-only stays read-only */
	zc = make_port(&self->e, 1, KPORT_CREATE_ZEROCOPY, 4, MAP_POOL,
		       MAP_POOL);
	ASSERT_LE(0, zc);
	p = map_pool(&self->e, zc, MAP_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(-1, mprotect(p, MAP_POOL, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	/* dropping to PROT_NONE and back to read is fine */
	ASSERT_EQ(0, mprotect(p, MAP_POOL, PROT_NONE));
	ASSERT_EQ(0, mprotect(p, MAP_POOL, PROT_READ));
}

TEST_F(mapping, a_write_through_a_read_only_mapping_raises_SIGSEGV)
{
	unsigned char *map;
	struct kport_msg m;

	map = map_pool(&self->e, self->rfd, MAP_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, send_pattern(self->fd, REL_LEN, 20));
	ASSERT_EQ((int)REL_LEN, recv_inplace(self->rfd, KPORT_MSG_NONBLOCK, &m));
	keep_kid(&self->e, 0, kt_fork());
	ASSERT_LE(0, self->e.kids[0]);
	if (self->e.kids[0] == 0) {
		volatile unsigned char *p = map + m.offset;

		p[0] = (unsigned char)~p[0];
		_exit(0);	/* not reached */
	}
	ASSERT_EQ(128 + SIGSEGV, reap_kid(&self->e, 0));
	/* also a page never faulted in before */
	keep_kid(&self->e, 0, kt_fork());
	ASSERT_LE(0, self->e.kids[0]);
	if (self->e.kids[0] == 0) {
		volatile unsigned char *p = map + MAP_POOL - 1;

		*p = 1;
		_exit(0);
	}
	ASSERT_EQ(128 + SIGSEGV, reap_kid(&self->e, 0));
	ASSERT_EQ(0U, pat_check(map + m.offset, REL_LEN, 20));
	ASSERT_EQ(0, kt_release(self->rfd, m.offset, REL_LEN));
}

TEST_F(mapping, a_partial_munmap_leaves_the_rest_readable_and_the_handle_busy)
{
	const uint32_t len = 12 * PAGE - 100;
	unsigned char *map, *slice;
	struct kport_msg m;

	map = map_pool(&self->e, self->rfd, MAP_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, send_pattern(self->fd, len, 21));
	ASSERT_EQ((int)len, recv_inplace(self->rfd, KPORT_MSG_NONBLOCK, &m));
	slice = map + m.offset;
	/* a hole in the middle of the slice: two pieces remain */
	ASSERT_EQ(0, munmap(slice + 4 * PAGE, PAGE));
	ASSERT_EQ(0U, pat_check_range(slice, 0, 4 * PAGE, 21));
	ASSERT_EQ(0U, pat_check_range(slice, 5 * PAGE, len, 21));
	ASSERT_EQ(-EBUSY, try_map(self->rfd, MAP_POOL, PROT_READ, MAP_SHARED, 0));
	/* the piece before the hole goes: the one after still reads */
	forget_map(&self->e, map);
	ASSERT_EQ(0, munmap(map, m.offset + 4 * PAGE));
	track_map(&self->e, slice + 5 * PAGE,
		  MAP_POOL - m.offset - 5 * PAGE);
	ASSERT_EQ(0U, pat_check_range(slice, 5 * PAGE, len, 21));
	ASSERT_EQ(-EBUSY, try_map(self->rfd, PAGE, PROT_READ, MAP_SHARED, 0));
	/* all gone: the handle may map again, and sees the same slice */
	ASSERT_EQ(0, unmap_pool(&self->e, slice + 5 * PAGE,
				MAP_POOL - m.offset - 5 * PAGE));
	map = map_pool(&self->e, self->rfd, MAP_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0U, pat_check(map + m.offset, len, 21));
	ASSERT_EQ(0, kt_release(self->rfd, m.offset, len));
	ASSERT_POOL(self->fd, 0, 0);
}

TEST_F(mapping, mremap_cannot_grow_the_mapping_but_may_shrink_or_move_it)
{
	const uint32_t len = 6 * PAGE - 10;
	unsigned char *map, *moved, *dest;
	struct kport_msg m;
	size_t keep;

	map = map_pool(&self->e, self->rfd, MAP_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, send_pattern(self->fd, len, 22));
	ASSERT_EQ((int)len, recv_inplace(self->rfd, KPORT_MSG_NONBLOCK, &m));
	/* growing the whole pool, in place or moving */
	ASSERT_EQ(MAP_FAILED, mremap(map, MAP_POOL, MAP_POOL + PAGE, 0));
	ASSERT_EQ(MAP_FAILED, mremap(map, MAP_POOL, MAP_POOL + PAGE,
				     MREMAP_MAYMOVE));
	/* shrinking to what holds the slice */
	keep = PAGE_UP(m.offset + len);
	ASSERT_GT((size_t)MAP_POOL, keep)
		TH_LOG("the first slice of an empty pool is at its very end");
	ASSERT_EQ(map, mremap(map, MAP_POOL, keep, 0));
	forget_map(&self->e, map);
	track_map(&self->e, map, keep);
	ASSERT_EQ(0U, pat_check(map + m.offset, len, 22));
	/* growing back, even within the pool, is refused */
	ASSERT_EQ(MAP_FAILED, mremap(map, keep, MAP_POOL, 0));
	ASSERT_EQ(MAP_FAILED, mremap(map, keep, keep + PAGE, MREMAP_MAYMOVE));
	ASSERT_EQ(0U, pat_check(map + m.offset, len, 22));
	/* moving */
	dest = mmap(NULL, keep, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dest);
	moved = mremap(map, keep, keep, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
	ASSERT_EQ(dest, moved);
	forget_map(&self->e, map);
	track_map(&self->e, moved, keep);
	ASSERT_EQ(0U, pat_check(moved + m.offset, len, 22));
	/* still one mapping of the handle */
	ASSERT_EQ(-EBUSY, try_map(self->rfd, MAP_POOL, PROT_READ, MAP_SHARED, 0));
	ASSERT_EQ(0, unmap_pool(&self->e, moved, keep));
	ASSERT_EQ(0, try_map(self->rfd, MAP_POOL, PROT_READ, MAP_SHARED, 0));
	ASSERT_EQ(0, kt_release(self->rfd, m.offset, len));
}

TEST_F(mapping, a_forked_child_inherits_the_mapping_and_reads_the_payload)
{
	const uint32_t len = 9 * PAGE + 1;
	unsigned char *map;
	struct kport_msg m;

	map = map_pool(&self->e, self->rfd, MAP_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, send_pattern(self->fd, len, 23));
	ASSERT_EQ((int)len, recv_inplace(self->rfd, KPORT_MSG_NONBLOCK, &m));
	keep_kid(&self->e, 0, kt_fork());
	ASSERT_LE(0, self->e.kids[0]);
	if (self->e.kids[0] == 0) {
		/* pages the parent never touched */
		KT_CHILD_ASSERT(pat_check(map + m.offset, len, 23) == 0);
		KT_CHILD_ASSERT(kt_token_put(self->e.to_parent[1], 'c') == 0);
		KT_CHILD_ASSERT(kt_token_get(self->e.to_kid[0], -1) == 'x');
		KT_CHILD_ASSERT(pat_check(map + m.offset, len, 23) == 0);
		_exit(0);
	}
	ASSERT_EQ('c', kt_token_get(self->e.to_parent[0], -1));
	/* the child's copy counts as a mapping of the handle */
	ASSERT_EQ(0, unmap_pool(&self->e, map, MAP_POOL));
	ASSERT_EQ(-EBUSY, try_map(self->rfd, MAP_POOL, PROT_READ, MAP_SHARED, 0));
	ASSERT_EQ(0, kt_token_put(self->e.to_kid[1], 'x'));
	ASSERT_EQ(0, reap_kid(&self->e, 0));
	map = map_pool(&self->e, self->rfd, MAP_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0U, pat_check(map + m.offset, len, 23));
	ASSERT_EQ(0, kt_release(self->rfd, m.offset, len));
	ASSERT_POOL(self->fd, 0, 0);
}

/* ==== The mapping outlives the port, and pins the module ===================== */

#define LT_POOL		(32 * PAGE)

/* Whether /proc/kport lists port @id: 1 (and its flags), 0, or -errno. */
static int proc_kport_find(uint64_t id, char flags[16])
{
	char line[512];
	FILE *f;
	int found = 0;

	f = fopen("/proc/kport", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lid;
		char name[KPORT_NAME_MAX + 1], fl[16];

		if (sscanf(line, "%llu\t%64s\t%15s", &lid, name, fl) != 3)
			continue;
		if (lid == id) {
			found = 1;
			if (flags)
				snprintf(flags, 16, "%s", fl);
		}
	}
	fclose(f);
	return found;
}

static int delete_module_nowait(void)
{
	return syscall(SYS_delete_module, "kport", O_NONBLOCK) ? -errno : 0;
}

static int load_module(const char *ko)
{
	int fd, ret;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

FIXTURE(lifetime) {
	struct env e;
};

FIXTURE_SETUP(lifetime)
{
	env_setup(_metadata, &self->e);
}

FIXTURE_TEARDOWN(lifetime)
{
	env_teardown(_metadata, &self->e);
}

TEST_F(lifetime, a_deleted_ports_mapping_stays_readable_until_munmap)
{
	const uint32_t len = 30 * PAGE - 100;
	const unsigned char *map;
	struct kport_stat st;
	struct kport_msg m;
	char flags[16];
	int fd, rfd;

	fd = make_port(&self->e, 0, 0, 4, LT_POOL, LT_POOL);
	ASSERT_LE(0, fd);
	rfd = open_port(&self->e, 0, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, rfd);
	map = map_pool(&self->e, rfd, LT_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, send_pattern(fd, len, 50));
	ASSERT_EQ((int)len, recv_inplace(rfd, KPORT_MSG_NONBLOCK, &m));
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(0, kt_delete(fd));
	ASSERT_EQ(0, kt_stat(rfd, &st));
	ASSERT_EQ((uint32_t)KPORT_STATUS_DEAD, st.status);
	/* every page, none of them faulted in before the deletion */
	ASSERT_EQ(0U, pat_check(map + m.offset, len, 50));
	/* no handle left, only the mapping: still there, deleted */
	close_fd(&self->e, fd);
	close_fd(&self->e, rfd);
	ASSERT_EQ(1, proc_kport_find(st.id, flags));
	ASSERT_EQ('D', flags[4]) TH_LOG("flags %s", flags);
	ASSERT_EQ(0U, pat_check(map + m.offset, len, 50));
	ASSERT_EQ(0, unmap_pool(&self->e, (void *)map, LT_POOL));
	ASSERT_EQ(0, proc_kport_find(st.id, NULL));
}

TEST_F(lifetime, unloading_the_module_is_refused_while_a_pool_mapping_exists)
{
	const unsigned char *map;
	struct kport_msg m;
	int fd, ret;
	long refs;

	if (!kt_initial_userns())
		SKIP(return, "unloading needs CAP_SYS_MODULE in the initial user namespace");

	fd = make_port(&self->e, -1, 0, 4, LT_POOL, LT_POOL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_pattern(fd, RC_LEN, 51));
	ASSERT_EQ((int)RC_LEN, recv_inplace(fd, KPORT_MSG_NONBLOCK, &m));
	map = map_pool(&self->e, fd, LT_POOL, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, map);
	/* nothing of kport is open any more: only the mapping */
	close_fd(&self->e, fd);
	kt_dev_close();
	ret = delete_module_nowait();
	if (ret == 0) {
		const char *ko = getenv("KPORT_KO");

		TH_LOG("kport was unloaded under a live mapping");
		forget_map(&self->e, (void *)map);	/* do not touch it */
		if (ko && ko[0]) {
			EXPECT_EQ(0, load_module(ko));
		}
	}
	ASSERT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY)
		TH_LOG("delete_module: %d", ret);
	ASSERT_EQ(0, access("/sys/module/kport", F_OK));
	ASSERT_EQ(0U, pat_check(map + m.offset, RC_LEN, 51));
	/* the mapping held exactly one reference, dropped with it */
	refs = kt_module_refcnt();
	ASSERT_LE(1, refs);
	ASSERT_EQ(0, unmap_pool(&self->e, (void *)map, LT_POOL));
	ASSERT_EQ(refs - 1, kt_module_refcnt());
}

TEST_HARNESS_MAIN
