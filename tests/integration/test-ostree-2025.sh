#!/bin/sh
# SPDX-License-Identifier: MIT
# test-ostree-2025.sh: Debian 13's ostree 2025.2 as a second client under
# test (tools/ostree-2025.sh), and the fix of ostree#3392 seen in its trace.
#
# tools/ostree-2025.sh BUILD/ostree-2025 (reused when complete) must give a
# wrapper that reports version 2025.2 and leaves the host's packages alone
# (`dpkg -s ostree` and the apt lists the same before and after).  Then the
# same upgrade v1 -> v2 of a fixture device over HTTP is recorded under the
# shim with each client:
#   - 2025.2: the rename of boot/loader.tmp onto boot/loader is followed by
#     ioctl(FIFREEZE) (and FITHAW) on boot/ before the cleanup's first
#     unlink: the shim saw the 2025.2 process and its freeze (a barrier);
#   - 2022.7 (the failing twin, host's /usr/bin/ostree): the rename is
#     followed by fsync of boot/ and no freeze before the cleanup.
# Last, `plugpull sim --ostree WRAPPER --points sample:8` names the client
# 2025.2 and passes.
#
# Skips (77) when the Debian archive cannot be reached (the script's exit 3).
set -u
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_cmd apt-get dpkg-deb dpkg-query ostree
pp_need_build

script=$(cd "$(dirname "$0")/../.." && pwd)/tools/ostree-2025.sh
dir=$PP_BUILD/ostree-2025
wrapper=$dir/ostree

host_ostree() {
    dpkg-query -W -f '${Version}' ostree 2>/dev/null || echo none
}
host_lists() {
    ls -l --time-style=full-iso /var/lib/apt/lists 2>/dev/null | md5sum
}
before=$(host_ostree)
lists_before=$(host_lists)

# --- the private root -------------------------------------------------------
start=$(date +%s)
rc=0
sh "$script" "$dir" >"$PP_TMP/prepare.log" 2>&1 || rc=$?
cat "$PP_TMP/prepare.log"
case $rc in
0) ;;
3) pp_skip "Debian 13 archive unreachable: $(tail -1 "$PP_TMP/prepare.log")" ;;
*) pp_fail "tools/ostree-2025.sh exited $rc" ;;
esac
pp_log "private root ready in $(($(date +%s) - start)) s"

[ -x "$wrapper" ] || pp_fail "$wrapper missing"
"$wrapper" --version >"$PP_TMP/version" 2>&1 ||
    { cat "$PP_TMP/version"; pp_fail "$wrapper --version failed"; }
grep -q "Version: '2025\.2'" "$PP_TMP/version" ||
    { cat "$PP_TMP/version"; pp_fail "$wrapper is not version 2025.2"; }
pp_log "wrapper reports 2025.2"

after=$(host_ostree)
[ "$after" = "$before" ] || pp_fail "host ostree changed: $before -> $after"
[ "$(host_lists)" = "$lists_before" ] || pp_fail "the host's apt lists changed"
pp_log "host ostree still $after, host apt lists unchanged"

# --- the same upgrade, traced with each client ------------------------------
fx=$PP_TMP/fx
pp_fixture "$fx" --publish 2 --payload-kb 256
pp_serve "$fx/srv"

# upgrade NAME CLIENT: record `CLIENT admin upgrade` of a copy of the device;
# leaves $PP_TMP/NAME.txt (the dump).
upgrade() {
    name=$1
    client=$2
    sys=$PP_TMP/$name-sysroot
    cp -a "$fx/sysroot" "$sys" || pp_fail "copying the sysroot"
    ostree config --repo="$sys/ostree/repo" set 'remote "origin".url' "$PP_URL/repo" ||
        pp_fail "setting the remote URL"
    mkdir -p "$PP_TMP/$name-tmp"
    "$PP_BIN" trace record --out "$PP_TMP/$name.cfit" --userns -- \
        env OSTREE_SYSROOT_DEBUG=mutable-deployments TMPDIR="$PP_TMP/$name-tmp" \
        "$client" admin upgrade --sysroot="$sys" --os=plugpull \
        >"$PP_TMP/$name.log" 2>&1 ||
        { cat "$PP_TMP/$name.log"; pp_fail "$name: traced upgrade failed"; }
    "$PP_BIN" trace dump "$PP_TMP/$name.cfit" >"$PP_TMP/$name.txt" ||
        pp_fail "$name: trace dump failed"
}

# after_swap NAME: the calls from the loader rename to the cleanup's first
# successful unlink, one a line ("rename", "freeze", "thaw", "fsync"...).
after_swap() {
    awk '
        /renameat\(rename\) "[^"]*\/boot\/loader\.tmp" -> "[^"]*\/boot\/loader" = 0/ { on = 1 }
        on { op = $3; sub(/^[a-z_0-9]*\(/, "", op); sub(/\).*/, "", op); print op }
        on && /unlinkat\(unlink\) .* = 0/ { exit }
    ' "$PP_TMP/$1.txt"
}

upgrade new "$wrapper"
upgrade old /usr/bin/ostree

new_ops=$(after_swap new | tr '\n' ' ')
old_ops=$(after_swap old | tr '\n' ' ')
pp_log "2025.2 after the swap: $new_ops"
pp_log "2022.7 after the swap: $old_ops"

case $new_ops in
rename\ *) ;;
*) pp_fail "2025.2: no rename of boot/loader.tmp onto boot/loader in the trace" ;;
esac
case $new_ops in
*" freeze thaw "*"unlink "*) ;;
*) pp_fail "2025.2: no FIFREEZE/FITHAW between the loader rename and the cleanup" ;;
esac
grep -q "ioctl(freeze) .*\[.*DIR\]" "$PP_TMP/new.txt" ||
    pp_fail "2025.2: the freeze is not recorded on a directory"

case $old_ops in
"rename fsync "*) ;;
*) pp_fail "2022.7: the loader rename is not followed by fsync of boot/" ;;
esac
case $old_ops in
*freeze*) pp_fail "2022.7: a freeze after the loader rename (the twin must have none)" ;;
esac

# --- a short campaign names the client ---------------------------------------
"$PP_BIN" sim --ostree "$wrapper" --points sample:8 --resume-updates none \
    --out "$PP_TMP/sim" >"$PP_TMP/sim.log" 2>&1 ||
    { cat "$PP_TMP/sim.log"; pp_fail "sim with the 2025.2 client failed"; }
grep -q "^client: .* 2025\.2$" "$PP_TMP/sim.log" ||
    { cat "$PP_TMP/sim.log"; pp_fail "sim does not name the client 2025.2"; }
tail -1 "$PP_TMP/sim.log"
pp_log "pass"
