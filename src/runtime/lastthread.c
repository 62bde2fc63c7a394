/*
 * lastthread.c - the process ends with its last program thread, even when
 * the tracer's own threads are still there.
 *
 * glibc ends a process whose main thread called pthread_exit when the
 * last thread counted by pthread_create ends (that thread calls exit(0)).
 * The tracer's threads (advancer, writer, finisher, flight thread) are
 * counted too and never end by themselves, so without this file such a
 * process would never exit: its program threads all gone, its main
 * thread a zombie, and a SIGTERM left pending forever (the tracer's
 * threads block every signal).
 *
 * So when the main thread calls pthread_exit while tracer threads run,
 * a watcher (one more tracer thread) waits until no program thread is
 * left, and then calls exit(0), as glibc's last thread would: atexit
 * handlers run (the trace is finished by ours), the status is 0.
 *
 * The main thread can also end without pthread_exit: a raw exit system
 * call (all a thread in a strict seccomp sandbox may make), or killed on
 * its own (strict seccomp kills the one thread).  glibc then never calls
 * exit: the process ends when its last thread does, no atexit handler
 * runs, and its status is that thread's exit code, 0.  The finisher
 * thread (crash.c) polls for that case (ct_lastthread_poll, once a
 * second: one /proc read) and starts the same watcher, which then
 * finishes the trace and ends the process with status 0.
 *
 * Invariants:
 *  - The watcher never exits early: it counts program threads as
 *    (threads of the process, /proc/self/stat) - 1 (the main thread, once
 *    it is a zombie: checked first, it cannot come back) - the tracer
 *    threads running (ct_tracer_threads_running: a tracer thread counts
 *    only while its start routine runs, thread.c's trampoline): never before it
 *    exists nor after, so the count of tracer threads is never more than
 *    there are, and the result never less than the program threads left.
 *  - No program thread can appear once none is left (only program
 *    threads create program threads), so exit(0) then is what glibc does.
 *  - Nothing is done when no tracer thread was ever started before the
 *    main thread's pthread_exit (glibc's own rule then applies), nor in
 *    a vfork child.  Started but not yet counted (not yet scheduled) is
 *    fine: the watcher only waits longer.
 *  - The watcher polls (1 ms, doubling to 100 ms): two small /proc reads
 *    a poll, only in a process whose main thread has called pthread_exit.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "hooks.h"
#include "libc.h"
#include "proc.h"
#include "trace.h"

static _Atomic int main_pthread_exit; /* the main thread left by pthread_exit */
static _Atomic int internal_made;  /* a tracer thread was ever started here */
static atomic_flag watching = ATOMIC_FLAG_INIT;

/* Called by the creator: the new thread may not have run yet when the
 * main thread calls pthread_exit (a loaded machine), so "was one ever
 * started" is what decides that a watcher is needed, not the live count. */
void ct_lastthread_internal_created(void)
{
    atomic_store(&internal_made, 1);
}

/* Field 3 (state) and field 20 (num_threads) of a /proc stat file:
 * returns the state letter (0 if unreadable), *threads if asked. */
static char read_stat(const char *path, long *threads)
{
    FILE *f = ct_libc_fopen_high(path);
    if (!f)
        return 0;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || p[1] != ' ')
        return 0;
    char state = p[2];
    if (threads) {
        /* q: the blank before field 4; 16 fields on, the one before
         * field 20, num_threads. */
        char *q = p + 3;
        for (int i = 0; i < 16 && q; i++)
            q = strchr(q + 1, ' ');
        if (!q)
            return 0;
        *threads = strtol(q + 1, NULL, 10);
    }
    return state;
}

/* Has the main thread (pid) ended?  It is then a zombie until the last
 * thread leaves. */
static int main_ended(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)pid);
    char st = read_stat(path, NULL);
    return st == 'Z' || st == 'X';
}

static int program_threads_left(pid_t pid)
{
    if (!main_ended(pid))
        return 1; /* the main thread is still on its way out (or unreadable) */
    long threads = 0;
    if (!read_stat("/proc/self/stat", &threads) || threads <= 0)
        return 1;
    return threads - 1 - ct_tracer_threads_running() > 0;
}

/* No program thread is left and the main thread did not call
 * pthread_exit: the trace is finished and the process ends as the kernel
 * ends it when its last thread leaves, status 0 (a thread's exit code,
 * whatever the main thread's was); no atexit handler. */
static void end_with_last_thread(void)
{
    ct_process_exit();
    for (;;)
        ct_libc_syscall6(SYS_exit_group, (const long[6]){0});
}

static void *watch_main(void *arg)
{
    pid_t pid = (pid_t)(intptr_t)arg;
    uint64_t ns = 1000000;
    for (;;) {
        ct_libc_sleep_ns(ns);
        if (!program_threads_left(pid)) {
            if (atomic_load(&main_pthread_exit))
                exit(0); /* what glibc's last thread does */
            end_with_last_thread();
        }
        if (ns < 100000000)
            ns *= 2;
    }
    return NULL;
}

static void start_watcher(pid_t pid)
{
    if (!atomic_load(&internal_made) || atomic_flag_test_and_set(&watching))
        return;
    pthread_t th;
    if (ct_start_internal_thread(&th, watch_main, (void *)(intptr_t)pid) == 0)
        pthread_detach(th);
    else
        atomic_flag_clear(&watching);
}

void ct_lastthread_poll(void)
{
    /* Not under a filter that may confine this thread too: opening /proc
     * may be what it kills the process for.  (The finisher, the caller,
     * is never in a vfork child: that has one thread.) */
    if (ct_proc_sandboxed() == 2 || atomic_load(&main_pthread_exit))
        return;
    pid_t pid = ct_proc_pid();
    if (main_ended(pid))
        start_watcher(pid);
}

void ct_lastthread_main_exit(void)
{
    pid_t pid = ct_proc_pid();
    if (ct_proc_in_vfork_child() || ct_libc_gettid() != pid)
        return; /* not the main thread: glibc's own rule */
    atomic_store(&main_pthread_exit, 1);
    start_watcher(pid);
}

void ct_lastthread_atfork_child(void)
{
    atomic_store(&internal_made, 0);
    atomic_store(&main_pthread_exit, 0);
    atomic_flag_clear(&watching);
}
