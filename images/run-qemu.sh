#!/bin/sh
# SPDX-License-Identifier: MIT
# run-qemu.sh DISK [--net] [QEMU ARGS...]: boot a device image by hand,
# the way the tests do, with the serial console on this terminal.
#
#   images/run-qemu.sh build/image/disk.img           # boots what is deployed
#   images/run-qemu.sh /var/tmp/copy.img --net        # + user networking:
#                                                      #   the host's 127.0.0.1
#                                                      #   is 10.0.2.2 in the guest
#
# Boot a copy, not the built image: the guest mounts the disk read-write.
# The agent prompt "PLUGPULL-AGENT ready" takes shell commands; "poweroff"
# ends QEMU.  Ctrl-A X also quits (QEMU's stdio mux).
#
# Firmware: U-Boot's 32-bit qemu-x86 build from Debian's u-boot-qemu (the
# 64-bit qemu-x86_64 build triple-faults in zboot with Debian's kernel).
set -eu
[ $# -ge 1 ] || { sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2; }
disk=$1
shift
net="-net none"
if [ "${1:-}" = --net ]; then
    shift
    net="-netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile="
fi
rom=${PP_UBOOT_ROM:-/usr/lib/u-boot/qemu-x86/u-boot.rom}
[ -f "$rom" ] || { echo "run-qemu: $rom missing (package u-boot-qemu)" >&2; exit 2; }
# shellcheck disable=SC2086
exec qemu-system-x86_64 -M pc -m 512 -bios "$rom" -display none -vga none \
    -cpu qemu64,+rdrand -no-reboot -serial mon:stdio $net \
    -drive "file=$disk,format=raw,if=virtio" "$@"
