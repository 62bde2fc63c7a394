/*
 * sched.c - the scheduling side of events: statuses at the start of each
 * generation, the G/P transitions of a thread, and the slow path of
 * ct_acquire that puts them in front of a thread's first event.
 *
 * Go's parser (the referee) requires, per generation:
 *   - a status for a G or P before any event that carries its sequence
 *     number (GoStart, GoUnblock, ProcStart, GoSyscallBegin);
 *   - statuses consistent with the state the previous generations left;
 *   - GoStatus of a G the trace has not seen only in the first generation
 *     (later, a new thread is introduced with GoCreateSyscall).
 * The status of a thread for generation g is written exactly once, by
 * whoever first claims status_gen (a compare-and-swap to g | BUSY): the
 * thread itself on its first event of g, or the advancer on its behalf
 * (into a small batch of the thread's M).  While the claim is BUSY the
 * thread spins before writing anything of g, so the statuses always come
 * first in the thread's batches of g.  The advancer's side of the claim,
 * for threads that are idle or blocked, and the exit of adopted threads
 * that died without telling us, are at the end of this file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "event.h"
#include "libc.h"
#include "metrics.h"
#include "proc.h"
#include "tables.h"

static void put_ev(struct ct_buf *b, uint8_t type, uint64_t ts)
{
    ct_buf_put_ev(b, type, ts);
}

void ct_write_status(struct ct_thread *t, struct ct_buf *b, uint64_t gen, uint64_t ts)
{
    uint64_t pst, gst, gm = GT_NO_ID;
    int write_g = 1;
    switch (t->vis_state) {
    case CT_RUNNING:
        pst = GT_PROC_RUNNING, gst = GT_GO_RUNNING, gm = t->m;
        break;
    case CT_SYSCALL:
        pst = GT_PROC_SYSCALL, gst = GT_GO_SYSCALL, gm = t->m;
        break;
    case CT_BLOCKED:
        pst = GT_PROC_IDLE, gst = GT_GO_WAITING;
        break;
    case CT_RUNNABLE:
        /* A created thread that has not run yet.  In the generation of its
         * GoCreate the parser already knows the G (with sequence 0). */
        pst = GT_PROC_IDLE, gst = GT_GO_RUNNABLE;
        write_g = t->created_gen != gen;
        break;
    default:
        return;
    }
    put_ev(b, GT_EV_PROC_STATUS, ts);
    ct_buf_put(b, t->p);
    ct_buf_put(b, pst);
    if (write_g) {
        put_ev(b, GT_EV_GO_STATUS, ts);
        ct_buf_put(b, t->g);
        ct_buf_put(b, gm);
        ct_buf_put(b, gst);
    }
    t->seq_gen = gen;
    t->gseq = 0;
    t->pseq = 0;
}

/* A zero-length wait of t's running G at ts: GoBlock(reason, stack), then
 * GoUnblock without a stack and GoStart (settle and write_main_root say
 * why).  The G keeps its P throughout. */
static void write_zero_wait(struct ct_thread *t, struct ct_buf *b, uint64_t ts, uint64_t reason_id,
                            uint64_t stack_id)
{
    put_ev(b, GT_EV_GO_BLOCK, ts);
    ct_buf_put(b, reason_id);
    ct_buf_put(b, stack_id);
    put_ev(b, GT_EV_GO_UNBLOCK, ts);
    ct_buf_put(b, t->g);
    ct_buf_put(b, ++t->gseq);
    ct_buf_put(b, 0);
    put_ev(b, GT_EV_GO_START, ts);
    ct_buf_put(b, t->g);
    ct_buf_put(b, ++t->gseq);
}

/* The label of t's goroutine: its thread id, and the thread's name when
 * it has one of its own (not the process name every thread inherits,
 * which would repeat on every slice).  The inherited name is the
 * program's as the kernel keeps it: its first 15 bytes (TASK_COMM_LEN);
 * a name that only begins with the program's ("app-io" in "app") is the
 * thread's own. */
uint64_t ct_label_id(struct ct_thread *t, uint64_t gen)
{
    char label[CT_NAME_MAX + 32];
    size_t n = strlen(program_invocation_short_name);
    if (n > 15)
        n = 15;
    int inherited = !t->name[0] || (strlen(t->name) == n &&
                                    !strncmp(t->name, program_invocation_short_name, n));
    if (inherited)
        snprintf(label, sizeof label, "tid %llu", (unsigned long long)t->m);
    else
        snprintf(label, sizeof label, "%s (tid %llu)", t->name, (unsigned long long)t->m);
    return ct_table_string(gen, label);
}

/* The main thread has no creation event to name its goroutine by a start
 * routine, and go tool trace names a goroutine after the root frame of
 * its first stack (internal/trace, summary.go) -- whatever the walk
 * ended at: __libc_start_call_main, a library offset.  Its first stack is
 * made "main" instead: a zero-length wait (as settle, reason "ctrace:
 * main thread") whose stack is one frame named main (trace.h,
 * CT_NAME_PC).  Table ids only: the advancer may write this. */
static void write_main_root(struct ct_thread *t, struct ct_buf *b, uint64_t gen, uint64_t ts)
{
    static const char main_name[] = "main";
    if (ct_rt.stack_mode == CTRACE_STACKS_NONE || t->m != (uint64_t)ct_proc_pid())
        return;
    uintptr_t pc = CT_NAME_PC(main_name);
    uint64_t stk = ct_stack_id_exact(gen, &pc, 1);
    if (!stk)
        return;
    write_zero_wait(t, b, ts, ct_table_string(gen, GT_ZERO_WAIT_MAIN_THREAD), stk);
}

void ct_write_intro(struct ct_thread *t, struct ct_buf *b, uint64_t gen, uint64_t ts)
{
    /* G appears in a syscall bound to this M (as a C thread calling into Go
     * does), then takes its P and runs. */
    put_ev(b, GT_EV_GO_CREATE_SYSCALL, ts);
    ct_buf_put(b, t->g);
    put_ev(b, GT_EV_PROC_STATUS, ts);
    ct_buf_put(b, t->p);
    ct_buf_put(b, GT_PROC_IDLE);
    t->seq_gen = gen;
    t->gseq = 0;
    t->pseq = 0;
    put_ev(b, GT_EV_PROC_START, ts);
    ct_buf_put(b, t->p);
    ct_buf_put(b, ++t->pseq);
    put_ev(b, GT_EV_GO_SYSCALL_END_BLOCKED, ts);
    put_ev(b, GT_EV_GO_START, ts);
    ct_buf_put(b, t->g);
    ct_buf_put(b, ++t->gseq);
    write_main_root(t, b, gen, ts);
    t->vis_state = CT_RUNNING;
}

/*
 * The end of a wait, as Go 1.22's and 1.23's profiles can measure it.
 * go tool trace -pprof=sync|net|syscall|sched (cmd/trace/pprof.go) only
 * look at transitions that carry a stack, and a state it tracks (waiting,
 * in a syscall, runnable) ends at the goroutine's next such transition
 * (golang/go#74850).  GoSyscallEnd and GoStart carry none, so a syscall
 * would last until the thread's next block, and a wake (a GoUnblock with
 * its stack, Runnable) until the one after: with one P per thread, whole
 * running times counted as "scheduler latency".  So when a wait ends
 * and the trace has its stack, the thread also writes, at the same
 * instant: GoBlock(reason, stack) -- a stacked transition out of the
 * tracked state, whose reason no profile tracks ("ctrace: end of ...":
 * no "sync", "chan", "select", not "network") -- GoUnblock without a
 * stack (so no runnable time starts) and GoStart.  Each profile then sees
 * exactly the wait, and nothing after it.  Zero-length: every duration
 * Go's tools show is unchanged.
 */
static void settle(struct ct_thread *t, struct ct_buf *b, uint64_t gen, uint64_t ts,
                   const char *reason, uint64_t stack_id)
{
    write_zero_wait(t, b, ts, ct_string_id(t, gen, reason), stack_id);
}

void ct_write_transition(struct ct_thread *t, struct ct_buf *b, uint64_t gen, uint64_t ts, int to,
                         uint64_t reason_id, uint64_t stack_id)
{
    int from = t->vis_state;
    /* RUNNABLE is only ever a starting point (created, not yet run): no
     * event leads into it, so it is never a target. */
    if (from == to || from == CT_EXITED || to == CT_RUNNABLE)
        return;
    ct_seq_sync(t, gen);
    /* First to running... */
    switch (from) {
    case CT_BLOCKED:
        put_ev(b, GT_EV_PROC_START, ts);
        ct_buf_put(b, t->p);
        ct_buf_put(b, ++t->pseq);
        put_ev(b, GT_EV_GO_UNBLOCK, ts);
        ct_buf_put(b, t->g);
        ct_buf_put(b, ++t->gseq);
        ct_buf_put(b, to == CT_RUNNING ? stack_id : 0); /* the waking stack */
        /* fall through */
    case CT_RUNNABLE:
        if (from == CT_RUNNABLE) {
            put_ev(b, GT_EV_PROC_START, ts);
            ct_buf_put(b, t->p);
            ct_buf_put(b, ++t->pseq);
        }
        put_ev(b, GT_EV_GO_START, ts);
        ct_buf_put(b, t->g);
        ct_buf_put(b, ++t->gseq);
        break;
    case CT_SYSCALL:
        put_ev(b, GT_EV_GO_SYSCALL_END, ts);
        break;
    default:
        break;
    }
    /* The wait's end, for Go's profiles (settle): only the thread's own
     * wake, or its start, passes a stack here. */
    if (to == CT_RUNNING && stack_id)
        settle(t, b, gen, ts,
               from == CT_BLOCKED   ? GT_ZERO_WAIT_END_OF_WAIT
               : from == CT_SYSCALL ? GT_ZERO_WAIT_END_OF_SYSCALL
                                    : GT_ZERO_WAIT_THREAD_START,
               stack_id);
    /* ...then to the target. */
    switch (to) {
    case CT_BLOCKED:
        put_ev(b, GT_EV_GO_BLOCK, ts);
        ct_buf_put(b, reason_id);
        ct_buf_put(b, stack_id);
        put_ev(b, GT_EV_PROC_STOP, ts);
        break;
    case CT_SYSCALL:
        put_ev(b, GT_EV_GO_SYSCALL_BEGIN, ts);
        ct_buf_put(b, ++t->pseq);
        ct_buf_put(b, stack_id);
        break;
    case CT_EXITED:
        put_ev(b, GT_EV_GO_DESTROY, ts);
        put_ev(b, GT_EV_PROC_STOP, ts);
        t->p_reusable = 1;
        break;
    default:
        break;
    }
    t->vis_state = to;
}

/* Claims and writes the thread's statuses for gen (see the top comment).
 * Returns 0 if they could not be written (no memory): the caller drops. */
static int ensure_status(struct ct_thread *t, uint64_t gen)
{
    for (unsigned spins = 0;; spins++) {
        uint64_t s = atomic_load_explicit(&t->status_gen, memory_order_acquire);
        if (s == gen)
            return 1;
        if (s & CT_STATUS_BUSY) {
            /* The advancer is writing our statuses: a few dozen events. */
            if (spins > 64)
                sched_yield();
            continue;
        }
        if (!atomic_compare_exchange_strong_explicit(&t->status_gen, &s, gen | CT_STATUS_BUSY,
                                                     memory_order_acq_rel,
                                                     memory_order_acquire))
            continue;
        struct ct_buf *b = t->buf[gen & 1];
        if (!b || b->gen != gen) {
            b = ct_buf_alloc(gen, t->m, ct_now() >> ct_clock.shift, 1);
            if (!b) {
                atomic_store_explicit(&t->status_gen, s, memory_order_release);
                return 0;
            }
            t->buf[gen & 1] = b;
        }
        uint64_t ts = ct_now_ordered() >> ct_clock.shift;
        if (t->epoch != ct_rt.epoch) {
            /* G unknown to this trace (and its P id possibly used by a
             * thread that exited): introduce both from scratch. */
            ct_write_intro(t, b, gen, ts);
            t->epoch = ct_rt.epoch;
        } else {
            ct_write_status(t, b, gen, ts);
        }
        atomic_store_explicit(&t->status_gen, gen, memory_order_release);
        return 1;
    }
}

/* Stops writing ordinary events for the rest of gen (memory cap): closes
 * the regions the trace shows open, so that their real ends, which will
 * not be written, cannot unbalance Go's region stacks. */
static void go_dark(struct ct_thread *t, uint64_t gen, struct ct_buf *b)
{
    t->dark_gen = gen;
    if (t->vis_state != CT_RUNNING && t->vis_state != CT_SYSCALL)
        return;
    uint64_t ts = ct_now() >> ct_clock.shift;
    for (int i = (t->rdepth < CT_REGION_DEPTH ? t->rdepth : CT_REGION_DEPTH) - 1; i >= 0; i--) {
        struct ct_region *r = &t->regions[i];
        if (!r->written)
            continue;
        if (ct_buf_room_reserved(b) < 3 * VARINT_MAX_LEN + 2)
            break;
        uint64_t name = ct_region_name_id(t, r, gen);
        ct_buf_put_ev(b, GT_EV_USER_REGION_END, ts);
        ct_buf_put(b, ct_task_trace_id(r->task));
        ct_buf_put(b, name);
        ct_buf_put(b, 0);
        r->written = 0;
    }
}

static struct ct_buf *acquire_slow(struct ct_thread *t, uint64_t gen, size_t need, int must_keep);

struct ct_buf *ct_acquire_slow(struct ct_thread *t, uint64_t gen, size_t need, int must_keep)
{
    int e = errno;
    struct ct_buf *b = acquire_slow(t, gen, need, must_keep);
    errno = e;
    return b;
}

static struct ct_buf *acquire_slow(struct ct_thread *t, uint64_t gen, size_t need, int must_keep)
{
    if (gen == 0 || t->internal)
        return NULL;
    if (!ensure_status(t, gen)) {
        t->dropped++;
        atomic_fetch_add_explicit(&ct_rt.events_dropped, 1, memory_order_relaxed);
        return NULL;
    }
    struct ct_buf *b = t->buf[gen & 1];
    if (b && b->gen != gen)
        b = NULL; /* cannot happen: the advancer takes old buffers */
    if (t->dark_gen == gen && !must_keep) {
        t->dropped++;
        atomic_fetch_add_explicit(&ct_rt.events_dropped, 1, memory_order_relaxed);
        return NULL;
    }
    /* Room for the event and for a reconciling transition before it. */
    size_t want = need + (t->vis_state != CT_RUNNING ? CT_STATUS_MAX : 0);
    if (b && (must_keep ? ct_buf_room_reserved(b) : ct_buf_room(b)) < want) {
        ct_buf_finish(b);
        ct_queue_buf(b);
        t->buf[gen & 1] = b = NULL;
    }
    if (!b) {
        b = ct_buf_alloc(gen, t->m, ct_now() >> ct_clock.shift, 0);
        if (!b) {
            /* At the memory cap.  Close regions (in a small forced batch),
             * then drop ordinary events until the next generation. */
            struct ct_buf *fb = ct_buf_alloc(gen, t->m, ct_now() >> ct_clock.shift, 1);
            if (fb) {
                go_dark(t, gen, fb);
                if (!must_keep) {
                    ct_buf_finish(fb);
                    ct_queue_buf(fb);
                    fb = NULL;
                }
            } else {
                t->dark_gen = gen;
            }
            if (!must_keep || !fb) {
                ct_set_state(t, CT_RUNNING); /* it is executing */
                t->dropped++;
                atomic_fetch_add_explicit(&ct_rt.events_dropped, 1, memory_order_relaxed);
                return NULL;
            }
            b = fb;
        }
        t->buf[gen & 1] = b;
    }
    /* The thread is executing, so it is running: catch the trace up. */
    if (t->vis_state != CT_RUNNING) {
        /* Waking from a wait Go's profiles count (a block of a profiled
         * reason, a syscall): the unblock carries the stack where the
         * thread resumes, and the wait's end is settled (settle).  Other
         * blocks (sleep, wait) end without a stack: no profile starts or
         * ends there, and nothing is captured. */
        uint64_t stk = 0;
        if (t->vis_state == CT_SYSCALL && t->sys_stack_gen == gen)
            stk = t->sys_stack; /* the syscall's own stack (settle) */
        else if (t->wake_frame && (t->vis_state == CT_SYSCALL ||
                                   (t->vis_state == CT_BLOCKED && t->wait_profiled)))
            stk = ct_capture_stack_call(t, gen, t->wake_frame, t->wake_skip, t->wait_call);
        else if (t->vis_state == CT_RUNNABLE && t->start_pc && ct_rt.stack_mode != CTRACE_STACKS_NONE)
            stk = ct_stack_id_exact(gen, &t->start_pc, 1); /* as its GoCreate's */
        uint64_t ts = ct_now() >> ct_clock.shift;
        ct_write_transition(t, b, gen, ts, CT_RUNNING, 0, stk);
        ct_set_state(t, CT_RUNNING);
        t->block_depth = t->syscall_depth = 0; /* an unpaired begin ends here */
    }
    /* Once per trace: the thread's name as its goroutine's label, and its
     * CPU-time sampling timer. */
    if (t->label_epoch != ct_rt.epoch && ct_buf_room_reserved(b) >= need + 16) {
        ct_buf_put_ev(b, GT_EV_GO_LABEL, ct_now() >> ct_clock.shift);
        ct_buf_put(b, ct_label_id(t, gen));
        t->label_epoch = ct_rt.epoch;
    }
    /* Once per generation, by the first thread running in it. */
    if (ct_metrics_due(gen) && ct_buf_room_reserved(b) >= need + CT_METRICS_MAX)
        ct_metrics_write(b, gen, ct_now() >> ct_clock.shift);
    if (t->prof_epoch != ct_rt.epoch && atomic_load_explicit(&t->bound, memory_order_relaxed))
        ct_sampling_thread_init(t);
    return b;
}

/* Writes the statuses of t for gen into a small batch of t's M, unless t
 * claimed them first.  Called with the registry lock held. */
void ct_status_placeholder(uint64_t gen)
{
    struct ct_buf *b = ct_buf_alloc(gen, (uint64_t)ct_proc_pid(), 0, 1);
    if (!b)
        return;
    uint64_t ts = ct_now_ordered() >> ct_clock.shift;
    b->base_ts = b->last_ts = ts;
    put_ev(b, GT_EV_PROC_STATUS, ts);
    ct_buf_put(b, ct_pid_limit()); /* no thread's P id: idle in this generation */
    ct_buf_put(b, GT_PROC_IDLE);
    ct_buf_finish(b);
    ct_queue_buf(b);
}

void ct_claim_status_for(struct ct_thread *t, uint64_t gen)
{
    uint64_t s = atomic_load_explicit(&t->status_gen, memory_order_acquire);
    if (s == gen || (s & CT_STATUS_BUSY) || t->internal)
        return;
    if (!atomic_compare_exchange_strong_explicit(&t->status_gen, &s, gen | CT_STATUS_BUSY,
                                                 memory_order_acq_rel, memory_order_acquire))
        return;
    /* t is now frozen: it cannot write anything of gen until we release. */
    if (ct_state(t) == CT_EXITED) {
        atomic_store_explicit(&t->status_gen, s, memory_order_release);
        return;
    }
    struct ct_buf *b = ct_buf_alloc(gen, t->m, 0, 1);
    if (!b) {
        atomic_store_explicit(&t->status_gen, s, memory_order_release);
        return;
    }
    uint64_t ts = ct_now_ordered() >> ct_clock.shift;
    b->base_ts = b->last_ts = ts;
    int state = ct_state(t);
    if (t->epoch != ct_rt.epoch) {
        /* A thread this trace has not met: introduce it (its P id may have
         * been used by a thread that exited in this trace, so only an Idle
         * P status is safe), then bring it to its state. */
        ct_write_intro(t, b, gen, ts);
        t->epoch = ct_rt.epoch;
        if (state == CT_BLOCKED) {
            uint64_t reason = ct_table_string(gen, "wait (blocked when tracing started)");
            ct_write_transition(t, b, gen, ts, CT_BLOCKED, reason, 0);
        } else if (state == CT_SYSCALL) {
            ct_write_transition(t, b, gen, ts, CT_SYSCALL, 0, 0);
        }
    } else {
        ct_write_status(t, b, gen, ts);
    }
    /* A thread created but not yet started (RUNNABLE) shows as such or,
     * once introduced, as running: it catches up itself when it runs. */
    if (t->vis_state != state && state != CT_RUNNABLE && t->dark_gen != gen) {
        uint64_t reason = ct_table_string(gen, "ctrace: state resync after dropped events");
        ct_write_transition(t, b, gen, ts, state, reason, 0);
    }
    if (t->vis_state == CT_RUNNING && ct_metrics_due(gen))
        ct_metrics_write(b, gen, ts); /* a running G on its P: may carry them */
    ct_buf_finish(b);
    ct_queue_buf(b);
    atomic_store_explicit(&t->status_gen, gen, memory_order_release);
}

/* A thread adopted from /proc that never called into the tracer cannot
 * report its own exit: when its tid is gone, write the exit on its behalf
 * (into a batch of its M, in generation gen) and drop the record.
 * Registry lock held.  Returns 1 if t was freed. */
int ct_reap_if_dead(struct ct_thread *t, uint64_t gen)
{
    if (atomic_load_explicit(&t->bound, memory_order_acquire) || ct_state(t) == CT_EXITED)
        return 0;
    int e = errno;
    int dead = syscall(SYS_tgkill, (int)getpid(), (int)t->m, 0) != 0 && errno == ESRCH;
    errno = e;
    if (!dead)
        return 0;
    if (t->epoch == ct_rt.epoch && atomic_load(&t->status_gen) == gen) {
        struct ct_buf *b = ct_buf_alloc(gen, t->m, 0, 1);
        if (b) {
            uint64_t ts = ct_now_ordered() >> ct_clock.shift;
            b->base_ts = b->last_ts = ts;
            ct_write_transition(t, b, gen, ts, CT_EXITED, 0, 0);
            ct_buf_finish(b);
            ct_queue_buf(b);
        }
    }
    if (t->prev)
        t->prev->next = t->next;
    else
        ct_registry = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (t->vis_state == CT_EXITED || t->epoch != ct_rt.epoch)
        ct_pid_free(t->p);
    ct_sampling_thread_stop(t); /* the timer armed on its behalf goes now */
    free(t->prof);
    free(t);
    return 1;
}
