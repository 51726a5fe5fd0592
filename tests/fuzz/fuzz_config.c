/*
 * fuzz_config: the input is a main configuration file, loaded through the
 * real loader (inih reader, key table, rules, watchlist compile).  It is
 * written to a private file in a directory made once, so that relative
 * watchlist globs find nothing but the file itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];

static void
cleanup(void)
{
	char dir[4096];

	if (path[0] == '\0')
		return;
	unlink(path);
	snprintf(dir, sizeof dir, "%s", path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
}

static int
setup(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char dir[4000];

	snprintf(dir, sizeof dir, "%s/fuzz_config.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	snprintf(path, sizeof path, "%s/watchlistd.ini", dir);
	atexit(cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cf;
	FILE *fp;

	if (path[0] == '\0')
		setup();
	if ((fp = fopen(path, "wb")) == NULL) {
		perror(path);
		abort();
	}
	if (size > 0 && fwrite(data, 1, size, fp) != size) {
		perror(path);
		abort();
	}
	if (fclose(fp) != 0) {
		perror(path);
		abort();
	}
	cf = config_load(path);
	config_free(cf);
	return 0;
}
