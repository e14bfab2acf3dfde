// SPDX-License-Identifier: GPL-2.0
/*
 * kportctl: create, inspect and use kport ports from the shell.
 *
 * Every subcommand is one short-lived process, so a port made here is
 * kernel-owned unless --process is given, in which case the port lives
 * only as long as this process holds its creating handle (--hold).
 *
 * Exit status: 0 on success, 1 when the operation fails (one line on
 * stderr: "kportctl: COMMAND PORT: what happened (ERRNO)"), 2 on a usage
 * error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kport.h"

#define NSEC_PER_MSEC	1000000LL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const char usage_text[] =
"usage: kportctl COMMAND [ARGUMENTS]\n"
"\n"
"A PORT is a port NAME, or --inbox PID for the inbox of process PID.\n"
"\n"
"  create NAME [--capacity N|unbounded] [--msg-size N] [--fixed]\n"
"              [--pool SIZE [--zero-copy]] [--mode MODE] [--process]\n"
"              [--hold SECONDS]\n"
"        Create a port (defaults: capacity 16, msg size 8192, mode 0600).\n"
"        Sizes take K, M or G suffixes.  Capacity 0 makes a rendezvous port.\n"
"        --fixed: every message is exactly msg-size bytes.\n"
"        --pool: give the port a shared-memory pool of SIZE bytes (a\n"
"        multiple of the page size) for large messages; msg-size may then\n"
"        be up to SIZE and defaults to it.  --zero-copy: senders may also\n"
"        fill slices of the pool themselves (borrow/post).\n"
"        --hold: keep the creating handle open for SECONDS, then exit.\n"
"        --process: the port is deleted when that handle goes away (so it\n"
"        needs --hold).\n"
"  delete PORT\n"
"        Delete a port; its queued messages are dropped and its waiters\n"
"        fail with EIDRM.\n"
"  send PORT [TEXT | --file F] [--nonblock] [--timeout MS] [--priority P]\n"
"        Send TEXT, the contents of F, or standard input as one message.\n"
"        A message longer than the port's pool threshold goes through\n"
"        its pool.\n"
"  recv PORT [--file F] [--nonblock] [--timeout MS] [--from PID] [-v]\n"
"        Receive one message and write it to standard output (adding a\n"
"        newline if it lacks one) or to F.  --from: accept only a message\n"
"        sent by PID.  -v: print the sender, priority and size to stderr.\n"
"        On a port with a pool, a pool message is written out straight\n"
"        from the pool (received in place, then released).\n"
"  stat PORT      Show a port's attributes and counters.\n"
"  list           List every port (/proc/kport).\n"
"  version        Show the module's API version, features and limits.\n"
"  help           Show this text.\n"
"\n"
"Exit status: 0 on success, 1 if the operation failed, 2 on usage errors.\n";

/* What the error messages say the command was working on. */
static const char *cmd_name = "";
static char port_label[KPORT_NAME_MAX + 32];

static const char *synopsis(const char *cmd);

/* A usage error: say what was wrong, then how the command is used. */
static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("kportctl: ", stderr);
	if (*cmd_name)
		fprintf(stderr, "%s: ", cmd_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (*cmd_name)
		fprintf(stderr, "usage: kportctl %s %s\n", cmd_name,
			synopsis(cmd_name));
	else
		fputs("usage: kportctl COMMAND [ARGUMENTS]\n", stderr);
	fputs("Run 'kportctl help' for details.\n", stderr);
	exit(2);
}

/* The words users understand better than strerror()'s for kport's errnos. */
static const char *friendly(int err)
{
	switch (err) {
	case ENOENT:		return "no such port";
	case EEXIST:		return "a port with that name already exists";
	case EACCES:		return "permission denied by the port's mode";
	case EPERM:		return "only the port's owner may do that";
	case ETIMEDOUT:		return "timed out";
	case EAGAIN:		return "would have to wait";
	case EIDRM:		return "port deleted";
	case EMSGSIZE:		return "message too large";
	case ENAMETOOLONG:	return "name longer than 63 characters";
	case ENOSPC:		return "too many ports";
	case ENOBUFS:		return "this user's quota of queued bytes is used up";
	case EINVAL:		return "invalid name or argument";
	case ESRCH:		return "no such process";
	case EINTR:		return "interrupted by a signal";
	default:		return strerror(err);
	}
}

/*
 * The symbolic name of @err ("ENOENT").  strerrorname_np() came with glibc
 * 2.32 and is not in musl: elsewhere, the errnos kport and the calls here
 * give.
 */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "unknown error";
}
#else
#define ERRNO_NAME(e)	case e: return #e
static const char *errno_name(int err)
{
	switch (err) {
	ERRNO_NAME(EPERM); ERRNO_NAME(ENOENT); ERRNO_NAME(ESRCH);
	ERRNO_NAME(EINTR); ERRNO_NAME(EBADF); ERRNO_NAME(EAGAIN);
	ERRNO_NAME(ENOMEM); ERRNO_NAME(EACCES); ERRNO_NAME(EFAULT);
	ERRNO_NAME(EBUSY); ERRNO_NAME(EEXIST); ERRNO_NAME(ENODEV);
	ERRNO_NAME(EINVAL); ERRNO_NAME(ENOSPC); ERRNO_NAME(ENOTTY);
	ERRNO_NAME(E2BIG); ERRNO_NAME(EMSGSIZE); ERRNO_NAME(ENOBUFS);
	ERRNO_NAME(ETIMEDOUT); ERRNO_NAME(EIDRM); ERRNO_NAME(EOPNOTSUPP);
	ERRNO_NAME(ENAMETOOLONG); ERRNO_NAME(EMFILE); ERRNO_NAME(ENFILE);
	ERRNO_NAME(ESPIPE); ERRNO_NAME(ENXIO);
	default: return "unknown error";
	}
}
#endif

/*
 * Report a failure and exit 1.  @err is a positive errno; @fmt, if not
 * NULL, replaces the generic description.
 */
static void __attribute__((noreturn, format(printf, 2, 3)))
fail(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kportctl: %s%s%s: ", cmd_name,
		*port_label ? " " : "", port_label);
	if (fmt) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	} else {
		fputs(friendly(err), stderr);
	}
	fprintf(stderr, " (%s)\n", errno_name(err));
	exit(1);
}

/*
 * Open /dev/kport up front: otherwise its absence would surface later as
 * an ENOENT indistinguishable from "no such port".
 */
static void need_device(void)
{
	int ret = kport_dev_fd();

	if (ret >= 0)
		return;
	if (ret == -ENOENT || ret == -ENODEV || ret == -ENXIO)
		fail(-ret, "cannot open %s: %s; is the kport module loaded?",
		     KPORT_DEVICE, strerror(-ret));
	fail(-ret, "cannot open %s: %s", KPORT_DEVICE, strerror(-ret));
}

/* ---- Argument parsing ----------------------------------------------------- */

/* A decimal number with an optional K, M or G (binary) suffix. */
static bool parse_size(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return false;
	}
	if ((shift && end[1]) || v > (max >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static uint64_t opt_number(const char *opt, const char *s, uint64_t max)
{
	uint64_t v;

	if (!parse_size(s, max, &v))
		usage_error("%s: bad value '%s'", opt, s);
	return v;
}

static pid_t opt_pid(const char *opt, const char *s)
{
	uint64_t v;

	/* No suffixes for pids: "1k" is a typo, not 1024. */
	if (!parse_size(s, INT_MAX, &v) || strpbrk(s, "kKmMgG") || !v)
		usage_error("%s: bad pid '%s'", opt, s);
	return (pid_t)v;
}

struct port_ref {
	const char *name;
	pid_t inbox;
};

static void set_port(struct port_ref *ref, const char *name)
{
	if (ref->name || ref->inbox)
		usage_error("more than one port given");
	ref->name = name;
	snprintf(port_label, sizeof(port_label), "%s", name);
}

static void set_inbox(struct port_ref *ref, const char *arg)
{
	if (ref->name || ref->inbox)
		usage_error("more than one port given");
	ref->inbox = opt_pid("--inbox", arg);
	snprintf(port_label, sizeof(port_label), "inbox of %d", (int)ref->inbox);
}

static void need_port(const struct port_ref *ref)
{
	if (!ref->name && !ref->inbox)
		usage_error("no port given");
}

static int open_port(const struct port_ref *ref, unsigned int rights)
{
	int fd;

	need_device();
	if (ref->inbox) {
		fd = kport_open_inbox(ref->inbox, rights);
		if (fd == -ESRCH)
			fail(ESRCH, "no process %d", (int)ref->inbox);
		if (fd == -ENOENT)
			fail(ENOENT, "process %d has no inbox", (int)ref->inbox);
	} else {
		fd = kport_open(ref->name, rights);
	}
	if (fd < 0)
		fail(-fd, NULL);
	return fd;
}

enum {
	OPT_CAPACITY = 256, OPT_MSG_SIZE, OPT_FIXED, OPT_MODE, OPT_PROCESS,
	OPT_HOLD, OPT_FILE, OPT_NONBLOCK, OPT_TIMEOUT, OPT_PRIORITY, OPT_FROM,
	OPT_INBOX, OPT_POOL, OPT_ZEROCOPY, OPT_HELP,
};

#define OPTION(name, arg, id)	{ name, arg, NULL, id }
#define OPTIONS_END		{ NULL, 0, NULL, 0 }

/*
 * getopt_long() over the command's arguments; argv[0] is the command.
 * Options may follow the operands; "--" ends them.
 */
static int next_opt(int argc, char **argv, const struct option *opts,
		    const char *shortopts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, opts, NULL);
	if (c == '?') {
		if (optopt && optopt < 256)
			usage_error("bad option '-%c' or missing value", optopt);
		usage_error("bad option '%s' or missing value", argv[optind - 1]);
	}
	if (c == OPT_HELP || c == 'h') {
		fputs(usage_text, stdout);
		exit(0);
	}
	return c;
}

static void sleep_seconds(uint64_t secs)
{
	struct timespec ts = { .tv_sec = (time_t)secs, .tv_nsec = 0 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Read @fd to its end, but stop once more than @max bytes came: then
 * *@more is set and *@len is @max + 1, enough for the kernel to refuse it.
 */
static char *read_input(int fd, const char *what, size_t max, size_t *len,
			bool *more)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		fail(ENOMEM, NULL);
	*more = false;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			buf = realloc(buf, cap);
			if (!buf)
				fail(ENOMEM, NULL);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fail(errno, "reading %s: %s", what, strerror(errno));
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			*more = true;
			n = max + 1;
			break;
		}
	}
	*len = n;
	return buf;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t r = write(fd, buf, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

/* ---- Commands ------------------------------------------------------------- */

/*
 * Why a create got EINVAL, as far as can be told from here: the module's
 * limits are queried only now that something is wrong.
 */
static const char *create_einval_reason(const char *name,
					const struct kport_attr *attr)
{
	static char why[160];
	long page = sysconf(_SC_PAGESIZE);
	struct kport_version v;
	const char *p;

	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e ||
		    *p == '/')
			return "names are printable ASCII without spaces or '/'";
	if (kport_query_version(&v) < 0)
		return friendly(EINVAL);
	if (attr->pool_size && !(v.features & KPORT_FEAT_POOL))
		return "this kport module has no pools";
	if ((attr->flags & KPORT_CREATE_ZEROCOPY) &&
	    !(v.features & KPORT_FEAT_ZEROCOPY))
		return "this kport module has no zero-copy ports";
	if (!attr->msg_size)
		return "the message size must be at least 1 byte";
	if (attr->pool_size) {
		if (page > 0 && attr->pool_size % (uint64_t)page)
			snprintf(why, sizeof(why),
				 "the pool size (%" PRIu64 ") is not a multiple of the page size (%ld)",
				 attr->pool_size, page);
		else if (attr->pool_size > v.max_pool_size)
			snprintf(why, sizeof(why),
				 "the pool size (%" PRIu64 ") exceeds the module's limit of %" PRIu64 " bytes",
				 attr->pool_size, (uint64_t)v.max_pool_size);
		else if (attr->msg_size > attr->pool_size)
			snprintf(why, sizeof(why),
				 "the message size (%u) exceeds the pool size (%" PRIu64 ")",
				 attr->msg_size, attr->pool_size);
		else
			return friendly(EINVAL);
		return why;
	}
	if (attr->msg_size > v.max_msg_size) {
		snprintf(why, sizeof(why),
			 "the message size (%u) exceeds the module's limit of %u bytes (a port with --pool may take more)",
			 attr->msg_size, v.max_msg_size);
		return why;
	}
	if (attr->capacity != KPORT_CAPACITY_UNBOUNDED &&
	    attr->capacity > v.max_capacity) {
		snprintf(why, sizeof(why),
			 "the capacity (%u) exceeds the module's limit of %u",
			 attr->capacity, v.max_capacity);
		return why;
	}
	return friendly(EINVAL);
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		OPTION("capacity", required_argument, OPT_CAPACITY),
		OPTION("msg-size", required_argument, OPT_MSG_SIZE),
		OPTION("fixed", no_argument, OPT_FIXED),
		OPTION("pool", required_argument, OPT_POOL),
		OPTION("zero-copy", no_argument, OPT_ZEROCOPY),
		OPTION("mode", required_argument, OPT_MODE),
		OPTION("process", no_argument, OPT_PROCESS),
		OPTION("hold", required_argument, OPT_HOLD),
		OPTION("help", no_argument, OPT_HELP),
		OPTIONS_END
	};
	struct kport_attr attr = KPORT_ATTR_DEFAULT;
	struct port_ref ref = { 0 };
	bool hold = false, msg_size_given = false;
	uint64_t hold_secs = 0;
	char *end;
	int c, fd;

	while ((c = next_opt(argc, argv, opts, "h")) != -1) {
		switch (c) {
		case OPT_CAPACITY:
			if (!strcmp(optarg, "unbounded"))
				attr.capacity = KPORT_CAPACITY_UNBOUNDED;
			else
				attr.capacity = (uint32_t)opt_number("--capacity",
							optarg, UINT32_MAX);
			break;
		case OPT_MSG_SIZE:
			attr.msg_size = (uint32_t)opt_number("--msg-size", optarg,
							     UINT32_MAX);
			msg_size_given = true;
			break;
		case OPT_POOL:
			attr.pool_size = opt_number("--pool", optarg, UINT64_MAX);
			break;
		case OPT_ZEROCOPY:
			attr.flags |= KPORT_CREATE_ZEROCOPY;
			break;
		case OPT_FIXED:
			attr.flags |= KPORT_CREATE_FIXED;
			break;
		case OPT_MODE:
			errno = 0;
			attr.mode = (uint32_t)strtoul(optarg, &end, 8);
			if (errno || *end || !*optarg || attr.mode > 0777)
				usage_error("--mode: bad octal mode '%s'", optarg);
			break;
		case OPT_PROCESS:
			attr.flags |= KPORT_CREATE_PROCESS;
			break;
		case OPT_HOLD:
			hold = true;
			hold_secs = opt_number("--hold", optarg, UINT32_MAX);
			break;
		}
	}
	if (optind < argc)
		set_port(&ref, argv[optind++]);
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!ref.name)
		usage_error("no port name given");
	if ((attr.flags & KPORT_CREATE_PROCESS) && !hold)
		usage_error("--process needs --hold: the port dies with kportctl");
	if ((attr.flags & KPORT_CREATE_ZEROCOPY) && !attr.pool_size)
		usage_error("--zero-copy needs --pool");
	/*
	 * A pool is for messages too large for the queue: let one message
	 * fill it unless told otherwise (msg_size may not exceed pool_size,
	 * so the queue's default could even be too large for a tiny pool).
	 */
	if (attr.pool_size && !msg_size_given)
		attr.msg_size = attr.pool_size > UINT32_MAX ? UINT32_MAX :
				(uint32_t)attr.pool_size;

	need_device();
	fd = kport_create(ref.name, &attr);
	if (fd == -EINVAL)
		fail(EINVAL, "%s", create_einval_reason(ref.name, &attr));
	if (fd == -ENOBUFS && attr.pool_size)
		fail(ENOBUFS, "this user's quota of pool memory is used up");
	if (fd == -ENOMEM && attr.pool_size)
		fail(ENOMEM, "no memory for a %" PRIu64 "-byte pool", attr.pool_size);
	if (fd < 0)
		fail(-fd, NULL);
	if (hold)
		sleep_seconds(hold_secs);
	close(fd);
	return 0;
}

static int cmd_delete(int argc, char **argv)
{
	static const struct option opts[] = {
		OPTION("inbox", required_argument, OPT_INBOX),
		OPTION("help", no_argument, OPT_HELP),
		OPTIONS_END
	};
	struct port_ref ref = { 0 };
	int c, ret;

	while ((c = next_opt(argc, argv, opts, "h")) != -1)
		if (c == OPT_INBOX)
			set_inbox(&ref, optarg);
	if (optind < argc)
		set_port(&ref, argv[optind++]);
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	need_port(&ref);

	if (ref.name) {
		need_device();
		ret = kport_unlink(ref.name);
	} else {
		int fd = open_port(&ref, 0);

		ret = kport_delete(fd);
		close(fd);
	}
	if (ret < 0)
		fail(-ret, NULL);
	return 0;
}

static int cmd_send(int argc, char **argv)
{
	static const struct option opts[] = {
		OPTION("file", required_argument, 'f'),
		OPTION("nonblock", no_argument, 'n'),
		OPTION("timeout", required_argument, 't'),
		OPTION("priority", required_argument, 'p'),
		OPTION("inbox", required_argument, OPT_INBOX),
		OPTION("help", no_argument, OPT_HELP),
		OPTIONS_END
	};
	struct port_ref ref = { 0 };
	const char *file = NULL, *text = NULL;
	int64_t timeout_ms = -1;
	unsigned int prio = 0;
	bool nonblock = false, more = false;
	struct kport_stat st;
	size_t len;
	char *data;
	int c, fd, ret;

	while ((c = next_opt(argc, argv, opts, "f:nt:p:h")) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'n':
			nonblock = true;
			break;
		case 't':
			timeout_ms = (int64_t)opt_number("--timeout", optarg,
							 INT64_MAX / NSEC_PER_MSEC);
			break;
		case 'p':
			prio = (unsigned int)opt_number("--priority", optarg,
							KPORT_PRIO_MAX - 1);
			break;
		case OPT_INBOX:
			set_inbox(&ref, optarg);
			break;
		}
	}
	if (!ref.inbox && optind < argc)
		set_port(&ref, argv[optind++]);
	if (optind < argc)
		text = argv[optind++];
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	need_port(&ref);
	if (text && file)
		usage_error("give TEXT or --file, not both");
	if (nonblock && timeout_ms >= 0)
		usage_error("give --nonblock or --timeout, not both");

	fd = open_port(&ref, KPORT_RIGHT_SEND);
	ret = kport_stat(fd, &st);
	if (ret < 0)
		fail(-ret, NULL);

	if (text) {
		data = (char *)text;
		len = strlen(text);
	} else if (file) {
		int in = open(file, O_RDONLY | O_CLOEXEC);

		if (in < 0)
			fail(errno, "%s: %s", file, strerror(errno));
		/* One byte past the limit is enough to know it is too big. */
		data = read_input(in, file, st.msg_size, &len, &more);
		close(in);
	} else {
		data = read_input(STDIN_FILENO, "standard input", st.msg_size,
				  &len, &more);
	}

	if (nonblock)
		ret = kport_send(fd, data, len, prio, KPORT_MSG_NONBLOCK);
	else
		ret = kport_send_timeout(fd, data, len, prio,
					 timeout_ms < 0 ? -1 :
					 timeout_ms * NSEC_PER_MSEC);
	/* A pool port may be out of pool space while its queue has room. */
	switch (ret) {
	case 0:
		return 0;
	case -EAGAIN:
		fail(EAGAIN, st.capacity == 0 ? "no receiver is waiting" :
		     st.pool_size ? "the port or its pool is full" :
		     "the port is full");
	case -ETIMEDOUT:
		fail(ETIMEDOUT, "timed out after %" PRId64 " ms: %s", timeout_ms,
		     st.capacity == 0 ? "no receiver came" :
		     st.pool_size ? "the port or its pool stayed full" :
		     "the port stayed full");
	case -EMSGSIZE:
		if (st.port_flags & KPORT_CREATE_FIXED)
			fail(EMSGSIZE, "the port takes messages of exactly %u bytes, not %s%zu",
			     st.msg_size, more ? "more than " : "",
			     more ? (size_t)st.msg_size : len);
		fail(EMSGSIZE, "the message (%s%zu bytes) exceeds the port's %u-byte limit",
		     more ? "more than " : "", more ? (size_t)st.msg_size : len,
		     st.msg_size);
	default:
		fail(-ret, NULL);
	}
}

/*
 * One receive as the options ask.  With @pool (the port's pool, mapped),
 * a message that travelled through the pool is left there: *@data points
 * into the mapping, info->in_pool is set, and the caller releases the
 * slice once it has written the payload out.  Anything else is copied to
 * @buf and *@data == @buf.
 */
static ssize_t receive(int fd, const void *pool, char *buf, size_t len,
		       pid_t from, bool nonblock, int64_t timeout_ms,
		       const void **data, struct kport_info *info)
{
	struct kport_msg m;
	int ret;

	kport_prep_recv(&m, buf, len);
	if (pool)
		kport_msg_set_inplace(&m);
	if (from)
		kport_msg_set_from(&m, from);
	if (nonblock)
		kport_msg_set_nonblock(&m);
	else if (timeout_ms >= 0)
		kport_msg_set_timeout(&m, timeout_ms * NSEC_PER_MSEC);

	ret = kport_recvmsg(fd, &m);
	/* On EMSGSIZE, the size of the message that did not fit. */
	if (ret < 0) {
		memset(info, 0, sizeof(*info));
		info->len = m.len;
		return ret;
	}
	kport_msg_info(&m, info);
	*data = kport_msg_data(&m, pool);
	return (ssize_t)m.len;
}

static int cmd_recv(int argc, char **argv)
{
	static const struct option opts[] = {
		OPTION("file", required_argument, 'f'),
		OPTION("nonblock", no_argument, 'n'),
		OPTION("timeout", required_argument, 't'),
		OPTION("from", required_argument, OPT_FROM),
		OPTION("verbose", no_argument, 'v'),
		OPTION("inbox", required_argument, OPT_INBOX),
		OPTION("help", no_argument, OPT_HELP),
		OPTIONS_END
	};
	struct port_ref ref = { 0 };
	const char *file = NULL;
	int64_t timeout_ms = -1;
	bool nonblock = false, verbose = false;
	struct kport_info info;
	struct kport_stat st;
	void *pool = NULL;
	size_t pool_len = 0, buf_len;
	const void *data;
	const char *bytes;
	pid_t from = 0;
	int c, fd, ret, out = STDOUT_FILENO;
	ssize_t n;
	char *buf;

	while ((c = next_opt(argc, argv, opts, "f:nt:vh")) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'n':
			nonblock = true;
			break;
		case 't':
			timeout_ms = (int64_t)opt_number("--timeout", optarg,
							 INT64_MAX / NSEC_PER_MSEC);
			break;
		case OPT_FROM:
			from = opt_pid("--from", optarg);
			break;
		case 'v':
			verbose = true;
			break;
		case OPT_INBOX:
			set_inbox(&ref, optarg);
			break;
		}
	}
	if (!ref.inbox && optind < argc)
		set_port(&ref, argv[optind++]);
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	need_port(&ref);
	if (nonblock && timeout_ms >= 0)
		usage_error("give --nonblock or --timeout, not both");

	fd = open_port(&ref, KPORT_RIGHT_RECV);
	ret = kport_stat(fd, &st);
	if (ret < 0)
		fail(-ret, NULL);
	buf_len = st.msg_size;
	/*
	 * With the pool mapped, messages above the threshold are read where
	 * they lie, so the buffer only needs to hold the small ones.  If the
	 * mapping fails, a plain receive still works: it copies them out.
	 */
	if (st.pool_size && kport_pool_map(fd, 0, &pool, &pool_len) == 0 &&
	    st.pool_threshold < buf_len)
		buf_len = st.pool_threshold;
	buf = malloc(buf_len ? buf_len : 1);
	if (!buf)
		fail(ENOMEM, NULL);
	/*
	 * Open the output first: failing after the receive would lose the
	 * message.  Truncate it only once there is a message to put there.
	 */
	if (file) {
		out = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (out < 0)
			fail(errno, "%s: %s", file, strerror(errno));
	}

	for (;;) {
		n = receive(fd, pool, buf, buf_len, from, nonblock, timeout_ms,
			    &data, &info);
		/*
		 * Only with a pool can a message outgrow the buffer (one not
		 * in the pool after all): it stays first in line, so make
		 * room and take it again.
		 */
		if (n != -EMSGSIZE || !pool || info.len <= buf_len ||
		    info.len > st.msg_size)
			break;
		free(buf);
		buf_len = info.len;
		buf = malloc(buf_len);
		if (!buf)
			fail(ENOMEM, NULL);
	}
	if (n < 0) {
		switch (n) {
		case -EAGAIN:
			if (from)
				fail(EAGAIN, "no message from pid %d is waiting",
				     (int)from);
			fail(EAGAIN, "no message is waiting");
		case -ETIMEDOUT:
			fail(ETIMEDOUT, "timed out after %" PRId64 " ms", timeout_ms);
		case -ESRCH:
			fail(ESRCH, "no process %d", (int)from);
		case -EMSGSIZE:
			fail(EMSGSIZE, "a %zu-byte message does not fit the %zu-byte buffer",
			     info.len, buf_len);
		default:
			fail((int)-n, NULL);
		}
	}

	if (verbose) {
		fprintf(stderr, "from pid %d uid %u prio %u len %zu",
			(int)info.pid, (unsigned int)info.uid, info.priority,
			info.len);
		if (info.in_pool)
			fprintf(stderr, " (in place, pool offset %" PRIu64 ")",
				info.offset);
		fputc('\n', stderr);
	}
	/* The kernel vouches for the slice; check it against our mapping. */
	if (info.in_pool && (info.offset > pool_len ||
			     info.len > pool_len - info.offset))
		fail(EFAULT, "the kernel reported a slice (offset %" PRIu64 ", %zu bytes) outside the %zu-byte pool",
		     info.offset, info.len, pool_len);
	bytes = data;
	if (file && ftruncate(out, 0) < 0)
		fail(errno, "%s: %s", file, strerror(errno));
	if (write_all(out, bytes, (size_t)n) < 0 ||
	    (!file && (n == 0 || bytes[n - 1] != '\n') && write_all(out, "\n", 1) < 0))
		fail(errno, "writing %s: %s", file ? file : "standard output",
		     strerror(errno));
	if (file && close(out) < 0)
		fail(errno, "writing %s: %s", file, strerror(errno));
	/* Only now is the payload safe elsewhere: give the slice back. */
	if (info.in_pool) {
		ret = kport_release(fd, info.offset, info.len);
		if (ret < 0)
			fail(-ret, "releasing the pool slice at offset %" PRIu64 ": %s",
			     info.offset, strerror(-ret));
	}
	if (pool)
		kport_pool_unmap(pool, pool_len);
	return 0;
}

static void print_flags(uint64_t flags)
{
	static const struct { uint64_t bit; const char *word; } words[] = {
		{ KPORT_CREATE_FIXED, "fixed" },
		{ KPORT_CREATE_PROCESS, "process-owned" },
		{ KPORT_CREATE_INBOX, "inbox" },
		{ KPORT_CREATE_NONBLOCK, "nonblock" },
		{ KPORT_CREATE_ZEROCOPY, "zero-copy" },
	};
	const char *sep = "";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(words); i++) {
		if (flags & words[i].bit) {
			printf("%s%s", sep, words[i].word);
			sep = " ";
			flags &= ~words[i].bit;
		}
	}
	if (flags)
		printf("%s0x%" PRIx64, sep, flags);
	else if (!*sep)
		printf("none (kernel-owned)");
	putchar('\n');
}

static int cmd_stat(int argc, char **argv)
{
	static const struct option opts[] = {
		OPTION("inbox", required_argument, OPT_INBOX),
		OPTION("help", no_argument, OPT_HELP),
		OPTIONS_END
	};
	struct port_ref ref = { 0 };
	struct kport_stat st;
	int c, fd, ret;

	while ((c = next_opt(argc, argv, opts, "h")) != -1)
		if (c == OPT_INBOX)
			set_inbox(&ref, optarg);
	if (optind < argc)
		set_port(&ref, argv[optind++]);
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	need_port(&ref);

	/* Rights 0: a stat-only handle (the owner, or read or write granted). */
	fd = open_port(&ref, 0);
	ret = kport_stat(fd, &st);
	if (ret < 0)
		fail(-ret, NULL);
	st.name[KPORT_NAME_MAX - 1] = '\0';

	printf("id:                %" PRIu64 "\n", (uint64_t)st.id);
	if (st.name[0])
		printf("name:              %s\n", st.name);
	else if (st.port_flags & KPORT_CREATE_INBOX)
		printf("name:              (inbox of pid %d)\n", (int)st.owner_pid);
	else
		printf("name:              (anonymous)\n");
	printf("flags:             ");
	print_flags(st.port_flags);
	printf("mode:              %04o\n", st.mode);
	printf("uid:               %u\n", st.uid);
	printf("gid:               %u\n", st.gid);
	if (st.capacity == KPORT_CAPACITY_UNBOUNDED)
		printf("capacity:          unbounded\n");
	else if (st.capacity == 0)
		printf("capacity:          0 (rendezvous)\n");
	else
		printf("capacity:          %u\n", st.capacity);
	printf("msg size:          %u bytes %s\n", st.msg_size,
	       st.port_flags & KPORT_CREATE_FIXED ? "exactly" : "at most");
	if (st.pool_size) {
		printf("pool size:         %" PRIu64 " bytes\n",
		       (uint64_t)st.pool_size);
		printf("pool used:         %" PRIu64 " bytes\n",
		       (uint64_t)st.pool_used);
		printf("slices held:       %u\n", st.slices_held);
		printf("pool threshold:    %u bytes (longer messages use the pool)\n",
		       st.pool_threshold);
	} else {
		printf("pool size:         none\n");
	}
	printf("queued messages:   %u\n", st.nr_msgs);
	printf("queued bytes:      %" PRIu64 "\n", (uint64_t)st.bytes);
	printf("senders waiting:   %u\n", st.send_waiters);
	printf("receivers waiting: %u\n", st.recv_waiters);
	printf("sent:              %" PRIu64 "\n", (uint64_t)st.sent);
	printf("received:          %" PRIu64 "\n", (uint64_t)st.received);
	printf("handles:           %u (counting kportctl's own)\n", st.handles);
	if (st.owner_pid)
		printf("owner pid:         %d\n", (int)st.owner_pid);
	else if (st.port_flags & (KPORT_CREATE_PROCESS | KPORT_CREATE_INBOX))
		printf("owner pid:         0 (not visible here)\n");
	else
		printf("owner pid:         none (kernel-owned)\n");
	printf("status:            %s\n",
	       st.status & KPORT_STATUS_DEAD ? "dead (deleted)" : "alive");
	close(fd);
	return 0;
}

/*
 * Print @text, tab-separated lines, as a table with aligned columns.
 * Nothing of /proc/kport's column set is assumed, so a module that adds
 * columns still lists fine.
 */
static void print_table(char *text)
{
	size_t width[32] = { 0 };
	char *line, *p, *field;
	size_t col;
	int pass;

	/* Pass 0 measures, pass 1 prints; strsep() is undone after pass 0. */
	for (pass = 0; pass < 2; pass++) {
		for (line = text; *line; line = p) {
			p = strchr(line, '\n');
			p = p ? p + 1 : line + strlen(line);
			for (col = 0, field = line; field < p; col++) {
				size_t len = strcspn(field, "\t\n");
				bool last = field[len] != '\t' ||
					    col == ARRAY_SIZE(width) - 1;

				if (last)
					len = strcspn(field, "\n");
				if (!pass && len > width[col])
					width[col] = len;
				if (pass)
					printf("%-*.*s%s", last ? 0 : (int)width[col],
					       (int)len, field, last ? "\n" : "  ");
				field += len + 1;
				if (last)
					break;
			}
		}
	}
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		OPTION("help", no_argument, OPT_HELP),
		OPTIONS_END
	};
	static const char path[] = "/proc/kport";
	bool more;
	size_t len;
	char *text;
	int fd;

	while (next_opt(argc, argv, opts, "h") != -1)
		;
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			fail(ENOENT, "cannot open %s: %s; is the kport module loaded?",
			     path, strerror(ENOENT));
		fail(errno, "cannot open %s: %s", path, strerror(errno));
	}
	/* A seq_file may be read in pieces: take it all before printing. */
	text = read_input(fd, path, (size_t)64 << 20, &len, &more);
	close(fd);
	text = realloc(text, len + 1);
	if (!text)
		fail(ENOMEM, NULL);
	text[len] = '\0';
	print_table(text);
	if (fflush(stdout))
		fail(errno, "writing standard output: %s", strerror(errno));
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	static const struct option opts[] = {
		OPTION("help", no_argument, OPT_HELP),
		OPTIONS_END
	};
	static const struct { uint64_t bit; const char *word; } feats[] = {
		{ KPORT_FEAT_RENDEZVOUS, "rendezvous" },
		{ KPORT_FEAT_UNBOUNDED, "unbounded" },
		{ KPORT_FEAT_PRIORITY, "priorities" },
		{ KPORT_FEAT_DEADLINE, "deadlines" },
		{ KPORT_FEAT_PROCESS, "process-owned" },
		{ KPORT_FEAT_INBOX, "inboxes" },
		{ KPORT_FEAT_FROM_PID, "receive-from-pid" },
		{ KPORT_FEAT_FIXED, "fixed-size" },
		{ KPORT_FEAT_POOL, "pool" },
		{ KPORT_FEAT_ZEROCOPY, "zero-copy" },
		{ KPORT_FEAT_BATCH, "batch" },
#ifdef KPORT_FEAT_SENDRECV
		{ KPORT_FEAT_SENDRECV, "sendrecv" },
#endif
	};
	struct kport_version v;
	uint64_t rest;
	size_t i;
	int ret;

	while (next_opt(argc, argv, opts, "h") != -1)
		;
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);

	need_device();
	ret = kport_query_version(&v);
	if (ret < 0)
		fail(-ret, NULL);
	printf("kport module API version %u (kportctl built for %u)\n",
	       v.api_version, KPORT_API_VERSION);
	printf("features:");
	rest = v.features;
	for (i = 0; i < ARRAY_SIZE(feats); i++) {
		if (rest & feats[i].bit) {
			printf(" %s", feats[i].word);
			rest &= ~feats[i].bit;
		}
	}
	if (rest)
		printf(" 0x%" PRIx64, rest);
	printf("\n");
	printf("limits: names up to %u characters, messages up to %u bytes, capacity up to %u\n",
	       v.name_max ? v.name_max - 1 : 0, v.max_msg_size, v.max_capacity);
	if (v.features & KPORT_FEAT_POOL)
		printf("pools:  up to %" PRIu64 " bytes (messages up to the pool size); messages longer than %u bytes use the pool\n",
		       (uint64_t)v.max_pool_size, v.pool_threshold);
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs(usage_text, stdout);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *synopsis;
} commands[] = {
	{ "create", cmd_create, "NAME [--capacity N|unbounded] [--msg-size N] "
	  "[--fixed] [--pool SIZE [--zero-copy]] [--mode MODE] [--process] "
	  "[--hold SECONDS]" },
	{ "delete", cmd_delete, "NAME | --inbox PID" },
	{ "send", cmd_send, "NAME|--inbox PID [TEXT | --file F] [--nonblock] "
	  "[--timeout MS] [--priority P]" },
	{ "recv", cmd_recv, "NAME|--inbox PID [--file F] [--nonblock] "
	  "[--timeout MS] [--from PID] [-v]" },
	{ "stat", cmd_stat, "NAME | --inbox PID" },
	{ "list", cmd_list, "" },
	{ "version", cmd_version, "" },
	{ "help", cmd_help, "" },
	{ "--help", cmd_help, "" },
	{ "-h", cmd_help, "" },
};

static const char *synopsis(const char *cmd)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].synopsis;
	return "";
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return 2;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			cmd_name = commands[i].name;
			return commands[i].fn(argc - 1, argv + 1);
		}
	}
	usage_error("unknown command '%s'", argv[1]);
}
