/*
 * Configuration: read the main file and the watchlist files it names, parse
 * them with inih, validate the whole, and report every problem as
 * `file:line: message`.
 *
 * inih, as Debian builds it, gives its handler no line numbers and cuts long
 * lines and names without saying so.  Each file is therefore read into
 * memory and handed to ini_parse_stream() one line at a time by our own
 * reader: it counts lines, classifies each line the way inih is about to,
 * reports what inih would mangle, and hands it an empty line instead.  The
 * handler then knows the line, the section and whether the call is a
 * continuation line.
 *
 * Every key is described once in config_keys[]: its section kind, type,
 * range, default and a line of help.  That table drives the parser, the
 * defaults and the checks; its help is there for the man page and etc/.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "url.h"
#include "xmalloc.h"

/* Longest section or key name inih keeps (its buffers hold 50 bytes). */
#define CONFIG_NAME_MAX 49

#define CONFIG_NITEMS(a) (sizeof(a) / sizeof((a)[0]))

enum config_kind {
	CONFIG_KIND_DAEMON,
	CONFIG_KIND_WEBHOOK,
	CONFIG_KIND_FEED,
	CONFIG_KIND_TERM,
	CONFIG_KIND_PLACE,
	CONFIG_KIND_RULE,
};

static const char *const config_kind_names[] = {
    "daemon",
    "webhook",
    "feed",
    "term",
    "place",
    "rule",
    NULL,
};

enum config_type {
	CONFIG_TYPE_PATH,
	CONFIG_TYPE_STRING,
	CONFIG_TYPE_LIST,
	CONFIG_TYPE_DURATION,
	CONFIG_TYPE_SIZE,
	CONFIG_TYPE_BOOL,
	CONFIG_TYPE_ENUM,
	CONFIG_TYPE_URL,
	CONFIG_TYPE_SECRET,
	CONFIG_TYPE_FLOAT,
	CONFIG_TYPE_INT,
	CONFIG_TYPE_COUNTRY,
	CONFIG_TYPE_EXPR,
};

#define CONFIG_REQUIRED 0x1

struct config_parse;

/* Store one item of a list key; -1 with *cause (the caller frees it). */
typedef int (*config_item_cb)(
    struct config_parse *, void *, const char *, int, char **);
/* Map an enum name to its value; -1 if unknown. */
typedef int (*config_enum_cb)(const char *);

/*
 * One key.  min and max are written in the value's own syntax ("1s", "1K",
 * "-90").  Enums store the index of the name in choices, or what parse
 * returns for it.  Scalars are stored at off in the section's struct; lists
 * go through item.
 */
/* The section kinds a key belongs to, as a bit set. */
#define CONFIG_KINDS(k) (1u << (k))
#define CONFIG_ENTRY                                                           \
	(CONFIG_KINDS(CONFIG_KIND_TERM) | CONFIG_KINDS(CONFIG_KIND_PLACE))

struct config_key {
	unsigned int kinds;
	const char *name;
	enum config_type type;
	const char *min;
	const char *max;
	const char *const *choices;
	config_enum_cb parse;
	const char *dflt;
	int flags;
	size_t off;
	config_item_cb item;
	const char *help;
};

static int config_item_watchlist(
    struct config_parse *, void *, const char *, int, char **);
static int config_item_match(
    struct config_parse *, void *, const char *, int, char **);
static int config_item_match_case(
    struct config_parse *, void *, const char *, int, char **);
static int config_item_not(
    struct config_parse *, void *, const char *, int, char **);
static int config_item_tag(
    struct config_parse *, void *, const char *, int, char **);
static int config_item_notify(
    struct config_parse *, void *, const char *, int, char **);

static const char *const config_processed_names[] = {"keep", "delete", NULL};
static const char *const config_format_names[] = {
    "json", "slack", "discord", "teams", "ntfy", "alertmanager", NULL};
static const char *const config_first_fetch_names[] = {"skip", "alert", NULL};
static const char *const config_severity_names[] = {
    "low", "medium", "high", "critical", NULL};
static const char *const config_log_level_names[] = {
    "error", "warning", "notice", "info", "debug", NULL};

#define D(f) offsetof(struct config_daemon, f)
#define W(f) offsetof(struct config_webhook, f)
#define F(f) offsetof(struct config_feed, f)
#define E(f) offsetof(struct watchlist_entry, f)
#define R(f) offsetof(struct rule, f)

static const struct config_key config_keys[] = {
    {.kinds = CONFIG_KINDS(CONFIG_KIND_DAEMON),
        .name = "inbox",
        .type = CONFIG_TYPE_PATH,
        .dflt = "/var/lib/watchlistd/inbox",
        .off = D(inbox),
        .help = "directory other programs drop documents into"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_DAEMON),
        .name = "state_dir",
        .type = CONFIG_TYPE_PATH,
        .dflt = "/var/lib/watchlistd",
        .off = D(state_dir),
        .help = "spool/, feed state, processed/ and failed/ live here"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_DAEMON),
        .name = "watchlists",
        .type = CONFIG_TYPE_LIST,
        .item = config_item_watchlist,
        .help = "glob patterns of watchlist files, relative to this file"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_DAEMON),
        .name = "processed",
        .type = CONFIG_TYPE_ENUM,
        .choices = config_processed_names,
        .dflt = "keep",
        .off = D(processed),
        .help = "keep: move handled files to processed/; delete: remove them"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_DAEMON),
        .name = "max_document_size",
        .type = CONFIG_TYPE_SIZE,
        .min = "1K",
        .max = "1G",
        .dflt = "8M",
        .off = D(max_document_size),
        .help = "larger inbox files and feed bodies are refused"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_DAEMON),
        .name = "dedup_window",
        .type = CONFIG_TYPE_DURATION,
        .min = "0",
        .max = "30d",
        .dflt = "24h",
        .off = D(dedup_window_ms),
        .help = "the same story alerts once in this window"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_DAEMON),
        .name = "spool_max_size",
        .type = CONFIG_TYPE_SIZE,
        .min = "1M",
        .max = "64G",
        .dflt = "256M",
        .off = D(spool_max_size),
        .help = "when the spool holds this much, stop taking inbox files"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_DAEMON),
        .name = "shutdown_timeout",
        .type = CONFIG_TYPE_DURATION,
        .min = "0",
        .max = "10m",
        .dflt = "10s",
        .off = D(shutdown_timeout_ms),
        .help = "on SIGTERM, how long deliveries in flight may finish"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_DAEMON),
        .name = "log_level",
        .type = CONFIG_TYPE_ENUM,
        .choices = config_log_level_names,
        .parse = log_level_parse,
        .dflt = "info",
        .off = D(log_level),
        .help = "least important messages logged"},

    {.kinds = CONFIG_KINDS(CONFIG_KIND_WEBHOOK),
        .name = "url",
        .type = CONFIG_TYPE_URL,
        .flags = CONFIG_REQUIRED,
        .off = W(url),
        .help = "where alerts are POSTed"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_WEBHOOK),
        .name = "format",
        .type = CONFIG_TYPE_ENUM,
        .choices = config_format_names,
        .dflt = "json",
        .off = W(format),
        .help = "payload shape"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_WEBHOOK),
        .name = "secret",
        .type = CONFIG_TYPE_SECRET,
        .off = W(secret),
        .help = "signing key: file:/PATH, env:NAME, credential:NAME or "
                "whsec_BASE64"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_WEBHOOK),
        .name = "timeout",
        .type = CONFIG_TYPE_DURATION,
        .min = "1s",
        .max = "10m",
        .dflt = "10s",
        .off = W(timeout_ms),
        .help = "time allowed for one delivery"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_WEBHOOK),
        .name = "backoff",
        .type = CONFIG_TYPE_DURATION,
        .min = "100ms",
        .max = "1h",
        .dflt = "5s",
        .off = W(backoff_ms),
        .help = "first retry delay; doubles (with jitter) up to backoff_max"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_WEBHOOK),
        .name = "backoff_max",
        .type = CONFIG_TYPE_DURATION,
        .min = "100ms",
        .max = "7d",
        .dflt = "1h",
        .off = W(backoff_max_ms),
        .help = "longest retry delay; at least backoff"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_WEBHOOK),
        .name = "retry_for",
        .type = CONFIG_TYPE_DURATION,
        .min = "1s",
        .max = "30d",
        .dflt = "24h",
        .off = W(retry_for_ms),
        .help = "then the alert moves to spool/dead/"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_WEBHOOK),
        .name = "min_severity",
        .type = CONFIG_TYPE_ENUM,
        .choices = config_severity_names,
        .parse = rule_severity_parse,
        .dflt = "low",
        .off = W(min_severity),
        .help = "less severe alerts are not sent here"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_WEBHOOK),
        .name = "concurrency",
        .type = CONFIG_TYPE_INT,
        .min = "1",
        .max = "64",
        .dflt = "4",
        .off = W(concurrency),
        .help = "deliveries to this webhook in flight at once"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_WEBHOOK),
        .name = "connect_timeout",
        .type = CONFIG_TYPE_DURATION,
        .min = "100ms",
        .max = "5m",
        .dflt = "5s",
        .off = W(connect_timeout_ms),
        .help = "how long connecting may take"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_WEBHOOK),
        .name = "ca_file",
        .type = CONFIG_TYPE_PATH,
        .off = W(ca_file),
        .help = "CA certificates to verify the server with (default: the "
                "system's)"},

    {.kinds = CONFIG_KINDS(CONFIG_KIND_FEED),
        .name = "url",
        .type = CONFIG_TYPE_URL,
        .flags = CONFIG_REQUIRED,
        .off = F(url),
        .help = "the feed's address"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_FEED),
        .name = "interval",
        .type = CONFIG_TYPE_DURATION,
        .min = "1s",
        .max = "7d",
        .dflt = "10m",
        .off = F(interval_ms),
        .help = "time between polls"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_FEED),
        .name = "first_fetch",
        .type = CONFIG_TYPE_ENUM,
        .choices = config_first_fetch_names,
        .dflt = "skip",
        .off = F(first_fetch),
        .help = "skip: items present at the first fetch never alert; alert"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_FEED),
        .name = "allow_private",
        .type = CONFIG_TYPE_BOOL,
        .dflt = "no",
        .off = F(allow_private),
        .help = "allow a URL that resolves to a loopback or private address"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_FEED),
        .name = "health_after",
        .type = CONFIG_TYPE_INT,
        .min = "1",
        .max = "1000",
        .dflt = "5",
        .off = F(health_after),
        .help = "failures in a row before a feed-health alert goes out"},

    {.kinds = CONFIG_ENTRY,
        .name = "match",
        .type = CONFIG_TYPE_LIST,
        .item = config_item_match,
        .help = "aliases (names), matched in any letter case"},
    {.kinds = CONFIG_ENTRY,
        .name = "match_case",
        .type = CONFIG_TYPE_LIST,
        .item = config_item_match_case,
        .help = "aliases matched only in exactly this letter case"},
    {.kinds = CONFIG_ENTRY,
        .name = "not",
        .type = CONFIG_TYPE_LIST,
        .item = config_item_not,
        .help = "phrases inside which a hit does not count"},
    {.kinds = CONFIG_ENTRY,
        .name = "tags",
        .type = CONFIG_TYPE_LIST,
        .item = config_item_tag,
        .help = "names rules select entries by"},

    {.kinds = CONFIG_KINDS(CONFIG_KIND_PLACE),
        .name = "lat",
        .type = CONFIG_TYPE_FLOAT,
        .min = "-90",
        .max = "90",
        .off = E(lat),
        .help = "latitude in degrees; needs lon"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_PLACE),
        .name = "lon",
        .type = CONFIG_TYPE_FLOAT,
        .min = "-180",
        .max = "180",
        .off = E(lon),
        .help = "longitude in degrees; needs lat"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_PLACE),
        .name = "country",
        .type = CONFIG_TYPE_COUNTRY,
        .off = E(country),
        .help = "ISO 3166-1 alpha-2 code"},

    {.kinds = CONFIG_KINDS(CONFIG_KIND_RULE),
        .name = "when",
        .type = CONFIG_TYPE_EXPR,
        .flags = CONFIG_REQUIRED,
        .off = R(when),
        .help = "expression over entries; indented lines continue it"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_RULE),
        .name = "severity",
        .type = CONFIG_TYPE_ENUM,
        .choices = config_severity_names,
        .parse = rule_severity_parse,
        .dflt = "medium",
        .off = R(severity),
        .help = "severity of its alerts"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_RULE),
        .name = "notify",
        .type = CONFIG_TYPE_LIST,
        .item = config_item_notify,
        .help = "webhook ids; default: every webhook"},
    {.kinds = CONFIG_KINDS(CONFIG_KIND_RULE),
        .name = "throttle",
        .type = CONFIG_TYPE_DURATION,
        .min = "0",
        .max = "30d",
        .dflt = "0",
        .off = R(throttle_ms),
        .help = "at most one alert per rule and input in this window"},
};

#undef D
#undef W
#undef F
#undef E
#undef R

#define CONFIG_NKEYS CONFIG_NITEMS(config_keys)

/* Enums are stored through an int. */
_Static_assert(sizeof(enum config_processed) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_first_fetch) == sizeof(int), "enum size");
_Static_assert(sizeof(enum rule_severity) == sizeof(int), "enum size");

/* Where a webhook, feed or rule id was defined. */
struct config_id {
	const char *id; /* borrowed from the object */
	const char *file;
	int line;
};

/* Ids of one kind: open addressing, NULL id is a free slot. */
struct config_ids {
	struct config_id *v;
	size_t n;
	size_t cap;
};

enum config_state {
	CONFIG_STATE_NONE, /* before the first section: keys are errors */
	CONFIG_STATE_BAD,  /* in a section already reported: keys ignored */
	CONFIG_STATE_OK,
};

/* The section being parsed. */
struct config_section {
	enum config_state state;
	enum config_kind kind;
	void *obj;
	int line;
	char name[CONFIG_NAME_MAX + 3]; /* "[kind:id]" */
	int seen[CONFIG_NKEYS];         /* line each key was first given on */
	size_t nbad;                    /* items refused */
};

/* What the reader handed inih, so the handler knows what it is called for. */
enum config_expect {
	CONFIG_EXPECT_NONE,
	CONFIG_EXPECT_KEY,
	CONFIG_EXPECT_CONT,
};

/* Per rule: lines the later checks point at. */
struct config_rule_lines {
	int when;
	int notify;
};

/* A file already read, so that globs load each once. */
struct config_file_id {
	dev_t dev;
	ino_t ino;
};

struct config_parse {
	struct config *cf;

	/* The file being parsed. */
	const char *file; /* borrowed from cf->files */
	int main;
	const char *pos; /* the rest of it */
	const char *end;
	int lineno;
	int num;      /* inih's buffer size */
	int full;     /* the last line handed filled that buffer */
	int has_prev; /* inih has a key that indented lines continue */
	int cont_ok;  /* and those lines belong to a key we hand on */
	enum config_expect expect;

	struct config_section sec;
	const struct config_key *key; /* of the last key line; NULL: ignore */

	int daemon_line;
	struct config_ids webhook_ids;
	struct config_ids feed_ids;
	struct config_ids rule_ids;
	size_t cap_webhooks;
	size_t cap_feeds;
	size_t cap_rules;
	struct config_rule_lines *rule_lines; /* parallel to cf->rules */
	int *watchlist_lines;                 /* parallel to watchlists */

	struct config_file_id *seen_files;
	size_t nseen_files;
};

static char *config_vasprintf(const char *, va_list)
    __attribute__((format(printf, 1, 0)));
static void config_diag_add(struct config *, enum config_diag_level,
    const char *, int, const char *, ...) __attribute__((format(printf, 5, 6)));
static void config_error(struct config_parse *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void config_warn(struct config_parse *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void config_key_error(
    struct config_parse *, int, const struct config_key *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static char *
config_vasprintf(const char *fmt, va_list ap)
{
	va_list aq;
	char *s;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		fatalx("%s: bad format", __func__);
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static void
config_diag_push(struct config *cf, enum config_diag_level level,
    const char *file, int line, char *msg)
{
	struct config_diag *d;
	size_t n = cf->ndiags;

	/* The capacity doubles at each power of two from 16. */
	if (n == 0 || (n >= 16 && (n & (n - 1)) == 0))
		cf->diags = xreallocarray(
		    cf->diags, n == 0 ? 16 : n * 2, sizeof *cf->diags);
	d = &cf->diags[cf->ndiags++];
	d->level = level;
	d->file = file;
	d->line = line;
	d->msg = msg;
	if (level == CONFIG_ERROR)
		cf->nerrors++;
	else
		cf->nwarnings++;
}

static void
config_diag_add(struct config *cf, enum config_diag_level level,
    const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_diag_push(cf, level, file, line, config_vasprintf(fmt, ap));
	va_end(ap);
}

static void
config_error(struct config_parse *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_diag_push(
	    p->cf, CONFIG_ERROR, p->file, line, config_vasprintf(fmt, ap));
	va_end(ap);
}

static void
config_warn(struct config_parse *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_diag_push(
	    p->cf, CONFIG_WARNING, p->file, line, config_vasprintf(fmt, ap));
	va_end(ap);
}

/* An error about a key's value: "[webhook:ops] timeout: ...". */
static void
config_key_error(struct config_parse *p, int line, const struct config_key *k,
    const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = config_vasprintf(fmt, ap);
	va_end(ap);
	config_error(p, line, "%s %s: %s", p->sec.name, k->name, s);
	free(s);
}

/*
 * Text of the configuration repeated in an error message: at most max
 * bytes, and never from a "whsec_" or a "://" on, which may start a secret
 * or a URL with its token that a mistake put where a key was expected.  A
 * new string.
 */
static char *
config_quote(const char *s, size_t max)
{
	size_t n = strlen(s), cut = n > max ? max : n;
	const char *w;

	if ((w = strcasestr(s, "whsec_")) != NULL && (size_t)(w - s) < cut)
		cut = (size_t)(w - s);
	if ((w = strstr(s, "://")) != NULL && (size_t)(w - s) < cut)
		cut = (size_t)(w - s);
	return xasprintf("%.*s%s", (int)cut, s, cut < n ? "..." : "");
}

/* Grow an array by one element, doubling its capacity when it is full. */
static void *
config_grow(void *v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 16;
	return xreallocarray(v, *cap, size);
}

static uint64_t
config_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static struct config_id *
config_ids_slot(const struct config_ids *t, const char *id)
{
	size_t i = (size_t)config_hash(id) & (t->cap - 1);

	while (t->v[i].id != NULL && strcmp(t->v[i].id, id) != 0)
		i = (i + 1) & (t->cap - 1);
	return &t->v[i];
}

static const struct config_id *
config_ids_find(const struct config_ids *t, const char *id)
{
	const struct config_id *slot;

	if (t->cap == 0)
		return NULL;
	slot = config_ids_slot(t, id);
	return slot->id == NULL ? NULL : slot;
}

static void
config_ids_add(struct config_ids *t, const char *id, const char *file, int line)
{
	struct config_id *old = t->v, *slot;
	size_t oldcap = t->cap, i;

	if ((t->n + 1) * 2 > t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->v = xcalloc(t->cap, sizeof *t->v);
		for (i = 0; i < oldcap; i++) {
			if (old[i].id != NULL)
				*config_ids_slot(t, old[i].id) = old[i];
		}
		free(old);
	}
	slot = config_ids_slot(t, id);
	slot->id = id;
	slot->file = file;
	slot->line = line;
	t->n++;
}

/* Levenshtein distance, for "did you mean" hints; names are short. */
static size_t
config_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev[64], cur[64], d;

	if (la >= 64 || lb >= 64)
		return 64;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			d = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			cur[j] = d;
		}
		memcpy(prev, cur, (lb + 1) * sizeof *prev);
	}
	return prev[lb];
}

/* Whether s is a non-empty run of [A-Za-z0-9_.-]: ids and tag names. */
static int
config_valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' &&
		    *s != '-')
			return 0;
	}
	return 1;
}

static const struct config_key *
config_key_find(enum config_kind kind, const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if ((config_keys[i].kinds & CONFIG_KINDS(kind)) &&
		    strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	}
	return NULL;
}

/*
 * Whether name is close enough to candidate for a "did you mean" hint: at
 * most two edits, and fewer than half its length ("foo" is not "not").
 */
static int
config_close(const char *name, const char *candidate, size_t *d)
{
	*d = config_distance(name, candidate);
	return *d <= 2 && *d * 2 < strlen(candidate);
}

/* The closest key of kind, for a hint; NULL if none is close. */
static const char *
config_key_suggest(enum config_kind kind, const char *name)
{
	const char *best = NULL;
	size_t i, d, bestd = SIZE_MAX;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (!(config_keys[i].kinds & CONFIG_KINDS(kind)))
			continue;
		if (config_close(name, config_keys[i].name, &d) && d < bestd) {
			bestd = d;
			best = config_keys[i].name;
		}
	}
	return best;
}

int
config_parse_duration(const char *s, int64_t *ms, const char **cause)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
	    {"ms", 1},
	    {"s", 1000},
	    {"m", 60 * 1000},
	    {"h", 60 * 60 * 1000},
	    {"d", 24 * 60 * 60 * 1000},
	};
	const char *p = s;
	int64_t total = 0, n, mult;
	size_t i, len;

	if (*p == '-') {
		*cause = "is negative";
		return -1;
	}
	if (!isdigit((unsigned char)*p))
		goto bad;
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			goto bad;
		for (n = 0; isdigit((unsigned char)*p); p++) {
			if (n > (INT64_MAX - (*p - '0')) / 10)
				goto big;
			n = n * 10 + (*p - '0');
		}
		if (*p == '\0' && p == s + strspn(s, "0123456789")) {
			mult = 1000; /* a bare number is seconds */
		} else {
			for (i = 0; i < CONFIG_NITEMS(units); i++) {
				len = strlen(units[i].unit);
				if (strncmp(p, units[i].unit, len) == 0 &&
				    !isalpha((unsigned char)p[len]))
					break;
			}
			if (i == CONFIG_NITEMS(units))
				goto bad;
			mult = units[i].ms;
			p += strlen(units[i].unit);
		}
		if (n > INT64_MAX / mult)
			goto big;
		n *= mult;
		if (total > INT64_MAX - n)
			goto big;
		total += n;
	}
	*ms = total;
	return 0;

bad:
	*cause = "is not a duration (use a number with ms, s, m, h or d)";
	return -1;
big:
	*cause = "is too large";
	return -1;
}

int
config_parse_size(const char *s, uint64_t *bytes, const char **cause)
{
	const char *p = s;
	uint64_t n = 0, mult = 1;

	if (*p == '-') {
		*cause = "is negative";
		return -1;
	}
	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			goto big;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case 'k':
	case 'K':
		mult = 1024;
		p++;
		break;
	case 'm':
	case 'M':
		mult = 1024 * 1024;
		p++;
		break;
	case 'g':
	case 'G':
		mult = 1024 * 1024 * 1024;
		p++;
		break;
	}
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p != '\0')
		goto bad;
	if (n > UINT64_MAX / mult)
		goto big;
	*bytes = n * mult;
	return 0;

bad:
	*cause = "is not a size (use a number with K, M or G)";
	return -1;
big:
	*cause = "is too large";
	return -1;
}

int
config_parse_bool(const char *s, int *v, const char **cause)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < CONFIG_NITEMS(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = 0;
			return 0;
		}
	}
	*cause = "is not a boolean (use yes or no)";
	return -1;
}

/*
 * Only what a typo breaks is checked: curl is the judge of the rest.  The
 * host may carry user:password@ and be an IPv6 literal in brackets.
 */
int
config_check_url(const char *s, const char **cause)
{
	const char *p, *end, *host, *port, *at;
	unsigned long n;

	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*cause = "contains a space or control character";
			return -1;
		}
	}
	if (strncasecmp(s, "http://", 7) == 0)
		p = s + 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		p = s + 8;
	else {
		*cause = "is not an http:// or https:// URL";
		return -1;
	}
	end = p + strcspn(p, "/?#");
	host = p;
	while ((at = memchr(host, '@', (size_t)(end - host))) != NULL)
		host = at + 1;
	if (*host == '[') {
		port = memchr(host, ']', (size_t)(end - host));
		if (port == NULL || port == host + 1)
			goto nohost;
		port++;
		if (port != end && *port != ':')
			goto nohost;
	} else {
		port = memchr(host, ':', (size_t)(end - host));
		if (port == NULL)
			port = end;
		if (port == host)
			goto nohost;
	}
	if (port == end)
		return 0;
	port++;
	if (port == end || end - port > 5)
		goto badport;
	for (n = 0; port < end; port++) {
		if (!isdigit((unsigned char)*port))
			goto badport;
		n = n * 10 + (unsigned long)(*port - '0');
	}
	if (n < 1 || n > 65535)
		goto badport;
	return 0;

nohost:
	*cause = "has no host";
	return -1;
badport:
	*cause = "has a bad port (use 1 to 65535)";
	return -1;
}

/* Standard base64 with padding, as whsec_ secrets are written. */
static int
config_valid_base64(const char *s)
{
	size_t len = strlen(s), i, pad = 0;

	if (len == 0 || len % 4 != 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '=') {
			if (i < len - 2)
				return 0;
			pad++;
		} else if (pad > 0)
			return 0;
		else if (!isalnum((unsigned char)s[i]) && s[i] != '+' &&
		         s[i] != '/')
			return 0;
	}
	return 1;
}

/* Whether s is a shell-style variable name, as env: wants. */
static int
config_valid_env(const char *s)
{
	if (*s == '\0' || isdigit((unsigned char)*s))
		return 0;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	}
	return 1;
}

/* Only the syntax: the secret itself is read when the webhook starts. */
static int
config_check_secret(const char *s, const char **cause)
{
	if (strncmp(s, "file:", 5) == 0) {
		if (s[5] != '/' || s[6] == '\0') {
			*cause = "file: needs an absolute path";
			return -1;
		}
		return 0;
	}
	if (strncmp(s, "env:", 4) == 0) {
		if (!config_valid_env(s + 4)) {
			*cause = "env: needs a variable name";
			return -1;
		}
		return 0;
	}
	if (strncmp(s, "credential:", 11) == 0) {
		if (!config_valid_name(s + 11)) {
			*cause = "credential: needs a credential name";
			return -1;
		}
		return 0;
	}
	if (strncmp(s, "whsec_", 6) == 0) {
		if (!config_valid_base64(s + 6)) {
			*cause = "whsec_ must be followed by base64";
			return -1;
		}
		return 0;
	}
	*cause = "use file:/PATH, env:NAME, credential:NAME or whsec_BASE64";
	return -1;
}

int
config_split_list(const char *s, char ***items, const char **cause)
{
	const char *p = s, *start, *end;
	char **v = NULL;
	size_t n = 0, i;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (*p == '"') {
			start = p + 1;
			if ((end = strchr(start, '"')) == NULL) {
				*cause = "unterminated double quote";
				goto fail;
			}
			p = end + 1;
			while (isspace((unsigned char)*p))
				p++;
			if (*p != ',' && *p != '\0') {
				*cause = "text after a closing double quote";
				goto fail;
			}
		} else {
			start = p;
			p += strcspn(p, ",");
			end = p;
			while (end > start && isspace((unsigned char)end[-1]))
				end--;
		}
		if (end > start) {
			v = xreallocarray(v, n + 1, sizeof *v);
			v[n++] = xstrndup(start, (size_t)(end - start));
		}
		if (*p == ',')
			p++;
	}
	*items = v;
	return (int)n;

fail:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	*items = NULL;
	return -1;
}

const char *
config_format_name(enum config_format f)
{
	if ((size_t)f >= CONFIG_NITEMS(config_format_names) - 1)
		return "unknown";
	return config_format_names[f];
}

struct config_webhook *
config_find_webhook(const struct config *cf, const char *id)
{
	size_t i;

	for (i = 0; i < cf->nwebhooks; i++) {
		if (strcmp(cf->webhooks[i]->id, id) == 0)
			return cf->webhooks[i];
	}
	return NULL;
}

static int
config_item_watchlist(
    struct config_parse *p, void *obj, const char *item, int line, char **cause)
{
	struct config_daemon *d = obj;

	d->watchlists = xreallocarray(
	    d->watchlists, d->nwatchlists + 1, sizeof *d->watchlists);
	p->watchlist_lines = xreallocarray(
	    p->watchlist_lines, d->nwatchlists + 1, sizeof *p->watchlist_lines);
	d->watchlists[d->nwatchlists] = xstrdup(item);
	p->watchlist_lines[d->nwatchlists++] = line;
	return 0;
}

static int
config_item_match(
    struct config_parse *p, void *obj, const char *item, int line, char **cause)
{
	return watchlist_entry_add_alias(obj, item, 0, line, cause);
}

static int
config_item_match_case(
    struct config_parse *p, void *obj, const char *item, int line, char **cause)
{
	return watchlist_entry_add_alias(obj, item, 1, line, cause);
}

static int
config_item_not(
    struct config_parse *p, void *obj, const char *item, int line, char **cause)
{
	return watchlist_entry_add_not(obj, item, line, cause);
}

static int
config_item_tag(
    struct config_parse *p, void *obj, const char *item, int line, char **cause)
{
	if (!config_valid_name(item)) {
		*cause = xasprintf("'%s' is not a tag name (use letters, "
		                   "digits, '_', '.' and '-')",
		    item);
		return -1;
	}
	watchlist_entry_add_tag(obj, item);
	return 0;
}

static int
config_item_notify(
    struct config_parse *p, void *obj, const char *item, int line, char **cause)
{
	struct rule *r = obj;

	r->notify = xreallocarray(r->notify, r->nnotify + 1, sizeof *r->notify);
	r->notify[r->nnotify++] = xstrdup(item);
	return 0;
}

static int
config_range_duration(struct config_parse *p, int line,
    const struct config_key *k, const char *value, int64_t v)
{
	const char *cause;
	int64_t min = 0, max = INT64_MAX;

	if (k->min != NULL && config_parse_duration(k->min, &min, &cause) != 0)
		fatalx("%s: bad range for %s", __func__, k->name);
	if (k->max != NULL && config_parse_duration(k->max, &max, &cause) != 0)
		fatalx("%s: bad range for %s", __func__, k->name);
	if (v >= min && v <= max)
		return 0;
	config_key_error(p, line, k, "'%s' is out of range (%s to %s)", value,
	    k->min, k->max);
	return -1;
}

static int
config_range_size(struct config_parse *p, int line, const struct config_key *k,
    const char *value, uint64_t v)
{
	const char *cause;
	uint64_t min = 0, max = UINT64_MAX;

	if (k->min != NULL && config_parse_size(k->min, &min, &cause) != 0)
		fatalx("%s: bad range for %s", __func__, k->name);
	if (k->max != NULL && config_parse_size(k->max, &max, &cause) != 0)
		fatalx("%s: bad range for %s", __func__, k->name);
	if (v >= min && v <= max)
		return 0;
	config_key_error(p, line, k, "'%s' is out of range (%s to %s)", value,
	    k->min, k->max);
	return -1;
}

/* Split one line's worth of a list and store each item. */
static void
config_set_list(struct config_parse *p, const struct config_key *k,
    const char *value, int line)
{
	const char *scause;
	char **items, *cause;
	int n, i;

	if ((n = config_split_list(value, &items, &scause)) < 0) {
		config_key_error(p, line, k, "%s", scause);
		p->sec.nbad++;
		return;
	}
	for (i = 0; i < n; i++) {
		cause = NULL;
		if (k->item(p, p->sec.obj, items[i], line, &cause) != 0) {
			config_key_error(p, line, k, "%s", cause);
			p->sec.nbad++;
		}
		free(cause);
		free(items[i]);
	}
	free(items);
}

static void
config_set_enum(struct config_parse *p, const struct config_key *k, void *field,
    const char *value, int line)
{
	struct buf b;
	size_t i;

	for (i = 0; k->choices[i] != NULL; i++) {
		if (strcmp(value, k->choices[i]) == 0) {
			*(int *)field = k->parse ? k->parse(value) : (int)i;
			return;
		}
	}
	buf_init(&b);
	for (i = 0; k->choices[i] != NULL; i++) {
		if (i > 0)
			buf_add_str(&b, k->choices[i + 1] ? ", " : " or ");
		buf_add_str(&b, k->choices[i]);
	}
	config_key_error(p, line, k, "'%s' is not one of %s", value, b.data);
	buf_release(&b);
}

static void
config_set_float(struct config_parse *p, const struct config_key *k,
    void *field, const char *value, int line)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(value, &end);
	if (*value == '\0' || *end != '\0' || !isfinite(v) || errno != 0) {
		config_key_error(p, line, k, "'%s' is not a number", value);
		return;
	}
	if (v < strtod(k->min, NULL) || v > strtod(k->max, NULL)) {
		config_key_error(p, line, k, "'%s' is out of range (%s to %s)",
		    value, k->min, k->max);
		return;
	}
	*(double *)field = v;
}

static void
config_set_int(struct config_parse *p, const struct config_key *k, void *field,
    const char *value, int line)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (*value == '\0' || *end != '\0' || errno != 0) {
		config_key_error(
		    p, line, k, "'%s' is not a whole number", value);
		return;
	}
	if (v < strtol(k->min, NULL, 10) || v > strtol(k->max, NULL, 10)) {
		config_key_error(p, line, k, "'%s' is out of range (%s to %s)",
		    value, k->min, k->max);
		return;
	}
	*(int *)field = (int)v;
}

/* Store a string key's value, replacing the default. */
static void
config_set_string(void *field, const char *value)
{
	char **sp = field;

	free(*sp);
	*sp = xstrdup(value);
}

/*
 * Check and store one value of key k in the current section: a key line, a
 * continuation line, or a default.
 */
static void
config_set(struct config_parse *p, const struct config_key *k,
    const char *value, int line)
{
	char *field = (char *)p->sec.obj + k->off, **sp, *old, *shown;
	const char *cause;
	int64_t ms;
	uint64_t size;
	int b;

	switch (k->type) {
	case CONFIG_TYPE_PATH:
	case CONFIG_TYPE_STRING:
		if (*value == '\0') {
			config_key_error(p, line, k, "needs a value");
			return;
		}
		config_set_string(field, value);
		break;
	case CONFIG_TYPE_URL:
		/* Never the whole URL: its path or query may be a token. */
		if (config_check_url(value, &cause) != 0) {
			if ((shown = url_redact(value)) != NULL)
				config_key_error(
				    p, line, k, "'%s' %s", shown, cause);
			else
				config_key_error(
				    p, line, k, "the value %s", cause);
			free(shown);
			return;
		}
		config_set_string(field, value);
		break;
	case CONFIG_TYPE_SECRET:
		/* Never echo a secret into a log. */
		if (config_check_secret(value, &cause) != 0) {
			config_key_error(
			    p, line, k, "not a valid secret: %s", cause);
			return;
		}
		config_set_string(field, value);
		break;
	case CONFIG_TYPE_LIST:
		config_set_list(p, k, value, line);
		break;
	case CONFIG_TYPE_DURATION:
		if (config_parse_duration(value, &ms, &cause) != 0) {
			config_key_error(p, line, k, "'%s' %s", value, cause);
			return;
		}
		if (config_range_duration(p, line, k, value, ms) == 0)
			*(int64_t *)field = ms;
		break;
	case CONFIG_TYPE_SIZE:
		if (config_parse_size(value, &size, &cause) != 0) {
			config_key_error(p, line, k, "'%s' %s", value, cause);
			return;
		}
		if (config_range_size(p, line, k, value, size) == 0)
			*(uint64_t *)field = size;
		break;
	case CONFIG_TYPE_BOOL:
		if (config_parse_bool(value, &b, &cause) != 0) {
			config_key_error(p, line, k, "'%s' %s", value, cause);
			return;
		}
		*(int *)field = b;
		break;
	case CONFIG_TYPE_ENUM:
		config_set_enum(p, k, field, value, line);
		break;
	case CONFIG_TYPE_FLOAT:
		config_set_float(p, k, field, value, line);
		break;
	case CONFIG_TYPE_INT:
		config_set_int(p, k, field, value, line);
		break;
	case CONFIG_TYPE_COUNTRY:
		if (strlen(value) != 2 || value[0] < 'A' || value[0] > 'Z' ||
		    value[1] < 'A' || value[1] > 'Z') {
			config_key_error(p, line, k,
			    "'%s' is not a country code (use two upper-case "
			    "letters, as in LY)",
			    value);
			return;
		}
		memcpy(field, value, 3);
		break;
	case CONFIG_TYPE_EXPR:
		/* Continuation lines join with a space. */
		sp = (char **)field;
		if (*sp == NULL || **sp == '\0') {
			free(*sp);
			*sp = xstrdup(value);
		} else if (*value != '\0') {
			old = *sp;
			*sp = xasprintf("%s %s", old, value);
			free(old);
		}
		break;
	}
}

static void
config_set_defaults(struct config_parse *p)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if ((config_keys[i].kinds & CONFIG_KINDS(p->sec.kind)) &&
		    config_keys[i].dflt != NULL)
			config_set(p, &config_keys[i], config_keys[i].dflt, 0);
	}
}

static int
config_seen(const struct config_parse *p, const char *name)
{
	const struct config_key *k = config_key_find(p->sec.kind, name);

	return p->sec.seen[k - config_keys];
}

/* Checks that need the whole section: required keys and pairs. */
static void
config_section_end(struct config_parse *p)
{
	struct config_section *sec = &p->sec;
	struct config_webhook *wh;
	struct watchlist_entry *e;
	size_t i;
	int lat, lon, line;

	if (sec->state != CONFIG_STATE_OK) {
		sec->state = CONFIG_STATE_NONE;
		return;
	}
	sec->state = CONFIG_STATE_NONE;
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if ((config_keys[i].kinds & CONFIG_KINDS(sec->kind)) &&
		    (config_keys[i].flags & CONFIG_REQUIRED) &&
		    sec->seen[i] == 0)
			config_error(p, sec->line,
			    "%s missing required key '%s'", sec->name,
			    config_keys[i].name);
	}
	switch (sec->kind) {
	case CONFIG_KIND_WEBHOOK:
		wh = sec->obj;
		if (wh->backoff_max_ms < wh->backoff_ms) {
			line = config_seen(p, "backoff_max");
			if (line == 0)
				line = config_seen(p, "backoff");
			config_error(p, line,
			    "%s backoff_max must be at least backoff",
			    sec->name);
		}
		break;
	case CONFIG_KIND_PLACE:
		e = sec->obj;
		lat = config_seen(p, "lat");
		lon = config_seen(p, "lon");
		if (lat != 0 && lon == 0)
			config_error(
			    p, lat, "%s lat: given without lon", sec->name);
		else if (lon != 0 && lat == 0)
			config_error(
			    p, lon, "%s lon: given without lat", sec->name);
		e->has_coords = lat != 0 && lon != 0;
		/* FALLTHROUGH */
	case CONFIG_KIND_TERM:
		e = sec->obj;
		if (e->naliases == 0 && sec->nbad == 0)
			config_error(p, sec->line,
			    "%s has no aliases: give match or match_case",
			    sec->name);
		break;
	case CONFIG_KIND_RULE:
		i = p->cf->nrules - 1;
		p->rule_lines[i].when = config_seen(p, "when");
		p->rule_lines[i].notify = config_seen(p, "notify");
		break;
	default:
		break;
	}
}

static int
config_kind_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; config_kind_names[i] != NULL; i++) {
		if (strlen(config_kind_names[i]) == len &&
		    strncmp(config_kind_names[i], name, len) == 0)
			return (int)i;
	}
	return -1;
}

static void
config_unknown_kind(
    struct config_parse *p, int line, const char *name, size_t len)
{
	char kind[CONFIG_NAME_MAX + 1];
	const char *best = NULL;
	size_t i, d, bestd = SIZE_MAX;

	memcpy(kind, name, len);
	kind[len] = '\0';
	for (i = 0; config_kind_names[i] != NULL; i++) {
		if (config_close(kind, config_kind_names[i], &d) && d < bestd) {
			bestd = d;
			best = config_kind_names[i];
		}
	}
	if (best != NULL)
		config_error(p, line,
		    "unknown section kind '%s' in [%s] (did you mean '%s'?)",
		    kind, name, best);
	else
		config_error(p, line,
		    "unknown section kind '%s' in [%s] (use daemon, webhook, "
		    "feed, term, place or rule)",
		    kind, name);
}

/* Report a repeated id; whether it is one is the caller's business. */
static void
config_duplicate(struct config_parse *p, int line, const char *kind,
    const char *id, const char *file, int first)
{
	config_error(p, line, "duplicate %s id '%s' (first defined at %s:%d)",
	    kind, id, file, first);
}

/* Create the object a valid section header names. */
static void *
config_section_new(
    struct config_parse *p, enum config_kind kind, const char *id, int line)
{
	struct config *cf = p->cf;
	struct config_webhook *wh;
	struct config_feed *fd;
	struct watchlist_entry *e;
	const struct config_id *first;
	struct rule *r;

	switch (kind) {
	case CONFIG_KIND_DAEMON:
		if (p->daemon_line != 0) {
			config_error(p, line,
			    "duplicate [daemon] section (first defined at "
			    "%s:%d)",
			    p->file, p->daemon_line);
			return NULL;
		}
		p->daemon_line = line;
		return &cf->daemon;
	case CONFIG_KIND_WEBHOOK:
		if ((first = config_ids_find(&p->webhook_ids, id)) != NULL) {
			config_duplicate(
			    p, line, "webhook", id, first->file, first->line);
			return NULL;
		}
		wh = xcalloc(1, sizeof *wh);
		wh->id = xstrdup(id);
		wh->file = p->file;
		wh->line = line;
		cf->webhooks = config_grow(cf->webhooks, cf->nwebhooks,
		    &p->cap_webhooks, sizeof *cf->webhooks);
		cf->webhooks[cf->nwebhooks++] = wh;
		config_ids_add(&p->webhook_ids, wh->id, p->file, line);
		return wh;
	case CONFIG_KIND_FEED:
		if ((first = config_ids_find(&p->feed_ids, id)) != NULL) {
			config_duplicate(
			    p, line, "feed", id, first->file, first->line);
			return NULL;
		}
		fd = xcalloc(1, sizeof *fd);
		fd->id = xstrdup(id);
		fd->file = p->file;
		fd->line = line;
		cf->feeds = config_grow(
		    cf->feeds, cf->nfeeds, &p->cap_feeds, sizeof *cf->feeds);
		cf->feeds[cf->nfeeds++] = fd;
		config_ids_add(&p->feed_ids, fd->id, p->file, line);
		return fd;
	case CONFIG_KIND_TERM:
	case CONFIG_KIND_PLACE:
		e = watchlist_add_entry(cf->wl,
		    kind == CONFIG_KIND_TERM ? WATCHLIST_TERM : WATCHLIST_PLACE,
		    id, p->file, line);
		if (e != NULL)
			return e;
		e = watchlist_find(cf->wl, id);
		if ((e->kind == WATCHLIST_TERM) == (kind == CONFIG_KIND_TERM))
			config_duplicate(p, line, config_kind_names[kind], id,
			    e->file, e->line);
		else
			config_error(p, line,
			    "duplicate %s id '%s' (first defined as [%s:%s] "
			    "at %s:%d)",
			    config_kind_names[kind], id,
			    watchlist_kind_name(e->kind), id, e->file, e->line);
		return NULL;
	case CONFIG_KIND_RULE:
		if ((first = config_ids_find(&p->rule_ids, id)) != NULL) {
			config_duplicate(
			    p, line, "rule", id, first->file, first->line);
			return NULL;
		}
		r = xcalloc(1, sizeof *r);
		r->id = xstrdup(id);
		r->file = p->file;
		r->line = line;
		if (cf->nrules == p->cap_rules) {
			cf->rules = config_grow(cf->rules, cf->nrules,
			    &p->cap_rules, sizeof *cf->rules);
			p->rule_lines = xreallocarray(
			    p->rule_lines, p->cap_rules, sizeof *p->rule_lines);
		}
		p->rule_lines[cf->nrules].when = 0;
		p->rule_lines[cf->nrules].notify = 0;
		cf->rules[cf->nrules++] = r;
		config_ids_add(&p->rule_ids, r->id, p->file, line);
		return r;
	}
	return NULL;
}

/* A [name] header, name already checked for length. */
static void
config_section_start(struct config_parse *p, const char *name, int line)
{
	struct config_section *sec = &p->sec;
	const char *colon, *id = NULL;
	size_t klen;
	int kind;

	config_section_end(p);
	sec->state = CONFIG_STATE_BAD;
	p->key = NULL;

	colon = strchr(name, ':');
	klen = colon != NULL ? (size_t)(colon - name) : strlen(name);
	if ((kind = config_kind_find(name, klen)) == -1) {
		config_unknown_kind(p, line, name, klen);
		return;
	}
	if (kind == CONFIG_KIND_DAEMON) {
		if (colon != NULL) {
			config_error(
			    p, line, "[%s]: [daemon] takes no id", name);
			return;
		}
	} else {
		id = colon != NULL ? colon + 1 : "";
		if (*id == '\0') {
			config_error(p, line,
			    "[%s] needs an id, as in [%s:NAME]", name,
			    config_kind_names[kind]);
			return;
		}
		if (!config_valid_name(id)) {
			config_error(p, line,
			    "invalid id '%s' in [%s] (use letters, digits, "
			    "'_', '.' and '-')",
			    id, name);
			return;
		}
	}
	if (!p->main && kind <= CONFIG_KIND_FEED) {
		config_error(p, line,
		    "[%s] may only appear in the main file, not in a "
		    "watchlist file",
		    name);
		return;
	}
	if ((sec->obj = config_section_new(
	         p, (enum config_kind)kind, id, line)) == NULL)
		return;
	sec->state = CONFIG_STATE_OK;
	sec->kind = (enum config_kind)kind;
	sec->line = line;
	sec->nbad = 0;
	snprintf(sec->name, sizeof sec->name, "[%s]", name);
	memset(sec->seen, 0, sizeof sec->seen);
	if (kind != CONFIG_KIND_DAEMON)
		config_set_defaults(p);
}

/*
 * The line classifier, mirroring inih: a blank line or one starting with
 * ';' or '#' is a comment (and does not end a continuation); an indented
 * line after a key continues that key; then a [section] or a key = value
 * (or key: value), where ';' after white space starts a comment.  Lines inih
 * would mangle are reported and handed to it as empty lines.
 */
static void
config_classify(struct config_parse *p, char *line)
{
	char *s = line, *e, *name;
	size_t len;
	int was_space;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	if (*s == '\0' || *s == ';' || *s == '#')
		return;

	if (p->has_prev && s > line) {
		if (!p->cont_ok) {
			*line = '\0';
			return;
		}
		/* inih 55 keeps inline comments on continuation lines. */
		for (e = s + 1; *e != '\0'; e++) {
			if (*e == ';' && isspace((unsigned char)e[-1])) {
				while (e > s && isspace((unsigned char)e[-1]))
					e--;
				*e = '\0';
				break;
			}
		}
		p->expect = CONFIG_EXPECT_CONT;
		return;
	}

	/* Find ']' or '=' and ':' as inih does: up to an inline comment. */
	was_space = 0;
	for (e = s + (*s == '['); *e != '\0'; e++) {
		if (*s == '[' ? *e == ']' : (*e == '=' || *e == ':'))
			break;
		if (was_space && *e == ';')
			break;
		was_space = isspace((unsigned char)*e);
	}

	if (*s == '[') {
		if (*e != ']') {
			config_section_end(p);
			p->sec.state = CONFIG_STATE_BAD;
			config_error(
			    p, p->lineno, "section header without ']'");
			goto drop;
		}
		if (e - s - 1 > CONFIG_NAME_MAX) {
			config_section_end(p);
			p->sec.state = CONFIG_STATE_BAD;
			config_error(p, p->lineno,
			    "section name is longer than %d bytes",
			    CONFIG_NAME_MAX);
			goto drop;
		}
		name = xstrndup(s + 1, (size_t)(e - s - 1));
		e++;
		while (isspace((unsigned char)*e))
			e++;
		if (*e != '\0' && *e != ';' && *e != '#')
			config_error(
			    p, p->lineno, "unexpected text after '[%s]'", name);
		config_section_start(p, name, p->lineno);
		free(name);
		p->has_prev = 0;
		return;
	}

	if (*e != '=' && *e != ':') {
		name = config_quote(s, 40);
		config_error(p, p->lineno,
		    "expected [section] or key = value, not '%s'", name);
		free(name);
		*line = '\0';
		return;
	}
	len = (size_t)(e - s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0) {
		config_error(p, p->lineno, "missing key name before '%c'", *e);
		goto drop;
	}
	if (len > CONFIG_NAME_MAX) {
		config_error(p, p->lineno, "key name is longer than %d bytes",
		    CONFIG_NAME_MAX);
		goto drop;
	}
	p->has_prev = 1;
	p->cont_ok = 1;
	p->expect = CONFIG_EXPECT_KEY;
	return;

drop:
	p->cont_ok = 0;
	*line = '\0';
}

/*
 * inih's reader: hand it the next line, without its newline (inih does not
 * need it), after the checks above.  inih 56 and later drain the rest of a
 * line that fills their buffer by calling us with a smaller one; a line of
 * exactly the limit looks like that, so answer that call with end of input.
 */
static char *
config_read_cb(char *str, int num, void *arg)
{
	struct config_parse *p = arg;
	const char *line, *nl;
	size_t len;

	if (p->full) {
		p->full = 0;
		if (num != p->num)
			return NULL;
	}
	if (p->pos >= p->end || num < 2)
		return NULL;
	line = p->pos;
	nl = memchr(line, '\n', (size_t)(p->end - line));
	len = nl != NULL ? (size_t)(nl - line) : (size_t)(p->end - line);
	p->pos = nl != NULL ? nl + 1 : p->end;
	p->lineno++;
	p->num = num;
	p->expect = CONFIG_EXPECT_NONE;
	if (p->lineno == 1 && len >= 3 &&
	    memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		len -= 3;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	*str = '\0';
	if (memchr(line, '\0', len) != NULL) {
		config_error(p, p->lineno, "line contains a NUL byte");
		p->cont_ok = 0;
		return str;
	}
	if (len > (size_t)num - 1) {
		config_error(p, p->lineno,
		    "line too long (%zu bytes; the limit is %d): split long "
		    "lists over indented continuation lines",
		    len, num - 1);
		p->cont_ok = 0;
		/* Keys after a lost header must not land in the section above.
		 */
		if (line[strspn(line, " \t")] == '[') {
			config_section_end(p);
			p->sec.state = CONFIG_STATE_BAD;
		}
		return str;
	}
	memcpy(str, line, len);
	str[len] = '\0';
	config_classify(p, str);
	p->full = strlen(str) == (size_t)num - 1;
	return str;
}

/* Whether an indented line reads like `key = value` for a key of kind. */
static const char *
config_looks_like_key(
    enum config_kind kind, const char *value, char *name, size_t size)
{
	size_t len = 0;

	while (isalnum((unsigned char)value[len]) || value[len] == '_')
		len++;
	if (len == 0 || len >= size)
		return NULL;
	memcpy(name, value, len);
	name[len] = '\0';
	value += len;
	while (*value == ' ' || *value == '\t')
		value++;
	if (*value != '=' && *value != ':')
		return NULL;
	return config_key_find(kind, name) != NULL ? name : NULL;
}

static void
config_key_line(struct config_parse *p, const char *name, const char *value)
{
	const struct config_key *k;
	const char *hint;
	char *shown;
	int *seen;

	p->key = NULL;
	if (p->sec.state == CONFIG_STATE_NONE) {
		shown = config_quote(name, CONFIG_NAME_MAX);
		config_error(
		    p, p->lineno, "key '%s' is outside any section", shown);
		free(shown);
		return;
	}
	if (p->sec.state == CONFIG_STATE_BAD)
		return;
	if ((k = config_key_find(p->sec.kind, name)) == NULL) {
		shown = config_quote(name, CONFIG_NAME_MAX);
		if ((hint = config_key_suggest(p->sec.kind, name)) != NULL)
			config_error(p, p->lineno,
			    "unknown key '%s' in %s (did you mean '%s'?)",
			    shown, p->sec.name, hint);
		else
			config_error(p, p->lineno, "unknown key '%s' in %s",
			    shown, p->sec.name);
		free(shown);
		return;
	}
	seen = &p->sec.seen[k - config_keys];
	if (*seen != 0 && k->type != CONFIG_TYPE_LIST) {
		config_error(p, p->lineno,
		    "%s %s is given twice (first at line %d)", p->sec.name,
		    k->name, *seen);
		return;
	}
	if (*seen == 0)
		*seen = p->lineno;
	p->key = k;
	config_set(p, k, value, p->lineno);
}

static void
config_cont_line(struct config_parse *p, const char *value)
{
	const struct config_key *k = p->key;
	char name[CONFIG_NAME_MAX + 1];

	if (k == NULL)
		return;
	if (config_looks_like_key(p->sec.kind, value, name, sizeof name))
		config_warn(p, p->lineno,
		    "%s indented line continues '%s'; if '%s' is meant as a "
		    "key, remove the indentation",
		    p->sec.name, k->name, name);
	if (k->type != CONFIG_TYPE_LIST && k->type != CONFIG_TYPE_EXPR) {
		config_key_error(p, p->lineno, k,
		    "takes one value, so it cannot continue on an indented "
		    "line");
		p->key = NULL;
		return;
	}
	config_set(p, k, value, p->lineno);
}

/* inih's handler: section is ours to track, and errors are ours to report. */
static int
config_ini_cb(
    void *arg, const char *section, const char *name, const char *value)
{
	struct config_parse *p = arg;
	enum config_expect expect = p->expect;

	p->expect = CONFIG_EXPECT_NONE;
	if (expect == CONFIG_EXPECT_KEY)
		config_key_line(p, name, value);
	else if (expect == CONFIG_EXPECT_CONT)
		config_cont_line(p, value);
	return 1;
}

static const char *
config_add_file(struct config *cf, const char *path)
{
	cf->files = xreallocarray(cf->files, cf->nfiles + 1, sizeof *cf->files);
	cf->files[cf->nfiles] = xstrdup(path);
	return cf->files[cf->nfiles++];
}

/*
 * Read one file whole and parse it; -1 if it cannot be read.  A file already
 * read (the main file named again by a glob, or two globs naming one file)
 * is skipped.
 */
static int
config_load_file(struct config_parse *p, const char *path, int main)
{
	struct config *cf = p->cf;
	struct stat st;
	struct buf b;
	char chunk[65536];
	ssize_t n;
	size_t i;
	int fd, ret, rv = -1;

	buf_init(&b);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		config_diag_add(cf, CONFIG_ERROR, config_add_file(cf, path), 0,
		    "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		config_diag_add(cf, CONFIG_ERROR, config_add_file(cf, path), 0,
		    "cannot stat: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < p->nseen_files; i++) {
		if (p->seen_files[i].dev == st.st_dev &&
		    p->seen_files[i].ino == st.st_ino) {
			rv = 0;
			goto out;
		}
	}
	p->seen_files = xreallocarray(
	    p->seen_files, p->nseen_files + 1, sizeof *p->seen_files);
	p->seen_files[p->nseen_files].dev = st.st_dev;
	p->seen_files[p->nseen_files++].ino = st.st_ino;
	p->file = config_add_file(cf, path);
	if (!S_ISREG(st.st_mode)) {
		config_error(p, 0, "not a regular file");
		goto out;
	}
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			config_error(p, 0, "cannot read: %s", strerror(errno));
			goto out;
		}
		buf_add(&b, chunk, (size_t)n);
	}

	p->main = main;
	p->pos = b.data != NULL ? b.data : "";
	p->end = p->pos + b.len;
	p->lineno = 0;
	p->full = 0;
	p->has_prev = 0;
	p->cont_ok = 0;
	p->expect = CONFIG_EXPECT_NONE;
	p->key = NULL;
	p->sec.state = CONFIG_STATE_NONE;
	ret = ini_parse_stream(config_read_cb, p, config_ini_cb, p);
	config_section_end(p);
	/* Every line inih refuses was reported and blanked: a bug if not. */
	if (ret != 0)
		config_error(p, ret > 0 ? ret : 0, "cannot parse this line");
	rv = 0;

out:
	close(fd);
	buf_release(&b);
	return rv;
}

/* pattern resolved against dir, the main file's directory. */
static char *
config_resolve(const char *dir, const char *pattern)
{
	size_t len = strlen(dir);

	if (*pattern == '/')
		return xstrdup(pattern);
	if (len > 0 && dir[len - 1] == '/')
		return xasprintf("%s%s", dir, pattern);
	return xasprintf("%s/%s", dir, pattern);
}

static void
config_load_watchlists(struct config_parse *p)
{
	struct config *cf = p->cf;
	const char *slash;
	char *dir, *pattern;
	glob_t g;
	size_t i, j;
	int line, ret;

	p->file = cf->files[0];
	slash = strrchr(cf->path, '/');
	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == cf->path)
		dir = xstrdup("/");
	else
		dir = xstrndup(cf->path, (size_t)(slash - cf->path));
	for (i = 0; i < cf->daemon.nwatchlists; i++) {
		pattern = config_resolve(dir, cf->daemon.watchlists[i]);
		line = p->watchlist_lines[i];
		ret = glob(pattern, 0, NULL, &g);
		if (ret == GLOB_NOMATCH) {
			p->file = cf->files[0];
			if (strpbrk(cf->daemon.watchlists[i], "*?[") == NULL)
				config_error(p, line,
				    "[daemon] watchlists: '%s': %s", pattern,
				    strerror(ENOENT));
			else
				config_warn(p, line,
				    "[daemon] watchlists: '%s' matches no file",
				    pattern);
		} else if (ret != 0) {
			p->file = cf->files[0];
			config_error(p, line,
			    "[daemon] watchlists: cannot read '%s'", pattern);
		} else {
			for (j = 0; j < g.gl_pathc; j++)
				config_load_file(p, g.gl_pathv[j], 0);
		}
		if (ret != GLOB_NOMATCH)
			globfree(&g);
		free(pattern);
	}
	free(dir);
}

/* watchlist_compile()'s report of an alias that repeats another. */
static void
config_duplicate_alias_cb(const struct watchlist_entry *e,
    const struct watchlist_alias *dup, const struct watchlist_alias *first,
    void *arg)
{
	struct config *cf = arg;

	config_diag_add(cf, CONFIG_WARNING, e->file, dup->line,
	    "[%s:%s] alias '%s%s' repeats '%s%s' (equal after normalisation)",
	    watchlist_kind_name(e->kind), e->id, dup->text,
	    dup->star ? "*" : "", first->text, first->star ? "*" : "");
}

/* An error in a rule's expression, with the expression and a caret. */
static void
config_rule_error(struct config *cf, const struct rule *r, int line,
    const char *cause, size_t pos)
{
	struct buf caret;
	size_t i, len = strlen(r->when);

	if (pos > len)
		pos = len;
	buf_init(&caret);
	for (i = 0; i < pos; i++) {
		if (r->when[i] == '\t')
			buf_add_byte(&caret, '\t');
		else if (((unsigned char)r->when[i] & 0xc0) != 0x80)
			buf_add_byte(&caret, ' ');
	}
	config_diag_add(cf, CONFIG_ERROR, r->file, line,
	    "rule '%s': %s\n    %s\n    %s^", r->id, cause, r->when,
	    caret.data != NULL ? caret.data : "");
	buf_release(&caret);
}

/* Checks across sections and files, then the watchlist's own. */
static void
config_validate(struct config_parse *p)
{
	struct config *cf = p->cf;
	struct rule *r;
	char *cause;
	size_t i, j, pos;

	watchlist_compile(cf->wl, config_duplicate_alias_cb, cf);
	for (i = 0; i < cf->nrules; i++) {
		r = cf->rules[i];
		if (r->when != NULL) {
			cause = NULL;
			pos = 0;
			r->expr =
			    rule_expr_parse(r->when, cf->wl, &cause, &pos);
			if (r->expr == NULL)
				config_rule_error(cf, r, p->rule_lines[i].when,
				    cause != NULL ? cause : "invalid", pos);
			free(cause);
		}
		for (j = 0; j < r->nnotify; j++) {
			if (config_ids_find(&p->webhook_ids, r->notify[j]) ==
			    NULL)
				config_diag_add(cf, CONFIG_ERROR, r->file,
				    p->rule_lines[i].notify,
				    "rule '%s': notify: unknown webhook '%s'",
				    r->id, r->notify[j]);
		}
	}
	if (cf->nrules == 0)
		config_diag_add(cf, CONFIG_WARNING, cf->files[0], 0,
		    "no rules: nothing will alert");
}

/*
 * Who else can read st's file: "group NAME and others", "group NAME",
 * "others", or NULL if only its owner (and the root group) can.  The
 * daemon's group is also the group of the inbox's producers (it may write
 * the inbox), so a group other than root does not keep a secret.
 */
static char *
config_readers(const struct stat *st)
{
	struct group gr, *grp = NULL;
	char buf[1024], *group = NULL, *who;
	int byg = (st->st_mode & S_IRGRP) != 0 && st->st_gid != 0;
	int byo = (st->st_mode & S_IROTH) != 0;

	if (!byg && !byo)
		return NULL;
	if (byg) {
		if (getgrgid_r(st->st_gid, &gr, buf, sizeof buf, &grp) == 0 &&
		    grp != NULL)
			group = xasprintf("group %s", grp->gr_name);
		else
			group = xasprintf("group %u", (unsigned)st->st_gid);
	}
	if (byg && byo)
		who = xasprintf("%s and others", group);
	else
		who = xstrdup(byg ? group : "others");
	free(group);
	return who;
}

/*
 * Warn about a file holding secrets that others can read (stat() errors are
 * left to whoever reads the file).  line 0: the file as a whole.
 */
static void
config_check_mode(struct config *cf, const char *path, const char *diag_file,
    int line, const char *what)
{
	struct stat st;
	char *who;

	if (stat(path, &st) != 0 || (who = config_readers(&st)) == NULL)
		return;
	config_diag_add(cf, CONFIG_WARNING, diag_file, line,
	    "%s can be read by %s (mode %04o): chmod 600 it, owned by the user "
	    "watchlistd runs as%s",
	    what, who, (unsigned)(st.st_mode & 07777),
	    line > 0 ? ", or use secret = credential:NAME"
	             : " (a signing secret can also move to "
	               "credential:NAME or file:PATH)");
	free(who);
}

/*
 * Secrets in files that others can read.  The main file holds secrets when
 * a webhook has an inline secret, or a URL that is a credential: one with
 * user:password@ or a query (?token=, ntfy's ?auth=), of a webhook or a
 * feed, or any URL of a Slack, Discord, Teams or ntfy webhook, since those
 * services put the token in the path (ntfy: the topic).  A secret file
 * named by file: is checked too.  Webhooks and feeds live only in the main
 * file, so that is the one file to look at.
 */
static void
config_check_secrets(struct config *cf)
{
	const struct config_webhook *wh;
	const struct config_feed *fd;
	struct buf what;
	char *label;
	size_t i;

	buf_init(&what);
	for (i = 0; i < cf->nwebhooks; i++) {
		wh = cf->webhooks[i];
		if (wh->secret != NULL && strncmp(wh->secret, "whsec_", 6) == 0)
			buf_printf(&what, "%s[webhook:%s] secret",
			    what.len > 0 ? ", " : "", wh->id);
		if (wh->url != NULL &&
		    (url_has_credentials(wh->url) ||
		        wh->format == CONFIG_FORMAT_SLACK ||
		        wh->format == CONFIG_FORMAT_DISCORD ||
		        wh->format == CONFIG_FORMAT_TEAMS ||
		        wh->format == CONFIG_FORMAT_NTFY))
			buf_printf(&what, "%s[webhook:%s] url",
			    what.len > 0 ? ", " : "", wh->id);
		if (wh->secret != NULL &&
		    strncmp(wh->secret, "file:", 5) == 0) {
			label = xasprintf("[webhook:%s] secret file %s", wh->id,
			    wh->secret + 5);
			config_check_mode(
			    cf, wh->secret + 5, wh->file, wh->line, label);
			free(label);
		}
	}
	for (i = 0; i < cf->nfeeds; i++) {
		fd = cf->feeds[i];
		if (fd->url != NULL && url_has_credentials(fd->url))
			buf_printf(&what, "%s[feed:%s] url",
			    what.len > 0 ? ", " : "", fd->id);
	}
	if (what.len > 0) {
		label =
		    xasprintf("this file holds secrets (%s) but", what.data);
		config_check_mode(cf, cf->path, cf->files[0], 0, label);
		free(label);
	}
	buf_release(&what);
}

/* A diagnostic with its sort key: file in reading order, line, then age. */
struct config_sort {
	size_t file;
	size_t seq;
	struct config_diag d;
};

static int
config_sort_cmp(const void *a, const void *b)
{
	const struct config_sort *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
config_sort_diags(struct config *cf)
{
	struct config_sort *v;
	size_t i, f;

	v = xcalloc(cf->ndiags, sizeof *v);
	for (i = 0; i < cf->ndiags; i++) {
		/* Most diagnostics are about the latest files. */
		for (f = cf->nfiles; f > 0; f--) {
			if (cf->files[f - 1] == cf->diags[i].file)
				break;
		}
		v[i].file = f > 0 ? f - 1 : cf->nfiles;
		v[i].seq = i;
		v[i].d = cf->diags[i];
	}
	qsort(v, cf->ndiags, sizeof *v, config_sort_cmp);
	for (i = 0; i < cf->ndiags; i++)
		cf->diags[i] = v[i].d;
	free(v);
}

struct config *
config_load(const char *path)
{
	struct config *cf;
	struct config_parse p;

	cf = xcalloc(1, sizeof *cf);
	cf->path = xstrdup(path);
	cf->wl = watchlist_new();

	memset(&p, 0, sizeof p);
	p.cf = cf;
	p.sec.kind = CONFIG_KIND_DAEMON;
	p.sec.obj = &cf->daemon;
	snprintf(p.sec.name, sizeof p.sec.name, "[daemon]");
	config_set_defaults(&p);

	if (config_load_file(&p, path, 1) == 0) {
		config_load_watchlists(&p);
		config_validate(&p);
		config_check_secrets(cf);
	}
	config_sort_diags(cf);

	free(p.webhook_ids.v);
	free(p.feed_ids.v);
	free(p.rule_ids.v);
	free(p.rule_lines);
	free(p.watchlist_lines);
	free(p.seen_files);
	return cf;
}

void
config_free(struct config *cf)
{
	size_t i;

	if (cf == NULL)
		return;
	free(cf->path);
	free(cf->daemon.inbox);
	free(cf->daemon.state_dir);
	for (i = 0; i < cf->daemon.nwatchlists; i++)
		free(cf->daemon.watchlists[i]);
	free(cf->daemon.watchlists);
	for (i = 0; i < cf->nwebhooks; i++) {
		free(cf->webhooks[i]->id);
		free(cf->webhooks[i]->url);
		free(cf->webhooks[i]->secret);
		free(cf->webhooks[i]->ca_file);
		free(cf->webhooks[i]);
	}
	free(cf->webhooks);
	for (i = 0; i < cf->nfeeds; i++) {
		free(cf->feeds[i]->id);
		free(cf->feeds[i]->url);
		free(cf->feeds[i]);
	}
	free(cf->feeds);
	for (i = 0; i < cf->nrules; i++)
		rule_free(cf->rules[i]);
	free(cf->rules);
	watchlist_free(cf->wl);
	for (i = 0; i < cf->nfiles; i++)
		free(cf->files[i]);
	free(cf->files);
	for (i = 0; i < cf->ndiags; i++)
		free(cf->diags[i].msg);
	free(cf->diags);
	free(cf);
}

void
config_print_diags(const struct config *cf, FILE *fp)
{
	const struct config_diag *d;
	size_t i;

	for (i = 0; i < cf->ndiags; i++) {
		d = &cf->diags[i];
		if (d->file != NULL && d->line > 0)
			fprintf(fp, "%s:%d: ", d->file, d->line);
		else if (d->file != NULL)
			fprintf(fp, "%s: ", d->file);
		fprintf(fp, "%s%s\n",
		    d->level == CONFIG_WARNING ? "warning: " : "", d->msg);
	}
}
