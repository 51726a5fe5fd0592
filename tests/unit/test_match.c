/*
 * Unit tests for match.c: the word-level Aho-Corasick automaton, fed
 * words directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match.h"

/* Hits as "id/nwords@word" joined by spaces. */
struct collect {
	char out[1024];
	size_t word;
};

static void
collect_cb(uint32_t id, uint32_t nwords, void *arg)
{
	struct collect *c = arg;
	char one[64];

	snprintf(one, sizeof one, "%s%u/%u@%zu", c->out[0] ? " " : "", id,
	    nwords, c->word);
	strncat(c->out, one, sizeof c->out - strlen(c->out) - 1);
}

/* Add a pattern written as space-separated words; a final '*' is star. */
static void
add(struct match *m, const char *pattern, uint32_t id)
{
	char buf[256], *p, *save = NULL;
	const char *w[16];
	size_t len[16], n = 0;
	int star = 0;

	snprintf(buf, sizeof buf, "%s", pattern);
	if (buf[strlen(buf) - 1] == '*') {
		star = 1;
		buf[strlen(buf) - 1] = '\0';
	}
	for (p = strtok_r(buf, " ", &save); p != NULL;
	     p = strtok_r(NULL, " ", &save)) {
		w[n] = p;
		len[n] = strlen(p);
		n++;
	}
	match_add(m, w, len, n, star, id);
}

/* Feed a text of space-separated words; returns the collected hits. */
static const char *
feed(const struct match *m, const char *text, struct collect *c)
{
	struct match_state st = MATCH_STATE_INIT;
	char buf[1024], *p, *save = NULL;

	c->out[0] = '\0';
	c->word = 0;
	snprintf(buf, sizeof buf, "%s", text);
	for (p = strtok_r(buf, " ", &save); p != NULL;
	     p = strtok_r(NULL, " ", &save)) {
		match_feed(m, &st, p, strlen(p), collect_cb, c);
		c->word++;
	}
	return c->out;
}

static void
test_single_words(void **state)
{
	struct match *m = match_new();
	struct collect c;

	add(m, "isis", 1);
	add(m, "sirte", 2);
	match_compile(m);
	assert_int_equal(match_npatterns(m), 2);
	assert_string_equal(
	    feed(m, "isis in sirte and isis", &c), "1/1@0 2/1@2 1/1@4");
	assert_string_equal(feed(m, "isisx sirt", &c), "");
	match_free(m);
}

/* Failure links: a partial match must not hide a shorter one. */
static void
test_failure_links(void **state)
{
	struct match *m = match_new();
	struct collect c;

	add(m, "a b c d", 1);
	add(m, "b c", 2);
	add(m, "c", 3);
	add(m, "a a b", 4);
	match_compile(m);
	assert_string_equal(feed(m, "a b c x", &c), "2/2@2 3/1@2");
	assert_string_equal(feed(m, "a b c d", &c), "2/2@2 3/1@2 1/4@3");
	assert_string_equal(feed(m, "a a a b", &c), "4/3@3");
	match_free(m);
}

static void
test_overlap_and_shared_ids(void **state)
{
	struct match *m = match_new();
	struct collect c;

	add(m, "a a", 1);
	add(m, "a a", 2); /* the same words under another id */
	match_compile(m);
	assert_string_equal(feed(m, "a a a", &c), "1/2@1 2/2@1 1/2@2 2/2@2");
	match_free(m);
}

static void
test_star(void **state)
{
	struct match *m = match_new();
	struct collect c;

	add(m, "behead*", 1);
	add(m, "car bomb*", 2);
	add(m, "x car b*", 3);
	add(m, "bomb", 4);
	match_compile(m);
	assert_string_equal(feed(m, "beheaded behead beheading behea", &c),
	    "1/1@0 1/1@1 1/1@2");
	/* A star word never continues a path: "bombs" is not "bomb". */
	assert_string_equal(
	    feed(m, "car bombs car bomb", &c), "2/2@1 2/2@3 4/1@3");
	/* Through the failure chain: "x car" then "b..." matches both. */
	assert_string_equal(feed(m, "x car bomber", &c), "3/3@2 2/2@2");
	match_free(m);
}

/* Several prefix words of one text word, at the root and deeper. */
static void
test_star_prefixes(void **state)
{
	struct match *m = match_new();
	struct collect c;

	add(m, "a*", 1);
	add(m, "ab*", 2);
	add(m, "abc*", 3);
	add(m, "z ab*", 4);
	match_compile(m);
	assert_string_equal(feed(m, "abcd", &c), "1/1@0 2/1@0 3/1@0");
	assert_string_equal(feed(m, "z abx", &c), "1/1@1 4/2@1 2/1@1");
	match_free(m);
}

static void
test_empty(void **state)
{
	struct match *m = match_new();
	struct collect c;

	match_compile(m);
	assert_string_equal(feed(m, "anything at all", &c), "");
	match_free(m);
}

/* Many patterns: every one is found, none is reported twice. */
static void
test_many(void **state)
{
	struct match *m = match_new();
	struct match_state st = MATCH_STATE_INIT;
	char w[32];
	const char *ws[1];
	size_t len[1];
	uint32_t i;
	struct collect c;

	for (i = 0; i < 20000; i++) {
		snprintf(w, sizeof w, "w%u", i);
		ws[0] = w;
		len[0] = strlen(w);
		match_add(m, ws, len, 1, 0, i);
	}
	match_compile(m);
	for (i = 0; i < 20000; i += 997) {
		c.out[0] = '\0';
		c.word = i;
		snprintf(w, sizeof w, "w%u", i);
		match_feed(m, &st, w, strlen(w), collect_cb, &c);
		snprintf(w, sizeof w, "%u/1@%u", i, i);
		assert_string_equal(c.out, w);
	}
	match_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_words),
	    cmocka_unit_test(test_failure_links),
	    cmocka_unit_test(test_overlap_and_shared_ids),
	    cmocka_unit_test(test_star),
	    cmocka_unit_test(test_star_prefixes),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests_name("match", tests, NULL, NULL);
}
