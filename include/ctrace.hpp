/*
 * ctrace.hpp - a header-only C++17 layer over ctrace.h.
 *
 *   #include <ctrace.hpp>
 *
 *   void handle(Request &r) {
 *       ctrace::TaskScope task("request", {{"request-id", r.id}});
 *       CTRACE_SCOPE("parse");                 // a region in "request"
 *       ctrace::logf("http", "GET %s", r.path); // a log in "request"
 *       pool.submit([t = task.handle()] {
 *           ctrace::AdoptTask adopt(t);         // the worker joins the task
 *           CTRACE_SCOPE("work");
 *       });
 *   }
 *
 * What it gives (each a thin, inline wrapper of the C call named):
 *   - TaskScope: begins a task, child of the current one, makes it the
 *     thread's current task, and at the end of the scope restores the
 *     previous one and ends it (ctrace_task_begin_n, ctrace_task_set_current,
 *     ctrace_task_end).  Task: the same without touching the current task
 *     (a task whose handle is handed around explicitly).  Both may carry
 *     key=value pairs (logs in the task, on go tool trace's task page).
 *   - AdoptTask: makes a task begun elsewhere the current one for a scope
 *     (a worker running a job of that task).
 *   - Region and CTRACE_SCOPE(name): a region of the current task for the
 *     scope (ctrace_region_start_n / ctrace_region_stop: by handle, so the
 *     name need not outlive the constructor).  CTRACE_SCOPE_FUNC(): one
 *     named after the enclosing function.
 *   - log, logf (printf-style, checked by the compiler's format attribute)
 *     and, where the standard library has std::format (__cpp_lib_format),
 *     log_fmt (type-safe, checked at compile time); Task/TaskScope have the
 *     same as members for an explicit task.  Messages are cut at 1 KiB.
 *   - Blocked: ctrace_block .. ctrace_unblock around a wait of a custom
 *     primitive.
 *   - thread_name, current_task, task_id, goroutine_id (correlation).
 *
 * Invariants:
 *   - Nothing here throws (every function is noexcept; a formatting
 *     exception is swallowed and the log dropped) or allocates: names are
 *     std::string_view passed with their length (the *_n entries of
 *     ctrace.h), messages are formatted into a buffer on the stack.
 *   - While tracing is off, each wrapper costs the inline ctrace_enabled()
 *     load and a branch; no call into the library (AdoptTask excepted: it
 *     always sets the current task, one call, so that a handle adopted
 *     before a trace starts is in force when it does).
 *   - The wrappers are always inlined (even at -O0), so the stack a
 *     region, log or task records is taken in the caller's function, as
 *     with the C calls.  A symbolizer that expands inlined frames (ctrace's
 *     does) shows the wrapper's inlined copy on top (Region, ~Region,
 *     TaskScope ... at ctrace.hpp:LINE), the caller right under it;
 *     logf's frame is a real one (see logf).
 *   - Scopes are neither copyable nor movable: each ends exactly once, on
 *     the thread (and in the scope) that began it.  Regions must end on
 *     their thread; a Task may be ended on any thread.
 */
#ifndef CTRACE_HPP
#define CTRACE_HPP

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string_view>
#include <utility>
#if defined(__has_include)
#if __has_include(<version>)
#include <version>
#endif
#endif
#if defined(__cpp_lib_format)
#include <format>
#endif

#include "ctrace.h"

#if defined(__GNUC__)
#define CTRACE_HPP_INLINE inline __attribute__((always_inline))
#else
#define CTRACE_HPP_INLINE inline
#endif

namespace ctrace {

/* A task handle (ctrace_task): 0 is "none". */
using task_handle = ctrace_task;

/* A key=value pair given to a task when it begins. */
struct KV {
    std::string_view key;
    std::string_view value;
};

/* Largest message written (longer ones are cut). */
inline constexpr std::size_t max_message = 1024;
/* Thread names are cut at this many bytes less one. */
inline constexpr std::size_t max_thread_name = 64;

CTRACE_HPP_INLINE bool enabled() noexcept
{
    return ctrace_enabled() != 0;
}

/* ---- correlation ---- */

CTRACE_HPP_INLINE task_handle current_task() noexcept
{
    return ctrace_task_current();
}

/* The id go tool trace shows for task (Task=N) in the trace being written. */
CTRACE_HPP_INLINE std::uint64_t task_id(task_handle task) noexcept
{
    return ctrace_task_id(task);
}

/* The calling thread's goroutine id in the trace (G=N). */
CTRACE_HPP_INLINE std::uint64_t goroutine_id() noexcept
{
    return ctrace_goroutine_id();
}

/* ---- logs (task 0: the current task) ---- */

CTRACE_HPP_INLINE void log(std::string_view category, std::string_view message) noexcept
{
    if (enabled())
        ctrace_log_n(0, category.data(), category.size(), message.data(), message.size());
}

namespace detail {

inline void vlogf(task_handle task, std::string_view category, const char *fmt,
                  std::va_list ap) noexcept CTRACE_PRINTF(3, 0);
inline void vlogf(task_handle task, std::string_view category, const char *fmt,
                  std::va_list ap) noexcept
{
    char msg[max_message + 1];
    int n = std::vsnprintf(msg, sizeof msg, fmt, ap);
    if (n < 0)
        return;
    std::size_t len = static_cast<std::size_t>(n) < max_message ? static_cast<std::size_t>(n)
                                                                 : max_message;
    ctrace_log_n(task, category.data(), category.size(), msg, len);
}

#if defined(__cpp_lib_format)
template <class... Args>
CTRACE_HPP_INLINE void log_fmt(task_handle task, std::string_view category,
                               std::format_string<Args...> fmt, Args &&...args) noexcept
{
    char msg[max_message];
#if defined(__cpp_exceptions)
    try {
#endif
        auto r = std::format_to_n(msg, sizeof msg, fmt, std::forward<Args>(args)...);
        std::size_t len = static_cast<std::size_t>(r.size) < sizeof msg
                              ? static_cast<std::size_t>(r.size) : sizeof msg;
        ctrace_log_n(task, category.data(), category.size(), msg, len);
#if defined(__cpp_exceptions)
    } catch (...) {
        /* a formatter threw (out of memory, a user formatter): no log */
    }
#endif
}
#endif

/* Begins a task (child of parent, 0: of the current task) with its pairs. */
CTRACE_HPP_INLINE task_handle begin_task(task_handle parent, std::string_view name,
                                         std::initializer_list<KV> kv) noexcept
{
    task_handle t = ctrace_task_begin_n(parent, name.data(), name.size());
    if (t)
        for (const KV &p : kv)
            ctrace_log_n(t, p.key.data(), p.key.size(), p.value.data(), p.value.size());
    return t;
}

} // namespace detail

/* printf-style log in the current task.  A C variadic function cannot be
 * inlined: its own frame is the top of the log's stack (ctrace::logf),
 * under the caller's.  log and log_fmt have no frame of their own. */
inline void logf(const char *category, const char *fmt, ...) noexcept CTRACE_PRINTF(2, 3);
inline void logf(const char *category, const char *fmt, ...) noexcept
{
    if (!enabled() || !fmt)
        return;
    std::va_list ap;
    va_start(ap, fmt);
    detail::vlogf(0, category ? category : "", fmt, ap);
    va_end(ap);
}

#if defined(__cpp_lib_format)
/* std::format-style log in the current task (format checked at compile
 * time). */
template <class... Args>
CTRACE_HPP_INLINE void log_fmt(std::string_view category, std::format_string<Args...> fmt,
                               Args &&...args) noexcept
{
    if (enabled())
        detail::log_fmt(0, category, fmt, std::forward<Args>(args)...);
}
#endif

namespace detail {
/* Scopes are neither copyable nor movable (each ends exactly once). */
class Scope {
public:
    Scope(const Scope &) = delete;
    Scope &operator=(const Scope &) = delete;

protected:
    Scope() = default;
    ~Scope() = default;
};
} // namespace detail

/* ---- regions ---- */

/* A region of task (0: the current task) on the calling thread, from its
 * construction to its destruction (or end()). */
class Region : detail::Scope {
public:
    CTRACE_HPP_INLINE explicit Region(std::string_view name, task_handle task = 0) noexcept
        : region_(enabled() ? ctrace_region_start_n(task, name.data(), name.size()) : 0)
    {
    }
    CTRACE_HPP_INLINE ~Region() { end(); }
    /* Ends the region now (the destructor then does nothing). */
    CTRACE_HPP_INLINE void end() noexcept
    {
        if (region_) {
            ctrace_region_stop(region_);
            region_ = 0;
        }
    }

private:
    ctrace_region region_;
};

/* ---- tasks ---- */

/* Members shared by Task and TaskScope: logs and regions in this task. */
class TaskBase : detail::Scope {
public:
    /* The handle (0 while tracing is off), for another thread's AdoptTask
     * or the C API. */
    CTRACE_HPP_INLINE task_handle handle() const noexcept { return task_; }
    /* The id go tool trace shows for it (Task=N). */
    CTRACE_HPP_INLINE std::uint64_t id() const noexcept { return ctrace_task_id(task_); }

    CTRACE_HPP_INLINE void log(std::string_view category, std::string_view message) const noexcept
    {
        if (task_ && enabled())
            ctrace_log_n(task_, category.data(), category.size(), message.data(),
                         message.size());
    }
    /* (like ctrace::logf, its frame is on top of the log's stack) */
    void logf(const char *category, const char *fmt, ...) const noexcept CTRACE_PRINTF(3, 4);
#if defined(__cpp_lib_format)
    template <class... Args>
    CTRACE_HPP_INLINE void log_fmt(std::string_view category, std::format_string<Args...> fmt,
                                   Args &&...args) const noexcept
    {
        if (task_ && enabled())
            detail::log_fmt(task_, category, fmt, std::forward<Args>(args)...);
    }
#endif
    /* A region of this task: auto r = task.region("step"); */
    CTRACE_HPP_INLINE Region region(std::string_view name) const noexcept
    {
        return Region(name, task_);
    }


protected:
    CTRACE_HPP_INLINE explicit TaskBase(task_handle task) noexcept : task_(task) {}
    ~TaskBase() = default;
    task_handle task_;
};

inline void TaskBase::logf(const char *category, const char *fmt, ...) const noexcept
{
    if (!task_ || !enabled() || !fmt)
        return;
    std::va_list ap;
    va_start(ap, fmt);
    detail::vlogf(task_, category ? category : "", fmt, ap);
    va_end(ap);
}

/* A task from construction to destruction (or end()), child of parent (0:
 * of the current task).  It does not become the current task: hand
 * handle() to the code that works for it. */
class Task : public TaskBase {
public:
    CTRACE_HPP_INLINE explicit Task(std::string_view name, task_handle parent = 0) noexcept
        : TaskBase(enabled() ? ctrace_task_begin_n(parent, name.data(), name.size()) : 0)
    {
    }
    CTRACE_HPP_INLINE Task(std::string_view name, std::initializer_list<KV> kv,
                           task_handle parent = 0) noexcept
        : TaskBase(enabled() ? detail::begin_task(parent, name, kv) : 0)
    {
    }
    CTRACE_HPP_INLINE ~Task() { end(); }
    /* Ends the task now (the destructor then does nothing). */
    CTRACE_HPP_INLINE void end() noexcept
    {
        if (task_) {
            ctrace_task_end(task_);
            task_ = 0;
        }
    }
};

/* A task, child of the current one, that is the thread's current task
 * from construction to destruction (then the previous one is restored and
 * the task ended).  Scopes nest. */
class TaskScope : public TaskBase {
public:
    CTRACE_HPP_INLINE explicit TaskScope(std::string_view name) noexcept
        : TaskBase(enabled() ? ctrace_task_begin_n(0, name.data(), name.size()) : 0),
          prev_(task_ ? ctrace_task_set_current(task_) : 0)
    {
    }
    CTRACE_HPP_INLINE TaskScope(std::string_view name, std::initializer_list<KV> kv) noexcept
        : TaskBase(enabled() ? detail::begin_task(0, name, kv) : 0),
          prev_(task_ ? ctrace_task_set_current(task_) : 0)
    {
    }
    CTRACE_HPP_INLINE ~TaskScope()
    {
        if (task_) {
            ctrace_task_set_current(prev_);
            ctrace_task_end(task_);
        }
    }

private:
    task_handle prev_;
};

/* Makes task the calling thread's current task for the scope (a worker
 * running a job of that task), then restores the previous one.  The task
 * is not ended. */
class AdoptTask : detail::Scope {
public:
    CTRACE_HPP_INLINE explicit AdoptTask(task_handle task) noexcept
        : prev_(ctrace_task_set_current(task))
    {
    }
    CTRACE_HPP_INLINE ~AdoptTask() { ctrace_task_set_current(prev_); }

private:
    task_handle prev_;
};

/* ---- blocking and threads ---- */

/* The calling thread blocks (kind: why) from construction to destruction:
 * wrap the wait of a primitive ctrace does not see (a futex, a spin-wait,
 * a queue of your own). */
class Blocked : detail::Scope {
public:
    CTRACE_HPP_INLINE explicit Blocked(ctrace_block_kind kind = CTRACE_BLOCK_SYNC) noexcept
        : on_(enabled())
    {
        if (on_)
            ctrace_block(kind);
    }
    CTRACE_HPP_INLINE ~Blocked()
    {
        if (on_)
            ctrace_unblock();
    }

private:
    bool on_;
};

/* Names the calling thread (cut at 63 bytes; a NUL in name ends it). */
CTRACE_HPP_INLINE void thread_name(std::string_view name) noexcept
{
    char buf[max_thread_name];
    std::size_t n = name.size() < sizeof buf - 1 ? name.size() : sizeof buf - 1;
    for (std::size_t i = 0; i < n; i++)
        buf[i] = name[i];
    buf[n] = '\0';
    ctrace_thread_name(buf);
}

} // namespace ctrace

/* A region of the current task for the rest of the enclosing block (not two
 * on one line). */
#define CTRACE_SCOPE(name) ::ctrace::Region CTRACE_CAT(ctrace_scope_, __LINE__){(name)}
/* Same, named after the enclosing function. */
#define CTRACE_SCOPE_FUNC() CTRACE_SCOPE(__func__)
/* A task (child of the current one) that is current for the rest of the
 * block. */
#define CTRACE_TASK_SCOPE(name) ::ctrace::TaskScope CTRACE_CAT(ctrace_task_, __LINE__){(name)}

#endif /* CTRACE_HPP */
