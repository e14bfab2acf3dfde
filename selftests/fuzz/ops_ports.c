// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's operations on ports and names: VERSION, CREATE, OPEN and
 * UNLINK on /dev/kport, STAT and DELETE on a handle, and commands that
 * exist nowhere or not on that kind of descriptor.
 */
#include "fuzz.h"

/* ---- VERSION ---------------------------------------------------------------------- */

struct fz_version {
	struct fz_call c;
	struct kport_version v;
};

static void version_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_version *a = FZ_ARGS(struct fz_version, c);

	fz_target_dev(th, &c->t);
	if (fz_pct(th, 5))
		a->v.flags = fz_unknown_bit(th, 0);
	fz_reserved(th, &a->v.__reserved32,
		    sizeof(a->v.__reserved32) + sizeof(a->v.__reserved));
	if (fz_pct(th, 30))	/* output only */
		a->v.features = a->v.api_version = a->v.max_capacity = 0xdeadbeef;
	fz_place(th, c, KPORT_IOC_VERSION, &a->v, sizeof(a->v), FZ_WRITE_BACK);
	FZ_DESC(th, "VERSION on %s, %s", fz_tkind[c->t.kind], c->what);
}

static void version_expect(struct fz_thread *th, const struct fz_call *c,
			   struct fz_expect *e)
{
	const struct fz_version *a = FZ_ARGS(const struct fz_version, c);

	fz_target_expect(c, e);
	if (a->v.flags || th->resv)
		e->early |= B(EINVAL);
}

static void version_check(struct fz_thread *th, struct fz_call *c, long ret,
			  struct fz_expect *e)
{
	const struct kport_version *out = c->arg;
	struct fz_run *run = th->run;

	fz_target_done(&c->t);
	if (fz_check(th, "VERSION", ret, e) && ret >= 0 && fz_readable(th, out) &&
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

const struct fz_op fz_op_version = {
	.name = "VERSION", .size = sizeof(struct fz_version), .dev = true,
	.gen = version_gen, .expect = version_expect, .check = version_check,
};

/* ---- CREATE ----------------------------------------------------------------------- */

struct fz_create {
	struct fz_call c;
	struct kport_create k;
	int name_idx;
	bool bad_name;
	uint64_t fin0;		/* unlinks of the name finished before the call */
};

static void create_gen(struct fz_thread *th, struct fz_call *c)
{
	static const uint32_t modes[] = { 0600, 0600, 0666, 0644, 0400, 0200, 0, 0777 };
	static const uint64_t good_flags[] = {
		0, 0, 0, KPORT_CREATE_FIXED, KPORT_CREATE_PROCESS,
		KPORT_CREATE_NONBLOCK, KPORT_CREATE_INBOX,
		KPORT_CREATE_INBOX | KPORT_CREATE_NONBLOCK,
		KPORT_CREATE_PROCESS | KPORT_CREATE_FIXED,
		KPORT_CREATE_ZEROCOPY, KPORT_CREATE_ZEROCOPY | KPORT_CREATE_PROCESS,
	};
	struct fz_create *a = FZ_ARGS(struct fz_create, c);
	struct kport_create *k = &a->k;
	struct fz_run *run = th->run;
	const uint32_t capacities[] = {
		0, 1, KPORT_CAPACITY_UNBOUNDED, run->max_capacity,
		run->max_capacity + 1, 16, 3, 3, 3,
	};
	const uint32_t msg_sizes[] = {
		0, run->max_msg_size + 1, 1, 4096, 4096, 20000, 65536,
		64, 64, 64, 64, 64,
	};
	uint32_t r;

	fz_target_dev(th, &c->t);
	r = fz_below(th, th->clean ? 90 : 100);
	if (r < 90)
		k->flags = good_flags[fz_below(th, sizeof(good_flags) / sizeof(good_flags[0]))];
	else if (r < 97)
		k->flags = fz_unknown_bit(th, KPORT_CREATE_FLAGS);
	else
		k->flags = ~0ULL;
	a->bad_name = fz_pick_name(th, k->name, &a->name_idx, 30);
	if ((k->flags & KPORT_CREATE_INBOX) && (th->clean || fz_pct(th, 85))) {
		memset(k->name, 0, sizeof(k->name));
		a->bad_name = false;
		a->name_idx = -2;
	}
	k->mode = fz_pct(th, 3) ? 01000 | 0600 : modes[fz_below(th, 8)];
	k->capacity = capacities[fz_below(th, sizeof(capacities) / sizeof(capacities[0]))];
	k->msg_size = msg_sizes[fz_below(th, sizeof(msg_sizes) / sizeof(msg_sizes[0]))];
	r = fz_below(th, 100);
	if (k->flags & KPORT_CREATE_ZEROCOPY ? r < 90 : r < 30) {
		k->pool_size = fz_pct(th, 50) ? 65536 : 131072;
		if (k->msg_size > 65536)
			k->msg_size = 65536;
	} else if (r < 34) {
		k->pool_size = 65536 + 1 + fz_below(th, 4095);
	} else if (r < 36) {
		k->pool_size = run->max_pool_size + FZ_PAGE;
	}
	r = fz_below(th, 100);
	k->rights = r < 92 ? 1 + fz_below(th, 3) : r < 96 ? 0 : 4U << fz_below(th, 28);
	fz_reserved(th, k->__reserved, sizeof(k->__reserved));
	if (th->clean) {
		k->mode &= 0777;
		if (k->capacity != KPORT_CAPACITY_UNBOUNDED &&
		    k->capacity > run->max_capacity)
			k->capacity = 3;
		if (!k->msg_size || k->msg_size > run->max_msg_size)
			k->msg_size = 64;
		if (k->pool_size % FZ_PAGE || k->pool_size > run->max_pool_size)
			k->pool_size = 65536;
		if (k->pool_size && k->msg_size > k->pool_size)
			k->msg_size = (uint32_t)k->pool_size;
		if (!k->pool_size)
			k->flags &= ~KPORT_CREATE_ZEROCOPY;
		if (!k->rights || (k->rights & ~KPORT_RIGHTS_ALL))
			k->rights = KPORT_RIGHTS_ALL;
	}
	fz_place(th, c, KPORT_IOC_CREATE, k, sizeof(*k), FZ_NO_WRITE_BACK);
	FZ_DESC(th, "CREATE on %s, %s: flags %#llx name %d mode %o capacity %u msg_size %u pool %llu rights %#x",
		fz_tkind[c->t.kind], c->what, (unsigned long long)k->flags,
		a->name_idx, k->mode, k->capacity, k->msg_size,
		(unsigned long long)k->pool_size, k->rights);
}

static void create_expect(struct fz_thread *th, const struct fz_call *c,
			  struct fz_expect *e)
{
	const struct fz_create *a = FZ_ARGS(const struct fz_create, c);
	const struct kport_create *k = &a->k;
	struct fz_run *run = th->run;

	fz_target_expect(c, e);
	if (th->resv)
		e->early |= B(EINVAL);
	if (k->flags & ~KPORT_CREATE_FLAGS)
		e->early |= B(EINVAL);
	if (k->mode & ~0777U)
		e->early |= B(EINVAL);
	if (!k->rights || (k->rights & ~KPORT_RIGHTS_ALL))
		e->early |= B(EINVAL);
	if (k->pool_size) {
		if (k->pool_size % FZ_PAGE || k->pool_size > run->max_pool_size ||
		    !k->msg_size || k->msg_size > k->pool_size)
			e->early |= B(EINVAL);
	} else if ((k->flags & KPORT_CREATE_ZEROCOPY) || !k->msg_size ||
		   k->msg_size > run->max_msg_size) {
		e->early |= B(EINVAL);
	}
	if (k->capacity != KPORT_CAPACITY_UNBOUNDED && k->capacity > run->max_capacity)
		e->early |= B(EINVAL);
	if (a->bad_name || ((k->flags & KPORT_CREATE_INBOX) && k->name[0]))
		e->early |= B(EINVAL);
	if (k->name[0] || (k->flags & KPORT_CREATE_INBOX))
		e->state |= B(EEXIST);
	if (run->enospc_possible)
		e->state |= B(ENOSPC);
}

/* Bit 0: the mode denies send to others; bit 1: receive. */
static uint32_t create_denies(const struct kport_create *k)
{
	return (!(k->mode & 0200) ? 1U : 0) | (!(k->mode & 0400) ? 2U : 0);
}

/*
 * Before the call, whatever it may come to: the unlinks of the name done
 * so far, and the modes others' OPEN may meet from now on.
 */
static long create_call(struct fz_thread *th, struct fz_call *c,
			const struct fz_expect *e)
{
	struct fz_create *a = FZ_ARGS(struct fz_create, c);
	struct fz_run *run = th->run;
	bool valid = !e->early && !e->excl;

	if (a->name_idx >= 0) {
		a->fin0 = __atomic_load_n(&run->unl_finished[a->name_idx],
					  __ATOMIC_SEQ_CST);
		if (valid)
			__atomic_fetch_or(&run->name_denies[a->name_idx],
					  create_denies(&a->k), __ATOMIC_SEQ_CST);
	}
	if ((a->k.flags & KPORT_CREATE_INBOX) && valid)
		__atomic_fetch_or(&run->inbox_denies, create_denies(&a->k),
				  __ATOMIC_SEQ_CST);
	return fz_ioctl(th, c);
}

static void create_check(struct fz_thread *th, struct fz_call *c, long ret,
			 struct fz_expect *e)
{
	struct fz_create *a = FZ_ARGS(struct fz_create, c);
	const struct kport_create *k = &a->k;
	uint64_t want_flags = k->flags & ~KPORT_CREATE_NONBLOCK;
	bool process = k->flags & (KPORT_CREATE_PROCESS | KPORT_CREATE_INBOX);
	struct fz_run *run = th->run;
	struct kport_stat st;
	struct fz_port *p;
	struct fz_ofd *o;
	int fd;

	fz_target_done(&c->t);
	if (!fz_check(th, "CREATE", ret, e) || ret < 0) {
		if (ret >= 0)
			close((int)ret);
		return;
	}
	fd = (int)ret;
	fz_check_handle_fd(th, "CREATE", fd, k->flags & KPORT_CREATE_NONBLOCK);
	if (k->flags & KPORT_CREATE_INBOX)
		want_flags |= KPORT_CREATE_PROCESS;
	ret = kt_stat(fd, &st);
	p = ret ? NULL : fz_port_get(run, &st, a->name_idx, a->fin0);
	/*
	 * Others reach a named port or our inbox as soon as it exists:
	 * it may hold their messages, or be deleted, already.
	 */
	if (ret || st.capacity != k->capacity || st.msg_size != k->msg_size ||
	    st.mode != k->mode || st.port_flags != want_flags ||
	    st.rights != k->rights || st.pool_size != k->pool_size ||
	    st.uid != run->euid ||
	    (st.status && !(p && fz_port_maybe_dead(run, p))) ||
	    (a->name_idx == -1 && st.nr_msgs) ||
	    st.owner_pid != (process ? run->self : 0) ||
	    strncmp(st.name, k->name, KPORT_NAME_MAX) ||
	    (k->pool_size && st.pool_threshold != run->threshold)) {
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
	o = p ? fz_ofd_new(p, k->rights, process,
			   k->flags & KPORT_CREATE_NONBLOCK) : NULL;
	if (!o) {
		if (p && process)
			fz_port_kill(p);
		close(fd);
		return;
	}
	fz_slot_put(th, fd, o);
}

const struct fz_op fz_op_create = {
	.name = "CREATE", .size = sizeof(struct fz_create), .dev = true,
	.gen = create_gen, .expect = create_expect, .call = create_call,
	.check = create_check,
};

/* ---- OPEN ------------------------------------------------------------------------- */

struct fz_open {
	struct fz_call c;
	struct kport_open k;
	int name_idx;
	bool bad_name, inbox;
	bool dead;		/* the pid may be no process */
	uint64_t fin0;		/* unlinks of the name finished before the call */
};

static void open_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_open *a = FZ_ARGS(struct fz_open, c);
	struct kport_open *k = &a->k;
	bool badpid;
	uint32_t r;

	fz_target_dev(th, &c->t);
	r = fz_below(th, th->clean ? 85 : 100);
	if (r < 40)
		k->flags = 0;
	else if (r < 60)
		k->flags = KPORT_OPEN_NONBLOCK;
	else if (r < 85)
		k->flags = KPORT_OPEN_INBOX | (fz_pct(th, 30) ? KPORT_OPEN_NONBLOCK : 0);
	else if (r < 95)
		k->flags = fz_unknown_bit(th, KPORT_OPEN_FLAGS);
	else
		k->flags = ~0ULL;
	a->inbox = k->flags & KPORT_OPEN_INBOX;
	if (a->inbox && (th->clean || fz_pct(th, 90))) {
		a->name_idx = -2;
		/* 0 and -1 are refused along with any inbox pid <= 0. */
		k->pid = fz_pick_pid(th, &a->dead, &badpid);
	} else {
		a->bad_name = fz_pick_name(th, k->name, &a->name_idx,
					   th->clean ? 0 : 5);
		/* Any pid: a process or not, ours or not (with INBOX, valid). */
		if (!th->clean && fz_pct(th, 5)) {
			k->pid = (pid_t)(1 + fz_below(th, 1000));
			a->dead = true;	/* may be no process: ESRCH */
		}
	}
	r = fz_below(th, th->clean ? 95 : 100);
	k->rights = r < 95 ? fz_below(th, 4) : 4U << fz_below(th, 28);
	fz_reserved(th, k->__reserved, sizeof(k->__reserved));
	fz_place(th, c, KPORT_IOC_OPEN, k, sizeof(*k), FZ_NO_WRITE_BACK);
	FZ_DESC(th, "OPEN on %s, %s: flags %#llx name %d rights %#x pid %d",
		fz_tkind[c->t.kind], c->what, (unsigned long long)k->flags,
		a->name_idx, k->rights, k->pid);
}

static void open_expect(struct fz_thread *th, const struct fz_call *c,
			struct fz_expect *e)
{
	const struct fz_open *a = FZ_ARGS(const struct fz_open, c);
	const struct kport_open *k = &a->k;

	fz_target_expect(c, e);
	if (th->resv)
		e->early |= B(EINVAL);
	if (k->flags & ~KPORT_OPEN_FLAGS)
		e->early |= B(EINVAL);
	if (k->rights & ~KPORT_RIGHTS_ALL)
		e->early |= B(EINVAL);
	if (a->bad_name)
		e->early |= B(EINVAL);
	if (a->inbox ? k->name[0] || k->pid <= 0 : !k->name[0] || k->pid)
		e->early |= B(EINVAL);
	if (a->inbox) {
		if (a->dead)
			e->state |= B(ESRCH) | B(ENOENT);	/* a reused pid has no inbox */
		else
			e->state |= B(ENOENT);
	} else if (a->name_idx >= 0) {
		e->state |= B(ENOENT);
	}
}

/* Before the call: the unlinks of the name done so far. */
static long open_call(struct fz_thread *th, struct fz_call *c,
		      const struct fz_expect *e)
{
	struct fz_open *a = FZ_ARGS(struct fz_open, c);

	if (!a->inbox && a->name_idx >= 0)
		a->fin0 = __atomic_load_n(&th->run->unl_finished[a->name_idx],
					  __ATOMIC_SEQ_CST);
	return fz_ioctl(th, c);
}

static void open_check(struct fz_thread *th, struct fz_call *c, long ret,
		       struct fz_expect *e)
{
	struct fz_open *a = FZ_ARGS(struct fz_open, c);
	const struct kport_open *k = &a->k;
	struct fz_run *run = th->run;
	struct kport_stat st;
	struct fz_port *p;
	struct fz_ofd *of;
	uint32_t deny;
	int fd;

	fz_target_done(&c->t);
	/* The mode of whatever port the name (or our inbox) led to. */
	deny = (k->rights & KPORT_RIGHT_SEND ? 1 : 0) |
	       (k->rights & KPORT_RIGHT_RECV ? 2 : 0);
	if (run->nobody && a->inbox && k->pid != run->child &&
	    (__atomic_load_n(&run->inbox_denies, __ATOMIC_SEQ_CST) & deny))
		e->state |= B(EACCES);
	if (run->nobody && !a->inbox && a->name_idx >= 0 &&
	    (__atomic_load_n(&run->name_denies[a->name_idx], __ATOMIC_SEQ_CST) & deny))
		e->state |= B(EACCES);
	if (!fz_check(th, "OPEN", ret, e) || ret < 0) {
		if (ret >= 0)
			close((int)ret);
		return;
	}
	fd = (int)ret;
	fz_check_handle_fd(th, "OPEN", fd, k->flags & KPORT_OPEN_NONBLOCK);
	ret = kt_stat(fd, &st);
	if (ret || st.rights != k->rights ||
	    (!a->inbox && strncmp(st.name, k->name, KPORT_NAME_MAX)) ||
	    (a->inbox && (st.name[0] || !(st.port_flags & KPORT_CREATE_INBOX) ||
			  st.owner_pid != fz_inbox_owner(run, k->pid)))) {
		fz_violation(th, "OPEN", "stat of the opened port: %ld rights %u name '%.20s' flags %#llx owner %d",
			     ret, st.rights, st.name,
			     (unsigned long long)st.port_flags, st.owner_pid);
		close(fd);
		return;
	}
	p = fz_port_get(run, &st, a->name_idx, a->fin0);
	of = p ? fz_ofd_new(p, k->rights, false, k->flags & KPORT_OPEN_NONBLOCK) : NULL;
	if (!of) {
		close(fd);
		return;
	}
	fz_check_stat(th, "OPEN", of, &st);
	fz_slot_put(th, fd, of);
}

const struct fz_op fz_op_open = {
	.name = "OPEN", .size = sizeof(struct fz_open), .dev = true,
	.gen = open_gen, .expect = open_expect, .call = open_call,
	.check = open_check,
};

/* ---- UNLINK ----------------------------------------------------------------------- */

struct fz_unlink {
	struct fz_call c;
	struct kport_unlink k;
	int name_idx;
	bool bad_name;
};

static void unlink_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_unlink *a = FZ_ARGS(struct fz_unlink, c);

	fz_target_dev(th, &c->t);
	a->bad_name = fz_pick_name(th, a->k.name, &a->name_idx, 5);
	if (fz_pct(th, 4))
		a->k.flags = fz_unknown_bit(th, 0);
	fz_reserved(th, a->k.__reserved, sizeof(a->k.__reserved));
	fz_place(th, c, KPORT_IOC_UNLINK, &a->k, sizeof(a->k), FZ_NO_WRITE_BACK);
	FZ_DESC(th, "UNLINK on %s, %s: name %d flags %#llx", fz_tkind[c->t.kind],
		c->what, a->name_idx, (unsigned long long)a->k.flags);
}

static void unlink_expect(struct fz_thread *th, const struct fz_call *c,
			  struct fz_expect *e)
{
	const struct fz_unlink *a = FZ_ARGS(const struct fz_unlink, c);

	fz_target_expect(c, e);
	if (a->k.flags || th->resv || a->bad_name || !a->k.name[0])
		e->early |= B(EINVAL);
	e->state |= B(ENOENT);
}

/* A named port may be gone from when an unlink starts to when it ends. */
static long unlink_call(struct fz_thread *th, struct fz_call *c,
			const struct fz_expect *e)
{
	struct fz_unlink *a = FZ_ARGS(struct fz_unlink, c);
	struct fz_run *run = th->run;
	long ret;

	if (a->name_idx >= 0)
		__atomic_fetch_add(&run->unl_started[a->name_idx], 1, __ATOMIC_SEQ_CST);
	ret = fz_ioctl(th, c);
	if (a->name_idx >= 0)
		__atomic_fetch_add(&run->unl_finished[a->name_idx], 1, __ATOMIC_SEQ_CST);
	return ret;
}

static void unlink_check(struct fz_thread *th, struct fz_call *c, long ret,
			 struct fz_expect *e)
{
	fz_target_done(&c->t);
	fz_check(th, "UNLINK", ret, e);
}

const struct fz_op fz_op_unlink = {
	.name = "UNLINK", .size = sizeof(struct fz_unlink), .dev = true,
	.gen = unlink_gen, .expect = unlink_expect, .call = unlink_call,
	.check = unlink_check,
};

/* ---- STAT ------------------------------------------------------------------------- */

struct fz_stat {
	struct fz_call c;
	struct kport_stat st;
};

static void stat_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_stat *a = FZ_ARGS(struct fz_stat, c);

	fz_target_port(th, &c->t, 10);
	if (fz_pct(th, 4))
		a->st.flags = fz_unknown_bit(th, 0);
	fz_reserved(th, a->st.__reserved, sizeof(a->st.__reserved));
	if (fz_pct(th, 30)) {		/* output only */
		a->st.id = kt_rand64(&th->rng);
		a->st.nr_msgs = (uint32_t)kt_rand64(&th->rng);
		a->st.pool_used = kt_rand64(&th->rng);
	}
	fz_place(th, c, KPORT_IOC_STAT, &a->st, sizeof(a->st), FZ_WRITE_BACK);
	FZ_DESC(th, "STAT on %s, %s", fz_tkind[c->t.kind], c->what);
}

static void stat_expect(struct fz_thread *th, const struct fz_call *c,
			struct fz_expect *e)
{
	const struct fz_stat *a = FZ_ARGS(const struct fz_stat, c);

	fz_target_expect(c, e);
	if (a->st.flags || th->resv)
		e->early |= B(EINVAL);
}

static void stat_check(struct fz_thread *th, struct fz_call *c, long ret,
		       struct fz_expect *e)
{
	if (fz_check(th, "STAT", ret, e) && ret == 0 && c->t.ofd &&
	    fz_readable(th, c->arg))
		fz_check_stat(th, "STAT", c->t.ofd, c->arg);
	fz_target_done(&c->t);
}

const struct fz_op fz_op_stat = {
	.name = "STAT", .size = sizeof(struct fz_stat),
	.gen = stat_gen, .expect = stat_expect, .check = stat_check,
};

/* ---- DELETE ----------------------------------------------------------------------- */

struct fz_delete {
	struct fz_call c;
	unsigned long arg;	/* must be 0 */
	bool wrong_cmd;		/* DELETE's number with SEND's direction and size */
};

static void delete_gen(struct fz_thread *th, struct fz_call *c)
{
	struct fz_delete *a = FZ_ARGS(struct fz_delete, c);

	c->cmd = KPORT_IOC_DELETE;
	fz_target_port(th, &c->t, 10);
	if (fz_pct(th, 5))
		a->arg = (unsigned long)kt_rand64(&th->rng) | 1;
	if (fz_pct(th, 4)) {
		c->cmd = _IOW(KPORT_IOC_MAGIC, 0x13, struct kport_msg);
		a->wrong_cmd = true;
	}
	FZ_DESC(th, "DELETE on %s: cmd %#lx arg %#lx port %llu", fz_tkind[c->t.kind],
		c->cmd, a->arg, c->t.ofd ? (unsigned long long)c->t.ofd->port->id : 0ULL);
}

static void delete_expect(struct fz_thread *th, const struct fz_call *c,
			  struct fz_expect *e)
{
	const struct fz_delete *a = FZ_ARGS(const struct fz_delete, c);
	struct fz_run *run = th->run;

	fz_target_expect(c, e);
	if (a->arg)
		e->early |= B(EINVAL);
	if (a->wrong_cmd)
		e->excl |= B(ENOTTY);
	if (c->t.ofd) {
		if (run->nobody && c->t.ofd->port->uid != run->euid)
			e->state |= B(EPERM);
		e->state |= B(EIDRM);
	}
}

/* The port may be gone as soon as the call starts: say so first. */
static long delete_call(struct fz_thread *th, struct fz_call *c,
			const struct fz_expect *e)
{
	struct fz_delete *a = FZ_ARGS(struct fz_delete, c);

	if (c->t.ofd && !e->excl && !e->early)
		fz_port_kill(c->t.ofd->port);
	return ioctl(c->t.fd, c->cmd, a->arg) ? -errno : 0;
}

static void delete_check(struct fz_thread *th, struct fz_call *c, long ret,
			 struct fz_expect *e)
{
	fz_target_done(&c->t);
	fz_check(th, "DELETE", ret, e);
}

const struct fz_op fz_op_delete = {
	.name = "DELETE", .size = sizeof(struct fz_delete),
	.gen = delete_gen, .expect = delete_expect, .call = delete_call,
	.check = delete_check,
};

/* ---- Unknown and misdirected commands -------------------------------------------------- */

static void bad_ioctl_gen(struct fz_thread *th, struct fz_call *c)
{
	static const unsigned long known[] = {
		KPORT_IOC_VERSION, KPORT_IOC_CREATE, KPORT_IOC_OPEN,
		KPORT_IOC_UNLINK, KPORT_IOC_SEND, KPORT_IOC_RECV, KPORT_IOC_STAT,
		KPORT_IOC_DELETE, KPORT_IOC_BORROW, KPORT_IOC_RELEASE,
		KPORT_IOC_SENDV, KPORT_IOC_RECVV, KPORT_IOC_SENDRECV,
	};
	unsigned long cmd;
	uint32_t nr;

	if (fz_pct(th, 50))
		fz_target_port(th, &c->t, 20);
	else
		fz_target_dev(th, &c->t);
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
		if (c->t.kind == T_DEV && _IOC_NR(cmd) <= 0x03)
			cmd = KPORT_IOC_STAT;
		else if (c->t.kind == T_PORT && _IOC_NR(cmd) >= 0x10)
			cmd = KPORT_IOC_VERSION;
	}
	c->cmd = cmd;
	c->arg = th->arg;
	FZ_DESC(th, "ioctl %#lx on %s", cmd, fz_tkind[c->t.kind]);
}

static void bad_ioctl_expect(struct fz_thread *th, const struct fz_call *c,
			     struct fz_expect *e)
{
	e->excl = c->t.kind == T_CLOSED ? B(EBADF) : B(ENOTTY);
}

static void bad_ioctl_check(struct fz_thread *th, struct fz_call *c, long ret,
			    struct fz_expect *e)
{
	fz_target_done(&c->t);
	fz_check(th, "bad ioctl", ret, e);
}

const struct fz_op fz_op_bad_ioctl = {
	.name = "bad-ioctl", .size = sizeof(struct fz_call),
	.gen = bad_ioctl_gen, .expect = bad_ioctl_expect, .check = bad_ioctl_check,
};
