/*
 * Feed polling.  See poller.h.
 *
 * A feed is always in exactly one of three states: its timer is pending,
 * it waits in the queue for a free slot on its host, or its request is in
 * flight (f->req).  The timer starts the request or queues the feed; the
 * request's completion (or a failure to start it) arms the timer again and
 * then lets queued feeds take the freed slot.
 *
 * Lifetimes.  A struct poller_feed lives from the poller_configure() that
 * adds it to the one that drops it, or poller_free().  Dropping a feed
 * cancels its request first (http_cancel() calls no callback), so a
 * completion callback always finds its feed alive.  The entry and health
 * callbacks are called from inside the completion callback; they must not
 * reconfigure or free the poller.
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "alert.h"
#include "buf.h"
#include "config.h"
#include "doc.h"
#include "feed.h"
#include "http.h"
#include "log.h"
#include "poller.h"
#include "seen.h"
#include "text.h"
#include "url.h"
#include "xmalloc.h"

/* The first poll comes within a tenth of the interval, and at most this. */
#define POLLER_FIRST_SPREAD_MS 10000

struct poller_feed {
	struct poller *p;
	char *id;
	char *url;
	char *host; /* scheme://name:port, for the per-host limit */
	int64_t interval_ms;
	enum config_first_fetch first_fetch;
	int allow_private;
	unsigned int health_after; /* failures before the health callback */

	struct seen *seen;
	struct event *timer;
	void *req;   /* in flight */
	int waiting; /* in p->waiting */
	int failing; /* the health callback was told */
	char *error; /* the last failure; NULL while it works */
	uint64_t polls;
	uint64_t not_modified;
	uint64_t entries;

	TAILQ_ENTRY(poller_feed) entry;
	TAILQ_ENTRY(poller_feed) wentry;
};
TAILQ_HEAD(poller_feeds, poller_feed);

struct poller {
	struct event_base *base;
	struct http *http;
	char *dir; /* state_dir/feeds */
	poller_entry_cb entry_cb;
	poller_health_cb health_cb;
	void *arg;

	size_t max_size;
	struct poller_feeds feeds;
	struct poller_feeds waiting; /* oldest first */
	int stopped;
	unsigned short rnd[3]; /* erand48() state for the jitter */
};

static void poller_feed_start(struct poller_feed *f);

/* An untrusted text (a server's error, a parser's cause) fit for a log. */
static char *
poller_escape(const char *s)
{
	struct buf b;

	buf_init(&b);
	text_escape(&b, s, strlen(s), TEXT_ESCAPE_SPACE);
	return buf_detach(&b, NULL);
}

/*
 * The host part of a URL with its scheme and port, lower-cased:
 * "https://Example.net:443/x" -> "https://example.net:443".  Requests to
 * the same host share the per-host limit; what curl will actually resolve
 * does not matter here.
 */
static char *
poller_host(const char *url)
{
	const char *p, *start, *end, *at;
	char *host;
	size_t i;

	if ((p = strstr(url, "://")) == NULL)
		return xstrdup(url);
	start = p + 3;
	end = start + strcspn(start, "/?#");
	at = memchr(start, '@', (size_t)(end - start));
	if (at != NULL)
		start = at + 1;
	host = xasprintf(
	    "%.*s://%.*s", (int)(p - url), url, (int)(end - start), start);
	for (i = 0; host[i] != '\0'; i++) {
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	}
	return host;
}

/* Requests in flight to host. */
static int
poller_host_busy(const struct poller *p, const char *host)
{
	struct poller_feed *f;
	int n = 0;

	for (f = TAILQ_FIRST(&p->feeds); f != NULL; f = TAILQ_NEXT(f, entry)) {
		if (f->req != NULL && strcmp(f->host, host) == 0)
			n++;
	}
	return n;
}

/* d +- 10%. */
static int64_t
poller_jitter(struct poller *p, int64_t d)
{
	return (int64_t)((double)d * (0.9 + 0.2 * erand48(p->rnd)));
}

static void
poller_feed_schedule(struct poller_feed *f, int64_t delay_ms)
{
	struct timeval tv;

	if (delay_ms < 0)
		delay_ms = 0;
	tv.tv_sec = (time_t)(delay_ms / 1000);
	tv.tv_usec = (suseconds_t)(delay_ms % 1000 * 1000);
	evtimer_add(f->timer, &tv);
}

/* Start queued feeds whose host has a free slot, oldest first. */
static void
poller_run_queue(struct poller *p)
{
	struct poller_feed *f, *next;

	for (f = TAILQ_FIRST(&p->waiting); f != NULL; f = next) {
		next = TAILQ_NEXT(f, wentry);
		if (poller_host_busy(p, f->host) >= POLLER_PER_HOST)
			continue;
		TAILQ_REMOVE(&p->waiting, f, wentry);
		f->waiting = 0;
		poller_feed_start(f);
	}
}

static void
poller_save(struct poller_feed *f)
{
	char *cause = NULL;

	if (seen_save(f->seen, &cause) != 0) {
		log_warnx("feed %s: cannot save its state: %s", f->id, cause);
		free(cause);
	}
}

/* The poll worked: say so if it had not, and poll again in an interval. */
static void
poller_feed_ok(struct poller_feed *f)
{
	struct poller *p = f->p;
	unsigned int failures = seen_failures(f->seen);

	if (failures > 0) {
		log_notice("feed %s: works again after %u failure%s", f->id,
		    failures, failures == 1 ? "" : "s");
		seen_set_failures(f->seen, 0);
	}
	if (f->failing) {
		f->failing = 0;
		if (p->health_cb != NULL)
			p->health_cb(f->id, 0, NULL, p->arg);
	}
	free(f->error);
	f->error = NULL;
	poller_save(f);
	poller_feed_schedule(f, poller_jitter(p, f->interval_ms));
}

/*
 * Whether two failures are of the same kind: the text before the first
 * colon ("Timeout was reached", "HTTP status 503", "not a feed"), since
 * the details (curl's elapsed milliseconds) change at every try.
 */
static int
poller_same_failure(const char *a, const char *b)
{
	size_t n = strcspn(a, ":");

	return n == strcspn(b, ":") && strncmp(a, b, n) == 0;
}

/*
 * The poll failed: back off, doubling from the interval, and at least as
 * long as the server's Retry-After.  The failure is logged when its kind
 * differs from the last one's, so a feed that stays down is logged once,
 * not at every try.
 */
static void
poller_feed_fail(struct poller_feed *f, const char *why, int64_t retry_after)
{
	struct poller *p = f->p;
	unsigned int failures = seen_failures(f->seen) + 1, i;
	int64_t delay = f->interval_ms;
	char *safe = poller_escape(why);

	for (i = 1; i < failures && delay < POLLER_MAX_BACKOFF_MS; i++)
		delay *= 2;
	if (delay > POLLER_MAX_BACKOFF_MS)
		delay = POLLER_MAX_BACKOFF_MS;
	delay = poller_jitter(p, delay);
	if (retry_after > delay)
		delay = retry_after;

	if (f->error == NULL || !poller_same_failure(f->error, safe))
		log_warnx("feed %s: %s (failure %u; next try in %.1f s)", f->id,
		    safe, failures, (double)delay / 1000);
	else
		log_debug(
		    "feed %s: %s again (failure %u)", f->id, safe, failures);
	free(f->error);
	f->error = safe;
	seen_set_failures(f->seen, failures);
	if (failures >= f->health_after && !f->failing) {
		f->failing = 1;
		if (p->health_cb != NULL)
			p->health_cb(f->id, 1, f->error, p->arg);
	}
	poller_save(f);
	poller_feed_schedule(f, delay);
}

/*
 * Hand one new entry to the entry callback: its title, a blank line and its
 * content (or summary) as a text document.
 */
static int
poller_entry(struct poller_feed *f, const struct feed_entry *e, char **cause)
{
	struct poller *p = f->p;
	struct alert_source src;
	struct doc *d;
	char *name;
	int rc;

	name = xasprintf("feed:%s", f->id);
	d = doc_from_feed_entry(name, e);
	free(name);
	memset(&src, 0, sizeof src);
	src.type = ALERT_SOURCE_FEED;
	src.feed = f->id;
	src.title = e->title;
	src.link = e->link;
	src.entry_id = e->id;
	src.published = d->published;
	rc = p->entry_cb(d, &src, p->arg, cause);
	doc_free(d);
	return rc;
}

/*
 * A 2xx body: parse it and hand on every entry not seen before, oldest
 * first (feeds list the newest first).  Returns -1 with *cause if it is
 * not a feed.
 */
static int
poller_feed_entries(
    struct poller_feed *f, const struct http_response *res, char **cause)
{
	struct feed feed;
	const struct feed_entry *e;
	char key[65], *why = NULL, *safe;
	size_t i;
	int skip, failed = 0;

	memset(&feed, 0, sizeof feed);
	if (feed_parse(res->body.data, res->body.len, &feed, cause) != 0) {
		feed_release(&feed);
		return -1;
	}
	seen_set_fetch_size(f->seen, feed.nentries);
	skip =
	    !seen_fetched(f->seen) && f->first_fetch == CONFIG_FIRST_FETCH_SKIP;
	for (i = feed.nentries; i-- > 0;) {
		e = &feed.entries[i];
		if (seen_key(e, key) != 0) {
			log_debug("feed %s: an entry without id, link, title "
			          "or text: ignored",
			    f->id);
			continue;
		}
		if (seen_has(f->seen, key) || skip) {
			seen_add(f->seen, key);
			continue;
		}
		if (poller_entry(f, e, &why) != 0) {
			safe = poller_escape(why != NULL ? why : "failed");
			log_warnx("feed %s: entry %s: %s; tried again at the "
			          "next poll",
			    f->id, key, safe);
			free(safe);
			free(why);
			why = NULL;
			failed++;
			continue;
		}
		seen_add(f->seen, key);
		f->entries++;
	}
	if (skip && feed.nentries > 0)
		log_info("feed %s: first fetch: %zu entries taken as the "
		         "baseline (first_fetch = skip)",
		    f->id, feed.nentries);
	seen_set_fetched(f->seen);
	/* Without validators the next poll fetches the entries that failed. */
	if (failed > 0)
		seen_set_validators(f->seen, NULL, NULL);
	else
		seen_set_validators(f->seen, res->etag, res->last_modified);
	feed_release(&feed);
	return 0;
}

static void
poller_done_cb(const struct http_response *res, void *arg)
{
	struct poller_feed *f = arg;
	struct poller *p = f->p;
	char *cause = NULL, *why;

	f->req = NULL;
	f->polls++;
	if (res->error != NULL) {
		if (strncmp(res->error, "refused to connect", 18) == 0)
			why = xasprintf(
			    "%s (allow_private = yes allows it)", res->error);
		else
			why = xstrdup(res->error);
		poller_feed_fail(f, why, res->retry_after_ms);
		free(why);
	} else if (res->status == 304) {
		f->not_modified++;
		poller_feed_ok(f);
	} else if (res->status >= 200 && res->status <= 299) {
		if (poller_feed_entries(f, res, &cause) == 0)
			poller_feed_ok(f);
		else {
			why = xasprintf("not a feed: %s", cause);
			poller_feed_fail(f, why, -1);
			free(why);
			free(cause);
		}
	} else {
		why = xasprintf("HTTP status %ld", res->status);
		poller_feed_fail(f, why, res->retry_after_ms);
		free(why);
	}
	poller_run_queue(p);
}

/* Send the request, or fail the poll if it cannot even start. */
static void
poller_feed_start(struct poller_feed *f)
{
	struct poller *p = f->p;
	struct http_request req;
	char *cause = NULL;

	memset(&req, 0, sizeof req);
	req.method = "GET";
	req.url = f->url;
	req.connect_timeout_ms = POLLER_CONNECT_TIMEOUT_MS;
	req.timeout_ms = POLLER_TIMEOUT_MS;
	req.low_speed_seconds = POLLER_LOW_SPEED_SECONDS;
	req.max_response = p->max_size;
	req.follow_redirects = 1;
	req.if_none_match = seen_etag(f->seen);
	req.if_modified_since = seen_last_modified(f->seen);
	req.refuse_private = !f->allow_private;
	f->req = http_request_start(p->http, &req, poller_done_cb, f, &cause);
	if (f->req == NULL) {
		poller_feed_fail(f, cause, -1);
		free(cause);
	}
}

/* The feed's timer: poll now, or wait for a slot on its host. */
static void
poller_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct poller_feed *f = arg;
	struct poller *p = f->p;

	if (p->stopped || f->req != NULL || f->waiting)
		return;
	if (poller_host_busy(p, f->host) >= POLLER_PER_HOST) {
		TAILQ_INSERT_TAIL(&p->waiting, f, wentry);
		f->waiting = 1;
		return;
	}
	poller_feed_start(f);
}

/* Take the feed out of the loop: no timer, no request, not queued. */
static void
poller_feed_idle(struct poller_feed *f)
{
	struct poller *p = f->p;

	evtimer_del(f->timer);
	if (f->req != NULL) {
		http_cancel(p->http, f->req);
		f->req = NULL;
	}
	if (f->waiting) {
		TAILQ_REMOVE(&p->waiting, f, wentry);
		f->waiting = 0;
	}
}

static void
poller_feed_free(struct poller_feed *f)
{
	poller_feed_idle(f);
	event_free(f->timer);
	seen_free(f->seen);
	free(f->id);
	free(f->url);
	free(f->host);
	free(f->error);
	free(f);
}

/* The first poll of a feed: soon, spread so that feeds do not all start
 * together. */
static void
poller_feed_first(struct poller_feed *f)
{
	int64_t spread = f->interval_ms / 10;

	if (spread > POLLER_FIRST_SPREAD_MS)
		spread = POLLER_FIRST_SPREAD_MS;
	poller_feed_schedule(f, (int64_t)((double)spread * erand48(f->p->rnd)));
}

static void
poller_feed_set(struct poller_feed *f, const struct config_feed *cf)
{
	f->interval_ms = cf->interval_ms > 0 ? cf->interval_ms : 1000;
	f->first_fetch = cf->first_fetch;
	f->allow_private = cf->allow_private;
	f->health_after = cf->health_after > 0 ? (unsigned int)cf->health_after
	                                       : POLLER_HEALTH_FAILURES;
}

struct poller *
poller_new(struct event_base *base, struct http *http, const char *state_dir,
    poller_entry_cb entry_cb, poller_health_cb health_cb, void *arg)
{
	struct poller *p;
	struct timespec ts;
	uint64_t seed;

	p = xcalloc(1, sizeof *p);
	p->base = base;
	p->http = http;
	p->dir = xasprintf("%s/feeds", state_dir);
	p->entry_cb = entry_cb;
	p->health_cb = health_cb;
	p->arg = arg;
	TAILQ_INIT(&p->feeds);
	TAILQ_INIT(&p->waiting);
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20 ^
	       (uint64_t)getpid();
	p->rnd[0] = (unsigned short)seed;
	p->rnd[1] = (unsigned short)(seed >> 16);
	p->rnd[2] = (unsigned short)(seed >> 32);
	return p;
}

void
poller_free(struct poller *p)
{
	struct poller_feed *f;

	if (p == NULL)
		return;
	while ((f = TAILQ_FIRST(&p->feeds)) != NULL) {
		TAILQ_REMOVE(&p->feeds, f, entry);
		poller_feed_free(f);
	}
	free(p->dir);
	free(p);
}

void
poller_stop(struct poller *p)
{
	struct poller_feed *f;

	p->stopped = 1;
	for (f = TAILQ_FIRST(&p->feeds); f != NULL; f = TAILQ_NEXT(f, entry))
		poller_feed_idle(f);
}

static struct poller_feed *
poller_find(const struct poller *p, const char *id)
{
	struct poller_feed *f;

	for (f = TAILQ_FIRST(&p->feeds); f != NULL; f = TAILQ_NEXT(f, entry)) {
		if (strcmp(f->id, id) == 0)
			return f;
	}
	return NULL;
}

/*
 * Two passes, so that a failure changes nothing: first load the state of
 * every feed that is new (the only step that can fail), then swap the
 * lists, keeping, changing or dropping the old feeds.
 */
int
poller_configure(struct poller *p, const struct config *cf, char **cause)
{
	struct poller_feeds added, kept;
	struct poller_feed *f, *old;
	const struct config_feed *c;
	char *shown;
	size_t i;

	TAILQ_INIT(&added);
	TAILQ_INIT(&kept);
	for (i = 0; i < cf->nfeeds; i++) {
		c = cf->feeds[i];
		if (poller_find(p, c->id) != NULL)
			continue;
		f = xcalloc(1, sizeof *f);
		f->p = p;
		f->id = xstrdup(c->id);
		f->url = xstrdup(c->url);
		f->host = poller_host(c->url);
		poller_feed_set(f, c);
		f->timer = evtimer_new(p->base, poller_timer_cb, f);
		if (f->timer == NULL)
			fatalx("feeds: cannot create a timer event");
		TAILQ_INSERT_TAIL(&added, f, entry);
		if ((f->seen = seen_load(p->dir, f->id, cause)) == NULL)
			goto fail;
		/* Reported before a restart: recovery is still news. */
		f->failing = seen_failures(f->seen) >= f->health_after;
	}

	p->max_size = (size_t)cf->daemon.max_document_size;
	for (i = 0; i < cf->nfeeds; i++) {
		c = cf->feeds[i];
		if ((old = poller_find(p, c->id)) == NULL) {
			f = TAILQ_FIRST(&added);
			TAILQ_REMOVE(&added, f, entry);
			TAILQ_INSERT_TAIL(&kept, f, entry);
			if (!p->stopped)
				poller_feed_first(f);
			continue;
		}
		TAILQ_REMOVE(&p->feeds, old, entry);
		TAILQ_INSERT_TAIL(&kept, old, entry);
		poller_feed_set(old, c);
		if (strcmp(old->url, c->url) == 0)
			continue;
		/* Not the whole URL: it may hold a password or a token. */
		shown = url_redact(c->url);
		log_info("feed %s: url changed: polling %s", old->id,
		    shown != NULL ? shown : "the new one");
		free(shown);
		poller_feed_idle(old);
		free(old->url);
		free(old->host);
		old->url = xstrdup(c->url);
		old->host = poller_host(c->url);
		/* The old server's validators mean nothing to the new one. */
		seen_set_validators(old->seen, NULL, NULL);
		if (!p->stopped)
			poller_feed_first(old);
	}
	while ((f = TAILQ_FIRST(&p->feeds)) != NULL) {
		TAILQ_REMOVE(&p->feeds, f, entry);
		log_info("feed %s: no longer configured", f->id);
		poller_feed_free(f);
	}
	TAILQ_CONCAT(&p->feeds, &kept, entry);
	/* Dropped or moved feeds may have freed slots. */
	poller_run_queue(p);
	return 0;

fail:
	while ((f = TAILQ_FIRST(&added)) != NULL) {
		TAILQ_REMOVE(&added, f, entry);
		poller_feed_free(f);
	}
	return -1;
}

int
poller_status(
    const struct poller *p, const char *feed_id, struct poller_status *st)
{
	const struct poller_feed *f;

	if ((f = poller_find(p, feed_id)) == NULL)
		return -1;
	st->failures = seen_failures(f->seen);
	st->error = f->error;
	st->polls = f->polls;
	st->not_modified = f->not_modified;
	st->entries = f->entries;
	return 0;
}
