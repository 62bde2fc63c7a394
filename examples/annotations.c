/*
 * annotations.c - a toy request handler that shows every kind of user
 * annotation: nested tasks that span threads, nested regions (also the
 * scoped CTRACE_REGION helper), logs with ctrace_log/ctrace_logf, and thread
 * names (ctrace_thread_name and pthread_setname_np).
 *
 * For each of 3 requests, main begins a task "request" and a child task
 * "db-query"; a database thread ("db-worker") runs the query in a region
 * "query" of the child task; main handles the request in a region "handle"
 * with nested regions "parse" and "respond".
 *
 *   annotations [OUT.trace]     (default: $CTRACE_OUT, else annotations.trace)
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrace.h"

#define NREQUESTS 3

struct query {
    ctrace_task task; /* the "db-query" task this query belongs to */
    int request;
    long result;
};

static void *db_worker(void *arg)
{
    struct query *q = arg;
    ctrace_thread_name("db-worker");
    CTRACE_REGION(q->task, "query");
    ctrace_logf(q->task, "db", "SELECT * FROM items WHERE request = %d", q->request);
    long sum = 0;
    for (long i = 0; i < 100000; i++)
        sum += i % (q->request + 2);
    q->result = sum;
    return NULL;
}

static void *flusher(void *arg)
{
    (void)arg;
    /* Named the pthread way: ctrace picks the name up on first sight. */
    pthread_setname_np(pthread_self(), "bg-flusher");
    CTRACE_REGION(0, "flush");
    ctrace_log(0, "flusher", "flushed");
    return NULL;
}

static void handle_request(int n)
{
    ctrace_task req = ctrace_task_begin(0, "request");
    ctrace_logf(req, "http", "GET /items/%d", n);

    {
        CTRACE_REGION(req, "handle");
        {
            CTRACE_REGION(req, "parse");
            volatile int parsed = n * 7;
            (void)parsed;
        }

        ctrace_task sub = ctrace_task_begin(req, "db-query");
        struct query q = {sub, n, 0};
        pthread_t t;
        if (pthread_create(&t, NULL, db_worker, &q) == 0)
            pthread_join(t, NULL);
        ctrace_task_end(sub);

        ctrace_region_begin(req, "respond");
        ctrace_logf(req, "http", "200 OK (%ld)", q.result);
        ctrace_region_end(req, "respond");
    } /* "handle" ends here */

    ctrace_task_end(req);
}

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : getenv("CTRACE_OUT");
    if (out == NULL || *out == '\0')
        out = "annotations.trace";

    int err = ctrace_start_file(out);
    if (err != CTRACE_OK) {
        fprintf(stderr, "annotations: cannot trace to %s: %s (%s)\n", out,
                ctrace_strerror(err), strerror(errno));
        return 1;
    }
    ctrace_thread_name("main-loop");

    for (int i = 0; i < NREQUESTS; i++)
        handle_request(i);

    pthread_t f;
    if (pthread_create(&f, NULL, flusher, NULL) == 0)
        pthread_join(f, NULL);

    err = ctrace_stop();
    if (err != CTRACE_OK) {
        fprintf(stderr, "annotations: ctrace_stop: %s\n", ctrace_strerror(err));
        return 1;
    }
    printf("annotations: %d requests, trace in %s\n", NREQUESTS, out);
    return 0;
}
