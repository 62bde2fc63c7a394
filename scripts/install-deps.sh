#!/usr/bin/env bash
# Installs what ctrace needs to build and test, idempotently.
#
#   scripts/install-deps.sh          build deps + test deps (Go 1.22/1.23 from backports,
#                                    protoc for the export tests, Chromium, graphviz,
#                                    node, and the npm packages of tests/browser
#                                    and tests/export/duckdb)
#   scripts/install-deps.sh --check  only report what is missing, install nothing
#
# Run as root (apt-get).  Debian bookworm is the reference system.  The
# bookworm-backports entry (for golang-1.22-go and golang-1.23-go) is derived
# from the machine's own Debian source entry, so no archive host is named here.
set -euo pipefail

check_only=0
[ "${1:-}" = "--check" ] && check_only=1

pkgs=(cmake make gcc clang libclang-rt-14-dev pkg-config
      libdw-dev libelf-dev libunwind-dev zlib1g-dev
      libiberty-dev       # libiberty.a: the C++/Rust demangler (src/demangle)
      golang-1.19-go golang-1.22-go golang-1.23-go
      protobuf-compiler   # protoc: the export tests decode Perfetto output
      chromium graphviz   # the browser tests (tests/browser): Debian's browser; dot
                          # draws go tool trace's profile graphs
      gdb)                # a test program's watchdog prints every thread's stack
                          # when it hangs (tests/integration/testutil.h)

# node and npm: Debian's nodejs and npm, unless a node with its npm is
# already there (another packaging of node ships npm inside its nodejs).
command -v npm >/dev/null || pkgs+=(nodejs npm)

# The npm packages of the tests, each folder from its committed lock file
# (its .npmrc keeps registry addresses out of the lock), into the folder's
# node_modules (ignored by git), with npm ci and without install scripts:
#   tests/browser        playwright-core (drives /usr/bin/chromium, never
#                        downloads a browser of its own) and speedscope;
#   tests/export/duckdb  @duckdb/node-api (the CSV export's test).
root=$(cd "$(dirname "$0")/.." && pwd)
npm_dirs=("$root/tests/browser" "$root/tests/export/duckdb")
npm_ok() { command -v npm >/dev/null && (cd "$1" && npm ls --all >/dev/null 2>&1); }
npm_missing=()
for d in "${npm_dirs[@]}"; do npm_ok "$d" || npm_missing+=("$d"); done
npm_install() {
    local d
    for d in "${npm_missing[@]}"; do
        (cd "$d" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
        echo "install-deps: installed the npm packages of ${d#$root/} (npm ci)"
    done
}

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && [ ${#npm_missing[@]} -eq 0 ] && { echo "install-deps: everything is installed"; exit 0; }

if [ ${#missing[@]} -eq 0 ]; then
    # Only the npm packages (they need no root).
    [ $check_only = 1 ] && { echo "install-deps: missing the npm packages of: ${npm_missing[*]#$root/} (install with: bash scripts/install-deps.sh)" >&2; exit 1; }
    npm_install
    exit 0
fi
if [ $check_only = 1 ] || [ "$(id -u)" != 0 ]; then
    [ ${#npm_missing[@]} -gt 0 ] && echo "install-deps: missing the npm packages of: ${npm_missing[*]#$root/}" >&2
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: install them with: sudo bash scripts/install-deps.sh" >&2
    exit 1
fi

# Enable bookworm-backports by copying the stanza of the existing Debian
# source entry (deb822 .sources or one-line .list) with the suite renamed.
enable_backports() {
    grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
    local src out=/etc/apt/sources.list.d/ctrace-backports.sources
    for src in /etc/apt/sources.list.d/*.sources; do
        [ -f "$src" ] || continue
        # First deb822 stanza whose Suites line names plain bookworm.
        awk -v RS= -v ORS='\n\n' '/Suites:[^\n]*(^|[ \t])bookworm([ \t\n]|$)/ && !done {
                 gsub(/Suites:[^\n]*/, "Suites: bookworm-backports"); print; done=1 }' "$src" > "$out.tmp"
        if [ -s "$out.tmp" ]; then
            # drop comment lines that may carry a snapshot address
            grep -v '^#' "$out.tmp" > "$out"; rm -f "$out.tmp"; return 0
        fi
        rm -f "$out.tmp"
    done
    # One-line format fallback.
    local line
    line=$(grep -hE '^deb .* bookworm( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1 || true)
    if [ -n "$line" ]; then
        echo "$line" | sed -E 's/ bookworm( |$)/ bookworm-backports\1/' > /etc/apt/sources.list.d/ctrace-backports.list
        return 0
    fi
    echo "install-deps: no Debian bookworm source entry to derive backports from" >&2
    return 1
}

case " ${missing[*]} " in *" golang-1.2"*) enable_backports ;; esac
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: installed ${missing[*]}"
npm_install
