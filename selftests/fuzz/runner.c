// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftest: a seeded random-operation fuzzer over the whole ABI.
 *
 * Two to four threads (KPORT_FUZZ_THREADS, default 3; 1 reproduces a run
 * exactly but for timing) pick operations at random from tiny pools so
 * that they keep colliding on the same ports and descriptors:
 *   ioctls   VERSION CREATE OPEN UNLINK SEND RECV STAT DELETE BORROW
 *            RELEASE, and unknown or misdirected commands;
 *   syscalls read write poll epoll close dup fcntl(O_NONBLOCK) mmap
 *            munmap mprotect;
 *   names    four names of the test, anonymous, inbox, invalid ones;
 *   pids     self, a thread, a child with an inbox, 0, -1, a dead pid,
 *            INT_MAX;
 *   sizes    0, 1, msg_size - 1, msg_size, msg_size + 1, huge, the pool
 *            threshold + 1;
 *   flags    valid combinations, each unknown bit, all bits;
 *   structs  reserved words, output-only fields with garbage, the size in
 *            the command (VER0 - 8, VER0, VER0 + 8 with a zero or non-zero
 *            tail, above a page), the wrong direction;
 *   buffers  valid, NULL, unmapped, read-only, straddling an unmapped page;
 *   fds      port handles with every set of rights, dups, /dev/kport, a
 *            pipe, /dev/null, closed numbers.
 * Nothing waits for long: every wait has a deadline of a few milliseconds,
 * is non-blocking, or is interrupted by a per-thread interval timer
 * (SIGUSR1, no SA_RESTART: EINTR).
 *
 * Each operation's result must be in the set doc/semantics.md allows for
 * it, computed from what the arguments call for (an argument error must be
 * reported: no success) and from what the state may be (another thread may
 * have deleted the port, filled the queue, ...: EIDRM is allowed only for a
 * port somebody may have deleted).  Successful results are checked too
 * (payload, sizes, identity, stat against the attributes the port was
 * created with, poll masks).  A violation prints the seed, thread and
 * operation number; the fuzzer goes on and the test fails at the end.
 *
 * To know what each result may be, the threads take a lock per open file
 * around slices and mappings; selftests/chaos.c makes the races this
 * model cannot follow (blind releases, structs made read-only or unmapped
 * mid-call, userfaultfd stalls, SA_RESTART signals, exec and setuid
 * children, two users at once) and judges them by conservation instead.
 *
 * The test runs once as root and once as nobody (then EACCES and the
 * owner's mode bits come into play).  At the end every descriptor is
 * closed and every name unlinked: no port of the fuzzer may remain and the
 * module's refcount must be back.  KPORT_FUZZ_SEED and KPORT_FUZZ_SECONDS
 * (total, default 15; 12 in the debug lane) steer it; each test prints
 *   kport-figure: fuzz ops=N seed=S seconds=S user=root|nobody threads=T
 *
 * The model, the arguments and the verdicts are in the other files of
 * this directory (fuzz.h lists them); here: the operations, the threads
 * that run them, the runs and the tests.
 */
#include "kport_test.h"
#include "fuzz.h"

#include <grp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id	_sigev_un._tid
#endif

static const char *const fz_op_names[FZ_NR_OPS] = {
	"VERSION", "CREATE", "OPEN", "UNLINK", "SEND", "RECV", "STAT",
	"DELETE", "BORROW", "RELEASE", "bad-ioctl", "read", "write", "poll",
	"epoll", "close", "dup", "fcntl", "mmap", "SENDV", "RECVV", "SENDRECV",
};

/* ---- Interrupting blocking calls ------------------------------------------------------ */

static void fz_on_signal(int sig)
{
	(void)sig;
}

static void fz_arm(struct fz_thread *th, bool on)
{
	struct itimerspec its;

	if (!th->timer_ok)
		return;
	memset(&its, 0, sizeof(its));
	if (on) {
		its.it_value.tv_nsec = 2 * 1000 * 1000;
		its.it_interval.tv_nsec = 3 * 1000 * 1000;
	}
	timer_settime(th->timer, 0, &its, NULL);
}

/* ---- The operations ----------------------------------------------------------------------- */

static void fz_op_version(struct fz_thread *th)
{
	struct fz_run *run = th->run;
	struct fz_expect e = { 0 };
	struct kport_version v, *out;
	struct fz_target t;
	unsigned long cmd;
	char what[96];
	long ret;

	fz_target_dev(th, &t);
	fz_target_expect(&t, true, &e);
	memset(&v, 0, sizeof(v));
	if (fz_pct(th, 5)) {
		v.flags = fz_unknown_bit(th, 0);
		e.early |= B(EINVAL);
	}
	if (fz_reserved(th, &v.__reserved32, sizeof(v.__reserved32) + sizeof(v.__reserved)))
		e.early |= B(EINVAL);
	if (fz_pct(th, 30))
		v.features = v.api_version = v.max_capacity = 0xdeadbeef; /* output only */
	out = fz_place(th, KPORT_IOC_VERSION, &v, sizeof(v), true, &cmd, &e,
		       what, sizeof(what));
	FZ_DESC(th, "VERSION on %s, %s", fz_tkind[t.kind], what);
	ret = kt_ioctl(t.fd, cmd, out);
	fz_target_done(&t);
	if (fz_check(th, "VERSION", ret, &e) && ret >= 0 && fz_readable(th, out) &&
	    (out->api_version != KPORT_API_VERSION ||
	     out->name_max != KPORT_NAME_MAX ||
	     out->max_msg_size != run->max_msg_size ||
	     out->max_capacity != run->max_capacity ||
	     out->max_pool_size != run->max_pool_size ||
	     out->pool_threshold != run->threshold || out->flags ||
	     (out->features & (KPORT_FEAT_RENDEZVOUS | KPORT_FEAT_POOL)) !=
	     (KPORT_FEAT_RENDEZVOUS | KPORT_FEAT_POOL)))
		fz_violation(th, "VERSION", "reported api %u name_max %u max_msg_size %u max_capacity %u features %#llx",
			     out->api_version, out->name_max, out->max_msg_size,
			     out->max_capacity, (unsigned long long)out->features);
}

static void fz_op_create(struct fz_thread *th)
{
	static const uint32_t modes[] = { 0600, 0600, 0666, 0644, 0400, 0200, 0, 0777 };
	static const uint64_t good_flags[] = {
		0, 0, 0, KPORT_CREATE_FIXED, KPORT_CREATE_PROCESS,
		KPORT_CREATE_NONBLOCK, KPORT_CREATE_INBOX,
		KPORT_CREATE_INBOX | KPORT_CREATE_NONBLOCK,
		KPORT_CREATE_PROCESS | KPORT_CREATE_FIXED,
		KPORT_CREATE_ZEROCOPY, KPORT_CREATE_ZEROCOPY | KPORT_CREATE_PROCESS,
	};
	struct fz_run *run = th->run;
	struct fz_expect e = { 0 };
	struct kport_create c, *out;
	struct fz_target t;
	uint64_t fin0 = 0;
	unsigned long cmd;
	int name_idx, fd;
	char what[96];
	bool bad_name;
	uint32_t r;
	long ret;

	fz_target_dev(th, &t);
	fz_target_expect(&t, true, &e);
	memset(&c, 0, sizeof(c));
	r = fz_below(th, th->clean ? 90 : 100);
	if (r < 90)
		c.flags = good_flags[fz_below(th, sizeof(good_flags) / sizeof(good_flags[0]))];
	else if (r < 97)
		c.flags = fz_unknown_bit(th, KPORT_CREATE_FLAGS);
	else
		c.flags = ~0ULL;
	bad_name = fz_pick_name(th, c.name, &name_idx, 30);
	if ((c.flags & KPORT_CREATE_INBOX) && (th->clean || fz_pct(th, 85))) {
		memset(c.name, 0, sizeof(c.name));
		bad_name = false;
		name_idx = -2;
	}
	c.mode = fz_pct(th, 3) ? 01000 | 0600 : modes[fz_below(th, 8)];
	switch (fz_below(th, 9)) {
	case 0:
		c.capacity = 0;
		break;
	case 1:
		c.capacity = 1;
		break;
	case 2:
		c.capacity = KPORT_CAPACITY_UNBOUNDED;
		break;
	case 3:
		c.capacity = run->max_capacity;
		break;
	case 4:
		c.capacity = run->max_capacity + 1;
		break;
	case 5:
		c.capacity = 16;
		break;
	default:
		c.capacity = 3;
		break;
	}
	switch (fz_below(th, 12)) {
	case 0:
		c.msg_size = 0;
		break;
	case 1:
		c.msg_size = run->max_msg_size + 1;
		break;
	case 2:
		c.msg_size = 1;
		break;
	case 3:
	case 4:
		c.msg_size = 4096;
		break;
	case 5:
		c.msg_size = 20000;
		break;
	case 6:
		c.msg_size = 65536;
		break;
	default:
		c.msg_size = 64;
		break;
	}
	r = fz_below(th, 100);
	if (c.flags & KPORT_CREATE_ZEROCOPY ? r < 90 : r < 30) {
		c.pool_size = fz_pct(th, 50) ? 65536 : 131072;
		if (c.msg_size > 65536)
			c.msg_size = 65536;
	} else if (r < 34) {
		c.pool_size = 65536 + 1 + fz_below(th, 4095);
	} else if (r < 36) {
		c.pool_size = run->max_pool_size + FZ_PAGE;
	}
	r = fz_below(th, 100);
	c.rights = r < 92 ? 1 + fz_below(th, 3) : r < 96 ? 0 : 4U << fz_below(th, 28);
	if (fz_reserved(th, c.__reserved, sizeof(c.__reserved)))
		e.early |= B(EINVAL);
	if (th->clean) {
		c.mode &= 0777;
		if (c.capacity != KPORT_CAPACITY_UNBOUNDED &&
		    c.capacity > run->max_capacity)
			c.capacity = 3;
		if (!c.msg_size || c.msg_size > run->max_msg_size)
			c.msg_size = 64;
		if (c.pool_size % FZ_PAGE || c.pool_size > run->max_pool_size)
			c.pool_size = 65536;
		if (c.pool_size && c.msg_size > c.pool_size)
			c.msg_size = (uint32_t)c.pool_size;
		if (!c.pool_size)
			c.flags &= ~KPORT_CREATE_ZEROCOPY;
		if (!c.rights || (c.rights & ~KPORT_RIGHTS_ALL))
			c.rights = KPORT_RIGHTS_ALL;
	}

	if (c.flags & ~KPORT_CREATE_FLAGS)
		e.early |= B(EINVAL);
	if (c.mode & ~0777U)
		e.early |= B(EINVAL);
	if (!c.rights || (c.rights & ~KPORT_RIGHTS_ALL))
		e.early |= B(EINVAL);
	if (c.pool_size) {
		if (c.pool_size % FZ_PAGE || c.pool_size > run->max_pool_size ||
		    !c.msg_size || c.msg_size > c.pool_size)
			e.early |= B(EINVAL);
	} else if ((c.flags & KPORT_CREATE_ZEROCOPY) || !c.msg_size ||
		   c.msg_size > run->max_msg_size) {
		e.early |= B(EINVAL);
	}
	if (c.capacity != KPORT_CAPACITY_UNBOUNDED && c.capacity > run->max_capacity)
		e.early |= B(EINVAL);
	if (bad_name || ((c.flags & KPORT_CREATE_INBOX) && c.name[0]))
		e.early |= B(EINVAL);
	if (c.name[0] || (c.flags & KPORT_CREATE_INBOX))
		e.state |= B(EEXIST);
	if (run->enospc_possible)
		e.state |= B(ENOSPC);
	if (name_idx >= 0) {
		fin0 = __atomic_load_n(&run->unl_finished[name_idx], __ATOMIC_SEQ_CST);
		if (!e.early && !e.excl) {
			uint32_t deny = (!(c.mode & 0200) ? 1 : 0) | (!(c.mode & 0400) ? 2 : 0);

			__atomic_fetch_or(&run->name_denies[name_idx], deny,
					  __ATOMIC_SEQ_CST);
		}
	}
	if ((c.flags & KPORT_CREATE_INBOX) && !e.early && !e.excl)
		__atomic_fetch_or(&run->inbox_denies,
				  (!(c.mode & 0200) ? 1U : 0) | (!(c.mode & 0400) ? 2U : 0),
				  __ATOMIC_SEQ_CST);
	out = fz_place(th, KPORT_IOC_CREATE, &c, sizeof(c), false, &cmd, &e,
		       what, sizeof(what));
	FZ_DESC(th, "CREATE on %s, %s: flags %#llx name %d mode %o capacity %u msg_size %u pool %llu rights %#x",
		fz_tkind[t.kind], what, (unsigned long long)c.flags, name_idx,
		c.mode, c.capacity, c.msg_size, (unsigned long long)c.pool_size,
		c.rights);
	ret = kt_ioctl(t.fd, cmd, out);
	fz_target_done(&t);
	if (!fz_check(th, "CREATE", ret, &e) || ret < 0) {
		if (ret >= 0)
			close((int)ret);
		return;
	}
	fd = (int)ret;
	fz_check_handle_fd(th, "CREATE", fd, c.flags & KPORT_CREATE_NONBLOCK);
	{
		struct kport_stat st;
		struct fz_port *p;
		struct fz_ofd *o;
		uint64_t want_flags = c.flags & ~KPORT_CREATE_NONBLOCK;
		bool process = c.flags & (KPORT_CREATE_PROCESS | KPORT_CREATE_INBOX);

		if (c.flags & KPORT_CREATE_INBOX)
			want_flags |= KPORT_CREATE_PROCESS;
		ret = kt_stat(fd, &st);
		p = ret ? NULL : fz_port_get(run, &st, name_idx, fin0);
		/*
		 * Others reach a named port or our inbox as soon as it exists:
		 * it may hold their messages, or be deleted, already.
		 */
		if (ret || st.capacity != c.capacity || st.msg_size != c.msg_size ||
		    st.mode != c.mode || st.port_flags != want_flags ||
		    st.rights != c.rights || st.pool_size != c.pool_size ||
		    st.uid != run->euid ||
		    (st.status && !(p && fz_port_maybe_dead(run, p))) ||
		    (name_idx == -1 && st.nr_msgs) ||
		    st.owner_pid != (process ? run->self : 0) ||
		    strncmp(st.name, c.name, KPORT_NAME_MAX) ||
		    (c.pool_size && st.pool_threshold != run->threshold)) {
			fz_violation(th, "CREATE", "stat of the new port: %ld capacity %u msg_size %u mode %o flags %#llx rights %u pool %llu uid %u status %u owner %d",
				     ret, st.capacity, st.msg_size, st.mode,
				     (unsigned long long)st.port_flags, st.rights,
				     (unsigned long long)st.pool_size, st.uid,
				     st.status, st.owner_pid);
			if (p && process)
				fz_port_kill(p);
			close(fd);
			return;
		}
		o = p ? fz_ofd_new(p, c.rights, process,
				   c.flags & KPORT_CREATE_NONBLOCK) : NULL;
		if (!o) {
			if (p && process)
				fz_port_kill(p);
			close(fd);
			return;
		}
		fz_slot_put(th, fd, o);
	}
}

static void fz_op_open(struct fz_thread *th)
{
	struct fz_run *run = th->run;
	struct fz_expect e = { 0 };
	struct kport_open o, *out;
	struct fz_target t;
	uint64_t fin0 = 0;
	unsigned long cmd;
	bool bad_name, dead = false, badpid = false, inbox;
	int name_idx, fd;
	char what[96];
	uint32_t r, deny;
	long ret;

	fz_target_dev(th, &t);
	fz_target_expect(&t, true, &e);
	memset(&o, 0, sizeof(o));
	r = fz_below(th, th->clean ? 85 : 100);
	if (r < 40)
		o.flags = 0;
	else if (r < 60)
		o.flags = KPORT_OPEN_NONBLOCK;
	else if (r < 85)
		o.flags = KPORT_OPEN_INBOX | (fz_pct(th, 30) ? KPORT_OPEN_NONBLOCK : 0);
	else if (r < 95)
		o.flags = fz_unknown_bit(th, KPORT_OPEN_FLAGS);
	else
		o.flags = ~0ULL;
	inbox = o.flags & KPORT_OPEN_INBOX;
	if (inbox && (th->clean || fz_pct(th, 90))) {
		bad_name = false;
		name_idx = -2;
		o.pid = fz_pick_pid(th, &dead, &badpid);
	} else {
		bad_name = fz_pick_name(th, o.name, &name_idx, th->clean ? 0 : 5);
		/* Any pid: a process or not, ours or not (with INBOX, valid). */
		if (!th->clean && fz_pct(th, 5)) {
			o.pid = (pid_t)(1 + fz_below(th, 1000));
			dead = true;	/* may be no process: ESRCH */
		}
	}
	r = fz_below(th, th->clean ? 95 : 100);
	o.rights = r < 95 ? fz_below(th, 4) : 4U << fz_below(th, 28);
	if (fz_reserved(th, o.__reserved, sizeof(o.__reserved)))
		e.early |= B(EINVAL);

	if (o.flags & ~KPORT_OPEN_FLAGS)
		e.early |= B(EINVAL);
	if (o.rights & ~KPORT_RIGHTS_ALL)
		e.early |= B(EINVAL);
	if (bad_name)
		e.early |= B(EINVAL);
	if (inbox ? o.name[0] || o.pid <= 0 : !o.name[0] || o.pid)
		e.early |= B(EINVAL);
	if (inbox) {
		if (dead)
			e.state |= B(ESRCH) | B(ENOENT);	/* a reused pid has no inbox */
		else
			e.state |= B(ENOENT);
	} else if (name_idx >= 0) {
		e.state |= B(ENOENT);
		fin0 = __atomic_load_n(&run->unl_finished[name_idx], __ATOMIC_SEQ_CST);
	}
	out = fz_place(th, KPORT_IOC_OPEN, &o, sizeof(o), false, &cmd, &e,
		       what, sizeof(what));
	FZ_DESC(th, "OPEN on %s, %s: flags %#llx name %d rights %#x pid %d",
		fz_tkind[t.kind], what, (unsigned long long)o.flags, name_idx,
		o.rights, o.pid);
	ret = kt_ioctl(t.fd, cmd, out);
	fz_target_done(&t);
	/* The mode of whatever port the name (or our inbox) led to. */
	deny = (o.rights & KPORT_RIGHT_SEND ? 1 : 0) |
	       (o.rights & KPORT_RIGHT_RECV ? 2 : 0);
	if (run->nobody && inbox && o.pid != run->child &&
	    (__atomic_load_n(&run->inbox_denies, __ATOMIC_SEQ_CST) & deny))
		e.state |= B(EACCES);
	if (run->nobody && !inbox && name_idx >= 0 &&
	    (__atomic_load_n(&run->name_denies[name_idx], __ATOMIC_SEQ_CST) & deny))
		e.state |= B(EACCES);
	if (!fz_check(th, "OPEN", ret, &e) || ret < 0) {
		if (ret >= 0)
			close((int)ret);
		return;
	}
	fd = (int)ret;
	fz_check_handle_fd(th, "OPEN", fd, o.flags & KPORT_OPEN_NONBLOCK);
	{
		struct kport_stat st;
		struct fz_port *p;
		struct fz_ofd *of;

		ret = kt_stat(fd, &st);
		if (ret || st.rights != o.rights ||
		    (!inbox && strncmp(st.name, o.name, KPORT_NAME_MAX)) ||
		    (inbox && (st.name[0] || !(st.port_flags & KPORT_CREATE_INBOX) ||
			       st.owner_pid != fz_inbox_owner(run, o.pid)))) {
			fz_violation(th, "OPEN", "stat of the opened port: %ld rights %u name '%.20s' flags %#llx owner %d",
				     ret, st.rights, st.name,
				     (unsigned long long)st.port_flags, st.owner_pid);
			close(fd);
			return;
		}
		p = fz_port_get(run, &st, name_idx, fin0);
		of = p ? fz_ofd_new(p, o.rights, false,
				    o.flags & KPORT_OPEN_NONBLOCK) : NULL;
		if (!of) {
			close(fd);
			return;
		}
		fz_check_stat(th, "OPEN", of, &st);
		fz_slot_put(th, fd, of);
	}
}

static void fz_op_unlink(struct fz_thread *th)
{
	struct fz_run *run = th->run;
	struct fz_expect e = { 0 };
	struct kport_unlink u, *out;
	struct fz_target t;
	unsigned long cmd;
	char what[96];
	bool bad_name;
	int name_idx;
	long ret;

	fz_target_dev(th, &t);
	fz_target_expect(&t, true, &e);
	memset(&u, 0, sizeof(u));
	bad_name = fz_pick_name(th, u.name, &name_idx, 5);
	if (fz_pct(th, 4)) {
		u.flags = fz_unknown_bit(th, 0);
		e.early |= B(EINVAL);
	}
	if (fz_reserved(th, u.__reserved, sizeof(u.__reserved)))
		e.early |= B(EINVAL);
	if (bad_name || !u.name[0])
		e.early |= B(EINVAL);
	e.state |= B(ENOENT);
	out = fz_place(th, KPORT_IOC_UNLINK, &u, sizeof(u), false, &cmd, &e,
		       what, sizeof(what));
	FZ_DESC(th, "UNLINK on %s, %s: name %d flags %#llx", fz_tkind[t.kind],
		what, name_idx, (unsigned long long)u.flags);
	if (name_idx >= 0)
		__atomic_fetch_add(&run->unl_started[name_idx], 1, __ATOMIC_SEQ_CST);
	ret = kt_ioctl(t.fd, cmd, out);
	if (name_idx >= 0)
		__atomic_fetch_add(&run->unl_finished[name_idx], 1, __ATOMIC_SEQ_CST);
	fz_target_done(&t);
	fz_check(th, "UNLINK", ret, &e);
}

static void fz_op_send(struct fz_thread *th)
{
	struct fz_run *run = th->run;
	struct fz_expect e = { 0 };
	struct kport_msg m, *out;
	const struct fz_port *p;
	bool may_wait, may_timeout, post, locked = false;
	struct fz_target t;
	unsigned long cmd;
	uint32_t r, bkind = P_VALID;
	size_t valid = 0;
	uint64_t slice_len = 0;
	int slice = -1, i;
	char what[96];
	long ret;

	fz_target_port(th, &t, 8);
	fz_target_expect(&t, false, &e);
	p = t.ofd ? t.ofd->port : NULL;
	memset(&m, 0, sizeof(m));
	r = fz_below(th, th->clean ? 92 : 100);
	if (r < 20)
		m.flags = 0;
	else if (r < 45)
		m.flags = KPORT_MSG_NONBLOCK;
	else if (r < 80)
		m.flags = KPORT_MSG_DEADLINE;
	else if (r < 85)
		m.flags = KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE;
	else if (r < 92)
		m.flags = KPORT_MSG_POST | (fz_pct(th, 50) ? KPORT_MSG_DEADLINE : KPORT_MSG_NONBLOCK);
	else if (r < 95)
		m.flags = fz_pct(th, 50) ? KPORT_MSG_FROM_PID : KPORT_MSG_INPLACE;
	else if (r < 98)
		m.flags = fz_unknown_bit(th, KPORT_MSG_FLAGS);
	else
		m.flags = ~0ULL;
	post = m.flags & KPORT_MSG_POST;
	if (m.flags & ~(KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE | KPORT_MSG_POST))
		e.early |= B(EINVAL);
	if (fz_pick_deadline(th, &m, &may_wait, &may_timeout))
		e.early |= B(EINVAL);
	m.priority = th->clean || fz_pct(th, 95) ? fz_below(th, KPORT_PRIO_MAX) :
		     KPORT_PRIO_MAX + fz_below(th, 1000);
	if (m.priority >= KPORT_PRIO_MAX)
		e.early |= B(EINVAL);
	if (!th->clean && fz_pct(th, 3)) {
		m.pid = (int32_t)kt_rand64(&th->rng) | 1;
		e.early |= B(EINVAL);
	}
	if (!th->clean && fz_pct(th, 3)) {
		m.uid = 1 + fz_below(th, 1000);
		e.early |= B(EINVAL);
	}
	if (!th->clean && fz_pct(th, 3)) {
		m.result = 1 + fz_below(th, 4);
		e.early |= B(EINVAL);
	}
	if (fz_reserved(th, &m.__reserved32, sizeof(m.__reserved32) + sizeof(m.__reserved)))
		e.early |= B(EINVAL);

	if (p && !(t.ofd->rights & KPORT_RIGHT_SEND))
		e.early |= B(EBADF);
	if (p && post) {
		struct fz_ofd *o = t.ofd;

		pthread_mutex_lock(&o->lock);
		locked = true;
		if (!fz_port_zc(p))
			e.early |= B(EOPNOTSUPP);
		m.buf = 0;
		if (fz_pct(th, 4)) {
			m.buf = (uintptr_t)th->send;
			e.early |= B(EINVAL);
		}
		for (slice = 0; slice < o->nslices; slice++)
			if (o->slices[slice].borrowed)
				break;
		if (slice < o->nslices && fz_pct(th, 85)) {
			slice_len = o->slices[slice].len;
			m.offset = o->slices[slice].off;
			m.len = (uint32_t)(o->slices[slice].len - fz_below(th, 2) *
					   fz_below(th, (uint32_t)o->slices[slice].len + 1));
			if (fz_pct(th, 5)) {
				m.len = (uint32_t)o->slices[slice].len + 1;
				e.early |= B(EINVAL);
			}
			if ((p->flags & KPORT_CREATE_FIXED) && m.len != p->msg_size)
				e.early |= B(EMSGSIZE);
			/* The slice leaves the list; it comes back if the post fails. */
			if (!e.excl && !e.early && fz_port_zc(p) && o->map &&
			    (o->map_prot & PROT_WRITE) &&
			    m.offset + m.len <= o->map_len)
				fz_fill(o->map + m.offset, m.len);
		} else {
			slice = -1;
			m.offset = FZ_PAGE * fz_below(th, 40);
			m.len = 1 + fz_below(th, 4096);
			if (fz_pct(th, 20))
				m.offset += 1 + fz_below(th, 4095);
			for (i = 0; i < o->nslices; i++)
				if (o->slices[i].off == m.offset)
					break;
			if (i < o->nslices && o->slices[i].borrowed) {
				/* By chance a slice we borrowed: it is posted. */
				slice = i;
				slice_len = o->slices[i].len;
				if (m.len > slice_len)
					e.early |= B(EINVAL);
			} else {
				e.early |= B(EINVAL) | B(ENOENT);
			}
			if ((p->flags & KPORT_CREATE_FIXED) && m.len != p->msg_size)
				e.early |= B(EMSGSIZE);
		}
	} else if (p) {
		if (!th->clean && fz_pct(th, 3)) {
			m.offset = FZ_PAGE;
			e.early |= B(EINVAL);
		}
		switch (fz_below(th, 9)) {
		case 0:
			m.len = 0;
			break;
		case 1:
			m.len = 1;
			break;
		case 2:
			m.len = p->msg_size - 1;
			break;
		case 3:
			m.len = p->msg_size + 1;
			break;
		case 4:
			m.len = fz_pct(th, 50) ? 0x7fffffffU : 0xffffffffU;
			break;
		case 5:
			m.len = p->pool_size ? p->threshold + 1 : FZ_STRADDLE;
			break;
		default:
			m.len = p->msg_size;
			break;
		}
		if (th->clean && (m.len > p->msg_size ||
				  (p->flags & KPORT_CREATE_FIXED)))
			m.len = p->msg_size;
		bkind = fz_pick_pkind(th, 88);
		m.buf = (uintptr_t)fz_data_ptr(th, bkind, false, &valid);
		if (m.len > p->msg_size ||
		    ((p->flags & KPORT_CREATE_FIXED) && m.len != p->msg_size))
			e.early |= B(EMSGSIZE);
		else if (m.len > valid)
			e.late |= B(EFAULT);
	} else {
		m.len = 1 + fz_below(th, 100);
		m.buf = (uintptr_t)th->send;
	}
	if (p) {
		if (m.flags & KPORT_MSG_NONBLOCK)
			e.state |= B(EAGAIN);
		if (may_timeout)
			e.state |= B(ETIMEDOUT);
		if (may_wait)
			e.state |= B(EINTR);
	}
	out = fz_place(th, KPORT_IOC_SEND, &m, sizeof(m), false, &cmd, &e, what,
		       sizeof(what));
	FZ_DESC(th, "SEND on %s, %s: flags %#llx len %u prio %u buf %s deadline %llu offset %llu port %llu cap %u msg_size %u pool %llu",
		fz_tkind[t.kind], what, (unsigned long long)m.flags, m.len,
		m.priority, post ? "-" : fz_pkind[bkind],
		(unsigned long long)m.deadline_ns, (unsigned long long)m.offset,
		p ? (unsigned long long)p->id : 0ULL, p ? p->capacity : 0,
		p ? p->msg_size : 0, p ? (unsigned long long)p->pool_size : 0ULL);
	if (locked && slice >= 0)
		fz_slice_drop(t.ofd, slice);
	fz_arm(th, may_wait && !may_timeout);
	ret = kt_ioctl(t.fd, cmd, out);
	fz_arm(th, false);
	if (p)
		e.state |= fz_after(run, t.ofd, m.len, !post);
	if (locked) {
		if (slice >= 0 && ret < 0)
			fz_slice_add(t.ofd, m.offset, slice_len, true);
		pthread_mutex_unlock(&t.ofd->lock);
	}
	if (fz_check(th, "SEND", ret, &e) && ret == 0 && p)
		fz_charge(run, p, post ? 0 : m.len, true);
	if (ret == -EINTR)
		__atomic_fetch_add(&run->res->injected_eintr, 1, __ATOMIC_RELAXED);
	fz_target_done(&t);
}

static void fz_op_recv(struct fz_thread *th)
{
	struct fz_run *run = th->run;
	struct fz_expect e = { 0 };
	struct kport_msg m, *out;
	const struct fz_port *p;
	bool may_wait, may_timeout, inplace, locked = false, dead, badpid;
	struct fz_target t;
	uint32_t r, bkind;
	unsigned long cmd;
	size_t valid;
	char *buf;
	char what[96];
	long ret;

	fz_target_port(th, &t, 8);
	fz_target_expect(&t, false, &e);
	p = t.ofd ? t.ofd->port : NULL;
	memset(&m, 0, sizeof(m));
	r = fz_below(th, th->clean ? 88 : 100);
	if (r < 15)
		m.flags = 0;
	else if (r < 40)
		m.flags = KPORT_MSG_NONBLOCK;
	else if (r < 65)
		m.flags = KPORT_MSG_DEADLINE;
	else if (r < 75)
		m.flags = KPORT_MSG_INPLACE | (fz_pct(th, 50) ? KPORT_MSG_DEADLINE : KPORT_MSG_NONBLOCK);
	else if (r < 88)
		m.flags = KPORT_MSG_FROM_PID | (fz_pct(th, 50) ? KPORT_MSG_DEADLINE : KPORT_MSG_NONBLOCK);
	else if (r < 91)
		m.flags = KPORT_MSG_POST | KPORT_MSG_NONBLOCK;
	else if (r < 97)
		m.flags = fz_unknown_bit(th, KPORT_MSG_FLAGS);
	else
		m.flags = ~0ULL;
	inplace = m.flags & KPORT_MSG_INPLACE;
	if (m.flags & ~KPORT_MSG_FLAGS)
		e.early |= B(EINVAL);
	if (fz_pick_deadline(th, &m, &may_wait, &may_timeout))
		e.early |= B(EINVAL);
	if (m.flags & KPORT_MSG_FROM_PID) {
		m.pid = fz_pick_pid(th, &dead, &badpid);
		if (badpid)
			e.early |= B(EINVAL);
		else if (dead)
			e.early |= B(ESRCH);
	} else if (fz_pct(th, 20)) {
		m.pid = (int32_t)kt_rand64(&th->rng);	/* ignored without FROM_PID */
	}
	if (fz_pct(th, 20)) {		/* output only */
		m.priority = (uint32_t)kt_rand64(&th->rng);
		m.uid = (uint32_t)kt_rand64(&th->rng);
		m.offset = kt_rand64(&th->rng);
		m.result = (uint32_t)kt_rand64(&th->rng);
	}
	if (fz_reserved(th, &m.__reserved32, sizeof(m.__reserved32) + sizeof(m.__reserved)))
		e.early |= B(EINVAL);
	bkind = fz_pick_pkind(th, 85);
	buf = fz_data_ptr(th, bkind, true, &valid);
	m.buf = (uintptr_t)buf;
	if (p) {
		switch (th->clean ? 7 : fz_below(th, 8)) {
		case 0:
			m.len = 0;
			break;
		case 1:
			m.len = 1;
			break;
		case 2:
			m.len = p->msg_size - 1;
			break;
		case 3:
			m.len = p->msg_size + 1;
			break;
		case 4:
			m.len = 0xffffffffU;
			break;
		default:
			m.len = p->msg_size;
			break;
		}
		if (!(t.ofd->rights & KPORT_RIGHT_RECV))
			e.early |= B(EBADF);
		if (m.flags & KPORT_MSG_NONBLOCK)
			e.state |= B(EAGAIN);
		if (may_timeout)
			e.state |= B(ETIMEDOUT);
		if (may_wait)
			e.state |= B(EINTR);
		if (m.len < p->msg_size)
			e.state |= B(EMSGSIZE);
		if (valid < p->msg_size && valid < m.len)
			e.state |= B(EFAULT);
		if (m.flags & KPORT_MSG_POST)
			e.early |= B(EINVAL);	/* send only */
		if (bkind == P_VALID)
			memset(buf, 0xa5, m.len < p->msg_size ? m.len : p->msg_size);
		else if (bkind == P_STRAD)
			memset(buf, 0xa5, FZ_STRADDLE);
		if (inplace) {
			pthread_mutex_lock(&t.ofd->lock);
			locked = true;
		}
	} else {
		m.len = 64;
	}
	out = fz_place(th, KPORT_IOC_RECV, &m, sizeof(m), true, &cmd, &e, what,
		       sizeof(what));
	FZ_DESC(th, "RECV on %s, %s: flags %#llx len %u buf %s pid %d deadline %llu port %llu cap %u msg_size %u pool %llu",
		fz_tkind[t.kind], what, (unsigned long long)m.flags, m.len,
		fz_pkind[bkind], m.pid, (unsigned long long)m.deadline_ns,
		p ? (unsigned long long)p->id : 0ULL, p ? p->capacity : 0,
		p ? p->msg_size : 0, p ? (unsigned long long)p->pool_size : 0ULL);
	fz_arm(th, may_wait && !may_timeout);
	ret = kt_ioctl(t.fd, cmd, out);
	fz_arm(th, false);
	if (p)
		e.state |= fz_after(run, t.ofd, 0, false);
	if (ret == -EINTR)
		__atomic_fetch_add(&run->res->injected_eintr, 1, __ATOMIC_RELAXED);
	if (fz_check(th, "RECV", ret, &e) && p && fz_readable(th, out)) {
		const struct kport_msg *got = out;

		if (ret == -EMSGSIZE && got && (cmd & (_IOC_READ << _IOC_DIRSHIFT)) &&
		    (got->len <= m.len || got->len > p->msg_size))
			fz_violation(th, "RECV", "EMSGSIZE with a %u-byte buffer reported %u",
				     m.len, got->len);
		if (ret == 0) {
			bool in_pool = got->result & KPORT_RESULT_INPLACE;

			if (got->result & ~KPORT_RESULT_INPLACE ||
			    (in_pool && (!inplace || !p->pool_size ||
					 got->offset % FZ_PAGE ||
					 got->offset + got->len > p->pool_size)) ||
			    (!in_pool && got->offset) ||
			    (!fz_port_zc(p) && p->pool_size && inplace &&
			     in_pool != (got->len > p->threshold)))
				fz_violation(th, "RECV", "result %#x offset %llu len %u (in place asked %d, pool %llu threshold %u)",
					     got->result, (unsigned long long)got->offset,
					     got->len, inplace,
					     (unsigned long long)p->pool_size, p->threshold);
			else if (in_pool)
				fz_check_received(th, "RECV", p, got,
						  t.ofd->map && got->offset + got->len <=
						  t.ofd->map_len ?
						  t.ofd->map + got->offset : NULL,
						  got->len, true);
			else if (got->len > valid || got->len > m.len)
				fz_violation(th, "RECV", "%u bytes into a buffer of %u (%zu writable)",
					     got->len, m.len, valid);
			else
				fz_check_received(th, "RECV", p, got, buf, got->len,
						  true);
			if (in_pool && t.ofd->nslices < FZ_MAX_SLICES)
				fz_slice_add(t.ofd, got->offset, got->len, false);
			else if (in_pool && kt_release(t.fd, got->offset, got->len))
				fz_violation(th, "RECV", "could not release a slice received in place");
			fz_charge(run, p, got->len, false);
		}
	}
	if (locked)
		pthread_mutex_unlock(&t.ofd->lock);
	fz_target_done(&t);
}

static void fz_op_stat(struct fz_thread *th)
{
	struct fz_expect e = { 0 };
	struct kport_stat st, *out;
	struct fz_target t;
	unsigned long cmd;
	char what[96];
	long ret;

	fz_target_port(th, &t, 10);
	fz_target_expect(&t, false, &e);
	memset(&st, 0, sizeof(st));
	if (fz_pct(th, 4)) {
		st.flags = fz_unknown_bit(th, 0);
		e.early |= B(EINVAL);
	}
	if (fz_reserved(th, st.__reserved, sizeof(st.__reserved)))
		e.early |= B(EINVAL);
	if (fz_pct(th, 30)) {		/* output only */
		st.id = kt_rand64(&th->rng);
		st.nr_msgs = (uint32_t)kt_rand64(&th->rng);
		st.pool_used = kt_rand64(&th->rng);
	}
	out = fz_place(th, KPORT_IOC_STAT, &st, sizeof(st), true, &cmd, &e,
		       what, sizeof(what));
	FZ_DESC(th, "STAT on %s, %s", fz_tkind[t.kind], what);
	ret = kt_ioctl(t.fd, cmd, out);
	if (fz_check(th, "STAT", ret, &e) && ret == 0 && t.ofd && fz_readable(th, out))
		fz_check_stat(th, "STAT", t.ofd, out);
	fz_target_done(&t);
}

static void fz_op_delete(struct fz_thread *th)
{
	struct fz_run *run = th->run;
	struct fz_expect e = { 0 };
	unsigned long cmd = KPORT_IOC_DELETE, arg = 0;
	struct fz_target t;
	long ret;

	fz_target_port(th, &t, 10);
	fz_target_expect(&t, false, &e);
	if (fz_pct(th, 5)) {
		arg = (unsigned long)kt_rand64(&th->rng) | 1;
		e.early |= B(EINVAL);
	}
	if (fz_pct(th, 4)) {
		cmd = _IOW(KPORT_IOC_MAGIC, 0x13, struct kport_msg);
		e.excl |= B(ENOTTY);
	}
	if (t.ofd) {
		if (run->nobody && t.ofd->port->uid != run->euid)
			e.state |= B(EPERM);
		e.state |= B(EIDRM);
		if (!e.excl && !e.early)
			fz_port_kill(t.ofd->port);
	}
	FZ_DESC(th, "DELETE on %s: cmd %#lx arg %#lx port %llu", fz_tkind[t.kind],
		cmd, arg, t.ofd ? (unsigned long long)t.ofd->port->id : 0ULL);
	ret = ioctl(t.fd, cmd, arg) ? -errno : 0;
	fz_target_done(&t);
	fz_check(th, "DELETE", ret, &e);
}

static void fz_op_borrow(struct fz_thread *th)
{
	struct fz_run *run = th->run;
	struct fz_expect e = { 0 };
	struct kport_slice s, *out;
	const struct fz_port *p;
	struct fz_target t;
	unsigned long cmd;
	char what[96];
	uint32_t r;
	long ret;

	fz_target_port(th, &t, 8);
	fz_target_expect(&t, false, &e);
	p = t.ofd ? t.ofd->port : NULL;
	memset(&s, 0, sizeof(s));
	r = fz_below(th, 100);
	if (r < 40)
		s.flags = KPORT_MSG_NONBLOCK;
	else if (r < 85)
		s.flags = KPORT_MSG_DEADLINE;
	else if (r < 90)
		s.flags = 0;
	else
		s.flags = fz_pct(th, 50) ? fz_unknown_bit(th, KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE) : ~0ULL;
	if (s.flags & ~(KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE))
		e.early |= B(EINVAL);
	if (s.flags & KPORT_MSG_DEADLINE) {
		s.deadline_ns = fz_pct(th, 20) ? 1 : kt_deadline_ms(fz_below(th, 3));
		e.state |= B(ETIMEDOUT);
	} else if (fz_pct(th, 3)) {
		s.deadline_ns = 5;
		e.early |= B(EINVAL);
	}
	if (fz_pct(th, 20))
		s.offset = kt_rand64(&th->rng);	/* output only */
	if (fz_reserved(th, s.__reserved, sizeof(s.__reserved)))
		e.early |= B(EINVAL);
	if (p) {
		r = fz_below(th, 10);
		s.len = r == 0 ? 0 : r == 1 ? p->msg_size + 1 : r == 2 ? p->msg_size :
			1 + fz_below(th, p->msg_size);
		if (!s.len || s.len > p->msg_size)
			e.early |= B(EINVAL);
		if (!(t.ofd->rights & KPORT_RIGHT_SEND))
			e.early |= B(EBADF);
		if (!fz_port_zc(p))
			e.early |= B(EOPNOTSUPP);
		if (s.flags & KPORT_MSG_NONBLOCK)
			e.state |= B(EAGAIN);
		if (!(s.flags & KPORT_MSG_NONBLOCK))
			e.state |= B(EINTR);
		pthread_mutex_lock(&t.ofd->lock);
	} else {
		s.len = 1;
	}
	out = fz_place(th, KPORT_IOC_BORROW, &s, sizeof(s), true, &cmd, &e,
		       what, sizeof(what));
	FZ_DESC(th, "BORROW on %s, %s: flags %#llx len %llu port %llu", fz_tkind[t.kind],
		what, (unsigned long long)s.flags, (unsigned long long)s.len,
		p ? (unsigned long long)p->id : 0ULL);
	fz_arm(th, !(s.flags & (KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE)));
	ret = kt_ioctl(t.fd, cmd, out);
	fz_arm(th, false);
	if (p)
		e.state |= fz_after(run, t.ofd, 0, true);
	if (fz_check(th, "BORROW", ret, &e) && ret == 0 && p && fz_readable(th, out)) {
		if (out->offset % FZ_PAGE || out->offset + s.len > p->pool_size)
			fz_violation(th, "BORROW", "offset %llu for %llu bytes in a pool of %llu",
				     (unsigned long long)out->offset,
				     (unsigned long long)s.len,
				     (unsigned long long)p->pool_size);
		else if (t.ofd->nslices < FZ_MAX_SLICES)
			fz_slice_add(t.ofd, out->offset, s.len, true);
		else if (kt_release(t.fd, out->offset, s.len))
			fz_violation(th, "BORROW", "could not release a borrowed slice");
		fz_charge(run, p, 0, true);
	}
	if (p)
		pthread_mutex_unlock(&t.ofd->lock);
	fz_target_done(&t);
}

static void fz_op_release(struct fz_thread *th)
{
	struct fz_expect e = { 0 };
	struct kport_slice s, *out;
	const struct fz_port *p;
	struct fz_target t;
	unsigned long cmd;
	int slice = -1, i;
	char what[96];
	long ret;

	fz_target_port(th, &t, 8);
	fz_target_expect(&t, false, &e);
	p = t.ofd ? t.ofd->port : NULL;
	memset(&s, 0, sizeof(s));
	if (fz_pct(th, 4)) {
		s.flags = fz_pct(th, 50) ? KPORT_MSG_NONBLOCK : fz_unknown_bit(th, 0);
		e.early |= B(EINVAL);
	}
	if (fz_pct(th, 3)) {
		s.deadline_ns = 1;
		e.early |= B(EINVAL);
	}
	if (fz_reserved(th, s.__reserved, sizeof(s.__reserved)))
		e.early |= B(EINVAL);
	if (p) {
		struct fz_ofd *o = t.ofd;

		pthread_mutex_lock(&o->lock);
		if (!p->pool_size)
			e.early |= B(EOPNOTSUPP);
		if (o->nslices && fz_pct(th, 70)) {
			slice = (int)fz_below(th, (uint32_t)o->nslices);
			s.offset = o->slices[slice].off;
			s.len = o->slices[slice].len;
			if (fz_pct(th, 15)) {
				s.len += fz_pct(th, 50) ? 1 : -1;
				e.early |= B(EINVAL);
			}
		} else {
			s.offset = FZ_PAGE * fz_below(th, 40);
			s.len = 1 + fz_below(th, 8192);
			if (fz_pct(th, 20))
				s.offset += 1 + fz_below(th, 4095);
			for (i = 0; i < o->nslices; i++)
				if (o->slices[i].off == s.offset)
					break;
			if (s.offset % FZ_PAGE || s.offset >= p->pool_size ||
			    s.len > p->pool_size - s.offset)
				e.early |= B(EINVAL);
			else if (i < o->nslices)
				e.early |= o->slices[i].len == s.len ? 0 : B(EINVAL);
			else
				e.early |= B(ENOENT);
			if (i < o->nslices && !(e.early & ~B(EOPNOTSUPP)))
				slice = i;
		}
	}
	out = fz_place(th, KPORT_IOC_RELEASE, &s, sizeof(s), false, &cmd, &e,
		       what, sizeof(what));
	FZ_DESC(th, "RELEASE on %s, %s: offset %llu len %llu slice %d port %llu",
		fz_tkind[t.kind], what, (unsigned long long)s.offset,
		(unsigned long long)s.len, slice,
		p ? (unsigned long long)p->id : 0ULL);
	ret = kt_ioctl(t.fd, cmd, out);
	fz_check(th, "RELEASE", ret, &e);
	if (p) {
		if (ret == 0 && slice >= 0)
			fz_slice_drop(t.ofd, slice);
		pthread_mutex_unlock(&t.ofd->lock);
	}
	fz_target_done(&t);
}

static void fz_op_bad_ioctl(struct fz_thread *th)
{
	static const unsigned long known[] = {
		KPORT_IOC_VERSION, KPORT_IOC_CREATE, KPORT_IOC_OPEN,
		KPORT_IOC_UNLINK, KPORT_IOC_SEND, KPORT_IOC_RECV, KPORT_IOC_STAT,
		KPORT_IOC_DELETE, KPORT_IOC_BORROW, KPORT_IOC_RELEASE,
		KPORT_IOC_SENDV, KPORT_IOC_RECVV, KPORT_IOC_SENDRECV,
	};
	struct fz_expect e = { 0 };
	struct fz_target t;
	unsigned long cmd;
	uint32_t nr;
	long ret;

	if (fz_pct(th, 50))
		fz_target_port(th, &t, 20);
	else
		fz_target_dev(th, &t);
	if (fz_pct(th, 50)) {
		/* An unknown number in kport's magic, any direction and size. */
		/* 0x00-0x0f: device commands, 0x10-0x1f: handle commands. */
		do {
			nr = fz_below(th, 256);
		} while (nr <= 0x03 || (nr >= 0x10 && nr <= 0x1f));
		cmd = _IOC(fz_below(th, 4), KPORT_IOC_MAGIC, nr, fz_below(th, 512));
	} else {
		/* A known command on the wrong kind of descriptor. */
		cmd = known[fz_below(th, sizeof(known) / sizeof(known[0]))];
		if (t.kind == T_DEV && _IOC_NR(cmd) <= 0x03)
			cmd = KPORT_IOC_STAT;
		else if (t.kind == T_PORT && _IOC_NR(cmd) >= 0x10)
			cmd = KPORT_IOC_VERSION;
	}
	e.excl = t.kind == T_CLOSED ? B(EBADF) : B(ENOTTY);
	FZ_DESC(th, "ioctl %#lx on %s", cmd, fz_tkind[t.kind]);
	ret = kt_ioctl(t.fd, cmd, th->arg);
	fz_target_done(&t);
	fz_check(th, "bad ioctl", ret, &e);
}

static void fz_op_rw(struct fz_thread *th, bool is_write)
{
	struct fz_run *run = th->run;
	struct fz_expect e = { 0 };
	const struct fz_port *p;
	struct fz_target t;
	uint32_t bkind;
	size_t n, valid;
	char *buf;
	long ret;

	fz_target_port(th, &t, 10);
	if (t.kind == T_PIPE || t.kind == T_NULL) {
		fz_target_done(&t);
		fz_target_special(th, &t, fz_pct(th, 50) ? T_DEV : T_CLOSED);
	}
	p = t.ofd ? t.ofd->port : NULL;
	bkind = fz_pick_pkind(th, 85);
	buf = fz_data_ptr(th, bkind, !is_write, &valid);
	n = 1 + fz_below(th, 64);
	if (p) {
		switch (fz_below(th, 7)) {
		case 0:
			n = 0;
			break;
		case 1:
			n = p->msg_size - 1;
			break;
		case 2:
			n = p->msg_size + 1;
			break;
		case 3:
			n = is_write ? FZ_STRADDLE : (size_t)1 << 30;
			break;
		default:
			n = p->msg_size;
			break;
		}
		if (!is_write && bkind == P_VALID && n > FZ_AREA)
			valid = FZ_AREA;
		if (!(t.ofd->rights & (is_write ? KPORT_RIGHT_SEND : KPORT_RIGHT_RECV)))
			e.early |= B(EBADF);
		if (is_write && (n > p->msg_size ||
				 ((p->flags & KPORT_CREATE_FIXED) && n != p->msg_size)))
			e.early |= B(EMSGSIZE);
		else if (is_write && n > valid)
			e.late |= B(EFAULT);
		if (!is_write && n < p->msg_size)
			e.state |= B(EMSGSIZE);
		if (!is_write && valid < p->msg_size && valid < n)
			e.state |= B(EFAULT);
		e.state |= B(EINTR);
		if (!is_write && bkind == P_VALID)
			memset(buf, 0xa5, n < p->msg_size ? n : p->msg_size);
	} else if (t.kind == T_CLOSED) {
		e.excl = B(EBADF);
	} else {
		e.excl = B(EINVAL);	/* /dev/kport has no read or write */
	}
	FZ_DESC(th, "%s on %s: %zu bytes buf %s port %llu msg_size %u", is_write ? "write" : "read",
		fz_tkind[t.kind], n, fz_pkind[bkind],
		p ? (unsigned long long)p->id : 0ULL, p ? p->msg_size : 0);
	fz_arm(th, true);
	ret = is_write ? write(t.fd, buf, n) : read(t.fd, buf, n);
	if (ret < 0)
		ret = -errno;
	fz_arm(th, false);
	if (p)
		e.state |= fz_after(run, t.ofd, n, is_write);
	if (ret == -EINTR)
		__atomic_fetch_add(&run->res->injected_eintr, 1, __ATOMIC_RELAXED);
	if (fz_check(th, is_write ? "write" : "read", ret, &e) && ret >= 0 && p) {
		if (is_write && (size_t)ret != n)
			fz_violation(th, "write", "returned %ld for %zu bytes", ret, n);
		if (is_write)
			fz_charge(run, p, ret, true);
		if (!is_write && ((size_t)ret > n || (size_t)ret > valid))
			fz_violation(th, "read", "%ld bytes into a buffer of %zu (%zu writable)",
				     ret, n, valid);
		else if (!is_write)
			fz_check_received(th, "read", p, NULL, buf, (size_t)ret, false);
		if (!is_write)
			fz_charge(run, p, ret, false);
	}
	fz_target_done(&t);
}

static void fz_op_poll(struct fz_thread *th)
{
	struct fz_target t;
	struct pollfd pfd;
	int ret;

	fz_target_port(th, &t, 15);
	pfd.fd = t.fd;
	pfd.events = (short)(fz_pct(th, 50) ? POLLIN : fz_pct(th, 50) ? POLLOUT :
			     POLLIN | POLLOUT);
	pfd.revents = 0;
	FZ_DESC(th, "poll on %s events %#x", fz_tkind[t.kind], pfd.events);
	ret = poll(&pfd, 1, (int)fz_below(th, 3));
	if (ret < 0 && errno != EINTR)
		fz_violation(th, "poll", "errno %d", errno);
	if (ret >= 0)
		fz_ok(th);
	if (ret > 0 && t.kind == T_PORT)
		fz_check_revents(th, "poll", t.ofd, (unsigned int)pfd.revents);
	if (ret > 0 && t.kind == T_CLOSED && pfd.fd >= 0 && pfd.revents != POLLNVAL)
		fz_violation(th, "poll", "closed descriptor: revents %#x", pfd.revents);
	fz_target_done(&t);
}

static void fz_op_epoll(struct fz_thread *th)
{
	struct epoll_event ev[8];
	struct fz_target t;
	int n, i;

	fz_target_port(th, &t, 0);
	if (t.kind == T_PORT && fz_pct(th, 40)) {
		struct epoll_event add = {
			.events = EPOLLIN | (fz_pct(th, 50) ? EPOLLOUT : 0) |
				  (fz_pct(th, 30) ? EPOLLEXCLUSIVE : 0),
		};

		FZ_DESC(th, "epoll_ctl ADD");
		if (epoll_ctl(th->epfd, EPOLL_CTL_ADD, t.fd, &add) &&
		    errno != EEXIST)
			fz_violation(th, "epoll_ctl", "ADD of a port: errno %d", errno);
	}
	fz_target_done(&t);
	FZ_DESC(th, "epoll_wait");
	n = epoll_wait(th->epfd, ev, 8, (int)fz_below(th, 3));
	if (n >= 0)
		fz_ok(th);
	if (n < 0 && errno != EINTR)
		fz_violation(th, "epoll_wait", "errno %d", errno);
	for (i = 0; i < n; i++)
		fz_check_revents(th, "epoll_wait", NULL, ev[i].events);
}

static void fz_op_close(struct fz_thread *th)
{
	struct fz_slot *s = &th->run->slots[fz_below(th, FZ_SLOTS)];
	struct fz_ofd *o;
	int fd;

	pthread_rwlock_wrlock(&s->lock);
	fd = s->fd;
	o = s->ofd;
	s->fd = -1;
	s->ofd = NULL;
	pthread_rwlock_unlock(&s->lock);
	if (fd < 0) {
		FZ_DESC(th, "close of a closed descriptor");
		if (close(th->run->closed_fd) == 0 || errno != EBADF)
			fz_violation(th, "close", "of a closed descriptor: errno %d", errno);
		return;
	}
	FZ_DESC(th, "close of port %llu", (unsigned long long)o->port->id);
	fz_ofd_put(th->run, o, fd);
	fz_ok(th);
}

static void fz_op_dup(struct fz_thread *th)
{
	struct fz_run *run = th->run;
	struct fz_target t;
	int fd;

	fz_target_port(th, &t, 0);
	if (t.kind != T_PORT) {
		fz_target_done(&t);
		return;
	}
	FZ_DESC(th, "dup of port %llu", (unsigned long long)t.ofd->port->id);
	fd = fcntl(t.fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		fz_violation(th, "dup", "errno %d", errno);
		fz_target_done(&t);
		return;
	}
	pthread_mutex_lock(&run->table_lock);
	t.ofd->refs++;
	pthread_mutex_unlock(&run->table_lock);
	fz_slot_put(th, fd, t.ofd);
	fz_ok(th);
	fz_target_done(&t);
}

static void fz_op_fcntl(struct fz_thread *th)
{
	struct fz_target t;
	int fl;

	fz_target_port(th, &t, 0);
	if (t.kind != T_PORT) {
		fz_target_done(&t);
		return;
	}
	FZ_DESC(th, "fcntl O_NONBLOCK on port %llu", (unsigned long long)t.ofd->port->id);
	fl = fcntl(t.fd, F_GETFL);
	if (fz_pct(th, 50)) {
		__atomic_store_n(&t.ofd->maybe_nonblock, 1, __ATOMIC_SEQ_CST);
		fl |= O_NONBLOCK;
	} else {
		fl &= ~O_NONBLOCK;
	}
	if (fl < 0 || fcntl(t.fd, F_SETFL, fl))
		fz_violation(th, "fcntl", "errno %d", errno);
	else
		fz_ok(th);
	fz_target_done(&t);
}

static void fz_op_mmap(struct fz_thread *th)
{
	struct fz_expect e = { 0 };
	const struct fz_port *p;
	struct fz_target t;
	size_t len = 0;
	off_t off = 0;
	int prot, flags;
	long ret;
	void *m;

	fz_target_port(th, &t, 8);
	if (t.kind == T_PIPE || t.kind == T_NULL) {
		fz_target_done(&t);
		fz_target_special(th, &t, fz_pct(th, 50) ? T_DEV : T_CLOSED);
	}
	p = t.ofd ? t.ofd->port : NULL;
	prot = fz_pct(th, 50) ? PROT_READ : PROT_READ | PROT_WRITE;
	flags = fz_pct(th, 90) ? MAP_SHARED : MAP_PRIVATE;
	if (p && t.ofd->map && fz_pct(th, 60)) {
		/* Unmap, or try to make a read-only mapping writable. */
		struct fz_ofd *o = t.ofd;

		pthread_mutex_lock(&o->lock);
		if (o->map && !(o->map_prot & PROT_WRITE) && fz_pct(th, 30)) {
			FZ_DESC(th, "mprotect RW of a read-only pool mapping");
			if (mprotect(o->map, o->map_len, PROT_READ | PROT_WRITE) == 0 ||
			    errno != EACCES)
				fz_violation(th, "mprotect", "made a read-only pool mapping writable (errno %d)",
					     errno);
		} else if (o->map) {
			FZ_DESC(th, "munmap of a pool mapping");
			/* Touch it first: it stays readable after deletion. */
			(void)*(volatile char *)(o->map + fz_below(th, (uint32_t)o->map_len));
			munmap(o->map, o->map_len);
			o->map = NULL;
		}
		pthread_mutex_unlock(&o->lock);
		fz_target_done(&t);
		return;
	}
	if (t.kind == T_CLOSED) {
		e.excl = B(EBADF);
		len = FZ_PAGE;
	} else if (t.kind == T_DEV) {
		e.excl = B(ENODEV);
		len = FZ_PAGE;
	} else {
		bool zc_sender = fz_port_zc(p) && (t.ofd->rights & KPORT_RIGHT_SEND);

		switch (fz_below(th, 8)) {
		case 0:
			len = p->pool_size + FZ_PAGE;
			break;
		case 1:
			len = p->pool_size / 2;
			break;
		case 2:
			len = 0;
			break;
		default:
			len = p->pool_size;
			break;
		}
		if (fz_pct(th, 5))
			off = FZ_PAGE;
		if (!p->pool_size) {
			e.early |= B(ENODEV);
			len = len ? len : FZ_PAGE;
		}
		if (!len)
			e.early |= B(EINVAL);
		if (off || len > p->pool_size)
			e.early |= B(EINVAL);
		if ((prot & PROT_WRITE) && flags == MAP_PRIVATE)
			e.early |= B(EINVAL);
		if ((prot & PROT_WRITE) && !zc_sender)
			e.early |= B(EACCES);
		if (!(prot & PROT_WRITE) && !(t.ofd->rights & KPORT_RIGHT_RECV) &&
		    !zc_sender)
			e.early |= B(EACCES);
		pthread_mutex_lock(&t.ofd->lock);
		if (t.ofd->map)
			e.early |= B(EBUSY);
	}
	FZ_DESC(th, "mmap on %s: len %zu off %ld prot %d %s rights %u pool %llu zc %d",
		fz_tkind[t.kind], len, (long)off, prot,
		flags == MAP_SHARED ? "shared" : "private",
		t.ofd ? t.ofd->rights : 0, p ? (unsigned long long)p->pool_size : 0ULL,
		p ? fz_port_zc(p) : 0);
	m = mmap(NULL, len, prot, flags, t.fd, off);
	ret = m == MAP_FAILED ? -errno : 0;
	if (fz_check(th, "mmap", ret, &e) && ret == 0 && p) {
		t.ofd->map = m;
		t.ofd->map_len = len;
		t.ofd->map_prot = prot;
		(void)*(volatile char *)((char *)m + fz_below(th, (uint32_t)len));
	} else if (ret == 0) {
		munmap(m, len);
	}
	if (p)
		pthread_mutex_unlock(&t.ofd->lock);
	fz_target_done(&t);
}

/* ---- Batches and request-reply ---------------------------------------------------------- */

#define FZ_BATCH	4	/* elements built; more are refused or unread */

/*
 * KPORT_IOC_SENDV / KPORT_IOC_RECVV.  Batch-level argument errors fail
 * the call; an element's fails it only if it is the first (nothing done),
 * else the batch stops before it: the count returned may not pass the
 * first bad element.
 */
static void fz_op_batch(struct fz_thread *th, bool send)
{
	const char *op = send ? "SENDV" : "RECVV";
	struct fz_run *run = th->run;
	struct fz_expect e = { 0 };
	struct kport_batch b, *out;
	const struct fz_port *p;
	uint32_t r, stride = KPORT_MSG_SIZE_VER0, akind = P_VALID, first_bad;
	uint32_t elen[FZ_BATCH], edef[FZ_BATCH];
	unsigned long cmd;
	struct fz_target t;
	bool may_wait, may_timeout = false;
	char what[96];
	uint32_t i;
	long ret;

	fz_target_port(th, &t, 8);
	fz_target_expect(&t, false, &e);
	p = t.ofd ? t.ofd->port : NULL;
	memset(&b, 0, sizeof(b));
	r = fz_below(th, th->clean ? 85 : 100);
	b.flags = r < 40 ? KPORT_MSG_NONBLOCK : r < 70 ? KPORT_MSG_DEADLINE :
		  r < 85 ? 0 : r < 95 ? fz_unknown_bit(th, KPORT_MSG_NONBLOCK |
							 KPORT_MSG_DEADLINE) : ~0ULL;
	if (b.flags & ~(KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE))
		e.early |= B(EINVAL);
	if (b.flags & KPORT_MSG_DEADLINE) {
		b.deadline_ns = fz_pct(th, 20) ? 1 : kt_deadline_ms(fz_below(th, 3));
		may_timeout = true;
	} else if (!th->clean && fz_pct(th, 3)) {
		b.deadline_ns = 7;
		e.early |= B(EINVAL);
	}
	may_wait = !(b.flags & KPORT_MSG_NONBLOCK);
	b.count = 1 + fz_below(th, FZ_BATCH);
	if (!th->clean && fz_pct(th, 8)) {
		b.count = fz_pct(th, 50) ? 0 : KPORT_BATCH_MAX + 1;
		e.early |= B(EINVAL);
	}
	if (!th->clean && fz_pct(th, 20)) {
		r = fz_below(th, 4);
		stride = r == 0 ? 32 : r == 1 ? 2 * FZ_PAGE : KPORT_MSG_SIZE_VER0 + 8;
		if (stride != KPORT_MSG_SIZE_VER0 + 8)
			e.early |= B(EINVAL);
	}
	b.msg_size = stride;
	if (fz_reserved(th, b.__reserved, sizeof(b.__reserved)))
		e.early |= B(EINVAL);
	akind = fz_pick_pkind(th, 90);
	if (p && !(t.ofd->rights & (send ? KPORT_RIGHT_SEND : KPORT_RIGHT_RECV)))
		e.early |= B(EBADF);

	/* The elements. */
	memset(th->vec, 0, 2 * FZ_PAGE);
	first_bad = FZ_BATCH;
	for (i = 0; i < FZ_BATCH; i++) {
		struct kport_msg *m = (void *)(th->vec + i * (stride <= FZ_PAGE / 2 &&
							     stride >= KPORT_MSG_SIZE_VER0 ?
							     stride : KPORT_MSG_SIZE_VER0));
		uint32_t msg_size = p ? p->msg_size : 64;

		edef[i] = 0;
		if (send) {
			m->buf = (uintptr_t)th->send;
			m->len = elen[i] = (p && (p->flags & KPORT_CREATE_FIXED)) ?
				 msg_size : fz_below(th, msg_size + 1);
			m->priority = fz_below(th, KPORT_PRIO_MAX);
			if (!th->clean && fz_pct(th, 5)) {
				m->len = elen[i] = msg_size + 1;
				edef[i] |= B(EMSGSIZE);
			}
		} else {
			m->buf = (uintptr_t)(th->recv + i * (FZ_AREA / FZ_BATCH));
			m->len = elen[i] = FZ_AREA / FZ_BATCH;
			if (fz_pct(th, 20)) {
				m->flags = KPORT_MSG_FROM_PID;
				m->pid = run->self;
			}
			if (fz_pct(th, 20))
				m->priority = m->uid = 0x5555;	/* output only */
		}
		if (!th->clean && fz_pct(th, 4)) {
			m->flags |= fz_pct(th, 50) ? KPORT_MSG_NONBLOCK :
				    fz_unknown_bit(th, KPORT_MSG_FLAGS);
			edef[i] |= B(EINVAL);
		}
		if (!th->clean && fz_pct(th, 2)) {
			m->__reserved = 1;
			edef[i] |= B(EINVAL);
		}
		if (stride == KPORT_MSG_SIZE_VER0 + 8 && !th->clean && fz_pct(th, 4)) {
			((char *)m)[KPORT_MSG_SIZE_VER0 + fz_below(th, 8)] = 1;
			edef[i] |= B(E2BIG);
		}
		if (edef[i] && first_bad == FZ_BATCH)
			first_bad = i;
	}
	if (first_bad >= b.count)
		first_bad = b.count;
	if (akind == P_NULL || akind == P_NONE || akind == P_STRAD) {
		if (!e.early)
			e.early |= B(EFAULT);
		b.msgs = akind == P_NULL ? 0 : akind == P_NONE ? (uintptr_t)th->none :
			 (uintptr_t)th->astrad;
	} else if (akind == P_RO && !send) {
		b.msgs = (uintptr_t)th->vec;
		mprotect(th->vec, 2 * FZ_PAGE, PROT_READ);
		e.late |= B(EFAULT);		/* the first write-back */
	} else {
		b.msgs = (uintptr_t)th->vec;
		if (akind == P_RO)
			mprotect(th->vec, 2 * FZ_PAGE, PROT_READ);
	}
	if (first_bad == 0 && !e.early)
		e.early |= edef[0];
	if (p) {
		if (b.flags & KPORT_MSG_NONBLOCK)
			e.state |= B(EAGAIN);
		if (may_timeout)
			e.state |= B(ETIMEDOUT);
		if (may_wait)
			e.state |= B(EINTR);
		if (!send && elen[0] < p->msg_size)
			e.state |= B(EMSGSIZE);
	} else {
		b.count = 1;
	}
	out = fz_place(th, send ? KPORT_IOC_SENDV : KPORT_IOC_RECVV, &b, sizeof(b),
		       false, &cmd, &e, what, sizeof(what));
	FZ_DESC(th, "%s on %s, %s: flags %#llx count %u stride %u array %s first bad %u port %llu msg_size %u",
		op, fz_tkind[t.kind], what, (unsigned long long)b.flags, b.count,
		stride, fz_pkind[akind], first_bad,
		p ? (unsigned long long)p->id : 0ULL, p ? p->msg_size : 0);
	fz_arm(th, may_wait && !may_timeout);
	ret = kt_ioctl(t.fd, cmd, out);
	fz_arm(th, false);
	mprotect(th->vec, 2 * FZ_PAGE, PROT_READ | PROT_WRITE);
	if (p)
		e.state |= fz_after(run, t.ofd, elen[0], send);
	if (fz_check(th, op, ret, &e) && ret > 0 && p) {
		if ((uint32_t)ret > first_bad || (uint32_t)ret > b.count)
			fz_violation(th, op, "did %ld of %u messages, the first bad one is %u",
				     ret, b.count, first_bad);
		for (i = 0; i < (uint32_t)ret && i < FZ_BATCH; i++) {
			struct kport_msg *m = (void *)(th->vec + i * stride);

			if (send) {
				fz_charge(run, p, elen[i], true);
				continue;
			}
			if (m->len > elen[i] || m->result)
				fz_violation(th, op, "element %u: %u bytes into %u, result %#x",
					     i, m->len, elen[i], m->result);
			else
				fz_check_received(th, op, p, m, (char *)(uintptr_t)m->buf,
						  m->len, true);
			fz_charge(run, p, m->len, false);
		}
	}
	fz_target_done(&t);
}

static void fz_op_sendrecv(struct fz_thread *th)
{
	struct fz_run *run = th->run;
	struct fz_expect e = { 0 };
	struct kport_sendrecv sr, *out;
	const struct fz_port *p, *p2 = NULL;
	struct fz_ofd *o2 = NULL;
	struct fz_slot *s2 = NULL;
	struct fz_target t;
	uint32_t send_state = 0, recv_state = 0, r, rkind = 0;
	bool forever = false;
	unsigned long cmd;
	char what[96];
	long ret;

	fz_target_port(th, &t, 8);
	fz_target_expect(&t, false, &e);
	p = t.ofd ? t.ofd->port : NULL;
	memset(&sr, 0, sizeof(sr));
	/* Where the reply comes from. */
	r = fz_below(th, th->clean ? 80 : 100);
	sr.recv_fd = -1;
	if (r < 40) {
		o2 = t.ofd;
	} else if (r < 80) {
		s2 = &run->slots[fz_below(th, FZ_SLOTS)];
		if (s2 == t.slot || pthread_rwlock_tryrdlock(&s2->lock)) {
			s2 = NULL;
			o2 = t.ofd;
		} else if (s2->fd < 0) {
			pthread_rwlock_unlock(&s2->lock);
			s2 = NULL;
			o2 = t.ofd;
		} else {
			sr.recv_fd = s2->fd;
			o2 = s2->ofd;
		}
	} else {
		rkind = 1 + fz_below(th, 3);
		sr.recv_fd = rkind == 1 ? run->pipe_r : rkind == 2 ? run->dev :
			     run->closed_fd;
		e.early |= rkind == 3 ? B(EBADF) : B(EINVAL);
	}
	p2 = o2 ? o2->port : NULL;
	if (o2 && !(o2->rights & KPORT_RIGHT_RECV))
		e.early |= B(EBADF);
	if (p && !(t.ofd->rights & KPORT_RIGHT_SEND))
		e.early |= B(EBADF);
	if (!th->clean && fz_pct(th, 3)) {
		sr.flags = fz_unknown_bit(th, 0);
		e.early |= B(EINVAL);
	}
	if (fz_reserved(th, sr.__reserved, sizeof(sr.__reserved)))
		e.early |= B(EINVAL);
	/* The send part. */
	r = fz_below(th, th->clean ? 90 : 100);
	sr.send.flags = r < 40 ? KPORT_MSG_NONBLOCK : r < 80 ? KPORT_MSG_DEADLINE :
			r < 90 ? 0 : fz_pct(th, 50) ? KPORT_MSG_FROM_PID : KPORT_MSG_INPLACE;
	if (sr.send.flags & ~(KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE))
		e.early |= B(EINVAL);
	if (sr.send.flags & KPORT_MSG_DEADLINE) {
		sr.send.deadline_ns = kt_deadline_ms(fz_below(th, 3));
		send_state |= B(ETIMEDOUT);
	}
	if (!(sr.send.flags & KPORT_MSG_NONBLOCK)) {
		send_state |= B(EINTR);
		/* Each part waits on its own terms: either may need the timer. */
		forever |= !(sr.send.flags & KPORT_MSG_DEADLINE);
	} else {
		send_state |= B(EAGAIN);
	}
	sr.send.buf = (uintptr_t)th->send;
	sr.send.len = p ? ((p->flags & KPORT_CREATE_FIXED) ? p->msg_size :
			   fz_below(th, p->msg_size + 1)) : 8;
	sr.send.priority = fz_below(th, KPORT_PRIO_MAX);
	if (!th->clean && fz_pct(th, 4)) {
		sr.send.uid = 3;
		e.early |= B(EINVAL);
	}
	/* The receive part. */
	r = fz_below(th, th->clean ? 90 : 100);
	sr.recv.flags = r < 45 ? KPORT_MSG_NONBLOCK : r < 75 ? KPORT_MSG_DEADLINE :
			r < 90 ? KPORT_MSG_FROM_PID | KPORT_MSG_NONBLOCK :
			fz_pct(th, 50) ? KPORT_MSG_POST : fz_unknown_bit(th, KPORT_MSG_FLAGS);
	if (sr.recv.flags & ~(KPORT_MSG_FLAGS & ~KPORT_MSG_POST))
		e.early |= B(EINVAL);
	if (sr.recv.flags & KPORT_MSG_FROM_PID) {
		sr.recv.pid = fz_pct(th, 90) ? run->self : 0;
		/* Refused with the other arguments, before anything is sent. */
		if (sr.recv.pid <= 0)
			e.early |= B(EINVAL);
	}
	if (sr.recv.flags & KPORT_MSG_DEADLINE) {
		sr.recv.deadline_ns = kt_deadline_ms(fz_below(th, 3));
		recv_state |= B(ETIMEDOUT) | B(EINTR);
	} else if (!(sr.recv.flags & KPORT_MSG_NONBLOCK)) {
		recv_state |= B(EINTR);
		forever = true;
	}
	recv_state |= B(EAGAIN);
	sr.recv.buf = (uintptr_t)th->recv;
	sr.recv.len = FZ_AREA;
	if (p2 && p2->msg_size > FZ_AREA)
		recv_state |= B(EMSGSIZE);
	out = fz_place(th, KPORT_IOC_SENDRECV, &sr, sizeof(sr), true, &cmd, &e,
		       what, sizeof(what));
	/* A read-only struct: "done" cannot be cleared, nothing happens. */
	if (e.late & B(EFAULT)) {
		e.late &= ~B(EFAULT);
		e.early |= B(EFAULT);
	}
	FZ_DESC(th, "SENDRECV on %s, %s: recv_fd %d (%s) send flags %#llx len %u recv flags %#llx pid %d ports %llu -> %llu",
		fz_tkind[t.kind], what, sr.recv_fd, rkind ? fz_tkind[rkind] : "port",
		(unsigned long long)sr.send.flags, sr.send.len,
		(unsigned long long)sr.recv.flags, sr.recv.pid,
		p ? (unsigned long long)p->id : 0ULL,
		p2 ? (unsigned long long)p2->id : 0ULL);
	fz_arm(th, forever);
	ret = kt_ioctl(t.fd, cmd, out);
	fz_arm(th, false);
	if (p) {
		send_state |= fz_after(run, t.ofd, sr.send.len, true);
		if (o2)
			recv_state |= fz_after(run, o2, 0, false) & ~B(ENOBUFS);
	}
	if (fz_readable(th, out) && (out->done & KPORT_SR_SENT) &&
	    (e.excl || e.early || !p)) {
		fz_violation(th, "SENDRECV", "sent although its arguments were refused (%ld)",
			     ret);
	} else if (fz_readable(th, out) && (out->done & KPORT_SR_SENT)) {
		/* Sent: what follows is the receive's. */
		fz_charge(run, p, sr.send.len, true);
		e.state = recv_state;
		if (fz_check(th, "SENDRECV", ret, &e) && ret == 0 && p2) {
			if (out->recv.len > FZ_AREA)
				fz_violation(th, "SENDRECV", "received %u bytes into %u",
					     out->recv.len, FZ_AREA);
			else
				fz_check_received(th, "SENDRECV", p2, &out->recv,
						  th->recv, out->recv.len, true);
			fz_charge(run, p2, out->recv.len, false);
		}
	} else {
		e.state = send_state;
		if (ret == 0)
			fz_violation(th, "SENDRECV", "succeeded without reporting the send done (%#x)",
				     fz_readable(th, out) ? out->done : 0);
		else
			fz_check(th, "SENDRECV", ret, &e);
	}
	if (s2)
		pthread_rwlock_unlock(&s2->lock);
	fz_target_done(&t);
}

/* ---- Threads ---------------------------------------------------------------------------- */

static int fz_thread_mem(struct fz_thread *th)
{
	char *p;

	th->send = mmap(NULL, FZ_AREA, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	th->recv = mmap(NULL, FZ_AREA, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* ro | strad | hole | none | arg arg | roarg | astrad | hole | rstrad | hole */
	p = mmap(NULL, 11 * FZ_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	th->vec = mmap(NULL, 2 * FZ_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (th->send == MAP_FAILED || th->recv == MAP_FAILED || p == MAP_FAILED ||
	    th->vec == MAP_FAILED)
		return -1;
	fz_fill(th->send, FZ_AREA);
	th->ro = p;
	fz_fill(th->ro, FZ_PAGE);
	th->strad = p + 2 * FZ_PAGE - FZ_STRADDLE;
	fz_fill(th->strad, FZ_STRADDLE);
	th->none = p + 3 * FZ_PAGE;
	th->arg = p + 4 * FZ_PAGE;
	th->roarg = p + 6 * FZ_PAGE;
	th->astrad = p + 8 * FZ_PAGE - FZ_STRADDLE;
	th->rstrad = p + 10 * FZ_PAGE - FZ_STRADDLE;
	if (mprotect(th->ro, FZ_PAGE, PROT_READ) ||
	    mprotect(p + 2 * FZ_PAGE, 2 * FZ_PAGE, PROT_NONE) ||
	    mprotect(p + 8 * FZ_PAGE, FZ_PAGE, PROT_NONE) ||
	    mprotect(p + 10 * FZ_PAGE, FZ_PAGE, PROT_NONE))
		return -1;
	return 0;
}

static void *fz_thread_main(void *arg)
{
	struct fz_thread *th = arg;
	struct fz_run *run = th->run;
	struct sigevent sev;

	th->ktid = (pid_t)syscall(SYS_gettid);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
	sev.sigev_notify_thread_id = th->ktid;
	th->timer_ok = timer_create(CLOCK_MONOTONIC, &sev, &th->timer) == 0;
	th->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!th->timer_ok || th->epfd < 0) {
		fz_violation(th, "setup", "timer_create/epoll_create1: errno %d", errno);
		return NULL;
	}
	while (kt_now_ns() < run->end_ns &&
	       !__atomic_load_n(&run->stop, __ATOMIC_RELAXED)) {
		uint32_t r = fz_below(th, 106);

		th->n++;
		th->clean = fz_pct(th, 50);
		th->resv = false;
		__atomic_store_n(&th->op_start, kt_now_ns(), __ATOMIC_RELAXED);
		th->cur_op = r < 2 ? FZ_OP_VERSION : r < 10 ? FZ_OP_CREATE :
			     r < 18 ? FZ_OP_OPEN : r < 21 ? FZ_OP_UNLINK :
			     r < 36 ? FZ_OP_SEND : r < 51 ? FZ_OP_RECV :
			     r < 56 ? FZ_OP_STAT : r < 58 ? FZ_OP_DELETE :
			     r < 62 ? FZ_OP_BORROW : r < 66 ? FZ_OP_RELEASE :
			     r < 69 ? FZ_OP_BAD : r < 73 ? FZ_OP_READ :
			     r < 77 ? FZ_OP_WRITE : r < 81 ? FZ_OP_POLL :
			     r < 84 ? FZ_OP_EPOLL : r < 90 ? FZ_OP_CLOSE :
			     r < 93 ? FZ_OP_DUP : r < 95 ? FZ_OP_FCNTL :
			     r < 100 ? FZ_OP_MMAP : r < 102 ? FZ_OP_SENDV :
			     r < 104 ? FZ_OP_RECVV : FZ_OP_SENDRECV;
		__atomic_fetch_add(&run->res->op_count[th->cur_op], 1,
				   __ATOMIC_RELAXED);
		if (r < 2)
			fz_op_version(th);
		else if (r < 10)
			fz_op_create(th);
		else if (r < 18)
			fz_op_open(th);
		else if (r < 21)
			fz_op_unlink(th);
		else if (r < 36)
			fz_op_send(th);
		else if (r < 51)
			fz_op_recv(th);
		else if (r < 56)
			fz_op_stat(th);
		else if (r < 58)
			fz_op_delete(th);
		else if (r < 62)
			fz_op_borrow(th);
		else if (r < 66)
			fz_op_release(th);
		else if (r < 69)
			fz_op_bad_ioctl(th);
		else if (r < 73)
			fz_op_rw(th, false);
		else if (r < 77)
			fz_op_rw(th, true);
		else if (r < 81)
			fz_op_poll(th);
		else if (r < 84)
			fz_op_epoll(th);
		else if (r < 90)
			fz_op_close(th);
		else if (r < 93)
			fz_op_dup(th);
		else if (r < 95)
			fz_op_fcntl(th);
		else if (r < 100)
			fz_op_mmap(th);
		else if (r < 104)
			fz_op_batch(th, r < 102);
		else
			fz_op_sendrecv(th);
		__atomic_store_n(&th->op_start, 0, __ATOMIC_RELAXED);
		if (th->run->res->violations > 1000)
			__atomic_store_n(&run->stop, 1, __ATOMIC_RELAXED);
	}
	fz_arm(th, false);
	timer_delete(th->timer);
	close(th->epfd);
	__atomic_fetch_add(&run->res->ops, th->n, __ATOMIC_RELAXED);
	return NULL;
}

/* ---- A run ------------------------------------------------------------------------------- */

/* Module parameter @name, or @def if it cannot be read. */
static unsigned long fz_param(const char *name, unsigned long def)
{
	long long v = kt_param_get(name);

	return v < 0 ? def : (unsigned long)v;
}

/*
 * No operation may take long: each waits a few milliseconds at most, or
 * is interrupted by its thread's timer.  One that is still under way after
 * FZ_STUCK_MS is reported (with everything needed to reproduce it) and
 * ends the run at once, rather than at the harness's timeout.
 */
#define FZ_STUCK_MS	15000

struct fz_watch {
	struct fz_thread *th;
	int nthreads;
	int done;
};

static void *fz_watchdog(void *arg)
{
	struct fz_watch *w = arg;
	int i;

	while (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) {
		uint64_t now = kt_now_ns();

		for (i = 0; i < w->nthreads; i++) {
			struct fz_thread *th = &w->th[i];
			uint64_t t0 = __atomic_load_n(&th->op_start, __ATOMIC_RELAXED);

			/* It may have begun after we read the clock. */
			if (!t0 || now < t0 ||
			    now - t0 < FZ_STUCK_MS * KT_NSEC_PER_MSEC)
				continue;
			fprintf(stderr, "# fuzz STUCK seed=%llu thread=%d op=%llu: no return after %llu ms (every wait has a deadline of a few ms or a 3 ms interval timer) [%s]\n",
				(unsigned long long)th->run->seed, i,
				(unsigned long long)th->n,
				(unsigned long long)((now - t0) / KT_NSEC_PER_MSEC),
				th->desc);
			fflush(stderr);
			_exit(3);
		}
		kt_sleep_ms(200);
	}
	return NULL;
}

/* The child whose inbox the fuzzer opens; it lives until @fd closes. */
static void fz_child(int fd, int ready)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t end = kt_now_ns() + 600 * KT_NSEC_PER_SEC;
	int inbox;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	kt_dev_close();
	inbox = kt_create(NULL, KPORT_CREATE_INBOX, 4, 64, 0666, KPORT_RIGHTS_ALL);
	KT_CHILD_ASSERT(inbox >= 0);
	KT_CHILD_ASSERT(kt_token_put(ready, 'r') == 0);
	while (kt_now_ns() < end) {
		if (poll(&pfd, 1, 1000) > 0)
			break;
	}
	_exit(0);
}

/*
 * Run the fuzzer for @ms milliseconds with @nthreads threads; results in
 * @res.  Returns 0, or -1 if it could not set up (reason printed).
 */
static int fz_run(struct fz_result *res, uint64_t seed, unsigned int ms,
		  int nthreads, bool nobody)
{
	struct fz_thread th[FZ_MAX_THREADS];
	struct fz_watch watch;
	pthread_t watch_tid;
	struct kport_version v;
	struct fz_run *run;
	int i, lifeline[2], ready[2], ours, before;
	uint64_t start;
	pid_t pid;

	run = calloc(1, sizeof(*run));
	if (!run)
		return -1;
	run->res = res;
	run->seed = seed;
	run->nthreads = nthreads;
	run->nobody = nobody;
	run->euid = geteuid();
	run->self = getpid();
	pthread_mutex_init(&run->table_lock, NULL);
	pthread_mutex_init(&run->reg_lock, NULL);
	pthread_mutex_init(&run->report_lock, NULL);
	run->ports = calloc(FZ_MAX_PORTS, sizeof(*run->ports));
	run->index = malloc(2 * FZ_MAX_PORTS * sizeof(*run->index));
	if (!run->ports || !run->index)
		return -1;
	memset(run->index, 0xff, 2 * FZ_MAX_PORTS * sizeof(*run->index));
	for (i = 0; i < FZ_SLOTS; i++) {
		pthread_rwlock_init(&run->slots[i].lock, NULL);
		run->slots[i].fd = -1;
	}
	snprintf(run->prefix, sizeof(run->prefix), "kfz.%d.", (int)run->self);
	memcpy(res->prefix, run->prefix, sizeof(res->prefix));
	for (i = 0; i < FZ_NAMES; i++)
		snprintf(run->names[i], KPORT_NAME_MAX, "%s%d", run->prefix, i);

	run->dev = kt_dev();
	memset(&v, 0, sizeof(v));
	if (run->dev < 0 || kt_ioctl(run->dev, KPORT_IOC_VERSION, &v)) {
		fprintf(stderr, "# fuzz: /dev/kport: %d\n", run->dev);
		return -1;
	}
	run->max_msg_size = v.max_msg_size;
	run->max_capacity = v.max_capacity;
	run->max_pool_size = v.max_pool_size;
	run->threshold = v.pool_threshold;
	run->max_user_bytes = fz_param("max_user_bytes", 64UL << 20);
	before = kt_proc_ports(run->prefix, &ours);
	run->enospc_possible =
		(unsigned long)before + FZ_SLOTS + FZ_NAMES + 2 >=
		fz_param("max_ports_per_user", 256) ||
		(unsigned long)before + FZ_SLOTS + FZ_NAMES + 2 >= fz_param("max_ports", 1024);

	if (pipe2(lifeline, O_CLOEXEC) || pipe2(ready, O_CLOEXEC))
		return -1;
	pid = kt_fork();
	if (pid == 0) {
		close(lifeline[1]);
		fz_child(lifeline[0], ready[1]);
	}
	close(lifeline[0]);
	close(ready[1]);
	run->child = pid;
	run->child_pipe = lifeline[1];
	if (pid < 0 || kt_token_get(ready[0], -1) != 'r') {
		fprintf(stderr, "# fuzz: the inbox child did not start\n");
		return -1;
	}
	close(ready[0]);
	pid = kt_fork();
	if (pid == 0)
		_exit(0);
	if (pid < 0 || kt_reap(pid, -1) != 0)
		return -1;
	run->dead = pid;
	if (pipe2(lifeline, O_CLOEXEC | O_NONBLOCK))
		return -1;
	run->pipe_r = lifeline[0];
	run->pipe_w = lifeline[1];
	run->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (run->closed_fd = 1000; fcntl(run->closed_fd, F_GETFD) >= 0;
	     run->closed_fd++)
		;
	if (kt_sigaction(SIGUSR1, fz_on_signal, 0))
		return -1;

	start = kt_now_ns();
	run->end_ns = start + (uint64_t)ms * KT_NSEC_PER_MSEC;
	memset(th, 0, sizeof(th));
	for (i = 0; i < nthreads; i++) {
		th[i].run = run;
		th[i].idx = i;
		th[i].rng = seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1));
		if (fz_thread_mem(&th[i]))
			return -1;
	}
	watch.th = th;
	watch.nthreads = nthreads;
	watch.done = 0;
	if (pthread_create(&watch_tid, NULL, fz_watchdog, &watch))
		return -1;
	/* Thread 0 runs here: with one thread the run is exactly reproducible. */
	for (i = 1; i < nthreads; i++)
		if (pthread_create(&th[i].tid, NULL, fz_thread_main, &th[i]))
			return -1;
	fz_thread_main(&th[0]);
	for (i = 1; i < nthreads; i++)
		pthread_join(th[i].tid, NULL);
	__atomic_store_n(&watch.done, 1, __ATOMIC_RELEASE);
	pthread_join(watch_tid, NULL);
	res->seconds_ms = (kt_now_ns() - start) / KT_NSEC_PER_MSEC;

	/* Clean up: every descriptor, every name, the child. */
	for (i = 0; i < FZ_SLOTS; i++) {
		struct fz_slot *s = &run->slots[i];

		if (s->fd >= 0)
			fz_ofd_put(run, s->ofd, s->fd);
		s->fd = -1;
	}
	for (i = 0; i < FZ_NAMES; i++) {
		int ret = kt_unlink(run->names[i]);

		if (ret && ret != -ENOENT) {
			fprintf(stderr, "# fuzz: unlink %s at the end: %d\n",
				run->names[i], ret);
			res->violations++;
		}
	}
	close(run->child_pipe);
	if (kt_reap(run->child, -1) != 0) {
		fprintf(stderr, "# fuzz: the inbox child did not end cleanly\n");
		res->violations++;
	}
	close(run->pipe_r);
	close(run->pipe_w);
	close(run->devnull);
	kt_dev_close();
	for (i = 0; i < 200; i++) {
		if (kt_proc_ports(run->prefix, &ours) >= 0 && ours == 0)
			break;
		kt_sleep_ms(10);
	}
	res->leftover = ours;
	free(run->ports);
	free(run->index);
	free(run);
	return 0;
}

/* ---- Tests ---------------------------------------------------------------------------------- */

FIXTURE(fuzz) {
	struct fz_result *res;
	long refcnt_before;
	int ports_before;
	uint64_t seed;
	unsigned int ms;
	int threads;
	pid_t child;
};

FIXTURE_SETUP(fuzz)
{
	unsigned int total = kt_env_uint("KPORT_FUZZ_SECONDS",
					 kt_debug_lane() ? 12 : 15);
	int ours;

	self->child = -1;
	self->res = kt_shared_alloc(sizeof(*self->res));
	ASSERT_NE(NULL, self->res);
	self->seed = kt_env_seed("KPORT_FUZZ_SEED");
	self->threads = (int)kt_env_uint("KPORT_FUZZ_THREADS", 3);
	if (self->threads < 1)
		self->threads = 1;
	if (self->threads > FZ_MAX_THREADS)
		self->threads = FZ_MAX_THREADS;
	/* Two thirds of the time as root, a third as nobody. */
	self->ms = total * 1000 / 3;
	self->refcnt_before = kt_module_refcnt_settled();
	ASSERT_LE(0, self->refcnt_before);
	self->ports_before = kt_proc_ports("kfz.", &ours);
	ASSERT_LE(0, self->ports_before);
}

FIXTURE_TEARDOWN(fuzz)
{
	kt_kill_reap(self->child);
	if (self->res)
		munmap(self->res, sizeof(*self->res));
	kt_dev_close();
}

/* After a run: its verdict, its figure, and nothing left behind. */
static void fz_verdict(struct __test_metadata *_metadata,
		       FIXTURE_DATA(fuzz) *self, const char *user)
{
	uint64_t end = kt_now_ns() + KT_TIMEOUT_MS * KT_NSEC_PER_MSEC;
	struct fz_result *res = self->res;
	int ports, ours;
	long ref;

	printf("kport-figure: fuzz ops=%llu seed=%llu seconds=%llu user=%s threads=%d\n",
	       (unsigned long long)res->ops, (unsigned long long)self->seed,
	       (unsigned long long)((res->seconds_ms + 500) / 1000), user,
	       self->threads);
	fflush(stdout);
	TH_LOG("%llu operations, %llu succeeded, %llu interrupted by the timer; %llu SENDRECV sent, then failed with EINVAL for their receive part's arguments",
	       (unsigned long long)res->ops, (unsigned long long)res->successes,
	       (unsigned long long)res->injected_eintr,
	       (unsigned long long)res->obs_sr_late_einval);
	{
		char line[1024];
		size_t n = 0;
		int i;

		for (i = 0; i < FZ_NR_OPS; i++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s %llu/%llu",
					      fz_op_names[i],
					      (unsigned long long)res->op_ok[i],
					      (unsigned long long)res->op_count[i]);
		TH_LOG("succeeded/tried:%s", line);
	}
	EXPECT_EQ(0, res->violations) {
		int i;

		TH_LOG("%d violations of %d kinds; the first: %s", res->violations,
		       res->nsigs, res->first);
		for (i = 0; i < res->nsigs; i++)
			TH_LOG("kind %d: %s x%d, e.g. %s", i + 1, res->sigs[i].op,
			       res->sigs[i].count, res->sigs[i].example);
		TH_LOG("reproduce with KPORT_FUZZ_SEED=%llu KPORT_FUZZ_THREADS=1",
		       (unsigned long long)self->seed);
	}
	EXPECT_EQ(0, res->leftover);
	/* Not a vacuous pass (the debug lane is 5-20 times slower). */
	EXPECT_LT(100U, res->ops);
	EXPECT_LT(10U, res->successes);
	kt_dev_close();
	do {
		ports = kt_proc_ports(res->prefix, &ours);
		ref = kt_module_refcnt();
		if (ports == self->ports_before && ref == self->refcnt_before)
			break;
		kt_sleep_ms(10);
	} while (kt_now_ns() < end);
	EXPECT_EQ(self->ports_before, ports);
	EXPECT_EQ(0, ours);
	EXPECT_EQ(self->refcnt_before, ref);
}

/*
 * The harness's own alarm is only a backstop: the run lasts
 * KPORT_FUZZ_SECONDS, and the guest's KPORT_TEST_TIMEOUT kills a binary
 * that overstays.
 */
TEST_F_TIMEOUT(fuzz, random_operations_as_root_get_only_the_errors_the_contract_allows, 7200)
{
	printf("# fuzz: seed=%llu threads=%d ms=%u (KPORT_FUZZ_SEED=%llu KPORT_FUZZ_THREADS=1 to reproduce)\n",
	       (unsigned long long)self->seed, self->threads, 2 * self->ms,
	       (unsigned long long)self->seed);
	fflush(stdout);
	ASSERT_EQ(0, fz_run(self->res, self->seed, 2 * self->ms, self->threads,
			    false));
	fz_verdict(_metadata, self, "root");
}

TEST_F_TIMEOUT(fuzz, random_operations_as_nobody_get_only_the_errors_the_contract_allows, 7200)
{
	uint64_t seed = self->seed ^ 0x6e6f626f6479ULL;	/* "nobody" */

	printf("# fuzz: seed=%llu threads=%d ms=%u as nobody (KPORT_FUZZ_SEED=%llu KPORT_FUZZ_THREADS=1 to reproduce the root half)\n",
	       (unsigned long long)seed, self->threads, self->ms,
	       (unsigned long long)self->seed);
	fflush(stdout);
	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		kt_dev_close();
		KT_CHILD_ASSERT(setgroups(0, NULL) == 0);
		KT_CHILD_ASSERT(setresgid(65534, 65534, 65534) == 0);
		KT_CHILD_ASSERT(setresuid(65534, 65534, 65534) == 0);
		KT_CHILD_ASSERT(fz_run(self->res, seed, self->ms, self->threads,
				       true) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_reap(self->child, (int)self->ms + 60 * 1000));
	self->child = -1;
	self->seed = seed;
	fz_verdict(_metadata, self, "nobody");
}

TEST_HARNESS_MAIN
