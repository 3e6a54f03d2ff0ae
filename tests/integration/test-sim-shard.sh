#!/bin/sh
# SPDX-License-Identifier: MIT
# CI scale-out: record once, judge in shards, merge.
#
# One recording of scenarios/fsync-disabled.conf (failures and passes, so
# the identity covers failing verdicts, junit failures and failing case
# files), sample:30 with 3 resumes to stay quick.  An unsharded run on the
# recording and 3 shards of it merged must give the same verdicts, case
# ids, counts, resume totals, case files and junit testcases; only what
# measures the run (durations, timestamps, jobs) may differ.  The merged
# directory is accepted by report and compare (nothing differs).  A shard
# judged from a tar copy of the recording at another path (a CI artifact
# on another runner) merges too.
# Twins: merging with a shard missing, with a shard of another seed, with a
# shard of another recording, or with a directory that is no shard: exit 2
# naming the problem; sim --shard without --recording, a run that
# disagrees with the recording (seed) or with its client's version, a
# recording copied without its hardlinks (cp -r): exit 2.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd python3 jq

scen=$(cd "$(dirname "$0")/../../scenarios" && pwd)/fsync-disabled.conf
camp="--scenario $scen --points sample:30 --resume-updates sample:3"
t0=$(date +%s.%N)

# --- record once ------------------------------------------------------------
# shellcheck disable=SC2086
"$PP_BIN" sim --known "$PP_KNOWN" --record-only $camp --out "$PP_TMP/rec" >"$PP_TMP/rec.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/rec.log"; pp_fail "record-only exited $rc, want 0"; }
[ -s "$PP_TMP/rec/recording.json" ] || pp_fail "no recording.json"
[ ! -e "$PP_TMP/rec/summary.json" ] || pp_fail "record-only judged cases"
id=$(jq -r .id "$PP_TMP/rec/recording.json")
[ "$id" = "$(sha256sum "$PP_TMP/rec/work/record/trace.cfit" | cut -d' ' -f1)" ] ||
    pp_fail "recording id is not the trace's SHA-256"
pp_log "recorded once: id ${id%"${id#????????????}"}, $(du -sh "$PP_TMP/rec" | cut -f1)"

# --- unsharded on the recording, then 3 shards --------------------------------
"$PP_BIN" sim --known "$PP_KNOWN" --recording "$PP_TMP/rec" --out "$PP_TMP/full" >"$PP_TMP/full.log" 2>&1
full_rc=$?
[ "$full_rc" -eq 1 ] || { tail -5 "$PP_TMP/full.log"; pp_fail "unsharded run exited $full_rc, want 1 (failures)"; }
for k in 1 2 3; do
    "$PP_BIN" sim --known "$PP_KNOWN" --recording "$PP_TMP/rec" --shard $k/3 --out "$PP_TMP/s$k" \
        >"$PP_TMP/s$k.log" 2>&1
    rc=$?
    [ "$rc" -le 1 ] || { tail -5 "$PP_TMP/s$k.log"; pp_fail "shard $k/3 exited $rc"; }
    grep -q "shard $k/3: 10 of the 30 crash points" "$PP_TMP/s$k.log" ||
        pp_fail "shard $k/3 did not take 10 of 30 points"
done
"$PP_BIN" merge "$PP_TMP/s3" "$PP_TMP/s1" "$PP_TMP/s2" --out "$PP_TMP/merged" \
    >"$PP_TMP/merge.log" 2>&1
rc=$?
cat "$PP_TMP/merge.log"
[ "$rc" -eq "$full_rc" ] || pp_fail "merge exited $rc, the unsharded run $full_rc"
t1=$(date +%s.%N)

# --- the merged results are the unsharded ones --------------------------------
f=$PP_TMP/full
m=$PP_TMP/merged
# What measures the run rather than the update, and provenance.  The bytes
# the resumed updates downloaded are a measure too: the client's small
# requests vary with timing (the same state's resume fetched 348 bytes in
# one run, 406 in another, on a loaded machine); the objects fetched and
# fetched again, which the verdicts rest on, are compared.
run_fields='del(.started, .duration_s, .cases_wall_s, .states_per_minute, .time_split, .jobs, .merged, .resume.bytes_downloaded)'
jq -S "$run_fields" "$f/summary.json" >"$PP_TMP/sf"
jq -S "$run_fields" "$m/summary.json" >"$PP_TMP/sm"
diff "$PP_TMP/sf" "$PP_TMP/sm" || pp_fail "summary.json differs beyond durations and timestamps"
[ "$(jq '.merged.shards' "$m/summary.json")" = 3 ] || pp_fail "summary.json: merged.shards is not 3"
[ "$(jq '.time_split | [.[]] | add > 0' "$m/summary.json")" = true ] || pp_fail "time_split not summed"
verdicts='[.cases[] | [.id, .k, .phase, .outcome, .reason, .resumed, .resume_objects, .resume_redownloaded]]'
[ "$(jq -c "$verdicts" "$f/points.json")" = "$(jq -c "$verdicts" "$m/points.json")" ] ||
    pp_fail "points.json: verdicts or case ids differ"
[ "$(jq '.failed' "$m/summary.json")" -gt 0 ] && [ "$(jq '.passed' "$m/summary.json")" -gt 0 ] ||
    pp_fail "want passes and failures in the campaign: $(jq -c .outcomes "$m/summary.json")"
[ "$(jq '.cases' "$m/summary.json")" = 30 ] && [ "$(jq '.coverage' "$m/summary.json")" = 1 ] ||
    pp_fail "merged: not 30 cases at coverage 1"
[ "$(cd "$f/cases" && ls)" = "$(cd "$m/cases" && ls)" ] || pp_fail "case files differ"
for c in "$f"/cases/*.json; do
    # evidence.elapsed_us is the oracle's time; which case of a group of
    # identical states judged it depends on the order the jobs ran in; the
    # bytes a resume downloaded vary with timing (above)
    del='del(.seconds, .evidence.elapsed_us, .shares_verdict_with, .resume.bytes_downloaded)'
    [ "$(jq -S "$del" "$c")" = "$(jq -S "$del" "$m/cases/${c##*/}")" ] ||
        pp_fail "case file ${c##*/} differs"
done
junit() { sed 's/ time="[^"]*"//g; s/ timestamp="[^"]*"//g' "$1/junit.xml" >"$2"; }
junit "$f" "$PP_TMP/jf"
junit "$m" "$PP_TMP/jm"
diff "$PP_TMP/jf" "$PP_TMP/jm" || pp_fail "junit.xml differs beyond times"
pp_log "merged = unsharded: $(jq -c .outcomes "$m/summary.json"), same case files and junit"

"$PP_BIN" compare "$f" "$m" --out "$PP_TMP/cmp" >"$PP_TMP/cmp.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/cmp.log"; pp_fail "compare unsharded merged exited $rc, want 0"; }
[ "$(jq -c '.counts | [."newly-failing", ."newly-passing", ."outcome-changed", ."only-a", ."only-b"]' "$PP_TMP/cmp/compare.json")" = "[0,0,0,0,0]" ] ||
    pp_fail "compare: verdicts differ: $(jq -c .counts "$PP_TMP/cmp/compare.json")"
[ "$(jq -r .matching "$PP_TMP/cmp/compare.json")" = k ] || pp_fail "compare: not matched by k"
"$PP_BIN" report "$m" >"$PP_TMP/report.log" 2>&1 || { cat "$PP_TMP/report.log"; pp_fail "report of the merged results"; }
grep -q "merged from 3 shards" "$m/report.html" || pp_fail "report does not say it was merged"
pp_log "compare unsharded merged: nothing differs; report accepts the merged results"

# --- a shard from the recording moved elsewhere (a CI artifact, tar) ----------
(cd "$PP_TMP" && tar -cf rec.tar rec && mkdir runner2 && tar -C runner2 -xf rec.tar) ||
    pp_fail "tar of the recording"
"$PP_BIN" sim --known "$PP_KNOWN" --recording "$PP_TMP/runner2/rec" --shard 3/3 --out "$PP_TMP/s3-moved" \
    >"$PP_TMP/s3-moved.log" 2>&1
[ $? -le 1 ] || { tail -5 "$PP_TMP/s3-moved.log"; pp_fail "shard from the moved recording"; }
"$PP_BIN" merge "$PP_TMP/s1" "$PP_TMP/s2" "$PP_TMP/s3-moved" --out "$PP_TMP/merged-moved" >/dev/null 2>&1
rc=$?
[ "$rc" -eq "$full_rc" ] || pp_fail "merge with a shard of the moved recording exited $rc"
[ "$(jq -c "$verdicts" "$f/points.json")" = "$(jq -c "$verdicts" "$PP_TMP/merged-moved/points.json")" ] ||
    pp_fail "moved recording: verdicts differ"
pp_log "a shard judged from a tar copy of the recording at another path merges"

# twin: a copy that lost the snapshot's hardlinks gives other crash states
# (every verdict wrong): refused before anything is judged
cp -r "$PP_TMP/rec" "$PP_TMP/rec-cpr"
"$PP_BIN" sim --known "$PP_KNOWN" --recording "$PP_TMP/rec-cpr" --shard 3/3 --out "$PP_TMP/x-cpr" >"$PP_TMP/x.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "a recording copied without its hardlinks: exit $rc, want 2"
grep -q "rec-cpr/work/record/snapshot is not what was recorded" "$PP_TMP/x.log" ||
    pp_fail "lost hardlinks: $(cat "$PP_TMP/x.log")"
[ ! -e "$PP_TMP/x-cpr/summary.json" ] || pp_fail "a damaged recording was judged"
pp_log "a recording copied without its hardlinks (cp -r): exit 2"

# --- twins: shards that do not belong together ------------------------------
"$PP_BIN" merge "$PP_TMP/s1" "$PP_TMP/s3" --out "$PP_TMP/x-missing" >"$PP_TMP/x.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "merge with a shard missing exited $rc, want 2"
grep -q "shard 2/3 of recording [0-9a-f]* is missing (given: $PP_TMP/s1 (1/3), $PP_TMP/s3 (3/3))" "$PP_TMP/x.log" ||
    pp_fail "missing shard: $(cat "$PP_TMP/x.log")"
[ ! -e "$PP_TMP/x-missing" ] || pp_fail "a refused merge wrote results"
pp_log "shard missing: exit 2: $(tail -1 "$PP_TMP/x.log")"

# shellcheck disable=SC2086
"$PP_BIN" sim --known "$PP_KNOWN" --record-only $camp --seed 1 --out "$PP_TMP/rec-seed1" >/dev/null 2>&1 ||
    pp_fail "record-only --seed 1"
"$PP_BIN" sim --known "$PP_KNOWN" --recording "$PP_TMP/rec-seed1" --shard 2/3 --out "$PP_TMP/s2-seed1" >/dev/null 2>&1
[ $? -le 1 ] || pp_fail "shard of seed 1"
"$PP_BIN" merge "$PP_TMP/s1" "$PP_TMP/s2-seed1" "$PP_TMP/s3" --out "$PP_TMP/x-seed" >"$PP_TMP/x.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "merge of shards of different seeds exited $rc, want 2"
grep -q "$PP_TMP/s2-seed1: seed is 1, but in $PP_TMP/s1 it is 0" "$PP_TMP/x.log" ||
    pp_fail "different seeds: $(cat "$PP_TMP/x.log")"
pp_log "different seeds: exit 2: $(grep seed "$PP_TMP/x.log")"

# shellcheck disable=SC2086
"$PP_BIN" sim --known "$PP_KNOWN" --record-only $camp --out "$PP_TMP/rec-b" >/dev/null 2>&1 ||
    pp_fail "second record-only"
"$PP_BIN" sim --known "$PP_KNOWN" --recording "$PP_TMP/rec-b" --shard 2/3 --out "$PP_TMP/s2-b" >/dev/null 2>&1
[ $? -le 1 ] || pp_fail "shard of the second recording"
"$PP_BIN" merge "$PP_TMP/s1" "$PP_TMP/s2-b" "$PP_TMP/s3" --out "$PP_TMP/x-rec" >"$PP_TMP/x.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "merge with a shard of another recording exited $rc, want 2"
grep -q "$PP_TMP/s2-b: recording.id is [0-9a-f]*, but in $PP_TMP/s1 it is $id" "$PP_TMP/x.log" ||
    pp_fail "other recording: $(cat "$PP_TMP/x.log")"
grep -q "seed is" "$PP_TMP/x.log" && pp_fail "other recording: a seed difference reported"
pp_log "another recording of the same campaign: exit 2: $(grep recording.id "$PP_TMP/x.log")"

"$PP_BIN" merge "$PP_TMP/s1" "$f" --out "$PP_TMP/x-full" >"$PP_TMP/x.log" 2>&1
[ $? -eq 2 ] || pp_fail "merge with an unsharded result: want exit 2"
grep -q "$f: not a shard" "$PP_TMP/x.log" || pp_fail "not a shard: $(cat "$PP_TMP/x.log")"

# --- twins: sim refuses what could not be merged -------------------------------
"$PP_BIN" sim --known "$PP_KNOWN" --shard 1/3 --out "$PP_TMP/x-norec" >"$PP_TMP/x.log" 2>&1
[ $? -eq 2 ] || pp_fail "--shard without --recording: want exit 2"
grep -q "shard needs --recording REC" "$PP_TMP/x.log" || pp_fail "no recording: $(cat "$PP_TMP/x.log")"
[ ! -e "$PP_TMP/x-norec" ] || pp_fail "--shard without --recording created results"
"$PP_BIN" sim --known "$PP_KNOWN" --recording "$PP_TMP/rec" --shard 1/3 --seed 1 --out "$PP_TMP/x-seed1" >"$PP_TMP/x.log" 2>&1
[ $? -eq 2 ] || pp_fail "--seed disagreeing with the recording: want exit 2"
grep -q "seed: 1 given, the recording has 0" "$PP_TMP/x.log" || pp_fail "seed: $(cat "$PP_TMP/x.log")"
cat >"$PP_TMP/ostree-next" <<'SH'
#!/bin/sh
[ "$1" = --version ] && { printf "libostree:\n Version: '2099.1'\n"; exit 0; }
exec /usr/bin/ostree "$@"
SH
chmod +x "$PP_TMP/ostree-next"
"$PP_BIN" sim --known "$PP_KNOWN" --recording "$PP_TMP/rec" --shard 1/3 --ostree "$PP_TMP/ostree-next" \
    --out "$PP_TMP/x-version" >"$PP_TMP/x.log" 2>&1
[ $? -eq 2 ] || pp_fail "another client version: want exit 2"
grep -q "client: $PP_TMP/ostree-next is ostree 2099.1, the recording was made with 2022.7" "$PP_TMP/x.log" ||
    pp_fail "client version: $(cat "$PP_TMP/x.log")"
pp_log "sim refuses --shard without a recording, a disagreeing seed, another client version (exit 2)"
pp_log "record, unsharded run, 3 shards and merge: $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s"
