// SPDX-License-Identifier: GPL-2.0
/*
 * kportctl: create, inspect and use kport ports from the shell.
 *
 * Every subcommand is one short-lived process, so a port made here is
 * kernel-owned unless --process is given, in which case the port lives
 * only as long as this process holds its creating handle (--hold).
 *
 * Exit status (EXIT_* below; the same words are in the help text,
 * kportctl(1) and the README): 0 on success; 1 when the operation fails
 * (one line on stderr: "kportctl: COMMAND PORT: what happened (ERRNO)");
 * 2 on a usage error; 3 when it would have had to wait (EAGAIN) or its
 * timeout passed (ETIMEDOUT), so that a script can tell "nothing there
 * yet" from a failure without reading stderr.
 *
 * --json (list, stat, recv) prints one JSON object or array on standard
 * output, with the keys kportctl(1) lists; without it the text output is
 * what it always was, for the scripts that read it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kport.h"

#ifndef KPORT_VERSION
#define KPORT_VERSION	"unknown"
#endif

#define NSEC_PER_MSEC	1000000LL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum {
	EXIT_OK		= 0,
	EXIT_ERROR	= 1,	/* the operation failed */
	EXIT_USAGE	= 2,	/* the command line was wrong */
	EXIT_WOULDBLOCK	= 3,	/* EAGAIN or ETIMEDOUT */
};

/* What the error messages say the command was working on. */
static const char *cmd_name = "";
static char port_label[KPORT_NAME_MAX + 32];

/* ---- Commands and their help ---------------------------------------------- */

static int cmd_create(int argc, char **argv);
static int cmd_delete(int argc, char **argv);
static int cmd_send(int argc, char **argv);
static int cmd_recv(int argc, char **argv);
static int cmd_stat(int argc, char **argv);
static int cmd_chmod(int argc, char **argv);
static int cmd_chown(int argc, char **argv);
static int cmd_list(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

/*
 * Each command's help is kept here once: "kportctl CMD --help" and
 * "kportctl help CMD" print the command's, "kportctl help" all of them.
 */
struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *synopsis;	/* what follows "kportctl NAME" */
	const char *help;	/* lines of at most 70 columns */
	bool takes_port;
};

static const struct command commands[] = {
	{ "create", cmd_create,
	  "NAME [--capacity N|unbounded] [--msg-size N] [--fixed] "
	  "[--pool SIZE [--zero-copy]] [--mode MODE] [--process] "
	  "[--hold SECONDS]",
	  "Create a port (defaults: capacity 16, msg size 8192, mode 0600).\n"
	  "Sizes take K, M or G suffixes.  Capacity 0 makes a rendezvous port.\n"
	  "--fixed: every message is exactly msg-size bytes.\n"
	  "--pool: give the port a shared-memory pool of SIZE bytes (a\n"
	  "multiple of the page size) for large messages; msg-size may then\n"
	  "be up to SIZE and defaults to it.  --zero-copy: senders may also\n"
	  "fill slices of the pool themselves (borrow/post).\n"
	  "--hold: keep the creating handle open for SECONDS, then exit.\n"
	  "--process: the port is deleted when that handle goes away (so it\n"
	  "needs --hold).\n", false },
	{ "delete", cmd_delete, "PORT",
	  "Delete a port; its queued messages are dropped and its waiters\n"
	  "fail with EIDRM.\n", true },
	{ "send", cmd_send,
	  "PORT [TEXT | --file F] [--nonblock] [--timeout MS] [--priority P]",
	  "Send TEXT, the contents of F, or standard input as one message.\n"
	  "A message longer than the port's pool threshold goes through\n"
	  "its pool.  --priority: higher goes first (default 0, the lowest).\n"
	  "--nonblock: fail at once (exit status 3) if the send would wait;\n"
	  "--timeout: wait at most MS milliseconds (then exit status 3).\n",
	  true },
	{ "recv", cmd_recv,
	  "PORT [--file F] [--nonblock] [--timeout MS] [--from PID] [-v] "
	  "[--json]",
	  "Receive one message and write it to standard output (adding a\n"
	  "newline if it lacks one) or to F.  --from: accept only a message\n"
	  "sent by PID.  -v: print the sender, priority and size to stderr.\n"
	  "--nonblock and --timeout as for send (exit status 3: no message).\n"
	  "--json: print one JSON object on standard output instead: the\n"
	  "sender, priority and size, and the message as it is (\"encoding\"\n"
	  "\"utf-8\" if it is valid UTF-8, else \"base64\"), or with --file,\n"
	  "the file's name (the message goes to F).\n"
	  "On a port with a pool, a pool message is written out straight\n"
	  "from the pool (received in place, then released).\n", true },
	{ "stat", cmd_stat, "PORT [--json]",
	  "Show a port's attributes and counters (--json: as one JSON\n"
	  "object).\n", true },
	{ "chmod", cmd_chmod, "MODE PORT",
	  "Change who may open the port: MODE is octal, 0777 at most (its\n"
	  "owner, or CAP_FOWNER).  Handles already open keep their rights.\n",
	  true },
	{ "chown", cmd_chown, "OWNER[:GROUP] | :GROUP PORT",
	  "Change the port's owner (CAP_CHOWN) and/or group (CAP_CHOWN, or\n"
	  "its owner to a group it is in), by name or number.\n", true },
	{ "list", cmd_list, "[--json]",
	  "List the ports, as /proc/kport has them (--json: as a JSON array\n"
	  "of objects keyed by /proc/kport's column names).\n", false },
	{ "version", cmd_version, "",
	  "Show the module's API version, features and limits (kportctl\n"
	  "--version shows kportctl's own).\n", false },
	{ "help", cmd_help, "[COMMAND]",
	  "Show COMMAND's help (as kportctl COMMAND --help does), or this\n"
	  "overview.\n", false },
};

static const char port_text[] =
"A PORT is a port NAME, or --inbox PID for the inbox of process PID.\n";

static const char exit_text[] =
"Exit status: 0 on success, 1 if the operation failed, 2 on usage errors,\n"
"3 if it would have had to wait (EAGAIN) or its timeout passed (ETIMEDOUT).\n";

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/*
 * "@prefix SYNOPSIS", wrapped before 79 columns between bracketed
 * groups only, continuation lines aligned under the first word.
 */
static void print_synopsis(FILE *f, const char *prefix, const char *syn)
{
	size_t indent = strlen(prefix) + 1, col = indent - 1;
	const char *p = syn;

	fputs(prefix, f);
	while (*p) {
		const char *q = p;
		int depth = 0;
		size_t len;

		while (*q && (depth || *q != ' ')) {
			depth += (*q == '[') - (*q == ']');
			q++;
		}
		len = (size_t)(q - p);
		if (col > indent && col + 1 + len > 78) {
			fprintf(f, "\n%*s", (int)indent - 1, "");
			col = indent - 1;
		}
		fputc(' ', f);
		fwrite(p, 1, len, f);
		col += 1 + len;
		p = *q ? q + 1 : q;
	}
	fputc('\n', f);
}

/* @text, each of its lines indented by @indent spaces. */
static void print_indented(FILE *f, const char *text, int indent)
{
	while (*text) {
		size_t len = strcspn(text, "\n");

		fprintf(f, "%*s%.*s\n", indent, "", (int)len, text);
		text += len + (text[len] == '\n');
	}
}

static void command_help(FILE *f, const struct command *c)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "usage: kportctl %s", c->name);
	print_synopsis(f, prefix, c->synopsis);
	fputc('\n', f);
	if (c->takes_port)
		fprintf(f, "%s\n", port_text);
	fprintf(f, "%s\n%s", c->help, exit_text);
}

static void global_help(FILE *f)
{
	size_t i;

	fputs("usage: kportctl COMMAND [ARGUMENTS]\n"
	      "       kportctl --version | --help\n\n", f);
	fputs(port_text, f);
	fputc('\n', f);
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "  %s", commands[i].name);
		print_synopsis(f, prefix, commands[i].synopsis);
		print_indented(f, commands[i].help, 8);
	}
	fprintf(f, "\nRun 'kportctl help COMMAND' for one command's help.\n%s",
		exit_text);
}

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
	if (*cmd_name) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "usage: kportctl %s", cmd_name);
		print_synopsis(stderr, prefix, find_command(cmd_name)->synopsis);
		fprintf(stderr, "Run 'kportctl help %s' for details.\n", cmd_name);
	} else {
		fputs("usage: kportctl COMMAND [ARGUMENTS]\n"
		      "Run 'kportctl help' for details.\n", stderr);
	}
	exit(EXIT_USAGE);
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
 * Report a failure and exit EXIT_ERROR.  @err is a positive errno; @fmt,
 * if not NULL, replaces the generic description.
 */
static void __attribute__((noreturn))
vfail(int status, int err, const char *fmt, va_list ap)
{
	fprintf(stderr, "kportctl: %s%s%s: ", cmd_name,
		*port_label ? " " : "", port_label);
	if (fmt)
		vfprintf(stderr, fmt, ap);
	else
		fputs(friendly(err), stderr);
	fprintf(stderr, " (%s)\n", errno_name(err));
	exit(status);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(EXIT_ERROR, err, fmt, ap);
}

/*
 * A send or receive that would have had to wait, or whose timeout passed:
 * EXIT_WOULDBLOCK, and only from there.  An EAGAIN or ETIMEDOUT from
 * anything else (a non-blocking standard output, a socket) is a failure:
 * a script that retries on 3 must never retry after a message was taken.
 */
static void __attribute__((noreturn, format(printf, 2, 3)))
fail_wait(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(EXIT_WOULDBLOCK, err, fmt, ap);
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
	OPT_INBOX, OPT_POOL, OPT_ZEROCOPY, OPT_JSON, OPT_HELP,
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
		command_help(stdout, find_command(cmd_name));
		exit(fflush(stdout) ? EXIT_ERROR : EXIT_OK);
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
 * A descriptor we were given may be non-blocking (the caller's choice):
 * wait until it is ready rather than fail.  0, or -1 with errno set.
 */
static int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
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
		if (r < 0 && errno == EAGAIN && wait_fd(fd, POLLIN) == 0)
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
		if (r < 0 && errno == EAGAIN && wait_fd(fd, POLLOUT) == 0)
			continue;
		if (r < 0)
			return -errno;
		buf += r;
		len -= (size_t)r;
	}
	return 0;
}

/* ---- JSON output ---------------------------------------------------------- */

/*
 * The length of the well-formed UTF-8 sequence at @s (of @n bytes), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF (RFC 3629).
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned int cp, need, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 2;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 3;
	else
		return 0;
	if (n <= need)
		return 0;
	cp = s[0] & (0x3f >> need);
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need + 1;
}

static bool utf8_valid(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t n;

	while (len) {
		n = utf8_len(s, len);
		if (!n)
			return false;
		s += n;
		len -= n;
	}
	return true;
}

/*
 * @len bytes of @buf as a JSON string.  Runs of characters that need no
 * escape go out in one fwrite(); a byte that is not part of valid UTF-8
 * becomes U+FFFD, so the output is valid JSON whatever the input.
 */
static void json_string(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf, *run = s;
	const unsigned char *end = s + len;

	putchar('"');
	while (s < end) {
		size_t n = utf8_len(s, (size_t)(end - s));

		if (n == 1 && *s >= 0x20 && *s != '"' && *s != '\\' &&
		    *s != 0x7f) {
			s++;
			continue;
		}
		if (n > 1) {
			s += n;
			continue;
		}
		fwrite(run, 1, (size_t)(s - run), stdout);
		switch (n ? *s : 0x100) {
		case '"':	fputs("\\\"", stdout); break;
		case '\\':	fputs("\\\\", stdout); break;
		case '\n':	fputs("\\n", stdout); break;
		case '\t':	fputs("\\t", stdout); break;
		case '\r':	fputs("\\r", stdout); break;
		case 0x100:	fputs("\\ufffd", stdout); break;
		default:	printf("\\u%04x", *s); break;
		}
		run = ++s;
	}
	fwrite(run, 1, (size_t)(s - run), stdout);
	putchar('"');
}

static void json_cstring(const char *s)
{
	json_string(s, strlen(s));
}

/* @len bytes of @buf in base64 (RFC 4648, padded), as a JSON string. */
static void json_base64(const char *buf, size_t len)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = (const unsigned char *)buf;
	char out[4];
	size_t i;

	putchar('"');
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];

		out[0] = digits[v >> 18];
		out[1] = digits[(v >> 12) & 63];
		out[2] = digits[(v >> 6) & 63];
		out[3] = digits[v & 63];
		fwrite(out, 1, 4, stdout);
	}
	if (i < len) {
		uint32_t v = (uint32_t)s[i] << 16 |
			     (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0);

		out[0] = digits[v >> 18];
		out[1] = digits[(v >> 12) & 63];
		out[2] = i + 1 < len ? digits[(v >> 6) & 63] : '=';
		out[3] = '=';
		fwrite(out, 1, 4, stdout);
	}
	putchar('"');
}

/* Standard output is where the output went: a failed write is a failure. */
static void flush_stdout(void)
{
	if (fflush(stdout) || ferror(stdout))
		fail(errno ? errno : EIO, "writing standard output: %s",
		     strerror(errno ? errno : EIO));
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
		fail_wait(EAGAIN, st.capacity == 0 ? "no receiver is waiting" :
		     st.pool_size ? "the port or its pool is full" :
		     "the port is full");
	case -ETIMEDOUT:
		fail_wait(ETIMEDOUT, "timed out after %" PRId64 " ms: %s", timeout_ms,
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

/*
 * recv's --file, opened before the receive: failing after it would lose
 * the message.  A FIFO is opened without waiting for a reader (ENXIO if
 * there is none: better than blocking before a --nonblock receive), then
 * written to blocking.  *@created: we made the file (to remove if no
 * message comes); *@regular: its old contents are to be replaced.
 */
static int open_output(const char *file, bool *created, bool *regular)
{
	struct stat sb;
	int fd, flags;

	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NONBLOCK, 0644);
	*created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = open(file, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		fail(errno, "%s: %s", file, strerror(errno));
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
	    fstat(fd, &sb) < 0)
		fail(errno, "%s: %s", file, strerror(errno));
	*regular = S_ISREG(sb.st_mode);
	return fd;
}

/*
 * recv --json: what -v says, then the message itself (or, with --file,
 * where it went).  The data is exactly the payload: no newline added.
 */
static void print_recv_json(const struct kport_info *info, const char *file,
			    const char *data, size_t len)
{
	printf("{\"sender_pid\":%d,\"sender_uid\":%u,\"priority\":%u,\"size\":%zu,",
	       (int)info->pid, (unsigned int)info->uid, info->priority,
	       info->len);
	printf("\"in_pool\":%s,\"pool_offset\":", info->in_pool ? "true" : "false");
	if (info->in_pool)
		printf("%" PRIu64 ",", info->offset);
	else
		printf("null,");
	if (file) {
		printf("\"file\":");
		json_cstring(file);
	} else if (utf8_valid(data, len)) {
		printf("\"encoding\":\"utf-8\",\"data\":");
		json_string(data, len);
	} else {
		printf("\"encoding\":\"base64\",\"data\":");
		json_base64(data, len);
	}
	printf("}\n");
	flush_stdout();
}

static int cmd_recv(int argc, char **argv)
{
	static const struct option opts[] = {
		OPTION("file", required_argument, 'f'),
		OPTION("nonblock", no_argument, 'n'),
		OPTION("timeout", required_argument, 't'),
		OPTION("from", required_argument, OPT_FROM),
		OPTION("verbose", no_argument, 'v'),
		OPTION("json", no_argument, OPT_JSON),
		OPTION("inbox", required_argument, OPT_INBOX),
		OPTION("help", no_argument, OPT_HELP),
		OPTIONS_END
	};
	struct port_ref ref = { 0 };
	const char *file = NULL;
	int64_t timeout_ms = -1;
	bool nonblock = false, verbose = false, json = false;
	bool created = false, regular = false;
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
		case OPT_JSON:
			json = true;
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
	if (file)
		out = open_output(file, &created, &regular);

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
	/* Nothing came: leave no empty file behind that we made. */
	if (n < 0 && created)
		unlink(file);
	if (n < 0) {
		switch (n) {
		case -EAGAIN:
			if (from)
				fail_wait(EAGAIN, "no message from pid %d is waiting",
					  (int)from);
			fail_wait(EAGAIN, "no message is waiting");
		case -ETIMEDOUT:
			fail_wait(ETIMEDOUT, "timed out after %" PRId64 " ms",
				  timeout_ms);
		case -ESRCH:
			fail(ESRCH, "no process %d", (int)from);
		case -EMSGSIZE:
			fail(EMSGSIZE, "a %zu-byte message does not fit the %zu-byte buffer",
			     info.len, buf_len);
		default:
			fail((int)-n, NULL);
		}
	}

	if (verbose && !json) {
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
	/* Only a regular file has contents to replace (not a FIFO, a tty). */
	if (regular && ftruncate(out, 0) < 0)
		fail(errno, "%s: %s", file, strerror(errno));
	if (json && !file) {
		print_recv_json(&info, NULL, bytes, (size_t)n);
	} else if (write_all(out, bytes, (size_t)n) < 0 ||
		   (!file && (n == 0 || bytes[n - 1] != '\n') &&
		    write_all(out, "\n", 1) < 0)) {
		fail(errno, "writing %s: %s", file ? file : "standard output",
		     strerror(errno));
	}
	if (file && close(out) < 0)
		fail(errno, "writing %s: %s", file, strerror(errno));
	if (json && file)
		print_recv_json(&info, file, NULL, 0);
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

/*
 * chmod and chown: PORT (a name or --inbox PID) and one more operand,
 * then the change on a handle with no right (the owner may open one,
 * as may whoever the mode grants anything, or CAP_IPC_OWNER).
 */
static int setattr_common(int argc, char **argv, const char **operand,
			  void (*parse)(const char *))
{
	static const struct option opts[] = {
		OPTION("inbox", required_argument, OPT_INBOX),
		OPTION("help", no_argument, OPT_HELP),
		OPTIONS_END
	};
	struct port_ref ref = { 0 };
	int c;

	while ((c = next_opt(argc, argv, opts, "h")) != -1)
		if (c == OPT_INBOX)
			set_inbox(&ref, optarg);
	if (optind >= argc)
		usage_error("no %s given", !strcmp(cmd_name, "chmod") ? "mode" :
			    "owner or group");
	*operand = argv[optind++];
	if (!ref.inbox && optind < argc)
		set_port(&ref, argv[optind++]);
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	need_port(&ref);
	/* A usage error is a usage error, whether the port exists or not. */
	parse(*operand);
	return open_port(&ref, 0);
}

static void setattr_done(int ret)
{
	if (ret == -EPERM)
		fail(EPERM, "not the port's owner, or without the capability (both the handle's opener and the caller need it)");
	if (ret == -EINVAL)
		fail(EINVAL, "that id means nothing where the port lives");
	if (ret < 0)
		fail(-ret, NULL);
}

static unsigned long chmod_mode;

static void parse_mode(const char *arg)
{
	char *end;

	errno = 0;
	chmod_mode = strtoul(arg, &end, 8);
	if (errno || *end || !*arg || chmod_mode > 0777)
		usage_error("bad octal mode '%s'", arg);
}

static int cmd_chmod(int argc, char **argv)
{
	const char *arg;
	int fd;

	fd = setattr_common(argc, argv, &arg, parse_mode);
	setattr_done(kport_chmod(fd, (mode_t)chmod_mode));
	close(fd);
	return 0;
}

/* A user or group by name or number; -1 (unchanged) for "". */
static long id_of(const char *s, bool group)
{
	unsigned long v;
	char *end;

	if (!*s)
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!errno && !*end && *s >= '0' && *s <= '9' && v < UINT32_MAX)
		return (long)v;
	if (group) {
		struct group *g = getgrnam(s);

		if (g)
			return (long)g->gr_gid;
	} else {
		struct passwd *p = getpwnam(s);

		if (p)
			return (long)p->pw_uid;
	}
	usage_error("no such %s '%s'", group ? "group" : "user", s);
}

static long chown_uid, chown_gid;

static void parse_owner(const char *arg)
{
	const char *colon = strchr(arg, ':');
	char user[256];

	snprintf(user, sizeof(user), "%.*s",
		 colon ? (int)(colon - arg) : (int)strlen(arg), arg);
	chown_uid = id_of(user, false);
	chown_gid = colon ? id_of(colon + 1, true) : -1;
	if (chown_uid < 0 && chown_gid < 0)
		usage_error("give an owner, a group, or both");
}

static int cmd_chown(int argc, char **argv)
{
	const char *arg;
	int fd;

	fd = setattr_common(argc, argv, &arg, parse_owner);
	setattr_done(kport_chown(fd, chown_uid < 0 ? (uid_t)-1 : (uid_t)chown_uid,
				 chown_gid < 0 ? (gid_t)-1 : (gid_t)chown_gid));
	close(fd);
	return 0;
}

static const struct { uint64_t bit; const char *word; } port_flag_words[] = {
	{ KPORT_CREATE_FIXED, "fixed" },
	{ KPORT_CREATE_PROCESS, "process-owned" },
	{ KPORT_CREATE_INBOX, "inbox" },
	{ KPORT_CREATE_NONBLOCK, "nonblock" },
	{ KPORT_CREATE_ZEROCOPY, "zero-copy" },
};

/*
 * The words for @flags' known bits, each within @quote, @between them.
 * Returns the bits no word is known for; *@any tells if a word came out.
 */
static uint64_t print_flag_words(uint64_t flags, const char *quote,
				 const char *between, bool *any)
{
	size_t i;

	*any = false;
	for (i = 0; i < ARRAY_SIZE(port_flag_words); i++) {
		if (flags & port_flag_words[i].bit) {
			printf("%s%s%s%s", *any ? between : "", quote,
			       port_flag_words[i].word, quote);
			*any = true;
			flags &= ~port_flag_words[i].bit;
		}
	}
	return flags;
}

static void print_flags(uint64_t flags)
{
	bool any;
	uint64_t rest = print_flag_words(flags, "", " ", &any);

	if (rest)
		printf("%s0x%" PRIx64, any ? " " : "", rest);
	else if (!any)
		printf("none (kernel-owned)");
	putchar('\n');
}

/*
 * stat --json.  Kernel-owned ports have no owner (null); a process-owned
 * port or inbox whose owner is not visible in our pid namespace has 0.
 */
static void print_stat_json(const struct kport_stat *st)
{
	uint64_t rest;
	bool any;

	printf("{\"id\":%" PRIu64 ",\"name\":", (uint64_t)st->id);
	json_cstring(st->name);
	printf(",\"flags\":[");
	rest = print_flag_words(st->port_flags, "\"", ",", &any);
	if (rest)
		printf("%s\"0x%" PRIx64 "\"", any ? "," : "", rest);
	printf("],\"mode\":\"%04o\",\"uid\":%u,\"gid\":%u,\"capacity\":",
	       st->mode, st->uid, st->gid);
	if (st->capacity == KPORT_CAPACITY_UNBOUNDED)
		printf("\"unbounded\"");
	else
		printf("%u", st->capacity);
	printf(",\"msg_size\":%u,\"fixed\":%s", st->msg_size,
	       st->port_flags & KPORT_CREATE_FIXED ? "true" : "false");
	printf(",\"pool\":%" PRIu64 ",\"pool_used\":%" PRIu64
	       ",\"pool_slices_held\":%u,\"pool_threshold\":%u",
	       (uint64_t)st->pool_size, (uint64_t)st->pool_used,
	       st->slices_held, st->pool_threshold);
	printf(",\"msgs\":%u,\"bytes\":%" PRIu64 ",\"senders\":%u,\"receivers\":%u",
	       st->nr_msgs, (uint64_t)st->bytes, st->send_waiters,
	       st->recv_waiters);
	printf(",\"sent\":%" PRIu64 ",\"received\":%" PRIu64 ",\"handles\":%u",
	       (uint64_t)st->sent, (uint64_t)st->received, st->handles);
	if (st->owner_pid ||
	    (st->port_flags & (KPORT_CREATE_PROCESS | KPORT_CREATE_INBOX)))
		printf(",\"owner_pid\":%d", (int)st->owner_pid);
	else
		printf(",\"owner_pid\":null");
	printf(",\"status\":\"%s\"}\n",
	       st->status & KPORT_STATUS_DEAD ? "dead" : "alive");
	flush_stdout();
}

static int cmd_stat(int argc, char **argv)
{
	static const struct option opts[] = {
		OPTION("inbox", required_argument, OPT_INBOX),
		OPTION("json", no_argument, OPT_JSON),
		OPTION("help", no_argument, OPT_HELP),
		OPTIONS_END
	};
	struct port_ref ref = { 0 };
	struct kport_stat st;
	bool json = false;
	int c, fd, ret;

	while ((c = next_opt(argc, argv, opts, "h")) != -1) {
		if (c == OPT_INBOX)
			set_inbox(&ref, optarg);
		else if (c == OPT_JSON)
			json = true;
	}
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

	if (json) {
		print_stat_json(&st);
		close(fd);
		return 0;
	}
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
	flush_stdout();
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

/*
 * Whether list --json gives a /proc/kport field as a number: all decimal
 * digits, no leading zero (JSON has none), and not one of the columns
 * that are words whatever they look like (a port may be named "42").
 */
static bool list_field_is_number(const char *key, const char *v)
{
	static const char *const words[] = { "name", "flags", "mode" };
	size_t i, len = strlen(v);

	if (!len || len > 20 || (len > 1 && v[0] == '0') ||
	    strspn(v, "0123456789") != len)
		return false;
	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcmp(key, words[i]))
			return false;
	return true;
}

/* Cut the line at @*text off, NUL-terminated; advance @*text past it. */
static char *next_line(char **text)
{
	char *line = *text, *nl = strchr(line, '\n');

	if (nl) {
		*nl = '\0';
		*text = nl + 1;
	} else {
		*text = line + strlen(line);
	}
	return line;
}

/*
 * list --json: the header line names the keys, so the columns a later
 * module adds come out too.  Every line is checked against the header:
 * a line that does not fit it is an error, not a guess.
 */
static void print_list_json(char *text)
{
	static const char path[] = "/proc/kport";
	char *keys[64], *line, *field;
	size_t nkeys = 0, col;
	const char *sep = "";

	char *rest;

	line = next_line(&text);
	while ((field = strsep(&line, "\t")) && nkeys < ARRAY_SIZE(keys))
		keys[nkeys++] = field;
	if (field || !nkeys || !*keys[0])
		fail(EPROTO, "%s: unexpected header", path);
	/* Every line checked before anything is printed: no half an array. */
	for (rest = text; *rest; rest += strcspn(rest, "\n") + !!rest[strcspn(rest, "\n")]) {
		size_t len = strcspn(rest, "\n"), tabs = 0, i;

		for (i = 0; i < len; i++)
			tabs += rest[i] == '\t';
		if (tabs + 1 != nkeys)
			fail(EPROTO, "%s: a line has %zu fields, the header %zu",
			     path, tabs + 1, nkeys);
	}
	putchar('[');
	while (*text) {
		line = next_line(&text);
		printf("%s\n  {", sep);
		sep = ",";
		for (col = 0; (field = strsep(&line, "\t")); col++) {
			printf("%s", col ? "," : "");
			json_cstring(keys[col]);
			putchar(':');
			/* "-" is an anonymous port's name (no port may be named so). */
			if (!strcmp(keys[col], "name") && !strcmp(field, "-"))
				json_cstring("");
			else if (list_field_is_number(keys[col], field))
				fputs(field, stdout);
			else
				json_cstring(field);
		}
		putchar('}');
	}
	printf("%s]\n", *sep ? "\n" : "");
	flush_stdout();
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		OPTION("json", no_argument, OPT_JSON),
		OPTION("help", no_argument, OPT_HELP),
		OPTIONS_END
	};
	static const char path[] = "/proc/kport";
	bool more, json = false;
	size_t len;
	char *text;
	int c, fd;

	while ((c = next_opt(argc, argv, opts, "h")) != -1)
		if (c == OPT_JSON)
			json = true;
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
	if (json) {
		print_list_json(text);
		return 0;
	}
	print_table(text);
	flush_stdout();
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
#ifdef KPORT_FEAT_SETATTR
		{ KPORT_FEAT_SETATTR, "setattr" },
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
	flush_stdout();
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	static const struct option opts[] = {
		OPTION("help", no_argument, OPT_HELP),
		OPTIONS_END
	};
	const struct command *c = NULL;

	while (next_opt(argc, argv, opts, "h") != -1)
		;
	if (optind < argc) {
		c = find_command(argv[optind]);
		if (!c)
			usage_error("unknown command '%s'", argv[optind]);
		optind++;
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (c)
		command_help(stdout, c);
	else
		global_help(stdout);
	return fflush(stdout) ? EXIT_ERROR : EXIT_OK;
}

/* stdout's writes, through write_all(): see stdio_setup(). */
static ssize_t stdout_write(void *cookie, const char *buf, size_t len)
{
	int ret = write_all(STDOUT_FILENO, buf, len);

	(void)cookie;
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return (ssize_t)len;
}

/*
 * Descriptors 0-2 closed by whoever ran us would be taken by the next
 * open() (/dev/kport as standard output, and a message written into the
 * device): hold them with /dev/null.  And stdio gives up on a
 * non-blocking standard output that is full (EAGAIN), dropping what it
 * held; its writes go through write_all(), which waits instead, without
 * changing the flags of a file description others may share.
 */
static void stdio_setup(void)
{
	static const cookie_io_functions_t io = { .write = stdout_write };
	FILE *f;
	int fd;

	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", O_RDWR) != fd)
			exit(EXIT_ERROR);
	f = fopencookie(NULL, "w", io);
	if (f && !setvbuf(f, NULL, _IOFBF, 1 << 16))
		stdout = f;
}

int main(int argc, char **argv)
{
	const struct command *c;

	stdio_setup();

	if (argc < 2) {
		global_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		global_help(stdout);
		return fflush(stdout) ? EXIT_ERROR : EXIT_OK;
	}
	/* kportctl's own version: no device needed, unlike "version". */
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("kportctl %s (libkport API %u)\n", KPORT_VERSION,
		       KPORT_API_VERSION);
		return fflush(stdout) ? EXIT_ERROR : EXIT_OK;
	}
	c = find_command(argv[1]);
	if (!c)
		usage_error("unknown command '%s'", argv[1]);
	cmd_name = c->name;
	return c->fn(argc - 1, argv + 1);
}
