/*
 * sink.h - where finished batches go.  The producers of trace data (traced
 * threads handing a full buffer, the advancer finishing a generation) put
 * batches into the trace's sink; the sink alone decides what happens to
 * them: a FIFO that a reader drains in order (sink_fifo.c), a ring of
 * recent generations for the flight recorder (sink_ring.c), an encoder to
 * another format.  The advancer and the start/stop code talk only to this
 * interface, so a new sink plugs in without touching them.
 *
 * A sink receives one trace as this sequence of calls:
 *
 *     begin(first_gen)
 *     { put(b)... generation_complete(g) }   for g = first_gen, first_gen+1, ...
 *     end()
 *
 * and discard() at any point after begin (a writer that could not start).
 *
 * What the tracer guarantees to a sink:
 *  - begin, generation_complete, end and may_advance are called with
 *    ct_ctl_lock held, so never concurrently with each other; discard
 *    comes after end (a writer thread that could not start), never
 *    concurrently with begin.
 *  - put(b) may come from any thread, concurrently, never from a signal
 *    handler, sometimes with ct_registry_lock held; it passes ownership of
 *    b.  b->gen is a generation of the current trace that is not complete:
 *    the current one, or the previous one while the advancer finishes it.
 *    b holds one whole Go batch (header with generation, M, timestamp and
 *    length, then events); the file header (GT_HEADER_GO122) is the sink's
 *    to write.
 *  - generation_complete(g) comes once per generation, in increasing order,
 *    after every batch of g was put; nothing of g is put after it.  Within
 *    g, the event and CPU-sample batches come first, then the stack table,
 *    the string table and the frequency batch (an encoder that needs the
 *    tables to translate events must hold g's events until then).
 *  - end() comes right after the last generation_complete; nothing is put
 *    until the next begin.
 *
 * What a sink must guarantee to the tracer:
 *  - put never blocks for long and never writes a traced event; its own
 *    lock is innermost (taken after ct_ctl_lock and ct_registry_lock, and
 *    no tracer lock is taken under it).
 *  - Every buffer put is eventually freed with ct_buf_free (once read,
 *    evicted or discarded): buffers count against the memory cap (buf.c)
 *    while the sink holds them, so a sink that keeps data -- a ring --
 *    must keep less than the cap or threads go dark.  A sink that drops
 *    data says so (counted, as events_dropped is).
 *  - may_advance(gen) returning 0 postpones the end of generation gen
 *    (backpressure: the FIFO's reader is too far behind); the advancer asks
 *    again on its next tick.  A sink that never lags returns 1.  The stop's
 *    last generation does not ask.
 *  - begin returns CTRACE_EBUSY to refuse a new trace while it still holds
 *    one that must not be lost (the FIFO: an earlier trace not read to its
 *    end); the trace then does not start.
 *
 * The read side is not part of the interface: each sink has the consumer
 * API its data calls for (the FIFO a pull stream, ct_fifo_read; a flight
 * recorder a snapshot).
 *
 * The flight recorder (Go 1.25's FlightRecorder: at least MinAge of
 * history within MaxBytes) is the ring sink: put appends to the list of
 * the batch's generation; generation_complete seals it and evicts the
 * oldest sealed generations (sink_ring.c); may_advance returns 1; a
 * snapshot ends the generation in progress and writes the header and the
 * sealed generations, oldest first -- whole generations only, so the
 * snapshot is cut cleanly at a generation boundary (flight.c).
 */
#ifndef CTRACE_RUNTIME_SINK_H
#define CTRACE_RUNTIME_SINK_H

#include <stddef.h>
#include <stdint.h>

struct ct_buf;
struct ct_sink;

struct ct_sink_ops {
    /* A trace begins; its first generation is first_gen.  CTRACE_OK, or
     * CTRACE_EBUSY to refuse it. */
    int (*begin)(struct ct_sink *s, uint64_t first_gen);
    /* Takes ownership of a finished batch. */
    void (*put)(struct ct_sink *s, struct ct_buf *b);
    /* Every batch of generation gen has been put. */
    void (*generation_complete)(struct ct_sink *s, uint64_t gen);
    /* The trace ended (its last generation is complete). */
    void (*end)(struct ct_sink *s);
    /* May the advancer end generation gen now?  1 yes, 0 later. */
    int (*may_advance)(struct ct_sink *s, uint64_t gen);
    /* Drops everything held; a reader waiting sees the end. */
    void (*discard)(struct ct_sink *s);
};

/* A sink: its operations, embedded first in the implementation's state. */
struct ct_sink {
    const struct ct_sink_ops *ops;
};

/* The sink of the current trace (or of the last one), set by
 * ct_trace_start before any batch is put (trace.c). */
extern struct ct_sink *ct_sink_current;

/* ---- the FIFO sink (sink_fifo.c) ----
 * Batches are returned in order -- the header, then generation by
 * generation -- to one reader at a time, through ct_fifo_read. */

/* Who may read a FIFO trace: any caller of ctrace_read_trace (the
 * runtime-level API), or only the writer thread (writer.c), from the
 * trace's start on -- even before that thread first runs. */
enum ct_fifo_reader { CT_FIFO_ANY_READER, CT_FIFO_WRITER_ONLY };

/* The FIFO sink, for a trace whose reader is who. */
struct ct_sink *ct_fifo_sink(enum ct_fifo_reader who);

/* Returns the next chunk (1), the end (0), CTRACE_EBUSY (another reader
 * is inside, or the trace is the writer thread's and as is not
 * CT_FIFO_WRITER_ONLY) or CTRACE_ENOTRACING.  Internal code only (the
 * caller must be marked ct_tls_internal). */
int ct_fifo_read(enum ct_fifo_reader as, const void **chunk, size_t *len);

/* Does the FIFO hold a trace not read to its end (a new one would be
 * refused)? */
int ct_fifo_unread(void);

/* After the trace's end (ctrace_stop_trace): waits until the reader has
 * seen the end, but only while a reader is attached -- inside ct_fifo_read,
 * or back in it within a second of its last return, and not the calling
 * thread.  Never waits forever; what is not read stays readable. */
void ct_fifo_wait_reader(void);

/* Fork: every sink's lock around fork (the FIFO's, then the ring's), and
 * in the child every sink's data dropped (it belongs to the parent's
 * trace).  Called by trace.c's fork handlers, after ct_ctl_lock and
 * ct_registry_lock.  A new sink adds its own lock and reset to these. */
void ct_output_atfork_prepare(void);
void ct_output_atfork_parent(void);
void ct_output_atfork_child(void);

#endif /* CTRACE_RUNTIME_SINK_H */
