/*
 * pages.c - a program for the pages of go tool trace (check_pages.sh):
 * threads that mostly sleep, wait on a mutex or a condition variable, or
 * sit in file syscalls (write, fdatasync), with some CPU work between the
 * waits, traced through the interposers (CTRACE_OUTPUT).
 *
 * The CPU work right after each wait is what makes wrong profiles show:
 * with the end of a wait carried by an event without a stack, Go 1.22's
 * and 1.23's -pprof=sched and -pprof=syscall would count it as scheduler
 * latency or syscall time (golang/go#74850).  The program prints what it
 * measured itself, for the test to compare with:
 *   spin_ns N      CPU work, all threads (wall time of the busy loops)
 *   syscall_ns N   time inside write + fdatasync, all threads
 *
 *   pages DIR      (DIR: where the scratch file goes)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 3
#define NROUNDS 8
#define SPIN_NS 8000000L /* per busy loop */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ticks;
static _Atomic int workers_done;
static int fd = -1;
static _Atomic int64_t spin_total, syscall_total;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void spin(long ns)
{
    int64_t t0 = now_ns(), t;
    volatile unsigned x = 0;
    while ((t = now_ns()) - t0 < ns)
        x++;
    spin_total += t - t0;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    char name[16];
    snprintf(name, sizeof name, "pages-%d", id);
    pthread_setname_np(pthread_self(), name);
    for (int i = 0; i < NROUNDS; i++) {
        usleep(2000);
        spin(SPIN_NS); /* after a sleep: not scheduler latency */

        int64_t t0 = now_ns();
        if (write(fd, "x", 1) != 1 || fdatasync(fd) != 0)
            perror("pages: write/fdatasync");
        syscall_total += now_ns() - t0;
        spin(SPIN_NS); /* after a syscall: not syscall time */

        pthread_mutex_lock(&lock); /* contended: the others spin inside */
        spin(SPIN_NS / 2);
        pthread_mutex_unlock(&lock);
        spin(SPIN_NS / 4);

        pthread_mutex_lock(&cv_lock);
        int want = ticks + 1;
        while (ticks < want)
            pthread_cond_wait(&cv, &cv_lock);
        pthread_mutex_unlock(&cv_lock);
        spin(SPIN_NS / 4); /* after a condition wait */
    }
    return NULL;
}

static void *ticker(void *arg)
{
    (void)arg;
    while (!workers_done) {
        usleep(3000);
        pthread_mutex_lock(&cv_lock);
        ticks++;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&cv_lock);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/pages.scratch", argc > 1 ? argv[1] : ".");
    fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    pthread_t th[NTHREADS], tk;
    pthread_create(&tk, NULL, ticker, NULL);
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    workers_done = 1;
    pthread_join(tk, NULL);
    close(fd);
    unlink(path);
    printf("spin_ns %lld\nsyscall_ns %lld\n", (long long)spin_total, (long long)syscall_total);
    return 0;
}
