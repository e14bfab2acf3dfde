// SPDX-License-Identifier: GPL-2.0
/*
 * kport instances: one set of names, inboxes and ports per IPC namespace,
 * as POSIX message queues have one per namespace.  A process reaches by
 * name or by pid only the ports of its own namespace's instance; a handle
 * it was given works wherever it goes (a capability, not a lookup).
 *
 * Which namespace: current's, at the call (create, open, unlink, and the
 * open of /proc/kport, whose listing is the opener's instance for the life
 * of the file).  The initial IPC namespace has a static instance; every
 * other instance is made by the first create in its namespace.
 *
 * Pinning.  Instances are found by their namespace's address.  A module
 * cannot take and drop a counted reference to an IPC namespace
 * (put_ipc_ns() is not exported before 6.12, and 6.1 is the kernel most
 * users run), and it gets no notice when one dies.  So an instance holds
 * the namespace the way userspace does: an open file of its nsfs inode
 * (open_related_ns(), then fput()), which keeps the namespace, and so its
 * address, alive.  The address cannot be reused for another namespace
 * while the instance can be found by it: the instance leaves the table
 * before it lets go of the file.  So a later namespace never finds an
 * earlier one's instance, whatever it reuses (an address, an inode
 * number).
 *
 * Teardown.  Holding the file keeps the namespace alive after its last
 * process is gone, so the instance has to notice for itself that only its
 * own pin is left.  The reaper (a delayed work, every KPORT_REAP_INTERVAL
 * while there are instances besides the initial one) tears down an
 * instance when, under the nsfs dentry's lock:
 *   - the dentry has one reference, the pin's: nobody else holds the
 *     namespace open (a /proc/PID/ns/ipc file, a bind mount of one), and
 *     with the lock held nobody can take a new one; and
 *   - the namespace has one reference, the nsfs inode's: no process is in
 *     it (each holds one through its nsproxy).
 * Without a process in the namespace or a file of it, nothing can ever
 * enter it again (setns() needs such a file, a fork needs a process in
 * it), so the answer cannot go stale.  Tearing down deletes every port of
 * the instance (waiters get -EIDRM; handles still held elsewhere stay
 * valid and report the port dead), takes the instance out of the table
 * and drops the pin.  An instance whose ports are all gone is freed by the
 * reaper as well, once nothing refers to it.  Either way within about
 * KPORT_REAP_INTERVAL.
 *
 * Locking: kport_table_lock (a mutex, outermost of kport's locks) protects
 * the instance table and every instance's tables and lists.  ->ref is a
 * refcount so that a port's last put and /proc/kport's release need no
 * lock to let go of their instance.
 */
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/ipc_namespace.h>
#include <linux/magic.h>
#include <linux/mutex.h>
#include <linux/ns_common.h>
#include <linux/proc_fs.h>
#include <linux/proc_ns.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <linux/workqueue.h>

#include "kport.h"

/* See "Locking" above, and the overview in kport.h. */
DEFINE_MUTEX(kport_table_lock);

/* The instance of the initial IPC namespace: never hashed, never freed. */
struct kport_inst kport_init_inst;

/* Every other instance, by its namespace's address. */
static DEFINE_HASHTABLE(kport_insts, 6);
static unsigned int kport_nr_insts;

#define KPORT_REAP_INTERVAL	HZ

static void kport_reap(struct work_struct *work);
static DECLARE_DELAYED_WORK(kport_reaper, kport_reap);

static void kport_inst_init(struct kport_inst *inst)
{
	refcount_set(&inst->ref, 1);
	hash_init(inst->names);
	hash_init(inst->inboxes);
	INIT_LIST_HEAD(&inst->ports);
}

/**
 * kport_insts_init() - set up the initial instance
 *
 * Context: module init.
 */
void kport_insts_init(void)
{
	kport_inst_init(&kport_init_inst);
	kport_init_inst.user_ns = &init_user_ns;
}

/*
 * Whether @ns is the initial IPC namespace.  init_ipc_ns is not exported
 * before 6.12; its inode number is fixed, and no other namespace gets it.
 */
static bool kport_ipc_ns_initial(struct ipc_namespace *ns)
{
	return !IS_ENABLED(CONFIG_IPC_NS) || ns->ns.inum == PROC_IPC_INIT_INO;
}

static struct kport_inst *kport_inst_find_locked(struct ipc_namespace *ns)
{
	struct kport_inst *inst;

	lockdep_assert_held(&kport_table_lock);
	hash_for_each_possible(kport_insts, inst, node, hash_ptr(ns, 32)) {
		if (inst->ipc_ns == ns)
			return inst;
	}
	return NULL;
}

/* For open_related_ns(): the namespace itself, referenced. */
static struct ns_common *kport_ipc_ns_get(struct ns_common *ns)
{
	get_ipc_ns(container_of(ns, struct ipc_namespace, ns));
	return ns;
}

/* Whether @file is the nsfs file of @ns. */
static bool kport_pin_is(struct file *file, struct ipc_namespace *ns)
{
	struct inode *inode = file_inode(file);

	return inode->i_sb->s_magic == NSFS_MAGIC &&
	       inode->i_private == &ns->ns;
}

/*
 * An open file of @ns's nsfs inode.  open_related_ns() gives it as a
 * descriptor of the caller's: it is taken back at once.  Another thread
 * of the caller could close that descriptor and open another file at the
 * same number in between; kport_pin_is() catches that (-EAGAIN), and the
 * only file it could close is one of its own process's.  It uses a
 * descriptor slot for that moment: -EMFILE at RLIMIT_NOFILE.
 */
static struct file *kport_pin_ns(struct ipc_namespace *ns)
{
	struct file *file;
	int fd;

	fd = open_related_ns(&ns->ns, kport_ipc_ns_get);
	if (fd < 0)
		return ERR_PTR(fd);
	file = fget(fd);
	close_fd(fd);
	if (!file)
		return ERR_PTR(-EAGAIN);
	if (!kport_pin_is(file, ns)) {
		fput(file);
		return ERR_PTR(-EAGAIN);
	}
	return file;
}

static struct kport_inst *kport_inst_new(struct ipc_namespace *ns)
{
	struct kport_inst *inst;
	struct file *pin;

	inst = kzalloc(sizeof(*inst), GFP_KERNEL_ACCOUNT);
	if (!inst)
		return ERR_PTR(-ENOMEM);
	pin = kport_pin_ns(ns);
	if (IS_ERR(pin)) {
		kfree(inst);
		return ERR_CAST(pin);
	}
	kport_inst_init(inst);
	inst->ipc_ns = ns;
	inst->pin = pin;
	inst->user_ns = get_user_ns(ns->user_ns);
	return inst;
}

/**
 * kport_inst_get() - the caller's instance
 * @create: make it if its namespace has none yet (for create); else the
 *          caller gets -ENOENT (open and unlink: there is nothing to find).
 *
 * Context: process context; takes kport_table_lock.
 * Return: the instance, referenced (kport_inst_put()), or an ERR_PTR:
 * -ENOENT, -ENOMEM, -EMFILE, -EAGAIN.
 */
struct kport_inst *kport_inst_get(bool create)
{
	struct ipc_namespace *ns = current->nsproxy->ipc_ns;
	struct kport_inst *inst, *new;

	if (kport_ipc_ns_initial(ns))
		return &kport_init_inst;
	mutex_lock(&kport_table_lock);
	inst = kport_inst_find_locked(ns);
	if (inst)
		refcount_inc(&inst->ref);
	mutex_unlock(&kport_table_lock);
	if (inst)
		return inst;
	if (!create)
		return ERR_PTR(-ENOENT);

	/* Pinning allocates and may sleep: not under the table lock. */
	new = kport_inst_new(ns);
	if (IS_ERR(new))
		return new;
	mutex_lock(&kport_table_lock);
	inst = kport_inst_find_locked(ns);
	if (inst) {
		refcount_inc(&inst->ref);
	} else {
		inst = new;
		new = NULL;
		refcount_inc(&inst->ref);	/* the table's */
		hash_add(kport_insts, &inst->node, hash_ptr(ns, 32));
		inst->hashed = true;
		if (!kport_nr_insts++)
			schedule_delayed_work(&kport_reaper, KPORT_REAP_INTERVAL);
	}
	mutex_unlock(&kport_table_lock);
	if (new) {
		/* Another create made it first. */
		fput(new->pin);
		put_user_ns(new->user_ns);
		kfree(new);
	}
	return inst;
}

/**
 * kport_inst_put() - drop a reference to an instance
 * @inst: the instance.
 *
 * The last one goes after the instance has left the table (the table
 * holds one while it is there), so it has no pin left to drop.
 *
 * Context: any context: it only frees memory.
 */
void kport_inst_put(struct kport_inst *inst)
{
	if (inst == &kport_init_inst || !refcount_dec_and_test(&inst->ref))
		return;
	WARN_ON_ONCE(inst->hashed || inst->pin || !list_empty(&inst->ports));
	put_user_ns(inst->user_ns);
	kfree(inst);
}

/*
 * Whether nothing but the instance's pin is left of its namespace: see
 * "Teardown" above.
 */
static bool kport_inst_abandoned(struct kport_inst *inst)
{
	struct dentry *dentry = inst->pin->f_path.dentry;
	bool alone;

	spin_lock(&dentry->d_lock);
	alone = d_count(dentry) == 1 &&
		refcount_read(&inst->ipc_ns->ns.count) == 1;
	spin_unlock(&dentry->d_lock);
	return alone;
}

/*
 * Take @inst out of the table, under kport_table_lock.  Return: its pin,
 * for the caller to drop once the lock is let go of.
 */
static struct file *kport_inst_unhash_locked(struct kport_inst *inst)
{
	struct file *pin = inst->pin;

	lockdep_assert_held(&kport_table_lock);
	hash_del(&inst->node);
	inst->hashed = false;
	inst->pin = NULL;
	kport_nr_insts--;
	return pin;
}

/*
 * The next instance to let go of: abandoned, or referenced by the table
 * alone (no port, nobody creating one, no /proc/kport open on it).  It is
 * unhashed, and its pin is in *@pin.
 */
static struct kport_inst *kport_inst_next_dead_locked(struct file **pin)
{
	struct kport_inst *inst;
	unsigned int bkt;

	hash_for_each(kport_insts, bkt, inst, node) {
		if (refcount_read(&inst->ref) == 1 || kport_inst_abandoned(inst)) {
			*pin = kport_inst_unhash_locked(inst);
			return inst;
		}
	}
	return NULL;
}

/*
 * Tear down an unhashed instance: delete its ports, drop its pin and the
 * table's reference.  Its ports' handles, wherever they are, keep the
 * ports (dead) and so the instance's memory, not its namespace.
 */
static void kport_inst_teardown(struct kport_inst *inst, struct file *pin)
{
	kport_inst_delete_ports(inst);
	fput(pin);
	kport_inst_put(inst);
}

static void kport_reap(struct work_struct *work)
{
	struct kport_inst *inst;
	struct file *pin;

	for (;;) {
		mutex_lock(&kport_table_lock);
		inst = kport_inst_next_dead_locked(&pin);
		if (!inst && kport_nr_insts)
			schedule_delayed_work(&kport_reaper, KPORT_REAP_INTERVAL);
		mutex_unlock(&kport_table_lock);
		if (!inst)
			return;
		kport_inst_teardown(inst, pin);
	}
}

/**
 * kport_insts_destroy() - delete every port of every instance
 *
 * At module exit, when no handle is left (each pins the module): what
 * remains are ports held by their tables alone, and the instances.
 *
 * Context: module exit.
 */
void kport_insts_destroy(void)
{
	struct kport_inst *inst;
	struct file *pin;
	unsigned int bkt;

	cancel_delayed_work_sync(&kport_reaper);
	for (;;) {
		inst = NULL;
		mutex_lock(&kport_table_lock);
		hash_for_each(kport_insts, bkt, inst, node)
			break;
		if (inst)
			pin = kport_inst_unhash_locked(inst);
		mutex_unlock(&kport_table_lock);
		if (!inst)
			break;
		kport_inst_teardown(inst, pin);
	}
	kport_inst_delete_ports(&kport_init_inst);
}
