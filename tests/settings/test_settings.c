/*
 * test_settings.c - the settings parser (src/settings): what the CTRACE_*
 * variables and `ctrace run` options accept, their values, and what they
 * reject (including inputs that used to reach strtod's corners); and the
 * whole environment as the runtime parses it (ct_env_parse): every
 * variable by name, defaults, each malformed one reported once.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "settings.h"

static int failures, checks;

static void expect_u64(const char *what, int (*fn)(const char *, uint64_t *), const char *in,
                       int want_rc, uint64_t want)
{
    uint64_t v = 12345;
    int rc = fn(in, &v);
    checks++;
    if (rc != want_rc || (rc == 0 && v != want) || (rc != 0 && v != 12345)) {
        printf("FAIL: %s(\"%s\") = %d, %llu; want %d, %llu\n", what, in ? in : "(null)", rc,
               (unsigned long long)v, want_rc, (unsigned long long)want);
        failures++;
    }
}

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
    checks++;
    if (ok)
        return;
    failures++;
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static void expect_word(const char *what, int (*fn)(const char *, int *), const char *in,
                        int want_rc, int want)
{
    int v = 12345;
    int rc = fn(in, &v);
    check(rc == want_rc && (rc != 0 || v == want) && (rc == 0 || v == 12345),
          "%s(\"%s\") = %d, %d; want %d, %d", what, in ? in : "(null)", rc, v, want_rc, want);
}

static int nbad, bad_seen[CT_ENV_COUNT];

static void count_bad(const char *name, const char *value)
{
    (void)value;
    nbad++;
    for (int i = 0; i < CT_ENV_COUNT; i++)
        if (!strcmp(name, ct_env_names[i]))
            bad_seen[i]++;
}

#define OK(fn, in, want) expect_u64(#fn, fn, in, 0, want)
#define BAD(fn, in) expect_u64(#fn, fn, in, -1, 0)

int main(void)
{
    /* Durations. */
    OK(ct_parse_duration, "1s", 1000000000ull);
    OK(ct_parse_duration, "500ms", 500000000ull);
    OK(ct_parse_duration, "2.5s", 2500000000ull);
    OK(ct_parse_duration, ".5s", 500000000ull);
    OK(ct_parse_duration, "100us", 100000ull);
    OK(ct_parse_duration, "7ns", 7ull);
    OK(ct_parse_duration, "2m", 120000000000ull);
    OK(ct_parse_duration, "0.0000000015s", 1ull); /* beyond ns: dropped */
    OK(ct_parse_duration, "1.5m", 90000000000ull);
    OK(ct_parse_duration, "0s", 0ull);
    BAD(ct_parse_duration, "2");        /* a unit is required */
    BAD(ct_parse_duration, "");
    BAD(ct_parse_duration, NULL);
    BAD(ct_parse_duration, "s");
    BAD(ct_parse_duration, ".s");
    BAD(ct_parse_duration, "-1s");
    BAD(ct_parse_duration, "+1s");
    BAD(ct_parse_duration, " 1s");
    BAD(ct_parse_duration, "1s ");
    BAD(ct_parse_duration, "1 s");
    BAD(ct_parse_duration, "infs");
    BAD(ct_parse_duration, "nans");
    BAD(ct_parse_duration, "0x10s");
    BAD(ct_parse_duration, "1e3ms");
    BAD(ct_parse_duration, "1h");
    BAD(ct_parse_duration, "1sec");
    BAD(ct_parse_duration, "99999999999999999999ns"); /* > 2^64 */
    BAD(ct_parse_duration, "999999999999m");          /* overflows in ns */
    /* The period setting: 1 ms to 1 h. */
    OK(ct_parse_period, "1ms", 1000000ull);
    OK(ct_parse_period, "60m", 3600000000000ull);
    BAD(ct_parse_period, "999us");
    BAD(ct_parse_period, "61m");
    BAD(ct_parse_period, "0s");
    /* Sizes. */
    OK(ct_parse_size, "1048576", 1048576ull);
    OK(ct_parse_size, "64M", 64ull << 20);
    OK(ct_parse_size, "64m", 64ull << 20);
    OK(ct_parse_size, "1G", 1ull << 30);
    OK(ct_parse_size, "1GiB", 1ull << 30);
    OK(ct_parse_size, "512KB", 512ull << 10);
    OK(ct_parse_size, "100B", 100ull);
    BAD(ct_parse_size, "");
    BAD(ct_parse_size, "M");
    BAD(ct_parse_size, "64 M");
    BAD(ct_parse_size, "-1M");
    BAD(ct_parse_size, "1T");
    BAD(ct_parse_size, "1.5G");
    BAD(ct_parse_size, "1MiBx");
    BAD(ct_parse_size, "1iB");
    BAD(ct_parse_size, "99999999999999999999");     /* > 2^64 */
    BAD(ct_parse_size, "17179869184G");             /* 2^34 G = 2^64: overflows */
    /* The memory cap: at least 1 MiB. */
    OK(ct_parse_mem, "1M", 1ull << 20);
    BAD(ct_parse_mem, "1023K");
    /* CPU rate. */
    unsigned hz = 7;
    checks++;
    if (ct_parse_cpu_hz("250", &hz) || hz != 250) {
        printf("FAIL: ct_parse_cpu_hz(\"250\") -> %u\n", hz);
        failures++;
    }
    const char *bad_hz[] = {"", "-1", "100001", "1e3", "10 ", "0x10", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_hz / sizeof bad_hz[0]; i++) {
        hz = 7;
        checks++;
        if (!ct_parse_cpu_hz(bad_hz[i], &hz) || hz != 7) {
            printf("FAIL: ct_parse_cpu_hz(\"%s\") accepted (%u)\n", bad_hz[i], hz);
            failures++;
        }
    }
    checks++;
    if (ct_parse_cpu_hz("0", &hz) || hz != 0) {
        printf("FAIL: ct_parse_cpu_hz(\"0\") -> %u\n", hz);
        failures++;
    }
    /* Words. */
    expect_word("ct_parse_stacks", ct_parse_stacks, "none", 0, 0);
    expect_word("ct_parse_stacks", ct_parse_stacks, "fp", 0, 1);
    expect_word("ct_parse_stacks", ct_parse_stacks, "unwind", 0, 2);
    expect_word("ct_parse_stacks", ct_parse_stacks, "auto", 0, 3);
    const char *bad_words[] = {"", "FP", " fp", "fp ", "dwarf", "1", NULL};
    for (size_t i = 0; i < sizeof bad_words / sizeof bad_words[0]; i++)
        expect_word("ct_parse_stacks", ct_parse_stacks, bad_words[i], -1, 0);
    expect_word("ct_parse_symbolize", ct_parse_symbolize, "full", 0, 1);
    expect_word("ct_parse_symbolize", ct_parse_symbolize, "auto", 0, 0);
    expect_word("ct_parse_symbolize", ct_parse_symbolize, "off", 0, 2);
    expect_word("ct_parse_symbolize", ct_parse_symbolize, "Full", -1, 0);
    expect_word("ct_parse_symbolize", ct_parse_symbolize, "1", -1, 0);
    expect_word("ct_parse_clock", ct_parse_clock, "monotonic", 0, 1);
    expect_word("ct_parse_clock", ct_parse_clock, "auto", 0, 0);
    expect_word("ct_parse_clock", ct_parse_clock, "tsc", -1, 0);
    expect_word("ct_parse_switch", ct_parse_switch, "1", 0, 1);
    expect_word("ct_parse_switch", ct_parse_switch, "0", 0, 0);
    expect_word("ct_parse_switch", ct_parse_switch, "yes", -1, 0);
    expect_word("ct_parse_switch", ct_parse_switch, "01", -1, 0);

    /* The flight recorder's settings. */
    {
        uint64_t ns = 0;
        int sig = -1;
        check(ct_parse_flight("1", &ns) == 0 && ns == 10000000000ull, "CTRACE_FLIGHT=1: 10 s");
        check(ct_parse_flight("30s", &ns) == 0 && ns == 30000000000ull, "CTRACE_FLIGHT=30s");
        check(ct_parse_flight("10", &ns) == -1, "CTRACE_FLIGHT=10: no unit");
        check(ct_parse_flight("1us", &ns) == -1, "CTRACE_FLIGHT below 1 ms");
        check(ct_parse_signal("USR2", &sig) == 0 && sig == 12, "signal USR2");
        check(ct_parse_signal("SIGUSR1", &sig) == 0 && sig == 10, "signal SIGUSR1");
        check(ct_parse_signal("none", &sig) == 0 && sig == 0, "signal none");
        check(ct_parse_signal("65", &sig) == -1, "signal 65");
        check(ct_parse_signal("USR3", &sig) == -1, "signal USR3");
        check(ct_parse_slow_list("req=100ms,db=2s", NULL, NULL) == 0, "slow list");
        check(ct_parse_slow_list("req=100ms,", NULL, NULL) == -1, "slow list: empty entry");
        check(ct_parse_slow_list("req", NULL, NULL) == -1, "slow list: no threshold");
        check(ct_parse_slow_list("=1s", NULL, NULL) == -1, "slow list: no name");
        check(ct_parse_slow_list("a=1s=2s", NULL, NULL) == -1, "slow list: two '='");
    }

    /* The environment: every variable, by name. */
    const char *want_names[CT_ENV_COUNT] = {
        [CT_ENV_OUTPUT] = "CTRACE_OUTPUT", [CT_ENV_CPU_HZ] = "CTRACE_CPU_HZ",
        [CT_ENV_PERIOD] = "CTRACE_PERIOD", [CT_ENV_STACKS] = "CTRACE_STACKS",
        [CT_ENV_MEM] = "CTRACE_MEM", [CT_ENV_SYMBOLIZE] = "CTRACE_SYMBOLIZE",
        [CT_ENV_CLOCK] = "CTRACE_CLOCK", [CT_ENV_NO_MEMBARRIER] = "CTRACE_NO_MEMBARRIER",
        [CT_ENV_FLIGHT] = "CTRACE_FLIGHT", [CT_ENV_FLIGHT_MAX] = "CTRACE_FLIGHT_MAX",
        [CT_ENV_FLIGHT_SIGNAL] = "CTRACE_FLIGHT_SIGNAL", [CT_ENV_FLIGHT_PREFIX] = "CTRACE_FLIGHT_PREFIX",
        [CT_ENV_FLIGHT_SLOW] = "CTRACE_FLIGHT_SLOW", [CT_ENV_FLIGHT_CRASH] = "CTRACE_FLIGHT_CRASH",
    };
    for (int i = 0; i < CT_ENV_COUNT; i++)
        check(ct_env_names[i] && !strcmp(ct_env_names[i], want_names[i]), "ct_env_names[%d] = %s",
              i, ct_env_names[i] ? ct_env_names[i] : "(null)");
    /* Nothing set: the defaults. */
    const char *none[CT_ENV_COUNT] = {0};
    struct ct_env env;
    nbad = 0;
    check(ct_env_parse(none, &env, count_bad) == 0 && nbad == 0, "unset environment: nothing malformed");
    check(env.cpu_hz == 100 && env.period_ns == 1000000000ull && env.stacks == 3 &&
              env.mem == 64ull << 20 && !env.output[0] && !env.symbolize_full &&
              !env.clock_monotonic && !env.no_membarrier,
          "unset environment: the defaults");
    for (int i = 0; i < CT_ENV_COUNT; i++)
        check(!env.has[i], "unset environment: %s not set", ct_env_names[i]);
    /* Everything set, valid. */
    const char *all[CT_ENV_COUNT] = {
        [CT_ENV_OUTPUT] = "/tmp/t.%p.trace", [CT_ENV_CPU_HZ] = "0",
        [CT_ENV_PERIOD] = "250ms", [CT_ENV_STACKS] = "unwind",
        [CT_ENV_MEM] = "8M", [CT_ENV_SYMBOLIZE] = "full",
        [CT_ENV_CLOCK] = "monotonic", [CT_ENV_NO_MEMBARRIER] = "1",
        [CT_ENV_FLIGHT] = "30s", [CT_ENV_FLIGHT_MAX] = "16M",
        [CT_ENV_FLIGHT_SIGNAL] = "USR1", [CT_ENV_FLIGHT_PREFIX] = "/tmp/snap",
        [CT_ENV_FLIGHT_SLOW] = "req=100ms", [CT_ENV_FLIGHT_CRASH] = "0",
    };
    nbad = 0;
    check(ct_env_parse(all, &env, count_bad) == 0 && nbad == 0, "valid environment: nothing malformed");
    check(!strcmp(env.output, "/tmp/t.%p.trace") && env.cpu_hz == 0 &&
              env.period_ns == 250000000ull && env.stacks == 2 && env.mem == 8ull << 20 &&
              env.symbolize_full == 1 && env.clock_monotonic == 1 && env.no_membarrier == 1,
          "valid environment: every value");
    check(env.flight_age_ns == 30000000000ull && env.flight_max == 16ull << 20 &&
              env.flight_signal == 10 && !strcmp(env.flight_prefix, "/tmp/snap") &&
              !strcmp(env.flight_slow, "req=100ms") && env.flight_crash == 0,
          "valid environment: the flight recorder's values");
    for (int i = 0; i < CT_ENV_COUNT; i++)
        check(env.has[i], "valid environment: %s set", ct_env_names[i]);
    /* Everything malformed: defaults kept, each one reported by name. */
    static char long_output[CT_SETTING_OUTPUT_MAX + 2];
    memset(long_output, 'x', CT_SETTING_OUTPUT_MAX + 1);
    const char *bad_env[CT_ENV_COUNT] = {
        [CT_ENV_OUTPUT] = long_output, [CT_ENV_CPU_HZ] = "fast",
        [CT_ENV_PERIOD] = "2", [CT_ENV_STACKS] = "dwarf",
        [CT_ENV_MEM] = "1K", [CT_ENV_SYMBOLIZE] = "yes",
        [CT_ENV_CLOCK] = "tsc", [CT_ENV_NO_MEMBARRIER] = "true",
        [CT_ENV_FLIGHT] = "yes", [CT_ENV_FLIGHT_MAX] = "100K",
        [CT_ENV_FLIGHT_SIGNAL] = "USR9", [CT_ENV_FLIGHT_PREFIX] = long_output,
        [CT_ENV_FLIGHT_SLOW] = "req", [CT_ENV_FLIGHT_CRASH] = "on",
    };
    nbad = 0;
    memset(bad_seen, 0, sizeof bad_seen);
    int r = ct_env_parse(bad_env, &env, count_bad);
    check(r == CT_ENV_COUNT && nbad == CT_ENV_COUNT, "malformed environment: %d of %d reported",
          nbad, CT_ENV_COUNT);
    for (int i = 0; i < CT_ENV_COUNT; i++)
        check(bad_seen[i] == 1 && !env.has[i], "malformed %s: reported once, not set",
              ct_env_names[i]);
    check(env.cpu_hz == 100 && env.period_ns == 1000000000ull && env.stacks == 3 &&
              env.mem == 64ull << 20 && !env.output[0] && !env.symbolize_full &&
              !env.clock_monotonic && !env.no_membarrier,
          "malformed environment: the defaults");
    /* Empty means unset; the longest output pattern fits. */
    const char *empty[CT_ENV_COUNT] = {[CT_ENV_STACKS] = "", [CT_ENV_OUTPUT] = long_output + 1};
    nbad = 0;
    check(ct_env_parse(empty, &env, count_bad) == 0 && !env.has[CT_ENV_STACKS] &&
              env.has[CT_ENV_OUTPUT] && strlen(env.output) == CT_SETTING_OUTPUT_MAX,
          "empty is unset; a %d-byte pattern is kept", CT_SETTING_OUTPUT_MAX);
    check(ct_env_parse(bad_env, &env, NULL) == CT_ENV_COUNT, "no callback: still counted");

    printf("settings: %d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
