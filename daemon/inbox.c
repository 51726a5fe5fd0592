/*
 * The inbox.  See inbox.h for the contract.
 *
 * Work arrives from three places, taken in this order by one batch
 * callback: files left claimed in .work/ (a crash), names from inotify
 * events, and the directory scan (the backlog, and rescans after an
 * overflow).  A name may come from both an event and the scan: the claim
 * (a rename) succeeds once, and the second attempt finds nothing.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "feed.h"
#include "fileio.h"
#include "inbox.h"
#include "log.h"
#include "text.h"
#include "xmalloc.h"

/* Files handled per turn of the loop. */
#define INBOX_BATCH 128
/* After a callback failure, wait this long before trying again. */
#define INBOX_RETRY_SEC 5
/* Files changed this recently are left for their close event or a rescan. */
#define INBOX_YOUNG_SEC 2

/* A queue of file names. */
struct inbox_queue {
	char **v;
	size_t head;
	size_t n;
	size_t cap;
};

struct inbox {
	struct event_base *base;
	char *dir;
	char *work;      /* dir/.work: claimed files */
	char *processed; /* state_dir/processed */
	char *failed;    /* state_dir/failed */
	inbox_doc_cb cb;
	inbox_commit_cb commit;
	void *arg;
	uint64_t max_size;
	int delete_done;

	int ifd; /* inotify */
	int wd;
	struct event *ev_inotify;
	struct event *ev_work;  /* runs a batch */
	struct event *ev_retry; /* ends an error pause, or rescans */

	struct inbox_queue claimed; /* in .work/, to process */
	struct inbox_queue events;  /* names from inotify */
	struct inbox_queue done;    /* accepted in this batch, in .work/ */
	int handed;                 /* the callback had documents since */
	int unsynced;               /* moved to processed/ since its fsync */
	DIR *scan;                  /* the backlog scan in progress */
	int rescan;                 /* scan again once this one ends */
	int young;                  /* the scan skipped young files */
	int paused;
	struct inbox_stats stats;
};

static void inbox_schedule(struct inbox *ib);

static void
inbox_queue_push(struct inbox_queue *q, const char *name)
{
	/* Reuse the consumed front rather than growing for ever. */
	if (q->head > 0 && q->n == q->cap) {
		memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof *q->v);
		q->n -= q->head;
		q->head = 0;
	}
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 64;
		q->v = xreallocarray(q->v, q->cap, sizeof *q->v);
	}
	q->v[q->n++] = xstrdup(name);
}

/* The next name (the caller frees it), or NULL. */
static char *
inbox_queue_pop(struct inbox_queue *q)
{
	char *s;

	if (q->head == q->n)
		return NULL;
	s = q->v[q->head++];
	if (q->head == q->n)
		q->head = q->n = 0;
	return s;
}

static void
inbox_queue_release(struct inbox_queue *q)
{
	char *s;

	while ((s = inbox_queue_pop(q)) != NULL)
		free(s);
	free(q->v);
	memset(q, 0, sizeof *q);
}

/* Names a producer is still writing, or that are not documents. */
static int
inbox_ignored(const char *name)
{
	static const char *const suffixes[] = {
	    ".tmp", ".part", ".partial", ".crdownload", ".swp", "~", NULL};
	size_t len = strlen(name), n;
	int i;

	if (name[0] == '.' || name[0] == '#' || len == 0)
		return 1;
	for (i = 0; suffixes[i] != NULL; i++) {
		n = strlen(suffixes[i]);
		if (len >= n && strcmp(name + len - n, suffixes[i]) == 0)
			return 1;
	}
	return 0;
}

static int
inbox_mkdir(const char *path, mode_t mode, char **cause)
{
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	*cause = xasprintf("mkdir %s: %s", path, strerror(errno));
	return -1;
}

/* fsync a directory so that a rename in it survives a crash. */
static void
inbox_sync_dir(const char *dir)
{
	if (fileio_sync_dir(dir) == -1)
		log_warn("fsync %s", dir);
}

/*
 * Copy from to to (for a move across file systems), durably, then unlink
 * from.  to must not exist.
 */
static int
inbox_copy(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n, w, off;
	int in, out, rc = -1;

	if ((in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (out == -1)
		goto out;
	while ((n = read(in, buf, sizeof buf)) > 0) {
		for (off = 0; off < n; off += w) {
			if ((w = write(out, buf + off, (size_t)(n - off))) < 0)
				goto out;
		}
	}
	if (n == 0 && fsync(out) == 0)
		rc = 0;
out:
	if (out != -1 && close(out) == -1)
		rc = -1;
	if (rc == -1 && out != -1)
		unlink(to);
	close(in);
	if (rc == 0 && unlink(from) == -1)
		log_warn("unlink %s", from);
	return rc;
}

/*
 * Move from into dir, keeping its name if free, else NAME.1, NAME.2, ...
 * The name used goes to out (PATH_MAX).  Falls back to copying across file
 * systems.  The caller fsyncs dir, once for a batch of moves.
 */
static int
inbox_move(const char *from, const char *dir, const char *name, char *out)
{
	int i, r;

	for (i = 0; i < 10000; i++) {
		if (i == 0)
			snprintf(out, PATH_MAX, "%s/%s", dir, name);
		else
			snprintf(out, PATH_MAX, "%s/%s.%d", dir, name, i);
		r = renameat2(AT_FDCWD, from, AT_FDCWD, out, RENAME_NOREPLACE);
		if (r == 0 || (r == -1 && errno == EEXIST))
			;
		else if (errno == EXDEV)
			r = inbox_copy(from, out);
		else if (errno == EINVAL) {
			/* No RENAME_NOREPLACE on this file system. */
			if (access(out, F_OK) == 0)
				continue;
			r = rename(from, out);
		}
		if (r == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/*
 * Give up on a claimed file: failed/NAME and failed/NAME.reason.  -1 if it
 * could not be moved (a full disk): it stays claimed, to be tried again.
 */
static int
inbox_fail(
    struct inbox *ib, const char *claimed, const char *name, const char *reason)
{
	char to[PATH_MAX], why[PATH_MAX + 8], when[32], *text, *cause = NULL;
	struct buf b;
	time_t now = time(NULL);
	struct tm tm;

	buf_init(&b);
	text_escape(&b, name, strlen(name), 0);
	if (inbox_move(claimed, ib->failed, name, to) != 0) {
		log_warn("inbox: %s: %s; moving it to %s failed, kept in %s "
		         "for another try",
		    b.data, reason, ib->failed, ib->work);
		buf_release(&b);
		return -1;
	}
	inbox_sync_dir(ib->failed);
	ib->stats.failed++;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(why, sizeof why, "%s.reason", to);
	/* Whole or not at all, for whoever reads failed/ meanwhile; as
	 * readable as the files the umask lets the daemon make. */
	text = xasprintf("%s\n%s\n", reason, when);
	if (fileio_replace(why, text, strlen(text), 0666, &cause) != 0) {
		log_warnx("inbox: %s", cause);
		free(cause);
	}
	free(text);
	log_warnx("inbox: %s: %s: moved to %s", b.data, reason, to);
	buf_release(&b);
	return 0;
}

/*
 * The document is done: processed/NAME (the caller fsyncs processed/), or
 * gone.  -1 if it could not be moved (a full disk): it stays claimed, and
 * is read again at the next try as after a crash (its alerts are spooled
 * already, so at worst a receiver sees one twice).
 */
static int
inbox_done(struct inbox *ib, const char *claimed, const char *name)
{
	char to[PATH_MAX];

	if (ib->delete_done) {
		if (unlink(claimed) == -1) {
			log_warn(
			    "inbox: unlink %s; kept for another try", claimed);
			return -1;
		}
	} else if (inbox_move(claimed, ib->processed, name, to) != 0) {
		log_warn("inbox: move %s to %s; kept for another try", claimed,
		    ib->processed);
		return -1;
	}
	ib->stats.processed++;
	return 0;
}

/*
 * A feed file dropped into the inbox: each entry is a document.  If the
 * callback fails on one, the whole file is tried again later; the entries
 * already handled give the same alert ids then, which the spool keeps once.
 */
static int
inbox_process_feed(struct inbox *ib, const char *claimed, const char *path,
    const char *name, const char *raw, size_t len)
{
	struct feed feed;
	struct doc *d;
	char *cause = NULL, *reason;
	size_t i;
	int rc = 0;

	if (feed_parse(raw, len, &feed, &cause) != 0) {
		reason = xasprintf("%s (a feed, by its name)", cause);
		rc = inbox_fail(ib, claimed, name, reason);
		free(reason);
		free(cause);
		feed_release(&feed);
		return rc;
	}
	for (i = 0; i < feed.nentries && rc == 0; i++) {
		d = doc_from_feed_entry(name, &feed.entries[i]);
		ib->handed = 1;
		if (ib->cb(d, path, name, ib->arg, &cause) != 0) {
			log_warnx("inbox: %s: entry %zu kept for another try: "
			          "%s",
			    name, i, cause);
			free(cause);
			cause = NULL;
			rc = -1;
		}
		doc_free(d);
	}
	feed_release(&feed);
	if (rc == 0)
		inbox_queue_push(&ib->done, name);
	return rc;
}

/* What a file that is not a regular one is, for a reason file. */
static const char *
inbox_kind(mode_t mode)
{
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISDIR(mode))
		return "a directory";
	return "something else";
}

/*
 * Read the claimed file name in .work/ and hand it to the callback.
 * Returns -1 when it is to be tried again later (the callback asked to, or
 * the file could not be moved out of .work/).
 */
static int
inbox_process(struct inbox *ib, const char *name)
{
	char claimed[PATH_MAX], path[PATH_MAX], *raw = NULL, *cause = NULL;
	char *reason = NULL;
	enum doc_format fmt;
	struct stat st;
	struct doc *d;
	ssize_t n;
	size_t len = 0, cap;
	int fd = -1, rc = 0;

	snprintf(claimed, sizeof claimed, "%s/%s", ib->work, name);
	snprintf(path, sizeof path, "%s/%s", ib->dir, name);
	/* Opening a device can have effects of its own (a tape rewinds, a
	 * watchdog starts): look first.  Nobody else can swap the file in
	 * .work/ (mode 0700) between this and the open. */
	if (lstat(claimed, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		reason = xasprintf("cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		reason =
		    xasprintf("%s, not a regular file", inbox_kind(st.st_mode));
		goto fail;
	}
	fd = open(
	    claimed, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		reason = xasprintf(errno == ELOOP
		                       ? "a symbolic link, not a regular file"
		                       : "cannot open: %s",
		    strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		reason = xasprintf("cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		reason = xstrdup("not a regular file");
		goto fail;
	}
	if ((uint64_t)st.st_size > ib->max_size) {
		reason = xasprintf("%lld bytes, larger than max_document_size "
		                   "(%llu bytes)",
		    (long long)st.st_size, (unsigned long long)ib->max_size);
		goto fail;
	}
	/* Room for what it holds and a byte more, to notice a file that grew;
	 * grown up to one byte more than allowed.  Not max_document_size for
	 * every file: most are small. */
	cap = (size_t)st.st_size + 1;
	raw = xmalloc(cap);
	while (len <= ib->max_size) {
		if (len == cap) {
			cap = cap > ib->max_size / 2 ? (size_t)ib->max_size + 1
			                             : cap * 2;
			raw = xrealloc(raw, cap);
		}
		n = read(fd, raw + len, cap - len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			reason = xasprintf("read: %s", strerror(errno));
			goto fail;
		}
		len += (size_t)n;
	}
	if (len > ib->max_size) {
		reason = xasprintf("larger than max_document_size (%llu bytes)",
		    (unsigned long long)ib->max_size);
		goto fail;
	}
	close(fd);
	fd = -1;

	if (feed_name_is_feed(name)) {
		rc = inbox_process_feed(ib, claimed, path, name, raw, len);
		free(raw);
		return rc;
	}
	fmt = doc_format_from_name(name);
	if (!doc_format_known(name) && !text_utf8_valid(raw, len)) {
		reason = xstrdup("not a known document type (.txt .text .html "
		                 ".htm .eml) and not UTF-8 text");
		goto fail;
	}
	d = doc_from_bytes(name, raw, len, fmt);
	raw = NULL;
	ib->handed = 1;
	if (ib->cb(d, path, name, ib->arg, &cause) != 0) {
		struct buf b;

		buf_init(&b);
		text_escape(&b, name, strlen(name), 0);
		log_warnx("inbox: %s: kept for another try: %s", b.data, cause);
		buf_release(&b);
		free(cause);
		rc = -1;
	} else
		inbox_queue_push(&ib->done, name);
	doc_free(d);
	return rc;

fail:
	if (fd != -1)
		close(fd);
	free(raw);
	rc = inbox_fail(ib, claimed, name, reason);
	free(reason);
	return rc;
}

/*
 * Claim name from the inbox by renaming it into .work/.  Returns 1 when
 * claimed (the claimed name in out), 0 when there is nothing to claim.
 */
static int
inbox_claim(struct inbox *ib, const char *name, char *out, size_t outlen)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct stat st;
	int i;

	snprintf(from, sizeof from, "%s/%s", ib->dir, name);
	for (i = 0; i < 1000; i++) {
		if (i == 0)
			snprintf(out, outlen, "%s", name);
		else
			snprintf(out, outlen, "%s.%d", name, i);
		snprintf(to, sizeof to, "%s/%s", ib->work, out);
		if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) ==
		    0)
			return 1;
		if (errno == EINVAL && lstat(to, &st) == -1 &&
		    rename(from, to) == 0)
			return 1;
		if (errno == ENOENT)
			return 0; /* taken already */
		if (errno != EEXIST && errno != EINVAL) {
			log_warn("inbox: claim %s", from);
			return 0;
		}
	}
	return 0;
}

/* The next name of the directory scan, or NULL when it is done. */
static char *
inbox_scan_next(struct inbox *ib)
{
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);

	while (ib->scan != NULL) {
		errno = 0;
		if ((de = readdir(ib->scan)) == NULL) {
			if (errno != 0)
				log_warn("inbox: readdir %s", ib->dir);
			closedir(ib->scan);
			ib->scan = NULL;
			if (ib->rescan) {
				ib->rescan = 0;
				ib->scan = opendir(ib->dir);
			}
			break;
		}
		if (inbox_ignored(de->d_name))
			continue;
		/* A file changed in the future was not written just now:
		 * the clock went back (or the mtime was set on purpose). */
		if (fstatat(dirfd(ib->scan), de->d_name, &st,
		        AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) &&
		    now - st.st_mtime < INBOX_YOUNG_SEC &&
		    st.st_mtime - now < INBOX_YOUNG_SEC) {
			/* Perhaps still being written: its close event or
			 * the rescan below will bring it. */
			ib->young = 1;
			continue;
		}
		return xstrdup(de->d_name);
	}
	return NULL;
}

/*
 * The end of a batch: once the commit callback has made durable what the
 * documents accepted in it produced, let their files go (inbox_sync()
 * fsyncs processed/).  If the commit fails they stay claimed, to be read
 * again after a pause.
 */
static void
inbox_finish(struct inbox *ib)
{
	char claimed[PATH_MAX], *name, *cause = NULL;
	size_t n = ib->done.n - ib->done.head, moved = 0;

	/* A document the callback refused may have staged some alerts: they
	 * are committed too. */
	if (!ib->handed)
		return;
	ib->handed = 0;
	if (ib->commit(ib->arg, &cause) != 0) {
		log_warnx("inbox: %zu file%s kept for another try: %s", n,
		    n == 1 ? "" : "s", cause);
		free(cause);
		while ((name = inbox_queue_pop(&ib->done)) != NULL) {
			inbox_queue_push(&ib->claimed, name);
			free(name);
		}
		inbox_pause(ib, INBOX_PAUSE_ERROR);
		return;
	}
	while ((name = inbox_queue_pop(&ib->done)) != NULL) {
		snprintf(claimed, sizeof claimed, "%s/%s", ib->work, name);
		if (inbox_done(ib, claimed, name) == 0)
			moved++;
		else {
			inbox_queue_push(&ib->claimed, name);
			inbox_pause(ib, INBOX_PAUSE_ERROR);
		}
		free(name);
	}
	if (moved > 0 && !ib->delete_done)
		ib->unsynced = 1;
}

/*
 * processed/ is fsync'ed here, later and once for many files: a move lost
 * in a crash only brings the file back into .work/, to be read again (its
 * alerts, durable already, keep their ids: at worst a receiver sees one
 * twice).
 */
void
inbox_sync(struct inbox *ib)
{
	if (!ib->unsynced)
		return;
	inbox_sync_dir(ib->processed);
	ib->unsynced = 0;
}

/* One batch: claimed leftovers first, then events, then the scan. */
static void
inbox_work_cb(evutil_socket_t fd, short what, void *arg)
{
	struct inbox *ib = arg;
	char claimed[NAME_MAX + 16], *name;
	int i, from_claimed;

	for (i = 0; i < INBOX_BATCH && !ib->paused; i++) {
		from_claimed = 1;
		if ((name = inbox_queue_pop(&ib->claimed)) == NULL) {
			from_claimed = 0;
			if ((name = inbox_queue_pop(&ib->events)) == NULL &&
			    (name = inbox_scan_next(ib)) == NULL)
				break;
		}
		if (!from_claimed) {
			if (!inbox_claim(ib, name, claimed, sizeof claimed)) {
				free(name);
				continue;
			}
		} else
			snprintf(claimed, sizeof claimed, "%s", name);
		free(name);
		if (inbox_process(ib, claimed) != 0) {
			/* Keep it first in line and wait a little. */
			inbox_queue_push(&ib->claimed, claimed);
			inbox_pause(ib, INBOX_PAUSE_ERROR);
			break;
		}
	}
	inbox_finish(ib);
	if (ib->scan == NULL && ib->young && !ib->paused) {
		struct timeval tv = {INBOX_YOUNG_SEC, 0};

		ib->young = 0;
		ib->rescan = 0;
		evtimer_add(ib->ev_retry, &tv);
	}
	inbox_schedule(ib);
}

/*
 * Run another batch soon if there is work and the inbox is not paused.  A
 * zero timeout, not event_active(): libevent runs events activated during
 * its pass over active events in that same pass, so re-activating from the
 * batch itself would never let the loop poll, and signals would wait for the
 * whole backlog.
 */
static void
inbox_schedule(struct inbox *ib)
{
	struct timeval now = {0, 0};

	if (ib->paused)
		return;
	if (ib->claimed.head != ib->claimed.n ||
	    ib->events.head != ib->events.n || ib->scan != NULL)
		evtimer_add(ib->ev_work, &now);
}

static void
inbox_start_scan(struct inbox *ib)
{
	ib->stats.rescans++;
	if (ib->scan != NULL) {
		ib->rescan = 1;
		return;
	}
	if ((ib->scan = opendir(ib->dir)) == NULL)
		log_warn("inbox: opendir %s", ib->dir);
	inbox_schedule(ib);
}

/* The retry timer: end an error pause, or rescan for young files. */
static void
inbox_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct inbox *ib = arg;

	if (ib->paused & INBOX_PAUSE_ERROR) {
		inbox_resume(ib, INBOX_PAUSE_ERROR);
		return;
	}
	inbox_start_scan(ib);
}

/* Whether INBOX/name exists and is something other than a regular file. */
static int
inbox_not_regular(const struct inbox *ib, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", ib->dir, name);
	return lstat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

static void
inbox_inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct inbox *ib = arg;
	char buf[64 * 1024]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	for (;;) {
		n = read(ib->ifd, buf, sizeof buf);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				log_warn("inbox: read inotify");
			break;
		}
		for (p = buf; p < buf + n;
		     p += sizeof(struct inotify_event) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				log_warnx("inbox: inotify queue overflowed: "
				          "rescanning %s",
				    ib->dir);
				inbox_start_scan(ib);
				continue;
			}
			if (ev->mask &
			    (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
				log_errorx("inbox: %s was removed or moved: no "
				           "new files will be seen until it is "
				           "back and watchlistd is restarted",
				    ib->dir);
				continue;
			}
			if (ev->len == 0 || inbox_ignored(ev->name))
				continue;
			/* A created regular file is being written: its close
			 * event will come.  A symlink, FIFO, device or
			 * directory made in place never closes for writing:
			 * fail it now, as the scan at start-up would. */
			if ((ev->mask & IN_CREATE) &&
			    !inbox_not_regular(ib, ev->name))
				continue;
			inbox_queue_push(&ib->events, ev->name);
		}
	}
	inbox_schedule(ib);
}

struct inbox *
inbox_new(struct event_base *base, const char *dir, const char *state_dir,
    inbox_doc_cb cb, inbox_commit_cb commit, void *arg, char **cause)
{
	struct inbox *ib;

	ib = xcalloc(1, sizeof *ib);
	ib->base = base;
	ib->dir = xstrdup(dir);
	ib->work = xasprintf("%s/.work", dir);
	ib->processed = xasprintf("%s/processed", state_dir);
	ib->failed = xasprintf("%s/failed", state_dir);
	ib->cb = cb;
	ib->commit = commit;
	ib->arg = arg;
	ib->ifd = -1;
	ib->wd = -1;
	ib->max_size = 8 * 1024 * 1024;
	/* The inbox is group-writable so that producers can drop files. */
	if (inbox_mkdir(state_dir, 0750, cause) != 0 ||
	    inbox_mkdir(dir, 02770, cause) != 0 ||
	    inbox_mkdir(ib->work, 0700, cause) != 0 ||
	    inbox_mkdir(ib->processed, 0750, cause) != 0 ||
	    inbox_mkdir(ib->failed, 0750, cause) != 0) {
		inbox_free(ib);
		return NULL;
	}
	ib->ev_work = evtimer_new(base, inbox_work_cb, ib);
	/*
	 * A batch runs only in a turn of the loop with nothing more urgent to
	 * do: during a backlog, deliveries and feed polls (whose every step is
	 * a turn of the loop) keep their pace instead of one step per batch,
	 * and the alerts of the backlog leave while it is worked through.
	 */
	event_priority_set(ib->ev_work, event_base_get_npriorities(base) - 1);
	ib->ev_retry = evtimer_new(base, inbox_retry_cb, ib);
	return ib;
}

void
inbox_free(struct inbox *ib)
{
	if (ib == NULL)
		return;
	inbox_sync(ib);
	if (ib->ev_inotify != NULL)
		event_free(ib->ev_inotify);
	if (ib->ev_work != NULL)
		event_free(ib->ev_work);
	if (ib->ev_retry != NULL)
		event_free(ib->ev_retry);
	if (ib->ifd != -1)
		close(ib->ifd);
	if (ib->scan != NULL)
		closedir(ib->scan);
	inbox_queue_release(&ib->claimed);
	inbox_queue_release(&ib->events);
	inbox_queue_release(&ib->done);
	free(ib->dir);
	free(ib->work);
	free(ib->processed);
	free(ib->failed);
	free(ib);
}

void
inbox_configure(struct inbox *ib, uint64_t max_size, int delete_done)
{
	ib->max_size = max_size;
	ib->delete_done = delete_done;
}

int
inbox_start(struct inbox *ib, char **cause)
{
	struct dirent *de;
	DIR *d;

	ib->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ib->ifd == -1) {
		*cause = xasprintf("inotify_init1: %s", strerror(errno));
		return -1;
	}
	/* The watch comes first, so that no file slips between the scan
	 * and the watch. */
	ib->wd = inotify_add_watch(ib->ifd, ib->dir,
	    IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE_SELF |
	        IN_MOVE_SELF | IN_ONLYDIR);
	if (ib->wd == -1) {
		*cause = xasprintf(
		    "inotify_add_watch %s: %s", ib->dir, strerror(errno));
		return -1;
	}
	ib->ev_inotify = event_new(
	    ib->base, ib->ifd, EV_READ | EV_PERSIST, inbox_inotify_cb, ib);
	event_add(ib->ev_inotify, NULL);

	/* Files a crash left claimed go first. */
	if ((d = opendir(ib->work)) == NULL) {
		*cause = xasprintf("opendir %s: %s", ib->work, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			inbox_queue_push(&ib->claimed, de->d_name);
	}
	closedir(d);
	if (ib->claimed.n > 0)
		log_notice("inbox: %zu files were claimed but not finished "
		           "before the last stop: processing them first",
		    ib->claimed.n);
	inbox_start_scan(ib);
	return 0;
}

void
inbox_pause(struct inbox *ib, int why)
{
	struct timeval tv = {INBOX_RETRY_SEC, 0};

	if ((ib->paused & why) == why)
		return;
	ib->paused |= why;
	if (why & INBOX_PAUSE_ERROR)
		evtimer_add(ib->ev_retry, &tv);
}

void
inbox_resume(struct inbox *ib, int why)
{
	ib->paused &= ~why;
	inbox_schedule(ib);
}

int
inbox_paused(const struct inbox *ib)
{
	return ib->paused;
}

const char *
inbox_dir(const struct inbox *ib)
{
	return ib->dir;
}

const struct inbox_stats *
inbox_stats(const struct inbox *ib)
{
	return &ib->stats;
}
