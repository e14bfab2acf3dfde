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
 * The model, the arguments, the verdicts and the operations are in the
 * other files of this directory (fuzz.h lists them); here: the table of
 * operations, the threads that run them, the runs and the tests.
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

/*
 * The operations, in the order of the tally, each with its weight: a
 * thread draws one below the weights' sum, then walks the table.
 */
static const struct {
	const struct fz_op *op;
	uint32_t weight;
} fz_ops[FZ_NR_OPS] = {
	{ &fz_op_version, 2 }, { &fz_op_create, 8 }, { &fz_op_open, 8 },
	{ &fz_op_unlink, 3 }, { &fz_op_send, 15 }, { &fz_op_recv, 15 },
	{ &fz_op_stat, 5 }, { &fz_op_delete, 2 }, { &fz_op_borrow, 4 },
	{ &fz_op_release, 4 }, { &fz_op_bad_ioctl, 3 }, { &fz_op_read, 4 },
	{ &fz_op_write, 4 }, { &fz_op_poll, 4 }, { &fz_op_epoll, 3 },
	{ &fz_op_close, 6 }, { &fz_op_dup, 3 }, { &fz_op_fcntl, 2 },
	{ &fz_op_mmap, 5 }, { &fz_op_sendv, 2 }, { &fz_op_recvv, 2 },
	{ &fz_op_sendrecv, 2 },
};

/* ---- Interrupting blocking calls ------------------------------------------------------ */

static void fz_on_signal(int sig)
{
	(void)sig;
}

void fz_arm(struct fz_thread *th, bool on)
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

/* ---- One operation -------------------------------------------------------------------- */

/* The call of most operations: the ioctl generate placed. */
long fz_ioctl(struct fz_thread *th, struct fz_call *c)
{
	long ret;

	if (c->timed)
		fz_arm(th, c->arm);
	ret = kt_ioctl(c->t.fd, c->cmd, c->arg);
	if (c->timed)
		fz_arm(th, false);
	return ret;
}

/*
 * Generate, expect, call, check.  The call is told what expect said of
 * the arguments alone; check gets that with what the struct's placement
 * calls for.
 */
static void fz_do(struct fz_thread *th, const struct fz_op *op)
{
	struct fz_call *c = th->call;
	struct fz_expect own = { 0 }, e;
	long ret;

	memset(c, 0, op->size);
	c->op = op;
	op->gen(th, c);
	if (c->skip)
		return;
	if (op->expect)
		op->expect(th, c, &own);
	ret = op->call ? op->call(th, c, &own) : fz_ioctl(th, c);
	e = own;
	fz_place_expect(&c->pl, &e);
	op->check(th, c, ret, &e);
}

/* ---- Threads ---------------------------------------------------------------------------- */

/* The thread's buffers, and room for the arguments of @size bytes at most. */
static int fz_thread_mem(struct fz_thread *th, size_t size)
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
	th->call = calloc(1, size);
	if (th->send == MAP_FAILED || th->recv == MAP_FAILED || p == MAP_FAILED ||
	    th->vec == MAP_FAILED || !th->call)
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
		uint32_t r = fz_below(th, run->weights), op;

		th->n++;
		th->clean = fz_pct(th, 50);
		th->resv = false;
		__atomic_store_n(&th->op_start, kt_now_ns(), __ATOMIC_RELAXED);
		for (op = 0; r >= fz_ops[op].weight; op++)
			r -= fz_ops[op].weight;
		th->cur_op = (int)op;
		__atomic_fetch_add(&run->res->op_count[op], 1, __ATOMIC_RELAXED);
		fz_do(th, fz_ops[op].op);
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
	size_t call_size = 0;
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

	for (i = 0; i < FZ_NR_OPS; i++) {
		run->weights += fz_ops[i].weight;
		if (fz_ops[i].op->size > call_size)
			call_size = fz_ops[i].op->size;
	}
	start = kt_now_ns();
	run->end_ns = start + (uint64_t)ms * KT_NSEC_PER_MSEC;
	memset(th, 0, sizeof(th));
	for (i = 0; i < nthreads; i++) {
		th[i].run = run;
		th[i].idx = i;
		th[i].rng = seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1));
		if (fz_thread_mem(&th[i], call_size))
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
					      fz_ops[i].op->name,
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
