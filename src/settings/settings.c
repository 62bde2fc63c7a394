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
