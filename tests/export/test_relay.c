/*
 * test_relay.c - the export relay (src/export/relay.c) against a recording
 * sink: every call arrives on the relay's thread, in order, with the same
 * fields (the track as the relay's one copy per uuid, a slice_end's name
 * and a track's name copied, 100 KB ones too, which outgrow a block);
 * generation() returns only once every call before it has been made;
 * track_done frees the copy and a track declared again gets one anew; an
 * output error of the relay's thread comes back as -1 from a later call
 * and from finish() with its errno; a call on a track never declared
 * fails the export (finish -1) instead of reaching the sink; destroy
 * without finish joins the thread.  Exits 1 on the first mismatch.
 */
#include "sink.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                           \
    do {                                                                   \
        if (!(c)) {                                                        \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);   \
            return 1;                                                      \
        }                                                                  \
    } while (0)

/* What the recording sink saw. */
struct rec {
    struct export_sink s;
    pthread_t caller;
    int wrong_thread;
    int fail_at;    /* the call (counted from 1) that fails, 0: none */
    int fail_errno;
    int calls, tracks, begins, ends, completes, instants, counters, gens, dones, finished;
    int64_t sum_ts, sum_value, sum_dur;
    uint64_t sum_flows, sum_args;
    size_t long_name_len; /* a slice_end's or track's name of 100 KB */
    int long_name_ok;
    int same_track_ptr;   /* end_first == track seen */
    const struct export_track *last_track;
    char track_name[64];
};

static int count(struct rec *R)
{
    if (pthread_equal(pthread_self(), R->caller))
        R->wrong_thread = 1;
    R->calls++;
    if (R->fail_at && R->calls >= R->fail_at) {
        errno = R->fail_errno;
        return -1;
    }
    return 0;
}

static int long_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != (char)('a' + i % 26))
            return 0;
    return s[len] == 0;
}

static int f_track(struct export_sink *s, const struct export_track *t)
{
    struct rec *R = (struct rec *)s;
    R->tracks++;
    size_t len = strlen(t->name);
    if (len > 1000) {
        R->long_name_len = len;
        R->long_name_ok = long_ok(t->name, len);
    } else {
        snprintf(R->track_name, sizeof R->track_name, "%.63s", t->name);
    }
    R->sum_ts += t->ts;
    return count(R);
}

static void sum_event(struct rec *R, const struct export_event *e)
{
    R->sum_ts += e->ts;
    R->sum_flows += e->flow_in + e->flow_out + e->stack_key + e->nframes;
    for (size_t i = 0; i < e->nargs; i++)
        R->sum_args += e->args[i].u + e->args[i].len + e->args[i].key_len;
    if (e->end_first && e->end_first == e->track)
        R->same_track_ptr++;
    R->last_track = e->track;
}

static int f_begin(struct export_sink *s, const struct export_event *e)
{
    struct rec *R = (struct rec *)s;
    R->begins++;
    sum_event(R, e);
    return count(R);
}

static int f_end(struct export_sink *s, const struct export_event *e)
{
    struct rec *R = (struct rec *)s;
    R->ends++;
    sum_event(R, e);
    if (e->name && e->name_len > 1000) {
        R->long_name_len = e->name_len;
        R->long_name_ok = long_ok(e->name, e->name_len);
    }
    return count(R);
}

static int f_complete(struct export_sink *s, const struct export_event *e, int64_t dur)
{
    struct rec *R = (struct rec *)s;
    R->completes++;
    R->sum_dur += dur;
    sum_event(R, e);
    return count(R);
}

static int f_instant(struct export_sink *s, const struct export_event *e)
{
    struct rec *R = (struct rec *)s;
    R->instants++;
    sum_event(R, e);
    return count(R);
}

static int f_counter(struct export_sink *s, const struct export_track *t, int64_t ts, int64_t v)
{
    struct rec *R = (struct rec *)s;
    (void)t;
    R->counters++;
    R->sum_ts += ts;
    R->sum_value += v;
    return count(R);
}

static void f_generation(struct export_sink *s, unsigned seq)
{
    struct rec *R = (struct rec *)s;
    (void)seq;
    R->gens++;
}

static void f_track_done(struct export_sink *s, const struct export_track *t, int64_t ts)
{
    struct rec *R = (struct rec *)s;
    (void)t;
    (void)ts;
    R->dones++;
}

static int f_finish(struct export_sink *s)
{
    ((struct rec *)s)->finished = 1;
    return 0;
}

static void f_destroy(struct export_sink *s)
{
    (void)s;
}

static void rec_init(struct rec *R)
{
    memset(R, 0, sizeof *R);
    R->s = (struct export_sink){f_track, f_begin, f_end, f_complete, f_instant, f_counter,
                                f_generation, f_finish, f_destroy, f_track_done, NULL, 0};
    R->caller = pthread_self();
}

static char *long_name(size_t len)
{
    char *s = malloc(len + 1);
    for (size_t i = 0; s && i < len; i++)
        s[i] = (char)('a' + i % 26);
    if (s)
        s[len] = 0;
    return s;
}

/* Many calls of every kind: the recorded sums equal those of the calls. */
static int test_replay(void)
{
    struct rec R;
    rec_init(&R);
    struct export_sink *S = export_relay_sink(&R.s, stderr);
    CHECK(S != NULL);
    struct export_track a = {.uuid = 1, .kind = EXPORT_TRACK_THREAD, .ts = 5, .name = "a"};
    struct export_track b = {.uuid = (uint64_t)1 << 40, .kind = EXPORT_TRACK_CHILD, .ts = 7, .name = "b"};
    CHECK(S->track(S, &a) == 0);
    CHECK(S->track(S, &b) == 0);
    int64_t want_ts = 12, want_dur = 0, want_value = 0;
    uint64_t want_flows = 0, want_args = 0;
    const char *reason = "chan receive";
    enum { N = 300000 };
    for (int i = 0; i < N; i++) {
        struct export_arg args[3] = {{"reason", 6, reason, 12, 0}, {"task", 4, NULL, 0, (uint64_t)i}, {"x", 1, NULL, 0, 3}};
        struct export_event e = {.track = i % 3 ? &a : &b, .ts = i, .name = "running", .name_len = 7,
                                 .cat = EXPORT_CAT_STATE, .args = args, .nargs = (size_t)(i % 4)};
        if (i % 5 == 0)
            e.end_first = e.track;
        if (i % 7 == 0) {
            e.flow_in = (uint64_t)i;
            e.flow_out = 2;
        }
        want_ts += i;
        want_flows += e.flow_in + e.flow_out;
        for (size_t k = 0; k < e.nargs; k++)
            want_args += args[k].u + args[k].len + args[k].key_len;
        int rc;
        switch (i % 5) {
        case 0: rc = S->slice_begin(S, &e); break;
        case 1: rc = S->slice_end(S, &e); break;
        case 2: rc = S->complete(S, &e, 9); want_dur += 9; break;
        case 3: rc = S->instant(S, &e); break;
        default:
            rc = S->counter(S, &a, i, -i);
            want_value -= i;
            want_args -= 0;
            want_flows -= e.flow_in + e.flow_out;
            for (size_t k = 0; k < e.nargs; k++)
                want_args -= args[k].u + args[k].len + args[k].key_len;
            break;
        }
        CHECK(rc == 0);
        if (i == N / 2) {
            S->generation(S, 0);
            /* every call before it has been made, and nothing after */
            CHECK(R.gens == 1);
            CHECK(R.calls == 2 + i + 1);
        }
    }
    S->track_done(S, &b, 100);
    CHECK(S->finish(S) == 0);
    CHECK(!R.wrong_thread);
    CHECK(R.finished);
    CHECK(R.calls == 2 + N);
    CHECK(R.tracks == 2 && R.dones == 1);
    CHECK(R.begins == N / 5 && R.ends == N / 5 && R.completes == N / 5 && R.instants == N / 5);
    CHECK(R.counters == N / 5);
    CHECK(R.sum_ts == want_ts);
    CHECK(R.sum_dur == want_dur);
    CHECK(R.sum_value == want_value);
    CHECK(R.sum_flows == want_flows);
    CHECK(R.sum_args == want_args);
    CHECK(R.same_track_ptr == N / 5);
    S->destroy(S);
    return 0;
}

/* Names the sink may only use during the call are copied, whatever their
 * length; a track declared again after its track_done is remade. */
static int test_copies(void)
{
    struct rec R;
    rec_init(&R);
    struct export_sink *S = export_relay_sink(&R.s, stderr);
    CHECK(S != NULL);
    char name[16] = "first";
    struct export_track t = {.uuid = 3, .kind = EXPORT_TRACK_ASYNC, .name = name};
    CHECK(S->track(S, &t) == 0);
    strcpy(name, "XXXXX"); /* gone after the call */
    S->generation(S, 0);
    CHECK(strcmp(R.track_name, "first") == 0);
    size_t len = 100000;
    char *big = long_name(len);
    CHECK(big != NULL);
    struct export_event e = {.track = &t, .ts = 1, .name = big, .name_len = len};
    CHECK(S->slice_end(S, &e) == 0);
    memset(big, 'Z', len); /* gone after the call */
    S->generation(S, 0);
    CHECK(R.long_name_len == len && R.long_name_ok);
    R.long_name_len = 0;
    free(big);
    big = long_name(len);
    t.name = big;
    CHECK(S->track(S, &t) == 0);
    memset(big, 'Z', len);
    S->generation(S, 0);
    CHECK(R.long_name_len == len && R.long_name_ok);
    S->track_done(S, &t, 2);
    t.name = "again";
    CHECK(S->track(S, &t) == 0);
    struct export_event e2 = {.track = &t, .ts = 3, .name = "x", .name_len = 1, .cat = EXPORT_CAT_TASK};
    CHECK(S->instant(S, &e2) == 0);
    CHECK(S->finish(S) == 0);
    CHECK(strcmp(R.track_name, "again") == 0);
    CHECK(R.instants == 1 && R.dones == 1);
    free(big);
    S->destroy(S);
    return 0;
}

/* An output error on the relay's thread: later calls and finish fail,
 * finish with the errno of the failed call. */
static int test_error(void)
{
    struct rec R;
    rec_init(&R);
    R.fail_at = 1000;
    R.fail_errno = ENOSPC;
    struct export_sink *S = export_relay_sink(&R.s, stderr);
    CHECK(S != NULL);
    struct export_track t = {.uuid = 1, .kind = EXPORT_TRACK_THREAD, .name = "t"};
    CHECK(S->track(S, &t) == 0);
    int failed = 0;
    for (int i = 0; i < 2000000 && !failed; i++) {
        struct export_event e = {.track = &t, .ts = i, .name = "running", .name_len = 7, .cat = EXPORT_CAT_STATE};
        failed = S->slice_begin(S, &e) < 0;
        if (i % 10000 == 0)
            S->generation(S, 0);
    }
    CHECK(failed);
    errno = 0;
    CHECK(S->finish(S) == -1);
    CHECK(errno == ENOSPC);
    S->destroy(S);
    return 0;
}

/* A call on a track never declared fails the export, not the sink. */
static int test_undeclared(void)
{
    struct rec R;
    rec_init(&R);
    struct export_sink *S = export_relay_sink(&R.s, stderr);
    CHECK(S != NULL);
    struct export_track t = {.uuid = 9, .kind = EXPORT_TRACK_THREAD, .name = "never"};
    struct export_event e = {.track = &t, .ts = 1, .name = "x", .name_len = 1, .cat = EXPORT_CAT_STATE};
    CHECK(S->slice_begin(S, &e) == 0); /* seen later */
    fprintf(stderr, "(an internal error is expected here)\n");
    CHECK(S->finish(S) == -1);
    CHECK(R.begins == 0);
    S->destroy(S);
    return 0;
}

/* destroy without finish: the thread is joined, the inner sink destroyed. */
static int test_destroy(void)
{
    struct rec R;
    rec_init(&R);
    struct export_sink *S = export_relay_sink(&R.s, stderr);
    CHECK(S != NULL);
    struct export_track t = {.uuid = 1, .kind = EXPORT_TRACK_THREAD, .name = "t"};
    CHECK(S->track(S, &t) == 0);
    S->destroy(S);
    CHECK(R.tracks == 1 && !R.finished);
    return 0;
}

int main(void)
{
    if (test_replay() || test_copies() || test_error() || test_undeclared() || test_destroy())
        return 1;
    /* A sink that maps the events itself is not relayed. */
    struct rec R;
    rec_init(&R);
    R.s.event = (int (*)(struct export_sink *, unsigned, ctrace_reader *, const struct ctrace_event *,
                         int64_t))1;
    CHECK(export_relay_sink(&R.s, stderr) == NULL);
    printf("ok: relay\n");
    return 0;
}
