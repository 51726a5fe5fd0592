/*
 * E-mail messages to text: the header block, RFC 2047 encoded-words, the
 * MIME tree, transfer encodings and charsets.
 *
 * Every loop moves forward through the input and every nested call is one
 * MIME level deeper (at most WL_MAX_MIME_DEPTH), so the work is linear in
 * the size of the message times that cap, whatever the bytes are.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "buf.h"
#include "eml.h"
#include "html.h"
#include "text.h"
#include "xmalloc.h"

/* The longest charset name read; longer ones are not charsets. */
#define EML_CHARSET_MAX 40

/* The longest media type, disposition or encoding token read. */
#define EML_TOKEN_MAX 128

/* The header fields read; the first three only at the top of the message. */
enum eml_field {
	EML_SUBJECT,
	EML_FROM,
	EML_DATE,
	EML_TYPE,
	EML_ENCODING,
	EML_DISPOSITION,
	EML_NFIELDS
};

static const char *const eml_field_names[EML_NFIELDS] = {
    "subject",
    "from",
    "date",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
};

/* What an entity is to the walk. */
enum eml_kind {
	EML_SKIP,
	EML_PLAIN,
	EML_HTML,
	EML_MULTIPART,
	EML_MESSAGE,
};

/* The kept fields of one entity's header, unfolded, first occurrence. */
struct eml_header {
	struct buf v[EML_NFIELDS];
	int seen[EML_NFIELDS];
};

/* One RFC 2047 encoded-word: =?charset?E?text?= */
struct eml_word {
	char charset[EML_CHARSET_MAX + 1];
	char enc; /* 'q' or 'b' */
	const char *text;
	size_t textlen;
};

/* The delimiter lines of one multipart body. */
struct eml_parts {
	const char *s;
	size_t len;
	const char *delim; /* "\n--boundary" */
	size_t delimlen;
	size_t pos;   /* where to look for the next delimiter */
	size_t start; /* where the current part began */
	int started;  /* a delimiter was seen */
	int done;     /* the close delimiter or the end was reached */
};

/* One message being read. */
struct eml_ctx {
	struct buf *out;
	size_t nparts;

	struct buf dec;  /* a text part, transfer encoding undone */
	struct buf utf;  /* ... charset converted */
	struct buf part; /* ... HTML extracted */
	struct buf word; /* header: bytes of adjacent encoded-words */
	struct buf hdr;  /* header: the decoded value */

	/* The iconv descriptor of the last charset, for the next part. */
	char cd_name[EML_CHARSET_MAX + 1];
	iconv_t cd;
};

/* windows-1252 0x80-0x9f; the five holes map to C1 as WHATWG does. */
static const unsigned short eml_cp1252[32] = {0x20ac, 0x0081, 0x201a, 0x0192,
    0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152,
    0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e,
    0x0178};

/* Labels taken as they are. */
static const char *const eml_cs_asis[] = {
    "utf-8",
    "utf8",
    "us-ascii",
    "ascii",
    "ansi_x3.4-1968",
    "iso646-us",
    "unicode-1-1-utf-8",
};

/*
 * Labels read as windows-1252: like WHATWG, ISO-8859-1 is read as its
 * superset, because mail labelled Latin-1 by Windows clients routinely holds
 * 1252 quotes and dashes, and C1 controls never occur in real text.
 */
static const char *const eml_cs_1252[] = {
    "windows-1252",
    "cp1252",
    "x-cp1252",
    "iso-8859-1",
    "iso8859-1",
    "iso_8859-1",
    "iso_8859-1:1987",
    "iso88591",
    "iso-ir-100",
    "latin1",
    "latin-1",
    "l1",
    "cp819",
    "ibm819",
    "csisolatin1",
};

static int
eml_is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
eml_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Quoted-printable: =XX is a byte, '=' before the line end a soft break
 * (white space between them allowed), any other '=' itself.  In a header
 * (RFC 2047 Q) '_' is a space.
 */
static void
eml_qp_decode(const char *s, size_t n, struct buf *out, int header)
{
	size_t i = 0, j;
	int hi, lo;

	buf_reserve(out, n);
	while (i < n) {
		if (header && s[i] == '_') {
			buf_add_byte(out, ' ');
			i++;
			continue;
		}
		if (s[i] != '=') {
			buf_add_byte(out, s[i++]);
			continue;
		}
		if (i + 2 < n && (hi = eml_hex(s[i + 1])) != -1 &&
		    (lo = eml_hex(s[i + 2])) != -1) {
			buf_add_byte(out, (char)(hi << 4 | lo));
			i += 3;
			continue;
		}
		j = i + 1;
		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j == n || s[j] == '\n')
			i = j + 1;
		else if (s[j] == '\r')
			i = j + 1 < n && s[j + 1] == '\n' ? j + 2 : j + 1;
		else
			buf_add_byte(out, s[i++]);
	}
}

/*
 * Base64, forgiving: bytes outside the alphabet are skipped, and '='
 * ends a quantum, so that concatenated encodings decode each in turn.
 */
static void
eml_b64_decode(const char *s, size_t n, struct buf *out)
{
	uint32_t acc = 0;
	size_t i;
	int bits = 0, v;

	buf_reserve(out, n / 4 * 3 + 3);
	for (i = 0; i < n; i++) {
		if (s[i] == '=') {
			acc = 0;
			bits = 0;
			continue;
		}
		if ((v = base64_value((unsigned char)s[i])) == -1)
			continue;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_add_byte(out, (char)(acc >> bits & 0xff));
		}
	}
}

/*
 * Copy a charset name, lowercased and without an RFC 2231 language
 * ("utf-8*en"), to dst.  Returns -1 when it is empty, too long or holds
 * bytes no charset name has, so that nothing odd reaches iconv_open.
 */
static int
eml_charset_copy(const char *s, size_t n, char *dst)
{
	size_t i;
	char c;

	if (n > EML_CHARSET_MAX)
		return -1;
	for (i = 0; i < n && s[i] != '*'; i++) {
		c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') &&
		         strchr("-_.:+", c) == NULL)
			return -1;
		dst[i] = c;
	}
	dst[i] = '\0';
	return i == 0 ? -1 : 0;
}

static int
eml_charset_in(const char *cs, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(cs, list[i]) == 0)
			return 1;
	}
	return 0;
}

/*
 * windows-1252 to UTF-8.  Text so labelled that is valid UTF-8 is kept as
 * it is: a Latin-1 text is almost never valid UTF-8 by chance, a mislabelled
 * UTF-8 one always is.
 */
static void
eml_from_1252(const char *s, size_t n, struct buf *out)
{
	size_t i;
	unsigned char c;

	if (text_utf8_valid(s, n)) {
		buf_add(out, s, n);
		return;
	}
	buf_reserve(out, n * 2);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < 0x80)
			buf_add_byte(out, (char)c);
		else if (c < 0xa0)
			buf_add_utf8(out, eml_cp1252[c - 0x80]);
		else
			buf_add_utf8(out, c);
	}
}

/*
 * Any other charset goes through iconv(3): glibc and musl know the common
 * ones, and an embedded libc without them still gets the two tables above.
 * A byte iconv refuses is kept as it is, and conversion goes on after it.
 */
static void
eml_iconv(
    struct eml_ctx *ctx, const char *cs, char *s, size_t n, struct buf *out)
{
	char tmp[4096], *o;
	size_t room, r;

	if (strcmp(ctx->cd_name, cs) != 0) {
		if (ctx->cd != (iconv_t)-1)
			iconv_close(ctx->cd);
		ctx->cd = iconv_open("UTF-8", cs);
		strcpy(ctx->cd_name, cs);
	}
	if (ctx->cd == (iconv_t)-1) {
		buf_add(out, s, n);
		return;
	}
	iconv(ctx->cd, NULL, NULL, NULL, NULL);
	while (n > 0) {
		o = tmp;
		room = sizeof tmp;
		r = iconv(ctx->cd, &s, &n, &o, &room);
		buf_add(out, tmp, (size_t)(o - tmp));
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		buf_add_byte(out, *s++);
		n--;
	}
}

/* Append s[0..n), in charset cs (lowercase, "" if unknown), as UTF-8. */
static void
eml_convert(
    struct eml_ctx *ctx, const char *cs, char *s, size_t n, struct buf *out)
{
	if (*cs == '\0' || eml_charset_in(cs, eml_cs_asis,
	                       sizeof eml_cs_asis / sizeof eml_cs_asis[0]))
		buf_add(out, s, n);
	else if (eml_charset_in(cs, eml_cs_1252,
	             sizeof eml_cs_1252 / sizeof eml_cs_1252[0]))
		eml_from_1252(s, n, out);
	else
		eml_iconv(ctx, cs, s, n, out);
}

/*
 * Parse the encoded-word at s (s[0..2) is "=?").  Returns its length, or 0
 * if there is none.  When no "?=" follows before white space, *noew is set
 * to where the search stopped (never 0): no encoded-word can start before
 * it, which keeps a header full of "=?" linear.
 */
static size_t
eml_word_parse(const char *s, size_t n, struct eml_word *w, size_t *noew)
{
	size_t i = 2, k;

	while (i < n && s[i] != '?' && i - 2 <= EML_CHARSET_MAX)
		i++;
	if (i + 2 >= n || s[i] != '?' || s[i + 2] != '?' ||
	    eml_charset_copy(s + 2, i - 2, w->charset) == -1)
		return 0;
	if (s[i + 1] == 'q' || s[i + 1] == 'Q')
		w->enc = 'q';
	else if (s[i + 1] == 'b' || s[i + 1] == 'B')
		w->enc = 'b';
	else
		return 0;
	for (k = i + 3; k + 1 < n && !eml_is_wsp(s[k]); k++) {
		if (s[k] == '?' && s[k + 1] == '=') {
			w->text = s + i + 3;
			w->textlen = k - (i + 3);
			return k + 2;
		}
	}
	*noew = k;
	return 0;
}

/* Convert the bytes of pending encoded-words (in charset cs) to hdr. */
static void
eml_word_flush(struct eml_ctx *ctx, const char *cs)
{
	eml_convert(ctx, cs, ctx->word.data, ctx->word.len, &ctx->hdr);
	buf_reset(&ctx->word);
}

/*
 * Decode a header value: encoded-words anywhere (mailers put them in quoted
 * strings too), white space between two of them dropped, and the bytes of
 * adjacent ones in one charset joined before conversion.  Then white space
 * runs become one space and the ends are trimmed.  Returns a new string,
 * or NULL if nothing is left.
 */
static char *
eml_header_decode(struct eml_ctx *ctx, const char *s, size_t n)
{
	struct eml_word w;
	char pending[EML_CHARSET_MAX + 1] = "";
	size_t i = 0, j, o, wlen, stop, noew = 0;
	int after_word = 0, space = 0;
	char *v;

	buf_reset(&ctx->hdr);
	buf_reset(&ctx->word);
	while (i < n) {
		if (eml_is_wsp(s[i])) {
			space = 1;
			i++;
			continue;
		}
		wlen = stop = 0;
		if (i >= noew && s[i] == '=' && i + 1 < n && s[i + 1] == '?') {
			wlen = eml_word_parse(s + i, n - i, &w, &stop);
			if (stop != 0)
				noew = i + stop;
		}
		if (wlen == 0) {
			if (after_word)
				eml_word_flush(ctx, pending);
			if (space)
				buf_add_byte(&ctx->hdr, ' ');
			buf_add_byte(&ctx->hdr, s[i++]);
			after_word = space = 0;
			continue;
		}
		if (after_word && strcmp(pending, w.charset) != 0)
			eml_word_flush(ctx, pending);
		if (!after_word && space)
			buf_add_byte(&ctx->hdr, ' ');
		strcpy(pending, w.charset);
		if (w.enc == 'q')
			eml_qp_decode(w.text, w.textlen, &ctx->word, 1);
		else
			eml_b64_decode(w.text, w.textlen, &ctx->word);
		after_word = 1;
		space = 0;
		i += wlen;
	}
	if (after_word)
		eml_word_flush(ctx, pending);

	/* Collapse white space (and NULs, which would cut the string). */
	v = ctx->hdr.data;
	space = 0;
	for (j = o = 0; j < ctx->hdr.len; j++) {
		if (eml_is_wsp(v[j]) || v[j] == '\0') {
			space = o > 0;
			continue;
		}
		if (space)
			v[o++] = ' ';
		space = 0;
		v[o++] = v[j];
	}
	return o == 0 ? NULL : xstrndup(v, o);
}

static void
eml_header_init(struct eml_header *h)
{
	int i;

	for (i = 0; i < EML_NFIELDS; i++) {
		buf_init(&h->v[i]);
		h->seen[i] = 0;
	}
}

static void
eml_header_release(struct eml_header *h)
{
	int i;

	for (i = 0; i < EML_NFIELDS; i++)
		buf_release(&h->v[i]);
}

/* The field named s[0..n) if it is kept (from first on), else -1. */
static int
eml_field_find(const char *s, size_t n, int first)
{
	int i;

	for (i = first; i < EML_NFIELDS; i++) {
		if (strlen(eml_field_names[i]) == n &&
		    strncasecmp(s, eml_field_names[i], n) == 0)
			return i;
	}
	return -1;
}

/* Whether s[0..n) can be a field name: printable ASCII, no space. */
static int
eml_field_name_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126)
			return 0;
	}
	return n > 0;
}

/*
 * Read the header block at s[0..n), keeping the fields from first on,
 * unfolded (the line break before a continuation line dropped).  Returns
 * where the body starts: after the empty line, or at the first line that is
 * neither a field nor a continuation, so a text without a header is all
 * body.
 */
static size_t
eml_header_read(const char *s, size_t n, struct eml_header *h, int first)
{
	const char *nl, *colon;
	size_t pos = 0, end, next, name;
	int cur = -2; /* the field being read; -1 not kept, -2 none yet */

	while (pos < n) {
		nl = memchr(s + pos, '\n', n - pos);
		end = nl != NULL ? (size_t)(nl - s) : n;
		next = nl != NULL ? end + 1 : n;
		if (end > pos && s[end - 1] == '\r')
			end--;
		if (end == pos)
			return next;
		if (s[pos] == ' ' || s[pos] == '\t') {
			if (cur == -2)
				return pos;
			if (cur >= 0)
				buf_add(&h->v[cur], s + pos, end - pos);
			pos = next;
			continue;
		}
		if ((colon = memchr(s + pos, ':', end - pos)) == NULL)
			return pos;
		name = (size_t)(colon - s);
		while (
		    name > pos && (s[name - 1] == ' ' || s[name - 1] == '\t'))
			name--;
		if (!eml_field_name_ok(s + pos, name - pos))
			return pos;
		cur = eml_field_find(s + pos, name - pos, first);
		if (cur >= 0 && h->seen[cur])
			cur = -1;
		if (cur >= 0) {
			h->seen[cur] = 1;
			buf_add(&h->v[cur], colon + 1,
			    end - (size_t)(colon + 1 - s));
		}
		pos = next;
	}
	return n;
}

/*
 * The first token of a field ("text/html" of "text/html; charset=x"),
 * lowercased, into dst; "" if the field is missing or the token too long.
 */
static void
eml_token(const struct eml_header *h, enum eml_field f, char *dst)
{
	const char *s = h->v[f].data;
	size_t i = 0, o = 0, n = h->v[f].len;
	char c;

	*dst = '\0';
	if (!h->seen[f])
		return;
	while (i < n && eml_is_wsp(s[i]))
		i++;
	for (; i < n && s[i] != ';' && s[i] != '(' && !eml_is_wsp(s[i]); i++) {
		if (o == EML_TOKEN_MAX) {
			*dst = '\0';
			return;
		}
		c = s[i];
		dst[o++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	dst[o] = '\0';
}

/*
 * Find parameter name in the Content-Type field and copy its value to out
 * (quotes and backslashes removed).  Returns -1 if it is not there.  The
 * RFC 2231 forms (name*=, name*0=) are not read: mailers do not use them
 * for the boundary or the charset.
 */
static int
eml_param(const struct eml_header *h, const char *name, struct buf *out)
{
	const char *s = h->v[EML_TYPE].data, *semi;
	size_t i, ns, ne, vs, n = h->v[EML_TYPE].len, nlen = strlen(name);
	int want;

	if (!h->seen[EML_TYPE] || (semi = memchr(s, ';', n)) == NULL)
		return -1;
	i = (size_t)(semi - s);
	while (i < n) {
		while (i < n && (s[i] == ';' || eml_is_wsp(s[i])))
			i++;
		ns = i;
		while (i < n && s[i] != '=' && s[i] != ';' && !eml_is_wsp(s[i]))
			i++;
		ne = i;
		while (i < n && eml_is_wsp(s[i]))
			i++;
		if (i == n || s[i] != '=')
			continue;
		i++;
		while (i < n && eml_is_wsp(s[i]))
			i++;
		want = ne - ns == nlen && strncasecmp(s + ns, name, nlen) == 0;
		buf_reset(out);
		if (i < n && s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				if (want)
					buf_add_byte(out, s[i]);
			}
			if (i < n)
				i++;
		} else {
			vs = i;
			while (i < n && s[i] != ';' && !eml_is_wsp(s[i]))
				i++;
			if (want)
				buf_add(out, s + vs, i - vs);
		}
		if (want)
			return 0;
	}
	return -1;
}

/*
 * What the walk does with an entity.  type receives its media type.  A
 * missing or invalid Content-Type is text/plain (RFC 2045), or
 * message/rfc822 in a multipart/digest (RFC 2046).
 */
static enum eml_kind
eml_kind(const struct eml_header *h, int digest, char *type)
{
	char disposition[EML_TOKEN_MAX + 1];

	eml_token(h, EML_DISPOSITION, disposition);
	if (strcmp(disposition, "attachment") == 0)
		return EML_SKIP;
	eml_token(h, EML_TYPE, type);
	if (strchr(type, '/') == NULL)
		strcpy(type, digest ? "message/rfc822" : "text/plain");
	if (strcmp(type, "text/plain") == 0)
		return EML_PLAIN;
	if (strcmp(type, "text/html") == 0)
		return EML_HTML;
	if (strncmp(type, "multipart/", 10) == 0)
		return EML_MULTIPART;
	if (strcmp(type, "message/rfc822") == 0 ||
	    strcmp(type, "message/global") == 0)
		return EML_MESSAGE;
	return EML_SKIP;
}

/*
 * Append a part's text to the message's: a BOM, leading line ends and
 * trailing white space go, line ends become '\n', a blank line separates
 * it from the text before.  Parts with no text add nothing.
 */
static void
eml_add_text(struct eml_ctx *ctx, const char *s, size_t n)
{
	struct buf *out = ctx->out;
	size_t i;

	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		n -= 3;
	}
	while (n > 0 && (*s == '\r' || *s == '\n')) {
		s++;
		n--;
	}
	while (n > 0 && eml_is_wsp(s[n - 1]))
		n--;
	if (n == 0)
		return;
	if (out->len > 0)
		buf_add(out, "\n\n", 2);
	buf_reserve(out, n);
	for (i = 0; i < n; i++) {
		if (s[i] != '\r')
			buf_add_byte(out, s[i]);
		else if (i + 1 == n || s[i + 1] != '\n')
			buf_add_byte(out, '\n');
	}
}

/* A text part (or a body read as one): decode, convert, extract. */
static void
eml_text(struct eml_ctx *ctx, const struct eml_header *h, const char *s,
    size_t n, int html)
{
	char enc[EML_TOKEN_MAX + 1], cs[EML_CHARSET_MAX + 1] = "";

	buf_reset(&ctx->dec);
	buf_reset(&ctx->utf);
	buf_reset(&ctx->part);
	buf_reserve(&ctx->dec, n);
	buf_reserve(&ctx->utf, n);

	eml_token(h, EML_ENCODING, enc);
	if (strcmp(enc, "quoted-printable") == 0)
		eml_qp_decode(s, n, &ctx->dec, 0);
	else if (strcmp(enc, "base64") == 0)
		eml_b64_decode(s, n, &ctx->dec);
	else
		buf_add(&ctx->dec, s, n);

	if (eml_param(h, "charset", &ctx->part) == 0 &&
	    eml_charset_copy(ctx->part.data, ctx->part.len, cs) == -1)
		cs[0] = '\0';
	buf_reset(&ctx->part);
	eml_convert(ctx, cs, ctx->dec.data, ctx->dec.len, &ctx->utf);

	if (html) {
		html_extract(ctx->utf.data, ctx->utf.len, &ctx->part, NULL);
		eml_add_text(ctx, ctx->part.data, ctx->part.len);
	} else
		eml_add_text(ctx, ctx->utf.data, ctx->utf.len);
}

static void
eml_parts_init(
    struct eml_parts *it, const char *s, size_t n, const struct buf *delim)
{
	memset(it, 0, sizeof *it);
	it->s = s;
	it->len = n;
	it->delim = delim->data;
	it->delimlen = delim->len;
}

/*
 * The next line at or after pos that starts with "--boundary", or len.
 * pos is 0 or just after a '\n' or a '-', so searching for "\n--boundary"
 * from pos - 1 finds a line starting at pos; memmem keeps it linear and
 * fast when the nesting cap makes every level scan the message.
 */
static size_t
eml_parts_find(const struct eml_parts *it, size_t pos)
{
	const char *p;
	size_t from = pos > 0 ? pos - 1 : 0;

	if (pos == 0 && it->len >= it->delimlen - 1 &&
	    memcmp(it->s, it->delim + 1, it->delimlen - 1) == 0)
		return 0;
	p = memmem(it->s + from, it->len - from, it->delim, it->delimlen);
	return p != NULL ? (size_t)(p - it->s) + 1 : it->len;
}

/*
 * Whether the line at pos, which starts with "--boundary", is a delimiter:
 * "--boundary" or "--boundary--", perhaps with trailing white space.  *next
 * is set to the start of the following line.
 */
static int
eml_parts_delimiter(
    const struct eml_parts *it, size_t pos, int *close, size_t *next)
{
	const char *s = it->s;
	size_t k = pos + it->delimlen - 1, n = it->len;

	*close = n - k >= 2 && s[k] == '-' && s[k + 1] == '-';
	if (*close)
		k += 2;
	while (k < n && (s[k] == ' ' || s[k] == '\t'))
		k++;
	if (k < n && s[k] == '\r')
		k++;
	if (k < n && s[k] != '\n')
		return 0;
	*next = k < n ? k + 1 : n;
	return 1;
}

/*
 * The next part of a multipart body, without the line break before its
 * delimiter, which belongs to the delimiter.  The preamble and the
 * epilogue are not parts; a missing close delimiter ends the last part at
 * the end of the body.  Returns -1 when there are no more.
 */
static int
eml_parts_next(struct eml_parts *it, const char **sp, size_t *np)
{
	size_t line, end, next;
	int close;

	while (!it->done) {
		line = eml_parts_find(it, it->pos);
		if (line == it->len) {
			it->done = 1;
			if (!it->started)
				return -1;
			end = next = it->len;
		} else {
			if (!eml_parts_delimiter(it, line, &close, &next)) {
				it->pos = line + 1;
				continue;
			}
			it->done = close;
			end = line;
			if (end > it->start && it->s[end - 1] == '\n')
				end--;
			if (end > it->start && it->s[end - 1] == '\r')
				end--;
		}
		it->pos = next;
		if (!it->started) {
			it->started = 1;
			it->start = next;
			continue;
		}
		*sp = it->s + it->start;
		*np = end - it->start;
		it->start = next;
		return 0;
	}
	return -1;
}

static void eml_entity(
    struct eml_ctx *, const char *, size_t, int, int, struct eml *);

/*
 * multipart/alternative: the text/plain part, else the text/html one,
 * else the first nested multipart or message.  A choice that gives no
 * text (an empty plain part beside a full HTML one, as some newsletters
 * send) gives way to the next.
 */
static void
eml_alternative(struct eml_ctx *ctx, struct eml_parts *it, int depth)
{
	struct eml_header h;
	char type[EML_TOKEN_MAX + 1];
	const char *s, *pick[3] = {NULL, NULL, NULL};
	size_t n, pickn[3] = {0, 0, 0}, before;
	int i, rank;

	while (eml_parts_next(it, &s, &n) == 0) {
		eml_header_init(&h);
		eml_header_read(s, n, &h, EML_TYPE);
		switch (eml_kind(&h, 0, type)) {
		case EML_PLAIN:
			rank = 0;
			break;
		case EML_HTML:
			rank = 1;
			break;
		case EML_MULTIPART:
		case EML_MESSAGE:
			rank = 2;
			break;
		default:
			rank = -1;
			break;
		}
		eml_header_release(&h);
		if (rank != -1 && pick[rank] == NULL) {
			pick[rank] = s;
			pickn[rank] = n;
		}
	}
	before = ctx->out->len;
	for (i = 0; i < 3 && ctx->out->len == before; i++) {
		if (pick[i] != NULL)
			eml_entity(ctx, pick[i], pickn[i], depth + 1, 0, NULL);
	}
}

/*
 * A multipart body: its parts in order, or the chosen alternative.  A
 * multipart without a boundary, or whose boundary never appears, is read
 * as plain text rather than lost.
 */
static void
eml_multipart(struct eml_ctx *ctx, const struct eml_header *h, const char *type,
    const char *s, size_t n, int depth)
{
	struct eml_parts it;
	struct buf bnd, delim;
	const char *ps;
	size_t pn;
	int digest = strcmp(type, "multipart/digest") == 0;

	buf_init(&bnd);
	buf_init(&delim);
	if (eml_param(h, "boundary", &bnd) == -1 || bnd.len == 0) {
		eml_text(ctx, h, s, n, 0);
		goto out;
	}
	buf_add(&delim, "\n--", 3);
	buf_add(&delim, bnd.data, bnd.len);
	eml_parts_init(&it, s, n, &delim);
	if (strcmp(type, "multipart/alternative") == 0)
		eml_alternative(ctx, &it, depth);
	else {
		while (ctx->nparts < WL_MAX_MIME_PARTS &&
		       eml_parts_next(&it, &ps, &pn) == 0)
			eml_entity(ctx, ps, pn, depth + 1, digest, NULL);
	}
	if (!it.started)
		eml_text(ctx, h, s, n, 0);
out:
	buf_release(&bnd);
	buf_release(&delim);
}

/*
 * Read one entity (the message, a part, or an enclosed message) at
 * s[0..n).  depth counts the levels above it; digest makes message/rfc822
 * the default type; top, for the message itself, receives its fields.
 */
static void
eml_entity(struct eml_ctx *ctx, const char *s, size_t n, int depth, int digest,
    struct eml *top)
{
	struct eml_header h;
	char type[EML_TOKEN_MAX + 1];
	size_t body;

	if (depth > WL_MAX_MIME_DEPTH || ctx->nparts >= WL_MAX_MIME_PARTS)
		return;
	ctx->nparts++;

	eml_header_init(&h);
	body = eml_header_read(s, n, &h, top != NULL ? EML_SUBJECT : EML_TYPE);
	if (top != NULL) {
		top->subject = eml_header_decode(
		    ctx, h.v[EML_SUBJECT].data, h.v[EML_SUBJECT].len);
		top->from = eml_header_decode(
		    ctx, h.v[EML_FROM].data, h.v[EML_FROM].len);
		top->date = eml_header_decode(
		    ctx, h.v[EML_DATE].data, h.v[EML_DATE].len);
	}
	switch (eml_kind(&h, digest, type)) {
	case EML_PLAIN:
		eml_text(ctx, &h, s + body, n - body, 0);
		break;
	case EML_HTML:
		eml_text(ctx, &h, s + body, n - body, 1);
		break;
	case EML_MULTIPART:
		eml_multipart(ctx, &h, type, s + body, n - body, depth);
		break;
	case EML_MESSAGE:
		eml_entity(ctx, s + body, n - body, depth + 1, 0, NULL);
		break;
	case EML_SKIP:
		break;
	}
	eml_header_release(&h);
}

void
eml_parse(const char *raw, size_t len, struct eml *out)
{
	struct eml_ctx ctx;
	const char *nl;
	size_t skip = 0;

	memset(out, 0, sizeof *out);
	buf_init(&out->text);
	buf_add(&out->text, "", 0);
	if (len == 0)
		return;

	if (len >= 3 && memcmp(raw, "\xef\xbb\xbf", 3) == 0)
		skip = 3;
	/* The "From " line of an mbox or a saved message is not a field. */
	if (len - skip >= 5 && memcmp(raw + skip, "From ", 5) == 0) {
		nl = memchr(raw + skip, '\n', len - skip);
		skip = nl != NULL ? (size_t)(nl - raw) + 1 : len;
	}

	memset(&ctx, 0, sizeof ctx);
	ctx.out = &out->text;
	buf_init(&ctx.dec);
	buf_init(&ctx.utf);
	buf_init(&ctx.part);
	buf_init(&ctx.word);
	buf_init(&ctx.hdr);
	ctx.cd = (iconv_t)-1;

	eml_entity(&ctx, raw + skip, len - skip, 0, 0, out);
	if (out->text.len > 0)
		buf_add_byte(&out->text, '\n');

	if (ctx.cd != (iconv_t)-1)
		iconv_close(ctx.cd);
	buf_release(&ctx.dec);
	buf_release(&ctx.utf);
	buf_release(&ctx.part);
	buf_release(&ctx.word);
	buf_release(&ctx.hdr);
}

void
eml_release(struct eml *m)
{
	if (m == NULL)
		return;
	free(m->subject);
	free(m->from);
	free(m->date);
	buf_release(&m->text);
	m->subject = m->from = m->date = NULL;
}
