/*
 * Durable file writes.  See fileio.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "xmalloc.h"

int
fileio_write_all(int fd, const void *p, size_t len)
{
	const char *s = p;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, s, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fileio_sync_dir(const char *dir)
{
	int fd, rc, saved;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int
fileio_replace(const char *path, const void *data, size_t len, char **cause)
{
	char *tmp = xasprintf("%s.tmp", path), *copy = xstrdup(path);
	const char *what = "open";
	int fd, rc = -1;

	/* Only this process writes path; a leftover is a crash's. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		goto out;
	what = "write";
	if (fileio_write_all(fd, data, len) == -1)
		goto out;
	what = "fsync";
	if (fsync(fd) == -1)
		goto out;
	what = "close";
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	what = "rename";
	if (rename(tmp, path) == -1)
		goto out;
	what = "fsync the directory of";
	if (fileio_sync_dir(dirname(copy)) == -1)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		*cause = xasprintf("%s %s: %s", what, tmp, strerror(errno));
		if (fd != -1)
			close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(copy);
	return rc;
}
