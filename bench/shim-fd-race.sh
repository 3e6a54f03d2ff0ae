#!/bin/sh
# SPDX-License-Identifier: MIT
# shim-fd-race.sh: how often threads racing on descriptor numbers make the
# shim send a /proc path with a write (the race fixed in 5c429f4: a close
# cleared the shim's table after another thread's open had refilled it).
#
#   sh bench/shim-fd-race.sh [--build DIR] [--runs N] [--threads T] [--files F]
#
# Runs build/tests/helpers/shimprobe tmprace (T threads, each F O_TMPFILEs:
# open, write one byte, close) under the shim of DIR (default build/) N
# times and counts the write records that carry PATH_FROM_FD.  The figure
# depends on the machine's load: say it with the result.
# Prints key=value lines; figures go to bench/RESULTS.md by hand.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build
runs=10
threads=4
files=3000
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --files) files=$2; shift 2 ;;
        *) echo "usage: $0 [--build DIR] [--runs N] [--threads T] [--files F]" >&2; exit 2 ;;
    esac
done
build=$(cd "$build" && pwd)
probe=$build/tests/helpers/shimprobe
[ -x "$probe" ] || { echo "$0: $probe missing: make all first" >&2; exit 2; }
tmp=$(mktemp -d /var/tmp/shim-fd-race.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/d"
total=0
hit_runs=0
i=0
while [ "$i" -lt "$runs" ]; do
    i=$((i + 1))
    rm -f "$tmp/t.cfit"
    "$build/plugpull" trace record -o "$tmp/t.cfit" -- "$probe" tmprace "$tmp/d" "$threads" "$files" >/dev/null 2>&1
    n=$("$build/plugpull" trace dump "$tmp/t.cfit" | grep -c '^#[0-9]* .* write(write) .*\[PATH_FROM_FD' || true)
    total=$((total + n))
    [ "$n" -eq 0 ] || hit_runs=$((hit_runs + 1))
done
echo "build=$build"
echo "runs=$runs threads=$threads files_per_thread=$files"
echo "writes_with_path=$total runs_with_any=$hit_runs"
echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
