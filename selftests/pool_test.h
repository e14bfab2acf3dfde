/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the pool selftests (doc/semantics.md, "The pool (large
 * payloads)"): pool.c, mmap.c and zerocopy.c.
 *
 * A port created with pool_size > 0 carries messages longer than its
 * threshold in page-granular slices of a shared-memory pool: the kernel
 * copies the payload in once, a plain receive copies it out and frees the
 * slice, an in-place receive (KPORT_MSG_INPLACE) reports where it lies and
 * leaves the handle holding the slice until KPORT_IOC_RELEASE or until the
 * handle goes.  Receivers map the pool read-only; on a zero-copy port
 * senders map it writable, borrow a slice, fill it and post it.
 *
 * What the programs share: the sizes they count with, payload patterns
 * checked byte for byte, raw calls that never wait past KT_TIMEOUT_MS,
 * and struct env, which every fixture embeds so that its teardown closes,
 * unmaps, kills, frees and unlinks whatever a test left.
 *
 * The fixtures' setup (env_setup()) pins the pool parameters the tests
 * count on (pool_threshold 16384, room for a 72 MiB pool) and the teardown
 * puts back what it found; the values found when the program started are
 * restored once more at exit, in case a test died before its teardown.
 *
 * As in kport_test.h (include that first), every function is static
 * inline: each program uses only part of them.
 */
#ifndef KPORT_POOL_TEST_H
#define KPORT_POOL_TEST_H

#include "kport_test.h"

#include <stdbool.h>

#define PAGE		4096UL
#define PAGE_UP(x)	(((uint64_t)(x) + PAGE - 1) & ~(uint64_t)(PAGE - 1))
#define MIB		(1UL << 20)
#define THRESHOLD	16384U		/* set by the fixtures' setup */
#define LONG_WAIT()	kt_deadline_ms(KT_TIMEOUT_MS)

/*
 * The message the release, reclaim, mapping and lifetime tests hold a
 * slice of: 20000 bytes, 5 pages, not a page multiple.
 */
#define REL_LEN		20000U
#define RC_LEN		REL_LEN

/* See limits.c: end a test from its fixture's setup as SKIP() would. */
#define SETUP_SKIP(fmt, ...)	SKIP(_exit(255), fmt, ##__VA_ARGS__)

/* ---- Module parameters -------------------------------------------------- */

static const char *const params[] = {
	"pool_threshold", "max_pool_size", "max_user_pool_bytes",
};
#define NR_PARAMS	ARRAY_SIZE(params)

/* What the tests need: the threshold they count with, room for 72 MiB. */
static const char *const param_values[NR_PARAMS] = {
	"16384", "268435456", "1073741824",
};

/* Safety net: what the module had when this program started (kport_test.h). */
static void __attribute__((constructor)) save_params_at_start(void)
{
	kt_params_save_for_exit(params, NR_PARAMS);
}

/* ---- Payload patterns ---------------------------------------------------- */

/*
 * Word @i of pattern @seed (splitmix64): a payload of many megabytes is
 * filled and checked eight bytes at a time, fast enough under TCG, and
 * every 8-byte word of every payload differs from its neighbours.
 */
static inline uint64_t pat_word(uint32_t seed, uint64_t i)
{
	uint64_t z = ((uint64_t)seed << 40) + i * 0x9e3779b97f4a7c15ULL + seed;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void pat_fill(void *buf, size_t len, uint32_t seed)
{
	unsigned char *p = buf;
	size_t i, n = len / 8;
	uint64_t w;

	for (i = 0; i < n; i++) {
		w = pat_word(seed, i);
		memcpy(p + 8 * i, &w, 8);
	}
	if (len % 8) {
		w = pat_word(seed, n);
		memcpy(p + 8 * n, &w, len % 8);
	}
}

/*
 * Check bytes [@from, @to) of a payload of pattern @seed that starts at
 * @payload (@from a multiple of 8).  Returns 0, or 1 + the offset of the
 * first wrong byte.
 */
static inline size_t pat_check_range(const void *payload, size_t from,
				     size_t to, uint32_t seed)
{
	const unsigned char *p = payload;
	size_t i, j;

	for (i = from; i < to; i += 8) {
		size_t chunk = to - i < 8 ? to - i : 8;
		uint64_t w = pat_word(seed, i / 8);
		const unsigned char *wb = (const unsigned char *)&w;

		if (!memcmp(p + i, wb, chunk))
			continue;
		for (j = 0; j < chunk; j++)
			if (p[i + j] != wb[j])
				return i + j + 1;
	}
	return 0;
}

static inline size_t pat_check(const void *payload, size_t len, uint32_t seed)
{
	return pat_check_range(payload, 0, len, seed);
}

/* ---- Raw calls ------------------------------------------------------------- */

/* Send, waiting at most KT_TIMEOUT_MS unless @flags says how to wait. */
static inline int send_msg(int fd, const void *buf, uint32_t len,
			   uint64_t flags)
{
	uint64_t deadline = 0;

	if (!(flags & (KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE))) {
		flags |= KPORT_MSG_DEADLINE;
		deadline = LONG_WAIT();
	}
	return kt_send(fd, buf, len, 0, flags, deadline);
}

/* Receive into @buf (@len bytes), bounded the same way; see kt_recv_ex(). */
static inline int recv_msg(int fd, void *buf, uint32_t len, uint64_t flags,
			   struct kport_msg *out)
{
	uint64_t deadline = 0;

	if (!(flags & (KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE))) {
		flags |= KPORT_MSG_DEADLINE;
		deadline = LONG_WAIT();
	}
	return kt_recv_ex(fd, buf, len, flags, 0, deadline, out);
}

/* Receive in place without any buffer: only a pool message can come. */
static inline int recv_inplace(int fd, uint64_t flags, struct kport_msg *out)
{
	return recv_msg(fd, NULL, 0, flags | KPORT_MSG_INPLACE, out);
}

static inline int slice_ioctl(int fd, unsigned long cmd, struct kport_slice *s)
{
	return kt_ioctl(fd, cmd, s);
}

/* mmap()'s -errno, or 0 if the mapping could be made (it is undone). */
static inline int try_map(int fd, size_t len, int prot, int flags, off_t off)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

static inline struct kport_version version(struct __test_metadata *_metadata)
{
	struct kport_version v;

	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, kt_ioctl(kt_dev(), KPORT_IOC_VERSION, &v));
	return v;
}

/* The pool's counters, and how many messages are queued. */
#define ASSERT_POOL(fd, used, held) do {				\
	struct kport_stat __st;						\
									\
	ASSERT_EQ(0, kt_stat((fd), &__st));				\
	ASSERT_EQ((uint64_t)(used), (uint64_t)__st.pool_used)		\
		TH_LOG("pool_used");					\
	ASSERT_EQ((uint64_t)(held), (uint64_t)__st.slices_held)	\
		TH_LOG("slices_held");					\
} while (0)

#define ASSERT_QUEUED(fd, n) do {					\
	struct kport_stat __st;						\
									\
	ASSERT_EQ(0, kt_stat((fd), &__st));				\
	ASSERT_EQ((uint64_t)(n), (uint64_t)__st.nr_msgs)		\
		TH_LOG("nr_msgs");					\
} while (0)

/* ---- The environment every fixture shares ----------------------------- */

#define NR_NAMES	3
#define MAX_FDS		16
#define MAX_MAPS	8
#define MAX_KIDS	8
#define MAX_BUFS	4

struct env {
	char names[NR_NAMES][KPORT_NAME_MAX];
	int fds[MAX_FDS];
	struct {
		void *addr;
		size_t len;
	} maps[MAX_MAPS];
	pid_t kids[MAX_KIDS];
	void *bufs[MAX_BUFS];
	int to_kid[2];		/* tokens parent -> children */
	int to_parent[2];	/* tokens children -> parent */
	char saved[NR_PARAMS][32];
	bool saved_ok;
};

static inline void env_setup(struct __test_metadata *_metadata, struct env *e)
{
	struct kport_version v;
	unsigned int i;

	for (i = 0; i < MAX_FDS; i++)
		e->fds[i] = -1;
	for (i = 0; i < MAX_KIDS; i++)
		e->kids[i] = -1;
	e->to_kid[0] = e->to_kid[1] = e->to_parent[0] = e->to_parent[1] = -1;
	ASSERT_LE(0, kt_dev());
	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, kt_ioctl(kt_dev(), KPORT_IOC_VERSION, &v));
	if (!(v.features & KPORT_FEAT_POOL))
		SETUP_SKIP("the module has no pool (KPORT_FEAT_POOL missing)");
	for (i = 0; i < NR_NAMES; i++) {
		char tag[KPORT_NAME_MAX];

		snprintf(tag, sizeof(tag), "%u%s", i, _metadata->name);
		kt_name(e->names[i], tag);
	}
	ASSERT_EQ(0, pipe2(e->to_kid, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(e->to_parent, O_CLOEXEC));
	if (geteuid() == 0) {
		for (i = 0; i < NR_PARAMS; i++) {
			ASSERT_EQ(0, kt_param_read(params[i], e->saved[i],
						sizeof(e->saved[i])))
				TH_LOG("parameter %s", params[i]);
		}
		e->saved_ok = true;
		for (i = 0; i < NR_PARAMS; i++) {
			ASSERT_EQ(0, kt_param_write(params[i], param_values[i]))
				TH_LOG("setting %s", params[i]);
		}
	}
	v = version(_metadata);
	ASSERT_EQ(THRESHOLD, v.pool_threshold)
		TH_LOG("run as root, or with pool_threshold=%u", THRESHOLD);
}

static inline void env_teardown(struct __test_metadata *_metadata,
				struct env *e)
{
	unsigned int i;

	for (i = 0; i < MAX_KIDS; i++)
		kt_kill_reap(e->kids[i]);
	for (i = 0; i < MAX_MAPS; i++)
		if (e->maps[i].addr)
			munmap(e->maps[i].addr, e->maps[i].len);
	for (i = 0; i < MAX_FDS; i++)
		if (e->fds[i] >= 0)
			close(e->fds[i]);
	for (i = 0; i < MAX_BUFS; i++)
		free(e->bufs[i]);
	for (i = 0; i < 2; i++) {
		if (e->to_kid[i] >= 0)
			close(e->to_kid[i]);
		if (e->to_parent[i] >= 0)
			close(e->to_parent[i]);
	}
	for (i = 0; i < NR_NAMES; i++)
		if (e->names[i][0])
			kt_unlink(e->names[i]);
	if (!e->saved_ok)
		return;
	for (i = 0; i < NR_PARAMS; i++) {
		int ret = kt_param_write(params[i], e->saved[i]);

		/* not EXPECT_*(): after a failed ASSERT it would log anyway */
		if (ret) {
			TH_LOG("restoring %s: %d", params[i], ret);
			_metadata->passed = 0;
		}
	}
}

/* Keep @fd for the teardown to close; returns it (or the -errno given). */
static inline int keep_fd(struct env *e, int fd)
{
	unsigned int i;

	if (fd < 0)
		return fd;
	for (i = 0; i < MAX_FDS; i++) {
		if (e->fds[i] < 0) {
			e->fds[i] = fd;
			return fd;
		}
	}
	close(fd);
	return -EMFILE;
}

/* Close a kept fd now. */
static inline void close_fd(struct env *e, int fd)
{
	unsigned int i;

	for (i = 0; i < MAX_FDS; i++)
		if (e->fds[i] == fd)
			e->fds[i] = -1;
	close(fd);
}

/* malloc() that the teardown frees. */
static inline void *keep_buf(struct env *e, size_t size)
{
	unsigned int i;

	for (i = 0; i < MAX_BUFS; i++) {
		if (!e->bufs[i]) {
			e->bufs[i] = malloc(size ? size : 1);
			return e->bufs[i];
		}
	}
	return NULL;
}

/* Map @len bytes of @fd's pool; MAP_FAILED (errno set) or the address. */
static inline void *map_pool(struct env *e, int fd, size_t len, int prot,
			     int flags)
{
	unsigned int i;
	void *p;

	p = mmap(NULL, len, prot, flags, fd, 0);
	if (p == MAP_FAILED)
		return p;
	for (i = 0; i < MAX_MAPS; i++) {
		if (!e->maps[i].addr) {
			e->maps[i].addr = p;
			e->maps[i].len = len;
			return p;
		}
	}
	munmap(p, len);
	errno = ENOMEM;
	return MAP_FAILED;
}

/* The teardown need not unmap [@addr, +@len) any more. */
static inline void forget_map(struct env *e, void *addr)
{
	unsigned int i;

	for (i = 0; i < MAX_MAPS; i++)
		if (e->maps[i].addr == addr)
			e->maps[i].addr = NULL;
}

/* Track a mapping made another way (mremap). */
static inline void track_map(struct env *e, void *addr, size_t len)
{
	unsigned int i;

	for (i = 0; i < MAX_MAPS; i++) {
		if (!e->maps[i].addr) {
			e->maps[i].addr = addr;
			e->maps[i].len = len;
			return;
		}
	}
}

static inline int unmap_pool(struct env *e, void *addr, size_t len)
{
	forget_map(e, addr);
	return munmap(addr, len) ? -errno : 0;
}

/* Record child @pid in slot @slot for the teardown to kill (if > 0). */
static inline pid_t keep_kid(struct env *e, unsigned int slot, pid_t pid)
{
	/* in the child itself, 0: what the caller tests */
	e->kids[slot] = pid;
	return pid;
}

/* Reap the child in @slot: its exit code, 128 + signal, or -errno. */
static inline int reap_kid(struct env *e, unsigned int slot)
{
	int ret = kt_reap(e->kids[slot], -1);

	e->kids[slot] = -1;
	return ret;
}

/*
 * Create the port named names[@idx] (anonymous if @idx < 0), mode 0600,
 * all rights, with a pool of @pool bytes (0: none).  The fd is kept.
 */
static inline int make_port(struct env *e, int idx, uint64_t flags,
			    uint32_t cap, uint32_t msg_size, uint64_t pool)
{
	return keep_fd(e, kt_create_pool(idx >= 0 ? e->names[idx] : NULL,
					  flags, cap, msg_size, pool));
}

/* Open names[@idx] with @rights; the fd is kept. */
static inline int open_port(struct env *e, int idx, uint32_t rights,
			    uint64_t flags)
{
	return keep_fd(e, kt_open(e->names[idx], rights, flags));
}

/* Send @len bytes of pattern @seed, without waiting. */
static inline int send_pattern(int fd, uint32_t len, uint32_t seed)
{
	void *buf = malloc(len ? len : 1);
	int ret;

	if (!buf)
		return -ENOMEM;
	pat_fill(buf, len, seed);
	ret = kt_send(fd, buf, len, 0, KPORT_MSG_NONBLOCK, 0);
	free(buf);
	return ret;
}

/*
 * Fork a child that sends @len bytes of pattern @seed on @fd (waiting at
 * most KT_TIMEOUT_MS) and exits 0 if the send returned @expect.
 */
static inline pid_t fork_pattern_sender(int fd, uint32_t len, uint32_t seed,
					int expect)
{
	pid_t pid = kt_fork();

	if (pid == 0) {
		char *buf = malloc(len ? len : 1);
		int ret;

		KT_CHILD_ASSERT(buf);
		pat_fill(buf, len, seed);
		ret = send_msg(fd, buf, len, 0);
		if (ret != expect)
			fprintf(stderr, "# sender %d: %d, expected %d\n",
				(int)getpid(), ret, expect);
		_exit(ret == expect ? 0 : 1);
	}
	return pid;
}

/* Is process @pid still running (not exited, not a zombie)? */
static inline bool running(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

#endif /* KPORT_POOL_TEST_H */
