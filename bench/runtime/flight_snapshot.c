/*
 * flight_snapshot.c - the latency of a flight-recorder snapshot (issue 10):
 * from the request (ctrace_flight_write_fd / _file) to the last byte
 * written, for a ring of MaxBytes (default 32 MiB) filled by 4 threads
 * logging (bursts of 100 logs, 100 us apart; MinAge 60 s, so only MaxBytes
 * bounds the ring).
 *
 *   flight_snapshot [MAX_MIB] [REPS] [FILE]
 *
 * Prints, per repetition, the ring's memory, the snapshot's size and the
 * time to /dev/null (the encoding is copied, not re-encoded: this is the
 * cost of ending the generation in progress and writing) and to FILE
 * (default /tmp/flight_snapshot.trace: page cache, no fsync).  Wall time
 * (CLOCK_MONOTONIC), measured while the threads keep logging.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctrace.h"

static _Atomic int stop;

static void *logger(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (long n = 0; !atomic_load(&stop); n++) {
        ctrace_logf(0, "bench", "t%d %ld", id, n % 4096);
        if (n % 100 == 99)
            usleep(100); /* busy, not saturating the machine */
    }
    return NULL;
}

static const char *load(void)
{
    static char buf[128] = "?\n";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            snprintf(buf, sizeof buf, "?\n");
        fclose(f);
    }
    return buf;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    size_t max_mib = argc > 1 ? (size_t)atol(argv[1]) : 32;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    const char *file = argc > 3 ? argv[3] : "/tmp/flight_snapshot.trace";
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.cpu_hz = 0;
    ctrace_configure(&cfg);
    ctrace_flight_config fc;
    ctrace_flight_config_init(&fc);
    fc.min_age_ns = 60000000000ull;
    fc.max_bytes = max_mib << 20;
    fc.signal = 0;
    if (ctrace_flight_start(&fc) != CTRACE_OK) {
        fprintf(stderr, "flight_snapshot: cannot start the recorder\n");
        return 1;
    }
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, logger, (void *)(intptr_t)i);
    printf("# MaxBytes %zu MiB, 4 threads logging; ms from request to last byte; load %s", max_mib, load());
    printf("%-4s %10s %10s %12s %12s\n", "rep", "held_MiB", "snap_MiB", "devnull_ms", "file_ms");
    int devnull = open("/dev/null", O_WRONLY);
    for (int r = 0; r < reps; r++) {
        ctrace_flight_stats st;
        /* Fill: wait until the ring has dropped a generation (it is full). */
        uint64_t dropped0;
        ctrace_flight_get_stats(&st);
        dropped0 = st.generations_dropped;
        for (int i = 0; i < 600 && st.generations_dropped == dropped0; i++) {
            usleep(100000);
            ctrace_flight_get_stats(&st);
        }
        double t0 = now_ms();
        ctrace_flight_write_fd(devnull);
        double t1 = now_ms();
        ctrace_flight_write_file(file);
        double t2 = now_ms();
        struct stat sb;
        stat(file, &sb);
        printf("%-4d %10.1f %10.1f %12.1f %12.1f\n", r, st.bytes_held / 1048576.0,
               sb.st_size / 1048576.0, t1 - t0, t2 - t1);
        fflush(stdout);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ctrace_flight_stop();
    close(devnull);
    return 0;
}
