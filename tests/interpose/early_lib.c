/*
 * early_lib.c - a shared library whose constructor runs before
 * libctrace's own constructors (the program's DT_NEEDED libraries are
 * initialized before preloaded ones): every wrapper it reaches must resolve
 * the real function lazily, with tracing not started yet.  It starts a
 * thread that outlives the constructor and is joined by main.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t early_thread;
static int early_value;

static void *early_worker(void *arg)
{
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&mu);
    early_value = 42;
    pthread_mutex_unlock(&mu);
    return arg;
}

__attribute__((constructor)) static void early_ctor(void)
{
    pthread_mutex_lock(&mu);
    pthread_mutex_unlock(&mu);
    static const char msg[] = "early constructor ran\n";
    (void)!write(1, msg, strlen(msg));
    pthread_create(&early_thread, NULL, early_worker, NULL);
}

int early_join(void)
{
    pthread_join(early_thread, NULL);
    return early_value;
}
