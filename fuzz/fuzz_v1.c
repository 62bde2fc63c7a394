/*
 * fuzz_v1.c - libFuzzer target for the v1 reader (go 1.11-1.21 traces).
 * Seeds: the testdata/traces files named *.go119.trace.  Inputs not
 * starting with a v1 header are given one, so the fuzzer spends its time in
 * the v1 code.
 */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[1 << 20];
    if (size >= 16 && memcmp(data, "go 1.", 5) == 0)
        return fuzz_one(data, size);
    if (size > sizeof buf - 16)
        size = sizeof buf - 16;
    memcpy(buf, "go 1.19 trace\0\0\0", 16);
    memcpy(buf + 16, data, size);
    return fuzz_one(buf, size + 16);
}
