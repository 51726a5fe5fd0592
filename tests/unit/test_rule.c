/*
 * Unit tests for rule.c: the `when` grammar and its errors, evaluation over
 * hits written by hand (so each case picks its word indexes), the entries a
 * rule reports, NEAR against a brute-force oracle, and hostile input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "options.h"
#include "rule.h"
#include "watchlist.h"
#include "xmalloc.h"

/*
 * The watchlist every test parses against.  Indexes: 0 isis, 1 attack,
 * 2 sirte, 3 derna, 4 tripoli, 5 and, 6 al-qaeda.x.
 */
static struct watchlist *wl;

static int
setup(void **state)
{
	struct watchlist_entry *e;

	wl = watchlist_new();
	e = watchlist_add_entry(wl, WATCHLIST_TERM, "isis", NULL, 0);
	watchlist_entry_add_tag(e, "jihadist");
	e = watchlist_add_entry(wl, WATCHLIST_TERM, "attack", NULL, 0);
	watchlist_entry_add_tag(e, "violence");
	e = watchlist_add_entry(wl, WATCHLIST_PLACE, "sirte", NULL, 0);
	watchlist_entry_add_tag(e, "libya");
	watchlist_entry_add_tag(e, "coast");
	e = watchlist_add_entry(wl, WATCHLIST_PLACE, "derna", NULL, 0);
	watchlist_entry_add_tag(e, "libya");
	watchlist_entry_add_tag(e, "coast");
	e = watchlist_add_entry(wl, WATCHLIST_PLACE, "tripoli", NULL, 0);
	watchlist_entry_add_tag(e, "libya");
	watchlist_add_entry(wl, WATCHLIST_TERM, "and", NULL, 0);
	e = watchlist_add_entry(wl, WATCHLIST_TERM, "al-qaeda.x", NULL, 0);
	watchlist_entry_add_tag(e, "jihadist");
	return 0;
}

static int
teardown(void **state)
{
	watchlist_free(wl);
	return 0;
}

/* Hits from "id@word id@word ...", in the order written. */
static void
hits_make(struct watchlist_hits *h, const char *spec)
{
	struct watchlist_entry *e;
	char *copy, *tok, *last, *at;

	watchlist_hits_init(h);
	copy = xstrdup(spec);
	for (tok = strtok_r(copy, " ", &last); tok != NULL;
	     tok = strtok_r(NULL, " ", &last)) {
		at = strchr(tok, '@');
		assert_non_null(at);
		*at = '\0';
		e = watchlist_find(wl, tok);
		assert_non_null(e);
		h->v = xreallocarray(h->v, h->n + 1, sizeof *h->v);
		memset(&h->v[h->n], 0, sizeof h->v[h->n]);
		h->v[h->n].entry = (uint32_t)e->index;
		h->v[h->n].word = strtoul(at + 1, NULL, 10);
		h->v[h->n].start = h->v[h->n].word * 8 + h->n;
		h->v[h->n].end = h->v[h->n].start + 4;
		h->n++;
	}
	h->cap = h->n;
	free(copy);
}

static struct rule_expr *
parse_ok(const char *when)
{
	struct rule_expr *expr;
	char *cause = NULL;
	size_t pos = 0;

	expr = rule_expr_parse(when, wl, &cause, &pos);
	if (expr == NULL)
		fail_msg("'%s': %s at %zu", when, cause, pos);
	return expr;
}

/* The entries as "id id ...", for comparing in one assertion. */
static char *
entries_string(const struct watchlist *list, const uint32_t *v, size_t n)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	buf_add_str(&b, "");
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_add_byte(&b, ' ');
		buf_add_str(&b, watchlist_entry(list, v[i])->id);
	}
	return buf_detach(&b, NULL);
}

/*
 * Evaluate when over the hits of spec.  want is NULL when the rule must
 * not hold, else the entries it must report.  Evaluating without asking
 * for entries must agree, as it takes the short-circuit paths.
 */
static void
check(const char *when, const char *spec, const char *want)
{
	struct watchlist_hits h;
	struct rule_expr *expr;
	struct rule_input *in;
	uint32_t *v = NULL;
	size_t n = 99;
	char *got;
	int holds;

	hits_make(&h, spec);
	expr = parse_ok(when);
	in = rule_input_new(wl, &h);
	holds = rule_expr_eval(expr, in, &v, &n);
	if (want == NULL) {
		if (holds)
			fail_msg("'%s' over '%s' holds", when, spec);
		assert_null(v);
		assert_int_equal(n, 0);
	} else {
		if (!holds)
			fail_msg("'%s' over '%s' does not hold", when, spec);
		got = entries_string(wl, v, n);
		if (strcmp(got, want) != 0)
			fail_msg("'%s' over '%s': entries '%s', want '%s'",
			    when, spec, got, want);
		free(got);
	}
	assert_int_equal(rule_expr_eval(expr, in, NULL, NULL), holds);
	free(v);
	rule_input_free(in);
	rule_expr_free(expr);
	watchlist_hits_release(&h);
}

static void
check_error(const char *when, const char *want, size_t want_pos)
{
	struct rule_expr *expr;
	char *cause = NULL;
	size_t pos = 12345;

	expr = rule_expr_parse(when, wl, &cause, &pos);
	if (expr != NULL)
		fail_msg("'%s' parsed", when);
	assert_non_null(cause);
	if (strcmp(cause, want) != 0 || pos != want_pos)
		fail_msg("'%s': got \"%s\" at %zu, want \"%s\" at %zu", when,
		    cause, pos, want, want_pos);
	free(cause);
}

static void
test_severity(void **state)
{
	assert_int_equal(rule_severity_parse("low"), RULE_LOW);
	assert_int_equal(rule_severity_parse("medium"), RULE_MEDIUM);
	assert_int_equal(rule_severity_parse("high"), RULE_HIGH);
	assert_int_equal(rule_severity_parse("critical"), RULE_CRITICAL);
	assert_int_equal(rule_severity_parse("High"), -1);
	assert_int_equal(rule_severity_parse(""), -1);
	assert_int_equal(rule_severity_parse("urgent"), -1);
	assert_string_equal(rule_severity_name(RULE_LOW), "low");
	assert_string_equal(rule_severity_name(RULE_MEDIUM), "medium");
	assert_string_equal(rule_severity_name(RULE_HIGH), "high");
	assert_string_equal(rule_severity_name(RULE_CRITICAL), "critical");
}

static void
test_atoms(void **state)
{
	check("isis", "isis@3", "isis");
	check("isis", "attack@3", NULL);
	check("isis", "", NULL);
	check("al-qaeda.x", "al-qaeda.x@1", "al-qaeda.x");
	/* An entry really named like an operator is an entry. */
	check("and", "and@1", "and");
	check("term:*", "isis@1 attack@2 sirte@3", "isis attack");
	check("term:*", "sirte@3 derna@4", NULL);
	check("place:*", "isis@1 derna@5 sirte@3", "sirte derna");
	check("place:*", "isis@1", NULL);
	check("tag:libya", "tripoli@1 sirte@2 isis@3", "sirte tripoli");
	check("tag:coast", "tripoli@1", NULL);
	check("tag:jihadist", "al-qaeda.x@9", "al-qaeda.x");
}

static void
test_precedence(void **state)
{
	/* isis OR (attack AND sirte), not (isis OR attack) AND sirte. */
	check("isis OR attack AND sirte", "isis@1", "isis");
	check("isis OR attack AND sirte", "attack@1", NULL);
	check("isis OR attack AND sirte", "attack@1 sirte@2", "attack sirte");
	/* (NOT isis) AND sirte, not NOT (isis AND sirte). */
	check("NOT isis AND sirte", "isis@1", NULL);
	check("NOT isis AND sirte", "sirte@1", "sirte");
	check("NOT isis AND sirte", "isis@1 sirte@2", NULL);
	/* (isis AND NOT attack) OR sirte. */
	check("isis AND NOT attack OR sirte", "isis@1 sirte@2", "isis sirte");
	check("isis AND NOT attack OR sirte", "isis@1 attack@2", NULL);
	check(
	    "isis AND NOT attack OR sirte", "isis@1 attack@2 sirte@3", "sirte");
	check("isis AND NOT attack OR sirte", "attack@2 sirte@3", "sirte");
	/* AND binds tighter on both sides of an OR. */
	check("isis AND attack OR sirte AND derna", "isis@1 derna@2", NULL);
	check("isis AND attack OR sirte AND derna", "attack@1 sirte@2 derna@3",
	    "sirte derna");
	/* Chains: every operand counts. */
	check("isis AND attack AND sirte", "isis@1 attack@2", NULL);
	check("isis AND attack AND sirte", "isis@1 attack@2 sirte@3",
	    "isis attack sirte");
	check("isis OR attack OR sirte", "sirte@3", "sirte");
	/* NOT takes a whole NEAR: NOT (isis NEAR/5 sirte). */
	check("NOT isis NEAR/5 sirte", "isis@0 sirte@3", NULL);
	check("NOT isis NEAR/5 sirte", "isis@0 sirte@9", "");
	check("NOT isis NEAR/5 sirte", "", "");
	/* NEAR binds tighter than AND and OR. */
	check("attack AND isis NEAR/2 sirte", "attack@0 isis@10 sirte@12",
	    "isis attack sirte");
	check("attack OR isis NEAR/2 sirte", "isis@10 sirte@13", NULL);
	check("isis NEAR/2 sirte OR attack", "isis@10 sirte@13 attack@50",
	    "attack");
	check("NOT NOT isis", "isis@1", "");
	check("NOT NOT isis", "", NULL);
}

static void
test_parentheses(void **state)
{
	check("(isis OR attack) AND sirte", "isis@1", NULL);
	check("(isis OR attack) AND sirte", "attack@1 sirte@2", "attack sirte");
	check("NOT (isis AND sirte)", "isis@1", "");
	check("NOT (isis AND sirte)", "isis@1 sirte@2", NULL);
	check("isis AND (NOT attack OR sirte)", "isis@1 attack@2", NULL);
	check("isis AND (NOT attack OR sirte)", "isis@1 attack@2 sirte@3",
	    "isis sirte");
	check("((((isis))))", "isis@1", "isis");
	/* Parentheses need no spaces; any whitespace separates. */
	check("(isis)AND(sirte)", "isis@1 sirte@2", "isis sirte");
	check("isis\tAND\n(\r\nsirte OR\tderna )", "isis@1 derna@2",
	    "isis derna");
	check("  isis  ", "isis@1", "isis");
}

static void
test_errors(void **state)
{
	check_error("", "empty expression", 0);
	check_error(" \t\n", "empty expression", 0);
	check_error("sirtte", "unknown entry 'sirtte'", 0);
	check_error("isis AND sirtte", "unknown entry 'sirtte'", 9);
	check_error("Isis",
	    "unknown entry 'Isis' (ids are case-sensitive: did you mean "
	    "'isis'?)",
	    0);
	check_error("tag:coastal", "no entry has tag 'coastal'", 0);
	check_error("isis OR tag:", "tag: needs a name: tag:NAME", 8);
	check_error("isis AND AND sirte",
	    "expected an entry, term:*, place:*, tag:NAME or '(' but found "
	    "'AND'",
	    9);
	check_error("isis AND",
	    "expected an entry, term:*, place:*, tag:NAME or '(' but found end "
	    "of expression",
	    8);
	check_error("isis AND )",
	    "expected an entry, term:*, place:*, tag:NAME or '(' but found ')'",
	    9);
	check_error("OR isis",
	    "expected an entry, term:*, place:*, tag:NAME or '(' but found "
	    "'OR'",
	    0);
	check_error(
	    "isis sirte", "expected AND, OR, NEAR/n but found 'sirte'", 5);
	check_error("(isis sirte)",
	    "expected AND, OR, NEAR/n or ')' but found 'sirte'", 6);
	check_error(
	    "isis (sirte)", "expected AND, OR, NEAR/n but found '('", 5);
	/* An unmatched '(' is reported where it is. */
	check_error("(isis AND sirte", "missing ')'", 0);
	check_error("isis AND (sirte OR (derna)", "missing ')'", 9);
	check_error("isis)", "unexpected ')'", 4);
	check_error("(isis) AND sirte)", "unexpected ')'", 16);
	check_error("isis AND ()", "empty parentheses", 9);
	check_error("isis NEAR sirte", "NEAR needs a distance: NEAR/n", 5);
	check_error("isis NEAR/ sirte", "NEAR needs a distance: NEAR/n", 5);
	check_error("isis NEAR/x sirte", "NEAR needs a distance: NEAR/n", 5);
	check_error("isis NEAR/5x sirte", "NEAR needs a distance: NEAR/n", 5);
	check_error("isis NEAR/-5 sirte", "NEAR needs a distance: NEAR/n", 5);
	check_error("isis NEAR/1000000 sirte",
	    "NEAR distance '1000000' is larger than 100000", 5);
	check_error("isis NEAR/100001 sirte",
	    "NEAR distance '100001' is larger than 100000", 5);
	check_error("isis NEAR/99999999999999999999999999 sirte",
	    "NEAR distance '99999999999999999999999999' is larger than "
	    "100000",
	    5);
	check_error("foo:*", "unknown kind 'foo:*' (use term:* or place:*)", 0);
	check_error("isis AND term:isis",
	    "'term:isis': write the entry id alone, or term:* for any term", 9);
	check_error("place:",
	    "'place:': write the entry id alone, or place:* for any place", 0);
	check_error("foo:bar",
	    "unknown name 'foo:bar' (use an entry id, term:*, place:* or "
	    "tag:NAME)",
	    0);
	check_error("isis or sirte",
	    "lower-case operator 'or': operators are AND, OR, NOT, NEAR/n", 5);
	check_error("not isis",
	    "lower-case operator 'not': operators are AND, OR, NOT, NEAR/n", 0);
	check_error("isis near/5 sirte",
	    "lower-case operator 'near/5': operators are AND, OR, NOT, NEAR/n",
	    5);
	check_error("isis Or sirte",
	    "lower-case operator 'Or': operators are AND, OR, NOT, NEAR/n", 5);
	/* `and` is an entry here, so no hint: it is out of place. */
	check_error(
	    "isis and sirte", "expected AND, OR, NEAR/n but found 'and'", 5);
	check_error("(isis AND attack) NEAR/5 sirte",
	    "NEAR operands must be entries, term:*, place:*, tag:NAME or an OR "
	    "of them",
	    0);
	check_error("isis NEAR/5 (sirte AND derna)",
	    "NEAR operands must be entries, term:*, place:*, tag:NAME or an OR "
	    "of them",
	    12);
	check_error("isis NEAR/5 NOT sirte",
	    "NEAR operands must be entries, term:*, place:*, tag:NAME or an OR "
	    "of them",
	    12);
	check_error("isis NEAR/5 (sirte OR NOT derna)",
	    "NEAR operands must be entries, term:*, place:*, tag:NAME or an OR "
	    "of them",
	    12);
	check_error("isis NEAR/5 ((sirte NEAR/1 derna))",
	    "NEAR operands must be entries, term:*, place:*, tag:NAME or an OR "
	    "of them",
	    12);
	check_error("isis NEAR/3 sirte NEAR/3 derna",
	    "NEAR cannot be chained: write (a NEAR/n b) AND (b NEAR/n c)", 18);
	check_error(
	    "isis&sirte", "unexpected character '&' in 'isis&sirte'", 4);
	check_error("isis AND \"sirte\"",
	    "unexpected character '\"' in '\"sirte\"'", 9);
	check_error("isis AND \x01x", "unexpected byte 0x01 in '?x'", 9);
	check_error("isis AND s\xc3\xafrte",
	    "unexpected byte 0xc3 in 's\xc3\xafrte'", 10);
	/* The first problem in reading order wins. */
	check_error("sirtte AND (", "unknown entry 'sirtte'", 0);
	/* A long token is cut in the message, on a character boundary. */
	check_error(
	    "isis OR abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij",
	    "unknown entry 'abcdefghijabcdefghijabcdefghijabcdefghij...'", 8);
	check_error("abcdefghijabcdefghijabcdefghijabcdefghi\303\257abcdef",
	    "unexpected byte 0xc3 in "
	    "'abcdefghijabcdefghijabcdefghijabcdefghi...'",
	    39);
}

static void
test_near_distance(void **state)
{
	check("isis NEAR/5 sirte", "isis@10 sirte@15", "isis sirte");
	check("isis NEAR/5 sirte", "isis@10 sirte@16", NULL);
	/* Either order in the text. */
	check("isis NEAR/6 sirte", "sirte@4 isis@10", "isis sirte");
	check("isis NEAR/5 sirte", "sirte@4 isis@10", NULL);
	check("isis NEAR/0 sirte", "isis@7 sirte@7", "isis sirte");
	check("isis NEAR/0 sirte", "isis@7 sirte@8", NULL);
	check("isis NEAR/100000 sirte", "isis@0 sirte@100000", "isis sirte");
	check("isis NEAR/100000 sirte", "isis@0 sirte@100001", NULL);
	/* Some pair is enough, wherever it is among other hits. */
	check("isis NEAR/2 sirte",
	    "isis@0 sirte@10 isis@20 isis@30 sirte@32 isis@60", "isis sirte");
	check("isis NEAR/2 sirte", "isis@0 sirte@10 isis@20 sirte@30 isis@40",
	    NULL);
	check("isis NEAR/2 sirte", "isis@5", NULL);
	check("isis NEAR/2 sirte", "sirte@5", NULL);
}

static void
test_near_sets(void **state)
{
	/* Only entries whose hits are in a pair are reported. */
	check("isis NEAR/5 (sirte OR derna)", "isis@0 derna@5 sirte@50",
	    "isis derna");
	check("isis NEAR/5 (sirte OR derna)", "isis@0 derna@6 sirte@50", NULL);
	check("(isis OR attack) NEAR/1 (sirte OR (derna OR tripoli))",
	    "isis@0 attack@10 tripoli@11 sirte@30", "attack tripoli");
	check("tag:coast NEAR/3 term:*", "sirte@10 attack@12 isis@40 derna@41",
	    "isis attack sirte derna");
	check("tag:coast NEAR/3 term:*", "sirte@10 attack@14 tripoli@15", NULL);
	check("place:* NEAR/2 tag:jihadist", "tripoli@3 al-qaeda.x@5 isis@20",
	    "tripoli al-qaeda.x");
	check("term:* NEAR/2 place:*", "isis@1 attack@2 sirte@3",
	    "isis attack sirte");
	/* A hit that is in no pair adds nothing, even of a paired entry. */
	check("isis NEAR/1 sirte AND attack", "isis@0 sirte@1 attack@50",
	    "isis attack sirte");
}

static void
test_near_same_entry(void **state)
{
	/* A hit never pairs with itself... */
	check("isis NEAR/3 isis", "isis@5", NULL);
	check("isis NEAR/100 term:*", "isis@5", NULL);
	check("term:* NEAR/0 isis", "isis@5", NULL);
	/* ...even when both operands name it twice over. */
	check("(isis OR tag:jihadist) NEAR/0 (isis OR term:*)", "isis@5", NULL);
	check("(tag:coast OR place:*) NEAR/9 (sirte OR tag:libya)", "sirte@5",
	    NULL);
	/* Two hits of one entry pair. */
	check("isis NEAR/3 isis", "isis@0 isis@3", "isis");
	check("isis NEAR/3 isis", "isis@0 isis@4", NULL);
	check("isis NEAR/0 isis", "isis@5 isis@5", "isis");
	/* Different entries' hits at one word pair at distance 0. */
	check("term:* NEAR/0 isis", "isis@5 attack@5", "isis attack");
	check("(isis OR tag:jihadist) NEAR/0 (isis OR term:*)",
	    "isis@5 al-qaeda.x@5", "isis al-qaeda.x");
}

static void
test_entries(void **state)
{
	check("isis OR sirte OR derna", "isis@1 derna@2", "isis derna");
	check(
	    "isis AND tag:coast", "derna@1 isis@2 sirte@3", "isis sirte derna");
	check("isis AND NOT attack", "isis@1", "isis");
	check("NOT attack", "isis@1", "");
	check("NOT (attack OR sirte)", "isis@1", "");
	/* A failed AND under an OR gives nothing. */
	check("(isis AND attack) OR sirte", "isis@1 sirte@2", "sirte");
	check("(isis AND attack AND derna) OR sirte", "isis@1 attack@2 sirte@3",
	    "sirte");
	check("(isis NEAR/1 attack) OR sirte", "isis@1 attack@5 sirte@9",
	    "sirte");
	check("isis NEAR/2 tag:coast", "isis@0 sirte@1 derna@50", "isis sirte");
	check("(isis NEAR/2 sirte) AND derna",
	    "isis@0 isis@100 sirte@1 derna@50", "isis sirte derna");
	check("tag:libya AND NOT tag:jihadist", "tripoli@1 derna@1",
	    "derna tripoli");
	check("sirte OR NOT isis", "sirte@1", "sirte");
	/* Sorted by entry, each once. */
	check("sirte OR isis OR sirte OR place:*", "sirte@1 isis@2 sirte@3",
	    "isis sirte");
}

static void
test_depth(void **state)
{
	struct buf b;
	struct rule_expr *expr;
	char *cause = NULL;
	size_t pos = 0, i;
	int d = WL_MAX_RULE_DEPTH;

	buf_init(&b);
	for (i = 0; i < (size_t)d; i++)
		buf_add_byte(&b, '(');
	buf_add_str(&b, "isis");
	for (i = 0; i < (size_t)d; i++)
		buf_add_byte(&b, ')');
	check(b.data, "isis@1", "isis");

	buf_reset(&b);
	for (i = 0; i < (size_t)d + 1; i++)
		buf_add_byte(&b, '(');
	buf_add_str(&b, "isis");
	for (i = 0; i < (size_t)d + 1; i++)
		buf_add_byte(&b, ')');
	check_error(
	    b.data, "expression nested deeper than 64 levels", (size_t)d);

	buf_reset(&b);
	for (i = 0; i < (size_t)d; i++)
		buf_add_str(&b, "NOT ");
	buf_add_str(&b, "isis");
	check(b.data, "isis@1", "");
	check(b.data, "", NULL);

	buf_reset(&b);
	for (i = 0; i < (size_t)d; i++)
		buf_add_str(&b, i % 2 ? "NOT " : "(");
	buf_add_str(&b, "NOT isis");
	check_error(
	    b.data, "expression nested deeper than 64 levels", b.len - 8);

	/* A hostile nesting fails quickly, without recursing into it. */
	buf_reset(&b);
	for (i = 0; i < 1000000; i++)
		buf_add_byte(&b, '(');
	check_error(
	    b.data, "expression nested deeper than 64 levels", (size_t)d);

	/* A long flat list is fine: it is one node, not a deep tree. */
	buf_reset(&b);
	for (i = 0; i < 200000; i++)
		buf_add_str(&b, i % 2 ? "attack OR " : "isis AND ");
	buf_add_str(&b, "sirte");
	expr = rule_expr_parse(b.data, wl, &cause, &pos);
	assert_non_null(expr);
	rule_expr_free(expr);
	check(b.data, "sirte@1", "sirte");
	buf_release(&b);
}

/*
 * NEAR against the definition, pair by pair: random hits of the first four
 * entries, each form below with its operands as entry masks.
 */
static void
test_near_oracle(void **state)
{
	static const struct {
		const char *left;
		const char *right;
		unsigned a, b;
	} forms[] = {
	    {"isis", "sirte", 0x1, 0x4},
	    {"isis", "isis", 0x1, 0x1},
	    {"term:*", "tag:coast", 0x3, 0xc},
	    {"(isis OR sirte)", "(sirte OR attack)", 0x5, 0x6},
	    {"place:*", "(term:* OR derna)", 0xc, 0xb},
	    {"(tag:libya OR sirte)", "tag:jihadist", 0xc, 0x1},
	};
	struct watchlist_hits h;
	struct rule_expr *expr;
	struct rule_input *in;
	uint32_t *v;
	size_t n, i, j, k;
	unsigned iter, dist, mask, got_mask, ea, eb, wa, wb;
	char when[128];
	int holds, want;

	srand(7);
	for (iter = 0; iter < 3000; iter++) {
		watchlist_hits_init(&h);
		h.n = (size_t)(rand() % 10);
		h.v = xcalloc(h.n, sizeof *h.v);
		for (i = 0; i < h.n; i++) {
			h.v[i].entry = (uint32_t)(rand() % 4);
			h.v[i].word = (size_t)(rand() % 25);
		}
		dist = (unsigned)(rand() % 6);
		k = (size_t)(rand() % (sizeof forms / sizeof forms[0]));
		snprintf(when, sizeof when, "%s NEAR/%u %s", forms[k].left,
		    dist, forms[k].right);

		want = 0;
		mask = 0;
		for (i = 0; i < h.n; i++) {
			for (j = 0; j < h.n; j++) {
				ea = 1u << h.v[i].entry;
				eb = 1u << h.v[j].entry;
				wa = (unsigned)h.v[i].word;
				wb = (unsigned)h.v[j].word;
				if (i == j || !(forms[k].a & ea) ||
				    !(forms[k].b & eb) ||
				    (wa > wb ? wa - wb : wb - wa) > dist)
					continue;
				want = 1;
				mask |= ea | eb;
			}
		}

		expr = parse_ok(when);
		in = rule_input_new(wl, &h);
		v = NULL;
		n = 0;
		holds = rule_expr_eval(expr, in, &v, &n);
		assert_int_equal(holds, want);
		assert_int_equal(rule_expr_eval(expr, in, NULL, NULL), want);
		got_mask = 0;
		for (i = 0; i < n; i++) {
			if (i > 0)
				assert_true(v[i - 1] < v[i]);
			got_mask |= 1u << v[i];
		}
		assert_int_equal(got_mask, mask);
		free(v);
		rule_input_free(in);
		rule_expr_free(expr);
		watchlist_hits_release(&h);
	}
}

/* Hits of entries this watchlist does not have are ignored. */
static void
test_foreign_hits(void **state)
{
	struct watchlist_hits h;
	struct rule_expr *expr;
	struct rule_input *in;

	hits_make(&h, "isis@1");
	h.v[0].entry = 1000;
	expr = parse_ok("term:* OR isis");
	in = rule_input_new(wl, &h);
	assert_false(rule_expr_eval(expr, in, NULL, NULL));
	rule_input_free(in);
	rule_expr_free(expr);
	watchlist_hits_release(&h);
}

/* A random expression that is mostly valid, for test_garbage(). */
static void
garbage_expr(struct buf *b, int depth)
{
	static const char *atoms[] = {
	    "isis",
	    "sirte",
	    "attack",
	    "derna",
	    "tag:coast",
	    "tag:libya",
	    "term:*",
	    "place:*",
	    "(isis OR derna)",
	    "(term:* OR sirte)",
	};
	const char *atom =
	    atoms[rand() % (int)(sizeof atoms / sizeof atoms[0])];

	switch (depth > 4 ? 0 : rand() % 6) {
	case 0:
		buf_add_str(b, atom);
		break;
	case 1:
	case 2:
		garbage_expr(b, depth + 1);
		buf_add_str(b, rand() % 2 ? " AND " : " OR ");
		garbage_expr(b, depth + 1);
		break;
	case 3:
		buf_add_str(b, "NOT ");
		garbage_expr(b, depth + 1);
		break;
	case 4:
		buf_printf(b, "%s NEAR/%d %s", atom, rand() % 40,
		    atoms[rand() % (int)(sizeof atoms / sizeof atoms[0])]);
		break;
	case 5:
		buf_add_byte(b, '(');
		garbage_expr(b, depth + 1);
		buf_add_byte(b, ')');
		break;
	}
}

/*
 * Parse, and when that works evaluate, many random strings: raw bytes,
 * the language's pieces in any order, and generated expressions with a
 * byte sometimes changed.  Nothing may crash (the sanitisers watch), and
 * every failure has a cause and a position inside the input.
 */
static void
test_garbage(void **state)
{
	static const char *pieces[] = {
	    "isis",
	    "sirte",
	    "attack",
	    "AND",
	    "OR",
	    "NOT",
	    "NEAR/3",
	    "NEAR/0",
	    "NEAR",
	    "(",
	    ")",
	    " ",
	    " ",
	    "\t",
	    "tag:coast",
	    "tag:",
	    "term:*",
	    "place:*",
	    "foo:*",
	    "and",
	    "or",
	    ":",
	    "/",
	    "NEAR/999999",
	    "*",
	    "\n",
	    "\xff",
	    "\xc3",
	};
	static const char mutations[] = " ()ANDORT:*/\txi";
	struct watchlist_hits h;
	struct rule_expr *expr;
	struct rule_input *in;
	struct buf b;
	char *cause;
	uint32_t *v;
	size_t pos, n, i, parsed = 0, held = 0;
	int iter, holds;

	hits_make(&h, "isis@0 sirte@3 attack@4 derna@40");
	in = rule_input_new(wl, &h);
	buf_init(&b);
	srand(1);
	for (iter = 0; iter < 6000; iter++) {
		buf_reset(&b);
		n = (size_t)(rand() % 24);
		switch (iter % 3) {
		case 0:
			for (i = 0; i < n; i++)
				buf_add_byte(&b, (char)(1 + rand() % 255));
			break;
		case 1:
			for (i = 0; i < n; i++)
				buf_printf(&b, "%s%s",
				    pieces[rand() % (int)(sizeof pieces /
				                          sizeof pieces[0])],
				    rand() % 2 ? " " : "");
			break;
		case 2:
			garbage_expr(&b, 0);
			if (rand() % 2)
				b.data[(size_t)rand() % b.len] =
				    mutations[rand() %
				              (int)(sizeof mutations - 1)];
			break;
		}
		cause = NULL;
		pos = SIZE_MAX;
		expr = rule_expr_parse(b.data, wl, &cause, &pos);
		if (expr == NULL) {
			assert_non_null(cause);
			assert_true(*cause != '\0');
			assert_true(pos <= b.len);
			free(cause);
			continue;
		}
		parsed++;
		v = NULL;
		holds = rule_expr_eval(expr, in, &v, &n);
		assert_int_equal(rule_expr_eval(expr, in, NULL, NULL), holds);
		if (holds)
			held++;
		else
			assert_null(v);
		free(v);
		rule_expr_free(expr);
	}
	/* Enough of them parse, both ways, to exercise evaluation. */
	assert_true(parsed > 1000);
	assert_true(held > 200 && parsed - held > 200);
	buf_release(&b);
	rule_input_free(in);
	watchlist_hits_release(&h);
}

/* Real text through the matcher, with aliases, into a rule. */
static void
test_end_to_end(void **state)
{
	static const char text[] =
	    "Islamic State fighters were seen in Surt on Monday, officials "
	    "said.  Later that week, far from there, a car bomb went off in "
	    "the centre of Tripoli.";
	struct watchlist *w;
	struct watchlist_entry *e;
	struct watchlist_hits h;
	struct rule_expr *expr;
	struct rule_input *in;
	char *cause = NULL, *got;
	uint32_t *v = NULL;
	size_t pos = 0, n = 0;

	w = watchlist_new();
	e = watchlist_add_entry(w, WATCHLIST_TERM, "isis", NULL, 0);
	assert_int_equal(watchlist_entry_add_alias(e, "ISIS", 0, 0, &cause), 0);
	assert_int_equal(
	    watchlist_entry_add_alias(e, "Islamic State", 0, 0, &cause), 0);
	e = watchlist_add_entry(w, WATCHLIST_TERM, "attack", NULL, 0);
	assert_int_equal(
	    watchlist_entry_add_alias(e, "car bomb*", 0, 0, &cause), 0);
	e = watchlist_add_entry(w, WATCHLIST_PLACE, "sirte", NULL, 0);
	assert_int_equal(
	    watchlist_entry_add_alias(e, "Sirte", 0, 0, &cause), 0);
	assert_int_equal(watchlist_entry_add_alias(e, "Surt", 0, 0, &cause), 0);
	watchlist_entry_add_tag(e, "coast");
	e = watchlist_add_entry(w, WATCHLIST_PLACE, "tripoli", NULL, 0);
	assert_int_equal(
	    watchlist_entry_add_alias(e, "Tripoli", 0, 0, &cause), 0);
	watchlist_compile(w, NULL, NULL);
	watchlist_hits_init(&h);
	watchlist_scan(w, text, sizeof text - 1, &h);
	assert_int_equal(h.n, 4);
	in = rule_input_new(w, &h);

	/* "Islamic" is word 0, "Surt" word 6: six words apart. */
	expr = rule_expr_parse("isis NEAR/6 tag:coast", w, &cause, &pos);
	assert_non_null(expr);
	assert_true(rule_expr_eval(expr, in, &v, &n));
	got = entries_string(w, v, n);
	assert_string_equal(got, "isis sirte");
	free(got);
	free(v);
	rule_expr_free(expr);

	expr = rule_expr_parse("isis NEAR/5 tag:coast", w, &cause, &pos);
	assert_non_null(expr);
	assert_false(rule_expr_eval(expr, in, NULL, NULL));
	rule_expr_free(expr);

	expr =
	    rule_expr_parse("(isis NEAR/10 place:*) OR attack NEAR/10 place:*",
	        w, &cause, &pos);
	assert_non_null(expr);
	v = NULL;
	assert_true(rule_expr_eval(expr, in, &v, &n));
	got = entries_string(w, v, n);
	assert_string_equal(got, "isis attack sirte tripoli");
	free(got);
	free(v);
	rule_expr_free(expr);

	rule_input_free(in);
	watchlist_hits_release(&h);
	watchlist_free(w);
}

static void
test_rule_free(void **state)
{
	struct rule *r;
	char *cause = NULL;
	size_t pos = 0;

	rule_free(NULL);
	rule_expr_free(NULL);
	rule_input_free(NULL);
	r = xcalloc(1, sizeof *r);
	r->id = xstrdup("isis-coast");
	r->when = xstrdup("isis AND tag:coast");
	r->expr = rule_expr_parse(r->when, wl, &cause, &pos);
	assert_non_null(r->expr);
	r->notify = xcalloc(2, sizeof *r->notify);
	r->notify[0] = xstrdup("ops");
	r->notify[1] = xstrdup("desk");
	r->nnotify = 2;
	/* LeakSanitizer tells whether all of it was freed. */
	rule_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_severity),
	    cmocka_unit_test(test_atoms),
	    cmocka_unit_test(test_precedence),
	    cmocka_unit_test(test_parentheses),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_near_distance),
	    cmocka_unit_test(test_near_sets),
	    cmocka_unit_test(test_near_same_entry),
	    cmocka_unit_test(test_entries),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_near_oracle),
	    cmocka_unit_test(test_foreign_hits),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_end_to_end),
	    cmocka_unit_test(test_rule_free),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
