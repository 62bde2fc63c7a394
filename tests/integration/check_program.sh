#!/usr/bin/env bash
# check_program.sh TEST BINARY [GENCUT]: runs one of the integration test
# programs of this folder and checks the traces it leaves.
name=$1 bin=$2 gencut=${3:-}
. "$(dirname "$0")/lib.sh"

ctrace_tool=$CTRACE_BUILD/src/tools/ctrace

# run_prog ARGS...: runs the program, shows its output, fails if it fails.
run_prog() {
    local rc=0
    "$bin" "$@" > prog.out 2> prog.err || rc=$?
    cat prog.out
    [ -s prog.err ] && { echo "--- stderr:"; tail -n 40 prog.err; }
    if [ $rc -ne 0 ]; then
        fail "$(basename "$bin") exited with status $rc ($(grep -c '^FAIL' prog.out) failed checks above)"
    else
        ok "$(basename "$bin") exited 0"
    fi
}

case $name in
misuse)
    run_prog
    for t in misuse-writer.trace misuse-again.trace misuse-steal.trace misuse-runtime.trace misuse-race.trace misuse-unread.trace misuse-selfread.trace; do
        validate "$t" && dump "$t"
    done
    # The last round of a writer-level trace with a reader calling right
    # after its start: a whole trace (ctrace's own checker too).
    if [ -x "$ctrace_tool" ]; then
        check "ctrace check accepts misuse-race.trace" "$ctrace_tool" check misuse-race.trace
    else
        fail "no ctrace tool at $ctrace_tool"
    fi
    check "no trace written by refused starts" test ! -e misuse-never.trace
    s=misuse-writer.trace.sum
    show "$s"
    expect_key "$s" eq 1 region outer
    expect_key "$s" ge 1 region misuse-region
    expect_key "$s" eq 1 region left-open-at-stop
    expect_key "$s" eq 1 region left-open-by-exiting-thread
    expect_key "$s" eq 1 log big
    expect_key "$s" eq 1 log big-plain
    expect le 1024 "longest message of category big (ctrace_logf cuts at 1 KiB)" "$(count "$s" logmaxlen big)"
    expect ge 1000 "longest message of category big" "$(count "$s" logmaxlen big)"
    check "thread name annotator in the trace" grep -q annotator misuse-writer.trace.d1
    check "a name set while off is remembered (documented in ctrace.h)" grep -q off-thread misuse-writer.trace.d1
    expect_key misuse-steal.trace.sum eq 1 region misuse-region
    s=misuse-runtime.trace.sum
    expect_key "$s" eq 1 task misuse-task
    expect_key "$s" eq 1 region misuse-region
    expect_key "$s" eq 2 log misuse
    # Read after ctrace_stop_trace returned: the whole trace.
    for s in misuse-unread.trace.sum misuse-selfread.trace.sum; do
        expect_key "$s" eq 1 task misuse-task
        expect_key "$s" eq 1 region misuse-region
    done
    ;;
stderr_reuse)
    # The runtime's line ("the program starts a trace of its own") never
    # lands in a data file the program opened on descriptor 2 after
    # closing its stderr; it does go to a log the program made its stderr.
    rm -f data.bin log.txt auto*.trace own*.trace
    CTRACE_OUTPUT=auto-data.trace run_prog data data.bin own-data.trace
    check "the data file holds the program's data alone" cmp -s data.bin <(printf 'DATA\n')
    [ -s data.bin ] && { echo "--- data.bin:"; cat -A data.bin | head -5; }
    CTRACE_OUTPUT=auto-log.trace run_prog log log.txt own-log.trace
    check "the line went to the program's stderr log" grep -q "ctrace: the program starts a trace of its own" log.txt
    for t in auto-data.trace own-data.trace auto-log.trace own-log.trace; do
        validate "$t"
    done
    ;;
writer_fail)
    run_prog
    validate writer-fail-after.trace
    ;;
stress)
    secs=${STRESS_SECONDS:-8}
    run_prog "$secs" 30
    n=0
    for t in stress-*.trace; do
        [ -e "$t" ] || continue
        n=$((n + 1))
        # only failures are shown
        validate "$t" > "$t.log" 2>&1 || grep FAIL "$t.log"
    done
    expect ge 10 "stress traces written" "$n"
    # The traces together hold many of the short-lived threads.
    total=0 inreader=0 samplesinreader=0 created_key=gocreate
    [ "${CTRACE_TEST_NO_INTERPOSE:-0}" = 1 ] && created_key=goroutines
    for t in stress-*.trace; do
        [ -e "$t" ] || continue
        dump "$t" > /dev/null 2>&1 || fail "go 1.23 tool trace -d=1 $t: $(tail -n 2 "$t.d1.err" | tr '\n' ' ')"
        total=$((total + $(count "$t.sum" "$created_key")))
        # The tracer's own reading (ctrace_read_trace on the program's
        # reader thread) is never traced: an event written while it holds
        # the output queue's lock can deadlock with the advancer.  A CPU
        # sample there is no such event: the reader thread does spend CPU
        # in it (freeing the buffers it returned: munmap), and the
        # profiler (100 Hz by default) rightly shows it -- CI saw 2 in 30
        # rounds once.
        read -r ev sm < <(awk -F'\t' '$1 == "stackfn" && $3 ~ /read_trace/ { if ($2 == "StackSample") s += $4; else e += $4 }
                                     END { print e + 0, s + 0 }' "$t.sum")
        inreader=$((inreader + ev)) samplesinreader=$((samplesinreader + sm))
        # (a region begun before the start may end in the trace: Go's parser
        # takes it as begun before the trace, so ends may exceed begins)
    done
    expect ge 100 "threads created (NotExist->Runnable) over all stress traces" "$total"
    expect eq 0 "events other than CPU samples with the tracer's reader (read_trace) on their stack" "$inreader"
    echo "info: CPU samples with read_trace on their stack: $samplesinreader"
    ;;
sigkill)
    t=killed.trace
    CTRACE_PERIOD=100ms "$bin" "$t" > child.out 2> child.err &
    pid=$!
    for i in $(seq 100); do grep -q tracing child.out 2>/dev/null && break; sleep 0.05; done
    check "the child started tracing" grep -q tracing child.out
    sleep 1.2
    kill -KILL $pid 2>/dev/null
    { wait $pid; } 2>/dev/null; rc=$?
    expect eq 137 "child's exit status (killed by SIGKILL)" "$rc"
    [ -s child.err ] && { echo "--- child stderr:"; tail -n 20 child.err; }
    check "the killed child left a trace" test -s "$t"
    ls -l "$t" 2>&1
    "$gencut" "$t" cut.trace | tee gencut.out
    gens=$(awk '/^complete:/ {print $2}' gencut.out)
    expect ge 5 "complete generations in the killed child's trace (100 ms generations, 1.2 s)" "${gens:-0}"
    # Go 1.23 reads the complete generations of the file as it is.
    rc=0; "$GO123" tool trace -d=1 "$t" > raw.d1 2> raw.err || rc=$?
    echo "go 1.23 tool trace -d=1 on the killed trace: exit $rc, $(grep -c '^M=' raw.d1) events; $(tail -n1 raw.err)"
    # Cut after the last complete generation, both parsers accept it.
    validate cut.trace && dump cut.trace
    s=cut.trace.sum
    show "$s"
    expect_key "$s" ge 10 region busy
    expect_key "$s" ge 10 log busy
    expect_key "$s" ge 4 goroutines
    expect ge "$(count "$s" events)" "events Go 1.23 prints from the uncut killed trace (at least the cut trace's)" "$(grep -c '^M=' raw.d1)"
    # The tool is part of the build (src/tools): missing, it is a failure.
    rc=0; "$ctrace_tool" check "$t" > check.out 2>&1 || rc=$?
    echo "ctrace check on the killed trace: exit $rc: $(head -c 300 check.out)"
    check "ctrace check accepts the cut trace" "$ctrace_tool" check cut.trace
    ;;
fork)
    export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}die_after_fork=0"
    run_prog
    validate fork-parent.trace && dump fork-parent.trace
    s=fork-parent.trace.sum
    show "$s"
    expect_key "$s" eq 1 region before-fork
    expect_key "$s" eq 1 region after-fork
    expect_key "$s" ge 10 region parent-bg
    expect_key "$s" eq 0 region child-region
    expect_key "$s" eq 0 task child-task
    expect_key "$s" eq 0 log child
    expect_key "$s" eq 0 region child-own
    check "no child event text in the parent's trace" bash -c '! grep -q "child event" fork-parent.trace.d1'
    if [ "${CTRACE_SANITIZE:-}" = thread ]; then
        # fork_test.c: TSan cannot start threads after a multi-threaded fork.
        echo "info: the child's own trace is not tried under ThreadSanitizer"
    else
        validate fork-child.trace && dump fork-child.trace
        s=fork-child.trace.sum
        show "$s"
        expect_key "$s" eq 1 region child-own
        expect_key "$s" eq 0 region parent-bg
        expect_key "$s" eq 0 region child-region
        expect_key "$s" eq 0 region before-fork
    fi
    ;;
fork_storm)
    # 2000 forks while 4 threads log without pause: no child may crash or
    # hang (the program kills and counts a hung child).
    export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}die_after_fork=0"
    run_prog "${FORK_STORM_FORKS:-2000}"
    ;;
thread_churn)
    # 12 800 short threads while CPU samples are taken: memory bounded
    # (the program checks its peak RSS), the trace whole.
    run_prog churn.trace
    validate churn.trace
    ;;
crash|exit_paths)
    # $2 links libctrace.so, $3 libctrace.a, $4 no ctrace (reference and
    # runner: "status 0x..." is the raw wait status, with the core flag).
    shared=$2 static=$3 plain=$4
    if [ $name = crash ]; then modes="segv abort assert term handler badptr"; else modes="return exit _exit"; fi
    ulimit -c unlimited 2> /dev/null || true # same limit for both runs: same core flag
    # Under a sanitizer its own handlers would catch the crashes (in both
    # runs) and exit without the default action: test ours.  TSan would
    # also fail the exit of a program that leaves threads running.
    sig_opts=handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}$sig_opts"
    export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}$sig_opts:report_thread_leaks=0"
    for lib in shared static; do
        prog=$shared; [ $lib = static ] && prog=$static
        for m in $modes; do
            t=$lib-$m.trace
            "$plain" run 120 "$plain" "$m" none.trace > ref-$m.out 2> ref-$m.err
            "$plain" run 120 "$prog" "$m" "$t" > got-$lib-$m.out 2> got-$lib-$m.err
            rm -f core core.*
            want=$(grep -E '^status|^hung' ref-$m.out) got=$(grep -E '^status|^hung' got-$lib-$m.out)
            check "$lib/$m: the process did not hang" test "$got" != hung
            check "$lib/$m: dies as without ctrace ($want; traced: $got)" test "$want" = "$got"
            check "$lib/$m: same output as without ctrace" cmp -s ref-$m.out got-$lib-$m.out
            [ "$want" = "$got" ] || { echo "--- stderr:"; tail -n 20 got-$lib-$m.err; }
            if [ $lib = static ] && [ $m = _exit ] && [ -n "${CTRACE_SANITIZE:-}" ]; then
                # The sanitizer runtime, linked before libctrace.a, defines
                # _exit first: the archive's is not linked (include/ctrace.h).
                echo "info: static/_exit trace not checked under a sanitizer"
                continue
            fi
            if [ $lib = shared ] && [ $m = _exit ] && [ "${CTRACE_TEST_NO_INTERPOSE:-0}" = 1 ]; then
                # The TSan build has no interposers (docs/ARCHITECTURE.md).
                echo "info: shared/_exit trace not checked without interposers"
                continue
            fi
            if [ $m = handler ] && { [ $lib = static ] || [ "${CTRACE_TEST_NO_INTERPOSE:-0}" = 1 ]; }; then
                # Without interposers (libctrace.a, the TSan build) a
                # program's handler replaces ours for good (include/ctrace.h).
                continue
            fi
            validate "$t" && dump "$t"
            expect_key "$t.sum" ge 1 log crash
            if [ -x "$ctrace_tool" ]; then
                check "$lib/$m: ctrace check accepts $t" "$ctrace_tool" check -q "$t"
            fi
        done
    done
    ;;
foreign)
    run_prog
    tid=$(sed -n 's/^spinner tid \([0-9]*\)$/\1/p' prog.out)
    validate foreign.trace && dump foreign.trace
    s=foreign.trace.sum
    show "$s"
    # ~600 ms of the spinner's CPU at 100 Hz, on a loaded machine.
    expect ge 15 "CPU samples on the spinner (M=$tid), a thread that never calls the tracer" \
        "$(grep -c "^M=$tid .*StackSample" foreign.trace.d1)"
    expect ge 15 "samples with foreign_spin on their stack" "$(count "$s" samplefn foreign_spin)"
    validate foreign-cycle.trace
    ;;
id_caches)
    run_prog
    if validate id-caches.trace; then
        dump id-caches.trace
        awk -f "$CTRACE_SRC/tests/integration/id_caches.awk" id-caches.trace.d1 > id-caches.checks
        while read -r verdict what; do
            case $verdict in
            ok) ok "$what" ;;
            FAIL) fail "$what" ;;
            *) echo "$verdict $what" ;;
            esac
        done < id-caches.checks
        expect ge 12 "checks made on id-caches.trace" "$(grep -c '^ok\|^FAIL' id-caches.checks)"
    fi
    ;;
task_ids)
    run_prog
    for i in 1 2 3; do
        t=task-ids-$i.trace
        validate "$t" && dump "$t" && awk -f "$CTRACE_SRC/tests/integration/task_ids.awk" "$t.d1" > "$t.ids"
    done
    v() { awk -v k="$2" '$1 == k { print $2 }' "task-ids-$1.trace.ids"; }
    expect eq 2 "trace 1: tasks begun" "$(v 1 begins)"
    expect eq 1 "trace 1: id of old-a (numbering starts at 1)" "$(v 1 id_old-a)"
    expect eq "$(v 1 id_old-a)" "trace 1: parent of old-b is old-a" "$(v 1 parent_old-b)"
    expect eq 6001 "trace 2: tasks begun (2 x 3000 bulk + new-c)" "$(v 2 begins)"
    expect eq 0 "trace 2: ids begun twice" "$(v 2 dup)"
    expect le 8192 "trace 2: largest id (numbering restarted, blocks of 1024 per thread)" "$(v 2 maxid)"
    old=$(v 2 id_unnamed)
    check "trace 2: old-a (begun in trace 1) is ended, with an id of its own ($old)" test -n "$old"
    expect eq 0 "trace 2: old-a's id is not the id of a task begun in trace 2" "$(v 2 old_aliased)"
    expect ge 1099511627776 "trace 2: old-a's id is outside this trace's numbering (>= 2^40)" "${old:-0}"
    expect eq "${old:-x}" "trace 2: parent of new-c is old-a" "$(v 2 parent_new-c)"
    expect eq 1 "trace 2: old-a's region and log carry one task id" "$(v 2 oldrefs)"
    expect eq "${old:-x}" "trace 2: that id is old-a's" "$(v 2 oldref)"
    expect eq 1 "trace 3: tasks begun" "$(v 3 begins)"
    expect eq 1 "trace 3: id of third (numbering restarted)" "$(v 3 id_third)"
    ;;
current_task)
    run_prog
    t=current-task.trace
    validate "$t" && dump "$t"
    s=$t.sum
    show "$s"
    expect_key "$s" eq 1 task request
    expect_key "$s" eq 1 taskend request
    # key=value pairs given at the begin: logs in the task, on its page.
    expect_key "$s" eq 1 logtask request-id request
    expect_key "$s" eq 1 logtask user request
    expect_key "$s" eq 0 log skipped
    check "request-id=r-42 kept" grep -q 'Category="request-id" Message="r-42"' "$t.d1"
    # Task 0 is the current task: region, log, logf, parent.
    expect_key "$s" eq 1 regiontask cur-region request
    expect_key "$s" eq 1 logtask cur-log request
    expect_key "$s" eq 1 logtask cur-logf request
    expect_key "$s" eq 1 taskchild other request
    # An explicit task wins over the current one.
    expect_key "$s" eq 1 logtask explicit-log other
    # Length-taking forms: the names cut at the given length.
    expect_key "$s" eq 1 regiontask len-region request
    expect_key "$s" eq 1 logtask len-log request
    check "log_n message cut at its length" grep -q 'Category="len-log" Message="message"' "$t.d1"
    expect_key "$s" eq 1 taskchild len-task request
    # CTRACE_TASK: a child of the current task, current inside its block.
    expect_key "$s" eq 1 taskchild scoped request
    expect_key "$s" eq 1 regiontask in-scoped scoped
    # Workers adopt the job's task.
    expect_key "$s" eq 2 taskchild job request
    expect_key "$s" eq 2 regiontask work job
    expect_key "$s" eq 2 regiongs work
    expect_key "$s" eq 2 logtask corr job
    # No current task: no task.
    expect_key "$s" eq 1 region bg-region
    check "bg-region is in no task (Task=0)" grep -q 'RegionBegin .* Task=0 Type="bg-region"' "$t.d1"
    # Correlation: what the program was told is what the trace shows.
    expect eq 2 "corr logs whose G and Task are the ids the thread read" "$(awk '
        / Log / && / Category="corr"/ {
            g = $3; sub(/^G=/, "", g)
            match($0, / Task=[0-9]+/); tk = substr($0, RSTART + 6, RLENGTH - 6)
            if ($0 ~ ("Message=\"g=" g " task=" tk "\"")) n++
        } END { print n + 0 }' "$t.d1")"
    want=$(awk '$1 == "request-id-in-trace" { print $2 }' prog.out)
    check "ctrace_task_id(request) = ${want:-?} is the TaskBegin's ID" \
        grep -q "TaskBegin .* ID=${want:-x} .*Type=\"request\"" "$t.d1"
    # Every exporter keeps key=value logs (category and message): the
    # formats are the ones `ctrace export --help` lists (a file each, or a
    # directory of tables), perfetto and chrome at least.
    fmts=$("$ctrace_tool" export --help 2>&1 | sed -n 's/^usage: ctrace export --format \([^ ]*\).*/\1/p' | tr '|' ' ')
    for need in perfetto chrome; do
        case " $fmts " in *" $need "*) ;; *) fail "ctrace export --help does not list $need ($fmts)" ;; esac
    done
    for fmt in $fmts; do
        if "$ctrace_tool" export --format $fmt -o "$t.$fmt" "$t" > export.log 2>&1; then
            ok "ctrace export --format $fmt"
            check "$fmt export keeps request-id" grep -raq 'request-id' "$t.$fmt"
            check "$fmt export keeps r-42" grep -raq 'r-42' "$t.$fmt"
        else
            fail "ctrace export --format $fmt: $(tail -n 2 export.log | tr '\n' ' ')"
        fi
    done
    check "chrome export: an instant with category request-id and message r-42" \
        grep -q '"name":"request-id".*"args":{"category":"request-id","message":"r-42","task":' "$t.chrome"
    ;;
trace_file)
    run_prog
    validate mode.trace
    validate existing.trace
    ;;
nonblock_fd)
    run_prog
    if validate nonblock.trace; then
        dump nonblock.trace
        want=$(sed -n 's/^logs \([0-9]*\)$/\1/p' prog.out)
        expect eq "${want:-x}" "every log reached the slow non-blocking reader" "$(count nonblock.trace.sum log nb)"
    fi
    ;;
region_transient)
    run_prog transient
    if validate transient.trace; then
        dump transient.trace
        s=transient.trace.sum
        show "$s"
        for r in outer req-7 level-0 level-1 level-2; do
            expect_key "$s" eq 1 region "$r"
            expect_key "$s" eq 1 regionend "$r"
        done
        expect_key "$s" eq 0 region other
        expect_key "$s" eq 0 regionend other
    fi
    ;;
region_handle)
    run_prog handle
    if validate handle.trace; then
        dump handle.trace
        s=handle.trace.sum
        show "$s"
        for r in handle-a handle-outer handle-inner cross scope-0 scope-1 scope-2 after-big; do
            expect_key "$s" eq 1 region "$r"
            expect_key "$s" eq 1 regionend "$r"
        done
        expect_key "$s" eq 0 regionend overwritten
        expect_key "$s" eq 0 regionend scribbled
        expect_key "$s" eq 3 log scope
    fi
    ;;
fd_cloexec)
    run_prog
    validate fds.trace
    ;;
thread_drop)
    run_prog
    if validate drop.trace; then
        dump drop.trace
        s=drop.trace.sum
        show "$s"
        expect_key "$s" eq 1 region kept-worker
        expect_key "$s" eq 1 regionend kept-worker
        expect_key "$s" eq 0 region dropped-worker
        expect_key "$s" eq 0 region dropped-main
    fi
    ;;
restart_counts)
    # Every task, region and log a program emits inside a trace is in that
    # trace, over many start/stop cycles of one process (both API levels):
    # counted exactly from `ctrace dump`; the signal handler's logs and
    # blocks, which may land inside another event and be dropped, must be
    # short by exactly ctrace_get_stats' events_dropped.  Go's parsers referee
    # two of the traces.
    [ -x "$ctrace_tool" ] || die "no ctrace tool at $ctrace_tool"
    # The SIGUSR1 handler calls ctrace_log (restart_counts.c says why that
    # is safe there); TSan would report its allocation.
    export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}report_signal_unsafe=0"
    run_prog "${RESTART_CYCLES:-24}" 300
    n=0 short=0 bad=0
    while read -r kw f rest; do
        [ "$kw" = expect ] || continue
        n=$((n + 1))
        declare -A want=()
        for kv in $rest; do want[${kv%%=*}]=${kv#*=}; done
        # The dump is read as it is written: kept, 24 of them fill GBs.
        counts=$("$ctrace_tool" dump "$f" 2> "$f.dump.err" | awk '
            $2 == "TaskBegin" && / name="req"/ { tb++ }
            $2 == "TaskEnd" && / name="req"/ { te++ }
            $2 == "RegionBegin" && / name="req-/ { rb++ }
            $2 == "RegionEnd" && / name="req-/ { re++ }
            $2 == "Log" && / category="req"/ { lg++ }
            $2 == "Log" && / category="sig"/ { sg++ }
            $2 == "StateTransition" && /Running->Waiting reason="sig-wait"/ { sb++ }
            END { print tb + 0, te + 0, rb + 0, re + 0, lg + 0, sg + 0, sb + 0 }') || {
            fail "$f: ctrace dump: $(head -c 200 "$f.dump.err")"; bad=$((bad + 1)); continue; }
        read -r tb te rb re lg sg sb <<< "$counts"
        got="tasks=$tb/$te regions=$rb/$re logs=$lg"
        exp="tasks=${want[tasks]}/${want[tasks]} regions=${want[regions]}/${want[regions]} logs=${want[logs]}"
        if [ "$got" != "$exp" ]; then
            fail "$f: request events (begins/ends): got $got, emitted $exp (events_dropped ${want[dropped]})"
            bad=$((bad + 1))
        fi
        # Each handler log or block missing is a counted drop, and nothing
        # else is (no memory cap here; the tracer's own waits are no events).
        if [ $((sg + sb + want[dropped])) -ne $((2 * want[signals])) ]; then
            fail "$f: signal handler: $sg logs + $sb blocks in the trace + ${want[dropped]} counted as dropped, want 2 x ${want[signals]} runs"
            bad=$((bad + 1))
        fi
        [ $((sg + sb)) -lt $((2 * want[signals])) ] && short=$((short + 1))
    done < prog.out
    expect ge 20 "traces checked (start/stop cycles)" "$n"
    expect eq 0 "traces whose counts do not add up" "$bad"
    echo "traces where some of the handler's events were dropped: $short of $n"
    # One trace of each API level (Go's parsers are slow on a busy machine).
    validate restart-00.trace
    validate restart-01.trace
    ;;
*)
    die "unknown test $name"
    ;;
esac
finish
