/*
 * test_base.c - unit tests of src/base, the map and the interner the reader
 * (and analysis, export, tools) are built on.  u64map with u64 values:
 * against a plain array as reference through puts, deletes (backward
 * shift, with keys sharing low bits so that runs form), growth, the key
 * UINT64_MAX, del's old value, clear keeping the storage and iteration.
 * strtab: dense ids in order of first sight, equal content -> same id,
 * content with NULs and the empty string, own copies (the caller's buffer
 * is overwritten), pointers stable across growth, find vs intern.  Exits 1
 * on the first mismatch.
 */
#include "hash.h"
#include "strtab.h"
#include "u64map.h"

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

static int test_u64map(void)
{
    enum { N = 3000 };
    static uint64_t ref[N];
    static unsigned char have[N];
    struct u64map m = {0};
    CHECK(u64map_get(&m, 1) == NULL && !u64map_del(&m, 1, NULL));
    uint64_t rng = 7;
    for (int step = 0; step < 150000; step++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t k = (rng >> 33) % N;
        uint64_t key = k == 0 ? UINT64_MAX : k << 24; /* UINT64_MAX is a key like any */
        if ((rng >> 20) % 3) {
            CHECK(u64map_put(&m, key, (uint64_t)step) == 0);
            ref[k] = (uint64_t)step;
            have[k] = 1;
        } else {
            uint64_t old = 12345;
            int gone = u64map_del(&m, key, &old);
            CHECK(gone == have[k]);
            CHECK(!gone || old == ref[k]);
            have[k] = 0;
        }
        if (step % 1009 == 0) {
            size_t live = 0;
            for (uint64_t i = 0; i < N; i++) {
                const uint64_t *v = u64map_get(&m, i == 0 ? UINT64_MAX : i << 24);
                CHECK((v != NULL) == have[i]);
                CHECK(!v || *v == ref[i]);
                live += have[i];
            }
            CHECK(m.len == live);
            size_t seen = 0;
            uint64_t kk, vv;
            for (size_t pos = 0; u64map_next(&m, &pos, &kk, &vv); seen++) {
                uint64_t i = kk == UINT64_MAX ? 0 : kk >> 24;
                CHECK(i < N && have[i] && ref[i] == vv);
            }
            CHECK(seen == live);
        }
    }
    uint64_t *keys = m.keys;
    size_t cap = m.cap;
    u64map_clear(&m);
    CHECK(m.len == 0 && m.cap == cap && m.keys == keys); /* storage kept */
    CHECK(u64map_get(&m, 5ULL << 24) == NULL);
    size_t pos = 0;
    CHECK(!u64map_next(&m, &pos, NULL, NULL));
    CHECK(u64map_put(&m, 5, 50) == 0 && *u64map_get(&m, 5) == 50 && m.keys == keys);
    u64map_free(&m);
    CHECK(m.cap == 0 && m.len == 0 && u64map_get(&m, 5) == NULL);
    return 0;
}

static int test_strtab(void)
{
    struct strtab t = {0};
    CHECK(strtab_find(&t, "a", 1) == -1);
    char buf[32];
    enum { N = 20000 };
    const char *first = NULL;
    for (int i = 0; i < N; i++) {
        int n = snprintf(buf, sizeof buf, "s%d", i);
        CHECK(strtab_intern(&t, buf, (size_t)n) == i);
        if (i == 0)
            first = t.s[0];
        memset(buf, 'x', sizeof buf); /* the table keeps its own copy */
    }
    CHECK(t.n == N && t.s[0] == first && strcmp(first, "s0") == 0); /* never moved */
    for (int i = N - 1; i >= 0; i--) {
        int n = snprintf(buf, sizeof buf, "s%d", i);
        CHECK(strtab_find(&t, buf, (size_t)n) == i);
        CHECK(strtab_intern(&t, buf, (size_t)n) == i);
        CHECK(t.len[i] == (size_t)n && memcmp(t.s[i], buf, (size_t)n) == 0 && t.s[i][n] == 0);
    }
    /* Lengths, not terminators: "a\0b", "a\0c", "a" and "" are four strings. */
    int64_t ab = strtab_intern(&t, "a\0b", 3), ac = strtab_intern(&t, "a\0c", 3);
    int64_t a = strtab_intern(&t, "a", 1), e = strtab_intern(&t, "", 0);
    CHECK(ab == N && ac == N + 1 && a == N + 2 && e == N + 3);
    CHECK(strtab_intern(&t, "a\0b", 3) == ab && strtab_intern(&t, NULL, 0) == e);
    CHECK(t.len[e] == 0 && t.s[e][0] == 0);
    strtab_free(&t);
    CHECK(t.n == 0 && strtab_find(&t, "s1", 2) == -1);
    return 0;
}

/* The memo in front of a map answers as the map does: from a zeroed
 * struct, for keys that share a slot, for 0 and UINT64_MAX (the edges of
 * its tags), and after u64memo_forget of a deleted or changed key. */
static int test_u64memo(void)
{
    struct u64map m = {0};
    struct u64memo c;
    memset(&c, 0, sizeof c); /* zeroed: empty */
    uint64_t v = 7;
    const uint64_t keys[] = {0, 1, U64MEMO_SLOTS, 2 * U64MEMO_SLOTS, UINT64_MAX, UINT64_MAX - U64MEMO_SLOTS,
                             U64MEMO_SLOTS - 1, 1ULL << 63};
    const size_t nk = sizeof keys / sizeof keys[0];
    for (size_t k = 0; k < nk; k++) /* nothing in the map: every key absent */
        CHECK(!u64memo_get(&c, &m, keys[k], &v) && v == 7);
    for (size_t k = 0; k < nk; k++)
        CHECK(u64map_put(&m, keys[k], 100 + k) == 0);
    for (int round = 0; round < 2; round++) /* misses, then hits or slot mates' misses */
        for (size_t k = 0; k < nk; k++) {
            CHECK(u64memo_get(&c, &m, keys[k], &v) && v == 100 + k);
            CHECK(u64memo_get(&c, &m, keys[k], &v) && v == 100 + k);
        }
    /* A changed value and a deleted key, each forgotten. */
    CHECK(u64map_put(&m, U64MEMO_SLOTS, 555) == 0);
    u64memo_forget(&c, U64MEMO_SLOTS);
    CHECK(u64memo_get(&c, &m, U64MEMO_SLOTS, &v) && v == 555);
    CHECK(u64map_del(&m, UINT64_MAX, NULL));
    u64memo_get(&c, &m, UINT64_MAX, &v);
    u64memo_forget(&c, UINT64_MAX);
    CHECK(!u64memo_get(&c, &m, UINT64_MAX, &v));
    /* Forgetting a key that is not the slot's leaves the slot's. */
    CHECK(u64memo_get(&c, &m, 0, &v) && v == 100);
    u64memo_forget(&c, U64MEMO_SLOTS * 5);
    CHECK(u64memo_get(&c, &m, 0, &v) && v == 100);
    /* Pointer values. */
    int x;
    CHECK(u64map_put_ptr(&m, 42, &x) == 0);
    CHECK(u64memo_get_ptr(&c, &m, 42) == &x && u64memo_get_ptr(&c, &m, 42) == &x);
    CHECK(u64memo_get_ptr(&c, &m, 43) == NULL);
    u64memo_clear(&c);
    CHECK(u64memo_get_ptr(&c, &m, 42) == &x);
    u64map_free(&m);
    return 0;
}

static int test_hash(void)
{
    /* FNV-1a's published value for "a", and the seed entering the basis. */
    CHECK(hash_fnv1a("a", 1, 0) == 0xaf63dc4c8601ec8cULL);
    CHECK(hash_fnv1a("a", 1, 1) != hash_fnv1a("a", 1, 0));
    CHECK(hash_bytes("a", 1, 0) == hash_mix64(hash_fnv1a("a", 1, 0)));
    CHECK(hash_mix64(0) == 0 && hash_mix64(1) != hash_mix64(2));
    return 0;
}

int main(void)
{
    if (test_u64map() || test_u64memo() || test_strtab() || test_hash())
        return 1;
    printf("u64map, u64memo, strtab, hash: all passed\n");
    return 0;
}
