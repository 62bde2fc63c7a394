/*
 * test_dlclose.c - symbolization while the program loads and unloads
 * modules.  A module that is dlclose'd while tracing with stacks is dropped
 * from the symbolizer's module list the next time the list is re-read (a
 * PC of a module dlopen'ed later triggers that); this used to free a
 * pointer libdw had not allocated and abort the traced program.
 *
 *   test_dlclose OUT.trace MODULE_A MODULE_B
 *
 * Exits 0 if the program survives and tracing stopped cleanly; the caller
 * checks the trace (Go's parsers, and the stacks name both modules'
 * functions).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>

#include "ctrace.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Loads path, calls its emit function sym a few times, unloads it after
 * the generation holding the events has been symbolized. */
static int use_module(const char *path, const char *sym)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("FAIL: dlopen %s: %s\n", path, dlerror());
        return 1;
    }
    void (*emit)(const char *) = (void (*)(const char *))dlsym(h, sym);
    if (!emit) {
        printf("FAIL: dlsym %s: %s\n", sym, dlerror());
        dlclose(h);
        return 1;
    }
    for (int i = 0; i < 3; i++)
        emit(sym);
    sleep_ms(200); /* several 50 ms generations: the stacks get symbolized */
    dlclose(h);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_dlclose OUT.trace MODULE_A MODULE_B\n");
        return 2;
    }
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.period_ns = 50ull * 1000 * 1000;
    cfg.stacks = CTRACE_STACKS_FP;
    cfg.cpu_hz = 0;
    int rc = ctrace_configure(&cfg);
    if (rc == CTRACE_OK)
        rc = ctrace_start_file(argv[1]);
    if (rc != CTRACE_OK) {
        printf("FAIL: start: %s\n", ctrace_strerror(rc));
        return 1;
    }
    int failed = use_module(argv[2], "dlmod_a_emit");
    failed += use_module(argv[3], "dlmod_b_emit");
    rc = ctrace_stop();
    if (rc != CTRACE_OK) {
        printf("FAIL: ctrace_stop: %s\n", ctrace_strerror(rc));
        failed++;
    }
    printf("%s: test_dlclose ran to the end\n", failed ? "FAIL" : "ok");
    return failed ? 1 : 0;
}
