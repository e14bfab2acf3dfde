// SPDX-License-Identifier: GPL-2.0
/*
 * kportctl for scripts: exit statuses, --version, per-command help, and
 * the JSON of list, stat and recv, checked by a strict JSON parser (RFC
 * 8259: no trailing commas, no leading zeros, no duplicate keys, valid
 * UTF-8 and escapes) and against what the ioctls say.  The text output
 * scripts already read is checked too: --json must not have changed it.
 *
 * kportctl is run as a program (/usr/bin/kportctl in the VM, or
 * $KPORTCTL), with its standard output and error captured.
 */
#include "kport_test.h"
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define MSG_SIZE	256

static const char *kportctl(void)
{
	const char *p = getenv("KPORTCTL");

	return p && *p ? p : "/usr/bin/kportctl";
}

/* ---- Running kportctl ------------------------------------------------------ */

struct run {
	int status;		/* exit status, or 128 + signal */
	char *out, *err;	/* NUL-terminated; outlen counts NULs inside */
	size_t outlen, errlen;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	if (!*buf)
		abort();
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/*
 * Run kportctl with @argv (NULL-terminated, argv[0] excluded), feeding
 * @in to its standard input (NULL: /dev/null).  @hide_dev: in a mount
 * namespace of its own with an empty /dev, as on a machine without the
 * module.  0, or -errno if it could not be run.
 */
static int run_argv(struct run *r, const char *in, bool hide_dev,
		    const char *const *argv)
{
	const char *args[32];
	int po[2], pe[2], pi[2], status;
	size_t n;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	args[0] = kportctl();
	for (n = 0; argv[n]; n++) {
		if (n + 2 >= sizeof(args) / sizeof(args[0]))
			return -E2BIG;
		args[n + 1] = argv[n];
	}
	args[n + 1] = NULL;
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC) || pipe2(pi, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		if (hide_dev && (unshare(CLONE_NEWNS) ||
				 mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
				 mount("none", "/dev", "tmpfs", 0, NULL)))
			_exit(125);
		if (dup2(pi[0], 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
			_exit(126);
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	close(pi[0]);
	if (in)
		kt_write_full(pi[1], in, strlen(in));
	close(pi[1]);
	append(&r->out, &r->outlen, "", 0);
	append(&r->err, &r->errlen, "", 0);
	for (;;) {
		struct pollfd p[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
		char buf[4096];
		ssize_t got;
		int i, open = 0;

		if (poll(p, 2, KT_TIMEOUT_MS) <= 0)
			break;
		for (i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			got = read(p[i].fd, buf, sizeof(buf));
			if (got > 0) {
				if (i)
					append(&r->err, &r->errlen, buf, (size_t)got);
				else
					append(&r->out, &r->outlen, buf, (size_t)got);
			} else {
				close(p[i].fd);
				if (i)
					pe[0] = -1;
				else
					po[0] = -1;
			}
		}
		open = (po[0] >= 0) + (pe[0] >= 0);
		if (!open)
			break;
	}
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	status = kt_reap(pid, KT_TIMEOUT_MS);
	r->status = status;
	return 0;
}

#define RUN(r, ...) run_argv((r), NULL, false, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_IN(r, in, ...) run_argv((r), (in), false, (const char *const[]){ __VA_ARGS__, NULL })

/* ---- A strict JSON parser ------------------------------------------------- */

enum jtype { J_NULL, J_FALSE, J_TRUE, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT };

struct jv {
	enum jtype type;
	char *str;		/* J_STRING: decoded; J_NUMBER: as written */
	size_t len;
	size_t n;		/* J_ARRAY, J_OBJECT: members */
	struct jv *items;
	char **keys;		/* J_OBJECT: decoded, NUL-free (checked) */
};

struct jp {
	const char *s, *end;
	const char *err;
};

static void jv_free(struct jv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		jv_free(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

static void jp_ws(struct jp *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' ||
				 *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static bool jp_fail(struct jp *p, const char *why)
{
	if (!p->err)
		p->err = why;
	return false;
}

static int jp_hex4(struct jp *p)
{
	int v = 0, i;

	if (p->end - p->s < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = *p->s++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static void put_utf8(char **buf, size_t *len, unsigned int cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	append(buf, len, u, n);
}

/*
 * The length of the UTF8-char of RFC 3629's grammar at @s (of @n bytes),
 * 0 if there is none: range by range, as the RFC writes it, and not the
 * way kportctl decodes, so that the two do not share a mistake.
 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	static const struct {
		unsigned char lo, hi;	/* the first byte */
		unsigned char lo2, hi2;	/* the second; the rest 80-BF */
		size_t len;
	} rfc[] = {
		{ 0x00, 0x7f, 0x00, 0x00, 1 },
		{ 0xc2, 0xdf, 0x80, 0xbf, 2 },
		{ 0xe0, 0xe0, 0xa0, 0xbf, 3 },
		{ 0xe1, 0xec, 0x80, 0xbf, 3 },
		{ 0xed, 0xed, 0x80, 0x9f, 3 },
		{ 0xee, 0xef, 0x80, 0xbf, 3 },
		{ 0xf0, 0xf0, 0x90, 0xbf, 4 },
		{ 0xf1, 0xf3, 0x80, 0xbf, 4 },
		{ 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};
	size_t r, i;

	for (r = 0; r < sizeof(rfc) / sizeof(rfc[0]); r++) {
		if (s[0] < rfc[r].lo || s[0] > rfc[r].hi)
			continue;
		if (rfc[r].len == 1)
			return 1;
		if (n < rfc[r].len || s[1] < rfc[r].lo2 || s[1] > rfc[r].hi2)
			return 0;
		for (i = 2; i < rfc[r].len; i++)
			if (s[i] < 0x80 || s[i] > 0xbf)
				return 0;
		return rfc[r].len;
	}
	return 0;
}

static bool jp_string(struct jp *p, char **out, size_t *outlen)
{
	char *buf = NULL;
	size_t len = 0;

	p->s++;			/* the opening quote */
	append(&buf, &len, "", 0);
	while (p->s < p->end && *p->s != '"') {
		unsigned char c = (unsigned char)*p->s;

		if (c < 0x20)
			goto bad_ctl;
		if (c != '\\') {
			size_t n = utf8_seq((const unsigned char *)p->s,
					    (size_t)(p->end - p->s));

			if (!n)
				goto bad_utf8;
			append(&buf, &len, p->s, n);
			p->s += n;
			continue;
		}
		p->s++;
		if (p->s >= p->end)
			goto bad_esc;
		switch (*p->s++) {
		case '"': append(&buf, &len, "\"", 1); break;
		case '\\': append(&buf, &len, "\\", 1); break;
		case '/': append(&buf, &len, "/", 1); break;
		case 'b': append(&buf, &len, "\b", 1); break;
		case 'f': append(&buf, &len, "\f", 1); break;
		case 'n': append(&buf, &len, "\n", 1); break;
		case 'r': append(&buf, &len, "\r", 1); break;
		case 't': append(&buf, &len, "\t", 1); break;
		case 'u': {
			int hi = jp_hex4(p), lo;

			if (hi < 0)
				goto bad_esc;
			if (hi >= 0xdc00 && hi <= 0xdfff)
				goto bad_esc;
			if (hi >= 0xd800 && hi <= 0xdbff) {
				if (p->end - p->s < 2 || p->s[0] != '\\' ||
				    p->s[1] != 'u')
					goto bad_esc;
				p->s += 2;
				lo = jp_hex4(p);
				if (lo < 0xdc00 || lo > 0xdfff)
					goto bad_esc;
				hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
			}
			put_utf8(&buf, &len, (unsigned int)hi);
			break;
		}
		default:
			goto bad_esc;
		}
	}
	if (p->s >= p->end) {
		free(buf);
		return jp_fail(p, "unterminated string");
	}
	p->s++;
	*out = buf;
	*outlen = len;
	return true;
bad_ctl:
	free(buf);
	return jp_fail(p, "control character in a string");
bad_utf8:
	free(buf);
	return jp_fail(p, "invalid UTF-8 in a string");
bad_esc:
	free(buf);
	return jp_fail(p, "bad escape");
}

static bool jp_number(struct jp *p, struct jv *v)
{
	const char *start = p->s;

	if (p->s < p->end && *p->s == '-')
		p->s++;
	if (p->s < p->end && *p->s == '0') {
		p->s++;
	} else if (p->s < p->end && *p->s >= '1' && *p->s <= '9') {
		while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
			p->s++;
	} else {
		return jp_fail(p, "bad number");
	}
	if (p->s < p->end && *p->s == '.') {
		p->s++;
		if (p->s >= p->end || *p->s < '0' || *p->s > '9')
			return jp_fail(p, "bad fraction");
		while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
			p->s++;
	}
	if (p->s < p->end && (*p->s == 'e' || *p->s == 'E')) {
		p->s++;
		if (p->s < p->end && (*p->s == '+' || *p->s == '-'))
			p->s++;
		if (p->s >= p->end || *p->s < '0' || *p->s > '9')
			return jp_fail(p, "bad exponent");
		while (p->s < p->end && *p->s >= '0' && *p->s <= '9')
			p->s++;
	}
	v->type = J_NUMBER;
	v->len = (size_t)(p->s - start);
	v->str = strndup(start, v->len);
	return true;
}

static bool jp_value(struct jp *p, struct jv *v, int depth);

static bool jp_members(struct jp *p, struct jv *v, bool object, int depth)
{
	char close = object ? '}' : ']';

	p->s++;
	jp_ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		return true;
	}
	for (;;) {
		char *key = NULL;
		size_t keylen = 0, i;

		jp_ws(p);
		if (object) {
			if (p->s >= p->end || *p->s != '"')
				return jp_fail(p, "expected a key");
			if (!jp_string(p, &key, &keylen))
				return false;
			if (strlen(key) != keylen) {
				free(key);
				return jp_fail(p, "NUL in a key");
			}
			for (i = 0; i < v->n; i++) {
				if (!strcmp(v->keys[i], key)) {
					free(key);
					return jp_fail(p, "duplicate key");
				}
			}
			jp_ws(p);
			if (p->s >= p->end || *p->s != ':') {
				free(key);
				return jp_fail(p, "expected ':'");
			}
			p->s++;
		}
		v->items = realloc(v->items, (v->n + 1) * sizeof(*v->items));
		memset(&v->items[v->n], 0, sizeof(*v->items));
		if (object) {
			v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
			v->keys[v->n] = key;
		}
		v->n++;
		if (!jp_value(p, &v->items[v->n - 1], depth + 1))
			return false;
		jp_ws(p);
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			continue;
		}
		if (p->s < p->end && *p->s == close) {
			p->s++;
			return true;
		}
		return jp_fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool jp_literal(struct jp *p, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n))
		return jp_fail(p, "bad literal");
	p->s += n;
	return true;
}

static bool jp_value(struct jp *p, struct jv *v, int depth)
{
	if (depth > 32)
		return jp_fail(p, "too deep");
	jp_ws(p);
	if (p->s >= p->end)
		return jp_fail(p, "expected a value");
	switch (*p->s) {
	case '{':
		v->type = J_OBJECT;
		return jp_members(p, v, true, depth);
	case '[':
		v->type = J_ARRAY;
		return jp_members(p, v, false, depth);
	case '"':
		v->type = J_STRING;
		return jp_string(p, &v->str, &v->len);
	case 't':
		v->type = J_TRUE;
		return jp_literal(p, "true");
	case 'f':
		v->type = J_FALSE;
		return jp_literal(p, "false");
	case 'n':
		v->type = J_NULL;
		return jp_literal(p, "null");
	default:
		return jp_number(p, v);
	}
}

/*
 * Parse exactly one JSON text, then the newline kportctl ends it with.
 * NULL on success, else what was wrong.
 */
static const char *json_parse(const char *text, size_t len, struct jv *v)
{
	struct jp p = { text, text + len, NULL };

	memset(v, 0, sizeof(*v));
	if (len && text[len - 1] != '\n')
		return "no newline at the end";
	if (!jp_value(&p, v, 0)) {
		jv_free(v);
		return p.err;
	}
	jp_ws(&p);
	if (p.s != p.end) {
		jv_free(v);
		return "trailing characters";
	}
	return NULL;
}

static struct jv *jget(struct jv *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != J_OBJECT)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->items[i];
	return NULL;
}

/* @key's value, a JSON integer, as unsigned; -1 if absent or not that. */
static long long jnum(struct jv *obj, const char *key)
{
	struct jv *v = jget(obj, key);
	char *end;
	long long n;

	if (!v || v->type != J_NUMBER || strpbrk(v->str, ".eE"))
		return -1;
	n = strtoll(v->str, &end, 10);
	return *end ? -1 : n;
}

/*
 * @key's value if it is a string without NULs, else a marker no value
 * here equals (so that EXPECT_STREQ() fails rather than crashes).
 */
static const char *jstr(struct jv *obj, const char *key)
{
	struct jv *v = jget(obj, key);

	if (!v || v->type != J_STRING || strlen(v->str) != v->len)
		return "<not a string>";
	return v->str;
}

/* @key's value's type, -1 if there is no such key. */
static int jtype(struct jv *obj, const char *key)
{
	struct jv *v = jget(obj, key);

	return v ? (int)v->type : -1;
}

/* Whether @obj's keys are exactly @keys, in that order. */
static bool jkeys_are(struct jv *obj, const char *const *keys, size_t n)
{
	size_t i;

	if (!obj || obj->type != J_OBJECT || obj->n != n)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(obj->keys[i], keys[i]))
			return false;
	return true;
}

/* RFC 4648 base64, padded; the decoded length or -1. */
static ssize_t base64_decode(const char *s, size_t len, unsigned char *out)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	if (len % 4)
		return -1;
	for (i = 0; i < len; i += 4) {
		unsigned int v = 0, j, pad = 0;

		for (j = 0; j < 4; j++) {
			const char *d;

			if (s[i + j] == '=' && i + 4 == len && j >= 2) {
				pad++;
				v <<= 6;
				continue;
			}
			if (pad || !s[i + j])
				return -1;
			d = strchr(digits, s[i + j]);
			if (!d)
				return -1;
			v = v << 6 | (unsigned int)(d - digits);
		}
		if (pad == 1 && s[i + 3] != '=')
			return -1;
		out[o++] = (unsigned char)(v >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(v >> 8);
		if (pad < 1)
			out[o++] = (unsigned char)v;
	}
	return (ssize_t)o;
}

static uint64_t port_id(int fd)
{
	struct kport_stat st;

	return kt_stat(fd, &st) ? 0 : st.id;
}

/* ---- The checker checks ---------------------------------------------------- */

/* The parser must refuse what is not JSON, or its "valid" means nothing. */
TEST(json_checker_refuses_bad_json)
{
	static const char *const bad[] = {
		"", "{\n", "{}x\n", "{},\n", "[1,]\n", "{\"a\":1,}\n",
		"{\"a\":01}\n", "{\"a\":1,\"a\":2}\n", "{'a':1}\n",
		"\"\x01\"\n", "\"\\x\"\n", "\"\\ud800\"\n", "\"\xff\"\n",
		"\"\xc0\x80\"\n", "\"\xed\xa0\x80\"\n", "{\"a\" 1}\n",
		"[1 2]\n", "tru\n", "1.\n", "-\n", "{}",
	};
	static const char *const good[] = {
		"{}\n", "[]\n", "{\"a\":[1,-2.5e3,\"x\",true,false,null]}\n",
		"\"\\ud83d\\ude00\\u0000\xc3\xa9\"\n",
	};
	struct jv v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = json_parse(bad[i], strlen(bad[i]), &v);

		EXPECT_NE(NULL, err) {
			TH_LOG("accepted bad JSON #%zu", i);
			jv_free(&v);
		}
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *err = json_parse(good[i], strlen(good[i]), &v);

		EXPECT_EQ(NULL, err) TH_LOG("refused good JSON #%zu: %s", i, err);
		if (!err)
			jv_free(&v);
	}
}

/* ---- Exit statuses, --version, help -------------------------------------- */

FIXTURE(ctl) {
	char name[KPORT_NAME_MAX];
	int fd;
};

FIXTURE_SETUP(ctl)
{
	kt_name(self->name, _metadata->name);
	self->fd = -1;
}

FIXTURE_TEARDOWN(ctl)
{
	if (self->fd >= 0)
		close(self->fd);
	kt_unlink(self->name);
}

TEST(version_without_the_device)
{
	char want[64];
	struct run r;

	snprintf(want, sizeof(want), "(libkport API %u)\n", KPORT_API_VERSION);
	ASSERT_EQ(0, RUN(&r, "--version"));
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(0, strncmp(r.out, "kportctl ", 9));
	EXPECT_NE(NULL, strstr(r.out, want)) TH_LOG("got '%s'", r.out);
	run_free(&r);

	/* With no /dev/kport at all: --version still works, version not. */
	ASSERT_EQ(0, run_argv(&r, NULL, true, (const char *const[]){ "-V", NULL }));
	EXPECT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.out, want));
	run_free(&r);
	ASSERT_EQ(0, run_argv(&r, NULL, true, (const char *const[]){ "version", NULL }));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "is the kport module loaded?")) TH_LOG("%s", r.err);
	run_free(&r);
}

TEST(help_per_command)
{
	static const char *const cmds[] = {
		"create", "delete", "send", "recv", "stat", "chmod", "chown",
		"list", "version", "help",
	};
	struct run a, b, g;
	char want[64];
	size_t i;

	ASSERT_EQ(0, RUN(&g, "help"));
	EXPECT_EQ(0, g.status);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ASSERT_EQ(0, RUN(&a, "help", cmds[i]));
		ASSERT_EQ(0, RUN(&b, cmds[i], "--help"));
		snprintf(want, sizeof(want), "usage: kportctl %s", cmds[i]);
		EXPECT_EQ(0, a.status);
		EXPECT_EQ(0, b.status);
		EXPECT_EQ(0, strncmp(a.out, want, strlen(want))) TH_LOG("%s: '%s'", cmds[i], a.out);
		EXPECT_STREQ(a.out, b.out);
		/* Not the global text: that lists every command. */
		EXPECT_NE(0, strcmp(a.out, g.out));
		EXPECT_NE(NULL, strstr(a.out, "Exit status:"));
		/* The overview lists every command. */
		snprintf(want, sizeof(want), "\n  %s", cmds[i]);
		EXPECT_NE(NULL, strstr(g.out, want)) TH_LOG("%s missing from help", cmds[i]);
		run_free(&a);
		run_free(&b);
		ASSERT_EQ(0, RUN(&a, cmds[i], "-h"));
		EXPECT_EQ(0, a.status);
		run_free(&a);
	}
	EXPECT_NE(NULL, strstr(g.out, "3 if it would have had to wait"));
	run_free(&g);

	ASSERT_EQ(0, RUN(&a, "help", "nosuch"));
	EXPECT_EQ(2, a.status);
	EXPECT_EQ(0, a.outlen);
	run_free(&a);
	ASSERT_EQ(0, RUN(&a, "help", "send", "recv"));
	EXPECT_EQ(2, a.status);
	run_free(&a);
	ASSERT_EQ(0, RUN(&a, "nosuch"));
	EXPECT_EQ(2, a.status);
	run_free(&a);
	ASSERT_EQ(0, RUN(&a, "--help"));
	EXPECT_EQ(0, a.status);
	EXPECT_NE(NULL, strstr(a.out, "kportctl --version"));
	run_free(&a);
}

/* 0 success, 1 error, 2 usage, 3 would block or timed out. */
TEST_F(ctl, exit_statuses)
{
	struct run r;

	self->fd = kt_create_simple(self->name, 1, MSG_SIZE);
	ASSERT_LE(0, self->fd);

	/* Nothing to receive: 3, whether at once or after the timeout. */
	ASSERT_EQ(0, RUN(&r, "recv", self->name, "--nonblock"));
	EXPECT_EQ(3, r.status);
	EXPECT_NE(NULL, strstr(r.err, "(EAGAIN)")) TH_LOG("%s", r.err);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "recv", self->name, "--timeout", "30"));
	EXPECT_EQ(3, r.status);
	EXPECT_NE(NULL, strstr(r.err, "(ETIMEDOUT)")) TH_LOG("%s", r.err);
	run_free(&r);

	/* Fill it: 0; then it is full: 3 and 3. */
	ASSERT_EQ(0, RUN(&r, "send", self->name, "one"));
	EXPECT_EQ(0, r.status);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "send", self->name, "two", "--nonblock"));
	EXPECT_EQ(3, r.status);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "send", self->name, "two", "--timeout", "30"));
	EXPECT_EQ(3, r.status);
	run_free(&r);

	/* Real failures are 1: no such port, a message too large. */
	ASSERT_EQ(0, RUN(&r, "recv", "kt.no-such-port", "--nonblock"));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "(ENOENT)"));
	run_free(&r);
	{
		char big[MSG_SIZE + 2];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		ASSERT_EQ(0, RUN(&r, "send", self->name, big, "--nonblock"));
		EXPECT_EQ(1, r.status);
		EXPECT_NE(NULL, strstr(r.err, "(EMSGSIZE)"));
		run_free(&r);
	}

	/* Usage errors are 2 and do nothing. */
	ASSERT_EQ(0, RUN(&r, "recv", self->name, "--bogus"));
	EXPECT_EQ(2, r.status);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "recv", self->name, "--nonblock", "--timeout", "5"));
	EXPECT_EQ(2, r.status);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "stat"));
	EXPECT_EQ(2, r.status);
	run_free(&r);
	{
		struct kport_stat st;

		ASSERT_EQ(0, kt_stat(self->fd, &st));
		EXPECT_EQ(1, st.nr_msgs);
	}
	ASSERT_EQ(0, RUN(&r, "recv", self->name, "--nonblock"));
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("one\n", r.out);
	run_free(&r);
}

/* Capacity 0: no receiver waiting is "would block", not an error. */
TEST_F(ctl, exit_status_rendezvous)
{
	struct run r;

	self->fd = kt_create_simple(self->name, 0, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, RUN(&r, "send", self->name, "x", "--nonblock"));
	EXPECT_EQ(3, r.status);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "recv", self->name, "--nonblock"));
	EXPECT_EQ(3, r.status);
	run_free(&r);
}

/* ---- JSON ----------------------------------------------------------------- */

static const char *const stat_keys[] = {
	"id", "name", "flags", "mode", "uid", "gid", "capacity", "msg_size",
	"fixed", "pool", "pool_used", "pool_slices_held", "pool_threshold",
	"msgs", "bytes", "senders", "receivers", "sent", "received", "handles",
	"owner_pid", "status",
};

TEST_F(ctl, stat_json)
{
	struct kport_stat st;
	struct jv v, *f;
	const char *err;
	struct run r;
	char mode[8];

	self->fd = kt_create(self->name, KPORT_CREATE_FIXED | KPORT_CREATE_PROCESS,
			     KPORT_CAPACITY_UNBOUNDED, 8, 0640, KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_send(self->fd, "12345678", 8, 3, 0, 0));

	ASSERT_EQ(0, RUN(&r, "stat", self->name, "--json"));
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	err = json_parse(r.out, r.outlen, &v);
	ASSERT_EQ(NULL, err) TH_LOG("%s in '%s'", err, r.out);
	EXPECT_TRUE(jkeys_are(&v, stat_keys, sizeof(stat_keys) / sizeof(stat_keys[0])))
		TH_LOG("keys differ: %s", r.out);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	EXPECT_EQ((long long)st.id, jnum(&v, "id"));
	EXPECT_STREQ(self->name, jstr(&v, "name"));
	snprintf(mode, sizeof(mode), "0640");
	EXPECT_STREQ(mode, jstr(&v, "mode"));
	EXPECT_EQ((long long)getuid(), jnum(&v, "uid"));
	EXPECT_EQ((long long)getgid(), jnum(&v, "gid"));
	EXPECT_STREQ("unbounded", jstr(&v, "capacity"));
	EXPECT_EQ(8, jnum(&v, "msg_size"));
	EXPECT_EQ(J_TRUE, jtype(&v, "fixed"));
	EXPECT_EQ(0, jnum(&v, "pool"));
	EXPECT_EQ(1, jnum(&v, "msgs"));
	EXPECT_EQ(8, jnum(&v, "bytes"));
	EXPECT_EQ(1, jnum(&v, "sent"));
	EXPECT_EQ(0, jnum(&v, "received"));
	EXPECT_EQ(0, jnum(&v, "senders"));
	EXPECT_EQ(0, jnum(&v, "receivers"));
	/* Ours and kportctl's. */
	EXPECT_EQ(2, jnum(&v, "handles"));
	EXPECT_EQ((long long)getpid(), jnum(&v, "owner_pid"));
	EXPECT_STREQ("alive", jstr(&v, "status"));
	f = jget(&v, "flags");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(J_ARRAY, f->type);
	ASSERT_EQ(2, f->n);
	EXPECT_STREQ("fixed", f->items[0].str);
	EXPECT_STREQ("process-owned", f->items[1].str);
	jv_free(&v);
	run_free(&r);
}

/* A kernel-owned, anonymous-looking name "42", a pool: the other shapes. */
TEST(stat_json_kernel_owned_pool)
{
	struct jv v, *f;
	const char *err;
	struct run r;
	char name[KPORT_NAME_MAX];
	int fd;

	snprintf(name, sizeof(name), "%d", 100000 + (int)getpid());
	kt_unlink(name);
	fd = kt_create_pool(name, 0, 4, 65536, 65536);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, RUN(&r, "stat", name, "--json"));
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	err = json_parse(r.out, r.outlen, &v);
	ASSERT_EQ(NULL, err) TH_LOG("%s in '%s'", err, r.out);
	EXPECT_STREQ(name, jstr(&v, "name"));
	EXPECT_EQ(4, jnum(&v, "capacity"));
	EXPECT_EQ(65536, jnum(&v, "pool"));
	EXPECT_LT(0, jnum(&v, "pool_threshold"));
	EXPECT_EQ(J_FALSE, jtype(&v, "fixed"));
	EXPECT_EQ(J_NULL, jtype(&v, "owner_pid"));
	f = jget(&v, "flags");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(J_ARRAY, f->type);
	EXPECT_EQ(0, f->n);
	jv_free(&v);
	run_free(&r);
	close(fd);
	kt_unlink(name);
}

/* The /proc/kport header, split. */
static size_t proc_header(char keys[32][32])
{
	char line[512], *p, *tok, *save = NULL;
	size_t n = 0;
	FILE *f = fopen("/proc/kport", "re");

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	for (p = line; (tok = strtok_r(p, "\t", &save)) && n < 32; p = NULL)
		snprintf(keys[n++], 32, "%s", tok);
	return n;
}

TEST_F(ctl, list_json)
{
	char keys[32][32], digits[KPORT_NAME_MAX];
	const char *key_ptrs[32];
	struct jv v, *mine = NULL, *num = NULL;
	struct kport_stat st;
	const char *err;
	struct run r;
	size_t nkeys, i, k;
	int fd2;

	self->fd = kt_create(self->name, 0, KPORT_CAPACITY_UNBOUNDED, 64, 0604,
			     KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_send(self->fd, "abc", 3, 0, 0, 0));
	/* A name of digits only stays a string. */
	snprintf(digits, sizeof(digits), "%d", 200000 + (int)getpid());
	kt_unlink(digits);
	fd2 = kt_create_simple(digits, 2, 64);
	ASSERT_LE(0, fd2);

	nkeys = proc_header(keys);
	ASSERT_LT(5, nkeys);
	for (i = 0; i < nkeys; i++)
		key_ptrs[i] = keys[i];

	ASSERT_EQ(0, RUN(&r, "list", "--json"));
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	err = json_parse(r.out, r.outlen, &v);
	ASSERT_EQ(NULL, err) TH_LOG("%s in '%s'", err, r.out);
	ASSERT_EQ(J_ARRAY, v.type);
	for (i = 0; i < v.n; i++) {
		struct jv *o = &v.items[i];
		const char *name = jstr(o, "name");

		EXPECT_TRUE(jkeys_are(o, key_ptrs, nkeys)) TH_LOG("entry %zu's keys", i);
		/* Strings always, numbers where the column is a count. */
		for (k = 0; k < o->n; k++) {
			bool word = !strcmp(o->keys[k], "name") ||
				    !strcmp(o->keys[k], "flags") ||
				    !strcmp(o->keys[k], "mode");

			if (word) {
				EXPECT_EQ(J_STRING, o->items[k].type);
			} else if (strcmp(o->keys[k], "capacity")) {
				EXPECT_EQ(J_NUMBER, o->items[k].type)
					TH_LOG("%s is not a number", o->keys[k]);
			}
		}
		if (!strcmp(name, self->name))
			mine = o;
		if (!strcmp(name, digits))
			num = o;
	}
	ASSERT_NE(NULL, mine);
	ASSERT_NE(NULL, num);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	EXPECT_EQ((long long)st.id, jnum(mine, "id"));
	EXPECT_STREQ("0604", jstr(mine, "mode"));
	EXPECT_STREQ("unbounded", jstr(mine, "capacity"));
	EXPECT_EQ(64, jnum(mine, "msg_size"));
	EXPECT_EQ(1, jnum(mine, "msgs"));
	EXPECT_EQ(3, jnum(mine, "bytes"));
	EXPECT_EQ((long long)getuid(), jnum(mine, "uid"));
	EXPECT_EQ(J_STRING, jtype(mine, "flags"));
	EXPECT_EQ(J_STRING, jtype(num, "name"));
	EXPECT_EQ(2, jnum(num, "capacity"));
	jv_free(&v);
	run_free(&r);
	close(fd2);
	kt_unlink(digits);
}

static const char *const recv_keys_data[] = {
	"sender_pid", "sender_uid", "priority", "size", "in_pool",
	"pool_offset", "encoding", "data",
};

/* Receive one message with --json and parse it; returns the run status. */
static int recv_json(struct __test_metadata *_metadata, const char *name,
		     struct jv *v, const char *extra)
{
	struct run r;
	const char *err;
	int status;

	if (extra) {
		ASSERT_EQ(0, RUN(&r, "recv", name, "--nonblock", "--json", "--file", extra));
	} else {
		ASSERT_EQ(0, RUN(&r, "recv", name, "--nonblock", "--json"));
	}
	status = r.status;
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(0, r.errlen) TH_LOG("stderr: %s", r.err);
	err = json_parse(r.out, r.outlen, v);
	EXPECT_EQ(NULL, err) TH_LOG("%s in '%s'", err, r.out);
	run_free(&r);
	return err ? -1 : status;
}

TEST_F(ctl, recv_json_text)
{
	/* Quotes, backslash, controls, DEL, a NUL, é and an emoji: UTF-8. */
	static const char msg[] = "a\"b\\c\n\t\x01\x7f\0\xc3\xa9 \xf0\x9f\x98\x80\n";
	size_t len = sizeof(msg) - 1;
	struct jv v, *d;

	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_send(self->fd, msg, (uint32_t)len, 7, 0, 0));
	ASSERT_EQ(0, recv_json(_metadata, self->name, &v, NULL));
	EXPECT_TRUE(jkeys_are(&v, recv_keys_data, 8));
	EXPECT_EQ((long long)getpid(), jnum(&v, "sender_pid"));
	EXPECT_EQ((long long)geteuid(), jnum(&v, "sender_uid"));
	EXPECT_EQ(7, jnum(&v, "priority"));
	EXPECT_EQ((long long)len, jnum(&v, "size"));
	EXPECT_EQ(J_FALSE, jtype(&v, "in_pool"));
	EXPECT_EQ(J_NULL, jtype(&v, "pool_offset"));
	EXPECT_STREQ("utf-8", jstr(&v, "encoding"));
	d = jget(&v, "data");
	ASSERT_NE(NULL, d);
	ASSERT_EQ(J_STRING, d->type);
	/* Exactly the payload: nothing added, the NUL kept. */
	ASSERT_EQ(len, d->len);
	EXPECT_EQ(0, memcmp(msg, d->str, len));
	jv_free(&v);

	/* An empty message. */
	ASSERT_EQ(0, kt_send(self->fd, "", 0, 0, 0, 0));
	ASSERT_EQ(0, recv_json(_metadata, self->name, &v, NULL));
	EXPECT_EQ(0, jnum(&v, "size"));
	EXPECT_STREQ("utf-8", jstr(&v, "encoding"));
	EXPECT_STREQ("", jstr(&v, "data"));
	jv_free(&v);
}

/* Anything that is not strictly UTF-8 goes as base64, and round-trips. */
TEST_F(ctl, recv_json_base64)
{
	static const struct { const char *bytes; size_t len; } cases[] = {
		{ "\xff", 1 },			/* never in UTF-8 */
		{ "ab\xc0\x80", 4 },		/* overlong NUL */
		{ "\xed\xa0\x80", 3 },		/* a surrogate */
		{ "\xf4\x90\x80\x80", 4 },	/* above U+10FFFF */
		{ "ok\xe2\x82", 4 },		/* cut short */
		{ "\x80\x81\x82\x83\x84", 5 },	/* each padding length: */
		{ "\x80\x81\x82\x83", 4 },
		{ "\x80\x81\x82", 3 },
	};
	unsigned char all[256], out[512];
	struct jv v, *d;
	size_t i;
	ssize_t n;

	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(0, kt_send(self->fd, cases[i].bytes,
				     (uint32_t)cases[i].len, 0, 0, 0));
		ASSERT_EQ(0, recv_json(_metadata, self->name, &v, NULL));
		EXPECT_STREQ("base64", jstr(&v, "encoding")) TH_LOG("case %zu", i);
		d = jget(&v, "data");
		ASSERT_NE(NULL, d);
		n = base64_decode(d->str, d->len, out);
		EXPECT_EQ((ssize_t)cases[i].len, n) TH_LOG("case %zu: '%s'", i, d->str);
		if (n == (ssize_t)cases[i].len)
			EXPECT_EQ(0, memcmp(cases[i].bytes, out, cases[i].len));
		jv_free(&v);
	}
	/* Every byte value. */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)(255 - i);
	ASSERT_EQ(0, kt_send(self->fd, all, sizeof(all), 0, 0, 0));
	ASSERT_EQ(0, recv_json(_metadata, self->name, &v, NULL));
	d = jget(&v, "data");
	ASSERT_NE(NULL, d);
	ASSERT_EQ((ssize_t)sizeof(all), base64_decode(d->str, d->len, out));
	EXPECT_EQ(0, memcmp(all, out, sizeof(all)));
	jv_free(&v);
}

TEST_F(ctl, recv_json_file)
{
	static const char *const keys[] = {
		"sender_pid", "sender_uid", "priority", "size", "in_pool",
		"pool_offset", "file",
	};
	char path[64], got[16];
	struct jv v;
	int in;

	snprintf(path, sizeof(path), "/tmp/kportctl-json.%d", (int)getpid());
	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_send(self->fd, "\xff\x00zz", 4, 2, 0, 0));
	ASSERT_EQ(0, recv_json(_metadata, self->name, &v, path));
	EXPECT_TRUE(jkeys_are(&v, keys, 7));
	EXPECT_STREQ(path, jstr(&v, "file"));
	EXPECT_EQ(NULL, jget(&v, "data"));
	EXPECT_EQ(4, jnum(&v, "size"));
	jv_free(&v);
	in = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, in);
	EXPECT_EQ(4, read(in, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(got, "\xff\x00zz", 4));
	close(in);
	unlink(path);
}

/* A message through the pool: received in place, its offset reported. */
TEST_F(ctl, recv_json_pool)
{
	struct kport_stat st;
	struct jv v, *d;
	char *msg;
	size_t len;

	self->fd = kt_create_pool(self->name, 0, 4, 65536, 65536);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	len = st.pool_threshold + 1000;
	ASSERT_GE(65536, len);
	msg = malloc(len);
	ASSERT_NE(NULL, msg);
	memset(msg, 'q', len);
	ASSERT_EQ(0, kt_send(self->fd, msg, (uint32_t)len, 0, 0, 0));
	ASSERT_EQ(0, recv_json(_metadata, self->name, &v, NULL));
	EXPECT_EQ(J_TRUE, jtype(&v, "in_pool"));
	EXPECT_LE(0, jnum(&v, "pool_offset"));
	EXPECT_EQ((long long)len, jnum(&v, "size"));
	d = jget(&v, "data");
	ASSERT_NE(NULL, d);
	ASSERT_EQ(len, d->len);
	EXPECT_EQ(0, memcmp(msg, d->str, len));
	jv_free(&v);
	/* Nothing of the pool is left held once kportctl is done. */
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	EXPECT_EQ(0, st.pool_used);
	EXPECT_EQ(0, st.slices_held);
	free(msg);
}

/* ---- Standard input and output as the caller left them ------------------- */

/*
 * Start kportctl with @argv and descriptors @in and @out as its standard
 * input and output (-1: closed), stderr to /dev/null.  Its pid.
 */
static pid_t spawn(int in, int out, const char *const *argv)
{
	const char *args[16];
	pid_t pid;
	size_t n;

	args[0] = kportctl();
	for (n = 0; argv[n] && n + 2 < sizeof(args) / sizeof(args[0]); n++)
		args[n + 1] = argv[n];
	args[n + 1] = NULL;
	pid = kt_fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(null, 2) < 0)
			_exit(126);
		if (in >= 0 ? dup2(in, 0) < 0 : close(0) < 0)
			_exit(126);
		if (out >= 0 ? dup2(out, 1) < 0 : close(1) < 0)
			_exit(126);
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	return pid;
}

#define SPAWN(in, out, ...) spawn((in), (out), (const char *const[]){ __VA_ARGS__, NULL })

/*
 * A non-blocking standard output that is full: kportctl waits for room.
 * Were it to give up (EAGAIN), the message would be gone.
 */
TEST_F(ctl, recv_waits_for_a_full_nonblocking_stdout)
{
	static const char *const modes[] = { NULL, "--json" };
	char junk[4096], got[8192];
	size_t i, n;
	int p[2];
	pid_t pid;

	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, kt_send(self->fd, "payload", 7, 0, 0, 0));
		ASSERT_EQ(0, pipe2(p, O_NONBLOCK | O_CLOEXEC));
		memset(junk, 'j', sizeof(junk));
		while (write(p[1], junk, sizeof(junk)) > 0)
			;
		ASSERT_EQ(EAGAIN, errno);
		if (modes[i])
			pid = SPAWN(-1, p[1], "recv", self->name, modes[i]);
		else
			pid = SPAWN(-1, p[1], "recv", self->name);
		ASSERT_LT(0, pid);
		close(p[1]);
		kt_sleep_ms(200);
		/* Drain: the junk, then what kportctl wrote. */
		n = 0;
		for (;;) {
			ssize_t r = read(p[0], got + n, n < sizeof(got) - 1 ?
					 sizeof(got) - 1 - n : 0);

			if (r > 0) {
				n += (size_t)r;
				if (n > sizeof(got) / 2) {
					memmove(got, got + n - 1024, 1024);
					n = 1024;
				}
				continue;
			}
			if (r == 0)
				break;
			ASSERT_EQ(EAGAIN, errno);
			kt_sleep_ms(10);
		}
		got[n] = '\0';
		EXPECT_EQ(0, kt_reap(pid, -1)) TH_LOG("mode %zu", i);
		EXPECT_NE(NULL, strstr(got, modes[i] ? "\"data\":\"payload\"" : "payload\n"))
			TH_LOG("mode %zu: '%s'", i, got + (n > 80 ? n - 80 : 0));
		close(p[0]);
	}
}

/* A non-blocking standard input with nothing yet: send waits for it. */
TEST_F(ctl, send_waits_for_a_nonblocking_stdin)
{
	char buf[MSG_SIZE];
	int p[2];
	pid_t pid;

	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pipe2(p, O_NONBLOCK | O_CLOEXEC));
	pid = SPAWN(p[0], -1, "send", self->name);
	ASSERT_LT(0, pid);
	kt_sleep_ms(200);
	ASSERT_EQ(5, write(p[1], "later", 5));
	close(p[1]);
	close(p[0]);
	EXPECT_EQ(0, kt_reap(pid, -1));
	EXPECT_EQ(5, kt_recv(self->fd, buf, sizeof(buf), KPORT_MSG_NONBLOCK, NULL));
}

/* Descriptors 1 closed: /dev/kport must not become standard output. */
TEST_F(ctl, a_closed_stdout_is_not_the_device)
{
	pid_t pid;

	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, kt_send(self->fd, "m", 1, 0, 0, 0));
	pid = SPAWN(-1, -1, "recv", self->name);
	ASSERT_LT(0, pid);
	/* Written to nowhere, as to /dev/null: not an error. */
	EXPECT_EQ(0, kt_reap(pid, -1));
}

TEST_F(ctl, recv_file_that_is_not_a_regular_file)
{
	char fifo[64], path[64];
	struct kport_stat st;
	struct run r;

	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);

	/* A character device cannot be truncated: written to, all the same. */
	ASSERT_EQ(0, kt_send(self->fd, "m", 1, 0, 0, 0));
	ASSERT_EQ(0, RUN(&r, "recv", self->name, "--file", "/dev/null"));
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	run_free(&r);

	/* A FIFO nobody reads: refused before the receive, nothing lost. */
	snprintf(fifo, sizeof(fifo), "/tmp/kportctl-fifo.%d", (int)getpid());
	unlink(fifo);
	ASSERT_EQ(0, mkfifo(fifo, 0600));
	ASSERT_EQ(0, kt_send(self->fd, "kept", 4, 0, 0, 0));
	ASSERT_EQ(0, RUN(&r, "recv", self->name, "--nonblock", "--file", fifo));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "(ENXIO)")) TH_LOG("%s", r.err);
	run_free(&r);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	EXPECT_EQ(1, st.nr_msgs);
	unlink(fifo);

	/* Nothing to receive: no empty file left behind, exit status 3. */
	ASSERT_EQ(4, kt_recv(self->fd, (char[MSG_SIZE]){ 0 }, MSG_SIZE, 0, NULL));
	snprintf(path, sizeof(path), "/tmp/kportctl-none.%d", (int)getpid());
	unlink(path);
	ASSERT_EQ(0, RUN(&r, "recv", self->name, "--nonblock", "--file", path));
	EXPECT_EQ(3, r.status);
	EXPECT_NE(0, access(path, F_OK));
	run_free(&r);
}

/* --json where it means something, and nowhere else. */
TEST_F(ctl, json_only_on_list_stat_and_recv)
{
	struct run r;

	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, RUN(&r, "send", self->name, "x", "--json"));
	EXPECT_EQ(2, r.status);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "delete", self->name, "--json"));
	EXPECT_EQ(2, r.status);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "create", "kt.json-create", "--json"));
	EXPECT_EQ(2, r.status);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "version", "--json"));
	EXPECT_EQ(2, r.status);
	run_free(&r);
	/* Nothing was sent or deleted. */
	EXPECT_EQ(-EAGAIN, kt_recv(self->fd, (char[MSG_SIZE]){ 0 }, MSG_SIZE,
				   KPORT_MSG_NONBLOCK, NULL));
	EXPECT_EQ(-ENOENT, kt_open("kt.json-create", 0, 0));
}

/* "-" is /proc/kport's anonymous name: no port may take it. */
TEST(the_name_dash_is_refused)
{
	struct jv v;
	struct run r;
	size_t i;
	int fd, anon = 0;

	EXPECT_EQ(-EINVAL, kt_create_simple("-", 4, MSG_SIZE));
	EXPECT_EQ(-EINVAL, kt_open("-", 0, 0));
	EXPECT_EQ(-EINVAL, kt_unlink("-"));
	/* So list --json can say "" for anonymous ports, as stat does. */
	fd = kt_create_simple(NULL, 4, MSG_SIZE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, RUN(&r, "list", "--json"));
	ASSERT_EQ(0, r.status);
	ASSERT_EQ(NULL, json_parse(r.out, r.outlen, &v));
	for (i = 0; i < v.n; i++) {
		EXPECT_STRNE("-", jstr(&v.items[i], "name"));
		if (jnum(&v.items[i], "id") == (long long)port_id(fd)) {
			EXPECT_STREQ("", jstr(&v.items[i], "name"));
			anon++;
		}
	}
	EXPECT_EQ(1, anon);
	jv_free(&v);
	run_free(&r);
	close(fd);
}

TEST_F(ctl, chmod_and_chown)
{
	struct kport_stat st;
	struct run r;

	self->fd = kt_create_simple(self->name, 4, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, RUN(&r, "chmod", "0640", self->name));
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "chown", "1234:5678", self->name));
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	run_free(&r);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	EXPECT_EQ(0640U, st.mode);
	EXPECT_EQ(1234U, st.uid);
	EXPECT_EQ(5678U, st.gid);
	/* The group alone; a name (the guest's /etc/group has nogroup). */
	ASSERT_EQ(0, RUN(&r, "chown", ":nogroup", self->name));
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	run_free(&r);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	EXPECT_EQ(1234U, st.uid);
	EXPECT_EQ(65534U, st.gid);
	/* Usage errors change nothing. */
	ASSERT_EQ(0, RUN(&r, "chmod", "0999", self->name));
	EXPECT_EQ(2, r.status);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "chown", "no-such-user", self->name));
	EXPECT_EQ(2, r.status);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "chown", ":", self->name));
	EXPECT_EQ(2, r.status);
	run_free(&r);
	ASSERT_EQ(0, kt_stat(self->fd, &st));
	EXPECT_EQ(0640U, st.mode);
	/* An id out of range is a usage error, a missing port a failure. */
	ASSERT_EQ(0, RUN(&r, "chown", "4294967295", self->name));
	EXPECT_EQ(2, r.status);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "chmod", "0999", "kt.no-such-port"));
	EXPECT_EQ(2, r.status);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "chmod", "0644", "kt.no-such-port"));
	EXPECT_EQ(1, r.status);
	run_free(&r);
}

/* ---- The text output, unchanged ------------------------------------------ */

TEST_F(ctl, text_output_unchanged)
{
	char want[128];
	struct run r;

	self->fd = kt_create(self->name, 0, KPORT_CAPACITY_UNBOUNDED, 64, 0604,
			     KPORT_RIGHTS_ALL);
	ASSERT_LE(0, self->fd);

	ASSERT_EQ(0, RUN(&r, "send", self->name, "no newline", "--priority", "4"));
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(0, r.outlen);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "recv", self->name, "-v"));
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("no newline\n", r.out);
	/* The sender was a kportctl whose pid is gone: compare the rest. */
	snprintf(want, sizeof(want), " uid %u prio 4 len 10\n",
		 (unsigned int)geteuid());
	EXPECT_NE(NULL, strstr(r.err, want)) TH_LOG("%s", r.err);
	EXPECT_EQ(0, strncmp(r.err, "from pid ", 9));
	run_free(&r);

	ASSERT_EQ(0, RUN_IN(&r, "from stdin\n", "send", self->name));
	EXPECT_EQ(0, r.status);
	run_free(&r);
	ASSERT_EQ(0, RUN(&r, "recv", self->name));
	EXPECT_STREQ("from stdin\n", r.out);
	EXPECT_EQ(0, r.errlen);
	run_free(&r);

	ASSERT_EQ(0, RUN(&r, "stat", self->name));
	EXPECT_EQ(0, r.status);
	snprintf(want, sizeof(want), "name:              %s\n", self->name);
	EXPECT_NE(NULL, strstr(r.out, want));
	EXPECT_NE(NULL, strstr(r.out, "\nflags:             none (kernel-owned)\n"));
	EXPECT_NE(NULL, strstr(r.out, "\nmode:              0604\n"));
	EXPECT_NE(NULL, strstr(r.out, "\ncapacity:          unbounded\n"));
	EXPECT_NE(NULL, strstr(r.out, "\nmsg size:          64 bytes at most\n"));
	EXPECT_NE(NULL, strstr(r.out, "\npool size:         none\n"));
	EXPECT_NE(NULL, strstr(r.out, "\nsent:              2\n"));
	EXPECT_NE(NULL, strstr(r.out, "\nowner pid:         none (kernel-owned)\n"));
	EXPECT_NE(NULL, strstr(r.out, "\nstatus:            alive\n"));
	EXPECT_EQ(0, strncmp(r.out, "id:                ", 19));
	EXPECT_EQ(NULL, strchr(r.out, '{'));
	run_free(&r);

	ASSERT_EQ(0, RUN(&r, "list"));
	EXPECT_EQ(0, r.status);
	/* The aligned table, header first, no JSON. */
	EXPECT_EQ(0, strncmp(r.out, "id  ", 4)) TH_LOG("%.80s", r.out);
	EXPECT_NE(NULL, strstr(r.out, self->name));
	EXPECT_EQ(NULL, strchr(r.out, '['));
	EXPECT_EQ(NULL, strchr(r.out, '\t'));
	run_free(&r);
}

TEST_HARNESS_MAIN
