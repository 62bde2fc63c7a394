/*
 * nonblock_fd.c - ctrace_start_fd on an O_NONBLOCK pipe whose reader (a
 * child process) is slower than the trace (issue 8): ctrace waits for the
 * pipe instead of failing at the first EAGAIN; nothing is lost and stop
 * reports success.  check_program.sh validates the trace the reader saved
 * and counts its logs.
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

/* ---- nonblock ---- */

#define NB_LOGS 20000

static void slow_reader(int rfd, const char *path)
{
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0)
        _exit(2);
    char buf[4096];
    for (;;) {
        ssize_t n = read(rfd, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            _exit(3);
        }
        for (ssize_t o = 0; o < n;) {
            ssize_t w = write(out, buf + o, (size_t)(n - o));
            if (w <= 0)
                _exit(4);
            o += w;
        }
        struct timespec ts = {0, 1000000}; /* 1 ms per 4 KiB: slower than us */
        nanosleep(&ts, NULL);
    }
    close(out);
    _exit(0);
}

static int nonblock(void)
{
    int p[2];
    if (pipe(p) != 0) {
        perror("pipe");
        return 1;
    }
    pid_t child = fork();
    if (child == 0) {
        close(p[1]);
        slow_reader(p[0], "nonblock.trace");
    }
    close(p[0]);
    fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
    CHECK_RC(ctrace_start_fd(p[1]), CTRACE_OK, "ctrace_start_fd(non-blocking pipe)");
    char msg[128];
    memset(msg, 'x', sizeof msg - 1);
    msg[sizeof msg - 1] = 0;
    for (int i = 0; i < NB_LOGS; i++)
        ctrace_log(0, "nb", msg); /* ~2.5 MB: far more than a pipe holds */
    ctrace_stats st;
    int r = ctrace_stop();
    ctrace_get_stats(&st);
    CHECK_RC(r, CTRACE_OK, "ctrace_stop (no write error on EAGAIN)");
    CHECK(st.events_dropped == 0, "no events dropped (%llu)", (unsigned long long)st.events_dropped);
    close(p[1]);
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the reader exited 0 (status %d)", status);
    printf("logs %d\n", NB_LOGS);
    return t_finish();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    t_phase("nonblock", 60);
    return nonblock();
}
