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
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60
PREFIX ?=
GO123 := /usr/lib/go-1.23/bin/go

# Sanitizer runtime settings: stop at the first report, show full stacks.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
           TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

.PHONY: all deps build demo check test check-sanitize check-asan check-tsan fuzz bench install clean

all: build

deps:
	@if bash scripts/install-deps.sh --check >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then bash scripts/install-deps.sh; \
	else \
	  bash scripts/install-deps.sh --check || true; \
	  echo "make: dependencies are missing; install them with:  sudo bash scripts/install-deps.sh" >&2; \
	  exit 1; \
	fi

# configure DIR FLAGS, then build DIR
define cmake_build
	cmake -S . -B $(1) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(2) $(CMAKE_FLAGS) > $(1).configure.log \
	  || { cat $(1).configure.log; exit 1; }
	cmake --build $(1) -j $(JOBS)
endef

# ctest in DIR, its output also kept in DIR/ctest.log (read by .ci/run)
define ctest_run
	cd $(1) && $(2) ctest --output-on-failure -j $(JOBS) 2>&1 | tee ctest.log
endef

build: deps
	@mkdir -p $(BUILD)
	$(call cmake_build,$(BUILD),)

demo: build
	bash scripts/demo.sh $(BUILD)

test: build
	$(call ctest_run,$(BUILD),)

check: test check-sanitize

check-sanitize: check-asan check-tsan

check-asan: deps
	@echo "=== ASan+UBSan build (build-asan/) ==="
	@mkdir -p build-asan
	$(call cmake_build,build-asan,-DCTRACE_SANITIZE=address -DCTRACE_BENCH=OFF)
	$(call ctest_run,build-asan,env $(SAN_ENV))

check-tsan: deps
	@echo "=== TSan build (build-tsan/) ==="
	@mkdir -p build-tsan
	$(call cmake_build,build-tsan,-DCTRACE_SANITIZE=thread -DCTRACE_BENCH=OFF)
	$(call ctest_run,build-tsan,env $(SAN_ENV))

fuzz: deps
	@if [ -f fuzz/run.sh ]; then bash fuzz/run.sh $(FUZZ_SECONDS); \
	else echo "make fuzz: no fuzz/run.sh yet, nothing to fuzz"; fi

bench: build
	@if [ -f bench/run.sh ]; then bash bench/run.sh $(BUILD); \
	else \
	  found=0; \
	  for b in $(BUILD)/bench/bench_*; do \
	    [ -x "$$b" ] || continue; found=1; echo "=== $$b"; "$$b"; \
	  done; \
	  [ $$found = 1 ] || echo "make bench: no benchmarks built yet"; \
	fi

install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD) build-asan build-tsan $(BUILD).configure.log build-asan.configure.log \
	  build-tsan.configure.log demo.trace
