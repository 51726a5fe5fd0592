/*
 * The spool: deliveries waiting for a 2xx, kept on disk so that a crash or
 * kill -9 at any moment loses none.
 *
 * One file per delivery (an alert for one webhook), named by the alert id
 * and the webhook id, so that spooling the same alert again after a crash
 * rewrites the same file instead of adding a duplicate.  A file is written
 * to a temporary name with O_EXCL, fsync'ed, renamed into place, and the
 * directory is fsync'ed: once spool_put() returns 0 the delivery survives a
 * power cut.  Delivered entries are unlinked; expired or refused ones move to
 * dead/ with a .reason file beside them.
 *
 * Layout under DIR: DIR/NAME.spool (pending), DIR/tmp/ (being written, or
 * delivered and waiting to be unlinked; emptied at open), DIR/dead/ (given
 * up: NAME.spool and NAME.reason).
 */
#ifndef WATCHLISTD_SPOOL_H
#define WATCHLISTD_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct spool;

/* A pending delivery.  Owned by the spool; valid until removed or buried. */
struct spool_entry {
	char *name;    /* file name in DIR, e.g. "<alert>.<webhook>.spool" */
	char *webhook; /* webhook id */
	char *alert_id;
	int64_t created_ms; /* when first spooled (Unix ms), as stored */
	uint64_t size;      /* bytes on disk */
	/*
	 * created_ms on the monotonic clock (clock_monotonic_ms()), fixed when
	 * the entry is spooled or loaded: retry_for counts from here, so that
	 * a wall clock that jumps neither buries alerts nor keeps them.
	 */
	int64_t created_mono_ms;

	/* Delivery state, in memory only: after a restart every entry is due.
	 */
	uint32_t attempts;
	int64_t next_ms; /* not before this monotonic time; 0: now */
	int busy;        /* a delivery is in flight */
};

/*
 * Open (creating as needed) the spool in dir, empty tmp/, and load every
 * pending entry's header.  max_bytes is the size at which spool_full() says
 * yes.  NULL with *cause (caller frees) on failure.
 */
struct spool *spool_open(const char *dir, uint64_t max_bytes, char **cause);
void spool_close(struct spool *sp);

/* Change the size cap (on reload). */
void spool_set_max(struct spool *sp, uint64_t max_bytes);

/*
 * Store a delivery of alert_id to webhook: the request body as it will be
 * sent.  Durable when it returns 0; -1 with *cause (caller frees) on an I/O
 * error (disk full, ...), in which case nothing is stored.  If an entry of
 * the same alert and webhook is pending already, it is kept as it is and 0
 * is returned.
 */
int spool_put(struct spool *sp, const char *webhook, const char *alert_id,
    int64_t created_ms, const char *body, size_t len, char **cause);

/*
 * spool_put() in two steps, for a batch: spool_stage() writes the file to
 * tmp/ (-1 with *cause on an I/O error, nothing then staged), and
 * spool_commit() makes every staged file durable and pending at once, with
 * one fsync of DIR for all of them, so that a batch of alerts costs a few
 * disk flushes instead of two each.  Nothing staged is pending, or
 * delivered, before spool_commit() returns 0; if it fails (-1 with *cause),
 * nothing staged since the last commit is stored.  spool_put() commits
 * whatever else is staged too.
 */
int spool_stage(struct spool *sp, const char *webhook, const char *alert_id,
    int64_t created_ms, const char *body, size_t len, char **cause);
int spool_commit(struct spool *sp, char **cause);
/* Files staged and not yet committed. */
size_t spool_staged(const struct spool *sp);

/*
 * fsync DIR if entries were removed since it was last fsync'ed (by a
 * commit or by this): spool_remove() leaves it to this, since a removal
 * lost in a crash only means one more delivery.
 */
void spool_sync(struct spool *sp);

/* Read an entry's body into out (replacing it).  -1 with *cause. */
int spool_body(struct spool *sp, const struct spool_entry *e, struct buf *out,
    char **cause);

/*
 * Delivered: unlink the file and forget the entry (e is freed).  DIR is
 * fsync'ed later (spool_sync()).
 */
int spool_remove(struct spool *sp, struct spool_entry *e, char **cause);

/*
 * Given up: move the file to dead/ with NAME.reason holding reason and a
 * timestamp, and forget the entry (e is freed).
 */
int spool_bury(
    struct spool *sp, struct spool_entry *e, const char *reason, char **cause);

/* Entries in the order they were spooled (oldest first). */
size_t spool_count(const struct spool *sp);
struct spool_entry *spool_entry_at(const struct spool *sp, size_t i);
uint64_t spool_bytes(const struct spool *sp);
/* The pending bytes have reached the cap. */
int spool_full(const struct spool *sp);

#endif
