// SPDX-License-Identifier: GPL-2.0
/*
 * kport's mechanisms: SEND/RECV, write()/read(), SENDRECV, SENDV/RECVV,
 * a port with a pool received by copy or in place, and zero-copy (BORROW,
 * POST).  The parent creates the port; each process opens its own handle.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kport.h"
#include "bench.h"

/* A kport channel's own state (struct chan's priv). */
struct kp_chan {
	int kfd;		/* the creator's handle (parent) */
	int hfd;		/* this process's own handle */
	char kname[KPORT_NAME_MAX];
	char *pool;
	size_t pool_size;
	uint64_t held_off, borrow_off;
	uint32_t held_len;
	bool held;
	struct kport_msg *km;	/* batches: one per message */
	int cur;		/* sender: messages in the pending batch */
	int bn, bpos;		/* receiver: batch received, next to hand out */
};

static struct kp_chan *kp(struct chan *c)
{
	return c->priv;
}

static int kport_setup_port(struct chan *c, uint64_t flags, size_t pool,
			    char *why, size_t len)
{
	struct kp_chan *k = chan_priv_new(c, sizeof(*k));
	static int seq;
	struct kport_create cr;
	int fd;

	k->kfd = k->hfd = -1;
	memset(&cr, 0, sizeof(cr));
	snprintf(k->kname, sizeof(k->kname), "kbench.%d.%d", (int)getpid(), seq++);
	memcpy(cr.name, k->kname, strlen(k->kname));
	cr.flags = KPORT_CREATE_PROCESS | flags;
	cr.mode = 0600;
	cr.capacity = (uint32_t)c->depth;
	cr.msg_size = (uint32_t)c->size;
	cr.rights = KPORT_RIGHTS_ALL;
	cr.pool_size = pool;
	/* Every size through the pool: the threshold is read at create. */
	if (pool)
		pool_threshold_lower();
	fd = kport_create_raw(&cr);
	if (pool)
		pool_threshold_restore();
	if (fd < 0) {
		snprintf(why, len, "create port (msg_size %zu, capacity %d, pool %zu): %s",
			 c->size, c->depth, pool, strerror(-fd));
		return -1;
	}
	k->kfd = fd;
	k->pool_size = pool;
	if (pool) {
		struct kport_stat st;

		if (!kport_stat(fd, &st) && c->size <= st.pool_threshold)
			snprintf(c->note, sizeof(c->note),
				 "at or below the pool threshold (%u): inline",
				 st.pool_threshold);
	}
	return 0;
}

static int kp_setup(struct chan *c, char *why, size_t len)
{
	return kport_setup_port(c, 0, 0, why, len);
}

static size_t pool_bytes(struct chan *c)
{
	return round_up(c->size, PAGE) * (size_t)c->depth;
}

static int kp_pool_setup(struct chan *c, char *why, size_t len)
{
	return kport_setup_port(c, 0, pool_bytes(c), why, len);
}

static int kp_zc_setup(struct chan *c, char *why, size_t len)
{
	return kport_setup_port(c, KPORT_CREATE_ZEROCOPY, pool_bytes(c), why, len);
}

/* Each process opens its own handle, as separate programs would. */
static void kp_open_own(struct chan *c)
{
	struct kp_chan *k = kp(c);
	struct kport_open o;
	int fd;

	memset(&o, 0, sizeof(o));
	memcpy(o.name, k->kname, strlen(k->kname));
	o.rights = c->role == ROLE_SEND ? KPORT_RIGHT_SEND : KPORT_RIGHT_RECV;
	/*
	 * A send-only handle is an O_WRONLY file, and mmap() of a file not
	 * open for reading is refused by the VFS (EACCES) before kport sees
	 * it: a zero-copy sender needs the receive right too to map the pool.
	 */
	if (c->role == ROLE_SEND && (c->m->flags & MF_ZC))
		o.rights = KPORT_RIGHTS_ALL;
	fd = kport_open_raw(&o);
	if (fd < 0)
		child_fail("%s: open %s: %s", c->m->name, k->kname, strerror(-fd));
	close(k->kfd);
	k->hfd = fd;
}

static void kp_attach(struct chan *c)
{
	kp_open_own(c);
	chan_bufs(c, 1, 0);
}

static void kp_attach_batch(struct chan *c)
{
	struct kp_chan *k = kp(c);
	int i;

	kp_open_own(c);
	chan_bufs(c, c->batch, 0);
	k->km = calloc((size_t)c->batch, sizeof(*k->km));
	if (!k->km)
		child_fail("out of memory");
	for (i = 0; i < c->batch; i++)
		k->km[i].buf = (uintptr_t)(c->buf + (size_t)i * c->stride);
}

/* In place: map the pool (writable for a zero-copy sender) and populate it. */
static void kp_attach_pool(struct chan *c)
{
	struct kp_chan *k = kp(c);
	void *p;
	size_t sz;
	int ret;

	kp_open_own(c);
	chan_bufs(c, 1, 0);
	/* A sender on a port that is not zero-copy only calls SEND. */
	if (c->role == ROLE_SEND && !(c->m->flags & MF_ZC))
		return;
	ret = kport_pool_map(k->hfd, c->role == ROLE_SEND ? KPORT_POOL_WRITE : 0,
			     &p, &sz);
	if (ret < 0)
		child_fail("%s: map pool: %s", c->m->name, strerror(-ret));
	k->pool = p;
	k->pool_size = sz;
	touch_pages(p, sz);
}

static void kp_send(struct chan *c, size_t len)
{
	struct kp_chan *k = kp(c);
	struct kport_msg m;

	memset(&m, 0, sizeof(m));
	m.buf = (uintptr_t)c->buf;
	m.len = (uint32_t)len;
	if (kport_sendmsg(k->hfd, &m) < 0)
		child_fail("%s: send: %s", c->m->name, strerror(errno));
}

static const void *kp_recv(struct chan *c, size_t *len)
{
	struct kp_chan *k = kp(c);
	struct kport_msg m;

	memset(&m, 0, sizeof(m));
	m.buf = (uintptr_t)c->buf;
	m.len = (uint32_t)c->size;
	if (kport_recvmsg(k->hfd, &m) < 0) {
		if (errno == EIDRM)
			return NULL;
		child_fail("%s: recv: %s", c->m->name, strerror(errno));
	}
	*len = m.len;
	return c->buf;
}

static void kp_rw_send(struct chan *c, size_t len)
{
	struct kp_chan *k = kp(c);

	if (write(k->hfd, c->buf, len) != (ssize_t)len)
		child_fail("%s: write: %s", c->m->name, strerror(errno));
}

static const void *kp_rw_recv(struct chan *c, size_t *len)
{
	struct kp_chan *k = kp(c);
	ssize_t n = read(k->hfd, c->buf, c->size);

	if (n < 0) {
		if (errno == EIDRM)
			return NULL;
		child_fail("%s: read: %s", c->m->name, strerror(errno));
	}
	*len = (size_t)n;
	return c->buf;
}

static void *kp_batch_sbuf(struct chan *c)
{
	struct kp_chan *k = kp(c);

	return c->buf + (size_t)k->cur * c->stride;
}

static void kp_batch_flush(struct chan *c)
{
	struct kp_chan *k = kp(c);
	struct kport_batch b;
	int done = 0, ret;

	while (done < k->cur) {
		memset(&b, 0, sizeof(b));
		b.msgs = (uintptr_t)&k->km[done];
		b.count = (uint32_t)(k->cur - done);
		b.msg_size = sizeof(struct kport_msg);
		ret = ioctl(k->hfd, KPORT_IOC_SENDV, &b);
		if (ret <= 0)
			child_fail("%s: SENDV: %s", c->m->name,
				   ret ? strerror(errno) : "sent nothing");
		done += ret;
	}
	k->cur = 0;
}

static void kp_batch_send(struct chan *c, size_t len)
{
	struct kp_chan *k = kp(c);

	k->km[k->cur].len = (uint32_t)len;
	if (++k->cur == c->batch)
		kp_batch_flush(c);
}

static const void *kp_batch_recv(struct chan *c, size_t *len)
{
	struct kp_chan *k = kp(c);
	const void *p;

	if (k->bpos == k->bn) {
		struct kport_batch b;
		int i, ret;

		for (i = 0; i < c->batch; i++) {
			struct kport_msg *m = &k->km[i];

			memset(m, 0, sizeof(*m));
			m->buf = (uintptr_t)(c->buf + (size_t)i * c->stride);
			m->len = (uint32_t)c->size;
		}
		memset(&b, 0, sizeof(b));
		b.msgs = (uintptr_t)k->km;
		b.count = (uint32_t)c->batch;
		b.msg_size = sizeof(struct kport_msg);
		ret = ioctl(k->hfd, KPORT_IOC_RECVV, &b);
		if (ret < 0) {
			if (errno == EIDRM)
				return NULL;
			child_fail("%s: RECVV: %s", c->m->name, strerror(errno));
		}
		k->bn = ret;
		k->bpos = 0;
	}
	*len = k->km[k->bpos].len;
	p = c->buf + (size_t)k->bpos * c->stride;
	k->bpos++;
	return p;
}

static const void *kp_inplace_recv(struct chan *c, size_t *len)
{
	struct kp_chan *k = kp(c);
	struct kport_msg m;

	memset(&m, 0, sizeof(m));
	m.flags = KPORT_MSG_INPLACE;
	m.buf = (uintptr_t)c->buf;
	m.len = (uint32_t)c->size;
	if (kport_recvmsg(k->hfd, &m) < 0) {
		if (errno == EIDRM)
			return NULL;
		child_fail("%s: recv in place: %s", c->m->name, strerror(errno));
	}
	*len = m.len;
	if (!(m.result & KPORT_RESULT_INPLACE))
		return c->buf;
	k->held = true;
	k->held_off = m.offset;
	k->held_len = m.len;
	return k->pool + m.offset;
}

static void kp_inplace_rdone(struct chan *c)
{
	struct kp_chan *k = kp(c);
	int ret;

	if (!k->held)
		return;
	k->held = false;
	ret = kport_release(k->hfd, k->held_off, k->held_len);
	if (ret < 0 && ret != -EIDRM)
		child_fail("%s: release: %s", c->m->name, strerror(-ret));
}

static void *kp_zc_sbuf(struct chan *c)
{
	struct kp_chan *k = kp(c);
	int ret = kport_borrow(k->hfd, c->size, -1, &k->borrow_off);

	if (ret < 0)
		child_fail("%s: borrow: %s", c->m->name, strerror(-ret));
	return k->pool + k->borrow_off;
}

static void kp_zc_send(struct chan *c, size_t len)
{
	struct kp_chan *k = kp(c);
	int ret = kport_post(k->hfd, k->borrow_off, len, 0, 0);

	if (ret < 0)
		child_fail("%s: post: %s", c->m->name, strerror(-ret));
}

/*
 * KPORT_IOC_SENDRECV: send on @out's handle, then receive on @in's, in one
 * call.  Returns the received message (in @in's buffer), NULL once the
 * port is gone.
 */
static const void *kp_call(struct chan *out, struct chan *in, size_t len, size_t *got)
{
	struct kport_sendrecv sr;

	memset(&sr, 0, sizeof(sr));
	sr.recv_fd = kp(in)->hfd;
	sr.send.buf = (uintptr_t)out->buf;
	sr.send.len = (uint32_t)len;
	sr.recv.buf = (uintptr_t)in->buf;
	sr.recv.len = (uint32_t)in->size;
	if (ioctl(kp(out)->hfd, KPORT_IOC_SENDRECV, &sr) < 0) {
		if (errno == EIDRM)
			return NULL;
		child_fail("%s: SENDRECV: %s", out->m->name, strerror(errno));
	}
	*got = sr.recv.len;
	return in->buf;
}

static void kp_teardown(struct chan *c)
{
	struct kp_chan *k = kp(c);

	if (k->kfd >= 0) {
		kport_delete(k->kfd);
		close(k->kfd);
	}
	chan_priv_free(c);
}

const struct mech mech_kport = {
	.name = "kport", .what = "kport, one SEND/RECV ioctl per message, payload inline",
	.tests = TL | TT | TS, .flags = MF_KPORT, .kcopies = 2, .copies = "2 (kernel)",
	.setup = kp_setup, .attach = kp_attach, .send = kp_send, .recv = kp_recv,
	.teardown = kp_teardown,
};

const struct mech mech_kport_rw = {
	.name = "kport-rw", .what = "kport through write()/read() on the port fd",
	.tests = TL, .flags = MF_KPORT, .kcopies = 2, .copies = "2 (kernel)",
	.setup = kp_setup, .attach = kp_attach, .send = kp_rw_send, .recv = kp_rw_recv,
	.teardown = kp_teardown,
};

const struct mech mech_kport_call = {
	.name = "kport-call",
	.what = "kport request-reply: SENDRECV, one call per side per round trip",
	.tests = TL, .flags = MF_KPORT, .kcopies = 2, .copies = "2 (kernel)",
	.setup = kp_setup, .attach = kp_attach, .send = kp_send, .recv = kp_recv,
	.call = kp_call, .teardown = kp_teardown,
};

const struct mech mech_kport_batch = {
	.name = "kport-batch", .what = "kport, SENDV/RECVV of up to --batch messages per call",
	.tests = TT | TS, .flags = MF_KPORT | MF_BATCH, .kcopies = 2, .copies = "2 (kernel)",
	.max_size = BATCH_MAX_SIZE,
	.setup = kp_setup, .attach = kp_attach_batch, .sbuf = kp_batch_sbuf, .send = kp_batch_send,
	.flush = kp_batch_flush, .recv = kp_batch_recv, .teardown = kp_teardown,
};

const struct mech mech_kport_pool = {
	.name = "kport-pool", .what = "kport port with a pool, plain receive (kernel copies out)",
	.tests = TT, .flags = MF_KPORT | MF_POOL, .kcopies = 2, .copies = "2 (kernel in+out)",
	.setup = kp_pool_setup, .attach = kp_attach, .send = kp_send, .recv = kp_recv,
	.teardown = kp_teardown,
};

const struct mech mech_kport_inplace = {
	.name = "kport-inplace", .what = "kport pool, receive in place (INPLACE, mmap, RELEASE)",
	.tests = TT, .flags = MF_KPORT | MF_POOL, .kcopies = 1, .copies = "1 (kernel in)",
	.setup = kp_pool_setup, .attach = kp_attach_pool, .send = kp_send, .recv = kp_inplace_recv,
	.rdone = kp_inplace_rdone, .teardown = kp_teardown,
};

const struct mech mech_kport_zc = {
	.name = "kport-zc",
	.what = "kport zero-copy: BORROW, write in place, POST; receive in place",
	.tests = TT, .flags = MF_KPORT | MF_POOL | MF_ZC, .kcopies = 0, .copies = "0",
	.setup = kp_zc_setup, .attach = kp_attach_pool, .sbuf = kp_zc_sbuf, .send = kp_zc_send,
	.recv = kp_inplace_recv, .rdone = kp_inplace_rdone, .teardown = kp_teardown,
};
