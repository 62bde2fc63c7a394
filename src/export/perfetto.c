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
 *  - A packet is built whole in memory, then appended as field 1 of Trace
 *    (tag, length, bytes) to an output buffer written in blocks of ~64 KiB:
 *    the output is a valid Trace after every block.
 *  - Timestamps are TracePacket.timestamp in nanoseconds (default clock).
 */
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

/* A memo in front of `strs`, by the address of the string looked up: the
 * timeline passes the same names (static strings, the reader's strings of a
 * generation) at the same addresses; the content is still compared. */
#define STR_MEMO 64
struct str_memo {
    const char *ptr;
    unsigned field;
    struct istr *e;
};

struct seqstate {
    int need_clear;
    uint64_t next_iid;
    struct u64map strs;       /* hash -> struct istr chain (names, categories) */
    struct str_memo memo[STR_MEMO];
    struct u64map frames;     /* pc -> iid */
    struct u64map callstacks; /* stack id -> iid */
};

struct psink {
    struct export_sink base;
    FILE *out;
    struct pbuf pkt, te, interned;
    struct pbuf outbuf; /* packets gathered for one fwrite (stdio per packet
                           cost more than encoding them) */
    struct seqstate *seqs;
    unsigned nseq;
    int failed;
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
    memset(q->memo, 0, sizeof q->memo);
    u64map_free(&q->frames);
    u64map_free(&q->callstacks);
    q->next_iid = 1;
    q->need_clear = 1;
}

/* The iid of an event name (field ID_NAMES) or category (ID_CATEGORIES),
 * adding it to the packet's interned data the first time. */
static uint64_t intern_str(struct psink *P, struct seqstate *q, unsigned field, const char *s,
                           size_t len)
{
    uintptr_t a = (uintptr_t)s;
    struct str_memo *m = &q->memo[(a ^ (a >> 7) ^ field) & (STR_MEMO - 1)];
    if (m->ptr == s && m->field == field && m->e->len == len && !memcmp(m->e->s, s, len))
        return m->e->iid;
    uint64_t h = hash_fnv1a(s, len, field);
    struct istr *head = u64map_get_ptr(&q->strs, h);
    for (struct istr *e = head; e; e = e->next)
        if (e->len == len && !memcmp(e->s, s, len)) {
            *m = (struct str_memo){s, field, e};
            return e->iid;
        }
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
    *m = (struct str_memo){s, field, e};
    pbuf_open(&P->interned, field);
    pbuf_uint(&P->interned, IID_IID, e->iid);
    pbuf_bytes(&P->interned, IID_NAME, s, len);
    pbuf_close(&P->interned);
    return e->iid;
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

/* Appends P->pkt as one packet of the Trace (field 1) to the output. */
static int flush_packet(struct psink *P)
{
    if (P->pkt.failed || P->te.failed || P->interned.failed)
        P->failed = 1;
    if (P->failed)
        return -1;
    pbuf_bytes(&P->outbuf, TRACE_PACKET, P->pkt.buf, P->pkt.len);
    if (P->outbuf.len >= 1 << 16)
        return flush_out(P);
    return P->outbuf.failed ? (P->failed = 1, -1) : 0;
}

static int p_track(struct export_sink *s, const struct export_track *t)
{
    struct psink *P = (struct psink *)s;
    struct pbuf *b = &P->pkt;
    pbuf_reset(b);
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
    return flush_packet(P);
}

/* Starts an event packet of the track's sequence: P->te gets the
 * TrackEvent, P->interned the new interned entries; end_event() joins them. */
static struct seqstate *begin_event(struct psink *P, const struct export_track *t)
{
    pbuf_reset(&P->te);
    pbuf_reset(&P->interned);
    pbuf_uint(&P->te, TE_TRACK_UUID, t->uuid);
    return &P->seqs[t->seq < P->nseq ? t->seq : 0];
}

/* Appends varint v at p; returns the end. */
static inline uint8_t *put(uint8_t *p, uint64_t v)
{
    return p + pbuf_varint_put(p, v);
}

/* The event packet, written straight into the output (its length is
 * known from its parts: no packet buffer, no copy of the TrackEvent
 * through one): timestamp, sequence, flags, interned data, TrackEvent. */
static int end_event(struct psink *P, const struct export_track *t, struct seqstate *q, int64_t ts)
{
    uint64_t flags = SEQ_NEEDS_INCREMENTAL_STATE |
                     (q->need_clear ? SEQ_INCREMENTAL_STATE_CLEARED : 0);
    q->need_clear = 0;
    if (P->te.failed || P->interned.failed)
        P->failed = 1;
    if (P->failed)
        return -1;
    size_t ilen = P->interned.len, tlen = P->te.len;
    size_t body = 1 + pbuf_varint_size((uint64_t)ts) + 1 + pbuf_varint_size(t->seq + 1) + 1 +
                  pbuf_varint_size(flags) + 1 + pbuf_varint_size(tlen) + tlen;
    if (ilen)
        body += 1 + pbuf_varint_size(ilen) + ilen;
    struct pbuf *o = &P->outbuf;
    if (!pbuf_reserve(o, 1 + 10 + body))
        return P->failed = 1, -1;
    uint8_t *p = o->buf + o->len;
    *p++ = TRACE_PACKET << 3 | 2;
    p = put(p, body);
    *p++ = PKT_TIMESTAMP << 3;
    p = put(p, (uint64_t)ts);
    *p++ = PKT_SEQ_ID << 3;
    p = put(p, t->seq + 1);
    *p++ = PKT_SEQ_FLAGS << 3;
    p = put(p, flags);
    if (ilen) {
        *p++ = PKT_INTERNED << 3 | 2;
        p = put(p, ilen);
        memcpy(p, P->interned.buf, ilen);
        p += ilen;
    }
    *p++ = PKT_TRACK_EVENT << 3 | 2;
    p = put(p, tlen);
    memcpy(p, P->te.buf, tlen);
    p += tlen;
    o->len = (size_t)(p - o->buf);
    return o->len >= 1 << 16 ? flush_out(P) : 0;
}

/* What of an event a packet carries. */
enum { F_NAME = 1, F_REST = 2, F_ALL = F_NAME | F_REST };

static void add_common(struct psink *P, struct seqstate *q, const struct export_event *e,
                       int fields)
{
    if (e->name && (fields & F_NAME))
        pbuf_uint(&P->te, TE_NAME_IID, intern_str(P, q, ID_NAMES, e->name, e->name_len));
    if (e->cat && (fields & F_NAME))
        pbuf_uint(&P->te, TE_CATEGORY_IIDS, intern_str(P, q, ID_CATEGORIES, e->cat, strlen(e->cat)));
    for (size_t i = 0; i < e->nargs; i++) {
        pbuf_open(&P->te, TE_DEBUG_ANNOTATIONS);
        pbuf_str(&P->te, DA_NAME, e->args[i].key);
        if (e->args[i].str)
            pbuf_bytes(&P->te, DA_STRING, e->args[i].str, e->args[i].len);
        else
            pbuf_uint(&P->te, DA_UINT, e->args[i].u);
        pbuf_close(&P->te);
    }
    if (e->flow_out)
        pbuf_fixed64(&P->te, TE_FLOW_IDS, e->flow_out);
    if (e->flow_in)
        pbuf_fixed64(&P->te, TE_TERMINATING_FLOW_IDS, e->flow_in);
    if (e->nframes)
        pbuf_uint(&P->te, TE_CALLSTACK_IID, intern_stack(P, q, e));
}

/* One event packet of e's track at ts: its type and `fields` (F_*) of e. */
static int emit(struct export_sink *s, const struct export_event *e, int64_t ts, int type,
                int fields)
{
    struct psink *P = (struct psink *)s;
    struct seqstate *q = begin_event(P, e->track);
    pbuf_uint(&P->te, TE_TYPE, (uint64_t)type);
    if (fields)
        add_common(P, q, e, fields);
    return end_event(P, e->track, q, ts);
}

static int p_begin(struct export_sink *s, const struct export_event *e)
{
    return emit(s, e, e->ts, TYPE_SLICE_BEGIN, F_ALL);
}

static int p_end(struct export_sink *s, const struct export_event *e)
{
    /* A slice end carries only its args (a range's attributes). */
    return emit(s, e, e->ts, TYPE_SLICE_END, F_REST);
}

static int p_complete(struct export_sink *s, const struct export_event *e, int64_t dur)
{
    if (emit(s, e, e->ts, TYPE_SLICE_BEGIN, F_ALL) < 0)
        return -1;
    return emit(s, e, e->ts + dur, TYPE_SLICE_END, 0);
}

static int p_instant(struct export_sink *s, const struct export_event *e)
{
    return emit(s, e, e->ts, TYPE_INSTANT, F_ALL);
}

static int p_counter(struct export_sink *s, const struct export_track *t, int64_t ts, int64_t value)
{
    struct psink *P = (struct psink *)s;
    struct seqstate *q = begin_event(P, t);
    pbuf_uint(&P->te, TE_TYPE, TYPE_COUNTER);
    pbuf_int(&P->te, TE_COUNTER_VALUE, value);
    return end_event(P, t, q, ts);
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
    pbuf_free(&P->pkt);
    pbuf_free(&P->te);
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
    for (unsigned i = 0; i < P->nseq; i++)
        reset_seq(&P->seqs[i]);
    P->out = out;
    P->base = (struct export_sink){p_track, p_begin, p_end, p_complete, p_instant, p_counter,
                                   p_generation, p_finish, p_destroy, NULL, NULL, 0};
    return &P->base;
}
