/*
 * Unit tests for feed.c: the sample news feeds in every format, hostile and
 * broken documents, encodings, and the date vectors of dates.tsv.
 *
 * Run from the top of the tree, or set WL_TEST_DATA to tests/data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "feed.h"
#include "options.h"
#include "xmalloc.h"

static const struct {
	const char *txt;
	const char *title;
	const char *id;
	const char *published;
} news[] = {
    {"000_6ba9beb84179ce87", "Why Europe should worry about ISIS in Libya",
        "tag:news.example,2015-02-21:article-1", "2015-02-21T14:30:00Z"},
    {"001_68caa0ef9efdfef0",
        "Anti-ISIS summit highlights worries over newest stronghold",
        "tag:news.example,2016-02-02:article-2", "2016-02-02T17:05:00Z"},
    {"002_897c095e41a2e50a",
        "Report: 500 Islamic State Jihadis Fueling Resurgence on "
        "Europe\xe2\x80\x99s "
        "Doorstep, Libya",
        "tag:news.example,2017-09-19:article-3", "2017-09-19T09:12:00Z"},
    {"003_44c4ca57788054d7",
        "Islamic State Determined to Occupy European Port City",
        "tag:news.example,2016-01-24:article-4", "2016-01-24T10:00:00Z"},
    {"004_6769e2d0d0efb142",
        "Libyan airstrikes against Islamic State as Threat To Europe Grows",
        "tag:news.example,2015-05-06:article-5", "2015-05-06T16:45:00Z"},
};

static char *
data_path(const char *rel)
{
	const char *dir = getenv("WL_TEST_DATA");

	return xasprintf("%s/%s", dir != NULL ? dir : "tests/data", rel);
}

static char *
read_file(const char *rel, size_t *len)
{
	char *path = data_path(rel), *data;
	FILE *f;
	long n;

	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	data = xmalloc((size_t)n + 1);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	free(path);
	*len = (size_t)n;
	return data;
}

/* s with runs of ASCII white space made one space, and trimmed. */
static char *
collapse(const char *s)
{
	char *out = xmalloc(strlen(s) + 1);
	size_t o = 0;
	int space = 0;

	for (; *s != '\0'; s++) {
		if (strchr(" \t\n\r\f", *s) != NULL) {
			space = o > 0;
			continue;
		}
		if (space)
			out[o++] = ' ';
		space = 0;
		out[o++] = *s;
	}
	out[o] = '\0';
	return out;
}

static int
parse_str(const char *s, struct feed *f)
{
	char *cause = NULL;
	int rc;

	rc = feed_parse(s, strlen(s), f, &cause);
	free(cause);
	return rc;
}

static void
check_news(const char *file, enum feed_format format)
{
	char *data, *txt, *want, *got, *all, date[FEED_DATE_LEN], *rel;
	const struct feed_entry *e;
	struct feed f;
	size_t len, i;
	char *cause = NULL;

	data = read_file(file, &len);
	assert_int_equal(feed_parse(data, len, &f, &cause), 0);
	assert_null(cause);
	assert_int_equal(f.format, format);
	assert_int_equal(f.bozo, 0);
	assert_int_equal(f.nentries, 5);
	assert_string_equal(f.link, "https://news.example/");
	for (i = 0; i < 5; i++) {
		e = &f.entries[i];
		assert_string_equal(e->title, news[i].title);
		assert_string_equal(e->id, news[i].id);
		got = xasprintf("https://news.example/a/%zu", i + 1);
		assert_string_equal(e->link, got);
		free(got);
		assert_int_equal(
		    feed_format_date(e->published, date, sizeof date), 0);
		assert_string_equal(date, news[i].published);

		/* Title and body are the article's text, less page chrome. */
		rel = xasprintf("news/%s.txt", news[i].txt);
		txt = read_file(rel, &len);
		want = collapse(txt);
		all = xasprintf("%s %s", e->title,
		    e->content != NULL ? e->content : e->summary);
		got = collapse(all);
		assert_true(strlen(want) >= strlen(got));
		assert_string_equal(want + strlen(want) - strlen(got), got);
		free(rel);
		free(txt);
		free(want);
		free(all);
		free(got);
	}
	feed_release(&f);
	free(data);
}

static void
test_news_rss(void **state)
{
	check_news("feeds/news.rss", FEED_RSS2);
}

static void
test_news_atom(void **state)
{
	check_news("feeds/news.atom", FEED_ATOM);
}

static void
test_news_json(void **state)
{
	check_news("feeds/news.json", FEED_JSON);
}

static void
assert_refused(const char *doc, const char *why)
{
	struct feed f;
	char *cause = NULL;

	assert_int_equal(feed_parse(doc, strlen(doc), &f, &cause), -1);
	assert_non_null(cause);
	if (why != NULL && strstr(cause, why) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause, why);
	assert_int_equal(f.nentries, 0);
	feed_release(&f);
	free(cause);
}

static void
test_doctype_refused(void **state)
{
	assert_refused("<?xml version=\"1.0\"?>\n"
	               "<!DOCTYPE lolz [\n"
	               " <!ENTITY lol \"lol\">\n"
	               " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	               " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	               "]>\n"
	               "<rss><channel><title>&lol3;</title></channel></rss>",
	    "DOCTYPE is refused");
	assert_refused("<!DOCTYPE rss [<!ENTITY xxe SYSTEM "
	               "\"file:///etc/passwd\">]>"
	               "<rss><channel><item><title>&xxe;</title></item>"
	               "</channel></rss>",
	    "DOCTYPE is refused");
	assert_refused("<!DOCTYPE rss SYSTEM \"http://evil.example/x.dtd\">"
	               "<rss><channel/></rss>",
	    "DOCTYPE is refused");
}

static void
test_not_a_feed(void **state)
{
	assert_refused("", "empty");
	assert_refused("   \n", "empty");
	assert_refused("<html><body>x</body></html>", "not a feed");
	assert_refused("{\"a\":1}", "JSON Feed");
	assert_refused("{\"version\":", "JSON");
	assert_refused("garbage", NULL);
}

static void
test_undeclared_entities(void **state)
{
	struct feed f;

	assert_int_equal(
	    parse_str("<rss version=\"2.0\"><channel>"
	              "<title>caf&eacute;&nbsp;AT&T</title>"
	              "<item><title>Q&amp;A &copy; &hellip;</title>"
	              "<link>http://x.example/?a=1&b=2</link></item>"
	              "<item><title>two</title></item>"
	              "</channel></rss>",
	        &f),
	    0);
	assert_int_equal(f.bozo, 1);
	assert_string_equal(f.title, "caf\xc3\xa9\xc2\xa0"
	                             "AT&T");
	assert_int_equal(f.nentries, 2);
	assert_string_equal(f.entries[0].title, "Q&A \xc2\xa9 \xe2\x80\xa6");
	assert_string_equal(f.entries[0].link, "http://x.example/?a=1&b=2");
	feed_release(&f);
}

static void
test_truncated(void **state)
{
	struct feed f;

	assert_int_equal(parse_str("<rss><channel><title>t</title>"
	                           "<item><title>one</title></item>"
	                           "<item><title>tw",
	                     &f),
	    0);
	assert_int_equal(f.bozo, 1);
	assert_string_equal(f.title, "t");
	assert_true(f.nentries >= 1);
	assert_string_equal(f.entries[0].title, "one");
	feed_release(&f);
}

static void
test_windows_1252(void **state)
{
	static const char doc[] =
	    "<?xml version=\"1.0\" encoding=\"windows-1252\"?>"
	    "<rss><channel><item><title>don\x92t \x80 caf\xe9</title>"
	    "</item></channel></rss>";
	struct feed f;

	assert_int_equal(parse_str(doc, &f), 0);
	assert_string_equal(f.encoding, "windows-1252");
	assert_int_equal(f.bozo, 0);
	assert_int_equal(f.nentries, 1);
	assert_string_equal(
	    f.entries[0].title, "don\xe2\x80\x99t \xe2\x82\xac caf\xc3\xa9");
	feed_release(&f);
}

static void
test_utf16(void **state)
{
	static const char ascii[] =
	    "<?xml version=\"1.0\" encoding=\"utf-16\"?>"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title>"
	    "<entry><title>\xc3\xa9t\xc3\xa9</title><id>x</id></entry></feed>";
	struct buf b;
	struct feed f;
	char *cause = NULL;
	size_t i;
	int le;

	for (le = 0; le < 2; le++) {
		buf_init(&b);
		buf_add(&b, le ? "\xff\xfe" : "\xfe\xff", 2);
		for (i = 0; ascii[i] != '\0'; i++) {
			/* é is the only non-ASCII character: U+00E9. */
			unsigned char c = (unsigned char)ascii[i];
			if (c == 0xc3) {
				c = 0xe9;
				i++;
			}
			if (le) {
				buf_add_byte(&b, (char)c);
				buf_add_byte(&b, 0);
			} else {
				buf_add_byte(&b, 0);
				buf_add_byte(&b, (char)c);
			}
		}
		assert_int_equal(feed_parse(b.data, b.len, &f, &cause), 0);
		assert_string_equal(f.encoding, le ? "utf-16le" : "utf-16be");
		assert_int_equal(f.format, FEED_ATOM);
		assert_string_equal(f.title, "T");
		assert_int_equal(f.nentries, 1);
		assert_string_equal(f.entries[0].title, "\xc3\xa9t\xc3\xa9");
		assert_string_equal(f.entries[0].id, "x");
		feed_release(&f);
		buf_release(&b);
	}
}

static void
test_text_constructs(void **state)
{
	struct feed f;

	assert_int_equal(
	    parse_str(
	        "<feed xmlns=\"http://www.w3.org/2005/Atom\">"
	        "<entry><title type=\"text\">a &lt;b&gt; tag</title>"
	        "<summary type=\"html\">&lt;p&gt;x&lt;/p&gt;&lt;script&gt;"
	        "evil()&lt;/script&gt;</summary>"
	        "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/"
	        "1999/xhtml\"><p>one</p><p>two &lt;3</p></div></content>"
	        "<link rel=\"enclosure\" href=\"http://x/e.mp3\"/>"
	        "<link href=\"http://x/a\"/></entry></feed>",
	        &f),
	    0);
	assert_int_equal(f.nentries, 1);
	assert_string_equal(f.entries[0].title, "a <b> tag");
	assert_string_equal(f.entries[0].summary, "x");
	assert_string_equal(f.entries[0].content, "one\ntwo <3");
	assert_string_equal(f.entries[0].link, "http://x/a");
	feed_release(&f);
}

static void
test_rss_guid(void **state)
{
	struct feed f;

	assert_int_equal(
	    parse_str(
	        "<rss version=\"2.0\"><channel>"
	        "<image><title>img</title><link>http://img/</link></image>"
	        "<title>real</title><link>http://real/</link>"
	        "<item><guid isPermaLink=\"false\">abc</guid></item>"
	        "<item><guid>http://g/</guid></item>"
	        "<item><guid>http://g/</guid><link>http://l/</link></item>"
	        "</channel></rss>",
	        &f),
	    0);
	assert_string_equal(f.title, "real");
	assert_string_equal(f.link, "http://real/");
	assert_int_equal(f.nentries, 3);
	assert_null(f.entries[0].link);
	assert_string_equal(f.entries[0].id, "abc");
	assert_string_equal(f.entries[1].link, "http://g/");
	assert_string_equal(f.entries[1].id, "http://g/");
	assert_string_equal(f.entries[2].link, "http://l/");
	feed_release(&f);
}

static void
test_deep_nesting(void **state)
{
	struct buf b;
	struct feed f;
	char *cause = NULL;
	int i;

	buf_init(&b);
	buf_add_str(&b, "<rss><channel><item><description>");
	for (i = 0; i < WL_MAX_FEED_DEPTH + 10; i++)
		buf_add_str(&b, "<div>");
	buf_add_str(&b, "x");
	for (i = 0; i < WL_MAX_FEED_DEPTH + 10; i++)
		buf_add_str(&b, "</div>");
	buf_add_str(&b, "</description></item></channel></rss>");
	assert_int_equal(feed_parse(b.data, b.len, &f, &cause), -1);
	assert_non_null(strstr(cause, "nested too deeply"));
	free(cause);
	feed_release(&f);
	buf_release(&b);
}

static void
test_too_large(void **state)
{
	struct feed f;
	char *cause = NULL, *big;

	big = xcalloc(1, (size_t)WL_MAX_FEED_BYTES + 2);
	memset(big, ' ', (size_t)WL_MAX_FEED_BYTES + 1);
	big[0] = '<';
	assert_int_equal(
	    feed_parse(big, (size_t)WL_MAX_FEED_BYTES + 1, &f, &cause), -1);
	assert_non_null(strstr(cause, "larger than"));
	free(cause);
	free(big);
}

/* Random bytes, and random damage to a real feed, never crash. */
static void
test_garbage(void **state)
{
	static const char *const seeds[] = {
	    "feeds/news.rss", "feeds/news.atom", "feeds/news.json"};
	unsigned int seed = 12345;
	struct feed f;
	char *cause, *data, *copy, buf[512];
	size_t len, i, j, n;
	int rc;

	for (i = 0; i < 2000; i++) {
		n = (size_t)(rand_r(&seed) % sizeof buf);
		for (j = 0; j < n; j++)
			buf[j] = (char)(rand_r(&seed) & 0xff);
		if (n > 0 && i % 3 == 0)
			buf[0] = '<';
		cause = NULL;
		rc = feed_parse(buf, n, &f, &cause);
		assert_true(rc == 0 || cause != NULL);
		feed_release(&f);
		free(cause);
	}
	for (i = 0; i < 3; i++) {
		data = read_file(seeds[i], &len);
		copy = xmalloc(len);
		for (j = 0; j < 100; j++) {
			memcpy(copy, data, len);
			for (n = 0; n < 20; n++)
				copy[rand_r(&seed) % len] =
				    "<>&;\"'/!?x\0\xff"[rand_r(&seed) % 13];
			n = rand_r(&seed) % (len + 1);
			cause = NULL;
			rc = feed_parse(copy, n, &f, &cause);
			assert_true(rc == 0 || cause != NULL);
			feed_release(&f);
			free(cause);
		}
		free(copy);
		free(data);
	}
}

static void
test_name_and_sniff(void **state)
{
	assert_true(feed_name_is_feed("a.rss"));
	assert_true(feed_name_is_feed("a.XML"));
	assert_true(feed_name_is_feed("x.atom"));
	assert_true(feed_name_is_feed("x.json"));
	assert_false(feed_name_is_feed("x.txt"));
	assert_false(feed_name_is_feed(".rss"));
	assert_true(feed_sniff("<?xml version=\"1.0\"?><rss>", 26));
	assert_true(feed_sniff("\xef\xbb\xbf <feed xmlns=", 17));
	assert_true(feed_sniff(
	    "{\"version\":\"https://jsonfeed.org/version/1.1\"}", 46));
	assert_false(feed_sniff("<html><body>", 12));
	assert_false(feed_sniff("{\"a\":1}", 7));
	assert_false(feed_sniff("plain text", 10));
}

/* Every core and lenient row of dates.tsv; quirk rows are only shown. */
static void
test_dates_tsv(void **state)
{
	char *data, *line, *next, *col[4], got[FEED_DATE_LEN];
	size_t len;
	int64_t t;
	int i, checked = 0, quirks = 0, quirk_ok = 0, ok;

	data = read_file("feedparser/dates.tsv", &len);
	line = strchr(data, '\n') + 1; /* the header */
	for (; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		for (i = 0; i < 4; i++) {
			col[i] = line;
			line = strchr(line, '\t');
			assert_non_null(line);
			*line++ = '\0';
		}
		if (feed_parse_date(col[1], &t) == 0) {
			assert_int_equal(
			    feed_format_date(t, got, sizeof got), 0);
		} else
			strcpy(got, "invalid");
		ok = strcmp(got, col[2]) == 0;
		if (strcmp(col[3], "quirk") == 0) {
			quirks++;
			quirk_ok += ok;
			if (!ok)
				print_message(
				    "quirk %s \"%s\": %s, wanted %s\n", col[0],
				    col[1], got, col[2]);
			continue;
		}
		if (!ok)
			fail_msg("%s %s \"%s\": got %s, wanted %s", col[3],
			    col[0], col[1], got, col[2]);
		checked++;
	}
	print_message("dates.tsv: %d core+lenient rows pass, quirk %d/%d\n",
	    checked, quirk_ok, quirks);
	assert_int_equal(checked, 56);
	free(data);
}

static void
test_dates(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"Sat, 21 Feb 2015 14:30:00 GMT", "2015-02-21T14:30:00Z"},
	    {"21 Feb 2015 14:30 +0100", "2015-02-21T13:30:00Z"},
	    {"Tue, 02 Feb 2016 12:05:00 -0500", "2016-02-02T17:05:00Z"},
	    {"Tue, 02 Feb 16 12:05:00 EST", "2016-02-02T17:05:00Z"},
	    {"Tue, 02 Feb 2016 12:05:00 Z", "2016-02-02T12:05:00Z"},
	    {"Tue, 02 Feb 2016 12:05:00 A", "2016-02-02T13:05:00Z"},
	    {"2016-02-02T12:05:00.999-05:00", "2016-02-02T17:05:00Z"},
	    {"2016-02-02t12:05:00z", "2016-02-02T12:05:00Z"},
	    {"2016-02-02T12:05+01:00", "2016-02-02T11:05:00Z"},
	    {"  2016-02-02  ", "2016-02-02T00:00:00Z"},
	    {"Sun Jan  4 16:29:06 2004", "2004-01-04T16:29:06Z"},
	    {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
	    {"1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"},
	};
	static const char *const bad[] = {"", "x", "Feb 2016", "2016-13-01",
	    "2016-02-30", "Tue, 02 Feb 2016 12:05:00 XYZ", "12:05:00",
	    "2016-02-02T12", "Tue, 02 Feb 2016 12:05:00 J"};
	char got[FEED_DATE_LEN];
	int64_t t;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (feed_parse_date(cases[i].in, &t) != 0)
			fail_msg("\"%s\" not parsed", cases[i].in);
		assert_int_equal(feed_format_date(t, got, sizeof got), 0);
		assert_string_equal(got, cases[i].out);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (feed_parse_date(bad[i], &t) == 0)
			fail_msg("\"%s\" parsed", bad[i]);
	}
	assert_int_equal(feed_format_date(INT64_MIN, got, sizeof got), -1);
	assert_string_equal(got, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_news_rss),
	    cmocka_unit_test(test_news_atom),
	    cmocka_unit_test(test_news_json),
	    cmocka_unit_test(test_doctype_refused),
	    cmocka_unit_test(test_not_a_feed),
	    cmocka_unit_test(test_undeclared_entities),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_windows_1252),
	    cmocka_unit_test(test_utf16),
	    cmocka_unit_test(test_text_constructs),
	    cmocka_unit_test(test_rss_guid),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_name_and_sniff),
	    cmocka_unit_test(test_dates_tsv),
	    cmocka_unit_test(test_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
