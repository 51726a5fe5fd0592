/*
 * A small HTTP/1.1 server for the unit tests of http.c and webhook.c: it
 * listens on 127.0.0.1 (a free port), answers each connection in its own
 * thread as a callback says, records every request and counts how many
 * were being answered at once.  One request per connection, unless the
 * reply says keep_alive.
 */
#ifndef WATCHLISTD_TEST_SERVER_H
#define WATCHLISTD_TEST_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct test_server;

struct test_server_request {
	char method[16];
	char path[512];
	char *head; /* the header lines, "\r\n" separated */
	char *body;
	size_t bodylen;
};

struct test_server_reply {
	int status;          /* 200 if left 0 */
	const char *headers; /* more header lines, each ending "\r\n" */
	const char *body;    /* NUL-terminated, unless bodylen is set */
	size_t bodylen;      /* bytes of body, for binary bodies */
	size_t filler;       /* or this many bytes of 'x' */
	int delay_ms;        /* before answering */
	int hang;            /* never answer; close at test_server_stop() */
	int keep_alive;      /* keep the connection for another request */
};

/* Called from a connection thread. */
typedef void (*test_server_cb)(const struct test_server_request *req,
    struct test_server_reply *reply, void *arg);

struct test_server *test_server_start(test_server_cb cb, void *arg);
void test_server_stop(struct test_server *s);
uint16_t test_server_port(const struct test_server *s);
/* "http://127.0.0.1:PORT" + path, a new string. */
char *test_server_url(const struct test_server *s, const char *path);

/* Requests received so far, in order; copies the caller frees. */
size_t test_server_count(struct test_server *s);
struct test_server_request *test_server_get(struct test_server *s, size_t i);
void test_server_request_free(struct test_server_request *r);
/* A header's value (new string), or NULL. */
char *test_server_header(const struct test_server_request *r, const char *name);
/* The most requests being answered at the same time. */
int test_server_max_concurrent(struct test_server *s);

/* A port on 127.0.0.1 that nothing listens on. */
uint16_t test_server_closed_port(void);

/*
 * Run the loop until *flag is non-zero or ms have passed.  Returns 0 if the
 * flag was set in time.
 */
int test_loop_until(struct event_base *base, const int *flag, int ms);
/* Run the loop for ms. */
void test_loop_for(struct event_base *base, int ms);

#endif
