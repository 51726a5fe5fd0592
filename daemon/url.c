/*
 * Showing URLs without their credentials.  See url.h.
 */
#include <stddef.h>
#include <string.h>

#include "url.h"
#include "xmalloc.h"

#define URL_LETTERS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* The parts of a URL this file needs; pointers into the URL. */
struct url_parts {
	const char *scheme_end; /* the "://" */
	const char *host;       /* after user:password@ */
	const char *host_end;   /* the end of host[:port] */
	const char *path_end;   /* the '?' or '#' or the end */
	int userinfo;
};

/*
 * Split url, or return -1 if it does not start with scheme:// (RFC 3986:
 * a letter, then letters, digits, '+', '-', '.').  host[:port] is a name
 * or an [IPv6] literal and an optional port of digits; it ends at the first
 * character that cannot be in it, so that nothing unusual is shown (a
 * password with a '/' in it, not escaped, looks like a bad port: it is cut
 * at the ':').
 */
static int
url_split(const char *url, struct url_parts *u)
{
	static const char scheme_chars[] = URL_LETTERS "0123456789+-.";
	static const char name_chars[] =
	    URL_LETTERS "0123456789-._~%!$&'()*+,;=";
	const char *p = url, *auth_end, *at, *q;

	if (*p == '\0' || strchr(URL_LETTERS, *p) == NULL)
		return -1;
	p += strspn(p, scheme_chars);
	if (strncmp(p, "://", 3) != 0)
		return -1;
	u->scheme_end = p;
	p += 3;
	auth_end = p + strcspn(p, "/?#");
	u->host = p;
	u->userinfo = 0;
	while (
	    (at = memchr(u->host, '@', (size_t)(auth_end - u->host))) != NULL) {
		u->host = at + 1;
		u->userinfo = 1;
	}
	q = u->host;
	if (*q == '[')
		q += 1 + strspn(q + 1, "0123456789abcdefABCDEF:.") + 1;
	else
		q += strspn(q, name_chars);
	if (q > auth_end || (*u->host == '[' && q[-1] != ']'))
		q = u->host;
	if (*q == ':' && q + 1 + strspn(q + 1, "0123456789") == auth_end)
		q = auth_end;
	u->host_end = q;
	u->path_end = q + strcspn(q, "?#");
	return 0;
}

char *
url_redact(const char *url)
{
	struct url_parts u;
	const char *rest;

	if (url_split(url, &u) != 0)
		return NULL;
	rest = u.host_end;
	return xasprintf("%.*s://%.*s%s", (int)(u.scheme_end - url), url,
	    (int)(u.host_end - u.host), u.host,
	    *rest == '\0' ? "" : (strcmp(rest, "/") == 0 ? "/" : "/..."));
}

char *
url_strip(const char *url)
{
	struct url_parts u;

	if (url_split(url, &u) != 0)
		return NULL;
	return xasprintf("%.*s://%.*s", (int)(u.scheme_end - url), url,
	    (int)(u.path_end - u.host), u.host);
}

int
url_has_credentials(const char *url)
{
	struct url_parts u;

	if (url_split(url, &u) != 0)
		return 0;
	return u.userinfo || *u.path_end == '?';
}
