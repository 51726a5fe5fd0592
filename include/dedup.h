/*
 * One alert per story: the same story arriving from two feeds, or from a
 * feed and the inbox, alerts once within dedup_window.  A story is known by
 * its canonical link (scheme and host in lower case, no fragment, no utm_*
 * parameters) and by its normalised text (the case-folded words, as the
 * matcher sees them); either one seen within the window makes a document a
 * repeat.
 *
 * The keys are SHA-256 digests kept in memory and in an append-only file,
 * compacted at open and when it grows, so a restart remembers them.
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

/*
 * Remembering stories, for batches of them: dedup_add() remembers one at
 * once (dedup_seen() knows it), dedup_flush() writes every one added
 * since to the file, and dedup_sync() fsyncs what was written (-1 with
 * errno, logged).  A story written and not yet fsync'ed survives a restart
 * but perhaps not a power cut: forgetting it costs at worst a repeat alert,
 * never a lost one, so the daemon fsyncs a little later, once for many.
 * dedup_flush() fails (-1 with *cause, caller frees) when the file cannot
 * be written: the stories stay known until the process ends.
 */
void dedup_add(struct dedup *dd, const struct dedup_keys *k, int64_t now_ms);
int dedup_flush(struct dedup *dd, int64_t now_ms, char **cause);
int dedup_sync(struct dedup *dd);

#endif
