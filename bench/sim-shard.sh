#!/bin/sh
# SPDX-License-Identifier: MIT
# sim-shard.sh BUILD RUNS OUT.md: what CI scale-out costs on one machine.
# The default campaign (barriers, resume sample:16) run unsharded
# (recording included), then as record-only + 4 shards one after the
# other + merge, and unsharded on that recording.  For each command its
# CPU time (user + system, children included: the clients, cp) and its
# wall time; RUNS interleaved rounds.  CPU time is the cost on CI runners
# and stays meaningful on a machine shared with other work; the wall
# times are given for what they are worth there.
set -eu
build=$(cd "$1" && pwd)
runs=$2
out=$3
shards=4
tmp=$(mktemp -d /var/tmp/pp-bench-shard.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# timed NAME CMD...: append "NAME cpu wall" to $tmp/t; exit 0 or 1 (failures) is fine
timed() {
    name=$1
    shift
    rc=0
    /usr/bin/time -f "%U %S %e" -o "$tmp/time" "$@" >"$tmp/log" 2>&1 || rc=$?
    [ "$rc" -le 1 ] || { cat "$tmp/log" >&2; exit 1; }
    awk -v n="$name" '{ printf "%s %.2f %.2f\n", n, $1 + $2, $3 }' "$tmp/time" >>"$tmp/t"
}

: >"$tmp/raw"
for r in $(seq 1 "$runs"); do
    d=$tmp/r$r
    mkdir -p "$d"
    : >"$tmp/t"
    timed unsharded "$build/plugpull" sim --out "$d/u"
    timed record "$build/plugpull" sim --record-only --out "$d/rec"
    for k in $(seq 1 $shards); do
        timed shard "$build/plugpull" sim --recording "$d/rec" --shard "$k/$shards" --out "$d/s$k"
    done
    timed merge "$build/plugpull" merge "$d"/s* --out "$d/m"
    timed on-recording "$build/plugpull" sim --recording "$d/rec" --out "$d/ur"
    cases=$(jq .cases "$d/m/summary.json")
    [ "$cases" = "$(jq .cases "$d/ur/summary.json")" ] || { echo "merged and unsharded case counts differ" >&2; exit 1; }
    awk -v r="$r" -v c="$cases" '
        $1 == "shard" { sc += $2; sw += $3; if ($3 > mw) mw = $3; next }
        { cpu[$1] = $2; wall[$1] = $3 }
        END {
            seq = cpu["record"] + sc + cpu["merge"]
            printf "run=%s cases=%s cpu: unsharded=%.1f record=%.1f shards=%.1f merge=%.2f sharded=%.1f ratio=%.3f on-recording=%.1f", r, c, cpu["unsharded"], cpu["record"], sc, cpu["merge"], seq, seq / cpu["unsharded"], cpu["on-recording"]
            printf " | wall: w-unsharded=%.1f w-record=%.1f w-shards-sum=%.1f w-shards-max=%.1f w-merge=%.2f w-on-recording=%.1f\n", wall["unsharded"], wall["record"], sw, mw, wall["merge"], wall["on-recording"]
        }' "$tmp/t" >>"$tmp/raw"
    rm -rf "$d"
done

col() { sed "s/.* $1=\([0-9.]*\).*/\1/" "$tmp/raw" | median; }
{
    echo "### sim: CI scale-out on one machine (record once + $shards shards + merge)"
    echo
    echo "The default campaign (\`plugpull sim\`: barriers, resume sample:16).  CPU time"
    echo "(user + system, with the clients) of each command, medians of $runs interleaved"
    echo "rounds (s); \"sharded\" = record-only + the $shards shards + merge, and its ratio to the"
    echo "unsharded run (the median of the rounds' ratios)."
    echo
    echo "| unsharded | record-only | $shards shards | merge | sharded | ratio | unsharded on the recording |"
    echo "|---:|---:|---:|---:|---:|---:|---:|"
    echo "| $(col unsharded) | $(col record) | $(col shards) | $(col merge) | $(col sharded) | $(col ratio) | $(col on-recording) |"
    echo
    echo "Raw rounds (CPU seconds, then wall seconds):"
    echo
    echo '```'
    cat "$tmp/raw"
    echo '```'
} >"$out"
