/*
 * say.c - the runtime's one-line messages to the program's stderr.
 *
 * The tracer speaks rarely (a trace it cannot write, a sandbox it must
 * leave, a malformed CTRACE_* variable), and always on descriptor 2.  But
 * descriptor 2 is the program's: a program that closed its stderr gets
 * number 2 back from its next open(), socket() or pipe(), and a line
 * written there would land in its data (SQLite refuses descriptors 0-2
 * for its databases for that very reason).  So a line is written only
 * when descriptor 2
 *   - is the file it was at load (same device and inode: the stderr the
 *     program was started with, whatever it is), or
 *   - is something a program points its stderr at on purpose: a terminal
 *     or other character device, a pipe, a socket, or a file opened for
 *     appending (daemons' `dup2(logfd, 2)`).
 * Otherwise -- closed, or a regular file opened without O_APPEND that was
 * not there at load -- the line is dropped: a lost warning against a
 * corrupted file.
 *
 * Invariants: the load-time identity is written once, by ct_say_init in
 * the constructor (or by the first line, if one comes earlier, still at
 * load), before any thread of the tracer exists, and only read afterwards
 * (fork children inherit it with the descriptor table it describes; an
 * exec'd image records its own).  ct_say uses fstat, fcntl
 * and write only: async-signal-safe but for vsnprintf of plain %s/%d/%llu
 * formats, which take no lock.
 */
#define _GNU_SOURCE
#include "say.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libc.h"

static int at_load_known; /* ct_say_init ran                     */
static int at_load_valid; /* and descriptor 2 was open then     */
static dev_t at_load_dev;
static ino_t at_load_ino;

void ct_say_init(void)
{
    int e = errno;
    struct stat st;
    at_load_known = 1;
    if (fstat(STDERR_FILENO, &st) == 0) {
        at_load_dev = st.st_dev;
        at_load_ino = st.st_ino;
        at_load_valid = 1;
    }
    errno = e;
}

/* Whether descriptor 2 is a stderr a line may go to (see the head). */
static int stderr_is_ours_to_write(void)
{
    struct stat st;
    if (fstat(STDERR_FILENO, &st) != 0)
        return 0;
    if (at_load_valid && st.st_dev == at_load_dev && st.st_ino == at_load_ino)
        return 1;
    if (!S_ISREG(st.st_mode))
        return 1;
    int fl = fcntl(STDERR_FILENO, F_GETFL);
    return fl >= 0 && (fl & O_APPEND);
}

void ct_say(const char *fmt, ...)
{
    int e = errno;
    /* A line said before the constructor ran (another library's
     * constructor calling into the runtime): still at load. */
    if (!at_load_known)
        ct_say_init();
    char line[4096 + 160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0 && stderr_is_ours_to_write())
        (void)!ct_libc_write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    errno = e;
}
