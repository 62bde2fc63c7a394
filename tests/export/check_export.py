#!/usr/bin/env python3
"""check_export.py FORMAT OUTPUT DUMP [DUMP...] - checks what `ctrace export`
wrote against what `ctrace dump` prints for the same inputs: one DUMP per
input, each named as its trace file (the file name is the process's name).

FORMAT is `perfetto` (OUTPUT is the text `protoc --decode=perfetto.protos.Trace`
printed with tests/export/perfetto_min.proto) or `chrome` (OUTPUT is the JSON).

Checks, per input (process): one thread track per goroutine that runs, named
by its label (Label events: a ctrace thread's name) or G<id>; one
"running" slice per transition to Running (a state restated at a
generation's start, Running->Running, continues the slice); the region slices (names and
begin times) = the RegionBegin events (plus ends of regions begun before the
trace); task slices = TaskBegin events; log instants (category, message) =
Log events; one CPU-sample instant per StackSample, with its frames; one
counter value per Metric; every slice track a proper stack that ends empty;
every flow started once and ended once; every interned id (Perfetto)
defined on its sequence since the last incremental-state reset.
Prints each failed check and exits 1 if any.
"""
import collections
import json
import os
import re
import sys

fails = []


def check(cond, what):
    if cond:
        print("ok: " + what)
    else:
        print("FAIL: " + what)
        fails.append(what)


# ---- ctrace dump ----------------------------------------------------------
QSTR = r'"((?:[^"\\]|\\.)*)"'


def unquote(s):
    return bytes(s, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")


def read_dump(path):
    d = collections.Counter()
    d_regions, d_tasks, d_logs, running_g = [], [], [], set()
    labels = {}
    region_depth = collections.Counter()
    open_tasks = set()
    for line in open(path, encoding="utf-8", errors="replace"):
        f = line.split(" ", 2)
        if len(f) < 2:
            continue
        t, kind = int(f[0]), f[1]
        d[kind] += 1
        g = re.search(r" G=(\d+)", line)
        if kind == "StateTransition":
            m = re.search(r"goroutine=(\d+) (\w+)->Running", line)
            if m and m.group(2) != "Running":
                d["running"] += 1
                running_g.add(int(m.group(1)))
        elif kind == "Label":
            # An empty label (its string dropped: a full string table, said
            # by the trace's loss record) names nothing: the track is G<id>.
            lab = unquote(re.search(r"label=" + QSTR, line).group(1))
            if lab:
                labels[int(g.group(1))] = lab
            else:
                labels.pop(int(g.group(1)), None)
        elif kind in ("RegionBegin", "RegionEnd"):
            name = unquote(re.search(r"name=" + QSTR, line).group(1))
            gid = int(g.group(1))
            if kind == "RegionBegin":
                region_depth[gid] += 1
                d_regions.append((t, name))
            elif region_depth[gid]:
                region_depth[gid] -= 1
            else:
                d_regions.append((None, name))  # begun before the trace
        elif kind in ("TaskBegin", "TaskEnd"):
            tid = int(re.search(r"task=(\d+)", line).group(1))
            if kind == "TaskBegin":
                open_tasks.add(tid)
                d_tasks.append(unquote(re.search(r"name=" + QSTR, line).group(1)))
            elif tid in open_tasks:
                open_tasks.discard(tid)
            else:
                d_tasks.append(None)
        elif kind == "Log":
            m = re.search(r"category=" + QSTR + " message=" + QSTR, line)
            d_logs.append((unquote(m.group(1)), unquote(m.group(2))))
    return d, d_regions, d_tasks, d_logs, running_g, labels


# ---- Perfetto text format --------------------------------------------------
def parse_text(path):
    """protoc's text format to nested dicts of lists."""
    root = collections.defaultdict(list)
    stack = [root]
    tok = re.compile(r'\s*(?:(\w+)\s*\{|(\w+):\s*(".*"|\S+)|(\}))\s*$')
    for line in open(path, encoding="utf-8", errors="replace"):
        if not line.strip():
            continue
        m = tok.match(line)
        if not m:
            raise ValueError("unparsed line: " + line)
        if m.group(1):
            node = collections.defaultdict(list)
            stack[-1][m.group(1)].append(node)
            stack.append(node)
        elif m.group(4):
            stack.pop()
        else:
            v = m.group(3)
            if v.startswith('"'):
                v = bytes(v[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")
            elif re.match(r"^-?\d+$", v):
                v = int(v)
            stack[-1][m.group(2)].append(v)
    return root


def one(node, key, default=None):
    v = node.get(key)
    return v[0] if v else default


def load_perfetto(path):
    """Returns (tracks, events): tracks uuid -> dict(kind, name, pid, parent);
    events: list of dicts(type, track, ts, name, cat, args, flows_out,
    flows_in, frames, value)."""
    trace = parse_text(path)
    tracks, events = {}, []
    interned = {}
    bad_iids = 0
    for p in trace.get("packet", []):
        seq = one(p, "trusted_packet_sequence_id", 0)
        flags = one(p, "sequence_flags", 0)
        if flags & 1:
            interned[seq] = collections.defaultdict(dict)
        if "track_descriptor" in p:
            td = p["track_descriptor"][0]
            u = one(td, "uuid")
            if "process" in td:
                pd = td["process"][0]
                tracks[u] = dict(kind="process", name=one(pd, "process_name"), pid=one(pd, "pid"), parent=None)
            elif "thread" in td:
                th = td["thread"][0]
                tracks[u] = dict(kind="thread", name=one(th, "thread_name"), pid=one(th, "pid"),
                                 tid=one(th, "tid"), parent=None)
            else:
                tracks[u] = dict(kind="counter" if "counter" in td else "child", name=one(td, "name"),
                                 parent=one(td, "parent_uuid"))
        if "interned_data" in p:
            tab = interned.get(seq)
            if tab is None:
                bad_iids += 1
                continue
            idd = p["interned_data"][0]
            for k in ("event_names", "event_categories"):
                for e in idd.get(k, []):
                    tab[k][one(e, "iid")] = one(e, "name")
            for k in ("function_names", "source_paths"):
                for e in idd.get(k, []):
                    tab[k][one(e, "iid")] = one(e, "str")
            for e in idd.get("frames", []):
                tab["frames"][one(e, "iid")] = (one(e, "function_name_id"), one(e, "source_path_iid"),
                                                one(e, "line_number", 0))
            for e in idd.get("callstacks", []):
                tab["callstacks"][one(e, "iid")] = e.get("frame_ids", [])
        if "track_event" in p:
            te = p["track_event"][0]
            tab = interned.get(seq)
            if tab is None or not (flags & 2):
                bad_iids += 1
                continue

            def look(k, iid):
                nonlocal bad_iids
                if iid is None:
                    return None
                if iid not in tab[k]:
                    bad_iids += 1
                return tab[k].get(iid)
            frames = None
            if "callstack_iid" in te:
                fids = look("callstacks", one(te, "callstack_iid")) or []
                frames = []
                for fid in reversed(fids):  # innermost first, as the dump
                    fr = look("frames", fid)
                    if fr:
                        frames.append((look("function_names", fr[0]), look("source_paths", fr[1]), fr[2]))
            args = {}
            for a in te.get("debug_annotations", []):
                args[one(a, "name")] = one(a, "string_value", one(a, "uint_value"))
            events.append(dict(type={"TYPE_SLICE_BEGIN": "B", "TYPE_SLICE_END": "E",
                                     "TYPE_INSTANT": "i", "TYPE_COUNTER": "C"}[one(te, "type")],
                               track=one(te, "track_uuid"), ts=one(p, "timestamp"),
                               name=look("event_names", one(te, "name_iid")),
                               cat=look("event_categories", one(te, "category_iids")),
                               args=args, flows_out=te.get("flow_ids", []),
                               flows_in=te.get("terminating_flow_ids", []), frames=frames,
                               value=one(te, "counter_value")))
    check(bad_iids == 0, "perfetto: every interned id is defined on its sequence (%d not)" % bad_iids)
    return tracks, events


def pid_of(tracks, u):
    while u in tracks and tracks[u].get("pid") is None:
        u = tracks[u]["parent"]
    return tracks[u]["pid"] if u in tracks else None


def load_chrome(path):
    doc = json.load(open(path, encoding="utf-8"))  # must be valid JSON
    tracks, events = {}, []
    names = {}
    # Every E names the slice it ends, as viewers that match B and E by
    # name (speedscope) need: the B's name, on a stack per (pid, tid) in
    # output order (which is the order the Trace Event Format matches in).
    open_b, unnamed_e = collections.defaultdict(list), 0
    for e in doc["traceEvents"]:
        ph, pid = e["ph"], e["pid"]
        if ph == "B":
            open_b[(pid, e["tid"])].append(e.get("name"))
        elif ph == "E":
            stack = open_b[(pid, e["tid"])]
            if not stack or e.get("name") != stack.pop():
                unnamed_e += 1
        if ph == "M":
            if e["name"] == "process_name":
                tracks[("p", pid)] = dict(kind="process", name=e["args"]["name"], pid=pid, parent=None)
            elif e["name"] == "thread_name":
                key = ("t", pid, e["tid"])
                kind = "thread" if e["tid"] < (1 << 52) else "child"
                tracks[key] = dict(kind=kind, name=e["args"]["name"], pid=pid, tid=e["tid"], parent=("p", pid))
            continue
        ts = round(float(e["ts"]) * 1000)
        if ph in ("b", "e"):
            key = ("a", pid, e["id"])
            tracks.setdefault(key, dict(kind="child", name=e["name"], pid=pid, parent=("p", pid)))
        elif ph == "C":
            key = ("c", pid, e["name"])
            tracks.setdefault(key, dict(kind="counter", name=e["name"], pid=pid, parent=("p", pid)))
        elif ph == "i" and e.get("s") == "p":
            key = ("p", pid)
        else:
            key = ("t", pid, e["tid"])
        if ph in ("s", "f"):
            events.append(dict(type="i", track=key, ts=ts, name=None, cat="flow", args={},
                               flows_out=[e["id"]] if ph == "s" else [],
                               flows_in=[e["id"]] if ph == "f" else [], frames=None, value=None))
            continue
        args = dict(e.get("args", {}))
        frames = None
        if "stack" in args:
            frames = [tuple(re.match(r"^(.*) (.*):(\d+)$", s).groups()) for s in args.pop("stack")]
            frames = [(f, p, int(l)) for f, p, l in frames]
        if ph == "X":
            events.append(dict(type="B", track=key, ts=ts, name=e["name"], cat=e["cat"], args=args,
                               flows_out=[], flows_in=[], frames=None, value=None))
            events.append(dict(type="E", track=key, ts=ts + round(float(e["dur"]) * 1000), name=None,
                               cat=None, args={}, flows_out=[], flows_in=[], frames=None, value=None))
            continue
        typ = {"B": "B", "b": "B", "E": "E", "e": "E", "i": "i", "C": "C"}[ph]
        events.append(dict(type=typ, track=key, ts=ts, name=e.get("name") if typ != "E" else None,
                           cat=e.get("cat"), args=args, flows_out=[], flows_in=[], frames=frames,
                           value=args.get("value") if ph == "C" else None))
    check(unnamed_e == 0, "every E event carries the name of the B it ends (%d do not)" % unnamed_e)
    return tracks, events


# ---- the checks -----------------------------------------------------------
def main():
    fmt, out, dumps = sys.argv[1], sys.argv[2], sys.argv[3:]
    tracks, events = (load_perfetto if fmt == "perfetto" else load_chrome)(out)
    procs = {t["name"]: t["pid"] for t in tracks.values() if t["kind"] == "process"}
    check(sorted(procs) == sorted(os.path.basename(d) for d in dumps) and
          len(set(procs.values())) == len(procs),
          "one process per input, named after its file, with a pid of its own (%d, want %d)"
          % (len(procs), len(dumps)))

    # Nesting and balance per track, in time order (stable: output order).
    ordered = sorted(enumerate(events), key=lambda ie: (ie[1]["ts"], ie[0]))
    depth = collections.Counter()
    negative = 0
    for _, e in ordered:
        if e["type"] == "B":
            depth[e["track"]] += 1
        elif e["type"] == "E":
            depth[e["track"]] -= 1
            if depth[e["track"]] < 0:
                negative += 1
    check(negative == 0, "no slice ends without a begin on its track (%d)" % negative)
    check(all(v == 0 for v in depth.values()), "every slice is ended (%d tracks open)" %
          sum(1 for v in depth.values() if v))
    outs = collections.Counter(f for e in events for f in e["flows_out"])
    ins = collections.Counter(f for e in events for f in e["flows_in"])
    check(all(v == 1 for v in outs.values()) and outs == ins,
          "every flow starts once and ends once (%d starts, %d ends)" % (sum(outs.values()), sum(ins.values())))

    for i, dump in enumerate(dumps):
        d, d_regions, d_tasks, d_logs, running_g, labels = read_dump(dump)
        pid = procs.get(os.path.basename(dump))
        if fmt == "perfetto":
            evs = [e for e in events if pid_of(tracks, e["track"]) == pid]
        else:
            evs = [e for e in events if tracks.get(e["track"], {}).get("pid", e["track"][1]) == pid]
        w = "input %d (%s): " % (i + 1, dump)
        threads = [t for t in tracks.values() if t["kind"] == "thread" and t["pid"] == pid]
        tids = {t["tid"] for t in threads}
        check(running_g <= tids, w + "a thread track per goroutine that runs (%d tracks, %d goroutines run)"
              % (len(tids), len(running_g)))
        check(all(t["name"] for t in threads), w + "every thread track is named")
        tname = {t["tid"]: t["name"] for t in threads}
        check(all(tname.get(g) in (l, None) for g, l in labels.items()) and
              all(n == "G%d" % g for g, n in tname.items() if g not in labels),
              w + "threads are named by their labels (%d), the others G<id>" % len(labels))
        begins = [e for e in evs if e["type"] == "B"]
        check(sum(1 for e in begins if e["name"] == "running") == d["running"],
              w + "a running slice per transition to Running (%d)" % d["running"])
        regions = [e for e in begins if e["cat"] == "region"]
        check(sorted(e["name"] for e in regions) == sorted(n for _, n in d_regions),
              w + "region slices = regions (%d)" % len(d_regions))
        if len(dumps) == 1:  # one input: output times are the dump's since_start,
            # and a region begun before the trace begins at its first event (0)
            check(sorted(e["ts"] for e in regions) == sorted(t or 0 for t, _ in d_regions),
                  w + "region slices begin at their events' times")
        tasks = [e for e in begins if e["cat"] == "task"]
        check(len(tasks) == len(d_tasks) and
              sorted(e["name"] for e in tasks if not e["name"].startswith("task ")) ==
              sorted(n for n in d_tasks if n), w + "task slices = tasks (%d)" % len(d_tasks))
        logs = [e for e in evs if e["type"] == "i" and e["cat"] == "log"]
        check(sorted((e["args"].get("category"), e["args"].get("message")) for e in logs) == sorted(d_logs),
              w + "log instants = logs (%d)" % len(d_logs))
        samples = [e for e in evs if e["type"] == "i" and e["cat"] == "cpu"]
        check(len(samples) == d["StackSample"], w + "a CPU-sample instant per sample (%d)" % d["StackSample"])
        check(all(e["frames"] and all(f[0] for f in e["frames"]) for e in samples),
              w + "every CPU sample has its frames")
        counters = [e for e in evs if e["type"] == "C"]
        check(len(counters) == d["Metric"], w + "a counter value per metric (%d)" % d["Metric"])
    if fails:
        print("check_export: %d checks failed" % len(fails))
        sys.exit(1)
    print("check_export: all passed")


main()
