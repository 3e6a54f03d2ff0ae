#!/bin/sh
# SPDX-License-Identifier: MIT
# test-inspect-journal.sh BUILD_DIR: plugpull inspect of a GPT dump whose
# ext4 journal needs recovery judges two views, side by side: the
# bootloader's (the blocks in place, as U-Boot's ext4 reads them) and the
# kernel's (the journal replayed by e2fsck -E journal_only on a private
# copy), and the bootloader's decides the exit status.
#
# The dump is made by a real kernel, not by hand:
#   - a crash state of the bootloader-swap campaign that boots v2 (plugpull
#     replay --keep) has its deployed kernel emptied: the failing crash
#     state of a kernel whose write did not reach the disk (brick);
#   - it becomes ext4 (mke2fs -d) in partition 2 of a GPT disk, which is
#     loop-mounted; the kernel is written back and fsynced: the data goes
#     to its blocks, the inode's new size and extents only to the journal
#     (jbd2 commits on fsync; the home blocks are written back about 30 s
#     later, or at unmount);
#   - the disk file is copied at once while still mounted: that copy is a
#     dump cut at a power loss, its journal needing recovery.
# Then:
#   1. inspect of the cut dump: exit 1; journal.needs_recovery; the
#      bootloader's view is a brick with the kernel empty, the kernel's
#      view passes booting the same deployment; the text output has both
#      sections and "the views disagree"; the dump is byte-identical
#      afterwards; nothing is left under $TMPDIR;
#   2. the twin: the disk file after a clean unmount (journal
#      checkpointed): one view, judged once (kernel_view null), exit 0;
#   3. the cut dump with its journal's superblock overwritten: e2fsck would
#      clear the journal, not replay it: no kernel's view (the reason in
#      journal.kernel_view_error), the bootloader's view alone, exit 1.
# Runs as root only (losetup, mount).
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
PATH=$PATH:/usr/sbin:/sbin
pp_need_cmd jq sfdisk mke2fs e2fsck dumpe2fs debugfs losetup mount umount dd truncate sha256sum
[ "$(id -u)" -eq 0 ] || pp_skip "needs root (losetup and mount of the dump)"
scen=$(cd "$(dirname "$0")/../../scenarios" && pwd)/bootloader-swap.conf

# --- the crash state ------------------------------------------------------------
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$scen" --points barriers --seed 0 \
    --out "$PP_TMP/sim" >"$PP_TMP/sim.log" 2>&1 || { tail "$PP_TMP/sim.log"; pp_fail "sim of bootloader-swap"; }
# A passing case that boots the new deployment (bootversion 1).
src=$(for f in "$PP_TMP"/sim/cases/*.json; do
          jq -r 'select(.evidence.outcome == "pass" and .evidence.bootversion == 1) | input_filename' "$f"
      done | tail -1)
[ -n "$src" ] || pp_fail "no passing case of bootloader-swap boots loader.1"
src_id=$(jq -r .id "$src")
"$PP_BIN" replay "$src" --keep "$PP_TMP/keep" >"$PP_TMP/keep.log" 2>&1 ||
    { cat "$PP_TMP/keep.log"; pp_fail "replay --keep of $src_id"; }
D=$PP_TMP/keep/$src_id
kernel=$(sed -n 's|^kernel_image=/boot/||p' "$D/boot/loader/uEnv.txt")
[ -n "$kernel" ] && [ -s "$D/boot/$kernel" ] || pp_fail "no kernel in $D/boot/loader/uEnv.txt"
cp "$D/boot/$kernel" "$PP_TMP/kernel" && : >"$D/boot/$kernel" || pp_fail "emptying the kernel"

# --- the GPT disk, mounted ------------------------------------------------------
# A whole number of MiB: sfdisk aligns the partition's size down to 1 MiB.
fs_kb=$(( ($(du -sk "$D" | cut -f1) * 2 / 1024 + 32) * 1024 ))
mke2fs -q -F -t ext4 -L root -d "$D" "$PP_TMP/root.img" "${fs_kb}k" >"$PP_TMP/mke2fs.log" 2>&1 ||
    { cat "$PP_TMP/mke2fs.log"; pp_fail "mke2fs -d"; }
rm -rf "$PP_TMP/keep" "$PP_TMP/sim"
truncate -s $((fs_kb + 4096))k "$PP_TMP/disk.img" || pp_fail "truncate"
printf 'label: gpt\nstart=2048, size=1M, type=uefi, name=esp\nsize=%sK, type=linux, name=root\n' "$fs_kb" |
    sfdisk -q "$PP_TMP/disk.img" >"$PP_TMP/sfdisk.log" 2>&1 || { cat "$PP_TMP/sfdisk.log"; pp_fail "sfdisk"; }
start=$(sfdisk -J "$PP_TMP/disk.img" | jq '.partitiontable.partitions[1].start')
cp --sparse=always "$PP_TMP/disk.img" "$PP_TMP/empty.img" || pp_fail "cp"

loop=""
mnt=$PP_TMP/mnt
mkdir -p "$mnt"
unmount() {
    if [ -n "$loop" ]; then
        mountpoint -q "$mnt" && umount "$mnt"
        losetup -d "$loop"
        loop=""
    fi
}
# The loop device and the mount go whatever happens (pp_cleanup then
# removes $PP_TMP).
trap 'unmount; pp_cleanup' EXIT

# in_place_size IMAGE: the kernel inode's size in its home block (the
# "User: ... Size: N" line of debugfs stat; its "Fragment:" line ends in
# "Size: 0" for every inode).
in_place_size() {
    debugfs -R "stat /boot/$kernel" "$1?offset=$((start * 512))" 2>/dev/null |
        sed -n 's/^User:.*Size: *\([0-9]*\)$/\1/p'
}

# cut_once: write the disk (the emptied kernel), mount its partition
# (a loop device on the partition's range: no partition scan, whose
# /dev nodes a container may lack or hold stale), write the kernel back
# with fsync (jbd2 commits it), copy the disk at once: the power cut.
# Fails when the inode's home block was already written (see below).
cut_once() {
    cp --sparse=always "$PP_TMP/empty.img" "$PP_TMP/disk.img" &&
        dd if="$PP_TMP/root.img" of="$PP_TMP/disk.img" bs=512 seek="$start" conv=notrunc,sparse status=none ||
        pp_fail "dd of the filesystem"
    loop=$(losetup --find --show --offset $((start * 512)) --sizelimit $((fs_kb * 1024)) "$PP_TMP/disk.img") ||
        pp_fail "losetup --offset"
    mount -t ext4 "$loop" "$mnt" || pp_fail "mount $loop"
    dd if="$PP_TMP/kernel" of="$mnt/boot/$kernel" conv=notrunc,fsync status=none || pp_fail "writing the kernel back"
    cp --sparse=always "$PP_TMP/disk.img" "$PP_TMP/cut.img" || pp_fail "copying the mounted disk"
    unmount
    [ "$(in_place_size "$PP_TMP/cut.img")" = 0 ]
}
# The home blocks are written back by the flusher about 30 s after they
# were dirtied, or at once when the machine's dirty pages pass the
# background threshold (other workers writing): then the copy already
# holds the new inode and is no cut.  One run in 8 at load 12 gave a dump
# whose bootloader's view passed, which this would explain (its files
# were not kept); three tries, each said.
tries=0
until cut_once; do
    tries=$((tries + 1))
    pp_log "try $tries: the kernel inode was written home before the copy (size $(in_place_size "$PP_TMP/cut.img")); again"
    [ "$tries" -lt 3 ] || pp_fail "3 tries: the home block was always written back before the copy"
done
rm -f "$PP_TMP/root.img" "$PP_TMP/empty.img"
[ "$(in_place_size "$PP_TMP/disk.img")" = "$(wc -c <"$PP_TMP/kernel")" ] ||
    pp_fail "the unmounted disk's kernel is $(in_place_size "$PP_TMP/disk.img") bytes, not the kernel's"

export TMPDIR=$PP_TMP/tmp
mkdir -p "$TMPDIR"
sha256sum "$PP_TMP/cut.img" >"$PP_TMP/cut.sum"

# --- 1. two views ---------------------------------------------------------------
rc=0
"$PP_BIN" inspect --json "$PP_TMP/cut.img" >"$PP_TMP/cut.json" 2>"$PP_TMP/cut.err" || rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/cut.err"; pp_fail "cut dump: exit $rc, want 1 (the bootloader's view decides)"; }
J=$PP_TMP/cut.json
jq -e '.image.table == "gpt" and .image.partition == 2 and .image.filesystem.needs_recovery' "$J" >/dev/null ||
    pp_fail "cut dump: image $(jq -c '.image | {table, partition, filesystem}' "$J")"
jq -e '.journal.needs_recovery and (.journal.replayed_by | test("e2fsck .*-E journal_only"))' "$J" >/dev/null ||
    pp_fail "cut dump: journal $(jq -c .journal "$J")"
[ "$(jq -r .outcome "$J")" = brick ] || pp_fail "bootloader's view: outcome $(jq -r .outcome "$J"), want brick"
jq -r '.entries[0].boot_error' "$J" | grep -q "vmlinuz.*empty" ||
    pp_fail "bootloader's view: boot error $(jq -r '.entries[0].boot_error' "$J")"
[ "$(jq -r .kernel_view.outcome "$J")" = pass ] || pp_fail "kernel's view: outcome $(jq -r .kernel_view.outcome "$J"), want pass"
jq -e '.verdicts.bootloader.boots_complete == false and .verdicts.kernel.boots_complete == true
       and .verdicts.exit_status_from == "bootloader"' "$J" >/dev/null ||
    pp_fail "verdicts: $(jq -c .verdicts "$J")"
dep=$(jq -r .verdicts.kernel.deployment "$J")
jq -r '.kernel_view.entries[0].linux' "$J" | grep -q "/boot/$kernel\$" ||
    pp_fail "kernel's view boots $(jq -r '.kernel_view.entries[0].linux' "$J"), not /boot/$kernel"
sha256sum -c --quiet "$PP_TMP/cut.sum" || pp_fail "inspect changed the dump"
[ -z "$(ls -A "$TMPDIR")" ] || pp_fail "cut dump: left behind in \$TMPDIR: $(ls -A "$TMPDIR")"
# The text output: both sections and the disagreement.
rc=0
"$PP_BIN" inspect "$PP_TMP/cut.img" >"$PP_TMP/cut.txt" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || pp_fail "cut dump (text): exit $rc"
for s in "== the bootloader's view" "== the kernel's view" "verdicts: bootloader's view: brick" "the views disagree"; do
    grep -qF "$s" "$PP_TMP/cut.txt" || { cat "$PP_TMP/cut.txt"; pp_fail "text output lacks \"$s\""; }
done
sha256sum -c --quiet "$PP_TMP/cut.sum" || pp_fail "inspect (text) changed the dump"
pp_log "cut dump: bootloader's view brick (kernel empty in place), kernel's view pass ($dep); exit 1; dump unchanged; $(jq -r '.journal | "\(.bytes_copied) bytes copied in \(.copy_seconds) s, replayed in \(.replay_seconds) s"' "$J")"

# --- 2. the twin: the clean disk, one view -------------------------------------
rc=0
"$PP_BIN" inspect --json "$PP_TMP/disk.img" >"$PP_TMP/clean.json" 2>"$PP_TMP/clean.err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$PP_TMP/clean.err"; pp_fail "clean disk: exit $rc, want 0"; }
jq -e '.journal.needs_recovery == false and .kernel_view == null and (.journal.views | startswith("one"))
       and .outcome == "pass"' "$PP_TMP/clean.json" >/dev/null ||
    pp_fail "clean disk: $(jq -c '{outcome, journal, kv: (.kernel_view != null)}' "$PP_TMP/clean.json")"
"$PP_BIN" inspect "$PP_TMP/disk.img" 2>&1 | grep -q "^journal: needs no recovery" ||
    pp_fail "clean disk: the text does not say the journal needs no recovery"
[ -z "$(ls -A "$TMPDIR")" ] || pp_fail "clean disk: left behind in \$TMPDIR: $(ls -A "$TMPDIR")"
pp_log "clean disk (unmounted): one view, pass, exit 0"

# --- 3. a journal e2fsck cannot replay: no kernel's view, said --------------------
# Its superblock (the journal inode's first block) overwritten: e2fsck
# would clear and recreate the journal, which is no replay (the kernel
# refuses to mount it); the bootloader's view is judged alone.
off=$((start * 512))
bs=$(dumpe2fs -h "$PP_TMP/cut.img?offset=$off" 2>/dev/null | sed -n 's/^Block size: *//p')
jb=$(debugfs -R "bmap <8> 0" "$PP_TMP/cut.img?offset=$off" 2>/dev/null)
[ -n "$bs" ] && [ -n "$jb" ] || pp_fail "the journal's first block (block size '$bs', block '$jb')"
cp --sparse=always "$PP_TMP/cut.img" "$PP_TMP/badj.img" &&
    dd if=/dev/urandom of="$PP_TMP/badj.img" bs="$bs" seek=$((off / bs + jb)) count=1 conv=notrunc status=none ||
    pp_fail "overwriting the journal's superblock"
rc=0
"$PP_BIN" inspect --json "$PP_TMP/badj.img" >"$PP_TMP/badj.json" 2>"$PP_TMP/badj.err" || rc=$?
[ "$rc" -eq 1 ] || { cat "$PP_TMP/badj.err"; pp_fail "bad journal: exit $rc, want 1 (the bootloader's view)"; }
jq -e '.kernel_view == null and .verdicts.kernel == null and .outcome == "brick"
       and (.journal.kernel_view_error | test("more than a replay of the journal"))' "$PP_TMP/badj.json" >/dev/null ||
    pp_fail "bad journal: $(jq -c '{outcome, journal}' "$PP_TMP/badj.json")"
[ -z "$(ls -A "$TMPDIR")" ] || pp_fail "bad journal: left behind in \$TMPDIR: $(ls -A "$TMPDIR")"
pp_log "journal superblock overwritten: the bootloader's view alone, brick, exit 1: $(jq -r .journal.kernel_view_error "$PP_TMP/badj.json" | cut -c1-160)..."
pp_log "PASS"
