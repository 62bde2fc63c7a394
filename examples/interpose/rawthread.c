/*
 * rawthread.c - a thread the pthread_create interposer never sees: started
 * through libc's own pthread_create, looked up in libc by dlsym, as
 * allocators do for their background threads (jemalloc's, among them).
 * The thread then waits on a condition variable a few times.
 *
 * Expected: same output traced and untraced; traced, the thread appears at
 * its first traced call, and `ctrace stat` groups it under its own start
 * function (raw_worker), not under libc's thread entry (clone3, start_thread).
 * With an argument, the thread names itself that (pthread_setname_np).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, rounds = 50;

__attribute__((noinline)) static void *raw_worker(void *arg)
{
    if (arg) /* a name of its own, given on the command line */
        pthread_setname_np(pthread_self(), (const char *)arg);
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

int main(int argc, char **argv)
{
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    create_fn create = libc ? (create_fn)dlsym(libc, "pthread_create") : NULL;
    if (!create) {
        fprintf(stderr, "rawthread: libc's pthread_create not found\n");
        return 1;
    }
    pthread_t t;
    if (create(&t, NULL, raw_worker, argc > 1 ? argv[1] : NULL) != 0)
        return 1;
    for (int i = 0; i < rounds; i++) {
        pthread_mutex_lock(&mu);
        turn = 1;
        pthread_cond_signal(&cv);
        while (turn != 0)
            pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
    }
    pthread_join(t, NULL);
    printf("%d round trips with a thread libc started\n", rounds);
    return 0;
}
