/*
 * bench_unwind.c - cost of stack capture (not a test).
 *
 * Prints one line per case: nanoseconds per ct_unwind_fp() walk of stacks
 * 4, 16 and 32 frames deep (frames actually captured are printed),
 * and per ct_unwind_libunwind() backtrace at depth 16; median of 31 runs of
 * 200k (fp) / 20k (libunwind) calls each.
 *
 * Build and run (from the repository root):
 *   gcc -std=gnu11 -O2 -g -fno-omit-frame-pointer -Isrc/runtime \
 *       bench/unwind/bench_unwind.c src/runtime/unwind.c -ldl \
 *       -o /tmp/bench_unwind && /tmp/bench_unwind
 * or: cmake --build <build> --target bench_unwind (bench/unwind/CMakeLists.txt).
 *
 * Invariant: the recursion levels keep their frames (no inlining, no tail
 * calls), so the printed frame count is the real depth of each walk.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cfirules.h"
#include "modmap.h"
#include "unwind.h"

#define RUNS 31
#define NOTAIL(x) __asm__ volatile("" : "+r"(x) :: "memory")

static struct ct_stack_bounds bounds;
static int run_cold; /* hybrid: no rules computed (the libunwind fallback) */
static uintptr_t pcs[64];
static volatile int sink;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* At depth 0, runs the measured loop and returns ns per call. */
/* What is measured: 0 ct_unwind_fp, 1 ct_unwind_libunwind, 2 ct_unwind_hybrid
 * (with whatever module map is published). */
__attribute__((noinline)) static double descend(int depth, int libunwind, int iters, int *frames)
{
    double r;
    if (depth > 0) {
        r = descend(depth - 1, libunwind, iters, frames);
    } else {
        int n = 0;
        uint64_t t0 = now_ns();
        if (libunwind == 2)
            for (int i = 0; i < iters; i++)
                n += ct_unwind_hybrid(&bounds, __builtin_frame_address(0), pcs, 64, 0);
        else if (libunwind)
            for (int i = 0; i < iters; i++)
                n += ct_unwind_libunwind(pcs, 64, 0);
        else
            for (int i = 0; i < iters; i++)
                n += ct_unwind_fp(&bounds, pcs, 64, 0);
        uint64_t t1 = now_ns();
        sink = n;
        *frames = n / iters;
        r = (double)(t1 - t0) / iters;
    }
    NOTAIL(r);
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs with a stack of `frames` frames at the walk (descend levels plus
 * run, main and libc's __libc_start_call_main, whose return address ends
 * the frame chain). */
static void run(const char *name, int frames_wanted, int libunwind, int iters)
{
    int depth = frames_wanted - 4;
    double t[RUNS];
    int frames = 0;
    /* Runs -3..-1 warm up, from the same call site (a return address the
     * hybrid walk meets).  It asked for the CFI rules of the frames it met
     * without a frame pointer; the advancer computes them at a
     * generation's end: so here, three times, since requests are lossy (the
     * steady state of a trace, after a few generations). */
    for (int i = -3; i < RUNS; i++) {
        double r = descend(depth, libunwind, i < 0 ? iters / 10 : iters, &frames);
        if (i >= 0)
            t[i] = r;
        else if (libunwind == 2 && !run_cold)
            ct_cfirules_fill();
    }
    qsort(t, RUNS, sizeof t[0], cmp_double);
    printf("%-26s %2d frames: %7.1f ns/walk (median of %d runs, min %.1f)\n", name, frames,
           t[RUNS / 2], RUNS, t[0]);
}

int main(void)
{
    if (ct_stack_bounds_init(&bounds) != 0) {
        fprintf(stderr, "bench_unwind: no stack bounds\n");
        return 1;
    }
    run("ct_unwind_fp", 4, 0, 200000);
    run("ct_unwind_fp", 16, 0, 200000);
    run("ct_unwind_fp", 32, 0, 200000);
    run("ct_unwind_libunwind", 16, 1, 20000);
    /* The hybrid walk: with no module map (every PC counts as
     * frame-pointer: the cost of the lookups on an all-FP stack), with the
     * real map (this program keeps frame pointers, the C library at the
     * bottom of the stack does not: cached CFI rules for its 2 frames), and
     * with every module flagged as lacking frame pointers (cached rules for
     * every frame).  Then the fallback alone: libunwind's unw_backtrace
     * spliced in after the first frame without a rule (no rules cached). */
    ct_unwind_load();
    run("hybrid, all fp", 16, 2, 200000);
    struct ct_modmap *real = ct_modmap_build();
    atomic_store(&ct_modmap_current, real);
    run("hybrid, real map", 16, 2, 200000);
    struct ct_modmap *nofp = ct_modmap_build();
    for (size_t i = 0; nofp && i < nofp->n; i++)
        nofp->r[i].fp = 0;
    atomic_store(&ct_modmap_current, nofp);
    run("hybrid, all cfi rules", 16, 2, 200000);
    ct_cfirules_clear();
    run_cold = 1;
    run("hybrid, libunwind splice", 16, 2, 20000);
    return 0;
}
