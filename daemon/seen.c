/*
 * Seen entries of a feed.  See seen.h.
 *
 * Why a crash never leaves a partial file: the new state is written to
 * DIR/.<id>.seen.tmp with O_EXCL, fsync'ed, and renamed over DIR/<id>.seen,
 * then DIR is fsync'ed; rename(2) is atomic, so the final name holds the
 * old file or the new one.  A temporary file a crash left behind is removed
 * by the next save.  The last line of a file is "end", so a file cut short
 * some other way (an operator, a disk) is recognised as corrupt rather than
 * read as a shorter set.
 *
 * In memory the keys live in an array in no particular order, each with
 * the sequence number of its last seen_add(), and an open-addressing hash
 * table of indexes into it.  Dropping the oldest sorts the array by
 * sequence and rebuilds the table; it happens only when the set grows well
 * past its bound, or on a save.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "buf.h"
#include "feed.h"
#include "fileio.h"
#include "log.h"
#include "seen.h"
#include "xmalloc.h"

#define SEEN_MAGIC  "watchlistd-seen 1"
#define SEEN_ID_MAX 128
/* A file larger than this is not ours: 64-digit keys, a bounded count. */
#define SEEN_MAX_FILE (64 * 1024 * 1024)

struct seen_item {
	char key[65];
	uint64_t seq; /* of its last seen_add(): larger is newer */
};

struct seen {
	char *dir;
	char *feed_id;
	char *path; /* DIR/<id>.seen */
	char *tmp;  /* DIR/.<id>.seen.tmp */

	struct seen_item *items;
	size_t n;
	size_t cap;
	size_t *table; /* index + 1 into items; 0: empty */
	size_t tsize;  /* a power of two, at least twice n */
	uint64_t seq;

	size_t fetch_size;
	int fetched;
	char *etag;
	char *last_modified;
	unsigned int failures;
	int dirty;
};

int
seen_key(const struct feed_entry *e, char out[65])
{
	struct buf b;

	if (e->id != NULL && *e->id != '\0') {
		alert_sha256_hex(e->id, strlen(e->id), out);
		return 0;
	}
	if (e->link != NULL && *e->link != '\0') {
		alert_sha256_hex(e->link, strlen(e->link), out);
		return 0;
	}
	if ((e->title == NULL || *e->title == '\0') &&
	    (e->content == NULL || *e->content == '\0') &&
	    (e->summary == NULL || *e->summary == '\0'))
		return -1;
	buf_init(&b);
	if (e->title != NULL)
		buf_add_str(&b, e->title);
	buf_add_byte(&b, '\n');
	if (e->content != NULL && *e->content != '\0')
		buf_add_str(&b, e->content);
	else if (e->summary != NULL)
		buf_add_str(&b, e->summary);
	alert_sha256_hex(b.data, b.len, out);
	buf_release(&b);
	return 0;
}

/* Whether s is 64 lower-case hex digits. */
static int
seen_valid_key(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return s[64] == '\0';
}

/* Whether id can name a file: [A-Za-z0-9_.-], not starting with a dot. */
static int
seen_valid_id(const char *id)
{
	size_t i;
	char c;

	for (i = 0; (c = id[i]) != '\0'; i++) {
		if (i == SEEN_ID_MAX)
			return 0;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    (c == '.' && i > 0))
			continue;
		return 0;
	}
	return i > 0;
}

/* The keys are hashes already: their first 16 digits spread well. */
static size_t
seen_hash(const char *key)
{
	size_t h = 0;
	int i;

	for (i = 0; i < 16; i++)
		h = h << 4 |
		    (size_t)(key[i] <= '9' ? key[i] - '0' : key[i] - 'a' + 10);
	return h;
}

/* The slot of key in the table: where it is, or the empty one it would go. */
static size_t
seen_slot(const struct seen *s, const char *key)
{
	size_t i = seen_hash(key) & (s->tsize - 1);

	while (
	    s->table[i] != 0 && strcmp(s->items[s->table[i] - 1].key, key) != 0)
		i = (i + 1) & (s->tsize - 1);
	return i;
}

static void
seen_rebuild(struct seen *s)
{
	size_t i;

	s->tsize = 64;
	while (s->tsize < 2 * s->cap)
		s->tsize *= 2;
	free(s->table);
	s->table = xcalloc(s->tsize, sizeof *s->table);
	for (i = 0; i < s->n; i++)
		s->table[seen_slot(s, s->items[i].key)] = i + 1;
}

static int
seen_item_cmp(const void *a, const void *b)
{
	const struct seen_item *ia = a, *ib = b;

	if (ia->seq != ib->seq)
		return ia->seq < ib->seq ? -1 : 1;
	return 0;
}

static size_t
seen_bound(const struct seen *s)
{
	if (s->fetch_size > SEEN_MIN_KEYS / 3)
		return 3 * s->fetch_size;
	return SEEN_MIN_KEYS;
}

/* Sort oldest first and drop all but the newest bound keys. */
static void
seen_trim(struct seen *s)
{
	size_t bound = seen_bound(s), drop;

	if (s->n > 1)
		qsort(s->items, s->n, sizeof *s->items, seen_item_cmp);
	if (s->n > bound) {
		drop = s->n - bound;
		memmove(s->items, s->items + drop, bound * sizeof *s->items);
		s->n = bound;
		s->dirty = 1;
	}
	seen_rebuild(s);
}

int
seen_has(const struct seen *s, const char *key)
{
	if (!seen_valid_key(key))
		return 0;
	return s->table[seen_slot(s, key)] != 0;
}

void
seen_add(struct seen *s, const char *key)
{
	size_t i;

	if (!seen_valid_key(key))
		fatalx("seen: bad key '%.70s'", key);
	i = seen_slot(s, key);
	if (s->table[i] != 0) {
		s->items[s->table[i] - 1].seq = ++s->seq;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 64 : s->cap * 2;
		s->items = xreallocarray(s->items, s->cap, sizeof *s->items);
	}
	memcpy(s->items[s->n].key, key, 65);
	s->items[s->n].seq = ++s->seq;
	s->n++;
	s->dirty = 1;
	if (2 * s->n > s->tsize)
		seen_rebuild(s);
	else
		s->table[i] = s->n;
	/* Between saves, memory stays within twice the bound. */
	if (s->n > 2 * seen_bound(s))
		seen_trim(s);
}

size_t
seen_count(const struct seen *s)
{
	return s->n;
}

void
seen_set_fetch_size(struct seen *s, size_t nentries)
{
	s->fetch_size = nentries;
}

int
seen_fetched(const struct seen *s)
{
	return s->fetched;
}

void
seen_set_fetched(struct seen *s)
{
	if (!s->fetched)
		s->dirty = 1;
	s->fetched = 1;
}

const char *
seen_etag(const struct seen *s)
{
	return s->etag;
}

const char *
seen_last_modified(const struct seen *s)
{
	return s->last_modified;
}

/* Replace *slot with a copy of v; a value with a line break is dropped. */
static int
seen_set_string(char **slot, const char *v)
{
	if (v != NULL && (*v == '\0' || v[strcspn(v, "\r\n")] != '\0'))
		v = NULL;
	if (v == NULL ? *slot == NULL : *slot != NULL && strcmp(*slot, v) == 0)
		return 0;
	free(*slot);
	*slot = v != NULL ? xstrdup(v) : NULL;
	return 1;
}

void
seen_set_validators(struct seen *s, const char *etag, const char *last_modified)
{
	if (seen_set_string(&s->etag, etag))
		s->dirty = 1;
	if (seen_set_string(&s->last_modified, last_modified))
		s->dirty = 1;
}

unsigned int
seen_failures(const struct seen *s)
{
	return s->failures;
}

void
seen_set_failures(struct seen *s, unsigned int failures)
{
	if (s->failures != failures)
		s->dirty = 1;
	s->failures = failures;
}

/* Forget everything (before a load, or after finding a corrupt file). */
static void
seen_clear(struct seen *s)
{
	s->n = 0;
	s->fetched = 0;
	s->failures = 0;
	free(s->etag);
	free(s->last_modified);
	s->etag = s->last_modified = NULL;
	seen_rebuild(s);
}

/* Parse "name value" header line; the value to *v.  0 if name matches. */
static int
seen_field(char *line, const char *name, char **v)
{
	size_t n = strlen(name);

	if (strncmp(line, name, n) != 0 || line[n] != ' ')
		return -1;
	*v = line + n + 1;
	return 0;
}

/* Parse an unsigned decimal filling all of v. */
static int
seen_number(const char *v, unsigned long long *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return *end != '\0' || errno != 0 ? -1 : 0;
}

/*
 * Parse a whole file into s.  Returns 0, or -1 with *why (static text)
 * saying what is wrong with it.
 */
static int
seen_parse(struct seen *s, char *data, size_t len, const char **why)
{
	char *line, *next, *v;
	unsigned long long num, nkeys = 0, got = 0;
	int in_keys = 0, ended = 0;

	if (memchr(data, '\0', len) != NULL) {
		*why = "a NUL byte";
		return -1;
	}
	if (len == 0 || data[len - 1] != '\n') {
		*why = "cut short";
		return -1;
	}
	for (line = data; line < data + len; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		if (ended) {
			*why = "text after the end";
			return -1;
		}
		if (line == data) {
			if (strcmp(line, SEEN_MAGIC) != 0) {
				*why = "not a seen file of this version";
				return -1;
			}
		} else if (in_keys) {
			if (strcmp(line, "end") == 0) {
				ended = 1;
				continue;
			}
			if (!seen_valid_key(line)) {
				*why = "a bad key";
				return -1;
			}
			seen_add(s, line);
			got++;
		} else if (seen_field(line, "fetched", &v) == 0) {
			if (seen_number(v, &num) != 0 || num > 1)
				goto bad;
			s->fetched = (int)num;
		} else if (seen_field(line, "failures", &v) == 0) {
			if (seen_number(v, &num) != 0 || num > UINT32_MAX)
				goto bad;
			s->failures = (unsigned int)num;
		} else if (seen_field(line, "etag", &v) == 0)
			seen_set_string(&s->etag, v);
		else if (seen_field(line, "last-modified", &v) == 0)
			seen_set_string(&s->last_modified, v);
		else if (seen_field(line, "keys", &v) == 0) {
			if (seen_number(v, &nkeys) != 0)
				goto bad;
			in_keys = 1;
		} else
			goto bad;
	}
	if (!ended) {
		*why = "cut short";
		return -1;
	}
	if (got != nkeys) {
		*why = "the key count does not match";
		return -1;
	}
	return 0;

bad:
	*why = "a bad header line";
	return -1;
}

/* Read the whole file; 0 and *data (caller frees), 1 if absent, or -1. */
static int
seen_read(const char *path, char **data, size_t *len, char **cause)
{
	struct stat st;
	ssize_t n;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return 1;
		*cause = xasprintf("open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		*cause = xasprintf("stat %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > SEEN_MAX_FILE) {
		*cause = xasprintf("%s: not a regular file of at most %d "
		                   "bytes",
		    path, SEEN_MAX_FILE);
		goto fail;
	}
	*data = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		n = read(fd, *data + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			*cause = xasprintf("read %s: %s", path,
			    n == 0 ? "file shrank" : strerror(errno));
			free(*data);
			goto fail;
		}
		off += (size_t)n;
	}
	(*data)[off] = '\0';
	*len = off;
	close(fd);
	return 0;

fail:
	close(fd);
	return -1;
}

struct seen *
seen_load(const char *dir, const char *feed_id, char **cause)
{
	struct seen *s;
	char *data = NULL, *aside;
	const char *why;
	size_t len = 0;
	int rc;

	if (!seen_valid_id(feed_id)) {
		*cause = xasprintf(
		    "feed id '%.*s' cannot name a state file", 140, feed_id);
		return NULL;
	}
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		*cause = xasprintf("mkdir %s: %s", dir, strerror(errno));
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->dir = xstrdup(dir);
	s->feed_id = xstrdup(feed_id);
	s->path = xasprintf("%s/%s.seen", dir, feed_id);
	s->tmp = xasprintf("%s/.%s.seen.tmp", dir, feed_id);
	seen_rebuild(s);

	if ((rc = seen_read(s->path, &data, &len, cause)) == -1) {
		seen_free(s);
		return NULL;
	}
	if (rc == 1)
		return s;
	if (seen_parse(s, data, len, &why) != 0) {
		/*
		 * Moved aside, not deleted: an operator can see what went
		 * wrong.  Starting afresh as never fetched means a baseline
		 * with first_fetch = skip, not a flood of old entries.
		 */
		seen_clear(s);
		aside = xasprintf(
		    "%s.corrupt-%lld", s->path, (long long)time(NULL));
		if (rename(s->path, aside) == -1)
			log_warn("feed %s: %s is corrupt (%s) and cannot be "
			         "moved aside",
			    feed_id, s->path, why);
		else
			log_warnx("feed %s: %s is corrupt (%s): moved aside to "
			          "%s; starting afresh",
			    feed_id, s->path, why, aside);
		free(aside);
	}
	free(data);
	s->dirty = 0;
	return s;
}

void
seen_free(struct seen *s)
{
	if (s == NULL)
		return;
	free(s->dir);
	free(s->feed_id);
	free(s->path);
	free(s->tmp);
	free(s->items);
	free(s->table);
	free(s->etag);
	free(s->last_modified);
	free(s);
}

int
seen_save(struct seen *s, char **cause)
{
	struct buf b;
	const char *what;
	size_t i;
	int fd = -1, dfd = -1, saved;

	if (!s->dirty)
		return 0;
	seen_trim(s);

	buf_init(&b);
	buf_printf(&b, "%s\nfetched %d\nfailures %u\n", SEEN_MAGIC, s->fetched,
	    s->failures);
	if (s->etag != NULL)
		buf_printf(&b, "etag %s\n", s->etag);
	if (s->last_modified != NULL)
		buf_printf(&b, "last-modified %s\n", s->last_modified);
	buf_printf(&b, "keys %zu\n", s->n);
	for (i = 0; i < s->n; i++) {
		buf_add(&b, s->items[i].key, 64);
		buf_add_byte(&b, '\n');
	}
	buf_add_str(&b, "end\n");

	/* Only a crash leaves a temporary file; it is ours to remove. */
	if (unlink(s->tmp) == -1 && errno != ENOENT) {
		what = "unlink";
		goto fail;
	}
	what = "create";
	fd = open(s->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		goto fail;
	what = "write";
	if (fileio_write_all(fd, b.data, b.len) == -1)
		goto fail;
	what = "fsync";
	if (fsync(fd) == -1)
		goto fail;
	what = "close";
	saved = close(fd);
	fd = -1;
	if (saved == -1)
		goto fail;
	what = "rename";
	if (rename(s->tmp, s->path) == -1)
		goto fail;
	buf_release(&b);

	if ((dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		*cause = xasprintf("fsync %s: %s", s->dir, strerror(errno));
		if (dfd != -1)
			close(dfd);
		return -1;
	}
	close(dfd);
	s->dirty = 0;
	return 0;

fail:
	saved = errno;
	*cause = xasprintf("%s %s: %s", what, s->tmp, strerror(saved));
	if (fd != -1)
		close(fd);
	if (strcmp(what, "unlink") != 0)
		unlink(s->tmp);
	buf_release(&b);
	return -1;
}
