/*
 * Documents: reading a file and turning it into the text to scan.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "alert.h"
#include "doc.h"
#include "feed.h"
#include "eml.h"
#include "html.h"
#include "xmalloc.h"

/* The extension of the last component of name (".html"), or NULL. */
static const char *
doc_extension(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL || strchr(dot, '/') != NULL)
		return NULL;
	return dot;
}

enum doc_format
doc_format_from_name(const char *name)
{
	const char *ext = doc_extension(name);

	if (ext == NULL)
		return DOC_TEXT;
	if (strcasecmp(ext, ".html") == 0 || strcasecmp(ext, ".htm") == 0)
		return DOC_HTML;
	if (strcasecmp(ext, ".eml") == 0)
		return DOC_EMAIL;
	return DOC_TEXT;
}

int
doc_format_known(const char *name)
{
	const char *ext = doc_extension(name);

	if (ext == NULL)
		return 0;
	return doc_format_from_name(name) != DOC_TEXT ||
	       strcasecmp(ext, ".txt") == 0 || strcasecmp(ext, ".text") == 0;
}

const char *
doc_format_name(enum doc_format f)
{
	switch (f) {
	case DOC_HTML:
		return "html";
	case DOC_EMAIL:
		return "email";
	case DOC_TEXT:
		break;
	}
	return "text";
}

/*
 * An e-mail is scanned as its Subject line, a blank line and its body, so
 * that a word in the subject alerts as one in the body does.
 */
static void
doc_from_email(struct doc *d)
{
	struct eml m;
	struct buf b;

	eml_parse(d->raw, d->rawlen, &m);
	buf_init(&b);
	if (m.subject != NULL) {
		buf_add_str(&b, m.subject);
		buf_add_byte(&b, '\n');
		if (m.text.len > 0)
			buf_add_byte(&b, '\n');
	}
	buf_add(&b, m.text.data, m.text.len);
	d->extracted = buf_detach(&b, &d->textlen);
	d->text = d->extracted;
	d->title = m.subject;
	d->from = m.from;
	d->date = m.date;
	m.subject = m.from = m.date = NULL;
	eml_release(&m);
}

struct doc *
doc_from_bytes(const char *name, char *raw, size_t len, enum doc_format format)
{
	struct doc *d;
	struct html_meta meta;
	struct buf b;
	size_t skip = 0;

	d = xcalloc(1, sizeof *d);
	d->name = xstrdup(name);
	d->format = format;
	d->raw = raw;
	d->rawlen = len;

	if (format == DOC_TEXT) {
		d->text = raw;
		d->textlen = len;
		return d;
	}
	if (format == DOC_EMAIL) {
		doc_from_email(d);
		return d;
	}

	if (len >= 3 && memcmp(raw, "\xef\xbb\xbf", 3) == 0)
		skip = 3;
	buf_init(&b);
	html_extract(len > skip ? raw + skip : "", len - skip, &b, &meta);
	d->extracted = buf_detach(&b, &d->textlen);
	d->text = d->extracted;
	d->title = meta.title;
	d->link = meta.link;
	d->published = meta.published;
	return d;
}

/*
 * Read all of fd, refusing more than max bytes.  hint is the size fstat
 * gave (0 for pipes), so that a regular file is read in one allocation.
 */
static char *
doc_read_fd(int fd, size_t max, size_t hint, size_t *lenp, char **cause)
{
	char *data;
	size_t len = 0, cap;
	ssize_t n;

	if (max > SIZE_MAX - 2)
		max = SIZE_MAX - 2;
	/* Room for the whole file, the NUL, and one byte to see the end. */
	cap = (hint < max ? hint : max) + 2;
	if (cap < 4096)
		cap = 4096;
	data = xmalloc(cap);
	for (;;) {
		if (len == cap - 1) {
			if (len > max)
				break;
			cap = cap * 2;
			if (cap > max + 2)
				cap = max + 2;
			data = xrealloc(data, cap);
		}
		n = read(fd, data + len, cap - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*cause = xasprintf("read: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		*cause =
		    xasprintf("larger than max_document_size (%zu bytes)", max);
		goto fail;
	}
	data[len] = '\0';
	*lenp = len;
	return data;

fail:
	free(data);
	return NULL;
}

/*
 * Paths name regular files only: opening with O_NONBLOCK keeps a FIFO from
 * blocking until fstat refuses it.  The cause does not repeat the path, the
 * caller shows it.
 */
struct doc *
doc_load(const char *path, size_t max, char **cause)
{
	struct stat st;
	char *raw;
	size_t len;
	int fd, is_stdin = strcmp(path, "-") == 0;

	*cause = NULL;
	if (is_stdin)
		fd = STDIN_FILENO;
	else if ((fd = open(path,
	              O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) == -1) {
		*cause = xasprintf("cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		*cause = xasprintf("cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!is_stdin && !S_ISREG(st.st_mode)) {
		*cause = xasprintf("not a regular file%s",
		    S_ISDIR(st.st_mode) ? " (a directory)" : "");
		goto fail;
	}
	if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max) {
		*cause =
		    xasprintf("larger than max_document_size (%zu bytes)", max);
		goto fail;
	}
	raw = doc_read_fd(
	    fd, max, S_ISREG(st.st_mode) ? (size_t)st.st_size : 0, &len, cause);
	if (raw == NULL)
		goto fail;
	if (!is_stdin)
		close(fd);
	return doc_from_bytes(path, raw, len, doc_format_from_name(path));

fail:
	if (!is_stdin)
		close(fd);
	return NULL;
}

void
doc_free(struct doc *d)
{
	if (d == NULL)
		return;
	free(d->name);
	free(d->raw);
	free(d->extracted);
	free(d->title);
	free(d->link);
	free(d->published);
	free(d->from);
	free(d->date);
	free(d);
}

struct doc *
doc_from_feed_entry(const char *name, const struct feed_entry *e)
{
	struct doc *d;
	struct buf b;
	char *raw, published[32];
	size_t len;
	int64_t when;

	buf_init(&b);
	if (e->title != NULL)
		buf_add_str(&b, e->title);
	buf_add_str(&b, "\n\n");
	if (e->content != NULL && *e->content != '\0')
		buf_add_str(&b, e->content);
	else if (e->summary != NULL)
		buf_add_str(&b, e->summary);
	raw = buf_detach(&b, &len);
	d = doc_from_bytes(name, raw, len, DOC_TEXT);
	when = e->published != INT64_MIN ? e->published : e->updated;
	if (when != INT64_MIN) {
		alert_format_time(when * 1000, published);
		d->published = xstrdup(published);
	}
	d->title = e->title != NULL ? xstrdup(e->title) : NULL;
	d->link = e->link != NULL ? xstrdup(e->link) : NULL;
	return d;
}
