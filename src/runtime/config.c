/*
 * config.c - defaults, environment variables, validation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrace.h"
#include "trace.h"

/* "1s", "500ms", "250us", "100ns", "2.5s", or plain nanoseconds. */
int ct_parse_duration(const char *s, uint64_t *ns)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double mul = 1;
    if (!*end || !strcmp(end, "ns"))
        mul = 1;
    else if (!strcmp(end, "us"))
        mul = 1e3;
    else if (!strcmp(end, "ms"))
        mul = 1e6;
    else if (!strcmp(end, "s"))
        mul = 1e9;
    else if (!strcmp(end, "m"))
        mul = 60e9;
    else
        return -1;
    *ns = (uint64_t)(v * mul);
    return 0;
}

/* "64M", "1G", "512K", "1048576". */
int ct_parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    switch (*end) {
    case 0: break;
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    default: return -1;
    }
    if (*end == 'B' || *end == 'b' || (*end == 'i' && end[1] == 'B'))
        end += *end == 'i' ? 2 : 1;
    if (*end)
        return -1;
    *out = (size_t)v;
    return 0;
}

static void warn_env(const char *name, const char *val)
{
    /* Once per variable per process; the program's stderr is shared, so
     * keep it to one line. */
    fprintf(stderr, "ctrace: ignoring malformed %s=%s\n", name, val);
}

void ctrace_config_init(ctrace_config *cfg)
{
    if (!cfg)
        return;
    int e = errno;
    cfg->cpu_hz = 100;
    cfg->period_ns = 1000000000u;
    cfg->stacks = CTRACE_STACKS_FP;
    cfg->mem_cap = 64u << 20;
    const char *v;
    if ((v = getenv("CTRACE_CPU_HZ")) && *v) {
        char *end;
        unsigned long hz = strtoul(v, &end, 10);
        if (*end || hz > 100000)
            warn_env("CTRACE_CPU_HZ", v);
        else
            cfg->cpu_hz = (unsigned)hz;
    }
    if ((v = getenv("CTRACE_PERIOD")) && *v) {
        uint64_t ns;
        if (ct_parse_duration(v, &ns) || ns < 1000000u)
            warn_env("CTRACE_PERIOD", v);
        else
            cfg->period_ns = ns;
    }
    if ((v = getenv("CTRACE_STACKS")) && *v) {
        if (!strcmp(v, "none"))
            cfg->stacks = CTRACE_STACKS_NONE;
        else if (!strcmp(v, "fp"))
            cfg->stacks = CTRACE_STACKS_FP;
        else if (!strcmp(v, "unwind"))
            cfg->stacks = CTRACE_STACKS_UNWIND;
        else
            warn_env("CTRACE_STACKS", v);
    }
    if ((v = getenv("CTRACE_MEM")) && *v) {
        size_t sz;
        if (ct_parse_size(v, &sz) || sz < (1u << 20))
            warn_env("CTRACE_MEM", v);
        else
            cfg->mem_cap = sz;
    }
    errno = e;
}

int ctrace_configure(const ctrace_config *cfg)
{
    if (!cfg)
        return CTRACE_EINVAL;
    if (cfg->cpu_hz > 100000 || cfg->period_ns < 1000000u || cfg->mem_cap < (1u << 20) ||
        cfg->stacks < CTRACE_STACKS_NONE || cfg->stacks > CTRACE_STACKS_UNWIND)
        return CTRACE_EINVAL;
    if (CT_ENABLED())
        return CTRACE_EBUSY;
    ct_lifecycle_init();
    ct_rt.cfg = *cfg;
    ct_rt.configured = 1;
    return CTRACE_OK;
}
