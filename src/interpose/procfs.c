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
 * byte, and the close-on-exec flag asked for.  Listing /proc/self/task
 * still shows the tracer's threads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks.h"
#include "interpose.h"
#include "libc.h"
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
