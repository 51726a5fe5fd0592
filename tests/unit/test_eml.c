/*
 * Unit tests for eml.c: header fields (folding, RFC 2047 words), transfer
 * encodings, charsets, the MIME walk, hostile input, the sample messages of
 * tests/data/eml, and e-mail documents in doc.c.
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
#include <time.h>

#include <cmocka.h>

#include "buf.h"
#include "doc.h"
#include "eml.h"
#include "xmalloc.h"

/* Parse a NUL-terminated message. */
static void
parse(const char *s, struct eml *m)
{
	eml_parse(s, strlen(s), m);
	assert_non_null(m->text.data);
	assert_int_equal(strlen(m->text.data), m->text.len);
}

/* The body text of message s must be want. */
static void
check_text(const char *s, const char *want)
{
	struct eml m;

	parse(s, &m);
	assert_string_equal(m.text.data, want);
	eml_release(&m);
}

/* The same for a message of n bytes, which may hold NULs. */
static void
check_textn(const char *s, size_t n, const char *want)
{
	struct eml m;

	eml_parse(s, n, &m);
	assert_string_equal(m.text.data, want);
	eml_release(&m);
}

/* The subject of a message whose Subject field is s must be want. */
static void
check_subject(const char *s, const char *want)
{
	struct eml m;
	char *msg;

	msg = xasprintf("Subject:%s\n\nbody\n", s);
	parse(msg, &m);
	if (want == NULL)
		assert_null(m.subject);
	else
		assert_string_equal(m.subject, want);
	eml_release(&m);
	free(msg);
}

/* Replace every "\n" of s by "\r\n". */
static char *
crlf(const char *s)
{
	struct buf b;

	buf_init(&b);
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			buf_add_byte(&b, '\r');
		buf_add_byte(&b, *s);
	}
	return buf_detach(&b, NULL);
}

static char *
read_sample(const char *name, size_t *lenp)
{
	const char *dir = getenv("WL_TEST_DATA");
	char *path, *data;
	long len;
	FILE *f;

	path = xasprintf("%s/eml/%s", dir != NULL ? dir : "tests/data", name);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((len = ftell(f)) > 0);
	rewind(f);
	data = xmalloc((size_t)len + 1);
	assert_int_equal(fread(data, 1, (size_t)len, f), (size_t)len);
	data[len] = '\0';
	fclose(f);
	free(path);
	*lenp = (size_t)len;
	return data;
}

static void
test_header_fields(void **state)
{
	struct eml m;

	parse("Received: from a\n"
	      "\tby b\n"
	      "From: =?utf-8?Q?Jos=C3=A9?= Ruiz\n"
	      " <jose@example.org>\n"
	      "Subject: Islamic\n"
	      "\tState\n"
	      "   near Sirte\n"
	      "Date: Sat, 21 Feb 2015\n"
	      " 14:31:02 +0000\n"
	      "Subject: the second one is ignored\n"
	      "\n"
	      "Body.\n",
	    &m);
	assert_string_equal(m.subject, "Islamic State near Sirte");
	assert_string_equal(m.from, "José Ruiz <jose@example.org>");
	assert_string_equal(m.date, "Sat, 21 Feb 2015 14:31:02 +0000");
	assert_string_equal(m.text.data, "Body.\n");
	eml_release(&m);

	/* Names in any case, white space before the colon (obsolete). */
	parse("SUBJECT : a\nfrom:b\nDATE:   \n\nx", &m);
	assert_string_equal(m.subject, "a");
	assert_string_equal(m.from, "b");
	assert_null(m.date);
	assert_string_equal(m.text.data, "x\n");
	eml_release(&m);
	eml_release(NULL);
}

static void
test_header_words(void **state)
{
	/* Q and B, UTF-8 and ISO-8859-1, any letter case. */
	check_subject(
	    "=?utf-8?q?Tr=C3=ADpoli_and_Sirte?=", "Trípoli and Sirte");
	check_subject("=?UTF-8?B?2LPYsdiq?=", "سرت");
	check_subject("=?ISO-8859-1?Q?Ren=E9e?=", "Renée");
	check_subject("=?iso-8859-1?b?UmVu6WU=?=", "Renée");
	check_subject("=?utf-8*en?q?with_language?=", "with language");
	/* White space between words goes, beside text it stays. */
	check_subject("=?utf-8?q?Isl?= =?utf-8?q?amic?=\t =?utf-8?q?_State?=",
	    "Islamic State");
	check_subject("Re: =?utf-8?q?Sirte?= today", "Re: Sirte today");
	check_subject("=?utf-8?q?a?= =?iso-8859-1?q?=E9?= b", "aé b");
	/* A character split between two words survives. */
	check_subject("=?utf-8?B?2LPYsdg=?= =?utf-8?B?qg==?=", "سرت");
	check_subject("=?utf-8?Q?=D8=B3=D8?=\n =?utf-8?Q?=B1=D8=AA?=", "سرت");
	/* Not words: kept as written. */
	check_subject("=?utf-8?q?unterminated", "=?utf-8?q?unterminated");
	check_subject("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
	check_subject("=?bad charset?q?abc?=", "=?bad charset?q?abc?=");
	check_subject("=? =?=?", "=? =?=?");
	check_subject("=?utf-8?q?a b?=", "=?utf-8?q?a b?=");
	/* Words inside text and quotes are decoded all the same. */
	check_subject("x=?utf-8?q?y?=z", "xyz");
	check_subject("\"=?utf-8?q?Jos=C3=A9?=\" <j@e.x>", "\"José\" <j@e.x>");
	/* Decoded line ends and NULs do not break the line. */
	check_subject("=?utf-8?q?a=0D=0Ab=00c?=", "a b c");
	/* Empty or blank: none. */
	check_subject("", NULL);
	check_subject("  \t ", NULL);
	check_subject("=?utf-8?q?\?=", NULL);
	/* An unknown charset keeps its bytes. */
	check_subject("=?x-no-such-charset?q?a=FFb?=", "a\xff\x62");
}

static void
test_qp(void **state)
{
	check_text("Content-Transfer-Encoding: quoted-printable\n\n"
	           "Mis=\nrata=20and =3D=e9=C3=A9\n"
	           "soft with space=  \n"
	           "break.  CRLF=\r\nsoft. =ZZ =4 a=b\n"
	           "end=",
	    "Misrata and =\xe9\xc3\xa9\nsoft with spacebreak.  CRLFsoft. =ZZ "
	    "=4 a=b\nend\n");
	check_text("Content-Transfer-Encoding: Quoted-Printable\n\n=", "");
}

static void
test_base64(void **state)
{
	check_text("Content-Transfer-Encoding: base64\n\n"
	           "SXNsYW1p\nYyBTdGF0\r\nZSBpbiBT\n  aXJ0ZQ==\n",
	    "Islamic State in Sirte\n");
	/* Junk is skipped, '=' ends a quantum: concatenations decode. */
	check_text("Content-Transfer-Encoding: BASE64\n\n"
	           "SX!!NsY*W1p\x01Yw==IFN0YXRl\n-- ## !! \xff\n",
	    "Islamic State\n");
	check_text("Content-Transfer-Encoding: base64\n\nQQ==QkM=RA", "ABCD\n");
	check_text("Content-Transfer-Encoding: base64\n\n====", "");
	check_text("Content-Transfer-Encoding: base64\n\nQ", "");
}

static void
test_alternative(void **state)
{
	static const char both[] =
	    "Content-Type: multipart/alternative; boundary=b1\n"
	    "\n"
	    "--b1\n"
	    "Content-Type: text/html\n"
	    "\n"
	    "<p>the <b>HTML</b> one</p>\n"
	    "--b1\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "\n"
	    "the plain one\n"
	    "--b1--\n";
	static const char html_only[] =
	    "Content-Type: multipart/alternative; boundary=b1\n"
	    "\n"
	    "--b1\n"
	    "Content-Type: image/png\n"
	    "\n"
	    "PNG\n"
	    "--b1\n"
	    "Content-Type: text/html\n"
	    "\n"
	    "<p>only <i>HTML</i> &amp; more</p><script>x()</script>\n"
	    "--b1--\n";
	static const char empty_plain[] =
	    "Content-Type: multipart/alternative; boundary=b1\n"
	    "\n"
	    "--b1\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "\n"
	    "--b1\n"
	    "Content-Type: text/html\n"
	    "\n"
	    "<p>the newsletter</p>\n"
	    "--b1--\n";
	static const char nested[] =
	    "Content-Type: multipart/alternative; boundary=b1\n"
	    "\n"
	    "--b1\n"
	    "Content-Type: multipart/related; boundary=b2\n"
	    "\n"
	    "--b2\n"
	    "Content-Type: text/html\n"
	    "\n"
	    "<div>related HTML</div>\n"
	    "--b2\n"
	    "Content-Type: image/gif\n"
	    "\n"
	    "GIF89a\n"
	    "--b2--\n"
	    "--b1--\n";

	check_text(both, "the plain one\n");
	check_text(html_only, "only HTML & more\n");
	check_text(empty_plain, "the newsletter\n");
	check_text(nested, "related HTML\n");
}

static void
test_mixed_nested(void **state)
{
	static const char msg[] =
	    "Subject: report\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed;\n"
	    "\tboundary=\"outer; with=quotes\"\n"
	    "\n"
	    "preamble is not text\n"
	    "--outer; with=quotes\n"
	    "\n"
	    "first part, no header\n"
	    "--outer; with=quotes\n"
	    "Content-Type: multipart/alternative; boundary=\"outer; with\"\n"
	    "\n"
	    "--outer; with\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "second, plain\n"
	    "--outer; with\n"
	    "Content-Type: text/html\n"
	    "\n"
	    "<p>second, html</p>\n"
	    "--outer; with--\n"
	    "--outer; with=quotes\n"
	    "Content-Type: text/plain; name=notes.txt\n"
	    "Content-Disposition: ATTACHMENT; filename=notes.txt\n"
	    "\n"
	    "an attached text file\n"
	    "--outer; with=quotes\n"
	    "Content-Type: application/octet-stream\n"
	    "\n"
	    "binary \x01\x02\n"
	    "--outer; with=quotes\n"
	    "Content-Type: text/html; charset=utf-8\n"
	    "Content-Disposition: inline\n"
	    "\n"
	    "<p>third</p><p>html</p>\n"
	    "--outer; with=quotes\n"
	    "Content-Type: message/rfc822\n"
	    "\n"
	    "Subject: forwarded\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "fourth, forwarded\n"
	    "--outer; with=quotes--   \n"
	    "epilogue is not text\n";
	struct eml m;

	parse(msg, &m);
	assert_string_equal(m.subject, "report");
	assert_string_equal(m.text.data,
	    "first part, no header\n\nsecond, plain\n\nthird\nhtml\n\n"
	    "fourth, forwarded\n");
	eml_release(&m);
}

static void
test_boundaries(void **state)
{
	/* Missing final boundary: the last part runs to the end. */
	check_text("Content-Type: multipart/mixed; boundary=zz\n\n"
	           "--zz\n\none\n--zz\n\ntwo\nstill two",
	    "one\n\ntwo\nstill two\n");
	/* A longer line is not the boundary; trailing white space is. */
	check_text("Content-Type: multipart/mixed; boundary=zz\n\n"
	           "--zz \t\n\none\n--zzz\n--zz-x\n--zz\n\ntwo\n--zz--",
	    "one\n--zzz\n--zz-x\n\ntwo\n");
	/* The body may start with the delimiter, parts may be empty. */
	check_text("Content-Type: multipart/mixed; boundary=\"a b\"\n\n"
	           "--a b\n--a b\n\nx\n--a b--\n",
	    "x\n");
	/* No boundary parameter, or one that never occurs: read as text. */
	check_text("Content-Type: multipart/mixed\n\nlost? no\n", "lost? no\n");
	check_text("Content-Type: multipart/mixed; boundary=q\n\n--x\nkept\n",
	    "--x\nkept\n");
	/* Only a close delimiter: nothing. */
	check_text(
	    "Content-Type: multipart/mixed; boundary=q\n\n--q--\nafter", "");
	/* Digest parts are messages. */
	check_text("Content-Type: multipart/digest; boundary=d\n\n"
	           "--d\n\nSubject: one\n\nfirst\n--d\n\nsecond\n--d--\n",
	    "first\n\nsecond\n");
}

static void
test_charsets(void **state)
{
	/* windows-1252 quotes, dashes, euro; the holes map to C1. */
	check_text("Content-Type: text/plain; charset=windows-1252\n"
	           "Content-Transfer-Encoding: quoted-printable\n\n"
	           "city=92s =93brigades=94 =96 =80 =85=81\n",
	    "city\xe2\x80\x99s \xe2\x80\x9c"
	    "brigades\xe2\x80\x9d \xe2\x80\x93 \xe2\x82\xac "
	    "\xe2\x80\xa6\xc2\x81\n");
	check_text("Content-Type: text/plain; charset=\"CP1252\"\n\n\x92\n",
	    "\xe2\x80\x99\n");
	/* Latin-1, 8bit. */
	check_text("Content-Type: text/plain; charset=ISO-8859-1\n"
	           "Content-Transfer-Encoding: 8bit\n\ncaf\xe9 \xff\n",
	    "caf\xc3\xa9 \xc3\xbf\n");
	check_text(
	    "Content-Type: text/plain; charset=latin1\n\n\xe9", "\xc3\xa9\n");
	/* Labelled Latin-1 but valid UTF-8: kept. */
	check_text("Content-Type: text/plain; charset=iso-8859-1\n\n"
	           "caf\xc3\xa9\n",
	    "caf\xc3\xa9\n");
	/* UTF-8 and ASCII as they are, invalid bytes too. */
	check_text("Content-Type: text/plain; charset=utf-8\n\n\xd8\xb3\xff\n",
	    "\xd8\xb3\xff\n");
	check_text(
	    "Content-Type: text/plain; charset=us-ascii\n\n\xe9\n", "\xe9\n");
	/* Others through iconv: ISO-8859-15 has the euro at 0xA4. */
	check_text("Content-Type: text/plain; charset=iso-8859-15\n\n\xa4 5\n",
	    "\xe2\x82\xac 5\n");
	check_text(
	    "Content-Type: text/plain; charset=koi8-r\n\n\xf3\xc9\xd2\xd4",
	    "\xd0\xa1\xd0\xb8\xd1\x80\xd1\x82\n");
	/* Bytes iconv refuses are kept, and it goes on after them. */
	check_text("Content-Type: text/plain; charset=iso-8859-8\n\n"
	           "\xf9\xa1\xec\xe5\xed",
	    "\xd7\xa9\xa1\xd7\x9c\xd7\x95\xd7\x9d\n");
	check_textn("Content-Type: text/plain; charset=utf-16le\n\nA\0B\0C", 49,
	    "ABC\n");
	/* Unknown or odd charsets keep the bytes. */
	check_text("Content-Type: text/plain; charset=x-unheard-of\n\n\xe9\n",
	    "\xe9\n");
	check_text("Content-Type: text/plain; charset=\"utf-8//TRANSLIT\"\n\n"
	           "\xe9\n",
	    "\xe9\n");
	/* HTML parts are converted before extraction. */
	check_text("Content-Type: text/html; charset=windows-1252\n\n"
	           "<p>Misrata\x92s &eacute;</p>",
	    "Misrata\xe2\x80\x99s \xc3\xa9\n");
}

static void
test_line_ends(void **state)
{
	static const char msg[] =
	    "Subject: =?utf-8?q?line?=\n"
	    "  ends\n"
	    "Content-Type: multipart/mixed; boundary=\"==b==\"\n"
	    "\n"
	    "--==b==\n"
	    "Content-Type: text/plain\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "one=\n"
	    " two\n"
	    "three\n"
	    "\n"
	    "--==b==\n"
	    "Content-Type: text/html\n"
	    "\n"
	    "<p>four</p>\n"
	    "--==b==--\n";
	struct eml lf, cr;
	char *s = crlf(msg);

	parse(msg, &lf);
	parse(s, &cr);
	assert_string_equal(lf.subject, "line ends");
	assert_string_equal(cr.subject, "line ends");
	assert_string_equal(lf.text.data, "one two\nthree\n\nfour\n");
	assert_string_equal(cr.text.data, lf.text.data);
	eml_release(&lf);
	eml_release(&cr);
	free(s);

	/* A lone CR ends a line too. */
	check_text("\na\rb\r\n", "a\nb\n");
}

static void
test_no_body(void **state)
{
	struct eml m;

	parse("Subject: only a subject\nFrom: x\n", &m);
	assert_string_equal(m.subject, "only a subject");
	assert_string_equal(m.text.data, "");
	assert_int_equal(m.text.len, 0);
	eml_release(&m);

	parse("Subject: s\n\n\n  \r\n\t\n", &m);
	assert_string_equal(m.text.data, "");
	eml_release(&m);

	eml_parse(NULL, 0, &m);
	assert_null(m.subject);
	assert_null(m.from);
	assert_null(m.date);
	assert_non_null(m.text.data);
	assert_int_equal(m.text.len, 0);
	eml_release(&m);
}

static void
test_not_mail(void **state)
{
	/* No header at all: every line is text. */
	check_text("Dear all, Islamic State in Sirte.\nSecond line: here\n",
	    "Dear all, Islamic State in Sirte.\nSecond line: here\n");
	check_text("  indented first\nline\n", "  indented first\nline\n");
	/* Header lines, then something that is not one: the body starts. */
	check_text("Subject: x\nnot a header\nmore\n", "not a header\nmore\n");
	/* An mbox "From " line and a BOM are skipped. */
	check_text("From someone@example.org Sat Feb 21 14:31:02 2015\n"
	           "Subject: s\n\nbody",
	    "body\n");
	check_text("\xef\xbb\xbfSubject: s\n\nbody", "body\n");
	/* A BOM in a part goes. */
	check_text("\n\xef\xbb\xbf"
	           "body",
	    "body\n");
	/* Unknown transfer encodings and invalid types are taken as text. */
	check_text("Content-Transfer-Encoding: x-uuencode\n\nabc", "abc\n");
	check_text("Content-Type: nonsense\n\nabc", "abc\n");
	check_text("Content-Type: image/png\n\nabc", "");
	check_text("Content-Type: text/calendar\n\nabc", "");
}

static void
test_samples(void **state)
{
	struct eml m;
	char *raw;
	size_t len;

	raw = read_sample("google-alert.eml", &len);
	eml_parse(raw, len, &m);
	assert_string_equal(
	    m.subject, "Google Alert \xe2\x80\x93 \"Islamic State\"");
	assert_string_equal(
	    m.from, "Google Alerts <googlealerts-noreply@google.com>");
	assert_string_equal(m.date, "Sat, 21 Feb 2015 14:31:02 +0000");
	assert_non_null(strstr(
	    m.text.data, "Islamic State fighters tighten grip on Sirte\n"));
	assert_non_null(strstr(m.text.data,
	    "took control of government buildings in Sirte, the coastal"));
	assert_non_null(strstr(m.text.data, "Libya's rival governments"));
	assert_non_null(strstr(m.text.data, "Saturday\xe2\x80\xa6"));
	assert_null(strchr(m.text.data, '<'));
	assert_null(strstr(m.text.data, "font-family"));
	assert_null(strstr(m.text.data, "=3D"));
	assert_null(strstr(m.text.data, "https://"));
	eml_release(&m);
	free(raw);

	raw = read_sample("misrata-cp1252.eml", &len);
	eml_parse(raw, len, &m);
	assert_string_equal(m.subject,
	    "Misrata brigades move west \xe2\x80\x93 \xe2\x80\x9c"
	    "a matter of days\xe2\x80\x9d");
	assert_string_equal(m.from, "Ren\xc3\xa9"
	                            "e Dubois <desk@agency.example>");
	assert_string_equal(m.date, "Tue, 12 May 2015 09:14:00 +0200");
	assert_non_null(strstr(m.text.data,
	    "Our correspondent in Misrata reports that the city\xe2\x80\x99s "
	    "brigades have moved west"));
	assert_non_null(strstr(m.text.data,
	    "\xe2\x80\x9cWe expect fighting within days,\xe2\x80\x9d"));
	assert_non_null(strstr(m.text.data, "The caf\xc3\xa9 near the port"));
	assert_null(strchr(m.text.data, '\r'));
	assert_null(strchr(m.text.data, '='));
	eml_release(&m);
	free(raw);

	raw = read_sample("sirte-arabic.eml", &len);
	eml_parse(raw, len, &m);
	assert_string_equal(m.subject, "سرت: تقرير ميداني");
	assert_string_equal(m.from, "مراسل <field@ngo.example>");
	assert_string_equal(m.date, "Sun, 24 Jan 2016 11:00:00 +0100");
	assert_string_equal(m.text.data,
	    "أفاد سكان في سرت بأن مقاتلين سيطروا على المباني الحكومية.\n"
	    "\n"
	    "Residents of Sirte (سرت) said fighters took the government "
	    "buildings.\n");
	eml_release(&m);
	free(raw);
}

/* Random bytes, and random damage to real messages: never a crash. */
static void
test_garbage(void **state)
{
	static const char alphabet[] = "=?-\r\n:;\" \tabqB_3D";
	static const char *samples[] = {
	    "google-alert.eml",
	    "misrata-cp1252.eml",
	    "sirte-arabic.eml",
	};
	char *raw[3], buf[512];
	size_t rawlen[3], len, i, j, k;
	unsigned int seed = 20150221;
	struct eml m;

	for (i = 0; i < 3; i++)
		raw[i] = read_sample(samples[i], &rawlen[i]);
	srand(seed);
	for (i = 0; i < 20000; i++) {
		len = (size_t)rand() % sizeof buf;
		for (j = 0; j < len; j++) {
			if (i % 2 == 0)
				buf[j] = (char)(rand() & 0xff);
			else
				buf[j] =
				    alphabet[rand() % (sizeof alphabet - 1)];
		}
		eml_parse(buf, len, &m);
		assert_non_null(m.text.data);
		eml_release(&m);
	}
	for (i = 0; i < 3000; i++) {
		k = i % 3;
		len = rawlen[k];
		for (j = 0; j < 8; j++)
			raw[k][(size_t)rand() % len] = (char)(rand() & 0xff);
		eml_parse(raw[k], (size_t)rand() % (len + 1), &m);
		assert_non_null(m.text.data);
		eml_release(&m);
	}
	for (i = 0; i < 3; i++)
		free(raw[i]);
}

/* Nested multiparts beyond the cap, with text at every level. */
static void
test_deep_nesting(void **state)
{
	struct buf b;
	struct eml m;
	int i, depth = 5000, seen;
	const char *p;

	buf_init(&b);
	for (i = 0; i < depth; i++)
		buf_printf(&b,
		    "Content-Type: multipart/mixed; boundary=b%d\n\n"
		    "--b%d\n\nlevel%d\n--b%d\n",
		    i, i, i, i);
	buf_add_str(&b, "\ninnermost\n");
	eml_parse(b.data, b.len, &m);
	assert_non_null(strstr(m.text.data, "level0\n"));
	assert_non_null(strstr(m.text.data, "level30\n"));
	assert_null(strstr(m.text.data, "level40\n"));
	assert_null(strstr(m.text.data, "innermost"));
	for (seen = 0, p = m.text.data; (p = strstr(p, "level")) != NULL; p++)
		seen++;
	assert_true(seen <= WL_MAX_MIME_DEPTH + 1);
	eml_release(&m);

	/* message/rfc822 inside message/rfc822, without boundaries. */
	buf_reset(&b);
	for (i = 0; i < depth; i++)
		buf_add_str(&b, "Content-Type: message/rfc822\n\n");
	buf_add_str(&b, "deep\n");
	eml_parse(b.data, b.len, &m);
	assert_string_equal(m.text.data, "");
	eml_release(&m);
	buf_release(&b);
}

static void
test_many_parts(void **state)
{
	struct buf b;
	struct eml m;
	int i;

	buf_init(&b);
	buf_add_str(&b, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (i = 0; i < 3 * WL_MAX_MIME_PARTS; i++)
		buf_printf(&b, "--p\n\npart%d\n", i);
	eml_parse(b.data, b.len, &m);
	assert_int_equal(strncmp(m.text.data, "part0\n", 6), 0);
	assert_non_null(strstr(m.text.data, "\npart900\n"));
	assert_null(strstr(m.text.data, "\npart1000\n"));
	eml_release(&m);
	buf_release(&b);
}

/* Inputs that a naive parser takes quadratic time on. */
static void
test_linear(void **state)
{
	static const char *units[] = {
	    "=?a?q?",  /* encoded-word starts with no end */
	    "=?",      /* bare starts */
	    "\n",      /* empty lines in a multipart */
	    "--b\n",   /* parts without headers */
	    "x: y\n ", /* one endless folded field */
	};
	struct buf b;
	struct eml m;
	clock_t t;
	size_t i, n = 1 << 20;

	buf_init(&b);
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		buf_reset(&b);
		buf_add_str(&b, "Subject: ");
		while (b.len < n)
			buf_add_str(&b, units[i]);
		buf_add_str(&b, "\nContent-Type: multipart/mixed; boundary=");
		while (b.len < 2 * n)
			buf_add_byte(&b, 'b');
		buf_add_str(&b, "\n\n");
		while (b.len < 3 * n)
			buf_add_str(&b, units[i]);
		t = clock();
		eml_parse(b.data, b.len, &m);
		eml_release(&m);
		if (clock() - t > 5 * CLOCKS_PER_SEC)
			fail_msg("%s: too slow", units[i]);
	}
	buf_release(&b);
}

static void
test_doc_email(void **state)
{
	static const char msg[] =
	    "From: Desk <desk@example.org>\r\n"
	    "Date: Sat, 21 Feb 2015 14:31:02 +0000\r\n"
	    "Subject: =?utf-8?q?Sirte_=E2=80=93_update?=\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "\r\n"
	    "<html><head><title>ignored</title></head>"
	    "<body><p>Islamic State in Sirte</p></body></html>\r\n";
	struct doc *d;
	const char *want =
	    "Sirte \xe2\x80\x93 update\n\nIslamic State in Sirte\n";
	const char *at;

	d = doc_from_bytes("a.eml", xstrdup(msg), sizeof msg - 1, DOC_EMAIL);
	assert_int_equal(d->format, DOC_EMAIL);
	assert_int_equal(d->rawlen, sizeof msg - 1);
	assert_ptr_equal(d->text, d->extracted);
	assert_string_equal(d->text, want);
	assert_int_equal(d->textlen, strlen(want));
	assert_string_equal(d->title, "Sirte \xe2\x80\x93 update");
	assert_string_equal(d->from, "Desk <desk@example.org>");
	assert_string_equal(d->date, "Sat, 21 Feb 2015 14:31:02 +0000");
	assert_null(d->link);
	assert_null(d->published);
	/* Offsets refer to the extracted text, the subject included. */
	assert_int_equal(strncmp(d->text, "Sirte", 5), 0);
	at = strstr(d->text, "Islamic State");
	assert_int_equal(at - d->text, strlen("Sirte \xe2\x80\x93 update\n\n"));
	doc_free(d);

	/* No subject: the body alone; no body: the subject alone. */
	d = doc_from_bytes("b.eml", xstrdup("\nbody"), 5, DOC_EMAIL);
	assert_string_equal(d->text, "body\n");
	assert_null(d->title);
	assert_null(d->from);
	doc_free(d);
	d = doc_from_bytes("c.eml", xstrdup("Subject: s\n"), 11, DOC_EMAIL);
	assert_string_equal(d->text, "s\n");
	doc_free(d);
	d = doc_from_bytes("d.eml", NULL, 0, DOC_EMAIL);
	assert_string_equal(d->text, "");
	assert_int_equal(d->textlen, 0);
	doc_free(d);

	/* Text and HTML documents have no e-mail fields. */
	d = doc_from_bytes("e.txt", xstrdup("Subject: x\n"), 11, DOC_TEXT);
	assert_null(d->from);
	assert_null(d->date);
	doc_free(d);
}

static void
test_doc_formats(void **state)
{
	struct doc *d;
	char *path, *cause = NULL;
	const char *want;

	assert_int_equal(doc_format_from_name("a.eml"), DOC_EMAIL);
	assert_int_equal(doc_format_from_name("dir/A.EML"), DOC_EMAIL);
	assert_int_equal(doc_format_from_name("a.Eml"), DOC_EMAIL);
	assert_int_equal(doc_format_from_name("a.eml.txt"), DOC_TEXT);
	assert_int_equal(doc_format_from_name("a.emlx"), DOC_TEXT);
	assert_int_equal(doc_format_from_name("x.eml/readme"), DOC_TEXT);
	assert_int_equal(doc_format_from_name("eml"), DOC_TEXT);
	assert_int_equal(doc_format_from_name("a.html"), DOC_HTML);
	assert_string_equal(doc_format_name(DOC_EMAIL), "email");
	assert_string_equal(doc_format_name(DOC_HTML), "html");
	assert_string_equal(doc_format_name(DOC_TEXT), "text");

	assert_true(doc_format_known("a.txt"));
	assert_true(doc_format_known("a.TEXT"));
	assert_true(doc_format_known("d/a.html"));
	assert_true(doc_format_known("a.HTM"));
	assert_true(doc_format_known("a.eml"));
	assert_false(doc_format_known("a.pdf"));
	assert_false(doc_format_known("a.txt.gz"));
	assert_false(doc_format_known("README"));
	assert_false(doc_format_known("a.txt/b"));
	assert_false(doc_format_known("-"));
	assert_false(doc_format_known(""));
	assert_false(doc_format_known(".txtx"));

	/* doc_load takes the format from the name. */
	path = xasprintf("%s/eml/sirte-arabic.eml",
	    getenv("WL_TEST_DATA") != NULL ? getenv("WL_TEST_DATA")
	                                   : "tests/data");
	d = doc_load(path, 1 << 20, &cause);
	if (d == NULL)
		fail_msg("%s: %s", path, cause);
	assert_int_equal(d->format, DOC_EMAIL);
	assert_string_equal(d->title, "سرت: تقرير ميداني");
	want = "سرت: تقرير ميداني\n\nأفاد";
	assert_int_equal(strncmp(d->text, want, strlen(want)), 0);
	doc_free(d);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_fields),
	    cmocka_unit_test(test_header_words),
	    cmocka_unit_test(test_qp),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_alternative),
	    cmocka_unit_test(test_mixed_nested),
	    cmocka_unit_test(test_boundaries),
	    cmocka_unit_test(test_charsets),
	    cmocka_unit_test(test_line_ends),
	    cmocka_unit_test(test_no_body),
	    cmocka_unit_test(test_not_mail),
	    cmocka_unit_test(test_samples),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_many_parts),
	    cmocka_unit_test(test_linear),
	    cmocka_unit_test(test_doc_email),
	    cmocka_unit_test(test_doc_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
