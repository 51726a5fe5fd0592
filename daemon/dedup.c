/*
 * One alert per story.  See dedup.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert.h"
#include "buf.h"
#include "dedup.h"
#include "fileio.h"
#include "log.h"
#include "text.h"
#include "xmalloc.h"

/* A key is a type letter ('L' link, 'T' text) and a hex SHA-256. */
#define DEDUP_KEY_LEN 66

struct dedup_slot {
	char key[DEDUP_KEY_LEN];
	int64_t when_ms;
};

struct dedup {
	char *path;
	int fd; /* the file, opened for appending */
	int64_t window_ms;
	struct dedup_slot *slots; /* open addressing; key[0] == 0: empty */
	size_t cap;
	size_t n;
	size_t records;     /* lines in the file */
	struct buf pending; /* lines added, not yet written */
	int unsynced;       /* lines written, not yet fsync'ed */
};

static size_t
dedup_hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 0x100000001b3ULL;
	return (size_t)h;
}

static struct dedup_slot *
dedup_find(const struct dedup *dd, const char *key)
{
	size_t i;

	if (dd->cap == 0)
		return NULL;
	i = dedup_hash(key) & (dd->cap - 1);
	while (dd->slots[i].key[0] != '\0') {
		if (strcmp(dd->slots[i].key, key) == 0)
			return &dd->slots[i];
		i = (i + 1) & (dd->cap - 1);
	}
	return NULL;
}

static void dedup_put(struct dedup *dd, const char *key, int64_t when_ms);

static void
dedup_grow(struct dedup *dd)
{
	struct dedup_slot *old = dd->slots;
	size_t i, oldcap = dd->cap;

	dd->cap = oldcap ? oldcap * 2 : 256;
	dd->slots = xcalloc(dd->cap, sizeof *dd->slots);
	dd->n = 0;
	for (i = 0; i < oldcap; i++) {
		if (old[i].key[0] != '\0')
			dedup_put(dd, old[i].key, old[i].when_ms);
	}
	free(old);
}

static void
dedup_put(struct dedup *dd, const char *key, int64_t when_ms)
{
	struct dedup_slot *s;
	size_t i;

	if ((s = dedup_find(dd, key)) != NULL) {
		if (when_ms > s->when_ms)
			s->when_ms = when_ms;
		return;
	}
	if ((dd->n + 1) * 2 > dd->cap)
		dedup_grow(dd);
	i = dedup_hash(key) & (dd->cap - 1);
	while (dd->slots[i].key[0] != '\0')
		i = (i + 1) & (dd->cap - 1);
	snprintf(dd->slots[i].key, sizeof dd->slots[i].key, "%s", key);
	dd->slots[i].when_ms = when_ms;
	dd->n++;
}

/*
 * Rewrite the file with the keys still inside the window: temp, fsync,
 * rename, so a crash leaves the old file or the new one.
 */
static int
dedup_compact(struct dedup *dd, int64_t now_ms, char **cause)
{
	struct buf b;
	size_t i, kept = 0;
	int rc;

	buf_init(&b);
	for (i = 0; i < dd->cap; i++) {
		if (dd->slots[i].key[0] == '\0' ||
		    now_ms - dd->slots[i].when_ms > dd->window_ms)
			continue;
		buf_printf(&b, "%" PRId64 " %s\n", dd->slots[i].when_ms,
		    dd->slots[i].key);
		kept++;
	}
	if ((rc = fileio_replace(dd->path, b.data, b.len, 0600, cause)) == 0)
		dd->records = kept;
	buf_release(&b);
	return rc;
}

struct dedup *
dedup_open(const char *path, int64_t window_ms, int64_t now_ms, char **cause)
{
	struct dedup *dd;
	char line[128], key[DEDUP_KEY_LEN];
	long long when;
	FILE *fp;

	dd = xcalloc(1, sizeof *dd);
	buf_init(&dd->pending);
	dd->path = xstrdup(path);
	dd->window_ms = window_ms;
	dd->fd = -1;
	if ((fp = fopen(path, "re")) != NULL) {
		while (fgets(line, sizeof line, fp) != NULL) {
			/* A torn last line from a crash is skipped. */
			if (sscanf(line, "%lld %65s", &when, key) != 2 ||
			    strlen(key) != DEDUP_KEY_LEN - 1)
				continue;
			if (now_ms - when <= window_ms)
				dedup_put(dd, key, when);
		}
		fclose(fp);
	} else if (errno != ENOENT) {
		*cause = xasprintf("open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (dedup_compact(dd, now_ms, cause) != 0)
		goto fail;
	dd->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (dd->fd == -1) {
		*cause = xasprintf("open %s: %s", path, strerror(errno));
		goto fail;
	}
	return dd;
fail:
	dedup_close(dd);
	return NULL;
}

void
dedup_close(struct dedup *dd)
{
	if (dd == NULL)
		return;
	if (dd->fd != -1) {
		dedup_sync(dd);
		close(dd->fd);
	}
	buf_release(&dd->pending);
	free(dd->slots);
	free(dd->path);
	free(dd);
}

void
dedup_set_window(struct dedup *dd, int64_t window_ms)
{
	dd->window_ms = window_ms;
}

/*
 * The canonical form of a link: scheme and host in lower case, no
 * fragment, no utm_* tracking parameters.  Appended to out.
 */
static void
dedup_canonical_link(const char *link, struct buf *out)
{
	const char *p = link, *host, *q, *param, *end;
	int first = 1;

	if ((host = strstr(link, "://")) == NULL) {
		buf_add(out, link, strcspn(link, "#"));
		return;
	}
	host += 3;
	for (; *p != '\0' && p < host + strcspn(host, "/?#"); p++)
		buf_add_byte(
		    out, (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p));
	buf_add(out, p, strcspn(p, "?#"));
	if ((q = strchr(p, '?')) == NULL || q > p + strcspn(p, "#"))
		return;
	for (param = q + 1; *param != '\0' && *param != '#'; param = end) {
		end = param + strcspn(param, "&#");
		if (strncmp(param, "utm_", 4) != 0 && end > param) {
			buf_add_byte(out, first ? '?' : '&');
			buf_add(out, param, (size_t)(end - param));
			first = 0;
		}
		if (*end == '&')
			end++;
	}
}

void
dedup_keys_make(const struct doc *d, struct dedup_keys *k)
{
	struct text_scan ts;
	struct text_word w;
	struct buf b;

	k->link[0] = k->text[0] = '\0';
	buf_init(&b);
	if (d->link != NULL && *d->link != '\0') {
		dedup_canonical_link(d->link, &b);
		alert_sha256_hex(b.data, b.len, k->link);
	}
	buf_reset(&b);
	text_scan_init(&ts, d->text, d->textlen, 0);
	while (text_scan_next(&ts, &w)) {
		if (b.len > 0)
			buf_add_byte(&b, ' ');
		buf_add(&b, w.fold, w.foldlen);
	}
	text_scan_release(&ts);
	if (b.len > 0)
		alert_sha256_hex(b.data, b.len, k->text);
	buf_release(&b);
}

/* Whether key ("L..." or "T...") was seen within the window. */
static int
dedup_seen_key(const struct dedup *dd, char type, const char *digest,
    int64_t now_ms, int64_t *age_ms)
{
	char key[DEDUP_KEY_LEN];
	const struct dedup_slot *s;

	if (*digest == '\0')
		return 0;
	snprintf(key, sizeof key, "%c%s", type, digest);
	if ((s = dedup_find(dd, key)) == NULL ||
	    now_ms - s->when_ms > dd->window_ms)
		return 0;
	*age_ms = now_ms - s->when_ms;
	return 1;
}

int
dedup_seen(const struct dedup *dd, const struct dedup_keys *k, int64_t now_ms,
    const char **which, int64_t *age_ms)
{
	if (dd->window_ms <= 0)
		return 0;
	if (dedup_seen_key(dd, 'L', k->link, now_ms, age_ms)) {
		*which = "link";
		return 1;
	}
	if (dedup_seen_key(dd, 'T', k->text, now_ms, age_ms)) {
		*which = "text";
		return 1;
	}
	return 0;
}

void
dedup_add(struct dedup *dd, const struct dedup_keys *k, int64_t now_ms)
{
	char key[DEDUP_KEY_LEN];

	if (dd->window_ms <= 0)
		return;
	if (k->link[0] != '\0') {
		snprintf(key, sizeof key, "L%s", k->link);
		dedup_put(dd, key, now_ms);
		buf_printf(&dd->pending, "%" PRId64 " %s\n", now_ms, key);
		dd->records++;
	}
	if (k->text[0] != '\0') {
		snprintf(key, sizeof key, "T%s", k->text);
		dedup_put(dd, key, now_ms);
		buf_printf(&dd->pending, "%" PRId64 " %s\n", now_ms, key);
		dd->records++;
	}
}

int
dedup_flush(struct dedup *dd, int64_t now_ms, char **cause)
{
	off_t end;
	int rc = 0, saved;

	if (dd->pending.len == 0)
		return 0;
	end = lseek(dd->fd, 0, SEEK_END);
	if (fileio_write_all(dd->fd, dd->pending.data, dd->pending.len) == -1) {
		saved = errno;
		/* A part written (a full disk) would glue the next record to
		 * a torn line, and both would be skipped at the next start. */
		if (end != -1 && ftruncate(dd->fd, end) == -1)
			log_warn("truncate %s", dd->path);
		*cause =
		    xasprintf("append to %s: %s", dd->path, strerror(saved));
		rc = -1;
	} else
		dd->unsynced = 1;
	buf_reset(&dd->pending);
	/* Keep the file near the live set: compact when it doubled. */
	if (rc == 0 && dd->records > 1024 && dd->records > 4 * dd->n) {
		/* The new file is durable, with what the old one held
		 * unsynced. */
		if (dedup_compact(dd, now_ms, cause) != 0)
			rc = -1;
		else {
			close(dd->fd);
			dd->fd =
			    open(dd->path, O_WRONLY | O_APPEND | O_CLOEXEC);
			dd->unsynced = 0;
		}
	}
	return rc;
}

int
dedup_sync(struct dedup *dd)
{
	if (!dd->unsynced || dd->fd == -1)
		return 0;
	if (fsync(dd->fd) == -1) {
		log_warn("fsync %s", dd->path);
		return -1;
	}
	dd->unsynced = 0;
	return 0;
}
