/*
 * The spool of pending deliveries.  See spool.h.
 *
 * Why a crash at any moment loses nothing and leaves nothing half-written
 * under a final name: a file is written under tmp/ with O_EXCL, fsync'ed,
 * and only then renamed to its final name in DIR, and DIR is fsync'ed before
 * spool_put() returns.  rename(2) is atomic, so a final name holds either
 * nothing or a complete file; a crash before the rename leaves a partial
 * file in tmp/ only, and spool_open() deletes those.  The header also
 * carries the body length, so a file damaged some other way (a disk, an
 * operator) is recognised at open and moved to dead/ instead of being sent
 * truncated.
 *
 * Burying writes the reason first (tmp/, fsync, rename into dead/, fsync
 * dead/) and moves the spool file second, so every dead/NAME.spool has its
 * NAME.reason.  A crash between the two leaves the entry pending, to be
 * retried after the restart, and a stray reason file that the next burial
 * of the same entry steps around.
 *
 * A batch (spool_stage(), spool_commit()) takes the same steps in another
 * order: every file is written under tmp/, then all of them are fsync'ed
 * at once, renamed, and DIR is fsync'ed once; the entries become pending
 * only then.  A failure at any step takes every staged file back.
 *
 * One process owns a spool: spool_open() takes an flock() on DIR, because
 * emptying tmp/ under another live writer would destroy its writes.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "fileio.h"
#include "log.h"
#include "spool.h"
#include "xmalloc.h"

#define SPOOL_MAGIC         "watchlistd-spool"
#define SPOOL_VERSION       "1"
#define SPOOL_SUFFIX        ".spool"
#define SPOOL_REASON_SUFFIX ".reason"

/*
 * Id lengths are bounded so that every name built from them, temporary and
 * dead ones included, stays well under NAME_MAX (255).
 */
#define SPOOL_ALERT_MAX   64
#define SPOOL_WEBHOOK_MAX 128
#define SPOOL_HEADER_MAX  512

/* Name collisions in dead/ tried before giving up. */
#define SPOOL_DEAD_TRIES 10000

struct spool {
	char *dir;
	int dir_fd;
	int tmp_fd;
	int dead_fd;

	uint64_t max_bytes;
	uint64_t bytes;

	/* Oldest first: by created_ms, then name. */
	struct spool_entry **entries;
	size_t n;
	size_t cap;
	/* The same entries by name (open addressing, NULL: empty), so that
	 * looking one up does not cost a pass over a spool of 100,000. */
	struct spool_entry **names;
	size_t names_cap;

	uint64_t counter; /* makes temporary names unique in this process */

	struct spool_staged *staged; /* written, not yet committed */
	size_t nstaged;
	size_t staged_cap;
	int unsynced; /* entries removed since DIR was last fsync'ed */

	/*
	 * Delivered files, moved into tmp/, that a thread unlinks: freeing a
	 * file's blocks can take a millisecond (more with online discard),
	 * which the loop need not wait for.  Started at the first removal.
	 */
	pthread_t reaper;
	pthread_mutex_t reap_lock;
	pthread_cond_t reap_cond; /* work for the thread */
	pthread_cond_t reap_idle; /* it has none left */
	char **reap;              /* names in tmp/ */
	size_t nreap;
	size_t reap_cap;
	int reap_busy; /* unlinking names it took */
	int reaping;   /* the thread runs */
	int reap_stop;
};

/* A file's first line, parsed. */
struct spool_header {
	char webhook[SPOOL_WEBHOOK_MAX + 1];
	char alert_id[SPOOL_ALERT_MAX + 1];
	int64_t created_ms;
	uint64_t body_len;
	size_t len; /* bytes of the line, newline included */
};

/* A file written to tmp/ by spool_stage(), waiting for spool_commit(). */
struct spool_staged {
	char *name; /* its final name in DIR */
	char *tmp;  /* its name in tmp/ */
	int fd;     /* still open, not yet fsync'ed */
	struct spool_header h;
	uint64_t size;
};

static void spool_unstage(struct spool *sp, size_t moved);

/* Whether s is 1 to max characters of [A-Za-z0-9_.-], or of hex digits. */
static int
spool_valid_id(const char *s, size_t max, int hex)
{
	size_t i;
	char c;

	for (i = 0; (c = s[i]) != '\0'; i++) {
		if (i == max)
			return 0;
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F'))
			continue;
		if (hex)
			return 0;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || c == '.' || c == '-')
			continue;
		return 0;
	}
	return i > 0;
}

static char *
spool_path(const struct spool *sp, const char *sub, const char *name)
{
	if (sub == NULL)
		return xasprintf("%s/%s", sp->dir, name);
	return xasprintf("%s/%s/%s", sp->dir, sub, name);
}

/*
 * Write head and body to a new file in tmp/ and make it durable.  The
 * temporary name (caller frees) goes to *tmpname; on failure the file is
 * unlinked and nothing is left behind.  With fdp, the file is not fsync'ed
 * but left open in *fdp, for the caller to fsync with others.
 */
static int
spool_write_tmp(struct spool *sp, const char *name, const void *head,
    size_t hlen, const void *body, size_t blen, char **tmpname, int *fdp,
    char **cause)
{
	const char *what;
	char *tmp, *path;
	int fd, saved, made = 0;

	tmp = xasprintf("%s.%ld.%" PRIu64, name, (long)getpid(), ++sp->counter);
	fd = openat(
	    sp->tmp_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		what = "create";
		goto fail;
	}
	made = 1;
	what = "write";
	if (fileio_write_all(fd, head, hlen) == -1)
		goto fail;
	if (fileio_write_all(fd, body, blen) == -1)
		goto fail;
	if (fdp != NULL) {
		*fdp = fd;
		*tmpname = tmp;
		return 0;
	}
	what = "fsync";
	if (fsync(fd) == -1)
		goto fail;
	what = "close";
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	*tmpname = tmp;
	return 0;

fail:
	saved = errno;
	path = spool_path(sp, "tmp", tmp);
	*cause = xasprintf("spool: %s %s: %s", what, path, strerror(saved));
	free(path);
	if (fd != -1)
		close(fd);
	if (made)
		unlinkat(sp->tmp_fd, tmp, 0);
	free(tmp);
	errno = saved;
	return -1;
}

/* fsync a directory; path only names it in the message. */
static int
spool_fsync_dir(int fd, const char *path, char **cause)
{
	if (fsync(fd) == -1) {
		*cause =
		    xasprintf("spool: fsync %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Whether entry a sorts before b: oldest first, then by name. */
static int
spool_entry_cmp(const struct spool_entry *a, const struct spool_entry *b)
{
	if (a->created_ms != b->created_ms)
		return a->created_ms < b->created_ms ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int
spool_entry_qsort_cb(const void *a, const void *b)
{
	const struct spool_entry *const *ea = a, *const *eb = b;

	return spool_entry_cmp(*ea, *eb);
}

static struct spool_entry *
spool_entry_new(const char *name, const struct spool_header *h, uint64_t size)
{
	struct spool_entry *e;
	int64_t age = clock_now_ms() - h->created_ms;

	e = xcalloc(1, sizeof *e);
	e->name = xstrdup(name);
	e->webhook = xstrdup(h->webhook);
	e->alert_id = xstrdup(h->alert_id);
	e->created_ms = h->created_ms;
	/* Its age by the wall clock now; a creation time in the future (the
	 * clock went back since) counts as just now. */
	e->created_mono_ms = clock_monotonic_ms() - (age > 0 ? age : 0);
	e->size = size;
	return e;
}

static void
spool_entry_free(struct spool_entry *e)
{
	free(e->name);
	free(e->webhook);
	free(e->alert_id);
	free(e);
}

/* Add e at its place in the order (at the end while loading). */
static size_t
spool_name_hash(const char *name)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return (size_t)(h ^ h >> 32);
}

/* Where name is in sp->names, or the empty slot it would take. */
static size_t
spool_name_slot(const struct spool *sp, const char *name)
{
	size_t mask = sp->names_cap - 1, i = spool_name_hash(name) & mask;

	while (sp->names[i] != NULL && strcmp(sp->names[i]->name, name) != 0)
		i = (i + 1) & mask;
	return i;
}

static void
spool_name_add(struct spool *sp, struct spool_entry *e)
{
	struct spool_entry **old = sp->names;
	size_t i, oldcap = sp->names_cap;

	/* At most half full. */
	if (2 * (sp->n + 1) > sp->names_cap) {
		sp->names_cap = oldcap == 0 ? 64 : oldcap * 2;
		sp->names = xcalloc(sp->names_cap, sizeof *sp->names);
		for (i = 0; i < oldcap; i++) {
			if (old[i] != NULL)
				sp->names[spool_name_slot(sp, old[i]->name)] =
				    old[i];
		}
		free(old);
	}
	sp->names[spool_name_slot(sp, e->name)] = e;
}

/*
 * Take e out of sp->names, moving back the entries after it that could not
 * take its slot, so that no lookup stops short at the hole (no tombstones).
 */
static void
spool_name_remove(struct spool *sp, const struct spool_entry *e)
{
	size_t mask = sp->names_cap - 1, i, j, home;

	i = spool_name_slot(sp, e->name);
	if (sp->names[i] != e)
		return;
	sp->names[i] = NULL;
	for (j = (i + 1) & mask; sp->names[j] != NULL; j = (j + 1) & mask) {
		home = spool_name_hash(sp->names[j]->name) & mask;
		/* Whether home lies cyclically in (i, j]: then it stays. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		sp->names[i] = sp->names[j];
		sp->names[j] = NULL;
		i = j;
	}
}

static void
spool_insert(struct spool *sp, struct spool_entry *e, int sorted)
{
	size_t lo = 0, hi = sp->n, mid;

	spool_name_add(sp, e);

	if (sp->n == sp->cap) {
		sp->cap = sp->cap == 0 ? 16 : sp->cap * 2;
		sp->entries =
		    xreallocarray(sp->entries, sp->cap, sizeof *sp->entries);
	}
	if (!sorted)
		lo = sp->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (spool_entry_cmp(sp->entries[mid], e) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(sp->entries + lo + 1, sp->entries + lo,
	    (sp->n - lo) * sizeof *sp->entries);
	sp->entries[lo] = e;
	sp->n++;
	sp->bytes += e->size;
}

/* Drop e from memory and free it; its file is already gone. */
static void
spool_forget(struct spool *sp, struct spool_entry *e)
{
	size_t lo = 0, hi = sp->n, i, mid;

	/* The entries are in order once the spool is open. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (spool_entry_cmp(sp->entries[mid], e) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	i = lo;
	if (i >= sp->n || sp->entries[i] != e) {
		for (i = 0; i < sp->n; i++) {
			if (sp->entries[i] == e)
				break;
		}
	}
	if (i == sp->n)
		fatalx("spool: entry %s is not in %s", e->name, sp->dir);
	spool_name_remove(sp, e);
	memmove(sp->entries + i, sp->entries + i + 1,
	    (sp->n - i - 1) * sizeof *sp->entries);
	sp->n--;
	sp->bytes -= e->size;
	spool_entry_free(e);
}

static struct spool_entry *
spool_find(const struct spool *sp, const char *name)
{
	if (sp->names_cap == 0)
		return NULL;
	return sp->names[spool_name_slot(sp, name)];
}

/* Parse a decimal integer filling all of s; -1 if it is not one. */
static int
spool_parse_int(const char *s, int allow_negative, int64_t *v)
{
	const char *p = s;
	char *end;
	long long ll;

	if (allow_negative && *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	ll = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = ll;
	return 0;
}

/* Copy the value of "key=value" token tok to out (size max + 1). */
static int
spool_parse_id(const char *tok, const char *key, char *out, size_t max, int hex)
{
	size_t klen = strlen(key);

	if (strncmp(tok, key, klen) != 0 || tok[klen] != '=')
		return -1;
	tok += klen + 1;
	if (!spool_valid_id(tok, max, hex))
		return -1;
	memcpy(out, tok, strlen(tok) + 1);
	return 0;
}

/*
 * Parse the header at the start of data (len bytes, at least the whole
 * first line if there is one).  -1 with *why (caller frees) saying what is
 * wrong.
 */
static int
spool_header_parse(
    const char *data, size_t len, struct spool_header *h, char **why)
{
	char line[SPOOL_HEADER_MAX + 1], *p, *tok[7];
	const char *nl;
	int64_t v;
	size_t n, i;

	if (len > SPOOL_HEADER_MAX)
		len = SPOOL_HEADER_MAX;
	if ((nl = memchr(data, '\n', len)) == NULL) {
		*why = xstrdup(len == 0 ? "empty file" : "no header line");
		return -1;
	}
	n = (size_t)(nl - data);
	if (memchr(data, '\0', n) != NULL) {
		*why = xstrdup("NUL byte in the header");
		return -1;
	}
	memcpy(line, data, n);
	line[n] = '\0';
	h->len = n + 1;

	p = line;
	for (i = 0; i < 7 && p != NULL; i++)
		tok[i] = strsep(&p, " ");
	if (i < 2 || strcmp(tok[0], SPOOL_MAGIC) != 0) {
		*why = xstrdup("not a watchlistd spool file");
		return -1;
	}
	if (strcmp(tok[1], SPOOL_VERSION) != 0) {
		if (spool_parse_int(tok[1], 0, &v) == 0)
			*why = xasprintf("unsupported version %" PRId64, v);
		else
			*why = xstrdup("bad version");
		return -1;
	}
	if (i != 6 || p != NULL) {
		*why = xstrdup("wrong number of header fields");
		return -1;
	}
	if (spool_parse_id(
	        tok[2], "webhook", h->webhook, SPOOL_WEBHOOK_MAX, 0) != 0) {
		*why = xstrdup("bad webhook id");
		return -1;
	}
	if (spool_parse_id(tok[3], "alert", h->alert_id, SPOOL_ALERT_MAX, 1) !=
	    0) {
		*why = xstrdup("bad alert id");
		return -1;
	}
	if (strncmp(tok[4], "created=", 8) != 0 ||
	    spool_parse_int(tok[4] + 8, 1, &h->created_ms) != 0) {
		*why = xstrdup("bad creation time");
		return -1;
	}
	if (strncmp(tok[5], "bytes=", 6) != 0 ||
	    spool_parse_int(tok[5] + 6, 0, &v) != 0) {
		*why = xstrdup("bad body length");
		return -1;
	}
	h->body_len = (uint64_t)v;
	return 0;
}

/* Read up to len bytes from the start of fd.  The count, or -1 with errno. */
static ssize_t
spool_read_head(int fd, char *out, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, out + got, len - got, (off_t)got);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (memchr(out + got - n, '\n', (size_t)n) != NULL)
			break;
	}
	return (ssize_t)got;
}

/*
 * Load the entry in DIR/name from its header.  0 when loaded (or gone
 * meanwhile); 1 with *why (caller frees) when the file is not a sound spool
 * file; -1 with *cause when the system failed rather than the file.
 */
static int
spool_load(struct spool *sp, const char *name, char **why, char **cause)
{
	struct spool_header h;
	struct stat st;
	char head[SPOOL_HEADER_MAX], *want, *path;
	ssize_t got;
	int fd;

	if (fstatat(sp->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		*why = xasprintf("cannot stat: %s", strerror(errno));
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = xstrdup("not a regular file");
		return 1;
	}
	fd = openat(
	    sp->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
			path = spool_path(sp, NULL, name);
			*cause = xasprintf(
			    "spool: open %s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		*why = xasprintf("cannot open: %s", strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		*why = xstrdup("not a regular file");
		return 1;
	}
	got = spool_read_head(fd, head, sizeof head);
	close(fd);
	if (got == -1) {
		*why = xasprintf("cannot read: %s", strerror(errno));
		return 1;
	}
	if (spool_header_parse(head, (size_t)got, &h, why) != 0)
		return 1;

	want = xasprintf("%s.%s%s", h.alert_id, h.webhook, SPOOL_SUFFIX);
	if (strcmp(want, name) != 0) {
		*why = xasprintf("header is for %s", want);
		free(want);
		return 1;
	}
	free(want);
	if ((uint64_t)st.st_size != h.len + h.body_len) {
		*why =
		    xasprintf("body is %" PRIu64 " bytes, header says %" PRIu64,
		        (uint64_t)st.st_size - h.len, h.body_len);
		return 1;
	}
	spool_insert(sp, spool_entry_new(name, &h, (uint64_t)st.st_size), 0);
	return 0;
}

/* The current time as RFC 3339 UTC, e.g. "2026-11-21T12:00:00Z". */
static void
spool_format_now(char out[32])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * A stem free in dead/: neither STEM.spool nor STEM.reason exists.  The
 * entry's own stem if it can, else STEM~1, STEM~2, ...: '~' is never in an
 * id, so these cannot be mistaken for another entry's names.
 */
static char *
spool_dead_stem(struct spool *sp, const char *name, char **cause)
{
	struct stat st;
	char *stem, *try, *file;
	size_t slen;
	int i, used;

	slen = strlen(name) - strlen(SPOOL_SUFFIX);
	stem = xstrndup(name, slen);
	for (i = 0; i < SPOOL_DEAD_TRIES; i++) {
		if (i == 0)
			try = xstrdup(stem);
		else
			try = xasprintf("%s~%d", stem, i);
		used = 0;
		file = xasprintf("%s%s", try, SPOOL_SUFFIX);
		if (fstatat(sp->dead_fd, file, &st, AT_SYMLINK_NOFOLLOW) == 0)
			used = 1;
		free(file);
		file = xasprintf("%s%s", try, SPOOL_REASON_SUFFIX);
		if (fstatat(sp->dead_fd, file, &st, AT_SYMLINK_NOFOLLOW) == 0)
			used = 1;
		free(file);
		if (!used) {
			free(stem);
			return try;
		}
		free(try);
	}
	*cause =
	    xasprintf("spool: no free name for %s in %s/dead", stem, sp->dir);
	free(stem);
	return NULL;
}

/*
 * Move DIR/name (which ends in .spool) to dead/ with a reason file beside
 * it; see the top of the file for the order.  The dead path goes to *dead
 * (caller frees).  Once the spool file has moved this returns 0: a failed
 * fsync after that is logged, since the worst it can do is bring the entry
 * back after a crash, to be delivered again.
 */
static int
spool_bury_file(struct spool *sp, const char *name, const char *reason,
    char **dead, char **cause)
{
	struct buf text;
	char when[32], *stem, *tmp = NULL, *rname = NULL, *dname = NULL;
	char *from = NULL, *to = NULL;
	int rc = -1;

	buf_init(&text);
	if ((stem = spool_dead_stem(sp, name, cause)) == NULL)
		goto out;
	rname = xasprintf("%s%s", stem, SPOOL_REASON_SUFFIX);
	dname = xasprintf("%s%s", stem, SPOOL_SUFFIX);

	spool_format_now(when);
	buf_printf(&text, "%s\n%s\n", reason, when);
	if (spool_write_tmp(
	        sp, rname, text.data, text.len, "", 0, &tmp, NULL, cause) != 0)
		goto out;
	if (renameat(sp->tmp_fd, tmp, sp->dead_fd, rname) == -1) {
		from = spool_path(sp, "tmp", tmp);
		to = spool_path(sp, "dead", rname);
		*cause = xasprintf(
		    "spool: rename %s to %s: %s", from, to, strerror(errno));
		unlinkat(sp->tmp_fd, tmp, 0);
		goto out;
	}
	to = xasprintf("%s/dead", sp->dir);
	if (spool_fsync_dir(sp->dead_fd, to, cause) != 0) {
		unlinkat(sp->dead_fd, rname, 0);
		goto out;
	}
	free(to);

	from = spool_path(sp, NULL, name);
	to = spool_path(sp, "dead", dname);
	if (renameat(sp->dir_fd, name, sp->dead_fd, dname) == -1) {
		*cause = xasprintf(
		    "spool: rename %s to %s: %s", from, to, strerror(errno));
		unlinkat(sp->dead_fd, rname, 0);
		goto out;
	}
	if (fsync(sp->dead_fd) == -1)
		log_warn("spool: fsync %s/dead", sp->dir);
	if (fsync(sp->dir_fd) == -1)
		log_warn("spool: fsync %s", sp->dir);
	*dead = to;
	to = NULL;
	rc = 0;

out:
	buf_release(&text);
	free(stem);
	free(tmp);
	free(rname);
	free(dname);
	free(from);
	free(to);
	return rc;
}

/*
 * mkdir -p with mode 0700.  The parent of each directory made is fsync'ed,
 * so that a new spool does not vanish in a power cut with its entries.
 */
static int
spool_mkdirs(const char *dir, char **cause)
{
	char *path, *p, *slash, c;
	const char *parent;
	int fd, rc = -1;

	path = xstrdup(dir);
	for (p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(path, 0700) == 0) {
			if ((slash = strrchr(path, '/')) == NULL)
				parent = ".";
			else if (slash == path)
				parent = "/";
			else {
				*slash = '\0';
				parent = path;
			}
			fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd == -1 || fsync(fd) == -1) {
				*cause = xasprintf("spool: fsync %s: %s",
				    parent, strerror(errno));
				if (fd != -1)
					close(fd);
				goto out;
			}
			close(fd);
			if (slash != NULL)
				*slash = '/';
		} else if (errno != EEXIST) {
			*cause = xasprintf(
			    "spool: mkdir %s: %s", path, strerror(errno));
			goto out;
		}
		if (c == '\0')
			break;
		*p = c;
	}
	rc = 0;

out:
	free(path);
	return rc;
}

/* Make (if needed) and open the subdirectory sub of DIR. */
static int
spool_open_sub(struct spool *sp, const char *sub, char **cause)
{
	char *path;
	int fd;

	if (mkdirat(sp->dir_fd, sub, 0700) == 0) {
		if (spool_fsync_dir(sp->dir_fd, sp->dir, cause) != 0)
			return -1;
	} else if (errno != EEXIST) {
		path = spool_path(sp, NULL, sub);
		*cause =
		    xasprintf("spool: mkdir %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	fd = openat(
	    sp->dir_fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		path = spool_path(sp, NULL, sub);
		*cause = xasprintf("spool: open %s: %s", path, strerror(errno));
		free(path);
	}
	return fd;
}

/* Open a directory stream on a copy of fd; path names it in messages. */
static DIR *
spool_opendir(int fd, const char *path, char **cause)
{
	DIR *d;
	int copy;

	if ((copy = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		*cause = xasprintf("spool: open %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((d = fdopendir(copy)) == NULL) {
		*cause =
		    xasprintf("spool: opendir %s: %s", path, strerror(errno));
		close(copy);
	}
	return d;
}

/*
 * Delete what a crash left in tmp/: files that were never renamed into
 * place, so no spool_put() returned 0 for them.
 */
static int
spool_clean_tmp(struct spool *sp, char **cause)
{
	struct dirent *de;
	char *path;
	DIR *d;
	size_t n = 0;

	path = xasprintf("%s/tmp", sp->dir);
	if ((d = spool_opendir(sp->tmp_fd, path, cause)) == NULL) {
		free(path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(sp->tmp_fd, de->d_name, 0) == -1)
			log_warn("spool: unlink %s/%s", path, de->d_name);
		else
			n++;
	}
	closedir(d);
	if (n > 0)
		log_info("spool: removed %zu unfinished file%s from %s", n,
		    n == 1 ? "" : "s", path);
	free(path);
	return 0;
}

/*
 * A copy of s (caller frees) fit for a log line: anyone who can write to
 * the spool can name a file, so bytes outside printable ASCII become '?'.
 */
static char *
spool_printable(const char *s)
{
	char *out, *p;

	out = xstrdup(s);
	for (p = out; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	}
	return out;
}

/* Load every NAME.spool in DIR; move the unsound ones to dead/. */
static int
spool_scan(struct spool *sp, char **cause)
{
	struct dirent *de;
	char *why, *reason, *dead, *shown, *shown_dead;
	size_t len, slen = strlen(SPOOL_SUFFIX);
	DIR *d;
	int rc = -1, r;

	if ((d = spool_opendir(sp->dir_fd, sp->dir, cause)) == NULL)
		return -1;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				*cause = xasprintf("spool: readdir %s: %s",
				    sp->dir, strerror(errno));
				goto out;
			}
			break;
		}
		len = strlen(de->d_name);
		if (len < slen ||
		    strcmp(de->d_name + len - slen, SPOOL_SUFFIX) != 0)
			continue;
		why = NULL;
		if ((r = spool_load(sp, de->d_name, &why, cause)) == -1)
			goto out;
		if (r == 0)
			continue;
		reason = xasprintf("corrupt spool file: %s", why);
		free(why);
		r = spool_bury_file(sp, de->d_name, reason, &dead, cause);
		if (r == 0) {
			shown = spool_printable(de->d_name);
			shown_dead = spool_printable(dead);
			log_warnx("spool: %s/%s: %s; moved to %s", sp->dir,
			    shown, reason, shown_dead);
			free(shown_dead);
			free(shown);
			free(dead);
		}
		free(reason);
		if (r != 0)
			goto out;
	}
	rc = 0;

out:
	closedir(d);
	return rc;
}

struct spool *
spool_open(const char *dir, uint64_t max_bytes, char **cause)
{
	struct spool *sp;

	if (*dir == '\0') {
		*cause = xstrdup("spool: empty directory name");
		return NULL;
	}
	sp = xcalloc(1, sizeof *sp);
	sp->dir = xstrdup(dir);
	sp->dir_fd = sp->tmp_fd = sp->dead_fd = -1;
	sp->max_bytes = max_bytes;

	if (spool_mkdirs(dir, cause) != 0)
		goto fail;
	sp->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dir_fd == -1) {
		*cause = xasprintf("spool: open %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (flock(sp->dir_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			*cause = xasprintf("spool: %s is in use by another "
			                   "process",
			    dir);
		else
			*cause = xasprintf(
			    "spool: lock %s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((sp->tmp_fd = spool_open_sub(sp, "tmp", cause)) == -1)
		goto fail;
	if ((sp->dead_fd = spool_open_sub(sp, "dead", cause)) == -1)
		goto fail;
	if (spool_clean_tmp(sp, cause) != 0)
		goto fail;
	if (spool_scan(sp, cause) != 0)
		goto fail;
	if (sp->n > 0)
		qsort(sp->entries, sp->n, sizeof *sp->entries,
		    spool_entry_qsort_cb);
	return sp;

fail:
	spool_close(sp);
	return NULL;
}

/* The reaper thread: unlink what spool_remove() moved to tmp/. */
static void *
spool_reaper_main(void *arg)
{
	struct spool *sp = arg;
	char **names;
	size_t i, n;

	pthread_mutex_lock(&sp->reap_lock);
	for (;;) {
		while (sp->nreap == 0 && !sp->reap_stop)
			pthread_cond_wait(&sp->reap_cond, &sp->reap_lock);
		if (sp->nreap == 0)
			break;
		names = sp->reap;
		n = sp->nreap;
		sp->reap = NULL;
		sp->nreap = sp->reap_cap = 0;
		sp->reap_busy = 1;
		pthread_mutex_unlock(&sp->reap_lock);
		for (i = 0; i < n; i++) {
			/* spool_open() empties tmp/ if this fails. */
			unlinkat(sp->tmp_fd, names[i], 0);
			free(names[i]);
		}
		free(names);
		pthread_mutex_lock(&sp->reap_lock);
		sp->reap_busy = 0;
		if (sp->nreap == 0)
			pthread_cond_broadcast(&sp->reap_idle);
	}
	pthread_mutex_unlock(&sp->reap_lock);
	return NULL;
}

/* Hand tmp/name (freed here) to the reaper, or unlink it now. */
static void
spool_reap(struct spool *sp, char *name)
{
	pthread_attr_t attr;

	if (!sp->reaping) {
		pthread_mutex_init(&sp->reap_lock, NULL);
		pthread_cond_init(&sp->reap_cond, NULL);
		pthread_cond_init(&sp->reap_idle, NULL);
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (pthread_create(&sp->reaper, &attr, spool_reaper_main, sp) ==
		    0)
			sp->reaping = 1;
		else {
			pthread_mutex_destroy(&sp->reap_lock);
			pthread_cond_destroy(&sp->reap_cond);
			pthread_cond_destroy(&sp->reap_idle);
		}
		pthread_attr_destroy(&attr);
	}
	if (!sp->reaping) {
		unlinkat(sp->tmp_fd, name, 0);
		free(name);
		return;
	}
	pthread_mutex_lock(&sp->reap_lock);
	if (sp->nreap == sp->reap_cap) {
		sp->reap_cap = sp->reap_cap == 0 ? 16 : sp->reap_cap * 2;
		sp->reap =
		    xreallocarray(sp->reap, sp->reap_cap, sizeof *sp->reap);
	}
	sp->reap[sp->nreap++] = name;
	pthread_cond_signal(&sp->reap_cond);
	pthread_mutex_unlock(&sp->reap_lock);
}

/*
 * Wait until the reaper has unlinked everything it was given: on a full
 * disk, their space may be what a new file needs.  Whether it had any.
 */
static int
spool_reaper_drain(struct spool *sp)
{
	int had;

	if (!sp->reaping)
		return 0;
	pthread_mutex_lock(&sp->reap_lock);
	had = sp->nreap > 0 || sp->reap_busy;
	while (sp->nreap > 0 || sp->reap_busy)
		pthread_cond_wait(&sp->reap_idle, &sp->reap_lock);
	pthread_mutex_unlock(&sp->reap_lock);
	return had;
}

/* Let the reaper finish what it was given, and end it. */
static void
spool_reaper_stop(struct spool *sp)
{
	if (!sp->reaping)
		return;
	pthread_mutex_lock(&sp->reap_lock);
	sp->reap_stop = 1;
	pthread_cond_signal(&sp->reap_cond);
	pthread_mutex_unlock(&sp->reap_lock);
	pthread_join(sp->reaper, NULL);
	pthread_mutex_destroy(&sp->reap_lock);
	pthread_cond_destroy(&sp->reap_cond);
	pthread_cond_destroy(&sp->reap_idle);
	free(sp->reap);
	sp->reaping = 0;
}

void
spool_close(struct spool *sp)
{
	size_t i;

	if (sp == NULL)
		return;
	spool_reaper_stop(sp);
	spool_unstage(sp, 0);
	free(sp->staged);
	if (sp->dir_fd != -1)
		spool_sync(sp);
	for (i = 0; i < sp->n; i++)
		spool_entry_free(sp->entries[i]);
	free(sp->entries);
	free(sp->names);
	if (sp->dead_fd != -1)
		close(sp->dead_fd);
	if (sp->tmp_fd != -1)
		close(sp->tmp_fd);
	if (sp->dir_fd != -1)
		close(sp->dir_fd);
	free(sp->dir);
	free(sp);
}

void
spool_set_max(struct spool *sp, uint64_t max_bytes)
{
	sp->max_bytes = max_bytes;
}

int
spool_stage(struct spool *sp, const char *webhook, const char *alert_id,
    int64_t created_ms, const char *body, size_t len, char **cause)
{
	struct spool_staged *st;
	struct buf head;
	char *name, *tmp = NULL;
	size_t i;
	int fd = -1, rc;

	if (!spool_valid_id(webhook, SPOOL_WEBHOOK_MAX, 0)) {
		*cause = xasprintf("spool: invalid webhook id \"%.*s\"",
		    SPOOL_WEBHOOK_MAX, webhook);
		return -1;
	}
	if (!spool_valid_id(alert_id, SPOOL_ALERT_MAX, 1)) {
		*cause = xasprintf("spool: invalid alert id \"%.*s\"",
		    SPOOL_ALERT_MAX, alert_id);
		return -1;
	}
	name = xasprintf("%s.%s%s", alert_id, webhook, SPOOL_SUFFIX);
	for (i = 0; i < sp->nstaged; i++) {
		if (strcmp(sp->staged[i].name, name) == 0)
			break;
	}
	if (i < sp->nstaged || spool_find(sp, name) != NULL) {
		free(name);
		return 0;
	}

	buf_init(&head);
	buf_printf(&head,
	    "%s %s webhook=%s alert=%s created=%" PRId64 " bytes=%zu\n",
	    SPOOL_MAGIC, SPOOL_VERSION, webhook, alert_id, created_ms, len);
	rc = spool_write_tmp(
	    sp, name, head.data, head.len, body, len, &tmp, &fd, cause);
	/* A full disk, perhaps of delivered files not yet unlinked. */
	if (rc != 0 && errno == ENOSPC && spool_reaper_drain(sp)) {
		free(*cause);
		*cause = NULL;
		rc = spool_write_tmp(
		    sp, name, head.data, head.len, body, len, &tmp, &fd, cause);
	}
	if (rc != 0) {
		buf_release(&head);
		free(name);
		return -1;
	}
	if (sp->nstaged == sp->staged_cap) {
		sp->staged_cap = sp->staged_cap == 0 ? 16 : sp->staged_cap * 2;
		sp->staged = xreallocarray(
		    sp->staged, sp->staged_cap, sizeof *sp->staged);
	}
	st = &sp->staged[sp->nstaged++];
	memset(st, 0, sizeof *st);
	st->name = name;
	st->tmp = tmp;
	st->fd = fd;
	memcpy(st->h.webhook, webhook, strlen(webhook) + 1);
	memcpy(st->h.alert_id, alert_id, strlen(alert_id) + 1);
	st->h.created_ms = created_ms;
	st->size = head.len + len;
	buf_release(&head);
	return 0;
}

/*
 * Forget the staged files: those renamed into place (the first moved) are
 * unlinked from DIR, the others from tmp/.
 */
static void
spool_unstage(struct spool *sp, size_t moved)
{
	struct spool_staged *st;
	size_t i;

	for (i = 0; i < sp->nstaged; i++) {
		st = &sp->staged[i];
		if (st->fd != -1)
			close(st->fd);
		if (i < moved)
			unlinkat(sp->dir_fd, st->name, 0);
		else
			unlinkat(sp->tmp_fd, st->tmp, 0);
		free(st->name);
		free(st->tmp);
	}
	sp->nstaged = 0;
}

/*
 * The files are fsync'ed together (fileio_fsync_many()), then renamed, then
 * DIR is fsync'ed once for all of them: the same steps as one spool_put()
 * each, in an order that lets the disk do them in a few flushes.
 */
int
spool_commit(struct spool *sp, char **cause)
{
	struct spool_staged *st;
	char *from, *path;
	size_t i, moved = 0;
	int *fds, saved;

	if (sp->nstaged == 0)
		return 0;
	fds = xreallocarray(NULL, sp->nstaged, sizeof *fds);
	for (i = 0; i < sp->nstaged; i++)
		fds[i] = sp->staged[i].fd;
	if (fileio_fsync_many(fds, sp->nstaged) == -1) {
		saved = errno;
		*cause = xasprintf("spool: fsync %zu new file%s in %s/tmp: %s",
		    sp->nstaged, sp->nstaged == 1 ? "" : "s", sp->dir,
		    strerror(saved));
		free(fds);
		goto fail;
	}
	free(fds);
	for (i = 0; i < sp->nstaged; i++) {
		st = &sp->staged[i];
		saved = close(st->fd);
		st->fd = -1;
		if (saved == -1) {
			path = spool_path(sp, "tmp", st->tmp);
			*cause = xasprintf(
			    "spool: close %s: %s", path, strerror(errno));
			free(path);
			goto fail;
		}
	}
	for (moved = 0; moved < sp->nstaged; moved++) {
		st = &sp->staged[moved];
		if (renameat(sp->tmp_fd, st->tmp, sp->dir_fd, st->name) == 0)
			continue;
		from = spool_path(sp, "tmp", st->tmp);
		path = spool_path(sp, NULL, st->name);
		*cause = xasprintf(
		    "spool: rename %s to %s: %s", from, path, strerror(errno));
		free(from);
		free(path);
		goto fail;
	}
	/* Not known to be durable: take them back, as promised. */
	if (spool_fsync_dir(sp->dir_fd, sp->dir, cause) != 0)
		goto fail;
	sp->unsynced = 0;

	for (i = 0; i < sp->nstaged; i++) {
		st = &sp->staged[i];
		spool_insert(
		    sp, spool_entry_new(st->name, &st->h, st->size), 1);
		free(st->name);
		free(st->tmp);
	}
	sp->nstaged = 0;
	return 0;

fail:
	spool_unstage(sp, moved);
	return -1;
}

size_t
spool_staged(const struct spool *sp)
{
	return sp->nstaged;
}

int
spool_put(struct spool *sp, const char *webhook, const char *alert_id,
    int64_t created_ms, const char *body, size_t len, char **cause)
{
	if (spool_stage(sp, webhook, alert_id, created_ms, body, len, cause) !=
	    0)
		return -1;
	return spool_commit(sp, cause);
}

int
spool_body(struct spool *sp, const struct spool_entry *e, struct buf *out,
    char **cause)
{
	static const char changed[] = "the file has changed since it was "
	                              "spooled";
	struct spool_header h;
	struct stat st;
	char *path, *why = NULL;
	ssize_t n;
	int fd, rc = -1;

	path = spool_path(sp, NULL, e->name);
	buf_reset(out);
	fd = openat(sp->dir_fd, e->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		*cause = xasprintf("spool: open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		*cause = xasprintf("spool: stat %s: %s", path, strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size != e->size) {
		*cause = xasprintf("spool: read %s: %s", path, changed);
		goto out;
	}
	buf_reserve(out, (size_t)st.st_size);
	for (;;) {
		buf_reserve(out, 4096);
		n = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			*cause = xasprintf(
			    "spool: read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	out->data[out->len] = '\0';

	if (spool_header_parse(out->data, out->len, &h, &why) != 0) {
		*cause = xasprintf("spool: read %s: %s", path, why);
		goto out;
	}
	if (strcmp(h.webhook, e->webhook) != 0 ||
	    strcmp(h.alert_id, e->alert_id) != 0 ||
	    h.created_ms != e->created_ms || out->len != e->size ||
	    out->len - h.len != h.body_len) {
		*cause = xasprintf("spool: read %s: %s", path, changed);
		goto out;
	}
	memmove(out->data, out->data + h.len, out->len - h.len);
	out->len -= h.len;
	out->data[out->len] = '\0';
	rc = 0;

out:
	if (rc != 0)
		buf_reset(out);
	if (fd != -1)
		close(fd);
	free(why);
	free(path);
	return rc;
}

int
spool_remove(struct spool *sp, struct spool_entry *e, char **cause)
{
	char *path, *gone;

	path = spool_path(sp, NULL, e->name);
	/* Out of DIR at once (the name is free for a new entry), unlinked by
	 * the reaper. */
	gone = xasprintf("%s.delivered.%" PRIu64, e->name, ++sp->counter);
	if (renameat(sp->dir_fd, e->name, sp->tmp_fd, gone) == 0) {
		spool_reap(sp, gone);
		gone = NULL;
	} else if (errno == ENOENT)
		log_warnx("spool: %s was already gone", path);
	else if (unlinkat(sp->dir_fd, e->name, 0) == -1 && errno != ENOENT) {
		*cause =
		    xasprintf("spool: unlink %s: %s", path, strerror(errno));
		free(path);
		free(gone);
		return -1;
	}
	free(gone);
	/* A removal lost in a crash only means one more delivery, so the
	 * directory is fsync'ed with the next commit or by spool_sync(), not
	 * once per delivery. */
	sp->unsynced = 1;
	free(path);
	spool_forget(sp, e);
	return 0;
}

void
spool_sync(struct spool *sp)
{
	if (!sp->unsynced)
		return;
	if (fsync(sp->dir_fd) == -1)
		log_warn("spool: fsync %s", sp->dir);
	sp->unsynced = 0;
}

int
spool_bury(
    struct spool *sp, struct spool_entry *e, const char *reason, char **cause)
{
	char *dead;

	if (spool_bury_file(sp, e->name, reason, &dead, cause) != 0)
		return -1;
	log_warnx("spool: gave up alert %s for webhook %s: %s; moved to %s",
	    e->alert_id, e->webhook, reason, dead);
	free(dead);
	spool_forget(sp, e);
	return 0;
}

size_t
spool_count(const struct spool *sp)
{
	return sp->n;
}

struct spool_entry *
spool_entry_at(const struct spool *sp, size_t i)
{
	if (i >= sp->n)
		return NULL;
	return sp->entries[i];
}

uint64_t
spool_bytes(const struct spool *sp)
{
	return sp->bytes;
}

int
spool_full(const struct spool *sp)
{
	return sp->bytes >= sp->max_bytes;
}
