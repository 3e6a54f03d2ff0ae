#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that harness/ keeps its layering: every #include "ROOM/..." of a
file in harness/ROOM2/ must name a room that ROOM2 may use.

    common -> oracle, server -> sim, vm, postmortem -> cli

(README, Layout).  Usage: check-layers.py [HARNESS_DIR]; prints each
breach as FILE:LINE: ROOM may not include ...; exit 1 when there is one.
"""
import os
import re
import sys

ALLOWED = {
    "common": {"common"},
    "server": {"common", "server"},
    "oracle": {"common", "oracle"},
    "sim": {"common", "server", "oracle", "sim"},
    "vm": {"common", "server", "oracle", "vm"},
    "postmortem": {"common", "server", "oracle", "postmortem"},
    "cli": {"common", "server", "oracle", "sim", "vm", "postmortem", "cli",
            "plugpull.h"},
    "main.c": {"common", "plugpull.h"},
    "plugpull.h": {"common"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def room_of_include(name):
    if "/" in name:
        return name.split("/", 1)[0]
    if name == "plugpull.h":
        return "plugpull.h"
    return None  # cfaultinject's headers, generated headers: below all


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "harness"
    breaches = 0
    files = 0
    for dirpath, _, names in os.walk(top):
        for n in sorted(names):
            if not n.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, n)
            rel = os.path.relpath(path, top)
            room = rel.split(os.sep)[0] if os.sep in rel else rel
            if room not in ALLOWED:
                print(f"{path}: not in a known room of harness/")
                breaches += 1
                continue
            files += 1
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = room_of_include(m.group(1))
                    if target is None:
                        if not os.path.exists(os.path.join(dirpath, m.group(1))):
                            continue
                        target = room  # a header beside the file
                    if target not in ALLOWED[room]:
                        print(f"{path}:{lineno}: {room} may not include "
                              f"\"{m.group(1)}\"")
                        breaches += 1
    print(f"layers: {files} files, {breaches} breaches")
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())
