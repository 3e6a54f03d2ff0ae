#!/bin/sh
# SPDX-License-Identifier: MIT
# test-interposer.sh: a sync that an interposer swallowed is flagged in
# the trace and not counted as a barrier (MODELS.md §3a).
#
# Debian's eatmydata script appends libeatmydata.so to whatever LD_PRELOAD
# it finds, so under `plugpull trace record` the shim comes first and
# forwards each fsync to libeatmydata's no-op.  `shimprobe fsync` (open,
# write, fsync, close) run that way must give a trace whose summary names
# libeatmydata as the interposer of fsync & co., counts the fsync as a
# durability call that was no barrier, and offers no barrier crash points.
#
# Failing twins: the same program without eatmydata, and with a library
# that forwards every sync (passsync.so, appended the way eatmydata
# appends), each have one barrier and nothing swallowed.  An `ostree
# commit` under eatmydata shows the same on a real client.
set -u
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_cmd eatmydata jq
pp_need_build

probe=$PP_BUILD/tests/helpers/shimprobe
pass=$PP_BUILD/tests/helpers/passsync.so
[ -x "$probe" ] && [ -f "$pass" ] || pp_fail "test helpers missing (run make)"

# record NAME COMMAND...: trace COMMAND, keep the text and JSON summaries.
record() {
    name=$1
    shift
    "$PP_BIN" trace record --out "$PP_TMP/$name.cfit" -- "$@" \
        >"$PP_TMP/$name.log" 2>&1 || { cat "$PP_TMP/$name.log"; pp_fail "$name: trace record failed"; }
    "$PP_BIN" trace summary "$PP_TMP/$name.cfit" >"$PP_TMP/$name.txt" ||
        pp_fail "$name: trace summary failed"
    "$PP_BIN" trace summary --json "$PP_TMP/$name.cfit" >"$PP_TMP/$name.json" ||
        pp_fail "$name: trace summary --json failed"
}

# --- eatmydata: flagged, no barrier -------------------------------------
record eat eatmydata "$probe" fsync "$PP_TMP/eat-f"
grep -Eq '^interposed: .*fsync.* by .*/libeatmydata\.so \(does not reach the kernel: 1 ' "$PP_TMP/eat.txt" ||
    { cat "$PP_TMP/eat.txt"; pp_fail "eatmydata: summary does not name libeatmydata as fsync's interposer"; }
[ "$(jq .not_barriers "$PP_TMP/eat.json")" = 1 ] ||
    pp_fail "eatmydata: not_barriers $(jq .not_barriers "$PP_TMP/eat.json"), want 1"
[ "$(jq .points_barriers "$PP_TMP/eat.json")" = 0 ] ||
    pp_fail "eatmydata: the swallowed fsync still gives barrier points"
"$PP_BIN" trace dump "$PP_TMP/eat.cfit" | grep -q 'fsync(fsync) .*\[INTERPOSED\]' ||
    pp_fail "eatmydata: the fsync record is not flagged INTERPOSED"
pp_log "eatmydata: fsync flagged, named, and no barrier"

# --- twin: no interposer --------------------------------------------------
record plain "$probe" fsync "$PP_TMP/plain-f"
grep -q '^interposed:' "$PP_TMP/plain.txt" && pp_fail "plain: an interposer reported"
[ "$(jq .not_barriers "$PP_TMP/plain.json")" = 0 ] || pp_fail "plain: not_barriers not 0"
[ "$(jq .points_barriers "$PP_TMP/plain.json")" = 2 ] ||
    pp_fail "plain: points_barriers $(jq .points_barriers "$PP_TMP/plain.json"), want 2"
pp_log "twin without eatmydata: the fsync is a barrier"

# --- twin: an interposer that forwards -------------------------------------
record pass sh -c 'LD_PRELOAD="$LD_PRELOAD $1"; export LD_PRELOAD; exec "$2" fsync "$3"' \
    sh "$pass" "$probe" "$PP_TMP/pass-f"
grep -Eq '^interposed: fsync, fdatasync, syncfs by .*/passsync\.so \(reaches the kernel' "$PP_TMP/pass.txt" ||
    { cat "$PP_TMP/pass.txt"; pp_fail "passsync: summary does not name it as forwarding"; }
[ "$(jq .not_barriers "$PP_TMP/pass.json")" = 0 ] || pp_fail "passsync: not_barriers not 0"
[ "$(jq .points_barriers "$PP_TMP/pass.json")" = 2 ] || pp_fail "passsync: the fsync is no barrier"
pp_log "twin through a forwarding interposer: the fsync is a barrier"

# --- a real client ------------------------------------------------------------
# ostree commit under eatmydata: its object and ref fsyncs are swallowed.
if command -v ostree >/dev/null 2>&1; then
    ostree --repo="$PP_TMP/repo" init --mode=bare-user || pp_fail "ostree init failed"
    mkdir -p "$PP_TMP/tree/usr"
    echo hello >"$PP_TMP/tree/usr/hello"
    record ostree eatmydata ostree --repo="$PP_TMP/repo" commit -b t \
        --tree=dir="$PP_TMP/tree" --no-xattrs
    grep -Eq '^interposed: .*fsync.* by .*/libeatmydata\.so' "$PP_TMP/ostree.txt" ||
        { cat "$PP_TMP/ostree.txt"; pp_fail "ostree under eatmydata: no interposer reported"; }
    [ "$(jq .not_barriers "$PP_TMP/ostree.json")" -gt 0 ] ||
        { cat "$PP_TMP/ostree.txt"; pp_fail "ostree under eatmydata: no sync swallowed"; }
    pp_log "ostree commit under eatmydata: $(grep '^not barriers' "$PP_TMP/ostree.txt")"
fi
pp_log PASS
