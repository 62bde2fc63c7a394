/*
 * dlmod.c - a module test_dlclose loads and unloads while tracing with
 * stacks.  Built twice, with DLMOD_EMIT naming the function differently, so
 * that the trace shows which module each event came from.
 */
#include "ctrace.h"

__attribute__((noinline)) void DLMOD_EMIT(const char *msg)
{
    ctrace_log(0, "dlmod", msg);
    __asm__ volatile("" ::: "memory"); /* keep the call from being a tail call */
}
