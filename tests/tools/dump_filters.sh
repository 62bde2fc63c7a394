#!/usr/bin/env bash
# dump_filters.sh CTRACE FIXTURE_DIR [ANNOTATIONS_EXAMPLE]
#
# `ctrace dump`'s names and filters, as a user reads the lines (no Go):
#   - every filtered dump is a subsequence of the whole dump (same lines,
#     same order), and holds exactly the lines of the whole dump that the
#     filter describes (recomputed here from the whole dump's fields):
#     --kind (any case, lists), --m, --g (ID: the event's G or the goroutine
#     a transition is about), --from/--to with units, combined filters;
#   - on a trace libctrace writes (examples/annotations, thread names
#     "main-loop", "db-worker", "bg-flusher"): lines of a named thread end
#     with gname="NAME (tid N)", and --g=NAME selects that thread's events;
#   - bad filters are usage errors (exit 2).
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: dump_filters.sh CTRACE FIXTURE_DIR [ANNOTATIONS_EXAMPLE]" >&2; exit 2; }
ctrace=$1 dir=$2 ex=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# subseq SUB ALL: every line of SUB occurs in ALL, in the same order.
subseq() {
    awk -v s="$1" 'BEGIN { st = (getline want < s) > 0 ? 1 : 2 }
                   st == 1 && $0 == want { if ((getline want < s) <= 0) st = 2 }
                   END { exit st != 2 }' "$2"
}

# check NAME "FILTER ARGS" AWK_CONDITION: the filtered dump of $f is a
# subsequence of the whole dump and equals its lines meeting the condition.
check() {
    local name=$1 args=$2 cond=$3
    # shellcheck disable=SC2086
    "$ctrace" dump $args "$f" > "$tmp/sub" 2> "$tmp/err" || { bad "$b: dump $args exit $?: $(head -c 200 "$tmp/err")"; return; }
    if subseq "$tmp/sub" "$tmp/all"; then ok; else bad "$b: dump $args is not a subsequence of the whole dump"; fi
    awk "$cond" "$tmp/all" > "$tmp/want"
    if cmp -s "$tmp/want" "$tmp/sub"; then ok
    else bad "$b: $name: dump $args printed $(wc -l < "$tmp/sub") lines, the whole dump has $(wc -l < "$tmp/want") such lines"; fi
    nonempty=$((nonempty + $(wc -l < "$tmp/sub")))
}

nonempty=0
for f in "$dir"/*.trace; do
    b=$(basename "$f")
    "$ctrace" dump "$f" > "$tmp/all" || { bad "$b: dump"; continue; }
    n=$(wc -l < "$tmp/all")
    m=$(awk 'NR == int('"$n"' / 2) { sub(/^M=/, "", $3); print $3 }' "$tmp/all")
    g=$(awk '$5 ~ /^G=[0-9]/ { sub(/^G=/, "", $5); print $5; exit }' "$tmp/all")
    mid=$(awk 'NR == int('"$n"' / 3) { print $1 }' "$tmp/all")
    end=$(awk 'NR == int(2 * '"$n"' / 3) { print $1 }' "$tmp/all")
    check kind "--kind=statetransition,RegionBegin" '$2 == "StateTransition" || $2 == "RegionBegin"'
    check m "--m=$m" '$3 == "M='"$m"'"'
    check g "--g $g" '$5 == "G='"$g"'" || ($2 == "StateTransition" && $6 == "goroutine='"$g"'")'
    # Times as a user types them: microseconds with a fraction.
    from_us=$(awk -v t="$mid" 'BEGIN { printf "%.3fus", t / 1000 }')
    to_ms=$(awk -v t="$end" 'BEGIN { printf "%.6fms", t / 1e6 }')
    lo=$(awk -v t="$mid" 'BEGIN { printf "%.0f", t }') hi=$(awk -v t="$end" 'BEGIN { printf "%.0f", t }')
    check window "--from=$from_us --to=$to_ms" '$1 >= '"$lo"' && $1 <= '"$hi"
    check combined "--from=$from_us --kind=StateTransition --g=$g" \
        '$1 >= '"$lo"' && $2 == "StateTransition" && ($5 == "G='"$g"'" || $6 == "goroutine='"$g"'")'
    check none "--kind=Sync --m=999999999" '0'
done
[ $nonempty -gt 0 ] && ok || bad "no filter selected anything"

# Usage errors.
f=$dir/sleep.go123.trace
for args in "--kind=Bogus" "--from=5xs" "--from=nan" "--to=" "--m=abc" "--go --kind=Log"; do
    # shellcheck disable=SC2086
    "$ctrace" dump $args "$f" > /dev/null 2>&1; rc=$?
    [ $rc -eq 2 ] && ok || bad "dump $args exit $rc (want 2)"
done
"$ctrace" dump --help | grep -q -- '--from=TIME' && ok || bad "dump --help does not document --from"

# Thread names on a libctrace trace.
if [ -n "$ex" ]; then
    t=$tmp/annotations.trace
    if "$ex" "$t" > /dev/null; then
        "$ctrace" dump "$t" > "$tmp/an"
        # The db-worker threads' region begins carry their name.
        if awk '$2 == "RegionBegin" && / name="query" / && !/ gname="db-worker \(tid [0-9]+\)"$/ { bad = 1 } / gname="db-worker \(tid [0-9]+\)"$/ { n++ } END { exit bad || !n }' "$tmp/an"
        then ok; else bad "annotations: query regions without gname=\"db-worker\""; fi
        if awk '$2 == "Label" { l = $0; sub(/.* label=/, "", l); sub(/ gname=.*/, "", l); g = $0; sub(/.* gname=/, "", g); if (l != g) bad = 1 } END { exit bad }' "$tmp/an"
        then ok; else bad "annotations: a Label line's gname is not its label"; fi
        "$ctrace" dump --g=db-worker "$t" > "$tmp/dw"
        if [ -s "$tmp/dw" ] && subseq "$tmp/dw" "$tmp/an" &&
           [ "$(grep -cE 'gname="db-worker \(tid [0-9]+\)"$' "$tmp/dw")" -ge "$(awk '$2 != "StateTransition"' "$tmp/dw" | wc -l)" ] &&
           grep -q ' name="query" ' "$tmp/dw" && ! grep -qE 'gname="main-loop \(tid [0-9]+\)"$' "$tmp/dw"; then ok
        else bad "annotations: --g=db-worker: $(head -3 "$tmp/dw")"; fi
    else
        bad "$ex failed"
    fi
fi

echo "dump_filters: $pass passed, $fail failed"
[ $fail -eq 0 ]
