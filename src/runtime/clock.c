/*
 * clock.c - choose and calibrate the timestamp source (see clock.h).
 */
#include "clock.h"

#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

struct ct_clock ct_clock = {0, 0, 1000000000u};

static uint64_t mono_ns(void)
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

/* Measures counter ticks per second against CLOCK_MONOTONIC over ~20 ms,
 * median of three windows so one preemption cannot skew it. */
static uint64_t calibrate(void)
{
    uint64_t hz[3];
    for (int i = 0; i < 3; i++) {
        uint64_t n0 = mono_ns(), t0 = ct_now();
        struct timespec d = {0, 7000000};
        while (nanosleep(&d, &d) != 0) {
        }
        uint64_t n1 = mono_ns(), t1 = ct_now();
        hz[i] = (uint64_t)((double)(t1 - t0) * 1e9 / (double)(n1 - n0));
    }
    for (int i = 0; i < 2; i++)
        for (int j = i + 1; j < 3; j++)
            if (hz[j] < hz[i]) {
                uint64_t t = hz[i];
                hz[i] = hz[j];
                hz[j] = t;
            }
    return hz[1];
}

void ct_clock_init(void)
{
    const char *force = getenv("CTRACE_CLOCK"); /* "monotonic" forces the fallback */
    int counter = 0;
#if defined(__x86_64__) || defined(__i386__)
    counter = invariant_tsc();
#elif defined(__aarch64__)
    counter = 1;
#endif
    if (force && strcmp(force, "monotonic") == 0)
        counter = 0;
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
    ct_clock.raw_hz = f ? f : calibrate();
#else
    ct_clock.raw_hz = calibrate();
#endif
    /* Largest power-of-two divisor keeping a unit at or under ~3 ns. */
    unsigned shift = 0;
    while ((ct_clock.raw_hz >> (shift + 1)) >= 333333333u)
        shift++;
    ct_clock.shift = shift;
}
