#!/bin/sh
# SPDX-License-Identifier: MIT
# firmware-sizes.sh: the cost of a sim campaign at three firmware sizes,
# in one run: the built-in fixture, the small Debian firmware (minbase,
# no real kernel: images/build-debian-firmware.sh --size small) and the
# full one (minbase + linux-image-amd64, --size full), each updated
# v1 -> v2 (firmware^ -> firmware for the Debian ones).
#
#   sh bench/firmware-sizes.sh [--build DIR] [--points N] [--out DIR]
#                              [--small REPO] [--full REPO]
#
#   --points  crash points per campaign (default 24): barriers:N (N of
#             the barrier points, drawn with one seed), so every size
#             judges the same number of states
#   --small   default BUILD/firmware/debian-small/repo
#   --full    default /var/tmp/pp-fw-full/repo (absent: measured at two
#             sizes, and said so)
#   --out     scratch (default /var/tmp/pp-bench-sizes; emptied first,
#             removed at the end)
#
# Every campaign: plugpull sim --points barriers:N --seed 1 --jobs 2
# --resume-updates none, model ordered, under /usr/bin/time -v.  Figures:
#   - states/minute and the time per stage (record+setup = the wall time
#     before the first case; materialise, judge, remove: summed over the
#     cases, summary.json time_split), the wall time;
#   - peak memory: /usr/bin/time's maximum resident set size, which is
#     the largest of plugpull and each child it waited for (getrusage
#     RUSAGE_CHILDREN keeps a maximum, not a sum: two judges at once are
#     not added);
#   - scratch disk: the peak, sampled every 0.5 s, of the results
#     directory (du: the mirror, the device, the recording's snapshot)
#     plus the campaign's tmpfs directory of crash states (each one's
#     own peak in brackets; "?" when the tmpfs directory was not found
#     among the campaign's open files), against the
#     firmware's size (its v1 tree's du, from the build's info file).
# Prints a markdown section on stdout (bench/RESULTS.md keeps it).
set -u
BUILD=build
N=24
OUT=/var/tmp/pp-bench-sizes
SMALL=
FULL=/var/tmp/pp-fw-full/repo
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$2; shift 2 ;;
    --points) N=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --small) SMALL=$2; shift 2 ;;
    --full) FULL=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--points N] [--out DIR] [--small REPO] [--full REPO]" >&2; exit 2 ;;
    esac
done
BUILD=$(cd "$BUILD" && pwd) || exit 2
P=$BUILD/plugpull
[ -x "$P" ] || { echo "no $P: make all first" >&2; exit 2; }
[ -n "$SMALL" ] || SMALL=$BUILD/firmware/debian-small/repo
rm -rf "$OUT"
mkdir -p "$OUT" || exit 3

# watch DIR PID FILE: until FILE.stop exists, keep in FILE the peak KiB
# of du(DIR) plus the tmpfs directory the campaign builds its crash states
# in (/dev/shm/plugpull-XXXXXX, found among the open files of PID's
# children: the machine is shared, another campaign's does not count).
watch() {
    peak=0
    pd=0
    ps=0
    shm=
    while [ ! -e "$3.stop" ]; do
        if [ -z "$shm" ]; then
            for c in $(pgrep -P "$2"); do
                shm=$(ls -l "/proc/$c/fd" 2>/dev/null |
                    grep -o '/dev/shm/plugpull-[A-Za-z0-9]*' | head -1)
                [ -n "$shm" ] && echo "$shm" >"$3.shm" && break
            done
        fi
        d=$(du -sk "$1" 2>/dev/null | cut -f1)
        d=${d:-0}
        s=0
        [ -n "$shm" ] && s=$(du -sk "$shm" 2>/dev/null | cut -f1)
        s=${s:-0}
        t=$((d + s))
        [ "$d" -gt "$pd" ] && pd=$d
        [ "$s" -gt "$ps" ] && ps=$s
        [ "$t" -gt "$peak" ] && peak=$t
        echo "$peak $pd $ps" >"$3"
        sleep 0.5
    done
}

rows=
notes=
run_size() {
    name=$1
    repo=$2
    shift 2
    dir=$OUT/$name
    mkdir -p "$dir"
    fw_kib=-
    tree_kib=-
    if [ -n "$repo" ]; then
        fw_kib=$(du -sk "$repo" | cut -f1)
        # images/build-debian-firmware.sh writes the v1 tree's du next
        # to the repo.
        tree_kib=$(sed -n 's/^v1_du_kib=//p' "$repo/../info" 2>/dev/null)
        [ -n "$tree_kib" ] || tree_kib=-
    fi
    echo 0 0 0 >"$dir/disk"
    /usr/bin/time -v -o "$dir/time.txt" "$P" sim "$@" --model ordered \
        --points "barriers:$N" --seed 1 --jobs 2 --resume-updates none \
        --out "$dir/res" >"$dir/sim.log" 2>&1 &
    tpid=$!
    watch "$dir" "$tpid" "$dir/disk" &
    wpid=$!
    wait "$tpid"
    rc=$?
    touch "$dir/disk.stop"
    wait "$wpid"
    [ "$rc" -le 1 ] || { tail -5 "$dir/sim.log" >&2; notes="$notes
- $name: sim exited $rc (see above); no figures"; return; }
    row=$(python3 - "$dir" "$name" "$fw_kib" "$tree_kib" <<'PY'
import json, re, sys, os
d, name, fw, tree = sys.argv[1:5]
s = json.load(open(os.path.join(d, "res", "summary.json")))
t = open(os.path.join(d, "time.txt")).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
disk, disk_out, disk_shm = (int(x) for x in open(os.path.join(d, "disk")).read().split())
shm_found = os.path.exists(os.path.join(d, "disk.shm"))
ts = s.get("time_split", {})
calls = s.get("trace", {}).get("records", 0)
setup = s["duration_s"] - s.get("cases_wall_s", 0)
fwm = "-" if fw == "-" else "%.0f" % (int(fw) / 1024)
treem = "-" if tree == "-" else "%.0f" % (int(tree) / 1024)
ratio = "-" if tree == "-" else "%.1f" % (disk / int(tree))
print("| %s | %s | %s | %d | %d | %.0f | %.0f | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f (%.0f + %s) | %s |" % (
    name, fwm, treem, calls, s["cases"], s["states_per_minute"], setup,
    ts.get("materialise_s", 0), ts.get("judge_s", 0), ts.get("remove_s", 0),
    s.get("cases_wall_s", 0), rss / 1024, disk / 1024, disk_out / 1024,
    "%.0f" % (disk_shm / 1024) if shm_found else "?", ratio))
PY
)
    rows="$rows
$row"
}

t0=$(date -u '+%Y-%m-%d %H:%M UTC')
load0=$(cut -d' ' -f1-3 /proc/loadavg)
run_size fixture ""
if [ -d "$SMALL" ]; then
    run_size small "$SMALL" --repo "$SMALL" --from firmware^ --to firmware
else
    notes="$notes
- small: no repo at $SMALL (sh images/build-debian-firmware.sh --size small); not measured"
fi
if [ -d "$FULL" ]; then
    run_size full "$FULL" --repo "$FULL" --from firmware^ --to firmware
else
    notes="$notes
- full: no repo at $FULL (sh images/build-debian-firmware.sh --size full); measured at two sizes only"
fi
load1=$(cut -d' ' -f1-3 /proc/loadavg)

cat <<MD
## Firmware sizes: one sim campaign each (bench/firmware-sizes.sh)

- date: $t0; machine: $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo) memory; kernel $(uname -r)
- load average (1, 5, 15 min) at the start: $load0; at the end: $load1 (the machine is shared)
- every campaign: \`plugpull sim --model ordered --points barriers:$N --seed 1 --jobs 2 --resume-updates none\`, v1 -> v2; client $(/usr/bin/ostree --version | sed -n "s/^ *Version: *//p" | tr -d "'")

| firmware | repo MiB | v1 tree MiB | calls traced | states | states/min | setup+record s | materialise s | judge s | remove s | cases wall s | peak RSS MiB | peak scratch MiB (peaks: results dir + tmpfs states) | scratch / tree |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|$rows
$notes
MD
rm -rf "$OUT"
