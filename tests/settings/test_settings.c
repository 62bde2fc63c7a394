/*
 * test_settings.c - the settings parser (src/settings): what the CTRACE_*
 * variables and `ctrace run` options accept, their values, and what they
 * reject (including inputs that used to reach strtod's corners).
 */
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
    printf("settings: %d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
