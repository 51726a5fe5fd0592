/*
 * Webhooks: rendering an alert in each service's shape, Standard Webhooks
 * signing, and the delivery of spooled alerts with retries.
 *
 * Delivery reads the spool: every pending entry whose webhook is configured,
 * not disabled and below its concurrency limit, and whose time has come, is
 * POSTed through http.c.  On a 2xx the entry is removed.  Network errors,
 * 408, 429 and 5xx are retried after backoff (doubling from `backoff` to
 * `backoff_max`, with jitter; a Retry-After is honoured) until `retry_for`
 * has passed since the entry was spooled; then it is buried in dead/.  Other
 * 4xx are final: buried, logged.  410 Gone also disables the webhook until
 * the next reload, loudly; its entries wait in the spool.
 */
#ifndef WATCHLISTD_WEBHOOK_H
#define WATCHLISTD_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "buf.h"
#include "config.h"

struct event_base;
struct http;
struct spool;
struct webhooks;

/* The request body of alert a in format f, appended to out. */
void webhook_render(
    enum config_format f, const struct alert *a, struct buf *out);

/*
 * Load a secret as written in the configuration: "whsec_" + base64, or
 * "file:/path", "env:NAME", "credential:NAME" ($CREDENTIALS_DIRECTORY/NAME)
 * whose content (white space trimmed) is a whsec_ secret.  The raw key goes
 * to key (replacing it).  -1 with *cause (caller frees; it never holds the
 * secret itself).
 */
int webhook_secret_load(const char *spec, struct buf *key, char **cause);

/*
 * The webhook-signature value for a message: "v1," + base64 of
 * HMAC-SHA256(key, id "." timestamp "." body), appended to out.
 */
void webhook_sign(const struct buf *key, const char *id, int64_t timestamp,
    const char *body, size_t len, struct buf *out);

/*
 * Delay before retry number `attempts` (1 for the first retry): backoff
 * doubled attempts-1 times, capped at backoff_max, then scaled by a jitter
 * factor in [0.5, 1.0) taken from rnd (0 <= rnd < 1).
 */
int64_t webhook_backoff_ms(
    uint32_t attempts, int64_t backoff_ms, int64_t backoff_max_ms, double rnd);

struct webhooks *webhooks_new(
    struct event_base *base, struct http *http, struct spool *spool);
void webhooks_free(struct webhooks *ws);

/*
 * Take the webhooks of cf: load their secrets, add new ones, update the
 * settings of existing ones (deliveries in flight finish on the old ones),
 * re-enable webhooks disabled by a 410.  All or nothing: -1 with *cause
 * (caller frees) when a secret cannot be loaded, and nothing changes.
 */
int webhooks_configure(
    struct webhooks *ws, const struct config *cf, char **cause);

/*
 * What `check` can verify of a webhook beyond its syntax, without reading
 * its secret: today, that an ntfy url names a topic.  -1 with *cause (caller
 * frees).
 */
int webhook_check(const struct config_webhook *wh, char **cause);

/* Whether an alert of this severity and rule goes to webhook wh. */
int webhooks_routes(const struct config_webhook *wh, const struct rule *r,
    enum rule_severity severity);

/* Look at the spool again (an entry was added): start what is due. */
void webhooks_kick(struct webhooks *ws);

/* Deliveries in flight. */
size_t webhooks_inflight(const struct webhooks *ws);

/* Start no more deliveries (shutdown); those in flight go on. */
void webhooks_stop(struct webhooks *ws);

#endif
