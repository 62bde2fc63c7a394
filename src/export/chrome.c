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
 */
#include "addrmemo.h"
#include "strtab.h"
#include "u64map.h"
#include "outbuf.h"
#include "sink.h"
#include "utf8.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* `","pid":P,"tid":T` of one (pid, tid), as open_ev writes it. */
#define PID_TID_BITS 8 /* 256 slots: the live threads of a trace rarely collide */
struct pid_tid {
    int64_t pid, tid;
    size_t len; /* 0: empty */
    char s[64];
};

struct csink {
    struct export_sink base;
    struct pid_tid ids[1 << PID_TID_BITS];
    int first;
    struct u64map counter_names; /* uuid -> char * */
    struct u64map open_names;    /* uuid -> struct name_stack * */
    struct u64memo names_memo;   /* in front of open_names */
    struct strtab slice_names;   /* event names as JSON strings, each once */
    struct addrmemo name_ids;    /* in front of slice_names, by address */
    struct addrtext arg_text;    /* args' keys and strings as JSON strings */
    struct {
        char s[32];
        size_t len;
    } cat[EXPORT_CAT_COUNT];     /* `,"cat":"NAME"` */
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

static void put_u64(struct csink *f, uint64_t v)
{
    outbuf_u64(&f->ob, v);
}

static void put_i64(struct csink *f, int64_t v)
{
    outbuf_i64(&f->ob, v);
}

/* An id as a JSON string (ids may exceed a double's 53 bits). */
static void put_id(struct csink *f, uint64_t id)
{
    out_lit(f, ",\"id\":\"");
    put_u64(f, id);
    out_c(f, (char)('"'));
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

/* `,"KEY":` and ns in microseconds with three decimals. */
#define JTS(f, key, ns) jts((f), ",\"" key "\":", sizeof(",\"" key "\":") - 1, (ns))
static inline __attribute__((always_inline)) void jts(struct csink *f, const char *field,
                                                     size_t len, int64_t ns)
{
    struct outbuf *o = &f->ob;
    if (ns < 0)
        ns = 0;
    if (o->len + len + 20 + 4 > sizeof o->buf)
        outbuf_flush(o);
    memcpy(o->buf + o->len, field, len);
    o->len += len;
    outbuf_u64(o, (uint64_t)ns / 1000);
    unsigned frac = (unsigned)(ns % 1000);
    char *p = o->buf + o->len;
    p[0] = '.';
    p[1] = (char)('0' + frac / 100);
    memcpy(p + 2, outbuf_pairs + 2 * (frac % 100), 2);
    o->len += 4;
}

/* Writes the `","pid":P,"tid":T` of track t (its pid) and tid, and keeps
 * it in e: a miss of open_ev's, out of line so that the hit path keeps to
 * few registers. */
static __attribute__((noinline)) void pid_tid_miss(struct csink *C, struct pid_tid *e,
                                                   const struct export_track *t, int64_t tid)
{
    struct outbuf *o = &C->ob;
    size_t mark = o->len; /* open_ev made room for all of it */
    out_lit(C, "\",\"pid\":");
    put_i64(C, t->pid);
    out_lit(C, ",\"tid\":");
    put_i64(C, tid);
    e->pid = t->pid;
    e->tid = tid;
    e->len = o->len - mark;
    memcpy(e->s, o->buf + mark, e->len);
}

/* Starts an event object: separator, ph, pid, tid.  The `","pid":P,"tid":T`
 * part is kept per (pid, tid) in C->ids (every event writes one; numbers
 * are the costly part of the JSON), copied whole (a fixed size: no call). */
static struct csink *open_ev(struct csink *C, char ph, const struct export_track *t, int64_t tid)
{
    struct outbuf *o = &C->ob;
    /* Fibonacci hashing of the pair */
    uint64_t h = ((uint64_t)tid + (uint64_t)t->pid * 31) * 0x9e3779b97f4a7c15ULL;
    struct pid_tid *e = &C->ids[h >> (64 - PID_TID_BITS)];
    if (o->len + 10 + sizeof e->s > sizeof o->buf)
        outbuf_flush(o); /* the head in one piece in the buffer */
    char *p = o->buf + o->len;
    if (C->first) {
        memcpy(p, "\n{\"ph\":\"", 8);
        p += 8;
    } else {
        memcpy(p, ",\n{\"ph\":\"", 9);
        p += 9;
    }
    C->first = 0;
    *p++ = ph;
    o->len = (size_t)(p - o->buf);
    if (e->len && e->pid == t->pid && e->tid == tid) {
        memcpy(p, e->s, sizeof e->s);
        o->len += e->len;
    } else {
        pid_tid_miss(C, e, t, tid);
    }
    return C;
}

/* The id in slice_names of the event name s[0..len) (a name of the
 * generation: sink.h), quoted the first time; -1 when out of memory. */
static int64_t name_id(struct csink *C, const char *s, size_t len)
{
    uint64_t v;
    if (s && addrmemo_get(&C->name_ids, s, len, &v))
        return (int64_t)v;
    char small[256], *q = JSON_MAX(len) <= sizeof small ? small : malloc(JSON_MAX(len));
    if (!q)
        return -1;
    int64_t id = strtab_intern(&C->slice_names, q, json_quote(q, s ? s : "", len));
    if (q != small)
        free(q);
    if (id >= 0 && s)
        addrmemo_put(&C->name_ids, s, len, (uint64_t)id);
    return id;
}

/* `,"name":NAME` of the name with that id. */
static void name_field(struct csink *f, int64_t id)
{
    out_lit(f, ",\"name\":");
    outbuf_short(&f->ob, f->slice_names.s[id], f->slice_names.len[id]);
}

static void cat_field(struct csink *f, enum export_cat c)
{
    if (c != EXPORT_CAT_NONE)
        outbuf_short(&f->ob, f->cat[c].s, f->cat[c].len);
}

/* The name (its id: name_id) and category of e. */
static void name_cat(struct csink *f, const struct export_event *e, int64_t id)
{
    if (e->name)
        name_field(f, id);
    cat_field(f, e->cat);
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

static void args(struct csink *f, const struct export_event *e)
{
    if (!e->nargs && !e->nframes)
        return;
    out_lit(f, ",\"args\":{");
    for (size_t i = 0; i < e->nargs; i++) {
        if (i)
            out_c(f, (char)(','));
        jstr_arg(f, e->args[i].key, e->args[i].key_len);
        out_c(f, (char)(':'));
        if (e->args[i].str)
            jstr_arg(f, e->args[i].str, e->args[i].len);
        else
            put_u64(f, e->args[i].u);
    }
    if (e->nframes) {
        if (e->nargs)
            out_lit(f, ",\"stack\":[");
        else
            out_lit(f, "\"stack\":[");
        for (size_t i = 0; i < e->nframes; i++) {
            const struct ctrace_frame *fr = &e->frames[i];
            /* "func file:line", innermost first */
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
    out_c(f, (char)('}'));
}

static void close_ev(struct csink *f)
{
    out_c(f, (char)('}'));
}

static void flow(struct csink *C, const struct export_event *e, char ph, uint64_t id)
{
    struct csink *f = open_ev(C, ph, e->track, e->track->tid);
    out_lit(f, ",\"name\":\"wakeup\",\"cat\":\"flow\"");
    put_id(f, id);
    JTS(f, "ts", e->ts);
    if (ph == 'f')
        out_lit(f, ",\"bp\":\"e\"");
    close_ev(f);
}

static int c_track(struct export_sink *s, const struct export_track *t)
{
    struct csink *C = (struct csink *)s;
    struct csink *f;
    switch (t->kind) {
    case EXPORT_TRACK_PROCESS:
        f = open_ev(C, 'M', t, 0);
        out_lit(f, ",\"name\":\"process_name\",\"args\":{\"name\":");
        jstr(f, t->name, strlen(t->name));
        out_lit(f, "}}");
        break;
    case EXPORT_TRACK_THREAD:
    case EXPORT_TRACK_CHILD:
        f = open_ev(C, 'M', t, t->tid);
        out_lit(f, ",\"name\":\"thread_name\",\"args\":{\"name\":");
        jstr(f, t->name, strlen(t->name));
        out_lit(f, "}}");
        f = open_ev(C, 'M', t, t->tid);
        out_fmt(f, ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":%" PRId64 "}}", t->sort);
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

/* The names of t's open slices, NULL if none was begun. */
static struct name_stack *name_stack(struct csink *C, const struct export_track *t)
{
    uint64_t v;
    return u64memo_get(&C->names_memo, &C->open_names, t->uuid, &v)
               ? (struct name_stack *)(uintptr_t)v : NULL;
}

/* Remembers the name (its id) of a slice begun on t; -1 when out of memory. */
static int push_name(struct csink *C, const struct export_track *t, int64_t id)
{
    if (id < 0)
        return -1;
    struct name_stack *ns = name_stack(C, t);
    if (!ns) {
        ns = calloc(1, sizeof *ns);
        if (!ns || u64map_put_ptr(&C->open_names, t->uuid, ns) < 0) {
            free(ns);
            return -1;
        }
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

/* Writes the "name" of the innermost open slice on t and forgets it
 * (nothing when none is open). */
static void pop_name(struct csink *C, const struct export_track *t)
{
    struct name_stack *ns = name_stack(C, t);
    if (!ns || !ns->n)
        return;
    name_field(C, ns->ids[--ns->n]);
}

static void free_names(struct name_stack *ns)
{
    if (ns)
        free(ns->ids);
    free(ns);
}

static int c_begin(struct export_sink *s, const struct export_event *e)
{
    struct csink *C = (struct csink *)s;
    int async = e->track->kind == EXPORT_TRACK_ASYNC;
    int64_t id = name_id(C, e->name, e->name ? e->name_len : 0);
    if (id < 0 || (!async && push_name(C, e->track, id) < 0))
        return -1;
    struct csink *f = open_ev(C, async ? 'b' : 'B', e->track, async ? 0 : e->track->tid);
    name_cat(f, e, id);
    if (async)
        put_id(f, e->track->uuid);
    JTS(f, "ts", e->ts);
    args(f, e);
    close_ev(f);
    if (e->flow_in)
        flow(C, e, 'f', e->flow_in);
    return C->ob.failed ? -1 : 0;
}

static int c_end(struct export_sink *s, const struct export_event *e)
{
    struct csink *C = (struct csink *)s;
    int async = e->track->kind == EXPORT_TRACK_ASYNC;
    struct csink *f = open_ev(C, async ? 'e' : 'E', e->track, async ? 0 : e->track->tid);
    if (async) {
        /* the task's name, not one of the generation (sink.h): quoted */
        if (e->name) {
            out_lit(f, ",\"name\":");
            jstr(f, e->name, e->name_len);
        }
        cat_field(f, EXPORT_CAT_TASK);
        put_id(f, e->track->uuid);
    } else {
        pop_name(f, e->track);
    }
    JTS(f, "ts", e->ts);
    args(f, e);
    close_ev(f);
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
    struct csink *f = open_ev(C, 'X', e->track, e->track->tid);
    name_cat(f, e, id);
    JTS(f, "ts", e->ts);
    JTS(f, "dur", dur);
    args(f, e);
    close_ev(f);
    return C->ob.failed ? -1 : 0;
}

static int c_instant(struct export_sink *s, const struct export_event *e)
{
    struct csink *C = (struct csink *)s;
    int proc = e->track->kind == EXPORT_TRACK_PROCESS;
    int64_t id = name_id(C, e->name, e->name ? e->name_len : 0);
    if (id < 0)
        return -1;
    struct csink *f = open_ev(C, 'i', e->track, proc ? 0 : e->track->tid);
    name_cat(f, e, id);
    if (proc)
        out_lit(f, ",\"s\":\"p\"");
    else
        out_lit(f, ",\"s\":\"t\"");
    JTS(f, "ts", e->ts);
    args(f, e);
    close_ev(f);
    if (e->flow_out)
        flow(C, e, 's', e->flow_out);
    return C->ob.failed ? -1 : 0;
}

static int c_counter(struct export_sink *s, const struct export_track *t, int64_t ts, int64_t value)
{
    struct csink *C = (struct csink *)s;
    const char *name = u64map_get_ptr(&C->counter_names, t->uuid);
    struct csink *f = open_ev(C, 'C', t, 0);
    out_lit(f, ",\"name\":");
    jstr(f, name ? name : "counter", strlen(name ? name : "counter"));
    JTS(f, "ts", ts);
    out_fmt(f, ",\"args\":{\"value\":%" PRId64 "}}", value);
    return C->ob.failed ? -1 : 0;
}

static void c_generation(struct export_sink *s, unsigned seq)
{
    struct csink *C = (struct csink *)s;
    (void)seq; /* the memos hold the strings of all inputs */
    addrmemo_clear(&C->name_ids);
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
    u64memo_forget(&C->names_memo, t->uuid);
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
    addrtext_free(&C->arg_text);
    free(C);
}

struct export_sink *export_chrome_sink(FILE *out)
{
    struct csink *C = calloc(1, sizeof *C);
    if (!C)
        return NULL;
    C->ob.f = out;
    C->first = 1;
    for (int c = 0; c < EXPORT_CAT_COUNT; c++) {
        int n = snprintf(C->cat[c].s, sizeof C->cat[c].s, ",\"cat\":\"%s\"",
                         export_cat_name((enum export_cat)c));
        C->cat[c].len = n > 0 && (size_t)n < sizeof C->cat[c].s ? (size_t)n : 0;
    }
    out_lit(C, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
    C->base = (struct export_sink){c_track, c_begin, c_end, c_complete, c_instant, c_counter,
                                   c_generation, c_finish, c_destroy, c_track_done, NULL, 0};
    return &C->base;
}
