#!/bin/sh
# SPDX-License-Identifier: MIT
# plugpull strategies: ostree, ab and update-mode under the same power cuts
# (ordered model, the same sampled crash points, seed 0) on a small fixture
# firmware, and the shape of the result, each property a function of one
# strategy's figures that must hold where the claim says it does and fail
# on a strategy without the property (its failing twin):
#
#   no brick and no mixed state: holds for ostree (bricks only the known
#     ostree#3392, excused by scenarios/known-findings.conf) and ab; fails
#     for update-mode;
#   bricks inside the image write (deploy phase): holds for update-mode;
#     fails for ab (its slot write never bricks: the old slot boots);
#   back to v1 fetches only the pruned objects: ostree fetched objects and
#     none the device already had; fails for ab, which downloads bytes
#     without objects (the whole image);
#   downloads the whole image every time: holds for ab; fails for ostree.
#
# Also: a slot campaign interrupted and resumed reuses its recording and
# gives the uninterrupted verdicts; a dpkg campaign runs on a recording made
# by --record-only; a bad [update] strategy is a usage error naming the values, a
# brick of update-mode replays to a brick, and compare refuses two
# strategies without --force; ab with SWUpdate (the real updater) under
# the shim never bricks; minimize works on a slot campaign's cases.
#
# Then the four on one firmware, the small Debian-built one (v1, v2 = v1 +
# less, v3 = v2 + ed: committed to OSTree for ostree, checked out and made
# into ext4 images for ab and update-mode, installed as packages for dpkg;
# `strategies --repo --next`), with the same properties and:
#   leaves states that need intervention or are mixed: holds for dpkg
#     (dpkg -i of less cut mid-way: a package half-installed, unpacked or
#     half-configured); fails for ab;
#   the slot images are the firmware's (each the size of its Debian root
#     and half again, not the fixture's), and every strategy has its
#     v2 -> v3 figure; dpkg's back to v1 downloads nothing (v1's packages
#     are v3's: going back removes);
#   a dpkg case that needs intervention replays to the same verdict and
#     minimizes; twin: an earlier cut minimize judges passes;
#   dpkg without --repo is a usage error (twin: the campaign with one).
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_cmd mke2fs
pp_need_cmd fw_setenv

# The shape of a comparison: each property a function of one strategy's
# figures, asserted where it holds and failing where it does not.
cat >"$PP_TMP/shape.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
on_repo = sys.argv[2] == "repo"
st = d["strategies"]
want = {"ostree", "ab", "update-mode"} | ({"dpkg"} if on_repo else set())
assert set(st) == want, list(st)
assert d["model"] == "ordered", d["model"]
for n, s in st.items():
    assert s["cases"] >= 20, (n, s["cases"])

def no_brick_no_mixed(s):
    oc = s["outcomes"]
    return oc["brick"] - s["known"] <= 0 and oc["wrong-tree"] == 0

def bricks_in_image_write(s):
    return s["failure_phases"]["deploy"].get("brick", 0) > 0

def back_fetches_only_pruned(s):
    b = s["measured"].get("back_to_v1_objects")
    return (b is not None and b["fetched"] > 0
            and b["already_on_device"] == 0
            and b["fetched"] == b["new_on_device"])

def downloads_whole_image(s):
    m = s["measured"]
    img = m["image_bytes"]
    return img is not None and all(v == img for v in m["download_bytes"].values())

def needs_intervention_or_mixed(s):
    oc = s["outcomes"]
    return oc.get("needs-intervention", 0) + oc["wrong-tree"] > 0

def check(prop, holds, fails):
    for n in holds:
        assert prop(st[n]), "%s should hold for %s: %s" % (prop.__name__, n, st[n])
    for n in fails:
        assert not prop(st[n]), "%s should fail for %s (twin)" % (prop.__name__, n)
    print("%-26s holds: %-14s fails: %s" % (prop.__name__, " ".join(holds),
                                             " ".join(fails)))

check(no_brick_no_mixed, ["ostree", "ab"], ["update-mode"])
check(bricks_in_image_write, ["update-mode"], ["ab", "ostree"])
check(back_fetches_only_pruned, ["ostree"], ["ab", "update-mode"])
check(downloads_whole_image, ["ab", "update-mode"], ["ostree"])
if on_repo:
    check(needs_intervention_or_mixed, ["dpkg"], ["ab"])
    fw = d["firmware"]
    assert fw["repo"].endswith("/repo") and "v3" in fw, fw
    # The images are the Debian roots' (over 100 MiB), not the fixture's.
    for n in ("ab", "update-mode"):
        assert st[n]["measured"]["image_bytes"] > 100 << 20, (n, st[n]["measured"])
    for n, s in st.items():
        assert s["measured"]["download_bytes"]["v2_to_v3"] > 0, (n, s["measured"])
    dl = st["dpkg"]["measured"]["download_bytes"]
    assert dl["v1_to_v2"] > 0 and dl["v3_to_v1"] == 0, dl
    # OSTree's objects: far below a whole image.
    img = st["ab"]["measured"]["image_bytes"]
    assert st["ostree"]["measured"]["download_bytes"]["v1_to_v2"] < img / 100
else:
    assert d["firmware"]["repo"] == "fixture", d["firmware"]
# The ostree bricks that are allowed are the known ones, in cleanup.
o = st["ostree"]
assert o["outcomes"]["brick"] == o["known"], o
assert set(o["failure_phases"]["pull"]) | set(o["failure_phases"]["deploy"]) == set(), o
for n, s in st.items():
    m = s["measured"]
    print("%-12s %s; boots %s; down %s; on device %s" % (
        n, {k: v for k, v in s["outcomes"].items() if v}, s["boots"],
        m["download_bytes"], m["on_device_bytes"]))
PY

out=$PP_TMP/strategies
# sample:40 keeps the campaigns near a minute each here; a loaded 2-core
# machine takes a few (no waits to bound: each campaign is run to its end).
"$PP_BIN" strategies --out "$out" --points sample:40 --payload-kb 256 \
    --known "$PP_KNOWN" >"$PP_TMP/log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/log"; pp_fail "strategies exited $rc, want 0"; }
[ -s "$out/strategies.html" ] || pp_fail "no strategies.html"
grep -A3 "measured" "$PP_TMP/log"
python3 "$PP_TMP/shape.py" "$out/strategies.json" fixture || pp_fail "the shape of the comparison"
pp_log "the comparison has the issue's shape, each property with its failing twin"

# A brick of update-mode replays to the same brick.
case=$(python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
print(next(c["id"] for c in p["cases"] if c["outcome"] == "brick"))' "$out/update-mode/points.json")
(cd "$out/update-mode" && "$PP_BIN" replay "cases/$case.json") >"$PP_TMP/replay" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/replay"; pp_fail "replay of $case exited $rc, want 1"; }
grep -q "replayed: brick (same)" "$PP_TMP/replay" || pp_fail "replay of $case: $(cat "$PP_TMP/replay")"
pp_log "update-mode's $case replays to the same brick"

# The four on the small Debian-built firmware (cached between runs; about
# a minute to build the first time), v3 by its commit (no ref moves to it).
fwdir=$PP_BUILD/firmware/debian-small
pp_small_firmware "$fwdir"
[ -s "$fwdir/v3.commit" ] || pp_fail "the small firmware has no v3.commit"
dout=$PP_TMP/strategies-debian
"$PP_BIN" strategies --out "$dout" --points sample:20 --repo "$fwdir/repo" \
    --next "$(cat "$fwdir/v3.commit")" --known "$PP_KNOWN" >"$PP_TMP/dlog" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/dlog"; pp_fail "strategies --repo exited $rc, want 0"; }
grep -A4 "measured" "$PP_TMP/dlog"
python3 "$PP_TMP/shape.py" "$dout/strategies.json" repo || pp_fail "the shape of the comparison on the Debian firmware"
grep -q "v3 = $(cat "$fwdir/v3.commit")" "$dout/strategies.html" ||
    pp_fail "strategies.html does not name the firmware's v3"
pp_log "the four strategies on one Debian-built firmware: the same shape, v2 -> v3 measured for each"

# An update-mode brick of the Debian firmware replays to the same brick
# (its images are the firmware's; twin: the fixture's replay above).
dcase=$(python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
print(next(c["id"] for c in p["cases"] if c["outcome"] == "brick"))' "$dout/update-mode/points.json")
(cd "$dout/update-mode" && "$PP_BIN" replay "cases/$dcase.json") >"$PP_TMP/dureplay" 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -q "replayed: brick (same)" "$PP_TMP/dureplay" ||
    pp_fail "replay of the Debian update-mode $dcase: exit $rc: $(cat "$PP_TMP/dureplay")"

# A slot campaign keeps its recording: SIGINT mid-campaign (held after 5
# cases: an event), then --resume reuses the recording (before, it was
# recorded again and every case judged again) and gives the verdicts of an
# uninterrupted run on the same recording.
printf '[scenario]\nname = um-resume\n[firmware]\npayload-kb = 256\n[update]\nstrategy = update-mode\n[crash]\npoints = sample:30\n' >"$PP_TMP/um.conf"
U=$PP_TMP/um
PLUGPULL_TEST_HOLD_AFTER=5 "$PP_BIN" sim --scenario "$PP_TMP/um.conf" --jobs 1 --out "$U" >"$PP_TMP/um.log" 2>&1 &
pid=$!
i=0
while [ "$(ls "$U/work/done" 2>/dev/null | wc -l)" -lt 5 ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$PP_TMP/um.log"; pp_fail "the update-mode campaign ended before 5 cases"; }
    i=$((i + 1))
    # 10 minutes: a bound for a stuck campaign, not a guess at its speed
    [ "$i" -lt 12000 ] || pp_fail "no 5 finished cases in $U"
    sleep 0.05
done
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || { cat "$PP_TMP/um.log"; pp_fail "SIGINT: update-mode campaign exited $rc, want 130"; }
"$PP_BIN" sim --out "$U" --resume >"$PP_TMP/um2.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/um2.log"; pp_fail "--resume of update-mode exited $rc, want 1"; }
grep -q "reusing the recording" "$PP_TMP/um2.log" ||
    { cat "$PP_TMP/um2.log"; pp_fail "--resume of a slot campaign recorded again"; }
"$PP_BIN" sim --recording "$U/work" --out "$PP_TMP/um-ref" >"$PP_TMP/um3.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/um3.log"; pp_fail "--recording of update-mode exited $rc, want 1"; }
python3 - "$U/points.json" "$PP_TMP/um-ref/points.json" <<'PY' || pp_fail "the resumed update-mode campaign differs"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
va = {c["id"]: (c["outcome"], c.get("boots")) for c in a["cases"]}
vb = {c["id"]: (c["outcome"], c.get("boots")) for c in b["cases"]}
assert len(va) == 30 and va == vb, (len(va), len(vb))
assert any(o == "brick" for o, _ in va.values())
PY
pp_log "update-mode: SIGINT + --resume reuses the recording; the same 30 verdicts as an uninterrupted run on it"

# dpkg: --record-only, then a run on the recording (the manifest keeps the
# package sets the states are judged against).
printf '[scenario]\nname = dpkg-rec\n[update]\nstrategy = dpkg\n[crash]\npoints = sample:12\n' >"$PP_TMP/dr.conf"
"$PP_BIN" sim --scenario "$PP_TMP/dr.conf" --repo "$fwdir/repo" --from 'firmware^' --to firmware \
    --record-only --out "$PP_TMP/drec" >"$PP_TMP/drec.log" 2>&1 ||
    { cat "$PP_TMP/drec.log"; pp_fail "dpkg --record-only failed"; }
[ "$(jq -r .strategy "$PP_TMP/drec/recording.json")" = dpkg ] || pp_fail "the dpkg recording does not name its strategy"
"$PP_BIN" sim --recording "$PP_TMP/drec" --out "$PP_TMP/drun" >"$PP_TMP/drun.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] && [ "$(jq '.outcomes["needs-intervention"]' "$PP_TMP/drun/summary.json")" -gt 0 ] ||
    { cat "$PP_TMP/drun.log"; pp_fail "dpkg on its recording: exit $rc, want 1 with states that need intervention"; }
pp_log "dpkg: --record-only, then a run on the recording: $(jq -c .outcomes "$PP_TMP/drun/summary.json" | tr -d '{}"' | tr ',' ' ' | sed 's/[a-z-]*:0 *//g')"

# --repo and --dpkg-repo together: exit 2 naming both (twin: each alone
# ran above).
"$PP_BIN" strategies --out "$PP_TMP/both" --repo "$fwdir/repo" --dpkg-repo "$fwdir/repo" >"$PP_TMP/both.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--repo puts every strategy on one firmware" "$PP_TMP/both.log" ||
    pp_fail "--repo with --dpkg-repo: exit $rc: $(cat "$PP_TMP/both.log")"

# A dpkg case that needs intervention replays to the same verdict (exit 1)
# and minimizes to the earliest cut that keeps it (exit 0); twin: a cut
# before that one, judged by minimize, passes.
eval "$(python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
ni = next(c["id"] for c in p["cases"] if c["outcome"] == "needs-intervention")
print("ni_case=%s" % ni)' "$dout/dpkg/points.json")"
(cd "$dout/dpkg" && "$PP_BIN" replay "cases/$ni_case.json") >"$PP_TMP/dreplay" 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -q "replayed: needs-intervention (same)" "$PP_TMP/dreplay" ||
    pp_fail "replay of dpkg's $ni_case: exit $rc: $(cat "$PP_TMP/dreplay")"
(cd "$dout/dpkg" && "$PP_BIN" minimize -o "$PP_TMP/dmin" --max-tries 10 "cases/$ni_case.json") >"$PP_TMP/dmin.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q "^minimal: .*needs-intervention" "$PP_TMP/dmin.log" ||
    pp_fail "minimize dpkg's $ni_case: exit $rc: $(tail -3 "$PP_TMP/dmin.log")"
# Twin: minimize judged earlier cuts of the same trace, and one of
# them passes (boots the old version): the judge does not call every
# dpkg state a failure.
grep -q "pass -> loses the failure" "$PP_TMP/dmin.log" ||
    pp_fail "minimize dpkg's $ni_case met no passing cut: $(cat "$PP_TMP/dmin.log")"
pp_log "dpkg: $ni_case replays to needs-intervention and minimizes; an earlier cut passes"

# A bad strategy: exit 2, naming the allowed values; twin: a good one passes.
printf '[update]\nstrategy = rsync\n' >"$PP_TMP/bad.conf"
"$PP_BIN" scenario check "$PP_TMP/bad.conf" >"$PP_TMP/bad" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "bad strategy: exit $rc, want 2"
grep -q "ostree|ab|update-mode|dpkg" "$PP_TMP/bad" || pp_fail "bad strategy: $(cat "$PP_TMP/bad")"
printf '[update]\nstrategy = ab\nenv-copies = 2\n' >"$PP_TMP/good.conf"
"$PP_BIN" scenario check "$PP_TMP/good.conf" >/dev/null 2>&1 || pp_fail "a good strategy is rejected"
pp_log "a bad [update] strategy is a usage error; a good one is accepted"

# dpkg needs a Debian-built firmware: without --repo, a usage error (exit
# 2) naming it; its twin is the dpkg campaign above, run with one.
"$PP_BIN" sim --scenario "$(dirname "$0")/../../scenarios/dpkg.conf" \
    --out "$PP_TMP/dpkg-norepo" >"$PP_TMP/norepo" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q "strategy = dpkg: a Debian-built firmware (--repo" "$PP_TMP/norepo" ||
    pp_fail "dpkg without --repo: exit $rc, want 2: $(tail -2 "$PP_TMP/norepo")"
pp_log "dpkg without a Debian-built firmware is a usage error"

# Two strategies' crash points are not comparable point by point: compare
# refuses (exit 2) naming the strategies; twin: --force compares them.
"$PP_BIN" compare "$out/ab" "$out/update-mode" >"$PP_TMP/cmp" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "compare ab update-mode: exit $rc, want 2: $(cat "$PP_TMP/cmp")"
grep -q "strategy differs: A ab, B update-mode" "$PP_TMP/cmp" || pp_fail "compare: $(cat "$PP_TMP/cmp")"
"$PP_BIN" compare --force "$out/ab" "$out/update-mode" >"$PP_TMP/cmp" 2>&1
rc=$?
[ "$rc" -eq 1 ] || pp_fail "compare --force ab update-mode: exit $rc, want 1 (update-mode regresses)"
pp_log "compare refuses two strategies' campaigns; --force compares them (update-mode regresses)"

# ab with the real A/B updater from Debian: SWUpdate installing a bundle
# signed with the device's own key, under the shim, in a mount namespace
# of its own (its /etc/fw_env.config is compiled in).  Every cut at a
# barrier boots a complete version, never nothing nor another; the end of
# the run boots the new one.  Its twin is update-mode above (bricks).
if command -v swupdate >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
    printf '[scenario]\nname = ab-swupdate\n[firmware]\npayload-kb = 256\n[update]\nstrategy = ab\nab-updater = swupdate\n[crash]\npoints = barriers\n' >"$PP_TMP/swu.conf"
    "$PP_BIN" sim --scenario "$PP_TMP/swu.conf" --out "$PP_TMP/swu" >"$PP_TMP/swu.log" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || { tail -20 "$PP_TMP/swu.log"; pp_fail "ab with SWUpdate: sim exited $rc, want 0"; }
    grep -q "updated by SWUpdate" "$PP_TMP/swu.log" || pp_fail "ab with SWUpdate: not SWUpdate: $(head -3 "$PP_TMP/swu.log")"
    python3 - "$PP_TMP/swu/points.json" <<'PY' || pp_fail "ab with SWUpdate"
import json, sys
p = json.load(open(sys.argv[1]))
cases = p["cases"]
assert len(cases) >= 10, len(cases)
assert all(c["outcome"] == "pass" and c["boots"] in ("old", "new") for c in cases), \
    [c for c in cases if c["outcome"] != "pass"][:3]
last = max(cases, key=lambda c: c["k"])
assert last["k"] == p["trace_records"] and last["boots"] == "new", last
assert p["trace_records"] > 0 and p["commit_point"] > 0, p["commit_point"]
print("ab with SWUpdate: %d cases, %d boot old, %d new; %d calls, commit point #%d" % (
    len(cases), sum(c["boots"] == "old" for c in cases),
    sum(c["boots"] == "new" for c in cases), p["trace_records"], p["commit_point"]))
PY
    pp_log "ab with SWUpdate: no brick, no other version"
else
    pp_log "SKIP part: swupdate or openssl not installed (tools/deps.sh sim)"
fi

# minimize on a slot campaign's case: an update-mode brick shrinks to a
# minimal failing case (exit 0); twin: an ab case passes, nothing to
# minimise (exit 1).
(cd "$out/update-mode" && "$PP_BIN" minimize -o "$PP_TMP/min" --max-tries 10 "cases/$case.json") >"$PP_TMP/min.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/min.log"; pp_fail "minimize $case: exit $rc, want 0"; }
grep -q "^minimal: .*brick" "$PP_TMP/min.log" || pp_fail "minimize $case: $(tail -3 "$PP_TMP/min.log")"
ab_case=$(ls "$out/ab/cases" | head -1)
(cd "$out/ab" && "$PP_BIN" minimize -o "$PP_TMP/min-ab" --max-tries 10 "cases/$ab_case") >"$PP_TMP/min-ab.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/min-ab.log"; pp_fail "minimize ab $ab_case: exit $rc, want 1"; }
pp_log "minimize: an update-mode brick stays a brick (exit 0); a passing ab case has nothing to minimise (exit 1)"
