/*
 * sd_notify(3) without libsystemd: datagrams to $NOTIFY_SOCKET ("READY=1",
 * "RELOADING=1", "STOPPING=1", "STATUS=...", "WATCHDOG=1").  Without the
 * variable every call does nothing, so the daemon runs the same outside
 * systemd.
 */
#ifndef WATCHLISTD_NOTIFY_H
#define WATCHLISTD_NOTIFY_H

#include <stdint.h>

/* Read $NOTIFY_SOCKET and $WATCHDOG_USEC (checking $WATCHDOG_PID). */
void notify_init(void);
void notify_close(void);

/* Send one message, e.g. notify_send("READY=1\nSTATUS=%s", ...). */
void notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* RELOADING=1 with MONOTONIC_USEC=now, as Type=notify-reload wants. */
void notify_reloading(void);

/* The watchdog interval in microseconds, 0 when no watchdog is asked for. */
uint64_t notify_watchdog_usec(void);

#endif
