/*
 * fork_exec.c - a parent that forks two children: one execs a program (the
 * new image is traced under the child's pid), one works and exits without
 * exec (the forked child writes its own trace).  The parent waits for both
 * with waitpid (syscall events) and prints their exit codes.
 *
 * Invariants: deterministic stdout ("child A exit 3", "child B exit 4"),
 * exit code 0.  argv[1] is the program the first child execs (default
 * /bin/true is not used: we exec ourselves with "--leaf" to keep the test
 * free of outside programs).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *spin(void *arg)
{
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 2000000UL; i++)
        x += i;
    return arg;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--leaf") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, spin, NULL);
        pthread_join(t, NULL);
        usleep(10000);
        return 3;
    }
    fflush(stdout);
    pid_t a = fork();
    if (a == 0) {
        execl("/proc/self/exe", argv[0], "--leaf", (char *)NULL);
        _exit(100);
    }
    pid_t b = fork();
    if (b == 0) {
        pthread_t t;
        pthread_create(&t, NULL, spin, NULL);
        pthread_join(t, NULL);
        exit(4);
    }
    int st;
    waitpid(a, &st, 0);
    printf("child A exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    waitpid(b, &st, 0);
    printf("child B exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
