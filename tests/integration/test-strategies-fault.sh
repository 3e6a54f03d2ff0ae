#!/bin/sh
# SPDX-License-Identifier: MIT
# [fault] on the strategies other than ostree (sim/strategy.h): the shim
# fails one call of the traced update (EIO on a write of the slot image,
# on an fsync of dpkg), and the campaign judges the device the failed
# update left, then retries the update on it, untraced and without the
# fault (sim/sim-fault.h):
#
#   ab: dd reports the EIO, the environment was never switched: the device
#     boots the old slot, complete, and the retry boots the new one
#     (exit 0);
#   update-mode, its failing twin: the same EIO leaves the only slot half
#     written: a brick, the campaign fails (exit 1), nothing to retry;
#   dpkg (the small Debian firmware): dpkg reports the EIO and backs out
#     of the unpack: v1 boots, complete; the retry installs v2;
#   twin of the retry's check: a retry that fails leaves ab stuck (exit 1);
#   a network fault with a slot strategy is a usage error (exit 2): those
#     updates download nothing; twin: the same scenario without it runs.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_cmd mke2fs
pp_need_cmd fw_setenv

fault_conf() {   # NAME STRATEGY RULE [EXTRA]
    printf '[scenario]\nname = %s\n[firmware]\npayload-kb = 256\n[update]\nstrategy = %s\n[fault]\ninject = %s\n%s[crash]\npoints = none\n' \
        "$1" "$2" "$3" "${4:-}" >"$PP_TMP/$1.conf"
}

# recovered NAME DIR: the client reported the fault, the device it left
# boots (pass), and the retry ran and boots the new version.
recovered() {
    f=$2/summary.json
    [ "$(jq -r .fault.end.outcome "$f")" = pass ] && [ "$(jq .fault.client_exit_status "$f")" -ne 0 ] &&
        [ "$(jq .fault.end.retried "$f")" = true ] && [ "$(jq -r .fault.end.retry_error "$f")" = null ] ||
        pp_fail "$1 under EIO: $(jq -c .fault "$f")"
}

# ab: the old slot boots, the retry ends on the new one
fault_conf ab-eio ab 'calls=write;nth=20;errno=EIO'
"$PP_BIN" sim --scenario "$PP_TMP/ab-eio.conf" --out "$PP_TMP/ab" >"$PP_TMP/ab.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/ab.log"; pp_fail "ab under EIO: exit $rc, want 0"; }
recovered ab "$PP_TMP/ab"
grep -q "boots the old version v1 from slot a); retry: boots the new version" "$PP_TMP/ab.log" ||
    pp_fail "ab under EIO: $(grep '^fault' "$PP_TMP/ab.log")"
pp_log "ab, EIO on the slot write: reported, the old slot boots, the retry boots the new one"

# Twin of the retry's check: a retry that fails (PLUGPULL_TEST_RETRY_FAILS
# runs `false` instead of the update) leaves the device on v1: stuck.
PLUGPULL_TEST_RETRY_FAILS=1 "$PP_BIN" sim --scenario "$PP_TMP/ab-eio.conf" --out "$PP_TMP/ab-stuck" >"$PP_TMP/ab-stuck.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] && [ "$(jq -r .fault.end.outcome "$PP_TMP/ab-stuck/summary.json")" = stuck ] ||
    pp_fail "ab with a failing retry: exit $rc: $(grep '^fault' "$PP_TMP/ab-stuck.log")"
pp_log "twin: a retry that fails is stuck (exit 1)"

# update-mode, the twin: a brick, no retry
fault_conf um-eio update-mode 'calls=write;nth=20;errno=EIO'
"$PP_BIN" sim --scenario "$PP_TMP/um-eio.conf" --out "$PP_TMP/um" >"$PP_TMP/um.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/um.log"; pp_fail "update-mode under EIO: exit $rc, want 1"; }
f=$PP_TMP/um/summary.json
[ "$(jq -r .fault.end.outcome "$f")" = brick ] && [ "$(jq .fault.end.retried "$f")" = false ] &&
    [ "$(jq .fault.failed "$f")" = true ] || pp_fail "update-mode under EIO: $(jq -c .fault "$f")"
pp_log "update-mode, the same EIO: a brick (exit 1), nothing to retry"

# a network fault: usage error; twin: the ab run above
fault_conf ab-net ab 'calls=write;nth=20;errno=EIO' 'network = drop:0.5
'
"$PP_BIN" sim --scenario "$PP_TMP/ab-net.conf" --out "$PP_TMP/abn" >"$PP_TMP/abn.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q "without network faults (nothing is downloaded)" "$PP_TMP/abn.log" ||
    pp_fail "ab with a network fault: exit $rc: $(cat "$PP_TMP/abn.log")"
pp_log "a network fault on a slot strategy is a usage error"

# dpkg on the small Debian firmware
fwdir=$PP_BUILD/firmware/debian-small
pp_small_firmware "$fwdir"
printf '[scenario]\nname = dpkg-eio\n[update]\nstrategy = dpkg\n[fault]\ninject = calls=fsync;nth=5;errno=EIO\n[crash]\npoints = none\n' >"$PP_TMP/dpkg-eio.conf"
"$PP_BIN" sim --scenario "$PP_TMP/dpkg-eio.conf" --repo "$fwdir/repo" --from 'firmware^' --to firmware \
    --out "$PP_TMP/dp" >"$PP_TMP/dp.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/dp.log"; pp_fail "dpkg under EIO: exit $rc, want 0"; }
recovered dpkg "$PP_TMP/dp"
pp_log "dpkg, EIO on an fsync: $(grep '^fault:' "$PP_TMP/dp.log" | sed 's/.*the device as left: //')"
