/*
 * fork_exec.c - every way a process starts another:
 *   A: fork + execl of ourselves ("--leaf": a thread, a sleep, exit 3);
 *      the exec'd image is traced under A's pid, file PATTERN with %p-1;
 *   B: fork, work, exit(4) without exec: the forked child's own trace;
 *      the forking thread then burns ~300 ms of CPU, which must show as CPU
 *      samples in that trace (B's pid is printed on stderr for the test);
 *   C: vfork + execv of ourselves (exit 3): no tracer state touched in the
 *      vfork child; the new image is traced under C's pid;
 *   D: vfork + exec of a missing program + _exit(5): the vfork child's
 *      _exit must not finish the parent's trace;
 *   E: posix_spawn of ourselves (exit 3).
 * The parent waits for each with waitpid (syscall events), prints the exit
 * codes, then sleeps once more: that sleep must be in its trace (it would
 * be lost if a vfork child had finished the parent's trace).
 *
 * Invariants: deterministic stdout, exit code 0; no outside programs.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "burn_cpu.h"

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
    usleep(1000); /* a traced call: arms this thread's CPU timer before B forks */
    pid_t b = fork();
    if (b == 0) {
        pthread_t t;
        pthread_create(&t, NULL, spin, NULL);
        pthread_join(t, NULL);
        burn_cpu_ms(300); /* on the thread that forked */
        exit(4);
    }
    fprintf(stderr, "child B pid %d\n", (int)b);
    int st;
    waitpid(a, &st, 0);
    printf("child A exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    waitpid(b, &st, 0);
    printf("child B exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    char *leaf_argv[] = {argv[0], "--leaf", NULL};
    pid_t c = vfork();
    if (c == 0) {
        execv("/proc/self/exe", leaf_argv);
        _exit(100);
    }
    waitpid(c, &st, 0);
    printf("child C (vfork) exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    pid_t d = vfork();
    if (d == 0) {
        execl("/nonexistent/program", "program", (char *)NULL);
        _exit(5);
    }
    waitpid(d, &st, 0);
    printf("child D (vfork, exec failed) exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

    extern char **environ;
    pid_t e;
    if (posix_spawn(&e, "/proc/self/exe", NULL, NULL, leaf_argv, environ) == 0) {
        waitpid(e, &st, 0);
        printf("child E (posix_spawn) exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    usleep(20000); /* the parent's last block: must be in its trace */
    return 0;
}
