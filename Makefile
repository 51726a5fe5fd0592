# watchlistd — keyword alert daemon.
#
# make               build build/watchlistd
# make test          every test, then again under ASan + UBSan (build/san/)
# make run           run the daemon in the foreground on etc/, inbox var/inbox
# make demo          run `watchlistd match` with etc/ over the sample articles
# make bench         the benchmark (docs/PERFORMANCE.md); bench-quick: < 1 min
# make install       binary, man pages, example configuration, systemd files
# make V=1           show the full commands
#
# CC, CFLAGS (appended to ours), LDFLAGS, PKG_CONFIG, PREFIX and DESTDIR are
# honoured.  `make test` and `make demo` install missing build dependencies
# with apt-get when run as root, or print the command to run.

VERSION		= 0.1.0

PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
SYSCONFDIR	?= /etc
STATEDIR	?= /var/lib/watchlistd
PKG_CONFIG	?= pkg-config

# Build flavours live in their own directories so that `make test` can build
# the sanitised copy beside the normal one.
ifeq ($(SANITIZE),1)
BUILD		?= build/san
SANFLAGS	= -fsanitize=address,undefined -fno-omit-frame-pointer \
		  -fno-sanitize-recover=all
else
BUILD		?= build
SANFLAGS	=
endif

# Libraries the program links.  libevent, libcurl and expat are here from the
# start so that one dependency check covers the whole daemon.
PKGS		= libutf8proc inih expat libevent libcurl libcrypto libcjson
TEST_PKGS	= cmocka zlib

WARNINGS	= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		  -Wformat=2 -Wwrite-strings -Wcast-qual -Wpointer-arith \
		  -Wno-unused-parameter

PKG_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	:= $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS	:= $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)

# Keep the caller's flags so that recursive runs (test, SANITIZE=1) append
# them once, not twice.
USER_CFLAGS	:= $(CFLAGS)
USER_LDFLAGS	:= $(LDFLAGS)
SUBMAKE		= $(MAKE) --no-print-directory CFLAGS="$(USER_CFLAGS)" \
		  LDFLAGS="$(USER_LDFLAGS)"

override CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARNINGS) $(SANFLAGS) \
		  -Iinclude -DWATCHLISTD_VERSION='"$(VERSION)"' \
		  -DWATCHLISTD_CONFIG='"$(SYSCONFDIR)/watchlistd/watchlistd.ini"' \
		  $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
override LDFLAGS := $(SANFLAGS) -Wl,--as-needed $(LDFLAGS)
LIBS		= $(PKG_LIBS) -lpthread -lm

# The daemon's sources, one concern each.  main.c is kept apart so that the
# unit tests link everything else.
SRCS		= \
	daemon/alert.c \
	daemon/buf.c \
	daemon/cmd_check.c \
	daemon/cmd_match.c \
	daemon/cmd_parse.c \
	daemon/config.c \
	daemon/daemon.c \
	daemon/dedup.c \
	daemon/doc.c \
	daemon/eml.c \
	daemon/feed.c \
	daemon/fileio.c \
	daemon/entities.c \
	daemon/html.c \
	daemon/http.c \
	daemon/inbox.c \
	daemon/json.c \
	daemon/log.c \
	daemon/match.c \
	daemon/notify.c \
	daemon/pipeline.c \
	daemon/poller.c \
	daemon/rule.c \
	daemon/seen.c \
	daemon/spool.c \
	daemon/text.c \
	daemon/url.c \
	daemon/watchlist.c \
	daemon/webhook.c \
	daemon/xmalloc.c

MAIN		= daemon/main.c

UNIT_TESTS	= \
	tests/unit/test_alert \
	tests/unit/test_config \
	tests/unit/test_dedup \
	tests/unit/test_doc \
	tests/unit/test_eml \
	tests/unit/test_feed \
	tests/unit/test_html \
	tests/unit/test_http \
	tests/unit/test_json \
	tests/unit/test_log \
	tests/unit/test_match \
	tests/unit/test_notify \
	tests/unit/test_poller \
	tests/unit/test_rule \
	tests/unit/test_seen \
	tests/unit/test_spool \
	tests/unit/test_text \
	tests/unit/test_url \
	tests/unit/test_watchlist \
	tests/unit/test_webhook

# Test-only helpers linked into unit tests that need them.
TEST_HELPERS	= tests/unit/oracle.c tests/unit/test_server.c

OBJS		= $(SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ	= $(MAIN:%.c=$(BUILD)/%.o)
HELPER_OBJS	= $(TEST_HELPERS:%.c=$(BUILD)/%.o)
UNIT_BINS	= $(UNIT_TESTS:%=$(BUILD)/%)
PROG		= $(BUILD)/watchlistd

# Objects depend on a stamp holding the compile command, rewritten only when
# the command changes: `make SYSCONFDIR=...` or new CFLAGS rebuild everything.
FLAGS_STAMP	= $(BUILD)/flags
FLAGS_NOW	= $(CC) $(CFLAGS) $(TEST_CFLAGS) $(LDFLAGS)
ifneq ($(strip $(FLAGS_NOW)),$(strip $(file <$(FLAGS_STAMP))))
$(shell mkdir -p $(BUILD))
$(file >$(FLAGS_STAMP),$(FLAGS_NOW))
endif

ifeq ($(V),1)
Q		=
else
Q		= @
endif

.PHONY: all clean deps check-deps test test-suite test-unit test-conf \
	test-match test-cli demo run install uninstall fuzz fuzz-smoke fuzz-deps \
	fuzz-bins bench bench-quick bench-bins

all: check-deps $(PROG)

$(PROG): $(OBJS) $(MAIN_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%.o: tests/unit/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/test_%: $(BUILD)/tests/unit/test_%.o $(OBJS) $(HELPER_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(TEST_LIBS)

# Build dependencies: `deps` installs what is missing (as root) or says what
# to run; `check-deps` only refuses to build without them.
deps:
	@tools/deps install

check-deps:
	@tools/deps check

test: deps
	@$(SUBMAKE) test-suite
	@echo "== again under AddressSanitizer + UndefinedBehaviorSanitizer"
	@$(SUBMAKE) SANITIZE=1 test-suite

test-suite: $(PROG) $(UNIT_BINS)
	@UNIT_TESTS="$(UNIT_TESTS)" tools/run-tests $(BUILD)

test-unit: check-deps $(UNIT_BINS)
	@UNIT_TESTS="$(UNIT_TESTS)" tools/run-tests $(BUILD) unit

test-conf: check-deps $(PROG)
	@tools/run-tests $(BUILD) conf

test-match: check-deps $(PROG)
	@tools/run-tests $(BUILD) match

test-cli: check-deps $(PROG)
	@tools/run-tests $(BUILD) cli

demo: deps
	@$(SUBMAKE) $(PROG)
	@tools/demo $(PROG)

# The daemon in the foreground on etc/, with var/ as inbox and state.
run: deps
	@$(SUBMAKE) $(PROG)
	@mkdir -p var/inbox
	@echo "watchlistd: inbox var/inbox; drop a file in, e.g. in another terminal:"
	@echo "    cp tests/data/news/000_*.txt var/inbox/"
	@echo "alerts are written below (no webhook configured); Ctrl-C stops."
	$(PROG) -c etc/watchlistd.ini run

# systemd looks for units, sysusers.d and tmpfiles.d only in its own
# directories, whatever PREFIX is; Debian 12 keeps units in /lib.
SYSTEMDUNITDIR	?= /lib/systemd/system
SYSUSERSDIR	?= /usr/lib/sysusers.d
TMPFILESDIR	?= /usr/lib/tmpfiles.d

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSCONFDIR)/watchlistd/watchlists.d \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR)
	install -m 755 $(PROG) $(DESTDIR)$(BINDIR)/watchlistd
	install -m 644 docs/watchlistd.8 $(DESTDIR)$(MANDIR)/man8/watchlistd.8
	install -m 644 docs/watchlistd.ini.5 \
		$(DESTDIR)$(MANDIR)/man5/watchlistd.ini.5
	@for f in etc/watchlistd.ini etc/watchlists.d/*.ini; do \
		t=$(DESTDIR)$(SYSCONFDIR)/watchlistd/$${f#etc/}; \
		if [ -e "$$t" ]; then echo "  keep    $$t (exists)"; \
		else sed -e 's|^inbox *=.*|inbox      = $(STATEDIR)/inbox|' \
			-e 's|^state_dir *=.*|state_dir  = $(STATEDIR)|' \
			"$$f" > "$$t" && chmod 644 "$$t"; fi; \
	done
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		systemd/watchlistd.service.in \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/watchlistd.service
	chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/watchlistd.service
	install -m 644 systemd/watchlistd.sysusers \
		$(DESTDIR)$(SYSUSERSDIR)/watchlistd.conf
	install -m 644 systemd/watchlistd.tmpfiles \
		$(DESTDIR)$(TMPFILESDIR)/watchlistd.conf
	@echo "  then    systemd-sysusers; systemd-tmpfiles --create;" \
		"systemctl daemon-reload"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/watchlistd \
		$(DESTDIR)$(MANDIR)/man8/watchlistd.8 \
		$(DESTDIR)$(MANDIR)/man5/watchlistd.ini.5 \
		$(DESTDIR)$(SYSTEMDUNITDIR)/watchlistd.service \
		$(DESTDIR)$(SYSUSERSDIR)/watchlistd.conf \
		$(DESTDIR)$(TMPFILESDIR)/watchlistd.conf

clean:
	rm -rf build

-include $(OBJS:.o=.d) $(MAIN_OBJ:.o=.d) $(HELPER_OBJS:.o=.d) \
	$(UNIT_TESTS:%=$(BUILD)/%.d)

# Benchmarks (tests/bench/, docs/PERFORMANCE.md): watchlistd side by side
# with grep, ripgrep and Hyperscan on a generated corpus (build/bench/).
# The harnesses are built from the normal objects (-O2, no sanitizers);
# hs_count only when Hyperscan is installed (libhs), else the benchmark
# skips it.  `tools/deps install bench` installs the word list, the
# gazetteer and the peers first (as root; otherwise it says what to run).
#
# make bench           100 MiB corpus, median of 3 runs; writes
#                      docs/PERFORMANCE.md
# make bench-quick     10 MiB corpus, the peers measured once and reused:
#                      under a minute, for use while developing
# BENCH_FLAGS=--no-daemon  leaves out tests/bench/daemon (the daemon end to
#                      end); --fresh (quick) measures the peers again
BENCH_DIR	= $(BUILD)/bench
HS_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags libhs 2>/dev/null)
HS_LIBS		:= $(shell $(PKG_CONFIG) --libs libhs 2>/dev/null)
HAVE_HS		:= $(shell $(PKG_CONFIG) --exists libhs 2>/dev/null && echo 1)
BENCH_BINS	= $(BENCH_DIR)/wl_scan $(BENCH_DIR)/naive_scan \
		  $(if $(HAVE_HS),$(BENCH_DIR)/hs_count)

$(BENCH_DIR)/wl_scan.o: tests/bench/wl_scan.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BENCH_DIR)/wl_scan: $(BENCH_DIR)/wl_scan.o $(OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BENCH_DIR)/naive_scan: tests/bench/naive_scan.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BENCH_DIR)/hs_count.o: tests/bench/hs_count.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) $(HS_CFLAGS) -c -o $@ $<

$(BENCH_DIR)/hs_count: $(BENCH_DIR)/hs_count.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(HS_LIBS)

bench-bins: check-deps $(PROG) $(BENCH_BINS)
	@:

bench:
	@tools/deps install bench
	@$(SUBMAKE) bench-bins
	@tests/bench/run $(BUILD) $(BENCH_FLAGS)

bench-quick:
	@tools/deps install bench
	@$(SUBMAKE) bench-bins
	@tests/bench/run $(BUILD) --quick $(BENCH_FLAGS)

-include $(BENCH_DIR)/wl_scan.d $(BENCH_DIR)/hs_count.d

# Fuzzing (tests/fuzz/README.md): libFuzzer harnesses built with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer into build/fuzz/, linking
# the daemon's objects compiled with the same sanitizers.
#
# make fuzz             each harness for FUZZ_SECONDS (default 60) on a
#                       corpus copy in build/fuzz/corpus/<harness>; crashes
#                       are left in build/fuzz/crashes/<harness>/
# make fuzz-smoke       each harness for 5 s; fails on any crash
# make fuzz FUZZ_TARGETS="fuzz_feed fuzz_eml"   only those
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_DIR	= build/fuzz
FUZZ_TARGETS	?= fuzz_config fuzz_rule fuzz_match fuzz_html fuzz_feed \
		  fuzz_eml fuzz_date
FUZZ_SAN	= -fsanitize=address,undefined -fno-sanitize-recover=all \
		  -fno-omit-frame-pointer
FUZZ_CFLAGS	= -std=c11 -D_GNU_SOURCE -O1 -g $(FUZZ_SAN) \
		  -fsanitize=fuzzer-no-link -Iinclude -Itests/unit \
		  -DWATCHLISTD_VERSION='"$(VERSION)"' \
		  -DWATCHLISTD_CONFIG='"$(SYSCONFDIR)/watchlistd/watchlistd.ini"' \
		  $(PKG_CFLAGS) -MMD -MP
FUZZ_OBJS	= $(SRCS:%.c=$(FUZZ_DIR)/%.o) $(FUZZ_DIR)/tests/unit/oracle.o
FUZZ_BINS	= $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)

# Keep the objects: they are built through pattern rules only.
.SECONDARY: $(FUZZ_OBJS) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/tests/fuzz/%.o)

$(FUZZ_DIR)/daemon/%.o: daemon/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/tests/fuzz/fuzz_%.o $(FUZZ_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LIBS)

# clang and its fuzzer runtime are checked (installed as root) only here;
# the objects are built after the check so that a missing clang says so.
fuzz-deps:
	@tools/deps install fuzz
	@$(SUBMAKE) fuzz-bins

fuzz-bins: $(FUZZ_BINS)
	@:

fuzz: fuzz-deps
	@tests/fuzz/run $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-deps
	@tests/fuzz/run $(FUZZ_DIR) 5 $(FUZZ_TARGETS)

-include $(FUZZ_OBJS:.o=.d) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/tests/fuzz/%.d)
