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
 * Holding.  Instances are found by their namespace's address, so each
 * holds a counted reference to its namespace: get_ipc_ns(), an inline,
 * and ns->ns.ops->put(), the namespace's own put (ipcns_put(), which is
 * put_ipc_ns(): the call nsfs makes when its inode goes).  The address
 * cannot be reused for another namespace while the instance can be found
 * by it: the instance leaves the table before it lets go of the
 * reference.  So a later namespace never finds an earlier one's instance,
 * whatever it reuses (an address, an inode number).
 *
 * Teardown.  The reference keeps the namespace alive after its last
 * process is gone, so the instance has to notice for itself when it is
 * the only one left: the namespace's count is 1.  Everything that can
 * lead into a namespace holds a count of it: each process's nsproxy, the
 * nsfs inode behind any open /proc/PID/ns/ipc or bind mount of one, a
 * SysV shm attachment made in it, an open /proc/sysvipc file; with none
 * of them left nothing can enter it again (setns() needs an nsfs file or
 * a process's nsproxy, a fork a process in it), so a count of 1 cannot
 * go stale.  The reaper (a delayed work, every KPORT_REAP_INTERVAL while
 * there are instances besides the initial one) tears down such
 * instances: it deletes their ports (waiters get -EIDRM; handles still
 * held elsewhere stay valid and report the port dead), takes them out of
 * the table and drops their reference.  An instance whose ports are all
 * gone is freed by the reaper as well, once nothing refers to it.  Either
 * way within about KPORT_REAP_INTERVAL.
 *
 * Locking: kport_table_lock (a mutex, outermost of kport's locks) protects
 * the instance table and every instance's tables and lists.  ->ref is a
 * refcount so that a port's last put and /proc/kport's release need no
 * lock to let go of their instance.
 */
#include <linux/hashtable.h>
#include <linux/ipc_namespace.h>
#include <linux/mutex.h>
#include <linux/ns_common.h>
#include <linux/proc_ns.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>
#include <linux/workqueue.h>

#include "kport.h"

/* See "Locking" above, and the overview in kport.h. */
DEFINE_MUTEX(kport_table_lock);

/* The instance of the initial IPC namespace: never hashed, never freed. */
struct kport_inst kport_init_inst;

/*
 * Every other instance, by its namespace's address: 1024 buckets (8 KiB),
 * as a machine may run thousands of containers, each one an instance.
 */
static DEFINE_HASHTABLE(kport_insts, 10);
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

/* Let go of the reference kport_inst_new() took (see "Holding" above). */
static void kport_ipc_ns_put(struct ipc_namespace *ns)
{
	ns->ns.ops->put(&ns->ns);
}

static struct kport_inst *kport_inst_new(struct ipc_namespace *ns)
{
	struct kport_inst *inst;

	inst = kzalloc(sizeof(*inst), GFP_KERNEL_ACCOUNT);
	if (!inst)
		return NULL;
	kport_inst_init(inst);
	/* current is in @ns: its nsproxy holds a count we add to. */
	inst->ipc_ns = get_ipc_ns(ns);
	inst->user_ns = get_user_ns(ns->user_ns);
	return inst;
}

static void kport_inst_free_unused(struct kport_inst *inst)
{
	kport_ipc_ns_put(inst->ipc_ns);
	put_user_ns(inst->user_ns);
	kfree(inst);
}

/**
 * kport_inst_get() - the caller's instance
 * @create: make it if its namespace has none yet (for create); else the
 *          caller gets -ENOENT (open and unlink: there is nothing to find).
 *
 * Context: process context; takes kport_table_lock.
 * Return: the instance, referenced (kport_inst_put()), or an ERR_PTR:
 * -ENOENT or -ENOMEM.
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

	/* Allocate outside the table lock, then look again. */
	new = kport_inst_new(ns);
	if (!new)
		return ERR_PTR(-ENOMEM);
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
	if (new)
		kport_inst_free_unused(new);	/* another call made it first */
	return inst;
}

/**
 * kport_inst_put() - drop a reference to an instance
 * @inst: the instance.
 *
 * The last one goes after the instance has left the table (the table
 * holds one while it is there), so it holds its namespace no more.
 *
 * Context: any context: it only frees memory.
 */
void kport_inst_put(struct kport_inst *inst)
{
	if (inst == &kport_init_inst || !refcount_dec_and_test(&inst->ref))
		return;
	WARN_ON_ONCE(inst->hashed || inst->ipc_ns || !list_empty(&inst->ports));
	put_user_ns(inst->user_ns);
	kfree(inst);
}

/*
 * Whether the instance's reference is all that is left of its namespace:
 * see "Teardown" above.
 */
static bool kport_inst_abandoned(struct kport_inst *inst)
{
	return refcount_read(&inst->ipc_ns->ns.count) == 1;
}

/*
 * Take @inst out of the table onto @dead, under kport_table_lock; the
 * caller tears it down (kport_inst_teardown()) once the lock is let go of.
 */
static void kport_inst_unhash_locked(struct kport_inst *inst,
				     struct list_head *dead)
{
	lockdep_assert_held(&kport_table_lock);
	hash_del(&inst->node);
	inst->hashed = false;
	kport_nr_insts--;
	list_add_tail(&inst->reap_node, dead);
}

/*
 * Tear down an unhashed instance: delete its ports, drop its namespace
 * and the table's reference.  Its ports' handles, wherever they are, keep
 * the ports (dead) and so the instance's memory, not its namespace.
 */
static void kport_inst_teardown(struct kport_inst *inst)
{
	struct ipc_namespace *ns = inst->ipc_ns;

	kport_inst_delete_ports(inst);
	/* Nobody may read it past here: it names no namespace of ours. */
	inst->ipc_ns = NULL;
	kport_ipc_ns_put(ns);
	kport_inst_put(inst);
}

/*
 * Every instance to let go of, in one pass: abandoned, or referenced by
 * the table alone (no port, nobody creating one, no /proc/kport open on
 * it).
 */
static void kport_reap(struct work_struct *work)
{
	struct kport_inst *inst, *tmp;
	struct hlist_node *next;
	unsigned int bkt;
	LIST_HEAD(dead);

	mutex_lock(&kport_table_lock);
	hash_for_each_safe(kport_insts, bkt, next, inst, node) {
		if (refcount_read(&inst->ref) == 1 || kport_inst_abandoned(inst))
			kport_inst_unhash_locked(inst, &dead);
	}
	if (kport_nr_insts)
		schedule_delayed_work(&kport_reaper, KPORT_REAP_INTERVAL);
	mutex_unlock(&kport_table_lock);
	list_for_each_entry_safe(inst, tmp, &dead, reap_node)
		kport_inst_teardown(inst);
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
	struct kport_inst *inst, *tmp;
	struct hlist_node *next;
	unsigned int bkt;
	LIST_HEAD(dead);

	cancel_delayed_work_sync(&kport_reaper);
	mutex_lock(&kport_table_lock);
	hash_for_each_safe(kport_insts, bkt, next, inst, node)
		kport_inst_unhash_locked(inst, &dead);
	mutex_unlock(&kport_table_lock);
	list_for_each_entry_safe(inst, tmp, &dead, reap_node)
		kport_inst_teardown(inst);
	kport_inst_delete_ports(&kport_init_inst);
	WARN_ON_ONCE(!list_empty(&kport_init_inst.ports));
}
