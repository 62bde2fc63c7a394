/*
 * event.h - writing one event: the critical section around a thread's
 * buffer, and the encoders for each Go event ctrace emits.
 *
 * The hot path (ct_acquire / ct_release) takes no lock and performs no
 * atomic read-modify-write:
 *   1. wseq += 1 (now odd) -- a plain store: only this thread writes it;
 *   2. a compiler barrier, or a full fence when membarrier(2) is missing;
 *   3. load ct_gen; pick buf[gen & 1]; check it belongs to gen and has room,
 *      and that the trace shows the thread running (else the slow path
 *      first writes the transitions that catch it up);
 *   4. encode the event;
 *   5. wseq += 1 (even again) with release ordering.
 * The advancer publishes a new ct_gen, issues membarrier(2) so that every
 * running thread has executed a full barrier, then waits for each thread's
 * wseq to be even or to have changed.  Either the thread's load of ct_gen
 * (step 3) saw the new generation, or the advancer saw wseq odd and waits:
 * the classic asymmetric Dekker handshake, as liburcu does it.
 *
 * A thread found inside a critical section already (wseq odd: a signal
 * handler interrupted an event) drops the nested event, and counts it in
 * events_dropped (an atomic add: safe in a signal handler).  The tracer's
 * own waits inside a critical section (a contended tracer lock taken
 * through the mutex interposer) are no events: annotate.c (in_event)
 * ignores them before they get here.
 */
#ifndef CTRACE_RUNTIME_EVENT_H
#define CTRACE_RUNTIME_EVENT_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "clock.h"
#include "thread.h"
#include "trace.h"

struct ct_ev {
    struct ct_thread *t;
    struct ct_buf *b;
    uint64_t gen;
    uint64_t ts; /* trace units */
};

/* Slow path of ct_acquire: new generation (statuses first), full buffer,
 * memory cap.  Returns the buffer to write to, or NULL to drop the event.
 * must_keep: the event may use the buffer's reserve (scheduling events). */
struct ct_buf *ct_acquire_slow(struct ct_thread *t, uint64_t gen, size_t need, int must_keep);

static inline int ct_enter(struct ct_thread *t)
{
    uint64_t s = atomic_load_explicit(&t->wseq, memory_order_relaxed);
    if (s & 1) {
        /* Nested: a signal handler's event inside an event.  Counted only
         * while tracing (the count belongs to the current trace). */
        if (CT_ENABLED())
            atomic_fetch_add_explicit(&ct_rt.events_dropped, 1, memory_order_relaxed);
        return 0;
    }
    atomic_store_explicit(&t->wseq, s + 1, memory_order_relaxed);
    if (ct_use_fence)
        atomic_thread_fence(memory_order_seq_cst);
    else
        atomic_signal_fence(memory_order_seq_cst);
    return 1;
}

static inline void ct_release(struct ct_thread *t)
{
    uint64_t s = atomic_load_explicit(&t->wseq, memory_order_relaxed);
    atomic_store_explicit(&t->wseq, s + 1, memory_order_release);
}

/* Begins an event needing up to `need` bytes.  Returns 0 (and leaves the
 * critical section) when the event must be dropped or tracing is off. */
static inline int ct_acquire(struct ct_thread *t, struct ct_ev *e, size_t need, int must_keep)
{
    if (!ct_enter(t))
        return 0;
    uint64_t gen = atomic_load_explicit(&ct_gen, memory_order_acquire);
    /* gen is tested before the slot is read: when tracing is off (0) the
     * advancer may be freeing slot 0 right now, and only the handshake of a
     * live generation makes the slot this thread's. */
    struct ct_buf *b = NULL;
    if (__builtin_expect(gen != 0, 1))
        b = t->buf[gen & 1];
    if (__builtin_expect(b == NULL || b->gen != gen || ct_buf_room(b) < need ||
                             t->vis_state != CT_RUNNING, 0)) {
        b = ct_acquire_slow(t, gen, need, must_keep);
        if (!b) {
            ct_release(t);
            return 0;
        }
    }
    e->t = t;
    e->b = b;
    e->gen = gen;
    e->ts = ct_now() >> ct_clock.shift;
    return 1;
}

/* ---- Encoders: each writes one event at e->ts into e->b. ---- */

static inline void ct_ev0(struct ct_ev *e, uint8_t type)
{
    ct_buf_put_ev(e->b, type, e->ts);
}
static inline void ct_ev1(struct ct_ev *e, uint8_t type, uint64_t a)
{
    ct_buf_put_ev(e->b, type, e->ts);
    ct_buf_put(e->b, a);
}
static inline void ct_ev2(struct ct_ev *e, uint8_t type, uint64_t a, uint64_t b)
{
    ct_buf_put_ev(e->b, type, e->ts);
    ct_buf_put(e->b, a);
    ct_buf_put(e->b, b);
}
static inline void ct_ev3(struct ct_ev *e, uint8_t type, uint64_t a, uint64_t b, uint64_t c)
{
    ct_buf_put_ev(e->b, type, e->ts);
    ct_buf_put(e->b, a);
    ct_buf_put(e->b, b);
    ct_buf_put(e->b, c);
}
static inline void ct_ev4(struct ct_ev *e, uint8_t type, uint64_t a, uint64_t b, uint64_t c,
                          uint64_t d)
{
    ct_buf_put_ev(e->b, type, e->ts);
    ct_buf_put(e->b, a);
    ct_buf_put(e->b, b);
    ct_buf_put(e->b, c);
    ct_buf_put(e->b, d);
}

/* Per-generation sequence numbers of the thread's G and P (reset to 0 by a
 * status event, as Go's parser does). */
static inline void ct_seq_sync(struct ct_thread *t, uint64_t gen)
{
    if (t->seq_gen != gen) {
        t->seq_gen = gen;
        t->gseq = 0;
        t->pseq = 0;
    }
}

/* Scheduling transitions of the thread's own G and P, written into b at ts
 * (they update vis_state; callers update state).  Defined in sched.c. */
void ct_write_status(struct ct_thread *t, struct ct_buf *b, uint64_t gen, uint64_t ts);
void ct_write_transition(struct ct_thread *t, struct ct_buf *b, uint64_t gen, uint64_t ts,
                         int to, uint64_t reason_id, uint64_t stack_id);
void ct_write_intro(struct ct_thread *t, struct ct_buf *b, uint64_t gen, uint64_t ts);
/* The string id in gen of t's goroutine label (sched.c; table ids, no
 * per-thread cache: any thread may call it for t). */
uint64_t ct_label_id(struct ct_thread *t, uint64_t gen);

/* The advancer's side of the status claim (sched.c), registry lock held:
 * writes t's statuses for gen into a small batch of t's M unless t
 * claimed them first; and, for a thread adopted from /proc whose tid is
 * gone, writes its exit and frees the record (returns 1 then). */
void ct_claim_status_for(struct ct_thread *t, uint64_t gen);
/* A generation no thread wrote into: one batch with an idle P nobody uses
 * (ct_pid_limit), so that Go's parser accepts it (sched.c). */
void ct_status_placeholder(uint64_t gen);
int ct_reap_if_dead(struct ct_thread *t, uint64_t gen);

/* Worst-case bytes of a status + reconcile sequence (with the zero-length
 * wait sched.c writes after a wait that ended, for Go's profiles). */
#define CT_STATUS_MAX 192

#endif /* CTRACE_RUNTIME_EVENT_H */
