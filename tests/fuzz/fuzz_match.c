/*
 * fuzz_match: differential test of the matcher (text normalisation +
 * watchlist.c) against the slow reference matcher in tests/unit/oracle.c.
 *
 * Input: the first line is the watchlist, the rest (after '\n') the text.
 * The first line is split on '|' into items:
 *   - an empty item ("||") starts a new entry (at most MAXE entries);
 *   - an item starting with '~' is a `not` phrase of the current entry;
 *   - an item starting with '!' is a match_case alias;
 *   - anything else is a match alias; a trailing '*' makes it a prefix.
 * Aliases the library refuses are skipped; oracle_alias_valid must agree
 * (except for the library's length and word-count caps).  watchlist_scan
 * and oracle_scan must then give the same hits (entry, alias, start, end,
 * word), in the same order; a difference aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oracle.h"
#include "watchlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXE 4
#define MAXA 8
#define MAXN 2

static void
dump(const struct oracle_entry *oe, size_t ne, const struct oracle_hit *oh,
    size_t noh, const struct watchlist_hits *h)
{
	size_t k, j;

	for (k = 0; k < ne; k++) {
		for (j = 0; j < oe[k].naliases; j++)
			fprintf(stderr, "e%zu alias %zu (case %d) '%s'\n", k, j,
			    oe[k].aliases[j].exact_case, oe[k].aliases[j].text);
		for (j = 0; j < oe[k].nnots; j++)
			fprintf(stderr, "e%zu not '%s'\n", k, oe[k].nots[j]);
	}
	for (k = 0; k < noh; k++)
		fprintf(stderr, "oracle e%zu:%zu@%zu-%zu w%zu\n", oh[k].entry,
		    oh[k].alias, oh[k].start, oh[k].end, oh[k].word);
	for (k = 0; k < h->n; k++)
		fprintf(stderr, "daemon e%u:%u@%zu-%zu w%zu\n", h->v[k].entry,
		    h->v[k].alias, h->v[k].start, h->v[k].end, h->v[k].word);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oracle_alias oa[MAXE][MAXA];
	const char *onots[MAXE][MAXN];
	struct oracle_entry oe[MAXE];
	struct oracle_hit *oh = NULL;
	struct watchlist_entry *e;
	struct watchlist_hits h;
	struct watchlist *wl;
	const char *text;
	char *spec, *p, *item, *cause, id[16];
	size_t speclen, textlen, ne, noh, i;
	int valid, ovalid, ok = 1, exact;
	const uint8_t *nl;

	nl = memchr(data, '\n', size);
	speclen = nl != NULL ? (size_t)(nl - data) : size;
	text = nl != NULL ? (const char *)nl + 1 : "";
	textlen = nl != NULL ? size - speclen - 1 : 0;
	if ((spec = malloc(speclen + 1)) == NULL)
		return 0;
	memcpy(spec, data, speclen);
	spec[speclen] = '\0';

	wl = watchlist_new();
	memset(oe, 0, sizeof oe);
	ne = 1;
	e = watchlist_add_entry(wl, WATCHLIST_TERM, "e0", "fuzz", 1);
	oe[0].aliases = oa[0];
	oe[0].nots = onots[0];
	for (p = spec; (item = strsep(&p, "|")) != NULL;) {
		if (item[0] == '\0') {
			if (ne == MAXE)
				break;
			snprintf(id, sizeof id, "e%zu", ne);
			e = watchlist_add_entry(
			    wl, WATCHLIST_TERM, id, "fuzz", 1);
			oe[ne].aliases = oa[ne];
			oe[ne].nots = onots[ne];
			ne++;
			continue;
		}
		cause = NULL;
		if (item[0] == '~') {
			if (oe[ne - 1].nnots == MAXN)
				continue;
			if (watchlist_entry_add_not(e, item + 1, 1, &cause) == 0)
				onots[ne - 1][oe[ne - 1].nnots++] = item + 1;
			free(cause);
			continue;
		}
		if (oe[ne - 1].naliases == MAXA)
			continue;
		exact = item[0] == '!';
		if (exact)
			item++;
		valid = watchlist_entry_add_alias(e, item, exact, 1, &cause) ==
		    0;
		ovalid = oracle_alias_valid(item);
		if (valid && !ovalid) {
			fprintf(stderr, "library accepts, oracle refuses '%s'\n",
			    item);
			abort();
		}
		if (!valid && ovalid &&
		    (cause == NULL || (strstr(cause, "longer than") == NULL &&
		                          strstr(cause, "more than") == NULL))) {
			fprintf(stderr, "library refuses (%s), oracle accepts "
			    "'%s'\n", cause ? cause : "no cause", item);
			abort();
		}
		free(cause);
		if (!valid)
			continue;
		oa[ne - 1][oe[ne - 1].naliases].text = item;
		oa[ne - 1][oe[ne - 1].naliases].exact_case = exact;
		oe[ne - 1].naliases++;
	}
	watchlist_compile(wl, NULL, NULL);

	watchlist_hits_init(&h);
	watchlist_scan(wl, text, textlen, &h);
	noh = oracle_scan(oe, ne, text, textlen, &oh);
	if (noh != h.n)
		ok = 0;
	for (i = 0; ok && i < noh; i++) {
		if (oh[i].entry != h.v[i].entry ||
		    oh[i].alias != h.v[i].alias ||
		    oh[i].start != h.v[i].start || oh[i].end != h.v[i].end ||
		    oh[i].word != h.v[i].word)
			ok = 0;
	}
	if (!ok) {
		fprintf(stderr, "watchlist_scan and oracle_scan differ\n");
		dump(oe, ne, oh, noh, &h);
		abort();
	}
	free(oh);
	watchlist_hits_release(&h);
	watchlist_free(wl);
	free(spec);
	return 0;
}
