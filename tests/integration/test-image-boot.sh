#!/bin/sh
# SPDX-License-Identifier: MIT
# test-image-boot.sh BUILD_DIR: the VM tier's device image boots through
# its real boot chain, and a broken one does not.
#
#   1. plugpull image build --out BUILD_DIR/image (reused when up to date;
#      the packages and the initramfs come from BUILD_DIR/image-cache);
#   2. boot a copy of disk.img under QEMU (TCG): U-Boot's qemu-x86 build
#      runs /boot/boot.scr, which loads ostree's uEnv.txt, the kernel and
#      the initramfs; the initramfs runs Debian's ostree-prepare-root; the
#      deployed tree's init prints
#        PLUGPULL-AGENT booted deployment=<csum>.<serial> commit=<csum> ...
#      The commit must be v1's and the deployment the one the build made.
#   3. the failing twin: the same image with the deployed kernel in /boot
#      emptied (debugfs, no mount) must NOT reach the agent line, and
#      U-Boot must say why (the PLUGPULL-UBOOT error line).
#
# No QEMU is left running: each is killed and reaped, and the EXIT trap
# (lib.sh) kills any still listed.  Skips (77) when QEMU, U-Boot or a
# package the build needs is missing.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd qemu-system-x86_64 debugfs jq
UBOOT_ROM=${PP_UBOOT_ROM:-/usr/lib/u-boot/qemu-x86/u-boot.rom}
[ -f "$UBOOT_ROM" ] || pp_skip "$UBOOT_ROM missing (package u-boot-qemu)"

BOOT_TIMEOUT=${PP_BOOT_TIMEOUT:-120}
IMG=$PP_BUILD/image

# --- 1. build or reuse ------------------------------------------------------
pp_need_image "$IMG"
M=$IMG/manifest.json
V1=$(pp_json_get "$M" '.commits[0]')
DEPLOYMENT=$(pp_json_get "$M" '.deployment')
OFFSET=$(pp_json_get "$M" '.partition_offset')
KERNEL=/boot/ostree/$(pp_json_get "$M" '.bootcsum_dir')/vmlinuz-$(pp_json_get "$M" '.kver')
pp_log "image: $(grep "built in" "$PP_TMP/image-build.out" | sed "s/^ *//")"

# --- booting ----------------------------------------------------------------
QEMU_PID=""

# boot NAME DISK: start QEMU on DISK in the background, serial console to
# $PP_TMP/NAME.serial.  Then wait until the agent line appears (BOOT=agent),
# the boot ends without it (BOOT=failed: U-Boot prompt, initramfs failure,
# or QEMU exited) or BOOT_TIMEOUT passes (BOOT=timeout).  BOOT_S: seconds
# from QEMU's start.  QEMU is killed and reaped before it returns.
boot() {
    name=$1
    disk=$2
    serial=$PP_TMP/$name.serial
    : >"$serial"
    t0=$(date +%s.%N)
    qemu-system-x86_64 -M pc -m 512 -bios "$UBOOT_ROM" \
        -display none -vga none -monitor none -net none -no-reboot \
        -serial "file:$serial" \
        -drive "file=$disk,format=raw,if=virtio" \
        2>"$PP_TMP/$name.qemu.err" &
    QEMU_PID=$!
    PP_PIDS="$PP_PIDS $QEMU_PID"
    BOOT=timeout
    while :; do
        if grep -aq 'PLUGPULL-AGENT booted' "$serial"; then
            BOOT=agent
            break
        fi
        if grep -aq -e 'PLUGPULL-BOOT-FAILED' -e '^=> ' "$serial" ||
            ! kill -0 "$QEMU_PID" 2>/dev/null; then
            BOOT=failed
            break
        fi
        elapsed=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", b - a }')
        [ "$elapsed" -lt "$BOOT_TIMEOUT" ] || break
        sleep 0.2
    done
    BOOT_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    kill "$QEMU_PID" 2>/dev/null
    wait "$QEMU_PID" 2>/dev/null
    kill -0 "$QEMU_PID" 2>/dev/null && pp_fail "$name: QEMU $QEMU_PID still running after kill"
    QEMU_PID=""
}

# --- 2. the image boots v1 ---------------------------------------------------
cp --sparse=always "$IMG/disk.img" "$PP_TMP/good.img" || pp_fail "copy of disk.img failed"
boot good "$PP_TMP/good.img"
if [ "$BOOT" != agent ]; then
    tail -40 "$PP_TMP/good.serial" >&2
    cat "$PP_TMP/good.qemu.err" >&2
    pp_fail "good image: no agent line ($BOOT after ${BOOT_S} s)"
fi
line=$(grep -a -m1 'PLUGPULL-AGENT booted' "$PP_TMP/good.serial" | tr -d '\r')
for stage in 'PLUGPULL-UBOOT zboot' 'PLUGPULL-INITRAMFS start' 'PLUGPULL-INITRAMFS prepare-root done'; do
    grep -aq "$stage" "$PP_TMP/good.serial" || pp_fail "good image: no '$stage' line on the console"
done
case " $line " in
*" commit=$V1 "*) ;;
*) pp_fail "good image booted another commit than v1 $V1: $line" ;;
esac
case " $line " in
*" deployment=$DEPLOYMENT "*) ;;
*) pp_fail "good image booted another deployment than $DEPLOYMENT: $line" ;;
esac
pp_log "good image: U-Boot -> kernel -> prepare-root -> init of v1 in ${BOOT_S} s (power-on to agent line)"
pp_log "  $line"

# --- 3. the failing twin: deployed kernel emptied ----------------------------
cp --sparse=always "$IMG/disk.img" "$PP_TMP/bad.img" || pp_fail "copy of disk.img failed"
printf 'rm %s\nwrite /dev/null %s\n' "$KERNEL" "$KERNEL" >"$PP_TMP/debugfs.cmds"
debugfs -w -f "$PP_TMP/debugfs.cmds" "$PP_TMP/bad.img?offset=$OFFSET" >"$PP_TMP/debugfs.out" 2>&1 ||
    pp_fail "debugfs on bad.img failed: $(cat "$PP_TMP/debugfs.out")"
size=$(debugfs -R "stat $KERNEL" "$PP_TMP/bad.img?offset=$OFFSET" 2>/dev/null |
    sed -n 's/.*Size: \([0-9]*\).*/\1/p' | head -1)
[ "$size" = 0 ] || pp_fail "bad image: $KERNEL not emptied (size '$size')"
boot bad "$PP_TMP/bad.img"
if [ "$BOOT" = agent ]; then
    pp_fail "bad image (kernel emptied) reached the agent line: $(grep -a -m1 'PLUGPULL-AGENT' "$PP_TMP/bad.serial")"
fi
grep -aq "PLUGPULL-UBOOT error: cannot load $KERNEL" "$PP_TMP/bad.serial" ||
    pp_fail "bad image: U-Boot did not report the empty kernel ($BOOT after ${BOOT_S} s)"
pp_log "bad image (kernel emptied): no agent line, U-Boot reports 'cannot load $KERNEL' ($BOOT after ${BOOT_S} s)"

# --- no QEMU left ------------------------------------------------------------
left=$(ps -eo pid=,args= | grep -F "$PP_TMP/" | grep -v grep | grep qemu-system || true)
[ -z "$left" ] || pp_fail "QEMU still running: $left"
pp_log "PASS"
