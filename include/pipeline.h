/*
 * The pipeline: what happens to one document, top to bottom.
 *
 *	document -> hits (watchlist) -> the same story seen lately? (dedup)
 *	    -> rules -> throttle -> alerts
 *	    -> routing (notify, min_severity) -> spool, one file per webhook
 *
 * With no webhook configured, alerts are written to the log instead.  A
 * document is done only when every alert it made is durable: the inputs
 * (inbox, feeds) release a document after pipeline_document() returned 0
 * for it and then pipeline_commit() returned 0.
 */
#ifndef WATCHLISTD_PIPELINE_H
#define WATCHLISTD_PIPELINE_H

#include <stdint.h>

#include "alert.h"
#include "config.h"
#include "doc.h"

struct dedup;
struct pipeline;
struct spool;
struct webhooks;

struct pipeline_stats {
	uint64_t documents;
	uint64_t alerts; /* made and spooled (or logged) */
	uint64_t throttled;
	uint64_t repeats; /* documents dropped as a story seen lately */
	int64_t last_alert_ms;
	char last_alert[33];
};

/*
 * spool, webhooks and dedup are borrowed and must outlive the pipeline;
 * dedup may be NULL (every story is new).
 */
struct pipeline *pipeline_new(
    struct spool *sp, struct webhooks *ws, struct dedup *dd);
void pipeline_free(struct pipeline *pl);

/* Use cf from now on (it is borrowed until the next call). */
void pipeline_set_config(struct pipeline *pl, const struct config *cf);

/*
 * Match document d from input (e.g. "inbox" or "feed:ID") and stage its
 * alerts in the spool.  They are durable, and the document may be released,
 * only once pipeline_commit() has returned 0: an input hands over a batch
 * of documents, then commits once, so that the spool makes their alerts
 * durable together.  -1 with *cause (caller frees) when an alert could not
 * be staged: the caller keeps the document and tries again later; alerts
 * staged before the failure are committed with the batch, and their ids
 * are stable, so the retry does not duplicate them.  now_ms is the wall
 * clock (alert times, dedup_window); throttle windows run on the monotonic
 * clock.
 */
int pipeline_document(struct pipeline *pl, const struct doc *d,
    const struct alert_source *src, const char *input, int64_t now_ms,
    char **cause);

/*
 * Make every alert staged since the last commit durable, remember the
 * stories that made them (dedup_window) and start delivering them.  -1 with
 * *cause (caller frees) when the spool failed: nothing staged since the
 * last commit is stored, throttle windows and counters are as they were
 * before the batch, and the caller must keep every document of the batch
 * and try it again.
 */
int pipeline_commit(struct pipeline *pl, int64_t now_ms, char **cause);

/*
 * Tell every webhook (or the log, with none) that a feed started failing or
 * works again: the alert is staged, durable once pipeline_commit() returns
 * 0.  -1 with *cause when it could not be staged.
 */
int pipeline_health(struct pipeline *pl, const char *feed_id, const char *url,
    int failing, const char *why, int64_t now_ms, char **cause);

const struct pipeline_stats *pipeline_stats(const struct pipeline *pl);

#endif
