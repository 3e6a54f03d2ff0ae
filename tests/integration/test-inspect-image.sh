#!/bin/sh
# SPDX-License-Identifier: MIT
# test-inspect-image.sh BUILD_DIR: plugpull inspect judges a disk image
# (the VM tier's disk.img) without root and without mounting, and each
# verdict has its failing twin:
#
#   1. a sparse copy of the pristine disk.img, --repo srv/repo: exit 0,
#      boots v1 (manifest.json commits[0]) from MBR partition 1 at the
#      manifest's partition_offset; the same without --repo (the image's
#      own repo) passes too;
#   2. the twin: the deployed kernel (kernel_image= of /boot/loader/uEnv.txt)
#      emptied with debugfs, as plugpull run --sabotage does: exit 1, brick,
#      the kernel is empty;
#   3. a bare ext4 image (the partition cut out with dd): exit 0; its twins,
#      unreadable inputs, exit 2 with a message naming the file and why: a
#      garbage file, a truncated disk, a filesystem debugfs cannot open;
#   4. as an unprivileged user (when run as root and setpriv exists): exit 0,
#      the owners coming from the image, not from the extracted copy.
# After every run the private extraction directory must be gone ($TMPDIR
# is pointed at an empty directory of the test).
#
# Builds or reuses BUILD_DIR/image (plugpull image build, as
# test-image-boot.sh does); skips (77) when that cannot be built here.
# Runs no QEMU.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
PATH=$PATH:/usr/sbin:/sbin
pp_need_cmd debugfs jq dd truncate

IMG=$PP_BUILD/image
pp_need_image "$IMG"
M=$IMG/manifest.json
V1=$(pp_json_get "$M" '.commits[0]')
OFFSET=$(pp_json_get "$M" '.partition_offset')
SRV=$IMG/srv/repo

# Extraction goes under $TMPDIR: an empty directory that must stay empty.
export TMPDIR=$PP_TMP/tmp
mkdir -p "$TMPDIR"

# inspect NAME WANT_RC ARGS...: run plugpull inspect, stdout to
# $PP_TMP/NAME.out, stderr to NAME.err; fail unless it exits WANT_RC and
# leaves nothing under $TMPDIR.
inspect() {
    name=$1
    want=$2
    shift 2
    rc=0
    "$PP_BIN" inspect "$@" >"$PP_TMP/$name.out" 2>"$PP_TMP/$name.err" || rc=$?
    if [ "$rc" -ne "$want" ]; then
        cat "$PP_TMP/$name.err" "$PP_TMP/$name.out" >&2
        pp_fail "$name: plugpull inspect $* exited $rc, want $want"
    fi
    left=$(ls -A "$TMPDIR")
    [ -z "$left" ] || pp_fail "$name: left behind in \$TMPDIR: $left"
}

# --- 1. the pristine image ---------------------------------------------------
cp --sparse=always "$IMG/disk.img" "$PP_TMP/good.img" || pp_fail "copy of disk.img failed"
inspect good 0 --json --repo "$SRV" "$PP_TMP/good.img"
J=$PP_TMP/good.out
[ "$(jq -r .outcome "$J")" = pass ] || pp_fail "good image: outcome $(jq -r '.outcome + ": " + .reason' "$J")"
booted=$(jq -r '.entries[.booted].commit' "$J")
[ "$booted" = "$V1" ] || pp_fail "good image boots $booted, not v1 $V1"
[ "$(jq -r '.entries[.booted].tree.complete' "$J")" = true ] || pp_fail "good image: tree not complete"
[ "$(jq -r .backend "$J")" = uboot ] || pp_fail "good image: backend $(jq -r .backend "$J"), not uboot"
[ "$(jq -r .image.layout "$J")" = mbr ] || pp_fail "good image: layout $(jq -r .image.layout "$J")"
[ "$(jq -r .image.partition "$J")" = 1 ] || pp_fail "good image: partition $(jq -r .image.partition "$J")"
[ "$(jq -r .image.offset "$J")" = "$OFFSET" ] || pp_fail "good image: offset $(jq -r .image.offset "$J"), manifest says $OFFSET"
[ "$(jq -r .image.filesystem.label "$J")" = root ] || pp_fail "good image: label $(jq -r .image.filesystem.label "$J")"
[ "$(jq -r .image.path "$J")" = "$PP_TMP/good.img" ] || pp_fail "good image: image.path $(jq -r .image.path "$J")"
# rdump drops the sticky bit of the trees' tmp/: the overlay must give it back.
[ "$(jq -r .image.extraction.mode_or_owner_from_image "$J")" -ge 1 ] ||
    pp_fail "good image: no mode or owner taken from the image (the sticky tmp/)"
[ "$(jq -r .repo.ok "$J")" = true ] || pp_fail "good image: repo not ok: $(jq -c .repo.problems "$J")"
pp_log "pristine image: exit 0, boots v1 ${V1%"${V1#????????????}"} from partition 1 at offset $OFFSET; rdump $(jq -r '.image.extraction.rdump_seconds * 10 | round / 10' "$J") s, ls -p pass $(jq -r '.image.extraction.list_seconds * 10 | round / 10' "$J") s, judgement $(jq -r '.elapsed_us / 100000 | round / 10' "$J") s"

inspect good-self 0 "$PP_TMP/good.img"
grep -q "^image: $PP_TMP/good.img (.*MBR partition 1 (bootable, type 0x83) at offset $OFFSET" "$PP_TMP/good-self.out" ||
    pp_fail "good image, text: no 'image:' line naming the partition: $(head -2 "$PP_TMP/good-self.out")"
grep -q "^known trees: .* the image's own repo" "$PP_TMP/good-self.out" ||
    pp_fail "good image without --repo: known trees not from the image's repo"
grep -q "^outcome: pass" "$PP_TMP/good-self.out" || pp_fail "good image without --repo: $(grep outcome "$PP_TMP/good-self.out")"
pp_log "pristine image without --repo (self-consistency): exit 0"

# --- 2. the twin: the deployed kernel emptied --------------------------------
cp --sparse=always "$IMG/disk.img" "$PP_TMP/bad.img" || pp_fail "copy of disk.img failed"
KERNEL=$(debugfs -R "cat /boot/loader/uEnv.txt" "$PP_TMP/bad.img?offset=$OFFSET" 2>/dev/null |
    sed -n 's/^kernel_image=//p')
[ -n "$KERNEL" ] || pp_fail "no kernel_image= in the image's /boot/loader/uEnv.txt"
printf 'rm %s\nwrite /dev/null %s\n' "$KERNEL" "$KERNEL" >"$PP_TMP/debugfs.cmds"
debugfs -w -f "$PP_TMP/debugfs.cmds" "$PP_TMP/bad.img?offset=$OFFSET" >"$PP_TMP/debugfs.out" 2>&1 ||
    pp_fail "debugfs on bad.img failed: $(cat "$PP_TMP/debugfs.out")"
inspect bad 1 --json --repo "$SRV" "$PP_TMP/bad.img"
J=$PP_TMP/bad.out
[ "$(jq -r .outcome "$J")" = brick ] || pp_fail "emptied kernel: outcome $(jq -r .outcome "$J"), want brick"
[ "$(jq -r .booted "$J")" = -1 ] || pp_fail "emptied kernel: something boots (entry $(jq -r .booted "$J"))"
jq -r .reason "$J" | grep -q "kernel $KERNEL: .*: empty" ||
    pp_fail "emptied kernel: the reason does not say the kernel is empty: $(jq -r .reason "$J")"
pp_log "kernel emptied: exit 1, brick: $(jq -r .reason "$J" | cut -c1-60)..."

# --- 3. a bare filesystem, and unreadable inputs ------------------------------
dd if="$IMG/disk.img" of="$PP_TMP/bare.img" bs=1M skip=$((OFFSET / 1048576)) conv=sparse status=none ||
    pp_fail "dd of the partition failed"
inspect bare 0 --json --repo "$SRV" "$PP_TMP/bare.img"
J=$PP_TMP/bare.out
[ "$(jq -r .image.layout "$J")" = bare ] || pp_fail "bare image: layout $(jq -r .image.layout "$J")"
[ "$(jq -r .image.offset "$J")" = 0 ] || pp_fail "bare image: offset $(jq -r .image.offset "$J")"
[ "$(jq -r '.entries[.booted].commit' "$J")" = "$V1" ] || pp_fail "bare image does not boot v1"
pp_log "bare ext4 image: exit 0, boots v1"

# Not random: random bytes could hold 55 aa at 510 once in 65536 runs.
yes 'not a disk image' | head -c 1048576 >"$PP_TMP/garbage.img"
inspect garbage 2 "$PP_TMP/garbage.img"
grep -q "garbage.img: not a disk image: no MBR .* and no ext2/3/4 filesystem" "$PP_TMP/garbage.err" ||
    pp_fail "garbage: message: $(cat "$PP_TMP/garbage.err")"
pp_log "garbage: exit 2: $(cat "$PP_TMP/garbage.err")"

cp --sparse=always "$IMG/disk.img" "$PP_TMP/short.img" && truncate -s 100M "$PP_TMP/short.img" ||
    pp_fail "making short.img failed"
inspect short 2 "$PP_TMP/short.img"
grep -q "short.img: partition 1 ends at byte [0-9]*, past the end of the image (104857600 bytes): truncated" "$PP_TMP/short.err" ||
    pp_fail "truncated: message: $(cat "$PP_TMP/short.err")"
pp_log "truncated: exit 2: $(cat "$PP_TMP/short.err")"

# The superblock is fine, the block group descriptors after it are zeros:
# debugfs cannot open it, and says so only on stderr (it exits 0).
cp --sparse=always "$PP_TMP/bare.img" "$PP_TMP/corrupt.img" &&
    dd if=/dev/zero of="$PP_TMP/corrupt.img" bs=1024 seek=2 count=8 conv=notrunc status=none ||
    pp_fail "making corrupt.img failed"
inspect corrupt 2 "$PP_TMP/corrupt.img"
grep -q "debugfs .*corrupt.img.*: cannot read the filesystem" "$PP_TMP/corrupt.err" ||
    pp_fail "corrupt: message: $(cat "$PP_TMP/corrupt.err")"
pp_log "corrupt filesystem: exit 2: $(cut -c1-150 "$PP_TMP/corrupt.err")..."

# --- 4. without root ------------------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
    # nobody needs to reach the image, the binary and $TMPDIR.
    chmod 0755 "$PP_TMP"
    chown 65534 "$TMPDIR"
    rc=0
    setpriv --reuid=65534 --regid=65534 --clear-groups \
        env TMPDIR="$TMPDIR" PATH=/usr/bin:/bin \
        "$PP_BIN" inspect --json --repo "$SRV" "$PP_TMP/good.img" \
        >"$PP_TMP/nobody.out" 2>"$PP_TMP/nobody.err" || rc=$?
    [ "$rc" -eq 0 ] || pp_fail "as nobody: exit $rc: $(cat "$PP_TMP/nobody.err") $(jq -r .reason "$PP_TMP/nobody.out" 2>/dev/null)"
    [ -z "$(ls -A "$TMPDIR")" ] || pp_fail "as nobody: left behind: $(ls -A "$TMPDIR")"
    J=$PP_TMP/nobody.out
    [ "$(jq -r '.image.extraction.chown_failed' "$J")" -gt 0 ] ||
        pp_fail "as nobody: debugfs could chown?"
    pp_log "as nobody: exit 0; $(jq -r .image.extraction.mode_or_owner_from_image "$J") names' owner or mode from the image"
else
    pp_log "not root or no setpriv: the unprivileged run is not checked"
fi
pp_log "PASS"
