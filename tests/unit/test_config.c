/*
 * Unit tests for config.c: the value parsers, then whole configurations
 * written into a temporary directory, checking parsed values and the exact
 * text of every diagnostic.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "xmalloc.h"

static char tmpdir[64];

static int
setup(void **state)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
teardown(void **state)
{
	return nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* The path of name in the temporary directory; static storage. */
static const char *
path_of(const char *name)
{
	static char path[256];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return path;
}

static void
write_file(const char *name, const char *text, size_t len)
{
	FILE *fp;

	fp = fopen(path_of(name), "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void
write_str(const char *name, const char *text)
{
	write_file(name, text, strlen(text));
}

static void
make_dir(const char *name)
{
	assert_int_equal(mkdir(path_of(name), 0700), 0);
}

/* Load name from the temporary directory. */
static struct config *
load(const char *name)
{
	return config_load(path_of(name));
}

/*
 * The diagnostics as config_print_diags() prints them, with the temporary
 * directory taken out of file names so that tests can spell them.
 */
static char *
diags(const struct config *cf)
{
	char *out = NULL, *p;
	size_t len = 0, dlen;
	FILE *fp;
	struct buf b;

	fp = open_memstream(&out, &len);
	assert_non_null(fp);
	config_print_diags(cf, fp);
	assert_int_equal(fclose(fp), 0);
	buf_init(&b);
	buf_add_str(&b, "");
	dlen = strlen(tmpdir);
	for (p = out; *p != '\0';) {
		if (strncmp(p, tmpdir, dlen) == 0 && p[dlen] == '/')
			p += dlen + 1;
		else
			buf_add_byte(&b, *p++);
	}
	free(out);
	return buf_detach(&b, NULL);
}

/* Load text as main.ini and compare the diagnostics with want. */
static struct config *
check(const char *text, const char *want)
{
	struct config *cf;
	char *got;

	write_str("main.ini", text);
	cf = load("main.ini");
	got = diags(cf);
	if (strcmp(got, want) != 0) {
		/* cmocka cuts long messages: show both whole. */
		fprintf(stderr, "got:\n%s-- want:\n%s--\n", got, want);
		fail();
	}
	free(got);
	return cf;
}

/* Like check(), for a configuration whose only interest is its diags. */
static void
check_diags(const char *text, const char *want)
{
	config_free(check(text, want));
}

/* A minimal valid tail so that snippets do not warn about missing rules. */
#define RULE "[term:t]\nmatch = t\n[rule:r]\nwhen = t\n"

static void
test_duration(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} good[] = {
	    {"0", 0},
	    {"90", 90000},
	    {"500ms", 500},
	    {"10s", 10000},
	    {"1m", 60000},
	    {"2h", 7200000},
	    {"1d", 86400000},
	    {"1h30m", 5400000},
	    {"1d2h3m4s5ms", 93784005},
	    {"0s", 0},
	    {"30d", 2592000000},
	};
	static const struct {
		const char *s;
		const char *cause;
	} bad[] = {
	    {"", "is not a duration (use a number with ms, s, m, h or d)"},
	    {"-5s", "is negative"},
	    {"-1", "is negative"},
	    {"10x", "is not a duration (use a number with ms, s, m, h or d)"},
	    {"1h30", "is not a duration (use a number with ms, s, m, h or d)"},
	    {"h", "is not a duration (use a number with ms, s, m, h or d)"},
	    {"1.5h", "is not a duration (use a number with ms, s, m, h or d)"},
	    {"1 h", "is not a duration (use a number with ms, s, m, h or d)"},
	    {"5sec", "is not a duration (use a number with ms, s, m, h or d)"},
	    {"1H", "is not a duration (use a number with ms, s, m, h or d)"},
	    {"99999999999999999999", "is too large"},
	    {"106751991167301d", "is too large"},
	    {"9223372036854775807ms1ms", "is too large"},
	};
	const char *cause;
	int64_t ms;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		ms = -1;
		assert_int_equal(
		    config_parse_duration(good[i].s, &ms, &cause), 0);
		assert_int_equal(ms, good[i].ms);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		assert_int_equal(
		    config_parse_duration(bad[i].s, &ms, &cause), -1);
		assert_string_equal(cause, bad[i].cause);
	}
}

static void
test_size(void **state)
{
	static const struct {
		const char *s;
		uint64_t bytes;
	} good[] = {
	    {"0", 0},
	    {"512", 512},
	    {"512B", 512},
	    {"1k", 1024},
	    {"1K", 1024},
	    {"1KB", 1024},
	    {"1kb", 1024},
	    {"8M", 8388608},
	    {"8MB", 8388608},
	    {"8m", 8388608},
	    {"1G", 1073741824},
	    {"2gB", 2147483648},
	    {"16777216G", 18014398509481984},
	};
	static const char *const bad[] = {
	    "", "M", "8T", "1.5M", "8 M", "8MM", "8BM", "K8", "0x10"};
	const char *cause;
	uint64_t bytes;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_int_equal(
		    config_parse_size(good[i].s, &bytes, &cause), 0);
		assert_true(bytes == good[i].bytes);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(config_parse_size(bad[i], &bytes, &cause), -1);
		assert_string_equal(
		    cause, "is not a size (use a number with K, M or G)");
	}
	assert_int_equal(config_parse_size("-1K", &bytes, &cause), -1);
	assert_string_equal(cause, "is negative");
	assert_int_equal(
	    config_parse_size("18446744073709551616", &bytes, &cause), -1);
	assert_string_equal(cause, "is too large");
	assert_int_equal(config_parse_size("17179869184G", &bytes, &cause), -1);
	assert_string_equal(cause, "is too large");
}

static void
test_bool(void **state)
{
	static const char *const yes[] = {
	    "yes", "true", "on", "1", "Yes", "TRUE"};
	static const char *const no[] = {
	    "no", "false", "off", "0", "No", "OFF"};
	static const char *const bad[] = {"", "y", "2", "enabled", "yes!"};
	const char *cause;
	size_t i;
	int v;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		v = -1;
		assert_int_equal(config_parse_bool(yes[i], &v, &cause), 0);
		assert_int_equal(v, 1);
	}
	for (i = 0; i < sizeof no / sizeof no[0]; i++) {
		v = -1;
		assert_int_equal(config_parse_bool(no[i], &v, &cause), 0);
		assert_int_equal(v, 0);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(config_parse_bool(bad[i], &v, &cause), -1);
		assert_string_equal(cause, "is not a boolean (use yes or no)");
	}
}

static void
test_url(void **state)
{
	static const char *const good[] = {
	    "http://example.net",
	    "https://hooks.example.net/T000/B000/XXXX",
	    "HTTPS://EXAMPLE.NET/",
	    "http://127.0.0.1:8080/hook",
	    "http://localhost:1",
	    "http://localhost:65535/x?y=1#z",
	    "https://user:pw@example.net/x",
	    "http://[::1]:9000/alerts",
	    "http://[fe80::1]",
	    "https://example.net?x",
	};
	static const struct {
		const char *s;
		const char *cause;
	} bad[] = {
	    {"", "is not an http:// or https:// URL"},
	    {"ftp://example.net", "is not an http:// or https:// URL"},
	    {"example.net", "is not an http:// or https:// URL"},
	    {"http:/example.net", "is not an http:// or https:// URL"},
	    {"https//example.net", "is not an http:// or https:// URL"},
	    {"http://", "has no host"},
	    {"http:///path", "has no host"},
	    {"http://:80/", "has no host"},
	    {"http://user@/x", "has no host"},
	    {"http://[]/", "has no host"},
	    {"http://[::1/", "has no host"},
	    {"http://[::1]x/", "has no host"},
	    {"http://example.net:0/", "has a bad port (use 1 to 65535)"},
	    {"http://example.net:65536", "has a bad port (use 1 to 65535)"},
	    {"http://example.net:/", "has a bad port (use 1 to 65535)"},
	    {"http://example.net:80a/", "has a bad port (use 1 to 65535)"},
	    {"http://example.net:123456", "has a bad port (use 1 to 65535)"},
	    {"http://exa mple.net", "contains a space or control character"},
	    {"http://example.net/\t", "contains a space or control character"},
	    {"http://example.net/\x7f",
	        "contains a space or control character"},
	};
	const char *cause;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		cause = NULL;
		if (config_check_url(good[i], &cause) != 0)
			fail_msg("%s: %s", good[i], cause);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		if (config_check_url(bad[i].s, &cause) != -1)
			fail_msg("%s: accepted", bad[i].s);
		assert_string_equal(cause, bad[i].cause);
	}
}

/* Split s and render the items as "<a><b>", or "ERR:cause". */
static char *
split(const char *s)
{
	const char *cause;
	char **items;
	struct buf b;
	int n, i;

	buf_init(&b);
	buf_add_str(&b, "");
	n = config_split_list(s, &items, &cause);
	if (n < 0) {
		assert_null(items);
		buf_printf(&b, "ERR:%s", cause);
		return buf_detach(&b, NULL);
	}
	for (i = 0; i < n; i++) {
		buf_printf(&b, "<%s>", items[i]);
		free(items[i]);
	}
	free(items);
	return buf_detach(&b, NULL);
}

static void
test_split_list(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
	    {"ISIS, ISIL, Islamic State", "<ISIS><ISIL><Islamic State>"},
	    {"a", "<a>"},
	    {"", ""},
	    {"   ", ""},
	    {",,a,, ,b,", "<a><b>"},
	    {"  a  ,\tb\t", "<a><b>"},
	    {"\"Washington, D.C.\", DC", "<Washington, D.C.><DC>"},
	    {"\"a,b\",\"c\"", "<a,b><c>"},
	    {"\" padded \"", "< padded >"},
	    {"\"\", a", "<a>"},
	    {"O\"Brien, x", "<O\"Brien><x>"},
	    {"\"unterminated, x", "ERR:unterminated double quote"},
	    {"a, \"b", "ERR:unterminated double quote"},
	    {"\"a\" b, c", "ERR:text after a closing double quote"},
	    {"\"a\"  , c", "<a><c>"},
	    {"car bomb*, behead*", "<car bomb*><behead*>"},
	    {"\xd8\xb3\xd8\xb1\xd8\xaa, Sirte",
	        "<\xd8\xb3\xd8\xb1\xd8\xaa><Sirte>"},
	};
	size_t i;
	char *got;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = split(cases[i].in);
		if (strcmp(got, cases[i].out) != 0)
			fail_msg("split '%s': got '%s', want '%s'", cases[i].in,
			    got, cases[i].out);
		free(got);
	}
}

static const char full_config[] =
    "; every section and key\n"
    "[daemon]\n"
    "inbox      = /srv/inbox\n"
    "state_dir  = /srv/state          ; spool/ lives here\n"
    "watchlists = wl.d/*.ini\n"
    "processed  = delete\n"
    "max_document_size = 2M\n"
    "dedup_window = 1h30m\n"
    "log_level  = debug\n"
    "\n"
    "[webhook:ops]\n"
    "url      = https://hooks.example.net/T000/B000/XXXX\n"
    "format   = slack\n"
    "secret   = file:/etc/watchlistd/ops.secret\n"
    "timeout  = 30s\n"
    "backoff  = 500ms\n"
    "backoff_max = 2h\n"
    "retry_for = 2d\n"
    "min_severity = medium\n"
    "\n"
    "[webhook:desk]\n"
    "url = http://127.0.0.1:9000/alerts\n"
    "secret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
    "\n"
    "[webhook:pager]\n"
    "url: https://ntfy.example/watch\n"
    "format: ntfy\n"
    "secret: env:PAGER_SECRET\n"
    "min_severity: critical\n"
    "\n"
    "[webhook:am]\n"
    "url = https://am.example/api/v2/alerts\n"
    "format = alertmanager\n"
    "secret = credential:am.secret\n"
    "\n"
    "[feed:libya-news]\n"
    "url      = https://news.example/libya/rss\n"
    "interval = 5m\n"
    "first_fetch = alert\n"
    "allow_private = yes\n"
    "\n"
    "[feed:other]\n"
    "url = http://feeds.example/atom\n"
    "\n"
    "[term:isis]\n"
    "match      = ISIS, ISIL, Islamic State, Daesh\n"
    "match_case = IS\n"
    "not        = Isis River\n"
    "tags       = jihadist\n"
    "\n"
    "[term:attack]\n"
    "match = car bomb*, SVBIED, behead*, airstrike*\n"
    "\n"
    "[rule:isis-coast]\n"
    "when     = isis AND tag:coast           ; ids, tags\n"
    "severity = high\n"
    "notify   = ops, desk\n"
    "throttle = 1h\n"
    "\n"
    "[rule:any-attack]\n"
    "when = attack\n";

static const char full_places[] =
    "[place:sirte]\n"
    "match   = Sirte, Sirt, Surt, \xd8\xb3\xd8\xb1\xd8\xaa\n"
    "lat     = 31.2089\n"
    "lon     = 16.5887\n"
    "country = LY\n"
    "tags    = libya, coast\n"
    "\n"
    "[place:derna]\n"
    "match = Derna, \"Darnah, Libya\"\n"
    "tags = coast\n";

static void
test_full(void **state)
{
	struct config *cf;
	struct config_webhook *wh;
	struct config_feed *fd;
	struct watchlist_entry *e;
	struct rule *r;
	char *want;

	make_dir("wl.d");
	write_str("wl.d/places.ini", full_places);
	cf = check(full_config, "");
	assert_int_equal(cf->nerrors, 0);
	assert_int_equal(cf->nwarnings, 0);
	assert_string_equal(cf->path, path_of("main.ini"));
	assert_int_equal(cf->nfiles, 2);
	assert_string_equal(cf->files[0], path_of("main.ini"));
	want = xasprintf("%s/wl.d/places.ini", tmpdir);
	assert_string_equal(cf->files[1], want);
	free(want);

	assert_string_equal(cf->daemon.inbox, "/srv/inbox");
	assert_string_equal(cf->daemon.state_dir, "/srv/state");
	assert_int_equal(cf->daemon.nwatchlists, 1);
	assert_string_equal(cf->daemon.watchlists[0], "wl.d/*.ini");
	assert_int_equal(cf->daemon.processed, CONFIG_PROCESSED_DELETE);
	assert_true(cf->daemon.max_document_size == 2 * 1024 * 1024);
	assert_int_equal(cf->daemon.dedup_window_ms, 5400000);
	assert_int_equal(cf->daemon.log_level, LOG_LEVEL_DEBUG);

	assert_int_equal(cf->nwebhooks, 4);
	wh = config_find_webhook(cf, "ops");
	assert_ptr_equal(wh, cf->webhooks[0]);
	assert_string_equal(
	    wh->url, "https://hooks.example.net/T000/B000/XXXX");
	assert_int_equal(wh->format, CONFIG_FORMAT_SLACK);
	assert_string_equal(config_format_name(wh->format), "slack");
	assert_string_equal(wh->secret, "file:/etc/watchlistd/ops.secret");
	assert_int_equal(wh->timeout_ms, 30000);
	assert_int_equal(wh->backoff_ms, 500);
	assert_int_equal(wh->backoff_max_ms, 7200000);
	assert_int_equal(wh->retry_for_ms, 2 * 86400000);
	assert_int_equal(wh->min_severity, RULE_MEDIUM);
	assert_ptr_equal(wh->file, cf->files[0]);
	assert_int_equal(wh->line, 11);

	/* Defaults. */
	wh = config_find_webhook(cf, "desk");
	assert_non_null(wh);
	assert_string_equal(wh->url, "http://127.0.0.1:9000/alerts");
	assert_int_equal(wh->format, CONFIG_FORMAT_JSON);
	assert_string_equal(
	    wh->secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	assert_int_equal(wh->timeout_ms, 10000);
	assert_int_equal(wh->backoff_ms, 5000);
	assert_int_equal(wh->backoff_max_ms, 3600000);
	assert_int_equal(wh->retry_for_ms, 86400000);
	assert_int_equal(wh->min_severity, RULE_LOW);
	assert_int_equal(wh->line, 21);

	wh = config_find_webhook(cf, "pager");
	assert_int_equal(wh->format, CONFIG_FORMAT_NTFY);
	assert_string_equal(wh->secret, "env:PAGER_SECRET");
	assert_int_equal(wh->min_severity, RULE_CRITICAL);
	wh = config_find_webhook(cf, "am");
	assert_int_equal(wh->format, CONFIG_FORMAT_ALERTMANAGER);
	assert_string_equal(config_format_name(wh->format), "alertmanager");
	assert_string_equal(wh->secret, "credential:am.secret");
	assert_null(config_find_webhook(cf, "nope"));

	assert_int_equal(cf->nfeeds, 2);
	fd = cf->feeds[0];
	assert_string_equal(fd->id, "libya-news");
	assert_string_equal(fd->url, "https://news.example/libya/rss");
	assert_int_equal(fd->interval_ms, 300000);
	assert_int_equal(fd->first_fetch, CONFIG_FIRST_FETCH_ALERT);
	assert_int_equal(fd->allow_private, 1);
	assert_int_equal(fd->line, 36);
	fd = cf->feeds[1];
	assert_string_equal(fd->id, "other");
	assert_int_equal(fd->interval_ms, 600000);
	assert_int_equal(fd->first_fetch, CONFIG_FIRST_FETCH_SKIP);
	assert_int_equal(fd->allow_private, 0);

	assert_int_equal(watchlist_count(cf->wl), 4);
	e = watchlist_find(cf->wl, "isis");
	assert_int_equal(e->kind, WATCHLIST_TERM);
	assert_int_equal(e->naliases, 5);
	assert_string_equal(e->aliases[2].text, "Islamic State");
	assert_int_equal(e->aliases[2].exact_case, 0);
	assert_int_equal(e->aliases[2].line, 46);
	assert_string_equal(e->aliases[4].text, "IS");
	assert_int_equal(e->aliases[4].exact_case, 1);
	assert_int_equal(e->aliases[4].line, 47);
	assert_int_equal(e->nnots, 1);
	assert_string_equal(e->nots[0].text, "Isis River");
	assert_int_equal(e->ntags, 1);
	assert_string_equal(e->tags[0], "jihadist");
	assert_int_equal(e->has_coords, 0);
	assert_string_equal(e->country, "");
	assert_ptr_equal(e->file, cf->files[0]);
	assert_int_equal(e->line, 45);
	e = watchlist_find(cf->wl, "attack");
	assert_int_equal(e->naliases, 4);
	assert_string_equal(e->aliases[0].text, "car bomb");
	assert_int_equal(e->aliases[0].star, 1);

	e = watchlist_find(cf->wl, "sirte");
	assert_int_equal(e->kind, WATCHLIST_PLACE);
	assert_int_equal(e->index, 2);
	assert_ptr_equal(e->file, cf->files[1]);
	assert_int_equal(e->line, 1);
	assert_int_equal(e->naliases, 4);
	assert_string_equal(e->aliases[3].text, "\xd8\xb3\xd8\xb1\xd8\xaa");
	assert_int_equal(e->has_coords, 1);
	assert_true(e->lat == 31.2089);
	assert_true(e->lon == 16.5887);
	assert_string_equal(e->country, "LY");
	assert_int_equal(e->ntags, 2);
	assert_true(watchlist_entry_has_tag(e, "coast"));
	e = watchlist_find(cf->wl, "derna");
	assert_int_equal(e->naliases, 2);
	assert_string_equal(e->aliases[1].text, "Darnah, Libya");
	assert_int_equal(e->has_coords, 0);

	assert_int_equal(cf->nrules, 2);
	r = cf->rules[0];
	assert_string_equal(r->id, "isis-coast");
	assert_string_equal(r->when, "isis AND tag:coast");
	assert_non_null(r->expr);
	assert_int_equal(r->severity, RULE_HIGH);
	assert_int_equal(r->nnotify, 2);
	assert_string_equal(r->notify[0], "ops");
	assert_string_equal(r->notify[1], "desk");
	assert_int_equal(r->throttle_ms, 3600000);
	assert_ptr_equal(r->file, cf->files[0]);
	assert_int_equal(r->line, 54);
	r = cf->rules[1];
	assert_non_null(r->expr);
	assert_int_equal(r->severity, RULE_MEDIUM);
	assert_int_equal(r->nnotify, 0);
	assert_int_equal(r->throttle_ms, 0);
	config_free(cf);
}

static void
test_defaults(void **state)
{
	struct config *cf;

	cf = check("", "main.ini: warning: no rules: nothing will alert\n");
	assert_int_equal(cf->nerrors, 0);
	assert_int_equal(cf->nwarnings, 1);
	assert_string_equal(cf->daemon.inbox, "/var/lib/watchlistd/inbox");
	assert_string_equal(cf->daemon.state_dir, "/var/lib/watchlistd");
	assert_int_equal(cf->daemon.nwatchlists, 0);
	assert_null(cf->daemon.watchlists);
	assert_int_equal(cf->daemon.processed, CONFIG_PROCESSED_KEEP);
	assert_true(cf->daemon.max_document_size == 8 * 1024 * 1024);
	assert_int_equal(cf->daemon.dedup_window_ms, 86400000);
	assert_int_equal(cf->daemon.log_level, LOG_LEVEL_INFO);
	assert_int_equal(cf->nwebhooks, 0);
	assert_int_equal(cf->nfeeds, 0);
	assert_int_equal(cf->nrules, 0);
	assert_int_equal(watchlist_count(cf->wl), 0);
	config_free(cf);

	cf = check("[daemon]\n" RULE, "");
	assert_int_equal(cf->daemon.log_level, LOG_LEVEL_INFO);
	config_free(cf);
}

static void
test_missing_file(void **state)
{
	struct config *cf;
	char *got;

	cf = load("nope.ini");
	assert_int_equal(cf->nerrors, 1);
	assert_int_equal(cf->nfiles, 1);
	got = diags(cf);
	assert_string_equal(
	    got, "nope.ini: cannot open: No such file or directory\n");
	free(got);
	config_free(cf);

	make_dir("dir.ini");
	cf = load("dir.ini");
	got = diags(cf);
	assert_string_equal(got, "dir.ini: not a regular file\n");
	free(got);
	config_free(cf);
}

static void
test_section_errors(void **state)
{
	check_diags("match = x\n" RULE,
	    "main.ini:1: key 'match' is outside any section\n");
	check_diags("[terms:isis]\nmatch = x\n" RULE,
	    "main.ini:1: unknown section kind 'terms' in [terms:isis] (did "
	    "you mean 'term'?)\n");
	check_diags("[frobnicate]\nx = 1\n" RULE,
	    "main.ini:1: unknown section kind 'frobnicate' in [frobnicate] "
	    "(use daemon, webhook, feed, term, place or rule)\n");
	check_diags("[term:is is]\nmatch = x\n[term:a/b]\nmatch = y\n" RULE,
	    "main.ini:1: invalid id 'is is' in [term:is is] (use letters, "
	    "digits, '_', '.' and '-')\n"
	    "main.ini:3: invalid id 'a/b' in [term:a/b] (use letters, "
	    "digits, '_', '.' and '-')\n");
	check_diags("[term]\nmatch = x\n[rule:]\nwhen = t\n" RULE,
	    "main.ini:1: [term] needs an id, as in [term:NAME]\n"
	    "main.ini:3: [rule:] needs an id, as in [rule:NAME]\n");
	check_diags("[daemon:main]\ninbox = /x\n" RULE,
	    "main.ini:1: [daemon:main]: [daemon] takes no id\n");
	check_diags("[daemon]\n[daemon]\ninbox = /x\n" RULE,
	    "main.ini:2: duplicate [daemon] section (first defined at "
	    "main.ini:1)\n");
	check_diags("[term:isis]\nmatch = ISIS\n[term:isis]\nmatch = x\n"
	            "[place:isis]\nmatch = y\n" RULE,
	    "main.ini:3: duplicate term id 'isis' (first defined at "
	    "main.ini:1)\n"
	    "main.ini:5: duplicate place id 'isis' (first defined as "
	    "[term:isis] at main.ini:1)\n");
	check_diags("[webhook:ops]\nurl = http://a\n[webhook:ops]\n"
	            "url = http://b\n[feed:f]\nurl = http://c\n[feed:f]\n"
	            "url = http://d\n" RULE "[rule:r]\nwhen = t\n",
	    "main.ini:3: duplicate webhook id 'ops' (first defined at "
	    "main.ini:1)\n"
	    "main.ini:7: duplicate feed id 'f' (first defined at "
	    "main.ini:5)\n"
	    "main.ini:13: duplicate rule id 'r' (first defined at "
	    "main.ini:11)\n");
	/* One namespace per kind: a rule, a webhook and a term may share. */
	check_diags("[webhook:t]\nurl = http://a\n[feed:t]\nurl = http://b\n"
	            "[term:t]\nmatch = t\n[rule:t]\nwhen = t\n",
	    "");
	check_diags("[term:isis] ; comment\nmatch = x\n[term:b] junk\n"
	            "match = y\n" RULE,
	    "main.ini:3: unexpected text after '[term:b]'\n");
}

static void
test_watchlist_file_errors(void **state)
{
	make_dir("wl");
	write_str("wl/a.ini", "[daemon]\ninbox = /x\n[webhook:w]\nurl = "
	                      "http://x\n[feed:f]\nurl = http://x\n" RULE);
	check_diags("[daemon]\nwatchlists = wl/a.ini\n",
	    "wl/a.ini:1: [daemon] may only appear in the main file, not in a "
	    "watchlist file\n"
	    "wl/a.ini:3: [webhook:w] may only appear in the main file, not "
	    "in a watchlist file\n"
	    "wl/a.ini:5: [feed:f] may only appear in the main file, not in "
	    "a watchlist file\n");
}

static void
test_key_errors(void **state)
{
	check_diags("[term:isis]\nmach = x\nmatch = y\nfoo = 1\n" RULE,
	    "main.ini:2: unknown key 'mach' in [term:isis] (did you mean "
	    "'match'?)\n"
	    "main.ini:4: unknown key 'foo' in [term:isis]\n");
	check_diags("[daemon]\nInbox = /x\ninbox = /y\ninbox = /z\n" RULE,
	    "main.ini:2: unknown key 'Inbox' in [daemon] (did you mean "
	    "'inbox'?)\n"
	    "main.ini:4: [daemon] inbox is given twice (first at line 3)\n");
	check_diags("[place:p]\nmatch = p\nlat = 1\nlon = 2\nlat = 3\n" RULE,
	    "main.ini:5: [place:p] lat is given twice (first at line 3)\n");
	/* lat belongs to places only. */
	check_diags("[term:x]\nmatch = x\nlat = 1\n" RULE,
	    "main.ini:3: unknown key 'lat' in [term:x]\n");
	/* A duplicate key is an error even when the first was bad. */
	check_diags("[daemon]\nlog_level = loud\nlog_level = info\n" RULE,
	    "main.ini:2: [daemon] log_level: 'loud' is not one of error, "
	    "warning, notice, info or debug\n"
	    "main.ini:3: [daemon] log_level is given twice (first at line "
	    "2)\n");
	/* Keys of a section that was refused are not reported again. */
	check_diags("[term:a b]\nmach = x\nfoo = 1\n" RULE,
	    "main.ini:1: invalid id 'a b' in [term:a b] (use letters, "
	    "digits, '_', '.' and '-')\n");
}

static void
test_value_errors(void **state)
{
	check_diags("[daemon]\n"
	            "inbox =\n"
	            "processed = archive\n"
	            "max_document_size = 2G\n"
	            "dedup_window = 31d\n"
	            "log_level = verbose\n"
	            "[webhook:ops]\n"
	            "url = ftp://example.net\n"
	            "format = xml\n"
	            "secret = hunter2\n"
	            "timeout = 10x\n"
	            "backoff = 50ms\n"
	            "backoff_max = 8d\n"
	            "retry_for = 0s\n"
	            "min_severity = urgent\n"
	            "[webhook:w2]\n"
	            "url = http://ok\n"
	            "secret = whsec_not*base64\n"
	            "[webhook:w3]\n"
	            "url = http://ok\n"
	            "secret = file:relative\n"
	            "timeout = 11m\n"
	            "[feed:f]\n"
	            "url = http://\n"
	            "interval = 0\n"
	            "first_fetch = maybe\n"
	            "allow_private = sometimes\n"
	            "[place:p]\n"
	            "match = p\n"
	            "lat = 91\n"
	            "lon = east\n"
	            "country = ly\n"
	            "tags = ok, not ok, x!\n"
	            "[term:t]\nmatch = t\n"
	            "[rule:r]\n"
	            "when = t\n"
	            "severity = severe\n"
	            "throttle = -1s\n",
	    "main.ini:2: [daemon] inbox: needs a value\n"
	    "main.ini:3: [daemon] processed: 'archive' is not one of keep or "
	    "delete\n"
	    "main.ini:4: [daemon] max_document_size: '2G' is out of range (1K "
	    "to 1G)\n"
	    "main.ini:5: [daemon] dedup_window: '31d' is out of range (0 to "
	    "30d)\n"
	    "main.ini:6: [daemon] log_level: 'verbose' is not one of error, "
	    "warning, notice, info or debug\n"
	    "main.ini:8: [webhook:ops] url: 'ftp://example.net' is not an "
	    "http:// or https:// URL\n"
	    "main.ini:9: [webhook:ops] format: 'xml' is not one of json, "
	    "slack, discord, teams, ntfy or alertmanager\n"
	    "main.ini:10: [webhook:ops] secret: not a valid secret: use "
	    "file:/PATH, env:NAME, credential:NAME or whsec_BASE64\n"
	    "main.ini:11: [webhook:ops] timeout: '10x' is not a duration (use "
	    "a number with ms, s, m, h or d)\n"
	    "main.ini:12: [webhook:ops] backoff: '50ms' is out of range "
	    "(100ms to 1h)\n"
	    "main.ini:13: [webhook:ops] backoff_max: '8d' is out of range "
	    "(100ms to 7d)\n"
	    "main.ini:14: [webhook:ops] retry_for: '0s' is out of range (1s "
	    "to 30d)\n"
	    "main.ini:15: [webhook:ops] min_severity: 'urgent' is not one of "
	    "low, medium, high or critical\n"
	    "main.ini:18: [webhook:w2] secret: not a valid secret: whsec_ "
	    "must be followed by base64\n"
	    "main.ini:21: [webhook:w3] secret: not a valid secret: file: "
	    "needs an absolute path\n"
	    "main.ini:22: [webhook:w3] timeout: '11m' is out of range (1s to "
	    "10m)\n"
	    "main.ini:24: [feed:f] url: 'http://' has no host\n"
	    "main.ini:25: [feed:f] interval: '0' is out of range (1s to 7d)\n"
	    "main.ini:26: [feed:f] first_fetch: 'maybe' is not one of skip "
	    "or alert\n"
	    "main.ini:27: [feed:f] allow_private: 'sometimes' is not a "
	    "boolean (use yes or no)\n"
	    "main.ini:30: [place:p] lat: '91' is out of range (-90 to 90)\n"
	    "main.ini:31: [place:p] lon: 'east' is not a number\n"
	    "main.ini:32: [place:p] country: 'ly' is not a country code (use "
	    "two upper-case letters, as in LY)\n"
	    "main.ini:33: [place:p] tags: 'not ok' is not a tag name (use "
	    "letters, digits, '_', '.' and '-')\n"
	    "main.ini:33: [place:p] tags: 'x!' is not a tag name (use "
	    "letters, digits, '_', '.' and '-')\n"
	    "main.ini:38: [rule:r] severity: 'severe' is not one of low, "
	    "medium, high or critical\n"
	    "main.ini:39: [rule:r] throttle: '-1s' is negative\n");
}

static void
test_section_checks(void **state)
{
	check_diags("[webhook:ops]\nformat = json\n[feed:f]\ninterval = 1m\n"
	            "[rule:x]\nseverity = high\n" RULE,
	    "main.ini:1: [webhook:ops] missing required key 'url'\n"
	    "main.ini:3: [feed:f] missing required key 'url'\n"
	    "main.ini:5: [rule:x] missing required key 'when'\n");
	check_diags("[place:a]\nmatch = a\nlat = 1\n[place:b]\nmatch = b\n"
	            "lon = 2\n[place:c]\nmatch = c\ncountry = LY\n" RULE,
	    "main.ini:3: [place:a] lat: given without lon\n"
	    "main.ini:6: [place:b] lon: given without lat\n");
	check_diags("[webhook:a]\nurl = http://a\nbackoff = 10m\n"
	            "backoff_max = 5m\n"
	            "[webhook:b]\nurl = http://b\nbackoff = 1h\n"
	            "[webhook:c]\nurl = http://c\nbackoff_max = 1s\n"
	            "[webhook:d]\nurl = http://d\nbackoff = 1m\n"
	            "backoff_max = 1m\n" RULE,
	    "main.ini:4: [webhook:a] backoff_max must be at least backoff\n"
	    "main.ini:10: [webhook:c] backoff_max must be at least backoff\n");
	check_diags("[term:empty]\ntags = x\n[place:p]\nmatch =\n" RULE,
	    "main.ini:1: [term:empty] has no aliases: give match or "
	    "match_case\n"
	    "main.ini:3: [place:p] has no aliases: give match or "
	    "match_case\n");
	/* A refused alias is reported once, not again as "no aliases". */
	check_diags("[term:a]\nmatch = ---, -*\nnot = ...\n" RULE,
	    "main.ini:2: [term:a] match: '---' has no letters or digits\n"
	    "main.ini:2: [term:a] match: '-*': '*' must follow a letter or "
	    "digit\n"
	    "main.ini:3: [term:a] not: '...' has no letters or digits\n");
	check_diags("[term:a]\nmatch = \"ok\", \"broken\n" RULE,
	    "main.ini:2: [term:a] match: unterminated double quote\n");
}

static void
test_rule_errors(void **state)
{
	check_diags("[term:isis]\nmatch = ISIS\n[place:sirte]\nmatch = Sirte\n"
	            "[webhook:ops]\nurl = http://x\n"
	            "[rule:x]\nwhen = isis AND sirtte\nnotify = ops, opz\n"
	            "[rule:y]\nseverity = low\n"
	            "when = (isis OR\n  tag:nope)\n",
	    "main.ini:8: rule 'x': unknown entry 'sirtte'\n"
	    "    isis AND sirtte\n"
	    "             ^\n"
	    "main.ini:9: rule 'x': notify: unknown webhook 'opz'\n"
	    "main.ini:12: rule 'y': no entry has tag 'nope'\n"
	    "    (isis OR tag:nope)\n"
	    "             ^\n");
	check_diags("[term:t]\nmatch = t\n[term:\xc3\xa9t\xc3\xa9]\nmatch = "
	            "ete\n[rule:r]\nwhen = t AND \xc3\xa9t\xc3\xa9 AND nope\n",
	    "main.ini:3: invalid id '\xc3\xa9t\xc3\xa9' in "
	    "[term:\xc3\xa9t\xc3\xa9] (use letters, digits, '_', '.' and "
	    "'-')\n"
	    "main.ini:6: rule 'r': unexpected byte 0xc3 in "
	    "'\xc3\xa9t\xc3\xa9'\n"
	    "    t AND \xc3\xa9t\xc3\xa9 AND nope\n"
	    "          ^\n");
	/* A tab stays a tab under the caret so that they line up. */
	check_diags("[term:t]\nmatch = t\n[rule:r]\nwhen = t\tAND nope\n",
	    "main.ini:4: rule 'r': unknown entry 'nope'\n"
	    "    t\tAND nope\n"
	    "     \t    ^\n");
	check_diags("[term:t]\nmatch = t\n[rule:r]\nwhen =\n",
	    "main.ini:4: rule 'r': empty expression\n"
	    "    \n"
	    "    ^\n");
}

static void
test_duplicate_aliases(void **state)
{
	struct config *cf;
	struct watchlist_entry *e;

	cf = check("[term:isis]\nmatch = ISIS, ISIL\n  Isis, Daesh\n"
	           "match_case = IS\n[rule:r]\nwhen = isis\n",
	    "main.ini:3: warning: [term:isis] alias 'Isis' repeats 'ISIS' "
	    "(equal after normalisation)\n");
	assert_int_equal(cf->nerrors, 0);
	assert_int_equal(cf->nwarnings, 1);
	e = watchlist_find(cf->wl, "isis");
	assert_int_equal(e->naliases, 5);
	assert_int_equal(e->aliases[2].duplicate, 1);
	config_free(cf);
}

static void
test_syntax_errors(void **state)
{
	char line[128];

	check_diags("[term:isis\nmatch = x\n[term:a ;b]\n" RULE,
	    "main.ini:1: section header without ']'\n"
	    "main.ini:3: section header without ']'\n");
	check_diags("[term:a]\nmatch = a\njust words\n= x\n" RULE,
	    "main.ini:3: expected [section] or key = value, not 'just "
	    "words'\n"
	    "main.ini:4: missing key name before '='\n");
	snprintf(line, sizeof line, "[term:%s]\nmatch = x\n",
	    "a123456789b123456789c123456789d123456789e123456789");
	check_diags(line, "main.ini: warning: no rules: nothing will alert\n"
	                  "main.ini:1: section name is longer than 49 bytes\n");
	snprintf(line, sizeof line, "[term:a]\nmatch = a\n%s = 1\n" RULE,
	    "a123456789b123456789c123456789d123456789e123456789");
	check_diags(line, "main.ini:3: key name is longer than 49 bytes\n");
	/* 49 bytes is fine (and an unknown key). */
	snprintf(line, sizeof line, "[term:a]\nmatch = a\n%s = 1\n" RULE,
	    "a123456789b123456789c123456789d123456789e12345678");
	check_diags(line, "main.ini:3: unknown key "
	                  "'a123456789b123456789c123456789d123456789e12345678' "
	                  "in [term:a]\n");
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "[term:a]\nmatch = a\x00z\n" RULE;
	struct config *cf;
	char *got;

	write_file("nul.ini", text, sizeof text - 1);
	cf = load("nul.ini");
	got = diags(cf);
	assert_string_equal(got, "nul.ini:1: [term:a] has no aliases: give "
	                         "match or match_case\n"
	                         "nul.ini:2: line contains a NUL byte\n");
	free(got);
	config_free(cf);
}

static void
test_multi_errors(void **state)
{
	struct config *cf;

	make_dir("d");
	write_str("d/b.ini", "[term:b]\nmatch = b\nbogus = 1\n"
	                     "[rule:rb]\nwhen = b AND missing\n");
	write_str("d/a.ini", "[term:a]\nmatch = a\n[term:b]\nmatch = x\n"
	                     "[place:p]\nlat = 100\n");
	cf = check("[daemon]\n"
	           "watchlists = d/*.ini\n"
	           "timeout = 1s\n"
	           "[webhook:w]\n"
	           "url = http://x\n"
	           "timeout = 0\n"
	           "[rule:r]\n"
	           "when = a AND b\n"
	           "notify = w, v\n"
	           "[webhook:w]\n"
	           "url = http://y\n",
	    "main.ini:3: unknown key 'timeout' in [daemon]\n"
	    "main.ini:6: [webhook:w] timeout: '0' is out of range (1s to "
	    "10m)\n"
	    "main.ini:9: rule 'r': notify: unknown webhook 'v'\n"
	    "main.ini:10: duplicate webhook id 'w' (first defined at "
	    "main.ini:4)\n"
	    "d/a.ini:5: [place:p] has no aliases: give match or match_case\n"
	    "d/a.ini:6: [place:p] lat: '100' is out of range (-90 to 90)\n"
	    "d/a.ini:6: [place:p] lat: given without lon\n"
	    "d/b.ini:1: duplicate term id 'b' (first defined at d/a.ini:3)\n"
	    "d/b.ini:5: rule 'rb': unknown entry 'missing'\n"
	    "    b AND missing\n"
	    "          ^\n");
	assert_int_equal(cf->nerrors, 9);
	assert_int_equal(cf->nwarnings, 0);
	config_free(cf);
}

static void
test_continuation(void **state)
{
	struct config *cf;
	struct watchlist_entry *e;

	cf = check("[term:isis]\n"
	           "match = ISIS, ISIL,\n"
	           "  Islamic State   ; a comment\n"
	           "\n"
	           "; a comment line does not end it\n"
	           "\t\"Daesh, the\", Daech\n"
	           "match = IS-K\n"
	           "tags = a\n"
	           "   b, c\n"
	           "[rule:r]\n"
	           "when = isis AND\n"
	           "       (tag:a\n"
	           "\n"
	           "       OR tag:b)   ; why\n"
	           "severity = high\n",
	    "");
	e = watchlist_find(cf->wl, "isis");
	assert_int_equal(e->naliases, 6);
	assert_string_equal(e->aliases[2].text, "Islamic State");
	assert_int_equal(e->aliases[2].line, 3);
	assert_string_equal(e->aliases[3].text, "Daesh, the");
	assert_int_equal(e->aliases[3].line, 6);
	assert_string_equal(e->aliases[4].text, "Daech");
	assert_string_equal(e->aliases[5].text, "IS-K");
	assert_int_equal(e->aliases[5].line, 7);
	assert_int_equal(e->ntags, 3);
	assert_string_equal(cf->rules[0]->when, "isis AND (tag:a OR tag:b)");
	assert_non_null(cf->rules[0]->expr);
	assert_int_equal(cf->rules[0]->severity, RULE_HIGH);
	config_free(cf);

	/* An indented key is a continuation: warn, and refuse scalars. */
	cf = check("[place:p]\n"
	           "match = p\n"
	           "  tags = coast\n"
	           "lat = 1\n"
	           "  lon = 2\n"
	           "[webhook:w]\n"
	           "url = http://x\n"
	           "  /more\n"
	           "  format = json\n"
	           "[rule:r]\nwhen = p\n",
	    "main.ini:3: warning: [place:p] indented line continues 'match'; "
	    "if 'tags' is meant as a key, remove the indentation\n"
	    "main.ini:4: [place:p] lat: given without lon\n"
	    "main.ini:5: warning: [place:p] indented line continues 'lat'; "
	    "if 'lon' is meant as a key, remove the indentation\n"
	    "main.ini:5: [place:p] lat: takes one value, so it cannot "
	    "continue on an indented line\n"
	    "main.ini:8: [webhook:w] url: takes one value, so it cannot "
	    "continue on an indented line\n");
	e = watchlist_find(cf->wl, "p");
	assert_int_equal(e->naliases, 2);
	assert_string_equal(e->aliases[1].text, "tags = coast");
	config_free(cf);

	/* A `when` may start on the line after its key. */
	cf = check("[term:t]\nmatch = t\n[rule:r]\nwhen =\n  t\n  AND t\n", "");
	assert_string_equal(cf->rules[0]->when, "t AND t");
	config_free(cf);

	/* After a section header, an indented key is a key. */
	cf = check("[term:t]\n  match = t\n[rule:r]\n  when = t\n", "");
	config_free(cf);
}

static void
test_globs(void **state)
{
	struct config *cf;
	char *abs, *text;

	make_dir("wl");
	make_dir("more");
	write_str("wl/b.ini", "[term:b]\nmatch = b\n");
	write_str("wl/a.ini", "[term:a]\nmatch = a\n");
	write_str("wl/c.conf", "[term:c]\nmatch = c\n");
	write_str("more/x.ini", "[term:x]\nmatch = x\n[rule:r]\nwhen = "
	                        "a AND b AND x\n");
	abs = xasprintf("%s/more/x.ini", tmpdir);
	text = xasprintf("[daemon]\n"
	                 "watchlists = wl/*.ini, *.ini\n"
	                 "  wl/?.ini, %s\n"
	                 "watchlists = none/*.ini, wl/zz.ini\n",
	    abs);
	cf = check(text, "main.ini:4: warning: [daemon] watchlists: "
	                 "'none/*.ini' matches no file\n"
	                 "main.ini:4: [daemon] watchlists: 'wl/zz.ini': No "
	                 "such file or directory\n");
	free(text);
	assert_int_equal(cf->daemon.nwatchlists, 6);
	assert_string_equal(cf->daemon.watchlists[2], "wl/?.ini");
	/* Sorted, each once, the main file not again. */
	assert_int_equal(cf->nfiles, 4);
	assert_string_equal(cf->files[1] + strlen(tmpdir), "/wl/a.ini");
	assert_string_equal(cf->files[2] + strlen(tmpdir), "/wl/b.ini");
	assert_string_equal(cf->files[3], abs);
	assert_int_equal(watchlist_count(cf->wl), 3);
	assert_string_equal(watchlist_entry(cf->wl, 0)->id, "a");
	assert_ptr_equal(watchlist_entry(cf->wl, 0)->file, cf->files[1]);
	assert_non_null(cf->rules[0]->expr);
	free(abs);
	config_free(cf);
}

static void
test_glob_error_names_file(void **state)
{
	make_dir("conf");
	make_dir("conf/watchlists.d");
	write_str("conf/watchlists.d/libya.ini",
	    "[term:isis]\nmatch = ISIS\n[place:sirte]\nmatch = Sirte\n\n"
	    "\n\n\n\n\n\n[rule:x]\nwhen = isis AND sirtte\n");
	write_str("conf/main.ini", "[daemon]\nwatchlists = "
	                           "watchlists.d/*.ini\n");
	{
		struct config *cf = load("conf/main.ini");
		char *got = diags(cf);

		assert_string_equal(got,
		    "conf/watchlists.d/libya.ini:13: rule 'x': unknown entry "
		    "'sirtte'\n"
		    "    isis AND sirtte\n"
		    "             ^\n");
		free(got);
		config_free(cf);
	}
}

static void
test_long_lines(void **state)
{
	struct config *cf;
	struct buf b;
	size_t i;

	/* 199 bytes is the limit and still fine. */
	buf_init(&b);
	buf_add_str(&b, "[term:a]\nmatch = ");
	for (i = 0; i < 199 - 8; i++)
		buf_add_byte(&b, i % 10 == 9 ? ',' : 'a' + (char)(i / 10));
	buf_add_str(&b, "\nmatch = zz\n" RULE);
	cf = check(b.data, "");
	assert_int_equal(watchlist_find(cf->wl, "a")->naliases, 21);
	config_free(cf);

	/* 250 bytes: reported, and the lines after it still parse. */
	buf_reset(&b);
	buf_add_str(&b, "[term:a]\nmatch = a\nnot = ");
	for (i = 0; i < 250 - 6; i++)
		buf_add_byte(&b, 'x');
	buf_add_str(&b, "\n  more, continuation\ntags = t\n" RULE);
	cf = check(b.data, "main.ini:3: line too long (250 bytes; the limit is "
	                   "199): split long lists over indented continuation "
	                   "lines\n");
	assert_int_equal(watchlist_find(cf->wl, "a")->nnots, 0);
	assert_int_equal(watchlist_find(cf->wl, "a")->ntags, 1);
	config_free(cf);

	/* 10,000 bytes. */
	buf_reset(&b);
	buf_add_str(&b, "[term:a]\nmatch = a\nmatch = ");
	for (i = 0; i < 10000 - 8; i++)
		buf_add_byte(&b, i % 10 == 9 ? ',' : 'b');
	buf_add_str(&b, "\n[rule:r]\nwhen = x\n");
	cf = check(b.data, "main.ini:3: line too long (10000 bytes; the limit "
	                   "is 199): split long lists over indented "
	                   "continuation lines\n"
	                   "main.ini:5: rule 'r': unknown entry 'x'\n"
	                   "    x\n"
	                   "    ^\n");
	config_free(cf);

	/* The keys under a section header that was too long are ignored. */
	buf_reset(&b);
	buf_add_str(&b, "[term:a]\nmatch = a\n[term:");
	for (i = 0; i < 300; i++)
		buf_add_byte(&b, 'c');
	buf_add_str(&b, "]\nmatch = c\n" RULE);
	cf = check(b.data, "main.ini:3: line too long (307 bytes; the limit "
	                   "is 199): split long lists over indented "
	                   "continuation lines\n");
	assert_int_equal(watchlist_find(cf->wl, "a")->naliases, 1);
	config_free(cf);
	buf_release(&b);
}

static void
test_bom_crlf(void **state)
{
	struct config *cf;
	struct watchlist_entry *e;

	cf = check("\xef\xbb\xbf[term:isis]\r\n"
	           "match = ISIS, ISIL\r\n"
	           "  Daesh\r\n"
	           "\r\n"
	           "[rule:r]\r\n"
	           "when = isis\r\n"
	           "notify = w\r\n"
	           "[webhook:w]\r\n"
	           "url = http://x\r",
	    "");
	e = watchlist_find(cf->wl, "isis");
	assert_non_null(e);
	assert_int_equal(e->naliases, 3);
	assert_string_equal(e->aliases[2].text, "Daesh");
	assert_int_equal(e->aliases[2].line, 3);
	assert_string_equal(cf->webhooks[0]->url, "http://x");
	config_free(cf);

	/* A BOM is only skipped at the start of the file. */
	check_diags("[term:a]\nmatch = a\n\xef\xbb\xbf[rule:r]\nwhen = a\n",
	    "main.ini: warning: no rules: nothing will alert\n"
	    "main.ini:3: unknown key '\xef\xbb\xbf[rule' in [term:a]\n"
	    "main.ini:4: unknown key 'when' in [term:a]\n");
}

/* 150,000 places must load in linear time: a quadratic step would hang. */
static void
test_large(void **state)
{
	struct config *cf;
	struct watchlist_entry *e;
	FILE *fp;
	size_t i, n = 150000;
	char *got;

	make_dir("big");
	fp = fopen(path_of("big/places.ini"), "w");
	assert_non_null(fp);
	for (i = 0; i < n; i++)
		fprintf(fp,
		    "[place:p%zu]\nmatch = Place%zu, Pl%zu town, \"Ville, "
		    "%zu\"\nlat = %zu.5\nlon = -%zu.25\ncountry = FR\n"
		    "tags = t%zu\n\n",
		    i, i, i, i, i % 90, i % 180, i % 100);
	fprintf(fp, "[rule:last]\nwhen = p%zu AND tag:t7\n", n - 1);
	assert_int_equal(fclose(fp), 0);
	write_str("main.ini", "[daemon]\nwatchlists = big/*.ini\n");
	cf = load("main.ini");
	got = diags(cf);
	assert_string_equal(got, "");
	free(got);
	assert_int_equal(watchlist_count(cf->wl), n);
	e = watchlist_find(cf->wl, "p149999");
	assert_non_null(e);
	assert_int_equal(e->index, n - 1);
	assert_int_equal(e->naliases, 3);
	assert_string_equal(e->aliases[2].text, "Ville, 149999");
	assert_int_equal(e->aliases[2].line, (int)(n - 1) * 7 + 2);
	assert_int_equal(e->line, (int)(n - 1) * 7 + 1);
	assert_true(e->lat == 59.5 && e->lon == -59.25);
	assert_string_equal(e->country, "FR");
	assert_int_equal(watchlist_npatterns(cf->wl), 3 * n);
	assert_non_null(cf->rules[0]->expr);
	config_free(cf);
}

/*
 * A main file that holds secrets, and a secret file, are warned about when
 * others than their owner can read them: the message names the file, its
 * mode and what to do, and never a secret.  Files the other tests write
 * are 0600 (umask in main()).
 */
static void
test_secret_modes(void **state)
{
	static const char *const secrets[] = {
	    "TOKENPATH", "PASSWORD", "FEEDTOKEN", "SIGNKEY"};
	struct config *cf;
	char *text, *got, *want, *main_ini;
	size_t i;

	write_str("ops.secret", "whsec_U0lHTktFWVNJR05LRVlTSUdOS0VZ\n");
	text = xasprintf("[webhook:ops]\n"
	                 "url = https://hooks.example.net/services/T0/B0/"
	                 "TOKENPATH\n"
	                 "format = slack\n"
	                 "secret = file:%s\n"
	                 "[webhook:plain]\n"
	                 "url = https://alerts.example.net/watchlistd\n"
	                 "[feed:news]\n"
	                 "url = https://user:PASSWORD@news.example/"
	                 "rss?token=FEEDTOKEN\n"
	                 "[term:t]\nmatch = t\n[rule:r]\nwhen = t\n",
	    path_of("ops.secret"));
	main_ini = xstrdup(path_of("main.ini"));

	/* Readable by the owner alone: nothing to say. */
	config_free(check(text, ""));

	/* Readable by others: both are named, with their modes. */
	assert_int_equal(chmod(main_ini, 0604), 0);
	assert_int_equal(chmod(path_of("ops.secret"), 0604), 0);
	cf = load("main.ini");
	got = diags(cf);
	want = xstrdup(
	    "main.ini: warning: this file holds secrets ([webhook:ops] url, "
	    "[feed:news] url) but can be read by others (mode 0604): chmod "
	    "600 it, owned by the user watchlistd runs as (a signing secret "
	    "can also move to credential:NAME or file:PATH)\n"
	    "main.ini:1: warning: [webhook:ops] secret file ops.secret can "
	    "be read by others (mode 0604): chmod 600 it, owned by the user "
	    "watchlistd runs as, or use secret = credential:NAME\n");
	assert_string_equal(got, want);
	assert_int_equal(cf->nerrors, 0);
	for (i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		assert_null(strstr(got, secrets[i]));
	free(got);
	free(want);
	config_free(cf);

	/* An inline secret counts; readable by a group other than root. */
	free(text);
	text = xstrdup("[webhook:ops]\n"
	               "url = https://alerts.example.net/watchlistd\n"
	               "secret = whsec_U0lHTktFWVNJR05LRVlTSUdOS0VZ\n"
	               "[term:t]\nmatch = t\n[rule:r]\nwhen = t\n");
	write_str("main.ini", text);
	assert_int_equal(chmod(main_ini, 0640), 0);
	if (getegid() == 0 && chown(main_ini, (uid_t)-1, 1) != 0)
		fail_msg("chown: cannot give main.ini group 1");
	cf = load("main.ini");
	got = diags(cf);
	assert_non_null(strstr(got, "main.ini: warning: this file holds "
	                            "secrets ([webhook:ops] secret) but can "
	                            "be read by group "));
	assert_non_null(strstr(got, " (mode 0640): chmod 600 it"));
	assert_null(strstr(got, "U0lHTktFWVNJR05LRVlTSUdOS0VZ"));
	free(got);
	config_free(cf);

	/* No secret at all: any mode will do. */
	write_str("main.ini", "[webhook:plain]\n"
	                      "url = https://alerts.example.net/watchlistd\n"
	                      "[term:t]\nmatch = t\n[rule:r]\nwhen = t\n");
	assert_int_equal(chmod(main_ini, 0644), 0);
	config_free(check("[webhook:plain]\n"
	                  "url = https://alerts.example.net/watchlistd\n"
	                  "[term:t]\nmatch = t\n[rule:r]\nwhen = t\n",
	    ""));
	free(main_ini);
	free(text);
}

/*
 * Values that may be secrets are not repeated in errors: a URL is shown as
 * scheme://host/..., not at all without a scheme, and a secret on a line
 * of its own (no '=', or a key of it) is cut before "whsec_".
 */
static void
test_secrets_not_echoed(void **state)
{
	static const char *const secrets[] = {"TOKEN1", "TOKEN2", "TOKEN3",
	    "TOKEN4", "TOKEN5", "TOKEN6", "PASSWORD"};
	struct config *cf;
	char *got;
	size_t i;

	cf = check(
	    "whsec_TOKEN6TOKEN6TOKEN6=\n"
	    "[webhook:ops]\n"
	    "url = https://u:PASSWORD@hooks.example.net:99999/T0/TOKEN1\n"
	    "secret = whsec_not*base64TOKEN2\n"
	    "[webhook:two]\n"
	    "url = hooks.example.net/services/T0/B0/TOKEN3\n"
	    "format = slack\n"
	    "secret whsec_TOKEN4TOKEN4TOKEN4TOKEN4\n"
	    "whsec_TOKEN5TOKEN5TOKEN5==\n"
	    "[term:t]\nmatch = t\n[rule:r]\nwhen = t\n",
	    "main.ini:1: key '...' is outside any section\n"
	    "main.ini:3: [webhook:ops] url: "
	    "'https://hooks.example.net:99999/...' has a bad port (use 1 to "
	    "65535)\n"
	    "main.ini:4: [webhook:ops] secret: not a valid secret: whsec_ must "
	    "be followed by base64\n"
	    "main.ini:6: [webhook:two] url: the value is not an http:// or "
	    "https:// URL\n"
	    "main.ini:8: expected [section] or key = value, not 'secret "
	    "...'\n"
	    "main.ini:9: unknown key '...' in [webhook:two]\n");
	got = diags(cf);
	for (i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		assert_null(strstr(got, secrets[i]));
	free(got);
	config_free(cf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_size),
	    cmocka_unit_test(test_bool),
	    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_split_list),
	    cmocka_unit_test_setup_teardown(test_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_section_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_watchlist_file_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_value_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_section_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_duplicate_aliases, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_syntax_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_multi_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_continuation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_globs, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_glob_error_names_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bom_crlf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secret_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_secrets_not_echoed, setup, teardown),
	};

	/*
	 * The files written are their owner's alone, as a configuration
	 * holding secrets should be: only test_secret_modes wants warnings
	 * about modes.
	 */
	umask(077);
	log_init("test_config", LOG_LEVEL_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
