/*
 * Durable file writes, shared by the spool, the feeds' seen state, the dedup
 * record and the inbox: the same few steps every crash-safe write needs.
 */
#ifndef WATCHLISTD_FILEIO_H
#define WATCHLISTD_FILEIO_H

#include <sys/types.h>

#include <stddef.h>

/* Write all of p to fd, through EINTR and short writes.  -1 with errno. */
int fileio_write_all(int fd, const void *p, size_t len);

/* fsync the directory dir, so that a rename or unlink in it survives a
 * crash.  -1 with errno. */
int fileio_sync_dir(const char *dir);

/*
 * fsync every descriptor of fds[0..n), several at once: the disk then
 * completes them in one go (a group commit) instead of one flush after
 * another, which is most of what a batch of spool files costs.  0 when
 * every fsync succeeded; -1 with errno (of one that failed) otherwise, every
 * one attempted all the same.
 */
int fileio_fsync_many(const int *fds, size_t n);

/*
 * Replace path with data: write path.tmp (O_EXCL after removing a stale
 * one, created with mode, less the umask), fsync it, rename it over path,
 * fsync the directory.  A crash leaves the old file or the new one, never a
 * mix.  -1 with *cause (caller frees).
 */
int fileio_replace(
    const char *path, const void *data, size_t len, mode_t mode, char **cause);

#endif
