/*
 * nofp_plugin.c - a module dlopen'ed by dlopen_stacks.c, built without
 * frame pointers: its function uses the frame-pointer register as a
 * general register (zeroed here, as optimized code may leave anything in
 * it), so only its CFI can step over its frame.
 */
#include <time.h>

__attribute__((noinline)) int nofp_plugin_sleep(long ms)
{
#if defined(__x86_64__)
    __asm__ volatile("xorl %%ebp, %%ebp" ::: "rbp");
#endif
    struct timespec ts = {0, ms * 1000000L};
    int r = nanosleep(&ts, NULL);
    __asm__ volatile("" ::: "memory"); /* not a tail call: the frame stays */
    return r;
}
