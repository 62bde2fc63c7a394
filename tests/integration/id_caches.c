/*
 * id_caches.c - the per-thread string and stack id caches (src/runtime/intern.c)
 * must never hand out a wrong id.  One trace (id-caches.trace, 5 ms
 * generations, frame-pointer stacks) holds:
 *   - "reuse": 200 logs whose message is one buffer rewritten in place with
 *     the same length and new contents (msg-000 .. msg-199), and "fmt": 200
 *     ctrace_logf calls (val-000 .. val-199) formatted into one stack buffer;
 *   - "from-a" / "from-b": logs written by one call site, log_here(),
 *     reached alternately from caller_a() and caller_b(): same innermost PC,
 *     different stacks;
 *   - "alt-a" / "alt-b": regions begun and ended alternately by two sites;
 *   - "gens": one log per millisecond from the same stack until 4 more
 *     generations are written, so the same stack (and the same message
 *     pointer) is used in several generations, whose ids are numbered afresh.
 * The driver (check_program.sh id_caches) validates the trace with Go 1.22
 * and 1.23 and checks every message text and every stack from Go's text.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ctrace.h"
#include "testutil.h"

#define BARRIER() __asm__ volatile("" ::: "memory")

__attribute__((noinline)) static void log_here(const char *cat)
{
    ctrace_log(0, cat, "same-site");
    BARRIER();
}

__attribute__((noinline)) static void caller_a(void)
{
    log_here("from-a");
    BARRIER();
}

__attribute__((noinline)) static void caller_b(void)
{
    log_here("from-b");
    BARRIER();
}

__attribute__((noinline)) static void site_alt_a(void)
{
    ctrace_region_begin(0, "alt-a");
    ctrace_region_end(0, "alt-a");
    BARRIER();
}

__attribute__((noinline)) static void site_alt_b(void)
{
    ctrace_region_begin(0, "alt-b");
    ctrace_region_end(0, "alt-b");
    BARRIER();
}

__attribute__((noinline)) static void gens_site(int i)
{
    ctrace_logf(0, "gens", "tick %d", i % 2);
    BARRIER();
}

int main(void)
{
    t_phase("id_caches", 60);
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.stacks = CTRACE_STACKS_FP;
    cfg.period_ns = 5000000; /* 5 ms */
    cfg.cpu_hz = 0;
    CHECK_RC(ctrace_configure(&cfg), CTRACE_OK, "ctrace_configure");
    CHECK_RC(ctrace_start_file("id-caches.trace"), CTRACE_OK, "ctrace_start_file");

    char buf[16];
    for (int i = 0; i < 200; i++) {
        snprintf(buf, sizeof buf, "msg-%03d", i);
        ctrace_log(0, "reuse", buf);
        ctrace_logf(0, "fmt", "val-%03d", i);
    }
    for (int i = 0; i < 200; i++) {
        caller_a();
        caller_b();
        site_alt_a();
        site_alt_b();
    }
    /* Until 4 more generations are written (they take longer than 5 ms
     * on a loaded machine), at most 20 s. */
    ctrace_stats st;
    ctrace_get_stats(&st);
    uint64_t g0 = st.generations;
    double t0 = t_now();
    int n = 0;
    do {
        gens_site(n++);
        t_sleep_ms(1);
        ctrace_get_stats(&st);
    } while (st.generations < g0 + 4 && t_now() - t0 < 20);
    printf("gens: %d logs over %llu generations\n", n, (unsigned long long)(st.generations - g0));
    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop");
    ctrace_get_stats(&st);
    CHECK(st.generations >= 5, "at least 5 generations (got %llu)",
          (unsigned long long)st.generations);
    CHECK(st.events_dropped == 0 && st.stacks_dropped == 0, "nothing dropped (%llu events, %llu stacks)",
          (unsigned long long)st.events_dropped, (unsigned long long)st.stacks_dropped);
    return t_finish();
}
