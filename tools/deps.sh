#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages plugpull needs, by set:
#
#   tools/deps.sh [SET...]
#
#   build   compile the binary and the shim (make build/plugpull
#           build/libcfaultinject.so; make all also builds the unit tests,
#           which need cmocka from test)
#   sim     run the simulation tier (the client under test, the fixture's busybox;
#           mke2fs, fw_setenv, SWUpdate, openssl and cpio for the ab and
#           update-mode strategies)
#   vm      the VM tier: QEMU, U-Boot, the kernel-image and disk-image tools
#   report  write the HTML report (python3)
#   guestfs plugpull inspect --reader guestfs: guestfish, the xfs tools of
#           its appliance and a kernel for it (supermin builds the
#           appliance from the host's packages and /boot)
#   test    what the tests add (guestfs included): cmocka, strace, fio, eatmydata, jq, clang for
#           fuzzing, the package tools, python3-yaml, chromium (the
#           report screenshot), libostree's installed tests, file (test-dpkg-judge
#           checks the sim set's busybox is static)
#   all     every set (the default: make check and make demo)
#
# A package is in every set that needs it.  --list prints the packages of
# the named sets and installs nothing: tools/deps.sh --list build sim.
# Idempotent: when every package is already installed it does nothing and
# does not touch the network.  Needs root (or sudo) only when something is
# missing.
set -eu

SET_build="gcc make pkg-config python3 libglib2.0-dev libjson-glib-dev libostree-dev libblkid-dev"
SET_sim="ostree python3 busybox-static e2fsprogs libubootenv-tool swupdate openssl cpio"
SET_vm="qemu-system-x86 u-boot-qemu u-boot-tools fdisk kmod cpio e2fsprogs lz4 busybox-static"
SET_report="python3"
SET_guestfs="guestfish libguestfs-xfs linux-image-amd64"
SET_test="libcmocka-dev strace fio eatmydata jq clang libclang-rt-14-dev
help2man debhelper dpkg-dev fakeroot python3-yaml chromium ostree-tests mmdebstrap file
$SET_guestfs"

usage() {
    echo "usage: tools/deps.sh [--list] [build|sim|vm|report|guestfs|test|all]..." >&2
    exit 2
}

list=""
if [ "${1:-}" = --list ]; then
    list=1
    shift
fi
[ $# -gt 0 ] || set -- all

PACKAGES=""
for s in "$@"; do
    case "$s" in
        build) PACKAGES="$PACKAGES $SET_build" ;;
        sim) PACKAGES="$PACKAGES $SET_sim" ;;
        vm) PACKAGES="$PACKAGES $SET_vm" ;;
        report) PACKAGES="$PACKAGES $SET_report" ;;
        guestfs) PACKAGES="$PACKAGES $SET_guestfs" ;;
        test) PACKAGES="$PACKAGES $SET_test" ;;
        all) PACKAGES="$PACKAGES $SET_build $SET_sim $SET_vm $SET_report $SET_test" ;;
        *) echo "deps: unknown set '$s'" >&2; usage ;;
    esac
done
# Each package once, in a stable order.
# shellcheck disable=SC2086
PACKAGES=$(printf '%s\n' $PACKAGES | sort -u | tr '\n' ' ')

if [ -n "$list" ]; then
    echo "$PACKAGES"
    exit 0
fi

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        "install ok installed") ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    exit 0
fi

echo "deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
