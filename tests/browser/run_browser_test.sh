#!/usr/bin/env bash
# run_browser_test.sh TEST.js ARGS... - runs one browser test of this folder
# (node TEST.js ARGS...) once everything it drives is there.
#
# Invariants:
#   - A test never runs half-equipped: Go 1.22 and 1.23 (go_toolchain.sh),
#     Chromium (/usr/bin/chromium, or CTRACE_CHROMIUM), node, the npm
#     packages of package-lock.json in tests/browser/node_modules, and the
#     programs named in CTRACE_BROWSER_NEEDS (e.g. pigz) are checked first.
#     One missing: exit 77 (ctest: skipped), or a failure when CI is set --
#     exactly as need_go treats a missing Go.  scripts/install-deps.sh (and
#     install-deps-run.sh for the traced programs) install all of them.
#   - Nothing here downloads anything: the browser is Debian's, and
#     playwright-core is told never to fetch one of its own.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../go_toolchain.sh"
need_go 22 23

# need WHAT WHY: exit 77 (skipped), or 1 under CI, saying what is missing.
need() {
    if [ -n "${CI:-}" ]; then
        echo "FAIL: $1 not installed ($2), and CI is set"
        exit 1
    fi
    echo "SKIP: $1 not installed ($2): this test needs it"
    exit 77
}
chromium=${CTRACE_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || need "Chromium at $chromium" "scripts/install-deps.sh: apt package chromium"
command -v node >/dev/null || need "node" "scripts/install-deps.sh: apt package nodejs"
for pkg in playwright-core speedscope; do
    (cd "$here" && node -e "require.resolve('$pkg/package.json')" 2>/dev/null) ||
        need "npm package $pkg in $here/node_modules" "scripts/install-deps.sh runs npm ci there"
done
for prog in ${CTRACE_BROWSER_NEEDS:-}; do
    command -v "$prog" >/dev/null || need "$prog" "scripts/install-deps-run.sh"
done

export CTRACE_CHROMIUM=$chromium PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
exec node "$here/$1" "${@:2}"
