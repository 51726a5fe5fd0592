/*
 * Alerts: what a rule firing on a document tells the user.  See alert.h.
 */

/*
 * SHA-256 through libcrypto's SHA256_Init()/Update()/Final(), deprecated
 * since OpenSSL 3.0 but kept through 3.x: the first EVP_Digest() of a
 * process loads OpenSSL 3's provider machinery, which leaves about 1.5 MB
 * resident for good, a fifth of the daemon's memory on a small box, where
 * these run the same SHA-256 code directly.  Declare the 1.1.1 API.
 */
#define OPENSSL_API_COMPAT 10101

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "alert.h"
#include "json.h"
#include "log.h"
#include "text.h"
#include "url.h"
#include "xmalloc.h"

/* Excerpts: how many, and how much text around the hit on each side. */
#define ALERT_MAX_EXCERPTS  3
#define ALERT_EXCERPT_BYTES 120
/* Entries named in a summary before "and N more". */
#define ALERT_SUMMARY_NAMES 3

void
alert_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_CTX ctx;
	unsigned int i;

	/* These only compute: nothing can make them fail. */
	if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, data, len) != 1 ||
	    SHA256_Final(md, &ctx) != 1)
		fatalx("sha256: SHA256_Final failed");
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
}

void
alert_format_time(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *
alert_strdup(const char *s)
{
	return s == NULL ? NULL : xstrdup(s);
}

/* Free a string the alert owns but shows through a const pointer. */
static void
alert_free_string(const char *s)
{
	free((void *)(uintptr_t)s);
}

/* The label of an entry: its first alias as written. */
static void
alert_entry_fill(
    struct alert_entry *ae, const struct watchlist_entry *e, uint32_t count)
{
	ae->id = xstrdup(e->id);
	ae->label = xstrdup(e->naliases > 0 ? e->aliases[0].text : e->id);
	ae->count = count;
	ae->has_coords = e->has_coords;
	ae->lat = e->lat;
	ae->lon = e->lon;
	memcpy(ae->country, e->country, sizeof ae->country);
}

static int
alert_is_space(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/*
 * Excerpts around the first hits of the entries that made the rule hold,
 * widened to whole words and merged when they overlap.  The text keeps the
 * document's bytes but folds white space into single spaces.
 */
static void
alert_excerpts(struct alert *a, const char *text, size_t len,
    const struct watchlist_hits *hits, const uint8_t *wanted)
{
	struct alert_excerpt *ex;
	struct buf b;
	size_t i, start, end, k;
	int space;

	buf_init(&b);
	a->excerpts = xcalloc(ALERT_MAX_EXCERPTS, sizeof *a->excerpts);
	for (i = 0; i < hits->n && a->nexcerpts < ALERT_MAX_EXCERPTS; i++) {
		if (!wanted[hits->v[i].entry])
			continue;
		start = hits->v[i].start > ALERT_EXCERPT_BYTES
		            ? hits->v[i].start - ALERT_EXCERPT_BYTES
		            : 0;
		end = hits->v[i].end + ALERT_EXCERPT_BYTES < len
		          ? hits->v[i].end + ALERT_EXCERPT_BYTES
		          : len;
		/* Widen to word edges, a little; never split a UTF-8 sequence.
		 */
		for (k = 0;
		     start > 0 && k < 32 && !alert_is_space(text[start - 1]);
		     k++)
			start--;
		while (start < hits->v[i].start &&
		       ((unsigned char)text[start] & 0xc0) == 0x80)
			start++;
		for (k = 0; end < len && k < 32 && !alert_is_space(text[end]);
		     k++)
			end++;
		while (end > hits->v[i].end && end < len &&
		       ((unsigned char)text[end] & 0xc0) == 0x80)
			end--;
		if (a->nexcerpts > 0 &&
		    start <= a->excerpts[a->nexcerpts - 1].end)
			continue; /* within the previous excerpt */
		ex = &a->excerpts[a->nexcerpts++];
		ex->start = start;
		ex->end = end;
		buf_reset(&b);
		if (start > 0)
			buf_add_str(&b, "\xe2\x80\xa6"); /* ... */
		space = 0;
		for (k = start; k < end; k++) {
			if (alert_is_space(text[k])) {
				space = 1;
				continue;
			}
			if (space && b.len > 0)
				buf_add_byte(&b, ' ');
			space = 0;
			buf_add_byte(&b, text[k]);
		}
		if (end < len)
			buf_add_str(&b, "\xe2\x80\xa6");
		ex->text = buf_detach(&b, NULL);
	}
	buf_release(&b);
}

/* Append "a, b, c" (and "and N more") of the entries' labels or ids. */
static void
alert_summary_names(
    struct buf *b, const struct alert_entry *v, size_t n, int use_id)
{
	size_t i;

	for (i = 0; i < n && i < ALERT_SUMMARY_NAMES; i++) {
		if (i > 0)
			buf_add_str(b, ", ");
		buf_add_str(b, use_id ? v[i].id : v[i].label);
	}
	if (n > ALERT_SUMMARY_NAMES)
		buf_printf(b, " and %zu more", n - ALERT_SUMMARY_NAMES);
}

/* "isis near Sirte: title", as DESIGN.md's example. */
static char *
alert_summary(const struct alert *a)
{
	struct buf b;
	const char *what;

	buf_init(&b);
	alert_summary_names(&b, a->terms, a->nterms, 1);
	if (a->nplaces > 0) {
		if (a->nterms > 0)
			buf_add_str(&b, " near ");
		alert_summary_names(&b, a->places, a->nplaces, 0);
	}
	if (a->nterms == 0 && a->nplaces == 0)
		buf_printf(&b, "rule %s", a->rule);
	what = a->source.title != NULL ? a->source.title : a->source.name;
	if (what != NULL && *what != '\0') {
		buf_add_str(&b, ": ");
		buf_add_str(&b, what);
	}
	return buf_detach(&b, NULL);
}

struct alert *
alert_new(const struct rule *r, const struct watchlist *wl, const char *text,
    size_t len, const struct watchlist_hits *hits, const uint32_t *entries,
    size_t nentries, const struct alert_source *src, const char *sha256,
    uint64_t bytes, int64_t now_ms)
{
	const struct watchlist_entry *e;
	struct alert *a;
	uint32_t *counts;
	uint8_t *wanted;
	struct buf idsrc;
	char hex[65];
	size_t i, n = watchlist_count(wl);

	a = xcalloc(1, sizeof *a);
	/* Same rule, same document bytes: same id, across restarts. */
	buf_init(&idsrc);
	buf_add_str(&idsrc, r->id);
	buf_add_byte(&idsrc, '\0');
	buf_add_str(&idsrc, sha256);
	alert_sha256_hex(idsrc.data, idsrc.len, hex);
	buf_release(&idsrc);
	memcpy(a->id, hex, 32);
	a->id[32] = '\0';
	a->time_ms = now_ms;
	a->rule = xstrdup(r->id);
	a->severity = r->severity;
	a->source.type = src->type;
	a->source.path = alert_strdup(src->path);
	a->source.name = alert_strdup(src->name);
	a->source.feed = alert_strdup(src->feed);
	a->source.title = alert_strdup(src->title);
	a->source.link = alert_strdup(src->link);
	a->source.entry_id = alert_strdup(src->entry_id);
	a->source.published = alert_strdup(src->published);
	snprintf(a->sha256, sizeof a->sha256, "%s", sha256);
	a->bytes = bytes;

	counts = xcalloc(n + 1, sizeof *counts);
	wanted = xcalloc(n + 1, sizeof *wanted);
	for (i = 0; i < hits->n; i++)
		counts[hits->v[i].entry]++;
	a->terms = xcalloc(nentries + 1, sizeof *a->terms);
	a->places = xcalloc(nentries + 1, sizeof *a->places);
	for (i = 0; i < nentries; i++) {
		e = watchlist_entry(wl, entries[i]);
		wanted[entries[i]] = 1;
		if (e->kind == WATCHLIST_PLACE)
			alert_entry_fill(
			    &a->places[a->nplaces++], e, counts[entries[i]]);
		else
			alert_entry_fill(
			    &a->terms[a->nterms++], e, counts[entries[i]]);
	}
	alert_excerpts(a, text, len, hits, wanted);
	a->summary = alert_summary(a);
	free(counts);
	free(wanted);
	return a;
}

struct alert *
alert_health_new(const char *feed_id, const char *url, int failing,
    const char *why, int64_t now_ms)
{
	struct alert *a;
	struct buf b;
	char hex[65];

	a = xcalloc(1, sizeof *a);
	a->kind = "feed-health";
	/* Every change of health is its own event. */
	buf_init(&b);
	buf_printf(&b, "feed-health%c%s%c%d%c%lld", '\0', feed_id, '\0',
	    failing, '\0', (long long)now_ms);
	alert_sha256_hex(b.data, b.len, hex);
	memcpy(a->id, hex, 32);
	a->id[32] = '\0';
	buf_reset(&b);
	if (failing)
		buf_printf(&b, "feed %s is failing: %s", feed_id,
		    why != NULL ? why : "unknown error");
	else
		buf_printf(&b, "feed %s works again", feed_id);
	a->summary = buf_detach(&b, NULL);
	a->time_ms = now_ms;
	a->rule = xstrdup("feed-health");
	a->severity = RULE_HIGH;
	a->source.type = ALERT_SOURCE_FEED;
	a->source.feed = xstrdup(feed_id);
	/* The feed's URL, but not a password or a token in its query. */
	a->source.link = url != NULL ? url_strip(url) : NULL;
	alert_sha256_hex("", 0, a->sha256);
	return a;
}

static void
alert_entries_release(struct alert_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].label);
	}
	free(v);
}

void
alert_free(struct alert *a)
{
	size_t i;

	if (a == NULL)
		return;
	free(a->rule);
	free(a->summary);
	alert_free_string(a->source.path);
	alert_free_string(a->source.name);
	alert_free_string(a->source.feed);
	alert_free_string(a->source.title);
	alert_free_string(a->source.link);
	alert_free_string(a->source.entry_id);
	alert_free_string(a->source.published);
	alert_entries_release(a->terms, a->nterms);
	alert_entries_release(a->places, a->nplaces);
	for (i = 0; i < a->nexcerpts; i++)
		free(a->excerpts[i].text);
	free(a->excerpts);
	free(a);
}

/* `,"key":"value"` when value is set. */
static void
alert_json_opt(struct buf *out, const char *key, const char *value)
{
	if (value == NULL)
		return;
	buf_add_byte(out, ',');
	json_add_kv_cstring(out, key, value);
}

static void
alert_json_entries(
    struct buf *out, const char *key, const struct alert_entry *v, size_t n)
{
	size_t i;

	buf_add_byte(out, ',');
	json_add_key(out, key);
	buf_add_byte(out, '[');
	for (i = 0; i < n; i++) {
		buf_add_str(out, i > 0 ? ",{" : "{");
		json_add_kv_cstring(out, "id", v[i].id);
		alert_json_opt(out, "label", v[i].label);
		buf_add_byte(out, ',');
		json_add_kv_uint(out, "count", v[i].count);
		if (v[i].has_coords) {
			buf_add_byte(out, ',');
			json_add_kv_double(out, "lat", v[i].lat);
			buf_add_byte(out, ',');
			json_add_kv_double(out, "lon", v[i].lon);
		}
		if (v[i].country[0] != '\0')
			alert_json_opt(out, "country", v[i].country);
		buf_add_byte(out, '}');
	}
	buf_add_byte(out, ']');
}

void
alert_json(const struct alert *a, struct buf *out)
{
	char when[32];
	size_t i;

	alert_format_time(a->time_ms, when);
	buf_add_byte(out, '{');
	json_add_kv_cstring(out, "id", a->id);
	alert_json_opt(out, "kind", a->kind);
	alert_json_opt(out, "time", when);
	alert_json_opt(out, "rule", a->rule);
	alert_json_opt(out, "severity", rule_severity_name(a->severity));
	alert_json_opt(out, "summary", a->summary);

	buf_add_str(out, ",\"source\":{");
	if (a->source.type == ALERT_SOURCE_FEED) {
		json_add_kv_cstring(out, "type", "feed");
		alert_json_opt(out, "feed", a->source.feed);
		alert_json_opt(out, "title", a->source.title);
		alert_json_opt(out, "link", a->source.link);
		alert_json_opt(out, "entry_id", a->source.entry_id);
		alert_json_opt(out, "published", a->source.published);
	} else {
		json_add_kv_cstring(out, "type", "inbox");
		alert_json_opt(out, "path", a->source.path);
		alert_json_opt(out, "name", a->source.name);
		alert_json_opt(out, "title", a->source.title);
		alert_json_opt(out, "link", a->source.link);
	}
	buf_add_byte(out, '}');

	alert_json_entries(out, "terms", a->terms, a->nterms);
	alert_json_entries(out, "places", a->places, a->nplaces);

	buf_add_str(out, ",\"excerpts\":[");
	for (i = 0; i < a->nexcerpts; i++) {
		buf_add_str(out, i > 0 ? ",{" : "{");
		json_add_kv_cstring(out, "text", a->excerpts[i].text);
		buf_add_byte(out, ',');
		json_add_kv_uint(out, "start", a->excerpts[i].start);
		buf_add_byte(out, ',');
		json_add_kv_uint(out, "end", a->excerpts[i].end);
		buf_add_byte(out, '}');
	}
	buf_add_str(out, "],\"document\":{");
	json_add_kv_cstring(out, "sha256", a->sha256);
	buf_add_byte(out, ',');
	json_add_kv_uint(out, "bytes", a->bytes);
	buf_add_byte(out, '}');
	if (a->suppressed > 0) {
		buf_add_byte(out, ',');
		json_add_kv_uint(out, "suppressed", a->suppressed);
	}
	buf_add_byte(out, '}');
}

void
alert_log_line(const struct alert *a, struct buf *out)
{
	struct buf line;
	size_t i;

	buf_init(&line);
	buf_printf(&line, "alert %s rule %s (%s): %s", a->id, a->rule,
	    rule_severity_name(a->severity), a->summary);
	for (i = 0; i < a->nterms; i++)
		buf_printf(&line, "%s %s x%u", i == 0 ? "; terms" : ",",
		    a->terms[i].id, a->terms[i].count);
	for (i = 0; i < a->nplaces; i++)
		buf_printf(&line, "%s %s x%u", i == 0 ? "; places" : ",",
		    a->places[i].id, a->places[i].count);
	/* A health alert's link is a configured URL: the log has the feed. */
	if (a->source.path != NULL)
		buf_printf(&line, "; %s", a->source.path);
	else if (a->source.link != NULL && a->kind == NULL)
		buf_printf(&line, "; %s", a->source.link);
	if (a->suppressed > 0)
		buf_printf(&line, "; %u throttled before", a->suppressed);
	text_escape(out, line.data, line.len, TEXT_ESCAPE_SPACE);
	buf_release(&line);
}
