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
 *    stack of open slices, an array and the heads of their rows, reused
 *    slice after slice (dropped at track_done); per live goroutine, its
 *    name and start (dropped at track_done, when its row is written);
 *    per input, the stack ids of the current generation (dropped at each
 *    generation: a stack seen again in a later one gets a new id); the
 *    state columns of states seen (struct state_text: a table of fixed
 *    size, emptied at every generation); the names of the inputs (their
 *    trace column, quoted once) and of the metrics.
 *  - stack_id is unique over the whole output; stacks.csv holds each
 *    stack once per generation of its input, written when first seen (a
 *    CPU sample's stack, or where a goroutine blocked or entered a
 *    syscall: states.csv), so every stack_id in samples.csv and
 *    states.csv has its frames in stacks.csv.
 *  - Times are nanoseconds since the first event of all inputs, durations
 *    are end - start: sums of dur_ns are the times `ctrace stat` reports.
 *  - A slice's row is made in two pieces, so that its end only copies and
 *    writes two numbers: its head, every column up to its start's with
 *    the separator after it, is made at its begin, on top of its track's
 *    stack of heads (the track's prefix -- its trace and thread columns,
 *    the same in every row of the track, made once when the track is first
 *    seen and kept at the start of the heads -- then the slice's own
 *    columns, then its start); its end copies the head into the table and
 *    writes end_ns and dur_ns, with one room check.  What a column's text
 *    depends on is known at the begin: the track's goroutine and input
 *    (fixed for the track), the slice's name, reason, task, parent, stack
 *    and depth.  A time is written from a kept text (outbuf.h:
 *    outbuf_num_put): its digits above the last four copied when they
 *    are the kept ones', the last four written at the row.
 *  - Texts of csv's own (a head, a prefix, a time) are copied in moves of
 *    a fixed size (put_own, TIME_MOVE), past their end: each has that
 *    much readable after its start (head_max, make_prefix), and every
 *    room checked for them counts that much.
 *  - The sink takes EXPORT_SINK_END_FIRST: the end of a goroutine's state
 *    slice comes with the call after it (sink.h: end_first), the next
 *    state's begin on its track or its waker's unblock instant.  The ended
 *    row is written first, as slice_end would have (end_top), so each
 *    table's rows, and the time text the next time is written from, are
 *    those of the two calls; on the same track, the begin's stack serves
 *    both (a call and a lookup less per transition).
 */
#include "addrmemo.h"
#include "grow.h"
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
    struct outbuf *table; /* of its row (its kind's); NULL: S_OTHER, no row, no head */
    int64_t ts;
    size_t head; /* where its row's head starts in its stack's heads */
};

/* The args of a slice_begin that its row shows (the first of each key;
 * NULL: none, or not of the kind the column takes). */
struct slice_args {
    const struct export_arg *reason, *task, *parent;
};

/* Quoted fields (put_str's bytes, without a separator) of the names and
 * reasons of the current generation, found by the string's address
 * (addrmemo.h), so that a field is quoted once per generation rather than
 * at every row.  A string longer than FIELD_MAX is quoted at its row. */
#define FIELD_MAX 256 /* its field is 3 * 256 + 2 bytes at most */
struct fields {
    /* of the state column (the name up to its ':') in state, of the
     * string in text */
    struct addrtext state, text;
};

/* The state, reason and stack_id columns of state slices' rows, with
 * their separators ("blocked","chan send",6,), kept for the generation and
 * found by what they are made of: the name's and the reason's addresses
 * (sink.h: they name one string until the generation) and the stack's key
 * in its input.  A goroutine's states are a few such triples, again and
 * again, so a state's head is mostly one lookup and one move rather than
 * two fields, a stack lookup and a number.  Two ways a set (a miss is
 * only a miss: the columns are made and put in the set's first way, whose
 * text moves to the second): the slot comes from addresses, and with one
 * way two hot states whose addresses met in a slot ("running" and
 * "runnable", say) missed at every row, by the chance of the binary's
 * layout (callgrind big20: 0 or 327 K misses of 3.4 M begins).  A text
 * longer than STATE_TEXT_MAX is made at its row. */
#define STATE_MEMO_BITS 7
#define STATE_TEXT_MAX 64 /* all of text is moved, however short */
struct state_text {
    const char *name, *reason;
    size_t name_len, reason_len;
    uint64_t stack_key;
    unsigned stack; /* 1: none; else the stack's input + 2; 0: an empty slot */
    unsigned len;      /* of text */
    char text[STATE_TEXT_MAX];
};

/* The start of every row of a track: its trace column and, but in a
 * task's row, its thread column, each with its separator. */
struct row_prefix {
    char *s;
    size_t len, trace_len; /* trace_len: of the trace column and its ',' */
};

/* The text of the last time a slice's row was given (put_time), in
 * decimal (outbuf.h: struct outbuf_num).  Times come in order (sink.h),
 * close together: a slice mostly starts when the one before it on its
 * track ended (a goroutine's states follow each other), at the time just
 * written, and a time mostly has all but its last 4 digits in common with
 * the one before. */
#define TIME_MOVE OUTBUF_NUM_MOVE /* bytes moved for a time's text */

struct thread_info {
    uint64_t gid;
    unsigned seq;
    int64_t start;
    char *name;
};

/* The open slices of a track, innermost last, and the heads of their rows
 * in the order begun (so a slice's end gives back its head's room too).
 * heads starts with the track's prefix, kept there: the head of a slice
 * opened on an empty track (but a task's, whose prefix is shorter) starts
 * at 0, on it, and needs no copy of it (most slices: a goroutine's states
 * do not nest). */
struct open_stack {
    struct open_slice *s;
    size_t n, cap;
    char *heads;
    size_t heads_len, heads_cap; /* heads_len >= prefix.len */
    struct row_prefix prefix; /* of the track's goroutine (owner()) */
};

/* An input's trace column: its name, quoted. */
struct trace_field {
    char *s;
    size_t len;
};

struct csink {
    struct export_sink base;
    FILE *errf;
    /* Out of memory, or a write error of a table of slices (put_row) or of
     * stacks.csv (stack_id), set where it is written: the calls that
     * write only those check this flag alone. */
    int failed;
    struct outbuf *t[T_COUNT];
    struct u64map open;     /* track uuid -> struct open_stack */
    struct u64memo open_memo; /* in front of open */
    /* The stack of the last slice_end's track, whose next slice mostly
     * begins right after (a state follows a state); NULL: none. */
    struct open_stack *last_st;
    uint64_t last_uuid;
    struct u64map threads;  /* thread track uuid -> struct thread_info */
    struct u64map counters; /* counter track uuid -> char * name */
    struct u64map *stacks;  /* per input: stack key -> stack_id */
    struct trace_field *names; /* per input: its trace column */
    struct fields fields;
    struct state_text states[1 << STATE_MEMO_BITS];
    struct outbuf_num time; /* put_time's */
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

/* The quoting of text fields (RFC 4180), into valid UTF-8: the bytes from
 * *p (within end) up to the end of its next word of 8 bytes (utf8.h), or
 * a UTF-8 sequence that starts in that word, quoted at d, a word at a time
 * where the text is plain ASCII, else a byte or a sequence at a time; *p
 * moved past them.  Returns the end of what it wrote: at most 3 bytes for
 * each byte read (U+FFFD for a byte that is not valid UTF-8, and for NUL;
 * "" for "). */
static char *quote_word(char *d, const unsigned char **pp, const unsigned char *end)
{
    static const char replacement[] = "\xef\xbf\xbd";
    const unsigned char *p = *pp;
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
    *pp = p;
    return d;
}

/* The quoted field of s[0..n) at d, which has room for 3 * n + 2 bytes;
 * returns its end. */
static char *put_str(char *d, const char *s, size_t n)
{
    *d++ = '"';
    if (n) { /* s may be NULL then */
        const unsigned char *p = (const unsigned char *)s, *end = p + n;
        while (p < end)
            d = quote_word(d, &p, end);
    }
    *d++ = '"';
    return d;
}

/* A quoted text field into a table, preceded by a separator unless first:
 * in place, the room for the next word's worst case (quote_word: 8 bytes,
 * and a sequence begun in them, 3 each) made before it. */
static void f_str(struct outbuf *t, const char *s, size_t n, int first)
{
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
        d = quote_word(d, &p, end);
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

static void f_thread(struct csink *C, struct outbuf *tb, const struct export_track *t)
{
    f_owner(tb, owner(C, t));
}

/* d[0..n) = s[0..n), returns d + n: fixed moves for the short texts of a
 * row (its fields), a memcpy call for the rest. */
static inline __attribute__((always_inline)) char *put_text(char *d, const char *s, size_t n)
{
    if (n <= 64)
        outbuf_copy64(d, s, n);
    else
        memcpy(d, s, n);
    return d + n;
}

/* A text of csv's own, n bytes readable from s and writable at d however
 * short it is (SLACK), copied to d: in 4 moves of 16 bytes when n <= 64 (a
 * row's head, a track's prefix), else by memcpy; returns d + n. */
#define SLACK 64
_Static_assert(STATE_TEXT_MAX <= SLACK, "head_max counts a state's moved columns in SLACK");
static inline __attribute__((always_inline)) char *put_own(char *d, const char *s, size_t n)
{
    if (n <= SLACK)
        memcpy(d, s, SLACK);
    else
        memcpy(d, s, n);
    return d + n;
}

/* The prefix of the rows on a track of goroutine ti (NULL: none) of input
 * seq, made in *p; 0, or -1 when out of memory. */
static int make_prefix(struct csink *C, unsigned seq, const struct thread_info *ti,
                       struct row_prefix *p)
{
    const char *trace = "\"\"";
    size_t trace_len = 2;
    if (seq < C->ninputs && C->names[seq].s) {
        trace = C->names[seq].s;
        trace_len = C->names[seq].len;
    }
    char *s = malloc(trace_len + 1 + 20 + 1 + SLACK); /* read by put_own */
    if (!s)
        return -1;
    memcpy(s, trace, trace_len);
    char *d = s + trace_len;
    *d++ = ',';
    p->trace_len = (size_t)(d - s);
    if (ti)
        d = outbuf_put_u64(d, ti->gid);
    *d++ = ',';
    p->s = s;
    p->len = (size_t)(d - s);
    return 0;
}

/* field_of's miss: quotes the field and keeps it in t. */
static __attribute__((noinline)) const char *field_made(struct addrtext *t, const char *s,
                                                         size_t n, int state, size_t *flen)
{
    char field[3 * FIELD_MAX + 2];
    const char *colon = state ? memchr(s, ':', n) : NULL;
    *flen = (size_t)(put_str(field, s, colon ? (size_t)(colon - s) : n) - field);
    return addrtext_put(t, s, n, field, *flen);
}

/* The quoted field of s[0..n), a string of the current generation (of the
 * state column: s up to its ':' if state), its length in *flen; valid
 * until the next call.  NULL when it is not kept (too long, out of memory). */
static inline const char *field_of(struct csink *C, const char *s, size_t n, int state,
                                   size_t *flen)
{
    struct fields *F = &C->fields;
    struct addrtext *t = state ? &F->state : &F->text;
    if (!s || n > FIELD_MAX)
        return NULL;
    const char *f = addrtext_get(t, s, n, flen);
    return f ? f : field_made(t, s, n, state, flen);
}

/* The text field of s[0..n) (of the state column if state) at d, which
 * has room for 3 * n + 2 bytes, then a separator; returns the end.  Inline
 * (as put_head and put_row): a call's saved registers cost as much as a
 * field. */
static inline __attribute__((always_inline)) char *put_field(struct csink *C, char *d,
                                                             const char *s, size_t n, int state)
{
    size_t flen;
    const char *f = field_of(C, s, n, state, &flen);
    if (f) {
        d = put_text(d, f, flen);
    } else {
        const char *colon = state && n ? memchr(s, ':', n) : NULL;
        d = put_str(d, s, colon ? (size_t)(colon - s) : n);
    }
    *d++ = ',';
    return d;
}

/* Writes time v at d (room for TIME_MOVE bytes) from the text *last keeps
 * (outbuf.h: outbuf_num_put); returns the end.  The text is moved
 * TIME_MOVE bytes at a time, whatever its length. */
static inline __attribute__((always_inline)) char *put_time(struct outbuf_num *last, char *d,
                                                            int64_t v)
{
    if (v < 0) /* never (sink.h): written, not kept */
        return outbuf_put_i64(d, v);
    return outbuf_num_put(last, d, (uint64_t)v);
}

/* The args of e that its row shows. */
static inline void args_of(const struct export_event *e, struct slice_args *a)
{
    const struct export_arg *reason = NULL, *task = NULL, *parent = NULL;
    for (size_t i = 0; i < e->nargs; i++) { /* the first of each key */
        const struct export_arg *x = &e->args[i];
        if (!reason && IS_KEY(x, "reason"))
            reason = x;
        else if (!task && IS_KEY(x, "task"))
            task = x;
        else if (!parent && IS_KEY(x, "parent"))
            parent = x;
    }
    a->reason = reason && reason->str ? reason : NULL;
    a->task = task && !task->str ? task : NULL;
    a->parent = parent && !parent->str ? parent : NULL;
}

/* The room put_head needs for the head of e's row (with prefix p): its
 * texts quoted at 3 bytes a byte at most, 3 numbers, a start and the
 * slack of its moves (SLACK, TIME_MOVE; a state's kept columns, moved
 * STATE_TEXT_MAX bytes, within SLACK).  At least SLACK: put_row reads
 * SLACK bytes of a head however short. */
static size_t head_max(const struct row_prefix *p, const struct export_event *e,
                       const struct slice_args *a)
{
    size_t texts = (e->name ? e->name_len : 0) + (a->reason ? a->reason->len : 0);
    return p->len + SLACK + 3 * texts + 2 * 2 + 3 * 21 + TIME_MOVE + 1;
}

/* How much of prefix p starts a row of a slice of kind k. */
static inline size_t prefix_len(const struct row_prefix *p, enum slice_kind k)
{
    return k == S_TASK ? p->trace_len : p->len;
}

/* Writes at d the state, reason and stack_id columns of the row of a state
 * slice named name[0..name_len) (reason: its arg, NULL: none; stack: its
 * stack's id, 0: none), each with its separator; returns the end.  The
 * room is head_max()'s. */
static inline __attribute__((always_inline)) char *
put_state_cols(struct csink *C, char *d, const char *name, size_t name_len,
               const struct export_arg *reason, uint64_t stack)
{
    /* "blocked: REASON" is state "blocked" with its reason */
    d = put_field(C, d, name, name_len, 1);
    if (reason)
        d = put_field(C, d, reason->str, reason->len, 0);
    else
        *d++ = ',';
    if (stack)
        d = outbuf_put_u64(d, stack);
    *d++ = ',';
    return d;
}

static uint64_t stack_id(struct csink *C, const struct export_event *e);

/* The set (its first way) of state_text of a name, a reason and a stack
 * key. */
static inline size_t state_set(const char *name, const char *reason, uint64_t stack_key)
{
    uint64_t h = ((uintptr_t)name ^ (uintptr_t)reason << 1 ^ stack_key) * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> (64 - STATE_MEMO_BITS)) & ~(size_t)1;
}

/* Whether m holds the columns of e with that reason and stack. */
static inline int state_text_is(const struct state_text *m, const struct export_event *e,
                                const char *r, size_t r_len, uint64_t stack_key, unsigned stack)
{
    return m->name == e->name && m->name_len == e->name_len && m->reason == r &&
           m->reason_len == r_len && m->stack_key == stack_key && m->stack == stack;
}

/* state_cols' miss: makes the columns at d (the stack's rows written if
 * it is new: stack_id) and keeps them in m. */
static __attribute__((noinline)) char *state_cols_made(struct csink *C, char *d,
                                                        const struct export_event *e,
                                                        const struct export_arg *reason,
                                                        unsigned stack, struct state_text *m)
{
    char *cols = d;
    d = put_state_cols(C, d, e->name, e->name ? e->name_len : 0, reason,
                       stack > 1 ? stack_id(C, e) : 0);
    size_t n = (size_t)(d - cols);
    if (n <= STATE_TEXT_MAX && !C->failed) { /* failed: a stack not kept */
        m[1] = m[0];
        *m = (struct state_text){e->name,   reason ? reason->str : NULL,
                                 e->name_len, reason ? reason->len : 0,
                                 stack > 1 ? e->stack_key : 0, stack, (unsigned)n, {0}};
        memcpy(m->text, cols, n);
    }
    return d;
}

/* The state, reason and stack_id columns of the row of state slice e (its
 * reason: NULL, none; its stack shown if stacks: a begin's) at d, with
 * their separators, from C->states; returns the end.  The room is
 * head_max()'s. */
static inline __attribute__((always_inline)) char *state_cols(struct csink *C, char *d,
                                                              const struct export_event *e,
                                                              const struct export_arg *reason,
                                                              int stacks)
{
    const char *r = reason ? reason->str : NULL;
    size_t r_len = reason ? reason->len : 0;
    unsigned stack = stacks && e->nframes ? e->track->seq + 2 : 1;
    uint64_t stack_key = stack > 1 ? e->stack_key : 0;
    struct state_text *m = &C->states[state_set(e->name, r, stack_key)];
    if (!state_text_is(m, e, r, r_len, stack_key, stack))
        m++;
    if (state_text_is(m, e, r, r_len, stack_key, stack)) {
        /* all of text, in moves of 16 bytes (a memcpy of it, from an
         * aligned source, became a rep movs) */
        memcpy(d, m->text, 16);
        memcpy(d + 16, m->text + 16, 16);
        memcpy(d + 32, m->text + 32, 16);
        memcpy(d + 48, m->text + 48, 16);
        return d + m->len;
    }
    return state_cols_made(C, d, e, reason, stack, m - 1);
}

/* Writes at d, after the prefix of its head, the columns of the row of
 * the slice e begins, of kind k (not S_OTHER), up to its start (its
 * stack's id if stacks, a begin's; depth: the slices open under it on its
 * track), each with its separator; returns their end.  The head's room is
 * head_max(). */
static inline __attribute__((always_inline)) char *
put_head(struct csink *C, char *d, const struct export_event *e, enum slice_kind k,
         const struct slice_args *a, uint64_t depth, int stacks)
{
    const char *name = e->name;
    size_t name_len = name ? e->name_len : 0;
    switch (k) {
    case S_STATE:
        d = state_cols(C, d, e, a->reason, stacks);
        break;
    case S_REGION:
        d = put_field(C, d, name, name_len, 0);
        d = outbuf_put_u64(d, a->task ? a->task->u : 0); /* 0: the background task */
        *d++ = ',';
        d = outbuf_put_u64(d, depth);
        *d++ = ',';
        break;
    case S_TASK:
        d = outbuf_put_u64(d, a->task ? a->task->u : (uint64_t)e->track->tid);
        *d++ = ',';
        if (a->parent)
            d = outbuf_put_u64(d, a->parent->u);
        *d++ = ',';
        d = put_field(C, d, name, name_len, 0);
        break;
    default: /* S_RANGE */
        d = put_field(C, d, name, name_len, 0);
        break;
    }
    return d;
}

/* The start ts of a row at d and a separator: the end of its head. */
static inline __attribute__((always_inline)) char *put_start(struct csink *C, char *d, int64_t ts)
{
    d = put_time(&C->time, d, ts);
    *d++ = ',';
    return d;
}

/* The table of a slice kind's rows. */
static enum table_id table_of(enum slice_kind k)
{
    switch (k) {
    case S_STATE: return T_STATES;
    case S_REGION: return T_REGIONS;
    case S_TASK: return T_TASKS;
    default: return T_RANGES;
    }
}

/* The room of a row after its head: end_ns (put_time's TIME_MOVE), dur_ns
 * (a sign and 19 digits), their separator and the line's end. */
#define ROW_TAIL_MAX (TIME_MOVE + 20 + 2)

/* Writes into table tb (a slice kind's: table_of) the row of a slice
 * begun at start, its head head[0..n) (put_head's: SLACK bytes readable),
 * that ends at end.  A write error is C->failed. */
static inline __attribute__((always_inline)) void put_row(struct csink *C, struct outbuf *tb,
                                                          const char *head, size_t n,
                                                          int64_t start, int64_t end)
{
    if (tb->len + SLACK + n + ROW_TAIL_MAX > sizeof tb->buf) {
        outbuf_flush(tb);
        if (SLACK + n + ROW_TAIL_MAX > sizeof tb->buf) { /* a head of huge names */
            outbuf_bytes(tb, head, n);
            outbuf_flush(tb);
            n = 0;
        }
        if (tb->failed)
            C->failed = 1;
    }
    char *d = put_own(tb->buf + tb->len, head, n);
    char *e = put_time(&C->time, d, end);
    *e++ = ',';
    e = outbuf_put_i64(e, end - start);
    *e++ = '\n';
    tb->len = (size_t)(e - tb->buf);
}

static void free_stack(struct open_stack *st)
{
    if (st) {
        free(st->s);
        free(st->heads);
        free(st->prefix.s);
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

/* done() of a call that wrote table tb (and maybe the tables whose errors
 * are C->failed): a table fails (sticky) only when written, so the call
 * that wrote it reports it. */
static int done_in(struct csink *C, const struct outbuf *tb)
{
    return C->failed || tb->failed ? -1 : 0;
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

/* The stack of open slices of track t, made if new; NULL when out of
 * memory. */
static struct open_stack *open_stack(struct csink *C, const struct export_track *t)
{
    uint64_t v;
    if (u64memo_get(&C->open_memo, &C->open, t->uuid, &v))
        return (struct open_stack *)(uintptr_t)v;
    struct open_stack *st = calloc(1, sizeof *st);
    /* Its goroutine: declared before any slice on its tracks (the timeline
     * declares a goroutine's thread track first), gone after them
     * (track_done: the thread track last). */
    if (!st || make_prefix(C, t->seq, owner(C, t), &st->prefix) < 0 ||
        RESERVE(st->heads, st->prefix.len + SLACK, st->heads_cap) < 0 ||
        u64map_put_ptr(&C->open, t->uuid, st) < 0) {
        free_stack(st);
        return NULL;
    }
    memcpy(st->heads, st->prefix.s, st->prefix.len);
    st->heads_len = st->prefix.len;
    return st;
}

/* Ends the innermost open slice of st (a track's stack) at ts: writes its
 * row, if it has one (and one is open: the timeline never ends what it
 * did not begin). */
static inline __attribute__((always_inline)) void end_top(struct csink *C, struct open_stack *st,
                                                          int64_t ts)
{
    if (!st->n)
        return;
    const struct open_slice *sl = &st->s[--st->n];
    if (!sl->table) /* S_OTHER */
        return;
    put_row(C, sl->table, st->heads + sl->head, st->heads_len - sl->head, sl->ts, ts);
    st->heads_len = sl->head ? sl->head : st->prefix.len; /* 0: on the kept prefix */
    /* the track's stack is kept until track_done */
}

/* end_top() on track t (a slice_end's, or an end_first on another track
 * than its call's), which becomes the last ended (C->last_st). */
static inline __attribute__((always_inline)) void end_on(struct csink *C,
                                                         const struct export_track *t, int64_t ts)
{
    uint64_t v;
    if (!u64memo_get(&C->open_memo, &C->open, t->uuid, &v))
        return;
    struct open_stack *st = (struct open_stack *)(uintptr_t)v;
    C->last_st = st;
    C->last_uuid = t->uuid;
    end_top(C, st, ts);
}

/* Starts the head of the row of slice sl, of kind k, opened on st (not
 * counted in st->n yet), with room for `room` bytes (head_max()): its
 * prefix, on the one kept at 0 if st is empty (but a task's, whose prefix
 * is shorter).  Returns where its own columns go, NULL when out of
 * memory. */
static inline __attribute__((always_inline)) char *head_start(struct open_stack *st,
                                                              struct open_slice *sl,
                                                              enum slice_kind k, size_t room)
{
    if (RESERVE(st->heads, st->heads_len + room, st->heads_cap) < 0)
        return NULL;
    char *d = st->heads + st->heads_len;
    sl->head = st->heads_len;
    if (st->n == 0 && k != S_TASK)
        sl->head = 0;
    else
        d = put_own(d, st->prefix.s, prefix_len(&st->prefix, k));
    return d;
}

/* v_begin of a slice not a state (sl: its open slice, ts set). */
static __attribute__((noinline)) int begin_other(struct csink *C, struct open_stack *st,
                                                 struct open_slice *sl,
                                                 const struct export_event *e)
{
    struct slice_args a;
    args_of(e, &a);
    enum slice_kind k = kind_of(e->cat);
    sl->table = k == S_OTHER ? NULL : C->t[table_of(k)];
    sl->head = st->heads_len;
    /* A state's stack (where a goroutine blocked) is looked up with its
     * columns (state_cols); another slice's stack is not shown, but
     * stacks.csv has it all the same. */
    if (e->nframes)
        stack_id(C, e);
    if (k != S_OTHER) {
        char *d = head_start(st, sl, k, head_max(&st->prefix, e, &a));
        if (!d)
            return -1;
        d = put_head(C, d, e, k, &a, st->n, 1);
        st->heads_len = (size_t)(put_start(C, d, e->ts) - st->heads);
    }
    return 0;
}

static int v_begin(struct export_sink *s, const struct export_event *e)
{
    struct csink *C = (struct csink *)s;
    struct open_stack *st = e->track->uuid == C->last_uuid ? C->last_st : open_stack(C, e->track);
    if (!st)
        return -1;
    /* The slice that ends right before this one (sink.h: end_first), its
     * row first, as slice_end would have written it: on this track (a
     * goroutine's state after its last), with the stack just found. */
    if (e->end_first == e->track) {
        end_top(C, st, e->ts);
        C->last_st = st;
        C->last_uuid = e->track->uuid;
    } else if (e->end_first) {
        end_on(C, e->end_first, e->ts);
    }
    if (GROW(st->s, st->n, st->cap) < 0)
        return -1;
    struct open_slice *sl = &st->s[st->n];
    sl->ts = e->ts;
    if (e->cat == EXPORT_CAT_STATE) { /* most begins; of its args a state shows its reason */
        const struct export_arg *r = ARG(e, "reason");
        struct slice_args a = {r && r->str ? r : NULL, NULL, NULL};
        sl->table = C->t[T_STATES];
        char *d = head_start(st, sl, S_STATE, head_max(&st->prefix, e, &a));
        if (!d)
            return -1;
        d = state_cols(C, d, e, a.reason, 1);
        st->heads_len = (size_t)(put_start(C, d, e->ts) - st->heads);
    } else if (begin_other(C, st, sl, e) < 0) {
        return -1;
    }
    st->n++;
    return C->failed ? -1 : 0; /* (put_row, stack_id) */
}

static int v_end(struct export_sink *s, const struct export_event *e)
{
    struct csink *C = (struct csink *)s;
    end_on(C, e->track, e->ts);
    return C->failed ? -1 : 0; /* (put_row) */
}

static int v_complete(struct export_sink *s, const struct export_event *e, int64_t dur)
{
    struct csink *C = (struct csink *)s;
    enum slice_kind k = kind_of(e->cat);
    if (k == S_OTHER)
        return done(C);
    struct slice_args a;
    args_of(e, &a);
    struct row_prefix p;
    if (make_prefix(C, e->track->seq, owner(C, e->track), &p) < 0)
        return -1;
    char *head = malloc(head_max(&p, e, &a));
    if (!head) {
        free(p.s);
        return -1;
    }
    /* A region begun before the trace encloses the goroutine's open ones:
     * it is the outermost. */
    char *end = put_head(C, put_own(head, p.s, prefix_len(&p, k)), e, k, &a, 0, 0);
    end = put_start(C, end, e->ts);
    put_row(C, C->t[table_of(k)], head, (size_t)(end - head), e->ts, e->ts + dur);
    free(head);
    free(p.s);
    return done(C);
}

/* The id of the stack of a sample, its frames written the first time it
 * is seen in its input's generation (a write error: C->failed); 0 for no
 * stack. */
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
    if (C->t[T_STACKS]->failed)
        C->failed = 1;
    return id;
}

static int v_instant(struct export_sink *s, const struct export_event *e)
{
    struct csink *C = (struct csink *)s;
    struct outbuf *tb;
    /* The slice that ends right before it (sink.h: end_first): the
     * wakee's, at its waker's unblock instant. */
    if (e->end_first)
        end_on(C, e->end_first, e->ts);
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
        return done_in(C, tb);
    }
    if (e->cat == EXPORT_CAT_CPU) {
        uint64_t id = stack_id(C, e);
        tb = row(C, T_SAMPLES, e->track->seq);
        f_i64(tb, e->ts, 0);
        f_thread(C, tb, e->track);
        if (id)
            f_u64(tb, id);
        else
            f_null(tb);
        row_end(tb);
        return done(C); /* samples.csv and stacks.csv */
    }
    /* Unblock instants (the flows' starts) are in states.csv already: the
     * wakee's blocked row ends there. */
    return C->failed ? -1 : 0; /* (put_row) */
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
    addrtext_clear(&C->fields.state);
    addrtext_clear(&C->fields.text);
    memset(C->states, 0, sizeof C->states);
}

static void v_track_done(struct export_sink *s, const struct export_track *t, int64_t ts)
{
    struct csink *C = (struct csink *)s;
    free_stack(u64map_take_ptr(&C->open, t->uuid));
    u64memo_forget(&C->open_memo, t->uuid);
    if (C->last_uuid == t->uuid) {
        C->last_st = NULL;
        C->last_uuid = 0;
    }
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
                                   EXPORT_SINK_STATE_STACKS | EXPORT_SINK_END_FIRST | EXPORT_SINK_RELAY};
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
