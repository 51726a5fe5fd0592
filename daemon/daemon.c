/*
 * The daemon: one libevent loop that owns everything.
 *
 * Start-up: load and check the configuration, open the spool (recovering
 * what a previous run left), start HTTP and the webhooks (which begin
 * delivering the recovered alerts at once), then the inbox: its watch, the
 * files a crash left claimed, the backlog.  Then READY=1.
 *
 * Signals are libevent events, so their handlers may do anything.  SIGHUP
 * loads the new configuration in a thread (a 150,000-alias gazetteer takes
 * a noticeable fraction of a second) while the loop goes on; the loop swaps
 * it in only if it is valid, and refuses a second SIGHUP meanwhile.  The old
 * configuration is freed after the swap: nothing else keeps pointers into
 * it (alerts own copies, the webhooks keep their own settings).
 *
 * SIGTERM or SIGINT: stop taking inbox files, start no new deliveries, let
 * those in flight finish for up to shutdown_timeout, then exit 0.  What did
 * not finish stays in the spool for the next start.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "daemon.h"
#include "dedup.h"
#include "http.h"
#include "inbox.h"
#include "log.h"
#include "notify.h"
#include "pipeline.h"
#include "poller.h"
#include "spool.h"
#include "text.h"
#include "webhook.h"
#include "xmalloc.h"

/* The housekeeping tick. */
#define DAEMON_TICK_MS 1000
/* The loop counts as healthy (for the watchdog) if a tick ran this
 * recently. */
#define DAEMON_HEALTHY_MS 5000
/* Files whose fsync may wait (processed/, the dedup record) are fsync'ed
 * this long after a commit, once for all that came meanwhile. */
#define DAEMON_SYNC_MS 50
/* Event priorities: libevent gives every event the middle one. */
#define DAEMON_PRIORITIES 3

struct daemon {
	struct event_base *base;
	const char *config_path;
	struct config *cf;
	char *inbox_dir; /* fixed at start: a change needs a restart */
	char *state_dir;

	struct spool *spool;
	struct http *http;
	struct webhooks *ws;
	struct pipeline *pl;
	struct inbox *inbox;
	struct poller *poller;
	struct dedup *dedup;

	struct event *ev_term;
	struct event *ev_int;
	struct event *ev_hup;
	struct event *ev_tick;
	struct event *ev_watchdog;
	struct event *ev_reloaded;
	struct event *ev_sync;

	int reload_pipe[2];
	pthread_t reload_thread;
	int reloading;

	int stopping;
	int stopped; /* the loop was told to exit */
	int64_t stop_deadline_ms;
	int64_t last_tick_ms;
	int spool_full_logged;
	char status[256];
};

/* Log every diagnostic of a configuration, one log line each. */
static void
daemon_log_diags(const struct config *cf)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&text, &len)) == NULL)
		return;
	config_print_diags(cf, fp);
	fclose(fp);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		log_warnx("%s", line);
	free(text);
}

/* The inbox's document callback: into the pipeline. */
static int
daemon_inbox_doc(const struct doc *d, const char *path, const char *name,
    void *arg, char **cause)
{
	struct daemon *dm = arg;
	struct alert_source src;
	int rc;

	memset(&src, 0, sizeof src);
	src.type = ALERT_SOURCE_INBOX;
	src.path = path;
	src.name = name;
	src.title = d->title;
	src.link = d->link;
	src.published = d->published;
	rc = pipeline_document(dm->pl, d, &src, "inbox", clock_now_ms(), cause);
	/* Back-pressure at once, not at the next tick: a burst of large
	 * documents would otherwise run past the cap. */
	if (spool_full(dm->spool))
		inbox_pause(dm->inbox, INBOX_PAUSE_SPOOL);
	return rc;
}

/*
 * What a commit leaves to fsync later: the files moved to processed/, the
 * stories written to the dedup record, the deliveries removed from the
 * spool.  Each costs at worst a repeat (see inbox.c, dedup.h, spool.h) if
 * a crash comes first, never a lost alert.
 */
static void
daemon_sync(struct daemon *dm)
{
	inbox_sync(dm->inbox);
	dedup_sync(dm->dedup);
	spool_sync(dm->spool);
}

static void
daemon_sync_cb(evutil_socket_t fd, short what, void *arg)
{
	daemon_sync(arg);
}

static void
daemon_sync_soon(struct daemon *dm)
{
	struct timeval tv = {0, DAEMON_SYNC_MS * 1000};

	if (!evtimer_pending(dm->ev_sync, NULL))
		evtimer_add(dm->ev_sync, &tv);
}

/*
 * Make the alerts staged since the last commit durable, then leave the
 * rest to daemon_sync() and stop taking files if the spool is now full.
 */
static int
daemon_commit(struct daemon *dm, int64_t now, char **cause)
{
	int rc;

	rc = pipeline_commit(dm->pl, now, cause);
	daemon_sync_soon(dm);
	if (spool_full(dm->spool))
		inbox_pause(dm->inbox, INBOX_PAUSE_SPOOL);
	return rc;
}

/*
 * The commit after a single document or alert whose pipeline call returned
 * rc: what was staged before a failure is committed all the same
 * (pipeline.h), and the failure is what the caller hears of.
 */
static int
daemon_commit_one(struct daemon *dm, int rc, int64_t now, char **cause)
{
	char *more = NULL;

	if (rc == 0)
		return daemon_commit(dm, now, cause);
	if (daemon_commit(dm, now, &more) != 0)
		free(more);
	return rc;
}

/* The end of a batch of inbox documents. */
static int
daemon_inbox_commit(void *arg, char **cause)
{
	return daemon_commit(arg, clock_now_ms(), cause);
}

/*
 * A new feed entry: into the pipeline, as input "feed:ID", committed at
 * once (the poller remembers the entry as seen when this returns 0).
 */
static int
daemon_feed_entry(const struct doc *d, const struct alert_source *src,
    void *arg, char **cause)
{
	struct daemon *dm = arg;
	char input[256];
	int64_t now = clock_now_ms();
	int rc;

	snprintf(input, sizeof input, "feed:%s", src->feed);
	rc = pipeline_document(dm->pl, d, src, input, now, cause);
	return daemon_commit_one(dm, rc, now, cause);
}

/* A feed started failing, or works again. */
static void
daemon_feed_health(const char *feed_id, int failing, const char *why, void *arg)
{
	struct daemon *dm = arg;
	const char *url = NULL;
	char *cause = NULL;
	int64_t now;
	int health_after = POLLER_HEALTH_FAILURES, rc;
	size_t i;

	for (i = 0; i < dm->cf->nfeeds; i++) {
		if (strcmp(dm->cf->feeds[i]->id, feed_id) == 0) {
			url = dm->cf->feeds[i]->url;
			health_after = dm->cf->feeds[i]->health_after;
		}
	}
	now = clock_now_ms();
	rc = pipeline_health(dm->pl, feed_id, url, failing, why, now, &cause);
	if (daemon_commit_one(dm, rc, now, &cause) != 0) {
		log_errorx("feed %s: the health alert could not be spooled: %s",
		    feed_id, cause);
		free(cause);
	}
	if (failing)
		log_errorx("feed %s: failing %d times in a row: %s", feed_id,
		    health_after, why);
	else
		log_notice("feed %s: works again", feed_id);
}

/* STATUS= for systemctl status: where we are and what we did last. */
static void
daemon_status(struct daemon *dm, int force)
{
	const struct pipeline_stats *ps = pipeline_stats(dm->pl);
	const struct inbox_stats *is = inbox_stats(dm->inbox);
	char status[256], when[32] = "none";

	if (ps->last_alert_ms != 0) {
		time_t t = (time_t)(ps->last_alert_ms / 1000);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	snprintf(status, sizeof status,
	    "inbox %s: %llu processed, %llu failed%s; %zu feeds; spool %zu "
	    "pending, %zu in flight; %llu alerts, last %s",
	    dm->inbox_dir, (unsigned long long)is->processed,
	    (unsigned long long)is->failed,
	    inbox_paused(dm->inbox) & INBOX_PAUSE_SPOOL
	        ? " (paused: spool full)"
	        : "",
	    dm->cf->nfeeds, spool_count(dm->spool), webhooks_inflight(dm->ws),
	    (unsigned long long)ps->alerts, when);
	if (force || strcmp(status, dm->status) != 0) {
		snprintf(dm->status, sizeof dm->status, "%s", status);
		notify_send("STATUS=%s", status);
	}
}

static void
daemon_stop_now(struct daemon *dm)
{
	size_t left = spool_count(dm->spool);

	if (dm->stopped)
		return;
	dm->stopped = 1;
	if (webhooks_inflight(dm->ws) > 0)
		log_notice("stopping with %zu deliveries in flight; they stay "
		           "in the spool",
		    webhooks_inflight(dm->ws));
	log_notice("stopped; %zu alert deliver%s pending in the spool", left,
	    left == 1 ? "y" : "ies");
	event_base_loopexit(dm->base, NULL);
}

/* Back-pressure, shutdown progress, status: once a second. */
static void
daemon_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *dm = arg;

	dm->last_tick_ms = clock_monotonic_ms();
	/* What no commit has fsync'ed since: deliveries removed from the
	 * spool, mostly. */
	daemon_sync(dm);
	if (dm->stopping) {
		if (webhooks_inflight(dm->ws) == 0 ||
		    clock_monotonic_ms() >= dm->stop_deadline_ms)
			daemon_stop_now(dm);
		return;
	}
	if (spool_full(dm->spool)) {
		if (!dm->spool_full_logged)
			log_warnx("spool full (%llu bytes in %zu alerts, "
			          "spool_max_size reached): not taking inbox "
			          "files until deliveries free space",
			    (unsigned long long)spool_bytes(dm->spool),
			    spool_count(dm->spool));
		dm->spool_full_logged = 1;
		inbox_pause(dm->inbox, INBOX_PAUSE_SPOOL);
	} else if (inbox_paused(dm->inbox) & INBOX_PAUSE_SPOOL) {
		log_notice("spool has room again: taking inbox files");
		dm->spool_full_logged = 0;
		inbox_resume(dm->inbox, INBOX_PAUSE_SPOOL);
	}
	daemon_status(dm, 0);
}

/* Ping the watchdog only while the loop is turning. */
static void
daemon_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *dm = arg;

	if (clock_monotonic_ms() - dm->last_tick_ms < DAEMON_HEALTHY_MS)
		notify_send("WATCHDOG=1");
}

static void
daemon_terminate_cb(evutil_socket_t sig, short what, void *arg)
{
	struct timeval stop_tick = {0, 50 * 1000};
	struct daemon *dm = arg;

	if (dm->stopping) {
		log_notice("signal %d again: stopping now", (int)sig);
		daemon_stop_now(dm);
		return;
	}
	log_notice("signal %d: stopping (deliveries in flight get %lld ms)",
	    (int)sig, (long long)dm->cf->daemon.shutdown_timeout_ms);
	notify_send("STOPPING=1");
	dm->stopping = 1;
	dm->stop_deadline_ms =
	    clock_monotonic_ms() + dm->cf->daemon.shutdown_timeout_ms;
	/* Notice the last delivery (or the deadline) within 50 ms, not at
	 * the next one-second tick. */
	event_del(dm->ev_tick);
	event_add(dm->ev_tick, &stop_tick);
	inbox_pause(dm->inbox, INBOX_PAUSE_STOP);
	poller_stop(dm->poller);
	webhooks_stop(dm->ws);
	if (webhooks_inflight(dm->ws) == 0)
		daemon_stop_now(dm);
}

/* The reload thread: only config_load(), which touches nothing shared. */
static void *
daemon_reload_main(void *arg)
{
	struct daemon *dm = arg;
	struct config *cf;

	cf = config_load(dm->config_path);
	if (write(dm->reload_pipe[1], &cf, sizeof cf) != sizeof cf)
		fatal("reload: write to the loop");
	return NULL;
}

static void
daemon_hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *dm = arg;
	int error;

	if (dm->stopping)
		return;
	if (dm->reloading) {
		log_warnx("SIGHUP: a reload is already running: refused");
		return;
	}
	log_notice("SIGHUP: reloading %s", dm->config_path);
	notify_reloading();
	dm->reloading = 1;
	error =
	    pthread_create(&dm->reload_thread, NULL, daemon_reload_main, dm);
	if (error != 0) {
		log_warnx("reload: pthread_create: %s", strerror(error));
		dm->reloading = 0;
		notify_send("READY=1");
	}
}

/* Swap in cf if it is valid; free whichever configuration is not kept. */
static void
daemon_apply(struct daemon *dm, struct config *cf)
{
	char *cause = NULL;

	if (cf->nerrors > 0) {
		daemon_log_diags(cf);
		log_errorx(
		    "reload failed: %zu error%s in %s; still running the "
		    "previous configuration",
		    cf->nerrors, cf->nerrors == 1 ? "" : "s", dm->config_path);
		config_free(cf);
		return;
	}
	if (webhooks_configure(dm->ws, cf, &cause) != 0) {
		log_errorx("reload failed: %s; still running the previous "
		           "configuration",
		    cause);
		free(cause);
		config_free(cf);
		return;
	}
	if (cf->nwarnings > 0)
		daemon_log_diags(cf);
	if (strcmp(cf->daemon.inbox, dm->inbox_dir) != 0 ||
	    strcmp(cf->daemon.state_dir, dm->state_dir) != 0)
		log_warnx("reload: inbox and state_dir keep their old values "
		          "until watchlistd is restarted");
	if (poller_configure(dm->poller, cf, &cause) != 0) {
		log_errorx(
		    "reload: feeds keep their previous settings: %s", cause);
		free(cause);
		cause = NULL;
	}
	pipeline_set_config(dm->pl, cf);
	inbox_configure(dm->inbox, cf->daemon.max_document_size,
	    cf->daemon.processed == CONFIG_PROCESSED_DELETE);
	spool_set_max(dm->spool, cf->daemon.spool_max_size);
	dedup_set_window(dm->dedup, cf->daemon.dedup_window_ms);
	log_set_level((enum log_level)cf->daemon.log_level);
	config_free(dm->cf);
	dm->cf = cf;
	log_notice("reloaded: %zu entries, %zu rules, %zu webhooks",
	    watchlist_count(cf->wl), cf->nrules, cf->nwebhooks);
	webhooks_kick(dm->ws);
}

static void
daemon_reloaded_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *dm = arg;
	struct config *cf;

	if (read(fd, &cf, sizeof cf) != sizeof cf)
		return;
	pthread_join(dm->reload_thread, NULL);
	dm->reloading = 0;
	daemon_apply(dm, cf);
	notify_send("READY=1");
	daemon_status(dm, 1);
}

/* Everything the loop needs, in the order the data flows backwards:
 * where alerts go must exist before anything can make one. */
static int
daemon_start(struct daemon *dm)
{
	struct timeval tick = {DAEMON_TICK_MS / 1000, 0};
	struct timeval wd;
	uint64_t wd_usec;
	char *cause = NULL, *spool_dir, *dedup_path;

	dm->inbox_dir = xstrdup(dm->cf->daemon.inbox);
	dm->state_dir = xstrdup(dm->cf->daemon.state_dir);
	if (mkdir(dm->state_dir, 0750) == -1 && errno != EEXIST) {
		log_warn("mkdir %s", dm->state_dir);
		return -1;
	}
	spool_dir = xasprintf("%s/spool", dm->state_dir);
	dm->spool =
	    spool_open(spool_dir, dm->cf->daemon.spool_max_size, &cause);
	free(spool_dir);
	if (dm->spool == NULL)
		goto fail;
	if (spool_count(dm->spool) > 0)
		log_notice("spool: %zu alert deliveries from before: "
		           "delivering them now",
		    spool_count(dm->spool));
	if ((dm->http = http_new(dm->base, &cause)) == NULL)
		goto fail;
	dm->ws = webhooks_new(dm->base, dm->http, dm->spool);
	if (webhooks_configure(dm->ws, dm->cf, &cause) != 0)
		goto fail;
	dedup_path = xasprintf("%s/dedup", dm->state_dir);
	dm->dedup = dedup_open(
	    dedup_path, dm->cf->daemon.dedup_window_ms, clock_now_ms(), &cause);
	free(dedup_path);
	if (dm->dedup == NULL)
		goto fail;
	dm->pl = pipeline_new(dm->spool, dm->ws, dm->dedup);
	pipeline_set_config(dm->pl, dm->cf);
	dm->inbox = inbox_new(dm->base, dm->inbox_dir, dm->state_dir,
	    daemon_inbox_doc, daemon_inbox_commit, dm, &cause);
	if (dm->inbox == NULL)
		goto fail;
	inbox_configure(dm->inbox, dm->cf->daemon.max_document_size,
	    dm->cf->daemon.processed == CONFIG_PROCESSED_DELETE);
	dm->poller = poller_new(dm->base, dm->http, dm->state_dir,
	    daemon_feed_entry, daemon_feed_health, dm);
	if (poller_configure(dm->poller, dm->cf, &cause) != 0)
		goto fail;

	if (pipe2(dm->reload_pipe, O_CLOEXEC) == -1) {
		log_warn("pipe2");
		return -1;
	}
	dm->ev_reloaded = event_new(dm->base, dm->reload_pipe[0],
	    EV_READ | EV_PERSIST, daemon_reloaded_cb, dm);
	event_add(dm->ev_reloaded, NULL);
	dm->ev_term = evsignal_new(dm->base, SIGTERM, daemon_terminate_cb, dm);
	dm->ev_int = evsignal_new(dm->base, SIGINT, daemon_terminate_cb, dm);
	dm->ev_hup = evsignal_new(dm->base, SIGHUP, daemon_hup_cb, dm);
	evsignal_add(dm->ev_term, NULL);
	evsignal_add(dm->ev_int, NULL);
	evsignal_add(dm->ev_hup, NULL);
	dm->ev_sync = evtimer_new(dm->base, daemon_sync_cb, dm);
	dm->ev_tick = event_new(dm->base, -1, EV_PERSIST, daemon_tick_cb, dm);
	event_add(dm->ev_tick, &tick);
	dm->last_tick_ms = clock_monotonic_ms();
	if ((wd_usec = notify_watchdog_usec()) > 0) {
		wd.tv_sec = (time_t)(wd_usec / 2 / 1000000);
		wd.tv_usec = (suseconds_t)(wd_usec / 2 % 1000000);
		dm->ev_watchdog =
		    event_new(dm->base, -1, EV_PERSIST, daemon_watchdog_cb, dm);
		event_add(dm->ev_watchdog, &wd);
	}

	if (inbox_start(dm->inbox, &cause) != 0)
		goto fail;
	webhooks_kick(dm->ws);
	return 0;
fail:
	log_errorx("start-up failed: %s", cause);
	free(cause);
	return -1;
}

static void
daemon_free(struct daemon *dm)
{
	struct event **evs[] = {&dm->ev_term, &dm->ev_int, &dm->ev_hup,
	    &dm->ev_tick, &dm->ev_watchdog, &dm->ev_reloaded, &dm->ev_sync};
	size_t i;

	if (dm->reloading)
		pthread_join(dm->reload_thread, NULL);
	for (i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		if (*evs[i] != NULL)
			event_free(*evs[i]);
	}
	poller_free(dm->poller);
	inbox_free(dm->inbox);
	pipeline_free(dm->pl);
	dedup_close(dm->dedup);
	webhooks_free(dm->ws);
	http_free(dm->http);
	spool_close(dm->spool);
	if (dm->reload_pipe[0] > 0) {
		close(dm->reload_pipe[0]);
		close(dm->reload_pipe[1]);
	}
	config_free(dm->cf);
	free(dm->inbox_dir);
	free(dm->state_dir);
	if (dm->base != NULL)
		event_base_free(dm->base);
}

int
daemon_run(const char *config_path)
{
	struct daemon dm;
	int rc = 1;

	memset(&dm, 0, sizeof dm);
	dm.config_path = config_path;
	log_daemon();
	notify_init();
	signal(SIGPIPE, SIG_IGN);

	dm.cf = config_load(config_path);
	if (dm.cf->nerrors > 0) {
		config_print_diags(dm.cf, stderr);
		log_errorx("%zu error%s in configuration: not starting",
		    dm.cf->nerrors, dm.cf->nerrors == 1 ? "" : "s");
		goto out;
	}
	if (dm.cf->nwarnings > 0)
		daemon_log_diags(dm.cf);
	log_set_level((enum log_level)dm.cf->daemon.log_level);
	if ((dm.base = event_base_new()) == NULL) {
		log_warnx("event_base_new failed");
		goto out;
	}
	/* Three priorities, so that the inbox's backlog can run below the
	 * rest (inbox.c); every other event keeps the middle one. */
	if (event_base_priority_init(dm.base, DAEMON_PRIORITIES) == -1) {
		log_warnx("event_base_priority_init failed");
		goto out;
	}
	if (daemon_start(&dm) != 0)
		goto out;

	log_notice("watchlistd %s started: inbox %s, %zu entries, %zu rules, "
	           "%zu feeds, %zu webhooks%s",
	    WATCHLISTD_VERSION, dm.inbox_dir, watchlist_count(dm.cf->wl),
	    dm.cf->nrules, dm.cf->nfeeds, dm.cf->nwebhooks,
	    dm.cf->nwebhooks == 0 ? " (alerts go to this log)" : "");
	notify_send("READY=1");
	daemon_status(&dm, 1);
	if (event_base_dispatch(dm.base) == -1)
		log_warnx("event loop failed");
	else
		rc = 0;
out:
	daemon_free(&dm);
	notify_close();
	return rc;
}
