/*
 * watchlistd run: the daemon's top-level context and its event loop.
 */
#ifndef WATCHLISTD_DAEMON_H
#define WATCHLISTD_DAEMON_H

/* Run in the foreground until SIGTERM or SIGINT; returns the exit status. */
int daemon_run(const char *config_path);

#endif
