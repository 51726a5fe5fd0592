/*
 * Seen entries of a feed: the keys of the entries already handled, so that
 * an entry alerts once across polls and restarts, with the feed's
 * conditional-GET validators and its count of consecutive failures.
 *
 * One file per feed, DIR/<feed id>.seen: a header, then one key per line,
 * newest last.  It is replaced as a whole on each save (temporary file,
 * fsync, rename, fsync of DIR), so a crash leaves the old state or the new,
 * never a mix.  A file that does not parse is moved aside to
 * <feed id>.seen.corrupt-<unix time> with a log line, and the feed starts
 * afresh (as never fetched, so first_fetch = skip takes a new baseline
 * instead of alerting for everything it holds).
 *
 * Keys are 64 hex digits (seen_key()).  The set is bounded: a save keeps
 * the newest max(SEEN_MIN_KEYS, 3 x the entries of the last fetch) keys.
 */
#ifndef WATCHLISTD_SEEN_H
#define WATCHLISTD_SEEN_H

#include <stddef.h>

struct feed_entry;
struct seen;

/* The fewest keys a save keeps, however short the feed. */
#define SEEN_MIN_KEYS 1000

/*
 * The key of an entry: the SHA-256, in hex, of its id, else its link, else
 * its title, a newline and its content (else summary).  -1 if the entry has
 * none of these.
 */
int seen_key(const struct feed_entry *e, char out[65]);

/*
 * Load the state of feed_id from dir (created if missing).  A missing file
 * is an empty state; a corrupt one is moved aside (logged) and also gives
 * an empty state.  NULL with *cause (caller frees) only when dir cannot be
 * used or the id cannot name a file.
 */
struct seen *seen_load(const char *dir, const char *feed_id, char **cause);
void seen_free(struct seen *s);

int seen_has(const struct seen *s, const char *key);
/*
 * Add key, or make it the newest if it is there already: entries still in
 * the feed are thus never the ones the bound drops.
 */
void seen_add(struct seen *s, const char *key);
size_t seen_count(const struct seen *s);

/* How many entries the last fetch had: sets the bound. */
void seen_set_fetch_size(struct seen *s, size_t nentries);

/* Whether the feed was ever fetched successfully (for first_fetch). */
int seen_fetched(const struct seen *s);
void seen_set_fetched(struct seen *s);

/* The validators of the last 200 response, NULL if none. */
const char *seen_etag(const struct seen *s);
const char *seen_last_modified(const struct seen *s);
/* Set both (copied; NULL for none). */
void seen_set_validators(
    struct seen *s, const char *etag, const char *last_modified);

unsigned int seen_failures(const struct seen *s);
void seen_set_failures(struct seen *s, unsigned int failures);

/*
 * Write the state durably if anything but the order of keys changed since
 * the last load or save.  -1 with *cause (caller frees) on an I/O error;
 * the file then still holds the previous state.
 */
int seen_save(struct seen *s, char **cause);

#endif
