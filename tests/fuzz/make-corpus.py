#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make-corpus.py CORPUS_DIR: write the synthetic seeds of the fuzz corpora.

trace/     malformed traces derived from trace/real-basic.cfit (made by
           make-corpus.sh): every check of trace-reader.c hit once, plus
           records with unknown ops/calls, equal seqs, embedded NULs.
scenario/  the shipped scenarios/*.conf and malformed variants.
config/    CFAULTINJECT strings, good and bad.
"""
import os
import shutil
import struct
import sys

HDR = 4096
REC = struct.Struct("<IIIHHQQIIqiiiIIIQqqQQQQQQHHI")
assert REC.size == 152


def crc32c(data, crc=0):
    table = crc32c.table
    if table is None:
        table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            table.append(c)
        crc32c.table = table
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


crc32c.table = None


def header(version=1, hdr_size=HDR, data_mode=0, magic=b"CFITRACE",
           reserved7=0, size=HDR):
    h = magic + struct.pack("<IIQQII", version, hdr_size, 0, 0, data_mode, 1)
    h += struct.pack("<8Q", 0, 0, 0, 0, 0, 0, 0, reserved7)
    return h + b"\0" * (size - len(h))


def record(op=3, call=11, seq=0, path=b"", path2=b"", data=b"", fd=3,
           fd2=-1, result=None, err=0, flags=0, off=0, length=None,
           size=None, magic=0x52494643, seal=True):
    if result is None:
        result = len(data)
    if length is None:
        length = len(data)
    var = path + path2 + data
    total = (REC.size + len(var) + 7) // 8 * 8
    if size is None:
        size = total
    fixed = REC.pack(magic, size, 0, call, op, seq, 0, 1, 1, result, err, fd,
                     fd2, flags, 0, 0, 0o644, off, -1, length, 0, 0, 0, 0, 0,
                     len(path), len(path2), len(data))
    body = fixed + var + b"\0" * (total - REC.size - len(var))
    if seal:
        crc = crc32c(body[12:size] if size <= len(body) else body[12:])
        body = body[:8] + struct.pack("<I", crc) + body[12:]
    return body


def w(d, name, data):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(d, name), mode) as f:
        f.write(data)


def traces(d):
    real = open(os.path.join(d, "real-basic.cfit"), "rb").read()
    first = REC.unpack_from(real, HDR)
    w(d, "bad-empty.cfit", b"")
    w(d, "bad-short-header.cfit", real[:20])
    w(d, "bad-header-only.cfit", real[:HDR])
    w(d, "bad-magic.cfit", b"CFITRACX" + real[8:])
    w(d, "bad-version.cfit", header(version=2) + real[HDR:])
    w(d, "bad-hdr-size-big.cfit", header(hdr_size=1 << 20) + real[HDR:])
    w(d, "bad-hdr-size-odd.cfit", header(hdr_size=4092) + real[HDR:])
    w(d, "bad-hdr-size-small.cfit", header(hdr_size=8) + real[HDR:])
    w(d, "bad-data-mode.cfit", header(data_mode=9) + real[HDR:])
    # Cut inside the second record: the first one is kept.
    second = HDR + first[1]
    w(d, "bad-truncated-mid-record.cfit", real[:second + 30])
    w(d, "bad-truncated-in-rec-header.cfit", real[:second + 7])
    # Wrong crc (reserved[7] != 0: fuzz-trace keeps it wrong).
    flipped = bytearray(header(reserved7=1) + real[HDR:])
    flipped[HDR + REC.size + 1] ^= 0x40  # a byte of the path
    w(d, "bad-crc.cfit", bytes(flipped))
    h = header()
    w(d, "bad-rec-magic.cfit", h + record(magic=0x12345678, data=b"x\n"))
    w(d, "bad-rec-size-unaligned.cfit", h + record(size=155, data=b"x"))
    w(d, "bad-rec-size-small.cfit", h + record(size=8))
    w(d, "bad-rec-size-huge.cfit", h + record(size=0xFFFFFFF8, data=b"x"))
    w(d, "bad-rec-size-past-eof.cfit", h + record(size=1024, data=b"x"))
    big = record(data=b"y" * 8)
    big = big[:REC.size - 4] + struct.pack("<I", 0xFFFFFFF0) + big[REC.size:]
    w(d, "bad-rec-lengths-exceed-size.cfit", h + big)
    # Well-sealed but odd records the formatter must cope with.
    odd = [
        record(op=200, call=0xFFFF, seq=5, path=b"/unknown/op"),
        record(op=0, call=0, seq=5, result=-1, err=-7),
        record(op=12, call=35, seq=1, path=b"/a\0hidden", path2=b"/b"),
        record(op=13, call=38, seq=2, path=b"", path2=b"/l", fd2=7,
               flags=0xFFFFFFFF),
        record(op=3, call=13, seq=3, data=bytes(range(256)) * 4, off=-5,
               length=2 ** 64 - 1),
        record(op=6, call=29, seq=2 ** 64 - 1, fd=-1, result=-1, err=5),
        record(op=26, call=60, seq=0, path=b"%s%n%x", result=-2 ** 63),
    ]
    w(d, "odd-records.cfit", h + b"".join(odd))
    w(d, "odd-short-header.cfit",
      header(hdr_size=104, size=104) + b"".join(odd[:3]))
    w(d, "odd-then-garbage.cfit", h + odd[0] + b"\xff" * 64)


def scenarios(d, top):
    src = os.path.join(top, "scenarios")
    for n in sorted(os.listdir(src)):
        if n.endswith(".conf"):
            shutil.copy(os.path.join(src, n), os.path.join(d, "good-" + n))
    bad = {
        "empty": "",
        "comment-only": "# nothing\n\n",
        "unknown-section": "[scenario]\nname = x\n[nope]\na = b\n",
        "unknown-key": "[firmware]\nfrom = 1\nto = 2\nsize = 3\n",
        "bad-values": "[firmware]\npayload-kb = 8\nfrom = 0\nto = x\n"
                      "static-delta = yes\n[crash]\nmodel = fast\n"
                      "points = sample:0\n[verify]\nresume = sample:\n"
                      "rollback = 1\n",
        "no-equals": "[scenario]\nname\n",
        "open-group": "[scenario\nname = x\n",
        "key-before-group": "name = x\n[scenario]\n",
        "duplicate": "[scenario]\nname = a\nname = b\n[scenario]\nname = c\n",
        "from-not-older": "[firmware]\nfrom = 3\nto = 1\n",
        "pull-same": "[firmware]\nfrom = 2\nto = 2\n[client]\naction = pull\n",
        "huge-numbers": "[firmware]\npayload-kb = 99999999999999999999\n"
                        "[crash]\nseed = 18446744073709551616\n"
                        "points = sample:4294967296\n",
        "repo-config": "[device]\nrepo-config = core.fsync=false; ;"
                       "a.b=c;=x;.k=v;nodot=1;x.y\n",
        "escapes": "[scenario]\nname = \\s\\t\\n\\\\x\\\ndescription = "
                   "\\u00e9 \\\n",
        "locale-key": "[scenario]\nname[de] = x\nname = y\n",
        "empty-name": "[scenario]\nname =\n[client]\nostree =   \n",
        "bad-utf8": b"[scenario]\nname = \xff\xfe\n",
        "enum-pipe": "[device]\nbootloader = uboot|bls\n[client]\n"
                     "action = |\n",
        "spaces": "  [crash]  \n  model   =   torn  \n points=all\n",
        "fault": "[fault]\ninject = calls=fsync;action=crash;;nth\n"
                 "network = drop:0.5,drop:0.1,stall:,5xx:1e400\n"
                 "stall-ms = 0\n[crash]\npoints = none\n",
    }
    for k, v in bad.items():
        w(d, "bad-" + k + ".conf", v)


def configs(d):
    cases = {
        "trace": "mode=trace;trace=/tmp/t.cfit",
        "trace-digest": "mode=trace;trace=/tmp/t.cfit;data=digest;seed=42",
        "passthrough": "mode=passthrough",
        "fault": "mode=fault;[rule];calls=pwrite64,fsync;errno=ENOSPC;nth=3",
        "fault-short": "mode=fault\n[rule]\nops=write\nshort=yes\n"
                       "timing=after # half then EIO\n",
        "crash": "mode=crash;trace=/var/tmp/x.cfit;notify=fd:3;[rule];"
                 "ops=rename,fsync;path=/sysroot/ostree/repo/*;seq=1234;"
                 "kill=wait",
        "crash-prob": "mode=crash;notify=unix:/run/pp.sock;seed=7;[rule];"
                      "prob=0.25;path=*/[!.]*[a-z]?.file;[rule];prob=1;"
                      "ops=sync",
        "many-rules": "mode=fault" + ";[rule];ops=fsync" * 16,
        "bad-too-many-rules": "mode=fault" + ";[rule];ops=fsync" * 17,
        "bad-unknown-call": "mode=fault;[rule];calls=fsinc",
        "bad-unknown-key": "mode=trace;trace=/t;colour=blue",
        "bad-no-mode": "trace=/tmp/t",
        "bad-relative-trace": "mode=trace;trace=t.cfit",
        "bad-glob": "mode=fault;[rule];path=/a/[bc",
        "bad-glob-escape": "mode=fault;[rule];path=/a\\",
        "bad-errno": "mode=fault;[rule];calls=rename;errno=ENOSPC2",
        "bad-errno-for-call": "mode=fault;[rule];calls=close;errno=EXDEV",
        "bad-short-rename": "mode=fault;[rule];ops=rename;short=yes",
        "bad-prob": "mode=fault;[rule];prob=1.5",
        "bad-nth-zero": "mode=fault;[rule];nth=0",
        "bad-seq-overflow": "mode=fault;[rule];seq=18446744073709551616",
        "bad-notify": "mode=trace;trace=/t;notify=fd:70000",
        "bad-passthrough-rule": "mode=passthrough;[rule]",
        "bad-no-equals": "mode=trace;;;  garbage  ",
        "bad-empty-list": "mode=fault;[rule];ops=",
        "bad-long-trace": "mode=trace;trace=/" + "a" * 5000,
        "bad-long-glob": "mode=fault;[rule];path=" + "*" * 600,
        "empty": "",
    }
    for k, v in cases.items():
        w(d, k, v)


def main():
    corpus = sys.argv[1]
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(corpus))))
    for t in ("trace", "scenario", "config"):
        os.makedirs(os.path.join(corpus, t), exist_ok=True)
    traces(os.path.join(corpus, "trace"))
    scenarios(os.path.join(corpus, "scenario"), top)
    configs(os.path.join(corpus, "config"))


if __name__ == "__main__":
    main()
