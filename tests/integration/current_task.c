/*
 * current_task.c - the current task of a thread, task key=value pairs,
 * correlation ids and the length-taking forms (ctrace.h, issue 12).
 *
 * Writes current-task.trace; checks the API's own answers here (CHECK
 * lines) and leaves the trace's content to check_program.sh:
 *   - before tracing: the current task is a plain per-thread store
 *     (set and read back while tracing is off), which a CTRACE_TASK scope
 *     leaves alone while tracing is off;
 *   - main begins "request" with ctrace_task_begin_kv (request-id=r-42,
 *     user=alice), makes it current: a region "cur-region", logs "cur-log"
 *     and "cur-logf" named with task 0 land in "request"; a task begun
 *     with parent 0 ("other", "len-task") is its child; an explicit task
 *     argument wins ("explicit-log" in "other");
 *   - length-taking forms: a region "len-region", a log "len-log" with
 *     message "message" and a task "len-task", cut from longer buffers;
 *   - a C scope CTRACE_TASK "scoped" (child of "request", current inside,
 *     region "in-scoped"), restored after;
 *   - two worker threads each adopt a "job" task (child of "request",
 *     begun by main) with CTRACE_ADOPT_TASK: region "work" and a log
 *     "corr" whose message holds ctrace_goroutine_id() and
 *     ctrace_task_id() as the thread sees them ("g=G task=T"): the
 *     script checks them against the event's own G and Task;
 *   - a region "bg-region" with no current task is in no task;
 *   - prints "request-id-in-trace N" (ctrace_task_id of "request").
 */
#include <pthread.h>
#include <stdio.h>

#include "ctrace.h"
#include "testutil.h"

#define NJOBS 2

struct job {
    ctrace_task task;
    ctrace_task seen_inside, seen_after;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    {
        CTRACE_ADOPT_TASK(j->task);
        j->seen_inside = ctrace_task_current();
        CTRACE_REGION(0, "work");
        ctrace_logf(0, "corr", "g=%llu task=%llu", (unsigned long long)ctrace_goroutine_id(),
                    (unsigned long long)ctrace_task_id(ctrace_task_current()));
    }
    j->seen_after = ctrace_task_current();
    return NULL;
}

int main(void)
{
    /* The store works with tracing off (handles are then 0, but a handle
     * kept from elsewhere may be set). */
    CHECK(ctrace_task_current() == 0, "a thread starts with no current task");
    CHECK(ctrace_task_set_current(5) == 0, "set_current returns the previous task (0)");
    CHECK(ctrace_task_current() == 5, "current task read back while tracing is off");
    {
        CTRACE_TASK(off, "off");
        CHECK(off.task == 0 && ctrace_task_current() == 5,
              "CTRACE_TASK while tracing is off: no task, the current task left as it is");
    }
    CHECK(ctrace_task_current() == 5, "the end of an off CTRACE_TASK leaves the current task");
    CHECK(ctrace_task_set_current(0) == 5, "set_current returns the previous task (5)");
    CHECK(ctrace_task_id(0) == 0, "ctrace_task_id(0) is 0 (the background task)");

    int rc = ctrace_start_file("current-task.trace");
    CHECK_RC(rc, CTRACE_OK, "ctrace_start_file");
    if (rc != CTRACE_OK)
        return t_finish();

    ctrace_kv kv[] = {{"request-id", "r-42"}, {"user", "alice"}, {NULL, "skipped"}};
    ctrace_task req = ctrace_task_begin_kv(0, "request", kv, 3);
    CHECK(req != 0, "ctrace_task_begin_kv returns a task");
    printf("request-id-in-trace %llu\n", (unsigned long long)ctrace_task_id(req));
    CHECK(ctrace_task_id(req) > 0 && ctrace_task_id(req) < (1ull << 40),
          "ctrace_task_id(request) = %llu: a short id of this trace",
          (unsigned long long)ctrace_task_id(req));
    CHECK(ctrace_goroutine_id() > 0, "ctrace_goroutine_id() = %llu",
          (unsigned long long)ctrace_goroutine_id());

    ctrace_task prev = ctrace_task_set_current(req);
    CHECK(prev == 0 && ctrace_task_current() == req, "request is the current task");

    ctrace_region_begin(0, "cur-region");
    ctrace_log(0, "cur-log", "in request");
    ctrace_region_end(0, "cur-region");
    ctrace_logf(0, "cur-logf", "n=%d", 7);

    ctrace_task other = ctrace_task_begin(0, "other");
    ctrace_log(other, "explicit-log", "explicit task wins");
    ctrace_task_end(other);

    /* Length-taking forms: names cut out of longer strings. */
    ctrace_log_n(0, "len-log-not-this", 7, "message-not-this", 7);
    ctrace_region_stop(ctrace_region_start_n(0, "len-region-not-this", 10));
    ctrace_task_end(ctrace_task_begin_n(0, "len-task-not-this", 8));

    {
        CTRACE_TASK(scope, "scoped");
        CHECK(scope.task != 0 && ctrace_task_current() == scope.task,
              "CTRACE_TASK makes its task current");
        CTRACE_REGION(0, "in-scoped");
    }
    CHECK(ctrace_task_current() == req, "the end of CTRACE_TASK restores request");

    struct job jobs[NJOBS];
    pthread_t th[NJOBS];
    for (int i = 0; i < NJOBS; i++) {
        jobs[i].task = ctrace_task_begin(0, "job");
        jobs[i].seen_inside = jobs[i].seen_after = 1;
    }
    /* One at a time, so that the two corr logs come from two threads. */
    for (int i = 0; i < NJOBS; i++) {
        if (pthread_create(&th[i], NULL, worker, &jobs[i]) != 0) {
            CHECK(0, "pthread_create");
            continue;
        }
        pthread_join(th[i], NULL);
        CHECK(jobs[i].seen_inside == jobs[i].task, "worker %d: the adopted job is current", i);
        CHECK(jobs[i].seen_after == 0, "worker %d: no current task after the adopt scope", i);
        ctrace_task_end(jobs[i].task);
    }

    ctrace_task_set_current(prev);
    ctrace_task_end(req);
    ctrace_region_begin(0, "bg-region");
    ctrace_region_end(0, "bg-region");

    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop");
    return t_finish();
}
