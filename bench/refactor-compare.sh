#!/bin/sh
# SPDX-License-Identifier: MIT
# refactor-compare.sh BEFORE AFTER RUNS OUT.md: crash states judged per
# minute of two commits of plugpull, in one run on one machine, so that a
# refactor can be shown to cost nothing.  Each commit is built in its own
# worktree; then RUNS rounds, each running BEFORE's and AFTER's
# `plugpull sim --points all --resume-updates none --jobs 2` one after the
# other (interleaved, so that the load of the machine falls on both);
# medians, and the ratio AFTER / BEFORE.
set -eu
before=$1
after=$2
runs=$3
out=$4
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /var/tmp/pp-bench-refactor.XXXXXX)
cleanup() {
    git -C "$repo" worktree remove --force "$tmp/before" 2>/dev/null || true
    git -C "$repo" worktree remove --force "$tmp/after" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
field() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(s[sys.argv[2]])" "$@"; }

for w in before after; do
    eval rev=\$$w
    git -C "$repo" worktree add -q --detach "$tmp/$w" "$rev"
    make -C "$tmp/$w" -j2 all >"$tmp/$w-build.log" 2>&1 ||
        { tail -20 "$tmp/$w-build.log" >&2; exit 1; }
done

: >"$tmp/raw"
for r in $(seq 1 "$runs"); do
    for w in before after; do
        d=$tmp/$w-r$r
        "$tmp/$w/build/plugpull" sim --points all --resume-updates none \
            --jobs 2 --out "$d" >"$d.log" 2>&1 ||
            { cat "$d.log" >&2; exit 1; }
        echo "$w run=$r cases=$(field "$d/summary.json" cases)" \
             "failed=$(field "$d/summary.json" failed)" \
             "states/min=$(field "$d/summary.json" states_per_minute)" >>"$tmp/raw"
        rm -rf "$d"
    done
done
mb=$(grep '^before ' "$tmp/raw" | sed 's/.*states\/min=\([0-9.]*\).*/\1/' | median)
ma=$(grep '^after ' "$tmp/raw" | sed 's/.*states\/min=\([0-9.]*\).*/\1/' | median)
ratio=$(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.3f", a / b }')
{
    echo "### sim states per minute, before and after a refactor"
    echo
    echo "\`plugpull sim --points all --resume-updates none --jobs 2\` (the default"
    echo "upgrade), $runs rounds, each running the two builds one after the other."
    echo "before: \`$(git -C "$repo" rev-parse --short "$before")\`, after: \`$(git -C "$repo" rev-parse --short "$after")\`."
    echo
    echo "| build | median states/minute |"
    echo "|---|---:|"
    echo "| before | $mb |"
    echo "| after | $ma |"
    echo "| ratio after/before | $ratio |"
    echo
    echo '```'
    cat "$tmp/raw"
    echo '```'
} >"$out"
cat "$out"
