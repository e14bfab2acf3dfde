// SPDX-License-Identifier: GPL-2.0
/*
 * libkport as a caller meets it: the one meaning of a timeout, and the
 * kport_prep_*() / kport_msg_set_*() helpers that build the raw structs.
 *
 * lib/kport.h: a timeout_ns of 0 does not wait, as a negative one waits
 * forever: a call that can complete at once does, one that would have to
 * wait fails with -ETIMEDOUT, in every function that takes a timeout.
 * -EAGAIN is what KPORT_MSG_NONBLOCK asks for, never what a timeout gives.
 * The helpers start a struct afresh and add one option each; what they
 * build is what the conveniences send, so the two can be mixed.
 */
#include "kport_test.h"
#include "kport.h"
#include <signal.h>
#include <sys/time.h>

#define MSG_SIZE	64
#define POOL_SIZE	(1 << 20)

FIXTURE(lib) {
	char name[KPORT_NAME_MAX];
	char zname[KPORT_NAME_MAX];
	int fd;		/* capacity 1 */
	int zfd;	/* zero-copy pool */
	void *pool;
	size_t pool_len;
	uint32_t threshold;
};

FIXTURE_SETUP(lib)
{
	struct kport_attr attr = KPORT_ATTR_DEFAULT;
	struct kport_stat st;

	self->pool = NULL;
	kt_name(self->name, _metadata->name);
	attr.capacity = 1;
	attr.msg_size = MSG_SIZE;
	self->fd = kport_create(self->name, &attr);
	ASSERT_LE(0, self->fd);

	kt_name(self->zname, "z");
	attr.capacity = 4;
	attr.msg_size = POOL_SIZE / 4;
	attr.flags = KPORT_CREATE_ZEROCOPY;
	attr.pool_size = POOL_SIZE;
	self->zfd = kport_create(self->zname, &attr);
	ASSERT_LE(0, self->zfd);
	ASSERT_EQ(0, kport_pool_map(self->zfd, KPORT_POOL_WRITE, &self->pool,
				    &self->pool_len));
	ASSERT_EQ(0, kport_stat(self->zfd, &st));
	self->threshold = st.pool_threshold;
	ASSERT_LT(self->threshold, POOL_SIZE / 4);
}

FIXTURE_TEARDOWN(lib)
{
	if (self->pool)
		kport_pool_unmap(self->pool, self->pool_len);
	close(self->fd);
	close(self->zfd);
	kt_unlink(self->name);
	kt_unlink(self->zname);
}

/* ---- Timeout 0 ----------------------------------------------------------- */

TEST_F(lib, timeout_zero_completes_every_call_that_need_not_wait)
{
	struct kport_info info;
	uint64_t off;
	char buf[MSG_SIZE];
	int sent = 0;

	ASSERT_EQ(0, kport_send_timeout(self->fd, "a", 1, 0, 0));
	ASSERT_EQ(1, kport_recv_timeout(self->fd, buf, sizeof(buf), 0, &info));
	ASSERT_EQ('a', buf[0]);
	ASSERT_EQ(getpid(), info.pid);

	ASSERT_EQ(0, kport_send(self->fd, "b", 1, 0, 0));
	ASSERT_EQ(1, kport_recv_from(self->fd, getpid(), buf, sizeof(buf), 0,
				     &info));
	ASSERT_EQ('b', buf[0]);

	ASSERT_EQ(0, kport_borrow(self->zfd, 100, 0, &off));
	ASSERT_EQ(0, kport_release(self->zfd, off, 100));

	/* The reply is there before the request goes: no wait needed. */
	ASSERT_EQ(0, kport_send(self->zfd, "r", 1, 0, 0));
	ASSERT_EQ(1, kport_call(self->fd, self->zfd, "q", 1, buf, sizeof(buf),
				0, &info, &sent));
	ASSERT_EQ(1, sent);
	ASSERT_EQ('r', buf[0]);
	ASSERT_EQ(1, kport_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
				NULL));
	ASSERT_EQ('q', buf[0]);
}

TEST_F(lib, timeout_zero_fails_with_etimedout_wherever_it_would_wait)
{
	struct kport_info info;
	struct kport_stat st;
	uint64_t held[8];
	char buf[MSG_SIZE];
	int sent = 0, i, n;
	int ret = 0;

	/* Nothing to receive, from anyone or from us. */
	ASSERT_EQ(-ETIMEDOUT, kport_recv_timeout(self->fd, buf, sizeof(buf), 0,
						 &info));
	ASSERT_EQ(-ETIMEDOUT, kport_recv_from(self->fd, getpid(), buf,
					      sizeof(buf), 0, &info));
	/* A full port. */
	ASSERT_EQ(0, kport_send(self->fd, "x", 1, 0, 0));
	ASSERT_EQ(-ETIMEDOUT, kport_send_timeout(self->fd, "y", 1, 0, 0));
	/* Only one sender's message is there, and it is not the one asked for. */
	ASSERT_EQ(-ETIMEDOUT, kport_recv_from(self->fd, getppid(), buf,
					      sizeof(buf), 0, &info));
	ASSERT_EQ(0, kport_stat(self->fd, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(1, kport_recv(self->fd, buf, sizeof(buf), 0, NULL));

	/* A pool with no room left: the borrow that would wait times out. */
	for (n = 0; n < (int)ARRAY_SIZE(held); n++) {
		ret = kport_borrow(self->zfd, POOL_SIZE / 4, 0, &held[n]);
		if (ret)
			break;
	}
	ASSERT_EQ(-ETIMEDOUT, ret);
	ASSERT_LE(1, n);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, kport_release(self->zfd, held[i], POOL_SIZE / 4));

	/* The request goes; no reply comes. */
	ASSERT_EQ(-ETIMEDOUT, kport_call(self->fd, self->zfd, "q", 1, buf,
					 sizeof(buf), 0, &info, &sent));
	ASSERT_EQ(1, sent);
	ASSERT_EQ(1, kport_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
				NULL));
}

TEST_F(lib, only_the_nonblock_flag_gives_eagain)
{
	char buf[MSG_SIZE];

	ASSERT_EQ(-EAGAIN, kport_recv(self->fd, buf, sizeof(buf),
				      KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0, kport_send(self->fd, "x", 1, 0, KPORT_MSG_NONBLOCK));
	ASSERT_EQ(-EAGAIN, kport_send(self->fd, "y", 1, 0, KPORT_MSG_NONBLOCK));
	ASSERT_EQ(-ETIMEDOUT, kport_send_timeout(self->fd, "y", 1, 0, 0));
}

TEST_F(lib, a_call_with_timeout_zero_does_not_wait_for_room_to_send)
{
	struct kport_info info;
	struct kport_stat st;
	char buf[MSG_SIZE];
	int sent = -1;

	/* The request port is full: the send part would have to wait. */
	ASSERT_EQ(0, kport_send(self->fd, "x", 1, 0, 0));
	ASSERT_EQ(-ETIMEDOUT, kport_call(self->fd, self->zfd, "q", 1, buf,
					 sizeof(buf), 0, &info, &sent));
	ASSERT_EQ(0, sent);
	ASSERT_EQ(0, kport_stat(self->fd, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	/* And a short timeout bounds it too: the call returns, unsent. */
	ASSERT_EQ(-ETIMEDOUT, kport_call(self->fd, self->zfd, "q", 1, buf,
					 sizeof(buf), 20 * KT_NSEC_PER_MSEC,
					 &info, &sent));
	ASSERT_EQ(0, sent);
}

TEST_F(lib, a_non_blocking_handle_gives_eagain_whatever_the_timeout)
{
	char buf[MSG_SIZE];
	int fd;

	fd = kport_open(self->name, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-EAGAIN, kport_recv_timeout(fd, buf, sizeof(buf), -1, NULL));
	EXPECT_EQ(-EAGAIN, kport_recv_timeout(fd, buf, sizeof(buf), 0, NULL));
	EXPECT_EQ(-EAGAIN, kport_recv_from(fd, getpid(), buf, sizeof(buf),
					   KT_TIMEOUT_MS * (int64_t)KT_NSEC_PER_MSEC,
					   NULL));
	close(fd);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/*
 * A full pool and a timeout of 0: the borrow may not wait, so a signal
 * arriving meanwhile has nothing to interrupt.  Timers every 50 us over
 * many tries: any -EINTR shows the pool's wait checking signals before
 * its deadline.
 */
TEST_F(lib, a_borrow_with_timeout_zero_is_never_interrupted_by_a_signal)
{
	struct itimerval it = { { 0, 50 }, { 0, 50 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	uint64_t held[8], o;
	int i, n, ret = 0, eintr = 0, timedout = 0;

	for (n = 0; n < (int)ARRAY_SIZE(held); n++) {
		ret = kport_borrow(self->zfd, POOL_SIZE / 4, 0, &held[n]);
		if (ret)
			break;
	}
	ASSERT_EQ(-ETIMEDOUT, ret);
	ASSERT_EQ(0, kt_sigaction(SIGALRM, on_alarm, 0));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	for (i = 0; i < 20000; i++) {
		ret = kport_borrow(self->zfd, 1, 0, &o);
		if (ret == -EINTR)
			eintr++;
		else if (ret == -ETIMEDOUT)
			timedout++;
	}
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_DFL);
	EXPECT_EQ(0, eintr) TH_LOG("%d alarms", (int)alarms);
	EXPECT_EQ(20000, timedout + eintr);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, kport_release(self->zfd, held[i], POOL_SIZE / 4));
}

/* ---- The helpers ---------------------------------------------------------- */

TEST_F(lib, a_prep_clears_every_field_it_does_not_set)
{
	struct kport_msg m;
	char buf[MSG_SIZE];

	/* The kernel refuses a non-zero reserved or output field. */
	memset(&m, 0xff, sizeof(m));
	kport_prep_send(&m, "abc", 3, 2);
	ASSERT_EQ(0, kport_sendmsg(self->fd, &m));

	memset(&m, 0xff, sizeof(m));
	kport_prep_recv(&m, buf, sizeof(buf));
	ASSERT_EQ(0, kport_recvmsg(self->fd, &m));
	ASSERT_EQ(3U, m.len);
	ASSERT_EQ(2U, m.priority);
	ASSERT_EQ(0, memcmp(buf, "abc", 3));
	ASSERT_EQ((const void *)buf, kport_msg_data(&m, self->pool));
	ASSERT_EQ(0, kport_msg_in_pool(&m));
}

TEST_F(lib, prep_recv_clamps_a_buffer_larger_than_any_message)
{
	struct kport_msg m;
	char buf[MSG_SIZE];

	kport_prep_recv(&m, buf, (size_t)UINT32_MAX + 10);
	ASSERT_EQ(UINT32_MAX, m.len);
	ASSERT_EQ(0, kport_send(self->fd, "z", 1, 0, 0));
	ASSERT_EQ(0, kport_recvmsg(self->fd, &m));
	ASSERT_EQ(1U, m.len);
	ASSERT_EQ('z', buf[0]);
}

TEST_F(lib, set_timeout_negative_waits_forever_and_zero_is_a_deadline_now)
{
	struct kport_msg m;
	uint64_t before;

	kport_prep_recv(&m, NULL, 0);
	kport_msg_set_timeout(&m, -1);
	ASSERT_EQ(0U, m.flags);
	ASSERT_EQ(0U, m.deadline_ns);

	before = kport_now_ns();
	kport_msg_set_timeout(&m, 0);
	ASSERT_EQ(KPORT_MSG_DEADLINE, m.flags);
	ASSERT_LE(before, m.deadline_ns);
	ASSERT_LE(m.deadline_ns, kport_now_ns());
	ASSERT_EQ(-ETIMEDOUT, kport_recvmsg(self->fd, &m));

	kport_prep_send(&m, "d", 1, 0);
	kport_msg_set_deadline(&m, 0);
	ASSERT_EQ(0, kport_sendmsg(self->fd, &m));
	ASSERT_EQ(-ETIMEDOUT, kport_sendmsg(self->fd, &m));
	kport_msg_set_nonblock(&m);
	ASSERT_EQ(-EAGAIN, kport_sendmsg(self->fd, &m));
}

/*
 * The options no convenience offers together: from one sender, in place,
 * with a timeout, through the helpers and kport_msg_info().
 */
TEST_F(lib, options_compose_from_pid_inplace_and_a_timeout)
{
	size_t len = self->threshold + 1;
	struct kport_info info;
	struct kport_msg m;
	const char *data;
	uint64_t off;

	ASSERT_EQ(0, kport_borrow(self->zfd, len, -1, &off));
	memset((char *)self->pool + off, 'p', len);
	kport_prep_post(&m, off, (uint32_t)len, 3);
	ASSERT_EQ(0, kport_sendmsg(self->zfd, &m));

	kport_prep_recv(&m, NULL, 0);
	kport_msg_set_from(&m, getppid());
	kport_msg_set_inplace(&m);
	kport_msg_set_timeout(&m, 0);
	ASSERT_EQ(-ETIMEDOUT, kport_recvmsg(self->zfd, &m));

	kport_prep_recv(&m, NULL, 0);
	kport_msg_set_from(&m, getpid());
	kport_msg_set_inplace(&m);
	kport_msg_set_timeout(&m, KT_TIMEOUT_MS * (int64_t)KT_NSEC_PER_MSEC);
	ASSERT_EQ(0, kport_recvmsg(self->zfd, &m));
	kport_msg_info(&m, &info);
	ASSERT_EQ(1, info.in_pool);
	ASSERT_EQ(off, info.offset);
	ASSERT_EQ(len, info.len);
	ASSERT_EQ(3U, info.priority);
	ASSERT_EQ(getpid(), info.pid);
	ASSERT_EQ(getuid(), info.uid);
	data = kport_msg_data(&m, self->pool);
	ASSERT_EQ((const char *)self->pool + off, data);
	ASSERT_EQ('p', data[0]);
	ASSERT_EQ('p', data[len - 1]);
	ASSERT_EQ(0, kport_release(self->zfd, info.offset, info.len));
}

TEST_F(lib, a_batch_and_a_sendrecv_take_structs_the_helpers_built)
{
	struct kport_msg v[3];
	struct kport_sendrecv sr;
	char in[3][MSG_SIZE], out[MSG_SIZE];
	int i;

	for (i = 0; i < 3; i++)
		kport_prep_send(&v[i], "012" + i, 1, 0);
	ASSERT_EQ(3, kport_sendv(self->zfd, v, 3, 0));
	for (i = 0; i < 3; i++)
		kport_prep_recv(&v[i], in[i], sizeof(in[i]));
	kport_msg_set_from(&v[2], getpid());
	ASSERT_EQ(3, kport_recvv(self->zfd, v, 3, KPORT_MSG_NONBLOCK));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1U, v[i].len);
		ASSERT_EQ('0' + i, in[i][0]);
	}

	memset(&sr, 0, sizeof(sr));
	sr.recv_fd = -1;
	kport_prep_send(&sr.send, "s", 1, 0);
	kport_prep_recv(&sr.recv, out, sizeof(out));
	kport_msg_set_timeout(&sr.recv, 0);
	ASSERT_EQ(0, kport_sendrecv(self->fd, &sr));
	ASSERT_EQ(KPORT_SR_SENT, sr.done);
	ASSERT_EQ(1U, sr.recv.len);
	ASSERT_EQ('s', out[0]);
}

TEST_HARNESS_MAIN
