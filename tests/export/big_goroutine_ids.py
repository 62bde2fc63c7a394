#!/usr/bin/env python3
"""big_goroutine_ids.py OUT - writes a Go 1.23 trace in which goroutine 1
and goroutine 1000000000 (a long-running program's ids reach that) block
and wake each other on one thread, so both have thread and state tracks.

The Chrome export gave synthetic tids to the state tracks from 10^9 up:
goroutine 1's state track took tid 1000000000, the thread of goroutine
1000000000, and the viewer merged the two.  Event numbers and arguments
are those of src/format/gotrace.h (gotrace_write.py)."""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from gotrace_write import (EV_STACK, EV_STACKS, EV_STRINGS, EV_FREQ, GO_BLOCK, GO_RUNNABLE,
                           GO_RUNNING, GO_START, GO_STATUS, GO_STOP, GO_UNBLOCK, HEADER, NO_ID,
                           PROC_RUNNING, PROC_STATUS, PROC_STOP, batch, ev, string)

BIG = 1000000000


def main():
    gen = 1
    out = HEADER
    out += batch(gen, 0, 0, ev(EV_FREQ, 1000000000))
    out += batch(gen, 0, 0, bytes([EV_STRINGS]) + string(1, b"sleep") + string(2, b"main.f")
                 + string(3, b"main.go"))
    out += batch(gen, 0, 0, bytes([EV_STACKS]) + ev(EV_STACK, 1, 1, 0x401000, 2, 3, 42))
    events = b"".join([
        ev(PROC_STATUS, 1, 0, PROC_RUNNING),
        ev(GO_STATUS, 1, 1, NO_ID, GO_RUNNING),
        ev(GO_BLOCK, 1, 1, 1),                 # goroutine 1 waits
        ev(GO_STATUS, 1, BIG, NO_ID, GO_RUNNABLE),
        ev(GO_START, 1, BIG, 1),               # goroutine 10^9 runs
        ev(GO_UNBLOCK, 1, 1, 1, 1),            # and wakes goroutine 1
        ev(GO_BLOCK, 1, 1, 1),                 # then waits
        ev(GO_START, 1, 1, 2),                 # goroutine 1 runs
        ev(GO_STOP, 1, 1, 1),
        ev(PROC_STOP, 1),
    ])
    out += batch(gen, 1, 100, events)
    with open(sys.argv[1], "wb") as f:
        f.write(out)


main()
