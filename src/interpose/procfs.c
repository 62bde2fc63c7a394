/*
 * procfs.c - the process's own thread count, as the program reads it,
 * without the tracer's threads.
 *
 * Programs read their thread count from /proc/self/stat (field 20,
 * num_threads) or /proc/self/status ("Threads:") to tell whether they are
 * single-threaded.  Python 3.12 and later do it at every os.fork(), and
 * warn ("DeprecationWarning: This process (pid=N) is multi-threaded, use
 * of fork() may lead to deadlocks in the child") -- an error under
 * `-W error` or pytest's filterwarnings=error.  The tracer's own threads
 * made every traced process multithreaded, so a program changed its
 * output, or failed, only because it was traced.
 *
 * So opening the process's own stat or status file read-only (open,
 * openat, fopen and their 64/fortify variants; the paths /proc/self/...,
 * /proc/thread-self/..., /proc/PID/... with our pid), once the tracer has
 * had a thread in the process, gives the program a copy (a memfd) of the
 * file read at the open, with the thread count less the tracer's threads
 * that the kernel counted in it (never below 1): the file is read between
 * two censuses of the tracer's threads that agree (tracer_threads.c says
 * why).  Not only while the tracer has threads: the kernel makes the
 * real file's text at its first read, so one opened when the tracer had
 * none and read just after a trace started its threads showed them (CI
 * saw it: runtime.thread_count).  Before the tracer's first thread the
 * real file is opened (the same window, once per process).  The cost: a
 * program that keeps the descriptor and reads it again from offset 0
 * reads the text of its open, as it does while tracing under `ctrace
 * run`.
 *
 * Invariants: any other path, any open for writing, an open on a thread
 * inside the tracer, or any failure on the way (no memfd, a file larger
 * than the buffer) goes to the real function unchanged; errno is the
 * real call's or, for a copy, untouched.  The copy keeps every other
 * byte, and the close-on-exec flag asked for.
 *
 * Likewise the link count of the process's /proc/PID/task directory (2 +
 * its threads): Chromium's zygote CHECKs that it is single-threaded with
 * fstatat(proc_fd, "self/task/") (st_nlink == 3) and died of SIGTRAP under
 * ctrace run.  The stat family (stat, lstat, fstat, fstatat, their 64 and
 * glibc-2.32 __xstat forms) lowers st_nlink by the tracer's threads when
 * the result is that directory (same device and inode as /proc/PID/task
 * of the process's cached pid: a vfork child's own directory is not it),
 * made again between two censuses that agree.
 * Listing /proc/self/task still shows the tracer's threads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks.h"
#include "interpose.h"
#include "libc.h"
#include "proc.h"
#include "trace.h"

CT_REAL_DECL(FILE *, fopen, (const char *, const char *));
CT_REAL_DECL(FILE *, fopen64, (const char *, const char *));

enum { NOT_OURS, OWN_STAT, OWN_STATUS };

/* Which of the process's own files path names (absolute paths only). */
static int own_file(const char *path)
{
    if (!path || path[0] != '/' || strncmp(path, "/proc/", 6) != 0)
        return NOT_OURS;
    const char *p = path + 6;
    if (!strncmp(p, "self/", 5)) {
        p += 5;
    } else if (!strncmp(p, "thread-self/", 12)) {
        p += 12;
    } else {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p || *end != '/' || pid != (long)ct_raw_getpid())
            return NOT_OURS;
        p = end + 1;
    }
    if (!strcmp(p, "stat"))
        return OWN_STAT;
    if (!strcmp(p, "status"))
        return OWN_STATUS;
    return NOT_OURS;
}

/* Rewrites the decimal number at buf[at, at+len) as max(1, it - less)
 * (the buffer has room: the number only shrinks). */
static size_t lower_number(char *buf, size_t n, size_t at, size_t len, int less)
{
    long v = strtol(buf + at, NULL, 10) - less;
    char num[24];
    int k = snprintf(num, sizeof num, "%ld", v < 1 ? 1 : v);
    memmove(buf + at + k, buf + at + len, n - at - len);
    memcpy(buf + at, num, (size_t)k);
    return n - len + (size_t)k;
}

/* The thread count in a stat (field 20: the 18th after the command's
 * closing parenthesis) or status ("Threads:") file, lowered; 0 if absent. */
static size_t doctor(int kind, char *buf, size_t n, int less)
{
    buf[n] = 0;
    size_t at = 0;
    if (kind == OWN_STAT) {
        char *p = strrchr(buf, ')');
        if (!p)
            return 0;
        for (int field = 2; field < 20; field++) {
            p = strchr(p + 1, ' ');
            if (!p)
                return 0;
        }
        at = (size_t)(p + 1 - buf);
    } else {
        char *p = strstr(buf, "\nThreads:");
        if (!p)
            return 0;
        p += 9;
        while (*p == '\t' || *p == ' ')
            p++;
        at = (size_t)(p - buf);
    }
    size_t len = strspn(buf + at, "0123456789");
    if (!len)
        return 0;
    return lower_number(buf, n, at, len, less);
}

/* How many times a file is read or a stat made again when the tracer's
 * threads changed meanwhile. */
#define CENSUS_TRIES 64

/* A memfd holding the doctored file, at offset 0; -1 to open the real
 * file instead. */
static int doctored_open(const char *path, int flags)
{
    int kind = own_file(path);
    if (kind == NOT_OURS || (flags & O_ACCMODE) != O_RDONLY ||
        (flags & (O_PATH | O_DIRECTORY | O_CREAT | O_TRUNC | __O_TMPFILE)) || ct_in_tracer())
        return -1; /* not a plain read: the real call answers */
    int e = errno;
    struct ct_tracer_census c, after;
    ct_tracer_census(&c);
    if (!c.ever) {
        errno = e;
        return -1; /* the real file: the tracer never had a thread here */
    }
    char buf[8192];
    size_t n = 0;
    int fd = -1;
    /* The file read between two censuses that agree (tracer_threads.c):
     * the kernel's count and the tracer's of one instant.  Tracer threads
     * start and end only with traces, but a program starting and stopping
     * them in a loop moves the table every few microseconds: up to
     * CENSUS_TRIES reads (4 were too few, once in 800 K reads). */
    for (int tries = 0; tries < CENSUS_TRIES; tries++) {
        if (tries)
            c = after;
        n = 0;
        fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
        if (fd >= 0) {
            ssize_t r;
            while (n < sizeof buf - 1 && (r = ct_libc_read(fd, buf + n, sizeof buf - 1 - n)) > 0)
                n += (size_t)r;
            ct_libc_close(fd);
        }
        ct_tracer_census(&after);
        if (fd < 0 || ct_tracer_census_same(&c, &after))
            break;
    }
    int m = -1;
    if (fd >= 0 && n > 0 && n < sizeof buf - 1 && (n = doctor(kind, buf, n, c.threads)) > 0)
        m = (int)syscall(SYS_memfd_create, "ctrace-proc", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
    if (m >= 0 && (ct_libc_write(m, buf, n) != (ssize_t)n || lseek(m, 0, SEEK_SET) != 0)) {
        ct_libc_close(m);
        m = -1;
    }
    errno = e;
    return m;
}

/* An open wrapper: the doctored copy when it applies, else the real
 * function, or (before dlsym can answer) the system call.  read_mode: how
 * the mode is had -- the variadic forms take it only when the call
 * creates (glibc's rule); _FORTIFY_SOURCE's checked forms have none. */
#define CT_OPEN_WRAPPER(name, dir, params, args, read_mode)                         \
    CT_REAL_DECL(int, name, params);                                                \
    CT_EXPORT int name params                                                       \
    {                                                                               \
        mode_t mode = 0;                                                            \
        read_mode;                                                                  \
        int m = doctored_open(path, flags);                                         \
        if (m >= 0)                                                                 \
            return m;                                                               \
        CT_REAL(name);                                                              \
        if (CT_LIKELY(ct_real_##name != NULL))                                      \
            return ct_real_##name args;                                             \
        return (int)syscall(SYS_openat, dir, path, flags, mode);                    \
    }
#define CT_VA_MODE                                                                  \
    if ((flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE) {                \
        va_list ap;                                                                 \
        va_start(ap, flags);                                                        \
        mode = (mode_t)va_arg(ap, unsigned);                                        \
        va_end(ap);                                                                 \
    }
#define CT_NO_MODE (void)0

CT_OPEN_WRAPPER(open, AT_FDCWD, (const char *path, int flags, ...), (path, flags, mode), CT_VA_MODE)
CT_OPEN_WRAPPER(open64, AT_FDCWD, (const char *path, int flags, ...), (path, flags, mode), CT_VA_MODE)
CT_OPEN_WRAPPER(openat, dir, (int dir, const char *path, int flags, ...), (dir, path, flags, mode), CT_VA_MODE)
CT_OPEN_WRAPPER(openat64, dir, (int dir, const char *path, int flags, ...), (dir, path, flags, mode),
                CT_VA_MODE)
CT_OPEN_WRAPPER(__open_2, AT_FDCWD, (const char *path, int flags), (path, flags), CT_NO_MODE)
CT_OPEN_WRAPPER(__open64_2, AT_FDCWD, (const char *path, int flags), (path, flags), CT_NO_MODE)
CT_OPEN_WRAPPER(__openat_2, dir, (int dir, const char *path, int flags), (dir, path, flags), CT_NO_MODE)
CT_OPEN_WRAPPER(__openat64_2, dir, (int dir, const char *path, int flags), (dir, path, flags), CT_NO_MODE)

/* fopen: read-only modes only ("r", "rb", "re"...: no '+'). */
static FILE *doctored_fopen(const char *path, const char *mode)
{
    if (!mode || mode[0] != 'r' || strchr(mode, '+'))
        return NULL;
    int m = doctored_open(path, O_RDONLY | (strchr(mode, 'e') ? O_CLOEXEC : 0));
    if (m < 0)
        return NULL;
    FILE *f = fdopen(m, mode);
    if (!f)
        ct_libc_close(m);
    return f;
}

CT_EXPORT FILE *fopen(const char *path, const char *mode)
{
    FILE *f = doctored_fopen(path, mode);
    if (f)
        return f;
    CT_REAL(fopen);
    if (CT_LIKELY(ct_real_fopen != NULL))
        return ct_real_fopen(path, mode);
    errno = ENOSYS;
    return NULL;
}

CT_EXPORT FILE *fopen64(const char *path, const char *mode)
{
    FILE *f = doctored_fopen(path, mode);
    if (f)
        return f;
    CT_REAL(fopen64);
    if (CT_LIKELY(ct_real_fopen64 != NULL))
        return ct_real_fopen64(path, mode);
    errno = ENOSYS;
    return NULL;
}

/* ---- the task directory's link count ---- */

/* /proc/PID/task's device and inode for pid (published last). */
static struct {
    _Atomic dev_t dev;
    _Atomic ino_t ino;
    _Atomic pid_t pid;
} task_dir;

static int is_own_task_dir(dev_t dev, ino_t ino)
{
    pid_t pid = ct_proc_pid();
    if (atomic_load_explicit(&task_dir.pid, memory_order_acquire) != pid) {
        char path[48];
        struct stat t;
        snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
        if (syscall(SYS_newfstatat, AT_FDCWD, path, &t, 0) != 0)
            return 0;
        atomic_store(&task_dir.dev, t.st_dev);
        atomic_store(&task_dir.ino, t.st_ino);
        atomic_store_explicit(&task_dir.pid, pid, memory_order_release);
    }
    return dev == atomic_load(&task_dir.dev) && ino == atomic_load(&task_dir.ino);
}

/* After a successful stat-like call (st's fields passed one by one:
 * struct stat and struct stat64 alike): 1 to make the call again, when
 * the result is the process's task directory, the tracer has had threads
 * and no census was taken yet, or the call fell between two that differ (the kernel's count and
 * the tracer's must be of one instant: tracer_threads.c); else 0, with
 * the link count lowered by the tracer's threads when it is that
 * directory.  *tries counts the calls made again (at most CENSUS_TRIES). */
static int task_nlink_again(mode_t mode, nlink_t *nlink, dev_t dev, ino_t ino,
                            struct ct_tracer_census *c, int *tries)
{
    if (!S_ISDIR(mode) || *nlink < 4 || ct_in_tracer())
        return 0;
    int e = errno;
    int again = 0;
    struct ct_tracer_census now = {0};
    if (is_own_task_dir(dev, ino))
        ct_tracer_census(&now);
    if (now.ever) {
        if (*tries == 0 || (!ct_tracer_census_same(c, &now) && *tries < CENSUS_TRIES)) {
            *c = now;
            again = 1;
        } else if (now.threads > 0) {
            nlink_t less = (nlink_t)now.threads;
            *nlink = *nlink - 3 > less ? *nlink - less : 3;
        }
        ++*tries;
    }
    errno = e;
    return again;
}

/* A stat-like wrapper: the real call (or, before dlsym can answer, the
 * raw call), then, for the process's task directory, again between two
 * censuses of the tracer's threads, and its link count lowered. */
#define CT_STAT_WRAPPER(name, params, args, raw_call)                               \
    CT_REAL_DECL(int, name, params);                                                \
    CT_EXPORT int name params                                                       \
    {                                                                               \
        CT_REAL(name);                                                              \
        struct ct_tracer_census c;                                                  \
        int rc, tries = 0;                                                          \
        do                                                                          \
            rc = ct_real_##name ? ct_real_##name args : (int)(raw_call);            \
        while (rc == 0 &&                                                           \
               task_nlink_again(st->st_mode, &st->st_nlink, st->st_dev, st->st_ino, \
                                &c, &tries));                                       \
        return rc;                                                                  \
    }

#define CT_NEWFSTATAT(dir, path, flags) syscall(SYS_newfstatat, dir, path, st, flags)
#define CT_NO_SYSCALL (errno = ENOSYS, -1)

CT_STAT_WRAPPER(stat, (const char *path, struct stat *st), (path, st), CT_NEWFSTATAT(AT_FDCWD, path, 0))
CT_STAT_WRAPPER(stat64, (const char *path, struct stat64 *st), (path, st), CT_NEWFSTATAT(AT_FDCWD, path, 0))
CT_STAT_WRAPPER(lstat, (const char *path, struct stat *st), (path, st),
                CT_NEWFSTATAT(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW))
CT_STAT_WRAPPER(lstat64, (const char *path, struct stat64 *st), (path, st),
                CT_NEWFSTATAT(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW))
CT_STAT_WRAPPER(fstat, (int fd, struct stat *st), (fd, st), syscall(SYS_fstat, fd, st))
CT_STAT_WRAPPER(fstat64, (int fd, struct stat64 *st), (fd, st), syscall(SYS_fstat, fd, st))
CT_STAT_WRAPPER(fstatat, (int dir, const char *path, struct stat *st, int flags), (dir, path, st, flags),
                CT_NEWFSTATAT(dir, path, flags))
CT_STAT_WRAPPER(fstatat64, (int dir, const char *path, struct stat64 *st, int flags),
                (dir, path, st, flags), CT_NEWFSTATAT(dir, path, flags))
/* Binaries built against glibc before 2.33 call these (ver: the layout,
 * which the real function checks). */
CT_STAT_WRAPPER(__xstat, (int ver, const char *path, struct stat *st), (ver, path, st), CT_NO_SYSCALL)
CT_STAT_WRAPPER(__xstat64, (int ver, const char *path, struct stat64 *st), (ver, path, st), CT_NO_SYSCALL)
CT_STAT_WRAPPER(__lxstat, (int ver, const char *path, struct stat *st), (ver, path, st), CT_NO_SYSCALL)
CT_STAT_WRAPPER(__lxstat64, (int ver, const char *path, struct stat64 *st), (ver, path, st), CT_NO_SYSCALL)
CT_STAT_WRAPPER(__fxstat, (int ver, int fd, struct stat *st), (ver, fd, st), CT_NO_SYSCALL)
CT_STAT_WRAPPER(__fxstat64, (int ver, int fd, struct stat64 *st), (ver, fd, st), CT_NO_SYSCALL)
CT_STAT_WRAPPER(__fxstatat, (int ver, int dir, const char *path, struct stat *st, int flags),
                (ver, dir, path, st, flags), CT_NO_SYSCALL)
CT_STAT_WRAPPER(__fxstatat64, (int ver, int dir, const char *path, struct stat64 *st, int flags),
                (ver, dir, path, st, flags), CT_NO_SYSCALL)
