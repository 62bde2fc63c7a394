/*
 * own_config.c - a program linked with libctrace that configures and
 * starts a trace of its own, and fails (exit 1) if either call does: run
 * under `ctrace run` by the owntrace case.  Its configuration (50 ms
 * generations, no CPU samples) must be its trace's, not the environment's,
 * and ctrace_configure must not fail while the environment's trace runs.
 */
#include <stdio.h>
#include <time.h>

#include "ctrace.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: own_config OUT.trace\n");
        return 2;
    }
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.period_ns = 50000000; /* 50 ms */
    cfg.cpu_hz = 0;
    int err = ctrace_configure(&cfg);
    if (err) {
        fprintf(stderr, "own_config: ctrace_configure: %s\n", ctrace_strerror(err));
        return 1;
    }
    err = ctrace_start_file(argv[1]);
    if (err) {
        fprintf(stderr, "own_config: ctrace_start_file: %s\n", ctrace_strerror(err));
        return 1;
    }
    /* 400 ms of regions: 8 generations at 50 ms, 1 at the default 1 s. */
    for (int i = 0; i < 40; i++) {
        ctrace_region_begin(0, "tick");
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
        ctrace_region_end(0, "tick");
    }
    err = ctrace_stop();
    if (err) {
        fprintf(stderr, "own_config: ctrace_stop: %s\n", ctrace_strerror(err));
        return 1;
    }
    printf("own_config: traced to %s\n", argv[1]);
    return 0;
}
