/*
 * bench_cpp.cpp - the C++ loops of bench_events --set api (see
 * bench_events.c): ctrace.hpp's scopes, measured against the explicit C
 * calls they wrap.  Called from run_ops with the thread's current task set.
 * noinline: each loop is one frame, as run_ops is for the C cases.
 */
#include "ctrace.hpp"

extern "C" {
void bench_cpp_region(long n);
void bench_cpp_log(long n);
void bench_cpp_task(long n);
}

__attribute__((noinline)) void bench_cpp_region(long n)
{
    for (long i = 0; i < n; i++) {
        ctrace::Region r("bench");
    }
}

__attribute__((noinline)) void bench_cpp_log(long n)
{
    for (long i = 0; i < n; i++)
        ctrace::log("bench", "message");
}

__attribute__((noinline)) void bench_cpp_task(long n)
{
    for (long i = 0; i < n; i++) {
        ctrace::TaskScope s("bench");
    }
}
