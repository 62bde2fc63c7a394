# lib.sh - helpers for the integration tests (sourced by the test scripts).
#
# Environment (set by tests/integration/CMakeLists.txt):
#   CTRACE_SRC   source tree          CTRACE_BUILD  build tree
#   CTRACE_WORK  scratch directory of this test (created and entered here)
# Checks do not stop at the first failure: every failed check prints
# "FAIL: ..." and `finish` exits 1 if any failed, so one run lists them all.
set -uo pipefail

# Every check here reads traces with Go's parsers: without Go 1.22 and 1.23
# the test is skipped (exit 77, tests/go_toolchain.sh).
. "$(dirname "${BASH_SOURCE[0]}")/../go_toolchain.sh"
need_go 22 23
export GOFLAGS= GO111MODULE=off
[ -n "${HOME:-}" ] || export HOME=/tmp
CTRACE_SRC=${CTRACE_SRC:?CTRACE_SRC not set}
CTRACE_BUILD=${CTRACE_BUILD:?CTRACE_BUILD not set}
CTRACE_WORK=${CTRACE_WORK:-$(mktemp -d)}

rm -rf "$CTRACE_WORK" && mkdir -p "$CTRACE_WORK" && cd "$CTRACE_WORK" || exit 1

nchecks=0
nfailed=0

ok()   { nchecks=$((nchecks + 1)); echo "ok:   $*"; }
fail() { nchecks=$((nchecks + 1)); nfailed=$((nfailed + 1)); echo "FAIL: $*"; }
# Aborts the test at once (nothing further can be checked).
die()  { echo "FAIL: $*"; echo "integration: stopped early, $nfailed earlier check(s) failed"; exit 1; }

# finish: the summary line; exit status 1 if any check failed.  A test
# that passed removes its scratch directory (traces and Go's text dumps of
# them run to hundreds of MB per test, times three sanitizer passes: CI
# machines have run out of disk); a failed one keeps it for inspection, and
# CTRACE_KEEP_WORK=1 keeps it always.
finish() {
    echo "$((nchecks - nfailed)) passed, $nfailed failed"
    if [ "$nfailed" -eq 0 ] && [ "${CTRACE_KEEP_WORK:-0}" != 1 ] && [ -d "$CTRACE_WORK" ]; then
        cd / && rm -rf "$CTRACE_WORK"
    fi
    [ "$nfailed" -eq 0 ]
}

# check DESCRIPTION COMMAND...: ok if COMMAND succeeds.
check() {
    local what=$1; shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

# validate FILE: both Go 1.22 and Go 1.23 `go tool trace -d=1` accept FILE
# (scripts/gotrace-validate.sh).
validate() {
    local f=$1
    if [ ! -s "$f" ]; then fail "$f: missing or empty"; return 1; fi
    if bash "$CTRACE_SRC/scripts/gotrace-validate.sh" "$f" > "$f.validate" 2>&1; then
        ok "$f: accepted by Go 1.22 and Go 1.23 (gotrace-validate.sh)"; return 0
    fi
    fail "$f: rejected by gotrace-validate.sh: $(tail -n 3 "$f.validate" | tr '\n' ' ')"
    return 1
}

# dump FILE: FILE.d1 = Go 1.23's `go tool trace -d=1` text, FILE.sum = its
# summary (summarize.awk).  Returns go's exit status.
dump() {
    local f=$1 rc=0
    "$GO123" tool trace -d=1 "$f" > "$f.d1" 2> "$f.d1.err" || rc=$?
    awk -f "$CTRACE_SRC/tests/integration/summarize.awk" "$f.d1" | sort > "$f.sum"
    return $rc
}

# count SUMFILE KEY...: the count for the key (fields joined by tabs), 0 if absent.
count() {
    local sum=$1; shift
    local key
    [ -f "$sum" ] || { echo 0; return; }
    key=$(IFS=$'\t'; echo "$*")
    awk -F'\t' -v k="$key" '{ v = $NF; l = $0; sub(/\t[^\t]*$/, "", l)
        if (l == k) { print v; f = 1; exit } } END { if (!f) print 0 }' "$sum"
}

# count_match SUMFILE PREFIX REGEX: sum of counts of "PREFIX<TAB>X" keys whose
# X matches REGEX (awk ERE).
count_match() {
    [ -f "$1" ] || { echo 0; return; }
    awk -F'\t' -v p="$2" -v re="$3" 'NF == 3 && $1 == p && $2 ~ re { s += $3 } END { print s + 0 }' "$1"
}

# expect OP WANT DESCRIPTION VALUE: numeric comparison (OP: eq ge le gt).
expect() {
    local op=$1 want=$2 what=$3 got=$4
    if [ "$got" -"$op" "$want" ]; then ok "$what = $got ($op $want)"
    else fail "$what = $got, want $op $want"; fi
}

# expect_key SUMFILE OP WANT KEY...: expect on count SUMFILE KEY...
expect_key() {
    local sum=$1 op=$2 want=$3; shift 3
    expect "$op" "$want" "$(echo "$*" | tr ' ' '/')" "$(count "$sum" "$@")"
}

# expect_created SUM OP N: threads created while tracing.  With the
# interposers (the normal build) they are GoCreate events; without them (the
# TSan build, CTRACE_TEST_NO_INTERPOSE=1) a thread shows up as a goroutine
# when it first calls in, so the goroutines are counted instead (main too:
# one more than the threads created, and OP N still holds).
expect_created() {
    if [ "${CTRACE_TEST_NO_INTERPOSE:-0}" = 1 ]; then
        expect_key "$1" "$2" "$3" goroutines
    else
        expect_key "$1" "$2" "$3" gocreate
    fi
}

# blocks_balanced SUMFILE: every Running->Waiting has its Waiting->Runnable.
blocks_balanced() {
    local b u
    b=$(count "$1" transition 'Running->Waiting')
    u=$(count "$1" transition 'Waiting->Runnable')
    expect eq "$b" "unblocks (Waiting->Runnable) vs blocks (Running->Waiting)" "$u"
}

# show SUMFILE: the summary, for the log.
show() { [ -f "$1" ] || return 0; echo "--- summary of ${1%.sum} ---"; grep -v -e '^blockfn' -e '^samplefn' "$1" | sed 's/^/    /'; }

# no_tracer_frames SUMFILE: no event's stack starts inside the tracer: the
# top frame is the caller of the API (as Go puts the caller of
# trace.StartRegion on top), not ctrace_* or ct_*.  CPU samples are left
# out: a sample taken while the thread runs tracer code (ct_acquire...) is
# the truth about where that CPU time went (it failed now and then when a
# sample landed there).
no_tracer_frames() {
    local n
    n=$(awk -F'\t' '$1 == "stacktop" && $2 != "StackSample" && ($3 ~ /^ctrace_/ || $3 ~ /^ct_/) { s += $4 } END { print s + 0 }' "$1")
    expect eq 0 "events whose stack starts in the tracer (ctrace_*/ct_*)" "$n"
    [ "$n" -eq 0 ] || awk -F'\t' '$1 == "stacktop" && $2 != "StackSample" && ($3 ~ /^ctrace_/ || $3 ~ /^ct_/) { print "      " $2 " x" $4 " top frame " $3 }' "$1"
}

# no_tracer_frames_anywhere SUMFILE: no event's stack holds a tracer
# function at all (the thread trampoline of the interposer is hidden too).
# CPU samples are left out: one may land in tracer code, and should say so.
no_tracer_frames_anywhere() {
    local n
    n=$(awk -F'\t' '$1 == "stackfn" && $2 != "StackSample" && ($3 ~ /^ctrace_/ || $3 ~ /^ct_/) { s += $4 } END { print s + 0 }' "$1")
    expect eq 0 "events with a tracer function anywhere on their stack" "$n"
}

# stack_has SUMFILE KIND FUNC: every event of KIND has FUNC on its stack.
stack_has() {
    expect eq "$(count "$1" kind "$2")" "$2 events with $3 on their stack" "$(count "$1" stackfn "$2" "$3")"
}

# pprof_has TRACE PROFILE FUNC: go tool trace -pprof=PROFILE (Go 1.23, what
# its "Synchronization blocking profile" page shows) is not empty and FUNC is
# in it.
pprof_has() {
    local t=$1 prof=$2 fn=$3
    if ! "$GO123" tool trace -pprof="$prof" "$t" > "$t.$prof.pprof" 2> "$t.$prof.err"; then
        fail "go tool trace -pprof=$prof failed: $(tail -n 2 "$t.$prof.err" | tr '\n' ' ')"; return
    fi
    if ! "$GO123" tool pprof -top -symbolize=none "$t.$prof.pprof" > "$t.$prof.top" 2>&1; then
        fail "go tool pprof -top failed on the -pprof=$prof profile: $(tail -n 2 "$t.$prof.top" | tr '\n' ' ')"; return
    fi
    if grep -q -w -- "$fn" "$t.$prof.top"; then
        ok "go tool trace -pprof=$prof shows $fn"
    else
        fail "go tool trace -pprof=$prof does not show $fn: $(sed -n 2p "$t.$prof.top")"
    fi
}

# serve_trace GO FILE: starts GO's `go tool trace -http` on FILE in the
# background: $srv its pid, $url its address ("" if it did not start
# within 60 s; srv.err then says why).  stop_server ends it.
serve_trace() {
    local go=$1 f=$2 tool
    url=
    tool=$("$go" tool -n trace) || { srv=; return 1; }
    "$tool" -http=127.0.0.1:0 "$f" > srv.out 2> srv.err &
    srv=$!
    for _ in $(seq 1 300); do
        url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' srv.err srv.out 2> /dev/null | head -n 1 | cut -d: -f2-)
        [ -n "$url" ] && break
        kill -0 $srv 2> /dev/null || break
        sleep 0.2
    done
    [ -n "$url" ]
}

stop_server() {
    [ -n "${srv:-}" ] || return 0
    kill $srv 2> /dev/null
    wait $srv 2> /dev/null
    srv=
}
