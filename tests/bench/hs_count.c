/*
 * hs_count PATTERNS CORPUS — the Hyperscan peer of tests/bench/run.
 *
 * Each line of PATTERNS is a literal.  They are compiled together with
 * hs_compile_lit_multi(), caseless (HS_FLAG_CASELESS: ASCII letters only),
 * for block mode; CORPUS is read into memory and scanned in one block.
 * Hyperscan has no word-boundary mode for literals, so the match callback
 * checks it: a match counts only when the character before it and the one
 * after it are not word characters.  Every match of every pattern counts,
 * overlapping ones included, as watchlistd reports every hit of every
 * alias.  Prints one JSON object:
 *
 *   {"count":N,"bytes":N,"patterns":N,"compile_s":S,"scan_s":S}
 *
 * compile_s covers compiling and allocating scratch space; scan_s the scan
 * alone.  Exit 0, or 1 on an error.
 */
#include <hs.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hs_count {
	const unsigned char *text;
	size_t len;
	const size_t *lens; /* each pattern's length, by id */
	unsigned long long count;
};

static double
hs_count_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
hs_count_xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL) {
		fprintf(stderr, "hs_count: out of memory\n");
		exit(1);
	}
	return p;
}

/* Read a whole file; NULL with errno set on failure. */
static unsigned char *
hs_count_read(const char *path, size_t *lenp)
{
	unsigned char *data = NULL;
	size_t len = 0, cap = 0, n;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			data = hs_count_xrealloc(data, cap);
		}
		n = fread(data + len, 1, cap - len - 1, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		fclose(fp);
		free(data);
		errno = EIO;
		return NULL;
	}
	fclose(fp);
	data[len] = '\0';
	*lenp = len;
	return data;
}

/*
 * Whether a code point is a word character, close to watchlistd's letters
 * and digits (Unicode L* and N*): ASCII letters and digits; outside ASCII,
 * everything but the common spaces and punctuation (Latin-1 punctuation,
 * General Punctuation, CJK punctuation, Arabic punctuation).  -1 (an
 * invalid byte) is a separator, as in watchlistd.
 */
static int
hs_count_word_cp(int32_t cp)
{
	if (cp < 0)
		return 0;
	if (cp < 0x80)
		return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
		       (cp >= 'A' && cp <= 'Z');
	if (cp < 0xc0)
		return cp == 0xaa || cp == 0xb2 || cp == 0xb3 || cp == 0xb5 ||
		       cp == 0xb9 || cp == 0xba || cp == 0xbc || cp == 0xbd ||
		       cp == 0xbe;
	if (cp == 0xd7 || cp == 0xf7)
		return 0;
	if ((cp >= 0x2000 && cp <= 0x206f) || (cp >= 0x3000 && cp <= 0x303f))
		return 0;
	if (cp == 0x060c || cp == 0x061b || cp == 0x061f ||
	    (cp >= 0x066a && cp <= 0x066d) || cp == 0x06d4)
		return 0;
	return 1;
}

/* Decode the UTF-8 sequence at p (n bytes available); -1 if invalid. */
static int32_t
hs_count_decode(const unsigned char *p, size_t n)
{
	int32_t cp;
	size_t i, k;

	if (p[0] < 0x80)
		return p[0];
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		k = 1;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		k = 2;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		k = 3;
		cp = p[0] & 0x07;
	} else
		return -1;
	if (k >= n)
		return -1;
	for (i = 1; i <= k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	return cp;
}

/* Whether the character that ends just before text[pos] is a word one. */
static int
hs_count_word_before(const unsigned char *text, size_t pos)
{
	size_t i = pos;

	if (pos == 0)
		return 0;
	/* Step back over up to three continuation bytes to the lead byte. */
	i--;
	while (i > 0 && pos - i < 4 && (text[i] & 0xc0) == 0x80)
		i--;
	return hs_count_word_cp(hs_count_decode(text + i, pos - i));
}

static int
hs_count_match_cb(unsigned int id, unsigned long long from,
    unsigned long long to, unsigned int flags, void *arg)
{
	struct hs_count *hc = arg;
	size_t start = (size_t)to - hc->lens[id];

	(void)from; /* 0: start of match is not asked for, it is to - len */
	(void)flags;
	if (hs_count_word_before(hc->text, start))
		return 0;
	if (to < hc->len &&
	    hs_count_word_cp(hs_count_decode(hc->text + to, hc->len - to)))
		return 0;
	hc->count++;
	return 0;
}

int
main(int argc, char **argv)
{
	hs_database_t *db = NULL;
	hs_scratch_t *scratch = NULL;
	hs_compile_error_t *err = NULL;
	struct hs_count hc;
	unsigned char *pats, *text;
	const char **exprs = NULL;
	unsigned int *flags = NULL, *ids = NULL;
	size_t *lens = NULL, plen, tlen, n = 0, cap = 0;
	double t0, compile_s, scan_s;
	char *line, *next;

	if (argc != 3) {
		fprintf(stderr, "usage: hs_count PATTERNS CORPUS\n");
		return 1;
	}
	if ((pats = hs_count_read(argv[1], &plen)) == NULL) {
		fprintf(stderr, "hs_count: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* One literal per non-empty line (a CR before the LF is dropped). */
	for (line = (char *)pats; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next == NULL)
			next = line + strlen(line);
		else
			*next++ = '\0';
		if (*line != '\0' && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		if (*line == '\0')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			exprs = hs_count_xrealloc(exprs, cap * sizeof *exprs);
			flags = hs_count_xrealloc(flags, cap * sizeof *flags);
			ids = hs_count_xrealloc(ids, cap * sizeof *ids);
			lens = hs_count_xrealloc(lens, cap * sizeof *lens);
		}
		exprs[n] = line;
		flags[n] = HS_FLAG_CASELESS;
		ids[n] = (unsigned int)n;
		lens[n] = strlen(line);
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "hs_count: %s: no patterns\n", argv[1]);
		return 1;
	}
	if ((text = hs_count_read(argv[2], &tlen)) == NULL) {
		fprintf(stderr, "hs_count: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}

	t0 = hs_count_now();
	if (hs_compile_lit_multi(exprs, flags, ids, lens, (unsigned int)n,
	        HS_MODE_BLOCK, NULL, &db, &err) != HS_SUCCESS) {
		fprintf(stderr, "hs_count: compile: %s (pattern %d)\n",
		    err->message, err->expression);
		hs_free_compile_error(err);
		return 1;
	}
	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
		fprintf(stderr, "hs_count: cannot allocate scratch space\n");
		return 1;
	}
	compile_s = hs_count_now() - t0;

	hc.text = text;
	hc.len = tlen;
	hc.lens = lens;
	hc.count = 0;
	t0 = hs_count_now();
	if (hs_scan(db, (const char *)text, (unsigned int)tlen, 0, scratch,
	        hs_count_match_cb, &hc) != HS_SUCCESS) {
		fprintf(stderr, "hs_count: scan failed\n");
		return 1;
	}
	scan_s = hs_count_now() - t0;

	printf("{\"count\":%llu,\"bytes\":%zu,\"patterns\":%zu,"
	       "\"compile_s\":%.6f,\"scan_s\":%.6f}\n",
	    hc.count, tlen, n, compile_s, scan_s);

	hs_free_scratch(scratch);
	hs_free_database(db);
	free(exprs);
	free(flags);
	free(ids);
	free(lens);
	free(pats);
	free(text);
	return 0;
}
