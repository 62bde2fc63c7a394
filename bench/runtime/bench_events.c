/*
 * bench_events.c - what libctrace's hot path adds per traced event (not a
 * test; issue 2, "Benchmark").
 *
 * What it measures, per case (operation x stack mode x threads):
 *   region  ctrace_region_begin(0, "bench") + ctrace_region_end(0, "bench")
 *           2 API calls, 2 Go events (UserRegionBegin, UserRegionEnd)
 *   log     ctrace_log(0, "bench", "message")
 *           1 API call, 1 Go event (UserLog)
 *   block   ctrace_block(CTRACE_BLOCK_SYNC) + ctrace_unblock()
 *           2 API calls, 5 Go events (GoBlock, ProcStop; ProcStart,
 *           GoUnblock, GoStart: a blocked thread's P is released and
 *           re-acquired, as in src/runtime/sched.c)
 *   task    ctrace_task_end(ctrace_task_begin(0, "bench"))
 *           2 API calls, 2 Go events (UserTaskBegin, UserTaskEnd)
 * and, with --set api (issue 12: the current-task forms and the C++ layer
 * side by side with the explicit C calls they stand for; each thread
 * begins one task T before its loop, and makes it its current task for
 * the *_cur and cpp_* cases):
 *   region_t    ctrace_region_begin(T, "bench") + ctrace_region_end(T, ..)
 *   region_cur  the same with task 0 (T taken from the thread)
 *   handle_t    ctrace_region_stop(ctrace_region_start(T, "bench"))
 *   cpp_region  { ctrace::Region r("bench"); } (ctrace.hpp: wraps
 *               ctrace_region_start_n(0, ..) / ctrace_region_stop)
 *   log_t       ctrace_log(T, "bench", "message")
 *   log_cur     ctrace_log(0, "bench", "message")
 *   cpp_log     ctrace::log("bench", "message") (wraps ctrace_log_n(0, ..))
 *   task_set    t = ctrace_task_begin(0, "bench"); p = ctrace_task_set_current(t);
 *               ctrace_task_set_current(p); ctrace_task_end(t)
 *   cpp_task    { ctrace::TaskScope s("bench"); } (wraps the same 4 calls)
 *   each 2 events (regions, tasks) or 1 (logs) per operation; "calls" counts
 *   the calls that write an event (task_set: 2 of its 4).  The cpp_*
 *   loops are in bench_cpp.cpp (built when CMake finds a C++ compiler),
 *   one frame below run_ops: they descend one level less, so the stacks
 *   are 16 frames deep too.
 * Stack modes: "none" (ctrace_config.stacks = CTRACE_STACKS_NONE, the loop
 * called directly from the thread's start routine) and "fp16"
 * (CTRACE_STACKS_FP, the loop runs 16 frames deep: 15 noinline, non-tail
 * recursion levels plus the loop function, frame pointers on).  Threads: 1,
 * or 2 running the same loop concurrently (each does `ops` operations).
 *
 * How: each repetition times the loop once with tracing off (the calls are
 * made; each returns after its "is tracing on" load) and once with tracing
 * on, in fresh threads released together by a flag.  The time is the CPU
 * time of the whole process (CLOCK_PROCESS_CPUTIME_ID) from the release to
 * the last join: the workers plus, when tracing, ctrace's background
 * threads.  CPU time rather than wall time because the 2-core machine this
 * runs on is shared (load averages of 10+): wall time mostly measures the
 * other tenants.  Added cost per event = (cpu_on - cpu_off) / (threads * ops
 * * events_per_op).  The wall-time figure, computed like
 * bench/go/tracerbench ((wall_on - wall_off) * threads / events), is printed
 * too ("wall/ev") for comparison.  The trace goes to a callback that
 * discards the data (disk speed does not count), or with --sink PATH to
 * ctrace_start_file(PATH), or with --sink flight to the flight recorder's
 * ring (nothing written).  CPU sampling is off (cpu_hz = 0) so that profile
 * signals do not count; the generation period is the default.  Medians and
 * minima over --reps repetitions (default 5): median = med(on) - med(off),
 * min = min(on) - min(off).
 *
 * Also measured in the same run: the cost of one timestamp read (a loop of
 * rdtsc, and of clock_gettime(CLOCK_MONOTONIC), timed by thread CPU time,
 * median of --reps loops); "net" figures subtract one
 * read of the clock ctrace uses (the TSC when the CPU reports an invariant
 * TSC, as src/runtime/clock.c decides) per API call.  Bytes per event =
 * ctrace_get_stats() bytes / events of the traced run (headers, string and
 * stack tables included).
 *
 * Output: a human table, then one machine line per case for
 * bench/run-runtime.sh:
 *   ctrace <op> <threads> <stack> <ns/ev med> <ns/ev min> <net ns/ev>
 *          <ns/call> <net ns/call> <bytes/ev> <dropped> <wall ns/ev>
 *          <on ns/ev> <off ns/ev>
 * on/off ns/ev are the whole CPU time per event of the traced and of the
 * untraced loop (medians): the added cost is their difference, so a form
 * that is cheaper while tracing is off (ctrace.hpp checks the flag inline
 * and makes no call) shows a larger added cost for the same traced cost;
 * compare the forms on on/ev.
 *   tsc <ns> / mono <ns> / clock <tsc|monotonic>
 *
 * --trace PATH --case OP --ops N [--stacks none|fp16] writes one
 * single-thread trace of N operations to PATH and exits (the runner counts its events with
 * go tool trace to check the events-per-operation figures above).
 *
 * Invariant: the recursion levels keep their frames (noinline, a compiler
 * barrier after the call, and -fno-optimize-sibling-calls), so the stack a
 * "fp16" event captures really starts 16 frames deep.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

#include <ctrace.h>

#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __asm__ volatile("pause" ::: "memory")
#else
#define CPU_RELAX() __asm__ volatile("" ::: "memory")
#endif

#define MAX_REPS 101
#define MAX_THREADS 8
#define STACK_DEPTH 16

enum op {
    OP_REGION, OP_LOG, OP_BLOCK, OP_TASK,
    /* --set api */
    OP_REGION_T, OP_REGION_CUR, OP_HANDLE_T, OP_CPP_REGION,
    OP_LOG_T, OP_LOG_CUR, OP_CPP_LOG, OP_TASK_SET, OP_CPP_TASK,
    N_OPS
};

/* How a case's thread uses its task T (--set api). */
enum task_use { T_NONE, T_EXPLICIT, T_CURRENT };

static const struct {
    const char *name;
    int calls_per_op;
    int events_per_op;
    long ops_none; /* operations per thread, stacks off (scaled by --scale) */
    long ops_fp;   /* same, 16-frame stacks */
    int api;       /* in the --set api cases, not in the default ones */
    int task;      /* enum task_use */
    int cpp;       /* the loop is in bench_cpp.cpp (one frame deeper) */
} op_info[N_OPS] = {
    [OP_REGION] = {"region", 2, 2, 2000000, 500000, 0, T_NONE, 0},
    [OP_LOG] = {"log", 1, 1, 3000000, 800000, 0, T_NONE, 0},
    [OP_BLOCK] = {"block", 2, 5, 1000000, 400000, 0, T_NONE, 0},
    [OP_TASK] = {"task", 2, 2, 2000000, 500000, 0, T_NONE, 0},
    [OP_REGION_T] = {"region_t", 2, 2, 2000000, 500000, 1, T_EXPLICIT, 0},
    [OP_REGION_CUR] = {"region_cur", 2, 2, 2000000, 500000, 1, T_CURRENT, 0},
    [OP_HANDLE_T] = {"handle_t", 2, 2, 2000000, 500000, 1, T_EXPLICIT, 0},
    [OP_CPP_REGION] = {"cpp_region", 2, 2, 2000000, 500000, 1, T_CURRENT, 1},
    [OP_LOG_T] = {"log_t", 1, 1, 3000000, 800000, 1, T_EXPLICIT, 0},
    [OP_LOG_CUR] = {"log_cur", 1, 1, 3000000, 800000, 1, T_CURRENT, 0},
    [OP_CPP_LOG] = {"cpp_log", 1, 1, 3000000, 800000, 1, T_CURRENT, 1},
    [OP_TASK_SET] = {"task_set", 2, 2, 2000000, 500000, 1, T_NONE, 0},
    [OP_CPP_TASK] = {"cpp_task", 2, 2, 2000000, 500000, 1, T_NONE, 1},
};

/* The C++ loops (bench_cpp.cpp); without a C++ compiler, absent and their
 * cases skipped. */
#ifdef BENCH_CXX
void bench_cpp_region(long n);
void bench_cpp_log(long n);
void bench_cpp_task(long n);
#endif

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double minimum(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

/* ---- the loops ---- */

/* The name and message every case passes.  Aligned apart: libctrace's
 * per-thread string cache (src/runtime/intern.c, pcache) picks a slot by
 * the string's address / 8, so two literals the compiler happens to place
 * within the same 8 bytes ("bench\0message\0") share a slot and evict
 * each other on every log: ~10 ns more per log, depending only on where
 * the linker put them (it did, in one build of this file).  Aligned 64
 * bytes apart, every build measures the cached path.  Not static: the C++
 * cases (bench_cpp.cpp) use the same two. */
__attribute__((aligned(64))) const char bench_name[6] = "bench";
__attribute__((aligned(64))) const char bench_message[8] = "message";


/* One operation, n times.  noinline: this is the frame the annotation is
 * called from, the deepest of the 16. */
__attribute__((noinline)) static void run_ops(enum op op, long n)
{
    ctrace_task task = 0, prev = 0;
    if (op_info[op].task != T_NONE)
        task = ctrace_task_begin(0, "bench-task");
    if (op_info[op].task == T_CURRENT)
        prev = ctrace_task_set_current(task);
    switch (op) {
    case OP_REGION:
        for (long i = 0; i < n; i++) {
            ctrace_region_begin(0, bench_name);
            ctrace_region_end(0, bench_name);
        }
        break;
    case OP_LOG:
        for (long i = 0; i < n; i++)
            ctrace_log(0, bench_name, bench_message);
        break;
    case OP_BLOCK:
        for (long i = 0; i < n; i++) {
            ctrace_block(CTRACE_BLOCK_SYNC);
            ctrace_unblock();
        }
        break;
    case OP_TASK:
        for (long i = 0; i < n; i++)
            ctrace_task_end(ctrace_task_begin(0, bench_name));
        break;
    case OP_REGION_T:
    case OP_REGION_CUR: {
        ctrace_task t = op == OP_REGION_T ? task : 0;
        for (long i = 0; i < n; i++) {
            ctrace_region_begin(t, bench_name);
            ctrace_region_end(t, bench_name);
        }
        break;
    }
    case OP_HANDLE_T:
        for (long i = 0; i < n; i++)
            ctrace_region_stop(ctrace_region_start(task, bench_name));
        break;
    case OP_LOG_T:
    case OP_LOG_CUR: {
        ctrace_task t = op == OP_LOG_T ? task : 0;
        for (long i = 0; i < n; i++)
            ctrace_log(t, bench_name, bench_message);
        break;
    }
    case OP_TASK_SET:
        for (long i = 0; i < n; i++) {
            ctrace_task t = ctrace_task_begin(0, bench_name);
            ctrace_task p = ctrace_task_set_current(t);
            ctrace_task_set_current(p);
            ctrace_task_end(t);
        }
        break;
#ifdef BENCH_CXX
    case OP_CPP_REGION:
        bench_cpp_region(n);
        break;
    case OP_CPP_LOG:
        bench_cpp_log(n);
        break;
    case OP_CPP_TASK:
        bench_cpp_task(n);
        break;
#endif
    default:
        break;
    }
    if (op_info[op].task == T_CURRENT)
        ctrace_task_set_current(prev);
    ctrace_task_end(task);
}

/* depth more frames of recursion, then the loop. */
__attribute__((noinline)) static void descend(int depth, enum op op, long n)
{
    if (depth > 0)
        descend(depth - 1, op, n);
    else
        run_ops(op, n);
    __asm__ volatile("" ::: "memory"); /* no tail call: keep this frame */
}

/* ---- threads released together ---- */

struct job {
    enum op op;
    int depth; /* frames of recursion above run_ops */
    long ops;
};

static atomic_int ready, go;

static void *worker(void *arg)
{
    const struct job *j = arg;
    atomic_fetch_add(&ready, 1);
    while (!atomic_load_explicit(&go, memory_order_acquire))
        CPU_RELAX();
    descend(j->depth, j->op, j->ops);
    return NULL;
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Runs the job on nthreads threads at once.  Returns the CPU time the whole
 * process spent from the release to the last join (workers, plus ctrace's
 * background threads when tracing), in ns; *wall gets the wall time. */
static double run_threads(const struct job *j, int nthreads, double *wall)
{
    pthread_t th[MAX_THREADS];
    atomic_store(&ready, 0);
    atomic_store(&go, 0);
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)j) != 0) {
            perror("pthread_create");
            exit(1);
        }
    while (atomic_load(&ready) < nthreads)
        CPU_RELAX();
    uint64_t w0 = now_ns(), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    atomic_store_explicit(&go, 1, memory_order_release);
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    uint64_t c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), w1 = now_ns();
    if (wall)
        *wall = (double)(w1 - w0);
    return (double)(c1 - c0);
}

/* ---- tracing on and off ---- */

static int discard(void *arg, const void *data, size_t len)
{
    (void)arg, (void)data, (void)len;
    return 0;
}

static const char *sink; /* NULL: the discarding callback */

static void configure(int stacks)
{
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.stacks = stacks;
    cfg.cpu_hz = 0;
    int rc = ctrace_configure(&cfg);
    if (rc != CTRACE_OK) {
        fprintf(stderr, "ctrace_configure: %s\n", ctrace_strerror(rc));
        exit(1);
    }
}

/* --sink flight: the flight recorder (MinAge 10 s, MaxBytes 32 MiB, no
 * signal), the events kept in memory; the stop drops them. */
static int flight_sink(void)
{
    return sink && strcmp(sink, "flight") == 0;
}

static void start_tracing(void)
{
    int rc;
    if (flight_sink()) {
        ctrace_flight_config fc;
        ctrace_flight_config_init(&fc);
        fc.signal = 0;
        fc.max_bytes = 32u << 20;
        rc = ctrace_flight_start(&fc);
    } else {
        rc = sink ? ctrace_start_file(sink) : ctrace_start(discard, NULL);
    }
    if (rc != CTRACE_OK) {
        fprintf(stderr, "ctrace_start: %s\n", ctrace_strerror(rc));
        exit(1);
    }
}

static void stop_tracing(ctrace_stats *st)
{
    int rc = flight_sink() ? ctrace_flight_stop() : ctrace_stop();
    if (rc != CTRACE_OK) {
        fprintf(stderr, "ctrace_stop: %s\n", ctrace_strerror(rc));
        exit(1);
    }
    ctrace_get_stats(st);
}

/* ---- timestamp reads ---- */

#define TS_LOOP 5000000

static double tsc_read_ns(void)
{
#if defined(__x86_64__) || defined(__i386__)
    uint64_t sum = 0, t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < TS_LOOP; i++)
        sum += __rdtsc();
    uint64_t t1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    __asm__ volatile("" : : "r"(sum));
    return (double)(t1 - t0) / TS_LOOP;
#else
    return 0;
#endif
}

static double mono_read_ns(void)
{
    struct timespec ts;
    uint64_t sum = 0, t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < TS_LOOP; i++) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sum += (uint64_t)ts.tv_nsec;
    }
    uint64_t t1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    __asm__ volatile("" : : "r"(sum));
    return (double)(t1 - t0) / TS_LOOP;
}

/* The clock src/runtime/clock.c picks: the TSC if invariant. */
static int ctrace_uses_tsc(void)
{
    const char *force = getenv("CTRACE_CLOCK");
    if (force && strcmp(force, "monotonic") == 0)
        return 0;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
        return 0;
    __get_cpuid(0x80000007u, &a, &b, &c, &d);
    return (d >> 8) & 1;
#else
    return 0;
#endif
}

/* ---- one case ---- */

struct result {
    double ns_ev_med, ns_ev_min, net_ev, ns_call, net_call, bytes_ev, wall_ev;
    double on_ev, off_ev; /* whole cost per event, tracing on / off (median) */
    uint64_t dropped;
};

static struct result run_case(enum op op, int stacks, int nthreads, int reps, double scale,
                              double ts_ns)
{
    struct job j = {op, stacks == CTRACE_STACKS_NONE ? 0 : STACK_DEPTH - 1 - op_info[op].cpp, 0};
    j.ops = (long)((stacks == CTRACE_STACKS_NONE ? op_info[op].ops_none : op_info[op].ops_fp) *
                   scale);
    if (j.ops < 1000)
        j.ops = 1000;
    double off[MAX_REPS], on[MAX_REPS], bytes[MAX_REPS], woff[MAX_REPS], won[MAX_REPS];
    uint64_t dropped = 0;
    configure(stacks);
    run_threads(&j, nthreads, NULL); /* warm up */
    for (int r = 0; r < reps; r++) {
        off[r] = run_threads(&j, nthreads, &woff[r]);
        ctrace_stats st;
        start_tracing();
        on[r] = run_threads(&j, nthreads, &won[r]);
        stop_tracing(&st);
        bytes[r] = (double)st.bytes;
        dropped += st.events_dropped;
    }
    struct result res;
    double events = (double)j.ops * nthreads * op_info[op].events_per_op;
    double calls = (double)j.ops * nthreads * op_info[op].calls_per_op;
    double on_min = minimum(on, reps), off_min = minimum(off, reps);
    double added_med = median(on, reps) - median(off, reps);
    double added_min = on_min - off_min;
    res.wall_ev = (median(won, reps) - median(woff, reps)) * nthreads / events;
    res.on_ev = median(on, reps) / events;
    res.off_ev = median(off, reps) / events;
    res.ns_ev_med = added_med / events;
    res.ns_ev_min = added_min / events;
    res.ns_call = added_med / calls;
    res.net_call = res.ns_call - ts_ns;
    res.net_ev = (added_med - calls * ts_ns) / events;
    res.bytes_ev = median(bytes, reps) / events;
    res.dropped = dropped;
    return res;
}

/* --trace: one small trace to a file, for counting events per operation. */
static int write_trace(const char *path, enum op op, long ops, int stacks)
{
    struct job j = {op, stacks == CTRACE_STACKS_NONE ? 0 : STACK_DEPTH - 1 - op_info[op].cpp, ops};
    configure(stacks);
    if (ctrace_start_file(path) != CTRACE_OK) {
        perror(path);
        return 1;
    }
    run_threads(&j, 1, NULL);
    return ctrace_stop() == CTRACE_OK ? 0 : 1;
}

static int parse_op(const char *s)
{
    for (int i = 0; i < N_OPS; i++)
        if (strcmp(s, op_info[i].name) == 0)
            return i;
    return -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_events [--reps N] [--scale F] [--case OP] [--threads N]\n"
                    "                    [--stacks none|fp16|auto16|unwind16] [--sink PATH|flight] [--set api]\n"
                    "       bench_events --trace PATH --case OP --ops N [--stacks none|fp16]\n"
                    "OP: region, log, block, task; with --set api: region_t, region_cur,\n"
                    "    handle_t, cpp_region, log_t, log_cur, cpp_log, task_set, cpp_task\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int reps = 5, only_op = -1, only_threads = 0, only_stacks = -1, api_set = 0;
    double scale = 1;
    long trace_ops = 0;
    const char *trace_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        i++;
        if (strcmp(a, "--reps") == 0)
            reps = atoi(v);
        else if (strcmp(a, "--scale") == 0)
            scale = atof(v);
        else if (strcmp(a, "--case") == 0)
            only_op = parse_op(v);
        else if (strcmp(a, "--threads") == 0)
            only_threads = atoi(v);
        else if (strcmp(a, "--stacks") == 0)
            only_stacks = strcmp(v, "fp16") == 0     ? CTRACE_STACKS_FP
                          : strcmp(v, "auto16") == 0 ? CTRACE_STACKS_AUTO
                          : strcmp(v, "unwind16") == 0 ? CTRACE_STACKS_UNWIND
                                                       : CTRACE_STACKS_NONE;
        else if (strcmp(a, "--sink") == 0)
            sink = v;
        else if (strcmp(a, "--set") == 0 && strcmp(v, "api") == 0)
            api_set = 1;
        else if (strcmp(a, "--trace") == 0)
            trace_path = v;
        else if (strcmp(a, "--ops") == 0)
            trace_ops = atol(v);
        else
            usage();
    }
    if (reps < 1 || reps > MAX_REPS || scale <= 0 || only_threads < 0 ||
        only_threads > MAX_THREADS)
        usage();
    if (trace_path) {
        if (only_op < 0 || trace_ops <= 0)
            usage();
        return write_trace(trace_path, (enum op)only_op, trace_ops,
                           only_stacks < 0 ? CTRACE_STACKS_NONE : only_stacks);
    }

    /* Timestamp costs: median of reps loops each, measured here. */
    double tsc[MAX_REPS], mono[MAX_REPS];
    for (int r = 0; r < reps; r++) {
        tsc[r] = tsc_read_ns();
        mono[r] = mono_read_ns();
    }
    int use_tsc = ctrace_uses_tsc();
    double tsc_med = median(tsc, reps), mono_med = median(mono, reps);
    double ts_ns = use_tsc ? tsc_med : mono_med;
    const char *fence = getenv("CTRACE_NO_MEMBARRIER") ? "fence (CTRACE_NO_MEMBARRIER)"
                                                       : "membarrier if available";
    printf("# libctrace %s, %d reps, scale %g, sink %s, %s\n", ctrace_version(), reps, scale,
           sink ? sink : "discarding callback", fence);
    printf("# timestamp read: rdtsc %.2f ns (min %.2f), clock_gettime(MONOTONIC) %.2f ns (min "
           "%.2f); ctrace uses %s\n",
           tsc_med, minimum(tsc, reps), mono_med, minimum(mono, reps),
           use_tsc ? "the TSC" : "CLOCK_MONOTONIC");
    printf("# CPU ns added per Go event (median / min of reps), net = minus one timestamp read "
           "per API call\n");
    printf("# on/ev, off/ev: the whole CPU ns per event with tracing on / off (the loop "
           "included), median\n");
    printf("# %-10s %3s %5s %7s %9s %9s %9s %9s %9s %7s %7s %9s %7s %7s\n", "case", "thr",
           "stack", "ev/call", "ns/call", "net/call", "ns/ev", "min/ev", "net/ev", "B/ev",
           "dropped", "wall/ev", "on/ev", "off/ev");

    /* The second mode: fp, or the one --stacks names (auto16, unwind16). */
    const int stack_modes[2] = {CTRACE_STACKS_NONE, only_stacks > 0 ? only_stacks : CTRACE_STACKS_FP};
    static const char *const mode_names[] = {"none", "fp16", "unw16", "auto16"};
    char lines[64][160];
    int nlines = 0;
    for (int op = 0; op < N_OPS; op++) {
        if (only_op >= 0 ? op != only_op : op_info[op].api != api_set)
            continue;
#ifndef BENCH_CXX
        if (op_info[op].cpp) {
            printf("  %-10s skipped: built without a C++ compiler\n", op_info[op].name);
            continue;
        }
#endif
        for (int s = 0; s < 2; s++) {
            if (only_stacks >= 0 && stack_modes[s] != only_stacks)
                continue;
            for (int nt = 1; nt <= 2; nt++) {
                if (only_threads && nt != only_threads)
                    continue;
                struct result r = run_case((enum op)op, stack_modes[s], nt, reps, scale, ts_ns);
                const char *sname = mode_names[stack_modes[s]];
                printf("  %-10s %3d %5s %7.1f %9.2f %9.2f %9.2f %9.2f %9.2f %7.2f %7llu %9.2f %7.2f %7.2f\n",
                       op_info[op].name, nt, sname,
                       (double)op_info[op].events_per_op / op_info[op].calls_per_op, r.ns_call,
                       r.net_call, r.ns_ev_med, r.ns_ev_min, r.net_ev, r.bytes_ev,
                       (unsigned long long)r.dropped, r.wall_ev, r.on_ev, r.off_ev);
                fflush(stdout);
                snprintf(lines[nlines++], sizeof lines[0],
                         "ctrace %s %d %s %.2f %.2f %.2f %.2f %.2f %.3f %llu %.2f %.2f %.2f",
                         op_info[op].name, nt, sname, r.ns_ev_med, r.ns_ev_min, r.net_ev,
                         r.ns_call, r.net_call, r.bytes_ev, (unsigned long long)r.dropped,
                         r.wall_ev, r.on_ev, r.off_ev);
            }
        }
    }
    printf("tsc %.2f\nmono %.2f\nclock %s\n", tsc_med, mono_med, use_tsc ? "tsc" : "monotonic");
    for (int i = 0; i < nlines; i++)
        puts(lines[i]);
    return 0;
}
