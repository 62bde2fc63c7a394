/*
 * config.c - defaults, environment variables, validation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrace.h"
#include "settings.h"
#include "trace.h"

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
        unsigned hz;
        if (ct_parse_cpu_hz(v, &hz))
            warn_env("CTRACE_CPU_HZ", v);
        else
            cfg->cpu_hz = hz;
    }
    if ((v = getenv("CTRACE_PERIOD")) && *v) {
        uint64_t ns;
        if (ct_parse_period(v, &ns))
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
        uint64_t sz;
        if (ct_parse_mem(v, &sz))
            warn_env("CTRACE_MEM", v);
        else
            cfg->mem_cap = (size_t)sz;
    }
    errno = e;
}

int ctrace_configure(const ctrace_config *cfg)
{
    if (!cfg)
        return CTRACE_EINVAL;
    if (cfg->cpu_hz > CT_SETTING_CPU_HZ_MAX || cfg->period_ns < CT_SETTING_PERIOD_MIN_NS ||
        cfg->period_ns > CT_SETTING_PERIOD_MAX_NS || cfg->mem_cap < CT_SETTING_MEM_MIN ||
        cfg->stacks < CTRACE_STACKS_NONE || cfg->stacks > CTRACE_STACKS_UNWIND)
        return CTRACE_EINVAL;
    if (CT_ENABLED())
        return CTRACE_EBUSY;
    ct_lifecycle_init();
    ct_rt.cfg = *cfg;
    ct_rt.configured = 1;
    return CTRACE_OK;
}
