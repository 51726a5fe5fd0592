/*
 * watchlistd: command line and dispatch.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "cmd.h"
#include "daemon.h"
#include "log.h"
#include "options.h"

static void
main_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: watchlistd [-c FILE] [COMMAND [ARGS]]\n"
	    "\n"
	    "commands:\n"
	    "  run                          run the daemon in the foreground "
	    "(the default)\n"
	    "  check                        validate the configuration and "
	    "watchlists\n"
	    "  match [--json|--count] [FILE...|-]\n"
	    "                               dry run: every hit and every rule "
	    "that fires\n"
	    "  parse [--json] FILE...       show the text extracted from "
	    "documents\n"
	    "  version                      print the version\n"
	    "\n"
	    "options:\n"
	    "  -c FILE    configuration file (default %s)\n"
	    "  -h         this help; COMMAND --help for a command's\n",
	    WATCHLISTD_CONFIG);
}

static int
main_version(void)
{
	printf("watchlistd %s (utf8proc %s, Unicode %s)\n", WATCHLISTD_VERSION,
	    utf8proc_version(), utf8proc_unicode_version());
	return 0;
}

int
main(int argc, char **argv)
{
	const char *config_path = WATCHLISTD_CONFIG;
	const char *cmd;
	int ch;

	log_init("watchlistd", LOG_LEVEL_INFO);
	/* '+': stop at the command so that its own options stay its own. */
	while ((ch = getopt(argc, argv, "+c:hV")) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			main_usage(stdout);
			return 0;
		case 'V':
			return main_version();
		default:
			main_usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return daemon_run(config_path);
	cmd = argv[0];
	/* Each command parses its options with getopt from a fresh start. */
	optind = 1;
	if (strcmp(cmd, "run") == 0) {
		if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
		                    strcmp(argv[1], "-h") == 0)) {
			printf("usage: watchlistd [-c FILE] [run]\n"
			       "Run the daemon in the foreground: watch the "
			       "inbox, deliver alerts.\nSIGHUP reloads, "
			       "SIGTERM stops.  See watchlistd(8).\n");
			return 0;
		}
		if (argc > 1) {
			fprintf(stderr, "usage: watchlistd [-c FILE] [run]\n");
			return 2;
		}
		return daemon_run(config_path);
	}
	if (strcmp(cmd, "check") == 0)
		return cmd_check(config_path, argc, argv);
	if (strcmp(cmd, "match") == 0)
		return cmd_match(config_path, argc, argv);
	if (strcmp(cmd, "parse") == 0)
		return cmd_parse(argc, argv);
	if (strcmp(cmd, "version") == 0)
		return main_version();
	if (strcmp(cmd, "help") == 0) {
		main_usage(stdout);
		return 0;
	}
	fprintf(stderr, "watchlistd: unknown command '%s'\n", cmd);
	main_usage(stderr);
	return 2;
}
