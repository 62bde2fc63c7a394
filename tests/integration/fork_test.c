/*
 * fork_test.c - a traced process forks while one of its threads keeps making
 * events.  The child annotates and stops (its calls must not write into the
 * parent's trace, and ctrace_stop must not report success for a trace the
 * child does not own: CTRACE_ENOTRACING), then starts a trace of its own.
 * The parent goes on tracing.  The driver checks fork-parent.trace (valid,
 * no child events) and fork-child.trace (valid, only child events).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctrace.h"
#include "testutil.h"

static atomic_int stop_bg;

static void *background(void *arg)
{
    (void)arg;
    ctrace_thread_name("parent-bg");
    long i = 0;
    while (!atomic_load(&stop_bg)) {
        ctrace_region_begin(0, "parent-bg");
        ctrace_logf(0, "parent", "bg %ld", i++);
        ctrace_region_end(0, "parent-bg");
        t_sleep_ms(1);
    }
    return NULL;
}

static int child(void)
{
    t_phase("child", 20);
    /* Everything here happens in the child, on its only thread. */
    for (int i = 0; i < 50; i++) {
        ctrace_task t = ctrace_task_begin(0, "child-task");
        ctrace_region_begin(t, "child-region");
        ctrace_logf(t, "child", "child event %d", i);
        ctrace_block(CTRACE_BLOCK_SLEEP);
        t_sleep_ms(4);
        ctrace_unblock();
        ctrace_region_end(t, "child-region");
        ctrace_task_end(t);
    }
    /* Tracing is off in a fork child (include/ctrace.h): the parent's
     * trace is not the child's to stop. */
    CHECK_RC(ctrace_stop(), CTRACE_ENOTRACING, "child: ctrace_stop of the parent's trace");
    CHECK_RC(ctrace_stop_trace(), CTRACE_ENOTRACING, "child: ctrace_stop_trace");

#if defined(__SANITIZE_THREAD__)
    /* ThreadSanitizer does not support starting threads after a
     * multi-threaded fork (it says so and dies, or, told to go on, finds
     * the new thread's id still used by a parent thread whose stack glibc
     * handed over: when the parent's threads were busy at the fork, i.e.
     * under load).  A trace's writer is a thread: not tried here
     * (check_program.sh says so). */
    return t_finish();
#endif
    /* The child traces itself, into its own file. */
    CHECK_RC(ctrace_start_file("fork-child.trace"), CTRACE_OK,
             "child: ctrace_start_file of its own trace");
    ctrace_region_begin(0, "child-own");
    ctrace_log(0, "child-own", "the child's own trace");
    ctrace_region_end(0, "child-own");
    CHECK_RC(ctrace_stop(), CTRACE_OK, "child: ctrace_stop of its own trace");
    return t_finish();
}

int main(void)
{
    t_phase("parent", 40);
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.period_ns = 50ull * 1000 * 1000;
    ctrace_configure(&cfg);
    CHECK_RC(ctrace_start_file("fork-parent.trace"), CTRACE_OK, "parent: ctrace_start_file");
    pthread_t bg;
    pthread_create(&bg, NULL, background, NULL);
    ctrace_region_begin(0, "before-fork");
    t_sleep_ms(30);
    ctrace_region_end(0, "before-fork");

    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0)
        exit(child()); /* exit, not _exit: at-exit paths must not touch the parent's trace */

    int status = 0;
    ctrace_block(CTRACE_BLOCK_OTHER);
    waitpid(pid, &status, 0);
    ctrace_unblock();
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's checks passed (status 0x%x)",
          status);

    ctrace_region_begin(0, "after-fork");
    ctrace_log(0, "parent", "child done");
    ctrace_region_end(0, "after-fork");
    atomic_store(&stop_bg, 1);
    pthread_join(bg, NULL);
    CHECK_RC(ctrace_stop(), CTRACE_OK, "parent: ctrace_stop");
    return t_finish();
}
