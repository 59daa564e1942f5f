# Thin wrapper over Meson for the README commands.
#   make demo    install what is needed, build, sync a throwaway Dovecot into a Maildir
#   make check   install what is needed, build (plain, ASan+UBSan, TSan) and run every test,
#                and the unit tests and part of the integration tests under Valgrind
# The program is left at build/offlineimap.

PACKAGES = gcc make time meson ninja-build pkg-config libssl-dev openssl libsqlite3-dev \
           sqlite3 zlib1g-dev libpcre2-dev libncurses-dev python3 python3-dev \
           python3-pytest libsasl2-dev libsasl2-modules libcurl4-openssl-dev libjansson-dev \
           dovecot-imapd isync offlineimap3 clang libclang-rt-14-dev valgrind tmux procps \
           dovecot-gssapi libsasl2-modules-gssapi-mit krb5-kdc krb5-admin-server krb5-user \
           gnome-keyring libsecret-tools dbus-daemon netbase python3-pytest-xdist

MESON_OPTS ?=
BUILD ?= build
PYTEST ?= /usr/bin/python3 -m pytest
JOBS ?= $(shell nproc)
# pytest-xdist workers for the integration suites (make integ, asan, tsan). Most tests wait on Dovecot, timeouts
# and subprocesses rather than the CPU, so 3 workers on 2 cores roughly halve the wall
# time; every test has its own Dovecot, directories and ports (harness/dovecot.py gives
# each worker its own port range). INTEG_WORKERS=0 runs them in one process.
INTEG_WORKERS ?= 3
# Evaluated when a recipe runs (after deps): without python3-pytest-xdist, one process.
XDIST = $(shell [ "$(INTEG_WORKERS)" != 0 ] && /usr/bin/python3 -c 'import xdist' 2>/dev/null \
          && echo "-n $(INTEG_WORKERS)")

.PHONY: all deps build demo check unit integ asan tsan valgrind valgrind-full install fuzz \
        fuzz-build bench clean format crash-soak fault-soak daemon-soak

all: build

# Installs only what is missing, so a second run costs a dpkg query.
deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: deps build
	/usr/bin/python3 scripts/demo.py --binary $(BUILD)/offlineimap

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

integ: build
	OIMAP_BINARY=$(CURDIR)/$(BUILD)/offlineimap $(PYTEST) -q $(XDIST) tests/integ

# The unit suite and the integration suite, less the tests marked `heavy` (pytest.ini):
# CPU-heavy duplicates of paths other tests cover under ASan, run by make integ only
# (today two of test_crash's five every-point scenarios; see ASAN_DUPLICATES there).
asan:
	@[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C build-asan
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	  meson test -C build-asan --suite unit --print-errorlogs
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/src/config/config_py.lsan.supp \
	  OIMAP_BINARY=$(CURDIR)/build-asan/offlineimap OIMAP_SANITIZER=asan $(PYTEST) -q $(XDIST) -m 'not heavy' tests/integ

# The unit suite (without config_ini_vs_python: single-threaded, see src/config/meson.build)
# and the integration tests marked `threads`.
tsan:
	@[ -f build-tsan/build.ninja ] || meson setup build-tsan -Db_sanitize=thread -Db_lundef=false
	ninja -C build-tsan
	TSAN_OPTIONS=halt_on_error=1 meson test -C build-tsan --suite unit --print-errorlogs
	TSAN_OPTIONS=halt_on_error=1 OIMAP_BINARY=$(CURDIR)/build-tsan/offlineimap \
	  OIMAP_SANITIZER=tsan $(PYTEST) -q $(XDIST) tests/integ -m threads

# Valgrind's memcheck on the plain build: the unit suite less the tests whose program is a
# Python driver (suite python-driver), then the integration tests of VALGRIND_INTEG with the
# program run through tests/valgrind/offlineimap; tests marked novalgrind skip themselves.
# By default the files that cover the sync engine, TLS, the login mechanisms and the
# embedded Python (about 2 minutes); make valgrind-full runs every integration test
# (about 20 minutes on 2 cores; reported in notes).
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
           --errors-for-leak-kinds=definite --num-callers=40 \
           --suppressions=$(CURDIR)/tests/valgrind/memcheck.supp
VALGRIND_INTEG ?= tests/integ/test_sync_basic.py tests/integ/test_narrow_sync.py \
                  tests/integ/test_sync_tls.py tests/integ/test_auth_mechanisms.py \
                  tests/integ/test_python_options.py
valgrind: build
	meson test -C $(BUILD) --suite unit --no-suite python-driver --print-errorlogs \
	  --wrapper '$(VALGRIND)' --timeout-multiplier 4
	OIMAP_BINARY=$(CURDIR)/tests/valgrind/offlineimap \
	  OIMAP_VALGRIND_BINARY=$(CURDIR)/$(BUILD)/offlineimap OIMAP_SANITIZER=valgrind \
	  OIMAP_TIMEOUT_SCALE=10 $(PYTEST) -q $(XDIST) $(VALGRIND_INTEG)

valgrind-full:
	$(MAKE) valgrind VALGRIND_INTEG=tests/integ

check: deps build unit integ asan tsan valgrind
	@echo "All tests passed."

# Long suites, run by hand and reported in notes: every crash point and many
# random kills; every fault offset.
crash-soak: build
	OIMAP_CRASH_ALL=1 OIMAP_BINARY=$(CURDIR)/$(BUILD)/offlineimap $(PYTEST) -q -s tests/integ/test_crash.py

fault-soak: build
	OIMAP_BINARY=$(CURDIR)/$(BUILD)/offlineimap $(PYTEST) -q -s -m slow tests/integ/test_faults.py

# Daemon mode for DAEMON_SOAK_SECONDS (default 20 minutes; 3600 for the issue's hour)
# with changes on both sides and connections cut at random; prints RSS and counts.
DAEMON_SOAK_SECONDS ?= 1200
daemon-soak: build
	OIMAP_DAEMON_SOAK_SECONDS=$(DAEMON_SOAK_SECONDS) OIMAP_BINARY=$(CURDIR)/$(BUILD)/offlineimap \
	  $(PYTEST) -q -s tests/integ/test_daemon_soak.py

install: build
	meson install -C $(BUILD)

fuzz-build:
	@[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true \
	  -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C build-fuzz

# FUZZ_SECONDS per target (default 60).
fuzz: deps fuzz-build
	/usr/bin/python3 scripts/fuzz.py --build build-fuzz --seconds $${FUZZ_SECONDS:-60}

bench: deps build
	/usr/bin/python3 bench/bench.py --binary $(BUILD)/offlineimap $(BENCH_ARGS)

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'fuzz/*.c')

clean:
	rm -rf build build-asan build-tsan build-fuzz
