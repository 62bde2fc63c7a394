/*
 * test_unwind.c - frame-pointer and libunwind stack capture.
 *
 * Invariants checked:
 *  - stack bounds are found for the main thread and for pthreads, and
 *    contain the current frame;
 *  - ct_unwind_fp() returns exactly the chain of return addresses, with the
 *    documented skip semantics (skip = 0: first PC is in the caller);
 *  - corrupted saved frame pointers (null, misaligned, decreasing, pointing
 *    outside the stack, into unmapped memory, self-loops, fake records) never
 *    fault and stop the walk;
 *  - ct_unwind_from_ucontext() starts at the interrupted PC and survives
 *    100k random register values;
 *  - ct_unwind_libunwind() agrees with the frame chain, also for code built
 *    without frame pointers (nofp.c).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "test_util.h"
#include "unwind.h"

/* From nofp.c (built with -fomit-frame-pointer). */
int nofp_recurse(int depth, int (*leaf)(void *), void *arg);

#define DEPTH 6

static struct ct_stack_bounds g_bounds;
static uintptr_t g_ra[DEPTH + 1]; /* g_ra[k]: return address of level k */

enum { WALK_FP, WALK_FP_SKIP1, WALK_FP_MAX3, WALK_LIBUNWIND };
static uintptr_t g_pcs[64];
static int g_n;

__attribute__((noinline)) static int level(int k, int mode)
{
    g_ra[k] = (uintptr_t)__builtin_return_address(0);
    int r;
    if (k == 0) {
        if (mode == WALK_FP)
            g_n = ct_unwind_fp(&g_bounds, g_pcs, 64, 0);
        else if (mode == WALK_FP_SKIP1)
            g_n = ct_unwind_fp(&g_bounds, g_pcs, 64, 1);
        else if (mode == WALK_FP_MAX3)
            g_n = ct_unwind_fp(&g_bounds, g_pcs, 3, 2);
        else
            g_n = ct_unwind_libunwind(g_pcs, 64, 0);
        r = g_n;
    } else {
        r = level(k - 1, mode);
    }
    NO_TAIL(r);
    return r;
}

static void test_bounds(void)
{
    struct ct_stack_bounds b;
    CHECK(ct_stack_bounds_init(&b) == 0);
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    CHECKF(b.lo <= here && here < b.hi, "lo=%#lx here=%#lx hi=%#lx", (unsigned long)b.lo,
           (unsigned long)here, (unsigned long)b.hi);
}

static void *thread_bounds(void *arg)
{
    struct ct_stack_bounds b;
    int rc = ct_stack_bounds_init(&b);
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    CHECK(rc == 0);
    CHECK(b.lo <= here && here < b.hi);
    uintptr_t pcs[8];
    CHECK(ct_unwind_fp(&b, pcs, 8, 0) >= 1);
    return NULL;
}

static void test_exact_chain(void)
{
    level(DEPTH, WALK_FP);
    /* pcs[0] is in level(0); pcs[1 + k] is the return address of level k. */
    CHECKF(g_n >= DEPTH + 2, "n=%d", g_n);
    for (int k = 0; k <= DEPTH && k + 1 < g_n; k++)
        CHECKF(g_pcs[k + 1] == g_ra[k], "k=%d pc=%#lx ra=%#lx", k, (unsigned long)g_pcs[k + 1],
               (unsigned long)g_ra[k]);
    int n0 = g_n;

    level(DEPTH, WALK_FP_SKIP1);
    CHECK(g_n == n0 - 1);
    for (int k = 0; k <= DEPTH && k < g_n; k++)
        CHECK(g_pcs[k] == g_ra[k]);

    /* max truncates (after skipping). */
    level(DEPTH, WALK_FP_MAX3);
    CHECK(g_n == 3 && g_pcs[0] == g_ra[1] && g_pcs[2] == g_ra[3]);
    uintptr_t few[3];
    CHECK(ct_unwind_fp(&g_bounds, few, 0, 0) == 0);
    /* Zeroed bounds capture nothing. */
    struct ct_stack_bounds zero = {0, 0};
    CHECK(ct_unwind_fp(&zero, few, 3, 0) == 0);
    CHECK(ct_unwind_fp(NULL, few, 3, 0) == 0);
}

static void test_libunwind(void)
{
    level(DEPTH, WALK_LIBUNWIND);
    CHECKF(g_n >= DEPTH + 2, "n=%d", g_n);
    for (int k = 0; k <= DEPTH && k + 1 < g_n; k++)
        CHECKF(g_pcs[k + 1] == g_ra[k], "libunwind k=%d pc=%#lx ra=%#lx", k,
               (unsigned long)g_pcs[k + 1], (unsigned long)g_ra[k]);
    uintptr_t pcs[4];
    CHECK(ct_unwind_libunwind(pcs, 4, 0) == 4);
    CHECK(ct_unwind_libunwind(pcs, 0, 0) == 0);
}

/* Without frame pointers: libunwind (CFI) sees every level; the frame
 * walk may not, but must not crash. */
static int nofp_leaf(void *arg)
{
    int *mode = arg;
    if (*mode == 0)
        g_n = ct_unwind_libunwind(g_pcs, 64, 0);
    else
        g_n = ct_unwind_fp(&g_bounds, g_pcs, 64, 0);
    return g_n;
}

static void test_nofp(void)
{
    int mode = 0;
    int n = nofp_recurse(8, nofp_leaf, &mode);
    /* leaf, 9 nofp_recurse frames, test_nofp, main, ... */
    CHECKF(n >= 11, "libunwind through -fomit-frame-pointer code: n=%d", n);
    mode = 1;
    n = nofp_recurse(8, nofp_leaf, &mode);
    CHECK(n >= 0 && n <= 64);
}

/* Overwrites this frame's saved frame pointer with bad, walks, restores. */
__attribute__((noinline)) static int walk_with_saved_fp(uintptr_t bad, uintptr_t *pcs, int max)
{
    volatile uintptr_t *rec = (volatile uintptr_t *)__builtin_frame_address(0);
    uintptr_t saved = rec[0];
    rec[0] = bad;
    __asm__ volatile("" ::: "memory");
    int n = ct_unwind_fp(&g_bounds, pcs, max, 0);
    __asm__ volatile("" ::: "memory");
    rec[0] = saved;
    __asm__ volatile("" ::: "memory");
    NO_TAIL(n);
    return n;
}

static void test_corrupted(void)
{
    uintptr_t pcs[64];
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    /* A fake frame record in this (caller) frame: above the walker. */
    volatile uintptr_t fake[4];
    fake[0] = 0x10;   /* next fp: garbage, below -> stop */
    fake[1] = 0x1234; /* pc */
    uintptr_t loop[2];
    loop[1] = 0x5678;
    loop[0] = (uintptr_t)&loop[0]; /* self-loop */
    uintptr_t bads[] = {
        0,
        1,
        0xdeadbeef,
        0xffffffffff600000ull,           /* kernel / vsyscall page */
        (uintptr_t)-8,
        here + 3,                        /* misaligned */
        here - 4096,                     /* below: decreasing */
        g_bounds.hi,                     /* exactly the top */
        g_bounds.hi - 8,                 /* record would cross the top */
        g_bounds.hi + 4096,              /* above the stack */
        g_bounds.lo - 16,                /* below the stack */
        (uintptr_t)malloc(64),           /* heap */
        (uintptr_t)&test_failures,       /* data segment */
        (uintptr_t)&fake[0],
        (uintptr_t)&loop[0],
    };
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        int n = walk_with_saved_fp(bads[i], pcs, 64);
        /* pcs[0]: in walk_with_saved_fp, pcs[1]: in test_corrupted; what
         * follows depends on the fake record. */
        CHECKF(n >= 1 && n <= 3, "bad fp #%zu: n=%d", i, n);
        if (bads[i] == (uintptr_t)&fake[0]) {
            CHECKF(n == 3 && pcs[2] == 0x1234, "fake record: n=%d", n);
        }
        if (bads[i] == (uintptr_t)&loop[0]) {
            CHECKF(n == 3 && pcs[2] == 0x5678, "self loop: n=%d", n);
        }
    }
    free((void *)bads[11]);
    /* The stack is intact afterwards. */
    level(DEPTH, WALK_FP);
    CHECK(g_n >= DEPTH + 2);
}

static void test_ucontext(void)
{
    ucontext_t uc;
    uintptr_t pcs[64];
    CHECK(getcontext(&uc) == 0);
    int n = ct_unwind_from_ucontext(&g_bounds, &uc, pcs, 64);
    CHECKF(n >= 2, "getcontext walk n=%d", n);

    /* Random register values, including fps inside the live stack. */
    unsigned seed = 12345;
    uintptr_t sp_now = (uintptr_t)__builtin_frame_address(0);
    for (int i = 0; i < 100000; i++) {
        ucontext_t u = uc;
        uintptr_t r1 = (uintptr_t)rand_r(&seed) << 33 ^ (uintptr_t)rand_r(&seed) << 3 ^
                       (uintptr_t)rand_r(&seed);
        uintptr_t fp, sp;
        switch (i % 4) {
        case 0: fp = r1; sp = r1 ^ 0x1000; break;
        case 1: fp = sp_now + (r1 % 8192) - 4096; sp = sp_now - (r1 % 512); break;
        case 2: fp = g_bounds.lo + r1 % (g_bounds.hi - g_bounds.lo + 64); sp = sp_now; break;
        default: fp = g_bounds.hi - (r1 % 64); sp = g_bounds.lo; break;
        }
#if defined(__x86_64__)
        u.uc_mcontext.gregs[REG_RBP] = (greg_t)fp;
        u.uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
        u.uc_mcontext.gregs[REG_RIP] = (greg_t)r1;
#elif defined(__aarch64__)
        u.uc_mcontext.regs[29] = fp;
        u.uc_mcontext.sp = sp;
        u.uc_mcontext.pc = r1;
#endif
        n = ct_unwind_from_ucontext(&g_bounds, &u, pcs, 64);
        if (n < 1 || pcs[0] != r1) {
            CHECKF(0, "random ucontext #%d: n=%d", i, n);
            break;
        }
    }
    struct ct_stack_bounds zero = {0, 0};
    CHECK(ct_unwind_from_ucontext(&zero, &uc, pcs, 64) == 1); /* PC only */
    CHECK(ct_unwind_from_ucontext(&g_bounds, NULL, pcs, 64) == 0);
}

/* From a real signal interrupting frame-pointer code: the handler's walk
 * starts at the interrupted PC and continues through the busy function's
 * callers. */
static volatile sig_atomic_t sig_n, sig_hits;
static uintptr_t sig_pcs[64];
static void on_vtalrm(int sig, siginfo_t *si, void *uc)
{
    int n = ct_unwind_from_ucontext(&g_bounds, uc, sig_pcs, 64);
    if (n > sig_n)
        sig_n = n;
    sig_hits++;
}

__attribute__((noinline)) static unsigned long busy_fp(void)
{
    unsigned long x = 1;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* clock_gettime also lets TSan deliver the signals it defers. */
    while (sig_hits < 20 && clock_gettime(CLOCK_MONOTONIC, &t) == 0 && t.tv_sec - t0.tv_sec < 5)
        for (int i = 0; i < 1000; i++)
            x = x * 6364136223846793005ul + 1442695040888963407ul;
    NO_TAIL(x);
    return x;
}

static void test_signal(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_vtalrm;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGVTALRM, &sa, &old);
    struct itimerval it = {{0, 1000}, {0, 1000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_VIRTUAL, &it, NULL);
    busy_fp();
    setitimer(ITIMER_VIRTUAL, &off, NULL);
    sigaction(SIGVTALRM, &old, NULL);
    CHECKF(sig_n >= 3, "signal walk n=%d", (int)sig_n);
}

int main(void)
{
    CHECK(ct_stack_bounds_init(&g_bounds) == 0);
    test_bounds();
    pthread_t t;
    pthread_create(&t, NULL, thread_bounds, NULL);
    pthread_join(t, NULL);
    test_exact_chain();
    test_libunwind();
    test_nofp();
    test_corrupted();
    test_ucontext();
    test_signal();
    if (test_failures)
        fprintf(stderr, "test_unwind: %d failures\n", test_failures);
    else
        printf("test_unwind: ok\n");
    return test_failures != 0;
}
