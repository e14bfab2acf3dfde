/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kport internals shared by the module's files.
 *
 * Locking overview (each file repeats the part it relies on):
 *
 *  kport_table_lock (mutex, inst.c)
 *      The instances (struct kport_inst) and everything in them: their
 *      name and inbox hash tables, lists and counts of ports; each
 *      user's port count and each port's ->linked and ->published.
 *      Taken for create, open, unlink, when the last reference to a port
 *      goes, and by the instance reaper.  Outermost.
 *
 *  port->lock (spinlock, queue.c)
 *      Everything that moves: the queue, the waiters, ->dead and the
 *      counters.  Held only for list surgery, never across a copy to or
 *      from userspace or an allocation.  Nests inside kport_table_lock
 *      and outside the poll waitqueue's lock.
 *
 *  port->stash_lock (spinlock, msg.c)
 *      The port's stash of freed small messages.  Never held together
 *      with another kport lock.
 *
 *  handle->lock (spinlock, pool.c)
 *      The slices a handle holds (received in place or borrowed).  Never
 *      held together with another kport lock.
 *
 *  kport_users_lock (spinlock, limits.c)
 *      The per-user accounting hash.  Innermost; nothing nests inside.
 *
 * Lifetime: a port is refcounted (->ref).  References are held by each
 * handle (an open file) and by the name or inbox table while the port is
 * linked there.  Deleting a port unlinks it and marks it dead; the memory
 * goes with the last reference.
 */
#ifndef KPORT_INTERNAL_H
#define KPORT_INTERNAL_H

#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/sizes.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/ktime.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/time_namespace.h>
#include <linux/kport.h>

#include "compat.h"

struct file;
struct ipc_namespace;
struct pid;
struct seq_file;

/* Same command as KPORT_IOC_x, whatever size the caller's struct has. */
#define KPORT_CMD_IS(cmd, x)	(((cmd) & ~IOCSIZE_MASK) == ((x) & ~IOCSIZE_MASK))

/* Hard ceiling for the max_msg_size parameter. */
#define KPORT_MSG_SIZE_CEILING	(64U << 20)
/* Hard ceiling for the max_pool_size parameter. */
#define KPORT_POOL_SIZE_CEILING	SZ_1G

/**
 * struct kport_user - what one user has charged (see limits.c)
 * @node:     in the users hash, under kport_users_lock.
 * @uid:      the user: an effective uid...
 * @ns:       ...as a credential of this user namespace has it; referenced.
 * @parent:   the user who created @ns, as @ns's parent has it, who answers
 *            for everything charged here too; referenced.  NULL in the
 *            initial user namespace.
 * @ref:      held by handles and ports charging this user, by queued
 *            messages, and by the users whose @parent it is.
 * @nr_ports: ports this user owns; under kport_table_lock.
 * @bytes:    bytes of queued messages charged; lockless (cmpxchg).
 * @pool_bytes: bytes of pools charged; lockless (cmpxchg).
 */
struct kport_user {
	struct hlist_node node;
	kuid_t uid;
	struct user_namespace *ns;
	struct kport_user *parent;
	refcount_t ref;
	unsigned int nr_ports;
	atomic_long_t bytes;
	atomic_long_t pool_bytes;
};

/**
 * struct kport_inst - the ports of one IPC namespace (see inst.c)
 * @ref:      held by the instance table while @hashed, by each port of the
 *            instance, and by each open /proc/kport that lists it.
 * @ipc_ns:   the namespace, the table's key, referenced (which keeps its
 *            address from being reused while the instance can be found by
 *            it: see inst.c).  NULL for the initial instance (whose
 *            namespace is the kernel's own) and once torn down.
 * @user_ns:  the user namespace that owns @ipc_ns: where CAP_IPC_OWNER
 *            counts and which ids a port's owner must have; referenced.
 * @node:     in the instance table while @hashed.
 * @reap_node: on the reaper's list of instances to tear down.
 * @hashed:   can be found by its namespace.
 * @names:    named ports, by name.
 * @inboxes:  inboxes, by owning thread group.
 * @ports:    every published port (struct kport_port.all_node), for
 *            /proc/kport and teardown.
 * @nr_ports: their number: what max_ports bounds.
 *
 * All under kport_table_lock, but @ref.
 */
struct kport_inst {
	refcount_t ref;
	struct ipc_namespace *ipc_ns;
	struct user_namespace *user_ns;
	struct hlist_node node;
	struct list_head reap_node;
	bool hashed;
	DECLARE_HASHTABLE(names, 6);
	DECLARE_HASHTABLE(inboxes, 4);
	struct list_head ports;
	unsigned int nr_ports;
};

/**
 * struct kport_pool - a port's shared-memory pool
 * @vaddr:     the memory (vmalloc, zeroed, charged to the creator's memcg).
 * @size:      its size, a multiple of PAGE_SIZE.
 * @threshold: messages longer than this travel through the pool.
 * @zerocopy:  senders may map it writable and borrow slices.
 * @slices:    the allocator: genalloc over [@vaddr, @vaddr + @size), in
 *             pages; lockless, so usable under port->lock.
 * @user:      charged for @size.
 * @held:      slices held by receivers or borrowed by senders.
 * @space_wq:  senders and borrowers waiting for a free slice.
 *
 * It lives as long as its port: mappings hold the handle's file, the
 * handle holds the port, so the memory outlives every mapping.
 */
struct kport_pool {
	void *vaddr;
	size_t size;
	u32 threshold;
	bool zerocopy;
	struct gen_pool *slices;
	struct kport_user *user;
	atomic_t held;
	wait_queue_head_t space_wq;
};

/**
 * struct kport_ident - who a message says it is from
 * @pid: the sending thread group.
 * @exec: its self_exec_id then: which program it ran.
 * @uid: its effective uid.
 *
 * A call made through an ioctl carries the caller's identity: the ioctl
 * is the caller's own act.  write() carries the identity of whoever
 * opened the handle, never current's: write() may be done on a caller's
 * behalf by a program it does not control (a setuid program writing to
 * an inherited stderr), which must not lend its credentials.
 */
struct kport_ident {
	struct pid *pid;
	u64 exec;
	kuid_t uid;
};

/**
 * struct kport_kmsg - a message in the kernel
 * @node:   in a priority list of its port, or on a private list.
 * @stash_next: instead of @node while in its port's stash.
 * @hnode:  in its handle's tree while held (received in place or borrowed).
 * @user:   charged for the header and any inline payload; holds a reference.
 * @sender: thread group of the sending process; holds a reference.
 * @sender_exec: the sender's self_exec_id when it sent: once its process
 *          runs another program, its pid is no longer reported.
 * @uid:    sender's effective uid when it sent.
 * @len:    payload size (for a borrowed slice: the length borrowed).
 * @prio:   priority.
 * @pool:   the pool holding the payload, or NULL when it is in @data.
 * @offset: where in @pool.
 * @slice:  bytes allocated there (page-rounded).
 * @rdv:    on a rendezvous port, the sender waiting while a receiver copies
 *          this message out (its waiter is KPORT_WAIT_TAKEN), else NULL;
 *          under port->lock (see queue.c, "Rendezvous").
 * @borrowed: held by a sender for a zero-copy post, not sent yet.
 * @small:  from kport_msg_cache (header and payload fit in
 *          KPORT_MSG_SMALL), not kvmalloc().
 * @data:   payload, unless it is in a pool.
 */
struct kport_kmsg {
	union {
		struct list_head node;
		/* In its port's stash: the next one there (see msg.c). */
		struct kport_kmsg *stash_next;
	};
	struct rb_node hnode;
	struct kport_user *user;
	struct pid *sender;
	u64 sender_exec;
	kuid_t uid;
	u32 len;
	u32 prio;
	struct kport_pool *pool;
	u64 offset;
	u32 slice;
	struct kport_waiter *rdv;
	bool borrowed;
	bool small;
	u8 data[];
};

/*
 * Messages whose header and payload fit here come from a cache of their
 * own and are recycled through their port's stash (see msg.c).
 */
#define KPORT_MSG_SMALL		256
/* Freed small messages a port keeps for its next sends, at most. */
#define KPORT_STASH_MAX		256

/* What a waiter was woken for; see struct kport_waiter. */
enum kport_wait_state {
	KPORT_WAIT_WAITING,	/* still on its list */
	KPORT_WAIT_DONE,	/* send: message taken; recv: message handed over */
	KPORT_WAIT_RETRY,	/* recv: look again; send: given back, decide again */
	KPORT_WAIT_DEAD,	/* the port was deleted */
	KPORT_WAIT_TAKEN,	/* rendezvous send: a receiver is copying it out */
};

/**
 * struct kport_waiter - a task blocked in send or receive, on its stack
 * @node:    in port->senders or port->receivers while WAITING, else
 *           empty.
 * @task:    the sleeping task.
 * @msg:     send: the message to deliver; recv: the message handed over.
 * @from:    recv: accept only messages from this thread group (or NULL).
 * @bufsize: recv: size of the receiver's buffer.
 * @inplace: recv: pool messages fit whatever @bufsize is.
 * @state:   enum kport_wait_state.
 *
 * Everything here is read and written under port->lock.  Whoever changes
 * @state away from WAITING also removes the waiter from its list and wakes
 * @task while still holding the lock, so the waiter (which re-takes the
 * lock before looking) can never see a half-finished hand-over, and its
 * stack frame cannot go away before the waker is done with it.
 */
struct kport_waiter {
	struct list_head node;
	struct task_struct *task;
	struct kport_kmsg *msg;
	struct pid *from;
	u32 bufsize;
	bool inplace;
	enum kport_wait_state state;
};

/**
 * struct kport_port - a mailbox
 * @ref:        see "Lifetime" above.
 * @inst:       the instance whose tables list it; referenced.
 * @id:         unique, set when published.
 * @name:       NUL-terminated; empty when anonymous.
 * @hnode:      in the name or inbox hash while @linked.
 * @all_node:   in the list of all ports while @published.
 * @linked:     the name or inbox table holds a reference.
 * @published:  counted in the limits and listed; under kport_table_lock.
 * @counted:    counted in @owner's nr_ports: from publication until it is
 *              deleted and no handle of @owner's is left (not until it is
 *              freed, which a handle held by someone else may put off);
 *              under kport_table_lock.
 * @deleted:    deleted (unlinked for good); under kport_table_lock.
 * @owner_handles: open handles opened by @owner's uid.
 * @inbox_pid:  for an inbox, the owning thread group (an inbox is also
 *              process-owned: @owner_pid is the same).
 * @owner_pid:  for a process-owned port, the creating thread group.
 * @owner_exec: its self_exec_id then: an inbox belongs to that program
 *              image, not to the pid, and STAT reports the owner as 0
 *              after an exec, as message senders are (struct kport_ident).
 * @flags:      KPORT_CREATE_* less NONBLOCK.
 * @pool:       the shared-memory pool, or NULL.
 * @mode:       permission bits.
 * @uid:        owner (creator's euid, or as SETATTR set it).
 * @gid:        group (creator's egid, or as SETATTR set it).  These three
 *              are written under @lock (SETATTR) and read under it
 *              where they must agree (open's and delete's checks, STAT,
 *              /proc/kport: kport_perm_get(), kport_port_attrs()).
 * @capacity:   0, n, or KPORT_CAPACITY_UNBOUNDED.
 * @msg_size:   largest (or, fixed, exact) message size.
 * @owner:      the user charged for this port's existence.
 * @handles:    open handles.
 * @lock:       protects the members below it.
 * @dead:       deleted: no sends, no receives, no waits.
 * @attr_seq:   how many times SETATTR changed @mode, @uid or @gid: an open
 *              that decided before a change decides again (port.c).
 * @prio_map:   bit p set when @queue[p] is not empty.
 * @queue:      queued messages, one FIFO list per priority.
 * @nr_msgs:    messages in @queue.
 * @bytes:      payload bytes in @queue.
 * @senders:    blocked senders, FIFO.
 * @receivers:  blocked receivers, FIFO.
 * @nr_senders: length of @senders.
 * @nr_receivers: length of @receivers.
 * @sent:       messages accepted since creation.
 * @received:   messages delivered since creation.
 * @poll_wq:    pollers; woken after @lock is dropped.
 * @stash_lock: protects the members below it.
 * @stash:      freed small messages kept for the next sends, a stack
 *              linked through ->stash_next.
 * @nr_stash:   length of @stash.
 * @stash_max:  what @nr_stash may reach (set at creation).
 */
struct kport_port {
	refcount_t ref;
	struct kport_inst *inst;
	u64 id;
	char name[KPORT_NAME_MAX];
	struct hlist_node hnode;
	struct list_head all_node;
	bool linked;
	bool published;
	bool counted;
	bool deleted;
	struct pid *inbox_pid;
	struct pid *owner_pid;
	u64 owner_exec;

	u64 flags;
	struct kport_pool *pool;
	umode_t mode;
	kuid_t uid;
	kgid_t gid;
	u32 capacity;
	u32 msg_size;
	struct kport_user *owner;
	atomic_t handles;
	atomic_t owner_handles;

	spinlock_t lock;	/* see the locking overview above */
	bool dead;
	unsigned long attr_seq;
	unsigned long prio_map;
	struct list_head queue[KPORT_PRIO_MAX];
	u32 nr_msgs;
	u64 bytes;
	struct list_head senders;
	struct list_head receivers;
	u32 nr_senders;
	u32 nr_receivers;
	u64 sent;
	u64 received;
	wait_queue_head_t poll_wq;

	spinlock_t stash_lock;	/* see msg.c, "Small messages" */
	struct kport_kmsg *stash;
	u32 nr_stash;
	u32 stash_max;
};

/**
 * struct kport_handle - what a port file descriptor refers to
 * @port:    holds a reference.
 * @user:    the opener's user, charged for messages sent through here.
 * @rights:  KPORT_RIGHT_*.
 * @opener:  the opener's identity, for write() (struct kport_ident); its
 *           pid holds a reference.
 * @creator: releasing this handle deletes a process-owned port.
 * @maps:    live mappings (VMAs) of the pool through this handle.
 * @lock:    protects @slices.
 * @slices:  pool messages this handle holds, by offset.
 */
struct kport_handle {
	struct kport_port *port;
	struct kport_user *user;
	u32 rights;
	struct kport_ident opener;
	bool creator;
	atomic_t maps;
	spinlock_t lock;	/* protects @slices */
	struct rb_root slices;
};

/**
 * kport_copy_arg() - copy an ioctl's struct in, however large it is
 * @karg:    kernel copy.
 * @ksize:   its size (a constant in every caller).
 * @minsize: the first published size (KPORT_*_SIZE_VER0).
 * @cmd:     the command, which encodes the caller's size.
 * @uarg:    user pointer.
 *
 * Inline, so that the usual case (the caller's struct is the one we know)
 * is a copy of constant size: the compiler checks its bounds, and the hot
 * path does not pay hardened usercopy's run-time object lookup for a
 * struct on our own stack.
 *
 * Context: process context.
 * Return: 0, -EINVAL (too small), -E2BIG (larger than a page, or a
 * non-zero tail the module does not know), -EFAULT.
 */
static __always_inline int kport_copy_arg(void *karg, size_t ksize,
					  size_t minsize, unsigned int cmd,
					  const void __user *uarg)
{
	size_t usize = _IOC_SIZE(cmd);

	if (usize == ksize)
		return copy_from_user(karg, uarg, ksize) ? -EFAULT : 0;
	if (usize < minsize)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, uarg, usize);
}

/*
 * A KPORT_MSG_DEADLINE (CLOCK_MONOTONIC as the caller's time namespace
 * reads it, in ns) as the kernel's clock reads it; absurdly late means
 * never.  What timens_ktime_to_host() does, which modules cannot call.
 */
static inline ktime_t kport_deadline_ktime(u64 ns)
{
	ktime_t kt = ns > KTIME_MAX ? KTIME_MAX : (ktime_t)ns;
#ifdef CONFIG_TIME_NS
	ktime_t off;

	off = timespec64_to_ktime(current->nsproxy->time_ns->offsets.monotonic);
	if (kt == KTIME_MAX || !off)
		return kt;
	if (kt < off)
		return 0;	/* before the namespace's clock began: past */
	if (off < 0 && kt > KTIME_MAX + off)
		return KTIME_MAX;
	kt -= off;
#endif
	return kt;
}

/*
 * Whether the reserved words @r[0..@n) are all zero: the one check of every
 * struct's __reserved array (a few words; on the hot path of some).
 */
static inline bool kport_reserved_zero(const __u64 *r, size_t n)
{
	__u64 any = 0;

	while (n--)
		any |= *r++;
	return !any;
}

/* Whether a message operation must not wait: its flag, or the file's. */
static inline bool kport_nonblock(struct file *file, u64 flags)
{
	return (flags & KPORT_MSG_NONBLOCK) || (file->f_flags & O_NONBLOCK);
}

/*
 * The deadline a struct's flags and deadline_ns give (KPORT_MSG_DEADLINE),
 * as the kernel's clock reads it, in *@kt; NULL if it has none.  For every
 * struct with a deadline: messages, batches, slices.
 */
static inline const ktime_t *kport_deadline_of(u64 flags, u64 deadline_ns,
					       ktime_t *kt)
{
	if (!(flags & KPORT_MSG_DEADLINE))
		return NULL;
	*kt = kport_deadline_ktime(deadline_ns);
	return kt;
}

/* A message's deadline, if it has one. */
static inline const ktime_t *kport_deadline(const struct kport_msg *m,
					    ktime_t *kt)
{
	return kport_deadline_of(m->flags, m->deadline_ns, kt);
}

/* Whether @deadline (NULL: none) has passed. */
static inline bool kport_deadline_passed(const ktime_t *deadline)
{
	return deadline && !ktime_before(ktime_get(), *deadline);
}

/*
 * Sleep, the task state already set, until woken or @deadline (NULL:
 * none) passes: the one sleep of every wait (queue.c, pool.c).
 */
static inline void kport_sleep_until(const ktime_t *deadline)
{
	ktime_t expires;

	if (!deadline) {
		schedule();
		return;
	}
	expires = *deadline;
	schedule_hrtimeout_range(&expires, 0, HRTIMER_MODE_ABS);
}

/* Where the payload is: inline, or in the port's pool. */
static inline const void *kport_msg_payload(const struct kport_kmsg *msg)
{
	return msg->pool ? msg->pool->vaddr + msg->offset : msg->data;
}

/*
 * The check of a struct's flags every ioctl makes: none outside @allowed,
 * and no deadline_ns without KPORT_MSG_DEADLINE.  Reserved words are the
 * caller's to check (kport_reserved_zero()): each struct has its own.
 */
static inline int kport_flags_check(u64 flags, u64 allowed, u64 deadline_ns)
{
	if (flags & ~allowed)
		return -EINVAL;
	if (!(flags & KPORT_MSG_DEADLINE) && deadline_ns)
		return -EINVAL;
	return 0;
}

/* The checks every struct kport_msg gets: kport_flags_check(), reserved 0. */
static inline int kport_msg_check_common(const struct kport_msg *m, u64 allowed)
{
	if (m->__reserved32 || m->__reserved)
		return -EINVAL;
	return kport_flags_check(m->flags, allowed, m->deadline_ns);
}

/*
 * The caller as a message sender (see struct kport_ident): what an
 * ioctl's message says it is from, and what a handle records of its
 * opener.  @id->pid is not referenced.
 */
static inline void kport_ident_current(struct kport_ident *id)
{
	id->pid = task_tgid(current);
	id->exec = READ_ONCE(current->self_exec_id);
	id->uid = current_euid();
}

/*
 * The sender's ids as the receiver sees them, remembered across the
 * messages of one batch: a batch usually comes from one sender, and
 * translating a pid and a uid into the receiver's namespaces is a good
 * part of what a small message costs.  @pid holds a reference, so that
 * the struct cannot be freed and reused for another process meanwhile.
 */
struct kport_sender_ids {
	struct pid *pid;
	u64 exec;
	pid_t nr;
	kuid_t kuid;
	uid_t uid;
};

/*
 * Tracing (trace.h): the numbers the events' how, what, op and limit
 * fields carry.
 */
enum kport_trace_send {		/* kport_send: how */
	KPORT_SENT_QUEUED,	/* into the queue */
	KPORT_SENT_HANDOFF,	/* to a waiting receiver, or taken by one */
	KPORT_SENT_WAITED,	/* after the sender waited */
	KPORT_SENT_REFUSED,	/* not sent: see err */
	KPORT_SENT_ABANDONED,	/* killed while a receiver copies it out */
};

enum kport_trace_wait {		/* kport_wait_*: what */
	KPORT_WAIT_FOR_SEND,	/* room, or a rendezvous receiver */
	KPORT_WAIT_FOR_RECV,	/* a message */
	KPORT_WAIT_FOR_POOL,	/* room in the pool */
};

enum kport_trace_wait_end {	/* kport_wait_end: how */
	KPORT_WOKEN,
	KPORT_TIMED_OUT,
	KPORT_INTERRUPTED,
	KPORT_DELETED,
};

enum kport_trace_pool_op {	/* kport_pool: op */
	KPORT_POOL_BORROW,
	KPORT_POOL_POST,
	KPORT_POOL_RELEASE,
};

enum kport_trace_limit {	/* kport_quota: limit */
	KPORT_LIMIT_USER_BYTES,
	KPORT_LIMIT_USER_POOL_BYTES,
	KPORT_LIMIT_PORTS,
	KPORT_LIMIT_PORTS_PER_USER,
};

/* limits.c */
extern unsigned int kport_max_ports;
extern unsigned int kport_max_ports_per_user;
extern unsigned int kport_max_msg_size;
extern unsigned int kport_max_capacity;
extern unsigned long kport_max_user_bytes;
extern unsigned long kport_max_pool_size;
extern unsigned int kport_pool_threshold;
extern unsigned long kport_max_user_pool_bytes;

struct kport_user *kport_user_get(const struct cred *cred);
void kport_user_put(struct kport_user *user);
int kport_user_charge(struct kport_user *user, size_t bytes);
void kport_user_uncharge(struct kport_user *user, size_t bytes);
int kport_user_charge_pool(struct kport_user *user, size_t bytes);
void kport_user_uncharge_pool(struct kport_user *user, size_t bytes);
struct kport_user *kport_user_ports_full(struct kport_user *user,
					 unsigned int max);
void kport_user_count_port(struct kport_user *user, int delta);

/* inst.c */
extern struct mutex kport_table_lock;
extern struct kport_inst kport_init_inst;
void kport_insts_init(void);
struct kport_inst *kport_inst_get(bool create);
void kport_inst_put(struct kport_inst *inst);
void kport_insts_destroy(void);

/* port.c */
int kport_port_create(const struct kport_create *args);
int kport_port_open(const struct kport_open *args);
int kport_port_unlink(const struct kport_unlink *args);
void kport_port_put(struct kport_port *port);
int kport_port_delete(struct kport_port *port);
bool kport_may_delete(struct kport_port *port, struct file *file);
long kport_port_setattr(struct kport_port *port, struct file *file,
			const struct kport_setattr *sa);
void kport_port_attrs(struct kport_port *port, u32 *mode, u32 *uid, u32 *gid,
		      struct user_namespace *ns);
void kport_owner_handle_get(struct kport_port *port);
void kport_owner_handle_put(struct kport_port *port);
struct pid *kport_get_tgid(pid_t nr);
pid_t kport_pid_nr(struct pid *pid, u64 exec);
void kport_inst_delete_ports(struct kport_inst *inst);

/* handle.c */
int kport_new_handle(struct kport_port *port, u32 rights, bool creator,
		     bool nonblock, struct file **filep);
extern const struct file_operations kport_port_fops;

/* send.c */
int kport_send_desc_check(const struct kport_msg *m);
struct kport_kmsg *kport_send_prepare(struct kport_handle *h,
				      const struct kport_ident *from,
				      const void __user *buf, u32 len,
				      u32 prio, bool nonblock,
				      const ktime_t *deadline);
int kport_send_copy(struct file *file, const struct kport_ident *from,
		    const void __user *buf, u32 len, u32 prio, bool nonblock,
		    const ktime_t *deadline);
long kport_send_one(struct file *file, const struct kport_msg *m,
		    bool nonblock, const ktime_t *deadline);
long kport_ioctl_send(struct file *file, void *arg, void __user *uarg);

/* recv.c */
void kport_sender_ids_fill(struct kport_sender_ids *ids,
			   const struct kport_kmsg *msg, struct kport_msg *m);
long kport_recv_one(struct file *file, struct kport_msg *m, void __user *uarg,
		    bool nonblock, const ktime_t *deadline,
		    struct kport_sender_ids *ids);
long kport_ioctl_recv(struct file *file, void *arg, void __user *uarg);

/* sendrecv.c */
long kport_ioctl_sendrecv(struct file *file, void *arg, void __user *uarg);

/* batch.c */
long kport_ioctl_sendv(struct file *file, void *arg, void __user *uarg);
long kport_ioctl_recvv(struct file *file, void *arg, void __user *uarg);

/* msg.c */
int kport_msg_cache_init(void);
void kport_msg_cache_exit(void);
void kport_stash_init(struct kport_port *port, u32 capacity);
void kport_stash_drain(struct kport_port *port);
struct kport_kmsg *kport_msg_alloc(struct kport_port *port,
				   struct kport_user *user,
				   const struct kport_ident *from, u32 len,
				   u32 prio);
void kport_msg_free(struct kport_port *port, struct kport_kmsg *msg);

/* queue.c */
void kport_queue_init(struct kport_port *port, u32 capacity);
int kport_queue_send(struct kport_port *port, struct kport_kmsg *msg,
		     bool nonblock, const ktime_t *deadline);
struct kport_kmsg *kport_queue_recv(struct kport_port *port, struct pid *from,
				    u32 bufsize, bool inplace, bool nonblock,
				    const ktime_t *deadline, u32 *needed);
void kport_queue_delivered(struct kport_port *port, struct kport_kmsg *msg);
void kport_queue_consumed(struct kport_port *port, struct kport_kmsg *msg);
void kport_queue_putback(struct kport_port *port, struct kport_kmsg *msg);
int kport_queue_send_many(struct kport_port *port, struct kport_kmsg **msgs,
			  int n);
int kport_queue_recv_many(struct kport_port *port, const u32 *bufsize,
			  struct kport_kmsg **msgs, int n, u32 *needed);
void kport_queue_putback_many(struct kport_port *port,
			      struct kport_kmsg **msgs, int n);
int kport_queue_kill(struct kport_port *port);
void kport_queue_purge(struct kport_port *port);
__poll_t kport_queue_poll_mask(struct kport_port *port);
void kport_queue_stat(struct kport_port *port, struct kport_stat *st);

/* pool.c */
int kport_pool_create(struct kport_port *port, size_t size, bool zerocopy,
		      struct kport_user *user);
void kport_pool_destroy(struct kport_pool *pool);
int kport_pool_attach(struct kport_port *port, struct kport_kmsg *msg,
		      u32 len, bool nonblock, const ktime_t *deadline);
void kport_pool_detach(struct kport_kmsg *msg);
void kport_pool_wake(struct kport_pool *pool);
void kport_pool_stat(struct kport_pool *pool, struct kport_stat *st);
void kport_handle_init_slices(struct kport_handle *h);
int kport_handle_hold(struct kport_handle *h, struct kport_kmsg *msg);
long kport_pool_post(struct file *file, const struct kport_msg *m,
		     bool nonblock, const ktime_t *deadline);
void kport_handle_release_all(struct kport_handle *h);
long kport_ioctl_borrow(struct file *file, void *arg, void __user *uarg);
long kport_ioctl_release(struct file *file, void *arg, void __user *uarg);
int kport_port_mmap(struct file *file, struct vm_area_struct *vma);

/* procfs.c */
int kport_procfs_init(void);
void kport_procfs_exit(void);
void kport_handle_show_fdinfo(struct seq_file *m, struct file *file);

#endif /* KPORT_INTERNAL_H */
