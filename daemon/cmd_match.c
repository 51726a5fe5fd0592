/*
 * watchlistd match: the dry run.  Every hit in each source, with where it
 * is and why it matched, then every rule that fires; or the same as JSON
 * lines (DESIGN.md "Dry-run output"), or counts like grep -c.
 *
 * Exit status as grep's: 0 when a rule fired, 1 when none did, 2 on error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "doc.h"
#include "json.h"
#include "options.h"
#include "rule.h"
#include "text.h"
#include "watchlist.h"

enum cmd_match_output {
	CMD_MATCH_HUMAN,
	CMD_MATCH_JSON,
	CMD_MATCH_COUNT,
};

struct cmd_match {
	struct config *cf;
	enum cmd_match_output output;
	int nsources; /* for grep -c's "name:count" with several */
	struct buf out;
	struct buf tmp;
	struct buf name; /* the source's name, escaped */
	struct watchlist_hits hits;
};

static void
cmd_match_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: watchlistd [-c FILE] match [--json|--count] [FILE...|-]\n"
	    "Match files (or standard input) against the watchlist and show "
	    "every hit and\nevery rule that fires.  .html and .htm files are "
	    "matched on their extracted\ntext.  Exit 0 if a rule fired, 1 if "
	    "none, 2 on error.\n"
	    "\n"
	    "  --json     one JSON object per line: hits, then rules\n"
	    "  --count    the number of hits per source\n"
	    "  --help     this help\n");
}

/* The alias as the user wrote it, '*' included. */
static void
cmd_match_alias(struct buf *b, const struct watchlist_alias *a)
{
	buf_add_str(b, a->text);
	if (a->star)
		buf_add_byte(b, '*');
}

/*
 * Append up to WL_CONTEXT_CHARS characters of context on each side of the
 * hit, on one line, with the hit in brackets.  The text is a stranger's:
 * control characters are escaped.  from is where the text may begin (after
 * a BOM).
 */
static void
cmd_match_context(struct buf *b, const char *text, size_t len, size_t from,
    size_t start, size_t end)
{
	size_t lo = start, hi = end;
	int n;
	int32_t cp;

	/* Step back over whole code points (continuation bytes 10xxxxxx). */
	for (n = 0; n < WL_CONTEXT_CHARS && lo > from; n++) {
		lo--;
		while (lo > from && ((unsigned char)text[lo] & 0xc0) == 0x80)
			lo--;
	}
	for (n = 0; n < WL_CONTEXT_CHARS && hi < len; n++)
		hi += text_utf8_decode(text + hi, len - hi, &cp);

	if (lo > from)
		buf_add_str(b, "...");
	text_escape(b, text + lo, start - lo, TEXT_ESCAPE_SPACE);
	buf_add_byte(b, '[');
	text_escape(b, text + start, end - start, TEXT_ESCAPE_SPACE);
	buf_add_byte(b, ']');
	text_escape(b, text + end, hi - end, TEXT_ESCAPE_SPACE);
	if (hi < len)
		buf_add_str(b, "...");
}

/* Where the text starts: a leading BOM is not part of line 1. */
static size_t
cmd_match_text_start(const struct doc *d)
{
	if (d->textlen >= 3 && memcmp(d->text, "\xef\xbb\xbf", 3) == 0)
		return 3;
	return 0;
}

static void
cmd_match_hits_human(struct cmd_match *cm, const struct doc *d)
{
	const struct watchlist_hits *h = &cm->hits;
	const struct watchlist_entry *e;
	const struct watchlist_hit *hit;
	size_t i, from = cmd_match_text_start(d), pos = from, line = 1, col = 1;
	int32_t cp;

	buf_reset(&cm->name);
	text_escape(&cm->name, d->name, strlen(d->name), 0);
	if (d->format != DOC_TEXT)
		printf("%s: %s: line:column refer to the extracted text "
		       "(see watchlistd parse)\n",
		    cm->name.data, d->format == DOC_HTML ? "HTML" : "e-mail");
	for (i = 0; i < h->n; i++) {
		hit = &h->v[i];
		e = watchlist_entry(cm->cf->wl, hit->entry);
		/* Hits are sorted by start: count lines in one pass. */
		while (pos < hit->start) {
			pos += text_utf8_decode(
			    d->text + pos, d->textlen - pos, &cp);
			if (cp == '\n') {
				line++;
				col = 1;
			} else
				col++;
		}
		buf_reset(&cm->out);
		buf_printf(&cm->out, "%s:%zu:%zu: %s (%s) \"", cm->name.data,
		    line, col, e->id, watchlist_kind_name(e->kind));
		buf_reset(&cm->tmp);
		cmd_match_alias(&cm->tmp, &e->aliases[hit->alias]);
		text_escape(&cm->out, cm->tmp.data, cm->tmp.len, 0);
		buf_add_str(&cm->out, "\": ");
		cmd_match_context(
		    &cm->out, d->text, d->textlen, from, hit->start, hit->end);
		buf_add_byte(&cm->out, '\n');
		fwrite(cm->out.data, 1, cm->out.len, stdout);
	}
}

static void
cmd_match_hits_json(struct cmd_match *cm, const struct doc *d)
{
	const struct watchlist_hits *h = &cm->hits;
	const struct watchlist_entry *e;
	const struct watchlist_hit *hit;
	size_t i;

	for (i = 0; i < h->n; i++) {
		hit = &h->v[i];
		e = watchlist_entry(cm->cf->wl, hit->entry);
		buf_reset(&cm->out);
		buf_add_str(&cm->out, "{\"type\":\"hit\",");
		json_add_kv_cstring(&cm->out, "source", d->name);
		buf_add_byte(&cm->out, ',');
		json_add_kv_cstring(&cm->out, "entry", e->id);
		buf_add_byte(&cm->out, ',');
		json_add_kv_cstring(
		    &cm->out, "kind", watchlist_kind_name(e->kind));
		buf_add_byte(&cm->out, ',');
		buf_reset(&cm->tmp);
		cmd_match_alias(&cm->tmp, &e->aliases[hit->alias]);
		json_add_kv_string(
		    &cm->out, "alias", cm->tmp.data, cm->tmp.len);
		buf_add_byte(&cm->out, ',');
		json_add_kv_uint(&cm->out, "start", hit->start);
		buf_add_byte(&cm->out, ',');
		json_add_kv_uint(&cm->out, "end", hit->end);
		buf_add_byte(&cm->out, ',');
		json_add_kv_string(&cm->out, "text", d->text + hit->start,
		    hit->end - hit->start);
		buf_add_str(&cm->out, "}\n");
		fwrite(cm->out.data, 1, cm->out.len, stdout);
	}
}

static void
cmd_match_rule(struct cmd_match *cm, const struct doc *d, const struct rule *r,
    const uint32_t *entries, size_t nentries)
{
	const struct watchlist_entry *e;
	size_t i;

	buf_reset(&cm->out);
	if (cm->output == CMD_MATCH_JSON) {
		buf_add_str(&cm->out, "{\"type\":\"rule\",");
		json_add_kv_cstring(&cm->out, "source", d->name);
		buf_add_byte(&cm->out, ',');
		json_add_kv_cstring(&cm->out, "rule", r->id);
		buf_add_byte(&cm->out, ',');
		json_add_kv_cstring(
		    &cm->out, "severity", rule_severity_name(r->severity));
		buf_add_str(&cm->out, ",\"entries\":[");
		for (i = 0; i < nentries; i++) {
			e = watchlist_entry(cm->cf->wl, entries[i]);
			if (i > 0)
				buf_add_byte(&cm->out, ',');
			json_add_cstring(&cm->out, e->id);
		}
		buf_add_str(&cm->out, "]}\n");
	} else {
		text_escape(&cm->out, d->name, strlen(d->name), 0);
		buf_printf(&cm->out, ": rule %s fired (%s)", r->id,
		    rule_severity_name(r->severity));
		/* A rule that holds through NOT alone has no entries. */
		for (i = 0; i < nentries; i++) {
			e = watchlist_entry(cm->cf->wl, entries[i]);
			buf_printf(&cm->out, "%s %s", i > 0 ? "," : ":", e->id);
		}
		buf_add_byte(&cm->out, '\n');
	}
	fwrite(cm->out.data, 1, cm->out.len, stdout);
}

/* Match one source; returns 1 if a rule fired, 0 if none, -1 on error. */
static int
cmd_match_source(struct cmd_match *cm, const char *path)
{
	struct rule_input *in;
	struct doc *d;
	uint32_t *entries;
	size_t i, nentries;
	char *cause;
	int fired = 0;

	d = doc_load(path, cm->cf->daemon.max_document_size, &cause);
	if (d == NULL) {
		fprintf(stderr, "watchlistd: match: %s: %s\n", path, cause);
		free(cause);
		return -1;
	}
	watchlist_scan(cm->cf->wl, d->text, d->textlen, &cm->hits);

	if (cm->output == CMD_MATCH_HUMAN)
		cmd_match_hits_human(cm, d);
	else if (cm->output == CMD_MATCH_JSON)
		cmd_match_hits_json(cm, d);
	else if (cm->nsources > 1) {
		buf_reset(&cm->name);
		text_escape(&cm->name, d->name, strlen(d->name), 0);
		printf("%s:%zu\n", cm->name.data, cm->hits.n);
	} else
		printf("%zu\n", cm->hits.n);

	in = rule_input_new(cm->cf->wl, &cm->hits);
	for (i = 0; i < cm->cf->nrules; i++) {
		if (!rule_expr_eval(
		        cm->cf->rules[i]->expr, in, &entries, &nentries))
			continue;
		fired = 1;
		if (cm->output != CMD_MATCH_COUNT)
			cmd_match_rule(
			    cm, d, cm->cf->rules[i], entries, nentries);
		free(entries);
	}
	rule_input_free(in);
	doc_free(d);
	return fired;
}

int
cmd_match(const char *config_path, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"count", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char dash[] = "-";
	char *stdin_only[] = {dash, NULL};
	struct cmd_match cm;
	char *const *sources;
	int ch, i, r, fired = 0, failed = 0;

	memset(&cm, 0, sizeof cm);
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			cm.output = CMD_MATCH_JSON;
			break;
		case 'n':
			cm.output = CMD_MATCH_COUNT;
			break;
		case 'h':
			cmd_match_usage(stdout);
			return 0;
		default:
			cmd_match_usage(stderr);
			return 2;
		}
	}
	sources = argv + optind;
	cm.nsources = argc - optind;
	if (cm.nsources == 0) {
		sources = stdin_only;
		cm.nsources = 1;
	}

	cm.cf = config_load(config_path);
	config_print_diags(cm.cf, stderr);
	if (cm.cf->nerrors > 0) {
		fprintf(stderr, "watchlistd: %zu error%s in configuration\n",
		    cm.cf->nerrors, cm.cf->nerrors == 1 ? "" : "s");
		config_free(cm.cf);
		return 2;
	}
	buf_init(&cm.out);
	buf_init(&cm.tmp);
	buf_init(&cm.name);
	watchlist_hits_init(&cm.hits);
	for (i = 0; i < cm.nsources; i++) {
		r = cmd_match_source(&cm, sources[i]);
		if (r < 0)
			failed = 1;
		else if (r > 0)
			fired = 1;
	}
	fflush(stdout);
	watchlist_hits_release(&cm.hits);
	buf_release(&cm.out);
	buf_release(&cm.tmp);
	buf_release(&cm.name);
	config_free(cm.cf);
	if (failed)
		return 2;
	return fired ? 0 : 1;
}
