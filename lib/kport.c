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

int kport_chmod(int fd, mode_t mode)
{
	struct kport_setattr sa;

	memset(&sa, 0, sizeof(sa));
	sa.flags = KPORT_SETATTR_MODE;
	sa.mode = mode;
	return kport_ioctl(fd, KPORT_IOC_SETATTR, &sa);
}

int kport_chown(int fd, uid_t uid, gid_t gid)
{
	struct kport_setattr sa;

	memset(&sa, 0, sizeof(sa));
	if (uid != (uid_t)-1) {
		sa.flags |= KPORT_SETATTR_UID;
		sa.uid = uid;
	}
	if (gid != (gid_t)-1) {
		sa.flags |= KPORT_SETATTR_GID;
		sa.gid = gid;
	}
	/* Nothing to change is a change that succeeds, as fchown(-1, -1). */
	if (!sa.flags)
		return 0;
	return kport_ioctl(fd, KPORT_IOC_SETATTR, &sa);
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

/* A send as the struct says: 0 or -errno (kport_sendmsg() may return more). */
static int kport_send_built(int fd, const struct kport_msg *m)
{
	int ret = kport_sendmsg(fd, m);

	return ret < 0 ? ret : 0;
}

int kport_send(int fd, const void *buf, size_t len, unsigned int prio,
	       unsigned int flags)
{
	struct kport_msg m;

	if (flags & ~(unsigned int)KPORT_MSG_NONBLOCK)
		return -EINVAL;
	if (len > UINT32_MAX)
		return -EMSGSIZE;
	kport_prep_send(&m, buf, (uint32_t)len, prio);
	if (flags)
		kport_msg_set_nonblock(&m);
	return kport_send_built(fd, &m);
}

int kport_send_timeout(int fd, const void *buf, size_t len, unsigned int prio,
		       int64_t timeout_ns)
{
	struct kport_msg m;

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	kport_prep_send(&m, buf, (uint32_t)len, prio);
	kport_msg_set_timeout(&m, timeout_ns);
	return kport_send_built(fd, &m);
}

/*
 * Every receive of the conveniences ends here: the message's size, and
 * @info (if not NULL) filled, its ->len alone on -EMSGSIZE.
 */
static ssize_t kport_recv_built(int fd, struct kport_msg *m,
				struct kport_info *info)
{
	int ret = kport_recvmsg(fd, m);

	if (ret < 0) {
		if (ret == -EMSGSIZE && info) {
			/* Only the size is meaningful: the message stays queued. */
			memset(info, 0, sizeof(*info));
			info->len = m->len;
		}
		return ret;
	}
	if (info)
		kport_msg_info(m, info);
	return (ssize_t)m->len;
}

ssize_t kport_recv(int fd, void *buf, size_t len, unsigned int flags,
		   struct kport_info *info)
{
	struct kport_msg m;

	if (flags & ~(unsigned int)KPORT_MSG_NONBLOCK)
		return -EINVAL;
	kport_prep_recv(&m, buf, len);
	if (flags)
		kport_msg_set_nonblock(&m);
	return kport_recv_built(fd, &m, info);
}

ssize_t kport_recv_timeout(int fd, void *buf, size_t len, int64_t timeout_ns,
			   struct kport_info *info)
{
	struct kport_msg m;

	kport_prep_recv(&m, buf, len);
	kport_msg_set_timeout(&m, timeout_ns);
	return kport_recv_built(fd, &m, info);
}

/*
 * Versions (lib/libkport.map).  LIBKPORT_1.1 gave a timeout of 0 its one
 * meaning (lib/kport.h): kport_recv_from() and kport_borrow() returned
 * -EAGAIN for it in LIBKPORT_1, and kport_call()'s timeout did not bound
 * its send.  A program linked against LIBKPORT_1 keeps what it was built
 * for; one built now gets the @@ (default) version.
 */
#define KPORT_SYMVER(impl, name, ver) \
	__asm__(".symver " #impl ", " #name "@" #ver)
#define KPORT_SYMVER_DEFAULT(impl, name, ver) \
	__asm__(".symver " #impl ", " #name "@@" #ver)

/* LIBKPORT_1's timeout: negative waits, 0 does not (-EAGAIN), else a deadline. */
static void kport_msg_set_timeout_1_0(struct kport_msg *m, int64_t timeout_ns)
{
	if (timeout_ns == 0)
		kport_msg_set_nonblock(m);
	else if (timeout_ns > 0)
		kport_msg_set_timeout(m, timeout_ns);
}

static ssize_t kport_recv_from_common(int fd, pid_t pid, void *buf,
				      size_t len, int64_t timeout_ns,
				      struct kport_info *info, bool v1_0)
{
	struct kport_msg m;

	kport_prep_recv(&m, buf, len);
	kport_msg_set_from(&m, pid);
	if (v1_0)
		kport_msg_set_timeout_1_0(&m, timeout_ns);
	else
		kport_msg_set_timeout(&m, timeout_ns);
	return kport_recv_built(fd, &m, info);
}

ssize_t kport_recv_from_1_0(int fd, pid_t pid, void *buf, size_t len,
			    int64_t timeout_ns, struct kport_info *info);
KPORT_SYMVER(kport_recv_from_1_0, kport_recv_from, LIBKPORT_1);
ssize_t kport_recv_from_1_0(int fd, pid_t pid, void *buf, size_t len,
			    int64_t timeout_ns, struct kport_info *info)
{
	return kport_recv_from_common(fd, pid, buf, len, timeout_ns, info,
				      true);
}

ssize_t kport_recv_from_1_1(int fd, pid_t pid, void *buf, size_t len,
			    int64_t timeout_ns, struct kport_info *info);
KPORT_SYMVER_DEFAULT(kport_recv_from_1_1, kport_recv_from, LIBKPORT_1.1);
ssize_t kport_recv_from_1_1(int fd, pid_t pid, void *buf, size_t len,
			    int64_t timeout_ns, struct kport_info *info)
{
	return kport_recv_from_common(fd, pid, buf, len, timeout_ns, info,
				      false);
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
	kport_prep_recv(&m, buf, len);
	kport_msg_set_inplace(&m);
	if (flags)
		kport_msg_set_nonblock(&m);
	ret = kport_recv_built(fd, &m, info);
	if (ret >= 0)
		*data = kport_msg_data(&m, pool);
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

static int kport_borrow_common(int fd, size_t len, int64_t timeout_ns,
			       uint64_t *offset, bool v1_0)
{
	struct kport_slice s;
	int ret;

	memset(&s, 0, sizeof(s));
	s.len = len;
	/* As kport_msg_set_timeout() (or LIBKPORT_1's), for a slice. */
	if (v1_0 && timeout_ns == 0) {
		s.flags = KPORT_MSG_NONBLOCK;
	} else if (timeout_ns >= 0) {
		s.flags = KPORT_MSG_DEADLINE;
		s.deadline_ns = kport_deadline_after(timeout_ns);
	}
	ret = kport_ioctl(fd, KPORT_IOC_BORROW, &s);
	if (ret < 0)
		return ret;
	*offset = s.offset;
	return 0;
}

int kport_borrow_1_0(int fd, size_t len, int64_t timeout_ns, uint64_t *offset);
KPORT_SYMVER(kport_borrow_1_0, kport_borrow, LIBKPORT_1);
int kport_borrow_1_0(int fd, size_t len, int64_t timeout_ns, uint64_t *offset)
{
	return kport_borrow_common(fd, len, timeout_ns, offset, true);
}

int kport_borrow_1_1(int fd, size_t len, int64_t timeout_ns, uint64_t *offset);
KPORT_SYMVER_DEFAULT(kport_borrow_1_1, kport_borrow, LIBKPORT_1.1);
int kport_borrow_1_1(int fd, size_t len, int64_t timeout_ns, uint64_t *offset)
{
	return kport_borrow_common(fd, len, timeout_ns, offset, false);
}

int kport_post(int fd, uint64_t offset, size_t len, unsigned int prio,
	       unsigned int flags)
{
	struct kport_msg m;

	if (flags & ~(unsigned int)KPORT_MSG_NONBLOCK)
		return -EINVAL;
	/* No slice is longer than a message can be: it was not borrowed. */
	if (len > UINT32_MAX)
		return -EINVAL;
	kport_prep_post(&m, offset, (uint32_t)len, prio);
	if (flags)
		kport_msg_set_nonblock(&m);
	return kport_send_built(fd, &m);
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

static ssize_t kport_call_common(int fd, int reply_fd, const void *req,
				 size_t req_len, void *reply, size_t reply_len,
				 int64_t timeout_ns, struct kport_info *info,
				 int *sent, bool v1_0)
{
	struct kport_sendrecv sr;
	int ret;

	if (req_len > UINT32_MAX)
		return -EMSGSIZE;
	memset(&sr, 0, sizeof(sr));
	sr.recv_fd = reply_fd;
	kport_prep_send(&sr.send, req, (uint32_t)req_len, 0);
	kport_prep_recv(&sr.recv, reply, reply_len);
	/*
	 * One deadline for the whole call: a full request port must not
	 * hold the caller past its timeout (LIBKPORT_1 bounded the reply
	 * only).
	 */
	kport_msg_set_timeout(&sr.recv, timeout_ns);
	if (!v1_0 && timeout_ns >= 0)
		kport_msg_set_deadline(&sr.send, sr.recv.deadline_ns);
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

ssize_t kport_call_1_0(int fd, int reply_fd, const void *req, size_t req_len,
		       void *reply, size_t reply_len, int64_t timeout_ns,
		       struct kport_info *info, int *sent);
KPORT_SYMVER(kport_call_1_0, kport_call, LIBKPORT_1);
ssize_t kport_call_1_0(int fd, int reply_fd, const void *req, size_t req_len,
		       void *reply, size_t reply_len, int64_t timeout_ns,
		       struct kport_info *info, int *sent)
{
	return kport_call_common(fd, reply_fd, req, req_len, reply, reply_len,
				 timeout_ns, info, sent, true);
}

ssize_t kport_call_1_1(int fd, int reply_fd, const void *req, size_t req_len,
		       void *reply, size_t reply_len, int64_t timeout_ns,
		       struct kport_info *info, int *sent);
KPORT_SYMVER_DEFAULT(kport_call_1_1, kport_call, LIBKPORT_1.1);
ssize_t kport_call_1_1(int fd, int reply_fd, const void *req, size_t req_len,
		       void *reply, size_t reply_len, int64_t timeout_ns,
		       struct kport_info *info, int *sent)
{
	return kport_call_common(fd, reply_fd, req, req_len, reply, reply_len,
				 timeout_ns, info, sent, false);
}
