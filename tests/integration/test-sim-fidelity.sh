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
# The traced resumes of a repeated-cuts case are checked the same way
# (their crash states come from their traces; a race in the shim once
# gave a resume's trace a dropped write and a corrupt object in a state):
# PLUGPULL_TEST_SPOIL_RESUMES=N spoils the first N; one is said and run
# again, three of the same resume are a harness fault (exit 3).
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
# --- traced resumes (repeated cuts) ---------------------------------------
scen_dir=$(cd "$(dirname "$0")/../../scenarios" && pwd)
sed -e '/^known = /d' -e 's/^repeat = 3$/repeat = 2/' "$scen_dir/repeated-cuts.conf" >"$PP_TMP/rep2.conf"
printf '\n[device]\nbootloader-replays-journal = true\n' >>"$PP_TMP/rep2.conf"
grep -q '^repeat = 2$' "$PP_TMP/rep2.conf" || pp_fail "could not derive a repeat = 2 scenario"
# Twin 0: the repeated cuts say nothing about fidelity.
"$PP_BIN" sim --scenario "$PP_TMP/rep2.conf" --points sample:1 --out "$PP_TMP/rok" >"$PP_TMP/rok.log" 2>&1 ||
    { tail -5 "$PP_TMP/rok.log"; pp_fail "repeated cuts failed"; }
grep -q "does not replay" "$PP_TMP/rok.log" && pp_fail "a traced resume was found unfaithful"
PLUGPULL_TEST_SPOIL_RESUMES=1 "$PP_BIN" sim --scenario "$PP_TMP/rep2.conf" --points sample:1 \
    --out "$PP_TMP/ronce" >"$PP_TMP/ronce.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { tail -5 "$PP_TMP/ronce.log"; pp_fail "one spoiled resume: exit $rc, want 0"; }
grep -q "resume .*-r2, run 1 of 3: its trace does not replay to the tree it left.*plugpull-test-spoiled: left by the run, absent from the trace's state" \
    "$PP_TMP/ronce.log" || { cat "$PP_TMP/ronce.log"; pp_fail "no fidelity message for the spoiled resume"; }
grep -q "run 2 of 3" "$PP_TMP/ronce.log" && pp_fail "the resume run again was found unfaithful"
pp_log "a spoiled traced resume is said and run again; the case passes"
# -j 1: the three spoils fall on the one case's first traced resume.
PLUGPULL_TEST_SPOIL_RESUMES=3 "$PP_BIN" sim -j 1 --scenario "$PP_TMP/rep2.conf" --points sample:1 \
    --out "$PP_TMP/rnever" >"$PP_TMP/rnever.log" 2>&1
rc=$?
[ "$rc" -eq 3 ] || { tail -5 "$PP_TMP/rnever.log"; pp_fail "three spoiled resumes: exit $rc, want 3"; }
grep -q "3 traced runs, none replays to the tree it left" "$PP_TMP/rnever.log" ||
    { cat "$PP_TMP/rnever.log"; pp_fail "no give-up message for the resume"; }
pp_log "three spoiled runs of a traced resume: exit 3"
pp_log PASS
