#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vm-boot-split.py: where a VM-tier boot's time goes, from the stamped
console logs (NAME.serial.times, written beside every NAME.serial by
plugpull run: "SECONDS LINE", seconds since QEMU was started at which the
line's first byte reached the host; "SECONDS > LINE" for what the host
sent).

  vm-boot-split.py [--json] FILE.serial.times...

Prints one row per boot and the median of every stage.  Stages (each from
the first line of one kind to the first line of the next kind):

  firmware      QEMU start -> U-Boot's banner
  uboot         banner -> "Hit any key to stop autoboot"
  autoboot      that prompt -> the next line (countdown over, or key
                pressed and bootcmd typed by the host)
  distro_boot   -> "PLUGPULL-UBOOT script on" (device scan, boot.scr found)
  script        -> "PLUGPULL-UBOOT zboot" (uEnv.txt, kernel, initramfs read)
  zboot         -> U-Boot's "Starting kernel ..."
  decompress    -> the kernel's time zero (the initramfs line's
                uptime= subtracted from its arrival): the bzImage
                decompressor and early setup before timekeeping
  kernel        -> "PLUGPULL-INITRAMFS start" (kernel init until /init runs)
  modules_mount -> "PLUGPULL-INITRAMFS mounted" (modprobe, root device, mount)
  prepare_root  -> "PLUGPULL-INITRAMFS prepare-root done"
  init          -> "PLUGPULL-AGENT booted" (switch_root, guest-init)
  to_agent      QEMU start -> "PLUGPULL-AGENT booted" (the sum of the above)
  status        host sends "ostree admin status" -> the agent's "done";
                boot B runs status and fsck at once (harness/vm/vm-verdict.c):
                the combined command -> its "PLUGPULL-STATUS rc=" line
  fsck          host sends the repo check ("ostree fsck ...", or the
                "if [ -x .../guest-fsck ..." of the built-in image) -> the
                agent's "done"; or the
                combined command -> its "PLUGPULL-FSCK rc=" line
  verdict       the combined command -> the agent's "done" (both checks
                and their outputs printed)
  net_setup     host sends "ip link set eth0 up && ... config set ..." (the
                network and the remote, before an update) -> "done"

A stage whose marks are missing (a boot that failed, a log without
status or fsck) is left out of that boot's row and of the median.
"""
import json
import re
import statistics
import sys

MARKS = [
    ("banner", lambda l: l.startswith("U-Boot 20")),
    ("autoboot", lambda l: "Hit any key to stop autoboot" in l),
    # "after_autoboot" is the line after the autoboot one: handled below.
    ("script", lambda l: "PLUGPULL-UBOOT script on" in l),
    ("zboot", lambda l: "PLUGPULL-UBOOT zboot" in l),
    ("starting", lambda l: l.startswith("Starting kernel")),
    ("initramfs", lambda l: "PLUGPULL-INITRAMFS start" in l),
    ("mounted", lambda l: "PLUGPULL-INITRAMFS mounted" in l),
    ("prepared", lambda l: "PLUGPULL-INITRAMFS prepare-root done" in l),
    ("agent", lambda l: "PLUGPULL-AGENT booted" in l),
]
STAGES = ["firmware", "uboot", "autoboot", "distro_boot", "script", "zboot",
          "decompress", "kernel", "modules_mount", "prepare_root", "init",
          "to_agent", "status", "fsck", "verdict", "net_setup"]


def parse(path):
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            m = re.match(r"\s*([0-9.]+) (.*)", raw.rstrip("\n"))
            if m:
                rows.append((float(m.group(1)), m.group(2)))
    return rows


def command_time(rows, prefix):
    """Seconds from the host's "> PREFIX..." to the next agent "done"."""
    for i, (t, l) in enumerate(rows):
        if l.startswith("> " + prefix):
            for t2, l2 in rows[i + 1:]:
                if "PLUGPULL-AGENT done rc=" in l2:
                    return t2 - t
            return None
    return None


def command_time_to(rows, prefix, needle):
    """Seconds from the host's "> PREFIX..." to the next line holding needle."""
    for i, (t, l) in enumerate(rows):
        if l.startswith("> " + prefix):
            for t2, l2 in rows[i + 1:]:
                if needle in l2:
                    return t2 - t
            return None
    return None


def split(path):
    rows = parse(path)
    at = {}
    for i, (t, l) in enumerate(rows):
        if l.startswith("> "):
            continue
        for name, match in MARKS:
            if name not in at and match(l):
                at[name] = t
                if name == "autoboot":
                    nxt = [t2 for t2, l2 in rows[i + 1:] if not l2.startswith("> ")]
                    if nxt:
                        at["after_autoboot"] = nxt[0]
                if name == "initramfs":
                    m = re.search(r"uptime=([0-9.]+)", l)
                    if m:
                        at["kernel0"] = t - float(m.group(1))
    s = {}

    def span(name, a, b):
        if a in at and b in at:
            s[name] = at[b] - at[a]

    if "banner" in at:
        s["firmware"] = at["banner"]
    span("uboot", "banner", "autoboot")
    span("autoboot", "autoboot", "after_autoboot")
    span("distro_boot", "after_autoboot", "script")
    span("script", "script", "zboot")
    span("zboot", "zboot", "starting")
    span("decompress", "starting", "kernel0")
    span("kernel", "kernel0", "initramfs")
    span("modules_mount", "initramfs", "mounted")
    span("prepare_root", "mounted", "prepared")
    span("init", "prepared", "agent")
    if "agent" in at:
        s["to_agent"] = at["agent"]
    # The repo check: the image's guest-fsck when it has one, else ostree
    # fsck (harness/vm/vm-verdict.c, pp_fsck_command).
    for name, prefix in (("status", "ostree admin status"), ("fsck", "ostree fsck"),
                         ("fsck", "if [ -x /usr/lib/plugpull/guest-fsck"),
                         ("net_setup", "ip link set eth0 up")):
        v = command_time(rows, prefix)
        if v is not None:
            s[name] = v
    # Boot B's status and fsck at once, one command (harness/vm/vm-verdict.c).
    both = "(ostree admin status"
    for name, needle in (("status", "PLUGPULL-STATUS rc="),
                         ("fsck", "PLUGPULL-FSCK rc="),
                         ("verdict", "PLUGPULL-AGENT done rc=")):
        v = command_time_to(rows, both, needle)
        if v is not None:
            s[name] = v
    return s


def main(argv):
    as_json = False
    if argv and argv[0] == "--json":
        as_json = True
        argv = argv[1:]
    if not argv:
        sys.stderr.write(__doc__)
        return 2
    splits = [(p, split(p)) for p in argv]
    med = {}
    for st in STAGES:
        vals = [s[st] for _, s in splits if st in s]
        if vals:
            med[st] = statistics.median(vals)
    if as_json:
        json.dump({"boots": len(splits), "median_s": med,
                   "per_boot": {p: s for p, s in splits}}, sys.stdout, indent=1)
        print()
        return 0
    print("%-40s %s" % ("boot", " ".join("%8.8s" % st for st in STAGES)))
    for p, s in splits:
        name = "/".join(p.split("/")[-2:])[-40:]
        print("%-40s %s" % (name, " ".join("%8.3f" % s[st] if st in s else "%8s" % "-" for st in STAGES)))
    print("%-40s %s" % ("median (%d boots)" % len(splits),
                        " ".join("%8.3f" % med[st] if st in med else "%8s" % "-" for st in STAGES)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
