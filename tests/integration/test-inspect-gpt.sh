#!/bin/sh
# SPDX-License-Identifier: MIT
# test-inspect-gpt.sh BUILD_DIR: plugpull inspect reads a GPT disk dump, as
# most field devices' dumps are, and keeps hard links and extended
# attributes when it copies the filesystem out.
#
# The dump is a failing crash state of the fsync-disabled self-check
# (materialised with plugpull replay --keep, as test-reproduce.sh makes its
# field dump), with a hard-linked pair and a user.* xattr added, made into
# ext4 with mke2fs -d (which copies both) and written as partition 2 of a
# GPT disk whose partition 1 is an empty "esp":
#   1. inspect of the disk: partition 2 chosen (its filesystem holds
#      ostree/), table gpt; the same verdict as inspect of the directory;
#      the extracted pair is one inode with link count 2, the xattr is on
#      the extracted file; nothing left under $TMPDIR;
#   2. the twin: the same disk with its GPT header and protective MBR
#      zeroed: exit 2, naming the file.
# Runs as root only (mke2fs -d keeps the crash state's owners, as the
# directory's judgement sees them; test-reproduce.sh has the same need).
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
PATH=$PATH:/usr/sbin:/sbin
pp_need_cmd jq sfdisk mke2fs debugfs dd truncate cp python3
[ "$(id -u)" -eq 0 ] || pp_skip "needs root (mke2fs -d keeps the owners)"
scen=$(cd "$(dirname "$0")/../../scenarios" && pwd)/fsync-disabled.conf

# --- the crash state ----------------------------------------------------------
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
cp -a "$PP_TMP/keep/$src_id" "$PP_TMP/dump" || pp_fail "copying the crash state"
rm -rf "$PP_TMP/keep" "$PP_TMP/sim"

# A hard-linked pair and an extended attribute, outside the trees judged.
mkdir -p "$PP_TMP/dump/home" &&
    printf 'pair\n' >"$PP_TMP/dump/home/a" &&
    ln "$PP_TMP/dump/home/a" "$PP_TMP/dump/home/b" ||
    pp_fail "making the hard-linked pair"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.plugpull", b"label-1")' \
    "$PP_TMP/dump/home/a" 2>"$PP_TMP/setxattr.err" ||
    pp_skip "this filesystem takes no user xattrs: $(cat "$PP_TMP/setxattr.err")"

# --- the GPT disk -------------------------------------------------------------
kb=$(du -sk "$PP_TMP/dump" | cut -f1)
fs_kb=$((kb * 2 + 32768))
mke2fs -q -F -t ext4 -d "$PP_TMP/dump" "$PP_TMP/root.img" "${fs_kb}k" \
    >"$PP_TMP/mke2fs.log" 2>&1 || { cat "$PP_TMP/mke2fs.log"; pp_fail "mke2fs -d"; }
# mke2fs -d copies xattrs and hard links: check, so that a failure below
# is the extraction's.
debugfs -R "ea_list /home/a" "$PP_TMP/root.img" 2>/dev/null | grep -q 'user.plugpull (7) = "label-1"' ||
    pp_fail "mke2fs -d did not copy the xattr"
truncate -s $((fs_kb + 4096))k "$PP_TMP/disk.img" || pp_fail "truncate"
printf 'label: gpt\nstart=2048, size=1M, type=uefi, name=esp\nsize=%sK, type=linux, name=root\n' "$fs_kb" |
    sfdisk -q "$PP_TMP/disk.img" >"$PP_TMP/sfdisk.log" 2>&1 || { cat "$PP_TMP/sfdisk.log"; pp_fail "sfdisk"; }
start=$(sfdisk -J "$PP_TMP/disk.img" | jq '.partitiontable.partitions[1].start')
dd if="$PP_TMP/root.img" of="$PP_TMP/disk.img" bs=512 seek="$start" conv=notrunc,sparse status=none ||
    pp_fail "dd of the filesystem"
rm -f "$PP_TMP/root.img"

export TMPDIR=$PP_TMP/tmp
mkdir -p "$TMPDIR"

# --- 1. inspect the directory and the disk -----------------------------------
rc_dir=0
"$PP_BIN" inspect --json "$PP_TMP/dump" >"$PP_TMP/dir.json" 2>"$PP_TMP/dir.err" || rc_dir=$?
rc_img=0
PP_KEEP_EXTRACT=1 "$PP_BIN" inspect --json "$PP_TMP/disk.img" >"$PP_TMP/img.json" 2>"$PP_TMP/img.err" || rc_img=$?
[ "$rc_img" -eq "$rc_dir" ] || { cat "$PP_TMP/img.err"; pp_fail "disk: exit $rc_img, the directory $rc_dir"; }
J=$PP_TMP/img.json
for k in outcome booted backend; do
    [ "$(jq -c ".$k" "$J")" = "$(jq -c ".$k" "$PP_TMP/dir.json")" ] ||
        pp_fail "disk: $k $(jq -c ".$k" "$J"), the directory $(jq -c ".$k" "$PP_TMP/dir.json")"
done
[ "$(jq -c .repo.problems "$J")" = "$(jq -c .repo.problems "$PP_TMP/dir.json")" ] ||
    pp_fail "disk: repo problems differ: $(jq -c .repo.problems "$J") vs $(jq -c .repo.problems "$PP_TMP/dir.json")"
[ "$(jq -r .image.table "$J")" = gpt ] || pp_fail "disk: table $(jq -r .image.table "$J")"
[ "$(jq -r .image.partition "$J")" = 2 ] || pp_fail "disk: partition $(jq -r .image.partition "$J")"
[ "$(jq -r .image.offset "$J")" = $((start * 512)) ] || pp_fail "disk: offset $(jq -r .image.offset "$J")"
[ "$(jq -r .image.filesystem.type "$J")" = ext4 ] || pp_fail "disk: filesystem $(jq -r .image.filesystem.type "$J")"
jq -r .image.chosen "$J" | grep -q 'ostree/' || pp_fail "disk: chosen because $(jq -r .image.chosen "$J")"
jq -e '.image.partitions | length == 2' "$J" >/dev/null || pp_fail "disk: partitions $(jq -c .image.partitions "$J")"
jq -e '.image.extraction.relinked_names >= 1 and .image.extraction.xattrs_set >= 1' "$J" >/dev/null ||
    pp_fail "disk: extraction $(jq -c .image.extraction "$J")"
jq -r '.notes[]?' "$J" | grep -q 'hard-linked\|extended attributes are not' &&
    pp_fail "disk: a note says links or xattrs are lost: $(jq -c .notes "$J")"

kept=$(sed -n 's/^plugpull: kept \(.*\) (PP_KEEP_EXTRACT set)$/\1/p' "$PP_TMP/img.err")
[ -n "$kept" ] && [ -d "$kept/sysroot" ] || pp_fail "disk: no extraction kept: $(cat "$PP_TMP/img.err")"
S=$kept/sysroot
[ "$(stat -c %i "$S/home/a")" = "$(stat -c %i "$S/home/b")" ] || pp_fail "the pair was extracted as two inodes"
[ "$(stat -c %h "$S/home/a")" = 2 ] || pp_fail "the pair's link count is $(stat -c %h "$S/home/a"), not 2"
v=$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.plugpull").decode())' "$S/home/a") ||
    pp_fail "the xattr is not on the extracted file"
[ "$v" = label-1 ] || pp_fail "the extracted xattr is \"$v\", not label-1"
# ostree's hard links (the deployment's checkout of the repo) stay links too.
nl=$(find "$S/ostree/deploy" -type f -links +1 2>/dev/null | head -1)
[ -n "$nl" ] || pp_fail "no hard-linked file in the extracted deployments"
rm -rf "$kept"
[ -z "$(ls -A "$TMPDIR")" ] || pp_fail "left behind in \$TMPDIR: $(ls -A "$TMPDIR")"
pp_log "GPT disk: partition 2 at $((start * 512)), same verdict as the directory ($(jq -r .outcome "$J"), exit $rc_img); $(jq -r .image.extraction.relinked_names "$J") names re-linked, $(jq -r .image.extraction.xattrs_set "$J") xattr(s) set"

# --- 2. the twin: GPT header and protective MBR zeroed --------------------------
dd if=/dev/zero of="$PP_TMP/disk.img" bs=512 count=34 conv=notrunc status=none || pp_fail "dd"
rc=0
"$PP_BIN" inspect "$PP_TMP/disk.img" >"$PP_TMP/zero.out" 2>"$PP_TMP/zero.err" || rc=$?
[ "$rc" -eq 2 ] || { cat "$PP_TMP/zero.err"; pp_fail "zeroed GPT: exit $rc, want 2"; }
grep -q "disk.img: not a disk image" "$PP_TMP/zero.err" || pp_fail "zeroed GPT: message: $(cat "$PP_TMP/zero.err")"
[ -z "$(ls -A "$TMPDIR")" ] || pp_fail "zeroed GPT: left behind in \$TMPDIR: $(ls -A "$TMPDIR")"
pp_log "zeroed GPT header: exit 2: $(cat "$PP_TMP/zero.err")"
pp_log "PASS"
