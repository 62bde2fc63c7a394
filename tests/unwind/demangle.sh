#!/usr/bin/env bash
# demangle.sh cxx|rust - frames named from symbol tables are demangled,
# under `ctrace run` (the runtime's symbolizer) and by `ctrace symbolize`
# (a trace written with CTRACE_SYMBOLIZE=off, named afterwards).
#
#  - cxx: a C++ program built without -g (demangle_cxx.cpp): its threads'
#    sleeps go through ctdemo::hold_lock(int), and the main thread waits
#    in std::thread::join() (libstdc++, no DWARF here).
#  - rust: a Rust program (demangle_rust.rs, built here with rustc): the
#    sleeps go through the program's hold_lock and
#    std::sys::backtrace::__rust_begin_short_backtrace (legacy names,
#    shown without their ::h<hash>) and std's thread start routine (a v0
#    name: a method of an inherent impl, "<std::...>::...").
# The frames checked are on sleeps and joins, which every run has (a
# contended lock wait depends on the scheduling).  Skipped (77) when rustc is missing,
#    CI or not: Rust is not a dependency of ctrace.
# In both, no frame of the trace keeps a mangled name (_Z..., _R...).
#
# Environment (set by CMake): CTRACE (the tool), CTRACE_SRC, WORK, and
# CXX_PROG (cxx); RUSTC optionally names rustc (else PATH, ~/.cargo/bin).
set -uo pipefail
: "${CTRACE:?}" "${CTRACE_SRC:?}" "${WORK:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK" || exit 1

case "${1:-}" in
cxx)
    : "${CXX_PROG:?}"
    prog=$CXX_PROG
    want=('"ctdemo::hold_lock\(int\)"' '"std::thread::join\(\)"')
    ;;
rust)
    rustc=${RUSTC:-$(command -v rustc || echo "$HOME/.cargo/bin/rustc")}
    [ -x "$rustc" ] || { echo "SKIP: rustc not installed"; exit 77; }
    "$rustc" -O -C force-frame-pointers=yes -o demangle_rust \
        "$CTRACE_SRC/tests/unwind/demangle_rust.rs" || fail "rustc failed"
    prog=$WORK/demangle_rust
    want=('"demangle_rust::hold_lock"' '"std::sys::backtrace::__rust_begin_short_backtrace"'
          '"<std::[A-Za-z0-9_:]+>::[A-Za-z0-9_:]+"')
    ;;
*) fail "usage: demangle.sh cxx|rust" ;;
esac

# check TRACE WHAT: the demangled names (extended regular expressions)
# are there, no mangled one is.
check() {
    "$CTRACE" dump --stacks "$1" > "$1.stacks" || fail "$2: ctrace dump failed"
    for w in "${want[@]}"; do
        grep -qE "$w" "$1.stacks" || fail "$2: no frame $w in $1 (ctrace dump --stacks: $1.stacks)"
    done
    if grep -oE '(frames=\[|; )"_[ZR][^"]*"' "$1.stacks" | sort -u | head -5 | grep .; then
        fail "$2: mangled frame names in $1 (above)"
    fi
    "$CTRACE" stat "$1" > "$1.stat" || fail "$2: ctrace stat failed"
    if grep -E '(^|[^A-Za-z0-9_])_(Z|R)[A-Z0-9]' "$1.stat" | head -5 | grep .; then
        fail "$2: mangled names in ctrace stat $1 (above)"
    fi
}

"$CTRACE" run -q -o "$WORK/run.trace" -- "$prog" || fail "ctrace run $prog: exit $?"
check "$WORK/run.trace" "ctrace run"
CTRACE_SYMBOLIZE=off "$CTRACE" run -q -o "$WORK/off.trace" -- "$prog" || fail "ctrace run (off): exit $?"
"$CTRACE" symbolize -q "$WORK/off.trace" -o "$WORK/named.trace" || fail "ctrace symbolize failed"
check "$WORK/named.trace" "ctrace symbolize"
echo "PASS: demangle $1"
