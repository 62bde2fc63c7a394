"""gotrace_write.py - the pieces of a Go 1.23 trace file, for the scripts
here that write small traces of their own (big_goroutine_ids.py,
late_sample.py).  Event numbers and arguments are those of
src/format/gotrace.h (Go's internal/trace/event/go122)."""

HEADER = b"go 1.23 trace\0\0\0"
NO_ID = (1 << 64) - 1
EV_BATCH, EV_STACKS, EV_STACK, EV_STRINGS, EV_STRING, EV_CPU_SAMPLES, EV_CPU_SAMPLE, EV_FREQ = \
    1, 2, 3, 4, 5, 6, 7, 8
PROC_STOP, PROC_STATUS, GO_START, GO_DESTROY, GO_STOP, GO_BLOCK, GO_UNBLOCK, GO_STATUS = \
    11, 13, 16, 17, 19, 20, 21, 25
GO_LABEL = 39
GO_RUNNABLE, GO_RUNNING, PROC_RUNNING = 1, 2, 1


def uvarint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def ev(typ, *args):
    """An event: its type byte and its arguments as varints."""
    return bytes([typ]) + b"".join(uvarint(a) for a in args)


def string(i, s):
    return bytes([EV_STRING]) + uvarint(i) + uvarint(len(s)) + s


def batch(gen, m, ts, data):
    return bytes([EV_BATCH]) + uvarint(gen) + uvarint(m) + uvarint(ts) + uvarint(len(data)) + data
