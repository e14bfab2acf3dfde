// SPDX-License-Identifier: GPL-2.0
/*
 * kport-ctr: run a command in a "container", as container runtimes make
 * one, for the container lane of the test VM (make check-container):
 * new user, IPC, mount and pid namespaces, the command as root of the new
 * user namespace and pid 2 of the new pid namespace (whose pid 1 reaps),
 * with a /proc of that pid namespace.  Not installed: a test harness helper.
 *
 *   kport-ctr [-m FIRST:HOST:COUNT] CMD [ARG]...
 *
 * -m: the uid and gid map (default 0:0:4294967295, every id as itself, so
 * that the selftests' uids, files and module parameters mean what they
 * mean outside; the namespaces, and so kport's instance and the user
 * namespace CAP_IPC_OWNER counts in, are still new).  Exit status: the
 * command's, 128 + a signal that killed it, 125 if the container could
 * not be made.
 */
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAILED	125

static void die(const char *what)
{
	fprintf(stderr, "kport-ctr: %s: %s\n", what, strerror(errno));
	_exit(FAILED);
}

static int status_of(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static void write_map(pid_t pid, const char *file, const char *map)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t)strlen(map))
		die(path);
	close(fd);
}

/*
 * Pid 1 of the new pid namespace: run @argv as pid 2, reap whatever is
 * orphaned meanwhile (as an init does), and end with the command.
 */
static int init(char **argv)
{
	pid_t cmd, pid;
	int status;

	/*
	 * The credentials are final (a change of them clears this): die
	 * with the process above from here on.  (getppid() cannot tell
	 * whether it is already gone: it is 0 for a pid namespace's init.)
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	cmd = fork();
	if (cmd < 0)
		die("fork");
	if (cmd == 0) {
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
			die("mounting /proc");
		execvp(argv[0], argv);
		die(argv[0]);
	}
	for (;;) {
		pid = waitpid(-1, &status, 0);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			die("waitpid");
		if (pid == cmd)
			return WIFEXITED(status) ? WEXITSTATUS(status) :
						   128 + WTERMSIG(status);
	}
}

/* In the new namespaces: become root there, then start its init. */
static int inside(int go, char **argv)
{
	pid_t pid;
	char c;

	if (read(go, &c, 1) != 1)
		die("waiting for the id maps");
	/* No supplementary groups from outside, as a runtime gives none. */
	if (setgroups(0, NULL) || setresgid(0, 0, 0) || setresuid(0, 0, 0))
		die("becoming the container's root");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		_exit(init(argv));
	return status_of(pid);
}

int main(int argc, char **argv)
{
	const char *spec = "0:0:4294967295";
	unsigned long first, host, count;
	int ready[2], go[2], opt;
	char map[96], c;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+m:")) != -1) {
		if (opt != 'm') {
			fprintf(stderr, "usage: kport-ctr [-m FIRST:HOST:COUNT] CMD [ARG]...\n");
			return FAILED;
		}
		spec = optarg;
	}
	if (optind >= argc || sscanf(spec, "%lu:%lu:%lu", &first, &host, &count) != 3) {
		fprintf(stderr, "usage: kport-ctr [-m FIRST:HOST:COUNT] CMD [ARG]...\n");
		return FAILED;
	}
	snprintf(map, sizeof(map), "%lu %lu %lu\n", first, host, count);
	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* The namespaces' end is ours: die with the harness. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWUSER | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWPID))
			die("unshare");
		if (write(ready[1], "r", 1) != 1)
			die("write");
		_exit(inside(go[0], argv + optind));
	}
	if (read(ready[0], &c, 1) != 1) {
		fprintf(stderr, "kport-ctr: the container did not start\n");
		return status_of(pid) ? : FAILED;
	}
	write_map(pid, "uid_map", map);
	write_map(pid, "gid_map", map);
	if (write(go[1], "g", 1) != 1)
		die("write");
	return status_of(pid);
}
