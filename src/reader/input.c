/*
 * input.c - see input.h.  Regular files are mapped whole (the kernel pages
 * them in and out, so memory stays bounded); anything else is streamed into
 * a buffer that holds about one generation.
 */
#define _GNU_SOURCE
#include "input.h"

#include "ctrace_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int in_open_mem(struct input *in, const void *buf, size_t len)
{
    memset(in, 0, sizeof *in);
    in->fd = -1;
    in->base = buf ? buf : (const uint8_t *)"";
    in->len = len;
    in->size = (int64_t)len;
    return 0;
}

int in_open_fd(struct input *in, int fd, int own_fd, int no_mmap)
{
    memset(in, 0, sizeof *in);
    in->fd = fd;
    in->own_fd = own_fd;
    in->size = -1;
    struct stat st;
    if (!no_mmap && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t pos = lseek(fd, 0, SEEK_CUR);
        if (pos >= 0 && st.st_size >= pos) {
            size_t total = (size_t)st.st_size;
            if (total == 0) {
                in->base = (const uint8_t *)"";
                in->size = 0;
                return 0;
            }
            void *p = mmap(NULL, total, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p != MAP_FAILED) {
                madvise(p, total, MADV_RANDOM);
                in->map = p;
                in->maplen = total;
                in->base = (const uint8_t *)p + pos;
                in->len = total - (size_t)pos;
                in->size = (int64_t)in->len;
                return 0;
            }
        }
    }
    if (!no_mmap && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t pos = lseek(fd, 0, SEEK_CUR);
        if (pos >= 0 && st.st_size >= pos)
            in->size = st.st_size - pos;
    }
    in->stream = 1;
    in->base = in->buf = NULL;
    return 0;
}

void in_close(struct input *in)
{
    if (in->map)
        munmap(in->map, in->maplen);
    free(in->buf);
    if (in->own_fd && in->fd >= 0)
        close(in->fd);
    memset(in, 0, sizeof *in);
    in->fd = -1;
}

int64_t in_fill(struct input *in, uint64_t upto)
{
    uint64_t have = in->base_off + in->len;
    if (!in->stream || upto <= have || in->eof)
        return (int64_t)have;
    if (upto - in->base_off > (uint64_t)(SIZE_MAX / 4))
        return CTRACE_READER_ENOMEM;
    size_t need = (size_t)(upto - in->base_off);
    if (need > in->cap) {
        size_t ncap = in->cap ? in->cap : 256 << 10;
        while (ncap < need)
            ncap *= 2;
        uint8_t *nb = realloc(in->buf, ncap);
        if (!nb)
            return CTRACE_READER_ENOMEM;
        in->buf = nb;
        in->base = nb;
        in->cap = ncap;
    }
    /* Read as much as fits: fewer syscalls, and the caller will want it. */
    while (in->len < need) {
        ssize_t n = read(in->fd, in->buf + in->len, in->cap - in->len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            in->err = errno;
            return CTRACE_READER_EIO;
        }
        if (n == 0) {
            in->eof = 1;
            break;
        }
        in->len += (size_t)n;
    }
    return (int64_t)(in->base_off + in->len);
}

void in_release(struct input *in, uint64_t off)
{
    if (in->map) {
        /* Drop consumed pages from our resident set (they stay in the page
         * cache): memory stays about one generation however big the file. */
        uintptr_t start = (uintptr_t)in->map;
        uintptr_t upto = (uintptr_t)(in->base + off);
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        upto &= ~(uintptr_t)(page - 1);
        if (upto > start + in->released + page * 256) {
            madvise((void *)(start + in->released), upto - start - in->released, MADV_DONTNEED);
            in->released = upto - start;
        }
        return;
    }
    if (!in->stream || off <= in->base_off)
        return;
    size_t drop = (size_t)(off - in->base_off);
    if (drop > in->len)
        drop = in->len;
    memmove(in->buf, in->buf + drop, in->len - drop);
    in->len -= drop;
    in->base_off += drop;
}

void in_discard(struct input *in, uint64_t off, uint64_t len)
{
    if (!in->map || len < IN_DISCARD_MIN)
        return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)in_ptr(in, off), b = a + len;
    a = (a + page - 1) & ~(page - 1);
    b &= ~(page - 1);
    if (b > a)
        madvise((void *)a, b - a, MADV_DONTNEED);
}
