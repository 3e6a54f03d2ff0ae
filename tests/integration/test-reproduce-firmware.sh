#!/bin/sh
# SPDX-License-Identifier: MIT
# test-reproduce-firmware: `plugpull reproduce --repo` of a field dump of
# a device running your firmware (the small Debian firmware, v1 -> v2)
# searches that firmware's update, not the fixture's scenarios.
#
# The field dump is a failing crash state (repo-corrupt, in the deploy
# phase) of the firmware's campaign on a device with core.fsync=false,
# kept by plugpull replay --keep and copied out:
#   1. reproduce --repo finds the update v1 -> firmware from the dump's
#      deployments, searches it on a device like the dump's (its
#      bootloader, core.fsync=false from its repo config), finds a match,
#      and replaying the match gives the dump's verdict; exit 0;
# twins:
#   2. a healthy dump (the device before the update): nothing to
#      reproduce, no search, exit 0;
#   3. bad input, exit 2 naming the problem, nothing written: a missing
#      repo, a repo without the dump's deployed commits, a repo whose
#      refs are no newer than the dump's commits;
#   4. the user's repo is byte-identical afterwards.
# About 3 minutes on a loaded 2-core machine once the firmware is cached.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd ostree jq

fwdir=$PP_BUILD/firmware/debian-small
pp_small_firmware "$fwdir"
repo=$fwdir/repo
v1=$(cat "$fwdir/v1.commit")
v2=$(cat "$fwdir/v2.commit")
listing() {
    (cd "$1" && find . -printf '%y %P %s %T@ %m\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}
listing "$repo" >"$PP_TMP/repo.before"
t0=$(date +%s)

# --- the field dump --------------------------------------------------------
cat >"$PP_TMP/nofsync.conf" <<CONF
[scenario]
name = firmware-fsync-disabled
expect = failures
[firmware]
repo = $repo
from = firmware^
to = firmware
[device]
repo-config = core.fsync=false
[crash]
points = sample:6
seed = 1
[verify]
resume = none
CONF
"$PP_BIN" sim --scenario "$PP_TMP/nofsync.conf" --out "$PP_TMP/sim" \
    >"$PP_TMP/sim.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { tail "$PP_TMP/sim.log"; pp_fail "the fsync=false campaign exited $rc, want 1"; }
src=$(for f in "$PP_TMP"/sim/cases/*.json; do
          jq -r 'select(.evidence.outcome == "repo-corrupt" and .phase == "deploy")
                 | input_filename' "$f"
      done | head -1)
[ -n "$src" ] || pp_fail "the fsync=false campaign gave no repo-corrupt case in deploy"
src_id=$(jq -r .id "$src")
"$PP_BIN" replay "$src" --keep "$PP_TMP/keep" >"$PP_TMP/keep.log" 2>&1
[ $? -eq 1 ] || { cat "$PP_TMP/keep.log"; pp_fail "replay --keep of $src_id"; }
# A crash state shares inodes with the campaign's snapshot: copy it out.
cp -a "$PP_TMP/keep/$src_id" "$PP_TMP/dump" || pp_fail "copying the crash state"
rm -rf "$PP_TMP/keep"
pp_log "field dump: $src_id ($(jq -r .reason "$src" | cut -c1-100))"

# --- 1. reproduce --repo ---------------------------------------------------
# Ordered and a sample of 10 points: in the deploy phase of this update
# every state of the fsync=false device has the dump's signature, and a
# sample of 10 of ~12,000 points holds several of them.
"$PP_BIN" reproduce "$PP_TMP/dump" --repo "$repo" --model ordered \
    --points sample:10 --seed 1 --budget 10m --stop-on-match \
    --out "$PP_TMP/r1" >"$PP_TMP/r1.log" 2>&1
rc=$?
head -6 "$PP_TMP/r1.log" | cut -c1-200
[ "$rc" -eq 0 ] || { cat "$PP_TMP/r1.log"; pp_fail "reproduce --repo exited $rc, want 0 (a match)"; }
R=$PP_TMP/r1/reproduce.json
[ "$(jq -r .verdict "$R")" = matched ] || pp_fail "verdict $(jq -r .verdict "$R")"
grep -q "^your firmware's update: $(echo "$v1" | cut -c1-12) .* -> firmware ($(echo "$v2" | cut -c1-12))" \
    "$PP_TMP/r1.log" || pp_fail "the update v1 -> firmware is not named"
conf=$PP_TMP/r1/firmware/update-01.conf
grep -qx "from=$v1" "$conf" && grep -qx "to=firmware" "$conf" &&
    grep -qx "repo=$repo" "$conf" && grep -qx "repo-config=core.fsync=false" "$conf" &&
    grep -qx "bootloader=uboot" "$conf" ||
    { cat "$conf"; pp_fail "the firmware's scenario is not the dump's device"; }
jq -e --arg conf "$conf" '.search.space == 1 and .search.campaigns[0].scenario == $conf
       and (.matches | length) >= 1' "$R" >/dev/null ||
    pp_fail "the search is not the firmware's update alone"
case_file=$(jq -r '.matches[0].case' "$R")
"$PP_BIN" replay "$case_file" >"$PP_TMP/replay.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -q "recorded verdict: repo-corrupt; replayed: repo-corrupt (same)" \
    "$PP_TMP/replay.log" || { cat "$PP_TMP/replay.log"; pp_fail "the match does not replay to the dump's verdict"; }
pp_log "reproduce --repo: $(jq '.matches | length' "$R") match(es) of $(jq -r .signature_text "$R" | cut -d' ' -f1) in the update v1 -> firmware, first $(jq -r '.matches[0] | "\(.id) \(.syscall) (\(.phase))"' "$R"); its replay gives repo-corrupt again"

# --- 2. twin: a healthy dump -----------------------------------------------
cp -a "$PP_TMP/sim/work/record/snapshot" "$PP_TMP/healthy" || pp_fail "copying the snapshot"
"$PP_BIN" reproduce "$PP_TMP/healthy" --repo "$repo" --out "$PP_TMP/r-ok" \
    >"$PP_TMP/r-ok.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q '^nothing to reproduce' "$PP_TMP/r-ok.log" &&
    [ ! -e "$PP_TMP/r-ok/search" ] && [ ! -e "$PP_TMP/r-ok/firmware" ] ||
    { cat "$PP_TMP/r-ok.log"; pp_fail "healthy dump: exit $rc or a search was run"; }
pp_log "healthy dump with --repo: nothing to reproduce, no search, exit 0"

# --- 3. twin: bad input ----------------------------------------------------
# A repo of other commits (a kernel, nothing else), and one holding only
# v1 under the ref firmware (no ref newer than the dump's v1).
mkdir -p "$PP_TMP/t/usr/lib/modules/1.0"
echo k >"$PP_TMP/t/usr/lib/modules/1.0/vmlinuz"
ostree init --repo="$PP_TMP/other" --mode=bare-user &&
    ostree --repo="$PP_TMP/other" commit -b firmware --tree=dir="$PP_TMP/t" >/dev/null &&
    ostree init --repo="$PP_TMP/old" --mode=archive &&
    ostree --repo="$PP_TMP/old" pull-local "$repo" "$v1" >/dev/null &&
    ostree --repo="$PP_TMP/old" refs --create=firmware "$v1" ||
    pp_fail "making the bad-input repos"
n=0
bad() {
    want=$1
    shift
    n=$((n + 1))
    "$PP_BIN" reproduce "$PP_TMP/dump" "$@" --out "$PP_TMP/bad.$n" \
        >"$PP_TMP/bad.out" 2>"$PP_TMP/bad.err"
    rc=$?
    [ "$rc" -eq 2 ] || pp_fail "reproduce $*: exit $rc, want 2: $(cat "$PP_TMP/bad.err")"
    grep -q -- "$want" "$PP_TMP/bad.err" ||
        pp_fail "reproduce $*: the message does not say '$want': $(cat "$PP_TMP/bad.err")"
    [ ! -e "$PP_TMP/bad.$n" ] || pp_fail "reproduce $*: results were written"
    pp_log "exit 2: $(cut -c1-220 "$PP_TMP/bad.err")"
}
bad "your firmware $PP_TMP/nosuch: missing (stat: No such file" --repo "$PP_TMP/nosuch"
bad "deployed commits [0-9a-f]* (ostree/deploy/.*) are not in it" --repo "$PP_TMP/other"
bad "no ref is newer than the dump's deployed commit(s) $(echo "$v1" | cut -c1-12) (refs: firmware)" \
    --repo "$PP_TMP/old"

# --- 4. the user's repo ----------------------------------------------------
listing "$repo" >"$PP_TMP/repo.after"
diff "$PP_TMP/repo.before" "$PP_TMP/repo.after" >"$PP_TMP/diff" ||
    pp_fail "the user's repo changed: $(head -5 "$PP_TMP/diff")"
pp_log "the user's repo is byte-identical; done in $(($(date +%s) - t0)) s"
