#!/usr/bin/env bash
# distro_stacks.sh - stacks of distribution binaries built without frame
# pointers, under `ctrace run` with the default stack mode (auto: frame
# pointers where a module keeps them, CFI unwinding where it does not).
#
#  - sqlite3 (Debian's shell and libsqlite3, no frame pointers): the stack
#    of a file system call made while a statement runs goes through the
#    library's exported functions, named from its .dynsym: sqlite3_step and
#    sqlite3VdbeExec, down to the C library's __libc_start_main, so at least
#    6 frames.  A frame-pointer walk stops at the first frame (the caller
#    of the system call keeps no frame record).
#  - pigz: a worker's condition-variable wait is reached through the
#    thread's start routine: start_thread appears, under at least three
#    frames of pigz itself.
#  - pigz again with 10 ms generations: after the first generations the
#    frames without frame pointers are stepped with the CFI rules the
#    advancer cached (cfirules.h), not libunwind: the last wait of the run
#    of a worker still goes down to start_thread, the main thread's to
#    __libc_start_main.
# Every trace passes `ctrace check` and Go 1.22's and 1.23's parsers.
#
# Environment (set by CMake): CTRACE (the tool), CTRACE_SRC, WORK.
# Exits 77 when pigz, sqlite3 or Go is missing (a failure with CI set).
set -uo pipefail
: "${CTRACE:?}" "${CTRACE_SRC:?}" "${WORK:?}"
. "$CTRACE_SRC/tests/go_toolchain.sh"
need_go 22 23
. "$CTRACE_SRC/tests/need_tools.sh"
need_tools pigz sqlite3 timeout
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK" || exit 1

valid() {
    "$CTRACE" check -q "$1" >/dev/null || fail "ctrace check rejects $1"
    bash "$CTRACE_SRC/scripts/gotrace-validate.sh" "$1" >/dev/null || {
        bash "$CTRACE_SRC/scripts/gotrace-validate.sh" "$1" >&2; fail "Go parsers reject $1"; }
}
# frames LINE: the number of frames of a `ctrace dump --stacks` line.
nframes() { grep -o '"@0x' <<<"$1" | wc -l; }

# sqlite3: system calls under sqlite3_step.
timeout 120 "$CTRACE" run -q -o sq.trace -- sqlite3 sq.db \
    "create table t(a, b); begin; insert into t values (1, 2); commit; select count(*) from t;" \
    > sq.out || fail "sqlite3 under ctrace run failed"
[ "$(cat sq.out)" = 1 ] || fail "sqlite3 printed '$(cat sq.out)'"
valid sq.trace
"$CTRACE" dump --stacks sq.trace > sq.dump || fail "ctrace dump sq.trace"
line=$(grep 'Running->Syscall' sq.dump | grep '"sqlite3_step"@' | grep '"sqlite3VdbeExec"@' |
       grep '"__libc_start_main"@' | head -n1)
[ -n "$line" ] || {
    grep 'Running->Syscall' sq.dump | head -n3 >&2
    fail "sqlite3: no system call whose stack holds sqlite3VdbeExec, sqlite3_step and __libc_start_main"; }
n=$(nframes "$line")
[ "$n" -ge 6 ] || fail "sqlite3: $n frames, expected at least 6: $line"
echo "ok: sqlite3: a system call's stack has $n frames through sqlite3VdbeExec and sqlite3_step"

# pigz: condition-variable waits of the workers, from start_thread.
head -c 4000000 /dev/urandom | od -An -tx1 > data
timeout 120 "$CTRACE" run -q -o pigz.trace -- pigz -p 2 -c data > data.gz ||
    fail "pigz under ctrace run failed"
valid pigz.trace
"$CTRACE" dump --stacks pigz.trace > pigz.dump || fail "ctrace dump pigz.trace"
line=$(grep 'Running->Waiting' pigz.dump | grep '"start_thread"@' |
       grep -E '("pigz\+0x[0-9a-f]+"@.*){3}' | head -n1)
[ -n "$line" ] || {
    grep 'Running->Waiting' pigz.dump | head -n3 >&2
    fail "pigz: no wait whose stack holds three pigz frames and start_thread"; }
echo "ok: pigz: a worker's wait has $(nframes "$line") frames down to start_thread"

# pigz with many generations: the cached CFI rules' stacks.
CTRACE_PERIOD=10ms timeout 120 "$CTRACE" run -q -o pigz10.trace -- pigz -p 2 -c data > data.gz ||
    fail "pigz under ctrace run (10 ms generations) failed"
valid pigz10.trace
gens=$("$CTRACE" check pigz10.trace | sed -n 's/.* \([0-9]*\) generations*$/\1/p')
[ "${gens:-0}" -ge 5 ] || fail "pigz10.trace: $gens generations, expected at least 5"
"$CTRACE" dump --stacks pigz10.trace > pigz10.dump || fail "ctrace dump pigz10.trace"
# Goroutine 1 is the main thread; the others are pigz's workers.
last=$(grep 'Running->Waiting' pigz10.dump | grep -v ' G=1 ' | tail -n1)
grep -qE '"pigz\+0x[0-9a-f]+"@.*"start_thread"@' <<<"$last" ||
    fail "pigz10: the last worker wait lacks pigz frames down to start_thread: $last"
last=$(grep 'Running->Waiting' pigz10.dump | grep ' G=1 ' | tail -n1)
grep -qE '"pigz\+0x[0-9a-f]+"@.*"__libc_start_main"@' <<<"$last" ||
    fail "pigz10: the main thread's last wait lacks pigz frames down to __libc_start_main: $last"
echo "ok: pigz, $gens generations of 10 ms: the last waits of a worker and of main have full stacks"
