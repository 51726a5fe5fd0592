/*
 * UTF-8 and the normalisation of DESIGN.md "Matching semantics", steps 1-3:
 * text is UTF-8 (a leading BOM is skipped, an invalid byte is a separator);
 * each code point is compatibility-decomposed (NFKD), combining marks are
 * dropped and the result is case-folded (full folding); letters and digits
 * are word characters, everything else separates words.
 *
 * A leaf module: it depends on utf8proc and nothing of the daemon.
 */
#ifndef WATCHLISTD_TEXT_H
#define WATCHLISTD_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The most code points one code point normalises to (U+FDFA gives 18). */
#define TEXT_NORM_MAX 32

/*
 * Decode the code point at s, of which n > 0 bytes are readable.  Returns the
 * bytes it takes (1 to 4).  An invalid, overlong, surrogate or truncated
 * sequence gives *cp = -1 and a length of 1: one bad byte, one separator.
 */
size_t text_utf8_decode(const char *s, size_t n, int32_t *cp);

/* Whether s[0..n) is entirely valid UTF-8. */
int text_utf8_valid(const char *s, size_t n);

/*
 * Normalise one code point: NFKD, marks dropped, then, if fold is set, full
 * case folding.  Writes at most TEXT_NORM_MAX code points to out and returns
 * how many (0 when the code point vanishes, as a lone mark does).  cp = -1
 * (an invalid byte) gives U+FFFD, a separator.
 */
int text_norm_cp(int32_t cp, int fold, int32_t *out);

/* Letters (L*) and digits (N*) are word characters. */
int text_is_word(int32_t cp);

/*
 * Append s[0..n) to b made safe for a terminal or a log line: control
 * characters (C0, DEL, C1), bidirectional controls and bytes that are not
 * UTF-8 become \xHH or \u{HHHH}.  Tab, newline and CR become one space with
 * TEXT_ESCAPE_SPACE, tab and newline are kept with TEXT_ESCAPE_KEEP_NL, and
 * they are escaped otherwise.
 */
#define TEXT_ESCAPE_SPACE   0x1
#define TEXT_ESCAPE_KEEP_NL 0x2
void text_escape(struct buf *b, const char *s, size_t n, int flags);

/* The number of code points in s[0..n), invalid bytes counting one each. */
size_t text_utf8_count(const char *s, size_t n);

/*
 * One word of a text, as the scanner yields it.  The strings are the
 * normalised forms, UTF-8, valid until the next call to text_scan_next().
 */
struct text_word {
	const char *fold; /* NFKD, marks dropped, case-folded */
	size_t foldlen;
	const char *exact; /* NFKD, marks dropped, case kept */
	size_t exactlen;
	size_t start; /* byte offsets of the original code points */
	size_t end;   /* exclusive */
	size_t index; /* 0 for the first word of the text */
};

/*
 * Normal forms of non-ASCII code points, cached by the scanner: a text in
 * Arabic or Cyrillic uses a few dozen code points over and over, and looking
 * them up in utf8proc's tables each time is most of the cost of such text.
 */
#define TEXT_CACHE_SIZE  256
#define TEXT_CACHE_EMPTY INT32_MIN

/* A code point decomposed with marks dropped (at most four code points). */
struct text_cache_decomposed {
	int32_t cp;
	int32_t n;
	int32_t out[4];
};

/* A decomposed code point: word character or not, folded and kept forms. */
struct text_cache_char {
	int32_t cp;
	uint8_t word;
	uint8_t foldlen;
	uint8_t exactlen;
	char fold[12];
	char exact[4];
};

/* Splits a text into normalised words, streaming, without copying it. */
struct text_scan {
	const char *s;
	size_t len;
	size_t pos;   /* next byte to decode */
	size_t index; /* words yielded so far */
	int exact;    /* also build the case-kept form */

	/* The last decoded code point, decomposed and stripped of marks. */
	int32_t pend[TEXT_NORM_MAX];
	int npend;
	int ipend;
	size_t pend_start; /* its bytes in s */
	size_t pend_end;

	struct buf fold_buf;
	struct buf exact_buf;

	/* Filled when the first non-ASCII code point is met. */
	int cache_ready;
	struct text_cache_decomposed decomposed[TEXT_CACHE_SIZE];
	struct text_cache_char chars[TEXT_CACHE_SIZE];
};

/*
 * Start scanning s[0..len), skipping a leading BOM (offsets stay relative to
 * s).  exact: also produce the case-kept form of each word (for match_case).
 * The text must outlive the scan.
 */
void text_scan_init(struct text_scan *ts, const char *s, size_t len, int exact);
/* Yield the next word; returns 0 at the end of the text. */
int text_scan_next(struct text_scan *ts, struct text_word *w);
void text_scan_release(struct text_scan *ts);

#endif
