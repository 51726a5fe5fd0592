/*
 * Feed polling: every [feed:ID] is fetched on its own timer over the shared
 * HTTP client, and each entry not seen before becomes a document for the
 * pipeline.
 *
 * Politeness: the interval with +-10% jitter (the first poll soon after
 * start, spread over a tenth of the interval, at most 10 s); conditional
 * GET with the validators of the last 200 (a 304 costs no parsing); gzip;
 * connect, total and low-speed timeouts; at most POLLER_PER_HOST requests
 * to one host at once, the rest queued.  On errors (network, HTTP status
 * other than 2xx and 304, a document that is not a feed) the delay doubles
 * from the interval up to 24 h, and a Retry-After longer than that is
 * honoured.  A change between working and failing is logged once, not at
 * every poll.  After health_after consecutive failures the health
 * callback is called once, and once more when the feed works again.
 *
 * Each entry is handed to the entry callback at most once: it is marked
 * seen (seen.h) only when the callback returns 0, and the state is saved
 * after each poll.  When the callback fails, the validators are not kept,
 * so the next poll fetches the whole feed and tries the entry again.  With
 * first_fetch = skip the entries of a feed's first successful fetch are
 * marked seen without a callback.
 *
 * The module is named poller, not poll, because include/poll.h would hide
 * the system's <poll.h> from every file compiled with -Iinclude.
 */
#ifndef WATCHLISTD_POLLER_H
#define WATCHLISTD_POLLER_H

#include <stdint.h>

struct alert_source;
struct config;
struct doc;
struct event_base;
struct http;
struct poller;

/* Consecutive failures before the health callback says a feed is failing,
 * when the feed's health_after does not say. */
#ifndef POLLER_HEALTH_FAILURES
#define POLLER_HEALTH_FAILURES 5
#endif
/* Requests in flight to one host (scheme, name and port) at once. */
#ifndef POLLER_PER_HOST
#define POLLER_PER_HOST 2
#endif
#define POLLER_CONNECT_TIMEOUT_MS 10000
#define POLLER_TIMEOUT_MS         60000
#define POLLER_LOW_SPEED_SECONDS  30
#define POLLER_MAX_BACKOFF_MS     (24 * 3600 * 1000LL)

/*
 * A new entry as a document: its title, a blank line and its content (or
 * summary), as text; src says where it came from.  Both are valid only
 * during the call.  Return 0 once it is handled for good (its alerts are
 * durable), or -1 with *cause (the poller frees it) to have it tried again
 * at the next poll.
 */
typedef int (*poller_entry_cb)(const struct doc *d,
    const struct alert_source *src, void *arg, char **cause);
/*
 * A feed started failing (failing = 1, why says the last error) or works
 * again (failing = 0, why NULL).
 */
typedef void (*poller_health_cb)(
    const char *feed_id, int failing, const char *why, void *arg);

/*
 * The feeds' state lives in state_dir/feeds/.  base, http and state_dir
 * are borrowed and must outlive the poller; nothing is polled before
 * poller_configure().
 */
struct poller *poller_new(struct event_base *base, struct http *http,
    const char *state_dir, poller_entry_cb entry_cb, poller_health_cb health_cb,
    void *arg);
/* Cancels every request in flight; no callback is called after. */
void poller_free(struct poller *p);

/*
 * Poll the feeds of cf (copied; cf may be freed after).  A feed whose id and
 * url stay the same keeps its timer, state and requests; a feed whose url
 * changed keeps its seen entries but forgets its validators and is polled
 * soon; a feed no longer configured is dropped (its state file stays, so
 * adding it back alerts nothing old).  -1 with *cause (caller frees) if the
 * state of a new feed cannot be loaded: nothing has changed then.
 */
int poller_configure(struct poller *p, const struct config *cf, char **cause);

/* Stop polling (shutdown): cancel requests and timers. */
void poller_stop(struct poller *p);

/* What a feed is doing, for status lines and tests. */
struct poller_status {
	unsigned int failures; /* consecutive */
	const char *error;     /* the last failure, NULL after a success */
	uint64_t polls;        /* finished, since start */
	uint64_t not_modified; /* of them 304 */
	uint64_t entries;      /* handed to the entry callback and done */
};
/* -1 if no feed has that id.  error is valid until the loop runs on. */
int poller_status(
    const struct poller *p, const char *feed_id, struct poller_status *st);

#endif
