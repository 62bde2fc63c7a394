/*
 * thread.c - thread records: registration (lazy, at spawn, or adopted from
 * /proc at trace start), ids, exit.  See thread.h for the invariants.
 *
 * Registration and exit run on slow paths and may take ct_registry_lock and
 * allocate; they set ct_tls_internal meanwhile, so that calls the tracer
 * makes into interposed functions are not traced.
 */
#define _GNU_SOURCE
#include "thread.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "event.h"
#include "hooks.h"
#include "libc.h"
#include "proc.h"
#include "trace.h"

__thread struct ct_thread *ct_tls_self __attribute__((tls_model("initial-exec")));
__thread int ct_tls_internal __attribute__((tls_model("initial-exec")));

pthread_mutex_t ct_registry_lock = PTHREAD_MUTEX_INITIALIZER;
struct ct_thread *ct_registry;

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

/* Test-only fault injection: a test program may define this function
 * (tests/integration/thread_drop.c); when it returns non-zero for site,
 * the allocation there fails as if memory had run out.  Undefined (NULL)
 * in every real program: one compare on a slow path. */
extern int ct_test_fail_alloc(const char *site) __attribute__((weak, visibility("default")));

static int alloc_fails(const char *site)
{
    return ct_test_fail_alloc && ct_test_fail_alloc(site);
}

/* P ids: a bitmap of ids in use, lowest free first, under the lock (a
 * leaf, also taken under ct_registry_lock).  Fork: held across it by the
 * prepare handler, re-initialized in the child (proc.c). */
static pthread_mutex_t pid_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t pid_used; /* bits set in pid_bits (ct_pid_count) */
static uint64_t *pid_bits;
static size_t pid_words;
static _Atomic uint64_t pid_limit; /* pid_words * 64, readable without the lock */
static _Atomic uint64_t next_gid = 1;

uint64_t ct_gettid(void)
{
    return (uint64_t)syscall(SYS_gettid);
}

uint64_t ct_gid_alloc(void)
{
    return atomic_fetch_add_explicit(&next_gid, 1, memory_order_relaxed);
}

uint64_t ct_pid_alloc(void)
{
    ct_libc_mutex_lock(&pid_lock);
    for (size_t w = 0;; w++) {
        if (w == pid_words) {
            size_t n = pid_words ? pid_words * 2 : 4;
            uint64_t *nb = alloc_fails("pid") ? NULL : realloc(pid_bits, n * sizeof *nb);
            if (!nb) {
                ct_libc_mutex_unlock(&pid_lock);
                return CT_PID_NONE; /* never share an id: two running threads
                                       on one P are an invalid trace */
            }
            memset(nb + pid_words, 0, (n - pid_words) * sizeof *nb);
            pid_bits = nb;
            pid_words = n;
            atomic_store_explicit(&pid_limit, n * 64, memory_order_relaxed);
        }
        if (~pid_bits[w]) {
            int bit = __builtin_ctzll(~pid_bits[w]);
            pid_bits[w] |= 1ull << bit;
            atomic_fetch_add_explicit(&pid_used, 1, memory_order_relaxed);
            ct_libc_mutex_unlock(&pid_lock);
            return w * 64 + (uint64_t)bit;
        }
    }
}

void ct_pid_atfork_prepare(void)
{
    ct_libc_mutex_lock(&pid_lock);
}

void ct_pid_atfork_parent(void)
{
    ct_libc_mutex_unlock(&pid_lock);
}

void ct_pid_atfork_child(void)
{
    pthread_mutex_init(&pid_lock, NULL);
}

void ct_pid_free(uint64_t p)
{
    if (p == CT_PID_NONE)
        return;
    ct_libc_mutex_lock(&pid_lock);
    if (p / 64 < pid_words && (pid_bits[p / 64] & (1ull << (p % 64)))) {
        pid_bits[p / 64] &= ~(1ull << (p % 64));
        atomic_fetch_sub_explicit(&pid_used, 1, memory_order_relaxed);
    }
    ct_libc_mutex_unlock(&pid_lock);
}

uint64_t ct_pid_limit(void)
{
    return atomic_load_explicit(&pid_limit, memory_order_relaxed);
}

/* Read without the lock: the metric may be written from a signal handler
 * that interrupted ct_pid_alloc. */
uint64_t ct_pid_count(void)
{
    return atomic_load_explicit(&pid_used, memory_order_relaxed);
}

static void exit_key_dtor(void *arg)
{
    /* The thread ends without having told us (no pthread_exit hook). */
    if (arg && ct_tls_self == arg)
        ct_thread_exit();
}

static void exit_key_init(void)
{
    pthread_key_create(&exit_key, exit_key_dtor);
}

static struct ct_thread *thread_new(uint64_t tid, uint64_t g)
{
    struct ct_thread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->m = tid;
    t->g = g ? g : ct_gid_alloc();
    t->p = ct_pid_alloc();
    ct_set_state(t, CT_RUNNING);
    t->vis_state = CT_RUNNING;
    atomic_fetch_add_explicit(&ct_rt.threads, 1, memory_order_relaxed);
    /* No P of its own: the thread is left out of every trace for its life
     * (internal: never written, skipped by the advancer and the sampler),
     * and counted once its record is linked (link_in).  The record is
     * still linked and bound, so it is not registered again at each call. */
    t->internal = t->p == CT_PID_NONE;
    return t;
}

static void thread_discard(struct ct_thread *t)
{
    ct_pid_free(t->p);
    free(t);
}

/* Puts t at the head of the registry (lock held), counting it if it is
 * dropped (a record discarded for a twin is not). */
static void link_in(struct ct_thread *t)
{
    t->prev = NULL;
    t->next = ct_registry;
    if (ct_registry)
        ct_registry->prev = t;
    ct_registry = t;
    if (t->p == CT_PID_NONE)
        atomic_fetch_add_explicit(&ct_rt.threads_dropped, 1, memory_order_relaxed);
}

/* Links t unless a live record for the same tid is there already (a thread
 * adopted from /proc while it was registering itself, or the reverse):
 * the check and the insertion are one step under the lock, so a tid never
 * has two records.  Returns the record to use. */
static struct ct_thread *link_thread(struct ct_thread *t)
{
    ct_libc_mutex_lock(&ct_registry_lock);
    for (struct ct_thread *i = ct_registry; i; i = i->next)
        if (i->m == t->m && !atomic_load_explicit(&i->bound, memory_order_acquire) && ct_state(i) != CT_EXITED) {
            ct_libc_mutex_unlock(&ct_registry_lock);
            thread_discard(t);
            return i;
        }
    link_in(t);
    ct_libc_mutex_unlock(&ct_registry_lock);
    return t;
}

struct ct_thread *ct_thread_adopt(uint64_t tid, int state)
{
    struct ct_thread *t = thread_new(tid, 0);
    if (!t)
        return NULL;
    ct_set_state(t, state);
    t->vis_state = state;
    ct_libc_mutex_lock(&ct_registry_lock);
    for (struct ct_thread *i = ct_registry; i; i = i->next)
        if (i->m == tid && ct_state(i) != CT_EXITED) {
            ct_libc_mutex_unlock(&ct_registry_lock);
            thread_discard(t);
            return NULL; /* it registered itself meanwhile */
        }
    link_in(t);
    ct_libc_mutex_unlock(&ct_registry_lock);
    return t;
}

/* Reads the kernel's name of the calling thread (pthread_setname_np):
 * one prctl, where reading /proc/self/task/TID/comm took eight system
 * calls (open, the descriptor moved out of the program's way, read,
 * close) at every thread's registration. */
static void read_comm(struct ct_thread *t)
{
    char comm[16 + 1] = {0}; /* the kernel's TASK_COMM_LEN, and a NUL */
    if (prctl(PR_GET_NAME, (unsigned long)comm, 0, 0, 0) != 0)
        return;
    snprintf(t->name, sizeof t->name, "%s", comm);
}

/* Binds a record to the calling thread. */
static struct ct_thread *bind_self(struct ct_thread *t)
{
    pthread_once(&exit_key_once, exit_key_init);
    ct_stack_bounds_init(&t->bounds);
    if (!t->name[0])
        read_comm(t);
    atomic_store_explicit(&t->bound, 1, memory_order_release);
    pthread_setspecific(exit_key, t);
    ct_tls_self = t;
    ct_sampling_thread_init(t);
    return t;
}

struct ct_thread *ct_thread_self_slow(void)
{
    if (ct_tls_internal)
        return NULL;
    int e = errno;
    ct_tls_internal = 1;
    /* A record adopted at trace start (before the thread ever called us)
     * is taken over by link_thread. */
    struct ct_thread *t = thread_new(ct_gettid(), 0);
    if (t) {
        t = link_thread(t);
        bind_self(t);
    }
    ct_tls_internal = 0;
    errno = e;
    return t;
}

void ct_thread_mark_internal(void)
{
    ct_tls_internal = 1;
}

int ct_in_tracer(void)
{
    /* Also inside an event (a signal handler interrupting one). */
    struct ct_thread *t = ct_tls_self;
    return ct_tls_internal ||
           (t && (atomic_load_explicit(&t->wseq, memory_order_relaxed) & 1));
}

/* ---- spawn ---- */

struct ct_spawn {
    uint64_t epoch, gen, g;
    uintptr_t start; /* the start routine: the new thread's first stack */
};

struct ct_spawn *ct_spawn_prepare(void *(*start)(void *), int skip)
{
    if (!CT_ENABLED() || ct_tls_internal)
        return NULL;
    struct ct_thread *t = ct_thread_self();
    if (!t)
        return NULL;
    int e = errno;
    struct ct_spawn *s = NULL;
    struct ct_ev ev;
    if (ct_acquire(t, &ev, CT_EV_MAX, 0)) {
        s = malloc(sizeof *s);
        if (s) {
            s->g = ct_gid_alloc();
            s->gen = ev.gen;
            s->epoch = ct_rt.epoch;
            s->start = (uintptr_t)start;
            uintptr_t pc = (uintptr_t)start; /* an entry address */
            uint64_t start_stack =
                ct_rt.stack_mode == CTRACE_STACKS_NONE ? 0 : ct_stack_id_exact(ev.gen, &pc, 1);
            uint64_t stack = ct_capture_stack(t, ev.gen, __builtin_frame_address(0), skip);
            ct_ev3(&ev, GT_EV_GO_CREATE, s->g, start_stack, stack);
        }
        ct_release(t);
    }
    errno = e;
    return s;
}

void ct_spawn_child(struct ct_spawn *s)
{
    if (!s)
        return;
    int e = errno;
    if (ct_tls_self || !CT_ENABLED() || s->epoch != ct_rt.epoch) {
        free(s);
        errno = e;
        return;
    }
    ct_tls_internal = 1;
    struct ct_thread *t = thread_new(ct_gettid(), s->g);
    if (t) {
        t->epoch = s->epoch;
        t->created_gen = s->gen;
        t->start_pc = s->start;
        ct_set_state(t, CT_RUNNABLE);
        t->vis_state = CT_RUNNABLE;
        /* If trace start adopted this thread meanwhile, that record (and
         * its G) wins; the created G stays runnable in the trace. */
        t = link_thread(t);
        bind_self(t);
    }
    ct_tls_internal = 0;
    free(s);
    if (t) {
        /* Show the thread running from its first instruction. */
        struct ct_ev ev;
        if (ct_acquire(t, &ev, CT_EV_MAX, 1))
            ct_release(t);
    }
    errno = e;
}

void ct_spawn_abort(struct ct_spawn *s)
{
    free(s);
}

/* ---- exit ---- */

void ct_thread_exit(void)
{
    struct ct_thread *t = ct_tls_self;
    if (!t || ct_state(t) == CT_EXITED)
        return;
    int e = errno;
    /* Sampling stops before the thread's end is written: the samples are
     * written later with the thread's G (tables.c), so one taken between
     * the end and the timer's deletion would name the goroutine after its
     * GoDestroy (the exporters then made it a new, unnamed thread).  And
     * again after it: a first traced call in a trace arms the timer
     * (sched.c), and that acquire may be this one. */
    ct_sampling_thread_stop(t);
    struct ct_ev ev;
    if (CT_ENABLED() && ct_acquire(t, &ev, CT_STATUS_MAX, 1)) {
        ct_write_transition(t, ev.b, ev.gen, ev.ts, CT_EXITED, 0, 0);
        ct_set_state(t, CT_EXITED);
        ct_release(t);
    }
    ct_set_state(t, CT_EXITED);
    ct_tls_internal = 1;
    ct_sampling_thread_stop(t);
    ct_tls_self = NULL;
    pthread_setspecific(exit_key, NULL);

    ct_libc_mutex_lock(&ct_registry_lock);
    if (t->prev)
        t->prev->next = t->next;
    else
        ct_registry = t->next;
    if (t->next)
        t->next->prev = t->prev;
    for (int i = 0; i < 2; i++) {
        struct ct_buf *b = t->buf[i];
        t->buf[i] = NULL;
        if (b && b->pos > b->mem + CT_BUF_HDR) {
            ct_buf_finish(b);
            ct_queue_buf(b);
        } else {
            ct_buf_free(b);
        }
    }
    /* Reuse the P id only if the trace shows it stopped, or no trace
     * ever showed it. */
    if (t->p_reusable || t->epoch != ct_rt.epoch || !atomic_load(&ct_gen))
        ct_pid_free(t->p);
    if (t->prof)
        ct_trace_bury(t);
    else
        free(t);
    ct_libc_mutex_unlock(&ct_registry_lock);
    /* ct_tls_internal stays set: the thread is dying, and what runs after
     * this (TLS destructors) must not register it again. */
    errno = e;
}

/* ---- tracer threads ---- */

struct internal_start {
    void *(*fn)(void *);
    void *arg;
    int slot; /* tracer_threads.c */
};

static void *internal_trampoline(void *p)
{
    struct internal_start s = *(struct internal_start *)p;
    free(p);
    ct_thread_mark_internal();
    /* Counted running only while it surely exists (lastthread.c). */
    ct_tracer_thread_enter(s.slot);
    void *r = s.fn(s.arg);
    ct_tracer_thread_leave(s.slot); /* the kernel still counts it a while */
    return r;
}

/* pthread_create and pthread_join are the two C library calls the runtime
 * makes through their plain names (src/libc/libc.h says why: a sanitizer
 * runtime must see every thread start and end).  In libctrace.so those
 * names are our own interposers, so these two functions are the one place
 * that marks the calling thread as the tracer's for the call. */
int ct_start_internal_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
    struct internal_start *s = malloc(sizeof *s);
    if (!s)
        return ENOMEM;
    s->fn = fn;
    s->arg = arg;
    s->slot = ct_tracer_slot_new();
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int saved = ct_tls_internal;
    ct_tls_internal = 1;
    ct_lastthread_internal_created();
    int r = pthread_create(th, NULL, internal_trampoline, s);
    ct_tls_internal = saved;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r) {
        ct_tracer_slot_free(s->slot);
        free(s);
    }
    return r;
}

void ct_join_internal_thread(pthread_t th)
{
    int e = errno, saved = ct_tls_internal;
    ct_tls_internal = 1;
    pthread_join(th, NULL);
    ct_tls_internal = saved;
    ct_tracer_threads_reap(1000); /* the kernel releases it just after */
    errno = e;
}

int ct_user_readable(const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p, sp = (uintptr_t)__builtin_frame_address(0);
    const struct ct_thread *t = ct_tls_self;
    /* Above this frame, on the thread's own stack (not a signal stack):
     * the caller's live frames, mapped. */
    if (t && t->bounds.lo <= sp && sp <= a && a + n >= a && a + n <= t->bounds.hi)
        return 1;
    return ct_libc_readable(p, n);
}
