/*
 * Unit tests for http.c against a loopback server: requests and what
 * arrives, statuses, Retry-After, timeouts, the response cap, redirects,
 * cancelling, and callbacks that only ever come from the loop.
 */
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
#include <zlib.h>

#include "http.h"
#include "test_server.h"

struct result {
	int done;
	long status;
	char *error;
	char *etag;
	char *last_modified;
	int64_t retry_after_ms;
	char *body;
	size_t bodylen;
	double total_time;
};

struct fixture {
	struct event_base *base;
	struct http *http;
	struct test_server *srv;
};

static struct fixture fx;

/* Gzip'ed bodies the server sends, made once in main(). */
static char *gz_small, *gz_bomb;
static size_t gz_small_len, gz_bomb_len;

/* Compress n bytes of src (or of 'a' if src is NULL) with a gzip wrapper. */
static char *
gzip(const char *src, size_t n, size_t *outlen)
{
	z_stream z;
	char *in, *out;
	size_t cap;

	in = malloc(n);
	if (src != NULL)
		memcpy(in, src, n);
	else
		memset(in, 'a', n);
	memset(&z, 0, sizeof z);
	assert_int_equal(
	    deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
	cap = deflateBound(&z, n);
	out = malloc(cap);
	z.next_in = (unsigned char *)in;
	z.avail_in = (unsigned)n;
	z.next_out = (unsigned char *)out;
	z.avail_out = (unsigned)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = cap - z.avail_out;
	deflateEnd(&z);
	free(in);
	return out;
}

/* The server's answers, by path. */
static void
respond(const struct test_server_request *req, struct test_server_reply *r,
    void *arg)
{
	static char date[64];
	static char big_hdr[128];
	time_t t;
	const char *p = req->path;
	char *v;

	if (strcmp(p, "/ok") == 0)
		r->body = "ok";
	else if (strcmp(p, "/500") == 0) {
		r->status = 500;
		r->body = "broken";
	} else if (strcmp(p, "/429") == 0) {
		r->status = 429;
		r->headers = "Retry-After: 7\r\n";
	} else if (strcmp(p, "/503-date") == 0) {
		t = time(NULL) + 120;
		strftime(
		    date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime(&t));
		snprintf(big_hdr, sizeof big_hdr, "Retry-After: %s\r\n", date);
		r->status = 503;
		r->headers = big_hdr;
	} else if (strcmp(p, "/503-huge") == 0) {
		r->status = 503;
		r->headers = "Retry-After: 99999999999\r\n";
	} else if (strcmp(p, "/503-bad") == 0) {
		r->status = 503;
		r->headers = "Retry-After: soon\r\n";
	} else if (strcmp(p, "/hang") == 0)
		r->hang = 1;
	else if (strcmp(p, "/big") == 0)
		r->filler = 100000;
	else if (strcmp(p, "/exact") == 0)
		r->filler = 1000;
	else if (strcmp(p, "/redirect") == 0) {
		r->status = 302;
		r->headers = "Location: /ok\r\n";
	} else if (strcmp(p, "/keep") == 0) {
		r->keep_alive = 1;
		r->body = "kept";
	} else if (strcmp(p, "/slow") == 0) {
		r->delay_ms = 150;
		r->body = "slow";
	} else if (strcmp(p, "/cond") == 0) {
		v = test_server_header(req, "If-None-Match");
		if (v != NULL && strcmp(v, "\"v1\"") == 0) {
			r->status = 304;
			r->headers = "ETag: \"v1\"\r\n";
		} else {
			r->headers = "ETag: \"v1\"\r\n"
			             "Last-Modified: Sat, 21 Nov 2026 12:00:00 "
			             "GMT\r\n";
			r->body = "fresh";
		}
		free(v);
	} else if (strcmp(p, "/gzip") == 0) {
		r->headers = "Content-Encoding: gzip\r\n";
		r->body = gz_small;
		r->bodylen = gz_small_len;
	} else if (strcmp(p, "/bomb") == 0) {
		r->headers = "Content-Encoding: gzip\r\n";
		r->body = gz_bomb;
		r->bodylen = gz_bomb_len;
	} else if (strcmp(p, "/endless") == 0)
		r->filler = 50 * 1024 * 1024;
	else if (strncmp(p, "/loop", 5) == 0) {
		r->status = 302;
		r->headers = "Location: /loop\r\n";
	} else {
		r->status = 404;
		r->body = "not here";
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
	fx.base = event_base_new();
	fx.http = http_new(fx.base, &cause);
	assert_non_null(fx.http);
	fx.srv = test_server_start(respond, NULL);
	return 0;
}

static int
teardown(void **state)
{
	http_free(fx.http);
	test_server_stop(fx.srv);
	event_base_free(fx.base);
	return 0;
}

static void
result_release(struct result *r)
{
	free(r->error);
	free(r->etag);
	free(r->last_modified);
	free(r->body);
	memset(r, 0, sizeof *r);
}

static void
done_cb(const struct http_response *res, void *arg)
{
	struct result *r = arg;

	r->done++;
	r->status = res->status;
	r->error = res->error != NULL ? strdup(res->error) : NULL;
	r->retry_after_ms = res->retry_after_ms;
	r->etag = res->etag != NULL ? strdup(res->etag) : NULL;
	r->last_modified =
	    res->last_modified != NULL ? strdup(res->last_modified) : NULL;
	r->body = malloc(res->body.len + 1);
	memcpy(r->body, res->body.data, res->body.len + 1);
	r->bodylen = res->body.len;
	r->total_time = res->total_time;
}

static void
request_init(struct http_request *req, const char *method, const char *url)
{
	memset(req, 0, sizeof *req);
	req->method = method;
	req->url = url;
	req->connect_timeout_ms = 2000;
	req->timeout_ms = 5000;
	req->max_response = 65536;
}

/* GET path and wait for the answer. */
static void
get(const char *path, int follow, size_t max, struct result *r)
{
	struct http_request req;
	char *url = test_server_url(fx.srv, path), *cause = NULL;

	request_init(&req, "GET", url);
	req.follow_redirects = follow;
	if (max != 0)
		req.max_response = max;
	assert_non_null(http_request_start(fx.http, &req, done_cb, r, &cause));
	assert_int_equal(test_loop_until(fx.base, &r->done, 10000), 0);
	free(url);
}

static void
test_post(void **state)
{
	static const char body[] = "{\"a\":1}\0tail";
	const char *headers[] = {
	    "Content-Type: application/json", "X-Test: yes", NULL};
	struct http_request req;
	struct test_server_request *got;
	struct result r = {0};
	char *url = test_server_url(fx.srv, "/ok"), *cause = NULL, *v;

	request_init(&req, "POST", url);
	req.headers = headers;
	req.body = body;
	req.bodylen = sizeof body - 1;
	assert_non_null(http_request_start(fx.http, &req, done_cb, &r, &cause));
	assert_int_equal(http_active(fx.http), 1);
	assert_int_equal(test_loop_until(fx.base, &r.done, 10000), 0);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.status, 200);
	assert_null(r.error);
	assert_string_equal(r.body, "ok");
	assert_int_equal(r.retry_after_ms, -1);
	assert_true(r.total_time >= 0.0);
	assert_int_equal(http_active(fx.http), 0);

	assert_int_equal(test_server_count(fx.srv), 1);
	got = test_server_get(fx.srv, 0);
	assert_string_equal(got->method, "POST");
	assert_string_equal(got->path, "/ok");
	assert_int_equal(got->bodylen, sizeof body - 1);
	assert_memory_equal(got->body, body, sizeof body - 1);
	v = test_server_header(got, "X-Test");
	assert_string_equal(v, "yes");
	free(v);
	v = test_server_header(got, "Content-Type");
	assert_string_equal(v, "application/json");
	free(v);
	v = test_server_header(got, "User-Agent");
	assert_string_equal(v, http_user_agent());
	assert_true(strncmp(v, "watchlistd/", 11) == 0);
	free(v);
	assert_null(test_server_header(got, "Expect"));
	test_server_request_free(got);
	result_release(&r);
	free(url);
}

static void
test_status(void **state)
{
	struct result r = {0};

	get("/500", 0, 0, &r);
	assert_int_equal(r.status, 500);
	assert_null(r.error);
	assert_string_equal(r.body, "broken");
	result_release(&r);

	get("/nowhere", 0, 0, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "not here");
	result_release(&r);
}

static void
test_retry_after(void **state)
{
	struct result r = {0};

	get("/429", 0, 0, &r);
	assert_int_equal(r.status, 429);
	assert_int_equal(r.retry_after_ms, 7000);
	result_release(&r);

	get("/503-date", 0, 0, &r);
	assert_int_equal(r.status, 503);
	assert_in_range(r.retry_after_ms, 117000, 121000);
	result_release(&r);

	get("/503-huge", 0, 0, &r);
	assert_int_equal(r.retry_after_ms, 24 * 3600 * 1000LL);
	result_release(&r);

	get("/503-bad", 0, 0, &r);
	assert_int_equal(r.retry_after_ms, -1);
	result_release(&r);
}

static void
test_timeout(void **state)
{
	struct http_request req;
	struct result r = {0};
	char *url = test_server_url(fx.srv, "/hang"), *cause = NULL;
	struct timespec t0, t1;
	long ms;

	request_init(&req, "GET", url);
	req.timeout_ms = 300;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_non_null(http_request_start(fx.http, &req, done_cb, &r, &cause));
	assert_int_equal(test_loop_until(fx.base, &r.done, 5000), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_in_range(ms, 250, 2000);
	assert_int_equal(r.status, 0);
	assert_non_null(r.error);
	assert_non_null(strstr(r.error, "Timeout"));
	assert_non_null(strstr(r.error, "timed out"));
	result_release(&r);
	free(url);
}

static void
test_too_large(void **state)
{
	struct result r = {0};

	get("/big", 0, 1000, &r);
	assert_non_null(r.error);
	assert_string_equal(r.error, "response larger than 1000 bytes");
	assert_true(r.bodylen <= 1000);
	result_release(&r);

	get("/exact", 0, 1000, &r);
	assert_null(r.error);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.bodylen, 1000);
	result_release(&r);
}

static void
test_redirect(void **state)
{
	struct result r = {0};

	get("/redirect", 0, 0, &r);
	assert_int_equal(r.status, 302);
	assert_null(r.error);
	assert_int_equal(test_server_count(fx.srv), 1);
	result_release(&r);

	get("/redirect", 1, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok");
	assert_int_equal(test_server_count(fx.srv), 3);
	result_release(&r);
}

static void
test_refused(void **state)
{
	struct http_request req;
	struct result r = {0};
	char url[64], *cause = NULL;

	snprintf(url, sizeof url, "http://127.0.0.1:%u/",
	    (unsigned)test_server_closed_port());
	request_init(&req, "GET", url);
	assert_non_null(http_request_start(fx.http, &req, done_cb, &r, &cause));
	/* Even a failure this quick is reported from the loop. */
	assert_int_equal(r.done, 0);
	assert_int_equal(test_loop_until(fx.base, &r.done, 5000), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(r.error);
	assert_non_null(strstr(r.error, "connect"));
	assert_int_equal(r.retry_after_ms, -1);
	result_release(&r);
}

static void
test_protocols(void **state)
{
	static const char *const urls[] = {"file:///etc/passwd",
	    "ftp://127.0.0.1/", "gopher://127.0.0.1/", "dict://127.0.0.1/"};
	struct http_request req;
	struct result r = {0};
	char *cause = NULL;
	size_t i;
	void *handle;

	for (i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		request_init(&req, "GET", urls[i]);
		handle = http_request_start(fx.http, &req, done_cb, &r, &cause);
		if (handle == NULL) {
			assert_non_null(cause);
			free(cause);
			cause = NULL;
			continue;
		}
		assert_int_equal(test_loop_until(fx.base, &r.done, 5000), 0);
		assert_int_equal(r.status, 0);
		assert_non_null(r.error);
		assert_non_null(strstr(r.error, "not supported"));
		result_release(&r);
	}
}

static void
test_method(void **state)
{
	struct http_request req;
	struct result r = {0};
	char *cause = NULL;

	request_init(&req, "PUT", "http://127.0.0.1:1/");
	assert_null(http_request_start(fx.http, &req, done_cb, &r, &cause));
	assert_string_equal(cause, "method PUT is not supported");
	free(cause);
	assert_int_equal(http_active(fx.http), 0);
}

static void
test_cancel(void **state)
{
	struct http_request req;
	struct result r1 = {0}, r2 = {0};
	char *hang = test_server_url(fx.srv, "/hang");
	char *ok = test_server_url(fx.srv, "/slow"), *cause = NULL;
	void *h1;

	request_init(&req, "GET", hang);
	h1 = http_request_start(fx.http, &req, done_cb, &r1, &cause);
	assert_non_null(h1);
	request_init(&req, "GET", ok);
	assert_non_null(
	    http_request_start(fx.http, &req, done_cb, &r2, &cause));
	test_loop_for(fx.base, 50);
	http_cancel(fx.http, h1);
	assert_int_equal(http_active(fx.http), 1);
	assert_int_equal(test_loop_until(fx.base, &r2.done, 5000), 0);
	test_loop_for(fx.base, 100);
	assert_int_equal(r1.done, 0);
	assert_int_equal(r2.status, 200);
	result_release(&r2);
	free(hang);
	free(ok);
}

/* Freeing the client aborts everything without a callback. */
static void
test_free_active(void **state)
{
	struct http_request req;
	struct result r = {0};
	char *url = test_server_url(fx.srv, "/hang"), *cause = NULL;
	int i;

	request_init(&req, "GET", url);
	for (i = 0; i < 3; i++)
		assert_non_null(
		    http_request_start(fx.http, &req, done_cb, &r, &cause));
	test_loop_for(fx.base, 50);
	http_free(fx.http);
	fx.http = NULL;
	test_loop_for(fx.base, 50);
	assert_int_equal(r.done, 0);
	free(url);
}

struct chain {
	int left;
	int done;
	int in_start;
	int reentered;
	char *url;
};

/* A callback that starts the next request, as webhooks do. */
static void
chain_cb(const struct http_response *res, void *arg)
{
	struct chain *c = arg;
	struct http_request req;
	char *cause = NULL;

	if (c->in_start)
		c->reentered = 1;
	assert_int_equal(res->status, 200);
	if (--c->left == 0) {
		c->done = 1;
		return;
	}
	request_init(&req, "GET", c->url);
	c->in_start = 1;
	assert_non_null(http_request_start(fx.http, &req, chain_cb, c, &cause));
	c->in_start = 0;
}

static void
test_chain(void **state)
{
	struct chain c = {0};
	struct http_request req;
	char *cause = NULL;

	c.left = 5;
	c.url = test_server_url(fx.srv, "/ok");
	request_init(&req, "GET", c.url);
	c.in_start = 1;
	assert_non_null(
	    http_request_start(fx.http, &req, chain_cb, &c, &cause));
	c.in_start = 0;
	assert_int_equal(test_loop_until(fx.base, &c.done, 10000), 0);
	assert_int_equal(c.reentered, 0);
	assert_int_equal(test_server_count(fx.srv), 5);
	free(c.url);
}

static void
free_cb(const struct http_response *res, void *arg)
{
	int *done = arg;

	http_free(fx.http);
	fx.http = NULL;
	*done = 1;
}

/* A callback may free the client, even with other transfers running. */
static void
test_free_in_callback(void **state)
{
	struct http_request req;
	struct result r = {0};
	char *ok = test_server_url(fx.srv, "/ok");
	char *hang = test_server_url(fx.srv, "/hang"), *cause = NULL;
	int done = 0;

	request_init(&req, "GET", hang);
	assert_non_null(http_request_start(fx.http, &req, done_cb, &r, &cause));
	request_init(&req, "GET", ok);
	assert_non_null(
	    http_request_start(fx.http, &req, free_cb, &done, &cause));
	assert_int_equal(test_loop_until(fx.base, &done, 5000), 0);
	test_loop_for(fx.base, 50);
	assert_int_equal(r.done, 0);
	free(ok);
	free(hang);
}

/* Many at once: they run concurrently. */
static void
test_parallel(void **state)
{
	struct http_request req;
	struct result r[10];
	char *url = test_server_url(fx.srv, "/slow"), *cause = NULL;
	struct timespec t0, t1;
	int i, all = 0;
	long ms;

	memset(r, 0, sizeof r);
	request_init(&req, "GET", url);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 10; i++)
		assert_non_null(
		    http_request_start(fx.http, &req, done_cb, &r[i], &cause));
	while (!all) {
		test_loop_for(fx.base, 10);
		for (all = 1, i = 0; i < 10; i++)
			all = all && r[i].done;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		     (t1.tv_nsec - t0.tv_nsec) / 1000000;
		assert_true(ms < 10000);
	}
	/* Ten 150ms answers one after the other would take 1.5s. */
	assert_true(ms < 1200);
	assert_true(test_server_max_concurrent(fx.srv) > 1);
	for (i = 0; i < 10; i++) {
		assert_int_equal(r[i].status, 200);
		result_release(&r[i]);
	}
	free(url);
}

/* Validators come back from the response, and go out as headers: 304. */
static void
test_conditional(void **state)
{
	struct http_request req;
	struct test_server_request *got;
	struct result r = {0};
	char *url = test_server_url(fx.srv, "/cond"), *cause = NULL, *v;

	get("/cond", 0, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "fresh");
	assert_string_equal(r.etag, "\"v1\"");
	assert_string_equal(r.last_modified, "Sat, 21 Nov 2026 12:00:00 GMT");
	result_release(&r);

	request_init(&req, "GET", url);
	req.if_none_match = "\"v1\"";
	req.if_modified_since = "Sat, 21 Nov 2026 12:00:00 GMT";
	assert_non_null(http_request_start(fx.http, &req, done_cb, &r, &cause));
	assert_int_equal(test_loop_until(fx.base, &r.done, 10000), 0);
	assert_int_equal(r.status, 304);
	assert_null(r.error);
	assert_int_equal(r.bodylen, 0);
	assert_string_equal(r.etag, "\"v1\"");
	assert_null(r.last_modified);
	got = test_server_get(fx.srv, 1);
	v = test_server_header(got, "If-Modified-Since");
	assert_string_equal(v, "Sat, 21 Nov 2026 12:00:00 GMT");
	free(v);
	test_server_request_free(got);
	result_release(&r);

	/* A validator that would smuggle a header line is not sent. */
	request_init(&req, "GET", url);
	req.if_none_match = "\"v1\"\r\nX-Evil: 1";
	assert_non_null(http_request_start(fx.http, &req, done_cb, &r, &cause));
	assert_int_equal(test_loop_until(fx.base, &r.done, 10000), 0);
	assert_int_equal(r.status, 200);
	got = test_server_get(fx.srv, 2);
	assert_null(test_server_header(got, "X-Evil"));
	assert_null(test_server_header(got, "If-None-Match"));
	test_server_request_free(got);
	result_release(&r);
	free(url);
}

static void
test_gzip(void **state)
{
	struct test_server_request *got;
	struct result r = {0};
	char *v;

	get("/gzip", 0, 0, &r);
	assert_int_equal(r.status, 200);
	assert_null(r.error);
	assert_string_equal(r.body, "<rss>hello, compressed world</rss>");
	got = test_server_get(fx.srv, 0);
	v = test_server_header(got, "Accept-Encoding");
	assert_non_null(v);
	assert_non_null(strstr(v, "gzip"));
	free(v);
	test_server_request_free(got);
	result_release(&r);
}

/* 64 MB that compress to 64 KB: cut at the cap, counted decompressed. */
static void
test_gzip_bomb(void **state)
{
	struct result r = {0};

	get("/bomb", 0, 100000, &r);
	assert_non_null(r.error);
	assert_string_equal(r.error, "response larger than 100000 bytes");
	assert_true(r.bodylen <= 100000);
	result_release(&r);
}

/* A body far larger than the cap is cut off without reading it all. */
static void
test_endless(void **state)
{
	struct result r = {0};

	get("/endless", 0, 65536, &r);
	assert_non_null(r.error);
	assert_string_equal(r.error, "response larger than 65536 bytes");
	assert_true(r.bodylen <= 65536);
	result_release(&r);
}

/* At most 5 redirects are followed. */
static void
test_redirect_limit(void **state)
{
	struct result r = {0};

	get("/loop", 1, 0, &r);
	assert_non_null(r.error);
	assert_non_null(strstr(r.error, "redirect"));
	assert_int_equal(test_server_count(fx.srv), 6);
	result_release(&r);
}

/* A server that sends nothing is given up after low_speed_seconds. */
static void
test_low_speed(void **state)
{
	struct http_request req;
	struct result r = {0};
	char *url = test_server_url(fx.srv, "/hang"), *cause = NULL;
	struct timespec t0, t1;
	long ms;

	request_init(&req, "GET", url);
	req.timeout_ms = 10000;
	req.low_speed_seconds = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_non_null(http_request_start(fx.http, &req, done_cb, &r, &cause));
	assert_int_equal(test_loop_until(fx.base, &r.done, 8000), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_in_range(ms, 900, 3000);
	assert_int_equal(r.status, 0);
	assert_non_null(r.error);
	assert_non_null(strstr(r.error, "too slow"));
	result_release(&r);
	free(url);
}

/* Send req and wait for its answer in r. */
static void
send_req(const struct http_request *req, struct result *r)
{
	char *cause = NULL;

	if (http_request_start(fx.http, req, done_cb, r, &cause) == NULL)
		fail_msg("http_request_start: %s", cause);
	assert_int_equal(test_loop_until(fx.base, &r->done, 5000), 0);
}

/* r is the refusal of 127.0.0.1 by refuse_private. */
static void
assert_refused_loopback(const struct result *r)
{
	assert_int_equal(r->status, 0);
	assert_non_null(r->error);
	assert_string_equal(r->error,
	    "refused to connect to 127.0.0.1: a "
	    "loopback, private or link-local address");
}

/* refuse_private: 127.0.0.1 is refused at connect time; off, it is not. */
static void
test_refuse_private(void **state)
{
	struct http_request req;
	struct result r = {0};
	char *url = test_server_url(fx.srv, "/ok");

	request_init(&req, "GET", url);
	req.refuse_private = 1;
	send_req(&req, &r);
	assert_refused_loopback(&r);
	assert_int_equal(test_server_count(fx.srv), 0);
	result_release(&r);

	request_init(&req, "GET", url);
	send_req(&req, &r);
	assert_int_equal(r.status, 200);
	result_release(&r);
	free(url);
}

/*
 * A connection that a request allowed to reach a private address opened
 * (a webhook's, a feed's with allow_private = yes) is not reused by one
 * that refuses them: curl's connection cache would skip the open-socket
 * check.
 */
static void
test_refuse_private_reused(void **state)
{
	struct http_request req;
	struct result r = {0};
	char *url = test_server_url(fx.srv, "/keep");

	request_init(&req, "GET", url);
	send_req(&req, &r);
	assert_int_equal(r.status, 200);
	result_release(&r);

	req.refuse_private = 1;
	send_req(&req, &r);
	assert_refused_loopback(&r);
	assert_int_equal(test_server_count(fx.srv), 1);
	result_release(&r);

	/* The connection is still good for a request that allows it. */
	req.refuse_private = 0;
	send_req(&req, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(test_server_count(fx.srv), 2);
	result_release(&r);
	free(url);
}

/* The proxy variables of the environment are not used. */
static void
test_proxy_env_ignored(void **state)
{
	static const char *const vars[] = {"http_proxy", "HTTPS_PROXY",
	    "https_proxy", "all_proxy", "ALL_PROXY"};
	struct test_server *proxy = test_server_start(respond, NULL);
	struct result r = {0};
	char *purl = test_server_url(proxy, "");
	size_t i;

	for (i = 0; i < sizeof vars / sizeof vars[0]; i++)
		setenv(vars[i], purl, 1);
	get("/ok", 0, 0, &r);
	for (i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok");
	assert_int_equal(test_server_count(fx.srv), 1);
	assert_int_equal(test_server_count(proxy), 0);
	result_release(&r);
	test_server_stop(proxy);
	free(purl);
}

/*
 * Which addresses refuse_private refuses: everything that is not public
 * unicast, in IPv4 and IPv6, and IPv4 addresses inside IPv6 ones.
 */
static void
test_private_address(void **state)
{
	static const char *const private[] = {"0.0.0.0", "0.1.2.3", "10.0.0.1",
	    "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.255.255.255",
	    "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.0.0.170",
	    "192.0.2.1", "192.168.1.1", "198.18.0.1", "198.19.255.255",
	    "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250",
	    "240.0.0.1", "255.255.255.255", "::", "::1", "::ffff:127.0.0.1",
	    "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::ffff:0:127.0.0.1",
	    "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
	    "64:ff9b:1::1", "2002:7f00:1::1", "2002:c0a8:101::1", "2001::1",
	    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:db8::1", "100::1",
	    "fc00::1", "fd12:3456:789a::1", "fe80::1", "fe80::1%eth0",
	    "febf::1", "fec0::1", "ff02::1", "ff05::fb", "localhost", "",
	    "1.2.3", "not-an-address"};
	static const char *const public[] = {"1.1.1.1", "8.8.8.8",
	    "93.184.216.34", "100.63.255.255", "100.128.0.1", "172.15.255.255",
	    "172.32.0.1", "192.0.1.1", "192.169.0.1", "198.17.255.255",
	    "198.20.0.1", "223.255.255.255", "169.253.0.1", "2606:4700::1111",
	    "2a00:1450:4001::200e", "::ffff:8.8.8.8", "64:ff9b::808:808",
	    "2002:808:808::1", "2001:4860:4860::8888"};
	size_t i;

	for (i = 0; i < sizeof private / sizeof private[0]; i++) {
		if (http_private_address(private[i]) == 0)
			fail_msg("%s is taken as public", private[i]);
	}
	for (i = 0; i < sizeof public / sizeof public[0]; i++) {
		if (http_private_address(public[i]) != 0)
			fail_msg("%s is taken as private", public[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_post, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retry_after, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_redirect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_protocols, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_method, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_active, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_free_in_callback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parallel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_conditional, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gzip_bomb, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_endless, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_redirect_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_low_speed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_refuse_private, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_refuse_private_reused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_proxy_env_ignored, setup, teardown),
	    cmocka_unit_test(test_private_address),
	};
	static const char small[] = "<rss>hello, compressed world</rss>";
	int rc;

	gz_small = gzip(small, sizeof small - 1, &gz_small_len);
	gz_bomb = gzip(NULL, 64 * 1024 * 1024, &gz_bomb_len);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(gz_small);
	free(gz_bomb);
	return rc;
}
