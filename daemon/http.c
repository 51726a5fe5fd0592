/*
 * HTTP client: libcurl's multi interface on the libevent loop.  See http.h.
 *
 * How the two meet.  curl tells us which sockets to watch through the socket
 * callback and when to call it back through the timer callback; we keep one
 * persistent event per socket (attached to the socket with
 * curl_multi_assign()) and one timer.  When an event or the timer fires we
 * hand it to curl_multi_socket_action() and then collect finished transfers
 * with curl_multi_info_read() in http_check_done(), the only place where a
 * completion callback is called.
 *
 * Lifetimes.  A struct http_transfer lives from http_request_start() until
 * its callback has returned (or it is cancelled); it owns the easy handle,
 * the header list and a copy of the body, all of which curl reads while the
 * transfer runs.  A struct http_socket lives from the first time curl asks
 * us to watch its socket until CURL_POLL_REMOVE, which may come after curl
 * has closed the socket: event_del() copes with a closed descriptor.  curl
 * is never called from inside its own callbacks; the timer callback only
 * arms our timer, and the work happens when that fires.
 *
 * A completion callback may start or cancel requests and may even free the
 * client: http_free() called from inside one is finished once the callback
 * returns.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <netinet/in.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "options.h"
#include "xmalloc.h"

/* The longest Retry-After we believe; beyond it we wait this long. */
#define HTTP_RETRY_AFTER_MAX_MS (24 * 3600 * 1000LL)

#define HTTP_MAX_REDIRS 5

struct http_transfer {
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	size_t max_response;
	struct buf response;
	int too_large;
	int64_t retry_after_ms;
	char *etag;
	char *last_modified;
	int refuse_private;
	char refused[INET6_ADDRSTRLEN]; /* the address refused, if one was */
	char errbuf[CURL_ERROR_SIZE];
	int finishing; /* its callback is running */

	http_done_cb done;
	void *arg;

	TAILQ_ENTRY(http_transfer) entry;
};
TAILQ_HEAD(http_transfers, http_transfer);

struct http_socket {
	struct event *ev;

	TAILQ_ENTRY(http_socket) entry;
};
TAILQ_HEAD(http_sockets, http_socket);

struct http {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct http_transfers transfers;
	struct http_sockets sockets;
	size_t active;

	int dispatching; /* inside http_check_done() */
	int dead;        /* http_free() was called from a callback */
};

static void http_destroy(struct http *h);

const char *
http_user_agent(void)
{
	return "watchlistd/" WATCHLISTD_VERSION;
}

/* Free a transfer that curl no longer holds. */
static void
http_transfer_free(struct http_transfer *t)
{
	curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	free(t->body);
	free(t->etag);
	free(t->last_modified);
	buf_release(&t->response);
	free(t);
}

/* Take a transfer out of the multi handle and our list, and free it. */
static void
http_transfer_abort(struct http *h, struct http_transfer *t)
{
	TAILQ_REMOVE(&h->transfers, t, entry);
	h->active--;
	curl_multi_remove_handle(h->multi, t->easy);
	http_transfer_free(t);
}

/*
 * Called by curl for each chunk of the response body.  Keeping more than
 * max_response bytes is refused: returning less than was given makes curl
 * abort the transfer with CURLE_WRITE_ERROR.  curl has already decompressed
 * the bytes, so this also caps what a small gzip bomb can grow to.
 */
static size_t
http_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_transfer *t = arg;
	size_t n = size * nmemb;

	if (n > t->max_response - t->response.len) {
		t->too_large = 1;
		return 0;
	}
	buf_add(&t->response, ptr, n);
	return n;
}

/*
 * Parse a Retry-After value: delta-seconds or an HTTP-date.  Returns the
 * delay in ms from now, capped, or -1 if the value is neither.
 */
static int64_t
http_parse_retry_after(const char *s, size_t len)
{
	char value[128];
	char *end;
	unsigned long long secs;
	time_t when, now;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
	                      s[len - 1] == '\r' || s[len - 1] == '\n'))
		len--;
	if (len == 0 || len >= sizeof value)
		return -1;
	memcpy(value, s, len);
	value[len] = '\0';

	if (value[0] >= '0' && value[0] <= '9') {
		errno = 0;
		secs = strtoull(value, &end, 10);
		if (*end != '\0')
			return -1;
		if (errno == ERANGE ||
		    secs > (unsigned long long)HTTP_RETRY_AFTER_MAX_MS / 1000)
			return HTTP_RETRY_AFTER_MAX_MS;
		return (int64_t)secs * 1000;
	}
	if ((when = curl_getdate(value, NULL)) == -1)
		return -1;
	now = time(NULL);
	if (when <= now)
		return 0;
	if ((int64_t)(when - now) > HTTP_RETRY_AFTER_MAX_MS / 1000)
		return HTTP_RETRY_AFTER_MAX_MS;
	return (int64_t)(when - now) * 1000;
}

/*
 * If the header line ptr[0..n) is "name: value", replace *value with a copy
 * of the value without surrounding white space (NULL if empty).  Returns
 * whether the name matched.
 */
static int
http_header_value(const char *ptr, size_t n, const char *name, char **value)
{
	size_t len = strlen(name);

	if (n <= len || strncasecmp(ptr, name, len) != 0 || ptr[len] != ':')
		return 0;
	ptr += len + 1;
	n -= len + 1;
	while (n > 0 && (*ptr == ' ' || *ptr == '\t')) {
		ptr++;
		n--;
	}
	while (n > 0 && (ptr[n - 1] == ' ' || ptr[n - 1] == '\t' ||
	                    ptr[n - 1] == '\r' || ptr[n - 1] == '\n'))
		n--;
	free(*value);
	*value = n > 0 ? xstrndup(ptr, n) : NULL;
	return 1;
}

/*
 * Called by curl for each response header line, status lines included.  A
 * new status line starts a new response (after a redirect or a 100
 * Continue), so it forgets what an earlier one said.
 */
static size_t
http_header_cb(char *ptr, size_t size, size_t nitems, void *arg)
{
	struct http_transfer *t = arg;
	size_t n = size * nitems;
	static const char name[] = "retry-after:";

	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		t->retry_after_ms = -1;
		free(t->etag);
		free(t->last_modified);
		t->etag = t->last_modified = NULL;
	} else if (n > sizeof name - 1 &&
	           strncasecmp(ptr, name, sizeof name - 1) == 0)
		t->retry_after_ms = http_parse_retry_after(
		    ptr + sizeof name - 1, n - (sizeof name - 1));
	else if (!http_header_value(ptr, n, "etag", &t->etag))
		http_header_value(ptr, n, "last-modified", &t->last_modified);
	return n;
}

/* Whether an IPv4 address (network order) is not a public unicast one. */
static int
http_private_v4(const uint8_t *b)
{
	uint32_t a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	             (uint32_t)b[2] << 8 | b[3];

	return (a >> 24) == 0 ||                 /* 0.0.0.0/8, "this host" */
	       (a >> 24) == 10 ||                /* 10.0.0.0/8 */
	       (a >> 24) == 127 ||               /* loopback */
	       (a >> 22) == (100 << 2 | 1) ||    /* 100.64.0.0/10, CGNAT */
	       (a >> 16) == (169 << 8 | 254) ||  /* link-local, metadata */
	       (a >> 20) == (172 << 4 | 1) ||    /* 172.16.0.0/12 */
	       (a >> 8) == (192u << 16 | 0) ||   /* 192.0.0.0/24, IETF */
	       (a >> 8) == (192u << 16 | 2) ||   /* 192.0.2.0/24, TEST-NET */
	       (a >> 16) == (192u << 8 | 168) || /* 192.168.0.0/16 */
	       (a >> 17) == (198u << 7 | 9) ||   /* 198.18.0.0/15, benchmarks */
	       (a >> 8) == (198u << 16 | 51 << 8 | 100) || /* TEST-NET-2 */
	       (a >> 8) == (203u << 16 | 0 << 8 | 113) ||  /* TEST-NET-3 */
	       (a >> 28) >= 14; /* multicast, reserved, broadcast */
}

/*
 * Whether an IPv6 address is not a public unicast one.  An IPv4 address
 * carried inside one (mapped, compatible, translated, NAT64, 6to4) is
 * judged as IPv4: ::ffff:127.0.0.1 is loopback.  Teredo is refused whole:
 * its IPv4 part is obfuscated and no feed needs it.
 */
static int
http_private_v6(const uint8_t *b)
{
	static const uint8_t zero[12];
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t translated[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};

	if (memcmp(b, zero, 12) == 0 || memcmp(b, mapped, 12) == 0 ||
	    memcmp(b, translated, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return http_private_v4(b + 12); /* ::, ::1 included */
	if (b[0] == 0x20 && b[1] == 0x02)       /* 2002::/16, 6to4 */
		return http_private_v4(b + 2);
	return (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b &&
	           b[4] == 0 && b[5] == 1) || /* local NAT64 */
	       (b[0] == 0x01 && b[1] == 0x00 && b[2] == 0 && b[3] == 0 &&
	           b[4] == 0 && b[5] == 0 && b[6] == 0 &&
	           b[7] == 0) || /* 100::/64, discard */
	       (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 &&
	           b[3] == 0) || /* 2001::/32, Teredo */
	       (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d &&
	           b[3] == 0xb8) ||                       /* documentation */
	       (b[0] & 0xfe) == 0xfc ||                   /* fc00::/7, ULA */
	       (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || /* link-local */
	       (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) || /* site-local */
	       b[0] == 0xff;                              /* multicast */
}

int
http_private_address(const char *ip)
{
	char text[INET6_ADDRSTRLEN];
	uint8_t b[16];
	size_t n = strcspn(ip, "%"); /* fe80::1%eth0: the zone is not needed */

	if (n == 0 || n >= sizeof text)
		return -1;
	memcpy(text, ip, n);
	text[n] = '\0';
	if (inet_pton(AF_INET, text, b) == 1)
		return http_private_v4(b);
	if (inet_pton(AF_INET6, text, b) == 1)
		return http_private_v6(b);
	return -1;
}

/*
 * CURLOPT_OPENSOCKETFUNCTION: curl has resolved the name and is about to
 * connect.  Checking here, rather than the name before the request, sees
 * the address actually used (no DNS rebinding between check and connect)
 * and every connection a redirect opens.
 */
static curl_socket_t
http_opensocket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *sa)
{
	struct http_transfer *t = arg;
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	int bad = 0;

	if (t->refuse_private && sa->family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)&sa->addr;
		if ((bad = http_private_v4(
		         (const uint8_t *)&sin->sin_addr.s_addr)))
			inet_ntop(AF_INET, &sin->sin_addr, t->refused,
			    sizeof t->refused);
	} else if (t->refuse_private && sa->family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)&sa->addr;
		if ((bad = http_private_v6(sin6->sin6_addr.s6_addr)))
			inet_ntop(AF_INET6, &sin6->sin6_addr, t->refused,
			    sizeof t->refused);
	} else if (t->refuse_private) {
		bad = 1;
		snprintf(
		    t->refused, sizeof t->refused, "family %d", sa->family);
	}
	if (bad)
		return CURL_SOCKET_BAD;
	return socket(sa->family, sa->socktype | SOCK_CLOEXEC, sa->protocol);
}

/*
 * CURLOPT_PREREQFUNCTION: a connection is ready, new or taken from curl's
 * connection cache, and the request is about to go out on it.  The check
 * at open is not enough: a cached connection that a webhook, or a feed with
 * allow_private = yes, opened to the same host and port would carry this
 * request without opening a socket.  So the address is checked again here,
 * for every request and every redirect.
 */
static int
http_prereq_cb(void *arg, char *primary_ip, char *local_ip, int primary_port,
    int local_port)
{
	struct http_transfer *t = arg;

	if (!t->refuse_private || http_private_address(primary_ip) == 0)
		return CURL_PREREQFUNC_OK;
	snprintf(t->refused, sizeof t->refused, "%.*s",
	    (int)strcspn(primary_ip, "%"), primary_ip);
	return CURL_PREREQFUNC_ABORT;
}

/*
 * Collect every finished transfer and call its callback.  Each message is
 * taken and handled before the next is read, so that a callback may cancel
 * another transfer (curl_multi_remove_handle() drops its pending message).
 */
static void
http_check_done(struct http *h)
{
	struct http_transfer *t;
	struct http_response res;
	struct buf error;
	CURLMsg *msg;
	CURL *easy;
	CURLcode code;
	char *priv;
	int left;

	buf_init(&error);
	h->dispatching++;
	while (!h->dead && (msg = curl_multi_info_read(h->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		code = msg->data.result;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		t = (struct http_transfer *)priv;

		TAILQ_REMOVE(&h->transfers, t, entry);
		h->active--;
		curl_multi_remove_handle(h->multi, easy);

		memset(&res, 0, sizeof res);
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &res.status);
		curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &res.total_time);
		res.retry_after_ms = res.status != 0 ? t->retry_after_ms : -1;
		res.body = t->response;
		res.etag = t->etag;
		res.last_modified = t->last_modified;

		buf_reset(&error);
		if (t->refused[0] != '\0' && code != CURLE_OK)
			buf_printf(&error,
			    "refused to connect to %s: a loopback, private or "
			    "link-local address",
			    t->refused);
		else if (t->too_large)
			buf_printf(&error, "response larger than %zu bytes",
			    t->max_response);
		else if (code != CURLE_OK) {
			buf_add_str(&error, curl_easy_strerror(code));
			if (t->errbuf[0] != '\0')
				buf_printf(&error, ": %s", t->errbuf);
		}
		if (error.len > 0)
			res.error = error.data;

		t->finishing = 1;
		t->done(&res, t->arg);
		http_transfer_free(t);
	}
	h->dispatching--;
	buf_release(&error);
	if (h->dead && h->dispatching == 0)
		http_destroy(h);
}

/* A watched socket is ready: tell curl, then collect what finished. */
static void
http_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	int action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, fd, action, &running);
	http_check_done(h);
}

/* curl's timeout has expired. */
static void
http_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	int running;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(h);
}

/*
 * CURLMOPT_TIMERFUNCTION: curl wants to be called back after timeout_ms; -1
 * deletes the timer, 0 means as soon as possible.  Only the timer is armed
 * here; calling curl from inside this callback would re-enter it.
 */
static int
http_timer_set_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct http *h = arg;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(h->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(h->timer, &tv);
	return 0;
}

static void
http_socket_free(struct http *h, struct http_socket *s)
{
	event_free(s->ev);
	TAILQ_REMOVE(&h->sockets, s, entry);
	free(s);
}

/*
 * CURLMOPT_SOCKETFUNCTION: watch fd for what curl asks, with one persistent
 * event per socket that is re-armed when the interest changes.  On
 * CURL_POLL_REMOVE the socket may already be closed.
 */
static int
http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct http *h = arg;
	struct http_socket *s = sockp;
	short events = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			curl_multi_assign(h->multi, fd, NULL);
			http_socket_free(h, s);
		}
		return 0;
	}

	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;

	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		if ((s->ev = event_new(
		         h->base, fd, events, http_event_cb, h)) == NULL)
			fatalx("http: cannot create an event for socket %d",
			    (int)fd);
		TAILQ_INSERT_TAIL(&h->sockets, s, entry);
		curl_multi_assign(h->multi, fd, s);
	} else {
		event_del(s->ev);
		event_assign(s->ev, h->base, fd, events, http_event_cb, h);
	}
	if (event_add(s->ev, NULL) != 0) {
		log_warnx("http: cannot watch socket %d", (int)fd);
		return -1;
	}
	return 0;
}

/*
 * libcurl is set up at the first request, not at start-up:
 * curl_global_init() initialises OpenSSL, which reads its configuration and
 * loads its providers, about 2 MB resident that a configuration without
 * webhooks and feeds never needs; a reload that adds some gets it then.
 * curl_global_init() is not thread-safe with other curl calls: only the
 * loop's thread calls into curl (the reload thread never does).
 */
static int
http_init(struct http *h, char **cause)
{
	CURLcode code;

	if (h->multi != NULL)
		return 0;
	if ((code = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		*cause = xasprintf(
		    "cannot initialise libcurl: %s", curl_easy_strerror(code));
		return -1;
	}
	if ((h->multi = curl_multi_init()) == NULL) {
		*cause = xstrdup("cannot create a libcurl multi handle");
		curl_global_cleanup();
		return -1;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_timer_set_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return 0;
}

struct http *
http_new(struct event_base *base, char **cause)
{
	struct http *h;

	h = xcalloc(1, sizeof *h);
	h->base = base;
	TAILQ_INIT(&h->transfers);
	TAILQ_INIT(&h->sockets);
	if ((h->timer = evtimer_new(base, http_timer_cb, h)) == NULL) {
		*cause = xstrdup("cannot create the HTTP timer event");
		free(h);
		return NULL;
	}
	return h;
}

/* Tear down: abort every transfer, then let curl close its connections. */
static void
http_destroy(struct http *h)
{
	struct http_transfer *t;
	struct http_socket *s;

	while ((t = TAILQ_FIRST(&h->transfers)) != NULL)
		http_transfer_abort(h, t);
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	while ((s = TAILQ_FIRST(&h->sockets)) != NULL)
		http_socket_free(h, s);
	event_free(h->timer);
	if (h->multi != NULL)
		curl_global_cleanup();
	free(h);
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->dispatching > 0) {
		h->dead = 1;
		return;
	}
	http_destroy(h);
}

/*
 * Add "name: value" to the transfer's headers if value is not NULL.  A value
 * with a line break (from a stored validator gone bad) is left out rather
 * than let it add a header line of its own.
 */
static int
http_add_header(struct http_transfer *t, const char *name, const char *value)
{
	struct curl_slist *list;
	char *line;

	if (value == NULL || value[strcspn(value, "\r\n")] != '\0')
		return 0;
	line = xasprintf("%s: %s", name, value);
	list = curl_slist_append(t->headers, line);
	free(line);
	if (list == NULL)
		return -1;
	t->headers = list;
	return 0;
}

/*
 * Set every option of a request on its easy handle.  Certificate and host
 * name checks are always on, and nothing (no key, no environment variable)
 * turns them off; only the CA bundle may be chosen.
 */
static int
http_setup(
    struct http_transfer *t, const struct http_request *req, char **cause)
{
	CURL *e = t->easy;
	CURLcode code = CURLE_OK;
	const char *const *hdr;
	struct curl_slist *list;

#define HTTP_SET(opt, val)                                                     \
	do {                                                                   \
		if (code == CURLE_OK)                                          \
			code = curl_easy_setopt(e, opt, val);                  \
	} while (0)

	HTTP_SET(CURLOPT_PRIVATE, (char *)t);
	HTTP_SET(CURLOPT_ERRORBUFFER, t->errbuf);
	HTTP_SET(CURLOPT_NOSIGNAL, 1L);
	HTTP_SET(CURLOPT_URL, req->url);
	HTTP_SET(CURLOPT_PROTOCOLS_STR, "http,https");
	HTTP_SET(CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
	HTTP_SET(CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRS);
	HTTP_SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	HTTP_SET(CURLOPT_SSL_VERIFYPEER, 1L);
	HTTP_SET(CURLOPT_SSL_VERIFYHOST, 2L);
	/* TLS 1.2 at least, whatever the system's OpenSSL allows. */
	HTTP_SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (req->ca_file != NULL) {
		/* Only these CAs: Debian's curl also reads /etc/ssl/certs. */
		HTTP_SET(CURLOPT_CAINFO, req->ca_file);
		HTTP_SET(CURLOPT_CAPATH, NULL);
	}
	/*
	 * No proxy, whatever http_proxy, https_proxy or all_proxy say: a proxy
	 * would connect for us, out of reach of the private-address checks.
	 */
	HTTP_SET(CURLOPT_PROXY, "");
	HTTP_SET(CURLOPT_USERAGENT, http_user_agent());
	HTTP_SET(CURLOPT_ACCEPT_ENCODING, "");
	HTTP_SET(CURLOPT_CONNECTTIMEOUT_MS, (long)req->connect_timeout_ms);
	HTTP_SET(CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	HTTP_SET(CURLOPT_WRITEFUNCTION, http_write_cb);
	HTTP_SET(CURLOPT_WRITEDATA, t);
	HTTP_SET(CURLOPT_HEADERFUNCTION, http_header_cb);
	HTTP_SET(CURLOPT_HEADERDATA, t);
	HTTP_SET(CURLOPT_OPENSOCKETFUNCTION, http_opensocket_cb);
	HTTP_SET(CURLOPT_OPENSOCKETDATA, t);
	HTTP_SET(CURLOPT_PREREQFUNCTION, http_prereq_cb);
	HTTP_SET(CURLOPT_PREREQDATA, t);
	if (req->low_speed_seconds > 0) {
		HTTP_SET(CURLOPT_LOW_SPEED_LIMIT, (long)HTTP_LOW_SPEED_BYTES);
		HTTP_SET(CURLOPT_LOW_SPEED_TIME, req->low_speed_seconds);
	}

	if (strcmp(req->method, "GET") == 0)
		HTTP_SET(CURLOPT_HTTPGET, 1L);
	else if (strcmp(req->method, "POST") == 0) {
		t->body = xmalloc(req->bodylen);
		if (req->bodylen > 0)
			memcpy(t->body, req->body, req->bodylen);
		HTTP_SET(CURLOPT_POST, 1L);
		HTTP_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->bodylen);
		HTTP_SET(CURLOPT_POSTFIELDS, t->body);
	} else {
		*cause = xasprintf("method %s is not supported", req->method);
		return -1;
	}

	/*
	 * An empty "Expect:" stops curl waiting for a 100 Continue before
	 * sending a large body, which many receivers never send.
	 */
	for (hdr = req->headers; hdr != NULL && *hdr != NULL; hdr++) {
		if ((list = curl_slist_append(t->headers, *hdr)) == NULL)
			goto nomem;
		t->headers = list;
	}
	if (http_add_header(t, "If-None-Match", req->if_none_match) != 0 ||
	    http_add_header(t, "If-Modified-Since", req->if_modified_since) !=
	        0)
		goto nomem;
	if ((list = curl_slist_append(t->headers, "Expect:")) == NULL)
		goto nomem;
	t->headers = list;
	HTTP_SET(CURLOPT_HTTPHEADER, t->headers);
#undef HTTP_SET

	if (code != CURLE_OK) {
		*cause = xasprintf(
		    "cannot set up the request: %s", curl_easy_strerror(code));
		return -1;
	}
	return 0;

nomem:
	*cause =
	    xstrdup("cannot set up the request: out of memory for headers");
	return -1;
}

/*
 * curl_multi_add_handle() never completes a transfer: it only asks, through
 * the timer callback, to be called soon.  So the callback runs from the loop
 * at the earliest, as http.h promises.
 */
void *
http_request_start(struct http *h, const struct http_request *req,
    http_done_cb done, void *arg, char **cause)
{
	struct http_transfer *t;
	CURLMcode mcode;

	if (http_init(h, cause) != 0)
		return NULL;
	t = xcalloc(1, sizeof *t);
	t->max_response = req->max_response;
	t->retry_after_ms = -1;
	t->refuse_private = req->refuse_private;
	t->done = done;
	t->arg = arg;
	buf_init(&t->response);
	buf_reserve(&t->response, 0);
	if ((t->easy = curl_easy_init()) == NULL) {
		*cause = xstrdup("cannot create a libcurl handle");
		goto fail;
	}
	if (http_setup(t, req, cause) != 0)
		goto fail;
	if ((mcode = curl_multi_add_handle(h->multi, t->easy)) != CURLM_OK) {
		*cause = xasprintf(
		    "cannot start the request: %s", curl_multi_strerror(mcode));
		goto fail;
	}
	TAILQ_INSERT_TAIL(&h->transfers, t, entry);
	h->active++;
	return t;

fail:
	http_transfer_free(t);
	return NULL;
}

void
http_cancel(struct http *h, void *handle)
{
	struct http_transfer *t = handle;

	if (t == NULL || t->finishing)
		return;
	http_transfer_abort(h, t);
}

size_t
http_active(const struct http *h)
{
	return h->active;
}
