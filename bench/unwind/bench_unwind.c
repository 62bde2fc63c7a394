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

#include "modmap.h"
#include "unwind.h"

#define RUNS 31
#define NOTAIL(x) __asm__ volatile("" : "+r"(x) :: "memory")

static struct ct_stack_bounds bounds;
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
    descend(depth, libunwind, iters / 10, &frames); /* warm-up */
    for (int i = 0; i < RUNS; i++)
        t[i] = descend(depth, libunwind, iters, &frames);
    qsort(t, RUNS, sizeof t[0], cmp_double);
    printf("%-20s %2d frames: %7.1f ns/walk (median of %d runs, min %.1f)\n", name, frames,
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
     * bottom of the stack does not: CFI for its 1-2 frames), and with a
     * map that says no module keeps them (CFI from the first frame). */
    ct_unwind_load();
    run("hybrid, all fp", 16, 2, 200000);
    struct ct_modmap *real = ct_modmap_build();
    atomic_store(&ct_modmap_current, real);
    run("hybrid, real map", 16, 2, 20000);
    struct ct_modmap *nofp = malloc(sizeof *nofp + sizeof nofp->r[0]);
    nofp->n = 1;
    nofp->r[0] = (struct ct_modrange){1, UINTPTR_MAX, 0};
    atomic_store(&ct_modmap_current, nofp);
    run("hybrid, all cfi", 16, 2, 20000);
    return 0;
}
