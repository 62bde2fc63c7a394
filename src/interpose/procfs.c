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
 * /proc/thread-self/..., /proc/PID/... with our pid) while tracer threads
 * run gives the program a copy (a memfd) of the file read at the open,
 * with the thread count less the tracer's threads (never below 1).
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
 * of the process's cached pid: a vfork child's own directory is not it).
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

CT_REAL_DECL(int, open, (const char *, int, ...));
CT_REAL_DECL(int, open64, (const char *, int, ...));
CT_REAL_DECL(int, openat, (int, const char *, int, ...));
CT_REAL_DECL(int, openat64, (int, const char *, int, ...));
CT_REAL_DECL(int, __open_2, (const char *, int));
CT_REAL_DECL(int, __open64_2, (const char *, int));
CT_REAL_DECL(int, __openat_2, (int, const char *, int));
CT_REAL_DECL(int, __openat64_2, (int, const char *, int));
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

/* A memfd holding the doctored file, at offset 0; -1 to open the real
 * file instead. */
static int doctored_open(const char *path, int flags)
{
    int kind = own_file(path);
    if (kind == NOT_OURS || (flags & O_ACCMODE) != O_RDONLY ||
        (flags & (O_PATH | O_DIRECTORY | O_CREAT | O_TRUNC | __O_TMPFILE)) || ct_in_tracer())
        return -1; /* not a plain read: the real call answers */
    int less = ct_tracer_thread_count();
    if (less <= 0)
        return -1;
    int e = errno;
    char buf[8192];
    size_t n = 0;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd >= 0) {
        ssize_t r;
        while (n < sizeof buf - 1 && (r = ct_libc_read(fd, buf + n, sizeof buf - 1 - n)) > 0)
            n += (size_t)r;
        ct_libc_close(fd);
    }
    int m = -1;
    if (fd >= 0 && n > 0 && n < sizeof buf - 1 && (n = doctor(kind, buf, n, less)) > 0)
        m = (int)syscall(SYS_memfd_create, "ctrace-proc", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
    if (m >= 0 && (ct_libc_write(m, buf, n) != (ssize_t)n || lseek(m, 0, SEEK_SET) != 0)) {
        ct_libc_close(m);
        m = -1;
    }
    errno = e;
    return m;
}

/* The mode argument of an open that creates. */
#define CT_OPEN_MODE(flags, last)                          \
    mode_t mode = 0;                                       \
    if (((flags) & O_CREAT) || ((flags) & __O_TMPFILE) == __O_TMPFILE) { \
        va_list ap;                                        \
        va_start(ap, last);                                \
        mode = (mode_t)va_arg(ap, unsigned);               \
        va_end(ap);                                        \
    }

CT_EXPORT int open(const char *path, int flags, ...)
{
    CT_OPEN_MODE(flags, flags);
    int m = doctored_open(path, flags);
    if (m >= 0)
        return m;
    CT_REAL(open);
    if (CT_LIKELY(ct_real_open != NULL))
        return ct_real_open(path, flags, mode);
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

CT_EXPORT int open64(const char *path, int flags, ...)
{
    CT_OPEN_MODE(flags, flags);
    int m = doctored_open(path, flags);
    if (m >= 0)
        return m;
    CT_REAL(open64);
    if (CT_LIKELY(ct_real_open64 != NULL))
        return ct_real_open64(path, flags, mode);
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

CT_EXPORT int openat(int dir, const char *path, int flags, ...)
{
    CT_OPEN_MODE(flags, flags);
    int m = doctored_open(path, flags);
    if (m >= 0)
        return m;
    CT_REAL(openat);
    if (CT_LIKELY(ct_real_openat != NULL))
        return ct_real_openat(dir, path, flags, mode);
    return (int)syscall(SYS_openat, dir, path, flags, mode);
}

CT_EXPORT int openat64(int dir, const char *path, int flags, ...)
{
    CT_OPEN_MODE(flags, flags);
    int m = doctored_open(path, flags);
    if (m >= 0)
        return m;
    CT_REAL(openat64);
    if (CT_LIKELY(ct_real_openat64 != NULL))
        return ct_real_openat64(dir, path, flags, mode);
    return (int)syscall(SYS_openat, dir, path, flags, mode);
}

/* _FORTIFY_SOURCE's checked variants (no O_CREAT: no mode). */
CT_EXPORT int __open_2(const char *path, int flags)
{
    int m = doctored_open(path, flags);
    if (m >= 0)
        return m;
    CT_REAL(__open_2);
    if (CT_LIKELY(ct_real___open_2 != NULL))
        return ct_real___open_2(path, flags);
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, 0);
}

CT_EXPORT int __open64_2(const char *path, int flags)
{
    int m = doctored_open(path, flags);
    if (m >= 0)
        return m;
    CT_REAL(__open64_2);
    if (CT_LIKELY(ct_real___open64_2 != NULL))
        return ct_real___open64_2(path, flags);
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, 0);
}

CT_EXPORT int __openat_2(int dir, const char *path, int flags)
{
    int m = doctored_open(path, flags);
    if (m >= 0)
        return m;
    CT_REAL(__openat_2);
    if (CT_LIKELY(ct_real___openat_2 != NULL))
        return ct_real___openat_2(dir, path, flags);
    return (int)syscall(SYS_openat, dir, path, flags, 0);
}

CT_EXPORT int __openat64_2(int dir, const char *path, int flags)
{
    int m = doctored_open(path, flags);
    if (m >= 0)
        return m;
    CT_REAL(__openat64_2);
    if (CT_LIKELY(ct_real___openat64_2 != NULL))
        return ct_real___openat64_2(dir, path, flags);
    return (int)syscall(SYS_openat, dir, path, flags, 0);
}

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

/* After a successful stat-like call: the link count without the tracer's
 * threads when the result is the process's task directory (fields passed
 * one by one: struct stat and struct stat64 alike). */
static void fix_task_nlink(int rc, mode_t mode, nlink_t *nlink, dev_t dev, ino_t ino)
{
    if (rc != 0 || !S_ISDIR(mode) || *nlink < 4 || ct_in_tracer())
        return;
    int less = ct_tracer_thread_count();
    if (less <= 0)
        return;
    int e = errno;
    if (is_own_task_dir(dev, ino))
        *nlink = *nlink - 3 > (nlink_t)less ? *nlink - (nlink_t)less : 3;
    errno = e;
}

CT_REAL_DECL(int, stat, (const char *, struct stat *));
CT_REAL_DECL(int, stat64, (const char *, struct stat64 *));
CT_REAL_DECL(int, lstat, (const char *, struct stat *));
CT_REAL_DECL(int, lstat64, (const char *, struct stat64 *));
CT_REAL_DECL(int, fstat, (int, struct stat *));
CT_REAL_DECL(int, fstat64, (int, struct stat64 *));
CT_REAL_DECL(int, fstatat, (int, const char *, struct stat *, int));
CT_REAL_DECL(int, fstatat64, (int, const char *, struct stat64 *, int));
CT_REAL_DECL(int, __xstat, (int, const char *, struct stat *));
CT_REAL_DECL(int, __xstat64, (int, const char *, struct stat64 *));
CT_REAL_DECL(int, __lxstat, (int, const char *, struct stat *));
CT_REAL_DECL(int, __lxstat64, (int, const char *, struct stat64 *));
CT_REAL_DECL(int, __fxstat, (int, int, struct stat *));
CT_REAL_DECL(int, __fxstat64, (int, int, struct stat64 *));
CT_REAL_DECL(int, __fxstatat, (int, int, const char *, struct stat *, int));
CT_REAL_DECL(int, __fxstatat64, (int, int, const char *, struct stat64 *, int));

/* The real call (or, before dlsym can answer, the system call), then the
 * link count fixed.  raw: the system call's arguments. */
#define CT_STAT_CALL(name, call, raw_call)                  \
    do {                                                    \
        CT_REAL(name);                                      \
        int rc_ = ct_real_##name ? ct_real_##name call : (int)(raw_call); \
        if (rc_ == 0) /* then st was written: not NULL */  \
            fix_task_nlink(rc_, st->st_mode, &st->st_nlink, st->st_dev, st->st_ino); \
        return rc_;                                         \
    } while (0)

CT_EXPORT int stat(const char *path, struct stat *st)
{
    CT_STAT_CALL(stat, (path, st), syscall(SYS_newfstatat, AT_FDCWD, path, st, 0));
}

CT_EXPORT int stat64(const char *path, struct stat64 *st)
{
    CT_STAT_CALL(stat64, (path, st), syscall(SYS_newfstatat, AT_FDCWD, path, st, 0));
}

CT_EXPORT int lstat(const char *path, struct stat *st)
{
    CT_STAT_CALL(lstat, (path, st), syscall(SYS_newfstatat, AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW));
}

CT_EXPORT int lstat64(const char *path, struct stat64 *st)
{
    CT_STAT_CALL(lstat64, (path, st), syscall(SYS_newfstatat, AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW));
}

CT_EXPORT int fstat(int fd, struct stat *st)
{
    CT_STAT_CALL(fstat, (fd, st), syscall(SYS_fstat, fd, st));
}

CT_EXPORT int fstat64(int fd, struct stat64 *st)
{
    CT_STAT_CALL(fstat64, (fd, st), syscall(SYS_fstat, fd, st));
}

CT_EXPORT int fstatat(int dir, const char *path, struct stat *st, int flags)
{
    CT_STAT_CALL(fstatat, (dir, path, st, flags), syscall(SYS_newfstatat, dir, path, st, flags));
}

CT_EXPORT int fstatat64(int dir, const char *path, struct stat64 *st, int flags)
{
    CT_STAT_CALL(fstatat64, (dir, path, st, flags), syscall(SYS_newfstatat, dir, path, st, flags));
}

/* Binaries built against glibc before 2.33 call these (ver: the layout,
 * which the real function checks). */
CT_EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
    CT_STAT_CALL(__xstat, (ver, path, st), (errno = ENOSYS, -1));
}

CT_EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
    CT_STAT_CALL(__xstat64, (ver, path, st), (errno = ENOSYS, -1));
}

CT_EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
    CT_STAT_CALL(__lxstat, (ver, path, st), (errno = ENOSYS, -1));
}

CT_EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
    CT_STAT_CALL(__lxstat64, (ver, path, st), (errno = ENOSYS, -1));
}

CT_EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
    CT_STAT_CALL(__fxstat, (ver, fd, st), (errno = ENOSYS, -1));
}

CT_EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{
    CT_STAT_CALL(__fxstat64, (ver, fd, st), (errno = ENOSYS, -1));
}

CT_EXPORT int __fxstatat(int ver, int dir, const char *path, struct stat *st, int flags)
{
    CT_STAT_CALL(__fxstatat, (ver, dir, path, st, flags), (errno = ENOSYS, -1));
}

CT_EXPORT int __fxstatat64(int ver, int dir, const char *path, struct stat64 *st, int flags)
{
    CT_STAT_CALL(__fxstatat64, (ver, dir, path, st, flags), (errno = ENOSYS, -1));
}
