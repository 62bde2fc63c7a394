/*
 * flight.c - the flight recorder under test (check_flight.sh).
 *
 *   it_flight MODE
 *
 * Four worker threads log "tick wN K" and run a region "work" about every
 * millisecond while the recorder runs (MinAge FLIGHT_AGE_MS, default
 * 1000 ms; MaxBytes 8 MiB; snapshot prefix "snap" in the working
 * directory).  After RUN_MS (default 2500 ms) the main thread logs a
 * marker and takes the snapshot MODE names:
 *   api      ctrace_flight_write_file("api.trace"), then, while two threads
 *            take snapshots at once (serialised), "api2.trace" and
 *            "api3.trace" through fd and callback, which hold "AFTER-API";
 *   signal   raise(SIGUSR2): snap.PID.1.trace;
 *   ownsig   the program has its own SIGUSR1 handler and asks for SIGUSR1
 *            as the snapshot signal: the recorder must leave it alone (the
 *            program's handler runs, no snapshot);
 *   slow     a region "slow-req" of 100 ms, threshold 50 ms;
 *   slowtask a task "slow-task" of 100 ms, threshold 50 ms, begun on the
 *            main thread and ended on another;
 *   segv, abort, assert, overflow (on an alternate stack): a crash;
 *   hexit, hraise, habort: segv with a SIGSEGV handler of the program's
 *            own that prints "handler: MODE" and then calls _exit(3),
 *            restores SIG_DFL and raises SIGSEGV again, or calls abort();
 *   foreign  segv on a thread that never calls ctrace (with the static
 *            library: unknown to the trace);
 *   badptr   segv inside the tracer (a bad string passed to ctrace_log):
 *            the generation in progress cannot be ended;
 *   guard    SIGSEGV used as a program may: 10000 writes to a protected
 *            page whose handler unprotects it and returns, 100 faults
 *            left by siglongjmp, an SA_RESETHAND handler of SIGILL; the
 *            actions queried must be the program's; no snapshot;
 *   busy     segv while 4 more threads write events without pause, create
 *            and join threads (the registry lock) and log strings new to
 *            the generation (the string table);
 *   memory   8 threads log without pause for RUN_MS with MaxBytes 4 MiB
 *            (FLIGHT_MAX_MB);
 *            prints the ring's stats and the largest RSS growth seen.
 * FLIGHT_OFF=1: the same program without the recorder (the exit status a
 * crash has without ctrace).
 */
#define _GNU_SOURCE
#undef NDEBUG /* the assert mode needs a live assert */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ctrace.h"

static _Atomic int stop;
static int flight_on = 1;

static long env_ms(const char *name, long def)
{
    const char *v = getenv(name);
    return v && *v ? atol(v) : def;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    char name[16];
    snprintf(name, sizeof name, "worker-%d", id);
    ctrace_thread_name(name);
    for (long n = 0; !atomic_load(&stop); n++) {
        ctrace_region_begin(0, "work");
        ctrace_logf(0, "tick", "w%d %ld", id, n);
        ctrace_region_end(0, "work");
        sleep_ms(1);
    }
    return NULL;
}

static void *nop(void *arg)
{
    return arg;
}

/* Writes events without pause; churns threads and strings. */
static void *hammer(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (long n = 0; !atomic_load(&stop); n++) {
        ctrace_region_begin(0, "hammer");
        /* 2048 messages a thread: new to each generation's string table,
         * never enough to fill it (a full table is runtime.strings_full's
         * subject: under TSan the advancer fell behind and the crash
         * marker's string was dropped). */
        ctrace_logf(0, "hammer", "h%d unique %ld", id, n % 2048);
        ctrace_region_end(0, "hammer");
        if (n % 64 == 0) {
            pthread_t t;
            if (pthread_create(&t, NULL, nop, NULL) == 0)
                pthread_join(t, NULL);
        }
    }
    return NULL;
}

/* Logs without pause (the memory test). */
static void *flood(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (long n = 0; !atomic_load(&stop); n++) {
        ctrace_logf(0, "flood", "f%d %ld", id, n % 1000);
        if (n % 256 == 0)
            sched_yield();
    }
    return NULL;
}

/* The process's anonymous resident memory, KiB: statm's resident minus its
 * shared (file-backed) pages.  The memory a recorder could grow is
 * anonymous; file pages (the libraries and the .eh_frame sections that
 * the default stack mode maps and reads once) are the page cache's and
 * would make the bound depend on which libraries a build loads. */
static long rss_kib(void)
{
    long pages = 0, rss = 0, shared = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld %ld", &pages, &rss, &shared) != 3)
            rss = shared = 0;
        fclose(f);
    }
    return (rss - shared) * (sysconf(_SC_PAGESIZE) / 1024);
}

static int wait_snapshots(uint64_t n)
{
    ctrace_flight_stats st;
    for (int i = 0; i < 60000; i++) { /* the test's watchdog is the limit */
        ctrace_flight_get_stats(&st);
        if (st.snapshots >= n)
            return 0;
        sleep_ms(1);
    }
    fprintf(stderr, "flight: no snapshot written\n");
    return 1;
}

static volatile int depth_sink;

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int recurse(int n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    depth_sink = pad[0];
    return recurse(n + 1) + pad[0];
}

static int write_cb(void *arg, const void *data, size_t len)
{
    FILE *f = arg;
    return fwrite(data, 1, len, f) == len ? 0 : EIO;
}

static void *snap_fd(void *arg)
{
    (void)arg;
    int fd = open("api2.trace", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int r = ctrace_flight_write_fd(fd);
    close(fd);
    return (void *)(intptr_t)r;
}

static void *end_task(void *arg)
{
    sleep_ms(100);
    ctrace_task_end((ctrace_task)(uintptr_t)arg);
    return NULL;
}

static volatile sig_atomic_t own_calls;

static void own_handler(int sig)
{
    (void)sig;
    own_calls++;
}


/* ---- the program's own SIGSEGV handlers ---- */

static void say(const char *s)
{
    if (write(1, s, strlen(s)) < 0) {
    }
}

static void report_exit(int sig)
{
    (void)sig;
    say("handler: hexit\n");
    _exit(3);
}

static void report_raise(int sig, siginfo_t *si, void *uc)
{
    (void)si, (void)uc;
    say("handler: hraise\n");
    signal(sig, SIG_DFL);
    raise(sig); /* blocked in here: delivered when the handler returns */
}

static void report_abort(int sig)
{
    (void)sig;
    say("handler: habort\n");
    abort();
}

static char *guard_page;
static long page_size;
static volatile sig_atomic_t guard_hits, ill_hits;
static sigjmp_buf guard_jump;

static void guard_fix(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    if ((char *)si->si_addr < guard_page || (char *)si->si_addr >= guard_page + page_size)
        _exit(90); /* not ours */
    mprotect(guard_page, (size_t)page_size, PROT_READ | PROT_WRITE);
    guard_hits++;
}

static void guard_leave(int sig)
{
    (void)sig;
    siglongjmp(guard_jump, 1);
}

static void ill_once(int sig)
{
    (void)sig;
    ill_hits++;
}

/* An address no program maps, behind a volatile pointer so that the
 * compiler neither warns of the store (-Warray-bounds) nor drops it. */
static volatile int *volatile unmapped = (volatile int *)(uintptr_t)16;

static void *foreign_crash(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "foreign");
    sleep_ms(50);
    *unmapped = 1;
    return NULL;
}

static int mode_guard(void)
{
    page_size = sysconf(_SC_PAGESIZE);
    guard_page = mmap(NULL, (size_t)page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    if (guard_page == MAP_FAILED)
        return 1;
    struct sigaction sa, q;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = guard_fix;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    sigaction(SIGSEGV, &sa, NULL);
    /* Queries report the program's action, exactly. */
    sigaction(SIGSEGV, NULL, &q);
    if (q.sa_sigaction != guard_fix || (q.sa_flags & (SA_SIGINFO | SA_NODEFER | SA_RESETHAND)) !=
                                           (SA_SIGINFO | SA_NODEFER) ||
        !sigismember(&q.sa_mask, SIGUSR1) || sigismember(&q.sa_mask, SIGUSR2)) {
        printf("guard: query of SIGSEGV differs\n");
        return 1;
    }
    for (int i = 0; i < 10000; i++) {
        mprotect(guard_page, (size_t)page_size, PROT_NONE);
        ((volatile char *)guard_page)[i % page_size] = (char)(i & 0x7f);
        if (guard_page[i % page_size] != (char)(i & 0x7f))
            return 1;
    }
    /* Faults left by siglongjmp. */
    void (*was)(int) = signal(SIGSEGV, guard_leave);
    if ((void *)was != (void *)guard_fix) {
        printf("guard: signal() returned another handler\n");
        return 1;
    }
    int jumps = 0;
    for (int i = 0; i < 100; i++) {
        if (sigsetjmp(guard_jump, 1) == 0)
            *unmapped = i;
        else
            jumps++;
    }
    /* SA_RESETHAND: the action is SIG_DFL after one delivery. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ill_once;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGILL, &sa, NULL);
    raise(SIGILL);
    sigaction(SIGILL, NULL, &q);
    int reset = q.sa_handler == SIG_DFL;
    printf("guard hits %d jumps %d resethand %d ill %d\n", (int)guard_hits, jumps, reset,
           (int)ill_hits);
    return guard_hits == 10000 && jumps == 100 && reset && ill_hits == 1 ? 0 : 1;
}

static int mode_api(void)
{
    int r = ctrace_flight_write_file("api.trace");
    if (r != CTRACE_OK) {
        fprintf(stderr, "flight: write_file: %s\n", ctrace_strerror(r));
        return 1;
    }
    ctrace_log(0, "mark", "AFTER-API");
    sleep_ms(300);
    pthread_t t;
    pthread_create(&t, NULL, snap_fd, NULL);
    FILE *f = fopen("api3.trace", "w");
    int r3 = ctrace_flight_write(write_cb, f);
    fclose(f);
    void *r2;
    pthread_join(t, &r2);
    if ((intptr_t)r2 != CTRACE_OK || r3 != CTRACE_OK) {
        fprintf(stderr, "flight: concurrent snapshots: %d %d\n", (int)(intptr_t)r2, r3);
        return 1;
    }
    ctrace_flight_stats st;
    ctrace_flight_get_stats(&st);
    printf("snapshots %llu\n", (unsigned long long)st.snapshots);
    return st.snapshots == 3 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "api";
    flight_on = !getenv("FLIGHT_OFF");
    int memory = !strcmp(mode, "memory");
    long run_ms = env_ms("RUN_MS", 2500);
    if (flight_on) {
        ctrace_flight_config cfg;
        ctrace_flight_config_init(&cfg);
        cfg.min_age_ns = (uint64_t)env_ms("FLIGHT_AGE_MS", 1000) * 1000000u;
        cfg.max_bytes = (size_t)env_ms("FLIGHT_MAX_MB", memory ? 4 : 8) << 20;
        cfg.prefix = "snap";
        if (!strcmp(mode, "ownsig")) {
            signal(SIGUSR1, own_handler); /* installed before the recorder */
            cfg.signal = SIGUSR1;
        }
        long base = rss_kib();
        if (memory)
            printf("rss_base_kib %ld\n", base);
        int r = ctrace_flight_start(&cfg);
        if (r != CTRACE_OK) {
            fprintf(stderr, "flight: start: %s\n", ctrace_strerror(r));
            return 2;
        }
        if (!ctrace_flight_enabled() || ctrace_start_trace() != CTRACE_EBUSY) {
            fprintf(stderr, "flight: the recorder excludes other traces\n");
            return 2;
        }
    }
    pthread_t th[8];
    int nth = memory ? 8 : 4;
    for (int i = 0; i < nth; i++)
        pthread_create(&th[i], NULL, memory ? flood : worker, (void *)(intptr_t)i);
    pthread_t hm[4];
    int busy = !strcmp(mode, "busy");
    if (busy)
        for (int i = 0; i < 4; i++)
            pthread_create(&hm[i], NULL, hammer, (void *)(intptr_t)i);

    if (memory) {
        long base = rss_kib(), max = base;
        for (long t = 0; t < run_ms; t += 50) {
            sleep_ms(50);
            long r = rss_kib();
            if (r > max)
                max = r;
        }
        atomic_store(&stop, 1);
        for (int i = 0; i < nth; i++)
            pthread_join(th[i], NULL);
        ctrace_flight_stats st;
        ctrace_flight_get_stats(&st);
        printf("rss_start_kib %ld\nrss_max_kib %ld\n", base, max);
        ctrace_stats ts;
        ctrace_get_stats(&ts);
        printf("generations_dropped %llu\nbytes_held %llu\ngenerations %llu\n",
               (unsigned long long)st.generations_dropped, (unsigned long long)st.bytes_held,
               (unsigned long long)ts.generations);
        return 0;
    }

    sleep_ms(run_ms);
    int rc = 0;
    if (!strcmp(mode, "api")) {
        ctrace_log(0, "mark", "LAST-API");
        rc = mode_api();
    } else if (!strcmp(mode, "signal")) {
        ctrace_log(0, "mark", "LAST-SIGNAL");
        raise(SIGUSR2);
        rc = wait_snapshots(1);
    } else if (!strcmp(mode, "sigexit")) {
        /* The snapshot signal, then at once the exit: the snapshot must
         * still be written (the exit ended the flight thread before or
         * while it wrote it: no file, or an empty one). */
        ctrace_log(0, "mark", "LAST-SIGEXIT");
        raise(SIGUSR2);
        return 0;
    } else if (!strcmp(mode, "ownsig")) {
        raise(SIGUSR1);
        sleep_ms(500); /* a snapshot, if one were (wrongly) taken, is written by now */
        ctrace_flight_stats st;
        ctrace_flight_get_stats(&st);
        printf("own_calls %d snapshots %llu\n", (int)own_calls, (unsigned long long)st.snapshots);
        rc = own_calls == 1 && st.snapshots == 0 ? 0 : 1;
    } else if (!strcmp(mode, "slow")) {
        ctrace_flight_slow("slow-req", 50000000u);
        ctrace_region_begin(0, "slow-req");
        ctrace_log(0, "mark", "LAST-SLOW");
        sleep_ms(100);
        ctrace_region_end(0, "slow-req");
        rc = wait_snapshots(1);
    } else if (!strcmp(mode, "slowtask")) {
        ctrace_flight_slow("slow-task", 50000000u);
        ctrace_flight_slow("other-task", 10000000u);
        ctrace_task fast = ctrace_task_begin(0, "other-task"); /* not slow: no snapshot */
        ctrace_task_end(fast);
        ctrace_task task = ctrace_task_begin(0, "slow-task");
        ctrace_log(task, "mark", "LAST-SLOWTASK");
        pthread_t t;
        pthread_create(&t, NULL, end_task, (void *)(uintptr_t)task);
        pthread_join(t, NULL);
        rc = wait_snapshots(1);
    } else if (!strcmp(mode, "segv") || busy) {
        ctrace_log(0, "mark", "LAST-CRASH");
        *(volatile int *)(uintptr_t)(argc * 8) = 1; /* address 16: a null pointer's field */
    } else if (!strcmp(mode, "hexit") || !strcmp(mode, "hraise") || !strcmp(mode, "habort")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sigemptyset(&sa.sa_mask);
        if (!strcmp(mode, "hraise")) {
            sa.sa_sigaction = report_raise;
            sa.sa_flags = SA_SIGINFO;
        } else {
            sa.sa_handler = !strcmp(mode, "hexit") ? report_exit : report_abort;
        }
        sigaction(SIGSEGV, &sa, NULL);
        ctrace_log(0, "mark", "LAST-CRASH");
        *(volatile int *)(uintptr_t)(argc * 8) = 1;
    } else if (!strcmp(mode, "foreign")) {
        ctrace_log(0, "mark", "LAST-CRASH");
        pthread_t t;
        pthread_create(&t, NULL, foreign_crash, NULL);
        pthread_join(t, NULL);
    } else if (!strcmp(mode, "badptr")) {
        /* The marker in a generation ended before the crash: this one
         * cannot be ended (the crashing thread is inside the tracer). */
        ctrace_stats st;
        ctrace_get_stats(&st);
        uint64_t g0 = st.generations;
        ctrace_log(0, "mark", "LAST-CRASH");
        for (int i = 0; i < 60000 && st.generations < g0 + 2; i++) {
            sleep_ms(1);
            ctrace_get_stats(&st);
        }
        ctrace_log(0, "mark", (const char *)(uintptr_t)(argc * 8));
    } else if (!strcmp(mode, "guard")) {
        rc = mode_guard();
    } else if (!strcmp(mode, "abort")) {
        ctrace_log(0, "mark", "LAST-CRASH");
        abort();
    } else if (!strcmp(mode, "assert")) {
        ctrace_log(0, "mark", "LAST-CRASH");
        assert(argc == 0);
    } else if (!strcmp(mode, "overflow")) {
        static char alt[1 << 16];
        stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
        sigaltstack(&ss, NULL);
        ctrace_log(0, "mark", "LAST-CRASH");
        recurse(0);
    } else {
        fprintf(stderr, "flight: unknown mode %s\n", mode);
        rc = 2;
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    if (flight_on && ctrace_flight_stop() != CTRACE_OK)
        rc = 1;
    return rc;
}
