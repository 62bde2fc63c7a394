#!/usr/bin/env bash
# symbolize.sh CTRACE EXAMPLE SRC - `ctrace symbolize` names frames later,
# from the module records of the trace (docs/FORMAT.md, "Module records"):
#
#  1. EXAMPLE (examples/annotations, built with -g) traced with
#     CTRACE_SYMBOLIZE=off: its frames carry PCs and empty names; after
#     `ctrace symbolize`, handle_request appears with annotations.c and a
#     line, and the trace passes `ctrace check` and Go 1.22's and 1.23's
#     parsers.
#  2. A stripped copy of EXAMPLE, its debug file placed by build ID in a
#     scratch debug directory (DIR/.build-id/xx/yyyy.debug): the runtime
#     names its frames "copy+0xOFF" (no symbols anywhere it looks);
#     `ctrace symbolize --debug-dir DIR` names them from the debug file.
#  3. A stripped copy with MiniDebugInfo (.gnu_debugdata: an xz'd symbol
#     table of its functions, as Fedora ships binaries): the runtime itself
#     names main from it (libdw reads it), where the plain stripped copy
#     showed copy+0xOFF.
# Exits 77 when Go, objcopy, strip or readelf is missing (failure under CI).
set -uo pipefail
CTRACE=$1 EX=$2 SRC=$3
. "$SRC/tests/go_toolchain.sh"
need_go 22 23
. "$SRC/tests/need_tools.sh"
need_tools objcopy strip readelf nm xz comm
W=$(mktemp -d); [ -n "${KEEP_WORK:-}" ] || trap 'rm -rf "$W"' EXIT; echo "work: $W"
cd "$W" || exit 1

valid() {
    "$CTRACE" check -q "$1" >/dev/null || fail "ctrace check rejects $1"
    bash "$SRC/scripts/gotrace-validate.sh" "$1" >/dev/null || {
        bash "$SRC/scripts/gotrace-validate.sh" "$1" >&2; fail "Go parsers reject $1"; }
}
# stacks FILE: its dump with stacks, in FILE.stacks (grep -q reads a file:
# on a pipe under pipefail it would fail whenever it quits before dump ends).
stacks() { "$CTRACE" dump --stacks "$1" > "$1.stacks" || fail "ctrace dump --stacks $1"; }
named_line() { "$CTRACE" dump --stacks "$1" | grep -E '"handle_request"@0x[0-9a-f]+ "[^"]*annotations\.c":[1-9]'; }

# 1. Symbolization off, then ctrace symbolize.
CTRACE_SYMBOLIZE=off "$EX" off.trace > /dev/null || fail "example failed"
valid off.trace
stacks off.trace
grep -q '""@0x' off.trace.stacks || fail "off.trace: no unnamed frame"
if grep -q '"handle_request"' off.trace.stacks; then
    fail "off.trace: frames already named"
fi
"$CTRACE" symbolize off.trace -o named.trace > sym.out || fail "ctrace symbolize off.trace"
cat sym.out
valid named.trace
named_line named.trace > /dev/null || {
    "$CTRACE" dump --stacks named.trace | grep frames= | head -n3 >&2
    fail "named.trace: no handle_request frame with annotations.c:LINE"; }
echo "ok: symbolization off, then ctrace symbolize: $(named_line named.trace | head -n1 | grep -o '"handle_request"[^;]*')"

# 2. A stripped copy and its debug file by build ID.
cp "$EX" copy && objcopy --only-keep-debug copy copy.debug && strip --strip-all copy ||
    fail "cannot make a stripped copy"
id=$(readelf -n copy | awk '/Build ID/ {print $3}')
[ -n "$id" ] || fail "the example has no build ID"
mkdir -p "dbg/.build-id/${id:0:2}" && mv copy.debug "dbg/.build-id/${id:0:2}/${id:2}.debug"
./copy stripped.trace > /dev/null || fail "stripped copy failed"
valid stripped.trace
stacks stripped.trace
grep -q '"copy+0x' stripped.trace.stacks || fail "stripped.trace: no copy+0xOFF frame"
# (not "main": the runtime names the main thread's start frame itself,
# docs/FORMAT.md "The main thread")
if grep -qE '"handle_request"@' stripped.trace.stacks; then
    fail "stripped.trace: named without its debug file"
fi
"$CTRACE" symbolize -q stripped.trace -o nodir.trace || fail "ctrace symbolize stripped.trace"
if named_line nodir.trace > /dev/null; then fail "named without --debug-dir"; fi
"$CTRACE" symbolize --debug-dir "$W/dbg" stripped.trace -o stripped-named.trace > sym2.out ||
    fail "ctrace symbolize --debug-dir"
cat sym2.out
valid stripped-named.trace
named_line stripped-named.trace > /dev/null || {
    "$CTRACE" dump --stacks stripped-named.trace | grep frames= | head -n3 >&2
    fail "stripped-named.trace: no handle_request frame with annotations.c:LINE"; }
echo "ok: stripped copy + debug file by build ID: named"

# 3. MiniDebugInfo: the function symbols that .dynsym lacks, xz'd into
#    .gnu_debugdata of the stripped copy.
cp "$EX" mini && nm -D mini --format=posix --defined-only | awk '{print $1}' | sort > dynsyms &&
    nm mini --format=posix --defined-only | awk '$2 ~ /^[Tt]$/ {print $1}' | sort > funcsyms &&
    comm -13 dynsyms funcsyms > keep && objcopy --only-keep-debug mini mini.full &&
    objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols=keep \
        mini.full mini.debug && strip --strip-all mini && xz mini.debug &&
    objcopy --add-section .gnu_debugdata=mini.debug.xz mini || fail "cannot add MiniDebugInfo"
./mini mini.trace > /dev/null || fail "MiniDebugInfo copy failed"
valid mini.trace
# (db_worker, a static function, not main: the runtime names the main
# thread's start frame "main" whatever the symbols)
stacks mini.trace
grep -qE '"db_worker"@0x[0-9a-f]+ ' mini.trace.stacks ||
    fail "mini.trace: db_worker not named from .gnu_debugdata"
echo "ok: stripped copy with MiniDebugInfo: db_worker named by the runtime"
