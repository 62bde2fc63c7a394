#!/usr/bin/env bash
# check-test-names.sh BUILD_DIR
#
# Checks the ctest tests registered in BUILD_DIR follow tests/README.md:
# each named AREA.NAME (AREA one of the test folders, NAME without a dot,
# [a-z0-9_]), labelled AREA, and -- if its command is a script that sources
# tests/go_toolchain.sh or lib.sh, i.e. runs Go -- labelled `go` and
# registered with SKIP_RETURN_CODE 77.  Prints every offender; exit 1 if
# any, 2 on usage errors.  Run by `make test`.
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: check-test-names.sh BUILD_DIR" >&2; exit 2; }
command -v python3 >/dev/null || { echo "check-test-names: python3 not installed" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
(cd "$1" && ctest --show-only=json-v1) | python3 -c '
import json, os, re, sys
src = sys.argv[1]
areas = {"format", "settings", "runtime", "unwind", "reader", "interpose", "integration", "tools", "analysis", "export", "browser"}
bad = 0
def go_script(cmd):
    # A script of the tree that runs Go: it sources go_toolchain.sh, or
    # lib.sh (which does), or hands its traces to compare_go.sh.
    for a in cmd:
        if a.startswith(src) and a.endswith(".sh") and os.path.isfile(a):
            text = open(a).read()
            if re.search(r"go_toolchain\.sh|integration/lib\.sh|/lib\.sh\"|compare_go\.sh", text):
                return True
    return False
tests = json.load(sys.stdin)["tests"]
for t in tests:
    name = t["name"]
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    labels = props.get("LABELS", [])
    m = re.fullmatch(r"([a-z]+)\.([a-z0-9_]+)", name)
    why = []
    if not m or m.group(1) not in areas:
        why.append("not named AREA.NAME with AREA in " + ",".join(sorted(areas)))
    elif m.group(1) not in labels:
        why.append("no label " + m.group(1))
    if go_script(t.get("command", [])):
        if "go" not in labels:
            why.append("runs Go but has no label go")
        if props.get("SKIP_RETURN_CODE") != 77:
            why.append("runs Go but is not registered with SKIP_RETURN_CODE 77")
    if why:
        bad += 1
        print("check-test-names: %s: %s" % (name, "; ".join(why)))
print("check-test-names: %d tests, %d not following tests/README.md" % (len(tests), bad))
sys.exit(1 if bad else 0)
' "$src"
