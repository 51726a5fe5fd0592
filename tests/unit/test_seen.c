/*
 * Unit tests for seen.c: keys, round trips, the bound, a kill -9 at random
 * moments while a child saves, and corrupt files moved aside.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <ftw.h>
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

#include "alert.h"
#include "feed.h"
#include "seen.h"

static char tmpdir[64];

static int
setup(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_seen.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
teardown(void **state)
{
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* The key of a number, as a test's stand-in for an entry. */
static const char *
key_of(unsigned int i)
{
	static char out[65];
	char s[32];

	snprintf(s, sizeof s, "entry-%u", i);
	alert_sha256_hex(s, strlen(s), out);
	return out;
}

/* How many names in the directory start with prefix. */
static int
count_files(const char *prefix)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void
write_file(const char *name, const char *text)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
test_key(void **state)
{
	static char title[] = "Title", title2[] = "Title, corrected";
	static char summary[] = "summary", content[] = "content";
	static char link[] = "https://example.net/a";
	static char link2[] = "https://example.net/b";
	static char id[] = "urn:uuid:1", empty[] = "";
	struct feed_entry e;
	char k1[65], k2[65], want[65];

	memset(&e, 0, sizeof e);
	assert_int_equal(seen_key(&e, k1), -1);

	e.title = title;
	e.summary = summary;
	assert_int_equal(seen_key(&e, k1), 0);
	alert_sha256_hex("Title\nsummary", 13, want);
	assert_string_equal(k1, want);
	e.content = content;
	assert_int_equal(seen_key(&e, k1), 0);
	alert_sha256_hex("Title\ncontent", 13, want);
	assert_string_equal(k1, want);

	e.link = link;
	assert_int_equal(seen_key(&e, k2), 0);
	alert_sha256_hex(e.link, strlen(e.link), want);
	assert_string_equal(k2, want);

	/* The id wins, whatever else changes. */
	e.id = id;
	assert_int_equal(seen_key(&e, k1), 0);
	e.title = title2;
	e.link = link2;
	assert_int_equal(seen_key(&e, k2), 0);
	assert_string_equal(k1, k2);
	alert_sha256_hex("urn:uuid:1", 10, want);
	assert_string_equal(k1, want);

	/* An empty id counts as none. */
	e.id = empty;
	assert_int_equal(seen_key(&e, k1), 0);
	alert_sha256_hex(e.link, strlen(e.link), want);
	assert_string_equal(k1, want);
}

static void
test_round_trip(void **state)
{
	struct seen *s;
	char *cause = NULL;
	unsigned int i;

	s = seen_load(tmpdir, "news", &cause);
	assert_non_null(s);
	assert_int_equal(seen_count(s), 0);
	assert_int_equal(seen_fetched(s), 0);
	assert_null(seen_etag(s));
	assert_null(seen_last_modified(s));
	assert_int_equal(seen_failures(s), 0);
	for (i = 0; i < 10; i++)
		seen_add(s, key_of(i));
	seen_add(s, key_of(3)); /* again: still one */
	assert_int_equal(seen_count(s), 10);
	assert_true(seen_has(s, key_of(9)));
	assert_false(seen_has(s, key_of(10)));
	assert_false(seen_has(s, "not a key"));
	seen_set_fetched(s);
	seen_set_validators(
	    s, "W/\"abc def\"", "Sat, 21 Nov 2026 12:00:00 GMT");
	seen_set_failures(s, 3);
	assert_int_equal(seen_save(s, &cause), 0);
	seen_free(s);

	s = seen_load(tmpdir, "news", &cause);
	assert_non_null(s);
	assert_int_equal(seen_count(s), 10);
	for (i = 0; i < 10; i++)
		assert_true(seen_has(s, key_of(i)));
	assert_false(seen_has(s, key_of(10)));
	assert_int_equal(seen_fetched(s), 1);
	assert_string_equal(seen_etag(s), "W/\"abc def\"");
	assert_string_equal(
	    seen_last_modified(s), "Sat, 21 Nov 2026 12:00:00 GMT");
	assert_int_equal(seen_failures(s), 3);

	/* A validator with a line break is not stored: it would break the
	 * file, and no server sends one. */
	seen_set_validators(s, "a\nb", NULL);
	assert_null(seen_etag(s));
	assert_null(seen_last_modified(s));
	assert_int_equal(seen_save(s, &cause), 0);
	seen_free(s);
	s = seen_load(tmpdir, "news", &cause);
	assert_null(seen_etag(s));
	assert_int_equal(seen_count(s), 10);
	seen_free(s);

	/* Other feeds have their own files; nothing was left in tmp. */
	s = seen_load(tmpdir, "other", &cause);
	assert_int_equal(seen_count(s), 0);
	seen_free(s);
	assert_int_equal(count_files(".news"), 0);
	assert_int_equal(count_files("news.seen"), 1);
}

static void
test_bad_id(void **state)
{
	char *cause = NULL;

	assert_null(seen_load(tmpdir, "../etc", &cause));
	assert_non_null(strstr(cause, "cannot name a state file"));
	free(cause);
	cause = NULL;
	assert_null(seen_load(tmpdir, ".hidden", &cause));
	free(cause);
}

/* The newest max(1000, 3 x fetch size) keys are kept. */
static void
test_bound(void **state)
{
	struct seen *s;
	char *cause = NULL;
	unsigned int i;

	s = seen_load(tmpdir, "big", &cause);
	for (i = 0; i < 1500; i++) {
		seen_add(s, key_of(i));
		/* Entry 0 stays in the feed: it keeps being seen. */
		if (i % 100 == 0)
			seen_add(s, key_of(0));
	}
	assert_int_equal(seen_save(s, &cause), 0);
	assert_int_equal(seen_count(s), SEEN_MIN_KEYS);
	seen_free(s);

	s = seen_load(tmpdir, "big", &cause);
	assert_int_equal(seen_count(s), SEEN_MIN_KEYS);
	assert_true(seen_has(s, key_of(0)));
	assert_false(seen_has(s, key_of(1)));
	assert_false(seen_has(s, key_of(499)));
	assert_true(seen_has(s, key_of(501)));
	assert_true(seen_has(s, key_of(1499)));

	/* A long feed: 600 entries a fetch keep 1800 keys. */
	seen_set_fetch_size(s, 600);
	for (i = 1500; i < 3500; i++)
		seen_add(s, key_of(i));
	assert_int_equal(seen_save(s, &cause), 0);
	assert_int_equal(seen_count(s), 1800);
	assert_true(seen_has(s, key_of(3499)));
	assert_true(seen_has(s, key_of(1700)));
	assert_false(seen_has(s, key_of(1699)));
	seen_free(s);

	/* Memory stays bounded between saves too. */
	s = seen_load(tmpdir, "bigger", &cause);
	for (i = 0; i < 10000; i++)
		seen_add(s, key_of(i));
	assert_true(seen_count(s) <= 2 * SEEN_MIN_KEYS);
	assert_true(seen_has(s, key_of(9999)));
	seen_free(s);
}

/*
 * A child saves a growing set over and over, its failure count telling
 * the last key added; the parent kills it at a random moment.  What is on
 * disk is then a whole state, old or new: it loads without being found
 * corrupt, and holds exactly the newest keys up to that count.
 */
static void
test_crash(void **state)
{
	struct seen *s;
	char *cause = NULL;
	unsigned int i, last, n;
	int round, status;
	pid_t pid;
	struct timespec ts;

	srand((unsigned int)getpid());
	for (round = 0; round < 20; round++) {
		if ((pid = fork()) == 0) {
			s = seen_load(tmpdir, "crash", &cause);
			if (s == NULL)
				_exit(2);
			i = seen_count(s) > 0 ? seen_failures(s) + 1 : 0;
			for (;; i++) {
				seen_add(s, key_of(i));
				seen_set_failures(s, i);
				if (seen_save(s, &cause) != 0)
					_exit(3);
			}
		}
		ts.tv_sec = 0;
		ts.tv_nsec = (rand() % 20 + 1) * 1000 * 1000;
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		assert_true(WIFSIGNALED(status));

		s = seen_load(tmpdir, "crash", &cause);
		assert_non_null(s);
		assert_int_equal(count_files("crash.seen.corrupt"), 0);
		if ((n = (unsigned int)seen_count(s)) == 0) {
			seen_free(s);
			continue;
		}
		last = seen_failures(s);
		assert_int_equal(
		    n, last + 1 < SEEN_MIN_KEYS ? last + 1 : SEEN_MIN_KEYS);
		for (i = 0; i < n; i++)
			assert_true(seen_has(s, key_of(last - i)));
		assert_false(seen_has(s, key_of(last + 1)));
		seen_free(s);
	}
}

static void
test_corrupt(void **state)
{
	static const char *const bad[] = {
	    "garbage\n",
	    "watchlistd-seen 1\nfetched 1\nfailures 0\nkeys 0\n", /* no end */
	    /* one key short */
	    ("watchlistd-seen 1\nfetched 1\nfailures 0\nkeys 2\n"
	     "0000000000000000000000000000000000000000000000000000000000000000"
	     "\nend\n"),
	    ("watchlistd-seen 1\nfetched 1\nfailures 0\nkeys 1\n"
	     "not-a-key\nend\n"),
	    "watchlistd-seen 1\nfetched 7\nkeys 0\nend\n",
	    "watchlistd-seen 1\nwhat 1\nkeys 0\nend\n",
	    "watchlistd-seen 1\nkeys 0\nend\nmore\n",
	    "watchlistd-seen 1\nkeys 0\nend", /* no final newline */
	    "",
	};
	struct seen *s;
	char *cause = NULL, name[32];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(name, sizeof name, "c%zu", i);
		write_file(strcat(name, ".seen"), bad[i]);
		name[strlen(name) - 5] = '\0';
		s = seen_load(tmpdir, name, &cause);
		assert_non_null(s);
		assert_int_equal(seen_count(s), 0);
		assert_int_equal(seen_fetched(s), 0);
		seen_free(s);
		/* Moved aside, not lost. */
		strcat(name, ".seen");
		assert_int_equal(count_files(name), 1);
		strcat(name, ".corrupt-");
		assert_int_equal(count_files(name), 1);
	}

	/* A good file with a stray temporary one beside it. */
	write_file("good.seen", "watchlistd-seen 1\nfetched 1\nfailures 2\n"
	                        "etag \"x\"\nkeys 1\n"
	                        "00000000000000000000000000000000000000000000"
	                        "00000000000000000000\nend\n");
	write_file(".good.seen.tmp", "half a fi");
	s = seen_load(tmpdir, "good", &cause);
	assert_int_equal(seen_count(s), 1);
	assert_int_equal(seen_fetched(s), 1);
	assert_int_equal(seen_failures(s), 2);
	assert_string_equal(seen_etag(s), "\"x\"");
	seen_add(s, key_of(1));
	assert_int_equal(seen_save(s, &cause), 0);
	seen_free(s);
	assert_int_equal(count_files(".good"), 0);
	assert_int_equal(count_files("good.seen.corrupt"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
