/*
 * Feeds: RSS, RDF, Atom and JSON Feed documents turned into entries.
 *
 * XML documents are first decoded to UTF-8 here (BOM, byte patterns, the
 * XML declaration, iconv for legacy charsets), then given to expat with the
 * encoding forced to UTF-8 and namespace processing on.  When expat stops on
 * an undeclared entity or a stray '&', the text is repaired and parsed once
 * more; when it stops later on (a truncated document), what was read until
 * then is kept.  Both make the feed "bozo", as feedparser says.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <expat.h>

#include "buf.h"
#include "feed.h"
#include "html.h"
#include "options.h"
#include "text.h"
#include "xmalloc.h"

#define FEED_NS_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

enum feed_ns {
	FEED_NS_OTHER,
	FEED_NS_RSS, /* none, RSS 1.0, RSS 0.90, userland's RSS 2.0 */
	FEED_NS_ATOM,
	FEED_NS_RDFNS,
	FEED_NS_DC,
	FEED_NS_DCTERMS,
	FEED_NS_CONTENT,
};

/* What an open element is to the parser. */
enum feed_elem {
	FEED_ELEM_IGNORE,
	FEED_ELEM_ROOT,
	FEED_ELEM_CHANNEL,
	FEED_ELEM_ENTRY,
};

/* How the text of a captured element becomes a value. */
enum feed_type {
	FEED_TYPE_TEXT,  /* kept literally */
	FEED_TYPE_HTML,  /* escaped HTML: text and nested tags are markup */
	FEED_TYPE_XHTML, /* inline XML: nested tags are markup, text is text */
	FEED_TYPE_URI,   /* trimmed */
	FEED_TYPE_DATE,
};

struct feed_xml {
	XML_Parser p;
	struct feed *f;
	char *cause;
	int refused; /* DOCTYPE, entity declaration, too deep: no recovery */
	int depth;
	enum feed_elem stack[WL_MAX_FEED_DEPTH + 2];

	struct feed_entry *entry; /* the entry being read, NULL outside */
	char *guid_link;          /* a permalink guid, the link if none */

	int cap_depth; /* element whose text is captured, 0 if none */
	enum feed_type cap_type;
	char **cap_field;
	int64_t *cap_date;
	struct buf cap;
};

static const unsigned short feed_cp1252[32] = {0x20ac, 0x0081, 0x201a, 0x0192,
    0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152,
    0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e,
    0x0178};

const char *
feed_format_name(enum feed_format f)
{
	switch (f) {
	case FEED_RSS2:
		return "rss";
	case FEED_RSS1:
		return "rdf";
	case FEED_ATOM:
		return "atom";
	case FEED_JSON:
		return "json";
	default:
		return "unknown";
	}
}

int
feed_name_is_feed(const char *name)
{
	static const char *const exts[] = {
	    ".xml", ".rss", ".atom", ".rdf", ".json"};
	size_t i, n = strlen(name), e;

	for (i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		e = strlen(exts[i]);
		if (n > e && strcasecmp(name + n - e, exts[i]) == 0)
			return 1;
	}
	return 0;
}

static void
feed_entry_release(struct feed_entry *e)
{
	free(e->title);
	free(e->link);
	free(e->id);
	free(e->summary);
	free(e->content);
}

void
feed_release(struct feed *f)
{
	size_t i;

	if (f == NULL)
		return;
	free(f->title);
	free(f->link);
	free(f->encoding);
	for (i = 0; i < f->nentries; i++)
		feed_entry_release(&f->entries[i]);
	free(f->entries);
	memset(f, 0, sizeof *f);
}

static struct feed_entry *
feed_add_entry(struct feed *f)
{
	struct feed_entry *e;

	f->entries = xreallocarray(f->entries, f->nentries + 1, sizeof *e);
	e = &f->entries[f->nentries++];
	memset(e, 0, sizeof *e);
	e->published = INT64_MIN;
	e->updated = INT64_MIN;
	return e;
}

/* Dates. */

static const char *const feed_months[] = {"jan", "feb", "mar", "apr", "may",
    "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const feed_days[] = {
    "mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's method). */
static int64_t
feed_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
feed_days_in_month(int64_t y, int m)
{
	static const int mdays[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return mdays[m - 1];
}

/* Check the fields and make Unix seconds; off is the zone in seconds. */
static int
feed_date_make(
    int64_t y, int mo, int d, int h, int mi, int s, int off, int64_t *t)
{
	int64_t v;

	if (y < 0 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > feed_days_in_month(y, mo) || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || s < 0 || s > 60)
		return -1;
	if (s == 60)
		s = 59;
	v = feed_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
	    off;
	if (v < feed_days_from_civil(0, 1, 1) * 86400 ||
	    v >= feed_days_from_civil(10000, 1, 1) * 86400)
		return -1;
	*t = v;
	return 0;
}

/* Exactly n digits at s; their value, or -1. */
static int
feed_digits(const char *s, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * A numeric zone "+hh:mm", "+hhmm" or "+hh" filling the whole of s[0..n);
 * -1 if it is something else.
 */
static int
feed_date_offset(const char *s, size_t n, int *off)
{
	int sign, h, m = 0;

	if (n < 3 || (s[0] != '+' && s[0] != '-'))
		return -1;
	sign = s[0] == '-' ? -1 : 1;
	if ((h = feed_digits(s + 1, 2)) < 0)
		return -1;
	if (n == 6 && s[3] == ':')
		m = feed_digits(s + 4, 2);
	else if (n == 5)
		m = feed_digits(s + 3, 2);
	else if (n != 3)
		return -1;
	if (m < 0 || h > 23 || m > 59)
		return -1;
	*off = sign * (h * 3600 + m * 60);
	return 0;
}

/*
 * W3C-DTF / RFC 3339 / ISO 8601: YYYY[-MM[-DD[(T| )hh:mm[:ss[.f]][zone]]]],
 * the zone being Z or a numeric offset, with or without a space before it.
 */
static int
feed_date_w3c(const char *s, size_t n, int64_t *t)
{
	int y, mo = 1, d = 1, h = 0, mi = 0, sec = 0, off = 0;
	size_t i = 4;

	if (n < 4 || (y = feed_digits(s, 4)) < 0)
		return -1;
	if (i < n) {
		if (s[i] != '-' || i + 3 > n ||
		    (mo = feed_digits(s + 5, 2)) < 0)
			return -1;
		i += 3;
	}
	if (i < n) {
		if (s[i] != '-' || i + 3 > n || (d = feed_digits(s + 8, 2)) < 0)
			return -1;
		i += 3;
	}
	if (i < n) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return -1;
		i++;
		if (i + 5 > n || (h = feed_digits(s + i, 2)) < 0 ||
		    s[i + 2] != ':' || (mi = feed_digits(s + i + 3, 2)) < 0)
			return -1;
		i += 5;
		if (i < n && s[i] == ':') {
			if (i + 3 > n || (sec = feed_digits(s + i + 1, 2)) < 0)
				return -1;
			i += 3;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				i++;
				if (i >= n || !isdigit((unsigned char)s[i]))
					return -1;
				while (i < n && isdigit((unsigned char)s[i]))
					i++;
			}
		}
		if (i < n && s[i] == ' ')
			i++;
		if (i < n) {
			if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n)
				off = 0;
			else if (feed_date_offset(s + i, n - i, &off) != 0)
				return -1;
		}
	}
	return feed_date_make(y, mo, d, h, mi, sec, off, t);
}

/* Named zones, in hours east of UTC, as feeds write them. */
static int
feed_date_zone_name(const char *s, size_t n, int *off)
{
	static const struct {
		const char *name;
		int hours;
	} zones[] = {{"ut", 0}, {"gmt", 0}, {"utc", 0}, {"z", 0}, {"wet", 0},
	    {"adt", -3}, {"ast", -4}, {"at", -4}, {"edt", -4}, {"est", -5},
	    {"et", -5}, {"cdt", -5}, {"cst", -6}, {"ct", -6}, {"mdt", -6},
	    {"mst", -7}, {"mt", -7}, {"pdt", -7}, {"pst", -8}, {"pt", -8},
	    {"akdt", -8}, {"akst", -9}, {"hst", -10}, {"met", 1}, {"cet", 1},
	    {"bst", 1}, {"west", 1}, {"mest", 2}, {"cest", 2}, {"eet", 2},
	    {"eest", 3}, {"msk", 3}, {"hkt", 8}, {"sgt", 8}, {"jst", 9},
	    {"kst", 9}, {"aest", 10}, {"aedt", 11}, {"nzst", 12}, {"nzdt", 13}};
	size_t i;
	int c;

	if (n > 4 && strncasecmp(s, "etc/", 4) == 0) {
		s += 4;
		n -= 4;
	}
	for (i = 0; i < sizeof zones / sizeof zones[0]; i++) {
		if (strlen(zones[i].name) == n &&
		    strncasecmp(s, zones[i].name, n) == 0) {
			*off = zones[i].hours * 3600;
			return 0;
		}
	}
	/* RFC 822's military zones, A-I and K-M west, N-Y east. */
	if (n == 1 && isalpha((unsigned char)s[0])) {
		c = tolower((unsigned char)s[0]);
		if (c == 'j')
			return -1;
		if (c <= 'i')
			*off = -(c - 'a' + 1) * 3600;
		else if (c <= 'm')
			*off = -(c - 'k' + 10) * 3600;
		else
			*off = (c - 'n' + 1) * 3600;
		return 0;
	}
	return -1;
}

/* A zone token: a name, an offset, or a name and an offset (GMT+01:00). */
static int
feed_date_zone(const char *s, size_t n, int *off)
{
	size_t i;
	int o;

	if (feed_date_offset(s, n, off) == 0)
		return 0;
	for (i = 0; i < n && s[i] != '+' && s[i] != '-'; i++)
		;
	if (feed_date_zone_name(s, i, off) != 0)
		return -1;
	if (i == n)
		return 0;
	if (feed_date_offset(s + i, n - i, &o) != 0)
		return -1;
	*off += o;
	return 0;
}

static int
feed_date_month(const char *s, size_t n)
{
	static const char *const full[] = {"january", "february", "march",
	    "april", "may", "june", "july", "august", "september", "october",
	    "november", "december"};
	int i;

	for (i = 0; i < 12; i++) {
		if (n == 3 && strncasecmp(s, feed_months[i], 3) == 0)
			return i + 1;
		if (n == strlen(full[i]) && strncasecmp(s, full[i], n) == 0)
			return i + 1;
		if (n == 4 && i == 8 && strncasecmp(s, "sept", 4) == 0)
			return 9;
	}
	return 0;
}

static int
feed_date_weekday(const char *s, size_t n)
{
	static const char *const full[] = {"monday", "tuesday", "wednesday",
	    "thursday", "friday", "saturday", "sunday"};
	int i;

	for (i = 0; i < 7; i++) {
		if ((n == 3 && strncasecmp(s, feed_days[i], 3) == 0) ||
		    (n == strlen(full[i]) && strncasecmp(s, full[i], n) == 0))
			return 1;
	}
	return 0;
}

/* hh:mm[:ss]; -1 for anything else (1:2:3:4 included). */
static int
feed_date_time(const char *s, size_t n, int *h, int *mi, int *sec)
{
	int v[3] = {0, 0, 0}, k = 0, digits = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (isdigit((unsigned char)s[i])) {
			if (++digits > 2)
				return -1;
			v[k] = v[k] * 10 + (s[i] - '0');
		} else if (s[i] == ':' && digits > 0 && k < 2) {
			k++;
			digits = 0;
		} else
			return -1;
	}
	if (k < 1 || digits == 0)
		return -1;
	*h = v[0];
	*mi = v[1];
	*sec = v[2];
	return 0;
}

/*
 * RFC 822 and what feeds make of it, in any order that keeps the day before
 * the year: "Thu, 01 Jan 2004 19:48:21 GMT", "01 Jan 04 19:48 EST",
 * "Fri,24 Nov 2023 ...", "Thu Aug 30 2012 17:26:16 +0200" and asctime's
 * "Sun Jan  4 16:29:06 2004".  Every token must be understood.
 */
static int
feed_date_822(const char *s, size_t n, int64_t *t)
{
	int64_t year = -1;
	int mo = 0, d = -1, h = 0, mi = 0, sec = 0, off = 0, have_time = 0;
	int have_zone = 0, v;
	size_t i = 0, j, len;
	const char *tok;

	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		if (i == n)
			break;
		for (j = i; j < n && s[j] != ' ' && s[j] != '\t' && s[j] != ',';
		     j++)
			;
		tok = s + i;
		len = j - i;
		i = j;
		if (isdigit((unsigned char)tok[0]) && memchr(tok, ':', len)) {
			if (have_time ||
			    feed_date_time(tok, len, &h, &mi, &sec))
				return -1;
			have_time = 1;
		} else if (isdigit((unsigned char)tok[0])) {
			if (len > 4 || (v = feed_digits(tok, (int)len)) < 0)
				return -1;
			if (d < 0 && len <= 2 && mo != 0 && year < 0)
				d = v;
			else if (d < 0 && len <= 2 && mo == 0)
				d = v;
			else if (year < 0 && d >= 0) {
				year = v;
				if (len <= 2)
					year += v < 50 ? 2000 : 1900;
			} else
				return -1;
		} else if (mo == 0 && (mo = feed_date_month(tok, len)) != 0)
			continue;
		else if (d < 0 && mo == 0 && !have_time &&
		         feed_date_weekday(tok, len))
			continue;
		else if (have_time && !have_zone &&
		         feed_date_zone(tok, len, &off) == 0)
			have_zone = 1;
		else
			return -1;
	}
	if (mo == 0 || d < 0 || year < 0)
		return -1;
	return feed_date_make(year, mo, d, h, mi, sec, off, t);
}

int
feed_parse_date(const char *s, int64_t *t)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	                    s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (n == 0)
		return -1;
	if (n >= 4 && feed_digits(s, 4) >= 0 && (n == 4 || s[4] == '-'))
		return feed_date_w3c(s, n, t);
	return feed_date_822(s, n, t);
}

int
feed_format_date(int64_t t, char *buf, size_t len)
{
	int64_t days, secs, z, era, doe, yoe, y, doy, mp, d, m;

	if (len > 0)
		buf[0] = '\0';
	if (t == INT64_MIN || len < FEED_DATE_LEN)
		return -1;
	days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	secs = t - days * 86400;
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999)
		return -1;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m,
	    (int)d, (int)(secs / 3600), (int)(secs / 60 % 60),
	    (int)(secs % 60));
	return 0;
}

/* Character encodings. */

/* Decode windows-1252 (and ISO-8859-1, read as its superset) to UTF-8. */
static void
feed_from_1252(const char *s, size_t n, struct buf *out)
{
	unsigned char c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < 0x80)
			buf_add_byte(out, (char)c);
		else if (c < 0xa0)
			buf_add_utf8(out, feed_cp1252[c - 0x80]);
		else
			buf_add_utf8(out, c);
	}
}

/*
 * Copy UTF-8, reading each byte that is not part of a valid sequence as
 * windows-1252: the usual mistake of feeds that claim UTF-8.  Returns
 * whether any byte was so read.
 */
static int
feed_from_utf8(const char *s, size_t n, struct buf *out)
{
	size_t i = 0, k;
	int32_t cp;
	int bad = 0;

	while (i < n) {
		k = text_utf8_decode(s + i, n - i, &cp);
		if (cp < 0) {
			feed_from_1252(s + i, 1, out);
			bad = 1;
		} else
			buf_add(out, s + i, k);
		i += k;
	}
	return bad;
}

/* Decode with iconv; a bad or truncated sequence becomes U+FFFD. */
static int
feed_from_iconv(
    iconv_t cd, const char *s, size_t n, size_t unit, struct buf *out)
{
	char tmp[4096], *in = (char *)(uintptr_t)s, *o;
	size_t inleft = n, oleft, r;
	int bad = 0;

	while (inleft > 0) {
		o = tmp;
		oleft = sizeof tmp;
		r = iconv(cd, &in, &inleft, &o, &oleft);
		buf_add(out, tmp, sizeof tmp - oleft);
		if (r != (size_t)-1)
			continue;
		if (errno == E2BIG)
			continue;
		bad = 1;
		buf_add_str(out, "\xef\xbf\xbd");
		if (errno == EINVAL || inleft < unit)
			break;
		in += unit;
		inleft -= unit;
	}
	return bad;
}

/* The encoding named in an XML declaration at the start, lower-cased. */
static char *
feed_xml_declared(const char *s, size_t n)
{
	const char *end, *p, *q;
	char *name;
	size_t i;

	if (n < 6 || memcmp(s, "<?xml", 5) != 0)
		return NULL;
	if ((end = memmem(s, n < 1024 ? n : 1024, "?>", 2)) == NULL)
		return NULL;
	if ((p = memmem(s, end - s, "encoding", 8)) == NULL)
		return NULL;
	p += 8;
	while (p < end && (*p == ' ' || *p == '=' || *p == '\t'))
		p++;
	if (p == end || (*p != '"' && *p != '\''))
		return NULL;
	if ((q = memchr(p + 1, *p, end - p - 1)) == NULL)
		return NULL;
	name = xstrndup(p + 1, q - p - 1);
	for (i = 0; name[i] != '\0'; i++)
		name[i] = (char)tolower((unsigned char)name[i]);
	return name;
}

static int
feed_name_in(const char *name, const char *const *list)
{
	for (; *list != NULL; list++) {
		if (strcmp(name, *list) == 0)
			return 1;
	}
	return 0;
}

/*
 * Decode a document to UTF-8 without its BOM, noting the encoding used in
 * f->encoding.  The BOM or the byte pattern of "<?" wins over the
 * declaration, as XML's appendix F says; an encoding iconv does not know
 * falls back to UTF-8.
 */
static void
feed_decode(const char *s, size_t n, struct feed *f, struct buf *out)
{
	static const char *const utf8[] = {"utf-8", "utf8", NULL};
	static const char *const latin[] = {"iso-8859-1", "iso8859-1", "latin1",
	    "latin-1", "l1", "iso_8859-1", "windows-1252", "cp1252", "us-ascii",
	    "ascii", "x-cp1252", NULL};
	const unsigned char *u = (const unsigned char *)s;
	const char *wide = NULL;
	char *decl;
	size_t skip = 0, unit = 1;
	iconv_t cd;

	if (n >= 4 && memcmp(u, "\xff\xfe\0\0", 4) == 0)
		wide = "utf-32le", skip = 4;
	else if (n >= 4 && memcmp(u, "\0\0\xfe\xff", 4) == 0)
		wide = "utf-32be", skip = 4;
	else if (n >= 4 && memcmp(u, "\0\0\0<", 4) == 0)
		wide = "utf-32be";
	else if (n >= 4 && memcmp(u, "<\0\0\0", 4) == 0)
		wide = "utf-32le";
	else if (n >= 2 && memcmp(u, "\xff\xfe", 2) == 0)
		wide = "utf-16le", skip = 2;
	else if (n >= 2 && memcmp(u, "\xfe\xff", 2) == 0)
		wide = "utf-16be", skip = 2;
	else if (n >= 4 && u[0] == 0 && u[1] == '<' && u[2] == 0)
		wide = "utf-16be";
	else if (n >= 4 && u[0] == '<' && u[1] == 0 && u[3] == 0)
		wide = "utf-16le";
	if (wide != NULL) {
		unit = wide[4] == '3' ? 4 : 2;
		f->encoding = xstrdup(wide);
		if ((cd = iconv_open("UTF-8", wide)) == (iconv_t)-1) {
			feed_from_utf8(s + skip, n - skip, out);
			f->bozo = 1;
			return;
		}
		if (feed_from_iconv(cd, s + skip, n - skip, unit, out))
			f->bozo = 1;
		iconv_close(cd);
		return;
	}

	if (n >= 3 && memcmp(u, "\xef\xbb\xbf", 3) == 0) {
		f->encoding = xstrdup("utf-8");
		if (feed_from_utf8(s + 3, n - 3, out))
			f->bozo = 1;
		return;
	}
	decl = feed_xml_declared(s, n);
	if (decl == NULL || feed_name_in(decl, utf8) ||
	    strncmp(decl, "utf-16", 6) == 0 ||
	    strncmp(decl, "utf-32", 6) == 0 || strncmp(decl, "ucs", 3) == 0) {
		/* No declaration, UTF-8, or a wide one the bytes belie. */
		if (decl != NULL && !feed_name_in(decl, utf8))
			f->bozo = 1;
		free(decl);
		f->encoding = xstrdup("utf-8");
		if (feed_from_utf8(s, n, out))
			f->bozo = 1;
		return;
	}
	if (feed_name_in(decl, latin)) {
		f->encoding = decl;
		feed_from_1252(s, n, out);
		return;
	}
	if ((cd = iconv_open("UTF-8", decl)) == (iconv_t)-1) {
		free(decl);
		f->bozo = 1;
		f->encoding = xstrdup("utf-8");
		feed_from_utf8(s, n, out);
		return;
	}
	f->encoding = decl;
	if (feed_from_iconv(cd, s, n, 1, out))
		f->bozo = 1;
	iconv_close(cd);
}

/* XML. */

static enum feed_ns
feed_ns_of(const char *name, const char **local)
{
	static const char *const rss[] = {"http://purl.org/rss/1.0/",
	    "http://my.netscape.com/rdf/simple/0.9/",
	    "http://backend.userland.com/rss2",
	    "http://backend.userland.com/rss",
	    "http://blogs.law.harvard.edu/tech/rss", NULL};
	const char *sp;
	size_t n, i;

	if ((sp = strchr(name, ' ')) == NULL) {
		*local = name;
		return FEED_NS_RSS;
	}
	*local = sp + 1;
	n = sp - name;
	for (i = 0; rss[i] != NULL; i++) {
		if (strlen(rss[i]) == n && memcmp(name, rss[i], n) == 0)
			return FEED_NS_RSS;
	}
#define FEED_NS_IS(uri) (n == sizeof(uri) - 1 && memcmp(name, uri, n) == 0)
	if (FEED_NS_IS("http://www.w3.org/2005/Atom"))
		return FEED_NS_ATOM;
	if (FEED_NS_IS(FEED_NS_RDF))
		return FEED_NS_RDFNS;
	if (FEED_NS_IS("http://purl.org/dc/elements/1.1/"))
		return FEED_NS_DC;
	if (FEED_NS_IS("http://purl.org/dc/terms/"))
		return FEED_NS_DCTERMS;
	if (FEED_NS_IS("http://purl.org/rss/1.0/modules/content/"))
		return FEED_NS_CONTENT;
#undef FEED_NS_IS
	return FEED_NS_OTHER;
}

static const char *
feed_attr(const char **attrs, const char *name)
{
	for (; attrs[0] != NULL; attrs += 2) {
		if (strcmp(attrs[0], name) == 0)
			return attrs[1];
	}
	return NULL;
}

static void
feed_xml_fail(struct feed_xml *x, int refuse, const char *msg)
{
	if (x->cause == NULL)
		x->cause = xstrdup(msg);
	x->refused |= refuse;
	XML_StopParser(x->p, XML_FALSE);
}

/* The type of a text construct from its type attribute. */
static enum feed_type
feed_type_of(const char **attrs, enum feed_type dflt)
{
	const char *t = feed_attr(attrs, "type");

	if (t == NULL || *t == '\0')
		return dflt;
	if (strcasecmp(t, "html") == 0 || strcasecmp(t, "text/html") == 0)
		return FEED_TYPE_HTML;
	if (strcasecmp(t, "text") == 0 || strncasecmp(t, "text/", 5) == 0)
		return FEED_TYPE_TEXT;
	if (strcasecmp(t, "xhtml") == 0 || strstr(t, "xml") != NULL)
		return FEED_TYPE_XHTML;
	return dflt;
}

/* Capture the text of the element just opened into *field. */
static void
feed_capture(struct feed_xml *x, char **field, enum feed_type type)
{
	if (*field != NULL)
		return;
	x->cap_depth = x->depth;
	x->cap_field = field;
	x->cap_date = NULL;
	x->cap_type = type;
	buf_reset(&x->cap);
}

static void
feed_capture_date(struct feed_xml *x, int64_t *date)
{
	if (*date != INT64_MIN)
		return;
	x->cap_depth = x->depth;
	x->cap_field = NULL;
	x->cap_date = date;
	x->cap_type = FEED_TYPE_DATE;
	buf_reset(&x->cap);
}

static char *
feed_trimmed(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/*
 * A copy of s[0..n) in which C1 controls (U+0080-U+009F) are read as the
 * windows-1252 characters their code means, as feedparser does: a feed that
 * has them meant curly quotes and dashes, never controls.
 */
static char *
feed_text_value(const char *s, size_t n)
{
	struct buf b;
	size_t i;
	unsigned char c;

	buf_init(&b);
	buf_add(&b, "", 0);
	for (i = 0; i < n; i++) {
		c = i + 1 < n ? (unsigned char)s[i + 1] : 0;
		if ((unsigned char)s[i] == 0xc2 && c >= 0x80 && c < 0xa0) {
			buf_add_utf8(&b, feed_cp1252[c - 0x80]);
			i++;
		} else
			buf_add_byte(&b, s[i]);
	}
	return buf_detach(&b, NULL);
}

/* The captured element has ended: make its value. */
static void
feed_capture_end(struct feed_xml *x)
{
	struct buf out;
	int64_t t;
	char *s;

	x->cap_depth = 0;
	switch (x->cap_type) {
	case FEED_TYPE_DATE:
		s = feed_trimmed(x->cap.data, x->cap.len);
		if (feed_parse_date(s, &t) == 0)
			*x->cap_date = t;
		free(s);
		return;
	case FEED_TYPE_URI:
		*x->cap_field = feed_trimmed(x->cap.data, x->cap.len);
		return;
	case FEED_TYPE_TEXT:
		*x->cap_field = feed_text_value(x->cap.data, x->cap.len);
		return;
	case FEED_TYPE_HTML:
	case FEED_TYPE_XHTML:
		buf_init(&out);
		html_extract(x->cap.data, x->cap.len, &out, NULL);
		while (out.len > 0 && out.data[out.len - 1] == '\n')
			out.len--;
		*x->cap_field = feed_text_value(out.data, out.len);
		buf_release(&out);
		return;
	}
}

/* Nested markup inside an HTML or XHTML value, kept as tags for html.c. */
static void
feed_capture_tag(struct feed_xml *x, const char *name, int end)
{
	const char *local;

	if (x->cap_type != FEED_TYPE_HTML && x->cap_type != FEED_TYPE_XHTML)
		return;
	feed_ns_of(name, &local);
	buf_add_str(&x->cap, end ? "</" : "<");
	buf_add_str(&x->cap, local);
	buf_add_byte(&x->cap, '>');
}

static void
feed_root(struct feed_xml *x, enum feed_ns ns, const char *local)
{
	if (ns == FEED_NS_RSS && strcmp(local, "rss") == 0)
		x->f->format = FEED_RSS2;
	else if (ns == FEED_NS_RSS && strcmp(local, "channel") == 0) {
		x->f->format = FEED_RSS2;
		x->stack[1] = FEED_ELEM_CHANNEL;
		return;
	} else if (ns == FEED_NS_RDFNS && strcmp(local, "RDF") == 0)
		x->f->format = FEED_RSS1;
	else if (ns == FEED_NS_ATOM && strcmp(local, "feed") == 0)
		x->f->format = FEED_ATOM;
	else {
		feed_xml_fail(x, 1,
		    "not a feed: the root element is not "
		    "rss, rdf:RDF or an Atom feed");
		return;
	}
	x->stack[1] = FEED_ELEM_ROOT;
}

/* An Atom link: the alternate one (rel absent or "alternate") counts. */
static void
feed_atom_link(struct feed_xml *x, const char **attrs, char **field)
{
	const char *rel = feed_attr(attrs, "rel"), *href;

	if (*field != NULL || (rel != NULL && strcmp(rel, "alternate") != 0))
		return;
	if ((href = feed_attr(attrs, "href")) != NULL)
		*field = feed_trimmed(href, strlen(href));
	else
		feed_capture(x, field, FEED_TYPE_URI);
}

/* An element inside an RSS item or an Atom entry. */
static void
feed_entry_elem(
    struct feed_xml *x, enum feed_ns ns, const char *local, const char **attrs)
{
	struct feed_entry *e = x->entry;
	const char *v;

	if (ns == FEED_NS_ATOM ||
	    (ns == FEED_NS_RSS && x->f->format == FEED_ATOM)) {
		if (strcmp(local, "title") == 0)
			feed_capture(
			    x, &e->title, feed_type_of(attrs, FEED_TYPE_TEXT));
		else if (strcmp(local, "summary") == 0)
			feed_capture(x, &e->summary,
			    feed_type_of(attrs, FEED_TYPE_TEXT));
		else if (strcmp(local, "content") == 0 &&
		         feed_attr(attrs, "src") == NULL)
			feed_capture(x, &e->content,
			    feed_type_of(attrs, FEED_TYPE_TEXT));
		else if (strcmp(local, "id") == 0)
			feed_capture(x, &e->id, FEED_TYPE_URI);
		else if (strcmp(local, "link") == 0)
			feed_atom_link(x, attrs, &e->link);
		else if (strcmp(local, "published") == 0 ||
		         strcmp(local, "issued") == 0)
			feed_capture_date(x, &e->published);
		else if (strcmp(local, "updated") == 0 ||
		         strcmp(local, "modified") == 0)
			feed_capture_date(x, &e->updated);
		return;
	}
	switch (ns) {
	case FEED_NS_RSS:
		if (strcmp(local, "title") == 0)
			feed_capture(
			    x, &e->title, feed_type_of(attrs, FEED_TYPE_TEXT));
		else if (strcmp(local, "link") == 0)
			feed_capture(x, &e->link, FEED_TYPE_URI);
		else if (strcmp(local, "description") == 0)
			feed_capture(x, &e->summary,
			    feed_type_of(attrs, FEED_TYPE_HTML));
		else if (strcmp(local, "guid") == 0) {
			v = feed_attr(attrs, "isPermaLink");
			if (e->id == NULL &&
			    (v == NULL || strcasecmp(v, "false") != 0))
				feed_capture(x, &x->guid_link, FEED_TYPE_URI);
			else
				feed_capture(x, &e->id, FEED_TYPE_URI);
		} else if (strcmp(local, "pubDate") == 0)
			feed_capture_date(x, &e->published);
		break;
	case FEED_NS_DC:
		if (strcmp(local, "title") == 0)
			feed_capture(x, &e->title, FEED_TYPE_TEXT);
		else if (strcmp(local, "description") == 0)
			feed_capture(x, &e->summary, FEED_TYPE_HTML);
		else if (strcmp(local, "date") == 0)
			feed_capture_date(x, &e->updated);
		break;
	case FEED_NS_DCTERMS:
		if (strcmp(local, "issued") == 0)
			feed_capture_date(x, &e->published);
		else if (strcmp(local, "modified") == 0)
			feed_capture_date(x, &e->updated);
		break;
	case FEED_NS_CONTENT:
		if (strcmp(local, "encoded") == 0)
			feed_capture(x, &e->content, FEED_TYPE_HTML);
		break;
	default:
		break;
	}
}

/* An element of the channel (RSS) or the feed (Atom) itself. */
static void
feed_channel_elem(
    struct feed_xml *x, enum feed_ns ns, const char *local, const char **attrs)
{
	struct feed *f = x->f;

	if (f->format == FEED_ATOM) {
		if (ns != FEED_NS_ATOM)
			return;
		if (strcmp(local, "title") == 0)
			feed_capture(
			    x, &f->title, feed_type_of(attrs, FEED_TYPE_TEXT));
		else if (strcmp(local, "link") == 0)
			feed_atom_link(x, attrs, &f->link);
		return;
	}
	if ((ns == FEED_NS_RSS || ns == FEED_NS_DC) &&
	    strcmp(local, "title") == 0)
		feed_capture(x, &f->title, feed_type_of(attrs, FEED_TYPE_TEXT));
	else if (ns == FEED_NS_RSS && strcmp(local, "link") == 0)
		feed_capture(x, &f->link, FEED_TYPE_URI);
}

static int
feed_is_entry(struct feed_xml *x, enum feed_ns ns, const char *local)
{
	if (x->f->format == FEED_ATOM)
		return ns == FEED_NS_ATOM && strcmp(local, "entry") == 0;
	return ns == FEED_NS_RSS && strcmp(local, "item") == 0;
}

static void
feed_start_cb(void *arg, const char *name, const char **attrs)
{
	struct feed_xml *x = arg;
	enum feed_elem parent;
	enum feed_ns ns;
	const char *local, *about;

	if (++x->depth > WL_MAX_FEED_DEPTH) {
		feed_xml_fail(x, 1, "elements nested too deeply");
		return;
	}
	x->stack[x->depth] = FEED_ELEM_IGNORE;
	if (x->cap_depth != 0) {
		feed_capture_tag(x, name, 0);
		return;
	}
	ns = feed_ns_of(name, &local);
	if (x->depth == 1) {
		feed_root(x, ns, local);
		return;
	}
	parent = x->stack[x->depth - 1];
	if ((parent == FEED_ELEM_ROOT || parent == FEED_ELEM_CHANNEL) &&
	    x->entry == NULL && feed_is_entry(x, ns, local)) {
		x->stack[x->depth] = FEED_ELEM_ENTRY;
		x->entry = feed_add_entry(x->f);
		about = feed_attr(attrs, FEED_NS_RDF " about");
		if (about != NULL)
			x->entry->id = feed_trimmed(about, strlen(about));
		return;
	}
	switch (parent) {
	case FEED_ELEM_ROOT:
		if (x->f->format != FEED_ATOM) {
			if (ns == FEED_NS_RSS && strcmp(local, "channel") == 0)
				x->stack[x->depth] = FEED_ELEM_CHANNEL;
			return;
		}
		feed_channel_elem(x, ns, local, attrs);
		break;
	case FEED_ELEM_CHANNEL:
		feed_channel_elem(x, ns, local, attrs);
		break;
	case FEED_ELEM_ENTRY:
		feed_entry_elem(x, ns, local, attrs);
		break;
	default:
		break;
	}
}

static void
feed_end_cb(void *arg, const char *name)
{
	struct feed_xml *x = arg;
	struct feed_entry *e;

	if (x->cap_depth != 0 && x->depth > x->cap_depth)
		feed_capture_tag(x, name, 1);
	else if (x->cap_depth == x->depth)
		feed_capture_end(x);
	else if (x->stack[x->depth] == FEED_ELEM_ENTRY &&
	         (e = x->entry) != NULL) {
		/* A permalink guid is the link if there is none. */
		if (x->guid_link != NULL) {
			if (e->link == NULL)
				e->link = xstrdup(x->guid_link);
			if (e->id == NULL)
				e->id = x->guid_link;
			else
				free(x->guid_link);
			x->guid_link = NULL;
		}
		x->entry = NULL;
	}
	x->depth--;
}

static void
feed_text_cb(void *arg, const char *s, int len)
{
	struct feed_xml *x = arg;
	int i, start = 0;

	if (x->cap_depth == 0)
		return;
	if (x->cap_type != FEED_TYPE_XHTML) {
		buf_add(&x->cap, s, len);
		return;
	}
	/* Text of inline XHTML is text: escape it for html.c. */
	for (i = 0; i < len; i++) {
		if (s[i] != '<' && s[i] != '&')
			continue;
		buf_add(&x->cap, s + start, i - start);
		buf_add_str(&x->cap, s[i] == '<' ? "&lt;" : "&amp;");
		start = i + 1;
	}
	buf_add(&x->cap, s + start, len - start);
}

static void
feed_doctype_cb(void *arg, const char *name, const char *sysid,
    const char *pubid, int has_internal_subset)
{
	feed_xml_fail(arg, 1, "DOCTYPE is refused");
}

static void
feed_entity_cb(void *arg, const char *name, int is_param, const char *value,
    int value_length, const char *base, const char *sysid, const char *pubid,
    const char *notation)
{
	feed_xml_fail(arg, 1, "entity declarations are refused");
}

/* One pass of expat over UTF-8 text; 0, or -1 with x->cause set. */
static int
feed_xml_pass(struct feed_xml *x, const char *s, size_t n)
{
	int rc = 0;

	x->p = XML_ParserCreateNS("UTF-8", ' ');
	if (x->p == NULL) {
		x->cause = xstrdup("cannot create an XML parser");
		return -1;
	}
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, feed_start_cb, feed_end_cb);
	XML_SetCharacterDataHandler(x->p, feed_text_cb);
	XML_SetStartDoctypeDeclHandler(x->p, feed_doctype_cb);
	XML_SetEntityDeclHandler(x->p, feed_entity_cb);
	XML_SetParamEntityParsing(x->p, XML_PARAM_ENTITY_PARSING_NEVER);
	if (XML_Parse(x->p, s, (int)n, 1) == XML_STATUS_ERROR) {
		if (x->cause == NULL)
			x->cause = xasprintf("line %lu: %s",
			    (unsigned long)XML_GetCurrentLineNumber(x->p),
			    XML_ErrorString(XML_GetErrorCode(x->p)));
		rc = -1;
	}
	XML_ParserFree(x->p);
	x->p = NULL;
	return rc;
}

static void
feed_xml_reset(struct feed_xml *x)
{
	char *enc = x->f->encoding;
	int bozo = x->f->bozo;

	x->f->encoding = NULL;
	feed_release(x->f);
	x->f->encoding = enc;
	x->f->bozo = bozo;
	free(x->cause);
	free(x->guid_link);
	x->cause = NULL;
	x->guid_link = NULL;
	x->refused = 0;
	x->depth = 0;
	x->entry = NULL;
	x->cap_depth = 0;
}

/* Whether s[0..n) starts with a well-formed XML character reference. */
static size_t
feed_xml_charref(const char *s, size_t n)
{
	size_t i = 2;
	int hex;

	if (n < 4 || s[1] != '#')
		return 0;
	hex = s[2] == 'x';
	if (hex)
		i++;
	while (i < n && i < 12 &&
	       (hex ? isxdigit((unsigned char)s[i])
	            : isdigit((unsigned char)s[i])))
		i++;
	if (i == (size_t)(hex ? 3 : 2) || i >= n || s[i] != ';')
		return 0;
	return i + 1;
}

static int
feed_xml_char_ok(int32_t cp)
{
	return cp == 0x9 || cp == 0xa || cp == 0xd ||
	       (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) ||
	       (cp >= 0x10000 && cp <= 0x10ffff);
}

/* Append the code points of UTF-8 s[0..n) as XML character references. */
static void
feed_add_charrefs(struct buf *out, const char *s, size_t n)
{
	size_t i = 0;
	int32_t cp;

	while (i < n) {
		i += text_utf8_decode(s + i, n - i, &cp);
		if (cp < 0 || !feed_xml_char_ok(cp))
			cp = 0xfffd;
		buf_printf(out, "&#x%x;", (unsigned int)cp);
	}
}

/*
 * The two names whose meaning HTML5 changed: feeds were written against
 * XHTML 1.0's entity sets, where &lang; and &rang; are U+2329 and U+232A.
 */
static size_t
feed_xhtml_ref(const char *s, size_t n, struct buf *out)
{
	if (n >= 6 && memcmp(s, "&lang;", 6) == 0) {
		buf_add_utf8(out, 0x2329);
		return 6;
	}
	if (n >= 6 && memcmp(s, "&rang;", 6) == 0) {
		buf_add_utf8(out, 0x232a);
		return 6;
	}
	return 0;
}

/*
 * Repair what real feeds get wrong about '&' and return whether anything
 * changed: an HTML entity XML does not know (&nbsp;) becomes character
 * references, a '&' that starts no reference becomes &amp;, a character
 * reference XML refuses (&#X61;, &#0;) is rewritten.  CDATA sections,
 * comments and processing instructions are left alone; an XML declaration
 * that is not at the start is dropped.
 */
static int
feed_repair(const char *s, size_t n, struct buf *out)
{
	static const char *const xml_names[] = {
	    "amp;", "lt;", "gt;", "quot;", "apos;"};
	const char *end;
	struct buf tmp;
	size_t i = 0, k, j;
	int changed = 0, known;
	unsigned long cp;

	buf_init(&tmp);
	while (i < n) {
		if (s[i] == '<' && i + 9 <= n &&
		    memcmp(s + i, "<![CDATA[", 9) == 0)
			end = memmem(s + i, n - i, "]]>", 3);
		else if (s[i] == '<' && i + 4 <= n &&
		         memcmp(s + i, "<!--", 4) == 0)
			end = memmem(s + i + 4, n - i - 4, "-->", 3);
		else if (s[i] == '<' && i + 1 < n && s[i + 1] == '?') {
			end = memmem(s + i, n - i, "?>", 2);
			if (i > 0 && end != NULL && n - i > 6 &&
			    memcmp(s + i, "<?xml", 5) == 0 &&
			    isspace((unsigned char)s[i + 5])) {
				i = end + 2 - s;
				changed = 1;
				continue;
			}
		} else if (s[i] == '&') {
			known = 0;
			for (j = 0; j < 5; j++) {
				k = strlen(xml_names[j]);
				if (n - i - 1 >= k &&
				    memcmp(s + i + 1, xml_names[j], k) == 0)
					known = 1;
			}
			if (known) {
				buf_add_byte(out, '&');
				i++;
				continue;
			}
			if ((k = feed_xml_charref(s + i, n - i)) != 0) {
				cp = strtoul(s + i + (s[i + 2] == 'x' ? 3 : 2),
				    NULL, s[i + 2] == 'x' ? 16 : 10);
				if (cp <= 0x10ffff &&
				    feed_xml_char_ok((int32_t)cp)) {
					buf_add(out, s + i, k);
					i += k;
					continue;
				}
			}
			changed = 1;
			buf_reset(&tmp);
			if ((k = feed_xhtml_ref(s + i, n - i, &tmp)) != 0 ||
			    (k = html_decode_ref(s + i, n - i, &tmp, 1)) != 0) {
				feed_add_charrefs(out, tmp.data, tmp.len);
				i += k;
			} else {
				buf_add_str(out, "&amp;");
				i++;
			}
			continue;
		} else {
			buf_add_byte(out, s[i++]);
			continue;
		}
		k = end == NULL ? n
		                : (size_t)(end - s) + (s[i + 1] == '?' ? 2 : 3);
		buf_add(out, s + i, k - i);
		i = k;
	}
	buf_release(&tmp);
	return changed;
}

static int
feed_parse_xml(const char *data, size_t len, struct feed *f, char **cause)
{
	struct feed_xml x;
	struct buf text, fixed;
	int rc;

	memset(&x, 0, sizeof x);
	x.f = f;
	buf_init(&x.cap);
	buf_add(&x.cap, "", 0);
	buf_init(&text);
	buf_init(&fixed);
	feed_decode(data, len, f, &text);

	rc = feed_xml_pass(&x, text.data, text.len);
	if (rc != 0 && !x.refused && feed_repair(text.data, text.len, &fixed)) {
		feed_xml_reset(&x);
		f->bozo = 1;
		rc = feed_xml_pass(&x, fixed.data, fixed.len);
	}
	if (rc != 0 && !x.refused && f->format != FEED_UNKNOWN) {
		/* Broken beyond repair: keep what came before the error. */
		f->bozo = 1;
		rc = 0;
	}
	if (rc != 0) {
		*cause = x.cause;
		x.cause = NULL;
	}
	free(x.cause);
	free(x.guid_link);
	buf_release(&x.cap);
	buf_release(&text);
	buf_release(&fixed);
	return rc;
}

/* JSON Feed. */

static char *
feed_json_string(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (cJSON_IsString(v) && v->valuestring != NULL)
		return xstrdup(v->valuestring);
	return NULL;
}

static char *
feed_json_html(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	struct buf out;
	char *s;

	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return NULL;
	buf_init(&out);
	html_extract(v->valuestring, strlen(v->valuestring), &out, NULL);
	while (out.len > 0 && out.data[out.len - 1] == '\n')
		out.len--;
	s = xstrndup(out.data, out.len);
	buf_release(&out);
	return s;
}

static void
feed_json_date(const cJSON *obj, const char *key, int64_t *t)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (cJSON_IsString(v) && v->valuestring != NULL &&
	    feed_parse_date(v->valuestring, t) != 0)
		*t = INT64_MIN;
}

static int
feed_parse_json(const char *data, size_t len, struct feed *f, char **cause)
{
	const cJSON *version, *items, *item, *id;
	struct feed_entry *e;
	cJSON *root;

	if ((root = cJSON_ParseWithLength(data, len)) == NULL) {
		*cause = xstrdup("not valid JSON");
		return -1;
	}
	version = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!cJSON_IsString(version) || version->valuestring == NULL ||
	    strstr(version->valuestring, "jsonfeed.org/version/") == NULL) {
		cJSON_Delete(root);
		*cause = xstrdup("not a JSON Feed: no jsonfeed.org version");
		return -1;
	}
	f->format = FEED_JSON;
	f->encoding = xstrdup("utf-8");
	f->title = feed_json_string(root, "title");
	f->link = feed_json_string(root, "home_page_url");
	items = cJSON_GetObjectItemCaseSensitive(root, "items");
	cJSON_ArrayForEach(item, items)
	{
		if (!cJSON_IsObject(item))
			continue;
		e = feed_add_entry(f);
		id = cJSON_GetObjectItemCaseSensitive(item, "id");
		if (cJSON_IsString(id) && id->valuestring != NULL)
			e->id = xstrdup(id->valuestring);
		else if (cJSON_IsNumber(id))
			e->id = xasprintf("%.17g", id->valuedouble);
		e->link = feed_json_string(item, "url");
		e->title = feed_json_string(item, "title");
		e->summary = feed_json_string(item, "summary");
		if ((e->content = feed_json_html(item, "content_html")) == NULL)
			e->content = feed_json_string(item, "content_text");
		feed_json_date(item, "date_published", &e->published);
		feed_json_date(item, "date_modified", &e->updated);
	}
	cJSON_Delete(root);
	return 0;
}

/* Skip a UTF-8 BOM and white space. */
static size_t
feed_skip_space(const char *s, size_t n)
{
	size_t i = 0;

	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n && isspace((unsigned char)s[i]))
		i++;
	return i;
}

int
feed_parse(const char *data, size_t len, struct feed *out, char **cause)
{
	size_t i;

	memset(out, 0, sizeof *out);
	*cause = NULL;
	if (len > WL_MAX_FEED_BYTES) {
		*cause = xasprintf("larger than %d bytes", WL_MAX_FEED_BYTES);
		return -1;
	}
	i = feed_skip_space(data, len);
	if (i == len) {
		*cause = xstrdup("empty document");
		return -1;
	}
	if (data[i] == '{')
		return feed_parse_json(data, len, out, cause);
	if (feed_parse_xml(data, len, out, cause) != 0) {
		feed_release(out);
		return -1;
	}
	return 0;
}

int
feed_sniff(const char *data, size_t len)
{
	static const char *const roots[] = {
	    "<rss", "<feed", ":RDF", "<RDF", "<channel"};
	char head[4096];
	size_t i, n = 0;

	i = feed_skip_space(data, len);
	if (i < len && data[i] == '{')
		return memmem(data, len, "jsonfeed.org", 12) != NULL;
	/* NUL bytes dropped, so that UTF-16 and UTF-32 read as ASCII. */
	for (; i < len && n < sizeof head - 1; i++) {
		if (data[i] != '\0')
			head[n++] = data[i];
	}
	head[n] = '\0';
	i = n > 0 && (unsigned char)head[0] >= 0x80 ? 2 : 0;
	if (i >= n || head[i] != '<')
		return 0;
	for (i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		if (strstr(head, roots[i]) != NULL)
			return 1;
	}
	return 0;
}
