#!/bin/sh
# SPDX-License-Identifier: MIT
# test-sim-firmware-history: [firmware] history with your repo (the small
# Debian firmware, v1 = firmware^, v2 = firmware):
#
#   1. going back: history = v1, from = v2, to = v1: the device runs v1,
#      is updated untraced to v2 (both deployed before the traced update),
#      and the update goes back to v1's tree published again in the
#      private mirror as a newer commit (the same content checksum, every
#      owner kept); the sampled campaign passes;
#   2. forward through three versions, in a copy of the repo with a v3
#      committed on firmware: history = v1, from = v2, to = v3 passes,
#      with v1 and v2 deployed before the update;
#   3. twins, exit 2 naming the problem: an unknown history ref, two
#      versions before from, from in the middle of the history, a ref in
#      the history of the fixture (no repo), static-delta going back;
# Both campaigns pass but for ostree#3392 (scenarios/known-findings.conf),
# which a device with a rollback deployment meets in the cleanup.
#   4. the user's repo is byte-identical afterwards.
# About 4 minutes on a loaded 2-core machine once the firmware is cached.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd ostree jq

fwdir=$PP_BUILD/firmware/debian-small
pp_small_firmware "$fwdir"
repo=$fwdir/repo
# ostree#3392 (the bootloader still reads the old loader in the cleanup
# after the swap) shows with a history: the device has a rollback
# deployment for the cleanup to remove.  It is a known finding.
known=$(cd "$(dirname "$0")/../../scenarios" && pwd)/known-findings.conf
v1=$(cat "$fwdir/v1.commit")
v2=$(cat "$fwdir/v2.commit")
listing() {
    (cd "$1" && find . -printf '%y %P %s %T@ %m\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}
listing "$repo" >"$PP_TMP/repo.before"
t0=$(date +%s)

# scenario FILE REPO HISTORY FROM TO [EXTRA LINES]
scenario() {
    cat >"$1" <<CONF
[firmware]
repo = $2
history = $3
from = $4
to = $5
$6
[crash]
points = sample:4
seed = 1
[verify]
resume = none
known = $known
CONF
}
# deployed DIR: the commits deployed on the device before the update.
deployed() {
    ls "$1/work/record/snapshot/ostree/deploy/plugpull/deploy" | grep -v origin | cut -d. -f1 | sort | tr '\n' ' '
}

# --- 1. going back ---------------------------------------------------------
scenario "$PP_TMP/back.conf" "$repo" "firmware^" firmware "firmware^"
"$PP_BIN" sim --scenario "$PP_TMP/back.conf" --out "$PP_TMP/back" >"$PP_TMP/back.log" 2>&1
rc=$?
tail -1 "$PP_TMP/back.log"
[ "$rc" -eq 0 ] || { tail -20 "$PP_TMP/back.log"; pp_fail "going back v2 -> v1 after a history of v1: exit $rc, want 0"; }
[ "$(deployed "$PP_TMP/back")" = "$(printf '%s\n%s\n' "$v1" "$v2" | sort | tr '\n' ' ')" ] ||
    pp_fail "going back: the device had $(deployed "$PP_TMP/back") deployed, want v1 and v2"
mirror=$PP_TMP/back/work/fixture/srv/repo
again=$(ostree --repo="$mirror" rev-parse firmware)
[ "$again" != "$v1" ] && [ "$again" != "$v2" ] || pp_fail "going back: no commit published again"
cc() { ostree --repo="$1" show "$2" | sed -n 's/^ContentChecksum: *//p'; }
[ "$(cc "$mirror" "$again")" = "$(cc "$repo" "$v1")" ] ||
    pp_fail "going back: the commit published again is not v1's tree"
jq -e '.failed == 0 and .passed + .known == 4' "$PP_TMP/back/summary.json" >/dev/null ||
    pp_fail "going back: summary $(jq -c '{passed,failed,known}' "$PP_TMP/back/summary.json")"
pp_log "going back: v1 then v2 deployed, the update to v1's tree again ($(echo "$again" | cut -c1-12)): $(jq -c '{passed,failed,known}' "$PP_TMP/back/summary.json")"

# --- 2. forward through three versions -------------------------------------
r3=$PP_TMP/r3
cp -a "$repo" "$r3" || pp_fail "copying the repo"
mkdir -p "$PP_TMP/extra/usr/share/plugpull-test"
echo v3 >"$PP_TMP/extra/usr/share/plugpull-test/version"
ostree --repo="$r3" commit -b firmware --tree=ref=firmware --tree=dir="$PP_TMP/extra" \
    --owner-uid=0 --owner-gid=0 --add-metadata-string=version=3 -s "v3" >/dev/null ||
    pp_fail "committing v3"
v3=$(ostree --repo="$r3" rev-parse firmware)
scenario "$PP_TMP/fwd.conf" "$r3" "firmware^^" "firmware^" firmware
"$PP_BIN" sim --scenario "$PP_TMP/fwd.conf" --out "$PP_TMP/fwd" >"$PP_TMP/fwd.log" 2>&1
rc=$?
tail -1 "$PP_TMP/fwd.log"
[ "$rc" -eq 0 ] || { tail -20 "$PP_TMP/fwd.log"; pp_fail "v1, v2 -> v3: exit $rc, want 0"; }
[ "$(deployed "$PP_TMP/fwd")" = "$(printf '%s\n%s\n' "$v1" "$v2" | sort | tr '\n' ' ')" ] ||
    pp_fail "forward: the device had $(deployed "$PP_TMP/fwd") deployed, want v1 and v2"
grep -q "from $(echo "$v2" | cut -c1-12), to $(echo "$v3" | cut -c1-12)" "$PP_TMP/fwd.log" ||
    pp_fail "forward: the update is not v2 -> v3"
jq -e '.failed == 0 and .passed + .known == 4' "$PP_TMP/fwd/summary.json" >/dev/null ||
    pp_fail "forward: summary $(jq -c '{passed,failed,known}' "$PP_TMP/fwd/summary.json")"
pp_log "forward: v1 then v2 deployed, v2 -> v3: $(jq -c '{passed,failed,known}' "$PP_TMP/fwd/summary.json")"

# --- 3. bad input ----------------------------------------------------------
n=0
bad() {
    want=$1
    n=$((n + 1))
    "$PP_BIN" sim --scenario "$PP_TMP/bad.conf" --out "$PP_TMP/bad.$n" \
        >"$PP_TMP/bad.out" 2>"$PP_TMP/bad.err"
    rc=$?
    [ "$rc" -eq 2 ] || pp_fail "bad history ($want): exit $rc, want 2: $(cat "$PP_TMP/bad.err")"
    grep -q -- "$want" "$PP_TMP/bad.err" ||
        pp_fail "bad history: the message does not say '$want': $(cat "$PP_TMP/bad.err")"
    [ ! -e "$PP_TMP/bad.$n/work" ] || pp_fail "bad history ($want): a campaign was started"
    pp_log "exit 2: $(cut -c1-200 "$PP_TMP/bad.err")"
}
scenario "$PP_TMP/bad.conf" "$repo" "nosuch" firmware "firmware^"
bad "history 'nosuch': no such ref or commit"
scenario "$PP_TMP/bad.conf" "$r3" "firmware^^;firmware^" firmware "firmware^"
bad "history: 2 versions before from; with your firmware at most one"
scenario "$PP_TMP/bad.conf" "$r3" "firmware^;firmware^^" "firmware^" firmware
bad "history 'firmware^' is from's commit"
printf '[firmware]\nhistory = v1;2\nfrom = 2\n' >"$PP_TMP/bad.conf"
bad "history = 'v1;2': each entry must be a version 1, 2 or 3 of the fixture (a ref or commit needs \[firmware\] repo)"
scenario "$PP_TMP/bad.conf" "$repo" "firmware^" firmware "firmware^" "static-delta = true"
bad "static-delta: not for going back"

# --- 4. the user's repo ----------------------------------------------------
listing "$repo" >"$PP_TMP/repo.after"
diff "$PP_TMP/repo.before" "$PP_TMP/repo.after" >"$PP_TMP/diff" ||
    pp_fail "the user's repo changed: $(head -5 "$PP_TMP/diff")"
pp_log "the user's repo is byte-identical; done in $(($(date +%s) - t0)) s"
