#!/bin/sh
# SPDX-License-Identifier: MIT
# test-oracle-equivalence.sh: the oracle's per-campaign cache (with what
# it takes as unchanged from the farm), the sharing of identical states,
# the states built over a farm kept between cases and moved from a cut to
# the next, and the shared bootloader's views change no verdict.
#
# The same recording is judged twice, once as ever (PLUGPULL_ORACLE_NOCACHE=1:
# every file hashed, every object verified, every state judged on its own;
# PLUGPULL_STATE_FRESH=1: every state a fresh hardlink farm of the
# snapshot) and once with the cache, sharing and farms, each farm checked
# against the snapshot after every restore (PLUGPULL_STATE_VERIFY=1);
# every case must have the same outcome, reason and evidence.  Then the
# same for a sample of the small Debian firmware's barrier points (built
# or reused from BUILD/firmware/debian-small, recorded here).  The
# twins (a file changed in place behind a warm cache is still seen; a
# state that changes what earlier states left unchanged is judged in
# full) are tests/unit/test-oracle-cache.c; a farm changed behind its
# back is seen by the verify and by the comparison with fresh states:
# tests/unit/test-models.c test_farm_between_states_fail and
# test_farm_advances_cut_to_cut_fail.
. "$(dirname "$0")/lib.sh"
pp_init "$@"

A=$PP_TMP/full
B=$PP_TMP/cached
PLUGPULL_ORACLE_NOCACHE=1 PLUGPULL_STATE_FRESH=1 "$PP_BIN" sim --known "$PP_KNOWN" --points barriers --jobs 2 --out "$A" \
    >"$PP_TMP/a.log" 2>&1 || { cat "$PP_TMP/a.log" >&2; pp_fail "sim without cache failed"; }
PLUGPULL_STATE_VERIFY=1 "$PP_BIN" sim --known "$PP_KNOWN" --points barriers --jobs 2 --recording "$A/work" --out "$B" \
    >"$PP_TMP/b.log" 2>&1 || { cat "$PP_TMP/b.log" >&2; pp_fail "sim with cache failed"; }

# compare FULL CACHED LABEL NEED_MOVED: the same outcome, reason and
# evidence for every case; the cached run shared states and, with
# NEED_MOVED=1, moved farms from a cut to the next.
cat >"$PP_TMP/compare.py" <<'PY'
import json, os, sys
a, b, label, need_moved = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
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
farm = lambda p: sum(c.get("time", {}).get("farm_dirs", 0) for c in p.values())
moved = lambda p: sum(c.get("time", {}).get("farm_from", -1) >= 0 for c in p.values())
assert farm(pa) == 0 and moved(pa) == 0, "PLUGPULL_STATE_FRESH built over a farm"
assert not need_moved or moved(pb) > 0, "no farm was moved from a cut to the next"
files = sorted(os.listdir(os.path.join(a, "cases")))
assert files == sorted(os.listdir(os.path.join(b, "cases"))), "case files differ"
for n in files:
    ea = strip(json.load(open(os.path.join(a, "cases", n)))["evidence"])
    eb = strip(json.load(open(os.path.join(b, "cases", n)))["evidence"])
    assert ea == eb, "%s: evidence differs" % n
print("  %s: %d cases, the same verdicts and reasons (%d shared a verdict, "
      "%d moved from an earlier cut), %d case files with the same evidence"
      % (label, len(pa), shared, moved(pb), len(files)))
PY
python3 "$PP_TMP/compare.py" "$A" "$B" fixture 1 ||
    pp_fail "the cached campaign judged differently"

# --- a Debian-built firmware: its own recording, a sample of barriers ------
fwdir=$PP_BUILD/firmware/debian-small
pp_small_firmware "$fwdir"
R=$PP_TMP/fw-rec
n=${PP_FIRMWARE_SAMPLE:-30}
"$PP_BIN" sim --repo "$fwdir/repo" --from firmware^ --to firmware \
    --points "barriers:$n" --seed 1 --resume-updates none \
    --record-only --out "$R" >"$PP_TMP/fw-rec.log" 2>&1 ||
    { cat "$PP_TMP/fw-rec.log" >&2; pp_fail "small firmware: recording failed"; }
PLUGPULL_ORACLE_NOCACHE=1 PLUGPULL_STATE_FRESH=1 "$PP_BIN" sim --recording "$R" \
    --jobs 2 --out "$PP_TMP/fw-a" >"$PP_TMP/fw-a.log" 2>&1
rc=$?
[ "$rc" -le 1 ] || { cat "$PP_TMP/fw-a.log" >&2; pp_fail "small firmware: the full check's campaign exited $rc"; }
PLUGPULL_STATE_VERIFY=1 "$PP_BIN" sim --recording "$R" \
    --jobs 2 --out "$PP_TMP/fw-b" >"$PP_TMP/fw-b.log" 2>&1
rc2=$?
[ "$rc2" -eq "$rc" ] || { cat "$PP_TMP/fw-b.log" >&2; pp_fail "small firmware: exit $rc2, the full check's $rc"; }
python3 "$PP_TMP/compare.py" "$PP_TMP/fw-a" "$PP_TMP/fw-b" "small firmware" 0 ||
    pp_fail "small firmware: cached and full judgements differ"
echo "test-oracle-equivalence: ok"
