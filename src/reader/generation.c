/*
 * generation.c - reading one v2 generation: its batches, its string, stack
 * and CPU-sample tables and its frequency; and the per-M batch cursors.
 *
 * A generation is every batch carrying the same generation number; the
 * first batch of the following generation ends it and is kept ("spilled")
 * for the next call.  All batches are read before any is interpreted, but
 * errors are reported in the order Go's parser meets them: a malformed
 * table batch wins over a later read error, and a read error after at least
 * one good batch is deferred until the generation's events are delivered
 * (that is how a truncated trace yields what it has).
 *
 * Once the tables are read, gen_index() builds the dense id arrays
 * (internal.h) when ids are at most about 4 per entry: bounded memory,
 * 4 bytes per id.  A cursor walks its M's batches by pointers into the
 * generation's bytes, which stay put until the next gen_read().
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The frequency event's ticks a second: Go's ns a tick, as a float, and
 * the same as an integer when it is one (most traces: Go counts in 64 ns
 * ticks, libctrace in ns), which ticks_to_ns() multiplies exactly. */
static void set_freq(struct generation *g, uint64_t ticks_per_sec)
{
    g->has_freq = 1;
    g->freq = 1.0 / ((double)ticks_per_sec / 1e9);
    g->freq_int = g->freq >= 1 && g->freq <= 1024 && g->freq == (double)(uint64_t)g->freq ? (uint64_t)g->freq : 0;
}

/* Varint status: 0 ok, 1 no byte at all, 2 input ends inside, 3 overflow. */
static int rvar(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (p >= end)
            return i == 0 ? 1 : 2;
        uint8_t b = *p++;
        if (b < 0x80) {
            if (i == 9 && b > 1)
                return 3;
            *out = v | (uint64_t)b << (7 * i);
            *pp = p;
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
    }
    return 3;
}

static const char *rvar_msg(int st)
{
    return st == 1 ? "EOF" : st == 2 ? "unexpected EOF" : "varint overflows a 64-bit integer";
}

void gen_reset(struct generation *g)
{
    g->gen = 0;
    g->freq = 0;
    g->freq_int = 0;
    g->has_freq = 0;
    /* cursor_next_fast's table (a few hundred bytes: every generation). */
    for (unsigned t = 0; t < 256; t++) {
        const struct rspec *s = t < RT_NSPECS ? &rd_specs[t] : NULL;
        g->nvar[t] = s && s->name && s->timed && s->nargs ? s->nargs : 0;
    }
    g->nbatches = 0;
    g->nms = 0;
    u64map_clear(&g->mindex);
    u64map_clear(&g->str_index);
    g->str_all = g->stk_all = 0;
    g->str_dense_n = g->stk_dense_n = 0;
    g->nstrs = 0;
    g->arena_len = 0;
    u64map_clear(&g->stk_index);
    g->nstks = 0;
    g->npcs = 0;
    u64map_clear(&g->pc_index);
    g->nframes = 0;
    for (struct fchunk *c = g->chunks; c; c = c->next)
        c->used = 0;
    g->nsamples = 0;
    g->sample_pos = 0;
}

void gen_free(struct generation *g)
{
    free(g->batches);
    free(g->order);
    free(g->ms);
    u64map_free(&g->mindex);
    u64map_free(&g->str_index);
    free(g->strs);
    free(g->str_dense);
    free(g->stk_dense);
    free(g->arena);
    u64map_free(&g->stk_index);
    free(g->stks);
    free(g->pcs);
    u64map_free(&g->pc_index);
    free(g->frames);
    while (g->chunks) {
        struct fchunk *n = g->chunks->next;
        free(g->chunks);
        g->chunks = n;
    }
    free(g->samples);
    memset(g, 0, sizeof *g);
}

/* Builds one dense array from a map when its ids are dense enough that the
 * array costs at most a few times the table itself; else leaves *all 0
 * (lookups then use the map).  Failure to allocate just keeps the map. */
/* The dense array of map m (n entries): index + 1 by id, 0 = absent, for
 * the ids up to 4n + 1024 (a few far ids -- libctrace's module records,
 * GT_MODULE_STACK_BASE and up -- stay in the map alone); *all when it
 * holds every id of the map. */
static void dense_of(const struct u64map *m, size_t n, uint32_t **arr, size_t *len, size_t *cap, int *all)
{
    *all = 0;
    *len = 0;
    uint64_t max = 0, bound = 4 * (uint64_t)n + 1024, key, val;
    for (size_t i = 0; u64map_next(m, &i, &key, NULL);)
        if (key > max && key <= bound)
            max = key;
    if (n >= UINT32_MAX)
        return;
    size_t need = (size_t)max + 1;
    if (need > *cap) {
        uint32_t *na = realloc(*arr, need * sizeof *na);
        if (!na)
            return;
        *arr = na;
        *cap = need;
    }
    memset(*arr, 0, need * sizeof **arr);
    size_t in = 0;
    for (size_t i = 0; u64map_next(m, &i, &key, &val);)
        if (key <= max) {
            (*arr)[key] = (uint32_t)val + 1;
            in++;
        }
    *len = need;
    *all = in == n;
}

void gen_index(struct generation *g)
{
    dense_of(&g->str_index, g->nstrs, &g->str_dense, &g->str_dense_n, &g->str_dense_cap, &g->str_all);
    dense_of(&g->stk_index, g->nstks, &g->stk_dense, &g->stk_dense_n, &g->stk_dense_cap, &g->stk_all);
}

size_t gen_stack(struct generation *g, uint64_t id, const struct ctrace_frame **out)
{
    *out = NULL;
    int64_t i = id ? gen_stk_index(g, id) : -1;
    if (i < 0 || g->stks[i].n == 0)
        return 0;
    struct stkent *s = &g->stks[i];
    if (s->resolved == 0) {
        /* Resolve once per generation into a chunk that never moves. */
        struct fchunk *c = g->chunks;
        while (c && c->used + s->n > sizeof c->f / sizeof c->f[0])
            c = c->next;
        if (!c) {
            c = malloc(sizeof *c);
            if (!c)
                return 0;
            c->used = 0;
            c->next = g->chunks;
            g->chunks = c;
        }
        struct ctrace_frame *f = &c->f[c->used];
        for (uint32_t i = 0; i < s->n; i++) {
            uint64_t pc = g->pcs[s->pcs_off + i];
            const uint64_t *fi = u64map_get(&g->pc_index, pc);
            f[i] = (struct ctrace_frame){pc, {"", 0}, {"", 0}, 0};
            if (!fi)
                continue;
            const struct frament *fr = &g->frames[*fi];
            /* v1 traces may name strings they never define: show "". */
            if (gen_string(g, fr->func, &f[i].func) < 0)
                f[i].func = (struct ctrace_str){"", 0};
            if (gen_string(g, fr->file, &f[i].file) < 0)
                f[i].file = (struct ctrace_str){"", 0};
            f[i].line = fr->line;
        }
        c->used += s->n;
        s->resolved = (int64_t)(intptr_t)f;
    }
    *out = (const struct ctrace_frame *)(intptr_t)s->resolved;
    return s->n;
}

/* ---- table batches ---- */

static int fail_fmt(struct ctrace_reader *r, uint64_t off, const char *what, int st)
{
    return rd_fail(r, CTRACE_READER_EFORMAT, off, "%s: %s", what, rvar_msg(st));
}

static int add_strings(struct ctrace_reader *r, const struct batch *b)
{
    struct generation *g = &r->g;
    const uint8_t *p = b->data + 1, *end = b->data + b->len;
    while (p < end) {
        uint64_t off = b->data_off + (uint64_t)(p - b->data);
        if (*p != GT_EV_STRING)
            return rd_fail(r, CTRACE_READER_EFORMAT, off, "expected string event, got %u", *p);
        p++;
        uint64_t id, len;
        int st;
        if ((st = rvar(&p, end, &id)))
            return fail_fmt(r, off, "reading string ID", st);
        if ((st = rvar(&p, end, &len)))
            return fail_fmt(r, off, "reading string length", st);
        if (len > GT_MAX_STRING_SIZE)
            return rd_fail(r, CTRACE_READER_EFORMAT, off, "invalid string size %llu, maximum is %u",
                           (unsigned long long)len, GT_MAX_STRING_SIZE);
        if ((uint64_t)(end - p) < len)
            return rd_fail(r, CTRACE_READER_EFORMAT, off, "failed to read full string: read %llu but wanted %llu",
                           (unsigned long long)(end - p), (unsigned long long)len);
        if (id == 0 || u64map_get(&g->str_index, id))
            return rd_fail(r, CTRACE_READER_EFORMAT, off, "multiple strings with the same ID: id=%llu",
                           (unsigned long long)id);
        if (RESERVE(g->arena, g->arena_len + len + 1, g->arena_cap) < 0 ||
            GROW(g->strs, g->nstrs, g->strs_cap) < 0 || u64map_put(&g->str_index, id, g->nstrs) < 0)
            return rd_fail(r, CTRACE_READER_ENOMEM, off, "out of memory");
        loss_note(&r->losses, p, len);
        memcpy(g->arena + g->arena_len, p, len);
        g->arena[g->arena_len + len] = 0;
        g->strs[g->nstrs++] = (struct strent){g->arena_len, (uint32_t)len};
        g->arena_len += len + 1;
        p += len;
    }
    return 0;
}

static int add_stacks(struct ctrace_reader *r, const struct batch *b)
{
    struct generation *g = &r->g;
    const uint8_t *p = b->data + 1, *end = b->data + b->len;
    while (p < end) {
        uint64_t off = b->data_off + (uint64_t)(p - b->data);
        if (*p != GT_EV_STACK)
            return rd_fail(r, CTRACE_READER_EFORMAT, off, "expected stack event, got %u", *p);
        p++;
        uint64_t id, n;
        int st;
        if ((st = rvar(&p, end, &id)))
            return fail_fmt(r, off, "reading stack ID", st);
        if ((st = rvar(&p, end, &n)))
            return fail_fmt(r, off, "reading stack size", st);
        if (n > GT_MAX_FRAMES_PER_STACK)
            return rd_fail(r, CTRACE_READER_EFORMAT, off, "invalid stack size %llu, maximum is %u",
                           (unsigned long long)n, GT_MAX_FRAMES_PER_STACK);
        size_t pcs_off = g->npcs;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t f[4];
            for (int k = 0; k < 4; k++)
                if ((st = rvar(&p, end, &f[k])))
                    return fail_fmt(r, off, "reading a stack frame", st);
            if (GROW(g->pcs, g->npcs, g->pcs_cap) < 0)
                return rd_fail(r, CTRACE_READER_ENOMEM, off, "out of memory");
            g->pcs[g->npcs++] = f[0];
            /* A PC names the same frame everywhere in the generation: the
             * first description of it wins. */
            if (!u64map_get(&g->pc_index, f[0])) {
                if (GROW(g->frames, g->nframes, g->frames_cap) < 0 ||
                    u64map_put(&g->pc_index, f[0], g->nframes) < 0)
                    return rd_fail(r, CTRACE_READER_ENOMEM, off, "out of memory");
                g->frames[g->nframes++] = (struct frament){f[0], f[1], f[2], f[3]};
            }
        }
        if (id == 0 || u64map_get(&g->stk_index, id))
            return rd_fail(r, CTRACE_READER_EFORMAT, off, "multiple stacks with the same ID: id=%llu",
                           (unsigned long long)id);
        if (GROW(g->stks, g->nstks, g->stks_cap) < 0 || u64map_put(&g->stk_index, id, g->nstks) < 0)
            return rd_fail(r, CTRACE_READER_ENOMEM, off, "out of memory");
        g->stks[g->nstks++] = (struct stkent){pcs_off, (uint32_t)n, 0};
    }
    return 0;
}

static int add_samples(struct ctrace_reader *r, const struct batch *b)
{
    struct generation *g = &r->g;
    const uint8_t *p = b->data + 1, *end = b->data + b->len;
    while (p < end) {
        uint64_t off = b->data_off + (uint64_t)(p - b->data);
        if (*p != GT_EV_CPU_SAMPLE)
            return rd_fail(r, CTRACE_READER_EFORMAT, off, "expected CPU sample event, got %u", *p);
        p++;
        uint64_t a[5];
        int st;
        for (int k = 0; k < 5; k++)
            if ((st = rvar(&p, end, &a[k])))
                return fail_fmt(r, off, "reading a CPU sample", st);
        if (GROW(g->samples, g->nsamples, g->samples_cap) < 0)
            return rd_fail(r, CTRACE_READER_ENOMEM, off, "out of memory");
        /* The time stays in ticks until the frequency is known. */
        g->samples[g->nsamples++] = (struct sample){(int64_t)a[0], a[0], a[1], a[2],
                                                    a[3] == 0 ? CTRACE_NO_ID : a[3], a[4], off};
    }
    return 0;
}

/* Stable merge sort of the samples by time (equal times keep file order). */
static void sort_samples(struct sample *v, struct sample *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_samples(v, tmp, h);
    sort_samples(v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = v[j].time < v[i].time ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

/* A Go 1.25 sync batch: EvSync, then EvFrequency [freq] and
 * EvClockSnapshot [ts, mono, sec, nsec] in any order. */
static int add_sync(struct ctrace_reader *r, const struct batch *b)
{
    struct generation *g = &r->g;
    const uint8_t *p = b->data + 1, *end = b->data + b->len;
    while (p < end) {
        uint64_t off = b->data_off + (uint64_t)(p - b->data), v[4];
        uint8_t typ = *p++;
        int n = typ == GT_EV_FREQUENCY ? 1 : typ == GT_EV_CLOCK_SNAPSHOT ? 4 : 0;
        if (!n)
            return rd_fail(r, CTRACE_READER_EFORMAT, off, "unexpected event %u in a sync batch", typ);
        for (int k = 0; k < n; k++) {
            int st = rvar(&p, end, &v[k]);
            if (st)
                return fail_fmt(r, off, "reading a sync batch", st);
        }
        if (typ == GT_EV_FREQUENCY) {
            if (g->has_freq)
                return rd_fail(r, CTRACE_READER_EFORMAT, off, "found multiple frequency events");
            set_freq(g, v[0]);
        }
    }
    return 0;
}

static int process_batch(struct ctrace_reader *r, struct batch *b)
{
    struct generation *g = &r->g;
    if (b->exp == 0 && b->len > 0) {
        switch (b->first) {
        case GT_EV_STRINGS: return add_strings(r, b);
        case GT_EV_STACKS: return add_stacks(r, b);
        case GT_EV_CPU_SAMPLES: return add_samples(r, b);
        case GT_EV_SYNC: /* Go 1.25: frequency and clock snapshot in a sync batch */
            if (r->version >= 125)
                return add_sync(r, b);
            break; /* before 1.25, an ordinary (and invalid) event batch */
        case GT_EV_FREQUENCY: {
            const uint8_t *p = b->data + 1;
            uint64_t f;
            int st = rvar(&p, b->data + b->len, &f);
            if (st)
                return fail_fmt(r, b->data_off, "reading the frequency", st);
            if (g->has_freq)
                return rd_fail(r, CTRACE_READER_EFORMAT, b->data_off, "found multiple frequency events");
            set_freq(g, f);
            return 0;
        }
        }
    }
    if (b->exp != 0)
        return 0; /* experimental data: kept out of the event stream */
    /* An event batch: group it under its M. */
    uint64_t *v = u64map_get(&g->mindex, b->m);
    if (!v) {
        if (GROW(g->ms, g->nms, g->ms_cap) < 0 || u64map_put(&g->mindex, b->m, g->nms) < 0)
            return rd_fail(r, CTRACE_READER_ENOMEM, b->data_off, "out of memory");
        struct mcursor *c = &g->ms[g->nms++];
        memset(c, 0, sizeof *c);
        c->m = b->m;
        c->count = 1;
    } else {
        g->ms[*v].count++;
    }
    return 0;
}

/* Reads one batch header and data at r->pos.  Returns 1 with *b filled,
 * 0 at a clean end of input, or a negative code (error message set in
 * msg/off, NOT in the reader: the caller decides whether it is fatal). */
static int read_batch(struct ctrace_reader *r, struct batch *b, uint64_t *gen, char *msg, size_t msz, uint64_t *eoff)
{
    struct input *in = &r->in;
    uint64_t start = r->pos;
    *eoff = start;
    int64_t avail = in_fill(in, start + 2 + 4 * 10);
    if (avail < 0) {
        snprintf(msg, msz, "read error");
        return (int)avail;
    }
    if ((uint64_t)avail <= start)
        return 0;
    const uint8_t *p = in_ptr(in, start), *end = in_ptr(in, (uint64_t)avail);
    uint8_t typ = *p++;
    if (typ != GT_EV_EVENT_BATCH && typ != GT_EV_EXPERIMENTAL_BATCH) {
        char nb[24];
        snprintf(msg, msz, "expected batch event, got %s", rspec_name(typ, nb));
        return CTRACE_READER_EFORMAT;
    }
    b->exp = 0;
    if (typ == GT_EV_EXPERIMENTAL_BATCH) {
        if (p >= end)
            return 0; /* Go's parser takes this as the end of the trace */
        b->exp = *p++;
    }
    static const char *const what[4] = {"batch gen", "batch M ID", "batch timestamp", "batch size"};
    uint64_t a[4];
    for (int k = 0; k < 4; k++) {
        int st = rvar(&p, end, &a[k]);
        if (st) {
            snprintf(msg, msz, "error reading %s: %s", what[k], rvar_msg(st));
            if (st == 3)
                return CTRACE_READER_EFORMAT;
            *eoff = (uint64_t)avail; /* a cut: the input ends here */
            return CTRACE_READER_ETRUNCATED;
        }
    }
    *gen = a[0];
    if (a[3] > GT_MAX_BATCH_SIZE) {
        snprintf(msg, msz, "invalid batch size %llu, maximum is %u", (unsigned long long)a[3], GT_MAX_BATCH_SIZE);
        return CTRACE_READER_EFORMAT;
    }
    uint64_t data_off = start + (uint64_t)(p - in_ptr(in, start));
    avail = in_fill(in, data_off + a[3]);
    if (avail < 0) {
        snprintf(msg, msz, "read error");
        return (int)avail;
    }
    if ((uint64_t)avail < data_off + a[3]) {
        snprintf(msg, msz, "failed to read full batch: read %llu but wanted %llu",
                 (unsigned long long)((uint64_t)avail - data_off), (unsigned long long)a[3]);
        *eoff = (uint64_t)avail; /* a cut: the input ends here */
        return CTRACE_READER_ETRUNCATED;
    }
    b->m = a[1];
    b->ts = a[2];
    b->data_off = data_off;
    b->len = (uint32_t)a[3];
    b->data = NULL;
    /* Remember the kind now: touching data[0] later would fault its page. */
    b->first = a[3] ? *in_ptr(in, data_off) : 0;
    r->pos = data_off + a[3];
    /* Only the header was needed now; the kernel's fault-around mapped the
     * data around it too.  Given back by 4 MB (IN_DISCARD_MIN): it is
     * faulted in again when consumed, so a mapped trace costs a few MB,
     * not a generation. */
    if (r->pos - r->scan_from >= IN_DISCARD_MIN) {
        in_discard(in, r->scan_from, r->pos - r->scan_from);
        r->scan_from = data_off;
    }
    return 1;
}

int gen_read(struct ctrace_reader *r)
{
    struct generation *g = &r->g;
    gen_reset(g);
    if (r->spill)
        r->pos = r->spill_off;
    r->spill = 0;
    in_release(&r->in, r->pos);
    r->gen_start = r->scan_from = r->pos;

    /* Phase 1: collect the batches of the generation. */
    int fatal = 0;
    char fmsg[512] = "";
    uint64_t foff = 0, cut_at = 0;
    for (;;) {
        struct batch b;
        uint64_t bgen = 0, boff = r->pos;
        cut_at = r->pos; /* where the batch read now starts */
        char msg[256];
        int rc = read_batch(r, &b, &bgen, msg, sizeof msg, &boff);
        if (rc == 0)
            break;
        if (rc < 0) {
            if (g->gen != 0) {
                err_defer(&r->error, rc, boff, msg);
            } else {
                fatal = rc;
                snprintf(fmsg, sizeof fmsg, "%s", msg);
                foff = boff;
            }
            break;
        }
        if (bgen == 0) {
            fatal = CTRACE_READER_EFORMAT;
            snprintf(fmsg, sizeof fmsg, "invalid generation number 0");
            foff = boff;
            break;
        }
        if (g->gen == 0)
            g->gen = bgen;
        if (bgen == g->gen + 1) {
            r->spill = 1;
            r->spill_off = boff;
            break;
        }
        if (bgen != g->gen) {
            fatal = CTRACE_READER_EFORMAT;
            snprintf(fmsg, sizeof fmsg, "generations out of order (generation %llu after %llu)",
                     (unsigned long long)bgen, (unsigned long long)g->gen);
            foff = boff;
            break;
        }
        if (GROW(g->batches, g->nbatches, g->batches_cap) < 0)
            return rd_fail(r, CTRACE_READER_ENOMEM, boff, "out of memory");
        g->batches[g->nbatches++] = b;
    }
    /* Where this generation's bytes end, and whether the input ends with
     * it (then it may have been cut short: see rd_fail_cut). */
    r->gen_end = r->spill ? r->spill_off : r->error.deferred ? cut_at : r->pos;
    r->gen_at_eof = !r->spill;

    /* The window is stable from here on: resolve data pointers. */
    for (size_t i = 0; i < g->nbatches; i++)
        g->batches[i].data = in_ptr(&r->in, g->batches[i].data_off);

    /* Phase 2: interpret them, in file order. */
    for (size_t i = 0; i < g->nbatches; i++) {
        int rc = process_batch(r, &g->batches[i]);
        if (rc < 0)
            return rc;
    }
    if (fatal)
        return rd_fail(r, fatal, foff, "%s", fmsg);
    /* Cut short?  Only a generation the input ends with can be.  Both
     * writers end a generation with a table: Go with its string table,
     * libctrace with its frequency batch.  One ending otherwise, without
     * a frequency, or inside a batch, lost its end. */
    const struct batch *lastb = g->nbatches ? &g->batches[g->nbatches - 1] : NULL;
    int ends_with_table = lastb && !lastb->exp && lastb->len &&
                          (lastb->first == GT_EV_STRINGS || lastb->first == GT_EV_FREQUENCY);
    r->error.cut = r->gen_at_eof &&
                   (r->error.deferred == CTRACE_READER_ETRUNCATED || !g->has_freq || !ends_with_table);
    r->error.cut_gen = g->gen;
    r->error.input_end = r->in.base_off + r->in.len;
    if (!g->has_freq) {
        /* Both writers put the frequency in a generation's last batches
         * (libctrace) or write it when the generation ends (Go): a last
         * generation without one was cut short. */
        if (r->error.deferred)
            return rd_fail_cut(r, CTRACE_READER_ETRUNCATED, r->error.deferred_off, "no frequency event found (%s)",
                               r->error.deferred_msg);
        return rd_fail_cut(r, CTRACE_READER_EFORMAT, r->pos, "no frequency event found");
    }

    gen_index(g);

    /* Every frame's strings must exist. */
    for (size_t i = 0; i < g->nframes; i++) {
        struct ctrace_str s;
        if (gen_string(g, g->frames[i].func, &s) < 0)
            return rd_fail_cut(r, CTRACE_READER_EFORMAT, r->pos, "found invalid func string ID %llu for a stack frame",
                           (unsigned long long)g->frames[i].func);
        if (gen_string(g, g->frames[i].file, &s) < 0)
            return rd_fail_cut(r, CTRACE_READER_EFORMAT, r->pos, "found invalid file string ID %llu for a stack frame",
                           (unsigned long long)g->frames[i].file);
    }

    /* CPU samples: ticks -> ns, then by time. */
    if (g->nsamples) {
        for (size_t i = 0; i < g->nsamples; i++)
            g->samples[i].time = ticks_to_ns(g, (uint64_t)g->samples[i].time);
        struct sample *tmp = malloc(g->nsamples * sizeof *tmp);
        if (!tmp)
            return rd_fail(r, CTRACE_READER_ENOMEM, r->pos, "out of memory");
        sort_samples(g->samples, tmp, g->nsamples);
        free(tmp);
    }

    /* Group the event batches by M, keeping each M's batches in file order. */
    size_t total = 0;
    for (size_t i = 0; i < g->nms; i++) {
        g->ms[i].first = total;
        total += g->ms[i].count;
        g->ms[i].count = 0;
    }
    if (total > g->order_cap) {
        size_t *no = realloc(g->order, total * sizeof *no);
        if (!no)
            return rd_fail(r, CTRACE_READER_ENOMEM, r->pos, "out of memory");
        g->order = no;
        g->order_cap = total;
    }
    for (size_t i = 0; i < g->nbatches; i++) {
        struct batch *b = &g->batches[i];
        if (b->exp != 0 || (b->len > 0 && (b->first == GT_EV_STRINGS || b->first == GT_EV_STACKS ||
                                           b->first == GT_EV_CPU_SAMPLES || b->first == GT_EV_FREQUENCY ||
                                           (b->first == GT_EV_SYNC && r->version >= 125))))
            continue;
        struct mcursor *c = &g->ms[*u64map_get(&g->mindex, b->m)];
        g->order[c->first + c->count++] = i;
    }
    return 0;
}

/* Enters c's next non-empty batch, giving back the one it finished; 1, or 0
 * when the M has no batch left. */
static int cursor_batch(struct ctrace_reader *r, struct mcursor *c)
{
    struct generation *g = &r->g;
    for (;;) {
        if (c->p) {
            const struct batch *done = &g->batches[g->order[c->first + c->idx]];
            /* Every few MB consumed, unmap the whole generation (pages in use
             * fault back in cheaply from the page cache; fault-around maps
             * neighbours' pages too): a mapped trace keeps ~10 MB resident.
             * Not batch by batch: each unmapping costs every other CPU of
             * the process a TLB flush (input.h, IN_DISCARD_MIN). */
            r->consumed += done->len;
            if (r->consumed > IN_DISCARD_MIN) {
                r->consumed = 0;
                in_discard(&r->in, r->gen_start, r->pos - r->gen_start);
            }
            c->idx++;
            c->p = c->end = NULL;
        }
        if (c->idx == c->count)
            return 0;
        const struct batch *b = &g->batches[g->order[c->first + c->idx]];
        c->p = c->base = b->data;
        c->end = b->data + b->len;
        c->base_off = b->data_off;
        c->batch_ts = b->ts;
        c->last_ts = 0;
        c->last_raw = b->ts;
        if (c->p != c->end)
            return 1;
    }
}

/* rvar, inline where the batch has 10 bytes left: then no end checks, and
 * up to 9 bytes (all but the 64th bit) decoded here; rvar for the rest
 * (the batch's last bytes, a tenth byte, an error). */
static inline int rvar1(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    if (__builtin_expect(end - *pp >= 10, 1) && varint9(pp, out))
        return 0;
    return rvar(pp, end, out);
}

int cursor_next(struct ctrace_reader *r, struct mcursor *c)
{
    const struct generation *g = &r->g;
    if (c->p == c->end) {
        int more = cursor_batch(r, c);
        if (more <= 0)
            return more;
    }
    /* Go sets the base time at the first event, and again after an event
     * whose time is 0. */
    if (c->last_ts == 0)
        c->last_ts = ticks_to_ns(g, c->batch_ts);
    const uint8_t *p = c->p, *end = c->end;
    uint64_t off = c->base_off + (uint64_t)(p - c->base);
    uint8_t typ = *p++;
    const struct rspec *s = rspec_of(typ);
    if (!s)
        return rd_fail(r, CTRACE_READER_EFORMAT, off, "found invalid event type: %u", typ);
    if (s->nargs == 0 || !s->timed) {
        char nb[24];
        return rd_fail(r, CTRACE_READER_EFORMAT, off, "found event without a timestamp: type=%s",
                       rspec_name(typ, nb));
    }
    uint64_t dt;
    if (rvar1(&p, end, &dt))
        return rd_fail(r, CTRACE_READER_EFORMAT, off, "found invalid uvarint for timestamp");
    struct rev *ev = &c->ev;
    ev->typ = typ;
    /* Fixed stores (a loop over the unused ones becomes a memset call). */
    ev->args[0] = ev->args[1] = ev->args[2] = ev->args[3] = ev->args[4] = 0;
    ev->extra[0] = ev->extra[1] = 0;
    unsigned n = s->nargs - 1u;
    for (unsigned i = 0; i < n; i++)
        if (rvar1(&p, end, &ev->args[i]))
            return rd_fail(r, CTRACE_READER_EFORMAT, off, "found invalid uvarint");
    cursor_stamp(g, c, off, dt, p);
    return 1;
}

/* ---- skimming for loss records (ctrace_reader_skim_losses) ---- */

/* The loss records among the strings of a string batch's data (after its
 * EvStrings byte); stops quietly at a malformed entry (skimming does not
 * validate). */
static void skim_strings(struct ctrace_reader *r, const uint8_t *p, const uint8_t *end)
{
    while (p < end && *p == GT_EV_STRING) {
        p++;
        uint64_t id, len;
        if (rvar(&p, end, &id) || rvar(&p, end, &len) || (uint64_t)(end - p) < len)
            return;
        loss_note(&r->losses, p, (size_t)len);
        p += len;
    }
}

/* Whether a Go 1.25 sync batch's data (after its EvSync byte) holds a
 * frequency event; quietly no at a malformed entry. */
static int skim_sync_has_freq(const uint8_t *p, const uint8_t *end)
{
    while (p < end) {
        uint8_t typ = *p++;
        if (typ == GT_EV_FREQUENCY)
            return 1;
        if (typ != GT_EV_CLOCK_SNAPSHOT)
            return 0;
        for (int k = 0; k < 4; k++) {
            uint64_t v;
            if (rvar(&p, end, &v))
                return 0;
        }
    }
    return 0;
}

/* Loss records, and the end of the input: inside a batch, or after a
 * generation without its frequency event (the full read's "no frequency
 * event found": both writers put it at a generation's end, so one
 * missing was cut short) gives CTRACE_READER_ETRUNCATED. */
int gen_skim_losses(struct ctrace_reader *r)
{
    uint64_t last_gen = 0;
    int any = 0, has_freq = 0;
    for (;;) {
        struct batch b;
        uint64_t bgen = 0, boff = r->pos;
        char msg[256];
        int rc = read_batch(r, &b, &bgen, msg, sizeof msg, &boff);
        if (rc < 0)
            return rd_fail(r, rc, boff, "%s", msg);
        if (rc == 0) {
            if (any && !has_freq)
                return rd_fail(r, CTRACE_READER_ETRUNCATED, r->pos,
                               "no frequency event found (the input ends inside generation %llu)",
                               (unsigned long long)last_gen);
            return 0;
        }
        if (!any || bgen != last_gen) {
            any = 1;
            last_gen = bgen;
            has_freq = 0;
        }
        if (!b.exp && b.len > 0) {
            const uint8_t *d = in_ptr(&r->in, b.data_off);
            if (b.first == GT_EV_STRINGS)
                skim_strings(r, d + 1, d + b.len);
            else if (b.first == GT_EV_FREQUENCY ||
                     (b.first == GT_EV_SYNC && r->version >= 125 && skim_sync_has_freq(d + 1, d + b.len)))
                has_freq = 1;
        }
        in_release(&r->in, r->pos); /* a stream keeps one batch at a time, a map ~1 MB */
    }
}
