#!/bin/sh
# SPDX-License-Identifier: MIT
# farm-compare.sh: what building crash states over a farm kept between
# cases (harness/sim/sim-farm.h) changes, on one recording: `plugpull sim
# --recording REC --shard 1/N --jobs 2` with PLUGPULL_STATE_FRESH=1
# (before: every state a fresh hardlink farm, removed whole) and without
# (after), ROUNDS rounds interleaved so the machine's load falls on both.
#
#   sh bench/farm-compare.sh REC N ROUNDS [--build DIR]
#
# REC is a recording (`plugpull sim --record-only`, e.g. of
# images/build-debian-firmware.sh --size full with --repo/--from/--to).
# Prints one line per run (states/minute, median materialise / judge /
# remove seconds per judged state, CPU seconds, peak RSS, load, outcomes:
# bench/sim-run-line.py) and the
# medians with the ratio after/before.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 3 ] || { echo "usage: $0 REC N ROUNDS [--build DIR]" >&2; exit 2; }
rec=$1 n=$2 rounds=$3
shift 3
build=$here/build
[ "${1:-}" = --build ] && build=$2
pp=$build/plugpull
tmp=$(mktemp -d /var/tmp/pp-farm-compare.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

one() {     # MODE ROUND
    out=$tmp/$1-$2
    load=$(cut -d' ' -f1 /proc/loadavg)
    if [ "$1" = before ]; then
        PLUGPULL_STATE_FRESH=1 /usr/bin/time -f "%U %S %M" -o "$out.time" \
            "$pp" sim --recording "$rec" --shard "1/$n" --jobs 2 --out "$out" \
            >"$out.log" 2>&1 || true
    else
        /usr/bin/time -f "%U %S %M" -o "$out.time" \
            "$pp" sim --recording "$rec" --shard "1/$n" --jobs 2 --out "$out" \
            >"$out.log" 2>&1 || true
    fi
    python3 "$here/bench/sim-run-line.py" "$out" "$1" "$2" "$load"
}

echo "date=$(date -u +%Y-%m-%dT%H:%MZ) cpus=$(nproc) recording=$rec shard=1/$n"
r=1
while [ "$r" -le "$rounds" ]; do
    one before "$r" | tee -a "$tmp/lines"
    one after "$r" | tee -a "$tmp/lines"
    r=$((r + 1))
done
python3 - "$tmp/lines" <<'PY'
import statistics, sys
rows = [dict(kv.split("=") for kv in l.split()[1:]) | {"mode": l.split()[0]}
        for l in open(sys.argv[1])]
for key in ("states_per_minute", "materialise_s", "judge_s", "remove_s", "cpu_s"):
    b = statistics.median(float(r[key]) for r in rows if r["mode"] == "before")
    a = statistics.median(float(r[key]) for r in rows if r["mode"] == "after")
    print("median %s before=%.3f after=%.3f ratio=%.2f" % (key, b, a, a / b if b else 0))
PY
