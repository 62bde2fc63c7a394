/*
 * metrics.h - the per-generation metrics Go's tools read (metrics.c says
 * which, why, and who writes them).
 */
#ifndef CTRACE_RUNTIME_METRICS_H
#define CTRACE_RUNTIME_METRICS_H

#include <stdint.h>

#include "buf.h"

/* Bytes of the two metric events, at most. */
#define CT_METRICS_MAX (2 * (1 + 3 * VARINT_MAX_LEN))

/* At the trace's start and before each advance (advance.c): samples
 * malloc's bytes in use for the next metric events.  Takes malloc's arena
 * locks: never called inside a critical section or with a tracer lock a
 * thread may wait for while it writes an event (the registry, the queue). */
void ct_metrics_sample(void);

/* Whether gen still lacks its metrics (one relaxed load). */
int ct_metrics_due(uint64_t gen);

/* Writes the metrics of gen at ts into b, whose M has a running G on its
 * P, unless some batch of gen has them already (or b lacks room). */
void ct_metrics_write(struct ct_buf *b, uint64_t gen, uint64_t ts);

#endif /* CTRACE_RUNTIME_METRICS_H */
