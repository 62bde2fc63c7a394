/*
 * gencut.c - finds the generations of a Go v2 execution trace (go 1.22/1.23
 * headers) from its batch headers alone, and cuts a trace whose end may be
 * damaged (a process killed mid-write) after its last complete generation.
 *
 *   gencut FILE          prints the generations found and where the last one starts
 *   gencut FILE OUT      also writes FILE cut before its last generation to OUT
 *
 * A batch is: byte 1 (EvEventBatch), uvarint generation, uvarint thread,
 * uvarint timestamp, uvarint length, then length bytes.  Batches of a
 * generation come before those of the next, so every generation but the
 * last one in the file is complete; the last one may not be (it may lack
 * batches, its string/stack tables or its frequency batch), so it is cut.
 * Exit status: 0 if at least one complete generation was found, 1 if not,
 * 2 on usage or I/O errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *p; /* the whole file */

static int uvarint(const unsigned char *p, size_t n, size_t *off, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*off >= n)
            return -1;
        unsigned char b = p[(*off)++];
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gencut FILE [OUT]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    size_t cap = 1 << 20, n = 0;
    p = malloc(cap);
    size_t r;
    while (p && (r = fread(p + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            p = realloc(p, cap *= 2);
    }
    fclose(f);
    if (!p) {
        fprintf(stderr, "gencut: out of memory\n");
        return 2;
    }
    if (n < 16 || memcmp(p, "go 1.", 5) != 0 || memcmp(p + 7, " trace", 6) != 0) {
        fprintf(stderr, "gencut: %s: not a Go v2 trace header\n", argv[1]);
        return 1;
    }
    printf("header: %.13s\n", (const char *)p);

    size_t off = 16, last_gen_start = 16, batches = 0;
    uint64_t gen = 0, ngens = 0;
    const char *tail = "ends at a batch boundary";
    while (off < n) {
        size_t start = off;
        uint64_t g, m, ts, len;
        if (p[off] != 1) {
            tail = "ends in something that is not a batch";
            break;
        }
        off++;
        if (uvarint(p, n, &off, &g) || uvarint(p, n, &off, &m) || uvarint(p, n, &off, &ts) ||
            uvarint(p, n, &off, &len)) {
            tail = "ends inside a batch header";
            break;
        }
        if (len > n - off) {
            tail = "ends inside a batch";
            break;
        }
        off += len;
        if (g != gen) {
            if (g < gen) {
                printf("generation %llu after %llu at offset %zu: out of order\n",
                       (unsigned long long)g, (unsigned long long)gen, start);
                return 1;
            }
            gen = g;
            ngens++;
            last_gen_start = start;
        }
        batches++;
    }
    printf("batches: %zu\ngenerations: %llu (last: %llu)\ntail: %s\n", batches,
           (unsigned long long)ngens, (unsigned long long)gen, tail);
    printf("complete: %llu generations in %zu bytes (of %zu)\n",
           (unsigned long long)(ngens ? ngens - 1 : 0), last_gen_start, n);
    if (argc > 2) {
        FILE *o = fopen(argv[2], "wb");
        if (!o || fwrite(p, 1, last_gen_start, o) != last_gen_start || fclose(o) != 0) {
            perror(argv[2]);
            return 2;
        }
    }
    free(p);
    return ngens >= 2 ? 0 : 1;
}
