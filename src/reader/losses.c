/*
 * losses.c - libctrace's loss records (src/format/lossrec.h): recognising
 * one among a generation's strings, and the public functions that report
 * them.
 *
 * Invariants: a string is a loss record iff it starts with GT_LOSS_PREFIX;
 * its "key=N" fields are added to the totals, unknown keys and malformed
 * fields are skipped (a later writer may add keys).  Only strings of v2
 * traces are looked at, so a v1 trace never has a record.
 */
#include "internal.h"

#include <string.h>

#include "lossrec.h"

/* The field named key (len klen) of a record, or NULL. */
static uint64_t *field(struct ctrace_losses *acc, const uint8_t *key, size_t klen)
{
    static const struct {
        const char *name;
        size_t off;
    } keys[] = {
        {"events", offsetof(struct ctrace_losses, events)},
        {"samples", offsetof(struct ctrace_losses, samples)},
        {"stacks", offsetof(struct ctrace_losses, stacks)},
        {"threads", offsetof(struct ctrace_losses, threads)},
        {"strings", offsetof(struct ctrace_losses, strings)},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strlen(keys[i].name) == klen && !memcmp(keys[i].name, key, klen))
            return (uint64_t *)(void *)((char *)acc + keys[i].off);
    return NULL;
}

void loss_note(struct ctrace_losses *acc, const uint8_t *s, size_t len)
{
    if (len < GT_LOSS_PREFIX_LEN || memcmp(s, GT_LOSS_PREFIX, GT_LOSS_PREFIX_LEN))
        return;
    acc->records++;
    const uint8_t *p = s + GT_LOSS_PREFIX_LEN, *end = s + len;
    while (p < end) {
        while (p < end && *p == ' ')
            p++;
        const uint8_t *key = p;
        while (p < end && *p != '=' && *p != ' ')
            p++;
        size_t klen = (size_t)(p - key);
        if (p >= end || *p != '=')
            continue; /* a bare word: skipped */
        p++;
        uint64_t v = 0;
        int digits = 0;
        while (p < end && *p >= '0' && *p <= '9' && v <= (UINT64_MAX - 9) / 10) {
            v = v * 10 + (uint64_t)(*p++ - '0');
            digits++;
        }
        if (p < end && *p != ' ')
            digits = 0; /* not a plain number: skip the field */
        while (p < end && *p != ' ')
            p++;
        uint64_t *f = digits ? field(acc, key, klen) : NULL;
        if (f)
            *f += v;
    }
}

void ctrace_reader_losses(const ctrace_reader *r, struct ctrace_losses *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (r && r->ahead)
        ahead_losses(r->ahead, out);
    else if (r)
        *out = r->losses;
}

int ctrace_reader_skim_losses(ctrace_reader *r)
{
    if (!r)
        return CTRACE_READER_EINVAL;
    if (r->ahead)
        return CTRACE_READER_EINVAL; /* events are being read */
    if (r->error.code)
        return r->error.code;
    if (r->have_gen || r->ngens || r->spill)
        return CTRACE_READER_EINVAL; /* events were read: not a fresh handle */
    if (r->is_v1 || r->version < 122)
        return 0;
    return gen_skim_losses(r);
}
