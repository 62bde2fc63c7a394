/*
 * mainexit.c - the main thread ends with pthread_exit; the process lives
 * on until its last thread ends, then exits with status 0 (glibc's rule).
 *
 *   mainexit workers   main leaves first: the workers print after it
 *   mainexit alone     the workers are joined first: main is the last
 *   mainexit fork      a forked child's only thread calls pthread_exit
 *
 * Under ctrace run the tracer's own threads must not keep the process
 * alive (tests/interpose, case mainexit).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *worker(void *arg)
{
    usleep(100000 + 50000 * (long)arg);
    printf("worker %ld done\n", (long)arg);
    fflush(stdout);
    if ((long)arg == 2)
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
    if (strcmp(mode, "alone") == 0)
        for (int i = 0; i < 3; i++)
            pthread_join(t[i], NULL);
    printf("main leaves\n");
    fflush(stdout);
    pthread_exit(NULL);
}
