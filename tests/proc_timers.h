/*
 * proc_timers.h - how many POSIX timers the calling process has (lines
 * "ID: n" of /proc/self/timers), or -1 if the kernel does not list them.
 * Shared by tests that check timers are deleted.
 */
#ifndef CTRACE_TESTS_PROC_TIMERS_H
#define CTRACE_TESTS_PROC_TIMERS_H

#include <stdio.h>
#include <string.h>

static inline int count_proc_timers(void)
{
    FILE *f = fopen("/proc/self/timers", "re");
    if (!f)
        return -1;
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strncmp(line, "ID:", 3) == 0;
    fclose(f);
    return n;
}

#endif
