#!/bin/sh
# SPDX-License-Identifier: MIT
# recording-compare.sh: two builds of plugpull on one recording, rounds
# interleaved so the machine's load falls on both: `plugpull sim
# --recording REC --shard SHARD --jobs 2` with each build in turn.
#
#   sh bench/recording-compare.sh OLD_BUILD NEW_BUILD REC SHARD ROUNDS
#
# OLD_BUILD and NEW_BUILD are build directories (each with a plugpull),
# REC a recording (`plugpull sim --record-only`), SHARD K/N.  Prints one
# line per run: states/minute, median materialise / judge / remove
# seconds per judged state, CPU seconds (user + system), peak RSS, the
# load average at the start and end, and the outcomes
# (bench/sim-run-line.py).
set -eu
[ $# -eq 5 ] || { echo "usage: $0 OLD_BUILD NEW_BUILD REC SHARD ROUNDS" >&2; exit 2; }
old=$1 new=$2 rec=$3 shard=$4 rounds=$5
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /var/tmp/pp-recording-compare.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
r=1
while [ "$r" -le "$rounds" ]; do
    for mode in before after; do
        b=$old
        [ "$mode" = after ] && b=$new
        out=$tmp/$mode-$r
        load=$(cut -d' ' -f1 /proc/loadavg)
        /usr/bin/time -f "%U %S %M" -o "$out.time" "$b/plugpull" sim \
            --recording "$rec" --shard "$shard" --jobs 2 --out "$out" \
            >"$out.log" 2>&1 || true
        python3 "$here/sim-run-line.py" "$out" "$mode" "$r" "$load"
    done
    r=$((r + 1))
done
