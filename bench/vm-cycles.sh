#!/bin/sh
# SPDX-License-Identifier: MIT
# vm-cycles.sh: how many power-cut cycles per hour does the VM tier run,
# and where does a boot's time go?
#
#   sh bench/vm-cycles.sh BUILD_DIR [CYCLES] [OUT.md]
#
# Builds (or reuses) BUILD_DIR/image, then runs one campaign
#
#   plugpull run --image BUILD_DIR/image --no-build -n CYCLES --seed SEED
#
# (CYCLES default 6, SEED $PP_BENCH_VM_SEED or 1) and reports, from its
# summary.json and cases/*.json: cycles per hour (cycle time only: the
# calibration run is paid once per campaign), the median boot-to-verdict
# (power-on after the cut -> agent line, `ostree admin status` and
# the repo check done: the image's guest-fsck, else `ostree fsck`), the median power-on -> agent line over every boot,
# and the median time split of a boot from the stamped console logs
# (cases/*/*.serial.times, read by bench/vm-boot-split.py).  One campaign,
# medians of its cycles: the machine is shared, so the date, the machine
# and its load average go with the numbers.  No goal is asserted here;
# the table says whether the issue's goals (>= 120 cycles per hour,
# boot-to-verdict < 8 s) were met in this run.
#
# Writes a markdown fragment to OUT.md (what bench/run.sh does); without
# OUT.md it replaces the "### vm:" section of bench/RESULTS.md (or adds it
# before the notes marker), leaving the rest of the file as it is.
# Exit 0 also when the VM tier cannot run here (no QEMU, no U-Boot, a
# package the image build needs): the fragment then says why.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: vm-cycles.sh BUILD_DIR [CYCLES] [OUT.md]}" && pwd)
cycles=${2:-6}
out=${3:-}
seed=${PP_BENCH_VM_SEED:-1}
bin=$build/plugpull
img=$build/image
rom=${PP_UBOOT_ROM:-/usr/lib/u-boot/qemu-x86/u-boot.rom}
results=$here/RESULTS.md

tmp=$(mktemp -d /var/tmp/pp-bench-vm.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
frag=$tmp/vm.md

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

machine() {
    kvm="no /dev/kvm: TCG"
    [ -e /dev/kvm ] && kvm="/dev/kvm present: plugpull uses KVM when it answers (PLUGPULL_ACCEL=tcg forces TCG)"
    echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), $kvm"
}

# skip REASON: the fragment says why there are no numbers.
skip() {
    {
        echo "### vm: power-cut cycles per hour (QEMU, through U-Boot)"
        echo
        echo "Not run on $(date -u '+%Y-%m-%d %H:%M UTC'): $1"
    } >"$frag"
    finish
    exit 0
}

# finish: the fragment to OUT.md, or into RESULTS.md in place of the old
# "### vm:" section (which ends at the next "### " heading or the notes
# marker).
finish() {
    if [ -n "$out" ]; then
        cat "$frag" >"$out"
        return
    fi
    if [ ! -f "$results" ]; then
        { cat "$frag"; echo; echo "<!-- notes -->"; echo "## Notes"; echo; echo "(none yet)"; } >"$results"
        echo "vm-cycles: wrote $results" >&2
        return
    fi
    awk -v frag="$frag" '
        function put() { while ((getline l < frag) > 0) print l; print ""; done = 1 }
        /^### vm:/ { skipping = 1; if (!done) put(); next }
        skipping && (/^### / || /^<!-- notes -->/) { skipping = 0 }
        /^<!-- notes -->/ && !done { put() }
        !skipping { print }
    ' "$results" >"$tmp/RESULTS.md"
    mv "$tmp/RESULTS.md" "$results"
    echo "vm-cycles: updated the vm section of $results" >&2
}

[ -x "$bin" ] || { echo "vm-cycles: no $bin (run make)" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (package qemu-system-x86)"
[ -f "$rom" ] || skip "$rom missing (package u-boot-qemu)"

rc=0
"$bin" image build --out "$img" >"$tmp/build.out" 2>"$tmp/build.err" || rc=$?
case $rc in
0) ;;
2) skip "image build: $(grep -m1 missing "$tmp/build.err" || tail -1 "$tmp/build.err")" ;;
*) cat "$tmp/build.err" >&2; echo "vm-cycles: image build exited $rc" >&2; exit 1 ;;
esac

load0=$(cut -d' ' -f1-3 /proc/loadavg)
date=$(date -u '+%Y-%m-%d %H:%M UTC')
d=$tmp/run
rc=0
"$bin" run --image "$img" --no-build -n "$cycles" --seed "$seed" --out "$d" \
    >"$tmp/run.out" 2>"$tmp/run.err" || rc=$?
load1=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
    cat "$tmp/run.err" >&2
    echo "vm-cycles: plugpull run exited $rc" >&2
    exit 1
fi

# One line per cycle: id outcome seconds boot_to_verdict agentA agentB agentC
python3 - "$d" >"$tmp/cases" <<'EOF'
import glob, json, sys
for p in sorted(glob.glob(sys.argv[1] + "/cases/*.json")):
    c = json.load(open(p))
    agents = " ".join("%.2f" % b["seconds_to_agent"] for b in c["boots"])
    print("%s %s %.1f %.2f %s" % (c["id"], c["outcome"], c["seconds"],
                                  c["boot_to_verdict_s"], agents))
EOF
summary() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$d/summary.json" "$1"; }
cph=$(summary "'%.1f' % s['cycles_per_hour']")
passed=$(summary "s['passed']")
ran=$(summary "s['cycles']")
window=$(summary "'%.2f' % s['window_s']")
mean_cycle=$(summary "'%.1f' % s['mean_cycle_s']")
btv=$(awk '{ print $4 }' "$tmp/cases" | median)
agent=$(awk '{ for (i = 5; i <= NF; i++) if ($i >= 0) print $i }' "$tmp/cases" | median)
python3 "$here/vm-boot-split.py" --json "$d"/cases/vm-*/*.serial.times >"$tmp/split.json"
python3 "$here/vm-boot-split.py" "$d"/cases/vm-*/*.serial.times >"$tmp/split.txt"
met() { awk -v v="$1" -v g="$2" -v op="$3" 'BEGIN { if (v == "-") print "-"; else if (op == ">=") print (v >= g) ? "yes" : "no"; else print (v < g) ? "yes" : "no" }'; }

{
    echo "### vm: power-cut cycles per hour (QEMU, through U-Boot)"
    echo
    echo "\`plugpull run --image BUILD/image --no-build -n $cycles --seed $seed\`: each cycle boots"
    echo "v1 through U-Boot, starts \`ostree admin upgrade\` to v2, cuts the power at a seeded"
    echo "time in the update window ($window s, measured by one uncut update), boots and judges"
    echo "(agent line, \`ostree admin status\`, the repo check: the image's guest-fsck, else \`ostree fsck\`), resumes the update, boots v2."
    echo "One campaign; medians of its cycles and boots."
    echo
    echo "- date: $date"
    echo "- machine: $(machine)"
    echo "- load average (1, 5, 15 min) before: $load0; after: $load1 (2 CPUs shared with other work)"
    echo "- cycles: $ran, passed: $passed; mean cycle $mean_cycle s"
    echo
    echo "| measure | value | goal | met? |"
    echo "|---|---:|---:|---|"
    echo "| cycles per hour (summary.json) | $cph | >= 120 | $(met "$cph" 120 '>=') |"
    echo "| boot-to-verdict, median (s) | $btv | < 8 | $(met "$btv" 8 '<') |"
    echo "| power-on -> agent line, median of all boots (s) | $agent | | |"
    echo
    echo "Time split of a boot, medians over the campaign's boots (bench/vm-boot-split.py on the"
    echo "stamped console logs, cases/*/*.serial.times; status and fsck from boot B only):"
    echo
    echo "| stage | median (s) | from -> to |"
    echo "|---|---:|---|"
    python3 - "$tmp/split.json" <<'EOF'
import json, sys
what = {
    "firmware": "QEMU start -> U-Boot banner",
    "uboot": "banner -> autoboot prompt",
    "autoboot": "autoboot prompt -> key pressed / countdown over",
    "distro_boot": "-> boot.scr found (device scan)",
    "script": "-> zboot (uEnv.txt, kernel, initramfs read)",
    "zboot": "-> \"Starting kernel\"",
    "decompress": "-> kernel time 0 (bzImage decompression)",
    "kernel": "-> initramfs /init",
    "modules_mount": "-> root mounted (modprobe, mount)",
    "prepare_root": "-> ostree-prepare-root done",
    "init": "-> agent line (switch_root, guest-init)",
    "to_agent": "power-on -> agent line",
    "status": "`ostree admin status`",
    "fsck": "the repo check (guest-fsck, else `ostree fsck`)",
    "net_setup": "network + remote set-up before an update",
}
s = json.load(open(sys.argv[1]))
for k, v in s["median_s"].items():
    print("| %s | %.3f | %s |" % (k, v, what.get(k, "")))
EOF
    echo
    echo "Cycles (id, outcome, seconds, boot-to-verdict, power-on -> agent of boots A B C):"
    echo
    echo '```'
    cat "$tmp/cases"
    echo '```'
    echo
    echo "Every boot's split:"
    echo
    echo '```'
    sed 's/^[^ ]*cases\///' "$tmp/split.txt"
    echo '```'
} >"$frag"
finish
