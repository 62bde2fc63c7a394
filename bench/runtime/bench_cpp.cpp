/*
 * bench_cpp.cpp - the C++ loops of bench_events --set api (see
 * bench_events.c): ctrace.hpp's scopes, measured against the explicit C
 * calls they wrap.  Called from run_ops with the thread's current task set.
 * noinline: each loop is one frame, as run_ops is for the C cases.
 */
#include "ctrace.hpp"

#include <string_view>

extern "C" {
extern const char bench_name[6];    // bench_events.c: aligned apart
extern const char bench_message[8];
void bench_cpp_region(long n);
void bench_cpp_log(long n);
void bench_cpp_task(long n);
}

// As a literal's string_view would be: the length known, no strlen.
static const std::string_view name(bench_name, sizeof bench_name - 1);
static const std::string_view message(bench_message, sizeof bench_message - 1);

__attribute__((noinline)) void bench_cpp_region(long n)
{
    for (long i = 0; i < n; i++) {
        ctrace::Region r(name);
    }
}

__attribute__((noinline)) void bench_cpp_log(long n)
{
    for (long i = 0; i < n; i++)
        ctrace::log(name, message);
}

__attribute__((noinline)) void bench_cpp_task(long n)
{
    for (long i = 0; i < n; i++) {
        ctrace::TaskScope s(name);
    }
}
