#!/bin/bash
# export_fixtures.sh CTRACE TRACEDIR - `ctrace export` of every fixture
# (Go 1.19 v1, 1.22, 1.23 traces) in both formats: the Perfetto output
# decodes with protoc against perfetto_min.proto, the Chrome output is valid
# JSON, and both hold what `ctrace dump` says the trace holds
# (check_export.py).  Then all the 1.23 fixtures merged into one timeline.
# Exit 77 without protoc or python3 (a failure under CI).
set -u
ctrace=$1 dir=$2
. "$(dirname "$0")/export_lib.sh"
need_tool protoc
need_tool python3
traces=("$dir"/*.go119.trace "$dir"/*.go122.trace "$dir"/*.go123.trace)
[ -f "${traces[0]}" ] || { echo "FAIL: no fixtures in $dir"; exit 1; }
for t in "${traces[@]}"; do
  b=$(basename "$t" .trace)
  export_check perfetto "$b.pb" "$t"
  export_check chrome "$b.json" "$t"
done
merged=("$dir"/*.go123.trace)
export_check perfetto merged.pb "${merged[@]}"
export_check chrome merged.json "${merged[@]}"
[ $fail = 0 ] && echo "export_fixtures: all passed" || echo "export_fixtures: failed"
exit $fail
