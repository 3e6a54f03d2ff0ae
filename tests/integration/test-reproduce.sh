#!/bin/sh
# SPDX-License-Identifier: MIT
# plugpull reproduce: from a field brick's dump back to the crash points
# that brick the simulated device the same way.
#
# The "field dump" is a failing crash state of the fsync-disabled
# self-check (repo-corrupt: a ref left empty or torn), materialised as a
# directory with plugpull replay --keep and copied out:
#   - reproduce DIR finds a case with the same signature, and replaying
#     that case gives the dump's verdict again; exit 0;
#   - the same dump as a bare ext4 image has the same signature;
# failing twins:
#   - a healthy sysroot: the signature, "nothing to reproduce", exit 0;
#   - a hand-made boot/loader symlink to a missing loader dir, which no
#     campaign produces: no match, near matches listed, exit 1;
#   - an unreadable path, a file that is no image, a bad --budget: exit 2;
#   - Ctrl-C mid-search: exit 130, what was covered written.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd jq cp
scen=$(cd "$(dirname "$0")/../../scenarios" && pwd)/fsync-disabled.conf

# --- the field dump -------------------------------------------------------
# From the barrier points, as the search below judges them: between two
# barriers a state can hold a half-written object that no barrier point
# holds (a commit object zero-filled, say), which nothing then matches.
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$scen" --points barriers --seed 0 --resume-updates none \
    --out "$PP_TMP/sim" >"$PP_TMP/sim.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { tail "$PP_TMP/sim.log"; pp_fail "sim exited $rc, want 1 (failures)"; }
src=$(for f in "$PP_TMP"/sim/cases/*.json; do
          jq -r 'select(.evidence.outcome == "repo-corrupt") | input_filename' "$f"
      done | head -1)
[ -n "$src" ] || pp_fail "the fsync-disabled campaign gave no repo-corrupt case"
src_id=$(jq -r .id "$src")
"$PP_BIN" replay "$src" --keep "$PP_TMP/keep" >"$PP_TMP/keep.log" 2>&1
[ $? -eq 1 ] || { cat "$PP_TMP/keep.log"; pp_fail "replay --keep of $src_id"; }
# A crash state shares inodes with the campaign's snapshot: copy it out.
cp -a "$PP_TMP/keep/$src_id" "$PP_TMP/dump" || pp_fail "copying the crash state"
rm -rf "$PP_TMP/keep"
pp_log "field dump: $src_id of the fsync-disabled campaign ($(jq -r .reason "$src"))"

# --- reproduce the directory ---------------------------------------------
# Barrier points: the dump's crash point (a rename or unlink of the pull)
# is a barrier of every recording; a sample of all points depends on the
# recording's length, which varies by a call or two between runs.
t0=$(date +%s)
"$PP_BIN" reproduce "$PP_TMP/dump" --points barriers --seed 0 --budget 90s \
    --stop-on-match --out "$PP_TMP/r1" >"$PP_TMP/r1.log" 2>&1
rc=$?
t1=$(date +%s)
cat "$PP_TMP/r1.log" | head -12
[ "$rc" -eq 0 ] || pp_fail "reproduce exited $rc, want 0 (a match)"
R=$PP_TMP/r1/reproduce.json
[ "$(jq -r .verdict "$R")" = matched ] || pp_fail "verdict $(jq -r .verdict "$R")"
[ "$(jq -r .signature.outcome "$R")" = repo-corrupt ] || pp_fail "dump signature outcome"
grep -q '^signature: repo-corrupt ' "$PP_TMP/r1.log" || pp_fail "the signature is not printed"
grep -q '^  MATCH ' "$PP_TMP/r1.log" || pp_fail "no MATCH line"
[ "$(jq '.matches | length' "$R")" -ge 1 ] || pp_fail "no match in reproduce.json"
[ "$(jq -r .seed "$R")" = 0 ] || pp_fail "the seed is not stored"
jq -e '.matches[0] | .k >= 0 and (.syscall | length) > 0 and (.phase | length) > 0
       and (.replay | startswith("plugpull replay "))' "$R" >/dev/null ||
    pp_fail "a match without its crash point or replay command"
jq -e '.search.campaigns[0].status == "done" and (.search.not_run | length) > 0' \
    "$R" >/dev/null || pp_fail "the space covered is not recorded"
case_file=$(jq -r '.matches[0].case' "$R")
"$PP_BIN" replay "$case_file" >"$PP_TMP/replay.log" 2>&1
rc=$?
cat "$PP_TMP/replay.log"
[ "$rc" -eq 1 ] || pp_fail "replay of the match exited $rc, want 1 (a failure)"
grep -q "recorded verdict: repo-corrupt; replayed: repo-corrupt (same)" \
    "$PP_TMP/replay.log" || pp_fail "the match does not replay to the dump's verdict"
pp_log "directory: $(jq '.matches | length' "$R") match(es) in $((t1 - t0)) s, first $(jq -r '.matches[0] | "\(.id) k=\(.k) \(.syscall) (\(.phase))"' "$R"); its replay gives repo-corrupt again"

# --- the same dump as a bare ext4 image: the same signature ---------------
if command -v mke2fs >/dev/null 2>&1 && command -v debugfs >/dev/null 2>&1 &&
   [ "$(id -u)" -eq 0 ]; then
    kb=$(du -sk "$PP_TMP/dump" | cut -f1)
    mke2fs -q -F -t ext4 -d "$PP_TMP/dump" "$PP_TMP/dump.img" "$((kb * 2 + 32768))k" \
        >"$PP_TMP/mke2fs.log" 2>&1 || { cat "$PP_TMP/mke2fs.log"; pp_fail "mke2fs -d"; }
    # A budget too small for a campaign: the signature only.
    "$PP_BIN" reproduce "$PP_TMP/dump.img" --budget 1s --out "$PP_TMP/r-img" \
        >"$PP_TMP/r-img.log" 2>&1
    rc=$?
    [ "$rc" -eq 1 ] || { cat "$PP_TMP/r-img.log"; pp_fail "image: exit $rc, want 1 (nothing searched)"; }
    [ "$(jq -c .signature "$PP_TMP/r-img/reproduce.json")" = "$(jq -c .signature "$R")" ] || {
        jq -r .signature_text "$PP_TMP/r-img/reproduce.json" "$R"
        pp_fail "the image's signature differs from the directory's"
    }
    jq -e '.dump.image and .budget_reached' "$PP_TMP/r-img/reproduce.json" >/dev/null ||
        pp_fail "image: not recorded as an image, or the budget not as reached"
    pp_log "ext4 image of the dump: the same signature"
else
    pp_log "ext4 image form not checked (needs mke2fs, debugfs and root for the files' owners)"
fi

# --- twin: a healthy sysroot is not a brick -------------------------------
cp -a "$PP_TMP/sim/work/record/snapshot" "$PP_TMP/healthy" || pp_fail "copying the snapshot"
"$PP_BIN" reproduce "$PP_TMP/healthy" --out "$PP_TMP/r-ok" >"$PP_TMP/r-ok.log" 2>&1
rc=$?
cat "$PP_TMP/r-ok.log"
[ "$rc" -eq 0 ] || pp_fail "healthy sysroot: exit $rc, want 0"
grep -q '^signature: pass uboot ' "$PP_TMP/r-ok.log" || pp_fail "healthy: no signature printed"
grep -q '^nothing to reproduce' "$PP_TMP/r-ok.log" || pp_fail "healthy: not 'nothing to reproduce'"
[ ! -e "$PP_TMP/r-ok/search" ] || pp_fail "healthy: a search was run"
[ "$(jq -r .verdict "$PP_TMP/r-ok/reproduce.json")" = nothing-to-reproduce ] ||
    pp_fail "healthy: verdict in reproduce.json"
pp_log "healthy sysroot: signature printed, nothing to reproduce, exit 0"

# --- twin: a brick no campaign makes: no match, near matches --------------
cp -a "$PP_TMP/healthy" "$PP_TMP/dangling"
cur=$(readlink "$PP_TMP/dangling/boot/loader")
case $cur in loader.0) other=loader.1 ;; *) other=loader.0 ;; esac
rm -rf "${PP_TMP:?}/dangling/boot/$other"
ln -sfn "$other" "$PP_TMP/dangling/boot/loader"
"$PP_BIN" reproduce "$PP_TMP/dangling" --scenario "$scen" --model ordered \
    --points sample:10 --seed 0 --budget 60s --out "$PP_TMP/r-no" \
    >"$PP_TMP/r-no.log" 2>&1
rc=$?
cat "$PP_TMP/r-no.log"
[ "$rc" -eq 1 ] || pp_fail "dangling boot/loader: exit $rc, want 1 (no match)"
grep -q '^signature: brick none loader\.[01] loader-dangling booted=-1/none ' "$PP_TMP/r-no.log" ||
    pp_fail "dangling boot/loader: signature"
N=$PP_TMP/r-no/reproduce.json
jq -e '.verdict == "no-match" and (.matches | length) == 0
       and (.near_matches | length) > 0 and (.search.not_run | length) == 0
       and (.near_matches[0].differ | index("loader") != null)' "$N" >/dev/null ||
    pp_fail "dangling boot/loader: reproduce.json"
grep -q '^near matches' "$PP_TMP/r-no.log" || pp_fail "near matches not printed"
pp_log "dangling boot/loader: no match, $(jq '.near_matches | length' "$N") near matches (best $(jq -r '.near_matches[0] | "\(.agree)/\(.of)"' "$N")), exit 1"

# --- twin: bad input ------------------------------------------------------
"$PP_BIN" reproduce "$PP_TMP/no-such-dump" --out "$PP_TMP/r-bad" >"$PP_TMP/bad.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "a missing dump: exit $rc, want 2"
grep -q "stat($PP_TMP/no-such-dump): No such file" "$PP_TMP/bad.log" ||
    pp_fail "a missing dump: message $(cat "$PP_TMP/bad.log")"
head -c 4096 /dev/urandom >"$PP_TMP/junk.img"
"$PP_BIN" reproduce "$PP_TMP/junk.img" --out "$PP_TMP/r-bad" >/dev/null 2>&1
[ $? -eq 2 ] || pp_fail "a file that is no image: want exit 2"
"$PP_BIN" reproduce "$PP_TMP/dump" --budget soon --out "$PP_TMP/r-bad" >/dev/null 2>&1
[ $? -eq 2 ] || pp_fail "--budget soon: want exit 2"
"$PP_BIN" reproduce "$PP_TMP/dump" --model ordred --out "$PP_TMP/r-bad" >/dev/null 2>&1
[ $? -eq 2 ] || pp_fail "--model ordred: want exit 2"
[ ! -e "$PP_TMP/r-bad" ] || pp_fail "bad input left results"
pp_log "missing dump, junk image, bad --budget, bad --model: exit 2, nothing written"

# --- Ctrl-C mid-search: 130, what was covered written ---------------------
# PLUGPULL_TEST_HOLD_AFTER=1 (inherited by the search's campaign): it
# starts no case after its first until the signal comes, so the signal
# lands in the first campaign however fast it is: an event, not a race.
PLUGPULL_TEST_HOLD_AFTER=1 "$PP_BIN" reproduce "$PP_TMP/dump" --scenario "$scen" \
    --points barriers --seed 0 --budget 5m --out "$PP_TMP/r-int" \
    >"$PP_TMP/r-int.log" 2>&1 &
pid=$!
i=0
until [ -n "$(find "$PP_TMP/r-int" -path '*/work/done/*.json' 2>/dev/null | head -1)" ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$PP_TMP/r-int.log"; pp_fail "reproduce ended before its first case"; }
    i=$((i + 1))
    [ "$i" -lt 6000 ] || pp_fail "no case judged after 600 s"
    sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
tail -3 "$PP_TMP/r-int.log"
[ "$rc" -eq 130 ] || pp_fail "interrupted reproduce: exit $rc, want 130"
jq -e '.interrupted and (.search.campaigns | length) == 1
       and .search.campaigns[0].status == "interrupted"' \
    "$PP_TMP/r-int/reproduce.json" >/dev/null || {
    # What the campaign itself said: its status and log say why.
    cat "$PP_TMP/r-int.log"
    jq -c '.search.campaigns' "$PP_TMP/r-int/reproduce.json"
    tail -20 "$PP_TMP"/r-int/search/*.log
    pp_fail "interrupted: reproduce.json"
}
pp_log "SIGINT: exit 130, the interrupted campaign recorded"
