/*
 * Configuration: the main INI file and the watchlist files it names, parsed
 * with inih, validated as a whole, and reported as `file:line: message`.
 *
 * Loading goes defaults -> parse every file -> validate the whole ->
 * compile the watchlist and the rules.  config_load() always returns a
 * config; it is usable only when nerrors is 0.
 */
#ifndef WATCHLISTD_CONFIG_H
#define WATCHLISTD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rule.h"
#include "watchlist.h"

enum config_processed {
	CONFIG_PROCESSED_KEEP,
	CONFIG_PROCESSED_DELETE,
};

enum config_format {
	CONFIG_FORMAT_JSON,
	CONFIG_FORMAT_SLACK,
	CONFIG_FORMAT_DISCORD,
	CONFIG_FORMAT_TEAMS,
	CONFIG_FORMAT_NTFY,
	CONFIG_FORMAT_ALERTMANAGER,
};

enum config_first_fetch {
	CONFIG_FIRST_FETCH_SKIP,
	CONFIG_FIRST_FETCH_ALERT,
};

struct config_daemon {
	char *inbox;
	char *state_dir;
	char **watchlists; /* glob patterns, resolved against the main file */
	size_t nwatchlists;
	enum config_processed processed;
	uint64_t max_document_size;
	int64_t dedup_window_ms;
	int log_level;           /* enum log_level */
	uint64_t spool_max_size; /* back-pressure: stop claiming when full */
	int64_t shutdown_timeout_ms; /* how long SIGTERM waits for deliveries */
};

struct config_webhook {
	char *id;
	char *url;
	enum config_format format;
	char *secret; /* as written: file:, env:, credential: or whsec_ */
	int64_t timeout_ms;
	int64_t backoff_ms;
	int64_t backoff_max_ms;
	int64_t retry_for_ms;
	enum rule_severity min_severity;
	int concurrency; /* deliveries in flight at once */
	int64_t connect_timeout_ms;
	char *ca_file;    /* NULL: the system's CA certificates */
	const char *file; /* borrowed */
	int line;
};

struct config_feed {
	char *id;
	char *url;
	int64_t interval_ms;
	enum config_first_fetch first_fetch;
	int allow_private;
	int health_after; /* failures in a row before a feed-health alert */
	const char *file; /* borrowed */
	int line;
};

enum config_diag_level {
	CONFIG_WARNING,
	CONFIG_ERROR,
};

/* One message about the configuration. */
struct config_diag {
	enum config_diag_level level;
	const char *file; /* borrowed from config->files; NULL: no file */
	int line;         /* 0: the file as a whole */
	char *msg;
};

struct config {
	char *path; /* the main file */

	struct config_daemon daemon;
	struct config_webhook **webhooks;
	size_t nwebhooks;
	struct config_feed **feeds;
	size_t nfeeds;
	struct watchlist *wl;
	struct rule **rules;
	size_t nrules;

	char **files; /* every file read, main first; diags point here */
	size_t nfiles;

	struct config_diag *diags; /* sorted by file, then line */
	size_t ndiags;
	size_t nerrors;
	size_t nwarnings;
};

/* Load path and everything it names.  Never NULL; check nerrors. */
struct config *config_load(const char *path);
void config_free(struct config *cf);

/* Print every diagnostic, one per line, as `file:line: message`. */
void config_print_diags(const struct config *cf, FILE *fp);

struct config_webhook *config_find_webhook(
    const struct config *cf, const char *id);

const char *config_format_name(enum config_format f);

/*
 * Value syntax, exported for tests.  Each returns 0, or -1 with *cause set
 * (static text).
 *
 * Durations: a number with a unit, ms s m h d, or a sequence ("1h30m"); a
 * bare number is seconds.  Sizes: a number with an optional K M G (powers of
 * 1024, optional trailing B); a bare number is bytes.
 */
int config_parse_duration(const char *s, int64_t *ms, const char **cause);
int config_parse_size(const char *s, uint64_t *bytes, const char **cause);
int config_parse_bool(const char *s, int *v, const char **cause);
int config_check_url(const char *s, const char **cause);

/*
 * Split a list value on commas into items with white space trimmed; an item
 * may be wrapped in double quotes to hold commas ("Washington, D.C.").
 * Empty items are skipped.  Returns the number of items; *items is an array
 * of new strings the caller frees (each, then the array).  -1 with *cause on
 * an unterminated quote or text after a closing quote.
 */
int config_split_list(const char *s, char ***items, const char **cause);

#endif
