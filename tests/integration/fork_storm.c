/*
 * fork_storm.c - the main thread forks many times while four threads make
 * events as fast as they can (ctrace_log in a loop: buffers fill, get queued
 * and recycled through the pool all the time, and the P-id and registry
 * locks change hands).  Each child _exits at once.  Whatever the other
 * threads were doing at the fork, the child must neither crash (a buffer
 * freed twice by the fork-child clean-up) nor hang (a tracer lock another
 * thread held at the fork).  A child that has not ended after a while is
 * killed and counted as hung: the test never hangs itself.  The trace goes
 * to a callback that counts and discards it (the workers write hundreds
 * of MB a second; the fork test checks the content of a forking trace).
 *
 *   it_fork_storm [FORKS]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctrace.h"
#include "testutil.h"

#define WORKERS 4
#define HANG_SECONDS 10.0 /* a child that takes this long is hung */

static atomic_int stop_workers;
static long pause_mask = 4095;

static void *worker(void *arg)
{
    long id = (long)arg;
    ctrace_thread_name("storm-worker");
    for (long i = 0; !atomic_load_explicit(&stop_workers, memory_order_relaxed); i++) {
        ctrace_log(0, "storm", "a log event that fills buffers quickly");
        if ((i & 1023) == 0)
            ctrace_logf(0, "storm", "worker %ld at %ld", id, i);
        if ((i & pause_mask) == 0)
            usleep(50); /* keeps the volume (and the fork's cost) sane */
    }
    return NULL;
}

/* Waits for pid; kills it if it has not ended in HANG_SECONDS.  Returns its
 * status, or -1 if it hung. */
static int wait_child(pid_t pid)
{
    double deadline = t_now() + HANG_SECONDS;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0)
            return -2;
        if (t_now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        usleep(200);
    }
}

static _Atomic unsigned long long bytes;

static int discard(void *arg, const void *data, size_t len)
{
    (void)arg;
    (void)data;
    atomic_fetch_add(&bytes, len);
    return 0;
}

int main(int argc, char **argv)
{
    int forks = argc > 1 ? atoi(argv[1]) : 2000;
    if (argc > 2)
        pause_mask = atol(argv[2]);
    t_phase("fork storm", 600);
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.period_ns = 20ull * 1000 * 1000; /* many generation advances too */
    ctrace_configure(&cfg);
    CHECK_RC(ctrace_start(discard, NULL), CTRACE_OK, "ctrace_start");
    pthread_t th[WORKERS];
    for (long i = 0; i < WORKERS; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);

    int crashed = 0, hung = 0, failed = 0, first_bad = 0;
    for (int i = 0; i < forks; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            failed++;
            continue;
        }
        if (pid == 0)
            _exit(0);
        int st = wait_child(pid);
        if (st == -1) {
            hung++;
        } else if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            crashed++;
            if (!first_bad)
                first_bad = st;
        }
    }
    atomic_store(&stop_workers, 1);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(th[i], NULL);
    CHECK(hung == 0, "no child hung (%d of %d did)", hung, forks);
    CHECK(crashed == 0, "no child died abnormally (%d of %d did; first status 0x%x)", crashed,
          forks, first_bad);
    CHECK(failed == 0, "every fork succeeded (%d failed)", failed);
    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop");
    ctrace_stats st;
    ctrace_get_stats(&st);
    CHECK(atomic_load(&bytes) > 1000000, "the parent traced all along (%llu bytes, %llu generations)",
          atomic_load(&bytes), (unsigned long long)st.generations);
    return t_finish();
}
