/*
 * sink.h - what the timeline (timeline.c) tells an output format: tracks,
 * slices, instants, flows and counters, already in the output's terms.
 *
 * Invariants the timeline guarantees to every sink:
 *  - a track is passed to track() before any event on it; track() may be
 *    called again for the same uuid with a new name (a goroutine's label
 *    arriving later): the last name wins;
 *  - on one track, slice_begin/slice_end nest properly (a stack), except
 *    complete() slices, which are emitted late (out of time order) but still
 *    nest with the others;
 *  - times are nanoseconds since the first event of all inputs (>= 0);
 *    the events of one track arrive in time order (except complete()), and
 *    all events in time order except those closing an input's open slices
 *    at its last event, which come when the input ends;
 *  - a track is declared with the time of its declaration (track->ts);
 *  - every string passed is valid only during the call, but the name of a
 *    slice_begin, complete or instant, and the key and str of any event's
 *    args, are ones the sink may recognise by their address: until the
 *    generation() of the track's input, the same address with the same
 *    length holds the same bytes (a literal, a string of the reader's generation, or one the
 *    timeline keeps for the generation), so a sink may memoise what it
 *    makes of such a string by address and forget the memo at
 *    generation();
 *  - generation(seq) says that everything an input's events referred to by
 *    stack id is forgotten (a sink may drop its per-generation tables),
 *    at each sync event of the input and once more at its end, after
 *    its last event (a v1 trace has no sync event); a sink that sets
 *    event() gets none;
 *  - track_done(t, ts) (optional) comes once for each goroutine's tracks
 *    (THREAD and its CHILD tracks) and each task's track, after the last
 *    event on it: when the task ends, a generation after the goroutine
 *    ends (an instant may name it after its end: timeline.c), or when its
 *    input does; ts is when it was last seen.  A sink may forget what it
 *    keeps per track, so its memory follows what is open;
 *  - a sink that sets event() is not told of tracks (but its inputs'
 *    process tracks), slices and the rest:
 *    it gets every event of the merge as the reader delivered it, in the
 *    merge's time order (a format that carries Go's own event model, such
 *    as Go's older trace format, maps the events itself); the timeline
 *    still does the reading, the merge and the error handling;
 *  - a sink that sets EXPORT_SINK_END_FIRST gets the end of a goroutine's
 *    state slice (no name, args, flows or stack) with the call that comes
 *    right after it, at the same time: the next state slice's begin on the
 *    same track, or the waker's unblock instant on the waker's track, with
 *    e->end_first the ended slice's track.  It writes the end first, then
 *    e: one call and one event less per transition.  Other sinks get the
 *    slice_end call (end_first is NULL).
 */
#ifndef CTRACE_EXPORT_SINK_H
#define CTRACE_EXPORT_SINK_H

#include "ctrace_reader.h"
#include "export.h"

#include <stdint.h>
#include <stdio.h>

enum export_track_kind {
    EXPORT_TRACK_PROCESS, /* one per input                               */
    EXPORT_TRACK_THREAD,  /* a goroutine (a thread, in a ctrace trace)   */
    EXPORT_TRACK_CHILD,   /* named slice track under `parent`            */
    EXPORT_TRACK_ASYNC,   /* a task: one slice, under the process        */
    EXPORT_TRACK_COUNTER  /* a metric                                    */
};

/* The first synthetic tid (2^52): above every goroutine id of a real
 * trace, exact as a JavaScript number. */
#define EXPORT_SYNTHETIC_TID_BASE ((int64_t)1 << 52)

struct export_track {
    uint64_t uuid;   /* unique over the whole output, never 0           */
    uint64_t parent; /* uuid of the parent track, 0 for a process       */
    enum export_track_kind kind;
    unsigned seq;    /* input index (Perfetto: the packet sequence)     */
    int64_t pid;     /* the input's process id                          */
    int64_t tid;     /* THREAD: the goroutine id; CHILD: a synthetic id
                        unique in the process, from
                        EXPORT_SYNTHETIC_TID_BASE up (Chrome needs one,
                        and must not take it for a goroutine's) */
    int64_t sort;    /* display order among the process's threads       */
    int64_t ts;      /* when it is declared (set by the timeline)       */
    const char *name;
};

/* The category of a slice or instant (chrome's "cat", Perfetto's
 * category): one of a few, so a sink keys on the number and names it
 * with export_cat_name(). */
enum export_cat {
    EXPORT_CAT_NONE,    /* slice ends, which have none */
    EXPORT_CAT_STATE,   /* goroutine states               */
    EXPORT_CAT_SCHED,   /* unblock instants               */
    EXPORT_CAT_REGION,
    EXPORT_CAT_TASK,
    EXPORT_CAT_LOG,
    EXPORT_CAT_CPU,     /* CPU samples                    */
    EXPORT_CAT_RUNTIME, /* GC, STW, sweep ... ranges      */
    EXPORT_CAT_COUNT
};

static inline const char *export_cat_name(enum export_cat c)
{
    static const char *const names[EXPORT_CAT_COUNT] = {
        "", "state", "sched", "region", "task", "log", "cpu", "runtime"};
    return (unsigned)c < EXPORT_CAT_COUNT ? names[c] : "";
}

struct export_arg {
    const char *key;
    size_t key_len;  /* strlen(key)                                     */
    const char *str; /* NULL: the value is `u`                          */
    size_t len;
    uint64_t u;
};

struct export_event {
    const struct export_track *track;
    int64_t ts;
    const char *name; /* may be NULL for slice ends                    */
    size_t name_len;
    enum export_cat cat; /* never NONE for begins/instants            */
    const struct export_arg *args;
    size_t nargs;
    uint64_t flow_out; /* flow starting here, 0 none                   */
    uint64_t flow_in;  /* flow ending here, 0 none                     */
    /* Only for a sink with EXPORT_SINK_END_FIRST (else NULL), in
     * slice_begin and instant: a track (of e->track's input) whose open
     * slice ends at ts just before e (what slice_end with no name, args,
     * flows or stack would have said). */
    const struct export_track *end_first;
    /* A stack (CPU samples): key unique within the input's generation. */
    uint64_t stack_key;
    const struct ctrace_frame *frames; /* innermost first               */
    size_t nframes;
};

/* What a sink asks the timeline for beyond the default (export_sink.flags). */
#define EXPORT_SINK_STATE_STACKS 0x1 /* the stack of blocked and syscall
                                        slices (the transition's), in
                                        slice_begin's frames */
#define EXPORT_SINK_END_FIRST 0x2    /* the end of a goroutine's state slice
                                        comes with the call after it
                                        (export_event.end_first) */
#define EXPORT_SINK_RELAY 0x4        /* with two threads, the sink's calls go
                                        to a thread of their own (relay.c),
                                        not the reading: its work per call
                                        is more than the reading's, so the
                                        two threads share the work best so.
                                        All its calls but finish and destroy
                                        are then made on that one thread
                                        (errno is that thread's); those two
                                        on export_run's, after it ended. */

struct export_sink {
    /* All return 0, or -1 after an output error (then the run stops). */
    int (*track)(struct export_sink *s, const struct export_track *t);
    int (*slice_begin)(struct export_sink *s, const struct export_event *e);
    int (*slice_end)(struct export_sink *s, const struct export_event *e);
    /* A slice known only at its end: [e->ts, e->ts + dur]. */
    int (*complete)(struct export_sink *s, const struct export_event *e, int64_t dur);
    int (*instant)(struct export_sink *s, const struct export_event *e);
    int (*counter)(struct export_sink *s, const struct export_track *t, int64_t ts,
                   int64_t value);
    void (*generation)(struct export_sink *s, unsigned seq);
    /* Ends the output (and flushes it); returns 0 or -1. */
    int (*finish)(struct export_sink *s);
    void (*destroy)(struct export_sink *s);
    /* Optional (NULL: not called): the track's last event has been passed. */
    void (*track_done)(struct export_sink *s, const struct export_track *t, int64_t ts);
    /* Optional (NULL: the timeline maps the events): every event of input
     * `seq`, read by r (for its stacks), at ts (nanoseconds since the
     * first event of all inputs).  Returns 0, or -1 after an output error;
     * 1 when the input is not what the format can carry (the sink has
     * written the reason on errf): the run then fails like on a bad input. */
    int (*event)(struct export_sink *s, unsigned seq, ctrace_reader *r,
                 const struct ctrace_event *ev, int64_t ts);
    unsigned flags; /* EXPORT_SINK_* */
};

struct export_sink *export_perfetto_sink(FILE *out, unsigned ninputs);
struct export_sink *export_chrome_sink(FILE *out);
/* dir: the directory of the tables (created if missing). NULL on failure,
 * with the reason on errf. */
struct export_sink *export_csv_sink(const char *dir, FILE *errf);
/* Go's v1 trace format ("go 1.19 trace"); stats are filled as it writes. */
struct export_sink *export_go119_sink(FILE *out, FILE *errf, struct export_stats *stats);
/* A sink that hands the calls to a thread of its own, which makes them on
 * `inner` (relay.c): NULL (inner untouched) when inner maps the events
 * itself (event()) or the thread cannot be made.  It owns inner from then
 * on (its destroy destroys inner); its finish joins the thread and
 * finishes inner. */
struct export_sink *export_relay_sink(struct export_sink *inner, FILE *errf);

#endif
