/*
 * The commands other than running the daemon.  Each returns the process
 * exit status; argv[0] is the command's name ("parse", "check", ...).
 */
#ifndef WATCHLISTD_CMD_H
#define WATCHLISTD_CMD_H

/* watchlistd parse [--json] FILE...|- : 0, or 2 if a file failed. */
int cmd_parse(int argc, char **argv);
int cmd_check(const char *config_path, int argc, char **argv);
int cmd_match(const char *config_path, int argc, char **argv);

#endif
