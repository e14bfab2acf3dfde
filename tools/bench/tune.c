// SPDX-License-Identifier: GPL-2.0
/*
 * The system limits a user would raise for this (--tune, as root), raised
 * for the run and restored at exit, at a signal, or by die(); and the
 * message queue rlimit, raised for everyone.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

struct tunable {
	const char *path;
	char saved[64];
	bool changed;
};

#define KPARAM(n) "/sys/module/kport/parameters/" n
static struct tunable tunables[] = {
	{ .path = KPARAM("max_msg_size") }, { .path = KPARAM("max_user_bytes") },
	{ .path = KPARAM("max_pool_size") }, { .path = KPARAM("pool_threshold") },
	{ .path = KPARAM("max_user_pool_bytes") },
	{ .path = "/proc/sys/fs/mqueue/msgsize_max" },
	{ .path = "/proc/sys/fs/mqueue/msg_max" },
	{ .path = "/proc/sys/kernel/msgmax" }, { .path = "/proc/sys/kernel/msgmnb" },
	{ .path = "/proc/sys/fs/pipe-max-size" },
};
enum { T_KMSG, T_KUSER, T_KPOOL, T_KTHRESH, T_KUSERPOOL, T_MQSIZE, T_MQMSG,
       T_MSGMAX, T_MSGMNB, T_PIPEMAX, T_NTUNABLES };

static struct tunable *tun(int i)
{
	return &tunables[i];
}

static int set_tunable(int i, const char *val)
{
	struct tunable *t = tun(i);
	int ret;

	if (!t->changed) {
		ret = read_file(t->path, t->saved, sizeof(t->saved));
		if (ret)
			return ret;
	}
	ret = write_file(t->path, val);
	if (!ret)
		t->changed = true;
	return ret;
}

void restore_tuning(void)
{
	int i;

	for (i = T_NTUNABLES - 1; i >= 0; i--) {
		struct tunable *t = tun(i);

		if (!t->changed)
			continue;
		if (write_file(t->path, t->saved))
			fprintf(stderr, "kport-bench: cannot restore %s to %s\n",
				t->path, t->saved);
		t->changed = false;
	}
}

static pid_t main_pid;

static void restore_at_exit(void)
{
	if (getpid() == main_pid)
		restore_tuning();
}

static void on_signal(int sig)
{
	if (getpid() == main_pid)
		restore_tuning();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Restore at exit and on SIGINT, SIGTERM: in this process, not its children. */
void restore_tuning_at_exit(void)
{
	main_pid = getpid();
	atexit(restore_at_exit);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
}

void tune_system(void)
{
	struct rlimit rl;
	char v[32];
	int i, ret;
	struct { int t; unsigned long long v; } want[] = {
		{ T_KMSG, 64 * MiB },
		{ T_KUSER, 2048ULL * MiB },
		{ T_KPOOL, 512 * MiB },
		{ T_KUSERPOOL, 1024 * MiB },
		{ T_MQSIZE, 16 * MiB },		/* the kernel's hard maximum */
		{ T_MQMSG, 1024 },
		{ T_MSGMAX, 64 * MiB + 64 },
		{ T_MSGMNB, 256 * MiB },
		{ T_PIPEMAX, 64 * MiB },
	};

	/* Everyone may raise the soft limit to the hard one; root more. */
	rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
	if (setrlimit(RLIMIT_MSGQUEUE, &rl) && !getrlimit(RLIMIT_MSGQUEUE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MSGQUEUE, &rl);
	}
	if (!O.tune)
		return;
	if (geteuid())
		die("--tune needs root");
	for (i = 0; i < (int)(sizeof(want) / sizeof(want[0])); i++) {
		long long cur = read_ll(tun(want[i].t)->path);

		if (cur < 0)
			continue;	/* no such knob (module not loaded) */
		if ((unsigned long long)cur >= want[i].v)
			continue;
		snprintf(v, sizeof(v), "%llu", want[i].v);
		ret = set_tunable(want[i].t, v);
		if (ret)
			fprintf(stderr, "kport-bench: cannot set %s to %s: %s\n",
				tun(want[i].t)->path, v, strerror(-ret));
	}
}

/*
 * kport's pool_threshold to 0 for the port about to be created (as root,
 * with --tune): the threshold is read at create, and 0 makes every size
 * take the pool path.  pool_threshold_restore() puts it back at once.
 */
void pool_threshold_lower(void)
{
	if (tun(T_KTHRESH)->path && geteuid() == 0 && O.tune)
		set_tunable(T_KTHRESH, "0");
}

void pool_threshold_restore(void)
{
	struct tunable *t = tun(T_KTHRESH);

	if (t->changed) {
		write_file(t->path, t->saved);
		t->changed = false;
	}
}
