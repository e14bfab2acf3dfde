// SPDX-License-Identifier: GPL-2.0
/*
 * kport pools: shared memory for large payloads.
 *
 * A pool is a vmalloc area the port's receivers map read-only.  A message
 * longer than the pool threshold is copied by the kernel straight from the
 * sender into a slice of the pool (one copy); a receiver may read it in
 * place and release the slice when done.  On a zero-copy port senders map
 * the pool writable, borrow a slice, fill it, and post it (no copy by the
 * kernel).  Slices come from genalloc, page-granular so that no two
 * messages share a page.
 *
 * Where a slice is, at every moment:
 *   free      in genalloc;
 *   borrowed  on the borrowing handle's tree (->borrowed set);
 *   in flight on a message in the port's queue or with a blocked sender;
 *   held      on the receiving handle's tree after an in-place receive.
 * Offsets from userspace are only ever looked up in a handle's own tree:
 * the kernel never trusts, and never parses, what is in shared memory.
 *
 * Locking: handle->lock (spinlock) protects a handle's tree; it is never
 * held with another kport lock.  genalloc is lockless.  Waiting for room
 * uses pool->space_wq; a freed slice wakes every waiter, since a freed
 * slice of one size may satisfy a later waiter and not an earlier one.
 */
#include <linux/genalloc.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/rbtree.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "kport.h"
#include "trace.h"

/**
 * kport_pool_create() - give a port its pool
 * @port:     the port, not yet published.
 * @size:     bytes, a multiple of PAGE_SIZE (checked by the caller).
 * @zerocopy: whether senders may write into it.
 * @user:     charged for @size.
 *
 * Context: process context, may sleep.
 * Return: 0, -ENOBUFS over the user's pool quota, -ENOMEM.
 */
int kport_pool_create(struct kport_port *port, size_t size, bool zerocopy,
		      struct kport_user *user)
{
	struct kport_pool *pool;
	int ret;

	ret = kport_user_charge_pool(user, size);
	if (ret)
		return ret;
	ret = -ENOMEM;
	pool = kzalloc(sizeof(*pool), GFP_KERNEL_ACCOUNT);
	if (!pool)
		goto err_uncharge;
	/* A user's request: fail rather than invoke the OOM killer. */
	pool->vaddr = __vmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_ZERO |
				__GFP_NOWARN | __GFP_RETRY_MAYFAIL);
	if (!pool->vaddr)
		goto err_free;
	pool->slices = gen_pool_create(PAGE_SHIFT, NUMA_NO_NODE);
	if (!pool->slices)
		goto err_vfree;
	if (gen_pool_add(pool->slices, (unsigned long)pool->vaddr, size,
			 NUMA_NO_NODE))
		goto err_genpool;
	pool->size = size;
	pool->threshold = READ_ONCE(kport_pool_threshold);
	pool->zerocopy = zerocopy;
	pool->user = user;
	refcount_inc(&user->ref);
	atomic_set(&pool->held, 0);
	init_waitqueue_head(&pool->space_wq);
	port->pool = pool;
	return 0;

err_genpool:
	gen_pool_destroy(pool->slices);
err_vfree:
	vfree(pool->vaddr);
err_free:
	kfree(pool);
err_uncharge:
	kport_user_uncharge_pool(user, size);
	return ret;
}

/**
 * kport_pool_destroy() - free a pool
 * @pool: a pool whose slices are all free and that nobody maps.
 *
 * Context: process context.
 */
void kport_pool_destroy(struct kport_pool *pool)
{
	gen_pool_destroy(pool->slices);
	vfree(pool->vaddr);
	kport_user_uncharge_pool(pool->user, pool->size);
	kport_user_put(pool->user);
	kfree(pool);
}

/**
 * kport_pool_wake() - let everyone waiting for room look again
 * @pool: the pool.
 *
 * The barrier in wq_has_sleeper() pairs with the one in prepare_to_wait():
 * a waiter either sees the freed slice or is seen here.
 *
 * Context: any.
 */
void kport_pool_wake(struct kport_pool *pool)
{
	if (wq_has_sleeper(&pool->space_wq))
		wake_up_all(&pool->space_wq);
}

/**
 * kport_pool_attach() - give a message a slice of the port's pool
 * @port:     the port, with a pool.
 * @msg:      a message with no inline payload.
 * @len:      payload bytes the slice must hold.
 * @nonblock: fail with -EAGAIN rather than wait for room.
 * @deadline: absolute CLOCK_MONOTONIC time to give up at, or NULL.
 *
 * Context: process context, may sleep.
 * Return: 0 with @msg->pool, ->offset, ->slice and ->len set; -EAGAIN,
 * -ETIMEDOUT, -ERESTARTSYS, or -EIDRM if the port is deleted meanwhile.
 */
int kport_pool_attach(struct kport_port *port, struct kport_kmsg *msg,
		      u32 len, bool nonblock, const ktime_t *deadline)
{
	struct kport_pool *pool = port->pool;
	size_t size = PAGE_ALIGN(max_t(u32, len, 1));
	DEFINE_WAIT(wait);
	bool waited = false;
	unsigned long addr;
	ktime_t start = 0;
	int ret = 0;

	for (;;) {
		prepare_to_wait(&pool->space_wq, &wait, TASK_INTERRUPTIBLE);
		addr = gen_pool_alloc(pool->slices, size);
		if (addr)
			break;
		/* Written under port->lock before kport_pool_wake(). */
		if (READ_ONCE(port->dead)) {
			ret = -EIDRM;
			break;
		}
		if (nonblock) {
			ret = -EAGAIN;
			break;
		}
		/*
		 * The deadline before signals, as kport_may_wait() has it: a
		 * deadline already past (a timeout of 0) is a call that may
		 * not wait, and a signal must not turn it into -EINTR.
		 */
		if (kport_deadline_passed(deadline)) {
			ret = -ETIMEDOUT;
			break;
		}
		if (signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}
		if (!waited) {
			start = kport_trace_wait_start(port, KPORT_WAIT_FOR_POOL);
			waited = true;
		}
		kport_sleep_until(deadline);
	}
	finish_wait(&pool->space_wq, &wait);
	if (waited)
		kport_trace_wait_end(port, KPORT_WAIT_FOR_POOL, ret, start);
	if (ret)
		return ret;

	msg->pool = pool;
	msg->offset = addr - (unsigned long)pool->vaddr;
	msg->slice = size;
	msg->len = len;
	return 0;
}

/**
 * kport_pool_detach() - return a message's slice to its pool, wiped
 * @msg: a message with a slice, on no list and no tree.
 *
 * Context: process context (the wipe may be long).
 */
void kport_pool_detach(struct kport_kmsg *msg)
{
	struct kport_pool *pool = msg->pool;
	void *slice = pool->vaddr + msg->offset;

	/*
	 * A free slice holds zeroes, as the whole pool did when made: a
	 * handle that maps the pool later must not read what was delivered
	 * before it came.  The whole slice, not the payload: a zero-copy
	 * sender may have written all of it.
	 */
	memset(slice, 0, msg->slice);
	gen_pool_free(pool->slices, (unsigned long)slice, msg->slice);
	msg->pool = NULL;
	kport_pool_wake(pool);
}

/**
 * kport_pool_stat() - fill the pool part of a stat
 * @pool: the pool.
 * @st:   where to.
 *
 * Context: any.
 */
void kport_pool_stat(struct kport_pool *pool, struct kport_stat *st)
{
	st->pool_size = pool->size;
	st->pool_used = gen_pool_size(pool->slices) -
			gen_pool_avail(pool->slices);
	st->slices_held = atomic_read(&pool->held);
	st->pool_threshold = pool->threshold;
}

/* ---- slices held by a handle ---------------------------------------------- */

/**
 * kport_handle_init_slices() - set up a new handle's (empty) set of slices
 * @h: the handle, not yet installed in a file.
 *
 * The slices it will hold: received in place or borrowed, by offset.
 */
void kport_handle_init_slices(struct kport_handle *h)
{
	spin_lock_init(&h->lock);
	h->slices = RB_ROOT;
	atomic_set(&h->maps, 0);
}

static struct kport_kmsg *kport_handle_find_locked(struct kport_handle *h,
						   u64 offset)
{
	struct rb_node *node = h->slices.rb_node;

	lockdep_assert_held(&h->lock);
	while (node) {
		struct kport_kmsg *msg = rb_entry(node, struct kport_kmsg, hnode);

		if (offset < msg->offset)
			node = node->rb_left;
		else if (offset > msg->offset)
			node = node->rb_right;
		else
			return msg;
	}
	return NULL;
}

/**
 * kport_handle_hold() - record that a handle holds a message's slice
 * @h:   the handle.
 * @msg: a pool message on no list.
 *
 * Cannot fail for a message the pool gave out: slices do not overlap.
 * A commit point: once the slice is on the tree, any thread sharing the
 * handle may release or post it, so the caller must not touch @msg again
 * (it calls this after its last step that can fail).
 *
 * Context: takes h->lock.
 * Return: 0, or -EEXIST if the offset is held already (a bug).
 */
int kport_handle_hold(struct kport_handle *h, struct kport_kmsg *msg)
{
	struct rb_node **link = &h->slices.rb_node, *parent = NULL;

	spin_lock(&h->lock);
	while (*link) {
		struct kport_kmsg *other = rb_entry(*link, struct kport_kmsg,
						    hnode);

		parent = *link;
		if (msg->offset < other->offset) {
			link = &parent->rb_left;
		} else if (msg->offset > other->offset) {
			link = &parent->rb_right;
		} else {
			spin_unlock(&h->lock);
			WARN_ON_ONCE(1);
			return -EEXIST;
		}
	}
	rb_link_node(&msg->hnode, parent, link);
	rb_insert_color(&msg->hnode, &h->slices);
	spin_unlock(&h->lock);
	atomic_inc(&msg->pool->held);
	return 0;
}

/*
 * Check @offset and @len against the pool and take the matching slice off
 * @h's tree.  @borrowed: it must be a borrowed slice; @len then only has to
 * fit in it.  Return: the message, or ERR_PTR(-EINVAL) for an offset or
 * length that cannot be a slice or does not match, -ENOENT for a slice @h
 * does not hold (as asked).
 */
static struct kport_kmsg *kport_handle_take(struct kport_handle *h,
					    u64 offset, u64 len, bool borrowed)
{
	struct kport_pool *pool = h->port->pool;
	struct kport_kmsg *msg;
	int ret = 0;

	if (!PAGE_ALIGNED(offset) || offset >= pool->size ||
	    len > pool->size - offset)
		return ERR_PTR(-EINVAL);
	spin_lock(&h->lock);
	msg = kport_handle_find_locked(h, offset);
	if (!msg || (borrowed && !msg->borrowed))
		ret = -ENOENT;
	else if (borrowed ? len > msg->len : len != msg->len)
		ret = -EINVAL;
	else
		rb_erase(&msg->hnode, &h->slices);
	spin_unlock(&h->lock);
	if (ret)
		return ERR_PTR(ret);
	atomic_dec(&pool->held);
	return msg;
}

/**
 * kport_handle_take_borrowed() - take a borrowed slice off a handle to post it
 * @h:      the handle.
 * @offset: the slice, as userspace names it.
 * @len:    the payload length, at most the length borrowed.
 *
 * Context: takes h->lock.
 * Return: the message, ERR_PTR(-EINVAL) or ERR_PTR(-ENOENT).
 */
static struct kport_kmsg *kport_handle_take_borrowed(struct kport_handle *h,
						     u64 offset, u32 len)
{
	return kport_handle_take(h, offset, len, true);
}

/**
 * kport_pool_post() - send a slice borrowed on a zero-copy port (KPORT_MSG_POST)
 * @file:     the sending handle, which borrowed the slice.
 * @m:        the descriptor: the slice's offset and the payload length.
 * @nonblock: see kport_send_one().
 * @deadline: see kport_send_one().
 *
 * The slice leaves the handle's tree before it is sent (so nobody can
 * release it while it travels) and goes back there if the send fails: the
 * borrow stays as it was.  The message is from whoever posts it.
 *
 * Context: process context; may sleep.
 * Return: 0, or a negative errno with the slice still borrowed.
 */
long kport_pool_post(struct file *file, const struct kport_msg *m,
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
		msg = ERR_PTR(-EMSGSIZE);
	else
		msg = kport_handle_take_borrowed(h, m->offset, m->len);
	if (IS_ERR(msg)) {
		trace_kport_pool(port->id, KPORT_POOL_POST, m->offset, m->len,
				 PTR_ERR(msg));
		return PTR_ERR(msg);
	}

	borrowed = msg->len;
	msg->len = m->len;
	/* As kport_msg_alloc() does: it indexes port->queue[]. */
	msg->prio = array_index_nospec(m->priority, KPORT_PRIO_MAX);
	msg->borrowed = false;
	/* The message is from whoever posts it, not whoever borrowed. */
	kport_ident_current(&from);
	put_pid(msg->sender);
	msg->sender = get_pid(from.pid);
	msg->sender_exec = from.exec;
	msg->uid = from.uid;
	ret = kport_queue_send(port, msg, nonblock, deadline);
	trace_kport_pool(port->id, KPORT_POOL_POST, m->offset, m->len, ret);
	if (ret) {
		msg->len = borrowed;
		msg->borrowed = true;
		WARN_ON_ONCE(kport_handle_hold(h, msg));
	}
	return ret;
}

/**
 * kport_handle_release_all() - free every slice a closing handle holds
 * @h: the handle, which nobody else can reach any more.
 *
 * Context: process context.
 */
void kport_handle_release_all(struct kport_handle *h)
{
	struct kport_kmsg *msg, *tmp;
	struct rb_root root;

	spin_lock(&h->lock);
	root = h->slices;
	h->slices = RB_ROOT;
	spin_unlock(&h->lock);
	rbtree_postorder_for_each_entry_safe(msg, tmp, &root, hnode) {
		atomic_dec(&msg->pool->held);
		kport_msg_free(h->port, msg);
	}
}

/* ---- ioctls ------------------------------------------------------------- */

static int kport_slice_check(const struct kport_slice *s, u64 allowed)
{
	if (!kport_reserved_zero(s->__reserved, ARRAY_SIZE(s->__reserved)))
		return -EINVAL;
	return kport_flags_check(s->flags, allowed, s->deadline_ns);
}

/**
 * kport_ioctl_borrow() - KPORT_IOC_BORROW: reserve a slice for a zero-copy send
 * @file: the handle, with the send right (the table checked).
 * @arg:  the struct kport_slice, copied in.
 * @uarg: the caller's: the slice's offset is written there.
 *
 * Context: process context, may sleep.
 * Return: 0 or -errno.
 */
long kport_ioctl_borrow(struct file *file, void *arg, void __user *uarg)
{
	struct kport_handle *h = file->private_data;
	struct kport_port *port = h->port;
	const ktime_t *deadline;
	struct kport_slice *s = arg;
	struct kport_kmsg *msg;
	ktime_t kt;
	int ret;

	if (!port->pool || !port->pool->zerocopy)
		return -EOPNOTSUPP;
	ret = kport_slice_check(s, KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE);
	if (ret)
		return ret;
	if (!s->len || s->len > port->msg_size)
		return -EINVAL;
	deadline = kport_deadline_of(s->flags, s->deadline_ns, &kt);
	/*
	 * A deleted port lends no slice, room or not (kport_pool_attach()
	 * looks only once it would wait): like every call after a delete.
	 */
	if (READ_ONCE(port->dead))
		return -EIDRM;

	/* From nobody yet: POST says who it is from. */
	msg = kport_msg_alloc(port, h->user, &h->opener, 0, 0);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	ret = kport_pool_attach(port, msg, s->len,
				(s->flags & KPORT_MSG_NONBLOCK) ||
				(file->f_flags & O_NONBLOCK), deadline);
	if (ret)
		goto err_free;
	msg->borrowed = true;

	/*
	 * Commit point: the offset is written out before the slice goes on
	 * the handle's tree.  Once it is there another thread of the caller
	 * may release or post it, so nothing may be undone after that.
	 */
	s->offset = msg->offset;
	if (copy_to_user(uarg, s, sizeof(*s))) {
		ret = -EFAULT;
		goto err_free;
	}
	ret = kport_handle_hold(h, msg);
	if (ret)
		goto err_free;
	trace_kport_pool(port->id, KPORT_POOL_BORROW, s->offset, s->len, 0);
	return 0;

err_free:
	kport_msg_free(port, msg);
	trace_kport_pool(port->id, KPORT_POOL_BORROW, 0, s->len, ret);
	return ret;
}

/**
 * kport_ioctl_release() - KPORT_IOC_RELEASE: give back a slice
 * @file: the handle.
 * @arg:  the struct kport_slice, copied in.
 * @uarg: the caller's (not written).
 *
 * Context: process context.
 * Return: 0 or -errno.
 */
long kport_ioctl_release(struct file *file, void *arg, void __user *uarg)
{
	struct kport_handle *h = file->private_data;
	struct kport_slice *s = arg;
	struct kport_kmsg *msg;
	int ret;

	if (!h->port->pool)
		return -EOPNOTSUPP;
	ret = kport_slice_check(s, 0);
	if (ret)
		return ret;
	msg = kport_handle_take(h, s->offset, s->len, false);
	trace_kport_pool(h->port->id, KPORT_POOL_RELEASE, s->offset, s->len,
			 PTR_ERR_OR_ZERO(msg));
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	kport_msg_free(h->port, msg);
	return 0;
}

/* ---- mmap ---------------------------------------------------------------- */

static void kport_pool_vm_open(struct vm_area_struct *vma)
{
	struct kport_handle *h = vma->vm_private_data;

	/* fork() and splits: each VMA counts as a mapping of the handle. */
	atomic_inc(&h->maps);
}

static void kport_pool_vm_close(struct vm_area_struct *vma)
{
	struct kport_handle *h = vma->vm_private_data;

	atomic_dec(&h->maps);
}

static vm_fault_t kport_pool_vm_fault(struct vm_fault *vmf)
{
	struct kport_handle *h = vmf->vma->vm_private_data;
	struct kport_pool *pool = h->port->pool;
	unsigned long offset = vmf->pgoff << PAGE_SHIFT;
	struct page *page;

	if (offset >= pool->size)
		return VM_FAULT_SIGBUS;
	page = vmalloc_to_page(pool->vaddr + offset);
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct kport_pool_vm_ops = {
	.open	= kport_pool_vm_open,
	.close	= kport_pool_vm_close,
	.fault	= kport_pool_vm_fault,
};

/**
 * kport_port_mmap() - map a port's pool
 * @file: the handle.
 * @vma:  the new mapping.
 *
 * Read-only mappings lose VM_MAYWRITE, so mprotect() cannot make them
 * writable later.  Only a sender on a zero-copy port may map writable, and
 * then only shared: a private writable mapping would write to copies the
 * kernel never sees.
 *
 * Context: process context, mmap lock held.
 * Return: 0, -ENODEV (no pool), -EINVAL, -EACCES or -EBUSY.
 */
int kport_port_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct kport_handle *h = file->private_data;
	struct kport_pool *pool = h->port->pool;
	bool zc_sender;

	if (!pool)
		return -ENODEV;
	if (vma->vm_pgoff ||
	    vma->vm_end - vma->vm_start > pool->size)
		return -EINVAL;
	zc_sender = pool->zerocopy && (h->rights & KPORT_RIGHT_SEND);
	if (vma->vm_flags & VM_WRITE) {
		if (!(vma->vm_flags & VM_SHARED))
			return -EINVAL;
		if (!zc_sender)
			return -EACCES;
	} else {
		if (!(h->rights & KPORT_RIGHT_RECV) && !zc_sender)
			return -EACCES;
		vm_flags_clear(vma, VM_MAYWRITE);
	}
	if (atomic_cmpxchg(&h->maps, 0, 1))
		return -EBUSY;
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &kport_pool_vm_ops;
	vma->vm_private_data = h;
	return 0;
}
