/*
 * Writing JSON into a buf.  Strings are escaped; bytes that are not valid
 * UTF-8 become U+FFFD, so the output is always valid JSON.
 */
#ifndef WATCHLISTD_JSON_H
#define WATCHLISTD_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Append s[0..len) as a JSON string, quotes included. */
void json_add_string(struct buf *b, const char *s, size_t len);
void json_add_cstring(struct buf *b, const char *s);
/* Append `"key":` with the key escaped. */
void json_add_key(struct buf *b, const char *key);
/* Append `"key":"value"` / `"key":number`. */
void json_add_kv_string(
    struct buf *b, const char *key, const char *s, size_t len);
void json_add_kv_cstring(struct buf *b, const char *key, const char *s);
void json_add_kv_uint(struct buf *b, const char *key, uint64_t v);
void json_add_kv_double(struct buf *b, const char *key, double v);

#endif
