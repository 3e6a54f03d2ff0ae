#!/bin/sh
# SPDX-License-Identifier: MIT
# test-oracle-equivalence.sh: the oracle's per-campaign cache, the
# sharing of identical states and the states built over a farm kept
# between cases change no verdict.
#
# The same recording is judged twice, once as ever (PLUGPULL_ORACLE_NOCACHE=1:
# every file hashed, every object verified, every state judged on its own;
# PLUGPULL_STATE_FRESH=1: every state a fresh hardlink farm of the
# snapshot) and once with the cache, sharing and farms, each farm checked
# against the snapshot after every restore (PLUGPULL_STATE_VERIFY=1);
# every case must have the same outcome, reason and evidence.  Then, when a recording of the small Debian
# firmware is there (bench/firmware-record.sh --size small; PP_FIRMWARE_DIR,
# default BUILD/firmware), a sample of its states is judged with both and
# compared (bench/judge-states --compare, farms verified likewise).  The
# twins (a file changed in place behind a warm cache is still seen) are
# tests/unit/test-oracle-cache.c; a farm changed behind its back is seen
# by the verify: tests/unit/test-models.c test_farm_between_states_fail.
. "$(dirname "$0")/lib.sh"
pp_init "$@"

A=$PP_TMP/full
B=$PP_TMP/cached
PLUGPULL_ORACLE_NOCACHE=1 PLUGPULL_STATE_FRESH=1 "$PP_BIN" sim --known "$PP_KNOWN" --points barriers --jobs 2 --out "$A" \
    >"$PP_TMP/a.log" 2>&1 || { cat "$PP_TMP/a.log" >&2; pp_fail "sim without cache failed"; }
PLUGPULL_STATE_VERIFY=1 "$PP_BIN" sim --known "$PP_KNOWN" --points barriers --jobs 2 --recording "$A/work" --out "$B" \
    >"$PP_TMP/b.log" 2>&1 || { cat "$PP_TMP/b.log" >&2; pp_fail "sim with cache failed"; }

python3 - "$A" "$B" <<'PY' || pp_fail "the cached campaign judged differently"
import json, os, sys
a, b = sys.argv[1], sys.argv[2]
RUN = {"seconds", "time", "elapsed_us", "shares_verdict_with", "trace",
       "recording", "snapshot", "root"}
def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in RUN}
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o
pa = {c["id"]: c for c in json.load(open(os.path.join(a, "points.json")))["cases"]}
pb = {c["id"]: c for c in json.load(open(os.path.join(b, "points.json")))["cases"]}
assert pa.keys() == pb.keys(), "not the same cases"
bad = [i for i in pa if (pa[i]["outcome"], pa[i]["reason"]) != (pb[i]["outcome"], pb[i]["reason"])]
for i in bad[:5]:
    print("%s: %s (%s) vs %s (%s)" % (i, pa[i]["outcome"], pa[i]["reason"],
                                      pb[i]["outcome"], pb[i]["reason"]), file=sys.stderr)
assert not bad, "%d case(s) differ" % len(bad)
assert not any("shares_verdict_with" in c for c in pa.values()), "NOCACHE shared"
shared = sum("shares_verdict_with" in c for c in pb.values())
assert shared > 0, "no state was shared"
farm = lambda p: sum(c.get("time", {}).get("farm_dirs", 0) for c in p.values())
moved = lambda p: sum(c.get("time", {}).get("farm_from", -1) >= 0 for c in p.values())
assert farm(pa) == 0 and moved(pa) == 0, "PLUGPULL_STATE_FRESH built over a farm"
assert moved(pb) > 0, "no farm was moved from a cut to the next"
files = sorted(os.listdir(os.path.join(a, "cases")))
assert files == sorted(os.listdir(os.path.join(b, "cases"))), "case files differ"
for n in files:
    ea = strip(json.load(open(os.path.join(a, "cases", n)))["evidence"])
    eb = strip(json.load(open(os.path.join(b, "cases", n)))["evidence"])
    assert ea == eb, "%s: evidence differs" % n
print("  fixture: %d cases, the same verdicts and reasons (%d shared a "
      "verdict, %d moved from the cut before, %d directories restored by "
      "farms), %d case files with the same evidence"
      % (len(pa), shared, moved(pb), farm(pb), len(files)))
PY

fw=${PP_FIRMWARE_DIR:-$PP_BUILD/firmware}
rec=$fw/record-small
if [ -f "$rec/upgrade.cfit" ] && [ -f "$fw/debian-small/v2.commit" ]; then
    PLUGPULL_STATE_VERIFY=1 "$PP_BUILD/bench/judge-states" --trace "$rec/upgrade.cfit" \
        --root "$rec/sysroot" --snapshot "$rec/snapshot" --repo "$rec/srv/repo" \
        --commit "$(cat "$fw/debian-small/v1.commit")" \
        --commit "$(cat "$fw/debian-small/v2.commit")" \
        --sample "${PP_FIRMWARE_SAMPLE:-12}" --jobs 2 --states "$PP_TMP/fw" \
        --compare >"$PP_TMP/fw.log" 2>&1 ||
        { cat "$PP_TMP/fw.log" >&2; pp_fail "small firmware: cached and full judgements differ"; }
    grep -q "differences=0" "$PP_TMP/fw.log" || pp_fail "small firmware: no comparison"
    grep -q " farm_dirs=[1-9]" "$PP_TMP/fw.log" || pp_fail "small firmware: no state was built over a farm"
    echo "  small firmware: $(grep -o 'compared=[0-9]*' "$PP_TMP/fw.log" | cut -d= -f2) states, the same judgements"
else
    echo "  small firmware: no recording in $rec (bench/firmware-record.sh --size small), not compared"
fi
echo "test-oracle-equivalence: ok"
