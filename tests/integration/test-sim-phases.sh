#!/bin/sh
# SPDX-License-Identifier: MIT
# Scenario library, device and cut placement: [crash] phase (a scenario
# that cuts in one phase of the update only) and [firmware] history (a
# device with a rollback deployment; garbage collection, then going back
# to an older version published again).
# Each of the four phase scenarios keeps crash points of its phase and no
# other (points.json says the phase of every case), and passes; the VM
# tier takes the phase as its default cut (checked without QEMU: run
# prints its cut before it needs the machine).  Twin: a phase that is not
# one is refused with file:line, exit 2.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
scen=$(cd "$(dirname "$0")/../../scenarios" && pwd)
# Copies of the scenarios below keep their [verify] known file beside them.
cp "$scen/known-findings.conf" "$PP_TMP/"

for pair in interrupted-pull:pull interrupted-deploy:deploy \
            bootloader-swap:bootloader cleanup-after-swap:cleanup; do
    name=${pair%%:*}
    phase=${pair#*:}
    out=$PP_TMP/$name
    "$PP_BIN" sim --known "$PP_KNOWN" --scenario "$scen/$name.conf" --points sample:6 --resume-updates sample:1 \
        --out "$out" >"$out.log" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || { tail -5 "$out.log"; pp_fail "$name: exit $rc, want 0"; }
    python3 - "$out" "$phase" <<'PY' || pp_fail "$name: points.json"
import json, sys, os
p = json.load(open(os.path.join(sys.argv[1], "points.json")))
phases = sorted({c["phase"] for c in p["cases"]})
assert len(p["cases"]) == 6, len(p["cases"])
assert phases == [sys.argv[2]], phases
PY
    pp_log "$name: 6 crash points, all in the $phase phase, pass"
done

# The same file in the VM tier: its phase is the cut.  QEMU is not needed
# to see that: --image names a directory without an image.
"$PP_BIN" run --scenario "$scen/bootloader-swap.conf" --no-build \
    --image "$PP_TMP/no-image" --iterations 1 --out "$PP_TMP/vm" \
    >"$PP_TMP/vm.log" 2>&1
grep -q "run: cut phase:bootloader, from .*bootloader-swap.conf.s \[crash\] phase" "$PP_TMP/vm.log" ||
    { cat "$PP_TMP/vm.log"; pp_fail "run did not take the scenario's phase as its cut"; }
pp_log "run --scenario bootloader-swap.conf cuts at phase:bootloader"

# Twin: a phase that is not one.
sed 's/^phase = .*/phase = swap/' "$scen/bootloader-swap.conf" >"$PP_TMP/bad.conf"
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$PP_TMP/bad.conf" --out "$PP_TMP/bad" >"$PP_TMP/bad.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "phase = swap: exit $rc, want 2"
grep -q "bad.conf:[0-9]*: \[crash\] phase = 'swap'" "$PP_TMP/bad.log" ||
    { cat "$PP_TMP/bad.log"; pp_fail "no file:line message for phase = swap"; }
pp_log "phase = swap: refused with file:line, exit 2"
# [firmware] history: the device boots v2 with v1 as its rollback; every
# judged state must keep a good rollback entry too.
out=$PP_TMP/rollback
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$scen/upgrade-with-rollback.conf" --points sample:6 \
    --resume-updates sample:1 --out "$out" >"$out.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { tail -5 "$out.log"; pp_fail "upgrade-with-rollback: exit $rc, want 0"; }
python3 - "$out" <<'PY' || pp_fail "upgrade-with-rollback: cases"
import json, sys, os, glob
cases = glob.glob(os.path.join(sys.argv[1], "cases", "*.json"))
assert cases, "no case files"
for f in cases:
    c = json.load(open(f))
    ev = c["evidence"]
    assert len(ev["entries"]) == 2, (f, len(ev["entries"]))
    assert "the rollback entry is good too" in ev["reason"], (f, ev["reason"])
PY
pp_log "upgrade-with-rollback: two entries in every state, the rollback good"
# Garbage collection and going back: v1 -> v2 -> v3 untraced, then v1's
# tree republished; every state boots a complete tree, resumes end on the
# republished commit.
out=$PP_TMP/gc
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$scen/gc-and-back.conf" --points sample:6 \
    --resume-updates sample:2 --out "$out" >"$out.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { tail -5 "$out.log"; pp_fail "gc-and-back: exit $rc, want 0"; }
grep -q "upgrade of v3 -> v1" "$out.log" || pp_fail "gc-and-back: not v3 -> v1"
python3 - "$out" <<'PY' || pp_fail "gc-and-back: cases"
import json, sys, os
p = json.load(open(os.path.join(sys.argv[1], "points.json")))
assert len(p["cases"]) == 6, p["cases"]
# Every state boots a complete tree, but for the known #3392 after the swap.
assert all(c["outcome"] == "pass" or c.get("known") for c in p["cases"]), p["cases"]
assert sum(1 for c in p["cases"] if c["resumed"]) >= 2
PY
pp_log "gc-and-back: v3 -> v1 republished, 6 states pass, resumes end on it"

# Twins: a history that does not end at from; one that goes backwards.
sed 's/^history = .*/history = 1;2/' "$scen/gc-and-back.conf" >"$PP_TMP/h-bad.conf"
"$PP_BIN" scenario check "$PP_TMP/h-bad.conf" >"$PP_TMP/h-bad.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q "h-bad.conf:[0-9]*: \[firmware\] history must end at from (3)" "$PP_TMP/h-bad.log" ||
    { cat "$PP_TMP/h-bad.log"; pp_fail "history not ending at from: exit $rc, want 2 with file:line"; }
sed 's/^history = .*/history = 2;1;3/' "$scen/gc-and-back.conf" >"$PP_TMP/h-back.conf"
"$PP_BIN" scenario check "$PP_TMP/h-back.conf" >"$PP_TMP/h-back.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q "h-back.conf:[0-9]*: \[firmware\] history = '2;1;3': the versions must be increasing" "$PP_TMP/h-back.log" ||
    { cat "$PP_TMP/h-back.log"; pp_fail "history going backwards: exit $rc, want 2 with file:line"; }
pp_log "history not ending at from, or going backwards: refused with file:line, exit 2"
pp_log PASS
