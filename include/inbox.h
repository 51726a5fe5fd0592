/*
 * The inbox: a directory other programs drop documents into.
 *
 * Producers write elsewhere (or under a dot-name) and rename into the inbox,
 * or copy with cp (the file is taken once closed).  The inbox watches with
 * inotify (IN_MOVED_TO, IN_CLOSE_WRITE; IN_Q_OVERFLOW rescans), adding the
 * watch before it scans what is there already.  A file is claimed by rename
 * into INBOX/.work/ before it is read; only regular files are read (lstat
 * before open, O_NOFOLLOW): a link, FIFO, socket, device or directory goes
 * to failed/ unopened.  Dot-files and in-progress names (*.tmp, *.part,
 * *.partial, *.crdownload, *.swp, *~, #*#) are left alone.  After the
 * document callback accepts a file, and the commit callback has made the
 * batch it came in durable, it moves to STATE/processed/ (or is deleted); a
 * file that cannot be a document moves to STATE/failed/ with NAME.reason
 * beside it.  Files left in .work/ by a crash are processed first at
 * start-up.  Work is done in bounded batches so that the loop keeps
 * answering signals and timers during a large backlog.
 */
#ifndef WATCHLISTD_INBOX_H
#define WATCHLISTD_INBOX_H

#include <stddef.h>
#include <stdint.h>

#include "doc.h"

struct event_base;
struct inbox;

/*
 * A document was read from a claimed file.  path is where it arrived
 * (INBOX/NAME), name its file name.  Return 0 when it is done, or -1 with
 * *cause (callee-allocated) to keep it claimed and try again later (the
 * inbox pauses for a few seconds).
 */
typedef int (*inbox_doc_cb)(const struct doc *d, const char *path,
    const char *name, void *arg, char **cause);

/*
 * The end of a batch of documents the callback accepted: make durable what
 * they produced.  Return 0 to let their files go, or -1 with *cause
 * (callee-allocated) to keep every one of them claimed and try them again
 * later (the inbox pauses for a few seconds).
 */
typedef int (*inbox_commit_cb)(void *arg, char **cause);

/* Why the inbox takes no files; a bit set. */
#define INBOX_PAUSE_SPOOL 0x1 /* the spool is full: back-pressure */
#define INBOX_PAUSE_ERROR 0x2 /* the callback failed: retry soon */
#define INBOX_PAUSE_STOP  0x4 /* shutting down */

struct inbox_stats {
	uint64_t processed;
	uint64_t failed;
	uint64_t rescans;
};

/* Create the directories as needed.  NULL with *cause (caller frees). */
struct inbox *inbox_new(struct event_base *base, const char *dir,
    const char *state_dir, inbox_doc_cb cb, inbox_commit_cb commit, void *arg,
    char **cause);
void inbox_free(struct inbox *ib);

/* Settings that may change on reload. */
void inbox_configure(struct inbox *ib, uint64_t max_size, int delete_done);

/* Add the watch, then queue .work/ leftovers and the backlog. */
int inbox_start(struct inbox *ib, char **cause);

/*
 * fsync processed/ if files moved there since the last time.  Moving them
 * does not wait for it: see inbox.c.
 */
void inbox_sync(struct inbox *ib);

void inbox_pause(struct inbox *ib, int why);
void inbox_resume(struct inbox *ib, int why);
int inbox_paused(const struct inbox *ib);

const char *inbox_dir(const struct inbox *ib);
const struct inbox_stats *inbox_stats(const struct inbox *ib);

#endif
