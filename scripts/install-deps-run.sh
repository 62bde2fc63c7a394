#!/usr/bin/env bash
# install-deps-run.sh - the programs the `ctrace run` tests and benchmark
# drive (tests/interpose, bench/run), installed idempotently with apt-get.
#
#   scripts/install-deps-run.sh          install what is missing
#   scripts/install-deps-run.sh --check  only report what is missing
#   scripts/install-deps-run.sh --bench  also the comparison tools of
#                                        bench/run (strace, perf, LTTng-UST)
# Run as root.  Debian bookworm is the reference system.
set -euo pipefail

check_only=0 bench=0
for a in "$@"; do
    case $a in --check) check_only=1 ;; --bench) bench=1 ;; esac
done

pkgs=(pigz zstd xz-utils sqlite3 redis-server redis-tools python3)
[ $bench = 1 ] && pkgs+=(strace linux-perf lttng-tools liblttng-ust-dev)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "install-deps-run: everything is installed"; exit 0; }

if [ $check_only = 1 ] || [ "$(id -u)" != 0 ]; then
    echo "install-deps-run: missing packages: ${missing[*]}" >&2
    echo "install-deps-run: install them with: sudo bash scripts/install-deps-run.sh" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# redis-server's package starts a service where an init system runs; the
# tests start their own servers on free loopback ports and do not need it.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps-run: installed ${missing[*]}"
