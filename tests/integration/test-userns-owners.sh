#!/bin/sh
# SPDX-License-Identifier: MIT
# test-userns-owners: the user namespace a client runs in when plugpull
# runs as root maps every uid and gid 0..65535 to the same host id, so a
# firmware whose files have many owners is written with those owners; and
# it still has no power to freeze a host filesystem.
#
# Success checks, each with a failing twin that shows the check can fail:
#   1. in that namespace (plugpull trace record --userns), chown to 42:43
#      works and the host sees 42:43;
#      twin: in the root-only namespace (PLUGPULL_USERNS=root, what
#      `unshare -r` gives) the same chown fails with EINVAL;
#   2. in that namespace, FIFREEZE (tests/helpers/fifreeze, which never
#      goes through the shim) is refused with EPERM, on the host's root
#      filesystem and on a scratch ext4 image loop-mounted by the host;
#      twin: as real root outside any namespace, FIFREEZE of the scratch
#      image succeeds (thawed at once).  The host's root filesystem is never
#      frozen for real: outside a namespace the helper refuses to try it
#      (checked too).  Without loop devices the twin of 2 is skipped, said.
#   3. where that map cannot be had, the root-only one: as nobody, and as
#      root in a namespace that maps only itself.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd unshare
[ "$(id -u)" = 0 ] || pp_skip "the all-ids namespace needs plugpull to run as root"
unshare --user --map-root-user true 2>/dev/null ||
    pp_skip "user namespaces are not available (unshare -r failed)"
freeze=$PP_BUILD/tests/helpers/fifreeze
[ -x "$freeze" ] || pp_fail "$freeze missing (run make)"

mnt=""
cleanup() {
    if [ -n "$mnt" ] && mountpoint -q "$mnt"; then
        umount "$mnt" || echo "$PP_NAME: umount $mnt failed" >&2
    fi
    pp_cleanup
}
trap cleanup EXIT

n=0
ns_run() {
    n=$((n + 1))
    "$PP_BIN" trace record --userns --out "$PP_TMP/trace.$n" -- "$@" \
        >"$PP_TMP/out" 2>"$PP_TMP/err"
}

# --- 1. owners -----------------------------------------------------------
f=$PP_TMP/owned
touch "$f"
ns_run sh -c 'cat /proc/self/uid_map; exec chown 42:43 "$1"' sh "$f" ||
    pp_fail "chown 42:43 in the all-ids namespace failed: $(cat "$PP_TMP/err")"
grep -q '^ *0 *0 *65536$' "$PP_TMP/out" ||
    pp_fail "the namespace's uid_map is not 0 0 65536: $(cat "$PP_TMP/out")"
[ "$(stat -c %u:%g "$f")" = 42:43 ] ||
    pp_fail "the host sees $(stat -c %u:%g "$f"), not 42:43"
pp_log "all-ids namespace: uid_map 0 0 65536, chown 42:43 kept on the host"

g=$PP_TMP/owned-twin
touch "$g"
PLUGPULL_USERNS=root
export PLUGPULL_USERNS
if ns_run chown 42:43 "$g"; then
    pp_fail "twin: chown 42:43 worked in the root-only namespace"
fi
unset PLUGPULL_USERNS
grep -q 'Invalid argument' "$PP_TMP/err" ||
    pp_fail "twin: chown failed, but not with EINVAL: $(cat "$PP_TMP/err")"
[ "$(stat -c %u:%g "$g")" = 0:0 ] || pp_fail "twin: owner changed anyway"
pp_log "twin: root-only namespace (unshare -r): chown 42:43 fails with EINVAL"

# --- 2. FIFREEZE ---------------------------------------------------------
# The helper's own guard: outside a namespace it never tries the root fs.
"$freeze" / >"$PP_TMP/out" 2>&1
rc=$?
[ "$rc" = 3 ] || pp_fail "fifreeze / as real root: exit $rc, not 3 (refusing): $(cat "$PP_TMP/out")"

ns_run "$freeze" /
rc=$?
[ "$rc" = 1 ] && grep -q 'refused: EPERM' "$PP_TMP/out" ||
    pp_fail "FIFREEZE of / in the namespace: exit $rc: $(cat "$PP_TMP/out" "$PP_TMP/err")"
pp_log "all-ids namespace: FIFREEZE of the host's root filesystem refused (EPERM)"

img=$PP_TMP/scratch.ext4
mnt=$PP_TMP/scratch
mkdir "$mnt"
if command -v mkfs.ext4 >/dev/null 2>&1 &&
   truncate -s 16M "$img" && mkfs.ext4 -q -F "$img" >/dev/null 2>&1 &&
   mount -o loop "$img" "$mnt" 2>/dev/null; then
    ns_run "$freeze" "$mnt"
    rc=$?
    [ "$rc" = 1 ] && grep -q 'refused: EPERM' "$PP_TMP/out" ||
        pp_fail "FIFREEZE of the scratch fs in the namespace: exit $rc: $(cat "$PP_TMP/out" "$PP_TMP/err")"
    pp_log "all-ids namespace: FIFREEZE of a host-mounted scratch ext4 refused (EPERM)"
    "$freeze" "$mnt" >"$PP_TMP/out" 2>&1 ||
        pp_fail "twin: real root could not freeze the scratch fs: $(cat "$PP_TMP/out")"
    grep -q 'froze and thawed' "$PP_TMP/out" || pp_fail "twin: $(cat "$PP_TMP/out")"
    touch "$mnt/after-thaw" || pp_fail "twin: the scratch fs is not writable after the thaw"
    pp_log "twin: real root froze and thawed the scratch ext4 (the helper can freeze)"
else
    pp_log "twin of the FIFREEZE check skipped: no loop-mounted scratch ext4 here"
fi
# --- 3. where the all-ids map cannot be had: the root-only one -------------
# Not root (setpriv to nobody), and root in a namespace that maps only
# itself (a container): uid_map shows one id.
chmod 0755 "$PP_TMP"
mkdir -m 0777 "$PP_TMP/open"
if command -v setpriv >/dev/null 2>&1 &&
   setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$PP_BIN"; then
    setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$PP_BIN" trace record --userns --out "$PP_TMP/open/nobody.cfit" -- \
        cat /proc/self/uid_map >"$PP_TMP/out" 2>"$PP_TMP/err" ||
        pp_fail "as nobody: $(cat "$PP_TMP/err")"
    grep -q '^ *0 *65534 *1$' "$PP_TMP/out" ||
        pp_fail "as nobody, uid_map is not 0 65534 1: $(cat "$PP_TMP/out")"
    pp_log "not root: the root-only map (uid_map 0 65534 1)"
else
    pp_log "not-root check skipped: setpriv missing or $PP_BIN not readable by nobody"
fi
unshare --user --map-root-user -- \
    "$PP_BIN" trace record --userns --out "$PP_TMP/nested.cfit" -- \
    cat /proc/self/uid_map >"$PP_TMP/out" 2>"$PP_TMP/err" ||
    pp_fail "in a root-only namespace: $(cat "$PP_TMP/err")"
grep -q '^ *0 *0 *1$' "$PP_TMP/out" ||
    pp_fail "in a root-only namespace, uid_map is not 0 0 1: $(cat "$PP_TMP/out")"
pp_log "root in a namespace mapping only itself: the root-only map"
pp_log "ok"
