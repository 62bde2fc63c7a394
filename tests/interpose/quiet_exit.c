/* quiet_exit.c - a program that calls nothing the tracer interposes before
 * it ends: its main thread is known to the trace only through the statuses
 * written when tracing started.  Its end must still be recorded, at the
 * exit (case exit_end of run_case.sh).
 *
 *   quiet_exit          returns 3 from main
 *   quiet_exit exit     exit(4)
 *   quiet_exit _exit    _exit(5)
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    volatile unsigned long spin = 0;
    for (unsigned long i = 0; i < 1000000; i++)
        spin += i; /* some work between the start and the end */
    if (argc > 1 && strcmp(argv[1], "exit") == 0)
        exit(4);
    if (argc > 1 && strcmp(argv[1], "_exit") == 0)
        _exit(5);
    return 3;
}
