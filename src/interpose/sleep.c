/*
 * sleep.c - nanosleep, clock_nanosleep, usleep, sleep as "sleep" blocks.
 *
 * Invariants:
 *  - A zero-length relative sleep is not a block (it is a yield); it goes
 *    straight to the real function.
 *  - The real function is called exactly once: EINTR, the remaining time
 *    (rem), and clock_nanosleep's error-number return (it does not set
 *    errno) all reach the caller unchanged.
 *  - glibc implements sleep and usleep with its internal nanosleep, not
 *    through the PLT, so a sleep() is reported once, not twice.
 *  - Bootstrap fallbacks are the raw syscalls.
 */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "interpose.h"

CT_REAL_DECL(int, nanosleep, (const struct timespec *, struct timespec *));
CT_REAL_DECL(int, clock_nanosleep, (clockid_t, int, const struct timespec *, struct timespec *));
CT_REAL_DECL(int, usleep, (useconds_t));
CT_REAL_DECL(unsigned, sleep, (unsigned));

static inline int ct_zero(const struct timespec *ts)
{
    return ts && ts->tv_sec == 0 && ts->tv_nsec == 0;
}

CT_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
    CT_REAL(nanosleep);
    if (CT_UNLIKELY(!ct_real_nanosleep))
        return (int)syscall(SYS_nanosleep, req, rem);
    if (!CT_ENABLED() || ct_zero(req))
        return ct_real_nanosleep(req, rem);
    ct_block(CTRACE_BLOCK_SLEEP, NULL, __func__, CT_SKIP);
    int r = ct_real_nanosleep(req, rem);
    ct_unblock();
    return r;
}

CT_EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem)
{
    CT_REAL(clock_nanosleep);
    if (CT_UNLIKELY(!ct_real_clock_nanosleep)) {
        long r = syscall(SYS_clock_nanosleep, clk, flags, req, rem);
        return r < 0 ? errno : 0;
    }
    if (!CT_ENABLED() || (!(flags & TIMER_ABSTIME) && ct_zero(req)))
        return ct_real_clock_nanosleep(clk, flags, req, rem);
    ct_block(CTRACE_BLOCK_SLEEP, NULL, __func__, CT_SKIP);
    int r = ct_real_clock_nanosleep(clk, flags, req, rem);
    ct_unblock();
    return r;
}

CT_EXPORT int usleep(useconds_t us)
{
    CT_REAL(usleep);
    if (CT_UNLIKELY(!ct_real_usleep)) {
        struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
        return (int)syscall(SYS_nanosleep, &ts, NULL);
    }
    if (!CT_ENABLED() || us == 0)
        return ct_real_usleep(us);
    ct_block(CTRACE_BLOCK_SLEEP, NULL, __func__, CT_SKIP);
    int r = ct_real_usleep(us);
    ct_unblock();
    return r;
}

CT_EXPORT unsigned sleep(unsigned s)
{
    CT_REAL(sleep);
    if (CT_UNLIKELY(!ct_real_sleep)) {
        struct timespec ts = {s, 0}, rem = {0, 0};
        if (syscall(SYS_nanosleep, &ts, &rem) != 0)
            return (unsigned)rem.tv_sec + (rem.tv_nsec != 0);
        return 0;
    }
    if (!CT_ENABLED() || s == 0)
        return ct_real_sleep(s);
    ct_block(CTRACE_BLOCK_SLEEP, NULL, __func__, CT_SKIP);
    unsigned r = ct_real_sleep(s);
    ct_unblock();
    return r;
}

__attribute__((constructor(CT_CTOR_PRIO))) static void ct_sleep_init(void)
{
    CT_REAL(nanosleep);
    CT_REAL(clock_nanosleep);
    CT_REAL(usleep);
    CT_REAL(sleep);
}
