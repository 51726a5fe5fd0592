/*
 * The watchlist: terms and places with their aliases, `not` phrases and tags,
 * compiled into one multi-pattern matcher, and the scan of a text into hits
 * as DESIGN.md "Matching semantics" defines them.
 *
 * Build it with watchlist_add_entry() and the watchlist_entry_add_*()
 * functions, then watchlist_compile() once; after that it is read-only and
 * may be scanned any number of times.
 */
#ifndef WATCHLISTD_WATCHLIST_H
#define WATCHLISTD_WATCHLIST_H

#include <stddef.h>
#include <stdint.h>

enum watchlist_kind {
	WATCHLIST_TERM,
	WATCHLIST_PLACE,
};

struct watchlist_alias {
	char *text;     /* as written, without the trailing '*' */
	int star;       /* trailing '*': the last word may continue */
	int exact_case; /* from match_case: compared without case folding */
	int line;       /* where it was written, 0 if unknown */
	int duplicate;  /* equal after normalisation to an earlier alias */
};

struct watchlist_entry {
	char *id;     /* stored with the entry */
	size_t index; /* position in the watchlist, in order of definition */

	/* Aliases in the order written (match and match_case alike). */
	struct watchlist_alias *aliases;
	size_t naliases;
	struct watchlist_alias *nots; /* `not` phrases */
	size_t nnots;
	char **tags;
	size_t ntags;

	double lat;
	double lon;

	const char *file; /* where the section starts; borrowed */
	int line;
	enum watchlist_kind kind;
	int has_coords;  /* places: lat and lon both given */
	char country[3]; /* ISO 3166-1 alpha-2, "" if not given */
};

struct watchlist;

/* One occurrence of an alias in a text. */
struct watchlist_hit {
	uint32_t entry; /* index of the entry */
	uint32_t alias; /* index of the alias in that entry */
	size_t start;   /* byte offsets in the scanned text, end exclusive */
	size_t end;
	size_t word; /* index of its first word in the text (for NEAR) */
};

/* The hits of one text, sorted by start, then end, entry and alias. */
struct watchlist_hits {
	struct watchlist_hit *v;
	size_t n;
	size_t cap;
	size_t nwords; /* words in the text */
};

struct watchlist *watchlist_new(void);
void watchlist_free(struct watchlist *wl);

/*
 * Add an entry; NULL if the id is taken by another entry (ids are unique
 * across terms and places).  The watchlist owns the entry.
 */
struct watchlist_entry *watchlist_add_entry(struct watchlist *wl,
    enum watchlist_kind kind, const char *id, const char *file, int line);

/*
 * Add an alias as written in `match` (exact_case 0) or `match_case`
 * (exact_case 1).  A trailing '*' makes it a prefix alias.  Returns -1 and a
 * message in *cause (the caller frees it) when the alias has no word
 * characters, is too long or has too many words.
 */
int watchlist_entry_add_alias(struct watchlist_entry *e, const char *text,
    int exact_case, int line, char **cause);
/* Add a `not` phrase; same rules and result as an alias. */
int watchlist_entry_add_not(
    struct watchlist_entry *e, const char *text, int line, char **cause);
void watchlist_entry_add_tag(struct watchlist_entry *e, const char *tag);
int watchlist_entry_has_tag(const struct watchlist_entry *e, const char *tag);

size_t watchlist_count(const struct watchlist *wl);
struct watchlist_entry *watchlist_entry(const struct watchlist *wl, size_t i);
struct watchlist_entry *watchlist_find(
    const struct watchlist *wl, const char *id);
const char *watchlist_kind_name(enum watchlist_kind kind);

/* Called by watchlist_compile() for each alias that repeats another. */
typedef void (*watchlist_warn_cb)(const struct watchlist_entry *e,
    const struct watchlist_alias *dup, const struct watchlist_alias *first,
    void *arg);

/*
 * Build the matcher over every alias and `not` phrase.  Aliases of one entry
 * that are equal after normalisation are marked duplicate (only the first is
 * matched) and reported through warn (which may be NULL).
 */
void watchlist_compile(struct watchlist *wl, watchlist_warn_cb warn, void *arg);

/* Distinct patterns in the compiled matcher (for `check`). */
size_t watchlist_npatterns(const struct watchlist *wl);

void watchlist_hits_init(struct watchlist_hits *h);
void watchlist_hits_release(struct watchlist_hits *h);

/*
 * Find every hit in text[0..len), replacing what h held.  Offsets are
 * relative to text; a leading BOM is skipped.
 */
void watchlist_scan(const struct watchlist *wl, const char *text, size_t len,
    struct watchlist_hits *h);

#endif
