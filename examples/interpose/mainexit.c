/*
 * mainexit.c - the main thread ends with pthread_exit; the process lives
 * on until its last thread ends, then exits with status 0 (glibc's rule).
 *
 *   mainexit workers   main leaves first: the workers print after it
 *   mainexit alone     the workers are joined first: main is the last
 *   mainexit fork      a forked child's only thread calls pthread_exit
 *   mainexit rawexit   main leaves first through the exit system call
 *                      with status 3 (no pthread_exit, no atexit): the
 *                      process ends with its last thread, status 3
 *
 * Under ctrace run the tracer's own threads must not keep the process
 * alive (tests/interpose, case mainexit).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The workers print in turn, after main's line in "workers" mode, so that
 * the output is the same from run to run. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long turn = -1;

static void next_turn(long t)
{
    pthread_mutex_lock(&mu);
    turn = t;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void *worker(void *arg)
{
    long i = (long)arg;
    usleep(20000);
    pthread_mutex_lock(&mu);
    while (turn != i)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    printf("worker %ld done\n", i);
    fflush(stdout);
    next_turn(i + 1);
    if (i == 2)
        pthread_exit(NULL); /* the last one leaves with pthread_exit too */
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "workers";
    if (strcmp(mode, "fork") == 0) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            printf("child leaves\n");
            fflush(stdout);
            pthread_exit(NULL);
        }
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid)
            return 1;
        printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return 0;
    }
    pthread_t t[3];
    for (long i = 0; i < 3; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
            return 1;
    if (strcmp(mode, "alone") == 0) {
        next_turn(0);
        for (int i = 0; i < 3; i++)
            pthread_join(t[i], NULL);
    }
    printf("main leaves\n");
    fflush(stdout);
    if (strcmp(mode, "alone") != 0)
        next_turn(0); /* the workers' turn, after this line */
    if (strcmp(mode, "rawexit") == 0)
        syscall(SYS_exit, 3); /* this thread only */
    pthread_exit(NULL);
}
