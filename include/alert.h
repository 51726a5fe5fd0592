/*
 * Alerts: one per rule that fires on a document, with the facts of
 * DESIGN.md's payload.  Built by the pipeline from a document, its hits and
 * the rule; rendered by webhook.c into each service's shape; its generic
 * JSON form is alert_json().
 *
 * An alert owns copies of everything it shows, so that it outlives a reload
 * of the configuration it was made with.
 */
#ifndef WATCHLISTD_ALERT_H
#define WATCHLISTD_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rule.h"
#include "watchlist.h"

enum alert_source_type {
	ALERT_SOURCE_INBOX,
	ALERT_SOURCE_FEED,
};

/*
 * Where the document came from: inbox or feed fields, NULL if unknown.  In
 * a struct alert the strings are the alert's own copies.
 */
struct alert_source {
	enum alert_source_type type;
	const char *path;  /* inbox: the file's path as it arrived */
	const char *name;  /* inbox: its name */
	const char *feed;  /* feed: the feed id */
	const char *title; /* title (feed entry, HTML, e-mail Subject) */
	const char *link;
	const char *entry_id;  /* feed: the entry's id */
	const char *published; /* as the source gave it */
};

/* A term or place that hit, with how often. */
struct alert_entry {
	char *id;
	char *label; /* the first alias written */
	uint32_t count;
	int has_coords;
	double lat;
	double lon;
	char country[3];
};

/* A passage around hits, from the matched text. */
struct alert_excerpt {
	char *text;
	size_t start; /* byte offsets in the matched text */
	size_t end;
};

struct alert {
	char id[33];      /* 32 hex digits: sha256(rule id, document sha256) */
	const char *kind; /* NULL for a rule's alert; "feed-health" */
	int64_t time_ms;  /* when it was made, Unix milliseconds */
	char *rule;
	enum rule_severity severity;
	char *summary;
	struct alert_source source;
	struct alert_entry *terms;
	size_t nterms;
	struct alert_entry *places;
	size_t nplaces;
	struct alert_excerpt *excerpts;
	size_t nexcerpts;
	char sha256[65]; /* of the document's bytes, hex */
	uint64_t bytes;
	uint32_t suppressed; /* alerts of this rule throttled since the last */
};

/*
 * Make the alert of rule r firing on a document: text[0..len) is what was
 * matched, hits its hits, entries/nentries the entries that made the rule
 * hold (rule_expr_eval), src where it came from (copied), sha256 and bytes
 * the document's identity.  The id is derived from the rule id and the
 * document's sha256, so the same document always gives the same id.
 */
struct alert *alert_new(const struct rule *r, const struct watchlist *wl,
    const char *text, size_t len, const struct watchlist_hits *hits,
    const uint32_t *entries, size_t nentries, const struct alert_source *src,
    const char *sha256, uint64_t bytes, int64_t now_ms);
void alert_free(struct alert *a);

/*
 * A feed's health, an alert of its own kind: the feed has failed again and
 * again (failing, why the last error), or works again.  It goes to every
 * webhook; rule "feed-health", severity high, source the feed, with the
 * feed's url as its link, less user:password@, query and fragment.
 */
struct alert *alert_health_new(const char *feed_id, const char *url,
    int failing, const char *why, int64_t now_ms);

/* The SHA-256 of data as 64 hex digits and a NUL. */
void alert_sha256_hex(const void *data, size_t len, char out[65]);

/* The generic JSON payload of DESIGN.md, appended to out. */
void alert_json(const struct alert *a, struct buf *out);

/* One readable line for the log, without a newline, control characters
 * escaped. */
void alert_log_line(const struct alert *a, struct buf *out);

/* RFC 3339 UTC time ("2026-11-21T12:00:00Z") of Unix milliseconds. */
void alert_format_time(int64_t ms, char out[32]);

#endif
