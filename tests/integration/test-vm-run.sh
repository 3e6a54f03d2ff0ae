#!/bin/sh
# SPDX-License-Identifier: MIT
# test-vm-run.sh BUILD_DIR: the VM tier (plugpull run) on the real device
# image, each check of a failure with the twin that proves it fires.
#
#   1. plugpull image build --out BUILD_DIR/image (reused when up to date);
#   2. smoke: 3 cycles cut at seeded random times (after a calibration):
#      every cycle boots v1 through U-Boot, starts `ostree admin upgrade`,
#      is cut (SIGKILL of QEMU), boots again, is checked (admin status,
#      the image's guest-fsck), resumes, boots v2.  All pass, each boot through U-Boot (its
#      PLUGPULL-UBOOT zboot line in the kept serial log); summary.json says
#      tier vm, bootloader u-boot; points.json has a phase per cycle;
#   3. a cut at the shim-signalled bootloader swap: the shim in the guest
#      stops ostree right after the rename onto boot/loader, announces it
#      on the console, and the host cuts the power there (the crash line is
#      in the case); it passes, and `plugpull replay` of the case runs the
#      same cut again;
#   3b. a cut 0.5 s after the update client exited (after-exit:0.5): the
#      case says the client exited 0 and the cut came at least 0.5 s after
#      it; the disk at the cut, read from the host without the journal's
#      replay (what U-Boot reads), already has boot/loader on the new
#      loader: the cleanup's syncfs wrote the swap home (bench/RESULTS.md).
#      Its twin is the swap cut of 3: there the home blocks still hold the
#      old loader (the swap only in the kernel's memory);
#   4. failing twin, brick: the kernel uEnv.txt names is emptied on the
#      disk after the cut -> `brick`, exit 1, serial log kept with U-Boot's
#      error; the host's `plugpull inspect` of the kept disk (in the case,
#      and run again by hand) says brick;
#   4b. failing twin of the repo check: the cut of 3b, then v2's root
#      dirtree object spoilt on the disk -> `repo-corrupt` (guest-fsck rc 1
#      naming the object), exit 1;
#   5. failing twin, hang: every deployment's init sleeps silently -> the
#      kernel boots, the console falls silent -> `hang`, exit 1;
#   6. bad input: QEMU missing from PATH -> exit 2 naming the package; a
#      malformed cut rule or after-exit range -> exit 2 with the message, before any
#      QEMU starts; a firmware QEMU cannot load -> exit 3 with QEMU's reason;
#   7. SIGINT mid-campaign: exit 130, the finished cycle's case kept, no
#      QEMU left; `--resume` runs the cycle left and keeps the finished
#      one as it was;
#   8. no QEMU is left running at the end.
#
# Prints cycles per hour and boot-to-verdict seconds (figures for
# bench/RESULTS.md come from bench/vm-cycles.sh, not from here).  Skips
# (77) when QEMU, U-Boot, debugfs, jq or a package the image build needs
# is missing.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd qemu-system-x86_64 debugfs jq
UBOOT_ROM=${PP_UBOOT_ROM:-/usr/lib/u-boot/qemu-x86/u-boot.rom}
[ -f "$UBOOT_ROM" ] || pp_skip "$UBOOT_ROM missing (package u-boot-qemu)"
IMG=$PP_BUILD/image

left_qemu() {
    ps -eo pid=,args= | grep -F "$PP_TMP/" | grep qemu-system | grep -v grep || true
}

# run_expect RC NAME ARGS...: plugpull run ARGS, its exit status must be RC.
run_expect() {
    want=$1 name=$2
    shift 2
    rc=0
    "$PP_BIN" run --no-build --image "$IMG" "$@" 2>"$PP_TMP/$name.err" || rc=$?
    if [ "$rc" != "$want" ]; then
        cat "$PP_TMP/$name.err" >&2
        pp_fail "plugpull run ($name) exited $rc, expected $want"
    fi
}

# --- 1. build or reuse ------------------------------------------------------
pp_need_image "$IMG"

# --- 6. bad input first: cheap, and no QEMU may start -------------------------
rc=0
PATH=/nonexistent "$PP_BIN" run --no-build --image "$IMG" --out "$PP_TMP/noqemu" \
    2>"$PP_TMP/noqemu.err" || rc=$?
[ "$rc" = 2 ] || pp_fail "QEMU missing: exit $rc, expected 2"
grep -q 'qemu-system-x86_64 not found.*qemu-system-x86' "$PP_TMP/noqemu.err" ||
    pp_fail "QEMU missing: message does not name the package: $(cat "$PP_TMP/noqemu.err")"
run_expect 2 badrule --cut 'syscall:calls=fsinc' --out "$PP_TMP/badrule"
grep -q "unknown call name 'fsinc'" "$PP_TMP/badrule.err" ||
    pp_fail "bad rule: the shim's message is missing: $(cat "$PP_TMP/badrule.err")"
run_expect 2 badafter --cut 'after-exit:30-1' --out "$PP_TMP/badafter"
grep -q "after-exit:30-1: the range's start is after its end" "$PP_TMP/badafter.err" ||
    pp_fail "bad after-exit range: message: $(cat "$PP_TMP/badafter.err")"
# QEMU that starts and fails at once: exit 3 (the pristine image must
# boot: the harness's problem), with QEMU's own reason.
run_expect 3 badbios --window 4 --bios /etc/hostname --out "$PP_TMP/badbios"
grep -q "could not load PC BIOS" "$PP_TMP/badbios.err" ||
    pp_fail "QEMU failing to start: QEMU's reason is missing: $(cat "$PP_TMP/badbios.err")"
[ -z "$(left_qemu)" ] || pp_fail "a QEMU was left after bad input"
pp_log "bad input: QEMU missing and a malformed rule exit 2, QEMU failing to start exits 3, each with the reason"

# --- 2. smoke campaign: random-time cuts --------------------------------------
S=$PP_TMP/smoke
run_expect 0 smoke --iterations 3 --seed 42 --out "$S"
[ "$(jq -r .tier "$S/summary.json")" = vm ] || pp_fail "summary.json: tier is not vm"
[ "$(jq -r .bootloader "$S/summary.json")" = u-boot ] || pp_fail "summary.json: bootloader is not u-boot"
[ "$(jq -r .cycles "$S/summary.json")" = 3 ] || pp_fail "summary.json: cycles is not 3"
[ "$(jq -r .outcomes.pass "$S/summary.json")" = 3 ] || pp_fail "summary.json: not 3 passes"
[ "$(jq -r '.calibration.trace_records > 1000' "$S/summary.json")" = true ] ||
    pp_fail "summary.json: the calibration traced too few calls"
[ "$(jq -r '.cases | length' "$S/points.json")" = 3 ] || pp_fail "points.json: not 3 points"
jq -e '[.cases[].phase] | all(. == "pull" or . == "deploy" or . == "bootloader" or . == "cleanup" or . == "after-update")' \
    "$S/points.json" >/dev/null || pp_fail "points.json: a cycle without a phase"
grep -q '<testsuite name="plugpull.vm.random-time" tests="3" failures="0"' "$S/junit.xml" ||
    pp_fail "junit.xml: not 3 tests, 0 failures"
for case in "$S"/cases/*.json; do
    id=$(jq -r .id "$case")
    [ "$(jq -r .outcome "$case")" = pass ] || pp_fail "$id: $(jq -r '.outcome + ": " + .reason' "$case")"
    [ "$(jq -r '.boots | length' "$case")" = 3 ] || pp_fail "$id: not 3 boots"
    for log in $(jq -r '.boots[].serial_log' "$case"); do
        grep -aq 'PLUGPULL-UBOOT zboot' "$log" || pp_fail "$id: $log: no U-Boot zboot line"
    done
    # Boot B's repo check is the image's guest-fsck (its failing twins:
    # test-guest-fsck.sh), which walked the repo and found the image's
    # objects present.
    jq -r .evidence "$case" | grep -q 'guest-fsck: .* objects reachable: [0-9]* hashed .*, [1-9][0-9]* present from the image' ||
        pp_fail "$id: boot B's repo check is not guest-fsck: $(jq -r .evidence "$case" | grep -A2 -- '--- ostree fsck')"
    pp_log "$id: cut at $(jq -r '.cut_offset_s*100|floor/100' "$case") s of $(jq -r '.window_s*100|floor/100' "$case") s" \
        "(phase $(jq -r .phase "$case")), booted $(jq -r '.boots[1].agent' "$case" | sed 's/.* version=\([^ ]*\).*/v\1/') after the cut," \
        "resume $(jq -r .resume_bytes "$case") bytes, boot-to-verdict $(jq -r '.boot_to_verdict_s*10|floor/10' "$case") s"
done
WIN=$(jq -r .window_s "$S/summary.json")
pp_log "smoke: 3/3 pass through U-Boot; $(jq -r '.cycles_per_hour*10|floor/10' "$S/summary.json") cycles/hour," \
    "boot-to-verdict $(jq -r '.mean_boot_to_verdict_s*10|floor/10' "$S/summary.json") s (mean), window $(jq -r '.window_s*100|floor/100' "$S/summary.json") s"

# --- 3. the shim-signalled cut at the bootloader swap --------------------------
W=$PP_TMP/swap
run_expect 0 swap --iterations 1 --seed 7 \
    --cut 'syscall:ops=rename;path=*/boot/loader;timing=after' --out "$W"
case=$(ls "$W"/cases/*.json)
# The crash line names the rename's source: boot/loader.tmp -> boot/loader.
jq -e '.crash_line | test("^CFI-CRASH .*call=renameat timing=after path=.*/boot/loader[.]tmp$")' "$case" >/dev/null ||
    pp_fail "swap: no shim crash line at the rename onto boot/loader: $(jq -r .crash_line "$case")"
[ "$(jq -r .cut_fired "$case")" = true ] || pp_fail "swap: the cut did not fire"
[ "$(jq -r .outcome "$case")" = pass ] || pp_fail "swap: $(jq -r '.outcome + ": " + .reason' "$case")"
pp_log "swap: cut at '$(jq -r .crash_line "$case")', $(jq -r .reason "$case")"
# What U-Boot reads at that cut: the old loader (the rename is not home).
[ "$(jq -r .loader_at_cut "$case")" = "$(jq -r .loader_before "$case")" ] ||
    pp_fail "swap: the disk's home blocks already have the new loader at the cut: $(jq -r '.loader_before + " -> " + .loader_at_cut' "$case")"
pp_log "swap: at the cut U-Boot reads boot/loader -> $(jq -r .loader_at_cut "$case") (as before the update)"
rc=0
"$PP_BIN" replay --keep "$PP_TMP/swap-replay" "$case" >"$PP_TMP/replay.out" 2>"$PP_TMP/replay.err" || rc=$?
[ "$rc" = 0 ] || { cat "$PP_TMP/replay.err" >&2; pp_fail "replay of the swap case exited $rc"; }
again=$(ls "$PP_TMP"/swap-replay/cases/*.json)
jq -e '.crash_line | test("call=renameat timing=after path=.*/boot/loader[.]tmp$")' "$again" >/dev/null ||
    pp_fail "replay: not cut at the same call: $(jq -r .crash_line "$again")"
grep -q 'recorded pass, replayed pass' "$PP_TMP/replay.out" || pp_fail "replay: $(cat "$PP_TMP/replay.out")"
pp_log "replay: $(cat "$PP_TMP/replay.out")"

# --- 3b. a cut after the client's exit ------------------------------------------
E=$PP_TMP/afterexit
run_expect 0 afterexit --iterations 1 --seed 5 --cut after-exit:0.5 --out "$E"
case=$(ls "$E"/cases/*.json)
[ "$(jq -r .cut "$case")" = after-exit ] || pp_fail "after-exit: cut kind $(jq -r .cut "$case")"
[ "$(jq -r .phase "$case")" = after-update ] || pp_fail "after-exit: phase $(jq -r .phase "$case")"
[ "$(jq -r .update_rc "$case")" = 0 ] || pp_fail "after-exit: the update exited $(jq -r .update_rc "$case")"
jq -e '.exit_to_cut_s >= 0.5 and .exit_to_cut_s < 5 and .exit_uptime_s > 0' "$case" >/dev/null ||
    pp_fail "after-exit: exit $(jq -r .exit_uptime_s "$case"), cut $(jq -r .exit_to_cut_s "$case") s after it"
[ "$(jq -r .loader_at_cut "$case")" != "$(jq -r .loader_before "$case")" ] ||
    pp_fail "after-exit: the home blocks still hold the old loader $(jq -r .loader_at_cut "$case")"
grep -q '<testsuite name="plugpull.vm.after-exit:0.5" tests="1" failures="0"' "$E/junit.xml" ||
    pp_fail "after-exit: junit.xml"
pp_log "after-exit: cut $(jq -r '.exit_to_cut_s*100|floor/100' "$case") s after the client's exit," \
    "U-Boot reads boot/loader -> $(jq -r .loader_at_cut "$case") (before: $(jq -r .loader_before "$case")); $(jq -r .reason "$case")"

# --- 4. failing twin: kernel emptied after the cut -> brick -------------------
B=$PP_TMP/brick
run_expect 1 brick --iterations 1 --seed 42 --window "$WIN" --sabotage empty-kernel --out "$B"
[ "$(jq -r .outcomes.brick "$B/summary.json")" = 1 ] || pp_fail "kernel emptied: not judged brick: $(cat "$B/summary.json")"
case=$(ls "$B"/cases/*.json)
log=$(jq -r '.boots[1].serial_log' "$case")
[ -s "$log" ] || pp_fail "brick: serial log $log not kept"
grep -aq 'PLUGPULL-UBOOT error: cannot load' "$log" || pp_fail "brick: $log has no U-Boot error line"
disk=$(jq -r .disk "$case")
[ -s "$disk" ] || pp_fail "brick: the failing cycle's disk was not kept"
pp_log "kernel emptied: brick ($(jq -r .reason "$case")), serial log and disk kept"
# The host examined the disk that would not boot: inspect's verdict is in
# the case, and inspect run by hand on the kept disk agrees (exit 1).
[ "$(jq -r .inspect.outcome "$case")" = brick ] ||
    pp_fail "brick: the case's inspect verdict is '$(jq -r .inspect.outcome "$case")', not brick"
rc=0
"$PP_BIN" inspect --no-fallback "$disk" >"$PP_TMP/inspect.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || pp_fail "inspect of the bricked disk exited $rc, expected 1: $(cat "$PP_TMP/inspect.out")"
pp_log "inspect of the bricked disk: exit 1 ($(jq -r .inspect.reason "$case" | cut -c1-80))"

# --- 4b. failing twin of the repo check: v2's root tree spoilt -> repo-corrupt --
# The same cut as 3b (which passes), then the first bytes of the new
# commit's root dirtree object overwritten on the disk: nothing boots
# from it and `ostree admin status` does not read it, so only boot B's
# repo check (the image's guest-fsck, which hashes what the update
# wrote) can find it.
R=$PP_TMP/repocorrupt
run_expect 1 repocorrupt --iterations 1 --seed 5 --cut after-exit:0.5 --sabotage corrupt-new-tree --out "$R"
case=$(ls "$R"/cases/*.json)
[ "$(jq -r .outcome "$case")" = repo-corrupt ] ||
    pp_fail "spoilt tree: not judged repo-corrupt: $(jq -r '.outcome + ": " + .reason' "$case")"
jq -e '.reason | test("status rc=0, ostree fsck rc=1")' "$case" >/dev/null ||
    pp_fail "spoilt tree: reason: $(jq -r .reason "$case")"
jq -r .evidence "$case" | grep -q 'guest-fsck: .*\.dirtree: .*Corrupted dirtree object' ||
    pp_fail "spoilt tree: guest-fsck did not name the dirtree: $(jq -r .evidence "$case" | grep -A2 -- '--- ostree fsck')"
pp_log "spoilt root tree of v2 after the cut: repo-corrupt ($(jq -r .reason "$case" | cut -c1-70))"

# --- 5. failing twin: silent init -> hang ---------------------------------------
H=$PP_TMP/hang
run_expect 1 hang --iterations 1 --seed 42 --window "$WIN" --sabotage hang-init \
    --hang-timeout 20 --out "$H"
[ "$(jq -r .outcomes.hang "$H/summary.json")" = 1 ] || pp_fail "silent init: not judged hang: $(cat "$H/summary.json")"
case=$(ls "$H"/cases/*.json)
jq -e '.reason | test("console silent for 20 s")' "$case" >/dev/null || pp_fail "hang: reason: $(jq -r .reason "$case")"
log=$(jq -r '.boots[1].serial_log' "$case")
grep -aq 'Run /init as init process\|Freeing unused kernel' "$log" || pp_fail "hang: $log does not show the kernel booting"
pp_log "silent init: hang ($(jq -r .reason "$case" | cut -c1-60)...), serial log kept"

# --- 7. SIGINT mid-campaign -----------------------------------------------------
I=$PP_TMP/sigint
"$PP_BIN" run --no-build --image "$IMG" --iterations 2 --seed 3 --window "$WIN" \
    --out "$I" 2>"$PP_TMP/sigint.err" &
pid=$!
# Wait for the first finished case, then interrupt the second cycle.
i=0
while [ ! -f "$I/cases/vm-c0000-s3.json" ] && [ $i -lt 240 ]; do
    sleep 1
    i=$((i + 1))
done
[ -f "$I/cases/vm-c0000-s3.json" ] || { kill "$pid"; pp_fail "SIGINT: no first case within 240 s"; }
sleep 5
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 130 ] || { cat "$PP_TMP/sigint.err" >&2; pp_fail "SIGINT: exit $rc, expected 130"; }
grep -q 'interrupted after 1 finished cycle' "$PP_TMP/sigint.err" || pp_fail "SIGINT: message: $(tail -3 "$PP_TMP/sigint.err")"
[ "$(jq -r .interrupted "$I/summary.json")" = true ] || pp_fail "SIGINT: summary not marked interrupted"
[ "$(jq -r .cycles "$I/summary.json")" = 1 ] || pp_fail "SIGINT: the finished cycle is not in the summary"
[ -z "$(left_qemu)" ] || pp_fail "SIGINT: QEMU left running: $(left_qemu)"
pp_log "SIGINT: exit 130, 1 finished cycle kept, no QEMU left"
grep -q "plugpull run --out '$I' --resume" "$PP_TMP/sigint.err" ||
    pp_fail "SIGINT: no continue command: $(tail -3 "$PP_TMP/sigint.err")"
first=$(sha256sum <"$I/cases/vm-c0000-s3.json")
rc=0
"$PP_BIN" run --out "$I" --resume 2>"$PP_TMP/resume.err" || rc=$?
[ "$rc" = 0 ] || { cat "$PP_TMP/resume.err" >&2; pp_fail "--resume: exit $rc, expected 0"; }
[ "$(jq -r .cycles "$I/summary.json")" = 2 ] || pp_fail "--resume: summary has $(jq -r .cycles "$I/summary.json") cycles, want 2"
[ "$(jq -r .interrupted "$I/summary.json")" = false ] || pp_fail "--resume: summary still interrupted"
[ -f "$I/cases/vm-c0001-s3.json" ] || pp_fail "--resume: the second cycle has no case"
[ "$(sha256sum <"$I/cases/vm-c0000-s3.json")" = "$first" ] || pp_fail "--resume: the finished cycle was run again"
[ -z "$(left_qemu)" ] || pp_fail "--resume: QEMU left running: $(left_qemu)"
pp_log "--resume: the cycle left ran, the finished one kept as it was"

# --- 8. nothing left ----------------------------------------------------------
l=$(left_qemu)
[ -z "$l" ] || pp_fail "QEMU still running: $l"
pp_log "PASS"
