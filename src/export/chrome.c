/*
 * chrome.c - the Chrome sink: the Trace Event Format (JSON) that
 * chrome://tracing and Perfetto's UI open:
 *   {"displayTimeUnit":"ns","traceEvents":[ event, event, ... ]}
 * written event by event (no document is built in memory).
 *
 * Invariants:
 *  - Every event is a complete JSON object written with one separator
 *    before it (none before the first), so the output is valid JSON once
 *    finish() writes the closing brackets.
 *  - Strings are escaped as JSON requires and are valid UTF-8: a byte that
 *    is not part of valid UTF-8 becomes U+FFFD (trace strings are bytes).
 *  - Thread and child tracks are Chrome threads (pid, tid) with B/E slices;
 *    tasks are async slices (b/e, id = the track uuid as a string, category
 *    "task");
 *    flows are s/f pairs with the flow id; counters are C events named
 *    after their track.
 *  - Every E names the slice it ends (the B's name): viewers that match B
 *    and E by name (speedscope) need it.  So the sink keeps, per thread
 *    track, the names of its open slices (a stack of ids into one table of
 *    the distinct slice names as JSON strings, freed when the track is
 *    done), and per counter track its name: that is all its memory.  A
 *    name is quoted once: its id is found by its address for the
 *    generation (addrmemo.h).
 *  - ts is in microseconds with nanosecond decimals, dur the same.
 *  - The sink takes EXPORT_SINK_END_FIRST (sink.h): the end of a
 *    goroutine's state slice comes in the call of the B (same track) or
 *    unblock instant (the waker's track) after it, at the same time.  Its
 *    E is written first, byte for byte as c_end would have written it
 *    (end_then_open), so the output is the same as with two calls; the
 *    pair shares the call, the room check, the slot lookup (when on the
 *    same track) and the making of the time's text.
 *
 * How an event is written (the JSON is ~110 bytes an event, most of it
 * the same from event to event): at a cursor into the output buffer, with
 * one room check (EV_ROOM) at its start, out of pieces kept ready-made and
 * copied in moves of a fixed size (a move may write past the piece's end:
 * the next piece overwrites it, and EV_ROOM covers it):
 *  - its head `\n{"ph":"?","pid":P,"tid":T` from the slot of its (track
 *    uuid, tid) in a cache that also holds the track's open names (so one
 *    lookup an event), the ph patched in;
 *  - `,"name":NAME` from name_text, indexed like slice_names (padded to a
 *    fixed size; longer names go through the output buffer's calls), and
 *    args' keys and strings alike from arg_short (found by address for
 *    the generation; longer ones through addrtext and the output buffer's
 *    calls), and the args object of one arg (most events' args) whole from
 *    arg1, found by the address of its string (or, for a number, of its
 *    key);
 *  - `,"cat":"CAT"` from cat[] (one move of 24 bytes); a B's or
 *    instant's name, category, scope and `,"ts":` from one text of its
 *    name's (name_open);
 *  - the time: the text of its microseconds kept from the previous time
 *    (outbuf.h: struct outbuf_num: most events share them, and all but the
 *    last four digits change once in 10 ms of the trace), its decimals from a table;
 *    a flow's id the same way (from the previous flow's).
 * A slot's cached open names are those of open_names (a slot is emptied
 * when its track is done, with them).
 * A part of unbounded length (a long name or arg, a stack) is written by
 * outbuf's calls at the cursor (C->ob.len), after which the event takes
 * room again (room()).
 */
#include "addrmemo.h"
#include "grow.h"
#include "strtab.h"
#include "u64map.h"
#include "outbuf.h"
#include "sink.h"
#include "utf8.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The steps of an event, inlined into its call whatever its size: the
 * compiler's inliner stops at some size of c_begin and makes calls of
 * them, whose saving and restoring of registers cost more than the step
 * (callgrind big20: 3.28 -> 3.31 G instructions when it did). */
#define HOT inline __attribute__((always_inline))

/* Room for an event's fixed parts, moves past their ends included: the
 * largest, an X's, takes separator 1, head 64, name 64, cat 24, `,"ts":`
 * 6 + 16 + 4, `,"dur":` 7 + 16 + 4 and `,"args":{` 9 (an arg takes
 * ARG_ROOM of its own, checked before it): 215.  An E written before a
 * B or instant in its call (end_then_open) takes 1 + 64 + 64 + 6 + 16 +
 * 4 + 1 more (156), and the two still fit.  So does a first arg after
 * them (ARG1_ROOM): a B's parts before its args are at most 1 + 64 +
 * 64 + 24 + `,"id":"` 7 + 20 + 1 + 26 = 207, an instant's 195, so the
 * args object of one arg (put_arg1) needs no room check of its own. */
#define EV_ROOM 512
#define EV_END_FIRST 156
#define EV_BEFORE_ARGS 215

/* The head of events on one (track, tid): `\n{"ph":"?","pid":P,"tid":T`
 * (at most 16 + 20 + 7 + 20 bytes), and the track's open slices. */
#define HEAD_MAX 64
#define HEAD_PH 8 /* where the ph goes in the head */
#define SLOT_BITS 8 /* 256 slots: uuids are consecutive, few collide */
struct track_slot {
    uint64_t uuid;           /* 0: empty (no track has uuid 0) */
    int64_t tid;
    struct name_stack *open; /* the track's open_names entry, NULL: none */
    size_t head_len;
    char head[HEAD_MAX];
    char pad[128 - 32 - HEAD_MAX]; /* a slot's offset: its index shifted */
};
_Static_assert(sizeof(struct track_slot) == 128, "a slot is 128 bytes");

/* A piece of JSON kept ready-made, padded for a move of TEXT_MOVE bytes
 * or two; len 0: none (longer than TEXT_MAX). */
#define TEXT_MAX 64
#define TEXT_MOVE 32
struct text {
    char s[TEXT_MAX];
    size_t len;
};

/* An array of texts: v[0..n) in use, room for cap. */
struct texts {
    struct text *v;
    size_t n, cap;
};

/* The texts of an event name, by its id in slice_names: `,"name":NAME`
 * (len 0: longer than TEXT_MAX), and what a B or instant of the name
 * writes from its name to its time, `,"name":NAME,"cat":"CAT"`, the
 * form's part (open_tail) and `,"ts":`, kept for the form and category
 * it was last written with (a name comes with one of them), if short. */
struct name_text {
    struct text name;
    struct text open;
    unsigned open_key; /* open_key() of open's form and category; 0: none */
};

/* An array of name_text: v[0..n) in use, room for cap. */
struct name_texts {
    struct name_text *v;
    size_t n, cap;
};

/* The args object of an event with one arg and no stack, kept
 * ready-made: for a string value `,"args":{KEY:STR}` whole, for a number
 * `,"args":{KEY:` (the number follows).  Most args objects are one of a
 * few: a state's reason, an unblock's goroutine, a region's task. */
struct arg1 {
    struct text t;
    const char *key; /* the arg's key (by address: a string of the generation) */
    size_t key_len;
};

/* An array of arg1: v[0..n) in use, room for cap; at most ARG1_MAX per
 * generation (more go through put_args: the memo is bounded even when
 * it misses often). */
#define ARG1_MAX 4096
struct arg1s {
    struct arg1 *v;
    size_t n, cap;
};

/* Times' microseconds and flow ids are written from the text of the
 * previous one (outbuf.h: struct outbuf_num): events are a few hundred
 * nanoseconds apart, so most share a time's microseconds and the digits
 * above the last four change once in 10 ms of the trace; flow ids come
 * from one counter, and a flow ends soon after it starts. */
#define TIME_US_MOVE 16 /* INT64_MAX ns has 16 digits of microseconds */

struct csink {
    struct export_sink base;
    struct track_slot slots[1 << SLOT_BITS];
    size_t comma; /* 0 before the first event, 1 after: its separator */
    struct u64map counter_names; /* uuid -> char * */
    struct u64map open_names;    /* uuid -> struct name_stack * */
    struct strtab slice_names;   /* event names as JSON strings, each once */
    struct name_texts name_text; /* slice_names' ids -> their texts */
    struct addrmemo name_ids;    /* in front of slice_names, by address */
    struct texts arg_short;      /* args' keys and strings as JSON strings */
    struct addrmemo arg_ids;     /* in front of arg_short, by address */
    struct addrtext arg_text;    /* those longer than TEXT_MAX */
    struct arg1s arg1;           /* one-arg args objects */
    struct addrmemo arg1_str;    /* in front of arg1, by the value's address */
    struct addrmemo arg1_num;    /* in front of arg1, by the key's address */
    struct {
        char s[24];
        size_t len;
    } cat[EXPORT_CAT_COUNT];     /* `,"cat":"NAME"`, none for NONE */
    struct outbuf_num ts, dur;     /* of times' microseconds */
    struct outbuf_num flow_id;
    char decimals[1000][4];      /* ".000" to ".999" */
    struct outbuf ob;
};

static void out_flush(struct csink *C)
{
    outbuf_flush(&C->ob);
}

static void out_bytes(struct csink *C, const void *p, size_t n)
{
    outbuf_bytes(&C->ob, p, n);
}

/* A string literal: its length known at compile time. */
#define out_lit(C, lit) out_bytes((C), "" lit, sizeof(lit) - 1)

static void out_c(struct csink *C, char c)
{
    outbuf_c(&C->ob, c);
}

static void out_fmt(struct csink *C, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_fmt(struct csink *C, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        out_bytes(C, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void put_i64(struct csink *f, int64_t v)
{
    outbuf_i64(&f->ob, v);
}

/* The cursor: where the event being written goes on. */
static inline char *cursor(struct csink *C)
{
    return C->ob.buf + C->ob.len;
}

/* The event written up to p: the output buffer's calls go on from there. */
static inline void set_cursor(struct csink *C, char *p)
{
    C->ob.len = (size_t)(p - C->ob.buf);
}

/* The cursor with EV_ROOM bytes of room after it (the buffer flushed if
 * need be), after a part written through the output buffer's calls. */
static char *room(struct csink *C)
{
    if (C->ob.len + EV_ROOM > sizeof C->ob.buf)
        outbuf_flush(&C->ob);
    return cursor(C);
}

/* A string literal at the cursor p: a move of a constant size. */
#define PUT_LIT(p, lit) (memcpy((p), "" lit, sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* An id as a JSON string (ids may exceed a double's 53 bits), in the
 * room of its event (EV_ROOM counts its 20 digits). */
static char *put_id(char *p, uint64_t id)
{
    p = PUT_LIT(p, ",\"id\":\"");
    p = outbuf_put_u64(p, id);
    *p++ = '"';
    return p;
}

/* The most bytes json_quote writes for n: 6 a byte (\u00XX, \ufffd). */
#define JSON_MAX(n) (6 * (size_t)(n) + 2)

/* s[0..n) as a JSON string (quoted, escaped, valid UTF-8) at d, which has
 * room for JSON_MAX(n); returns its length.  A word at a time where it is
 * plain ASCII (utf8.h), else a byte or a UTF-8 sequence at a time. */
static size_t json_quote(char *d, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    char *start = d;
    *d++ = '"';
    while (p < end) {
        const unsigned char *stop = copy_plain8(&d, &p, end);
        while (stop && p < stop) {
            unsigned c = *p;
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                *d++ = (char)c;
                p++;
            } else if (c >= 0x80) {
                int k = utf8_seq_len(p, end);
                if (k) {
                    memcpy(d, p, (size_t)k);
                    d += k;
                    p += k;
                } else {
                    memcpy(d, "\\ufffd", 6);
                    d += 6;
                    p++;
                }
            } else if (c == '"' || c == '\\') {
                d[0] = '\\';
                d[1] = (char)c;
                d += 2;
                p++;
            } else { /* a control character */
                memcpy(d, "\\u00", 4);
                d[4] = hex[c >> 4];
                d[5] = hex[c & 15];
                d += 6;
                p++;
            }
        }
    }
    *d++ = '"';
    return (size_t)(d - start);
}

/* s[0..n) as a JSON string: quoted in place in the output buffer, or in a
 * scratch buffer when it could be longer than the output buffer. */
static void jstr(struct csink *f, const char *s, size_t n)
{
    struct outbuf *o = &f->ob;
    if (JSON_MAX(n) <= sizeof o->buf) {
        if (o->len + JSON_MAX(n) > sizeof o->buf)
            outbuf_flush(o);
        o->len += json_quote(o->buf + o->len, s, n);
        return;
    }
    char *tmp = malloc(JSON_MAX(n));
    if (!tmp) {
        o->failed = 1; /* out of memory: the run fails as on an output error */
        return;
    }
    outbuf_bytes(o, tmp, json_quote(tmp, s, n));
    free(tmp);
}

/* Makes m the memo of the microseconds of ns (clamped at 0); returns the
 * text of its three decimals (from C->decimals).  With put_time_text, the
 * time's text for two events at the same time (an E and the event after
 * it: end_then_open) is made once. */
static HOT const char *time_set(struct csink *C, struct outbuf_num *m, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    uint64_t us = (uint64_t)ns / 1000;
    const char *dec = C->decimals[(uint64_t)ns - us * 1000]; /* before: one division */
    outbuf_num_set(m, us);
    return dec;
}

/* The time of time_set (m's microseconds, then dec) at p. */
static HOT char *put_time_text(char *p, const struct outbuf_num *m, const char *dec)
{
    memcpy(p, m->s, TIME_US_MOVE);
    p += m->len;
    memcpy(p, dec, 4);
    return p + 4;
}

/* ns (clamped at 0) in microseconds with three decimals at p. */
static HOT char *put_time(struct csink *C, struct outbuf_num *m, char *p, int64_t ns)
{
    return put_time_text(p, m, time_set(C, m, ns));
}

/* Makes slot s that of (t, tid): its head written at the cursor (room is
 * made: ev_open), with the number calls of the output buffer, then kept. */
static __attribute__((noinline)) void slot_fill(struct csink *C, struct track_slot *s,
                                                const struct export_track *t, int64_t tid)
{
    struct outbuf *o = &C->ob;
    size_t mark = o->len;
    out_lit(C, "\n{\"ph\":\"?\",\"pid\":");
    put_i64(C, t->pid);
    out_lit(C, ",\"tid\":");
    put_i64(C, tid);
    s->uuid = t->uuid;
    s->tid = tid;
    s->head_len = o->len - mark;
    memcpy(s->head, o->buf + mark, s->head_len);
    o->len = mark;
    s->open = u64map_get_ptr(&C->open_names, t->uuid);
}

/* The slot of track t as (pid, tid), made so if it is not (slot_fill:
 * its head is made at the cursor, so the cursor must be past any event
 * being written). */
static HOT struct track_slot *slot_of(struct csink *C, const struct export_track *t,
                                      int64_t tid)
{
    struct track_slot *s = &C->slots[t->uuid & ((1u << SLOT_BITS) - 1)];
    if (s->uuid != t->uuid || s->tid != tid)
        slot_fill(C, s, t, tid);
    return s;
}

/* The separator and the head of an event of slot s, its ph patched in,
 * at p; returns the cursor after it. */
static HOT char *put_head(struct csink *C, char *p, const struct track_slot *s, char ph)
{
    *p = ',';
    p += C->comma;
    C->comma = 1;
    memcpy(p, s->head, HEAD_MAX);
    p[HEAD_PH] = ph;
    return p + s->head_len;
}

/* Starts an event object of track t as (pid, tid): separator, ph, pid,
 * tid, with the room of EV_ROOM; returns the cursor after it, and the
 * track's slot in *slot. */
static HOT char *ev_open(struct csink *C, char ph, const struct export_track *t, int64_t tid,
                         struct track_slot **slot)
{
    struct outbuf *o = &C->ob;
    if (o->len + EV_ROOM > sizeof o->buf)
        outbuf_flush(o);
    struct track_slot *s = slot_of(C, t, tid);
    if (slot)
        *slot = s;
    return put_head(C, o->buf + o->len, s, ph);
}

/* The text at index i of t (made room for, n raised to i + 1 if below),
 * empty; NULL when out of memory. */
static struct text *text_at(struct texts *t, size_t i)
{
    if (GROW(t->v, i, t->cap) < 0)
        return NULL;
    if (t->n <= i)
        t->n = i + 1;
    memset(&t->v[i], 0, sizeof t->v[i]);
    return &t->v[i];
}

/* Makes x the text a[0..an) b[0..bn) if it fits (else leaves it empty). */
static void text_set(struct text *x, const char *a, size_t an, const char *b, size_t bn)
{
    if (an + bn > sizeof x->s)
        return;
    memcpy(x->s, a, an);
    memcpy(x->s + an, b, bn);
    x->len = an + bn;
}

/* Text x at p (x not empty). */
static HOT char *put_text(char *p, const struct text *x)
{
    memcpy(p, x->s, TEXT_MOVE);
    if (x->len > TEXT_MOVE)
        memcpy(p + TEXT_MOVE, x->s + TEXT_MOVE, TEXT_MAX - TEXT_MOVE);
    return p + x->len;
}

/* The id in slice_names of the event name s[0..len) (a name of the
 * generation: sink.h), quoted the first time; -1 when out of memory. */
static int64_t name_id_miss(struct csink *C, const char *s, size_t len)
{
    char small[256], *q = JSON_MAX(len) <= sizeof small ? small : malloc(JSON_MAX(len));
    if (!q)
        return -1;
    size_t n = json_quote(q, s ? s : "", len);
    uint32_t known = C->slice_names.n;
    int64_t id = strtab_intern(&C->slice_names, q, n);
    struct name_texts *t = &C->name_text;
    if (id >= known) { /* new: its `,"name":NAME` */
        if (GROW(t->v, (size_t)id, t->cap) < 0) {
            id = -1;
        } else {
            t->n = (size_t)id + 1;
            memset(&t->v[id], 0, sizeof t->v[id]);
            text_set(&t->v[id].name, ",\"name\":", 8, q, n);
        }
    }
    if (q != small)
        free(q);
    if (id >= 0 && s)
        addrmemo_put(&C->name_ids, s, len, (uint64_t)id);
    return id;
}

static HOT int64_t name_id(struct csink *C, const char *s, size_t len)
{
    uint64_t v;
    if (s && addrmemo_get(&C->name_ids, s, len, &v))
        return (int64_t)v;
    return name_id_miss(C, s, len);
}

/* `,"name":NAME` of the name with that id at p. */
static HOT char *put_name(struct csink *C, char *p, int64_t id)
{
    const struct text *x = &C->name_text.v[id].name;
    if (x->len)
        return put_text(p, x);
    set_cursor(C, p);
    out_lit(C, ",\"name\":");
    out_bytes(C, C->slice_names.s[id], C->slice_names.len[id]);
    return room(C);
}

static HOT char *put_cat(struct csink *C, char *p, enum export_cat c)
{
    memcpy(p, C->cat[c].s, sizeof C->cat[c].s);
    return p + C->cat[c].len;
}

/* The name (its id: name_id) and category of e. */
static HOT char *name_cat(struct csink *C, char *p, const struct export_event *e, int64_t id)
{
    if (e->name)
        p = put_name(C, p, id);
    return put_cat(C, p, e->cat);
}

/* The forms of the part between an event's category and its time: none
 * (a B), a thread's or a process's instant. */
enum open_form { OPEN_B, OPEN_THREAD_I, OPEN_PROC_I };
static const struct {
    char s[8];
    size_t len;
} open_tail[] = {{"", 0}, {",\"s\":\"t\"", 8}, {",\"s\":\"p\"", 8}};

/* The key of name_text.open for a form and a category (never 0). */
static inline unsigned open_key(enum open_form form, enum export_cat cat)
{
    return 1 + (unsigned)form * EXPORT_CAT_COUNT + (unsigned)cat;
}

/* name_open of a name whose open text is not that of e's form and
 * category: written in parts, then kept (copied from the output) when
 * short and the name's text is kept (written at p, not through the
 * output buffer's calls). */
static __attribute__((noinline)) char *name_open_miss(struct csink *C, char *p,
                                                      const struct export_event *e, int64_t id,
                                                      enum open_form form)
{
    char *start = p;
    p = name_cat(C, p, e, id);
    memcpy(p, open_tail[form].s, sizeof open_tail[form].s);
    p += open_tail[form].len;
    p = PUT_LIT(p, ",\"ts\":");
    struct name_text *x = &C->name_text.v[id];
    if (e->name && x->name.len && (size_t)(p - start) <= TEXT_MAX) {
        memset(&x->open, 0, sizeof x->open);
        text_set(&x->open, start, (size_t)(p - start), "", 0);
        x->open_key = open_key(form, e->cat);
    }
    return p;
}

/* `,"name":NAME,"cat":"CAT"`, the form's part and `,"ts":` of e (its
 * name's id: name_id) at p: one text of its name's when kept. */
static HOT char *name_open(struct csink *C, char *p, const struct export_event *e, int64_t id,
                           enum open_form form)
{
    const struct name_text *x = &C->name_text.v[id];
    if (x->open_key == open_key(form, e->cat) && e->name) {
        /* one move of TEXT_MAX: these texts are mostly longer than TEXT_MOVE */
        memcpy(p, x->open.s, TEXT_MAX);
        return p + x->open.len;
    }
    return name_open_miss(C, p, e, id, form);
}

/* An arg's key or string (a string of the generation: sink.h) as a JSON
 * string, quoted once per generation if short. */
static void jstr_arg(struct csink *f, const char *s, size_t n)
{
    size_t len;
    const char *t = s ? addrtext_get(&f->arg_text, s, n, &len) : NULL;
    if (!t && s && JSON_MAX(n) <= 256) {
        char q[256];
        len = json_quote(q, s, n);
        t = addrtext_put(&f->arg_text, s, n, q, len);
    }
    if (t)
        outbuf_short(&f->ob, t, len);
    else
        jstr(f, s, n);
}

/* put_arg_text of a string not in arg_short: quoted into it if short
 * (for the rest of the generation), else written by jstr_arg (which keeps
 * it in arg_text if not too long). */
static __attribute__((noinline)) char *put_arg_miss(struct csink *C, char *p, const char *s,
                                                    size_t n)
{
    char q[256];
    size_t len;
    if (s && JSON_MAX(n) <= sizeof q && !addrtext_get(&C->arg_text, s, n, &len)) {
        len = json_quote(q, s, n);
        struct text *x = len <= TEXT_MAX ? text_at(&C->arg_short, C->arg_short.n) : NULL;
        if (x) {
            text_set(x, q, len, "", 0);
            addrmemo_put(&C->arg_ids, s, n, C->arg_short.n - 1);
            return put_text(p, x);
        }
    }
    set_cursor(C, p);
    jstr_arg(C, s, n);
    return room(C);
}

/* An arg's key or string (jstr_arg) at the cursor p: from arg_short, by
 * its address, when short. */
static inline char *put_arg_text(struct csink *C, char *p, const char *s, size_t n)
{
    uint64_t v;
    if (s && addrmemo_get(&C->arg_ids, s, n, &v))
        return put_text(p, &C->arg_short.v[v]);
    return put_arg_miss(C, p, s, n);
}

/* A CPU sample's stack: `"stack":[...]`, "func file:line" innermost
 * first, through the output buffer's calls. */
static void stack_arg(struct csink *f, const struct export_event *e)
{
    if (e->nargs)
        out_lit(f, ",\"stack\":[");
    else
        out_lit(f, "\"stack\":[");
    for (size_t i = 0; i < e->nframes; i++) {
        const struct ctrace_frame *fr = &e->frames[i];
        char line[32];
        int ln = snprintf(line, sizeof line, ":%" PRIu64, fr->line);
        size_t n = fr->func.len + 1 + fr->file.len + (size_t)ln;
        char *s = malloc(n);
        if (s) {
            memcpy(s, fr->func.ptr, fr->func.len);
            s[fr->func.len] = ' ';
            memcpy(s + fr->func.len + 1, fr->file.ptr, fr->file.len);
            memcpy(s + fr->func.len + 1 + fr->file.len, line, (size_t)ln);
            if (i)
                out_c(f, (char)(','));
            jstr(f, s, n);
            free(s);
        }
    }
    out_c(f, (char)(']'));
}

/* The room an arg written at the cursor takes at most: `,` KEY `:` VALUE
 * (texts, or 20 digits), and the closing `}}` of the event. */
#define ARG_ROOM (1 + TEXT_MAX + 1 + TEXT_MAX + 2)

/* The room put_arg1 takes at most (its text, padded to TEXT_MAX, or its
 * head, 20 digits and `}`), and the `}` of the event. */
#define ARG1_ROOM (TEXT_MAX + 20 + 1 + 1)
_Static_assert(EV_END_FIRST + EV_BEFORE_ARGS + ARG1_ROOM <= EV_ROOM,
               "a one-arg args object fits the room of its event");

/* `,"args":{...}` of e at p, when it has any. */
static char *put_args(struct csink *C, char *p, const struct export_event *e)
{
    p = PUT_LIT(p, ",\"args\":{");
    for (size_t i = 0; i < e->nargs; i++) {
        const struct export_arg *a = &e->args[i];
        if (p + ARG_ROOM > C->ob.buf + sizeof C->ob.buf) {
            set_cursor(C, p);
            p = room(C);
        }
        *p = ',';
        p += i != 0;
        p = put_arg_text(C, p, a->key, a->key_len);
        *p++ = ':';
        if (a->str)
            p = put_arg_text(C, p, a->str, a->len);
        else
            p = outbuf_put_u64(p, a->u); /* ARG_ROOM covers its 20 digits */
    }
    if (e->nframes) {
        set_cursor(C, p);
        stack_arg(C, e);
        p = room(C);
    }
    *p++ = '}';
    return p;
}

/* put_arg1 of an args object not kept: kept if it fits a text (and
 * ARG1_MAX allows), then written; else written by put_args. */
static __attribute__((noinline)) char *put_arg1_miss(struct csink *C, char *p,
                                                     const struct export_event *e)
{
    const struct export_arg *a = &e->args[0];
    char q[TEXT_MAX + 2 * 256];
    size_t n = 0;
    if (a->key && JSON_MAX(a->key_len) <= 256 && (!a->str || JSON_MAX(a->len) <= 256) &&
        C->arg1.n < ARG1_MAX) {
        n = (size_t)(PUT_LIT(q, ",\"args\":{") - q);
        n += json_quote(q + n, a->key, a->key_len);
        q[n++] = ':';
        if (a->str) {
            n += json_quote(q + n, a->str, a->len);
            q[n++] = '}';
        }
    }
    if (!n || n > TEXT_MAX || GROW(C->arg1.v, C->arg1.n, C->arg1.cap) < 0)
        return put_args(C, p, e);
    struct arg1 *x = &C->arg1.v[C->arg1.n];
    memset(x, 0, sizeof *x);
    text_set(&x->t, q, n, "", 0);
    x->key = a->key;
    x->key_len = a->key_len;
    if (a->str)
        addrmemo_put(&C->arg1_str, a->str, a->len, C->arg1.n++);
    else
        addrmemo_put(&C->arg1_num, a->key, a->key_len, C->arg1.n++);
    p = put_text(p, &x->t);
    if (!a->str) {
        p = outbuf_put_u64(p, a->u);
        *p++ = '}';
    }
    return p;
}

/* The args object of e with one arg and no stack at p, from arg1 (by the
 * address of its string, or of its key for a number): one look-up, no
 * room check (EV_ROOM covers it: ARG1_ROOM). */
static HOT char *put_arg1(struct csink *C, char *p, const struct export_event *e)
{
    const struct export_arg *a = &e->args[0];
    uint64_t v;
    if (a->str) {
        if (addrmemo_get(&C->arg1_str, a->str, a->len, &v) && C->arg1.v[v].key == a->key &&
            C->arg1.v[v].key_len == a->key_len)
            return put_text(p, &C->arg1.v[v].t);
    } else if (a->key && addrmemo_get(&C->arg1_num, a->key, a->key_len, &v)) {
        p = put_text(p, &C->arg1.v[v].t);
        p = outbuf_put_u64(p, a->u);
        *p++ = '}';
        return p;
    }
    return put_arg1_miss(C, p, e);
}

static HOT char *args(struct csink *C, char *p, const struct export_event *e)
{
    if (e->nargs == 1 && !e->nframes)
        return put_arg1(C, p, e);
    return e->nargs || e->nframes ? put_args(C, p, e) : p;
}

/* The time of e (time_set's C->ts and dec), its args and the end of the
 * event object, after `,"ts":`. */
static HOT void time_args_close(struct csink *C, char *p, const struct export_event *e,
                                const char *dec)
{
    p = put_time_text(p, &C->ts, dec);
    p = args(C, p, e);
    *p++ = '}';
    set_cursor(C, p);
}

/* `,"ts":T` of e (time_set's C->ts and dec), its args and the end of
 * the event object. */
static HOT void ts_args_close(struct csink *C, char *p, const struct export_event *e,
                              const char *dec)
{
    time_args_close(C, PUT_LIT(p, ",\"ts\":"), e, dec);
}

/* The flow event (ph s or f, its id) of e, written right after e's own
 * event, on e's track at e's time: so it takes from e's event its slot s
 * (NULL: e's event was not on (e->track, e->track->tid)) and dec, the
 * decimals of the time of C->ts (time_set), and only checks the room. */
static HOT void flow(struct csink *C, const struct export_event *e, const struct track_slot *s,
                     char ph, uint64_t id, const char *dec)
{
    struct outbuf *o = &C->ob;
    if (o->len + EV_ROOM > sizeof o->buf)
        outbuf_flush(o);
    if (!s)
        s = slot_of(C, e->track, e->track->tid);
    char *p = put_head(C, o->buf + o->len, s, ph);
    p = PUT_LIT(p, ",\"name\":\"wakeup\",\"cat\":\"flow\",\"id\":\"");
    p = outbuf_num_put(&C->flow_id, p, id); /* not set + copy: outbuf.h */
    p = PUT_LIT(p, "\",\"ts\":");
    p = put_time_text(p, &C->ts, dec);
    if (ph == 'f')
        p = PUT_LIT(p, ",\"bp\":\"e\"");
    *p++ = '}';
    set_cursor(C, p);
}

/* ev_open for an event written on by the output buffer's calls. */
static void ev_open_out(struct csink *C, char ph, const struct export_track *t, int64_t tid)
{
    set_cursor(C, ev_open(C, ph, t, tid, NULL));
}

static int c_track(struct export_sink *s, const struct export_track *t)
{
    struct csink *C = (struct csink *)s;
    switch (t->kind) {
    case EXPORT_TRACK_PROCESS:
        ev_open_out(C, 'M', t, 0);
        out_lit(C, ",\"name\":\"process_name\",\"args\":{\"name\":");
        jstr(C, t->name, strlen(t->name));
        out_lit(C, "}}");
        break;
    case EXPORT_TRACK_THREAD:
    case EXPORT_TRACK_CHILD:
        ev_open_out(C, 'M', t, t->tid);
        out_lit(C, ",\"name\":\"thread_name\",\"args\":{\"name\":");
        jstr(C, t->name, strlen(t->name));
        out_lit(C, "}}");
        ev_open_out(C, 'M', t, t->tid);
        out_fmt(C, ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":%" PRId64 "}}", t->sort);
        break;
    case EXPORT_TRACK_COUNTER: {
        char *name = strdup(t->name);
        free(u64map_get_ptr(&C->counter_names, t->uuid));
        if (!name || u64map_put_ptr(&C->counter_names, t->uuid, name) < 0) {
            free(name);
            return -1;
        }
        break;
    }
    case EXPORT_TRACK_ASYNC:
        break; /* async events carry their own names */
    }
    return C->ob.failed ? -1 : 0;
}

/* The names of a track's open B slices (ids in slice_names), innermost last. */
struct name_stack {
    size_t n, cap;
    uint32_t *ids;
};

/* Remembers the name (its id) of a slice begun on t (its slot s); -1 when
 * out of memory. */
static int push_name(struct csink *C, struct track_slot *s, const struct export_track *t,
                     int64_t id)
{
    struct name_stack *ns = s->open;
    if (!ns) {
        ns = calloc(1, sizeof *ns);
        if (!ns || u64map_put_ptr(&C->open_names, t->uuid, ns) < 0) {
            free(ns);
            return -1;
        }
        s->open = ns;
    }
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? 2 * ns->cap : 8;
        uint32_t *ids = realloc(ns->ids, cap * sizeof *ids);
        if (!ids)
            return -1;
        ns->ids = ids;
        ns->cap = cap;
    }
    ns->ids[ns->n++] = (uint32_t)id;
    return 0;
}

static void free_names(struct name_stack *ns)
{
    if (ns)
        free(ns->ids);
    free(ns);
}

/* `,"name":NAME` of the innermost open slice of slot s (a B/E track) at
 * p, which its E ends: the name is forgotten. */
static HOT char *put_end_name(struct csink *C, char *p, struct track_slot *s)
{
    struct name_stack *ns = s->open;
    if (ns && ns->n)
        p = put_name(C, p, ns->ids[--ns->n]);
    return p;
}

/* Starts e's event (ph, as (pid, tid)) after the E of the open slice of
 * e->end_first (sink.h: EXPORT_SINK_END_FIRST), which it writes as c_end
 * would have: one room check for both (EV_ROOM covers the E too), the
 * slot looked up once when the two are on the same track, the time's text
 * made once (its decimals in *dec: time_set).  Returns the cursor after
 * e's head, and its slot in *slot. */
static HOT char *end_then_open(struct csink *C, const struct export_event *e, char ph,
                               int64_t tid, struct track_slot **slot, const char **dec)
{
    const struct export_track *et = e->end_first;
    struct track_slot *s;
    char *p = ev_open(C, 'E', et, et->tid, &s);
    p = put_end_name(C, p, s);
    *dec = time_set(C, &C->ts, e->ts);
    p = PUT_LIT(p, ",\"ts\":");
    p = put_time_text(p, &C->ts, *dec);
    *p++ = '}';
    if (et != e->track || tid != et->tid) { /* a wake-up: the waker's instant */
        set_cursor(C, p); /* slot_fill makes the head at the cursor */
        s = slot_of(C, e->track, tid);
    }
    if (slot)
        *slot = s;
    return put_head(C, p, s, ph);
}

/* Starts e's event (ph, as (pid, tid)), after the E that ends first if
 * any (end_then_open); *dec: the decimals of its time (time_set). */
static HOT char *open_event(struct csink *C, const struct export_event *e, char ph,
                            int64_t tid, struct track_slot **slot, const char **dec)
{
    if (e->end_first)
        return end_then_open(C, e, ph, tid, slot, dec);
    *dec = time_set(C, &C->ts, e->ts);
    return ev_open(C, ph, e->track, tid, slot);
}

static int seldom_event(struct csink *C, const struct export_event *e, char ph);

/* A slice's begin: a B, or for a task (async) a b.  Inlined with async
 * a constant, for the B's in c_begin (they are most events: they test
 * nothing of the b's, and keep more in registers) and for the b's in
 * seldom_event. */
static HOT int begin(struct csink *C, const struct export_event *e, int async)
{
    int64_t id = name_id(C, e->name, e->name ? e->name_len : 0);
    if (id < 0)
        return -1;
    struct track_slot *slot;
    const char *dec;
    char *p = open_event(C, e, async ? 'b' : 'B', async ? 0 : e->track->tid, &slot, &dec);
    if (!async && push_name(C, slot, e->track, id) < 0)
        return -1;
    if (async)
        ts_args_close(C, put_id(name_cat(C, p, e, id), e->track->uuid), e, dec);
    else
        time_args_close(C, name_open(C, p, e, id, OPEN_B), e, dec);
    if (e->flow_in)
        flow(C, e, async ? NULL : slot, 'f', e->flow_in, dec);
    return C->ob.failed ? -1 : 0;
}

static int c_begin(struct export_sink *s, const struct export_event *e)
{
    if (e->track->kind == EXPORT_TRACK_ASYNC)
        return seldom_event((struct csink *)s, e, 'b');
    return begin((struct csink *)s, e, 0);
}

/* The end of a task's slice (rare): its name quoted, not one of the
 * generation (sink.h). */
static void async_end(struct csink *C, char *p, const struct export_event *e)
{
    if (e->name) {
        set_cursor(C, p);
        out_lit(C, ",\"name\":");
        jstr(C, e->name, e->name_len);
        p = room(C);
    }
    p = put_cat(C, p, EXPORT_CAT_TASK);
    p = put_id(p, e->track->uuid);
    ts_args_close(C, p, e, time_set(C, &C->ts, e->ts));
}

static int c_end(struct export_sink *s, const struct export_event *e)
{
    struct csink *C = (struct csink *)s;
    if (e->track->kind == EXPORT_TRACK_ASYNC) {
        async_end(C, ev_open(C, 'e', e->track, 0, NULL), e);
        return C->ob.failed ? -1 : 0;
    }
    struct track_slot *slot;
    char *p = ev_open(C, 'E', e->track, e->track->tid, &slot);
    p = put_end_name(C, p, slot);
    ts_args_close(C, p, e, time_set(C, &C->ts, e->ts));
    return C->ob.failed ? -1 : 0;
}

static int c_complete(struct export_sink *s, const struct export_event *e, int64_t dur)
{
    struct csink *C = (struct csink *)s;
    if (e->track->kind == EXPORT_TRACK_ASYNC) {
        struct export_event end = *e;
        end.ts += dur;
        end.nargs = 0;
        return c_begin(s, e) < 0 ? -1 : c_end(s, &end);
    }
    int64_t id = name_id(C, e->name, e->name ? e->name_len : 0);
    if (id < 0)
        return -1;
    char *p = ev_open(C, 'X', e->track, e->track->tid, NULL);
    p = name_cat(C, p, e, id);
    p = PUT_LIT(p, ",\"ts\":");
    p = put_time(C, &C->ts, p, e->ts);
    p = PUT_LIT(p, ",\"dur\":");
    p = put_time(C, &C->dur, p, dur);
    p = args(C, p, e);
    *p++ = '}';
    set_cursor(C, p);
    return C->ob.failed ? -1 : 0;
}

/* An instant: of a thread, or (proc) of a process; inlined with proc a
 * constant (c_instant, seldom_event), as begin() is. */
static HOT int instant(struct csink *C, const struct export_event *e, int proc)
{
    int64_t id = name_id(C, e->name, e->name ? e->name_len : 0);
    if (id < 0)
        return -1;
    struct track_slot *slot;
    const char *dec;
    char *p = open_event(C, e, 'i', proc ? 0 : e->track->tid, &slot, &dec);
    time_args_close(C, name_open(C, p, e, id, proc ? OPEN_PROC_I : OPEN_THREAD_I), e, dec);
    if (e->flow_out)
        flow(C, e, proc ? NULL : slot, 's', e->flow_out, dec);
    return C->ob.failed ? -1 : 0;
}

/* A task's begin (ph 'b') or a process's instant: begin() and
 * instant() of their seldom kind, out of the calls of the common one. */
static __attribute__((noinline)) int seldom_event(struct csink *C, const struct export_event *e,
                                                  char ph)
{
    return ph == 'b' ? begin(C, e, 1) : instant(C, e, 1);
}

static int c_instant(struct export_sink *s, const struct export_event *e)
{
    if (e->track->kind == EXPORT_TRACK_PROCESS)
        return seldom_event((struct csink *)s, e, 'i');
    return instant((struct csink *)s, e, 0);
}

static int c_counter(struct export_sink *s, const struct export_track *t, int64_t ts, int64_t value)
{
    struct csink *C = (struct csink *)s;
    const char *name = u64map_get_ptr(&C->counter_names, t->uuid);
    if (!name)
        name = "counter";
    ev_open_out(C, 'C', t, 0);
    out_lit(C, ",\"name\":");
    jstr(C, name, strlen(name));
    char *p = room(C);
    p = PUT_LIT(p, ",\"ts\":");
    p = put_time(C, &C->ts, p, ts);
    set_cursor(C, p);
    out_fmt(C, ",\"args\":{\"value\":%" PRId64 "}}", value);
    return C->ob.failed ? -1 : 0;
}

static void c_generation(struct export_sink *s, unsigned seq)
{
    struct csink *C = (struct csink *)s;
    (void)seq; /* the memos hold the strings of all inputs */
    addrmemo_clear(&C->name_ids);
    addrmemo_clear(&C->arg_ids);
    C->arg_short.n = 0;
    addrmemo_clear(&C->arg1_str);
    addrmemo_clear(&C->arg1_num);
    C->arg1.n = 0;
    addrtext_clear(&C->arg_text);
}

static int c_finish(struct export_sink *s)
{
    struct csink *C = (struct csink *)s;
    out_lit(C, "\n]}\n");
    out_flush(C);
    return C->ob.failed || fflush(C->ob.f) != 0 || ferror(C->ob.f) ? -1 : 0;
}

static void c_track_done(struct export_sink *s, const struct export_track *t, int64_t ts)
{
    struct csink *C = (struct csink *)s;
    (void)ts;
    free_names(u64map_take_ptr(&C->open_names, t->uuid));
    struct track_slot *slot = &C->slots[t->uuid & ((1u << SLOT_BITS) - 1)];
    if (slot->uuid == t->uuid)
        slot->uuid = 0; /* its open names are freed */
}

static void c_destroy(struct export_sink *s)
{
    struct csink *C = (struct csink *)s;
    uint64_t k;
    void *v;
    for (size_t i = 0; u64map_next_ptr(&C->counter_names, &i, &k, &v);)
        free(v);
    u64map_free(&C->counter_names);
    for (size_t i = 0; u64map_next_ptr(&C->open_names, &i, &k, &v);)
        free_names(v);
    u64map_free(&C->open_names);
    strtab_free(&C->slice_names);
    free(C->name_text.v);
    free(C->arg_short.v);
    free(C->arg1.v);
    addrtext_free(&C->arg_text);
    free(C);
}

struct export_sink *export_chrome_sink(FILE *out)
{
    struct csink *C = calloc(1, sizeof *C);
    if (!C)
        return NULL;
    C->ob.f = out;
    for (int c = 0; c < EXPORT_CAT_COUNT; c++) {
        if (c == EXPORT_CAT_NONE)
            continue; /* slice ends: no category */
        int n = snprintf(C->cat[c].s, sizeof C->cat[c].s, ",\"cat\":\"%s\"",
                         export_cat_name((enum export_cat)c));
        C->cat[c].len = n > 0 && (size_t)n < sizeof C->cat[c].s ? (size_t)n : 0;
    }
    for (int i = 0; i < 1000; i++) {
        C->decimals[i][0] = '.';
        C->decimals[i][1] = (char)('0' + i / 100);
        memcpy(C->decimals[i] + 2, outbuf_pairs + 2 * (i % 100), 2);
    }
    out_lit(C, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
    C->base = (struct export_sink){c_track, c_begin, c_end, c_complete, c_instant, c_counter,
                                   c_generation, c_finish, c_destroy, c_track_done, NULL,
                                   EXPORT_SINK_END_FIRST | EXPORT_SINK_RELAY};
    return &C->base;
}
