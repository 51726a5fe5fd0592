/*
 * Feeds: RSS 0.9x/2.0, RSS 1.0 (RDF), Atom 1.0 and JSON Feed 1.0/1.1 parsed
 * into entries, to feedparser's standard where it matters to users.
 *
 * XML goes through expat with namespaces; a DOCTYPE or an entity
 * declaration is refused (no entity expansion, no external entities).
 * Undeclared HTML entities (&nbsp; &eacute; in RSS titles) and stray '&' are
 * recovered from, since real feeds are full of them.  The declared encoding
 * (UTF-8, UTF-16, ISO-8859-1, windows-1252 at least) is honoured.  HTML
 * values become text through html.c; text values are kept literally.
 * Dates are converted to UTC.
 */
#ifndef WATCHLISTD_FEED_H
#define WATCHLISTD_FEED_H

#include <stddef.h>
#include <stdint.h>

enum feed_format {
	FEED_UNKNOWN,
	FEED_RSS2, /* RSS 0.91-0.94, 2.0, and <rss> without version */
	FEED_RSS1, /* RSS 1.0 / RDF, and RSS 0.90 */
	FEED_ATOM, /* Atom 1.0 */
	FEED_JSON, /* JSON Feed 1.0 / 1.1 */
};

struct feed_entry {
	char *title;       /* plain text, NULL if absent */
	char *link;        /* the alternate link, not an enclosure */
	char *id;          /* guid / atom:id / rdf:about / JSON id */
	int64_t published; /* Unix seconds UTC; INT64_MIN if absent/invalid */
	int64_t updated;
	char *summary; /* plain text */
	char *content; /* plain text */
};

struct feed {
	enum feed_format format;
	char *title;
	char *link;
	char *encoding; /* lower-case name of the encoding used */
	int bozo;       /* recovered from broken input */
	struct feed_entry *entries;
	size_t nentries;
};

/*
 * Parse a feed document of len bytes.  Returns 0 (warnings make bozo 1), or
 * -1 with *cause (caller frees) when it is not a feed or is refused (a
 * DOCTYPE, too deep, not well-formed beyond recovery, larger than the caps
 * in options.h).  out is always safe to release.
 */
int feed_parse(const char *data, size_t len, struct feed *out, char **cause);
void feed_release(struct feed *f);

/* Whether a file name looks like a feed: .xml .rss .atom .rdf .json. */
int feed_name_is_feed(const char *name);

/*
 * A date as feeds write them (RFC 822 and its sloppy variants, RFC 3339 /
 * ISO 8601 / W3C-DTF, asctime) in Unix seconds UTC.  -1 if not a date.
 */
int feed_parse_date(const char *s, int64_t *t);

/*
 * Whether the bytes look like a feed whatever the file is called: an XML
 * document whose root is <rss>, <feed> or <rdf:RDF>, or a JSON object that
 * names a jsonfeed.org version.
 */
int feed_sniff(const char *data, size_t len);

/*
 * Write t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least FEED_DATE_LEN
 * bytes).  Returns -1 (buf empty) for INT64_MIN or a year outside 0-9999.
 */
#define FEED_DATE_LEN 21
int feed_format_date(int64_t t, char *buf, size_t len);

/* "rss", "rdf", "atom", "json" or "unknown". */
const char *feed_format_name(enum feed_format f);

#endif
