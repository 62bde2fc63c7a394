/*
 * symtables.c - the trace side of `ctrace symbolize` (symtables.h).
 *
 * Invariants:
 *   - Input: a v2 trace (go 1.22 / 1.23 header) made of event batches.
 *     Every batch is copied byte for byte except stack-table batches,
 *     which are re-encoded with new function/file/line for the frames
 *     named here, and one string-table batch (or more, each under
 *     GT_MAX_BATCH_SIZE) added per generation with the new names, placed
 *     right after that generation's last string batch (so a generation
 *     still ends with its frequency batch).  New string ids follow the
 *     generation's largest.  Event batches are never touched, so the
 *     events, their order and their stack ids are those of IN.
 *   - A frame is unnamed when its function is "" (CTRACE_SYMBOLIZE=off,
 *     or a crash-time snapshot's PC-only frames), "?" or "module+0xOFF"
 *     (the runtime found no symbol).  Frames with a name are kept.  Frames
 *     whose PC has bits 48 and up set are not addresses (inlined callers'
 *     PCs, module records) and are kept.  A PC names the same frame
 *     everywhere in a generation, as parsers require: names are decided per
 *     PC.
 *   - Modules: from the generation's module records (gotrace.h,
 *     GT_MODULE_*); a generation without records (a flight recorder's
 *     crash generation) uses the previous generation's.
 *   - Every string and stack table of a generation is checked entry by
 *     entry (check_tables) before anything reads it; the passes after that
 *     walk bytes known to be well formed.
 */
#include "symtables.h"

#include "gotrace.h"
#include "varint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One batch of the input: where its header starts, its data. */
struct batch {
    size_t start;
    uint64_t gen, m, ts;
    const uint8_t *data;
    size_t len;
};

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *g = realloc(p, n * elem);
    if (!g) {
        fprintf(stderr, "ctrace symbolize: out of memory\n");
        exit(1);
    }
    *cap = n;
    return g;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- the input's tables ---- */

static int parse_module(const char *desc, const char *path, struct sym_module *m)
{
    unsigned long long base, size;
    char id[129] = "";
    if (strncmp(desc, GT_MODULE_FUNC_PREFIX, strlen(GT_MODULE_FUNC_PREFIX)) != 0 ||
        sscanf(desc + strlen(GT_MODULE_FUNC_PREFIX), "base=0x%llx size=0x%llx build-id=%128[0-9a-f]",
               &base, &size, id) < 2)
        return -1;
    m->base = base;
    m->size = size;
    m->path = strdup(path);
    m->build_id = strdup(id);
    if (m->path && m->build_id)
        return 0;
    free(m->path);
    free(m->build_id);
    return -1;
}

/* 1 if a frame's function name says it was not named. */
static int unnamed(const char *s, size_t len)
{
    if (len == 0 || (len == 1 && s[0] == '?'))
        return 1;
    /* "module+0xOFF": no space, ends in "+0x" and hex digits */
    if (memchr(s, ' ', len))
        return 0;
    size_t i = len;
    while (i > 0 && sym_hexval(s[i - 1]) >= 0)
        i--;
    return i >= 3 && i < len && s[i - 1] == 'x' && s[i - 2] == '0' && s[i - 3] == '+';
}

struct str {
    uint64_t id;
    const uint8_t *p;
    size_t len;
};

struct gen_state {
    struct str *strs;
    size_t nstrs, strs_cap;
    uint64_t max_id;
    struct sym_module *mods;
    size_t nmods, mods_cap;
    struct sym_name *names; /* PCs to name, sorted by pc after collection */
    size_t nnames, names_cap;
};

static int cmp_str(const void *a, const void *b)
{
    const struct str *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_name(const void *a, const void *b)
{
    const struct sym_name *x = a, *y = b;
    return x->pc < y->pc ? -1 : x->pc > y->pc;
}

static const struct str *find_str(const struct gen_state *g, uint64_t id)
{
    struct str key = {id, NULL, 0};
    return g->nstrs ? bsearch(&key, g->strs, g->nstrs, sizeof *g->strs, cmp_str) : NULL;
}

static struct sym_name *find_name(struct gen_state *g, uint64_t pc)
{
    struct sym_name key = {pc, NULL, NULL, 0, 0};
    return g->nnames ? bsearch(&key, g->names, g->nnames, sizeof *g->names, cmp_name) : NULL;
}

/* A varint of a table batch that check_tables() has accepted. */
static uint64_t rv(const uint8_t **p, const uint8_t *end)
{
    uint64_t v = 0;
    if (varint_get(p, end, &v) != 0)
        *p = end; /* cannot happen after check_tables(); stop the walk */
    return v;
}

/* Checks that batch b, a string or stack table, is a sequence of well-formed
 * entries: 0, or -1 with the offset of the first bad one in err. */
static int check_table(const uint8_t *in, const struct batch *b, char *err, size_t errlen)
{
    uint8_t kind = b->data[0];
    uint8_t entry = kind == GT_EV_STRINGS ? GT_EV_STRING : GT_EV_STACK;
    const uint8_t *p = b->data + 1, *end = b->data + b->len;
    while (p < end) {
        size_t at = (size_t)(p - in);
        uint64_t id, n;
        if (*p++ != entry || varint_get(&p, end, &id) || varint_get(&p, end, &n))
            goto bad;
        if (kind == GT_EV_STRINGS) {
            if (n > (uint64_t)(end - p))
                goto bad;
            p += n;
            continue;
        }
        /* A frame is at least 4 bytes: a count above that is cut short. */
        if (n > (uint64_t)(end - p) / 4)
            goto bad;
        for (uint64_t i = 0; i < 4 * n; i++) {
            uint64_t v;
            if (varint_get(&p, end, &v))
                goto bad;
        }
        continue;
    bad:
        return fail(err, errlen, "malformed %s table entry at offset %zu",
                    kind == GT_EV_STRINGS ? "string" : "stack", at);
    }
    return 0;
}

static int is_table(const struct batch *b, uint8_t kind)
{
    return b->len && b->data[0] == kind;
}

static void collect_strings(struct gen_state *g, const struct batch *b)
{
    const uint8_t *p = b->data + 1, *end = b->data + b->len;
    while (p < end) {
        p++; /* GT_EV_STRING */
        uint64_t id = rv(&p, end), len = rv(&p, end);
        if (len > (uint64_t)(end - p))
            len = (uint64_t)(end - p);
        g->strs = grow(g->strs, &g->strs_cap, g->nstrs + 1, sizeof *g->strs);
        g->strs[g->nstrs++] = (struct str){id, p, (size_t)len};
        if (id > g->max_id)
            g->max_id = id;
        p += len;
    }
}

/* Calls fn(arg, stack id, frame fields) for every frame of a stack batch. */
static void each_frame(const struct batch *b, void (*fn)(void *arg, uint64_t stack, const uint64_t f[4]),
                       void *arg)
{
    const uint8_t *p = b->data + 1, *end = b->data + b->len;
    while (p < end) {
        p++; /* GT_EV_STACK */
        uint64_t id = rv(&p, end), n = rv(&p, end);
        for (uint64_t i = 0; i < n && p < end; i++) {
            uint64_t f[4];
            for (int k = 0; k < 4; k++)
                f[k] = rv(&p, end);
            fn(arg, id, f);
        }
    }
}

static void collect_frame(void *arg, uint64_t stack, const uint64_t f[4])
{
    struct gen_state *g = arg;
    const struct str *fs = find_str(g, f[1]), *file = find_str(g, f[2]);
    if (stack >= GT_MODULE_STACK_BASE && f[0] >= GT_MODULE_PC_BASE && fs && file) {
        char desc[512], path[4096];
        snprintf(desc, sizeof desc, "%.*s", (int)fs->len, (const char *)fs->p);
        snprintf(path, sizeof path, "%.*s", (int)file->len, (const char *)file->p);
        g->mods = grow(g->mods, &g->mods_cap, g->nmods + 1, sizeof *g->mods);
        if (parse_module(desc, path, &g->mods[g->nmods]) == 0)
            g->nmods++;
        return;
    }
    if (f[0] >> 48)
        return; /* an inlined caller's PC: not an address */
    if (fs ? !unnamed((const char *)fs->p, fs->len) : f[1] != 0)
        return;
    g->names = grow(g->names, &g->names_cap, g->nnames + 1, sizeof *g->names);
    g->names[g->nnames++] = (struct sym_name){f[0], NULL, NULL, 0, 0};
}

/* ---- output ---- */

static void out_put(struct sym_buf *o, const void *p, size_t n)
{
    if (!n)
        return;
    o->p = grow(o->p, &o->cap, o->n + n, 1);
    memcpy(o->p + o->n, p, n);
    o->n += n;
}

static void out_varint(struct sym_buf *o, uint64_t v)
{
    uint8_t tmp[VARINT_MAX_LEN];
    out_put(o, tmp, (size_t)(varint_put(tmp, v) - tmp));
}

/* Writes a table batch (kind byte + body) of generation gen. */
static void out_batch(struct sym_buf *o, const struct batch *like, uint8_t kind, const uint8_t *body,
                      size_t len)
{
    uint8_t k = GT_EV_EVENT_BATCH;
    out_put(o, &k, 1);
    out_varint(o, like->gen);
    out_varint(o, like->m);
    out_varint(o, like->ts);
    out_varint(o, len + 1);
    out_put(o, &kind, 1);
    out_put(o, body, len);
}

/* Splits entries into batches no larger than GT_MAX_BATCH_SIZE. */
struct table_out {
    struct sym_buf *o;
    const struct batch *like;
    uint8_t kind;
    struct sym_buf body;
};

static void table_entry(struct table_out *t, const uint8_t *e, size_t len)
{
    if (t->body.n + len + 1 > GT_MAX_BATCH_SIZE && t->body.n) {
        out_batch(t->o, t->like, t->kind, t->body.p, t->body.n);
        t->body.n = 0;
    }
    out_put(&t->body, e, len);
}

static void table_flush(struct table_out *t)
{
    if (t->body.n)
        out_batch(t->o, t->like, t->kind, t->body.p, t->body.n);
    free(t->body.p);
    t->body = (struct sym_buf){0};
}

/* The frames of a stack batch, with new names where found. */
static void rewrite_stacks(struct gen_state *g, const struct batch *b, struct sym_buf *o,
                           const uint64_t *func_id, const uint64_t *file_id)
{
    struct table_out t = {o, b, GT_EV_STACKS, {0}};
    const uint8_t *p = b->data + 1, *end = b->data + b->len;
    struct sym_buf e = {0};
    while (p < end) {
        p++; /* GT_EV_STACK */
        uint64_t id = rv(&p, end), n = rv(&p, end);
        e.n = 0;
        uint8_t k = GT_EV_STACK;
        out_put(&e, &k, 1);
        out_varint(&e, id);
        out_varint(&e, n);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t f[4];
            for (int j = 0; j < 4; j++)
                f[j] = rv(&p, end);
            struct sym_name *nm = (f[0] >> 48) ? NULL : find_name(g, f[0]);
            if (nm && nm->func) {
                size_t ix = (size_t)(nm - g->names);
                f[1] = func_id[ix];
                f[2] = file_id[ix];
                f[3] = nm->line;
            }
            for (int j = 0; j < 4; j++)
                out_varint(&e, f[j]);
        }
        table_entry(&t, e.p, e.n);
    }
    free(e.p);
    table_flush(&t);
}

static void free_modules(struct sym_module *mods, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(mods[i].path);
        free(mods[i].build_id);
    }
    free(mods);
}

/* ---- one generation ---- */

struct rewrite {
    sym_namer_fn *namer;
    void *arg;
    /* The last generation's module records: for a generation that has
     * none (the crash snapshot's last one, encoded in a signal handler). */
    struct sym_module *last_mods;
    size_t nlast_mods;
};

/* Writes the generation made of batches [first, last) to o. */
static void do_generation(struct rewrite *rw, const uint8_t *in, const struct batch *bs, size_t first,
                          size_t last, struct sym_buf *o, struct sym_counts *c)
{
    struct gen_state g = {0};
    size_t last_strings = last;
    for (size_t i = first; i < last; i++)
        if (is_table(&bs[i], GT_EV_STRINGS)) {
            collect_strings(&g, &bs[i]);
            last_strings = i;
        }
    /* (qsort's array may not be NULL, even for no elements.) */
    if (g.nstrs > 1)
        qsort(g.strs, g.nstrs, sizeof *g.strs, cmp_str);
    for (size_t i = first; i < last; i++)
        if (is_table(&bs[i], GT_EV_STACKS))
            each_frame(&bs[i], collect_frame, &g);
    if (g.nnames > 1)
        qsort(g.names, g.nnames, sizeof *g.names, cmp_name);
    size_t w = 0; /* unique PCs */
    for (size_t i = 0; i < g.nnames; i++)
        if (w == 0 || g.names[w - 1].pc != g.names[i].pc)
            g.names[w++] = g.names[i];
    g.nnames = w;
    int borrowed = 0;
    if (!g.nmods && rw->nlast_mods) {
        free(g.mods); /* allocated for records none of which parsed */
        g.mods = rw->last_mods;
        g.nmods = rw->nlast_mods;
        borrowed = 1;
    }
    if (g.nnames && g.nmods)
        rw->namer(rw->arg, g.mods, g.nmods, g.names, g.nnames, c);
    else
        c->unnamed += g.nnames;

    if (last_strings == last) /* no string table to add names to: keep all */
        for (size_t i = 0; i < g.nnames; i++) {
            free(g.names[i].func);
            g.names[i].func = NULL;
        }
    /* New strings: one per distinct name. */
    uint64_t *func_id = calloc(g.nnames + 1, sizeof *func_id);
    uint64_t *file_id = calloc(g.nnames + 1, sizeof *file_id);
    if (!func_id || !file_id) {
        fprintf(stderr, "ctrace symbolize: out of memory\n");
        exit(1);
    }
    struct sym_buf news = {0};
    uint64_t next = g.max_id + 1;
    struct table_out strt = {o, last_strings < last ? &bs[last_strings] : NULL, GT_EV_STRINGS, {0}};
    for (size_t i = 0; i < g.nnames; i++) {
        if (!g.names[i].func)
            continue;
        const char *s[2] = {g.names[i].func, g.names[i].file ? g.names[i].file : "?"};
        uint64_t *ids[2] = {&func_id[i], &file_id[i]};
        for (int k = 0; k < 2; k++) {
            size_t len = strlen(s[k]);
            if (len > GT_MAX_STRING_SIZE)
                len = GT_MAX_STRING_SIZE;
            *ids[k] = next;
            news.n = 0;
            uint8_t kind = GT_EV_STRING;
            out_put(&news, &kind, 1);
            out_varint(&news, next++);
            out_varint(&news, len);
            out_put(&news, s[k], len);
            if (strt.like)
                table_entry(&strt, news.p, news.n);
        }
    }
    free(news.p);

    for (size_t i = first; i < last; i++) {
        if (is_table(&bs[i], GT_EV_STACKS))
            rewrite_stacks(&g, &bs[i], o, func_id, file_id);
        else
            out_put(o, in + bs[i].start, (size_t)(bs[i].data + bs[i].len - (in + bs[i].start)));
        if (i == last_strings)
            table_flush(&strt);
    }
    free(strt.body.p);
    free(func_id);
    free(file_id);
    for (size_t i = 0; i < g.nnames; i++) {
        free(g.names[i].func);
        free(g.names[i].file);
    }
    if (!borrowed && g.nmods) { /* the newest records: kept for the next generation */
        free_modules(rw->last_mods, rw->nlast_mods);
        rw->last_mods = g.mods;
        rw->nlast_mods = g.nmods;
    } else if (!borrowed) {
        free(g.mods);
    }
    free(g.names);
    free(g.strs);
}

/* ---- the trace ---- */

static int parse_batches(const uint8_t *in, size_t len, struct batch **out, size_t *nout, char *err,
                         size_t errlen)
{
    struct batch *bs = NULL;
    size_t n = 0, cap = 0;
    const uint8_t *p = in + GT_HEADER_LEN, *end = in + len;
    while (p < end) {
        size_t start = (size_t)(p - in);
        if (*p++ != GT_EV_EVENT_BATCH) {
            free(bs);
            return fail(err, errlen, "unexpected byte at offset %zu (not a batch)", start);
        }
        uint64_t gen, m, ts, blen;
        if (varint_get(&p, end, &gen) || varint_get(&p, end, &m) || varint_get(&p, end, &ts) ||
            varint_get(&p, end, &blen) || blen > (uint64_t)(end - p)) {
            free(bs);
            return fail(err, errlen, "batch at offset %zu is cut short", start);
        }
        bs = grow(bs, &cap, n + 1, sizeof *bs);
        bs[n++] = (struct batch){start, gen, m, ts, p, (size_t)blen};
        p += blen;
    }
    *out = bs;
    *nout = n;
    return 0;
}

int sym_rewrite(const uint8_t *in, size_t len, sym_namer_fn *namer, void *arg, struct sym_buf *out,
                struct sym_counts *c, char *err, size_t errlen)
{
    if (len < GT_HEADER_LEN ||
        (memcmp(in, GT_HEADER_GO122, GT_HEADER_LEN) != 0 && memcmp(in, GT_HEADER_GO123, GT_HEADER_LEN) != 0))
        return fail(err, errlen, "not a go 1.22/1.23 trace");
    struct batch *bs = NULL;
    size_t nb = 0;
    if (parse_batches(in, len, &bs, &nb, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < nb; i++)
        if ((is_table(&bs[i], GT_EV_STRINGS) || is_table(&bs[i], GT_EV_STACKS)) &&
            check_table(in, &bs[i], err, errlen) != 0) {
            free(bs);
            return -1;
        }
    out_put(out, in, GT_HEADER_LEN);
    struct rewrite rw = {namer, arg, NULL, 0};
    for (size_t i = 0; i < nb;) {
        size_t j = i;
        while (j < nb && bs[j].gen == bs[i].gen)
            j++;
        do_generation(&rw, in, bs, i, j, out, c);
        i = j;
    }
    free_modules(rw.last_mods, rw.nlast_mods);
    free(bs);
    return 0;
}
