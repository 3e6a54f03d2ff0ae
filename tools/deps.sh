#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages plugpull needs to build, test and demo.
# Idempotent: when every package is already installed it does nothing and
# does not touch the network.  Needs root (or sudo) only when something is
# missing.
set -eu

PACKAGES="
gcc make pkg-config python3 strace
libglib2.0-dev libjson-glib-dev libostree-dev libcmocka-dev libblkid-dev
ostree ostree-tests
help2man debhelper dpkg-dev fakeroot
fio eatmydata jq chromium
clang libclang-rt-14-dev
busybox-static
qemu-system-x86 u-boot-qemu u-boot-tools fdisk kmod cpio e2fsprogs lz4
"

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
