#!/bin/sh
# SPDX-License-Identifier: MIT
# build-image.sh: build the VM tier's device image from Debian packages,
# without root mounts and without touching the host's /boot.
#
#   images/build-image.sh --out DIR [--payload-kb N] [--disk-mb N]
#                         [--cache DIR] [--plugpull BIN] [--shim SO]
#                         [--no-client]
#
# What it makes in DIR (see images/README.md for the whole story):
#
#   disk.img        MBR, one bootable ext4 partition (label "root") at 1 MiB
#                   holding an ostree sysroot with v1 deployed, U-Boot
#                   backend (boot/loader -> loader.0/uEnv.txt), and
#                   /boot/boot.scr for U-Boot's distro boot
#   srv/repo        archive repo: v1..v3 on plugpull/device (ref at v1)
#   trees/v1..v3    the committed trees
#   sysroot/        the sysroot disk.img was made from
#   manifest.json   what was built: kver, commits, deployment, timings
#
# Inputs are cached under --cache (default: build/image-cache next to the
# --plugpull binary): the downloaded .debs, the kernel and module closure
# extracted from them, the initramfs.  DIR is reused as it is when the key
# of every input (scripts, packages, host binaries, plugpull) is unchanged.
#
# Exit status: 0 built (or up to date), 2 a package or host tool is
# missing (the message names the Debian package), 3 the build failed.
#
# Host safety: ostree admin runs only inside a user namespace (unshare -r)
# with OSTREE_SYSROOT_DEBUG=mutable-deployments and
# OSTREE_SYSROOT_OPTS=skip-sync; nothing is written outside DIR and the
# cache directory; no package is installed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
t_start=$(date +%s.%N)

out=""
payload_kb=2048
disk_mb=512
cache=""
plugpull=""
shim=""
with_client=1

die() {
    echo "build-image: $*" >&2
    exit 3
}

missing() {
    echo "build-image: missing: $*" >&2
    exit 2
}

usage() {
    sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --out) out=${2:?}; shift 2 ;;
    --payload-kb) payload_kb=${2:?}; shift 2 ;;
    --disk-mb) disk_mb=${2:?}; shift 2 ;;
    --cache) cache=${2:?}; shift 2 ;;
    --plugpull) plugpull=${2:?}; shift 2 ;;
    --shim) shim=${2:?}; shift 2 ;;
    --no-client) with_client=0; shift ;;
    -h | --help) usage ;;
    *) echo "build-image: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ -n "$out" ] || { echo "build-image: --out DIR is required" >&2; exit 2; }
case "$payload_kb" in '' | *[!0-9]*) echo "build-image: --payload-kb: not a number" >&2; exit 2 ;; esac
case "$disk_mb" in '' | *[!0-9]*) echo "build-image: --disk-mb: not a number" >&2; exit 2 ;; esac
[ "$disk_mb" -ge 64 ] || { echo "build-image: --disk-mb: at least 64" >&2; exit 2; }

if [ -z "$plugpull" ]; then
    plugpull=$here/../build/plugpull
fi
[ -x "$plugpull" ] || die "$plugpull: not an executable (run make, or pass --plugpull)"
plugpull=$(cd "$(dirname "$plugpull")" && pwd)/$(basename "$plugpull")
if [ -z "$shim" ] && [ -f "$(dirname "$plugpull")/libcfaultinject.so" ]; then
    shim=$(dirname "$plugpull")/libcfaultinject.so
fi
if [ -z "$cache" ]; then
    cache=$(dirname "$plugpull")/image-cache
fi
mkdir -p "$out" "$cache" || die "mkdir $out $cache failed"
out=$(cd "$out" && pwd)
cache=$(cd "$cache" && pwd)

OSNAME=plugpull
FIXTURE_KVER=6.1.0-plugpull        # harness/server/fixture.h PP_FIXTURE_KVER
REF=plugpull/device
KARGS="--karg=root=/dev/vda1 --karg=rw"
# The guest reaches the host's 127.0.0.1 through QEMU user networking at
# 10.0.2.2; the orchestrator sets the port (ostree remote add --force or
# config set remote "origin".url).
REMOTE_URL=http://10.0.2.2:8080/repo
MODULES="virtio_pci virtio_blk crc32c_generic ext4 virtio_net virtio_console"

log() {
    echo "build-image: $*" >&2
}

now() {
    date +%s.%N
}

elapsed() {
    # elapsed START: seconds since START, one decimal
    awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'
}

sha() {
    sha256sum "$@" | awk '{ print $1 }'
}

# --- host tools: COMMAND:PACKAGE ----------------------------------------
for pair in apt-get:apt apt-cache:apt dpkg-deb:dpkg ostree:ostree \
    busybox:busybox-static mkimage:u-boot-tools mke2fs:e2fsprogs \
    debugfs:e2fsprogs sfdisk:fdisk depmod:kmod modprobe:kmod cpio:cpio \
    gzip:gzip lz4:lz4 unshare:util-linux ldd:libc-bin sha256sum:coreutils; do
    c=${pair%%:*}
    p=${pair#*:}
    PATH=$PATH:/usr/sbin:/sbin command -v "$c" >/dev/null 2>&1 ||
        missing "package $p (command $c)"
done
PATH=$PATH:/usr/sbin:/sbin
BUSYBOX=$(command -v busybox)
busybox | head -1 | grep -q . || die "busybox does not run"
if ! file_is_static=$(ldd "$BUSYBOX" 2>&1); then :; fi
case "$file_is_static" in
*"not a dynamic executable"* | *"statically linked"*) ;;
*) missing "package busybox-static ($BUSYBOX is not static)" ;;
esac

# --- 1. packages: the Debian kernel and ostree-boot, cached ---------------
debs=$cache/debs
mkdir -p "$debs"

# fetch_deb PACKAGE: the path of PACKAGE's .deb in the cache, downloaded
# with apt-get download when the cache has no .deb of the candidate version.
fetch_deb() {
    pkg=$1
    ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2 }')
    if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
        # No apt lists (offline): take a cached .deb of any version.
        f=$(ls "$debs/${pkg}_"*.deb 2>/dev/null | tail -1)
        [ -n "$f" ] || missing "package $pkg (apt-cache knows no candidate; run apt-get update)"
        echo "$f"
        return
    fi
    # apt-get download writes NAME_VERSION_ARCH.deb, ':' as %3a.
    fver=$(echo "$ver" | sed 's/:/%3a/g')
    f=$(ls "$debs/${pkg}_${fver}_"*.deb 2>/dev/null | tail -1)
    if [ -z "$f" ]; then
        log "downloading $pkg $ver"
        (cd "$debs" && apt-get download -q "$pkg=$ver" >/dev/null 2>"$debs/apt.err") ||
            missing "package $pkg $ver (apt-get download failed: $(tail -1 "$debs/apt.err"))"
        f=$(ls "$debs/${pkg}_${fver}_"*.deb 2>/dev/null | tail -1)
        [ -n "$f" ] || die "apt-get download $pkg left no .deb in $debs"
    fi
    echo "$f"
}

t0=$(now)
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9].*-amd64$/ { print $2; exit }')
if [ -z "$kpkg" ]; then
    kpkg=$(ls "$debs"/linux-image-*-amd64_*.deb 2>/dev/null | tail -1 | xargs -r basename | cut -d_ -f1)
fi
[ -n "$kpkg" ] || missing "package linux-image-amd64 (no linux-image-6.1.0-*-amd64 known to apt-cache; run apt-get update)"
kdeb=$(fetch_deb "$kpkg")
obdeb=$(fetch_deb ostree-boot)
t_fetch=$(elapsed "$t0")

# --- 2. kernel and module closure, keyed by the .deb ---------------------
t0=$(now)
kkey=$(printf '%s\n%s\n' "$(sha "$kdeb")" "$MODULES" | sha | cut -c1-16)
kdir=$cache/kernel-$kkey
kernel_cached=yes
if [ ! -f "$kdir/done" ]; then
    kernel_cached=no
    log "extracting $(basename "$kdeb")"
    rm -rf "$kdir" "$kdir.tmp"
    mkdir -p "$kdir.tmp/x"
    dpkg-deb -x "$kdeb" "$kdir.tmp/x" || die "dpkg-deb -x $kdeb failed"
    kver=$(ls "$kdir.tmp/x/lib/modules")
    [ -n "$kver" ] && [ -f "$kdir.tmp/x/boot/vmlinuz-$kver" ] || die "$kdeb: no boot/vmlinuz-KVER"
    depmod -b "$kdir.tmp/x" "$kver" || die "depmod -b $kdir.tmp/x $kver failed"
    mdir=$kdir.tmp/modules/lib/modules/$kver
    mkdir -p "$mdir"
    cp "$kdir.tmp/x/lib/modules/$kver/modules.order" \
        "$kdir.tmp/x/lib/modules/$kver/modules.builtin" \
        "$kdir.tmp/x/lib/modules/$kver/modules.builtin.modinfo" "$mdir/"
    : >"$kdir.tmp/modules.load"
    for m in $MODULES; do
        # A module built in (=y) needs no file; modprobe prints "builtin".
        modprobe -d "$kdir.tmp/x" -S "$kver" --show-depends "$m" >"$kdir.tmp/deps" 2>&1 ||
            die "module $m: $(cat "$kdir.tmp/deps")"
        while read -r verb path _; do
            [ "$verb" = insmod ] || continue
            rel=${path#"$kdir.tmp/x/"}
            mkdir -p "$kdir.tmp/modules/$(dirname "$rel")"
            cp "$path" "$kdir.tmp/modules/$rel"
        done <"$kdir.tmp/deps"
        echo "$m" >>"$kdir.tmp/modules.load"
    done
    depmod -b "$kdir.tmp/modules" "$kver" || die "depmod of the module closure failed"
    cp "$kdir.tmp/x/boot/vmlinuz-$kver" "$kdir.tmp/vmlinuz"
    cp "$kdir.tmp/x/boot/config-$kver" "$kdir.tmp/config"
    echo "$kver" >"$kdir.tmp/kver"
    rm -rf "$kdir.tmp/x" "$kdir.tmp/deps"
    touch "$kdir.tmp/done"
    mv "$kdir.tmp" "$kdir"
fi
kver=$(cat "$kdir/kver")

obkey=$(sha "$obdeb" | cut -c1-16)
obdir=$cache/ostree-boot-$obkey
if [ ! -f "$obdir/done" ]; then
    rm -rf "$obdir" "$obdir.tmp"
    mkdir -p "$obdir.tmp/x"
    dpkg-deb -x "$obdeb" "$obdir.tmp/x" || die "dpkg-deb -x $obdeb failed"
    [ -x "$obdir.tmp/x/usr/lib/ostree/ostree-prepare-root" ] ||
        die "$obdeb has no usr/lib/ostree/ostree-prepare-root"
    cp "$obdir.tmp/x/usr/lib/ostree/ostree-prepare-root" "$obdir.tmp/"
    rm -rf "$obdir.tmp/x"
    touch "$obdir.tmp/done"
    mv "$obdir.tmp" "$obdir"
fi
prepare_root=$obdir/ostree-prepare-root
t_kernel=$(elapsed "$t0")

# copy_closure ROOT BINARY...: copy the shared libraries BINARY needs (ldd)
# into ROOT at their host paths, plus the dynamic loader.
copy_closure() {
    croot=$1
    shift
    for b in "$@"; do
        ldd "$b" >"$croot.ldd" 2>&1 || die "ldd $b: $(cat "$croot.ldd")"
        if grep -q 'not found' "$croot.ldd"; then
            die "ldd $b: $(grep 'not found' "$croot.ldd" | head -1)"
        fi
        awk '/=> \// { print $3 } /^[[:space:]]*\/[^ ]*ld-linux/ { print $1 }' "$croot.ldd" |
            while read -r lib; do
                dest=$croot$lib
                [ -e "$dest" ] && continue
                mkdir -p "$(dirname "$dest")"
                cp -L "$lib" "$dest"
            done
    done
    rm -f "$croot.ldd"
}

# deterministic_cpio DIR OUT: a newc archive of DIR, fixed mtimes, lz4
# (legacy format, the one the kernel reads).  The kernel unpacks lz4 in
# about 0.15 s less than gzip -6 under TCG (counted with -icount: guest
# instructions to /init 0.87 s instead of 1.02 s); the image is 5.0 MB
# instead of 4.3 MB, about 0.02 s more per initramfs for ostree fsck to
# hash.  The kernel accepts concatenated lz4 streams (the K1/K2 stamp
# below).
deterministic_cpio() {
    (cd "$1" &&
        find . -exec touch -h -d @1704067200 {} + &&
        find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
        lz4 -l -9 -q >"$2.tmp" || die "cpio of $1 failed"
    mv "$2.tmp" "$2"
}

# --- 3. initramfs, keyed by its inputs -----------------------------------
t0=$(now)
# INITRAMFS_LAYOUT: what this script puts in the initramfs and how (lz4,
# no /sbin/modprobe); change it with them, the inputs below do not show it.
INITRAMFS_LAYOUT="lz4 no-sbin-modprobe"
ikey=$( {
    echo "$kkey $INITRAMFS_LAYOUT"
    sha "$BUSYBOX" "$prepare_root" "$here/initramfs-init"
    ldd "$prepare_root" | awk '/=> \// { print $3 }' | xargs sha256sum | awk '{ print $1 }'
} | sha | cut -c1-16)
initramfs=$cache/initramfs-$ikey.img
initramfs_cached=yes
if [ ! -f "$initramfs" ]; then
    initramfs_cached=no
    log "building the initramfs"
    st=$cache/initramfs-$ikey.staging
    rm -rf "$st"
    mkdir -p "$st/bin" "$st/dev" "$st/proc" "$st/sys" "$st/run" "$st/sysroot" \
        "$st/tmp" "$st/etc" "$st/usr/lib/ostree" "$st/lib"
    ln -s bin "$st/sbin"
    ln -s ../bin "$st/usr/bin"
    ln -s ../bin "$st/usr/sbin"
    cp "$BUSYBOX" "$st/bin/busybox"
    for a in $("$BUSYBOX" --list); do
        [ -e "$st/bin/$a" ] || ln -s busybox "$st/bin/$a"
    done
    # No /sbin/modprobe: /init loads every module itself (busybox
    # modprobe), and a request_module() of the kernel's own before the
    # switch_root (the CTR-KDF self-test asks for crypto-hmac(sha256),
    # which is built in) then fails at once instead of running busybox
    # twice under TCG: 0.15 s -> 0.02 s from the initramfs unpacked to
    # the self-test's end; kernel start to /init 1.46 s -> 1.40 s
    # (medians of 4 interleaved boots).
    rm -f "$st/bin/modprobe"
    cp -a "$kdir/modules/lib/modules" "$st/lib/"
    cp "$kdir/modules.load" "$st/etc/plugpull-modules"
    cp "$prepare_root" "$st/usr/lib/ostree/ostree-prepare-root"
    copy_closure "$st" "$prepare_root"
    cp "$here/initramfs-init" "$st/init"
    chmod 0755 "$st/init"
    printf 'NAME=plugpull-initramfs\nID=plugpull\n' >"$st/etc/initrd-release"
    deterministic_cpio "$st" "$initramfs"
    rm -rf "$st"
fi

# The two kernels of the fixture's story (K1 in v1, K2 in v2 and v3):
# the same vmlinuz and initramfs, plus a second cpio member naming K1 or
# K2, so that v2's boot checksum differs (a boot config change, loader swap).
for k in 1 2; do
    f=$cache/initramfs-$ikey-K$k.img
    [ -f "$f" ] && continue
    st=$cache/stamp-K$k.staging
    rm -rf "$st"
    mkdir -p "$st/etc"
    echo "K$k" >"$st/etc/plugpull-kernel"
    deterministic_cpio "$st" "$st.img"
    cat "$initramfs" "$st.img" >"$f.tmp"
    mv "$f.tmp" "$f"
    rm -rf "$st" "$st.img"
done
t_initramfs=$(elapsed "$t0")

# --- 4. the fixture's trees (plugpull fixture) ---------------------------
# They are deterministic (fixed seed, timestamps, owners), so their commit
# checksums stand for plugpull's fixture code, busybox and the payload size
# in the image key below: a rebuilt plugpull binary alone invalidates
# nothing.
t0=$(now)
work=$out/work
rm -rf "$work"
mkdir -p "$work"
"$plugpull" fixture --out "$work/fixture" --no-sysroot --payload-kb "$payload_kb" \
    >"$work/fixture.json" 2>"$work/fixture.err" ||
    die "plugpull fixture failed: $(tail -3 "$work/fixture.err")"
fixture_commits=$(tr -d ' \n' <"$work/fixture.json" | sed 's/.*"commits":\[\([^]]*\)\].*/\1/')

client_key=none
if [ "$with_client" = 1 ]; then
    client_key=$(ldd "$(command -v ostree)" | awk '/=> \// { print $3 }' |
        xargs sha256sum "$(command -v ostree)" | sha)
fi
shim_key=none
[ -n "$shim" ] && shim_key=$(sha "$shim")
image_key=$( {
    echo "$ikey $payload_kb $disk_mb $client_key $shim_key $REMOTE_URL $KARGS"
    echo "$fixture_commits"
    sha "$here/build-image.sh" "$here/guest-init" "$here/guest-fsck.c" "$here/boot.cmd" "$BUSYBOX"
} | sha | cut -c1-16)
if [ -f "$out/manifest.json" ] && [ -f "$out/disk.img" ] &&
    grep -q "\"image_key\": \"$image_key\"" "$out/manifest.json"; then
    rm -rf "$work"
    log "$out is up to date (key $image_key)"
    cat "$out/manifest.json"
    exit 0
fi
rm -rf "$out/trees" "$out/srv" "$out/sysroot" "$out/disk.img" "$out/manifest.json"
mkdir -p "$out/trees" "$out/srv"

# --- 5. image trees v1..v3 and the archive repo --------------------------
# What every version adds to the fixture's tree (the "base", shared and
# hard-linked into every tree): the real kernel and its modules,
# /sbin/init, the ostree client with its library closure, the shim.
# Trees are committed into a bare-user build repo (hashing only, no
# compression), and the archive repo is filled from it by one pull-local,
# so each object is compressed once; the sysroot pulls from the build repo
# too.  trees/vN are kept: they are what the commits hold.
base=$work/base
mkdir -p "$base/usr/bin" "$base/usr/lib/modules/$kver" "$base/usr/lib/plugpull"
cp "$here/guest-init" "$base/usr/bin/init"
chmod 0755 "$base/usr/bin/init"
cp "$kdir/vmlinuz" "$base/usr/lib/modules/$kver/vmlinuz"
cp -a "$kdir/modules/lib/modules/$kver/." "$base/usr/lib/modules/$kver/"
if [ "$with_client" = 1 ]; then
    cp "$(command -v ostree)" "$base/usr/bin/ostree"
    mkdir -p "$work/closure"
    copy_closure "$work/closure" "$(command -v ostree)"
    # Host paths /lib/x86_64-linux-gnu and /lib64 live under usr/ in the
    # tree (lib -> usr/lib; lib64 -> usr/lib64).
    [ -d "$work/closure/lib" ] && cp -a "$work/closure/lib/." "$base/usr/lib/"
    [ -d "$work/closure/lib64" ] && mkdir -p "$base/usr/lib64" &&
        cp -a "$work/closure/lib64/." "$base/usr/lib64/"
    [ -d "$work/closure/usr/lib" ] && cp -a "$work/closure/usr/lib/." "$base/usr/lib/"
    rm -rf "$work/closure"
    # The verdict's repo check (guest-fsck.c: fsck's walk, hashing only
    # what is not in the image as built), against the client's own
    # libostree.  Without a compiler or libostree's headers the image has
    # none, and the verdict runs `ostree fsck` of the whole repo.
    if command -v cc >/dev/null && pkg-config --exists ostree-1 2>/dev/null; then
        # shellcheck disable=SC2046
        cc -std=gnu11 -O2 -o "$base/usr/lib/plugpull/guest-fsck" "$here/guest-fsck.c" \
            $(pkg-config --cflags --libs ostree-1) >"$work/guest-fsck.log" 2>&1 ||
            die "building guest-fsck failed: $(tail -3 "$work/guest-fsck.log")"
    else
        log "no cc or no ostree-1 headers: the verdict will hash the whole repo (ostree fsck)"
    fi
fi
if [ -n "$shim" ]; then
    cp "$shim" "$base/usr/lib/plugpull/libcfaultinject.so"
fi
find "$base" -exec touch -h -d @1704067200 {} +

build_repo=$work/repo
ostree --repo="$build_repo" init --mode=bare-user || die "ostree init $build_repo failed"
for v in 1 2 3; do
    tree=$out/trees/v$v
    cp -al "$base" "$tree"
    cp -a "$work/fixture/trees/v$v/." "$tree/"
    rm -rf "$tree/usr/lib/modules/$FIXTURE_KVER"
    [ -e "$tree/lib64" ] || [ -L "$tree/lib64" ] || ln -s usr/lib64 "$tree/lib64"
    for a in $("$BUSYBOX" --list); do
        [ -e "$tree/usr/bin/$a" ] || [ -L "$tree/usr/bin/$a" ] || ln -s busybox "$tree/usr/bin/$a"
    done
    k=1
    [ "$v" -ge 2 ] && k=2
    cp "$cache/initramfs-$ikey-K$k.img" "$tree/usr/lib/modules/$kver/initramfs.img"
    sed -i "s/^PRETTY_NAME=.*/PRETTY_NAME=\"plugpull image $v\"/" "$tree/usr/lib/os-release"
    csum=$(ostree --repo="$build_repo" commit --bootable --owner-uid=0 --owner-gid=0 \
        --no-xattrs "--timestamp=2024-01-0$v 00:00:00 +0000" \
        "--add-metadata-string=version=$v" "--subject=plugpull image v$v" \
        "--tree=dir=$tree" "--branch=$REF") ||
        die "ostree commit v$v failed"
    eval "commit_v$v=$csum"
done
srv_repo=$out/srv/repo
{
    ostree --repo="$srv_repo" init --mode=archive &&
        ostree --repo="$srv_repo" pull-local --depth=-1 "$build_repo" "$REF"
} >"$work/srv.log" 2>&1 || die "filling $srv_repo failed: $(tail -3 "$work/srv.log")"
# The ref (branch) points at v1 in both repos, as in the fixture; v2 and
# v3 stay in the archive repo's history.
ostree --repo="$srv_repo" reset "$REF" "$commit_v1" || die "ostree reset $REF failed"
ostree --repo="$build_repo" reset "$REF" "$commit_v1" || die "ostree reset $REF failed"
ostree --repo="$srv_repo" summary -u || die "ostree summary -u failed"
rm -rf "$work/fixture" "$base"
t_trees=$(elapsed "$t0")

# --- 6. the sysroot, v1 deployed -----------------------------------------
t0=$(now)
sysroot=$out/sysroot
mkdir -p "$sysroot"
ns() {
    OSTREE_SYSROOT_DEBUG=mutable-deployments OSTREE_SYSROOT_OPTS=skip-sync \
        unshare --user --map-root-user -- "$@"
}
srepo=$sysroot/ostree/repo
{
    ns ostree admin init-fs "$sysroot" &&
        ns ostree admin os-init "--sysroot=$sysroot" "$OSNAME" &&
        ns ostree "--repo=$srepo" config set sysroot.bootloader uboot &&
        mkdir -p "$sysroot/boot/loader.0" && : >"$sysroot/boot/loader.0/uEnv.txt" &&
        ln -s loader.0 "$sysroot/boot/loader" &&
        ns ostree "--repo=$srepo" remote add --no-gpg-verify origin "$REMOTE_URL" "$REF" &&
        ns ostree "--repo=$srepo" pull-local --remote=origin "$build_repo" "$REF" &&
        # shellcheck disable=SC2086
        ns ostree admin deploy "--sysroot=$sysroot" "--os=$OSNAME" $KARGS "origin:$REF"
} >"$work/sysroot.log" 2>&1 || die "making the sysroot failed: $(tail -3 "$work/sysroot.log")"
mkimage -A x86 -O linux -T script -C none -n plugpull -d "$here/boot.cmd" \
    "$sysroot/boot/boot.scr" >"$work/mkimage.log" 2>&1 ||
    die "mkimage boot.scr failed: $(cat "$work/mkimage.log")"
# The objects of the repo as built, verified here, for guest-fsck: it
# hashes only what is not in this list (an update's, a resume's objects).
if [ -x "$out/trees/v1/usr/lib/plugpull/guest-fsck" ]; then
    ostree "--repo=$srepo" fsck -q >"$work/fsck.log" 2>&1 ||
        die "ostree fsck of the image's repo failed: $(tail -3 "$work/fsck.log")"
    mkdir -p "$sysroot/plugpull"
    (cd "$srepo/objects" && find . -type f -o -type l) | sed 's|^\./||' | LC_ALL=C sort \
        >"$sysroot/plugpull/objects.baseline"
fi
deployment=$(basename "$(ls -d "$sysroot/ostree/deploy/$OSNAME/deploy/"*.[0-9]* | grep -v '\.origin$' | head -1)")
[ "${deployment%.*}" = "$commit_v1" ] || die "deployed $deployment, expected v1 $commit_v1"
bootcsum_dir=$(basename "$(ls -d "$sysroot/boot/ostree/$OSNAME-"* | head -1)")
t_sysroot=$(elapsed "$t0")

# --- 7. the disk: MBR + ext4 written at the partition's offset -----------
t0=$(now)
disk=$out/disk.img
part_start=2048                       # sectors: 1 MiB
part_kb=$(((disk_mb - 1) * 1024))
rm -f "$disk.tmp"
truncate -s "${disk_mb}M" "$disk.tmp"
printf 'label: dos\nstart=%s, type=83, bootable\n' "$part_start" |
    sfdisk --quiet "$disk.tmp" >"$work/sfdisk.log" 2>&1 ||
    die "sfdisk $disk.tmp failed: $(cat "$work/sfdisk.log")"
mke2fs -q -F -t ext4 -L root -d "$sysroot" -E "offset=$((part_start * 512)),root_owner=0:0" \
    "$disk.tmp" "${part_kb}k" >"$work/mke2fs.log" 2>&1 ||
    die "mke2fs -d $sysroot failed: $(cat "$work/mke2fs.log")"
mv "$disk.tmp" "$disk"
t_disk=$(elapsed "$t0")
rm -rf "$work"

t_total=$(elapsed "$t_start")
cat >"$out/manifest.json.tmp" <<EOF
{
  "image_key": "$image_key",
  "disk": "$disk",
  "partition_offset": $((part_start * 512)),
  "disk_mb": $disk_mb,
  "kernel_package": "$(basename "$kdeb")",
  "ostree_boot_package": "$(basename "$obdeb")",
  "kver": "$kver",
  "osname": "$OSNAME",
  "ref": "$REF",
  "remote_url": "$REMOTE_URL",
  "srv_repo": "$srv_repo",
  "sysroot": "$sysroot",
  "commits": ["$commit_v1", "$commit_v2", "$commit_v3"],
  "trees": ["$out/trees/v1", "$out/trees/v2", "$out/trees/v3"],
  "deployment": "$deployment",
  "bootcsum_dir": "$bootcsum_dir",
  "payload_kb": $payload_kb,
  "client": $([ "$with_client" = 1 ] && echo true || echo false),
  "shim": $([ -n "$shim" ] && echo true || echo false),
  "cache": {"dir": "$cache", "kernel": "$kernel_cached", "initramfs": "$initramfs_cached"},
  "seconds": {"fetch": $t_fetch, "kernel": $t_kernel, "initramfs": $t_initramfs,
              "trees": $t_trees, "sysroot": $t_sysroot, "disk": $t_disk, "total": $t_total}
}
EOF
mv "$out/manifest.json.tmp" "$out/manifest.json"
log "built $disk (v1 $commit_v1 deployed as $deployment) in ${t_total}s"
cat "$out/manifest.json"
