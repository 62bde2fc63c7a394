/*
 * satadd.h - int64 nanosecond arithmetic on event times that stops at the
 * largest int64 instead of overflowing, which C leaves undefined.
 *
 * The reader accepts traces that span up to 2^63 ns and more: its times
 * (ctrace_event.time) wrap past INT64_MAX as Go's int64 do (reader/
 * deliver.c keeps Go's values), so an event after the wrap has a time
 * below the one before.  Consumers (the exports, stat, pprof) therefore
 * take the time between two events as ns_since: the unsigned difference,
 * right across the wrap, read as INT64_MAX beyond it; and sum durations
 * with sat_add.
 *
 * Invariants: sat_add(a, b) is a + b when that fits, else INT64_MAX
 * (b > 0) or INT64_MIN (b < 0).  ns_since(from, to) is to - from for the
 * times of two events, `to` not earlier, in [0, INT64_MAX].
 */
#ifndef CTRACE_BASE_SATADD_H
#define CTRACE_BASE_SATADD_H

#include <stdint.h>

static inline int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static inline int64_t ns_since(int64_t from, int64_t to)
{
    uint64_t d = (uint64_t)to - (uint64_t)from;
    return d > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)d;
}

#endif
