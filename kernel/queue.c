// SPDX-License-Identifier: GPL-2.0
/*
 * kport message queue: sending, receiving, waiting and deletion.
 *
 * Locking: port->lock (a spinlock) protects the queue, both waiter lists,
 * ->dead and the counters.  It is held only for list surgery: payloads
 * are copied from userspace before a send takes it and to userspace after
 * a receive drops it, and messages are allocated and freed outside it.
 * The poll waitqueue is woken after port->lock is dropped.
 *
 * How a message travels (in this order of preference):
 *  1. hand-off: a sender that finds a receiver waiting for a message like
 *     its own gives the message straight to it (struct kport_waiter) and
 *     wakes it; the message never enters the queue;
 *  2. queue: otherwise it is queued if the port has room;
 *  3. wait: otherwise the sender waits on port->senders with its message.
 *     A receiver that frees a slot moves the first waiting sender's message
 *     into the queue and completes that send; on a rendezvous port (no
 *     room ever) a receiver takes the message from the waiting sender.
 * A waiter is completed by whoever changes its state, under port->lock, so
 * every message is delivered exactly once and waiters are served in the
 * order they arrived, one each (no thundering herd).  Blocked senders are
 * served by priority, then in the order they arrived.
 *
 * Rendezvous (capacity 0): a send completes only once a receiver has the
 * message in its own memory, because nothing can hold it meanwhile.  A
 * receiver that takes a message from a sender (or is handed one) leaves
 * that sender KPORT_WAIT_TAKEN, pointed to by msg->rdv, while it copies
 * out; then kport_queue_delivered() completes the sender, or a fault gives
 * the message back to it (kport_queue_putback(), KPORT_WAIT_RETRY): the
 * sender decides again as a new send would (signals, O_NONBLOCK, its
 * deadline) and, if it still waits, waits first in line.  A TAKEN sender
 * ignores signals and its deadline (a receiver has the message: the
 * outcome is a copy away), except a fatal signal: the sender then leaves
 * the message to the receiver, which frees it if the copy fails.
 */
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "kport.h"
#include "trace.h"

/**
 * kport_queue_init() - set up the queue, waiters and stash of a new port
 * @port:     the port, not yet visible to anyone.
 * @capacity: how many messages it queues (0: rendezvous,
 *            KPORT_CAPACITY_UNBOUNDED: no bound but the senders' quotas).
 */
void kport_queue_init(struct kport_port *port, u32 capacity)
{
	int i;

	port->capacity = capacity;
	kport_stash_init(port, capacity);
	spin_lock_init(&port->lock);
	for (i = 0; i < KPORT_PRIO_MAX; i++)
		INIT_LIST_HEAD(&port->queue[i]);
	INIT_LIST_HEAD(&port->senders);
	INIT_LIST_HEAD(&port->receivers);
	init_waitqueue_head(&port->poll_wq);
}

static bool kport_has_room_locked(struct kport_port *port)
{
	lockdep_assert_held(&port->lock);
	if (port->capacity == KPORT_CAPACITY_UNBOUNDED)
		return true;
	return port->nr_msgs < port->capacity;
}

/* @head: put back at the head of its priority (a receive that faulted). */
static void kport_enqueue_locked(struct kport_port *port,
				 struct kport_kmsg *msg, bool head)
{
	lockdep_assert_held(&port->lock);
	if (head)
		list_add(&msg->node, &port->queue[msg->prio]);
	else
		list_add_tail(&msg->node, &port->queue[msg->prio]);
	__set_bit(msg->prio, &port->prio_map);
	port->nr_msgs++;
	port->bytes += msg->len;
}

static void kport_dequeue_locked(struct kport_port *port,
				 struct kport_kmsg *msg)
{
	lockdep_assert_held(&port->lock);
	list_del(&msg->node);
	if (list_empty(&port->queue[msg->prio]))
		__clear_bit(msg->prio, &port->prio_map);
	port->nr_msgs--;
	port->bytes -= msg->len;
}

/* Complete a waiter; see struct kport_waiter for why all this is locked. */
static void kport_waiter_wake_locked(struct kport_port *port,
				     struct kport_waiter *w,
				     enum kport_wait_state state)
{
	lockdep_assert_held(&port->lock);
	list_del_init(&w->node);
	w->state = state;
	wake_up_process(w->task);
}

static bool kport_accepts(const struct kport_waiter *rw,
			  const struct kport_kmsg *msg)
{
	return !rw->from || rw->from == msg->sender;
}

/* Whether a receive with this buffer can take @msg. */
static bool kport_fits(const struct kport_kmsg *msg, u32 bufsize, bool inplace)
{
	return msg->len <= bufsize || (inplace && msg->pool);
}

/*
 * Give @msg to the first waiting receiver that accepts it and whose
 * buffer is large enough.  Receivers ahead of it that accept the message
 * but are too small are woken to look again: they report -EMSGSIZE if the
 * message ends up queued.  Return: whether @msg was handed over.
 */
static bool kport_handoff_locked(struct kport_port *port,
				 struct kport_kmsg *msg)
{
	struct kport_waiter *rw, *tmp;

	lockdep_assert_held(&port->lock);
	list_for_each_entry_safe(rw, tmp, &port->receivers, node) {
		if (!kport_accepts(rw, msg))
			continue;
		port->nr_receivers--;
		if (kport_fits(msg, rw->bufsize, rw->inplace)) {
			rw->msg = msg;
			kport_waiter_wake_locked(port, rw, KPORT_WAIT_DONE);
			return true;
		}
		kport_waiter_wake_locked(port, rw, KPORT_WAIT_RETRY);
	}
	return false;
}

/*
 * Pollers: kport_poll() adds itself to poll_wq before it takes port->lock
 * to read the state; a state change is made under port->lock and followed
 * by this check, whose barrier (in wq_has_sleeper()) pairs with the one in
 * the poller's add_wait_queue().  Either the poller sees the new state or
 * we see the poller.  Callable with port->lock held: the poll waitqueue's
 * lock nests inside it, and nothing takes port->lock under that one.
 */
static void kport_wake_pollers(struct kport_port *port, __poll_t events)
{
	if (wq_has_sleeper(&port->poll_wq))
		wake_up_poll(&port->poll_wq, events);
}

#define KPORT_POLL_IN	(EPOLLIN | EPOLLRDNORM)
#define KPORT_POLL_OUT	(EPOLLOUT | EPOLLWRNORM)

/* Whether a call that cannot be done now may wait: 0, -EAGAIN, -ETIMEDOUT. */
static int kport_may_wait(bool nonblock, const ktime_t *deadline)
{
	if (nonblock)
		return -EAGAIN;
	return kport_deadline_passed(deadline) ? -ETIMEDOUT : 0;
}

/* A waiter's result as kport_trace_wait_end() takes it. */
static int kport_wait_result(int ret, const struct kport_waiter *w)
{
	return !ret && w->state == KPORT_WAIT_DEAD ? -EIDRM : ret;
}

/*
 * Sleep until the waiter is completed, a signal arrives, or the deadline
 * passes.  Called and returns with port->lock held; the waiter is on its
 * list.  The state is checked under the lock before each sleep, and a
 * waker changes it under the lock before calling wake_up_process(), so a
 * completion between the check and schedule() only makes schedule()
 * return at once.  Return: 0 when completed (@w->state says how),
 * otherwise -ERESTARTSYS or -ETIMEDOUT with @w still on its list, or
 * -EINTR (a fatal signal) with @w still TAKEN.  Completion wins over a
 * signal or timeout that raced with it: what was done is reported.
 */
static int kport_wait_locked(struct kport_port *port, struct kport_waiter *w,
			     const ktime_t *deadline)
	__must_hold(&port->lock)
{
	lockdep_assert_held(&port->lock);
	for (;;) {
		if (w->state == KPORT_WAIT_TAKEN) {
			/* See "Rendezvous" above. */
			if (fatal_signal_pending(current))
				return -EINTR;
			set_current_state(TASK_KILLABLE | TASK_FREEZABLE);
			spin_unlock(&port->lock);
			schedule();
			spin_lock(&port->lock);
			continue;
		}
		if (w->state != KPORT_WAIT_WAITING)
			return 0;
		if (signal_pending(current))
			return -ERESTARTSYS;
		if (kport_deadline_passed(deadline))
			return -ETIMEDOUT;
		set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock(&port->lock);
		kport_sleep_until(deadline);
		spin_lock(&port->lock);
	}
}

/*
 * Deliver @msg without waiting: to a waiting receiver, else into the queue
 * if it has room (*@queued is set then).  The caller counts it as sent.
 * Return: 0, or -EAGAIN if neither.
 */
static int kport_deliver_locked(struct kport_port *port,
				struct kport_kmsg *msg, bool *queued)
{
	lockdep_assert_held(&port->lock);
	*queued = false;
	if (kport_handoff_locked(port, msg))
		return 0;
	if (!kport_has_room_locked(port))
		return -EAGAIN;
	kport_enqueue_locked(port, msg, false);
	*queued = true;
	return 0;
}

/**
 * kport_queue_send() - deliver a message to a port
 * @port:     the port.
 * @msg:      a message from kport_msg_alloc(), payload filled.
 * @nonblock: fail with -EAGAIN rather than wait.
 * @deadline: absolute CLOCK_MONOTONIC time to give up at, or NULL.
 *
 * On success the port owns @msg; on failure the caller still does.
 *
 * Context: process context, may sleep; takes port->lock.
 * Return: 0, -EIDRM (deleted), -EAGAIN, -ETIMEDOUT or -ERESTARTSYS.
 */
int kport_queue_send(struct kport_port *port, struct kport_kmsg *msg,
		     bool nonblock, const ktime_t *deadline)
{
	struct kport_waiter w = {
		.task = current,
		.msg = msg,
		.state = KPORT_WAIT_WAITING,
	};
	/* For the trace: @msg may be freed by its receiver before we return. */
	u32 len = msg->len, prio = msg->prio;
	int how = KPORT_SENT_REFUSED;
	__poll_t wake = 0;
	bool retried = false;
	ktime_t start;
	bool queued;
	int ret = 0;

	INIT_LIST_HEAD(&w.node);
	spin_lock(&port->lock);
again:
	if (port->dead) {
		ret = -EIDRM;
		goto out_unlock;
	}
	if (port->capacity) {
		ret = kport_deliver_locked(port, msg, &queued);
		if (!ret) {
			how = queued ? KPORT_SENT_QUEUED : KPORT_SENT_HANDOFF;
			if (queued)
				wake = KPORT_POLL_IN;
			goto out_sent;
		}
	} else {
		/* Hand it over, then wait for the receiver's copy. */
		msg->rdv = &w;
		if (kport_handoff_locked(port, msg)) {
			w.state = KPORT_WAIT_TAKEN;
			how = KPORT_SENT_HANDOFF;
			goto wait;
		}
		msg->rdv = NULL;
	}
	ret = kport_may_wait(nonblock, deadline);
	if (ret)
		goto out_unlock;

	/* Given back by a faulting receiver: first in line again. */
	if (retried)
		list_add(&w.node, &port->senders);
	else
		list_add_tail(&w.node, &port->senders);
	port->nr_senders++;
	/* A receiver on a rendezvous port would not wait now. */
	if (!port->capacity)
		kport_wake_pollers(port, KPORT_POLL_IN);
	how = KPORT_SENT_WAITED;
wait:
	start = kport_trace_wait_start(port, KPORT_WAIT_FOR_SEND);
	ret = kport_wait_locked(port, &w, deadline);
	kport_trace_wait_end(port, KPORT_WAIT_FOR_SEND,
			     kport_wait_result(ret, &w), start);
	if (ret == -EINTR) {
		/*
		 * Killed while a receiver copies the message out: it is the
		 * receiver's now (freed if its copy fails), and as good as
		 * sent to a task that will never see this return.
		 */
		msg->rdv = NULL;
		ret = 0;
		/* For the trace: sent, unless the receiver's copy fails. */
		how = KPORT_SENT_ABANDONED;
		goto out_unlock;
	}
	if (ret) {
		list_del(&w.node);
		port->nr_senders--;
		goto out_unlock;
	}
	if (w.state == KPORT_WAIT_RETRY) {
		/*
		 * A rendezvous receiver gave the message back: nothing has
		 * happened, so decide again as a new send would (signals,
		 * non-blocking, the deadline), which no receiver faulting on
		 * purpose can keep us from doing.
		 */
		ret = -ERESTARTSYS;
		if (signal_pending(current))
			goto out_unlock;
		/* Before any hand-off: one could be refused forever. */
		ret = kport_may_wait(nonblock, deadline);
		if (ret)
			goto out_unlock;
		w.state = KPORT_WAIT_WAITING;
		retried = true;
		goto again;
	}
	/* Completed: whoever completed us counted the message as sent. */
	if (w.state == KPORT_WAIT_DEAD)
		ret = -EIDRM;
	goto out_unlock;
out_sent:
	port->sent++;
out_unlock:
	spin_unlock(&port->lock);
	if (wake)
		kport_wake_pollers(port, wake);
	trace_kport_send(port->id, len, prio, ret ? KPORT_SENT_REFUSED : how,
			 ret);
	return ret;
}

/**
 * kport_queue_send_many() - deliver messages without waiting
 * @port: the port.
 * @msgs: messages from kport_msg_alloc(), payloads filled, in the order
 *        they are sent.
 * @n:    how many.
 *
 * What kport_queue_send() does without waiting, for each message in turn,
 * under one hold of port->lock: a batch pays for the lock and the poll
 * wake-up once, not per message.  Stops at the first message that no
 * receiver takes and the queue has no room for.
 *
 * Not for a rendezvous port, where each send waits for its receiver's copy
 * (kport_queue_send()).
 *
 * Context: process context; takes port->lock.
 * Return: how many were delivered, from the first (the caller still owns
 * the others), or -EIDRM if the port was deleted (none was).
 */
int kport_queue_send_many(struct kport_port *port, struct kport_kmsg **msgs,
			  int n)
{
	bool queued, any = false;
	int i;

	if (WARN_ON_ONCE(!port->capacity))
		return 0;
	spin_lock(&port->lock);
	if (port->dead) {
		spin_unlock(&port->lock);
		return -EIDRM;
	}
	for (i = 0; i < n; i++) {
		if (kport_deliver_locked(port, msgs[i], &queued)) {
			trace_kport_send(port->id, msgs[i]->len, msgs[i]->prio,
					 KPORT_SENT_REFUSED, -EAGAIN);
			break;
		}
		/* Under port->lock: no receiver can free it yet. */
		trace_kport_send(port->id, msgs[i]->len, msgs[i]->prio,
				 queued ? KPORT_SENT_QUEUED : KPORT_SENT_HANDOFF,
				 0);
		any |= queued;
		port->sent++;
	}
	spin_unlock(&port->lock);
	if (any)
		kport_wake_pollers(port, KPORT_POLL_IN);
	return i;
}

/*
 * The first message @from (any sender if NULL) that a receive would get:
 * the queue in priority order, then the blocked senders (highest priority,
 * earliest first).  *@sender is set when it belongs to a blocked sender.
 */
static struct kport_kmsg *kport_peek_locked(struct kport_port *port,
					    struct pid *from,
					    struct kport_waiter **sender)
{
	unsigned long map = port->prio_map;
	struct kport_kmsg *msg, *best = NULL;
	struct kport_waiter *sw;

	lockdep_assert_held(&port->lock);
	*sender = NULL;
	while (map) {
		unsigned int prio = __fls(map);

		list_for_each_entry(msg, &port->queue[prio], node) {
			if (!from || msg->sender == from)
				return msg;
		}
		__clear_bit(prio, &map);
	}
	list_for_each_entry(sw, &port->senders, node) {
		if (from && sw->msg->sender != from)
			continue;
		if (!best || sw->msg->prio > best->prio) {
			best = sw->msg;
			*sender = sw;
		}
	}
	return best;
}

/* Move the best blocked sender's message into the queue; complete it. */
static void kport_refill_locked(struct kport_port *port)
{
	struct kport_waiter *sw, *best = NULL;

	lockdep_assert_held(&port->lock);
	if (!port->capacity || !kport_has_room_locked(port))
		return;
	list_for_each_entry(sw, &port->senders, node) {
		if (!best || sw->msg->prio > best->msg->prio)
			best = sw;
	}
	if (!best)
		return;
	kport_enqueue_locked(port, best->msg, false);
	port->nr_senders--;
	port->sent++;
	kport_waiter_wake_locked(port, best, KPORT_WAIT_DONE);
}

/* Take @msg, found by kport_peek_locked(), for the receiver. */
static void kport_take_locked(struct kport_port *port, struct kport_kmsg *msg,
			      struct kport_waiter *sender)
{
	lockdep_assert_held(&port->lock);
	if (sender && !port->capacity) {
		/* Rendezvous: the sender waits for our copy (see above). */
		port->nr_senders--;
		list_del_init(&sender->node);
		sender->state = KPORT_WAIT_TAKEN;
		msg->rdv = sender;
	} else if (sender) {
		port->nr_senders--;
		port->sent++;
		kport_waiter_wake_locked(port, sender, KPORT_WAIT_DONE);
	} else {
		kport_dequeue_locked(port, msg);
		kport_refill_locked(port);
	}
	port->received++;
}

/*
 * Take the first message @from (any sender if NULL) if it fits the
 * receive's buffer.  Return: the message, NULL if there is none, or
 * ERR_PTR(-EMSGSIZE) with *@needed set (it stays first in line).
 */
static struct kport_kmsg *kport_take_first_locked(struct kport_port *port,
						  struct pid *from,
						  u32 bufsize, bool inplace,
						  u32 *needed)
{
	struct kport_waiter *sender;
	struct kport_kmsg *msg;

	lockdep_assert_held(&port->lock);
	msg = kport_peek_locked(port, from, &sender);
	if (!msg)
		return NULL;
	if (!kport_fits(msg, bufsize, inplace)) {
		*needed = msg->len;
		return ERR_PTR(-EMSGSIZE);
	}
	kport_take_locked(port, msg, sender);
	return msg;
}

/**
 * kport_queue_recv() - take a message from a port
 * @port:     the port.
 * @from:     accept only messages from this thread group, or NULL.
 * @bufsize:  the receiver's buffer size.
 * @inplace:  the receiver takes pool messages in place (any size).
 * @nonblock: fail with -EAGAIN rather than wait.
 * @deadline: absolute CLOCK_MONOTONIC time to give up at, or NULL.
 * @needed:   set to the message's size on -EMSGSIZE.
 *
 * The caller owns the returned message: it copies it out, then frees it
 * with kport_msg_free() or, if the copy faulted, gives it back with
 * kport_queue_putback().
 *
 * Context: process context, may sleep; takes port->lock.
 * Return: the message, or ERR_PTR() of -EIDRM, -EMSGSIZE (the message
 * stays first in line), -EAGAIN, -ETIMEDOUT or -ERESTARTSYS.
 */
struct kport_kmsg *kport_queue_recv(struct kport_port *port, struct pid *from,
				    u32 bufsize, bool inplace, bool nonblock,
				    const ktime_t *deadline, u32 *needed)
{
	struct kport_waiter w;
	struct kport_kmsg *msg;
	ktime_t start;
	int ret;

	spin_lock(&port->lock);
again:
	if (port->dead) {
		ret = -EIDRM;
		goto out_unlock;
	}
	msg = kport_take_first_locked(port, from, bufsize, inplace, needed);
	if (IS_ERR(msg)) {
		ret = PTR_ERR(msg);
		goto out_unlock;
	}
	if (msg)
		goto out_got;
	ret = kport_may_wait(nonblock, deadline);
	if (ret)
		goto out_unlock;

	w.task = current;
	w.msg = NULL;
	w.from = from;
	w.bufsize = bufsize;
	w.inplace = inplace;
	w.state = KPORT_WAIT_WAITING;
	list_add_tail(&w.node, &port->receivers);
	port->nr_receivers++;
	/* A sender on a rendezvous port would not wait now. */
	if (!port->capacity)
		kport_wake_pollers(port, KPORT_POLL_OUT);
	start = kport_trace_wait_start(port, KPORT_WAIT_FOR_RECV);
	ret = kport_wait_locked(port, &w, deadline);
	kport_trace_wait_end(port, KPORT_WAIT_FOR_RECV,
			     kport_wait_result(ret, &w), start);
	if (ret) {
		list_del(&w.node);
		port->nr_receivers--;
		goto out_unlock;
	}
	switch (w.state) {
	case KPORT_WAIT_DONE:
		msg = w.msg;
		port->received++;
		goto out_got;
	case KPORT_WAIT_RETRY:
		goto again;
	default:
		ret = -EIDRM;
		goto out_unlock;
	}

out_got:
	spin_unlock(&port->lock);
	/* A slot was freed, or a sender was completed. */
	kport_wake_pollers(port, KPORT_POLL_OUT);
	return msg;
out_unlock:
	spin_unlock(&port->lock);
	trace_kport_recv(port->id, ret == -EMSGSIZE ? *needed : 0, 0, NULL,
			 false, ret);
	return ERR_PTR(ret);
}

/**
 * kport_queue_recv_many() - take messages without waiting
 * @port:    the port.
 * @bufsize: the receiver's buffer size for each message wanted.
 * @msgs:    where the messages taken go, in order.
 * @n:       how many are wanted.
 * @needed:  set to the size of the message that stopped the run if it was
 *           larger than its buffer (it stays first in line), else to 0.
 *
 * What kport_queue_recv() does without waiting and from any sender, for
 * up to @n messages under one hold of port->lock.  The caller owns the
 * messages as it would one from kport_queue_recv(), and gives back those
 * it could not copy out with kport_queue_putback_many().
 *
 * Context: process context; takes port->lock.
 * Return: how many were taken (0 if none is queued or the first does not
 * fit), or -EIDRM if the port was deleted.
 */
int kport_queue_recv_many(struct kport_port *port, const u32 *bufsize,
			  struct kport_kmsg **msgs, int n, u32 *needed)
{
	struct kport_kmsg *msg;
	int i;

	*needed = 0;
	spin_lock(&port->lock);
	if (port->dead) {
		spin_unlock(&port->lock);
		return -EIDRM;
	}
	for (i = 0; i < n; i++) {
		msg = kport_take_first_locked(port, NULL, bufsize[i], false,
					      needed);
		if (IS_ERR_OR_NULL(msg))
			break;
		msgs[i] = msg;
	}
	spin_unlock(&port->lock);
	/* Slots were freed, or senders completed. */
	if (i)
		kport_wake_pollers(port, KPORT_POLL_OUT);
	return i;
}

static void kport_free_list(struct kport_port *port, struct list_head *list)
{
	struct kport_kmsg *msg, *tmp;

	list_for_each_entry_safe(msg, tmp, list, node)
		kport_msg_free(port, msg);
}

/**
 * kport_queue_delivered() - a receiver has copied a message out
 * @port: the port it came from.
 * @msg:  the message, from kport_queue_recv() or kport_queue_recv_many().
 *
 * The receive's commit point: called once the message is in the
 * receiver's memory and nothing can fail any more, before the message is
 * freed or held.  On a rendezvous port this is what completes the send.
 *
 * Context: process context; takes port->lock on a rendezvous port.
 */
void kport_queue_delivered(struct kport_port *port, struct kport_kmsg *msg)
{
	trace_kport_recv(port->id, msg->len, msg->prio, msg->sender, msg->pool,
			 0);
	if (port->capacity)
		return;
	spin_lock(&port->lock);
	/* Sent now, even if its sender was killed meanwhile (no ->rdv). */
	port->sent++;
	if (msg->rdv) {
		kport_waiter_wake_locked(port, msg->rdv, KPORT_WAIT_DONE);
		msg->rdv = NULL;
	}
	spin_unlock(&port->lock);
}

/**
 * kport_queue_consumed() - a receiver has copied a message out, and is done
 * @port: the port it came from.
 * @msg:  the message.
 *
 * kport_queue_delivered(), then kport_msg_free(): the end of every
 * receive that copies.
 *
 * Context: process context.
 */
void kport_queue_consumed(struct kport_port *port, struct kport_kmsg *msg)
{
	kport_queue_delivered(port, msg);
	kport_msg_free(port, msg);
}

/*
 * Give back @msg, which a receiver could not copy out.  @handoff: offer
 * it to a waiting receiver first.  Return: whether the caller must free
 * it (the port is dead, or it is a rendezvous message whose sender was
 * killed meanwhile and so never sent it).
 */
static bool kport_putback_locked(struct kport_port *port,
				 struct kport_kmsg *msg, bool handoff)
{
	struct kport_waiter *sw = msg->rdv;

	lockdep_assert_held(&port->lock);
	port->received--;
	if (sw) {
		/*
		 * A rendezvous: the message goes back to its sender, never on
		 * to another receiver, so that the sender looks at its
		 * signals, deadline and O_NONBLOCK again before anyone can
		 * take it (see "Rendezvous" above).
		 */
		msg->rdv = NULL;
		kport_waiter_wake_locked(port, sw, port->dead ?
					 KPORT_WAIT_DEAD : KPORT_WAIT_RETRY);
		return false;
	}
	if (port->dead || !port->capacity)
		return true;
	if (!handoff || !kport_handoff_locked(port, msg))
		kport_enqueue_locked(port, msg, true);
	return false;
}

/**
 * kport_queue_putback() - return a message a receiver could not copy out
 * @port: the port it came from.
 * @msg:  the message.
 *
 * The message goes to a waiting receiver or back to the head of its
 * priority, even if that overfills the queue for a while: a fault in the
 * receiver must never lose a message.  On a rendezvous port it goes back
 * to its sender, still waiting.  On a deleted port it is freed (or its
 * rendezvous sender told, and it frees it).
 *
 * Context: process context; takes port->lock.
 */
void kport_queue_putback(struct kport_port *port, struct kport_kmsg *msg)
{
	bool free;

	/* A receive that faulted copying out: it did not happen. */
	trace_kport_recv(port->id, msg->len, msg->prio, msg->sender, msg->pool,
			 -EFAULT);
	spin_lock(&port->lock);
	free = kport_putback_locked(port, msg, true);
	spin_unlock(&port->lock);
	if (free)
		kport_msg_free(port, msg);
	else
		kport_wake_pollers(port, KPORT_POLL_IN);
}

/**
 * kport_queue_putback_many() - return messages a receiver could not copy out
 * @port: the port they came from.
 * @msgs: the messages, in the order they were taken.
 * @n:    how many.
 *
 * As kport_queue_putback(), for several: they go back to the heads of
 * their priorities (or to their senders) in their order.  Rather than hand
 * each to a waiting receiver, every waiting receiver is told to look again
 * (this is the path of a fault, not worth a hand-off of its own).
 *
 * Context: process context; takes port->lock.
 */
void kport_queue_putback_many(struct kport_port *port,
			      struct kport_kmsg **msgs, int n)
{
	struct kport_waiter *rw, *tmp;
	LIST_HEAD(gone);
	int i;

	/* The first is the one whose copy faulted; the others were not tried. */
	trace_kport_recv(port->id, msgs[0]->len, msgs[0]->prio, msgs[0]->sender,
			 msgs[0]->pool, -EFAULT);
	spin_lock(&port->lock);
	for (i = n - 1; i >= 0; i--) {
		if (kport_putback_locked(port, msgs[i], false))
			list_add(&msgs[i]->node, &gone);
	}
	if (!port->dead) {
		list_for_each_entry_safe(rw, tmp, &port->receivers, node) {
			port->nr_receivers--;
			kport_waiter_wake_locked(port, rw, KPORT_WAIT_RETRY);
		}
	}
	spin_unlock(&port->lock);
	kport_wake_pollers(port, KPORT_POLL_IN);
	kport_free_list(port, &gone);
}

/* Detach every queued message onto @list. */
static void kport_splice_queue_locked(struct kport_port *port,
				      struct list_head *list)
{
	int i;

	lockdep_assert_held(&port->lock);
	for (i = 0; i < KPORT_PRIO_MAX; i++)
		list_splice_init(&port->queue[i], list);
	port->prio_map = 0;
	port->nr_msgs = 0;
	port->bytes = 0;
}

/**
 * kport_queue_kill() - mark a port dead and let everyone go
 * @port: the port.
 *
 * Queued messages are freed; every waiter returns -EIDRM (a blocked sender
 * frees its own message); pollers see EPOLLHUP.
 *
 * Context: process context; takes port->lock.
 * Return: 0, or -EIDRM if it was dead already.
 */
int kport_queue_kill(struct kport_port *port)
{
	struct kport_waiter *w, *tmp;
	LIST_HEAD(msgs);

	spin_lock(&port->lock);
	if (port->dead) {
		spin_unlock(&port->lock);
		return -EIDRM;
	}
	/* Under port->lock; kport_stash_push() and the pool read it without. */
	WRITE_ONCE(port->dead, true);
	/*
	 * A port never published (its create failed after the handle was
	 * made) was never created as far as anyone saw: no event.  ->published
	 * was written under kport_table_lock, which every path here took
	 * after the write.
	 */
	if (port->published)
		trace_kport_port_delete(port->id, port->nr_msgs,
					port->nr_senders, port->nr_receivers);
	kport_splice_queue_locked(port, &msgs);
	list_for_each_entry_safe(w, tmp, &port->senders, node)
		kport_waiter_wake_locked(port, w, KPORT_WAIT_DEAD);
	list_for_each_entry_safe(w, tmp, &port->receivers, node)
		kport_waiter_wake_locked(port, w, KPORT_WAIT_DEAD);
	port->nr_senders = 0;
	port->nr_receivers = 0;
	spin_unlock(&port->lock);

	/* Senders and borrowers waiting for pool room must see ->dead. */
	if (port->pool)
		kport_pool_wake(port->pool);
	/* Every poller, exclusive or not, must learn of the hang-up. */
	__wake_up(&port->poll_wq, TASK_NORMAL, 0,
		  poll_to_key(EPOLLHUP | KPORT_POLL_IN | KPORT_POLL_OUT));
	kport_free_list(port, &msgs);
	/* No more sends: what the stash keeps would only wait for the free. */
	kport_stash_drain(port);
	return 0;
}

/**
 * kport_queue_purge() - free what is queued on a port nobody can reach
 * @port: a port with no handles and no waiters, about to be freed.
 *
 * Context: process context.
 */
void kport_queue_purge(struct kport_port *port)
{
	LIST_HEAD(msgs);

	spin_lock(&port->lock);
	WARN_ON_ONCE(!list_empty(&port->senders) ||
		     !list_empty(&port->receivers));
	/* An anonymous port's last close: its deletion, if nobody deleted it. */
	if (!port->dead && port->published)
		trace_kport_port_delete(port->id, port->nr_msgs, 0, 0);
	kport_splice_queue_locked(port, &msgs);
	spin_unlock(&port->lock);
	kport_free_list(port, &msgs);
	kport_stash_drain(port);
}

/**
 * kport_queue_poll_mask() - what a poller of @port may do without waiting
 * @port: the port.
 *
 * Context: takes port->lock.
 * Return: EPOLLIN/EPOLLOUT (with RDNORM/WRNORM) and EPOLLHUP bits.
 */
__poll_t kport_queue_poll_mask(struct kport_port *port)
{
	__poll_t mask = 0;

	spin_lock(&port->lock);
	if (port->dead) {
		mask = EPOLLHUP;
		goto out;
	}
	if (port->nr_msgs || port->nr_senders)
		mask |= KPORT_POLL_IN;
	if (port->capacity ? kport_has_room_locked(port) : port->nr_receivers)
		mask |= KPORT_POLL_OUT;
out:
	spin_unlock(&port->lock);
	return mask;
}

/**
 * kport_queue_stat() - fill the moving parts of a stat
 * @port: the port.
 * @st:   where to.
 *
 * Context: takes port->lock.
 */
void kport_queue_stat(struct kport_port *port, struct kport_stat *st)
{
	struct kport_waiter *sw;

	spin_lock(&port->lock);
	st->nr_msgs = port->nr_msgs + port->nr_senders;
	st->bytes = port->bytes;
	list_for_each_entry(sw, &port->senders, node)
		st->bytes += sw->msg->len;
	st->send_waiters = port->nr_senders;
	st->recv_waiters = port->nr_receivers;
	st->sent = port->sent;
	st->received = port->received;
	if (port->dead)
		st->status |= KPORT_STATUS_DEAD;
	spin_unlock(&port->lock);
}
