// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's model of what the kernel holds: the ports it has seen (by
 * id), the open file descriptions behind its descriptor slots with their
 * slices and pool mappings, and an upper bound of the bytes charged to it.
 *
 * Other threads change the kernel's state while a call is under way, so
 * the model says what they may have done, never what they did: each
 * thread announces a deletion, an unlink or O_NONBLOCK before it makes
 * it, and fz_after() reads those announcements once a call has returned.
 * Locks: run->table_lock (an ofd's refs), run->reg_lock (the registry),
 * a slot's rwlock (read: its descriptor in use; write: changing it), an
 * ofd's lock (its slices and mapping: an operation that reads them holds
 * it from generate to check, so that what expect said still holds).
 */
#include "fuzz.h"

/* ---- The port registry ------------------------------------------------------------ */

static struct fz_port *fz_port_find_locked(struct fz_run *run, uint64_t id)
{
	uint32_t h = (uint32_t)(id * 2654435761U) & (2 * FZ_MAX_PORTS - 1);

	while (run->index[h] >= 0) {
		if (run->ports[run->index[h]].id == id)
			return &run->ports[run->index[h]];
		h = (h + 1) & (2 * FZ_MAX_PORTS - 1);
	}
	return NULL;
}

/*
 * The entry of the port @st describes, made from @st if new.  @name and
 * @fin0: as the caller saw them before the call that reached the port.
 * NULL when the registry is full.
 */
struct fz_port *fz_port_get(struct fz_run *run, const struct kport_stat *st,
			    int name, uint64_t fin0)
{
	struct fz_port *p;
	uint32_t h;

	pthread_mutex_lock(&run->reg_lock);
	p = fz_port_find_locked(run, st->id);
	if (p) {
		if (fin0 < p->fin0)
			p->fin0 = fin0;
		goto out;
	}
	if (run->nports >= FZ_MAX_PORTS)
		goto out;
	p = &run->ports[run->nports];
	memset(p, 0, sizeof(*p));
	p->id = st->id;
	p->name = name;
	p->flags = st->port_flags;
	p->capacity = st->capacity;
	p->msg_size = st->msg_size;
	p->mode = st->mode;
	p->uid = st->uid;
	p->pool_size = st->pool_size;
	p->threshold = st->pool_threshold;
	p->owner_pid = st->owner_pid;
	p->fin0 = fin0;
	h = (uint32_t)(st->id * 2654435761U) & (2 * FZ_MAX_PORTS - 1);
	while (run->index[h] >= 0)
		h = (h + 1) & (2 * FZ_MAX_PORTS - 1);
	run->index[h] = (int32_t)run->nports++;
out:
	pthread_mutex_unlock(&run->reg_lock);
	return p;
}

void fz_port_kill(struct fz_port *p)
{
	__atomic_store_n(&p->dead, 1, __ATOMIC_SEQ_CST);
}

/* Whether somebody may have deleted @p by now. */
bool fz_port_maybe_dead(struct fz_run *run, const struct fz_port *p)
{
	if (__atomic_load_n(&p->dead, __ATOMIC_SEQ_CST))
		return true;
	return p->name >= 0 &&
	       __atomic_load_n(&run->unl_started[p->name], __ATOMIC_SEQ_CST) >
	       p->fin0;
}

bool fz_port_zc(const struct fz_port *p)
{
	return p->flags & KPORT_CREATE_ZEROCOPY;
}

/*
 * The process whose inbox OPEN of @pid finds: a thread id stands for its
 * process.  Any thread of ours counts, not only the caller's: a random pid
 * (OPEN's 5% case) can be another fuzzer thread's id.
 */
pid_t fz_inbox_owner(struct fz_run *run, pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)pid);
	return access(path, F_OK) == 0 ? run->self : pid;
}

/* ---- Slots and open file descriptions ----------------------------------------------- */

struct fz_ofd *fz_ofd_new(struct fz_port *port, uint32_t rights, bool creator,
			  bool nonblock)
{
	struct fz_ofd *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	pthread_mutex_init(&o->lock, NULL);
	o->refs = 1;
	o->port = port;
	o->rights = rights;
	o->creator = creator;
	o->maybe_nonblock = nonblock;
	return o;
}

/*
 * Drop a slot's reference to @o and close @fd; the last reference also
 * unmaps the pool (a mapping holds the handle) so that the handle is
 * released, which deletes a process-owned port: marked first.
 */
void fz_ofd_put(struct fz_run *run, struct fz_ofd *o, int fd)
{
	bool last;

	pthread_mutex_lock(&run->table_lock);
	last = --o->refs == 0;
	pthread_mutex_unlock(&run->table_lock);
	if (!last) {
		close(fd);
		return;
	}
	if (o->creator && o->port)
		fz_port_kill(o->port);
	pthread_mutex_lock(&o->lock);
	if (o->map)
		munmap(o->map, o->map_len);
	o->map = NULL;
	pthread_mutex_unlock(&o->lock);
	close(fd);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

/*
 * Put a new descriptor in a free slot, or close it if there is none.  The
 * slot to start looking at is drawn from the RNG.
 */
void fz_slot_put(struct fz_thread *th, int fd, struct fz_ofd *o)
{
	struct fz_run *run = th->run;
	uint32_t start = fz_below(th, FZ_SLOTS), i;

	for (i = 0; i < FZ_SLOTS; i++) {
		struct fz_slot *s = &run->slots[(start + i) % FZ_SLOTS];

		if (pthread_rwlock_trywrlock(&s->lock))
			continue;
		if (s->fd < 0) {
			s->fd = fd;
			s->ofd = o;
			pthread_rwlock_unlock(&s->lock);
			return;
		}
		pthread_rwlock_unlock(&s->lock);
	}
	fz_ofd_put(run, o, fd);
}

/* ---- Slices of a pool, under the ofd's lock ---------------------------------------------- */

/* The slice of @o at offset @off, or -1. */
int fz_slice_find(const struct fz_ofd *o, uint64_t off)
{
	int i;

	for (i = 0; i < o->nslices; i++)
		if (o->slices[i].off == off)
			return i;
	return -1;
}

/* Take slice @i off @o's list. */
void fz_slice_drop(struct fz_ofd *o, int i)
{
	o->slices[i] = o->slices[--o->nslices];
}

void fz_slice_add(struct fz_ofd *o, uint64_t off, uint64_t len, bool borrowed)
{
	if (o->nslices < FZ_MAX_SLICES) {
		o->slices[o->nslices].off = off;
		o->slices[o->nslices].len = len;
		o->slices[o->nslices].borrowed = borrowed;
		o->nslices++;
	}
}

/* ---- Charges, and what others may have done -------------------------------------------- */

/* Upper bound of what our queued messages are charged: send and receive. */
void fz_charge(struct fz_run *run, const struct fz_port *p, int64_t len, bool sent)
{
	if (sent)
		__atomic_fetch_add(&run->ub, len + FZ_OVERHEAD, __ATOMIC_RELAXED);
	else if (!p->pool_size)
		__atomic_fetch_sub(&run->ub, len + FZ_OVERHEAD, __ATOMIC_RELAXED);
}

static bool fz_over_quota(struct fz_run *run, uint64_t len)
{
	return (uint64_t)__atomic_load_n(&run->ub, __ATOMIC_RELAXED) + len +
	       FZ_OVERHEAD + (1U << 20) > run->max_user_bytes;
}

static bool fz_may_be_nonblock(const struct fz_ofd *o)
{
	return __atomic_load_n(&o->maybe_nonblock, __ATOMIC_SEQ_CST);
}

/*
 * What other threads may have done to the port behind @o while a call was
 * under way: evaluated once the call returned, since each of them announces
 * a deletion (or O_NONBLOCK) before it makes it.
 */
uint32_t fz_after(struct fz_run *run, const struct fz_ofd *o, uint64_t len,
		  bool charges)
{
	uint32_t s = 0;

	if (fz_port_maybe_dead(run, o->port))
		s |= B(EIDRM);
	if (fz_may_be_nonblock(o))
		s |= B(EAGAIN);
	if (charges && fz_over_quota(run, len))
		s |= B(ENOBUFS);
	return s;
}
