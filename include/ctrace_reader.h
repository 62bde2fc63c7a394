/*
 * ctrace_reader.h - a fast, bounded-memory reader of Go execution traces.
 *
 * Reads the traces Go programs write (runtime/trace) and the ones libctrace
 * writes, and delivers their events, one at a time, in the order and with the
 * validation of Go's own parser (internal/trace of Go 1.23):
 *
 *   - v2 format: files headed "go 1.22 trace", "go 1.23 trace", "go 1.25 trace";
 *   - v1 format: files headed "go 1.11 trace", "go 1.19 trace" and
 *     "go 1.21 trace" (what Go 1.11 to 1.21 write), converted into the same
 *     event model the way Go 1.23 converts them.
 *
 * One event model for all versions, modelled on Go's trace.Event:
 * every event has a time, the thread (M), proc (P) and goroutine (G) it
 * happened on, a kind, a stack, and kind-specific data (state transitions
 * with old/new state and reason, ranges, tasks, regions, logs, labels,
 * metrics, CPU samples, generation sync points).
 *
 * Memory: a v2 trace is read one generation at a time, so memory is bounded
 * by about one generation whatever the file size (a mapped file keeps only
 * the pages in use resident).  Input is mmap'ed when it is a regular file,
 * streamed through a buffer otherwise (pipes, stdin).  A v1 trace has no
 * generations: like Go, the reader holds all of its events (about 56 bytes
 * each) from the first ctrace_reader_next() on.
 *
 * Lifetimes: an event returned by ctrace_reader_next() is valid until the
 * next call to ctrace_reader_next() or ctrace_reader_close().  Strings and
 * stacks an event refers to stay valid through the CTRACE_EV_SYNC event that
 * ends their generation, until the call to ctrace_reader_next() after it:
 * copy what you keep longer.  Stack IDs are only meaningful within the
 * generation they appear in (event->generation).
 *
 * Sync events: as in Go 1.23's parser, a CTRACE_EV_SYNC event follows the
 * last event of each v2 generation (none precedes the first one); v1
 * traces have no sync events.
 *
 * Errors are negative CTRACE_READER_E* codes (distinct from ctrace.h's
 * CTRACE_E* codes); ctrace_reader_strerror() names them, and
 * ctrace_reader_error() gives the message and the byte offset of the first
 * error met.  After an error the reader stays in error: ctrace_reader_next()
 * keeps returning the same code.
 *
 * Truncation: a v2 trace cut short (its writer killed, a full disk) holds
 * every generation written before the cut.  The reader first yields each
 * of them, then fails with CTRACE_READER_ETRUNCATED, whose offset
 * (ctrace_reader_error) is where the input ends.  A generation the input
 * ends with is taken as cut short when the input ends inside one of its
 * batches, or when it lacks what a writer puts last (its frequency, a
 * stack or string its events or frames name), or its events cannot be
 * ordered or are missing.  ctrace_reader_complete() tells how many
 * generations were read whole and where they end: those first bytes of
 * the input are a valid trace on their own (what `ctrace repair` writes).
 *
 * Handles are opaque; a handle may be used by one thread at a time.
 */
#ifndef CTRACE_READER_H
#define CTRACE_READER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CTRACE_READER_API __attribute__((visibility("default")))
#else
#define CTRACE_READER_API
#endif

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

#define CTRACE_READER_OK 0
#define CTRACE_READER_EINVAL (-100)    /* invalid argument                    */
#define CTRACE_READER_ENOMEM (-101)    /* out of memory                       */
#define CTRACE_READER_EOPEN (-102)     /* could not open the input (errno set)*/
#define CTRACE_READER_EIO (-103)       /* read error (errno set)              */
#define CTRACE_READER_EVERSION (-104)  /* not a Go trace, or unsupported version */
#define CTRACE_READER_EFORMAT (-105)   /* malformed data (bad varint, batch, table) */
#define CTRACE_READER_EINVALID (-106)  /* well-formed but invalid: the events
                                          cannot be ordered/validated        */
#define CTRACE_READER_ETRUNCATED (-107)/* the input ends in the middle of the
                                          trace (complete generations were
                                          delivered before: see
                                          ctrace_reader_complete)            */
#define CTRACE_READER_ELIMIT (-108)    /* exceeds a safety limit of the reader */

/* Static English description of a CTRACE_READER_E* code; never NULL. */
CTRACE_READER_API const char *ctrace_reader_strerror(int err);

/* ------------------------------------------------------------------ */
/* Sentinels and small enums                                           */
/* ------------------------------------------------------------------ */

/* "No thread / proc / goroutine / task" (Go's -1). */
#define CTRACE_NO_ID ((uint64_t)-1)
/* "No stack": stack ID 0 never names a stack. */
#define CTRACE_NO_STACK 0
/* Task 0 is the background task (Go's trace.BackgroundTask). */
#define CTRACE_BACKGROUND_TASK 0

/* Event kinds; the numbers match Go 1.23's trace.EventKind. */
enum ctrace_event_kind {
    CTRACE_EV_BAD = 0,
    CTRACE_EV_SYNC = 1,             /* generation boundary                */
    CTRACE_EV_METRIC = 2,           /* heap alloc / heap goal / gomaxprocs */
    CTRACE_EV_LABEL = 3,            /* a goroutine label                  */
    CTRACE_EV_STACK_SAMPLE = 4,     /* CPU profile sample                 */
    CTRACE_EV_RANGE_BEGIN = 5,      /* GC, STW, sweep, mark assist ...    */
    CTRACE_EV_RANGE_ACTIVE = 6,     /* range already running at gen start */
    CTRACE_EV_RANGE_END = 7,
    CTRACE_EV_TASK_BEGIN = 8,
    CTRACE_EV_TASK_END = 9,
    CTRACE_EV_REGION_BEGIN = 10,
    CTRACE_EV_REGION_END = 11,
    CTRACE_EV_LOG = 12,
    CTRACE_EV_STATE_TRANSITION = 13,
    CTRACE_EV_EXPERIMENTAL = 14,
    CTRACE_EV_KIND_COUNT = 15
};

/* Kinds of resources (the subject of a state transition, a range's scope). */
enum ctrace_resource_kind {
    CTRACE_RES_NONE = 0,      /* global                                   */
    CTRACE_RES_GOROUTINE = 1,
    CTRACE_RES_PROC = 2,
    CTRACE_RES_THREAD = 3
};

/* States of goroutines and procs (Go's GoState / ProcState; procs use
 * UNDETERMINED, NOTEXIST, RUNNING and IDLE only).  The numbers are ctrace's. */
enum ctrace_state {
    CTRACE_STATE_BAD = 0,
    CTRACE_STATE_UNDETERMINED = 1, /* unknown: first seen in this trace   */
    CTRACE_STATE_NOTEXIST = 2,
    CTRACE_STATE_RUNNABLE = 3,
    CTRACE_STATE_RUNNING = 4,
    CTRACE_STATE_WAITING = 5,
    CTRACE_STATE_SYSCALL = 6,
    CTRACE_STATE_IDLE = 7
};

/* Well-known metrics, so callers need not compare names. */
enum ctrace_metric {
    CTRACE_METRIC_OTHER = 0,
    CTRACE_METRIC_GOMAXPROCS = 1, /* "/sched/gomaxprocs:threads"          */
    CTRACE_METRIC_HEAP_ALLOC = 2, /* "/memory/classes/heap/objects:bytes" */
    CTRACE_METRIC_HEAP_GOAL = 3   /* "/gc/heap/goal:bytes"                 */
};

/* A string from the trace.  ptr is never NULL and is NUL-terminated; len
 * excludes the terminator (trace strings may contain NUL bytes). */
struct ctrace_str {
    const char *ptr;
    size_t len;
};

/* One attribute of a range end ("bytes swept" = 123 ...). */
struct ctrace_attr {
    struct ctrace_str name;
    uint64_t value;
};

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

struct ctrace_event {
    enum ctrace_event_kind kind;
    /* Event type number in the file's own format (v2: go122 event type;
     * v1: the old event type); 0 for events the reader synthesises (sync). */
    uint32_t raw_type;

    /* Time in nanoseconds as Go's parser computes it (timestamp ticks scaled
     * by the trace's frequency); monotonic over the event stream, except
     * that, like Go's int64, it wraps past INT64_MAX to INT64_MIN (a trace
     * spanning 2^63 ns): take differences unsigned. */
    int64_t time;
    /* Nanoseconds since the first event of the trace (time - first time). */
    int64_t since_start;
    /* The timestamp as stored in the file (ticks; v1 traces: = time). */
    int64_t raw_time;

    /* Where it happened; CTRACE_NO_ID when unknown/none. */
    uint64_t m; /* thread   */
    uint64_t p; /* proc     */
    uint64_t g; /* goroutine */

    /* Stack of the event (CTRACE_NO_STACK if none); see ctrace_reader_stack. */
    uint64_t stack;
    /* Generation this event belongs to (1 for v1 traces). */
    uint64_t generation;
    /* Byte offset in the input of the event's encoding (0 if synthesised
     * or for v1 traces). */
    uint64_t offset;

    union {
        /* CTRACE_EV_STATE_TRANSITION */
        struct {
            enum ctrace_resource_kind resource; /* GOROUTINE or PROC (THREAD
                                                   never in v2)              */
            uint64_t id;                        /* goroutine or proc ID      */
            enum ctrace_state from, to;
            struct ctrace_str reason;           /* "" when none              */
            /* Stack of the transitioning goroutine (e.g. the new goroutine's
             * start stack for a creation); event->stack is the actor's. */
            uint64_t stack;
        } transition;

        /* CTRACE_EV_RANGE_BEGIN / ACTIVE / END */
        struct {
            struct ctrace_str name;             /* "GC concurrent mark phase",
                                                   "stop-the-world (reason)" */
            enum ctrace_resource_kind scope;    /* NONE, GOROUTINE or PROC   */
            uint64_t scope_id;                  /* the G or P; NO_ID if NONE */
            const struct ctrace_attr *attrs;    /* RANGE_END only            */
            size_t nattrs;
        } range;

        /* CTRACE_EV_TASK_BEGIN / TASK_END */
        struct {
            uint64_t id;
            uint64_t parent;                    /* CTRACE_NO_ID if unknown   */
            struct ctrace_str name;             /* "" if unknown (end of a
                                                   task begun before trace) */
        } task;

        /* CTRACE_EV_REGION_BEGIN / REGION_END */
        struct {
            uint64_t task;
            struct ctrace_str name;
        } region;

        /* CTRACE_EV_LOG */
        struct {
            uint64_t task;
            struct ctrace_str category;
            struct ctrace_str message;
        } log;

        /* CTRACE_EV_LABEL: label of the goroutine event->g. */
        struct {
            struct ctrace_str label;
        } label;

        /* CTRACE_EV_METRIC */
        struct {
            enum ctrace_metric which;
            struct ctrace_str name;
            uint64_t value;
        } metric;

        /* CTRACE_EV_SYNC: generation `gen` is complete (its events have
         * all been delivered). */
        struct {
            uint64_t gen;
        } sync;

        /* CTRACE_EV_STACK_SAMPLE: m/p/g/stack of the event say where. */

        /* CTRACE_EV_EXPERIMENTAL */
        struct {
            struct ctrace_str name;
            const uint64_t *args;
            size_t nargs;
            const char *const *arg_names; /* nargs names, static           */
        } experimental;
    } u;
};

/* One frame of a stack. */
struct ctrace_frame {
    uint64_t pc;
    struct ctrace_str func;
    struct ctrace_str file;
    uint64_t line;
};

/* ------------------------------------------------------------------ */
/* Opening and closing                                                 */
/* ------------------------------------------------------------------ */

typedef struct ctrace_reader ctrace_reader;

/* Flags for the open functions. */
#define CTRACE_READER_NO_MMAP 0x1 /* always stream, even regular files */
/* Read with the reference code only: none of the fast paths that
 * ctrace_reader_next() and ctrace_reader_check() take for the common
 * event types.  Same events, counts and errors, several times slower;
 * for testing the reader (its tests and fuzzers compare the two). */
#define CTRACE_READER_REFERENCE 0x2

/* Opens the trace at path ("-" means stdin).  Regular files are mmap'ed,
 * other inputs streamed.  The header is read and checked here.
 * On success stores the handle in *out and returns 0; on failure returns a
 * CTRACE_READER_E* code and *out is NULL (except for EVERSION/EFORMAT/EIO
 * errors of the header, where *out is a handle in error state so that
 * ctrace_reader_error() gives the message; close it as usual). */
CTRACE_READER_API int ctrace_reader_open(const char *path, unsigned flags,
                                         ctrace_reader **out);

/* Like ctrace_reader_open() on an open file descriptor, which the reader
 * does not close.  The fd's current position is where the trace starts. */
CTRACE_READER_API int ctrace_reader_open_fd(int fd, unsigned flags,
                                            ctrace_reader **out);

/* Reads a trace held in memory; buf must stay valid and unchanged until
 * the reader is closed (nothing is copied). */
CTRACE_READER_API int ctrace_reader_open_mem(const void *buf, size_t len,
                                             unsigned flags, ctrace_reader **out);

/* Releases the reader and everything it returned.  NULL is harmless. */
CTRACE_READER_API void ctrace_reader_close(ctrace_reader *r);

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/* Delivers the next event in Go's order.  Returns 1 and sets *ev, 0 at the
 * end of a valid trace, or a negative CTRACE_READER_E* code (then the same
 * code on every later call).  *ev is valid until the next call. */
CTRACE_READER_API int ctrace_reader_next(ctrace_reader *r,
                                         const struct ctrace_event **ev);

/* Reads, orders and validates up to max events exactly as that many calls
 * of ctrace_reader_next() would (same errors, same counts), without
 * handing them out: the public events are not built, which makes it
 * faster when only the verdict is wanted (`ctrace check`).  Returns 1 when
 * max events were read and more may follow, 0 at the end of a valid trace,
 * or a negative CTRACE_READER_E* code.  ctrace_reader_event_count() counts
 * the events read.  It may be mixed with ctrace_reader_next(). */
CTRACE_READER_API int ctrace_reader_check(ctrace_reader *r, uint64_t max);

/* Lets ctrace_reader_check() use a second thread on a trace of at least
 * min_bytes (0: any size) read from a mapped file or from memory (not a
 * stream), in Go's v2 format, with three generations or more: the trace is
 * cut at a generation boundary, the second half read by a second reader on
 * a thread of its own as a trace that starts there, and that reading is
 * verified against the state the first half ends with (docs/ARCHITECTURE.md,
 * "The split check").  When the verification cannot prove it equal to the
 * sequential reading, or the second half fails, the reader goes on alone:
 * the verdict, the error and every count are always exactly those of the
 * sequential reading; only the time differs.  threads: 1 (the default: no
 * thread is started) or 2.  Call it before the first read; returns 0, or
 * CTRACE_READER_EINVAL (r NULL, threads 0, reading already begun).  The
 * thread is joined before ctrace_reader_check() returns its verdict, or by
 * ctrace_reader_close(). */
CTRACE_READER_API int ctrace_reader_check_threads(ctrace_reader *r, unsigned threads,
                                                  uint64_t min_bytes);

/* Lets ctrace_reader_next() read ahead on a thread of its own: the
 * events are read, ordered and built on that thread, up to tens of
 * thousands ahead of the caller, and handed over through a bounded queue,
 * so that a caller that works on each event runs alongside the reading
 * instead of after it (docs/ARCHITECTURE.md, "Reading ahead").  Nothing else
 * changes: ctrace_reader_next() returns the same events, in the same order,
 * with the same fields, and ends with the same 0 or error (code, message,
 * offset) after the same events; the lifetimes above hold as they are
 * written (an event until the next call, its strings and stacks until
 * the call after its generation's sync event); and every query made
 * between two reads (ctrace_reader_stack, _task, _error, _complete,
 * _bytes_read, _event_count, _generation_count, _frequency, _losses)
 * answers as it would at that point without the thread.  Any input: a
 * mapped file, memory, a stream, v1 or v2.
 *
 * threads: 1 (the default: no thread) or more (one thread reads; more
 * are not used).  Call it before the first read; returns 0, or
 * CTRACE_READER_EINVAL (r NULL, threads 0, reading already begun).  The
 * thread starts at the first ctrace_reader_next() (none if the thread
 * cannot be made: the reading then goes on on the caller's thread, the
 * same) and ends with the reading, or in ctrace_reader_close(), which
 * stops it at once wherever the caller stopped reading.  Memory: the
 * queue adds twice the size of one core's L2 cache, 1 to 16 MB (4 MB
 * where the L2 is 2 MB or unknown), allocated once; the reader holds one
 * generation, as without it.
 * ctrace_reader_check() made while the thread runs takes its events (no
 * split check); ctrace_reader_skim_losses() then fails (EINVAL). */
CTRACE_READER_API int ctrace_reader_read_ahead(ctrace_reader *r, unsigned threads);

/* How ctrace_reader_check() read the trace (after ctrace_reader_check_threads). */
enum ctrace_split_outcome {
    CTRACE_SPLIT_NONE = 0,      /* one thread (not allowed, too small, a
                                   stream, v1, fewer than 3 generations) */
    CTRACE_SPLIT_VERIFIED = 1,  /* two halves, the second verified        */
    CTRACE_SPLIT_FELL_BACK = 2  /* two halves, the second not verified (or
                                   failed): read on alone                */
};
/* The outcome, and in *gen (may be NULL) the generation, counted from 1,
 * where the second half began (0 with CTRACE_SPLIT_NONE). */
CTRACE_READER_API int ctrace_reader_check_split(const ctrace_reader *r, uint64_t *gen);

/* The frames of a stack of the current generation, innermost first.
 * Returns the number of frames (0 for CTRACE_NO_STACK or an unknown ID) and
 * stores a pointer to them in *frames (NULL when 0); valid until the next
 * sync event. */
CTRACE_READER_API size_t ctrace_reader_stack(ctrace_reader *r, uint64_t stack,
                                             const struct ctrace_frame **frames);

/* Looks up an active task: begun in the trace and not ended yet (ended
 * tasks are forgotten, so memory stays bounded).  Returns 1 and fills
 * *parent (CTRACE_NO_ID for none) and *name if active, 0 if not.  The name
 * is valid until the next call to ctrace_reader_next().  Either output may
 * be NULL. */
CTRACE_READER_API int ctrace_reader_task(ctrace_reader *r, uint64_t id,
                                         uint64_t *parent,
                                         struct ctrace_str *name);

/* ------------------------------------------------------------------ */
/* Information                                                         */
/* ------------------------------------------------------------------ */

/* The Go version of the trace's header as major*100+minor: 119 for
 * "go 1.19 trace", 122 for "go 1.22 trace", 125 for "go 1.25 trace"; 0 if
 * the header is not a Go trace header. */
CTRACE_READER_API int ctrace_reader_version(const ctrace_reader *r);

/* The first error met (or NULL if none), and the byte offset in the input
 * it concerns in *offset (if offset is not NULL).  The message is valid
 * until close. */
CTRACE_READER_API const char *ctrace_reader_error(const ctrace_reader *r,
                                                  uint64_t *offset);

/* The readable prefix of a v2 trace: returns the number of generations
 * delivered whole so far (each ended by its CTRACE_EV_SYNC event), stores
 * in *end_offset the input offset where the last of them ends (the
 * header's length when there is none) and in *span_ns the time they cover
 * (nanoseconds from the first event to that last sync event; 0 if none).
 * Either output may be NULL.  The first *end_offset bytes of the input
 * form a trace holding exactly those generations, which Go's parser and
 * this reader accept.  After CTRACE_READER_ETRUNCATED (or any error) it
 * describes what precedes the damage.  v1 traces have no generations:
 * returns 0, with both outputs 0. */
CTRACE_READER_API uint64_t ctrace_reader_complete(const ctrace_reader *r, uint64_t *end_offset,
                                                  int64_t *span_ns);

/* Bytes of the input consumed so far (for progress reports). */
CTRACE_READER_API uint64_t ctrace_reader_bytes_read(const ctrace_reader *r);

/* Size of the input in bytes, or -1 if unknown (pipes). */
CTRACE_READER_API int64_t ctrace_reader_size(const ctrace_reader *r);

/* Events delivered and generations started so far. */
CTRACE_READER_API uint64_t ctrace_reader_event_count(const ctrace_reader *r);
CTRACE_READER_API uint64_t ctrace_reader_generation_count(const ctrace_reader *r);

/* Ticks per second of the current generation (0 before the first). */
CTRACE_READER_API uint64_t ctrace_reader_frequency(const ctrace_reader *r);

/* ------------------------------------------------------------------ */
/* Losses                                                              */
/* ------------------------------------------------------------------ */

/* What the tracer that wrote the trace says it lost.  libctrace writes a
 * loss record into each generation in which something was lost (see
 * docs/FORMAT.md, "Losses"); Go's runtime writes none, so a Go trace
 * reports no loss here. */
struct ctrace_losses {
    uint64_t events;  /* events dropped (memory cap, or an event of a signal
                         handler that interrupted another one)             */
    uint64_t samples; /* CPU profile samples dropped                        */
    uint64_t stacks;  /* events written without their stack (table full)    */
    uint64_t threads; /* threads left out of the trace (no memory for them) */
    uint64_t records; /* loss records read (libctrace writes one in each
                         generation that lost something)                   */
    uint64_t strings; /* strings shown empty: a log's message or category, a
                         region, task or thread name (table full)         */
};

/* Sums the loss records of the generations read so far (by
 * ctrace_reader_next, or ctrace_reader_skim_losses) into *out (zeroed
 * first).  After the whole trace was read, that is what the trace lost. */
CTRACE_READER_API void ctrace_reader_losses(const ctrace_reader *r, struct ctrace_losses *out);

/* Reads the rest of a v2 trace for its loss records only: batch headers,
 * and the string batches, without ordering or validating any event (much
 * faster than ctrace_reader_next; memory stays bounded by a batch).  Then
 * ctrace_reader_losses() tells what the whole trace lost.  Use it on a
 * fresh handle, instead of ctrace_reader_next() (after it:
 * CTRACE_READER_EINVAL).  Returns 0 at the end of the input, or a negative CTRACE_READER_E* code (what was
 * read before it still counts; an input cut inside a batch, or one whose
 * last generation has no frequency event -- cut between two batches --
 * gives CTRACE_READER_ETRUNCATED); v1 traces have no loss records: 0. */
CTRACE_READER_API int ctrace_reader_skim_losses(ctrace_reader *r);

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

/* Go's names for kinds, states and resources ("StateTransition",
 * "Running", "Goroutine" ...); never NULL ("Bad" for unknown values). */
CTRACE_READER_API const char *ctrace_event_kind_name(enum ctrace_event_kind k);
CTRACE_READER_API const char *ctrace_state_name(enum ctrace_state s);
CTRACE_READER_API const char *ctrace_resource_kind_name(enum ctrace_resource_kind k);

#ifdef __cplusplus
}
#endif

#endif /* CTRACE_READER_H */
