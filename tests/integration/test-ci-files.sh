#!/bin/sh
# SPDX-License-Identifier: MIT
# The shipped CI files, ci/gitlab/plugpull.yml (an include: template) and
# ci/github/action.yml (a composite action), run as their CI would.
#
# tests/integration/ci-files-run.py parses each with python3-yaml, checks
# its structure (the hidden job .plugpull with PLUGPULL_SCENARIO, _MODEL,
# _SHARDS, _BUDGET, _KNOWN; the stages record, judge (parallel: N), merge,
# report; the JUnit report; the action's inputs scenario, model, shards,
# budget, known, its deps sets and upload-artifact step), then runs every
# command line that starts with `plugpull` with the variables or inputs at
# their defaults (built-in scenario, model ordered, 2 shards, budget 2m,
# scenarios/known-findings.conf), in a temp dir, with this build's binary:
# each must exit 0 (record, both shards, merge, report) and the merged
# junit.xml must exist.
# Failing twin: the GitLab file with --shard misspelled --shards fails on
# the judge command with exit 2, and nothing is merged.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd python3
python3 -c 'import yaml' 2>/dev/null || pp_skip "python3-yaml not installed (tools/deps.sh test)"

src=$(cd "$(dirname "$0")/../.." && pwd)
run="$src/tests/integration/ci-files-run.py"

# run_ci KIND FILE NAME: the file's plugpull commands in $PP_TMP/NAME; the
# runner's status in $rc, its output in $PP_TMP/NAME.log.
run_ci() {
    mkdir -p "$PP_TMP/$3"
    python3 "$run" "$1" "$2" "$PP_BIN" "$src" "$PP_TMP/$3" >"$PP_TMP/$3.log" 2>&1
    rc=$?
}

for kind in gitlab github; do
    case $kind in
        gitlab) file=$src/ci/gitlab/plugpull.yml ;;
        github) file=$src/ci/github/action.yml ;;
    esac
    run_ci "$kind" "$file" "$kind"
    [ "$rc" -eq 0 ] || { tail -15 "$PP_TMP/$kind.log"; pp_fail "$kind: the CI file's commands exited $rc, want 0"; }
    # record, 2 shards, merge, report: five commands, in that order
    awk '$1 == "ci-files-run:" && $2 == "plugpull" {
             w = $3
             if (/ --record-only /) w = w " record-only"
             if (/ --shard /) w = w " shard"
             print w }' "$PP_TMP/$kind.log" >"$PP_TMP/$kind.order"
    printf 'sim record-only\nsim shard\nsim shard\nmerge\nreport\n' >"$PP_TMP/want.order"
    cmp -s "$PP_TMP/$kind.order" "$PP_TMP/want.order" ||
        pp_fail "$kind: commands ran as $(tr '\n' ';' <"$PP_TMP/$kind.order"), want record, 2 shards, merge, report"
    junit=$PP_TMP/$kind/plugpull/results/junit.xml
    [ -s "$junit" ] || pp_fail "$kind: no merged $junit"
    grep -q '<testcase' "$junit" || pp_fail "$kind: $junit has no testcase"
    [ -s "$PP_TMP/$kind/plugpull/results/report.html" ] || pp_fail "$kind: no report.html"
    pp_log "$kind: record, judge 2 shards, merge, report exit 0; merged junit.xml written"
done

# --- twin: a misspelled option ----------------------------------------------
sed 's/--shard /--shards /' "$src/ci/gitlab/plugpull.yml" >"$PP_TMP/misspelled.yml"
grep -q -- '--shards ' "$PP_TMP/misspelled.yml" || pp_fail "twin: nothing to misspell"
run_ci gitlab "$PP_TMP/misspelled.yml" misspelled
[ "$rc" -eq 2 ] || { tail -5 "$PP_TMP/misspelled.log"; pp_fail "twin: a misspelled --shards exited $rc, want 2"; }
grep -q 'FAILED (exit 2): plugpull sim --recording .* --shards ' "$PP_TMP/misspelled.log" ||
    pp_fail "twin: the failing command is not named: $(tail -2 "$PP_TMP/misspelled.log")"
[ ! -e "$PP_TMP/misspelled/plugpull/results" ] || pp_fail "twin: merged after a failed judge"
pp_log "twin: --shards (misspelled) fails the judge command with exit 2"
