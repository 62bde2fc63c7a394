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
 *  - With stacks on, a trace started from CTRACE_OUTPUT prepares the
 *    symbolizer in a background tracer thread (PREP_DELAY_MS after the
 *    start, or at once when the first stack table is written): a process
 *    that lives that long almost always has libc frames to symbolize, and
 *    loading libc's debug info would otherwise hold up the first
 *    generation or the exit.  A process that ends before that never loads
 *    it; one that ends without stacks never waits for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "env.h"
#include "hooks.h"
#include "symbolize.h"
#include "thread.h"
#include "trace.h"

static char autostart_pattern[4096]; /* CTRACE_OUTPUT, or empty          */
static _Atomic int exiting;
static pid_t traced_pid;

/* ---- background preparation of the symbolizer ---- */

#define PREP_DELAY_MS 20

static pthread_mutex_t prep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t prep_cond = PTHREAD_COND_INITIALIZER;
static int prep_state;  /* 0 none, 1 started, 2 done, 3 taken: under prep_lock */
static int prep_now;    /* needed: skip the delay                           */
static struct ct_symbolizer *prep_result;

static void *prep_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&prep_lock);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += PREP_DELAY_MS * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    while (!prep_now && pthread_cond_timedwait(&prep_cond, &prep_lock, &dl) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&prep_lock);
    struct ct_symbolizer *s = ct_symbolizer_prepare();
    pthread_mutex_lock(&prep_lock);
    prep_result = s;
    prep_state = 2;
    pthread_cond_broadcast(&prep_cond);
    pthread_mutex_unlock(&prep_lock);
    return NULL;
}

/* ct_symbolizer_adopt_hook: waits for the preparation, hands it over once. */
static struct ct_symbolizer *prep_adopt(void)
{
    pthread_mutex_lock(&prep_lock);
    if (prep_state == 1) {
        prep_now = 1;
        pthread_cond_broadcast(&prep_cond);
        while (prep_state == 1)
            pthread_cond_wait(&prep_cond, &prep_lock);
    }
    struct ct_symbolizer *s = NULL;
    if (prep_state == 2) {
        s = prep_result;
        prep_result = NULL;
        prep_state = 3;
    }
    pthread_mutex_unlock(&prep_lock);
    return s;
}

static void prep_start(void)
{
    if (ct_rt.stack_mode == CTRACE_STACKS_NONE)
        return;
    pthread_mutex_lock(&prep_lock);
    if (prep_state == 0) {
        pthread_t th;
        ct_symbolizer_adopt_hook = prep_adopt;
        if (ct_start_internal_thread(&th, prep_main, NULL) == 0) {
            prep_state = 1;
            pthread_detach(th);
        }
    }
    pthread_mutex_unlock(&prep_lock);
}

/* Fork child: the preparing thread does not exist here; its state (if
 * any) belongs to the parent's libdw handles: dropped, not freed. */
static void prep_forget(void)
{
    pthread_mutex_init(&prep_lock, NULL);
    pthread_cond_init(&prep_cond, NULL);
    prep_state = 0;
    prep_now = 0;
    prep_result = NULL;
}

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
    int e = errno, saved = ct_tls_internal;
    ct_tls_internal = 1;
    prep_start();
    ct_tls_internal = saved;
    errno = e;
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
    ct_fdguard_atfork_child();
    ct_writer_forget();
    prep_forget();
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
    ct_symbolizer_read_env();
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
    const char *out = ct_env()->output; /* CTRACE_OUTPUT (env.h) */
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
