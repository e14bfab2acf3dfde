// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftests: send then receive in one call (KPORT_IOC_SENDRECV), the
 * request-reply fast path.
 */
#include "kport_test.h"
#include "kport.h"

struct sr_port {
	char name[KPORT_NAME_MAX];
	int fd;
};

static int sr_call(int fd, int recv_fd, const void *out, uint32_t out_len,
		   void *in, uint32_t in_len, uint64_t send_flags,
		   uint64_t recv_flags, struct kport_sendrecv *res)
{
	struct kport_sendrecv sr;
	int ret;

	memset(&sr, 0, sizeof(sr));
	sr.recv_fd = recv_fd;
	sr.done = 0xdead;	/* output only: ignored on input */
	sr.send.flags = send_flags;
	sr.send.buf = (uintptr_t)out;
	sr.send.len = out_len;
	sr.recv.flags = recv_flags;
	sr.recv.buf = (uintptr_t)in;
	sr.recv.len = in_len;
	ret = kt_ioctl(fd, KPORT_IOC_SENDRECV, &sr);
	if (res)
		*res = sr;
	return ret;
}

FIXTURE(sr) {
	struct sr_port req, rep;
};

FIXTURE_SETUP(sr)
{
	char tag[48];

	snprintf(tag, sizeof(tag), "req.%s", _metadata->name);
	kt_name(self->req.name, tag);
	snprintf(tag, sizeof(tag), "rep.%s", _metadata->name);
	kt_name(self->rep.name, tag);
	self->req.fd = kt_create_simple(self->req.name, 4, 64);
	ASSERT_LE(0, self->req.fd);
	self->rep.fd = kt_create_simple(self->rep.name, 4, 64);
	ASSERT_LE(0, self->rep.fd);
}

FIXTURE_TEARDOWN(sr)
{
	close(self->req.fd);
	close(self->rep.fd);
	kt_unlink(self->req.name);
	kt_unlink(self->rep.name);
}

TEST_F(sr, version_reports_the_sendrecv_feature)
{
	struct kport_version v;

	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, kt_ioctl(kt_dev(), KPORT_IOC_VERSION, &v));
	ASSERT_TRUE(v.features & KPORT_FEAT_SENDRECV);
}

TEST_F(sr, client_and_server_exchange_requests_and_replies)
{
	const int rounds = 200;
	char in[64];
	pid_t pid;
	int i;

	pid = kt_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Server: take the first request, then reply-and-receive. */
		char req[64], reply[64];
		int n;

		n = kt_recv(self->req.fd, req, sizeof(req), 0, NULL);
		KT_CHILD_ASSERT(n > 0);
		for (i = 0; i < rounds; i++) {
			n = snprintf(reply, sizeof(reply), "re: %s", req) + 1;
			if (i == rounds - 1) {
				KT_CHILD_ASSERT(!kt_send(self->rep.fd, reply, n,
							 0, 0, 0));
				break;
			}
			KT_CHILD_ASSERT(!sr_call(self->rep.fd, self->req.fd,
						 reply, n, req, sizeof(req),
						 0, 0, NULL));
		}
		_exit(0);
	}
	for (i = 0; i < rounds; i++) {
		struct kport_sendrecv res;
		char out[64], want[80];
		int n = snprintf(out, sizeof(out), "request %d", i) + 1;

		ASSERT_EQ(0, sr_call(self->req.fd, self->rep.fd, out, n, in,
				     sizeof(in), 0, 0, &res));
		snprintf(want, sizeof(want), "re: %s", out);
		ASSERT_STREQ(want, in);
		ASSERT_EQ(KPORT_SR_SENT, res.done);
		ASSERT_EQ(strlen(want) + 1, res.recv.len);
		ASSERT_EQ(pid, res.recv.pid);
	}
	ASSERT_EQ(0, kt_reap(pid, -1));
}

TEST_F(sr, recv_fd_minus_one_receives_on_the_same_port)
{
	char in[64];

	ASSERT_EQ(0, sr_call(self->req.fd, -1, "loop", 5, in, sizeof(in), 0,
			     0, NULL));
	ASSERT_STREQ("loop", in);
}

TEST_F(sr, a_failed_send_receives_nothing_and_reports_not_sent)
{
	struct kport_sendrecv res;
	struct kport_stat st;
	char in[64];
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, kt_send(self->req.fd, "x", 2, 0, 0, 0));
	ASSERT_EQ(0, kt_send(self->rep.fd, "waiting", 8, 0, 0, 0));
	ASSERT_EQ(-EAGAIN, sr_call(self->req.fd, self->rep.fd, "y", 2, in,
				   sizeof(in), KPORT_MSG_NONBLOCK, 0, &res));
	ASSERT_EQ(0, res.done);
	ASSERT_EQ(0, kt_stat(self->rep.fd, &st));
	ASSERT_EQ(1, st.nr_msgs);
}

TEST_F(sr, a_failed_receive_after_the_send_reports_sent)
{
	struct kport_sendrecv res;
	struct kport_stat st;
	char in[64];

	ASSERT_EQ(-EAGAIN, sr_call(self->req.fd, self->rep.fd, "hi", 3, in,
				   sizeof(in), 0, KPORT_MSG_NONBLOCK, &res));
	ASSERT_EQ(KPORT_SR_SENT, res.done);
	ASSERT_EQ(0, kt_stat(self->req.fd, &st));
	ASSERT_EQ(1, st.nr_msgs);
}

TEST_F(sr, the_receive_deadline_is_honoured)
{
	struct kport_sendrecv sr;
	uint64_t start = kt_now_ns();
	char in[64];

	memset(&sr, 0, sizeof(sr));
	sr.recv_fd = self->rep.fd;
	sr.send.buf = (uintptr_t)"t";
	sr.send.len = 2;
	sr.recv.flags = KPORT_MSG_DEADLINE;
	sr.recv.deadline_ns = kt_deadline_ms(100);
	sr.recv.buf = (uintptr_t)in;
	sr.recv.len = sizeof(in);
	ASSERT_EQ(-ETIMEDOUT, kt_ioctl(self->req.fd, KPORT_IOC_SENDRECV, &sr));
	ASSERT_LE(start + 100 * KT_NSEC_PER_MSEC, kt_now_ns());
	ASSERT_EQ(KPORT_SR_SENT, sr.done);
}

TEST_F(sr, a_reply_too_big_fails_with_EMSGSIZE_and_stays_queued)
{
	struct kport_sendrecv res;
	struct kport_stat st;
	char in[4];

	ASSERT_EQ(0, kt_send(self->rep.fd, "a long reply", 13, 0, 0, 0));
	ASSERT_EQ(-EMSGSIZE, sr_call(self->req.fd, self->rep.fd, "q", 2, in,
				     sizeof(in), 0, 0, &res));
	ASSERT_EQ(13, res.recv.len);
	ASSERT_EQ(0, kt_stat(self->rep.fd, &st));
	ASSERT_EQ(1, st.nr_msgs);
}

TEST_F(sr, rights_of_both_handles_are_enforced)
{
	char in[64];
	int rfd, sfd;

	rfd = kt_open(self->req.name, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, rfd);
	sfd = kt_open(self->rep.name, KPORT_RIGHT_SEND, 0);
	ASSERT_LE(0, sfd);
	/* Sending through a receive-only handle. */
	ASSERT_EQ(-EBADF, sr_call(rfd, self->rep.fd, "a", 2, in, sizeof(in),
				  0, 0, NULL));
	/* Receiving through a send-only handle: nothing is sent either. */
	ASSERT_EQ(-EBADF, sr_call(self->req.fd, sfd, "a", 2, in, sizeof(in),
				  0, 0, NULL));
	ASSERT_EQ(-EAGAIN, kt_recv(self->req.fd, in, sizeof(in),
				   KPORT_MSG_NONBLOCK, NULL));
	close(rfd);
	close(sfd);
}

TEST_F(sr, recv_fd_must_be_an_open_kport_handle)
{
	char in[64];
	int pipefd[2];

	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(-EINVAL, sr_call(self->req.fd, pipefd[0], "a", 2, in,
				   sizeof(in), 0, 0, NULL));
	ASSERT_EQ(-EINVAL, sr_call(self->req.fd, kt_dev(), "a", 2, in,
				   sizeof(in), 0, 0, NULL));
	close(pipefd[0]);
	close(pipefd[1]);
	ASSERT_EQ(-EBADF, sr_call(self->req.fd, pipefd[0], "a", 2, in,
				  sizeof(in), 0, 0, NULL));
	/* None of these sent anything. */
	ASSERT_EQ(-EAGAIN, kt_recv(self->req.fd, in, sizeof(in),
				   KPORT_MSG_NONBLOCK, NULL));
}

TEST_F(sr, bad_arguments_fail_with_EINVAL_and_send_nothing)
{
	struct kport_sendrecv sr;
	char in[64];

	memset(&sr, 0, sizeof(sr));
	sr.recv_fd = -1;
	sr.send.buf = (uintptr_t)"a";
	sr.send.len = 2;
	sr.recv.buf = (uintptr_t)in;
	sr.recv.len = sizeof(in);
	sr.recv.flags = KPORT_MSG_NONBLOCK;

	sr.flags = 1;
	ASSERT_EQ(-EINVAL, kt_ioctl(self->req.fd, KPORT_IOC_SENDRECV, &sr));
	sr.flags = 0;
	sr.__reserved[1] = 1;
	ASSERT_EQ(-EINVAL, kt_ioctl(self->req.fd, KPORT_IOC_SENDRECV, &sr));
	sr.__reserved[1] = 0;
	sr.send.flags = KPORT_MSG_FROM_PID;
	ASSERT_EQ(-EINVAL, kt_ioctl(self->req.fd, KPORT_IOC_SENDRECV, &sr));
	sr.send.flags = 0;
	sr.recv.flags = KPORT_MSG_POST;
	ASSERT_EQ(-EINVAL, kt_ioctl(self->req.fd, KPORT_IOC_SENDRECV, &sr));
	sr.recv.flags = KPORT_MSG_NONBLOCK;
	sr.send.__reserved = 1;
	ASSERT_EQ(-EINVAL, kt_ioctl(self->req.fd, KPORT_IOC_SENDRECV, &sr));
	sr.send.__reserved = 0;
	/* A bad receive filter is refused before the send happens. */
	sr.recv.flags = KPORT_MSG_NONBLOCK | KPORT_MSG_FROM_PID;
	sr.recv.pid = 0;
	ASSERT_EQ(-EINVAL, kt_ioctl(self->req.fd, KPORT_IOC_SENDRECV, &sr));
	ASSERT_EQ(0U, sr.done);
	sr.recv.pid = -1;
	ASSERT_EQ(-EINVAL, kt_ioctl(self->req.fd, KPORT_IOC_SENDRECV, &sr));
	ASSERT_EQ(-EFAULT, kt_ioctl(self->req.fd, KPORT_IOC_SENDRECV, NULL));
	ASSERT_EQ(-EAGAIN, kt_recv(self->req.fd, in, sizeof(in),
				   KPORT_MSG_NONBLOCK, NULL));
}

TEST_F(sr, library_call_returns_the_reply_and_reports_a_failed_receive)
{
	struct kport_info info;
	char reply[64];
	int sent = -1;

	ASSERT_EQ(0, kt_send(self->rep.fd, "pong", 5, 3, 0, 0));
	ASSERT_EQ(5, kport_call(self->req.fd, self->rep.fd, "ping", 5, reply,
				sizeof(reply), 1000000000LL, &info, &sent));
	ASSERT_STREQ("pong", reply);
	ASSERT_EQ(1, sent);
	ASSERT_EQ(getpid(), info.pid);
	ASSERT_EQ(3U, info.priority);
	/* The request went out; no reply comes: sent, then -ETIMEDOUT. */
	sent = -1;
	ASSERT_EQ(-ETIMEDOUT, kport_call(self->req.fd, self->rep.fd, "again", 6,
					 reply, sizeof(reply), 50000000LL,
					 &info, &sent));
	ASSERT_EQ(1, sent);
	ASSERT_EQ(5, kt_recv(self->req.fd, reply, sizeof(reply),
			     KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(6, kt_recv(self->req.fd, reply, sizeof(reply),
			     KPORT_MSG_NONBLOCK, NULL));
}

TEST_HARNESS_MAIN
