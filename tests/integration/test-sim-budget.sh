#!/bin/sh
# SPDX-License-Identifier: MIT
# CI gating with a time budget: `sim --budget` stops starting cases when
# the budget is spent, reports what it covered, and still gives the exit
# status of what it judged.  The points are taken in a seeded random order
# so a short budget still covers several phases of the update.
. "$(dirname "$0")/lib.sh"
pp_init "$@"

# --points all with every state rebooted and updated again: about 1,500
# resumed updates (each a real ostree run, never shared between states),
# far more than 12 s of work even on a fast machine, so the budget is what
# stops the run.  (Judging alone no longer is: identical states are judged
# once and unchanged files hashed once, so the 1,500 states take ~6 s.)
"$PP_BIN" sim --known "$PP_KNOWN" --points all --budget 12s --resume-updates all --out "$PP_TMP/b" >"$PP_TMP/log" 2>&1
rc=$?
tail -2 "$PP_TMP/log"
[ "$rc" -eq 0 ] || pp_fail "budgeted sim exited $rc, want 0"
python3 - "$PP_TMP/b" <<'PY' || pp_fail "budget summary"
import json, sys, os
d = sys.argv[1]
s = json.load(open(os.path.join(d, "summary.json")))
p = json.load(open(os.path.join(d, "points.json")))
assert s["budget_s"] == 12 and s["budget_reached"] is True, s
assert 0 < s["cases"] < s["points_chosen"], (s["cases"], s["points_chosen"])
assert abs(s["coverage"] - s["cases"] / s["points_chosen"]) < 1e-9
phases = {c["phase"] for c in p["cases"]}
assert len(phases) >= 3, phases
ks = [c["k"] for c in p["cases"]]
assert ks == sorted(ks), "cases not in point order"
print("covered %d of %d points (%.0f%%), phases %s" % (
    s["cases"], s["points_chosen"], 100 * s["coverage"], sorted(phases)))
PY
grep -q "budget of 12 s reached" "$PP_TMP/log" || pp_fail "no budget line"

# twin: a malformed budget is a usage error, and nothing runs
"$PP_BIN" sim --known "$PP_KNOWN" --budget 5x --out "$PP_TMP/x" >"$PP_TMP/out" 2>&1
[ $? -eq 2 ] || pp_fail "bad --budget: want exit 2"
[ ! -e "$PP_TMP/x" ] || pp_fail "bad --budget created results"
pp_log "budget respected and reported; bad budget refused: $(cat "$PP_TMP/out")"
