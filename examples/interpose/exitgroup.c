/*
 * exitgroup.c - the process ends through the exit_group system call with
 * status 5, while two threads work: no exit(), no atexit handler.
 *
 *   exitgroup syscall   through glibc's syscall() function (as a C program
 *                       that wants no atexit handler may do)
 *   exitgroup raw       the system call instruction itself (as Go's runtime
 *                       does), where no function of the C library is called
 *
 * Under ctrace run: syscall() is an exit the tracer sees (the trace is
 * finished first); the raw instruction is not (the trace is cut, and
 * ctrace run says so).  "raw" is x86-64 and aarch64 only (else: syscall).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    for (;;) {
        pthread_mutex_lock(&mu);
        pthread_mutex_unlock(&mu);
        usleep(500);
    }
    return arg;
}

static void raw_exit_group(long status)
{
#if defined(__x86_64__)
    __asm__ volatile("syscall" : : "a"((long)SYS_exit_group), "D"(status) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = SYS_exit_group;
    register long x0 __asm__("x0") = status;
    __asm__ volatile("svc 0" : : "r"(x8), "r"(x0) : "memory");
#endif
    syscall(SYS_exit_group, status);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "syscall";
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    usleep(300000);
    printf("leaving by exit_group (%s)\n", mode);
    fflush(stdout);
    if (strcmp(mode, "raw") == 0)
        raw_exit_group(5);
    syscall(SYS_exit_group, 5);
    return 0;
}
