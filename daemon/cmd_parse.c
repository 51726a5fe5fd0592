/*
 * watchlistd parse: show what the daemon would scan in each file, so that a
 * user can see why a word did or did not match.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "doc.h"
#include "feed.h"
#include "json.h"
#include "options.h"
#include "text.h"
#include "xmalloc.h"

static const char cmd_parse_usage[] =
    "usage: watchlistd parse [--json] FILE...|-\n"
    "\n"
    "Show the text extracted from each file (\"-\" is standard input):\n"
    "HTML (.html, .htm) is reduced to its visible text, with its title,\n"
    "canonical link and publication time; e-mail (.eml) to its subject and\n"
    "body text, with its sender and date; a feed (RSS, RDF, Atom, JSON Feed:\n"
    ".xml .rss .atom .rdf .json, or any file that looks like one) to its\n"
    "entries; anything else is plain text.\n"
    "\n"
    "  --json    one JSON object per file and line; for a feed, one for the\n"
    "            feed, then one per entry\n"
    "  --help    show this help\n";

static void
cmd_parse_json(const struct doc *d, struct buf *b)
{
	buf_add_byte(b, '{');
	json_add_kv_cstring(b, "source", d->name);
	buf_add_byte(b, ',');
	json_add_kv_cstring(b, "format", doc_format_name(d->format));
	buf_add_byte(b, ',');
	json_add_kv_uint(b, "bytes", d->rawlen);
	if (d->title != NULL) {
		buf_add_byte(b, ',');
		json_add_kv_cstring(b, "title", d->title);
	}
	if (d->link != NULL) {
		buf_add_byte(b, ',');
		json_add_kv_cstring(b, "link", d->link);
	}
	if (d->published != NULL) {
		buf_add_byte(b, ',');
		json_add_kv_cstring(b, "published", d->published);
	}
	if (d->from != NULL) {
		buf_add_byte(b, ',');
		json_add_kv_cstring(b, "from", d->from);
	}
	if (d->date != NULL) {
		buf_add_byte(b, ',');
		json_add_kv_cstring(b, "date", d->date);
	}
	buf_add_byte(b, ',');
	json_add_kv_string(b, "text", d->text, d->textlen);
	buf_add_str(b, "}\n");
}

/* Append "label" and a document's field, escaped: it is a stranger's. */
static void
cmd_parse_field(struct buf *b, const char *label, const char *value)
{
	if (value == NULL)
		return;
	buf_add_str(b, label);
	text_escape(b, value, strlen(value), 0);
	buf_add_byte(b, '\n');
}

/* The human form; control characters in the document are escaped. */
static void
cmd_parse_human(const struct doc *d, struct buf *b, int first)
{
	if (!first)
		buf_add_byte(b, '\n');
	buf_add_str(b, "== ");
	text_escape(b, d->name, strlen(d->name), 0);
	buf_printf(b, " (%s, %zu bytes", doc_format_name(d->format), d->rawlen);
	if (d->format != DOC_TEXT)
		buf_printf(b, "; text %zu bytes", d->textlen);
	buf_add_str(b, ")\n");
	cmd_parse_field(b, "title: ", d->title);
	cmd_parse_field(b, "link: ", d->link);
	cmd_parse_field(b, "published: ", d->published);
	cmd_parse_field(b, "from: ", d->from);
	cmd_parse_field(b, "date: ", d->date);
	buf_add_byte(b, '\n');
	text_escape(b, d->text, d->textlen, TEXT_ESCAPE_KEEP_NL);
	if (d->textlen > 0 && d->text[d->textlen - 1] != '\n')
		buf_add_byte(b, '\n');
}

static void
cmd_parse_json_date(struct buf *b, const char *key, int64_t t)
{
	char date[FEED_DATE_LEN];

	if (feed_format_date(t, date, sizeof date) != 0)
		return;
	buf_add_byte(b, ',');
	json_add_kv_cstring(b, key, date);
}

static void
cmd_parse_json_opt(struct buf *b, const char *key, const char *value)
{
	if (value == NULL)
		return;
	buf_add_byte(b, ',');
	json_add_kv_cstring(b, key, value);
}

/* A feed as JSON lines: the feed, then each entry; absent fields omitted. */
static void
cmd_parse_feed_json(const char *name, const struct feed *f, struct buf *b)
{
	const struct feed_entry *e;
	size_t i;

	buf_add_str(b, "{\"feed\":{");
	json_add_kv_cstring(b, "source", name);
	cmd_parse_json_opt(b, "title", f->title);
	cmd_parse_json_opt(b, "link", f->link);
	cmd_parse_json_opt(b, "encoding", f->encoding);
	cmd_parse_json_opt(b, "format", feed_format_name(f->format));
	buf_add_str(b, f->bozo ? ",\"bozo\":true" : ",\"bozo\":false");
	buf_printf(b, ",\"entries\":%zu}}\n", f->nentries);
	for (i = 0; i < f->nentries; i++) {
		e = &f->entries[i];
		buf_add_byte(b, '{');
		json_add_kv_uint(b, "entry", i);
		cmd_parse_json_opt(b, "title", e->title);
		cmd_parse_json_opt(b, "link", e->link);
		cmd_parse_json_opt(b, "id", e->id);
		cmd_parse_json_date(b, "published", e->published);
		cmd_parse_json_date(b, "updated", e->updated);
		cmd_parse_json_opt(b, "summary", e->summary);
		cmd_parse_json_opt(b, "content", e->content);
		buf_add_str(b, "}\n");
	}
}

static void
cmd_parse_date(struct buf *b, const char *label, int64_t t)
{
	char date[FEED_DATE_LEN];

	if (feed_format_date(t, date, sizeof date) == 0)
		cmd_parse_field(b, label, date);
}

/* Text of an entry, line breaks kept, control characters escaped. */
static void
cmd_parse_body(struct buf *b, const char *label, const char *text)
{
	if (text == NULL || *text == '\0')
		return;
	buf_add_str(b, label);
	buf_add_byte(b, '\n');
	text_escape(b, text, strlen(text), TEXT_ESCAPE_KEEP_NL);
	buf_add_byte(b, '\n');
}

/* The human form of a feed: a header, then each entry. */
static void
cmd_parse_feed_human(
    const char *name, const struct feed *f, struct buf *b, int first)
{
	const struct feed_entry *e;
	size_t i;

	if (!first)
		buf_add_byte(b, '\n');
	buf_add_str(b, "== ");
	text_escape(b, name, strlen(name), 0);
	buf_printf(b, " (feed %s, %s, %zu entries%s)\n",
	    feed_format_name(f->format), f->encoding ? f->encoding : "?",
	    f->nentries, f->bozo ? ", recovered from errors" : "");
	cmd_parse_field(b, "title: ", f->title);
	cmd_parse_field(b, "link: ", f->link);
	for (i = 0; i < f->nentries; i++) {
		e = &f->entries[i];
		buf_printf(b, "\n-- entry %zu\n", i);
		cmd_parse_field(b, "title: ", e->title);
		cmd_parse_field(b, "link: ", e->link);
		cmd_parse_field(b, "id: ", e->id);
		cmd_parse_date(b, "published: ", e->published);
		cmd_parse_date(b, "updated: ", e->updated);
		cmd_parse_body(b, "summary:", e->summary);
		cmd_parse_body(b, "content:", e->content);
	}
}

/*
 * A feed is known by its name or, whatever its name, by its first bytes;
 * 0 when shown, -1 with *cause when it is not a feed after all.
 */
static int
cmd_parse_feed(
    const struct doc *d, int json, int first, struct buf *b, char **cause)
{
	struct feed f;

	if (feed_parse(d->raw, d->rawlen, &f, cause) != 0)
		return -1;
	if (json)
		cmd_parse_feed_json(d->name, &f, b);
	else
		cmd_parse_feed_human(d->name, &f, b, first);
	feed_release(&f);
	return 0;
}

/*
 * Load one file and show it into b; -1 with *cause if it cannot be read or
 * parsed.  Feeds may be larger than other documents.
 */
static int
cmd_parse_one(
    const char *path, int json, int first, struct buf *b, char **cause)
{
	struct doc *d;
	int is_feed, rc = 0;

	d = doc_load(path,
	    WL_MAX_FEED_BYTES > WL_MAX_DOCUMENT_SIZE ? WL_MAX_FEED_BYTES
	                                             : WL_MAX_DOCUMENT_SIZE,
	    cause);
	if (d == NULL)
		return -1;
	is_feed = feed_name_is_feed(d->name) || feed_sniff(d->raw, d->rawlen);
	if (is_feed)
		rc = cmd_parse_feed(d, json, first, b, cause);
	else if (d->rawlen > WL_MAX_DOCUMENT_SIZE) {
		*cause = xasprintf("larger than max_document_size (%d bytes)",
		    WL_MAX_DOCUMENT_SIZE);
		rc = -1;
	} else if (json)
		cmd_parse_json(d, b);
	else
		cmd_parse_human(d, b, first);
	doc_free(d);
	return rc;
}

/* main() has reset optind, so getopt_long starts afresh here. */
int
cmd_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct buf b;
	char **files, *cause;
	int ch, i, nfiles, json = 0, failed = 0, shown = 0;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(cmd_parse_usage, stdout);
			return 0;
		default:
			fputs(cmd_parse_usage, stderr);
			return 2;
		}
	}
	files = argv + optind;
	nfiles = argc - optind;
	if (nfiles == 0) {
		fputs(cmd_parse_usage, stderr);
		return 2;
	}

	buf_init(&b);
	for (i = 0; i < nfiles; i++) {
		buf_reset(&b);
		if (cmd_parse_one(files[i], json, shown == 0, &b, &cause) !=
		    0) {
			fflush(stdout);
			fprintf(stderr, "watchlistd: parse: %s: %s\n", files[i],
			    cause);
			free(cause);
			failed = 1;
			continue;
		}
		fwrite(b.data, 1, b.len, stdout);
		shown++;
	}
	buf_release(&b);

	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "watchlistd: parse: standard output: %s\n",
		    strerror(errno));
		return 2;
	}
	return failed ? 2 : 0;
}
