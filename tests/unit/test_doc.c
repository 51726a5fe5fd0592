/*
 * Unit tests for doc.c: format detection, documents from bytes, loading
 * files and refusing what cannot be read, and the five news articles of
 * tests/data/news, whose HTML must give the text of their .txt.
 *
 * Run from the top of the tree, or set WL_TEST_DATA to tests/data.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "doc.h"
#include "xmalloc.h"

static char tmpdir[] = "/tmp/test_doc.XXXXXX";

static const struct {
	const char *base;
	const char *published;
} news[] = {
    {"000_6ba9beb84179ce87", "2015-02-21T14:30:00Z"},
    {"001_68caa0ef9efdfef0", "2016-02-02T12:05:00-05:00"},
    {"002_897c095e41a2e50a", "2017-09-19T05:12:00-04:00"},
    {"003_44c4ca57788054d7", "2016-01-24T11:00:00+01:00"},
    {"004_6769e2d0d0efb142", "2015-05-06T16:45:00Z"},
};

static int
group_setup(void **state)
{
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
remove_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
group_teardown(void **state)
{
	return nftw(tmpdir, remove_cb, 8, FTW_DEPTH | FTW_PHYS);
}

/* Write len bytes to a new file in tmpdir; returns its path. */
static char *
write_tmp(const char *name, const char *data, size_t len)
{
	char *path;
	FILE *f;

	path = xasprintf("%s/%s", tmpdir, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* The path of news article base with extension ext. */
static char *
news_path(const char *base, const char *ext)
{
	const char *dir = getenv("WL_TEST_DATA");

	return xasprintf(
	    "%s/news/%s%s", dir != NULL ? dir : "tests/data", base, ext);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* s[0..n) with runs of ASCII white space made one space, and trimmed. */
static char *
collapse(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t i, o = 0;
	int space = 0;

	for (i = 0; i < n; i++) {
		if (is_space(s[i])) {
			space = o > 0;
			continue;
		}
		if (space)
			out[o++] = ' ';
		space = 0;
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

static void
test_format_from_name(void **state)
{
	assert_int_equal(doc_format_from_name("a.html"), DOC_HTML);
	assert_int_equal(doc_format_from_name("a.htm"), DOC_HTML);
	assert_int_equal(doc_format_from_name("dir/A.HTML"), DOC_HTML);
	assert_int_equal(doc_format_from_name("x.HtM"), DOC_HTML);
	assert_int_equal(doc_format_from_name("a.txt"), DOC_TEXT);
	assert_int_equal(doc_format_from_name("html"), DOC_TEXT);
	assert_int_equal(doc_format_from_name("a.html.txt"), DOC_TEXT);
	assert_int_equal(doc_format_from_name("a.xhtml"), DOC_TEXT);
	assert_int_equal(doc_format_from_name("a.htmlx"), DOC_TEXT);
	assert_int_equal(doc_format_from_name("site.html/readme"), DOC_TEXT);
	assert_int_equal(doc_format_from_name("-"), DOC_TEXT);
	assert_int_equal(doc_format_from_name(""), DOC_TEXT);
}

static void
test_format_name(void **state)
{
	assert_string_equal(doc_format_name(DOC_TEXT), "text");
	assert_string_equal(doc_format_name(DOC_HTML), "html");
}

static void
test_text_keeps_bom(void **state)
{
	static const char in[] = "\xef\xbb\xbfSirte <b>x</b> &amp;";
	struct doc *d;

	d = doc_from_bytes("a.txt", xstrdup(in), sizeof in - 1, DOC_TEXT);
	assert_string_equal(d->name, "a.txt");
	assert_int_equal(d->format, DOC_TEXT);
	assert_ptr_equal(d->text, d->raw);
	assert_int_equal(d->textlen, sizeof in - 1);
	assert_int_equal(d->rawlen, sizeof in - 1);
	assert_memory_equal(d->text, in, sizeof in - 1);
	assert_null(d->extracted);
	assert_null(d->title);
	assert_null(d->link);
	assert_null(d->published);
	doc_free(d);
}

static void
test_html_skips_bom(void **state)
{
	static const char in[] =
	    "\xef\xbb\xbf<html><head><title>T &amp; U</title>"
	    "<link rel=canonical href=https://e.x/1>"
	    "<meta property=article:published_time content=2015-02-21>"
	    "</head><body><p>Isl<b>am</b>ic State</p></body></html>";
	struct doc *d;

	d = doc_from_bytes("a.html", xstrdup(in), sizeof in - 1, DOC_HTML);
	assert_int_equal(d->format, DOC_HTML);
	assert_int_equal(d->rawlen, sizeof in - 1);
	assert_ptr_equal(d->text, d->extracted);
	assert_string_equal(d->text, "Islamic State\n");
	assert_int_equal(d->textlen, strlen("Islamic State\n"));
	assert_string_equal(d->title, "T & U");
	assert_string_equal(d->link, "https://e.x/1");
	assert_string_equal(d->published, "2015-02-21");
	doc_free(d);

	/* A BOM alone, and nothing at all. */
	d = doc_from_bytes("b.html", xstrdup("\xef\xbb\xbf"), 3, DOC_HTML);
	assert_int_equal(d->textlen, 0);
	assert_string_equal(d->text, "");
	doc_free(d);
	d = doc_from_bytes("c.html", NULL, 0, DOC_HTML);
	assert_int_equal(d->textlen, 0);
	assert_non_null(d->text);
	doc_free(d);
	doc_free(NULL);
}

static void
test_load_text(void **state)
{
	static const char in[] = "\xef\xbb\xbfline one\n\xff line two\n";
	struct doc *d;
	char *path, *cause = NULL;

	path = write_tmp("a.txt", in, sizeof in - 1);
	assert_non_null(d = doc_load(path, 1024, &cause));
	assert_null(cause);
	assert_string_equal(d->name, path);
	assert_int_equal(d->format, DOC_TEXT);
	assert_int_equal(d->rawlen, sizeof in - 1);
	assert_memory_equal(d->text, in, sizeof in - 1);
	doc_free(d);
	free(path);
}

static void
test_load_html_by_name(void **state)
{
	struct doc *d;
	char *path, *cause = NULL;

	path = write_tmp("a.HTM", "<p>a</p><script>x</script>", 26);
	assert_non_null(d = doc_load(path, 1024, &cause));
	assert_int_equal(d->format, DOC_HTML);
	assert_string_equal(d->text, "a\n");
	assert_int_equal(d->rawlen, 26);
	doc_free(d);
	free(path);
}

static void
test_load_empty(void **state)
{
	struct doc *d;
	char *path, *cause = NULL;

	path = write_tmp("empty.txt", "", 0);
	assert_non_null(d = doc_load(path, 1024, &cause));
	assert_int_equal(d->rawlen, 0);
	assert_non_null(d->raw);
	doc_free(d);
	free(path);
}

static void
test_load_missing(void **state)
{
	char *path, *cause = NULL;

	path = xasprintf("%s/no-such-file.txt", tmpdir);
	assert_null(doc_load(path, 1024, &cause));
	assert_non_null(cause);
	assert_string_equal(cause, "cannot open: No such file or directory");
	free(cause);
	free(path);
}

static void
test_load_directory(void **state)
{
	char *cause = NULL;

	assert_null(doc_load(tmpdir, 1024, &cause));
	assert_string_equal(cause, "not a regular file (a directory)");
	free(cause);
}

static void
test_load_fifo(void **state)
{
	char *path, *cause = NULL;

	/* Must be refused at once, not block waiting for a writer. */
	path = xasprintf("%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(doc_load(path, 1024, &cause));
	assert_string_equal(cause, "not a regular file");
	free(cause);
	free(path);
}

static void
test_load_too_large(void **state)
{
	char big[100], *path, *cause = NULL;
	struct doc *d;

	memset(big, 'x', sizeof big);
	path = write_tmp("big.txt", big, sizeof big);
	assert_null(doc_load(path, 99, &cause));
	assert_string_equal(cause, "larger than max_document_size (99 bytes)");
	free(cause);
	cause = NULL;
	/* Exactly max is fine. */
	assert_non_null(d = doc_load(path, 100, &cause));
	assert_int_equal(d->rawlen, 100);
	doc_free(d);
	free(path);
}

/* One article: the HTML page gives the text of the .txt, title and meta. */
static void
check_article(size_t n)
{
	struct doc *txt, *html;
	char *path, *cause = NULL, *want, *got, *line, *one, *next;
	char *link;
	const char *body;
	size_t lines = 0;

	path = news_path(news[n].base, ".txt");
	txt = doc_load(path, 1 << 20, &cause);
	if (txt == NULL)
		fail_msg("%s: %s", path, cause);
	free(path);
	path = news_path(news[n].base, ".html");
	html = doc_load(path, 1 << 20, &cause);
	if (html == NULL)
		fail_msg("%s: %s", path, cause);
	free(path);
	assert_int_equal(html->format, DOC_HTML);

	/* The first line of 000 and 001 is page chrome, not in the page. */
	body = txt->text;
	if (strncmp(body, "Watch CBS", 9) == 0)
		body = strchr(body, '\n') + 1;
	want = collapse(body, txt->textlen - (size_t)(body - txt->text));
	got = collapse(html->text, html->textlen);
	assert_string_equal(got, want);

	/* Line by line too, so that a failure says which line is missing. */
	line = xstrdup(body);
	for (one = line; one != NULL; one = next) {
		if ((next = strchr(one, '\n')) != NULL)
			*next++ = '\0';
		free(want);
		want = collapse(one, strlen(one));
		if (*want == '\0')
			continue;
		if (strstr(got, want) == NULL)
			fail_msg(
			    "%s: line not extracted: %s", news[n].base, want);
		if (lines++ == 0)
			assert_string_equal(html->title, want);
	}
	assert_true(lines > 5);

	assert_null(strstr(html->text, "font-family"));
	link = xasprintf("https://news.example/a/%zu", n + 1);
	assert_string_equal(html->link, link);
	assert_string_equal(html->published, news[n].published);

	free(link);
	free(line);
	free(want);
	free(got);
	doc_free(txt);
	doc_free(html);
}

static void
test_news_articles(void **state)
{
	size_t n;

	for (n = 0; n < sizeof news / sizeof news[0]; n++)
		check_article(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_from_name),
	    cmocka_unit_test(test_format_name),
	    cmocka_unit_test(test_text_keeps_bom),
	    cmocka_unit_test(test_html_skips_bom),
	    cmocka_unit_test(test_load_text),
	    cmocka_unit_test(test_load_html_by_name),
	    cmocka_unit_test(test_load_empty),
	    cmocka_unit_test(test_load_missing),
	    cmocka_unit_test(test_load_directory),
	    cmocka_unit_test(test_load_fifo),
	    cmocka_unit_test(test_load_too_large),
	    cmocka_unit_test(test_news_articles),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
