/*
 * losses.c - loss records in words (losses.h).  The words say what each
 * count means for the reader of the trace: events missing, samples
 * missing, threads absent from it, stacks shown as none.
 */
#include "losses.h"

#include <inttypes.h>
#include <stdio.h>

int losses_any(const struct ctrace_losses *l)
{
    return l->events || l->samples || l->stacks || l->strings || l->threads;
}

void losses_add(struct ctrace_losses *a, const struct ctrace_losses *b)
{
    a->events += b->events;
    a->samples += b->samples;
    a->stacks += b->stacks;
    a->strings += b->strings;
    a->threads += b->threads;
    a->records += b->records;
}

void losses_describe(const struct ctrace_losses *l, char *out, size_t size)
{
    const struct {
        uint64_t n;
        const char *one, *many;
    } part[] = {
        {l->events, "event", "events"},
        {l->samples, "CPU sample", "CPU samples"},
        {l->threads, "thread (untraced)", "threads (untraced)"},
        {l->stacks, "stack (table full)", "stacks (table full)"},
        {l->strings, "string shown empty (table full)", "strings shown empty (table full)"},
    };
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < sizeof part / sizeof part[0]; i++) {
        if (!part[i].n || used >= size)
            continue;
        int k = snprintf(out + used, size - used, "%s%" PRIu64 " %s", used ? ", " : "", part[i].n,
                         part[i].n == 1 ? part[i].one : part[i].many);
        if (k > 0)
            used += (size_t)k;
    }
}
