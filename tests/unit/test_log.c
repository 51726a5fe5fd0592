/*
 * Unit tests for log.c: levels, formats, and escaping of what strangers
 * wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Run fn with stderr sent to a temporary file; return what it wrote. */
static char *
capture(void (*fn)(void))
{
	static char out[8192];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof out - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void
write_hostile(void)
{
	log_warnx("inbox: %s: bad", "evil\x1b[2J\nname\x7f.txt");
}

static void
write_levels(void)
{
	log_info("shown");
	log_debug("hidden");
}

static void
test_escape(void **state)
{
	const char *out;

	unsetenv("JOURNAL_STREAM");
	log_init("watchlistd", LOG_LEVEL_INFO);
	out = capture(write_hostile);
	assert_string_equal(out, "watchlistd: inbox: "
	                         "evil\\x1b[2J\\x0aname\\x7f.txt: bad\n");
}

static void
test_levels_and_journal(void **state)
{
	const char *out;

	setenv("JOURNAL_STREAM", "8:1234", 1);
	log_init("watchlistd", LOG_LEVEL_INFO);
	out = capture(write_levels);
	assert_string_equal(out, "<6>shown\n");
	unsetenv("JOURNAL_STREAM");
	assert_int_equal(log_level_parse("warning"), LOG_LEVEL_WARNING);
	assert_int_equal(log_level_parse("loud"), -1);
}

static void
test_daemon_timestamps(void **state)
{
	const char *out;

	unsetenv("JOURNAL_STREAM");
	log_init("watchlistd", LOG_LEVEL_INFO);
	log_daemon();
	out = capture(write_levels);
	/* 2026-11-21T12:00:00.000Z info: shown */
	assert_int_equal(strlen(out), strlen("2026-11-21T12:00:00.000Z info: "
	                                     "shown\n"));
	assert_true(out[4] == '-' && out[10] == 'T' && out[23] == 'Z');
	assert_string_equal(out + 24, " info: shown\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_levels_and_journal),
	    cmocka_unit_test(test_daemon_timestamps),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
