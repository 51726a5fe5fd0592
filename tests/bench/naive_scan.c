/*
 * naive_scan LIST CORPUS — the yardstick issue 5 names, for tests/bench/run:
 * "a naive loop that tokenises, lower-cases and looks each word up in a
 * hash table", whose cost does not grow with the list.
 *
 * LIST has one alias per line; the single-word ones go into an
 * open-addressing table (phrases are left out: the loop cannot match them).
 * A word is a run of ASCII letters and digits and of bytes >= 0x80 (UTF-8
 * is not decoded, nothing but ASCII is folded); each is lower-cased into a
 * buffer, hashed (FNV-1a) and looked up.  Measured on this machine, it
 * calibrates the targets, which were set against the same loop elsewhere:
 * neither watchlistd nor Hyperscan is compared with it, only the machines.
 * Prints one JSON object:
 *
 *   {"count":HITS,"bytes":N,"load_s":S,"scan_s":S,"words":W}
 *
 * Exit 0, or 1 on an error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longer words are cut here; none of the lists has one. */
#define NAIVE_WORD_MAX 256

struct naive_table {
	char **words; /* NULL: empty slot */
	size_t *lens;
	size_t mask;
	size_t n;
};

static double
naive_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
naive_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static int
naive_is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80;
}

static unsigned char
naive_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Whether w (len bytes, lower-cased) is in the table. */
static int
naive_find(const struct naive_table *t, const char *w, size_t len)
{
	size_t i = naive_hash(w, len) & t->mask;

	for (; t->words[i] != NULL; i = (i + 1) & t->mask) {
		if (t->lens[i] == len && memcmp(t->words[i], w, len) == 0)
			return 1;
	}
	return 0;
}

/* Read LIST's single-word aliases, lower-cased, into t.  -1 on error. */
static int
naive_load(struct naive_table *t, const char *path)
{
	char line[4096], *w;
	size_t len, i, cap = 1024;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "naive_scan: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, fp) != NULL)
		cap += 2;
	while (cap & (cap - 1))
		cap &= cap - 1;
	cap *= 4; /* at most a quarter full */
	t->words = calloc(cap, sizeof *t->words);
	t->lens = calloc(cap, sizeof *t->lens);
	if (t->words == NULL || t->lens == NULL) {
		fclose(fp);
		return -1;
	}
	t->mask = cap - 1;
	rewind(fp);
	while (fgets(line, sizeof line, fp) != NULL) {
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (len == 0 || len > NAIVE_WORD_MAX)
			continue;
		for (i = 0; i < len && naive_is_word((unsigned char)line[i]);
		     i++)
			line[i] = (char)naive_lower((unsigned char)line[i]);
		if (i < len || naive_find(t, line, len))
			continue; /* a phrase, or punctuation; or a repeat */
		if ((w = strdup(line)) == NULL) {
			fclose(fp);
			return -1;
		}
		i = naive_hash(w, len) & t->mask;
		while (t->words[i] != NULL)
			i = (i + 1) & t->mask;
		t->words[i] = w;
		t->lens[i] = len;
		t->n++;
	}
	fclose(fp);
	return 0;
}

/* Read the whole of path; *lenp its size.  NULL on error. */
static char *
naive_read(const char *path, size_t *lenp)
{
	char *data = NULL;
	long size;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL)
		goto fail;
	if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0)
		goto fail;
	if ((data = malloc((size_t)size + 1)) == NULL ||
	    fread(data, 1, (size_t)size, fp) != (size_t)size)
		goto fail;
	fclose(fp);
	*lenp = (size_t)size;
	return data;

fail:
	fprintf(stderr, "naive_scan: %s: %s\n", path, strerror(errno));
	free(data);
	if (fp != NULL)
		fclose(fp);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct naive_table t = {0};
	char word[NAIVE_WORD_MAX], *text;
	size_t len, i, wl = 0, hits = 0;
	double t0, load_s, scan_s;
	unsigned char c;

	if (argc != 3) {
		fprintf(stderr, "usage: naive_scan LIST CORPUS\n");
		return 1;
	}
	t0 = naive_now();
	if (naive_load(&t, argv[1]) != 0)
		return 1;
	load_s = naive_now() - t0;
	if ((text = naive_read(argv[2], &len)) == NULL)
		return 1;

	t0 = naive_now();
	for (i = 0; i <= len; i++) {
		c = i < len ? (unsigned char)text[i] : ' ';
		if (naive_is_word(c)) {
			if (wl < sizeof word)
				word[wl++] = (char)naive_lower(c);
			continue;
		}
		if (wl > 0 && naive_find(&t, word, wl))
			hits++;
		wl = 0;
	}
	scan_s = naive_now() - t0;

	printf("{\"count\":%zu,\"bytes\":%zu,\"load_s\":%.6f,\"scan_s\":%.6f,"
	       "\"words\":%zu}\n",
	    hits, len, load_s, scan_s, t.n);
	for (i = 0; i <= t.mask; i++)
		free(t.words[i]);
	free(t.words);
	free(t.lens);
	free(text);
	return 0;
}
