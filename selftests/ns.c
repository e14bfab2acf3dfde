// SPDX-License-Identifier: GPL-2.0
/*
 * Instances: each IPC namespace has its own names, inboxes and ports
 * (kernel/inst.c).  The "containers" here are made as container runtimes
 * make them: new user, IPC, mount and pid namespaces, the container's
 * root mapped to a range of host ids (CTR_BASE..), running as that root,
 * pid 1 of its pid namespace.  What a container may do is checked from
 * inside it (its exit status says which check failed), what the host
 * sees from outside; handles and /proc/kport files travel over UNIX
 * sockets between the two.
 */
#include "kport_test.h"
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define MSG_SIZE	64
#define CTR_BASE	100000	/* host uid and gid of a container's root */
#define CTR_IDS		65536

/* How long an abandoned instance may take to go: the reaper runs each 1 s. */
#define TEARDOWN_MS	5000

/* ---- Containers ------------------------------------------------------------ */

struct ctr {
	pid_t pid;		/* the process that unshared; its child is pid 1 */
	int sock;		/* the host's end of the container's socket */
};

/* For the code run in a container: its end of the socket. */
static int ctr_sock = -1;

enum ctr_flags {
	CTR_UNMAPPED	= 1 << 0,	/* write no uid/gid map: stay unmapped */
	CTR_SAME_IPC	= 1 << 1,	/* keep the host's IPC namespace */
	CTR_SAME_PID	= 1 << 2,	/* keep the host's pid namespace */
	CTR_BY_USER	= 1 << 3,	/* made by host uid CTR_CREATOR, not root */
	CTR_NO_GID_MAP	= 1 << 4,	/* a uid map, no gid map: egid unmapped */
};

/* The host user who makes a CTR_BY_USER container (rootless podman's). */
#define CTR_CREATOR	2000

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/*
 * Start @fn in a container (see above; @flags change it).  @fn's return
 * value is the container's exit status: 0 for success, else the number
 * of the check that failed.  Returns 0 and fills @c, or -errno.
 */
static int ctr_start(struct ctr *c, int (*fn)(void), unsigned int flags)
{
	int sv[2], sync[2], go[2];
	char path[64], map[64];
	pid_t pid;
	char x;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ||
	    pipe2(sync, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		return -errno;
	pid = kt_fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int ns = CLONE_NEWUSER | CLONE_NEWNS;

		close(sv[0]);
		ctr_sock = sv[1];
		if (!(flags & CTR_SAME_IPC))
			ns |= CLONE_NEWIPC;
		if (!(flags & CTR_SAME_PID))
			ns |= CLONE_NEWPID;
		if (flags & CTR_BY_USER) {
			KT_CHILD_ASSERT(setresgid(CTR_CREATOR, CTR_CREATOR, CTR_CREATOR) == 0);
			KT_CHILD_ASSERT(setresuid(CTR_CREATOR, CTR_CREATOR, CTR_CREATOR) == 0);
		}
		KT_CHILD_ASSERT(unshare(ns) == 0);
		KT_CHILD_ASSERT(write(sync[1], "u", 1) == 1);
		KT_CHILD_ASSERT(read(go[0], &x, 1) == 1);
		if (!(flags & (CTR_UNMAPPED | CTR_NO_GID_MAP)))
			KT_CHILD_ASSERT(setresgid(0, 0, 0) == 0);
		if (!(flags & CTR_UNMAPPED))
			KT_CHILD_ASSERT(setresuid(0, 0, 0) == 0);
		if (!(flags & CTR_SAME_PID)) {
			/* The pid namespace is the children's: run as its pid 1. */
			pid = kt_fork();
			KT_CHILD_ASSERT(pid >= 0);
			if (pid == 0)
				_exit(fn());
			_exit(kt_reap(pid, 60000));
		}
		_exit(fn());
	}
	close(sv[1]);
	KT_CHILD_ASSERT(read(sync[0], &x, 1) == 1);
	if (!(flags & CTR_UNMAPPED)) {
		snprintf(map, sizeof(map), "0 %d %d\n", CTR_BASE, CTR_IDS);
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
		if (write_file(path, map))
			goto fail;
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
		if (!(flags & CTR_NO_GID_MAP) && write_file(path, map))
			goto fail;
	}
	if (write(go[1], "g", 1) != 1)
		goto fail;
	close(sync[0]);
	close(sync[1]);
	close(go[0]);
	close(go[1]);
	c->pid = pid;
	c->sock = sv[0];
	return 0;
fail:
	kt_kill_reap(pid);
	return -EIO;
}

/* The container's exit status (its fn's return value). */
static int ctr_wait(struct ctr *c)
{
	int ret = kt_reap(c->pid, 60000);

	close(c->sock);
	c->pid = -1;
	return ret;
}

/* One byte each way, to step a container and the host in turn. */
static int sock_put(int sock, char c)
{
	return send(sock, &c, 1, 0) == 1 ? 0 : -errno;
}

static int sock_get(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	char c;

	if (poll(&p, 1, KT_TIMEOUT_MS) != 1)
		return -ETIMEDOUT;
	return recv(sock, &c, 1, 0) == 1 ? c : -EIO;
}

/* In a container: fail with status @n unless @cond. */
#define CHECK(n, cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "# container %d: check %d: %s (errno %d)\n", \
			(int)getpid(), (n), #cond, errno);		\
		return (n);						\
	}								\
} while (0)

/*
 * The ports /proc/kport lists for its opener: their count, and the id of
 * the one named @name in *@id (0 if none).  -errno if it cannot be read.
 */
/* How many ports the last proc_ports*() listed by the name it was given. */
static int proc_matches;

static int proc_ports_fd(int fd, const char *name, uint64_t *id)
{
	char buf[16384], *line, *save = NULL;
	ssize_t n;
	int count = -1;

	*id = 0;
	proc_matches = 0;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long pid_id;
		char pname[KPORT_NAME_MAX];

		if (++count == 0)
			continue;	/* the header */
		if (sscanf(line, "%llu\t%63s", &pid_id, pname) == 2 &&
		    name && !strcmp(pname, name)) {
			*id = pid_id;
			proc_matches++;
		}
	}
	return count;
}

static int proc_ports(const char *name, uint64_t *id)
{
	int fd = open("/proc/kport", O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = proc_ports_fd(fd, name, id);
	close(fd);
	return ret;
}

static uint64_t port_id(int fd)
{
	struct kport_stat st;

	return kt_stat(fd, &st) ? 0 : st.id;
}

/* ---- Names ------------------------------------------------------------------ */

static char shared_name[KPORT_NAME_MAX];	/* set before each fork */

/*
 * A container: the host's port of that name is not there; it makes its
 * own, sees it alone in /proc/kport, and keeps it until the host says.
 */
static int ctr_same_name(void)
{
	char buf[MSG_SIZE];
	uint64_t id;
	int fd, ret;

	CHECK(2, kt_open(shared_name, KPORT_RIGHTS_ALL, 0) == -ENOENT);
	CHECK(3, kt_unlink(shared_name) == -ENOENT);
	fd = kt_create(shared_name, 0, 4, MSG_SIZE, 0666, KPORT_RIGHTS_ALL);
	CHECK(4, fd >= 0);
	CHECK(5, proc_ports(shared_name, &id) == 1);
	CHECK(6, id == port_id(fd));
	CHECK(7, kt_send(fd, "mine", 4, 0, 0, 0) == 0);
	CHECK(8, sock_put(ctr_sock, 'c') == 0);
	CHECK(9, sock_get(ctr_sock) == 'g');
	/* Whatever the others did with the name, this port has only ours. */
	ret = kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL);
	CHECK(10, ret == 4 && !memcmp(buf, "mine", 4));
	CHECK(11, kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL) == -EAGAIN);
	/* And a second create of it here is refused, as on the host. */
	CHECK(12, kt_create(shared_name, 0, 4, MSG_SIZE, 0666, KPORT_RIGHTS_ALL) == -EEXIST);
	return 0;
}

TEST(two_containers_and_the_host_share_a_name)
{
	struct ctr a, b;
	uint64_t id;
	int host;

	kt_name(shared_name, "shared");
	host = kt_create(shared_name, 0, 4, MSG_SIZE, 0666, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, host);
	ASSERT_EQ(0, ctr_start(&a, ctr_same_name, 0));
	ASSERT_EQ('c', sock_get(a.sock));
	ASSERT_EQ(0, ctr_start(&b, ctr_same_name, 0));
	ASSERT_EQ('c', sock_get(b.sock));
	/* Both containers hold a port of that name now; the host its own. */
	ASSERT_EQ(0, kt_send(host, "host", 4, 0, 0, 0));
	EXPECT_EQ(0, sock_put(a.sock, 'g'));
	EXPECT_EQ(0, sock_put(b.sock, 'g'));
	EXPECT_EQ(0, ctr_wait(&a));
	EXPECT_EQ(0, ctr_wait(&b));
	/* The host's listing has its port, once, and none of theirs. */
	EXPECT_LE(1, proc_ports(shared_name, &id));
	EXPECT_EQ(1, proc_matches);
	EXPECT_EQ(port_id(host), id);
	{
		struct kport_stat st;

		ASSERT_EQ(0, kt_stat(host, &st));
		EXPECT_EQ(1, st.nr_msgs);
		EXPECT_EQ(1, st.sent);
	}
	close(host);
	EXPECT_EQ(0, kt_unlink(shared_name));
}

/* ---- Pids ------------------------------------------------------------------- */

static pid_t host_pid;

/* A container cannot reach the host's inbox: not by pid, not by name. */
static int ctr_inbox(void)
{
	char pid[16];
	int fd;

	/* The host's pid names nothing here (its own pid namespace)... */
	CHECK(2, kt_open_inbox(host_pid, KPORT_RIGHT_SEND, 0) == -ESRCH);
	/* ...and its own inbox is its instance's. */
	fd = kt_create(NULL, KPORT_CREATE_INBOX, 4, MSG_SIZE, 0666,
		       KPORT_RIGHTS_ALL);
	CHECK(3, fd >= 0);
	CHECK(4, getpid() == 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	CHECK(5, kt_open_inbox(1, KPORT_RIGHT_SEND, 0) >= 0);
	CHECK(6, sock_put(ctr_sock, 'c') == 0);
	CHECK(7, sock_get(ctr_sock) == 'g');
	return 0;
}

/* Same pid namespace, another IPC namespace: the pid is seen, not the inbox. */
static int ctr_inbox_same_pidns(void)
{
	CHECK(2, kt_open_inbox(host_pid, KPORT_RIGHT_SEND, 0) == -ENOENT);
	return 0;
}

TEST(inboxes_are_reached_only_from_their_instance)
{
	struct ctr c;
	pid_t inner;
	int inbox;

	host_pid = getpid();
	inbox = kt_create(NULL, KPORT_CREATE_INBOX, 4, MSG_SIZE, 0666,
			  KPORT_RIGHTS_ALL);
	ASSERT_LE(0, inbox);
	ASSERT_EQ(0, ctr_start(&c, ctr_inbox, 0));
	ASSERT_EQ('c', sock_get(c.sock));
	/* The container's pid 1, as the host numbers it: its inbox is not ours. */
	inner = 0;
	{
		char path[64], line[256];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
			 (int)c.pid, (int)c.pid);
		f = fopen(path, "re");
		ASSERT_NE(NULL, f);
		ASSERT_NE(NULL, fgets(line, sizeof(line), f));
		inner = atoi(line);
		fclose(f);
	}
	ASSERT_LT(0, inner);
	EXPECT_EQ(-ENOENT, kt_open_inbox(inner, KPORT_RIGHT_SEND, 0));
	EXPECT_EQ(0, sock_put(c.sock, 'g'));
	EXPECT_EQ(0, ctr_wait(&c));

	ASSERT_EQ(0, ctr_start(&c, ctr_inbox_same_pidns, CTR_SAME_PID));
	EXPECT_EQ(0, ctr_wait(&c));
	/* From the host's own instance, the inbox is there. */
	inner = kt_open_inbox(getpid(), KPORT_RIGHT_SEND, 0);
	EXPECT_LE(0, inner);
	close(inner);
	close(inbox);
}

/* ---- Handles cross; pids and uids are seen from where one stands ---------- */

/*
 * A container makes a port and gives the host a handle; the host sends
 * on it and gives back a handle to a host port.  Who sent what, as seen
 * from inside.
 */
static int ctr_handles(void)
{
	struct kport_stat st;
	struct kport_msg m;
	char buf[MSG_SIZE];
	int fd, host_fd;
	pid_t child;

	fd = kt_create(NULL, 0, 8, MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
	CHECK(2, fd >= 0);
	CHECK(3, kt_stat(fd, &st) == 0);
	/* The owner as the container's user namespace sees it: its root. */
	CHECK(4, st.uid == 0 && st.gid == 0);
	CHECK(5, kt_send_fd(ctr_sock, fd) == 0);
	/* The host sent one message: its pid is not in our pid namespace. */
	CHECK(6, sock_get(ctr_sock) == 's');
	CHECK(7, kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m) == 4);
	CHECK(8, !memcmp(buf, "host", 4));
	CHECK(9, m.pid == 0);
	/* Host root is not mapped here: the overflow uid. */
	CHECK(10, m.uid == 65534);
	/* A message from a process of ours: its pid as we number it. */
	child = kt_fork();
	CHECK(11, child >= 0);
	if (child == 0)
		_exit(kt_send(fd, "kid", 3, 0, 0, 0) ? 1 : 0);
	CHECK(12, kt_reap(child, -1) == 0);
	CHECK(13, kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m) == 3);
	CHECK(14, m.pid == child && m.uid == 0);
	/* A host port's handle works here. */
	host_fd = kt_recv_fd(ctr_sock);
	CHECK(15, host_fd >= 0);
	CHECK(16, kt_send(host_fd, "ctr", 3, 0, 0, 0) == 0);
	CHECK(17, kt_stat(host_fd, &st) == 0);
	/* Its owner, host root, is not mapped here either. */
	CHECK(18, st.uid == 65534);
	CHECK(19, kt_send(fd, "bye", 3, 0, 0, 0) == 0);
	CHECK(20, sock_put(ctr_sock, 'd') == 0);
	CHECK(21, sock_get(ctr_sock) == 'g');
	return 0;
}

TEST(handles_cross_and_ids_are_mapped)
{
	struct kport_stat st;
	struct kport_msg m;
	char buf[MSG_SIZE];
	int fd, host_port;
	struct ctr c;

	host_port = kt_create(NULL, 0, 8, MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, host_port);
	ASSERT_EQ(0, ctr_start(&c, ctr_handles, 0));
	fd = kt_recv_fd(c.sock);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_stat(fd, &st));
	/* The container's root, as the host sees it. */
	EXPECT_EQ(CTR_BASE, st.uid);
	EXPECT_EQ(CTR_BASE, st.gid);
	ASSERT_EQ(0, kt_send(fd, "host", 4, 0, 0, 0));
	ASSERT_EQ(0, sock_put(c.sock, 's'));
	ASSERT_EQ(0, kt_send_fd(c.sock, host_port));
	ASSERT_EQ('d', sock_get(c.sock));
	/* What the container sent on our port: its pid as we number it. */
	ASSERT_EQ(3, kt_recv(host_port, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m));
	EXPECT_EQ(0, memcmp(buf, "ctr", 3));
	EXPECT_LT(0, m.pid);
	EXPECT_NE(1, m.pid);
	EXPECT_EQ(CTR_BASE, m.uid);
	ASSERT_EQ(3, kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, &m));
	EXPECT_EQ(CTR_BASE, m.uid);
	EXPECT_EQ(0, sock_put(c.sock, 'g'));
	EXPECT_EQ(0, ctr_wait(&c));
	close(fd);
	close(host_port);
}

/* ---- /proc/kport is its opener's instance ----------------------------------- */

static int ctr_listing(void)
{
	uint64_t id;
	int fd, proc;

	fd = kt_create(shared_name, 0, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
	CHECK(2, fd >= 0);
	proc = open("/proc/kport", O_RDONLY | O_CLOEXEC);
	CHECK(3, proc >= 0);
	CHECK(4, kt_send_fd(ctr_sock, proc) == 0);
	/* The host's listing, read here: the host's port of that name. */
	proc = kt_recv_fd(ctr_sock);
	CHECK(5, proc >= 0);
	CHECK(6, proc_ports_fd(proc, shared_name, &id) >= 1);
	CHECK(7, id != 0 && id != port_id(fd));
	CHECK(8, sock_put(ctr_sock, 'd') == 0);
	CHECK(9, sock_get(ctr_sock) == 'g');
	return 0;
}

TEST(proc_kport_lists_the_openers_instance)
{
	char name[KPORT_NAME_MAX];
	int proc, mine;
	struct ctr c;
	uint64_t id;

	kt_name(name, "listing");
	memcpy(shared_name, name, sizeof(shared_name));
	mine = kt_create(name, 0, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, mine);
	ASSERT_EQ(0, ctr_start(&c, ctr_listing, 0));
	proc = kt_recv_fd(c.sock);
	ASSERT_LE(0, proc);
	/* Opened in the container, read here: its one port (named as ours). */
	EXPECT_EQ(1, proc_ports_fd(proc, NULL, &id));
	EXPECT_EQ(1, proc_ports_fd(proc, name, &id));
	EXPECT_NE(0, id);
	EXPECT_NE(port_id(mine), id);
	close(proc);
	proc = open("/proc/kport", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, proc);
	ASSERT_EQ(0, kt_send_fd(c.sock, proc));
	close(proc);
	ASSERT_EQ('d', sock_get(c.sock));
	EXPECT_EQ(0, sock_put(c.sock, 'g'));
	EXPECT_EQ(0, ctr_wait(&c));
	close(mine);
	kt_unlink(name);
}

/* ---- Teardown ----------------------------------------------------------------- */

/* Make a kernel-owned port, hand it out, and leave. */
static int ctr_make_and_leave(void)
{
	int fd;

	fd = kt_create(shared_name, 0, 4, MSG_SIZE, 0666, KPORT_RIGHTS_ALL);
	CHECK(2, fd >= 0);
	CHECK(3, kt_send(fd, "left", 4, 0, 0, 0) == 0);
	CHECK(4, kt_send_fd(ctr_sock, fd) == 0);
	CHECK(5, sock_get(ctr_sock) == 'g');
	return 0;
}

/*
 * A later container never finds an earlier one's port, even when its
 * namespace gets the earlier one's inode number (the kernel hands out the
 * lowest free one): it reports its number.
 */
static int ctr_find_nothing(void)
{
	struct stat st;

	CHECK(2, kt_open(shared_name, 0, 0) == -ENOENT);
	CHECK(3, proc_ports(NULL, &(uint64_t){ 0 }) == 0);
	CHECK(4, stat("/proc/self/ns/ipc", &st) == 0);
	CHECK(5, write(ctr_sock, &st.st_ino, sizeof(st.st_ino)) == sizeof(st.st_ino));
	return 0;
}

static int wait_dead(int fd, int timeout_ms)
{
	struct kport_stat st;
	int waited;

	for (waited = 0; waited < timeout_ms; waited += 20) {
		if (kt_stat(fd, &st))
			return -EIO;
		if (st.status & KPORT_STATUS_DEAD)
			return waited;
		kt_sleep_ms(20);
	}
	return -ETIMEDOUT;
}

TEST(an_abandoned_instance_goes_and_wakes_its_receivers)
{
	ino_t old_ino, new_ino = 0;
	struct kport_stat st;
	struct stat sb;
	char path[64];
	pid_t receiver;
	struct ctr c;
	int fd, took;

	kt_name(shared_name, "teardown");
	ASSERT_EQ(0, ctr_start(&c, ctr_make_and_leave, 0));
	fd = kt_recv_fd(c.sock);
	ASSERT_LE(0, fd);
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)c.pid);
	ASSERT_EQ(0, stat(path, &sb));
	old_ino = sb.st_ino;
	/* Empty it, then block a receiver on it. */
	ASSERT_EQ(4, kt_recv(fd, (char[MSG_SIZE]){ 0 }, MSG_SIZE, KPORT_MSG_NONBLOCK, NULL));
	receiver = kt_fork();
	ASSERT_LE(0, receiver);
	if (receiver == 0) {
		char buf[MSG_SIZE];

		_exit(kt_recv_ex(fd, buf, sizeof(buf), KPORT_MSG_DEADLINE, 0,
				 kt_deadline_ms(30000), NULL) == -EIDRM ? 0 : 1);
	}
	ASSERT_EQ(0, kt_wait_recv_waiters(fd, 1));
	ASSERT_EQ(0, kt_stat(fd, &st));
	EXPECT_FALSE(st.status & KPORT_STATUS_DEAD);
	/* The container's last process goes: so does its instance. */
	ASSERT_EQ(0, sock_put(c.sock, 'g'));
	ASSERT_EQ(0, ctr_wait(&c));
	took = wait_dead(fd, TEARDOWN_MS);
	ASSERT_LE(0, took) TH_LOG("the port outlived its namespace");
	printf("# port dead %d ms after its namespace's last process left\n", took);
	/* The reaper looks every second: within two, whatever the phase. */
	EXPECT_GT(2000 + 500, took);
	EXPECT_EQ(0, kt_reap(receiver, -1));
	/* Our handle is still a handle: it says the port is gone. */
	EXPECT_EQ(-EIDRM, kt_send(fd, "x", 1, 0, KPORT_MSG_NONBLOCK, 0));
	close(fd);

	ASSERT_EQ(0, ctr_start(&c, ctr_find_nothing, 0));
	EXPECT_EQ((ssize_t)sizeof(new_ino), read(c.sock, &new_ino, sizeof(new_ino)));
	EXPECT_EQ(0, ctr_wait(&c));
	printf("# the later namespace's inode number: %s\n",
	       new_ino == old_ino ? "the same (reused)" : "another");
	fflush(stdout);
}

/*
 * A file of the namespace (a bind mount of /proc/PID/ns/ipc, say) keeps it,
 * and so its ports, after its last process left, as it keeps POSIX queues.
 */
static int reenter_and_open(int nsfd)
{
	char buf[MSG_SIZE];
	int fd;

	CHECK(2, setns(nsfd, CLONE_NEWIPC) == 0);
	fd = kt_open(shared_name, KPORT_RIGHTS_ALL, 0);
	CHECK(3, fd >= 0);
	CHECK(4, kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL) == -EAGAIN);
	return 0;
}

TEST(a_namespace_file_keeps_the_instance)
{
	char path[64];
	struct ctr c;
	int fd, nsfd, took;
	pid_t child;

	kt_name(shared_name, "nsfile");
	/* (We may setns() into it: we are root of the initial namespace.) */
	ASSERT_EQ(0, ctr_start(&c, ctr_make_and_leave, CTR_SAME_PID));
	fd = kt_recv_fd(c.sock);
	ASSERT_LE(0, fd);
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)c.pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, nsfd);
	ASSERT_EQ(4, kt_recv(fd, (char[MSG_SIZE]){ 0 }, MSG_SIZE, KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0, sock_put(c.sock, 'g'));
	ASSERT_EQ(0, ctr_wait(&c));
	/* Twice the reaper's period: still there. */
	EXPECT_EQ(-ETIMEDOUT, wait_dead(fd, 2500));
	child = kt_fork();
	ASSERT_LE(0, child);
	if (child == 0)
		_exit(reenter_and_open(nsfd));
	EXPECT_EQ(0, kt_reap(child, -1));
	/* The last way in closed: now it goes. */
	close(nsfd);
	took = wait_dead(fd, TEARDOWN_MS);
	EXPECT_LE(0, took);
	close(fd);
}

/* A bind mount of the namespace's file keeps it, as an open file does. */
TEST(a_bind_mount_of_the_namespace_keeps_the_instance)
{
	char path[64], target[64], x;
	int sync[2], go[2], fd, took;
	struct ctr c;
	pid_t holder;

	kt_name(shared_name, "nsbind");
	ASSERT_EQ(0, ctr_start(&c, ctr_make_and_leave, 0));
	fd = kt_recv_fd(c.sock);
	ASSERT_LE(0, fd);
	ASSERT_EQ(4, kt_recv(fd, (char[MSG_SIZE]){ 0 }, MSG_SIZE, KPORT_MSG_NONBLOCK, NULL));
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)c.pid);
	snprintf(target, sizeof(target), "/tmp/kport-nsbind.%d", (int)getpid());
	close(open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	ASSERT_EQ(0, pipe2(sync, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	/* In a mount namespace of its own, so that no mount is left behind. */
	holder = kt_fork();
	ASSERT_LE(0, holder);
	if (holder == 0) {
		KT_CHILD_ASSERT(unshare(CLONE_NEWNS) == 0);
		KT_CHILD_ASSERT(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
		KT_CHILD_ASSERT(mount(path, target, NULL, MS_BIND, NULL) == 0);
		KT_CHILD_ASSERT(write(sync[1], "m", 1) == 1);
		KT_CHILD_ASSERT(read(go[0], &x, 1) == 1);
		KT_CHILD_ASSERT(umount(target) == 0);
		_exit(0);
	}
	ASSERT_EQ(1, read(sync[0], &x, 1));
	ASSERT_EQ(0, sock_put(c.sock, 'g'));
	ASSERT_EQ(0, ctr_wait(&c));
	EXPECT_EQ(-ETIMEDOUT, wait_dead(fd, 2500));
	ASSERT_EQ(1, write(go[1], "u", 1));
	ASSERT_EQ(0, kt_reap(holder, -1));
	took = wait_dead(fd, TEARDOWN_MS);
	EXPECT_LE(0, took);
	close(fd);
	unlink(target);
	close(sync[0]);
	close(sync[1]);
	close(go[0]);
	close(go[1]);
}

/* /proc/kport opened before the namespace's first port shows it after. */
static int ctr_listing_before_create(void)
{
	uint64_t id;
	int proc, fd;

	proc = open("/proc/kport", O_RDONLY | O_CLOEXEC);
	CHECK(2, proc >= 0);
	CHECK(3, proc_ports_fd(proc, NULL, &id) == 0);
	fd = kt_create(shared_name, 0, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
	CHECK(4, fd >= 0);
	CHECK(5, proc_ports_fd(proc, shared_name, &id) == 1);
	CHECK(6, id == port_id(fd));
	return 0;
}

TEST(proc_kport_opened_before_the_first_port_lists_it)
{
	struct ctr c;

	kt_name(shared_name, "early");
	ASSERT_EQ(0, ctr_start(&c, ctr_listing_before_create, 0));
	EXPECT_EQ(0, ctr_wait(&c));
}

/* ---- Ids and privilege ---------------------------------------------------------- */

/* Not mapped in the namespace that owns the instance: no port of ours. */
static int ctr_unmapped(void)
{
	CHECK(2, kt_create(NULL, 0, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL) == -EOVERFLOW);
	CHECK(3, kt_create(shared_name, 0, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL) == -EOVERFLOW);
	return 0;
}

TEST(an_unmapped_creator_is_refused)
{
	struct ctr c;

	kt_name(shared_name, "unmapped");
	ASSERT_EQ(0, ctr_start(&c, ctr_unmapped, CTR_UNMAPPED));
	EXPECT_EQ(0, ctr_wait(&c));
	/* The uid mapped, the gid not: refused all the same. */
	ASSERT_EQ(0, ctr_start(&c, ctr_unmapped, CTR_NO_GID_MAP));
	EXPECT_EQ(0, ctr_wait(&c));
}

/*
 * CAP_IPC_OWNER counts in the user namespace that owns the instance: the
 * container's root overrides modes on its own instance's ports...
 */
static int ctr_ipc_owner(void)
{
	char second[KPORT_NAME_MAX];
	pid_t child;
	int fd;

	snprintf(second, sizeof(second), "%.50s.2", shared_name);
	child = kt_fork();
	CHECK(2, child >= 0);
	if (child == 0) {
		KT_CHILD_ASSERT(setresgid(1000, 1000, 1000) == 0);
		KT_CHILD_ASSERT(setresuid(1000, 1000, 1000) == 0);
		fd = kt_create(shared_name, 0, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
		KT_CHILD_ASSERT(fd >= 0);
		fd = kt_create(second, 0, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
		KT_CHILD_ASSERT(fd >= 0);
		_exit(0);
	}
	CHECK(3, kt_reap(child, -1) == 0);
	/* Opened with every right, deleted through the handle... */
	fd = kt_open(shared_name, KPORT_RIGHTS_ALL, 0);
	CHECK(4, fd >= 0);
	CHECK(5, kt_delete(fd) == 0);
	close(fd);
	/* ...and by name. */
	CHECK(6, kt_unlink(second) == 0);
	return 0;
}

/* ...and not on the host's, even without an IPC namespace of its own. */
static int ctr_no_ipc_owner_outside(void)
{
	CHECK(2, kt_open(shared_name, KPORT_RIGHT_RECV, 0) == -EACCES);
	CHECK(3, kt_open(shared_name, 0, 0) == -EACCES);
	CHECK(4, kt_unlink(shared_name) == -EPERM);
	return 0;
}

TEST(ipc_owner_counts_in_the_instances_user_namespace)
{
	struct ctr c;
	pid_t child;
	int fd;

	kt_name(shared_name, "owner");
	ASSERT_EQ(0, ctr_start(&c, ctr_ipc_owner, 0));
	EXPECT_EQ(0, ctr_wait(&c));

	/* A host port of another user, mode 0600. */
	child = kt_fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		KT_CHILD_ASSERT(setresuid(1234, 1234, 1234) == 0);
		fd = kt_create(shared_name, 0, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
		KT_CHILD_ASSERT(fd >= 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_reap(child, -1));
	ASSERT_EQ(0, ctr_start(&c, ctr_no_ipc_owner_outside, CTR_SAME_IPC));
	EXPECT_EQ(0, ctr_wait(&c));
	EXPECT_EQ(0, kt_unlink(shared_name));
}

/* ---- Quotas: a user namespace's users share its creator's ---------------------- */

static const char *const quota_params[] = {
	"max_ports_per_user", "max_user_bytes", "max_ports",
};

/*
 * What the module had when this program started, put back when it ends
 * (kport_test.h); each test also puts back what it changed, for the next.
 */
static void __attribute__((constructor)) save_params_at_start(void)
{
	kt_params_save_for_exit(quota_params, 3);
}

/*
 * The quota tests change parameters: the teardown puts them back, even
 * after a failed assertion, so that one failure does not become many.
 */
FIXTURE(quota) {
	char saved[3][32];
};

FIXTURE_SETUP(quota)
{
	size_t i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, kt_param_read(quota_params[i], self->saved[i],
					   sizeof(self->saved[i])));
}

FIXTURE_TEARDOWN(quota)
{
	size_t i;

	for (i = 0; i < 3; i++)
		kt_param_write(quota_params[i], self->saved[i]);
}

/*
 * In the initial user namespace only: in a container's (check-container),
 * what its users charge goes up to that container's creator too, whose
 * count this test does not know.
 */
#define SKIP_UNLESS_INITIAL_USERNS() do {					\
	if (!kt_initial_userns())					\
		SKIP(return, "the enclosing user namespace's creator shares these counts"); \
} while (0)

/* As uid @uid, create the port @name (NULL: anonymous); its result. */
static int create_as(uid_t uid, const char *name)
{
	pid_t child = kt_fork();

	if (child < 0)
		return -errno;
	if (child == 0) {
		int fd;

		KT_CHILD_ASSERT(setresuid(uid, uid, uid) == 0);
		fd = kt_create(name, 0, 4, MSG_SIZE, 0666, KPORT_RIGHTS_ALL);
		_exit(fd >= 0 ? 0 : -fd);
	}
	return -kt_reap(child, -1);
}

static int ctr_port_quota(void)
{
	char name[KPORT_NAME_MAX];
	int i;

	/* 3 ports for the creator's users together, whoever they are here. */
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "%.40s.root%d", shared_name, i);
		CHECK(2 + i, kt_create(name, 0, 4, MSG_SIZE, 0666,
				       KPORT_RIGHTS_ALL) >= 0);
	}
	snprintf(name, sizeof(name), "%.40s.u1", shared_name);
	CHECK(4, create_as(1, name) == 0);
	snprintf(name, sizeof(name), "%.40s.u2", shared_name);
	CHECK(5, create_as(2, name) == -ENOSPC);
	CHECK(6, sock_put(ctr_sock, 'f') == 0);
	CHECK(7, sock_get(ctr_sock) == 'g');
	return 0;
}

/* As host uid @uid, create an anonymous port; its result. */
static int host_create_as(uid_t uid)
{
	return create_as(uid, NULL);
}

TEST_F(quota, a_user_namespace_shares_its_creators_port_quota)
{
	struct ctr c;
	int i, ret = -1;

	SKIP_UNLESS_INITIAL_USERNS();
	ASSERT_EQ(0, kt_param_set("max_ports_per_user", 3));
	kt_name(shared_name, "pq");
	EXPECT_EQ(0, host_create_as(CTR_CREATOR));
	ASSERT_EQ(0, ctr_start(&c, ctr_port_quota, CTR_BY_USER));
	ASSERT_EQ('f', sock_get(c.sock));
	EXPECT_EQ(-ENOSPC, host_create_as(CTR_CREATOR));
	EXPECT_EQ(0, sock_put(c.sock, 'g'));
	EXPECT_EQ(0, ctr_wait(&c));
	/* The container's ports go with it, and so does their charge. */
	for (i = 0; i < TEARDOWN_MS / 50; i++) {
		ret = host_create_as(CTR_CREATOR);
		if (ret != -ENOSPC)
			break;
		kt_sleep_ms(50);
	}
	EXPECT_EQ(0, ret);
}

/*
 * A namespace root made (rootful runtimes) does not charge root: its
 * users are limited each as a user, and one of them cannot use up the
 * host's root quota, shared by every such container.
 */
static int ctr_three_ports_as_1000(void)
{
	char name[KPORT_NAME_MAX];
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "%.40s.%d", shared_name, i);
		CHECK(2 + i, create_as(1000, name) == 0);
	}
	return 0;
}

/* Three ports as uid 1000, then wait for the host's word. */
static int ctr_three_ports_and_wait(void)
{
	CHECK(2, ctr_three_ports_as_1000() == 0);
	CHECK(3, sock_put(ctr_sock, 'f') == 0);
	CHECK(4, sock_get(ctr_sock) == 'g');
	return 0;
}

/*
 * ...but each id of it is charged as the host's user it maps to: the
 * container's uid 1000 is host uid 101000, and they share one quota.
 */
TEST_F(quota, a_namespace_root_made_charges_the_hosts_user_each_id_is)
{
	struct ctr c;
	int i, ret = -1;

	SKIP_UNLESS_INITIAL_USERNS();
	ASSERT_EQ(0, kt_param_set("max_ports_per_user", 3));
	kt_name(shared_name, "rootmade2");
	EXPECT_EQ(0, host_create_as(CTR_BASE + 1000));
	ASSERT_EQ(0, ctr_start(&c, ctr_three_ports_and_wait, 0));
	ASSERT_EQ('f', sock_get(c.sock));
	EXPECT_EQ(-ENOSPC, host_create_as(CTR_BASE + 1000));
	/* Another host user is not charged. */
	EXPECT_EQ(0, host_create_as(CTR_BASE + 1001));
	EXPECT_EQ(0, sock_put(c.sock, 'g'));
	EXPECT_EQ(0, ctr_wait(&c));
	/* The container's ports go with it, and so does their charge. */
	for (i = 0; i < TEARDOWN_MS / 50; i++) {
		ret = host_create_as(CTR_BASE + 1000);
		if (ret != -ENOSPC)
			break;
		kt_sleep_ms(50);
	}
	EXPECT_EQ(0, ret);
}

TEST_F(quota, a_namespace_root_made_does_not_charge_root)
{
	struct ctr c;
	int fd;

	SKIP_UNLESS_INITIAL_USERNS();
	ASSERT_EQ(0, kt_param_set("max_ports_per_user", 3));
	kt_name(shared_name, "rootmade");
	ASSERT_EQ(0, ctr_start(&c, ctr_three_ports_as_1000, 0));
	EXPECT_EQ(0, ctr_wait(&c));
	/* Root on the host still has its own three. */
	fd = kt_create(NULL, 0, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
	EXPECT_LE(0, fd);
	close(fd);
}

/* Bytes: what one of the container's users queues, the others lack. */
static int ctr_byte_quota(void)
{
	char buf[MSG_SIZE];
	pid_t child;
	int fd, n;

	fd = kt_create(shared_name, 0, KPORT_CAPACITY_UNBOUNDED, MSG_SIZE, 0666,
		       KPORT_RIGHTS_ALL);
	CHECK(2, fd >= 0);
	for (n = 0; n < 100000; n++)
		if (kt_send(fd, buf, MSG_SIZE, 0, 0, 0))
			break;
	CHECK(3, n > 0 && n < 100000);
	CHECK(4, kt_send(fd, buf, MSG_SIZE, 0, 0, 0) == -ENOBUFS);
	child = kt_fork();
	CHECK(5, child >= 0);
	if (child == 0) {
		/*
		 * Another user of the container, through a handle of its own
		 * (a send is charged to the handle's opener): charged to the
		 * same creator above it.
		 */
		KT_CHILD_ASSERT(setresuid(1, 1, 1) == 0);
		fd = kt_open(shared_name, KPORT_RIGHT_SEND, 0);
		KT_CHILD_ASSERT(fd >= 0);
		_exit(-kt_send(fd, buf, MSG_SIZE, 0, 0, 0));
	}
	CHECK(6, kt_reap(child, -1) == ENOBUFS);
	/* Room again once a message is received. */
	CHECK(7, kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL) == MSG_SIZE);
	child = kt_fork();
	CHECK(8, child >= 0);
	if (child == 0) {
		KT_CHILD_ASSERT(setresuid(1, 1, 1) == 0);
		fd = kt_open(shared_name, KPORT_RIGHT_SEND, 0);
		KT_CHILD_ASSERT(fd >= 0);
		_exit(-kt_send(fd, buf, MSG_SIZE, 0, 0, 0));
	}
	CHECK(9, kt_reap(child, -1) == 0);
	return 0;
}

TEST_F(quota, a_user_namespace_shares_its_creators_byte_quota)
{
	struct ctr c;

	SKIP_UNLESS_INITIAL_USERNS();
	ASSERT_EQ(0, kt_param_set("max_user_bytes", 64 * 1024));
	kt_name(shared_name, "bq");
	ASSERT_EQ(0, ctr_start(&c, ctr_byte_quota, CTR_BY_USER));
	EXPECT_EQ(0, ctr_wait(&c));
}

/* max_ports is each instance's, as mq's queues_max is each namespace's. */
static int ctr_two_ports(void)
{
	CHECK(2, kt_create(NULL, 0, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL) >= 0);
	CHECK(3, kt_create(NULL, 0, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL) >= 0);
	CHECK(4, kt_create(NULL, 0, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL) == -ENOSPC);
	return 0;
}

TEST_F(quota, max_ports_is_per_instance)
{
	int fds[64], n = 0, ret;
	struct ctr c;

	/* The host's instance full, whatever it held before. */
	ASSERT_EQ(0, kt_param_set("max_ports", 2));
	while (n < 64 && (ret = kt_create(NULL, 0, 4, MSG_SIZE, 0600,
					  KPORT_RIGHTS_ALL)) >= 0)
		fds[n++] = ret;
	ASSERT_EQ(-ENOSPC, ret);
	ASSERT_EQ(0, ctr_start(&c, ctr_two_ports, 0));
	EXPECT_EQ(0, ctr_wait(&c));
	while (n)
		close(fds[--n]);
}

TEST_HARNESS_MAIN
