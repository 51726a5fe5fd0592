/*
 * Unit tests for watchlist.c: the matching semantics of DESIGN.md, case by
 * case, then differentially against the reference matcher (oracle.c) on
 * random Unicode watchlists and texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oracle.h"
#include "watchlist.h"

/* Render hits as "entry:alias@start-end" joined by spaces. */
static const char *
scan(struct watchlist *wl, const char *text, char *out, size_t outlen)
{
	struct watchlist_hits h;
	char one[128];
	size_t i;

	watchlist_hits_init(&h);
	watchlist_scan(wl, text, strlen(text), &h);
	out[0] = '\0';
	for (i = 0; i < h.n; i++) {
		snprintf(one, sizeof one, "%s%s:%u@%zu-%zu", i ? " " : "",
		    watchlist_entry(wl, h.v[i].entry)->id, h.v[i].alias,
		    h.v[i].start, h.v[i].end);
		strncat(out, one, outlen - strlen(out) - 1);
	}
	watchlist_hits_release(&h);
	return out;
}

static struct watchlist_entry *
entry(struct watchlist *wl, const char *id, const char *aliases)
{
	struct watchlist_entry *e;
	char buf[512], *p, *save = NULL, *cause = NULL;

	e = watchlist_add_entry(wl, WATCHLIST_TERM, id, "test", 1);
	assert_non_null(e);
	snprintf(buf, sizeof buf, "%s", aliases);
	for (p = strtok_r(buf, "|", &save); p != NULL;
	     p = strtok_r(NULL, "|", &save)) {
		if (watchlist_entry_add_alias(e, p, 0, 1, &cause) != 0)
			fail_msg("alias '%s': %s", p, cause);
	}
	return e;
}

static void
test_basic_and_boundaries(void **state)
{
	struct watchlist *wl = watchlist_new();
	char out[1024];

	entry(wl, "isis", "ISIS|Islamic State");
	entry(wl, "sirte", "Sirte|Sirt");
	watchlist_compile(wl, NULL, NULL);
	assert_string_equal(scan(wl, "ISIS in Sirte", out, sizeof out),
	    "isis:0@0-4 sirte:0@8-13");
	/* Never inside a longer word, on either side. */
	assert_string_equal(
	    scan(wl, "crisis Sirtes xISIS Sirt.", out, sizeof out),
	    "sirte:1@20-24");
	/* A phrase matches across any separator run. */
	assert_string_equal(
	    scan(wl, "the islamic\n -- state", out, sizeof out), "isis:1@4-21");
	assert_string_equal(scan(wl, "IslamicState", out, sizeof out), "");
	watchlist_free(wl);
}

static void
test_separator_runs(void **state)
{
	struct watchlist *wl = watchlist_new();
	char out[1024];

	entry(wl, "qubbah", "al-Qubbah");
	watchlist_compile(wl, NULL, NULL);
	assert_string_equal(scan(wl,
	                        "al Qubbah|al\xe2\x80\x93Qubbah|al\n"
	                        "Qubbah|alQubbah",
	                        out, sizeof out),
	    "qubbah:0@0-9 qubbah:0@10-21 qubbah:0@22-31");
	watchlist_free(wl);
}

static void
test_diacritics_and_scripts(void **state)
{
	struct watchlist *wl = watchlist_new();
	char out[1024];

	entry(wl, "tripoli", "Tripoli");
	entry(wl, "sirte", "\xd8\xb3\xd8\xb1\xd8\xaa");
	entry(wl, "strasse",
	    "Stra\xc3\x9f"
	    "e");
	watchlist_compile(wl, NULL, NULL);
	/* Trípoli, سِرْت with marks, STRASSE. */
	assert_string_equal(scan(wl,
	                        "Tr\xc3\xadpoli \xd8\xb3\xd9\x90\xd8\xb1"
	                        "\xd9\x92\xd8\xaa STRASSE",
	                        out, sizeof out),
	    "tripoli:0@0-8 sirte:0@9-19 strasse:0@20-27");
	watchlist_free(wl);
}

static void
test_star(void **state)
{
	struct watchlist *wl = watchlist_new();
	char out[1024];

	entry(wl, "behead", "behead*");
	entry(wl, "bomb", "car bomb*");
	watchlist_compile(wl, NULL, NULL);
	assert_string_equal(scan(wl,
	                        "beheaded, beheading; behead. beheaX "
	                        "beheadX",
	                        out, sizeof out),
	    "behead:0@0-8 behead:0@10-19 behead:0@21-27 behead:0@36-43");
	assert_string_equal(
	    scan(wl, "car-bombings xcar bomb", out, sizeof out), "bomb:0@0-12");
	watchlist_free(wl);
}

static void
test_match_case(void **state)
{
	struct watchlist *wl = watchlist_new();
	struct watchlist_entry *e;
	char out[1024], *cause = NULL;

	e = entry(wl, "isis", "ISIL");
	assert_int_equal(watchlist_entry_add_alias(e, "IS", 1, 2, &cause), 0);
	watchlist_compile(wl, NULL, NULL);
	assert_string_equal(scan(wl, "IS is Is iS isil IS.", out, sizeof out),
	    "isis:1@0-2 isis:0@12-16 isis:1@17-19");
	watchlist_free(wl);
}

static void
test_not(void **state)
{
	struct watchlist *wl = watchlist_new();
	struct watchlist_entry *e;
	char out[1024], *cause = NULL;

	e = entry(wl, "isis", "Isis");
	assert_int_equal(
	    watchlist_entry_add_not(e, "Isis River", 1, &cause), 0);
	entry(wl, "river", "River");
	watchlist_compile(wl, NULL, NULL);
	/* The phrase hides the entry's own hit, not other entries' hits. */
	assert_string_equal(
	    scan(wl, "the Isis River and Isis", out, sizeof out),
	    "river:0@9-14 isis:0@19-23");
	watchlist_free(wl);
}

static void
test_overlaps(void **state)
{
	struct watchlist *wl = watchlist_new();
	char out[1024];

	entry(wl, "state", "Islamic State|State");
	entry(wl, "islamic", "Islamic");
	watchlist_compile(wl, NULL, NULL);
	assert_string_equal(scan(wl, "Islamic State", out, sizeof out),
	    "islamic:0@0-7 state:0@0-13 state:1@8-13");
	watchlist_free(wl);
}

struct dups {
	int n;
	char last[64];
};

static void
dup_cb(const struct watchlist_entry *e, const struct watchlist_alias *dup,
    const struct watchlist_alias *first, void *arg)
{
	struct dups *d = arg;

	d->n++;
	snprintf(d->last, sizeof d->last, "%s=%s", dup->text, first->text);
}

static void
test_duplicates(void **state)
{
	struct watchlist *wl = watchlist_new();
	struct dups d = {0, ""};
	char out[1024];

	entry(wl, "tripoli", "Tripoli|TRÍPOLI|tripoli*|Tripoli");
	watchlist_compile(wl, dup_cb, &d);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.last, "Tripoli=Tripoli");
	/* The first written is reported; the star one is distinct. */
	assert_string_equal(scan(wl, "Tr\xc3\xadpoli", out, sizeof out),
	    "tripoli:0@0-8 tripoli:2@0-8");
	watchlist_free(wl);
}

static void
test_bad_aliases(void **state)
{
	struct watchlist *wl = watchlist_new();
	struct watchlist_entry *e;
	char *cause = NULL, big[2048];

	e = watchlist_add_entry(wl, WATCHLIST_PLACE, "x", "t", 1);
	assert_null(watchlist_add_entry(wl, WATCHLIST_TERM, "x", "t", 2));
	assert_int_equal(
	    watchlist_entry_add_alias(e, " -- ", 0, 1, &cause), -1);
	assert_non_null(strstr(cause, "no letters or digits"));
	free(cause);
	assert_int_equal(
	    watchlist_entry_add_alias(e, "foo *", 0, 1, &cause), -1);
	assert_non_null(strstr(cause, "'*' must follow"));
	free(cause);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(watchlist_entry_add_alias(e, big, 0, 1, &cause), -1);
	free(cause);
	/* A decomposed accent before '*' still ends a word. */
	assert_int_equal(
	    watchlist_entry_add_alias(e, "e\xcc\x81*", 0, 1, &cause), 0);
	watchlist_free(wl);
}

static void
test_word_index(void **state)
{
	struct watchlist *wl = watchlist_new();
	struct watchlist_hits h;
	const char *text = "one two, three-four five";

	entry(wl, "x", "three four|five");
	watchlist_compile(wl, NULL, NULL);
	watchlist_hits_init(&h);
	watchlist_scan(wl, text, strlen(text), &h);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.v[0].word, 2);
	assert_int_equal(h.v[1].word, 4);
	assert_int_equal(h.nwords, 5);
	watchlist_hits_release(&h);
	watchlist_free(wl);
}

/* Many entries: a gazetteer-sized watchlist still finds what it should. */
static void
test_large(void **state)
{
	struct watchlist *wl = watchlist_new();
	struct watchlist_entry *e;
	char id[32], alias[64], out[1024], *cause = NULL;
	int i;

	for (i = 0; i < 150000; i++) {
		snprintf(id, sizeof id, "p%d", i);
		e = watchlist_add_entry(wl, WATCHLIST_PLACE, id, "t", 1);
		snprintf(alias, sizeof alias, "Place %d", i);
		assert_int_equal(
		    watchlist_entry_add_alias(e, alias, 0, 1, &cause), 0);
	}
	watchlist_compile(wl, NULL, NULL);
	assert_int_equal(watchlist_npatterns(wl), 150000);
	assert_string_equal(
	    scan(wl, "place 149999 and place 7x place 7", out, sizeof out),
	    "p149999:0@0-12 p7:0@26-33");
	watchlist_free(wl);
}

/*
 * Differential test.  Words are built from pieces that each come in
 * variants equal after normalisation (case, composed or decomposed
 * accents, compatibility forms), so texts hit aliases in many spellings.
 */
static const char *const pieces[][4] = {
    {"a", "A", "\xef\xbd\x81", NULL}, /* fullwidth a */
    {"s", "S", NULL}, {"i", "I", NULL}, {"t", "T", NULL}, {"e", "E", NULL},
    {"r", "R", NULL},
    {"\xc3\xa9", "\xc3\x89", "e\xcc\x81", "E\xcc\x81"}, /* é */
    {"\xc3\x9f", "\xe1\xba\x9e", "ss", "SS"},           /* ß */
    {"\xef\xac\x81", "fi", "FI", NULL},                 /* ﬁ */
    {"\xc4\xb0", "I\xcc\x87", NULL},                    /* İ */
    {"\xc4\xb1", NULL},                                 /* ı */
    {"\xcf\x83", "\xce\xa3", NULL},                     /* σ */
    {"\xcf\x82", NULL},                                 /* ς */
    {"\xd8\xb3", "\xd8\xb3\xd9\x90", NULL},             /* س, with kasra */
    {"\xd8\xb1", "\xd8\xb1\xd9\x92", NULL},             /* ر, with sukun */
    {"\xd8\xaa", NULL},                                 /* ت */
    {"\xed\x95\x9c", NULL},                             /* Hangul han */
    {"\xd9\xa3", NULL},                                 /* Arabic-Indic 3 */
    {"7", "\xef\xbc\x97", NULL},                        /* fullwidth 7 */
    {"\xc7\x85", "\xc7\x84", "\xc7\x86", "D\xc5\xbe"},  /* Ǆ digraphs */
    {"\xd0\xb6", "\xd0\x96", NULL},                     /* ж */
    {"\xce\x90", "\xce\xb9\xcc\x88\xcc\x81", NULL},     /* ΐ */
    {"\xe1\xbe\xb3", "\xe1\xbe\xbc", NULL},             /* ᾳ, ᾼ */
    {"\xc2\xbd", NULL},                                 /* ½: 1, sep, 2 */
    {"\xcc\x88", NULL},                                 /* a lone mark */
};
#define NPIECES (sizeof pieces / sizeof pieces[0])

static const char *const seps[] = {
    " ",
    " ",
    " ",
    "-",
    "\n",
    "\xc2\xa0",
    "\xe2\x80\x93",
    ", ",
    ".",
    "\xff",
    "\xe2\x82",
    "\xe2\x80\x8d",
    "'",
    "*",
    "\xef\xbb\xbf",
    "  ",
};
#define NSEPS (sizeof seps / sizeof seps[0])

struct word {
	int p[4];
	int n;
};

static unsigned long rng_state;

/* What the series produced, so that the test cannot pass vacuously. */
static unsigned long diff_hits, diff_star_hits, diff_case_hits;

static unsigned
rng(unsigned n)
{
	rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)((rng_state >> 33) % n);
}

static void
word_make(struct word *w)
{
	int i;

	w->n = 1 + (int)rng(3);
	for (i = 0; i < w->n; i++)
		w->p[i] = (int)rng(NPIECES);
}

/* A spelling of w: each piece in one of its variants. */
static void
word_render(const struct word *w, char *out, size_t outlen, int variants)
{
	const char *const *v;
	int i, nv;

	for (i = 0; i < w->n; i++) {
		v = pieces[w->p[i]];
		for (nv = 0; nv < 4 && v[nv] != NULL; nv++)
			;
		strncat(out, v[variants ? rng((unsigned)nv) : 0],
		    outlen - strlen(out) - 1);
	}
}

static void
print_escaped(const char *label, const char *s)
{
	fprintf(stderr, "%s: \"", label);
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == '"' || *s == '\\')
			fprintf(stderr, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, stderr);
	}
	fprintf(stderr, "\"\n");
}

#define MAXE 4
#define MAXA 4

static int
diff_once(unsigned iter)
{
	struct word vocab[8];
	char atext[MAXE][MAXA][256], ntext[MAXE][256], text[4096];
	struct oracle_alias oa[MAXE][MAXA];
	const char *onots[MAXE][1];
	struct oracle_entry oe[MAXE];
	struct oracle_hit *oh = NULL;
	struct watchlist *wl = watchlist_new();
	struct watchlist_entry *e;
	struct watchlist_hits h;
	char id[16], *cause;
	size_t noh, i;
	int ne, na, nw, k, j, exact, valid, ok = 1, nvocab;

	nvocab = 2 + (int)rng(6);
	for (k = 0; k < nvocab; k++)
		word_make(&vocab[k]);
	ne = 1 + (int)rng(MAXE);
	for (k = 0; k < ne; k++) {
		snprintf(id, sizeof id, "e%d", k);
		e = watchlist_add_entry(wl, WATCHLIST_TERM, id, "t", 1);
		oe[k].aliases = oa[k];
		oe[k].naliases = 0;
		oe[k].nots = onots[k];
		oe[k].nnots = 0;
		na = 1 + (int)rng(MAXA);
		for (j = 0; j < na; j++) {
			char *a = atext[k][oe[k].naliases];

			a[0] = '\0';
			nw = 1 + (int)rng(3);
			while (nw-- > 0) {
				word_render(
				    &vocab[rng((unsigned)nvocab)], a, 256, 1);
				if (nw > 0)
					strncat(a, seps[rng(NSEPS)],
					    255 - strlen(a));
			}
			if (rng(4) == 0)
				strncat(a, "*", 255 - strlen(a));
			exact = rng(5) == 0;
			cause = NULL;
			valid = watchlist_entry_add_alias(
			            e, a, exact, 1, &cause) == 0;
			free(cause);
			if (valid != oracle_alias_valid(a)) {
				print_escaped("validity differs for alias", a);
				ok = 0;
			}
			if (!valid)
				continue;
			oa[k][oe[k].naliases].text = a;
			oa[k][oe[k].naliases].exact_case = exact;
			oe[k].naliases++;
		}
		if (rng(3) == 0) {
			ntext[k][0] = '\0';
			word_render(
			    &vocab[rng((unsigned)nvocab)], ntext[k], 256, 1);
			strncat(ntext[k], " ", 255 - strlen(ntext[k]));
			word_render(
			    &vocab[rng((unsigned)nvocab)], ntext[k], 256, 1);
			cause = NULL;
			if (watchlist_entry_add_not(e, ntext[k], 1, &cause) ==
			    0) {
				onots[k][0] = ntext[k];
				oe[k].nnots = 1;
			}
			free(cause);
		}
	}
	watchlist_compile(wl, NULL, NULL);

	text[0] = '\0';
	if (rng(10) == 0)
		strcat(text, "\xef\xbb\xbf");
	nw = (int)rng(40);
	for (k = 0; k < nw; k++) {
		word_render(
		    &vocab[rng((unsigned)nvocab)], text, sizeof text, 1);
		if (rng(8) == 0)
			word_render(&vocab[rng((unsigned)nvocab)], text,
			    sizeof text, 1);
		strncat(text, seps[rng(NSEPS)], sizeof text - strlen(text) - 1);
	}

	watchlist_hits_init(&h);
	watchlist_scan(wl, text, strlen(text), &h);
	noh = oracle_scan(oe, (size_t)ne, text, strlen(text), &oh);
	if (noh != h.n)
		ok = 0;
	for (i = 0; i < noh; i++) {
		diff_hits++;
		diff_case_hits += oa[oh[i].entry][oh[i].alias].exact_case;
		diff_star_hits +=
		    strchr(oa[oh[i].entry][oh[i].alias].text, '*') != NULL;
	}
	for (i = 0; ok && i < noh; i++) {
		if (oh[i].entry != h.v[i].entry ||
		    oh[i].alias != h.v[i].alias ||
		    oh[i].start != h.v[i].start || oh[i].end != h.v[i].end ||
		    oh[i].word != h.v[i].word)
			ok = 0;
	}
	if (!ok) {
		fprintf(stderr, "iteration %u differs\n", iter);
		for (k = 0; k < ne; k++) {
			for (j = 0; j < (int)oe[k].naliases; j++) {
				fprintf(stderr, "e%d alias %d (case %d) ", k, j,
				    oa[k][j].exact_case);
				print_escaped("", oa[k][j].text);
			}
			if (oe[k].nnots)
				print_escaped("  not", onots[k][0]);
		}
		print_escaped("text", text);
		for (i = 0; i < noh; i++)
			fprintf(stderr, "oracle e%zu:%zu@%zu-%zu w%zu\n",
			    oh[i].entry, oh[i].alias, oh[i].start, oh[i].end,
			    oh[i].word);
		for (i = 0; i < h.n; i++)
			fprintf(stderr, "daemon e%u:%u@%zu-%zu w%zu\n",
			    h.v[i].entry, h.v[i].alias, h.v[i].start,
			    h.v[i].end, h.v[i].word);
	}
	free(oh);
	watchlist_hits_release(&h);
	watchlist_free(wl);
	return ok;
}

/*
 * WL_DIFF_ITERS and WL_DIFF_SEED in the environment run longer or other
 * series; the default is fixed so that a failure reproduces.
 */
static void
test_differential(void **state)
{
	const char *s;
	unsigned iters = 3000, i, failed = 0;

	if ((s = getenv("WL_DIFF_ITERS")) != NULL)
		iters = (unsigned)strtoul(s, NULL, 10);
	rng_state = 20261121;
	if ((s = getenv("WL_DIFF_SEED")) != NULL)
		rng_state = strtoul(s, NULL, 10);
	for (i = 0; i < iters && failed < 3; i++)
		failed += !diff_once(i);
	assert_int_equal(failed, 0);
	assert_true(diff_hits > iters);
	assert_true(diff_case_hits > iters / 50);
	assert_true(diff_star_hits > iters / 50);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_and_boundaries),
	    cmocka_unit_test(test_separator_runs),
	    cmocka_unit_test(test_diacritics_and_scripts),
	    cmocka_unit_test(test_star),
	    cmocka_unit_test(test_match_case),
	    cmocka_unit_test(test_not),
	    cmocka_unit_test(test_overlaps),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_bad_aliases),
	    cmocka_unit_test(test_word_index),
	    cmocka_unit_test(test_large),
	    cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests_name("watchlist", tests, NULL, NULL);
}
