#!/usr/bin/env python3
"""late_sample.py OUT - writes a Go 1.23 trace in which CPU samples name
goroutines that have already ended, as libctrace writes them: a thread's
GoDestroy is written before its CPU-time timer is deleted (thread.c,
ct_thread_exit), so a SIGPROF in between records a sample of the thread
after its end, written into the generation then current, which may be
the one after its end's.

Generation 1: goroutine 1 ("worker") and goroutine 2 ("late") are labelled
and end; a sample of goroutine 1 follows its end.  Generation 2: a sample
of goroutine 2, ended in generation 1.  Goroutine 3 runs throughout,
unlabelled, with a sample of its own.  The export named the thread tracks
of goroutines 1 and 2 "G1" and "G2": the late sample made the goroutine's
state anew, without its label, and declared its thread track again.
Event numbers and arguments are those of src/format/gotrace.h
(gotrace_write.py)."""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from gotrace_write import (EV_CPU_SAMPLE, EV_CPU_SAMPLES, EV_FREQ, EV_STACK, EV_STACKS,
                           EV_STRINGS, GO_DESTROY, GO_LABEL, GO_RUNNING, GO_STATUS, HEADER,
                           NO_ID, PROC_RUNNING, PROC_STATUS, PROC_STOP, batch, ev, string)


def tables(gen):
    return (batch(gen, NO_ID, 0, ev(EV_FREQ, 1000000000)) +
            batch(gen, NO_ID, 0, bytes([EV_STRINGS]) + string(1, b"worker") + string(2, b"late")
                  + string(3, b"main.f") + string(4, b"main.go")) +
            batch(gen, NO_ID, 0, bytes([EV_STACKS]) + ev(EV_STACK, 1, 1, 0x401000, 3, 4, 42)))


def samples(gen, *s):  # (ts, m, p, g)
    return batch(gen, NO_ID, 0, bytes([EV_CPU_SAMPLES]) +
                 b"".join(ev(EV_CPU_SAMPLE, ts, m, p, g, 1) for ts, m, p, g in s))


def ends(p, g, label):
    """A goroutine running on P p that labels itself and ends."""
    return b"".join([
        ev(PROC_STATUS, 1, p, PROC_RUNNING),
        ev(GO_STATUS, 1, g, NO_ID, GO_RUNNING),
        ev(GO_LABEL, 10, label),
        ev(GO_DESTROY, 100),
        ev(PROC_STOP, 1),
    ])


def runs(p, g):
    return ev(PROC_STATUS, 1, p, PROC_RUNNING) + ev(GO_STATUS, 1, g, NO_ID, GO_RUNNING)


def main():
    out = HEADER
    out += tables(1)
    out += batch(1, 1, 1000, ends(1, 1, 1))  # goroutine 1 ends at 1112
    out += batch(1, 2, 1000, ends(2, 2, 2))  # goroutine 2 at 1112
    out += batch(1, 3, 1000, runs(3, 3))
    out += samples(1, (1050, 3, 3, 3), (1200, 1, 1, 1))  # goroutine 1's after its end
    out += tables(2)
    out += batch(2, 3, 5000, runs(3, 3))
    out += samples(2, (5100, 2, 2, 2))  # goroutine 2's, a generation after its end
    with open(sys.argv[1], "wb") as f:
        f.write(out)


main()
