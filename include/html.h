/*
 * HTML to text, for matching.  A forgiving tokenizer, not a validator: any
 * byte sequence gives some text.
 *
 * - the content of script, style, head, template, noscript is dropped
 *   (title is kept aside);
 * - comments, doctypes, processing instructions and tags add nothing,
 *   except that block-level elements (p, div, br, li, h1-h6, tr, td, ...)
 *   end a line, so words on either side never join;
 * - runs of white space become one space; lines are trimmed;
 * - every HTML5 character reference is decoded (named ones from the full
 *   WHATWG table in entities.c, numeric ones with the HTML5 fix-ups);
 * - attribute values are never text.
 *
 * Each line of the text ends with '\n' when a block element ends it; lines
 * are never empty and the text never starts with '\n'.  Bytes that are not
 * UTF-8 are copied as they are; a NUL byte becomes U+FFFD.
 */
#ifndef WATCHLISTD_HTML_H
#define WATCHLISTD_HTML_H

#include <stddef.h>

#include "buf.h"

struct html_meta {
	char *title;     /* text of <title>, NULL if none or empty */
	char *link;      /* href of <link rel="canonical">, NULL if none */
	char *published; /* content of <meta property="article:published_time">
	                    (or name=), NULL if none */
};

/*
 * Extract the text of html[0..len) into out (appended).  meta, if not NULL,
 * receives the fields above (new strings, freed with html_meta_release);
 * the first <title> and the first canonical link count.  out->data is never
 * NULL afterwards.
 */
void html_extract(
    const char *html, size_t len, struct buf *out, struct html_meta *meta);
void html_meta_release(struct html_meta *meta);

/*
 * Decode the character reference at s (s[0] == '&'), n bytes readable.
 * Appends the decoded text to out and returns the bytes consumed, or returns
 * 0 (nothing appended) when s does not start a reference.  in_attr applies
 * the attribute-value rule for legacy names without ';'.
 */
size_t html_decode_ref(const char *s, size_t n, struct buf *out, int in_attr);

/* Decode every character reference in s[0..n), appending to out. */
void html_decode_text(const char *s, size_t n, struct buf *out);

/* The named references table (entities.c), sorted by name (bytes). */
struct html_entity {
	const char *name; /* without '&', with ';' where the name has one */
	unsigned int cp1;
	unsigned int cp2; /* 0 if one code point */
};
extern const struct html_entity html_entities[];
extern const size_t html_nentities;

#endif
