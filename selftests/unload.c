// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftest: module lifetime (doc/semantics.md, "Module lifetime").
 *
 * Every open handle and every open /dev/kport pins the module: unloading
 * fails with EWOULDBLOCK/EAGAIN or EBUSY and everything keeps working.
 * Kernel-owned ports without handles do not pin it, and unloading deletes
 * them.  With nothing open the module unloads, /dev/kport disappears, and
 * loading it again brings back a working device.
 *
 * Needs the path of kport.ko in KPORT_KO (the VM harness exports it) to
 * load the module again; every test leaves the module loaded, with the
 * parameters it had.
 */
#include "kport_test.h"

#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define NOBODY		65534

#define MODULE_DIR	"/sys/module/kport"
#define PARAM_DIR	MODULE_DIR "/parameters/"

static const char *const params[] = {
	"max_ports", "max_ports_per_user", "max_msg_size", "max_capacity",
	"max_user_bytes", "dev_mode",
};

/*
 * SKIP() from a fixture's setup: the 6.1 harness would still run the test
 * after a plain SKIP(return, ...), so end the test's process the way its
 * own SKIP() does (exit status 255, the reason in shared memory).
 */
#define SETUP_SKIP(fmt, ...)	SKIP(_exit(255), fmt, ##__VA_ARGS__)

/* delete_module(2) without waiting; 0 or -errno. */
static int unload_module(void)
{
	return syscall(SYS_delete_module, "kport", O_NONBLOCK) ? -errno : 0;
}

/* finit_module(2) of @ko with @args; 0 or -errno. */
static int load_module(const char *ko, const char *args)
{
	int fd, ret;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, args, 0) ? -errno : 0;
	close(fd);
	return ret;
}

static bool module_loaded(void)
{
	return access(MODULE_DIR, F_OK) == 0;
}

/* "name=value ..." for the current parameters, to load the module again with. */
static int module_args(char *args, size_t size)
{
	size_t i, len = 0;

	args[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(params); i++) {
		char path[128], val[32];
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), PARAM_DIR "%s", params[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		n = read(fd, val, sizeof(val) - 1);
		close(fd);
		if (n <= 0)
			return -EIO;
		val[n] = '\0';
		val[strcspn(val, "\n")] = '\0';
		len += snprintf(args + len, size - len, "%s%s=%s",
				len ? " " : "", params[i], val);
		if (len >= size)
			return -E2BIG;
	}
	return 0;
}

/* The module refuses to go: EWOULDBLOCK (== EAGAIN) or EBUSY. */
#define ASSERT_UNLOAD_REFUSED() do {					\
	int __ret = unload_module();					\
									\
	ASSERT_TRUE(__ret == -EWOULDBLOCK || __ret == -EBUSY)		\
		TH_LOG("delete_module: %d", __ret);			\
	ASSERT_TRUE(module_loaded());					\
} while (0)

FIXTURE(unload) {
	const char *ko;
	char args[320];		/* the parameters it had, for loading again */
	char name[KPORT_NAME_MAX];
	char name2[KPORT_NAME_MAX];
	int fd[4];
	pid_t child;
};

FIXTURE_SETUP(unload)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(self->fd); i++)
		self->fd[i] = -1;
	self->child = -1;
	self->ko = getenv("KPORT_KO");
	if (!self->ko || !self->ko[0])
		SETUP_SKIP("KPORT_KO (path of kport.ko) is not set: cannot load the module again");
	if (geteuid() != 0)
		SETUP_SKIP("needs root (CAP_SYS_MODULE) to unload and load kport");
	ASSERT_EQ(0, access(self->ko, R_OK)) TH_LOG("KPORT_KO=%s", self->ko);
	ASSERT_TRUE(module_loaded());
	ASSERT_EQ(0, module_args(self->args, sizeof(self->args)));
	/* nothing else may hold the module, or no unload can succeed */
	ASSERT_EQ(0, kt_module_refcnt()) TH_LOG("kport is in use by someone else");
	kt_name(self->name, _metadata->name);
	kt_name(self->name2, "unload-second");
}

FIXTURE_TEARDOWN(unload)
{
	unsigned int i;

	kt_kill_reap(self->child);
	for (i = 0; i < ARRAY_SIZE(self->fd); i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	kt_dev_close();
	/* whatever happened, leave the module loaded */
	if (!module_loaded())
		EXPECT_EQ(0, load_module(self->ko, self->args));
	kt_unlink(self->name);
	kt_unlink(self->name2);
	kt_dev_close();
}

/* The port behind @fd still moves messages. */
static void assert_port_works(struct __test_metadata *_metadata, int fd)
{
	char buf[16];

	ASSERT_EQ(0, kt_send(fd, "alive", 5, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(5, kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL));
	ASSERT_EQ(0, memcmp(buf, "alive", 5));
}

/* A new anonymous port moves messages; it is closed again. */
static void assert_new_port_works(struct __test_metadata *_metadata,
				  FIXTURE_DATA(unload) *self)
{
	self->fd[0] = kt_create(NULL, 0, 4, 16, 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd[0]);
	assert_port_works(_metadata, self->fd[0]);
	close(self->fd[0]);
	self->fd[0] = -1;
}

/* Unload with nothing open, check it is gone, and load it again. */
static void unload_and_reload(struct __test_metadata *_metadata,
			      FIXTURE_DATA(unload) *self)
{
	struct kport_version v;
	struct stat st;
	char args[320];

	kt_dev_close();
	ASSERT_EQ(0, unload_module());
	ASSERT_FALSE(module_loaded());
	ASSERT_EQ(-1, stat(KPORT_DEVICE, &st));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(-1, access("/proc/kport", F_OK));
	ASSERT_EQ(ENOENT, errno);

	ASSERT_EQ(0, load_module(self->ko, self->args));
	ASSERT_TRUE(module_loaded());
	ASSERT_EQ(0, module_args(args, sizeof(args)));
	ASSERT_STREQ(self->args, args);
	ASSERT_EQ(0, stat(KPORT_DEVICE, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, kt_ioctl(kt_dev(), KPORT_IOC_VERSION, &v));
	ASSERT_EQ((uint32_t)KPORT_API_VERSION, v.api_version);
}

TEST_F(unload, unload_is_refused_while_a_port_handle_is_open)
{
	self->fd[0] = kt_create(NULL, 0, 4, 16, 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd[0]);
	kt_dev_close();		/* only the port handle is open now */
	ASSERT_UNLOAD_REFUSED();
	assert_port_works(_metadata, self->fd[0]);
}

TEST_F(unload, unload_is_refused_while_dev_kport_is_open)
{
	struct kport_version v;

	self->fd[0] = open(KPORT_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd[0]);
	ASSERT_UNLOAD_REFUSED();
	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, kt_ioctl(self->fd[0], KPORT_IOC_VERSION, &v));
	ASSERT_EQ((uint32_t)KPORT_API_VERSION, v.api_version);
}

TEST_F(unload, unload_is_refused_while_a_handle_of_a_deleted_port_is_open)
{
	struct kport_stat st;

	self->fd[0] = kt_create(self->name, 0, 4, 16, 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd[0]);
	ASSERT_EQ(0, kt_delete(self->fd[0]));
	kt_dev_close();
	ASSERT_UNLOAD_REFUSED();
	ASSERT_EQ(0, kt_stat(self->fd[0], &st));
	ASSERT_EQ(KPORT_STATUS_DEAD, st.status);
}

TEST_F(unload, unload_is_refused_while_another_process_holds_a_handle)
{
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	self->fd[1] = p[0];
	self->fd[2] = p[1];
	self->fd[0] = kt_create(NULL, 0, 4, 16, 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd[0]);
	kt_dev_close();
	self->child = kt_fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		char c;

		/* hold the inherited handle until the parent says so */
		close(p[1]);
		KT_CHILD_ASSERT(read(p[0], &c, 1) == 0);
		_exit(0);
	}
	close(self->fd[0]);
	self->fd[0] = -1;
	ASSERT_UNLOAD_REFUSED();
	/* the child lets go: now nothing is open */
	close(p[1]);
	self->fd[2] = -1;
	ASSERT_EQ(0, kt_reap(self->child, -1));
	self->child = -1;
	unload_and_reload(_metadata, self);
}

TEST_F(unload, every_open_file_holds_one_module_reference)
{
	ASSERT_EQ(0, kt_module_refcnt());
	self->fd[0] = open(KPORT_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd[0]);
	ASSERT_EQ(1, kt_module_refcnt());
	self->fd[1] = kt_create(NULL, 0, 4, 16, 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd[1]);
	/* /dev/kport twice (ours and kt_dev()'s) and a port handle */
	ASSERT_EQ(3, kt_module_refcnt());
	self->fd[2] = dup(self->fd[1]);	/* the same file: no new reference */
	ASSERT_LE(0, self->fd[2]);
	ASSERT_EQ(3, kt_module_refcnt());
	kt_dev_close();
	close(self->fd[0]);
	self->fd[0] = -1;
	ASSERT_EQ(1, kt_module_refcnt());
	close(self->fd[1]);
	close(self->fd[2]);
	self->fd[1] = self->fd[2] = -1;
	ASSERT_EQ(0, kt_module_refcnt());
}

TEST_F(unload, unload_succeeds_once_everything_is_closed_and_reload_works)
{
	assert_new_port_works(_metadata, self);
	unload_and_reload(_metadata, self);
	/* and the device is fully usable again */
	assert_new_port_works(_metadata, self);
}

TEST_F(unload, kernel_owned_ports_do_not_pin_the_module_and_go_with_it)
{
	static char big[4096];
	int i;

	/* a named port with queued messages, and an unbounded one too */
	self->fd[0] = kt_create(self->name, 0, 8, 16, 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd[0]);
	self->fd[1] = kt_create(self->name2, 0, KPORT_CAPACITY_UNBOUNDED,
				sizeof(big), 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd[1]);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, kt_send(self->fd[0], "queued", 6, 0, 0, 0));
		ASSERT_EQ(0, kt_send(self->fd[1], big, sizeof(big), 0, 0, 0));
	}
	close(self->fd[0]);
	close(self->fd[1]);
	self->fd[0] = self->fd[1] = -1;
	kt_dev_close();
	ASSERT_EQ(0, kt_module_refcnt());

	unload_and_reload(_metadata, self);
	/* unloading deleted them: the names are free */
	ASSERT_EQ(-ENOENT, kt_open(self->name, 0, 0));
	ASSERT_EQ(-ENOENT, kt_open(self->name2, 0, 0));
	self->fd[0] = kt_create(self->name, 0, 8, 16, 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd[0]);
}

/*
 * An instance of another IPC namespace, kept alive by a file of that
 * namespace after its last process left, with a port and a queued
 * message: unloading tears it down too (kmemleak, in the debug lane,
 * says whether anything is left).
 */
TEST_F(unload, instances_of_other_namespaces_go_with_the_module)
{
	char path[64], x;
	int sync[2], go[2], nsfd;
	pid_t child;

	ASSERT_EQ(0, pipe(sync));
	ASSERT_EQ(0, pipe(go));
	child = kt_fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int fd;

		KT_CHILD_ASSERT(unshare(CLONE_NEWIPC) == 0);
		fd = kt_create(self->name, 0, 8, 16, 0600, KPORT_RIGHTS_ALL);
		KT_CHILD_ASSERT(fd >= 0);
		KT_CHILD_ASSERT(kt_send(fd, "kept", 4, 0, 0, 0) == 0);
		KT_CHILD_ASSERT(write(sync[1], "c", 1) == 1);
		/* Wait until our namespace is held from outside. */
		KT_CHILD_ASSERT(read(go[0], &x, 1) == 1);
		_exit(0);
	}
	ASSERT_EQ(1, read(sync[0], &x, 1));
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)child);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, nsfd);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(0, kt_reap(child, -1));
	close(sync[0]);
	close(sync[1]);
	close(go[0]);
	close(go[1]);
	/* Its port is not ours to see, and pins nothing. */
	ASSERT_EQ(-ENOENT, kt_open(self->name, 0, 0));
	kt_dev_close();
	ASSERT_EQ(0, kt_module_refcnt());
	unload_and_reload(_metadata, self);
	/* The namespace is still there; kport's instance of it is new. */
	child = kt_fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		KT_CHILD_ASSERT(setns(nsfd, CLONE_NEWIPC) == 0);
		KT_CHILD_ASSERT(kt_open(self->name, 0, 0) == -ENOENT);
		_exit(0);
	}
	EXPECT_EQ(0, kt_reap(child, -1));
	close(nsfd);
}

/* open(2) of /dev/kport as nobody, in a child: 0 or -errno. */
static int open_dev_as_nobody(void)
{
	int status;
	pid_t pid;

	pid = kt_fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd;

		if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
			_exit(100);
		fd = open(KPORT_DEVICE, O_RDWR | O_CLOEXEC);
		_exit(fd >= 0 ? 0 : errno);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -ECHILD;
	return -WEXITSTATUS(status);
}

/*
 * dev_mode is the mode the node is created with: no moment when a udev
 * rule has not yet narrowed a 0666 node and another user may open it.
 */
TEST_F(unload, dev_mode_is_the_mode_dev_kport_is_created_with)
{
	char args[352], val[16];
	struct stat st;

	ASSERT_EQ(0, stat(KPORT_DEVICE, &st));
	ASSERT_EQ(0666, st.st_mode & 07777) TH_LOG("the default, as the README says");
	ASSERT_EQ(0, kt_param_read("dev_mode", val, sizeof(val)));
	ASSERT_STREQ("0666", val);
	ASSERT_EQ(0, open_dev_as_nobody());

	kt_dev_close();
	ASSERT_EQ(0, unload_module());
	/* the last dev_mode= given wins */
	snprintf(args, sizeof(args), "%s dev_mode=0600", self->args);
	ASSERT_EQ(0, load_module(self->ko, args));
	ASSERT_EQ(0, stat(KPORT_DEVICE, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0600, st.st_mode & 07777);
	ASSERT_EQ(0, kt_param_read("dev_mode", val, sizeof(val)));
	ASSERT_STREQ("0600", val);
	ASSERT_EQ(-EACCES, open_dev_as_nobody());
	/* read-only once loaded: the node's mode cannot drift from it */
	ASSERT_NE(0, kt_param_write("dev_mode", "0666"));
	ASSERT_EQ(0, kt_param_read("dev_mode", val, sizeof(val)));
	ASSERT_STREQ("0600", val);
	/* root still uses it */
	assert_new_port_works(_metadata, self);

	unload_and_reload(_metadata, self);
	ASSERT_EQ(0, stat(KPORT_DEVICE, &st));
	ASSERT_EQ(0666, st.st_mode & 07777);
	ASSERT_EQ(0, open_dev_as_nobody());
}

TEST_F(unload, dev_mode_other_than_read_and_write_bits_is_refused)
{
	static const char *const bad[] = {
		"0777", "0766", "0676", "0667", "04666", "02666", "01666",
		"0888", "0x1b6", "-1", "", "0666x", "0200000", "0", "00",
	};
	char args[352];
	unsigned int i;

	kt_dev_close();
	ASSERT_EQ(0, unload_module());
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(args, sizeof(args), "%s dev_mode=%s", self->args, bad[i]);
		EXPECT_EQ(-EINVAL, load_module(self->ko, args)) TH_LOG("dev_mode=%s", bad[i]);
		ASSERT_FALSE(module_loaded()) TH_LOG("dev_mode=%s", bad[i]);
	}
	/* the edges that are fine */
	snprintf(args, sizeof(args), "%s dev_mode=0400", self->args);
	ASSERT_EQ(0, load_module(self->ko, args));
	ASSERT_EQ(0, unload_module());
	snprintf(args, sizeof(args), "%s dev_mode=666", self->args);
	ASSERT_EQ(0, load_module(self->ko, args));
	ASSERT_EQ(0, unload_module());
	ASSERT_EQ(0, load_module(self->ko, self->args));
	ASSERT_TRUE(module_loaded());
}

TEST_HARNESS_MAIN
