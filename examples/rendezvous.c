// SPDX-License-Identifier: GPL-2.0
/*
 * rendezvous: a port of capacity 0 queues nothing.
 *
 *	rendezvous [PORT]
 *
 * Opens PORT (default "demo.rendezvous"), creating it with capacity 0 if
 * it does not exist.  A forked sender first tries a non-blocking send
 * (EAGAIN: nobody is waiting to receive), then sends for real and blocks.
 * The parent, the receiver, arrives a second later, sees the sender
 * waiting, and takes the message; only then does the sender's send
 * return.  Lines carry the seconds since start.  Exit status 0 if it went
 * that way, 1 otherwise.  A port it created, it deletes at the end.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kport.h"

#define LATE_MS		1000
#define TIMEOUT_NS	(10 * 1000000000LL)	/* never hang the demo */

static uint64_t t0;

static double since_start(uint64_t t)
{
	return (double)(t - t0) / 1e9;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The sender: 0 if its send blocked until the receiver came, else 1. */
static int sender(int fd, int token_fd)
{
	static const char msg[] = "hello";
	uint64_t start, done;
	char token;
	int ret;

	ret = kport_send(fd, msg, strlen(msg), 0, KPORT_MSG_NONBLOCK);
	printf("[%.3f] sender: non-blocking send, nobody receiving yet -> %s\n",
	       since_start(kport_now_ns()), ret == -EAGAIN ? "EAGAIN" :
	       ret ? strerror(-ret) : "success?!");
	if (ret != -EAGAIN)
		return 1;

	printf("[%.3f] sender: sending '%s', waiting for a receiver...\n",
	       since_start(kport_now_ns()), msg);
	start = kport_now_ns();
	ret = kport_send_timeout(fd, msg, strlen(msg), 0, TIMEOUT_NS);
	done = kport_now_ns();
	if (ret < 0) {
		printf("sender: send failed: %s\n", strerror(-ret));
		return 1;
	}
	/* Let the receiver speak first, so the lines read in order. */
	if (read(token_fd, &token, 1) != 1)
		return 1;
	printf("[%.3f] sender: delivered; my send returned after %.3f s\n",
	       since_start(done), (double)(done - start) / 1e9);
	return done - start >= (LATE_MS - 100) * 1000000ULL ? 0 : 1;
}

/* The receiver, arriving late: true if all went as a rendezvous should. */
static bool receiver(int fd, pid_t pid, int token_fd)
{
	struct kport_info info;
	struct kport_stat st;
	int ret, status, waited_ms = 0;
	char buf[64];
	ssize_t n;

	/* Wait until the sender really is blocked, then come late on purpose. */
	while ((ret = kport_stat(fd, &st)) == 0 && st.send_waiters == 0 &&
	       waited_ms < 10000) {
		sleep_ms(10);
		waited_ms += 10;
	}
	if (ret < 0 || st.send_waiters != 1) {
		printf("FAIL: the sender is not waiting (send_waiters %u)\n",
		       st.send_waiters);
		goto kill_sender;
	}
	sleep_ms(LATE_MS);
	ret = kport_stat(fd, &st);
	printf("[%.3f] receiver: arriving; stat shows %u sender waiting, %u message pending\n",
	       since_start(kport_now_ns()), ret ? 0 : st.send_waiters,
	       ret ? 0 : st.nr_msgs);
	ret = kport_wait(fd, POLLIN, 0);
	printf("[%.3f] receiver: poll() says %s\n", since_start(kport_now_ns()),
	       ret > 0 && (ret & POLLIN) ? "readable: a sender is waiting" :
	       "not readable");

	n = kport_recv_timeout(fd, buf, sizeof(buf) - 1, TIMEOUT_NS, &info);
	if (n < 0) {
		printf("receiver: receive failed: %s\n", strerror((int)-n));
		goto kill_sender;
	}
	buf[n] = '\0';
	printf("[%.3f] receiver: got '%s' from pid %d\n",
	       since_start(kport_now_ns()), buf, (int)info.pid);
	if (write(token_fd, "x", 1) != 1)
		goto kill_sender;

	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		printf("FAIL: the sender did not wait for the receiver\n");
		return false;
	}
	if (info.pid != pid) {
		printf("FAIL: the message says it came from pid %d, not %d\n",
		       (int)info.pid, (int)pid);
		return false;
	}
	printf("the message went straight from sender to receiver\n");
	return true;

kill_sender:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return false;
}

int main(int argc, char **argv)
{
	struct kport_attr attr = KPORT_ATTR_DEFAULT;
	const char *name = argc > 1 ? argv[1] : "demo.rendezvous";
	struct kport_stat st;
	int fd, ret, tokens[2];
	bool created = true, ok;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	t0 = kport_now_ns();
	attr.capacity = 0;
	attr.msg_size = 64;
	fd = kport_create(name, &attr);
	if (fd == -EEXIST) {
		created = false;
		fd = kport_open(name, KPORT_RIGHTS_ALL);
	}
	ret = fd < 0 ? fd : kport_stat(fd, &st);
	if (ret < 0) {
		fprintf(stderr, "rendezvous: port %s: %s\n", name, strerror(-ret));
		return 1;
	}
	if (st.capacity != 0) {
		fprintf(stderr, "rendezvous: port %s has capacity %u, not 0\n",
			name, st.capacity);
		return 1;
	}
	if (pipe(tokens) < 0) {
		perror("pipe");
		return 1;
	}

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0)
		_exit(sender(fd, tokens[0]));
	ok = receiver(fd, pid, tokens[1]);
	if (created)
		kport_delete(fd);
	return ok ? 0 : 1;
}
