/*
 * segvbench.c - CPU time per SIGSEGV a program takes on purpose (a guard
 * page: the handler unprotects the page and returns; the loop protects it
 * again), for segv_cost.sh.  Prints "ns/fault N" (CPU time of the process,
 * user+sys, per fault: mprotect twice, the fault, the handler, sigreturn).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static char *page;
static long psize;

static void fix(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si, (void)uc;
    mprotect(page, (size_t)psize, PROT_READ | PROT_WRITE);
}

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    psize = sysconf(_SC_PAGESIZE);
    page = mmap(NULL, (size_t)psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fix;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    double t0 = cpu_ns();
    for (long i = 0; i < n; i++) {
        mprotect(page, (size_t)psize, PROT_NONE);
        ((volatile char *)page)[i & 63] = 1;
    }
    printf("ns/fault %.0f\n", (cpu_ns() - t0) / (double)n);
    return 0;
}
