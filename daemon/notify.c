/*
 * sd_notify(3) without libsystemd.  See notify.h.
 *
 * Each message is one datagram sent with sendto() to the address in
 * $NOTIFY_SOCKET: no connect(), so a socket that systemd re-creates (after
 * daemon-reexec) is found again by the next message.  Sends never block and
 * never fail the daemon; a failure is logged once, and again only after a
 * send has succeeded in between, so a dead socket does not flood the log on
 * every watchdog ping.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "xmalloc.h"

/*
 * The one piece of global state: like sd_notify()'s own, the notify socket
 * belongs to the process, not to any object in it.
 */
struct notify_state {
	int fd;
	struct sockaddr_un addr;
	socklen_t addrlen;
	char name[sizeof(struct sockaddr_un)]; /* for messages */
	uint64_t watchdog_usec;
	int warned;
};

static struct notify_state notify = {.fd = -1};

/*
 * Fill notify.addr from "/path" or "@abstract" (the '@' stands for the
 * leading NUL of a Linux abstract socket name).
 */
static int
notify_parse_address(const char *value)
{
	struct sockaddr_un *sa = &notify.addr;
	size_t len = strlen(value);

	if ((value[0] != '/' && value[0] != '@') || len < 2) {
		log_warnx("notify: NOTIFY_SOCKET '%s': not an absolute path or "
		          "@name",
		    value);
		return -1;
	}
	if (len >= sizeof sa->sun_path) {
		log_warnx("notify: NOTIFY_SOCKET '%s': too long", value);
		return -1;
	}
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, value, len);
	if (value[0] == '@') {
		/* Abstract names are not NUL-terminated: len covers it all. */
		sa->sun_path[0] = '\0';
		notify.addrlen = offsetof(struct sockaddr_un, sun_path) + len;
	} else
		notify.addrlen =
		    offsetof(struct sockaddr_un, sun_path) + len + 1;
	memcpy(notify.name, value, len + 1);
	return 0;
}

/*
 * $WATCHDOG_USEC is meant for the process in $WATCHDOG_PID only: a child
 * that inherited the environment must not think it is watched.
 */
static uint64_t
notify_parse_watchdog(void)
{
	const char *value, *pid;
	unsigned long long usec, n;
	char *end;

	if ((value = getenv("WATCHDOG_USEC")) == NULL)
		return 0;
	if ((pid = getenv("WATCHDOG_PID")) != NULL) {
		errno = 0;
		n = strtoull(pid, &end, 10);
		if (errno != 0 || end == pid || *end != '\0' ||
		    n != (unsigned long long)getpid())
			return 0;
	}
	errno = 0;
	usec = strtoull(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || value[0] == '-' ||
	    usec == 0) {
		log_warnx(
		    "notify: WATCHDOG_USEC '%s': not a positive number", value);
		return 0;
	}
	return usec;
}

void
notify_init(void)
{
	const char *value;

	notify_close();
	notify.watchdog_usec = notify_parse_watchdog();

	if ((value = getenv("NOTIFY_SOCKET")) == NULL || *value == '\0')
		return;
	if (notify_parse_address(value) != 0)
		return;
	notify.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify.fd == -1)
		log_warn("notify: socket");
}

void
notify_close(void)
{
	if (notify.fd != -1)
		close(notify.fd);
	memset(&notify, 0, sizeof notify);
	notify.fd = -1;
}

static void
notify_write(const char *msg, size_t len)
{
	ssize_t n;

	n = sendto(notify.fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (const struct sockaddr *)&notify.addr, notify.addrlen);
	if (n == -1) {
		if (!notify.warned)
			log_warn("notify: sendto %s", notify.name);
		notify.warned = 1;
		return;
	}
	notify.warned = 0;
}

void
notify_send(const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int len;

	if (notify.fd == -1)
		return;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0) {
		log_warn("notify: message '%s'", fmt);
		return;
	}
	msg = xmalloc((size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)len + 1, fmt, ap);
	va_end(ap);

	notify_write(msg, (size_t)len);
	free(msg);
}

void
notify_reloading(void)
{
	struct timespec ts;
	uint64_t usec;

	if (notify.fd == -1)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	usec = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	notify_send("RELOADING=1\nMONOTONIC_USEC=%" PRIu64, usec);
}

uint64_t
notify_watchdog_usec(void)
{
	return notify.watchdog_usec;
}
