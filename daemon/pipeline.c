/*
 * One document through the pipeline.  See pipeline.h.
 *
 * Batches.  pipeline_document() only stages alerts in the spool; the input
 * calls pipeline_commit() once for a batch of documents, so the spool makes
 * them durable together.  Until then nothing of the batch is final: the
 * stories to remember (dedup) wait in a list of their own, checked as well
 * so that a story twice in one batch alerts once, and the throttle records
 * and counters the batch changed keep their old values aside.  A failed
 * commit puts those back, so that the documents, tried again, alert as if
 * for the first time.
 */
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "clock.h"
#include "dedup.h"
#include "log.h"
#include "pipeline.h"
#include "rule.h"
#include "spool.h"
#include "watchlist.h"
#include "webhook.h"
#include "xmalloc.h"

/*
 * When a rule last alerted for an input (monotonic: a wall clock that jumps
 * back must not hold a window shut, nor one that jumps forward open it),
 * and what was held back since.
 */
struct pipeline_throttle {
	char *rule;
	char *input;
	int64_t last_ms;
	uint32_t suppressed;
};

/* A throttle record as it was before the batch changed it. */
struct pipeline_undo {
	size_t i; /* in pipeline.throttles */
	int64_t last_ms;
	uint32_t suppressed;
};

/* A rule that holds for a document, and the entries that made it hold. */
struct pipeline_fired {
	const struct rule *r;
	uint32_t *entries;
	size_t nentries;
};

/* Alerts staged at most before a commit: each holds a file open until it. */
#define PIPELINE_STAGE_MAX 64

struct pipeline {
	const struct config *cf;
	struct spool *spool;
	struct webhooks *ws;
	struct dedup *dedup;
	struct pipeline_throttle *throttles;
	size_t nthrottles;
	struct watchlist_hits hits;
	struct buf body;
	struct buf line;
	struct pipeline_stats stats;

	/* The batch since the last commit. */
	int batch;                  /* a document came since */
	int staged;                 /* alerts were staged since */
	struct pipeline_stats kept; /* stats before the batch */
	struct pipeline_undo *undo;
	size_t nundo;
	struct dedup_keys *stories; /* to remember once durable */
	size_t nstories;
	struct buf notes; /* log lines for when the alerts are durable */

	struct pipeline_fired *fired; /* the document's, reused */
	size_t fired_cap;
};

struct pipeline *
pipeline_new(struct spool *sp, struct webhooks *ws, struct dedup *dd)
{
	struct pipeline *pl;

	pl = xcalloc(1, sizeof *pl);
	pl->spool = sp;
	pl->ws = ws;
	pl->dedup = dd;
	watchlist_hits_init(&pl->hits);
	buf_init(&pl->body);
	buf_init(&pl->line);
	buf_init(&pl->notes);
	return pl;
}

void
pipeline_free(struct pipeline *pl)
{
	size_t i;

	if (pl == NULL)
		return;
	for (i = 0; i < pl->nthrottles; i++) {
		free(pl->throttles[i].rule);
		free(pl->throttles[i].input);
	}
	free(pl->throttles);
	free(pl->undo);
	free(pl->stories);
	free(pl->fired);
	watchlist_hits_release(&pl->hits);
	buf_release(&pl->body);
	buf_release(&pl->line);
	buf_release(&pl->notes);
	free(pl);
}

/*
 * Throttle state survives reloads (keyed by rule id), so that editing the
 * watchlist does not reopen every window.
 */
void
pipeline_set_config(struct pipeline *pl, const struct config *cf)
{
	pl->cf = cf;
}

const struct pipeline_stats *
pipeline_stats(const struct pipeline *pl)
{
	return &pl->stats;
}

/* The throttle record of a rule and input; a few rules and inputs, so a
 * linear search. */
static struct pipeline_throttle *
pipeline_throttle(struct pipeline *pl, const char *rule, const char *input)
{
	struct pipeline_throttle *t;
	size_t i;

	for (i = 0; i < pl->nthrottles; i++) {
		t = &pl->throttles[i];
		if (strcmp(t->rule, rule) == 0 && strcmp(t->input, input) == 0)
			return t;
	}
	pl->throttles = xreallocarray(
	    pl->throttles, pl->nthrottles + 1, sizeof *pl->throttles);
	t = &pl->throttles[pl->nthrottles++];
	t->rule = xstrdup(rule);
	t->input = xstrdup(input);
	t->last_ms = INT64_MIN;
	t->suppressed = 0;
	return t;
}

/* Keep t as it is now, if the batch has not changed it yet. */
static void
pipeline_throttle_keep(struct pipeline *pl, const struct pipeline_throttle *t)
{
	size_t i, at = (size_t)(t - pl->throttles);

	for (i = 0; i < pl->nundo; i++) {
		if (pl->undo[i].i == at)
			return;
	}
	pl->undo = xreallocarray(pl->undo, pl->nundo + 1, sizeof *pl->undo);
	pl->undo[pl->nundo].i = at;
	pl->undo[pl->nundo].last_ms = t->last_ms;
	pl->undo[pl->nundo].suppressed = t->suppressed;
	pl->nundo++;
}

/* A new batch begins with this document: keep the counters. */
static void
pipeline_batch_begin(struct pipeline *pl)
{
	if (pl->batch)
		return;
	pl->batch = 1;
	pl->kept = pl->stats;
}

static void
pipeline_batch_end(struct pipeline *pl)
{
	pl->batch = 0;
	pl->staged = 0;
	pl->nundo = 0;
	pl->nstories = 0;
	buf_reset(&pl->notes);
}

/* Whether one of the batch's stories has one of k's keys. */
static int
pipeline_batch_seen(
    const struct pipeline *pl, const struct dedup_keys *k, const char **which)
{
	const struct dedup_keys *s;
	size_t i;

	for (i = 0; i < pl->nstories; i++) {
		s = &pl->stories[i];
		if (k->link[0] != '\0' && strcmp(s->link, k->link) == 0) {
			*which = "link";
			return 1;
		}
		if (k->text[0] != '\0' && strcmp(s->text, k->text) == 0) {
			*which = "text";
			return 1;
		}
	}
	return 0;
}

int
pipeline_commit(struct pipeline *pl, int64_t now_ms, char **cause)
{
	char *why = NULL, *line, *save = NULL;
	size_t i;

	if (!pl->batch)
		return 0;
	if (spool_commit(pl->spool, cause) != 0) {
		for (i = 0; i < pl->nundo; i++) {
			pl->throttles[pl->undo[i].i].last_ms =
			    pl->undo[i].last_ms;
			pl->throttles[pl->undo[i].i].suppressed =
			    pl->undo[i].suppressed;
		}
		pl->stats = pl->kept;
		pipeline_batch_end(pl);
		return -1;
	}
	if (pl->notes.len > 0) {
		for (line = strtok_r(pl->notes.data, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			log_info("%s", line);
	}
	/* Remembered only once their alerts are durable: a failure here
	 * costs at worst a repeat alert, never a lost one. */
	if (pl->dedup != NULL && pl->nstories > 0) {
		for (i = 0; i < pl->nstories; i++)
			dedup_add(pl->dedup, &pl->stories[i], now_ms);
		if (dedup_flush(pl->dedup, now_ms, &why) != 0) {
			log_warnx("%s", why);
			free(why);
		}
	}
	if (pl->staged)
		webhooks_kick(pl->ws);
	pipeline_batch_end(pl);
	return 0;
}
/*
 * Spool alert a for every webhook it routes to (every webhook at all when
 * everyone is set); with no webhook, log it.  Returns -1 with *cause when a
 * spool write failed.
 */
static int
pipeline_route(struct pipeline *pl, const struct rule *r, struct alert *a,
    int everyone, char **cause)
{
	const struct config_webhook *wh;
	size_t i, routed = 0;

	if (pl->cf->nwebhooks == 0) {
		buf_reset(&pl->line);
		alert_log_line(a, &pl->line);
		log_notice("%s", pl->line.data);
		return 0;
	}
	for (i = 0; i < pl->cf->nwebhooks; i++) {
		wh = pl->cf->webhooks[i];
		if (!everyone && !webhooks_routes(wh, r, a->severity))
			continue;
		/* Bounded: each staged file is open until the commit. */
		if (spool_staged(pl->spool) >= PIPELINE_STAGE_MAX &&
		    pipeline_commit(pl, a->time_ms, cause) != 0)
			return -1;
		pipeline_batch_begin(pl);
		buf_reset(&pl->body);
		webhook_render(wh->format, a, &pl->body);
		if (spool_stage(pl->spool, wh->id, a->id, a->time_ms,
		        pl->body.data, pl->body.len, cause) != 0)
			return -1;
		pl->staged = 1;
		routed++;
	}
	if (routed == 0)
		log_info("alert %s (rule %s, %s) goes to no webhook: check "
		         "notify and min_severity",
		    a->id, a->rule, rule_severity_name(a->severity));
	else
		buf_printf(&pl->notes,
		    "alert %s (rule %s) spooled for %zu webhook%s\n", a->id,
		    a->rule, routed, routed == 1 ? "" : "s");
	return 0;
}

int
pipeline_document(struct pipeline *pl, const struct doc *d,
    const struct alert_source *src, const char *input, int64_t now_ms,
    char **cause)
{
	const struct config *cf = pl->cf;
	struct pipeline_throttle *t;
	struct pipeline_fired *f;
	struct rule_input *in;
	struct alert *a;
	uint32_t *entries;
	size_t i, nentries, nfired = 0;
	char sha256[65];
	struct dedup_keys keys;
	const char *which;
	int64_t age = 0, mono_ms = clock_monotonic_ms();
	int rc = 0, spooled = 0;

	pipeline_batch_begin(pl);
	pl->stats.documents++;
	watchlist_scan(cf->wl, d->text, d->textlen, &pl->hits);
	if (pl->hits.n == 0)
		return 0;
	/* The rules first: most documents with hits fire none, and then need
	 * neither their story keys nor their digest, which cost another pass
	 * over the text each. */
	in = rule_input_new(cf->wl, &pl->hits);
	for (i = 0; i < cf->nrules; i++) {
		if (!rule_expr_eval(
		        cf->rules[i]->expr, in, &entries, &nentries))
			continue;
		if (nfired == pl->fired_cap) {
			pl->fired_cap = pl->fired_cap ? pl->fired_cap * 2 : 8;
			pl->fired = xreallocarray(
			    pl->fired, pl->fired_cap, sizeof *pl->fired);
		}
		f = &pl->fired[nfired++];
		f->r = cf->rules[i];
		f->entries = entries;
		f->nentries = nentries;
	}
	rule_input_free(in);
	if (nfired == 0)
		return 0;
	/* A story that alerted lately, from any input, alerts no more. */
	if (pl->dedup != NULL) {
		dedup_keys_make(d, &keys);
		if (dedup_seen(pl->dedup, &keys, now_ms, &which, &age) ||
		    pipeline_batch_seen(pl, &keys, &which)) {
			pl->stats.repeats++;
			log_info(
			    "%s: the same story (same %s) came %lld s ago: "
			    "no alert",
			    input, which, (long long)(age / 1000));
			goto out;
		}
	}
	alert_sha256_hex(d->raw, d->rawlen, sha256);
	for (i = 0; i < nfired && rc == 0; i++) {
		f = &pl->fired[i];
		t = pipeline_throttle(pl, f->r->id, input);
		if (f->r->throttle_ms > 0 && t->last_ms != INT64_MIN &&
		    mono_ms - t->last_ms < f->r->throttle_ms) {
			pipeline_throttle_keep(pl, t);
			t->suppressed++;
			pl->stats.throttled++;
			log_info(
			    "rule %s on %s: throttled (%u held back in this "
			    "window)",
			    f->r->id, input, t->suppressed);
			continue;
		}
		a = alert_new(f->r, cf->wl, d->text, d->textlen, &pl->hits,
		    f->entries, f->nentries, src, sha256, d->rawlen, now_ms);
		a->suppressed = t->suppressed;
		if (pipeline_route(pl, f->r, a, 0, cause) != 0)
			rc = -1;
		else {
			/* Only a durable alert opens a new window: a failed
			 * commit closes it again. */
			if (a->suppressed > 0)
				log_info("rule %s on %s: alert %s carries %u "
				         "throttled before it",
				    f->r->id, input, a->id, a->suppressed);
			/* After the route: it may have committed. */
			pipeline_throttle_keep(pl, t);
			t->last_ms = mono_ms;
			t->suppressed = 0;
			pl->stats.alerts++;
			pl->stats.last_alert_ms = now_ms;
			memcpy(pl->stats.last_alert, a->id,
			    sizeof pl->stats.last_alert);
			spooled++;
		}
		alert_free(a);
	}
	if (spooled > 0 && rc == 0 && pl->dedup != NULL) {
		pl->stories = xreallocarray(
		    pl->stories, pl->nstories + 1, sizeof *pl->stories);
		pl->stories[pl->nstories++] = keys;
	}
out:
	for (i = 0; i < nfired; i++)
		free(pl->fired[i].entries);
	return rc;
}

int
pipeline_health(struct pipeline *pl, const char *feed_id, const char *url,
    int failing, const char *why, int64_t now_ms, char **cause)
{
	struct alert *a;
	int rc;

	pipeline_batch_begin(pl);
	a = alert_health_new(feed_id, url, failing, why, now_ms);
	/* An operator must hear that a source went dark, whatever the
	 * webhook's min_severity. */
	rc = pipeline_route(pl, NULL, a, 1, cause);
	alert_free(a);
	return rc;
}
