/*
 * Rules: the `when` expression language over a document's hits, and the
 * settings that route a rule's alerts.
 *
 *	expr   := or
 *	or     := and { "OR" and }
 *	and    := unary { "AND" unary }
 *	unary  := "NOT" unary | near
 *	near   := atom [ "NEAR/" n atom ]
 *	atom   := ID | "term:*" | "place:*" | "tag:" NAME | "(" expr ")"
 *
 * NOT binds tightest, then NEAR, AND, OR.  The operands of NEAR denote sets of
 * hits: an entry, term:*, place:*, tag:NAME, or a parenthesised OR of those.
 * `A NEAR/n B` holds when a hit of A and a hit of B start at most n words
 * apart.  As the grammar says, NOT takes a whole NEAR: `NOT a NEAR/5 b` is
 * `NOT (a NEAR/5 b)`.
 */
#ifndef WATCHLISTD_RULE_H
#define WATCHLISTD_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "watchlist.h"

enum rule_severity {
	RULE_LOW,
	RULE_MEDIUM,
	RULE_HIGH,
	RULE_CRITICAL,
};

struct rule_expr;

struct rule {
	char *id;
	char *when;             /* as written */
	struct rule_expr *expr; /* compiled against the watchlist */
	enum rule_severity severity;
	char **notify; /* webhook ids; none: every webhook */
	size_t nnotify;
	int64_t throttle_ms; /* 0: no throttle */
	const char *file;    /* borrowed */
	int line;
};

/* "low", "medium", "high", "critical"; -1 if unknown. */
int rule_severity_parse(const char *s);
const char *rule_severity_name(enum rule_severity sev);

/*
 * Parse a `when` expression, resolving names against wl (which must outlive
 * the result).  On error returns NULL, sets *cause (the caller frees it) and
 * *pos to the byte offset in `when` where the problem is.
 */
struct rule_expr *rule_expr_parse(
    const char *when, const struct watchlist *wl, char **cause, size_t *pos);
void rule_expr_free(struct rule_expr *expr);

/* A document's hits, indexed for evaluating rules. */
struct rule_input;

/* hits must outlive the input. */
struct rule_input *rule_input_new(
    const struct watchlist *wl, const struct watchlist_hits *hits);
void rule_input_free(struct rule_input *in);

/*
 * Whether expr holds for the document.  When it does and entries is not
 * NULL, *entries gets the indexes of the entries whose hits made it hold, in
 * watchlist order (the caller frees the array), and *nentries their count;
 * NULL and 0 when it does not hold or nothing did (`NOT a`).
 */
int rule_expr_eval(const struct rule_expr *expr, const struct rule_input *in,
    uint32_t **entries, size_t *nentries);

void rule_free(struct rule *r);

#endif
