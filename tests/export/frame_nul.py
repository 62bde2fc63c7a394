#!/usr/bin/env python3
"""frame_nul.py OUT - writes a Go 1.23 trace with one CPU sample whose
stack's frame has NUL bytes in its function and file names (trace strings
are bytes: the reader keeps them whole).  The chrome export wrote such a
frame with snprintf("%.*s"), which stopped at the NUL: the frame's string
was cut there, and the rest of it, up to the names' full length, was
whatever the malloc'ed buffer held.  Event numbers and arguments are those
of src/format/gotrace.h (gotrace_write.py)."""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from gotrace_write import (EV_CPU_SAMPLE, EV_CPU_SAMPLES, EV_FREQ, EV_STACK, EV_STACKS,
                           EV_STRINGS, GO_RUNNING, GO_STATUS, HEADER, NO_ID, PROC_RUNNING,
                           PROC_STATUS, batch, ev, string)


def main():
    out = HEADER
    out += batch(1, NO_ID, 0, ev(EV_FREQ, 1000000000))
    out += batch(1, NO_ID, 0, bytes([EV_STRINGS]) + string(1, b"main.f\0g") + string(2, b"a\0b.go"))
    out += batch(1, NO_ID, 0, bytes([EV_STACKS]) + ev(EV_STACK, 1, 1, 0x401000, 1, 2, 42))
    out += batch(1, 1, 1000, ev(PROC_STATUS, 1, 1, PROC_RUNNING) + ev(GO_STATUS, 1, 1, NO_ID, GO_RUNNING))
    out += batch(1, NO_ID, 0, bytes([EV_CPU_SAMPLES]) + ev(EV_CPU_SAMPLE, 1050, 1, 1, 1, 1))
    with open(sys.argv[1], "wb") as f:
        f.write(out)


main()
