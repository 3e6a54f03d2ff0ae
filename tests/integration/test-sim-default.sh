#!/bin/sh
# SPDX-License-Identifier: MIT
# The simulation tier's self-check, pass side: default ostree, the built-in
# default scenario (upgrade v1 -> v2, U-Boot device, ordered model, barrier
# points) must give 0 failures but the known ostree#3392 (the states after
# the loader swap, which the bootloader reads without the journal: brick,
# cleanup phase, acknowledged by scenarios/known-findings.conf), with
# resumed updates that end on v2 and fetch nothing already durable.  Its
# failing twin is test-sim-fsync-disabled; test-ostree-3392 runs #3392
# without the acknowledgement, and on the fixed ostree.
# Also checks the output contract (summary.json, cases/, junit.xml) and that
# `plugpull replay` gives a case's recorded verdict again.
. "$(dirname "$0")/lib.sh"
pp_init "$@"

out=$PP_TMP/sim
"$PP_BIN" sim --known "$PP_KNOWN" --out "$out" >"$PP_TMP/log" 2>&1
rc=$?
tail -3 "$PP_TMP/log"
[ "$rc" -eq 0 ] || { cat "$PP_TMP/log"; pp_fail "sim exited $rc, want 0"; }

python3 - "$out" <<'PY' || pp_fail "output contract"
import json, sys, glob, os
import xml.etree.ElementTree as ET
out = sys.argv[1]
s = json.load(open(os.path.join(out, "summary.json")))
for key in ("tool", "tier", "scenario", "model", "seed", "client", "cases",
            "passed", "failed", "outcomes", "states_per_minute", "resume",
            "started", "duration_s"):
    assert key in s, "summary.json lacks " + key
assert s["tier"] == "sim" and s["model"] == "ordered", s
assert s["failed"] == 0, s["outcomes"]
assert s["known"] > 0 and s["passed"] + s["known"] == s["cases"], s
assert [f["id"] for f in s["known_findings"]] == ["ostree-3392"], s["known_findings"]
assert s["cases"] > 300, "too few crash points: %d" % s["cases"]
assert s["client"]["version"] == "2022.7", s["client"]
r = s["resume"]
assert r["checked"] >= 10, r
assert r["objects_redownloaded"] == 0, r
assert r["objects_downloaded"] > 0, r
t = ET.parse(os.path.join(out, "junit.xml")).getroot()
cases = t.findall(".//testcase")
assert len(cases) == s["cases"], (len(cases), s["cases"])
assert not t.findall(".//failure")
assert len(t.findall(".//skipped")) == s["known"]
files = glob.glob(os.path.join(out, "cases", "*.json"))
assert len(files) >= 10, len(files)
for f in files:
    c = json.load(open(f))
    assert c["state"]["name"].endswith(":ordered:0")
    assert c["outcome"] == "pass" or (
        c["outcome"] == "brick" and c["phase"] == "cleanup"), (f, c["outcome"])
    assert c["command"].startswith("plugpull replay ")
print("summary: %d cases, %s, %.0f states/minute, resume %s" % (
    s["cases"], s["outcomes"], s["states_per_minute"], r))
PY

# Replay the case just after the commit point: same verdict, exit 0.
commit=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['trace']['commit_point'])" "$out/summary.json")
k=$(printf '%06d' $((commit + 1)))
case_file=$out/cases/ordered-k$k-s0.json
[ -f "$case_file" ] || pp_fail "no case file for the cut after the commit ($case_file)"
"$PP_BIN" replay "$case_file" >"$PP_TMP/replay" 2>&1
rc=$?
cat "$PP_TMP/replay"
[ "$rc" -eq 0 ] || pp_fail "replay exited $rc, want 0"
grep -q "recorded verdict: pass; replayed: pass (same)" "$PP_TMP/replay" ||
    pp_fail "replay did not reproduce the verdict"
pp_log "0 failures but the known #3392 over the default upgrade; replay reproduces the verdict"
