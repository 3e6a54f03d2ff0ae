#!/bin/sh
# test-vm-run.sh BUILD_DIR: the VM tier's campaign (plugpull run) on the
# real device image, and its failing twin.
#
#   1. plugpull image build --out BUILD_DIR/image (reused when up to date);
#   2. smoke: plugpull run --iterations 3 --seed 42: every cycle boots v1
#      through U-Boot, starts `ostree admin upgrade`, is cut (SIGKILL of
#      QEMU) at a seeded random time in the measured update window, boots
#      again, is checked (admin status, fsck), resumes, boots v2.  All three
#      must pass, each boot through U-Boot (its PLUGPULL-UBOOT zboot line in
#      the kept serial log); summary.json says tier vm, bootloader u-boot;
#   3. the failing twin: the same cycle with --sabotage empty-kernel (the
#      kernel uEnv.txt names is emptied on the disk after the cut, by
#      debugfs) must be judged `brick`, exit 1, with the serial log of the
#      boot that failed kept and showing U-Boot's error;
#   4. no QEMU is left running.
#
# Prints cycles per hour and boot-to-verdict seconds.  Skips (77) when
# QEMU, U-Boot, debugfs, jq or a package the image build needs is missing.
. "$(dirname "$0")/../integration/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd qemu-system-x86_64 debugfs jq
UBOOT_ROM=${PP_UBOOT_ROM:-/usr/lib/u-boot/qemu-x86/u-boot.rom}
[ -f "$UBOOT_ROM" ] || pp_skip "$UBOOT_ROM missing (package u-boot-qemu)"
IMG=$PP_BUILD/image

left_qemu() {
    ps -eo pid=,args= | grep -F "$PP_TMP/" | grep qemu-system | grep -v grep || true
}

# --- 1. build or reuse ------------------------------------------------------
rc=0
"$PP_BIN" image build --out "$IMG" >"$PP_TMP/build.out" 2>"$PP_TMP/build.err" || rc=$?
case $rc in
0) ;;
2) pp_skip "image build: $(grep -m1 'missing' "$PP_TMP/build.err" || tail -1 "$PP_TMP/build.err")" ;;
*)
    cat "$PP_TMP/build.err" >&2
    pp_fail "plugpull image build exited $rc"
    ;;
esac

# --- 2. smoke campaign ------------------------------------------------------
S=$PP_TMP/smoke
rc=0
"$PP_BIN" run --no-build --image "$IMG" --iterations 3 --seed 42 --out "$S" \
    2>"$PP_TMP/smoke.err" || rc=$?
if [ "$rc" != 0 ]; then
    cat "$PP_TMP/smoke.err" >&2
    pp_fail "plugpull run (smoke) exited $rc, expected 0"
fi
[ "$(jq -r .tier "$S/summary.json")" = vm ] || pp_fail "summary.json: tier is not vm"
[ "$(jq -r .bootloader "$S/summary.json")" = u-boot ] || pp_fail "summary.json: bootloader is not u-boot"
[ "$(jq -r .cycles "$S/summary.json")" = 3 ] || pp_fail "summary.json: cycles is not 3"
[ "$(jq -r .outcomes.pass "$S/summary.json")" = 3 ] || pp_fail "summary.json: not 3 passes"
[ -f "$S/junit.xml" ] || pp_fail "no junit.xml"
n=0
for case in "$S"/cases/*.json; do
    n=$((n + 1))
    id=$(jq -r .id "$case")
    [ "$(jq -r .outcome "$case")" = pass ] || pp_fail "$id: $(jq -r '.outcome + ": " + .reason' "$case")"
    [ "$(jq -r '.boots | length' "$case")" = 3 ] || pp_fail "$id: not 3 boots"
    for log in $(jq -r '.boots[].serial_log' "$case"); do
        grep -aq 'PLUGPULL-UBOOT zboot' "$log" || pp_fail "$id: $log: no U-Boot zboot line"
    done
    pp_log "$id: cut at $(jq -r '.cut_offset_s*100|floor/100' "$case") s of $(jq -r '.window_s*100|floor/100' "$case") s," \
        "booted $(jq -r '.boots[1].agent' "$case" | sed 's/.* version=\([^ ]*\).*/v\1/') after the cut," \
        "resume $(jq -r .resume_bytes "$case") bytes, boot-to-verdict $(jq -r '.boot_to_verdict_s*10|floor/10' "$case") s"
done
[ "$n" = 3 ] || pp_fail "$n case files, expected 3"
CPH=$(jq -r '.cycles_per_hour*10|floor/10' "$S/summary.json")
BTV=$(jq -r '.mean_boot_to_verdict_s*10|floor/10' "$S/summary.json")
WIN=$(jq -r .window_s "$S/summary.json")
pp_log "smoke: 3/3 pass through U-Boot; $CPH cycles/hour, boot-to-verdict $BTV s (mean), update window $(jq -r '.window_s*100|floor/100' "$S/summary.json") s"

# --- 3. failing twin: kernel emptied after the cut -> brick -------------------
B=$PP_TMP/brick
rc=0
"$PP_BIN" run --no-build --image "$IMG" --iterations 1 --seed 42 --window "$WIN" \
    --sabotage empty-kernel --boot-timeout 60 --out "$B" 2>"$PP_TMP/brick.err" || rc=$?
if [ "$rc" != 1 ]; then
    cat "$PP_TMP/brick.err" >&2
    pp_fail "plugpull run (kernel emptied) exited $rc, expected 1"
fi
[ "$(jq -r .outcomes.brick "$B/summary.json")" = 1 ] || pp_fail "kernel emptied: not judged brick: $(cat "$B/summary.json")"
case=$(ls "$B"/cases/*.json)
log=$(jq -r '.boots[1].serial_log' "$case")
[ -s "$log" ] || pp_fail "brick: serial log $log not kept"
grep -aq 'PLUGPULL-UBOOT error: cannot load' "$log" || pp_fail "brick: $log has no U-Boot error line"
pp_log "kernel emptied: brick ($(jq -r .reason "$case")), serial log kept"

# --- 4. nothing left ----------------------------------------------------------
l=$(left_qemu)
[ -z "$l" ] || pp_fail "QEMU still running: $l"
pp_log "PASS"
