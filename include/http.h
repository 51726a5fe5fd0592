/*
 * HTTP client: libcurl's multi interface driven by the libevent loop.  This
 * is the only module that includes curl.
 *
 * Requests run concurrently without blocking the loop; each ends with one
 * call of its completion callback, from the loop (never from inside
 * http_request_start()).
 */
#ifndef WATCHLISTD_HTTP_H
#define WATCHLISTD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct event_base;
struct http;

/* The least transfer speed low_speed_seconds asks for. */
#define HTTP_LOW_SPEED_BYTES 64

struct http_request {
	const char *method; /* "POST", "GET" */
	const char *url;
	const char *const
	    *headers;     /* "Name: value", NULL-terminated; or NULL */
	const char *body; /* for POST */
	size_t bodylen;
	int64_t connect_timeout_ms;
	int64_t timeout_ms;   /* the whole transfer */
	const char *ca_file;  /* NULL: the system's */
	size_t max_response;  /* bytes of body kept; more is an error */
	int follow_redirects; /* at most 5, http and https only; 0 for webhooks
	                       */

	/*
	 * Conditional GET: sent as If-None-Match and If-Modified-Since when
	 * not NULL, as the server gave them in ETag and Last-Modified.
	 */
	const char *if_none_match;
	const char *if_modified_since;
	/*
	 * Abort when fewer than HTTP_LOW_SPEED_BYTES per second arrive for
	 * this many seconds, waiting for the first byte included; 0: never.
	 */
	long low_speed_seconds;
	/*
	 * Refuse to connect to an address that is loopback, private,
	 * link-local, unspecified or multicast (checked on the address
	 * resolved, at connect time, for every connection a redirect opens
	 * too, and again before each request, for a connection curl reuses).
	 * 0 for webhooks, which their operator points where he likes.  No
	 * request uses a proxy: the proxy variables of the environment are
	 * ignored.
	 */
	int refuse_private;
};

struct http_response {
	long status;               /* HTTP status; 0 when no response came */
	const char *error;         /* transport error text, NULL if none */
	int64_t retry_after_ms;    /* Retry-After as a delay; -1 if absent */
	struct buf body;           /* up to max_response bytes */
	double total_time;         /* seconds */
	const char *etag;          /* ETag of the final response, or NULL */
	const char *last_modified; /* its Last-Modified, or NULL */
};

/* The response is valid only during the call. */
typedef void (*http_done_cb)(const struct http_response *res, void *arg);

/* One client per event base.  NULL with *cause if curl cannot start. */
struct http *http_new(struct event_base *base, char **cause);
/* Abort every transfer still running (their callbacks are not called). */
void http_free(struct http *h);

/*
 * Start a request.  The request's strings are copied.  Returns an opaque
 * handle for http_cancel(), or NULL with *cause (caller frees).
 */
void *http_request_start(struct http *h, const struct http_request *req,
    http_done_cb done, void *arg, char **cause);
/* Abort one request; its callback is not called. */
void http_cancel(struct http *h, void *handle);
size_t http_active(const struct http *h);

/*
 * Whether refuse_private refuses the numeric address ip ("10.0.0.1",
 * "::ffff:127.0.0.1", "fe80::1%eth0"): 1 if it is not a public unicast
 * address (loopback, private, CGNAT, link-local, ULA, unspecified,
 * multicast, reserved, documentation; an IPv4 address inside an IPv6 one
 * is judged as IPv4), 0 if it is, -1 if ip is not an address.
 */
int http_private_address(const char *ip);

/* The User-Agent sent: "watchlistd/VERSION". */
const char *http_user_agent(void);

#endif
