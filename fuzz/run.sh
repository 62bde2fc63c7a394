#!/bin/bash
# fuzz/run.sh SECONDS [BUILD_DIR] - builds the libFuzzer targets with clang
# (in BUILD_DIR, default build-fuzz) and runs each for SECONDS seconds on a
# corpus seeded from testdata/traces.  Exits non-zero if a target finds a
# crash, hang (>10 s per input), leak or sanitizer error; reproducers are
# left in BUILD_DIR/fuzz/artifacts/.
set -eu
secs=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$root/build-fuzz}
cc=${CC:-}
if [ -z "$cc" ]; then
  for c in clang clang-14; do command -v $c >/dev/null && cc=$c && break; done
fi
[ -n "$cc" ] || { echo "fuzz/run.sh: clang not found"; exit 1; }
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="$cc" -DCTRACE_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF -DCTRACE_BENCH=OFF >/dev/null
targets=""
for t in fuzz_v2 fuzz_v1 fuzz_settings fuzz_symbolize fuzz_export; do
  [ -f "$root/fuzz/$t.c" ] && targets="$targets $t"
done
cmake --build "$build" -j"$(nproc)" --target $targets >/dev/null
status=0
for t in $targets; do
  corpus=$build/fuzz/corpus/$t
  art=$build/fuzz/artifacts/$t/
  mkdir -p "$corpus" "$art"
  case $t in
    fuzz_v2) pat='*.go12[2-9].trace' ;;
    fuzz_v1) pat='*.go11[0-9].trace *.go12[01].trace' ;;
    fuzz_settings) pat='' ;; # its seeds are in fuzz/seeds/fuzz_settings
    fuzz_symbolize) pat='' ;; # libctrace traces with unnamed frames: fuzz/seeds/fuzz_symbolize
    # Every fixture, v1 and v2, and fuzz_symbolize's (libctrace traces) and
    # fuzz_v2's seeds; its regressions are in fuzz/seeds/fuzz_export.
    fuzz_export) pat='*.trace ../../fuzz/seeds/fuzz_symbolize/* ../../fuzz/seeds/fuzz_v2/*' ;;
  esac
  for p in $pat; do
    for f in "$root"/testdata/traces/$p; do
      [ -f "$f" ] && cp -n "$f" "$corpus/" 2>/dev/null || true
    done
  done
  for f in "$root"/fuzz/seeds/$t/*; do
    [ -f "$f" ] && cp -n "$f" "$corpus/" 2>/dev/null || true
  done
  t_secs=$secs
  # A 64-byte text parser is covered in a fraction of the time.
  [ $t = fuzz_settings ] && t_secs=$(( secs / 4 > 5 ? secs / 4 : 5 ))
  echo "== $t: ${t_secs}s, corpus $(ls "$corpus" | wc -l) files"
  dict=() # a target's dictionary, if it has one: fuzz/TARGET.dict
  [ -f "$root/fuzz/$t.dict" ] && dict=(-dict="$root/fuzz/$t.dict")
  if ! "$build/fuzz/$t" -max_total_time="$t_secs" -timeout=10 -rss_limit_mb=2048 \
      -max_len=262144 -artifact_prefix="$art" -print_final_stats=1 ${dict[@]+"${dict[@]}"} "$corpus" \
      >"$build/fuzz/$t.log" 2>&1; then
    echo "FAIL: $t found a problem; see $build/fuzz/$t.log and $art"
    tail -30 "$build/fuzz/$t.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$build/fuzz/$t.log" | tail -2
  fi
done
exit $status
