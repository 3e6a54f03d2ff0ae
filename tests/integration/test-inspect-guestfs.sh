#!/bin/sh
# SPDX-License-Identifier: MIT
# test-inspect-guestfs.sh BUILD_DIR: plugpull inspect --reader guestfs reads
# a dump debugfs cannot: an xfs filesystem on an LVM logical volume, on an
# MBR disk, holding a failing crash state of the fsync-disabled self-check
# (plugpull replay --keep, as test-inspect-gpt.sh makes its dump).
#   1. inspect --reader guestfs of the disk: the same exit status, outcome
#      (repo-corrupt), booted entry, backend and repo problems as inspect
#      of the directory;
#      the filesystem read is the logical volume, xfs; the disk is
#      byte-identical afterwards and nothing is left under $TMPDIR;
#   2. the twins: the default reader (debugfs) refuses the same disk with
#      exit 2 (no ext2/3/4 partition); --reader guestfs of a file that is
#      no disk (random bytes) exits 2 naming what libguestfs found.
# The disk is built by guestfish itself (part-disk, pvcreate, vgcreate,
# lvcreate, mkfs xfs, tar-in): no loop device or device-mapper needed.
# Skips only when the libguestfs appliance cannot start here (the reason
# is printed); guestfish missing is a failure (tools/deps.sh guestfs).
# Each appliance start costs 10-60 s under TCG on a loaded machine: the
# test starts three.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
PATH=$PATH:/usr/sbin:/sbin
pp_need_cmd jq tar cmp head
command -v guestfish >/dev/null 2>&1 || pp_fail "guestfish not installed (tools/deps.sh guestfs)"
[ "$(id -u)" -eq 0 ] || pp_skip "needs root (the crash state's owners are kept in the dump)"
scen=$(cd "$(dirname "$0")/../../scenarios" && pwd)/fsync-disabled.conf
export LIBGUESTFS_BACKEND=direct
# plugpull chooses TCG when the CPU advertises no vmx/svm (common/accel.h);
# the appliance the test builds its disk with must do as plugpull does.
grep -qw 'vmx\|svm' /proc/cpuinfo || export LIBGUESTFS_BACKEND_SETTINGS=force_tcg

# --- the crash state ------------------------------------------------------------
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$scen" --points barriers --seed 0 --resume-updates none \
    --out "$PP_TMP/sim" >"$PP_TMP/sim.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { tail "$PP_TMP/sim.log"; pp_fail "sim exited $rc, want 1 (failures)"; }
src=$(for f in "$PP_TMP"/sim/cases/*.json; do
          jq -r 'select(.evidence.outcome == "repo-corrupt") | input_filename' "$f"
      done | head -1)
[ -n "$src" ] || pp_fail "the fsync-disabled campaign gave no repo-corrupt case"
src_id=$(jq -r .id "$src")
"$PP_BIN" replay "$src" --keep "$PP_TMP/keep" >"$PP_TMP/keep.log" 2>&1
[ $? -eq 1 ] || { cat "$PP_TMP/keep.log"; pp_fail "replay --keep of $src_id"; }
D=$PP_TMP/keep/$src_id
tar -C "$D" --numeric-owner --xattrs -cf "$PP_TMP/dump.tar" . || pp_fail "tar of the crash state"

# --- the disk: MBR, LVM, xfs, built by guestfish ------------------------------
# xfs needs 300 MiB at least; the file stays sparse.
truncate -s 400M "$PP_TMP/disk.img" || pp_fail "truncate"
guestfish -a "$PP_TMP/disk.img" >"$PP_TMP/build.out" 2>"$PP_TMP/build.err" <<EOF
run
echo appliance-started
part-disk /dev/sda mbr
pvcreate /dev/sda1
vgcreate vg0 /dev/sda1
lvcreate root vg0 360
mkfs xfs /dev/vg0/root
mount /dev/vg0/root /
tar-in $PP_TMP/dump.tar / xattrs:true
umount-all
EOF
rc=$?
if ! grep -q appliance-started "$PP_TMP/build.out"; then
    pp_skip "the libguestfs appliance cannot start here: $(tail -3 "$PP_TMP/build.err" | tr '\n' ' ')"
fi
[ "$rc" -eq 0 ] || { cat "$PP_TMP/build.err"; pp_fail "building the LVM/xfs disk with guestfish (exit $rc)"; }
rm -f "$PP_TMP/dump.tar"
cp --sparse=always "$PP_TMP/disk.img" "$PP_TMP/disk.orig" || pp_fail "cp"

export TMPDIR=$PP_TMP/tmp
mkdir -p "$TMPDIR"

# --- 1. the directory and the disk through libguestfs ---------------------------
rc_dir=0
"$PP_BIN" inspect --json "$D" >"$PP_TMP/dir.json" 2>"$PP_TMP/dir.err" || rc_dir=$?
rc_img=0
"$PP_BIN" inspect --reader guestfs --json "$PP_TMP/disk.img" >"$PP_TMP/img.json" 2>"$PP_TMP/img.err" || rc_img=$?
[ "$rc_img" -eq "$rc_dir" ] || { cat "$PP_TMP/img.err"; pp_fail "guestfs: exit $rc_img, the directory $rc_dir"; }
# Exit 0 both: the booted tree is complete, the repo is not (inspect's rule).
[ "$(jq -r .outcome "$PP_TMP/dir.json")" = repo-corrupt ] ||
    pp_fail "the directory: outcome $(jq -r .outcome "$PP_TMP/dir.json"), want repo-corrupt"
J=$PP_TMP/img.json
for k in outcome booted backend repo.problems; do
    [ "$(jq -c ".$k" "$J")" = "$(jq -c ".$k" "$PP_TMP/dir.json")" ] ||
        pp_fail "guestfs: $k $(jq -c ".$k" "$J"), the directory $(jq -c ".$k" "$PP_TMP/dir.json")"
done
jq -e '.image.reader == "guestfs" and .image.extraction.device == "/dev/vg0/root"
       and .image.extraction.type == "xfs" and .verdicts.exit_status_from == "kernel"' "$J" >/dev/null ||
    pp_fail "guestfs: image $(jq -c .image "$J")"
cmp -s "$PP_TMP/disk.img" "$PP_TMP/disk.orig" || pp_fail "inspect --reader guestfs changed the disk"
[ -z "$(ls -A "$TMPDIR")" ] || pp_fail "guestfs: left behind in \$TMPDIR: $(ls -A "$TMPDIR")"
pp_log "LVM/xfs disk through libguestfs: $(jq -r .outcome "$J"), exit $rc_img, as the directory; appliance started in $(jq -r .image.extraction.launch_seconds "$J") s (load $(cut -d' ' -f1 /proc/loadavg))"

# --- 2. the twins ------------------------------------------------------------------
rc=0
"$PP_BIN" inspect "$PP_TMP/disk.img" >"$PP_TMP/debugfs.out" 2>"$PP_TMP/debugfs.err" || rc=$?
[ "$rc" -eq 2 ] || { cat "$PP_TMP/debugfs.err"; pp_fail "debugfs reader on the LVM disk: exit $rc, want 2"; }
pp_log "the default reader refuses it: $(cat "$PP_TMP/debugfs.err")"
head -c 8M /dev/urandom >"$PP_TMP/noise.bin" || pp_fail "head"
rc=0
"$PP_BIN" inspect --reader guestfs "$PP_TMP/noise.bin" >"$PP_TMP/noise.out" 2>"$PP_TMP/noise.err" || rc=$?
[ "$rc" -eq 2 ] || { cat "$PP_TMP/noise.err"; pp_fail "guestfs on random bytes: exit $rc, want 2"; }
grep -q "noise.bin: libguestfs finds no filesystem holding ostree/" "$PP_TMP/noise.err" ||
    pp_fail "guestfs on random bytes: message: $(cat "$PP_TMP/noise.err")"
[ -z "$(ls -A "$TMPDIR")" ] || pp_fail "noise: left behind in \$TMPDIR: $(ls -A "$TMPDIR")"
pp_log "random bytes through libguestfs: exit 2: $(cat "$PP_TMP/noise.err")"
pp_log "PASS"
