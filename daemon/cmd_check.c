/*
 * watchlistd check: load the configuration and every watchlist, report every
 * problem as file:line, and summarise what was loaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "webhook.h"

static void
cmd_check_usage(FILE *fp)
{
	fprintf(fp, "usage: watchlistd [-c FILE] check\n"
	            "Validate the configuration and the watchlists it names; "
	            "exit 0 when valid,\n1 with every error otherwise.\n");
}

/* Aliases that are matched: duplicates are folded into the first. */
static size_t
cmd_check_count_aliases(
    const struct watchlist *wl, enum watchlist_kind kind, size_t *nentries)
{
	const struct watchlist_entry *e;
	size_t i, j, n = 0;

	*nentries = 0;
	for (i = 0; i < watchlist_count(wl); i++) {
		e = watchlist_entry(wl, i);
		if (e->kind != kind)
			continue;
		(*nentries)++;
		for (j = 0; j < e->naliases; j++)
			n += !e->aliases[j].duplicate;
	}
	return n;
}

/*
 * What the daemon would refuse at start-up beyond the configuration's
 * syntax, so that ExecStartPre=check catches it.  Returns the errors found.
 */
static size_t
cmd_check_webhooks(const struct config *cf)
{
	const struct config_webhook *wh;
	size_t i, n = 0;
	char *cause;

	if (cf->nerrors > 0)
		return 0;
	for (i = 0; i < cf->nwebhooks; i++) {
		wh = cf->webhooks[i];
		if (webhook_check(wh, &cause) == 0)
			continue;
		fprintf(stderr, "%s:%d: [webhook:%s] url: %s\n", wh->file,
		    wh->line, wh->id, cause);
		free(cause);
		n++;
	}
	return n;
}

int
cmd_check(const char *config_path, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct config *cf;
	size_t nterms, nplaces, naliases, nerrors;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			cmd_check_usage(stdout);
			return 0;
		}
		cmd_check_usage(stderr);
		return 2;
	}
	if (optind != argc) {
		cmd_check_usage(stderr);
		return 2;
	}

	cf = config_load(config_path);
	config_print_diags(cf, stderr);
	nerrors = cf->nerrors + cmd_check_webhooks(cf);
	if (nerrors > 0) {
		fprintf(stderr, "watchlistd: %zu error%s in configuration\n",
		    nerrors, nerrors == 1 ? "" : "s");
		config_free(cf);
		return 1;
	}
	naliases = cmd_check_count_aliases(cf->wl, WATCHLIST_TERM, &nterms);
	naliases += cmd_check_count_aliases(cf->wl, WATCHLIST_PLACE, &nplaces);
	printf("%s: %zu term%s, %zu place%s, %zu alias%s, %zu rule%s, "
	       "%zu webhook%s, %zu feed%s\n",
	    config_path, nterms, nterms == 1 ? "" : "s", nplaces,
	    nplaces == 1 ? "" : "s", naliases, naliases == 1 ? "" : "es",
	    cf->nrules, cf->nrules == 1 ? "" : "s", cf->nwebhooks,
	    cf->nwebhooks == 1 ? "" : "s", cf->nfeeds,
	    cf->nfeeds == 1 ? "" : "s");
	printf("configuration OK\n");
	config_free(cf);
	return 0;
}
