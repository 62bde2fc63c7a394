/*
 * analysis_unit.c - unit tests of the goroutine table (gtable.h), the
 * region stacks (regions.h) and the generation-trusting string memo
 * (addrmemo.h, struct addrmemo_gen).  Prints "N passed, N failed".
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addrmemo.h"
#include "gtable.h"
#include "regions.h"
#include "strtab.h"

static int passed, failed;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                  \
    } while (0)

struct rec {
    uint64_t id;
    int value;
};

/* Records are zeroed, found again, reused last-released-first, and
 * iterated in slot order, for small (indexed) and large (mapped) ids. */
static void test_gtable(void)
{
    struct gtable t;
    gtable_init(&t, sizeof(struct rec));
    const uint64_t ids[] = {1, 2, 70000, (uint64_t)1 << 40, 65535, 65536};
    const size_t n = sizeof ids / sizeof ids[0];
    for (size_t i = 0; i < n; i++) {
        CHECK(gtable_find(&t, ids[i]) == NULL);
        struct rec *r = gtable_get(&t, ids[i]);
        CHECK(r && r->id == 0 && r->value == 0);
        r->id = ids[i];
        r->value = (int)i + 1;
    }
    for (size_t i = 0; i < n; i++) {
        struct rec *r = gtable_find(&t, ids[i]);
        CHECK(r && r->id == ids[i] && r->value == (int)i + 1);
    }
    CHECK(gtable_find(&t, 3) == NULL && gtable_find(&t, 70001) == NULL);

    /* Release a small and a large id; the large one's slot (released
     * last) is reused first, zeroed. */
    gtable_release(&t, 2);
    gtable_release(&t, (uint64_t)1 << 40);
    gtable_release(&t, 12345); /* absent: nothing */
    CHECK(gtable_find(&t, 2) == NULL && gtable_find(&t, (uint64_t)1 << 40) == NULL);
    struct rec *r = gtable_get(&t, 99);
    CHECK(r && r->value == 0);
    CHECK(r == (struct rec *)(void *)(t.recs + 3 * t.size)); /* slot of 1 << 40 */
    r->id = 99;
    r = gtable_get(&t, 2);
    CHECK(r && r->value == 0 && r == (struct rec *)(void *)(t.recs + 1 * t.size));
    r->id = 2;

    /* Iteration: live records in slot order. */
    const uint64_t want[] = {1, 2, 70000, 99, 65535, 65536};
    size_t k = 0;
    uint32_t pos = 0;
    while ((r = gtable_next(&t, &pos)) != NULL) {
        CHECK(k < 6 && r->id == want[k]);
        k++;
    }
    CHECK(k == 6);
    gtable_release(&t, 70000);
    k = 0;
    pos = 0;
    while (gtable_next(&t, &pos))
        k++;
    CHECK(k == 5);
    gtable_free(&t);
}

/* Regions match by name id, innermost first; an end closes the regions
 * opened inside; past the depth limit nothing is tracked. */
static void test_regions(void)
{
    struct regions_g gr = {0};
    int64_t begin;
    uint32_t cookie;
    CHECK(regions_end(&gr, 1, &begin, &cookie) == 0);
    CHECK(regions_begin(&gr, 1, 10, 100) == 1);
    CHECK(regions_begin(&gr, 2, 20, 200) == 1);
    CHECK(regions_begin(&gr, 1, 30, 300) == 1);
    CHECK(regions_end(&gr, 1, &begin, &cookie) == 1 && begin == 30 && cookie == 300);
    CHECK(regions_end(&gr, 1, &begin, &cookie) == 1 && begin == 10 && cookie == 100);
    CHECK(regions_end(&gr, 2, &begin, &cookie) == 0); /* closed with 1 */
    for (int i = 0; i < REGIONS_MAX_DEPTH; i++)
        CHECK(regions_begin(&gr, 7, i, 0) == 1);
    CHECK(regions_begin(&gr, 8, 0, 0) == 0);
    CHECK(regions_end(&gr, 8, &begin, &cookie) == 0);
    regions_goroutine_end(&gr);
    CHECK(gr.n == 0 && gr.open == NULL);
}

/* The generation-trusting memo (addrmemo.h, struct addrmemo_gen): a hit
 * within the generation it was put for, a miss for another, and a put for
 * a new generation forgets the old entries. */
static void test_memo_gen(void)
{
    struct addrmemo_gen m = {0};
    char a[] = "chan send", b[] = "sync.Mutex.Lock";
    uint64_t v = 99;
    CHECK(!addrmemo_gen_get(&m, 1, a, strlen(a), &v));
    addrmemo_gen_put(&m, 1, a, strlen(a), 1);
    addrmemo_gen_put(&m, 1, b, strlen(b), 2);
    CHECK(addrmemo_gen_get(&m, 1, a, strlen(a), &v) && v == 1);
    CHECK(addrmemo_gen_get(&m, 1, b, strlen(b), &v) && v == 2);
    CHECK(!addrmemo_gen_get(&m, 1, a, 4, &v)); /* other length */
    CHECK(!addrmemo_gen_get(&m, 2, a, strlen(a), &v));
    /* Generation 2 puts another value at a's address: the entries of
     * generation 1 must not survive it. */
    addrmemo_gen_put(&m, 2, a, strlen(a), 3);
    CHECK(addrmemo_gen_get(&m, 2, a, strlen(a), &v) && v == 3);
    CHECK(!addrmemo_gen_get(&m, 2, b, strlen(b), &v));
    CHECK(!addrmemo_gen_get(&m, 1, a, strlen(a), &v));
    /* An empty way is no key, in a zeroed memo too. */
    struct addrmemo_gen z = {0};
    CHECK(!addrmemo_gen_get(&z, 0, NULL, 0, &v));
}

int main(void)
{
    test_gtable();
    test_regions();
    test_memo_gen();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
