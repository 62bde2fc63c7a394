/*
 * writer_fail.c - trace writers that fail: a callback that fails after N
 * bytes, a pipe whose reader has gone (EPIPE, and SIGPIPE must not kill us),
 * and a full disk (/dev/full: ENOSPC).  Each time ctrace_stop() must report
 * CTRACE_EWRITE with errno set to the writer's error, tracing must have
 * stopped, and the program must go on -- and be able to trace again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "ctrace.h"
#include "testutil.h"

/* Makes events until tracing stops by itself or `seconds` pass; returns 1 if
 * tracing stopped by itself. */
static int work_until_stopped(double seconds)
{
    double end = t_now() + seconds;
    int i = 0;
    while (t_now() < end) {
        ctrace_region_begin(0, "work");
        ctrace_logf(0, "work", "iteration %d", i++);
        ctrace_region_end(0, "work");
        if (!ctrace_enabled())
            return 1;
        if (i % 64 == 0)
            t_sleep_ms(1);
    }
    return !ctrace_enabled();
}

static void short_periods(void)
{
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.period_ns = 50ull * 1000 * 1000; /* data reaches the writer every 50 ms */
    ctrace_configure(&cfg);
}

/* --- a callback that fails ---------------------------------------------- */

struct failing {
    size_t limit, written;
    atomic_int calls, calls_after_failure, failed;
};

static int failing_write(void *arg, const void *data, size_t len)
{
    struct failing *f = arg;
    (void)data;
    atomic_fetch_add(&f->calls, 1);
    if (atomic_load(&f->failed)) {
        atomic_fetch_add(&f->calls_after_failure, 1);
        return ENOSPC;
    }
    if (f->written + len > f->limit) {
        atomic_store(&f->failed, 1);
        return ENOSPC;
    }
    f->written += len;
    return 0;
}

static int counting_write(void *arg, const void *data, size_t len)
{
    (void)data;
    *(size_t *)arg += len;
    return 0;
}

static void callback_failure(void)
{
    struct failing f = {.limit = 4096};
    t_phase("callback failing after 4 KiB", 30);
    short_periods();
    CHECK_RC(ctrace_start(failing_write, &f), CTRACE_OK, "ctrace_start(callback failing after 4 KiB)");
    int stopped = work_until_stopped(10);
    CHECK(stopped, "tracing stopped by itself after the writer failed");
    CHECK(atomic_load(&f.failed), "the callback was asked to write more than 4 KiB");
    errno = 0;
    int rc = ctrace_stop();
    int e = errno;
    CHECK_RC(rc, CTRACE_EWRITE, "ctrace_stop after the callback failed");
    CHECK(e == ENOSPC, "errno is the callback's error ENOSPC (got %s)", strerror(e));
    CHECK(atomic_load(&f.calls_after_failure) == 0,
          "the callback is not called again after it failed (%d calls)",
          atomic_load(&f.calls_after_failure));
    CHECK_RC(ctrace_stop(), CTRACE_ENOTRACING, "ctrace_stop again");

    /* The program goes on and may trace again. */
    size_t n = 0;
    t_phase("tracing again with a good callback", 20);
    CHECK_RC(ctrace_start(counting_write, &n), CTRACE_OK, "ctrace_start(good callback) after the failure");
    work_until_stopped(0.1);
    CHECK(ctrace_enabled(), "tracing with the good callback");
    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop with the good callback");
    CHECK(n > 16, "the good callback got the trace (%zu bytes)", n);
}

/* --- a pipe whose reader has gone --------------------------------------- */

static void broken_pipe(void)
{
    int p[2];
    if (pipe(p) != 0) {
        perror("pipe");
        exit(1);
    }
    close(p[0]); /* nobody will ever read */
    t_phase("pipe without reader", 30);
    short_periods();
    CHECK_RC(ctrace_start_fd(p[1]), CTRACE_OK, "ctrace_start_fd(pipe without reader)");
    work_until_stopped(5);
    errno = 0;
    int rc = ctrace_stop();
    int e = errno;
    CHECK_RC(rc, CTRACE_EWRITE, "ctrace_stop on a broken pipe");
    CHECK(e == EPIPE, "errno is EPIPE (got %s)", strerror(e));
    CHECK(fcntl(p[1], F_GETFD) != -1, "ctrace did not close the caller's fd");
    close(p[1]);

    /* ctrace must not have changed what SIGPIPE does to this program.  With
     * the interposers a query reports SIG_DFL while ctrace's stand-in is
     * installed; without them (libctrace.a, the TSan build) it shows the
     * stand-in, a handler that finishes the trace and dies of the signal
     * (include/ctrace.h): not SIG_IGN, nor a handler of the program's. */
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    const char *ni = getenv("CTRACE_TEST_NO_INTERPOSE");
    int stand_in_visible = ni && !strcmp(ni, "1") && (sa.sa_flags & SA_SIGINFO) && sa.sa_sigaction;
    CHECK(sa.sa_handler == SIG_DFL || stand_in_visible,
          "SIGPIPE disposition is still the default (or ctrace's visible stand-in for it)");
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    CHECK(!sigismember(&mask, SIGPIPE), "SIGPIPE is not blocked in the main thread");
}

/* --- a full disk --------------------------------------------------------- */

static void full_disk(void)
{
    t_phase("ctrace_start_file(/dev/full)", 30);
    short_periods();
    errno = 0;
    int rc = ctrace_start_file("/dev/full");
    CHECK_RC(rc, CTRACE_OK, "ctrace_start_file(/dev/full)");
    if (rc == CTRACE_OK) {
        work_until_stopped(5);
        errno = 0;
        rc = ctrace_stop();
        int e = errno;
        CHECK_RC(rc, CTRACE_EWRITE, "ctrace_stop on /dev/full");
        CHECK(e == ENOSPC, "errno is ENOSPC (got %s)", strerror(e));
    }

    t_phase("ctrace_start_fd(/dev/full)", 30);
    int fd = open("/dev/full", O_WRONLY);
    CHECK_RC(ctrace_start_fd(fd), CTRACE_OK, "ctrace_start_fd(/dev/full)");
    work_until_stopped(5);
    errno = 0;
    rc = ctrace_stop();
    int e = errno;
    CHECK_RC(rc, CTRACE_EWRITE, "ctrace_stop on an fd of /dev/full");
    CHECK(e == ENOSPC, "errno is ENOSPC (got %s)", strerror(e));
    close(fd);

    /* A failure at stop time only (nothing written before): still reported. */
    t_phase("ctrace_start_fd(/dev/full), the only write fails at ctrace_stop", 20);
    fd = open("/dev/full", O_WRONLY);
    ctrace_config cfg;
    ctrace_config_init(&cfg); /* 1 s generations: all data comes at stop */
    ctrace_configure(&cfg);
    CHECK_RC(ctrace_start_fd(fd), CTRACE_OK, "ctrace_start_fd(/dev/full), stopped at once");
    ctrace_log(0, "work", "one event");
    errno = 0;
    rc = ctrace_stop();
    e = errno;
    CHECK_RC(rc, CTRACE_EWRITE, "ctrace_stop when the last write fails");
    CHECK(e == ENOSPC, "errno is ENOSPC (got %s)", strerror(e));
    close(fd);
}

int main(void)
{
    callback_failure();
    broken_pipe();
    full_disk();
    /* Still alive, and tracing still works to a real file. */
    t_phase("tracing to a file after all failures", 20);
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    ctrace_configure(&cfg);
    CHECK_RC(ctrace_start_file("writer-fail-after.trace"), CTRACE_OK, "ctrace_start_file after all failures");
    work_until_stopped(0.05);
    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop after all failures");
    return t_finish();
}
