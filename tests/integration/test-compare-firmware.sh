#!/bin/sh
# SPDX-License-Identifier: MIT
# test-compare-firmware: plugpull compare of two campaigns of the same
# firmware (the small Debian firmware, v1 -> v2), with the same model,
# seed and points (sample:6, seed 1, no resumes):
#   1. A: the device as built; B: the same with core.fsync=false on the
#      device: compare A B names the crash points that newly fail in B
#      (with B's case to replay), says which firmware each campaign
#      updated (summary.json scenario.firmware), and exits 1 (B
#      regresses);
# twin:
#   2. A and A2, the same campaign run twice (two recordings, whose
#      lengths may differ by a call): compare says no point changed and
#      exits 0.
# About 4 minutes on a loaded 2-core machine once the firmware is cached.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd ostree jq

fwdir=$PP_BUILD/firmware/debian-small
pp_small_firmware "$fwdir"
repo=$fwdir/repo
t0=$(date +%s)

campaign() {
    name=$1
    shift
    "$PP_BIN" sim --repo "$repo" --from firmware^ --to firmware --model ordered \
        --points sample:6 --seed 1 --resume-updates none "$@" \
        --out "$PP_TMP/$name" >"$PP_TMP/$name.log" 2>&1
}
campaign a
[ $? -eq 0 ] || { tail "$PP_TMP/a.log"; pp_fail "campaign A failed"; }
campaign a2
[ $? -eq 0 ] || { tail "$PP_TMP/a2.log"; pp_fail "campaign A2 failed"; }
cat >"$PP_TMP/nofsync.conf" <<CONF
[scenario]
name = firmware-fsync-disabled
expect = failures
[device]
repo-config = core.fsync=false
CONF
campaign b --scenario "$PP_TMP/nofsync.conf"
[ $? -eq 1 ] || { tail "$PP_TMP/b.log"; pp_fail "campaign B (core.fsync=false) did not fail"; }
pp_log "three campaigns of the firmware ($(($(date +%s) - t0)) s): A $(jq -c '{passed,failed}' "$PP_TMP/a/summary.json"), A2 $(jq -c '{passed,failed}' "$PP_TMP/a2/summary.json"), B $(jq -c '{passed,failed}' "$PP_TMP/b/summary.json")"

# --- 1. A against B: B regresses -------------------------------------------
"$PP_BIN" compare "$PP_TMP/a" "$PP_TMP/b" --out "$PP_TMP/cmp-ab" >"$PP_TMP/ab.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/ab.log"; pp_fail "compare A B: exit $rc, want 1 (B regresses)"; }
grep -q "^verdict: REGRESSION: [1-9][0-9]* crash point(s) fail in B that passed in A" "$PP_TMP/ab.log" ||
    { cat "$PP_TMP/ab.log"; pp_fail "compare A B: no REGRESSION verdict"; }
grep -q "^newly failing in B" "$PP_TMP/ab.log" &&
    grep -q "pass -> B k=[0-9]* repo-corrupt" "$PP_TMP/ab.log" &&
    grep -q "replay: cd $PP_TMP/b && plugpull replay cases/ordered-k[0-9]*-s1.json" "$PP_TMP/ab.log" ||
    { cat "$PP_TMP/ab.log"; pp_fail "compare A B does not name the newly failing points"; }
grep -q "^   your firmware $repo: firmware^ -> firmware ($(cut -c1-12 "$fwdir/v2.commit"))" "$PP_TMP/ab.log" ||
    { cat "$PP_TMP/ab.log"; pp_fail "compare A B does not say which firmware"; }
J=$PP_TMP/cmp-ab/compare.json
[ -s "$J" ] || pp_fail "compare A B: no compare.json"
nf=$(grep -c "pass -> B k=" "$PP_TMP/ab.log")
pp_log "compare A B: exit 1, $nf newly failing point(s) named with B's case to replay"

# --- 2. twin: A against A2: unchanged ----------------------------------------
"$PP_BIN" compare "$PP_TMP/a" "$PP_TMP/a2" >"$PP_TMP/aa.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/aa.log"; pp_fail "compare A A2: exit $rc, want 0"; }
grep -q "^  newly failing       0" "$PP_TMP/aa.log" &&
    grep -q "^  newly passing       0" "$PP_TMP/aa.log" &&
    grep -q "^failures: A 0, B 0" "$PP_TMP/aa.log" ||
    { cat "$PP_TMP/aa.log"; pp_fail "compare A A2 is not unchanged"; }
pp_log "compare A A2 (the same campaign twice): nothing changed, exit 0; done in $(($(date +%s) - t0)) s"
