/*
 * Webhooks: each service's payload, Standard Webhooks signatures, and the
 * delivery of spooled alerts.  See webhook.h.
 *
 * Delivery state.  Each configured webhook has a struct webhooks_hook, kept
 * by id across reloads: its own copy of the settings (the struct config it
 * came from is freed after a reload), its key, how many deliveries it has in
 * flight and whether a 410 disabled it.  A webhook dropped by a reload stays
 * until its last delivery in flight has finished; its spooled entries are
 * buried.  The per-entry state (attempts, next time, busy) lives in the
 * spool's entries.
 *
 * A delivery (struct webhooks_delivery) points at its hook and its spool
 * entry from the start of the request until the completion callback; the
 * entry is marked busy meanwhile so that nothing else removes it.
 */
#include <sys/queue.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "alert.h"
#include "base64.h"
#include "clock.h"
#include "buf.h"
#include "config.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "rule.h"
#include "spool.h"
#include "text.h"
#include "webhook.h"
#include "xmalloc.h"

/* The most bytes of a receiver's answer we keep. */
#define WEBHOOK_MAX_RESPONSE (64 * 1024)
/* Bytes of an answer quoted in a log line or a .reason file. */
#define WEBHOOK_SNIPPET 200
/* The largest secret file read. */
#define WEBHOOK_SECRET_FILE_MAX 4096
/* Shorter keys are refused: the spec asks for 24 to 64 bytes. */
#define WEBHOOK_KEY_MIN 16
/* How long to wait before touching an entry the spool could not move. */
#define WEBHOOK_IO_RETRY_MS (60 * 1000)

struct webhooks_hook {
	struct config_webhook cf; /* own copies of the strings */
	struct buf key;           /* empty: unsigned */
	char *post_url;           /* where requests go (ntfy: the server) */
	char *topic;              /* ntfy: the topic, from the url */
	size_t inflight;
	int disabled; /* answered 410 Gone */
	int removed;  /* no longer configured */
};

struct webhooks_delivery {
	struct webhooks *ws;
	struct webhooks_hook *hook;
	struct spool_entry *entry;
	void *handle;

	TAILQ_ENTRY(webhooks_delivery) link;
};
TAILQ_HEAD(webhooks_deliveries, webhooks_delivery);

struct webhooks {
	struct event_base *base;
	struct http *http;
	struct spool *spool;
	struct event *timer;

	struct webhooks_hook **hooks;
	size_t nhooks;
	struct webhooks_deliveries deliveries;
	size_t inflight;

	int configured; /* webhooks_configure() has run once */
	int sweep;      /* the next walk must see every entry */
	int stopped;
	unsigned short rnd[3]; /* erand48() state for the jitter */
	struct buf body;
};

/*
 * Payload helpers.  The services refuse payloads whose fields exceed their
 * limits (Slack: 3000 characters in a section, Discord: 4096 in a
 * description, ...), which would bury the alert, so long texts are clipped.
 * Limits are in bytes, which is never more than characters.
 */

static const char *const webhook_emoji[] = {
    [RULE_LOW] = "large_blue_circle",
    [RULE_MEDIUM] = "large_yellow_circle",
    [RULE_HIGH] = "large_orange_circle",
    [RULE_CRITICAL] = "rotating_light",
};

static const unsigned int webhook_colour[] = {
    [RULE_LOW] = 0x3498db,
    [RULE_MEDIUM] = 0xf1c40f,
    [RULE_HIGH] = 0xe67e22,
    [RULE_CRITICAL] = 0xe74c3c,
};

static const char *const webhook_card_colour[] = {
    [RULE_LOW] = "Accent",
    [RULE_MEDIUM] = "Warning",
    [RULE_HIGH] = "Attention",
    [RULE_CRITICAL] = "Attention",
};

static const int webhook_ntfy_priority[] = {
    [RULE_LOW] = 2,
    [RULE_MEDIUM] = 3,
    [RULE_HIGH] = 4,
    [RULE_CRITICAL] = 5,
};

/* Fields an alert may leave NULL are shown as empty. */
static const char *
webhook_str(const char *s)
{
	return s != NULL ? s : "";
}

static enum rule_severity
webhook_severity(const struct alert *a)
{
	if (a->severity > RULE_CRITICAL)
		return RULE_CRITICAL;
	return a->severity;
}

/* "HIGH": the severity in capitals, for headings. */
static void
webhook_add_severity(struct buf *b, const struct alert *a)
{
	const char *s = rule_severity_name(webhook_severity(a));

	for (; *s != '\0'; s++)
		buf_add_byte(b, (char)toupper((unsigned char)*s));
}

/* Clip b back to at most max bytes, on a character boundary, ending "…". */
static void
webhook_clip(struct buf *b, size_t start, size_t max)
{
	size_t cut;

	if (b->len - start <= max)
		return;
	cut = start + (max > 3 ? max - 3 : 0);
	while (cut > start && ((unsigned char)b->data[cut] & 0xc0) == 0x80)
		cut--;
	b->len = cut;
	b->data[cut] = '\0';
	if (max > 3)
		buf_add_str(b, "\xe2\x80\xa6");
}

/* Append text as a JSON string of at most max bytes before escaping. */
static void
webhook_json_text(struct buf *out, const struct buf *text, size_t max)
{
	struct buf tmp;

	buf_init(&tmp);
	buf_add(&tmp, text->data, text->len);
	webhook_clip(&tmp, 0, max);
	json_add_string(out, tmp.data, tmp.len);
	buf_release(&tmp);
}

/* An http(s) link the services accept; anything else is not shown as one. */
static const char *
webhook_link(const struct alert *a)
{
	const char *s = a->source.link, *p;

	if (s == NULL || (strncasecmp(s, "https://", 8) != 0 &&
	                     strncasecmp(s, "http://", 7) != 0))
		return NULL;
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return NULL;
	}
	return s;
}

/* A coordinate without trailing zeros: 31.2089, 16.5887. */
static void
webhook_add_coord(struct buf *b, double v)
{
	char s[64];
	size_t n;

	snprintf(s, sizeof s, "%.6f", v);
	n = strlen(s);
	while (n > 0 && s[n - 1] == '0')
		n--;
	if (n > 0 && s[n - 1] == '.')
		n--;
	buf_add(b, s, n);
}

/* "ISIS (7), Daesh (2)" or "Sirte (3) at 31.2089, 16.5887, LY; ...". */
static void
webhook_add_entries(struct buf *b, const struct alert_entry *v, size_t n)
{
	const struct alert_entry *e;
	size_t i;

	for (i = 0; i < n; i++) {
		e = &v[i];
		if (i > 0)
			buf_add_str(b, e[-1].has_coords ? "; " : ", ");
		buf_add_str(b, e->label != NULL ? e->label : e->id);
		buf_printf(b, " (%" PRIu32 ")", e->count);
		if (e->has_coords) {
			buf_add_str(b, " at ");
			webhook_add_coord(b, e->lat);
			buf_add_str(b, ", ");
			webhook_add_coord(b, e->lon);
		}
		if (e->country[0] != '\0')
			buf_printf(b, "%s%.2s", e->has_coords ? ", " : " ",
			    e->country);
	}
}

/* "feed libya-news: <title>" or "inbox: <name>". */
static void
webhook_add_source(struct buf *b, const struct alert *a)
{
	const struct alert_source *s = &a->source;

	if (s->type == ALERT_SOURCE_FEED)
		buf_printf(b, "feed %s", s->feed != NULL ? s->feed : "?");
	else
		buf_printf(b, "inbox %s", s->name != NULL ? s->name : "?");
	if (s->title != NULL && *s->title != '\0')
		buf_printf(b, ": %s", s->title);
}

/* "document 0123456789ab…, 8504 bytes; alert <id>; 3 throttled". */
static void
webhook_add_facts(struct buf *b, const struct alert *a)
{
	buf_printf(b, "alert %s, document %.12s, %" PRIu64 " bytes", a->id,
	    a->sha256, a->bytes);
	if (a->source.published != NULL)
		buf_printf(b, ", published %s", a->source.published);
	if (a->suppressed > 0)
		buf_printf(b, ", %" PRIu32 " earlier throttled", a->suppressed);
}

/*
 * Slack mrkdwn gives &, < and > a meaning; everything else is shown as it
 * is.  A '|', '<' or '>' in a link's URL would break it, so those are
 * percent-encoded where the link is written.
 */
static void
webhook_slack_escape(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '&')
			buf_add_str(b, "&amp;");
		else if (s[i] == '<')
			buf_add_str(b, "&lt;");
		else if (s[i] == '>')
			buf_add_str(b, "&gt;");
		else
			buf_add_byte(b, s[i]);
	}
}

static void
webhook_slack_escape_str(struct buf *b, const char *s)
{
	webhook_slack_escape(b, s, strlen(s));
}

/* One mrkdwn section (text clipped to max) as a block. */
static void
webhook_slack_section(struct buf *out, const struct buf *text, size_t max)
{
	buf_add_str(
	    out, "{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",");
	json_add_key(out, "text");
	webhook_json_text(out, text, max);
	buf_add_str(out, "}}");
}

/*
 * One field of a section: a bold name over a clipped value.  An empty value
 * writes nothing; returns whether it wrote, so the caller knows what comes
 * first.
 */
static int
webhook_slack_field(
    struct buf *out, int first, const char *name, const struct buf *value)
{
	struct buf t;

	if (value->len == 0)
		return 0;
	buf_init(&t);
	buf_printf(&t, "*%s*\n", name);
	webhook_slack_escape(&t, value->data, value->len);
	if (!first)
		buf_add_byte(out, ',');
	buf_add_str(out, "{\"type\":\"mrkdwn\",");
	json_add_key(out, "text");
	webhook_json_text(out, &t, 1900);
	buf_add_byte(out, '}');
	buf_release(&t);
	return 1;
}

/* Excerpts as quoted lines: "> ..." for Slack, Discord and ntfy. */
static void
webhook_add_quotes(struct buf *b, const struct alert *a, int slack)
{
	const struct alert_excerpt *x;
	const char *p, *end;
	size_t i;

	for (i = 0; i < a->nexcerpts; i++) {
		x = &a->excerpts[i];
		if (i > 0)
			buf_add_byte(b, '\n');
		buf_add_str(b, "> ");
		for (p = webhook_str(x->text), end = p + strlen(p); p < end;
		     p++) {
			if (*p == '\n' || *p == '\r') {
				if (*p == '\r' && p + 1 < end && p[1] == '\n')
					p++;
				buf_add_str(b, "\n> ");
			} else if (slack)
				webhook_slack_escape(b, p, 1);
			else
				buf_add_byte(b, *p);
		}
	}
}

static void
webhook_render_slack(const struct alert *a, struct buf *out)
{
	struct buf t, v;
	const char *link = webhook_link(a);
	int n;

	buf_init(&t);
	buf_init(&v);

	/* The text is what notifications and old clients show. */
	buf_add_byte(out, '{');
	webhook_add_severity(&t, a);
	buf_add_str(&t, " ");
	webhook_slack_escape_str(&t, webhook_str(a->rule));
	buf_add_str(&t, ": ");
	webhook_slack_escape_str(&t, webhook_str(a->summary));
	json_add_key(out, "text");
	webhook_json_text(out, &t, 2900);

	buf_add_str(out, ",\"blocks\":[");
	buf_reset(&t);
	buf_printf(&t, ":%s: ", webhook_emoji[webhook_severity(a)]);
	webhook_add_severity(&t, a);
	buf_printf(&t, " \xc2\xb7 %s", webhook_str(a->rule));
	buf_add_str(out,
	    "{\"type\":\"header\",\"text\":{\"type\":\"plain_text\","
	    "\"emoji\":true,");
	json_add_key(out, "text");
	webhook_json_text(out, &t, 150);
	buf_add_str(out, "}}");

	buf_reset(&t);
	buf_add_byte(&t, '*');
	webhook_slack_escape_str(&t, webhook_str(a->summary));
	buf_add_byte(&t, '*');
	buf_add_byte(out, ',');
	webhook_slack_section(out, &t, 2900);

	buf_add_str(out, ",{\"type\":\"section\",\"fields\":[");
	webhook_add_entries(&v, a->terms, a->nterms);
	n = webhook_slack_field(out, 1, "Terms", &v);
	buf_reset(&v);
	webhook_add_entries(&v, a->places, a->nplaces);
	n += webhook_slack_field(out, n == 0, "Places", &v);
	buf_reset(&v);
	webhook_add_source(&v, a);
	webhook_slack_field(out, n == 0, "Source", &v);
	buf_add_str(out, "]}");

	if (a->nexcerpts > 0) {
		buf_reset(&t);
		webhook_add_quotes(&t, a, 1);
		buf_add_byte(out, ',');
		webhook_slack_section(out, &t, 2900);
	}

	buf_reset(&t);
	if (link != NULL) {
		buf_add_byte(&t, '<');
		for (; *link != '\0'; link++) {
			if (*link == '|' || *link == '<' || *link == '>')
				buf_printf(&t, "%%%02X", (unsigned char)*link);
			else
				buf_add_byte(&t, *link);
		}
		buf_add_str(&t, "|Open the source> \xc2\xb7 ");
	}
	buf_reset(&v);
	webhook_add_facts(&v, a);
	webhook_slack_escape(&t, v.data, v.len);
	buf_add_str(out, ",{\"type\":\"context\",\"elements\":[{\"type\":"
	                 "\"mrkdwn\",");
	json_add_key(out, "text");
	webhook_json_text(out, &t, 2900);
	buf_add_str(out, "}]}]}");

	buf_release(&t);
	buf_release(&v);
}

/* One embed field, clipped; Discord refuses an empty value, so an empty
 * one is left out.  Returns whether it wrote. */
static int
webhook_discord_field(struct buf *out, int first, const char *name,
    const struct buf *value, int isinline)
{
	if (value->len == 0)
		return 0;
	if (!first)
		buf_add_byte(out, ',');
	buf_add_byte(out, '{');
	json_add_kv_cstring(out, "name", name);
	buf_add_byte(out, ',');
	json_add_key(out, "value");
	webhook_json_text(out, value, 800);
	buf_printf(out, ",\"inline\":%s}", isinline ? "true" : "false");
	return 1;
}

/*
 * Discord caps an embed at 6000 characters in all: title 256, description
 * 2800, three fields of 800 and a footer of 300 stay below.
 */
static void
webhook_render_discord(const struct alert *a, struct buf *out)
{
	struct buf t;
	const char *link = webhook_link(a);
	char when[32];
	int n;

	buf_init(&t);

	/* Alert text must never ping @everyone or a role. */
	buf_add_byte(out, '{');
	buf_add_str(&t, "**");
	webhook_add_severity(&t, a);
	buf_printf(&t, "** \xc2\xb7 %s", webhook_str(a->rule));
	json_add_key(out, "content");
	webhook_json_text(out, &t, 1900);
	buf_add_str(out, ",\"allowed_mentions\":{\"parse\":[]},\"embeds\":[{");

	buf_reset(&t);
	buf_add_str(&t, webhook_str(a->summary));
	json_add_key(out, "title");
	webhook_json_text(out, &t, 256);
	if (link != NULL) {
		buf_add_byte(out, ',');
		json_add_kv_cstring(out, "url", link);
	}
	if (a->nexcerpts > 0) {
		buf_reset(&t);
		webhook_add_quotes(&t, a, 0);
		buf_add_byte(out, ',');
		json_add_key(out, "description");
		webhook_json_text(out, &t, 2800);
	}
	buf_printf(out, ",\"color\":%u", webhook_colour[webhook_severity(a)]);
	alert_format_time(a->time_ms, when);
	buf_add_byte(out, ',');
	json_add_kv_cstring(out, "timestamp", when);

	buf_add_str(out, ",\"fields\":[");
	buf_reset(&t);
	webhook_add_entries(&t, a->terms, a->nterms);
	n = webhook_discord_field(out, 1, "Terms", &t, 1);
	buf_reset(&t);
	webhook_add_entries(&t, a->places, a->nplaces);
	n += webhook_discord_field(out, n == 0, "Places", &t, 1);
	buf_reset(&t);
	webhook_add_source(&t, a);
	webhook_discord_field(out, n == 0, "Source", &t, 0);
	buf_add_str(out, "],\"footer\":{");

	buf_reset(&t);
	buf_add_str(&t, "watchlistd \xc2\xb7 ");
	webhook_add_facts(&t, a);
	json_add_key(out, "text");
	webhook_json_text(out, &t, 300);
	buf_add_str(out, "}}]}");

	buf_release(&t);
}

/* One fact of a FactSet. */
static int
webhook_teams_fact(
    struct buf *out, int first, const char *title, const struct buf *value)
{
	if (value->len == 0)
		return 0;
	if (!first)
		buf_add_byte(out, ',');
	buf_add_byte(out, '{');
	json_add_kv_cstring(out, "title", title);
	buf_add_byte(out, ',');
	json_add_key(out, "value");
	webhook_json_text(out, value, 2000);
	buf_add_byte(out, '}');
	return 1;
}

/*
 * Teams incoming webhooks and Workflows both take a message with an
 * Adaptive Card attachment; version 1.4 is the newest both render.
 */
static void
webhook_render_teams(const struct alert *a, struct buf *out)
{
	struct buf t;
	const char *link = webhook_link(a);
	const struct alert_excerpt *x;
	int n;
	char when[32];
	size_t i;

	buf_init(&t);
	buf_add_str(out,
	    "{\"type\":\"message\",\"attachments\":[{"
	    "\"contentType\":"
	    "\"application/vnd.microsoft.card.adaptive\","
	    "\"contentUrl\":null,\"content\":{"
	    "\"$schema\":"
	    "\"http://adaptivecards.io/schemas/adaptive-card.json\","
	    "\"type\":\"AdaptiveCard\",\"version\":\"1.4\","
	    "\"msteams\":{\"width\":\"Full\"},\"body\":[");

	webhook_add_severity(&t, a);
	buf_printf(&t, " \xc2\xb7 %s", webhook_str(a->rule));
	buf_add_str(out, "{\"type\":\"TextBlock\",\"size\":\"Medium\","
	                 "\"weight\":\"Bolder\",\"wrap\":true,");
	json_add_kv_cstring(
	    out, "color", webhook_card_colour[webhook_severity(a)]);
	buf_add_byte(out, ',');
	json_add_key(out, "text");
	webhook_json_text(out, &t, 500);
	buf_add_str(out, "},{\"type\":\"TextBlock\",\"wrap\":true,");
	buf_reset(&t);
	buf_add_str(&t, webhook_str(a->summary));
	json_add_key(out, "text");
	webhook_json_text(out, &t, 2000);
	buf_add_str(out, "},{\"type\":\"FactSet\",\"facts\":[");
	buf_reset(&t);
	webhook_add_entries(&t, a->terms, a->nterms);
	n = webhook_teams_fact(out, 1, "Terms", &t);
	buf_reset(&t);
	webhook_add_entries(&t, a->places, a->nplaces);
	n += webhook_teams_fact(out, n == 0, "Places", &t);
	buf_reset(&t);
	webhook_add_source(&t, a);
	webhook_teams_fact(out, n == 0, "Source", &t);
	buf_reset(&t);
	alert_format_time(a->time_ms, when);
	buf_add_str(&t, when);
	webhook_teams_fact(out, 0, "Time", &t);
	buf_reset(&t);
	webhook_add_facts(&t, a);
	webhook_teams_fact(out, 0, "Details", &t);
	buf_add_str(out, "]}");

	for (i = 0; i < a->nexcerpts; i++) {
		x = &a->excerpts[i];
		buf_reset(&t);
		buf_add_str(&t, webhook_str(x->text));
		buf_add_str(out, ",{\"type\":\"Container\",\"style\":"
		                 "\"emphasis\",\"items\":[{\"type\":"
		                 "\"TextBlock\",\"wrap\":true,"
		                 "\"isSubtle\":true,");
		json_add_key(out, "text");
		webhook_json_text(out, &t, 2000);
		buf_add_str(out, "}]}");
	}
	buf_add_byte(out, ']');

	if (link != NULL) {
		buf_add_str(out, ",\"actions\":[{\"type\":\"Action.OpenUrl\","
		                 "\"title\":\"Open the source\",");
		json_add_kv_cstring(out, "url", link);
		buf_add_str(out, "}]");
	}
	buf_add_str(out, "}}]}");
	buf_release(&t);
}

/*
 * ntfy's JSON publishing: the topic is not part of the stored body (it
 * comes from the configured URL at delivery, see webhooks_start()).
 */
static void
webhook_render_ntfy(const struct alert *a, struct buf *out)
{
	struct buf t;
	const char *link = webhook_link(a);

	buf_init(&t);
	webhook_add_severity(&t, a);
	buf_printf(&t, " \xc2\xb7 %s", webhook_str(a->rule));
	buf_add_byte(out, '{');
	json_add_key(out, "title");
	webhook_json_text(out, &t, 250);

	buf_reset(&t);
	buf_add_str(&t, webhook_str(a->summary));
	if (a->nterms > 0) {
		buf_add_str(&t, "\n\nTerms: ");
		webhook_add_entries(&t, a->terms, a->nterms);
	}
	if (a->nplaces > 0) {
		buf_add_str(&t, "\nPlaces: ");
		webhook_add_entries(&t, a->places, a->nplaces);
	}
	buf_add_str(&t, "\nSource: ");
	webhook_add_source(&t, a);
	if (a->nexcerpts > 0) {
		buf_add_str(&t, "\n\n");
		webhook_add_quotes(&t, a, 0);
	}
	buf_add_str(&t, "\n\n");
	webhook_add_facts(&t, a);
	buf_add_byte(out, ',');
	json_add_key(out, "message");
	webhook_json_text(out, &t, 3800);

	buf_printf(out, ",\"priority\":%d,\"tags\":[",
	    webhook_ntfy_priority[webhook_severity(a)]);
	json_add_cstring(out, webhook_emoji[webhook_severity(a)]);
	buf_add_byte(out, ',');
	json_add_cstring(out, rule_severity_name(webhook_severity(a)));
	buf_add_byte(out, ',');
	json_add_cstring(out, webhook_str(a->rule));
	buf_add_byte(out, ']');
	if (link != NULL) {
		buf_add_byte(out, ',');
		json_add_kv_cstring(out, "click", link);
	}
	buf_add_byte(out, '}');
	buf_release(&t);
}

/*
 * Alertmanager's /api/v2/alerts takes an array of alerts.  Alerts with the
 * same labels are one alert to it, so the alert id is a label: two
 * documents firing one rule are two notifications.  No endsAt: the alert
 * resolves itself after resolve_timeout.
 */
static void
webhook_render_alertmanager(const struct alert *a, struct buf *out)
{
	struct buf t;
	const char *link = webhook_link(a);
	const struct alert_excerpt *x;
	char when[32];
	size_t i;

	buf_init(&t);
	buf_add_str(out, "[{\"labels\":{\"alertname\":\"watchlistd\",");
	json_add_kv_cstring(out, "rule", webhook_str(a->rule));
	buf_add_byte(out, ',');
	json_add_kv_cstring(
	    out, "severity", rule_severity_name(webhook_severity(a)));
	buf_add_byte(out, ',');
	if (a->source.type == ALERT_SOURCE_FEED)
		buf_printf(&t, "feed:%s",
		    a->source.feed != NULL ? a->source.feed : "?");
	else
		buf_add_str(&t, "inbox");
	json_add_kv_string(out, "source", t.data, t.len);
	buf_add_byte(out, ',');
	json_add_kv_cstring(out, "alert_id", a->id);

	buf_add_str(out, "},\"annotations\":{");
	json_add_key(out, "summary");
	buf_reset(&t);
	buf_add_str(&t, webhook_str(a->summary));
	webhook_json_text(out, &t, 1000);
	buf_reset(&t);
	webhook_add_source(&t, a);
	for (i = 0; i < a->nexcerpts; i++) {
		x = &a->excerpts[i];
		buf_printf(&t, "\n\n%s", webhook_str(x->text));
	}
	buf_add_byte(out, ',');
	json_add_key(out, "description");
	webhook_json_text(out, &t, 4000);
	if (link != NULL) {
		buf_add_byte(out, ',');
		json_add_kv_cstring(out, "link", link);
	}
	if (a->nterms > 0) {
		buf_reset(&t);
		webhook_add_entries(&t, a->terms, a->nterms);
		buf_add_byte(out, ',');
		json_add_key(out, "terms");
		webhook_json_text(out, &t, 1000);
	}
	if (a->nplaces > 0) {
		buf_reset(&t);
		webhook_add_entries(&t, a->places, a->nplaces);
		buf_add_byte(out, ',');
		json_add_key(out, "places");
		webhook_json_text(out, &t, 1000);
	}
	buf_add_byte(out, ',');
	json_add_kv_cstring(out, "document_sha256", a->sha256);
	buf_printf(out, ",\"document_bytes\":\"%" PRIu64 "\"", a->bytes);
	if (a->suppressed > 0)
		buf_printf(
		    out, ",\"throttled\":\"%" PRIu32 "\"", a->suppressed);

	alert_format_time(a->time_ms, when);
	buf_add_str(out, "},");
	json_add_kv_cstring(out, "startsAt", when);
	if (link != NULL) {
		buf_add_byte(out, ',');
		json_add_kv_cstring(out, "generatorURL", link);
	}
	buf_add_str(out, "}]");
	buf_release(&t);
}

void
webhook_render(enum config_format f, const struct alert *a, struct buf *out)
{
	switch (f) {
	case CONFIG_FORMAT_SLACK:
		webhook_render_slack(a, out);
		break;
	case CONFIG_FORMAT_DISCORD:
		webhook_render_discord(a, out);
		break;
	case CONFIG_FORMAT_TEAMS:
		webhook_render_teams(a, out);
		break;
	case CONFIG_FORMAT_NTFY:
		webhook_render_ntfy(a, out);
		break;
	case CONFIG_FORMAT_ALERTMANAGER:
		webhook_render_alertmanager(a, out);
		break;
	case CONFIG_FORMAT_JSON:
	default:
		alert_json(a, out);
		break;
	}
}

/* Wipe and free a buffer that held key material. */
static void
webhook_key_release(struct buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	buf_release(b);
}

/*
 * Strict standard base64 (padding optional, nothing else allowed), as the
 * Standard Webhooks secrets are written.  EVP_DecodeBlock() accepts white
 * space and miscounts padding, so it is not used here.
 */
static int
webhook_b64_decode(const char *s, size_t n, struct buf *out)
{
	unsigned int acc = 0;
	size_t i, bits = 0, pad = 0;
	int v;
	char c;

	while (n > 0 && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (pad > 0 && (n + pad) % 4 != 0)
		return -1;
	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v = base64_value((unsigned char)s[i])) < 0)
			return -1;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			c = (char)((acc >> bits) & 0xff);
			buf_add_byte(out, c);
		}
	}
	return 0;
}

/* Decode "whsec_..." text into key.  what names where it came from. */
static int
webhook_secret_decode(
    const char *s, size_t n, const char *what, struct buf *key, char **cause)
{
	struct buf raw;

	if (n < 6 || strncmp(s, "whsec_", 6) != 0) {
		*cause = xasprintf("%s does not start with whsec_", what);
		return -1;
	}
	buf_init(&raw);
	if (webhook_b64_decode(s + 6, n - 6, &raw) != 0) {
		*cause =
		    xasprintf("%s: the text after whsec_ is not base64", what);
		goto fail;
	}
	if (raw.len < WEBHOOK_KEY_MIN) {
		*cause = xasprintf("%s is too short: %zu bytes, at least %d "
		                   "are needed (24 to 64 recommended)",
		    what, raw.len, WEBHOOK_KEY_MIN);
		goto fail;
	}
	webhook_key_release(key);
	*key = raw;
	return 0;

fail:
	webhook_key_release(&raw);
	return -1;
}

/* Read a secret file (at most WEBHOOK_SECRET_FILE_MAX bytes) and decode it. */
static int
webhook_secret_file(
    const char *path, const char *what, struct buf *key, char **cause)
{
	struct buf text;
	struct stat st;
	char chunk[512];
	ssize_t n;
	size_t start, end;
	int fd, rc = -1;

	buf_init(&text);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		*cause = xasprintf(
		    "%s: cannot open %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*cause = xasprintf("%s: %s is not a regular file", what, path);
		goto out;
	}
	for (;;) {
		if ((n = read(fd, chunk, sizeof chunk)) == -1) {
			if (errno == EINTR)
				continue;
			*cause = xasprintf("%s: cannot read %s: %s", what, path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (text.len + (size_t)n > WEBHOOK_SECRET_FILE_MAX) {
			*cause = xasprintf("%s: %s is larger than %d bytes",
			    what, path, WEBHOOK_SECRET_FILE_MAX);
			goto out;
		}
		buf_add(&text, chunk, (size_t)n);
	}
	start = 0;
	end = text.len;
	while (start < end && isspace((unsigned char)text.data[start]))
		start++;
	while (end > start && isspace((unsigned char)text.data[end - 1]))
		end--;
	rc = webhook_secret_decode(
	    text.data + start, end - start, what, key, cause);

out:
	OPENSSL_cleanse(chunk, sizeof chunk);
	webhook_key_release(&text);
	close(fd);
	return rc;
}

int
webhook_secret_load(const char *spec, struct buf *key, char **cause)
{
	const char *name, *value, *dir;
	char *path, *what;
	size_t start, end;
	int rc;

	if (strncmp(spec, "whsec_", 6) == 0)
		return webhook_secret_decode(
		    spec, strlen(spec), "the inline secret", key, cause);

	if (strncmp(spec, "file:", 5) == 0) {
		path = xstrdup(spec + 5);
		if (*path != '/') {
			*cause = xasprintf("secret file %s: the path must be "
			                   "absolute",
			    path);
			free(path);
			return -1;
		}
		what = xasprintf("secret file %s", path);
		rc = webhook_secret_file(path, what, key, cause);
		free(what);
		free(path);
		return rc;
	}

	if (strncmp(spec, "env:", 4) == 0) {
		name = spec + 4;
		if ((value = getenv(name)) == NULL) {
			*cause = xasprintf(
			    "environment variable %s is not set", name);
			return -1;
		}
		start = 0;
		end = strlen(value);
		while (start < end && isspace((unsigned char)value[start]))
			start++;
		while (end > start && isspace((unsigned char)value[end - 1]))
			end--;
		what = xasprintf("environment variable %s", name);
		rc = webhook_secret_decode(
		    value + start, end - start, what, key, cause);
		free(what);
		return rc;
	}

	if (strncmp(spec, "credential:", 11) == 0) {
		name = spec + 11;
		if (*name == '\0' || strchr(name, '/') != NULL ||
		    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			*cause = xasprintf("credential '%s': not a credential "
			                   "name",
			    name);
			return -1;
		}
		dir = getenv("CREDENTIALS_DIRECTORY");
		if (dir == NULL || *dir == '\0') {
			*cause = xasprintf("credential %s: $CREDENTIALS_"
			                   "DIRECTORY is not set (systemd sets "
			                   "it with LoadCredential=)",
			    name);
			return -1;
		}
		path = xasprintf("%s/%s", dir, name);
		what = xasprintf("credential %s", name);
		rc = webhook_secret_file(path, what, key, cause);
		free(what);
		free(path);
		return rc;
	}

	*cause = xstrdup("a secret must be whsec_ followed by base64, "
	                 "file:PATH, env:NAME or credential:NAME");
	return -1;
}

void
webhook_sign(const struct buf *key, const char *id, int64_t timestamp,
    const char *body, size_t len, struct buf *out)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int maclen = 0;
	struct buf msg;
	int n;

	buf_init(&msg);
	buf_printf(&msg, "%s.%" PRId64 ".", id, timestamp);
	buf_add(&msg, body, len);
	HMAC(EVP_sha256(), key->data != NULL ? key->data : "", (int)key->len,
	    (const unsigned char *)msg.data, msg.len, mac, &maclen);
	n = EVP_EncodeBlock(b64, mac, (int)maclen);
	buf_add_str(out, "v1,");
	buf_add(out, b64, (size_t)n);
	buf_release(&msg);
}

int64_t
webhook_backoff_ms(
    uint32_t attempts, int64_t backoff_ms, int64_t backoff_max_ms, double rnd)
{
	int64_t d = backoff_ms;
	uint32_t i;
	double r;

	if (backoff_max_ms < backoff_ms)
		backoff_max_ms = backoff_ms;
	for (i = 1; i < attempts && d < backoff_max_ms; i++)
		d = d > backoff_max_ms / 2 ? backoff_max_ms : d * 2;
	if (d > backoff_max_ms)
		d = backoff_max_ms;
	if (!(rnd >= 0.0) || rnd >= 1.0)
		rnd = 0.0;
	r = (double)d * (0.5 + rnd / 2);
	if (!(r < (double)d))
		return d;
	return (int64_t)r;
}

/* Delivery. */

/* A duration as the configuration writes it: "24h", "1h30m", "90s". */
static void
webhooks_add_duration(struct buf *b, int64_t ms)
{
	static const struct {
		char unit;
		int64_t ms;
	} units[] = {
	    {'d', 86400000}, {'h', 3600000}, {'m', 60000}, {'s', 1000}};
	size_t i, start = b->len;

	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (ms >= units[i].ms) {
			buf_printf(b, "%" PRId64 "%c", ms / units[i].ms,
			    units[i].unit);
			ms %= units[i].ms;
		}
	}
	if (ms > 0 || b->len == start)
		buf_printf(b, "%" PRId64 "ms", ms);
}

static void webhooks_walk(struct webhooks *ws);

static void
webhooks_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	webhooks_walk(arg);
}

struct webhooks *
webhooks_new(struct event_base *base, struct http *http, struct spool *sp)
{
	struct webhooks *ws;
	int64_t seed = clock_now_ms() ^ ((int64_t)getpid() << 16);

	ws = xcalloc(1, sizeof *ws);
	ws->base = base;
	ws->http = http;
	ws->spool = sp;
	if ((ws->timer = evtimer_new(base, webhooks_timer_cb, ws)) == NULL)
		fatalx("webhooks: cannot create the delivery timer event");
	TAILQ_INIT(&ws->deliveries);
	ws->rnd[0] = (unsigned short)seed;
	ws->rnd[1] = (unsigned short)(seed >> 16);
	ws->rnd[2] = (unsigned short)(seed >> 32);
	buf_init(&ws->body);
	return ws;
}

static void
webhooks_hook_free(struct webhooks_hook *hook)
{
	free(hook->cf.id);
	free(hook->cf.url);
	free(hook->cf.ca_file);
	webhook_key_release(&hook->key);
	free(hook->post_url);
	free(hook->topic);
	free(hook);
}

void
webhooks_free(struct webhooks *ws)
{
	struct webhooks_delivery *d;
	size_t i;

	if (ws == NULL)
		return;
	while ((d = TAILQ_FIRST(&ws->deliveries)) != NULL) {
		TAILQ_REMOVE(&ws->deliveries, d, link);
		http_cancel(ws->http, d->handle);
		d->entry->busy = 0;
		free(d);
	}
	for (i = 0; i < ws->nhooks; i++)
		webhooks_hook_free(ws->hooks[i]);
	free(ws->hooks);
	event_free(ws->timer);
	buf_release(&ws->body);
	free(ws);
}

static struct webhooks_hook *
webhooks_find(const struct webhooks *ws, const char *id)
{
	size_t i;

	for (i = 0; i < ws->nhooks; i++) {
		if (strcmp(ws->hooks[i]->cf.id, id) == 0)
			return ws->hooks[i];
	}
	return NULL;
}

/* Forget a hook dropped by a reload once nothing in flight uses it. */
static void
webhooks_forget(struct webhooks *ws, struct webhooks_hook *hook)
{
	size_t i;

	if (!hook->removed || hook->inflight > 0)
		return;
	for (i = 0; i < ws->nhooks; i++) {
		if (ws->hooks[i] == hook) {
			ws->hooks[i] = ws->hooks[--ws->nhooks];
			break;
		}
	}
	webhooks_hook_free(hook);
}

/*
 * ntfy publishes JSON posted to the server, with the topic inside: split a
 * topic URL "https://ntfy.sh/alerts?auth=..." into the URL to post to
 * ("https://ntfy.sh/?auth=...") and the topic ("alerts").
 */
static int
webhooks_ntfy_split(
    const char *url, char **post_url, char **topic, char **cause)
{
	const char *host, *end, *slash, *p;

	if ((host = strstr(url, "://")) == NULL)
		goto bad;
	host += 3;
	end = host + strcspn(host, "?#");
	if (memchr(host, '/', (size_t)(end - host)) == NULL)
		goto bad;
	slash = end;
	while (slash[-1] != '/')
		slash--;
	if (slash == end)
		goto bad;
	for (p = slash; p < end; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			goto bad;
	}
	*topic = xstrndup(slash, (size_t)(end - slash));
	*post_url = xasprintf(
	    "%.*s%.*s", (int)(slash - url), url, (int)strcspn(end, "#"), end);
	return 0;

bad:
	*cause = xstrdup("an ntfy url must end with the topic, as in "
	                 "https://ntfy.sh/TOPIC (letters, digits, - and _)");
	return -1;
}

int
webhook_check(const struct config_webhook *wh, char **cause)
{
	char *post_url = NULL, *topic = NULL;

	if (wh->format != CONFIG_FORMAT_NTFY)
		return 0;
	if (webhooks_ntfy_split(wh->url, &post_url, &topic, cause) != 0)
		return -1;
	free(post_url);
	free(topic);
	return 0;
}

int
webhooks_configure(struct webhooks *ws, const struct config *cf, char **cause)
{
	const struct config_webhook *wh;
	struct webhooks_hook **fresh, *hook, tmp;
	char *why = NULL;
	size_t i, n = cf->nwebhooks;

	/* Build every new hook aside first: all or nothing. */
	fresh = xcalloc(n, sizeof *fresh);
	for (i = 0; i < n; i++) {
		wh = cf->webhooks[i];
		hook = fresh[i] = xcalloc(1, sizeof *hook);
		hook->cf = *wh;
		hook->cf.id = xstrdup(wh->id);
		hook->cf.url = xstrdup(wh->url);
		hook->cf.secret = NULL;
		hook->cf.ca_file =
		    wh->ca_file != NULL ? xstrdup(wh->ca_file) : NULL;
		hook->cf.file = NULL;
		if (hook->cf.concurrency < 1)
			hook->cf.concurrency = 1;
		buf_init(&hook->key);
		if (wh->secret != NULL && *wh->secret != '\0' &&
		    webhook_secret_load(wh->secret, &hook->key, &why) != 0)
			goto fail;
		if (wh->format == CONFIG_FORMAT_NTFY) {
			if (webhooks_ntfy_split(wh->url, &hook->post_url,
			        &hook->topic, &why) != 0)
				goto fail;
		} else
			hook->post_url = xstrdup(wh->url);
	}

	/*
	 * Commit.  An existing hook keeps its deliveries in flight (and its
	 * count of them) and takes the new settings.
	 */
	for (i = 0; i < ws->nhooks; i++)
		ws->hooks[i]->removed = 1;
	for (i = 0; i < n; i++) {
		if ((hook = webhooks_find(ws, fresh[i]->cf.id)) == NULL) {
			ws->hooks = xreallocarray(
			    ws->hooks, ws->nhooks + 1, sizeof *ws->hooks);
			ws->hooks[ws->nhooks++] = fresh[i];
			fresh[i] = NULL;
			continue;
		}
		/* Swap contents: deliveries in flight point at hook. */
		fresh[i]->inflight = hook->inflight;
		tmp = *hook;
		*hook = *fresh[i];
		*fresh[i] = tmp;
	}
	for (i = 0; i < n; i++) {
		if (fresh[i] != NULL)
			webhooks_hook_free(fresh[i]);
	}
	free(fresh);
	for (i = ws->nhooks; i-- > 0;)
		webhooks_forget(ws, ws->hooks[i]);
	ws->configured = 1;
	ws->sweep = 1; /* entries of webhooks now gone are buried */
	webhooks_kick(ws);
	return 0;

fail:
	*cause = xasprintf("webhook '%s': %s", wh->id, why);
	free(why);
	for (i = 0; i < n; i++) {
		if (fresh[i] != NULL)
			webhooks_hook_free(fresh[i]);
	}
	free(fresh);
	return -1;
}

int
webhooks_routes(const struct config_webhook *wh, const struct rule *r,
    enum rule_severity severity)
{
	size_t i;

	if (severity < wh->min_severity)
		return 0;
	if (r == NULL || r->nnotify == 0)
		return 1;
	for (i = 0; i < r->nnotify; i++) {
		if (strcmp(r->notify[i], wh->id) == 0)
			return 1;
	}
	return 0;
}

size_t
webhooks_inflight(const struct webhooks *ws)
{
	return ws->inflight;
}

void
webhooks_stop(struct webhooks *ws)
{
	ws->stopped = 1;
	evtimer_del(ws->timer);
}

/*
 * Give an entry up: move it to dead/ with the reason (spool_bury() logs
 * it).  Returns 0 when the entry is gone; if the spool cannot move it, it
 * stays (and is left alone for a while) and -1 is returned.
 */
static int
webhooks_bury(
    struct webhooks *ws, struct spool_entry *e, const char *reason, int64_t now)
{
	char *cause;

	if (spool_bury(ws->spool, e, reason, &cause) == 0)
		return 0;
	log_warnx("webhook '%s': alert %s: %s", e->webhook, e->alert_id, cause);
	free(cause);
	e->next_ms = now + WEBHOOK_IO_RETRY_MS;
	return -1;
}

/*
 * A failed attempt that may be retried: schedule the next one, or bury the
 * entry if that would be past retry_for.  Returns 1 if the entry is gone.
 */
static int
webhooks_retry(struct webhooks *ws, struct webhooks_hook *hook,
    struct spool_entry *e, int64_t retry_after_ms, const char *error,
    int64_t now)
{
	struct buf msg;
	int64_t delay;
	int gone = 0;

	buf_init(&msg);
	e->attempts++;
	delay = webhook_backoff_ms(e->attempts, hook->cf.backoff_ms,
	    hook->cf.backoff_max_ms, erand48(ws->rnd));
	if (retry_after_ms > delay)
		delay = retry_after_ms;
	if (now + delay - e->created_mono_ms > hook->cf.retry_for_ms) {
		buf_printf(&msg, "gave up after %" PRIu32 " attempts over ",
		    e->attempts);
		webhooks_add_duration(&msg, hook->cf.retry_for_ms);
		buf_printf(&msg, ": %s", error);
		gone = webhooks_bury(ws, e, msg.data, now) == 0;
	} else {
		e->next_ms = now + delay;
		webhooks_add_duration(&msg, delay);
		log_warnx("webhook '%s': alert %s: attempt %" PRIu32
		          " failed: %s; next in %s",
		    e->webhook, e->alert_id, e->attempts, error, msg.data);
	}
	buf_release(&msg);
	return gone;
}

/* "HTTP 503: <the start of the answer, escaped>". */
static void
webhooks_add_status(struct buf *b, const struct http_response *res)
{
	size_t n = res->body.len;

	buf_printf(b, "HTTP %ld", res->status);
	if (res->status >= 300 && res->status < 400)
		buf_add_str(b, " (redirects are not followed: configure the "
		               "final URL)");
	if (n == 0)
		return;
	buf_add_str(b, ": ");
	text_escape(b, res->body.data,
	    n > WEBHOOK_SNIPPET ? WEBHOOK_SNIPPET : n, TEXT_ESCAPE_SPACE);
	if (n > WEBHOOK_SNIPPET)
		buf_add_str(b, "...");
}

static size_t
webhooks_waiting(const struct webhooks *ws, const char *id)
{
	size_t i, n = 0;

	for (i = 0; i < spool_count(ws->spool); i++) {
		if (strcmp(spool_entry_at(ws->spool, i)->webhook, id) == 0)
			n++;
	}
	return n;
}

/*
 * The end of a delivery, from the loop (see http.h).  The entry is still in
 * the spool, marked busy; it is removed, buried or rescheduled here, then
 * the spool is looked at again since a slot is free.
 */
static void
webhooks_done_cb(const struct http_response *res, void *arg)
{
	struct webhooks_delivery *d = arg;
	struct webhooks *ws = d->ws;
	struct webhooks_hook *hook = d->hook;
	struct spool_entry *e = d->entry;
	struct buf msg;
	int64_t now = clock_monotonic_ms();
	char *cause;
	long status = res->status;

	TAILQ_REMOVE(&ws->deliveries, d, link);
	free(d);
	ws->inflight--;
	hook->inflight--;
	e->busy = 0;
	buf_init(&msg);

	if (status >= 200 && status < 300) {
		log_info("webhook '%s': alert %s delivered (HTTP %ld, attempt "
		         "%" PRIu32 ", %.3fs)",
		    e->webhook, e->alert_id, status, e->attempts + 1,
		    res->total_time);
		if (spool_remove(ws->spool, e, &cause) != 0) {
			log_warnx("webhook '%s': alert %s: %s", e->webhook,
			    e->alert_id, cause);
			free(cause);
			e->next_ms = now + WEBHOOK_IO_RETRY_MS;
		}
	} else if (status == 410) {
		e->attempts++;
		if (!hook->disabled && !hook->removed) {
			hook->disabled = 1;
			log_warnx("webhook '%s' answered 410 Gone: disabled "
			          "until reload; %zu alerts wait in the spool",
			    hook->cf.id, webhooks_waiting(ws, hook->cf.id));
		}
	} else if (status == 0 || status == 408 || status == 429 ||
	           (status >= 500 && status < 600)) {
		if (status == 0)
			buf_add_str(&msg,
			    res->error != NULL ? res->error : "no response");
		else
			webhooks_add_status(&msg, res);
		webhooks_retry(ws, hook, e, res->retry_after_ms, msg.data, now);
	} else {
		buf_add_str(&msg, "refused: ");
		webhooks_add_status(&msg, res);
		webhooks_bury(ws, e, msg.data, now);
	}
	buf_release(&msg);
	webhooks_forget(ws, hook);
	webhooks_kick(ws);
}

/*
 * Start delivering e.  The body is sent as spooled, except that ntfy's
 * topic, which belongs to the URL, is put in front; the signature covers
 * exactly the bytes sent, with a fresh timestamp for each attempt.  now
 * is monotonic (clock_monotonic_ms()), like every retry time here.
 * Returns 1 if the entry is gone from the spool (buried), else 0.
 */
static int
webhooks_start(struct webhooks *ws, struct webhooks_hook *hook,
    struct spool_entry *e, int64_t now)
{
	struct webhooks_delivery *d;
	struct http_request req;
	struct buf body, sig, reason;
	const char *headers[6];
	char *hid, *hts, *hsig = NULL, *cause;
	int64_t wall = clock_now_ms(); /* for the timestamp; now is monotonic */
	size_t nh = 0;
	int gone = 0;

	buf_init(&body);
	buf_init(&sig);
	buf_init(&reason);
	if (spool_body(ws->spool, e, &ws->body, &cause) != 0) {
		buf_printf(&reason, "cannot read the spooled body: %s", cause);
		free(cause);
		gone = webhooks_bury(ws, e, reason.data, now) == 0;
		buf_release(&reason);
		return gone;
	}
	if (hook->topic != NULL && ws->body.len > 0 &&
	    ws->body.data[0] == '{') {
		buf_add_byte(&body, '{');
		json_add_kv_cstring(&body, "topic", hook->topic);
		if (ws->body.len > 1 && ws->body.data[1] != '}')
			buf_add_byte(&body, ',');
		buf_add(&body, ws->body.data + 1, ws->body.len - 1);
	} else
		buf_add(&body, ws->body.data, ws->body.len);

	hid = xasprintf("webhook-id: %s", e->alert_id);
	hts = xasprintf("webhook-timestamp: %" PRId64, wall / 1000);
	headers[nh++] = "Content-Type: application/json";
	headers[nh++] = hid;
	headers[nh++] = hts;
	if (hook->key.len > 0) {
		webhook_sign(&hook->key, e->alert_id, wall / 1000, body.data,
		    body.len, &sig);
		hsig = xasprintf("webhook-signature: %s", sig.data);
		headers[nh++] = hsig;
	}
	headers[nh] = NULL;

	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.url = hook->post_url;
	req.headers = headers;
	req.body = body.data;
	req.bodylen = body.len;
	req.connect_timeout_ms = hook->cf.connect_timeout_ms;
	req.timeout_ms = hook->cf.timeout_ms;
	req.ca_file = hook->cf.ca_file;
	req.max_response = WEBHOOK_MAX_RESPONSE;
	req.follow_redirects = 0;

	d = xcalloc(1, sizeof *d);
	d->ws = ws;
	d->hook = hook;
	d->entry = e;
	d->handle =
	    http_request_start(ws->http, &req, webhooks_done_cb, d, &cause);
	if (d->handle == NULL) {
		free(d);
		gone = webhooks_retry(ws, hook, e, -1, cause, now);
		free(cause);
	} else {
		TAILQ_INSERT_TAIL(&ws->deliveries, d, link);
		e->busy = 1;
		hook->inflight++;
		ws->inflight++;
		log_debug("webhook '%s': alert %s: attempt %" PRIu32
		          " started (%zu bytes)",
		    e->webhook, e->alert_id, e->attempts + 1, body.len);
	}

	free(hid);
	free(hts);
	free(hsig);
	buf_release(&sig);
	buf_release(&body);
	buf_release(&reason);
	return gone;
}

/*
 * A kick only arms the timer with a zero timeout: every kick of one turn of
 * the loop (each spooled alert, each completion) then costs one walk of the
 * spool, not one walk each, which a large spool would make quadratic.
 */
void
webhooks_kick(struct webhooks *ws)
{
	struct timeval now = {0, 0};

	if (ws->stopped || !ws->configured)
		return;
	evtimer_add(ws->timer, &now);
}

/* Whether some webhook could start another delivery now. */
static int
webhooks_room(const struct webhooks *ws)
{
	const struct webhooks_hook *hook;
	size_t i;

	for (i = 0; i < ws->nhooks; i++) {
		hook = ws->hooks[i];
		if (!hook->removed && !hook->disabled &&
		    hook->inflight < (size_t)hook->cf.concurrency)
			return 1;
	}
	return 0;
}

/*
 * Walk the spool once: bury the entries of webhooks that are gone, start
 * the due ones while their webhook has room, and set the timer for the
 * earliest entry that is not due yet.  Completions kick again, so a webhook
 * at its limit needs no timer; and once every webhook is at its limit the
 * walk stops, so that with a long queue (a receiver back after an outage)
 * each completion costs a few entries, not a pass over the whole spool.
 */
static void
webhooks_walk(struct webhooks *ws)
{
	struct spool_entry *e;
	struct webhooks_hook *hook;
	struct timeval tv;
	int64_t now, next = INT64_MAX, delay;
	char *reason;
	size_t i;
	int gone;

	if (ws->stopped || !ws->configured)
		return;
	/* Retry times are monotonic: a wall clock that jumps back must not
	 * hold retries for as long, nor one that jumps forward release them
	 * all at once. */
	now = clock_monotonic_ms();
	for (i = 0; i < spool_count(ws->spool);) {
		e = spool_entry_at(ws->spool, i);
		if (e->busy) {
			i++;
			continue;
		}
		hook = webhooks_find(ws, e->webhook);
		/* An entry for a webhook that is gone is buried now, even if
		 * it was waiting for a retry. */
		if (e->next_ms > now && hook != NULL && !hook->removed) {
			if (!hook->disabled && e->next_ms < next)
				next = e->next_ms;
			i++;
			continue;
		}
		if (hook == NULL || hook->removed) {
			reason = xasprintf("webhook '%s' is no longer "
			                   "configured",
			    e->webhook);
			gone = webhooks_bury(ws, e, reason, now) == 0;
			free(reason);
		} else if (hook->disabled ||
		           hook->inflight >= (size_t)hook->cf.concurrency)
			gone = 0;
		else
			gone = webhooks_start(ws, hook, e, now);
		if (!gone) {
			if (!e->busy && e->next_ms > now && e->next_ms < next)
				next = e->next_ms;
			i++;
		}
		if (!ws->sweep && !webhooks_room(ws))
			break;
	}
	if (i >= spool_count(ws->spool))
		ws->sweep = 0;

	if (next == INT64_MAX) {
		evtimer_del(ws->timer);
		return;
	}
	delay = next - now;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(ws->timer, &tv);
}
