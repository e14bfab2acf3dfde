// SPDX-License-Identifier: GPL-2.0
/*
 * kport ports: the tables of names and inboxes, creation, opening,
 * permissions, unlinking and deletion, and who a pid is (kport_pid_nr()).
 * A port's handles are in handle.c, its messages in queue.c.
 *
 * Names and inboxes are those of the caller's instance (inst.c): its IPC
 * namespace's.  A port stays in the instance it was created in.
 *
 * Locking: kport_table_lock (mutex, inst.c) protects every instance's
 * name and inbox hashes and list of ports, the port count, users' port
 * counts, and each port's ->linked and ->published.  It nests outside
 * port->lock.  The last reference to a port is dropped under it
 * (kport_port_put()) so that a port leaves its instance's list in the
 * same critical section in which its count reaches zero.
 *
 * Credentials: create, open and unlink are like open(2): they check the
 * caller's current credentials.  Everything done later through a handle
 * (send, receive, delete) uses the credentials the handle was opened with
 * (file->f_cred), so a handle passed to another process keeps exactly the
 * power it was opened with, no more, no less.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include <linux/user_namespace.h>

#include "kport.h"
#include "trace.h"

/* Ids are unique across instances: fdinfo and tracepoints name ports by them. */
static u64 kport_next_id = 1;

/*
 * A name is 1..KPORT_NAME_MAX-1 printable ASCII characters other than '/'
 * and space, NUL-terminated, with only zeroes after the NUL, so that the
 * 64 bytes compare equal exactly when the names do and /proc/kport can
 * print names without escaping; and not "-", /proc/kport's name for an
 * anonymous port.  Return: its length (0: anonymous), or -EINVAL.
 */
static int kport_name_check(const char *name)
{
	int len, i;

	len = strnlen(name, KPORT_NAME_MAX);
	if (len == KPORT_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (name[i] <= ' ' || name[i] > '~' || name[i] == '/')
			return -EINVAL;
	}
	if (memchr_inv(name + len, 0, KPORT_NAME_MAX - len))
		return -EINVAL;
	if (len == 1 && name[0] == '-')
		return -EINVAL;
	return len;
}

static u32 kport_name_hash(const char *name)
{
	return full_name_hash(NULL, name, strlen(name));
}

static struct kport_port *kport_find_name_locked(struct kport_inst *inst,
						 const char *name)
{
	struct kport_port *port;

	lockdep_assert_held(&kport_table_lock);
	hash_for_each_possible(inst->names, port, hnode, kport_name_hash(name)) {
		if (!strcmp(port->name, name))
			return port;
	}
	return NULL;
}

/*
 * Whether thread group @pid is alive and still runs the program it ran
 * when its self_exec_id was @exec: an exec makes it another program.
 */
static bool kport_same_program(struct pid *pid, u64 exec)
{
	struct task_struct *task;
	bool same;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_TGID);
	same = task && READ_ONCE(task->self_exec_id) == exec;
	rcu_read_unlock();
	return same;
}

/*
 * Whether @port's owner still runs the program that created the inbox.
 * An exec ends that program: the pid then names a new one, which must not
 * be reachable through (nor be refused an inbox because of) an inbox the
 * old image left behind, say in a child that kept the creating handle.
 */
static bool kport_inbox_current(const struct kport_port *port)
{
	return kport_same_program(port->inbox_pid, port->owner_exec);
}

static bool kport_unlink_locked(struct kport_port *port);

/*
 * The inbox of @pid in @inst.  One its owner's exec left behind is unlinked (it
 * lives on for those holding it, unreachable by pid) and returned in
 * *@stale, whose table reference the caller drops once it has let go of
 * kport_table_lock.
 */
static struct kport_port *kport_find_inbox_locked(struct kport_inst *inst,
						  struct pid *pid,
						  struct kport_port **stale)
{
	struct kport_port *port;

	lockdep_assert_held(&kport_table_lock);
	*stale = NULL;
	hash_for_each_possible(inst->inboxes, port, hnode, hash_ptr(pid, 32)) {
		if (port->inbox_pid != pid)
			continue;
		if (kport_inbox_current(port))
			return port;
		kport_unlink_locked(port);
		*stale = port;
		return NULL;
	}
	return NULL;
}

/**
 * kport_get_tgid() - the process a pid names, in the caller's namespace
 * @nr: a process or thread id; a thread id names its process.
 *
 * Return: its thread group, referenced, or NULL.
 */
struct pid *kport_get_tgid(pid_t nr)
{
	struct task_struct *task;
	struct pid *pid = NULL;

	rcu_read_lock();
	task = pid_task(find_vpid(nr), PIDTYPE_PID);
	if (task)
		pid = get_pid(task_tgid(task));
	rcu_read_unlock();
	return pid;
}

/*
 * Who may open a port: what SETATTR changes (under port->lock), and
 * which change of it this is (->attr_seq).
 */
struct kport_perm {
	umode_t mode;
	kuid_t uid;
	kgid_t gid;
	unsigned long seq;
};

static void kport_perm_get(struct kport_port *port, struct kport_perm *perm)
{
	spin_lock(&port->lock);
	perm->mode = port->mode;
	perm->uid = port->uid;
	perm->gid = port->gid;
	perm->seq = port->attr_seq;
	spin_unlock(&port->lock);
}

static void kport_port_free(struct kport_port *port)
{
	kport_queue_purge(port);
	if (port->pool)
		kport_pool_destroy(port->pool);
	put_pid(port->inbox_pid);
	put_pid(port->owner_pid);
	kport_user_put(port->owner);
	kport_inst_put(port->inst);
	kfree(port);
}

/**
 * kport_port_put() - drop a reference to a port
 * @port: the port.
 *
 * The last reference is dropped under kport_table_lock so that the port
 * leaves the list of all ports before anyone else can see a zero count.
 *
 * Context: process context; may take kport_table_lock.
 */
void kport_port_put(struct kport_port *port)
{
	if (!refcount_dec_and_mutex_lock(&port->ref, &kport_table_lock))
		return;
	if (port->published) {
		list_del(&port->all_node);
		port->inst->nr_ports--;
	}
	if (port->counted)
		kport_user_count_port(port->owner, -1);
	mutex_unlock(&kport_table_lock);
	kport_port_free(port);
}

/*
 * A deleted port stops counting against its owner's max_ports_per_user
 * once the owner holds no handle to it: another user who keeps a handle
 * keeps its memory but must not keep the owner from making new ports, and
 * the owner must not escape its own limit by keeping handles to ports it
 * deleted (it would fill max_ports, which every user shares).  Called at
 * deletion and when an owner's handle goes; the port counts against
 * max_ports until freed.
 */
static void kport_uncount_locked(struct kport_port *port)
{
	lockdep_assert_held(&kport_table_lock);
	if (port->counted && port->deleted &&
	    !atomic_read(&port->owner_handles)) {
		kport_user_count_port(port->owner, -1);
		port->counted = false;
	}
}

/**
 * kport_owner_handle_get() - one handle of the owner's more
 * @port: the port.
 *
 * Under kport_table_lock, so that it is
 * ordered with kport_uncount_locked(): an OPEN may find the port just
 * before its deletion and make its handle just after, when the port no
 * longer counts against its owner (CREATE makes its handle before it
 * publishes the port, so only OPEN can).
 * The owner then holds a handle again, so the port counts again (even past
 * max_ports_per_user: that only refuses new ports), which keeps the rule
 * "counted while not deleted or while the owner holds a handle".
 *
 * Context: process context; takes kport_table_lock.
 */
void kport_owner_handle_get(struct kport_port *port)
{
	mutex_lock(&kport_table_lock);
	atomic_inc(&port->owner_handles);
	if (port->deleted && !port->counted && port->published) {
		kport_user_count_port(port->owner, 1);
		port->counted = true;
	}
	mutex_unlock(&kport_table_lock);
}

/**
 * kport_owner_handle_put() - one handle of the owner's fewer
 * @port: the port.
 *
 * The last one lets a deleted port stop counting against its owner (see
 * kport_uncount_locked()); ordered with kport_port_delete()'s look by
 * kport_table_lock.
 *
 * Context: process context; may take kport_table_lock.
 */
void kport_owner_handle_put(struct kport_port *port)
{
	if (!atomic_dec_and_test(&port->owner_handles))
		return;
	mutex_lock(&kport_table_lock);
	kport_uncount_locked(port);
	mutex_unlock(&kport_table_lock);
}

/* Take @port out of its table; the table's reference becomes the caller's. */
static bool kport_unlink_locked(struct kport_port *port)
{
	lockdep_assert_held(&kport_table_lock);
	if (!port->linked)
		return false;
	hash_del(&port->hnode);
	port->linked = false;
	return true;
}

/*
 * The table's part of deleting @port: unlink it for good and let go of
 * its owner's count if it may (kport_uncount_locked()).  Return: whether
 * the table's reference is now the caller's.
 */
static bool kport_delete_locked(struct kport_port *port)
{
	bool had_table_ref = kport_unlink_locked(port);

	port->deleted = true;
	kport_uncount_locked(port);
	return had_table_ref;
}

/**
 * kport_port_delete() - delete a port
 * @port: the port.
 *
 * Unlink its name at once (it may be reused), then let everyone waiting
 * on it go (-EIDRM).
 *
 * Context: process context; takes kport_table_lock, then port->lock.
 * Return: 0, or -EIDRM if already deleted.
 */
int kport_port_delete(struct kport_port *port)
{
	bool had_table_ref;
	int ret;

	mutex_lock(&kport_table_lock);
	had_table_ref = kport_delete_locked(port);
	mutex_unlock(&kport_table_lock);
	ret = kport_queue_kill(port);
	if (had_table_ref)
		kport_port_put(port);
	return ret;
}

/**
 * kport_may_delete() - whether a port may be deleted
 * @port: the port.
 * @file: the handle it is deleted through, or NULL (by name).
 *
 * The owner (effective uid) of the port, or CAP_IPC_OWNER in the user
 * namespace that owns the port's instance, may delete it: checked with
 * the credentials of @file when deleting through a handle, with the
 * caller's when deleting by name.
 */
bool kport_may_delete(struct kport_port *port, struct file *file)
{
	struct user_namespace *ns = port->inst->user_ns;
	struct kport_perm perm;

	kport_perm_get(port, &perm);
	if (file)
		return uid_eq(file->f_cred->euid, perm.uid) ||
		       file_ns_capable(file, ns, CAP_IPC_OWNER);
	return uid_eq(current_euid(), perm.uid) || ns_capable(ns, CAP_IPC_OWNER);
}

/* Whether @cred has @gid as its effective or a supplementary group. */
static bool kport_cred_in_group(const struct cred *cred, kgid_t gid)
{
	const struct group_info *gi = cred->group_info;
	int i;

	if (gid_eq(cred->egid, gid))
		return true;
	for (i = 0; gi && i < gi->ngroups; i++)
		if (gid_eq(gi->gid[i], gid))
			return true;
	return false;
}

/* The checks of kport_port_setattr() that need no lock: 0 or -EINVAL. */
static int kport_setattr_check(const struct kport_setattr *sa,
			       struct user_namespace *from,
			       struct user_namespace *to, kuid_t *uid,
			       kgid_t *gid)
{
	if (!sa->flags || (sa->flags & ~KPORT_SETATTR_FLAGS) ||
	    sa->__reserved32 ||
	    !kport_reserved_zero(sa->__reserved, ARRAY_SIZE(sa->__reserved)))
		return -EINVAL;
	/* A field not asked for must be 0, so that a typo cannot hide. */
	if (sa->flags & KPORT_SETATTR_MODE ? sa->mode & ~0777 : sa->mode)
		return -EINVAL;
	if (sa->flags & KPORT_SETATTR_UID) {
		*uid = make_kuid(from, sa->uid);
		if (!uid_valid(*uid) || !kuid_has_mapping(to, *uid))
			return -EINVAL;
	} else if (sa->uid) {
		return -EINVAL;
	}
	if (sa->flags & KPORT_SETATTR_GID) {
		*gid = make_kgid(from, sa->gid);
		if (!gid_valid(*gid) || !kgid_has_mapping(to, *gid))
			return -EINVAL;
	} else if (sa->gid) {
		return -EINVAL;
	}
	return 0;
}

/*
 * A capability in @ns: of @file's opener, or, @file NULL, of the caller
 * (the module cannot ask about any other credentials).
 */
static bool kport_capable(struct file *file, struct user_namespace *ns, int cap)
{
	return file ? file_ns_capable(file, ns, cap) : ns_capable(ns, cap);
}

/*
 * Whether the handle's opener (@file), or the caller (@file NULL), may
 * make the change @sa asks for, the port being @cur.
 */
static bool kport_may_setattr(struct file *file, struct user_namespace *ns,
			      const struct kport_setattr *sa,
			      const struct kport_perm *cur, kuid_t uid,
			      kgid_t gid)
{
	const struct cred *cred = file ? file->f_cred : current_cred();
	bool owner = uid_eq(cred->euid, cur->uid);

	if ((sa->flags & KPORT_SETATTR_MODE) && !owner &&
	    !kport_capable(file, ns, CAP_FOWNER))
		return false;
	/* The owner may "change" the owner to itself; anything else: CAP_CHOWN. */
	if ((sa->flags & KPORT_SETATTR_UID) &&
	    !(owner && uid_eq(uid, cur->uid)) &&
	    !kport_capable(file, ns, CAP_CHOWN))
		return false;
	if ((sa->flags & KPORT_SETATTR_GID) &&
	    !(owner && (gid_eq(gid, cur->gid) || kport_cred_in_group(cred, gid))) &&
	    !kport_capable(file, ns, CAP_CHOWN))
		return false;
	return true;
}

/**
 * kport_port_setattr() - KPORT_IOC_SETATTR: change owner, group or mode
 * @port: the port.
 * @file: the handle: its opener's credentials and the caller's decide.
 * @sa:   the request, copied from userspace.
 *
 * As chmod(2) and chown(2) decide for a file, with the capabilities of
 * the user namespace that owns the port's instance, for both the
 * handle's opener and the caller.  The decision is made
 * on one moment's owner, group and mode, and the change is made only if
 * they are still those (else decided again): a concurrent SETATTR cannot
 * slip a change past a check made on what it replaced.
 *
 * Context: process context; takes port->lock.
 * Return: 0, -EINVAL, -EPERM, -EIDRM, or -ERESTARTSYS on a signal while
 * deciding (nothing changed: the call restarts, or fails with EINTR).
 */
long kport_port_setattr(struct kport_port *port, struct file *file,
			const struct kport_setattr *sa)
{
	struct user_namespace *ns = port->inst->user_ns;
	kuid_t uid = INVALID_UID;
	kgid_t gid = INVALID_GID;
	struct kport_perm cur;
	int ret;

	/* The ids as the caller numbers them, as fchown(2) reads them. */
	ret = kport_setattr_check(sa, current_user_ns(), ns, &uid, &gid);
	if (ret)
		return ret;
again:
	kport_perm_get(port, &cur);
	/*
	 * Both the handle's opener and the caller must be allowed: the
	 * handle alone must not carry its opener's power over the port to
	 * whoever holds it (a send-only handle of the owner's would let a
	 * stranger open the port to itself), nor may a caller use a handle
	 * opened by someone less privileged to act as itself.
	 */
	if (!kport_may_setattr(file, ns, sa, &cur, uid, gid) ||
	    !kport_may_setattr(NULL, ns, sa, &cur, uid, gid))
		return -EPERM;

	spin_lock(&port->lock);
	if (port->dead) {
		spin_unlock(&port->lock);
		return -EIDRM;
	}
	if (port->mode != cur.mode || !uid_eq(port->uid, cur.uid) ||
	    !gid_eq(port->gid, cur.gid)) {
		spin_unlock(&port->lock);
		/*
		 * Changed meanwhile: decide again, but not forever.  Nothing
		 * is done yet, so the call may be restarted after a signal.
		 */
		if (signal_pending(current))
			return -ERESTARTSYS;
		cond_resched();
		goto again;
	}
	if (sa->flags & KPORT_SETATTR_MODE)
		port->mode = sa->mode;
	if (sa->flags & KPORT_SETATTR_UID)
		port->uid = uid;
	if (sa->flags & KPORT_SETATTR_GID)
		port->gid = gid;
	port->attr_seq++;
	spin_unlock(&port->lock);
	return 0;
}

/**
 * kport_port_attrs() - a port's mode, owner and group, one moment's
 * @port: the port.
 * @mode: out.
 * @uid:  out: the owner, as @ns numbers it (the overflow id if it does not).
 * @gid:  out: the group, likewise.
 * @ns:   whose numbers.
 *
 * Context: takes port->lock.
 */
void kport_port_attrs(struct kport_port *port, u32 *mode, u32 *uid, u32 *gid,
		      struct user_namespace *ns)
{
	struct kport_perm perm;

	kport_perm_get(port, &perm);
	*mode = perm.mode;
	*uid = from_kuid_munged(ns, perm.uid);
	*gid = from_kgid_munged(ns, perm.gid);
}

/*
 * Open-time check of @rights against the port's mode, with the caller's
 * credentials: owner bits when its euid owns the port, group bits when it
 * is in the port's group, other bits otherwise; read grants receive,
 * write grants send.  A handle with no right (for stat and delete) needs
 * the caller to own the port or to have one of the two: it still pins the
 * port and shows its counters, so a stranger gets none.  CAP_IPC_OWNER
 * in the user namespace that owns the port's instance overrides, as for
 * SysV IPC.
 */
static int kport_may_open(struct kport_port *port, u32 rights,
			  const struct kport_perm *perm)
{
	umode_t granted, need = 0;
	bool owner;

	owner = uid_eq(current_euid(), perm->uid);
	granted = perm->mode;

	if (rights & KPORT_RIGHT_SEND)
		need |= 02;
	if (rights & KPORT_RIGHT_RECV)
		need |= 04;
	if (owner)
		granted >>= 6;
	else if (in_egroup_p(perm->gid))
		granted >>= 3;
	if (need ? (need & ~granted & 07) == 0 : owner || (granted & 06))
		return 0;
	if (ns_capable(port->inst->user_ns, CAP_IPC_OWNER))
		return 0;
	return -EACCES;
}

/**
 * kport_pid_nr() - a sender's pid as the caller's pid namespace numbers it
 * @pid:  the sender's thread group.
 * @exec: its self_exec_id when it sent (see struct kport_ident).
 *
 * Return: the number, or 0 if it no longer names the program that sent:
 * the process has exec'd since, or is gone and its number names another.
 */
pid_t kport_pid_nr(struct pid *pid, u64 exec)
{
	pid_t nr = pid_vnr(pid);
	struct pid *now;

	if (!nr || kport_same_program(pid, exec))
		return nr;
	if (pid_has_task(pid, PIDTYPE_TGID))
		return 0;	/* exec'd */
	/* Gone: its number says who sent only while nobody else has it. */
	rcu_read_lock();
	now = find_vpid(nr);
	rcu_read_unlock();
	return now && now != pid ? 0 : nr;
}

/*
 * Make the port visible in its instance: count it against the limits,
 * give it an id, and link its name or inbox.  Takes a reference for the
 * table.  An instance the reaper let go of meanwhile cannot be published
 * in (-EAGAIN): its namespace has nobody left to see the port.
 */
static int kport_publish(struct kport_port *port)
{
	struct kport_inst *inst = port->inst;
	struct kport_port *other, *stale = NULL;
	struct kport_user *full;
	int ret = -EAGAIN;

	mutex_lock(&kport_table_lock);
	if (inst != &kport_init_inst && !inst->hashed)
		goto out_unlock;
	ret = -ENOSPC;
	/* Per instance, as POSIX mq's queues_max is per IPC namespace. */
	if (inst->nr_ports >= READ_ONCE(kport_max_ports)) {
		trace_kport_quota(port->owner->uid, KPORT_LIMIT_PORTS,
				  inst->nr_ports + 1,
				  READ_ONCE(kport_max_ports));
		goto out_unlock;
	}
	/* Its owner's, and that of every user namespace's creator above. */
	full = kport_user_ports_full(port->owner,
				     READ_ONCE(kport_max_ports_per_user));
	if (full) {
		trace_kport_quota(full->uid, KPORT_LIMIT_PORTS_PER_USER,
				  full->nr_ports + 1,
				  READ_ONCE(kport_max_ports_per_user));
		goto out_unlock;
	}
	ret = -EEXIST;
	if (port->inbox_pid) {
		other = kport_find_inbox_locked(inst, port->inbox_pid, &stale);
		if (other)
			goto out_unlock;
		hash_add(inst->inboxes, &port->hnode,
			 hash_ptr(port->inbox_pid, 32));
		port->linked = true;
	} else if (port->name[0]) {
		other = kport_find_name_locked(inst, port->name);
		if (other)
			goto out_unlock;
		hash_add(inst->names, &port->hnode,
			 kport_name_hash(port->name));
		port->linked = true;
	}
	if (port->linked)
		refcount_inc(&port->ref);
	port->id = kport_next_id++;
	port->published = true;
	list_add_tail(&port->all_node, &inst->ports);
	inst->nr_ports++;
	kport_user_count_port(port->owner, 1);
	port->counted = true;
	/* Under the table lock: nobody can open, send to or delete it first. */
	trace_kport_port_create(port->id, port->name, port->flags,
				port->capacity, port->msg_size,
				port->pool ? port->pool->size : 0);
	ret = 0;
out_unlock:
	mutex_unlock(&kport_table_lock);
	if (stale)
		kport_port_put(stale);
	return ret;
}

static int kport_create_check(const struct kport_create *args)
{
	u64 flags = args->flags;
	int name_len;

	if (flags & ~KPORT_CREATE_FLAGS)
		return -EINVAL;
	if (!kport_reserved_zero(args->__reserved,
				 ARRAY_SIZE(args->__reserved)))
		return -EINVAL;
	if (args->mode & ~0777)
		return -EINVAL;
	if (!args->rights || args->rights & ~KPORT_RIGHTS_ALL)
		return -EINVAL;
	if (args->pool_size) {
		/* Pool messages take no kernel memory: the pool bounds them. */
		if (!PAGE_ALIGNED(args->pool_size) ||
		    args->pool_size > READ_ONCE(kport_max_pool_size) ||
		    !args->msg_size || args->msg_size > args->pool_size)
			return -EINVAL;
	} else {
		if (flags & KPORT_CREATE_ZEROCOPY)
			return -EINVAL;
		if (!args->msg_size ||
		    args->msg_size > READ_ONCE(kport_max_msg_size))
			return -EINVAL;
	}
	if (args->capacity != KPORT_CAPACITY_UNBOUNDED &&
	    args->capacity > READ_ONCE(kport_max_capacity))
		return -EINVAL;
	name_len = kport_name_check(args->name);
	if (name_len < 0)
		return name_len;
	if ((flags & KPORT_CREATE_INBOX) && name_len)
		return -EINVAL;
	return 0;
}

/**
 * kport_port_create() - KPORT_IOC_CREATE
 * @args: the request, copied from userspace.
 *
 * Everything that can fail is done before the port is published (and so
 * visible by name): the fd is reserved and the handle made first, as
 * eventfd does, and fd_install() comes last.  If publishing fails,
 * dropping the handle frees the port, which nobody else could reach.
 *
 * Context: process context.
 * Return: the new fd, or -errno.
 */
int kport_port_create(const struct kport_create *args)
{
	struct kport_inst *inst;
	bool process_owned;
	struct kport_port *port;
	struct file *file;
	int fd, ret;

	ret = kport_create_check(args);
	if (ret)
		return ret;
	process_owned = args->flags & (KPORT_CREATE_PROCESS | KPORT_CREATE_INBOX);

	inst = kport_inst_get(true);
	if (IS_ERR(inst))
		return PTR_ERR(inst);
	/*
	 * The port's owner and group must mean something where the port
	 * lives, as a file's must (-EOVERFLOW, as may_o_create() gives).
	 */
	if (!kuid_has_mapping(inst->user_ns, current_euid()) ||
	    !kgid_has_mapping(inst->user_ns, current_egid())) {
		kport_inst_put(inst);
		return -EOVERFLOW;
	}
	port = kzalloc(sizeof(*port), GFP_KERNEL_ACCOUNT);
	if (!port) {
		kport_inst_put(inst);
		return -ENOMEM;
	}
	port->owner = kport_user_get(current_cred());
	if (!port->owner) {
		kport_inst_put(inst);
		kfree(port);
		return -ENOMEM;
	}
	/* From here, freeing the port lets go of both. */
	port->inst = inst;
	refcount_set(&port->ref, 1);
	INIT_LIST_HEAD(&port->all_node);
	kport_queue_init(port, args->capacity);
	memcpy(port->name, args->name, KPORT_NAME_MAX);
	port->flags = args->flags & ~KPORT_CREATE_NONBLOCK;
	if (args->flags & KPORT_CREATE_INBOX)
		port->flags |= KPORT_CREATE_PROCESS;
	port->mode = args->mode;
	port->uid = current_euid();
	port->gid = current_egid();
	port->msg_size = args->msg_size;
	if (process_owned) {
		port->owner_pid = get_pid(task_tgid(current));
		port->owner_exec = READ_ONCE(current->self_exec_id);
	}
	if (args->flags & KPORT_CREATE_INBOX)
		port->inbox_pid = get_pid(task_tgid(current));
	if (args->pool_size) {
		ret = kport_pool_create(port, args->pool_size,
					args->flags & KPORT_CREATE_ZEROCOPY,
					port->owner);
		if (ret) {
			kport_port_put(port);
			return ret;
		}
	}

	fd = kport_new_handle(port, args->rights, process_owned,
			      args->flags & KPORT_CREATE_NONBLOCK, &file);
	if (fd < 0)
		return fd;
	/* From here the handle owns the port: releasing it frees the port. */
	ret = kport_publish(port);
	if (ret) {
		put_unused_fd(fd);
		fput(file);
		return ret;
	}
	fd_install(fd, file);
	return fd;
}

/**
 * kport_port_open() - KPORT_IOC_OPEN
 * @args: the request, copied from userspace.
 *
 * Context: process context.
 * Return: the new fd, or -errno.
 */
int kport_port_open(const struct kport_open *args)
{
	bool inbox = args->flags & KPORT_OPEN_INBOX;
	struct kport_port *port, *stale = NULL;
	struct kport_inst *inst;
	struct kport_perm perm;
	unsigned long seq;
	struct pid *pid = NULL;
	struct file *file;
	int name_len, fd, ret;

	if (args->flags & ~KPORT_OPEN_FLAGS)
		return -EINVAL;
	if (!kport_reserved_zero(args->__reserved,
				 ARRAY_SIZE(args->__reserved)))
		return -EINVAL;
	if (args->rights & ~KPORT_RIGHTS_ALL)
		return -EINVAL;
	name_len = kport_name_check(args->name);
	if (name_len < 0)
		return name_len;
	if (inbox ? name_len || args->pid <= 0 : !name_len || args->pid)
		return -EINVAL;

	if (inbox) {
		pid = kport_get_tgid(args->pid);
		if (!pid)
			return -ESRCH;
	}
	inst = kport_inst_get(false);
	if (IS_ERR(inst)) {
		put_pid(pid);
		return PTR_ERR(inst);
	}
	mutex_lock(&kport_table_lock);
	port = inbox ? kport_find_inbox_locked(inst, pid, &stale) :
		       kport_find_name_locked(inst, args->name);
	if (port)
		refcount_inc(&port->ref);
	mutex_unlock(&kport_table_lock);
	kport_inst_put(inst);
	if (stale)
		kport_port_put(stale);
	put_pid(pid);
	if (!port)
		return -ENOENT;

	kport_perm_get(port, &perm);
	ret = kport_may_open(port, args->rights, &perm);
	if (ret) {
		kport_port_put(port);
		return ret;
	}
	fd = kport_new_handle(port, args->rights, false,
			      args->flags & KPORT_OPEN_NONBLOCK, &file);
	if (fd < 0)
		return fd;
	/*
	 * A SETATTR that returned before the handle was counted (above)
	 * must not see it appear after: decide again on what it set.  One
	 * that returns after counted it in ->handles, as an open made
	 * before the change.
	 */
	seq = perm.seq;
	kport_perm_get(port, &perm);
	if (perm.seq != seq) {
		ret = kport_may_open(port, args->rights, &perm);
		if (ret) {
			put_unused_fd(fd);
			fput(file);
			return ret;
		}
	}
	fd_install(fd, file);
	return fd;
}

/**
 * kport_port_unlink() - KPORT_IOC_UNLINK: delete a port by name
 * @args: the request, copied from userspace.
 *
 * Context: process context.
 * Return: 0, -ENOENT or -EPERM.
 */
int kport_port_unlink(const struct kport_unlink *args)
{
	struct kport_inst *inst;
	struct kport_port *port;
	int name_len, ret = 0;

	if (args->flags ||
	    !kport_reserved_zero(args->__reserved,
				 ARRAY_SIZE(args->__reserved)))
		return -EINVAL;
	name_len = kport_name_check(args->name);
	if (name_len <= 0)
		return -EINVAL;

	inst = kport_inst_get(false);
	if (IS_ERR(inst))
		return PTR_ERR(inst);
	mutex_lock(&kport_table_lock);
	port = kport_find_name_locked(inst, args->name);
	if (!port)
		ret = -ENOENT;
	else if (!kport_may_delete(port, NULL))
		ret = -EPERM;
	else
		kport_delete_locked(port);
	mutex_unlock(&kport_table_lock);
	kport_inst_put(inst);
	if (ret)
		return ret;

	kport_queue_kill(port);
	kport_port_put(port);
	return 0;
}

/**
 * kport_inst_delete_ports() - delete every port of an instance
 * @inst: the instance, torn down (inst.c) or, at module exit, the
 *        initial one.
 *
 * As a delete through a handle would: unlinked, waiters woken with
 * -EIDRM.  Ports already deleted (kept by handles) are left as they are.
 *
 * Context: process context; takes kport_table_lock.
 */
void kport_inst_delete_ports(struct kport_inst *inst)
{
	struct kport_port *port, *p;
	bool had_table_ref;

	for (;;) {
		port = NULL;
		mutex_lock(&kport_table_lock);
		list_for_each_entry(p, &inst->ports, all_node) {
			if (!p->deleted) {
				port = p;
				refcount_inc(&port->ref);
				had_table_ref = kport_delete_locked(port);
				break;
			}
		}
		mutex_unlock(&kport_table_lock);
		if (!port)
			break;
		kport_queue_kill(port);
		if (had_table_ref)
			kport_port_put(port);
		kport_port_put(port);
	}
}
