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
 *    the distinct slice names, freed when the track is done), and per
 *    counter track its name: that is all its memory.
 *  - ts is in microseconds with nanosecond decimals, dur the same.
 */
#include "hash.h"
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
#define PID_TIDS 64
struct pid_tid {
    int64_t pid, tid;
    size_t len; /* 0: empty */
    char s[64];
};

struct csink {
    struct export_sink base;
    struct pid_tid ids[PID_TIDS];
    int first;
    struct u64map counter_names; /* uuid -> char * */
    struct u64map open_names;    /* uuid -> struct name_stack * */
    struct strtab slice_names;   /* names of B slices, each once */
    struct strtab_memo slice_memo; /* in front of slice_names */
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

static void out_str(struct csink *C, const char *s)
{
    out_bytes(C, s, strlen(s));
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

static void jstr(struct csink *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    out_c(f, (char)('"'));
    while (p < end) {
        const unsigned char *run = p; /* plain ASCII: copied in one go */
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            out_bytes(f, run, (size_t)(p - run));
        if (p == end)
            break;
        unsigned c = *p;
        if (c >= 0x80) {
            int k = utf8_seq_len(p, end);
            if (k) {
                out_bytes(f, p, (size_t)k);
                p += k;
            } else {
                out_lit(f, "\\ufffd");
                p++;
            }
            continue;
        }
        if (c == '"' || c == '\\')
            out_fmt(f, "\\%c", c);
        else if (c < 0x20)
            out_fmt(f, "\\u%04x", c);
        else
            out_c(f, (char)((int)c));
        p++;
    }
    out_c(f, (char)('"'));
}

static void jts(struct csink *f, const char *key, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    out_lit(f, ",\"");
    out_str(f, key);
    out_lit(f, "\":");
    put_i64(f, ns / 1000);
    int frac = (int)(ns % 1000);
    out_c(f, (char)('.'));
    out_c(f, (char)('0' + frac / 100));
    out_c(f, (char)('0' + frac / 10 % 10));
    out_c(f, (char)('0' + frac % 10));
}

/* Starts an event object: separator, ph, pid, tid.  The `","pid":P,"tid":T`
 * part is kept per (pid, tid) in C->ids (every event writes one; numbers
 * are the costly part of the JSON). */
static struct csink *open_ev(struct csink *C, const char *ph, const struct export_track *t, int64_t tid)
{
    struct csink *f = C;
    if (C->first)
        out_lit(f, "\n{\"ph\":\"");
    else
        out_lit(f, ",\n{\"ph\":\"");
    C->first = 0;
    out_str(f, ph);
    uint64_t h = hash_mix64((uint64_t)t->pid * 31 + (uint64_t)tid);
    struct pid_tid *e = &C->ids[h & (PID_TIDS - 1)];
    if (!e->len || e->pid != t->pid || e->tid != tid) {
        struct outbuf *o = &C->ob;
        if (o->len + sizeof e->s > sizeof o->buf)
            outbuf_flush(o); /* the part stays in one piece in the buffer */
        size_t mark = o->len;
        out_lit(f, "\",\"pid\":");
        put_i64(f, t->pid);
        out_lit(f, ",\"tid\":");
        put_i64(f, tid);
        e->pid = t->pid;
        e->tid = tid;
        e->len = o->len - mark;
        memcpy(e->s, o->buf + mark, e->len);
        return f;
    }
    out_bytes(f, e->s, e->len);
    return f;
}

static void name_cat(struct csink *f, const struct export_event *e)
{
    if (e->name) {
        out_lit(f, ",\"name\":");
        jstr(f, e->name, e->name_len);
    }
    if (e->cat != EXPORT_CAT_NONE) {
        out_lit(f, ",\"cat\":\"");
        out_str(f, export_cat_name(e->cat)); /* plain ASCII */
        out_c(f, (char)('"'));
    }
}

static void args(struct csink *f, const struct export_event *e)
{
    if (!e->nargs && !e->nframes)
        return;
    out_lit(f, ",\"args\":{");
    for (size_t i = 0; i < e->nargs; i++) {
        if (i)
            out_c(f, (char)(','));
        jstr(f, e->args[i].key, e->args[i].key_len);
        out_c(f, (char)(':'));
        if (e->args[i].str)
            jstr(f, e->args[i].str, e->args[i].len);
        else
            put_u64(f, e->args[i].u);
    }
    if (e->nframes) {
        out_str(f, e->nargs ? ",\"stack\":[" : "\"stack\":[");
        for (size_t i = 0; i < e->nframes; i++) {
            const struct ctrace_frame *fr = &e->frames[i];
            char line[32];
            snprintf(line, sizeof line, ":%" PRIu64, fr->line);
            /* "func file:line", innermost first */
            size_t n = fr->func.len + 1 + fr->file.len + strlen(line);
            char *s = malloc(n + 1);
            if (s) {
                snprintf(s, n + 1, "%.*s %.*s%s", (int)fr->func.len, fr->func.ptr,
                         (int)fr->file.len, fr->file.ptr, line);
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

static void flow(struct csink *C, const struct export_event *e, const char *ph, uint64_t id)
{
    struct csink *f = open_ev(C, ph, e->track, e->track->tid);
    out_lit(f, ",\"name\":\"wakeup\",\"cat\":\"flow\"");
    put_id(f, id);
    jts(f, "ts", e->ts);
    if (ph[0] == 'f')
        out_lit(f, ",\"bp\":\"e\"");
    close_ev(f);
}

static int c_track(struct export_sink *s, const struct export_track *t)
{
    struct csink *C = (struct csink *)s;
    struct csink *f;
    switch (t->kind) {
    case EXPORT_TRACK_PROCESS:
        f = open_ev(C, "M", t, 0);
        out_lit(f, ",\"name\":\"process_name\",\"args\":{\"name\":");
        jstr(f, t->name, strlen(t->name));
        out_lit(f, "}}");
        break;
    case EXPORT_TRACK_THREAD:
    case EXPORT_TRACK_CHILD:
        f = open_ev(C, "M", t, t->tid);
        out_lit(f, ",\"name\":\"thread_name\",\"args\":{\"name\":");
        jstr(f, t->name, strlen(t->name));
        out_lit(f, "}}");
        f = open_ev(C, "M", t, t->tid);
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

/* Remembers the name of a slice begun on t; -1 when out of memory. */
static int push_name(struct csink *C, const struct export_track *t, const char *name, size_t len)
{
    int64_t id = strtab_memo_get(&C->slice_names, &C->slice_memo, name, len);
    if (id < 0) {
        id = strtab_intern(&C->slice_names, name, len);
        if (id < 0)
            return -1;
        strtab_memo_put(&C->slice_memo, name, (uint32_t)id);
    }
    struct name_stack *ns = u64map_get_ptr(&C->open_names, t->uuid);
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
    struct name_stack *ns = u64map_get_ptr(&C->open_names, t->uuid);
    if (!ns || !ns->n)
        return;
    uint32_t id = ns->ids[--ns->n];
    out_lit(C, ",\"name\":");
    jstr(C, C->slice_names.s[id], C->slice_names.len[id]);
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
    if (!async && push_name(C, e->track, e->name ? e->name : "", e->name ? e->name_len : 0) < 0)
        return -1;
    struct csink *f = open_ev(C, async ? "b" : "B", e->track, async ? 0 : e->track->tid);
    name_cat(f, e);
    if (async)
        put_id(f, e->track->uuid);
    jts(f, "ts", e->ts);
    args(f, e);
    close_ev(f);
    if (e->flow_in)
        flow(C, e, "f", e->flow_in);
    return C->ob.failed ? -1 : 0;
}

static int c_end(struct export_sink *s, const struct export_event *e)
{
    struct csink *C = (struct csink *)s;
    int async = e->track->kind == EXPORT_TRACK_ASYNC;
    struct csink *f = open_ev(C, async ? "e" : "E", e->track, async ? 0 : e->track->tid);
    if (async) {
        struct export_event named = *e;
        named.cat = EXPORT_CAT_TASK;
        name_cat(f, &named);
        put_id(f, e->track->uuid);
    } else {
        pop_name(f, e->track);
    }
    jts(f, "ts", e->ts);
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
    struct csink *f = open_ev(C, "X", e->track, e->track->tid);
    name_cat(f, e);
    jts(f, "ts", e->ts);
    jts(f, "dur", dur);
    args(f, e);
    close_ev(f);
    return C->ob.failed ? -1 : 0;
}

static int c_instant(struct export_sink *s, const struct export_event *e)
{
    struct csink *C = (struct csink *)s;
    int proc = e->track->kind == EXPORT_TRACK_PROCESS;
    struct csink *f = open_ev(C, "i", e->track, proc ? 0 : e->track->tid);
    name_cat(f, e);
    out_str(f, proc ? ",\"s\":\"p\"" : ",\"s\":\"t\"");
    jts(f, "ts", e->ts);
    args(f, e);
    close_ev(f);
    if (e->flow_out)
        flow(C, e, "s", e->flow_out);
    return C->ob.failed ? -1 : 0;
}

static int c_counter(struct export_sink *s, const struct export_track *t, int64_t ts, int64_t value)
{
    struct csink *C = (struct csink *)s;
    const char *name = u64map_get_ptr(&C->counter_names, t->uuid);
    struct csink *f = open_ev(C, "C", t, 0);
    out_lit(f, ",\"name\":");
    jstr(f, name ? name : "counter", strlen(name ? name : "counter"));
    jts(f, "ts", ts);
    out_fmt(f, ",\"args\":{\"value\":%" PRId64 "}}", value);
    return C->ob.failed ? -1 : 0;
}

static void c_generation(struct export_sink *s, unsigned seq)
{
    (void)s;
    (void)seq; /* nothing is interned */
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
    free(C);
}

struct export_sink *export_chrome_sink(FILE *out)
{
    struct csink *C = calloc(1, sizeof *C);
    if (!C)
        return NULL;
    C->ob.f = out;
    C->first = 1;
    out_lit(C, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
    C->base = (struct export_sink){c_track, c_begin, c_end, c_complete, c_instant, c_counter,
                                   c_generation, c_finish, c_destroy, c_track_done, NULL, 0};
    return &C->base;
}
