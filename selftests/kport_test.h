/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the kport selftests.
 *
 * Everything here is a static inline function over the raw ioctls of
 * <linux/kport.h>, so a test that includes this header needs nothing else
 * from the project; tests that exercise libkport include "kport.h"
 * themselves.  Conventions:
 *
 *  - Functions return 0 (or a length, or a descriptor) on success and a
 *    negative errno value on failure, like libkport.
 *  - Nothing here waits forever: every wait is bounded by KT_TIMEOUT_MS
 *    (or an explicit timeout) and fails with -ETIMEDOUT, so a kernel bug
 *    shows up as a failed assertion instead of a test killed by the
 *    harness's alarm.
 *  - ASSERT_*() expands to two statements: a loop or if body made of one
 *    ASSERT needs braces.
 *  - Forked children must never use ASSERT_* (it would longjmp into the
 *    harness inside the child and run the fixture's teardown there):
 *    they use KT_CHILD_ASSERT() and end with _exit(), and the parent
 *    reaps them with kt_reap() and asserts the exit status.
 *
 * These names are shared by every selftest file: keep them stable.
 */
#ifndef KPORT_TEST_H
#define KPORT_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kport.h>

/*
 * kselftest_harness.h (6.1) is not -Wextra clean: its SIGALRM handler and
 * the wrapper each TEST() expands to have unused parameters.  Include it
 * from here, with that one warning off for the rest of the file, and
 * include this header before anything else in a test.  It defines
 * globals: in a selftest of several files, only the file with the tests
 * has it; the others define KT_NO_HARNESS first.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#ifndef KT_NO_HARNESS
#include "kselftest_harness.h"
#endif

/* Upper bound for any wait on another process or on the kernel. */
#ifndef KT_TIMEOUT_MS
#define KT_TIMEOUT_MS		10000
#endif

#define KT_NSEC_PER_MSEC	1000000ULL
#define KT_NSEC_PER_SEC		1000000000ULL

/* ---- Time ---------------------------------------------------------------- */

/* CLOCK_MONOTONIC now, in nanoseconds (the clock of KPORT_MSG_DEADLINE). */
static inline uint64_t kt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * KT_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Absolute CLOCK_MONOTONIC deadline @ms milliseconds from now. */
static inline uint64_t kt_deadline_ms(int64_t ms)
{
	return kt_now_ns() + (uint64_t)(ms * (int64_t)KT_NSEC_PER_MSEC);
}

/* Sleep @ms milliseconds, resuming after signals. */
static inline void kt_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- Names ----------------------------------------------------------------- */

/*
 * Fill @buf (KPORT_NAME_MAX bytes, zeroed past the NUL as the ABI wants)
 * with a port name unique to this process: "kt.<tag>.<pid>".  Pass the
 * test's name (_metadata->name) as @tag; it is cut to fit and characters
 * the ABI refuses are replaced by '_'.
 */
static inline void kt_name(char buf[KPORT_NAME_MAX], const char *tag)
{
	char suffix[24];
	size_t room, i;

	memset(buf, 0, KPORT_NAME_MAX);
	snprintf(suffix, sizeof(suffix), ".%d", (int)getpid());
	room = KPORT_NAME_MAX - 1 - strlen(suffix) - 3;
	snprintf(buf, KPORT_NAME_MAX, "kt.%.*s%s", (int)room, tag, suffix);
	for (i = 0; buf[i]; i++)
		if (buf[i] <= 0x20 || buf[i] >= 0x7f || buf[i] == '/')
			buf[i] = '_';
}

/* ---- Raw ioctl wrappers --------------------------------------------------- */

static int kt_dev_fd_cache = -1;

/* The test's descriptor of /dev/kport, opened once; -errno on failure. */
static inline int kt_dev(void)
{
	if (kt_dev_fd_cache < 0) {
		int fd = open(KPORT_DEVICE, O_RDWR | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		kt_dev_fd_cache = fd;
	}
	return kt_dev_fd_cache;
}

/* Close the cached /dev/kport descriptor (e.g. before testing rmmod). */
static inline void kt_dev_close(void)
{
	if (kt_dev_fd_cache >= 0)
		close(kt_dev_fd_cache);
	kt_dev_fd_cache = -1;
}

/* ioctl() that returns its result or -errno. */
static inline int kt_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/* Copy @src (at most KPORT_NAME_MAX - 1 bytes of it) into a zeroed field. */
static inline void kt_copy_name(char dst[KPORT_NAME_MAX], const char *src)
{
	size_t n = src ? strnlen(src, KPORT_NAME_MAX - 1) : 0;

	memset(dst, 0, KPORT_NAME_MAX);
	memcpy(dst, src ? src : "", n);
}

/* KPORT_IOC_CREATE with a full struct; returns the port fd or -errno. */
static inline int kt_create_raw(const struct kport_create *c)
{
	int dev = kt_dev();

	if (dev < 0)
		return dev;
	return kt_ioctl(dev, KPORT_IOC_CREATE, (void *)c);
}

/*
 * Create a port.  @name NULL or "" makes an anonymous one (or an inbox,
 * with KPORT_CREATE_INBOX in @flags).  Returns the port fd or -errno.
 */
static inline int kt_create(const char *name, uint64_t flags,
			    uint32_t capacity, uint32_t msg_size,
			    uint32_t mode, uint32_t rights)
{
	struct kport_create c;

	memset(&c, 0, sizeof(c));
	c.flags = flags;
	kt_copy_name(c.name, name);
	c.mode = mode;
	c.capacity = capacity;
	c.msg_size = msg_size;
	c.rights = rights;
	return kt_create_raw(&c);
}

/* A 0600 port with all rights and a pool of @pool_size bytes (0: none). */
static inline int kt_create_pool(const char *name, uint64_t flags,
				 uint32_t capacity, uint32_t msg_size,
				 uint64_t pool_size)
{
	struct kport_create c;

	memset(&c, 0, sizeof(c));
	c.flags = flags;
	kt_copy_name(c.name, name);
	c.mode = 0600;
	c.capacity = capacity;
	c.msg_size = msg_size;
	c.rights = KPORT_RIGHTS_ALL;
	c.pool_size = pool_size;
	return kt_create_raw(&c);
}

/* The common case: a named (or anonymous) 0600 port with all rights. */
static inline int kt_create_simple(const char *name, uint32_t capacity,
				   uint32_t msg_size)
{
	return kt_create(name, 0, capacity, msg_size, 0600, KPORT_RIGHTS_ALL);
}

/* KPORT_IOC_OPEN by name; @flags KPORT_OPEN_NONBLOCK or 0. */
static inline int kt_open(const char *name, uint32_t rights, uint64_t flags)
{
	struct kport_open o;
	int dev = kt_dev();

	if (dev < 0)
		return dev;
	memset(&o, 0, sizeof(o));
	o.flags = flags;
	kt_copy_name(o.name, name);
	o.rights = rights;
	return kt_ioctl(dev, KPORT_IOC_OPEN, &o);
}

/* KPORT_IOC_OPEN of @pid's inbox; @flags may add KPORT_OPEN_NONBLOCK. */
static inline int kt_open_inbox(pid_t pid, uint32_t rights, uint64_t flags)
{
	struct kport_open o;
	int dev = kt_dev();

	if (dev < 0)
		return dev;
	memset(&o, 0, sizeof(o));
	o.flags = KPORT_OPEN_INBOX | flags;
	o.rights = rights;
	o.pid = pid;
	return kt_ioctl(dev, KPORT_IOC_OPEN, &o);
}

/* KPORT_IOC_UNLINK; 0 or -errno. */
static inline int kt_unlink(const char *name)
{
	struct kport_unlink u;
	int dev = kt_dev();

	if (dev < 0)
		return dev;
	memset(&u, 0, sizeof(u));
	kt_copy_name(u.name, name);
	return kt_ioctl(dev, KPORT_IOC_UNLINK, &u);
}

/* KPORT_IOC_DELETE on a handle; 0 or -errno. */
static inline int kt_delete(int fd)
{
	int ret = ioctl(fd, KPORT_IOC_DELETE, 0);

	return ret < 0 ? -errno : ret;
}

/* KPORT_IOC_STAT; 0 or -errno. */
static inline int kt_stat(int fd, struct kport_stat *st)
{
	memset(st, 0, sizeof(*st));
	return kt_ioctl(fd, KPORT_IOC_STAT, st);
}

/*
 * KPORT_IOC_SEND of @len bytes at @prio with KPORT_MSG_* @flags; @deadline
 * is used only with KPORT_MSG_DEADLINE.  0 or -errno.
 */
static inline int kt_send(int fd, const void *buf, uint32_t len,
			  uint32_t prio, uint64_t flags, uint64_t deadline)
{
	struct kport_msg m;
	int ret;

	memset(&m, 0, sizeof(m));
	m.flags = flags;
	m.buf = (uintptr_t)buf;
	m.len = len;
	m.priority = prio;
	if (flags & KPORT_MSG_DEADLINE)
		m.deadline_ns = deadline;
	ret = kt_ioctl(fd, KPORT_IOC_SEND, &m);
	return ret < 0 ? ret : 0;
}

/*
 * KPORT_IOC_RECV into @buf (@len bytes) with KPORT_MSG_* @flags; @pid is
 * the sender to accept with KPORT_MSG_FROM_PID, @deadline is used with
 * KPORT_MSG_DEADLINE.  Returns the message size or -errno.  @out, if not
 * NULL, gets the struct as the kernel left it (len, priority, pid, uid),
 * also on failure (-EMSGSIZE reports the size in out->len).
 */
static inline int kt_recv_ex(int fd, void *buf, uint32_t len, uint64_t flags,
			     pid_t pid, uint64_t deadline,
			     struct kport_msg *out)
{
	struct kport_msg m;
	int ret;

	memset(&m, 0, sizeof(m));
	m.flags = flags;
	m.buf = (uintptr_t)buf;
	m.len = len;
	if (flags & KPORT_MSG_FROM_PID)
		m.pid = pid;
	if (flags & KPORT_MSG_DEADLINE)
		m.deadline_ns = deadline;
	ret = kt_ioctl(fd, KPORT_IOC_RECV, &m);
	if (out)
		*out = m;
	return ret < 0 ? ret : (int)m.len;
}

/* Receive with flags only; see kt_recv_ex(). */
static inline int kt_recv(int fd, void *buf, uint32_t len, uint64_t flags,
			  struct kport_msg *out)
{
	return kt_recv_ex(fd, buf, len, flags, 0, 0, out);
}

/*
 * KPORT_IOC_SENDV or KPORT_IOC_RECVV (@cmd) over @count elements of @m,
 * with KPORT_MSG_* @flags; @deadline is used only with KPORT_MSG_DEADLINE.
 * Returns how many were done or -errno.
 */
static inline int kt_batch(int fd, unsigned long cmd, struct kport_msg *m,
			   uint32_t count, uint64_t flags, uint64_t deadline)
{
	struct kport_batch b;

	memset(&b, 0, sizeof(b));
	b.flags = flags;
	b.msgs = (uintptr_t)m;
	b.count = count;
	b.msg_size = sizeof(*m);
	if (flags & KPORT_MSG_DEADLINE)
		b.deadline_ns = deadline;
	return kt_ioctl(fd, cmd, &b);
}

/* Send a 32-bit value as a 4-byte message at priority 0. */
static inline int kt_send_u32(int fd, uint32_t v, uint64_t flags)
{
	return kt_send(fd, &v, sizeof(v), 0, flags, 0);
}

/*
 * Receive a 4-byte message; returns 0 and sets *v, or -errno (-EPROTO if
 * the message was not 4 bytes long).
 */
static inline int kt_recv_u32(int fd, uint32_t *v, uint64_t flags)
{
	int ret = kt_recv(fd, v, sizeof(*v), flags, NULL);

	if (ret < 0)
		return ret;
	return ret == sizeof(*v) ? 0 : -EPROTO;
}

/* ---- Waiting for the kernel's state ------------------------------------- */

/*
 * Wait until the __u32 field at @offset of @fd's kport_stat equals
 * @value, polling every millisecond or so for at most KT_TIMEOUT_MS.
 * Returns 0, -ETIMEDOUT, or the stat's -errno.
 */
static inline int kt_wait_stat_u32(int fd, size_t offset, uint32_t value)
{
	uint64_t end = kt_now_ns() + KT_TIMEOUT_MS * KT_NSEC_PER_MSEC;
	struct kport_stat st;
	unsigned int nap = 1;
	uint32_t seen;
	int ret;

	for (;;) {
		ret = kt_stat(fd, &st);
		if (ret < 0)
			return ret;
		memcpy(&seen, (char *)&st + offset, sizeof(seen));
		if (seen == value)
			return 0;
		if (kt_now_ns() > end) {
			fprintf(stderr,
				"# %s: field at %zu is %u, waited for %u\n",
				__func__, offset, seen, value);
			return -ETIMEDOUT;
		}
		kt_sleep_ms(nap);
		if (nap < 20)
			nap++;
	}
}

#define KT_WAIT_STAT(fd, field, value) \
	kt_wait_stat_u32((fd), offsetof(struct kport_stat, field), (value))

/* Wait until exactly @n senders / receivers are blocked on @fd's port. */
static inline int kt_wait_send_waiters(int fd, uint32_t n)
{
	return KT_WAIT_STAT(fd, send_waiters, n);
}

static inline int kt_wait_recv_waiters(int fd, uint32_t n)
{
	return KT_WAIT_STAT(fd, recv_waiters, n);
}

/* Wait until @fd's port holds exactly @n messages. */
static inline int kt_wait_nr_msgs(int fd, uint32_t n)
{
	return KT_WAIT_STAT(fd, nr_msgs, n);
}

/* Wait until @fd's port has exactly @n open handles. */
static inline int kt_wait_handles(int fd, uint32_t n)
{
	return KT_WAIT_STAT(fd, handles, n);
}

/* Wait until @fd's port is reported KPORT_STATUS_DEAD. */
static inline int kt_wait_dead(int fd)
{
	return KT_WAIT_STAT(fd, status, KPORT_STATUS_DEAD);
}

/*
 * Wait until process @pid sleeps interruptibly (state 'S' in
 * /proc/PID/stat) and, if @wchan is not NULL and the kernel shows a
 * symbol in /proc/PID/wchan, until that symbol contains @wchan (e.g.
 * "poll" for a process blocked in poll() or epoll_wait()).  For waits the
 * kernel cannot count in kport_stat, such as a poller.  0 or -ETIMEDOUT
 * (-ESRCH if the process is gone).
 */
static inline int kt_wait_sleeping(pid_t pid, const char *wchan)
{
	uint64_t end = kt_now_ns() + KT_TIMEOUT_MS * KT_NSEC_PER_MSEC;
	char path[64], buf[512], sym[128];
	char state = '?';

	for (;;) {
		FILE *f;
		char *p;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "re");
		if (!f)
			return -ESRCH;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		/* "pid (comm) S ...": comm may hold spaces and ')' */
		p = p ? strrchr(buf, ')') : NULL;
		state = (p && p[1] == ' ') ? p[2] : '?';
		if (state == 'Z' || state == 'X')
			return -ESRCH;
		if (state == 'S') {
			ssize_t n = -1;
			int fd;

			if (!wchan)
				return 0;
			snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				n = read(fd, sym, sizeof(sym) - 1);
				close(fd);
			}
			if (n <= 0)
				return 0;	/* no wchan: state is all we know */
			sym[n] = '\0';
			if (!strcmp(sym, "0") || strstr(sym, wchan))
				return 0;
		}
		if (kt_now_ns() > end) {
			fprintf(stderr, "# %s: pid %d state %c\n",
				__func__, (int)pid, state);
			return -ETIMEDOUT;
		}
		kt_sleep_ms(2);
	}
}

/* ---- Namespaces ---------------------------------------------------------- */

/*
 * Whether the caller is in the initial namespace of kind @which ("user",
 * "pid"), by the fixed inode number the kernel gives the initial ones
 * (@ino: 0xEFFFFFFD user, 0xEFFFFFFC pid).  The container lane (make
 * check-container) runs the suite in new ones, where a few tests check
 * what differs there by design instead.
 */
static inline bool kt_initial_ns(const char *which, unsigned long ino)
{
	char path[40];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", which);
	return stat(path, &st) == 0 && st.st_ino == ino;
}

#define kt_initial_userns()	kt_initial_ns("user", 0xEFFFFFFDUL)
#define kt_initial_pidns()	kt_initial_ns("pid", 0xEFFFFFFCUL)

/* ---- Processes ----------------------------------------------------------- */

/*
 * In a forked child: on failure, log the condition and errno and
 * _exit(1).  A child that reaches its end calls _exit(0) itself.
 */
#define KT_CHILD_ASSERT(cond) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "# child %d: %s:%d: %s (errno %d)\n",	\
			(int)getpid(), __FILE__, __LINE__, #cond, errno); \
		_exit(1);						\
	}								\
} while (0)

/* fork() after flushing stdio, so buffered TAP output is not duplicated. */
static inline pid_t kt_fork(void)
{
	fflush(stdout);
	fflush(stderr);
	return fork();
}

/*
 * Reap child @pid, waiting at most @timeout_ms (negative: KT_TIMEOUT_MS).
 * Returns its exit code (0..255), 128 + signal if a signal killed it, or
 * -ETIMEDOUT after killing it with SIGKILL (and reaping it) when it did
 * not exit in time; -errno if waitpid fails.
 */
static inline int kt_reap(pid_t pid, int timeout_ms)
{
	uint64_t end;
	int status;

	if (timeout_ms < 0)
		timeout_ms = KT_TIMEOUT_MS;
	end = kt_now_ns() + (uint64_t)timeout_ms * KT_NSEC_PER_MSEC;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == pid)
			break;
		if (kt_now_ns() > end) {
			fprintf(stderr, "# %s: pid %d still running, killing it\n",
				__func__, (int)pid);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -ETIMEDOUT;
		}
		kt_sleep_ms(1);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -ECHILD;
}

/* SCM_RIGHTS: pass @fd over the UNIX socket @sock; 0 or -errno. */
static inline int kt_send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = "f", .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -errno;
}

/* SCM_RIGHTS: receive a descriptor (close-on-exec); it, or -errno. */
static inline int kt_recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -errno;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* Kill @pid (if > 0) with SIGKILL and reap it; for teardowns.  */
static inline void kt_kill_reap(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/*
 * Fork a child that sends @len bytes of @buf on @fd with @flags (and
 * @deadline with KPORT_MSG_DEADLINE) and exits 0 if the send returned
 * @expect (0 or a negative errno), 1 otherwise.  Returns the child's pid
 * (or -errno if fork failed).
 */
static inline pid_t kt_fork_sender(int fd, const void *buf, uint32_t len,
				   uint64_t flags, uint64_t deadline,
				   int expect)
{
	pid_t pid = kt_fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int ret = kt_send(fd, buf, len, 0, flags, deadline);

		if (ret != expect)
			fprintf(stderr, "# sender %d: send returned %d, expected %d\n",
				(int)getpid(), ret, expect);
		_exit(ret == expect ? 0 : 1);
	}
	return pid;
}

/*
 * Fork a child that receives one message on @fd with @flags (and
 * @deadline with KPORT_MSG_DEADLINE) into a buffer of @bufsize bytes and
 * exits 0 if the receive returned @expect: a negative errno, or the
 * message size, in which case the payload must equal @expect_buf.
 * Returns the child's pid (or -errno if fork failed).
 */
static inline pid_t kt_fork_receiver(int fd, uint32_t bufsize, uint64_t flags,
				     uint64_t deadline, int expect,
				     const void *expect_buf)
{
	pid_t pid = kt_fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char *buf = malloc(bufsize ? bufsize : 1);
		int ret;

		KT_CHILD_ASSERT(buf);
		ret = kt_recv_ex(fd, buf, bufsize, flags, 0, deadline, NULL);
		if (ret != expect) {
			fprintf(stderr, "# receiver %d: receive returned %d, expected %d\n",
				(int)getpid(), ret, expect);
			_exit(1);
		}
		if (ret > 0 &&
		    (!expect_buf || memcmp(buf, expect_buf, (size_t)ret))) {
			fprintf(stderr, "# receiver %d: payload differs\n",
				(int)getpid());
			_exit(2);
		}
		_exit(0);
	}
	return pid;
}

/* ---- Slices, the module as the system lists it, the run's settings -------- */

/* KPORT_IOC_RELEASE of the slice at @offset, @len bytes; 0 or -errno. */
static inline int kt_release(int fd, uint64_t offset, uint64_t len)
{
	struct kport_slice s;

	memset(&s, 0, sizeof(s));
	s.offset = offset;
	s.len = len;
	return kt_ioctl(fd, KPORT_IOC_RELEASE, &s);
}

/* The module's reference count (open descriptors, mappings), or -errno. */
static inline long kt_module_refcnt(void)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open("/sys/module/kport/refcnt", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/*
 * Ports listed in /proc/kport (its lines after the header), or -errno;
 * *@ours, unless NULL: how many of them are named @prefix...
 */
static inline int kt_proc_ports(const char *prefix, int *ours)
{
	char line[512];
	FILE *f;
	int n = 0;

	if (ours)
		*ours = 0;
	f = fopen("/proc/kport", "re");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EIO;
	}
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t');

		n++;
		if (ours && tab && !strncmp(tab + 1, prefix, strlen(prefix)))
			(*ours)++;
	}
	fclose(f);
	return n;
}

/*
 * Whether this runs on a sanitizer kernel, where everything is slower: the
 * debug or kcsan lane (KPORT_LANE other than "stock", else KPORT_DEBUG_LANE,
 * else whether the kernel has fail-nth).
 */
static inline bool kt_debug_lane(void)
{
	const char *lane = getenv("KPORT_LANE");
	const char *dbg = getenv("KPORT_DEBUG_LANE");

	if (lane)
		return strcmp(lane, "stock") != 0;
	if (dbg)
		return !strcmp(dbg, "1");
	return access("/proc/self/fail-nth", F_OK) == 0;
}

/* Environment variable @name as a number, @def if unset or empty. */
static inline unsigned int kt_env_uint(const char *name, unsigned int def)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned int)strtoul(v, NULL, 0) : def;
}

/* The next number of the splitmix64 sequence whose state is *@s. */
static inline uint64_t kt_rand64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A random seed, or the one environment variable @name gives. */
static inline uint64_t kt_env_seed(const char *name)
{
	const char *v = getenv(name);

	if (v && *v)
		return strtoull(v, NULL, 0);
	return kt_now_ns() ^ ((uint64_t)getpid() << 32);
}

/* ---- Pipes: one-byte tokens between processes ----------------------------- */

/* Write the token @c; 0 or -errno. */
static inline int kt_token_put(int fd, char c)
{
	ssize_t n;

	do {
		n = write(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -errno;
}

/*
 * Read one token, waiting at most @timeout_ms (negative: KT_TIMEOUT_MS).
 * Returns the byte (0..255), -ETIMEDOUT, -EPIPE at end of file, or -errno.
 */
static inline int kt_token_get(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned char c;
	ssize_t n;
	int ret;

	if (timeout_ms < 0)
		timeout_ms = KT_TIMEOUT_MS;
	do {
		ret = poll(&pfd, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIMEDOUT;
	do {
		n = read(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 1 ? c : -EPIPE;
}

/* Read exactly @len bytes (retrying short reads); 0, -EPIPE or -errno. */
static inline int kt_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write exactly @len bytes; 0 or -errno. */
static inline int kt_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The module's reference count once it stays the same for 50 ms (the
 * handles of an earlier test's processes are gone), or -errno.
 */
static inline long kt_module_refcnt_settled(void)
{
	long before = -1;
	int i;

	for (i = 0; i < 100; i++) {
		before = kt_module_refcnt();
		kt_sleep_ms(50);
		if (before == kt_module_refcnt())
			break;
	}
	return before;
}

/* ---- Misc ------------------------------------------------------------------ */

/* Anonymous memory shared with forked children; NULL on failure. */
static inline void *kt_shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Install @handler for @sig with sa_flags @flags (e.g. SA_RESTART). */
static inline int kt_sigaction(int sig, void (*handler)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL) ? -errno : 0;
}

/* ---- Module parameters (root only, for writing) ---- */
#define KT_PARAM_DIR	"/sys/module/kport/parameters/"

/* Read parameter @name into @buf (its text, newline removed); 0 or -errno. */
static inline int kt_param_read(const char *name, char *buf, size_t size)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), KT_PARAM_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static inline int kt_param_write(const char *name, const char *value)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), KT_PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	if (n < 0)
		return -errno;
	return n == (ssize_t)strlen(value) ? 0 : -EIO;
}

static inline int kt_param_set(const char *name, unsigned long long value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", value);
	return kt_param_write(name, buf);
}

static inline long long kt_param_get(const char *name)
{
	char buf[32];
	int ret = kt_param_read(name, buf, sizeof(buf));

	return ret ? ret : strtoll(buf, NULL, 0);
}

/*
 * Safety net for a test binary that changes module parameters: what they
 * were when it started is written back when its main process exits, even
 * if a test died before its teardown.  Call from a constructor.
 */
#define KT_PARAMS_SAVED_MAX	16

struct kt_params_saved {
	const char *const *names;
	size_t n;
	pid_t pid;
	char values[KT_PARAMS_SAVED_MAX][32];
};

static inline struct kt_params_saved *kt_params_saved(void)
{
	static struct kt_params_saved saved;

	return &saved;
}

static inline void kt_params_restore_at_exit(void)
{
	struct kt_params_saved *s = kt_params_saved();
	size_t i;

	if (getpid() != s->pid)
		return;
	for (i = 0; i < s->n; i++)
		if (s->values[i][0])
			kt_param_write(s->names[i], s->values[i]);
}

static inline void kt_params_save_for_exit(const char *const *names, size_t n)
{
	struct kt_params_saved *s = kt_params_saved();
	size_t i;

	if (n > KT_PARAMS_SAVED_MAX) {
		fprintf(stderr, "kt_params_save_for_exit: %zu parameters, room for %d\n",
			n, KT_PARAMS_SAVED_MAX);
		abort();
	}
	s->names = names;
	s->n = n;
	s->pid = getpid();
	for (i = 0; i < s->n; i++)
		if (kt_param_read(names[i], s->values[i], sizeof(s->values[i])))
			s->values[i][0] = '\0';
	atexit(kt_params_restore_at_exit);
}

/* Fill @buf with a pattern derived from @seed (for payload checks). */
static inline void kt_fill(void *buf, size_t len, uint32_t seed)
{
	unsigned char *p = buf;
	uint32_t x = seed * 2654435761U + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245U + 12345U;
		p[i] = (unsigned char)(x >> 16);
	}
}

/* 0 if @buf holds kt_fill(@seed)'s pattern, else the 1-based bad offset. */
static inline size_t kt_check_fill(const void *buf, size_t len, uint32_t seed)
{
	const unsigned char *p = buf;
	uint32_t x = seed * 2654435761U + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245U + 12345U;
		if (p[i] != (unsigned char)(x >> 16))
			return i + 1;
	}
	return 0;
}

#endif /* KPORT_TEST_H */
