/*
 * threads.c - see threads.h.
 */
#define _GNU_SOURCE
#include "threads.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

unsigned tool_read_threads(void)
{
    cpu_set_t set;
    long n;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    else
        n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 1 ? 2 : 1;
}

int tool_parse_threads(const char *cmd, const char *v, unsigned *out)
{
    if (strcmp(v, "1") && strcmp(v, "2")) {
        fprintf(stderr, "ctrace %s: --threads takes 1 or 2, not '%s'\n", cmd, v);
        return -1;
    }
    *out = (unsigned)(*v - '0');
    return 0;
}
