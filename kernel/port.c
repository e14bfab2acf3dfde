// SPDX-License-Identifier: GPL-2.0
/*
 * kport ports: creation, naming, permissions, deletion, and the file
 * operations of a port handle.
 *
 * Locking: kport_table_lock (mutex) protects the name and inbox hashes,
 * the list of all ports, the port count, users' port counts, and each
 * port's ->linked and ->published.  It nests outside port->lock.  The
 * last reference to a port is dropped under it (kport_port_put()) so that a port
 * leaves the list of all ports in the same critical section in which its
 * count reaches zero.
 *
 * Credentials: create, open and unlink are like open(2): they check the
 * caller's current credentials.  Everything done later through a handle
 * (send, receive, delete) uses the credentials the handle was opened with
 * (file->f_cred), so a handle passed to another process keeps exactly the
 * power it was opened with, no more, no less.
 */
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "kport.h"

static DEFINE_MUTEX(kport_table_lock);
static DEFINE_HASHTABLE(kport_names, 8);
static DEFINE_HASHTABLE(kport_inboxes, 6);
static LIST_HEAD(kport_all_ports);
static unsigned int kport_nr_ports;
static u64 kport_next_id = 1;

/*
 * A name is 1..KPORT_NAME_MAX-1 printable ASCII characters other than '/'
 * and space, NUL-terminated, with only zeroes after the NUL, so that the
 * 64 bytes compare equal exactly when the names do and /proc/kport can
 * print names without escaping.  Return: its length (0: anonymous), or
 * -EINVAL.
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
	return len;
}

static u32 kport_name_hash(const char *name)
{
	return full_name_hash(NULL, name, strlen(name));
}

static struct kport_port *kport_find_name_locked(const char *name)
{
	struct kport_port *port;

	lockdep_assert_held(&kport_table_lock);
	hash_for_each_possible(kport_names, port, hnode, kport_name_hash(name)) {
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
 * The inbox of @pid.  One its owner's exec left behind is unlinked (it
 * lives on for those holding it, unreachable by pid) and returned in
 * *@stale, whose table reference the caller drops once it has let go of
 * kport_table_lock.
 */
static struct kport_port *kport_find_inbox_locked(struct pid *pid,
						  struct kport_port **stale)
{
	struct kport_port *port;

	lockdep_assert_held(&kport_table_lock);
	*stale = NULL;
	hash_for_each_possible(kport_inboxes, port, hnode, hash_ptr(pid, 32)) {
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

/*
 * The thread group of process @nr in the caller's pid namespace, so that a
 * thread id names its process.  Return: a reference, or NULL.
 */
static struct pid *kport_get_tgid(pid_t nr)
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

static void kport_port_free(struct kport_port *port)
{
	kport_queue_purge(port);
	if (port->pool)
		kport_pool_destroy(port->pool);
	put_pid(port->inbox_pid);
	put_pid(port->owner_pid);
	kport_user_put(port->owner);
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
	if (refcount_dec_not_one(&port->ref))
		return;
	mutex_lock(&kport_table_lock);
	if (!refcount_dec_and_test(&port->ref)) {
		mutex_unlock(&kport_table_lock);
		return;
	}
	if (port->published) {
		list_del(&port->all_node);
		kport_nr_ports--;
	}
	if (port->counted)
		port->owner->nr_ports--;
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
		port->owner->nr_ports--;
		port->counted = false;
	}
}

static bool kport_handle_is_owners(const struct kport_handle *h)
{
	return uid_eq(h->user->uid, h->port->owner->uid);
}

/*
 * A new handle of the owner's.  Under kport_table_lock, so that it is
 * ordered with kport_uncount_locked(): an OPEN may find the port just
 * before its deletion and make its handle just after, when the port no
 * longer counts against its owner (CREATE makes its handle before it
 * publishes the port, so only OPEN can).
 * The owner then holds a handle again, so the port counts again (even past
 * max_ports_per_user: that only refuses new ports), which keeps the rule
 * "counted while not deleted or while the owner holds a handle".
 */
static void kport_owner_handle_get(struct kport_port *port)
{
	mutex_lock(&kport_table_lock);
	atomic_inc(&port->owner_handles);
	if (port->deleted && !port->counted && port->published) {
		port->owner->nr_ports++;
		port->counted = true;
	}
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

/*
 * Delete @port: unlink its name at once (it may be reused), then let
 * everyone waiting on it go.  Return: 0, or -EIDRM if already deleted.
 */
static int kport_port_delete(struct kport_port *port)
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

/*
 * The owner (effective uid) of the port, or CAP_IPC_OWNER, may delete it:
 * checked with the credentials of @file when deleting through a handle,
 * with the caller's when deleting by name (@file NULL).
 */
static bool kport_may_delete(struct kport_port *port, struct file *file)
{
	if (file)
		return uid_eq(file->f_cred->euid, port->uid) ||
		       file_ns_capable(file, &init_user_ns, CAP_IPC_OWNER);
	return uid_eq(current_euid(), port->uid) || capable(CAP_IPC_OWNER);
}

/*
 * Open-time check of @rights against the port's mode, with the caller's
 * credentials: owner bits when its euid owns the port, group bits when it
 * is in the port's group, other bits otherwise; read grants receive,
 * write grants send.  A handle with no right (for stat and delete) needs
 * the caller to own the port or to have one of the two: it still pins the
 * port and shows its counters, so a stranger gets none.  CAP_IPC_OWNER
 * overrides, as for SysV IPC.
 */
static int kport_may_open(struct kport_port *port, u32 rights)
{
	bool owner = uid_eq(current_euid(), port->uid);
	umode_t granted = port->mode;
	umode_t need = 0;

	if (rights & KPORT_RIGHT_SEND)
		need |= 02;
	if (rights & KPORT_RIGHT_RECV)
		need |= 04;
	if (owner)
		granted >>= 6;
	else if (in_egroup_p(port->gid))
		granted >>= 3;
	if (need ? (need & ~granted & 07) == 0 : owner || (granted & 06))
		return 0;
	if (capable(CAP_IPC_OWNER))
		return 0;
	return -EACCES;
}

/*
 * The caller as a message sender (see struct kport_ident): what an
 * ioctl's message says it is from, and what a handle records of its
 * opener.  @id->pid is not referenced.
 */
static void kport_ident_current(struct kport_ident *id)
{
	id->pid = task_tgid(current);
	id->exec = READ_ONCE(current->self_exec_id);
	id->uid = current_euid();
}

/*
 * Make the file for a new handle.  On success the handle owns the caller's
 * reference to @port.
 */
static struct file *kport_handle_file(struct kport_port *port, u32 rights,
				      bool creator, bool nonblock)
{
	struct kport_handle *h;
	struct file *file;
	int flags;

	h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h)
		return ERR_PTR(-ENOMEM);
	h->user = kport_user_get(current_euid());
	if (!h->user) {
		kfree(h);
		return ERR_PTR(-ENOMEM);
	}
	h->port = port;
	h->rights = rights;
	/* The file's f_cred, as anon_inode_getfile() below records it. */
	kport_ident_current(&h->opener);
	get_pid(h->opener.pid);
	h->creator = creator;
	kport_handle_init_slices(h);

	/*
	 * The file mode follows the rights, so read() and write() match;
	 * except that a sender on a zero-copy port must be able to mmap()
	 * the pool writable, which needs both modes (read() still checks
	 * the receive right and fails with -EBADF without it).
	 */
	if (rights == KPORT_RIGHTS_ALL ||
	    ((rights & KPORT_RIGHT_SEND) && port->pool && port->pool->zerocopy))
		flags = O_RDWR;
	else if (rights == KPORT_RIGHT_SEND)
		flags = O_WRONLY;
	else
		flags = O_RDONLY;
	if (nonblock)
		flags |= O_NONBLOCK;
	file = anon_inode_getfile("[kport]", &kport_port_fops, h, flags);
	if (IS_ERR(file)) {
		put_pid(h->opener.pid);
		kport_user_put(h->user);
		kfree(h);
		return file;
	}
	/*
	 * A stream of messages has no file position: without this, read()
	 * and write() by threads sharing the file race on ->f_pos (KCSAN
	 * reports ksys_read against ksys_write), for nothing.  lseek(),
	 * pread() and pwrite() get -ESPIPE, as on a pipe (without FMODE_LSEEK
	 * the VFS never calls ->llseek, which is left unset: 6.12 has no
	 * no_llseek any more).
	 */
	stream_open(file_inode(file), file);
	atomic_inc(&port->handles);
	if (kport_handle_is_owners(h))
		kport_owner_handle_get(port);
	return file;
}

/*
 * Reserve an fd and make a handle file for @port, consuming the caller's
 * reference (on failure too).  The caller installs it with fd_install()
 * once nothing else can fail.
 */
static int kport_new_handle(struct kport_port *port, u32 rights, bool creator,
			    bool nonblock, struct file **filep)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		kport_port_put(port);
		return fd;
	}
	file = kport_handle_file(port, rights, creator, nonblock);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		kport_port_put(port);
		return PTR_ERR(file);
	}
	*filep = file;
	return fd;
}

/*
 * Make the port visible: count it against the limits, give it an id, and
 * link its name or inbox.  Takes a reference for the table.
 */
static int kport_publish(struct kport_port *port)
{
	struct kport_port *other, *stale = NULL;
	int ret = -ENOSPC;

	mutex_lock(&kport_table_lock);
	if (kport_nr_ports >= READ_ONCE(kport_max_ports) ||
	    port->owner->nr_ports >= READ_ONCE(kport_max_ports_per_user))
		goto out_unlock;
	ret = -EEXIST;
	if (port->inbox_pid) {
		other = kport_find_inbox_locked(port->inbox_pid, &stale);
		if (other)
			goto out_unlock;
		hash_add(kport_inboxes, &port->hnode,
			 hash_ptr(port->inbox_pid, 32));
		port->linked = true;
	} else if (port->name[0]) {
		other = kport_find_name_locked(port->name);
		if (other)
			goto out_unlock;
		hash_add(kport_names, &port->hnode,
			 kport_name_hash(port->name));
		port->linked = true;
	}
	if (port->linked)
		refcount_inc(&port->ref);
	port->id = kport_next_id++;
	port->published = true;
	list_add_tail(&port->all_node, &kport_all_ports);
	kport_nr_ports++;
	port->owner->nr_ports++;
	port->counted = true;
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
	if (memchr_inv(args->__reserved, 0, sizeof(args->__reserved)))
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
	bool process_owned;
	struct kport_port *port;
	struct file *file;
	int fd, ret;

	ret = kport_create_check(args);
	if (ret)
		return ret;
	process_owned = args->flags & (KPORT_CREATE_PROCESS | KPORT_CREATE_INBOX);

	port = kzalloc(sizeof(*port), GFP_KERNEL_ACCOUNT);
	if (!port)
		return -ENOMEM;
	port->owner = kport_user_get(current_euid());
	if (!port->owner) {
		kfree(port);
		return -ENOMEM;
	}
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
	struct pid *pid = NULL;
	struct file *file;
	int name_len, fd, ret;

	if (args->flags & ~KPORT_OPEN_FLAGS)
		return -EINVAL;
	if (memchr_inv(args->__reserved, 0, sizeof(args->__reserved)))
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
	mutex_lock(&kport_table_lock);
	port = inbox ? kport_find_inbox_locked(pid, &stale) :
		       kport_find_name_locked(args->name);
	if (port)
		refcount_inc(&port->ref);
	mutex_unlock(&kport_table_lock);
	if (stale)
		kport_port_put(stale);
	put_pid(pid);
	if (!port)
		return -ENOENT;

	ret = kport_may_open(port, args->rights);
	if (ret) {
		kport_port_put(port);
		return ret;
	}
	fd = kport_new_handle(port, args->rights, false,
			      args->flags & KPORT_OPEN_NONBLOCK, &file);
	if (fd >= 0)
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
	struct kport_port *port;
	int name_len;

	if (args->flags || memchr_inv(args->__reserved, 0,
				      sizeof(args->__reserved)))
		return -EINVAL;
	name_len = kport_name_check(args->name);
	if (name_len <= 0)
		return -EINVAL;

	mutex_lock(&kport_table_lock);
	port = kport_find_name_locked(args->name);
	if (!port) {
		mutex_unlock(&kport_table_lock);
		return -ENOENT;
	}
	if (!kport_may_delete(port, NULL)) {
		mutex_unlock(&kport_table_lock);
		return -EPERM;
	}
	kport_delete_locked(port);
	mutex_unlock(&kport_table_lock);

	kport_queue_kill(port);
	kport_port_put(port);
	return 0;
}

/**
 * kport_ports_destroy() - delete every port at module exit
 *
 * No handle can be open (each pins the module), so only linked ports
 * remain, held by their table reference alone.
 *
 * Context: process context.
 */
void kport_ports_destroy(void)
{
	struct kport_port *port;

	for (;;) {
		mutex_lock(&kport_table_lock);
		port = list_first_entry_or_null(&kport_all_ports,
						struct kport_port, all_node);
		if (port && !kport_unlink_locked(port))
			port = NULL;
		mutex_unlock(&kport_table_lock);
		if (!port)
			break;
		kport_queue_kill(port);
		kport_port_put(port);
	}
	WARN_ON_ONCE(!list_empty(&kport_all_ports));
}

static const char *kport_capacity_str(u32 capacity, char *buf, size_t size)
{
	if (capacity == KPORT_CAPACITY_UNBOUNDED)
		return "unbounded";
	snprintf(buf, size, "%u", capacity);
	return buf;
}

/**
 * kport_ports_show() - the body of /proc/kport
 * @m: the seq_file.
 *
 * Context: process context; takes kport_table_lock.
 */
void kport_ports_show(struct seq_file *m)
{
	struct user_namespace *ns = seq_user_ns(m);
	struct kport_port *port;
	struct kport_stat st;
	char cap[16];

	seq_puts(m, "id\tname\tflags\tmode\tuid\tgid\tcapacity\tmsg_size\tmsgs\tbytes\tsenders\treceivers\thandles\tpool\n");
	mutex_lock(&kport_table_lock);
	list_for_each_entry(port, &kport_all_ports, all_node) {
		memset(&st, 0, sizeof(st));
		kport_queue_stat(port, &st);
		seq_printf(m, "%llu\t%s\t%s%s%s%s%s\t%04o\t%u\t%u\t%s\t%u\t%u\t%llu\t%u\t%u\t%d\t%zu\n",
			   port->id, port->name[0] ? port->name : "-",
			   port->flags & KPORT_CREATE_FIXED ? "F" : "-",
			   port->flags & KPORT_CREATE_PROCESS ? "P" : "-",
			   port->flags & KPORT_CREATE_INBOX ? "I" : "-",
			   port->flags & KPORT_CREATE_ZEROCOPY ? "Z" : "-",
			   st.status & KPORT_STATUS_DEAD ? "D" : "-",
			   port->mode, from_kuid_munged(ns, port->uid),
			   from_kgid_munged(ns, port->gid),
			   kport_capacity_str(port->capacity, cap, sizeof(cap)),
			   port->msg_size, st.nr_msgs, st.bytes,
			   st.send_waiters, st.recv_waiters,
			   atomic_read(&port->handles),
			   port->pool ? port->pool->size : 0);
	}
	mutex_unlock(&kport_table_lock);
}

/* ---- the handle ----------------------------------------------------------- */

static bool kport_nonblock(struct file *file, u64 flags)
{
	return (flags & KPORT_MSG_NONBLOCK) || (file->f_flags & O_NONBLOCK);
}

/* A message's deadline, if it has one: see kport_deadline_ktime(). */
static const ktime_t *kport_deadline(const struct kport_msg *m, ktime_t *kt)
{
	if (!(m->flags & KPORT_MSG_DEADLINE))
		return NULL;
	*kt = kport_deadline_ktime(m->deadline_ns);
	return kt;
}

/* Where the payload is: inline, or in the port's pool. */
static const void *kport_msg_payload(const struct kport_kmsg *msg)
{
	return msg->pool ? msg->pool->vaddr + msg->offset : msg->data;
}

static int kport_msg_check_common(const struct kport_msg *m, u64 allowed)
{
	if (m->flags & ~allowed)
		return -EINVAL;
	if (m->__reserved32 || m->__reserved)
		return -EINVAL;
	if (!(m->flags & KPORT_MSG_DEADLINE) && m->deadline_ns)
		return -EINVAL;
	return 0;
}

static int kport_send_len_ok(const struct kport_port *port, u32 len)
{
	if (len > port->msg_size ||
	    ((port->flags & KPORT_CREATE_FIXED) && len != port->msg_size))
		return -EMSGSIZE;
	return 0;
}

/* A message of @len bytes copied in from @buf, not from a pool. */
static struct kport_kmsg *kport_msg_copy_in(struct kport_handle *h,
					    const struct kport_ident *from,
					    const void __user *buf, u32 len,
					    u32 prio)
{
	struct kport_kmsg *msg;

	msg = kport_msg_alloc(h->port, h->user, from, len, prio);
	if (IS_ERR(msg))
		return msg;
	if (copy_from_user(msg->data, buf, len)) {
		kport_msg_free(h->port, msg);
		return ERR_PTR(-EFAULT);
	}
	return msg;
}

static int kport_do_send(struct file *file, const struct kport_ident *from,
			 const void __user *buf, u32 len, u32 prio,
			 bool nonblock, const ktime_t *deadline)
{
	struct kport_handle *h = file->private_data;
	struct kport_port *port = h->port;
	struct kport_kmsg *msg;
	int ret;

	if (!(h->rights & KPORT_RIGHT_SEND))
		return -EBADF;
	ret = kport_send_len_ok(port, len);
	if (ret)
		return ret;

	if (port->pool && len > port->pool->threshold) {
		/* One copy: from the sender straight into a pool slice. */
		msg = kport_msg_alloc(port, h->user, from, 0, prio);
		if (IS_ERR(msg))
			return PTR_ERR(msg);
		ret = kport_pool_attach(port, msg, len, nonblock, deadline);
		if (ret)
			goto err_free;
		if (copy_from_user(port->pool->vaddr + msg->offset, buf, len)) {
			ret = -EFAULT;
			goto err_free;
		}
	} else {
		msg = kport_msg_copy_in(h, from, buf, len, prio);
		if (IS_ERR(msg))
			return PTR_ERR(msg);
	}
	ret = kport_queue_send(port, msg, nonblock, deadline);
	if (ret)
		goto err_free;
	return 0;

err_free:
	kport_msg_free(port, msg);
	return ret;
}

/*
 * Send a slice borrowed on a zero-copy port.  The slice leaves the handle's
 * tree before it is sent (so nobody can release it while it travels) and
 * goes back there if the send fails: the borrow stays as it was.
 */
static long kport_post(struct file *file, const struct kport_msg *m,
		       bool nonblock, const ktime_t *deadline)
{
	struct kport_handle *h = file->private_data;
	struct kport_port *port = h->port;
	struct kport_ident from;
	struct kport_kmsg *msg;
	u32 borrowed;
	int ret;

	if (!port->pool || !port->pool->zerocopy)
		return -EOPNOTSUPP;
	if (m->buf)
		return -EINVAL;
	if ((port->flags & KPORT_CREATE_FIXED) && m->len != port->msg_size)
		return -EMSGSIZE;
	msg = kport_handle_take_borrowed(h, m->offset, m->len);
	if (IS_ERR(msg))
		return PTR_ERR(msg);

	borrowed = msg->len;
	msg->len = m->len;
	msg->prio = m->priority;
	msg->borrowed = false;
	/* The message is from whoever posts it, not whoever borrowed. */
	kport_ident_current(&from);
	put_pid(msg->sender);
	msg->sender = get_pid(from.pid);
	msg->sender_exec = from.exec;
	msg->uid = from.uid;
	ret = kport_queue_send(port, msg, nonblock, deadline);
	if (ret) {
		msg->len = borrowed;
		msg->borrowed = true;
		WARN_ON_ONCE(kport_handle_hold(h, msg));
	}
	return ret;
}

/* The output fields of a send must be 0, its priority in range. */
static int kport_send_args_ok(const struct kport_msg *m)
{
	if (m->pid || m->uid || m->result || m->priority >= KPORT_PRIO_MAX)
		return -EINVAL;
	return 0;
}

/*
 * One send, its flags already checked; how to wait is decided by the caller
 * (a single send from its flags, a batch only for its first message).
 */
static long kport_send_one(struct file *file, const struct kport_msg *m,
			   bool nonblock, const ktime_t *deadline)
{
	struct kport_ident from;

	if (kport_send_args_ok(m))
		return -EINVAL;
	if (m->flags & KPORT_MSG_POST)
		return kport_post(file, m, nonblock, deadline);
	if (m->offset)
		return -EINVAL;
	kport_ident_current(&from);
	return kport_do_send(file, &from, u64_to_user_ptr(m->buf), m->len,
			     m->priority, nonblock, deadline);
}

static long kport_ioctl_send(struct file *file, const struct kport_msg *m)
{
	struct kport_handle *h = file->private_data;
	ktime_t kt;
	int ret;

	if (!(h->rights & KPORT_RIGHT_SEND))
		return -EBADF;
	ret = kport_msg_check_common(m, KPORT_MSG_NONBLOCK |
				     KPORT_MSG_DEADLINE | KPORT_MSG_POST);
	if (ret)
		return ret;
	return kport_send_one(file, m, kport_nonblock(file, m->flags),
			      kport_deadline(m, &kt));
}

/*
 * A sender's pid as the receiver's namespace numbers it; 0 if it no
 * longer names the program that sent (see struct kport_ident): the
 * process has exec'd since, or is gone and its number names another.
 */
static pid_t kport_pid_nr(struct pid *pid, u64 exec)
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

static void kport_sender_ids(struct kport_sender_ids *ids,
			     const struct kport_kmsg *msg, struct kport_msg *m)
{
	if (!ids) {
		m->pid = kport_pid_nr(msg->sender, msg->sender_exec);
		m->uid = from_kuid_munged(current_user_ns(), msg->uid);
		return;
	}
	if (ids->pid != msg->sender || ids->exec != msg->sender_exec) {
		put_pid(ids->pid);
		ids->pid = get_pid(msg->sender);
		ids->exec = msg->sender_exec;
		ids->nr = kport_pid_nr(msg->sender, msg->sender_exec);
	}
	if (!uid_eq(ids->kuid, msg->uid)) {
		ids->kuid = msg->uid;
		ids->uid = from_kuid_munged(current_user_ns(), msg->uid);
	}
	m->pid = ids->nr;
	m->uid = ids->uid;
}

/*
 * One receive, its flags already checked; see kport_send_one().  @ids:
 * see struct kport_sender_ids, or NULL.
 */
static long kport_recv_one(struct file *file, struct kport_msg *m,
			   void __user *uarg, bool nonblock,
			   const ktime_t *deadline,
			   struct kport_sender_ids *ids)
{
	struct kport_handle *h = file->private_data;
	struct kport_port *port = h->port;
	struct kport_kmsg *msg;
	struct pid *from = NULL;
	u32 needed = 0;
	bool inplace;
	int ret;

	if (m->flags & KPORT_MSG_FROM_PID) {
		if (m->pid <= 0)
			return -EINVAL;
		from = kport_get_tgid(m->pid);
		if (!from)
			return -ESRCH;
	}

	inplace = m->flags & KPORT_MSG_INPLACE;
	msg = kport_queue_recv(port, from, m->len, inplace, nonblock, deadline,
			       &needed);
	put_pid(from);
	if (IS_ERR(msg)) {
		ret = PTR_ERR(msg);
		if (ret == -EMSGSIZE) {
			m->len = needed;
			if (copy_to_user(uarg, m, sizeof(*m)))
				ret = -EFAULT;
		}
		return ret;
	}

	m->len = msg->len;
	m->priority = msg->prio;
	kport_sender_ids(ids, msg, m);
	m->offset = 0;
	m->result = 0;
	if (inplace && msg->pool) {
		/*
		 * Nothing to copy: the handle holds the slice until released.
		 * Commit point: the struct is written out before the slice
		 * goes on the handle's tree, where another thread may release
		 * it at once; after that nothing can be put back.
		 */
		m->offset = msg->offset;
		m->result = KPORT_RESULT_INPLACE;
		ret = -EFAULT;
		if (copy_to_user(uarg, m, sizeof(*m)))
			goto err_putback;
		kport_queue_delivered(port, msg);
		/* Cannot fail (but for a bug): the slice is ours alone. */
		if (WARN_ON_ONCE(kport_handle_hold(h, msg)))
			kport_msg_free(port, msg);
		return 0;
	}
	ret = -EFAULT;
	if (copy_to_user(u64_to_user_ptr(m->buf), kport_msg_payload(msg),
			 msg->len) ||
	    copy_to_user(uarg, m, sizeof(*m)))
		goto err_putback;
	kport_queue_consumed(port, msg);
	return 0;

err_putback:
	kport_queue_putback(port, msg);
	return ret;
}

static long kport_ioctl_recv(struct file *file, struct kport_msg *m,
			     void __user *uarg)
{
	struct kport_handle *h = file->private_data;
	ktime_t kt;
	int ret;

	if (!(h->rights & KPORT_RIGHT_RECV))
		return -EBADF;
	ret = kport_msg_check_common(m, KPORT_MSG_FLAGS & ~KPORT_MSG_POST);
	if (ret)
		return ret;
	return kport_recv_one(file, m, uarg, kport_nonblock(file, m->flags),
			      kport_deadline(m, &kt), NULL);
}

/*
 * KPORT_IOC_SENDRECV: send on @file, then receive on recv_fd (or @file).
 * "done" is cleared before anything happens and set once the send is
 * done.  The send is the commit point: after it the call never restarts
 * (a restart would send again), so a signal in the receive gives -EINTR;
 * and it never fails as if nothing had happened, so if "done" cannot be
 * written (another thread made the page read-only meanwhile) the call
 * returns KPORT_SR_SENT without receiving.
 */
static long kport_ioctl_sendrecv(struct file *file, unsigned int cmd,
				 void __user *uarg)
{
	struct kport_sendrecv __user *usr = uarg;
	struct kport_handle *h = file->private_data;
	struct kport_sendrecv sr;
	struct file *rfile = file;
	struct fd f = {};
	ktime_t skt, rkt;
	long ret;

	if (!(h->rights & KPORT_RIGHT_SEND))
		return -EBADF;
	ret = kport_copy_arg(&sr, sizeof(sr), KPORT_SENDRECV_SIZE_VER0, cmd,
			     uarg);
	if (ret)
		return ret;
	if (sr.flags ||
	    !kport_reserved_zero(sr.__reserved, ARRAY_SIZE(sr.__reserved)))
		return -EINVAL;
	ret = kport_msg_check_common(&sr.send, KPORT_MSG_NONBLOCK |
				     KPORT_MSG_DEADLINE | KPORT_MSG_POST);
	if (ret)
		return ret;
	ret = kport_msg_check_common(&sr.recv, KPORT_MSG_FLAGS &
				     ~KPORT_MSG_POST);
	if (ret)
		return ret;
	/* An argument error must be found before anything is sent. */
	if ((sr.recv.flags & KPORT_MSG_FROM_PID) && sr.recv.pid <= 0)
		return -EINVAL;
	if (sr.recv_fd != -1) {
		f = fdget(sr.recv_fd);
		if (!fd_file(f))
			return -EBADF;
		rfile = fd_file(f);
		ret = -EINVAL;
		if (rfile->f_op != &kport_port_fops)
			goto out;
	}
	ret = -EBADF;
	if (!(((struct kport_handle *)rfile->private_data)->rights &
	      KPORT_RIGHT_RECV))
		goto out;
	ret = -EFAULT;
	if (put_user(0, &usr->done))
		goto out;

	ret = kport_send_one(file, &sr.send, kport_nonblock(file, sr.send.flags),
			     kport_deadline(&sr.send, &skt));
	if (ret)
		goto out;
	ret = KPORT_SR_SENT;
	if (put_user(KPORT_SR_SENT, &usr->done))
		goto out;
	ret = kport_recv_one(rfile, &sr.recv, &usr->recv,
			     kport_nonblock(rfile, sr.recv.flags),
			     kport_deadline(&sr.recv, &rkt), NULL);
	if (ret == -ERESTARTSYS)
		ret = -EINTR;
out:
	fdput(f);
	return ret;
}

/*
 * KPORT_IOC_SENDV / KPORT_IOC_RECVV: several messages in one call, as
 * sendmmsg()/recvmmsg() with MSG_WAITFORONE do.  Only the first message
 * may wait (as the batch's flags say); the others are done without
 * waiting, and the batch stops at the first that fails.  The array's
 * stride is the caller's sizeof(struct kport_msg), so it can grow as every
 * struct here does.
 *
 * After the first, messages go KPORT_BATCH_CHUNK at a time: a chunk's
 * elements are read with one copy, its messages built (a send's payloads
 * copied in) without port->lock, queued or taken under one hold of it,
 * then (a receive) copied out without it and the elements written back
 * with one copy.  Per message that saves the lock, the poll wake-up and
 * two user copies with the calls around them, which for a small message
 * are a good part of the cost.  And the receiver is woken once a chunk is
 * queued, not at the first message: woken earlier, it would preempt the
 * sender at the next allocation and take the messages one by one.
 * Messages that need more than a plain copy (POST, a pool slice, a sender
 * filter, a receive in place) go one at a time, as single calls do.
 */
#define KPORT_BATCH_CHUNK	16

/**
 * struct kport_batch_run - a batch in progress
 * @b:     the request.
 * @descs: the current chunk's elements (KPORT_BATCH_CHUNK of them).
 * @ids:   see struct kport_sender_ids.
 */
struct kport_batch_run {
	struct kport_batch b;
	struct kport_msg *descs;
	struct kport_sender_ids ids;
};

static void __user *kport_batch_elem(const struct kport_batch_run *r, u32 i)
{
	return u64_to_user_ptr(r->b.msgs + (u64)i * r->b.msg_size);
}

/*
 * Read elements @first.. (@n of them) into ->descs.  Return: how many were
 * read whole; *@err is the error of the next one, if that is fewer.
 */
static int kport_batch_read(struct kport_batch_run *r, u32 first, int n,
			    int *err)
{
	const size_t size = sizeof(struct kport_msg);
	unsigned long left;
	int i;

	*err = 0;
	if (r->b.msg_size == size) {
		left = copy_from_user(r->descs, kport_batch_elem(r, first),
				      n * size);
		if (left)
			*err = -EFAULT;
		return n - DIV_ROUND_UP(left, size);
	}
	for (i = 0; i < n; i++) {
		*err = copy_struct_from_user(&r->descs[i], size,
					     kport_batch_elem(r, first + i),
					     r->b.msg_size);
		if (*err)
			break;
	}
	return i;
}

/* Write ->descs back to elements @first.. Return: how many were, whole. */
static int kport_batch_write(struct kport_batch_run *r, u32 first, int n)
{
	const size_t size = sizeof(struct kport_msg);
	unsigned long left;
	int i;

	if (r->b.msg_size == size) {
		left = copy_to_user(kport_batch_elem(r, first), r->descs,
				    n * size);
		return n - DIV_ROUND_UP(left, size);
	}
	for (i = 0; i < n; i++) {
		if (copy_to_user(kport_batch_elem(r, first + i), &r->descs[i],
				 size))
			break;
	}
	return i;
}

/*
 * A send chunk's messages are all allocated before any is queued (and
 * freed again if the queue is full): past its first, a chunk takes no
 * more than this many payload bytes.
 */
#define KPORT_BATCH_CHUNK_BYTES	SZ_64K

/*
 * Whether a send goes by the chunked path: a message copied in, to a port
 * with a queue (a rendezvous send waits for its receiver's copy).
 */
static bool kport_send_chunkable(const struct kport_port *port,
				 const struct kport_msg *m)
{
	return port->capacity && !(m->flags & KPORT_MSG_POST) &&
	       !(port->pool && m->len > port->pool->threshold);
}

/*
 * Send elements @first.. of a batch, without waiting: up to a chunk of
 * them, or one that does not go by the chunked path.  *@stop is set when
 * the batch ends here, one of them having failed.  Return: how many were
 * sent, or the error of @first.
 */
static long kport_sendv_chunk(struct file *file, struct kport_batch_run *r,
			      u32 first, bool *stop)
{
	struct kport_handle *h = file->private_data;
	struct kport_port *port = h->port;
	int i, n, nread, sent, err;
	struct kport_kmsg *msgs[KPORT_BATCH_CHUNK];
	struct kport_msg *m;
	struct kport_ident from;
	size_t bytes = 0;
	long ret = 0;

	*stop = true;
	kport_ident_current(&from);
	nread = kport_batch_read(r, first, min_t(u32, r->b.count - first,
						 KPORT_BATCH_CHUNK), &err);
	for (n = 0; n < nread; n++) {
		m = &r->descs[n];
		ret = kport_msg_check_common(m, KPORT_MSG_POST);
		if (ret)
			break;
		if (!kport_send_chunkable(port, m)) {
			if (n)
				break;
			ret = kport_send_one(file, m, true, NULL);
			*stop = ret;
			return ret ?: 1;
		}
		if (n && bytes + m->len > KPORT_BATCH_CHUNK_BYTES)
			break;
		bytes += m->len;
		ret = kport_send_args_ok(m);
		if (!ret && m->offset)
			ret = -EINVAL;
		if (!ret)
			ret = kport_send_len_ok(port, m->len);
		if (ret)
			break;
		msgs[n] = kport_msg_copy_in(h, &from, u64_to_user_ptr(m->buf),
					    m->len, m->priority);
		if (IS_ERR(msgs[n])) {
			ret = PTR_ERR(msgs[n]);
			break;
		}
	}
	if (n == nread && err)
		ret = err;
	if (!n)
		return ret;
	sent = kport_queue_send_many(port, msgs, n);
	/* What was not delivered: a full queue, or a deleted port. */
	for (i = max(sent, 0); i < n; i++)
		kport_msg_free(port, msgs[i]);
	/* Go on if every element read was sent. */
	*stop = ret || sent < n;
	return sent ?: -EAGAIN;
}

/*
 * Receive elements @first.. of a batch, without waiting; see
 * kport_sendv_chunk().  A message is freed only once its element, written
 * back, says it arrived: until then a fault puts it back.
 */
static long kport_recvv_chunk(struct file *file, struct kport_batch_run *r,
			      u32 first, bool *stop)
{
	struct kport_handle *h = file->private_data;
	struct kport_port *port = h->port;
	int i, n, nread, got, copied, written, err;
	struct kport_kmsg *msgs[KPORT_BATCH_CHUNK];
	u32 bufsize[KPORT_BATCH_CHUNK], needed;
	struct kport_msg __user *um;
	struct kport_msg *m;
	long ret = 0;
	u64 buf;

	*stop = true;
	nread = kport_batch_read(r, first, min_t(u32, r->b.count - first,
						 KPORT_BATCH_CHUNK), &err);
	for (n = 0; n < nread; n++) {
		m = &r->descs[n];
		ret = kport_msg_check_common(m, KPORT_MSG_FROM_PID |
					     KPORT_MSG_INPLACE);
		if (ret)
			break;
		if (m->flags) {
			if (n)
				break;
			ret = kport_recv_one(file, m, kport_batch_elem(r, first),
					     true, NULL, &r->ids);
			*stop = ret;
			return ret ?: 1;
		}
		bufsize[n] = m->len;
	}
	if (n == nread && err)
		ret = err;
	if (!n)
		return ret;

	got = kport_queue_recv_many(port, bufsize, msgs, n, &needed);
	if (got < 0)
		return got;
	for (copied = 0; copied < got; copied++) {
		struct kport_kmsg *msg = msgs[copied];

		/* What a single receive writes back: see kport_recv_one(). */
		m = &r->descs[copied];
		buf = m->buf;
		memset(m, 0, sizeof(*m));
		m->buf = buf;
		m->len = msg->len;
		m->priority = msg->prio;
		kport_sender_ids(&r->ids, msg, m);
		if (copy_to_user(u64_to_user_ptr(buf), kport_msg_payload(msg),
				 msg->len))
			break;
	}
	written = kport_batch_write(r, first, copied);
	for (i = 0; i < written; i++)
		kport_queue_consumed(port, msgs[i]);
	if (written < got) {
		kport_queue_putback_many(port, msgs + written, got - written);
		return written ?: -EFAULT;
	}
	if (needed) {
		/* Too small a buffer: the size needed, as a single receive says. */
		um = kport_batch_elem(r, first + got);
		if (put_user(needed, &um->len))
			return got ?: -EFAULT;
		return got ?: -EMSGSIZE;
	}
	/* Go on if every element read was received. */
	*stop = ret || got < n;
	return got ?: -EAGAIN;
}

/* Return: how many were done, or the first one's error. */
static long kport_ioctl_batch(struct file *file, unsigned int cmd,
			      void __user *uarg, bool send)
{
	struct kport_handle *h = file->private_data;
	struct kport_batch_run r = {
		.ids = { .kuid = INVALID_UID, .uid = overflowuid },
	};
	const ktime_t *deadline = NULL;
	struct kport_msg m;
	bool stop = false;
	u32 done = 0;
	ktime_t kt;
	int err;
	long ret;

	if (!(h->rights & (send ? KPORT_RIGHT_SEND : KPORT_RIGHT_RECV)))
		return -EBADF;
	ret = kport_copy_arg(&r.b, sizeof(r.b), KPORT_BATCH_SIZE_VER0, cmd,
			     uarg);
	if (ret)
		return ret;
	if (r.b.flags & ~(KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE) ||
	    !kport_reserved_zero(r.b.__reserved, ARRAY_SIZE(r.b.__reserved)) ||
	    (!(r.b.flags & KPORT_MSG_DEADLINE) && r.b.deadline_ns))
		return -EINVAL;
	if (!r.b.count || r.b.count > KPORT_BATCH_MAX ||
	    r.b.msg_size < KPORT_MSG_SIZE_VER0 || r.b.msg_size > PAGE_SIZE)
		return -EINVAL;
	if (r.b.flags & KPORT_MSG_DEADLINE) {
		kt = kport_deadline_ktime(r.b.deadline_ns);
		deadline = &kt;
	}

	/* The first message, the one that may wait. */
	r.descs = &m;
	if (kport_batch_read(&r, 0, 1, &err) != 1)
		return err;
	ret = kport_msg_check_common(&m, send ? KPORT_MSG_POST :
				     KPORT_MSG_FROM_PID | KPORT_MSG_INPLACE);
	if (ret)
		return ret;
	ret = send ? kport_send_one(file, &m, kport_nonblock(file, r.b.flags),
				    deadline) :
		     kport_recv_one(file, &m, kport_batch_elem(&r, 0),
				    kport_nonblock(file, r.b.flags), deadline,
				    &r.ids);
	if (ret)
		goto out;
	done = 1;
	if (done == r.b.count)
		goto out;
	/* Transient, and at most a chunk: not charged to anyone. */
	r.descs = kmalloc_array(min_t(u32, r.b.count - 1, KPORT_BATCH_CHUNK),
				sizeof(*r.descs), GFP_KERNEL);
	if (!r.descs)
		goto out;
	while (!stop && done < r.b.count) {
		ret = send ? kport_sendv_chunk(file, &r, done, &stop) :
			     kport_recvv_chunk(file, &r, done, &stop);
		if (ret > 0)
			done += ret;
	}
	kfree(r.descs);
out:
	put_pid(r.ids.pid);
	return done ?: ret;
}

static long kport_ioctl_stat(struct file *file, struct kport_stat *st,
			     void __user *uarg)
{
	struct kport_handle *h = file->private_data;
	struct kport_port *port = h->port;

	if (st->flags || memchr_inv(st->__reserved, 0, sizeof(st->__reserved)))
		return -EINVAL;
	/* Everything else is output only. */
	memset(st, 0, sizeof(*st));
	st->id = port->id;
	memcpy(st->name, port->name, KPORT_NAME_MAX);
	st->port_flags = port->flags;
	st->mode = port->mode;
	st->uid = from_kuid_munged(current_user_ns(), port->uid);
	st->gid = from_kgid_munged(current_user_ns(), port->gid);
	st->capacity = port->capacity;
	st->msg_size = port->msg_size;
	st->rights = h->rights;
	/* As a sender's pid: 0 once it names another program. */
	st->owner_pid = port->owner_pid ?
			kport_pid_nr(port->owner_pid, port->owner_exec) : 0;
	st->handles = atomic_read(&port->handles);
	kport_queue_stat(port, st);
	if (port->pool)
		kport_pool_stat(port->pool, st);
	if (copy_to_user(uarg, st, sizeof(*st)))
		return -EFAULT;
	return 0;
}

static long kport_ioctl_delete(struct file *file, unsigned long arg)
{
	struct kport_handle *h = file->private_data;

	if (arg)
		return -EINVAL;
	if (!kport_may_delete(h->port, file))
		return -EPERM;
	return kport_port_delete(h->port);
}

static long kport_port_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	union {
		struct kport_msg msg;
		struct kport_stat stat;
	} u;
	int ret;

	if (_IOC_TYPE(cmd) != KPORT_IOC_MAGIC)
		return -ENOTTY;
	if (cmd == KPORT_IOC_DELETE)
		return kport_ioctl_delete(file, arg);
	if (KPORT_CMD_IS(cmd, KPORT_IOC_SEND)) {
		ret = kport_copy_arg(&u.msg, sizeof(u.msg), KPORT_MSG_SIZE_VER0,
				     cmd, uarg);
		return ret ? ret : kport_ioctl_send(file, &u.msg);
	}
	if (KPORT_CMD_IS(cmd, KPORT_IOC_RECV)) {
		ret = kport_copy_arg(&u.msg, sizeof(u.msg), KPORT_MSG_SIZE_VER0,
				     cmd, uarg);
		return ret ? ret : kport_ioctl_recv(file, &u.msg, uarg);
	}
	if (KPORT_CMD_IS(cmd, KPORT_IOC_SENDRECV))
		return kport_ioctl_sendrecv(file, cmd, uarg);
	if (KPORT_CMD_IS(cmd, KPORT_IOC_SENDV))
		return kport_ioctl_batch(file, cmd, uarg, true);
	if (KPORT_CMD_IS(cmd, KPORT_IOC_RECVV))
		return kport_ioctl_batch(file, cmd, uarg, false);
	if (KPORT_CMD_IS(cmd, KPORT_IOC_BORROW))
		return kport_ioctl_borrow(file, cmd, uarg);
	if (KPORT_CMD_IS(cmd, KPORT_IOC_RELEASE))
		return kport_ioctl_release(file, cmd, uarg);
	if (KPORT_CMD_IS(cmd, KPORT_IOC_STAT)) {
		ret = kport_copy_arg(&u.stat, sizeof(u.stat),
				     KPORT_STAT_SIZE_VER0, cmd, uarg);
		return ret ? ret : kport_ioctl_stat(file, &u.stat, uarg);
	}
	return -ENOTTY;
}

/*
 * write() and read() act on the handle alone, never on current's
 * credentials: a message written is from the handle's opener (see struct
 * kport_ident), whoever does the write.
 */
static ssize_t kport_port_write(struct file *file, const char __user *buf,
				size_t count, loff_t *ppos)
{
	struct kport_handle *h = file->private_data;
	int ret;

	if (count > U32_MAX)
		return -EMSGSIZE;
	ret = kport_do_send(file, &h->opener, buf, count, 0,
			    file->f_flags & O_NONBLOCK, NULL);
	return ret ? ret : count;
}

static ssize_t kport_port_read(struct file *file, char __user *buf,
			       size_t count, loff_t *ppos)
{
	struct kport_handle *h = file->private_data;
	struct kport_kmsg *msg;
	u32 needed, len;

	if (!(h->rights & KPORT_RIGHT_RECV))
		return -EBADF;
	msg = kport_queue_recv(h->port, NULL, min_t(size_t, count, U32_MAX),
			       false, file->f_flags & O_NONBLOCK, NULL, &needed);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	len = msg->len;
	if (copy_to_user(buf, kport_msg_payload(msg), len)) {
		kport_queue_putback(h->port, msg);
		return -EFAULT;
	}
	kport_queue_consumed(h->port, msg);
	return len;
}

static __poll_t kport_port_poll(struct file *file, poll_table *wait)
{
	struct kport_handle *h = file->private_data;

	/* Added to the waitqueue before looking: see kport_wake_pollers(). */
	poll_wait(file, &h->port->poll_wq, wait);
	return kport_queue_poll_mask(h->port);
}

static int kport_handle_release(struct inode *inode, struct file *file)
{
	struct kport_handle *h = file->private_data;
	struct kport_port *port = h->port;

	if (h->creator)
		kport_port_delete(port);
	kport_handle_release_all(h);
	atomic_dec(&port->handles);
	/* Ordered with kport_port_delete()'s look by kport_table_lock. */
	if (kport_handle_is_owners(h) &&
	    atomic_dec_and_test(&port->owner_handles)) {
		mutex_lock(&kport_table_lock);
		kport_uncount_locked(port);
		mutex_unlock(&kport_table_lock);
	}
	put_pid(h->opener.pid);
	kport_user_put(h->user);
	kfree(h);
	kport_port_put(port);
	return 0;
}

static void kport_port_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct kport_handle *h = file->private_data;

	seq_printf(m, "kport-id:\t%llu\n", h->port->id);
	seq_printf(m, "kport-name:\t%s\n", h->port->name);
	seq_printf(m, "kport-rights:\t%s%s\n",
		   h->rights & KPORT_RIGHT_SEND ? "send" : "",
		   h->rights & KPORT_RIGHT_RECV ?
		   (h->rights & KPORT_RIGHT_SEND ? ",recv" : "recv") : "");
	seq_printf(m, "kport-creator:\t%d\n", h->creator);
}

const struct file_operations kport_port_fops = {
	.owner		= THIS_MODULE,
	.release	= kport_handle_release,
	.read		= kport_port_read,
	.write		= kport_port_write,
	.poll		= kport_port_poll,
	.mmap		= kport_port_mmap,
	.unlocked_ioctl	= kport_port_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= kport_port_show_fdinfo,
};
