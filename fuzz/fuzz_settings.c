/*
 * fuzz_settings.c - the settings parser (src/settings) on arbitrary text:
 * no crash, no undefined behaviour (built with UBSan), and every accepted
 * value means what it says: printed back in its base unit, it parses to the
 * same number.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[64];
    if (size >= sizeof s)
        size = sizeof s - 1;
    memcpy(s, data, size);
    s[size] = 0;

    char back[48];
    uint64_t v, w;
    if (ct_parse_duration(s, &v) == 0) {
        snprintf(back, sizeof back, "%lluns", (unsigned long long)v);
        if (ct_parse_duration(back, &w) != 0 || w != v)
            abort();
    }
    if (ct_parse_size(s, &v) == 0) {
        snprintf(back, sizeof back, "%llu", (unsigned long long)v);
        if (ct_parse_size(back, &w) != 0 || w != v)
            abort();
    }
    unsigned hz;
    if (ct_parse_cpu_hz(s, &hz) == 0 && hz > CT_SETTING_CPU_HZ_MAX)
        abort();
    if (ct_parse_period(s, &v) == 0 && (v < CT_SETTING_PERIOD_MIN_NS || v > CT_SETTING_PERIOD_MAX_NS))
        abort();
    if (ct_parse_mem(s, &v) == 0 && v < CT_SETTING_MEM_MIN)
        abort();
    return 0;
}
