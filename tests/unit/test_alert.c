/*
 * Unit tests for alert.c: ids, the generic payload, summary, excerpts and
 * the log line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <cmocka.h>

#include "alert.h"
#include "buf.h"
#include "rule.h"
#include "watchlist.h"

static const char text[] =
    "On Thursday, ISIS posted a series of propaganda photos online showing "
    "a military parade in Sirte. About 20 pickup trucks, carrying masked "
    "fighters, can be seen rolling through the streets of the northern "
    "Libyan coastal city. Later, ISIS claimed more.";

struct fixture {
	struct watchlist *wl;
	struct rule rule;
	struct watchlist_hits hits;
	uint32_t *entries;
	size_t nentries;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct watchlist_entry *e;
	struct rule_input *in;
	char *cause = NULL;
	size_t pos;

	f->wl = watchlist_new();
	e = watchlist_add_entry(f->wl, WATCHLIST_TERM, "isis", "t", 1);
	watchlist_entry_add_alias(e, "ISIS", 0, 1, &cause);
	e = watchlist_add_entry(f->wl, WATCHLIST_PLACE, "sirte", "t", 2);
	watchlist_entry_add_alias(e, "Sirte", 0, 2, &cause);
	e->has_coords = 1;
	e->lat = 31.2089;
	e->lon = 16.5887;
	memcpy(e->country, "LY", 3);
	watchlist_compile(f->wl, NULL, NULL);
	f->rule.id = strdup("isis-coast");
	f->rule.severity = RULE_HIGH;
	f->rule.expr = rule_expr_parse("isis AND sirte", f->wl, &cause, &pos);
	assert_non_null(f->rule.expr);
	watchlist_hits_init(&f->hits);
	watchlist_scan(f->wl, text, strlen(text), &f->hits);
	in = rule_input_new(f->wl, &f->hits);
	assert_true(
	    rule_expr_eval(f->rule.expr, in, &f->entries, &f->nentries));
	rule_input_free(in);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->entries);
	rule_expr_free(f->rule.expr);
	free(f->rule.id);
	watchlist_hits_release(&f->hits);
	watchlist_free(f->wl);
	free(f);
	return 0;
}

static struct alert *
make(struct fixture *f, const char *sha, const struct alert_source *src)
{
	return alert_new(&f->rule, f->wl, text, strlen(text), &f->hits,
	    f->entries, f->nentries, src, sha, strlen(text), 1763726400000LL);
}

static void
test_id_is_stable(void **state)
{
	struct fixture *f = *state;
	struct alert_source src = {.type = ALERT_SOURCE_INBOX, .name = "a"};
	char sha[65], sha2[65];
	struct alert *a, *b, *c;

	alert_sha256_hex(text, strlen(text), sha);
	/* Known value: sha256 of the empty string. */
	alert_sha256_hex("", 0, sha2);
	assert_string_equal(sha2, "e3b0c44298fc1c149afbf4c8996fb924"
	                          "27ae41e4649b934ca495991b7852b855");
	a = make(f, sha, &src);
	b = make(f, sha, &src);
	sha2[0] = sha[0] == '0' ? '1' : '0';
	memcpy(sha2 + 1, sha + 1, 64);
	c = make(f, sha2, &src);
	assert_int_equal(strlen(a->id), 32);
	assert_string_equal(a->id, b->id);
	assert_string_not_equal(a->id, c->id);
	alert_free(a);
	alert_free(b);
	alert_free(c);
}

static void
test_payload(void **state)
{
	struct fixture *f = *state;
	struct alert_source src = {.type = ALERT_SOURCE_INBOX,
	    .path = "/in/a.html",
	    .name = "a.html",
	    .title = "ISIS in Libya"};
	cJSON *j, *p, *ex;
	struct buf b;
	struct alert *a;
	char sha[65];
	size_t start, end;

	alert_sha256_hex(text, strlen(text), sha);
	a = make(f, sha, &src);
	buf_init(&b);
	alert_json(a, &b);
	j = cJSON_Parse(b.data);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "id")->valuestring, a->id);
	assert_string_equal(cJSON_GetObjectItem(j, "time")->valuestring,
	    "2025-11-21T12:00:00Z");
	assert_string_equal(
	    cJSON_GetObjectItem(j, "rule")->valuestring, "isis-coast");
	assert_string_equal(
	    cJSON_GetObjectItem(j, "severity")->valuestring, "high");
	assert_string_equal(cJSON_GetObjectItem(j, "summary")->valuestring,
	    "isis near Sirte: ISIS in Libya");
	p = cJSON_GetObjectItem(j, "source");
	assert_string_equal(
	    cJSON_GetObjectItem(p, "type")->valuestring, "inbox");
	assert_string_equal(
	    cJSON_GetObjectItem(p, "path")->valuestring, "/in/a.html");
	p = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "terms"), 0);
	assert_string_equal(
	    cJSON_GetObjectItem(p, "label")->valuestring, "ISIS");
	assert_int_equal(cJSON_GetObjectItem(p, "count")->valueint, 2);
	assert_null(cJSON_GetObjectItem(p, "lat"));
	p = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "places"), 0);
	assert_string_equal(cJSON_GetObjectItem(p, "id")->valuestring, "sirte");
	assert_true(cJSON_GetObjectItem(p, "lat")->valuedouble == 31.2089);
	assert_true(cJSON_GetObjectItem(p, "lon")->valuedouble == 16.5887);
	assert_string_equal(
	    cJSON_GetObjectItem(p, "country")->valuestring, "LY");
	p = cJSON_GetObjectItem(j, "document");
	assert_string_equal(cJSON_GetObjectItem(p, "sha256")->valuestring, sha);
	assert_int_equal(
	    cJSON_GetObjectItem(p, "bytes")->valueint, (int)strlen(text));
	assert_null(cJSON_GetObjectItem(j, "suppressed"));

	/* Excerpts hold their hits and cut only at white space. */
	ex = cJSON_GetObjectItem(j, "excerpts");
	assert_true(cJSON_GetArraySize(ex) >= 1);
	p = cJSON_GetArrayItem(ex, 0);
	start = (size_t)cJSON_GetObjectItem(p, "start")->valuedouble;
	end = (size_t)cJSON_GetObjectItem(p, "end")->valuedouble;
	assert_true(start <= 13 && end >= 17);
	assert_true(start == 0 || text[start - 1] == ' ');
	assert_true(end == strlen(text) || text[end] == ' ');
	assert_non_null(strstr(cJSON_GetObjectItem(p, "text")->valuestring,
	    "ISIS posted a series"));
	cJSON_Delete(j);

	a->suppressed = 3;
	buf_reset(&b);
	alert_json(a, &b);
	j = cJSON_Parse(b.data);
	assert_int_equal(cJSON_GetObjectItem(j, "suppressed")->valueint, 3);
	cJSON_Delete(j);
	buf_release(&b);
	alert_free(a);
}

static void
test_feed_source_and_log_line(void **state)
{
	struct fixture *f = *state;
	struct alert_source src = {.type = ALERT_SOURCE_FEED,
	    .feed = "libya-news",
	    .title = "Evil\x1b[2J title",
	    .link = "https://news.example/a/1",
	    .entry_id = "tag:x,1",
	    .published = "2015-02-21T14:30:00Z"};
	struct alert *a;
	struct buf b;
	cJSON *j, *p;
	char sha[65];

	alert_sha256_hex("x", 1, sha);
	a = make(f, sha, &src);
	buf_init(&b);
	alert_json(a, &b);
	j = cJSON_Parse(b.data);
	p = cJSON_GetObjectItem(j, "source");
	assert_string_equal(
	    cJSON_GetObjectItem(p, "type")->valuestring, "feed");
	assert_string_equal(
	    cJSON_GetObjectItem(p, "feed")->valuestring, "libya-news");
	assert_string_equal(
	    cJSON_GetObjectItem(p, "entry_id")->valuestring, "tag:x,1");
	assert_null(cJSON_GetObjectItem(p, "path"));
	cJSON_Delete(j);
	buf_reset(&b);
	alert_log_line(a, &b);
	assert_null(strchr(b.data, '\x1b'));
	assert_non_null(strstr(b.data, "rule isis-coast (high)"));
	assert_non_null(strstr(b.data, "places sirte x1"));
	buf_release(&b);
	alert_free(a);
}

/*
 * A feed-health alert links to the feed without its credentials
 * (user:password@, the query, the fragment), and its log line, which names
 * the feed, leaves the configured URL out.
 */
static void
test_health_link(void **state)
{
	struct alert *a;
	struct buf line;

	a = alert_health_new("news",
	    "https://reader:PASSWORD@news.example:8443/rss?token=TOKEN#x", 1,
	    "HTTP status 500", 1700000000000LL);
	assert_string_equal(a->source.link, "https://news.example:8443/rss");
	buf_init(&line);
	alert_log_line(a, &line);
	assert_non_null(strstr(line.data, "feed news is failing"));
	assert_null(strstr(line.data, "news.example"));
	buf_release(&line);
	alert_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_id_is_stable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_payload, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_feed_source_and_log_line, setup, teardown),
	    cmocka_unit_test(test_health_link),
	};

	return cmocka_run_group_tests_name("alert", tests, NULL, NULL);
}
