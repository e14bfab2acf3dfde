// SPDX-License-Identifier: GPL-2.0
/*
 * Pipes and UNIX socketpairs (stream, seqpacket, and seqpacket with
 * sendmmsg/recvmmsg): a pair of fds, buffers sized to the in-flight budget.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

/* Pipes and socketpairs: fd[1] sends, fd[0] receives. */
struct fd_chan {
	int fd[2];
	size_t sockbuf;		/* socket buffers asked for */
	struct mmsghdr *mm;	/* sendmmsg/recvmmsg: one per message */
	struct iovec *iov;
	int cur;		/* sender: messages in the pending batch */
	int bn, bpos;		/* receiver: batch received, next to hand out */
};

static struct fd_chan *fdc(struct chan *c)
{
	return c->priv;
}

static struct fd_chan *fd_chan_new(struct chan *c)
{
	struct fd_chan *f = chan_priv_new(c, sizeof(*f));

	f->fd[0] = f->fd[1] = -1;
	return f;
}

/* Stream buffers: the in-flight budget, at least 64 KiB, at most 64 MiB. */
static size_t stream_bytes(struct chan *c)
{
	size_t b = c->size * (size_t)c->depth;

	if (b < 64 * KiB)
		b = 64 * KiB;
	if (b > 64 * MiB)
		b = 64 * MiB;
	return b;
}

/* ---- pipe ----------------------------------------------------------------- */

static int pipe_setup(struct chan *c, char *why, size_t len)
{
	struct fd_chan *f = fd_chan_new(c);
	size_t want = stream_bytes(c), p = PAGE;
	int got;

	if (pipe2(f->fd, O_CLOEXEC)) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		return -1;
	}
	while (p < want)
		p *= 2;		/* the kernel rounds to a power of two pages */
	got = fcntl(f->fd[1], F_SETPIPE_SZ, (int)p);
	if (got < 0) {
		got = fcntl(f->fd[1], F_GETPIPE_SZ);
		snprintf(c->note, sizeof(c->note), "pipe buffer %d (F_SETPIPE_SZ %zu: %s)",
			 got, p, strerror(errno));
	}
	return 0;
}

static void fd_attach(struct chan *c)
{
	struct fd_chan *f = fdc(c);

	/* Senders write fd[1], receivers read fd[0] (socketpairs alike). */
	close(f->fd[c->role == ROLE_SEND ? 0 : 1]);
	chan_bufs(c, 1, 0);
}

static void write_all(struct chan *c, int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			child_fail("%s: write: %s", c->m->name, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

static void pipe_send(struct chan *c, size_t len)
{
	struct fd_chan *f = fdc(c);

	write_all(c, f->fd[1], c->buf, len);
}

/* One message of exactly c->size bytes; NULL at end of stream. */
static const void *pipe_recv(struct chan *c, size_t *len)
{
	struct fd_chan *f = fdc(c);
	size_t got = 0;

	while (got < c->size) {
		ssize_t n = read(f->fd[0], c->buf + got, c->size - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			child_fail("%s: read: %s", c->m->name, strerror(errno));
		}
		if (!n) {
			if (got)
				child_fail("%s: end of stream inside a message", c->m->name);
			return NULL;
		}
		got += (size_t)n;
	}
	*len = got;
	return c->buf;
}

static void fd_parent_close(struct chan *c)
{
	struct fd_chan *f = fdc(c);

	if (f->fd[0] >= 0)
		close(f->fd[0]);
	if (f->fd[1] >= 0)
		close(f->fd[1]);
	f->fd[0] = f->fd[1] = -1;
}

static void fd_teardown(struct chan *c)
{
	fd_parent_close(c);
	chan_priv_free(c);
}

const struct mech mech_pipe = {
	.name = "pipe",
	.what = "pipe, one write/read per message, buffer sized to the in-flight budget",
	.tests = TL | TT | TS, .flags = MF_PEER | MF_COPYING, .kcopies = 2, .copies = "2 (kernel)",
	.setup = pipe_setup, .attach = fd_attach, .send = pipe_send, .recv = pipe_recv,
	.parent_close = fd_parent_close, .teardown = fd_teardown,
};

/* ---- UNIX sockets ------------------------------------------------------------ */

static void set_sockbuf(struct chan *c, int fd, int force, int plain, int val)
{
	if (!setsockopt(fd, SOL_SOCKET, force, &val, sizeof(val)))
		return;
	if (setsockopt(fd, SOL_SOCKET, plain, &val, sizeof(val)))
		snprintf(c->note, sizeof(c->note), "socket buffer: %s", strerror(errno));
	else
		snprintf(c->note, sizeof(c->note), "socket buffer capped by wmem_max/rmem_max");
}

static int sock_setup_type(struct chan *c, int type, char *why, size_t len)
{
	struct fd_chan *f = fd_chan_new(c);
	size_t b = stream_bytes(c);
	int sv[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv)) {
		snprintf(why, len, "socketpair: %s", strerror(errno));
		return -1;
	}
	/* fd[1] sends, fd[0] receives, as for a pipe. */
	f->fd[1] = sv[0];
	f->fd[0] = sv[1];
	if (type == SOCK_SEQPACKET && b < 2 * c->size + 4096)
		b = 2 * c->size + 4096;	/* one message must fit */
	f->sockbuf = b;
	set_sockbuf(c, f->fd[1], SO_SNDBUFFORCE, SO_SNDBUF, (int)b);
	set_sockbuf(c, f->fd[0], SO_RCVBUFFORCE, SO_RCVBUF, (int)b);
	return 0;
}

static int stream_setup(struct chan *c, char *why, size_t len)
{
	return sock_setup_type(c, SOCK_STREAM, why, len);
}

/* A seqpacket message must be allocated whole: try one before the run. */
static int seqpacket_setup(struct chan *c, char *why, size_t len)
{
	struct fd_chan *f;
	char *p;
	ssize_t n;

	if (sock_setup_type(c, SOCK_SEQPACKET, why, len))
		return -1;
	f = fdc(c);
	p = alloc_buf(c->size, 1);
	if (!p) {
		snprintf(why, len, "out of memory");
		goto fail;
	}
	n = send(f->fd[1], p, c->size, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n != (ssize_t)c->size) {
		snprintf(why, len, "one %zu-byte message: %s", c->size,
			 n < 0 ? strerror(errno) : "short send");
		free_buf(p, c->size);
		goto fail;
	}
	n = recv(f->fd[0], p, c->size, MSG_DONTWAIT);
	free_buf(p, c->size);
	if (n != (ssize_t)c->size) {
		snprintf(why, len, "probe receive: %s", n < 0 ? strerror(errno) : "short");
		goto fail;
	}
	return 0;
fail:
	fd_parent_close(c);
	return -1;
}

static void sock_send(struct chan *c, size_t len)
{
	struct fd_chan *f = fdc(c);
	const char *p = c->buf;

	while (len) {
		ssize_t n = send(f->fd[1], p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			child_fail("%s: send: %s", c->m->name, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

static const void *stream_recv(struct chan *c, size_t *len)
{
	struct fd_chan *f = fdc(c);
	size_t got = 0;

	while (got < c->size) {
		ssize_t n = recv(f->fd[0], c->buf + got, c->size - got, MSG_WAITALL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			child_fail("%s: recv: %s", c->m->name, strerror(errno));
		}
		if (!n) {
			if (got)
				child_fail("%s: end of stream inside a message", c->m->name);
			return NULL;
		}
		got += (size_t)n;
	}
	*len = got;
	return c->buf;
}

static const void *seqpacket_recv(struct chan *c, size_t *len)
{
	struct fd_chan *f = fdc(c);
	ssize_t n;

	do {
		n = recv(f->fd[0], c->buf, c->size, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		child_fail("%s: recv: %s", c->m->name, strerror(errno));
	if (!n)
		return NULL;	/* the senders are gone */
	*len = (size_t)n;
	return c->buf;
}

static void mmsg_attach(struct chan *c)
{
	struct fd_chan *f = fdc(c);
	int i;

	close(f->fd[c->role == ROLE_SEND ? 0 : 1]);
	chan_bufs(c, c->batch, 0);
	f->mm = calloc((size_t)c->batch, sizeof(*f->mm));
	f->iov = calloc((size_t)c->batch, sizeof(*f->iov));
	if (!f->mm || !f->iov)
		child_fail("out of memory");
	for (i = 0; i < c->batch; i++) {
		f->iov[i].iov_base = c->buf + (size_t)i * c->stride;
		f->iov[i].iov_len = c->size;
		f->mm[i].msg_hdr.msg_iov = &f->iov[i];
		f->mm[i].msg_hdr.msg_iovlen = 1;
	}
}

static void mmsg_flush(struct chan *c)
{
	struct fd_chan *f = fdc(c);
	int done = 0;

	while (done < f->cur) {
		int n = sendmmsg(f->fd[1], &f->mm[done], (unsigned int)(f->cur - done),
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			child_fail("%s: sendmmsg: %s", c->m->name, strerror(errno));
		}
		done += n;
	}
	f->cur = 0;
}

static void mmsg_send(struct chan *c, size_t len)
{
	struct fd_chan *f = fdc(c);

	f->iov[f->cur].iov_len = len;
	if (++f->cur == c->batch)
		mmsg_flush(c);
}

static const void *mmsg_recv(struct chan *c, size_t *len)
{
	struct fd_chan *f = fdc(c);
	const void *p;

	if (f->bpos == f->bn) {
		int i, n;

		for (i = 0; i < c->batch; i++) {
			f->iov[i].iov_len = c->size;
			f->mm[i].msg_len = 0;
		}
		do {
			n = recvmmsg(f->fd[0], f->mm, (unsigned int)c->batch,
				     MSG_WAITFORONE, NULL);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			child_fail("%s: recvmmsg: %s", c->m->name, strerror(errno));
		f->bn = n;
		f->bpos = 0;
	}
	if (f->bpos == f->bn || !f->mm[f->bpos].msg_len)
		return NULL;	/* end of stream */
	*len = f->mm[f->bpos].msg_len;
	p = f->iov[f->bpos].iov_base;
	f->bpos++;
	return p;
}

static void *mmsg_sbuf(struct chan *c)
{
	struct fd_chan *f = fdc(c);

	return f->iov[f->cur].iov_base;
}

const struct mech mech_unix_stream = {
	.name = "unix-stream", .what = "UNIX socketpair, SOCK_STREAM",
	.tests = TL | TT, .flags = MF_PEER | MF_COPYING, .kcopies = 2, .copies = "2 (kernel)",
	.setup = stream_setup, .attach = fd_attach, .send = sock_send, .recv = stream_recv,
	.parent_close = fd_parent_close, .teardown = fd_teardown,
};

const struct mech mech_unix_seqpacket = {
	.name = "unix-seqpacket", .what = "UNIX socketpair, SOCK_SEQPACKET",
	.tests = TL | TT | TS, .flags = MF_PEER | MF_COPYING, .kcopies = 2, .copies = "2 (kernel)",
	.setup = seqpacket_setup, .attach = fd_attach, .send = sock_send, .recv = seqpacket_recv,
	.parent_close = fd_parent_close, .teardown = fd_teardown,
};

const struct mech mech_seqpacket_mmsg = {
	.name = "seqpacket-mmsg", .what = "UNIX SOCK_SEQPACKET, sendmmsg/recvmmsg of up to --batch",
	.tests = TT | TS, .flags = MF_PEER | MF_COPYING | MF_BATCH, .kcopies = 2,
	.copies = "2 (kernel)", .max_size = BATCH_MAX_SIZE,
	.setup = seqpacket_setup, .attach = mmsg_attach, .sbuf = mmsg_sbuf, .send = mmsg_send,
	.flush = mmsg_flush, .recv = mmsg_recv, .parent_close = fd_parent_close,
	.teardown = fd_teardown,
};
