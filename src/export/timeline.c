/*
 * timeline.c - Go trace events to timeline tracks and slices (export.h).
 *
 * Reads every input once through the reader's streaming API and merges them
 * by time (a k-way merge on the current event of each input), then maps
 * each event to sink calls (sink.h):
 *
 *   goroutine state transitions -> slices on the goroutine's "state" track
 *                                  (running, runnable, blocked: REASON,
 *                                  syscall); unblock by another goroutine ->
 *                                  a flow from an instant on the waker to the
 *                                  wakee's next running slice
 *   regions                     -> nested slices on the goroutine's track
 *   tasks                       -> one slice on a track of its own
 *   logs                        -> instants (category, message as args)
 *   CPU samples                 -> instants with their stack
 *   ranges (GC, STW, sweep ...) -> slices on a track per range (and proc)
 *   metrics                     -> counters
 *
 * A sink that maps the events itself (sink.h: event(), Go's v1 format)
 * gets them from the merge as they are, the mapping above skipped.
 *
 * Invariants:
 *  - States and regions are on two tracks of the goroutine, because regions
 *    span blocking and states do not nest in regions: each track is then a
 *    proper stack of slices, which both formats require.
 *  - Memory is bounded by what is open, never by the trace: a goroutine's
 *    state is freed when it ends (goroutine ids are never reused), a task's
 *    when it ends, range tracks are keyed by (name, scope) of which a trace
 *    has few; the reader itself holds about one generation.  What is kept
 *    of an ended goroutine (struct gended: its track ids, its label) lasts
 *    to the end of the next generation (of the input: a v1 trace, which has
 *    no sync events and which the reader holds whole, keeps it to its end):
 *    libctrace writes a CPU sample of a thread after its GoDestroy when the
 *    thread's CPU-time timer fires between the GoDestroy and the timer's
 *    deletion (ct_thread_exit), into that generation or the next.  Such an
 *    instant goes on the goroutine's thread track, which keeps its label
 *    (made anew, the goroutine's state had no label, and its thread track,
 *    declared again, was named G<id>); its tracks are done (sink.h:
 *    track_done) when it is forgotten.
 *  - Every slice begun is ended: at its end event, when its goroutine ends,
 *    or at the last event of its input (counted in closed_at_end); an end
 *    whose begin precedes the trace (a region or task begun before tracing
 *    started) becomes a slice from the input's first event (counted).
 *  - Events with no place in the output are counted (not_shown), never
 *    dropped silently.
 *  - A goroutine's state slice that ends goes to a sink that sets
 *    EXPORT_SINK_END_FIRST with the call right after it (sink.h:
 *    end_first), never across a track's declaration, so that the sink's
 *    output is in the order of the two calls it saves.
 *  - Times given to the sink are in [0, INT64_MAX] and never go back in an
 *    input: ns_since the first event of all inputs, through the wrap of
 *    the reader's times in a trace spanning 2^63 ns (satadd.h), and
 *    INT64_MAX beyond.
 */
#include "export.h"
#include "hash.h"
#include "satadd.h"
#include "strtab.h"
#include "u64map.h"
#include "sink.h"

#include "ctrace_reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A goroutine (in a ctrace trace: a thread). */
struct gstate {
    uint64_t id;
    struct export_track thread, state, ranges;
    int thread_declared, state_declared, ranges_declared;
    int state_open;
    uint64_t regions_open; /* depth of the region stack */
    uint64_t ranges_open;
    uint64_t pending_flow; /* wake-up flow to end on the next running slice */
    char *label;
};

/* An ended goroutine, kept in its input's ended[] (see the invariants):
 * enough to rebuild its tracks (g_tracks) for a late instant and for their
 * track_done. */
struct gended {
    uint64_t uuid;     /* its thread track's (g_tracks) */
    int64_t vtid;      /* its state track's tid (g_tracks) */
    int64_t last_ts;   /* its end, or its last late instant */
    char *label;
    unsigned declared; /* its declared tracks: 1 thread, 2 state, 4 ranges */
};

struct task {
    struct export_track track;
    char *name;
};

/* A range track (GC, STW, sweep ...) not tied to a goroutine, or a counter
 * or M track: a declared track and how many slices are open on it. */
struct named_track {
    struct export_track track;
    uint64_t open;
};

/* The slice name of a wait: "blocked: " and the reason up to its first NUL
 * or BLOCKED_MAX bytes (what snprintf into 300 bytes made of it). */
#define BLOCKED_MEMO 16
#define BLOCKED_MAX 290
struct blocked_memo {
    const char *reason; /* the reason's address, NULL: empty slot */
    size_t reason_len;
    const char *name;   /* in the input's gen_names */
    size_t len;
};

struct input {
    const char *path;
    unsigned seq;
    ctrace_reader *r;
    const struct ctrace_event *ev; /* current event, NULL when done */
    int64_t first_ts, last_ts;
    int64_t pid;
    char *name;
    struct export_track proc;
    struct u64map gs, tasks, ranges, counters, ms;
    /* In front of gs (live_g): a trace's events come back to a few
     * goroutines; end_g forgets the goroutine it frees. */
    struct u64memo gs_memo;
    /* Ended goroutines by id (struct gended): [0] those that ended in this
     * generation, [1] in the one before, done at the next sync event. */
    struct u64map ended[2];
    int64_t next_vtid; /* the next synthetic tid (sink.h) */
    /* Event names the timeline makes ("blocked: REASON", "task N"), kept
     * until the input's next sync event, so that a name's address holds
     * the same bytes for the generation (sink.h); the blocked names found
     * again by the address of their reason (a string of the reader's
     * generation). */
    struct strtab gen_names;
    struct blocked_memo blocked[BLOCKED_MEMO];
};

/* An event kept from one sink call to the next (struct run): the fields its
 * calls do not set are the same in every one (the category, the arg's key,
 * no flows, no stack ...), so they are set once (keep_event), not cleared
 * and set again per event.  A sink reads it only during the call. */
struct kept_event {
    struct export_event ev;
    struct export_arg arg; /* ev.args */
};

struct run {
    struct export_sink *sink;
    struct export_stats *st;
    FILE *errf;
    int64_t base;
    int failed_output; /* sink or memory failure */
    int failed_input;  /* the sink cannot carry an input (sink.h: event) */
    uint64_t next_id;
    int64_t now; /* time of the event being mapped */
    unsigned flags; /* the sink's (EXPORT_SINK_*) */
    /* The calls of most events (kept_event): a state slice's begin (arg:
     * the reason), the waker's unblock instant (the goroutine it wakes), a
     * region's begin (its task) and any slice's end (no arg). */
    struct kept_event state, unblock, region, end;
};

/* ---- helpers ----------------------------------------------------------- */

/* An export_arg's key, a literal, with its length. */
#define ARG_KEY(lit) .key = "" lit, .key_len = sizeof(lit) - 1

/* Track uuids and flow ids: numbered from 1 in order of creation, unique
 * over the whole output (small numbers are short varints: a uuid is written
 * in every Perfetto event). */
static uint64_t new_id(struct run *R)
{
    return ++R->next_id;
}

static char *dup_str(struct ctrace_str s)
{
    char *p = malloc(s.len + 1);
    if (p) {
        memcpy(p, s.ptr, s.len);
        p[s.len] = 0;
    }
    return p;
}

/* A name made for this generation of the input (sink.h: its address
 * holds it until the input's next sync event); NULL when out of memory. */
static const char *gen_name(struct run *R, struct input *in, const char *s, size_t len)
{
    int64_t id = strtab_intern(&in->gen_names, s, len);
    if (id < 0) {
        R->failed_output = 1;
        return NULL;
    }
    return in->gen_names.s[id];
}

/* The input's sync event: the names made for the generation go. */
static void forget_gen_names(struct input *in)
{
    strtab_free(&in->gen_names);
    memset(&in->gen_names, 0, sizeof in->gen_names);
    memset(in->blocked, 0, sizeof in->blocked);
}

static int check(struct run *R, int rc)
{
    if (rc < 0)
        R->failed_output = 1;
    return rc;
}

/* Declares t (again) as of now: Perfetto wants descriptors timestamped so
 * that they sort before the events that use them. */
static void declare(struct run *R, const struct export_track *t)
{
    struct export_track at = *t;
    at.ts = R->now;
    check(R, R->sink->track(R->sink, &at));
}

/* Fills *e in place (not returned by value: the copy of a struct just
 * written, field by field, stalled on store forwarding in every event). */
static void ev_on(struct export_event *e, const struct export_track *t, int64_t ts,
                  const char *name, size_t len, enum export_cat cat)
{
    memset(e, 0, sizeof *e);
    e->track = t;
    e->ts = ts;
    e->name = name;
    e->name_len = len;
    e->cat = cat;
}

static void keep_event(struct kept_event *k, enum export_cat cat, struct export_arg arg)
{
    *k = (struct kept_event){.ev = {.cat = cat, .args = &k->arg}, .arg = arg};
}

static void slice_end(struct run *R, const struct export_track *t, int64_t ts, const char *name)
{
    struct export_event *e = &R->end.ev;
    e->track = t;
    e->ts = ts;
    e->name = name;
    e->name_len = name ? strlen(name) : 0;
    check(R, R->sink->slice_end(R->sink, e));
}

/* ---- goroutines -------------------------------------------------------- */

static const char *g_name(const struct gstate *g, char *buf, size_t n)
{
    if (g->label && g->label[0])
        return g->label;
    snprintf(buf, n, "G%" PRIu64, g->id);
    return buf;
}

/* Declares the goroutine's tracks in `which` (1 thread, 2 state, 4 runtime
 * ranges) that exist, with the goroutine's current name. */
static void declare_g(struct run *R, struct gstate *g, unsigned which)
{
    char buf[32], sub[300];
    const char *name = g_name(g, buf, sizeof buf);
    if ((which & 1) && g->thread_declared) {
        g->thread.name = name;
        declare(R, &g->thread);
    }
    if ((which & 2) && g->state_declared) {
        snprintf(sub, sizeof sub, "%.250s state", name);
        g->state.name = sub;
        declare(R, &g->state);
    }
    if ((which & 4) && g->ranges_declared) {
        snprintf(sub, sizeof sub, "%.250s runtime", name);
        g->ranges.name = sub;
        declare(R, &g->ranges);
    }
    g->thread.name = g->state.name = g->ranges.name = NULL;
}

/* Display order of a goroutine's thread track: by goroutine id, its state
 * and runtime tracks (sort + 1, + 2) right after it.  Ids from INT64_MAX / 3
 * up (any uint64 is a valid id to the reader) share the last place rather
 * than overflow. */
static int64_t g_sort(uint64_t id)
{
    return id < (uint64_t)INT64_MAX / 3 ? (int64_t)id * 3 : INT64_MAX - 2;
}

/* Sets goroutine id's tracks: the thread track's uuid is `uuid`, its
 * state and ranges tracks' uuid + 1 and + 2, with tids vtid and vtid + 1. */
static void g_tracks(const struct input *in, struct gstate *g, uint64_t id, uint64_t uuid,
                     int64_t vtid)
{
    g->id = id;
    g->thread = (struct export_track){.uuid = uuid, .parent = in->proc.uuid,
                                      .kind = EXPORT_TRACK_THREAD, .seq = in->seq,
                                      .pid = in->pid, .tid = (int64_t)id,
                                      .sort = g_sort(id)};
    g->state = g->thread;
    g->state.uuid = uuid + 1;
    g->state.parent = uuid;
    g->state.kind = EXPORT_TRACK_CHILD;
    g->state.tid = vtid;
    g->state.sort = g_sort(id) + 1;
    g->ranges = g->state;
    g->ranges.uuid = uuid + 2;
    g->ranges.tid = vtid + 1;
    g->ranges.sort = g_sort(id) + 2;
}

/* The live goroutine id, or NULL. */
static inline struct gstate *live_g(struct input *in, uint64_t id)
{
    return u64memo_get_ptr(&in->gs_memo, &in->gs, id);
}

/* A goroutine seen for the first time (get_g). */
static struct gstate *new_g(struct run *R, struct input *in, uint64_t id)
{
    struct gstate *g = calloc(1, sizeof *g);
    if (!g || u64map_put_ptr(&in->gs, id, g) < 0) {
        free(g);
        R->failed_output = 1;
        return NULL;
    }
    uint64_t uuid = new_id(R);
    R->next_id += 2; /* the state and ranges tracks' */
    g_tracks(in, g, id, uuid, in->next_vtid);
    in->next_vtid += 2;
    return g;
}

/* Goroutine id's state, made if new; NULL when out of memory. */
static inline struct gstate *get_g(struct run *R, struct input *in, uint64_t id)
{
    struct gstate *g = live_g(in, id);
    return g ? g : new_g(R, in, id);
}

static const struct export_track *g_thread(struct run *R, struct gstate *g)
{
    if (!g->thread_declared) {
        g->thread_declared = 1;
        R->st->thread_tracks++;
        declare_g(R, g, 1);
    }
    return &g->thread;
}

/* (A state track is declared after its thread track: one test when both are.) */
static const struct export_track *g_state(struct run *R, struct gstate *g)
{
    if (!g->state_declared) {
        g_thread(R, g);
        g->state_declared = 1;
        declare_g(R, g, 2);
    }
    return &g->state;
}

static const struct export_track *g_ranges(struct run *R, struct gstate *g)
{
    g_thread(R, g);
    if (!g->ranges_declared) {
        g->ranges_declared = 1;
        declare_g(R, g, 4);
    }
    return &g->ranges;
}

/* Ends everything open on the goroutine at ts (its end, or the input's). */
static void close_g(struct run *R, struct gstate *g, int64_t ts)
{
    for (; g->regions_open; g->regions_open--) {
        slice_end(R, &g->thread, ts, NULL);
        R->st->closed_at_end++;
    }
    for (; g->ranges_open; g->ranges_open--) {
        slice_end(R, &g->ranges, ts, NULL);
        R->st->closed_at_end++;
    }
    if (g->state_open) {
        slice_end(R, &g->state, ts, NULL);
        g->state_open = 0;
    }
}

/* The sink may forget the goroutine's tracks (they are never used again). */
static void done_g(struct run *R, struct gstate *g, int64_t ts)
{
    if (!R->sink->track_done)
        return;
    if (g->state_declared)
        R->sink->track_done(R->sink, &g->state, ts);
    if (g->ranges_declared)
        R->sink->track_done(R->sink, &g->ranges, ts);
    if (g->thread_declared)
        R->sink->track_done(R->sink, &g->thread, ts);
}

static void free_g(struct gstate *g)
{
    free(g->label);
    free(g);
}

/* The goroutine as it ended, its tracks rebuilt in *g (no state to free). */
static void gended_g(const struct input *in, uint64_t id, const struct gended *e,
                     struct gstate *g)
{
    memset(g, 0, sizeof *g);
    g_tracks(in, g, id, e->uuid, e->vtid);
    g->thread_declared = !!(e->declared & 1);
    g->state_declared = !!(e->declared & 2);
    g->ranges_declared = !!(e->declared & 4);
    g->label = e->label;
}

/* Forgets an ended goroutine: its tracks are done as of when it was last seen. */
static void forget_ended(struct run *R, struct input *in, uint64_t id, struct gended *e)
{
    struct gstate g;
    gended_g(in, id, e, &g);
    done_g(R, &g, e->last_ts);
    free(e->label);
    free(e);
}

/* Forgets the goroutines of ended[i]. */
static void forget_all_ended(struct run *R, struct input *in, int i)
{
    uint64_t key;
    void *val;
    for (size_t pos = 0; u64map_next_ptr(&in->ended[i], &pos, &key, &val);)
        forget_ended(R, in, key, val);
    u64map_clear(&in->ended[i]);
}

/* The input's sync event: the goroutines that ended in the generation
 * before the one that ends are forgotten. */
static void age_ended(struct run *R, struct input *in)
{
    forget_all_ended(R, in, 1);
    struct u64map t = in->ended[1];
    in->ended[1] = in->ended[0];
    in->ended[0] = t;
}

/* The goroutine ends at ts: what is open on it is ended, its state freed,
 * and what an instant after its end needs kept in ended[0]. */
static void end_g(struct run *R, struct input *in, struct gstate *g, int64_t ts)
{
    uint64_t id = g->id;
    close_g(R, g, ts);
    u64map_take_ptr(&in->gs, id);
    u64memo_forget(&in->gs_memo, id);
    struct gended *e = malloc(sizeof *e), *old = u64map_take_ptr(&in->ended[0], id);
    if (old) /* its id came back in this generation (reused ids: fuzzed) */
        forget_ended(R, in, id, old);
    if (!e || u64map_put_ptr(&in->ended[0], id, e) < 0) {
        free(e);
        R->failed_output = 1;
        done_g(R, g, ts);
        free_g(g);
        return;
    }
    *e = (struct gended){.uuid = g->thread.uuid, .vtid = g->state.tid, .last_ts = ts,
                         .label = g->label,
                         .declared = (unsigned)(g->thread_declared | g->state_declared << 1 |
                                                g->ranges_declared << 2)};
    g->label = NULL;
    free_g(g);
}

/* The thread track, in *scratch, of goroutine id, which ended (e) before
 * an instant of it at R->now (a late CPU sample: see the invariants);
 * declared with its label if no event of it had used it. */
static const struct export_track *late_thread(struct run *R, struct input *in, uint64_t id,
                                              struct gended *e, struct export_track *scratch)
{
    struct gstate g;
    gended_g(in, id, e, &g);
    g_thread(R, &g);
    e->declared |= 1;
    if (R->now > e->last_ts)
        e->last_ts = R->now;
    *scratch = g.thread;
    return scratch;
}

/* ---- named tracks (ranges, counters, Ms) ------------------------------- */

static struct named_track *get_named(struct run *R, struct input *in, struct u64map *map,
                                     uint64_t key, enum export_track_kind kind,
                                     const char *name, int64_t sort)
{
    struct named_track *nt = u64map_get_ptr(map, key);
    if (nt)
        return nt;
    nt = calloc(1, sizeof *nt);
    if (!nt || u64map_put_ptr(map, key, nt) < 0) {
        free(nt);
        R->failed_output = 1;
        return NULL;
    }
    nt->track = (struct export_track){.uuid = new_id(R), .parent = in->proc.uuid,
                                      .kind = kind, .seq = in->seq, .pid = in->pid,
                                      .tid = in->next_vtid++, .sort = sort, .name = name};
    declare(R, &nt->track);
    nt->track.name = NULL;
    return nt;
}

/* ---- events ------------------------------------------------------------ */

/* The name of the state slice a transition begins (its length in *len),
 * NULL for none. */
static const char *state_slice_name(struct run *R, struct input *in,
                                    const struct ctrace_event *ev, size_t *len)
{
#define LIT(s) (*len = sizeof(s) - 1, s)
    switch (ev->u.transition.to) {
    case CTRACE_STATE_RUNNING: return LIT("running");
    case CTRACE_STATE_RUNNABLE: return LIT("runnable");
    case CTRACE_STATE_SYSCALL: return LIT("syscall");
    case CTRACE_STATE_WAITING: {
        struct ctrace_str r = ev->u.transition.reason;
        if (!r.len)
            return LIT("blocked");
        /* "blocked: REASON", made once per reason and generation, found
         * again by the reason's address: the reader's strings keep theirs
         * for the generation, so a hit needs no compare of the bytes. */
        uintptr_t a = (uintptr_t)r.ptr;
        struct blocked_memo *b = &in->blocked[(a ^ (a >> 7)) & (BLOCKED_MEMO - 1)];
        if (b->reason != r.ptr || b->reason_len != r.len) {
            char name[9 + BLOCKED_MAX];
            size_t n = strnlen(r.ptr, r.len > BLOCKED_MAX ? BLOCKED_MAX : r.len);
            memcpy(name, "blocked: ", 9);
            memcpy(name + 9, r.ptr, n);
            const char *kept = gen_name(R, in, name, 9 + n);
            if (!kept)
                return LIT("blocked");
            *b = (struct blocked_memo){r.ptr, r.len, kept, 9 + n};
        }
        *len = b->len;
        return b->name;
    }
    default: return NULL;
    }
#undef LIT
}

static void on_transition(struct run *R, struct input *in, const struct ctrace_event *ev, int64_t ts)
{
    if (ev->u.transition.resource != CTRACE_RES_GOROUTINE) {
        R->st->not_shown++; /* procs have no track: threads show where work runs */
        return;
    }
    uint64_t id = ev->u.transition.id;
    struct gstate *g = get_g(R, in, id);
    if (!g)
        return;
    /* A status restated at a generation's start (Waiting->Waiting, no
     * reason): the open slice, with its reason and stack, goes on. */
    if (ev->u.transition.from == ev->u.transition.to && g->state_open)
        return;
    int waking = ev->u.transition.from == CTRACE_STATE_WAITING &&
                 ev->u.transition.to == CTRACE_STATE_RUNNABLE && ev->g != CTRACE_NO_ID &&
                 ev->g != id;
    /* The open state slice ends here: with the next call (the waker's
     * instant, else the next slice's begin) if the sink takes them as one
     * (sink.h: end_first) and no track is declared between them. */
    int ending = g->state_open;
    g->state_open = 0;
    if (ending && !(R->flags & EXPORT_SINK_END_FIRST)) {
        slice_end(R, &g->state, ts, NULL);
        ending = 0;
    }
    if (waking) {
        struct gstate *waker = get_g(R, in, ev->g);
        if (waker) {
            if (ending && !waker->state_declared) {
                slice_end(R, &g->state, ts, NULL);
                ending = 0;
            }
            struct export_event *e = &R->unblock.ev;
            e->track = g_state(R, waker);
            e->ts = ts;
            R->unblock.arg.u = id;
            e->end_first = ending ? &g->state : NULL;
            ending = 0;
            e->flow_out = new_id(R);
            check(R, R->sink->instant(R->sink, e));
            g->pending_flow = e->flow_out;
            R->st->flows++;
        }
    }
    size_t name_len;
    const char *name = state_slice_name(R, in, ev, &name_len);
    if (name) {
        struct export_event *e = &R->state.ev;
        e->track = g_state(R, g);
        e->ts = ts;
        e->name = name;
        e->name_len = name_len;
        R->state.arg.str = ev->u.transition.reason.ptr;
        R->state.arg.len = ev->u.transition.reason.len;
        e->nargs = ev->u.transition.reason.len != 0;
        e->flow_in = 0;
        if (ev->u.transition.to == CTRACE_STATE_RUNNING) {
            e->flow_in = g->pending_flow;
            g->pending_flow = 0;
        }
        e->end_first = ending ? &g->state : NULL;
        ending = 0;
        if (R->flags & EXPORT_SINK_STATE_STACKS) {
            e->stack_key = 0;
            e->frames = NULL;
            e->nframes = 0;
            if (ev->u.transition.to == CTRACE_STATE_WAITING ||
                ev->u.transition.to == CTRACE_STATE_SYSCALL) {
                /* where it blocked: the transition's stack, else the
                 * event's (as `ctrace stat` takes it) */
                e->stack_key = ev->u.transition.stack != CTRACE_NO_STACK ? ev->u.transition.stack
                                                                         : ev->stack;
                e->nframes = ctrace_reader_stack(in->r, e->stack_key, &e->frames);
            }
        }
        check(R, R->sink->slice_begin(R->sink, e));
        g->state_open = 1;
        R->st->state_slices++;
    }
    if (ending)
        slice_end(R, &g->state, ts, NULL);
    if (ev->u.transition.to == CTRACE_STATE_NOTEXIST)
        end_g(R, in, g, ts);
}

static void on_region(struct run *R, struct input *in, const struct ctrace_event *ev, int64_t ts)
{
    struct gstate *g = ev->g != CTRACE_NO_ID ? get_g(R, in, ev->g) : NULL;
    if (!g) {
        R->st->not_shown++;
        return;
    }
    if (ev->kind == CTRACE_EV_REGION_END && g->regions_open) {
        slice_end(R, &g->thread, ts, NULL); /* (declared by the begin) */
        g->regions_open--;
        return;
    }
    struct export_event *e = &R->region.ev;
    e->track = g_thread(R, g);
    e->ts = ts;
    e->name = ev->u.region.name.ptr;
    e->name_len = ev->u.region.name.len;
    R->region.arg.u = ev->u.region.task;
    e->nargs = ev->u.region.task != CTRACE_BACKGROUND_TASK;
    if (ev->kind == CTRACE_EV_REGION_BEGIN) {
        check(R, R->sink->slice_begin(R->sink, e));
        g->regions_open++;
        R->st->regions++;
    } else {
        /* Begun before the trace started: it encloses every region of this
         * goroutine so far (regions are a stack), so it nests. */
        e->ts = in->first_ts;
        check(R, R->sink->complete(R->sink, e, ts - in->first_ts));
        R->st->regions++;
        R->st->regions_unmatched++;
    }
}

static void on_task(struct run *R, struct input *in, const struct ctrace_event *ev, int64_t ts)
{
    uint64_t id = ev->u.task.id;
    if (ev->kind == CTRACE_EV_TASK_BEGIN) {
        struct task *t = u64map_get_ptr(&in->tasks, id);
        if (t) { /* begun twice: end the first one here */
            slice_end(R, &t->track, ts, t->name);
            if (R->sink->track_done)
                R->sink->track_done(R->sink, &t->track, ts);
        } else {
            t = calloc(1, sizeof *t);
            if (!t || u64map_put_ptr(&in->tasks, id, t) < 0) {
                free(t);
                R->failed_output = 1;
                return;
            }
        }
        free(t->name);
        t->name = dup_str(ev->u.task.name);
        if (!t->name) {
            R->failed_output = 1;
            return;
        }
        t->track = (struct export_track){.uuid = new_id(R), .parent = in->proc.uuid,
                                         .kind = EXPORT_TRACK_ASYNC, .seq = in->seq,
                                         .pid = in->pid, .tid = (int64_t)id, .sort = 0,
                                         .name = t->name};
        declare(R, &t->track);
        struct export_event e;
        /* named by the reader's string (the copy's bytes, to its first
         * NUL), whose address lasts the generation (sink.h) */
        ev_on(&e, &t->track, ts, ev->u.task.name.ptr, strlen(t->name), EXPORT_CAT_TASK);
        struct export_arg args[2] = {{ARG_KEY("task"), .u = id}, {ARG_KEY("parent"), .u = ev->u.task.parent}};
        e.args = args;
        e.nargs = ev->u.task.parent != CTRACE_NO_ID && ev->u.task.parent ? 2 : 1;
        check(R, R->sink->slice_begin(R->sink, &e));
        R->st->tasks++;
        return;
    }
    struct task *t = u64map_take_ptr(&in->tasks, id);
    if (t) {
        slice_end(R, &t->track, ts, t->name);
        if (R->sink->track_done)
            R->sink->track_done(R->sink, &t->track, ts);
        free(t->name);
        free(t);
        return;
    }
    /* Begun before the trace: a slice from the input's first event. */
    const char *name = ev->u.task.name.ptr;
    if (!ev->u.task.name.len) {
        char buf[64];
        int n = snprintf(buf, sizeof buf, "task %" PRIu64, id);
        name = gen_name(R, in, buf, (size_t)n);
        if (!name)
            return;
    }
    struct export_track track = {.uuid = new_id(R), .parent = in->proc.uuid,
                                 .kind = EXPORT_TRACK_ASYNC, .seq = in->seq, .pid = in->pid,
                                 .tid = (int64_t)id, .name = name};
    R->now = in->first_ts; /* its slice begins there */
    declare(R, &track);
    R->now = ts;
    struct export_arg arg = {ARG_KEY("task"), .u = id};
    struct export_event e;
    ev_on(&e, &track, in->first_ts, name, strlen(name), EXPORT_CAT_TASK);
    e.args = &arg;
    e.nargs = 1;
    check(R, R->sink->complete(R->sink, &e, ts - in->first_ts));
    if (R->sink->track_done)
        R->sink->track_done(R->sink, &track, ts);
    R->st->tasks++;
}

/* The track a goroutine's instant goes on: its own (an ended goroutine's
 * rebuilt in *scratch), else its thread's (M), else the process's. */
static const struct export_track *instant_track(struct run *R, struct input *in,
                                                const struct ctrace_event *ev,
                                                struct export_track *scratch)
{
    if (ev->g != CTRACE_NO_ID) {
        struct gstate *g = live_g(in, ev->g);
        if (!g) {
            for (int i = 0; i < 2; i++) {
                struct gended *e = in->ended[i].len ? u64map_get_ptr(&in->ended[i], ev->g) : NULL;
                if (e)
                    return late_thread(R, in, ev->g, e, scratch);
            }
            g = get_g(R, in, ev->g);
        }
        return g ? g_thread(R, g) : NULL;
    }
    if (ev->m != CTRACE_NO_ID) {
        char name[32];
        snprintf(name, sizeof name, "M%" PRIu64, ev->m);
        struct named_track *nt = get_named(R, in, &in->ms, ev->m, EXPORT_TRACK_CHILD, name,
                                           INT64_MAX / 2 + (int64_t)(ev->m & 0xffffffff));
        return nt ? &nt->track : NULL;
    }
    return &in->proc;
}

static void on_log(struct run *R, struct input *in, const struct ctrace_event *ev, int64_t ts)
{
    struct export_track scratch;
    const struct export_track *t = instant_track(R, in, ev, &scratch);
    if (!t)
        return;
    const char *name = ev->u.log.category.len ? ev->u.log.category.ptr : "log";
    struct export_event e;
    ev_on(&e, t, ts, name, strlen(name), EXPORT_CAT_LOG);
    struct export_arg args[3] = {
        {ARG_KEY("category"), .str = ev->u.log.category.ptr, .len = ev->u.log.category.len},
        {ARG_KEY("message"), .str = ev->u.log.message.ptr, .len = ev->u.log.message.len},
        {ARG_KEY("task"), .u = ev->u.log.task}};
    e.args = args;
    e.nargs = ev->u.log.task != CTRACE_BACKGROUND_TASK ? 3 : 2;
    check(R, R->sink->instant(R->sink, &e));
    R->st->logs++;
}

static void on_sample(struct run *R, struct input *in, const struct ctrace_event *ev, int64_t ts)
{
    struct export_track scratch;
    const struct export_track *t = instant_track(R, in, ev, &scratch);
    if (!t)
        return;
    struct export_event e;
    ev_on(&e, t, ts, "CPU sample", 10, EXPORT_CAT_CPU);
    e.stack_key = ev->stack;
    e.nframes = ctrace_reader_stack(in->r, ev->stack, &e.frames);
    check(R, R->sink->instant(R->sink, &e));
    R->st->samples++;
}

static void on_range(struct run *R, struct input *in, const struct ctrace_event *ev, int64_t ts)
{
    const struct export_track *t;
    uint64_t *open;
    struct ctrace_str nm = ev->u.range.name;
    if (ev->u.range.scope == CTRACE_RES_GOROUTINE) {
        struct gstate *g = get_g(R, in, ev->u.range.scope_id);
        if (!g)
            return;
        t = g_ranges(R, g);
        open = &g->ranges_open;
    } else {
        char name[300];
        int proc = ev->u.range.scope == CTRACE_RES_PROC;
        if (proc)
            snprintf(name, sizeof name, "%.*s (P%" PRIu64 ")", (int)(nm.len > 250 ? 250 : nm.len),
                     nm.ptr, ev->u.range.scope_id);
        else
            snprintf(name, sizeof name, "%.*s", (int)(nm.len > 250 ? 250 : nm.len), nm.ptr);
        uint64_t key = hash_fnv1a(nm.ptr, nm.len, 0) ^ hash_mix64(proc ? ev->u.range.scope_id + 1 : 0);
        struct named_track *nt = get_named(R, in, &in->ranges, key, EXPORT_TRACK_CHILD, name,
                                           -1000000 + (proc ? (int64_t)ev->u.range.scope_id : -1));
        if (!nt)
            return;
        t = &nt->track;
        open = &nt->open;
    }
    struct export_event e;
    ev_on(&e, t, ts, nm.ptr, nm.len, EXPORT_CAT_RUNTIME);
    if (ev->kind == CTRACE_EV_RANGE_BEGIN ||
        (ev->kind == CTRACE_EV_RANGE_ACTIVE && *open == 0)) {
        check(R, R->sink->slice_begin(R->sink, &e));
        ++*open;
        R->st->ranges++;
    } else if (ev->kind == CTRACE_EV_RANGE_END) {
        if (*open) {
            struct export_arg args[8];
            size_t n = ev->u.range.nattrs < 8 ? ev->u.range.nattrs : 8;
            for (size_t i = 0; i < n; i++)
                args[i] = (struct export_arg){.key = ev->u.range.attrs[i].name.ptr,
                                              .key_len = strlen(ev->u.range.attrs[i].name.ptr),
                                              .u = ev->u.range.attrs[i].value};
            e.args = args;
            e.nargs = n;
            check(R, R->sink->slice_end(R->sink, &e));
            --*open;
        } else {
            e.ts = in->first_ts;
            check(R, R->sink->complete(R->sink, &e, ts - in->first_ts));
            R->st->ranges++;
        }
    }
}

static void on_metric(struct run *R, struct input *in, const struct ctrace_event *ev, int64_t ts)
{
    char name[300];
    struct ctrace_str nm = ev->u.metric.name;
    snprintf(name, sizeof name, "%.*s", (int)(nm.len > 290 ? 290 : nm.len), nm.ptr);
    struct named_track *nt = get_named(R, in, &in->counters, hash_fnv1a(nm.ptr, nm.len, 0),
                                       EXPORT_TRACK_COUNTER, name, -2000000);
    if (!nt)
        return;
    check(R, R->sink->counter(R->sink, &nt->track, ts, (int64_t)ev->u.metric.value));
    R->st->counters++;
}

static void on_label(struct run *R, struct input *in, const struct ctrace_event *ev)
{
    struct gstate *g = ev->g != CTRACE_NO_ID ? get_g(R, in, ev->g) : NULL;
    if (!g) {
        R->st->not_shown++;
        return;
    }
    char *label = dup_str(ev->u.label.label);
    if (!label) {
        R->failed_output = 1;
        return;
    }
    free(g->label);
    g->label = label;
    declare_g(R, g, 7);
}

/* Gives ev, of input in, at ts (ns_since the base), to a sink that maps
 * the events itself (sink.h: event). */
static void pass_event(struct run *R, struct input *in, const struct ctrace_event *ev, int64_t ts)
{
    in->last_ts = ts;
    R->now = ts;
    int rc = R->sink->event(R->sink, in->seq, in->r, ev, ts);
    if (rc < 0)
        R->failed_output = 1;
    else if (rc > 0)
        R->failed_input = 1;
}

/* Maps ev, of input in, at ts (ns_since the base). */
static void on_event(struct run *R, struct input *in, const struct ctrace_event *ev, int64_t ts)
{
    in->last_ts = ts;
    R->now = ts;
    /* Most events are transitions, then regions: compares before the
     * jump table. */
    if (ev->kind == CTRACE_EV_STATE_TRANSITION) {
        on_transition(R, in, ev, ts);
        return;
    }
    if (ev->kind == CTRACE_EV_REGION_BEGIN || ev->kind == CTRACE_EV_REGION_END) {
        on_region(R, in, ev, ts);
        return;
    }
    switch (ev->kind) {
    case CTRACE_EV_TASK_BEGIN:
    case CTRACE_EV_TASK_END: on_task(R, in, ev, ts); break;
    case CTRACE_EV_LOG: on_log(R, in, ev, ts); break;
    case CTRACE_EV_STACK_SAMPLE: on_sample(R, in, ev, ts); break;
    case CTRACE_EV_RANGE_BEGIN:
    case CTRACE_EV_RANGE_ACTIVE:
    case CTRACE_EV_RANGE_END: on_range(R, in, ev, ts); break;
    case CTRACE_EV_METRIC: on_metric(R, in, ev, ts); break;
    case CTRACE_EV_LABEL: on_label(R, in, ev); break;
    case CTRACE_EV_SYNC:
        age_ended(R, in);
        R->sink->generation(R->sink, in->seq);
        forget_gen_names(in);
        break;
    default: R->st->not_shown++; break;
    }
}

/* ---- inputs ------------------------------------------------------------ */

/* The process id in a name `ctrace run` writes (PROG.PID.trace, or
 * PROG.PID-N.trace for the Nth exec image: *exec_image set), or -1. */
static int64_t pid_from_path(const char *base, int *exec_image)
{
    const char *end = strstr(base, ".trace");
    if (!end || end[6])
        return -1;
    const char *p = end;
    while (p > base && p[-1] != '.')
        p--;
    if (p == base)
        return -1;
    int64_t pid = 0;
    const char *q = p;
    /* stops past 0x7fffffff (rejected below), before pid * 10 overflows */
    for (; q < end && *q >= '0' && *q <= '9' && pid <= 0x7fffffff; q++)
        pid = pid * 10 + (*q - '0');
    if (q == p || pid > 0x7fffffff || (q < end && *q != '-'))
        return -1;
    *exec_image = q < end;
    return pid;
}

static void close_input(struct run *R, struct input *in)
{
    int64_t ts = in->last_ts;
    uint64_t key;
    void *val;
    for (int k = 1; k >= 0; k--) {
        forget_all_ended(R, in, k);
        u64map_free(&in->ended[k]);
    }
    for (size_t i = 0; u64map_next_ptr(&in->gs, &i, &key, &val);) {
        close_g(R, val, ts);
        done_g(R, val, ts);
        free_g(val);
    }
    for (size_t i = 0; u64map_next_ptr(&in->tasks, &i, &key, &val);) {
        struct task *t = val;
        slice_end(R, &t->track, ts, t->name);
        if (R->sink->track_done)
            R->sink->track_done(R->sink, &t->track, ts);
        R->st->closed_at_end++;
        free(t->name);
        free(t);
    }
    struct u64map *named[] = {&in->ranges, &in->counters, &in->ms};
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; u64map_next_ptr(named[k], &i, &key, &val);) {
            struct named_track *nt = val;
            for (; nt->open; nt->open--) {
                slice_end(R, &nt->track, ts, NULL);
                R->st->closed_at_end++;
            }
            free(nt);
        }
        u64map_free(named[k]);
    }
    u64map_free(&in->gs);
    u64memo_clear(&in->gs_memo);
    u64map_free(&in->tasks);
    /* The input's strings and stacks go now (its names here, the
     * reader's at its close): the end of its last generation (sink.h). */
    if (!R->sink->event) /* (one that maps the events has no timeline) */
        R->sink->generation(R->sink, in->seq);
    forget_gen_names(in);
}

/* Reports a reader error; returns 1 if it makes the run fail. */
static int report(struct run *R, struct input *in, int rc)
{
    const char *name = strcmp(in->path, "-") ? in->path : "<stdin>";
    uint64_t off = 0;
    const char *msg = in->r ? ctrace_reader_error(in->r, &off) : NULL;
    if (!msg)
        msg = ctrace_reader_strerror(rc);
    if (rc == CTRACE_READER_ETRUNCATED) {
        fprintf(R->errf, "ctrace export: %s: warning: trace cut short at offset %" PRIu64
                         " (%s): its complete generations are exported\n", name, off, msg);
        return 0;
    }
    fprintf(R->errf, "ctrace export: %s: error at offset %" PRIu64 ": %s\n", name, off, msg);
    return 1;
}

static void advance(struct run *R, struct input *in, int *failed)
{
    int rc = ctrace_reader_next(in->r, &in->ev);
    if (rc == 1)
        return;
    in->ev = NULL;
    if (rc < 0)
        *failed |= report(R, in, rc);
    close_input(R, in);
}

/* The merge: always the input whose current event is earliest (the first
 * of those at the same time), its time in *ts; NULL when all are done.
 * One input (the usual case) is read in order, with no merge to do. */
static inline struct input *next_input(const struct run *R, struct input *ins, size_t n,
                                       int64_t *ts)
{
    if (n == 1) {
        if (!ins->ev)
            return NULL;
        *ts = ns_since(R->base, ins->ev->time);
        return ins;
    }
    struct input *best = NULL;
    int64_t best_ts = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ins[i].ev)
            continue;
        int64_t t = ns_since(R->base, ins[i].ev->time);
        if (!best || t < best_ts) {
            best = &ins[i];
            best_ts = t;
        }
    }
    *ts = best_ts;
    return best;
}

static struct export_sink *new_sink(enum export_format format, FILE *out, const char *out_dir,
                                    size_t n, FILE *errf, struct export_stats *stats)
{
    switch (format) {
    case EXPORT_PERFETTO: return export_perfetto_sink(out, (unsigned)n);
    case EXPORT_CHROME: return export_chrome_sink(out);
    case EXPORT_CSV: return export_csv_sink(out_dir, errf);
    case EXPORT_GO119: return export_go119_sink(out, errf, stats);
    }
    return NULL;
}

int export_run(const char *const *paths, size_t n, enum export_format format, unsigned threads, FILE *out,
               const char *out_dir, FILE *errf, struct export_stats *stats)
{
    struct export_stats dummy;
    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    struct run R = {.st = stats, .errf = errf};
    R.sink = new_sink(format, out, out_dir, n, errf, stats);
    struct input *ins = calloc(n ? n : 1, sizeof *ins);
    if (!R.sink || !ins) {
        if (R.sink || format != EXPORT_CSV) /* csv: the sink said why */
            fprintf(errf, "ctrace export: out of memory\n");
        if (R.sink)
            R.sink->destroy(R.sink);
        free(ins);
        return 2;
    }
    /* Two threads: a sink whose work per call is more than the reading's
     * (EXPORT_SINK_RELAY: chrome, csv) writes on a thread of its own, the
     * reading and the timeline stay here; for the others, the reader
     * reads ahead on its thread and the timeline and the sink stay here
     * (big120, -j 2: chrome 1.12 -> 0.97 s, csv 1.49 -> 1.35 s relayed;
     * perfetto 0.83 s reading ahead, 0.95 s relayed; docs/PERFORMANCE.md). */
    unsigned read_threads = threads;
    if (threads >= 2 && (R.sink->flags & EXPORT_SINK_RELAY) && !R.sink->event) {
        struct export_sink *relay = export_relay_sink(R.sink, errf);
        if (relay) {
            R.sink = relay;
            read_threads = threads - 1;
        }
    }
    R.flags = R.sink->flags;
    keep_event(&R.state, EXPORT_CAT_STATE, (struct export_arg){ARG_KEY("reason")});
    keep_event(&R.unblock, EXPORT_CAT_SCHED, (struct export_arg){ARG_KEY("goroutine")});
    R.unblock.ev.name = "unblock";
    R.unblock.ev.name_len = 7;
    R.unblock.ev.nargs = 1;
    keep_event(&R.region, EXPORT_CAT_REGION, (struct export_arg){ARG_KEY("task")});
    keep_event(&R.end, EXPORT_CAT_NONE, (struct export_arg){0});
    int failed = 0;
    int have_base = 0;
    for (size_t i = 0; i < n; i++) {
        struct input *in = &ins[i];
        in->path = paths[i];
        in->seq = (unsigned)i;
        /* Synthetic tids count up from 2^52, beyond any goroutine id a
         * program reaches (a million goroutines a second for 140 years)
         * and still exact in JavaScript's doubles; after the goroutines'
         * in a viewer's order.  (From 10^9 they met the goroutine ids of
         * long-running programs.) */
        in->next_vtid = EXPORT_SYNTHETIC_TID_BASE;
        int rc = ctrace_reader_open(in->path, 0, &in->r);
        if (rc == 0)
            ctrace_reader_read_ahead(in->r, read_threads);
        if (rc == CTRACE_READER_EOPEN) {
            fprintf(errf, "ctrace export: %s: cannot open: %s\n", in->path, strerror(errno));
            failed = 1;
            continue;
        }
        if (rc == 0)
            rc = ctrace_reader_next(in->r, &in->ev);
        if (rc != 1) {
            in->ev = NULL;
            if (rc < 0)
                failed |= report(&R, in, rc);
            continue;
        }
        if (!have_base || in->ev->time < R.base)
            R.base = in->ev->time;
        have_base = 1;
    }
    /* Processes: named after their files, with the pid `ctrace run` put in
     * the name, else a number above Linux's pid_max; pids stay unique in the
     * output.  The images of an exec share a pid (PROG.PID.trace,
     * PROG.PID-1.trace ...): the first image keeps it, so pass 0 gives pids
     * to the names without "-N". */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            struct input *in = &ins[i];
            if (!in->ev || in->proc.uuid)
                continue;
            const char *base = strcmp(in->path, "-") ? strrchr(in->path, '/') : NULL;
            base = base ? base + 1 : strcmp(in->path, "-") ? in->path : "<stdin>";
            int exec_image = 0;
            in->pid = pid_from_path(base, &exec_image);
            if (exec_image && pass == 0)
                continue;
            in->name = strdup(base);
            for (size_t j = 0; j < n && in->pid >= 0; j++)
                if (j != i && ins[j].proc.uuid && ins[j].pid == in->pid)
                    in->pid = -1;
            if (in->pid < 0)
                in->pid = (int64_t)(1u << 30) + (int64_t)i;
            in->first_ts = in->last_ts = ns_since(R.base, in->ev->time);
            R.now = in->first_ts;
            in->proc = (struct export_track){.uuid = new_id(&R), .kind = EXPORT_TRACK_PROCESS,
                                             .seq = in->seq, .pid = in->pid, .tid = in->pid,
                                             .name = in->name ? in->name : "trace"};
            declare(&R, &in->proc);
        }
    }
    /* The merge (next_input); events counted here, not in memory per
     * event, and the kind of sink asked once, not per event. */
    uint64_t nread = 0;
    int64_t ts = 0;
    const int pass = R.sink->event != NULL;
    for (struct input *best; !R.failed_output && !R.failed_input &&
                             (best = next_input(&R, ins, n, &ts)); nread++) {
        if (pass)
            pass_event(&R, best, best->ev, ts);
        else
            on_event(&R, best, best->ev, ts);
        advance(&R, best, &failed);
    }
    stats->events_read += nread;
    for (size_t i = 0; i < n; i++) {
        if (ins[i].ev) /* stopped early by an output failure */
            close_input(&R, &ins[i]);
        ctrace_reader_close(ins[i].r);
        free(ins[i].name);
    }
    free(ins);
    if (R.failed_input)
        failed = 1;
    if (R.sink->finish(R.sink) < 0 || R.failed_output) {
        fprintf(errf, "ctrace export: cannot write the output: %s\n",
                errno ? strerror(errno) : "out of memory");
        failed = 2;
    }
    R.sink->destroy(R.sink);
    return failed;
}
