/*
 * The loopback HTTP server of the unit tests.  See test_server.h.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "test_server.h"

#define TEST_SERVER_MAX_HEAD 16384

struct test_server {
	int fd;
	uint16_t port;
	pthread_t thread;
	test_server_cb cb;
	void *arg;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	int conns; /* connection threads alive */
	int busy;  /* requests being answered */
	int max_busy;
	struct test_server_request **reqs;
	size_t nreqs;
};

struct test_server_conn {
	struct test_server *s;
	int fd;
};

static void *
test_xmalloc(size_t n)
{
	void *p = calloc(1, n == 0 ? 1 : n);

	if (p == NULL)
		abort();
	return p;
}

static int
test_server_stopping(struct test_server *s)
{
	int stop;

	pthread_mutex_lock(&s->lock);
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

/* Sleep ms, or less if the server stops. */
static void
test_server_sleep(struct test_server *s, int ms)
{
	struct timespec ts = {0, 10 * 1000 * 1000};

	for (; ms > 0 && !test_server_stopping(s); ms -= 10)
		nanosleep(&ts, NULL);
}

static int
test_server_send(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read one request: the head, then Content-Length bytes of body. */
static struct test_server_request *
test_server_read(struct test_server *s, int fd)
{
	struct test_server_request *r;
	char *buf, *end, *cl;
	size_t len = 0, cap = TEST_SERVER_MAX_HEAD, headlen, want = 0;
	struct pollfd pfd = {fd, POLLIN, 0};
	ssize_t n;

	buf = test_xmalloc(cap + 1);
	for (;;) {
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
			headlen = (size_t)(end - buf) + 4;
			cl = strcasestr(buf, "\r\nContent-Length:");
			if (cl != NULL && cl < end)
				want = strtoul(cl + 17, NULL, 10);
			if (len >= headlen + want)
				break;
			if (headlen + want > cap) {
				cap = headlen + want;
				buf = realloc(buf, cap + 1);
			}
		}
		if (len == cap)
			goto fail;
		if (poll(&pfd, 1, 50) == 0) {
			if (test_server_stopping(s))
				goto fail;
			continue;
		}
		if ((n = recv(fd, buf + len, cap - len, 0)) <= 0)
			goto fail;
		len += (size_t)n;
	}

	r = test_xmalloc(sizeof *r);
	sscanf(buf, "%15s %511s", r->method, r->path);
	r->head = test_xmalloc(headlen + 1);
	memcpy(r->head, buf, headlen);
	r->body = test_xmalloc(want + 1);
	memcpy(r->body, buf + headlen, want);
	r->bodylen = want;
	free(buf);
	return r;

fail:
	free(buf);
	return NULL;
}

static void *
test_server_conn_main(void *arg)
{
	struct test_server_conn *c = arg;
	struct test_server *s = c->s;
	struct test_server_request *r;
	struct test_server_reply reply;
	char head[1024];
	char *filler;
	size_t blen;

again:
	if ((r = test_server_read(s, c->fd)) == NULL)
		goto out;
	pthread_mutex_lock(&s->lock);
	s->reqs = realloc(s->reqs, (s->nreqs + 1) * sizeof *s->reqs);
	s->reqs[s->nreqs++] = r;
	if (++s->busy > s->max_busy)
		s->max_busy = s->busy;
	pthread_mutex_unlock(&s->lock);

	memset(&reply, 0, sizeof reply);
	s->cb(r, &reply, s->arg);
	if (reply.status == 0)
		reply.status = 200;
	test_server_sleep(s, reply.delay_ms);
	if (reply.hang) {
		while (!test_server_stopping(s))
			test_server_sleep(s, 50);
	} else {
		if (reply.body != NULL)
			blen = reply.bodylen != 0 ? reply.bodylen
			                          : strlen(reply.body);
		else
			blen = reply.filler;
		snprintf(head, sizeof head,
		    "HTTP/1.1 %d Test\r\nContent-Length: %zu\r\n"
		    "Connection: %s\r\n%s\r\n",
		    reply.status, blen,
		    reply.keep_alive ? "keep-alive" : "close",
		    reply.headers != NULL ? reply.headers : "");
		if (test_server_send(c->fd, head, strlen(head)) == 0) {
			if (reply.body != NULL)
				test_server_send(c->fd, reply.body, blen);
			else if (blen > 0) {
				filler = test_xmalloc(blen);
				memset(filler, 'x', blen);
				test_server_send(c->fd, filler, blen);
				free(filler);
			}
		}
	}
	pthread_mutex_lock(&s->lock);
	s->busy--;
	pthread_mutex_unlock(&s->lock);
	if (reply.keep_alive && !reply.hang)
		goto again;

out:
	close(c->fd);
	pthread_mutex_lock(&s->lock);
	s->conns--;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	free(c);
	return NULL;
}

static void *
test_server_main(void *arg)
{
	struct test_server *s = arg;
	struct test_server_conn *c;
	pthread_t t;
	int fd;

	for (;;) {
		if ((fd = accept(s->fd, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (test_server_stopping(s)) {
			close(fd);
			break;
		}
		c = test_xmalloc(sizeof *c);
		c->s = s;
		c->fd = fd;
		pthread_mutex_lock(&s->lock);
		s->conns++;
		pthread_mutex_unlock(&s->lock);
		if (pthread_create(&t, NULL, test_server_conn_main, c) != 0)
			abort();
		pthread_detach(t);
	}
	return NULL;
}

static int
test_server_listen(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof sin;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		abort();
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen) != 0)
		abort();
	*port = ntohs(sin.sin_port);
	return fd;
}

struct test_server *
test_server_start(test_server_cb cb, void *arg)
{
	struct test_server *s = test_xmalloc(sizeof *s);

	s->cb = cb;
	s->arg = arg;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->fd = test_server_listen(&s->port);
	if (pthread_create(&s->thread, NULL, test_server_main, s) != 0)
		abort();
	return s;
}

void
test_server_stop(struct test_server *s)
{
	size_t i;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_mutex_unlock(&s->lock);
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->fd);
	pthread_mutex_lock(&s->lock);
	while (s->conns > 0)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < s->nreqs; i++)
		test_server_request_free(s->reqs[i]);
	free(s->reqs);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

uint16_t
test_server_port(const struct test_server *s)
{
	return s->port;
}

char *
test_server_url(const struct test_server *s, const char *path)
{
	char *url;

	if (asprintf(&url, "http://127.0.0.1:%u%s", (unsigned)s->port, path) ==
	    -1)
		abort();
	return url;
}

size_t
test_server_count(struct test_server *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->nreqs;
	pthread_mutex_unlock(&s->lock);
	return n;
}

struct test_server_request *
test_server_get(struct test_server *s, size_t i)
{
	struct test_server_request *r = NULL, *src;

	pthread_mutex_lock(&s->lock);
	if (i < s->nreqs) {
		src = s->reqs[i];
		r = test_xmalloc(sizeof *r);
		memcpy(r->method, src->method, sizeof r->method);
		memcpy(r->path, src->path, sizeof r->path);
		r->head = strdup(src->head);
		r->body = test_xmalloc(src->bodylen + 1);
		memcpy(r->body, src->body, src->bodylen);
		r->bodylen = src->bodylen;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

void
test_server_request_free(struct test_server_request *r)
{
	if (r == NULL)
		return;
	free(r->head);
	free(r->body);
	free(r);
}

char *
test_server_header(const struct test_server_request *r, const char *name)
{
	const char *p = r->head, *eol, *v;
	size_t n = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			v = p + n + 1;
			while (*v == ' ')
				v++;
			eol = strstr(v, "\r\n");
			return strndup(v, (size_t)(eol - v));
		}
	}
	return NULL;
}

int
test_server_max_concurrent(struct test_server *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->max_busy;
	pthread_mutex_unlock(&s->lock);
	return n;
}

uint16_t
test_server_closed_port(void)
{
	uint16_t port;
	int fd = test_server_listen(&port);

	close(fd);
	return port;
}

static void
test_loop_tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

int
test_loop_until(struct event_base *base, const int *flag, int ms)
{
	struct timeval tick = {0, 10 * 1000}, start, now;
	struct event *ev;
	long elapsed;

	ev = event_new(base, -1, EV_PERSIST, test_loop_tick_cb, NULL);
	event_add(ev, &tick);
	gettimeofday(&start, NULL);
	for (;;) {
		if (flag != NULL && *flag)
			break;
		gettimeofday(&now, NULL);
		elapsed = (now.tv_sec - start.tv_sec) * 1000 +
		          (now.tv_usec - start.tv_usec) / 1000;
		if (elapsed >= ms)
			break;
		event_base_loop(base, EVLOOP_ONCE);
	}
	event_free(ev);
	return flag != NULL && *flag ? 0 : -1;
}

void
test_loop_for(struct event_base *base, int ms)
{
	test_loop_until(base, NULL, ms);
}
