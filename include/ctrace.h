/*
 * ctrace.h - Go's execution tracer, for C programs.
 *
 * libctrace records what every thread of a process does -- creation, running,
 * blocking on locks, condition variables, sleeps, network and other syscalls,
 * user tasks, regions and logs, CPU profile samples -- with nanosecond
 * timestamps and stack traces, and writes it in Go's execution-trace format
 * (the one Go 1.22 writes), so `go tool trace` and its ecosystem open it.
 *
 * Two levels of API, as in Go:
 *   - runtime level (ctrace_start_trace / ctrace_read_trace /
 *     ctrace_stop_trace): the caller pulls chunks of trace data;
 *   - writer level (ctrace_start, ctrace_start_fd, ctrace_start_file,
 *     ctrace_stop): a background thread drains the trace to a callback, a file
 *     descriptor or a file.
 * Annotations (tasks, regions, logs, thread names, block/unblock) are cheap
 * no-ops while tracing is off.
 *
 * Errors are negative CTRACE_E* codes; ctrace_strerror() names them.  Every
 * function is thread-safe.
 *
 * Strings: every string argument (paths, task, region and log names,
 * messages, reasons) is read during the call only.  ctrace copies what it
 * keeps, so a string may live in a local buffer that is reused or freed as
 * soon as the function returns -- including a region's name, which may be
 * gone before the region ends.  Nothing here ever kills, blocks forever or
 * changes the errno of the calling program; a failing trace writer stops
 * tracing and the program goes on.
 *
 * Process life (writer-level traces; docs/ARCHITECTURE.md, "Process life"):
 *   - Leaving the program finishes the trace -- every buffered byte written,
 *     the file closed: return from main, exit(), _exit(), _Exit(), and a
 *     death by SIGHUP, SIGINT, SIGTERM, SIGPIPE or SIGQUIT with their
 *     default action.  A crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT
 *     from abort() or a failed assert, SIGTRAP, SIGSYS) finishes it too, or,
 *     when that cannot be done safely (the crash is inside the tracer, or
 *     finishing does not complete within 10 s), cuts the file at its last
 *     complete generation.  Either way the file is one Go's parser reads
 *     (unless the cut comes before the first generation is complete: then
 *     only the header is left), and the process still dies of the same
 *     signal, with the same wait status and core dump.  SIGKILL (and a program's own handler that ends
 *     the process without going through the default action) leaves complete
 *     generations followed by at most one partial one (docs/FORMAT.md).
 *   - fork: in the child tracing is off (ctrace_stop returns
 *     CTRACE_ENOTRACING; the parent's trace is never written by it) and the
 *     child may start a trace of its own.  Safe whatever the other threads
 *     were doing at the fork.
 *   - seccomp: libctrace.so ends any trace (and the flight recorder) just
 *     before the program enters a seccomp sandbox (prctl PR_SET_SECCOMP, or
 *     the seccomp system call through syscall()), since the tracer's own
 *     system calls may not be allowed there; from then on every start
 *     returns CTRACE_ESYS with errno EPERM, in this process and its fork
 *     children.  libctrace.a does not see the sandbox: stop first.
 *   - set*id, setgroups, initgroups: glibc runs them on every thread and
 *     aborts the process when they fail on one; the tracer's threads do not
 *     share capabilities or securebits a thread gave itself (capset,
 *     prctl PR_SET_KEEPCAPS), so libctrace.so ends any trace (and the
 *     flight recorder) and joins its threads before such a call when the
 *     two differ (setpriv's way of dropping privileges).  libctrace.a does
 *     not see the call: stop first.
 *   - Shared library (libctrace.so, linked or preloaded) and static library
 *     (libctrace.a) differ in what needs a dynamic linker's interposition:
 *       * libctrace.a records no pthread/libc events by itself (no
 *         interposers): only the annotation API, thread creation shows when
 *         a thread first calls in, and exec does not finish the trace;
 *       * its fatal-signal handlers are installed when the library
 *         initializes (first ctrace_configure or start) for the signals
 *         whose disposition is then SIG_DFL; a handler the program installs
 *         later replaces ours for good (libctrace.so keeps standing in for
 *         SIG_DFL and reports SIG_DFL to sigaction queries; libctrace.a's
 *         handler shows in them);
 *       * the trace file's descriptor is moved to a high number but not
 *         hidden from the program's close/dup2/close_range.
 *     Exit handling is the same: libctrace.a links its own _exit/_Exit
 *     when the program calls them (unless a library linked before it, such
 *     as a sanitizer runtime, defines _exit: then that one is used and
 *     _exit does not finish the trace).
 */
#ifndef CTRACE_H
#define CTRACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CTRACE_VERSION_MAJOR 0
#define CTRACE_VERSION_MINOR 1
#define CTRACE_VERSION_PATCH 0
#define CTRACE_VERSION_STRING "0.1.0"
/* Single number for comparisons: major * 10000 + minor * 100 + patch. */
#define CTRACE_VERSION_NUMBER \
    (CTRACE_VERSION_MAJOR * 10000 + CTRACE_VERSION_MINOR * 100 + CTRACE_VERSION_PATCH)

#if defined(__GNUC__)
#define CTRACE_API __attribute__((visibility("default")))
#define CTRACE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CTRACE_API
#define CTRACE_PRINTF(f, a)
#endif

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

#define CTRACE_OK 0
#define CTRACE_EINVAL (-1)     /* invalid argument                          */
#define CTRACE_EBUSY (-2)      /* tracing already enabled, or another reader,
                                  or the last trace's data is not read yet */
#define CTRACE_ENOTRACING (-3) /* tracing is not enabled                    */
#define CTRACE_ENOMEM (-4)     /* out of memory                             */
#define CTRACE_EWRITE (-5)     /* the trace writer failed (errno is set)    */
#define CTRACE_EOPEN (-6)      /* could not open the output (errno is set)  */
#define CTRACE_ESYS (-7)       /* a system call failed (errno is set)       */
#define CTRACE_ECHILD (-8)     /* reserved: never returned (a fork child    */
                               /* sees tracing off, see "Process life")    */

/* Returns a static English description of a CTRACE_E* code (or "unknown
 * error").  Never returns NULL. */
CTRACE_API const char *ctrace_strerror(int err);

/* Returns CTRACE_VERSION_STRING of the library actually loaded. */
CTRACE_API const char *ctrace_version(void);

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

/* How stacks are captured. */
enum ctrace_stack_mode {
    CTRACE_STACKS_NONE = 0, /* no stacks: smallest, fastest traces       */
    CTRACE_STACKS_FP = 1,   /* frame-pointer walk only, bounds-checked;
                               needs -fno-omit-frame-pointer for full stacks */
    CTRACE_STACKS_UNWIND = 2, /* DWARF CFI unwinding through libunwind of
                               every frame: several times slower           */
    CTRACE_STACKS_AUTO = 3  /* default: per module, frame pointers where the
                               module keeps them (judged from its CFI), CFI
                               unwinding (libunwind) from the first frame in
                               a module that does not: distribution binaries
                               built without frame pointers get full stacks,
                               frame-pointer code costs what fp costs      */
};

/* Settings.  Fill with ctrace_config_init(), change fields, pass to
 * ctrace_configure().  Caller-owned; the library keeps a copy. */
typedef struct ctrace_config {
    /* CPU profile samples per second per thread (thread CPU time).
     * 0 disables sampling.  Default 100, at most 100000.
     * Env: CTRACE_CPU_HZ (decimal digits). */
    unsigned cpu_hz;
    /* Generation length in nanoseconds: how often the per-thread buffers,
     * string and stack tables are flushed into a self-contained chunk of
     * the trace.  Default 1e9 (1 s); from 1 ms to 1 hour.
     * Env: CTRACE_PERIOD, a number and a unit among ns, us, ms, s, m
     * ("500ms", "2.5s"; a unit is required). */
    uint64_t period_ns;
    /* enum ctrace_stack_mode.  Default CTRACE_STACKS_AUTO.
     * Env: CTRACE_STACKS=none|fp|unwind|auto. */
    int stacks;
    /* Maximum bytes of trace data buffered in memory (event buffers waiting
     * to be read).  When the reader falls behind and the cap is reached,
     * threads drop events and the drop is recorded; the trace stays valid
     * (see docs/ARCHITECTURE.md).  Default 64 MiB, minimum 1 MiB.
     * Env: CTRACE_MEM: bytes, or with K, M, G (powers of 1024): "256M". */
    size_t mem_cap;
} ctrace_config;

/* Fills *cfg with the defaults, then applies the CTRACE_* environment
 * variables documented above, as they were when the library was
 * initialized (the environment is read once, at load; docs/RUN.md lists
 * every variable).  Malformed variables are ignored (and reported once on
 * stderr). */
CTRACE_API void ctrace_config_init(ctrace_config *cfg);

/* Makes *cfg the configuration of the next trace.  Returns CTRACE_EBUSY while
 * tracing is on, CTRACE_EINVAL for out-of-range fields.  While only a trace
 * started from the environment runs (`ctrace run`: see ctrace_start_trace),
 * it returns CTRACE_OK and *cfg becomes the configuration of the program's
 * own trace, taken when the program starts it. */
CTRACE_API int ctrace_configure(const ctrace_config *cfg);

/* ------------------------------------------------------------------ */
/* Runtime level: start, read, stop (like Go's runtime.StartTrace)      */
/* ------------------------------------------------------------------ */

/* Enables tracing of the whole process.  Threads that already exist are
 * recorded with their current state.  Returns CTRACE_EBUSY if tracing is
 * already enabled, or if the data of the previous trace has not been read
 * to its end (see ctrace_stop_trace).  The data must then be pulled with
 * ctrace_read_trace().
 *
 * A trace or flight recorder started from the environment (CTRACE_OUTPUT,
 * CTRACE_FLIGHT: `ctrace run`) is not "already enabled" for the program:
 * this call, ctrace_start, ctrace_start_fd, ctrace_start_file and
 * ctrace_flight_start end it first (its file is finished whole, one line on
 * stderr says so) and then start the program's own, so that a program which
 * traces itself behaves under `ctrace run` as it does without it. */
CTRACE_API int ctrace_start_trace(void);

/* Disables tracing: when it returns, no more events are recorded.  Returns
 * CTRACE_ENOTRACING if tracing was not enabled.
 *
 * It then waits for the reader, never forever: it returns once
 * ctrace_read_trace() has returned the end of the trace, or as soon as no
 * reader is attached.  A reader is attached while a thread other than the
 * caller is inside ctrace_read_trace(), or called it during this trace and
 * comes back to it less than 1 second after its previous call returned (a
 * reader that keeps reading is thus waited for, however long the rest of
 * the trace takes to read).  If nobody reads (no thread ever called
 * ctrace_read_trace() during the trace, the caller is the reader itself, or
 * the reader stayed away longer than 1 second), it returns at once and the
 * data stays readable: later ctrace_read_trace() calls return the rest,
 * then the end.  Until then, ctrace_start_trace and ctrace_start* return
 * CTRACE_EBUSY.  (For a trace started with ctrace_start, _fd or _file, call
 * ctrace_stop, which waits for the background writer.) */
CTRACE_API int ctrace_stop_trace(void);

/* Returns the next chunk of trace data and its length in *len, blocking until
 * data is available.  The chunk stays valid until the next call.  Returns NULL
 * with *len = 0 once tracing is stopped and everything has been returned
 * (also when called after ctrace_stop_trace returned: the data of a stopped
 * trace stays readable until its end has been returned).
 * One reader at a time: a concurrent second call returns NULL with
 * *len = 0 and errno = EBUSY (see ctrace_read_trace_chunk for a status). */
CTRACE_API const void *ctrace_read_trace(size_t *len);

/* Same as ctrace_read_trace, with a status: returns 1 and sets chunk and len
 * for data, 0 at the end of the trace, CTRACE_EBUSY if another thread is
 * reading or the trace is a writer-level one (ctrace_start, _fd, _file:
 * their background thread is its only reader, from the moment the start
 * returns), CTRACE_ENOTRACING if no trace was started. */
CTRACE_API int ctrace_read_trace_chunk(const void **chunk, size_t *len);

/* ------------------------------------------------------------------ */
/* Writer level: trace to a callback, a file descriptor or a file       */
/* ------------------------------------------------------------------ */

/* Receives trace data in order.  Return 0 on success or a positive errno
 * value on failure; a failure stops tracing (the program continues) and is
 * reported by ctrace_stop(). */
typedef int (*ctrace_write_fn)(void *arg, const void *data, size_t len);

/* Starts tracing; a background thread passes the data to fn(arg, ...). */
CTRACE_API int ctrace_start(ctrace_write_fn fn, void *arg);

/* Starts tracing to an open file descriptor (not closed by ctrace).  A
 * non-blocking descriptor (O_NONBLOCK pipe or socket) is waited on with
 * poll() when full, as a blocking one would be: the trace is complete, and
 * ctrace_stop waits for the reader as it would on a blocking pipe. */
CTRACE_API int ctrace_start_fd(int fd);

/* Starts tracing to a file created (or truncated) at path.  In path, "%p"
 * is replaced by the process id.  Returns CTRACE_EOPEN (errno set) if it
 * cannot be opened.  A trace may carry secrets (log messages, names,
 * paths), so:
 *   - a new file is created with mode 0600 (less what the umask removes);
 *     an existing regular file loses any permission beyond 0600;
 *   - a symbolic link at path is refused (CTRACE_EOPEN, errno ELOOP) and
 *     its target left untouched: use ctrace_start_fd to trace to
 *     /dev/stdout or another link;
 *   - an existing regular file owned by another user is refused
 *     (CTRACE_EOPEN, errno EPERM), never truncated;
 *   - other files (a FIFO, a terminal, /dev/null) are written as they are;
 *   - a regular file is locked (flock, exclusive) while the trace writes
 *     it: a file another live trace is writing (another process given the
 *     same path) is refused (CTRACE_EOPEN, errno EBUSY), never truncated.
 *     On a file system without flock the file is written unlocked.
 * The descriptor is close-on-exec.  path is read during the call only. */
CTRACE_API int ctrace_start_file(const char *path);

/* Stops tracing started with ctrace_start*, returning after every byte has
 * been handed to the writer (and the file, if ctrace opened it, closed).
 * Returns CTRACE_OK, CTRACE_ENOTRACING, or CTRACE_EWRITE with errno set to
 * the writer's error (ENOSPC, EPIPE, ...) if the writer failed -- in which
 * case tracing had stopped at the failure. */
CTRACE_API int ctrace_stop(void);

/* Statistics of the current or last trace.  The losses (the *_dropped
 * fields) are also written into the trace itself, generation by
 * generation, where `ctrace check`, `ctrace stat` and `ctrace run` report
 * them (docs/FORMAT.md, "Losses"). */
typedef struct ctrace_stats {
    uint64_t generations;     /* generations written                       */
    uint64_t bytes;           /* bytes of trace produced                    */
    uint64_t events_dropped;  /* events lost: at the memory cap, or written
                                 by a signal handler that interrupted another
                                 event of its thread                         */
    uint64_t stacks_dropped;  /* stacks recorded as "no stack" (table full)  */
    uint64_t samples;         /* CPU samples recorded                        */
    uint64_t samples_dropped; /* CPU samples lost (per-thread ring full)     */
    uint64_t threads;         /* threads seen                                */
    uint64_t threads_dropped; /* threads left out of every trace for their
                                 life: no memory to give them a P id of
                                 their own (a shared one would make the
                                 trace invalid).  Counted, like threads,
                                 since the process started                */
    uint64_t strings_dropped; /* strings (log messages and categories,
                                 region, task and thread names) recorded as
                                 empty: the generation's string table was
                                 full before the tracer could end it       */
} ctrace_stats;

/* Fills *st.  Safe at any time. */
CTRACE_API void ctrace_get_stats(ctrace_stats *st);

/* ------------------------------------------------------------------ */
/* Is tracing on?                                                       */
/* ------------------------------------------------------------------ */

/* Non-zero while tracing; read with one load.  Use ctrace_enabled(). */
CTRACE_API extern volatile int ctrace_enabled_flag;

/* Returns non-zero while tracing is enabled.  Costs one memory load. */
static inline int ctrace_enabled(void)
{
    return __atomic_load_n(&ctrace_enabled_flag, __ATOMIC_RELAXED) != 0;
}

/* ------------------------------------------------------------------ */
/* Annotations: tasks, regions, logs, thread names                      */
/* ------------------------------------------------------------------ */

/* A task: a logical operation spanning threads (Go's trace.Task).  0 is the
 * background task.  A ctrace_task is a handle, not the id the trace shows:
 * ids are numbered afresh in each trace (so they stay short), and a handle
 * kept from an earlier trace still names its own task, with an id no task
 * of the current trace can have (docs/FORMAT.md). */
typedef uint64_t ctrace_task;

/* Begins a task named name, child of parent (0: of the calling thread's
 * current task, see ctrace_task_current; none if it has none).  Returns
 * its handle, or 0 while tracing is off.  name is read during the call
 * only.  The task does not become the current one (CTRACE_TASK does). */
CTRACE_API ctrace_task ctrace_task_begin(ctrace_task parent, const char *name);

/* Ends a task.  Ignored for 0. */
CTRACE_API void ctrace_task_end(ctrace_task task);

/* Begins a region (a timed interval on the calling thread, Go's
 * trace.StartRegion) in task (0: the current task, none if the thread has
 * none).  Regions nest; end them in reverse
 * order with the same name.  name is read during the call only: ctrace
 * keeps a copy (up to 2 KiB of names of open regions per thread; a region
 * beyond that, or nested more than 64 deep, is not written and counted in
 * events_dropped). */
CTRACE_API void ctrace_region_begin(ctrace_task task, const char *name);

/* Ends the innermost open region of the calling thread begun with the same
 * task and a name with the same content (the pointer need not be the
 * same; name is read during the call only).  Regions nested in it are
 * ended too.  An end that matches no open region is ignored. */
CTRACE_API void ctrace_region_end(ctrace_task task, const char *name);

/* A region handle (Go's *trace.Region): ends the region it names without
 * repeating its name.  0 is "no region" (tracing was off). */
typedef uint64_t ctrace_region;

/* Same as ctrace_region_begin, returning a handle for ctrace_region_stop
 * (0 while tracing is off).  name is read during the call only. */
CTRACE_API ctrace_region ctrace_region_start(ctrace_task task, const char *name);

/* Ends the region region (and the regions nested in it), on the thread
 * that started it.  Ignored for 0, for a region already ended, and on
 * another thread. */
CTRACE_API void ctrace_region_stop(ctrace_region region);

/* Logs message under category in task (Go's trace.Log; task 0: the
 * current task).  Both strings are read during the call only. */
CTRACE_API void ctrace_log(ctrace_task task, const char *category, const char *message);

/* printf-style ctrace_log; the message is cut at 1 KiB.  Strings are read
 * during the call only. */
CTRACE_API void ctrace_logf(ctrace_task task, const char *category, const char *fmt, ...)
    CTRACE_PRINTF(3, 4);

/* Names the calling thread in the trace (shown with its goroutine).  The
 * name (a copy, cut at 63 bytes; name is read during the call only) is
 * remembered across traces.  Names set with pthread_setname_np are
 * picked up automatically when the thread is first seen. */
CTRACE_API void ctrace_thread_name(const char *name);

/* Scoped region: CTRACE_REGION(task, name) (task 0: the current task);
 * ends at the end of the block, through its handle (so name may be a
 * buffer reused inside the block).  Several may share a block (the
 * variable's name holds the line number; not two on one line).
 * (GCC/Clang: uses the cleanup attribute.) */
/* Ends a CTRACE_REGION scope: ctrace_region_stop(*region) (called by the
 * cleanup attribute; a library function rather than an inline one so the
 * stack starts in your code). */
CTRACE_API void ctrace_region_scope_end(const ctrace_region *region);
#define CTRACE_CAT_(a, b) a##b
#define CTRACE_CAT(a, b) CTRACE_CAT_(a, b)
#define CTRACE_REGION(task, name)                                        \
    __attribute__((cleanup(ctrace_region_scope_end), unused))           \
    ctrace_region CTRACE_CAT(ctrace_region_, __LINE__) =                \
        ctrace_region_start((task), (name))

/* ------------------------------------------------------------------ */
/* Current task, correlation, names with a length (issue 12)            */
/* ------------------------------------------------------------------ */

/*
 * The current task of a thread (what a context.Context carries in Go):
 * where a task argument is 0, the task is the calling thread's current one
 * -- ctrace_region_begin/_start/_end, ctrace_log/_logf/_log_n take it as
 * their task, ctrace_task_begin*() as the parent.  A non-zero task argument
 * always wins.  Each thread starts with none (0, Go's background task).
 * The store is one plain thread-local word of libctrace (initial-exec TLS:
 * never allocated, no lock): setting and reading it costs a call and a
 * load or a store, tracing on or off.  A thread never inherits it: where
 * work moves to another thread, hand the task over with the work and let
 * the thread adopt it (CTRACE_ADOPT_TASK, ctrace_task_set_current).
 * A region begun with task 0 is in the current task of its begin; its end
 * by name (ctrace_region_end(0, name)) looks for the region in the current
 * task of the end: end it by handle (ctrace_region_stop) if the current
 * task may change in between.
 */

/* The calling thread's current task (0: none). */
CTRACE_API ctrace_task ctrace_task_current(void);

/* Makes task the calling thread's current task (0: none) and returns the
 * one it replaces, to be restored with another call. */
CTRACE_API ctrace_task ctrace_task_set_current(ctrace_task task);

/*
 * Correlation: the ids the trace shows, to write into a program's own logs,
 * metrics or request records so that they can be joined with the trace.
 */

/* The id go tool trace shows for task in the trace being written (Go's
 * task id: "Task=N", the TaskBegin's ID): ids are numbered afresh in each
 * trace, so call it while the trace that holds the task is being written.
 * 0 for 0 (the background task).  Costs a few loads, tracing on or off. */
CTRACE_API uint64_t ctrace_task_id(ctrace_task task);

/* The goroutine id ("G=N") of the calling thread in the trace: the same in
 * every trace for the thread's life (a thread calling it for the first
 * time is registered, as by any annotation).  0 on a thread ctrace never
 * traces (its own threads) or when the thread cannot be registered (no
 * memory). */
CTRACE_API uint64_t ctrace_goroutine_id(void);

/* A key=value pair attached to a task. */
typedef struct ctrace_kv {
    const char *key;   /* the log's category, e.g. "request-id"      */
    const char *value; /* its message, e.g. "r-1f3a"; NULL: ""       */
} ctrace_kv;

/* ctrace_task_begin, then, for each of the n pairs of kv, a log in the new
 * task with category key and message value (Go's trace.Log(ctx, key,
 * value)):
 * go tool trace shows them on the task's page, and `ctrace export` keeps
 * them as instants with "category" and "message" arguments.  kv may be
 * NULL when n is 0; a pair with a NULL key is skipped.  Strings are read
 * during the call only. */
CTRACE_API ctrace_task ctrace_task_begin_kv(ctrace_task parent, const char *name,
                                            const ctrace_kv *kv, size_t n);

/*
 * Length-taking forms, for names that are not NUL-terminated (a C++
 * std::string_view, a slice of a buffer): the same as their NUL-terminated
 * counterparts, with no copy made by the caller.  A name or message holding
 * a NUL byte ends there (region names) or is kept whole (logs and task
 * names: Go strings may hold NUL).  NULL with length 0 is "".
 */
CTRACE_API ctrace_task ctrace_task_begin_n(ctrace_task parent, const char *name, size_t name_len);
CTRACE_API ctrace_region ctrace_region_start_n(ctrace_task task, const char *name,
                                               size_t name_len);
CTRACE_API void ctrace_log_n(ctrace_task task, const char *category, size_t category_len,
                             const char *message, size_t message_len);

/*
 * Task scopes for C (GCC/Clang: the cleanup attribute), the C form of
 * ctrace.hpp's ctrace::TaskScope and ctrace::AdoptTask:
 *
 *   CTRACE_TASK(req, "request");   // begins "request", a child of the
 *                                  // current task, and makes it current
 *   ... req.task is its handle ...
 *   }                              // current task restored, task ended
 *
 *   CTRACE_ADOPT_TASK(job->task);  // a worker takes the job's task as its
 *                                  // current one until the end of the block
 *
 * A scope restores the current task it replaced when it ends, so scopes
 * must nest (they do: they are blocks).
 */
typedef struct ctrace_task_scope {
    ctrace_task task; /* the scope's task (0 while tracing is off)   */
    ctrace_task prev; /* the current task it replaced                */
    int owned;        /* the scope began task and ends it            */
} ctrace_task_scope;

/* Begins a task named name, child of the current task, and makes it the
 * current task.  While tracing is off: task 0, the current task left as
 * it is. */
CTRACE_API ctrace_task_scope ctrace_task_scope_begin(const char *name);

/* Makes task (begun elsewhere, often on another thread) the current task;
 * it is not ended by the scope. */
CTRACE_API ctrace_task_scope ctrace_task_scope_adopt(ctrace_task task);

/* Ends a scope: restores the current task it replaced, then ends its task
 * if the scope began it.  Ignored for NULL. */
CTRACE_API void ctrace_task_scope_end(ctrace_task_scope *scope);

#define CTRACE_TASK(var, name)                                            \
    __attribute__((cleanup(ctrace_task_scope_end), unused))              \
    ctrace_task_scope var = ctrace_task_scope_begin(name)
#define CTRACE_ADOPT_TASK(task)                                           \
    __attribute__((cleanup(ctrace_task_scope_end), unused))              \
    ctrace_task_scope CTRACE_CAT(ctrace_adopt_, __LINE__) =              \
        ctrace_task_scope_adopt(task)

/* ------------------------------------------------------------------ */
/* Blocking annotations for custom primitives                          */
/* ------------------------------------------------------------------ */

/* Why a thread blocks.  Each maps to a reason string a C programmer
 * reads and go tool trace classifies (docs/FORMAT.md): SYNC, COND, SELECT
 * and CHAN count as synchronization blocking, NET as network wait, SLEEP
 * as sleep. */
enum ctrace_block_kind {
    CTRACE_BLOCK_SYNC = 0,  /* lock, semaphore, barrier: "sync: lock"      */
    CTRACE_BLOCK_COND = 1,  /* condition variable: "sync: condition wait"  */
    CTRACE_BLOCK_NET = 2,   /* socket wait: "network"                      */
    CTRACE_BLOCK_SLEEP = 3, /* sleep: "sleep"                              */
    CTRACE_BLOCK_SELECT = 4,/* poll/select over many sources: "select: poll" */
    CTRACE_BLOCK_CHAN = 5,  /* queue/channel receive: "chan: queue receive" */
    CTRACE_BLOCK_OTHER = 6  /* anything else: "wait"                       */
};

/* Records that the calling thread is about to block, with its stack. */
CTRACE_API void ctrace_block(enum ctrace_block_kind kind);

/* Same, with a free-form reason.  Include "sync" in it to be counted as
 * synchronization blocking by go tool trace, or use "network".  reason is
 * read during the call only. */
CTRACE_API void ctrace_block_reason(const char *reason);

/* Records that the calling thread is running again after ctrace_block*. */
CTRACE_API void ctrace_unblock(void);

/* Records entry to / exit from a blocking system call (or any call into
 * the kernel or an outside service worth showing as a syscall). */
CTRACE_API void ctrace_syscall_begin(void);
CTRACE_API void ctrace_syscall_end(void);

/* ------------------------------------------------------------------ */
/* Flight recorder (Go 1.25's runtime/trace FlightRecorder)             */
/* ------------------------------------------------------------------ */

/*
 * The flight recorder traces continuously into a bounded ring of recent
 * generations in memory and writes nothing until a snapshot is asked for:
 * by ctrace_flight_write*, by a signal (SIGUSR2 by default), by a region
 * or task slower than its threshold, or by a crash.  A snapshot is a complete
 * trace (Go 1.22/1.23 format): the file header and the most recent whole
 * generations, the one in progress included -- it is ended at the request,
 * so the snapshot stops cleanly at that moment.  Writing a snapshot does
 * not stop recording.
 *
 * How it relates to the other modes: the flight recorder is a trace of its
 * own, with its own output.  One trace runs at a time, so while it records,
 * ctrace_start_trace and ctrace_start* return CTRACE_EBUSY, and while one of
 * those traces runs, ctrace_flight_start returns CTRACE_EBUSY.  No
 * ctrace_read_trace loop is needed (nor possible) in flight mode.
 *
 * Memory: at most max_bytes of trace buffers (the ring and the threads'
 * current buffers together; the buffer cap of ctrace_config.mem_cap is
 * replaced by it while the recorder runs) plus, per thread, its ~10 KiB
 * record and at most 2 forced small batches (docs/ARCHITECTURE.md, "The
 * flight recorder").  The oldest generations are dropped first.
 */
typedef struct ctrace_flight_config {
    /* Keep at least this much recent history (nanoseconds), if max_bytes
     * allows.  Default 10 s; at least 1 ms.  Env: CTRACE_FLIGHT (a
     * duration, or "1" for the default). */
    uint64_t min_age_ns;
    /* Upper bound on trace memory; takes precedence over min_age_ns.
     * Default 32 MiB, minimum 1 MiB.  Env: CTRACE_FLIGHT_MAX. */
    size_t max_bytes;
    /* A signal that writes a snapshot to PREFIX.PID.N.trace, or 0 for none.
     * Default SIGUSR2.  Installed only if the program has no handler for it
     * (a handler the program installs later replaces it).
     * Env: CTRACE_FLIGHT_SIGNAL (a number, a name such as USR1, or none). */
    int signal;
    /* Write a snapshot when the process dies of SIGSEGV, SIGBUS, SIGFPE,
     * SIGILL or SIGABRT with their default action (1, the default) or not
     * (0).  Env: CTRACE_FLIGHT_CRASH=0|1. */
    int crash;
    /* The PREFIX of the snapshot files the signal, slow regions and crashes
     * write ("%p" is the pid).  Default "ctrace-flight" (in the working
     * directory).  The string is copied.  Env: CTRACE_FLIGHT_PREFIX. */
    const char *prefix;
} ctrace_flight_config;

/* Fills *cfg with the defaults, then applies the CTRACE_FLIGHT* variables. */
CTRACE_API void ctrace_flight_config_init(ctrace_flight_config *cfg);

/* Starts the flight recorder (cfg NULL: ctrace_flight_config_init's).  The
 * trace's other settings (stacks, CPU sampling) are ctrace_configure's;
 * generations last at most min_age_ns / 4 (and at most the configured
 * period).  CTRACE_EBUSY if a trace runs, CTRACE_EINVAL for a bad cfg. */
CTRACE_API int ctrace_flight_start(const ctrace_flight_config *cfg);

/* Stops the recorder and drops what it holds.  CTRACE_ENOTRACING if it
 * does not run. */
CTRACE_API int ctrace_flight_stop(void);

/* Non-zero while the flight recorder runs. */
CTRACE_API int ctrace_flight_enabled(void);

/* Writes a snapshot to fd / to the file at path (created 0600 or
 * truncated, as ctrace_start_file does; "%p" is the pid) / through fn.
 * Returns CTRACE_OK once the last byte is written, CTRACE_ENOTRACING if
 * the recorder does not run, CTRACE_EWRITE (errno set) if writing failed,
 * CTRACE_EOPEN if the file could not be opened.  Snapshots are taken one at
 * a time: a call made while another snapshot is being written waits for
 * it, then takes its own (a snapshot by signal or slow region that finds
 * one in progress is skipped instead, and counted in snapshots_skipped).
 * The traced threads pay nothing for a snapshot beyond one early end of
 * the generation in progress; the caller pays the writing. */
CTRACE_API int ctrace_flight_write_fd(int fd);
CTRACE_API int ctrace_flight_write_file(const char *path);
CTRACE_API int ctrace_flight_write(ctrace_write_fn fn, void *arg);

/* A region or a task named name that lasts threshold_ns or more writes a
 * snapshot to PREFIX.PID.N.trace when it ends (0 removes the threshold).
 * At most one such snapshot per min_age_ns (the next would mostly repeat
 * it); the others are counted in snapshots_skipped, and so is a task not
 * timed because 256 such tasks are open already.  At most 32 names of up
 * to 63 bytes: CTRACE_EINVAL beyond.  A task is timed only if its name had
 * a threshold when it began.  Env: CTRACE_FLIGHT_SLOW=NAME=DURATION,...
 * Thresholds persist across recorder starts. */
CTRACE_API int ctrace_flight_slow(const char *name, uint64_t threshold_ns);

/* Statistics of the recorder. */
typedef struct ctrace_flight_stats {
    uint64_t snapshots;           /* snapshots written (any trigger)        */
    uint64_t snapshots_skipped;   /* triggers dropped: one in progress, rate
                                     limit, or the file could not be written */
    uint64_t generations_dropped; /* oldest generations evicted from the ring */
    uint64_t bytes_held;          /* memory the ring holds now              */
} ctrace_flight_stats;

/* Fills *st.  Safe at any time. */
CTRACE_API void ctrace_flight_get_stats(ctrace_flight_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* CTRACE_H */
