#!/bin/sh
# SPDX-License-Identifier: MIT
# strategies.sh BUILD POINTS PAYLOAD_KB OUT.md [--swupdate | --dpkg-repo=REPO |
#     '--repo=REPO --next=V3' (all four on one firmware; PAYLOAD_KB unused)]:
# `plugpull strategies` on this machine (ordered model, seed 0), its figures as a markdown section
# with the date, the machine and its load before and after (the machine
# may be shared: the durations are what they were then; bytes and
# outcomes do not depend on the load).
set -eu
build=$(cd "$1" && pwd)
points=$2
payload=$3
out=$4
extra=${5:-}
tmp=$(mktemp -d /var/tmp/pp-bench-strategies.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date -u '+%Y-%m-%d %H:%M UTC')
t0=$(date +%s)
"$build/plugpull" strategies --out "$tmp/s" --points "$points" \
    --payload-kb "$payload" $extra --known "$(dirname "$0")/../scenarios/known-findings.conf" \
    >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
t1=$(date +%s)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$tmp/s/strategies.json" "$start" "$load_before" "$load_after" \
    "$((t1 - t0))" "$(nproc)" >"$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
start, lb, la, wall, cpus = sys.argv[2:7]
def mib(v):
    return "n/a" if v is None else "%.2f MiB" % (v / 1048576)
fw = d.get("firmware", {"repo": "fixture"})
swu = " --swupdate" if d.get("ab_updater") == "swupdate" else ""
if fw["repo"] != "fixture":
    swu += " '--repo=REPO --next=V3'"
    firmware = "the firmware %s (v1 %s, v2 %s, v3 %s)" % (
        fw["repo"], fw["v1"], fw["v2"], fw.get("v3", "none"))
else:
    swu += " --dpkg-repo=REPO" if "dpkg" in d["strategies"] else ""
    firmware = "fixture payload %d KiB" % d["payload_kb"]
print("### Update strategies compared (`sh bench/strategies.sh build %s %d OUT.md%s`, hand-run %s)" % (d["points"], d["payload_kb"], swu, start))
print()
print("Machine: %s CPUs, load average %s before, %s after; the whole run took %s s. "
      "Model %s, points %s, seed %d, %s, U-Boot environment copies %d, ab updated by %s." % (
          cpus, lb, la, wall, d["model"], d["points"], d["seed"], firmware, d["env_copies"],
          d.get("ab_updater", "fw-setenv")))
print()
print("| strategy | states | boot new | boot old | brick | other failures | failures by phase |")
print("|---|---:|---:|---:|---:|---|---|")
for n, s in d["strategies"].items():
    oc = s["outcomes"]
    other = ", ".join("%s %d" % (k, v) for k, v in oc.items() if v and k not in ("pass", "brick")) or "none"
    known = " (%d known: ostree#3392)" % s["known"] if s["known"] else ""
    phases = "; ".join("%s: %s" % (p, ", ".join("%s %d" % kv for kv in f.items()))
                       for p, f in s["failure_phases"].items() if f) or "none"
    print("| %s | %d | %d | %d | %d%s | %s | %s |" % (n, s["cases"], s["boots"]["new"], s["boots"]["old"],
                                               oc["brick"], known, other, phases))
print()
print("| strategy | download v1->v2 | v2->v3 | back to v1 | on device, 1 version | 2 versions | 3 versions | update v1->v2 (untraced) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for n, s in d["strategies"].items():
    m = s["measured"]
    dl, od = m["download_bytes"], m["on_device_bytes"]
    print("| %s | %s | %s | %s | %s | %s | %s | %.2f s |" % (n, mib(dl["v1_to_v2"]), mib(dl["v2_to_v3"]), mib(dl["v3_to_v1"]),
                                                    mib(od["1"]), mib(od["2"]), mib(od["3"]), m["update_s"]))
    g = m.get("image_gzip_bytes") or {}
    if g.get("v1_to_v2") is not None:
        print("| %s, image gzip -6 | %s | %s | %s | | | | |" % (n, mib(g["v1_to_v2"]), mib(g["v2_to_v3"]), mib(g["v3_to_v1"])))
b = d["strategies"]["ostree"]["measured"].get("back_to_v1_objects")
if b:
    print()
    print("ostree back to v1: %d objects fetched, %d of them already on the device, %d objects new on the device." % (
        b["fetched"], b["already_on_device"], b["new_on_device"]))
PY
