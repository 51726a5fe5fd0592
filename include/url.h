/*
 * URLs as they may be shown: in logs, error messages, `check` output and
 * alerts.  A configured URL can be a credential: Slack, Discord and Teams
 * put the webhook's token in the path, ntfy's topic is its password, and
 * any URL may carry user:password@ or a token in its query.  So a
 * configured URL is never shown whole; it is shown as url_redact() gives
 * it, next to the id of its webhook or feed.  A leaf: needs only xmalloc.
 */
#ifndef WATCHLISTD_URL_H
#define WATCHLISTD_URL_H

/*
 * "scheme://host[:port]" followed by "/..." when anything came after
 * (path, query, fragment), without user:password@: "https://hooks.slack.com
 * /services/T0/B0/XX" -> "https://hooks.slack.com/...".  NULL when url does
 * not start with scheme:// (then nothing of it can be shown safely: it may
 * be a secret pasted in the wrong place).  A new string the caller frees.
 */
char *url_redact(const char *url);

/*
 * The URL without user:password@, ?query and #fragment: a link that still
 * leads to the resource but carries no usual place for a credential.  NULL
 * when url does not start with scheme://.  A new string the caller frees.
 */
char *url_strip(const char *url);

/* Whether url has user:password@ or a query (?token=, ?auth=...). */
int url_has_credentials(const char *url);

#endif
