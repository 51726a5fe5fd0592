/*
 * E-mail messages (RFC 5322 with MIME) to text, for matching.  A forgiving
 * reader, not a validator: any bytes give some result, in time linear in
 * their length (times the nesting cap), so hostile mail cannot stall the
 * daemon.
 *
 * - Subject, From and Date are unfolded, RFC 2047 encoded-words are decoded
 *   (Q and B; adjacent ones joined, so a character split between two words
 *   survives), runs of white space become one space;
 * - the body is walked as a MIME tree: in multipart/alternative the
 *   text/plain part is taken, else the text/html one; in any other
 *   multipart every text/plain and text/html part in order, separated by a
 *   blank line; message/rfc822 parts are read as messages; attachments
 *   (Content-Disposition: attachment) and other types are skipped;
 * - Content-Transfer-Encoding quoted-printable and base64 are decoded,
 *   anything else is taken as it is;
 * - charsets: UTF-8 and US-ASCII as they are, ISO-8859-1 and windows-1252
 *   by table, others through iconv(3); a charset iconv does not know keeps
 *   its bytes (the matcher tolerates invalid UTF-8);
 * - HTML parts go through html_extract();
 * - a message without MIME headers is text/plain; lines that are not
 *   headers end the header block, so a plain text file gives its text.
 */
#ifndef WATCHLISTD_EML_H
#define WATCHLISTD_EML_H

#include <stddef.h>

#include "buf.h"

/* Deepest nesting of multipart and message/rfc822 entities read. */
#ifndef WL_MAX_MIME_DEPTH
#define WL_MAX_MIME_DEPTH 32
#endif

/* Most MIME entities read in one message; later ones are skipped. */
#ifndef WL_MAX_MIME_PARTS
#define WL_MAX_MIME_PARTS 1000
#endif

struct eml {
	char *subject; /* decoded, one line; NULL if none or empty */
	char *from;
	char *date; /* as written, not interpreted */

	/*
	 * The body text: parts joined by a blank line, line ends made '\n',
	 * ending with '\n' unless empty.  text.data is never NULL.
	 */
	struct buf text;
};

/*
 * Read the message raw[0..len) into out (all new memory, freed with
 * eml_release).  It cannot fail: an empty input gives an empty message,
 * and bytes that are not mail give their text, so there is no return value
 * to check.  raw need not be NUL-terminated and may be NULL when len is 0.
 */
void eml_parse(const char *raw, size_t len, struct eml *out);
void eml_release(struct eml *m);

#endif
