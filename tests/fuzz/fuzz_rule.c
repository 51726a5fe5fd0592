/*
 * fuzz_rule: the input is a `when` expression, parsed against a small fixed
 * watchlist built once (terms isis, sirte with tag libya, place tripoli).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "rule.h"
#include "watchlist.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct watchlist *wl;

static void
add(enum watchlist_kind kind, const char *id, const char *alias,
    const char *tag)
{
	struct watchlist_entry *e;
	char *cause = NULL;

	e = watchlist_add_entry(wl, kind, id, "fuzz", 1);
	if (e == NULL || watchlist_entry_add_alias(e, alias, 0, 1, &cause) != 0)
		abort();
	if (tag != NULL)
		watchlist_entry_add_tag(e, tag);
}

static void
release(void)
{
	watchlist_free(wl);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	wl = watchlist_new();
	add(WATCHLIST_TERM, "isis", "ISIS", "jihad");
	add(WATCHLIST_TERM, "sirte", "Sirte", "libya");
	add(WATCHLIST_TERM, "oil", "oil field*", NULL);
	add(WATCHLIST_PLACE, "tripoli", "Tripoli", "libya");
	add(WATCHLIST_PLACE, "misrata", "Misrata", NULL);
	watchlist_compile(wl, NULL, NULL);
	atexit(release);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rule_expr *expr;
	char *when, *cause = NULL;
	size_t pos = 0;

	if ((when = malloc(size + 1)) == NULL)
		return 0;
	memcpy(when, data, size);
	when[size] = '\0';
	expr = rule_expr_parse(when, wl, &cause, &pos);
	if (expr == NULL) {
		if (cause == NULL || pos > strlen(when))
			abort();
	}
	rule_expr_free(expr);
	free(cause);
	free(when);
	return 0;
}
