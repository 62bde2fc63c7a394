#!/bin/bash
# ahead_outputs.sh CTRACE TRACE-OR-DIR... - the tools that read a whole
# trace print exactly the same with the reader reading ahead on a thread
# of its own (-j 2) as on one thread (-j 1): stat (text and --json), pprof
# of every kind, export to every format (csv: every file), dump (plain,
# --stacks, --go, and from a pipe), with the same exit status and the same
# messages.  On every trace given (a directory: its *.trace files) and on
# each cut in half (an error after some events).
set -u
ctrace=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
traces=()
for a in "$@"; do
  if [ -d "$a" ]; then traces+=("$a"/*.trace); else traces+=("$a"); fi
done
cuts=()
for t in "${traces[@]}"; do
  c=$tmp/$(basename "$t" .trace).cut.trace
  head -c $(($(stat -c %s "$t") / 2)) "$t" >"$c"
  cuts+=("$c")
done
fail=0 n=0
# run J NAME CMD...: the command's output files, stdout, stderr and status
# into $tmp/J/NAME.* (OUT in the arguments: the output path).
run() {
  local j=$1 name=$2 d=$tmp/$1 a args=()
  shift 2
  mkdir -p "$d"
  for a in "$@"; do args+=("${a//OUT/$d/$name.out}"); done
  "${args[@]}" >"$d/$name.stdout" 2>"$d/$name.stderr"
  echo $? >"$d/$name.status"
  sed -i "s|$d/|DIR/|g" "$d/$name.stderr" "$d/$name.stdout"
}
# sums J NAME: one line per file of the run, with its md5.
sums() {
  (cd "$tmp/$1" && find . -path "./$2.*" -type f | sort | xargs md5sum)
}
for t in "${traces[@]}" "${cuts[@]}"; do
  b=$(basename "$t")
  for j in 1 2; do
    rm -rf "${tmp:?}/$j"
    run $j stat "$ctrace" stat -j $j "$t"
    run $j statjson "$ctrace" stat --json -j $j "$t"
    for k in cpu sync net syscall sched region; do
      run $j "pprof_$k" "$ctrace" pprof "$k" "$t" -j $j -o OUT
    done
    for f in perfetto chrome go1.19 csv; do
      run $j "export_$f" "$ctrace" export -f $f -j $j -o OUT "$t"
    done
    run $j dump "$ctrace" dump -j $j "$t"
    run $j dumpstacks "$ctrace" dump --stacks -j $j "$t"
    run $j dumpgo "$ctrace" dump --go -j $j "$t"
    "$ctrace" dump -j $j - <"$t" >"$tmp/$j/dumpstdin.stdout" 2>"$tmp/$j/dumpstdin.stderr"
    echo $? >"$tmp/$j/dumpstdin.status"
  done
  for name in stat statjson pprof_cpu pprof_sync pprof_net pprof_syscall pprof_sched pprof_region \
    export_perfetto export_chrome export_go1.19 export_csv dump dumpstacks dumpgo dumpstdin; do
    n=$((n + 1))
    if [ "$(sums 1 $name)" != "$(sums 2 $name)" ]; then
      echo "FAIL: $b: $name differs between -j 1 and -j 2:"
      diff <(sums 1 $name) <(sums 2 $name) | head -5
      fail=1
    fi
  done
  # A whole trace must have given something to compare.
  case $b in
    *.cut.trace) ;;
    *) [ -s "$tmp/1/dump.stdout" ] || { echo "FAIL: $b: dump printed nothing"; fail=1; } ;;
  esac
done
echo "$n outputs of ${#traces[@]} traces and their cuts: -j 1 and -j 2 $([ $fail = 0 ] && echo the same || echo DIFFER)"
exit $fail
