/*
 * nofp.c - recursion compiled with -fomit-frame-pointer, for checking that
 * ct_unwind_libunwind() (DWARF CFI) walks code without frame pointers and
 * that ct_unwind_fp() at least survives it.  Invariant: each level keeps its
 * frame (no tail calls), so every level has a return address on the stack.
 */
#include "test_util.h"

__attribute__((noinline)) int nofp_recurse(int depth, int (*leaf)(void *), void *arg)
{
    int r;
    if (depth == 0)
        r = leaf(arg);
    else
        r = nofp_recurse(depth - 1, leaf, arg);
    NO_TAIL(r);
    return r;
}
