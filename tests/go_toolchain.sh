# go_toolchain.sh - sourced by every test script that runs Go's toolchain
# (go tool trace, go build): where the toolchains are, and what a test does
# when one is missing.
#
# Invariants:
#   - Every Go toolchain a test runs is found here, under CTRACE_GO_ROOT
#     (default /usr/lib, where scripts/install-deps.sh puts go-1.19,
#     go-1.22, go-1.23): GO119, GO122, GO123 name the go binaries (each may
#     be set on its own to override).  Pointing CTRACE_GO_ROOT at an empty
#     directory hides Go from the whole suite, which is how the skip path
#     is tested.
#   - need_go VERSION... is called before the test checks anything: a test
#     whose toolchain is missing exits 77, which CMake registers as
#     SKIP_RETURN_CODE 77, so ctest reports it "skipped" -- it never passes
#     without having checked, and never vanishes.  With CI set (.ci/run
#     installs every toolchain) a missing toolchain is a failure instead.
#   - The go command never fetches another toolchain (GOTOOLCHAIN=local):
#     there is no network in CI.

CTRACE_GO_ROOT=${CTRACE_GO_ROOT:-/usr/lib}
GO119=${GO119:-$CTRACE_GO_ROOT/go-1.19/bin/go}
GO122=${GO122:-$CTRACE_GO_ROOT/go-1.22/bin/go}
GO123=${GO123:-$CTRACE_GO_ROOT/go-1.23/bin/go}
export CTRACE_GO_ROOT GO119 GO122 GO123 GOTOOLCHAIN=local
# scripts/gotrace-validate.sh and scripts/gotrace-summary.sh (and the
# programs they drive) take their toolchains from these.
export GOTRACE_VALIDATE_GOS="$GO122 $GO123" GOTRACE_GO=$GO123

# need_go VERSION...: exit 77 (skipped) unless each Go 1.VERSION toolchain
# (19, 22, 23) is installed; exit 1 if CI is set.
need_go() {
    local v go
    for v in "$@"; do
        case $v in
        19) go=$GO119 ;;
        22) go=$GO122 ;;
        23) go=$GO123 ;;
        *) echo "FAIL: need_go: unknown Go version 1.$v"; exit 1 ;;
        esac
        [ -x "$go" ] && continue
        if [ -n "${CI:-}" ]; then
            echo "FAIL: Go 1.$v not installed at $go (scripts/install-deps.sh), and CI is set"
            exit 1
        fi
        echo "SKIP: Go 1.$v not installed at $go (scripts/install-deps.sh): this test needs it"
        exit 77
    done
}
