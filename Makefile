# ctrace - the two commands of the README, and a few more.
#
#   make demo            install deps if missing, build, trace an example to demo.trace
#   make check           build and run the test suite: plain, ASan+UBSan, TSan
#   make test            the plain test pass only (quicker)
#   make check-sanitize  the ASan+UBSan and TSan passes only
#   make fuzz            bounded fuzzing (FUZZ_SECONDS, default 60)
#   make bench           build and run the benchmarks
#   make install         cmake --install (PREFIX=/usr/local by default)
#   make clean           remove the build trees
#
# Build trees: build/ (RelWithDebInfo), build-asan/, build-tsan/.
# Everything is idempotent: run any target again and it only redoes what changed.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec

BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60
PREFIX ?=
GO123 := /usr/lib/go-1.23/bin/go

# Sanitizer runtime settings: stop at the first report, show full stacks.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
           TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

.PHONY: all deps deps-test build demo check test check-sanitize check-asan check-tsan check-stress fuzz bench install clean

all: build

# Build dependencies (compilers, libraries, Go 1.22/1.23 to check traces).
deps:
	@$(call install_deps,scripts/install-deps.sh)

# Test dependencies: also the programs the `ctrace run` tests drive.
deps-test: deps
	@if [ -f scripts/install-deps-run.sh ]; then $(call install_deps,scripts/install-deps-run.sh); fi

# install_deps SCRIPT: runs SCRIPT if something is missing and we are root,
# else names the command that installs it.
define install_deps
	if bash $(1) --check >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then bash $(1); \
	else \
	  bash $(1) --check || true; \
	  echo "make: dependencies are missing; install them with:  sudo bash $(1)" >&2; \
	  exit 1; \
	fi
endef

# configure DIR FLAGS, then build DIR (the configure output is kept in
# DIR/configure.log, so that nothing is written at the repository's root)
define cmake_build
	@mkdir -p $(1)
	cmake -S . -B $(1) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(2) $(CMAKE_FLAGS) > $(1)/configure.log \
	  || { cat $(1)/configure.log; exit 1; }
	cmake --build $(1) -j $(JOBS)
endef

# ctest in DIR, its output also kept in DIR/ctest.log (read by .ci/run)
define ctest_run
	cd $(1) && $(2) ctest --output-on-failure -j $(JOBS) $(3) 2>&1 | tee ctest.log
endef

# The TSan pass runs everything but two groups, for reasons of TSan itself:
#  - interpose.*: the interposers are not built under TSan, which interposes
#    the same functions (its REAL() would resolve to ours and recurse);
#  - integration.fork: the child starts threads after fork() of a
#    multithreaded parent, which TSan does not support ("dup thread with used
#    id").  The fork path runs in the plain and ASan passes.
TSAN_CTEST_ARGS ?= -E '^(integration\.fork|interpose)'

# Every test runs under ASan+UBSan.  (integration.stress used to hit its
# watchdog there: the reader thread of a runtime-level trace wrote a traced
# block/unblock while holding the output queue's lock, and the advancer's
# status claim for that thread waited for the same lock; reading is
# tracer-internal now.)  `make check-stress` runs the stress test alone.
KNOWN_BUG_ARGS ?=
ASAN_CTEST_ARGS ?=

build: deps
	@mkdir -p $(BUILD)
	$(call cmake_build,$(BUILD),)

demo: build
	bash scripts/demo.sh $(BUILD)

# Every test named AREA.NAME and labelled (tests/README.md), then the tests.
test: deps-test build
	bash scripts/check-test-names.sh $(BUILD)
	$(call ctest_run,$(BUILD),,$(KNOWN_BUG_ARGS))

check: test check-sanitize

check-sanitize: check-asan check-tsan

check-stress: build
	cd $(BUILD) && ctest --output-on-failure -R '^integration\.stress$$'

check-asan: deps-test
	@echo "=== ASan+UBSan build ($(ASAN_BUILD)/) ==="
	@mkdir -p $(ASAN_BUILD)
	$(call cmake_build,$(ASAN_BUILD),-DCTRACE_SANITIZE=address -DCTRACE_BENCH=OFF)
	$(call ctest_run,$(ASAN_BUILD),env $(SAN_ENV),$(ASAN_CTEST_ARGS))

check-tsan: deps-test
	@echo "=== TSan build ($(TSAN_BUILD)/) ==="
	@mkdir -p $(TSAN_BUILD)
	$(call cmake_build,$(TSAN_BUILD),-DCTRACE_SANITIZE=thread -DCTRACE_BENCH=OFF)
	$(call ctest_run,$(TSAN_BUILD),env $(SAN_ENV),$(TSAN_CTEST_ARGS))

fuzz: deps
	@if [ -f fuzz/run.sh ]; then bash fuzz/run.sh $(FUZZ_SECONDS); \
	else echo "make fuzz: no fuzz/run.sh yet, nothing to fuzz"; fi

# Benchmarks: bench/run.sh if the tree has one, else every benchmark found:
# the reader's (bench/reader/run.sh, BENCH_MB of trace), `ctrace run`'s
# (bench/run/*.sh) and the runtime's programs built under BUILD/bench/.
BENCH_MB ?= 200
bench: build
	@if [ -f bench/run.sh ]; then bash bench/run.sh $(BUILD); exit; fi; \
	tool=$(abspath $(BUILD))/src/tools/ctrace; found=0; \
	if [ -f bench/reader/run.sh ]; then found=1; echo "=== bench/reader/run.sh"; \
	  bash bench/reader/run.sh $(BENCH_MB) $$tool; fi; \
	for s in bench/run/*.sh; do [ -f "$$s" ] || continue; found=1; echo "=== $$s"; bash $$s $$tool; done; \
	for b in $$(find $(BUILD)/bench -maxdepth 2 -type f -name 'bench_*' -perm -u+x 2>/dev/null); do \
	  found=1; echo "=== $$b"; "$$b"; done; \
	[ $$found = 1 ] || echo "make bench: no benchmarks yet"

# The prefix is set at configure time too, so that ctrace.pc names it.
install: deps
	@mkdir -p $(BUILD)
	$(call cmake_build,$(BUILD),$(if $(PREFIX),-DCMAKE_INSTALL_PREFIX=$(PREFIX)))
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) demo.trace
