/*
 * fuzz_v2.c - libFuzzer target for the v2 reader (go 1.22/1.23/1.25
 * traces).  Seeds: the testdata/traces files named *.go12[2-9].trace.
 * The harness reads every input from memory and streamed, touching all
 * strings and frames.
 */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_one(data, size);
}
