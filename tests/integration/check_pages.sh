#!/usr/bin/env bash
# check_pages.sh BINARY: the pages of go tool trace mean something for a C
# program (issue 9, section 2), checked headlessly on a trace of
# tests/integration/pages.c made through the interposers (CTRACE_OUTPUT):
#   - the metrics Go's tools read are there (GOMAXPROCS, heap), so the MMU
#     page computes (Go 1.23's server panicked without them);
#   - -pprof=sched (Go 1.22 and 1.23) is close to the real scheduling
#     latency, ~0 with one P per thread, and -pprof=syscall to the time the
#     program itself measured inside its syscalls (golang/go#74850: they
#     counted whole running times);
#   - syscall and blocking stacks name the C call (fdatasync, write,
#     pthread_mutex_lock, pthread_cond_wait);
#   - the main thread's goroutine is named main, and labels carry the
#     thread id (and the thread's own name), not the process name.
bin=$1
. "$(dirname "$0")/lib.sh"

ctrace_tool=$CTRACE_BUILD/src/tools/ctrace
t=pages.trace
rc=0
CTRACE_OUTPUT=$PWD/$t "$bin" "$PWD" > prog.out 2> prog.err || rc=$?
cat prog.out
[ -s prog.err ] && { echo "--- stderr:"; tail -n 20 prog.err; }
[ $rc -eq 0 ] || die "$(basename "$bin") exited with status $rc"
spin=$(awk '$1 == "spin_ns" { print $2 }' prog.out)
sys=$(awk '$1 == "syscall_ns" { print $2 }' prog.out)
[ -n "$spin" ] && [ -n "$sys" ] || die "the program did not print spin_ns and syscall_ns"

validate "$t" || die "$t rejected by Go's parsers"
check "ctrace check accepts $t" "$ctrace_tool" check "$t"
dump "$t" || fail "go tool trace -d=1 failed on $t"

# Metrics, every generation (CTRACE_PERIOD is short here).
gens=$(grep -c '^M=-1 P=-1 G=-1 Sync' "$t.d1")
expect ge 2 "generations" "$gens"
expect ge "$gens" "GOMAXPROCS metrics (one per generation with a running thread)" \
    "$(grep -c 'Metric .*Name="/sched/gomaxprocs:threads" Value=Uint64([1-9]' "$t.d1")"
# A sanitizer's allocator replaces malloc: glibc's mallinfo2 then knows
# nothing (FORMAT.md, metrics), and a thread's start routine is the
# sanitizer's trampoline (ARCHITECTURE.md, sanitizer builds).
sanitized=${CTRACE_SANITIZE:-}
if [ -z "$sanitized" ]; then
    expect ge 1 "heap metrics (mallinfo2)" \
        "$(grep -c 'Metric .*Name="/memory/classes/heap/objects:bytes" Value=Uint64([1-9]' "$t.d1")"
else
    echo "note: $sanitized sanitizer: heap metric and start-routine groups not checked"
fi

# Labels: thread id, and the name a thread gave itself.
expect ge 3 "labels of the named workers (name and tid)" \
    "$(grep -c 'Label="pages-[0-9] (tid [0-9]*)"' "$t.d1")"
expect ge 1 "labels of unnamed threads (tid only)" "$(grep -c 'Label="tid [0-9]*"' "$t.d1")"
expect eq 0 "labels that are the process name" \
    "$(grep -c "Label=\"$(basename "$bin" | cut -c1-15)\"" "$t.d1")"

# profile_total GO KIND: count and total ns of go tool trace -pprof=KIND.
profile_total() {
    local go=$1 k=$2
    "$go" tool trace -pprof="$k" "$t" > "$t.$k.pb" 2> "$t.$k.err" || { echo "error"; return; }
    "$go" tool pprof -raw "$t.$k.pb" 2> /dev/null | awk '
        /^Samples:/ { s = 1; next } /^Locations/ { s = 0 }
        s && /:/ { t += $2 + 0 } END { printf "%.0f", t }'
}
for go in "$GO122" "$GO123"; do
    v=$("$go" env GOVERSION)
    sched=$(profile_total "$go" sched)
    sysp=$(profile_total "$go" syscall)
    [ "$sched" != error ] && [ "$sysp" != error ] || { fail "$v: go tool trace -pprof failed"; continue; }
    # With one P per thread a thread runs the moment it can: no real
    # scheduling latency in the trace.  Generous bound: a twentieth of the
    # CPU work that follows the program's waits (what was counted before).
    expect le $((spin / 20)) "$v -pprof=sched total ns (program spun $spin ns after its waits)" "$sched"
    expect le $((sys + spin / 20)) "$v -pprof=syscall total ns (program measured $sys ns in write+fdatasync)" "$sysp"
    expect ge $((sys / 2)) "$v -pprof=syscall total ns, at least half the measured $sys" "$sysp"
done

# The C call on top of syscall and blocking stacks: the first frame of
# the profile's samples (go tool pprof -raw: a sample's locations, leaf
# first, then the location table).
# leaf_has KIND FUNC: FUNC is the leaf of some sample of -pprof=KIND.
leaf_has() {
    local k=$1 fn=$2
    "$GO123" tool pprof -raw "$t.$k.pb" 2> /dev/null | awk -v fn="$fn" '
        /^Samples:/ { s = 1; next } /^Locations/ { s = 0; l = 1; next } /^Mappings/ { l = 0 }
        s && /:/ { leaf[$3] = 1 }
        l && $1 ~ /:$/ { id = $1; sub(/:$/, "", id); name[id] = $4 }
        END { for (i in leaf) if (name[i] == fn) { found = 1 } exit !found }'
}
profile_total "$GO123" sync > /dev/null
for pair in syscall:fdatasync syscall:write sync:pthread_mutex_lock sync:pthread_cond_wait; do
    check "a -pprof=${pair%%:*} stack is topped by ${pair#*:}" leaf_has "${pair%%:*}" "${pair#*:}"
done
expect ge 1 'blocks with reason "sync: pthread_mutex_lock"' \
    "$(grep -c 'Reason="sync: pthread_mutex_lock".*Running->Waiting' "$t.d1")"

# The web pages: MMU (computed by the server), the goroutine groups.
serve_trace "$GO123" "$t"
if [ -z "$url" ]; then
    fail "go tool trace -http did not start: $(tail -n 3 srv.err | tr '\n' ' ')"
else
    code=$(curl -s -o mmu.json -w '%{http_code}' "$url/mmu?mode=plot&flags=stw|background|assist|sweep|perProc")
    expect eq 200 "HTTP status of the MMU plot" "${code:-0}"
    check "the MMU plot has a curve" grep -q '"curve":\[\[' mmu.json
    code=$(curl -s -o goroutines.html -w '%{http_code}' "$url/goroutines")
    expect eq 200 "HTTP status of the goroutines page" "${code:-0}"
    check "the main thread's goroutine group is main" grep -q 'href="/goroutine?name=main"' goroutines.html
    [ -n "$sanitized" ] ||
        check "worker threads grouped by start routine" grep -q 'href="/goroutine?name=worker"' goroutines.html
fi
stop_server
check "no panic in go tool trace's server" eval "! grep -q panic srv.err"
finish
