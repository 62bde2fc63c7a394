/*
 * flight.h - the flight recorder inside the runtime: the ring sink
 * (sink_ring.c) that keeps recent whole generations in memory, the
 * snapshots and their triggers (flight.c), and the snapshot a fatal
 * signal writes from its handler (flight_crash.c).
 *
 * The ring holds generations in order, oldest first: first the sealed
 * ones (complete: every batch put and generation_complete called), then
 * at most two in progress.  A snapshot is the file header plus the sealed
 * generations, which are consecutive, so the snapshot is a valid trace.
 */
#ifndef CTRACE_RUNTIME_FLIGHT_H
#define CTRACE_RUNTIME_FLIGHT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct ct_buf;
struct ct_sink;

/* One generation held by the ring.  Its batches are immutable once put;
 * next is written only while the generation is in progress, so a sealed
 * generation's list and its link to the next sealed one never change. */
struct ct_ring_gen {
    struct ct_ring_gen *next;
    uint64_t gen;
    struct ct_buf *head, *tail; /* batches in the order they were put  */
    size_t bytes;               /* memory held (not trace bytes)       */
    uint64_t start_ns;          /* CLOCK_MONOTONIC: the previous seal  */
    uint64_t end_ns;            /* CLOCK_MONOTONIC when sealed         */
    int sealed;
    int asked_advance;          /* its size asked for an early end     */
};

/* A run of sealed generations, first..last (both NULL: none). */
struct ct_ring_view {
    struct ct_ring_gen *first, *last;
};

/* The ring sink, configured for a trace keeping at least min_age_ns of
 * history within max_bytes (ct_ring_configure before ct_trace_start). */
struct ct_sink *ct_ring_sink(void);
void ct_ring_configure(uint64_t min_age_ns, size_t max_bytes);

/* Pins the sealed generations (none is evicted while pinned) and returns
 * them; ct_ring_unpin when done writing.  Pins nest. */
void ct_ring_pin(struct ct_ring_view *v);
void ct_ring_unpin(void);

/* From a fatal signal's handler, first: stops eviction for good (the
 * process is dying), so that the generations holding the crashing
 * thread's last events stay while the generation in progress is sealed --
 * other threads keep writing meanwhile, and what they add beyond the
 * buffer cap is dropped (counted) instead.  Async-signal-safe. */
void ct_ring_freeze(void);

/* From a fatal signal's handler: stops eviction for good, waits (bounded) for an eviction in progress to unlink its
 * generation, and returns the sealed generations.  Async-signal-safe. */
void ct_ring_crash_view(struct ct_ring_view *v);

/* The frequency (trace units per second) of the last sealed generation:
 * the crash generation reuses it.  0: none sealed. */
uint64_t ct_ring_freq(void);

/* Statistics of the ring. */
void ct_ring_stats(uint64_t *gens_dropped, uint64_t *bytes_held);

/* Drops everything held (flight stop, fork child). */
void ct_ring_drop_all(void);
void ct_ring_atfork_prepare(void);
void ct_ring_atfork_parent(void);
void ct_ring_atfork_child(void);

/* ---- flight.c ---- */

/* Is the flight recorder running?  One relaxed load. */
int ct_flight_running(void);
/* The process exits: waits (5 s at most) until the snapshots that triggers
 * (the snapshot signal, a slow region) asked for are written -- the exit
 * would end the flight thread before or while it writes them. */
void ct_flight_before_exit(void);

/* A region named name (len bytes) ended after dur_ns: takes a snapshot
 * (rate limited, on the flight thread) if that is past its threshold.
 * These hooks are called only when ct_flight_slow_armed is set. */
extern int ct_flight_slow_armed;
void ct_flight_region_ended(const char *name, size_t len, uint64_t dur_ns);
/* The same for tasks, which may end on another thread: a task begun with
 * a name that has a threshold is timed until its end. */
void ct_flight_task_begun(uint64_t task, const char *name);
void ct_flight_task_ended(uint64_t task);

/* From the stand-in handler of a signal whose default action ends the
 * process (src/interpose/signal.c, crash.c): 1 if sig is the running
 * recorder's snapshot signal, whose snapshot is then requested -- that
 * signal is the recorder's while the program leaves it at SIG_DFL, as
 * when the recorder's own handler stands there.  Async-signal-safe. */
int ct_flight_take_signal(int sig);
/* Stops the recorder if the environment started it (ct_flight_autostart):
 * returns 1 if it did, 0 if no such recorder runs (ct_proc_before_start). */
int ct_flight_stop_auto(void);
/* True while the recorder the environment started runs. */
int ct_flight_is_auto(void);

/* Starts the recorder from the environment (CTRACE_FLIGHT), at load and in
 * a fork child; 0 if it is not asked for. */
int ct_flight_autostart(void);
int ct_flight_atfork_child(void);

/* The snapshot path prefix (for the crash snapshot): "PREFIX", never NULL. */
const char *ct_flight_prefix(void);
/* Next snapshot number (the N of PREFIX.PID.N.trace); async-signal-safe. */
unsigned ct_flight_next_number(void);

/* ---- flight.c: the flight thread, asked by a fatal signal's handler ---- */

/* Asks the flight thread to end the generation in progress, and waits at
 * most wait_ms for it.  1 if it was sealed.  Async-signal-safe. */
int ct_flight_seal_now(long wait_ms);
/* The tid of the flight thread (0: none). */
int ct_flight_thread_tid(void);

/* ---- flight_crash.c ---- */

/* A fatal signal (crash.c calls this first): writes PREFIX.PID.N.trace
 * from the handler if the flight recorder runs.  sig, si and uc are the
 * crash's (the original signal when the program's own handler of it then
 * ended the process: then says how, else NULL).  Async-signal-safe. */
void ct_flight_crash(int sig, const siginfo_t *si, const void *uc, const char *then);

#endif /* CTRACE_RUNTIME_FLIGHT_H */
