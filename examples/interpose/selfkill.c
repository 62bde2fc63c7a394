/*
 * selfkill.c - threads busy with locks and sleeps, then the program kills
 * itself mid-run with a signal that has its default action: SIGTERM
 * (default) or the signal named by argv[1] (TERM, INT, HUP, PIPE).
 *
 * Expected: the process dies of that signal (the caller sees the same wait
 * status traced or not) and, traced, the trace is complete and valid.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned long counter;

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&mu);
        unsigned long c = ++counter;
        pthread_mutex_unlock(&mu);
        if (c % 1000 == 0)
            usleep(100);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int sig = SIGTERM;
    if (argc > 1) {
        if (!strcmp(argv[1], "INT")) sig = SIGINT;
        else if (!strcmp(argv[1], "HUP")) sig = SIGHUP;
        else if (!strcmp(argv[1], "PIPE")) sig = SIGPIPE;
    }
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    usleep(200000);
    printf("killing myself\n");
    fflush(stdout);
    kill(getpid(), sig);
    pause();
    return 0;
}
