/*
 * errors.c - see errors.h.  Messages are formatted once, into the state,
 * when the error is recorded; nothing here allocates.
 */
#include "errors.h"

#include "ctrace_reader.h"

#include <stdarg.h>
#include <stdio.h>

static int record(struct rd_error *e, int code, uint64_t off, const char *msg)
{
    if (e->code)
        return e->code;
    e->code = code;
    e->off = off;
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    return code;
}

int err_fail(struct rd_error *e, int code, uint64_t off, const char *fmt, ...)
{
    if (e->code)
        return e->code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = code;
    e->off = off;
    return code;
}

int err_fail_cut(struct rd_error *e, int code, uint64_t off, const char *fmt, ...)
{
    if (e->code)
        return e->code;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!e->cut)
        return record(e, code, off, msg);
    if (e->cut_gen == 0)
        return err_fail(e, CTRACE_READER_ETRUNCATED, e->input_end, "%s (the input ends after the header)", msg);
    return err_fail(e, CTRACE_READER_ETRUNCATED, e->input_end, "%s (the input ends inside generation %llu)", msg,
                    (unsigned long long)e->cut_gen);
}

void err_defer(struct rd_error *e, int code, uint64_t off, const char *msg)
{
    e->deferred = code;
    e->deferred_off = off;
    snprintf(e->deferred_msg, sizeof e->deferred_msg, "%s", msg);
}

int err_raise_deferred(struct rd_error *e)
{
    if (!e->deferred)
        return 0;
    return record(e, e->deferred, e->deferred_off, e->deferred_msg);
}
