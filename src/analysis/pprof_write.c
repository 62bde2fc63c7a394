/*
 * pprof_write.c - encodes a struct prof as profile.proto (pprof's format:
 * github.com/google/pprof/proto/profile.proto) and gzips it, as
 * `go tool pprof` expects.
 *
 * Invariants:
 *   - Field numbers and wire types are profile.proto's: Profile{1 sample_type,
 *     2 sample, 4 location, 5 function, 6 string_table, 11 period_type,
 *     12 period}; ValueType{1 type, 2 unit}; Sample{1 location_id packed,
 *     2 value packed}; Location{1 id, 3 address, 4 line}; Line{1 function_id,
 *     2 line}; Function{1 id, 2 name, 3 system_name, 4 filename}.  Integers
 *     are varints (negative int64 as their two's complement, 10 bytes),
 *     strings and messages length-delimited; a zero scalar is left out (the
 *     proto3 default), except inside packed lists.
 *   - Streaming: each top-level field is encoded into a small buffer and fed
 *     to zlib at once, so memory is one message, not the whole profile.
 *   - The gzip stream is zlib's (windowBits 15+16: gzip header and CRC).
 */
#include "profile_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- protobuf encoding into a growable buffer ---- */

struct pb {
    unsigned char *b;
    size_t len, cap;
};

static void pb_reserve(struct pb *p, size_t n)
{
    if (p->len + n <= p->cap)
        return;
    while (p->len + n > p->cap)
        p->cap = p->cap ? p->cap * 2 : 256;
    p->b = an_realloc(p->b, p->cap);
}

static void pb_varint(struct pb *p, uint64_t v)
{
    pb_reserve(p, 10);
    while (v >= 0x80) {
        p->b[p->len++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p->b[p->len++] = (unsigned char)v;
}

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

static void pb_tag(struct pb *p, unsigned field, unsigned wire)
{
    pb_varint(p, (uint64_t)field << 3 | wire);
}

static void pb_uint(struct pb *p, unsigned field, uint64_t v)
{
    if (v == 0)
        return;
    pb_tag(p, field, WIRE_VARINT);
    pb_varint(p, v);
}

static void pb_bytes(struct pb *p, unsigned field, const void *s, size_t n)
{
    pb_tag(p, field, WIRE_LEN);
    pb_varint(p, n);
    pb_reserve(p, n);
    memcpy(p->b + p->len, s, n);
    p->len += n;
}

/* Appends sub as message field `field` of p, and empties sub. */
static void pb_message(struct pb *p, unsigned field, struct pb *sub)
{
    pb_bytes(p, field, sub->b ? sub->b : (unsigned char *)"", sub->len);
    sub->len = 0;
}

/* ---- gzip output ---- */

struct gz {
    z_stream z;
    FILE *f;
    unsigned char out[1 << 16];
    int failed;
};

/* Compresses what p holds (flush = Z_FINISH at the end) and empties p. */
static void gz_feed(struct gz *g, struct pb *p, int flush)
{
    g->z.next_in = p->b;
    g->z.avail_in = (uInt)p->len;
    for (;;) {
        g->z.next_out = g->out;
        g->z.avail_out = sizeof g->out;
        int rc = deflate(&g->z, flush);
        if (rc == Z_STREAM_ERROR) {
            g->failed = 1;
            break;
        }
        size_t n = sizeof g->out - g->z.avail_out;
        if (n && fwrite(g->out, 1, n, g->f) != n)
            g->failed = 1;
        if (flush == Z_FINISH ? rc == Z_STREAM_END : g->z.avail_out != 0)
            break;
    }
    p->len = 0;
}

static void value_type(struct pb *out, struct pb *sub, unsigned field, const uint32_t ts[2])
{
    pb_uint(sub, 1, ts[0]);
    pb_uint(sub, 2, ts[1]);
    pb_message(out, field, sub);
}

/* A sample is written when one of its values is not zero. */
static int stack_written(const struct prof *p, const struct prof_stackent *e)
{
    for (size_t i = 0; i < p->nvalues; i++)
        if (e->v[i] != 0)
            return 1;
    return 0;
}

int prof_write_gzip(const struct prof *p, FILE *f, char *err, size_t errlen)
{
    struct gz *g = an_calloc(1, sizeof *g);
    g->f = f;
    if (deflateInit2(&g->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        snprintf(err, errlen, "zlib: deflateInit2 failed");
        free(g);
        return -1;
    }
    struct pb out = {0}, sub = {0}, sub2 = {0}, packed = {0};

    for (size_t i = 0; i < p->nvalues; i++)
        value_type(&out, &sub, 1, p->type_str[i]);
    gz_feed(g, &out, Z_NO_FLUSH);

    for (uint32_t s = 0; s < p->nstacks; s++) {
        const struct prof_stackent *e = &p->stacks[s];
        if (!stack_written(p, e))
            continue;
        for (uint32_t i = 0; i < e->n; i++)
            pb_varint(&packed, p->pool[e->off + i]);
        pb_message(&sub, 1, &packed);
        for (size_t i = 0; i < p->nvalues; i++)
            pb_varint(&packed, (uint64_t)e->v[i]);
        pb_message(&sub, 2, &packed);
        pb_message(&out, 2, &sub);
        if (out.len > (1 << 15))
            gz_feed(g, &out, Z_NO_FLUSH);
    }

    /* Only what the written samples use: a stack interned for an interval
     * that ended up empty leaves no trace in the output. */
    unsigned char *loc_used = an_calloc(p->nlocs + 1, 1);
    unsigned char *func_used = an_calloc(p->nfuncs + 1, 1);
    for (uint32_t s = 0; s < p->nstacks; s++) {
        const struct prof_stackent *e = &p->stacks[s];
        if (!stack_written(p, e))
            continue;
        for (uint32_t i = 0; i < e->n; i++)
            loc_used[p->pool[e->off + i]] = 1;
    }
    for (uint32_t i = 0; i < p->nlocs; i++)
        if (loc_used[i + 1])
            func_used[p->locs[i].func] = 1;

    for (uint32_t i = 0; i < p->nlocs; i++) {
        const struct prof_loc *l = &p->locs[i];
        if (!loc_used[i + 1])
            continue;
        pb_uint(&sub, 1, i + 1);
        pb_uint(&sub, 3, l->pc);
        pb_uint(&sub2, 1, l->func);
        pb_uint(&sub2, 2, (uint64_t)l->line);
        pb_message(&sub, 4, &sub2);
        pb_message(&out, 4, &sub);
        if (out.len > (1 << 15))
            gz_feed(g, &out, Z_NO_FLUSH);
    }

    for (uint32_t i = 0; i < p->nfuncs; i++) {
        const struct prof_func *fn = &p->funcs[i];
        if (!func_used[i + 1])
            continue;
        pb_uint(&sub, 1, i + 1);
        pb_uint(&sub, 2, fn->name);
        pb_uint(&sub, 3, fn->name);
        pb_uint(&sub, 4, fn->file);
        pb_message(&out, 5, &sub);
        if (out.len > (1 << 15))
            gz_feed(g, &out, Z_NO_FLUSH);
    }

    for (uint32_t i = 0; i < p->strs.n; i++) {
        pb_bytes(&out, 6, p->strs.s[i], p->strs.len[i]);
        if (out.len > (1 << 15))
            gz_feed(g, &out, Z_NO_FLUSH);
    }

    value_type(&out, &sub, 11, p->period_str);
    pb_uint(&out, 12, (uint64_t)p->period);
    gz_feed(g, &out, Z_FINISH);
    deflateEnd(&g->z);

    int failed = g->failed || fflush(f) != 0 || ferror(f);
    if (failed)
        snprintf(err, errlen, "write failed");
    free(out.b);
    free(sub.b);
    free(sub2.b);
    free(packed.b);
    free(loc_used);
    free(func_used);
    free(g);
    return failed ? -1 : 0;
}
