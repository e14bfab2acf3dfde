/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kport: kernel mailbox IPC.
 *
 * /dev/kport is a misc device.  ioctls on it create or open a port and
 * return a new O_CLOEXEC file descriptor (a "handle") for that port.  The
 * handle carries the rights granted when it was opened (send, receive, or
 * both).  Send, receive, stat and delete are ioctls on the handle; read()
 * and write() move one message; poll() reports EPOLLIN (a message can be
 * received), EPOLLOUT (a message can be sent without waiting) and EPOLLHUP
 * (the port was deleted).
 *
 * Conventions every struct follows:
 *  - it starts with __u64 flags; unknown flags get -EINVAL;
 *  - __reserved fields must be zero (-EINVAL);
 *  - its size is encoded in the ioctl number.  The kernel accepts any size
 *    from the first published one (KPORT_*_SIZE_VER0) up to a page, as
 *    copy_struct_from_user() does: a larger struct whose extra tail is not
 *    zero gets -E2BIG, a smaller one -EINVAL;
 *  - pointers travel as __u64; no enums, bitfields or implicit padding.
 * An unknown ioctl gets -ENOTTY.
 */
#ifndef _UAPI_LINUX_KPORT_H
#define _UAPI_LINUX_KPORT_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/const.h>

#define KPORT_DEVICE		"/dev/kport"
#define KPORT_API_VERSION	1

/* Longest port name, including the terminating NUL. */
#define KPORT_NAME_MAX		64

/* Priorities run from 0 (lowest) to KPORT_PRIO_MAX - 1 (highest). */
#define KPORT_PRIO_MAX		32

/* Capacity: 0 is a rendezvous, 1..max a bounded queue, or unbounded. */
#define KPORT_CAPACITY_UNBOUNDED	0xffffffffU

/* Rights of a handle. */
#define KPORT_RIGHT_SEND	_BITUL(0)
#define KPORT_RIGHT_RECV	_BITUL(1)
#define KPORT_RIGHTS_ALL	(KPORT_RIGHT_SEND | KPORT_RIGHT_RECV)

/* Features reported by KPORT_IOC_VERSION. */
#define KPORT_FEAT_RENDEZVOUS	_BITULL(0)	/* capacity 0 */
#define KPORT_FEAT_UNBOUNDED	_BITULL(1)	/* KPORT_CAPACITY_UNBOUNDED */
#define KPORT_FEAT_PRIORITY	_BITULL(2)	/* message priorities */
#define KPORT_FEAT_DEADLINE	_BITULL(3)	/* KPORT_MSG_DEADLINE */
#define KPORT_FEAT_PROCESS	_BITULL(4)	/* KPORT_CREATE_PROCESS */
#define KPORT_FEAT_INBOX	_BITULL(5)	/* direct naming by pid */
#define KPORT_FEAT_FROM_PID	_BITULL(6)	/* KPORT_MSG_FROM_PID */
#define KPORT_FEAT_FIXED	_BITULL(7)	/* KPORT_CREATE_FIXED */
#define KPORT_FEAT_POOL		_BITULL(8)	/* pool_size, mmap, in-place receive */
#define KPORT_FEAT_ZEROCOPY	_BITULL(9)	/* KPORT_CREATE_ZEROCOPY, borrow/post */
#define KPORT_FEAT_BATCH	_BITULL(10)	/* KPORT_IOC_SENDV, KPORT_IOC_RECVV */
#define KPORT_FEAT_SENDRECV	_BITULL(11)	/* KPORT_IOC_SENDRECV */
#define KPORT_FEAT_SETATTR	_BITULL(12)	/* KPORT_IOC_SETATTR */

/**
 * struct kport_version - what this module supports (KPORT_IOC_VERSION)
 * @flags:        in: must be 0.
 * @features:     out: KPORT_FEAT_* bits.
 * @api_version:  out: KPORT_API_VERSION of the module.
 * @name_max:     out: KPORT_NAME_MAX.
 * @max_msg_size: out: largest msg_size a port may have now.
 * @max_capacity: out: largest bounded capacity a port may have now.
 * @max_pool_size: out: largest pool a port may have now.
 * @pool_threshold: out: messages longer than this travel through the pool
 *                of a port created now (if it has one).
 * @__reserved32: must be 0.
 * @__reserved:   must be 0.
 */
struct kport_version {
	__u64 flags;
	__u64 features;
	__u32 api_version;
	__u32 name_max;
	__u32 max_msg_size;
	__u32 max_capacity;
	__u64 max_pool_size;
	__u32 pool_threshold;
	__u32 __reserved32;
	__u64 __reserved[2];
};

#define KPORT_VERSION_SIZE_VER0	64

/* KPORT_IOC_CREATE flags */
#define KPORT_CREATE_FIXED	_BITULL(0) /* every message is exactly msg_size bytes */
#define KPORT_CREATE_PROCESS	_BITULL(1) /* deleted when the returned handle is released */
#define KPORT_CREATE_INBOX	_BITULL(2) /* the calling process's inbox (implies PROCESS) */
#define KPORT_CREATE_NONBLOCK	_BITULL(3) /* the returned fd is O_NONBLOCK */
#define KPORT_CREATE_ZEROCOPY	_BITULL(4) /* senders may write into the pool */
#define KPORT_CREATE_FLAGS	(KPORT_CREATE_FIXED | KPORT_CREATE_PROCESS | \
				 KPORT_CREATE_INBOX | KPORT_CREATE_NONBLOCK | \
				 KPORT_CREATE_ZEROCOPY)

/**
 * struct kport_create - create a port (KPORT_IOC_CREATE on /dev/kport)
 * @flags:     KPORT_CREATE_*.
 * @name:      NUL-terminated name of 1..KPORT_NAME_MAX-1 printable ASCII
 *             characters other than '/' and space; all zero for an
 *             anonymous port (and for an inbox).  Bytes after the NUL
 *             must be zero.
 * @mode:      permission bits (0777 at most), checked against the uid and
 *             gid of whoever opens the port: read grants receive, write
 *             grants send.
 * @capacity:  0 (rendezvous), 1..max_capacity, or KPORT_CAPACITY_UNBOUNDED.
 * @msg_size:  largest message (exact size with KPORT_CREATE_FIXED),
 *             1..max_msg_size, or 1..pool_size on a port with a pool.
 * @rights:    rights of the returned handle, a non-empty subset of
 *             KPORT_RIGHTS_ALL; the creator is not checked against @mode.
 * @pool_size: 0, or the size of the port's shared-memory pool: a multiple
 *             of the page size, at most max_pool_size, at least msg_size.
 *             Messages longer than the pool threshold are copied once into
 *             a slice of the pool instead of through the queue, and
 *             receivers may read them in place through mmap().
 *             KPORT_CREATE_ZEROCOPY (which needs a pool) also lets senders
 *             map the pool writable, borrow a slice, fill it themselves and
 *             post it: see KPORT_IOC_BORROW.
 * @__reserved: must be 0.
 *
 * Returns a new O_CLOEXEC file descriptor.  A named port or an inbox gets
 * -EEXIST if the name (or the caller's inbox) is taken.
 */
struct kport_create {
	__u64 flags;
	char name[KPORT_NAME_MAX];
	__u32 mode;
	__u32 capacity;
	__u32 msg_size;
	__u32 rights;
	__u64 pool_size;
	__u64 __reserved[4];
};

#define KPORT_CREATE_SIZE_VER0	128

/* KPORT_IOC_OPEN flags */
#define KPORT_OPEN_INBOX	_BITULL(0) /* open the inbox of process @pid */
#define KPORT_OPEN_NONBLOCK	_BITULL(1) /* the returned fd is O_NONBLOCK */
#define KPORT_OPEN_FLAGS	(KPORT_OPEN_INBOX | KPORT_OPEN_NONBLOCK)

/**
 * struct kport_open - open an existing port (KPORT_IOC_OPEN on /dev/kport)
 * @flags:  KPORT_OPEN_*.
 * @name:   the port's name (all zero with KPORT_OPEN_INBOX).
 * @rights: KPORT_RIGHT_* wanted; each is checked against the port's mode
 *          (-EACCES).  0 gives a handle good only for stat, poll and
 *          delete; it needs the caller to own the port or to be granted
 *          read or write by its mode (-EACCES otherwise).
 * @pid:    with KPORT_OPEN_INBOX, the process (as the caller's pid
 *          namespace numbers it) whose inbox to open; otherwise 0.
 * @__reserved: must be 0.
 *
 * Returns a new O_CLOEXEC file descriptor; -ENOENT if there is no such
 * port (or no such inbox).  An inbox belongs to the program that made it:
 * once its process has exec()ed, the pid no longer names that inbox
 * (-ENOENT), and the new program may create its own.
 */
struct kport_open {
	__u64 flags;
	char name[KPORT_NAME_MAX];
	__u32 rights;
	__s32 pid;
	__u64 __reserved[3];
};

#define KPORT_OPEN_SIZE_VER0	104

/**
 * struct kport_unlink - delete a port by name (KPORT_IOC_UNLINK)
 * @flags: must be 0.
 * @name:  the port's name.
 * @__reserved: must be 0.
 *
 * Allowed to the port's owner (its creator's effective uid) and to
 * CAP_IPC_OWNER; others get -EPERM.
 */
struct kport_unlink {
	__u64 flags;
	char name[KPORT_NAME_MAX];
	__u64 __reserved[2];
};

#define KPORT_UNLINK_SIZE_VER0	88

/* struct kport_msg flags */
#define KPORT_MSG_NONBLOCK	_BITULL(0) /* fail with -EAGAIN instead of waiting */
#define KPORT_MSG_DEADLINE	_BITULL(1) /* wait until @deadline_ns at most */
#define KPORT_MSG_FROM_PID	_BITULL(2) /* receive only from @pid */
#define KPORT_MSG_INPLACE	_BITULL(3) /* receive: leave pool payloads in place */
#define KPORT_MSG_POST		_BITULL(4) /* send: post the borrowed slice at @offset */
#define KPORT_MSG_FLAGS		(KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE | \
				 KPORT_MSG_FROM_PID | KPORT_MSG_INPLACE | \
				 KPORT_MSG_POST)

/* struct kport_msg result */
#define KPORT_RESULT_INPLACE	_BITUL(0) /* the payload is in the pool at @offset */

/**
 * struct kport_msg - one message (KPORT_IOC_SEND, KPORT_IOC_RECV)
 * @flags:       KPORT_MSG_*.  FROM_PID and INPLACE are for receive only,
 *               POST for send only.
 * @buf:         user pointer to the payload (send) or the buffer (receive).
 *               0 with KPORT_MSG_POST.
 * @deadline_ns: with KPORT_MSG_DEADLINE, an absolute CLOCK_MONOTONIC time
 *               in nanoseconds after which the call fails with -ETIMEDOUT;
 *               otherwise 0.  A deadline already past still completes a
 *               call that need not wait.
 * @len:         send: payload size.  Receive: in, the buffer's size; out,
 *               the message's size, also when the call fails with
 *               -EMSGSIZE (the message then stays at the head of the
 *               queue).
 * @priority:    send: 0..KPORT_PRIO_MAX-1, higher first, FIFO within a
 *               priority.  Receive: out.
 * @pid:         receive: in with KPORT_MSG_FROM_PID, the only sender to
 *               accept; out, the sender's pid as the receiver's pid
 *               namespace numbers it (0 if it is not visible there).
 *               Send: must be 0.
 * @uid:         receive: out, the sender's effective uid in the
 *               receiver's user namespace.  Send: must be 0.
 * @offset:      send with KPORT_MSG_POST: the borrowed slice to post (@len
 *               at most the borrowed length); otherwise 0.  Receive: out,
 *               with KPORT_RESULT_INPLACE, where the payload starts in the
 *               pool mapping; the handle then holds that slice until it
 *               releases it (KPORT_IOC_RELEASE) or is closed.
 * @result:      receive: out, KPORT_RESULT_*.  Send: must be 0.
 * @__reserved32: must be 0.
 * @__reserved:  must be 0.
 *
 * A receive with KPORT_MSG_INPLACE of a message that travelled through the
 * pool copies nothing: it reports @offset and @len and sets
 * KPORT_RESULT_INPLACE; any other message is copied to @buf as usual.
 *
 * Fields a call only writes (receive's @priority and @uid) are ignored on
 * input.  Waits are interruptible: a signal with nothing done yet restarts
 * the call (the deadline is absolute) or fails it with -EINTR.
 */
struct kport_msg {
	__u64 flags;
	__u64 buf;
	__u64 deadline_ns;
	__u32 len;
	__u32 priority;
	__s32 pid;
	__u32 uid;
	__u64 offset;
	__u32 result;
	__u32 __reserved32;
	__u64 __reserved;
};

#define KPORT_MSG_SIZE_VER0	64

/* Most messages one KPORT_IOC_SENDV or KPORT_IOC_RECVV may carry. */
#define KPORT_BATCH_MAX		1024

/**
 * struct kport_batch - several messages in one call (SENDV, RECVV)
 * @flags:       KPORT_MSG_NONBLOCK, KPORT_MSG_DEADLINE: how to wait for the
 *               first message.  The others never wait.
 * @msgs:        user pointer to an array of @count struct kport_msg, each
 *               as for KPORT_IOC_SEND (flags 0 or KPORT_MSG_POST) or
 *               KPORT_IOC_RECV (flags 0, KPORT_MSG_FROM_PID,
 *               KPORT_MSG_INPLACE), without NONBLOCK, DEADLINE or a
 *               deadline.  Receive writes each element back.
 * @deadline_ns: with KPORT_MSG_DEADLINE, as in struct kport_msg.
 * @count:       1..KPORT_BATCH_MAX.
 * @msg_size:    the caller's sizeof(struct kport_msg): the array's stride,
 *               KPORT_MSG_SIZE_VER0 up to a page.
 * @__reserved:  must be 0.
 *
 * Returns how many messages were sent or received, in order, stopping at
 * the first that could not be (its error is returned only if it is the
 * first: then nothing was done).
 */
struct kport_batch {
	__u64 flags;
	__u64 msgs;
	__u64 deadline_ns;
	__u32 count;
	__u32 msg_size;
	__u64 __reserved[4];
};

#define KPORT_BATCH_SIZE_VER0	64

/* struct kport_sendrecv done */
#define KPORT_SR_SENT		_BITUL(0) /* the send part was done */

/**
 * struct kport_sendrecv - send, then receive, in one call (SENDRECV)
 * @flags:       must be 0.
 * @recv_fd:     the handle to receive on, or -1 for the one the call is
 *               made on (which sends).
 * @done:        out: KPORT_SR_SENT once the message is sent, so a failed
 *               receive can be told from a failed send.
 * @send:        as for KPORT_IOC_SEND.
 * @recv:        as for KPORT_IOC_RECV; written back.
 * @__reserved:  must be 0.
 *
 * The request-reply fast path: a client sends a request and waits for the
 * reply, a server sends a reply and waits for the next request, one system
 * call each instead of two.  The send is done exactly as KPORT_IOC_SEND
 * would, then the receive as KPORT_IOC_RECV would; if the send fails
 * nothing is received.  -EBADF if @recv_fd is not open or lacks the
 * receive right, -EINVAL if it is not a kport handle.
 *
 * Returns 0 when both were done.  An error with @done 0: nothing was
 * sent (a signal then restarts the call, as for SEND).  An error with
 * KPORT_SR_SENT in @done: the request went out and the receive failed;
 * such a call is never restarted (that would send again), so a signal
 * in the receive gives -EINTR even with SA_RESTART: receive the reply
 * with KPORT_IOC_RECV.  If @done could not be written after the send
 * (the struct was made read-only or unmapped meanwhile), the call returns
 * KPORT_SR_SENT (1) and receives nothing.
 */
struct kport_sendrecv {
	__u64 flags;
	__s32 recv_fd;
	__u32 done;
	struct kport_msg send;
	struct kport_msg recv;
	__u64 __reserved[2];
};

#define KPORT_SENDRECV_SIZE_VER0	160

/* struct kport_stat status */
#define KPORT_STATUS_DEAD	_BITUL(0) /* the port was deleted */

/**
 * struct kport_stat - a port's attributes and counters (KPORT_IOC_STAT)
 * @flags:        in: must be 0.
 * @id:           unique id of the port, never reused while loaded.
 * @name:         its name, empty if anonymous.
 * @port_flags:   KPORT_CREATE_* it was created with (less NONBLOCK).
 * @mode:         permission bits.
 * @uid:          owner's effective uid (as the caller's namespace sees it).
 * @gid:          owner's effective gid.
 * @capacity:     as created.
 * @msg_size:     as created.
 * @rights:       rights of this handle.
 * @owner_pid:    the owning process of a process-owned port or inbox, else 0;
 *                0 also once that process has exec'd (another program then
 *                has the number) or its number names another process.
 * @nr_msgs:      messages queued (including those of blocked senders).
 * @bytes:        payload bytes queued.
 * @send_waiters: senders waiting.
 * @recv_waiters: receivers waiting.
 * @sent:         messages sent since creation.
 * @received:     messages received since creation.
 * @handles:      open handles.
 * @status:       KPORT_STATUS_*.
 * @pool_size:    size of the pool, 0 if none.
 * @pool_used:    bytes of the pool in slices (in flight, held, borrowed).
 * @slices_held:  slices held by receivers or borrowed by senders.
 * @pool_threshold: messages longer than this go through the pool.
 * @__reserved:   0.
 */
struct kport_stat {
	__u64 flags;
	__u64 id;
	char name[KPORT_NAME_MAX];
	__u64 port_flags;
	__u32 mode;
	__u32 uid;
	__u32 gid;
	__u32 capacity;
	__u32 msg_size;
	__u32 rights;
	__s32 owner_pid;
	__u32 nr_msgs;
	__u64 bytes;
	__u32 send_waiters;
	__u32 recv_waiters;
	__u64 sent;
	__u64 received;
	__u32 handles;
	__u32 status;
	__u64 pool_size;
	__u64 pool_used;
	__u32 slices_held;
	__u32 pool_threshold;
	__u64 __reserved[3];
};

#define KPORT_STAT_SIZE_VER0	208

/**
 * struct kport_slice - a slice of a port's pool (KPORT_IOC_BORROW/RELEASE)
 * @flags:       BORROW: KPORT_MSG_NONBLOCK, KPORT_MSG_DEADLINE; RELEASE: 0.
 * @offset:      BORROW: out; RELEASE: in, the slice's start in the pool.
 * @len:         BORROW: in, bytes wanted (1..msg_size); RELEASE: in, the
 *               length the kernel reported for the slice.
 * @deadline_ns: BORROW with KPORT_MSG_DEADLINE: as in struct kport_msg.
 * @__reserved:  must be 0.
 *
 * BORROW (zero-copy ports, send right) reserves a slice for the caller to
 * fill through a writable mapping of the pool, then send with
 * KPORT_MSG_POST; a full pool waits like a full queue.  RELEASE gives back
 * a slice the handle holds: received in place, or borrowed and not posted.
 * An offset or length that does not match the kernel's record of a slice
 * this handle holds gets -EINVAL (not a slice start, past the pool, wrong
 * length) or -ENOENT (a slice this handle does not hold).
 */
struct kport_slice {
	__u64 flags;
	__u64 offset;
	__u64 len;
	__u64 deadline_ns;
	__u64 __reserved[4];
};

#define KPORT_SLICE_SIZE_VER0	64

/* struct kport_setattr flags: which fields to change. */
#define KPORT_SETATTR_MODE	_BITULL(0)
#define KPORT_SETATTR_UID	_BITULL(1)
#define KPORT_SETATTR_GID	_BITULL(2)
#define KPORT_SETATTR_FLAGS	(KPORT_SETATTR_MODE | KPORT_SETATTR_UID | \
				 KPORT_SETATTR_GID)

/**
 * struct kport_setattr - change a port's owner, group or mode
 *                        (KPORT_IOC_SETATTR on a handle)
 * @flags:        KPORT_SETATTR_*: the fields to change, at least one.
 * @mode:         with KPORT_SETATTR_MODE: the new permission bits (0777
 *                at most).
 * @uid:          with KPORT_SETATTR_UID: the new owner, as the caller's
 *                user namespace numbers it.
 * @gid:          with KPORT_SETATTR_GID: the new group, likewise.
 * @__reserved32: must be 0.
 * @__reserved:   must be 0.
 *
 * As chmod(2) and chown(2) on a file, allowed only if both the handle's
 * opener and the caller may (a handle does not carry its opener's power
 * to whoever holds it): the mode, by the port's owner or CAP_FOWNER; the
 * owner, by CAP_CHOWN; the group, by CAP_CHOWN or by the owner to a group
 * it is in; each capability in the user namespace that owns the port's
 * IPC namespace.  Else -EPERM.  Ids are the caller's user namespace's; one
 * not mapped where the port lives is -EINVAL; a deleted port, -EIDRM.
 * All fields or none change; opens check the new ones, handles already
 * open keep their rights.
 */
struct kport_setattr {
	__u64 flags;
	__u32 mode;
	__u32 uid;
	__u32 gid;
	__u32 __reserved32;
	__u64 __reserved[5];
};

#define KPORT_SETATTR_SIZE_VER0	64

#define KPORT_IOC_MAGIC		0xB8

/* On /dev/kport. */
#define KPORT_IOC_VERSION	_IOWR(KPORT_IOC_MAGIC, 0x00, struct kport_version)
#define KPORT_IOC_CREATE	_IOW(KPORT_IOC_MAGIC, 0x01, struct kport_create)
#define KPORT_IOC_OPEN		_IOW(KPORT_IOC_MAGIC, 0x02, struct kport_open)
#define KPORT_IOC_UNLINK	_IOW(KPORT_IOC_MAGIC, 0x03, struct kport_unlink)

/* On a port handle. */
#define KPORT_IOC_SEND		_IOW(KPORT_IOC_MAGIC, 0x10, struct kport_msg)
#define KPORT_IOC_RECV		_IOWR(KPORT_IOC_MAGIC, 0x11, struct kport_msg)
#define KPORT_IOC_STAT		_IOWR(KPORT_IOC_MAGIC, 0x12, struct kport_stat)
/* Delete the port behind the handle; the argument must be 0. */
#define KPORT_IOC_DELETE	_IO(KPORT_IOC_MAGIC, 0x13)
#define KPORT_IOC_BORROW	_IOWR(KPORT_IOC_MAGIC, 0x14, struct kport_slice)
#define KPORT_IOC_RELEASE	_IOW(KPORT_IOC_MAGIC, 0x15, struct kport_slice)
#define KPORT_IOC_SENDV		_IOW(KPORT_IOC_MAGIC, 0x16, struct kport_batch)
#define KPORT_IOC_RECVV		_IOW(KPORT_IOC_MAGIC, 0x17, struct kport_batch)
#define KPORT_IOC_SENDRECV	_IOWR(KPORT_IOC_MAGIC, 0x18, struct kport_sendrecv)
#define KPORT_IOC_SETATTR	_IOW(KPORT_IOC_MAGIC, 0x19, struct kport_setattr)

/*
 * The pool: mmap(NULL, pool_size, PROT_READ, MAP_SHARED, handle, 0) on a
 * handle with receive right maps it read-only for good (mprotect cannot add
 * write).  On a KPORT_CREATE_ZEROCOPY port a handle with send right may map
 * it PROT_READ | PROT_WRITE.  Offset must be 0, length at most pool_size;
 * one mapping per handle at a time (-EBUSY).  The mapping is inherited by
 * fork() and outlives the port: after deletion it stays readable until
 * munmap(), and the memory is freed with the last mapping.
 *
 * Ordering: everything a sender wrote into a slice before the POST (or
 * that the kernel copied in) is visible to a receiver once its receive has
 * returned the slice's offset; the ioctls are the barriers.
 */
#define KPORT_POOL_MMAP_OFFSET	0

#endif /* _UAPI_LINUX_KPORT_H */
