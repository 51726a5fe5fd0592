/*
 * Unit tests for dedup.c: story keys, the window, and memory across a
 * restart.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dedup.h"
#include "doc.h"
#include "xmalloc.h"

#define HOUR (3600 * 1000LL)

static struct doc *
mkdoc(const char *text, const char *link)
{
	struct doc *d =
	    doc_from_bytes("x", xstrdup(text), strlen(text), DOC_TEXT);

	d->link = link != NULL ? xstrdup(link) : NULL;
	return d;
}

static void
keys_of(const char *text, const char *link, struct dedup_keys *k)
{
	struct doc *d = mkdoc(text, link);

	dedup_keys_make(d, k);
	doc_free(d);
}

/* Remember a story the way the daemon does: add, write, fsync. */
static int
record(struct dedup *dd, const struct dedup_keys *k, int64_t now_ms)
{
	char *cause = NULL;

	dedup_add(dd, k, now_ms);
	if (dedup_flush(dd, now_ms, &cause) != 0) {
		free(cause);
		return -1;
	}
	return dedup_sync(dd);
}

static void
test_keys(void **state)
{
	struct dedup_keys a, b;

	/* The same words, whatever the case, accents and punctuation. */
	keys_of("ISIS seized Sirte.", NULL, &a);
	keys_of("isis -- SEIZED   sirte!", NULL, &b);
	assert_string_equal(a.text, b.text);
	assert_string_equal(a.link, "");
	keys_of("ISIS seized Derna.", NULL, &b);
	assert_string_not_equal(a.text, b.text);
	/* Links: host case, fragment and utm_ parameters do not matter. */
	keys_of("x", "https://News.Example/a/1?utm_source=rss&id=7#top", &a);
	keys_of("y", "https://news.example/a/1?id=7", &b);
	assert_string_equal(a.link, b.link);
	keys_of("y", "https://news.example/a/2?id=7", &b);
	assert_string_not_equal(a.link, b.link);
	keys_of("", NULL, &a);
	assert_string_equal(a.text, "");
}

static void
test_window_and_restart(void **state)
{
	char dir[] = "/tmp/test_dedup.XXXXXX", path[64], *cause = NULL;
	struct dedup_keys k, other;
	struct dedup *dd;
	const char *which;
	int64_t age, t0 = 1000 * HOUR;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/dedup", dir);
	dd = dedup_open(path, 24 * HOUR, t0, &cause);
	assert_non_null(dd);
	keys_of("ISIS seized Sirte.", "https://news.example/a/1", &k);
	keys_of("Something else.", "https://news.example/a/9", &other);
	assert_false(dedup_seen(dd, &k, t0, &which, &age));
	assert_int_equal(record(dd, &k, t0), 0);
	assert_true(dedup_seen(dd, &k, t0 + HOUR, &which, &age));
	assert_string_equal(which, "link");
	assert_int_equal(age, HOUR);
	assert_false(dedup_seen(dd, &other, t0 + HOUR, &which, &age));
	/* The same text under another link is the same story. */
	keys_of("isis SEIZED sirte", "https://mirror.example/x", &other);
	assert_true(dedup_seen(dd, &other, t0 + HOUR, &which, &age));
	assert_string_equal(which, "text");
	/* Past the window it is news again. */
	assert_false(dedup_seen(dd, &k, t0 + 25 * HOUR, &which, &age));
	dedup_close(dd);

	/* A restart remembers; a torn last line from a crash is skipped. */
	fp = fopen(path, "a");
	fputs("123 Tdead", fp);
	fclose(fp);
	dd = dedup_open(path, 24 * HOUR, t0 + 2 * HOUR, &cause);
	assert_non_null(dd);
	assert_true(dedup_seen(dd, &k, t0 + 2 * HOUR, &which, &age));
	dedup_close(dd);
	/* Reopened after the window: forgotten, and compacted away. */
	dd = dedup_open(path, 24 * HOUR, t0 + 30 * HOUR, &cause);
	assert_false(dedup_seen(dd, &k, t0 + 30 * HOUR, &which, &age));
	dedup_close(dd);
	fp = fopen(path, "r");
	assert_int_equal(fgetc(fp), EOF);
	fclose(fp);

	/* A window of 0 turns it off. */
	dd = dedup_open(path, 0, t0, &cause);
	assert_int_equal(record(dd, &k, t0), 0);
	assert_false(dedup_seen(dd, &k, t0, &which, &age));
	dedup_close(dd);
	unlink(path);
	rmdir(dir);
}

/* Stories added one by one, written and fsync'ed once for all. */
static void
test_batch(void **state)
{
	char dir[] = "/tmp/test_dedup.XXXXXX", path[64], *cause = NULL;
	struct dedup_keys a, b;
	struct dedup *dd;
	const char *which;
	int64_t age, t0 = 1000 * HOUR;
	char line[128];
	int lines = 0;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/dedup", dir);
	dd = dedup_open(path, 24 * HOUR, t0, &cause);
	assert_non_null(dd);
	keys_of("ISIS seized Sirte.", "https://news.example/a/1", &a);
	keys_of("Something else.", NULL, &b);
	dedup_add(dd, &a, t0);
	dedup_add(dd, &b, t0);
	/* Known at once, in the file only once flushed. */
	assert_true(dedup_seen(dd, &a, t0, &which, &age));
	assert_true(dedup_seen(dd, &b, t0, &which, &age));
	fp = fopen(path, "r");
	assert_int_equal(fgetc(fp), EOF);
	fclose(fp);
	assert_int_equal(dedup_flush(dd, t0, &cause), 0);
	assert_int_equal(dedup_sync(dd), 0);
	/* Nothing more to write or to fsync. */
	assert_int_equal(dedup_flush(dd, t0, &cause), 0);
	assert_int_equal(dedup_sync(dd), 0);
	fp = fopen(path, "r");
	while (fgets(line, sizeof line, fp) != NULL)
		lines++;
	fclose(fp);
	assert_int_equal(lines, 3); /* a's link and text, b's text */
	dedup_close(dd);

	dd = dedup_open(path, 24 * HOUR, t0 + HOUR, &cause);
	assert_non_null(dd);
	assert_true(dedup_seen(dd, &a, t0 + HOUR, &which, &age));
	assert_true(dedup_seen(dd, &b, t0 + HOUR, &which, &age));
	assert_string_equal(which, "text");
	/* Written but not fsync'ed at close: dedup_close() fsyncs. */
	keys_of("A third story.", NULL, &b);
	dedup_add(dd, &b, t0 + HOUR);
	assert_int_equal(dedup_flush(dd, t0 + HOUR, &cause), 0);
	dedup_close(dd);
	dd = dedup_open(path, 24 * HOUR, t0 + HOUR, &cause);
	assert_true(dedup_seen(dd, &b, t0 + HOUR, &which, &age));
	dedup_close(dd);
	unlink(path);
	rmdir(dir);
}

/*
 * An append cut short (a full disk; here the file size limit) is taken back,
 * so that the next record does not follow a torn line and get lost with it.
 */
static void
test_torn_append(void **state)
{
	char dir[] = "/tmp/test_dedup.XXXXXX", path[64], *cause = NULL;
	struct dedup_keys a, b;
	struct dedup *dd;
	struct rlimit old, small;
	struct stat st;
	const char *which;
	int64_t age, t0 = 1000 * HOUR;
	void (*oldsig)(int);
	int rc;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/dedup", dir);
	dd = dedup_open(path, 24 * HOUR, t0, &cause);
	assert_non_null(dd);
	keys_of("ISIS seized Sirte.", NULL, &a);
	keys_of("Something else.", NULL, &b);

	/* Room for 20 bytes of a's 80-byte line. */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 20;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	dedup_add(dd, &a, t0);
	rc = dedup_flush(dd, t0, &cause);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(cause, "append to"));
	free(cause);
	cause = NULL;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);

	dedup_add(dd, &b, t0);
	assert_int_equal(dedup_flush(dd, t0, &cause), 0);
	dedup_close(dd);
	dd = dedup_open(path, 24 * HOUR, t0, &cause);
	assert_non_null(dd);
	assert_true(dedup_seen(dd, &b, t0, &which, &age));
	dedup_close(dd);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_window_and_restart),
	    cmocka_unit_test(test_batch),
	    cmocka_unit_test(test_torn_append),
	};

	return cmocka_run_group_tests_name("dedup", tests, NULL, NULL);
}
