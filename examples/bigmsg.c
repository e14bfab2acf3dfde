// SPDX-License-Identifier: GPL-2.0
/*
 * bigmsg: a large payload through a port's pool.
 *
 *	bigmsg [PORT]
 *
 * Opens PORT (default "demo.big"), creating it if it does not exist with
 * an 8 MiB zero-copy pool and 4 MiB messages.  A forked sender and the
 * parent, the receiver, each open their own handle, and move a 4 MiB
 * pseudo-random payload twice, each time followed by a small message
 * carrying its checksum:
 *
 *  1. copied once: the sender calls kport_send(); the kernel copies the
 *     payload into a slice of the pool.  The receiver maps the pool
 *     read-only, gets the slice with kport_recv_inplace(), checksums it
 *     where it lies and releases it.  The small checksum message is not in
 *     the pool: it comes through the queue, into the receiver's buffer.
 *  2. zero-copy: the sender maps the pool writable, borrows a slice,
 *     writes the payload into it and posts it; the receiver reads it at
 *     the very offset the sender borrowed.
 *
 * At each step the receiver checks the port's counters (queued messages,
 * pool bytes used, slices held).  Exit status 0 if everything went as
 * described, 1 otherwise.  A port it created, it deletes at the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kport.h"

#define PAYLOAD		(4u << 20)
#define POOL		(8u << 20)
#define TIMEOUT_NS	(10 * 1000000000LL)	/* never hang the demo */
#define WATCHDOG_S	60			/* nor wait forever on a pipe */
#define SEED_COPY	0x6b706f7274000001ULL
#define SEED_ZEROCOPY	0x6b706f7274000002ULL

static const char *name;
static size_t payload;		/* bytes per large message */
static uint64_t pool_bytes;	/* what one of them takes in the pool */

/* Deterministic bytes, 8 at a time (xorshift64*). */
static void fill(void *dst, size_t len, uint64_t seed)
{
	unsigned char *p = dst;
	uint64_t x = seed;

	while (len) {
		size_t n = len < 8 ? len : 8;
		uint64_t v;

		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		v = x * 0x2545f4914f6cdd1dULL;
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}

/* FNV-1a over 64-bit words: cheap enough under emulation for 4 MiB. */
static uint64_t checksum(const void *src, size_t len)
{
	const unsigned char *p = src;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len) {
		size_t n = len < 8 ? len : 8;
		uint64_t v = 0;

		memcpy(&v, p, n);
		h = (h ^ v) * 0x100000001b3ULL;
		p += n;
		len -= n;
	}
	return h;
}

static bool put(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len;
}

/* Read exactly @len bytes; false if the other side went away. */
static bool get(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len;
}

/* ---- The sender ------------------------------------------------------------ */

static int send_sum(int tx, uint64_t sum)
{
	int ret = kport_send_timeout(tx, &sum, sizeof(sum), 0, TIMEOUT_NS);

	if (ret < 0)
		printf("sender: sending the checksum failed: %s\n", strerror(-ret));
	return ret;
}

/* @to_parent: tokens out; @from_parent: tokens in.  Returns the exit status. */
static int sender(int to_parent, int from_parent)
{
	uint64_t sum, offset;
	size_t wlen;
	void *wpool;
	char token;
	char *buf;
	int tx, ret;

	alarm(WATCHDOG_S);
	tx = kport_open(name, KPORT_RIGHT_SEND);
	if (tx < 0) {
		printf("sender: cannot open %s: %s\n", name, strerror(-tx));
		return 1;
	}

	/* Round 1: an ordinary send; the kernel copies it into the pool. */
	if (!get(from_parent, &token, 1))
		return 1;
	buf = malloc(payload);
	if (!buf)
		return 1;
	fill(buf, payload, SEED_COPY);
	sum = checksum(buf, payload);
	printf("sender: kport_send() of %zu bytes, checksum %016" PRIx64 "\n",
	       payload, sum);
	ret = kport_send_timeout(tx, buf, payload, 0, TIMEOUT_NS);
	if (ret < 0) {
		printf("sender: send failed: %s\n", strerror(-ret));
		return 1;
	}
	free(buf);
	if (send_sum(tx, sum) < 0 || !put(to_parent, "1", 1))
		return 1;
	/* Keep out of the pool until the receiver has counted round 1. */
	if (!get(from_parent, &token, 1))
		return 1;

	/* Round 2: borrow a slice, write into it through the mapping, post it. */
	ret = kport_pool_map(tx, KPORT_POOL_WRITE, &wpool, &wlen);
	if (ret < 0) {
		printf("sender: cannot map the pool writable: %s\n", strerror(-ret));
		return 1;
	}
	ret = kport_borrow(tx, payload, TIMEOUT_NS, &offset);
	if (ret < 0) {
		printf("sender: kport_borrow() failed: %s\n", strerror(-ret));
		return 1;
	}
	if (offset > wlen || payload > wlen - offset) {
		printf("sender: borrowed slice at %" PRIu64 " lies outside the pool\n",
		       offset);
		return 1;
	}
	printf("sender: kport_borrow() of %zu bytes: a slice at pool offset %" PRIu64 "\n",
	       payload, offset);
	/* Let the receiver look at the borrowed slice before it is filled. */
	if (!put(to_parent, &offset, sizeof(offset)) ||
	    !get(from_parent, &token, 1))
		return 1;
	fill((char *)wpool + offset, payload, SEED_ZEROCOPY);
	sum = checksum((char *)wpool + offset, payload);
	printf("sender: wrote the payload into the slice, checksum %016" PRIx64 "; kport_post()\n",
	       sum);
	ret = kport_post(tx, offset, payload, 0, 0);
	if (ret < 0) {
		printf("sender: kport_post() failed: %s\n", strerror(-ret));
		return 1;
	}
	if (send_sum(tx, sum) < 0 || !put(to_parent, "2", 1))
		return 1;
	kport_pool_unmap(wpool, wlen);
	close(tx);
	return 0;
}

/* ---- The receiver ---------------------------------------------------------- */

/* The port's counters must read @msgs, @used and @held. */
static bool expect_stat(int fd, const char *when, uint32_t msgs, uint64_t used,
			uint32_t held)
{
	struct kport_stat st;
	int ret = kport_stat(fd, &st);

	if (ret < 0) {
		printf("receiver: stat failed: %s\n", strerror(-ret));
		return false;
	}
	printf("receiver: %s: %u queued, pool used %" PRIu64 " bytes, %u slice%s held\n",
	       when, st.nr_msgs, (uint64_t)st.pool_used, st.slices_held,
	       st.slices_held == 1 ? "" : "s");
	if (st.nr_msgs == msgs && st.pool_used == used && st.slices_held == held)
		return true;
	printf("FAIL: expected %u queued, pool used %" PRIu64 ", %u held\n",
	       msgs, used, held);
	return false;
}

/*
 * Take the large message in place and its checksum through the queue;
 * check both.  The slice is released only after both checks, so the
 * counters can be seen with it held.  *@offset: where the payload was.
 */
static bool receive_round(int rx, const void *pool, size_t pool_len,
			  uint64_t *offset)
{
	struct kport_info info, sinfo;
	const void *data, *sdata;
	uint64_t want, got;
	char small[64];
	ssize_t n;
	int ret;

	n = kport_recv_inplace(rx, pool, small, sizeof(small), &data,
			       KPORT_MSG_NONBLOCK, &info);
	if (n < 0) {
		printf("receiver: kport_recv_inplace() failed: %s\n",
		       strerror((int)-n));
		return false;
	}
	if (!info.in_pool || (size_t)n != payload) {
		printf("FAIL: got %zd bytes %s, expected %zu bytes in the pool\n",
		       n, info.in_pool ? "in the pool" : "copied", payload);
		return false;
	}
	if (info.offset > pool_len || info.len > pool_len - info.offset) {
		printf("FAIL: slice at %" PRIu64 " (%zu bytes) outside the pool\n",
		       info.offset, info.len);
		return false;
	}
	*offset = info.offset;
	printf("receiver: kport_recv_inplace(): %zu bytes left in the pool at offset %" PRIu64 "\n",
	       info.len, info.offset);
	if (!expect_stat(rx, "holding the slice", 1, pool_bytes, 1))
		return false;
	got = checksum(data, info.len);

	n = kport_recv_inplace(rx, pool, small, sizeof(small), &sdata,
			       KPORT_MSG_NONBLOCK, &sinfo);
	if (n != sizeof(want) || sinfo.in_pool || sdata != small) {
		printf("FAIL: the checksum message did not come through the queue (%zd%s)\n",
		       n, n < 0 ? ", an error" : "");
		return false;
	}
	memcpy(&want, small, sizeof(want));
	printf("receiver: the %zd-byte checksum message came through the queue, into my buffer\n",
	       n);
	if (got != want) {
		printf("FAIL: checksum %016" PRIx64 ", the sender says %016" PRIx64 "\n",
		       got, want);
		return false;
	}
	printf("receiver: checksum %016" PRIx64 " read in place: matches\n", got);

	ret = kport_release(rx, info.offset, info.len);
	if (ret < 0) {
		printf("FAIL: kport_release() failed: %s\n", strerror(-ret));
		return false;
	}
	printf("receiver: kport_release()\n");
	if (!expect_stat(rx, "after release", 0, 0, 0))
		return false;
	/* The kernel checks every offset it is handed, even ours. */
	ret = kport_release(rx, info.offset, info.len);
	printf("receiver: releasing it again -> %s\n",
	       ret == -ENOENT ? "ENOENT, it is not mine any more" :
	       ret ? strerror(-ret) : "success?!");
	return ret == -ENOENT;
}

static bool receiver(int from_child, int to_child)
{
	uint64_t borrowed, offset;
	size_t pool_len;
	void *pool;
	char token;
	bool ok = false;
	int rx, ret;

	rx = kport_open(name, KPORT_RIGHT_RECV);
	if (rx < 0) {
		printf("receiver: cannot open %s: %s\n", name, strerror(-rx));
		return false;
	}
	ret = kport_pool_map(rx, 0, &pool, &pool_len);
	if (ret < 0) {
		printf("receiver: cannot map the pool: %s\n", strerror(-ret));
		goto out;
	}
	printf("receiver: mapped the %zu-byte pool read-only\n", pool_len);

	printf("\n-- round 1: kport_send(), received in place\n");
	if (!put(to_child, "x", 1) || !get(from_child, &token, 1)) {
		printf("FAIL: the sender gave up\n");
		goto out_unmap;
	}
	if (!expect_stat(rx, "after the send", 2, pool_bytes, 0) ||
	    !receive_round(rx, pool, pool_len, &offset))
		goto out_unmap;

	/* Said before the sender may go on, so that the lines come in order. */
	printf("\n-- round 2: zero-copy, borrow and post\n");
	if (!put(to_child, "x", 1))
		goto out_unmap;
	if (!get(from_child, &borrowed, sizeof(borrowed))) {
		printf("FAIL: the sender gave up\n");
		goto out_unmap;
	}
	if (!expect_stat(rx, "slice borrowed", 0, pool_bytes, 1) ||
	    !put(to_child, "x", 1))
		goto out_unmap;
	if (!get(from_child, &token, 1)) {
		printf("FAIL: the sender gave up\n");
		goto out_unmap;
	}
	if (!receive_round(rx, pool, pool_len, &offset))
		goto out_unmap;
	if (offset != borrowed) {
		printf("FAIL: the payload came at offset %" PRIu64 ", borrowed at %" PRIu64 "\n",
		       offset, borrowed);
		goto out_unmap;
	}
	printf("receiver: it was at offset %" PRIu64 ", where the sender wrote it: not copied at all\n",
	       offset);
	ok = true;
out_unmap:
	kport_pool_unmap(pool, pool_len);
out:
	close(rx);
	return ok;
}

static long page_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 0 ? page : 4096;
}

/* Open or create the port; -1 (after saying why) if it will not do. */
static int open_port(bool *created)
{
	struct kport_attr attr = KPORT_ATTR_DEFAULT;
	struct kport_stat st;
	int fd, ret;

	attr.flags = KPORT_CREATE_ZEROCOPY;
	attr.msg_size = PAYLOAD;
	attr.pool_size = POOL;
	*created = true;
	fd = kport_create(name, &attr);
	if (fd == -EEXIST) {
		*created = false;
		fd = kport_open(name, KPORT_RIGHTS_ALL);
	}
	ret = fd < 0 ? fd : kport_stat(fd, &st);
	if (ret < 0) {
		fprintf(stderr, "bigmsg: port %s: %s\n", name, strerror(-ret));
		return -1;
	}
	if (!st.pool_size || !(st.port_flags & KPORT_CREATE_ZEROCOPY)) {
		fprintf(stderr, "bigmsg: port %s needs a zero-copy pool\n", name);
		return -1;
	}
	payload = st.msg_size < PAYLOAD ? st.msg_size : PAYLOAD;
	pool_bytes = (payload + page_size() - 1) / page_size() * page_size();
	if (payload <= st.pool_threshold) {
		fprintf(stderr, "bigmsg: port %s: a %zu-byte message is not above the pool threshold (%u)\n",
			name, payload, st.pool_threshold);
		return -1;
	}
	if (st.nr_msgs || st.slices_held || st.pool_used) {
		fprintf(stderr, "bigmsg: port %s is in use\n", name);
		return -1;
	}
	printf("port %s: pool of %" PRIu64 " bytes, messages up to %u bytes, longer than %u bytes go through the pool\n",
	       name, (uint64_t)st.pool_size, st.msg_size, st.pool_threshold);
	return fd;
}

int main(int argc, char **argv)
{
	int fd, to_parent[2], to_child[2], status;
	bool created, ok;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	name = argc > 1 ? argv[1] : "demo.big";
	fd = open_port(&created);
	if (fd < 0)
		return 1;
	if (pipe(to_parent) < 0 || pipe(to_child) < 0) {
		perror("pipe");
		return 1;
	}
	alarm(WATCHDOG_S);
	/* A sender that died must show up as a failed put(), not kill us. */
	signal(SIGPIPE, SIG_IGN);

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(to_parent[0]);
		close(to_child[1]);
		_exit(sender(to_parent[1], to_child[0]));
	}
	/* Our copies closed, a sender that dies makes get() fail at once. */
	close(to_parent[1]);
	close(to_child[0]);

	ok = receiver(to_parent[0], to_child[1]);
	if (!ok)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		if (ok)
			printf("FAIL: the sender failed\n");
		ok = false;
	}
	if (ok)
		ok = expect_stat(fd, "at the end", 0, 0, 0);
	if (created)
		kport_delete(fd);
	return ok ? 0 : 1;
}
