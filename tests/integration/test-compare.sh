#!/bin/sh
# SPDX-License-Identifier: MIT
# plugpull compare: two campaigns, crash point by crash point.
#
# A is the fsync-disabled scenario without its repo-config (fsync on: every
# point passes), B is scenarios/fsync-disabled.conf (core.fsync=false:
# failures); same model, seed and points (sample:40).  B regresses against
# A: exit 1, newly failing points listed with B's replay commands, and with
# --out a compare.json and a self-contained compare.html.  The traces
# differ in length, so the points are matched by phase and position, and
# the output must say so.
# Twins: A against itself (matched by k) and B against A (it improves)
# exit 0 with nothing newly failing; campaigns with different seeds are a
# usage error (exit 2) unless --force; a directory that is not a campaign
# is exit 2.
# The VM tier, from the fixture tests/data/vm-result (no QEMU): against
# itself, cycles matched by id, exit 0; against a copy where one cycle
# hangs, exit 1 with that cycle newly failing, its time and resume bytes,
# and a compare.html against seconds.  Twins: VM against sim (tier
# differs) and against another cut are exit 2.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd python3 jq

scen=$(cd "$(dirname "$0")/../../scenarios" && pwd)
grep -v '^repo-config' "$scen/fsync-disabled.conf" |
    sed 's/^name = .*/name = fsync-enabled/; s/^expect = .*/expect = pass/; s/^description = .*/description = fsync-disabled.conf without its repo-config (fsync on)/' \
    >"$PP_TMP/fsync-enabled.conf"
grep -q '^repo-config' "$PP_TMP/fsync-enabled.conf" && pp_fail "repo-config not removed"
# Both judged as the kernel reads the disk: the bootloader's own view adds
# the known ostree#3392 to both sides, which test-ostree-3392 compares.
sed -i 's/^\[device\]$/[device]\nbootloader-replays-journal = true/' \
    "$PP_TMP/fsync-enabled.conf"
sed 's/^\[device\]$/[device]\nbootloader-replays-journal = true/' \
    "$scen/fsync-disabled.conf" >"$PP_TMP/fsync-disabled.conf"
grep -q '^bootloader-replays-journal' "$PP_TMP/fsync-disabled.conf" ||
    pp_fail "could not set bootloader-replays-journal"

a=$PP_TMP/a
b=$PP_TMP/b
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$PP_TMP/fsync-enabled.conf" --points sample:40 --out "$a" \
    >"$PP_TMP/a.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { tail -5 "$PP_TMP/a.log"; pp_fail "sim A exited $rc, want 0"; }
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$PP_TMP/fsync-disabled.conf" --points sample:40 --out "$b" \
    >"$PP_TMP/b.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { tail -5 "$PP_TMP/b.log"; pp_fail "sim B exited $rc, want 1"; }

# --- B regresses against A ---------------------------------------------
"$PP_BIN" compare "$a" "$b" --out "$PP_TMP/ab" >"$PP_TMP/ab.log" 2>&1
rc=$?
head -14 "$PP_TMP/ab.log"
[ "$rc" -eq 1 ] || pp_fail "compare A B exited $rc, want 1 (B regresses)"
grep -q "^verdict: REGRESSION: [0-9]* crash point(s) fail in B that passed in A" "$PP_TMP/ab.log" ||
    pp_fail "no regression verdict"
grep -q "matched by phase and position" "$PP_TMP/ab.log" ||
    pp_fail "traces differ in length but the output does not say how points were matched"
grep -q "replay: cd $b && plugpull replay cases/" "$PP_TMP/ab.log" ||
    pp_fail "no replay command for a newly failing point"
for f in compare.json compare.html; do
    [ -s "$PP_TMP/ab/$f" ] || pp_fail "--out: $f missing"
done
python3 - "$PP_TMP/ab" "$b" <<'PY' || pp_fail "compare.json / compare.html"
import json, os, re, sys
out, bdir = sys.argv[1], sys.argv[2]
c = json.load(open(os.path.join(out, "compare.json")))
assert c["regressed"] is True and c["matching"] == "phase-position", c["matching"]
n = c["counts"]["newly-failing"]
assert n > 0 and c["a"]["failed"] == 0 and c["b"]["failed"] > 0, c["counts"]
newly = [p for p in c["pairs"] if p["change"] == "newly-failing"]
assert len(newly) == n
for p in newly:
    assert p["a"]["outcome"] == "pass" and p["b"]["outcome"] != "pass", p
    assert p["a"]["phase"] == p["b"]["phase"], p
page = open(os.path.join(out, "compare.html"), encoding="utf-8").read()
assert not re.search(r"https?://", page), "a URL in compare.html"
for bad in ("<script", "<link", "<img", " src=", "url("):
    assert bad not in page, "external reference: " + bad
assert c["verdict"] in page and "matched by phase and position" in page
assert page.count("<svg ") >= 2, "plots missing"
for p in newly:
    assert "plugpull replay cases/%s.json" % p["b"]["id"] in page, p["b"]["id"]
print("compare.json: %d newly failing, all listed in compare.html" % n)
PY

# --- twins: no regression ------------------------------------------------
"$PP_BIN" compare "$a" "$a" --out "$PP_TMP/aa" >"$PP_TMP/aa.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/aa.log"; pp_fail "compare A A exited $rc, want 0"; }
grep -q "^  newly failing  *0$" "$PP_TMP/aa.log" || pp_fail "A against itself: something newly fails"
grep -q "^verdict: no regression" "$PP_TMP/aa.log" || pp_fail "A against itself: no 'no regression' verdict"
grep -q "matched by phase and position" "$PP_TMP/aa.log" && pp_fail "A against itself not matched by k"
[ "$(jq -r .matching "$PP_TMP/aa/compare.json")" = k ] || pp_fail "compare.json: A A not matched by k"
[ "$(jq -r '.counts.same' "$PP_TMP/aa/compare.json")" = 40 ] || pp_fail "A A: not 40 unchanged points"

"$PP_BIN" compare "$b" "$a" >"$PP_TMP/ba.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/ba.log"; pp_fail "compare B A exited $rc, want 0 (A improves on B)"; }
grep -q "^  newly passing  *[1-9]" "$PP_TMP/ba.log" || pp_fail "B against A: nothing newly passing"

# --- twins: not comparable ---------------------------------------------
cp -r "$a" "$PP_TMP/a-seed7"
jq '.seed = 7' "$a/summary.json" >"$PP_TMP/a-seed7/summary.json"
"$PP_BIN" compare "$a" "$PP_TMP/a-seed7" >"$PP_TMP/seed.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "compare with different seeds exited $rc, want 2"
grep -q "seed differs: A 0, B 7" "$PP_TMP/seed.log" || pp_fail "no diagnostic: $(cat "$PP_TMP/seed.log")"
"$PP_BIN" compare --force "$a" "$PP_TMP/a-seed7" >"$PP_TMP/force.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/force.log"; pp_fail "compare --force exited $rc, want 0"; }

mkdir "$PP_TMP/empty"
"$PP_BIN" compare "$a" "$PP_TMP/empty" >"$PP_TMP/empty.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "compare with a non-campaign exited $rc, want 2"
grep -q "no summary.json" "$PP_TMP/empty.log" || pp_fail "no diagnostic: $(cat "$PP_TMP/empty.log")"
"$PP_BIN" compare "$a" >/dev/null 2>&1
[ "$?" -eq 2 ] || pp_fail "compare with one directory: want exit 2"

pp_log "B regresses against A (exit 1); A against itself and B against A do not (exit 0); mismatches exit 2"

# --- the VM tier -----------------------------------------------------------
vm=$(cd "$(dirname "$0")/../data/vm-result" && pwd)
"$PP_BIN" compare "$vm" "$vm" --out "$PP_TMP/vv" >"$PP_TMP/vv.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/vv.log"; pp_fail "compare VM VM exited $rc, want 0"; }
[ "$(jq -r .matching "$PP_TMP/vv/compare.json")" = id ] || pp_fail "VM VM: not matched by id"
[ "$(jq -c '[.counts.same, .counts["still-failing"], .counts["only-a"], .counts["only-b"]]' \
    "$PP_TMP/vv/compare.json")" = "[4,1,0,0]" ] || pp_fail "VM VM: counts $(jq -c .counts "$PP_TMP/vv/compare.json")"
grep -q "VM tier (u-boot), cut random-time, seed 1: 5 cycles, 1 failed" "$PP_TMP/vv.log" ||
    pp_fail "VM VM: campaigns not described: $(head -4 "$PP_TMP/vv.log")"
grep -q "cycles/hour" "$PP_TMP/vv.log" || pp_fail "VM VM: no cycles per hour"

# B: the same run, but cycle 1 hangs after the cut (and, as a cut time
# is measured, its cut fell a little later).
vb=$PP_TMP/vm-b
cp -r "$vm" "$vb"
python3 - "$vb" <<'PY' || pp_fail "VM B"
import json, os, sys
d = sys.argv[1]
def edit(name, fn):
    path = os.path.join(d, name)
    doc = json.load(open(path))
    fn(doc)
    json.dump(doc, open(path, "w"), indent=1)
reason = "after the cut: console silent for 60 s after '[    2.1] EXT4-fs (vda1): recovery complete', QEMU running"
def points(p):
    c = p["cases"][1]
    c.update(outcome="hang", reason=reason, resumed=False, time_s=2.301, k=2301)
    del c["resume_bytes"]
def summary(s):
    s.update(passed=3, failed=2, resume_bytes_total=s["resume_bytes_total"] - 406)
    s["outcomes"].update({"pass": 3, "hang": 1})
def case(c):
    c.update(outcome="hang", reason=reason, booted_after_cut=None, booted_final=None)
    c["boots"] = [c["boots"][0], {"name": "B-after-cut", "seconds_to_agent": -1.0,
                                  "serial_log": "cases/vm-c0001-s1/B-after-cut.serial",
                                  "failure": reason[len("after the cut: "):]}]
edit("points.json", points)
edit("summary.json", summary)
edit("cases/vm-c0001-s1.json", case)
PY
"$PP_BIN" compare "$vm" "$vb" --out "$PP_TMP/vb-out" >"$PP_TMP/vb.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/vb.log"; pp_fail "compare VM B exited $rc, want 1 (a cycle hangs)"; }
grep -q "^  deploy     A t=2.210s pass -> B t=2.301s hang: after the cut: console silent" "$PP_TMP/vb.log" ||
    pp_fail "VM B: the newly failing cycle not listed: $(cat "$PP_TMP/vb.log")"
grep -q "replay: cd $vb && plugpull replay cases/vm-c0001-s1.json" "$PP_TMP/vb.log" ||
    pp_fail "VM B: no replay command"
grep -q "^resume: A 4 resumed, [^;]*MiB; B 3 resumed, " "$PP_TMP/vb.log" ||
    pp_fail "VM B: resume cost: $(grep resume: "$PP_TMP/vb.log")"
python3 - "$PP_TMP/vb-out" "$vb" <<'PY' || pp_fail "VM compare.json / compare.html"
import json, os, re, sys
out, bdir = sys.argv[1], sys.argv[2]
c = json.load(open(os.path.join(out, "compare.json")))
assert c["regressed"] and c["matching"] == "id", (c["regressed"], c["matching"])
assert c["counts"]["newly-failing"] == 1 and c["counts"]["same"] == 3, c["counts"]
newly = [p for p in c["pairs"] if p["change"] == "newly-failing"]
assert [p["b"]["id"] for p in newly] == ["vm-c0001-s1"], newly
page = open(os.path.join(out, "compare.html"), encoding="utf-8").read()
assert not re.search(r"https?://", page), "a URL in compare.html"
for text in ("matched by id", "seconds into the update", ">2.210</td>",
             ">2.301</td>", "plugpull replay cases/vm-c0001-s1.json",
             "Boot B-after-cut failed", "serial log not found",
             "cycles per hour", "Phase estimated from the calibration"):
    assert text in page, "compare.html: missing " + text
assert "crash point k" not in page, "a sim axis on a VM comparison"
print("VM compare: cycle vm-c0001-s1 newly failing, matched by id, plotted in seconds")
PY

# Twins: not comparable.
"$PP_BIN" compare "$a" "$vm" >"$PP_TMP/sv.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "compare sim VM exited $rc, want 2"
grep -q "tier differs: A sim, B vm" "$PP_TMP/sv.log" || pp_fail "no diagnostic: $(cat "$PP_TMP/sv.log")"
cp -r "$vm" "$PP_TMP/vm-phase"
jq '.cut = "phase:bootloader"' "$vm/summary.json" >"$PP_TMP/vm-phase/summary.json"
"$PP_BIN" compare "$vm" "$PP_TMP/vm-phase" >"$PP_TMP/cut.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "compare VM runs with different cuts exited $rc, want 2"
grep -q "cut differs: A random-time, B phase:bootloader" "$PP_TMP/cut.log" ||
    pp_fail "no diagnostic: $(cat "$PP_TMP/cut.log")"
pp_log "VM: against itself exit 0 (matched by id), a hanging cycle exit 1, sim or another cut exit 2"
