/*
 * test_symbolize.c - PC -> function/file/line through libdw.  Built with
 * -g -O2 so the always_inline helpers below really are inlined.
 *
 * Invariants checked:
 *  - a PC inside two levels of inlined code expands to three frames,
 *    innermost first, with the PC's line for the innermost and the call
 *    sites' lines for the callers;
 *  - a return address (is_return) is looked up at pc - 1;
 *  - a libc PC resolves to the libc symbol; a garbage PC gives one "?"
 *    frame; a library dlopen'ed after the symbolizer was made is found;
 *  - results are cached (same pointers) and the cache survives growth.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolize.h"
#include "test_util.h"

static uintptr_t cap_ra;
static int cap_line, mid_line, outer_line;

__attribute__((noinline)) static void capture(int line)
{
    cap_ra = (uintptr_t)__builtin_return_address(0);
    cap_line = line;
    __asm__ volatile("" ::: "memory");
}

static inline __attribute__((always_inline)) int inl_inner(int x)
{
    capture(__LINE__);
    return x + 1;
}

static inline __attribute__((always_inline)) int inl_mid(int x, int line)
{
    mid_line = line;
    return inl_inner(x * 2) + 3; /* call site of inl_inner: see below */
}
static const int inl_mid_call_line = __LINE__ - 2;

__attribute__((noinline)) int outer_func(int x)
{
    int r = inl_mid(x, __LINE__);
    NO_TAIL(r);
    return r;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void dump(const struct ct_frame *f, int n)
{
    for (int i = 0; i < n; i++)
        fprintf(stderr, "  #%d %#lx %s %s:%u\n", i, (unsigned long)f[i].pc, f[i].func, f[i].file,
                f[i].line);
}

static void test_inline(struct ct_symbolizer *s)
{
    outer_func(5);
    outer_line = mid_line;
    struct ct_frame f[16];
    errno = 4711;
    int n = ct_symbolize(s, cap_ra, 1, f, 16);
    CHECK(errno == 4711);
    CHECKF(n == 3, "n=%d", n);
    if (n == 3) {
        CHECK(strcmp(f[0].func, "inl_inner") == 0);
        CHECK(ends_with(f[0].file, "test_symbolize.c"));
        CHECKF(f[0].line == (unsigned)cap_line, "line %u want %d", f[0].line, cap_line);
        CHECK(strcmp(f[1].func, "inl_mid") == 0);
        CHECK(ends_with(f[1].file, "test_symbolize.c"));
        CHECKF(f[1].line == (unsigned)inl_mid_call_line, "line %u want %d", f[1].line,
               inl_mid_call_line);
        CHECK(strcmp(f[2].func, "outer_func") == 0);
        CHECKF(f[2].line == (unsigned)outer_line, "line %u want %d", f[2].line, outer_line);
        CHECK(f[0].file[0] == '/'); /* absolute */
    }
    for (int i = 0; i < n; i++)
        CHECK(f[i].pc == cap_ra);
    if (test_failures)
        dump(f, n);

    /* Cached: same strings.  max truncates to the innermost frames. */
    struct ct_frame g[16];
    CHECK(ct_symbolize(s, cap_ra, 1, g, 16) == n);
    CHECK(n < 1 || g[0].func == f[0].func);
    CHECK(ct_symbolize(s, cap_ra, 1, g, 1) == 1 && strcmp(g[0].func, "inl_inner") == 0);
    CHECK(ct_symbolize(s, cap_ra, 1, g, 0) == 0);
}

static void test_plain_function(struct ct_symbolizer *s)
{
    /* A function's first instruction, not a return address. */
    struct ct_frame f[8];
    int n = ct_symbolize(s, (uintptr_t)&outer_func, 0, f, 8);
    CHECKF(n >= 1 && strcmp(f[0].func, "outer_func") == 0, "n=%d %s", n, n ? f[0].func : "");
    CHECK(n >= 1 && f[0].line > 0 && ends_with(f[0].file, "test_symbolize.c"));
}

static void test_libc(struct ct_symbolizer *s)
{
    void *p = dlsym(RTLD_DEFAULT, "getpid");
    CHECK(p != NULL);
    struct ct_frame f[8];
    int n = ct_symbolize(s, (uintptr_t)p + 1, 0, f, 8);
    CHECKF(n >= 1 && strstr(f[0].func, "getpid") != NULL, "libc getpid -> %s",
           n ? f[0].func : "(none)");
    if (n < 1 || !strstr(f[0].func, "getpid"))
        dump(f, n);
}

static void test_garbage(struct ct_symbolizer *s)
{
    uintptr_t bad[] = {0, 0x10, 0xdeadbeef, (uintptr_t)-1, 0x00007fffffff0000ull};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ct_frame f[8];
        int n = ct_symbolize(s, bad[i], i & 1, f, 8);
        CHECKF(n == 1, "garbage %#lx n=%d", (unsigned long)bad[i], n);
        if (n == 1) {
            CHECK(strcmp(f[0].func, "?") == 0);
            CHECK(strcmp(f[0].file, "?") == 0);
            CHECK(f[0].line == 0);
            CHECK(f[0].pc == bad[i]);
        }
    }
    /* Twice: the provisional (no module) entry is served again. */
    struct ct_frame f[2];
    CHECK(ct_symbolize(s, 0x10, 0, f, 2) == 1 && strcmp(f[0].func, "?") == 0);
    /* NULL symbolizer still yields a frame. */
    CHECK(ct_symbolize(NULL, 0x1234, 1, f, 2) == 1 && strcmp(f[0].func, "?") == 0);
}

static void test_dlopen(struct ct_symbolizer *s)
{
    void *h = dlopen(CT_TEST_PLUGIN, RTLD_NOW);
    CHECKF(h != NULL, "dlopen %s: %s", CT_TEST_PLUGIN, dlerror());
    if (!h)
        return;
    int (*fn)(int) = (int (*)(int))dlsym(h, "ct_test_plugin_fn");
    CHECK(fn != NULL && fn(2) == 7);
    struct ct_frame f[8];
    errno = 4712;
    int n = ct_symbolize(s, (uintptr_t)fn, 0, f, 8);
    CHECK(errno == 4712);
    CHECKF(n >= 1 && strcmp(f[0].func, "ct_test_plugin_fn") == 0, "plugin -> %s",
           n ? f[0].func : "(none)");
    CHECK(n >= 1 && ends_with(f[0].file, "plugin.c"));
    /* The strings outlive the module. */
    const char *name = f[0].func;
    dlclose(h);
    CHECK(strcmp(name, "ct_test_plugin_fn") == 0);
    /* A new miss re-reads the module list (the loader's counters moved):
     * the unloaded plugin is dropped, its userdata freed, nothing else. */
    CHECK(ct_symbolize(s, 0x20, 0, f, 8) == 1 && strcmp(f[0].func, "?") == 0);
    CHECK(ct_symbolize(s, (uintptr_t)&outer_func, 0, f, 8) >= 1 &&
          strcmp(f[0].func, "outer_func") == 0);
}

static void test_many(struct ct_symbolizer *s)
{
    /* Thousands of distinct PCs in this program force the cache to grow
     * (our own small CUs: cheap to resolve even under sanitizers). */
    uintptr_t base = (uintptr_t)&outer_func;
    const char *first = NULL;
    for (int i = 0; i < 5000; i++) {
        struct ct_frame f[8];
        int n = ct_symbolize(s, base + (uintptr_t)i, 0, f, 8);
        CHECK(n >= 1);
        if (i == 0)
            first = f[0].func;
    }
    struct ct_frame f[8];
    CHECK(ct_symbolize(s, base, 0, f, 8) >= 1 && f[0].func == first);
}

int main(void)
{
    struct ct_symbolizer *s = ct_symbolizer_new();
    CHECK(s != NULL);
    if (!s)
        return 1;
    test_inline(s);
    test_plain_function(s);
    test_libc(s);
    test_garbage(s);
    test_dlopen(s);
    test_many(s);
    ct_symbolizer_free(s);
    ct_symbolizer_free(NULL);
    if (test_failures)
        fprintf(stderr, "test_symbolize: %d failures\n", test_failures);
    else
        printf("test_symbolize: ok\n");
    return test_failures != 0;
}
