/*
 * Unit tests for webhook.c: each format's payload (parsed back with cJSON),
 * the Standard Webhooks signature, secrets, backoff and routing; then
 * delivery from a real spool through http.c to a loopback receiver.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "alert.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "http.h"
#include "rule.h"
#include "spool.h"
#include "test_server.h"
#include "webhook.h"

/* The Standard Webhooks specification's test vector. */
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TS     1614265330
#define SPEC_BODY   "{\"test\": 2432232314}"
#define SPEC_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

#define ALERT_ID "7f1c0e5d9a3b4c2d8e6f1a0b9c8d7e6f"

static char *
xdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* The alert of DESIGN.md, from a feed; inbox = 1 makes it an inbox one. */
static struct alert *
make_alert(int inbox)
{
	struct alert *a = calloc(1, sizeof *a);

	memcpy(a->id, ALERT_ID, sizeof a->id);
	a->time_ms = 1795262400000LL; /* 2026-11-21T12:00:00Z */
	a->rule = xdup("isis-coast");
	a->severity = RULE_HIGH;
	a->summary = xdup("isis near Sirte: Why Europe should worry about "
	                  "ISIS in Libya");
	if (inbox) {
		a->source.type = ALERT_SOURCE_INBOX;
		a->source.path = xdup("/var/lib/watchlistd/inbox/report.html");
		a->source.name = xdup("report.html");
		a->source.title = xdup("Weekly report");
	} else {
		a->source.type = ALERT_SOURCE_FEED;
		a->source.feed = xdup("libya-news");
		a->source.title = xdup("Why Europe should worry about ISIS in "
		                       "Libya");
		a->source.link = xdup("https://news.example/libya/isis-sirte");
		a->source.entry_id = xdup("tag:news.example,2026:4711");
		a->source.published = xdup("2026-11-21T11:52:00Z");
	}
	a->nterms = 1;
	a->terms = calloc(1, sizeof *a->terms);
	a->terms[0].id = xdup("isis");
	a->terms[0].label = xdup("ISIS");
	a->terms[0].count = 7;
	a->nplaces = 1;
	a->places = calloc(1, sizeof *a->places);
	a->places[0].id = xdup("sirte");
	a->places[0].label = xdup("Sirte");
	a->places[0].count = 3;
	a->places[0].has_coords = 1;
	a->places[0].lat = 31.2089;
	a->places[0].lon = 16.5887;
	memcpy(a->places[0].country, "LY", 3);
	a->nexcerpts = 1;
	a->excerpts = calloc(1, sizeof *a->excerpts);
	a->excerpts[0].text = xdup("\xe2\x80\xa6posted a series of propaganda "
	                           "photos from the coastal city of Sirte, "
	                           "where fighters\xe2\x80\xa6");
	a->excerpts[0].start = 2310;
	a->excerpts[0].end = 2460;
	memset(a->sha256, 'a', 64);
	a->sha256[64] = '\0';
	a->bytes = 8504;
	return a;
}

/* Render a in format f and parse it back; the caller frees the tree. */
static cJSON *
render(enum config_format f, const struct alert *a)
{
	struct buf b;
	cJSON *j;

	buf_init(&b);
	webhook_render(f, a, &b);
	j = cJSON_ParseWithLength(b.data, b.len);
	if (j == NULL)
		fail_msg("not JSON: %s", b.data);
	buf_release(&b);
	return j;
}

static const char *
jstr(const cJSON *j, const char *path)
{
	char key[64];
	const char *p = path, *dot;
	size_t n;

	while (j != NULL && *p != '\0') {
		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		snprintf(key, sizeof key, "%.*s", (int)n, p);
		if (key[0] >= '0' && key[0] <= '9')
			j = cJSON_GetArrayItem(j, atoi(key));
		else
			j = cJSON_GetObjectItemCaseSensitive(j, key);
		p += n + (dot != NULL);
	}
	if (j == NULL)
		return NULL;
	if (cJSON_IsString(j))
		return j->valuestring;
	return "";
}

static const cJSON *
jget(const cJSON *j, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(j, key);
}

static void
assert_contains(const char *s, const char *part)
{
	if (s == NULL || strstr(s, part) == NULL)
		fail_msg(
		    "\"%s\" does not contain \"%s\"", s ? s : "(null)", part);
}

static void
test_render_json(void **state)
{
	struct alert *a = make_alert(0);
	cJSON *j = render(CONFIG_FORMAT_JSON, a);

	assert_string_equal(jstr(j, "id"), ALERT_ID);
	assert_string_equal(jstr(j, "rule"), "isis-coast");
	assert_string_equal(jstr(j, "severity"), "high");
	assert_string_equal(jstr(j, "source.type"), "feed");
	assert_string_equal(jstr(j, "source.feed"), "libya-news");
	assert_string_equal(jstr(j, "places.0.country"), "LY");
	cJSON_Delete(j);
	alert_free(a);
}

static void
test_render_slack(void **state)
{
	struct alert *a = make_alert(0);
	cJSON *j = render(CONFIG_FORMAT_SLACK, a);
	const cJSON *blocks = jget(j, "blocks"), *b;
	int i, n, header = 0, fields = 0, quote = 0, link = 0;

	assert_contains(jstr(j, "text"), "HIGH isis-coast: isis near Sirte");
	assert_true(cJSON_IsArray(blocks));
	n = cJSON_GetArraySize(blocks);
	for (i = 0; i < n; i++) {
		b = cJSON_GetArrayItem(blocks, i);
		if (strcmp(jstr(b, "type"), "header") == 0) {
			header = 1;
			assert_string_equal(jstr(b, "text.type"), "plain_text");
			assert_contains(jstr(b, "text.text"), "HIGH");
			assert_contains(jstr(b, "text.text"), "isis-coast");
		} else if (jget(b, "fields") != NULL) {
			fields = 1;
			assert_contains(jstr(b, "fields.0.text"), "ISIS (7)");
			assert_contains(jstr(b, "fields.1.text"),
			    "Sirte (3) at 31.2089, 16.5887, LY");
			assert_contains(
			    jstr(b, "fields.2.text"), "feed libya-news");
		} else if (strcmp(jstr(b, "type"), "section") == 0 &&
		           strncmp(jstr(b, "text.text"), "> ", 2) == 0) {
			quote = 1;
			assert_contains(jstr(b, "text.text"), "Sirte");
		} else if (strcmp(jstr(b, "type"), "context") == 0) {
			link = 1;
			assert_contains(jstr(b, "elements.0.text"),
			    "<https://news.example/libya/isis-sirte|");
			assert_contains(jstr(b, "elements.0.text"), ALERT_ID);
		}
	}
	assert_true(header && fields && quote && link);
	cJSON_Delete(j);
	alert_free(a);
}

static void
test_render_discord(void **state)
{
	struct alert *a = make_alert(0);
	cJSON *j = render(CONFIG_FORMAT_DISCORD, a);
	const cJSON *e, *colour;

	assert_contains(jstr(j, "content"), "**HIGH**");
	assert_true(cJSON_GetArraySize(
	                jget(jget(j, "allowed_mentions"), "parse")) == 0);
	e = cJSON_GetArrayItem(jget(j, "embeds"), 0);
	assert_non_null(e);
	assert_contains(jstr(e, "title"), "isis near Sirte");
	assert_string_equal(
	    jstr(e, "url"), "https://news.example/libya/isis-sirte");
	assert_contains(jstr(e, "description"), "> ");
	assert_string_equal(jstr(e, "timestamp"), "2026-11-21T12:00:00Z");
	colour = jget(e, "color");
	assert_true(cJSON_IsNumber(colour));
	assert_int_equal((int)colour->valuedouble, 0xe67e22);
	assert_string_equal(jstr(e, "fields.0.name"), "Terms");
	assert_string_equal(jstr(e, "fields.0.value"), "ISIS (7)");
	assert_string_equal(jstr(e, "fields.1.name"), "Places");
	assert_string_equal(jstr(e, "fields.2.name"), "Source");
	assert_contains(jstr(e, "footer.text"), ALERT_ID);
	cJSON_Delete(j);
	alert_free(a);
}

static void
test_render_teams(void **state)
{
	struct alert *a = make_alert(0);
	cJSON *j = render(CONFIG_FORMAT_TEAMS, a);
	const cJSON *card;

	assert_string_equal(jstr(j, "type"), "message");
	assert_string_equal(jstr(j, "attachments.0.contentType"),
	    "application/vnd.microsoft.card.adaptive");
	card = jget(cJSON_GetArrayItem(jget(j, "attachments"), 0), "content");
	assert_string_equal(jstr(card, "type"), "AdaptiveCard");
	assert_string_equal(jstr(card, "version"), "1.4");
	assert_contains(jstr(card, "body.0.text"), "HIGH");
	assert_string_equal(jstr(card, "body.0.color"), "Attention");
	assert_contains(jstr(card, "body.1.text"), "isis near Sirte");
	assert_string_equal(jstr(card, "body.2.type"), "FactSet");
	assert_string_equal(jstr(card, "body.2.facts.0.title"), "Terms");
	assert_string_equal(jstr(card, "body.2.facts.1.value"),
	    "Sirte (3) at 31.2089, 16.5887, LY");
	assert_contains(jstr(card, "body.3.items.0.text"), "propaganda");
	assert_string_equal(jstr(card, "actions.0.type"), "Action.OpenUrl");
	assert_string_equal(jstr(card, "actions.0.url"),
	    "https://news.example/libya/isis-sirte");
	cJSON_Delete(j);
	alert_free(a);
}

static void
test_render_ntfy(void **state)
{
	struct alert *a = make_alert(0);
	cJSON *j = render(CONFIG_FORMAT_NTFY, a);
	const cJSON *prio;

	/* The topic is added at delivery, from the URL. */
	assert_null(jget(j, "topic"));
	assert_contains(jstr(j, "title"), "HIGH");
	assert_contains(jstr(j, "message"), "isis near Sirte");
	assert_contains(jstr(j, "message"), "Places: Sirte (3)");
	assert_contains(jstr(j, "message"), "> ");
	prio = jget(j, "priority");
	assert_int_equal((int)prio->valuedouble, 4);
	assert_string_equal(jstr(j, "tags.1"), "high");
	assert_string_equal(jstr(j, "tags.2"), "isis-coast");
	assert_string_equal(
	    jstr(j, "click"), "https://news.example/libya/isis-sirte");
	cJSON_Delete(j);

	a->severity = RULE_CRITICAL;
	j = render(CONFIG_FORMAT_NTFY, a);
	assert_int_equal((int)jget(j, "priority")->valuedouble, 5);
	assert_string_equal(jstr(j, "tags.0"), "rotating_light");
	cJSON_Delete(j);
	alert_free(a);
}

static void
test_render_alertmanager(void **state)
{
	struct alert *a = make_alert(0);
	cJSON *j = render(CONFIG_FORMAT_ALERTMANAGER, a);
	const cJSON *al, *v;

	assert_true(cJSON_IsArray(j));
	assert_int_equal(cJSON_GetArraySize(j), 1);
	al = cJSON_GetArrayItem(j, 0);
	assert_string_equal(jstr(al, "labels.alertname"), "watchlistd");
	assert_string_equal(jstr(al, "labels.rule"), "isis-coast");
	assert_string_equal(jstr(al, "labels.severity"), "high");
	assert_string_equal(jstr(al, "labels.source"), "feed:libya-news");
	assert_string_equal(jstr(al, "labels.alert_id"), ALERT_ID);
	assert_contains(jstr(al, "annotations.summary"), "isis near Sirte");
	assert_contains(jstr(al, "annotations.description"), "propaganda");
	assert_string_equal(jstr(al, "annotations.link"),
	    "https://news.example/libya/isis-sirte");
	assert_string_equal(jstr(al, "annotations.terms"), "ISIS (7)");
	assert_contains(jstr(al, "annotations.places"), "31.2089");
	assert_string_equal(jstr(al, "startsAt"), "2026-11-21T12:00:00Z");
	assert_string_equal(
	    jstr(al, "generatorURL"), "https://news.example/libya/isis-sirte");
	/* Label and annotation values must all be strings. */
	cJSON_ArrayForEach(v, jget(al, "labels"))
	    assert_true(cJSON_IsString(v));
	cJSON_ArrayForEach(v, jget(al, "annotations"))
	    assert_true(cJSON_IsString(v));
	cJSON_Delete(j);
	alert_free(a);
}

/* An inbox document has no link: no link fields anywhere. */
static void
test_render_inbox(void **state)
{
	struct alert *a = make_alert(1);
	cJSON *j;
	const cJSON *al;

	j = render(CONFIG_FORMAT_ALERTMANAGER, a);
	al = cJSON_GetArrayItem(j, 0);
	assert_string_equal(jstr(al, "labels.source"), "inbox");
	assert_null(jget(al, "generatorURL"));
	assert_null(jget(jget(al, "annotations"), "link"));
	assert_contains(jstr(al, "annotations.description"),
	    "inbox report.html: Weekly report");
	cJSON_Delete(j);

	j = render(CONFIG_FORMAT_DISCORD, a);
	assert_null(jget(cJSON_GetArrayItem(jget(j, "embeds"), 0), "url"));
	cJSON_Delete(j);

	j = render(CONFIG_FORMAT_NTFY, a);
	assert_null(jget(j, "click"));
	assert_contains(jstr(j, "message"), "Source: inbox report.html");
	cJSON_Delete(j);

	j = render(CONFIG_FORMAT_TEAMS, a);
	assert_null(
	    jget(cJSON_GetObjectItem(
	             cJSON_GetArrayItem(jget(j, "attachments"), 0), "content"),
	        "actions"));
	cJSON_Delete(j);

	j = render(CONFIG_FORMAT_JSON, a);
	assert_string_equal(jstr(j, "source.type"), "inbox");
	assert_string_equal(jstr(j, "source.name"), "report.html");
	cJSON_Delete(j);
	alert_free(a);
}

/*
 * Hostile text: quotes, control characters, bad UTF-8, Slack's <!channel>,
 * a javascript: link, and far more text than any service takes.
 */
static void
test_render_hostile(void **state)
{
	static const enum config_format formats[] = {CONFIG_FORMAT_JSON,
	    CONFIG_FORMAT_SLACK, CONFIG_FORMAT_DISCORD, CONFIG_FORMAT_TEAMS,
	    CONFIG_FORMAT_NTFY, CONFIG_FORMAT_ALERTMANAGER};
	struct alert *a = make_alert(0);
	struct buf big;
	cJSON *j;
	size_t i;

	buf_init(&big);
	for (i = 0; i < 3000; i++)
		buf_add_str(&big, "\xd8\xb3\xd8\xb1\xd8\xaa ");
	free(a->summary);
	a->summary = xdup("<!channel> \"q\" & \x01\xff\n@everyone");
	free((void *)(uintptr_t)a->source.link);
	a->source.link = xdup("javascript:alert(1)");
	free(a->excerpts[0].text);
	a->excerpts[0].text = strdup(big.data);
	buf_release(&big);

	for (i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		j = render(formats[i], a);
		cJSON_Delete(j);
	}

	j = render(CONFIG_FORMAT_SLACK, a);
	assert_contains(jstr(j, "text"), "&lt;!channel&gt; \"q\" &amp;");
	assert_true(strlen(jstr(j, "blocks.0.text.text")) <= 150);
	assert_true(strlen(jstr(j, "blocks.3.text.text")) <= 3000);
	assert_null(strstr(jstr(j, "blocks.4.elements.0.text"), "javascript"));
	cJSON_Delete(j);

	j = render(CONFIG_FORMAT_DISCORD, a);
	assert_null(jget(cJSON_GetArrayItem(jget(j, "embeds"), 0), "url"));
	assert_true(strlen(jstr(j, "embeds.0.description")) <= 4096);
	assert_true(strlen(jstr(j, "embeds.0.title")) <= 256);
	cJSON_Delete(j);

	j = render(CONFIG_FORMAT_NTFY, a);
	assert_true(strlen(jstr(j, "message")) <= 4096);
	/* Clipped on a character boundary, ending with an ellipsis. */
	assert_non_null(strstr(jstr(j, "message"), "\xe2\x80\xa6"));
	cJSON_Delete(j);
	alert_free(a);
}

static void
test_sign_vector(void **state)
{
	struct buf key, sig;
	char *cause = NULL;

	buf_init(&key);
	buf_init(&sig);
	assert_int_equal(webhook_secret_load(SPEC_SECRET, &key, &cause), 0);
	assert_int_equal(key.len, 24);
	webhook_sign(
	    &key, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), &sig);
	assert_string_equal(sig.data, SPEC_SIG);

	/* Any change to id, time or body changes the signature. */
	buf_reset(&sig);
	webhook_sign(
	    &key, SPEC_ID, SPEC_TS + 1, SPEC_BODY, strlen(SPEC_BODY), &sig);
	assert_string_not_equal(sig.data, SPEC_SIG);
	buf_reset(&sig);
	webhook_sign(
	    &key, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY) - 1, &sig);
	assert_string_not_equal(sig.data, SPEC_SIG);
	buf_release(&key);
	buf_release(&sig);
}

/* Load spec and expect an error whose text holds want and no secret. */
static void
secret_fails(const char *spec, const char *want)
{
	struct buf key;
	char *cause = NULL;

	buf_init(&key);
	assert_int_equal(webhook_secret_load(spec, &key, &cause), -1);
	assert_non_null(cause);
	assert_contains(cause, want);
	assert_null(strstr(cause, "MfKQ9r8G"));
	assert_null(strstr(cause, "c2VjcmV0"));
	free(cause);
	buf_release(&key);
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fclose(fp);
}

static void
test_secrets(void **state)
{
	char dir[] = "/tmp/test_webhook.XXXXXX", path[256], spec[300];
	char big[5000];
	struct buf key, want;
	char *cause = NULL;

	buf_init(&key);
	buf_init(&want);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(webhook_secret_load(SPEC_SECRET, &want, &cause), 0);

	/* file: with white space around. */
	snprintf(path, sizeof path, "%s/ops.secret", dir);
	write_file(path, "  " SPEC_SECRET "\n\n", strlen(SPEC_SECRET) + 4);
	snprintf(spec, sizeof spec, "file:%s", path);
	assert_int_equal(webhook_secret_load(spec, &key, &cause), 0);
	assert_int_equal(key.len, want.len);
	assert_memory_equal(key.data, want.data, key.len);

	/* env: */
	setenv("TEST_WEBHOOK_SECRET", SPEC_SECRET, 1);
	buf_reset(&key);
	assert_int_equal(
	    webhook_secret_load("env:TEST_WEBHOOK_SECRET", &key, &cause), 0);
	assert_memory_equal(key.data, want.data, want.len);
	unsetenv("TEST_WEBHOOK_SECRET");
	secret_fails("env:TEST_WEBHOOK_SECRET",
	    "environment variable TEST_WEBHOOK_SECRET is not set");
	setenv("TEST_WEBHOOK_SECRET", "c2VjcmV0c2VjcmV0c2VjcmV0", 1);
	secret_fails("env:TEST_WEBHOOK_SECRET", "does not start with whsec_");
	unsetenv("TEST_WEBHOOK_SECRET");

	/* credential: from $CREDENTIALS_DIRECTORY. */
	unsetenv("CREDENTIALS_DIRECTORY");
	secret_fails("credential:ops.secret", "CREDENTIALS_DIRECTORY");
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	buf_reset(&key);
	assert_int_equal(
	    webhook_secret_load("credential:ops.secret", &key, &cause), 0);
	assert_memory_equal(key.data, want.data, want.len);
	secret_fails("credential:missing", "cannot open");
	secret_fails("credential:../etc/passwd", "not a credential name");
	unsetenv("CREDENTIALS_DIRECTORY");

	/* Bad secrets. */
	secret_fails("whsec_MfKQ9r8G!!!", "not base64");
	secret_fails("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=", "not base64");
	secret_fails("whsec_c2VjcmV0", "too short: 6 bytes");
	secret_fails("c2VjcmV0c2VjcmV0c2VjcmV0", "a secret must be whsec_");
	secret_fails("file:relative/path", "must be absolute");
	secret_fails("file:/nonexistent/x", "cannot open /nonexistent/x");
	snprintf(spec, sizeof spec, "file:%s", dir);
	secret_fails(spec, "is not a regular file");
	memset(big, ' ', sizeof big);
	write_file(path, big, sizeof big);
	snprintf(spec, sizeof spec, "file:%s", path);
	secret_fails(spec, "larger than 4096 bytes");
	write_file(path, "c2VjcmV0c2VjcmV0c2VjcmV0\n", 25);
	secret_fails(spec, "does not start with whsec_");

	unlink(path);
	rmdir(dir);
	buf_release(&key);
	buf_release(&want);
}

static void
test_backoff(void **state)
{
	/* First retry: backoff scaled into [0.5, 1.0). */
	assert_int_equal(webhook_backoff_ms(1, 5000, 3600000, 0.0), 2500);
	assert_in_range(
	    webhook_backoff_ms(1, 5000, 3600000, 0.999), 4990, 4999);
	/* Doubling. */
	assert_int_equal(webhook_backoff_ms(2, 5000, 3600000, 0.0), 5000);
	assert_int_equal(webhook_backoff_ms(3, 5000, 3600000, 0.0), 10000);
	assert_int_equal(
	    webhook_backoff_ms(10, 5000, 3600000, 0.0), 5000 * 512 / 2);
	/* Capped, even after very many attempts. */
	assert_int_equal(webhook_backoff_ms(11, 5000, 3600000, 0.0), 1800000);
	assert_int_equal(
	    webhook_backoff_ms(UINT32_MAX, 5000, 3600000, 0.0), 1800000);
	assert_true(
	    webhook_backoff_ms(UINT32_MAX, 5000, 3600000, 0.999999) < 3600000);
	/* No overflow near the top of the range. */
	assert_true(webhook_backoff_ms(70, INT64_MAX / 4, INT64_MAX, 0.0) > 0);
	assert_true(webhook_backoff_ms(
	                70, INT64_MAX / 4, INT64_MAX, 0.9999999999999999) > 0);
	/* attempts 0 counts as the first; rnd out of range is 0. */
	assert_int_equal(webhook_backoff_ms(0, 1000, 2000, 0.0), 500);
	assert_int_equal(webhook_backoff_ms(1, 1000, 2000, 1.5), 500);
	assert_int_equal(webhook_backoff_ms(1, 1000, 2000, -1.0), 500);
}

static void
test_routes(void **state)
{
	static char ops[] = "ops", press[] = "press";
	char *notify[] = {ops, press};
	struct config_webhook wh;
	struct rule r;

	memset(&wh, 0, sizeof wh);
	memset(&r, 0, sizeof r);
	wh.id = ops;
	wh.min_severity = RULE_MEDIUM;
	assert_false(webhooks_routes(&wh, &r, RULE_LOW));
	assert_true(webhooks_routes(&wh, &r, RULE_MEDIUM));
	assert_true(webhooks_routes(&wh, &r, RULE_CRITICAL));
	r.notify = notify;
	r.nnotify = 2;
	assert_true(webhooks_routes(&wh, &r, RULE_HIGH));
	r.nnotify = 1;
	wh.id = press;
	assert_false(webhooks_routes(&wh, &r, RULE_HIGH));
	r.notify = notify + 1;
	assert_true(webhooks_routes(&wh, &r, RULE_HIGH));
	assert_false(webhooks_routes(&wh, &r, RULE_LOW));
}

/*
 * Delivery.  A fixture holds a loop, the HTTP client, a spool in a new
 * directory, the webhooks, and a receiver whose answers depend on the path.
 */
struct dfx {
	struct event_base *base;
	struct http *http;
	struct spool *spool;
	struct webhooks *ws;
	struct test_server *srv;
	char dir[64];

	struct config cf;
	struct config_webhook wh;
	struct config_webhook *whs[1];
	char *url;

	int fails; /* /flaky: answers 500 this many times */
};

static struct dfx dx;
static char hook_id[] = "ops";
static char hook_secret[64];

static void
receiver(const struct test_server_request *req, struct test_server_reply *r,
    void *arg)
{
	const char *p = req->path;

	if (strcmp(p, "/ok") == 0 || strncmp(p, "/?", 2) == 0)
		r->status = 204;
	else if (strcmp(p, "/500") == 0) {
		r->status = 500;
		r->body = "broken\n\x1b[31mred";
	} else if (strcmp(p, "/flaky") == 0) {
		if (__atomic_fetch_sub(&dx.fails, 1, __ATOMIC_SEQ_CST) > 0)
			r->status = 503;
	} else if (strcmp(p, "/429") == 0) {
		r->status = 429;
		r->headers = "Retry-After: 2\r\n";
	} else if (strcmp(p, "/410") == 0)
		r->status = 410;
	else if (strcmp(p, "/301") == 0) {
		r->status = 301;
		r->headers = "Location: /ok\r\n";
	} else if (strcmp(p, "/slow") == 0)
		r->delay_ms = 150;
	else if (strcmp(p, "/hang") == 0)
		r->hang = 1;
	else if (strcmp(p, "/big") == 0)
		r->filler = 200000;
	else {
		r->status = 404;
		r->body = "no such hook";
	}
}

/* Point webhook "ops" at path and apply the configuration. */
static void
configure(const char *path, enum config_format format, const char *secret)
{
	char *cause = NULL;

	free(dx.url);
	dx.url = test_server_url(dx.srv, path);
	dx.wh.url = dx.url;
	dx.wh.format = format;
	dx.wh.secret = NULL;
	if (secret != NULL) {
		snprintf(hook_secret, sizeof hook_secret, "%s", secret);
		dx.wh.secret = hook_secret;
	}
	if (webhooks_configure(dx.ws, &dx.cf, &cause) != 0)
		fail_msg("configure: %s", cause);
}

static int
dsetup(void **state)
{
	char *cause = NULL;

	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	memset(&dx, 0, sizeof dx);
	snprintf(dx.dir, sizeof dx.dir, "/tmp/test_webhook.XXXXXX");
	assert_non_null(mkdtemp(dx.dir));
	dx.base = event_base_new();
	dx.http = http_new(dx.base, &cause);
	dx.spool = spool_open(dx.dir, 1 << 20, &cause);
	if (dx.spool == NULL)
		fail_msg("spool_open: %s", cause);
	dx.ws = webhooks_new(dx.base, dx.http, dx.spool);
	dx.srv = test_server_start(receiver, NULL);

	dx.wh.id = hook_id;
	dx.wh.timeout_ms = 5000;
	dx.wh.connect_timeout_ms = 2000;
	dx.wh.backoff_ms = 100;
	dx.wh.backoff_max_ms = 1000;
	dx.wh.retry_for_ms = 3600000;
	dx.wh.min_severity = RULE_LOW;
	dx.wh.concurrency = 4;
	dx.whs[0] = &dx.wh;
	dx.cf.webhooks = dx.whs;
	dx.cf.nwebhooks = 1;
	return 0;
}

static int
dteardown(void **state)
{
	char cmd[128];

	webhooks_free(dx.ws);
	http_free(dx.http);
	spool_close(dx.spool);
	test_server_stop(dx.srv);
	event_base_free(dx.base);
	free(dx.url);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dx.dir);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Spool a delivery of alert nn to webhook hook. */
static void
put(const char *hook, int nn, const char *body)
{
	char id[33], *cause = NULL;

	snprintf(id, sizeof id, "%032d", nn);
	if (spool_put(
	        dx.spool, hook, id, now_ms(), body, strlen(body), &cause) != 0)
		fail_msg("spool_put: %s", cause);
}

/* A kick starts deliveries on the next turn of the loop: take that turn. */
static void
kick(void)
{
	webhooks_kick(dx.ws);
	event_base_loop(dx.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* Run the loop until the spool holds n entries (or ms pass). */
static void
wait_spool(size_t n, int ms)
{
	int64_t end = now_ms() + ms;

	while (spool_count(dx.spool) != n && now_ms() < end)
		test_loop_for(dx.base, 10);
	assert_int_equal(spool_count(dx.spool), n);
}

static void
wait_requests(size_t n, int ms)
{
	int64_t end = now_ms() + ms;

	while (test_server_count(dx.srv) < n && now_ms() < end)
		test_loop_for(dx.base, 10);
	assert_int_equal(test_server_count(dx.srv), n);
}

/* The dead/ reason of alert nn, or NULL. */
static char *
dead_reason(int nn)
{
	char path[256], *text;
	FILE *fp;
	long n;

	snprintf(path, sizeof path, "%s/dead/%032d.ops.reason", dx.dir, nn);
	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	text = calloc(1, 4097);
	n = (long)fread(text, 1, 4096, fp);
	text[n] = '\0';
	fclose(fp);
	return text;
}

/* Check a received request's Standard Webhooks headers like a receiver. */
static void
verify(const struct test_server_request *r, const char *secret,
    const char *want_id)
{
	struct buf key, msg;
	unsigned char mac[EVP_MAX_MD_SIZE], b64[128];
	unsigned int maclen = 0;
	char *id = test_server_header(r, "webhook-id");
	char *ts = test_server_header(r, "webhook-timestamp");
	char *sig = test_server_header(r, "webhook-signature");
	char *ct = test_server_header(r, "Content-Type");
	char *cause = NULL, want[160];
	long long t;

	assert_string_equal(id, want_id);
	assert_string_equal(ct, "application/json");
	assert_non_null(ts);
	t = atoll(ts);
	assert_true(llabs(t - (long long)time(NULL)) <= 300);
	if (secret == NULL)
		assert_null(sig);
	else {
		buf_init(&key);
		buf_init(&msg);
		assert_int_equal(webhook_secret_load(secret, &key, &cause), 0);
		buf_printf(&msg, "%s.%s.", id, ts);
		buf_add(&msg, r->body, r->bodylen);
		HMAC(EVP_sha256(), key.data, (int)key.len,
		    (const unsigned char *)msg.data, msg.len, mac, &maclen);
		EVP_EncodeBlock(b64, mac, (int)maclen);
		snprintf(want, sizeof want, "v1,%s", (char *)b64);
		assert_string_equal(sig, want);
		buf_release(&key);
		buf_release(&msg);
	}
	free(id);
	free(ts);
	free(sig);
	free(ct);
}

static void
test_deliver_ok(void **state)
{
	struct test_server_request *r;

	configure("/ok", CONFIG_FORMAT_JSON, SPEC_SECRET);
	put("ops", 1, "{\"n\":1}");
	kick();
	assert_int_equal(webhooks_inflight(dx.ws), 1);
	wait_spool(0, 5000);
	assert_int_equal(webhooks_inflight(dx.ws), 0);
	r = test_server_get(dx.srv, 0);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->path, "/ok");
	assert_string_equal(r->body, "{\"n\":1}");
	verify(r, SPEC_SECRET, "00000000000000000000000000000001");
	test_server_request_free(r);

	/* Without a secret: no signature. */
	configure("/ok", CONFIG_FORMAT_JSON, NULL);
	put("ops", 2, "{\"n\":2}");
	webhooks_kick(dx.ws);
	wait_spool(0, 5000);
	r = test_server_get(dx.srv, 1);
	verify(r, NULL, "00000000000000000000000000000002");
	test_server_request_free(r);
}

/* A 2xx is a delivery even when the answer is too long to keep. */
static void
test_deliver_big_answer(void **state)
{
	configure("/big", CONFIG_FORMAT_JSON, NULL);
	put("ops", 26, "{}");
	webhooks_kick(dx.ws);
	wait_spool(0, 5000);
	assert_int_equal(test_server_count(dx.srv), 1);
	assert_null(dead_reason(26));
}

/* A 5xx is retried after backoff, with the same webhook-id. */
static void
test_deliver_retry(void **state)
{
	struct test_server_request *r1, *r2;
	struct spool_entry *e;
	int64_t t;
	char *id1, *id2;

	dx.fails = 1;
	configure("/flaky", CONFIG_FORMAT_JSON, SPEC_SECRET);
	put("ops", 3, "{\"n\":3}");
	t = clock_monotonic_ms(); /* retry times are monotonic */
	webhooks_kick(dx.ws);
	wait_requests(1, 5000);
	test_loop_for(dx.base, 20);
	e = spool_entry_at(dx.spool, 0);
	assert_non_null(e);
	assert_int_equal(e->attempts, 1);
	assert_false(e->busy);
	/* backoff 100ms with jitter: 50 to 100ms after the answer. */
	assert_in_range(e->next_ms - t, 50, 1000);
	wait_spool(0, 5000);
	assert_int_equal(test_server_count(dx.srv), 2);
	r1 = test_server_get(dx.srv, 0);
	r2 = test_server_get(dx.srv, 1);
	id1 = test_server_header(r1, "webhook-id");
	id2 = test_server_header(r2, "webhook-id");
	assert_string_equal(id1, id2);
	verify(r2, SPEC_SECRET, id1);
	free(id1);
	free(id2);
	test_server_request_free(r1);
	test_server_request_free(r2);
}

/* Retry-After beats a shorter backoff. */
static void
test_deliver_retry_after(void **state)
{
	struct spool_entry *e;
	int64_t t = clock_monotonic_ms();

	configure("/429", CONFIG_FORMAT_JSON, NULL);
	put("ops", 4, "{}");
	webhooks_kick(dx.ws);
	wait_requests(1, 5000);
	test_loop_for(dx.base, 300);
	e = spool_entry_at(dx.spool, 0);
	assert_int_equal(e->attempts, 1);
	assert_true(e->next_ms - t >= 1900);
	assert_int_equal(test_server_count(dx.srv), 1);
}

/* After retry_for the entry is buried with the last error. */
static void
test_deliver_give_up(void **state)
{
	char *reason;

	dx.wh.retry_for_ms = 300;
	configure("/500", CONFIG_FORMAT_JSON, NULL);
	put("ops", 5, "{}");
	webhooks_kick(dx.ws);
	wait_spool(0, 5000);
	assert_true(test_server_count(dx.srv) >= 2);
	reason = dead_reason(5);
	assert_non_null(reason);
	assert_contains(reason, "gave up after ");
	assert_contains(reason, " attempts over 300ms: HTTP 500: broken ");
	/* The answer's escape character is escaped. */
	assert_contains(reason, "\\u{001b}[31mred");
	free(reason);
}

/* Other 4xx are final; 3xx too: redirects are not followed. */
static void
test_deliver_refused(void **state)
{
	char *reason;

	configure("/missing", CONFIG_FORMAT_JSON, NULL);
	put("ops", 6, "{}");
	webhooks_kick(dx.ws);
	wait_spool(0, 5000);
	reason = dead_reason(6);
	assert_non_null(reason);
	assert_contains(reason, "refused: HTTP 404: no such hook");
	free(reason);

	configure("/301", CONFIG_FORMAT_JSON, NULL);
	put("ops", 7, "{}");
	webhooks_kick(dx.ws);
	wait_spool(0, 5000);
	reason = dead_reason(7);
	assert_contains(
	    reason, "refused: HTTP 301 (redirects are not followed");
	free(reason);
	test_loop_for(dx.base, 100);
	/* /ok was never asked for. */
	assert_int_equal(test_server_count(dx.srv), 2);
}

/* 410 disables the webhook; its entries wait for a reload. */
static void
test_deliver_gone(void **state)
{
	dx.wh.concurrency = 1;
	configure("/410", CONFIG_FORMAT_JSON, NULL);
	put("ops", 8, "{}");
	put("ops", 9, "{}");
	webhooks_kick(dx.ws);
	wait_requests(1, 5000);
	test_loop_for(dx.base, 300);
	webhooks_kick(dx.ws);
	test_loop_for(dx.base, 100);
	assert_int_equal(test_server_count(dx.srv), 1);
	assert_int_equal(spool_count(dx.spool), 2);
	assert_null(dead_reason(8));

	configure("/ok", CONFIG_FORMAT_JSON, NULL);
	wait_spool(0, 5000);
	assert_int_equal(test_server_count(dx.srv), 3);
}

/* No more than `concurrency` deliveries at once to one webhook. */
static void
test_deliver_concurrency(void **state)
{
	int i;

	dx.wh.concurrency = 2;
	configure("/slow", CONFIG_FORMAT_JSON, NULL);
	for (i = 10; i < 16; i++)
		put("ops", i, "{}");
	kick();
	assert_int_equal(webhooks_inflight(dx.ws), 2);
	wait_spool(0, 10000);
	assert_int_equal(test_server_count(dx.srv), 6);
	assert_int_equal(test_server_max_concurrent(dx.srv), 2);
}

/* A receiver that never answers: the attempt fails at the timeout. */
static void
test_deliver_timeout(void **state)
{
	struct spool_entry *e;
	int64_t t = now_ms();

	dx.wh.timeout_ms = 300;
	dx.wh.backoff_ms = 60000;
	dx.wh.backoff_max_ms = 60000;
	configure("/hang", CONFIG_FORMAT_JSON, NULL);
	put("ops", 20, "{}");
	webhooks_kick(dx.ws);
	e = spool_entry_at(dx.spool, 0);
	while (e->attempts == 0 && now_ms() - t < 5000)
		test_loop_for(dx.base, 10);
	assert_int_equal(e->attempts, 1);
	assert_false(e->busy);
	assert_in_range(now_ms() - t, 250, 2500);
	assert_int_equal(webhooks_inflight(dx.ws), 0);
}

/* ntfy: posted to the server with the topic from the URL in the body. */
static void
test_deliver_ntfy(void **state)
{
	struct test_server_request *r;
	struct alert *a = make_alert(0);
	struct buf body;
	cJSON *j;

	buf_init(&body);
	webhook_render(CONFIG_FORMAT_NTFY, a, &body);
	configure("/watch_alerts-1?auth=abc", CONFIG_FORMAT_NTFY, SPEC_SECRET);
	put("ops", 21, body.data);
	webhooks_kick(dx.ws);
	wait_spool(0, 5000);
	r = test_server_get(dx.srv, 0);
	assert_string_equal(r->path, "/?auth=abc");
	j = cJSON_Parse(r->body);
	assert_non_null(j);
	assert_string_equal(jstr(j, "topic"), "watch_alerts-1");
	assert_contains(jstr(j, "title"), "HIGH");
	verify(r, SPEC_SECRET, "00000000000000000000000000000021");
	cJSON_Delete(j);
	test_server_request_free(r);
	buf_release(&body);
	alert_free(a);
}

/* Entries of a webhook that is not configured (any more) are buried. */
static void
test_deliver_unconfigured(void **state)
{
	char path[256], *cause = NULL;
	struct stat st;

	configure("/slow", CONFIG_FORMAT_JSON, NULL);
	put("ops", 22, "{}");
	kick();
	assert_int_equal(webhooks_inflight(dx.ws), 1);

	/* Reloaded without "ops" while a delivery is in flight: it ends. */
	dx.cf.nwebhooks = 0;
	assert_int_equal(webhooks_configure(dx.ws, &dx.cf, &cause), 0);
	wait_spool(0, 5000);
	assert_int_equal(webhooks_inflight(dx.ws), 0);

	put("ops", 23, "{}");
	kick();
	assert_int_equal(spool_count(dx.spool), 0);
	snprintf(path, sizeof path, "%s/dead/%032d.ops.reason", dx.dir, 23);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(test_server_count(dx.srv), 1);
}

/* A secret that cannot be loaded refuses the whole configuration. */
static void
test_configure_all_or_nothing(void **state)
{
	char *cause = NULL;

	configure("/ok", CONFIG_FORMAT_JSON, NULL);
	unsetenv("TEST_NO_SUCH_SECRET");
	snprintf(hook_secret, sizeof hook_secret, "env:TEST_NO_SUCH_SECRET");
	dx.wh.secret = hook_secret;
	assert_int_equal(webhooks_configure(dx.ws, &dx.cf, &cause), -1);
	assert_string_equal(cause, "webhook 'ops': environment variable "
	                           "TEST_NO_SUCH_SECRET is not set");
	free(cause);
	/* The old settings still deliver, unsigned. */
	put("ops", 24, "{}");
	webhooks_kick(dx.ws);
	wait_spool(0, 5000);

	free(dx.url);
	dx.url = test_server_url(dx.srv, "/");
	dx.wh.url = dx.url;
	dx.wh.secret = NULL;
	dx.wh.format = CONFIG_FORMAT_NTFY;
	assert_int_equal(webhooks_configure(dx.ws, &dx.cf, &cause), -1);
	assert_contains(cause, "an ntfy url must end with the topic");
	free(cause);
}

/* After webhooks_stop() nothing new starts. */
static void
test_deliver_stop(void **state)
{
	configure("/ok", CONFIG_FORMAT_JSON, NULL);
	webhooks_stop(dx.ws);
	put("ops", 25, "{}");
	webhooks_kick(dx.ws);
	test_loop_for(dx.base, 100);
	assert_int_equal(spool_count(dx.spool), 1);
	assert_int_equal(test_server_count(dx.srv), 0);
}

#define D(t) cmocka_unit_test_setup_teardown(t, dsetup, dteardown)

/* A feed-health alert has no terms or places: no format shows empty ones. */
static void
test_render_health(void **state)
{
	static const enum config_format formats[] = {CONFIG_FORMAT_JSON,
	    CONFIG_FORMAT_SLACK, CONFIG_FORMAT_DISCORD, CONFIG_FORMAT_TEAMS,
	    CONFIG_FORMAT_NTFY, CONFIG_FORMAT_ALERTMANAGER};
	struct alert *a;
	struct buf b;
	cJSON *j;
	size_t i;

	a = alert_health_new("libya-news", "https://news.example/rss", 1,
	    "HTTP status 500", 1763726400000LL);
	buf_init(&b);
	for (i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		buf_reset(&b);
		webhook_render(formats[i], a, &b);
		j = cJSON_ParseWithLength(b.data, b.len);
		if (j == NULL)
			fail_msg("%s: not JSON: %s",
			    config_format_name(formats[i]), b.data);
		cJSON_Delete(j);
		assert_null(strstr(b.data, "Terms"));
		assert_null(strstr(b.data, "\"terms\":\"\""));
		assert_non_null(strstr(b.data, "libya-news"));
	}
	buf_reset(&b);
	webhook_render(CONFIG_FORMAT_JSON, a, &b);
	assert_non_null(strstr(b.data, "\"kind\":\"feed-health\""));
	buf_release(&b);
	alert_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render_json),
	    cmocka_unit_test(test_render_health),
	    cmocka_unit_test(test_render_slack),
	    cmocka_unit_test(test_render_discord),
	    cmocka_unit_test(test_render_teams),
	    cmocka_unit_test(test_render_ntfy),
	    cmocka_unit_test(test_render_alertmanager),
	    cmocka_unit_test(test_render_inbox),
	    cmocka_unit_test(test_render_hostile),
	    cmocka_unit_test(test_sign_vector),
	    cmocka_unit_test(test_secrets),
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_routes),
	    D(test_deliver_ok),
	    D(test_deliver_big_answer),
	    D(test_deliver_retry),
	    D(test_deliver_retry_after),
	    D(test_deliver_give_up),
	    D(test_deliver_refused),
	    D(test_deliver_gone),
	    D(test_deliver_concurrency),
	    D(test_deliver_timeout),
	    D(test_deliver_ntfy),
	    D(test_deliver_unconfigured),
	    D(test_configure_all_or_nothing),
	    D(test_deliver_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
