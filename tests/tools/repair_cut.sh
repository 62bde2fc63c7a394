#!/bin/bash
# repair_cut.sh CTRACE TRACEDIR [SIGKILL_CHILD] - truncated traces:
# `ctrace check` must report a cut trace as truncated, at the offset where
# it ends, with the number of generations it holds whole; `ctrace repair`
# must write exactly those generations (the first bytes of the input, up to
# the start of the first incomplete one) as a trace that `ctrace check`,
# Go 1.23's and (for go 1.22 headers) Go 1.22's parsers accept.
#
# Inputs: a libctrace trace killed by SIGKILL (SIGKILL_CHILD traces itself
# until killed; 50 ms generations), cut again at many offsets (every
# generation start, just after it, inside batch headers, at random); the
# two-generation Go fixtures cut the same way; header-only files, garbage
# and zeros after a valid trace, a v1 trace (declined), OUT = IN (refused),
# '-' for stdout and stdin.  Expected generation counts come from a batch
# scan of the file (python3), independent of the reader.
# Exit 77 (skip) without Go 1.22/1.23 or python3.
set -u
ctrace=$1 dir=$2 child=${3:-}
go123=${GO123:-/usr/lib/go-1.23/bin/go}
go122=${GO122:-/usr/lib/go-1.22/bin/go}
for tool in "$go123" "$go122"; do
  [ -x "$tool" ] || { echo "skip: $tool missing"; exit 77; }
done
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
export GOTOOLCHAIN=local
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0 checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }
bad() { checks=$((checks + 1)); echo "FAIL: $*"; fail=1; }

# starts FILE: the offset where each generation's first batch starts, one
# per line, then the file size.  A v2 batch: byte 1 (or 49 + experiment
# byte), uvarints gen, M, timestamp, length, then length bytes.
starts() {
  python3 - "$1" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
def uv(i):
    x = s = 0
    while True:
        c = b[i]; i += 1; x |= (c & 0x7f) << s; s += 7
        if c < 0x80: return x, i
i, gen = 16, None
while i < len(b):
    start, t = i, b[i]; i += 1
    if t == 49: i += 1
    g, i = uv(i); m, i = uv(i); ts, i = uv(i); n, i = uv(i)
    if g != gen: print(start); gen = g
    i += n
print(len(b))
PY
}

# go_accepts FILE NGENS: Go's parsers read FILE whole and find NGENS
# generations (one Sync event each).
go_accepts() {
  local f=$1 n=$2 g v
  for g in "$go123" "$go122"; do
    v=$("$g" version | awk '{print $3}')
    if [ "$g" = "$go122" ] && [ "$(head -c 13 "$f")" != "go 1.22 trace" ]; then continue; fi
    if ! "$g" tool trace -d=1 "$f" >"$tmp/go.out" 2>"$tmp/go.err"; then
      bad "$v rejects $f: $(tail -n1 "$tmp/go.err")"; return
    fi
    local syncs; syncs=$(grep -c ' Sync ' "$tmp/go.out")
    [ "$syncs" = "$n" ] || { bad "$v finds $syncs generations in $f, want $n"; return; }
  done
  ok "Go accepts $(basename "$f") ($n generations)"
}

# cut_case TRACE C EXACT: cut TRACE at byte C; check and repair it.
# EXACT=1: the trace ends each generation with its frequency (libctrace),
# so the generations whole before C are exactly those whose successor
# starts at or before C; EXACT=0 (Go writes the frequency first): the
# generation C falls in may also count if only unused bytes were lost.
cut_case() {
  local trace=$1 c=$2 exact=$3 gs size k=0 kend=16 i
  mapfile -t gs < <(starts "$trace")
  size=${gs[-1]}
  head -c "$c" "$trace" > "$tmp/cut.trace"
  # k = generations whose successor starts at or before c.
  for ((i = 1; i < ${#gs[@]} - 1; i++)); do
    [ "${gs[$i]}" -le "$c" ] && { k=$i; kend=${gs[$i]}; }
  done
  local out rc=0
  out=$("$ctrace" check "$tmp/cut.trace") || rc=$?
  local boundary=0
  # The uncut trace's end is a boundary too, if the trace is whole.
  [ "$c" = "$size" ] && [ "$trace_ok" = 1 ] && { k=$((${#gs[@]} - 1)); kend=$size; boundary=1; }
  for ((i = 1; i < ${#gs[@]} - 1; i++)); do [ "${gs[$i]}" = "$c" ] && boundary=1; done
  if [ $boundary = 1 ] && [ "$c" -gt 16 ]; then
    # Cut exactly between generations: a valid, shorter trace.
    [[ $rc = 0 && $out =~ ": ok, ".*", $k generation"s?$ ]] && ok "cut at $c (a generation boundary): $out" ||
      bad "cut at $c (a generation boundary, $k generations): exit $rc: $out"
    return
  fi
  local re="^$tmp/cut.trace: truncated at offset $c: ([0-9]+) complete generations? \\(first ([0-9]+) bytes, [0-9.]+ s\\), then: .+"
  if [ $rc != 1 ] || ! [[ $out =~ $re ]]; then
    bad "cut at $c: exit $rc, want 1 and 'truncated at offset $c: $k complete generations': $out"; return
  fi
  local got=${BASH_REMATCH[1]} gotend=${BASH_REMATCH[2]}
  if [ "$got" = "$k" ] && [ "$gotend" = "$kend" ]; then
    :
  elif [ "$exact" = 0 ] && [ "$got" = $((k + 1)) ] && [ "$gotend" -le "$c" ]; then
    : # the generation cut lost nothing it needs (Go's parser reads it too)
  else
    bad "cut at $c: $got complete generations in $gotend bytes, want $k in $kend: $out"; return
  fi
  ok "cut at $c: $out"
  # Repair.
  rm -f "$tmp/rep.trace"
  rc=0; "$ctrace" repair "$tmp/cut.trace" -o "$tmp/rep.trace" 2>"$tmp/rep.err" || rc=$?
  if [ "$got" = 0 ]; then
    [ $rc = 1 ] && [ ! -e "$tmp/rep.trace" ] && grep -q "no complete generation" "$tmp/rep.err" &&
      ok "repair of cut at $c: nothing to write, exit 1" ||
      bad "repair of cut at $c (no complete generation): exit $rc, out $(ls "$tmp/rep.trace" 2>&1): $(cat "$tmp/rep.err")"
    return
  fi
  [ $rc = 0 ] || { bad "repair of cut at $c: exit $rc: $(cat "$tmp/rep.err")"; return; }
  grep -q "dropped $((c - gotend)) bytes from offset $gotend" "$tmp/rep.err" ||
    bad "repair of cut at $c does not report the $((c - gotend)) bytes dropped: $(cat "$tmp/rep.err")"
  head -c "$gotend" "$trace" | cmp -s - "$tmp/rep.trace" ||
    { bad "repair of cut at $c: output is not the first $gotend bytes"; return; }
  out=$("$ctrace" check "$tmp/rep.trace") && [[ $out =~ ": ok, ".*", $got generation"s?$ ]] &&
    ok "repaired cut at $c: $out" || bad "repaired cut at $c: $out"
  [ "${GO_EVERY:-1}" = 1 ] && go_accepts "$tmp/rep.trace" "$got"
}

# offsets TRACE N: generation starts and a few bytes after each, inside
# batch headers, and N pseudo-random offsets (fixed seed).
offsets() {
  python3 - "$@" <<'PY'
import random, sys
t, n = sys.argv[1], int(sys.argv[2])
gs = [int(x) for x in sys.argv[3:]]
size = gs[-1]
rnd = random.Random(22)
o = {16, 17, 20, size - 1, size}
for g in gs[:-1]:
    o.update({g - 1, g, g + 1, g + 3})
o.update(rnd.randrange(16, size) for _ in range(n))
print("\n".join(str(x) for x in sorted(o) if 16 <= x <= size))
PY
}

run_cuts() { # TRACE EXACT RANDOM [STRIDE]: cut at offsets; Go on every STRIDE-th repair
  local trace=$1 exact=$2 nrand=$3 stride=${4:-1} gs i=0
  mapfile -t gs < <(starts "$trace")
  trace_ok=0; "$ctrace" check -q "$trace" && trace_ok=1
  echo "--- $(basename "$trace"): ${#gs[@]} - 1 generations starting at ${gs[*]:0:${#gs[@]}-1}, size ${gs[-1]}"
  for c in $(offsets "$trace" "$nrand" "${gs[@]}"); do
    GO_EVERY=$(( i % stride == 0 ? 1 : 0 )) cut_case "$trace" "$c" "$exact"
    i=$((i + 1))
  done
}

# 1. A libctrace trace killed by SIGKILL, and cuts of it.
if [ -n "$child" ] && [ -x "$child" ]; then
  child=$(realpath "$child")
  killed=$tmp/killed.trace
  (cd "$tmp" && CTRACE_PERIOD=50ms exec "$child" "$killed" >child.out 2>child.err) &
  pid=$!
  for i in $(seq 100); do grep -q tracing "$tmp/child.out" 2>/dev/null && break; sleep 0.05; done
  # Kill once several generations are in the file (not after a fixed time:
  # a sanitizer build on a loaded machine writes them much more slowly).
  for i in $(seq 400); do
    [ -s "$killed" ] && [ "$(starts "$killed" 2>/dev/null | wc -l)" -ge 6 ] && break
    sleep 0.05
  done
  kill -KILL $pid; wait $pid 2>/dev/null
  [ -s "$killed" ] || { bad "the SIGKILL child wrote no trace: $(cat "$tmp/child.err")"; exit 1; }
  mapfile -t gs < <(starts "$killed")
  size=${gs[-1]} n=$((${#gs[@]} - 1))
  echo "--- killed trace: $size bytes, $n generations started"
  [ "$n" -ge 4 ] && ok "the killed child wrote $n generations" || bad "the killed child wrote $n generations"
  out=$("$ctrace" check "$killed"); rc=$?
  echo "$out"
  if [ $rc = 0 ]; then
    echo "note: the kill fell between two generations: nothing to repair"
  else
    [[ $out =~ truncated\ at\ offset\ $size:\ $((n - 1))\ complete\ generation ]] &&
      ok "check reports the killed trace truncated at its end, $((n - 1)) complete generations" ||
      bad "check on the killed trace: $out"
    rc=0; "$ctrace" repair "$killed" -o "$tmp/killed.rep" 2>"$tmp/rep.err" || rc=$?
    cat "$tmp/rep.err"
    [ $rc = 0 ] && [ "$(stat -c %s "$tmp/killed.rep")" = "${gs[-2]}" ] &&
      ok "repair keeps the killed trace's first ${gs[-2]} bytes" || bad "repair of the killed trace: exit $rc"
    go_accepts "$tmp/killed.rep" $((n - 1))
  fi
  # Cut it again everywhere (Go on every 4th repair: it is slow).
  run_cuts "$killed" 1 25 4
  lib=$killed
else
  echo "note: no SIGKILL child given: libctrace trace cases skipped"
  lib=
fi

# 2. Go's own traces with two generations.
for f in "$dir"/generations.go122.trace "$dir"/generations.go123.trace; do
  run_cuts "$f" 0 10 3
done

# 3. Damage after a valid trace: garbage, zeros.  Reported (not as a cut),
#    and repair drops exactly the tail.
good=${lib:-$dir/generations.go122.trace}
[ -n "$lib" ] && { mapfile -t gs < <(starts "$lib"); head -c "${gs[-2]}" "$lib" > "$tmp/good.trace"; good=$tmp/good.trace; }
gsize=$(stat -c %s "$good")
ngood=$("$ctrace" check "$good" | sed -n 's/.*, \([0-9]*\) generations*$/\1/p')
{ cat "$good"; printf 'this is not a batch'; } > "$tmp/garbage.trace"
head -c 4096 /dev/zero | cat "$good" - > "$tmp/zeros.trace"
for t in garbage zeros; do
  f=$tmp/$t.trace
  out=$("$ctrace" check "$f"); rc=$?
  [[ $rc = 1 && $out == *"error at offset $gsize: "*"(after $ngood complete generation"*": first $gsize bytes"* ]] &&
    ok "check on $t after the end: $out" || bad "check on $t after the end: exit $rc: $out"
  rc=0; "$ctrace" repair "$f" -o "$tmp/$t.rep" 2>"$tmp/rep.err" || rc=$?
  [ $rc = 0 ] && cmp -s "$good" "$tmp/$t.rep" && grep -q "dropped $(( $(stat -c %s "$f") - gsize )) bytes from offset $gsize" "$tmp/rep.err" &&
    ok "repair drops the $t: $(tail -n1 "$tmp/rep.err")" || bad "repair of $t: exit $rc: $(cat "$tmp/rep.err")"
done

# 4. A header alone: truncated, nothing to write.
head -c 16 "$good" > "$tmp/hdr.trace"
out=$("$ctrace" check "$tmp/hdr.trace"); rc=$?
[[ $rc = 1 && $out == *"truncated at offset 16: 0 complete generations"* ]] && ok "header only: $out" ||
  bad "header only: exit $rc: $out"
rc=0; "$ctrace" repair "$tmp/hdr.trace" -o "$tmp/hdr.rep" 2>/dev/null || rc=$?
[ $rc = 1 ] && [ ! -e "$tmp/hdr.rep" ] && ok "repair of a header alone: exit 1, nothing written" ||
  bad "repair of a header alone: exit $rc"

# 5. A valid trace is copied whole.
rc=0; "$ctrace" repair "$good" -o "$tmp/same.trace" 2>"$tmp/rep.err" || rc=$?
[ $rc = 0 ] && cmp -s "$good" "$tmp/same.trace" && grep -q "nothing dropped" "$tmp/rep.err" &&
  ok "repair of a valid trace copies it" || bad "repair of a valid trace: exit $rc: $(cat "$tmp/rep.err")"

# 6. v1 traces are declined.
old=$(ls "$dir"/*.go119.trace | head -1)
rc=0; "$ctrace" repair "$old" -o "$tmp/v1.rep" 2>"$tmp/rep.err" || rc=$?
[ $rc = 1 ] && [ ! -e "$tmp/v1.rep" ] && grep -q "v1" "$tmp/rep.err" && ok "v1 declined: $(cat "$tmp/rep.err")" ||
  bad "v1 trace: exit $rc: $(cat "$tmp/rep.err")"

# 7. OUT = IN is refused, by any path; IN stays as it was.
cp "$tmp/garbage.trace" "$tmp/in.trace"; ln "$tmp/in.trace" "$tmp/link.trace"
for o in "$tmp/in.trace" "$tmp/link.trace" "$tmp/../$(basename "$tmp")/in.trace"; do
  rc=0; "$ctrace" repair "$tmp/in.trace" -o "$o" 2>"$tmp/rep.err" || rc=$?
  [ $rc = 2 ] && cmp -s "$tmp/in.trace" "$tmp/garbage.trace" && ok "refuses to overwrite the input ($o)" ||
    bad "OUT=IN ($o): exit $rc: $(cat "$tmp/rep.err")"
done

# 8. '-': standard output and standard input.
rc=0; "$ctrace" repair "$tmp/garbage.trace" -o - > "$tmp/stdout.rep" 2>/dev/null || rc=$?
[ $rc = 0 ] && cmp -s "$good" "$tmp/stdout.rep" && ok "-o - writes the prefix to stdout" || bad "-o -: exit $rc"
rc=0; "$ctrace" repair - -o "$tmp/stdin.rep" < "$tmp/garbage.trace" 2>/dev/null || rc=$?
[ $rc = 0 ] && cmp -s "$good" "$tmp/stdin.rep" && ok "IN - reads stdin" || bad "IN -: exit $rc"
rc=0; "$ctrace" repair <(cat "$tmp/garbage.trace") -o "$tmp/pipe.rep" 2>/dev/null || rc=$?
[ $rc = 0 ] && cmp -s "$good" "$tmp/pipe.rep" && ok "IN a pipe" || bad "IN a pipe: exit $rc"

# 9. Usage errors.
rc=0; "$ctrace" repair "$good" >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] && ok "repair without -o: exit 2" || bad "repair without -o: exit $rc"

echo "$checks checks, $([ $fail = 0 ] && echo all passed || echo FAILURES)"
exit $fail
