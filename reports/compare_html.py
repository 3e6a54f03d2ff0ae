#!/usr/bin/env python3
"""compare_html.py COMPARE.json --out FILE: the page of `plugpull compare`.

harness/cmd-compare.c pairs the crash points of two campaigns and writes
COMPARE.json; this renders it: the verdict, the two runs side by side,
the outcome of both against the crash point with the changes marked, the
newly failing points with B's evidence and replay commands, the newly
passing and changed ones, and the change in resume cost and duration.

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
from evidence import render_case  # noqa: E402
from pagekit import (OUTCOME_COLOURS, OUTCOMES, chip, esc, human_bytes,  # noqa: E402
                     page, signed, signed_bytes, table, write_atomic)

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


def _banner(cmp):
    cls = "bad" if cmp["regressed"] else "ok"
    a, b = cmp["a"]["summary"], cmp["b"]["summary"]
    meta = ("A: <b>%s</b> (%s %s) &middot; B: <b>%s</b> (%s %s) &middot; "
            "model %s &middot; seed %s &middot; points %s"
            % (esc(a["scenario"]["name"]), esc(a["client"]["path"]),
               esc(a["client"]["version"]), esc(b["scenario"]["name"]),
               esc(b["client"]["path"]), esc(b["client"]["version"]),
               esc(b.get("model")), esc(b.get("seed")), esc(b.get("points"))))
    out = ['<div class="banner %s"><div class="big">%s</div>'
           '<div class="meta">%s</div></div>' % (cls, esc(cmp["verdict"]), meta)]
    if cmp["matching"] != "k":
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


def _side_by_side(cmp):
    a, b = cmp["a"]["summary"], cmp["b"]["summary"]
    ra, rb = a.get("resume", {}), b.get("resume", {})

    def row(label, va, vb, delta=None):
        return [esc(label), va, vb, delta or ""]

    def num(label, xa, xb, fmt=str, dfmt="%d"):
        delta = signed_bytes(xb - xa) if fmt is human_bytes \
            else signed(xb - xa, dfmt)
        return row(label, fmt(xa), fmt(xb), delta)

    rows = [
        row("directory", "<code>%s</code>" % esc(cmp["a"]["dir"]),
            "<code>%s</code>" % esc(cmp["b"]["dir"])),
        row("scenario", esc(a["scenario"]["name"]), esc(b["scenario"]["name"])),
        row("client", esc("%s %s" % (a["client"]["path"], a["client"]["version"])),
            esc("%s %s" % (b["client"]["path"], b["client"]["version"]))),
        num("traced calls", cmp["a"]["trace_records"], cmp["b"]["trace_records"]),
        row("commit point", "#%d" % cmp["a"]["commit_point"],
            "#%d" % cmp["b"]["commit_point"]),
        num("crash points", a.get("cases", 0), b.get("cases", 0)),
        num("failures", cmp["a"]["failed"], cmp["b"]["failed"]),
    ]
    for o in OUTCOMES:
        oa, ob = a.get("outcomes", {}).get(o, 0), b.get("outcomes", {}).get(o, 0)
        rows.append(row(o, str(oa), str(ob), signed(ob - oa)))
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


def _marks(points):
    return [(p["k"], OUTCOME_COLOURS.get(p["outcome"], "#757575"),
             "%s k=%d %s: %s" % (p["id"], p["k"], p["outcome"], p["reason"]))
            for p in points]


def _plots(cmp):
    pairs = cmp["pairs"]
    pa = [p["a"] for p in pairs if p["a"]]
    pb = [p["b"] for p in pairs if p["b"]]
    changed = [p for p in pairs if p["change"] in CHANGE_TITLES]
    change_lane = ("changes", "#d50000", [
        (p["b"]["k"], CHANGE_COLOURS[p["change"]],
         "%s: A %s -> B %s" % (p["change"], p["a"]["outcome"], p["b"]["outcome"]))
        for p in changed])
    ra, rb = cmp["a"]["trace_records"], cmp["b"]["trace_records"]
    intro = ('<p class="small">Ticks coloured by outcome; the "changes" lane '
             "marks newly failing (red), newly passing (green) and changed "
             "(orange) points at B's crash point.</p>")
    if cmp["matching"] == "k":
        svg = svgplot.lanes("A and B against crash point",
                            [("A", "#424242", _marks(pa)),
                             ("B", "#424242", _marks(pb)), change_lane],
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


def _pair_table(pairs, b_dir):
    rows = []
    for p in pairs:
        a, b = p["a"], p["b"]
        cmd = "plugpull replay cases/%s.json" % b["id"]
        rows.append([esc(b["phase"]), str(a["k"]), chip(a["outcome"]),
                     str(b["k"]), chip(b["outcome"]), esc(b["reason"]),
                     "<code>%s</code>" % esc(cmd) if b["outcome"] != "pass" else ""])
    return ('<p class="small">Replay commands run in B\'s directory, <code>%s'
            "</code>.</p>" % esc(b_dir)
            + table([("phase", False), ("A k", True), ("A", False),
                     ("B k", True), ("B", False), ("B's reason", False),
                     ("replay (in B)", False)], rows))


def _changes(cmp, camp_b):
    out = []
    for change, title in CHANGE_TITLES.items():
        pairs = [p for p in cmp["pairs"] if p["change"] == change]
        out.append("<h2>%s (%d)</h2>" % (esc(title), len(pairs)))
        if not pairs:
            out.append("<p>None.</p>")
            continue
        out.append(_pair_table(pairs, cmp["b"]["dir"]))
        if change == "newly-failing" and camp_b is not None:
            out.append("<h3>B's evidence for each newly failing point</h3>")
            for i, p in enumerate(pairs):
                html = render_case(p["b"], camp_b.case_files.get(p["b"]["id"]),
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
    title = "plugpull compare: %s vs %s" % (cmp["a"]["summary"]["scenario"]["name"],
                                            cmp["b"]["summary"]["scenario"]["name"])
    body = ("<h1>%s</h1>" % esc(title) + _banner(cmp) + _side_by_side(cmp)
            + _counts(cmp) + _plots(cmp) + _changes(cmp, camp_b)
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
