// SPDX-License-Identifier: GPL-2.0
/*
 * kport message memory: allocating, charging and freeing messages, the
 * slab cache of small ones and each port's stash of spare ones.
 *
 * A message is charged to its sender's quota (struct kport_user,
 * limits.c) from kport_msg_alloc() until kport_msg_free(), whichever
 * queue, waiter or pool slice holds it meanwhile: the quota counts what
 * userspace can make the kernel hold, not where it sits.
 */
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/pid.h>
#include <linux/slab.h>

#include "kport.h"

/*
 * Small messages.  A message whose header and payload fit in
 * KPORT_MSG_SMALL bytes comes from kport_msg_cache rather than kvmalloc(),
 * and when it is freed it goes to its port's stash, where the port's next
 * send finds it: a stream of small messages then neither allocates nor
 * frees, and a batch of them costs one stash hit per message.
 *
 * The stash is bounded by ->stash_max (the capacity, at most
 * KPORT_STASH_MAX; a few for rendezvous and unbounded ports) and dropped
 * when the port is deleted.  A stashed message is memory, not a message:
 * it is charged to the memory cgroup that first allocated it (as a pipe's
 * spare page is) and to no user's quota; every message in use is charged
 * to its sender's quota as before, wherever its memory came from.  Nothing
 * from a previous message can leak: a send fills exactly @len bytes and a
 * receive copies out exactly those.
 *
 * port->stash_lock, not port->lock, so that a sender's allocation and a
 * receiver's free do not contend with the queue; it nests in nothing.
 */
static struct kmem_cache *kport_msg_cache;

/**
 * kport_msg_cache_init() - create the slab cache of small messages
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int kport_msg_cache_init(void)
{
	/* Only the payload may be copied to or from userspace. */
	kport_msg_cache =
		kmem_cache_create_usercopy("kport_msg", KPORT_MSG_SMALL, 0,
					   SLAB_ACCOUNT,
					   offsetof(struct kport_kmsg, data),
					   KPORT_MSG_SMALL -
					   offsetof(struct kport_kmsg, data),
					   NULL);
	return kport_msg_cache ? 0 : -ENOMEM;
}

/**
 * kport_msg_cache_exit() - destroy the cache of small messages
 *
 * Context: module exit, after every port (and so every stash) is gone.
 */
void kport_msg_cache_exit(void)
{
	kmem_cache_destroy(kport_msg_cache);
}

static struct kport_kmsg *kport_stash_pop(struct kport_port *port)
{
	struct kport_kmsg *msg;

	/* A racy look first: an empty stash costs no lock. */
	if (!READ_ONCE(port->nr_stash))
		return NULL;
	spin_lock(&port->stash_lock);
	msg = port->stash;
	if (msg) {
		port->stash = msg->stash_next;
		/* Written under stash_lock, read without it just above. */
		WRITE_ONCE(port->nr_stash, port->nr_stash - 1);
	}
	spin_unlock(&port->stash_lock);
	return msg;
}

/* Return: whether @msg was kept. */
static bool kport_stash_push(struct kport_port *port, struct kport_kmsg *msg)
{
	bool kept = false;

	spin_lock(&port->stash_lock);
	/* ->dead is read unlocked: a late push is dropped by the drain at free. */
	if (port->nr_stash < port->stash_max && !READ_ONCE(port->dead)) {
		msg->stash_next = port->stash;
		port->stash = msg;
		WRITE_ONCE(port->nr_stash, port->nr_stash + 1);
		kept = true;
	}
	spin_unlock(&port->stash_lock);
	return kept;
}

/**
 * kport_stash_drain() - free the stash of a port being deleted or freed
 * @port: the port.
 *
 * Context: process context; takes port->stash_lock.
 */
void kport_stash_drain(struct kport_port *port)
{
	struct kport_kmsg *msg, *next;

	spin_lock(&port->stash_lock);
	msg = port->stash;
	port->stash = NULL;
	WRITE_ONCE(port->nr_stash, 0);
	spin_unlock(&port->stash_lock);
	for (; msg; msg = next) {
		next = msg->stash_next;
		kmem_cache_free(kport_msg_cache, msg);
	}
}

/**
 * kport_stash_init() - set up the (empty) stash of a new port
 * @port:     the port.
 * @capacity: its capacity, which bounds the stash.
 */
void kport_stash_init(struct kport_port *port, u32 capacity)
{
	spin_lock_init(&port->stash_lock);
	port->stash = NULL;
	/* As many as can be in flight, about: a few on a rendezvous port. */
	port->stash_max = capacity ? min_t(u32, capacity, KPORT_STASH_MAX) : 4;
}

/* What a message of @len payload bytes costs, header included. */
static size_t kport_msg_bytes(u32 len)
{
	return struct_size((struct kport_kmsg *)NULL, data, len);
}

/**
 * kport_msg_alloc() - allocate a message and charge it to a user
 * @port: the port it is for (whose stash it may come from).
 * @user: who pays for it while it is queued.
 * @from: who it is from (see struct kport_ident); the pid is referenced.
 * @len:  payload size (already checked against the port's msg_size).
 * @prio: priority.
 *
 * The payload is left for the caller to fill.
 *
 * Context: process context, may sleep.
 * Return: the message, or ERR_PTR(-ENOBUFS) over the user's quota,
 * ERR_PTR(-ENOMEM).
 */
struct kport_kmsg *kport_msg_alloc(struct kport_port *port,
				   struct kport_user *user,
				   const struct kport_ident *from, u32 len,
				   u32 prio)
{
	size_t size = kport_msg_bytes(len);
	struct kport_kmsg *msg;
	bool small = size <= KPORT_MSG_SMALL;
	int ret;

	ret = kport_user_charge(user, size);
	if (ret)
		return ERR_PTR(ret);
	/* Also charged to the sender's memory cgroup (SLAB_ACCOUNT for small). */
	if (small) {
		msg = kport_stash_pop(port);
		if (!msg)
			msg = kmem_cache_alloc(kport_msg_cache, GFP_KERNEL);
	} else {
		msg = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	}
	if (!msg) {
		kport_user_uncharge(user, size);
		return ERR_PTR(-ENOMEM);
	}
	msg->small = small;
	msg->user = user;
	refcount_inc(&user->ref);
	msg->sender = get_pid(from->pid);
	msg->sender_exec = from->exec;
	msg->uid = from->uid;
	msg->len = len;
	/*
	 * Checked by the caller (kport_send_desc_check()); kept in range
	 * under speculation here as well (array_index_nospec() makes an
	 * out-of-range value 0): it indexes port->queue[], and the check
	 * is far from the use.
	 */
	msg->prio = array_index_nospec(prio, KPORT_PRIO_MAX);
	msg->pool = NULL;
	msg->offset = 0;
	msg->slice = 0;
	msg->rdv = NULL;
	msg->borrowed = false;
	return msg;
}

/**
 * kport_msg_free() - free a message and release its charge
 * @port: the port it was allocated for.
 * @msg:  a message on no list.
 *
 * Context: process context.
 */
void kport_msg_free(struct kport_port *port, struct kport_kmsg *msg)
{
	struct kport_user *user = msg->user;

	/* A pool message was charged for its header only. */
	if (msg->pool) {
		kport_pool_detach(msg);
		kport_user_uncharge(user, kport_msg_bytes(0));
	} else {
		kport_user_uncharge(user, kport_msg_bytes(msg->len));
	}
	kport_user_put(user);
	put_pid(msg->sender);
	if (!msg->small)
		kvfree(msg);
	else if (!kport_stash_push(port, msg))
		kmem_cache_free(kport_msg_cache, msg);
}
