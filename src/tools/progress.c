/*
 * progress.c - see progress.h.
 */
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, const char *name)
{
    p->enabled = isatty(STDERR_FILENO);
    p->start = p->last = now();
    p->shown = 0;
    p->name = name;
}

void progress_show(struct progress *p, ctrace_reader *r, unsigned long long n)
{
    double t = now();
    if (t - p->start < 1.0 || t - p->last < 0.2)
        return;
    p->last = t;
    int64_t size = ctrace_reader_size(r);
    uint64_t done = ctrace_reader_bytes_read(r);
    if (size > 0)
        fprintf(stderr, "\r%s: %3.0f%% %llu events", p->name, 100.0 * (double)done / (double)size,
                (unsigned long long)n);
    else
        fprintf(stderr, "\r%s: %llu MB %llu events", p->name, (unsigned long long)(done >> 20),
                (unsigned long long)n);
    p->shown = 1;
}

void progress_done(struct progress *p)
{
    if (p->shown)
        fprintf(stderr, "\r\033[K");
    p->shown = 0;
}
