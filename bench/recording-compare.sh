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
# load average at the start, and the outcomes.
set -eu
[ $# -eq 5 ] || { echo "usage: $0 OLD_BUILD NEW_BUILD REC SHARD ROUNDS" >&2; exit 2; }
old=$1 new=$2 rec=$3 shard=$4 rounds=$5
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
        python3 - "$out" "$mode" "$r" "$load" <<'PY'
import collections, json, statistics, sys
out, mode, r, load = sys.argv[1:]
cases = json.load(open(out + "/points.json"))["cases"]
s = json.load(open(out + "/summary.json"))
judged = [c for c in cases if "shares_verdict_with" not in c]
med = lambda k: statistics.median(c["time"][k] for c in judged)
u, sy, rss = open(out + ".time").read().split()[-3:]
oc = dict(collections.Counter(c["outcome"] for c in cases))
print("%s round=%s states=%d judged=%d states_per_minute=%.1f "
      "materialise_s=%.3f judge_s=%.3f remove_s=%.3f cpu_s=%.1f "
      "peak_rss_mib=%.0f load_start=%s outcomes=%s"
      % (mode, r, len(cases), len(judged), s["states_per_minute"],
         med("materialise_s"), med("judge_s"), med("remove_s"),
         float(u) + float(sy), int(rss) / 1024, load, oc))
PY
    done
    r=$((r + 1))
done
