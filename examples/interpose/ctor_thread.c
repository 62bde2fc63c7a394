/*
 * ctor_thread.c - a thread created from a constructor, before main, which
 * keeps working (a condition-variable handoff with main) while main runs.
 *
 * Expected: same output traced and untraced; traced, the trace has the
 * constructor's thread and its condition-variable waits.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, rounds = 200;
static pthread_t early;

static void *ping(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++) {
        pthread_mutex_lock(&mu);
        while (turn != 1)
            pthread_cond_wait(&cv, &mu);
        turn = 0;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

__attribute__((constructor)) static void start_early(void)
{
    pthread_create(&early, NULL, ping, NULL);
}

int main(void)
{
    for (int i = 0; i < rounds; i++) {
        pthread_mutex_lock(&mu);
        turn = 1;
        pthread_cond_signal(&cv);
        while (turn != 0)
            pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
    }
    pthread_join(early, NULL);
    printf("%d round trips\n", rounds);
    return 0;
}
