# need_tools.sh - sourced by test scripts: fail MESSAGE, and need_tools
# TOOL... which exits 77 (skipped) when a program is missing, or fails
# under CI (tests/README.md: a test whose tool is missing never passes).
fail() { echo "FAIL: $*" >&2; exit 1; }
need_tools() {
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 && continue
        [ -n "${CI:-}" ] && fail "$t not installed (scripts/install-deps.sh, scripts/install-deps-run.sh)"
        echo "SKIP: $t not installed (scripts/install-deps.sh, scripts/install-deps-run.sh)"; exit 77
    done
}
