/*
 * One document through the pipeline.  See pipeline.h.
 */
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "dedup.h"
#include "log.h"
#include "pipeline.h"
#include "rule.h"
#include "spool.h"
#include "watchlist.h"
#include "webhook.h"
#include "xmalloc.h"

/* When a rule last alerted for an input, and what was held back since. */
struct pipeline_throttle {
	char *rule;
	char *input;
	int64_t last_ms;
	uint32_t suppressed;
};

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
	watchlist_hits_release(&pl->hits);
	buf_release(&pl->body);
	buf_release(&pl->line);
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
		buf_reset(&pl->body);
		webhook_render(wh->format, a, &pl->body);
		if (spool_put(pl->spool, wh->id, a->id, a->time_ms,
		        pl->body.data, pl->body.len, cause) != 0)
			return -1;
		routed++;
	}
	if (routed == 0)
		log_info("alert %s (rule %s, %s) goes to no webhook: check "
		         "notify and min_severity",
		    a->id, a->rule, rule_severity_name(a->severity));
	else
		log_info("alert %s (rule %s) spooled for %zu webhook%s", a->id,
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
	struct rule_input *in;
	struct alert *a;
	const struct rule *r;
	uint32_t *entries;
	size_t i, nentries;
	char sha256[65], *why = NULL;
	struct dedup_keys keys;
	const char *which;
	int64_t age;
	int rc = 0, spooled = 0;

	pl->stats.documents++;
	watchlist_scan(cf->wl, d->text, d->textlen, &pl->hits);
	if (pl->hits.n == 0)
		return 0;
	/* A story that alerted lately, from any input, alerts no more. */
	if (pl->dedup != NULL) {
		dedup_keys_make(d, &keys);
		if (dedup_seen(pl->dedup, &keys, now_ms, &which, &age)) {
			pl->stats.repeats++;
			log_info(
			    "%s: the same story (same %s) came %lld s ago: "
			    "no alert",
			    input, which, (long long)(age / 1000));
			return 0;
		}
	}
	alert_sha256_hex(d->raw, d->rawlen, sha256);
	in = rule_input_new(cf->wl, &pl->hits);
	for (i = 0; i < cf->nrules && rc == 0; i++) {
		r = cf->rules[i];
		if (!rule_expr_eval(r->expr, in, &entries, &nentries))
			continue;
		t = pipeline_throttle(pl, r->id, input);
		if (r->throttle_ms > 0 && t->last_ms != INT64_MIN &&
		    now_ms - t->last_ms < r->throttle_ms) {
			t->suppressed++;
			pl->stats.throttled++;
			log_info(
			    "rule %s on %s: throttled (%u held back in this "
			    "window)",
			    r->id, input, t->suppressed);
			free(entries);
			continue;
		}
		a = alert_new(r, cf->wl, d->text, d->textlen, &pl->hits,
		    entries, nentries, src, sha256, d->rawlen, now_ms);
		free(entries);
		a->suppressed = t->suppressed;
		if (pipeline_route(pl, r, a, 0, cause) != 0)
			rc = -1;
		else {
			/* Only a durable alert opens a new window. */
			if (a->suppressed > 0)
				log_info("rule %s on %s: alert %s carries %u "
				         "throttled before it",
				    r->id, input, a->id, a->suppressed);
			t->last_ms = now_ms;
			t->suppressed = 0;
			pl->stats.alerts++;
			pl->stats.last_alert_ms = now_ms;
			memcpy(pl->stats.last_alert, a->id,
			    sizeof pl->stats.last_alert);
			spooled++;
		}
		alert_free(a);
	}
	rule_input_free(in);
	if (spooled > 0) {
		webhooks_kick(pl->ws);
		/* Remembered only once its alerts are durable: a failure here
		 * costs at worst a repeat alert, never a lost one. */
		if (rc == 0 && pl->dedup != NULL &&
		    dedup_record(pl->dedup, &keys, now_ms, &why) != 0) {
			log_warnx("%s", why);
			free(why);
		}
	}
	return rc;
}

int
pipeline_health(struct pipeline *pl, const char *feed_id, const char *url,
    int failing, const char *why, int64_t now_ms, char **cause)
{
	struct alert *a;
	int rc;

	a = alert_health_new(feed_id, url, failing, why, now_ms);
	/* An operator must hear that a source went dark, whatever the
	 * webhook's min_severity. */
	rc = pipeline_route(pl, NULL, a, 1, cause);
	alert_free(a);
	if (rc == 0)
		webhooks_kick(pl->ws);
	return rc;
}
