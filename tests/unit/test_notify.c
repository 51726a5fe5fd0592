/*
 * Unit tests for notify.c: the datagrams that reach a socket bound where
 * $NOTIFY_SOCKET points (a path and an abstract name), the watchdog interval
 * with and without $WATCHDOG_PID, and doing nothing without the variable.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify.h"

/* The receiving end, as systemd would bind it. */
struct peer {
	int fd;
	char dir[64];
	char name[108]; /* the value given to NOTIFY_SOCKET */
};

static struct peer peer;

/* Bind a datagram socket at a path in a new temporary directory. */
static void
peer_bind_path(void)
{
	struct sockaddr_un sa;

	snprintf(peer.dir, sizeof peer.dir, "/tmp/test_notify.XXXXXX");
	assert_non_null(mkdtemp(peer.dir));
	snprintf(peer.name, sizeof peer.name, "%s/notify", peer.dir);

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", peer.name);
	peer.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_not_equal(peer.fd, -1);
	assert_int_equal(bind(peer.fd, (struct sockaddr *)&sa, sizeof sa), 0);
}

/* Bind a datagram socket at a unique abstract name, "@..." in the env. */
static void
peer_bind_abstract(void)
{
	struct sockaddr_un sa;
	socklen_t len;

	peer.dir[0] = '\0';
	snprintf(peer.name, sizeof peer.name, "@watchlistd/test/%ld/%ld",
	    (long)getpid(), (long)time(NULL));

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path + 1, peer.name + 1, strlen(peer.name) - 1);
	len = offsetof(struct sockaddr_un, sun_path) + strlen(peer.name);
	peer.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_not_equal(peer.fd, -1);
	assert_int_equal(bind(peer.fd, (struct sockaddr *)&sa, len), 0);
}

/* Read one datagram without waiting; NULL when none is queued. */
static const char *
peer_recv(void)
{
	static char msg[4096];
	ssize_t n;

	n = recv(peer.fd, msg, sizeof msg - 1, MSG_DONTWAIT);
	if (n == -1) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		return NULL;
	}
	msg[n] = '\0';
	return msg;
}

static int
setup(void **state)
{
	memset(&peer, 0, sizeof peer);
	peer.fd = -1;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return 0;
}

static int
teardown(void **state)
{
	char path[128];

	notify_close();
	if (peer.fd != -1)
		close(peer.fd);
	if (peer.dir[0] != '\0') {
		snprintf(path, sizeof path, "%s/notify", peer.dir);
		unlink(path);
		rmdir(peer.dir);
	}
	return 0;
}

/*
 * Run fn with stderr going to a temporary file and return what it wrote, to
 * check what was logged.
 */
static const char *
capture_stderr(void (*fn)(void))
{
	static char out[4096];
	FILE *f;
	size_t n;
	int saved;

	fflush(stderr);
	assert_non_null(f = tmpfile());
	saved = dup(STDERR_FILENO);
	assert_int_not_equal(saved, -1);
	assert_int_not_equal(dup2(fileno(f), STDERR_FILENO), -1);
	fn();
	fflush(stderr);
	assert_int_not_equal(dup2(saved, STDERR_FILENO), -1);
	close(saved);

	rewind(f);
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	fclose(f);
	return out;
}

static int
count(const char *haystack, const char *needle)
{
	int n = 0;

	while ((haystack = strstr(haystack, needle)) != NULL) {
		n++;
		haystack += strlen(needle);
	}
	return n;
}

static void
check_messages(void)
{
	assert_int_equal(setenv("NOTIFY_SOCKET", peer.name, 1), 0);
	notify_init();

	notify_send("READY=1");
	assert_string_equal(peer_recv(), "READY=1");
	notify_send("READY=1\nSTATUS=%s, %d watchlists", "running", 3);
	assert_string_equal(
	    peer_recv(), "READY=1\nSTATUS=running, 3 watchlists");
	notify_send("WATCHDOG=1");
	notify_send("STOPPING=1");
	assert_string_equal(peer_recv(), "WATCHDOG=1");
	assert_string_equal(peer_recv(), "STOPPING=1");
	assert_null(peer_recv());
}

static void
test_path(void **state)
{
	peer_bind_path();
	check_messages();
}

static void
test_abstract(void **state)
{
	peer_bind_abstract();
	check_messages();
}

static uint64_t
monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
test_reloading(void **state)
{
	static const char prefix[] = "RELOADING=1\nMONOTONIC_USEC=";
	uint64_t before, after, usec;
	const char *msg;
	char *end;

	peer_bind_path();
	assert_int_equal(setenv("NOTIFY_SOCKET", peer.name, 1), 0);
	notify_init();

	before = monotonic_usec();
	notify_reloading();
	after = monotonic_usec();

	assert_non_null(msg = peer_recv());
	assert_memory_equal(msg, prefix, sizeof prefix - 1);
	msg += sizeof prefix - 1;
	assert_true(msg[0] >= '1' && msg[0] <= '9');
	usec = strtoull(msg, &end, 10);
	assert_int_equal(*end, '\0');
	assert_true(usec >= before && usec <= after);
	assert_null(peer_recv());
}

static void
test_watchdog(void **state)
{
	char pid[32];

	notify_init();
	assert_int_equal(notify_watchdog_usec(), 0);

	setenv("WATCHDOG_USEC", "30000000", 1);
	notify_init();
	assert_int_equal(notify_watchdog_usec(), 30000000);

	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	notify_init();
	assert_int_equal(notify_watchdog_usec(), 30000000);

	/* Inherited from a parent that systemd watches: not ours. */
	snprintf(pid, sizeof pid, "%ld", (long)getppid());
	setenv("WATCHDOG_PID", pid, 1);
	notify_init();
	assert_int_equal(notify_watchdog_usec(), 0);

	setenv("WATCHDOG_PID", "nonsense", 1);
	notify_init();
	assert_int_equal(notify_watchdog_usec(), 0);

	notify_close();
	assert_int_equal(notify_watchdog_usec(), 0);
}

static void
init_watchdog(void)
{
	notify_init();
}

static void
test_watchdog_invalid(void **state)
{
	static const char *const bad[] = {
	    "", "0", "-5", "30s", "1e6", "99999999999999999999999"};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv("WATCHDOG_USEC", bad[i], 1);
		assert_non_null(
		    strstr(capture_stderr(init_watchdog), "WATCHDOG_USEC"));
		assert_int_equal(notify_watchdog_usec(), 0);
	}
}

static void
send_all(void)
{
	notify_init();
	notify_send("READY=1");
	notify_reloading();
	notify_send("STATUS=%s", "idle");
}

/* Without NOTIFY_SOCKET nothing is sent, even to a socket that listens. */
static void
test_no_socket(void **state)
{
	peer_bind_path();
	notify_send("READY=1"); /* before notify_init() */
	assert_string_equal(capture_stderr(send_all), "");
	assert_null(peer_recv());

	setenv("NOTIFY_SOCKET", "", 1);
	assert_string_equal(capture_stderr(send_all), "");
	assert_null(peer_recv());
}

/* A relative path or a bare '@' is refused with a warning. */
static void
test_bad_address(void **state)
{
	static const char *const bad[] = {"notify", "@", "x@y"};
	char longname[200];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv("NOTIFY_SOCKET", bad[i], 1);
		assert_non_null(
		    strstr(capture_stderr(send_all), "NOTIFY_SOCKET"));
	}
	memset(longname, 'a', sizeof longname - 1);
	longname[0] = '/';
	longname[sizeof longname - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	assert_non_null(strstr(capture_stderr(send_all), "too long"));
}

static void
send_many(void)
{
	int i;

	for (i = 0; i < 1000; i++)
		notify_send("WATCHDOG=1");
}

/*
 * A receiver that does not read fills its queue: sends must fail at once
 * (not block) and warn once; once a send succeeds again, a new failure warns
 * again.
 */
static void
test_full_queue(void **state)
{
	const char *err;

	peer_bind_path();
	assert_int_equal(setenv("NOTIFY_SOCKET", peer.name, 1), 0);
	notify_init();

	alarm(10); /* a blocking send would hang here */
	err = capture_stderr(send_many);
	alarm(0);
	assert_int_equal(count(err, "notify: sendto"), 1);
	assert_non_null(strstr(err, peer.name));

	while (peer_recv() != NULL)
		;
	notify_send("READY=1");
	assert_string_equal(peer_recv(), "READY=1");

	err = capture_stderr(send_many);
	assert_int_equal(count(err, "notify: sendto"), 1);
}

/* Nobody listening at the address: warn once, keep going. */
static void
test_nobody_listening(void **state)
{
	const char *err;

	setenv("NOTIFY_SOCKET", "/nonexistent/watchlistd/notify", 1);
	notify_init();
	err = capture_stderr(send_many);
	assert_int_equal(count(err, "notify: sendto"), 1);
	assert_non_null(strstr(err, "/nonexistent/watchlistd/notify"));
}

/* The socket must not leak into children that exec. */
static void
test_cloexec(void **state)
{
	int fd, found = 0;

	peer_bind_path();
	assert_int_equal(setenv("NOTIFY_SOCKET", peer.name, 1), 0);
	notify_init();
	for (fd = 3; fd < 1024; fd++) {
		int flags = fcntl(fd, F_GETFD);
		int type;
		socklen_t len = sizeof type;

		if (flags == -1 || fd == peer.fd)
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
		    type != SOCK_DGRAM)
			continue;
		assert_true(flags & FD_CLOEXEC);
		found = 1;
	}
	assert_true(found);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abstract, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reloading, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_watchdog, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_watchdog_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_address, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_queue, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_nobody_listening, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cloexec, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
