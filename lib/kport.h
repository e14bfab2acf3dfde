/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libkport: thin C wrappers over the kport ioctls, plus conveniences.
 *
 * Every function returns a non-negative value on success and a negative
 * errno value on failure (like liburing); errno itself is left as the
 * underlying system call set it.  Every function is thread-safe: the only
 * shared state is the descriptor of /dev/kport, opened once (O_CLOEXEC)
 * on first use.
 *
 * A timeout (every int64_t timeout_ns) has one meaning everywhere: the
 * longest the call may wait, relative, in nanoseconds.  Negative waits
 * forever; 0 does not wait; either way a call that can complete at once
 * does, and one that would have to wait longer fails with -ETIMEDOUT.  It
 * becomes an absolute CLOCK_MONOTONIC deadline once, on entry, so a call
 * restarted after a signal does not wait longer than asked.  -EAGAIN
 * comes only from not being allowed to wait at all: KPORT_MSG_NONBLOCK
 * in a function's flags, or a descriptor in non-blocking mode
 * (KPORT_CREATE_NONBLOCK, KPORT_OPEN_NONBLOCK, O_NONBLOCK by fcntl()),
 * which wins over any timeout.  (LIBKPORT_1, before this was so, made 0
 * non-blocking in kport_recv_from and kport_borrow; see lib/kport.c.)
 *
 * The raw structs can be built with the kport_prep_*() and kport_msg_set_*()
 * helpers below (as liburing's io_uring_prep_*() build an SQE), then given
 * to kport_sendmsg(), kport_recvmsg(), kport_sendv(), kport_recvv() or
 * kport_sendrecv(): options compose freely where the convenience
 * functions each offer a fixed set.  What each call accepts is the
 * kernel's rule (uapi/linux/kport.h): a batch's elements, for one, take
 * no NONBLOCK or deadline of their own (the batch's flags say how its
 * first message waits).  This header needs C99 (static inline).
 */
#ifndef KPORT_H
#define KPORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <linux/kport.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- One wrapper per ioctl --------------------------------------------- */

/* The shared /dev/kport descriptor; -errno if the device cannot be opened. */
int kport_dev_fd(void);

/* KPORT_IOC_VERSION: fills @v. */
int kport_query_version(struct kport_version *v);

/* KPORT_IOC_CREATE / KPORT_IOC_OPEN: return the new port descriptor. */
int kport_create_raw(const struct kport_create *c);
int kport_open_raw(const struct kport_open *o);

/* KPORT_IOC_UNLINK by name. */
int kport_unlink(const char *name);

/* KPORT_IOC_SEND / KPORT_IOC_RECV on a port descriptor. */
int kport_sendmsg(int fd, const struct kport_msg *m);
int kport_recvmsg(int fd, struct kport_msg *m);

/* KPORT_IOC_STAT: fills @st. */
int kport_stat(int fd, struct kport_stat *st);

/* KPORT_IOC_DELETE: deletes the port behind @fd (the fd stays open). */
int kport_delete(int fd);

/*
 * KPORT_IOC_SETATTR, as fchmod(2) and fchown(2) on a file: the port's
 * mode (0777 at most); its owner and group (-1: unchanged), as the
 * caller's user namespace numbers them.  Both the handle's opener and
 * the caller must be allowed.  0 or -errno (-EPERM, -EINVAL, -EIDRM).
 */
int kport_chmod(int fd, mode_t mode);
int kport_chown(int fd, uid_t uid, gid_t gid);

/* ---- Building a struct kport_msg ------------------------------------------ *
 *
 * Each kport_prep_*() starts the struct afresh (every other field 0); each
 * kport_msg_set_*() adds one option to it.  Inline, over the uapi struct:
 * nothing here is a library symbol.
 */

/* A send of @len bytes at @buf, priority @prio (0..KPORT_PRIO_MAX-1). */
static inline void kport_prep_send(struct kport_msg *m, const void *buf,
				   uint32_t len, unsigned int prio)
{
	memset(m, 0, sizeof(*m));
	m->buf = (uintptr_t)buf;
	m->len = len;
	m->priority = prio;
}

/*
 * A receive into @buf, @len bytes (clamped: a buffer larger than any
 * message can be is as good as one of UINT32_MAX bytes).
 */
static inline void kport_prep_recv(struct kport_msg *m, void *buf, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->buf = (uintptr_t)buf;
	m->len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
}

/* A send of the first @len bytes of the slice borrowed at @offset. */
static inline void kport_prep_post(struct kport_msg *m, uint64_t offset,
				   uint32_t len, unsigned int prio)
{
	memset(m, 0, sizeof(*m));
	m->flags = KPORT_MSG_POST;
	m->offset = offset;
	m->len = len;
	m->priority = prio;
}

/* Fail with -EAGAIN rather than wait. */
static inline void kport_msg_set_nonblock(struct kport_msg *m)
{
	m->flags |= KPORT_MSG_NONBLOCK;
}

/* Wait until the absolute CLOCK_MONOTONIC time @deadline_ns at most. */
static inline void kport_msg_set_deadline(struct kport_msg *m,
					  uint64_t deadline_ns)
{
	m->flags |= KPORT_MSG_DEADLINE;
	m->deadline_ns = deadline_ns;
}

/* CLOCK_MONOTONIC now, and now + @rel_ns, in nanoseconds. */
uint64_t kport_now_ns(void);
uint64_t kport_deadline_after(int64_t rel_ns);

/*
 * Wait at most @timeout_ns from now: negative leaves the struct waiting
 * forever, 0 makes it complete at once or fail with -ETIMEDOUT (see the
 * top of this file).
 */
static inline void kport_msg_set_timeout(struct kport_msg *m,
					 int64_t timeout_ns)
{
	if (timeout_ns >= 0)
		kport_msg_set_deadline(m, kport_deadline_after(timeout_ns));
}

/* Receive only a message sent by process @pid. */
static inline void kport_msg_set_from(struct kport_msg *m, pid_t pid)
{
	m->flags |= KPORT_MSG_FROM_PID;
	m->pid = pid;
}

/*
 * Receive a message that travelled through the pool without copying it:
 * see kport_msg_data(); the slice is then held until kport_release().
 */
static inline void kport_msg_set_inplace(struct kport_msg *m)
{
	m->flags |= KPORT_MSG_INPLACE;
}

/* Whether a received message was left in the pool (KPORT_MSG_INPLACE). */
static inline int kport_msg_in_pool(const struct kport_msg *m)
{
	return !!(m->result & KPORT_RESULT_INPLACE);
}

/*
 * Where a received message's payload is: in the pool mapping @pool (the
 * address kport_pool_map() gave) if it was left there (NULL if @pool is
 * NULL), else its buffer.
 */
static inline const void *kport_msg_data(const struct kport_msg *m,
					 const void *pool)
{
	if (kport_msg_in_pool(m))
		return pool ? (const char *)pool + m->offset : NULL;
	return (const void *)(uintptr_t)m->buf;
}

/* ---- Conveniences ------------------------------------------------------- */

/*
 * Attributes for kport_create().  Zero-initialise and set what you need,
 * or start from KPORT_ATTR_DEFAULT.  @flags takes KPORT_CREATE_*;
 * @rights 0 means KPORT_RIGHTS_ALL.
 */
struct kport_attr {
	uint64_t flags;
	uint32_t mode;
	uint32_t capacity;
	uint32_t msg_size;
	uint32_t rights;
	uint64_t pool_size;
};

#define KPORT_DEFAULT_CAPACITY	16
#define KPORT_DEFAULT_MSG_SIZE	8192
#define KPORT_DEFAULT_MODE	0600

#define KPORT_ATTR_DEFAULT { .flags = 0, .mode = KPORT_DEFAULT_MODE,	\
			     .capacity = KPORT_DEFAULT_CAPACITY,	\
			     .msg_size = KPORT_DEFAULT_MSG_SIZE,	\
			     .rights = KPORT_RIGHTS_ALL, .pool_size = 0 }

/*
 * Create a port; @name NULL or "" makes an anonymous one; @attr NULL takes
 * KPORT_ATTR_DEFAULT.  Returns the port descriptor.
 */
int kport_create(const char *name, const struct kport_attr *attr);

/* Create the calling process's inbox (KPORT_CREATE_INBOX is added). */
int kport_create_inbox(const struct kport_attr *attr);

/* Open a named port with @rights (KPORT_RIGHT_*; 0 for stat only). */
int kport_open(const char *name, unsigned int rights);

/* Open the inbox of process @pid with @rights. */
int kport_open_inbox(pid_t pid, unsigned int rights);

/* What a receive learns about the message it got. */
struct kport_info {
	pid_t pid;		/* sender, in the receiver's pid namespace */
	uid_t uid;		/* sender's effective uid */
	unsigned int priority;
	size_t len;		/* message size; also set on -EMSGSIZE */
	int in_pool;		/* kport_recv_inplace(): left in the pool */
	uint64_t offset;	/* ... at this offset of the pool */
};

/*
 * What a receive built with kport_prep_recv() learnt, as struct kport_info.
 * After -EMSGSIZE only ->len is meaningful (the message's size).
 */
static inline void kport_msg_info(const struct kport_msg *m,
				  struct kport_info *info)
{
	memset(info, 0, sizeof(*info));
	info->pid = m->pid;
	info->uid = m->uid;
	info->priority = m->priority;
	info->len = m->len;
	info->in_pool = kport_msg_in_pool(m);
	info->offset = info->in_pool ? m->offset : 0;
}

/*
 * Send @len bytes at priority @prio.  @flags: 0 or KPORT_MSG_NONBLOCK.
 * Returns 0.
 */
int kport_send(int fd, const void *buf, size_t len, unsigned int prio,
	       unsigned int flags);

/* Send, waiting at most @timeout_ns (negative: forever). */
int kport_send_timeout(int fd, const void *buf, size_t len, unsigned int prio,
		       int64_t timeout_ns);

/*
 * Receive one message into @buf (@len bytes).  @flags: 0 or
 * KPORT_MSG_NONBLOCK.  Returns the message size.  @info may be NULL.
 * -EMSGSIZE leaves the message queued and sets info->len to its size.
 */
ssize_t kport_recv(int fd, void *buf, size_t len, unsigned int flags,
		   struct kport_info *info);

/* Receive, waiting at most @timeout_ns (negative: forever). */
ssize_t kport_recv_timeout(int fd, void *buf, size_t len, int64_t timeout_ns,
			   struct kport_info *info);

/*
 * Receive only a message sent by process @pid, waiting at most
 * @timeout_ns (negative: forever; 0: not at all, -ETIMEDOUT if none is
 * there).
 */
ssize_t kport_recv_from(int fd, pid_t pid, void *buf, size_t len,
			int64_t timeout_ns, struct kport_info *info);

/*
 * Wait until @fd reports one of @events (POLLIN, POLLOUT) or hang-up, at
 * most @timeout_ms (negative: forever).  Returns the revents, 0 on
 * timeout.
 */
int kport_wait(int fd, short events, int timeout_ms);

/* ---- Several messages per call, and request-reply ---------------------- */

/*
 * KPORT_IOC_SENDV / KPORT_IOC_RECVV over @count (1..KPORT_BATCH_MAX)
 * messages built as for kport_sendmsg()/kport_recvmsg() (element flags 0,
 * or POST / FROM_PID / INPLACE).  Only the first may wait; @flags: 0 or
 * KPORT_MSG_NONBLOCK.  Returns how many were done, or -errno when none was.
 */
int kport_sendv(int fd, const struct kport_msg *msgs, unsigned int count,
		unsigned int flags);
int kport_recvv(int fd, struct kport_msg *msgs, unsigned int count,
		unsigned int flags);

/* KPORT_IOC_SENDRECV as it is: see uapi/linux/kport.h. */
int kport_sendrecv(int fd, struct kport_sendrecv *sr);

/*
 * Send @req on @fd, then wait at most @timeout_ns (negative: forever) for
 * one message on @reply_fd (-1: on @fd) into @reply: one system call.
 * Returns the reply's size; -errno, with info->len set on -EMSGSIZE.  If
 * the send succeeded but the receive failed, *@sent is set (may be NULL).
 */
ssize_t kport_call(int fd, int reply_fd, const void *req, size_t req_len,
		   void *reply, size_t reply_len, int64_t timeout_ns,
		   struct kport_info *info, int *sent);

/* ---- The pool (ports created with pool_size > 0) ----------------------- *
 *
 * kport_send() and kport_recv() use the pool by themselves: a message
 * longer than the port's pool threshold is copied once into a slice of the
 * pool by the kernel, and copied out again by a plain receive.  The calls
 * below avoid copies: receive in place (one copy in all), and zero-copy
 * borrow/post on KPORT_CREATE_ZEROCOPY ports (no copy by the kernel).
 */

#define KPORT_POOL_WRITE	1U	/* map writable: zero-copy port, send right */

/*
 * Map the pool of @fd (read-only unless KPORT_POOL_WRITE is in @flags).
 * Sets *@addr and *@size (the pool size).  Unmap with kport_pool_unmap().
 */
int kport_pool_map(int fd, unsigned int flags, void **addr, size_t *size);
int kport_pool_unmap(void *addr, size_t size);

/*
 * Receive one message without copying it if it is in the pool: then
 * *@data points into @pool (the address kport_pool_map() gave),
 * info->in_pool is set, and the slice stays held by @fd until
 * kport_release(fd, info->offset, info->len).  Otherwise the message is
 * copied into @buf (@len bytes) and *@data == @buf.  @flags: 0 or
 * KPORT_MSG_NONBLOCK; @info is required.  Returns the message size.
 */
ssize_t kport_recv_inplace(int fd, const void *pool, void *buf, size_t len,
			   const void **data, unsigned int flags,
			   struct kport_info *info);

/* Give back a slice received in place, or borrowed and not posted. */
int kport_release(int fd, uint64_t offset, size_t len);

/*
 * Zero-copy: reserve a slice of @len bytes to fill through a writable
 * mapping, waiting at most @timeout_ns for room (negative: forever; 0: not
 * at all, -ETIMEDOUT if the pool is full).  Sets *@offset.
 */
int kport_borrow(int fd, size_t len, int64_t timeout_ns, uint64_t *offset);

/*
 * Send the first @len bytes of the slice borrowed at @offset as a message.
 * @flags: 0 or KPORT_MSG_NONBLOCK.  On failure the slice stays borrowed.
 */
int kport_post(int fd, uint64_t offset, size_t len, unsigned int prio,
	       unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif /* KPORT_H */
