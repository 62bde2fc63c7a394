/*
 * csv.c - the CSV sink: the timeline as tables, one .csv file per table in
 * a directory, for SQL engines that read CSV directly (DuckDB's
 * read_csv_auto, SQLite's .import, pandas):
 *
 *   threads.csv  trace,thread,name,start_ns,end_ns
 *   states.csv   trace,thread,state,reason,stack_id,start_ns,end_ns,dur_ns
 *   regions.csv  trace,thread,region,task,depth,start_ns,end_ns,dur_ns
 *   tasks.csv    trace,task,parent,name,start_ns,end_ns,dur_ns
 *   logs.csv     trace,ts_ns,thread,task,category,message
 *   samples.csv  trace,ts_ns,thread,stack_id
 *   stacks.csv   trace,stack_id,depth,func,file,line
 *   ranges.csv   trace,thread,name,start_ns,end_ns,dur_ns
 *   metrics.csv  trace,ts_ns,metric,value
 *
 * (docs/EXPORT.md says what each column is.)
 *
 * Invariants:
 *  - Every file starts with its header row and every row has the header's
 *    columns; rows end with "\n".  Text fields are always quoted, with
 *    quotes doubled (RFC 4180), so commas, quotes and line breaks in
 *    names and messages stay in their field; a missing value is an
 *    empty unquoted field (NULL to DuckDB).  Text is valid UTF-8:
 *    a byte that is not part of valid UTF-8, and NUL, become U+FFFD.
 *  - A slice is one row, written at its end (the timeline ends every slice
 *    it begins), so what the sink keeps is what is open: per track of a
 *    live goroutine or task (and per range track: a trace has few), the
 *    stack of open slices, an array and the text of their names and
 *    reasons, reused slice after slice (dropped at track_done); per live
 *    goroutine, its
 *    name and start (dropped at track_done, when its row is written);
 *    per input, the stack ids of the current generation (dropped at each
 *    generation: a stack seen again in a later one gets a new id); the
 *    names of the inputs (their trace column, quoted once) and of the
 *    metrics.
 *  - stack_id is unique over the whole output; stacks.csv holds each
 *    stack once per generation of its input, written when first seen (a
 *    CPU sample's stack, or where a goroutine blocked or entered a
 *    syscall: states.csv), so every stack_id in samples.csv and
 *    states.csv has its frames in stacks.csv.
 *  - Times are nanoseconds since the first event of all inputs, durations
 *    are end - start: sums of dur_ns are the times `ctrace stat` reports.
 */
#include "addrmemo.h"
#include "u64map.h"
#include "sink.h"
#include "utf8.h"
#include "outbuf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum table_id {
    T_THREADS, T_STATES, T_REGIONS, T_TASKS, T_LOGS, T_SAMPLES, T_STACKS, T_RANGES, T_METRICS,
    T_COUNT
};

static const struct {
    const char *file, *header;
} table_def[T_COUNT] = {
    [T_THREADS] = {"threads.csv", "trace,thread,name,start_ns,end_ns"},
    [T_STATES] = {"states.csv", "trace,thread,state,reason,stack_id,start_ns,end_ns,dur_ns"},
    [T_REGIONS] = {"regions.csv", "trace,thread,region,task,depth,start_ns,end_ns,dur_ns"},
    [T_TASKS] = {"tasks.csv", "trace,task,parent,name,start_ns,end_ns,dur_ns"},
    [T_LOGS] = {"logs.csv", "trace,ts_ns,thread,task,category,message"},
    [T_SAMPLES] = {"samples.csv", "trace,ts_ns,thread,stack_id"},
    [T_STACKS] = {"stacks.csv", "trace,stack_id,depth,func,file,line"},
    [T_RANGES] = {"ranges.csv", "trace,thread,name,start_ns,end_ns,dur_ns"},
    [T_METRICS] = {"metrics.csv", "trace,ts_ns,metric,value"},
};

/* What kind of slice, from the timeline's category. */
enum slice_kind { S_STATE, S_REGION, S_TASK, S_RANGE, S_OTHER };

struct open_slice {
    enum slice_kind kind;
    int64_t ts;
    int has_task, has_parent, has_reason;
    uint64_t task, parent;
    uint64_t stack_id; /* 0: none */
    size_t text;       /* where its name starts in its stack's text */
    size_t name_len, reason_len; /* the reason follows the name */
    /* The name and reason as the timeline gave them, strings of generation
     * `gen` (struct fields), by which their quoted fields are found. */
    const char *name_ptr, *reason_ptr;
    uint64_t gen;
};

/* Quoted fields (f_str's bytes, without the separator) of the names and
 * reasons of the current generation, found by the string's address
 * (addrmemo.h), so that a field is quoted once per generation rather than
 * at every row.  A string longer than FIELD_MAX is quoted at its row, as
 * is one of a slice begun in an earlier generation (its address may hold
 * another string now). */
#define FIELD_MAX 256 /* its field is 3 * 256 + 2 bytes at most */
struct fields {
    /* of the state column (the name up to its ':') in state, of the
     * string in text */
    struct addrtext state, text;
    uint64_t gen; /* generation() calls so far */
    struct outbuf *scratch; /* where a field is quoted */
};

/* A time as written, in decimal (f_times). */
struct time_text {
    int64_t ts;
    size_t len; /* 0: none */
    char s[24];
};

struct thread_info {
    uint64_t gid;
    unsigned seq;
    int64_t start;
    char *name;
};

/* The open slices of a track, innermost last, and their names and reasons
 * in the order begun (so a slice's end gives back its text too). */
struct open_stack {
    struct open_slice *s;
    size_t n, cap;
    char *text;
    size_t text_len, text_cap;
    const struct thread_info *owner; /* the goroutine of the track (owner()) */
    struct time_text last_end;       /* of the track's last row (f_times) */
};

/* An input's trace column: its name, quoted. */
struct trace_field {
    char *s;
    size_t len;
};

struct csink {
    struct export_sink base;
    FILE *errf;
    int failed;
    struct outbuf *t[T_COUNT];
    struct u64map open;     /* track uuid -> struct open_stack */
    struct u64memo open_memo; /* in front of open */
    struct u64map threads;  /* thread track uuid -> struct thread_info */
    struct u64map counters; /* counter track uuid -> char * name */
    struct u64map *stacks;  /* per input: stack key -> stack_id */
    struct trace_field *names; /* per input: its trace column */
    struct fields fields;
    unsigned ninputs;
    uint64_t next_stack;
};

/* ---- output ------------------------------------------------------------ */

/* An integer field, preceded by a separator unless first. */
static void f_i64(struct outbuf *t, int64_t v, int first)
{
    if (!first)
        outbuf_c(t, ',');
    outbuf_i64(t, v);
}

static void f_u64(struct outbuf *t, uint64_t v)
{
    outbuf_c(t, ',');
    outbuf_u64(t, v);
}

static void f_null(struct outbuf *t)
{
    outbuf_c(t, ',');
}

/* A quoted text field (RFC 4180), valid UTF-8: written in place at d, a
 * word at a time where the text is plain ASCII (utf8.h), else a byte or a
 * UTF-8 sequence at a time; the room for the next word's worst case (each
 * byte 3: U+FFFD) is made before it. */
static void f_str(struct outbuf *t, const char *s, size_t n, int first)
{
    static const char replacement[] = "\xef\xbf\xbd";
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    if (!first)
        outbuf_c(t, ',');
    outbuf_c(t, '"');
    char *d = t->buf + t->len;
    while (p < end) {
        if ((size_t)(t->buf + sizeof t->buf - d) < 8 * 3 + 4) {
            t->len = (size_t)(d - t->buf);
            outbuf_flush(t);
            d = t->buf + t->len;
        }
        const unsigned char *stop = copy_plain8(&d, &p, end);
        while (stop && p < stop) {
            unsigned c = *p;
            if (c && c < 0x80 && c != '"') {
                *d++ = (char)c;
                p++;
            } else if (c == '"') {
                memcpy(d, "\"\"", 2);
                d += 2;
                p++;
            } else {
                int k = c ? utf8_seq_len(p, end) : 0; /* NUL: replaced too */
                if (k) {
                    memcpy(d, p, (size_t)k);
                    d += k;
                    p += k;
                } else {
                    memcpy(d, replacement, 3);
                    d += 3;
                    p++;
                }
            }
        }
    }
    t->len = (size_t)(d - t->buf);
    outbuf_c(t, '"');
}

static void f_cstr(struct outbuf *t, const char *s, int first)
{
    f_str(t, s, strlen(s), first);
}

static void row_end(struct outbuf *t)
{
    outbuf_c(t, '\n');
}

/* Starts a row with its trace column. */
static struct outbuf *row(struct csink *C, enum table_id id, unsigned seq)
{
    struct outbuf *t = C->t[id];
    if (seq < C->ninputs && C->names[seq].s)
        outbuf_bytes(t, C->names[seq].s, C->names[seq].len);
    else
        f_cstr(t, "", 1);
    return t;
}

/* The trace column of an input named `name`, quoted by f_str into a
 * scratch buffer (a file name: far below the buffer's size; were it not,
 * the buffer would drop the rest, having no file). */
static int trace_field(struct trace_field *f, const char *name)
{
    struct outbuf *b = calloc(1, sizeof *b);
    char *s = b ? malloc(1) : NULL;
    if (s) {
        b->failed = 1; /* never written anywhere */
        f_cstr(b, name, 1);
        char *all = realloc(s, b->len);
        if (all) {
            s = all;
            memcpy(s, b->buf, b->len);
            free(f->s);
            f->s = s;
            f->len = b->len;
            s = NULL;
        }
    }
    free(s);
    int ok = b && !s && f->s;
    free(b);
    return ok ? 0 : -1;
}

/* ---- helpers ----------------------------------------------------------- */

/* Grows *p (*cap elements of size) to hold n; -1 when out of memory. */
static int grow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 8;
    while (c < n)
        c *= 2;
    void *q = realloc(*(void **)p, c * size);
    if (!q)
        return -1;
    *(void **)p = q;
    *cap = c;
    return 0;
}


static enum slice_kind kind_of(enum export_cat cat)
{
    switch (cat) {
    case EXPORT_CAT_STATE: return S_STATE;
    case EXPORT_CAT_REGION: return S_REGION;
    case EXPORT_CAT_TASK: return S_TASK;
    case EXPORT_CAT_RUNTIME: return S_RANGE;
    default: return S_OTHER;
    }
}

/* Whether a's key is the literal `lit`. */
#define IS_KEY(a, lit) ((a)->key_len == sizeof(lit) - 1 && !memcmp((a)->key, lit, sizeof(lit) - 1))

/* The first arg of e with key `lit`, or NULL. */
#define ARG(e, lit) arg_of(e, lit, sizeof(lit) - 1)
static inline const struct export_arg *arg_of(const struct export_event *e, const char *key,
                                              size_t len)
{
    for (size_t i = 0; i < e->nargs; i++)
        if (e->args[i].key_len == len && !memcmp(e->args[i].key, key, len))
            return &e->args[i];
    return NULL;
}

/* The goroutine a track belongs to: a thread track's own, or its parent's
 * for a child track of a goroutine; NULL for tracks of no goroutine. */
static const struct thread_info *owner(struct csink *C, const struct export_track *t)
{
    const struct thread_info *ti = u64map_get_ptr(&C->threads, t->uuid);
    if (!ti && t->kind == EXPORT_TRACK_CHILD)
        ti = u64map_get_ptr(&C->threads, t->parent);
    return ti;
}

static void f_owner(struct outbuf *tb, const struct thread_info *ti)
{
    if (ti)
        f_u64(tb, ti->gid);
    else
        f_null(tb);
}

/* start, end and end - start.  On a track, a slice mostly starts when the
 * one before ended (a goroutine's states follow each other): the text of
 * the last end is kept in *last (NULL: not kept), and written again. */
static void f_times(struct outbuf *t, int64_t start, int64_t end, struct time_text *last)
{
    if (last && last->len && last->ts == start) {
        outbuf_c(t, ',');
        outbuf_short(t, last->s, last->len);
    } else {
        f_i64(t, start, 0);
    }
    f_i64(t, end, 0);
    if (last && end >= 0) { /* its digits are the last bytes written */
        last->ts = end;
        last->len = outbuf_digits((uint64_t)end);
        outbuf_copy_short(last->s, t->buf + t->len - last->len, last->len);
    }
    f_i64(t, end - start, 0);
}

static void f_thread(struct csink *C, struct outbuf *tb, const struct export_track *t)
{
    f_owner(tb, owner(C, t));
}

/* The quoted field of s[0..n), a string of the current generation (of the
 * state column: s up to its ':' if state), its length in *flen; valid
 * until the next call.  NULL when it is not kept (too long, out of memory). */
static const char *field_of(struct csink *C, const char *s, size_t n, int state, size_t *flen)
{
    struct fields *F = &C->fields;
    struct addrtext *t = state ? &F->state : &F->text;
    if (!s || n > FIELD_MAX)
        return NULL;
    const char *f = addrtext_get(t, s, n, flen);
    if (f)
        return f;
    if (!F->scratch && !(F->scratch = calloc(1, sizeof *F->scratch)))
        return NULL;
    struct outbuf *b = F->scratch; /* failed: never written anywhere */
    b->failed = 1;
    b->len = 0;
    const char *colon = state ? memchr(s, ':', n) : NULL;
    f_str(b, s, colon ? (size_t)(colon - s) : n, 1);
    *flen = b->len;
    return addrtext_put(t, s, n, b->buf, b->len);
}

/* The text field of slice s's string at ptr (its copy at `copy`, n bytes;
 * of the state column if state), preceded by a separator. */
static void f_text(struct csink *C, struct outbuf *tb, const struct open_slice *s,
                   const char *ptr, const char *copy, size_t n, int state)
{
    size_t flen;
    const char *f = s->gen == C->fields.gen ? field_of(C, ptr, n, state, &flen) : NULL;
    if (f) {
        outbuf_c(tb, ',');
        outbuf_bytes(tb, f, flen);
        return;
    }
    const char *colon = state ? memchr(copy, ':', n) : NULL;
    f_str(tb, copy, colon ? (size_t)(colon - copy) : n, 0);
}

/* Writes the row of a slice [start, end] on track t of goroutine `ti`
 * (NULL: none), its name and reason the bytes at `text` (last_end: of
 * f_times); returns the table written (NULL: none). */
static struct outbuf *slice_row(struct csink *C, const struct export_track *t,
                      const struct thread_info *ti, const struct open_slice *s,
                      const char *text, uint64_t depth, int64_t end,
                      struct time_text *last_end)
{
    struct outbuf *tb = NULL;
    switch (s->kind) {
    case S_STATE: {
        tb = row(C, T_STATES, t->seq);
        f_owner(tb, ti);
        /* "blocked: REASON" is state "blocked" with its reason */
        f_text(C, tb, s, s->name_ptr, text, s->name_len, 1);
        if (s->has_reason)
            f_text(C, tb, s, s->reason_ptr, text + s->name_len, s->reason_len, 0);
        else
            f_null(tb);
        if (s->stack_id)
            f_u64(tb, s->stack_id);
        else
            f_null(tb);
        f_times(tb, s->ts, end, last_end);
        break;
    }
    case S_REGION:
        tb = row(C, T_REGIONS, t->seq);
        f_owner(tb, ti);
        f_text(C, tb, s, s->name_ptr, text, s->name_len, 0);
        if (s->has_task)
            f_u64(tb, s->task);
        else
            f_u64(tb, 0); /* the background task */
        f_u64(tb, depth);
        f_times(tb, s->ts, end, last_end);
        break;
    case S_TASK:
        tb = row(C, T_TASKS, t->seq);
        f_u64(tb, s->has_task ? s->task : (uint64_t)t->tid);
        if (s->has_parent)
            f_u64(tb, s->parent);
        else
            f_null(tb);
        f_str(tb, text, s->name_len, 0);
        f_times(tb, s->ts, end, last_end);
        break;
    case S_RANGE:
        tb = row(C, T_RANGES, t->seq);
        f_owner(tb, ti);
        f_str(tb, text, s->name_len, 0);
        f_times(tb, s->ts, end, last_end);
        break;
    default:
        return NULL;
    }
    row_end(tb);
    return tb;
}

/* Describes the slice e begins in *s, but its text: its name (e->name),
 * then its reason (the returned arg's bytes, NULL: none). */
static const struct export_arg *slice_of(const struct export_event *e, uint64_t gen,
                                         struct open_slice *s)
{
    const struct export_arg *reason = NULL, *task = NULL, *parent = NULL;
    for (size_t i = 0; i < e->nargs; i++) { /* the first of each key */
        const struct export_arg *a = &e->args[i];
        if (!reason && IS_KEY(a, "reason"))
            reason = a;
        else if (!task && IS_KEY(a, "task"))
            task = a;
        else if (!parent && IS_KEY(a, "parent"))
            parent = a;
    }
    if (reason && !reason->str)
        reason = NULL;
    *s = (struct open_slice){.kind = kind_of(e->cat), .ts = e->ts,
                             .name_len = e->name ? e->name_len : 0, .name_ptr = e->name,
                             .gen = gen};
    if (reason) {
        s->has_reason = 1;
        s->reason_len = reason->len;
        s->reason_ptr = reason->str;
    }
    if (task && !task->str) {
        s->has_task = 1;
        s->task = task->u;
    }
    if (parent && !parent->str) {
        s->has_parent = 1;
        s->parent = parent->u;
    }
    return reason;
}

static void free_stack(struct open_stack *st)
{
    if (st) {
        free(st->s);
        free(st->text);
    }
    free(st);
}

/* ---- the sink ---------------------------------------------------------- */

static int done(struct csink *C)
{
    int failed = C->failed;
    for (int i = 0; i < T_COUNT; i++)
        failed |= C->t[i]->failed;
    return failed ? -1 : 0;
}

/* done() of a call that wrote table tb only (NULL: none): a table fails
 * (sticky) only when written, so the call that wrote it reports it. */
static int done_in(struct csink *C, const struct outbuf *tb)
{
    return C->failed || (tb && tb->failed) ? -1 : 0;
}

static int v_track(struct export_sink *s, const struct export_track *t)
{
    struct csink *C = (struct csink *)s;
    if (t->kind == EXPORT_TRACK_PROCESS) {
        if (t->seq >= C->ninputs) {
            unsigned n = t->seq + 1;
            struct trace_field *names = realloc(C->names, n * sizeof *names);
            struct u64map *stacks = realloc(C->stacks, n * sizeof *stacks);
            if (names)
                C->names = names;
            if (stacks)
                C->stacks = stacks;
            if (!names || !stacks)
                return -1;
            for (unsigned i = C->ninputs; i < n; i++) {
                C->names[i] = (struct trace_field){NULL, 0};
                memset(&C->stacks[i], 0, sizeof C->stacks[i]);
            }
            C->ninputs = n;
        }
        return trace_field(&C->names[t->seq], t->name) < 0 ? -1 : done(C);
    }
    if (t->kind == EXPORT_TRACK_COUNTER) {
        char *name = strdup(t->name);
        free(u64map_get_ptr(&C->counters, t->uuid));
        if (!name || u64map_put_ptr(&C->counters, t->uuid, name) < 0) {
            free(name);
            return -1;
        }
        return done(C);
    }
    if (t->kind != EXPORT_TRACK_THREAD)
        return done(C);
    struct thread_info *ti = u64map_get_ptr(&C->threads, t->uuid);
    if (!ti) {
        ti = calloc(1, sizeof *ti);
        if (!ti || u64map_put_ptr(&C->threads, t->uuid, ti) < 0) {
            free(ti);
            return -1;
        }
        ti->gid = (uint64_t)t->tid;
        ti->seq = t->seq;
        ti->start = t->ts;
    }
    char *name = strdup(t->name);
    if (!name)
        return -1;
    free(ti->name);
    ti->name = name;
    return done(C);
}

static uint64_t stack_id(struct csink *C, const struct export_event *e);

/* The stack of open slices of track t, made if new; NULL when out of
 * memory. */
static struct open_stack *open_stack(struct csink *C, const struct export_track *t)
{
    uint64_t v;
    if (u64memo_get(&C->open_memo, &C->open, t->uuid, &v))
        return (struct open_stack *)(uintptr_t)v;
    struct open_stack *st = calloc(1, sizeof *st);
    if (!st || u64map_put_ptr(&C->open, t->uuid, st) < 0) {
        free(st);
        return NULL;
    }
    /* Its goroutine: declared before any slice on its tracks (the timeline
     * declares a goroutine's thread track first), gone after them
     * (track_done: the thread track last). */
    st->owner = owner(C, t);
    return st;
}

static int v_begin(struct export_sink *s, const struct export_event *e)
{
    struct csink *C = (struct csink *)s;
    struct open_stack *st = open_stack(C, e->track);
    if (!st || grow(&st->s, &st->cap, st->n + 1, sizeof *st->s) < 0)
        return -1;
    struct open_slice *sl = &st->s[st->n];
    const struct export_arg *reason = slice_of(e, C->fields.gen, sl);
    size_t len = sl->name_len + sl->reason_len;
    if (grow(&st->text, &st->text_cap, st->text_len + len, 1) < 0)
        return -1;
    sl->text = st->text_len;
    if (sl->name_len)
        memcpy(st->text + st->text_len, e->name, sl->name_len);
    if (reason && reason->len)
        memcpy(st->text + st->text_len + sl->name_len, reason->str, reason->len);
    st->text_len += len;
    sl->stack_id = stack_id(C, e); /* where a goroutine blocked */
    st->n++;
    return done_in(C, C->t[T_STACKS]);
}

static int v_end(struct export_sink *s, const struct export_event *e)
{
    struct csink *C = (struct csink *)s;
    uint64_t v;
    struct open_stack *st = u64memo_get(&C->open_memo, &C->open, e->track->uuid, &v)
                                ? (struct open_stack *)(uintptr_t)v : NULL;
    if (!st || !st->n)
        return done_in(C, NULL); /* the timeline never ends what it did not begin */
    const struct open_slice *sl = &st->s[--st->n];
    /* No text yet when every name so far was empty: no offset into NULL. */
    const char *text = st->text ? st->text + sl->text : "";
    struct outbuf *tb = slice_row(C, e->track, st->owner, sl, text, st->n, e->ts, &st->last_end);
    st->text_len = sl->text;
    return done_in(C, tb); /* the track's stack is kept until track_done */
}

static int v_complete(struct export_sink *s, const struct export_event *e, int64_t dur)
{
    struct csink *C = (struct csink *)s;
    struct open_slice sl;
    const struct export_arg *reason = slice_of(e, C->fields.gen, &sl);
    char *text = malloc(sl.name_len + sl.reason_len + 1);
    if (!text)
        return -1;
    if (sl.name_len)
        memcpy(text, e->name, sl.name_len);
    if (reason && reason->len)
        memcpy(text + sl.name_len, reason->str, reason->len);
    /* A region begun before the trace encloses the goroutine's open ones:
     * it is the outermost. */
    slice_row(C, e->track, owner(C, e->track), &sl, text, 0, e->ts + dur, NULL);
    free(text);
    return done(C);
}

/* The id of the stack of a sample, its frames written the first time it
 * is seen in its input's generation; 0 for no stack. */
static uint64_t stack_id(struct csink *C, const struct export_event *e)
{
    if (!e->nframes)
        return 0;
    unsigned seq = e->track->seq;
    if (seq >= C->ninputs)
        return 0;
    uint64_t *known = u64map_get(&C->stacks[seq], e->stack_key);
    if (known)
        return *known;
    uint64_t id = ++C->next_stack;
    if (u64map_put(&C->stacks[seq], e->stack_key, id) < 0) {
        C->failed = 1;
        return 0;
    }
    for (size_t i = 0; i < e->nframes; i++) {
        const struct ctrace_frame *fr = &e->frames[i];
        struct outbuf *tb = row(C, T_STACKS, seq);
        f_u64(tb, id);
        f_u64(tb, i);
        f_str(tb, fr->func.ptr, fr->func.len, 0);
        f_str(tb, fr->file.ptr, fr->file.len, 0);
        f_u64(tb, fr->line);
        row_end(tb);
    }
    return id;
}

static int v_instant(struct export_sink *s, const struct export_event *e)
{
    struct csink *C = (struct csink *)s;
    struct outbuf *tb;
    if (e->cat == EXPORT_CAT_LOG) {
        const struct export_arg *task = ARG(e, "task"), *cat = ARG(e, "category"),
                                *msg = ARG(e, "message");
        tb = row(C, T_LOGS, e->track->seq);
        f_i64(tb, e->ts, 0);
        f_thread(C, tb, e->track);
        f_u64(tb, task ? task->u : 0);
        f_str(tb, cat && cat->str ? cat->str : "", cat && cat->str ? cat->len : 0, 0);
        f_str(tb, msg && msg->str ? msg->str : "", msg && msg->str ? msg->len : 0, 0);
        row_end(tb);
    } else if (e->cat == EXPORT_CAT_CPU) {
        uint64_t id = stack_id(C, e);
        tb = row(C, T_SAMPLES, e->track->seq);
        f_i64(tb, e->ts, 0);
        f_thread(C, tb, e->track);
        if (id)
            f_u64(tb, id);
        else
            f_null(tb);
        row_end(tb);
    }
    /* Unblock instants (the flows' starts) are in states.csv already: the
     * wakee's blocked row ends there. */
    return done(C);
}

static int v_counter(struct export_sink *s, const struct export_track *t, int64_t ts,
                     int64_t value)
{
    struct csink *C = (struct csink *)s;
    const char *name = u64map_get_ptr(&C->counters, t->uuid);
    struct outbuf *tb = row(C, T_METRICS, t->seq);
    f_i64(tb, ts, 0);
    f_cstr(tb, name ? name : "", 0);
    f_i64(tb, value, 0);
    row_end(tb);
    return done(C);
}

static void v_generation(struct export_sink *s, unsigned seq)
{
    struct csink *C = (struct csink *)s;
    if (seq < C->ninputs)
        u64map_clear(&C->stacks[seq]); /* stack keys are per generation */
    /* The fields go with the strings (of any input: they are not told
     * apart). */
    C->fields.gen++;
    addrtext_clear(&C->fields.state);
    addrtext_clear(&C->fields.text);
}

static void v_track_done(struct export_sink *s, const struct export_track *t, int64_t ts)
{
    struct csink *C = (struct csink *)s;
    free_stack(u64map_take_ptr(&C->open, t->uuid));
    u64memo_forget(&C->open_memo, t->uuid);
    struct thread_info *ti = u64map_take_ptr(&C->threads, t->uuid);
    if (!ti)
        return;
    struct outbuf *tb = row(C, T_THREADS, ti->seq);
    f_u64(tb, ti->gid);
    f_cstr(tb, ti->name ? ti->name : "", 0);
    f_i64(tb, ti->start, 0);
    f_i64(tb, ts, 0);
    row_end(tb);
    free(ti->name);
    free(ti);
}

static int v_finish(struct export_sink *s)
{
    struct csink *C = (struct csink *)s;
    for (int i = 0; i < T_COUNT; i++) {
        outbuf_flush(C->t[i]);
        if (fclose(C->t[i]->f) != 0)
            C->failed = 1;
        C->t[i]->f = NULL;
    }
    return done(C);
}

static void v_destroy(struct export_sink *s)
{
    struct csink *C = (struct csink *)s;
    uint64_t k;
    void *v;
    for (size_t i = 0; u64map_next_ptr(&C->open, &i, &k, &v);)
        free_stack(v);
    for (size_t i = 0; u64map_next_ptr(&C->threads, &i, &k, &v);) {
        free(((struct thread_info *)v)->name);
        free(v);
    }
    for (size_t i = 0; u64map_next_ptr(&C->counters, &i, &k, &v);)
        free(v);
    u64map_free(&C->open);
    u64map_free(&C->threads);
    u64map_free(&C->counters);
    for (unsigned i = 0; i < C->ninputs; i++) {
        u64map_free(&C->stacks[i]);
        free(C->names[i].s);
    }
    free(C->stacks);
    free(C->names);
    addrtext_free(&C->fields.state);
    addrtext_free(&C->fields.text);
    free(C->fields.scratch);
    for (int i = 0; i < T_COUNT; i++) {
        if (C->t[i] && C->t[i]->f)
            fclose(C->t[i]->f);
        free(C->t[i]);
    }
    free(C);
}

struct export_sink *export_csv_sink(const char *dir, FILE *errf)
{
    struct stat sb;
    if (mkdir(dir, 0777) != 0 && (errno != EEXIST || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        fprintf(errf, "ctrace export: cannot create the directory %s: %s\n", dir,
                errno == EEXIST ? "a file of that name exists" : strerror(errno));
        return NULL;
    }
    struct csink *C = calloc(1, sizeof *C);
    if (!C) {
        fprintf(errf, "ctrace export: out of memory\n");
        return NULL;
    }
    C->errf = errf;
    C->base = (struct export_sink){v_track, v_begin, v_end, v_complete, v_instant, v_counter,
                                   v_generation, v_finish, v_destroy, v_track_done, NULL,
                                   EXPORT_SINK_STATE_STACKS};
    for (int i = 0; i < T_COUNT; i++) {
        size_t n = strlen(dir) + strlen(table_def[i].file) + 2;
        char *path = malloc(n);
        C->t[i] = calloc(1, sizeof *C->t[i]);
        if (path)
            snprintf(path, n, "%s/%s", dir, table_def[i].file);
        if (!path || !C->t[i] || !(C->t[i]->f = fopen(path, "w"))) {
            fprintf(errf, "ctrace export: cannot create %s: %s\n", path ? path : dir,
                    strerror(errno));
            free(path);
            v_destroy(&C->base);
            return NULL;
        }
        free(path);
        setvbuf(C->t[i]->f, NULL, _IONBF, 0); /* written in blocks (outbuf.h) */
        outbuf_bytes(C->t[i], table_def[i].header, strlen(table_def[i].header));
        row_end(C->t[i]);
    }
    return &C->base;
}
