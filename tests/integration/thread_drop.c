/*
 * thread_drop.c - a thread that registers while memory runs out must be
 * left out of the trace (and counted), never given a P id another thread
 * has: two running threads on one P make a trace Go's parser rejects.
 *
 * Fault injection: the library calls ct_test_fail_alloc(site), a weak
 * symbol this program defines (exported: ENABLE_EXPORTS), before growing
 * its P id table; while `failing` is set it says "fail" for site "pid".
 * Outside sanitizer builds the program also wraps realloc itself (through
 * glibc's __libc_realloc), failing every realloc while `failing` is set,
 * so the same program shows what a library without the hook does.
 *
 * The P id table is first grown when the first thread registers: here the
 * main thread, adopted at ctrace_start_file.  With `failing` set from
 * before the start, the main thread and two workers that run at the same
 * time register without memory; then `failing` is cleared and a third
 * worker registers normally.  The script checks the trace with Go's
 * parsers: only the last worker's region is in it.
 */
#define _GNU_SOURCE
#include <ctrace.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "testutil.h"

static _Atomic int failing;

int ct_test_fail_alloc(const char *site);
int ct_test_fail_alloc(const char *site)
{
    return atomic_load(&failing) && strcmp(site, "pid") == 0;
}

/* Sanitizers bring their own allocator: no wrapper there (gcc defines
 * __SANITIZE_*__, clang answers __has_feature). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NO_REALLOC_WRAPPER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define NO_REALLOC_WRAPPER 1
#endif
#endif

#ifndef NO_REALLOC_WRAPPER
extern void *__libc_realloc(void *p, size_t n);
void *realloc(void *p, size_t n)
{
    if (atomic_load(&failing))
        return NULL;
    return __libc_realloc(p, n);
}
#endif

static pthread_barrier_t together;

static void *worker(void *arg)
{
    const char *region = arg;
    ctrace_region_begin(0, region);
    pthread_barrier_wait(&together); /* both workers are running now */
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 20000000ul; i++)
        x += i;
    ctrace_region_end(0, region);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    t_phase("thread_drop", 60);
    pthread_barrier_init(&together, NULL, 2);
    atomic_store(&failing, 1);
    CHECK_RC(ctrace_start_file("drop.trace"), CTRACE_OK, "ctrace_start_file");
    ctrace_region_begin(0, "dropped-main");
    pthread_t a, b, c;
    pthread_create(&a, NULL, worker, "dropped-worker");
    pthread_create(&b, NULL, worker, "dropped-worker");
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    ctrace_region_end(0, "dropped-main");
    atomic_store(&failing, 0);
    pthread_barrier_destroy(&together);
    pthread_barrier_init(&together, NULL, 1);
    pthread_create(&c, NULL, worker, "kept-worker");
    pthread_join(c, NULL);
    ctrace_stats st;
    int r = ctrace_stop();
    ctrace_get_stats(&st);
    CHECK_RC(r, CTRACE_OK, "ctrace_stop");
#ifndef THREAD_DROP_OLD_API
    CHECK(st.threads_dropped == 3, "threads dropped: the main thread and two workers (%llu)",
          (unsigned long long)st.threads_dropped);
#endif
    return t_finish();
}
