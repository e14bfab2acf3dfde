/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's shared definitions (runner.c says what the fuzzer does):
 *
 *   model.c    the model: what the fuzzer knows the kernel holds (ports,
 *              open file descriptions, slots, slices, charges) and what
 *              other threads may have done to it meanwhile
 *   gen.c      the arguments: the RNG, targets, memory, structs, names,
 *              pids, deadlines; and what each possibly wrong choice calls
 *              for (fz_target_expect, fz_place_expect)
 *   check.c    the verdicts: allowed results, violations, and the checks
 *              of what a call returned against the model
 *   ops_*.c    the operations, by area: ports (VERSION CREATE OPEN UNLINK
 *              STAT DELETE, bad commands), msg (SEND RECV read write),
 *              pool (BORROW RELEASE mmap), batch (SENDV RECVV SENDRECV),
 *              fd (poll epoll close dup fcntl)
 *   runner.c   the threads, the runs, the tests
 *
 * An operation (struct fz_op) is four steps, which the runner takes in
 * this order: generate draws every argument from the thread's RNG (and
 * takes the locks under which the model must stay as it is until check);
 * expect says which results the contract allows for those arguments and
 * the model as it is; call makes the call, first telling the model what
 * other threads must assume from then on; check compares the result, adds
 * what other threads may have done meanwhile, and updates the model.
 * Only generate draws from the RNG, but for the draws that follow a
 * success (the slot of a new descriptor, the byte a new mapping is
 * touched at), which check makes: a seed names one sequence of draws, and
 * so one sequence of operations (KPORT_FUZZ_THREADS=1 replays it).
 */
#ifndef KPORT_FUZZ_H
#define KPORT_FUZZ_H

/* runner.c, which has the tests, includes kport_test.h first: the harness. */
#define KT_NO_HARNESS
#include "kport_test.h"

#include <pthread.h>
#include <stdbool.h>

#define FZ_SLOTS	24
#define FZ_NAMES	4
#define FZ_MAX_THREADS	8
#define FZ_MAX_PORTS	(1U << 16)
#define FZ_MAX_SLICES	16
#define FZ_AREA		(128U << 10)	/* send and receive buffers */
#define FZ_STRADDLE	24		/* valid bytes before the hole */
#define FZ_PAGE		4096U
#define FZ_OVERHEAD	256		/* the contract's per-message overhead bound */
#define FZ_NR_OPS	22

/* ---- Results: one bit per errno the contract knows ------------------------ */

enum { FZE_OK, FZE_EPERM, FZE_ENOENT, FZE_ESRCH, FZE_EINTR, FZE_EBADF, FZE_EAGAIN, FZE_ENOMEM,
       FZE_EACCES, FZE_EFAULT, FZE_EBUSY, FZE_EEXIST, FZE_ENODEV, FZE_EINVAL, FZE_ENOSPC,
       FZE_ENOTTY, FZE_E2BIG, FZE_EMSGSIZE, FZE_ENOBUFS, FZE_ETIMEDOUT, FZE_EIDRM,
       FZE_EOPNOTSUPP };
#define B(e)	(1U << FZE_##e)

/*
 * The allowed results of a call.  @excl: the call cannot even be
 * dispatched (closed descriptor, wrong kind of descriptor or command): only
 * those.  @early: argument errors: one of them (or of @late) and no
 * success.  @late: errors that come only once the call got going (a bad
 * buffer, a read-only struct to write back): one of them or of @state, no
 * success.  Otherwise @state or success.
 */
struct fz_expect {
	uint32_t excl, early, late, state;
};

/* ---- The model --------------------------------------------------------------- */

/* What we know of a port, by its kport id. */
struct fz_port {
	uint64_t id;
	int name;		/* 0..FZ_NAMES-1, -1 anonymous, -2 an inbox */
	uint64_t flags;		/* stat.port_flags */
	uint32_t capacity, msg_size, mode, threshold, uid;
	uint64_t pool_size;
	int32_t owner_pid;
	int dead;		/* somebody may have deleted it */
	uint64_t fin0;		/* unlinks of its name finished before it was seen */
};

struct fz_slice {
	uint64_t off, len;
	bool borrowed;
};

/* An open file description of a port: shared by the dups of a descriptor. */
struct fz_ofd {
	pthread_mutex_t lock;	/* slices and mapping */
	int refs;		/* slots holding it; under fz->table_lock */
	struct fz_port *port;
	uint32_t rights;
	bool creator;		/* the creator handle of a process-owned port */
	int maybe_nonblock;	/* O_NONBLOCK may be set (sticky) */
	char *map;
	size_t map_len;
	int map_prot;
	int nslices;
	struct fz_slice slices[FZ_MAX_SLICES];
};

struct fz_slot {
	pthread_rwlock_t lock;	/* read: using fd; write: changing it */
	int fd;			/* -1: empty */
	struct fz_ofd *ofd;
};

/* Violations of one kind: same operation, same wrong result or check. */
struct fz_sig {
	char op[16];
	const void *key;	/* the check's format, or NULL for a result */
	int bit;		/* the result's errno bit */
	uint32_t allowed;
	int count;
	char example[448];
};

#define FZ_SIGS		24
#define FZ_SIG_PRINT	3	/* printed in full per kind */

struct fz_result {
	uint64_t ops;
	uint64_t op_count[FZ_NR_OPS], op_ok[FZ_NR_OPS];
	int nsigs;
	struct fz_sig sigs[FZ_SIGS];
	uint64_t seconds_ms;
	int violations;
	int leftover;		/* ports of the fuzzer still listed at the end */
	uint64_t obs_sr_late_einval;	/* SENDRECV: EINVAL after the send */
	uint64_t successes, injected_eintr;
	char prefix[32];	/* the run's names start with it */
	char first[640];
};

struct fz_run {
	uint64_t seed;
	int nthreads;
	uint32_t weights;	/* the operations' weights, summed */
	uint64_t end_ns;
	bool nobody;
	uid_t euid;
	int stop;
	char prefix[32];
	char names[FZ_NAMES][KPORT_NAME_MAX];
	uint64_t unl_started[FZ_NAMES], unl_finished[FZ_NAMES];
	uint32_t name_denies[FZ_NAMES];	/* bit 0: a mode denied send; 1: recv */
	uint32_t inbox_denies;
	int dev, pipe_r, pipe_w, devnull, closed_fd;
	pid_t self, child, dead, tid0;
	int child_pipe;
	uint32_t max_msg_size, max_capacity, threshold;
	uint64_t max_pool_size, max_user_bytes;
	bool enospc_possible;
	int64_t ub;		/* upper bound of our bytes charged */
	pthread_mutex_t table_lock;
	struct fz_slot slots[FZ_SLOTS];
	pthread_mutex_t reg_lock;
	struct fz_port *ports;
	uint32_t nports;
	int32_t *index;		/* open addressing: id -> ports[] */
	pthread_mutex_t report_lock;
	struct fz_result *res;
};

struct fz_thread {
	struct fz_run *run;
	int idx;
	pthread_t tid;
	pid_t ktid;
	uint64_t rng;
	uint64_t n;		/* operations done */
	timer_t timer;
	bool timer_ok;
	int epfd;
	char *send;		/* FZ_AREA, the payload pattern */
	char *recv;		/* FZ_AREA */
	char *ro;		/* a read-only page holding the pattern */
	char *strad;		/* FZ_STRADDLE valid bytes (the pattern), then a hole */
	char *rstrad;		/* the same for receiving */
	char *vec;		/* two pages: batch arrays */
	char *none;		/* a PROT_NONE page */
	char *arg;		/* two pages for ioctl structs */
	char *roarg;		/* a page made read-only around a struct */
	char *astrad;		/* a struct straddling a hole */
	struct fz_call *call;	/* room for the largest operation's arguments */
	char desc[384];
	int cur_op;		/* index of the operation under way */
	bool clean;		/* this operation's arguments are all valid */
	bool resv;		/* it set a reserved word */
	uint64_t op_start;	/* CLOCK_MONOTONIC ns the operation began, 0: none */
};

struct fz_port *fz_port_get(struct fz_run *run, const struct kport_stat *st,
			    int name, uint64_t fin0);
void fz_port_kill(struct fz_port *p);
bool fz_port_maybe_dead(struct fz_run *run, const struct fz_port *p);
bool fz_port_zc(const struct fz_port *p);
pid_t fz_inbox_owner(struct fz_run *run, pid_t pid);
struct fz_ofd *fz_ofd_new(struct fz_port *port, uint32_t rights, bool creator,
			  bool nonblock);
void fz_ofd_put(struct fz_run *run, struct fz_ofd *o, int fd);
void fz_slot_put(struct fz_thread *th, int fd, struct fz_ofd *o);
int fz_slice_find(const struct fz_ofd *o, uint64_t off);
void fz_slice_drop(struct fz_ofd *o, int i);
void fz_slice_add(struct fz_ofd *o, uint64_t off, uint64_t len, bool borrowed);
void fz_charge(struct fz_run *run, const struct fz_port *p, int64_t len, bool sent);
uint32_t fz_after(struct fz_run *run, const struct fz_ofd *o, uint64_t len,
		  bool charges);

/* ---- Arguments ------------------------------------------------------------------ */

/* Where a port operation goes. */
enum { T_PORT, T_DEV, T_PIPE, T_NULL, T_CLOSED };
extern const char *const fz_tkind[];

struct fz_target {
	int kind;
	int fd;
	struct fz_slot *slot;	/* read-locked while the operation runs */
	struct fz_ofd *ofd;
};

/* Memory a call points into. */
enum { P_VALID, P_NULL, P_NONE, P_RO, P_STRAD };
extern const char *const fz_pkind[];

/* What the call does with its struct once it succeeds (fz_place()). */
enum {
	FZ_NO_WRITE_BACK,
	FZ_WRITE_BACK,		/* written back at the end: read-only fails late */
	FZ_WRITE_BACK_FIRST,	/* written before anything is done: fails early */
};

/* How fz_place() placed an ioctl struct. */
struct fz_placed {
	bool used;
	uint32_t kind;		/* P_* */
	size_t ksize, usize;	/* the struct's size, the one in the command */
	bool tail_nonzero;	/* a byte past ksize set */
	bool wrong_dir;		/* the command's direction changed */
	int write_back;		/* FZ_*WRITE_BACK* */
};

/*
 * One operation: what generate picked.  Each operation's arguments are a
 * struct that starts with this one (FZ_ARGS() gets it back).
 */
struct fz_call {
	const struct fz_op *op;
	struct fz_target t;
	struct fz_placed pl;
	unsigned long cmd;
	void *arg;		/* what the ioctl gets: the struct as placed */
	bool timed;		/* fz_ioctl() arms the thread's timer around it... */
	bool arm;		/* ...to interrupt the call */
	bool skip;		/* nothing to do: generate found no target */
	char what[96];		/* how the struct was placed, for the description */
};

#define FZ_ARGS(type, c)	((type *)(c))

struct fz_op {
	const char *name;	/* in the tally */
	size_t size;		/* of its arguments */
	bool dev;		/* a command of /dev/kport, not of a handle */
	int variant;		/* read or write, SENDV or RECVV */
	void (*gen)(struct fz_thread *th, struct fz_call *c);
	void (*expect)(struct fz_thread *th, const struct fz_call *c,
		       struct fz_expect *e);
	/* NULL: fz_ioctl().  @e: expect's, without the struct's placement. */
	long (*call)(struct fz_thread *th, struct fz_call *c,
		     const struct fz_expect *e);
	void (*check)(struct fz_thread *th, struct fz_call *c, long ret,
		      struct fz_expect *e);
};

#define FZ_DESC(th, ...)	snprintf((th)->desc, sizeof((th)->desc), __VA_ARGS__)

uint32_t fz_below(struct fz_thread *th, uint32_t n);
bool fz_pct(struct fz_thread *th, uint32_t pct);
void fz_fill(char *p, size_t len);
size_t fz_check_pat(const char *p, size_t len);
void fz_target_special(struct fz_thread *th, struct fz_target *t, int kind);
void fz_target_port(struct fz_thread *th, struct fz_target *t, uint32_t other_pct);
void fz_target_dev(struct fz_thread *th, struct fz_target *t);
void fz_target_expect(const struct fz_call *c, struct fz_expect *e);
void fz_target_done(struct fz_target *t);
uint32_t fz_pick_pkind(struct fz_thread *th, uint32_t valid_pct);
char *fz_data_ptr(struct fz_thread *th, uint32_t kind, bool for_write,
		  size_t *valid);
void fz_place(struct fz_thread *th, struct fz_call *c, unsigned long cmd0,
	      const void *s, size_t ksize, int write_back);
void fz_place_expect(const struct fz_placed *pl, struct fz_expect *e);
bool fz_readable(const struct fz_thread *th, const void *p);
uint64_t fz_unknown_bit(struct fz_thread *th, uint64_t known);
bool fz_reserved(struct fz_thread *th, void *words, size_t bytes);
bool fz_pick_name(struct fz_thread *th, char name[KPORT_NAME_MAX], int *idx,
		  uint32_t anon_pct);
pid_t fz_pick_pid(struct fz_thread *th, bool *dead, bool *bad);
void fz_pick_deadline(struct fz_thread *th, struct kport_msg *m, bool *may_wait,
		      bool *may_timeout);
bool fz_bad_deadline(uint64_t flags, uint64_t deadline_ns);
uint32_t fz_wait_state(uint64_t flags, bool may_wait, bool may_timeout);
uint32_t fz_len_near(const struct fz_port *p, uint32_t r);

/* ---- Verdicts --------------------------------------------------------------------- */

void fz_violation(struct fz_thread *th, const char *op, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool fz_check(struct fz_thread *th, const char *op, long ret,
	      const struct fz_expect *e);
void fz_ok(struct fz_thread *th);
void fz_check_handle_fd(struct fz_thread *th, const char *op, int fd,
			bool nonblock);
void fz_check_stat(struct fz_thread *th, const char *op, const struct fz_ofd *o,
		   const struct kport_stat *st);
void fz_check_received(struct fz_thread *th, const char *op,
		       const struct fz_port *p, const struct kport_msg *m,
		       const char *payload, size_t len, bool check_pid);
void fz_check_revents(struct fz_thread *th, const char *op,
		      const struct fz_ofd *o, unsigned int rev);

/* ---- Calls and the operations ------------------------------------------------------- */

void fz_arm(struct fz_thread *th, bool on);
long fz_ioctl(struct fz_thread *th, struct fz_call *c);

extern const struct fz_op fz_op_version, fz_op_create, fz_op_open, fz_op_unlink,
	fz_op_stat, fz_op_delete, fz_op_bad_ioctl;		/* ops_ports.c */
extern const struct fz_op fz_op_send, fz_op_recv, fz_op_read, fz_op_write;	/* ops_msg.c */
extern const struct fz_op fz_op_borrow, fz_op_release, fz_op_mmap;	/* ops_pool.c */
extern const struct fz_op fz_op_sendv, fz_op_recvv, fz_op_sendrecv;	/* ops_batch.c */
extern const struct fz_op fz_op_poll, fz_op_epoll, fz_op_close, fz_op_dup,
	fz_op_fcntl;						/* ops_fd.c */

#endif /* KPORT_FUZZ_H */
