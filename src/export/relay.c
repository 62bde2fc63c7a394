/*
 * relay.c - a sink (sink.h) that hands the timeline's calls to a thread of
 * their own, where the real sink writes the output: the timeline and the
 * reading run on the caller's thread, the formatting and writing on the
 * relay's, so an export costs max(reading + timeline, format) instead of
 * the sum (export_run, with two threads; docs/ARCHITECTURE.md, "The
 * exports").
 *
 * Each call becomes a record in a block of bytes; the blocks go through a
 * block queue (src/base/blockq.h) to the relay thread, which replays the
 * records, in order, as the same calls on the real sink.
 *
 * Invariants (what makes the replay the same calls):
 *  - A record holds, by value, everything the call's arguments hold that
 *    may change or go after the call: the track (by uuid, below), times,
 *    flows, the args array, the name of a slice_end and of a track (which
 *    sink.h makes valid only during the call).  Pointers it keeps are to
 *    what sink.h says lasts until the input's generation(): the names of
 *    slice_begin, complete and instant, the keys and strings of args, a
 *    sample's frames.  Those outlive their records because generation()
 *    returns only once the relay thread has replayed every record before
 *    it, the generation() call included (blockq_wait_released(0)): the
 *    timeline forgets its names, and the reader its generation, after it.
 *  - Tracks: track() sends the whole struct and its name; the relay
 *    thread keeps its own copy per uuid (struct shadow) and gives the real
 *    sink that copy in every call on the track, so a sink sees one address
 *    per track as it does without the relay (csv compares e->track with
 *    e->end_first).  track_done frees the copy after the sink's call; a
 *    track declared again (a new name, an ended goroutine's late instant)
 *    updates or remakes it.  A call on a uuid never declared cannot come
 *    from the timeline (sink.h: a track is declared before any event); if
 *    it did, the relay fails the export ("internal error") rather than
 *    write a wrong one.
 *  - One writer per field: the caller's thread writes the blocks it has
 *    claimed and reads the sticky `failed`; the relay thread reads
 *    published blocks, calls the real sink and owns the shadows; `failed`
 *    and `err` are written by the relay thread only (failed last, with
 *    release order), read by the caller's.  After finish() has joined the
 *    thread, everything is the caller's again (finish and destroy of the
 *    real sink run there).
 *  - An output error is seen by the caller one or more calls late (the
 *    call that failed was replayed later); the timeline stops at the first
 *    -1 as it would, and finish() returns -1 with the errno the failing
 *    call left on the relay thread.
 *  - Memory: the queue, blockq_bytes() (twice one core's L2 cache, as the
 *    reader's read-ahead), plus a block grown for a record larger than a
 *    block (a long track name) until it is reused.
 */
#define _GNU_SOURCE
#include "blockq.h"
#include "sink.h"
#include "u64map.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RL_LINE 128
#define RL_BLOCK_BYTES (64u << 10)

enum rec_op {
    OP_TRACK,
    OP_BEGIN,
    OP_END,
    OP_COMPLETE,
    OP_INSTANT,
    OP_COUNTER,
    OP_GENERATION,
    OP_TRACK_DONE
};

/* What an event record carries beyond its head (rec_event.has). */
#define HAS_FLOWS 0x1
#define HAS_STACK 0x2
#define HAS_NAME_COPY 0x4 /* the name's bytes follow (a slice_end's) */
#define HAS_WIDE 0x8      /* uuids or the name's length past 32 bits follow */

/* Every record starts 8-byte aligned with its op.  An event's head is
 * 32 bytes: most records are a head and an arg (a state's reason). */
struct rec_event {
    uint8_t op, cat, has, nargs;
    uint32_t name_len;
    uint32_t track, end_first; /* uuids (0: no end_first) */
    int64_t ts;
    const char *name; /* HAS_NAME_COPY: NULL, the bytes follow */
    /* then, in this order, as `has` and op say: flow_out, flow_in;
     * stack_key, frames, nframes; OP_COMPLETE's duration; HAS_WIDE: the
     * track's and end_first's uuids and the name's length; args[nargs]
     * (struct export_arg); the name's bytes and a NUL. */
};

struct rec_track {
    uint8_t op;
    struct export_track t; /* t.name: NULL, the bytes follow (name_len) */
    size_t name_len;
};

struct rec_small { /* OP_COUNTER, OP_GENERATION, OP_TRACK_DONE */
    uint8_t op;
    unsigned seq;
    uint64_t track;
    int64_t ts, value;
};

struct rl_block {
    size_t used, cap;
    int last; /* nothing comes after it */
    unsigned char *bytes;
};

/* The relay thread's copy of a track. */
struct shadow {
    struct export_track t;
    char *name;
};

struct relay {
    struct export_sink base; /* first: the sink the timeline calls */
    /* Set before the thread starts, then only read. */
    struct export_sink *inner;
    pthread_t th;
    int running; /* the thread was made and not yet joined (caller's) */
    size_t nblocks;
    struct rl_block *blocks;

    _Alignas(RL_LINE) struct blockq q;

    /* The caller's: the block it fills (NULL: none claimed). */
    _Alignas(RL_LINE) struct rl_block *fill;

    /* Written by the relay thread, read by the caller (see above). */
    _Alignas(RL_LINE) _Atomic int failed;
    int err;      /* the errno of the first failed call */
    int internal; /* a call on an undeclared track */
    FILE *errf;

    /* The relay thread's. */
    _Alignas(RL_LINE) struct u64map shadows; /* uuid -> struct shadow * */
    struct u64memo memo;
    struct export_event ev;
    _Alignas(RL_LINE) char end[];
};

/* ---- the caller's side: calls into records ---- */

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* room()'s slow path: the block is handed on and another claimed, grown
 * when n is more than a block; NULL when out of memory (the export then
 * fails). */
static void *room_next(struct relay *R, size_t n)
{
    struct rl_block *b = R->fill;
    if (b) {
        blockq_publish(&R->q, 0);
        R->fill = NULL;
    }
    long i = blockq_claim(&R->q);
    if (i < 0)
        return NULL;
    b = &R->blocks[i];
    b->used = 0;
    b->last = 0;
    if (n > b->cap) {
        unsigned char *p = realloc(b->bytes, n);
        if (!p)
            return NULL;
        b->bytes = p;
        b->cap = n;
    }
    R->fill = b;
    b->used = n;
    return b->bytes;
}

/* n bytes (a multiple of 8) for a record in the block being filled. */
static inline void *room(struct relay *R, size_t n)
{
    struct rl_block *b = R->fill;
    if (__builtin_expect(b && b->used + n <= b->cap, 1)) {
        void *p = b->bytes + b->used;
        b->used += n;
        return p;
    }
    return room_next(R, n);
}

static inline int status(struct relay *R)
{
    return atomic_load_explicit(&R->failed, memory_order_relaxed) ? -1 : 0;
}

/* A failure of the caller's side (out of memory): told like an output
 * error of the relay's. */
static int fail_here(struct relay *R)
{
    (void)R;
    errno = ENOMEM;
    return -1;
}

/* An event call as a record: its head, then what it has (rec_event).
 * Inlined into each call with its op a constant: the fields are stored
 * one by one, no copy loop or library call for the usual one arg. */
static inline __attribute__((always_inline)) int put_event(struct relay *R, enum rec_op op,
                                                           const struct export_event *e,
                                                           int64_t dur)
{
    uint64_t track = e->track->uuid, end_first = e->end_first ? e->end_first->uuid : 0;
    size_t nargs = e->nargs;
    unsigned has = 0;
    size_t n = sizeof(struct rec_event) + nargs * sizeof(struct export_arg);
    if (__builtin_expect(e->flow_out || e->flow_in, 0)) {
        has |= HAS_FLOWS;
        n += 16;
    }
    if (__builtin_expect(e->nframes || e->stack_key, 0)) {
        has |= HAS_STACK;
        n += 24;
    }
    if (op == OP_COMPLETE)
        n += 8;
    if (__builtin_expect((track | end_first | e->name_len) > UINT32_MAX || nargs > UINT8_MAX, 0)) {
        if (nargs > UINT8_MAX) /* the timeline passes 8 at most */
            return fail_here(R);
        has |= HAS_WIDE;
        n += 24;
    }
    if (op == OP_END && e->name) {
        has |= HAS_NAME_COPY;
        n += align8(e->name_len + 1);
    }
    unsigned char *p = room(R, n);
    if (!p)
        return fail_here(R);
    struct rec_event *h = (struct rec_event *)p;
    h->op = (uint8_t)op;
    h->cat = (uint8_t)e->cat;
    h->has = (uint8_t)has;
    h->nargs = (uint8_t)nargs;
    h->name_len = (uint32_t)e->name_len;
    h->track = (uint32_t)track;
    h->end_first = (uint32_t)end_first;
    h->ts = e->ts;
    h->name = has & HAS_NAME_COPY ? NULL : e->name;
    uint64_t *w = (uint64_t *)(h + 1);
    if (has & HAS_FLOWS) {
        w[0] = e->flow_out;
        w[1] = e->flow_in;
        w += 2;
    }
    if (has & HAS_STACK) {
        w[0] = e->stack_key;
        w[1] = (uintptr_t)e->frames;
        w[2] = e->nframes;
        w += 3;
    }
    if (op == OP_COMPLETE)
        *w++ = (uint64_t)dur;
    if (has & HAS_WIDE) {
        w[0] = track;
        w[1] = end_first;
        w[2] = e->name_len;
        w += 3;
    }
    struct export_arg *a = (struct export_arg *)w;
    for (size_t i = 0; i < nargs; i++)
        a[i] = e->args[i];
    if (has & HAS_NAME_COPY) {
        char *d = (char *)(a + nargs);
        memcpy(d, e->name, e->name_len);
        d[e->name_len] = 0;
    }
    return status(R);
}

static int r_track(struct export_sink *s, const struct export_track *t)
{
    struct relay *R = (struct relay *)s;
    size_t len = t->name ? strlen(t->name) : 0;
    unsigned char *p = room(R, align8(sizeof(struct rec_track) + len + 1));
    if (!p)
        return fail_here(R);
    struct rec_track *h = (struct rec_track *)p;
    h->op = OP_TRACK;
    h->t = *t;
    h->t.name = NULL;
    h->name_len = len;
    char *d = (char *)(h + 1);
    if (len)
        memcpy(d, t->name, len);
    d[len] = 0;
    return status(R);
}

static int r_begin(struct export_sink *s, const struct export_event *e)
{
    return put_event((struct relay *)s, OP_BEGIN, e, 0);
}

static int r_end(struct export_sink *s, const struct export_event *e)
{
    return put_event((struct relay *)s, OP_END, e, 0);
}

static int r_complete(struct export_sink *s, const struct export_event *e, int64_t dur)
{
    return put_event((struct relay *)s, OP_COMPLETE, e, dur);
}

static int r_instant(struct export_sink *s, const struct export_event *e)
{
    return put_event((struct relay *)s, OP_INSTANT, e, 0);
}

static int put_small(struct relay *R, enum rec_op op, unsigned seq, uint64_t track, int64_t ts,
                     int64_t value)
{
    struct rec_small *h = room(R, align8(sizeof *h));
    if (!h)
        return fail_here(R);
    *h = (struct rec_small){.op = (uint8_t)op, .seq = seq, .track = track, .ts = ts, .value = value};
    return status(R);
}

static int r_counter(struct export_sink *s, const struct export_track *t, int64_t ts, int64_t value)
{
    return put_small((struct relay *)s, OP_COUNTER, 0, t->uuid, ts, value);
}

static void r_track_done(struct export_sink *s, const struct export_track *t, int64_t ts)
{
    put_small((struct relay *)s, OP_TRACK_DONE, 0, t->uuid, ts, 0);
}

/* The strings and frames of the generation go after this returns: every
 * record before it is replayed first (see the invariants). */
static void r_generation(struct export_sink *s, unsigned seq)
{
    struct relay *R = (struct relay *)s;
    /* Drained even if the record could not be made (out of memory): the
     * strings of what was queued before must not go under the relay. */
    put_small(R, OP_GENERATION, seq, 0, 0, 0);
    if (R->fill) {
        blockq_publish(&R->q, 0);
        R->fill = NULL;
    }
    blockq_wait_released(&R->q, 0, 0);
}

/* Hands on the last block (claiming one for it if need be) and joins the
 * thread. */
static void end_thread(struct relay *R)
{
    if (!R->running)
        return;
    if (!R->fill)
        room_next(R, 0); /* an empty block, to carry the end */
    if (R->fill) {
        R->fill->last = 1;
        blockq_publish(&R->q, 1);
        R->fill = NULL;
    }
    pthread_join(R->th, NULL);
    R->running = 0;
}

static int r_finish(struct export_sink *s)
{
    struct relay *R = (struct relay *)s;
    end_thread(R);
    int failed = atomic_load_explicit(&R->failed, memory_order_acquire);
    int err = R->err;
    if (R->internal)
        fprintf(R->errf, "ctrace export: internal error: an event on a track never declared\n");
    /* The first error is the one to tell: the relay thread's (its errno
     * is its own), else what finishing the output met here. */
    int rc = R->inner->finish(R->inner);
    if (failed) {
        errno = err;
        return -1;
    }
    return rc < 0 ? -1 : 0;
}

static void free_shadows(struct relay *R)
{
    uint64_t key;
    void *v;
    for (size_t i = 0; u64map_next_ptr(&R->shadows, &i, &key, &v);) {
        struct shadow *sh = v;
        free(sh->name);
        free(sh);
    }
    u64map_free(&R->shadows);
    u64memo_clear(&R->memo);
}

static void free_relay(struct relay *R)
{
    for (size_t i = 0; i < R->nblocks; i++)
        free(R->blocks[i].bytes);
    free(R->blocks);
    free_shadows(R);
    blockq_destroy(&R->q);
    free(R);
}

static void r_destroy(struct export_sink *s)
{
    struct relay *R = (struct relay *)s;
    end_thread(R);
    R->inner->destroy(R->inner);
    free_relay(R);
}

/* ---- the relay thread: records into calls ---- */

static void note_failure(struct relay *R, int rc)
{
    if (rc < 0 && !atomic_load_explicit(&R->failed, memory_order_relaxed)) {
        R->err = errno ? errno : EIO;
        atomic_store_explicit(&R->failed, 1, memory_order_release);
    }
}

/* shadow_of's miss: a track never declared (see the invariants). */
static __attribute__((noinline)) struct shadow *undeclared(struct relay *R)
{
    if (!R->internal) {
        R->internal = 1;
        errno = EINVAL;
        note_failure(R, -1);
    }
    return NULL;
}

/* The relay's copy of the track uuid, NULL if it was never declared. */
static inline struct shadow *shadow_of(struct relay *R, uint64_t uuid)
{
    struct shadow *sh = u64memo_get_ptr(&R->memo, &R->shadows, uuid);
    return sh ? sh : undeclared(R);
}

static void replay_track(struct relay *R, const struct rec_track *h)
{
    struct export_sink *S = R->inner;
    struct shadow *sh = u64map_get_ptr(&R->shadows, h->t.uuid);
    char *name = strndup((const char *)(h + 1), h->name_len);
    if (!name) {
        errno = ENOMEM;
        note_failure(R, -1);
        return;
    }
    if (!sh) {
        sh = malloc(sizeof *sh);
        if (!sh || u64map_put_ptr(&R->shadows, h->t.uuid, sh) < 0) {
            free(sh);
            free(name);
            errno = ENOMEM;
            note_failure(R, -1);
            return;
        }
        sh->name = NULL;
    }
    char *old = sh->name;
    sh->t = h->t;
    sh->t.name = sh->name = name;
    free(old);
    note_failure(R, S->track(S, &sh->t));
}

/* Replays the event record at p; returns the record's end. */
static const unsigned char *replay_event(struct relay *R, const unsigned char *p)
{
    struct export_sink *S = R->inner;
    const struct rec_event *h = (const struct rec_event *)p;
    struct export_event *e = &R->ev;
    const uint64_t *w = (const uint64_t *)(h + 1);
    e->flow_out = e->flow_in = 0;
    if (h->has & HAS_FLOWS) {
        e->flow_out = w[0];
        e->flow_in = w[1];
        w += 2;
    }
    e->stack_key = 0;
    e->frames = NULL;
    e->nframes = 0;
    if (h->has & HAS_STACK) {
        e->stack_key = w[0];
        e->frames = (const struct ctrace_frame *)(uintptr_t)w[1];
        e->nframes = w[2];
        w += 3;
    }
    int64_t dur = 0;
    if (h->op == OP_COMPLETE)
        dur = (int64_t)*w++;
    uint64_t track = h->track, end_first = h->end_first;
    e->name_len = h->name_len;
    if (h->has & HAS_WIDE) {
        track = w[0];
        end_first = w[1];
        e->name_len = w[2];
        w += 3;
    }
    e->nargs = h->nargs;
    e->args = h->nargs ? (const struct export_arg *)w : NULL;
    p = (const unsigned char *)((const struct export_arg *)w + h->nargs);
    e->name = h->name;
    if (h->has & HAS_NAME_COPY) {
        e->name = (const char *)p;
        p += align8(e->name_len + 1);
    }
    e->ts = h->ts;
    e->cat = (enum export_cat)h->cat;
    struct shadow *sh = shadow_of(R, track);
    e->track = sh ? &sh->t : NULL;
    e->end_first = NULL;
    if (end_first == track) { /* a state after the last on one track */
        e->end_first = e->track;
    } else if (end_first) {
        struct shadow *ef = shadow_of(R, end_first);
        e->end_first = ef ? &ef->t : NULL;
        if (!ef)
            sh = NULL;
    }
    if (sh) {
        int rc = 0;
        switch (h->op) {
        case OP_BEGIN: rc = S->slice_begin(S, e); break;
        case OP_END: rc = S->slice_end(S, e); break;
        case OP_COMPLETE: rc = S->complete(S, e, dur); break;
        default: rc = S->instant(S, e); break;
        }
        note_failure(R, rc);
    }
    return p;
}

static void replay_small(struct relay *R, const struct rec_small *h)
{
    struct export_sink *S = R->inner;
    if (h->op == OP_GENERATION) {
        S->generation(S, h->seq);
        return;
    }
    struct shadow *sh = shadow_of(R, h->track);
    if (!sh)
        return;
    if (h->op == OP_COUNTER) {
        note_failure(R, S->counter(S, &sh->t, h->ts, h->value));
        return;
    }
    if (S->track_done)
        S->track_done(S, &sh->t, h->ts);
    u64memo_forget(&R->memo, h->track);
    u64map_take_ptr(&R->shadows, h->track);
    free(sh->name);
    free(sh);
}

static void replay(struct relay *R, const struct rl_block *b)
{
    const unsigned char *p = b->bytes, *end = b->bytes + b->used;
    while (p < end) {
        switch (*p) {
        case OP_TRACK: {
            const struct rec_track *h = (const struct rec_track *)p;
            replay_track(R, h);
            p += align8(sizeof *h + h->name_len + 1);
            break;
        }
        case OP_COUNTER:
        case OP_GENERATION:
        case OP_TRACK_DONE:
            replay_small(R, (const struct rec_small *)p);
            p += align8(sizeof(struct rec_small));
            break;
        default: p = replay_event(R, p); break;
        }
    }
}

static void *relay_thread(void *arg)
{
    struct relay *R = arg;
    /* The thread writes the output: a write to a pipe whose reader has
     * gone raises SIGPIPE in it, which ends the command as it does with
     * one thread (`ctrace export ... | head`); the other signals stay
     * with the program's threads (blockq_thread). */
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_UNBLOCK, &pipe, NULL);
    for (;;) {
        const struct rl_block *b = &R->blocks[blockq_take(&R->q, 0)];
        replay(R, b);
        int last = b->last;
        blockq_release(&R->q);
        if (last)
            break;
    }
    return NULL;
}

struct export_sink *export_relay_sink(struct export_sink *inner, FILE *errf)
{
    if (!inner || inner->event)
        return NULL;
    struct relay *R = aligned_alloc(RL_LINE, sizeof *R);
    if (!R)
        return NULL;
    memset(R, 0, sizeof *R);
    R->inner = inner;
    R->errf = errf;
    R->nblocks = blockq_bytes() / RL_BLOCK_BYTES;
    blockq_init(&R->q, R->nblocks);
    R->blocks = calloc(R->nblocks, sizeof *R->blocks);
    int ok = R->blocks != NULL;
    for (size_t i = 0; ok && i < R->nblocks; i++) {
        R->blocks[i].bytes = malloc(RL_BLOCK_BYTES);
        R->blocks[i].cap = RL_BLOCK_BYTES;
        ok = R->blocks[i].bytes != NULL;
    }
    if (ok)
        ok = blockq_thread(&R->th, relay_thread, R) == 0;
    if (!ok) {
        if (!R->blocks)
            R->nblocks = 0;
        free_relay(R);
        return NULL;
    }
    R->running = 1;
    R->base = (struct export_sink){
        .track = r_track,
        .slice_begin = r_begin,
        .slice_end = r_end,
        .complete = r_complete,
        .instant = r_instant,
        .counter = r_counter,
        .generation = r_generation,
        .finish = r_finish,
        .destroy = r_destroy,
        /* Always: the relay frees its copy of a track there, whether or
         * not the real sink wants to hear of it. */
        .track_done = r_track_done,
        .flags = inner->flags,
    };
    return &R->base;
}
