/*
 * perfetto.c - the Perfetto sink: writes Perfetto's protobuf trace format
 * (a `Trace` is a sequence of `TracePacket`s, each field 1 of Trace), with
 * its own encoder (pbuf.h).  Field numbers follow Perfetto's public
 * protos/perfetto/trace/perfetto_trace.proto; tests/export/perfetto_min.proto
 * is a hand-written subset of the same messages that the tests decode with.
 *
 * Invariants:
 *  - One packet sequence per input (trusted_packet_sequence_id = seq + 1).
 *    Event names, categories, frames and callstacks are interned per
 *    sequence; the tables are dropped at each generation of the input
 *    (stack ids are per generation), and the next event packet of that
 *    sequence carries SEQ_INCREMENTAL_STATE_CLEARED, so the interning
 *    memory is bounded by one generation.  Every event packet carries
 *    SEQ_NEEDS_INCREMENTAL_STATE and the interned entries it is the first to
 *    use (in its own interned_data, before the event refers to them).
 *  - A packet is written as field 1 of Trace (tag, length, bytes) straight
 *    into an output buffer written in blocks of ~64 KiB (pbuf.h's nested
 *    messages: no packet is built elsewhere and copied): the output is a
 *    valid Trace after every block.  An event packet's interned entries are
 *    found first (they are its interned_data, before its TrackEvent), then
 *    the packet is encoded in one pass at a cursor.
 *  - Timestamps are TracePacket.timestamp in nanoseconds (default clock).
 *  - The bytes that are the same in many packets are encoded once: a
 *    sequence's trusted_packet_sequence_id and sequence_flags
 *    (seqstate.head), the current timestamp's varint (its low bytes
 *    redone for the next one), a call's track_uuid field.  A slice end
 *    that the timeline brings with the next call (sink.h: end_first) is
 *    written whole before that call's packet, as p_end would have written
 *    it (put_end): the output is the same either way.
 */
#include "addrmemo.h"
#include "hash.h"
#include "u64map.h"
#include "pbuf.h"
#include "sink.h"

#include <stdlib.h>
#include <string.h>

/* Field numbers (perfetto_trace.proto). */
enum {
    TRACE_PACKET = 1,
    PKT_TIMESTAMP = 8, PKT_SEQ_ID = 10, PKT_TRACK_EVENT = 11, PKT_INTERNED = 12,
    PKT_SEQ_FLAGS = 13, PKT_TRACK_DESCRIPTOR = 60,
    SEQ_INCREMENTAL_STATE_CLEARED = 1, SEQ_NEEDS_INCREMENTAL_STATE = 2,
    TD_UUID = 1, TD_NAME = 2, TD_PROCESS = 3, TD_THREAD = 4, TD_PARENT = 5, TD_COUNTER = 8,
    PD_PID = 1, PD_NAME = 6,
    THD_PID = 1, THD_TID = 2, THD_NAME = 5,
    TE_CATEGORY_IIDS = 3, TE_DEBUG_ANNOTATIONS = 4, TE_TYPE = 9, TE_NAME_IID = 10,
    TE_TRACK_UUID = 11, TE_COUNTER_VALUE = 30, TE_FLOW_IDS = 47, TE_TERMINATING_FLOW_IDS = 48,
    TE_CALLSTACK_IID = 56,
    TYPE_SLICE_BEGIN = 1, TYPE_SLICE_END = 2, TYPE_INSTANT = 3, TYPE_COUNTER = 4,
    DA_UINT = 3, DA_STRING = 6, DA_NAME = 10,
    ID_CATEGORIES = 1, ID_NAMES = 2, ID_FUNCTION_NAMES = 5, ID_FRAMES = 6, ID_CALLSTACKS = 7,
    ID_SOURCE_PATHS = 18,
    IID_IID = 1, IID_NAME = 2, /* EventName/EventCategory/InternedString */
    FR_FUNCTION_NAME = 2, FR_SOURCE_PATH = 5, FR_LINE = 6,
    CS_FRAME_IDS = 2,
};

/* An interned string: chained on hash collisions. */
struct istr {
    struct istr *next;
    uint64_t iid;
    size_t len;
    char s[];
};

struct seqstate {
    int need_clear; /* 0 or 1: head[need_clear] */
    /* The packet fields of the sequence: trusted_packet_sequence_id and
     * sequence_flags (head[1]: with SEQ_INCREMENTAL_STATE_CLEARED), encoded
     * once, copied into every event packet in one fixed-size move. */
    uint8_t head[2][16];
    size_t head_len[2];
    uint64_t next_iid;
    struct u64map strs;       /* hash -> struct istr chain (names, categories) */
    struct addrmemo names;    /* in front of strs for names: iids */
    uint64_t cat_iid[EXPORT_CAT_COUNT]; /* 0: not yet interned */
    struct u64map frames;     /* pc -> iid */
    struct u64map callstacks; /* stack id -> iid */
};

struct psink {
    struct export_sink base;
    FILE *out;
    struct pbuf interned; /* the interned entries of the packet being made */
    struct pbuf outbuf;   /* packets gathered for one fwrite (stdio per packet
                             cost more than encoding them) */
    struct seqstate *seqs;
    unsigned nseq;
    int failed;
    /* The varint of the last event's timestamp (ts_len 0: none yet): a
     * slice's end, the next slice's begin and a wake-up share theirs. */
    int64_t ts;
    size_t ts_len;
    uint8_t ts_varint[16];
};

static void reset_seq(struct seqstate *q)
{
    uint64_t k;
    void *v;
    for (size_t i = 0; u64map_next_ptr(&q->strs, &i, &k, &v);) {
        for (struct istr *s = v, *next; s; s = next) {
            next = s->next;
            free(s);
        }
    }
    u64map_free(&q->strs);
    addrmemo_clear(&q->names);
    memset(q->cat_iid, 0, sizeof q->cat_iid);
    u64map_free(&q->frames);
    u64map_free(&q->callstacks);
    q->next_iid = 1;
    q->need_clear = 1;
}

/* The iid of an event name (field ID_NAMES) or category (ID_CATEGORIES) of
 * these bytes, adding it to the packet's interned data the first time. */
static uint64_t intern_str(struct psink *P, struct seqstate *q, unsigned field, const char *s,
                           size_t len)
{
    uint64_t h = hash_fnv1a(s, len, field);
    struct istr *head = u64map_get_ptr(&q->strs, h);
    for (struct istr *e = head; e; e = e->next)
        if (e->len == len && !memcmp(e->s, s, len))
            return e->iid;
    struct istr *e = malloc(sizeof *e + len + 1);
    if (!e || u64map_put_ptr(&q->strs, h, e) < 0) {
        free(e);
        P->failed = 1;
        return 0;
    }
    e->next = head;
    e->iid = q->next_iid++;
    e->len = len;
    memcpy(e->s, s, len);
    e->s[len] = 0;
    pbuf_open(&P->interned, field);
    pbuf_uint(&P->interned, IID_IID, e->iid);
    pbuf_bytes(&P->interned, IID_NAME, s, len);
    pbuf_close(&P->interned);
    return e->iid;
}

/* The iid of an event name, through the memo by its address. */
static inline uint64_t intern_name(struct psink *P, struct seqstate *q, const char *s, size_t len)
{
    uint64_t iid;
    if (addrmemo_get(&q->names, s, len, &iid))
        return iid;
    iid = intern_str(P, q, ID_NAMES, s, len);
    addrmemo_put(&q->names, s, len, iid);
    return iid;
}

static inline uint64_t intern_cat(struct psink *P, struct seqstate *q, enum export_cat c)
{
    if (!q->cat_iid[c]) {
        const char *name = export_cat_name(c);
        q->cat_iid[c] = intern_str(P, q, ID_CATEGORIES, name, strlen(name));
    }
    return q->cat_iid[c];
}

static uint64_t intern_frame(struct psink *P, struct seqstate *q, const struct ctrace_frame *f)
{
    uint64_t iid = (uint64_t)(uintptr_t)u64map_get_ptr(&q->frames, f->pc);
    if (iid)
        return iid;
    iid = q->next_iid++;
    if (u64map_put_ptr(&q->frames, f->pc, (void *)(uintptr_t)iid) < 0) {
        P->failed = 1;
        return 0;
    }
    /* The function name and source path take the frame's iid in their own
     * tables (iids are per table). */
    pbuf_open(&P->interned, ID_FUNCTION_NAMES);
    pbuf_uint(&P->interned, IID_IID, iid);
    pbuf_bytes(&P->interned, IID_NAME, f->func.ptr, f->func.len);
    pbuf_close(&P->interned);
    pbuf_open(&P->interned, ID_SOURCE_PATHS);
    pbuf_uint(&P->interned, IID_IID, iid);
    pbuf_bytes(&P->interned, IID_NAME, f->file.ptr, f->file.len);
    pbuf_close(&P->interned);
    pbuf_open(&P->interned, ID_FRAMES);
    pbuf_uint(&P->interned, IID_IID, iid);
    pbuf_uint(&P->interned, FR_FUNCTION_NAME, iid);
    pbuf_uint(&P->interned, FR_SOURCE_PATH, iid);
    pbuf_uint(&P->interned, FR_LINE, f->line);
    pbuf_close(&P->interned);
    return iid;
}

static uint64_t intern_stack(struct psink *P, struct seqstate *q, const struct export_event *e)
{
    uint64_t iid = (uint64_t)(uintptr_t)u64map_get_ptr(&q->callstacks, e->stack_key);
    if (iid)
        return iid;
    uint64_t small[64], *frames = small;
    size_t n = e->nframes;
    if (n > 64 && !(frames = malloc(n * sizeof *frames))) {
        P->failed = 1;
        return 0;
    }
    for (size_t i = 0; i < n; i++) /* Callstack wants the outermost frame first */
        frames[i] = intern_frame(P, q, &e->frames[n - 1 - i]);
    iid = q->next_iid++;
    if (u64map_put_ptr(&q->callstacks, e->stack_key, (void *)(uintptr_t)iid) < 0) {
        P->failed = 1;
        n = 0;
    }
    pbuf_open(&P->interned, ID_CALLSTACKS);
    pbuf_uint(&P->interned, IID_IID, iid);
    for (size_t i = 0; i < n; i++)
        pbuf_uint(&P->interned, CS_FRAME_IDS, frames[i]);
    pbuf_close(&P->interned);
    if (frames != small)
        free(frames);
    return iid;
}

static int flush_out(struct psink *P)
{
    if (P->outbuf.failed ||
        (P->outbuf.len && fwrite(P->outbuf.buf, 1, P->outbuf.len, P->out) != P->outbuf.len))
        P->failed = 1;
    pbuf_reset(&P->outbuf);
    return P->failed ? -1 : 0;
}

/* Ends a packet: the output goes out in blocks of ~64 KiB. */
static int packet_done(struct psink *P)
{
    if (P->outbuf.failed || P->interned.failed)
        P->failed = 1;
    if (P->failed)
        return -1;
    return P->outbuf.len >= 1 << 16 ? flush_out(P) : 0;
}

/* packet_done of an event packet, whose room was reserved and whose
 * interned data was checked (emit): only the flush is left to decide;
 * P->failed (a failed intern, a write error) is then seen by the caller. */
static inline int event_done(struct psink *P)
{
    if (P->outbuf.len >= 1 << 16)
        return flush_out(P);
    return P->failed ? -1 : 0;
}

static int p_track(struct export_sink *s, const struct export_track *t)
{
    struct psink *P = (struct psink *)s;
    struct pbuf *b = &P->outbuf;
    pbuf_open(b, TRACE_PACKET);
    pbuf_uint(b, PKT_TIMESTAMP, (uint64_t)t->ts);
    pbuf_uint(b, PKT_SEQ_ID, t->seq + 1);
    pbuf_open(b, PKT_TRACK_DESCRIPTOR);
    pbuf_uint(b, TD_UUID, t->uuid);
    if (t->parent && t->kind != EXPORT_TRACK_THREAD)
        pbuf_uint(b, TD_PARENT, t->parent);
    switch (t->kind) {
    case EXPORT_TRACK_PROCESS:
        pbuf_open(b, TD_PROCESS);
        pbuf_int(b, PD_PID, t->pid);
        pbuf_str(b, PD_NAME, t->name);
        pbuf_close(b);
        break;
    case EXPORT_TRACK_THREAD:
        pbuf_open(b, TD_THREAD);
        pbuf_int(b, THD_PID, t->pid);
        pbuf_int(b, THD_TID, t->tid);
        pbuf_str(b, THD_NAME, t->name);
        pbuf_close(b);
        break;
    case EXPORT_TRACK_COUNTER:
        pbuf_str(b, TD_NAME, t->name);
        pbuf_open(b, TD_COUNTER);
        pbuf_close(b);
        break;
    default:
        pbuf_str(b, TD_NAME, t->name);
        break;
    }
    pbuf_close(b);
    pbuf_close(b);
    return packet_done(P);
}

/* What of an event a packet carries; F_END_SAME, F_END_OTHER: the open
 * slice of e->end_first (sink.h), e's track or another, ends first, its
 * packet written before e's. */
enum { F_NAME = 1, F_REST = 2, F_ALL = F_NAME | F_REST, F_END_SAME = 4, F_END_OTHER = 8 };

/* Room for an event packet but its args and interned data: the packet's
 * and TrackEvent's tags, lengths and closes, and twelve fields at most
 * (timestamp, sequence, flags, interned_data's tag and length, uuid, type,
 * value, name, category, two flows, callstack). */
#define EVENT_ROOM (2 * (PB_TAG_MAX + 1 + PB_CLOSE_ROOM) + 12 * PB_FIELD_MAX)

/* Room for e's args. */
static size_t args_room(const struct export_event *e)
{
    size_t room = 0;
    for (size_t i = 0; i < e->nargs; i++)
        room += PB_TAG_MAX + 1 + PB_CLOSE_ROOM + 2 * PB_FIELD_MAX + e->args[i].key_len +
                (e->args[i].str ? e->args[i].len : 0);
    return room;
}

/* Writes e's args at p (room: args_room); returns the end.  Inline: a
 * call cost more than the one or two args of most events. */
static inline __attribute__((always_inline)) uint8_t *put_args(uint8_t *p,
                                                               const struct export_event *e)
{
    for (size_t i = 0; i < e->nargs; i++) {
        const struct export_arg *a = &e->args[i];
        uint8_t *da = p = pb_open(p, TE_DEBUG_ANNOTATIONS);
        p = pb_bytes_short(p, DA_NAME, a->key, a->key_len);
        if (a->str)
            p = pb_bytes_short(p, DA_STRING, a->str, a->len);
        else
            p = pb_uint(p, DA_UINT, a->u);
        p = pb_close(da, p);
    }
    return p;
}

/* A packet's timestamp (P->ts_varint: the current event's) and sequence
 * fields (q->head[clear]), at p; returns the end. */
static inline uint8_t *put_ts_seq(const struct psink *P, const struct seqstate *q, uint8_t *p,
                                  int clear)
{
    *p++ = PKT_TIMESTAMP << 3;
    memcpy(p, P->ts_varint, 10); /* a fixed size: two moves */
    p += P->ts_len;
    memcpy(p, q->head[clear], 16);
    return p + q->head_len[clear];
}

/* A slice end with nothing but its track (uuid_field: the track_uuid
 * field, uuid_len bytes), at p; returns the end.  It is under 128 bytes
 * (a timestamp, the sequence fields, a TrackEvent of a uuid and a type), so
 * both lengths are one byte, stored without pb_close's test. */
static inline uint8_t *put_end(const struct psink *P, const struct seqstate *q, uint8_t *p,
                               int clear, const uint8_t *uuid_field, size_t uuid_len)
{
    *p++ = TRACE_PACKET << 3 | 2;
    uint8_t *packet = ++p;
    p = put_ts_seq(P, q, p, clear);
    *p++ = PKT_TRACK_EVENT << 3 | 2;
    *p++ = (uint8_t)(uuid_len + 2);
    memcpy(p, uuid_field, 16); /* a fixed size: one move */
    p += uuid_len;
    *p++ = TE_TYPE << 3;
    *p++ = TYPE_SLICE_END;
    packet[-1] = (uint8_t)(p - packet);
    return p;
}

/* One event packet on track t at ts: its type, `fields` (F_*) of e (NULL:
 * none), and for a counter (type TYPE_COUNTER) its value.  Inline: each
 * caller's constant type and fields leave only its own branches. */
static inline __attribute__((always_inline)) int
emit(struct psink *P, const struct export_track *t, int64_t ts, int type,
     const struct export_event *e, int fields, int64_t value)
{
    struct seqstate *q = &P->seqs[t->seq < P->nseq ? t->seq : 0];
    /* What the packet interns first: its interned_data (P->interned, empty
     * between packets) precedes the TrackEvent that refers to it. */
    uint64_t name = 0, cat = 0, stack = 0;
    size_t room = fields & (F_END_SAME | F_END_OTHER) ? 2 * EVENT_ROOM : EVENT_ROOM;
    if (fields & F_NAME) {
        if (e->name)
            name = intern_name(P, q, e->name, e->name_len);
        if (e->cat != EXPORT_CAT_NONE)
            cat = intern_cat(P, q, e->cat);
    }
    if (fields) {
        if (e->nargs)
            room += args_room(e);
        if (e->nframes)
            stack = intern_stack(P, q, e);
    }
    size_t ilen = P->interned.len;
    struct pbuf *o = &P->outbuf;
    if (P->interned.failed || !pbuf_reserve(o, room + ilen))
        return P->failed = 1, -1;
    int clear = q->need_clear;
    q->need_clear = 0;

    if (ts != P->ts || !P->ts_len) {
        P->ts_len = pbuf_varint_redo(P->ts_varint, P->ts_len, (uint64_t)P->ts, (uint64_t)ts);
        P->ts = ts;
    }
    /* The track_uuid field, encoded once for the packet and the end
     * before it. */
    uint8_t uuid_field[16];
    size_t uuid_len = (size_t)(pb_uint(uuid_field, TE_TRACK_UUID, t->uuid) - uuid_field);
    uint8_t *p = pbuf_end(o);
    if (type == TYPE_SLICE_END && !fields) { /* nearly every end */
        pbuf_set_end(o, put_end(P, q, p, clear, uuid_field, uuid_len));
        return event_done(P);
    }
    /* What p_end would have written for the open slice. */
    if (fields & F_END_SAME) { /* a state slice and the next */
        p = put_end(P, q, p, clear, uuid_field, uuid_len);
        clear = 0;
    }
    if (fields & F_END_OTHER) { /* a wake-up: the wakee's end, the waker's instant */
        uint8_t end_uuid[16];
        size_t end_len = (size_t)(pb_uint(end_uuid, TE_TRACK_UUID, e->end_first->uuid) - end_uuid);
        p = put_end(P, q, p, clear, end_uuid, end_len);
        clear = 0;
    }
    uint8_t *packet = p = pb_open(p, TRACE_PACKET);
    p = put_ts_seq(P, q, p, clear);
    if (ilen) {
        p = pb_bytes(p, PKT_INTERNED, P->interned.buf, ilen);
        pbuf_reset(&P->interned);
    }
    uint8_t *te = p = pb_open(p, PKT_TRACK_EVENT);
    memcpy(p, uuid_field, 16);
    p += uuid_len;
    p = pb_uint(p, TE_TYPE, (uint64_t)type);
    if (type == TYPE_COUNTER)
        p = pb_int(p, TE_COUNTER_VALUE, value);
    if (name)
        p = pb_uint(p, TE_NAME_IID, name);
    if (cat)
        p = pb_uint(p, TE_CATEGORY_IIDS, cat);
    if (fields) {
        if (e->nargs)
            p = put_args(p, e);
        if (e->flow_out)
            p = pb_fixed64(p, TE_FLOW_IDS, e->flow_out);
        if (e->flow_in)
            p = pb_fixed64(p, TE_TERMINATING_FLOW_IDS, e->flow_in);
        if (e->nframes)
            p = pb_uint(p, TE_CALLSTACK_IID, stack);
    }
    p = pb_close(te, p);
    p = pb_close(packet, p);
    pbuf_set_end(o, p);
    return event_done(P);
}

static int p_begin(struct export_sink *s, const struct export_event *e)
{
    if (e->end_first == e->track)
        return emit((struct psink *)s, e->track, e->ts, TYPE_SLICE_BEGIN, e, F_ALL | F_END_SAME,
                    0);
    if (e->end_first)
        return emit((struct psink *)s, e->track, e->ts, TYPE_SLICE_BEGIN, e, F_ALL | F_END_OTHER,
                    0);
    return emit((struct psink *)s, e->track, e->ts, TYPE_SLICE_BEGIN, e, F_ALL, 0);
}

static int p_end(struct export_sink *s, const struct export_event *e)
{
    /* A slice end carries only its args (a range's attributes); nearly
     * all have none, and their packet is emit's with no fields at all. */
    if (!e->nargs && !e->flow_out && !e->flow_in && !e->nframes)
        return emit((struct psink *)s, e->track, e->ts, TYPE_SLICE_END, NULL, 0, 0);
    return emit((struct psink *)s, e->track, e->ts, TYPE_SLICE_END, e, F_REST, 0);
}

static int p_complete(struct export_sink *s, const struct export_event *e, int64_t dur)
{
    struct psink *P = (struct psink *)s;
    if (emit(P, e->track, e->ts, TYPE_SLICE_BEGIN, e, F_ALL, 0) < 0)
        return -1;
    return emit(P, e->track, e->ts + dur, TYPE_SLICE_END, NULL, 0, 0);
}

static int p_instant(struct export_sink *s, const struct export_event *e)
{
    if (e->end_first)
        return emit((struct psink *)s, e->track, e->ts, TYPE_INSTANT, e, F_ALL | F_END_OTHER, 0);
    return emit((struct psink *)s, e->track, e->ts, TYPE_INSTANT, e, F_ALL, 0);
}

static int p_counter(struct export_sink *s, const struct export_track *t, int64_t ts, int64_t value)
{
    return emit((struct psink *)s, t, ts, TYPE_COUNTER, NULL, 0, value);
}

static void p_generation(struct export_sink *s, unsigned seq)
{
    struct psink *P = (struct psink *)s;
    if (seq < P->nseq)
        reset_seq(&P->seqs[seq]);
}

static int p_finish(struct export_sink *s)
{
    struct psink *P = (struct psink *)s;
    flush_out(P);
    if (fflush(P->out) != 0 || ferror(P->out))
        P->failed = 1;
    return P->failed ? -1 : 0;
}

static void p_destroy(struct export_sink *s)
{
    struct psink *P = (struct psink *)s;
    for (unsigned i = 0; i < P->nseq; i++)
        reset_seq(&P->seqs[i]);
    free(P->seqs);
    pbuf_free(&P->interned);
    pbuf_free(&P->outbuf);
    free(P);
}

struct export_sink *export_perfetto_sink(FILE *out, unsigned ninputs)
{
    struct psink *P = calloc(1, sizeof *P);
    if (!P)
        return NULL;
    P->nseq = ninputs ? ninputs : 1;
    P->seqs = calloc(P->nseq, sizeof *P->seqs);
    if (!P->seqs) {
        free(P);
        return NULL;
    }
    for (unsigned i = 0; i < P->nseq; i++) {
        struct seqstate *q = &P->seqs[i];
        reset_seq(q);
        for (int c = 0; c < 2; c++) {
            uint8_t *end = pb_uint(q->head[c], PKT_SEQ_ID, i + 1);
            end = pb_uint(end, PKT_SEQ_FLAGS,
                          SEQ_NEEDS_INCREMENTAL_STATE | (c ? SEQ_INCREMENTAL_STATE_CLEARED : 0));
            q->head_len[c] = (size_t)(end - q->head[c]);
        }
    }
    P->out = out;
    P->base = (struct export_sink){p_track, p_begin, p_end, p_complete, p_instant, p_counter,
                                   p_generation, p_finish, p_destroy, NULL, NULL,
                                   EXPORT_SINK_END_FIRST};
    return &P->base;
}
