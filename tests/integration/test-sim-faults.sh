#!/bin/sh
# SPDX-License-Identifier: MIT
# [fault] scenarios in the simulation tier: the update meets an error
# (EIO on fsync, ENOSPC mid-pull, a dropped or stalled connection) rather
# than a power cut.  Each shipped fault scenario gives the outcome its
# header documents; the failing twins prove the diagnostics: a malformed
# rule is refused with file:line (exit 2), a fault that never fires is
# "fault did not fire" (exit 2, never a silent pass), and a fault the
# client swallows is flagged (exit 1).
#
# Quick: the crash points of each faulted trace are sampled (8), not all.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
scen=$(cd "$(dirname "$0")/../../scenarios" && pwd)

# check_fault OUT KEY=VALUE...: assert on summary.json's fault object
# (dotted keys reach into "end"; "~" means the string contains the value).
check_fault() {
    python3 - "$@" <<'PY'
import json, sys, os
out = sys.argv[1]
s = json.load(open(os.path.join(out, "summary.json")))
f = s.get("fault")
assert f is not None, "summary.json has no fault object"
for a in sys.argv[2:]:
    i_eq, i_t = a.find("="), a.find("~")
    contains = i_t != -1 and (i_eq == -1 or i_t < i_eq)
    key, want = a.split("~" if contains else "=", 1)
    v = f
    for k in key.split("."):
        v = v[k]
    if contains:
        assert want in str(v), "%s: %r does not contain %r" % (key, v, want)
    else:
        got = json.dumps(v) if not isinstance(v, str) else v
        assert got == want, "%s: %r, want %r" % (key, got, want)
assert s["failed"] == 0, ("crash states failed", s["outcomes"])
print("%s: %s" % (s["scenario"]["name"], f["verdict"]))
PY
}

# --- every shipped fault scenario gives its documented outcome -------------
run_scenario() {
    name=$1
    shift
    out=$PP_TMP/$name
    "$PP_BIN" sim --known "$PP_KNOWN" --scenario "$scen/$name.conf" --points sample:8 --resume-updates none \
        --out "$out" >"$PP_TMP/$name.log" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || { cat "$PP_TMP/$name.log"; pp_fail "$name: exit $rc, want 0"; }
    check_fault "$out" fired=true failed=false end.outcome=pass \
        end.retried=true end.retry_error=null "$@" >"$PP_TMP/$name.v" ||
        { cat "$PP_TMP/$name.log"; pp_fail "$name: summary.json"; }
    grep -A1 'classname="plugpull.sim.'"$name"'.fault" name="the faulted update" time="0">' \
        "$out/junit.xml" | grep -q '^    <system-out>[a-z ]*</system-out>' ||
        pp_fail "$name: no passing fault testcase in junit.xml"
    pp_log "$(cat "$PP_TMP/$name.v")"
}
run_scenario eio-fsync client_exit_status=1 note="error reported" \
    swallowed=false "client_stderr_tail~Input/output error" \
    "first_injected~fsync" end.retry_objects_redownloaded=0
run_scenario disk-full client_exit_status=1 note="error reported" \
    "client_stderr_tail~No space left on device" \
    end.retry_objects_redownloaded=0
run_scenario network-drop client_exit_status=1 note="error reported" \
    "client_stderr_tail~Transferred a partial file" injected_calls=0
run_scenario network-stall client_exit_status=0 note=recovered \
    swallowed=false
# The device as the failed update left it replays to the same verdict.
case_file=$(ls "$PP_TMP/eio-fsync/cases"/fault-process-kill-*.json) ||
    pp_fail "eio-fsync: no fault case file"
"$PP_BIN" replay "$case_file" >"$PP_TMP/replay" 2>&1 ||
    { cat "$PP_TMP/replay"; pp_fail "replay of the fault case failed"; }
grep -q "(same)" "$PP_TMP/replay" || pp_fail "the fault case replays differently"
pp_log "the state the failed update left replays to the same verdict"

# --- a malformed inject rule: refused by the shim, file:line, exit 2 ------
cat >"$PP_TMP/bad-rule.conf" <<'CONF'
[scenario]
name = bad-rule

[fault]
inject = calls=fsinc;nth=1
CONF
"$PP_BIN" scenario check "$PP_TMP/bad-rule.conf" >"$PP_TMP/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "scenario check of a bad rule: exit $rc, want 2"
grep -q "^$PP_TMP/bad-rule.conf:5: \[fault\] inject = 'calls=fsinc;nth=1': the shim refuses it: .*unknown call name 'fsinc'" \
    "$PP_TMP/out" || pp_fail "bad rule: message: $(cat "$PP_TMP/out")"
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$PP_TMP/bad-rule.conf" --out "$PP_TMP/never" >"$PP_TMP/out2" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "sim with a bad rule: exit $rc, want 2"
grep -q "bad-rule.conf:5:" "$PP_TMP/out2" || pp_fail "sim, bad rule: $(cat "$PP_TMP/out2")"
[ ! -e "$PP_TMP/never/summary.json" ] || pp_fail "a bad rule produced results"
pp_log "malformed rule: $(cat "$PP_TMP/out")"

# Refused by the parser itself (not a fault rule, not a probability), all
# at once; twin: the shipped fault scenarios are accepted.
cat >"$PP_TMP/bad-keys.conf" <<'CONF'
[fault]
inject = calls=fsync;action=crash
network = drop:2
stall-ms = 0
CONF
"$PP_BIN" scenario check "$PP_TMP/bad-keys.conf" >"$PP_TMP/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "bad [fault] keys: exit $rc, want 2"
for l in 2 3 4; do
    grep -q "bad-keys.conf:$l: \[fault\]" "$PP_TMP/out" ||
        pp_fail "bad [fault] keys: no error for line $l: $(cat "$PP_TMP/out")"
done
printf '[fault]\nnetwork = drop:0.6,stall:0.6\n' >"$PP_TMP/sum.conf"
"$PP_BIN" scenario check "$PP_TMP/sum.conf" >"$PP_TMP/out" 2>&1
[ $? -eq 2 ] && grep -q "sum.conf:2: .*add up to more than 1" "$PP_TMP/out" ||
    pp_fail "network probabilities over 1: $(cat "$PP_TMP/out")"
printf '[fault]\ninject = ops=write ; nth=2 ; errno=ENOSPC;\nnetwork = 5xx:0.25, drop:0.5\nstall-ms = 10\n' \
    >"$PP_TMP/good.conf"
"$PP_BIN" scenario check "$PP_TMP/good.conf" >/dev/null ||
    pp_fail "a good [fault] section is refused"
"$PP_BIN" scenario check "$scen/eio-fsync.conf" "$scen/disk-full.conf" \
    "$scen/network-drop.conf" "$scen/network-stall.conf" >/dev/null ||
    pp_fail "a shipped fault scenario is refused"
pp_log "bad [fault] keys: every line reported; shipped fault scenarios accepted"

# --- a fault that never fires: exit 2, said so, no crash state judged -----
cat >"$PP_TMP/never.conf" <<'CONF'
[scenario]
name = never-fires

[fault]
inject = calls=fsync,fdatasync;nth=100000;errno=EIO
CONF
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$PP_TMP/never.conf" --out "$PP_TMP/never-out" >"$PP_TMP/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || { cat "$PP_TMP/out"; pp_fail "a fault that never fires: exit $rc, want 2"; }
grep -q "plugpull: sim: fault did not fire" "$PP_TMP/out" ||
    pp_fail "never fires: message: $(cat "$PP_TMP/out")"
python3 - "$PP_TMP/never-out/summary.json" <<'PY' || pp_fail "never fires: summary"
import json, sys
s = json.load(open(sys.argv[1]))
f = s["fault"]
assert f["fired"] is False and f["note"] == "fault did not fire", f
assert f["client_exit_status"] == 0 and s["cases"] == 0, (f, s["cases"])
PY
pp_log "a fault that never fires: exit 2, 'fault did not fire'"

# --- a fault the client swallows: flagged, exit 1 -------------------------
# ostree (through libglnx) ignores the result of close(); an EIO reported
# by close after the call did its work goes unseen and the update says 0.
cat >"$PP_TMP/swallow.conf" <<'CONF'
[scenario]
name = close-eio

[fault]
inject = calls=close;nth=100;errno=EIO;timing=after

[crash]
points = none
CONF
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$PP_TMP/swallow.conf" --out "$PP_TMP/swallow" >"$PP_TMP/out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/out"; pp_fail "a swallowed fault: exit $rc, want 1"; }
grep -q "FAULT SWALLOWED" "$PP_TMP/out" || pp_fail "swallowed: $(cat "$PP_TMP/out")"
check_fault "$PP_TMP/swallow" fired=true swallowed=true note="fault swallowed" \
    client_exit_status=0 failed=true >/dev/null || pp_fail "swallowed: summary"
grep -q '<failure type="fault swallowed"' "$PP_TMP/swallow/junit.xml" ||
    pp_fail "swallowed: not a failure in junit.xml"
pp_log "a swallowed fault (EIO from close) is flagged, exit 1"

# --- points = none without a fault: accepted, no case --------------------
"$PP_BIN" sim --known "$PP_KNOWN" --points none --out "$PP_TMP/none" >"$PP_TMP/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/out"; pp_fail "--points none: exit $rc, want 0"; }
grep -q "^0 passed, 0 failed (0 cases" "$PP_TMP/out" || pp_fail "--points none: $(tail -2 "$PP_TMP/out")"
pp_log "--points none: no crash state judged"

# --- one run judges a fault: no recording to share, no shards -------------
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$scen/eio-fsync.conf" --record-only --out "$PP_TMP/rec" \
    >"$PP_TMP/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "--record-only with [fault]: exit $rc, want 2"
grep -q "not with --record-only, --recording or --shard" "$PP_TMP/out" ||
    pp_fail "--record-only with [fault]: $(cat "$PP_TMP/out")"
pp_log "a [fault] scenario is not recorded for shards: $(cat "$PP_TMP/out")"

# --- the VM tier refuses a [fault] scenario ------------------------------
"$PP_BIN" run --scenario "$scen/eio-fsync.conf" --out "$PP_TMP/vm" >"$PP_TMP/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "run with [fault]: exit $rc, want 2"
grep -q "simulation tier only" "$PP_TMP/out" || pp_fail "run with [fault]: $(cat "$PP_TMP/out")"
pp_log "plugpull run refuses [fault] scenarios"
