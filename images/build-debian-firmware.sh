#!/bin/sh
# SPDX-License-Identifier: MIT
# build-debian-firmware.sh: build a real firmware, from Debian 12 packages,
# as an OSTree repo with two versions, for testing an upgrade at the scale
# of a real device image.
#
#   images/build-debian-firmware.sh [--size full|small|vm] DIR
#   (or FIRMWARE_SIZE=full|small|vm images/build-debian-firmware.sh DIR)
#
# Sizes (package lists: images/debian-firmware/SIZE-v1.list, SIZE-v2.list):
#
#   full   v1 = mmdebstrap --variant=minbase + linux-image-amd64,
#          initramfs-tools, ostree, ostree-boot, busybox; the kernel and its
#          initramfs land in /usr/lib/modules/$kver/{vmlinuz,initramfs.img}.
#          v2 = v1 + less, jq (and what they depend on).
#   small  for `make check`: v1 = minbase without documentation, man pages
#          and translations, no kernel package; a tiny stand-in kernel and
#          initramfs in /usr/lib/modules/0.0.0-plugpull/ so that
#          `ostree admin deploy` accepts the tree.  v2 = v1 + less.
#          v3 = v2 + ed (small-v3.list), for `plugpull strategies --next`.
#   vm     for the VM tier (`plugpull run --repo`): v1 = minbase without
#          documentation + systemd-sysv, linux-image-amd64, dracut,
#          ostree-boot, ostree, iproute2; the kernel's modules trimmed to
#          what a QEMU virtio machine needs (block, net, console, ext4 and
#          their dependencies), and the initramfs made again by dracut
#          from them (ostree-boot's dracut module: ostree-prepare-root.service
#          in a systemd initramfs).  v2 = v1 + less.  DIR also gets
#          initramfs-no-ostree.img: the same dracut initramfs without the
#          ostree module (`dracut --omit ostree`), for the failing twin of
#          tests/integration/test-vm-firmware.sh.
#
# The initramfs (full) is initramfs-tools', Debian's default, with a hook
# that copies /usr/lib/ostree/ostree-prepare-root (from ostree-boot) into
# it and a local-bottom script that runs it on ${rootmnt} when the kernel
# command line has ostree=.  Not dracut: Debian's dracut ostree module
# needs a systemd initramfs (and systemd in the tree), while minbase has no
# systemd, and initramfs-tools' busybox shell runs ostree-prepare-root as
# well (images/initramfs-init does the same by hand for the VM tier).
#
# Every tree is committed as the OSTree layout wants it: /etc moved to
# /usr/etc; /var empty (dpkg's database moved to /usr/share/dpkg/database,
# since ostree never deploys /var); /home, /root, /opt, /srv, /mnt ->
# var/..., /media -> run/media, /usr/local -> ../var/usrlocal; an empty
# /sysroot and ostree -> sysroot/ostree; /boot empty.  The trees are built
# and committed as root, so every file keeps its real owner, group and mode
# (an archive repo stores them in each object's header).
#
# What it makes in DIR:
#
#   repo/          archive-z2 repo; ref "firmware" at v2, v2's parent is v1
#   v1.commit      checksum of v1 (v2.commit: of v2)
#   v3.commit      with a SIZE-v3.list: v3, v2's child, bound to "firmware"
#                  but committed without moving a ref (so that "firmware"
#                  stays the newest, as the searches of `reproduce --repo`
#                  expect); name it by this checksum
#   kver           the kernel version in /usr/lib/modules
#   info           key=value: build time, files, sizes, distinct owners,
#                  .debs in the apt cache before and after
#   build.log      mmdebstrap's output
#   apt-cache/     the downloaded .debs, reused by the next build
#   stamp          sha256 of the inputs: this script, the package lists,
#                  the size, the apt sources
#
# DIR is rebuilt only when it is missing or the stamp differs; else the
# script says "up to date" and exits 0.  Exit status: 0 built or up to
# date, 2 usage or a missing host tool, 3 the build failed.
#
# Needs root (mmdebstrap --mode=root, ostree commit keeping owners) and
# mmdebstrap; nothing is installed on the host and nothing is written
# outside DIR (mmdebstrap's chroot mounts are its own and undone by it).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
script="$here/$(basename "$0")"
lists="$here/debian-firmware"

usage() {
    echo "usage: $0 [--size full|small|vm] DIR" >&2
    exit 2
}
die() {
    echo "build-debian-firmware: $*" >&2
    exit 3
}

size=${FIRMWARE_SIZE:-full}
dir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --size) [ $# -ge 2 ] || usage; size=$2; shift 2 ;;
        --size=*) size=${1#--size=}; shift ;;
        -h|--help) usage ;;
        -*) usage ;;
        *) [ -z "$dir" ] || usage; dir=$1; shift ;;
    esac
done
[ -n "$dir" ] || usage
case "$size" in full|small|vm) ;; *) echo "build-debian-firmware: --size full, small or vm" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "build-debian-firmware: must run as root (real owners)" >&2; exit 2; }
for t in mmdebstrap ostree sha256sum; do
    command -v "$t" >/dev/null 2>&1 || {
        echo "build-debian-firmware: $t missing (apt-get install $t)" >&2; exit 2; }
done

# The host's own apt sources: the firmware comes from the same archive.
sources=""
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    [ -s "$f" ] && { sources=$f; break; }
done
[ -n "$sources" ] || die "no apt sources file on the host"

v1_list="$lists/$size-v1.list"
v2_list="$lists/$size-v2.list"
[ -r "$v1_list" ] && [ -r "$v2_list" ] || die "missing $v1_list or $v2_list"
pkgs() { grep -v '^[[:space:]]*#' "$1" | tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//'; }
v1_pkgs=$(pkgs "$v1_list")
v2_pkgs=$(pkgs "$v2_list")
v3_list="$lists/$size-v3.list"
v3_pkgs=""
[ -r "$v3_list" ] && v3_pkgs=$(pkgs "$v3_list")
[ -r "$v3_list" ] || v3_list=/dev/null

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
stamp=$( { echo "size=$size"; cat "$script" "$v1_list" "$v2_list" "$v3_list" "$sources"; } \
         | sha256sum | cut -d' ' -f1)
if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] \
   && [ -s "$dir/v1.commit" ] && [ -s "$dir/v2.commit" ] && [ -d "$dir/repo/objects" ] \
   && { [ -z "$v3_pkgs" ] || [ -s "$dir/v3.commit" ]; }; then
    echo "build-debian-firmware: $dir up to date ($size)"
    exit 0
fi

t0=$(date +%s.%N)
rm -f "$dir/stamp"
rm -rf "$dir/repo" "$dir/work" "$dir/v1.commit" "$dir/v2.commit" "$dir/v3.commit" "$dir/info" "$dir/kver" \
    "$dir/initramfs-no-ostree.img"
cache="$dir/apt-cache"
work="$dir/work"
mkdir -p "$cache" "$work"
debs_before=$(find "$cache" -name '*.deb' | wc -l)

# --- 1. the root filesystems ------------------------------------------------
# One mmdebstrap run makes both: a customize hook copies the finished v1
# out (cp -x: not the chroot's /proc, /sys, /dev mounts), then installs
# v2's packages into the chroot, whose result is v2.  The .debs go to and
# come from $cache (sync-in before the download, sync-out at the end).

ostree_hook_dir="$work/initramfs-hooks"
mkdir -p "$ostree_hook_dir/hooks" "$ostree_hook_dir/scripts/local-bottom"
cat > "$ostree_hook_dir/hooks/ostree" <<'EOF'
#!/bin/sh
# Copy ostree-prepare-root (ostree-boot) and its libraries into the initramfs.
PREREQ=""
prereqs() { echo "$PREREQ"; }
case "$1" in prereqs) prereqs; exit 0 ;; esac
. /usr/share/initramfs-tools/hook-functions
if [ -x /usr/lib/ostree/ostree-prepare-root ]; then
    copy_exec /usr/lib/ostree/ostree-prepare-root
fi
EOF
cat > "$ostree_hook_dir/scripts/local-bottom/ostree" <<'EOF'
#!/bin/sh
# With ostree= on the kernel command line, make ${rootmnt} the deployment.
PREREQ=""
prereqs() { echo "$PREREQ"; }
case "$1" in prereqs) prereqs; exit 0 ;; esac
grep -q 'ostree=' /proc/cmdline || exit 0
/usr/lib/ostree/ostree-prepare-root "${rootmnt}"
EOF
chmod 0755 "$ostree_hook_dir/hooks/ostree" "$ostree_hook_dir/scripts/local-bottom/ostree"

set -- --variant=minbase --mode=root --format=directory \
    --aptopt='APT::Install-Recommends "false"' \
    --skip=download/empty --skip=essential/unlink \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
    --setup-hook="sync-in '$cache' /var/cache/apt/archives"
if [ "$size" = small ] || [ "$size" = vm ]; then
    for p in '/usr/share/doc/*' '/usr/share/man/*' '/usr/share/info/*' \
             '/usr/share/locale/*' '/usr/share/lintian/*'; do
        set -- "$@" --dpkgopt="path-exclude=$p"
    done
    set -- "$@" --dpkgopt='path-include=/usr/share/doc/*/copyright'
fi
if [ -n "$v1_pkgs" ]; then
    set -- "$@" --include="$(echo "$v1_pkgs" | tr ' ' ,)"
fi
if [ "$size" = full ]; then
    # initramfs-tools reads its hooks when the kernel's postinst runs.
    set -- "$@" \
        --essential-hook="mkdir -p \"\$1\"/etc/initramfs-tools/hooks \"\$1\"/etc/initramfs-tools/scripts/local-bottom" \
        --essential-hook="cp '$ostree_hook_dir/hooks/ostree' \"\$1\"/etc/initramfs-tools/hooks/" \
        --essential-hook="cp '$ostree_hook_dir/scripts/local-bottom/ostree' \"\$1\"/etc/initramfs-tools/scripts/local-bottom/" \
        --customize-hook='chroot "$1" update-initramfs -u -k all'
fi
if [ "$size" = vm ]; then
    # The kernel's modules trimmed to the VM's closure, then dracut again
    # (the kernel's postinst made the first initramfs from all of them):
    # an initramfs of about the VM's drivers, and a tree without the
    # 4000-odd modules ostree fsck would hash in every cycle.
    cat > "$work/vm-initramfs.sh" <<'EOF'
#!/bin/sh
# Run in the chroot: trim the modules, make the two dracut initramfs images.
set -eu
kver=$(ls /lib/modules)
mods=/lib/modules/$kver
keep=/tmp/plugpull-keep-modules
: > "$keep"
# virtio block, net and console, ext4 and its checksum; autofs4 for
# systemd's automounts.  modprobe names each module's closure.
for m in virtio_pci virtio_blk virtio_net virtio_console ext4 crc32c_generic autofs4; do
    modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }' >> "$keep"
done
grep -q virtio_blk "$keep" || { echo "no virtio_blk module in $kver" >&2; exit 1; }
find "$mods/kernel" -name '*.ko*' | grep -vxF -f "$keep" | xargs rm -f
find "$mods/kernel" -type d -empty -delete
depmod "$kver"
rm -f "$keep"
dracut --force --no-hostonly --kver "$kver" "/boot/initrd.img-$kver"
dracut --force --no-hostonly --kver "$kver" --omit ostree "/boot/initrd-no-ostree.img-$kver"
lsinitrd "/boot/initrd.img-$kver" | grep -q 'usr/lib/ostree/ostree-prepare-root' \
    || { echo "dracut's initramfs has no ostree-prepare-root" >&2; exit 1; }
if lsinitrd "/boot/initrd-no-ostree.img-$kver" | grep -q 'ostree-prepare-root'; then
    echo "dracut --omit ostree still holds ostree-prepare-root" >&2; exit 1
fi
EOF
    # shellcheck disable=SC2016
    set -- "$@" \
        --essential-hook='mkdir -p "$1"/etc/dracut.conf.d' \
        --essential-hook='echo hostonly=no > "$1"/etc/dracut.conf.d/90-plugpull-vm.conf' \
        --customize-hook="cp '$work/vm-initramfs.sh' \"\$1\"/tmp/" \
        --customize-hook='chroot "$1" sh /tmp/vm-initramfs.sh' \
        --customize-hook='rm -f "$1"/tmp/vm-initramfs.sh'
fi
set -- "$@" \
    --customize-hook="cp -ax --preserve=all \"\$1\" '$work/v1raw'" \
    --customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $v2_pkgs"
last=v2raw
if [ -n "$v3_pkgs" ]; then
    # v2 copied out as v1 was; the chroot goes on to v3.
    set -- "$@" \
        --customize-hook="cp -ax --preserve=all \"\$1\" '$work/v2raw'" \
        --customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $v3_pkgs"
    last=v3raw
fi
set -- "$@" \
    --customize-hook="sync-out /var/cache/apt/archives '$cache'" \
    bookworm "$work/$last" "$sources"

echo "build-debian-firmware: mmdebstrap ($size) -> $work" >&2
mmdebstrap "$@" > "$work/mmdebstrap.log" 2>&1 \
    || { tail -30 "$work/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $work/mmdebstrap.log)"; }
t_debs=$(date +%s.%N)

# --- 2. the OSTree layout ----------------------------------------------------
kver=""
to_ostree_layout() {
    r=$1
    [ -d "$r/usr" ] && [ -d "$r/etc" ] || die "$r is not a root filesystem"
    # Mount points and scratch: empty (cp -x left the mount points empty,
    # mmdebstrap unmounted its own).
    for d in dev proc sys run tmp; do
        mkdir -p "$r/$d"
        find "$r/$d" -mindepth 1 -delete
    done
    # The kernel and initramfs, where ostree looks for them.
    if [ "$size" = full ] || [ "$size" = vm ]; then
        kver=$(ls "$r/usr/lib/modules")
        [ -n "$kver" ] && [ "$(echo "$kver" | wc -l)" = 1 ] || die "kernel versions in $r: '$kver'"
        m="$r/usr/lib/modules/$kver"
        mv "$r/boot/vmlinuz-$kver" "$m/vmlinuz"
        mv "$r/boot/initrd.img-$kver" "$m/initramfs.img"
        [ -f "$r/boot/config-$kver" ] && mv "$r/boot/config-$kver" "$m/config"
        [ -f "$r/boot/System.map-$kver" ] && mv "$r/boot/System.map-$kver" "$m/System.map"
        rm -f "$r"/vmlinuz "$r"/vmlinuz.old "$r"/initrd.img "$r"/initrd.img.old
    else
        kver=0.0.0-plugpull
        m="$r/usr/lib/modules/$kver"
        mkdir -p "$m"
        printf 'plugpull stand-in kernel %s\n' "$kver" > "$m/vmlinuz"
        printf 'plugpull stand-in initramfs %s\n' "$kver" > "$m/initramfs.img"
        chmod 0644 "$m/vmlinuz" "$m/initramfs.img"
    fi
    find "$r/boot" -mindepth 1 -delete
    # /etc is the default configuration in /usr/etc.
    [ -e "$r/usr/etc" ] && die "$r/usr/etc exists"
    mv "$r/etc" "$r/usr/etc"
    # ostree deploys no /var: keep dpkg's database in /usr, drop the rest.
    if [ -d "$r/var/lib/dpkg" ]; then
        mv "$r/var/lib/dpkg" "$r/usr/share/dpkg/database"
    fi
    find "$r/var" -mindepth 1 -delete
    # Writable places live in /var (or /run), as ostree's layout has them.
    for pair in home:var/home root:var/roothome opt:var/opt srv:var/srv \
                mnt:var/mnt media:run/media usr/local:../var/usrlocal; do
        name=${pair%%:*}
        target=${pair#*:}
        rm -rf "${r:?}/$name"
        ln -s "$target" "$r/$name"
    done
    mkdir -p "$r/sysroot"
    ln -s sysroot/ostree "$r/ostree"
}
if [ "$size" = full ]; then
    # The initramfs must hold ostree-prepare-root, or it cannot boot a
    # deployment.
    img=$(ls "$work"/v1raw/boot/initrd.img-*)
    zcat -f "$img" | cpio -t 2>/dev/null | grep -qx 'usr/lib/ostree/ostree-prepare-root' \
        || die "$img has no usr/lib/ostree/ostree-prepare-root"
fi
if [ "$size" = vm ]; then
    mv "$work"/v1raw/boot/initrd-no-ostree.img-* "$dir/initramfs-no-ostree.img.tmp"
    rm -f "$work"/v2raw/boot/initrd-no-ostree.img-*
fi
to_ostree_layout "$work/v1raw"
to_ostree_layout "$work/v2raw"
[ -z "$v3_pkgs" ] || to_ostree_layout "$work/v3raw"
echo "$kver" > "$dir/kver"

# --- 3. the repo ---------------------------------------------------------------
repo="$dir/repo"
ostree --repo="$repo" init --mode=archive-z2
ostree --repo="$repo" commit --branch=firmware --tree=dir="$work/v1raw" \
    --subject="debian $size v1" --add-metadata-string=version=1 \
    > "$dir/v1.commit.tmp"
ostree --repo="$repo" commit --branch=firmware --tree=dir="$work/v2raw" \
    --subject="debian $size v2" --add-metadata-string=version=2 \
    > "$dir/v2.commit.tmp"
if [ -n "$v3_pkgs" ]; then
    # Bound to the branch (a pull of "firmware" refuses a commit that is
    # not), though not on it.
    ostree --repo="$repo" commit --orphan --bind-ref=firmware \
        --parent="$(cat "$dir/v2.commit.tmp")" \
        --tree=dir="$work/v3raw" --subject="debian $size v3" \
        --add-metadata-string=version=3 > "$dir/v3.commit.tmp"
fi
ostree --repo="$repo" summary -u
mv "$dir/v1.commit.tmp" "$dir/v1.commit"
[ -z "$v3_pkgs" ] || mv "$dir/v3.commit.tmp" "$dir/v3.commit"
if [ -f "$dir/initramfs-no-ostree.img.tmp" ]; then
    mv "$dir/initramfs-no-ostree.img.tmp" "$dir/initramfs-no-ostree.img"
fi
mv "$dir/v2.commit.tmp" "$dir/v2.commit"
ostree --repo="$repo" fsck -q >/dev/null || die "fsck of $repo failed"
t_commit=$(date +%s.%N)

# --- 4. figures --------------------------------------------------------------
# A checkout of v2 as root (owners kept), counted and measured.
co="$work/checkout-v2"
ostree --repo="$repo" checkout "$(cat "$dir/v2.commit")" "$co"
count() { find "$1" | wc -l; }
distinct() { find "$1" -printf "$2\n" | sort -u | tr '\n' ' ' | sed 's/ $//'; }
co_uids=$(distinct "$co" %U)
co_gids=$(distinct "$co" %G)
src_uids=$(distinct "$work/v2raw" %U)
src_gids=$(distinct "$work/v2raw" %G)
[ "$co_uids" = "$src_uids" ] && [ "$co_gids" = "$src_gids" ] \
    || die "owners lost in the repo: tree uids '$src_uids' gids '$src_gids', checkout uids '$co_uids' gids '$co_gids'"
{
    echo "size=$size"
    echo "kver=$kver"
    echo "v1_packages=$(find "$work/v1raw/usr/share/dpkg/database/info" -name '*.list' | wc -l)"
    echo "v2_packages=$(find "$work/v2raw/usr/share/dpkg/database/info" -name '*.list' | wc -l)"
    [ -z "$v3_pkgs" ] || echo "v3_packages=$(find "$work/v3raw/usr/share/dpkg/database/info" -name '*.list' | wc -l)"
    echo "v1_entries=$(count "$work/v1raw")"
    echo "v2_entries=$(count "$co")"
    echo "v1_files=$(find "$work/v1raw" -type f | wc -l)"
    echo "v2_files=$(find "$co" -type f | wc -l)"
    echo "v1_du_kib=$(du -sk "$work/v1raw" | cut -f1)"
    echo "v2_checkout_du_kib=$(du -sk "$co" | cut -f1)"
    echo "repo_du_kib=$(du -sk "$repo" | cut -f1)"
    echo "repo_objects=$(find "$repo/objects" -type f | wc -l)"
    echo "uids=$co_uids"
    echo "gids=$co_gids"
    echo "owners=$(find "$co" -printf '%U:%G\n' | sort -u | tr '\n' ' ' | sed 's/ $//')"
    echo "apt_cache_debs_before=$debs_before"
    echo "apt_cache_debs_after=$(find "$cache" -name '*.deb' | wc -l)"
    echo "build_s=$(echo "$t_debs $t0" | awk '{printf "%.1f", $1 - $2}')"
    echo "commit_s=$(echo "$t_commit $t_debs" | awk '{printf "%.1f", $1 - $2}')"
    echo "total_s=$(echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}')"
} > "$dir/info"
mv "$work/mmdebstrap.log" "$dir/build.log"
rm -rf "$work"
echo "$stamp" > "$dir/stamp"
cat "$dir/info"
