/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kport tracepoints: events/kport/ in tracefs, for bpftrace, perf and
 * trace-cmd.  doc/semantics.md, "Tracepoints", lists them with what each
 * field means; selftests/trace.c checks what they record.
 *
 * Every event names the port by its id (the id of /proc/kport and of a
 * handle's fdinfo); "pid" is the global tgid of the task the event is
 * about: the task that sends (kport_send), the message's sender as a
 * receiver learns it (kport_recv: for write(), the handle's opener), the
 * task that waits, borrows or is refused.  A disabled event costs a
 * static branch and what its arguments need that has side effects.
 *
 * Each event is emitted where the outcome it records is final: a send
 * once its message is the port's (or refused), a receive at its commit
 * point (kport_queue_delivered()), a port once it is published.  A send's
 * event is emitted as its call returns, so the receive of the same
 * message may be recorded first.  The
 * numbers of how/what/op/limit are the enums of kport.h ("Tracing").
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kport

#if !defined(KPORT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define KPORT_TRACE_H

#include <linux/ktime.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/tracepoint.h>

#include "kport.h"

/* The enums' values by name, for bpftrace and perf (the format files). */
TRACE_DEFINE_ENUM(KPORT_SENT_QUEUED);
TRACE_DEFINE_ENUM(KPORT_SENT_HANDOFF);
TRACE_DEFINE_ENUM(KPORT_SENT_WAITED);
TRACE_DEFINE_ENUM(KPORT_SENT_REFUSED);
TRACE_DEFINE_ENUM(KPORT_SENT_ABANDONED);
TRACE_DEFINE_ENUM(KPORT_WAIT_FOR_SEND);
TRACE_DEFINE_ENUM(KPORT_WAIT_FOR_RECV);
TRACE_DEFINE_ENUM(KPORT_WAIT_FOR_POOL);
TRACE_DEFINE_ENUM(KPORT_WOKEN);
TRACE_DEFINE_ENUM(KPORT_TIMED_OUT);
TRACE_DEFINE_ENUM(KPORT_INTERRUPTED);
TRACE_DEFINE_ENUM(KPORT_DELETED);
TRACE_DEFINE_ENUM(KPORT_POOL_BORROW);
TRACE_DEFINE_ENUM(KPORT_POOL_POST);
TRACE_DEFINE_ENUM(KPORT_POOL_RELEASE);
TRACE_DEFINE_ENUM(KPORT_LIMIT_USER_BYTES);
TRACE_DEFINE_ENUM(KPORT_LIMIT_USER_POOL_BYTES);
TRACE_DEFINE_ENUM(KPORT_LIMIT_PORTS);
TRACE_DEFINE_ENUM(KPORT_LIMIT_PORTS_PER_USER);

/*
 * A port was created; its name is an array, not __string(), because
 * __assign_str() changed its arguments in 6.10, and a name is short.
 */
TRACE_EVENT(kport_port_create,
	    TP_PROTO(u64 id, const char *name, u64 flags, u32 capacity,
		     u32 msg_size, u64 pool_size),
	    TP_ARGS(id, name, flags, capacity, msg_size, pool_size),
	    TP_STRUCT__entry(__field(u64, id)
			     __array(char, name, KPORT_NAME_MAX)
			     __field(u64, flags)
			     __field(u32, capacity)
			     __field(u32, msg_size)
			     __field(u64, pool_size)
			     __field(pid_t, pid)),
	    TP_fast_assign(__entry->id = id;
			   /* @name is a port's: KPORT_NAME_MAX bytes, NUL-padded. */
			   memcpy(__entry->name, name, KPORT_NAME_MAX);
			   __entry->flags = flags;
			   __entry->capacity = capacity;
			   __entry->msg_size = msg_size;
			   __entry->pool_size = pool_size;
			   __entry->pid = task_tgid_nr(current);),
	    TP_printk("id=%llu name=%s flags=%#llx capacity=%u msg_size=%u pool_size=%llu pid=%d",
		      __entry->id, __entry->name[0] ? __entry->name : "-",
		      __entry->flags, __entry->capacity, __entry->msg_size,
		      __entry->pool_size, __entry->pid)
);

/* A port was deleted: the messages it dropped, the waiters it woke. */
TRACE_EVENT(kport_port_delete,
	    TP_PROTO(u64 id, u32 msgs, u32 senders, u32 receivers),
	    TP_ARGS(id, msgs, senders, receivers),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(u32, msgs)
			     __field(u32, senders)
			     __field(u32, receivers)
			     __field(pid_t, pid)),
	    TP_fast_assign(__entry->id = id;
			   __entry->msgs = msgs;
			   __entry->senders = senders;
			   __entry->receivers = receivers;
			   __entry->pid = task_tgid_nr(current);),
	    TP_printk("id=%llu msgs=%u senders=%u receivers=%u pid=%d",
		      __entry->id, __entry->msgs, __entry->senders,
		      __entry->receivers, __entry->pid)
);

/* A send is final: its message is the port's, or it was refused. */
TRACE_EVENT(kport_send,
	    TP_PROTO(u64 id, u32 len, u32 prio, int how, int err),
	    TP_ARGS(id, len, prio, how, err),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(u32, len)
			     __field(u32, prio)
			     __field(pid_t, pid)
			     __field(int, how)
			     __field(int, err)),
	    TP_fast_assign(__entry->id = id;
			   __entry->len = len;
			   __entry->prio = prio;
			   __entry->pid = task_tgid_nr(current);
			   __entry->how = how;
			   __entry->err = err;),
	    TP_printk("id=%llu len=%u prio=%u pid=%d how=%s err=%d",
		      __entry->id, __entry->len, __entry->prio, __entry->pid,
		      __print_symbolic(__entry->how,
				       { KPORT_SENT_QUEUED, "queued" },
				       { KPORT_SENT_HANDOFF, "handoff" },
				       { KPORT_SENT_WAITED, "waited" },
				       { KPORT_SENT_REFUSED, "refused" },
				       { KPORT_SENT_ABANDONED, "abandoned" }),
		      __entry->err)
);

/* A receive reached its commit point (@err 0), or failed. */
TRACE_EVENT(kport_recv,
	    TP_PROTO(u64 id, u32 len, u32 prio, struct pid *sender, bool pool,
		     int err),
	    TP_ARGS(id, len, prio, sender, pool, err),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(u32, len)
			     __field(u32, prio)
			     __field(pid_t, pid)
			     __field(pid_t, receiver)
			     __field(bool, pool)
			     __field(int, err)),
	    TP_fast_assign(__entry->id = id;
			   __entry->len = len;
			   __entry->prio = prio;
			   __entry->pid = sender ? pid_nr(sender) : 0;
			   __entry->receiver = task_tgid_nr(current);
			   __entry->pool = pool;
			   __entry->err = err;),
	    TP_printk("id=%llu len=%u prio=%u pid=%d receiver=%d pool=%d err=%d",
		      __entry->id, __entry->len, __entry->prio, __entry->pid,
		      __entry->receiver, __entry->pool, __entry->err)
);

/* A task blocks on a port. */
TRACE_EVENT(kport_wait_start,
	    TP_PROTO(u64 id, int what),
	    TP_ARGS(id, what),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(pid_t, pid)
			     __field(int, what)),
	    TP_fast_assign(__entry->id = id;
			   __entry->pid = task_tgid_nr(current);
			   __entry->what = what;),
	    TP_printk("id=%llu pid=%d what=%s",
		      __entry->id, __entry->pid,
		      __print_symbolic(__entry->what,
				       { KPORT_WAIT_FOR_SEND, "send" },
				       { KPORT_WAIT_FOR_RECV, "recv" },
				       { KPORT_WAIT_FOR_POOL, "pool" }))
);

/* The wait of kport_wait_start ended, and how. */
TRACE_EVENT(kport_wait_end,
	    TP_PROTO(u64 id, int what, int how, s64 waited_ns),
	    TP_ARGS(id, what, how, waited_ns),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(s64, waited_ns)
			     __field(pid_t, pid)
			     __field(int, what)
			     __field(int, how)),
	    TP_fast_assign(__entry->id = id;
			   __entry->waited_ns = waited_ns;
			   __entry->pid = task_tgid_nr(current);
			   __entry->what = what;
			   __entry->how = how;),
	    TP_printk("id=%llu pid=%d what=%s how=%s waited_ns=%lld",
		      __entry->id, __entry->pid,
		      __print_symbolic(__entry->what,
				       { KPORT_WAIT_FOR_SEND, "send" },
				       { KPORT_WAIT_FOR_RECV, "recv" },
				       { KPORT_WAIT_FOR_POOL, "pool" }),
		      __print_symbolic(__entry->how,
				       { KPORT_WOKEN, "woken" },
				       { KPORT_TIMED_OUT, "timed_out" },
				       { KPORT_INTERRUPTED, "interrupted" },
				       { KPORT_DELETED, "deleted" }),
		      __entry->waited_ns)
);

/* A zero-copy slice was borrowed, posted or released (or refused). */
TRACE_EVENT(kport_pool,
	    TP_PROTO(u64 id, int op, u64 offset, u64 len, int err),
	    TP_ARGS(id, op, offset, len, err),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(u64, offset)
			     __field(u64, len)
			     __field(pid_t, pid)
			     __field(int, op)
			     __field(int, err)),
	    TP_fast_assign(__entry->id = id;
			   __entry->offset = offset;
			   __entry->len = len;
			   __entry->pid = task_tgid_nr(current);
			   __entry->op = op;
			   __entry->err = err;),
	    TP_printk("id=%llu op=%s offset=%llu len=%llu pid=%d err=%d",
		      __entry->id,
		      __print_symbolic(__entry->op,
				       { KPORT_POOL_BORROW, "borrow" },
				       { KPORT_POOL_POST, "post" },
				       { KPORT_POOL_RELEASE, "release" }),
		      __entry->offset, __entry->len, __entry->pid, __entry->err)
);

/* A limit refused what a user asked for. */
TRACE_EVENT(kport_quota,
	    TP_PROTO(kuid_t uid, int limit, u64 asked, u64 max),
	    TP_ARGS(uid, limit, asked, max),
	    TP_STRUCT__entry(__field(u64, asked)
			     __field(u64, max)
			     __field(u32, uid)
			     __field(pid_t, pid)
			     __field(int, limit)),
	    TP_fast_assign(__entry->asked = asked;
			   __entry->max = max;
			   __entry->uid = from_kuid(&init_user_ns, uid);
			   __entry->pid = task_tgid_nr(current);
			   __entry->limit = limit;),
	    TP_printk("uid=%u pid=%d limit=%s asked=%llu max=%llu",
		      __entry->uid, __entry->pid,
		      __print_symbolic(__entry->limit,
				       { KPORT_LIMIT_USER_BYTES, "max_user_bytes" },
				       { KPORT_LIMIT_USER_POOL_BYTES, "max_user_pool_bytes" },
				       { KPORT_LIMIT_PORTS, "max_ports" },
				       { KPORT_LIMIT_PORTS_PER_USER, "max_ports_per_user" }),
		      __entry->asked, __entry->max)
);
/*
 * The wait events' helpers, inline so that a wait with tracing off pays
 * the static branches only.  Once: the lines above are read again by
 * define_trace.h, these need not be.
 */
#ifndef KPORT_TRACE_HELPERS
#define KPORT_TRACE_HELPERS

/**
 * kport_trace_wait_start() - a task begins to wait on @port (trace event)
 * @port: the port.
 * @what: enum kport_trace_wait: what for.
 *
 * Return: when, for kport_trace_wait_end(); 0 unless that event is on,
 * so that a wait with tracing off reads no clock.
 */
static inline ktime_t kport_trace_wait_start(struct kport_port *port,
					     int what)
{
	trace_kport_wait_start(port->id, what);
	return trace_kport_wait_end_enabled() ? ktime_get() : 0;
}

/**
 * kport_trace_wait_end() - the wait begun at @start has ended (trace event)
 * @port:  the port.
 * @what:  as given to kport_trace_wait_start().
 * @err:   the wait's result: 0 (completed), -ETIMEDOUT, -EIDRM (the port
 *         was deleted), or a signal's -ERESTARTSYS or -EINTR.
 * @start: what kport_trace_wait_start() returned.
 */
static inline void kport_trace_wait_end(struct kport_port *port, int what,
					int err, ktime_t start)
{
	int how;

	if (!trace_kport_wait_end_enabled())
		return;
	switch (err) {
	case 0:
		how = KPORT_WOKEN;
		break;
	case -ETIMEDOUT:
		how = KPORT_TIMED_OUT;
		break;
	case -EIDRM:
		how = KPORT_DELETED;
		break;
	default:
		how = KPORT_INTERRUPTED;
	}
	trace_kport_wait_end(port->id, what, how,
			     start ? ktime_to_ns(ktime_sub(ktime_get(), start)) : 0);
}

#endif /* KPORT_TRACE_HELPERS */

#endif /* KPORT_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
