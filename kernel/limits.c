// SPDX-License-Identifier: GPL-2.0
/*
 * kport limits and per-user accounting.
 *
 * Every allocation a user can cause is bounded here or by an existing
 * limit: ports by max_ports and max_ports_per_user, queued messages by
 * max_user_bytes per user, pools by max_pool_size each and
 * max_user_pool_bytes per user (and all of them by the memory cgroup, as
 * they are allocated with __GFP_ACCOUNT), handles by RLIMIT_NOFILE, slices
 * held by the pool they come from, waiters live on the waiting task's
 * stack.
 *
 * Users are counted per user namespace, as ucounts counts them: a user is
 * an effective uid as a credential of some user namespace has it, and the
 * user who created a namespace answers for what every user of that
 * namespace charges (when that is root of the initial namespace, the
 * initial namespace's user the id is: see kport_user_parent()).  So
 * every charge is made at each level, from the user up to the initial
 * namespace (each namespace's parent level is its creator's), and
 * refused at the first level it would take past the
 * limit: a user namespace's many uids share their creator's quota, they
 * do not multiply it.  The limits are the same at every level.  In the
 * initial namespace there is one level, and the cost is what it was.
 *
 * Locking: kport_users_lock (spinlock) protects the users hash and is the
 * innermost lock.  A user's byte counts are changed locklessly with
 * cmpxchg so that a send to an unbounded port costs no shared lock; its
 * port count is under kport_table_lock (port.c).
 */
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/user_namespace.h>

#include "kport.h"
#include "trace.h"

unsigned int kport_max_ports = 1024;
unsigned int kport_max_ports_per_user = 256;
unsigned int kport_max_msg_size = 1U << 20;
unsigned int kport_max_capacity = 65536;
unsigned long kport_max_user_bytes = 64UL << 20;
unsigned long kport_max_pool_size = 256UL << 20;
unsigned int kport_pool_threshold = 16384;
unsigned long kport_max_user_pool_bytes = 1UL << 30;

static int kport_set_msg_size(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, KPORT_MSG_SIZE_CEILING);
}

static const struct kernel_param_ops kport_msg_size_ops = {
	.set = kport_set_msg_size,
	.get = param_get_uint,
};

/* 0xffffffff is KPORT_CAPACITY_UNBOUNDED, never a bounded capacity. */
static int kport_set_capacity(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, KPORT_CAPACITY_UNBOUNDED - 1);
}

static const struct kernel_param_ops kport_capacity_ops = {
	.set = kport_set_capacity,
	.get = param_get_uint,
};

static int kport_set_pool_size(const char *val, const struct kernel_param *kp)
{
	unsigned long size;
	int ret;

	ret = kstrtoul(val, 0, &size);
	if (ret)
		return ret;
	if (!size || size > KPORT_POOL_SIZE_CEILING || !PAGE_ALIGNED(size))
		return -EINVAL;
	WRITE_ONCE(*(unsigned long *)kp->arg, size);
	return 0;
}

static const struct kernel_param_ops kport_pool_size_ops = {
	.set = kport_set_pool_size,
	.get = param_get_ulong,
};

static int kport_set_threshold(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, KPORT_MSG_SIZE_CEILING);
}

static const struct kernel_param_ops kport_threshold_ops = {
	.set = kport_set_threshold,
	.get = param_get_uint,
};

module_param_named(max_ports, kport_max_ports, uint, 0644);
MODULE_PARM_DESC(max_ports, "Ports that may exist at once");
module_param_named(max_ports_per_user, kport_max_ports_per_user, uint, 0644);
MODULE_PARM_DESC(max_ports_per_user, "Ports one user may own");
module_param_cb(max_msg_size, &kport_msg_size_ops, &kport_max_msg_size, 0644);
MODULE_PARM_DESC(max_msg_size, "Largest message size a port may have (bytes, at most 64 MiB)");
module_param_cb(max_capacity, &kport_capacity_ops, &kport_max_capacity, 0644);
MODULE_PARM_DESC(max_capacity, "Largest bounded port capacity (messages)");
module_param_named(max_user_bytes, kport_max_user_bytes, ulong, 0644);
MODULE_PARM_DESC(max_user_bytes, "Bytes of queued messages one user may have charged");
module_param_cb(max_pool_size, &kport_pool_size_ops, &kport_max_pool_size, 0644);
MODULE_PARM_DESC(max_pool_size, "Largest pool a port may have (bytes, page multiple, at most 1 GiB)");
module_param_cb(pool_threshold, &kport_threshold_ops, &kport_pool_threshold, 0644);
MODULE_PARM_DESC(pool_threshold, "Messages longer than this travel through a port's pool (bytes)");
module_param_named(max_user_pool_bytes, kport_max_user_pool_bytes, ulong, 0644);
MODULE_PARM_DESC(max_user_pool_bytes, "Bytes of pools one user's ports may have");

static DEFINE_SPINLOCK(kport_users_lock);
/*
 * 1024 buckets (8 KiB): a user is one per (user namespace, uid) charging,
 * and a container's ids may be thousands.
 */
static DEFINE_HASHTABLE(kport_users, 10);

static unsigned long kport_user_key(struct user_namespace *ns, kuid_t uid)
{
	return (unsigned long)ns ^ __kuid_val(uid);
}

static struct kport_user *kport_user_find_locked(struct user_namespace *ns,
						 kuid_t uid)
{
	struct kport_user *user;

	lockdep_assert_held(&kport_users_lock);
	hash_for_each_possible(kport_users, user, node, kport_user_key(ns, uid)) {
		if (user->ns == ns && uid_eq(user->uid, uid))
			return user;
	}
	return NULL;
}

/*
 * Who answers, one level up, for what @uid charges as a user of @ns
 * (@ns not the initial namespace), referenced; NULL without memory.
 * Its creator, as @ns's parent has it; but for a namespace root of the
 * initial namespace made (a rootful container runtime's), the user of
 * the initial namespace that @uid is: root's one quota, shared by every
 * such container, would let one container's user starve the host and
 * every other container, while the ids a runtime maps are its own to
 * answer for (userns-remap's subordinate ids, or root's own).  So every
 * charge is bounded at the top, whoever made the namespaces.
 */
static struct kport_user *kport_user_get_ns(struct user_namespace *ns,
					    kuid_t uid);

static struct kport_user *kport_user_parent(struct user_namespace *ns,
					    kuid_t uid)
{
	if (ns->parent == &init_user_ns && uid_eq(ns->owner, GLOBAL_ROOT_UID))
		return kport_user_get_ns(&init_user_ns, uid);
	return kport_user_get_ns(ns->parent, ns->owner);
}

/*
 * The accounting of @uid as a user of @ns, and, through ->parent, of
 * every level above it.  Namespaces nest at most 32 deep, so the
 * recursion is bounded.
 */
static struct kport_user *kport_user_get_ns(struct user_namespace *ns,
					    kuid_t uid)
{
	struct kport_user *user, *fresh, *parent = NULL;

	spin_lock(&kport_users_lock);
	user = kport_user_find_locked(ns, uid);
	if (user)
		refcount_inc(&user->ref);
	spin_unlock(&kport_users_lock);
	if (user)
		return user;

	if (ns != &init_user_ns) {
		parent = kport_user_parent(ns, uid);
		if (!parent)
			return NULL;
	}
	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh) {
		kport_user_put(parent);
		return NULL;
	}
	fresh->uid = uid;
	fresh->ns = get_user_ns(ns);
	fresh->parent = parent;
	refcount_set(&fresh->ref, 1);
	atomic_long_set(&fresh->bytes, 0);
	atomic_long_set(&fresh->pool_bytes, 0);

	/* Somebody may have added it while we slept in kzalloc(). */
	spin_lock(&kport_users_lock);
	user = kport_user_find_locked(ns, uid);
	if (user) {
		refcount_inc(&user->ref);
	} else {
		hash_add(kport_users, &fresh->node, kport_user_key(ns, uid));
		user = fresh;
		fresh = NULL;
	}
	spin_unlock(&kport_users_lock);
	if (fresh) {
		kport_user_put(parent);
		put_user_ns(fresh->ns);
		kfree(fresh);
	}
	return user;
}

/**
 * kport_user_get() - find or create the accounting of a credential's user
 * @cred: whose effective uid, in whose user namespace.
 *
 * Context: process context, may sleep.
 * Return: the user with a reference held, or NULL when out of memory.
 */
struct kport_user *kport_user_get(const struct cred *cred)
{
	return kport_user_get_ns(cred->user_ns, cred->euid);
}

/**
 * kport_user_put() - drop a reference taken by kport_user_get()
 * @user: the user, or NULL.
 *
 * The last reference to a user drops its reference to the level above.
 *
 * Context: any context that may take a spinlock.
 */
void kport_user_put(struct kport_user *user)
{
	struct kport_user *parent;

	while (user) {
		/*
		 * refcount_dec_and_lock(), written out: sparse cannot follow
		 * that function's conditional acquire.  The last reference
		 * goes under the lock kport_user_get() looks in.
		 */
		if (refcount_dec_not_one(&user->ref))
			return;
		spin_lock(&kport_users_lock);
		if (!refcount_dec_and_test(&user->ref)) {
			spin_unlock(&kport_users_lock);
			return;
		}
		hash_del(&user->node);
		spin_unlock(&kport_users_lock);
		WARN_ON_ONCE(atomic_long_read(&user->bytes) ||
			     atomic_long_read(&user->pool_bytes) ||
			     user->nr_ports);
		parent = user->parent;
		put_user_ns(user->ns);
		kfree(user);
		user = parent;
	}
}

/* Add @bytes to @counter unless that would pass @limit. */
static int kport_charge(atomic_long_t *counter, size_t bytes,
			unsigned long limit)
{
	long old = atomic_long_read(counter);

	do {
		if (bytes > limit || old > limit - bytes)
			return -ENOBUFS;
	} while (!atomic_long_try_cmpxchg(counter, &old, old + bytes));
	return 0;
}

/* Which of a user's byte counts. */
static atomic_long_t *kport_counter(struct kport_user *user, bool pool)
{
	return pool ? &user->pool_bytes : &user->bytes;
}

/*
 * Charge @bytes to @user and every level above it, or to none.  Return:
 * NULL, or the level that would have gone past @limit.
 */
static struct kport_user *kport_charge_up(struct kport_user *user, bool pool,
					  size_t bytes, unsigned long limit)
{
	struct kport_user *u, *v;

	for (u = user; u; u = u->parent) {
		if (kport_charge(kport_counter(u, pool), bytes, limit))
			goto undo;
	}
	return NULL;
undo:
	for (v = user; v != u; v = v->parent)
		atomic_long_sub(bytes, kport_counter(v, pool));
	return u;
}

static void kport_uncharge_up(struct kport_user *user, bool pool, size_t bytes)
{
	for (; user; user = user->parent)
		WARN_ON_ONCE(atomic_long_sub_return(bytes,
						    kport_counter(user, pool)) < 0);
}

/**
 * kport_user_charge() - charge queued-message bytes to a user
 * @user:  the user.
 * @bytes: how many.
 *
 * At every level (see the top of this file).
 *
 * Context: any.
 * Return: 0, or -ENOBUFS if that would exceed max_user_bytes somewhere.
 */
int kport_user_charge(struct kport_user *user, size_t bytes)
{
	unsigned long max = READ_ONCE(kport_max_user_bytes);
	struct kport_user *full = kport_charge_up(user, false, bytes, max);

	if (unlikely(full)) {
		trace_kport_quota(full->uid, KPORT_LIMIT_USER_BYTES,
				  atomic_long_read(&full->bytes) + bytes, max);
		return -ENOBUFS;
	}
	return 0;
}

/**
 * kport_user_uncharge() - give back bytes charged by kport_user_charge()
 * @user:  the user.
 * @bytes: how many.
 *
 * Context: any.
 */
void kport_user_uncharge(struct kport_user *user, size_t bytes)
{
	kport_uncharge_up(user, false, bytes);
}

/**
 * kport_user_charge_pool() - charge a pool to a user
 * @user:  the user.
 * @bytes: the pool's size.
 *
 * Context: any.
 * Return: 0, or -ENOBUFS if that would exceed max_user_pool_bytes
 * somewhere.
 */
int kport_user_charge_pool(struct kport_user *user, size_t bytes)
{
	unsigned long max = READ_ONCE(kport_max_user_pool_bytes);
	struct kport_user *full = kport_charge_up(user, true, bytes, max);

	if (full) {
		trace_kport_quota(full->uid, KPORT_LIMIT_USER_POOL_BYTES,
				  atomic_long_read(&full->pool_bytes) + bytes,
				  max);
		return -ENOBUFS;
	}
	return 0;
}

/**
 * kport_user_uncharge_pool() - give back what kport_user_charge_pool() took
 * @user:  the user.
 * @bytes: the pool's size.
 *
 * Context: any.
 */
void kport_user_uncharge_pool(struct kport_user *user, size_t bytes)
{
	kport_uncharge_up(user, true, bytes);
}

/**
 * kport_user_ports_full() - who a new port would take past the limit
 * @user: the port's owner.
 * @max:  max_ports_per_user.
 *
 * Context: under kport_table_lock, which protects ->nr_ports.
 * Return: NULL, or the first level that already owns @max ports.
 */
struct kport_user *kport_user_ports_full(struct kport_user *user,
					 unsigned int max)
{
	for (; user; user = user->parent)
		if (user->nr_ports >= max)
			return user;
	return NULL;
}

/**
 * kport_user_count_port() - one port more or fewer, at every level
 * @user:  the port's owner.
 * @delta: 1 or -1.
 *
 * Context: under kport_table_lock.
 */
void kport_user_count_port(struct kport_user *user, int delta)
{
	for (; user; user = user->parent)
		user->nr_ports += delta;
}
