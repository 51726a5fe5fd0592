/*
 * Documents: what a file holds, as text that the watchlist scans.
 *
 * Plain text is scanned as it is (UTF-8, a BOM skipped, invalid bytes
 * tolerated), so offsets refer to the file.  HTML is reduced to its visible
 * text first (html.h); an e-mail to its Subject line, a blank line and the
 * text of its body (eml.h).  Offsets then refer to that extracted text.
 */
#ifndef WATCHLISTD_DOC_H
#define WATCHLISTD_DOC_H

#include <stddef.h>

enum doc_format {
	DOC_TEXT,
	DOC_HTML,
	DOC_EMAIL,
};

struct doc {
	char *name; /* the source as named by the user ("-": stdin) */
	enum doc_format format;

	char *raw; /* the bytes read */
	size_t rawlen;

	/*
	 * What the watchlist scans: raw itself for text, extracted for HTML
	 * and e-mail.
	 */
	const char *text;
	size_t textlen;
	char *extracted; /* owned; NULL for text */

	char *title;     /* HTML <title> or e-mail Subject, NULL if none */
	char *link;      /* HTML <link rel=canonical href>, NULL if none */
	char *published; /* HTML <meta property=article:published_time> */
	char *from;      /* e-mail From, decoded; NULL if none or not e-mail */
	char *date;      /* e-mail Date as written; NULL likewise */
};

/*
 * The format a file name implies: .html and .htm are HTML, .eml is e-mail
 * (any letter case), all else text.
 */
enum doc_format doc_format_from_name(const char *name);
/* "text", "html" or "email". */
const char *doc_format_name(enum doc_format f);
/*
 * Whether the name has one of the extensions the formats are known by
 * (.txt .text .html .htm .eml), so that a caller can be wary of other
 * files, which are read as text.
 */
int doc_format_known(const char *name);

/*
 * Make a document from bytes, taking ownership of raw (allocated with
 * malloc).  name is copied.
 */
struct doc *doc_from_bytes(
    const char *name, char *raw, size_t len, enum doc_format format);

struct feed_entry;

/*
 * A feed entry as a document: its title, a blank line, and its content (or
 * summary) as text; title, link and published (RFC 3339 UTC) are set from
 * the entry.  name is copied.
 */
struct doc *doc_from_feed_entry(const char *name, const struct feed_entry *e);

/*
 * Read a file (or stdin for "-") of at most max bytes into a document, its
 * format from its name.  A path must name a regular file (symbolic links are
 * followed).  Returns NULL with *cause set (the caller frees it) when the
 * file cannot be read or is larger than max; the cause does not repeat the
 * path ("cannot open: No such file or directory").  raw is NUL-terminated.
 */
struct doc *doc_load(const char *path, size_t max, char **cause);
void doc_free(struct doc *d);

#endif
