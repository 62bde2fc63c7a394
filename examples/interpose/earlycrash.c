/*
 * earlycrash.c - the program crashes at once, first thing in main:
 * SIGSEGV (default), or abort() with argv[1] "abort".
 *
 * Under ctrace run the tracer's finisher thread, started with the trace
 * just before, may not have run yet (one CPU: taskset in the test).  The
 * trace must be finished all the same (it was cut to its header, or to
 * nothing: tests/interpose, case earlycrash).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    fputs("crashing\n", stdout);
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "abort") == 0)
        abort();
    *(volatile int *)0 = 1;
    return 0;
}
