/*
 * satadd.h - sums of durations (and of profile values) that stop at the
 * largest int64 instead of overflowing, which C leaves undefined.  The
 * reader accepts traces that span up to 2^63 ns, so the times of
 * concurrent goroutines added up (per start function, per blocking reason,
 * per profile stack) can exceed an int64: such a total reads INT64_MAX.
 *
 * Invariant: sat_add(a, b) is a + b when that fits, else INT64_MAX (b > 0)
 * or INT64_MIN (b < 0); the analyses only add non-negative values.
 */
#ifndef CTRACE_ANALYSIS_SATADD_H
#define CTRACE_ANALYSIS_SATADD_H

#include <stdint.h>

static inline int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

#endif
