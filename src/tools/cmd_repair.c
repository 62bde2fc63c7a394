/*
 * cmd_repair.c - `ctrace repair IN -o OUT`: writes the readable prefix of a
 * damaged v2 trace (cut by SIGKILL, the OOM killer, a full disk; or with
 * garbage after its end) as a trace Go's tools open.
 *
 * Invariants:
 *   - OUT is exactly the first E bytes of IN, where E is where the reader's
 *     last whole generation ends (ctrace_reader_complete): a v2 trace is a
 *     header and then generations in file order, so that prefix is a trace
 *     on its own, holding every generation the reader (like Go's parser)
 *     accepted.  Nothing is re-encoded, so nothing can be changed.
 *   - Everything left out is reported: the bytes, the generation that was
 *     incomplete or invalid, and the reader's message.
 *   - IN is never written: OUT naming the same file is refused (checked by
 *     device and inode, so other paths to it are caught too).  OUT is
 *     written to a temporary file in its directory and renamed into place,
 *     so a failed repair leaves no half-written OUT.
 */
#define _GNU_SOURCE
#include "commands.h"

#include "ctrace_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char help[] =
    "usage: ctrace repair [-q] IN -o OUT\n"
    "\n"
    "Writes the readable part of a damaged Go execution trace (v2: go 1.22, 1.23,\n"
    "1.25 headers) to OUT: the header and every generation that is complete and\n"
    "valid, i.e. what 'ctrace check' and Go's parser read before the damage.  A\n"
    "trace cut short (its writer killed by SIGKILL or the OOM killer, a full disk)\n"
    "loses only its last, incomplete generation; garbage after the end is dropped.\n"
    "OUT is the first bytes of IN, unchanged.  What is dropped is reported on\n"
    "standard error.  IN '-' reads standard input; OUT '-' writes standard output.\n"
    "OUT must not be IN.  v1 traces (go 1.11 to 1.21) have no generations and are\n"
    "not repaired.\n"
    "\n"
    "  -o OUT  the file to write (required)\n"
    "  -q      report nothing (errors excepted), only set the exit code\n"
    "  --help  this help\n"
    "\n"
    "Exit codes: 0 OUT written (IN was valid, truncated or had a damaged tail: see\n"
    "the report), 1 nothing written (IN unreadable, not a v2 trace, or without a\n"
    "single complete generation; or OUT could not be written), 2 usage error\n"
    "(including OUT naming IN).\n";

/* The whole of a stream (IN '-', a pipe): it cannot be read twice. */
static int slurp(int fd, unsigned char **buf, size_t *len)
{
    size_t cap = 1 << 20, n = 0;
    unsigned char *b = malloc(cap);
    if (!b)
        return -1;
    for (;;) {
        if (n == cap) {
            unsigned char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
            if (!nb) {
                free(b);
                errno = ENOMEM;
                return -1;
            }
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(b);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *buf = b;
    *len = n;
    return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Copies the first n bytes of in_fd (from offset 0) to out_fd. */
static int copy_prefix(int in_fd, int out_fd, uint64_t n)
{
    static unsigned char buf[1 << 16];
    uint64_t off = 0;
    while (off < n) {
        size_t want = n - off < sizeof buf ? (size_t)(n - off) : sizeof buf;
        ssize_t r = pread(in_fd, buf, want, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO; /* the file shrank under us */
            return -1;
        }
        if (write_all(out_fd, buf, (size_t)r) < 0)
            return -1;
        off += (uint64_t)r;
    }
    return 0;
}

/* 1 if the open descriptors a and b are the same file. */
static int same_file(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Writes the prefix to OUT ('-' = stdout) through a temporary file renamed
 * into place.  Returns 0, or -1 with a message printed. */
static int write_out(const char *out, int in_fd, const unsigned char *mem, uint64_t n)
{
    if (!strcmp(out, "-")) {
        int rc = mem ? write_all(STDOUT_FILENO, mem, (size_t)n) : copy_prefix(in_fd, STDOUT_FILENO, n);
        if (rc < 0) {
            fprintf(stderr, "ctrace repair: writing standard output: %s\n", strerror(errno));
            return -1;
        }
        return 0;
    }
    size_t len = strlen(out);
    char *tmp = malloc(len + 16);
    if (!tmp) {
        fprintf(stderr, "ctrace repair: out of memory\n");
        return -1;
    }
    snprintf(tmp, len + 16, "%s.tmp-XXXXXX", out);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "ctrace repair: cannot create %s: %s\n", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    int rc = mem ? write_all(fd, mem, (size_t)n) : copy_prefix(in_fd, fd, n);
    if (rc == 0)
        rc = fchmod(fd, 0644);
    if (close(fd) < 0)
        rc = -1;
    if (rc == 0)
        rc = rename(tmp, out);
    if (rc < 0) {
        fprintf(stderr, "ctrace repair: writing %s: %s\n", out, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

int cmd_repair(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    int quiet = 0, opts = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
            fputs(help, stdout);
            return 0;
        } else if (opts && !strcmp(a, "-q")) {
            quiet = 1;
        } else if (opts && !strcmp(a, "-o")) {
            if (++i >= argc || out) {
                fprintf(stderr, "ctrace repair: -o needs one file\n%s", help);
                return 2;
            }
            out = argv[i];
        } else if (opts && !strcmp(a, "--")) {
            opts = 0;
        } else if (opts && a[0] == '-' && a[1]) {
            fprintf(stderr, "ctrace repair: unknown option '%s'\n%s", a, help);
            return 2;
        } else if (!in) {
            in = a;
        } else {
            fprintf(stderr, "ctrace repair: one input only\n%s", help);
            return 2;
        }
    }
    if (!in || !out) {
        fputs(help, stderr);
        return 2;
    }
    const char *name = strcmp(in, "-") ? in : "<stdin>";

    /* Open IN once: the reader and the copy read the same bytes. */
    int in_fd = -1;
    unsigned char *mem = NULL;
    size_t memlen = 0;
    if (!strcmp(in, "-")) {
        if (slurp(STDIN_FILENO, &mem, &memlen) < 0) {
            fprintf(stderr, "ctrace repair: reading standard input: %s\n", strerror(errno));
            return 1;
        }
    } else if ((in_fd = open(in, O_RDONLY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "ctrace repair: cannot open %s: %s\n", in, strerror(errno));
        return 1;
    } else {
        /* A pipe (a FIFO, <(...)) cannot be read twice either. */
        struct stat st;
        if (fstat(in_fd, &st) == 0 && !S_ISREG(st.st_mode)) {
            int rc = slurp(in_fd, &mem, &memlen);
            close(in_fd);
            in_fd = -1;
            if (rc < 0) {
                fprintf(stderr, "ctrace repair: reading %s: %s\n", in, strerror(errno));
                return 1;
            }
        }
    }

    /* Refuse to overwrite IN, whatever the path says. */
    int status = 0;
    if (in_fd >= 0) {
        int out_fd = strcmp(out, "-") ? open(out, O_RDONLY | O_CLOEXEC) : dup(STDOUT_FILENO);
        if (out_fd >= 0) {
            int same = same_file(in_fd, out_fd);
            close(out_fd);
            if (same) {
                fprintf(stderr, "ctrace repair: %s is the input: refusing to overwrite it\n", out);
                close(in_fd);
                return 2;
            }
        }
    }

    ctrace_reader *r = NULL;
    int rc = mem ? ctrace_reader_open_mem(mem, memlen, 0, &r) : ctrace_reader_open_fd(in_fd, 0, &r);
    if (rc < 0) {
        uint64_t off = 0;
        const char *m = r ? ctrace_reader_error(r, &off) : NULL;
        fprintf(stderr, "ctrace repair: %s: nothing written: %s\n", name, m ? m : ctrace_reader_strerror(rc));
        status = 1;
        goto done;
    }
    if (ctrace_reader_version(r) < 122) {
        int v = ctrace_reader_version(r);
        fprintf(stderr,
                "ctrace repair: %s: a go %d.%d trace (v1 format) has no generations to cut at: "
                "not repaired\n",
                name, v / 100, v % 100);
        status = 1;
        goto done;
    }
    const struct ctrace_event *ev;
    while ((rc = ctrace_reader_next(r, &ev)) == 1)
        ;
    uint64_t end = 0, erroff = 0;
    int64_t span = 0;
    uint64_t whole = ctrace_reader_complete(r, &end, &span);
    const char *msg = ctrace_reader_error(r, &erroff);
    if (!msg)
        msg = ctrace_reader_strerror(rc);
    if (rc < 0 && whole == 0) {
        fprintf(stderr, "ctrace repair: %s: no complete generation, nothing written: error at offset %llu: %s\n",
                name, (unsigned long long)erroff, msg);
        status = 1;
        goto done;
    }
    if (write_out(out, in_fd, mem, end) < 0) {
        status = 1;
        goto done;
    }
    if (!quiet) {
        int64_t size = ctrace_reader_size(r);
        fprintf(stderr, "ctrace repair: wrote %s: %llu generations, %llu bytes, %.6f s\n",
                strcmp(out, "-") ? out : "<stdout>", (unsigned long long)whole, (unsigned long long)end,
                (double)span / 1e9);
        if (rc == 0) {
            fprintf(stderr, "ctrace repair: %s is a valid trace: nothing dropped\n", name);
        } else {
            fprintf(stderr, "ctrace repair: dropped %llu bytes from offset %llu (the generation after the "
                    "complete ones; %s at offset %llu: %s)\n",
                    size >= 0 ? (unsigned long long)((uint64_t)size - end) : 0ull, (unsigned long long)end,
                    rc == CTRACE_READER_ETRUNCATED ? "truncated" : "error", (unsigned long long)erroff, msg);
        }
    }
done:
    ctrace_reader_close(r);
    if (in_fd >= 0)
        close(in_fd);
    free(mem);
    return status;
}
