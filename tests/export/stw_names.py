#!/usr/bin/env python3
"""stw_names.py OUT - writes a Go 1.23 trace in which a running goroutine
stops the world twice in one generation, for two reasons whose names have
the same length ("GOMAXPROCS", "stop trace"): the reader names the ranges
"stop-the-world (REASON)", strings it makes itself.  The exports find what
they made of a name by its address for the generation (src/export/sink.h,
addrmemo.h), which holds only if each such name keeps an address of its
own for the generation, as ctrace_reader.h promises: made in one scratch
buffer, both ranges were named after the first.  Event numbers and
arguments are those of src/format/gotrace.h (gotrace_write.py)."""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from gotrace_write import (EV_FREQ, EV_STRINGS, GO_RUNNING, GO_STATUS, HEADER, NO_ID,
                           PROC_RUNNING, PROC_STATUS, batch, ev, string)

STW_BEGIN, STW_END = 26, 27  # dt, kind string, stack; dt


def main():
    out = HEADER
    out += batch(1, NO_ID, 0, ev(EV_FREQ, 1000000000))
    out += batch(1, NO_ID, 0, bytes([EV_STRINGS]) + string(1, b"GOMAXPROCS") + string(2, b"stop trace"))
    out += batch(1, 1, 1000, ev(PROC_STATUS, 1, 1, PROC_RUNNING) + ev(GO_STATUS, 1, 1, 1, GO_RUNNING) +
                 ev(STW_BEGIN, 10, 1, 0) + ev(STW_END, 10) + ev(STW_BEGIN, 10, 2, 0) + ev(STW_END, 10))
    with open(sys.argv[1], "wb") as f:
        f.write(out)


main()
