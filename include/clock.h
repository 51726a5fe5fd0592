/*
 * Clocks in milliseconds: wall time for what users and files see (alert
 * times, retry_for), monotonic time for intervals inside the process.
 */
#ifndef WATCHLISTD_CLOCK_H
#define WATCHLISTD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Unix time in milliseconds. */
static inline int64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds since an arbitrary start; never jumps. */
static inline int64_t
clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
