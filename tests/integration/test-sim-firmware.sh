#!/bin/sh
# SPDX-License-Identifier: MIT
# test-sim-firmware: your firmware.  `plugpull sim --repo` on the small
# Debian firmware (images/build-debian-firmware.sh --size small, cached in
# BUILD/firmware/debian-small), v1 -> v2 (firmware^ -> firmware):
#
#   1. the default campaign, sampled, passes (exit 0), `plugpull report`
#      writes its page;
#      twin: the same firmware with core.fsync=false on the device, from
#      a scenario file whose repo is relative to the file, fails (exit 1),
#      and a failing case replays to the same verdict;
#   2. every bad input exits 2 naming the problem: a missing, a non-
#      directory and (as nobody) an unreadable repo, one ostree cannot
#      open, an unknown ref, an absent commit, from equal to to, a commit
#      without a kernel, --from without --repo, --repo without --to;
#   3. the user's repos are byte-identical afterwards (every file's type,
#      size, mtime, mode and sha256), also after a campaign stopped by
#      SIGINT (exit 130).
#
# Skips (77) only when the firmware cannot be built because the Debian
# archive is unreachable.  About 3 minutes on a loaded 2-core machine
# once the firmware is cached.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd ostree python3

top=$(cd "$(dirname "$0")/../.." && pwd)
fwdir=$PP_BUILD/firmware/debian-small
pp_small_firmware "$fwdir"
repo=$fwdir/repo
[ "$(ostree --repo="$repo" rev-parse firmware^)" = "$(cat "$fwdir/v1.commit")" ] ||
    pp_fail "firmware^ is not v1 in $repo"

# listing DIR: every entry's type, path, size, mtime, mode; every file's
# sha256.
listing() {
    (cd "$1" && find . -printf '%y %P %s %T@ %m\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}
listing "$repo" >"$PP_TMP/repo.before"

# A small repo of our own: a commit with a kernel, one without.
kr=$PP_TMP/kr
mkdir -p "$PP_TMP/t/k/usr/lib/modules/1.0" "$PP_TMP/t/n/usr/bin"
echo k >"$PP_TMP/t/k/usr/lib/modules/1.0/vmlinuz"
echo n >"$PP_TMP/t/n/usr/bin/n"
ostree init --repo="$kr" --mode=bare-user &&
    ostree --repo="$kr" commit -b withkernel --tree=dir="$PP_TMP/t/k" >/dev/null &&
    ostree --repo="$kr" commit -b nokernel --tree=dir="$PP_TMP/t/n" >/dev/null ||
    pp_fail "making the kernel-less repo"
listing "$kr" >"$PP_TMP/kr.before"

same_repos() {
    listing "$repo" >"$PP_TMP/repo.after"
    diff "$PP_TMP/repo.before" "$PP_TMP/repo.after" >"$PP_TMP/diff" ||
        pp_fail "$1: the user's repo changed: $(head -5 "$PP_TMP/diff")"
    listing "$kr" >"$PP_TMP/kr.after"
    diff "$PP_TMP/kr.before" "$PP_TMP/kr.after" >"$PP_TMP/diff" ||
        pp_fail "$1: the kernel-less repo changed: $(head -5 "$PP_TMP/diff")"
    pp_log "$1: the user's repos are byte-identical"
}

t0=$(date +%s)
# --- 1. the default campaign passes ---------------------------------------
out=$PP_TMP/pass
"$PP_BIN" sim --repo "$repo" --from firmware^ --to firmware \
    --points sample:10 --out "$out" >"$PP_TMP/pass.log" 2>&1
rc=$?
tail -2 "$PP_TMP/pass.log"
[ "$rc" -eq 0 ] || { cat "$PP_TMP/pass.log"; pp_fail "sim on the firmware exited $rc, want 0"; }
python3 - "$out" "$(cat "$fwdir/v1.commit")" "$(cat "$fwdir/v2.commit")" <<'PY' || pp_fail "summary or case files"
import json, sys, glob, os
out, v1, v2 = sys.argv[1:4]
s = json.load(open(os.path.join(out, "summary.json")))
assert s["failed"] == 0 and s["passed"] == 10, s
cases = [json.load(open(f)) for f in glob.glob(os.path.join(out, "cases", "*.json"))]
assert cases, "no case file"
resumed = [c for c in cases if c.get("resume") or c.get("resumed")]
text = json.dumps(cases)
assert v1 in text and v2 in text, "the cases do not name v1 and v2"
PY
grep -q "your firmware: .*served as firmware, stateroot plugpull" "$PP_TMP/pass.log" ||
    pp_fail "sim did not say which firmware it served"
pp_log "firmware^ -> firmware, sample:10: every state passes ($(($(date +%s) - t0)) s)"
"$PP_BIN" report "$out" >/dev/null 2>&1 && [ -s "$out/report.html" ] ||
    pp_fail "plugpull report on the campaign"
same_repos "after the passing campaign"

# --- 1, twin: core.fsync=false fails, a failing case replays ---------------
t1=$(date +%s)
mkdir -p "$PP_TMP/scen"
rel=$(python3 -c 'import os,sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$repo" "$PP_TMP/scen")
cat >"$PP_TMP/scen/nofsync.conf" <<CONF
[scenario]
name = your-firmware-fsync-disabled
expect = failures
[firmware]
repo = $rel
from = firmware^
to = firmware
[device]
repo-config = core.fsync=false
[crash]
points = sample:6
[verify]
resume = sample:2
CONF
out2=$PP_TMP/nofsync
(cd / && "$PP_BIN" sim --scenario "$PP_TMP/scen/nofsync.conf" --out "$out2") \
    >"$PP_TMP/nofsync.log" 2>&1
rc=$?
tail -2 "$PP_TMP/nofsync.log"
[ "$rc" -eq 1 ] || { cat "$PP_TMP/nofsync.log"; pp_fail "sim with core.fsync=false exited $rc, want 1"; }
first=$(python3 - "$out2" <<'PY'
import json, sys, glob, os
out = sys.argv[1]
s = json.load(open(os.path.join(out, "summary.json")))
assert s["failed"] > 0, s["outcomes"]
fails = sorted(f for f in glob.glob(os.path.join(out, "cases", "*.json"))
               if json.load(open(f))["outcome"] != "pass")
print(fails[0])
PY
) || pp_fail "no failing case in $out2"
"$PP_BIN" replay "$first" >"$PP_TMP/replay" 2>&1
rc=$?
tail -2 "$PP_TMP/replay"
[ "$rc" -eq 1 ] && grep -q "(same)" "$PP_TMP/replay" ||
    pp_fail "replay of $first exited $rc or gave another verdict"
pp_log "twin: core.fsync=false is seen ($(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['outcomes'])" "$out2/summary.json")), a failing case replays to the same verdict ($(($(date +%s) - t1)) s)"
same_repos "after the failing campaign and the replay"

# --- 2. bad input: exit 2, the problem named, nothing written -------------
mkdir -p "$PP_TMP/empty" "$PP_TMP/locked"
touch "$PP_TMP/afile"
cp -a "$kr" "$PP_TMP/locked/kr"
chmod 700 "$PP_TMP/locked/kr"
n=0
bad() {
    want=$1
    shift
    n=$((n + 1))
    "$@" --out "$PP_TMP/bad.$n" >"$PP_TMP/bad.out" 2>"$PP_TMP/bad.err"
    rc=$?
    [ "$rc" -eq 2 ] || pp_fail "bad input ($*): exit $rc, want 2: $(cat "$PP_TMP/bad.err")"
    grep -q -- "$want" "$PP_TMP/bad.err" ||
        pp_fail "bad input ($*): the message does not say '$want': $(cat "$PP_TMP/bad.err")"
    [ ! -e "$PP_TMP/bad.$n/work" ] || pp_fail "bad input ($*): a campaign was started"
    pp_log "exit 2: $(cat "$PP_TMP/bad.err")"
}
P=$PP_BIN
v2=$(cat "$fwdir/v2.commit")
bad "/nonexistent/repo: missing (stat: No such file" $P sim --repo /nonexistent/repo --from a --to b
bad "afile: not a directory" $P sim --repo "$PP_TMP/afile" --from a --to b
bad "not an OSTree repo ostree can open" $P sim --repo "$PP_TMP/empty" --from a --to b
bad "from 'nosuch': no such ref or commit" $P sim --repo "$repo" --from nosuch --to firmware
bad "to 'nosuch/ref': no such ref or commit" $P sim --repo "$repo" --from firmware^ --to nosuch/ref
bad "commit 0000000000000000000000000000000000000000000000000000000000000000 is not in the repo" \
    $P sim --repo "$repo" --from 0000000000000000000000000000000000000000000000000000000000000000 --to firmware
bad "are the same commit $v2" $P sim --repo "$repo" --from firmware --to "$v2"
bad "from 'nokernel' (commit [0-9a-f]*) has no kernel" $P sim --repo "$kr" --from nokernel --to withkernel
bad "to 'nokernel' (commit [0-9a-f]*) has no kernel" $P sim --repo "$kr" --from withkernel --to nokernel
bad "they need --repo" $P sim --from firmware^ --to firmware
bad "needs both from and to" $P sim --repo "$repo" --from firmware^
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
    chmod 777 "$PP_TMP"
    bad "locked/kr: unreadable (access: Permission denied)" setpriv --reuid=65534 --regid=65534 --clear-groups \
        $P sim --repo "$PP_TMP/locked/kr" --from nokernel --to withkernel
else
    pp_log "unreadable repo: not checked (needs root and setpriv to run as nobody)"
fi
same_repos "after the bad inputs"

# --- 3. SIGINT during a campaign -----------------------------------------
out3=$PP_TMP/int
# PLUGPULL_TEST_HOLD_AFTER=5: no case starts after the fifth (the first
# progress line) until the signal comes: an event, not a race.
PLUGPULL_TEST_HOLD_AFTER=5 "$PP_BIN" sim --repo "$repo" --from firmware^ --to firmware \
    --points sample:40 --resume-updates none --out "$out3" \
    >"$PP_TMP/int.log" 2>&1 &
pid=$!
i=0
until grep -q "progress: " "$PP_TMP/int.log"; do
    kill -0 "$pid" 2>/dev/null || { cat "$PP_TMP/int.log"; pp_fail "the campaign to interrupt ended early"; }
    i=$((i + 1))
    [ "$i" -lt 1200 ] || pp_fail "no case judged after 120 s"
    sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || { tail -5 "$PP_TMP/int.log"; pp_fail "interrupted campaign exited $rc, want 130"; }
pp_log "a campaign stopped by SIGINT exits 130"
same_repos "after SIGINT"
pp_log "done in $(($(date +%s) - t0)) s"
