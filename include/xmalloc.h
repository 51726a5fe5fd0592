/*
 * Allocation that cannot fail: on out-of-memory these log and exit, as tmux's
 * do.  A daemon that cannot allocate a few bytes cannot do anything useful.
 */
#ifndef WATCHLISTD_XMALLOC_H
#define WATCHLISTD_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* realloc for nmemb elements of size bytes, checking the product. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a new string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
