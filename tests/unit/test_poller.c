/*
 * Unit tests for poller.c against the loopback server: new entries once,
 * the 304 path, restarts, first_fetch = skip, backoff on 5xx, Retry-After,
 * the health callback and recovery, the per-host limit, allow_private,
 * an entry callback that fails, reconfiguration.  Intervals are a few
 * hundred milliseconds, below what the configuration allows, to keep the
 * tests short.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>

#include "alert.h"
#include "config.h"
#include "doc.h"
#include "http.h"
#include "poller.h"
#include "test_server.h"

#define MAX_GOT 64

/* What the server serves; shared with its threads. */
static struct {
	pthread_mutex_t lock;
	int nitems;             /* stories 1..nitems, newest first */
	int version;            /* the ETag of /feed */
	int fail;               /* /flaky answers 503 while set */
	int n429;               /* /429 requests so far */
	int64_t times[MAX_GOT]; /* ms of each request to /500, /429 */
	int ntimes;
} srv = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, {0}, 0};

/* What the callbacks saw. */
static struct {
	int n;
	char titles[MAX_GOT][64];
	char texts[MAX_GOT][128];
	char links[MAX_GOT][64];
	char ids[MAX_GOT][64];
	char feeds[MAX_GOT][32];
	int published[MAX_GOT];
	char fail_title[64]; /* the entry callback fails for it once */
	int failed;
	int health_failing;
	int health_ok;
	char why[256];
} got;

struct fixture {
	struct event_base *base;
	struct http *http;
	struct test_server *srv;
	struct poller *poller;
	char dir[64];
	struct config cf;
	struct config_feed feeds[8];
	struct config_feed *fp[8];
	char *urls[8];
	char ids[8][16];
};

static struct fixture fx;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The RSS document of the current stories, in a per-thread buffer. */
static const char *
feed_body(void)
{
	static _Thread_local char body[16384];
	size_t len;
	int i, n;

	pthread_mutex_lock(&srv.lock);
	n = srv.nitems;
	pthread_mutex_unlock(&srv.lock);
	len = (size_t)snprintf(body, sizeof body,
	    "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel>"
	    "<title>Test</title><link>https://example.net/</link>");
	for (i = n; i >= 1; i--)
		len += (size_t)snprintf(body + len, sizeof body - len,
		    "<item><title>Story %d</title>"
		    "<link>https://example.net/%d</link>"
		    "<guid isPermaLink=\"false\">urn:story:%d</guid>"
		    "<pubDate>Sat, 21 Nov 2026 12:00:%02d GMT</pubDate>"
		    "<description>Text of story %d</description></item>",
		    i, i, i, i % 60, i);
	snprintf(body + len, sizeof body - len, "</channel></rss>\n");
	return body;
}

static void
respond(const struct test_server_request *req, struct test_server_reply *r,
    void *arg)
{
	static _Thread_local char headers[128];
	const char *p = req->path;
	char *v;
	int version, n;

	if (strcmp(p, "/feed") == 0) {
		pthread_mutex_lock(&srv.lock);
		version = srv.version;
		pthread_mutex_unlock(&srv.lock);
		snprintf(headers, sizeof headers,
		    "ETag: \"v%d\"\r\nContent-Type: application/rss+xml\r\n",
		    version);
		r->headers = headers;
		v = test_server_header(req, "If-None-Match");
		snprintf(headers + 64, 64, "\"v%d\"", version);
		if (v != NULL && strcmp(v, headers + 64) == 0)
			r->status = 304;
		else
			r->body = feed_body();
		free(v);
	} else if (strcmp(p, "/noetag") == 0)
		r->body = feed_body();
	else if (strcmp(p, "/500") == 0 || strcmp(p, "/429") == 0) {
		pthread_mutex_lock(&srv.lock);
		if (srv.ntimes < MAX_GOT)
			srv.times[srv.ntimes++] = now_ms();
		n = strcmp(p, "/429") == 0 ? srv.n429++ : -1;
		pthread_mutex_unlock(&srv.lock);
		if (n == -1) {
			r->status = 500;
			r->body = "down";
		} else if (n == 0) {
			r->status = 429;
			r->headers = "Retry-After: 1\r\n";
		} else
			r->body = feed_body();
	} else if (strcmp(p, "/flaky") == 0) {
		pthread_mutex_lock(&srv.lock);
		n = srv.fail;
		pthread_mutex_unlock(&srv.lock);
		if (n) {
			r->status = 503;
			r->body = "later";
		} else
			r->body = feed_body();
	} else if (strcmp(p, "/slow") == 0) {
		r->delay_ms = 300;
		r->body = feed_body();
	} else if (strcmp(p, "/garbage") == 0)
		r->body = "this is not a feed";
	else {
		r->status = 404;
		r->body = "not here";
	}
}

static void
set_items(int n)
{
	pthread_mutex_lock(&srv.lock);
	srv.nitems = n;
	srv.version++;
	pthread_mutex_unlock(&srv.lock);
}

static int
entry_cb(const struct doc *d, const struct alert_source *src, void *arg,
    char **cause)
{
	int i = got.n;

	assert_true(i < MAX_GOT);
	if (got.fail_title[0] != '\0' &&
	    strcmp(src->title, got.fail_title) == 0) {
		got.fail_title[0] = '\0';
		got.failed++;
		*cause = strdup("the spool is full");
		return -1;
	}
	assert_int_equal(src->type, ALERT_SOURCE_FEED);
	snprintf(got.titles[i], sizeof got.titles[i], "%s", src->title);
	snprintf(got.texts[i], sizeof got.texts[i], "%.*s", (int)d->textlen,
	    d->text);
	snprintf(got.links[i], sizeof got.links[i], "%s", src->link);
	snprintf(got.ids[i], sizeof got.ids[i], "%s", src->entry_id);
	snprintf(got.feeds[i], sizeof got.feeds[i], "%s", src->feed);
	got.published[i] =
	    src->published != NULL &&
	    strncmp(src->published, "2026-11-21T12:00:", 17) == 0;
	assert_string_equal(d->title, src->title);
	assert_string_equal(d->link, src->link);
	got.n++;
	return 0;
}

static void
health_cb(const char *feed_id, int failing, const char *why, void *arg)
{
	if (failing) {
		got.health_failing++;
		snprintf(got.why, sizeof got.why, "%s", why);
	} else {
		assert_null(why);
		got.health_ok++;
	}
}

static int
setup(void **state)
{
	char *cause = NULL;

	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	memset(&fx, 0, sizeof fx);
	memset(&got, 0, sizeof got);
	pthread_mutex_lock(&srv.lock);
	srv.nitems = 2;
	srv.version = 1;
	srv.fail = 0;
	srv.n429 = 0;
	srv.ntimes = 0;
	pthread_mutex_unlock(&srv.lock);
	snprintf(fx.dir, sizeof fx.dir, "/tmp/test_poller.XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	fx.base = event_base_new();
	fx.http = http_new(fx.base, &cause);
	fx.srv = test_server_start(respond, NULL);
	fx.poller =
	    poller_new(fx.base, fx.http, fx.dir, entry_cb, health_cb, NULL);
	fx.cf.daemon.max_document_size = 1024 * 1024;
	fx.cf.feeds = fx.fp;
	return 0;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
teardown(void **state)
{
	size_t i;

	poller_free(fx.poller);
	http_free(fx.http);
	test_server_stop(fx.srv);
	event_base_free(fx.base);
	for (i = 0; i < 8; i++)
		free(fx.urls[i]);
	nftw(fx.dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Feed i of the configuration: id, server path, interval, first_fetch. */
static void
feed_conf(size_t i, const char *id, const char *path, int64_t interval_ms,
    enum config_first_fetch first)
{
	struct config_feed *f = &fx.feeds[i];

	free(fx.urls[i]);
	fx.urls[i] = test_server_url(fx.srv, path);
	memset(f, 0, sizeof *f);
	snprintf(fx.ids[i], sizeof fx.ids[i], "%s", id);
	f->id = fx.ids[i];
	f->url = fx.urls[i];
	f->interval_ms = interval_ms;
	f->first_fetch = first;
	f->allow_private = 1; /* the server is on 127.0.0.1 */
	fx.fp[i] = f;
	if (fx.cf.nfeeds < i + 1)
		fx.cf.nfeeds = i + 1;
}

static void
configure(void)
{
	char *cause = NULL;

	assert_int_equal(poller_configure(fx.poller, &fx.cf, &cause), 0);
}

/* Run the loop until the server has had n requests. */
static void
wait_requests(size_t n, int ms)
{
	int64_t end = now_ms() + ms;

	while (test_server_count(fx.srv) < n) {
		assert_true(now_ms() < end);
		test_loop_for(fx.base, 10);
	}
	/* Let the client finish with the answer. */
	test_loop_for(fx.base, 50);
}

static void
wait_got(int n, int ms)
{
	int64_t end = now_ms() + ms;

	while (got.n < n) {
		assert_true(now_ms() < end);
		test_loop_for(fx.base, 10);
	}
}

static void
test_new_entry(void **state)
{
	struct poller_status st;
	struct test_server_request *r;
	char *v;

	feed_conf(0, "news", "/feed", 300, CONFIG_FIRST_FETCH_ALERT);
	configure();
	wait_got(2, 5000);
	/* Oldest first. */
	assert_string_equal(got.titles[0], "Story 1");
	assert_string_equal(got.titles[1], "Story 2");
	assert_string_equal(got.texts[0], "Story 1\n\nText of story 1");
	assert_string_equal(got.links[0], "https://example.net/1");
	assert_string_equal(got.ids[0], "urn:story:1");
	assert_string_equal(got.feeds[0], "news");
	assert_true(got.published[0]);

	/* The next polls are conditional and cost nothing. */
	wait_requests(3, 5000);
	assert_int_equal(got.n, 2);
	assert_int_equal(poller_status(fx.poller, "news", &st), 0);
	assert_true(st.not_modified >= 2);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.failures, 0);
	assert_null(st.error);
	r = test_server_get(fx.srv, 1);
	v = test_server_header(r, "If-None-Match");
	assert_string_equal(v, "\"v1\"");
	free(v);
	v = test_server_header(r, "User-Agent");
	assert_string_equal(v, http_user_agent());
	free(v);
	test_server_request_free(r);

	/* A new story: one callback, for it alone. */
	set_items(3);
	wait_got(3, 5000);
	assert_string_equal(got.titles[2], "Story 3");
	test_loop_for(fx.base, 700);
	assert_int_equal(got.n, 3);
	assert_int_equal(poller_status(fx.poller, "nothing", &st), -1);
}

/* A new poller on the same state directory repeats nothing. */
static void
test_restart(void **state)
{
	size_t before;

	feed_conf(0, "news", "/noetag", 200, CONFIG_FIRST_FETCH_ALERT);
	configure();
	wait_got(2, 5000);
	poller_free(fx.poller);

	fx.poller =
	    poller_new(fx.base, fx.http, fx.dir, entry_cb, health_cb, NULL);
	configure();
	before = test_server_count(fx.srv);
	wait_requests(before + 2, 5000);
	assert_int_equal(got.n, 2);

	set_items(3);
	wait_got(3, 5000);
	assert_string_equal(got.titles[2], "Story 3");
	before = test_server_count(fx.srv);
	wait_requests(before + 1, 5000);
	assert_int_equal(got.n, 3);
}

/* first_fetch = skip: the first fetch is a baseline; later entries alert. */
static void
test_first_fetch_skip(void **state)
{
	feed_conf(0, "news", "/feed", 200, CONFIG_FIRST_FETCH_SKIP);
	configure();
	wait_requests(2, 5000);
	assert_int_equal(got.n, 0);

	set_items(4);
	wait_got(2, 5000);
	assert_string_equal(got.titles[0], "Story 3");
	assert_string_equal(got.titles[1], "Story 4");
	wait_requests(test_server_count(fx.srv) + 1, 5000);
	assert_int_equal(got.n, 2);
}

/* 5xx: the delay doubles from the interval. */
static void
test_backoff(void **state)
{
	struct poller_status st;
	int64_t gaps[8];
	int i, n;

	feed_conf(0, "down", "/500", 100, CONFIG_FIRST_FETCH_ALERT);
	configure();
	test_loop_for(fx.base, 1300);
	pthread_mutex_lock(&srv.lock);
	n = srv.ntimes;
	for (i = 1; i < n && i < 8; i++)
		gaps[i] = srv.times[i] - srv.times[i - 1];
	pthread_mutex_unlock(&srv.lock);
	/* At about 0, 0.1, 0.3, 0.7 s; 1.5 s is next.  No backoff: 13. */
	assert_in_range(n, 3, 5);
	for (i = 2; i < n; i++)
		assert_true(gaps[i] > gaps[i - 1] * 3 / 2);
	assert_int_equal(poller_status(fx.poller, "down", &st), 0);
	assert_int_equal(st.failures, (unsigned)n);
	assert_string_equal(st.error, "HTTP status 500");
	assert_int_equal(got.n, 0);
}

/* 429 with Retry-After: 1 holds the next poll for a second. */
static void
test_retry_after(void **state)
{
	int64_t gap;

	feed_conf(0, "busy", "/429", 100, CONFIG_FIRST_FETCH_ALERT);
	configure();
	wait_got(2, 5000);
	pthread_mutex_lock(&srv.lock);
	assert_true(srv.ntimes >= 2);
	gap = srv.times[1] - srv.times[0];
	pthread_mutex_unlock(&srv.lock);
	assert_in_range(gap, 950, 2000);
}

/* Five failures in a row: one health call; recovery: one more. */
/* health_after sets how many failures in a row make a feed unhealthy. */
static void
test_health_after(void **state)
{
	int64_t end;

	pthread_mutex_lock(&srv.lock);
	srv.fail = 1;
	pthread_mutex_unlock(&srv.lock);
	feed_conf(0, "flaky", "/flaky", 50, CONFIG_FIRST_FETCH_ALERT);
	fx.feeds[0].health_after = 2;
	configure();
	end = now_ms() + 5000;
	while (got.health_failing == 0) {
		assert_true(now_ms() < end);
		test_loop_for(fx.base, 10);
	}
	assert_int_equal(test_server_count(fx.srv), 2);
}

static void
test_health(void **state)
{
	struct poller_status st;
	int64_t end;

	pthread_mutex_lock(&srv.lock);
	srv.fail = 1;
	pthread_mutex_unlock(&srv.lock);
	feed_conf(0, "flaky", "/flaky", 50, CONFIG_FIRST_FETCH_ALERT);
	configure();
	end = now_ms() + 5000;
	while (got.health_failing == 0) {
		assert_true(now_ms() < end);
		test_loop_for(fx.base, 10);
	}
	assert_int_equal(test_server_count(fx.srv), POLLER_HEALTH_FAILURES);
	assert_string_equal(got.why, "HTTP status 503");

	/* More failures do not call it again. */
	wait_requests(POLLER_HEALTH_FAILURES + 1, 5000);
	assert_int_equal(got.health_failing, 1);
	assert_int_equal(got.health_ok, 0);

	pthread_mutex_lock(&srv.lock);
	srv.fail = 0;
	pthread_mutex_unlock(&srv.lock);
	wait_got(2, 10000);
	assert_int_equal(got.health_ok, 1);
	assert_int_equal(got.health_failing, 1);
	assert_int_equal(poller_status(fx.poller, "flaky", &st), 0);
	assert_int_equal(st.failures, 0);
	assert_null(st.error);
}

/* Five feeds on one host: never more than two requests at once. */
static void
test_per_host(void **state)
{
	static const char *const ids[] = {"a", "b", "c", "d", "e"};
	size_t i;

	for (i = 0; i < 5; i++)
		feed_conf(i, ids[i], "/slow", 2000, CONFIG_FIRST_FETCH_SKIP);
	configure();
	wait_requests(5, 10000);
	assert_int_equal(test_server_max_concurrent(fx.srv), POLLER_PER_HOST);
}

/* allow_private = no: 127.0.0.1 is refused before a request is sent. */
static void
test_private(void **state)
{
	struct poller_status st;
	int64_t end = now_ms() + 5000;

	feed_conf(0, "local", "/feed", 100, CONFIG_FIRST_FETCH_ALERT);
	fx.feeds[0].allow_private = 0;
	configure();
	do {
		assert_true(now_ms() < end);
		test_loop_for(fx.base, 10);
		assert_int_equal(poller_status(fx.poller, "local", &st), 0);
	} while (st.failures == 0);
	assert_non_null(strstr(st.error, "refused to connect to 127.0.0.1"));
	assert_non_null(strstr(st.error, "allow_private = yes"));
	assert_int_equal(test_server_count(fx.srv), 0);
	assert_int_equal(got.n, 0);
}

/* An entry whose callback failed is tried again, the others are not. */
static void
test_callback_fails(void **state)
{
	snprintf(got.fail_title, sizeof got.fail_title, "Story 2");
	feed_conf(0, "news", "/feed", 200, CONFIG_FIRST_FETCH_ALERT);
	configure();
	wait_got(1, 5000);
	assert_string_equal(got.titles[0], "Story 1");
	/* The validators were not kept, so the next poll gets a 200. */
	wait_got(2, 5000);
	assert_string_equal(got.titles[1], "Story 2");
	assert_int_equal(got.failed, 1);
	wait_requests(test_server_count(fx.srv) + 2, 5000);
	assert_int_equal(got.n, 2);
}

static void
test_not_a_feed(void **state)
{
	struct poller_status st;

	feed_conf(0, "junk", "/garbage", 1000, CONFIG_FIRST_FETCH_ALERT);
	configure();
	wait_requests(1, 5000);
	assert_int_equal(poller_status(fx.poller, "junk", &st), 0);
	assert_int_equal(st.failures, 1);
	assert_non_null(st.error);
	assert_true(strncmp(st.error, "not a feed: ", 12) == 0);
}

/*
 * Reload: a feed that keeps its id and url keeps its state and timer; a
 * new one starts; a dropped one stops.
 */
static void
test_reconfigure(void **state)
{
	struct poller_status st;

	feed_conf(0, "one", "/feed", 5000, CONFIG_FIRST_FETCH_ALERT);
	configure();
	wait_got(2, 5000);
	assert_int_equal(test_server_count(fx.srv), 1);

	feed_conf(1, "two", "/noetag", 5000, CONFIG_FIRST_FETCH_SKIP);
	configure();
	wait_requests(2, 10000);
	test_loop_for(fx.base, 200);
	/* "one" was not polled again, and "two" took a baseline. */
	assert_int_equal(test_server_count(fx.srv), 2);
	assert_int_equal(got.n, 2);
	assert_int_equal(poller_status(fx.poller, "one", &st), 0);
	assert_int_equal(st.polls, 1);

	/* Drop "one"; "two" moves to /feed and keeps its seen entries. */
	fx.fp[0] = &fx.feeds[1];
	fx.cf.nfeeds = 1;
	free(fx.urls[1]);
	fx.urls[1] = test_server_url(fx.srv, "/feed");
	fx.feeds[1].url = fx.urls[1];
	configure();
	assert_int_equal(poller_status(fx.poller, "one", &st), -1);
	wait_requests(3, 10000);
	test_loop_for(fx.base, 100);
	assert_int_equal(got.n, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_new_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_first_fetch_skip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backoff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retry_after, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_after, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_per_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_private, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_callback_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_feed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reconfigure, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
