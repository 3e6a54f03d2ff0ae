#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""compare_html.py COMPARE.json --out FILE: the page of `plugpull compare`.

harness/cli/cmd-compare.c pairs the crash points of two campaigns and writes
COMPARE.json; this renders it: the verdict, the two runs side by side,
the outcome of both against the crash point with the changes marked, the
newly failing points with B's evidence and replay commands, the newly
passing and changed ones, and the change in resume cost and duration.

Two VM-tier campaigns (matching "id") are paired cycle by cycle; their
axis is the seconds into the update at which the power was cut.

Exit status: 0 written, 2 unreadable input, 3 the page could not be
written.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import svgplot  # noqa: E402
from campaign import Campaign, CampaignError  # noqa: E402
from evidence import render_case, render_vm_case  # noqa: E402
from pagekit import (OUTCOME_COLOURS, OUTCOMES, chip, esc, human_bytes,  # noqa: E402
                     page, signed, signed_bytes, table, write_atomic)
from report import vm_phase_caption  # noqa: E402

CHANGE_COLOURS = {
    "newly-failing": "#d50000",
    "newly-passing": "#2e7d32",
    "outcome-changed": "#e65100",
    "still-failing": "#6d4c41",
    "only-a": "#9e9e9e",
    "only-b": "#616161",
}
CHANGE_TITLES = {
    "newly-failing": "Newly failing in B (passed in A)",
    "newly-passing": "Newly passing in B (failed in A)",
    "outcome-changed": "Failing in both, with a different outcome",
}


def _vm(cmp):
    return cmp["matching"] == "id"


def _name(summary):
    sc = summary.get("scenario")
    return (sc.get("name") if isinstance(sc, dict) else sc) or "?"


def _client(summary):
    c = summary.get("client") or {}
    return "%s %s" % (c.get("path", "?"), c.get("version", "?"))


def _banner(cmp):
    cls = "bad" if cmp["regressed"] else "ok"
    a, b = cmp["a"]["summary"], cmp["b"]["summary"]
    if _vm(cmp):
        meta = ("A: <b>%s</b> &middot; B: <b>%s</b> &middot; VM tier, %s "
                "&middot; cut %s &middot; seed %s"
                % (esc(_name(a)), esc(_name(b)), esc(b.get("bootloader")),
                   esc(b.get("cut")), esc(b.get("seed"))))
    else:
        meta = ("A: <b>%s</b> (%s) &middot; B: <b>%s</b> (%s) &middot; "
                "model %s &middot; seed %s &middot; points %s"
                % (esc(_name(a)), esc(_client(a)), esc(_name(b)),
                   esc(_client(b)), esc(b.get("model")), esc(b.get("seed")),
                   esc(b.get("points"))))
    out = ['<div class="banner %s"><div class="big">%s</div>'
           '<div class="meta">%s</div></div>' % (cls, esc(cmp["verdict"]), meta)]
    if _vm(cmp):
        out.append('<p class="note">Power-cut cycles were matched by id: the '
                   "same cycle of the same seed draws the same cut in both "
                   "runs. Where a cycle's cut fell is measured, so the two "
                   "times of a pair may differ.</p>")
    elif cmp["matching"] != "k":
        out.append('<p class="note">The traces differ in length (A %d calls, B '
                   "%d): crash points were matched by phase and position, not by "
                   "call index, so a pair is the i-th point of a phase in each."
                   "</p>" % (cmp["a"]["trace_records"],
                             cmp["b"]["trace_records"]))
    for m in cmp.get("mismatches", []):
        out.append('<p class="note">Compared with --force although %s.</p>'
                   % esc(m))
    for side in ("a", "b"):
        if cmp[side]["summary"].get("interrupted"):
            out.append('<p class="note">Run %s was interrupted.</p>'
                       % side.upper())
    return "".join(out)


def _row(label, va, vb, delta=None):
    return [esc(label), va, vb, delta or ""]


def _num(label, xa, xb, fmt=str, dfmt="%d"):
    delta = signed_bytes(xb - xa) if fmt is human_bytes \
        else signed(xb - xa, dfmt)
    return _row(label, fmt(xa), fmt(xb), delta)


def _outcome_rows(a, b):
    rows = []
    for o in OUTCOMES:
        oa, ob = a.get("outcomes", {}).get(o, 0), b.get("outcomes", {}).get(o, 0)
        rows.append(_row(o, str(oa), str(ob), signed(ob - oa)))
    return rows


def _side_by_side_vm(cmp):
    a, b = cmp["a"]["summary"], cmp["b"]["summary"]

    def resumed(side):
        return sum(1 for p in cmp["pairs"] if p[side] and p[side].get("resumed"))

    def secs(v):
        return "%.1f" % v

    rows = [
        _row("directory", "<code>%s</code>" % esc(cmp["a"]["dir"]),
             "<code>%s</code>" % esc(cmp["b"]["dir"])),
        _row("scenario", esc(_name(a)), esc(_name(b))),
        _row("cut", "<code>%s</code>" % esc(a.get("cut")),
             "<code>%s</code>" % esc(b.get("cut"))),
        _row("image", "<code>%s</code>" % esc(a.get("image")),
             "<code>%s</code>" % esc(b.get("image"))),
        _num("cycles", a.get("cycles", 0), b.get("cycles", 0)),
        _num("failures", cmp["a"]["failed"], cmp["b"]["failed"]),
    ] + _outcome_rows(a, b) + [
        _num("resumed", resumed("a"), resumed("b")),
        _num("resume: bytes downloaded", a.get("resume_bytes_total", 0),
             b.get("resume_bytes_total", 0), human_bytes),
        _num("duration (s)", a.get("duration_s", 0.0), b.get("duration_s", 0.0),
             secs, "%.1f"),
        _num("cycles per hour", a.get("cycles_per_hour", 0.0),
             b.get("cycles_per_hour", 0.0), secs, "%.1f"),
        _num("mean boot-to-verdict (s)", a.get("mean_boot_to_verdict_s", 0.0),
             b.get("mean_boot_to_verdict_s", 0.0), secs, "%.1f"),
    ]
    return "<h2>The two runs</h2>" + table(
        [("", False), ("A", False), ("B", False), ("B \u2212 A", True)], rows)


def _side_by_side(cmp):
    if _vm(cmp):
        return _side_by_side_vm(cmp)
    a, b = cmp["a"]["summary"], cmp["b"]["summary"]
    ra, rb = a.get("resume", {}), b.get("resume", {})
    row, num = _row, _num

    rows = [
        row("directory", "<code>%s</code>" % esc(cmp["a"]["dir"]),
            "<code>%s</code>" % esc(cmp["b"]["dir"])),
        row("scenario", esc(_name(a)), esc(_name(b))),
        row("client", esc(_client(a)), esc(_client(b))),
        num("traced calls", cmp["a"]["trace_records"], cmp["b"]["trace_records"]),
        row("commit point", "#%d" % cmp["a"]["commit_point"],
            "#%d" % cmp["b"]["commit_point"]),
        num("crash points", a.get("cases", 0), b.get("cases", 0)),
        num("failures", cmp["a"]["failed"], cmp["b"]["failed"]),
    ] + _outcome_rows(a, b)
    rows += [
        num("resumed", ra.get("checked", 0), rb.get("checked", 0)),
        num("resume: bytes downloaded", ra.get("bytes_downloaded", 0),
            rb.get("bytes_downloaded", 0), human_bytes),
        num("resume: objects downloaded", ra.get("objects_downloaded", 0),
            rb.get("objects_downloaded", 0)),
        num("resume: objects re-downloaded", ra.get("objects_redownloaded", 0),
            rb.get("objects_redownloaded", 0)),
        num("duration (s)", a.get("duration_s", 0.0), b.get("duration_s", 0.0),
            lambda v: "%.1f" % v, "%.1f"),
        num("states per minute", a.get("states_per_minute", 0.0),
            b.get("states_per_minute", 0.0), lambda v: "%.0f" % v, "%.0f"),
    ]
    return "<h2>The two runs</h2>" + table(
        [("", False), ("A", False), ("B", False), ("B \u2212 A", True)], rows)


def _counts(cmp):
    c = cmp["counts"]
    chips = "".join('<span class="chip%s" style="background:%s">%s %d</span>'
                    % ("" if c.get(k, 0) else " zero",
                       CHANGE_COLOURS.get(k, "#757575"), esc(k), c.get(k, 0))
                    for k in ("newly-failing", "newly-passing",
                              "outcome-changed", "still-failing", "same",
                              "only-a", "only-b"))
    return '<h2>Crash points, pair by pair</h2><div class="counts">%s</div>' % chips


def _pos(p):
    """Where a point lies on the axis: seconds (VM tier) or a call index."""
    return p["time_s"] if "time_s" in p else p["k"]


def _where(p):
    return ("t=%.3f s" % p["time_s"]) if "time_s" in p else ("k=%d" % p["k"])


def _marks(points):
    return [(_pos(p), OUTCOME_COLOURS.get(p["outcome"], "#757575"),
             "%s %s %s: %s" % (p["id"], _where(p), p["outcome"], p["reason"]))
            for p in points]


def _plots(cmp, camp_b):
    pairs = cmp["pairs"]
    pa = [p["a"] for p in pairs if p["a"]]
    pb = [p["b"] for p in pairs if p["b"]]
    changed = [p for p in pairs if p["change"] in CHANGE_TITLES]
    change_lane = ("changes", "#d50000", [
        (_pos(p["b"]), CHANGE_COLOURS[p["change"]],
         "%s %s: A %s -> B %s" % (p["b"]["id"], p["change"], p["a"]["outcome"],
                                  p["b"]["outcome"]))
        for p in changed])
    ra, rb = cmp["a"]["trace_records"], cmp["b"]["trace_records"]
    intro = ('<p class="small">Ticks coloured by outcome; the "changes" lane '
             "marks newly failing (red), newly passing (green) and changed "
             "(orange) points at B's %s.</p>"
             % ("time of the cut" if _vm(cmp) else "crash point"))
    lane_list = [("A", "#424242", _marks(pa)), ("B", "#424242", _marks(pb)),
                 change_lane]
    if _vm(cmp):
        window = max(float(cmp[s]["summary"].get("window_s") or 0)
                     for s in ("a", "b"))
        latest = max([p["time_s"] for p in pa + pb] + [0.0])
        axis = svgplot.seconds_axis(max(window, latest * 1.05))
        bands, caption = [], ""
        if camp_b is not None:
            bands = svgplot.timeline_bands(camp_b.phase_start_s,
                                           float(camp_b.window_s))
            caption = ('<p class="small">B\'s phases. %s</p>'
                       % vm_phase_caption(camp_b, bands))
        svg = svgplot.lanes("A and B against the time of the cut", lane_list,
                            axis, bands, None, lane_h=26)
        return intro + caption + svg
    if cmp["matching"] == "k":
        svg = svgplot.lanes("A and B against crash point", lane_list,
                            svgplot.calls_axis(rb), svgplot.phase_bands(pb, rb),
                            cmp["b"]["commit_point"], lane_h=26)
        return intro + svg
    svg_a = svgplot.lanes("A against its crash points", [("A", "#424242", _marks(pa))],
                          svgplot.calls_axis(ra), svgplot.phase_bands(pa, ra),
                          cmp["a"]["commit_point"], lane_h=26)
    svg_b = svgplot.lanes("B against its crash points",
                          [("B", "#424242", _marks(pb)), change_lane],
                          svgplot.calls_axis(rb), svgplot.phase_bands(pb, rb),
                          cmp["b"]["commit_point"], lane_h=26)
    return (intro + "<h3>A (its own trace)</h3>" + svg_a
            + "<h3>B (its own trace)</h3>" + svg_b)


def _pair_table(pairs, b_dir, vm):
    rows = []
    for p in pairs:
        a, b = p["a"], p["b"]
        cmd = "plugpull replay cases/%s.json" % b["id"]
        if vm:
            pos = ["%.3f" % a["time_s"], chip(a["outcome"]),
                   "%.3f" % b["time_s"], chip(b["outcome"])]
        else:
            pos = [str(a["k"]), chip(a["outcome"]), str(b["k"]),
                   chip(b["outcome"])]
        rows.append(([esc(b["id"])] if vm else []) + [esc(b.get("phase"))]
                    + pos + [esc(b["reason"]),
                             "<code>%s</code>" % esc(cmd)
                             if b["outcome"] != "pass" else ""])
    where = "t (s)" if vm else "k"
    return ('<p class="small">Replay commands run in B\'s directory, <code>%s'
            "</code>.</p>" % esc(b_dir)
            + table(([("cycle", False)] if vm else [])
                    + [("phase", False), ("A " + where, True), ("A", False),
                       ("B " + where, True), ("B", False),
                       ("B's reason", False), ("replay (in B)", False)], rows))


def _changes(cmp, camp_b):
    out = []
    for change, title in CHANGE_TITLES.items():
        pairs = [p for p in cmp["pairs"] if p["change"] == change]
        out.append("<h2>%s (%d)</h2>" % (esc(title), len(pairs)))
        if not pairs:
            out.append("<p>None.</p>")
            continue
        out.append(_pair_table(pairs, cmp["b"]["dir"], _vm(cmp)))
        if change == "newly-failing" and camp_b is not None:
            out.append("<h3>B's evidence for each newly failing point</h3>")
            for i, p in enumerate(pairs):
                case = camp_b.case_files.get(p["b"]["id"])
                if camp_b.vm:
                    html = render_vm_case(p["b"], case, camp_b)
                else:
                    html = render_case(p["b"], case,
                                       camp_b.replay_command(p["b"]["id"]))
                if i == 0:
                    html = html.replace("<details>", "<details open>", 1)
                out.append(html)
    return "".join(out)


def _resume(cmp):
    both = [p for p in cmp["pairs"]
            if p["a"] and p["b"] and p["a"].get("resumed") and p["b"].get("resumed")]
    head = "<h2>Resume cost where both were resumed (%d)</h2>" % len(both)
    if not both:
        return head + "<p>No crash point was resumed in both runs.</p>"
    if _vm(cmp):
        rows = [[esc(p["b"]["id"]), esc(p["b"]["phase"]),
                 "%.3f" % p["a"]["time_s"], "%.3f" % p["b"]["time_s"],
                 human_bytes(p["a"].get("resume_bytes", 0)),
                 human_bytes(p["b"].get("resume_bytes", 0)),
                 signed(p["b"].get("resume_bytes", 0)
                        - p["a"].get("resume_bytes", 0))] for p in both]
        return head + table([("cycle", False), ("phase", False),
                             ("A t (s)", True), ("B t (s)", True),
                             ("A bytes", True), ("B bytes", True),
                             ("\u0394 bytes", True)], rows)
    rows = []
    for p in both:
        a, b = p["a"], p["b"]
        rows.append([esc(b["phase"]), str(a["k"]), str(b["k"]),
                     human_bytes(a.get("resume_bytes", 0)),
                     human_bytes(b.get("resume_bytes", 0)),
                     signed(b.get("resume_bytes", 0) - a.get("resume_bytes", 0)),
                     str(a.get("resume_redownloaded", 0)),
                     str(b.get("resume_redownloaded", 0))])
    return head + table([("phase", False), ("A k", True), ("B k", True),
                         ("A bytes", True), ("B bytes", True),
                         ("\u0394 bytes", True), ("A re-dl objects", True),
                         ("B re-dl objects", True)], rows)


def build(cmp):
    try:
        camp_b = Campaign(cmp["b"]["dir"])
    except CampaignError:
        camp_b = None       # evidence left out; the pairs still tell
    title = "plugpull compare: %s vs %s" % (_name(cmp["a"]["summary"]),
                                            _name(cmp["b"]["summary"]))
    body = ("<h1>%s</h1>" % esc(title) + _banner(cmp) + _side_by_side(cmp)
            + _counts(cmp) + _plots(cmp, camp_b) + _changes(cmp, camp_b)
            + _resume(cmp))
    return page(title, body)


def main(argv):
    ap = argparse.ArgumentParser(prog="compare_html.py")
    ap.add_argument("compare_json")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    try:
        with open(args.compare_json, encoding="utf-8") as f:
            cmp = json.load(f)
    except (OSError, ValueError) as e:
        print("compare_html.py: %s: %s" % (args.compare_json, e), file=sys.stderr)
        return 2
    try:
        write_atomic(args.out, build(cmp))
    except OSError as e:
        print("compare_html.py: writing %s: %s" % (args.out, e), file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
