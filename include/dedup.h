/*
 * One alert per story: the same story arriving from two feeds, or from a
 * feed and the inbox, alerts once within dedup_window.  A story is known by
 * its canonical link (scheme and host in lower case, no fragment, no utm_*
 * parameters) and by its normalised text (the case-folded words, as the
 * matcher sees them); either one seen within the window makes a document a
 * repeat.
 *
 * The keys are SHA-256 digests kept in memory and in an append-only file
 * (each record fsync'ed), compacted at open, so a restart remembers them.
 */
#ifndef WATCHLISTD_DEDUP_H
#define WATCHLISTD_DEDUP_H

#include <stdint.h>

#include "doc.h"

struct dedup;

/* A document's story keys; a key is "" when the document has none. */
struct dedup_keys {
	char link[65];
	char text[65];
};

/* Open (creating) the file at path.  NULL with *cause (caller frees). */
struct dedup *dedup_open(
    const char *path, int64_t window_ms, int64_t now_ms, char **cause);
void dedup_close(struct dedup *dd);
void dedup_set_window(struct dedup *dd, int64_t window_ms);

void dedup_keys_make(const struct doc *d, struct dedup_keys *k);

/*
 * Whether the story was seen within the window.  If so, *which says by what
 * ("link" or "text") and *age_ms how long ago.
 */
int dedup_seen(const struct dedup *dd, const struct dedup_keys *k,
    int64_t now_ms, const char **which, int64_t *age_ms);

/* Remember the story, durably.  -1 with *cause (caller frees). */
int dedup_record(
    struct dedup *dd, const struct dedup_keys *k, int64_t now_ms, char **cause);

#endif
