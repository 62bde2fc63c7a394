/*
 * clock.c - choose and calibrate the timestamp source (see clock.h).
 *
 * Invariants: start-up costs ~100 us (no calibration sleep); the rate
 * reported in the trace is measured once, over the longest window
 * available when it is first needed, and never changes afterwards.
 */
#include "clock.h"
#include "env.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

struct ct_clock ct_clock = {0, 0, 1000000000u};

uint64_t ct_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__) || defined(__i386__)
static int invariant_tsc(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
        return 0;
    __get_cpuid(0x80000007u, &a, &b, &c, &d);
    return (d >> 8) & 1;
}
#endif

/* The counter's rate is measured against CLOCK_MONOTONIC between an anchor
 * taken at initialization and the first time the rate is needed (when the
 * first generation is finished: after a whole period, or at the end of a
 * short process), so start-up never waits: no sleeping calibration window
 * in every traced process.  Only the shift (a power of two, which needs
 * the rate within a factor of ~2) is chosen at start-up, from a ~100 us
 * window. */
#define ESTIMATE_NS 100000

static uint64_t anchor_raw, anchor_ns;
static _Atomic uint64_t exact_hz; /* 0 until first asked for */

/* A (counter, monotonic ns) pair read as close together as possible: the
 * tightest of a few brackets, so a preemption between the reads cannot
 * skew it. */
static void paired_read(uint64_t *raw, uint64_t *ns)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 4; i++) {
        uint64_t t0 = ct_now(), n = ct_mono_ns(), t1 = ct_now();
        if (t1 >= t0 && t1 - t0 < best) {
            best = t1 - t0;
            *raw = t0 + (t1 - t0) / 2;
            *ns = n;
        }
    }
    if (best == UINT64_MAX) { /* counter went backwards: should not happen */
        *raw = ct_now();
        *ns = ct_mono_ns();
    }
}

static uint64_t rate(uint64_t raw0, uint64_t ns0, uint64_t raw1, uint64_t ns1)
{
    if (ns1 <= ns0 || raw1 <= raw0)
        return 0;
    return (uint64_t)((double)(raw1 - raw0) * 1e9 / (double)(ns1 - ns0));
}

/* A first estimate over ~ESTIMATE_NS, enough to pick the shift. */
static uint64_t estimate(void)
{
    paired_read(&anchor_raw, &anchor_ns);
    uint64_t raw, ns;
    do
        paired_read(&raw, &ns);
    while (ns - anchor_ns < ESTIMATE_NS);
    uint64_t hz = rate(anchor_raw, anchor_ns, raw, ns);
    return hz ? hz : 1000000000u;
}

uint64_t ct_clock_raw_hz(void)
{
    uint64_t hz = atomic_load_explicit(&exact_hz, memory_order_acquire);
    if (hz)
        return hz;
    if (!ct_clock.use_counter || anchor_ns == 0)
        hz = ct_clock.raw_hz; /* nanoseconds, or a counter of known rate */
    else {
        uint64_t raw, ns;
        paired_read(&raw, &ns);
        hz = rate(anchor_raw, anchor_ns, raw, ns);
        if (!hz)
            hz = ct_clock.raw_hz;
    }
    uint64_t zero = 0;
    if (!atomic_compare_exchange_strong_explicit(&exact_hz, &zero, hz, memory_order_acq_rel,
                                                 memory_order_acquire))
        hz = zero; /* another thread fixed it first: everyone uses one rate */
    return hz;
}

void ct_clock_init(void)
{
    int counter = 0;
#if defined(__x86_64__) || defined(__i386__)
    counter = invariant_tsc();
#elif defined(__aarch64__)
    counter = 1;
#endif
    if (ct_env()->clock_monotonic) /* CTRACE_CLOCK=monotonic: the fallback */
        counter = 0;
    atomic_store(&exact_hz, 0);
    anchor_ns = 0;
    if (!counter) {
        ct_clock.use_counter = 0;
        ct_clock.raw_hz = 1000000000u;
        ct_clock.shift = 0;
        return;
    }
    ct_clock.use_counter = 1;
#if defined(__aarch64__)
    uint64_t f;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
    ct_clock.raw_hz = f ? f : estimate();
#else
    ct_clock.raw_hz = estimate();
#endif
    /* Largest power-of-two divisor keeping a unit at or under ~3 ns. */
    unsigned shift = 0;
    while ((ct_clock.raw_hz >> (shift + 1)) >= 333333333u)
        shift++;
    ct_clock.shift = shift;
}
