#!/bin/sh
# SPDX-License-Identifier: MIT
# Known findings end to end: a campaign whose failures all match
# acknowledged findings passes, reports them known (summary.json, JUnit
# skipped with the link, points.json, merge, report); twins: a failure no
# finding matches still fails the run, an expired finding excuses nothing
# and the summary says so, a broken findings file is exit 2 with
# file:line.  The scenario names its findings ([verify] known, relative
# to the scenario file); --known overrides it.
. "$(dirname "$0")/lib.sh"
pp_init "$@"

"$PP_BIN" sim --help 2>&1 | grep -q -- "--known" ||
    pp_skip "this plugpull sim has no --known yet (cli/cmd-sim.c)"

scen_dir=$(cd "$(dirname "$0")/../../scenarios" && pwd)
scen=$PP_TMP/scen/fsync-disabled-known.conf
mkdir -p "$PP_TMP/scen"
sed 's/^resume = .*/resume = none\nknown = known.conf/' \
    "$scen_dir/fsync-disabled.conf" >"$scen"
# Matches nothing this campaign can fail with (no hang in the sim tier).
cat >"$PP_TMP/scen/known.conf" <<'EOF'
[finding placeholder]
link = https://tracker.example/1
outcome = hang
EOF

"$PP_BIN" sim --record-only --scenario "$scen" --points sample:80 \
    --out "$PP_TMP/rec" >"$PP_TMP/log" 2>&1 ||
    { cat "$PP_TMP/log"; pp_fail "record-only"; }

# --- the baseline: failures, none known ------------------------------------
"$PP_BIN" sim --recording "$PP_TMP/rec" --out "$PP_TMP/base" >"$PP_TMP/log" 2>&1
rc=$?
tail -2 "$PP_TMP/log"
[ "$rc" -eq 1 ] || { cat "$PP_TMP/log"; pp_fail "baseline exited $rc, want 1"; }
grep -q "KNOWN" "$PP_TMP/log" && pp_fail "a placeholder finding excused a case"

# One finding per failing outcome, each limited to the phases it failed in.
python3 - "$PP_TMP/base" "$PP_TMP/scen/known.conf" "$PP_TMP/some.conf" <<'PY' ||
import json, sys, os
base, allf, somef = sys.argv[1:]
pts = json.load(open(os.path.join(base, "points.json")))["cases"]
fails = [p for p in pts if p["outcome"] != "pass"]
assert fails, "no failure to acknowledge"
by = {}
for p in fails:
    by.setdefault(p["outcome"], set()).add(p["phase"])
def entry(o, phases, until):
    return ("[finding t-%s]\nlink = https://tracker.example/%s\nuntil = %s\n"
            "outcome = %s\nphase = %s\n\n" % (o, o, until, o,
                                              ", ".join(sorted(phases))))
with open(allf, "w") as f:
    for o in sorted(by):
        f.write(entry(o, by[o], "2099-12-31"))
# All but the first failure's outcome: those must still fail.
first = fails[0]["outcome"]
with open(somef, "w") as f:
    f.write("# nothing for %s\n" % first)
    for o in sorted(by):
        if o != first:
            f.write(entry(o, by[o], "2099-12-31"))
    if len(by) == 1:
        f.write(entry("hang", ["pull"], "2099-12-31"))
PY
    pp_fail "writing the findings"
sed 's/^until = .*/until = 2020-01-01/' "$PP_TMP/scen/known.conf" \
    >"$PP_TMP/expired.conf"

# --- every failure acknowledged (the scenario's [verify] known) ------------
"$PP_BIN" sim --recording "$PP_TMP/rec" --out "$PP_TMP/k" >"$PP_TMP/log" 2>&1
rc=$?
tail -3 "$PP_TMP/log"
[ "$rc" -eq 0 ] || { cat "$PP_TMP/log"; pp_fail "all known: exited $rc, want 0"; }
grep -q "^  KNOWN t-" "$PP_TMP/log" || pp_fail "no KNOWN line"
python3 - "$PP_TMP/base" "$PP_TMP/k" <<'PY' || pp_fail "all known: results"
import json, sys, os, re
base, k = sys.argv[1:]
b = json.load(open(os.path.join(base, "summary.json")))
s = json.load(open(os.path.join(k, "summary.json")))
assert s["failed"] == 0 and s["known"] == b["failed"] > 0, (s["failed"], s["known"], b["failed"])
assert s["passed"] == b["passed"], (s["passed"], b["passed"])
assert s["outcomes"] == b["outcomes"], "known failures still count as their outcomes"
assert sum(f["cases"] for f in s["known_findings"]) == s["known"]
for f in s["known_findings"]:
    assert f["link"].startswith("https://tracker.example/") and not f["expired"], f
x = open(os.path.join(k, "junit.xml")).read()
assert 'failures="0"' in x and ('skipped="%d"' % s["known"]) in x, x[:400]
assert len(re.findall(r'<skipped message="known finding t-[a-z-]+ \(https://tracker\.example/', x)) == s["known"]
pts = json.load(open(os.path.join(k, "points.json")))["cases"]
assert sum(1 for p in pts if p.get("known")) == s["known"]
PY
pp_log "every failure acknowledged: exit 0, counted known, JUnit skipped with the link"

# --- twin: a failure that no finding matches still fails (--known) ---------
"$PP_BIN" sim --recording "$PP_TMP/rec" --known "$PP_TMP/some.conf" \
    --out "$PP_TMP/some" >"$PP_TMP/log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/log"; pp_fail "some known: exited $rc, want 1"; }
python3 - "$PP_TMP/base" "$PP_TMP/some" <<'PY' || pp_fail "some known: results"
import json, sys, os
base, d = sys.argv[1:]
b = json.load(open(os.path.join(base, "summary.json")))
s = json.load(open(os.path.join(d, "summary.json")))
first = [p for p in json.load(open(os.path.join(base, "points.json")))["cases"]
         if p["outcome"] != "pass"][0]["outcome"]
assert s["failed"] == b["outcomes"][first] > 0, (s["failed"], first)
assert s["failed"] + s["known"] == b["failed"]
PY
pp_log "twin: a failure no finding matches still fails the run"

# --- twin: an expired finding excuses nothing ---------------------------------
"$PP_BIN" sim --recording "$PP_TMP/rec" --known "$PP_TMP/expired.conf" \
    --out "$PP_TMP/exp" >"$PP_TMP/log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/log"; pp_fail "expired: exited $rc, want 1"; }
grep -q "^  EXPIRED t-" "$PP_TMP/log" || pp_fail "no EXPIRED line"
python3 - "$PP_TMP/base" "$PP_TMP/exp" <<'PY' || pp_fail "expired: results"
import json, sys, os
base, d = sys.argv[1:]
b = json.load(open(os.path.join(base, "summary.json")))
s = json.load(open(os.path.join(d, "summary.json")))
assert s["failed"] == b["failed"] and s["known"] == 0
assert s["known_findings"] and all(f["expired"] for f in s["known_findings"])
x = open(os.path.join(d, "junit.xml")).read()
assert 'skipped="0"' in x and "expired after 2020-01-01" in x
PY
pp_log "twin: an expired finding excuses nothing, and the summary says so"

# --- twin: a broken findings file is exit 2, every problem with file:line ---
printf '[finding a]\nlink = https://x/1\nuntil = 2027-02-30\noutcome = brick\ncolour = red\n' \
    >"$PP_TMP/bad.conf"
"$PP_BIN" sim --recording "$PP_TMP/rec" --known "$PP_TMP/bad.conf" \
    --out "$PP_TMP/bad" >"$PP_TMP/log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || { cat "$PP_TMP/log"; pp_fail "bad findings: exited $rc, want 2"; }
grep -q "bad.conf:3: \[finding a\] until = '2027-02-30'" "$PP_TMP/log" &&
    grep -q "bad.conf:5: unknown key 'colour'" "$PP_TMP/log" ||
    { cat "$PP_TMP/log"; pp_fail "bad findings: not every problem with file:line"; }
[ ! -e "$PP_TMP/bad/summary.json" ] || pp_fail "a bad findings file produced results"
pp_log "twin: a broken findings file: exit 2, every problem with file:line"

# --- shards: merge reads the marks; report shows them apart ------------------
for k in 1 2; do
    "$PP_BIN" sim --recording "$PP_TMP/rec" --shard "$k/2" \
        --out "$PP_TMP/s$k" >"$PP_TMP/log" 2>&1 ||
        { cat "$PP_TMP/log"; pp_fail "shard $k"; }
done
"$PP_BIN" merge "$PP_TMP/s1" "$PP_TMP/s2" --out "$PP_TMP/m" >"$PP_TMP/log" 2>&1 ||
    { cat "$PP_TMP/log"; pp_fail "merge of known shards exited $?, want 0"; }
python3 - "$PP_TMP/k" "$PP_TMP/m" <<'PY' || pp_fail "merged known"
import json, sys, os
a, m = (json.load(open(os.path.join(d, "summary.json"))) for d in sys.argv[1:])
assert (m["known"], m["failed"], m["known_findings"]) == (a["known"], a["failed"], a["known_findings"]), (m["known_findings"], a["known_findings"])
PY
"$PP_BIN" compare "$PP_TMP/base" "$PP_TMP/m" >"$PP_TMP/log" 2>&1 ||
    { cat "$PP_TMP/log"; pp_fail "compare: a known failure is no regression"; }
"$PP_BIN" report "$PP_TMP/m" >"$PP_TMP/log" 2>&1 || { cat "$PP_TMP/log"; pp_fail "report"; }
grep -q "<h2>Known findings (" "$PP_TMP/m/report.html" || pp_fail "report: no known findings section"
grep -q "<h2>Failing cases (0)" "$PP_TMP/m/report.html" || pp_fail "report: known cases among the failing"
pp_log "merge keeps the known marks; compare counts them as failures; report shows them apart"
