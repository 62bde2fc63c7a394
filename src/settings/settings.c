/*
 * settings.c - parsing settings values (see settings.h).
 *
 * Hand-written rather than strtod/strtoull: those accept leading spaces,
 * signs, hex floats, "inf" and "nan", and converting an out-of-range double
 * to an integer is undefined behaviour.  Here every step is checked for
 * overflow in integer arithmetic.
 */
#include "settings.h"

#include <string.h>

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parses digits at *p into *v (no overflow).  Returns the number of digits,
 * or -1 on overflow. */
static int digits(const char **p, uint64_t *v)
{
    int n = 0;
    uint64_t x = 0;
    for (; is_digit(**p); (*p)++, n++) {
        unsigned d = (unsigned)(**p - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return n;
}

int ct_parse_duration(const char *s, uint64_t *ns)
{
    if (!s)
        return -1;
    const char *p = s;
    uint64_t whole, frac = 0;
    int nw = digits(&p, &whole), nf = 0;
    if (nw < 0)
        return -1;
    /* Up to 9 fraction digits matter (a nanosecond of a second); more are
     * accepted and dropped. */
    uint64_t frac_scale = 1;
    if (*p == '.') {
        p++;
        for (; is_digit(*p); p++, nf++)
            if (frac_scale < 1000000000u) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                frac_scale *= 10;
            }
    }
    if (nw == 0 && nf == 0)
        return -1;
    uint64_t unit;
    if (!strcmp(p, "ns"))
        unit = 1;
    else if (!strcmp(p, "us"))
        unit = 1000;
    else if (!strcmp(p, "ms"))
        unit = 1000000;
    else if (!strcmp(p, "s"))
        unit = 1000000000;
    else if (!strcmp(p, "m"))
        unit = 60000000000ull;
    else
        return -1; /* no unit, or an unknown one */
    if (whole > UINT64_MAX / unit)
        return -1;
    uint64_t v = whole * unit;
    /* frac / frac_scale of a unit; frac < frac_scale <= 1e9 and unit <= 6e10,
     * so split the unit to keep the product in range. */
    uint64_t add = (unit / frac_scale) * frac + (unit % frac_scale) * frac / frac_scale;
    if (v > UINT64_MAX - add)
        return -1;
    *ns = v + add;
    return 0;
}

int ct_parse_size(const char *s, uint64_t *bytes)
{
    if (!s)
        return -1;
    const char *p = s;
    uint64_t v;
    if (digits(&p, &v) <= 0)
        return -1;
    unsigned shift = 0;
    switch (*p) {
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    default: break;
    }
    if (shift && (!strcmp(p, "B") || !strcmp(p, "b") || !strcmp(p, "iB")))
        p += strlen(p);
    else if (!shift && (!strcmp(p, "B") || !strcmp(p, "b")))
        p++;
    if (*p)
        return -1;
    if (v > (UINT64_MAX >> shift))
        return -1;
    *bytes = v << shift;
    return 0;
}

int ct_parse_cpu_hz(const char *s, unsigned *hz)
{
    if (!s)
        return -1;
    const char *p = s;
    uint64_t v;
    if (digits(&p, &v) <= 0 || *p || v > CT_SETTING_CPU_HZ_MAX)
        return -1;
    *hz = (unsigned)v;
    return 0;
}

int ct_parse_period(const char *s, uint64_t *ns)
{
    uint64_t v;
    if (ct_parse_duration(s, &v) || v < CT_SETTING_PERIOD_MIN_NS || v > CT_SETTING_PERIOD_MAX_NS)
        return -1;
    *ns = v;
    return 0;
}

int ct_parse_mem(const char *s, uint64_t *bytes)
{
    uint64_t v;
    if (ct_parse_size(s, &v) || v < CT_SETTING_MEM_MIN || v > SIZE_MAX)
        return -1;
    *bytes = v;
    return 0;
}

int ct_parse_stacks(const char *s, int *mode)
{
    if (!s)
        return -1;
    if (!strcmp(s, "none"))
        *mode = 0;
    else if (!strcmp(s, "fp"))
        *mode = 1;
    else if (!strcmp(s, "unwind"))
        *mode = 2;
    else if (!strcmp(s, "auto"))
        *mode = 3;
    else
        return -1;
    return 0;
}

/* One of two words: off_word stores 0, on_word stores 1. */
static int parse_pair(const char *s, const char *off_word, const char *on_word, int *v)
{
    if (!s)
        return -1;
    if (!strcmp(s, off_word))
        *v = 0;
    else if (!strcmp(s, on_word))
        *v = 1;
    else
        return -1;
    return 0;
}

int ct_parse_symbolize(const char *s, int *full)
{
    if (s && !strcmp(s, "off")) {
        *full = 2;
        return 0;
    }
    return parse_pair(s, "auto", "full", full);
}

int ct_parse_clock(const char *s, int *monotonic)
{
    return parse_pair(s, "auto", "monotonic", monotonic);
}

int ct_parse_switch(const char *s, int *on)
{
    return parse_pair(s, "0", "1", on);
}

int ct_parse_flight(const char *s, uint64_t *min_age_ns)
{
    uint64_t v;
    if (s && !strcmp(s, "1")) {
        *min_age_ns = CT_SETTING_FLIGHT_AGE_DEFAULT;
        return 0;
    }
    if (ct_parse_duration(s, &v) || v < 1000000u)
        return -1;
    *min_age_ns = v;
    return 0;
}

int ct_parse_signal(const char *s, int *sig)
{
    static const struct {
        const char *name;
        int num;
    } names[] = {{"HUP", 1},   {"INT", 2},   {"QUIT", 3},   {"USR1", 10}, {"USR2", 12},
                 {"TERM", 15}, {"URG", 23},  {"WINCH", 28}, {"PWR", 30}};
    if (!s)
        return -1;
    if (!strcmp(s, "none")) {
        *sig = 0;
        return 0;
    }
    const char *p = s;
    uint64_t v;
    int n = digits(&p, &v);
    if (n > 0) {
        if (*p || v > 64)
            return -1;
        *sig = (int)v;
        return 0;
    }
    if (!strncmp(s, "SIG", 3))
        s += 3;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(s, names[i].name)) {
            *sig = names[i].num;
            return 0;
        }
    return -1;
}

/* One NAME=DURATION entry of [p, end); 0 or -1. */
static int slow_entry(const char *p, const char *end, const char **name, size_t *len,
                      uint64_t *ns)
{
    const char *eq = memchr(p, '=', (size_t)(end - p));
    if (!eq || eq == p || (size_t)(eq - p) > CT_SETTING_SLOW_NAME_MAX)
        return -1;
    char dur[64];
    size_t dl = (size_t)(end - eq - 1);
    if (dl == 0 || dl >= sizeof dur || memchr(eq + 1, '=', dl))
        return -1;
    memcpy(dur, eq + 1, dl);
    dur[dl] = 0;
    if (ct_parse_duration(dur, ns))
        return -1;
    *name = p;
    *len = (size_t)(eq - p);
    return 0;
}

int ct_parse_slow_list(const char *s,
                       void (*each)(void *arg, const char *name, size_t len, uint64_t ns),
                       void *arg)
{
    if (!s || !*s)
        return -1;
    for (int pass = 0; pass < 2; pass++) { /* validate all, then report */
        for (const char *p = s;;) {
            const char *end = strchr(p, ',');
            if (!end)
                end = p + strlen(p);
            const char *name;
            size_t len;
            uint64_t ns;
            if (slow_entry(p, end, &name, &len, &ns))
                return -1;
            if (pass == 1 && each)
                each(arg, name, len, ns);
            if (!*end)
                break;
            p = end + 1;
        }
    }
    return 0;
}

const char *const ct_env_names[CT_ENV_COUNT] = {
    [CT_ENV_OUTPUT] = "CTRACE_OUTPUT",
    [CT_ENV_CPU_HZ] = "CTRACE_CPU_HZ",
    [CT_ENV_PERIOD] = "CTRACE_PERIOD",
    [CT_ENV_STACKS] = "CTRACE_STACKS",
    [CT_ENV_MEM] = "CTRACE_MEM",
    [CT_ENV_SYMBOLIZE] = "CTRACE_SYMBOLIZE",
    [CT_ENV_CLOCK] = "CTRACE_CLOCK",
    [CT_ENV_NO_MEMBARRIER] = "CTRACE_NO_MEMBARRIER",
    [CT_ENV_FLIGHT] = "CTRACE_FLIGHT",
    [CT_ENV_FLIGHT_MAX] = "CTRACE_FLIGHT_MAX",
    [CT_ENV_FLIGHT_SIGNAL] = "CTRACE_FLIGHT_SIGNAL",
    [CT_ENV_FLIGHT_PREFIX] = "CTRACE_FLIGHT_PREFIX",
    [CT_ENV_FLIGHT_SLOW] = "CTRACE_FLIGHT_SLOW",
    [CT_ENV_FLIGHT_CRASH] = "CTRACE_FLIGHT_CRASH",
};

/* A string setting: at most CT_SETTING_OUTPUT_MAX bytes. */
static int copy_text(char *dst, const char *v)
{
    size_t n = strlen(v);
    if (n > CT_SETTING_OUTPUT_MAX)
        return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

/* Parses one variable into env; 0 or -1 (malformed). */
static int parse_one(struct ct_env *env, enum ct_env_var i, const char *v)
{
    uint64_t u;
    switch (i) {
    case CT_ENV_OUTPUT:
        return copy_text(env->output, v);
    case CT_ENV_CPU_HZ:
        return ct_parse_cpu_hz(v, &env->cpu_hz);
    case CT_ENV_PERIOD:
        return ct_parse_period(v, &env->period_ns);
    case CT_ENV_STACKS:
        return ct_parse_stacks(v, &env->stacks);
    case CT_ENV_MEM:
        if (ct_parse_mem(v, &u))
            return -1;
        env->mem = u;
        return 0;
    case CT_ENV_SYMBOLIZE:
        return ct_parse_symbolize(v, &env->symbolize_full);
    case CT_ENV_CLOCK:
        return ct_parse_clock(v, &env->clock_monotonic);
    case CT_ENV_NO_MEMBARRIER:
        return ct_parse_switch(v, &env->no_membarrier);
    case CT_ENV_FLIGHT:
        return ct_parse_flight(v, &env->flight_age_ns);
    case CT_ENV_FLIGHT_MAX:
        if (ct_parse_size(v, &u) || u < CT_SETTING_FLIGHT_MAX_MIN || u > SIZE_MAX)
            return -1;
        env->flight_max = u;
        return 0;
    case CT_ENV_FLIGHT_SIGNAL:
        return ct_parse_signal(v, &env->flight_signal);
    case CT_ENV_FLIGHT_PREFIX:
        return copy_text(env->flight_prefix, v);
    case CT_ENV_FLIGHT_SLOW:
        if (ct_parse_slow_list(v, NULL, NULL))
            return -1;
        return copy_text(env->flight_slow, v);
    case CT_ENV_FLIGHT_CRASH:
        return ct_parse_switch(v, &env->flight_crash);
    default:
        return -1;
    }
}

int ct_env_parse(const char *const values[CT_ENV_COUNT], struct ct_env *env,
                 void (*bad)(const char *name, const char *value))
{
    memset(env, 0, sizeof *env);
    env->cpu_hz = 100;
    env->period_ns = 1000000000u;
    env->stacks = 3; /* CTRACE_STACKS_AUTO */
    env->mem = 64u << 20;
    env->flight_max = CT_SETTING_FLIGHT_MAX_DEFAULT;
    env->flight_signal = 12; /* SIGUSR2 */
    env->flight_crash = 1;
    int nbad = 0;
    for (int i = 0; i < CT_ENV_COUNT; i++) {
        const char *v = values[i];
        if (!v || !*v)
            continue;
        if (parse_one(env, (enum ct_env_var)i, v) == 0) {
            env->has[i] = 1;
        } else {
            nbad++;
            if (bad)
                bad(ct_env_names[i], v);
        }
    }
    return nbad;
}
