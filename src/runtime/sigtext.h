/*
 * sigtext.h - text built inside a signal handler: no stdio, no locale, no
 * allocation; each call writes what fits into [p, end) and stops there
 * (the caller terminates the string).  Used by the fatal-signal path
 * (crash.c) and the flight recorder's crash log (flight_crash.c).
 */
#ifndef CTRACE_RUNTIME_SIGTEXT_H
#define CTRACE_RUNTIME_SIGTEXT_H

/* (The includer defines _GNU_SOURCE, for sigabbrev_np.) */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ct_text {
    char *p, *end;
};

static inline void ct_text_bytes(struct ct_text *t, const char *s, size_t len)
{
    for (size_t i = 0; i < len && t->p < t->end; i++)
        *t->p++ = s[i];
}

static inline void ct_text_str(struct ct_text *t, const char *s)
{
    while (*s && t->p < t->end)
        *t->p++ = *s++;
}

/* v in base 10 or 16 (lower case, no prefix). */
static inline void ct_text_num(struct ct_text *t, uint64_t v, unsigned base)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n && t->p < t->end)
        *t->p++ = tmp[--n];
}

/* "SIGSEGV", or "signal N" for a number without a name (sigabbrev_np
 * reads a constant table). */
static inline void ct_text_signal(struct ct_text *t, int sig)
{
    const char *a = sigabbrev_np(sig);
    if (a) {
        ct_text_str(t, "SIG");
        ct_text_str(t, a);
    } else {
        ct_text_str(t, "signal ");
        ct_text_num(t, (uint64_t)(sig < 0 ? 0 : sig), 10);
    }
}

#endif /* CTRACE_RUNTIME_SIGTEXT_H */
