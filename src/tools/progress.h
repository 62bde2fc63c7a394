/*
 * progress.h - a progress line on stderr for long reads.  Shown only when
 * stderr is a terminal and the work has lasted over a second; erased when
 * done, so it never mixes with real output.
 */
#ifndef CTRACE_TOOLS_PROGRESS_H
#define CTRACE_TOOLS_PROGRESS_H

#include "ctrace_reader.h"

struct progress {
    int enabled;
    double start, last;
    int shown;
    const char *name;
};

void progress_init(struct progress *p, const char *name);
/* progress_tick's look at the clock (every 64K events). */
void progress_show(struct progress *p, ctrace_reader *r, unsigned long long n);
void progress_done(struct progress *p);

/* Cheap to call per event (n counts them): inline, a test and a mask. */
static inline void progress_tick(struct progress *p, ctrace_reader *r, unsigned long long n)
{
    if (p->enabled && !(n & 0xffff))
        progress_show(p, r, n);
}

#endif
