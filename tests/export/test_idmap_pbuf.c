/*
 * test_idmap_pbuf.c - unit tests of the exporter's data structures and
 * encoders: its map, src/base's u64map with pointer values (against a plain
 * array as reference, through inserts, deletes with backward shift, growth
 * and iteration); pbuf (varints at every size boundary, nested messages
 * whose length needs 1, 2 and 3 bytes, compared with hand-computed
 * encodings); outbuf's numbers (against printf, at every digit count and
 * over the whole range), short copies and the kept text of a number
 * (outbuf_num_set, outbuf_num_put, and the two mixed); utf8.h's word test (against the
 * byte rule, every byte value at every place of a word); addrmemo's two
 * ways.  Exits 1 on the first mismatch.
 */
#include "addrmemo.h"
#include "outbuf.h"
#include "pbuf.h"
#include "u64map.h"
#include "utf8.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                           \
    do {                                                                   \
        if (!(c)) {                                                        \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);   \
            return 1;                                                      \
        }                                                                  \
    } while (0)

static int test_idmap(void)
{
    enum { N = 5000 };
    static void *ref[N]; /* key i -> value, NULL if absent */
    struct u64map m = {0};
    uint64_t rng = 42;
    for (int step = 0; step < 200000; step++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t k = (rng >> 33) % N;
        /* Keys share low bits (k << 20) so that runs form and deletes shift. */
        uint64_t key = k << 20;
        if ((rng >> 20) % 3) {
            void *v = (void *)(uintptr_t)(step + 1);
            CHECK(u64map_put_ptr(&m, key, v) == 0);
            ref[k] = v;
        } else {
            CHECK(u64map_take_ptr(&m, key) == ref[k]);
            ref[k] = NULL;
        }
        if (step % 997 == 0) {
            size_t live = 0;
            for (int i = 0; i < N; i++) {
                CHECK(u64map_get_ptr(&m, (uint64_t)i << 20) == ref[i]);
                live += ref[i] != NULL;
            }
            CHECK(m.len == live);
            size_t seen = 0, pos = 0;
            uint64_t k2;
            void *v2;
            while (u64map_next_ptr(&m, &pos, &k2, &v2)) {
                CHECK(ref[k2 >> 20] == v2);
                seen++;
            }
            CHECK(seen == live);
        }
    }
    u64map_free(&m);
    return 0;
}

static int test_pbuf(void)
{
    struct pbuf b = {0};
    static const struct {
        uint64_t v;
        size_t n;
    } sizes[] = {{0, 1}, {127, 1}, {128, 2}, {16383, 2}, {16384, 3}, {UINT64_MAX, 10}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        CHECK(pbuf_varint_size(sizes[i].v) == sizes[i].n);

    pbuf_uint(&b, 1, 300); /* 08 ac 02 */
    CHECK(b.len == 3 && b.buf[0] == 0x08 && b.buf[1] == 0xac && b.buf[2] == 0x02);
    pbuf_reset(&b);
    pbuf_int(&b, 2, -1); /* 10 ff*9 01 */
    CHECK(b.len == 11 && b.buf[0] == 0x10 && b.buf[10] == 0x01);
    pbuf_reset(&b);
    pbuf_fixed64(&b, 47, 0x0102030405060708ULL); /* tag 47<<3|1 = 377 = f9 02 */
    CHECK(b.len == 10 && b.buf[0] == 0xf9 && b.buf[1] == 0x02 && b.buf[2] == 0x08 && b.buf[9] == 0x01);

    /* Nested: outer { inner { bytes of n } } for bodies whose lengths need
     * 1, 2 and 3 length bytes. */
    static char payload[20000];
    memset(payload, 'x', sizeof payload);
    size_t lens[] = {0, 5, 125, 126, 200, 16000, 16380, 19990};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        pbuf_reset(&b);
        pbuf_open(&b, 3);
        pbuf_open(&b, 4);
        pbuf_bytes(&b, 5, payload, lens[i]);
        pbuf_close(&b);
        pbuf_close(&b);
        CHECK(!b.failed && b.depth == 0);
        size_t l5 = 1 + pbuf_varint_size(lens[i]) + lens[i];
        size_t l4 = 1 + pbuf_varint_size(l5) + l5;
        size_t l3 = 1 + pbuf_varint_size(l4) + l4;
        CHECK(b.len == l3);
        /* Decode the lengths back. */
        size_t off = 0;
        uint64_t v;
        int shift;
        CHECK(b.buf[off++] == (3 << 3 | 2));
        for (v = 0, shift = 0; b.buf[off] & 0x80; shift += 7)
            v |= (uint64_t)(b.buf[off++] & 0x7f) << shift;
        v |= (uint64_t)b.buf[off++] << shift;
        CHECK(v == l4);
        CHECK(b.buf[off++] == (4 << 3 | 2));
        for (v = 0, shift = 0; b.buf[off] & 0x80; shift += 7)
            v |= (uint64_t)(b.buf[off++] & 0x7f) << shift;
        v |= (uint64_t)b.buf[off++] << shift;
        CHECK(v == l5);
        CHECK(b.buf[b.len - 1] == (lens[i] ? 'x' : 0));
    }
    pbuf_free(&b);
    return 0;
}

static int test_outbuf(void)
{
    static struct outbuf o; /* never flushed: each number goes at 0 */
    char want[32];
    uint64_t rng = 7;
    for (int i = 0; i < 2000000; i++) {
        uint64_t v;
        if (i < 21 * 3) { /* 10^k - 1, 10^k, 10^k + 1 */
            uint64_t p = 1;
            for (int k = 0; k < i / 3; k++)
                p *= 10;
            v = i / 3 == 20 ? UINT64_MAX - (uint64_t)(i % 3) : p - 1 + (uint64_t)(i % 3);
        } else {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            v = rng >> (rng % 64); /* every length */
        }
        o.len = 0;
        outbuf_u64(&o, v);
        int n = snprintf(want, sizeof want, "%" PRIu64, v);
        CHECK(o.len == (size_t)n && !memcmp(o.buf, want, o.len));
        CHECK(outbuf_digits(v) == (unsigned)n);
    }
    o.len = 0;
    outbuf_i64(&o, INT64_MIN);
    CHECK(o.len == 20 && !memcmp(o.buf, "-9223372036854775808", 20));
    char src[64], d[64];
    for (int i = 0; i < 64; i++)
        src[i] = (char)(i + 1);
    for (size_t off = 0; off < 16; off++)
        for (size_t n = 0; n <= 32; n++) {
            memset(d, 0x55, sizeof d);
            outbuf_copy_short(d + 1, src + off, n);
            CHECK(d[0] == 0x55 && !memcmp(d + 1, src + off, n) && d[1 + n] == 0x55);
        }
    for (size_t n = 0; n <= 64; n++) {
        memset(d, 0x55, sizeof d);
        outbuf_copy64(d, src, n);
        CHECK(!memcmp(d, src, n) && (n == 64 || d[n] == 0x55));
    }
    /* The number's text kept from one to the next: the same number, the
     * last four digits anew, any other (0, across 10^4 boundaries, below
     * 10000 after a larger one, the largest), each as printf writes it. */
    static const uint64_t seq[] = {0, 0, 7, 9999, 10000, 10001, 19999, 20000, 123456789,
                                   123450000, 123459999, 42, 42, 1000000000000, 1000000000001,
                                   UINT64_MAX, UINT64_MAX - 1, 5, 10000};
    struct outbuf_num m = {0};
    for (size_t i = 0; i < sizeof seq / sizeof *seq; i++) {
        outbuf_num_set(&m, seq[i]);
        int n = snprintf(want, sizeof want, "%" PRIu64, seq[i]);
        CHECK(m.len == (size_t)n && !memcmp(m.s, want, m.len));
    }
    for (int i = 0; i < 200000; i++) { /* a walk of small and large steps */
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t v = m.v + (rng >> (40 + rng % 24));
        outbuf_num_set(&m, v);
        int n = snprintf(want, sizeof want, "%" PRIu64, v);
        CHECK(m.len == (size_t)n && !memcmp(m.s, want, m.len));
    }
    /* outbuf_num_put: the text at `at`, the same sequences; and mixed with
     * outbuf_num_set on one m (put leaves m->s the text of m->v). */
    char at[OUTBUF_NUM_MOVE + 8];
    struct outbuf_num p = {0};
    for (size_t i = 0; i < sizeof seq / sizeof *seq; i++) {
        memset(at, 'x', sizeof at);
        char *e = outbuf_num_put(&p, at, seq[i]);
        int n = snprintf(want, sizeof want, "%" PRIu64, seq[i]);
        CHECK(e - at == n && !memcmp(at, want, (size_t)n));
        CHECK(p.len && !memcmp(p.s, want, p.len - (p.len > 4 ? 4 : 0)));
    }
    uint64_t v = 0;
    for (int i = 0; i < 200000; i++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        v += rng >> (40 + rng % 24);
        int n = snprintf(want, sizeof want, "%" PRIu64, v);
        if (rng & (1ULL << 33)) {
            outbuf_num_set(&p, v);
            CHECK(p.len == (size_t)n && !memcmp(p.s, want, p.len));
        } else {
            char *e = outbuf_num_put(&p, at, v);
            CHECK(e - at == n && !memcmp(at, want, (size_t)n));
        }
        char ms[32];
        CHECK(snprintf(ms, sizeof ms, "%" PRIu64, p.v) == (int)p.len && !memcmp(p.s, ms, p.len));
    }
    return 0;
}

/* The rule plain_ascii8 tests a word at a time. */
static int plain_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static int test_utf8(void)
{
    unsigned char w[8];
    for (int at = 0; at < 8; at++)
        for (int c = 0; c < 256; c++) {
            memset(w, 'a', sizeof w);
            w[at] = (unsigned char)c;
            CHECK(plain_ascii8(w) == plain_byte((unsigned char)c));
            if (at > 0) { /* a borrow from below must not hide a byte */
                w[at - 1] = 0x00;
                CHECK(!plain_ascii8(w));
            }
        }
    /* copy_plain8 copies plain words only, and says where a word ends */
    const char *s = "plain text!\"quoted\"";
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    char out[64], *d = out;
    CHECK(copy_plain8(&d, &p, end) == NULL && d == out + 8 && !memcmp(out, s, 8));
    CHECK(copy_plain8(&d, &p, end) == p + 8 && d == out + 8); /* '"' in the word */
    return 0;
}

static int test_addrmemo(void)
{
    static struct addrmemo m;
    static const char s[] = "abcdef";
    uint64_t v;
    CHECK(!addrmemo_get(&m, NULL, 0, &v)); /* an empty way is no key */
    addrmemo_put(&m, s, 3, 1);
    addrmemo_put(&m, s, 6, 2); /* the same address, another length */
    CHECK(addrmemo_get(&m, s, 3, &v) && v == 1);
    CHECK(addrmemo_get(&m, s, 6, &v) && v == 2);
    addrmemo_put(&m, s, 4, 3); /* a third in the set: the oldest goes */
    CHECK(!addrmemo_get(&m, s, 3, &v));
    CHECK(addrmemo_get(&m, s, 4, &v) && v == 3 && addrmemo_get(&m, s, 6, &v) && v == 2);
    addrmemo_clear(&m);
    CHECK(!addrmemo_get(&m, s, 4, &v));
    struct addrtext t = {0};
    size_t n;
    CHECK(addrtext_put(&t, s, 6, "\"abcdef\"", 8) && addrtext_get(&t, s, 6, &n) && n == 8);
    CHECK(!memcmp(addrtext_get(&t, s, 6, &n), "\"abcdef\"", 8) && !addrtext_get(&t, s, 5, &n));
    addrtext_free(&t);
    return 0;
}

int main(void)
{
    if (test_idmap() || test_pbuf() || test_outbuf() || test_utf8() || test_addrmemo())
        return 1;
    printf("idmap, pbuf, outbuf, utf8, addrmemo: all passed\n");
    return 0;
}
