#!/usr/bin/env bash
# dlopen_stacks.sh - stacks through a module dlopen'ed while the trace runs
# (Perl's XS modules, Python's extensions, plugins), built without frame
# pointers, under `ctrace run` with the default stack mode (auto).  The
# module is not in the module map of the generation in which it was loaded
# (the map is rebuilt at each generation's start); before the fix its
# frames were walked as frame-pointer code and the stack stopped at them
# (Perl's pthread_join: "pthread_join, threads.so+0x4739", nothing more).
# Now the sleep's stack holds the module's function, then the program's
# caller and main.
#
# Environment (set by CMake): CTRACE (the tool), PROG (dlopen_stacks),
# PLUGIN (nofp_plugin.so), WORK.
set -uo pipefail
: "${CTRACE:?}" "${PROG:?}" "${PLUGIN:?}" "${WORK:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK" || exit 1

timeout 120 "$CTRACE" run -q -o dl.trace -- "$PROG" "$PLUGIN" || fail "dlopen_stacks exited $?"
"$CTRACE" check -q dl.trace >/dev/null || fail "ctrace check rejects dl.trace"
"$CTRACE" dump --stacks dl.trace > dl.dump || fail "ctrace dump dl.trace"
line=$(grep 'reason="sleep"' dl.dump | head -n1)
[ -n "$line" ] || fail "no sleep in the trace"
for f in nanosleep nofp_plugin_sleep dlopen_stacks_caller main; do
    grep -q "\"$f\"@" <<<"$line" || fail "the sleep's stack lacks $f: $line"
done
echo "ok: the sleep's stack goes through the dlopen'ed module to its caller and main"
echo "PASS"
