/*
 * stress.c - hundreds of short-lived threads created and joined while tracing
 * is started and stopped over and over, in both modes (writer level to a
 * file; runtime level with a reader thread), with short generations.
 *
 *   stress [SECONDS] [ROUNDS]    (defaults: 8 s at most, 30 rounds)
 *
 * Writes stress-NN.trace (one per round) for the driver to validate.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "ctrace.h"
#include "testutil.h"

#define NSPAWNERS 4
#define BATCH 8
/* At most this many threads in all: enough churn, and within what TSan's
 * runtime supports over a process's life. */
#define MAX_THREADS 4000

static atomic_int stop_spawning;
static atomic_long threads_created, create_failures;

static void *leaf(void *arg)
{
    long n = (long)arg;
    ctrace_task t = ctrace_task_begin(0, "leaf");
    ctrace_region_begin(t, "leaf-work");
    ctrace_logf(t, "leaf", "thread %ld", n);
    if (n % 3 == 0) {
        ctrace_block(CTRACE_BLOCK_SLEEP);
        usleep(100);
        ctrace_unblock();
    }
    volatile unsigned x = (unsigned)n;
    for (int i = 0; i < 1000; i++)
        x = x * 1664525u + 1013904223u;
    ctrace_region_end(t, "leaf-work");
    ctrace_task_end(t);
    return NULL;
}

static void *spawner(void *arg)
{
    (void)arg;
    long n = 0;
    while (!atomic_load(&stop_spawning)) {
        if (atomic_load(&threads_created) >= MAX_THREADS) {
            t_sleep_ms(5);
            continue;
        }
        t_sleep_ms(1); /* spread the churn over the start/stop rounds */
        pthread_t th[BATCH];
        int ok[BATCH];
        for (int i = 0; i < BATCH; i++) {
            ok[i] = pthread_create(&th[i], NULL, leaf, (void *)n++) == 0;
            if (ok[i])
                atomic_fetch_add(&threads_created, 1);
            else
                atomic_fetch_add(&create_failures, 1);
        }
        for (int i = 0; i < BATCH; i++)
            if (ok[i])
                pthread_join(th[i], NULL);
    }
    return NULL;
}

struct reader {
    FILE *out;
    size_t bytes;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    const void *p;
    size_t len;
    while ((p = ctrace_read_trace(&len)) != NULL) {
        fwrite(p, 1, len, r->out);
        r->bytes += len;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 8;
    int rounds = argc > 2 ? atoi(argv[2]) : 30;

    t_phase("start/stop rounds", (unsigned)seconds + 60);
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.period_ns = 30ull * 1000 * 1000; /* generations advance while threads come and go */
    CHECK_RC(ctrace_configure(&cfg), CTRACE_OK, "ctrace_configure(period 30 ms)");

    pthread_t sp[NSPAWNERS];
    for (int i = 0; i < NSPAWNERS; i++)
        pthread_create(&sp[i], NULL, spawner, NULL);

    double end = t_now() + seconds;
    int done = 0, start_failed = 0, stop_failed = 0;
    for (int r = 0; r < rounds && t_now() < end; r++) {
        char name[32];
        snprintf(name, sizeof name, "stress-%02d.trace", r);
        int rc;
        if (r % 3 == 2) {
            /* Runtime level: our own reader thread. */
            struct reader rd = {fopen(name, "wb"), 0};
            rc = ctrace_start_trace();
            if (rc != CTRACE_OK) {
                printf("FAIL: round %d: ctrace_start_trace: %s\n", r, ctrace_strerror(rc));
                start_failed++;
                fclose(rd.out);
                continue;
            }
            pthread_t th;
            pthread_create(&th, NULL, reader_main, &rd);
            t_sleep_ms(20 + 10 * (r % 4));
            rc = ctrace_stop_trace();
            pthread_join(th, NULL);
            fclose(rd.out);
        } else {
            rc = ctrace_start_file(name);
            if (rc != CTRACE_OK) {
                printf("FAIL: round %d: ctrace_start_file: %s\n", r, ctrace_strerror(rc));
                start_failed++;
                continue;
            }
            t_sleep_ms(20 + 10 * (r % 4));
            rc = ctrace_stop();
        }
        if (rc != CTRACE_OK) {
            printf("FAIL: round %d: stop: %s\n", r, ctrace_strerror(rc));
            stop_failed++;
        }
        done++;
        /* Sometimes restart at once, sometimes let threads live untraced. */
        if (r % 2)
            t_sleep_ms(5);
    }
    t_phase("joining the spawner threads", 30);
    atomic_store(&stop_spawning, 1);
    for (int i = 0; i < NSPAWNERS; i++)
        pthread_join(sp[i], NULL);

    ctrace_stats st;
    ctrace_get_stats(&st);
    printf("stress: %d rounds, %ld threads created (%ld failures), last trace: %llu threads, "
           "%llu generations, %llu events dropped\n",
           done, atomic_load(&threads_created), atomic_load(&create_failures),
           (unsigned long long)st.threads, (unsigned long long)st.generations,
           (unsigned long long)st.events_dropped);
    CHECK(done >= 10, "at least 10 start/stop rounds (%d)", done);
    CHECK(start_failed == 0, "every start succeeded (%d failed)", start_failed);
    CHECK(stop_failed == 0, "every stop succeeded (%d failed)", stop_failed);
    CHECK(atomic_load(&threads_created) >= 300, "hundreds of threads created and joined (%ld)",
          atomic_load(&threads_created));
    CHECK(!ctrace_enabled(), "tracing is off at the end");
    return t_finish();
}
