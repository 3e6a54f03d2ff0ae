#!/bin/sh
# SPDX-License-Identifier: MIT
# sim-states.sh BUILD RUNS OUT.md: crash states fully judged per minute
# (oracle steps 1-4: materialise, boot selection, tree, repo, rollback) of
# the default upgrade with --points all, resume checks off; then the
# resume checks alone.  Medians of RUNS runs for --jobs 1 and --jobs 2,
# interleaved, in one invocation.
set -eu
build=$(cd "$1" && pwd)
runs=$2
out=$3
tmp=$(mktemp -d /var/tmp/pp-bench-sim.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
field() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

: >"$tmp/raw"
for r in $(seq 1 "$runs"); do
    for j in 1 2; do
        d=$tmp/j$j-r$r
        "$build/plugpull" sim --points all --resume-updates none --jobs "$j" --out "$d" >"$d.log" 2>&1 ||
            { cat "$d.log" >&2; exit 1; }
        spm=$(field "$d/summary.json" "s['states_per_minute']")
        cases=$(field "$d/summary.json" "s['cases']")
        fails=$(field "$d/summary.json" "s['failed']")
        split=$(field "$d/summary.json" "' '.join('%.1f' % (v / s['cases'] * 1000) for v in s['time_split'].values())")
        echo "jobs=$j run=$r cases=$cases failed=$fails states/min=$spm ms/case(materialise judge resume remove)=$split" >>"$tmp/raw"
        rm -rf "$d"
    done
done
d=$tmp/resume
"$build/plugpull" sim --points sample:40 --resume-updates all --jobs 2 --out "$d" >"$d.log" 2>&1 ||
    { cat "$d.log" >&2; exit 1; }
resume_ms=$(field "$d/summary.json" "'%.0f' % (s['time_split']['resume_s'] / s['resume']['checked'] * 1000)")
resume_n=$(field "$d/summary.json" "s['resume']['checked']")

m1=$(grep '^jobs=1 ' "$tmp/raw" | sed 's/.*states\/min=\([0-9.]*\).*/\1/' | median)
m2=$(grep '^jobs=2 ' "$tmp/raw" | sed 's/.*states\/min=\([0-9.]*\).*/\1/' | median)
cases=$(grep -m1 '^jobs=1 ' "$tmp/raw" | sed 's/.*cases=\([0-9]*\).*/\1/')
{
    echo "### sim: crash states judged per minute (default upgrade, --points all)"
    echo
    echo "\`plugpull sim --points all --resume-updates none --jobs J\`: $cases crash states of"
    echo "\`ostree admin upgrade\` v1 -> v2 (2 MiB payload, U-Boot device, ordered model), each"
    echo "materialised and judged (boot selection, tree against the commit, repo, rollback)."
    echo "$runs runs per J, interleaved; goal >= 1000 states per minute."
    echo
    echo "| jobs | median states/minute | goal met? |"
    echo "|---:|---:|---|"
    echo "| 1 | $m1 | $(awk -v v="$m1" 'BEGIN { print (v >= 1000) ? "yes" : "no" }') |"
    echo "| 2 | $m2 | $(awk -v v="$m2" 'BEGIN { print (v >= 1000) ? "yes" : "no" }') |"
    echo
    echo "Resume checks, counted separately: $resume_n states rebooted and updated"
    echo "again (\`--points sample:40 --resume-updates all --jobs 2\`): $resume_ms ms each (copy of the"
    echo "state, \`ostree admin upgrade\` against the stand-in, judging the result)."
    echo
    echo "Raw runs, with the time per case split into materialise, judge, resume, remove (ms):"
    echo
    echo '```'
    cat "$tmp/raw"
    echo '```'
} >"$out"
