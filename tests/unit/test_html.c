/*
 * Unit tests for html.c: text extraction, character references, metadata,
 * and inputs built to make a careless tokenizer slow or crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "buf.h"
#include "html.h"
#include "xmalloc.h"

/* Pathological inputs must take well under this many seconds each. */
#define SLOW_SECONDS 5.0

static struct buf out;
static struct html_meta meta;

static int
setup(void **state)
{
	buf_init(&out);
	memset(&meta, 0, sizeof meta);
	return 0;
}

static int
teardown(void **state)
{
	buf_release(&out);
	html_meta_release(&meta);
	return 0;
}

/* Extract s[0..n) afresh into out, with meta. */
static const char *
extract_n(const char *s, size_t n)
{
	html_meta_release(&meta);
	buf_reset(&out);
	html_extract(s, n, &out, &meta);
	assert_non_null(out.data);
	assert_int_equal(strlen(out.data), out.len);
	return out.data;
}

static const char *
extract(const char *s)
{
	return extract_n(s, strlen(s));
}

#define assert_extract(in, want) assert_string_equal(extract(in), want)

static const char *
decode(const char *s)
{
	buf_reset(&out);
	html_decode_text(s, strlen(s), &out);
	return out.data != NULL ? out.data : "";
}

#define assert_decode(in, want) assert_string_equal(decode(in), want)

static void
test_empty(void **state)
{
	assert_extract("", "");
	html_extract(NULL, 0, &out, NULL);
	assert_int_equal(out.len, 0);
	assert_non_null(out.data);
}

static void
test_plain_fragment(void **state)
{
	assert_extract("Hello world", "Hello world");
	assert_null(meta.title);
	assert_null(meta.link);
	assert_null(meta.published);
}

static void
test_blocks_end_lines(void **state)
{
	assert_extract("<p>a</p><p>b</p>", "a\nb\n");
	assert_extract("a<br>b<br/>c<BR >d", "a\nb\nc\nd");
	assert_extract("<ul><li>one<li>two</ul>", "one\ntwo\n");
	assert_extract(
	    "<table><tr><td>a</td><td>b</td></tr></table>", "a\nb\n");
	assert_extract("<h1>T</h1><h6>u</h6>x<hr>y", "T\nu\nx\ny");
	assert_extract("<DIV>a</DIV><Blockquote>b</Blockquote>", "a\nb\n");
	assert_extract("x<dl><dt>t<dd>d</dl>", "x\nt\nd\n");
	assert_extract(
	    "a<section>b</section><article>c</article>", "a\nb\nc\n");
}

static void
test_no_blank_lines(void **state)
{
	assert_extract("a<br><br><br><p></p><div>  </div>b", "a\nb");
	/* No leading newline either. */
	assert_extract("<p><p><div>x", "x");
	assert_extract("  \n <br> \n text", "text");
}

static void
test_inline_joins(void **state)
{
	assert_extract("Isl<b>am</b>ic", "Islamic");
	assert_extract("<span>a</span><strong>b</strong><em>c</em><i>d</i>"
	               "<a href=x>e</a><code>f</code><sup>g</sup><small>h"
	               "</small>",
	    "abcdefgh");
	assert_extract("a<img src=x.png alt=\"picture\">b", "ab");
	assert_extract("<custom-element>x</custom-element>y", "xy");
}

static void
test_whitespace(void **state)
{
	assert_extract("  a  \t\n\r\f b  ", "a b");
	assert_extract("<p>  a \n\n  b  </p>", "a b\n");
	assert_extract("a <b> b</b> c", "a b c");
	assert_extract("a<b> </b>b", "a b");
	/* Lines are trimmed at block ends. */
	assert_extract("<p> a </p> <p> b </p>", "a\nb\n");
}

static void
test_nbsp_kept(void **state)
{
	assert_extract("a&nbsp;&nbsp;b", "a\xc2\xa0\xc2\xa0"
	                                 "b");
	assert_extract("a\xc2\xa0 \xc2\xa0"
	               "b",
	    "a\xc2\xa0 \xc2\xa0"
	    "b");
	/* U+2003 EM SPACE and U+3000 are not ASCII white space either. */
	assert_extract(
	    "a\xe2\x80\x83\xe3\x80\x80z", "a\xe2\x80\x83\xe3\x80\x80z");
	assert_extract("&nbsp;x&nbsp;", "\xc2\xa0x\xc2\xa0");
}

static void
test_invalid_utf8_passthrough(void **state)
{
	static const char in[] = "a\xff\xfe<b>\xc0\xaf</b>z\xe2\x82";

	extract_n(in, sizeof in - 1);
	assert_int_equal(out.len, 8);
	assert_memory_equal(out.data, "a\xff\xfe\xc0\xafz\xe2\x82", 8);
}

static void
test_nul_byte(void **state)
{
	extract_n("a\0b", 3);
	assert_int_equal(out.len, 5);
	assert_memory_equal(out.data,
	    "a\xef\xbf\xbd"
	    "b",
	    5);
}

static void
test_script_style_dropped(void **state)
{
	assert_extract("a<script>if (a<b) x='</p>';</script>b", "ab");
	assert_extract("<SCRIPT type=x>var s = '<b>';</sCrIpT >text", "text");
	assert_extract("<style>p { color: red }</style>x", "x");
	/* "</scripts" does not end a script, "</script/" does. */
	assert_extract("<script>a</scripts>b</script/>c", "c");
	assert_extract("x<script>never closed <p>hello", "x");
	assert_extract("x<style>", "x");
	/* XHTML in feeds: an empty script has no content. */
	assert_extract("a<script src=\"x.js\"/>b", "ab");
	/* Script content is not tokenized: comments there do not matter. */
	assert_extract("<script><!-- </script>shown -->", "shown -->");
}

static void
test_head_dropped(void **state)
{
	assert_extract("<html><head><title>T</title><meta charset=utf-8>"
	               "<style>s</style><script>j</script></head>"
	               "<body><p>body</p></body></html>",
	    "body\n");
	assert_string_equal(meta.title, "T");
	/* Text in head is dropped; a body tag ends the head. */
	assert_extract("<head>junk<body>b", "b");
	/* A tag that cannot be in a head ends it, so does </head>. */
	assert_extract("<head><title>t</title><p>shown", "shown");
	assert_extract("<head>x</head>y", "y");
}

static void
test_template_noscript_dropped(void **state)
{
	assert_extract("a<template><p>x</p></template>b", "ab");
	assert_extract("a<template><template>x</template>y</template>b", "ab");
	assert_extract("a</template>b", "ab");
	assert_extract("a<noscript><p>enable JS</p></noscript>b", "ab");
	assert_extract("a<iframe src=x>fallback</iframe>b", "a\nb");
	/* As XHTML writes it (feedparser sanitize/item_description_iframe). */
	assert_extract("safe<iframe src=\"http://example.com/\"/> description",
	    "safe\ndescription");
}

static void
test_comments(void **state)
{
	assert_extract("a<!-- x -->b", "ab");
	assert_extract("a<!---->b", "ab");
	assert_extract("a<!-->b", "ab");
	assert_extract("a<!--->b", "ab");
	assert_extract("a<!-- x --!>b", "ab");
	assert_extract("a<!-- x -- >y --->b", "ab");
	assert_extract("a<!-- x -> y - > z --!-->b", "ab");
	assert_extract("a<!-- <p>x</p> -->b", "ab");
	assert_extract("a<!-- unterminated <p>b</p>", "a");
	assert_extract("a<!--", "a");
	/* feedparser sanitize/xml_malicious_comment */
	assert_extract(
	    "sa<!-- -- nonwhitespace >fe<script>alert(1);</script>", "sa");
}

static void
test_doctype_pi_bogus(void **state)
{
	assert_extract("<!DOCTYPE html>a", "a");
	assert_extract("<!doctype html PUBLIC \"-//W3C//DTD\">a", "a");
	assert_extract("<?xml version=\"1.0\"?>a", "a");
	assert_extract("a<!ELEMENT x>b", "ab");
	assert_extract("a</ not a tag>b", "ab");
	assert_extract("a</>b", "ab");
	assert_extract("a<?unterminated", "a");
}

static void
test_cdata_is_text(void **state)
{
	assert_extract("a<![CDATA[x<y&amp;]]>b", "ax<y&amp;b");
	assert_extract("a<![CDATA[unterminated <p>", "aunterminated <p>");
	/* Only the exact upper-case keyword starts a CDATA section. */
	assert_extract("a<![cdata[x]]>b", "ab");
}

static void
test_bare_lt_is_text(void **state)
{
	assert_extract("a < b", "a < b");
	assert_extract("a<3 and 4>2", "a<3 and 4>2");
	assert_extract("1 <= 2", "1 <= 2");
	assert_extract("x<", "x<");
	assert_extract("x</", "x</");
	assert_extract("<<<", "<<<");
	assert_extract("&lt;p&gt;not a tag&lt;/p&gt;", "<p>not a tag</p>");
}

static void
test_attributes(void **state)
{
	assert_extract("<a title=\"x>y\" href='>'>link</a>", "link");
	assert_extract("<p class=a>b</p>", "b\n");
	assert_extract("<p data-x = \"1\" hidden data-y='<p>'>z</p>", "z\n");
	assert_extract("<img alt=\"some text\" title='more'>", "");
	assert_extract("<a href=x/>y</a>", "y");
	assert_extract("<a b=\"c\"d=\"e\">f</a>", "f");
	assert_extract("<a =b>c</a>", "c");
	/* feedparser sanitize/item_description_crazy */
	assert_extract("<body    notRealAttribute=\"value\"onload=\"f();\""
	               "foo=\"bar\"\n\n>\n<div x=\"v\n\"onmouseover=\"\nf();\n"
	               "\"foo=\"bar\">\nI will execute here\n</div>",
	    "I will execute here\n");
}

static void
test_unterminated_at_eof(void **state)
{
	assert_extract("a<p class='x", "a");
	assert_extract("a<p", "a");
	assert_extract("a<b c=d", "a");
	assert_extract("a<b c=", "a");
	assert_extract("a</p", "a");
	assert_extract("a<title>never closed", "a");
	assert_string_equal(meta.title, "never closed");
	assert_extract("a<textarea>t &amp; u", "a\nt & u");
	assert_extract("a &am", "a &am");
	assert_extract("a &#", "a &#");
	assert_extract("a &#x", "a &#x");
}

static void
test_rcdata_and_raw(void **state)
{
	assert_extract(
	    "<textarea>&lt;b&gt; <i>x</i></textarea>y", "<b> <i>x</i>\ny");
	assert_extract("<xmp><b>&amp;</b></xmp>", "<b>&amp;</b>\n");
	assert_extract(
	    "a<plaintext><b>&amp; </plaintext>", "a\n<b>&amp; </plaintext>");
}

static void
test_named_refs(void **state)
{
	assert_extract("&amp;&lt;&gt;&quot;&apos;", "&<>\"'");
	assert_extract("&eacute;t&eacute;", "\xc3\xa9t\xc3\xa9");
	assert_extract("&CounterClockwiseContourIntegral;", "\xe2\x88\xb3");
	assert_extract("&acE;", "\xe2\x88\xbe\xcc\xb3");
	assert_extract("&AMP &AMP;", "& &");
	/* Names are case-sensitive. */
	assert_extract("&Amp;", "&Amp;");
	assert_extract("&foo; &;", "&foo; &;");
	assert_extract("fish & chips", "fish & chips");
}

static void
test_legacy_and_longest_match(void **state)
{
	assert_extract("&amp", "&");
	assert_extract("&ampx", "&x");
	assert_extract("&copy2024", "\xc2\xa9"
	                            "2024");
	assert_extract("&notit;", "\xc2\xac"
	                          "it;");
	assert_extract("&notin;", "\xe2\x88\x89");
	assert_extract("&notin", "\xc2\xac"
	                         "in");
	/* "&nbspx": legacy nbsp then x. */
	assert_extract("&nbspx", "\xc2\xa0x");
	/* A name that is not legacy needs its ';'. */
	assert_extract("&hellip &hellip;", "&hellip \xe2\x80\xa6");
}

static void
test_numeric_refs(void **state)
{
	assert_extract("&#65;&#x42;&#X43;&#68&#x45", "ABCDE");
	assert_extract("&#0065;&#x000041;", "AA");
	assert_extract("&#8364; &#x20AC;", "\xe2\x82\xac \xe2\x82\xac");
	assert_extract("&#x1D11E;", "\xf0\x9d\x84\x9e");
	assert_extract("&#0;", "\xef\xbf\xbd");
	assert_extract("&#xD800;&#xDFFF;", "\xef\xbf\xbd\xef\xbf\xbd");
	assert_extract("&#x110000;", "\xef\xbf\xbd");
	assert_extract("&#99999999999999999999999;", "\xef\xbf\xbd");
	assert_extract("&#x10FFFF;", "\xf4\x8f\xbf\xbf");
	assert_extract("&#;&#x;&#xg;", "&#;&#x;&#xg;");
	assert_extract("&#65x", "Ax");
}

static void
test_numeric_c1_remap(void **state)
{
	assert_extract("&#146;", "\xe2\x80\x99");
	assert_extract("&#x80;", "\xe2\x82\xac");
	assert_extract("&#150;&#151;", "\xe2\x80\x93\xe2\x80\x94");
	assert_extract("&#x9F;", "\xc5\xb8");
	/* The five holes of windows-1252 stay C1 controls. */
	assert_extract("&#x81;", "\xc2\x81");
	assert_extract("&#x9D;", "\xc2\x9d");
	/* Only references are remapped, not raw bytes. */
	extract_n("\x92", 1);
	assert_memory_equal(out.data, "\x92", 2);
}

static void
test_decode_ref_api(void **state)
{
	assert_int_equal(html_decode_ref("&amp;x", 6, &out, 0), 5);
	assert_string_equal(out.data, "&");
	buf_reset(&out);
	assert_int_equal(html_decode_ref("&notit;", 7, &out, 0), 4);
	assert_string_equal(out.data, "\xc2\xac");
	buf_reset(&out);
	assert_int_equal(html_decode_ref("&#146;", 6, &out, 0), 6);
	assert_string_equal(out.data, "\xe2\x80\x99");
	buf_reset(&out);
	assert_int_equal(html_decode_ref("&x", 2, &out, 0), 0);
	assert_int_equal(html_decode_ref("&", 1, &out, 0), 0);
	assert_int_equal(html_decode_ref("a", 1, &out, 0), 0);
	assert_int_equal(html_decode_ref("&#", 2, &out, 0), 0);
	assert_int_equal(out.len, 0);
	/* n bounds the name: "&amp;" cut to "&am" is nothing. */
	assert_int_equal(html_decode_ref("&amp;", 3, &out, 0), 0);
	assert_int_equal(html_decode_ref("&amp;", 4, &out, 0), 4);
}

static void
test_attr_rule(void **state)
{
	/* In attributes, a legacy name without ';' before '=' or alnum. */
	assert_int_equal(html_decode_ref("&amp=1", 6, &out, 1), 0);
	assert_int_equal(html_decode_ref("&copyx", 6, &out, 1), 0);
	assert_int_equal(html_decode_ref("&copy9", 6, &out, 1), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(html_decode_ref("&amp;=1", 7, &out, 1), 5);
	assert_int_equal(html_decode_ref("&amp ", 5, &out, 1), 4);
	assert_int_equal(html_decode_ref("&amp", 4, &out, 1), 4);
	assert_string_equal(out.data, "&&&");
	buf_reset(&out);
	/* In text the same references are decoded. */
	assert_int_equal(html_decode_ref("&amp=1", 6, &out, 0), 4);
	assert_int_equal(html_decode_ref("&copyx", 6, &out, 0), 5);
	assert_string_equal(out.data, "&\xc2\xa9");

	extract("<link rel=canonical href=\"/a?x=1&copy=2&amp;y=3&notit\">");
	assert_string_equal(meta.link, "/a?x=1&copy=2&y=3&notit");
}

static void
test_decode_text(void **state)
{
	assert_decode("a &amp; b &lt;p&gt;", "a & b <p>");
	/* No white-space collapsing and no tags here. */
	assert_decode("  x  <b>\n", "  x  <b>\n");
	assert_decode("&copy2024 &notit; &#146;", "\xc2\xa9"
	                                          "2024 \xc2\xac"
	                                          "it; \xe2\x80\x99");
	assert_decode("&&;&#&", "&&;&#&");
}

static void
test_title(void **state)
{
	extract("<title>\n  Why &amp; how\t ISIS  </title>");
	assert_string_equal(meta.title, "Why & how ISIS");
	assert_string_equal(out.data, "");
	extract("<title>a<b>c</b></title>x");
	assert_string_equal(meta.title, "a<b>c</b>");
	assert_string_equal(out.data, "x");
	extract("<title>first</title><title>second</title>");
	assert_string_equal(meta.title, "first");
	extract("<title>  </title>");
	assert_null(meta.title);
	extract("<template><title>no</title></template><TITLE>yes</TITLE >");
	assert_string_equal(meta.title, "yes");
	extract("<title/>x");
	assert_null(meta.title);
	assert_string_equal(out.data, "x");
}

static void
test_link_meta(void **state)
{
	const char *in = "<title>t</title><link rel=canonical href=/x>y";

	extract("<link rel=\"stylesheet\" href=\"/s.css\">"
	        "<link rel=\"alternate CANONICAL\" href=\" "
	        "https://e.x/a?b=1&amp;c=2 \">"
	        "<link rel=canonical href=/second>"
	        "<meta property=\"og:title\" content=\"no\">"
	        "<meta content='2015-02-21T14:30:00Z' "
	        "property='article:published_time'>");
	assert_string_equal(meta.link, "https://e.x/a?b=1&c=2");
	assert_string_equal(meta.published, "2015-02-21T14:30:00Z");
	assert_string_equal(out.data, "");

	extract("<link rel=canonicalx href=/a><link rel=\"x\tcanonical\" "
	        "href=/b><meta property=article:published_time>");
	assert_string_equal(meta.link, "/b");
	assert_null(meta.published);

	extract("<link rel=canonical href=''><template><link rel=canonical "
	        "href=/t></template>");
	assert_null(meta.link);

	/* name= is accepted where property= is missing. */
	extract("<meta name=\"article:published_time\" content=\"2016\">");
	assert_string_equal(meta.published, "2016");

	/* The first of duplicated attributes counts. */
	extract("<link href=/1 rel=canonical href=/2>");
	assert_string_equal(meta.link, "/1");

	/* Without meta nothing is kept, and nothing breaks. */
	buf_reset(&out);
	html_extract(in, strlen(in), &out, NULL);
	assert_string_equal(out.data, "y");
}

static void
test_appends(void **state)
{
	buf_add_str(&out, "before ");
	html_extract("<p>x</p>", 8, &out, NULL);
	assert_string_equal(out.data, "before x\n");
}

static void
test_feedparser_sanitize(void **state)
{
	assert_extract("safe<applet code=\"foo.class\" "
	               "codebase=\"http://example.com/\"></applet> description",
	    "safe description");
	assert_extract("safe<object classid=\"clsid:C932\"> description",
	    "safe description");
	assert_extract("safe<embed src=\"http://example.com/\"> description",
	    "safe description");
	assert_extract("safe<script type=\"text/javascript\">location.href="
	               "'http:/'+'/example.com/';</script> description",
	    "safe description");
	assert_extract("safe<frameset rows=\"*\"><frame "
	               "src=\"http://example.com/\"></frameset> description",
	    "safe\ndescription");
	assert_extract("safe<!--", "safe");
}

static double
seconds_since(clock_t start)
{
	return (double)(clock() - start) / CLOCKS_PER_SEC;
}

/* n copies of s, then tail. */
static char *
repeat(const char *s, size_t n, const char *tail, size_t *len)
{
	size_t sl = strlen(s), tl = strlen(tail), i;
	char *p;

	p = xmalloc(sl * n + tl + 1);
	for (i = 0; i < n; i++)
		memcpy(p + i * sl, s, sl);
	memcpy(p + sl * n, tail, tl + 1);
	*len = sl * n + tl;
	return p;
}

/*
 * n copies of a unit of input.  The output must be n - skip copies of
 * want, then want_tail, within SLOW_SECONDS: a rescan per unit would be
 * quadratic and take hours.
 */
static void
test_pathological(void **state)
{
	static const struct {
		const char *unit;
		const char *tail;
		const char *want;
		size_t skip;
		const char *want_tail;
	} cases[] = {
	    {"<", "", "<", 0, ""},
	    {"<a ", "", "", 0, ""},
	    {"<a b='", "", "", 0, ""},
	    {"<!--", "", "", 0, ""},
	    {"<!", "", "", 0, ""},
	    {"</", "x", "", 0, ""},
	    {"<![CDATA[", "", "<![CDATA[", 1, ""},
	    {"<script>", "", "", 0, ""},
	    {"<script></scrip", "", "", 0, ""},
	    {"<title>", "x", "", 0, ""},
	    {"<textarea>", "x", "<textarea>", 1, "x"},
	    {"&", "", "&", 0, ""},
	    {"&amp", "", "&", 0, ""},
	    {"&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	        "",
	        "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	        0, ""},
	    {"&#", "", "&#", 0, ""},
	    {"&#129", "", "\xc2\x81", 0, ""},
	    {"<template>", "x", "", 0, ""},
	    {"<div>", "x", "", 0, "x"},
	    {"<b>", "x", "", 0, "x"},
	    {"<p>x", "", "x\n", 1, "x"},
	};
	size_t i, len, wantlen, n = 200000;
	char *in, *want;
	clock_t start;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		in = repeat(cases[i].unit, n, cases[i].tail, &len);
		want = repeat(cases[i].want, n - cases[i].skip,
		    cases[i].want_tail, &wantlen);
		start = clock();
		extract_n(in, len);
		assert_true(seconds_since(start) < SLOW_SECONDS);
		assert_int_equal(out.len, wantlen);
		assert_memory_equal(out.data, want, wantlen);
		free(in);
		free(want);
	}
}

static void
test_deep_nesting(void **state)
{
	size_t len1, len2, n = 100000;
	char *open, *close, *in;
	clock_t start;

	open = repeat("<div><span><template></template>", n, "deep", &len1);
	close = repeat("</span></div>", n, "", &len2);
	in = xmalloc(len1 + len2 + 1);
	memcpy(in, open, len1);
	memcpy(in + len1, close, len2 + 1);
	start = clock();
	assert_string_equal(extract_n(in, len1 + len2), "deep\n");
	assert_true(seconds_since(start) < SLOW_SECONDS);
	free(open);
	free(close);
	free(in);
}

/* Every byte value in every position: nothing may crash or leak. */
static void
test_all_bytes(void **state)
{
	static const char *const prefixes[] = {"<", "</", "<!", "<!--", "&",
	    "&#", "&#x", "<a b=", "<script>", "<a b='", "<![CDATA["};
	char in[16];
	size_t i, len;
	int c;

	for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		for (c = 0; c < 256; c++) {
			len = strlen(prefixes[i]);
			memcpy(in, prefixes[i], len);
			in[len++] = (char)c;
			extract_n(in, len);
			assert_true(out.len <= len * 4);
		}
	}
}

static void
test_entity_table(void **state)
{
	size_t i, legacy = 0, two = 0;

	assert_int_equal(html_nentities, 2231);
	for (i = 1; i < html_nentities; i++)
		assert_true(strcmp(html_entities[i - 1].name,
		                html_entities[i].name) < 0);
	for (i = 0; i < html_nentities; i++) {
		if (strchr(html_entities[i].name, ';') == NULL)
			legacy++;
		if (html_entities[i].cp2 != 0)
			two++;
		assert_true(html_entities[i].cp1 > 0 &&
		            html_entities[i].cp1 <= 0x10ffff);
	}
	assert_int_equal(legacy, 106);
	assert_int_equal(two, 93);

	/* Every name decodes to its own code points. */
	for (i = 0; i < html_nentities; i++) {
		struct buf want;
		char ref[64];
		size_t n;

		n = (size_t)snprintf(
		    ref, sizeof ref, "&%s", html_entities[i].name);
		buf_init(&want);
		buf_add_utf8(&want, (int)html_entities[i].cp1);
		if (html_entities[i].cp2 != 0)
			buf_add_utf8(&want, (int)html_entities[i].cp2);
		buf_reset(&out);
		assert_int_equal(html_decode_ref(ref, n, &out, 0), n);
		assert_string_equal(out.data, want.data);
		buf_release(&want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_plain_fragment, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_blocks_end_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_no_blank_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inline_joins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_whitespace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nbsp_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_invalid_utf8_passthrough, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_script_style_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_head_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_template_noscript_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_doctype_pi_bogus, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_cdata_is_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_bare_lt_is_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_attributes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_unterminated_at_eof, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_rcdata_and_raw, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_named_refs, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_legacy_and_longest_match, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_numeric_refs, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_numeric_c1_remap, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_decode_ref_api, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_attr_rule, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_decode_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_title, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_link_meta, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_appends, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_feedparser_sanitize, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pathological, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deep_nesting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entity_table, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
