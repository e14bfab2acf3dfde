// SPDX-License-Identifier: GPL-2.0
/*
 * SysV message queues: msg_qbytes raised to depth x size.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/msg.h>

#include "bench.h"

struct sysv_chan {
	int msqid;
};

static struct sysv_chan *sysvc(struct chan *c)
{
	return c->priv;
}

struct sysv_hdr {
	long mtype;
	char data[];
};

static int sysv_setup(struct chan *c, char *why, size_t len)
{
	struct sysv_chan *q = chan_priv_new(c, sizeof(*q));
	long long max = read_ll("/proc/sys/kernel/msgmax");
	struct msqid_ds ds;
	size_t want = c->size * (size_t)c->depth;

	q->msqid = -1;
	if (max >= 0 && (long long)c->size > max) {
		snprintf(why, len, "message above msgmax (%lld)", max);
		return -1;
	}
	q->msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q->msqid < 0) {
		snprintf(why, len, "msgget: %s", strerror(errno));
		return -1;
	}
	if (msgctl(q->msqid, IPC_STAT, &ds) == 0 && ds.msg_qbytes < want) {
		ds.msg_qbytes = want > INT_MAX ? INT_MAX : want;
		if (msgctl(q->msqid, IPC_SET, &ds)) {
			if (msgctl(q->msqid, IPC_STAT, &ds) || ds.msg_qbytes < c->size) {
				snprintf(why, len, "msg_qbytes %zu: %s", want, strerror(errno));
				msgctl(q->msqid, IPC_RMID, NULL);
				return -1;
			}
			snprintf(c->note, sizeof(c->note), "msg_qbytes %lu",
				 (unsigned long)ds.msg_qbytes);
		}
	}
	return 0;
}

/* mtype at offset 8 of the buffer, so that the payload is 16-byte aligned. */
static struct sysv_hdr *sysv_msg(struct chan *c)
{
	return (struct sysv_hdr *)(c->buf + 8);
}

static void sysv_attach(struct chan *c)
{
	chan_bufs(c, 1, 16);
	sysv_msg(c)->mtype = 1;
}

static void *sysv_sbuf(struct chan *c)
{
	return sysv_msg(c)->data;
}

static void sysv_send(struct chan *c, size_t len)
{
	struct sysv_chan *q = sysvc(c);

	while (msgsnd(q->msqid, sysv_msg(c), len, 0)) {
		if (errno != EINTR)
			child_fail("%s: msgsnd: %s", c->m->name, strerror(errno));
	}
}

static const void *sysv_recv(struct chan *c, size_t *len)
{
	struct sysv_chan *q = sysvc(c);
	ssize_t n;

	do {
		n = msgrcv(q->msqid, sysv_msg(c), c->size, 0, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EIDRM || errno == EINVAL)
			return NULL;
		child_fail("%s: msgrcv: %s", c->m->name, strerror(errno));
	}
	*len = (size_t)n;
	return sysv_msg(c)->data;
}

static void sysv_teardown(struct chan *c)
{
	struct sysv_chan *q = sysvc(c);

	if (q->msqid >= 0)
		msgctl(q->msqid, IPC_RMID, NULL);
	chan_priv_free(c);
}

const struct mech mech_sysv_msg = {
	.name = "sysv-msg", .what = "SysV message queue (msg_qbytes = depth x size)",
	.tests = TL | TT | TS, .flags = MF_PEER | MF_COPYING, .kcopies = 2, .copies = "2 (kernel)",
	.setup = sysv_setup, .attach = sysv_attach, .sbuf = sysv_sbuf, .send = sysv_send,
	.recv = sysv_recv, .teardown = sysv_teardown,
};
