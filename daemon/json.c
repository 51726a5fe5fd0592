/*
 * Writing JSON.  A leaf: it has its own small UTF-8 check so that it needs
 * nothing but buf.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

/*
 * The length of the valid UTF-8 sequence at s (n > 0 bytes readable), or 0
 * if it is not one: overlong forms, surrogates and code points past
 * U+10FFFF are invalid, as are truncated sequences.
 */
static size_t
json_utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void
json_add_string(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run, n;

	buf_add_byte(b, '"');
	while (i < len) {
		/* Copy the longest run that needs no escaping at once. */
		for (run = i; run < len; run += n) {
			if (p[run] < 0x20 || p[run] == '"' || p[run] == '\\')
				break;
			if ((n = json_utf8_len(p + run, len - run)) == 0)
				break;
		}
		buf_add(b, s + i, run - i);
		if ((i = run) == len)
			break;
		switch (p[i]) {
		case '"':
			buf_add_str(b, "\\\"");
			break;
		case '\\':
			buf_add_str(b, "\\\\");
			break;
		case '\n':
			buf_add_str(b, "\\n");
			break;
		case '\t':
			buf_add_str(b, "\\t");
			break;
		case '\r':
			buf_add_str(b, "\\r");
			break;
		case '\b':
			buf_add_str(b, "\\b");
			break;
		case '\f':
			buf_add_str(b, "\\f");
			break;
		default:
			if (p[i] < 0x20)
				buf_printf(b, "\\u%04x", p[i]);
			else
				buf_add_str(b, "\xef\xbf\xbd"); /* U+FFFD */
			break;
		}
		i++;
	}
	buf_add_byte(b, '"');
}

void
json_add_cstring(struct buf *b, const char *s)
{
	json_add_string(b, s, strlen(s));
}

void
json_add_key(struct buf *b, const char *key)
{
	json_add_cstring(b, key);
	buf_add_byte(b, ':');
}

void
json_add_kv_string(struct buf *b, const char *key, const char *s, size_t len)
{
	json_add_key(b, key);
	json_add_string(b, s, len);
}

void
json_add_kv_cstring(struct buf *b, const char *key, const char *s)
{
	json_add_key(b, key);
	json_add_cstring(b, s);
}

void
json_add_kv_uint(struct buf *b, const char *key, uint64_t v)
{
	json_add_key(b, key);
	buf_printf(b, "%llu", (unsigned long long)v);
}

/*
 * Doubles are written with the fewest digits that read back as the same
 * value (31.2089, not 31.208900000000000), trying 15, 16 and 17 significant
 * digits.  JSON has no NaN or infinity: those become null.
 */
void
json_add_kv_double(struct buf *b, const char *key, double v)
{
	char s[64];
	int prec;

	json_add_key(b, key);
	if (!isfinite(v)) {
		buf_add_str(b, "null");
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, v);
		if (strtod(s, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(s, sizeof s, "%.17g", v);
	buf_add_str(b, s);
}
