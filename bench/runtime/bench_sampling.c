/*
 * bench_sampling.c - what CPU sampling costs the tracer's own threads: the
 * advancer drains every thread's sample ring every quarter-ring interval
 * (cpuprof.h) and writes the samples; this measures that work, in CPU time
 * of the tracer's threads per second, and per sample written.
 *
 *   bench_sampling HZ SECONDS BURNERS IDLERS
 *
 * BURNERS threads burn CPU for SECONDS of wall time (each is sampled at HZ
 * per CPU-second), IDLERS threads sleep (their rings are drained, empty,
 * at every interval: the fixed cost per thread).  The trace goes to
 * /dev/null.  The tracer's threads are the process's threads other than
 * main and ours (read from /proc/self/task while tracing); their CPU time
 * comes from their CPU-time clocks.  HZ 0 gives the baseline: no sampling,
 * so the advancer wakes only at generation ends.
 *
 * Prints one line: hz, threads, tracer CPU ms per second of wall time,
 * samples written, samples dropped, tracer CPU us per sample.
 */
#define _GNU_SOURCE
#include <ctrace.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_OURS 1024
static pid_t ours[MAX_OURS];
static _Atomic int nours;
static _Atomic int stop;

static double now_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void mark_ours(void)
{
    int i = atomic_fetch_add(&nours, 1);
    if (i < MAX_OURS)
        ours[i] = (pid_t)syscall(SYS_gettid);
}

static void *burner(void *arg)
{
    (void)arg;
    mark_ours();
    volatile unsigned long x = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed))
        for (int i = 0; i < 100000; i++)
            x += (unsigned long)i * i;
    return NULL;
}

static void *idler(void *arg)
{
    (void)arg;
    mark_ours();
    while (!atomic_load(&stop)) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* CPU seconds of the process's threads that are not ours. */
static double tracer_cpu(void)
{
    DIR *d = opendir("/proc/self/task");
    double sum = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        pid_t tid = (pid_t)atoi(de->d_name);
        if (tid <= 0)
            continue;
        int mine = 0;
        for (int i = 0; i < atomic_load(&nours) && i < MAX_OURS; i++)
            mine |= ours[i] == tid;
        if (mine)
            continue;
        /* The CPU-time clock of thread tid (the kernel's encoding). */
        clockid_t c = (clockid_t)((~(unsigned)tid << 3) | 6u);
        struct timespec ts;
        if (clock_gettime(c, &ts) == 0)
            sum += (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    }
    if (d)
        closedir(d);
    return sum;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_sampling HZ SECONDS BURNERS IDLERS\n");
        return 2;
    }
    unsigned hz = (unsigned)atoi(argv[1]);
    double secs = atof(argv[2]);
    int burners = atoi(argv[3]), idlers = atoi(argv[4]);
    mark_ours();
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.cpu_hz = hz;
    if (ctrace_configure(&cfg) != CTRACE_OK || ctrace_start_file("/dev/null") != CTRACE_OK) {
        fprintf(stderr, "cannot start tracing\n");
        return 1;
    }
    pthread_t th[MAX_OURS];
    int n = 0;
    for (int i = 0; i < burners && n < MAX_OURS - 1; i++)
        pthread_create(&th[n++], NULL, burner, NULL);
    for (int i = 0; i < idlers && n < MAX_OURS - 1; i++)
        pthread_create(&th[n++], NULL, idler, NULL);
    double t0 = now_s(CLOCK_MONOTONIC), c0 = tracer_cpu();
    struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
    nanosleep(&ts, NULL);
    double t1 = now_s(CLOCK_MONOTONIC), c1 = tracer_cpu();
    atomic_store(&stop, 1);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    ctrace_stop();
    ctrace_stats st;
    ctrace_get_stats(&st);
    double cpu = c1 - c0;
    printf("hz %u threads %d+%d: tracer CPU %.2f ms/s, %llu samples, %llu dropped, %.2f us/sample\n",
           hz, burners, idlers, cpu * 1e3 / (t1 - t0), (unsigned long long)st.samples,
           (unsigned long long)st.samples_dropped, st.samples ? cpu * 1e6 / (double)st.samples : 0.0);
    return 0;
}
