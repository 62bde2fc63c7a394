/*
 * cpp_api.cpp - include/ctrace.hpp, call by call (check_cpp.sh builds it
 * with each C++ compiler and standard, runs it and checks its trace).
 *
 * Checks here (CHECK lines) what the program can see: tracing off makes
 * every scope a no-op (handles 0, the current task untouched) except
 * AdoptTask; TaskScope sets and restores the current task, Task does not.
 * Writes cpp-api.trace holding:
 *   - task "outer" (TaskScope with kv: k1=v1, k2=v2), current inside:
 *       region "cur-region" (CTRACE_SCOPE), log "cur-log" (log), log
 *       "cur-logf" (logf), log "cur-fmt" (log_fmt, or logf without
 *       std::format), region "scope_func" (CTRACE_SCOPE_FUNC in a
 *       function of that name);
 *       task "inner" (CTRACE_TASK_SCOPE), child of "outer", with region
 *       "in-inner";
 *       task "explicit" (Task), child of "outer", never current: its own
 *       logs "ex-log", "ex-logf", "ex-fmt" and region "ex-region";
 *   - a log "sv" whose category and message are cut out of longer
 *     strings (string_view without a NUL);
 *   - a block with reason "sync: lock" (Blocked, CTRACE_BLOCK_SYNC);
 *   - the thread named by a 100-byte string_view, cut to 63 bytes.
 */
#include <cstdio>
#include <string>
#include <string_view>

#include "ctrace.hpp"

static int checks, failed;
#define CHECK(cond, what)                                                        \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond))                                                             \
            failed++;                                                            \
        std::printf("%s %s\n", (cond) ? "ok:  " : "FAIL:", what);                 \
    } while (0)

__attribute__((noinline)) static void scope_func()
{
    CTRACE_SCOPE_FUNC();
}

int main()
{
    /* Tracing off: nothing happens, nothing is set. */
    {
        ctrace::TaskScope off("off");
        CHECK(off.handle() == 0, "TaskScope while tracing is off: handle 0");
        CHECK(ctrace::current_task() == 0, "TaskScope while tracing is off: current task untouched");
        ctrace::Task t("off-task");
        CHECK(t.handle() == 0, "Task while tracing is off: handle 0");
        CTRACE_SCOPE("off-region");
        ctrace::log("off", "off");
    }
    {
        ctrace::AdoptTask a(7);
        CHECK(ctrace::current_task() == 7, "AdoptTask sets the current task with tracing off");
    }
    CHECK(ctrace::current_task() == 0, "AdoptTask restores the current task");

    if (ctrace_start_file("cpp-api.trace") != CTRACE_OK) {
        std::printf("FAIL: ctrace_start_file\n");
        return 1;
    }
    std::string long_name(100, 'n');
    ctrace::thread_name(std::string_view(long_name));
    {
        std::string v2 = "v2";
        ctrace::TaskScope outer("outer", {{"k1", "v1"}, {"k2", v2}});
        CHECK(outer.handle() != 0, "TaskScope: a task while tracing");
        CHECK(ctrace::current_task() == outer.handle(), "TaskScope: current inside");
        CHECK(outer.id() == ctrace::task_id(outer.handle()) && outer.id() > 0,
              "id() is the id the trace shows");
        {
            CTRACE_SCOPE("cur-region");
            ctrace::log("cur-log", "message");
            ctrace::logf("cur-logf", "n=%d s=%s", 42, "str");
#if defined(__cpp_lib_format)
            ctrace::log_fmt("cur-fmt", "n={} s={}", 42, "str");
#else
            ctrace::logf("cur-fmt", "n=%d s=%s", 42, "str");
#endif
            scope_func();
        }
        {
            CTRACE_TASK_SCOPE("inner");
            CHECK(ctrace::current_task() != outer.handle(), "CTRACE_TASK_SCOPE: its task is current");
            CTRACE_SCOPE("in-inner");
        }
        CHECK(ctrace::current_task() == outer.handle(), "CTRACE_TASK_SCOPE restores outer");
        {
            ctrace::Task ex("explicit");
            CHECK(ctrace::current_task() == outer.handle(), "Task does not become current");
            ex.log("ex-log", "m");
            ex.logf("ex-logf", "%s", "m");
#if defined(__cpp_lib_format)
            ex.log_fmt("ex-fmt", "{}", 1);
#else
            ex.logf("ex-fmt", "%d", 1);
#endif
            auto r = ex.region("ex-region");
        }
    }
    CHECK(ctrace::current_task() == 0, "TaskScope restores no current task");
    std::string cat = "sv-not-this", msg = "message-not-this";
    ctrace::log(std::string_view(cat).substr(0, 2), std::string_view(msg).substr(0, 7));
    {
        ctrace::Blocked b(CTRACE_BLOCK_SYNC);
    }
    if (ctrace_stop() != CTRACE_OK) {
        std::printf("FAIL: ctrace_stop\n");
        return 1;
    }
    std::printf("format: %s\n",
#if defined(__cpp_lib_format)
                "std::format"
#else
                "printf"
#endif
    );
    std::printf("%d passed, %d failed\n", checks - failed, failed);
    return failed != 0;
}
