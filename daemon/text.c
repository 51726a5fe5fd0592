/*
 * UTF-8 decoding, normalisation and word splitting (DESIGN.md "Matching
 * semantics", steps 1-3).
 *
 * The steps are applied one code point at a time, in the order DESIGN.md
 * gives: NFKD, then marks dropped, then full case folding.  Per code point
 * is exact here because canonical reordering only moves marks, which are
 * dropped.  utf8proc's one-call UTF8PROC_CASEFOLD|UTF8PROC_STRIPMARK folds
 * before it decomposes, which differs for some Greek letters with
 * ypogegrammeni, so the two steps are separate calls.
 *
 * Case folding never turns a word character into a separator or back (true
 * of every code point in the Unicode version utf8proc carries; the unit test
 * checks it), so one split into words serves both the folded and the
 * case-kept forms.
 */
#include <stddef.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <utf8proc.h>

#include "text.h"

size_t
text_utf8_decode(const char *s, size_t n, int32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	int32_t c;
	size_t len, i;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		len = 2;
		c = u[0] & 0x1f;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		len = 3;
		c = u[0] & 0x0f;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		len = 4;
		c = u[0] & 0x07;
	} else
		goto bad;
	if (n < len)
		goto bad;
	for (i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			goto bad;
		c = (c << 6) | (u[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		goto bad;
	*cp = c;
	return len;
bad:
	*cp = -1;
	return 1;
}

int
text_utf8_valid(const char *s, size_t n)
{
	size_t i = 0;
	int32_t cp;

	while (i < n) {
		i += text_utf8_decode(s + i, n - i, &cp);
		if (cp < 0)
			return 0;
	}
	return 1;
}

size_t
text_utf8_count(const char *s, size_t n)
{
	size_t i = 0, count = 0;
	int32_t cp;

	while (i < n) {
		i += text_utf8_decode(s + i, n - i, &cp);
		count++;
	}
	return count;
}

/* Characters that reorder or hide what a terminal shows (Trojan Source). */
static int
text_is_bidi_control(int32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void
text_escape(struct buf *b, const char *s, size_t n, int flags)
{
	size_t i = 0, len;
	int32_t cp;

	while (i < n) {
		len = text_utf8_decode(s + i, n - i, &cp);
		if (cp == '\t' || cp == '\n' || cp == '\r') {
			if (flags & TEXT_ESCAPE_SPACE)
				buf_add_byte(b, ' ');
			else if ((flags & TEXT_ESCAPE_KEEP_NL) && cp != '\r')
				buf_add_byte(b, (char)cp);
			else
				buf_printf(b, "\\x%02x", (unsigned)cp);
		} else if (cp < 0)
			buf_printf(b, "\\x%02x", (unsigned char)s[i]);
		else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
		         text_is_bidi_control(cp))
			buf_printf(b, "\\u{%04x}", (unsigned)cp);
		else
			buf_add(b, s + i, len);
		i += len;
	}
}

int
text_is_word(int32_t cp)
{
	if (cp < 0x80)
		return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
		       (cp >= 'A' && cp <= 'Z');
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

static int
text_is_mark(int32_t cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
		return 1;
	default:
		return 0;
	}
}

/* Step 2a: NFKD with marks dropped.  out holds TEXT_NORM_MAX. */
static int
text_decompose(int32_t cp, int32_t *out)
{
	int32_t tmp[TEXT_NORM_MAX];
	utf8proc_ssize_t n, i;
	int boundclass = 0, k = 0;

	if (cp < 0) {
		out[0] = 0xfffd;
		return 1;
	}
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	n = utf8proc_decompose_char(cp, tmp, TEXT_NORM_MAX,
	    UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE, &boundclass);
	if (n < 0 || n > TEXT_NORM_MAX) {
		/* Not a code point utf8proc knows how to decompose. */
		tmp[0] = cp;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		if (!text_is_mark(tmp[i]))
			out[k++] = tmp[i];
	}
	return k;
}

/* Step 2b: full case folding of one decomposed code point. */
static int
text_fold(int32_t cp, int32_t *out, int room)
{
	utf8proc_ssize_t n;
	int boundclass = 0;

	if (cp < 0x80) {
		out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
		return 1;
	}
	n = utf8proc_decompose_char(
	    cp, out, room, UTF8PROC_CASEFOLD, &boundclass);
	if (n < 1 || n > room) {
		out[0] = cp;
		return 1;
	}
	return (int)n;
}

int
text_norm_cp(int32_t cp, int fold, int32_t *out)
{
	int32_t dec[TEXT_NORM_MAX];
	int n, i, k = 0;

	n = text_decompose(cp, dec);
	if (!fold) {
		memcpy(out, dec, (size_t)n * sizeof *dec);
		return n;
	}
	for (i = 0; i < n && k < TEXT_NORM_MAX; i++)
		k += text_fold(dec[i], out + k, TEXT_NORM_MAX - k);
	return k;
}

void
text_scan_init(struct text_scan *ts, const char *s, size_t len, int exact)
{
	memset(ts, 0, offsetof(struct text_scan, decomposed));
	ts->s = s;
	ts->len = len;
	ts->exact = exact;
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		ts->pos = 3;
	buf_init(&ts->fold_buf);
	buf_init(&ts->exact_buf);
}

void
text_scan_release(struct text_scan *ts)
{
	buf_release(&ts->fold_buf);
	buf_release(&ts->exact_buf);
}

static size_t
text_cache_slot(int32_t cp)
{
	return ((uint32_t)cp * 0x9e3779b1u) >> 24;
}

/* Empty the caches, once per scan and only for text that is not ASCII. */
static void
text_scan_cache_init(struct text_scan *ts)
{
	size_t i;

	for (i = 0; i < TEXT_CACHE_SIZE; i++) {
		ts->decomposed[i].cp = TEXT_CACHE_EMPTY;
		ts->chars[i].cp = TEXT_CACHE_EMPTY;
	}
	ts->cache_ready = 1;
}

/* Step 2a through the scan's cache; the result is in ts->pend. */
static void
text_scan_decompose(struct text_scan *ts, int32_t cp)
{
	struct text_cache_decomposed *d = &ts->decomposed[text_cache_slot(cp)];

	if (!ts->cache_ready)
		text_scan_cache_init(ts);
	if (d->cp == cp) {
		memcpy(ts->pend, d->out, (size_t)d->n * sizeof *d->out);
		ts->npend = d->n;
		return;
	}
	ts->npend = text_decompose(cp, ts->pend);
	if (ts->npend <= 4) {
		d->cp = cp;
		d->n = ts->npend;
		memcpy(d->out, ts->pend, (size_t)d->n * sizeof *d->out);
	}
}

/* Encode cps as UTF-8 into out, if it fits in size bytes; -1 if not. */
static int
text_encode(const int32_t *cps, int n, char *out, size_t size)
{
	utf8proc_uint8_t tmp[4];
	size_t len = 0, k;
	int i;

	for (i = 0; i < n; i++) {
		k = (size_t)utf8proc_encode_char(cps[i], tmp);
		if (len + k > size)
			return -1;
		memcpy(out + len, tmp, k);
		len += k;
	}
	return (int)len;
}

/*
 * What a decomposed non-ASCII code point is: a word character or not, and
 * its folded and case-kept UTF-8, through the scan's cache.  Returns NULL
 * for the rare code point whose fold does not fit a cache slot; the caller
 * then does the work itself.
 */
static const struct text_cache_char *
text_scan_char(struct text_scan *ts, int32_t c)
{
	struct text_cache_char *e = &ts->chars[text_cache_slot(c)];
	int32_t f[TEXT_NORM_MAX];
	int n, flen, xlen;

	if (!ts->cache_ready)
		text_scan_cache_init(ts);
	if (e->cp == c)
		return e;
	n = text_fold(c, f, TEXT_NORM_MAX);
	flen = text_encode(f, n, e->fold, sizeof e->fold);
	xlen = text_encode(&c, 1, e->exact, sizeof e->exact);
	if (flen < 0 || xlen < 0) {
		e->cp = TEXT_CACHE_EMPTY;
		return NULL;
	}
	e->cp = c;
	e->word = (uint8_t)text_is_word(c);
	e->foldlen = (uint8_t)flen;
	e->exactlen = (uint8_t)xlen;
	return e;
}

/* Append one decomposed word character to the word being built. */
static void
text_scan_add(struct text_scan *ts, int32_t c)
{
	const struct text_cache_char *e;
	int32_t f[TEXT_NORM_MAX];
	int n, i;

	if (c < 0x80) {
		buf_add_byte(
		    &ts->fold_buf, (char)((c >= 'A' && c <= 'Z') ? c + 32 : c));
		if (ts->exact)
			buf_add_byte(&ts->exact_buf, (char)c);
		return;
	}
	if ((e = text_scan_char(ts, c)) != NULL) {
		buf_add(&ts->fold_buf, e->fold, e->foldlen);
		if (ts->exact)
			buf_add(&ts->exact_buf, e->exact, e->exactlen);
		return;
	}
	n = text_fold(c, f, TEXT_NORM_MAX);
	for (i = 0; i < n; i++)
		buf_add_utf8(&ts->fold_buf, f[i]);
	if (ts->exact)
		buf_add_utf8(&ts->exact_buf, c);
}

/* Whether a decomposed code point is a word character. */
static int
text_scan_is_word(struct text_scan *ts, int32_t c)
{
	const struct text_cache_char *e;

	if (c >= 0x80 && (e = text_scan_char(ts, c)) != NULL)
		return e->word;
	return text_is_word(c);
}

/*
 * Byte classes for the ASCII fast path: ASCII letters and digits are word
 * characters whose normal form is the byte itself, folded to lower case;
 * other ASCII bytes are separators; anything else needs the full path.
 */
enum { TEXT_SEP, TEXT_WORD, TEXT_OTHER };

static const unsigned char text_class[256] = {
    ['0'] = TEXT_WORD,
    ['1'] = TEXT_WORD,
    ['2'] = TEXT_WORD,
    ['3'] = TEXT_WORD,
    ['4'] = TEXT_WORD,
    ['5'] = TEXT_WORD,
    ['6'] = TEXT_WORD,
    ['7'] = TEXT_WORD,
    ['8'] = TEXT_WORD,
    ['9'] = TEXT_WORD,
    ['A'] = TEXT_WORD,
    ['B'] = TEXT_WORD,
    ['C'] = TEXT_WORD,
    ['D'] = TEXT_WORD,
    ['E'] = TEXT_WORD,
    ['F'] = TEXT_WORD,
    ['G'] = TEXT_WORD,
    ['H'] = TEXT_WORD,
    ['I'] = TEXT_WORD,
    ['J'] = TEXT_WORD,
    ['K'] = TEXT_WORD,
    ['L'] = TEXT_WORD,
    ['M'] = TEXT_WORD,
    ['N'] = TEXT_WORD,
    ['O'] = TEXT_WORD,
    ['P'] = TEXT_WORD,
    ['Q'] = TEXT_WORD,
    ['R'] = TEXT_WORD,
    ['S'] = TEXT_WORD,
    ['T'] = TEXT_WORD,
    ['U'] = TEXT_WORD,
    ['V'] = TEXT_WORD,
    ['W'] = TEXT_WORD,
    ['X'] = TEXT_WORD,
    ['Y'] = TEXT_WORD,
    ['Z'] = TEXT_WORD,
    ['a'] = TEXT_WORD,
    ['b'] = TEXT_WORD,
    ['c'] = TEXT_WORD,
    ['d'] = TEXT_WORD,
    ['e'] = TEXT_WORD,
    ['f'] = TEXT_WORD,
    ['g'] = TEXT_WORD,
    ['h'] = TEXT_WORD,
    ['i'] = TEXT_WORD,
    ['j'] = TEXT_WORD,
    ['k'] = TEXT_WORD,
    ['l'] = TEXT_WORD,
    ['m'] = TEXT_WORD,
    ['n'] = TEXT_WORD,
    ['o'] = TEXT_WORD,
    ['p'] = TEXT_WORD,
    ['q'] = TEXT_WORD,
    ['r'] = TEXT_WORD,
    ['s'] = TEXT_WORD,
    ['t'] = TEXT_WORD,
    ['u'] = TEXT_WORD,
    ['v'] = TEXT_WORD,
    ['w'] = TEXT_WORD,
    ['x'] = TEXT_WORD,
    ['y'] = TEXT_WORD,
    ['z'] = TEXT_WORD,
    [0x80 ... 0xff] = TEXT_OTHER,
};

#ifdef __SSE2__
/*
 * Bit i of the result is set when s[i] is an ASCII letter or digit; *high
 * gets the bytes >= 0x80.  Sixteen bytes at once, so that finding the ends of
 * a word costs a branch per word rather than one per byte.
 */
static uint32_t
text_block_word_mask(const unsigned char *s, uint32_t *high)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i lower = _mm_or_si128(x, _mm_set1_epi8(0x20));
	/* v in [lo, lo + n) <=> (int8)(v - lo + 128) < n - 128 */
	__m128i alpha = _mm_cmplt_epi8(
	    _mm_add_epi8(lower, _mm_set1_epi8((char)(128 - 'a'))),
	    _mm_set1_epi8((char)(26 - 128)));
	__m128i digit =
	    _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8((char)(128 - '0'))),
	        _mm_set1_epi8((char)(10 - 128)));

	*high = (uint32_t)_mm_movemask_epi8(x);
	return (uint32_t)_mm_movemask_epi8(_mm_or_si128(alpha, digit));
}
#endif

/*
 * The ends of the next ASCII word at or after from: *start is its first byte
 * and the return value the byte after it.  A word that contains or touches a
 * non-ASCII byte is not ASCII: then the return value is 0 and *start is
 * where the full path must take over.
 */
static size_t
text_find_ascii_word(
    const unsigned char *u, size_t from, size_t len, size_t *start)
{
	size_t p = from, s;
#ifdef __SSE2__
	uint32_t word, high, stop, bit;

	/* Separators, sixteen bytes at a time. */
	for (;;) {
		if (p + 16 > len)
			goto bytes;
		word = text_block_word_mask(u + p, &high);
		if ((stop = word | high) != 0)
			break;
		p += 16;
	}
	bit = (uint32_t)__builtin_ctz(stop);
	s = *start = p + bit;
	if (high & (1u << bit))
		return 0;
	/* The word, usually within the same block. */
	stop = (~word & 0xffff) >> bit;
	while (stop == 0) {
		p += 16;
		if (p + 16 > len) {
			while (p < len && text_class[u[p]] == TEXT_WORD)
				p++;
			goto end;
		}
		word = text_block_word_mask(u + p, &high);
		stop = ~word & 0xffff;
		bit = 0;
	}
	bit += (uint32_t)__builtin_ctz(stop);
	p += bit;
	return (high & (1u << bit)) ? 0 : p;
bytes:
#endif
	while (p < len && text_class[u[p]] == TEXT_SEP)
		p++;
	s = *start = p;
	while (p < len && text_class[u[p]] == TEXT_WORD)
		p++;
#ifdef __SSE2__
end:
#endif
	if (p == s || (p < len && text_class[u[p]] != TEXT_SEP))
		return 0;
	return p;
}

/*
 * The common case of news text: skip ASCII separators, then take a word of
 * ASCII letters and digits that ends at an ASCII separator or at the end of
 * the text.  Returns 0, having moved only past separators, when the next
 * word needs the full path (it contains or touches a non-ASCII byte).
 */
static int
text_scan_ascii(struct text_scan *ts, struct text_word *w)
{
	const unsigned char *u = (const unsigned char *)ts->s;
	size_t p, start, n, i;
	uint64_t x;
	char *f;

	p = text_find_ascii_word(u, ts->pos, ts->len, &start);
	ts->pos = start;
	if (p == 0)
		return 0;
	n = p - start;
	/*
	 * Letters have bit 0x40 and digits do not: folding is setting bit
	 * 0x20 from it, eight bytes at a time where the text has eight
	 * bytes to read (the buffer has room for the spill).
	 */
	ts->fold_buf.len = 0;
	if (ts->fold_buf.cap < n + 9)
		buf_reserve(&ts->fold_buf, n + 8);
	f = ts->fold_buf.data;
	for (i = 0; i < n && start + i + 8 <= ts->len; i += 8) {
		memcpy(&x, u + start + i, 8);
		x |= (x & 0x4040404040404040ULL) >> 1;
		memcpy(f + i, &x, 8);
	}
	for (; i < n; i++)
		f[i] = (char)(u[start + i] | ((u[start + i] & 0x40) >> 1));
	f[n] = '\0';
	ts->fold_buf.len = n;
	if (ts->exact) {
		ts->exact_buf.len = 0;
		buf_reserve(&ts->exact_buf, n);
		memcpy(ts->exact_buf.data, u + start, n);
		ts->exact_buf.data[n] = '\0';
		ts->exact_buf.len = n;
	}
	ts->pos = p;
	w->start = start;
	w->end = p;
	return 1;
}

/*
 * Words are maximal runs of word characters in the normalised stream.  One
 * original code point may give several normalised ones, some word characters
 * and some not (U+00BD is "1", U+2044, "2"), so it may end one word and start
 * the next: what is left of it waits in ts->pend for the next call.
 */
int
text_scan_next(struct text_scan *ts, struct text_word *w)
{
	int inword = 0;
	int32_t cp, c;
	size_t n;

	if (ts->ipend == ts->npend && text_scan_ascii(ts, w))
		goto done;
	buf_reset(&ts->fold_buf);
	buf_reset(&ts->exact_buf);
	for (;;) {
		if (ts->ipend == ts->npend) {
			if (ts->pos >= ts->len)
				break;
			n = text_utf8_decode(
			    ts->s + ts->pos, ts->len - ts->pos, &cp);
			ts->pend_start = ts->pos;
			ts->pend_end = ts->pos + n;
			ts->pos += n;
			/* The common case: ASCII needs no tables. */
			if (cp >= 0 && cp < 0x80) {
				if (text_is_word(cp)) {
					if (!inword) {
						inword = 1;
						w->start = ts->pend_start;
					}
					text_scan_add(ts, cp);
					w->end = ts->pend_end;
				} else if (inword)
					goto done;
				continue;
			}
			text_scan_decompose(ts, cp);
			ts->ipend = 0;
			continue;
		}
		c = ts->pend[ts->ipend];
		if (text_scan_is_word(ts, c)) {
			if (!inword) {
				inword = 1;
				w->start = ts->pend_start;
			}
			text_scan_add(ts, c);
			w->end = ts->pend_end;
		} else if (inword)
			goto done;
		ts->ipend++;
	}
	if (!inword)
		return 0;
done:
	w->fold = ts->fold_buf.data;
	w->foldlen = ts->fold_buf.len;
	w->exact = ts->exact ? ts->exact_buf.data : NULL;
	w->exactlen = ts->exact ? ts->exact_buf.len : 0;
	w->index = ts->index++;
	return 1;
}
