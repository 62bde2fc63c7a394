/*
 * losses.h - what a trace's writer says it lost (ctrace_reader_losses), in
 * words, for check, stat and run.
 */
#ifndef CTRACE_TOOLS_LOSSES_H
#define CTRACE_TOOLS_LOSSES_H

#include <stddef.h>

#include "ctrace_reader.h"

/* Non-zero when l holds any loss. */
int losses_any(const struct ctrace_losses *l);

/* Adds b to a. */
void losses_add(struct ctrace_losses *a, const struct ctrace_losses *b);

/* "12 events, 3 CPU samples, 1 thread (untraced), 2 stacks (table full)":
 * the non-zero counts only, into out. */
void losses_describe(const struct ctrace_losses *l, char *out, size_t size);

#endif
