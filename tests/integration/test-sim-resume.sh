#!/bin/sh
# SPDX-License-Identifier: MIT
# plugpull sim --resume: a campaign stopped by SIGINT or by a crash of the
# harness (SIGKILL) continues where it stopped, losing no finished case,
# and ends with the verdicts an uninterrupted run gives.
#
# One recording serves every comparison (the client is threaded, so two
# recordings differ): campaign A records its own update and is stopped
# with SIGINT, then resumed (its work/ holds the recording's manifest);
# B judges A's recording uninterrupted, the reference; C judges it too,
# is SIGKILLed, resumed, stopped by SIGTERM, resumed, and then has a torn
# done record and a torn case file judged again; D is SIGKILLed with its
# states on disk (the leftover farms) and resumed.  Failing twins: --resume of a campaign still
# running, with another --seed, with a torn campaign.json and on a
# directory that holds no campaign all exit 2, naming the lock, the
# disagreement or the file.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd jq

scen=$(cd "$(dirname "$0")/../../scenarios" && pwd)/fsync-disabled.conf
# fsync-disabled fails some states: exit 1 is the finished campaign's.
camp="--scenario $scen --points sample:40 --resume-updates sample:4"

n_done() {
    ls "$1/work/done" 2>/dev/null | grep -c '\.json$'
}

# wait_done DIR PID N: until DIR has N finished cases (or PID ended).
wait_done() {
    i=0
    while [ "$(n_done "$1")" -lt "$3" ]; do
        kill -0 "$2" 2>/dev/null || pp_fail "the campaign in $1 ended before $3 cases"
        i=$((i + 1))
        [ "$i" -lt 1200 ] || pp_fail "no $3 finished cases in $1 after 60 s"
        sleep 0.05
    done
}

# same REF DIR: what an uninterrupted run writes, but for what measures
# the run (timings, jobs, which case of identical states was judged and
# shared its verdict) and says where it came from (recording,
# continued): summary.json, points.json, every case file, junit.xml.
same() {
    python3 - "$1" "$2" <<'PY' || pp_fail "$2 differs from the uninterrupted $1"
import json, os, re, sys
# The bytes a resumed update downloaded vary with timing (its small
# requests; 348 and 406 bytes for one state in two runs): measures too.
RUN = {"seconds", "time", "elapsed_us", "started", "duration_s",
       "cases_wall_s", "states_per_minute", "time_split", "jobs",
       "recording", "continued", "bytes_downloaded", "resume_bytes",
       "bytes_per_resume", "shares_verdict_with"}
def strip(o):
    if isinstance(o, str):
        # A resume's error names its scratch copy of the state.
        return re.sub(r"/dev/shm/plugpull-[A-Za-z0-9]+/", "SCRATCH/", o)
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in RUN}
    if isinstance(o, list):
        return [strip(x) for x in o]
    return o
def view(d):
    v = {f: strip(json.load(open(os.path.join(d, f))))
         for f in ("summary.json", "points.json")}
    v["case files"] = sorted(os.listdir(os.path.join(d, "cases")))
    for n in v["case files"]:
        v[n] = strip(json.load(open(os.path.join(d, "cases", n))))
    # A crash state's name holds the directory of the campaign that
    # recorded it (this one, or the one whose recording it reused).
    top = re.escape(os.path.dirname(os.path.abspath(d)))
    v["junit.xml"] = re.sub(top + r'/[^/\s"<>]+/work/', "DIR/work/",
                            re.sub(r' (time|timestamp)="[^"]*"', "",
                                   open(os.path.join(d, "junit.xml")).read()))
    return v
a, b = view(sys.argv[1]), view(sys.argv[2])
for k in sorted(set(a) | set(b)):
    if a.get(k) != b.get(k):
        print("%s: %s\n  vs %s" % (k, a.get(k), b.get(k)), file=sys.stderr)
        sys.exit(1)
print("  %d cases, %d case files: the same" % (len(a["points.json"]["cases"]),
                                              len(a["case files"])))
PY
}

# --- A: records, SIGINT mid-way, --resume ---------------------------------
A=$PP_TMP/a
t0=$(date +%s)
# PLUGPULL_TEST_HOLD_AFTER=N: the campaign starts no case after its Nth
# until the signal comes, so the signal lands mid-campaign however fast
# the cases are (an event, not a race with the campaign's end).
PLUGPULL_TEST_HOLD_AFTER=5 "$PP_BIN" sim --known "$PP_KNOWN" $camp --jobs 1 --out "$A" >"$PP_TMP/a.log" 2>&1 &
pid=$!
wait_done "$A" "$pid" 5
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || { cat "$PP_TMP/a.log"; pp_fail "SIGINT: sim exited $rc, want 130"; }
grep -qF "continue it with: plugpull sim --out '$A' --resume" "$PP_TMP/a.log" ||
    { cat "$PP_TMP/a.log"; pp_fail "SIGINT: no continue command"; }
[ "$(jq .interrupted "$A/summary.json")" = true ] || pp_fail "partial summary not marked interrupted"
part=$(jq .cases "$A/summary.json")
[ "$part" -ge 5 ] && [ "$part" -lt 40 ] || pp_fail "partial summary has $part cases"
pp_log "SIGINT after $part cases: exit 130, partial summary, continue command ($(($(date +%s) - t0)) s)"

"$PP_BIN" sim --known "$PP_KNOWN" --out "$A" --resume >"$PP_TMP/a2.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/a2.log"; pp_fail "--resume exited $rc, want 1"; }
grep -q "reusing the recording" "$PP_TMP/a2.log" || pp_fail "--resume recorded again"
kept=$(sed -n 's/^resume: \([0-9]*\) finished case(s) kept.*/\1/p' "$PP_TMP/a2.log")
[ "${kept:-0}" -ge "$part" ] || { cat "$PP_TMP/a2.log"; pp_fail "--resume kept ${kept:-no} cases, $part were finished"; }
[ "$(jq .cases "$A/summary.json")" -eq 40 ] || pp_fail "resumed campaign has not 40 cases"
[ "$(jq .continued.cases_kept "$A/summary.json")" -eq "$kept" ] || pp_fail "summary.continued"
pp_log "--resume kept $kept cases and judged the rest ($(($(date +%s) - t0)) s)"

# --- B: the same recording, uninterrupted ---------------------------------
B=$PP_TMP/b
"$PP_BIN" sim --known "$PP_KNOWN" --recording "$A/work" --out "$B" >"$PP_TMP/b.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/b.log"; pp_fail "reference run exited $rc, want 1"; }
same "$B" "$A"
pp_log "SIGINT + --resume = an uninterrupted run: summary, points, case files, junit ($(($(date +%s) - t0)) s)"

# --- C: SIGKILL (a crash of the harness) mid-campaign, --resume -----------
C=$PP_TMP/c
PLUGPULL_TEST_HOLD_AFTER=8 "$PP_BIN" sim --known "$PP_KNOWN" --recording "$A/work" --jobs 1 --out "$C" >"$PP_TMP/c.log" 2>&1 &
pid=$!
wait_done "$C" "$pid" 4
# Twin: a second plugpull on a running campaign is refused.
"$PP_BIN" sim --known "$PP_KNOWN" --out "$C" --resume >"$PP_TMP/t0.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "--resume of a running campaign exited $rc, want 2"
grep -qF "$C/campaign.json is locked: another plugpull is running" "$PP_TMP/t0.log" ||
    { cat "$PP_TMP/t0.log"; pp_fail "no lock message"; }
wait_done "$C" "$pid" 8
scratch=$(cat "$C/work/scratch-dir" 2>/dev/null)
# (the shell's own "Killed" notice is not news here)
{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
[ ! -f "$C/summary.json" ] || pp_fail "a killed harness wrote a summary?"
# The resume is stopped once more, by SIGTERM this time.
n=$(n_done "$C")
PLUGPULL_TEST_HOLD_AFTER=4 "$PP_BIN" sim --known "$PP_KNOWN" --out "$C" --resume >"$PP_TMP/c2.log" 2>&1 &
pid=$!
wait_done "$C" "$pid" $((n + 4))
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 143 ] || { cat "$PP_TMP/c2.log"; pp_fail "SIGTERM: sim exited $rc, want 143"; }
grep -qF "continue it with: plugpull sim --out '$C' --resume" "$PP_TMP/c2.log" ||
    { cat "$PP_TMP/c2.log"; pp_fail "SIGTERM: no continue command"; }
[ -z "$scratch" ] || [ ! -e "$scratch" ] ||
    pp_fail "the killed run's states on tmpfs ($scratch) were not removed"
"$PP_BIN" sim --known "$PP_KNOWN" --out "$C" --resume >"$PP_TMP/c3.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/c3.log"; pp_fail "--resume after SIGKILL, SIGTERM exited $rc, want 1"; }
same "$B" "$C"
pp_log "SIGKILL + --resume, SIGTERM (exit 143) + --resume = an uninterrupted run ($(($(date +%s) - t0)) s)"

# --- D: the same SIGKILL with the states on disk ---------------------------
# (--no-tmpfs; a tree over 64 MiB is built there anyway): the killed run
# leaves its farms in work/states, and the resume must not trip on them.
D=$PP_TMP/d
PLUGPULL_TEST_HOLD_AFTER=6 "$PP_BIN" sim --known "$PP_KNOWN" --recording "$A/work" --jobs 2 --no-tmpfs --out "$D" >"$PP_TMP/d.log" 2>&1 &
pid=$!
wait_done "$D" "$pid" 6
{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
[ -n "$(ls -A "$D/work/states" 2>/dev/null)" ] ||
    pp_fail "the killed run left no states in $D/work/states (this check tests nothing)"
"$PP_BIN" sim --known "$PP_KNOWN" --out "$D" --resume --no-tmpfs >"$PP_TMP/d2.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/d2.log"; pp_fail "--resume after SIGKILL with the states on disk exited $rc, want 1"; }
same "$B" "$D"
[ ! -e "$D/work/states" ] || pp_fail "the finished campaign left $D/work/states"
pp_log "SIGKILL with the states on disk + --resume = an uninterrupted run"

# A torn done record, and a finished case whose case file is torn, are
# judged again, with a note; the result is the same.
torn=$(ls "$C/work/done" | head -1)
head -c 40 "$C/work/done/$torn" >"$C/work/done/$torn.x" && mv "$C/work/done/$torn.x" "$C/work/done/$torn"
tornf=$(ls "$C/cases" | grep -v "^$torn\$" | tail -1)
head -c 60 "$C/cases/$tornf" >"$C/cases/$tornf.x" && mv "$C/cases/$tornf.x" "$C/cases/$tornf"
"$PP_BIN" sim --known "$PP_KNOWN" --out "$C" --resume >"$PP_TMP/c4.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/c4.log"; pp_fail "--resume with torn files exited $rc"; }
grep -q "note: .*$torn.*judging ${torn%.json} again" "$PP_TMP/c4.log" ||
    { cat "$PP_TMP/c4.log"; pp_fail "no note about the torn record $torn"; }
grep -q "note: .*cases/$tornf.*judging ${tornf%.json} again" "$PP_TMP/c4.log" ||
    { cat "$PP_TMP/c4.log"; pp_fail "no note about the torn case file $tornf"; }
grep -q "^resume: 38 finished case(s) kept, 2 to judge" "$PP_TMP/c4.log" ||
    { cat "$PP_TMP/c4.log"; pp_fail "the torn cases were not the only ones judged"; }
same "$B" "$C"
pp_log "a torn done record, a torn case file: those cases are judged again, with a note"

# --- failing twins ----------------------------------------------------------
# The comparison itself sees one changed verdict.
D=$PP_TMP/d
mkdir "$D" && cp -r "$C/cases" "$C/summary.json" "$C/junit.xml" "$D/"
jq '.cases[3].outcome = "brick"' "$C/points.json" >"$D/points.json"
if (same "$B" "$D") >/dev/null 2>&1; then
    pp_fail "the comparison did not see a changed verdict"
fi

"$PP_BIN" sim --known "$PP_KNOWN" --out "$C" --resume --seed 7 >"$PP_TMP/t1.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "--resume --seed 7 exited $rc, want 2"
grep -q "seed: 7 given, the campaign has 0" "$PP_TMP/t1.log" ||
    { cat "$PP_TMP/t1.log"; pp_fail "no seed disagreement named"; }

head -c 100 "$C/campaign.json" >"$PP_TMP/cj" && cp "$PP_TMP/cj" "$C/campaign.json"
"$PP_BIN" sim --known "$PP_KNOWN" --out "$C" --resume >"$PP_TMP/t2.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "--resume on a torn campaign.json exited $rc, want 2"
grep -qF "$C/campaign.json is unreadable" "$PP_TMP/t2.log" ||
    { cat "$PP_TMP/t2.log"; pp_fail "the torn campaign.json is not named"; }

mkdir "$PP_TMP/empty"
"$PP_BIN" sim --known "$PP_KNOWN" --out "$PP_TMP/empty" --resume >"$PP_TMP/t3.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "--resume on an empty directory exited $rc, want 2"
grep -qF "$PP_TMP/empty/campaign.json is missing" "$PP_TMP/t3.log" ||
    { cat "$PP_TMP/t3.log"; pp_fail "the missing campaign.json is not named"; }
pp_log "failing twins: a changed verdict is seen; a running campaign, another --seed, a torn campaign.json, no campaign: exit 2 ($(($(date +%s) - t0)) s)"

# plugpull run --resume refuses the same way before any VM starts (the VM
# tier's resume itself is tested at unit level: tests/unit/test-vmcampaign.c).
"$PP_BIN" run --out "$PP_TMP/empty" --resume >"$PP_TMP/t4.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "run --resume on an empty directory exited $rc, want 2"
grep -qF "$PP_TMP/empty/campaign.json is missing" "$PP_TMP/t4.log" ||
    { cat "$PP_TMP/t4.log"; pp_fail "run: the missing campaign.json is not named"; }
"$PP_BIN" run --out "$A" --resume >"$PP_TMP/t5.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "run --resume on a sim campaign exited $rc, want 2"
grep -qF "$A/campaign.json: not a plugpull run campaign" "$PP_TMP/t5.log" ||
    { cat "$PP_TMP/t5.log"; pp_fail "run: a sim campaign is not refused by name"; }
pp_log "run --resume: no campaign, a sim campaign: exit 2 naming the file"
