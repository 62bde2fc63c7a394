/*
 * profile.h - a pprof profile being built from a trace: samples keyed by
 * stack, each with a fixed number of values (e.g. count and nanoseconds),
 * written as gzip'd profile.proto (pprof_write.c) that `go tool pprof` reads.
 *
 * Invariants:
 *   - Memory is per distinct string, function, location and stack, never per
 *     event: adding to an existing stack allocates nothing.
 *   - Identity, as Go's `go tool trace -pprof` computes it: a stack is its
 *     first PROF_MAX_DEPTH frames (deeper frames are cut, as Go cuts at 128);
 *     a location is (PC, function, file, line), a function is (name, file).
 *     Two reader stacks with the same frames are one sample.
 *   - Reader stack IDs are only valid within their generation: prof_stack()
 *     resolves a reader stack at once, and its cache of reader ID -> handle
 *     is dropped when the generation changes.  A stack under a leaf is
 *     the stack's own handle with the leaf's location on top, cached by
 *     that pair for the whole profile (the stack without the leaf is
 *     interned too: a sample with no values, never written).
 *   - Handles are >= 1 and stay valid until prof_free().  Samples whose
 *     values are all zero are not written (a stack interned for an interval
 *     that ended up empty), nor the locations and functions only they use.
 */
#ifndef CTRACE_ANALYSIS_PROFILE_H
#define CTRACE_ANALYSIS_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "ctrace_reader.h"

#define PROF_MAX_DEPTH 128 /* Go's pprofMaxStack */
#define PROF_MAX_VALUES 4

struct prof_value_type {
    const char *type, *unit; /* "contentions", "count" */
};

struct prof;

/* A profile whose samples carry nvalues values (<= PROF_MAX_VALUES) of the
 * given types; period_type/period as in profile.proto. */
struct prof *prof_new(size_t nvalues, const struct prof_value_type *types,
                      struct prof_value_type period_type, int64_t period);
void prof_free(struct prof *p);

/* The handle of the stack stack_id of generation gen of reader r, under an
 * extra innermost frame named leaf if leaf is not NULL (e.g. "region: x").
 * A missing stack (CTRACE_NO_STACK or unknown) becomes the one frame
 * "(unknown)". */
uint32_t prof_stack(struct prof *p, ctrace_reader *r, uint64_t stack_id, uint64_t gen,
                    const char *leaf);

/* Adds values (nvalues of them) to the sample of a stack handle. */
void prof_add(struct prof *p, uint32_t stack, const int64_t *values);

/* Sum of each value over all samples (nvalues entries). */
void prof_totals(const struct prof *p, int64_t *out);

/* Writes the profile to f as gzip'd profile.proto.  Returns 0, or -1 with a
 * message in err (write or compression failure). */
int prof_write_gzip(const struct prof *p, FILE *f, char *err, size_t errlen);

#endif
