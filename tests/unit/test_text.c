/*
 * Unit tests for text.c: UTF-8 decoding, normalisation, word splitting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <utf8proc.h>

#include "text.h"

static void
test_decode_valid(void **state)
{
	int32_t cp;

	assert_int_equal(text_utf8_decode("a", 1, &cp), 1);
	assert_int_equal(cp, 'a');
	assert_int_equal(text_utf8_decode("\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(text_utf8_decode("\xe2\x82\xac", 3, &cp), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(text_utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
}

static void
test_decode_invalid(void **state)
{
	int32_t cp;

	/* Each bad byte is one separator, of length 1. */
	assert_int_equal(text_utf8_decode("\xff", 1, &cp), 1);
	assert_int_equal(cp, -1);
	assert_int_equal(text_utf8_decode("\x80", 1, &cp), 1);
	assert_int_equal(cp, -1);
	/* Overlong '/', a surrogate, past U+10FFFF, truncated. */
	assert_int_equal(text_utf8_decode("\xc0\xaf", 2, &cp), 1);
	assert_int_equal(cp, -1);
	assert_int_equal(text_utf8_decode("\xed\xa0\x80", 3, &cp), 1);
	assert_int_equal(cp, -1);
	assert_int_equal(text_utf8_decode("\xf4\x90\x80\x80", 4, &cp), 1);
	assert_int_equal(cp, -1);
	assert_int_equal(text_utf8_decode("\xe2\x82", 2, &cp), 1);
	assert_int_equal(cp, -1);
	assert_int_equal(text_utf8_valid("abc\xc3\xa9", 5), 1);
	assert_int_equal(text_utf8_valid("abc\xc3", 4), 0);
	assert_int_equal(text_utf8_count("a\xc3\xa9\xff", 4), 3);
}

/* Normalise a string with the scanner and join its words with '|'. */
static void
words_of(const char *s, int exact, char *out, size_t outlen)
{
	struct text_scan ts;
	struct text_word w;

	out[0] = '\0';
	text_scan_init(&ts, s, strlen(s), exact);
	while (text_scan_next(&ts, &w)) {
		if (out[0] != '\0')
			strncat(out, "|", outlen - strlen(out) - 1);
		strncat(
		    out, exact ? w.exact : w.fold, outlen - strlen(out) - 1);
	}
	text_scan_release(&ts);
}

static void
test_normalise_examples(void **state)
{
	char out[256];

	/* The examples of DESIGN.md step 2. */
	words_of("Tr\xc3\xadpoli", 0, out, sizeof out);
	assert_string_equal(out, "tripoli");
	words_of("Stra\xc3\x9f"
	         "e",
	    0, out, sizeof out);
	assert_string_equal(out, "strasse");
	words_of(
	    "\xd8\xb3\xd9\x90\xd8\xb1\xd9\x92\xd8\xaa", 0, out, sizeof out);
	assert_string_equal(out, "\xd8\xb3\xd8\xb1\xd8\xaa");
	/* Decomposed input equals precomposed. */
	words_of("Tri\xcc\x81poli", 0, out, sizeof out);
	assert_string_equal(out, "tripoli");
	/* Compatibility forms: ligature, fullwidth, capital sharp s. */
	words_of("\xef\xac\x81nd \xef\xbc\xa1\xef\xbc\xa2 \xe1\xba\x9e", 0, out,
	    sizeof out);
	assert_string_equal(out, "find|ab|ss");
	/* Case kept when exact is asked for, marks still dropped. */
	words_of("Tr\xc3\xadpoli IS", 1, out, sizeof out);
	assert_string_equal(out, "Tripoli|IS");
}

static void
test_separators(void **state)
{
	char out[256];

	/* Hyphen, en dash, newline, NBSP, invalid byte all separate. */
	words_of("al-Qubbah al\xe2\x80\x93Qubbah al\nQubbah "
	         "a\xc2\xa0"
	         "b c\xff"
	         "d",
	    0, out, sizeof out);
	assert_string_equal(out, "al|qubbah|al|qubbah|al|qubbah|a|b|c|d");
	/* Digits of any script are word characters. */
	words_of("route 66 \xd9\xa3\xd9\xa4", 0, out, sizeof out);
	assert_string_equal(out, "route|66|\xd9\xa3\xd9\xa4");
	/* A lone combining mark vanishes: it neither joins nor splits. */
	words_of("ab\xcc\x81"
	         "cd",
	    0, out, sizeof out);
	assert_string_equal(out, "abcd");
	/* One code point may give two words: 1/2 is "1", U+2044, "2". */
	words_of("\xc2\xbd", 0, out, sizeof out);
	assert_string_equal(out, "1|2");
}

static void
test_offsets(void **state)
{
	struct text_scan ts;
	struct text_word w;
	const char *s = "\xef\xbb\xbf"
	                "Tr\xc3\xadpoli, \xc2\xbd!";

	text_scan_init(&ts, s, strlen(s), 0);
	assert_int_equal(text_scan_next(&ts, &w), 1);
	assert_int_equal(w.start, 3); /* after the BOM */
	assert_int_equal(w.end, 11);
	assert_int_equal(w.index, 0);
	assert_int_equal(text_scan_next(&ts, &w), 1);
	assert_string_equal(w.fold, "1");
	assert_int_equal(w.start, 13); /* both words span the whole 1/2 */
	assert_int_equal(w.end, 15);
	assert_int_equal(text_scan_next(&ts, &w), 1);
	assert_string_equal(w.fold, "2");
	assert_int_equal(w.start, 13);
	assert_int_equal(w.end, 15);
	assert_int_equal(w.index, 2);
	assert_int_equal(text_scan_next(&ts, &w), 0);
	text_scan_release(&ts);
}

static void
test_empty(void **state)
{
	struct text_scan ts;
	struct text_word w;

	text_scan_init(&ts, "", 0, 1);
	assert_int_equal(text_scan_next(&ts, &w), 0);
	text_scan_release(&ts);
	text_scan_init(&ts, " ,;-- \n", 7, 1);
	assert_int_equal(text_scan_next(&ts, &w), 0);
	text_scan_release(&ts);
}

/*
 * The scanner splits words once for both forms; that is sound only if case
 * folding never changes whether a character is a word character.  Check it
 * for every code point of the Unicode version in use.
 */
static void
test_fold_keeps_word_class(void **state)
{
	int32_t kept[TEXT_NORM_MAX], folded[TEXT_NORM_MAX], one[TEXT_NORM_MAX];
	int32_t cp;
	int nk, i, j, n, bound;

	for (cp = 0; cp < 0x110000; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		nk = text_norm_cp(cp, 0, kept);
		assert_true(nk <= TEXT_NORM_MAX);
		text_norm_cp(cp, 1, folded);
		for (i = 0; i < nk; i++) {
			bound = 0;
			n = (int)utf8proc_decompose_char(kept[i], one,
			    TEXT_NORM_MAX, UTF8PROC_CASEFOLD, &bound);
			for (j = 0; j < n; j++) {
				if (text_is_word(one[j]) !=
				    text_is_word(kept[i]))
					fail_msg("U+%04X folds across word "
					         "classes",
					    cp);
			}
		}
	}
}

/*
 * The words of s as the definition gives them, one code point at a time:
 * "fold start end|" for each, into out.  The scanner's ASCII fast path must
 * give exactly this.
 */
static void
reference_words(const char *s, size_t len, char *out, size_t size)
{
	int32_t cp, norm[TEXT_NORM_MAX];
	size_t pos = 0, n, used = 0, start = 0, end = 0;
	int k, i, inword = 0;
	char word[4096];
	size_t wlen = 0;

	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	out[0] = '\0';
	for (;;) {
		if (pos < len) {
			n = text_utf8_decode(s + pos, len - pos, &cp);
			k = text_norm_cp(cp, 1, norm);
		} else {
			n = 0;
			k = 1;
			norm[0] = ' ';
		}
		for (i = 0; i < k; i++) {
			if (text_is_word(norm[i])) {
				if (!inword) {
					inword = 1;
					wlen = 0;
					start = pos;
				}
				wlen += (size_t)utf8proc_encode_char(
				    norm[i], (utf8proc_uint8_t *)word + wlen);
				end = pos + n;
			} else if (inword) {
				inword = 0;
				used += (size_t)snprintf(out + used,
				    size - used, "%.*s %zu %zu|", (int)wlen,
				    word, start, end);
			}
		}
		if (pos >= len)
			break;
		pos += n;
	}
}

static void
scanner_words(const char *s, size_t len, char *out, size_t size)
{
	struct text_scan ts;
	struct text_word w;
	size_t used = 0, index = 0;

	out[0] = '\0';
	text_scan_init(&ts, s, len, 1);
	while (text_scan_next(&ts, &w)) {
		assert_int_equal(w.index, index++);
		used += (size_t)snprintf(out + used, size - used,
		    "%.*s %zu %zu|", (int)w.foldlen, w.fold, w.start, w.end);
	}
	text_scan_release(&ts);
}

/*
 * Random texts of ASCII words, separators and non-ASCII pieces, long enough
 * to cross the sixteen-byte blocks of the fast path at every alignment.
 */
static void
test_fast_path_agrees(void **state)
{
	static const char *pieces[] = {"a", "Z", "q", "7", "Wx", "abcdefgh",
	    "ABCDEFGHIJKLMNOPQRSTU", " ", ",", "\n", "-", "'", "\0", "\xc3\xa9",
	    "e\xcc\x81", "\xff", "\xc3\x9f", "\xc2\xbd", "\xd8\xb3",
	    "\xef\xbb\xbf", "\xe2\x80\x93", "\x7f", "@", "[", "`", "{", "/",
	    ":"};
	static char text[600], want[8192], got[8192];
	unsigned seed = 12345;
	size_t len, plen;
	int iter, j, npieces;

	for (iter = 0; iter < 20000; iter++) {
		len = 0;
		npieces =
		    1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
		for (j = 0; j < npieces; j++) {
			seed = seed * 1103515245u + 12345u;
			plen = (seed >> 16) % (sizeof pieces / sizeof *pieces);
			/* "\0" is one NUL byte, not an empty string. */
			if (pieces[plen][0] == '\0') {
				text[len++] = '\0';
				continue;
			}
			memcpy(text + len, pieces[plen], strlen(pieces[plen]));
			len += strlen(pieces[plen]);
		}
		reference_words(text, len, want, sizeof want);
		scanner_words(text, len, got, sizeof got);
		assert_string_equal(got, want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_valid),
	    cmocka_unit_test(test_decode_invalid),
	    cmocka_unit_test(test_normalise_examples),
	    cmocka_unit_test(test_separators),
	    cmocka_unit_test(test_offsets),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_fold_keeps_word_class),
	    cmocka_unit_test(test_fast_path_agrees),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
