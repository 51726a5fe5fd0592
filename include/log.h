/*
 * Logging in the OpenBSD daemons' manner: log_warn() appends strerror(errno),
 * log_warnx() does not; fatal() and fatalx() log and exit(1).
 *
 * Messages go to stderr.  Under systemd (JOURNAL_STREAM set) each line
 * starts with a "<N>" priority so that journald keeps the level.  Callers
 * escape untrusted text (text_escape) before it reaches a message.
 */
#ifndef WATCHLISTD_LOG_H
#define WATCHLISTD_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* Set the program name shown in front of messages and the level shown. */
void log_init(const char *name, enum log_level level);
/*
 * The daemon's format: "<N>" priorities under journald, otherwise a UTC
 * timestamp and the level in front of each line.
 */
void log_daemon(void);
void log_set_level(enum log_level level);
/* Parse "error", "warning", "notice", "info" or "debug"; -1 if unknown. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An error the daemon survives (e.g. a failed reload): level "error". */
void log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
