// SPDX-License-Identifier: GPL-2.0
/*
 * The shared-memory ring with eventfd wake-ups.
 *
 * Single producer, single consumer.  Slots live in a shared mapping; the
 * producer fills a slot in place and publishes it by advancing head, the
 * consumer reads it in place and frees it by advancing tail.  A side that
 * finds nothing to do (empty ring, full ring) announces that it is going to
 * sleep, re-checks, and blocks in read() on its eventfd; the other side
 * writes that eventfd only when it sees the announcement.  The announcement
 * and the index are each followed by a full fence before the other is read
 * (Dekker), so a wake-up cannot be lost; a stale one only makes the sleeper
 * look again.  --spin N polls N times before sleeping (default 0: under
 * emulation a spinning CPU starves its peer).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

/* The shared mapping: the indices and flags, each on its own cache line. */
struct ring {
	_Atomic uint64_t head;
	char pad0[56];
	_Atomic uint64_t tail;
	char pad1[56];
	_Atomic int cons_waiting;
	char pad2[60];
	_Atomic int prod_waiting;
	char pad3[60];
	uint32_t len[];
};

/* Each process's view of it. */
struct shm_chan {
	struct ring *ring;
	char *slots;
	size_t ring_bytes, slot_stride;
	int efd_c, efd_p;	/* the consumer's and the producer's eventfd */
	uint64_t rhead, rtail;	/* the producer's head, the consumer's tail */
};

static struct shm_chan *shm(struct chan *c)
{
	return c->priv;
}

static int ring_setup(struct chan *c, char *why, size_t len)
{
	struct shm_chan *s = chan_priv_new(c, sizeof(*s));
	size_t hdr = round_up(sizeof(struct ring) + sizeof(uint32_t) * (size_t)c->depth,
			      PAGE);

	s->efd_c = s->efd_p = -1;
	s->slot_stride = round_up(c->size, 64);
	s->ring_bytes = hdr + s->slot_stride * (size_t)c->depth;
	s->ring = mmap(NULL, s->ring_bytes, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->ring == MAP_FAILED) {
		s->ring = NULL;
		snprintf(why, len, "mmap %zu: %s", s->ring_bytes, strerror(errno));
		return -1;
	}
	s->slots = (char *)s->ring + hdr;
	/* The slots play the part of the copying senders' prepared buffer. */
	memset(s->slots, 0x5a, s->slot_stride * (size_t)c->depth);
	s->efd_c = eventfd(0, EFD_CLOEXEC);
	s->efd_p = eventfd(0, EFD_CLOEXEC);
	if (s->efd_c < 0 || s->efd_p < 0) {
		snprintf(why, len, "eventfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void ring_attach(struct chan *c)
{
	struct shm_chan *s = shm(c);

	touch_pages(s->ring, s->ring_bytes);
}

static void ring_sleep(struct chan *c, int efd)
{
	uint64_t v;

	while (read(efd, &v, sizeof(v)) < 0) {
		if (errno != EINTR)
			child_fail("%s: eventfd read: %s", c->m->name, strerror(errno));
	}
}

static void ring_wake(struct chan *c, int efd)
{
	uint64_t v = 1;

	if (write(efd, &v, sizeof(v)) != sizeof(v))
		child_fail("%s: eventfd write: %s", c->m->name, strerror(errno));
}

static bool ring_full(struct chan *c)
{
	struct shm_chan *s = shm(c);

	return s->rhead - atomic_load_explicit(&s->ring->tail, memory_order_acquire) >=
	       (uint64_t)c->depth;
}

static bool ring_empty(struct chan *c)
{
	struct shm_chan *s = shm(c);

	return atomic_load_explicit(&s->ring->head, memory_order_acquire) == s->rtail;
}

static void *ring_sbuf(struct chan *c)
{
	struct shm_chan *s = shm(c);
	struct ring *r = s->ring;
	int i;

	while (ring_full(c)) {
		for (i = 0; i < O.spin && ring_full(c); i++)
			;
		if (!ring_full(c))
			break;
		atomic_store(&r->prod_waiting, 1);
		atomic_thread_fence(memory_order_seq_cst);
		if (!ring_full(c)) {
			atomic_store(&r->prod_waiting, 0);
			break;
		}
		ring_sleep(c, s->efd_p);
	}
	return s->slots + (s->rhead % (uint64_t)c->depth) * s->slot_stride;
}

static void ring_send(struct chan *c, size_t len)
{
	struct shm_chan *s = shm(c);
	struct ring *r = s->ring;

	r->len[s->rhead % (uint64_t)c->depth] = (uint32_t)len;
	s->rhead++;
	atomic_store_explicit(&r->head, s->rhead, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&r->cons_waiting, memory_order_relaxed) &&
	    atomic_exchange(&r->cons_waiting, 0))
		ring_wake(c, s->efd_c);
}

static const void *ring_recv(struct chan *c, size_t *len)
{
	struct shm_chan *s = shm(c);
	struct ring *r = s->ring;
	int i;

	while (ring_empty(c)) {
		for (i = 0; i < O.spin && ring_empty(c); i++)
			;
		if (!ring_empty(c))
			break;
		atomic_store(&r->cons_waiting, 1);
		atomic_thread_fence(memory_order_seq_cst);
		if (!ring_empty(c)) {
			atomic_store(&r->cons_waiting, 0);
			break;
		}
		ring_sleep(c, s->efd_c);
	}
	*len = r->len[s->rtail % (uint64_t)c->depth];
	return s->slots + (s->rtail % (uint64_t)c->depth) * s->slot_stride;
}

static void ring_rdone(struct chan *c)
{
	struct shm_chan *s = shm(c);
	struct ring *r = s->ring;

	s->rtail++;
	atomic_store_explicit(&r->tail, s->rtail, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&r->prod_waiting, memory_order_relaxed) &&
	    atomic_exchange(&r->prod_waiting, 0))
		ring_wake(c, s->efd_p);
}

static void ring_teardown(struct chan *c)
{
	struct shm_chan *s = shm(c);

	if (s->ring)
		munmap(s->ring, s->ring_bytes);
	if (s->efd_c >= 0)
		close(s->efd_c);
	if (s->efd_p >= 0)
		close(s->efd_p);
	chan_priv_free(c);
}

const struct mech mech_shm_eventfd = {
	.name = "shm-eventfd", .what = "shared-memory SPSC ring, eventfd wake-ups, read in place",
	.tests = TL | TT, .flags = MF_PEER, .kcopies = 0, .copies = "0",
	.setup = ring_setup, .attach = ring_attach, .sbuf = ring_sbuf, .send = ring_send,
	.recv = ring_recv, .rdone = ring_rdone, .teardown = ring_teardown,
};
