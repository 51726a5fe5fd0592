/*
 * Durable file writes.  See fileio.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
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

/* Threads fileio_fsync_many() starts at most, besides the caller. */
#define FILEIO_SYNC_THREADS 7
#define FILEIO_SYNC_STACK   (256 * 1024)

/* What the threads of one fileio_fsync_many() share. */
struct fileio_sync {
	const int *fds;
	size_t n;
	size_t next; /* the next descriptor to take */
	int error;   /* errno of a failed fsync, or 0 */
	pthread_mutex_t lock;
};

/* Take descriptors one by one until none is left. */
static void *
fileio_sync_main(void *arg)
{
	struct fileio_sync *s = arg;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		i = s->next++;
		pthread_mutex_unlock(&s->lock);
		if (i >= s->n)
			break;
		if (fsync(s->fds[i]) == -1) {
			pthread_mutex_lock(&s->lock);
			s->error = errno;
			pthread_mutex_unlock(&s->lock);
		}
	}
	return NULL;
}

int
fileio_fsync_many(const int *fds, size_t n)
{
	pthread_t threads[FILEIO_SYNC_THREADS];
	pthread_attr_t attr;
	struct fileio_sync s;
	size_t i, started = 0;

	if (n == 1)
		return fsync(fds[0]);
	memset(&s, 0, sizeof s);
	s.fds = fds;
	s.n = n;
	pthread_mutex_init(&s.lock, NULL);
	/* They only wait in fsync(): a small stack will do. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, FILEIO_SYNC_STACK);
	/* A thread that cannot be started only makes this slower: the
	 * caller takes its share. */
	while (
	    started + 1 < n && started < FILEIO_SYNC_THREADS &&
	    pthread_create(&threads[started], &attr, fileio_sync_main, &s) == 0)
		started++;
	pthread_attr_destroy(&attr);
	fileio_sync_main(&s);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&s.lock);
	if (s.error != 0) {
		errno = s.error;
		return -1;
	}
	return 0;
}

int
fileio_replace(
    const char *path, const void *data, size_t len, mode_t mode, char **cause)
{
	char *tmp = xasprintf("%s.tmp", path), *copy = xstrdup(path);
	const char *what = "open";
	int fd, rc = -1;

	/* Only this process writes path; a leftover is a crash's. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
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
