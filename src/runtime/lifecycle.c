/*
 * lifecycle.c - the library inside a process: initialization, start from
 * the environment (ctrace run), fork, exec and exit.
 *
 * Invariants:
 *  - The constructor runs before main (and before constructors of the
 *    program that start threads, for a preloaded library); it never fails
 *    the program: any problem disables tracing and is reported once on
 *    stderr.
 *  - A forked child never writes into its parent's trace.  When tracing was
 *    started from CTRACE_OUTPUT, the child starts a trace of its own in a
 *    file named after its pid.
 *  - Exit (exit, return from main, _exit through the interposer, a fatal
 *    default signal) finishes the trace once: every queued byte written,
 *    the file closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "hooks.h"
#include "thread.h"
#include "trace.h"

static char autostart_pattern[4096]; /* CTRACE_OUTPUT, or empty          */
static _Atomic int exiting;
static pid_t traced_pid;

static void autostart(void)
{
    int r = ctrace_start_file(autostart_pattern);
    if (r != CTRACE_OK) {
        fprintf(stderr, "ctrace: cannot trace to %s: %s%s%s\n", autostart_pattern,
                ctrace_strerror(r), r == CTRACE_EOPEN ? ": " : "",
                r == CTRACE_EOPEN ? strerror(errno) : "");
        return;
    }
    traced_pid = getpid();
}

static void atfork_prepare(void)
{
    ct_trace_atfork_prepare();
}

static void atfork_parent(void)
{
    ct_trace_atfork_parent();
}

static void atfork_child(void)
{
    int e = errno;
    ct_trace_atfork_child();
    ct_writer_forget();
    if (autostart_pattern[0] && strstr(autostart_pattern, "%p"))
        autostart();
    errno = e;
}

/* Finishes the trace at process exit. */
static void finish(void)
{
    if (atomic_exchange(&exiting, 1))
        return;
    if (getpid() != traced_pid && !ct_writer_active())
        return;
    int e = errno;
    /* The calling thread ends with the process: record it. */
    ct_thread_exit();
    ctrace_stop();
    errno = e;
}

static void init_once(void)
{
    int e = errno;
    int saved = ct_tls_internal;
    ct_tls_internal = 1;
    ct_clock_init();
    if (!ct_rt.configured)
        ctrace_config_init(&ct_rt.cfg);
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    ct_tls_internal = saved;
    errno = e;
}

/* Runs once, from the constructor of the shared library, or from the first
 * ctrace_configure / start of a statically linked program (whose archive
 * member with the constructor is linked in only through this reference). */
void ct_lifecycle_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
}

__attribute__((constructor(110))) static void ctrace_init(void)
{
    int e = errno;
    ct_lifecycle_init();
    const char *out = getenv("CTRACE_OUTPUT");
    if (out && *out) {
        snprintf(autostart_pattern, sizeof autostart_pattern, "%s", out);
        atexit(finish);
        autostart();
    }
    errno = e;
}

__attribute__((destructor)) static void ctrace_fini(void)
{
    if (autostart_pattern[0])
        finish();
}

void ct_before_exec(void)
{
    /* A vfork child shares our memory: it must not touch the trace. */
    if (getpid() != ct_rt.pid || !ct_writer_active())
        return;
    int e = errno;
    ctrace_stop();
    errno = e;
}

void ct_exec_failed(void)
{
    if (getpid() != traced_pid || !autostart_pattern[0] || ct_writer_active())
        return;
    int e = errno;
    /* The trace file was finished; go on in a new one so the old is kept. */
    char pat[4200];
    static int n;
    snprintf(pat, sizeof pat, "%s.%d", autostart_pattern, ++n);
    int r = ctrace_start_file(pat);
    (void)r;
    errno = e;
}

void ct_process_exit(void)
{
    finish();
}
