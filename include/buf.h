/*
 * A growable byte buffer.  The bytes are always followed by a NUL that is not
 * counted in len, so b->data can be used as a C string when it holds text.
 */
#ifndef WATCHLISTD_BUF_H
#define WATCHLISTD_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
/* Frees the bytes; the struct itself belongs to the caller. */
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t more);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_add_str(struct buf *b, const char *s);
void buf_add_byte(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append the UTF-8 encoding of code point cp. */
void buf_add_utf8(struct buf *b, int cp);
/* Hand the bytes to the caller (who frees them) and empty the buffer. */
char *buf_detach(struct buf *b, size_t *len);

#endif
