#!/usr/bin/env bash
# losses_reported.sh CTRACE PROG SRC: a loss the tracer suffers is said
# everywhere (issue 9, "nothing lost without a word").  PROG
# (losses_prog.c) run under `ctrace run` with its main thread dropped by
# fault injection:
#   - the trace carries the loss record and Go 1.22/1.23 accept it;
#   - `ctrace run` adds ONE line to stderr, and the program's own stderr
#     line and exit status are unchanged;
#   - `ctrace check` and `ctrace stat` (text and JSON) report the loss.
# And without a loss, `ctrace run -q` writes nothing of its own.
set -uo pipefail
ctrace=$1 prog=$2 src=$3
. "$src/tests/go_toolchain.sh"
need_go 22 23
work=${CTRACE_WORK:-$(mktemp -d)}
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fails=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# A run that loses the main thread.
LOSSES_DROP_MAIN=1 "$ctrace" run -q -o lossy.trace -- "$prog" 2>stderr.txt
rc=$?
[ $rc = 3 ] && ok "exit status is the program's (3)" || bad "exit status $rc, want 3"
want_prog="losses_prog: the program's own line"
want_run="ctrace: warning: the trace lost 1 thread (untraced) (see ctrace stat)"
if [ "$(cat stderr.txt)" = "$want_prog"$'\n'"$want_run" ]; then
    ok "stderr: the program's line, then ctrace's one loss line"
else
    bad "stderr is not the program's line and the loss line:"; cat stderr.txt
fi
if bash "$src/scripts/gotrace-validate.sh" lossy.trace; then
    ok "Go 1.22 and 1.23 accept the trace with its loss record"
else
    bad "Go rejects the trace with a loss record"
fi
grep -aq 'ctrace\.losses .*threads=1' lossy.trace && ok "the trace holds the loss record" ||
    bad "no loss record 'ctrace.losses ... threads=1' in the trace"

out=$("$ctrace" check lossy.trace); rc=$?
[ $rc = 0 ] && ok "check: exit 0 (the trace is valid)" || bad "check: exit $rc"
[[ $out == *"lossy.trace: ok, "*$'\n'"lossy.trace: warning: the tracer lost 1 thread (untraced) (in 1 generation)" ]] &&
    ok "check reports the loss" || bad "check does not report the loss: $out"

out=$("$ctrace" stat lossy.trace)
[[ $out == *"WARNING: the tracer lost 1 thread (untraced)"* ]] && ok "stat warns of the loss" ||
    bad "stat does not warn: $(echo "$out" | head -5)"
out=$("$ctrace" stat --json lossy.trace)
[[ $out == *'"losses": {"events": 0, "samples": 0, "stacks": 0, "strings": 0, "threads": 1, "generations": 1}'* ]] &&
    ok "stat --json counts the loss" || bad "stat --json: $(echo "$out" | grep -A1 losses)"

# A run without loss: nothing of ctrace's on stderr with -q, no warning.
"$ctrace" run -q -o clean.trace -- "$prog" 2>stderr.txt
rc=$?
[ $rc = 3 ] && [ "$(cat stderr.txt)" = "$want_prog" ] &&
    ok "without a loss, stderr and status are the program's alone" ||
    bad "without a loss: exit $rc, stderr: $(cat stderr.txt)"
out=$("$ctrace" check clean.trace)
[[ $out != *warning* ]] && ok "check: no warning without a loss" || bad "check warns: $out"

# A process of the run killed by SIGKILL (here a child, sleep, that its
# shell kills): its trace ends where it was killed, before the end of its
# first generation.  ctrace run says so, even with -q, naming it.  (It said
# nothing: only the program's own SIGKILL was reported.)
# Not in a sanitizer build: its libctrace preloads only into programs of
# the same build (tests/interpose/CMakeLists.txt), and bash is not one.
if [ -n "${CTRACE_SANITIZE:-}" ]; then
    echo "info: a killed child: not run under $CTRACE_SANITIZE (bash is not built with it)"
else
    # The kill comes once sleep's trace file exists (10 s at most),
    # so there is a trace to cut.
    "$ctrace" run -q -o "$work/kill.%p.trace" -- bash -c 'sleep 30 & k=$!
        for i in $(seq 200); do [ -s kill.$k-1.trace ] && break; sleep 0.05; done
        sleep 0.2; kill -KILL $k; wait $k 2> /dev/null; echo done' > stdout.txt 2> stderr.txt
    rc=$?
    [ $rc = 0 ] && [ "$(cat stdout.txt)" = done ] && ok "a killed child: the program's output and status" ||
        bad "a killed child: exit $rc, stdout $(cat stdout.txt)"
    if grep -q "^ctrace: warning: the trace of another process of the run is incomplete ($work/kill\.[0-9-]*\.trace): the process was killed before it could finish it (SIGKILL?); ctrace check says where it ends\$" stderr.txt &&
        [ "$(wc -l < stderr.txt)" = 1 ]; then
        ok "a killed child: one warning line names its incomplete trace"
    else
        bad "a killed child: no warning line for its incomplete trace:"; cat stderr.txt
    fi
    cut=$(sed -n 's/.*incomplete (\(.*\)).*/\1/p' stderr.txt)
    if [ -n "$cut" ] && ! "$ctrace" check -q "$cut" > /dev/null 2>&1; then
        ok "a killed child: ctrace check rejects the trace it names"
    else
        bad "a killed child: ctrace check accepts the named trace '$cut'"
    fi
fi

[ $fails = 0 ] && echo "all passed" || echo "$fails failed"
[ $fails = 0 ]
