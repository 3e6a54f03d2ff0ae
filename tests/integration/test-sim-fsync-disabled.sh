#!/bin/sh
# SPDX-License-Identifier: MIT
# The simulation tier's self-check, fail side (twin of test-sim-default):
# with core.fsync=false on the device, plugpull must report failures, and
# replaying a failing case must reproduce its failure.
. "$(dirname "$0")/lib.sh"
pp_init "$@"

scen=$(cd "$(dirname "$0")/../../scenarios" && pwd)/fsync-disabled.conf
out=$PP_TMP/sim
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$scen" --out "$out" >"$PP_TMP/log" 2>&1
rc=$?
tail -4 "$PP_TMP/log"
[ "$rc" -eq 1 ] || { cat "$PP_TMP/log"; pp_fail "sim exited $rc, want 1 (failures found)"; }

first=$(python3 - "$out" <<'PY'
import json, sys, glob, os
out = sys.argv[1]
s = json.load(open(os.path.join(out, "summary.json")))
assert s["failed"] > 0, s["outcomes"]
assert s["outcomes"]["repo-corrupt"] > 0, s["outcomes"]
# Cases the known #3392 excuses are counted apart (summary "known",
# points.json marks them).
known = {c["id"] for c in json.load(open(os.path.join(out, "points.json")))["cases"]
         if c.get("known")}
assert len(known) == s["known"], (len(known), s["known"])
fails = sorted(f for f in glob.glob(os.path.join(out, "cases", "*.json"))
               if json.load(open(f))["outcome"] != "pass"
               and json.load(open(f))["id"] not in known)
assert len(fails) == s["failed"], (len(fails), s["failed"])
print(fails[0])
PY
) || pp_fail "summary or cases"
pp_log "failures reported: $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['outcomes'])" "$out/summary.json")"

"$PP_BIN" replay "$first" >"$PP_TMP/replay" 2>&1
rc=$?
cat "$PP_TMP/replay"
[ "$rc" -eq 1 ] || pp_fail "replay of a failing case exited $rc, want 1"
grep -q "(same)" "$PP_TMP/replay" || pp_fail "replay gave another verdict"
pp_log "a missing fsync is seen; the failing case replays to the same verdict"
