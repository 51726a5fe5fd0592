/*
 * Unit tests for spool.c: round trips, batches (stage and commit),
 * removals, recovery at open, dead/, byte accounting, a kill -9 at random
 * moments while a child writes, and a full disk (a small tmpfs, when the
 * test may mount one).
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "fileio.h"
#include "log.h"
#include "spool.h"
#include "xmalloc.h"

#define ALERT_A "7f1c0000000000000000000000000001"
#define ALERT_B "7f1c0000000000000000000000000002"
#define ALERT_C "7f1c0000000000000000000000000003"

static char tmpdir[64];
static char mounted[128]; /* a tmpfs to unmount in teardown */

static int
setup(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_spool.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* The path of name in the temporary directory; static storage. */
static const char *
path_of(const char *name)
{
	static char path[4][512];
	static int next;

	next = (next + 1) % 4;
	snprintf(path[next], sizeof path[next], "%s/%s", tmpdir, name);
	return path[next];
}

static void
write_file(const char *name, const void *data, size_t len)
{
	FILE *fp;

	fp = fopen(path_of(name), "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* The whole of file name (in the temporary directory); caller frees. */
static char *
read_file(const char *name, size_t *len)
{
	struct buf b;
	char chunk[4096];
	size_t n;
	FILE *fp;

	fp = fopen(path_of(name), "r");
	if (fp == NULL)
		print_error("open %s: %s\n", path_of(name), strerror(errno));
	assert_non_null(fp);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	return buf_detach(&b, len);
}

/* Send stderr (the log) to a file until capture_end() returns it. */
static int saved_stderr = -1;

static void
capture_start(void)
{
	int fd;

	fflush(stderr);
	saved_stderr = dup(2);
	fd = open(path_of("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved_stderr != -1 && fd != -1);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
}

static char *
capture_end(void)
{
	char *out;
	size_t len;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	saved_stderr = -1;
	out = read_file("stderr", &len);
	unlink(path_of("stderr"));
	return out;
}

static int
teardown(void **state)
{
	char *log;

	/* A test that failed while capturing: show what it said. */
	if (saved_stderr != -1) {
		log = capture_end();
		fputs(log, stderr);
		free(log);
	}
	if (mounted[0] != '\0') {
		umount(mounted);
		mounted[0] = '\0';
	}
	return nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static int
exists(const char *name)
{
	struct stat st;

	return lstat(path_of(name), &st) == 0;
}

/* Files in directory name (not . and ..). */
static size_t
count_files(const char *name)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	d = opendir(path_of(name));
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

static struct spool *
open_spool(const char *name, uint64_t max)
{
	struct spool *sp;
	char *cause = NULL;

	sp = spool_open(path_of(name), max, &cause);
	if (sp == NULL)
		fail_msg("spool_open: %s", cause);
	return sp;
}

static void
put(struct spool *sp, const char *webhook, const char *alert, int64_t created,
    const char *body, size_t len)
{
	char *cause = NULL;

	if (spool_put(sp, webhook, alert, created, body, len, &cause) != 0)
		fail_msg("spool_put: %s", cause);
}

static void
check_body(
    struct spool *sp, const struct spool_entry *e, const char *want, size_t len)
{
	struct buf b;
	char *cause = NULL;

	buf_init(&b);
	if (spool_body(sp, e, &b, &cause) != 0)
		fail_msg("spool_body: %s", cause);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, want, len);
	assert_int_equal(b.data[b.len], '\0');
	buf_release(&b);
}

static struct spool_entry *
find(struct spool *sp, const char *alert, const char *webhook)
{
	struct spool_entry *e;
	size_t i;

	for (i = 0; (e = spool_entry_at(sp, i)) != NULL; i++) {
		if (strcmp(e->alert_id, alert) == 0 &&
		    strcmp(e->webhook, webhook) == 0)
			return e;
	}
	return NULL;
}

static void
test_round_trip(void **state)
{
	struct spool *sp;
	struct spool_entry *e;
	struct stat st;
	char *cause = NULL, *data;
	size_t len;

	sp = open_spool("spool", 1 << 20);
	assert_int_equal(spool_count(sp), 0);
	assert_int_equal(spool_bytes(sp), 0);
	assert_true(stat(path_of("spool/tmp"), &st) == 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_true(stat(path_of("spool/dead"), &st) == 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	put(sp, "ops", ALERT_A, 1700000000000, "{\"a\":1}", 7);
	assert_int_equal(spool_count(sp), 1);
	e = spool_entry_at(sp, 0);
	assert_string_equal(e->name, ALERT_A ".ops.spool");
	assert_string_equal(e->webhook, "ops");
	assert_string_equal(e->alert_id, ALERT_A);
	assert_int_equal(e->created_ms, 1700000000000);
	assert_int_equal(e->attempts, 0);
	assert_int_equal(e->next_ms, 0);
	assert_int_equal(e->busy, 0);
	assert_null(spool_entry_at(sp, 1));

	data = read_file("spool/" ALERT_A ".ops.spool", &len);
	assert_string_equal(data,
	    "watchlistd-spool 1 webhook=ops alert=" ALERT_A
	    " created=1700000000000 bytes=7\n{\"a\":1}");
	assert_int_equal(e->size, len);
	assert_int_equal(spool_bytes(sp), len);
	free(data);
	assert_true(stat(path_of("spool/" ALERT_A ".ops.spool"), &st) == 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_files("spool/tmp"), 0);

	check_body(sp, e, "{\"a\":1}", 7);
	assert_int_equal(spool_remove(sp, e, &cause), 0);
	assert_int_equal(spool_count(sp), 0);
	assert_int_equal(spool_bytes(sp), 0);
	assert_false(exists("spool/" ALERT_A ".ops.spool"));
	spool_close(sp);
}

/* mkdir -p, and a second open of a spool in use is refused. */
static void
test_open(void **state)
{
	struct spool *sp, *sp2;
	char *cause = NULL, *want;

	sp = open_spool("state/deeper/spool", 100);
	assert_true(exists("state/deeper/spool/tmp"));
	sp2 = spool_open(path_of("state/deeper/spool"), 100, &cause);
	assert_null(sp2);
	want = xasprintf("spool: %s is in use by another process",
	    path_of("state/deeper/spool"));
	assert_string_equal(cause, want);
	free(want);
	free(cause);
	spool_close(sp);

	write_file("file", "x", 1);
	cause = NULL;
	assert_null(spool_open(path_of("file"), 100, &cause));
	want = xasprintf("spool: open %s: Not a directory", path_of("file"));
	assert_string_equal(cause, want);
	free(want);
	free(cause);

	cause = NULL;
	assert_null(spool_open(path_of("file/spool"), 100, &cause));
	want = xasprintf(
	    "spool: mkdir %s: Not a directory", path_of("file/spool"));
	assert_string_equal(cause, want);
	free(want);
	free(cause);
}

static void
test_put_idempotent(void **state)
{
	struct spool *sp;
	struct spool_entry *e;
	uint64_t bytes;

	sp = open_spool("spool", 1 << 20);
	put(sp, "ops", ALERT_A, 1000, "first", 5);
	e = spool_entry_at(sp, 0);
	bytes = spool_bytes(sp);
	put(sp, "ops", ALERT_A, 2000, "second body", 11);
	assert_int_equal(spool_count(sp), 1);
	assert_ptr_equal(spool_entry_at(sp, 0), e);
	assert_int_equal(e->created_ms, 1000);
	assert_int_equal(spool_bytes(sp), bytes);
	check_body(sp, e, "first", 5);

	/* The same alert for another webhook is another delivery. */
	put(sp, "chat", ALERT_A, 1000, "other", 5);
	assert_int_equal(spool_count(sp), 2);
	spool_close(sp);

	/* Still pending after a restart: kept as it is. */
	sp = open_spool("spool", 1 << 20);
	put(sp, "ops", ALERT_A, 3000, "third", 5);
	assert_int_equal(spool_count(sp), 2);
	check_body(sp, find(sp, ALERT_A, "ops"), "first", 5);
	assert_int_equal(count_files("spool/tmp"), 0);
	spool_close(sp);
}

static void
test_put_invalid(void **state)
{
	static const char *webhooks[] = {
	    "", "../x", "a/b", "a b", "x\n", "\xc3\xa9t\xc3\xa9", NULL};
	static const char *alerts[] = {
	    "", "xyz", "../7f", "7f 1c", "7f.1c", NULL};
	struct spool *sp;
	char *cause, *want, longid[200];
	size_t i;

	sp = open_spool("spool", 1 << 20);
	for (i = 0; webhooks[i] != NULL; i++) {
		cause = NULL;
		assert_int_equal(
		    spool_put(sp, webhooks[i], ALERT_A, 1, "x", 1, &cause), -1);
		want =
		    xasprintf("spool: invalid webhook id \"%s\"", webhooks[i]);
		assert_string_equal(cause, want);
		free(want);
		free(cause);
	}
	for (i = 0; alerts[i] != NULL; i++) {
		cause = NULL;
		assert_int_equal(
		    spool_put(sp, "ops", alerts[i], 1, "x", 1, &cause), -1);
		want = xasprintf("spool: invalid alert id \"%s\"", alerts[i]);
		assert_string_equal(cause, want);
		free(want);
		free(cause);
	}
	memset(longid, 'a', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	cause = NULL;
	assert_int_equal(spool_put(sp, longid, ALERT_A, 1, "x", 1, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(spool_put(sp, "ops", longid, 1, "x", 1, &cause), -1);
	free(cause);

	/* The longest ids allowed still make a valid name. */
	longid[128] = '\0';
	put(sp, longid, ALERT_A, 1, "x", 1);
	longid[64] = '\0';
	put(sp, "ops", longid, 1, "x", 1);
	put(sp, "A-b_c.9", "ABCDEF0123456789abcdef", 1, "x", 1);
	assert_int_equal(spool_count(sp), 3);
	assert_int_equal(count_files("spool"), 2 + 3);
	spool_close(sp);

	sp = open_spool("spool", 1 << 20);
	assert_int_equal(spool_count(sp), 3);
	assert_int_equal(count_files("spool/dead"), 0);
	spool_close(sp);
}

/* Oldest first, by creation time and then name, in memory and at reopen. */
static void
test_order_and_reopen(void **state)
{
	static const char *want[] = {
	    ALERT_B ".ops.spool",  /* 100 */
	    ALERT_A ".chat.spool", /* 200 */
	    ALERT_A ".ops.spool",  /* 200 */
	    ALERT_C ".ops.spool",  /* 200 */
	    ALERT_C ".chat.spool", /* 300 */
	};
	struct spool *sp;
	struct spool_entry *e;
	uint64_t bytes;
	size_t i;

	sp = open_spool("spool", 1 << 20);
	put(sp, "chat", ALERT_C, 300, "c-chat", 6);
	put(sp, "ops", ALERT_C, 200, "c-ops", 5);
	put(sp, "ops", ALERT_A, 200, "a-ops", 5);
	put(sp, "ops", ALERT_B, 100, "b-ops", 5);
	put(sp, "chat", ALERT_A, 200, "a-chat", 6);
	assert_int_equal(spool_count(sp), 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(spool_entry_at(sp, i)->name, want[i]);
	bytes = spool_bytes(sp);

	/* Delivery state is in memory only. */
	e = spool_entry_at(sp, 0);
	e->attempts = 3;
	e->next_ms = 999;
	e->busy = 1;
	spool_close(sp);

	sp = open_spool("spool", 1 << 20);
	assert_int_equal(spool_count(sp), 5);
	assert_int_equal(spool_bytes(sp), bytes);
	for (i = 0; i < 5; i++) {
		e = spool_entry_at(sp, i);
		assert_string_equal(e->name, want[i]);
		assert_int_equal(e->attempts, 0);
		assert_int_equal(e->next_ms, 0);
		assert_int_equal(e->busy, 0);
	}
	e = spool_entry_at(sp, 0);
	assert_string_equal(e->webhook, "ops");
	assert_string_equal(e->alert_id, ALERT_B);
	assert_int_equal(e->created_ms, 100);
	check_body(sp, e, "b-ops", 5);
	e = spool_entry_at(sp, 4);
	assert_string_equal(e->webhook, "chat");
	assert_string_equal(e->alert_id, ALERT_C);
	assert_int_equal(e->created_ms, 300);
	check_body(sp, e, "c-chat", 6);

	/* Entries put after the reopen take their place in the order. */
	put(sp, "ops", "00", 150, "", 0);
	assert_string_equal(spool_entry_at(sp, 1)->name, "00.ops.spool");
	put(sp, "ops", "01", -5, "", 0);
	assert_string_equal(spool_entry_at(sp, 0)->name, "01.ops.spool");
	spool_close(sp);

	sp = open_spool("spool", 1 << 20);
	assert_string_equal(spool_entry_at(sp, 0)->name, "01.ops.spool");
	assert_int_equal(spool_entry_at(sp, 0)->created_ms, -5);
	assert_string_equal(spool_entry_at(sp, 2)->name, "00.ops.spool");
	spool_close(sp);
}

static void
test_tmp_cleaned(void **state)
{
	struct spool *sp;

	sp = open_spool("spool", 1 << 20);
	put(sp, "ops", ALERT_A, 1, "body", 4);
	spool_close(sp);

	write_file("spool/tmp/" ALERT_B ".ops.spool.123.1",
	    "watchlistd-spool 1 web", 22);
	write_file("spool/tmp/" ALERT_A ".ops.reason.123.2", "", 0);
	write_file("spool/tmp/junk", "junk", 4);
	sp = open_spool("spool", 1 << 20);
	assert_int_equal(count_files("spool/tmp"), 0);
	assert_int_equal(spool_count(sp), 1);
	assert_string_equal(spool_entry_at(sp, 0)->alert_id, ALERT_A);
	assert_int_equal(count_files("spool/dead"), 0);
	spool_close(sp);
}

struct corrupt_case {
	const char *name;
	const char *data;
	size_t len;
	const char *why;
};

#define CORRUPT(name, data, why)                                               \
	{                                                                      \
		name, data, sizeof data - 1, why                               \
	}

static void
test_corrupt(void **state)
{
	static const struct corrupt_case cases[] = {
	    CORRUPT("01.ops.spool", "", "empty file"),
	    CORRUPT(
	        "02.ops.spool", "garbage without a newline", "no header line"),
	    CORRUPT("03.ops.spool", "GIF89a\n\x01\x02",
	        "not a watchlistd spool file"),
	    CORRUPT("04.ops.spool", "watchlistd-spool 2 webhook=ops\n",
	        "unsupported version 2"),
	    CORRUPT("05.ops.spool",
	        "watchlistd-spool 1 webhook=ops alert=05 created=1\nx",
	        "wrong number of header fields"),
	    CORRUPT("06.ops.spool",
	        "watchlistd-spool 1 webhook=ops alert=06 created=1 bytes=5\n"
	        "abc",
	        "body is 3 bytes, header says 5"),
	    CORRUPT("07.ops.spool",
	        "watchlistd-spool 1 webhook=ops alert=07 created=1 bytes=1\n"
	        "abc",
	        "body is 3 bytes, header says 1"),
	    CORRUPT("08.ops.spool",
	        "watchlistd-spool 1 webhook=ops alert=09 created=1 bytes=1\nx",
	        "header is for 09.ops.spool"),
	    CORRUPT("09.ops.spool",
	        "watchlistd-spool 1 webhook=o/s alert=09 created=1 bytes=1\nx",
	        "bad webhook id"),
	    CORRUPT("0a.ops.spool",
	        "watchlistd-spool 1 webhook=ops alert=0x created=1 bytes=1\nx",
	        "bad alert id"),
	    CORRUPT("0b.ops.spool",
	        "watchlistd-spool 1 webhook=ops alert=0b created=x bytes=1\nx",
	        "bad creation time"),
	    CORRUPT("0c.ops.spool",
	        "watchlistd-spool 1 webhook=ops alert=0c created=1 bytes=-1\nx",
	        "bad body length"),
	    CORRUPT("0d.ops.spool",
	        "watchlistd-spool 1 webhook=ops alert=0d\0 created=1 "
	        "bytes=1\nx",
	        "NUL byte in the header"),
	    CORRUPT("0e.ops.spool",
	        "watchlistd-spool 1  webhook=ops alert=0e created=1 bytes=1\nx",
	        "wrong number of header fields"),
	    CORRUPT(
	        "0f.ops.spool", "watchlistd-spool \x1b[2J\n", "bad version"),
	    CORRUPT(".spool", "x", "no header line"),
	};
	struct spool *sp;
	char *data, *want, *log, name[64];
	size_t i, len;

	sp = open_spool("spool", 1 << 20);
	put(sp, "ops", "ff", 1, "good", 4);
	spool_close(sp);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(name, sizeof name, "spool/%s", cases[i].name);
		write_file(name, cases[i].data, cases[i].len);
	}
	write_file("spool/README", "not a spool file", 16);
	write_file("spool/x\x1b\ny.spool", "x", 1);
	assert_int_equal(mkdir(path_of("spool/10.ops.spool"), 0700), 0);
	assert_int_equal(
	    symlink("ff.ops.spool", path_of("spool/11.ops.spool")), 0);

	capture_start();
	sp = open_spool("spool", 1 << 20);
	log = capture_end();
	assert_int_equal(spool_count(sp), 1);
	assert_string_equal(spool_entry_at(sp, 0)->name, "ff.ops.spool");
	check_body(sp, spool_entry_at(sp, 0), "good", 4);
	spool_close(sp);

	/* Nothing lost: each moved byte for byte, with its reason. */
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(name, sizeof name, "spool/%s", cases[i].name);
		assert_false(exists(name));
		want = xasprintf("test_spool: spool: %s: corrupt spool file: "
		                 "%s; moved to %s/dead/%s\n",
		    path_of(name), cases[i].why, path_of("spool"),
		    cases[i].name);
		if (strstr(log, want) == NULL)
			fail_msg("not logged: %s", want);
		free(want);
		snprintf(name, sizeof name, "spool/dead/%s", cases[i].name);
		data = read_file(name, &len);
		assert_int_equal(len, cases[i].len);
		assert_memory_equal(data, cases[i].data, len);
		free(data);
		snprintf(name, sizeof name, "spool/dead/%.*s.reason",
		    (int)(strlen(cases[i].name) - 6), cases[i].name);
		data = read_file(name, &len);
		want = xasprintf("corrupt spool file: %s\n", cases[i].why);
		if (strncmp(data, want, strlen(want)) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name,
			    data, want);
		/* RFC 3339 UTC: 2026-11-21T12:00:00Z */
		assert_int_equal(len, strlen(want) + 21);
		assert_int_equal(data[len - 1], '\n');
		assert_int_equal(data[len - 2], 'Z');
		assert_int_equal(data[strlen(want) + 10], 'T');
		free(want);
		free(data);
	}
	assert_true(exists("spool/dead/10.ops.spool"));
	assert_true(exists("spool/dead/11.ops.spool"));
	data = read_file("spool/dead/11.ops.reason", &len);
	assert_true(
	    strncmp(data, "corrupt spool file: not a regular file\n", 39) == 0);
	free(data);
	assert_true(exists("spool/README"));
	assert_non_null(strstr(log, "spool/x??y.spool: corrupt spool file: "
	                            "no header line; moved to "));
	assert_true(exists("spool/dead/x\x1b\ny.spool"));
	free(log);
	assert_int_equal(count_files("spool/dead"),
	    2 * (sizeof cases / sizeof cases[0] + 3));

	/* A second open finds a clean spool. */
	sp = open_spool("spool", 1 << 20);
	assert_int_equal(spool_count(sp), 1);
	spool_close(sp);
	assert_int_equal(count_files("spool/dead"),
	    2 * (sizeof cases / sizeof cases[0] + 3));
}

static void
test_bury(void **state)
{
	struct spool *sp;
	struct spool_entry *e;
	char *cause = NULL, *data, *orig, *name, *log, *want;
	size_t len, olen;
	int i;

	sp = open_spool("spool", 1 << 20);
	put(sp, "ops", ALERT_A, 1, "payload", 7);
	put(sp, "ops", ALERT_B, 2, "other", 5);
	orig = read_file("spool/" ALERT_A ".ops.spool", &olen);
	e = find(sp, ALERT_A, "ops");
	capture_start();
	assert_int_equal(spool_bury(sp, e, "HTTP 400 Bad Request", &cause), 0);
	log = capture_end();
	want = xasprintf("test_spool: spool: gave up alert " ALERT_A
	                 " for webhook ops: HTTP 400 Bad Request; moved to "
	                 "%s\n",
	    path_of("spool/dead/" ALERT_A ".ops.spool"));
	assert_string_equal(log, want);
	free(want);
	free(log);
	assert_int_equal(spool_count(sp), 1);
	assert_int_equal(spool_bytes(sp), spool_entry_at(sp, 0)->size);
	assert_false(exists("spool/" ALERT_A ".ops.spool"));
	data = read_file("spool/dead/" ALERT_A ".ops.spool", &len);
	assert_int_equal(len, olen);
	assert_memory_equal(data, orig, len);
	free(data);
	data = read_file("spool/dead/" ALERT_A ".ops.reason", &len);
	assert_int_equal(len, 21 + 21);
	assert_memory_equal(data, "HTTP 400 Bad Request\n", 21);
	assert_int_equal(data[21 + 4], '-');
	assert_int_equal(data[21 + 10], 'T');
	assert_int_equal(data[len - 2], 'Z');
	free(data);
	assert_int_equal(count_files("spool/tmp"), 0);

	/* The same delivery spooled and buried again does not overwrite. */
	for (i = 1; i <= 3; i++) {
		put(sp, "ops", ALERT_A, 1, "again", 5);
		e = find(sp, ALERT_A, "ops");
		assert_non_null(e);
		assert_int_equal(spool_bury(sp, e, "expired", &cause), 0);
		name = xasprintf("spool/dead/" ALERT_A ".ops~%d.spool", i);
		data = read_file(name, &len);
		assert_true(len > 5);
		assert_memory_equal(data + len - 5, "again", 5);
		free(data);
		free(name);
		name = xasprintf("spool/dead/" ALERT_A ".ops~%d.reason", i);
		data = read_file(name, &len);
		assert_memory_equal(data, "expired\n", 8);
		free(data);
		free(name);
	}
	data = read_file("spool/dead/" ALERT_A ".ops.spool", &len);
	assert_memory_equal(data, orig, olen);
	free(data);

	/* A stray reason (a crash mid-burial) is not overwritten either. */
	write_file("spool/dead/" ALERT_B ".ops.reason", "stray\n", 6);
	e = find(sp, ALERT_B, "ops");
	assert_int_equal(spool_bury(sp, e, "expired", &cause), 0);
	assert_true(exists("spool/dead/" ALERT_B ".ops~1.spool"));
	assert_true(exists("spool/dead/" ALERT_B ".ops~1.reason"));
	assert_false(exists("spool/dead/" ALERT_B ".ops.spool"));
	data = read_file("spool/dead/" ALERT_B ".ops.reason", &len);
	assert_int_equal(len, 6);
	free(data);
	assert_int_equal(spool_count(sp), 0);
	assert_int_equal(spool_bytes(sp), 0);
	free(orig);
	spool_close(sp);

	/* Buried entries stay buried. */
	sp = open_spool("spool", 1 << 20);
	assert_int_equal(spool_count(sp), 0);
	spool_close(sp);
}

static void
test_bytes_full(void **state)
{
	struct spool *sp;
	struct spool_entry *e;
	char body[1000], *cause = NULL;
	uint64_t a, b;

	memset(body, 'x', sizeof body);
	sp = open_spool("spool", 1500);
	assert_false(spool_full(sp));
	put(sp, "ops", ALERT_A, 1, body, 1000);
	a = spool_bytes(sp);
	assert_true(a > 1000);
	assert_int_equal(a, spool_entry_at(sp, 0)->size);
	assert_false(spool_full(sp));
	put(sp, "ops", ALERT_B, 2, body, 500);
	b = spool_bytes(sp) - a;
	assert_true(b > 500);
	assert_int_equal(a + b, spool_bytes(sp));
	assert_true(spool_full(sp));

	spool_set_max(sp, a + b + 1);
	assert_false(spool_full(sp));
	spool_set_max(sp, a + b);
	assert_true(spool_full(sp));
	spool_close(sp);

	sp = open_spool("spool", a + b);
	assert_int_equal(spool_bytes(sp), a + b);
	assert_true(spool_full(sp));
	e = find(sp, ALERT_A, "ops");
	assert_int_equal(spool_remove(sp, e, &cause), 0);
	assert_int_equal(spool_bytes(sp), b);
	assert_false(spool_full(sp));
	e = spool_entry_at(sp, 0);
	assert_int_equal(spool_bury(sp, e, "gone", &cause), 0);
	assert_int_equal(spool_bytes(sp), 0);
	spool_close(sp);
}

static void
test_binary_body(void **state)
{
	static const char body[] = "\0\n\0watchlistd-spool 1\n\r\n\xff\xfe\0";
	struct spool *sp;
	char big[70000];
	size_t i;

	for (i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 7 % 256);
	sp = open_spool("spool", 1 << 20);
	put(sp, "ops", ALERT_A, 1, body, sizeof body);
	put(sp, "ops", ALERT_B, 2, "", 0);
	put(sp, "ops", ALERT_C, 3, big, sizeof big);
	check_body(sp, spool_entry_at(sp, 0), body, sizeof body);
	check_body(sp, spool_entry_at(sp, 1), "", 0);
	check_body(sp, spool_entry_at(sp, 2), big, sizeof big);
	spool_close(sp);

	sp = open_spool("spool", 1 << 20);
	assert_int_equal(spool_count(sp), 3);
	check_body(sp, spool_entry_at(sp, 0), body, sizeof body);
	check_body(sp, spool_entry_at(sp, 1), "", 0);
	check_body(sp, spool_entry_at(sp, 2), big, sizeof big);
	spool_close(sp);
}

/* A file changed or lost behind the spool's back is reported, not sent. */
static void
test_body_errors(void **state)
{
	struct spool *sp;
	struct spool_entry *e;
	struct buf b;
	char *cause = NULL, *want;
	FILE *fp;

	sp = open_spool("spool", 1 << 20);
	put(sp, "ops", ALERT_A, 1, "body", 4);
	put(sp, "ops", ALERT_B, 2, "body", 4);
	e = find(sp, ALERT_A, "ops");
	fp = fopen(path_of("spool/" ALERT_A ".ops.spool"), "a");
	assert_non_null(fp);
	fputs("more", fp);
	fclose(fp);
	buf_init(&b);
	buf_add_str(&b, "old");
	assert_int_equal(spool_body(sp, e, &b, &cause), -1);
	want = xasprintf("spool: read %s: the file has changed since it was "
	                 "spooled",
	    path_of("spool/" ALERT_A ".ops.spool"));
	assert_string_equal(cause, want);
	assert_int_equal(b.len, 0);
	free(want);
	free(cause);

	e = find(sp, ALERT_B, "ops");
	assert_int_equal(unlink(path_of("spool/" ALERT_B ".ops.spool")), 0);
	cause = NULL;
	assert_int_equal(spool_body(sp, e, &b, &cause), -1);
	want = xasprintf("spool: open %s: No such file or directory",
	    path_of("spool/" ALERT_B ".ops.spool"));
	assert_string_equal(cause, want);
	free(want);
	free(cause);
	buf_release(&b);

	/* Removing what is already gone is done, not an error. */
	cause = NULL;
	assert_int_equal(spool_remove(sp, e, &cause), 0);
	assert_null(cause);
	assert_int_equal(spool_count(sp), 1);
	spool_close(sp);
}

/*
 * The crash test.  A child opens the spool and runs a fixed sequence: for
 * i = 0, 1, ...: put i; then remove i if i % 3 == 0, else bury i if
 * i % 5 == 0.  After each call returns it writes a record to a pipe.  The
 * parent SIGKILLs it at a random moment, then checks the directory: every
 * reported put is there and complete unless reported removed or buried;
 * the one operation that may have been in flight may have happened or not,
 * but never leaves a partial file under a final name.
 */
#define CRASH_ROUNDS  60
#define CRASH_MAX_OPS 100000

enum crash_op { CRASH_PUT, CRASH_REMOVE, CRASH_BURY };

struct crash_record {
	uint32_t op;
	uint32_t i;
};

enum crash_state {
	CRASH_UNKNOWN, /* in flight at the kill: either outcome */
	CRASH_PRESENT,
	CRASH_GONE,
	CRASH_DEAD,
};

struct crash_item {
	uint32_t round;
	uint32_t i;
	enum crash_state state;
};

static void
crash_alert(uint32_t round, uint32_t i, char out[17])
{
	snprintf(out, 17, "%08" PRIx32 "%08" PRIx32, round, i);
}

static size_t
crash_body_len(uint32_t round, uint32_t i)
{
	return ((round * 40503u + i) * 2654435761u >> 8) % 150000;
}

static char *
crash_body(uint32_t round, uint32_t i, size_t *len)
{
	char *b;
	size_t j;

	*len = crash_body_len(round, i);
	b = xmalloc(*len + 1);
	for (j = 0; j < *len; j++)
		b[j] = (char)((round * 131 + i * 31 + j * 7) & 0xff);
	return b;
}

static void
crash_report(int fd, uint32_t op, uint32_t i)
{
	struct crash_record r = {op, i};

	if (write(fd, &r, sizeof r) != (ssize_t)sizeof r)
		_exit(3);
}

static void __attribute__((noreturn))
crash_child(const char *dir, uint32_t round, int fd)
{
	struct spool *sp;
	struct spool_entry *e;
	char alert[17], *body, *cause = NULL;
	size_t len;
	uint32_t i;

	log_set_level(LOG_LEVEL_ERROR);
	if ((sp = spool_open(dir, UINT64_MAX, &cause)) == NULL)
		_exit(2);
	for (i = 0; i < CRASH_MAX_OPS; i++) {
		crash_alert(round, i, alert);
		body = crash_body(round, i, &len);
		if (spool_put(sp, "w", alert, (int64_t)round << 32 | i, body,
		        len, &cause) != 0)
			_exit(2);
		free(body);
		crash_report(fd, CRASH_PUT, i);
		if (i % 3 != 0 && i % 5 != 0)
			continue;
		/* The newest entry sorts last: created grows. */
		e = spool_entry_at(sp, spool_count(sp) - 1);
		if (strcmp(e->alert_id, alert) != 0)
			_exit(4);
		if (i % 3 == 0) {
			if (spool_remove(sp, e, &cause) != 0)
				_exit(2);
			crash_report(fd, CRASH_REMOVE, i);
		} else {
			if (spool_bury(sp, e, "crash test", &cause) != 0)
				_exit(2);
			crash_report(fd, CRASH_BURY, i);
		}
	}
	_exit(0);
}

/*
 * Check the files of this round under a final name in DIR without the
 * spool's help: a valid header whose length and body match what the child
 * wrote.  Earlier rounds' files have been checked already.
 */
static void
crash_check_files(const char *dir, uint32_t this_round)
{
	struct dirent *de;
	char *path, *data, alert[17], webhook[8];
	unsigned int round, i;
	int64_t created;
	size_t len, blen, hlen;
	uint64_t bytes;
	char *want, *nl;
	DIR *d;

	d = opendir(path_of(dir));
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 6, ".spool") != 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		data = read_file(path, &len);
		nl = memchr(data, '\n', len);
		if (nl == NULL ||
		    sscanf(data,
		        "watchlistd-spool 1 webhook=%7s alert=%16s "
		        "created=%" SCNd64 " bytes=%" SCNu64,
		        webhook, alert, &created, &bytes) != 4 ||
		    sscanf(alert, "%8x%8x", &round, &i) != 2)
			fail_msg("%s: bad header", path);
		if (round != this_round) {
			free(data);
			free(path);
			continue;
		}
		hlen = (size_t)(nl - data) + 1;
		if (hlen + bytes != len)
			fail_msg("%s: partial: %zu bytes, header says %zu + "
			         "%" PRIu64,
			    path, len, hlen, bytes);
		want = crash_body(round, i, &blen);
		assert_int_equal(bytes, blen);
		assert_memory_equal(data + hlen, want, blen);
		free(want);
		free(data);
		free(path);
	}
	closedir(d);
}

/*
 * Every dead spool file has its reason, and none is a corrupt file.  A
 * reason alone is allowed: a burial cut between its two renames.
 */
static void
crash_check_dead(const char *dir)
{
	struct dirent *de;
	char *name, *data;
	size_t len;
	DIR *d;

	d = opendir(path_of(dir));
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > 6 && strcmp(de->d_name + len - 6, ".spool") == 0) {
			name = xasprintf(
			    "%s/%.*s.reason", dir, (int)(len - 6), de->d_name);
			data = read_file(name, &len);
			free(data);
			free(name);
		} else if (len > 7 &&
		           strcmp(de->d_name + len - 7, ".reason") == 0) {
			name = xasprintf("%s/%s", dir, de->d_name);
			data = read_file(name, &len);
			if (strncmp(data, "crash test\n", 11) != 0)
				fail_msg("%s: %s", name, data);
			free(data);
			free(name);
		}
	}
	closedir(d);
}

static void
test_crash(void **state)
{
	struct crash_item *items = NULL;
	struct crash_record r;
	struct spool *sp;
	struct spool_entry *e;
	struct pollfd pfd;
	struct timespec now, end;
	char alert[17], *name;
	size_t nitems = 0, cap = 0, k, n, first;
	ssize_t got;
	unsigned int seed;
	uint32_t round, last_op, last_i;
	int fds[2], status, delay_ms, any;
	pid_t pid;

	seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	if (getenv("SPOOL_SEED") != NULL)
		seed = (unsigned int)strtoul(getenv("SPOOL_SEED"), NULL, 10);
	printf("crash test: seed %u (SPOOL_SEED=%u to repeat)\n", seed, seed);
	srand(seed);
	spool_close(open_spool("crash", UINT64_MAX));

	for (round = 0; round < CRASH_ROUNDS; round++) {
		assert_int_equal(pipe(fds), 0);
		fflush(stdout);
		fflush(stderr);
		if ((pid = fork()) == 0) {
			close(fds[0]);
			crash_child(path_of("crash"), round, fds[1]);
		}
		assert_true(pid > 0);
		close(fds[1]);

		/* Collect records until a random moment, then kill. */
		delay_ms = rand() % 80;
		if (round % 8 == 0)
			delay_ms = rand() % 3;
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_nsec += (long)delay_ms * 1000000;
		end.tv_sec += end.tv_nsec / 1000000000;
		end.tv_nsec %= 1000000000;
		first = nitems;
		any = 0;
		last_op = last_i = 0;
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > end.tv_sec ||
			    (now.tv_sec == end.tv_sec &&
			        now.tv_nsec >= end.tv_nsec))
				kill(pid, SIGKILL);
			pfd.fd = fds[0];
			pfd.events = POLLIN;
			if (poll(&pfd, 1, 1) <= 0)
				continue;
			got = read(fds[0], &r, sizeof r);
			if (got == 0)
				break;
			assert_int_equal(got, sizeof r);
			if (r.op == CRASH_PUT) {
				if (nitems == cap) {
					cap = cap == 0 ? 256 : cap * 2;
					items = xreallocarray(
					    items, cap, sizeof *items);
				}
				items[nitems].round = round;
				items[nitems].i = r.i;
				items[nitems].state = CRASH_PRESENT;
				nitems++;
			} else {
				assert_true(nitems > first);
				assert_int_equal(items[nitems - 1].i, r.i);
				items[nitems - 1].state = r.op == CRASH_REMOVE
				                              ? CRASH_GONE
				                              : CRASH_DEAD;
			}
			any = 1;
			last_op = r.op;
			last_i = r.i;
		}
		close(fds[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			fail_msg("round %u: child exited with %d", round,
			    WEXITSTATUS(status));

		/* A put followed by a remove or bury may have been cut. */
		if (any && last_op == CRASH_PUT &&
		    (last_i % 3 == 0 || last_i % 5 == 0))
			items[nitems - 1].state = CRASH_UNKNOWN;
		printf("crash round %2u: killed after %2d ms, %3zu puts "
		       "reported, %zu file%s left in tmp/\n",
		    round, delay_ms, nitems - first, count_files("crash/tmp"),
		    count_files("crash/tmp") == 1 ? "" : "s");

		crash_check_files("crash", round);
		crash_check_dead("crash/dead");
		sp = open_spool("crash", UINT64_MAX);
		assert_int_equal(count_files("crash/tmp"), 0);
		n = count_files("crash") - 2;
		assert_int_equal(spool_count(sp), n);
		for (k = 0; k < nitems; k++) {
			crash_alert(items[k].round, items[k].i, alert);
			e = find(sp, alert, "w");
			name = xasprintf("crash/dead/%s.w.spool", alert);
			switch (items[k].state) {
			case CRASH_UNKNOWN:
				break;
			case CRASH_PRESENT:
				if (e == NULL)
					fail_msg(
					    "round %u: lost %s", round, alert);
				break;
			case CRASH_GONE:
				assert_null(e);
				assert_false(exists(name));
				break;
			case CRASH_DEAD:
				assert_null(e);
				assert_true(exists(name));
				break;
			}
			free(name);
		}
		/* The order is oldest first. */
		for (k = 1; k < spool_count(sp); k++)
			assert_true(spool_entry_at(sp, k - 1)->created_ms <
			            spool_entry_at(sp, k)->created_ms);
		spool_close(sp);
		crash_check_dead("crash/dead");
	}
	free(items);
}

/* A full disk: a 64 KiB tmpfs, when this process may mount one. */
static void
test_enospc(void **state)
{
	struct spool *sp;
	struct spool_entry *e;
	char body[8192], big[100000], *cause = NULL, *prefix, alert[8];
	const char *suffix = ": No space left on device";
	size_t n = 0, i, clen;
	int rc = 0;

	if (geteuid() != 0) {
		printf("SKIP: test_enospc: not running as root\n");
		return;
	}
	snprintf(mounted, sizeof mounted, "%s", path_of("small"));
	assert_int_equal(mkdir(mounted, 0700), 0);
	if (mount("tmpfs", mounted, "tmpfs", 0, "size=64k") == -1) {
		printf("SKIP: test_enospc: mount tmpfs on %s: %s\n", mounted,
		    strerror(errno));
		mounted[0] = '\0';
		return;
	}

	memset(body, 'b', sizeof body);
	memset(big, 'B', sizeof big);
	sp = open_spool("small/spool", UINT64_MAX);
	prefix = xasprintf("spool: write %s/tmp/", path_of("small/spool"));

	/* One body bigger than the whole disk. */
	assert_int_equal(
	    spool_put(sp, "ops", "ab", 1, big, sizeof big, &cause), -1);
	clen = strlen(cause);
	if (strncmp(cause, prefix, strlen(prefix)) != 0 ||
	    clen < strlen(suffix) ||
	    strcmp(cause + clen - strlen(suffix), suffix) != 0)
		fail_msg("unexpected cause: %s", cause);
	free(cause);
	assert_int_equal(spool_count(sp), 0);
	assert_int_equal(count_files("small/spool/tmp"), 0);
	assert_int_equal(count_files("small/spool"), 2);

	/* Then fill it up. */
	for (i = 0; i < 100; i++) {
		snprintf(alert, sizeof alert, "%02zx", i);
		cause = NULL;
		if ((rc = spool_put(sp, "ops", alert, (int64_t)i, body,
		         sizeof body, &cause)) != 0)
			break;
		n++;
	}
	assert_int_equal(rc, -1);
	printf("enospc: %zu entries fitted; then: %s\n", n, cause);
	assert_true(n >= 2);
	assert_true(strncmp(cause, prefix, strlen(prefix)) == 0);
	clen = strlen(cause);
	assert_string_equal(cause + clen - strlen(suffix), suffix);
	free(cause);
	assert_int_equal(spool_count(sp), n);
	assert_int_equal(count_files("small/spool/tmp"), 0);
	assert_int_equal(count_files("small/spool"), 2 + n);
	for (i = 0; i < n; i++)
		check_body(sp, spool_entry_at(sp, i), body, sizeof body);

	/* Room made, the spool takes more again. */
	e = spool_entry_at(sp, 0);
	cause = NULL;
	assert_int_equal(spool_remove(sp, e, &cause), 0);
	put(sp, "ops", "ff", 1000, body, 100);
	assert_int_equal(spool_count(sp), n);
	spool_close(sp);

	sp = open_spool("small/spool", UINT64_MAX);
	assert_int_equal(spool_count(sp), n);
	assert_int_equal(count_files("small/spool/dead"), 0);
	spool_close(sp);
	free(prefix);

	assert_int_equal(umount(mounted), 0);
	mounted[0] = '\0';
}

/* Unlink the file of spool/tmp/ whose name starts with prefix. */
static void
unlink_tmp(const char *prefix)
{
	char victim[512] = "";
	struct dirent *de;
	DIR *d;

	d = opendir(path_of("spool/tmp"));
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			snprintf(
			    victim, sizeof victim, "spool/tmp/%s", de->d_name);
	}
	closedir(d);
	assert_int_equal(unlink(path_of(victim)), 0);
}

/* A batch: staged files are pending only once committed, all together. */
static void
test_stage_commit(void **state)
{
	struct spool *sp;
	char *cause = NULL;
	int fds[3], i;

	sp = open_spool("spool", 1 << 20);
	assert_int_equal(
	    spool_stage(sp, "ops", ALERT_A, 1000, "{\"a\":1}", 7, &cause), 0);
	assert_int_equal(
	    spool_stage(sp, "chat", ALERT_A, 1000, "{\"a\":2}", 7, &cause), 0);
	assert_int_equal(
	    spool_stage(sp, "ops", ALERT_B, 2000, "{\"b\":1}", 7, &cause), 0);
	/* The same alert and webhook again: staged once. */
	assert_int_equal(
	    spool_stage(sp, "ops", ALERT_A, 3000, "other", 5, &cause), 0);
	assert_int_equal(spool_staged(sp), 3);
	assert_int_equal(spool_count(sp), 0);
	assert_int_equal(count_files("spool/tmp"), 3);
	assert_false(exists("spool/" ALERT_A ".ops.spool"));

	assert_int_equal(spool_commit(sp, &cause), 0);
	assert_int_equal(spool_staged(sp), 0);
	assert_int_equal(spool_count(sp), 3);
	assert_int_equal(count_files("spool/tmp"), 0);
	check_body(sp, find(sp, ALERT_A, "ops"), "{\"a\":1}", 7);
	check_body(sp, find(sp, ALERT_A, "chat"), "{\"a\":2}", 7);
	check_body(sp, find(sp, ALERT_B, "ops"), "{\"b\":1}", 7);
	/* Pending already: staging it again stages nothing. */
	assert_int_equal(
	    spool_stage(sp, "ops", ALERT_B, 4000, "again", 5, &cause), 0);
	assert_int_equal(spool_staged(sp), 0);
	assert_int_equal(spool_commit(sp, &cause), 0);

	/* Staged and never committed: gone at close, not pending after. */
	assert_int_equal(
	    spool_stage(sp, "ops", ALERT_C, 5000, "lost", 4, &cause), 0);
	spool_close(sp);
	assert_int_equal(count_files("spool/tmp"), 0);
	sp = open_spool("spool", 1 << 20);
	assert_int_equal(spool_count(sp), 3);
	assert_null(find(sp, ALERT_C, "ops"));

	/* A commit that fails (a staged file vanished) stores none of them. */
	assert_int_equal(
	    spool_stage(sp, "ops", ALERT_C, 5000, "c", 1, &cause), 0);
	assert_int_equal(
	    spool_stage(sp, "chat", ALERT_C, 5000, "c", 1, &cause), 0);
	assert_int_equal(count_files("spool/tmp"), 2);
	unlink_tmp(ALERT_C ".chat");
	assert_int_equal(spool_commit(sp, &cause), -1);
	assert_non_null(strstr(cause, "rename"));
	free(cause);
	cause = NULL;
	assert_int_equal(spool_staged(sp), 0);
	assert_int_equal(spool_count(sp), 3);
	assert_false(exists("spool/" ALERT_C ".ops.spool"));
	assert_int_equal(count_files("spool/tmp"), 0);
	spool_close(sp);

	/* fileio_fsync_many(): every descriptor, several at once. */
	for (i = 0; i < 3; i++) {
		fds[i] = open(path_of("spool"), O_RDONLY | O_DIRECTORY);
		assert_true(fds[i] != -1);
	}
	assert_int_equal(fileio_fsync_many(fds, 3), 0);
	assert_int_equal(fileio_fsync_many(fds, 1), 0);
	assert_int_equal(fileio_fsync_many(fds, 0), 0);
	close(fds[1]);
	assert_int_equal(fileio_fsync_many(fds, 3), -1);
	assert_int_equal(errno, EBADF);
	close(fds[0]);
	close(fds[2]);
}

/* Delivered files leave DIR at once and are unlinked by the reaper. */
static void
test_remove_reaped(void **state)
{
	struct spool *sp;
	char *cause = NULL, alert[40];
	int i;

	sp = open_spool("spool", 1 << 20);
	for (i = 0; i < 50; i++) {
		snprintf(alert, sizeof alert, "%032x", i);
		put(sp, "ops", alert, i, "body", 4);
	}
	assert_int_equal(count_files("spool"), 52);
	while (spool_count(sp) > 0)
		assert_int_equal(
		    spool_remove(sp, spool_entry_at(sp, 0), &cause), 0);
	assert_int_equal(count_files("spool"), 2); /* tmp/, dead/ */
	/* The name is free at once for the same delivery again. */
	put(sp, "ops", ALERT_A, 1, "again", 5);
	assert_int_equal(spool_count(sp), 1);
	spool_sync(sp);
	spool_close(sp);
	assert_int_equal(count_files("spool/tmp"), 0);
	sp = open_spool("spool", 1 << 20);
	assert_int_equal(spool_count(sp), 1);
	check_body(sp, spool_entry_at(sp, 0), "again", 5);
	spool_close(sp);
}

/*
 * Many entries, a third of them delivered in a scattered order: a delivery
 * already pending is still recognised (spool_stage() adds nothing) and a
 * delivered one can be spooled again, in memory and after a reopen.  This
 * is what the index by name has to get right when entries leave it.
 */
static void
test_many_names(void **state)
{
	enum { N = 1000 };
	struct spool *sp;
	struct spool_entry *e;
	char *cause = NULL, alert[40];
	int i, round;
	size_t want;

	sp = open_spool("spool", UINT64_MAX);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < N; i++) {
			snprintf(alert, sizeof alert, "%032x", i * 7919 % N);
			if (spool_stage(sp, "ops", alert, 1000 + round, "again",
			        5, &cause) != 0 ||
			    (spool_staged(sp) >= 50 &&
			        spool_commit(sp, &cause) != 0))
				fail_msg("%s", cause);
		}
		assert_int_equal(spool_commit(sp, &cause), 0);
		assert_int_equal(spool_count(sp), N);
		if (round == 1)
			break;
		/* Deliver every third, by the ids' order, not the spool's. */
		for (i = 0; i < N; i += 3) {
			snprintf(alert, sizeof alert, "%032x", i);
			e = find(sp, alert, "ops");
			assert_non_null(e);
			assert_int_equal(spool_remove(sp, e, &cause), 0);
		}
		assert_int_equal(spool_count(sp), N - (N + 2) / 3);
	}
	/* Spooled again at the second round: those delivered; kept: the rest.
	 */
	for (i = 0, want = 0; i < N; i++) {
		snprintf(alert, sizeof alert, "%032x", i);
		e = find(sp, alert, "ops");
		assert_non_null(e);
		assert_int_equal(e->created_ms, i % 3 == 0 ? 1001 : 1000);
		want += i % 3 == 0;
	}
	spool_sync(sp);
	spool_close(sp);
	sp = open_spool("spool", UINT64_MAX);
	assert_int_equal(spool_count(sp), N);
	for (i = 0; i < N; i++) {
		snprintf(alert, sizeof alert, "%032x", i);
		assert_int_equal(
		    spool_put(sp, "ops", alert, 5000, "x", 1, &cause), 0);
	}
	assert_int_equal(spool_count(sp), N);
	assert_int_equal(want, (N + 2) / 3);
	spool_close(sp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_many_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stage_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_remove_reaped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_put_idempotent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_order_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tmp_cleaned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bury, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bytes_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_binary_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_body_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
	};

	log_init("test_spool", LOG_LEVEL_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
