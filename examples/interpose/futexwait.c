/*
 * futexwait.c - waits made with syscall(SYS_futex, ...), as Rust's
 * standard library, libstdc++'s atomic waits and LLVM's OpenMP runtime make
 * them (tests/interpose, case futex).  Prints what each call returned, so
 * that a traced run must print the same:
 *   1. a wait that has to wait: a thread holds the word at 1 for 200 ms,
 *      the main thread waits (FUTEX_WAIT_PRIVATE) until it is set to 0;
 *   2. a wait whose word already differs: EAGAIN at once, no block;
 *   3. a wait that times out: FUTEX_WAIT with a relative 50 ms (ETIMEDOUT);
 *   4. FUTEX_WAIT_BITSET with an absolute deadline 50 ms ahead and a
 *      bitset: all six arguments (ETIMEDOUT);
 *   5. plain system calls through syscall(): gettid, getpid, and a bad
 *      one (ENOSYS), with errno.
 * The trace must hold three "sync: futex" blocks (1, 3, 4), not four.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint32_t word = 1;

static long futex(uint32_t *w, int op, uint32_t val, const struct timespec *ts, uint32_t bits)
{
    return syscall(SYS_futex, w, op, val, ts, NULL, bits);
}

static void *release(void *arg)
{
    (void)arg;
    struct timespec d = {0, 200 * 1000000L};
    nanosleep(&d, NULL);
    __atomic_store_n(&word, 0, __ATOMIC_SEQ_CST);
    futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, 0);
    return NULL;
}

static void show(const char *what, long r)
{
    printf("%s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, release, NULL);
    while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) == 1) {
        long r = futex(&word, FUTEX_WAIT_PRIVATE, 1, NULL, 0);
        if (r != 0 && errno != EAGAIN && errno != EINTR) {
            show("wait for the release", r);
            return 1;
        }
    }
    pthread_join(t, NULL);
    printf("released: word %u\n", word);

    errno = 0;
    show("word differs", futex(&word, FUTEX_WAIT_PRIVATE, 7, NULL, 0));

    struct timespec rel = {0, 50 * 1000000L};
    show("relative timeout", futex(&word, FUTEX_WAIT_PRIVATE, 0, &rel, 0));

    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec += 50 * 1000000L;
    if (abs.tv_nsec >= 1000000000L) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000L;
    }
    show("absolute deadline", futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, 0x5));

    printf("gettid is the thread: %d\n", syscall(SYS_gettid) == gettid());
    printf("getpid: %d\n", syscall(SYS_getpid) == getpid());
    errno = 0;
    show("no such call", syscall(100000));
    return 0;
}
