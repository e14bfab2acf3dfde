// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX message queues: mq_maxmsg the depth, mq_msgsize the message size.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <unistd.h>

#include "bench.h"

struct mq_chan {
	mqd_t mq;
};

static struct mq_chan *mqc(struct chan *c)
{
	return c->priv;
}

static int mq_setup(struct chan *c, char *why, size_t len)
{
	struct mq_chan *q = chan_priv_new(c, sizeof(*q));
	static int seq;
	struct mq_attr attr;
	char name[64];

	q->mq = (mqd_t)-1;
	memset(&attr, 0, sizeof(attr));
	attr.mq_maxmsg = c->depth;
	attr.mq_msgsize = (long)c->size;
	snprintf(name, sizeof(name), "/kbench.%d.%d", (int)getpid(), seq++);
	q->mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
	if (q->mq == (mqd_t)-1) {
		long long max = read_ll("/proc/sys/fs/mqueue/msgsize_max");

		snprintf(why, len, "mq_open(maxmsg %d, msgsize %zu): %s%s", c->depth,
			 c->size, strerror(errno),
			 errno == EINVAL && c->size > 16 * MiB ?
			 " (above the kernel's hard limit of 16 MiB)" :
			 errno == EINVAL && max >= 0 && (long long)c->size > max ?
			 " (above msgsize_max)" : "");
		return -1;
	}
	mq_unlink(name);	/* lives while open */
	return 0;
}

static void mq_attach(struct chan *c)
{
	chan_bufs(c, 1, 0);
}

static void mq_send_one(struct chan *c, size_t len)
{
	struct mq_chan *q = mqc(c);

	while (mq_send(q->mq, c->buf, len, 0)) {
		if (errno != EINTR)
			child_fail("%s: mq_send: %s", c->m->name, strerror(errno));
	}
}

static const void *mq_recv_one(struct chan *c, size_t *len)
{
	struct mq_chan *q = mqc(c);
	ssize_t n;

	do {
		n = mq_receive(q->mq, c->buf, c->size, NULL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		child_fail("%s: mq_receive: %s", c->m->name, strerror(errno));
	*len = (size_t)n;
	return c->buf;
}

static void mq_teardown(struct chan *c)
{
	struct mq_chan *q = mqc(c);

	if (q->mq != (mqd_t)-1)
		mq_close(q->mq);
	chan_priv_free(c);
}

const struct mech mech_posix_mq = {
	.name = "posix-mq", .what = "POSIX message queue (mq_maxmsg = depth, mq_msgsize = size)",
	.tests = TL | TT | TS, .flags = MF_PEER | MF_COPYING, .kcopies = 2, .copies = "2 (kernel)",
	.setup = mq_setup, .attach = mq_attach, .send = mq_send_one, .recv = mq_recv_one,
	.teardown = mq_teardown,
};
