#!/bin/sh
# SPDX-License-Identifier: MIT
# JUnit testcase names identify a case across runs.
#
# Two runs of the same campaign with the same seed (sample:30, no resume)
# judged from one recording, as CI does (record once, judge in shards),
# give the same set of testcase names, and no name holds what a run makes
# up: no run of 32+ hex characters (checksums), no UUID (the boot id of a
# staging directory).  The calls, folded (sim/pathfold.h), are in each
# testcase's system-out and hold neither either.
# Twin: names built the old way, from the case id and the call at k, do
# hold checksums and staging names (and differ between the two runs when
# the pull's threads interleave differently), so this test fails on them.
# (Two fresh recordings of the threaded client can differ by a call or
# two, which moves the points of a sample: case ids name the crash point
# by its position in the recording.)
# The results record the harness version (summary.json, campaign.json,
# recording.json, case files).
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd python3

"$PP_BIN" sim --record-only --points sample:30 --resume-updates none \
    --seed 5 --out "$PP_TMP/rec" >"$PP_TMP/rec.log" 2>&1 ||
    { tail -5 "$PP_TMP/rec.log"; pp_fail "recording failed"; }
for r in 1 2; do
    "$PP_BIN" sim --recording "$PP_TMP/rec" --points sample:30 \
        --resume-updates none --known "$PP_KNOWN" \
        --seed 5 --out "$PP_TMP/run$r" >"$PP_TMP/run$r.log" 2>&1
    rc=$?
    # 1: a failure is fine here (its testcase is named like any other)
    [ "$rc" -le 1 ] || { tail -5 "$PP_TMP/run$r.log"; pp_fail "run $r exited $rc, want 0 or 1"; }
done
version=$("$PP_BIN" --version | cut -d' ' -f2)

python3 - "$PP_TMP/run1" "$PP_TMP/run2" "$version" <<'PY' || pp_fail "junit names"
import glob, json, os, re, sys
import xml.etree.ElementTree as ET
a, b, version = sys.argv[1:]
made_up = re.compile(r"[0-9a-fA-F]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

def names(d):
    t = ET.parse(os.path.join(d, "junit.xml")).getroot()
    cases = t.findall(".//testcase")
    out = set()
    for c in cases:
        n = c.get("name")
        assert not made_up.search(n), "made-up name in a testcase name: " + n
        so = c.find("system-out").text
        folded = [l for l in so.splitlines() if l.startswith("folded: ")]
        assert len(folded) == 1, so
        assert not made_up.search(folded[0]), folded[0]
        out.add((c.get("classname"), n))
    assert len(out) == len(cases) == 30, (len(out), len(cases))
    return out

na, nb = names(a), names(b)
assert na == nb, "testcase names differ: only in run 1 %s, only in run 2 %s" % (
    sorted(na - nb)[:5], sorted(nb - na)[:5])

# Twin: the old names, "ID CALL", from points.json.
def old(d):
    return {"%s %s" % (p["id"], p["call"])
            for p in json.load(open(os.path.join(d, "points.json")))["cases"]}
oa, ob = old(a), old(b)
bad = [n for n in oa | ob if made_up.search(n)]
assert bad, "old-style names hold no checksum or UUID: the twin proves nothing"
print("old-style names: %d of %d hold a checksum or UUID, %d differ between "
      "the runs, e.g. %s" % (len(bad), len(oa | ob), len(oa ^ ob), bad[0][:90]))

for d in (a, b):
    for f in ["summary.json", "campaign.json",
              os.path.join(os.path.dirname(d), "rec", "recording.json")] + \
            glob.glob(os.path.join(d, "cases", "*.json")):
        j = json.load(open(os.path.join(d, f)))
        assert j.get("tool_version") == version, (f, j.get("tool_version"))
        assert j.get("harness_format") == 1, (f, j.get("harness_format"))
PY
pp_log "two runs, seed 5: the same 30 testcase names, none with a checksum or UUID; results record plugpull $version"
