#!/bin/sh
# SPDX-License-Identifier: MIT
# Before any case is judged, sim checks that the fresh trace replays
# (process-kill at its end: every call applied) to the directory its run
# left (harness/sim/sim-fidelity.c).  A recording that does not is a harness
# fault: it is said, with the path, and the update is recorded again, up
# to 3 times; then sim gives up with exit 3.  The real thing is rare (it
# caught threads racing on a descriptor number), so the test spoils
# recordings on purpose: PLUGPULL_TEST_SPOIL_RECORDINGS=N adds a file the
# trace never made to the first N.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build

# Twin 0: an ordinary run says nothing about fidelity.
"$PP_BIN" sim --known "$PP_KNOWN" --points sample:2 --resume-updates none --out "$PP_TMP/ok" >"$PP_TMP/ok.log" 2>&1 ||
    { tail -5 "$PP_TMP/ok.log"; pp_fail "plain sim failed"; }
grep -q "does not replay" "$PP_TMP/ok.log" && pp_fail "a plain run was found unfaithful"

# One spoiled recording: refused with the path, recorded again, judged.
PLUGPULL_TEST_SPOIL_RECORDINGS=1 "$PP_BIN" sim --known "$PP_KNOWN" --points sample:2 --resume-updates none \
    --out "$PP_TMP/once" >"$PP_TMP/once.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { tail -5 "$PP_TMP/once.log"; pp_fail "one spoiled recording: exit $rc, want 0"; }
grep -q "recording 1 of 3: the trace does not replay to the state its run left.*plugpull-test-spoiled: left by the run, absent from the trace's state" \
    "$PP_TMP/once.log" || { cat "$PP_TMP/once.log"; pp_fail "no fidelity message naming the file"; }
grep -q "recording the update again" "$PP_TMP/once.log" || pp_fail "not recorded again"
[ -e "$PP_TMP/once/work/fixture/sysroot/plugpull-test-spoiled" ] &&
    pp_fail "the spoiled recording was kept"
pp_log "a spoiled recording is refused with its path and made again; the run passes"

# Every recording spoiled: exit 3, the last one kept for a look.
PLUGPULL_TEST_SPOIL_RECORDINGS=3 "$PP_BIN" sim --known "$PP_KNOWN" --points sample:2 --resume-updates none \
    --out "$PP_TMP/never" >"$PP_TMP/never.log" 2>&1
rc=$?
[ "$rc" -eq 3 ] || { tail -5 "$PP_TMP/never.log"; pp_fail "three spoiled recordings: exit $rc, want 3"; }
grep -q "recording 3 of 3" "$PP_TMP/never.log" && grep -q "giving up" "$PP_TMP/never.log" ||
    { cat "$PP_TMP/never.log"; pp_fail "no give-up message"; }
[ -e "$PP_TMP/never/summary.json" ] && pp_fail "a summary was written from an untrusted trace"
pp_log "three spoiled recordings: exit 3, no summary"
pp_log PASS
