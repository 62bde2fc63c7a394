/*
 * trace_file.c - the file ctrace_start_file creates (issue 8): mode 0600
 * whatever the umask lets through; an existing 0644 file of ours becomes
 * 0600; a symlink planted at the path is refused (CTRACE_EOPEN, ELOOP) and
 * its target left as it was.  check_program.sh validates the traces.
 */
#define _GNU_SOURCE
#include <ctrace.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* ---- file_mode ---- */

static void some_events(const char *what)
{
    ctrace_region_begin(0, what);
    ctrace_log(0, "hardening", what);
    ctrace_region_end(0, what);
}

static int file_mode(void)
{
    umask(022); /* lets 0644 through: the library must ask for less */
    unlink("mode.trace");
    CHECK_RC(ctrace_start_file("mode.trace"), CTRACE_OK, "ctrace_start_file(mode.trace)");
    some_events("mode");
    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop");
    struct stat st;
    CHECK(stat("mode.trace", &st) == 0 && (st.st_mode & 07777) == 0600,
          "a new trace file has mode 0600 (it has %o)", (unsigned)(st.st_mode & 07777));

    /* An existing, world-readable file of ours. */
    FILE *f = fopen("existing.trace", "w");
    fputs("old content\n", f);
    fclose(f);
    chmod("existing.trace", 0644);
    CHECK_RC(ctrace_start_file("existing.trace"), CTRACE_OK, "ctrace_start_file(existing.trace)");
    some_events("existing");
    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop");
    CHECK(stat("existing.trace", &st) == 0 && (st.st_mode & 07777) == 0600,
          "an existing 0644 trace file is made 0600 (it has %o)", (unsigned)(st.st_mode & 07777));

    /* A symlink planted at the path. */
    f = fopen("target.txt", "w");
    fputs("precious\n", f);
    fclose(f);
    unlink("link.trace");
    CHECK(symlink("target.txt", "link.trace") == 0, "symlink link.trace -> target.txt");
    errno = 0;
    int r = ctrace_start_file("link.trace");
    int e = errno;
    CHECK_RC(r, CTRACE_EOPEN, "ctrace_start_file on a symlink");
    CHECK(e == ELOOP, "errno is ELOOP (%s)", strerror(e));
    if (r == CTRACE_OK)
        ctrace_stop();
    char buf[64] = {0};
    f = fopen("target.txt", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    CHECK(n == 9 && strcmp(buf, "precious\n") == 0, "the link's target is untouched (%zu bytes)", n);
    struct stat lst;
    CHECK(lstat("link.trace", &lst) == 0 && S_ISLNK(lst.st_mode), "the link is still a link");
    CHECK(stat("target.txt", &st) == 0 && (st.st_mode & 07777) == 0644,
          "the target's mode is untouched (%o)", (unsigned)(st.st_mode & 07777));
    return t_finish();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    t_phase("file_mode", 60);
    return file_mode();
}
