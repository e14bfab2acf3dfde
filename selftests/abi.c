// SPDX-License-Identifier: GPL-2.0
/*
 * kport selftest: the edges of the ABI (uapi/linux/kport.h and the
 * "Argument checking" part of doc/semantics.md).
 *
 * Every struct-carrying ioctl is driven through the same generic checks
 * (fixture "ioc", one variant per ioctl): bad pointers, every unknown flag
 * bit, every reserved word, every kind of size encoded in the command
 * number, the wrong kind of descriptor, the wrong direction.  After each
 * refused call the test checks that nothing changed: the fixture's port
 * still exists and still holds its one message, the name a create would
 * have used does not exist, and no descriptor leaked.
 *
 * Then the per-ioctl argument rules: names, create attributes (the pool's
 * among them), send and receive fields, delete's argument; and what the
 * returned descriptors look like (O_CLOEXEC, O_NONBLOCK, fdinfo,
 * /proc/kport).  The pool's own behaviour is tested in pool.c and
 * zerocopy.c; BORROW and RELEASE go through the generic checks here, on a
 * zero-copy port.
 */
#include "kport_test.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>


/* The published sizes are part of the ABI: pin them here too. */
_Static_assert(sizeof(struct kport_version) == KPORT_VERSION_SIZE_VER0, "version");
_Static_assert(sizeof(struct kport_create) == KPORT_CREATE_SIZE_VER0, "create");
_Static_assert(sizeof(struct kport_open) == KPORT_OPEN_SIZE_VER0, "open");
_Static_assert(sizeof(struct kport_unlink) == KPORT_UNLINK_SIZE_VER0, "unlink");
_Static_assert(sizeof(struct kport_msg) == KPORT_MSG_SIZE_VER0, "msg");
_Static_assert(sizeof(struct kport_stat) == KPORT_STAT_SIZE_VER0, "stat");
_Static_assert(sizeof(struct kport_slice) == KPORT_SLICE_SIZE_VER0, "slice");
/* The words the pool took from __reserved[] did not move anything else. */
_Static_assert(offsetof(struct kport_msg, offset) == 40, "msg offset");
_Static_assert(offsetof(struct kport_msg, __reserved) == 56, "msg reserved");
_Static_assert(offsetof(struct kport_version, max_pool_size) == 32, "version");
_Static_assert(offsetof(struct kport_stat, slices_held) == 176, "stat");

#define ALL_FEATURES	(KPORT_FEAT_RENDEZVOUS | KPORT_FEAT_UNBOUNDED |	\
			 KPORT_FEAT_PRIORITY | KPORT_FEAT_DEADLINE |	\
			 KPORT_FEAT_PROCESS | KPORT_FEAT_INBOX |	\
			 KPORT_FEAT_FROM_PID | KPORT_FEAT_FIXED |	\
			 KPORT_FEAT_POOL | KPORT_FEAT_ZEROCOPY |	\
			 KPORT_FEAT_BATCH | KPORT_FEAT_SENDRECV |	\
			 KPORT_FEAT_SETATTR)

#define PARAM_DIR	"/sys/module/kport/parameters/"

/* The fixture port: capacity 4, messages up to 64 bytes, one queued. */
#define PORT_CAPACITY	4U
#define PORT_MSG_SIZE	64U
static const char kept_msg[] = "kept";	/* 4 bytes, sent at KEPT_PRIO */
#define KEPT_LEN	4U
#define KEPT_PRIO	7U
/* BORROW and RELEASE need a zero-copy port: its pool, and what is borrowed. */
#define PORT_POOL_SIZE	(64U << 10)
#define BORROW_LEN	PORT_MSG_SIZE

/* ---- Small helpers -------------------------------------------------------- */

/* The lowest free descriptor number: a leaked descriptor changes it. */
static int lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* Lines in /proc/kport (one per port, plus any header); -errno. */
static int proc_kport_lines(void)
{
	FILE *f = fopen("/proc/kport", "re");
	int lines = 0, c;

	if (!f)
		return -errno;
	while ((c = fgetc(f)) != EOF)
		if (c == '\n')
			lines++;
	fclose(f);
	return lines;
}

/* Read a whole small file into @buf (NUL-terminated); length or -errno. */
static ssize_t read_text(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

/* A module parameter as a number; -errno if it cannot be read. */
static long long read_param(const char *name)
{
	char path[128], buf[64];
	ssize_t n;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	n = read_text(path, buf, sizeof(buf));
	if (n < 0)
		return n;
	return strtoll(buf, NULL, 0);
}

/* Does @text contain @word as a whole token (not part of a longer one)? */
static int has_token(const char *text, const char *word)
{
	size_t len = strlen(word);
	const char *p = text;

	while ((p = strstr(p, word)) != NULL) {
		int before = p == text || !isalnum((unsigned char)p[-1]);
		int after = !isalnum((unsigned char)p[len]);

		if (before && after)
			return 1;
		p++;
	}
	return 0;
}

static struct kport_version query_version(struct __test_metadata *_metadata)
{
	struct kport_version v;

	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, kt_ioctl(kt_dev(), KPORT_IOC_VERSION, &v));
	return v;
}

/* A valid create of a named (or, with "", anonymous) port. */
static void valid_create(struct kport_create *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	if (name)
		memcpy(c->name, name, strnlen(name, KPORT_NAME_MAX - 1));
	c->mode = 0600;
	c->capacity = PORT_CAPACITY;
	c->msg_size = PORT_MSG_SIZE;
	c->rights = KPORT_RIGHTS_ALL;
}

/* ---- Every struct-carrying ioctl through the same checks ----------------- */

enum which { IOC_VERSION, IOC_CREATE, IOC_OPEN, IOC_UNLINK,
	     IOC_SEND, IOC_RECV, IOC_STAT, IOC_BORROW, IOC_RELEASE,
	     IOC_SENDV, IOC_RECVV, IOC_SENDRECV, IOC_SETATTR };

struct ioc_desc {
	unsigned int dir;	/* _IOC_READ / _IOC_WRITE as published */
	unsigned int nr;
	size_t ver0;		/* KPORT_*_SIZE_VER0 */
	int on_port;		/* a port ioctl (else a /dev/kport one) */
	size_t reserved_off;	/* offset of __reserved[] */
	unsigned int nr_reserved;
	size_t reserved32_off;	/* offset of __reserved32, 0 if none */
	uint64_t known_flags;	/* flags valid for this ioctl */
	int pool;		/* needs the fixture's port to be zero-copy */
};

static const struct ioc_desc descs[] = {
	[IOC_VERSION] = { _IOC_READ | _IOC_WRITE, 0x00, KPORT_VERSION_SIZE_VER0, 0,
			  offsetof(struct kport_version, __reserved), 2,
			  offsetof(struct kport_version, __reserved32), 0, 0 },
	[IOC_CREATE] = { _IOC_WRITE, 0x01, KPORT_CREATE_SIZE_VER0, 0,
			 offsetof(struct kport_create, __reserved), 4, 0,
			 KPORT_CREATE_FLAGS, 0 },
	[IOC_OPEN] = { _IOC_WRITE, 0x02, KPORT_OPEN_SIZE_VER0, 0,
		       offsetof(struct kport_open, __reserved), 3, 0,
		       KPORT_OPEN_FLAGS, 0 },
	[IOC_UNLINK] = { _IOC_WRITE, 0x03, KPORT_UNLINK_SIZE_VER0, 0,
			 offsetof(struct kport_unlink, __reserved), 2, 0, 0, 0 },
	/*
	 * KPORT_MSG_FROM_PID and KPORT_MSG_INPLACE are for receive only:
	 * unknown to send.  KPORT_MSG_POST is for send only.  (POST is
	 * "known" to send but needs a borrowed slice: zerocopy.c tests it.)
	 */
	[IOC_SEND] = { _IOC_WRITE, 0x10, KPORT_MSG_SIZE_VER0, 1,
		       offsetof(struct kport_msg, __reserved), 1,
		       offsetof(struct kport_msg, __reserved32),
		       KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE | KPORT_MSG_POST,
		       0 },
	[IOC_RECV] = { _IOC_READ | _IOC_WRITE, 0x11, KPORT_MSG_SIZE_VER0, 1,
		       offsetof(struct kport_msg, __reserved), 1,
		       offsetof(struct kport_msg, __reserved32),
		       KPORT_MSG_FLAGS & ~KPORT_MSG_POST, 0 },
	[IOC_STAT] = { _IOC_READ | _IOC_WRITE, 0x12, KPORT_STAT_SIZE_VER0, 1,
		       offsetof(struct kport_stat, __reserved), 3, 0, 0, 0 },
	[IOC_BORROW] = { _IOC_READ | _IOC_WRITE, 0x14, KPORT_SLICE_SIZE_VER0, 1,
			 offsetof(struct kport_slice, __reserved), 4, 0,
			 KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE, 1 },
	[IOC_RELEASE] = { _IOC_WRITE, 0x15, KPORT_SLICE_SIZE_VER0, 1,
			  offsetof(struct kport_slice, __reserved), 4, 0, 0, 1 },
	/*
	 * Batches: the flags of the batch itself (its elements' are
	 * batch.c's).  SENDRECV: its own flags (none yet); those of the
	 * two messages inside it are sendrecv.c's.
	 */
	[IOC_SENDV] = { _IOC_WRITE, 0x16, KPORT_BATCH_SIZE_VER0, 1,
			offsetof(struct kport_batch, __reserved), 4, 0,
			KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE, 0 },
	[IOC_RECVV] = { _IOC_WRITE, 0x17, KPORT_BATCH_SIZE_VER0, 1,
			offsetof(struct kport_batch, __reserved), 4, 0,
			KPORT_MSG_NONBLOCK | KPORT_MSG_DEADLINE, 0 },
	[IOC_SENDRECV] = { _IOC_READ | _IOC_WRITE, 0x18,
			   KPORT_SENDRECV_SIZE_VER0, 1,
			   offsetof(struct kport_sendrecv, __reserved), 2, 0,
			   0, 0 },
	[IOC_SETATTR] = { _IOC_WRITE, 0x19, KPORT_SETATTR_SIZE_VER0, 1,
			  offsetof(struct kport_setattr, __reserved), 5,
			  offsetof(struct kport_setattr, __reserved32),
			  KPORT_SETATTR_FLAGS, 0 },
};

/* The published command numbers are what _IOC() builds from the table. */
_Static_assert(KPORT_IOC_VERSION == _IOC(_IOC_READ | _IOC_WRITE, KPORT_IOC_MAGIC, 0x00,
					 KPORT_VERSION_SIZE_VER0), "VERSION");
_Static_assert(KPORT_IOC_CREATE == _IOC(_IOC_WRITE, KPORT_IOC_MAGIC, 0x01,
					KPORT_CREATE_SIZE_VER0), "CREATE");
_Static_assert(KPORT_IOC_RECV == _IOC(_IOC_READ | _IOC_WRITE, KPORT_IOC_MAGIC, 0x11,
				      KPORT_MSG_SIZE_VER0), "RECV");
_Static_assert(KPORT_IOC_BORROW == _IOC(_IOC_READ | _IOC_WRITE, KPORT_IOC_MAGIC, 0x14,
					KPORT_SLICE_SIZE_VER0), "BORROW");
_Static_assert(KPORT_IOC_RELEASE == _IOC(_IOC_WRITE, KPORT_IOC_MAGIC, 0x15,
					 KPORT_SLICE_SIZE_VER0), "RELEASE");
_Static_assert(KPORT_IOC_SENDV == _IOC(_IOC_WRITE, KPORT_IOC_MAGIC, 0x16,
				       KPORT_BATCH_SIZE_VER0), "SENDV");
_Static_assert(KPORT_IOC_RECVV == _IOC(_IOC_WRITE, KPORT_IOC_MAGIC, 0x17,
				       KPORT_BATCH_SIZE_VER0), "RECVV");
_Static_assert(KPORT_IOC_SENDRECV == _IOC(_IOC_READ | _IOC_WRITE, KPORT_IOC_MAGIC,
					  0x18, KPORT_SENDRECV_SIZE_VER0),
	       "SENDRECV");
_Static_assert(KPORT_IOC_SETATTR == _IOC(_IOC_WRITE, KPORT_IOC_MAGIC, 0x19,
					 KPORT_SETATTR_SIZE_VER0), "SETATTR");

static unsigned long ioc_cmd(const struct ioc_desc *d, size_t size)
{
	return _IOC(d->dir, KPORT_IOC_MAGIC, d->nr, size);
}

FIXTURE(ioc) {
	char name[KPORT_NAME_MAX];	/* the fixture's port */
	char new_name[KPORT_NAME_MAX];	/* what CREATE's argument names */
	int port;			/* all rights; one message queued */
	uint64_t borrowed;		/* RELEASE: the slice setup borrowed */
	int fd;				/* where this variant's ioctl goes */
	char *map;			/* pages 0-1 RW, 2 none, 3 read-only */
	size_t page;
	char rbuf[PORT_MSG_SIZE];	/* RECV's payload buffer */
	struct kport_msg elems[2];	/* SENDV's and RECVV's elements */
	struct kport_stat before;
	int free_fd;
};

FIXTURE_VARIANT(ioc) {
	enum which which;
};

FIXTURE_VARIANT_ADD(ioc, version) { .which = IOC_VERSION };
FIXTURE_VARIANT_ADD(ioc, create) { .which = IOC_CREATE };
FIXTURE_VARIANT_ADD(ioc, open) { .which = IOC_OPEN };
FIXTURE_VARIANT_ADD(ioc, unlink) { .which = IOC_UNLINK };
FIXTURE_VARIANT_ADD(ioc, send) { .which = IOC_SEND };
FIXTURE_VARIANT_ADD(ioc, recv) { .which = IOC_RECV };
FIXTURE_VARIANT_ADD(ioc, stat) { .which = IOC_STAT };
FIXTURE_VARIANT_ADD(ioc, borrow) { .which = IOC_BORROW };
FIXTURE_VARIANT_ADD(ioc, release) { .which = IOC_RELEASE };
FIXTURE_VARIANT_ADD(ioc, sendv) { .which = IOC_SENDV };
FIXTURE_VARIANT_ADD(ioc, recvv) { .which = IOC_RECVV };
FIXTURE_VARIANT_ADD(ioc, sendrecv) { .which = IOC_SENDRECV };
FIXTURE_VARIANT_ADD(ioc, setattr) { .which = IOC_SETATTR };

FIXTURE_SETUP(ioc)
{
	self->port = -1;
	kt_name(self->name, "ioc");
	snprintf(self->new_name, sizeof(self->new_name), "kt.ioc-new.%d",
		 (int)getpid());
	self->page = (size_t)getpagesize();
	self->map = mmap(NULL, 4 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_EQ(0, mprotect(self->map + 2 * self->page, self->page, PROT_NONE));

	ASSERT_LE(0, kt_dev());
	if (descs[variant->which].pool) {
		struct kport_create c;

		valid_create(&c, self->name);
		c.flags = KPORT_CREATE_ZEROCOPY;
		c.pool_size = PORT_POOL_SIZE;
		self->port = kt_create_raw(&c);
	} else {
		self->port = kt_create(self->name, 0, PORT_CAPACITY,
				       PORT_MSG_SIZE, 0600, KPORT_RIGHTS_ALL);
	}
	ASSERT_LE(0, self->port);
	ASSERT_EQ(0, kt_send(self->port, kept_msg, KEPT_LEN, KEPT_PRIO, 0, 0));
	if (variant->which == IOC_RELEASE) {
		struct kport_slice sl;

		memset(&sl, 0, sizeof(sl));
		sl.flags = KPORT_MSG_NONBLOCK;
		sl.len = BORROW_LEN;
		ASSERT_EQ(0, kt_ioctl(self->port, KPORT_IOC_BORROW, &sl));
		self->borrowed = sl.offset;
	}
	ASSERT_EQ(0, kt_stat(self->port, &self->before));
	ASSERT_EQ(1U, self->before.nr_msgs);
	self->fd = descs[variant->which].on_port ? self->port : kt_dev();
	self->free_fd = lowest_free_fd();
}

FIXTURE_TEARDOWN(ioc)
{
	if (self->port >= 0)
		close(self->port);
	kt_unlink(self->name);
	kt_unlink(self->new_name);
	if (self->map && self->map != MAP_FAILED)
		munmap(self->map, 4 * self->page);
}

/*
 * Write a valid argument for @which into @arg (@size bytes, zeroed past
 * the struct): one that, given to the ioctl as is, succeeds.
 */
static void valid_arg(FIXTURE_DATA(ioc) *self, enum which which, void *arg,
		      size_t size)
{
	memset(arg, 0, size);
	switch (which) {
	case IOC_VERSION:
	case IOC_STAT:
		break;
	case IOC_CREATE:
		valid_create(arg, self->new_name);
		break;
	case IOC_OPEN: {
		struct kport_open *o = arg;

		strcpy(o->name, self->name);
		o->rights = KPORT_RIGHTS_ALL;
		break;
	}
	case IOC_UNLINK: {
		struct kport_unlink *u = arg;

		strcpy(u->name, self->name);
		break;
	}
	case IOC_SEND: {
		struct kport_msg *m = arg;

		m->buf = (uintptr_t)"hello";
		m->len = 5;
		break;
	}
	case IOC_RECV: {
		struct kport_msg *m = arg;

		m->buf = (uintptr_t)self->rbuf;
		m->len = sizeof(self->rbuf);
		break;
	}
	case IOC_BORROW: {
		struct kport_slice *sl = arg;

		sl->len = BORROW_LEN;
		break;
	}
	case IOC_RELEASE: {
		struct kport_slice *sl = arg;

		sl->offset = self->borrowed;
		sl->len = BORROW_LEN;
		break;
	}
	case IOC_SENDV:
	case IOC_RECVV: {
		struct kport_batch *b = arg;
		int i, n = which == IOC_SENDV ? 2 : 1;

		memset(self->elems, 0, sizeof(self->elems));
		for (i = 0; i < n; i++) {
			if (which == IOC_SENDV) {
				self->elems[i].buf = (uintptr_t)"hello";
				self->elems[i].len = 5;
			} else {
				self->elems[i].buf = (uintptr_t)self->rbuf;
				self->elems[i].len = sizeof(self->rbuf);
			}
		}
		b->msgs = (uintptr_t)self->elems;
		b->count = n;
		b->msg_size = sizeof(struct kport_msg);
		break;
	}
	case IOC_SENDRECV: {
		struct kport_sendrecv *sr = arg;

		sr->recv_fd = -1;
		sr->send.buf = (uintptr_t)"hello";
		sr->send.len = 5;
		sr->recv.buf = (uintptr_t)self->rbuf;
		sr->recv.len = sizeof(self->rbuf);
		break;
	}
	case IOC_SETATTR: {
		struct kport_setattr *sa = arg;

		sa->flags = KPORT_SETATTR_MODE;
		sa->mode = 0640;
		break;
	}
	}
}

/* The call with a valid argument was refused: check nothing changed. */
static void assert_unchanged(struct __test_metadata *_metadata,
			     FIXTURE_DATA(ioc) *self)
{
	struct kport_stat st;
	int fd;

	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(0U, st.status);
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(KEPT_LEN, st.bytes);
	ASSERT_EQ(self->before.sent, st.sent);
	ASSERT_EQ(self->before.received, st.received);
	ASSERT_EQ(self->before.handles, st.handles);
	ASSERT_EQ(self->before.pool_used, st.pool_used);
	ASSERT_EQ(self->before.slices_held, st.slices_held);
	ASSERT_EQ(self->before.mode, st.mode);
	ASSERT_EQ(self->before.uid, st.uid);
	ASSERT_EQ(self->before.gid, st.gid);
	ASSERT_EQ(self->free_fd, lowest_free_fd());
	/* still reachable by name; no port created under the new name */
	fd = kt_open(self->name, 0, 0);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(-ENOENT, kt_open(self->new_name, 0, 0));
}

/* The call with a valid argument returned @ret: check it did its job. */
static void assert_done(struct __test_metadata *_metadata,
			FIXTURE_DATA(ioc) *self, enum which which, int ret,
			const void *arg)
{
	struct kport_stat st;

	ASSERT_LE(0, ret);
	switch (which) {
	case IOC_VERSION: {
		const struct kport_version *v = arg;

		ASSERT_EQ((__u32)KPORT_API_VERSION, v->api_version);
		ASSERT_EQ((__u32)KPORT_NAME_MAX, v->name_max);
		break;
	}
	case IOC_CREATE:
		ASSERT_EQ(0, kt_stat(ret, &st));
		ASSERT_STREQ(self->new_name, st.name);
		close(ret);
		ASSERT_EQ(0, kt_unlink(self->new_name));
		break;
	case IOC_OPEN:
		ASSERT_EQ(0, kt_stat(ret, &st));
		ASSERT_EQ(self->before.id, st.id);
		ASSERT_EQ(KPORT_RIGHTS_ALL, st.rights);
		close(ret);
		break;
	case IOC_UNLINK:
		ASSERT_EQ(-ENOENT, kt_open(self->name, 0, 0));
		ASSERT_EQ(0, kt_stat(self->port, &st));
		ASSERT_EQ(KPORT_STATUS_DEAD, st.status);
		break;
	case IOC_SEND:
		ASSERT_EQ(0, kt_stat(self->port, &st));
		ASSERT_EQ(2U, st.nr_msgs);
		break;
	case IOC_RECV: {
		const struct kport_msg *m = arg;

		ASSERT_EQ(KEPT_LEN, m->len);
		ASSERT_EQ(KEPT_PRIO, m->priority);
		ASSERT_EQ(0, memcmp(self->rbuf, kept_msg, KEPT_LEN));
		ASSERT_EQ(0, kt_stat(self->port, &st));
		ASSERT_EQ(0U, st.nr_msgs);
		break;
	}
	case IOC_STAT: {
		const struct kport_stat *s = arg;

		ASSERT_EQ(self->before.id, s->id);
		ASSERT_EQ(1U, s->nr_msgs);
		break;
	}
	case IOC_BORROW: {
		const struct kport_slice *sl = arg;
		struct kport_slice rel;

		ASSERT_EQ(0U, sl->offset % (uint64_t)self->page);
		ASSERT_GT((uint64_t)PORT_POOL_SIZE, sl->offset);
		ASSERT_EQ(0, kt_stat(self->port, &st));
		ASSERT_EQ(self->before.slices_held + 1, st.slices_held);
		ASSERT_EQ(self->before.pool_used + self->page, st.pool_used);
		memset(&rel, 0, sizeof(rel));
		rel.offset = sl->offset;
		rel.len = BORROW_LEN;
		ASSERT_EQ(0, kt_ioctl(self->port, KPORT_IOC_RELEASE, &rel));
		break;
	}
	case IOC_RELEASE:
		ASSERT_EQ(0, kt_stat(self->port, &st));
		ASSERT_EQ(self->before.slices_held - 1, st.slices_held);
		ASSERT_EQ(self->before.pool_used - self->page, st.pool_used);
		ASSERT_EQ(1U, st.nr_msgs);
		break;
	case IOC_SENDV:
		ASSERT_EQ(2, ret);
		ASSERT_EQ(0, kt_stat(self->port, &st));
		ASSERT_EQ(3U, st.nr_msgs);
		break;
	case IOC_RECVV:
		ASSERT_EQ(1, ret);
		ASSERT_EQ(KEPT_LEN, self->elems[0].len);
		ASSERT_EQ(0, memcmp(self->rbuf, kept_msg, KEPT_LEN));
		ASSERT_EQ(0, kt_stat(self->port, &st));
		ASSERT_EQ(0U, st.nr_msgs);
		break;
	case IOC_SENDRECV: {
		const struct kport_sendrecv *sr = arg;

		/* The kept message is first in line: it is the reply. */
		ASSERT_EQ(KPORT_SR_SENT, sr->done);
		ASSERT_EQ(KEPT_LEN, sr->recv.len);
		ASSERT_EQ(0, memcmp(self->rbuf, kept_msg, KEPT_LEN));
		ASSERT_EQ(0, kt_stat(self->port, &st));
		ASSERT_EQ(1U, st.nr_msgs);
		ASSERT_EQ(self->before.sent + 1, st.sent);
		break;
	}
	case IOC_SETATTR:
		ASSERT_EQ(0, kt_stat(self->port, &st));
		ASSERT_EQ(0640U, st.mode);
		ASSERT_EQ(self->before.uid, st.uid);
		ASSERT_EQ(self->before.gid, st.gid);
		break;
	}
}

TEST_F(ioc, published_size_with_valid_argument_succeeds)
{
	const struct ioc_desc *d = &descs[variant->which];
	char *arg = self->map;
	int ret;

	valid_arg(self, variant->which, arg, d->ver0);
	ret = kt_ioctl(self->fd, ioc_cmd(d, d->ver0), arg);
	assert_done(_metadata, self, variant->which, ret, arg);
}

TEST_F(ioc, null_argument_is_efault)
{
	const struct ioc_desc *d = &descs[variant->which];

	ASSERT_EQ(-EFAULT, kt_ioctl(self->fd, ioc_cmd(d, d->ver0), NULL));
	assert_unchanged(_metadata, self);
}

TEST_F(ioc, inaccessible_argument_is_efault)
{
	const struct ioc_desc *d = &descs[variant->which];

	ASSERT_EQ(-EFAULT, kt_ioctl(self->fd, ioc_cmd(d, d->ver0),
				    self->map + 2 * self->page));
	assert_unchanged(_metadata, self);
}

TEST_F(ioc, kernel_address_argument_is_efault)
{
	const struct ioc_desc *d = &descs[variant->which];

	ASSERT_EQ(-EFAULT, kt_ioctl(self->fd, ioc_cmd(d, d->ver0),
				    (void *)(uintptr_t)-8192));
	assert_unchanged(_metadata, self);
}

TEST_F(ioc, argument_running_into_an_inaccessible_page_is_efault)
{
	const struct ioc_desc *d = &descs[variant->which];
	char *arg = self->map + 2 * self->page - (d->ver0 - 8);

	/* all but the last 8 bytes readable; build it where it fits first */
	valid_arg(self, variant->which, self->map, d->ver0);
	memcpy(arg, self->map, d->ver0 - 8);
	ASSERT_EQ(-EFAULT, kt_ioctl(self->fd, ioc_cmd(d, d->ver0), arg));
	assert_unchanged(_metadata, self);
}

TEST_F(ioc, size_below_the_first_published_one_is_einval)
{
	const struct ioc_desc *d = &descs[variant->which];
	const size_t sizes[] = { 0, 8, d->ver0 - 8, d->ver0 - 1 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		valid_arg(self, variant->which, self->map, d->ver0);
		ASSERT_EQ(-EINVAL, kt_ioctl(self->fd, ioc_cmd(d, sizes[i]),
					    self->map))
			TH_LOG("size %zu", sizes[i]);
		assert_unchanged(_metadata, self);
	}
}

TEST_F(ioc, larger_size_with_a_nonzero_tail_is_e2big)
{
	const struct ioc_desc *d = &descs[variant->which];
	const size_t sizes[] = { d->ver0 + 1, d->ver0 + 8, d->ver0 + 256 };
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		/* a non-zero byte at the start, then at the end, of the tail */
		const size_t pos[] = { d->ver0, sizes[i] - 1 };

		for (j = 0; j < ARRAY_SIZE(pos); j++) {
			valid_arg(self, variant->which, self->map, sizes[i]);
			self->map[pos[j]] = 1;
			ASSERT_EQ(-E2BIG, kt_ioctl(self->fd,
						   ioc_cmd(d, sizes[i]),
						   self->map))
				TH_LOG("size %zu, byte %zu", sizes[i], pos[j]);
			assert_unchanged(_metadata, self);
		}
	}
}

TEST_F(ioc, larger_size_with_a_zero_tail_is_accepted)
{
	const struct ioc_desc *d = &descs[variant->which];
	size_t size = d->ver0 + 8;
	char *arg = self->map;
	size_t i;
	int ret;

	valid_arg(self, variant->which, arg, size);
	ret = kt_ioctl(self->fd, ioc_cmd(d, size), arg);
	assert_done(_metadata, self, variant->which, ret, arg);
	/* the kernel wrote nothing it does not know into the tail */
	for (i = d->ver0; i < size; i++) {
		ASSERT_EQ(0, arg[i]);
	}
}

TEST_F(ioc, page_sized_argument_with_a_zero_tail_is_accepted)
{
	const struct ioc_desc *d = &descs[variant->which];
	char *arg = self->map;
	int ret;

	valid_arg(self, variant->which, arg, self->page);
	ret = kt_ioctl(self->fd, ioc_cmd(d, self->page), arg);
	assert_done(_metadata, self, variant->which, ret, arg);
}

TEST_F(ioc, argument_larger_than_a_page_is_e2big)
{
	const struct ioc_desc *d = &descs[variant->which];
	const size_t sizes[] = { self->page + 8, 2 * self->page };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		valid_arg(self, variant->which, self->map, sizes[i]);
		ASSERT_EQ(-E2BIG, kt_ioctl(self->fd, ioc_cmd(d, sizes[i]),
					   self->map))
			TH_LOG("size %zu", sizes[i]);
		assert_unchanged(_metadata, self);
	}
}

TEST_F(ioc, each_unknown_flag_bit_is_einval)
{
	const struct ioc_desc *d = &descs[variant->which];
	uint64_t *flags = (uint64_t *)self->map;	/* flags come first */
	unsigned int bit;

	for (bit = 0; bit < 64; bit++) {
		if (d->known_flags & (1ULL << bit))
			continue;
		valid_arg(self, variant->which, self->map, d->ver0);
		*flags = 1ULL << bit;
		ASSERT_EQ(-EINVAL, kt_ioctl(self->fd, ioc_cmd(d, d->ver0),
					    self->map))
			TH_LOG("flag bit %u", bit);
		assert_unchanged(_metadata, self);
	}
}

TEST_F(ioc, each_nonzero_reserved_word_is_einval)
{
	const struct ioc_desc *d = &descs[variant->which];
	const uint64_t values[] = { 1, 1ULL << 63 };
	const uint32_t values32[] = { 1, 1U << 31 };
	unsigned int i, v;

	for (v = 0; d->reserved32_off && v < ARRAY_SIZE(values32); v++) {
		valid_arg(self, variant->which, self->map, d->ver0);
		memcpy(self->map + d->reserved32_off, &values32[v], 4);
		ASSERT_EQ(-EINVAL, kt_ioctl(self->fd, ioc_cmd(d, d->ver0),
					    self->map))
			TH_LOG("__reserved32 = %#x", values32[v]);
		assert_unchanged(_metadata, self);
	}
	for (i = 0; i < d->nr_reserved; i++) {
		for (v = 0; v < ARRAY_SIZE(values); v++) {
			valid_arg(self, variant->which, self->map, d->ver0);
			memcpy(self->map + d->reserved_off + 8 * i, &values[v], 8);
			ASSERT_EQ(-EINVAL, kt_ioctl(self->fd,
						    ioc_cmd(d, d->ver0),
						    self->map))
				TH_LOG("__reserved[%u] = %#llx", i,
				       (unsigned long long)values[v]);
			assert_unchanged(_metadata, self);
		}
	}
}

TEST_F(ioc, on_the_other_kind_of_kport_descriptor_is_enotty)
{
	const struct ioc_desc *d = &descs[variant->which];
	int other = d->on_port ? kt_dev() : self->port;

	valid_arg(self, variant->which, self->map, d->ver0);
	ASSERT_EQ(-ENOTTY, kt_ioctl(other, ioc_cmd(d, d->ver0), self->map));
	assert_unchanged(_metadata, self);
}

TEST_F(ioc, on_a_pipe_or_dev_null_is_enotty)
{
	const struct ioc_desc *d = &descs[variant->which];
	int p[2], null;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	valid_arg(self, variant->which, self->map, d->ver0);
	EXPECT_EQ(-ENOTTY, kt_ioctl(p[0], ioc_cmd(d, d->ver0), self->map));
	EXPECT_EQ(-ENOTTY, kt_ioctl(p[1], ioc_cmd(d, d->ver0), self->map));
	EXPECT_EQ(-ENOTTY, kt_ioctl(null, ioc_cmd(d, d->ver0), self->map));
	close(p[0]);
	close(p[1]);
	close(null);
	self->free_fd = lowest_free_fd();
	assert_unchanged(_metadata, self);
}

TEST_F(ioc, command_with_another_direction_is_enotty)
{
	const struct ioc_desc *d = &descs[variant->which];
	const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
				      _IOC_READ | _IOC_WRITE };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (dirs[i] == d->dir)
			continue;
		valid_arg(self, variant->which, self->map, d->ver0);
		ASSERT_EQ(-ENOTTY,
			  kt_ioctl(self->fd,
				   _IOC(dirs[i], KPORT_IOC_MAGIC, d->nr, d->ver0),
				   self->map))
			TH_LOG("direction %u", dirs[i]);
		assert_unchanged(_metadata, self);
	}
}

TEST_F(ioc, argument_in_read_only_memory_is_efault_when_written_back)
{
	const struct ioc_desc *d = &descs[variant->which];
	char *ro = self->map + 3 * self->page;
	int ret;

	valid_arg(self, variant->which, ro, d->ver0);
	ASSERT_EQ(0, mprotect(ro, self->page, PROT_READ));
	ret = kt_ioctl(self->fd, ioc_cmd(d, d->ver0), ro);
	if (!(d->dir & _IOC_READ)) {
		/* the kernel only reads an _IOW argument */
		assert_done(_metadata, self, variant->which, ret, ro);
		return;
	}
	ASSERT_EQ(-EFAULT, ret);
	/* for RECV: the message was not lost */
	assert_unchanged(_metadata, self);
}

/* ---- Commands that are not kport's ---------------------------------------- */

FIXTURE(cmds) {
	char name[KPORT_NAME_MAX];
	int port;
	char arg[8192];
};

FIXTURE_SETUP(cmds)
{
	kt_name(self->name, _metadata->name);
	self->port = kt_create(self->name, 0, PORT_CAPACITY, PORT_MSG_SIZE,
			       0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->port);
	ASSERT_EQ(0, kt_send(self->port, kept_msg, KEPT_LEN, KEPT_PRIO, 0, 0));
}

FIXTURE_TEARDOWN(cmds)
{
	if (self->port >= 0)
		close(self->port);
	kt_unlink(self->name);
}

static void assert_port_intact(struct __test_metadata *_metadata, int port)
{
	struct kport_stat st;

	ASSERT_EQ(0, kt_stat(port, &st));
	ASSERT_EQ(0U, st.status);
	ASSERT_EQ(1U, st.nr_msgs);
}

TEST_F(cmds, unknown_command_numbers_are_enotty_on_both_descriptors)
{
	/*
	 * 0x10..0x18 are the port commands (batch.c, sendrecv.c, pool.c,
	 * zerocopy.c).
	 */
	const unsigned int nrs[] = { 0x04, 0x05, 0x0f, 0x1a, 0x1b, 0x1f,
				     0x20, 0x40, 0x80, 0xff };
	const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
				      _IOC_READ | _IOC_WRITE };
	const int fds[] = { kt_dev(), self->port };
	unsigned int i, j, k;

	for (k = 0; k < ARRAY_SIZE(fds); k++)
		for (i = 0; i < ARRAY_SIZE(nrs); i++)
			for (j = 0; j < ARRAY_SIZE(dirs); j++) {
				size_t size = dirs[j] == _IOC_NONE ? 0 : 64;

				memset(self->arg, 0, sizeof(self->arg));
				ASSERT_EQ(-ENOTTY,
					  kt_ioctl(fds[k],
						   _IOC(dirs[j], KPORT_IOC_MAGIC,
							nrs[i], size),
						   self->arg))
					TH_LOG("fd %d nr %#x dir %u", fds[k],
					       nrs[i], dirs[j]);
			}
	assert_port_intact(_metadata, self->port);
}

TEST_F(cmds, kport_numbers_under_another_magic_are_enotty)
{
	const unsigned int magics[] = { 0x00, 'a', KPORT_IOC_MAGIC - 1,
					KPORT_IOC_MAGIC + 1, 0xff };
	const int fds[] = { kt_dev(), self->port };
	unsigned int i, k;

	memset(self->arg, 0, sizeof(self->arg));
	for (k = 0; k < ARRAY_SIZE(fds); k++) {
		for (i = 0; i < ARRAY_SIZE(magics); i++) {
			ASSERT_EQ(-ENOTTY,
				  kt_ioctl(fds[k],
					   _IOC(_IOC_READ | _IOC_WRITE, magics[i],
						0x12, KPORT_STAT_SIZE_VER0),
					   self->arg));
			ASSERT_EQ(-ENOTTY,
				  kt_ioctl(fds[k],
					   _IOC(_IOC_NONE, magics[i], 0x13, 0),
					   NULL));
		}
		/* a terminal ioctl */
		ASSERT_EQ(-ENOTTY, kt_ioctl(fds[k], TCGETS, self->arg));
	}
	assert_port_intact(_metadata, self->port);
}

TEST_F(cmds, delete_with_a_nonzero_argument_is_einval_and_keeps_the_port)
{
	const unsigned long args[] = { 1, 0x1000, (unsigned long)self->arg,
				       ~0UL };
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(args); i++) {
		ASSERT_EQ(-1, ioctl(self->port, KPORT_IOC_DELETE, args[i]));
		ASSERT_EQ(EINVAL, errno);
		assert_port_intact(_metadata, self->port);
	}
	fd = kt_open(self->name, 0, 0);
	ASSERT_LE(0, fd);
	close(fd);
}

/* The right each port command needs; BORROW's is checked on any port. */
static const struct {
	unsigned long cmd;
	uint32_t right;
} needs_right[] = {
	{ KPORT_IOC_SEND, KPORT_RIGHT_SEND },
	{ KPORT_IOC_SENDV, KPORT_RIGHT_SEND },
	{ KPORT_IOC_SENDRECV, KPORT_RIGHT_SEND },
	{ KPORT_IOC_BORROW, KPORT_RIGHT_SEND },
	{ KPORT_IOC_RECV, KPORT_RIGHT_RECV },
	{ KPORT_IOC_RECVV, KPORT_RIGHT_RECV },
};

/*
 * doc/semantics.md, "Argument checking": the right comes before the
 * struct, so a handle without it learns nothing from how the kernel reads
 * its argument: no EFAULT, EINVAL or E2BIG, only EBADF.
 */
TEST_F(cmds, a_handle_without_the_right_gets_ebadf_before_its_struct_is_read)
{
	unsigned int i, r;

	memset(self->arg, 0xff, sizeof(self->arg));
	for (i = 0; i < ARRAY_SIZE(needs_right); i++) {
		unsigned long cmd = needs_right[i].cmd;
		unsigned long small = _IOC(_IOC_DIR(cmd), KPORT_IOC_MAGIC,
					   _IOC_NR(cmd), 8);
		unsigned long huge = _IOC(_IOC_DIR(cmd), KPORT_IOC_MAGIC,
					  _IOC_NR(cmd), 4096 + 64);
		const uint32_t others[] = {
			KPORT_RIGHTS_ALL & ~needs_right[i].right, 0,
		};

		for (r = 0; r < ARRAY_SIZE(others); r++) {
			int fd = kt_open(self->name, others[r], 0);

			ASSERT_LE(0, fd) TH_LOG("rights %u", others[r]);
			EXPECT_EQ(-EBADF, kt_ioctl(fd, cmd, NULL))
				TH_LOG("cmd %#lx, rights %u: NULL", cmd, others[r]);
			EXPECT_EQ(-EBADF, kt_ioctl(fd, small, self->arg))
				TH_LOG("cmd %#lx, rights %u: size 8", cmd, others[r]);
			EXPECT_EQ(-EBADF, kt_ioctl(fd, huge, self->arg))
				TH_LOG("cmd %#lx, rights %u: over a page", cmd, others[r]);
			close(fd);
		}
	}
	assert_port_intact(_metadata, self->port);
}

/*
 * On a port without a pool, BORROW and RELEASE still go through the one
 * order of checks: the struct is read (and its size checked) before the
 * handler says the port has no pool, and what the struct holds is not
 * looked at, since no pool means nothing in it can be right.
 */
TEST_F(cmds, borrow_and_release_without_a_pool_read_their_struct_then_eopnotsupp)
{
	const unsigned long cmds[] = { KPORT_IOC_BORROW, KPORT_IOC_RELEASE };
	struct kport_slice s;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		unsigned long small = _IOC(_IOC_DIR(cmds[i]), KPORT_IOC_MAGIC,
					   _IOC_NR(cmds[i]), 8);

		EXPECT_EQ(-EFAULT, kt_ioctl(self->port, cmds[i], NULL))
			TH_LOG("cmd %#lx: NULL", cmds[i]);
		memset(&s, 0, sizeof(s));
		EXPECT_EQ(-EINVAL, kt_ioctl(self->port, small, &s))
			TH_LOG("cmd %#lx: size 8", cmds[i]);
		s.len = 1;
		EXPECT_EQ(-EOPNOTSUPP, kt_ioctl(self->port, cmds[i], &s))
			TH_LOG("cmd %#lx: a good struct", cmds[i]);
		memset(&s, 0xff, sizeof(s));
		EXPECT_EQ(-EOPNOTSUPP, kt_ioctl(self->port, cmds[i], &s))
			TH_LOG("cmd %#lx: every field set", cmds[i]);
	}
	assert_port_intact(_metadata, self->port);
}

TEST_F(cmds, delete_with_a_size_in_the_command_is_enotty_and_keeps_the_port)
{
	const unsigned int sizes[] = { 1, 8, 64, 4096 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		EXPECT_EQ(-ENOTTY, kt_ioctl(self->port,
					    _IOC(_IOC_NONE, KPORT_IOC_MAGIC,
						 _IOC_NR(KPORT_IOC_DELETE), sizes[i]),
					    NULL)) TH_LOG("size %u", sizes[i]);
		assert_port_intact(_metadata, self->port);
	}
}

TEST_F(cmds, delete_on_dev_kport_is_enotty)
{
	ASSERT_EQ(-ENOTTY, kt_ioctl(kt_dev(), KPORT_IOC_DELETE, NULL));
	assert_port_intact(_metadata, self->port);
}

TEST_F(cmds, delete_on_a_pipe_or_dev_null_is_enotty)
{
	int p[2], null;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	EXPECT_EQ(-ENOTTY, kt_ioctl(p[0], KPORT_IOC_DELETE, NULL));
	EXPECT_EQ(-ENOTTY, kt_ioctl(null, KPORT_IOC_DELETE, NULL));
	close(p[0]);
	close(p[1]);
	close(null);
	assert_port_intact(_metadata, self->port);
}

TEST_F(cmds, delete_with_zero_argument_deletes_and_a_second_one_is_eidrm)
{
	struct kport_stat st;

	ASSERT_EQ(0, kt_delete(self->port));
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(KPORT_STATUS_DEAD, st.status);
	ASSERT_EQ(-ENOENT, kt_open(self->name, 0, 0));
	ASSERT_EQ(-EIDRM, kt_delete(self->port));
}

/* ---- KPORT_IOC_VERSION ------------------------------------------------------ */

TEST(version_reports_api_version_1_and_name_max_64)
{
	struct kport_version v = query_version(_metadata);
	unsigned int i;

	ASSERT_EQ(1, KPORT_API_VERSION);
	ASSERT_EQ(1U, v.api_version);
	ASSERT_EQ(64U, v.name_max);
	ASSERT_EQ(0U, v.flags);
	ASSERT_EQ(0U, v.__reserved32);
	for (i = 0; i < ARRAY_SIZE(v.__reserved); i++) {
		ASSERT_EQ(0U, v.__reserved[i]);
	}
}

TEST(version_reports_every_documented_feature_and_no_other)
{
	struct kport_version v = query_version(_metadata);

	ASSERT_EQ(ALL_FEATURES, v.features);
}

TEST(version_reports_the_current_message_size_and_capacity_limits)
{
	struct kport_version v = query_version(_metadata);

	ASSERT_EQ(read_param("max_msg_size"), (long long)v.max_msg_size);
	ASSERT_EQ(read_param("max_capacity"), (long long)v.max_capacity);
	ASSERT_LT(0U, v.max_msg_size);
	ASSERT_LE(v.max_msg_size, 64U << 20);
}

TEST(version_reports_the_current_pool_size_limit_and_threshold)
{
	struct kport_version v = query_version(_metadata);

	ASSERT_EQ(read_param("max_pool_size"), (long long)v.max_pool_size);
	ASSERT_EQ(read_param("pool_threshold"), (long long)v.pool_threshold);
	ASSERT_LT(0U, v.max_pool_size);
	ASSERT_LE(v.max_pool_size, 1ULL << 30);
}

TEST(version_overwrites_garbage_in_its_output_fields)
{
	struct kport_version v;

	memset(&v, 0, sizeof(v));
	v.features = ~0ULL;
	v.api_version = 0xdead;
	v.name_max = 0xbeef;
	v.max_msg_size = 0;
	v.max_capacity = 0;
	v.max_pool_size = ~0ULL;
	v.pool_threshold = 0xdeadbeef;
	ASSERT_EQ(0, kt_ioctl(kt_dev(), KPORT_IOC_VERSION, &v));
	ASSERT_EQ(ALL_FEATURES, v.features);
	ASSERT_EQ(1U, v.api_version);
	ASSERT_EQ(64U, v.name_max);
	ASSERT_EQ(read_param("max_msg_size"), (long long)v.max_msg_size);
	ASSERT_EQ(read_param("max_capacity"), (long long)v.max_capacity);
	ASSERT_EQ(read_param("max_pool_size"), (long long)v.max_pool_size);
	ASSERT_EQ(read_param("pool_threshold"), (long long)v.pool_threshold);
}

/* ---- KPORT_IOC_CREATE: names and attributes -------------------------------- */

FIXTURE(create) {
	char name[KPORT_NAME_MAX];
	struct kport_create c;		/* valid, named self->name */
	int fd;
};

FIXTURE_SETUP(create)
{
	self->fd = -1;
	ASSERT_LE(0, kt_dev());
	kt_name(self->name, _metadata->name);
	valid_create(&self->c, self->name);
}

FIXTURE_TEARDOWN(create)
{
	if (self->fd >= 0)
		close(self->fd);
	kt_unlink(self->name);
}

/* @c must be refused with @err, and leave no port and no descriptor. */
static void assert_create_refused(struct __test_metadata *_metadata,
				  const struct kport_create *c, int err)
{
	int lines = proc_kport_lines();
	int free_fd = lowest_free_fd();

	ASSERT_LE(0, lines);
	ASSERT_EQ(-err, kt_create_raw(c));
	ASSERT_EQ(lines, proc_kport_lines());
	ASSERT_EQ(free_fd, lowest_free_fd());
}

/* @c must be accepted; returns the handle after checking it names @c's port. */
static int assert_create_accepted(struct __test_metadata *_metadata,
				  const struct kport_create *c)
{
	struct kport_stat st;
	int fd = kt_create_raw(c);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(0, memcmp(c->name, st.name, KPORT_NAME_MAX));
	ASSERT_EQ(c->mode, st.mode);
	ASSERT_EQ(c->capacity, st.capacity);
	ASSERT_EQ(c->msg_size, st.msg_size);
	ASSERT_EQ(c->rights, st.rights);
	ASSERT_EQ(c->pool_size, st.pool_size);
	ASSERT_EQ(c->flags & ~KPORT_CREATE_NONBLOCK, st.port_flags);
	ASSERT_EQ(0U, st.pool_used);
	ASSERT_EQ(0U, st.slices_held);
	return fd;
}

TEST_F(create, valid_create_is_accepted_and_the_name_can_be_opened)
{
	int fd;

	self->fd = assert_create_accepted(_metadata, &self->c);
	fd = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, fd);
	close(fd);
}

TEST_F(create, all_zero_name_makes_an_anonymous_port)
{
	memset(self->c.name, 0, sizeof(self->c.name));
	self->fd = assert_create_accepted(_metadata, &self->c);
}

TEST_F(create, name_of_63_characters_is_accepted)
{
	int len;

	/* a unique prefix, padded with 'x' to 63 characters */
	memset(self->c.name, 0, sizeof(self->c.name));
	len = snprintf(self->c.name, KPORT_NAME_MAX, "kt.63.%d.", (int)getpid());
	memset(self->c.name + len, 'x', KPORT_NAME_MAX - 1 - len);
	ASSERT_EQ((size_t)63, strlen(self->c.name));
	memcpy(self->name, self->c.name, KPORT_NAME_MAX);
	self->fd = assert_create_accepted(_metadata, &self->c);
}

TEST_F(create, name_of_64_characters_without_nul_is_einval)
{
	memset(self->c.name, 'x', KPORT_NAME_MAX);
	assert_create_refused(_metadata, &self->c, EINVAL);
}

TEST_F(create, every_printable_character_but_slash_is_accepted_in_a_name)
{
	char chars[96];
	size_t n = 0, i;
	int c;

	for (c = 0x21; c <= 0x7e; c++)
		if (c != '/')
			chars[n++] = (char)c;
	/* 93 characters: two ports of up to 63 */
	for (i = 0; i < n; i += 50) {
		struct kport_create cr = self->c;
		size_t len = n - i < 50 ? n - i : 50;
		int fd;

		memset(cr.name, 0, sizeof(cr.name));
		snprintf(cr.name, 12, "%d", (int)getpid());
		memcpy(cr.name + strlen(cr.name), chars + i, len);
		fd = kt_create_raw(&cr);
		ASSERT_LE(0, fd) TH_LOG("name '%s'", cr.name);
		close(fd);
		ASSERT_EQ(0, kt_unlink(cr.name));
	}
}

TEST_F(create, name_with_a_slash_is_einval)
{
	const char *names[] = { "/", "a/b", "/abc", "abc/" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		memset(self->c.name, 0, sizeof(self->c.name));
		strcpy(self->c.name, names[i]);
		assert_create_refused(_metadata, &self->c, EINVAL);
	}
}

TEST_F(create, name_with_a_space_is_einval)
{
	const char *names[] = { " ", "a b", " abc", "abc " };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		memset(self->c.name, 0, sizeof(self->c.name));
		strcpy(self->c.name, names[i]);
		assert_create_refused(_metadata, &self->c, EINVAL);
	}
}

TEST_F(create, name_with_a_control_or_non_ascii_byte_is_einval)
{
	const unsigned char bytes[] = { 0x01, 0x09, 0x0a, 0x1b, 0x1f, 0x7f,
					0x80, 0xa0, 0xff };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bytes); i++) {
		memset(self->c.name, 0, sizeof(self->c.name));
		strcpy(self->c.name, "kt.ctl");
		self->c.name[2] = (char)bytes[i];
		assert_create_refused(_metadata, &self->c, EINVAL);
		self->c.name[0] = (char)bytes[i];
		self->c.name[2] = '.';
		assert_create_refused(_metadata, &self->c, EINVAL);
	}
}

TEST_F(create, name_with_nonzero_bytes_after_the_nul_is_einval)
{
	/* "abc\0d", "abc\0...\1" at the very end, and "\0abc" */
	memset(self->c.name, 0, sizeof(self->c.name));
	strcpy(self->c.name, "abc");
	self->c.name[4] = 'd';
	assert_create_refused(_metadata, &self->c, EINVAL);

	memset(self->c.name, 0, sizeof(self->c.name));
	strcpy(self->c.name, "abc");
	self->c.name[KPORT_NAME_MAX - 1] = 1;
	assert_create_refused(_metadata, &self->c, EINVAL);

	memset(self->c.name, 0, sizeof(self->c.name));
	strcpy(self->c.name + 1, "abc");
	assert_create_refused(_metadata, &self->c, EINVAL);
}

TEST_F(create, existing_name_is_eexist_and_the_port_is_untouched)
{
	struct kport_create again = self->c;
	struct kport_stat st1, st2;

	self->fd = assert_create_accepted(_metadata, &self->c);
	ASSERT_EQ(0, kt_send(self->fd, kept_msg, KEPT_LEN, 0, 0, 0));
	ASSERT_EQ(0, kt_stat(self->fd, &st1));
	again.mode = 0666;
	again.capacity = 1;
	assert_create_refused(_metadata, &again, EEXIST);
	ASSERT_EQ(0, kt_stat(self->fd, &st2));
	ASSERT_EQ(st1.id, st2.id);
	ASSERT_EQ(0600U, st2.mode);
	ASSERT_EQ(PORT_CAPACITY, st2.capacity);
	ASSERT_EQ(1U, st2.nr_msgs);
	ASSERT_EQ(0U, st2.status);
}

TEST_F(create, mode_above_0777_is_einval)
{
	const uint32_t modes[] = { 01000, 01777, 02600, 04600, 0100600,
				   0xffffffff };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		self->c.mode = modes[i];
		assert_create_refused(_metadata, &self->c, EINVAL);
	}
}

TEST_F(create, mode_0777_and_mode_0_are_accepted)
{
	self->c.mode = 0777;
	self->fd = assert_create_accepted(_metadata, &self->c);
	close(self->fd);
	ASSERT_EQ(0, kt_unlink(self->name));
	self->c.mode = 0;
	self->fd = assert_create_accepted(_metadata, &self->c);
}

TEST_F(create, msg_size_zero_is_einval)
{
	self->c.msg_size = 0;
	assert_create_refused(_metadata, &self->c, EINVAL);
	self->c.flags = KPORT_CREATE_FIXED;
	assert_create_refused(_metadata, &self->c, EINVAL);
}

TEST_F(create, msg_size_above_the_maximum_is_einval)
{
	struct kport_version v = query_version(_metadata);

	self->c.msg_size = v.max_msg_size + 1;
	assert_create_refused(_metadata, &self->c, EINVAL);
	self->c.msg_size = 0xffffffff;
	assert_create_refused(_metadata, &self->c, EINVAL);
}

TEST_F(create, msg_size_of_one_and_of_the_maximum_are_accepted)
{
	struct kport_version v = query_version(_metadata);

	self->c.msg_size = 1;
	self->fd = assert_create_accepted(_metadata, &self->c);
	close(self->fd);
	ASSERT_EQ(0, kt_unlink(self->name));
	self->c.msg_size = v.max_msg_size;
	self->fd = assert_create_accepted(_metadata, &self->c);
}

TEST_F(create, capacity_above_the_maximum_is_einval)
{
	struct kport_version v = query_version(_metadata);

	self->c.capacity = v.max_capacity + 1;
	assert_create_refused(_metadata, &self->c, EINVAL);
	self->c.capacity = KPORT_CAPACITY_UNBOUNDED - 1;
	assert_create_refused(_metadata, &self->c, EINVAL);
}

TEST_F(create, capacity_zero_maximum_and_unbounded_are_accepted)
{
	struct kport_version v = query_version(_metadata);
	const uint32_t caps[] = { 0, 1, v.max_capacity,
				  KPORT_CAPACITY_UNBOUNDED };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		self->c.capacity = caps[i];
		self->fd = assert_create_accepted(_metadata, &self->c);
		close(self->fd);
		self->fd = -1;
		ASSERT_EQ(0, kt_unlink(self->name));
	}
}

TEST_F(create, rights_zero_or_unknown_are_einval)
{
	const uint32_t rights[] = { 0, 1U << 2, KPORT_RIGHTS_ALL | (1U << 2),
				    1U << 31, 0xffffffff };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rights); i++) {
		self->c.rights = rights[i];
		assert_create_refused(_metadata, &self->c, EINVAL);
	}
}

TEST_F(create, creator_gets_exactly_the_rights_it_asked_for)
{
	const uint32_t rights[] = { KPORT_RIGHT_SEND, KPORT_RIGHT_RECV,
				    KPORT_RIGHTS_ALL };
	unsigned int i;

	self->c.mode = 0;	/* no mode check for the creator */
	for (i = 0; i < ARRAY_SIZE(rights); i++) {
		self->c.rights = rights[i];
		self->fd = assert_create_accepted(_metadata, &self->c);
		close(self->fd);
		self->fd = -1;
		ASSERT_EQ(0, kt_unlink(self->name));
	}
}

/* ---- KPORT_IOC_CREATE: the pool ------------------------------------------ */

TEST_F(create, pool_size_not_a_multiple_of_the_page_size_is_einval)
{
	const uint64_t sizes[] = { 1, PORT_MSG_SIZE, 4095, 4097, 8191,
				   (1ULL << 20) + 1, (1ULL << 20) - 512 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		self->c.pool_size = sizes[i];
		assert_create_refused(_metadata, &self->c, EINVAL);
	}
}

TEST_F(create, pool_size_above_max_pool_size_is_einval)
{
	struct kport_version v = query_version(_metadata);
	const uint64_t sizes[] = { v.max_pool_size + 4096, 2ULL << 30,
				   1ULL << 40, ~0ULL & ~4095ULL };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		self->c.pool_size = sizes[i];
		assert_create_refused(_metadata, &self->c, EINVAL);
	}
}

TEST_F(create, pool_size_below_msg_size_is_einval)
{
	self->c.msg_size = 8192 + 1;
	self->c.pool_size = 8192;
	assert_create_refused(_metadata, &self->c, EINVAL);
	self->c.flags = KPORT_CREATE_FIXED;
	assert_create_refused(_metadata, &self->c, EINVAL);
	self->c.flags = KPORT_CREATE_ZEROCOPY;
	assert_create_refused(_metadata, &self->c, EINVAL);
}

TEST_F(create, zerocopy_without_a_pool_is_einval)
{
	self->c.flags = KPORT_CREATE_ZEROCOPY;
	assert_create_refused(_metadata, &self->c, EINVAL);
	self->c.flags = KPORT_CREATE_ZEROCOPY | KPORT_CREATE_FIXED;
	assert_create_refused(_metadata, &self->c, EINVAL);
}

TEST_F(create, pool_of_one_page_and_of_msg_size_are_accepted)
{
	struct kport_stat st;

	self->c.pool_size = 4096;
	self->fd = assert_create_accepted(_metadata, &self->c);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ((uint32_t)read_param("pool_threshold"), st.pool_threshold);
	close(self->fd);
	ASSERT_EQ(0, kt_unlink(self->name));
	/* msg_size == pool_size, fixed */
	self->c.flags = KPORT_CREATE_FIXED;
	self->c.msg_size = 3 * 4096;
	self->c.pool_size = 3 * 4096;
	self->fd = assert_create_accepted(_metadata, &self->c);
}

TEST_F(create, zerocopy_with_a_pool_is_accepted_and_reported)
{
	self->c.flags = KPORT_CREATE_ZEROCOPY;
	self->c.pool_size = 16 * 4096;
	self->fd = assert_create_accepted(_metadata, &self->c);
	close(self->fd);
	ASSERT_EQ(0, kt_unlink(self->name));
	/* any kind of port may have one */
	self->c.flags = KPORT_CREATE_ZEROCOPY | KPORT_CREATE_PROCESS |
			KPORT_CREATE_NONBLOCK;
	self->c.capacity = 0;
	self->fd = assert_create_accepted(_metadata, &self->c);
}

TEST_F(create, msg_size_above_max_msg_size_is_accepted_up_to_the_pool_size)
{
	struct kport_version v = query_version(_metadata);
	uint64_t pool = ((uint64_t)v.max_msg_size + 4096) & ~4095ULL;

	ASSERT_LE(pool, v.max_pool_size) TH_LOG("max_pool_size too small");
	self->c.msg_size = v.max_msg_size + 1;
	assert_create_refused(_metadata, &self->c, EINVAL);
	self->c.pool_size = pool;
	self->fd = assert_create_accepted(_metadata, &self->c);
	close(self->fd);
	ASSERT_EQ(0, kt_unlink(self->name));
	/* but not beyond the pool */
	self->c.msg_size = (uint32_t)pool + 1;
	assert_create_refused(_metadata, &self->c, EINVAL);
}

TEST_F(create, stat_of_a_port_without_a_pool_reports_none)
{
	struct kport_stat st;

	self->fd = assert_create_accepted(_metadata, &self->c);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	ASSERT_EQ(0U, st.pool_size);
	ASSERT_EQ(0U, st.pool_used);
	ASSERT_EQ(0U, st.slices_held);
}

TEST_F(create, inbox_with_a_name_is_einval)
{
	self->c.flags = KPORT_CREATE_INBOX;
	assert_create_refused(_metadata, &self->c, EINVAL);
	/* and no inbox was made: this process has none to open */
	ASSERT_EQ(-ENOENT, kt_open_inbox(getpid(), 0, 0));
}

/* ---- KPORT_IOC_OPEN and KPORT_IOC_UNLINK arguments ------------------------ */

TEST_F(create, open_of_a_missing_name_is_enoent)
{
	ASSERT_EQ(-ENOENT, kt_open(self->name, 0, 0));
	ASSERT_EQ(-ENOENT, kt_open(self->name, KPORT_RIGHTS_ALL, 0));
}

TEST_F(create, open_with_unknown_rights_is_einval)
{
	const uint32_t rights[] = { 1U << 2, KPORT_RIGHTS_ALL | (1U << 2),
				    1U << 31 };
	struct kport_open o;
	unsigned int i;
	int free_fd;

	self->fd = assert_create_accepted(_metadata, &self->c);
	free_fd = lowest_free_fd();
	for (i = 0; i < ARRAY_SIZE(rights); i++) {
		memset(&o, 0, sizeof(o));
		strcpy(o.name, self->name);
		o.rights = rights[i];
		ASSERT_EQ(-EINVAL, kt_ioctl(kt_dev(), KPORT_IOC_OPEN, &o));
		ASSERT_EQ(free_fd, lowest_free_fd());
	}
}

TEST_F(create, open_of_a_name_with_the_inbox_flag_is_einval)
{
	struct kport_open o;

	self->fd = assert_create_accepted(_metadata, &self->c);
	memset(&o, 0, sizeof(o));
	o.flags = KPORT_OPEN_INBOX;
	strcpy(o.name, self->name);
	o.pid = getpid();
	ASSERT_EQ(-EINVAL, kt_ioctl(kt_dev(), KPORT_IOC_OPEN, &o));
}

TEST_F(create, open_with_a_pid_but_no_inbox_flag_is_einval)
{
	struct kport_open o;

	self->fd = assert_create_accepted(_metadata, &self->c);
	memset(&o, 0, sizeof(o));
	strcpy(o.name, self->name);
	o.pid = getpid();
	ASSERT_EQ(-EINVAL, kt_ioctl(kt_dev(), KPORT_IOC_OPEN, &o));
	o.pid = -1;
	ASSERT_EQ(-EINVAL, kt_ioctl(kt_dev(), KPORT_IOC_OPEN, &o));
}

TEST_F(create, open_or_unlink_of_an_invalid_name_is_einval)
{
	struct kport_unlink u;
	struct kport_open o;

	memset(&o, 0, sizeof(o));
	strcpy(o.name, "a/b");
	ASSERT_EQ(-EINVAL, kt_ioctl(kt_dev(), KPORT_IOC_OPEN, &o));
	memset(o.name, 'x', KPORT_NAME_MAX);
	ASSERT_EQ(-EINVAL, kt_ioctl(kt_dev(), KPORT_IOC_OPEN, &o));

	memset(&u, 0, sizeof(u));
	strcpy(u.name, "a b");
	ASSERT_EQ(-EINVAL, kt_ioctl(kt_dev(), KPORT_IOC_UNLINK, &u));
	memset(u.name, 'x', KPORT_NAME_MAX);
	ASSERT_EQ(-EINVAL, kt_ioctl(kt_dev(), KPORT_IOC_UNLINK, &u));
}

TEST_F(create, unlink_of_a_missing_name_is_enoent)
{
	ASSERT_EQ(-ENOENT, kt_unlink(self->name));
}

/* ---- KPORT_IOC_SEND and KPORT_IOC_RECV fields ------------------------------- */

FIXTURE(msg) {
	char name[KPORT_NAME_MAX];
	int port;		/* capacity 4, msg_size 64, one message kept */
	char buf[PORT_MSG_SIZE + 1];
	struct kport_msg m;
	char *fault;		/* a PROT_NONE page */
};

FIXTURE_SETUP(msg)
{
	self->port = -1;
	self->fault = mmap(NULL, (size_t)getpagesize(), PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->fault);
	kt_name(self->name, _metadata->name);
	self->port = kt_create(self->name, 0, PORT_CAPACITY, PORT_MSG_SIZE,
			       0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->port);
	ASSERT_EQ(0, kt_send(self->port, kept_msg, KEPT_LEN, KEPT_PRIO, 0, 0));
	memset(self->buf, 'm', sizeof(self->buf));
	memset(&self->m, 0, sizeof(self->m));
	self->m.buf = (uintptr_t)self->buf;
	self->m.len = 8;
}

FIXTURE_TEARDOWN(msg)
{
	if (self->port >= 0)
		close(self->port);
	kt_unlink(self->name);
	if (self->fault && self->fault != MAP_FAILED)
		munmap(self->fault, (size_t)getpagesize());
}

/* Send self->m and expect @err; the queue must be as it was. */
static void assert_send_refused(struct __test_metadata *_metadata,
				FIXTURE_DATA(msg) *self, int err)
{
	struct kport_stat st;

	ASSERT_EQ(-err, kt_ioctl(self->port, KPORT_IOC_SEND, &self->m));
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(KEPT_LEN, st.bytes);
	ASSERT_EQ(1U, st.sent);
}

/* The kept message is still there, whole, and is the only one. */
static void assert_kept_message_receivable(struct __test_metadata *_metadata,
					   FIXTURE_DATA(msg) *self)
{
	struct kport_msg out;
	char buf[PORT_MSG_SIZE];

	ASSERT_EQ((int)KEPT_LEN, kt_recv(self->port, buf, sizeof(buf),
				    KPORT_MSG_NONBLOCK, &out));
	ASSERT_EQ(KEPT_PRIO, out.priority);
	ASSERT_EQ(0, memcmp(buf, kept_msg, KEPT_LEN));
	ASSERT_EQ(-EAGAIN, kt_recv(self->port, buf, sizeof(buf),
				   KPORT_MSG_NONBLOCK, NULL));
}

TEST_F(msg, send_priority_32_or_more_is_einval)
{
	const uint32_t prios[] = { KPORT_PRIO_MAX, KPORT_PRIO_MAX + 1,
				   0x80000000, 0xffffffff };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(prios); i++) {
		self->m.priority = prios[i];
		assert_send_refused(_metadata, self, EINVAL);
	}
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, send_priority_31_is_accepted)
{
	struct kport_msg out;
	char buf[PORT_MSG_SIZE];

	self->m.priority = KPORT_PRIO_MAX - 1;
	ASSERT_EQ(0, kt_ioctl(self->port, KPORT_IOC_SEND, &self->m));
	ASSERT_EQ(8, kt_recv(self->port, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
			     &out));
	ASSERT_EQ((__u32)KPORT_PRIO_MAX - 1, out.priority);
}

TEST_F(msg, send_with_a_nonzero_pid_is_einval)
{
	const int32_t pids[] = { 1, -1, (int32_t)getpid() };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pids); i++) {
		self->m.pid = pids[i];
		assert_send_refused(_metadata, self, EINVAL);
	}
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, send_with_a_nonzero_uid_is_einval)
{
	const uint32_t uids[] = { 1, 65534, 0xffffffff };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(uids); i++) {
		self->m.uid = uids[i];
		assert_send_refused(_metadata, self, EINVAL);
	}
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, send_with_from_pid_is_einval)
{
	self->m.flags = KPORT_MSG_FROM_PID;
	assert_send_refused(_metadata, self, EINVAL);
	self->m.flags = KPORT_MSG_FROM_PID | KPORT_MSG_NONBLOCK;
	assert_send_refused(_metadata, self, EINVAL);
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, send_with_a_nonzero_offset_without_post_is_einval)
{
	const uint64_t offsets[] = { 1, 4096, 1ULL << 63 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(offsets); i++) {
		self->m.offset = offsets[i];
		assert_send_refused(_metadata, self, EINVAL);
	}
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, send_with_a_nonzero_result_is_einval)
{
	const uint32_t results[] = { KPORT_RESULT_INPLACE, 2, 0x80000000 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(results); i++) {
		self->m.result = results[i];
		assert_send_refused(_metadata, self, EINVAL);
	}
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, send_with_inplace_is_einval)
{
	self->m.flags = KPORT_MSG_INPLACE;
	assert_send_refused(_metadata, self, EINVAL);
	self->m.flags = KPORT_MSG_INPLACE | KPORT_MSG_NONBLOCK;
	assert_send_refused(_metadata, self, EINVAL);
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, recv_with_post_is_einval_and_keeps_the_message)
{
	struct kport_stat st;

	self->m.flags = KPORT_MSG_POST | KPORT_MSG_NONBLOCK;
	self->m.len = sizeof(self->buf);
	ASSERT_EQ(-EINVAL, kt_ioctl(self->port, KPORT_IOC_RECV, &self->m));
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	ASSERT_EQ(0U, st.received);
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, recv_ignores_offset_and_result_on_input)
{
	self->m.flags = KPORT_MSG_NONBLOCK;
	self->m.len = sizeof(self->buf);
	self->m.offset = 0x123456789000ULL;
	self->m.result = 0xffffffff;
	ASSERT_EQ(0, kt_ioctl(self->port, KPORT_IOC_RECV, &self->m));
	ASSERT_EQ(KEPT_LEN, self->m.len);
	ASSERT_EQ(0U, self->m.result);
	ASSERT_EQ(0, memcmp(self->buf, kept_msg, KEPT_LEN));
}

TEST_F(msg, recv_inplace_on_a_port_without_a_pool_copies_and_reports_result_0)
{
	self->m.flags = KPORT_MSG_INPLACE | KPORT_MSG_NONBLOCK;
	self->m.len = sizeof(self->buf);
	self->m.result = 0xffffffff;
	ASSERT_EQ(0, kt_ioctl(self->port, KPORT_IOC_RECV, &self->m));
	ASSERT_EQ(KEPT_LEN, self->m.len);
	ASSERT_EQ(KEPT_PRIO, self->m.priority);
	ASSERT_EQ(0U, self->m.result);
	ASSERT_EQ(0, memcmp(self->buf, kept_msg, KEPT_LEN));
}

TEST_F(msg, send_with_a_deadline_but_no_deadline_flag_is_einval)
{
	self->m.deadline_ns = kt_deadline_ms(1000);
	assert_send_refused(_metadata, self, EINVAL);
	self->m.flags = KPORT_MSG_NONBLOCK;
	assert_send_refused(_metadata, self, EINVAL);
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, send_longer_than_msg_size_is_emsgsize)
{
	const uint32_t lens[] = { PORT_MSG_SIZE + 1, 1U << 20, 0xffffffff };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		self->m.len = lens[i];
		assert_send_refused(_metadata, self, EMSGSIZE);
	}
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, send_of_exactly_msg_size_and_of_zero_bytes_is_accepted)
{
	struct kport_stat st;

	self->m.len = PORT_MSG_SIZE;
	ASSERT_EQ(0, kt_ioctl(self->port, KPORT_IOC_SEND, &self->m));
	self->m.len = 0;
	ASSERT_EQ(0, kt_ioctl(self->port, KPORT_IOC_SEND, &self->m));
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(3U, st.nr_msgs);
	ASSERT_EQ(KEPT_LEN + PORT_MSG_SIZE, st.bytes);
}

TEST_F(msg, send_of_another_length_to_a_fixed_port_is_emsgsize)
{
	const uint32_t lens[] = { 0, 15, 17 };
	char buf[16];
	unsigned int i;
	int fd;

	fd = kt_create(NULL, KPORT_CREATE_FIXED, 4, 16, 0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(-EMSGSIZE, kt_send(fd, self->buf, lens[i], 0, 0, 0))
			TH_LOG("len %u", lens[i]);
	}
	ASSERT_EQ(-EAGAIN, kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK,
				   NULL));
	ASSERT_EQ(0, kt_send(fd, self->buf, 16, 0, 0, 0));
	ASSERT_EQ(16, kt_recv(fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL));
	close(fd);
}

TEST_F(msg, send_from_a_bad_buffer_is_efault)
{
	self->m.buf = 0;
	assert_send_refused(_metadata, self, EFAULT);
	self->m.buf = (uintptr_t)self->fault;
	assert_send_refused(_metadata, self, EFAULT);
	/* the payload runs into the inaccessible page */
	self->m.buf = (uintptr_t)self->fault - 4;
	assert_send_refused(_metadata, self, EFAULT);
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, recv_from_pid_zero_or_negative_is_einval)
{
	const int32_t pids[] = { 0, -1, INT32_MIN };
	struct kport_stat st;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pids); i++) {
		self->m.flags = KPORT_MSG_FROM_PID | KPORT_MSG_NONBLOCK;
		self->m.pid = pids[i];
		self->m.len = sizeof(self->buf);
		ASSERT_EQ(-EINVAL, kt_ioctl(self->port, KPORT_IOC_RECV, &self->m))
			TH_LOG("pid %d", pids[i]);
		ASSERT_EQ(0, kt_stat(self->port, &st));
		ASSERT_EQ(1U, st.nr_msgs);
		ASSERT_EQ(0U, st.received);
	}
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, recv_into_a_bad_buffer_is_efault_and_keeps_the_message)
{
	const uint64_t bufs[] = { 0, (uintptr_t)self->fault,
				  (uintptr_t)self->fault - 2 };
	struct kport_stat st;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bufs); i++) {
		memset(&self->m, 0, sizeof(self->m));
		self->m.flags = KPORT_MSG_NONBLOCK;
		self->m.buf = bufs[i];
		self->m.len = PORT_MSG_SIZE;
		ASSERT_EQ(-EFAULT, kt_ioctl(self->port, KPORT_IOC_RECV, &self->m))
			TH_LOG("buffer %d", i);
		ASSERT_EQ(0, kt_stat(self->port, &st));
		ASSERT_EQ(1U, st.nr_msgs);
		ASSERT_EQ(0U, st.received);
	}
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, recv_into_a_short_buffer_is_emsgsize_and_reports_the_size)
{
	struct kport_stat st;

	self->m.flags = KPORT_MSG_NONBLOCK;
	self->m.len = KEPT_LEN - 1;
	ASSERT_EQ(-EMSGSIZE, kt_ioctl(self->port, KPORT_IOC_RECV, &self->m));
	ASSERT_EQ(KEPT_LEN, self->m.len);
	ASSERT_EQ(0, kt_stat(self->port, &st));
	ASSERT_EQ(1U, st.nr_msgs);
	assert_kept_message_receivable(_metadata, self);
}

TEST_F(msg, recv_ignores_priority_and_uid_on_input)
{
	self->m.flags = KPORT_MSG_NONBLOCK;
	self->m.len = sizeof(self->buf);
	self->m.priority = 0xffffffff;
	self->m.uid = 12345;
	ASSERT_EQ(0, kt_ioctl(self->port, KPORT_IOC_RECV, &self->m));
	ASSERT_EQ(KEPT_LEN, self->m.len);
	ASSERT_EQ(KEPT_PRIO, self->m.priority);
	ASSERT_EQ(geteuid(), self->m.uid);
	ASSERT_EQ(getpid(), self->m.pid);
}

/* ---- The descriptors ---------------------------------------------------------- */

FIXTURE(handle) {
	char name[KPORT_NAME_MAX];
	int port;
};

FIXTURE_SETUP(handle)
{
	kt_name(self->name, _metadata->name);
	self->port = kt_create(self->name, 0, PORT_CAPACITY, PORT_MSG_SIZE,
			       0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->port);
}

FIXTURE_TEARDOWN(handle)
{
	if (self->port >= 0)
		close(self->port);
	kt_unlink(self->name);
}

TEST_F(handle, created_and_opened_handles_are_close_on_exec)
{
	int fd;

	ASSERT_EQ(FD_CLOEXEC, fcntl(self->port, F_GETFD) & FD_CLOEXEC);
	fd = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = kt_open(self->name, 0, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = kt_create(NULL, 0, 1, 8, 0600, KPORT_RIGHT_RECV);
	ASSERT_LE(0, fd);
	ASSERT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST_F(handle, handles_are_blocking_unless_nonblock_is_asked_for)
{
	int fd;

	ASSERT_EQ(0, fcntl(self->port, F_GETFL) & O_NONBLOCK);
	fd = kt_open(self->name, KPORT_RIGHTS_ALL, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	fd = kt_open(self->name, KPORT_RIGHTS_ALL, KPORT_OPEN_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(O_NONBLOCK, fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	fd = kt_create(NULL, KPORT_CREATE_NONBLOCK, 1, 8, 0600,
		       KPORT_RIGHTS_ALL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(O_NONBLOCK, fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
}

TEST_F(handle, create_nonblock_is_not_a_port_flag)
{
	struct kport_stat st;
	int fd;

	fd = kt_create(NULL, KPORT_CREATE_NONBLOCK | KPORT_CREATE_FIXED, 1, 8,
		       0600, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kt_stat(fd, &st));
	ASSERT_EQ(KPORT_CREATE_FIXED, st.port_flags);
	close(fd);
}

TEST_F(handle, stat_reports_the_rights_of_each_handle)
{
	const uint32_t rights[] = { 0, KPORT_RIGHT_SEND, KPORT_RIGHT_RECV,
				    KPORT_RIGHTS_ALL };
	struct kport_stat st, mine;
	unsigned int i;
	int fd;

	ASSERT_EQ(0, kt_stat(self->port, &mine));
	for (i = 0; i < ARRAY_SIZE(rights); i++) {
		fd = kt_open(self->name, rights[i], 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, kt_stat(fd, &st));
		ASSERT_EQ(rights[i], st.rights);
		ASSERT_EQ(mine.id, st.id);
		ASSERT_STREQ(self->name, st.name);
		ASSERT_EQ(0U, st.pool_size);
		ASSERT_EQ(0U, st.pool_used);
		ASSERT_EQ(0U, st.slices_held);
		ASSERT_EQ(0U, st.__reserved[0]);
		ASSERT_EQ(0U, st.__reserved[1]);
		ASSERT_EQ(0U, st.__reserved[2]);
		close(fd);
	}
}

TEST_F(handle, fdinfo_shows_the_port_id_name_and_rights)
{
	char path[64], text[4096], id[32];
	struct kport_stat st;
	int fd;

	ASSERT_EQ(0, kt_stat(self->port, &st));
	snprintf(id, sizeof(id), "%llu", (unsigned long long)st.id);
	fd = kt_open(self->name, KPORT_RIGHT_RECV, 0);
	ASSERT_LE(0, fd);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ASSERT_LT(0, read_text(path, text, sizeof(text)));
	ASSERT_NE(NULL, strstr(text, self->name)) TH_LOG("%s", text);
	ASSERT_TRUE(has_token(text, id)) TH_LOG("no id %s in:\n%s", id, text);
	ASSERT_NE(NULL, strstr(text, "rights")) TH_LOG("%s", text);
	close(fd);
}

TEST_F(handle, proc_kport_lists_a_port_until_it_is_deleted)
{
	char text[65536];

	ASSERT_LT(0, read_text("/proc/kport", text, sizeof(text)));
	ASSERT_TRUE(has_token(text, self->name)) TH_LOG("%s", text);
	ASSERT_EQ(0, kt_delete(self->port));
	close(self->port);
	self->port = -1;
	ASSERT_LE(0, read_text("/proc/kport", text, sizeof(text)));
	ASSERT_FALSE(has_token(text, self->name)) TH_LOG("%s", text);
}

TEST(device_is_a_world_accessible_character_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(KPORT_DEVICE, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0666U, st.st_mode & 0777);
}

/* A handle is a stream of messages: no position to seek, read or write at. */
TEST(handle_has_no_file_position)
{
	int fd = kt_create_simple(NULL, 4, 64);
	struct kport_stat st;
	char buf[64];

	ASSERT_LE(0, fd);
	ASSERT_EQ(2, write(fd, "hi", 2));
	EXPECT_EQ(-1, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, pwrite(fd, "x", 1, 0));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(-1, pread(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(ESPIPE, errno);
	/* Nothing was taken or added. */
	EXPECT_EQ(2, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, kt_stat(fd, &st));
	EXPECT_EQ(0U, st.nr_msgs);
	EXPECT_EQ(1U, st.sent);
	close(fd);
}

TEST_HARNESS_MAIN
