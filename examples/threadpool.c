/*
 * threadpool.c - a pool of 4 worker threads taking jobs from a shared queue.
 *
 * Every job is a task ("job") with a region ("compute") for its work and a
 * region ("publish") for the update of the shared statistics, which sit
 * behind one pthread mutex that all workers fight for.  A contended
 * acquisition is recorded as a "sync" block (see traced_lock).
 *
 *   threadpool [OUT.trace]      (default: $CTRACE_OUT, else threadpool.trace)
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrace.h"

#define NWORKERS 4
#define NJOBS 400

struct job {
    int id;
    unsigned seed;
};

static struct job jobs[NJOBS];
static int next_job;                /* index of the next job to take */
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t total;              /* shared statistics */
static uint64_t histogram[16];
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

/* Locks m; if another thread holds it, the wait shows in the trace. */
static void traced_lock(pthread_mutex_t *m)
{
    if (pthread_mutex_trylock(m) == 0)
        return;
    ctrace_block(CTRACE_BLOCK_SYNC);
    pthread_mutex_lock(m);
    ctrace_unblock();
}

static struct job *take_job(void)
{
    struct job *j = NULL;
    traced_lock(&queue_lock);
    if (next_job < NJOBS)
        j = &jobs[next_job++];
    pthread_mutex_unlock(&queue_lock);
    return j;
}

/* Some CPU work: a few thousand rounds of a xorshift generator. */
static uint64_t compute(unsigned seed)
{
    uint64_t x = seed | 1;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

static void *worker(void *arg)
{
    char name[16];
    snprintf(name, sizeof name, "worker-%d", (int)(intptr_t)arg);
    ctrace_thread_name(name);

    struct job *j;
    int done = 0;
    while ((j = take_job()) != NULL) {
        ctrace_task task = ctrace_task_begin(0, "job");

        ctrace_region_begin(task, "compute");
        uint64_t v = compute(j->seed);
        ctrace_region_end(task, "compute");

        ctrace_region_begin(task, "publish");
        traced_lock(&stats_lock);
        /* The update of the shared statistics is slow (twice the job
         * itself), so the workers queue up behind stats_lock. */
        for (int k = 0; k < 16; k++)
            histogram[(v >> (4 * k)) & 15]++;
        total += compute((unsigned)(v ^ total)) & 0xff;
        total += compute((unsigned)(v + total)) & 0xff;
        pthread_mutex_unlock(&stats_lock);
        ctrace_region_end(task, "publish");

        ctrace_task_end(task);
        done++;
    }
    ctrace_logf(0, "pool", "%s finished %d jobs", name, done);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : getenv("CTRACE_OUT");
    if (out == NULL || *out == '\0')
        out = "threadpool.trace";

    int err = ctrace_start_file(out);
    if (err != CTRACE_OK) {
        fprintf(stderr, "threadpool: cannot trace to %s: %s (%s)\n", out,
                ctrace_strerror(err), strerror(errno));
        return 1;
    }
    ctrace_thread_name("main");

    for (int i = 0; i < NJOBS; i++) {
        jobs[i].id = i;
        jobs[i].seed = 2654435761u * (unsigned)(i + 1);
    }

    pthread_t threads[NWORKERS];
    for (int i = 0; i < NWORKERS; i++) {
        int rc = pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)(i + 1));
        if (rc != 0) {
            fprintf(stderr, "threadpool: pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }
    for (int i = 0; i < NWORKERS; i++)
        pthread_join(threads[i], NULL);

    err = ctrace_stop();
    if (err != CTRACE_OK) {
        fprintf(stderr, "threadpool: ctrace_stop: %s\n", ctrace_strerror(err));
        return 1;
    }
    printf("threadpool: %d jobs on %d workers, total %llu, trace in %s\n", NJOBS, NWORKERS,
           (unsigned long long)total, out);
    return 0;
}
