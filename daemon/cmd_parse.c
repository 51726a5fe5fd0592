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
#include "json.h"
#include "options.h"
#include "text.h"

static const char cmd_parse_usage[] =
    "usage: watchlistd parse [--json] FILE...|-\n"
    "\n"
    "Show the text extracted from each file (\"-\" is standard input):\n"
    "HTML (.html, .htm) is reduced to its visible text, with its title,\n"
    "canonical link and publication time; e-mail (.eml) to its subject and\n"
    "body text, with its sender and date; anything else is plain text.\n"
    "\n"
    "  --json    one JSON object per file and line\n"
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
	struct doc *d;
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
		d = doc_load(files[i], WL_MAX_DOCUMENT_SIZE, &cause);
		if (d == NULL) {
			fflush(stdout);
			fprintf(stderr, "watchlistd: parse: %s: %s\n", files[i],
			    cause);
			free(cause);
			failed = 1;
			continue;
		}
		buf_reset(&b);
		if (json)
			cmd_parse_json(d, &b);
		else
			cmd_parse_human(d, &b, shown == 0);
		fwrite(b.data, 1, b.len, stdout);
		shown++;
		doc_free(d);
	}
	buf_release(&b);

	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "watchlistd: parse: standard output: %s\n",
		    strerror(errno));
		return 2;
	}
	return failed ? 2 : 0;
}
