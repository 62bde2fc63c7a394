/*
 * selfkill.c - threads busy with locks and sleeps, then the program kills
 * itself mid-run with a signal that has its default action: SIGTERM
 * (default) or the signal named by argv[1] (TERM, INT, HUP, PIPE, QUIT,
 * USR1, USR2, XCPU sent with kill; ALRM from setitimer(ITIMER_REAL) while
 * main sleeps; VTALRM from setitimer(ITIMER_VIRTUAL) while main computes;
 * KILL sent with kill, KILLRAISE: SIGKILL with raise).
 *
 * Expected: the process dies of that signal (the caller sees the same wait
 * status traced or not) and, traced, the trace is complete and valid.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
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

static const struct {
    const char *name;
    int sig;
} sigs[] = {{"TERM", SIGTERM}, {"INT", SIGINT},   {"HUP", SIGHUP},   {"PIPE", SIGPIPE},
            {"QUIT", SIGQUIT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"XCPU", SIGXCPU},
            {"ALRM", SIGALRM}, {"VTALRM", SIGVTALRM}, {"KILL", SIGKILL}, {"KILLRAISE", SIGKILL}};

int main(int argc, char **argv)
{
    int sig = SIGTERM;
    for (size_t i = 0; argc > 1 && i < sizeof sigs / sizeof sigs[0]; i++)
        if (!strcmp(argv[1], sigs[i].name))
            sig = sigs[i].sig;
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    usleep(200000);
    printf("killing myself\n");
    fflush(stdout);
    if (sig == SIGALRM || sig == SIGVTALRM) {
        /* The kernel sends it: a timer the program forgot, or meant to. */
        struct itimerval it = {{0, 0}, {0, 100000}};
        setitimer(sig == SIGALRM ? ITIMER_REAL : ITIMER_VIRTUAL, &it, NULL);
        for (volatile unsigned long spin = 0; sig == SIGVTALRM; spin++)
            ;
    } else if (argc > 1 && !strcmp(argv[1], "KILLRAISE")) {
        raise(sig);
    } else {
        kill(getpid(), sig);
    }
    pause();
    return 0;
}
