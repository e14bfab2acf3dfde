// SPDX-License-Identifier: GPL-2.0
/*
 * inbox: direct naming, processes addressed by pid.
 *
 *	inbox
 *
 * A server creates its inbox, a port with no name that others open by
 * the server's pid.  Two forked clients create their own inboxes and send
 * the server a request.  The server first receives only from client 2
 * (KPORT_MSG_FROM_PID), although client 1's request is already queued,
 * then takes client 1's.  Every message carries its sender's pid, which
 * is all the server needs to reply: it opens the sender's inbox and
 * writes the reply with plain write(2).  Exit status 0 if every message
 * came from whom it claimed and in that order, 1 otherwise.
 *
 * Inboxes are process-owned: each disappears when its process exits.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kport.h"

#define NR_CLIENTS	2
#define TIMEOUT_NS	(10 * 1000000000LL)	/* never hang the demo */

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Mode 0622: anyone may send to an inbox, only its owner receives. */
static int make_inbox(void)
{
	struct kport_attr attr = KPORT_ATTR_DEFAULT;

	attr.mode = 0622;
	attr.msg_size = 128;
	return kport_create_inbox(&attr);
}

static int client(int id, pid_t server)
{
	struct kport_info info;
	struct kport_stat st;
	char msg[64], reply[128];
	int inbox, srv, ret, i;
	ssize_t n;

	inbox = make_inbox();
	if (inbox < 0) {
		printf("  client %d: cannot create my inbox: %s\n", id,
		       strerror(-inbox));
		return 1;
	}
	srv = kport_open_inbox(server, KPORT_RIGHT_SEND);
	if (srv < 0) {
		printf("  client %d: cannot open the inbox of pid %d: %s\n", id,
		       (int)server, strerror(-srv));
		return 1;
	}
	/* Client 2 speaks second, so the server has to skip client 1's request. */
	if (id == 2) {
		for (i = 0; i < 1000; i++) {
			if (kport_stat(srv, &st) < 0 || st.sent >= 1)
				break;
			sleep_ms(10);
		}
	}
	snprintf(msg, sizeof(msg), "hello from client %d", id);
	ret = kport_send_timeout(srv, msg, strlen(msg), 0, TIMEOUT_NS);
	if (ret < 0) {
		printf("  client %d: send failed: %s\n", id, strerror(-ret));
		return 1;
	}
	printf("  client %d (pid %d): sent '%s' to the inbox of pid %d\n", id,
	       (int)getpid(), msg, (int)server);

	/* Only the server's answer will do: anyone could write to my inbox. */
	n = kport_recv_from(inbox, server, reply, sizeof(reply) - 1, TIMEOUT_NS,
			    &info);
	if (n < 0) {
		printf("  client %d: no reply: %s\n", id, strerror((int)-n));
		return 1;
	}
	reply[n] = '\0';
	printf("  client %d (pid %d): reply '%s' from pid %d\n", id,
	       (int)getpid(), reply, (int)info.pid);
	return info.pid == server ? 0 : 1;
}

/* Receive one request (from @only if non-zero) and answer it. */
static bool serve_one(int inbox, pid_t only, pid_t expect)
{
	struct kport_info info;
	char msg[128], reply[128];
	ssize_t n;
	int fd, len;

	if (only) {
		printf("server: receiving from pid %d only, whatever else is queued\n",
		       (int)only);
		n = kport_recv_from(inbox, only, msg, sizeof(msg) - 1, TIMEOUT_NS,
				    &info);
	} else {
		printf("server: receiving from anyone\n");
		n = kport_recv_timeout(inbox, msg, sizeof(msg) - 1, TIMEOUT_NS,
				       &info);
	}
	if (n < 0) {
		printf("server: receive failed: %s\n", strerror((int)-n));
		return false;
	}
	msg[n] = '\0';
	printf("server: got '%s' from pid %d (uid %u)\n", msg, (int)info.pid,
	       (unsigned int)info.uid);
	if (info.pid != expect) {
		printf("FAIL: expected a message from pid %d\n", (int)expect);
		return false;
	}

	/* The message told us who sent it: that is the reply address. */
	fd = kport_open_inbox(info.pid, KPORT_RIGHT_SEND);
	if (fd < 0) {
		printf("server: cannot open the inbox of pid %d: %s\n",
		       (int)info.pid, strerror(-fd));
		return false;
	}
	len = snprintf(reply, sizeof(reply), "hi pid %d, this is pid %d",
		       (int)info.pid, (int)getpid());
	/* write(2) on a port handle sends one message at priority 0. */
	if (write(fd, reply, (size_t)len) != len) {
		printf("server: reply failed: %s\n", strerror(errno));
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

int main(void)
{
	pid_t server = getpid(), pids[NR_CLIENTS];
	bool ok = true;
	int inbox, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	inbox = make_inbox();
	if (inbox < 0) {
		fprintf(stderr, "inbox: cannot create my inbox: %s\n",
			strerror(-inbox));
		return 1;
	}
	printf("server (pid %d): created my inbox; clients address it by my pid\n",
	       (int)server);

	for (i = 0; i < NR_CLIENTS; i++) {
		fflush(stdout);
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("fork");
			return 1;
		}
		if (pids[i] == 0) {
			/*
			 * The inherited descriptor would keep the server's inbox
			 * alive after the server exits: drop it.
			 */
			close(inbox);
			_exit(client(i + 1, server));
		}
	}

	ok = serve_one(inbox, pids[1], pids[1]) && serve_one(inbox, 0, pids[0]);

	for (i = 0; i < NR_CLIENTS; i++) {
		int status;

		if (!ok)
			kill(pids[i], SIGKILL);
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			printf("FAIL: client %d did not finish cleanly\n", i + 1);
			ok = false;
		}
	}
	if (ok)
		printf("every request and reply went to the right pid\n");
	return ok ? 0 : 1;
}
