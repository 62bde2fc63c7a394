/*
 * api_misuse.c - the public API used wrongly, in every way we could think of:
 * nothing may crash, hang or corrupt the trace, and each call must return the
 * documented error.  Writes misuse-*.trace for the driver to validate.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrace.h"
#include "testutil.h"

static void annotate_everything(const char *phase)
{
    ctrace_task t = ctrace_task_begin(0, "misuse-task");
    ctrace_region_begin(t, "misuse-region");
    ctrace_log(t, "misuse", phase);
    ctrace_logf(t, "misuse", "%s %d", phase, 42);
    ctrace_block(CTRACE_BLOCK_SYNC);
    ctrace_unblock();
    ctrace_block_reason("sync: custom");
    ctrace_unblock();
    ctrace_syscall_begin();
    ctrace_syscall_end();
    ctrace_region_end(t, "misuse-region");
    ctrace_task_end(t);
}

static void off_checks(const char *when)
{
    CHECK(!ctrace_enabled(), "%s: ctrace_enabled() is 0", when);
    errno = 1234;
    ctrace_task t = ctrace_task_begin(0, "off");
    CHECK(t == 0, "%s: ctrace_task_begin while off returns 0 (got %llu)", when,
          (unsigned long long)t);
    annotate_everything("off");
    ctrace_region_end(0, "never-begun");
    ctrace_thread_name("off-thread");
    CHECK(errno == 1234, "%s: annotations while off keep errno (got %d)", when, errno);
    CHECK_RC(ctrace_stop(), CTRACE_ENOTRACING, "ctrace_stop while off");
    CHECK_RC(ctrace_stop_trace(), CTRACE_ENOTRACING, "ctrace_stop_trace while off");
}

/* --- runtime level: two readers ----------------------------------------- */

struct reader {
    FILE *out;
    atomic_int reading; /* 1 once the first chunk has been read */
    atomic_int ended;   /* 1 once ctrace_read_trace returned the end */
    size_t bytes;
    int chunks;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    size_t len;
    const void *p;
    while ((p = ctrace_read_trace(&len)) != NULL) {
        fwrite(p, 1, len, r->out);
        r->bytes += len;
        r->chunks++;
        atomic_store(&r->reading, 1);
    }
    atomic_store(&r->ended, 1);
    return NULL;
}

static void two_readers(void)
{
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.period_ns = 10ull * 1000 * 1000 * 1000; /* no generation ends on its own */
    CHECK_RC(ctrace_configure(&cfg), CTRACE_OK, "ctrace_configure(period 10 s)");

    const void *chunk = NULL;
    size_t len = 1;
    CHECK_RC(ctrace_read_trace_chunk(&chunk, &len), CTRACE_ENOTRACING,
             "ctrace_read_trace_chunk before any trace");

    CHECK_RC(ctrace_start_trace(), CTRACE_OK, "ctrace_start_trace");
    CHECK_RC(ctrace_start_trace(), CTRACE_EBUSY, "second ctrace_start_trace");
    CHECK_RC(ctrace_start_file("misuse-never.trace"), CTRACE_EBUSY,
             "ctrace_start_file during ctrace_start_trace");

    struct reader r = {fopen("misuse-runtime.trace", "wb"), 0, 0, 0, 0};
    if (!r.out) {
        perror("misuse-runtime.trace");
        exit(1);
    }
    pthread_t th;
    pthread_create(&th, NULL, reader_main, &r);
    annotate_everything("runtime-level");
    /* Give the reader time to take the header and block for more. */
    for (int i = 0; i < 200 && !atomic_load(&r.reading); i++)
        t_sleep_ms(5);
    t_sleep_ms(100);

    chunk = NULL;
    len = 1;
    int rc = ctrace_read_trace_chunk(&chunk, &len);
    CHECK_RC(rc, CTRACE_EBUSY, "ctrace_read_trace_chunk while another thread reads");
    CHECK(chunk == NULL && len == 0, "the second reader gets no data (chunk %p, len %zu)", chunk,
          len);
    errno = 0;
    len = 1;
    const void *p = ctrace_read_trace(&len);
    int e = errno;
    CHECK(p == NULL && len == 0 && e == EBUSY,
          "ctrace_read_trace while another thread reads: NULL, len 0, errno EBUSY (got %p, %zu, %s)",
          p, len, strerror(e));

    CHECK_RC(ctrace_stop_trace(), CTRACE_OK, "ctrace_stop_trace");
    /* A reader that keeps reading is waited for (ctrace.h). */
    CHECK(atomic_load(&r.ended), "ctrace_stop_trace returned after the reader got the end");
    pthread_join(th, NULL);
    fclose(r.out);
    CHECK(r.bytes > 16 && r.chunks >= 1, "the first reader got the whole trace (%zu bytes, %d chunks)",
          r.bytes, r.chunks);
    CHECK_RC(ctrace_stop_trace(), CTRACE_ENOTRACING, "ctrace_stop_trace twice");
    chunk = NULL;
    len = 1;
    rc = ctrace_read_trace_chunk(&chunk, &len);
    CHECK(rc == 0 || rc == CTRACE_ENOTRACING,
          "ctrace_read_trace_chunk after the end: 0 or ENOTRACING (got %d)", rc);

    ctrace_config_init(&cfg);
    CHECK_RC(ctrace_configure(&cfg), CTRACE_OK, "ctrace_configure(defaults)");
}

/* Reads the rest of the runtime-level trace into path; returns the bytes. */
static size_t read_rest(const char *path)
{
    FILE *out = fopen(path, "ab");
    if (!out) {
        perror(path);
        exit(1);
    }
    size_t len, total = 0;
    const void *p;
    while ((p = ctrace_read_trace(&len)) != NULL) {
        fwrite(p, 1, len, out);
        total += len;
    }
    fclose(out);
    return total;
}

/* ctrace_stop_trace with nobody reading returns (ctrace.h: nothing blocks
 * forever), and the data stays readable after it: the rest, then the end.
 * The watchdog of the phase fails the test if the stop hangs. */
static void stop_without_reader(void)
{
    remove("misuse-unread.trace");
    CHECK_RC(ctrace_start_trace(), CTRACE_OK, "ctrace_start_trace (nobody reads)");
    annotate_everything("unread");
    CHECK_RC(ctrace_stop_trace(), CTRACE_OK, "ctrace_stop_trace with nobody reading returns");
    CHECK(!ctrace_enabled(), "tracing is off after the stop");
    CHECK_RC(ctrace_start_trace(), CTRACE_EBUSY, "ctrace_start_trace while the stopped trace is unread");
    CHECK_RC(ctrace_start_file("misuse-never.trace"), CTRACE_EBUSY,
             "ctrace_start_file while the stopped trace is unread");
    size_t n = read_rest("misuse-unread.trace");
    CHECK(n > 16, "the whole trace is read after the stop (%zu bytes)", n);
    const void *chunk = NULL;
    size_t len = 1;
    int rc = ctrace_read_trace_chunk(&chunk, &len);
    CHECK(rc == 0 || rc == CTRACE_ENOTRACING, "then the end: 0 or ENOTRACING (got %d)", rc);

    /* The reader is the thread that stops: the stop cannot wait for it. */
    remove("misuse-selfread.trace");
    CHECK_RC(ctrace_start_trace(), CTRACE_OK, "ctrace_start_trace once the last trace was read");
    annotate_everything("selfread");
    FILE *out = fopen("misuse-selfread.trace", "wb");
    const void *p = ctrace_read_trace(&len);
    CHECK(p != NULL && len == 16, "the first chunk is the header (%zu bytes)", len);
    if (p)
        fwrite(p, 1, len, out);
    fclose(out);
    CHECK_RC(ctrace_stop_trace(), CTRACE_OK, "ctrace_stop_trace by the thread that reads");
    n = read_rest("misuse-selfread.trace");
    CHECK(n > 0, "the rest is read after the stop (%zu bytes)", n);
}

/* --- writer level ------------------------------------------------------- */

static void *annotator(void *arg)
{
    (void)arg;
    ctrace_thread_name(NULL);
    ctrace_thread_name("annotator");
    annotate_everything("thread");
    /* Left open on purpose: the thread exits inside a region. */
    ctrace_region_begin(0, "left-open-by-exiting-thread");
    return NULL;
}

static void writer_level(void)
{
    errno = 0;
    CHECK_RC(ctrace_start_file("/nonexistent-dir/x.trace"), CTRACE_EOPEN,
             "ctrace_start_file into a missing directory");
    CHECK(errno == ENOENT, "errno is ENOENT after EOPEN (got %s)", strerror(errno));
    CHECK(!ctrace_enabled(), "not tracing after a failed start");
    CHECK_RC(ctrace_start_fd(-1), CTRACE_EINVAL, "ctrace_start_fd(-1)");
    CHECK_RC(ctrace_start(NULL, NULL), CTRACE_EINVAL, "ctrace_start(NULL callback)");
    CHECK_RC(ctrace_start_file(NULL), CTRACE_EINVAL, "ctrace_start_file(NULL)");
    CHECK(!ctrace_enabled(), "still not tracing");

    CHECK_RC(ctrace_start_file("misuse-writer.trace"), CTRACE_OK, "ctrace_start_file");
    CHECK(ctrace_enabled(), "ctrace_enabled() while tracing");
    CHECK_RC(ctrace_start_file("misuse-never.trace"), CTRACE_EBUSY, "double ctrace_start_file");
    CHECK_RC(ctrace_start_fd(1), CTRACE_EBUSY, "ctrace_start_fd while tracing");
    CHECK_RC(ctrace_start_trace(), CTRACE_EBUSY, "ctrace_start_trace while tracing");
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    CHECK_RC(ctrace_configure(&cfg), CTRACE_EBUSY, "ctrace_configure while tracing");

    errno = 4321;
    /* Unbalanced and NULL annotations. */
    ctrace_region_end(0, "never-begun");
    ctrace_region_begin(0, "outer");
    ctrace_region_end(0, "not-the-innermost");
    ctrace_region_end(0, "outer");
    ctrace_region_end(0, "outer");
    ctrace_task_end(0);
    ctrace_task_end(987654321);
    ctrace_task t = ctrace_task_begin(0, NULL);
    ctrace_task_end(t);
    ctrace_task_end(t); /* twice */
    ctrace_region_begin(0, NULL);
    ctrace_region_end(0, NULL);
    ctrace_log(0, NULL, NULL);
    ctrace_log(0, "misuse", NULL);
    ctrace_logf(0, NULL, "%s", "null category");
    ctrace_block_reason(NULL);
    ctrace_unblock();
    ctrace_unblock(); /* without a block */
    ctrace_syscall_end(); /* without a begin */
    ctrace_block(CTRACE_BLOCK_SYNC);
    ctrace_block(CTRACE_BLOCK_SLEEP); /* nested block */
    ctrace_unblock();
    ctrace_block((enum ctrace_block_kind)99); /* out of range */
    ctrace_unblock();
    ctrace_syscall_begin();
    ctrace_block(CTRACE_BLOCK_NET); /* block inside a syscall */
    ctrace_unblock();
    ctrace_syscall_end();
    /* A message longer than 1 KiB is cut at 1 KiB. */
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ctrace_logf(0, "big", "%s", big);
    ctrace_log(0, "big-plain", big);
    CHECK(errno == 4321, "misused annotations keep errno (got %d)", errno);

    pthread_t th;
    pthread_create(&th, NULL, annotator, NULL);
    pthread_join(th, NULL);

    ctrace_region_begin(0, "left-open-at-stop");
    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop");
    ctrace_region_end(0, "left-open-at-stop"); /* after the stop */
    CHECK_RC(ctrace_stop(), CTRACE_ENOTRACING, "ctrace_stop twice");

    ctrace_stats st;
    ctrace_get_stats(&st);
    struct stat sb;
    CHECK(stat("misuse-writer.trace", &sb) == 0, "misuse-writer.trace exists");
    CHECK(st.bytes == (uint64_t)sb.st_size, "stats.bytes (%llu) is the file size (%lld)",
          (unsigned long long)st.bytes, (long long)sb.st_size);
    CHECK(st.generations >= 1, "stats.generations >= 1 (%llu)", (unsigned long long)st.generations);
    CHECK(st.threads >= 2, "stats.threads >= 2 (%llu)", (unsigned long long)st.threads);
    CHECK(st.events_dropped == 0, "no events dropped (%llu)", (unsigned long long)st.events_dropped);

    /* Tracing again after a stop works. */
    CHECK_RC(ctrace_start_file("misuse-again-%p.trace"), CTRACE_OK, "ctrace_start_file again, with %%p");
    annotate_everything("again");
    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop again");
    char name[64];
    snprintf(name, sizeof name, "misuse-again-%d.trace", (int)getpid());
    CHECK(access(name, R_OK) == 0, "%%p was replaced by the pid: %s exists", name);
    if (access(name, R_OK) == 0)
        rename(name, "misuse-again.trace");
}

/* A writer-level trace has its reader: the writer thread.  A second reader
 * must be refused, not handed a chunk (that would tear the file). */
static void reader_vs_writer(void)
{
    CHECK_RC(ctrace_start_file("misuse-steal.trace"), CTRACE_OK, "ctrace_start_file(misuse-steal.trace)");
    annotate_everything("steal");
    t_sleep_ms(50);
    const void *chunk = NULL;
    size_t len = 1;
    int rc = ctrace_read_trace_chunk(&chunk, &len);
    CHECK_RC(rc, CTRACE_EBUSY, "ctrace_read_trace_chunk while the writer thread reads");
    CHECK(chunk == NULL && len == 0, "no data for the refused reader (got %zu bytes)", len);
    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop(misuse-steal.trace)");
}

/* The same, with the refused reader calling at once after the start: the
 * writer thread may not have run yet, and its trace must already be its
 * own (a chunk taken here is missing from the file, which is then not a
 * trace).  Repeated to hit the moment before the writer thread runs. */
static void reader_at_writer_start(void)
{
    static const char header[16] = "go 1.22 trace\0\0\0";
    int taken = 0, broken = 0, rounds = 40;
    for (int i = 0; i < rounds; i++) {
        int rc = ctrace_start_file("misuse-race.trace");
        if (rc != CTRACE_OK) {
            CHECK_RC(rc, CTRACE_OK, "ctrace_start_file(misuse-race.trace)");
            return;
        }
        const void *chunk = NULL;
        size_t len = 1;
        rc = ctrace_read_trace_chunk(&chunk, &len);
        if (rc != CTRACE_EBUSY || chunk || len)
            taken++;
        annotate_everything("race");
        rc = ctrace_stop();
        if (rc != CTRACE_OK)
            CHECK_RC(rc, CTRACE_OK, "ctrace_stop(misuse-race.trace)");
        char got[16] = {0};
        FILE *f = fopen("misuse-race.trace", "rb");
        if (!f || fread(got, 1, sizeof got, f) != sizeof got || memcmp(got, header, sizeof got))
            broken++;
        if (f)
            fclose(f);
        if (broken)
            break; /* keep the broken file for the driver's checks */
    }
    CHECK(taken == 0, "a reader called right after ctrace_start_file gets CTRACE_EBUSY and no data "
          "(%d of %d rounds got something else)", taken, rounds);
    CHECK(broken == 0, "misuse-race.trace begins with the trace header in every round (%d not)", broken);
}

static void config_checks(void)
{
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    CHECK(cfg.cpu_hz == 100 && cfg.period_ns == 1000000000ull && cfg.stacks == CTRACE_STACKS_AUTO &&
              cfg.mem_cap == 64u << 20,
          "defaults: cpu_hz %u, period %llu ns, stacks %d, mem_cap %zu", cfg.cpu_hz,
          (unsigned long long)cfg.period_ns, cfg.stacks, cfg.mem_cap);
    ctrace_config bad = cfg;
    bad.stacks = 99;
    CHECK_RC(ctrace_configure(&bad), CTRACE_EINVAL, "ctrace_configure(stacks 99)");
    bad = cfg;
    bad.mem_cap = 1000;
    CHECK_RC(ctrace_configure(&bad), CTRACE_EINVAL, "ctrace_configure(mem_cap 1000 < 1 MiB)");
    CHECK_RC(ctrace_configure(NULL), CTRACE_EINVAL, "ctrace_configure(NULL)");
    CHECK_RC(ctrace_configure(&cfg), CTRACE_OK, "ctrace_configure(defaults)");

    /* The environment is read once, when the library is initialized
     * (ctrace.h, docs/RUN.md): a later setenv changes nothing. */
    setenv("CTRACE_CPU_HZ", "250", 1);
    setenv("CTRACE_PERIOD", "500ms", 1);
    setenv("CTRACE_STACKS", "none", 1);
    setenv("CTRACE_MEM", "256M", 1);
    ctrace_config_init(&cfg);
    CHECK(cfg.cpu_hz == 100 && cfg.period_ns == 1000000000ull && cfg.stacks == CTRACE_STACKS_AUTO &&
              cfg.mem_cap == 64u << 20,
          "a setenv after initialization is not seen: cpu_hz %u, period %llu ns, stacks %d, "
          "mem_cap %zu",
          cfg.cpu_hz, (unsigned long long)cfg.period_ns, cfg.stacks, cfg.mem_cap);
    unsetenv("CTRACE_CPU_HZ");
    unsetenv("CTRACE_PERIOD");
    unsetenv("CTRACE_STACKS");
    unsetenv("CTRACE_MEM");
    ctrace_config_init(&cfg);
    CHECK_RC(ctrace_configure(&cfg), CTRACE_OK, "ctrace_configure(defaults again)");
}

int main(void)
{
    CHECK(strcmp(ctrace_version(), CTRACE_VERSION_STRING) == 0, "ctrace_version() is %s",
          CTRACE_VERSION_STRING);
    for (int e = 0; e >= -8; e--)
        CHECK(ctrace_strerror(e) != NULL && *ctrace_strerror(e), "ctrace_strerror(%d) = \"%s\"", e,
              ctrace_strerror(e));
    CHECK(strcmp(ctrace_strerror(CTRACE_EBUSY), ctrace_strerror(CTRACE_ENOTRACING)) != 0,
          "distinct error strings");
    CHECK(ctrace_strerror(-12345) != NULL, "ctrace_strerror(unknown) = \"%s\"", ctrace_strerror(-12345));

    t_phase("checks while off", 20);
    off_checks("before any trace");
    config_checks();
    t_phase("writer-level misuse", 30);
    writer_level();
    off_checks("after a writer-level trace");
    t_phase("a reader beside the writer thread", 30);
    reader_vs_writer();
    t_phase("a reader right after the writer-level start", 60);
    reader_at_writer_start();
    t_phase("runtime level, two readers", 30);
    two_readers();
    off_checks("after a runtime-level trace");
    t_phase("ctrace_stop_trace with nobody reading", 30);
    stop_without_reader();
    off_checks("after an unread runtime-level trace");
    return t_finish();
}
