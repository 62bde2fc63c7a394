/*
 * task_ids.c - task ids are numbered afresh in each trace (src/runtime/
 * annotate.c) and still never alias.  Three traces:
 *   task-ids-1.trace: tasks old-a (left open) and old-b (ended);
 *   task-ids-2.trace: 2 threads begin and end 3000 "bulk" tasks each, and
 *     new-c is begun as a child of old-a, old-a gets a region and a log and
 *     is ended (its begin is in trace 1);
 *   task-ids-3.trace: one task "third".
 * The driver (check_program.sh task_ids) validates all three with Go 1.22
 * and 1.23 and checks from Go's text: ids unique within each trace, small
 * (numbering restarted), and old-a's id in trace 2 different from every task
 * begun there.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

#include "ctrace.h"
#include "testutil.h"

#define BULK 3000

static void *bulk(void *arg)
{
    (void)arg;
    for (int i = 0; i < BULK; i++) {
        ctrace_task t = ctrace_task_begin(0, "bulk");
        ctrace_task_end(t);
    }
    return NULL;
}

int main(void)
{
    t_phase("task_ids", 60);
    CHECK_RC(ctrace_start_file("task-ids-1.trace"), CTRACE_OK, "start trace 1");
    ctrace_task a = ctrace_task_begin(0, "old-a");
    ctrace_task b = ctrace_task_begin(a, "old-b");
    ctrace_task_end(b);
    CHECK_RC(ctrace_stop(), CTRACE_OK, "stop trace 1");

    CHECK_RC(ctrace_start_file("task-ids-2.trace"), CTRACE_OK, "start trace 2");
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, bulk, NULL);
    ctrace_task c = ctrace_task_begin(a, "new-c");
    ctrace_region_begin(a, "old-a-region");
    ctrace_log(a, "old-a-log", "in a task of trace 1");
    ctrace_region_end(a, "old-a-region");
    ctrace_task_end(a);
    ctrace_task_end(c);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK_RC(ctrace_stop(), CTRACE_OK, "stop trace 2");

    CHECK_RC(ctrace_start_file("task-ids-3.trace"), CTRACE_OK, "start trace 3");
    ctrace_task_end(ctrace_task_begin(0, "third"));
    CHECK_RC(ctrace_stop(), CTRACE_OK, "stop trace 3");

    CHECK(a && b && c && a != b && a != c && b != c, "handles nonzero and distinct (%llx %llx %llx)",
          (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
    return t_finish();
}
