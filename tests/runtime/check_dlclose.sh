#!/usr/bin/env bash
# check_dlclose.sh TEST_DLCLOSE MODULE_A MODULE_B: runs test_dlclose, then
# checks its trace with Go 1.22 and 1.23 and that the log events' stacks
# name the function of the module each came from (symbolized although the
# module was unloaded by the time later generations were written).
bin=$1 moda=$2 modb=$3
. "$CTRACE_SRC/tests/integration/lib.sh"

t=dlclose.trace
"$bin" "$t" "$moda" "$modb" > run.out 2>&1
rc=$?
cat run.out
[ $rc -eq 0 ] || die "test_dlclose exited with status $rc"
validate "$t"
dump "$t" || fail "go 1.23 tool trace -d=1 $t: $(tail -n 2 "$t.d1.err" | tr '\n' ' ')"
s=$t.sum
expect_key "$s" eq 6 log dlmod
expect_key "$s" eq 3 stackfn Log dlmod_a_emit
expect_key "$s" eq 3 stackfn Log dlmod_b_emit
# A shared library with DWARF of its own gets file:line; libc, whose DWARF
# is in a separate debug file (if installed at all), is named from its
# symbol table (symbolize.c).
expect eq 3 "dlmod_b_emit frames with dlmod.c:LINE" \
    "$(grep -A1 'dlmod_b_emit @' "$t.d1" | grep -c 'dlmod\.c:[0-9]')"
expect ge 1 "libc frames named (__libc_start_call_main)" "$(grep -c '__libc_start_call_main @' "$t.d1")"
finish
