/*
 * symprep.c - preparing the symbolizer in the background for a trace
 * started from CTRACE_OUTPUT (ctrace run).
 *
 * Invariants:
 *  - With stacks on, a trace started from CTRACE_OUTPUT prepares the
 *    symbolizer in a background tracer thread (PREP_DELAY_MS after the
 *    start, or at once when the first stack table is written): a process
 *    that lives that long almost always has libc frames to symbolize, and
 *    loading libc's debug info would otherwise hold up the first
 *    generation or the exit.  A process that ends before that never loads
 *    it; one that ends without stacks never waits for it.
 *  - prep_state and prep_result are under prep_lock; the preparation itself
 *    (libdw) runs without it.  Lock order: the advancer's ctl_lock, then
 *    prep_lock (the advancer adopts the result while it holds ctl_lock).
 *  - The preparing thread is joined by the first to wait for it
 *    (prep_wait_locked: the adopter, or ct_symprep_end before a set*id
 *    call, tracer_threads.c).
 *  - Fork child: the preparing thread does not exist there; the state is
 *    reset by ct_symprep_atfork_child (proc.c's fork-child handler), the
 *    lock re-initialized, a finished result (parent's libdw handles)
 *    dropped without being freed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "libc.h"
#include "symbolize.h"
#include "proc.h"
#include "trace.h"

#define PREP_DELAY_MS 20

static pthread_mutex_t prep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t prep_cond = PTHREAD_COND_INITIALIZER;
static int prep_state;  /* 0 none, 1 started, 2 done, 3 taken: under prep_lock */
static int prep_now;    /* needed: skip the delay                           */
static struct ct_symbolizer *prep_result;
static pthread_t prep_thread;
static int prep_joinable; /* prep_thread not joined yet: under prep_lock */

static void *prep_main(void *arg)
{
    (void)arg;
    ct_libc_mutex_lock(&prep_lock);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += PREP_DELAY_MS * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    while (!prep_now && ct_libc_cond_timedwait(&prep_cond, &prep_lock, &dl) != ETIMEDOUT) {
    }
    ct_libc_mutex_unlock(&prep_lock);
    struct ct_symbolizer *s = ct_symbolizer_prepare();
    ct_libc_mutex_lock(&prep_lock);
    prep_result = s;
    prep_state = 2;
    ct_libc_cond_broadcast(&prep_cond);
    ct_libc_mutex_unlock(&prep_lock);
    return NULL;
}

/* Waits for the preparation to be done (asking it not to wait) and joins
 * its thread; prep_lock held on entry and on return. */
static void prep_wait_locked(void)
{
    if (prep_state == 1) {
        prep_now = 1;
        ct_libc_cond_broadcast(&prep_cond);
        while (prep_state == 1)
            ct_libc_cond_wait(&prep_cond, &prep_lock);
    }
    if (prep_joinable) {
        prep_joinable = 0;
        /* It only unlocks and returns now. */
        ct_libc_mutex_unlock(&prep_lock);
        ct_join_internal_thread(prep_thread);
        ct_libc_mutex_lock(&prep_lock);
    }
}

/* ct_symbolizer_adopt_hook: waits for the preparation, hands it over once. */
static struct ct_symbolizer *prep_adopt(void)
{
    ct_libc_mutex_lock(&prep_lock);
    prep_wait_locked();
    struct ct_symbolizer *s = NULL;
    if (prep_state == 2) {
        s = prep_result;
        prep_result = NULL;
        prep_state = 3;
    }
    ct_libc_mutex_unlock(&prep_lock);
    return s;
}

void ct_symprep_end(void)
{
    ct_libc_mutex_lock(&prep_lock);
    prep_wait_locked();
    ct_libc_mutex_unlock(&prep_lock);
}

void ct_symprep_start(void)
{
    if (ct_rt.stack_mode == CTRACE_STACKS_NONE)
        return;
    ct_libc_mutex_lock(&prep_lock);
    if (prep_state == 0) {
        ct_symbolizer_adopt_hook = prep_adopt;
        if (ct_start_internal_thread(&prep_thread, prep_main, NULL) == 0) {
            prep_state = 1;
            prep_joinable = 1;
        }
    }
    ct_libc_mutex_unlock(&prep_lock);
}

void ct_symprep_atfork_child(void)
{
    pthread_mutex_init(&prep_lock, NULL);
    pthread_cond_init(&prep_cond, NULL);
    prep_state = 0;
    prep_joinable = 0; /* the parent's thread is not ours to join */
    prep_now = 0;
    prep_result = NULL;
}
