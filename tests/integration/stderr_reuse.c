/*
 * stderr_reuse.c - the tracer's stderr lines and a program that reuses
 * descriptor 2 (integration.stderr_reuse).
 *
 * Run with CTRACE_OUTPUT set, so that the program's own ctrace_start_file
 * makes the runtime say one line ("the program starts a trace of its
 * own...").  Modes:
 *   data FILE: closes stderr, opens FILE read-write (it gets number 2, as
 *              any open after close(2) does), writes its data there, then
 *              starts its own trace: FILE must hold the data alone.
 *   log FILE:  points stderr at FILE opened for appending (a daemon's
 *              dup2(logfd, 2)), then starts its own trace: the line goes
 *              to FILE, as any stderr line of the program would.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctrace.h"

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "data") && strcmp(argv[1], "log"))) {
        fprintf(stderr, "usage: %s data|log FILE OWN_TRACE\n", argv[0]);
        return 2;
    }
    if (!strcmp(argv[1], "data")) {
        close(STDERR_FILENO);
        int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd != STDERR_FILENO) {
            printf("FAIL: the data file got descriptor %d, not 2\n", fd);
            return 1;
        }
        static const char data[] = "DATA\n";
        if (write(fd, data, sizeof data - 1) != (ssize_t)sizeof data - 1)
            return 1;
    } else {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd < 0 || dup2(fd, STDERR_FILENO) != STDERR_FILENO)
            return 1;
        close(fd);
    }
    int r = ctrace_start_file(argv[3]);
    if (r != CTRACE_OK) {
        printf("FAIL: ctrace_start_file: %s\n", ctrace_strerror(r));
        return 1;
    }
    ctrace_stop();
    printf("ok: %s mode done\n", argv[1]);
    return 0;
}
