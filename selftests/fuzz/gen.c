// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's arguments: every draw from a thread's RNG goes through
 * here.  The pools are tiny so that the threads keep colliding on the
 * same ports and descriptors.  Where a choice can be wrong on purpose,
 * what it calls for is next to it: fz_target_expect() for the descriptor,
 * fz_place_expect() for an ioctl struct's size, pointer and direction.
 */
#include "fuzz.h"

#include <limits.h>

const char *const fz_tkind[] = { "port", "dev", "pipe", "null", "closed" };
const char *const fz_pkind[] = { "valid", "NULL", "unmapped", "ro", "straddle" };

/* ---- Randomness ------------------------------------------------------------------- */

uint32_t fz_below(struct fz_thread *th, uint32_t n)
{
	return n ? (uint32_t)(kt_rand64(&th->rng) % n) : 0;
}

/* true with probability @pct percent */
bool fz_pct(struct fz_thread *th, uint32_t pct)
{
	return fz_below(th, 100) < pct;
}

/* The payload pattern: byte i of every message is fz_pat(i). */
static unsigned char fz_pat(size_t i)
{
	return (unsigned char)(i * 131 + (i >> 8) * 7 + 0x5a);
}

void fz_fill(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (char)fz_pat(i);
}

/* 0 if @p holds the pattern, else the 1-based offset of the first bad byte. */
size_t fz_check_pat(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] != fz_pat(i))
			return i + 1;
	return 0;
}

/* ---- Targets ------------------------------------------------------------------------ */

void fz_target_special(struct fz_thread *th, struct fz_target *t, int kind)
{
	struct fz_run *run = th->run;

	t->kind = kind;
	t->slot = NULL;
	t->ofd = NULL;
	switch (kind) {
	case T_DEV:
		t->fd = run->dev;
		break;
	case T_PIPE:
		t->fd = run->pipe_r;
		break;
	case T_NULL:
		t->fd = run->devnull;
		break;
	default:
		t->kind = T_CLOSED;
		t->fd = fz_pct(th, 50) ? run->closed_fd : -1;
		break;
	}
}

/* A port handle most of the time (read-locked), another descriptor else. */
void fz_target_port(struct fz_thread *th, struct fz_target *t, uint32_t other_pct)
{
	struct fz_run *run = th->run;
	uint32_t i, start;

	if (th->clean || !fz_pct(th, other_pct)) {
		start = fz_below(th, FZ_SLOTS);
		for (i = 0; i < FZ_SLOTS; i++) {
			struct fz_slot *s = &run->slots[(start + i) % FZ_SLOTS];

			pthread_rwlock_rdlock(&s->lock);
			if (s->fd >= 0) {
				t->kind = T_PORT;
				t->fd = s->fd;
				t->slot = s;
				t->ofd = s->ofd;
				return;
			}
			pthread_rwlock_unlock(&s->lock);
		}
	}
	fz_target_special(th, t, T_DEV + (int)fz_below(th, 4));
}

/* /dev/kport most of the time, another descriptor else. */
void fz_target_dev(struct fz_thread *th, struct fz_target *t)
{
	if (th->clean || fz_pct(th, 85)) {
		fz_target_special(th, t, T_DEV);
		return;
	}
	fz_target_port(th, t, 30);
	if (t->kind == T_DEV)
		fz_target_special(th, t, T_CLOSED);
}

/* A descriptor of the wrong kind for the operation's commands. */
static bool fz_target_wrong(const struct fz_call *c)
{
	return c->op->dev ? c->t.kind != T_DEV : c->t.kind != T_PORT;
}

/* Descriptor-level errors of the operation's command on its target. */
void fz_target_expect(const struct fz_call *c, struct fz_expect *e)
{
	if (c->t.kind == T_CLOSED)
		e->excl = B(EBADF);
	else if (fz_target_wrong(c))
		e->excl |= B(ENOTTY);
}

void fz_target_done(struct fz_target *t)
{
	if (t->slot)
		pthread_rwlock_unlock(&t->slot->lock);
	t->slot = NULL;
}

/* ---- Memory the calls point into -------------------------------------------------------- */

uint32_t fz_pick_pkind(struct fz_thread *th, uint32_t valid_pct)
{
	if (th->clean || fz_pct(th, valid_pct))
		return P_VALID;
	return 1 + fz_below(th, 4);
}

/* A data buffer for a send (readable bytes *@valid) or a receive. */
char *fz_data_ptr(struct fz_thread *th, uint32_t kind, bool for_write,
		  size_t *valid)
{
	switch (kind) {
	case P_VALID:
		*valid = FZ_AREA;
		return for_write ? th->recv : th->send;
	case P_NULL:
		*valid = 0;
		return NULL;
	case P_NONE:
		*valid = 0;
		return th->none;
	case P_RO:
		*valid = for_write ? 0 : FZ_PAGE;
		return th->ro;
	default:
		*valid = FZ_STRADDLE;
		return for_write ? th->rstrad : th->strad;
	}
}

/*
 * Place ioctl struct @s (@ksize bytes) for command @cmd0 somewhere: the
 * size in the command, the pointer, sometimes the direction.  Sets the
 * call's command and argument, and records the choices in c->pl for
 * fz_place_expect() and in c->what for the description.
 */
void fz_place(struct fz_thread *th, struct fz_call *c, unsigned long cmd0,
	      const void *s, size_t ksize, int write_back)
{
	struct fz_placed *pl = &c->pl;
	uint32_t r = th->clean ? 50 + fz_below(th, 50) : fz_below(th, 100);
	char *p;

	pl->used = true;
	pl->ksize = pl->usize = ksize;
	pl->write_back = write_back;
	if (r < 4) {
		pl->usize = ksize - 8;
	} else if (r < 12) {
		pl->usize = ksize + 8;
	} else if (r < 16) {
		pl->usize = ksize + 8;
		pl->tail_nonzero = true;
	} else if (r < 19) {
		pl->usize = 2 * FZ_PAGE;
	}
	c->cmd = (cmd0 & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
		 ((unsigned long)pl->usize << _IOC_SIZESHIFT);
	if (!th->clean && fz_pct(th, 3)) {
		/* Same magic and number, another direction: unknown command. */
		unsigned long dir = (_IOC_DIR(cmd0) + 1 + fz_below(th, 3)) & 3;

		c->cmd = (c->cmd & ~((unsigned long)_IOC_DIRMASK << _IOC_DIRSHIFT)) |
			 (dir << _IOC_DIRSHIFT);
		pl->wrong_dir = true;
	}
	pl->kind = fz_pick_pkind(th, 88);
	switch (pl->kind) {
	case P_VALID:
		p = th->arg;
		memcpy(p, s, ksize);
		memset(p + ksize, 0, 16);
		if (pl->tail_nonzero)
			p[ksize + fz_below(th, 8)] = (char)(1 + fz_below(th, 255));
		break;
	case P_RO:
		p = th->roarg;
		mprotect(p, FZ_PAGE, PROT_READ | PROT_WRITE);
		memcpy(p, s, ksize);
		memset(p + ksize, 0, 16);
		if (pl->tail_nonzero)
			p[ksize + fz_below(th, 8)] = (char)(1 + fz_below(th, 255));
		mprotect(p, FZ_PAGE, PROT_READ);
		break;
	case P_STRAD:
		p = th->astrad;
		memcpy(p, s, FZ_STRADDLE);
		break;
	default:
		p = pl->kind == P_NULL ? NULL : th->none;
		break;
	}
	c->arg = p;
	/* A command on the wrong descriptor is just as unknown there. */
	snprintf(c->what, sizeof(c->what), "size %zu%s arg %s%s", pl->usize,
		 pl->tail_nonzero ? " (tail set)" : "", fz_pkind[pl->kind],
		 pl->wrong_dir || (c->t.kind != T_CLOSED && fz_target_wrong(c)) ?
		 " wrong-dir" : "");
}

/* What the placement of a struct calls for, whatever the struct says. */
void fz_place_expect(const struct fz_placed *pl, struct fz_expect *e)
{
	if (!pl->used)
		return;
	if (pl->usize < pl->ksize)
		e->early |= B(EINVAL);
	if (pl->tail_nonzero || pl->usize > FZ_PAGE)
		e->early |= B(E2BIG);
	if (pl->wrong_dir)
		e->excl |= B(ENOTTY);
	if (pl->kind == P_RO && pl->write_back == FZ_WRITE_BACK)
		e->late |= B(EFAULT);
	if (pl->kind == P_RO && pl->write_back == FZ_WRITE_BACK_FIRST)
		e->early |= B(EFAULT);
	/* Nothing can be read there; a size out of range is refused first. */
	if (pl->kind != P_VALID && pl->kind != P_RO && pl->usize >= pl->ksize &&
	    pl->usize <= FZ_PAGE)
		e->early |= B(EFAULT);
}

/*
 * Whether a struct placed by fz_place() can be read back whole (a kernel
 * that wrongly reported success through a bad pointer must not crash us).
 */
bool fz_readable(const struct fz_thread *th, const void *p)
{
	return p == th->arg || p == th->roarg;
}

/* A random unknown bit of a 64-bit flags word, given the known ones. */
uint64_t fz_unknown_bit(struct fz_thread *th, uint64_t known)
{
	uint64_t bit;

	do {
		bit = 1ULL << fz_below(th, 64);
	} while (bit & known);
	return bit;
}

/* Set one reserved byte of @words (@bytes of them) non-zero, sometimes. */
bool fz_reserved(struct fz_thread *th, void *words, size_t bytes)
{
	unsigned char *p = words;

	if (th->clean || !fz_pct(th, 6))
		return false;
	p[fz_below(th, (uint32_t)bytes)] = (unsigned char)(1 + fz_below(th, 255));
	th->resv = true;
	return true;
}

/* ---- Names, pids, deadlines ----------------------------------------------------------------- */

/*
 * Fill @name: one of ours (index in *@idx), anonymous (*@idx = -1), or
 * invalid (*@idx = -3, returns true).
 */
bool fz_pick_name(struct fz_thread *th, char name[KPORT_NAME_MAX], int *idx,
		  uint32_t anon_pct)
{
	struct fz_run *run = th->run;
	uint32_t r = fz_below(th, th->clean ? 88 : 100);

	memset(name, 0, KPORT_NAME_MAX);
	if (r < anon_pct) {
		*idx = -1;
		return false;
	}
	if (r < 88) {
		*idx = (int)fz_below(th, FZ_NAMES);
		memcpy(name, run->names[*idx], strlen(run->names[*idx]));
		return false;
	}
	*idx = -3;
	memcpy(name, run->names[0], strlen(run->names[0]));
	switch (fz_below(th, 6)) {
	case 0:
		name[3] = '/';
		break;
	case 1:
		name[3] = ' ';
		break;
	case 2:
		name[strlen(name) + 1 + fz_below(th, 8)] = 'x'; /* after the NUL */
		break;
	case 3:
		memset(name, 'n', KPORT_NAME_MAX);	/* no NUL at all */
		break;
	case 4:
		name[2] = 0x7f;
		break;
	default:
		name[1] = (char)0xc3;			/* not ASCII */
		break;
	}
	return true;
}

/* A pid from the pool; *@dead: no such process (ESRCH); *@bad: not a pid. */
pid_t fz_pick_pid(struct fz_thread *th, bool *dead, bool *bad)
{
	struct fz_run *run = th->run;

	*dead = *bad = false;
	switch (fz_below(th, 10)) {
	case 0:
		*bad = true;
		return 0;
	case 1:
		*bad = true;
		return -1;
	case 2:
		*dead = true;
		return run->dead;
	case 3:
		*dead = true;
		return INT_MAX;
	case 4:
		return th->ktid;
	case 5:
	case 6:
		return run->child;
	default:
		return run->self;
	}
}

/*
 * A deadline for a message call with @m->flags, and what may happen: it
 * waits, it times out.  Sometimes a deadline without the flag, which
 * fz_bad_deadline() tells.
 */
void fz_pick_deadline(struct fz_thread *th, struct kport_msg *m, bool *may_wait,
		      bool *may_timeout)
{
	*may_timeout = false;
	*may_wait = !(m->flags & KPORT_MSG_NONBLOCK);
	if (m->flags & KPORT_MSG_DEADLINE) {
		switch (fz_below(th, 6)) {
		case 0:
			m->deadline_ns = 1;
			break;
		case 1:
			m->deadline_ns = UINT64_MAX;	/* never */
			return;
		case 2:
			m->deadline_ns = kt_now_ns();
			break;
		default:
			m->deadline_ns = kt_deadline_ms(fz_below(th, 4));
			break;
		}
		*may_timeout = true;
		return;
	}
	if (!th->clean && fz_pct(th, 3))
		m->deadline_ns = 1 + fz_below(th, 1000);	/* without the flag */
}

/* A deadline without KPORT_MSG_DEADLINE: refused. */
bool fz_bad_deadline(uint64_t flags, uint64_t deadline_ns)
{
	return !(flags & KPORT_MSG_DEADLINE) && deadline_ns;
}

/* What a message call with @flags that may wait or time out may come to. */
uint32_t fz_wait_state(uint64_t flags, bool may_wait, bool may_timeout)
{
	return (flags & KPORT_MSG_NONBLOCK ? B(EAGAIN) : 0) |
	       (may_timeout ? B(ETIMEDOUT) : 0) | (may_wait ? B(EINTR) : 0);
}

/*
 * Length @r of those about @p's msg_size: 0, 1, msg_size - 1, msg_size + 1,
 * else msg_size.
 */
uint32_t fz_len_near(const struct fz_port *p, uint32_t r)
{
	switch (r) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return p->msg_size - 1;
	case 3:
		return p->msg_size + 1;
	default:
		return p->msg_size;
	}
}
