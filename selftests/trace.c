// SPDX-License-Identifier: GPL-2.0
/*
 * Tracepoints: what events/kport/ records, read back through tracefs.
 *
 * kernel/trace.h: every event names the port by its id (fdinfo's
 * kport-id), carries lengths and priorities where they apply, and the
 * global tgid of the task it is about.  Each test starts recording,
 * does one thing, and looks for the lines it must have left in the trace
 * buffer (and, where it matters, for the lines it must not have).
 *
 * The events are switched on once for the whole binary and each test
 * gates recording with the instance's tracing_on.  Switching an event
 * patches kernel text (static keys and calls), and a 6.12 PREEMPT_RT
 * guest under TCG oopses ("int3" in __schedule) after a few thousand
 * such patches, with any event, kport's or not; tracing_on patches
 * nothing.
 */
#include "kport_test.h"
#include "kport.h"
#include <pthread.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define TRACEFS		"/sys/kernel/tracing/"
/*
 * An instance of our own: its buffer and its event switches, so that
 * nothing the system traces is cleared or changed, and nothing it traces
 * fills our buffer.
 */
#define INSTANCE	TRACEFS "instances/kport-selftest/"
#define MSG_SIZE	64

static const char *const params[] = { "max_user_bytes" };

static int tracefs_write(const char *file, const char *value)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), INSTANCE "%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -EIO;
}

/* 0, or why the instance and its events could not be set up (-errno). */
static int instance_err;
static pid_t instance_owner;

static void instance_remove_at_exit(void)
{
	if (getpid() != instance_owner)
		return;
	tracefs_write("events/kport/enable", "0");
	rmdir(INSTANCE);
}

/* In the harness's parent, before any test forks: see the header. */
static void __attribute__((constructor)) set_up_at_start(void)
{
	struct stat st;

	kt_params_save_for_exit(params, ARRAY_SIZE(params));
	if (stat(TRACEFS "events", &st) &&
	    mount("nodev", TRACEFS, "tracefs", 0, NULL)) {
		instance_err = -errno;
		return;
	}
	if (mkdir(INSTANCE, 0700) && errno != EEXIST) {
		instance_err = -errno;
		return;
	}
	instance_owner = getpid();
	atexit(instance_remove_at_exit);
	instance_err = tracefs_write("tracing_on", "0");
	if (!instance_err)
		instance_err = tracefs_write("events/kport/enable", "1");
}

/* The whole trace buffer, NUL-terminated, in a malloc()ed string. */
static char *tracefs_read_trace(void)
{
	size_t size = 1 << 16, len = 0;
	char *buf = malloc(size);
	ssize_t n;
	int fd;

	if (!buf)
		return NULL;
	fd = open(INSTANCE "trace", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	for (;;) {
		if (len + 1 == size) {
			char *more = realloc(buf, size * 2);

			if (!more)
				break;
			buf = more;
			size *= 2;
		}
		n = read(fd, buf + len, size - len - 1);
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* The port id of handle @fd, as its fdinfo says; 0 if it cannot be read. */
static unsigned long long port_id(int fd)
{
	unsigned long long id = 0;
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "kport-id: %llu", &id) == 1)
			break;
	fclose(f);
	return id;
}

/*
 * How many lines of @trace hold event @event for port @id with every
 * field of @fields ("key=value" words, space-separated) among its own.
 */
static int count_events(const char *trace, const char *event,
			unsigned long long id, const char *fields)
{
	char head[96], want[256], *line, *copy, *save = NULL;
	int n = 0;

	snprintf(head, sizeof(head), " %s: id=%llu ", event, id);
	copy = strdup(trace);
	if (!copy)
		return -1;
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *rest = strstr(line, head), *word, *wsave = NULL;
		bool all = true;

		if (!rest)
			continue;
		snprintf(want, sizeof(want), "%s", fields);
		for (word = strtok_r(want, " ", &wsave); word;
		     word = strtok_r(NULL, " ", &wsave)) {
			char key[80];

			/* Whole words only: "len=5" must not match "len=50". */
			snprintf(key, sizeof(key), " %s ", word);
			if (!strstr(rest, key)) {
				size_t k = strlen(word), r = strlen(rest);

				if (r < k + 1 || strcmp(rest + r - k, word) ||
				    rest[r - k - 1] != ' ') {
					all = false;
					break;
				}
			}
		}
		n += all;
	}
	free(copy);
	return n;
}

FIXTURE(trace) {
	char name[KPORT_NAME_MAX];
	int fd;
	unsigned long long id;
	char *buf;
};

FIXTURE_SETUP(trace)
{
	self->buf = NULL;
	self->fd = -1;
	/*
	 * The events carry global pids, which this file compares with
	 * getpid(); tracefs is the initial namespace's tool.  The 6.1
	 * harness runs a test after a setup's SKIP(return), so end it as
	 * its own SKIP() would.
	 */
	if (!kt_initial_pidns())
		SKIP(_exit(255), "the events name tasks by their global pid");
	ASSERT_EQ(0, instance_err)
		TH_LOG("tracefs instance with events/kport/ on: %s (is the module's trace.h built in?)",
		       strerror(-instance_err));
	ASSERT_EQ(0, tracefs_write("trace", ""));
	ASSERT_EQ(0, tracefs_write("tracing_on", "1"));

	kt_name(self->name, _metadata->name);
	self->fd = kt_create_simple(self->name, 2, MSG_SIZE);
	ASSERT_LE(0, self->fd);
	self->id = port_id(self->fd);
	ASSERT_NE(0ULL, self->id);
}

FIXTURE_TEARDOWN(trace)
{
	tracefs_write("tracing_on", "0");
	free(self->buf);
	if (self->fd >= 0)
		close(self->fd);
	kt_unlink(self->name);
}

/* Read the buffer once the test's work is done (recording off first). */
static const char *trace_now(struct __test_metadata *_metadata,
			     FIXTURE_DATA(trace) *self)
{
	ASSERT_EQ(0, tracefs_write("tracing_on", "0"));
	free(self->buf);
	self->buf = tracefs_read_trace();
	ASSERT_NE(NULL, self->buf);
	return self->buf;
}

/*
 * The number after " @key=" in the first line of @event on port @id, -1
 * if there is none.
 */
static long long event_field(const char *trace, const char *event,
			     unsigned long long id, const char *key)
{
	char head[96], word[40];
	const char *line, *eol, *at;

	snprintf(head, sizeof(head), " %s: id=%llu ", event, id);
	snprintf(word, sizeof(word), " %s=", key);
	line = strstr(trace, head);
	if (!line)
		return -1;
	eol = strchr(line, '\n');
	at = strstr(line, word);
	if (!at || (eol && at > eol))
		return -1;
	return strtoll(at + strlen(word), NULL, 10);
}

static const char *fmt(const char *f, long long v)
{
	static char s[4][96];
	static int i;

	i = (i + 1) % 4;
	snprintf(s[i], sizeof(s[i]), f, v);
	return s[i];
}

TEST_F(trace, create_records_the_port_its_name_and_its_creator)
{
	const char *t = trace_now(_metadata, self);
	char want[160];

	snprintf(want, sizeof(want), "name=%s capacity=2 msg_size=%d pool_size=0 pid=%d",
		 self->name, MSG_SIZE, getpid());
	EXPECT_EQ(1, count_events(t, "kport_port_create", self->id, want))
		TH_LOG("%s", t);
}

TEST_F(trace, a_queued_send_and_its_receive_carry_length_priority_and_sender)
{
	char buf[MSG_SIZE], want[160];
	const char *t;
	pid_t child;

	/* Another process sends, so that sender and receiver differ. */
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		KT_CHILD_ASSERT(kt_send(self->fd, "hello", 5, 3, 0, 0) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, kt_reap(child, KT_TIMEOUT_MS));
	ASSERT_EQ(5, kt_recv(self->fd, buf, sizeof(buf), 0, NULL));
	t = trace_now(_metadata, self);

	snprintf(want, sizeof(want), "len=5 prio=3 pid=%d how=queued err=0",
		 child);
	EXPECT_EQ(1, count_events(t, "kport_send", self->id, want)) TH_LOG("%s", t);
	snprintf(want, sizeof(want), "len=5 prio=3 pid=%d receiver=%d pool=0 err=0",
		 child, getpid());
	EXPECT_EQ(1, count_events(t, "kport_recv", self->id, want)) TH_LOG("%s", t);
	/* Nothing waited. */
	EXPECT_EQ(0, count_events(t, "kport_wait_start", self->id, ""));
}

TEST_F(trace, a_refused_send_records_its_errno)
{
	const char *t;

	ASSERT_EQ(0, kt_send(self->fd, "a", 1, 0, 0, 0));
	ASSERT_EQ(0, kt_send(self->fd, "b", 1, 0, 0, 0));
	ASSERT_EQ(-EAGAIN, kt_send(self->fd, "c", 1, 0, KPORT_MSG_NONBLOCK, 0));
	t = trace_now(_metadata, self);
	EXPECT_EQ(2, count_events(t, "kport_send", self->id, "len=1 how=queued err=0"));
	EXPECT_EQ(1, count_events(t, "kport_send", self->id,
				  fmt("len=1 prio=0 how=refused err=%lld", -EAGAIN)))
		TH_LOG("%s", t);
}

TEST_F(trace, a_timed_out_receive_records_its_wait_and_how_it_ended)
{
	char buf[MSG_SIZE];
	const char *t;

	ASSERT_EQ(-ETIMEDOUT, kt_recv_ex(self->fd, buf, sizeof(buf),
					 KPORT_MSG_DEADLINE, 0,
					 kt_now_ns() + 20 * KT_NSEC_PER_MSEC,
					 NULL));
	t = trace_now(_metadata, self);
	EXPECT_EQ(1, count_events(t, "kport_wait_start", self->id,
				  fmt("pid=%lld what=recv", getpid())))
		TH_LOG("%s", t);
	EXPECT_EQ(1, count_events(t, "kport_wait_end", self->id,
				  "what=recv how=timed_out")) TH_LOG("%s", t);
	/*
	 * It waited, and the event says how long: more than nothing, and
	 * not more than the deadline allows by far (the wait starts after
	 * the deadline was computed, so it may be less than the 20 ms).
	 */
	EXPECT_EQ(0, count_events(t, "kport_wait_end", self->id, "waited_ns=0"));
	EXPECT_LT(0, event_field(t, "kport_wait_end", self->id, "waited_ns"))
		TH_LOG("%s", t);
	EXPECT_GT((long long)(5 * KT_NSEC_PER_SEC),
		  event_field(t, "kport_wait_end", self->id, "waited_ns"));
	EXPECT_EQ(1, count_events(t, "kport_recv", self->id,
				  fmt("len=0 pid=0 err=%lld", -ETIMEDOUT)))
		TH_LOG("%s", t);
}

static void *receive_one(void *arg)
{
	int fd = *(int *)arg;
	char buf[MSG_SIZE];

	return (void *)(intptr_t)kt_recv(fd, buf, sizeof(buf), 0, NULL);
}

TEST_F(trace, a_send_to_a_waiting_receiver_is_a_handoff_that_ends_its_wait)
{
	pthread_t thr;
	void *got;
	const char *t;

	ASSERT_EQ(0, pthread_create(&thr, NULL, receive_one, &self->fd));
	ASSERT_EQ(0, kt_wait_recv_waiters(self->fd, 1));
	ASSERT_EQ(0, kt_send(self->fd, "xyz", 3, 1, 0, 0));
	ASSERT_EQ(0, pthread_join(thr, &got));
	ASSERT_EQ(3, (int)(intptr_t)got);
	t = trace_now(_metadata, self);
	EXPECT_EQ(1, count_events(t, "kport_send", self->id,
				  "len=3 prio=1 how=handoff err=0")) TH_LOG("%s", t);
	EXPECT_EQ(1, count_events(t, "kport_wait_end", self->id,
				  "what=recv how=woken")) TH_LOG("%s", t);
	EXPECT_EQ(1, count_events(t, "kport_recv", self->id,
				  fmt("len=3 prio=1 pid=%lld err=0", getpid())));
}

TEST_F(trace, delete_records_what_it_dropped_and_a_waiter_sees_deleted)
{
	pthread_t thr;
	void *got;
	const char *t;
	int fd2;

	/* A second port, empty, with a receiver waiting when it goes. */
	fd2 = kt_create_simple(NULL, 1, MSG_SIZE);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, pthread_create(&thr, NULL, receive_one, &fd2));
	ASSERT_EQ(0, kt_wait_recv_waiters(fd2, 1));
	ASSERT_EQ(0, kt_delete(fd2));
	ASSERT_EQ(0, pthread_join(thr, &got));
	ASSERT_EQ(-EIDRM, (int)(intptr_t)got);

	ASSERT_EQ(0, kt_send(self->fd, "a", 1, 0, 0, 0));
	ASSERT_EQ(0, kt_send(self->fd, "b", 1, 0, 0, 0));
	ASSERT_EQ(0, kt_delete(self->fd));
	t = trace_now(_metadata, self);
	EXPECT_EQ(1, count_events(t, "kport_port_delete", self->id,
				  fmt("msgs=2 senders=0 receivers=0 pid=%lld",
				      getpid()))) TH_LOG("%s", t);
	EXPECT_EQ(1, count_events(t, "kport_port_delete", port_id(fd2),
				  "msgs=0 receivers=1")) TH_LOG("%s", t);
	EXPECT_EQ(1, count_events(t, "kport_wait_end", port_id(fd2),
				  "what=recv how=deleted")) TH_LOG("%s", t);
	close(fd2);
}

/*
 * A create refused after its port was made (the name exists) made no port
 * anyone saw: no delete event for it (it has no id), kernel- or
 * process-owned (whose failed creating handle deletes the port).
 */
TEST_F(trace, a_refused_create_records_no_delete)
{
	const char *t;

	ASSERT_EQ(-EEXIST, kt_create_simple(self->name, 2, MSG_SIZE));
	ASSERT_EQ(-EEXIST, kt_create(self->name, KPORT_CREATE_PROCESS, 2,
				     MSG_SIZE, 0600, KPORT_RIGHTS_ALL));
	t = trace_now(_metadata, self);
	EXPECT_EQ(0, count_events(t, "kport_port_delete", 0, "")) TH_LOG("%s", t);
	EXPECT_EQ(0, count_events(t, "kport_port_create", 0, "")) TH_LOG("%s", t);
}

TEST_F(trace, every_message_of_a_batch_has_its_event_sent_or_refused)
{
	struct kport_msg v[5];
	const char *t;
	int i;

	for (i = 0; i < 5; i++)
		kport_prep_send(&v[i], "abcde" + i, 1, 0);
	/* Room for 2 of the 5. */
	ASSERT_EQ(2, kport_sendv(self->fd, v, 5, KPORT_MSG_NONBLOCK));
	t = trace_now(_metadata, self);
	EXPECT_EQ(2, count_events(t, "kport_send", self->id,
				  "len=1 how=queued err=0")) TH_LOG("%s", t);
	EXPECT_EQ(3, count_events(t, "kport_send", self->id,
				  fmt("len=1 how=refused err=%lld", -EAGAIN)))
		TH_LOG("%s", t);
}

TEST_F(trace, an_anonymous_port_closed_for_the_last_time_is_a_delete)
{
	unsigned long long id;
	const char *t;
	int fd;

	fd = kt_create_simple(NULL, 4, MSG_SIZE);
	ASSERT_LE(0, fd);
	id = port_id(fd);
	ASSERT_EQ(0, kt_send(fd, "gone", 4, 0, 0, 0));
	close(fd);
	t = trace_now(_metadata, self);
	EXPECT_EQ(1, count_events(t, "kport_port_delete", id, "msgs=1"))
		TH_LOG("%s", t);
}

TEST_F(trace, borrow_post_and_release_are_recorded_with_their_slice)
{
	struct kport_info info;
	void *pool;
	size_t pool_len;
	const void *data;
	uint64_t off;
	const char *t;
	unsigned long long zid;
	int z;

	z = kt_create_pool(NULL, KPORT_CREATE_ZEROCOPY, 4, 1 << 16, 1 << 18);
	ASSERT_LE(0, z);
	zid = port_id(z);
	ASSERT_EQ(0, kport_pool_map(z, KPORT_POOL_WRITE, &pool, &pool_len));
	ASSERT_EQ(0, kport_borrow(z, 10000, -1, &off));
	memset((char *)pool + off, 'z', 10000);
	ASSERT_EQ(0, kport_post(z, off, 10000, 2, 0));
	ASSERT_EQ(10000, kport_recv_inplace(z, pool, NULL, 0, &data,
					    KPORT_MSG_NONBLOCK, &info));
	ASSERT_EQ(1, info.in_pool);
	ASSERT_EQ(0, kport_release(z, info.offset, info.len));
	ASSERT_EQ(-ENOENT, kport_release(z, info.offset, info.len));
	t = trace_now(_metadata, self);
	EXPECT_EQ(1, count_events(t, "kport_pool", zid,
				  fmt("op=borrow offset=%lld len=10000 err=0", off)))
		TH_LOG("%s", t);
	EXPECT_EQ(1, count_events(t, "kport_pool", zid,
				  fmt("op=post offset=%lld len=10000 err=0", off)));
	EXPECT_EQ(1, count_events(t, "kport_pool", zid,
				  fmt("op=release offset=%lld len=10000 err=0", off)));
	EXPECT_EQ(1, count_events(t, "kport_pool", zid,
				  fmt("op=release offset=%lld len=10000 err=-2", off)));
	EXPECT_EQ(1, count_events(t, "kport_recv", zid,
				  "len=10000 prio=2 pool=1 err=0"));
	kport_pool_unmap(pool, pool_len);
	close(z);
}

TEST_F(trace, a_quota_refusal_names_the_limit_and_the_user)
{
	long long saved = kt_param_get("max_user_bytes");
	char line[160];
	const char *t;

	ASSERT_LT(0, saved);
	ASSERT_EQ(0, kt_param_set("max_user_bytes", 1));
	EXPECT_EQ(-ENOBUFS, kt_send(self->fd, "q", 1, 0, 0, 0));
	ASSERT_EQ(0, kt_param_set("max_user_bytes", saved));
	t = trace_now(_metadata, self);
	snprintf(line, sizeof(line), " kport_quota: uid=%u pid=%d limit=max_user_bytes ",
		 getuid(), getpid());
	EXPECT_NE(NULL, strstr(t, line)) TH_LOG("%s", t);
	EXPECT_NE(NULL, strstr(t, " max=1\n")) TH_LOG("%s", t);
	EXPECT_EQ(1, count_events(t, "kport_send", self->id,
				  fmt("how=refused err=%lld", -ENOBUFS)));
}

/* The field names bpftrace's args-> and perf see, as doc/semantics.md says. */
TEST(every_event_has_the_fields_the_documentation_names)
{
	static const struct {
		const char *event;
		const char *fields[8];
	} events[] = {
		{ "kport_port_create", { "id", "name", "flags", "capacity",
					 "msg_size", "pool_size", "pid" } },
		{ "kport_port_delete", { "id", "msgs", "senders", "receivers",
					 "pid" } },
		{ "kport_send", { "id", "len", "prio", "pid", "how", "err" } },
		{ "kport_recv", { "id", "len", "prio", "pid", "receiver", "pool",
				  "err" } },
		{ "kport_wait_start", { "id", "pid", "what" } },
		{ "kport_wait_end", { "id", "waited_ns", "pid", "what", "how" } },
		{ "kport_pool", { "id", "offset", "len", "pid", "op", "err" } },
		{ "kport_quota", { "asked", "max", "uid", "pid", "limit" } },
	};
	char path[128], buf[4096], want[64];
	unsigned int i, j;
	struct stat st;
	ssize_t n;
	int fd;

	if (stat(TRACEFS "events", &st))
		ASSERT_EQ(0, mount("nodev", TRACEFS, "tracefs", 0, NULL));
	for (i = 0; i < ARRAY_SIZE(events); i++) {
		snprintf(path, sizeof(path), TRACEFS "events/kport/%s/format",
			 events[i].event);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("%s", path);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		ASSERT_LT(0, n);
		buf[n] = '\0';
		for (j = 0; events[i].fields[j]; j++) {
			/* "field:u32 len;" or "field:char name[64];" */
			snprintf(want, sizeof(want), " %s;", events[i].fields[j]);
			if (strstr(buf, want))
				continue;
			snprintf(want, sizeof(want), " %s[", events[i].fields[j]);
			EXPECT_NE(NULL, strstr(buf, want))
				TH_LOG("%s: no field %s in\n%s", events[i].event,
				       events[i].fields[j], buf);
		}
	}
}

TEST_HARNESS_MAIN
