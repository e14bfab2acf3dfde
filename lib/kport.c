// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libkport: thin wrappers over the kport ioctls, plus conveniences.
 *
 * The only shared state is the descriptor of /dev/kport.  It is opened on
 * first use and published with a compare-and-swap, so threads racing to
 * open it agree on one descriptor and the losers close theirs.  A failed
 * open is not cached: the module may be loaded later.  The descriptor is
 * O_CLOEXEC and survives fork(), which is what a forked child wants (the
 * device has no per-open state worth separating).
 *
 * Every function returns -errno on failure and leaves errno as the system
 * call set it.  Structs handed to the kernel are built zeroed here, so
 * reserved fields and unused flags are always zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kport.h"

#define NSEC_PER_SEC	1000000000ULL

static atomic_int kport_devfd = -1;

static int kport_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

int kport_dev_fd(void)
{
	int fd = atomic_load_explicit(&kport_devfd, memory_order_acquire);
	int expected = -1;

	if (fd >= 0)
		return fd;

	fd = open(KPORT_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	if (!atomic_compare_exchange_strong_explicit(&kport_devfd, &expected, fd,
						     memory_order_acq_rel,
						     memory_order_acquire)) {
		/* Another thread published its descriptor first: use that one. */
		close(fd);
		return expected;
	}
	return fd;
}

/* ---- One wrapper per ioctl ---------------------------------------------- */

int kport_query_version(struct kport_version *v)
{
	struct kport_version tmp;
	int dev = kport_dev_fd();
	int ret;

	if (dev < 0)
		return dev;
	/* The caller's struct may hold garbage: the kernel wants zero input. */
	memset(&tmp, 0, sizeof(tmp));
	ret = kport_ioctl(dev, KPORT_IOC_VERSION, &tmp);
	if (ret < 0)
		return ret;
	*v = tmp;
	return 0;
}

int kport_create_raw(const struct kport_create *c)
{
	int dev = kport_dev_fd();

	if (dev < 0)
		return dev;
	return kport_ioctl(dev, KPORT_IOC_CREATE, (void *)c);
}

int kport_open_raw(const struct kport_open *o)
{
	int dev = kport_dev_fd();

	if (dev < 0)
		return dev;
	return kport_ioctl(dev, KPORT_IOC_OPEN, (void *)o);
}

/*
 * Copy @name into a zeroed KPORT_NAME_MAX field.  The kernel checks the
 * characters; the length is checked here because a name that does not fit
 * cannot even be expressed in the struct.
 */
static int kport_copy_name(char dst[KPORT_NAME_MAX], const char *name)
{
	size_t len = strnlen(name, KPORT_NAME_MAX);

	if (len >= KPORT_NAME_MAX)
		return -ENAMETOOLONG;
	memset(dst, 0, KPORT_NAME_MAX);
	memcpy(dst, name, len);
	return 0;
}

int kport_unlink(const char *name)
{
	struct kport_unlink u;
	int dev, ret;

	if (!name || !*name)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	ret = kport_copy_name(u.name, name);
	if (ret < 0)
		return ret;
	dev = kport_dev_fd();
	if (dev < 0)
		return dev;
	return kport_ioctl(dev, KPORT_IOC_UNLINK, &u);
}

int kport_sendmsg(int fd, const struct kport_msg *m)
{
	return kport_ioctl(fd, KPORT_IOC_SEND, (void *)m);
}

int kport_recvmsg(int fd, struct kport_msg *m)
{
	return kport_ioctl(fd, KPORT_IOC_RECV, m);
}

int kport_stat(int fd, struct kport_stat *st)
{
	struct kport_stat tmp;
	int ret;

	memset(&tmp, 0, sizeof(tmp));
	ret = kport_ioctl(fd, KPORT_IOC_STAT, &tmp);
	if (ret < 0)
		return ret;
	*st = tmp;
	return 0;
}

int kport_delete(int fd)
{
	int ret = ioctl(fd, KPORT_IOC_DELETE, 0);

	return ret < 0 ? -errno : ret;
}

/* ---- Conveniences -------------------------------------------------------- */

static int kport_create_common(const char *name, const struct kport_attr *attr,
			       uint64_t extra_flags)
{
	static const struct kport_attr def = KPORT_ATTR_DEFAULT;
	struct kport_create c;
	int ret;

	if (!attr)
		attr = &def;
	memset(&c, 0, sizeof(c));
	if (name && *name) {
		ret = kport_copy_name(c.name, name);
		if (ret < 0)
			return ret;
	}
	c.flags = attr->flags | extra_flags;
	c.mode = attr->mode;
	c.capacity = attr->capacity;
	c.msg_size = attr->msg_size;
	c.rights = attr->rights ? attr->rights : KPORT_RIGHTS_ALL;
	c.pool_size = attr->pool_size;
	return kport_create_raw(&c);
}

int kport_create(const char *name, const struct kport_attr *attr)
{
	return kport_create_common(name, attr, 0);
}

int kport_create_inbox(const struct kport_attr *attr)
{
	return kport_create_common(NULL, attr, KPORT_CREATE_INBOX);
}

int kport_open(const char *name, unsigned int rights)
{
	struct kport_open o;
	int ret;

	/* An empty name would mean "inbox" to nobody: refuse it here. */
	if (!name || !*name)
		return -EINVAL;
	memset(&o, 0, sizeof(o));
	ret = kport_copy_name(o.name, name);
	if (ret < 0)
		return ret;
	o.rights = rights;
	return kport_open_raw(&o);
}

int kport_open_inbox(pid_t pid, unsigned int rights)
{
	struct kport_open o;

	memset(&o, 0, sizeof(o));
	o.flags = KPORT_OPEN_INBOX;
	o.rights = rights;
	o.pid = pid;
	return kport_open_raw(&o);
}

uint64_t kport_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t kport_deadline_after(int64_t rel_ns)
{
	uint64_t now = kport_now_ns();

	/* Saturate rather than wrap: a huge timeout must not become a past one. */
	if (rel_ns >= 0)
		return (uint64_t)rel_ns > UINT64_MAX - now ? UINT64_MAX :
							   now + (uint64_t)rel_ns;
	/* -(rel_ns + 1) + 1 avoids overflow on INT64_MIN. */
	if ((uint64_t)(-(rel_ns + 1)) + 1 > now)
		return 0;
	return now - ((uint64_t)(-(rel_ns + 1)) + 1);
}

/*
 * @flags: KPORT_MSG_NONBLOCK or KPORT_MSG_DEADLINE (with @deadline) or 0;
 * the public entry points have already rejected anything else.
 */
static int kport_do_send(int fd, const void *buf, size_t len, unsigned int prio,
			 uint64_t flags, uint64_t deadline)
{
	struct kport_msg m;

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	memset(&m, 0, sizeof(m));
	m.flags = flags;
	m.buf = (uintptr_t)buf;
	m.len = (uint32_t)len;
	m.priority = prio;
	if (flags & KPORT_MSG_DEADLINE)
		m.deadline_ns = deadline;
	return kport_sendmsg(fd, &m);
}

int kport_send(int fd, const void *buf, size_t len, unsigned int prio,
	       unsigned int flags)
{
	int ret;

	if (flags & ~(unsigned int)KPORT_MSG_NONBLOCK)
		return -EINVAL;
	ret = kport_do_send(fd, buf, len, prio, flags, 0);
	return ret < 0 ? ret : 0;
}

int kport_send_timeout(int fd, const void *buf, size_t len, unsigned int prio,
		       int64_t timeout_ns)
{
	uint64_t deadline = 0;
	uint64_t flags = 0;
	int ret;

	if (timeout_ns >= 0) {
		flags = KPORT_MSG_DEADLINE;
		deadline = kport_deadline_after(timeout_ns);
	}
	ret = kport_do_send(fd, buf, len, prio, flags, deadline);
	return ret < 0 ? ret : 0;
}

/*
 * Every receive goes through here; the message comes back in @out (if not
 * NULL) so that kport_recv_inplace() can read its @offset and @result.
 */
static ssize_t kport_do_recvmsg(int fd, void *buf, size_t len, uint64_t flags,
				pid_t pid, uint64_t deadline,
				struct kport_info *info, struct kport_msg *out)
{
	struct kport_msg m;
	int ret;

	memset(&m, 0, sizeof(m));
	m.flags = flags;
	m.buf = (uintptr_t)buf;
	/*
	 * A buffer larger than any message can be is as good as one of
	 * UINT32_MAX bytes: clamp instead of failing.
	 */
	m.len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	if (flags & KPORT_MSG_FROM_PID)
		m.pid = pid;
	if (flags & KPORT_MSG_DEADLINE)
		m.deadline_ns = deadline;

	ret = kport_recvmsg(fd, &m);
	if (ret < 0) {
		if (ret == -EMSGSIZE && info) {
			/* Only the size is meaningful: the message stays queued. */
			memset(info, 0, sizeof(*info));
			info->len = m.len;
		}
		return ret;
	}
	if (info) {
		info->pid = m.pid;
		info->uid = m.uid;
		info->priority = m.priority;
		info->len = m.len;
		/* Set by kport_recv_inplace() when the payload stayed put. */
		info->in_pool = 0;
		info->offset = 0;
	}
	if (out)
		*out = m;
	return (ssize_t)m.len;
}

static ssize_t kport_do_recv(int fd, void *buf, size_t len, uint64_t flags,
			     pid_t pid, uint64_t deadline,
			     struct kport_info *info)
{
	return kport_do_recvmsg(fd, buf, len, flags, pid, deadline, info, NULL);
}

ssize_t kport_recv(int fd, void *buf, size_t len, unsigned int flags,
		   struct kport_info *info)
{
	if (flags & ~(unsigned int)KPORT_MSG_NONBLOCK)
		return -EINVAL;
	return kport_do_recv(fd, buf, len, flags, 0, 0, info);
}

ssize_t kport_recv_timeout(int fd, void *buf, size_t len, int64_t timeout_ns,
			   struct kport_info *info)
{
	if (timeout_ns < 0)
		return kport_do_recv(fd, buf, len, 0, 0, 0, info);
	return kport_do_recv(fd, buf, len, KPORT_MSG_DEADLINE, 0,
			     kport_deadline_after(timeout_ns), info);
}

ssize_t kport_recv_from(int fd, pid_t pid, void *buf, size_t len,
			int64_t timeout_ns, struct kport_info *info)
{
	uint64_t flags = KPORT_MSG_FROM_PID;
	uint64_t deadline = 0;

	if (timeout_ns == 0) {
		flags |= KPORT_MSG_NONBLOCK;
	} else if (timeout_ns > 0) {
		flags |= KPORT_MSG_DEADLINE;
		deadline = kport_deadline_after(timeout_ns);
	}
	return kport_do_recv(fd, buf, len, flags, pid, deadline, info);
}

int kport_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ret;

	ret = poll(&pfd, 1, timeout_ms < 0 ? -1 : timeout_ms);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return 0;
	return (unsigned short)pfd.revents;
}

/* ---- The pool ------------------------------------------------------------ */

int kport_pool_map(int fd, unsigned int flags, void **addr, size_t *size)
{
	struct kport_stat st;
	int prot = PROT_READ;
	void *p;
	int ret;

	if (flags & ~KPORT_POOL_WRITE)
		return -EINVAL;
	if (flags & KPORT_POOL_WRITE)
		prot |= PROT_WRITE;
	ret = kport_stat(fd, &st);
	if (ret < 0)
		return ret;
	/* What mmap() itself answers for a port without a pool. */
	if (!st.pool_size)
		return -ENODEV;
#if SIZE_MAX < UINT64_MAX
	/* A pool this process cannot even address (32-bit). */
	if (st.pool_size > SIZE_MAX)
		return -ENOMEM;
#endif
	/*
	 * Always shared: the kernel refuses a private writable mapping, and
	 * slices are written after the mapping is made, by the kernel or by
	 * other senders, so a private copy would be pointless.
	 */
	p = mmap(NULL, (size_t)st.pool_size, prot, MAP_SHARED, fd,
		 KPORT_POOL_MMAP_OFFSET);
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	*size = (size_t)st.pool_size;
	return 0;
}

int kport_pool_unmap(void *addr, size_t size)
{
	return munmap(addr, size) < 0 ? -errno : 0;
}

ssize_t kport_recv_inplace(int fd, const void *pool, void *buf, size_t len,
			   const void **data, unsigned int flags,
			   struct kport_info *info)
{
	struct kport_msg m;
	ssize_t ret;

	if (flags & ~(unsigned int)KPORT_MSG_NONBLOCK)
		return -EINVAL;
	/*
	 * Without @pool a payload left in place could not be read, and
	 * without @info its slice could not be released: refuse up front
	 * rather than hold a slice nobody can use.
	 */
	if (!pool || !data || !info)
		return -EINVAL;
	ret = kport_do_recvmsg(fd, buf, len, flags | KPORT_MSG_INPLACE, 0, 0,
			       info, &m);
	if (ret < 0)
		return ret;
	if (m.result & KPORT_RESULT_INPLACE) {
		*data = (const char *)pool + m.offset;
		info->in_pool = 1;
		info->offset = m.offset;
	} else {
		*data = buf;
	}
	return ret;
}

int kport_release(int fd, uint64_t offset, size_t len)
{
	struct kport_slice s;

	memset(&s, 0, sizeof(s));
	s.offset = offset;
	s.len = len;
	return kport_ioctl(fd, KPORT_IOC_RELEASE, &s);
}

int kport_borrow(int fd, size_t len, int64_t timeout_ns, uint64_t *offset)
{
	struct kport_slice s;
	int ret;

	memset(&s, 0, sizeof(s));
	s.len = len;
	/* As kport_recv_from(): negative waits, 0 does not, else a deadline. */
	if (timeout_ns == 0) {
		s.flags = KPORT_MSG_NONBLOCK;
	} else if (timeout_ns > 0) {
		s.flags = KPORT_MSG_DEADLINE;
		s.deadline_ns = kport_deadline_after(timeout_ns);
	}
	ret = kport_ioctl(fd, KPORT_IOC_BORROW, &s);
	if (ret < 0)
		return ret;
	*offset = s.offset;
	return 0;
}

int kport_post(int fd, uint64_t offset, size_t len, unsigned int prio,
	       unsigned int flags)
{
	struct kport_msg m;
	int ret;

	if (flags & ~(unsigned int)KPORT_MSG_NONBLOCK)
		return -EINVAL;
	/* No slice is longer than a message can be: it was not borrowed. */
	if (len > UINT32_MAX)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.flags = flags | KPORT_MSG_POST;
	m.buf = 0;
	m.offset = offset;
	m.len = (uint32_t)len;
	m.priority = prio;
	ret = kport_sendmsg(fd, &m);
	return ret < 0 ? ret : 0;
}

/* ---- Several messages per call, and request-reply ------------------------ */

static int kport_batch_call(int fd, unsigned long cmd,
			    const struct kport_msg *msgs, unsigned int count,
			    unsigned int flags)
{
	struct kport_batch b;

	if (flags & ~(unsigned int)KPORT_MSG_NONBLOCK)
		return -EINVAL;
	memset(&b, 0, sizeof(b));
	b.flags = flags;
	b.msgs = (uintptr_t)msgs;
	b.count = count;
	b.msg_size = sizeof(*msgs);
	return kport_ioctl(fd, cmd, &b);
}

int kport_sendv(int fd, const struct kport_msg *msgs, unsigned int count,
		unsigned int flags)
{
	return kport_batch_call(fd, KPORT_IOC_SENDV, msgs, count, flags);
}

int kport_recvv(int fd, struct kport_msg *msgs, unsigned int count,
		unsigned int flags)
{
	return kport_batch_call(fd, KPORT_IOC_RECVV, msgs, count, flags);
}

int kport_sendrecv(int fd, struct kport_sendrecv *sr)
{
	return kport_ioctl(fd, KPORT_IOC_SENDRECV, sr);
}

ssize_t kport_call(int fd, int reply_fd, const void *req, size_t req_len,
		   void *reply, size_t reply_len, int64_t timeout_ns,
		   struct kport_info *info, int *sent)
{
	struct kport_sendrecv sr;
	int ret;

	if (req_len > UINT32_MAX)
		return -EMSGSIZE;
	memset(&sr, 0, sizeof(sr));
	sr.recv_fd = reply_fd;
	sr.send.buf = (uintptr_t)req;
	sr.send.len = (uint32_t)req_len;
	sr.recv.buf = (uintptr_t)reply;
	sr.recv.len = reply_len > UINT32_MAX ? UINT32_MAX : (uint32_t)reply_len;
	if (timeout_ns >= 0) {
		sr.recv.flags = KPORT_MSG_DEADLINE;
		sr.recv.deadline_ns = kport_deadline_after(timeout_ns);
	}
	ret = kport_sendrecv(fd, &sr);
	if (sent)
		*sent = !!(sr.done & KPORT_SR_SENT);
	if (info) {
		memset(info, 0, sizeof(*info));
		info->len = sr.recv.len;
		if (ret == 0) {
			info->pid = sr.recv.pid;
			info->uid = sr.recv.uid;
			info->priority = sr.recv.priority;
		}
	}
	return ret < 0 ? ret : (ssize_t)sr.recv.len;
}
