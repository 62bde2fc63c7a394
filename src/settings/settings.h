/*
 * settings.h - the values of ctrace's settings as text: the CTRACE_*
 * environment variables the runtime reads and the `ctrace run` options that
 * set them.  One parser for both, so that a value the command accepts is a
 * value the runtime accepts, with the same meaning and the same limits.
 *
 * Every function returns 0 and stores the value, or -1 and stores nothing
 * (malformed, out of range).  They never read past the terminating NUL,
 * never overflow, and accept no leading/trailing spaces, signs, hex, "inf"
 * or "nan".
 */
#ifndef CTRACE_SETTINGS_H
#define CTRACE_SETTINGS_H

#include <stdint.h>

/* Limits, as ctrace_configure() enforces them (include/ctrace.h). */
#define CT_SETTING_CPU_HZ_MAX 100000u
#define CT_SETTING_PERIOD_MIN_NS 1000000u          /* 1 ms  */
#define CT_SETTING_PERIOD_MAX_NS 3600000000000ull  /* 1 h   */
#define CT_SETTING_MEM_MIN (1u << 20)              /* 1 MiB */

/* A duration: a decimal number (fraction allowed) and a unit, one of ns,
 * us, ms, s, m: "500ms", "1s", "2.5s", "100us".  A unit is required. */
int ct_parse_duration(const char *s, uint64_t *ns);

/* A size in bytes: digits, optionally followed by K, M or G (powers of
 * 1024, either case) and an optional "B" or "iB": "64M", "1GiB", "1048576". */
int ct_parse_size(const char *s, uint64_t *bytes);

/* A CPU sampling rate: decimal digits, 0 (off) to CT_SETTING_CPU_HZ_MAX. */
int ct_parse_cpu_hz(const char *s, unsigned *hz);

/* The period setting: a duration within [PERIOD_MIN, PERIOD_MAX]. */
int ct_parse_period(const char *s, uint64_t *ns);

/* The memory cap setting: a size of at least CT_SETTING_MEM_MIN. */
int ct_parse_mem(const char *s, uint64_t *bytes);

#endif /* CTRACE_SETTINGS_H */
