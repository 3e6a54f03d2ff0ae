#!/bin/sh
# SPDX-License-Identifier: MIT
# test-client-from-firmware: [client] from-firmware runs the device's own
# ostree, in a mount namespace whose root is the booted deployment of the
# device's sysroot (harness/common/client.h), under the shim.  Tested on the
# launcher directly (plugpull trace record --from-firmware SYSROOT, the
# same pp_client_run the sim tier calls) with the small Debian-built
# firmware (images/build-debian-firmware.sh --size small).
#
# The firmware cache: $PLUGPULL_FIRMWARE_SMALL, else BUILD/firmware/
# debian-small (DIR/repo, DIR/v1.commit, DIR/v2.commit); skipped without.
#
# Checks, each with a twin:
#   1. the /usr/bin/ostree the namespace runs is the tree's file (same
#      device and inode as DEPLOY/usr/bin/ostree, and so is the
#      libostree it loads: /proc/self/maps of the ostree process), and
#      `ostree --version` there prints the tree's version;
#      twin: the host client (no --from-firmware) is the host's
#      /usr/bin/ostree (its device and inode), not the tree's;
#   2. `ostree admin status` in the namespace (the default sysroot,
#      /sysroot) shows the booted deployment's commit (v1);
#   3. `ostree admin upgrade --sysroot=SYSROOT` (the host path, also
#      mounted at its own path inside) under the shim upgrades the device
#      to v2, and the trace names the host paths under SYSROOT (the root
#      the replay strips), none under /sysroot;
#   4. a device whose tree has no /usr/bin/ostree is refused (exit 2,
#      "the from tree has no /usr/bin/ostree").
. "$(dirname "$0")/lib.sh"
# The device lives under /dev/shm, not /var/tmp nor BUILD (a clone can be
# under /var too): a client path is mounted at its own path in the
# namespace, which cannot be under a top-level directory of the tree
# (/var, /usr, /home...).  The commands run from there too: the working
# directory is mounted the same way.
[ -n "${PP_TMPDIR:-}" ] || PP_TMPDIR=/dev/shm
pp_init "$@"
pp_need_build
[ "$(id -u)" = 0 ] || pp_skip "the firmware's owners need the all-ids namespace (root)"
unshare --user --map-root-user true 2>/dev/null ||
    pp_skip "user namespaces are not available (unshare -r failed)"
fw=${PLUGPULL_FIRMWARE_SMALL:-$PP_BUILD/firmware/debian-small}
# Built here when missing (cached: test-sim-firmware shares it).
[ -n "${PLUGPULL_FIRMWARE_SMALL:-}" ] || pp_small_firmware "$fw"
[ -f "$fw/v1.commit" ] && [ -d "$fw/repo" ] ||
    pp_fail "no small Debian firmware at $fw after building it"
v1=$(cat "$fw/v1.commit")
v2=$(cat "$fw/v2.commit")
pp=$PP_BIN

# --- the server and the device (as bench/firmware-record.sh) ----------------
mkdir -p "$PP_TMP/srv" "$PP_TMP/setup" "$PP_TMP/tmp"
srv=$PP_TMP/srv/repo
ostree --repo="$srv" init --mode=archive-z2
ostree --repo="$srv" pull-local "$fw/repo" "$v1" "$v2" >/dev/null
# The small firmware ships no ostree (minbase): graft the host's client
# and the libraries it needs that the tree lacks into both versions, as
# new commits of the served repo.  The full firmware ships its own.
if ! ostree --repo="$srv" ls "$v1" /usr/bin/ostree >/dev/null 2>&1; then
    ovl=$PP_TMP/graft
    mkdir -p "$ovl/usr/bin" "$ovl/usr/lib/x86_64-linux-gnu"
    cp /usr/bin/ostree "$ovl/usr/bin/ostree"
    for lib in $(ldd /usr/bin/ostree | awk '$3 ~ /^\// {print $3}'); do
        base=$(basename "$lib")
        ostree --repo="$srv" ls "$v1" "/usr/lib/x86_64-linux-gnu/$base" >/dev/null 2>&1 ||
            cp -L "$lib" "$ovl/usr/lib/x86_64-linux-gnu/$base"
    done
    for v in v1 v2; do
        eval "c=\$$v"
        n=$(ostree --repo="$srv" commit --orphan --no-bindings --owner-uid=0 --owner-gid=0 \
            --tree=ref="$c" --tree=dir="$ovl" -s "$v with ostree")
        eval "$v=\$n"
    done
    pp_log "the small firmware has no ostree: the host's 2022.7 grafted into v1 and v2"
fi
ostree --repo="$srv" refs --create=firmware "$v1"
ostree --repo="$srv" summary -u
"$pp" serve "$PP_TMP/srv" --port 0 --port-file "$PP_TMP/port" 2>"$PP_TMP/serve.log" &
PP_PIDS="$PP_PIDS $!"
i=0
while [ ! -s "$PP_TMP/port" ]; do
    i=$((i + 1)); [ "$i" -lt 100 ] || pp_fail "plugpull serve wrote no port"
    sleep 0.1
done
url=http://127.0.0.1:$(cat "$PP_TMP/port")/repo
sysroot=$PP_TMP/sysroot
repo=$sysroot/ostree/repo
n=0
device() {
    n=$((n + 1))
    "$pp" trace record --userns --data none --out "$PP_TMP/setup/$n.cfit" -- \
        env OSTREE_SYSROOT_DEBUG=mutable-deployments OSTREE_SYSROOT_OPTS=skip-sync \
        ostree "$@" >/dev/null 2>"$PP_TMP/setup/$n.err" ||
        { cat "$PP_TMP/setup/$n.err" >&2; pp_fail "device setup: ostree $*"; }
}
mkdir -p "$sysroot"
device admin init-fs "$sysroot"
device admin os-init --sysroot="$sysroot" debian
device config --repo="$repo" set sysroot.bootloader none
device remote add --repo="$repo" --no-gpg-verify origin "$url" firmware
device pull --repo="$repo" origin firmware
device admin deploy --sysroot="$sysroot" --os=debian --karg=rw origin:firmware
deploy=$sysroot/ostree/deploy/debian/deploy/$v1.0
[ -x "$deploy/usr/bin/ostree" ] || pp_fail "the firmware's v1 has no /usr/bin/ostree"
pp_log "device: v1 deployed from the small Debian firmware"

fwrun() {   # fwrun NAME COMMAND...: from-firmware, stdout to $PP_TMP/NAME.out
    name=$1; shift
    rm -f "$PP_TMP/$name.cfit"
    ( cd "$PP_TMP" && TMPDIR=$PP_TMP/tmp "$pp" trace record \
        --from-firmware "$sysroot" --out "$PP_TMP/$name.cfit" -- \
        "$@" >"$PP_TMP/$name.out" 2>"$PP_TMP/$name.err" )
}

# --- 1. the tree's ostree, and its libostree --------------------------------
probe='exec 3</usr/bin/ostree; stat -L -c "%d:%i" /usr/bin/ostree
/usr/bin/ostree --version | sed -n "s/^ *Version: *//p" | tr -d "'\''"
lib=$(LD_TRACE_LOADED_OBJECTS=1 /usr/bin/ostree | sed -n "s/.*libostree-1.so.1 => \([^ ]*\).*/\1/p")
stat -L -c "%d:%i" "$lib"'
fwrun probe /bin/sh -c "$probe" || { cat "$PP_TMP/probe.err" >&2; pp_fail "the probe failed in the namespace"; }
want_exe=$(stat -L -c '%d:%i' "$deploy/usr/bin/ostree")
want_lib=$(stat -L -c '%d:%i' "$deploy/usr/lib/x86_64-linux-gnu/libostree-1.so.1")
got_exe=$(sed -n 1p "$PP_TMP/probe.out")
got_ver=$(sed -n 2p "$PP_TMP/probe.out")
got_lib=$(sed -n 3p "$PP_TMP/probe.out")
[ "$got_exe" = "$want_exe" ] ||
    pp_fail "the namespace's /usr/bin/ostree is $got_exe, not the tree's $want_exe"
[ "$got_lib" = "$want_lib" ] ||
    pp_fail "the namespace's ostree loads libostree $got_lib, not the tree's $want_lib"
# The tree's package version: its dpkg database knows what it shipped.
status=""
for f in "$deploy/usr/share/dpkg/database/status" "$deploy/usr/lib/dpkg/status" \
         "$deploy/var/lib/dpkg/status" "$sysroot/ostree/deploy/debian/var/lib/dpkg/status"; do
    [ -f "$f" ] && { status=$f; break; }
done
pkgver=""
[ -z "$status" ] ||
    pkgver=$(awk '/^Package: libostree-1-1$/{p=1} p&&/^Version:/{print $2; exit}' "$status")
if [ -n "$pkgver" ]; then
    case "$pkgver" in
        "$got_ver"*) ;;
        *) pp_fail "ostree --version says '$got_ver', the tree's libostree-1-1 is '$pkgver'" ;;
    esac
    pp_log "1. /usr/bin/ostree and libostree are the tree's ($want_exe, $want_lib), version $got_ver (package $pkgver)"
else
    [ -n "$got_ver" ] || pp_fail "ostree --version printed no version"
    pp_log "1. /usr/bin/ostree and libostree are the tree's ($want_exe, $want_lib), version $got_ver"
fi
# twin: the host client
rm -f "$PP_TMP/host.cfit"
"$pp" trace record --userns --out "$PP_TMP/host.cfit" -- /bin/sh -c 'stat -L -c "%d:%i" /usr/bin/ostree' \
    >"$PP_TMP/host.out" 2>/dev/null || pp_fail "the host probe failed"
host_exe=$(stat -L -c '%d:%i' /usr/bin/ostree)
[ "$(cat "$PP_TMP/host.out")" = "$host_exe" ] && [ "$host_exe" != "$want_exe" ] ||
    pp_fail "twin: the host client is $(cat "$PP_TMP/host.out"), want the host's $host_exe (the tree's is $want_exe)"
pp_log "1. twin: without from-firmware the client is the host's /usr/bin/ostree ($host_exe)"

# --- 2. admin status at the default sysroot ---------------------------------
fwrun status /usr/bin/ostree admin status --sysroot=/sysroot ||
    { cat "$PP_TMP/status.err" >&2; pp_fail "ostree admin status failed in the namespace"; }
grep -q "$v1" "$PP_TMP/status.out" ||
    { cat "$PP_TMP/status.out" >&2; pp_fail "admin status in the namespace does not show v1"; }
pp_log "2. ostree admin status (/sysroot) in the namespace shows v1 ${v1%"${v1#????????????}"}"

# --- 3. the upgrade, traced: host paths --------------------------------------
ostree --repo="$srv" reset firmware "$v2"
ostree --repo="$srv" summary -u
rm -f "$PP_TMP/upgrade.cfit"
"$pp" trace record --from-firmware "$sysroot" --out "$PP_TMP/upgrade.cfit" -- \
    env OSTREE_BOOTID="$(cat /proc/sys/kernel/random/uuid)" TMPDIR=/tmp \
    OSTREE_SYSROOT_DEBUG=mutable-deployments \
    /usr/bin/ostree admin upgrade --sysroot="$sysroot" --os=debian \
    >"$PP_TMP/upgrade.out" 2>"$PP_TMP/upgrade.err" ||
    { cat "$PP_TMP/upgrade.out" "$PP_TMP/upgrade.err" >&2; pp_fail "the from-firmware upgrade failed"; }
[ -d "$sysroot/ostree/deploy/debian/deploy/$v2.0" ] ||
    pp_fail "the from-firmware upgrade did not deploy v2"
"$pp" trace dump "$PP_TMP/upgrade.cfit" >"$PP_TMP/upgrade.txt" 2>&1 ||
    pp_fail "plugpull trace dump failed: $(head -3 "$PP_TMP/upgrade.txt")"
nrec=$(grep -c "$sysroot/" "$PP_TMP/upgrade.txt")
[ "$nrec" -gt 100 ] || pp_fail "the trace names $nrec paths under $sysroot"
if grep -q "[\" ]/sysroot/" "$PP_TMP/upgrade.txt"; then
    pp_fail "the trace names namespace paths (/sysroot/...): $(grep -m1 '[" ]/sysroot/' "$PP_TMP/upgrade.txt")"
fi
pp_log "3. the tree's ostree upgraded the device to v2 under the shim: $nrec traced lines under the host sysroot, none under /sysroot"

# --- 4. a tree without ostree ------------------------------------------------
mv "$deploy/usr/bin/ostree" "$deploy/usr/bin/ostree.away"
rm -rf "$sysroot/ostree/deploy/debian/deploy/$v2.0/usr/bin/ostree"
rc=0
"$pp" trace record --from-firmware "$sysroot" --out "$PP_TMP/none.cfit" -- /usr/bin/ostree --version \
    >/dev/null 2>"$PP_TMP/none.err" || rc=$?
mv "$deploy/usr/bin/ostree.away" "$deploy/usr/bin/ostree"
[ "$rc" = 2 ] && grep -q "the from tree has no /usr/bin/ostree" "$PP_TMP/none.err" ||
    pp_fail "a tree without ostree: exit $rc, $(cat "$PP_TMP/none.err")"
pp_log "4. a tree without /usr/bin/ostree is refused (exit 2): $(cat "$PP_TMP/none.err")"
pp_log "PASS"
