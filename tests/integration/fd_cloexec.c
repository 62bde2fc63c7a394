/*
 * fd_cloexec.c - descriptors (issue 8): every one the library opens while
 * tracing (the trace file, the symbolizer's ELF and debug files) is
 * close-on-exec, and none of them is open after ctrace_stop.  Run with
 * CTRACE_PERIOD=50ms (the symbolizer runs at each generation's end): as
 * is, with CTRACE_SYMBOLIZE=full (libraries' debug files), and with
 * CTRACE_STACKS=unwind (libunwind's own pipe pair may stay, see below; so
 * may it in the default mode, auto, which loads libunwind when a module
 * lacks frame pointers: the C library of most distributions).
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

/* ---- fds ---- */

#define MAX_FDS 1024

/* Open descriptors of the process (the listing's own one excluded). */
static int list_fds(int *fds)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int self = dirfd(d);
    struct dirent *de;
    while ((de = readdir(d)) && n < MAX_FDS) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        int fd = atoi(de->d_name);
        if (fd != self)
            fds[n++] = fd;
    }
    closedir(d);
    return n;
}

static int in_list(int fd, const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] == fd)
            return 1;
    return 0;
}

static void describe(int fd, char *out, size_t size)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(p, out, size - 1);
    out[n > 0 ? n : 0] = 0;
}

/* Work whose stacks the symbolizer must resolve (libc frames included). */
__attribute__((noinline)) static void stacky(int i)
{
    char name[32];
    snprintf(name, sizeof name, "stacky-%d", i % 4);
    ctrace_region_begin(0, name);
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
    ctrace_log(0, "fds", name);
    ctrace_region_end(0, name);
}

static int fds_mode(void)
{
    static int before[MAX_FDS], during[MAX_FDS], after[MAX_FDS];
    int nb = list_fds(before);
    CHECK(nb > 0, "listed /proc/self/fd before tracing (%d open)", nb);
    CHECK_RC(ctrace_start_file("fds.trace"), CTRACE_OK, "ctrace_start_file");
    int leaks = 0, checked = 0;
    /* Generations of 50 ms (CTRACE_PERIOD from the test): the symbolizer
     * runs at each generation's end, so look several times. */
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < 40; i++)
            stacky(i);
        t_sleep_ms(60);
        int nd = list_fds(during);
        for (int i = 0; i < nd; i++) {
            if (in_list(during[i], before, nb))
                continue;
            checked++;
            int fl = fcntl(during[i], F_GETFD);
            if (fl >= 0 && !(fl & FD_CLOEXEC)) {
                char what[256];
                describe(during[i], what, sizeof what);
                if (leaks++ < 10)
                    printf("  fd %d (%s) is not close-on-exec\n", during[i], what);
            }
        }
    }
    CHECK(checked > 0, "descriptors opened by ctrace while tracing were seen (%d)", checked);
    CHECK(leaks == 0, "every descriptor ctrace opened is close-on-exec (%d are not)", leaks);
    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop");
    /* With CTRACE_STACKS=unwind or auto (the default), libunwind opens a pipe pair of its own at
     * its initialization (to check addresses before reading them) and
     * keeps it for the life of the process: it has no call to close it.
     * Those two may stay -- close-on-exec, checked above and again here. */
    const char *stacks = getenv("CTRACE_STACKS");
    int unwind = !stacks || !*stacks || !strcmp(stacks, "unwind") || !strcmp(stacks, "auto");
    int na = list_fds(after), left = 0, unw_pipes = 0;
    for (int i = 0; i < na; i++) {
        if (in_list(after[i], before, nb))
            continue;
        char what[256];
        describe(after[i], what, sizeof what);
        int fl = fcntl(after[i], F_GETFD);
        if (unwind && !strncmp(what, "pipe:", 5) && fl >= 0 && (fl & FD_CLOEXEC) &&
            unw_pipes < 2) {
            unw_pipes++;
            printf("  fd %d (%s): libunwind's, close-on-exec\n", after[i], what);
            continue;
        }
        if (left++ < 10)
            printf("  fd %d (%s) is still open after ctrace_stop\n", after[i], what);
    }
    CHECK(left == 0, "no descriptor opened by ctrace is open after stop (%d are)", left);
    return t_finish();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    t_phase("fds", 60);
    return fds_mode();
}
