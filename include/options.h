/*
 * Compile-time knobs.  Each may be overridden from the command line, e.g.
 * `make CFLAGS=-DWL_MAX_DOCUMENT_SIZE=1048576`, for a small embedded build.
 */
#ifndef WATCHLISTD_OPTIONS_H
#define WATCHLISTD_OPTIONS_H

#ifndef WATCHLISTD_VERSION
#define WATCHLISTD_VERSION "0.0.0"
#endif

/* Default configuration file. */
#ifndef WATCHLISTD_CONFIG
#define WATCHLISTD_CONFIG "/etc/watchlistd/watchlistd.ini"
#endif

/* The largest file `parse` reads; it runs without a configuration. */
#ifndef WL_MAX_DOCUMENT_SIZE
#define WL_MAX_DOCUMENT_SIZE (8 * 1024 * 1024)
#endif

/* The largest feed document parsed, in bytes (a fetched or a dropped file). */
#ifndef WL_MAX_FEED_BYTES
#define WL_MAX_FEED_BYTES (16 * 1024 * 1024)
#endif

/* Deepest nesting of XML elements in a feed. */
#ifndef WL_MAX_FEED_DEPTH
#define WL_MAX_FEED_DEPTH 256
#endif

/* Longest alias or `not` phrase, in words: bounds the matcher's look-back. */
#ifndef WL_MAX_ALIAS_WORDS
#define WL_MAX_ALIAS_WORDS 32
#endif

/* Longest alias, in bytes as written. */
#ifndef WL_MAX_ALIAS_BYTES
#define WL_MAX_ALIAS_BYTES 1024
#endif

/* Deepest nesting of parentheses in a rule's `when`. */
#ifndef WL_MAX_RULE_DEPTH
#define WL_MAX_RULE_DEPTH 64
#endif

/* Characters of context on each side of a hit in `match` output. */
#ifndef WL_CONTEXT_CHARS
#define WL_CONTEXT_CHARS 40
#endif

#endif
