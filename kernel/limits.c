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
static DEFINE_HASHTABLE(kport_users, 6);

static struct kport_user *kport_user_find_locked(kuid_t uid)
{
	struct kport_user *user;

	lockdep_assert_held(&kport_users_lock);
	hash_for_each_possible(kport_users, user, node, __kuid_val(uid)) {
		if (uid_eq(user->uid, uid))
			return user;
	}
	return NULL;
}

/**
 * kport_user_get() - find or create the accounting of a user
 * @uid: the user.
 *
 * Context: process context, may sleep.
 * Return: the user with a reference held, or NULL when out of memory.
 */
struct kport_user *kport_user_get(kuid_t uid)
{
	struct kport_user *user, *fresh;

	spin_lock(&kport_users_lock);
	user = kport_user_find_locked(uid);
	if (user)
		refcount_inc(&user->ref);
	spin_unlock(&kport_users_lock);
	if (user)
		return user;

	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return NULL;
	fresh->uid = uid;
	refcount_set(&fresh->ref, 1);
	atomic_long_set(&fresh->bytes, 0);
	atomic_long_set(&fresh->pool_bytes, 0);

	/* Somebody may have added it while we slept in kzalloc(). */
	spin_lock(&kport_users_lock);
	user = kport_user_find_locked(uid);
	if (user) {
		refcount_inc(&user->ref);
	} else {
		hash_add(kport_users, &fresh->node, __kuid_val(uid));
		user = fresh;
		fresh = NULL;
	}
	spin_unlock(&kport_users_lock);
	kfree(fresh);
	return user;
}

/**
 * kport_user_put() - drop a reference taken by kport_user_get()
 * @user: the user.
 *
 * Context: any context that may take a spinlock.
 */
void kport_user_put(struct kport_user *user)
{
	/*
	 * refcount_dec_and_lock(), written out: sparse cannot follow that
	 * function's conditional acquire.  The last reference goes under the
	 * lock kport_user_get() looks in.
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
		     atomic_long_read(&user->pool_bytes) || user->nr_ports);
	kfree(user);
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

/**
 * kport_user_charge() - charge queued-message bytes to a user
 * @user:  the user.
 * @bytes: how many.
 *
 * Context: any.
 * Return: 0, or -ENOBUFS if that would exceed max_user_bytes.
 */
int kport_user_charge(struct kport_user *user, size_t bytes)
{
	unsigned long max = READ_ONCE(kport_max_user_bytes);

	if (unlikely(kport_charge(&user->bytes, bytes, max))) {
		trace_kport_quota(user->uid, KPORT_LIMIT_USER_BYTES,
				  atomic_long_read(&user->bytes) + bytes, max);
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
	WARN_ON_ONCE(atomic_long_sub_return(bytes, &user->bytes) < 0);
}

/**
 * kport_user_charge_pool() - charge a pool to a user
 * @user:  the user.
 * @bytes: the pool's size.
 *
 * Context: any.
 * Return: 0, or -ENOBUFS if that would exceed max_user_pool_bytes.
 */
int kport_user_charge_pool(struct kport_user *user, size_t bytes)
{
	unsigned long max = READ_ONCE(kport_max_user_pool_bytes);

	if (kport_charge(&user->pool_bytes, bytes, max)) {
		trace_kport_quota(user->uid, KPORT_LIMIT_USER_POOL_BYTES,
				  atomic_long_read(&user->pool_bytes) + bytes,
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
	WARN_ON_ONCE(atomic_long_sub_return(bytes, &user->pool_bytes) < 0);
}
