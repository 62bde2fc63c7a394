#!/usr/bin/env python3
"""check_go119.py IN.json OUT.json - compares `ctrace stat --json` of a
trace (IN) with that of its `ctrace export --format go1.19` (OUT): the same
goroutines, regions (per name: begun, ended without a begin), tasks (per
name: begun, ended), logs, CPU samples and their stacks (per function),
and the time per state (running, runnable, syscall, blocked: within 2% or
50 us).  When IN is itself a v1 trace,
also the goroutines created and the blocking count (v1 to v1 loses
nothing; from v2, goroutines v2 first mentions after its start, blocked all
along, are created in v1 where they appear, and blocking stays cut at
generation boundaries are one stay in v1).  Prints the differences; exit 1
if any."""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def summary(d, v1_input):
    k = d["event_kinds"]
    s = {
        "goroutines": d["goroutines"],
        "cpu_samples": d["cpu_samples"],
        "logs": k.get("Log", 0),
        "regions": {r["name"]: (r["begun"], r["unmatched_end"]) for r in d["regions"]},
        "tasks": {r["name"]: (r["begun"], r["ended"]) for r in d["tasks"]},
        # the samples' stacks: flat and cumulative counts per function
        "cpu_functions": sorted((f["func"], f["flat"], f["cum"]) for f in d["cpu_functions"]),
    }
    if v1_input:
        s["goroutines_created"] = d["goroutines_created"]
        s["blocking"] = sum(b["count"] for b in d["blocking"])
    return s


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    if b["error"]:
        print(f"FAIL: the export does not read back: {b['error']}")
        return 1
    if b["version"] != "1.19":
        print(f"FAIL: the export reads as version {b['version']}, not 1.19")
        return 1
    v1 = a["version"] in ("1.11", "1.19", "1.21")
    sa, sb = summary(a, v1), summary(b, v1)
    bad = [key for key in sa if sa[key] != sb[key]]
    for key in bad:
        print(f"FAIL: {key}: input {sa[key]}, go1.19 export {sb[key]}")
    # Time per state: the same up to the export's nanosecond bumps, v1's
    # lost syscall-exit times and reasons v1 files differently (blocked
    # is compared as a whole: sync + net + other).
    ta, tb = a["totals"], b["totals"]
    for name, keys in (("running", ["exec_ns"]), ("runnable", ["sched_ns"]),
                       ("syscall", ["syscall_ns"]),
                       ("blocked", ["sync_ns", "net_ns", "other_ns"])):
        x, y = sum(ta[k] for k in keys), sum(tb[k] for k in keys)
        if abs(x - y) > max(0.02 * x, 50000):
            print(f"FAIL: time {name}: input {x} ns, go1.19 export {y} ns")
            bad.append(name)
    if not bad:
        print(f"ok: {sa['goroutines']} goroutines, {len(sa['regions'])} region names, "
              f"{len(sa['tasks'])} task names, {sa['logs']} logs, {sa['cpu_samples']} samples")
    return 1 if bad else 0


sys.exit(main())
