/*
 * test_thread_count.c - while the tracer's threads start and end, the
 * program's view of its own thread count never includes them.
 *
 * The tracer hides its threads from /proc/self/status
 * (src/interpose/procfs.c) by the count of src/runtime/tracer_threads.c.
 * and from the link count of /proc/self/task (2 + its threads: the
 * stat family) by the count of src/runtime/tracer_threads.c.  Here the
 * main thread starts and stops tracing over and over (each round starts
 * and ends the advancer and the writer) while a second thread of the
 * program, from the second round on, reads "Threads:" and stats the task
 * directory in a loop: both must say 2 (the program's two threads) every
 * time.  Before, the table counted a tracer thread from just before its
 * clone to the end of its start routine, not as the kernel does (from
 * the clone until it releases the thread, after the exit path): about 1
 * read in 200 said 1, 3 or 4.
 *
 *   test_thread_count DIR [ROUNDS]      (default 1500)
 *   test_thread_count --no-interposers  (says skipped: exit 77)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrace.h"

static atomic_int stop_reading;
static long reads, wrong, first_wrong_value, hist[8], wrong_by_stat;

/* "Threads:" of /proc/self/status, as a program reads it; -1: unreadable. */
static long status_threads(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = strstr(buf, "\nThreads:");
    return p ? atol(p + 9) : -1;
}

/* Threads by the task directory's links ("." and ".."); -1: no stat. */
static long task_threads(void)
{
    struct stat st;
    return stat("/proc/self/task", &st) == 0 ? (long)st.st_nlink - 2 : -1;
}

static void *reader(void *arg)
{
    (void)arg;
    for (long k = 0; !atomic_load(&stop_reading); k++) {
        long n = k & 1 ? task_threads() : status_threads();
        reads++;
        if (n != 2 && wrong++ == 0)
            first_wrong_value = n;
        if (n != 2 && (k & 1))
            wrong_by_stat++;
        hist[n < 0 ? 0 : n > 7 ? 7 : n]++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_thread_count DIR [ROUNDS]\n");
        return 2;
    }
    if (!strcmp(argv[1], "--no-interposers")) {
        printf("SKIP: this build of libctrace has no interposers (ThreadSanitizer's build): "
               "nothing hides the tracer's threads\n");
        return 77;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 1500;
    if (rounds < 2)
        rounds = 2;
    char path[4096];
    snprintf(path, sizeof path, "%s/thread_count.trace", argv[1]);
    pthread_t th;
    for (int r = 0; r < rounds; r++) {
        /* From the second round on: a file opened before the process's
         * first tracer thread and read after it is the kernel's own
         * (procfs.c: copies are made once the tracer had a thread). */
        if (r == 1 && pthread_create(&th, NULL, reader, NULL) != 0) {
            fprintf(stderr, "FAIL: pthread_create\n");
            return 1;
        }
        int rc = ctrace_start_file(path);
        if (rc == CTRACE_OK)
            rc = ctrace_stop();
        if (rc != CTRACE_OK) {
            fprintf(stderr, "FAIL: round %d: %s\n", r, ctrace_strerror(rc));
            return 1;
        }
    }
    atomic_store(&stop_reading, 1);
    pthread_join(th, NULL);
    if (wrong) {
        fprintf(stderr,
                "FAIL: the program (2 threads) read a thread count other than 2 in %ld of %ld "
                "reads over %d start/stop rounds (first wrong value: %ld)\n",
                wrong, reads, rounds, first_wrong_value);
        fprintf(stderr, "counts read: 1: %ld, 2: %ld, 3: %ld, 4: %ld, 5: %ld, more: %ld, unreadable: %ld; "
                "wrong ones by the task directory's links: %ld, by the status file: %ld\n",
                hist[1], hist[2], hist[3], hist[4], hist[5], hist[6] + hist[7], hist[0],
                wrong_by_stat, wrong - wrong_by_stat);
        return 1;
    }
    printf("ok: Threads: 2 in all %ld reads over %d start/stop rounds\n", reads, rounds);
    return 0;
}
