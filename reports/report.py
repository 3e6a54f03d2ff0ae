#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""report.py DIR [--out FILE]: the HTML report of one `plugpull sim` or
`plugpull run` (VM tier) campaign.

Run by `plugpull report DIR` (harness/cli/cmd-report.c).  Writes DIR/report.html
(or FILE) atomically: one self-contained page with the verdict, the outcome
counts, the outcome and the resume cost against where the power was cut
(inline SVG), a table per phase, and every failing case with its evidence
and the command that replays it.

Where the power was cut: for the simulation tier, the crash point k (a
call index in the trace); for the VM tier, the seconds into the update,
over the phases of the calibration run's timeline.

Exit status: 0 written, 2 DIR is not a campaign, 3 the page could not be
written.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import svgplot  # noqa: E402
from campaign import Campaign, CampaignError  # noqa: E402
from evidence import render_case, render_vm_case  # noqa: E402
from pagekit import (OUTCOME_COLOURS, OUTCOME_MEANINGS, OUTCOMES, PHASES,  # noqa: E402
                     chip, esc, human_bytes, kv_table, page, table,
                     write_atomic)

EXIT_USAGE = 2
EXIT_HARNESS = 3


def _scenario(s):
    sc = s.get("scenario")
    return sc if isinstance(sc, dict) else {"name": sc}


def _banner(camp):
    s = camp.summary
    failed = s.get("failed", 0)
    if camp.vm:
        cases = s.get("cycles", len(camp.points))
        what = "power-cut cycle" + ("" if cases == 1 else "s")
    else:
        cases, what = s.get("cases", len(camp.points)), "crash points"
    if s.get("interrupted"):
        cls, big = "warn", "INTERRUPTED: %d failure(s) in %d %s judged" % (
            failed, cases, what)
    elif failed == 0:
        cls, big = "ok", "PASS: %d %s, 0 failures" % (cases, what)
    else:
        cls, big = "bad", "%d failure(s) in %d %s" % (failed, cases, what)
    if s.get("known"):
        big += " (%d known)" % s["known"]
    sc = _scenario(s)
    client = s.get("client", {})
    if camp.vm:
        meta = ("scenario <b>%s</b> &middot; VM tier, %s &middot; cut <b>%s</b>"
                " &middot; seed <b>%s</b>"
                % (esc(sc.get("name")), esc(s.get("bootloader")),
                   esc(s.get("cut")), esc(s.get("seed"))))
    else:
        meta = ("scenario <b>%s</b> &middot; model <b>%s</b> &middot; seed "
                "<b>%s</b> &middot; points %s &middot; client %s <b>%s</b>"
                % (esc(sc.get("name")), esc(s.get("model")), esc(s.get("seed")),
                   esc(s.get("points")), esc(client.get("path")),
                   esc(client.get("version"))))
    out = ['<div class="banner %s"><div class="big">%s</div>'
           '<div class="meta">%s</div></div>' % (cls, esc(big), meta)]
    if sc.get("expect") == "failures":
        out.append('<p class="note">This scenario is a self-check that expects '
                   "failures: %s</p>" % ("they were found, as expected."
                                         if failed else
                                         "<b>none were found, so the harness "
                                         "has gone blind.</b>"))
    if s.get("interrupted"):
        out.append('<p class="note">The run was interrupted: only the cases '
                   "judged before the interruption are shown.</p>")
    return "".join(out)


def _seconds(v, fmt="%.1f s"):
    return fmt % v if isinstance(v, (int, float)) else esc(None)


def _run_info_vm(camp):
    s = camp.summary
    sc = _scenario(s)
    cal = s.get("calibration") if isinstance(s.get("calibration"), dict) else {}
    window = float(camp.window_s)
    if window > 0:
        window_text = ("%.2f s: the update's length in the calibration run; "
                       "a random-time cut falls in it" % window)
    else:
        window_text = "none (no calibration run: the cuts are syscall rules)"
    if cal:
        cal_text = ("one uncut update, %s traced calls; phases began at %s"
                    % (esc(cal.get("trace_records")),
                       esc(", ".join("%s %.2f s" % (p, t) for p, t in sorted(
                           camp.phase_start_s.items(), key=lambda x: x[1])
                           if isinstance(t, (int, float)) and t >= 0))))
    else:
        cal_text = "none was run"
    return "<h2>Run</h2>" + kv_table([
        ("tier", "vm: QEMU, power cut by killing it"),
        ("bootloader", esc(s.get("bootloader"))),
        ("scenario", "%s (%s), expect %s"
         % (esc(sc.get("name")), esc(sc.get("path")), esc(sc.get("expect")))),
        ("cut", "<code>%s</code>" % esc(s.get("cut"))),
        ("seed", esc(s.get("seed"))),
        ("cycles", "%s: %s passed, %s failed"
         % (esc(s.get("cycles", len(camp.points))), esc(s.get("passed")),
            esc(s.get("failed")))),
        ("cycles per hour", _seconds(s.get("cycles_per_hour"), "%.1f")
         + " with %s job(s)" % esc(s.get("jobs"))),
        ("mean boot-to-verdict", _seconds(s.get("mean_boot_to_verdict_s"))
         + '<span class="small">: power on after the cut to the verdict</span>'),
        ("mean cycle", _seconds(s.get("mean_cycle_s"))),
        ("window", window_text),
        ("calibration", cal_text),
        ("image", "<code>%s</code>" % esc(s.get("image"))),
        ("update", "%s → %s" % (esc((s.get("from_commit") or "")[:12]),
                                    esc((s.get("to_commit") or "")[:12]))),
        ("started", esc(s.get("started"))),
        ("duration", _seconds(s.get("duration_s"))),
        ("command", "<code>%s</code>" % esc(s.get("command"))),
        ("results", "<code>%s</code>" % esc(camp.dir)),
    ])


def _run_info(camp):
    if camp.vm:
        return _run_info_vm(camp)
    s = camp.summary
    sc = _scenario(s)
    trace = s.get("trace", {})
    return "<h2>Run</h2>" + kv_table([
        ("scenario", "%s (%s): %s of the device, %s bootloader"
         % (esc(sc.get("name")), esc(sc.get("path")), esc(sc.get("action")),
            esc(sc.get("bootloader")))),
        ("power-loss model", esc(s.get("model"))),
        ("seed", esc(s.get("seed"))),
        ("crash points", "%s: %d judged of %d traced calls"
         % (esc(s.get("points")), len(camp.points), camp.records)),
        ("commit point", "call #%s" % esc(camp.commit_point)),
        ("client", "%s %s" % (esc(s.get("client", {}).get("path")),
                              esc(s.get("client", {}).get("version")))),
        ("trace", "<code>%s</code>" % esc(trace.get("path"))),
        ("started", esc(s.get("started"))),
        ("duration", "%.1f s with %s job(s), %.0f states/minute"
         % (s.get("duration_s", 0), esc(s.get("jobs")),
            s.get("states_per_minute", 0))),
        ("results", "<code>%s</code>" % esc(camp.dir)),
    ] + _provenance(s))


def _provenance(s):
    """Rows on the recording, the shard or the shards a campaign came from."""
    rows = []
    rec = s.get("recording")
    if rec:
        rows.append(("recording", "id %s, <code>%s</code>"
                     % (esc(rec.get("id", "?")[:12]), esc(rec.get("dir")))))
    shard = s.get("shard")
    if shard:
        rows.append(("shard", "%s of %s: %s of the campaign's %s crash points"
                     % (esc(shard.get("index")), esc(shard.get("count")),
                        esc(s.get("points_chosen")),
                        esc(shard.get("points_all")))))
    merged = s.get("merged")
    if merged:
        rows.append(("shards", "merged from %s shards: %s (duration: the "
                     "longest shard; jobs: all shards together)"
                     % (esc(merged.get("shards")),
                        ", ".join("<code>%s</code>" % esc(d)
                                  for d in merged.get("from", [])))))
    return rows


def _counts(camp):
    counts = camp.summary.get("outcomes", {})
    chips = []
    rows = []
    for o in OUTCOMES:
        n = counts.get(o, 0)
        chips.append('<span class="chip%s" style="background:%s">%s %d</span>'
                     % ("" if n else " zero", OUTCOME_COLOURS[o], esc(o), n))
        rows.append([chip(o), str(n), esc(OUTCOME_MEANINGS[o])])
    return ('<h2>Outcomes</h2><div class="counts">%s</div>' % "".join(chips)
            + table([("outcome", False), ("cases", True), ("meaning", False)],
                    rows))


def _phase_label(c):
    return c["phase"] + (" (estimated)" if c.get("phase_estimated") else "")


def vm_phase_caption(camp, bands):
    """What the background of a VM plot is, and how far to trust it."""
    if not bands:
        return ("No calibration run, so no phase bands, and a cut's phase is "
                "unknown unless the cut named it (phase:NAME).")
    text = ("Background: the phases of the update on the calibration run's "
            "timeline, up to its end (%.2f s)." % float(camp.window_s))
    estimated = sum(1 for c in camp.points if c.get("phase_estimated"))
    if estimated:
        text += (" <b>Phase estimated from the calibration's timeline</b> for "
                 "%d of %d cycles: the cut run is not traced, so its cut is "
                 "placed in a phase by its time or by the calibration call "
                 "nearest to the shim's." % (estimated, len(camp.points)))
    span = {p: (a, b) for p, a, b in bands}
    outside = [c for c in camp.points if c["phase"] in span
               and not span[c["phase"]][0] <= c["time_s"] <= span[c["phase"]][1]]
    if outside:
        text += (" A cycle runs at its own pace, not the calibration's: %d "
                 "tick(s) lie outside the band of their phase; the tooltip "
                 "and the table below give the phase the harness assigned."
                 % len(outside))
    return text


def _outcome_plot(camp, axis, bands):
    by_outcome = {o: [] for o in OUTCOMES}
    for c in camp.points:
        tip = "%s %s %s: %s\n%s" % (c["id"], camp.where(c), c["outcome"],
                                    c["reason"], c.get("call", ""))
        if camp.vm:
            tip += "\nphase %s" % _phase_label(c)
        by_outcome.setdefault(c["outcome"], []).append(
            (camp.pos(c), OUTCOME_COLOURS.get(c["outcome"], "#757575"), tip))
    lane_list = [(o, OUTCOME_COLOURS.get(o, "#757575"), by_outcome[o])
                 for o in by_outcome]
    if camp.vm:
        svg = svgplot.lanes("outcome against the time of the power cut",
                            lane_list, axis, bands, None)
        return ("<h2>Outcome against the time of the cut</h2>"
                '<p class="small">One tick per power-cut cycle, at the second '
                "of the update at which QEMU was killed, in the lane of its "
                "outcome. %s Hover a tick for the cycle.</p>"
                % vm_phase_caption(camp, bands) + svg)
    svg = svgplot.lanes("outcome against crash point", lane_list, axis,
                        bands, camp.commit_point)
    return ("<h2>Outcome against crash point</h2>"
            '<p class="small">One tick per judged crash point, in the lane of '
            "its outcome; background: the phases of the update; dashed: the "
            "commit point. Hover a tick for the case.</p>" + svg)


def _count_label(v):
    """A y tick for a count: whole numbers only."""
    return "" if v % 1 else "%d" % v


def _resume_plot_vm(camp, axis, bands):
    resumed = [c for c in camp.points if c.get("resumed")]
    head = "<h2>Resume cost against the time of the cut</h2>"
    if not resumed:
        return head + "<p>No cycle was resumed in this run.</p>"

    def tip(c):
        return ("%s %s: the resumed update downloaded %s"
                % (c["id"], camp.where(c), human_bytes(c.get("resume_bytes", 0))))

    svg = svgplot.bars(
        "bytes downloaded by the resumed update", human_bytes,
        [("bytes downloaded", "#1565c0",
          [(c["time_s"], c.get("resume_bytes", 0), tip(c)) for c in resumed])],
        axis, bands, None)
    total = camp.summary.get("resume_bytes_total",
                             sum(c.get("resume_bytes", 0) for c in resumed))
    not_resumed = len(camp.points) - len(resumed)
    text = ("<p>%d of %d cycle(s) updated again after the cut: %s downloaded "
            "in all, as counted by the update server.%s</p>"
            % (len(resumed), len(camp.points), human_bytes(total),
               (" %d not resumed: the boot after the cut, or ostree "
                "status or fsck in it, failed." % not_resumed)
               if not_resumed else ""))
    return head + text + "<h3>Bytes downloaded again</h3>" + svg


def _resume_plots(camp, axis, bands):
    if camp.vm:
        return _resume_plot_vm(camp, axis, bands)
    resumed = [c for c in camp.points if c.get("resumed")]
    head = "<h2>Resume cost against crash point</h2>"
    if not resumed:
        return head + "<p>No crash state was resumed in this run.</p>"

    def tip(c):
        return ("%s k=%d: resumed update downloaded %s, %d object(s), %d "
                "already durable before the cut"
                % (c["id"], c["k"], human_bytes(c.get("resume_bytes", 0)),
                   c.get("resume_objects", 0), c.get("resume_redownloaded", 0)))

    byte_svg = svgplot.bars(
        "bytes downloaded by the resumed update", human_bytes,
        [("bytes downloaded", "#1565c0",
          [(c["k"], c.get("resume_bytes", 0), tip(c)) for c in resumed])],
        axis, bands, camp.commit_point)
    obj_svg = svgplot.bars(
        "objects downloaded and re-downloaded", _count_label,
        [("objects downloaded", "#90a4ae",
          [(c["k"], c.get("resume_objects", 0), tip(c)) for c in resumed]),
         ("re-downloaded (durable before the cut)", "#d50000",
          [(c["k"], c.get("resume_redownloaded", 0), tip(c)) for c in resumed])],
        axis, bands, camp.commit_point)
    r = camp.summary.get("resume", {})
    text = ("<p>%d crash state(s) rebooted and updated again: %s downloaded "
            "in all, %d object(s), of which <b>%d re-downloaded</b> although "
            "durable before the cut; %s of staging left behind.</p>"
            % (r.get("checked", len(resumed)),
               human_bytes(r.get("bytes_downloaded", 0)),
               r.get("objects_downloaded", 0),
               r.get("objects_redownloaded", 0),
               human_bytes(r.get("staging_bytes_left", 0))))
    return (head + text + "<h3>Bytes downloaded again</h3>" + byte_svg
            + "<h3>Objects downloaded (grey) and re-downloaded (red)</h3>"
            + obj_svg)


def _phase_table(camp, axis, bands):
    span = {p: (s, e) for p, s, e in bands}
    phases = [p for p in PHASES if any(c["phase"] == p for c in camp.points)]
    # The VM tier's "after-update" and "unknown", or any other name: after
    # the phases of an update, in name order.
    phases += sorted({c["phase"] for c in camp.points} - set(phases))
    failing = [o for o in OUTCOMES if o != "pass"]
    failing += sorted({c["outcome"] for c in camp.points}
                      - set(OUTCOMES))
    headers = ([("phase", False),
                ("calibration" if camp.vm else "calls", False),
                ("cycles" if camp.vm else "cases", True),
                ("passes", True), ("failures", True)]
               + [(o, True) for o in failing] + [("resumed", True)])
    if camp.vm:
        headers.append(("phase estimated", True))
    rows = []
    for p in phases:
        cs = [c for c in camp.points if c["phase"] == p]
        fails = [c for c in cs if c["outcome"] != "pass"]
        if p not in span:
            where = esc(None)
        elif camp.vm:
            where = "%.2f..%.2f s" % span[p]
        else:
            where = "%d..%d" % (span[p][0], span[p][1] - 1)
        row = [esc(p), where, str(len(cs)), str(len(cs) - len(fails)),
               ("<b>%d</b>" % len(fails)) if fails else "0"]
        row += [str(sum(1 for c in fails if c["outcome"] == o)) for o in failing]
        row.append(str(sum(1 for c in cs if c.get("resumed"))))
        if camp.vm:
            row.append(str(sum(1 for c in cs if c.get("phase_estimated"))))
        rows.append(row)
    return "<h2>By phase</h2>" + table(headers, rows)


def _failing_cases(camp):
    failing = camp.failing()
    head = "<h2>Failing cases (%d)</h2>" % len(failing)
    if not failing:
        return head + "<p>None: every %s passed.</p>" % (
            "cycle" if camp.vm else "crash state")
    if camp.vm:
        intro = ('<p class="small">Sorted by the time of the cut. Each cycle '
                 "opens onto its boots, the end of the serial console of the "
                 "boot that failed, the harness's evidence, the kept disk and "
                 "the command that replays it. The first cycle of each "
                 "outcome is open.</p>")
    else:
        intro = ('<p class="small">Sorted by crash point. Each case opens onto '
                 "the oracle's evidence and the command that replays it. The "
                 "first case of each outcome is open.</p>")
    seen = set()
    parts = []
    for c in failing:
        if camp.vm:
            html = render_vm_case(c, camp.case_files.get(c["id"]), camp)
        else:
            html = render_case(c, camp.case_files.get(c["id"]),
                               camp.replay_command(c["id"]))
        if c["outcome"] not in seen:
            seen.add(c["outcome"])
            html = html.replace("<details>", "<details open>", 1)
        parts.append(html)
    return head + intro + "".join(parts)


def _known_findings(camp):
    """The failures known findings excuse, apart from the failing cases:
    each finding with its tracker (shown as text, never fetched), its date,
    its cases; an expired one excuses nothing and its cases are above."""
    findings = camp.summary.get("known_findings") or []
    known = camp.known()
    if not findings and not known:
        return ""
    head = "<h2>Known findings (%d case(s))</h2>" % len(known)
    rows = []
    for f in findings:
        status = ("<b>expired</b>: its cases fail again" if f.get("expired")
                  else "excused")
        rows.append([esc(f.get("id")), "<code>%s</code>" % esc(f.get("link")),
                     esc(f.get("until") or "-"), str(f.get("cases", 0)),
                     status])
    intro = ('<p class="small">Failures that match an acknowledged finding '
             "by diagnosis signature: they do not fail the run until the "
             "finding's date has passed. Each case opens onto the oracle's "
             "evidence.</p>")
    parts = []
    for c in known:
        parts.append(render_case(c, camp.case_files.get(c["id"]),
                                 camp.replay_command(c["id"])))
    return (head + intro
            + table([("finding", False), ("tracker", False), ("until", False),
                      ("cases", True), ("status", False)], rows)
            + "".join(parts))


def _time_split(camp):
    t = camp.summary.get("time_split")
    if not t:
        return ""
    return ("<h2>Where the time went</h2>" + kv_table(
        [(k.replace("_s", ""), "%.1f s" % v) for k, v in sorted(t.items())])
        + '<p class="small">Seconds of work summed over cases (more than the '
          "wall time when several jobs ran).</p>")


def build(camp):
    if camp.vm:
        axis = svgplot.seconds_axis(camp.axis_span())
        bands = svgplot.timeline_bands(camp.phase_start_s, float(camp.window_s))
    else:
        axis = svgplot.calls_axis(camp.records)
        bands = svgplot.phase_bands(camp.points, camp.records)
    name = _scenario(camp.summary).get("name") or "?"
    body = ("<h1>plugpull: %s</h1>" % esc(name) + _banner(camp) + _run_info(camp)
            + _counts(camp) + _outcome_plot(camp, axis, bands)
            + _resume_plots(camp, axis, bands)
            + _phase_table(camp, axis, bands)
            + _failing_cases(camp) + _known_findings(camp)
            + _time_split(camp))
    return page("plugpull report: %s" % name, body)


def main(argv):
    ap = argparse.ArgumentParser(prog="plugpull report",
                                 description="HTML report of a sim or VM run")
    ap.add_argument("dir")
    ap.add_argument("--out", help="write here instead of DIR/report.html")
    args = ap.parse_args(argv)
    try:
        camp = Campaign(args.dir)
    except CampaignError as e:
        print("plugpull: report: %s" % e, file=sys.stderr)
        return EXIT_USAGE
    out = args.out or os.path.join(camp.dir, "report.html")
    try:
        write_atomic(out, build(camp))
    except OSError as e:
        print("plugpull: report: writing %s: %s" % (out, e), file=sys.stderr)
        return EXIT_HARNESS
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
