/*
 * trace.h - global tracer state: the generation counter, the per-generation
 * tables, configuration and statistics, and the runtime's internal
 * interfaces between its files (start/stop, advance; the output is
 * sink.h).
 *
 * Generations (as in Go's tracer): the trace is a sequence of generations,
 * each self-contained (its own string, stack and CPU-sample tables and
 * frequency).  ct_gen holds the current one; 0 means tracing is off.  Only
 * the advancer (ct_advance, serialized by the control lock) changes it.
 * Two generations can be live at once -- the current one, in which threads
 * write, and the previous one, being flushed -- so per-generation state is
 * indexed by gen & 1.
 */
#ifndef CTRACE_RUNTIME_TRACE_H
#define CTRACE_RUNTIME_TRACE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ctrace.h"
#include "buf.h"
#include "dedup.h"

struct ct_thread;

/* Is tracing on?  One relaxed load of the public flag. */
#define CT_ENABLED() (__atomic_load_n(&ctrace_enabled_flag, __ATOMIC_RELAXED) != 0)

/* Current generation, 0 when off.  Read on every event. */
extern _Atomic uint64_t ct_gen;

/* 1 when threads must issue a full fence after announcing a critical
 * section (no membarrier(2) here, or a ThreadSanitizer build). */
extern int ct_use_fence;

struct ct_runtime {
    ctrace_config cfg;          /* configuration of the current trace      */
    _Atomic uint64_t epoch;     /* incremented by every start; read by threads */
    uint64_t first_gen;         /* generation number of the first one      */
    uint64_t last_gen;          /* last generation of the previous trace   */
    struct ct_dedup strings[2]; /* by gen & 1                               */
    struct ct_dedup stacks[2];
    int stack_mode;             /* enum ctrace_stack_mode of this trace     */
    int configured;             /* ctrace_configure was called              */
    pid_t pid;                  /* process that owns the trace              */

    /* statistics */
    _Atomic uint64_t generations, bytes, events_dropped, stacks_dropped, strings_dropped;
    _Atomic uint64_t samples, samples_dropped, threads, threads_dropped;
};
extern struct ct_runtime ct_rt;

/* Asks the advancer for an early generation (tables filling up, memory
 * pressure).  Cheap; callable from any traced thread. */
void ct_request_advance(void);

/* Hands a finished batch to the trace's sink (sink.h; takes ownership). */
void ct_queue_buf(struct ct_buf *b);

/* Stack and string ids in generation gen, through the thread's caches. */
uint64_t ct_string_id(struct ct_thread *t, uint64_t gen, const char *s);
uint64_t ct_string_id_len(struct ct_thread *t, uint64_t gen, const char *s, size_t len);
uint64_t ct_stack_id(struct ct_thread *t, uint64_t gen, const uintptr_t *pcs, int n);

/* Stack id of pcs whose first PC is an exact address, not a return
 * address (a CPU sample's interrupted PC, a thread's start routine): no
 * per-thread cache (the advancer and spawners call it).  Stacks of both
 * kinds share the table; the hash's low bit tells them apart (odd here,
 * even in ct_stack_id), and write_stack reads it. */
uint64_t ct_stack_id_exact(uint64_t gen, const uintptr_t *pcs, int n);

/* The id a task handle (ctrace_task_begin's) has in the current trace; call
 * inside a critical section (annotate.c explains the numbering). */
uint64_t ct_task_trace_id(uint64_t task);

/* Captures the calling thread's stack per the trace's stack mode and
 * returns its id in gen (0: none).  frame is the public entry point's
 * __builtin_frame_address(0): the stack starts at its caller, after skip
 * more frames (an interposer's wrapper).  Taking the frame at the entry
 * makes the count immune to inlining inside the tracer. */
uint64_t ct_capture_stack_walk(struct ct_thread *t, uint64_t gen, const void *frame, int skip);
static inline uint64_t ct_capture_stack(struct ct_thread *t, uint64_t gen, const void *frame,
                                        int skip)
{
    /* Stacks off: no call at all (this is on every event's path). */
    return ct_rt.stack_mode == CTRACE_STACKS_NONE ? 0 : ct_capture_stack_walk(t, gen, frame, skip);
}

/* A stack topped by the name of the C library call a thread waits in
 * (the interposer's wrapper: "fdatasync", "pthread_mutex_lock"): its first
 * PC is the name's address with CT_CALL_PC_TAG set, above any user-space
 * address and any inline-frame PC (tables.c, bits 48-50), and tables.c
 * writes it as a frame of that function name.  call must be a string
 * with static storage (a literal, __func__) of libctrace itself: its
 * address is the frame's PC, the same for every use of that name.
 * Else as ct_capture_stack; call NULL: no named frame. */
#define CT_CALL_PC_TAG (1ull << 62)
#define CT_CALL_PC(call) ((uintptr_t)(call) | (uintptr_t)CT_CALL_PC_TAG)
/* The same for a frame that only names a place (file "?"): the main
 * thread's root frame, "main" (sched.c). */
#define CT_NAME_PC_TAG (1ull << 61)
#define CT_NAME_PC(name) ((uintptr_t)(name) | (uintptr_t)CT_NAME_PC_TAG)
#define CT_SYNTH_PC_TAGS (CT_CALL_PC_TAG | CT_NAME_PC_TAG)
uint64_t ct_capture_stack_call(struct ct_thread *t, uint64_t gen, const void *frame, int skip,
                               const char *call);

/* Trace-level start/stop used by the public API (trace.c).  Start sends
 * the trace's batches to sink (sink.h); stop ends the trace and returns
 * once its last generation is in the sink (reading it is the sink's
 * business). */
struct ct_sink;
int ct_trace_start(struct ct_sink *sink);
int ct_trace_stop(void);

/* Serializes start, stop and every generation advance (trace.c). */
extern pthread_mutex_t ct_ctl_lock;

/* The generation handshake and the advancer thread (advance.c). */
void ct_membarrier_setup(void);     /* once, before the first trace     */
void ct_barrier_all_threads(void);  /* after publishing a new ct_gen    */
void ct_advance(uint64_t old, uint64_t newg); /* newg 0: stop; ct_ctl_lock held */
void ct_advancer_start(void);       /* ct_ctl_lock held                 */
int ct_advancer_stop(void);         /* ct_ctl_lock held, released while joining */
void ct_advance_atfork_child(void);

/* Frees an exited, sampled thread's record and ring, keeping only the CPU
 * samples its ring still held for the advancer's next drain (registry lock
 * held, the thread's timers stopped). */
void ct_trace_bury(struct ct_thread *t);

/* Drops everything the sink holds of the ended trace (a writer that
 * could not start). */
void ct_trace_discard_queue(void);

/* CPU sampling across the trace (sampling.c). */
void ct_sampling_start(void);
void ct_sampling_stop(void);
void ct_sampling_thread_init(struct ct_thread *t); /* on the thread itself */
void ct_sampling_thread_stop(struct ct_thread *t); /* on the thread itself, or for a dead one */

/* The loss record (losses.c): what the trace lost, written into it.  Both
 * with ct_ctl_lock held; start after the loss counters were reset, write
 * at generation gen's end, after its string table was written and before
 * it is reset. */
void ct_losses_trace_start(void);
void ct_losses_write(uint64_t gen);

/* Starts a tracer thread (untraced, every signal blocked) and joins one
 * without the join being traced as the caller's wait (thread.c). */
int ct_start_internal_thread(pthread_t *th, void *(*fn)(void *), void *arg);
void ct_join_internal_thread(pthread_t th);

/* The table of tracer threads (tracer_threads.c): a
 * slot per tracer thread, taken by its creator (-1: none free), entered
 * by the thread, left when its start routine ends, free once the kernel
 * released the thread (or its creation failed: ct_tracer_slot_free);
 * ct_tracer_creds_differ is 1 when one's capabilities or securebits
 * differ from the calling thread's (a set*id call would then abort the
 * process in glibc). */
int ct_tracer_slot_new(void);
void ct_tracer_thread_enter(int slot);
void ct_tracer_thread_leave(int slot);
void ct_tracer_slot_free(int slot);
void ct_tracer_threads_reap(int wait); /* frees ENDED slots the kernel released (wait: yields) */
int ct_tracer_creds_differ(void);
int ct_tracer_thread_count(void);    /* that the kernel may count (procfs.c hides them) */
int ct_tracer_threads_running(void); /* inside their start routine (lastthread.c) */
void ct_tracer_threads_atfork_child(void);
/* The tracer's threads as the kernel counts them, for a program's view of
 * its own thread count (procfs.c): read the kernel's count between two
 * censuses and use it when they are the same (else read it again). */
struct ct_tracer_census {
    unsigned seq; /* of the table's state */
    int threads;
    int ever;     /* a tracer thread was made in this process (since its fork) */
};
void ct_tracer_census(struct ct_tracer_census *c);
int ct_tracer_census_same(const struct ct_tracer_census *a, const struct ct_tracer_census *b);

/* Ending the tracer threads that outlive a trace, joined (for
 * ct_proc_before_setxid): the finisher (crash.c; the next trace starts
 * another) and the symbolizer's preparation (symprep.c). */
void ct_crash_end_finisher(void);
void ct_symprep_end(void);
int ct_writer_active(void);
void ct_writer_forget(void);
int ct_expand_path(const char *pattern, char *out, size_t size);
/* Opens (creates 0600, or truncates one of ours) a trace file: writer.c's
 * rules.  -1 with errno set. */
int ct_open_trace_file(const char *path);

/* Fork support (trace.c, buf.c): lock everything in the parent before
 * fork, unlock after; reset to "never traced" in the child. */
void ct_trace_atfork_prepare(void);
void ct_trace_atfork_parent(void);
void ct_trace_atfork_child(void);

/* Process-level events (proc.c). */
void ct_lifecycle_init(void);

#endif /* CTRACE_RUNTIME_TRACE_H */
