#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""strategies.py STRATEGIES.json OUT.html: the page of `plugpull strategies`.

One table per question the comparison answers: what the crash states
boot and how they were judged, where the failures sit in the update,
what each update downloads, what the device holds per versions kept, how
long the update takes.  Every figure is read from strategies.json, which
plugpull wrote from the campaigns' own results.  Standard library only.
"""

import json
import os
import sys

import pagekit as pk
import svgplot

PHASES = ("pull", "deploy", "bootloader", "cleanup")


def size(v):
    return "not possible" if v is None else pk.human_bytes(v)


def firmware_text(data):
    """The firmware every strategy ran on: the fixture or a repo's revs."""
    fw = data.get("firmware") or {"repo": "fixture",
                                  "payload_kb": data.get("payload_kb", 0)}
    if fw.get("repo") == "fixture":
        return "the built-in fixture, payload %d KiB" % fw.get("payload_kb", 0)
    revs = ", ".join("%s = %s" % (k, fw[k]) for k in ("v1", "v2", "v3")
                     if k in fw)
    return "%s (%s)" % (fw["repo"], revs)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: strategies.py STRATEGIES.json OUT.html\n")
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)
    st = data["strategies"]
    names = list(st)
    body = ["<h1>Update strategies under the same power cuts</h1>",
            pk.kv_table([("model", pk.esc(data["model"])),
                         ("crash points", pk.esc(data["points"])),
                         ("seed", pk.esc(data["seed"])),
                         ("firmware", pk.esc(firmware_text(data))),
                         ("plugpull", pk.esc(data.get("tool_version")))])]

    body.append("<h2>What the crash states boot</h2>")
    rows = []
    for n in names:
        s = st[n]
        oc = s["outcomes"]
        fails = " ".join("%s %d" % (pk.chip(o), oc[o]) for o in pk.OUTCOMES
                         if oc.get(o) and o != "pass")
        rows.append([pk.esc(n), pk.esc(s["cases"]),
                     pk.esc(s["boots"]["new"]), pk.esc(s["boots"]["old"]),
                     pk.esc(s["boots"]["other"]), pk.esc(s["boots"]["nothing"]),
                     pk.esc(oc.get("pass", 0)), fails or "none",
                     pk.esc(s.get("known", 0))])
    body.append(pk.table([("strategy", False), ("states", True), ("new", True),
                          ("old", True), ("other version", True),
                          ("nothing (brick)", True), ("pass", True),
                          ("failures", False), ("of them known", True)], rows))

    body.append("<h2>Where the failures sit</h2><p>Each campaign's crash "
                "points along its own update (its trace's calls), one lane "
                "per outcome, over the phases of that update.</p>")
    base = os.path.dirname(os.path.abspath(sys.argv[1]))
    for n in names:
        pts_path = os.path.join(base, st[n]["results"], "points.json")
        try:
            with open(pts_path, encoding="utf-8") as f:
                pts = json.load(f)
        except (OSError, ValueError):
            body.append("<p>%s: no points.json</p>" % pk.esc(n))
            continue
        cases = pts.get("cases", [])
        records = pts.get("trace_records", 0)
        cp = pts.get("commit_point")
        lanes = []
        for o in pk.OUTCOMES:
            marks = [(c["k"], pk.OUTCOME_COLOURS[o],
                      "%s k=%d %s: %s" % (c["id"], c["k"], o, c.get("reason", "")))
                     for c in cases if c.get("outcome") == o]
            if marks:
                lanes.append((o, pk.OUTCOME_COLOURS[o], marks))
        body.append("<h3>%s</h3>" % pk.esc(n))
        body.append(svgplot.lanes("%s: outcome against crash point" % n, lanes,
                                  svgplot.calls_axis(records),
                                  svgplot.phase_bands(cases, records),
                                  cp if isinstance(cp, int) and cp >= 0 else None))
    body.append("<p>Failing states per phase "
                "of the update (for ab and update-mode: deploy = writing "
                "the slot, bootloader = switching the environment).</p>")
    rows = []
    for n in names:
        cells = [pk.esc(n)]
        for ph in PHASES:
            f = st[n]["failure_phases"].get(ph, {})
            cells.append(" ".join("%s %d" % (pk.chip(o), c)
                                  for o, c in sorted(f.items())) or "0")
        rows.append(cells)
    body.append(pk.table([("strategy", False)] + [(p, False) for p in PHASES],
                         rows))

    body.append("<h2>Bytes downloaded, bytes on the device, duration</h2>")
    rows = []
    for n in names:
        m = st[n]["measured"]
        d = m["download_bytes"]
        o = m["on_device_bytes"]
        rows.append([pk.esc(n), size(d["v1_to_v2"]), size(d["v2_to_v3"]),
                     size(d["v3_to_v1"]), size(o["1"]), size(o["2"]),
                     size(o["3"]), pk.esc("%.2f s" % m["update_s"])])
    for n in names:
        g = st[n]["measured"].get("image_gzip_bytes") or {}
        if g.get("v1_to_v2") is not None:
            rows.append([pk.esc(n + " (image gzip -6)"), size(g["v1_to_v2"]),
                         size(g["v2_to_v3"]), size(g["v3_to_v1"]), "", "", "",
                         ""])
    body.append(pk.table([("strategy", False), ("v1 \u2192 v2", True),
                          ("v2 \u2192 v3", True), ("back to v1", True),
                          ("1 version", True), ("2 versions", True),
                          ("3 versions", True), ("update v1 \u2192 v2", True)],
                         rows))
    body.append("<p>Downloads: ostree's are the bytes the stand-in server "
                "sent; ab and update-mode download the whole image of the "
                "version (as dd or a rawfile handler do; a delta-capable "
                "updater was not measured). On the device: ostree's is "
                "<code>du</code> of the sysroot; ab's and update-mode's are "
                "the slots, fixed in size whatever they hold.</p>")
    pk.write_atomic(sys.argv[2], pk.page("plugpull strategies", "\n".join(body)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
