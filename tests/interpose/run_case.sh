#!/usr/bin/env bash
# run_case.sh CASE - one `ctrace run` test: the workload runs untraced, then
# traced; stdout and exit status must be identical; every trace file must
# pass Go 1.22's and 1.23's parsers (scripts/gotrace-validate.sh) and
# `ctrace check`; the main trace must contain what the workload does
# (counted from `go tool trace -d=1`).
#
# Environment (set by CMake): CTRACE (the ctrace tool), CTRACE_SRC (source
# tree), WORK (scratch directory), EX_DIR (examples/interpose binaries).
# Exits 77 (skipped) when a tool (Go included) is missing, unless CI is set
# (then fails).
# Loopback networking only; every step is bounded by `timeout`.
set -uo pipefail

case_name=$1
: "${CTRACE:?}" "${CTRACE_SRC:?}" "${WORK:?}"
# Every case checks its traces with Go 1.22's and 1.23's parsers.
. "$CTRACE_SRC/tests/go_toolchain.sh"
need_go 22 23
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK" || exit 1

fail() { echo "FAIL [$case_name]: $*" >&2; exit 1; }
need() {
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 && continue
        if [ -n "${CI:-}" ]; then fail "$t not installed (scripts/install-deps-run.sh)"; fi
        echo "SKIP [$case_name]: $t not installed (scripts/install-deps-run.sh)"; exit 77
    done
}
need timeout

# run_pair NAME EXPECTED_RC CMD... : untraced then traced; same stdout, same rc.
# RUN_OPTS: more `ctrace run` options (e.g. --period).
RUN_OPTS=()
run_pair() {
    local name=$1 want=$2; shift 2
    timeout 120 "$@" > "$name.plain.out" 2> "$name.plain.err"; local rc1=$?
    timeout 120 "$CTRACE" run -q "${RUN_OPTS[@]}" -o "$WORK/$name.%p.trace" -- "$@" > "$name.traced.out" 2> "$name.traced.err"
    local rc2=$?
    [ "$want" = any ] || [ "$rc1" = "$want" ] || fail "$name: untraced exit $rc1, expected $want"
    [ "$rc1" = "$rc2" ] || { cat "$name.traced.err" >&2; fail "$name: exit $rc1 untraced, $rc2 traced"; }
    cmp -s "$name.plain.out" "$name.traced.out" || fail "$name: stdout differs traced vs untraced"
    echo "ok: $name: same stdout ($(wc -c < "$name.plain.out") bytes), exit $rc1"
}

# validate NAME: every trace of the run passes both parsers and ctrace check.
validate() {
    local name=$1 n=0
    for f in "$WORK/$name".*.trace; do
        [ -e "$f" ] || fail "$name: no trace written"
        bash "$CTRACE_SRC/scripts/gotrace-validate.sh" "$f" >/dev/null || {
            bash "$CTRACE_SRC/scripts/gotrace-validate.sh" "$f" >&2; fail "$name: Go parsers reject $f"; }
        "$CTRACE" check -q "$f" >/dev/null 2>"$WORK/check.err" || {
            cat "$WORK/check.err" >&2; fail "$name: ctrace check rejects $f"; }
        n=$((n + 1))
    done
    echo "ok: $name: $n trace file(s) pass go 1.22, go 1.23 and ctrace check"
}

# main_trace NAME: the largest trace of the run (the workload's own process).
main_trace() { ls -S "$WORK/$1".*.trace | head -n1; }

# dump FILE: go tool trace -d=1 into FILE.d1
dump() { GOTOOLCHAIN=local "$GO123" tool trace -d=1 "$1" > "$1.d1" 2>/dev/null; }

# expect FILE LABEL REGEX MIN: at least MIN lines of FILE.d1 match REGEX.
expect() {
    local n; n=$(grep -cE -- "$3" "$1.d1")
    [ "$n" -ge "$4" ] || fail "$(basename "$1"): $2: $n < $4 (pattern $3)"
    echo "ok: $(basename "$1"): $2 = $n (>= $4)"
}

CREATE='NotExist->Runnable'
SYSCALL='Running->Syscall'
SYNC='Running->Waiting.*|Reason="sync'
COND='Reason="sync: pthread_cond_'
MUTEX='Reason="sync: pthread_mutex_'
NET='Reason="network"'
SLEEP='Reason="sleep"'
SAMPLE='StackSample'

make_data() { # 20 MB of compressible, deterministic text
    [ -f data20 ] && return
    seq 1 3000000 | awk '{print $1, $1*7 % 1000, "lorem ipsum dolor", $1 % 97}' | head -c 20000000 > data20
}

case $case_name in
pigz)
    need pigz; make_data
    run_pair pigz 0 pigz -p 2 -c data20
    validate pigz; t=$(main_trace pigz); dump "$t"
    expect "$t" "threads created" "$CREATE" 2
    expect "$t" "condition-variable waits" "$COND" 1
    expect "$t" "file syscalls" "$SYSCALL" 10
    expect "$t" "CPU samples (~0.4 s of CPU at 100 Hz)" "$SAMPLE" 5
    ;;
zstd)
    need zstd; make_data
    run_pair zstd 0 zstd -q -T2 -3 -c data20
    validate zstd; t=$(main_trace zstd); dump "$t"
    expect "$t" "threads created" "$CREATE" 2
    expect "$t" "condition-variable waits" "$COND" 1
    ;;
xz)
    need xz; make_data
    run_pair xz 0 xz -q -T2 -1 -c data20
    validate xz; t=$(main_trace xz); dump "$t"
    expect "$t" "threads created" "$CREATE" 2
    expect "$t" "condition-variable waits" "$COND" 1
    expect "$t" "file syscalls" "$SYSCALL" 10
    # liblzma starts its workers with every signal blocked: ctrace unblocks
    # SIGPROF in them (the program has no SIGPROF handler), else no samples.
    expect "$t" "CPU samples (~0.3 s of CPU at 100 Hz)" "$SAMPLE" 5
    ;;
sqlite3)
    need sqlite3
    sql="PRAGMA threads=2; PRAGMA cache_size=-2000;
CREATE TABLE t(a INTEGER, b TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 300000)
INSERT INTO t SELECT (x*7919) % 300007, printf('row-%d', x) FROM c;
CREATE INDEX ta ON t(a); CREATE INDEX tb ON t(b);
SELECT count(*), sum(a) FROM t;"
    rm -f db1 db2
    run_sqlite() { rm -f "$1"; sqlite3 "$1" "$sql"; }
    export -f run_sqlite; export sql
    timeout 120 sqlite3 db1 "$sql" > sq.plain.out; rc1=$?
    timeout 120 "$CTRACE" run -q -o "$WORK/sqlite3.%p.trace" -- sqlite3 db2 "$sql" > sq.traced.out; rc2=$?
    [ $rc1 = 0 ] && [ $rc2 = 0 ] || fail "sqlite3: exit $rc1 untraced, $rc2 traced"
    cmp -s sq.plain.out sq.traced.out || fail "sqlite3: stdout differs"
    echo "ok: sqlite3: same stdout ($(cat sq.plain.out)), exit 0"
    validate sqlite3; t=$(main_trace sqlite3); dump "$t"
    expect "$t" "sorter threads created" "$CREATE" 1
    expect "$t" "file syscalls" "$SYSCALL" 10
    expect "$t" "lock/condition waits of the sorter threads" 'Reason="sync' 1
    expect "$t" "CPU samples (index build, ~0.3 s of CPU)" "$SAMPLE" 5
    ;;
redis)
    need redis-server redis-benchmark redis-cli python3
    free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
    # serve TRACED? NAME: start the server, drive it, shut it down; sets rc, rps.
    serve() {
        local traced=$1 name=$2 port; port=$(free_port)
        local args=(redis-server --bind 127.0.0.1 --port "$port" --io-threads 2 --io-threads-do-reads yes
                    --save "" --appendonly no --daemonize no --logfile "$WORK/$name.log" --dir "$WORK")
        if [ "$traced" = 1 ]; then
            timeout 280 "$CTRACE" run -q -o "$WORK/$name.%p.trace" -- "${args[@]}" > "$name.out" 2>&1 &
        else
            timeout 280 "${args[@]}" > "$name.out" 2>&1 &
        fi
        local spid=$!
        for _ in $(seq 100); do redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
        # A bound on a hang, not on speed: a loaded machine has been seen
        # to take over 60 s for the 40000 requests of the untraced run.
        timeout 240 redis-benchmark -h 127.0.0.1 -p "$port" -n 20000 -c 20 -t set,get -q > "$name.bench" 2>&1 \
            || { cat "$name.bench" >&2; fail "$name: redis-benchmark failed"; }
        redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1
        wait $spid; rc=$?
        echo "$name: exit $rc; $(tr '\r' '\n' < "$name.bench" | grep -E 'requests per second' | tr '\n' ' ')"
    }
    serve 0 redis_plain; rc1=$rc
    serve 1 redis; rc2=$rc
    [ "$rc1" = "$rc2" ] || fail "redis: exit $rc1 untraced, $rc2 traced"
    echo "ok: redis-server: same exit status $rc1"
    validate redis; t=$(main_trace redis); dump "$t"
    expect "$t" "threads created" "$CREATE" 2
    expect "$t" "network waits" "$NET" 1
    expect "$t" "lock/condition waits (I/O threads)" 'Reason="sync' 1
    expect "$t" "CPU samples" "$SAMPLE" 10
    ;;
fork_exec)
    run_pair fork_exec 0 "$EX_DIR/interpose_fork_exec"
    grep -q "child C (vfork) exit 3" fork_exec.traced.out || fail "fork_exec: vfork child"
    grep -q "child D (vfork, exec failed) exit 5" fork_exec.traced.out || fail "fork_exec: failed exec"
    validate fork_exec
    n=$(ls "$WORK"/fork_exec.*.trace | wc -l)
    # parent, forked A, exec'd A (PID-1), forked B, exec'd C, exec'd E
    [ "$n" -ge 6 ] || fail "fork_exec: $n trace files, expected 6 (parent, A, A-1, B, C, E)"
    ls "$WORK"/fork_exec.*-1.trace >/dev/null 2>&1 || fail "fork_exec: no trace of the exec'd image (PID-1)"
    echo "ok: fork_exec: $n trace files (parent, forked, exec'd, vfork+exec'd, spawned)"
    t=$(ls "$WORK"/fork_exec.*-1.trace | head -n1); dump "$t"
    expect "$t" "exec'd image: thread created" "$CREATE" 1
    expect "$t" "exec'd image: sleep" "$SLEEP" 1
    # The forked child B burns CPU on the thread that forked: its own trace
    # must have CPU samples (the thread's CPU timer is armed in the child).
    bpid=$(sed -n 's/^child B pid \([0-9]*\)$/\1/p' fork_exec.traced.err)
    [ -n "$bpid" ] && [ -f "$WORK/fork_exec.$bpid.trace" ] || fail "fork_exec: no trace of forked child B"
    dump "$WORK/fork_exec.$bpid.trace"
    expect "$WORK/fork_exec.$bpid.trace" "forked child: CPU samples" "$SAMPLE" 5
    # The parent: it exits last, so its trace is the last one finished.
    p=$(ls -t "$WORK"/fork_exec.*.trace | head -n1); dump "$p"
    expect "$p" "parent: waitpid syscalls" "$SYSCALL" 5
    expect "$p" "parent: final sleep after the vfork children" "$SLEEP" 1
    ;;
signals)
    run_pair signals 0 "$EX_DIR/interpose_signals"
    validate signals; t=$(main_trace signals); dump "$t"
    # ~500 ms of CPU, part of it under the program's own SIGPROF handler:
    # ctrace's samples keep flowing (100 Hz).
    expect "$t" "CPU samples" "$SAMPLE" 15
    ;;
selfkill)
    # Every signal whose default action kills, sent or from the kernel:
    # before USR1, USR2, ALRM, VTALRM and XCPU had a stand-in, the trace
    # ended at its last complete generation (here: none, no events).
    # SIGKILL has no stand-in: sent by the program to itself (kill, raise)
    # the wrapper finishes the trace first (it was cut: no generation).
    for s in TERM INT HUP PIPE USR1 USR2 ALRM VTALRM XCPU KILL KILLRAISE; do
        want=$((128 + $(kill -l "${s%RAISE}")))
        run_pair "selfkill_$s" "$want" "$EX_DIR/interpose_selfkill" "$s"
        validate "selfkill_$s"
        t=$(main_trace "selfkill_$s"); dump "$t"
        expect "$t" "SIG$s: threads created" "$CREATE" 3
    done
    ;;
earlycrash)
    # A crash first thing in main, on one CPU: the tracer's finisher thread
    # has not run yet; the dying thread must still hand it the finish (it
    # cut the file to its header, or to nothing, instead).
    need taskset
    for m in segv abort; do
        case $m in segv) want=139;; abort) want=134;; esac
        run_pair "earlycrash_$m" "$want" taskset -c 0 "$EX_DIR/interpose_earlycrash" "$m"
        validate "earlycrash_$m"
    done
    ;;
fdclose)
    # The program closes or redirects every descriptor, the trace's too:
    # the trace must stay whole, with the work done after it.
    for m in close close_range closefrom dup2; do
        run_pair "fdclose_$m" 0 "$EX_DIR/interpose_fdclose" "$m"
        validate "fdclose_$m"; t=$(main_trace "fdclose_$m"); dump "$t"
        expect "$t" "$m: threads created (before and after)" "$CREATE" 2
        expect "$t" "$m: sleeps (before and after)" "$SLEEP" 4
    done
    # libunwind's own pipe (its address checks while the tracer walks
    # stacks) never among the program's numbers: not listed below 100 (the
    # same stdout as untraced), and a byte in the program's pipe, which
    # had libunwind's numbers, still there after 20 threads.
    CTRACE_STACKS=unwind run_pair fdclose_unwind 0 "$EX_DIR/interpose_fdclose" unwind
    validate fdclose_unwind
    # A double close racing the tracer's own opens (one per thread it
    # registers): the second close fails with EBADF every time, as untraced.
    run_pair fdclose_race 0 "$EX_DIR/interpose_fdclose" race
    validate fdclose_race
    ;;
exitterm)
    # Workers sent SIGTERM while they exit (a process pool): every
    # worker's trace whole, with its threads.
    run_pair exitterm 0 "$EX_DIR/interpose_exitterm" 4
    validate exitterm
    n=$(ls "$WORK"/exitterm.*.trace | wc -l)
    [ "$n" -ge 5 ] || fail "exitterm: $n trace files, expected 5 (the parent and 4 workers)"
    # The workers' traces hold their threads (the parent forks, no thread).
    with=0
    for t in "$WORK"/exitterm.*.trace; do
        dump "$t"
        [ "$(grep -cE "$CREATE" "$t.d1")" -ge 1 ] && with=$((with + 1))
    done
    [ "$with" -ge 4 ] || fail "exitterm: $with traces with the worker's threads, expected 4"
    echo "ok: exitterm: $n traces, each whole, $with with a worker's threads"
    ;;
waitsets)
    # Readiness waits: on pipes and eventfds they are synchronization waits
    # (a thread or process wakes another), on sockets network waits.
    run_pair waitsets 0 "$EX_DIR/interpose_waitsets"
    validate waitsets; t=$(main_trace waitsets); dump "$t"
    for w in poll select epoll_wait; do
        n=$(grep -cE "Reason=\"sync: $w\"" "$t.d1")
        [ "$n" = 1 ] || fail "waitsets: $n \"sync: $w\" waits, expected 1 (the wait on a pipe or eventfd)"
    done
    echo "ok: waitsets: one synchronization wait each for poll, select, epoll_wait"
    expect "$t" "network waits (poll, select, epoll_wait on a socket)" "$NET" 3
    n=$(grep -cE "$NET" "$t.d1")
    [ "$n" -le 3 ] || fail "waitsets: $n network waits, expected 3 (the pipe and eventfd waits are not)"
    ;;
futex)
    # Waits made with syscall(SYS_futex) (Rust's locks, libstdc++'s atomic
    # waits): a block when the call has to wait, none when the word differs;
    # syscall() itself returns and sets errno as libc's does.
    run_pair futex 0 "$EX_DIR/interpose_futexwait"
    grep -q "^word differs: -1 Resource temporarily unavailable" futex.traced.out || fail "futex: EAGAIN not returned"
    grep -q "^absolute deadline: -1 Connection timed out" futex.traced.out || fail "futex: six-argument wait"
    grep -q "^no such call: -1 Function not implemented" futex.traced.out || fail "futex: ENOSYS not returned"
    validate futex; t=$(main_trace futex); dump "$t"
    expect "$t" "futex waits" 'Reason="sync: futex"' 3
    n=$(grep -cE 'Reason="sync: futex"' "$t.d1")
    [ "$n" = 3 ] || fail "futex: $n futex blocks, expected 3 (the wait on a word that differs is none)"
    ;;
mainexit)
    # The main thread leaves with pthread_exit: the process ends, status 0,
    # when its last thread does, not kept alive by the tracer's threads
    # (it hung).  Generations of 1 ms: some end while no program thread
    # is left, before the exit, and must still be valid (an empty one was
    # rejected by Go's parser).
    RUN_OPTS=(--period 1ms)
    # rawexit: the main thread leaves through the exit system call (no
    # pthread_exit): the process ends with its last thread, status 0 (it
    # hung: only pthread_exit started the tracer's watch).
    for mode in workers alone fork rawexit; do
        run_pair "mainexit_$mode" 0 "$EX_DIR/interpose_mainexit" "$mode"
        validate "mainexit_$mode"
    done
    ;;
sandbox)
    # A program that enters a seccomp sandbox while a thread of its works:
    # strict mode in the main thread (then only read, write, exit), or a
    # filter on every thread that kills the process at any other system
    # call.  Same output and status traced; the trace ends, whole, where
    # the sandbox goes in, and says so on stderr.  (Before: the tracer's
    # own system calls killed the main thread in strict mode -- its output
    # lost, the process hung on the tracer's threads -- and the process,
    # by SIGSYS, in filter mode.)
    for mode in strict filter; do
        run_pair "sandbox_$mode" 0 "$EX_DIR/interpose_sandbox" "$mode"
        validate "sandbox_$mode"
        grep -q "^ctrace: the program enters a seccomp sandbox (.*), where the tracer cannot make its system calls: the trace ends here\$" "sandbox_$mode.traced.err" ||
            { cat "sandbox_$mode.traced.err" >&2; fail "sandbox $mode: no stderr line says the trace ends at the sandbox"; }
        echo "ok: sandbox $mode: the trace ends at the sandbox, with a line on stderr"
    done
    # exec: a filter that kills at any new thread, then an exec: the new
    # image, still sandboxed, must not start a trace or a flight recorder
    # (its thread).  Before: CTRACE_FLIGHT went on to it, and under
    # --flight the exec'd image died of SIGSYS.
    run_pair sandbox_exec 0 "$EX_DIR/interpose_sandbox" exec
    validate sandbox_exec
    RUN_OPTS=(--flight=1s)
    run_pair sandbox_exec_flight 0 "$EX_DIR/interpose_sandbox" exec
    RUN_OPTS=()
    grep -q "^the exec'd image ran in the sandbox\$" sandbox_exec_flight.traced.out ||
        fail "sandbox exec: the exec'd image did not run"
    ;;
privdrop)
    # A root program dropping privileges as setpriv does: PR_SET_KEEPCAPS,
    # setresuid, a capset raising CAP_SETGID on its one thread, setresgid.
    # glibc runs setresgid on every thread and aborts the process when it
    # fails on one; the tracer's threads lacked the capability, so the
    # traced program died of SIGABRT (setpriv itself too).  Now the trace
    # ends, whole, before the first set*id call made with capabilities the
    # tracer's threads do not share, with a line on stderr.
    [ "$(id -u)" = 0 ] || { echo "SKIP [$case_name]: needs root (drops privileges)"; exit 77; }
    run_pair privdrop 0 "$EX_DIR/interpose_privdrop"
    grep -q '^dropped to uid 65534/65534/65534 gid 65534/65534/65534, 0 supplementary groups$' privdrop.plain.out ||
        fail "privdrop: unexpected output $(cat privdrop.plain.out)"
    validate privdrop
    grep -q "^ctrace: the program calls setresuid after changing its own thread's capabilities" privdrop.traced.err ||
        { cat privdrop.traced.err >&2; fail "privdrop: no stderr line says where the trace ends"; }
    echo "ok: privdrop: the trace ends before setresuid, with a line on stderr"
    if command -v setpriv > /dev/null; then
        run_pair setpriv 0 setpriv --reuid=nobody --regid=nogroup --clear-groups id -u
        grep -qx 65534 setpriv.traced.out || fail "setpriv: id -u printed $(cat setpriv.traced.out)"
    fi
    ;;
userns)
    # unshare(CLONE_NEWUSER) and setns into a user namespace are refused
    # (EINVAL) to a multithreaded process, and the tracer's threads made
    # every traced one so: `unshare -r` failed ("unshare failed: Invalid
    # argument").  Now the trace ends before the call, the tracer's
    # threads joined, with a line on stderr; the exec'd command is traced.
    need unshare nsenter
    unshare -r true 2> /dev/null || { echo "SKIP [$case_name]: no user namespaces here (unshare -r true fails)"; exit 77; }
    run_pair userns_unshare 0 unshare -r id -u
    grep -qx 0 userns_unshare.traced.out || fail "unshare -r id -u printed $(cat userns_unshare.traced.out)"
    validate userns_unshare
    [ "$(ls "$WORK"/userns_unshare.*.trace | wc -l)" = 2 ] || fail "userns: not 2 traces (unshare's, then id's)"
    grep -q "^ctrace: the program calls unshare(CLONE_NEWUSER), which the kernel allows only a single-threaded process" userns_unshare.traced.err ||
        { cat userns_unshare.traced.err >&2; fail "unshare: no stderr line says where the trace ends"; }
    echo "ok: userns: unshare -r runs, its trace ends before the call, id is traced"
    unshare -r sleep 30 & holder=$!
    for _ in $(seq 100); do
        [ "$(readlink /proc/$holder/ns/user)" != "$(readlink /proc/self/ns/user)" ] && break
        sleep 0.05
    done
    run_pair userns_setns 0 nsenter -U -t "$holder" id -u
    kill "$holder"; wait "$holder" 2> /dev/null
    grep -qx 0 userns_setns.traced.out || fail "nsenter -U id -u printed $(cat userns_setns.traced.out)"
    validate userns_setns
    grep -q "^ctrace: the program calls setns into a user namespace" userns_setns.traced.err ||
        { cat userns_setns.traced.err >&2; fail "setns: no stderr line says where the trace ends"; }
    echo "ok: userns: nsenter -U runs, its trace ends before setns"
    ;;
exitgroup)
    # The process ends through the exit_group system call, no exit():
    # through syscall() the trace is finished first (it was cut); through
    # the raw instruction (as Go's runtime does) it cannot be, and ctrace
    # run says the trace is incomplete in one line (it said nothing).
    run_pair exitgroup_syscall 5 "$EX_DIR/interpose_exitgroup" syscall
    validate exitgroup_syscall
    run_pair exitgroup_raw 5 "$EX_DIR/interpose_exitgroup" raw
    grep -q "^ctrace: warning: the trace is incomplete: the program ended without an exit the tracer sees (a raw exit_group system call, as Go programs make)" exitgroup_raw.traced.err ||
        { cat exitgroup_raw.traced.err >&2; fail "exitgroup raw: no warning that the trace is incomplete"; }
    t=$(main_trace exitgroup_raw)
    "$CTRACE" check -q "$t" > /dev/null 2>&1 && fail "exitgroup raw: ctrace check accepts the cut trace $t"
    echo "ok: exitgroup raw: the cut trace is said incomplete"
    ;;
selfcount)
    # The program reads its own thread count from /proc (as Python 3.12+
    # does at each os.fork(), warning when it is above 1; Chromium's zygote
    # by /proc/self/task's link count, CHECKing it is single-threaded):
    # the tracer's threads are not counted (they were: a traced Python
    # warned, and failed under -W error; chromium died of SIGTRAP).  Same
    # output traced and untraced.
    run_pair selfcount 0 "$EX_DIR/interpose_selfcount"
    grep -q '^alone: stat 1, status 1, by pid 1, task links 1$' selfcount.plain.out ||
        fail "selfcount: unexpected output $(cat selfcount.plain.out)"
    validate selfcount
    ;;
daemonize)
    # daemon(3): glibc's parent leaves through an internal _exit; its trace
    # must be whole all the same (it had no complete generation).  Each
    # run's daemon is waited for (its pid file, then its end) before the
    # next run and the checks.
    wait_daemon() { # PIDFILE: bounded, 60 s (sanitizer builds on a loaded machine)
        local i pid
        for i in $(seq 1200); do [ -s "$1" ] && break; sleep 0.05; done
        pid=$(cat "$1" 2>/dev/null) || fail "daemonize: no daemon pid in $1"
        for i in $(seq 1200); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
        fail "daemonize: daemon $pid still running"
    }
    timeout 120 "$EX_DIR/interpose_daemonize" "$WORK/plain.pid" > daemonize.plain.out; rc1=$?
    wait_daemon "$WORK/plain.pid"
    timeout 120 "$CTRACE" run -q -o "$WORK/daemonize.%p.trace" -- "$EX_DIR/interpose_daemonize" "$WORK/traced.pid" > daemonize.traced.out; rc2=$?
    wait_daemon "$WORK/traced.pid"
    [ "$rc1" = 0 ] && [ "$rc2" = 0 ] || fail "daemonize: exit $rc1 untraced, $rc2 traced"
    cmp -s daemonize.plain.out daemonize.traced.out || fail "daemonize: stdout differs"
    validate daemonize
    n=$(ls "$WORK"/daemonize.*.trace | wc -l)
    [ "$n" = 2 ] || fail "daemonize: $n trace files, expected 2 (the parent and the daemon)"
    t="$WORK/daemonize.$(cat "$WORK/traced.pid").trace"; dump "$t"
    expect "$t" "the daemon's thread" "$CREATE" 1
    ;;
ctor_thread)
    run_pair ctor_thread 0 "$EX_DIR/interpose_ctor_thread"
    validate ctor_thread; t=$(main_trace ctor_thread); dump "$t"
    expect "$t" "condition-variable waits" "$COND" 10
    # Stacks symbolized (libdw, through the symbolizer prepared in the
    # background): the example's own frames with file and line.
    expect "$t" "frames with file:line" 'examples/interpose/ctor_thread\.c:[0-9]+$' 10
    ;;
rawthread)
    # A thread started by libc's own pthread_create (as jemalloc starts its
    # background threads): traced from its first call, and `ctrace stat`
    # names its group by its start function.  Before the fix its outermost
    # frame, glibc's __clone3, named it.
    run_pair rawthread 0 "$EX_DIR/interpose_rawthread"
    validate rawthread; t=$(main_trace rawthread); dump "$t"
    expect "$t" "condition-variable waits" "$COND" 10
    "$CTRACE" stat --json "$t" > "$WORK/rawthread.stat.json" || fail "rawthread: ctrace stat failed"
    grep -q '"start": "raw_worker"' "$WORK/rawthread.stat.json" ||
        fail "rawthread: no goroutine group \"raw_worker\": $(grep -o '"start": "[^"]*"' "$WORK/rawthread.stat.json" | tr '\n' ' ')"
    # Thread labels: the name every thread inherits is the program's cut to
    # 15 bytes by the kernel ("interpose_rawth"): no label repeats it.  A
    # name that begins with the program's is the thread's own: a copy of
    # the program named "rt" whose thread calls itself "rt-worker" shows it.
    # (Before: "interpose_rawth (tid N)" on every thread of a program with
    # a long name, and "tid N" for "rt-worker".)
    # (Dumps go to files: under pipefail, `dump | grep -q` fails whenever
    # grep quits at its match before dump has written everything.)
    "$CTRACE" dump "$t" > "$WORK/rawthread.dump" || fail "rawthread: ctrace dump failed"
    grep -q 'label="interpose_rawth' "$WORK/rawthread.dump" &&
        fail "rawthread: a label repeats the program's name: $(grep -o 'label="[^"]*"' "$WORK/rawthread.dump" | sort -u | tr '\n' ' ')"
    cp "$EX_DIR/interpose_rawthread" "$WORK/rt"
    "$CTRACE" run -q -o "$WORK/rtname.%p.trace" -- "$WORK/rt" rt-worker > /dev/null ||
        fail "rawthread: rt rt-worker failed under ctrace run"
    "$CTRACE" dump "$WORK"/rtname.*.trace > "$WORK/rtname.dump" || fail "rawthread: ctrace dump of rt's trace failed"
    grep -q 'label="rt-worker (tid [0-9]*)"' "$WORK/rtname.dump" ||
        fail "rawthread: the thread named rt-worker in program rt has no label of its own: $(grep -o 'label="[^"]*"' "$WORK/rtname.dump" | sort -u | tr '\n' ' ')"
    echo "ok: rawthread: thread labels (no inherited program name; rt-worker in rt)"
    ;;
owntrace)
    # A program linked with libctrace that starts a trace of its own
    # (examples/annotations: ctrace_start_file, exit 1 if refused) under
    # ctrace run: its start succeeds, the run's trace ends there whole,
    # with one line on stderr; both traces valid.  Then the same under
    # ctrace run --flight.  Before the fix the program's start was refused
    # (CTRACE_EBUSY) and it exited 1.
    [ -n "${ANNOTATIONS:-}" ] || { echo "skip: examples/annotations not built"; exit 77; }
    own=$WORK/own.trace
    timeout 120 "$CTRACE" run -o "$WORK/owntrace.%p.trace" -- "$ANNOTATIONS" "$own" \
        > owntrace.out 2> owntrace.err; rc=$?
    [ "$rc" = 0 ] || { cat owntrace.err >&2; fail "owntrace: the program exited $rc under ctrace run"; }
    grep -q "^ctrace: the program starts a trace of its own: the trace started from the environment ($WORK/owntrace\.[0-9]*\.trace) ends here\$" owntrace.err ||
        { cat owntrace.err >&2; fail "owntrace: no line on stderr says the run's trace ends"; }
    validate owntrace
    mv "$own" "$WORK/owntrace.own.trace"; validate owntrace
    dump "$WORK/owntrace.own.trace"
    expect "$WORK/owntrace.own.trace" "the program's own regions" ' RegionBegin .*Type="handle"' 3
    rm -f "$WORK"/owntrace.*.trace
    timeout 120 "$CTRACE" run --flight -o "$WORK/fl" -- "$ANNOTATIONS" "$own" \
        > owntrace.out 2> owntrace.err; rc=$?
    [ "$rc" = 0 ] || { cat owntrace.err >&2; fail "owntrace: the program exited $rc under ctrace run --flight"; }
    grep -q "^ctrace: the program starts a trace of its own: the flight recorder started from the environment stops here" owntrace.err ||
        { cat owntrace.err >&2; fail "owntrace: no line on stderr says the flight recorder stops"; }
    mv "$own" "$WORK/owntrace.flight.trace"; validate owntrace
    # Its own configuration too: ctrace_configure succeeds under ctrace run
    # (CTRACE_EBUSY before) and is the program's trace's: 50 ms
    # generations, where ctrace run's are 1 s.
    rm -f "$WORK"/owntrace.*.trace
    timeout 120 "$CTRACE" run -o "$WORK/owntrace.%p.trace" -- "$OWN_CONFIG" "$own" \
        > owntrace.out 2> owntrace.err; rc=$?
    [ "$rc" = 0 ] || { cat owntrace.err >&2; fail "owntrace: own_config exited $rc under ctrace run"; }
    mv "$own" "$WORK/owntrace.config.trace"; validate owntrace
    gens=$("$CTRACE" check "$WORK/owntrace.config.trace" | sed -n 's/.* \([0-9]*\) generations*$/\1/p')
    [ "${gens:-0}" -ge 5 ] || fail "owntrace: the program's trace has ${gens:-no} generations, want >= 5 (its 50 ms period)"
    echo "ok: owntrace: the program's configuration is its trace's ($gens generations)"
    ;;
semantics)
    run_pair semantics 0 "$SEMANTICS"
    validate semantics; t=$(main_trace semantics); dump "$t"
    expect "$t" "network waits" "$NET" 3
    expect "$t" "contended mutex" "$MUTEX" 1
    expect "$t" "sleeps" "$SLEEP" 3
    expect "$t" "syscalls" "$SYSCALL" 3
    ;;
cli)
    # ctrace run itself: exit codes, not-found, usage, signals forwarded.
    need perl
    "$CTRACE" run -q -- sh -c 'exit 7'; [ $? = 7 ] || fail "exit code not passed through"
    "$CTRACE" run -q -- /nonexistent/prog 2>/dev/null; [ $? = 127 ] || fail "missing program: not 127"
    "$CTRACE" run --stacks bogus -- true 2>/dev/null; [ $? = 125 ] || fail "bad option: not 125"
    "$CTRACE" run -q -o "$WORK/fwd.%p.trace" -- sleep 30 & p=$!
    sleep 0.5; kill -TERM $p; wait $p; rc=$?
    [ $rc = 143 ] || fail "SIGTERM to ctrace: exit $rc, expected 143 (child killed, ctrace re-raised)"
    validate fwd
    # SIGUSR1 too (it killed ctrace alone, leaving the program running).
    "$CTRACE" run -q -o "$WORK/fwd1.%p.trace" -- sleep 30 & p=$!
    sleep 0.5; kill -USR1 $p; wait $p; rc=$?
    [ $rc = 138 ] || fail "SIGUSR1 to ctrace: exit $rc, expected 138 (child killed, ctrace re-raised)"
    validate fwd1
    out=$("$CTRACE" run -o "$WORK/msg.%p.trace" -- true 2>&1 >/dev/null)
    echo "$out" | grep -q "trace written to $WORK/msg\.[0-9]*\.trace" || fail "no trace path printed: $out"
    # Files of an earlier run are not this run's, even written within the
    # same second or dated later (they were listed when their time was not
    # before the start's second).
    mkdir -p "$WORK/prior"
    "$CTRACE" run -q -o "$WORK/prior/p.%p.trace" -- sh -c '/bin/true; /bin/true' || fail "prior: sh failed"
    touch -d '+1 hour' "$WORK"/prior/p.*.trace
    out=$("$CTRACE" run -o "$WORK/prior/p.%p.trace" -- true 2>&1 >/dev/null)
    echo "$out" | grep -q "other processes" && fail "an earlier run's traces listed as this run's: $out"
    echo "ok: cli: an earlier run's traces are not listed"
    # SIGKILL: the same death, and said (the trace could not be finished).
    out=$("$CTRACE" run -q -o "$WORK/kill.%p.trace" -- sh -c 'kill -KILL $$' 2>&1 >/dev/null); rc=$?
    [ $rc = 137 ] || fail "SIGKILL: exit $rc, expected 137"
    echo "$out" | grep -q "killed by SIGKILL" || fail "SIGKILL not reported: $out"
    echo "ok: cli: SIGKILL passed through and reported"
    # A process left running in the background: its trace is named as
    # still being written (its writer holds the file's lock), not as done.
    # (The shell leaves once the background sleep's own file exists.)
    out=$("$CTRACE" run -o "$WORK/bg.%p.trace" -- sh -c \
        'sleep 2 & while ! ls "$0"/bg.*-1.trace >/dev/null 2>&1; do sleep 0.02; done' "$WORK" 2>&1 >/dev/null)
    echo "$out" | grep -q "bg\.[0-9-]*\.trace (still being written)" ||
        fail "background process: its trace not named as still being written: $out"
    echo "$out" | grep -q "^ctrace: 1 trace is still being written by a process of the run that outlived it" ||
        fail "background process: no summary line: $out"
    sleep 2.2
    echo "ok: cli: a background process's trace is said to be still being written"
    # A trace whose writing fails (here the file size limit; a full disk
    # alike) is said to be cut, by the process itself; the program runs on
    # untraced with its own output and status.  It used to end in silence.
    out=$("$CTRACE" run -q -o "$WORK/fsize.%p.trace" -- bash -c \
        'ulimit -f 8; exec perl -e "select(undef, undef, undef, 0.0005) for 1..3000; print qq(done\n)"' 2>&1); rc=$?
    [ $rc = 0 ] || fail "file size limit: exit $rc"
    echo "$out" | grep -qx "done" || fail "file size limit: the program's output is missing: $out"
    echo "$out" | grep -q "^ctrace: writing the trace $WORK/fsize\.[0-9-]*\.trace failed (File too large): it ends where the failure happened" ||
        fail "file size limit: the cut trace is not reported: $out"
    echo "ok: cli: a trace cut by a failed write is reported"
    # The other processes' files: counted, in pid order, the first ones
    # named and the rest said (a shell loop of 20 children: 20 files or
    # more, with the shell's own forks).
    out=$("$CTRACE" run -o "$WORK/kids.%p.trace" -- sh -c 'i=0; while [ $i -lt 20 ]; do /bin/true; i=$((i+1)); done' 2>&1 >/dev/null)
    n=$(( $(ls "$WORK"/kids.*.trace | wc -l) - 1 ))
    [ "$n" -ge 20 ] || fail "shell loop: $n trace files of other processes, expected 20 or more"
    echo "$out" | grep -qx "ctrace: $n traces of other processes of the run (forked or exec'd):" ||
        fail "other processes: no count line for $n: $out"
    listed=$(echo "$out" | sed -n 's|^ctrace:   \(/.*\)$|\1|p')
    [ "$(echo "$listed" | wc -l)" = 10 ] || fail "other processes: $(echo "$listed" | wc -l) names listed, expected 10: $out"
    [ "$listed" = "$(echo "$listed" | sort -V)" ] || fail "other processes: not in pid order: $listed"
    echo "$out" | grep -q "^ctrace:   \.\.\. and $((n - 10)) more, through $WORK/kids\.[0-9-]*\.trace (ls $WORK/kids\.\*\.trace)\$" ||
        fail "other processes: no 'and $((n - 10)) more' line: $out"
    echo "ok: the other processes' traces: counted, sorted, the long list cut"
    # Failed execs: one that cannot succeed (no such file, not executable)
    # leaves the trace whole; one that fails after all (a directory passes
    # the check) finishes it and resumes in PATTERN.1.  errno as untraced.
    pl='exec("nonexistent_zz_cmd") or print "1: $!\n"; exec("/etc/passwd") or print "2: $!\n";
        exec("/") or print "3: $!\n"; print "end\n"'
    perl -e "$pl" > ef.plain.out 2>&1
    "$CTRACE" run -q -o "$WORK/execfail.trace" -- perl -e "$pl" > ef.traced.out 2>&1
    cmp -s ef.plain.out ef.traced.out || fail "failed execs: output differs: $(cat ef.traced.out)"
    n=$(ls "$WORK"/execfail.trace* | wc -l)
    [ "$n" = 2 ] && [ -f "$WORK/execfail.trace.1" ] ||
        fail "failed execs: $n trace files ($(ls "$WORK"/execfail.trace* | tr '\n' ' ')), expected execfail.trace and .1"
    for f in "$WORK"/execfail.trace*; do
        bash "$CTRACE_SRC/scripts/gotrace-validate.sh" "$f" >/dev/null || fail "failed execs: Go rejects $f"
    done
    echo "ok: failed execs: same output, trace split only by the exec that could have run"
    # A script without "#!" is run with /bin/sh, as execvp, env and a shell
    # run it, named with a slash or found along PATH (before the fix: with
    # a slash, "Exec format error" and 126).
    printf 'echo "no #! line: $1"\nexit 3\n' > "$WORK/noshebang"; chmod +x "$WORK/noshebang"
    run_pair noshebang 3 "$WORK/noshebang" arg
    grep -qx 'no #! line: arg' noshebang.traced.out || fail "noshebang: $(cat noshebang.traced.out noshebang.traced.err)"
    out=$(PATH="$WORK:$PATH" "$CTRACE" run -q -o "$WORK/nsp.%p.trace" -- noshebang viapath 2>&1); rc=$?
    [ $rc = 3 ] && [ "$out" = "no #! line: viapath" ] || fail "noshebang along PATH: exit $rc: $out"
    echo "ok: cli: a script without #! runs with /bin/sh, by path and along PATH"
    # Values the library would read differently are refused up front.
    "$CTRACE" run -q --period 2 -- true 2>/dev/null; [ $? = 125 ] || fail "--period without a unit: not 125"
    "$CTRACE" run -q --mem 1k -- true 2>/dev/null; [ $? = 125 ] || fail "--mem below 1M: not 125"
    "$CTRACE" run -q --cpu-hz 100001 -- true 2>/dev/null; [ $? = 125 ] || fail "--cpu-hz above 100000: not 125"
    # An output the traces cannot be written to is refused before the
    # program runs (before the fix: it ran untraced, and each process
    # printed a line of its own on the program's stderr).
    for o in "$WORK/no/such/dir/t.%p.trace" "$WORK" "$WORK/" ""; do
        err=$("$CTRACE" run -q -o "$o" -- sh -c 'echo ran' 2>&1); rc=$?
        [ $rc = 125 ] || fail "-o '$o': exit $rc, expected 125 ($err)"
        case $err in *ran*) fail "-o '$o': the program ran: $err";; esac
        echo "$err" | grep -q "^ctrace run: -o" || fail "-o '$o': no message naming -o: $err"
    done
    "$CTRACE" run -q --flight -o "$WORK/no/such/dir/snap" -- true 2>/dev/null; [ $? = 125 ] ||
        fail "--flight -o in a missing directory: not 125"
    echo "ok: cli: unwritable -o refused up front (125)"
    # A trace written to a device or a FIFO is said to be written (before
    # the fix: "no trace was written", the check looking for a regular file).
    out=$("$CTRACE" run -o /dev/null -- true 2>&1 >/dev/null)
    [ "$out" = "ctrace: trace written to /dev/null" ] || fail "-o /dev/null: $out"
    rm -f "$WORK/fifo"; mkfifo "$WORK/fifo" || fail "mkfifo"
    timeout 60 cat "$WORK/fifo" > "$WORK/fifo.trace" & reader=$!
    out=$(timeout 60 "$CTRACE" run -o "$WORK/fifo" -- true 2>&1 >/dev/null)
    wait $reader
    echo "$out" | grep -q "^ctrace: trace written to $WORK/fifo (a FIFO" || fail "-o FIFO: $out"
    "$CTRACE" check -q "$WORK/fifo.trace" >/dev/null || fail "-o FIFO: what was read is not a valid trace"
    echo "ok: cli: traces to /dev/null and to a FIFO reported as written"
    echo "ok: cli: exit codes, 127, 125, SIGTERM forwarding, trace path printed, failed execs, setting values"
    ;;
cli_static)
    # A static executable cannot be preloaded: said, and it still runs.
    # STATIC_PROG is built where a static libc is installed (CMake checks).
    if [ -z "${STATIC_PROG:-}" ]; then
        [ -z "${CI:-}" ] || fail "no statically linked test program (static libc missing at configure time)"
        echo "SKIP [$case_name]: no statically linked test program (no static libc at configure time)"; exit 77
    fi
    [ -x "$STATIC_PROG" ] || fail "$STATIC_PROG not built"
    out=$("$CTRACE" run -q -o "$WORK/static.%p.trace" -- "$STATIC_PROG" 2>&1); rc=$?
    [ $rc = 0 ] || fail "static program: exit $rc"
    echo "$out" | grep -q "statically linked" || fail "static program: no warning: $out"
    echo "ok: cli_static: a static program runs, with a warning that it cannot be traced"
    ;;
exec_chain)
    # Exec chains: a shell running commands (dash: vfork + execve, the last
    # command exec'd in place; bash: fork + execve) and a program starting
    # others every way (fork_exec: fork + exec, vfork + exec, posix_spawn),
    # traced with and without %p in the output pattern, through LD_PRELOAD
    # and through `ctrace run`.  Every process image writes a file of its
    # own (docs/RUN.md: "Processes and file names"): exactly the expected
    # number, each accepted by Go 1.22, 1.23 and ctrace check.  Before the
    # fix, a vfork'd or spawned program given a pattern without %p
    # truncated and wrote its parent's file at the same time.
    : "${CTRACE_LIB:?}"
    need sh
    # files NAME WANT [MORE]: the files of NAME (NAME*) are WANT in number
    # (at least WANT with MORE), each valid.
    files() {
        local name=$1 want=$2 more=${3:-} n=0 f
        for f in "$WORK/$name"*; do
            [ -e "$f" ] || fail "$name: no trace written"
            bash "$CTRACE_SRC/scripts/gotrace-validate.sh" "$f" >/dev/null || {
                bash "$CTRACE_SRC/scripts/gotrace-validate.sh" "$f" >&2; fail "$name: Go parsers reject $f"; }
            "$CTRACE" check -q "$f" >/dev/null 2>"$WORK/check.err" || {
                cat "$WORK/check.err" >&2; fail "$name: ctrace check rejects $f"; }
            n=$((n + 1))
        done
        [ "$n" = "$want" ] || { [ -n "$more" ] && [ "$n" -gt "$want" ]; } ||
            fail "$name: $n trace files ($(cd "$WORK" && ls "$name"* | tr '\n' ' ')), expected $want"
        echo "ok: $name: $n trace files, each accepted by go 1.22, go 1.23 and ctrace check"
    }
    # same_out NAME: traced stdout and exit status as untraced.
    same_out() {
        cmp -s "$WORK/plain.sh" "$WORK/out.$1" || fail "$1: stdout differs traced vs untraced"
        [ "$(cat "$WORK/rc.$1")" = "$rc_plain" ] || fail "$1: exit $(cat "$WORK/rc.$1"), untraced $rc_plain"
    }
    # The shell, its two children and its exec'd last command: 4 images;
    # with %p a shell that forks before it execs (bash, not dash) adds the
    # forked copies' files.
    script='echo a; /bin/true; /bin/echo b; exec /bin/echo c'
    timeout 120 sh -c "$script" > plain.sh; rc_plain=$?
    timeout 120 env CTRACE_OUTPUT="$WORK/shnop.trace" LD_PRELOAD="$CTRACE_LIB" sh -c "$script" \
        > out.shnop; echo $? > rc.shnop
    same_out shnop
    [ -f "$WORK/shnop.trace" ] || fail "shnop: the shell's own file shnop.trace is missing"
    files shnop.trace 4
    timeout 120 env CTRACE_OUTPUT="$WORK/shp.%p.trace" LD_PRELOAD="$CTRACE_LIB" sh -c "$script" \
        > out.shp; echo $? > rc.shp
    same_out shp
    files shp. 4 more
    timeout 120 "$CTRACE" run -q -o "$WORK/shrun.trace" -- sh -c "$script" > out.shrun; echo $? > rc.shrun
    same_out shrun
    files shrun.trace 4
    timeout 120 "$CTRACE" run -q -o "$WORK/shrunp.%p.trace" -- sh -c "$script" > out.shrunp; echo $? > rc.shrunp
    same_out shrunp
    files shrunp. 4 more
    # fork_exec without %p: the parent, exec'd A (PID-1), vfork + exec'd C
    # and posix_spawn'd E (PID each); forked A and B write none (no %p).
    timeout 120 "$CTRACE" run -q -o "$WORK/fenop.trace" -- "$EX_DIR/interpose_fork_exec" \
        > out.fenop 2>/dev/null || fail "fork_exec without %p: exit $?"
    grep -q "child E (posix_spawn) exit 3" out.fenop || fail "fork_exec without %p: child E"
    [ -f "$WORK/fenop.trace" ] || fail "fork_exec without %p: the parent's file is missing"
    files fenop.trace 4
    # The same after an exec (its image is PID-1): every other process
    # starts at its own pid's first image, PID.trace -- the fork child A
    # (then A-1 for its exec), B, the vfork+exec'd C and the spawned E.
    # Before the fix they inherited the "-1" (A-1 then A-2, B-1, C-1, E-1).
    timeout 120 "$CTRACE" run -q -o "$WORK/afterx.%p.trace" -- sh -c "exec $EX_DIR/interpose_fork_exec" \
        > out.afterx 2>/dev/null || fail "fork_exec after an exec: exit $?"
    files afterx. 7
    for f in "$WORK"/afterx.*-*.trace; do
        base=${f%-*.trace}.trace
        [ -e "$base" ] || fail "afterx: $(basename "$f") but no $(basename "$base"): $(cd "$WORK" && ls afterx.* | tr '\n' ' ')"
    done
    [ "$(ls "$WORK"/afterx.*-*.trace | wc -l)" = 2 ] ||
        fail "afterx: expected 2 exec'd images (the sh's, A's): $(cd "$WORK" && ls afterx.* | tr '\n' ' ')"
    echo "ok: afterx: each process's first image is PID.trace, its exec PID-1.trace"
    ;;
exit_end)
    # A main thread that calls nothing interposed (adopted when tracing
    # started, never bound to its record) ends with the process: the trace
    # records its end (GoDestroy, Running->NotExist) at the exit, for each
    # way out.  Before the fix it was left running past the trace's last
    # event, and a short program's trace lasted a few nanoseconds.
    : "${QUIET_EXIT:?}"
    for how in return exit _exit; do
        case $how in return) want=3;; exit) want=4;; _exit) want=5;; esac
        run_pair "exit_$how" "$want" "$QUIET_EXIT" "$how"
        validate "exit_$how"; t=$(main_trace "exit_$how"); dump "$t"
        expect "$t" "$how: the main thread's end" 'Resource=Goroutine\(1\).*Running->NotExist' 1
    done
    ;;
nofd_waits)
    # poll/ppoll/select/pselect with no descriptor to wait for are sleeps:
    # five "sleep" blocks, none on the network.  Before the fix all five
    # were "network" waits (Perl's select(undef, undef, undef, 0.05) filled
    # go tool trace's network-blocking profile).
    : "${NOFD_WAITS:?}"
    run_pair nofd_waits 0 "$NOFD_WAITS"
    validate nofd_waits; t=$(main_trace nofd_waits); dump "$t"
    expect "$t" "sleeps" "$SLEEP" 5
    n=$(grep -cE -- "$NET" "$t.d1")
    [ "$n" = 0 ] || fail "nofd_waits: $n network waits, expected none"
    echo "ok: nofd_waits: no network waits"
    ;;
*) fail "unknown case" ;;
esac
echo "PASS [$case_name]"
# Passed: the traces and Go's dumps of them go (hundreds of MB over the
# cases and three sanitizer passes); a failure exits above and keeps them.
[ "${CTRACE_KEEP_WORK:-0}" = 1 ] || { cd / && rm -rf "$WORK"; }
