/*
 * writer.c - the writer-level API: a background thread drains the trace
 * (ct_fifo_read, as the only reader the trace admits from its start) into
 * a callback, a file descriptor or a file.
 *
 * Invariants:
 *  - w_lock serializes ctrace_start* and ctrace_stop.
 *  - The writer thread is a tracer thread (never traced) and blocks every
 *    signal, so it never runs the program's handlers and a broken pipe
 *    cannot kill the process with SIGPIPE.
 *  - A failing write stops tracing; the writer keeps draining (and
 *    discarding) so producers never wait on it.  ctrace_stop reports the
 *    first error.
 *  - For the fatal-signal path (crash.c), every write to an fd passes the
 *    crash gate (ct_crash_write_begin/end), and after each chunk that ends
 *    a generation (its frequency batch: a generation's last) the writer
 *    reports the file offset there, so a dying process can cut the file
 *    at its last complete generation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctrace.h"
#include "hooks.h"
#include "libc.h"
#include "proc.h"
#include "sink.h"
#include "varint.h"
#include "thread.h"
#include "trace.h"

static pthread_mutex_t w_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    ctrace_write_fn fn;
    void *arg;
    int fd;       /* for the fd and file writers                  */
    int own_fd;   /* ctrace opened it: close at stop              */
    pthread_t thread;
    int running;
    _Atomic int err; /* first write error (errno value)           */
    long long start_off; /* file offset of the trace's first byte, -1: none */
} w;

static int fd_write(void *arg, const void *data, size_t len)
{
    int fd = (int)(intptr_t)arg;
    const char *p = data;
    while (len) {
        if (!ct_crash_write_begin())
            return EIO; /* the process is dying: the file is being cut */
        ssize_t n = ct_fdguard_write(fd, p, len);
        ct_crash_write_end();
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                /* The program made the descriptor non-blocking (a pipe or
                 * socket it also polls): wait until it takes data, as a
                 * blocking write would.  A descriptor that never becomes
                 * writable keeps the trace waiting, exactly like a full
                 * blocking pipe; a poll error is the write's error. */
                struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                if (ct_libc_poll(&pfd, 1, -1) < 0 && errno != EINTR)
                    return errno;
                continue;
            }
            return errno;
        }
        if (n == 0)
            return EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Does chunk end a generation?  The file header does (it is the end of
 * "no generation"); so does a generation's frequency batch, written last. */
static int ends_generation(const uint8_t *p, size_t len)
{
    if (len == GT_HEADER_LEN && p[0] == 'g')
        return 1;
    const uint8_t *end = p + len;
    if (len < 2 || *p++ != GT_EV_EVENT_BATCH)
        return 0;
    uint64_t v;
    for (int i = 0; i < 4; i++) /* gen, m, ts, size */
        if (varint_get(&p, end, &v) != 0)
            return 0;
    return p < end && *p == GT_EV_FREQUENCY;
}

static void *writer_main(void *arg)
{
    (void)arg;
    const void *chunk;
    size_t len;
    int r;
    long long written = w.start_off;
    /* The trace was the writer's from its start (ct_fifo_sink): no other
     * reader can take a chunk, even before this thread first runs. */
    while ((r = ct_fifo_read(CT_FIFO_WRITER_ONLY, &chunk, &len)) == 1) {
        if (atomic_load(&w.err))
            continue; /* discard: tracing is stopping */
        int e = w.fn(w.arg, chunk, len);
        if (e) {
            atomic_store(&w.err, e);
            ct_trace_stop(); /* the program goes on untraced */
        } else if (written >= 0) {
            written += (long long)len;
            if (ends_generation(chunk, len))
                ct_crash_note_complete(written);
        }
    }
    /* Consume a SIGPIPE the failed write left pending on this thread. */
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe, NULL, &zero) == SIGPIPE) {
    }
    return NULL;
}

static int start_writer_locked(ctrace_write_fn fn, void *arg, int fd, int own_fd);

static int start_writer(ctrace_write_fn fn, void *arg, int fd, int own_fd)
{
    return start_writer_locked(fn, arg, fd, own_fd);
}

static int start_writer_locked(ctrace_write_fn fn, void *arg, int fd, int own_fd)
{
    ct_libc_mutex_lock(&w_lock);
    if (w.running) {
        ct_libc_mutex_unlock(&w_lock);
        if (own_fd)
            ct_fdguard_close(fd);
        return CTRACE_EBUSY;
    }
    int r = ct_trace_start(ct_fifo_sink(CT_FIFO_WRITER_ONLY));
    if (r) {
        ct_libc_mutex_unlock(&w_lock);
        if (own_fd)
            ct_fdguard_close(fd);
        return r;
    }
    w.fn = fn;
    w.arg = arg;
    w.fd = fd;
    w.own_fd = own_fd;
    atomic_store(&w.err, 0);
    /* Where the trace starts in the file, for the fatal-signal path: a
     * file we opened starts at 0; a program's fd where it is now (a pipe
     * or socket cannot be cut: -1). */
    w.start_off = -1;
    if (fd >= 0) {
        int e = errno;
        off_t o = lseek(fd, 0, SEEK_CUR);
        w.start_off = o < 0 ? -1 : (long long)o;
        errno = e;
    }
    ct_crash_set_output(fd, own_fd, w.start_off);
    if (ct_start_internal_thread(&w.thread, writer_main, NULL) != 0) {
        ct_trace_stop();
        ct_trace_discard_queue();
        ct_libc_mutex_unlock(&w_lock);
        if (own_fd)
            ct_fdguard_close(fd);
        return CTRACE_ESYS;
    }
    w.running = 1;
    ct_libc_mutex_unlock(&w_lock);
    ct_crash_trace_started();
    return CTRACE_OK;
}

int ctrace_start(ctrace_write_fn fn, void *arg)
{
    if (!fn)
        return CTRACE_EINVAL;
    int r = ct_proc_before_start();
    if (r)
        return r;
    int e = errno;
    r = start_writer(fn, arg, -1, 0);
    errno = e;
    return r;
}

int ctrace_start_fd(int fd)
{
    if (fd < 0)
        return CTRACE_EINVAL;
    int r = ct_proc_before_start();
    if (r)
        return r;
    int e = errno;
    r = start_writer(fd_write, (void *)(intptr_t)fd, fd, 0);
    errno = e;
    return r;
}

/* Expands "%p" to the pid and "%%" to "%" into out. */
int ct_expand_path(const char *pattern, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = pattern; *p; p++) {
        char tmp[32];
        const char *ins = NULL;
        if (p[0] == '%' && p[1] == 'p') {
            snprintf(tmp, sizeof tmp, "%d", (int)getpid());
            ins = tmp;
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            ins = "%";
            p++;
        }
        if (ins) {
            size_t n = strlen(ins);
            if (o + n >= size)
                return -1;
            memcpy(out + o, ins, n);
            o += n;
        } else {
            if (o + 1 >= size)
                return -1;
            out[o++] = *p;
        }
    }
    out[o] = 0;
    return 0;
}

/*
 * Opens the trace file at path for writing, or returns -1 with errno set.
 * A trace may carry secrets (logs, names, paths), and the path is often in
 * a shared directory, so:
 *  - a new file is created 0600 (then narrowed by the umask);
 *  - a symbolic link at the path is refused (O_NOFOLLOW: ELOOP), so nobody
 *    can plant one to make us write through it;
 *  - an existing regular file is truncated only if the caller's effective
 *    user owns it (EPERM otherwise), and loses every permission bit beyond
 *    0600 (group, others, set-id), as if it had been created now;
 *  - other existing files (a FIFO, /dev/null, a terminal) are written as
 *    they are, never truncated or chmod-ed.
 * O_TRUNC is not passed to open(): the ownership check comes first.
 * (Also the flight recorder's snapshot files, flight.c.)
 * A regular file is also locked (flock, exclusive, not waiting) before it is
 * truncated, and stays locked while this descriptor is open: a file another
 * live trace is writing -- another process given the same CTRACE_OUTPUT
 * without "%p", such as a program run by system() or posix_spawn -- is
 * refused with EBUSY, never truncated and written by two processes at once.
 * The lock belongs to the open file description: a fork child's or an
 * exec'd image's copy of the descriptor is closed (fdguard, O_CLOEXEC)
 * without releasing it.  A file system without flock (ENOLCK, EOPNOTSUPP...)
 * is written unlocked, as before.
 */
int ct_open_trace_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0)
        goto fail;
    if (S_ISREG(st.st_mode)) {
        if (st.st_uid != geteuid()) {
            errno = EPERM;
            goto fail;
        }
        if (ct_libc_flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
            errno = EBUSY;
            goto fail;
        }
        if (ftruncate(fd, 0) != 0 ||
            ((st.st_mode & 07777 & ~0600u) && fchmod(fd, st.st_mode & 0600) != 0))
            goto fail;
    }
    return fd;
fail:;
    int e = errno;
    ct_libc_close(fd);
    errno = e;
    return -1;
}

int ctrace_start_file(const char *path)
{
    if (!path || !*path)
        return CTRACE_EINVAL;
    char full[4096];
    if (ct_expand_path(path, full, sizeof full) != 0)
        return CTRACE_EINVAL;
    int r0 = ct_proc_before_start();
    if (r0)
        return r0;
    /* Refuse before creating (and truncating) the file. */
    if (CT_ENABLED() || ct_writer_active() || ct_fifo_unread())
        return CTRACE_EBUSY;
    int fd = ct_open_trace_file(full);
    if (fd < 0)
        return CTRACE_EOPEN; /* errno from open_trace_file */
    fd = ct_fdguard_adopt(fd); /* out of the program's way (fdguard.c) */
    int e = errno;
    int r = start_writer(fd_write, (void *)(intptr_t)fd, fd, 1);
    errno = e;
    return r;
}

static int stop_writer(void);

int ctrace_stop(void)
{
    int e = errno;
    int r = stop_writer();
    if (r != CTRACE_EWRITE)
        errno = e;
    return r;
}

static int stop_writer(void)
{
    int e = errno;
    ct_libc_mutex_lock(&w_lock);
    if (!w.running) {
        ct_libc_mutex_unlock(&w_lock);
        errno = e;
        return CTRACE_ENOTRACING;
    }
    ct_trace_stop(); /* may already be stopped by a write error */
    ct_join_internal_thread(w.thread);
    w.running = 0;
    ct_crash_set_output(-1, 0, -1);
    if (w.own_fd) {
        if (ct_fdguard_close(w.fd) != 0 && !atomic_load(&w.err))
            atomic_store(&w.err, errno);
    }
    int err = atomic_load(&w.err);
    ct_libc_mutex_unlock(&w_lock);
    ct_buf_pool_trim();
    if (err) {
        errno = err;
        return CTRACE_EWRITE;
    }
    errno = e;
    return CTRACE_OK;
}

int ct_writer_active(void)
{
    ct_libc_mutex_lock(&w_lock);
    int r = w.running;
    ct_libc_mutex_unlock(&w_lock);
    return r;
}

/* Fork child (proc.c's handler): the writer thread does not exist here
 * and its fd belongs to the parent's trace.  Forget it without touching
 * the fd.  w_lock is re-initialized, not taken by the prepare handler: its
 * holder may be joining the writer, which can take long. */
void ct_writer_forget(void)
{
    pthread_mutex_init(&w_lock, NULL);
    w.running = 0;
    atomic_store(&w.err, 0);
}
