// SPDX-License-Identifier: GPL-2.0
/*
 * prodcons: one producer, two consumers, one bounded port.
 *
 *	prodcons [-n JOBS] [-c CAPACITY] [PORT]
 *
 * Opens PORT (default "demo.jobs"), creating it with CAPACITY (default 4)
 * slots if it does not exist, then forks two consumers and a producer.
 * The producer sends JOBS (default 12) numbered messages, then one "stop"
 * per consumer; each consumer prints what it gets and works on it for a
 * while, so the queue fills up and the producer has to wait for room.
 *
 * Each process reports what it did through a pipe, and the parent checks
 * the two promises of a port: every job was delivered exactly once, and
 * the producer could never get more than CAPACITY messages ahead.  Exit
 * status 0 if they held, 1 otherwise.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kport.h"

#define NR_CONSUMERS	2
#define WORK_MS		100
#define TIMEOUT_NS	(10 * 1000000000LL)	/* never hang the demo */

/* What the children tell the parent, one record per event. */
struct report {
	int who;	/* 0: producer, 1..NR_CONSUMERS: a consumer */
	int job;	/* job received, or (producer) times it had to wait */
};

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void put_report(int pipefd, int who, int job)
{
	struct report r = { who, job };

	/* Smaller than PIPE_BUF, so never interleaved with another child's. */
	if (write(pipefd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
}

static void __attribute__((noreturn)) consumer(int fd, int id, int pipefd)
{
	struct kport_info info;
	char buf[64];
	ssize_t n;
	int job;

	for (;;) {
		n = kport_recv_timeout(fd, buf, sizeof(buf) - 1, TIMEOUT_NS, &info);
		if (n < 0) {
			printf("    consumer %d: receive failed: %s\n", id,
			       strerror((int)-n));
			_exit(1);
		}
		buf[n] = '\0';
		if (!strcmp(buf, "stop")) {
			printf("    consumer %d: got 'stop', done\n", id);
			_exit(0);
		}
		if (sscanf(buf, "job %d", &job) != 1) {
			printf("    consumer %d: unexpected message '%s'\n", id, buf);
			_exit(1);
		}
		printf("    consumer %d (pid %d): got job %d from pid %d\n", id,
		       (int)getpid(), job, (int)info.pid);
		put_report(pipefd, id, job);
		sleep_ms(WORK_MS);	/* "work", so the producer gets ahead */
	}
}

static void __attribute__((noreturn)) producer(int fd, int jobs, int pipefd)
{
	struct kport_stat st;
	int k, ret, waits = 0;
	char msg[32];

	for (k = 1; k <= jobs + NR_CONSUMERS; k++) {
		int len;

		if (k <= jobs)
			len = snprintf(msg, sizeof(msg), "job %d", k);
		else
			len = snprintf(msg, sizeof(msg), "stop");

		/* Try without waiting first, only to be able to say we waited. */
		ret = kport_send(fd, msg, (size_t)len, 0, KPORT_MSG_NONBLOCK);
		if (ret == -EAGAIN) {
			printf("producer: queue full, waiting to send '%s'...\n", msg);
			waits++;
			ret = kport_send_timeout(fd, msg, (size_t)len, 0, TIMEOUT_NS);
		}
		if (ret < 0) {
			printf("producer: send failed: %s\n", strerror(-ret));
			_exit(1);
		}
		ret = kport_stat(fd, &st);
		if (ret < 0) {
			printf("producer: stat failed: %s\n", strerror(-ret));
			_exit(1);
		}
		printf("producer: sent '%s' (%u queued of %u)\n", msg, st.nr_msgs,
		       st.capacity);
		/* We are the only sender, and not waiting: nothing may exceed it. */
		if (st.capacity != KPORT_CAPACITY_UNBOUNDED &&
		    st.nr_msgs > st.capacity) {
			printf("producer: BUG: %u messages queued, capacity %u\n",
			       st.nr_msgs, st.capacity);
			_exit(1);
		}
	}
	put_report(pipefd, 0, waits);
	_exit(0);
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: prodcons [-n JOBS] [-c CAPACITY] [PORT]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct kport_attr attr = KPORT_ATTR_DEFAULT;
	const char *name = "demo.jobs";
	int jobs = 12, got[NR_CONSUMERS + 1] = { 0 };
	pid_t pids[NR_CONSUMERS + 1];
	int *seen, fd, opt, i, pipefd[2], waits = -1;
	bool created = true, ok = true;
	struct kport_stat st;
	struct report r;

	attr.capacity = 4;
	attr.msg_size = 64;
	while ((opt = getopt(argc, argv, "n:c:")) != -1) {
		switch (opt) {
		case 'n':
			jobs = atoi(optarg);
			break;
		case 'c':
			attr.capacity = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc || jobs < 1 || jobs > 100000)
		usage();
	/* Children print too: one write per line keeps the lines whole. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	fd = kport_create(name, &attr);
	if (fd == -EEXIST) {
		created = false;
		fd = kport_open(name, KPORT_RIGHTS_ALL);
	}
	if (fd < 0 || kport_stat(fd, &st) < 0) {
		fprintf(stderr, "prodcons: port %s: %s\n", name,
			strerror(fd < 0 ? -fd : errno));
		return 1;
	}
	printf("port '%s': capacity %u; %d jobs, %d consumers taking %d ms each\n",
	       name, st.capacity, jobs, NR_CONSUMERS, WORK_MS);

	seen = calloc((size_t)jobs + 1, sizeof(*seen));
	if (!seen || pipe(pipefd) < 0) {
		perror("prodcons");
		return 1;
	}

	/*
	 * The children share this process's port descriptor: a handle passes
	 * through fork() like any file descriptor.
	 */
	for (i = 0; i <= NR_CONSUMERS; i++) {
		fflush(stdout);
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("fork");
			return 1;
		}
		if (pids[i] == 0) {
			close(pipefd[0]);
			if (i == NR_CONSUMERS)
				producer(fd, jobs, pipefd[1]);
			consumer(fd, i + 1, pipefd[1]);
		}
	}
	close(pipefd[1]);

	/* Read until every child has exited and closed its end. */
	while (read(pipefd[0], &r, sizeof(r)) == sizeof(r)) {
		if (r.who == 0) {
			waits = r.job;
		} else if (r.job >= 1 && r.job <= jobs) {
			seen[r.job]++;
			got[r.who]++;
		} else {
			ok = false;
		}
	}
	for (i = 0; i <= NR_CONSUMERS; i++) {
		int status;

		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			printf("FAIL: %s %d did not finish cleanly\n",
			       i == NR_CONSUMERS ? "producer" : "consumer", i + 1);
			ok = false;
		}
	}

	for (i = 1; i <= jobs; i++) {
		if (seen[i] != 1) {
			printf("FAIL: job %d was delivered %d times\n", i, seen[i]);
			ok = false;
		}
	}
	if (st.capacity < (uint32_t)jobs && waits <= 0) {
		printf("FAIL: the producer never had to wait for room\n");
		ok = false;
	}
	if (ok)
		printf("every job delivered exactly once (consumer 1 got %d, consumer 2 got %d);\n"
		       "the producer had to wait for room %d times\n",
		       got[1], got[2], waits);

	if (created)
		kport_delete(fd);
	close(fd);
	return ok ? 0 : 1;
}
