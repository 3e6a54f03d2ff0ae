#!/bin/sh
# SPDX-License-Identifier: MIT
# judge-scale.sh: what a crash state costs to judge, without and with the
# oracle's per-campaign cache and the sharing of identical states.
#
#   sh bench/judge-scale.sh [--build DIR] [--firmware DIR] [--sample N]
#
# 1. the fixture: `plugpull sim --points barriers --jobs 2` on one
#    recording, with PLUGPULL_ORACLE_NOCACHE=1 (before) and without (after);
# 2. each firmware recording of bench/firmware-record.sh found in
#    --firmware (default BUILD/firmware: record-small, record-full):
#    bench/judge-states on N barrier points (default 40), evenly spread,
#    2 jobs, before and after.  States are built on /dev/shm when it is a
#    tmpfs, as sim builds them, from a copy of the snapshot made there.
# Prints key=value lines; figures go to bench/RESULTS.md by hand.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build
fw=""
sample=40
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --firmware) fw=$2; shift 2 ;;
        --sample) sample=$2; shift 2 ;;
        *) echo "usage: $0 [--build DIR] [--firmware DIR] [--sample N]" >&2; exit 2 ;;
    esac
done
build=$(cd "$build" && pwd)
fw=${fw:-$build/firmware}
tmp=$(mktemp -d /var/tmp/pp-judge-scale.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pp=$build/plugpull

summary() {
    python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
p = json.load(open(sys.argv[1] + "/points.json"))["cases"]
t = s.get("time_split", {})
print("cases=%d shared=%d states_per_minute=%.0f judge_s=%.1f materialise_s=%.1f"
      % (len(p), sum("shares_verdict_with" in c for c in p),
         s["states_per_minute"], t.get("judge_s", 0), t.get("materialise_s", 0)))
PY
}

echo "date=$(date -u +%Y-%m-%dT%H:%MZ) cpus=$(nproc) load=$(cut -d' ' -f1 /proc/loadavg)"
"$pp" sim --record-only --out "$tmp/rec" >/dev/null
PLUGPULL_ORACLE_NOCACHE=1 "$pp" sim --points barriers --jobs 2 \
    --recording "$tmp/rec/work" --out "$tmp/before" >/dev/null
echo "fixture before: $(summary "$tmp/before")"
"$pp" sim --points barriers --jobs 2 --recording "$tmp/rec/work" \
    --out "$tmp/after" >/dev/null
echo "fixture after:  $(summary "$tmp/after")"

states=$tmp
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
    states=$(mktemp -d /dev/shm/pp-judge-scale.XXXXXX)
    trap 'rm -rf "$tmp" "$states"' EXIT
fi
for size in small full; do
    rec=$fw/record-$size
    [ -f "$rec/upgrade.cfit" ] || { echo "$size: no recording in $rec"; continue; }
    rm -rf "$states/snapshot"
    cp -a "$rec/snapshot" "$states/snapshot"
    for mode in before after; do
        nocache=""
        [ "$mode" = before ] && nocache=1
        rm -rf "$states/s"
        echo "$size $mode: $(PLUGPULL_ORACLE_NOCACHE=$nocache "$build/bench/judge-states" \
            --trace "$rec/upgrade.cfit" --root "$rec/sysroot" \
            --snapshot "$states/snapshot" --repo "$rec/srv/repo" \
            --commit "$(cat "$fw/debian-$size/v1.commit")" \
            --commit "$(cat "$fw/debian-$size/v2.commit")" \
            --sample "$sample" --jobs 2 --states "$states/s")"
    done
    rm -rf "$states/snapshot"
done
