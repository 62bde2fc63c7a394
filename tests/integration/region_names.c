/*
 * region_names.c - region names that do not outlive the call (issue 8):
 *   transient  regions named from stack buffers overwritten or gone before
 *              the end (only ctrace_region_begin/end: with
 *              REGION_NAMES_OLD_API it builds against the old header, to
 *              run on the library before the fix)
 *   handle     the handle API (ctrace_region_start/stop, the CTRACE_REGION
 *              scope) with transient names, handles used on another thread,
 *              names past the per-thread room
 * check_program.sh validates the traces with Go's parsers and counts their
 * regions.
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

/* ---- region_transient ---- */

/* Begins a region named in this frame's buffer, gone when it returns. */
__attribute__((noinline)) static void begin_in_local_buffer(int i)
{
    char name[32];
    snprintf(name, sizeof name, "req-%d", i);
    ctrace_region_begin(0, name);
}

/* Writes over the stack where that buffer was. */
__attribute__((noinline)) static void scribble_stack(void)
{
    volatile char junk[256];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)('A' + i % 26);
    (void)junk[0];
}

static int region_transient(void)
{
    CHECK_RC(ctrace_start_file("transient.trace"), CTRACE_OK, "ctrace_start_file");
    /* A buffer reused for another name before the end. */
    char buf[32];
    strcpy(buf, "outer");
    ctrace_region_begin(0, buf);
    strcpy(buf, "other");
    ctrace_region_end(0, buf);     /* no region "other" is open: ignored */
    ctrace_region_end(0, "outer"); /* the content, not the pointer, ends it */
    /* A buffer gone out of scope (and written over) before the end. */
    begin_in_local_buffer(7);
    scribble_stack();
    ctrace_region_end(0, "req-7");
    /* The same buffer naming nested regions in turn. */
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, "level-%d", i);
        ctrace_region_begin(0, buf);
    }
    for (int i = 2; i >= 0; i--) {
        snprintf(buf, sizeof buf, "level-%d", i);
        ctrace_region_end(0, buf);
    }
    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop");
    return t_finish();
}

/* ---- region_handle ---- */

/* REGION_NAMES_OLD_API: built against a header without the handle API (to
 * run the other modes on the library before issue 8). */
#ifndef REGION_NAMES_OLD_API

static ctrace_region shared_handle;

static void *stop_elsewhere(void *arg)
{
    (void)arg;
    ctrace_region_stop(shared_handle); /* not this thread's: ignored */
    ctrace_region_end(0, "cross");     /* nor is this region open here */
    return NULL;
}

__attribute__((noinline)) static void scoped(int i)
{
    char name[32];
    snprintf(name, sizeof name, "scope-%d", i);
    CTRACE_REGION(0, name);
    strcpy(name, "scribbled"); /* the scope ends through its handle */
    ctrace_log(0, "scope", "inside");
}

static int region_handle(void)
{
    CHECK(ctrace_region_start(0, "off") == 0, "a region started while off has handle 0");
    ctrace_region_stop(0);
    CHECK_RC(ctrace_start_file("handle.trace"), CTRACE_OK, "ctrace_start_file");
    char buf[32];
    strcpy(buf, "handle-a");
    ctrace_region h = ctrace_region_start(0, buf);
    CHECK(h != 0, "a handle while tracing");
    strcpy(buf, "overwritten");
    ctrace_region_stop(h);
    ctrace_region_stop(h); /* twice: ignored */

    /* Stopping an outer region stops the ones inside. */
    ctrace_region outer = ctrace_region_start(0, "handle-outer");
    ctrace_region_start(0, "handle-inner");
    ctrace_region_stop(outer);

    /* A handle used on another thread does nothing there. */
    shared_handle = ctrace_region_start(0, "cross");
    pthread_t th;
    pthread_create(&th, NULL, stop_elsewhere, NULL);
    pthread_join(th, NULL);
    ctrace_region_stop(shared_handle);

    for (int i = 0; i < 3; i++)
        scoped(i);

    /* More names than the thread keeps (2 KiB): the region that does not
     * fit is not written, and counted as dropped. */
    char big[1001];
    memset(big, 'n', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ctrace_stats before, after;
    ctrace_get_stats(&before);
    ctrace_region b1 = ctrace_region_start(0, big);
    big[0] = 'm';
    ctrace_region b2 = ctrace_region_start(0, big);
    big[0] = 'o';
    ctrace_region b3 = ctrace_region_start(0, big); /* 3000 bytes: no room */
    ctrace_get_stats(&after);
    CHECK(after.events_dropped == before.events_dropped + 1,
          "the region without room for its name is counted dropped (%llu -> %llu)",
          (unsigned long long)before.events_dropped, (unsigned long long)after.events_dropped);
    CHECK(b3 != 0, "it still has a handle");
    ctrace_region_stop(b3);
    ctrace_region_stop(b2);
    ctrace_region_end(0, big); /* "o...": not open (not written): ignored */
    ctrace_region_stop(b1);
    ctrace_region_begin(0, "after-big");
    ctrace_region_end(0, "after-big");
    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop");
    return t_finish();
}

#endif /* REGION_NAMES_OLD_API */

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    t_phase(mode, 60);
    if (!strcmp(mode, "transient"))
        return region_transient();
#ifndef REGION_NAMES_OLD_API
    if (!strcmp(mode, "handle"))
        return region_handle();
#endif
    fprintf(stderr, "usage: %s transient|handle\n", argv[0]);
    return 2;
}
