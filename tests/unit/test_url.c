/*
 * Unit tests for url.c: what is shown of a URL in logs, errors and alerts
 * never holds a credential (a token in the path or the query, a password).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "url.h"

/* fn(url) is want (NULL: no string at all). */
static void
check_url(char *(*fn)(const char *), const char *url, const char *want)
{
	char *got = fn(url);

	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
	free(got);
}

#define check_redact(url, want) check_url(url_redact, url, want)
#define check_strip(url, want)  check_url(url_strip, url, want)

static void
test_redact(void **state)
{
	/* Tokens in the path: Slack, Discord, Teams. */
	check_redact("https://hooks.slack.com/services/T000/B000/XXXXSECRET",
	    "https://hooks.slack.com/...");
	check_redact("https://discord.com/api/webhooks/123/SECRETTOKEN",
	    "https://discord.com/...");
	check_redact("https://example.webhook.office.com/webhookb2/SECRET@x/"
	             "IncomingWebhook/abc/def",
	    "https://example.webhook.office.com/...");
	/* A token in the query; a password; both. */
	check_redact(
	    "https://ntfy.sh/alerts?auth=SECRET", "https://ntfy.sh/...");
	check_redact(
	    "https://feeds.example?token=SECRET", "https://feeds.example/...");
	check_redact("http://user:SECRET@feeds.example:8080/rss",
	    "http://feeds.example:8080/...");
	check_redact(
	    "http://user:SEC@RET@feeds.example/", "http://feeds.example/");
	check_redact("HTTPS://Example.NET", "HTTPS://Example.NET");
	check_redact("http://[::1]:9093/api", "http://[::1]:9093/...");
	check_redact("http://[::1/api", "http:///...");
	check_redact("https://h.example#SECRET", "https://h.example/...");
	/* A password with a '/' (not escaped) looks like a bad port. */
	check_redact("https://user:SEC/RET@h.example/x", "https://user/...");
	check_redact("https://h.example:99999x/p", "https://h.example/...");
	/* A control character or space ends what is shown. */
	check_redact("https://h.example\x1b[2J/x", "https://h.example/...");
	check_redact("https://h.example x", "https://h.example/...");
	/* Not scheme://: nothing can be shown. */
	check_redact("whsec_SECRETSECRETSECRET", NULL);
	check_redact("hooks.slack.com/services/T0/B0/SECRET", NULL);
	check_redact("://h.example", NULL);
	check_redact("", NULL);
	check_redact("1http://h.example", NULL);
}

static void
test_strip(void **state)
{
	check_strip(
	    "https://news.example/libya/rss", "https://news.example/libya/rss");
	check_strip("https://u:SECRET@news.example:8443/rss?token=SECRET#x",
	    "https://news.example:8443/rss");
	check_strip("https://news.example?key=SECRET", "https://news.example");
	check_strip("news.example/rss", NULL);
}

static void
test_has_credentials(void **state)
{
	assert_true(url_has_credentials("https://u:p@h.example/"));
	assert_true(url_has_credentials("https://u@h.example/"));
	assert_true(url_has_credentials("https://ntfy.sh/t?auth=x"));
	assert_true(url_has_credentials("https://h.example?x"));
	assert_false(url_has_credentials("https://h.example/a/b"));
	assert_false(url_has_credentials("https://h.example/a#b?c"));
	assert_false(url_has_credentials("https://h.example/a@b"));
	assert_false(url_has_credentials("not a url?x"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_redact),
	    cmocka_unit_test(test_strip),
	    cmocka_unit_test(test_has_credentials),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
