/*
 * A slow, obviously-correct matcher written straight from DESIGN.md
 * "Matching semantics", for differential tests of watchlist.c.  It shares
 * nothing with the daemon but utf8proc's tables: it normalises the whole text
 * into an array of code points and tries every alias at every position.
 */
#ifndef WATCHLISTD_ORACLE_H
#define WATCHLISTD_ORACLE_H

#include <stddef.h>

struct oracle_alias {
	const char *text; /* as written, trailing '*' included */
	int exact_case;
};

struct oracle_entry {
	const struct oracle_alias *aliases;
	size_t naliases;
	const char *const *nots;
	size_t nnots;
};

struct oracle_hit {
	size_t entry;
	size_t alias;
	size_t start;
	size_t end;
	size_t word;
};

/* Whether an alias is acceptable: it has a word character, and a trailing
 * '*' follows one. */
int oracle_alias_valid(const char *text);

/* Every hit, sorted by start, end, entry, alias; the caller frees *hits. */
size_t oracle_scan(const struct oracle_entry *entries, size_t nentries,
    const char *text, size_t len, struct oracle_hit **hits);

#endif
