/*
 * clock.h - trace timestamps.
 *
 * ct_now() returns the raw counter: the TSC on x86-64 when the CPU reports
 * an invariant TSC, the virtual counter on aarch64, else CLOCK_MONOTONIC in
 * nanoseconds.  Timestamps written to the trace are ct_now() >> ct_clock.shift
 * (the shift keeps a unit near 3 ns so deltas stay one or two varint bytes);
 * the generation's frequency event says how many units make a second.
 *
 * Invariants: ct_clock_init() runs once before tracing can start (library
 * constructor) and does not sleep; afterwards ct_clock is read-only.
 * ct_now() is async-signal-safe.  The exact rate (ct_clock_raw_hz) is
 * measured the first time it is asked for -- when the first generation is
 * finished -- over the whole time since ct_clock_init(), then fixed.
 */
#ifndef CTRACE_RUNTIME_CLOCK_H
#define CTRACE_RUNTIME_CLOCK_H

#include <stdint.h>
#include <time.h>

struct ct_clock {
    int use_counter;   /* 1: hardware counter, 0: CLOCK_MONOTONIC ns   */
    unsigned shift;    /* raw ticks per trace unit = 1 << shift        */
    uint64_t raw_hz;   /* raw ticks per second, start-up estimate      */
};

extern struct ct_clock ct_clock;

void ct_clock_init(void);

/* Raw ticks per second: measured on the first call (not from a signal
 * handler), the same value on every later call. */
uint64_t ct_clock_raw_hz(void);

/* CLOCK_MONOTONIC in nanoseconds (for waits and timeouts, not events);
 * async-signal-safe. */
uint64_t ct_mono_ns(void);

static inline uint64_t ct_now(void)
{
    if (ct_clock.use_counter) {
#if defined(__x86_64__) || defined(__i386__)
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        return ((uint64_t)hi << 32) | lo;
#elif defined(__aarch64__)
        uint64_t v;
        __asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
        return v;
#endif
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Same, ordered after earlier loads and stores (for slow paths whose
 * timestamps must follow an event another thread published). */
static inline uint64_t ct_now_ordered(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("mfence; lfence" ::: "memory");
#elif defined(__aarch64__)
    __asm__ volatile("dmb ish; isb" ::: "memory");
#endif
    return ct_now();
}

/* Trace units per second. */
static inline uint64_t ct_clock_units_per_sec(void)
{
    return ct_clock_raw_hz() >> ct_clock.shift;
}

/* Nanoseconds to raw ticks (for periods). */
static inline uint64_t ct_clock_ns_to_raw(uint64_t ns)
{
    return (uint64_t)((double)ns * (double)ct_clock_raw_hz() / 1e9);
}

#endif /* CTRACE_RUNTIME_CLOCK_H */
