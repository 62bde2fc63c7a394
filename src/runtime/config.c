/*
 * config.c - defaults (the environment's, env.h), validation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctrace.h"
#include "env.h"
#include "proc.h"
#include "settings.h"
#include "trace.h"

void ctrace_config_init(ctrace_config *cfg)
{
    if (!cfg)
        return;
    int e = errno;
    const struct ct_env *v = ct_env();
    cfg->cpu_hz = v->cpu_hz;
    cfg->period_ns = v->period_ns;
    cfg->stacks = v->stacks;
    cfg->mem_cap = (size_t)v->mem;
    errno = e;
}

int ctrace_configure(const ctrace_config *cfg)
{
    if (!cfg)
        return CTRACE_EINVAL;
    if (cfg->cpu_hz > CT_SETTING_CPU_HZ_MAX || cfg->period_ns < CT_SETTING_PERIOD_MIN_NS ||
        cfg->period_ns > CT_SETTING_PERIOD_MAX_NS || cfg->mem_cap < CT_SETTING_MEM_MIN ||
        cfg->stacks < CTRACE_STACKS_NONE || cfg->stacks > CTRACE_STACKS_AUTO)
        return CTRACE_EINVAL;
    if (CT_ENABLED())
        return ct_proc_defer_config(cfg) ? CTRACE_OK : CTRACE_EBUSY;
    ct_lifecycle_init();
    ct_rt.cfg = *cfg;
    ct_rt.configured = 1;
    return CTRACE_OK;
}
