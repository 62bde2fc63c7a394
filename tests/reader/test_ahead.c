/*
 * test_ahead.c TRACE-OR-DIR... - the fast step (src/reader/fast.h) and
 * reading ahead (ctrace_reader_read_ahead, src/reader/ahead.c) against
 * the reference reading (CTRACE_READER_REFERENCE: neither): on every trace given
 * (a directory: its *.trace files) and on mutations of each (bytes
 * flipped, the input cut, bytes deleted or repeated), the whole reading
 * must be the same with them as without them -- every event with
 * every field and string, the frames of its stacks, the answer of every
 * query after it (counts, bytes read, whole generations, frequency,
 * losses, error, the tasks it names), and the end: the code, the message
 * and the offset.  Each reading ahead is made with the default queue,
 * with tiny ones (one event a block, two blocks: the threads wait on each
 * other at every event) and from a stream (no mapping); some stop early,
 * which closes the reader with its thread running.
 *
 * Lifetimes: at each sync event, every string and frame handed out in the
 * generation is read again and must be unchanged (under ASan a freed or
 * reused one fails at once).
 *
 * Environment: N_MUT mutations per trace (default 40).
 */
#define _GNU_SOURCE
#include "ctrace_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Internal to the reader (the static library): the queue's shape. */
void rd_ahead_shape(ctrace_reader *r, size_t nblocks, size_t block_events);

static int failures;

/* ---- a growable text record of a reading ---- */

struct text { char *p; size_t n, cap; };

static void tput(struct text *t, const void *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        if (!t->p)
            abort();
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = 0;
}

static void tf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tf(struct text *t, const char *fmt, ...)
{
    /* Formats in place, growing the text when the first try does not fit. */
    for (int pass = 0; pass < 2; pass++) {
        size_t room = t->cap - t->n;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->cap ? t->p + t->n : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            abort();
        if ((size_t)n < room) {
            t->n += (size_t)n;
            return;
        }
        tput(t, "", 0);
        t->cap = t->cap + (size_t)n + 1;
        t->p = realloc(t->p, t->cap);
        if (!t->p)
            abort();
    }
}

static void tstr(struct text *t, const char *what, struct ctrace_str s)
{
    tf(t, " %s=%zu:", what, s.len);
    tput(t, s.ptr, s.len);
}

/* ---- what is handed out in a generation, to read again at its sync ---- */

struct kept { const char *ptr; size_t len; char *copy; };
struct keep { struct kept *v; size_t n, cap; };

static void keep(struct keep *k, const char *ptr, size_t len)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 256;
        k->v = realloc(k->v, k->cap * sizeof *k->v);
        if (!k->v)
            abort();
    }
    char *c = malloc(len + 1);
    memcpy(c, ptr, len);
    k->v[k->n++] = (struct kept){ptr, len, c};
}

static void keep_check(struct keep *k, const char *label, uint64_t gen)
{
    for (size_t i = 0; i < k->n; i++) {
        if (memcmp(k->v[i].ptr, k->v[i].copy, k->v[i].len) != 0 && failures < 20) {
            fprintf(stderr, "FAIL: %s: a string of generation %llu changed before its sync\n", label,
                    (unsigned long long)gen);
            failures++;
        }
        free(k->v[i].copy);
    }
    k->n = 0;
}

static void keep_str(struct keep *k, struct ctrace_str s)
{
    if (s.len)
        keep(k, s.ptr, s.len);
}

/* ---- one reading, recorded ---- */

static void stack(struct text *t, struct keep *k, ctrace_reader *r, uint64_t id)
{
    const struct ctrace_frame *f;
    size_t n = ctrace_reader_stack(r, id, &f);
    tf(t, " stack %llu[%zu]", (unsigned long long)id, n);
    for (size_t i = 0; i < n; i++) {
        tf(t, " %llx:%llu", (unsigned long long)f[i].pc, (unsigned long long)f[i].line);
        tstr(t, "fn", f[i].func);
        tstr(t, "file", f[i].file);
        keep_str(k, f[i].func);
        keep_str(k, f[i].file);
    }
}

static void task(struct text *t, ctrace_reader *r, uint64_t id)
{
    uint64_t parent = 7;
    struct ctrace_str name = {"?", 1};
    int on = ctrace_reader_task(r, id, &parent, &name);
    tf(t, " task %llu:%d", (unsigned long long)id, on);
    if (on) {
        tf(t, ",%llu", (unsigned long long)parent);
        tstr(t, "name", name);
    }
}

static void queries(struct text *t, ctrace_reader *r)
{
    uint64_t end = 1, off = 1;
    int64_t span = 1;
    uint64_t whole = ctrace_reader_complete(r, &end, &span);
    struct ctrace_losses l;
    ctrace_reader_losses(r, &l);
    const char *err = ctrace_reader_error(r, &off);
    tf(t, " | n=%llu gens=%llu bytes=%llu whole=%llu@%llu/%lld freq=%llu lost=%llu,%llu,%llu,%llu,%llu,%llu",
       (unsigned long long)ctrace_reader_event_count(r), (unsigned long long)ctrace_reader_generation_count(r),
       (unsigned long long)ctrace_reader_bytes_read(r), (unsigned long long)whole, (unsigned long long)end,
       (long long)span, (unsigned long long)ctrace_reader_frequency(r), (unsigned long long)l.events,
       (unsigned long long)l.samples, (unsigned long long)l.stacks, (unsigned long long)l.threads,
       (unsigned long long)l.records, (unsigned long long)l.strings);
    if (err)
        tf(t, " err@%llu=%s", (unsigned long long)off, err);
    tf(t, " size=%lld v=%d", (long long)ctrace_reader_size(r), ctrace_reader_version(r));
}

static void event(struct text *t, struct keep *k, ctrace_reader *r, const struct ctrace_event *e)
{
    tf(t, "%d/%u t=%lld s=%lld raw=%lld m=%llx p=%llx g=%llx gen=%llu off=%llu", e->kind, e->raw_type,
       (long long)e->time, (long long)e->since_start, (long long)e->raw_time, (unsigned long long)e->m,
       (unsigned long long)e->p, (unsigned long long)e->g, (unsigned long long)e->generation,
       (unsigned long long)e->offset);
    stack(t, k, r, e->stack);
    switch (e->kind) {
    case CTRACE_EV_STATE_TRANSITION:
        tf(t, " tr %d %llx %d>%d", e->u.transition.resource, (unsigned long long)e->u.transition.id,
           e->u.transition.from, e->u.transition.to);
        tstr(t, "why", e->u.transition.reason);
        keep_str(k, e->u.transition.reason);
        stack(t, k, r, e->u.transition.stack);
        break;
    case CTRACE_EV_RANGE_BEGIN:
    case CTRACE_EV_RANGE_ACTIVE:
    case CTRACE_EV_RANGE_END:
        tstr(t, "range", e->u.range.name);
        keep_str(k, e->u.range.name);
        tf(t, " %d %llx", e->u.range.scope, (unsigned long long)e->u.range.scope_id);
        for (size_t i = 0; i < e->u.range.nattrs; i++) {
            tstr(t, "attr", e->u.range.attrs[i].name);
            tf(t, "=%llu", (unsigned long long)e->u.range.attrs[i].value);
        }
        break;
    case CTRACE_EV_TASK_BEGIN:
    case CTRACE_EV_TASK_END:
        tf(t, " task %llu parent %llx", (unsigned long long)e->u.task.id, (unsigned long long)e->u.task.parent);
        tstr(t, "name", e->u.task.name);
        keep_str(k, e->u.task.name);
        task(t, r, e->u.task.id);
        task(t, r, e->u.task.parent);
        break;
    case CTRACE_EV_REGION_BEGIN:
    case CTRACE_EV_REGION_END:
        tf(t, " region task %llu", (unsigned long long)e->u.region.task);
        tstr(t, "name", e->u.region.name);
        keep_str(k, e->u.region.name);
        task(t, r, e->u.region.task);
        break;
    case CTRACE_EV_LOG:
        tf(t, " log task %llu", (unsigned long long)e->u.log.task);
        tstr(t, "cat", e->u.log.category);
        tstr(t, "msg", e->u.log.message);
        keep_str(k, e->u.log.category);
        keep_str(k, e->u.log.message);
        break;
    case CTRACE_EV_LABEL:
        tstr(t, "label", e->u.label.label);
        keep_str(k, e->u.label.label);
        break;
    case CTRACE_EV_METRIC:
        tf(t, " metric %d=%llu", e->u.metric.which, (unsigned long long)e->u.metric.value);
        tstr(t, "name", e->u.metric.name);
        break;
    case CTRACE_EV_SYNC:
        tf(t, " sync %llu", (unsigned long long)e->u.sync.gen);
        break;
    case CTRACE_EV_EXPERIMENTAL:
        tstr(t, "exp", e->u.experimental.name);
        for (size_t i = 0; i < e->u.experimental.nargs; i++)
            tf(t, " %s=%llu", e->u.experimental.arg_names[i], (unsigned long long)e->u.experimental.args[i]);
        break;
    default:
        break;
    }
    queries(t, r);
    tput(t, "\n", 1);
}

/* How a reading is made. */
struct how {
    const char *name;
    int ahead;            /* read ahead                                  */
    size_t blocks, evs;   /* its queue (0: the default)                  */
    unsigned flags;       /* open flags (CTRACE_READER_NO_MMAP: a stream) */
    uint64_t stop;        /* close after this many events (0: read all)  */
};

/* Reads the trace in data/len (a file at path, for streams) the way h
 * says, into t. */
static void reading(const struct how *h, const char *path, const void *data, size_t len, struct text *t,
                    const char *label)
{
    ctrace_reader *r = NULL;
    int rc = h->flags & CTRACE_READER_NO_MMAP ? ctrace_reader_open(path, h->flags, &r)
                                               : ctrace_reader_open_mem(data, len, h->flags, &r);
    tf(t, "open %d\n", rc);
    if (!r)
        return;
    if (h->ahead) {
        if (h->blocks)
            rd_ahead_shape(r, h->blocks, h->evs);
        int a = ctrace_reader_read_ahead(r, 2);
        if (a != 0 && !(rc < 0 && a == CTRACE_READER_EINVAL)) {
            fprintf(stderr, "FAIL: %s: ctrace_reader_read_ahead: %d\n", label, a);
            failures++;
        }
    }
    queries(t, r);
    tput(t, "\n", 1);
    struct keep k = {0};
    const struct ctrace_event *e;
    uint64_t n = 0;
    while ((rc = ctrace_reader_next(r, &e)) == 1) {
        event(t, &k, r, e);
        if (e->kind == CTRACE_EV_SYNC)
            keep_check(&k, label, e->u.sync.gen);
        if (h->stop && ++n == h->stop)
            break;
    }
    keep_check(&k, label, 0);
    free(k.v);
    if (rc != 1) {
        tf(t, "end %d", rc);
        queries(t, r);
        /* The end stays. */
        tf(t, "\nagain %d", ctrace_reader_next(r, &e));
        queries(t, r);
        tput(t, "\n", 1);
    }
    ctrace_reader_close(r);
}

/* The first is the reference reading (no fast step), which the others,
 * with the fast step, must reproduce line for line. */
static const struct how hows[] = {
    {"reference", 0, 0, 0, CTRACE_READER_REFERENCE, 0},
    {"plain", 0, 0, 0, 0, 0},
    {"ahead", 1, 0, 0, 0, 0},
    {"ahead, 2 blocks of 1 event", 1, 2, 1, 0, 0},
    {"ahead, 3 blocks of 7 events", 1, 3, 7, 0, 0},
    {"ahead, streamed", 1, 0, 0, CTRACE_READER_NO_MMAP, 0},
    {"ahead, streamed, 2 blocks of 3 events", 1, 2, 3, CTRACE_READER_NO_MMAP, 0},
};

/* The first line where a and b differ, for the report. */
static void report(const char *label, const char *how, const struct text *a, const struct text *b)
{
    size_t i = 0, line = 1, start = 0;
    for (; i < a->n && i < b->n && a->p[i] == b->p[i]; i++)
        if (a->p[i] == '\n') {
            line++;
            start = i + 1;
        }
    const char *ea = strchr(a->p + start, '\n'), *eb = strchr(b->p + start, '\n');
    fprintf(stderr, "FAIL: %s: %s differs from the reference at line %zu:\n  reference: %.*s\n  %s: %.*s\n",
            label, how, line, (int)((ea ? ea : a->p + a->n) - (a->p + start)), a->p + start, how,
            (int)((eb ? eb : b->p + b->n) - (b->p + start)), b->p + start);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? rng_state % n : 0;
}

static int ntraces;

/* All the readings of one trace, compared with the reference one. */
static void compare(const char *label, const void *data, size_t len, const char *tmpdir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/trace", tmpdir);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "FAIL: write %s\n", path);
        failures++;
        return;
    }
    ntraces++;
    struct text ref = {0}, ref_stream = {0};
    reading(&hows[0], path, data, len, &ref, label);
    static const struct how stream = {"reference, streamed", 0, 0, 0,
                                      CTRACE_READER_NO_MMAP | CTRACE_READER_REFERENCE, 0};
    reading(&stream, path, data, len, &ref_stream, label);
    size_t nlines = 0;
    for (size_t i = 0; i < ref.n; i++)
        nlines += ref.p[i] == '\n';
    for (size_t i = 1; i < sizeof hows / sizeof hows[0]; i++) {
        struct text t = {0};
        reading(&hows[i], path, data, len, &t, label);
        const struct text *want = hows[i].flags & CTRACE_READER_NO_MMAP ? &ref_stream : &ref;
        if (t.n != want->n || memcmp(t.p, want->p, t.n) != 0) {
            report(label, hows[i].name, want, &t);
            failures++;
        }
        free(t.p);
    }
    /* Stopped early: the lines read are the reference reading's first ones. */
    if (nlines > 3) {
        struct how h = {"ahead, stopped early", 1, (size_t)rnd(3) * 2, 1 + (size_t)rnd(4), 0, 1 + rnd(nlines - 3)};
        struct text t = {0};
        reading(&h, path, data, len, &t, label);
        if (t.n > ref.n || memcmp(t.p, ref.p, t.n) != 0) {
            report(label, h.name, &ref, &t);
            failures++;
        }
        free(t.p);
    }
    free(ref.p);
    free(ref_stream.p);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *p = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            p = realloc(p, cap);
        }
        size_t got = fread(p + n, 1, cap - n, f);
        if (!got)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return p;
}

static void one_trace(const char *path, int nmut, const char *tmpdir)
{
    size_t len;
    unsigned char *data = slurp(path, &len);
    if (!data) {
        fprintf(stderr, "FAIL: read %s\n", path);
        failures++;
        return;
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    compare(base, data, len, tmpdir);
    unsigned char *m = malloc(len + 256);
    for (int i = 0; i < nmut && len > 32; i++) {
        size_t n = len, p = 16 + (size_t)rnd(len - 16);
        memcpy(m, data, len);
        const char *op;
        switch (rnd(6)) {
        case 0:
        case 1:
            op = "flip";
            m[p] ^= (unsigned char)(1u << rnd(8));
            break;
        case 2:
            op = "byte";
            m[p] = (unsigned char)rnd(256);
            break;
        case 3:
            op = "cut";
            n = p;
            break;
        case 4: {
            op = "del";
            size_t d = 1 + (size_t)rnd(32);
            if (p + d > len)
                d = len - p;
            memmove(m + p, m + p + d, len - p - d);
            n = len - d;
            break;
        }
        default: {
            op = "dup";
            size_t d = 1 + (size_t)rnd(128);
            if (p + d > len)
                d = len - p;
            memmove(m + p + d, m + p, len - p);
            memcpy(m + p + d, data + p, d);
            n = len + d;
            break;
        }
        }
        char label[512];
        snprintf(label, sizeof label, "%s mutation %d (%s at %zu)", base, i, op, p);
        compare(label, m, n, tmpdir);
    }
    free(m);
    free(data);
}

int main(int argc, char **argv)
{
    const char *e = getenv("N_MUT");
    int nmut = e ? atoi(e) : 40;
    char tmpdir[] = "/tmp/test_ahead.XXXXXX";
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "FAIL: %s: not found\n", argv[i]);
            failures++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            one_trace(argv[i], nmut, tmpdir);
            continue;
        }
        struct dirent **names;
        int n = scandir(argv[i], &names, NULL, alphasort);
        for (int k = 0; k < n; k++) {
            size_t l = strlen(names[k]->d_name);
            if (l > 6 && strcmp(names[k]->d_name + l - 6, ".trace") == 0) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
                one_trace(path, nmut, tmpdir);
            }
            free(names[k]);
        }
        free(names);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/trace", tmpdir);
    unlink(path);
    rmdir(tmpdir);
    printf("%d traces read by the reference and %zu other ways (and stopped early): %s\n", ntraces,
           sizeof hows / sizeof hows[0] - 1, failures ? "FAILED" : "the same");
    return failures != 0 || ntraces == 0;
}
