/*
 * settings.h - the values of ctrace's settings as text: the CTRACE_*
 * environment variables the runtime reads and the `ctrace run` options that
 * set them.  One parser for both, so that a value the command accepts is a
 * value the runtime accepts, with the same meaning and the same limits.
 * The runtime reads the environment in one place, once (config.c), and
 * hands the values to ct_env_parse: every CTRACE_* variable it knows is
 * listed in enum ct_env_var and documented in docs/RUN.md.
 *
 * Every ct_parse_* function returns 0 and stores the value, or -1 and
 * stores nothing (malformed, out of range).  They never read past the terminating NUL,
 * never overflow, and accept no leading/trailing spaces, signs, hex, "inf"
 * or "nan".
 */
#ifndef CTRACE_SETTINGS_H
#define CTRACE_SETTINGS_H

#include <stddef.h>
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

/* The stack mode: "none", "fp", "unwind" or "auto" (enum
 * ctrace_stack_mode: 0, 1, 2, 3). */
int ct_parse_stacks(const char *s, int *mode);

/* The symbolizer's reach: "auto" (0: libraries' separate debug files are
 * not read), "full" (1: they are) or "off" (2: nothing is symbolized;
 * frames carry their PC and an empty function name, for `ctrace
 * symbolize` to name later). */
int ct_parse_symbolize(const char *s, int *full);

/* The timestamp source: "auto" (0: the CPU's counter when it is invariant,
 * else CLOCK_MONOTONIC) or "monotonic" (1: always CLOCK_MONOTONIC). */
int ct_parse_clock(const char *s, int *monotonic);

/* A switch: "1" (on) or "0" (off). */
int ct_parse_switch(const char *s, int *on);

/* ---- the flight recorder (include/ctrace.h, "Flight recorder") ---- */

#define CT_SETTING_FLIGHT_AGE_DEFAULT 10000000000ull /* 10 s  */
#define CT_SETTING_FLIGHT_MAX_DEFAULT (32u << 20)    /* 32 MiB */
#define CT_SETTING_FLIGHT_MAX_MIN (1u << 20)         /* 1 MiB  */

/* CTRACE_FLIGHT: "1" (on, MinAge 10 s) or a MinAge duration of at least
 * 1 ms ("30s"). */
int ct_parse_flight(const char *s, uint64_t *min_age_ns);

/* A snapshot signal: a number from 1 to 64, or a name with or without
 * "SIG" (HUP, INT, QUIT, USR1, USR2, TERM, WINCH, PWR, URG); "0" or
 * "none" is 0 (no signal). */
int ct_parse_signal(const char *s, int *sig);

/* Slow thresholds: "NAME=DURATION[,NAME=DURATION...]" (a name holds no
 * ',' or '=', at most 63 bytes).  each (may be NULL: validation only) is
 * called per entry.  0 if the whole list is well formed, else -1 (and
 * each was called for none). */
int ct_parse_slow_list(const char *s,
                       void (*each)(void *arg, const char *name, size_t len, uint64_t ns),
                       void *arg);
#define CT_SETTING_SLOW_NAME_MAX 63

/* ---- the environment ---- */

/* The CTRACE_* variables the runtime reads, in the order of ct_env_names. */
enum ct_env_var {
    CT_ENV_OUTPUT,         /* CTRACE_OUTPUT: trace file pattern (autostart) */
    CT_ENV_CPU_HZ,         /* CTRACE_CPU_HZ                                 */
    CT_ENV_PERIOD,         /* CTRACE_PERIOD                                 */
    CT_ENV_STACKS,         /* CTRACE_STACKS                                 */
    CT_ENV_MEM,            /* CTRACE_MEM                                    */
    CT_ENV_SYMBOLIZE,      /* CTRACE_SYMBOLIZE                              */
    CT_ENV_CLOCK,          /* CTRACE_CLOCK                                  */
    CT_ENV_NO_MEMBARRIER,  /* CTRACE_NO_MEMBARRIER                          */
    CT_ENV_FLIGHT,         /* CTRACE_FLIGHT: flight recorder (autostart)    */
    CT_ENV_FLIGHT_MAX,     /* CTRACE_FLIGHT_MAX                             */
    CT_ENV_FLIGHT_SIGNAL,  /* CTRACE_FLIGHT_SIGNAL                          */
    CT_ENV_FLIGHT_PREFIX,  /* CTRACE_FLIGHT_PREFIX                          */
    CT_ENV_FLIGHT_SLOW,    /* CTRACE_FLIGHT_SLOW                            */
    CT_ENV_FLIGHT_CRASH,   /* CTRACE_FLIGHT_CRASH                           */
    CT_ENV_COUNT
};

/* "CTRACE_OUTPUT", ... indexed by enum ct_env_var. */
extern const char *const ct_env_names[CT_ENV_COUNT];

/* Longest CTRACE_OUTPUT pattern (bytes, without the NUL). */
#define CT_SETTING_OUTPUT_MAX 4095

/* The parsed environment.  A has_* flag is set when the variable was set
 * to a valid value; otherwise the field holds the default. */
struct ct_env {
    char output[CT_SETTING_OUTPUT_MAX + 1]; /* "" when unset               */
    unsigned cpu_hz;
    uint64_t period_ns;
    int stacks;
    uint64_t mem;
    int symbolize_full;
    int clock_monotonic;
    int no_membarrier;
    uint64_t flight_age_ns;                 /* 0: no CTRACE_FLIGHT         */
    uint64_t flight_max;
    int flight_signal;
    char flight_prefix[CT_SETTING_OUTPUT_MAX + 1]; /* "" when unset       */
    char flight_slow[CT_SETTING_OUTPUT_MAX + 1];   /* "" when unset       */
    int flight_crash;
    unsigned char has[CT_ENV_COUNT]; /* set and valid                     */
};

/* Parses the values of the variables (values[i]: the value of variable i,
 * NULL when unset) into *env.  An unset or empty variable leaves the
 * default (cpu_hz 100, period 1 s, stacks auto, mem 64 MiB, the others 0 or
 * ""); a malformed one too, and bad(name, value) is called for it (bad may
 * be NULL).  Returns the number of malformed variables. */
int ct_env_parse(const char *const values[CT_ENV_COUNT], struct ct_env *env,
                 void (*bad)(const char *name, const char *value));

#endif /* CTRACE_SETTINGS_H */
