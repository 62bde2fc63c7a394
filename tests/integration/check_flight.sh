#!/bin/bash
# check_flight.sh - the flight recorder (src/runtime/flight*.c, sink_ring.c).
#
#   check_flight.sh MODE IT_FLIGHT RUNNER [IT_FLIGHT_STATIC]
# IT_FLIGHT: tests/integration/flight.c; RUNNER: it_crash_plain, which runs
# a program with a watchdog and prints its raw wait status ("status 0x..",
# or "hung" if it had to kill it); IT_FLIGHT_STATIC: flight.c with the
# static library (no interposers), for foreign.
#
# Modes: api signal slow slowtask (snapshots of a live program), ownsig
# (the program's own handler of the snapshot signal is left alone), segv abort assert
# overflow busy (crash snapshots), hexit hraise habort (crash snapshots
# when the program's own SIGSEGV handler ends the process), guard (a
# program that uses SIGSEGV: no snapshot), foreign badptr (the crash log
# on the report goroutine: a thread unknown to the trace, a crash inside
# the tracer), memory (RSS over a long run), run (`ctrace run --flight`
# on programs that do not link ctrace).
#
# Every snapshot must be accepted by Go 1.22's and 1.23's parsers and by
# `ctrace check`, span at least MinAge (1 s: the programs run 2.5 s), and
# hold the last moments: the marker the program logged just before the
# trigger.  A crash snapshot ends with the "ctrace.crash" log, after the
# marker, naming the signal and the crashing thread, with its stack.
. "$(dirname "$0")/lib.sh"

mode=$1 prog=$2 runner=$3 prog_static=${4:-}
ctrace_tool=$CTRACE_BUILD/src/tools/ctrace
min_age_ns=$(( ${FLIGHT_AGE_MS:-1000} * 1000000 ))

# Under a sanitizer its own handlers would catch the crashes: let them
# through to ours (as check_program.sh crash does).
sig_opts=handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0
# (verify_asan_link_order=0: ctrace run preloads the sanitized libctrace
# into a sanitized program, as tests/interpose do.)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}$sig_opts:use_sigaltstack=0:verify_asan_link_order=0"
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}$sig_opts:report_thread_leaks=0"

# run_it OUT ARGS...: runs under the watchdog (120 s); OUT gets the output.
run_it() {
    local out=$1; shift
    "$runner" run 120 "$@" > "$out" 2> "$out.err"
    grep -E '^status|^hung' "$out"
}

# snapshot_ok FILE MARKER: a valid trace spanning MinAge, with MARKER.
snapshot_ok() {
    local f=$1 marker=$2
    validate "$f" || return
    dump "$f"
    if [ -x "$ctrace_tool" ]; then
        check "$f: ctrace check accepts it" "$ctrace_tool" check -q "$f"
    fi
    if [ -n "$marker" ]; then
        check "$f: holds the last moments (log \"$marker\")" grep -q "Message=\"$marker\"" "$f.d1"
    fi
    local span
    span=$(awk 'match($0, / Time=[0-9]+/) { t = substr($0, RSTART + 6, RLENGTH - 6) + 0
                if (!n++ || t < lo) lo = t; if (t > hi) hi = t }
                END { printf "%.0f", hi - lo }' "$f.d1")
    expect ge $min_age_ns "$f: time spanned (ns)" "${span:-0}"
}

# crash_ok FILE SIGNAME [THREAD]: the snapshot of a crash on THREAD
# (default it_flight).
crash_ok() {
    local f=$1 sig=$2 thread=${3:-it_flight} marker=LAST-CRASH
    # Under a sanitizer, threads writing without pause (busy) can starve
    # the recorder's thread past the handler's wait (5 s) for the end of
    # the generation in progress: that generation, with the marker, is
    # then not in the snapshot, and the crash log must say so.  Without a
    # sanitizer the marker is always required.
    if [ -n "${CTRACE_SANITIZE:-}" ] && "$ctrace_tool" dump "$f" 2> /dev/null |
        grep -q 'category="ctrace.crash".*the generation in progress did not end within 5 s'; then
        echo "info: $f: under $CTRACE_SANITIZE the generation in progress did not end in time; the crash log says so"
        marker=
    fi
    snapshot_ok "$f" "$marker"
    [ -f "$f.d1" ] || return
    local last
    last=$(grep ' Log ' "$f.d1" | tail -n 1)
    check "$f: ends with the crash log naming $sig" \
        grep -q "Category=\"ctrace.crash\" Message=\"$sig" <<< "$last"
    check "$f: the crash log names the crashing thread" grep -q "thread [0-9]* ($thread)" <<< "$last"
    # The crash log's stack: PCs, names left to `ctrace symbolize`.
    check "$f: the crash log carries the crashing thread's stack" \
        awk '/Category="ctrace.crash"/ { f = 1; next } f && /\? @ 0x[0-9a-f]+/ { ok = 1 } f && /^$/ { exit } END { exit !ok }' "$f.d1"
    local tm tc
    tm=$(grep 'Message="LAST-CRASH"' "$f.d1" | sed -n 's/.* Time=\([0-9]*\).*/\1/p' | head -n 1)
    tc=$(grep 'Category="ctrace.crash"' "$f.d1" | sed -n 's/.* Time=\([0-9]*\).*/\1/p' | head -n 1)
    expect gt "${tm:-0}" "$f: crash log time after the marker's" "${tc:-0}"
    # Named afterwards: `ctrace symbolize` names the crash log's innermost
    # frame (the faulting function: flight.c's for a fault, libc's
    # pthread_kill for abort and assert) from the module records of the
    # generations before it.
    if [ -x "$ctrace_tool" ]; then
        check "$f: ctrace symbolize" "$ctrace_tool" symbolize -q "$f" -o "$f.named"
        check "$f: the crash stack, symbolized, starts in a named function with its file" \
            grep -qE 'category="ctrace.crash".* frames=\["[A-Za-z_][^"]*"@0x[0-9a-f]+ "[^"?]+":[0-9]+' \
            <<< "$("$ctrace_tool" dump --stacks "$f.named" 2>&1)"
    fi
}

# crash_run PROG REF MODE: PROG REF without the recorder, then PROG MODE
# with it (the snapshot in this directory); both must end the same way.
crash_run() {
    local p=$1 ref=$2 m=$3 want got
    ulimit -c unlimited 2> /dev/null || true # same limit for both runs: same core flag
    want=$(FLIGHT_OFF=1 run_it ref.out "$p" $ref)
    rm -f core core.* snap.*.trace
    got=$(run_it got.out "$p" $m)
    rm -f core core.*
    check "$m: the process did not hang" test "$got" != hung
    check "$m: dies as without ctrace ($want; with the recorder: $got)" test "$want" = "$got"
}

# pages_ok FILE NAME: go tool trace's pages (Go 1.22 and 1.23) on FILE:
# the goroutine analysis lists NAME, its group's page and the trace
# viewer's data (by goroutine, by proc, by thread) load, no panic.
pages_ok() {
    local f=$1 name=$2 go v enc path code
    enc=$(sed 's/ /%20/g; s/(/%28/g; s/)/%29/g' <<< "$name")
    for go in "$GO122" "$GO123"; do
        v=$("$go" env GOVERSION)
        if ! serve_trace "$go" "$f"; then
            fail "$v: go tool trace -http did not start: $(tail -n 3 srv.err | tr '\n' ' ')"
            stop_server
            continue
        fi
        code=$(curl -s --max-time 120 -o goroutines.html -w '%{http_code}' "$url/goroutines")
        expect eq 200 "$v: HTTP status of the goroutine analysis" "${code:-0}"
        check "$v: the goroutine analysis lists \"$name\"" grep -qF "$name" goroutines.html
        for path in "/goroutine?name=$enc" /trace /jsontrace "/jsontrace?view=proc" "/jsontrace?view=thread"; do
            code=$(curl -s --max-time 120 -o page.out -w '%{http_code}' "$url$path")
            expect eq 200 "$v: HTTP status of $path" "${code:-0}"
        done
        check "$v: the trace viewer's data holds the crash log" grep -q 'ctrace.crash' page.out
        stop_server
        check "$v: no panic in go tool trace's server" eval "! grep -q panic srv.err"
    done
}

# one_snapshot: the one snap.PID.N.trace of this directory.
one_snapshot() {
    local files=(snap.*.trace)
    if [ ${#files[@]} -ne 1 ] || [ ! -f "${files[0]}" ]; then
        fail "one snapshot file snap.PID.N.trace: found ${files[*]}"
        return 1
    fi
    ok "snapshot file ${files[0]}"
    snap=${files[0]}
}

case $mode in
api)
    st=$(run_it api.out "$prog" api)
    check "api: exit 0 ($st)" test "$st" = "status 0x0"
    snapshot_ok api.trace LAST-API
    # Recording goes on after a snapshot; two at once are serialised.
    for f in api2.trace api3.trace; do snapshot_ok $f AFTER-API; done
    ;;
ownsig)
    # A snapshot signal the program handles itself is never taken from it.
    st=$(run_it ownsig.out "$prog" ownsig)
    cat ownsig.out
    check "ownsig: the program's handler ran, no snapshot ($st)" test "$st" = "status 0x0"
    files=(snap.*.trace)
    check "ownsig: no snapshot file" test ! -e "${files[0]}"
    ;;
signal|slow|slowtask|sigexit)
    # sigexit: the snapshot signal just before the exit: the snapshot is
    # written all the same (the exit waits for it).
    st=$(run_it $mode.out "$prog" $mode)
    check "$mode: exit 0 ($st)" test "$st" = "status 0x0"
    case $mode in signal) marker=LAST-SIGNAL ;; slow) marker=LAST-SLOW ;; sigexit) marker=LAST-SIGEXIT ;;
        *) marker=LAST-SLOWTASK ;; esac
    one_snapshot && snapshot_ok "$snap" $marker
    ;;
segv|abort|assert|overflow|busy)
    # busy: 4 threads write without pause (tens of MB/s): MinAge 200 ms
    # in 32 MiB keeps the snapshot small enough for Go's parsers to be quick.
    [ $mode = busy ] && export FLIGHT_MAX_MB=32 FLIGHT_AGE_MS=200 && min_age_ns=200000000
    crash_run "$prog" $mode $mode
    sig=SIGSEGV; case $mode in abort|assert) sig=SIGABRT ;; esac
    one_snapshot && crash_ok "$snap" $sig
    ;;
hexit|hraise|habort)
    # The program's own SIGSEGV handler prints, then ends the process: by
    # _exit(3), by SIG_DFL and a raise, by abort().  The snapshot names the
    # original SIGSEGV and its address; the death is the program's.
    if [ "${CTRACE_TEST_NO_INTERPOSE:-0}" = 1 ]; then
        echo "skipped: the program's handlers are seen through the sigaction interposer, which this build (TSan) does not have"
        exit 77
    fi
    crash_run "$prog" $mode $mode
    check "$mode: the program's handler ran (its output)" grep -qx "handler: $mode" got.out
    if one_snapshot; then
        crash_ok "$snap" SIGSEGV
        case $mode in hexit) how='then _exit(3)' ;; hraise) how="then the program's handler restored SIG_DFL" ;; *) how='then SIGABRT' ;; esac
        check "$snap: the crash log names the fault address and what the handler did" \
            grep -q "Category=\"ctrace.crash\" Message=\"SIGSEGV: fault address 0x10, .*; $how\"" "$snap.d1"
    fi
    ;;
guard)
    # SIGSEGV as a tool: the handler fixes the fault and returns, or jumps
    # out.  No snapshot; the program's output and status as without ctrace.
    if [ "${CTRACE_TEST_NO_INTERPOSE:-0}" = 1 ]; then
        echo "skipped: the program's handlers are seen through the sigaction interposer, which this build (TSan) does not have"
        exit 77
    fi
    st=$(run_it guard.out "$prog" guard)
    cat guard.out
    check "guard: exit 0 ($st)" test "$st" = "status 0x0"
    check "guard: every fault handled, actions as the program set them" \
        grep -qx "guard hits 10000 jumps 100 resethand 1 ill 1" guard.out
    files=(snap.*.trace)
    check "guard: no snapshot" test ! -e "${files[0]}"
    ;;
foreign|badptr)
    # The crash log on the report goroutine: the crashing thread cannot
    # carry it (unknown to the trace; inside the tracer, the generation in
    # progress not ended).
    p=$prog thread=it_flight ref=$mode
    if [ $mode = foreign ]; then
        p=$prog_static thread=foreign
        [ -n "$p" ] || die "foreign: no static program"
    else
        ref=segv # without the recorder, ctrace_log reads no string
    fi
    crash_run "$p" $ref $mode
    if one_snapshot; then
        crash_ok "$snap" SIGSEGV $thread
        if [ $mode = badptr ]; then
            check "$snap: the crash log says the generation in progress is missing, and why" \
                grep -q 'Category="ctrace.crash" Message="SIGSEGV: .*; crashed inside the tracer: the generation in progress is not in the snapshot"' "$snap.d1"
        fi
        check "$snap: the report goroutine is labelled with the thread" \
            grep -q " Label Time=[0-9]* Label=\"ctrace crash report: $thread (tid [0-9]*)\"" "$snap.d1"
        # go tool trace's pages on it: the goroutine analysis names the
        # report goroutine, the trace viewer's data loads.
        pages_ok "$snap" "ctrace crash report: $thread"
    fi
    ;;
memory)
    # 8 threads log without pause for 8 s, MinAge 10 s, MaxBytes 4 MiB: the
    # ring must drop its oldest generations and stay within its bound.
    st=$(RUN_MS=8000 FLIGHT_AGE_MS=10000 run_it mem.out "$prog" memory)
    cat mem.out
    check "memory: exit 0 ($st)" test "$st" = "status 0x0"
    val() { awk -v k="$1" '$1 == k { print $2 }' mem.out; }
    if [ -n "${CTRACE_SANITIZE:-}" ]; then
        # 8 threads logging without pause starve the advancer under a
        # sanitizer (one generation in 8 s under TSan): nothing to drop.
        echo "info: generations dropped: $(val generations_dropped) of $(val generations), not checked under the $CTRACE_SANITIZE sanitizer"
    else
        expect gt 0 "generations dropped (oldest first)" "$(val generations_dropped)"
    fi
    # The bound docs/ARCHITECTURE.md states: the cap, plus the forced
    # allocations the advancer and exiting threads may make past it (at
    # most 2 x threads x 32 KiB; 10 threads here).  Under TSan the ring
    # was seen 2 KiB over the cap (status batches of a starved advancer).
    expect le $(((4 << 20) + 2 * 10 * 32768)) "bytes held by the ring (cap + forced allocations)" "$(val bytes_held)"
    # RSS growth (anonymous pages: flight.c, rss_kib): MaxBytes + the fixed part (docs/ARCHITECTURE.md: pool of
    # free buffers 2 MiB, string/stack maps, the flight thread) + per thread
    # (its record, buffers being filled, stack pages touched, malloc arena).
    growth=$(( $(val rss_max_kib) - $(val rss_base_kib) ))
    if [ -n "${CTRACE_SANITIZE:-}" ]; then
        # The sanitizer's shadow memory and quarantine dwarf the bound.
        echo "info: RSS growth $growth KiB not checked under the $CTRACE_SANITIZE sanitizer"
    else
        expect le $(( 4096 + 6144 + 8 * 256 )) "RSS growth (KiB)" "$growth"
    fi
    ;;
run)
    # ctrace run --flight on a program that does not link ctrace: a crash
    # snapshot with no code change (it_crash_plain's own crash).  The
    # reference is the same run traced to a file (ctrace run dies of the
    # program's signal without a core of its own).
    ulimit -c unlimited 2> /dev/null || true
    want=$(run_it ref.out "$ctrace_tool" run -q -o "$PWD/ref.trace" -- "$runner" segv none.trace)
    rm -f core core.*
    got=$(run_it got.out "$ctrace_tool" run -q --flight=1s -o "$PWD/snap" -- "$runner" segv none.trace)
    rm -f core core.*
    check "run: dies as without ctrace ($want; under ctrace run --flight: $got)" test "$want" = "$got"
    files=(snap.*.trace)
    if [ -f "${files[0]}" ]; then
        ok "run: snapshot ${files[0]}"
        validate "${files[0]}" && dump "${files[0]}"
        # Without interposers (TSan) the program's thread never calls in:
        # the log is then on the report goroutine (flight_crash.c).
        check "run: the crash log" grep -q 'Category="ctrace.crash" Message="SIGSEGV' "${files[0]}.d1"
    else
        fail "run: no snapshot file snap.PID.N.trace"
    fi
    # The snapshot signal sent to ctrace run's own pid is forwarded: the
    # program (no handler of its own for SIGUSR2) takes a snapshot and
    # carries on.  ctrace used to die of SIGUSR2, the program left running.
    # (A program of this build: a sanitizer's library preloaded into one
    # built without it cannot start.)
    # Under TSan the program lingers 6 s, not 2: its snapshot, taken after
    # the signal, must be written before the exit ends the flight thread.
    linger=2000; [ "${CTRACE_SANITIZE:-}" = thread ] && linger=6000
    LINGER_MS=$linger "$ctrace_tool" run -q --flight=1s -o "$PWD/usr2" -- "$runner" linger none.trace > usr2.out & p=$!
    # The signal goes once the program says it lingers (10 s at most): its
    # recorder is installed then and its main thread sleeps.  (A fixed
    # delay sent it, on a loaded machine under TSan, before the program
    # had started; a child found by pgrep can still be ctrace run's fork.)
    for _ in $(seq 100); do
        grep -q '^leaving by linger' usr2.out && break
        sleep 0.1
    done
    kid=$(pgrep -P $p | head -n 1)
    # Under TSan, ctrace run's own handler runs only at its next intercepted
    # call (TSan defers signals; waitpid is not one): the forward would come
    # after the program's end.  There the signal goes to the program itself,
    # again each second until a snapshot appears: TSan defers a signal to
    # the receiving thread's next intercepted call, and one that lands on
    # a thread that ends first is lost (seen: no handler call at all).
    if [ "${CTRACE_SANITIZE:-}" = thread ]; then
        for _ in 1 2 3 4; do
            kill -USR2 "$kid" 2> /dev/null || break
            sleep 1
            files=(usr2.*.trace)
            [ -f "${files[0]}" ] && break
        done
    else
        kill -USR2 $p
    fi
    wait $p; rc=$?
    check "run: SIGUSR2 to ctrace run: the program ran on (exit $rc)" test "$rc" = 0
    files=(usr2.*.trace)
    if [ -f "${files[0]}" ]; then
        ok "run: SIGUSR2 snapshot ${files[0]}"
        validate "${files[0]}"
    else
        fail "run: SIGUSR2 to ctrace run: no snapshot file usr2.PID.N.trace"
    fi
    ;;
*)
    die "unknown mode $mode"
    ;;
esac
finish
