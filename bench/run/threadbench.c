/*
 * threadbench.c - the cost of a short thread: create, one uncontended
 * mutex lock/unlock (a traced call, so the thread registers), join; in
 * rounds of 32 threads at a time, as a thread-per-job program does.
 * Prints the median of 5 runs of ROUNDS rounds, in microseconds a thread
 * (wall time), and the peak RSS.  Run by thread_cost.sh.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define PER_ROUND 32

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *job(void *arg)
{
    pthread_mutex_lock(&mu);
    pthread_mutex_unlock(&mu);
    return arg;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    double us[5];
    for (int run = 0; run < 5; run++) {
        double t0 = now();
        for (int r = 0; r < rounds; r++) {
            pthread_t th[PER_ROUND];
            for (int i = 0; i < PER_ROUND; i++)
                if (pthread_create(&th[i], NULL, job, NULL) != 0)
                    return 1;
            for (int i = 0; i < PER_ROUND; i++)
                pthread_join(th[i], NULL);
        }
        us[run] = (now() - t0) * 1e6 / ((double)rounds * PER_ROUND);
    }
    qsort(us, 5, sizeof us[0], cmp);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%.1f us/thread (median of 5 x %d threads), peak RSS %ld MB\n", us[2],
           rounds * PER_ROUND, ru.ru_maxrss / 1024);
    return 0;
}
