// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftest: permissions (doc/semantics.md, "Open", "Delete",
 * "Rights").
 *
 * Opening a port checks the requested rights against the port's mode like
 * a file's: owner bits for its owner, group bits for members of its group,
 * other bits for everybody else (read = 4 grants receive, write = 2 grants
 * send), CAP_IPC_OWNER passes; rights 0 (stat, poll, delete) needs the
 * caller to own the port or to be granted read or write.  The rights a
 * handle was opened with are all it can use.  Only the owner or
 * CAP_IPC_OWNER may delete, by name with the caller's credentials, through
 * a handle with the credentials it was opened with.
 *
 * Each identity runs in a forked child (as_user()) that changes its ids
 * and capabilities, does one thing and exits with the result; the parent
 * asserts it.  Needs root to change ids.
 */
#include "kport_test.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define MSG_SIZE	64U

/* Identities used below; the port owner is OWNER_UID/OWNER_GID. */
#define OWNER_UID	4000
#define OWNER_GID	4242
#define OTHER_UID	5000
#define OTHER_GID	5000
#define NOBODY		65534

struct ids {
	uid_t uid;		/* effective (and real, unless @ruid) */
	gid_t gid;		/* effective (and real, unless @rgid) */
	uid_t ruid;		/* real and saved uid if not 0 */
	gid_t rgid;		/* real and saved gid if not 0 */
	int ngroups;		/* supplementary groups */
	gid_t groups[2];
	bool keep_ipc_owner;	/* a non-root uid that keeps CAP_IPC_OWNER */
	bool drop_ipc_owner;	/* uid 0 without CAP_IPC_OWNER */
};

static const struct ids owner = { .uid = OWNER_UID, .gid = OWNER_GID };
static const struct ids member = { .uid = OTHER_UID, .gid = OWNER_GID };
static const struct ids supp_member = { .uid = OTHER_UID, .gid = OTHER_GID,
					.ngroups = 1, .groups = { OWNER_GID } };
static const struct ids other = { .uid = OTHER_UID, .gid = OTHER_GID };
static const struct ids nobody = { .uid = NOBODY, .gid = NOBODY };
static const struct ids nobody_ipc_owner = { .uid = NOBODY, .gid = NOBODY,
					     .keep_ipc_owner = true };
static const struct ids root_no_ipc_owner = { .uid = 0, .gid = 0,
					      .drop_ipc_owner = true };

/*
 * SKIP() from a fixture's setup: the 6.1 harness would still run the test
 * after a plain SKIP(return, ...), so end the test's process the way its
 * own SKIP() does (exit status 255, the reason in shared memory).
 */
#define SETUP_SKIP(fmt, ...)	SKIP(_exit(255), fmt, ##__VA_ARGS__)

/* ---- Changing identity ------------------------------------------------------- */

static int caps_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return syscall(SYS_capget, &hdr, data);
}

static int caps_set(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return syscall(SYS_capset, &hdr, data);
}

#define IPC_OWNER_BIT	(1U << CAP_IPC_OWNER)	/* in word 0 */

/*
 * Become @id in a child: groups, gids, uids, then capabilities; check the
 * result.  Opens /dev/kport again afterwards, as the new identity.
 * 0 or -1 (with a message).
 */
static int become(const struct ids *id)
{
	struct __user_cap_data_struct caps[2];
	uid_t ruid = id->ruid ? id->ruid : id->uid;
	gid_t rgid = id->rgid ? id->rgid : id->gid;
	bool want_ipc_owner;

	kt_dev_close();
	if (setgroups((size_t)id->ngroups, id->groups) ||
	    (id->keep_ipc_owner && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)) ||
	    setresgid(rgid, id->gid, rgid) ||
	    setresuid(ruid, id->uid, ruid)) {
		fprintf(stderr, "# become: %s\n", strerror(errno));
		return -1;
	}
	if (caps_get(caps))
		return -1;
	if (id->keep_ipc_owner) {
		/* permitted survived thanks to KEEPCAPS; effective did not */
		caps[0].effective = caps[0].permitted = IPC_OWNER_BIT;
		caps[0].inheritable = 0;
		memset(&caps[1], 0, sizeof(caps[1]));
		if (caps_set(caps))
			return -1;
	}
	if (id->drop_ipc_owner) {
		caps[0].effective &= ~IPC_OWNER_BIT;
		caps[0].permitted &= ~IPC_OWNER_BIT;
		caps[0].inheritable &= ~IPC_OWNER_BIT;
		if (caps_set(caps))
			return -1;
	}
	/* what we think we are is what we are */
	want_ipc_owner = id->keep_ipc_owner ||
			 (id->uid == 0 && !id->drop_ipc_owner);
	if (caps_get(caps) || geteuid() != id->uid || getegid() != id->gid ||
	    !!(caps[0].effective & IPC_OWNER_BIT) != want_ipc_owner) {
		fprintf(stderr, "# become: ids or capabilities not as asked\n");
		return -1;
	}
	if (id->uid && !id->keep_ipc_owner && (caps[0].effective || caps[1].effective)) {
		fprintf(stderr, "# become: capabilities left\n");
		return -1;
	}
	return kt_dev() < 0 ? -1 : 0;
}

#define EXIT_ERRNO_BASE	100	/* a child exits with 100 + errno */
#define EXIT_SETUP	250	/* become() failed */

/*
 * Run @fn(@arg) in a child that became @id.  Returns what @fn returned
 * (0 or -errno).  A child that failed otherwise (KT_CHILD_ASSERT, a
 * signal, become()) gives 1000 + its exit code, which no assertion of a
 * result expects.
 */
static int as_user(const struct ids *id, int (*fn)(void *), void *arg)
{
	pid_t pid = kt_fork();
	int code;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int ret;

		if (become(id))
			_exit(EXIT_SETUP);
		ret = fn(arg);
		if (ret > 0)
			ret = 0;
		_exit(ret ? EXIT_ERRNO_BASE - ret : 0);
	}
	code = kt_reap(pid, -1);
	if (code == 0)
		return 0;
	if (code > EXIT_ERRNO_BASE && code < EXIT_SETUP)
		return -(code - EXIT_ERRNO_BASE);
	return 1000 + code;
}

/* ---- What a child does ---------------------------------------------------------- */

struct req {
	const char *name;
	uint32_t rights;
	uint32_t mode;
	int fd;			/* a handle the child inherited */
	int sock;		/* to pass a handle back */
};

/* Open @name with @rights, then close it. */
static int do_open(void *arg)
{
	struct req *r = arg;
	int fd = kt_open(r->name, r->rights, 0);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* Open @name with SEND only and send "child". */
static int do_open_and_send(void *arg)
{
	struct req *r = arg;
	int fd = kt_open(r->name, KPORT_RIGHT_SEND, 0);
	int ret;

	if (fd < 0)
		return fd;
	ret = kt_send(fd, "child", 5, 0, KPORT_MSG_NONBLOCK, 0);
	close(fd);
	return ret;
}

/* Open @name with RECV only and receive one message without waiting. */
static int do_open_and_recv(void *arg)
{
	struct req *r = arg;
	char buf[MSG_SIZE];
	int fd = kt_open(r->name, KPORT_RIGHT_RECV, 0);
	int ret;

	if (fd < 0)
		return fd;
	ret = kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL);
	close(fd);
	return ret;
}

/* Open @name with rights 0 and check what stat says. */
static int do_open_and_stat(void *arg)
{
	struct req *r = arg;
	struct kport_stat st;
	int fd = kt_open(r->name, 0, 0);

	if (fd < 0)
		return fd;
	KT_CHILD_ASSERT(kt_stat(fd, &st) == 0);
	KT_CHILD_ASSERT(st.rights == 0);
	KT_CHILD_ASSERT(!strcmp(st.name, r->name));
	KT_CHILD_ASSERT(st.mode == r->mode);
	close(fd);
	return 0;
}

/* Create the kernel-owned port @name with @mode and close the handle. */
static int do_create(void *arg)
{
	struct req *r = arg;
	int fd = kt_create(r->name, 0, 4, MSG_SIZE, r->mode, KPORT_RIGHTS_ALL);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int do_unlink(void *arg)
{
	struct req *r = arg;

	return kt_unlink(r->name);
}

/* Open @name with rights 0 and delete the port through that handle. */
static int do_open_and_delete(void *arg)
{
	struct req *r = arg;
	int fd = kt_open(r->name, 0, 0);
	int ret;

	if (fd < 0)
		return fd;
	ret = kt_delete(fd);
	close(fd);
	return ret;
}

/* Delete through the inherited handle. */
static int do_delete_inherited(void *arg)
{
	struct req *r = arg;

	return kt_delete(r->fd);
}

/* Send and receive through the inherited handle. */
static int do_use_inherited(void *arg)
{
	struct req *r = arg;
	char buf[MSG_SIZE];
	int ret;

	ret = kt_send(r->fd, "inherited", 9, 0, KPORT_MSG_NONBLOCK, 0);
	if (ret)
		return ret;
	ret = kt_recv(r->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL);
	if (ret < 0)
		return ret;
	KT_CHILD_ASSERT(ret == 9 && !memcmp(buf, "inherited", 9));
	return 0;
}

/*
 * Create @name with mode 0 and all rights: the creator's handle sends and
 * receives, but opening the port again with a right is refused.
 */
static int do_create_mode_0(void *arg)
{
	struct req *r = arg;
	char buf[MSG_SIZE];
	int fd = kt_create(r->name, 0, 4, MSG_SIZE, 0, KPORT_RIGHTS_ALL);

	if (fd < 0)
		return fd;
	KT_CHILD_ASSERT(kt_send(fd, "mine", 4, 0, KPORT_MSG_NONBLOCK, 0) == 0);
	KT_CHILD_ASSERT(kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
				NULL) == 4);
	close(fd);
	return do_open(arg);
}

/* Everything an unprivileged user needs from /dev/kport. */
static int do_use_device(void *arg)
{
	struct kport_version v;
	struct kport_stat st;
	struct req *r = arg;
	char buf[MSG_SIZE];
	int fd;

	(void)r;
	memset(&v, 0, sizeof(v));
	KT_CHILD_ASSERT(kt_ioctl(kt_dev(), KPORT_IOC_VERSION, &v) == 0);
	KT_CHILD_ASSERT(v.api_version == KPORT_API_VERSION);
	fd = kt_create(r->name, 0, 4, MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
	if (fd < 0)
		return fd;
	KT_CHILD_ASSERT(kt_stat(fd, &st) == 0);
	KT_CHILD_ASSERT(st.uid == NOBODY && st.gid == NOBODY);
	KT_CHILD_ASSERT(kt_send(fd, "hi", 2, 0, KPORT_MSG_NONBLOCK, 0) == 0);
	KT_CHILD_ASSERT(kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
				NULL) == 2);
	close(fd);
	fd = kt_open(r->name, KPORT_RIGHTS_ALL, 0);
	KT_CHILD_ASSERT(fd >= 0);
	close(fd);
	return kt_unlink(r->name);
}

/* Open @name with rights 0 and pass the handle back over @sock. */
static int do_open_and_pass(void *arg)
{
	struct req *r = arg;
	int fd = kt_open(r->name, 0, 0);

	if (fd < 0)
		return fd;
	KT_CHILD_ASSERT(kt_send_fd(r->sock, fd) == 0);
	close(fd);
	return 0;
}

/* ---- Fixture: one port, named for the test ----------------------------------- */

FIXTURE(perm) {
	char name[KPORT_NAME_MAX];
	int port;		/* root's handle with all rights, if any */
	struct req req;
};

FIXTURE_SETUP(perm)
{
	self->port = -1;
	if (geteuid() != 0)
		SETUP_SKIP("needs root to change user and group ids");
	ASSERT_LE(0, kt_dev());
	kt_name(self->name, _metadata->name);
	self->req.name = self->name;
	self->req.fd = -1;
	self->req.sock = -1;
}

FIXTURE_TEARDOWN(perm)
{
	if (self->port >= 0)
		close(self->port);
	if (self->req.fd >= 0)
		close(self->req.fd);
	kt_unlink(self->name);	/* as root: allowed for any owner */
}

/* A port owned by root (uid 0, gid 0) with @mode; root's handle in self. */
static void root_port(struct __test_metadata *_metadata,
		      FIXTURE_DATA(perm) *self, uint32_t mode)
{
	self->port = kt_create(self->name, 0, 4, MSG_SIZE, mode,
			       KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->port);
	self->req.mode = mode;
}

/* A kernel-owned port created by OWNER_UID:OWNER_GID with @mode. */
static void owner_port(struct __test_metadata *_metadata,
		       FIXTURE_DATA(perm) *self, uint32_t mode)
{
	struct kport_stat st;

	self->req.mode = mode;
	ASSERT_EQ(0, as_user(&owner, do_create, &self->req));
	self->port = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, self->port);
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ((uint32_t)OWNER_UID, st.uid);
	ASSERT_EQ((uint32_t)OWNER_GID, st.gid);
	ASSERT_EQ(mode, st.mode);
}

/* @rights opened by @id: the expected result for each of SEND, RECV, both. */
static void assert_open_results(struct __test_metadata *_metadata,
				FIXTURE_DATA(perm) *self, const struct ids *id,
				int send, int recv)
{
	self->req.rights = KPORT_RIGHT_SEND;
	ASSERT_EQ(send, as_user(id, do_open, &self->req));
	self->req.rights = KPORT_RIGHT_RECV;
	ASSERT_EQ(recv, as_user(id, do_open, &self->req));
	self->req.rights = KPORT_RIGHTS_ALL;
	ASSERT_EQ(send ? send : recv, as_user(id, do_open, &self->req));
}

static void assert_port_alive(struct __test_metadata *_metadata,
			      FIXTURE_DATA(perm) *self)
{
	struct kport_stat st;
	int fd;

	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(0U, st.status);
	fd = kt_open(self->name, 0, 0);
	ASSERT_LE(0, fd);
	close(fd);
}

/* ---- The device ------------------------------------------------------------------- */

TEST_F(perm, unprivileged_user_can_use_dev_kport_and_create_its_own_ports)
{
	ASSERT_EQ(0, as_user(&nobody, do_use_device, &self->req));
	ASSERT_EQ(-ENOENT, kt_open(self->name, 0, 0));
}

/* ---- Mode checks at open --------------------------------------------------------- */

TEST_F(perm, other_user_cannot_open_a_0600_port_to_send_or_receive)
{
	struct kport_stat st;

	root_port(_metadata, self, 0600);
	assert_open_results(_metadata, self, &nobody, -EACCES, -EACCES);
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(1U, st.handles);
}

TEST_F(perm, other_user_cannot_open_a_0600_port_even_with_rights_0)
{
	struct kport_stat st;

	root_port(_metadata, self, 0600);
	ASSERT_EQ(-EACCES, as_user(&nobody, do_open_and_stat, &self->req));
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(1U, st.handles);
}

TEST_F(perm, other_user_may_open_with_rights_0_when_granted_read_or_write)
{
	root_port(_metadata, self, 0604);
	ASSERT_EQ(0, as_user(&nobody, do_open_and_stat, &self->req));
	ASSERT_EQ(0, kt_unlink(self->name));
	close(self->port);
	root_port(_metadata, self, 0602);
	ASSERT_EQ(0, as_user(&nobody, do_open_and_stat, &self->req));
}

TEST_F(perm, owner_may_open_its_mode_0_port_with_rights_0_but_others_not)
{
	owner_port(_metadata, self, 0);
	ASSERT_EQ(0, as_user(&owner, do_open_and_stat, &self->req));
	ASSERT_EQ(-EACCES, as_user(&nobody, do_open_and_stat, &self->req));
}

TEST_F(perm, mode_0622_lets_others_send_but_not_receive)
{
	struct kport_msg out;
	char buf[MSG_SIZE];

	root_port(_metadata, self, 0622);
	assert_open_results(_metadata, self, &nobody, 0, -EACCES);
	ASSERT_EQ(0, as_user(&nobody, do_open_and_send, &self->req));
	ASSERT_EQ(5, kt_recv(self->port, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
			     &out));
	ASSERT_EQ((uint32_t)NOBODY, out.uid);
}

TEST_F(perm, mode_0644_lets_others_receive_but_not_send)
{
	root_port(_metadata, self, 0644);
	assert_open_results(_metadata, self, &nobody, -EACCES, 0);
	ASSERT_EQ(0, kt_send(self->port, "root", 4, 0, 0, 0));
	ASSERT_EQ(0, as_user(&nobody, do_open_and_recv, &self->req));
	ASSERT_EQ(-EAGAIN, kt_recv(self->port, NULL, 0, KPORT_MSG_NONBLOCK,
				   NULL));
}

TEST_F(perm, mode_0666_lets_others_send_and_receive)
{
	root_port(_metadata, self, 0666);
	assert_open_results(_metadata, self, &nobody, 0, 0);
}

TEST_F(perm, group_bits_apply_to_the_ports_effective_group)
{
	owner_port(_metadata, self, 0060);
	assert_open_results(_metadata, self, &member, 0, 0);
}

TEST_F(perm, group_bits_apply_to_supplementary_group_members)
{
	owner_port(_metadata, self, 0060);
	assert_open_results(_metadata, self, &supp_member, 0, 0);
}

TEST_F(perm, group_bits_do_not_apply_to_non_members)
{
	owner_port(_metadata, self, 0060);
	assert_open_results(_metadata, self, &other, -EACCES, -EACCES);
}

TEST_F(perm, group_write_only_grants_send_only)
{
	owner_port(_metadata, self, 0020);
	assert_open_results(_metadata, self, &member, 0, -EACCES);
}

TEST_F(perm, owner_bits_apply_to_the_owner_even_when_others_have_more)
{
	owner_port(_metadata, self, 0066);
	assert_open_results(_metadata, self, &owner, -EACCES, -EACCES);
	assert_open_results(_metadata, self, &member, 0, 0);
	assert_open_results(_metadata, self, &other, 0, 0);
}

TEST_F(perm, owner_read_only_grants_the_owner_receive_only)
{
	owner_port(_metadata, self, 0400);
	assert_open_results(_metadata, self, &owner, -EACCES, 0);
}

TEST_F(perm, group_bits_apply_to_members_even_when_others_have_more)
{
	owner_port(_metadata, self, 0606);
	assert_open_results(_metadata, self, &member, -EACCES, -EACCES);
	assert_open_results(_metadata, self, &other, 0, 0);
}

TEST_F(perm, owner_and_group_are_the_creators_effective_ids)
{
	const struct ids setid = { .uid = OWNER_UID, .gid = OWNER_GID,
				   .ruid = 100, .rgid = 111 };
	struct kport_stat st;

	self->req.mode = 0640;
	ASSERT_EQ(0, as_user(&setid, do_create, &self->req));
	self->port = kt_open(self->name, 0, 0);
	ASSERT_LE(0, self->port);
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ((uint32_t)OWNER_UID, st.uid);
	ASSERT_EQ((uint32_t)OWNER_GID, st.gid);
	/* and the checks use them: the owner opens with its bits (rw-) */
	assert_open_results(_metadata, self, &owner, 0, 0);
}

TEST_F(perm, creator_gets_its_rights_without_a_mode_check)
{
	/* the handle from create works; opening the mode-0 port again is refused */
	self->req.rights = KPORT_RIGHT_SEND;
	ASSERT_EQ(-EACCES, as_user(&owner, do_create_mode_0, &self->req));
	self->req.rights = 0;
	ASSERT_EQ(0, as_user(&owner, do_open, &self->req));
}

TEST_F(perm, root_passes_mode_checks_with_cap_ipc_owner)
{
	struct kport_stat st;
	int fd;

	owner_port(_metadata, self, 0);
	fd = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(KPORT_RIGHTS_ALL, st.rights);
	ASSERT_EQ(0, kt_send(fd, "x", 1, 0, 0, 0));
	close(fd);
}

TEST_F(perm, root_without_cap_ipc_owner_is_refused)
{
	owner_port(_metadata, self, 0600);
	assert_open_results(_metadata, self, &root_no_ipc_owner,
			    -EACCES, -EACCES);
}

TEST_F(perm, unprivileged_user_with_cap_ipc_owner_passes_mode_checks)
{
	owner_port(_metadata, self, 0);
	assert_open_results(_metadata, self, &nobody_ipc_owner, 0, 0);
}

TEST_F(perm, a_refused_open_leaves_no_handle)
{
	struct kport_stat st;

	owner_port(_metadata, self, 0600);
	self->req.rights = KPORT_RIGHTS_ALL;
	ASSERT_EQ(-EACCES, as_user(&other, do_open, &self->req));
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(1U, st.handles);
}

/* ---- Rights of a handle ------------------------------------------------------------ */

TEST_F(perm, recv_only_handle_cannot_send)
{
	struct kport_stat st;
	int fd;

	root_port(_metadata, self, 0600);
	fd = kt_open(self->name, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EBADF, kt_send(fd, "x", 1, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(-1, write(fd, "x", 1));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(0U, st.nr_msgs);
	ASSERT_EQ(0U, st.sent);
	close(fd);
}

TEST_F(perm, send_only_handle_cannot_receive)
{
	struct kport_stat st;
	char buf[MSG_SIZE];
	int fd;

	root_port(_metadata, self, 0600);
	ASSERT_EQ(0, kt_send(self->port, "x", 1, 0, 0, 0));
	fd = kt_open(self->name, KPORT_RIGHT_SEND, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EBADF, kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
				  NULL));
	ASSERT_EQ(-1, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(0U, st.received);
	/* sending is what it may do */
	ASSERT_EQ(0, kt_send(fd, "y", 1, 0, KPORT_MSG_NONBLOCK, 0));
	close(fd);
}

TEST_F(perm, rights_0_handle_can_neither_send_nor_receive_but_can_stat)
{
	struct kport_stat st;
	char buf[MSG_SIZE];
	int fd;

	root_port(_metadata, self, 0600);
	ASSERT_EQ(0, kt_send(self->port, "x", 1, 0, 0, 0));
	fd = kt_open(self->name, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EBADF, kt_send(fd, "x", 1, 0, KPORT_MSG_NONBLOCK, 0));
	ASSERT_EQ(-EBADF, kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
				  NULL));
	ASSERT_EQ(-1, write(fd, "x", 1));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(-1, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(0U, st.rights);
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(1U, st.sent);
	ASSERT_EQ(0U, st.received);
	close(fd);
}

TEST_F(perm, handle_keeps_its_rights_in_an_unprivileged_process)
{
	root_port(_metadata, self, 0600);
	self->req.fd = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, self->req.fd);
	/* nobody could not open it, but may use root's handle */
	ASSERT_EQ(0, as_user(&nobody, do_use_inherited, &self->req));
}

/* ---- Delete and unlink ------------------------------------------------------------ */

TEST_F(perm, other_user_cannot_unlink_and_the_port_survives)
{
	struct kport_stat st;

	root_port(_metadata, self, 0666);
	ASSERT_EQ(0, kt_send(self->port, "x", 1, 0, 0, 0));
	ASSERT_EQ(-EPERM, as_user(&nobody, do_unlink, &self->req));
	assert_port_alive(_metadata, self);
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(1U, st.nr_msgs);
}

TEST_F(perm, other_user_cannot_delete_through_its_handle)
{
	struct kport_stat st;

	root_port(_metadata, self, 0666);
	ASSERT_EQ(0, kt_send(self->port, "x", 1, 0, 0, 0));
	ASSERT_EQ(-EPERM, as_user(&nobody, do_open_and_delete, &self->req));
	assert_port_alive(_metadata, self);
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(1U, st.nr_msgs);
}

TEST_F(perm, group_member_cannot_unlink_or_delete)
{
	owner_port(_metadata, self, 0666);
	ASSERT_EQ(-EPERM, as_user(&member, do_unlink, &self->req));
	ASSERT_EQ(-EPERM, as_user(&member, do_open_and_delete, &self->req));
	assert_port_alive(_metadata, self);
}

TEST_F(perm, owner_can_unlink_its_port)
{
	struct kport_stat st;

	owner_port(_metadata, self, 0600);
	ASSERT_EQ(0, as_user(&owner, do_unlink, &self->req));
	ASSERT_EQ(-ENOENT, kt_open(self->name, 0, 0));
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(KPORT_STATUS_DEAD, st.status);
}

TEST_F(perm, owner_can_delete_through_a_rights_0_handle)
{
	struct kport_stat st;

	/* mode 0: the owner may not open it with rights, yet may delete */
	owner_port(_metadata, self, 0);
	ASSERT_EQ(0, as_user(&owner, do_open_and_delete, &self->req));
	ASSERT_EQ(-ENOENT, kt_open(self->name, 0, 0));
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(KPORT_STATUS_DEAD, st.status);
}

TEST_F(perm, root_can_unlink_a_port_it_does_not_own)
{
	owner_port(_metadata, self, 0600);
	ASSERT_EQ(0, kt_unlink(self->name));
	ASSERT_EQ(-ENOENT, kt_open(self->name, 0, 0));
}

TEST_F(perm, root_without_cap_ipc_owner_cannot_unlink_or_delete)
{
	owner_port(_metadata, self, 0666);
	ASSERT_EQ(-EPERM, as_user(&root_no_ipc_owner, do_unlink, &self->req));
	ASSERT_EQ(-EPERM, as_user(&root_no_ipc_owner, do_open_and_delete,
				  &self->req));
	assert_port_alive(_metadata, self);
}

TEST_F(perm, delete_through_a_handle_uses_the_openers_credentials)
{
	struct kport_stat st;

	/* root opens; an unprivileged process deletes with root's handle */
	owner_port(_metadata, self, 0600);
	self->req.fd = kt_open(self->name, 0, 0);
	ASSERT_LE(0, self->req.fd);
	ASSERT_EQ(0, as_user(&other, do_delete_inherited, &self->req));
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(KPORT_STATUS_DEAD, st.status);
}

TEST_F(perm, root_cannot_delete_through_a_handle_opened_by_another_user)
{
	int sv[2], fd;

	/* other may open it (rights 0 needs read or write), not delete it */
	owner_port(_metadata, self, 0604);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	self->req.sock = sv[1];
	ASSERT_EQ(0, as_user(&other, do_open_and_pass, &self->req));
	fd = kt_recv_fd(sv[0]);
	close(sv[0]);
	close(sv[1]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EPERM, kt_delete(fd));
	close(fd);
	assert_port_alive(_metadata, self);
}

TEST_HARNESS_MAIN
