#!/bin/sh
# SPDX-License-Identifier: MIT
# ostree#3392, found and seen fixed: the QA story of plugpull.
#
# scenarios/known-finding-ostree-3392.conf cuts the default upgrade at
# every call of its cleanup phase and judges each state as U-Boot reads
# the disk (no journal replay) and as the kernel does, on XFS (the report's
# filesystem: only a freeze writes metadata home).  On ext4 the window is
# the few calls before ostree's next syncfs (test-sim-default).
#  1. Debian 12's ostree 2022.7 fails (exit 1), and every failure is the
#     one finding: brick, cleanup phase, the entry's ostree=/ostree/boot.1
#     gone in the kernel's view while U-Boot still reads loader.1; with
#     scenarios/known-findings.conf it is `known` and the run passes.
#  2. Twin: the same states judged as if the bootloader replayed the
#     journal ([device] bootloader-replays-journal = true) all pass: the
#     finding comes from the bootloader's view, nothing else.
#  3. Debian 13's ostree 2025.2 (tools/ostree-2025.sh, a private root;
#     skipped, exit 77, when the archive is unreachable) passes the same
#     scenario; `plugpull compare 2022.7 2025.2` exits 0 and lists the
#     fixed states, the other way round exits 1.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
top=$(cd "$(dirname "$0")/../.." && pwd)
sc=$top/scenarios/known-finding-ostree-3392.conf

A=$PP_TMP/a
"$PP_BIN" sim --scenario "$sc" --out "$A" >"$PP_TMP/a.log" 2>&1
rc=$?
tail -n 3 "$PP_TMP/a.log"
[ "$rc" -eq 1 ] || pp_fail "2022.7: sim exited $rc, want 1 (the finding)"
python3 - "$A" <<'PY' || pp_fail "2022.7: the failures are not exactly #3392"
import json, sys, os
a = sys.argv[1]
s = json.load(open(os.path.join(a, "summary.json")))
assert s["client"]["version"] == "2022.7", s["client"]
pts = json.load(open(os.path.join(a, "points.json")))["cases"]
bad = [p for p in pts if p["outcome"] != "pass"]
assert len(bad) >= 100, "too few failures: %d" % len(bad)
assert s["failed"] == len(bad), (s["failed"], len(bad))
for p in bad:
    assert p["outcome"] == "brick" and p["phase"] == "cleanup", p
    r = p["reason"]
    assert "ostree=/ostree/boot.1/" in r and "lstat(ostree/boot.1)" in r, r
    assert "reads boot/loader -> loader.1" in r, r
# The first brick is the first cut after the unlink of ostree/boot.1;
# every later point bricks too (2022.7 never checkpoints again).
first = min(p["k"] for p in bad)
assert all(p["outcome"] != "pass" for p in pts if p["k"] >= first), "gap"
print("2022.7: %d of %d states brick, from k=%d on" % (len(bad), len(pts), first))
PY

K=$PP_TMP/k
"$PP_BIN" sim --scenario "$sc" --known "$PP_KNOWN" --out "$K" >"$PP_TMP/k.log" 2>&1 ||
    { tail -n 5 "$PP_TMP/k.log"; pp_fail "2022.7 with the known findings: want exit 0"; }
python3 - "$A" "$K" <<'PY' || pp_fail "the known finding does not cover exactly the failures"
import json, sys, os
a = json.load(open(os.path.join(sys.argv[1], "summary.json")))
k = json.load(open(os.path.join(sys.argv[2], "summary.json")))
assert k["failed"] == 0 and k["known"] == a["failed"], (k["known"], a["failed"])
assert [f["id"] for f in k["known_findings"]] == ["ostree-3392"], k["known_findings"]
PY
pp_log "2022.7: every failure is #3392, acknowledged by the known findings"

sed 's/^\[device\]$/[device]\nbootloader-replays-journal = true/' "$sc" \
    >"$PP_TMP/replays.conf"
grep -q '^bootloader-replays-journal = true' "$PP_TMP/replays.conf" ||
    pp_fail "twin: could not set bootloader-replays-journal"
"$PP_BIN" sim --scenario "$PP_TMP/replays.conf" --out "$PP_TMP/r" \
    >"$PP_TMP/r.log" 2>&1 ||
    { tail -n 5 "$PP_TMP/r.log"; pp_fail "twin: with a journal-replaying bootloader the states must pass"; }
pp_log "twin: judged as if the bootloader replayed the journal, all pass"

o25=$PP_BUILD/ostree-2025
sh "$top/tools/ostree-2025.sh" "$o25" >"$PP_TMP/o25.log" 2>&1
case $? in
    0) ;;
    3) pp_skip "Debian 13's ostree 2025.2 could not be fetched: $(tail -n 1 "$PP_TMP/o25.log")" ;;
    *) cat "$PP_TMP/o25.log"; pp_fail "tools/ostree-2025.sh failed" ;;
esac
B=$PP_TMP/b
"$PP_BIN" sim --scenario "$sc" --ostree "$o25/ostree" --out "$B" >"$PP_TMP/b.log" 2>&1 ||
    { tail -n 5 "$PP_TMP/b.log"; pp_fail "2025.2: want exit 0"; }
grep -q 'client: .* 2025\.2' "$PP_TMP/b.log" || pp_fail "2025.2: the client is not 2025.2"
"$PP_BIN" compare "$A" "$B" >"$PP_TMP/ab.log" 2>&1 ||
    { cat "$PP_TMP/ab.log"; pp_fail "compare 2022.7 2025.2: want exit 0"; }
grep -q 'newly passing in B' "$PP_TMP/ab.log" || pp_fail "compare did not list the fixed states"
"$PP_BIN" compare "$B" "$A" >"$PP_TMP/ba.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || pp_fail "compare 2025.2 2022.7 exited $rc, want 1"
grep -q 'REGRESSION' "$PP_TMP/ba.log" || pp_fail "compare 2025.2 2022.7 did not say REGRESSION"
pp_log "2025.2 passes; compare lists the fixed states (exit 0), the reverse regresses (exit 1)"
