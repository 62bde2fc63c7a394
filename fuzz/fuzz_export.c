/*
 * fuzz_export.c - libFuzzer target for what consumes the reader's events:
 * `ctrace export` (src/export: perfetto, chrome, csv, go1.19) and the
 * computations of `ctrace stat` and `ctrace pprof` (src/analysis, through
 * stat_report and pprof_report of src/tools/commands.h).  Seeds: every
 * testdata/traces fixture (v1 and v2), the seeds of fuzz_symbolize
 * (libctrace traces) and of fuzz_v2, plus
 * fuzz/seeds/fuzz_export: the regressions (regress-*, each the input of a
 * tests/export/fuzz_regressions.sh case) and seeds with what the fixtures
 * lack (seed-*: a hand-written v1 trace with tasks, unmatched regions,
 * logs and labels in odd bytes; a libctrace trace of random API calls with
 * invalid UTF-8, quotes and control characters in every string).
 *
 * Each input is written to one memfd reused across runs and opened by its
 * /proc/self/fd path, as the tools open files.  Whatever the reader
 * accepts, and whatever it rejects midway, must export and analyse without
 * a crash, hang, leak or sanitizer report; and, as export.h promises, the
 * output of a run that did not fail on output (status 0 or 1) is complete
 * and valid, which is checked here (abort otherwise):
 *  - chrome: strict JSON (RFC 8259) in valid UTF-8;
 *  - perfetto: a Trace whose every field is a TracePacket (field 1,
 *    length-delimited) and every packet well-formed protobuf wire format;
 *  - go1.19: a trace the reader reads to its end without an error, which
 *    starts with a batch;
 *  - csv: every table starts with its header, every row has the header's
 *    number of fields (RFC 4180 quoting), ends with "\n" and is valid UTF-8.
 * perfetto merges the input with itself (two inputs), so the k-way merge
 * and the per-input sequences run too.  chrome runs on one thread and on
 * two (its calls through the relay, src/export/relay.c), which must give
 * the same bytes and the same exit; csv takes one, two or three by the
 * input's size (three: the relay and the reader's read-ahead together).
 */
#define _GNU_SOURCE
#include "commands.h"
#include "ctrace_reader.h"
#include "export.h"
#include "utf8.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int input_fd = -1;
static char input_path[64];
/* On tmpfs when there is one: creating nine files per run on a disk file
 * system (ext4: a new inode each) took a fifth of the run's time. */
static char csv_dir[] = "/dev/shm/fuzz_export.XXXXXX";
static FILE *devnull;

static void remove_csv_files(void)
{
    DIR *d = opendir(csv_dir);
    if (!d)
        return;
    struct dirent *e;
    char p[sizeof csv_dir + 300];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", csv_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

static void remove_csv_dir(void)
{
    remove_csv_files();
    rmdir(csv_dir);
}

static void setup(void)
{
    input_fd = memfd_create("fuzz_export", 0);
    if (input_fd < 0)
        abort();
    if (!mkdtemp(csv_dir)) {
        memcpy(csv_dir, "/tmp/fuzz_export.XXXXXX", sizeof "/tmp/fuzz_export.XXXXXX");
        if (!mkdtemp(csv_dir))
            abort();
    }
    snprintf(input_path, sizeof input_path, "/proc/self/fd/%d", input_fd);
    devnull = fopen("/dev/null", "w");
    if (!devnull)
        abort();
    atexit(remove_csv_dir);
}

/* ---- the JSON check (chrome) ------------------------------------------ */

struct json {
    const unsigned char *p, *end;
    int depth;
};

static void json_ws(struct json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int json_lit(struct json *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
        return 0;
    j->p += n;
    return 1;
}

static int json_string(struct json *j)
{
    if (j->p >= j->end || *j->p != '"')
        return 0;
    for (j->p++; j->p < j->end;) {
        unsigned c = *j->p;
        if (c == '"') {
            j->p++;
            return 1;
        } else if (c < 0x20) {
            return 0;
        } else if (c == '\\') {
            if (++j->p >= j->end)
                return 0;
            c = *j->p++;
            if (c == 'u') {
                for (int i = 0; i < 4; i++, j->p++)
                    if (j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p) || !*j->p)
                        return 0;
            } else if (!strchr("\"\\/bfnrt", (int)c) || !c) {
                return 0;
            }
        } else if (c >= 0x80) {
            int k = utf8_seq_len(j->p, j->end);
            if (!k)
                return 0;
            j->p += k;
        } else {
            j->p++;
        }
    }
    return 0;
}

static int json_number(struct json *j)
{
    const unsigned char *s = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
        return 0;
    if (*j->p == '0')
        j->p++;
    else
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    if (j->p < j->end && *j->p == '.') {
        const unsigned char *f = ++j->p;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
        if (j->p == f)
            return 0;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        const unsigned char *x = j->p;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
        if (j->p == x)
            return 0;
    }
    return j->p > s;
}

static int json_value(struct json *j)
{
    json_ws(j);
    if (j->p >= j->end || ++j->depth > 64)
        return 0;
    int ok;
    unsigned c = *j->p;
    if (c == '{' || c == '[') {
        unsigned close = c == '{' ? '}' : ']';
        j->p++;
        json_ws(j);
        ok = 1;
        if (j->p < j->end && *j->p == close) {
            j->p++;
        } else {
            for (;;) {
                if (c == '{') {
                    json_ws(j);
                    if (!json_string(j))
                        return 0;
                    json_ws(j);
                    if (j->p >= j->end || *j->p++ != ':')
                        return 0;
                }
                if (!json_value(j))
                    return 0;
                json_ws(j);
                if (j->p >= j->end)
                    return 0;
                if (*j->p == close) {
                    j->p++;
                    break;
                }
                if (*j->p++ != ',')
                    return 0;
            }
        }
    } else if (c == '"') {
        ok = json_string(j);
    } else if (c == 't' || c == 'f' || c == 'n') {
        ok = json_lit(j, "true") || json_lit(j, "false") || json_lit(j, "null");
    } else {
        ok = json_number(j);
    }
    j->depth--;
    return ok;
}

static int json_valid(const char *p, size_t n)
{
    struct json j = {(const unsigned char *)p, (const unsigned char *)p + n, 0};
    if (!json_value(&j))
        return 0;
    json_ws(&j);
    return j.p == j.end;
}

/* ---- the protobuf check (perfetto) ------------------------------------ */

static int pb_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return 0;
        unsigned b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 1;
    }
    return 0;
}

/* Fields of one message: well-formed wire format, of field numbers > 0;
 * only_packets: each is field 1, length-delimited (a Trace). */
static int pb_valid(const unsigned char *p, const unsigned char *end, int only_packets)
{
    while (p < end) {
        uint64_t key, v;
        if (!pb_varint(&p, end, &key) || key >> 3 == 0)
            return 0;
        unsigned wt = key & 7;
        if (only_packets && key != ((1u << 3) | 2))
            return 0;
        if (wt == 0) {
            if (!pb_varint(&p, end, &v))
                return 0;
        } else if (wt == 1 || wt == 5) {
            if ((size_t)(end - p) < (wt == 1 ? 8u : 4u))
                return 0;
            p += wt == 1 ? 8 : 4;
        } else if (wt == 2) {
            if (!pb_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return 0;
            if (only_packets && !pb_valid(p, p + v, 0))
                return 0;
            p += v;
        } else {
            return 0;
        }
    }
    return 1;
}

/* ---- the CSV check ------------------------------------------------------ */

/* Fields in the row at *p (moved past its "\n"), or -1 if it is not one. */
static long csv_row(const unsigned char **pp, const unsigned char *end)
{
    const unsigned char *p = *pp;
    long fields = 1;
    for (;;) {
        if (p < end && *p == '"') {
            for (p++;;) {
                if (p >= end)
                    return -1;
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (*p >= 0x80) {
                    int k = utf8_seq_len(p, end);
                    if (!k)
                        return -1;
                    p += k;
                } else if (*p == 0) {
                    return -1;
                } else {
                    p++;
                }
            }
        } else {
            while (p < end && *p != ',' && *p != '\n') {
                if (*p == '"' || *p == '\r' || *p >= 0x80 || *p == 0)
                    return -1;
                p++;
            }
        }
        if (p >= end)
            return -1; /* every row ends with "\n" */
        if (*p == '\n') {
            *pp = p + 1;
            return fields;
        }
        if (*p != ',')
            return -1;
        p++;
        fields++;
    }
}

static void check_csv_table(const char *name)
{
    char path[sizeof csv_dir + 300];
    snprintf(path, sizeof path, "%s/%s", csv_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        abort();
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap && !(buf = realloc(buf, cap = cap ? cap * 2 : 65536)))
            abort();
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got);
    fclose(f);
    const unsigned char *p = (const unsigned char *)buf, *end = p + n;
    long header = csv_row(&p, end);
    if (header < 1)
        abort();
    while (p < end)
        if (csv_row(&p, end) != header)
            abort();
    free(buf);
}

static void check_csv(void)
{
    DIR *d = opendir(csv_dir);
    if (!d)
        abort();
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            check_csv_table(e->d_name);
    closedir(d);
}

/* ---- the run ------------------------------------------------------------ */

/* export_run to an in-memory stream; *out is the output (to free). */
static int export_mem(const char *const *paths, size_t n, enum export_format fmt, unsigned threads,
                      char **out, size_t *len)
{
    FILE *f = open_memstream(out, len);
    if (!f)
        abort();
    int rc = export_run(paths, n, fmt, threads, f, NULL, devnull, NULL);
    if (fclose(f) != 0)
        abort();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (input_fd < 0)
        setup();
    if (ftruncate(input_fd, 0) != 0 || (size && pwrite(input_fd, data, size, 0) != (ssize_t)size))
        abort();
    const char *paths[2] = {input_path, input_path};
    char *out;
    size_t len;

    if (export_mem(paths, 2, EXPORT_PERFETTO, 1, &out, &len) < 2 &&
        !pb_valid((const unsigned char *)out, (const unsigned char *)out + len, 1))
        abort();
    free(out);

    int rc = export_mem(paths, 1, EXPORT_CHROME, 1, &out, &len);
    if (rc < 2 && !json_valid(out, len))
        abort();
    /* With two threads the calls go through the relay (relay.c): the
     * same bytes and the same exit. */
    char *out2;
    size_t len2;
    if (export_mem(paths, 1, EXPORT_CHROME, 2, &out2, &len2) != rc || len2 != len ||
        memcmp(out, out2, len) != 0) {
        fprintf(stderr, "fuzz_export: the chrome export differs with two threads\n");
        abort();
    }
    free(out2);
    free(out);

    /* The go1.19 export must be a valid v1 trace for every input: of an
     * invalid one (exit 1) it holds the events read before the error. */
    if (export_mem(paths, 1, EXPORT_GO119, 1, &out, &len) < 2) {
        /* Every event after the header is in a batch: Go 1.22+ and the
         * reader skip a string before the first one (and the check below
         * would not see it). */
        if (len > 16 && ((unsigned char)out[16] & 0x3f) != 1)
            abort();
        ctrace_reader *r = NULL;
        int rc = ctrace_reader_open_mem(out, len, 0, &r);
        while (rc == 0 && (rc = ctrace_reader_check(r, UINT64_MAX)) == 1)
            ;
        if (rc != 0) {
            uint64_t off = 0;
            const char *msg = r ? ctrace_reader_error(r, &off) : NULL;
            fprintf(stderr, "fuzz_export: the go1.19 export is not a valid trace: %s at %llu: %s\n",
                    ctrace_reader_strerror(rc), (unsigned long long)off, msg ? msg : "");
            abort();
        }
        ctrace_reader_close(r);
    }
    free(out);

    /* CSV writes nine files per run: cheap on tmpfs next to the reads, so
     * every input gets it. */
    if (export_run(paths, 1, EXPORT_CSV, 1 + (unsigned)(size % 3), NULL, csv_dir, devnull, NULL) < 2)
        check_csv();
    remove_csv_files();

    /* Each of these reads the input again, and reading is most of a run's
     * time: the text and JSON reports (one computation) take turns, and so
     * do the four pprof kinds goprof.c computes in one way (sync, net,
     * syscall, sched); cpu and region have code of their own. */
    stat_report(input_path, size & 1, 10, 1, devnull, devnull);
    static const char *const goprof_kinds[] = {"sync", "net", "syscall", "sched"};
    pprof_report(goprof_kinds[(size >> 1) & 3], input_path, "/dev/null", 100, 1, devnull);
    pprof_report("cpu", input_path, "/dev/null", 100, 1, devnull);
    pprof_report("region", input_path, "/dev/null", 100, 1, devnull);
    return 0;
}
