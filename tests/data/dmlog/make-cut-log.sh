#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerate cut.log, the unit test's real dm-log-writes log (test-dmlog.c):
# QEMU's blklogwrites driver (qemu-io, QEMU 7.2) over a 64 KiB disk, with
# a flush in the middle and the process killed (abort) before it closes,
# so the superblock counts only the entries up to the last flush, as
# after a power cut of the VM tier.  Requests, in order:
#   0 write 0x11 at 0, 4 KiB        1 flush
#   2 write 0x22 at 4096, 1 KiB     3 write zeroes at 8192, 2 KiB
#   4 write 0x33 at 0, 512          5 write 0x44 at 16384, 512 (FUA: QEMU
#   6 flush (the FUA's)               logs it as the write and a flush)
#   7 write 0x55 at 20480, 1 KiB    8 discard 32768, 4 KiB
# Usage: sh tests/data/dmlog/make-cut-log.sh OUT.log
set -eu
out=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
truncate -s 64k "$tmp/disk.img"
: >"$tmp/cut.log"
# abort(): the log as a SIGKILL leaves it (no close, no final flush).
(ulimit -c 0
 qemu-io -t writeback --image-opts \
    "driver=blklogwrites,file.driver=file,file.filename=$tmp/disk.img,log.driver=file,log.filename=$tmp/cut.log" \
    -c 'write -P 0x11 0 4k' -c flush -c 'write -P 0x22 4096 1k' \
    -c 'write -z 8192 2k' -c 'write -P 0x33 0 512' \
    -c 'write -f -P 0x44 16384 512' -c 'write -P 0x55 20480 1k' \
    -c 'discard 32768 4k' -c abort >/dev/null 2>&1) || true
cp "$tmp/cut.log" "$out"
