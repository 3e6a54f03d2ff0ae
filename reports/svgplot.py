# SPDX-License-Identifier: MIT
"""svgplot: inline SVG plots against where the power was cut.

Every plot of a page shares one x axis: for the simulation tier the call
index k of the trace (0 .. the number of records), for the VM tier the
seconds into the update at which the power was cut (0 .. the update
window).  It is drawn over background bands for the phases of the update
and, when the axis is the trace, a dashed line at the commit point, so
that a reader sees at a glance where in the update a failure lies.  Two
shapes:

  lanes(...)  one horizontal lane per category (an outcome, a campaign),
              a tick per case, coloured, with a tooltip;
  bars(...)   a value per case (bytes, objects) as thin bars, one or more
              series over the same panel.

Output is plain SVG text, no script.
"""

import math

from pagekit import PHASE_COLOURS, esc

WIDTH = 1160        # whole picture, px
LEFT = 120          # room for lane labels / y ticks
RIGHT = 16
BAND_LABEL_H = 30   # phase names above the plot area (two rows)


def phase_bands(cases, records):
    """[(phase, start_k, end_k)] from the phases of the judged points.

    A phase begins at the first crash point judged in it and lasts until
    the next phase begins; the first starts at 0, the last ends at the end
    of the trace."""
    firsts = []
    for c in sorted(cases, key=lambda c: c["k"]):
        if not firsts or firsts[-1][0] != c["phase"]:
            firsts.append((c["phase"], c["k"]))
    bands = []
    for i, (phase, start) in enumerate(firsts):
        end = firsts[i + 1][1] if i + 1 < len(firsts) else max(records, start + 1)
        bands.append((phase, 0 if i == 0 else start, end))
    return bands


def timeline_bands(phase_start_s, window_s):
    """[(phase, start_s, end_s)] from a calibration's timeline: when, in
    seconds after the update started, each phase began (a negative start:
    the calibration saw no call of that phase).

    A phase lasts until the next one begins; the first starts at 0 (the VM
    tier places a cut before the first call in it), the last ends at the
    update window, or where it began when the window is shorter."""
    starts = sorted((float(t), p) for p, t in (phase_start_s or {}).items()
                    if isinstance(t, (int, float)) and not isinstance(t, bool)
                    and t >= 0)
    bands = []
    for i, (start, phase) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else max(window_s, start)
        bands.append((phase, 0.0 if i == 0 else start, end))
    return bands


def _nice_step(span, target=10, whole=True):
    raw = span / float(target)
    if whole:
        raw = max(raw, 1.0)
    if raw <= 0:
        return 1
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            step = m * mag
            break
    return int(step) if whole else step


class Axis:
    """The x axis of a page: its span, what it counts and how a position
    or a range on it reads."""

    def __init__(self, span, label, seconds):
        self.seconds = seconds
        self.span = max(float(span), 1e-3 if seconds else 1.0)
        self.label = label
        # Narrowest distinct position: one call, or one millisecond (the
        # VM tier's k).
        self.cells = self.span * 1000 if seconds else self.span

    def ticks(self):
        """[(position, label)] at a round step."""
        step = _nice_step(self.span, whole=not self.seconds)
        decimals = 0
        if self.seconds and step < 1:
            decimals = int(math.ceil(-math.log10(step) - 1e-9))
        out = []
        i = 0
        while i * step <= self.span * (1 + 1e-9):
            out.append((i * step, "%.*f" % (decimals, i * step)))
            i += 1
        return out

    def range_text(self, start, end):
        if self.seconds:
            return "%.2f..%.2f s" % (start, end)
        return "calls %d..%d" % (start, end - 1)


def calls_axis(records):
    """The simulation tier's axis: the call index k in the trace."""
    return Axis(max(int(records), 1), "crash point k (call index in the trace)",
                seconds=False)


def seconds_axis(span):
    """The VM tier's axis: seconds into the update when the power was cut."""
    return Axis(span, "seconds into the update (time of the power cut)",
                seconds=True)


class _Frame:
    """The x mapping and the shared decorations of one plot."""

    def __init__(self, axis, top, height):
        self.axis = axis
        self.top = top
        self.height = height
        self.x0 = LEFT
        self.x1 = WIDTH - RIGHT

    def x(self, pos):
        return self.x0 + (self.x1 - self.x0) * float(pos) / self.axis.span

    def cell_w(self, least):
        """Width of one distinct position, at least `least` px."""
        return max(least, (self.x1 - self.x0) / float(self.axis.cells))

    def bands(self, bands):
        out = []
        label_end = -1.0    # where the previous phase name ends
        for phase, start, end in bands:
            xa, xb = self.x(start), self.x(end)
            # A narrow band's name would run into the next one: names that
            # would overlap go one row higher.
            label_y = self.top - 5
            if xa + 3 < label_end:
                label_y -= 13
            else:
                label_end = xa + 3 + 7.5 * len(phase)
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s">'
                       '<title>%s: %s</title></rect>'
                       % (xa, self.top, max(xb - xa, 1), self.height,
                          PHASE_COLOURS.get(phase, "#eeeeee"), esc(phase),
                          esc(self.axis.range_text(start, end))))
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#9e9e9e" '
                       'stroke-width="0.5"/>' % (xa, label_y - 10, xa, self.top))
            out.append('<text x="%.1f" y="%d" font-size="12" fill="#424242">%s</text>'
                       % (xa + 3, label_y, esc(phase)))
        return "".join(out)

    def commit(self, commit_point):
        if commit_point is None or commit_point < 0:
            return ""
        # The label goes below the tick numbers, where no data is drawn.
        x = self.x(commit_point)
        y = self.top + self.height
        return ('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#d50000" '
                'stroke-width="1.5" stroke-dasharray="5,3"/>'
                '<text x="%.1f" y="%d" font-size="11" fill="#d50000" '
                'text-anchor="middle">commit #%d</text>'
                % (x, self.top - 2, x, y + 20, x, y + 30, commit_point))

    def x_axis(self):
        y = self.top + self.height
        out = ['<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#616161"/>'
               % (self.x0, y, self.x1, y)]
        for pos, text in self.axis.ticks():
            x = self.x(pos)
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#616161"/>'
                       '<text x="%.1f" y="%d" font-size="11" text-anchor="middle">%s</text>'
                       % (x, y, x, y + 4, x, y + 16, esc(text)))
        out.append('<text x="%.1f" y="%d" font-size="12" text-anchor="middle" '
                   'fill="#424242">%s</text>'
                   % ((self.x0 + self.x1) / 2.0, y + 46, esc(self.axis.label)))
        return "".join(out)


def _svg(height, title, body):
    # Inline in HTML5, an <svg> needs no xmlns (and the page then names no
    # URL at all, which the tests check).
    return ('<svg width="%d" height="%d" viewBox="0 0 %d %d" '
            'style="max-width:100%%;height:auto" role="img" aria-label="%s">'
            '%s</svg>'
            % (WIDTH, height, WIDTH, height, esc(title), body))


def lanes(title, lane_list, axis, bands, commit_point, lane_h=22):
    """lane_list: [(label, colour_of_label, [(pos, colour, tooltip)])];
    commit_point: a call index on a calls axis, or None."""
    top = BAND_LABEL_H + 4
    frame = _Frame(axis, top, lane_h * len(lane_list))
    tick_w = frame.cell_w(2.0)
    out = [frame.bands(bands)]
    for i, (label, label_colour, marks) in enumerate(lane_list):
        y = top + i * lane_h
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#bdbdbd" '
                   'stroke-width="0.5"/>' % (frame.x0, y + lane_h, frame.x1,
                                             y + lane_h))
        out.append('<text x="%d" y="%d" font-size="12" text-anchor="end" '
                   'fill="%s">%s (%d)</text>'
                   % (frame.x0 - 6, y + lane_h - 7, label_colour, esc(label),
                      len(marks)))
        for k, colour, tip in marks:
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s">'
                       '<title>%s</title></rect>'
                       % (frame.x(k) - tick_w / 2, y + 3, tick_w, lane_h - 6,
                          colour, esc(tip)))
    out.append(frame.commit(commit_point))
    out.append(frame.x_axis())
    return _svg(top + frame.height + 54, title, "".join(out))


def bars(title, unit_fmt, series, axis, bands, commit_point, height=130):
    """series: [(label, colour, [(pos, value, tooltip)])], drawn in order
    (later series over earlier ones); y from 0 to the largest value."""
    top = BAND_LABEL_H + 4
    frame = _Frame(axis, top, height)
    vmax = max([v for _, _, pts in series for _, v, _ in pts] + [0])
    scale_max = vmax if vmax > 0 else 1
    out = [frame.bands(bands)]
    labels = []
    for frac in (0.0, 0.5, 1.0):
        text = unit_fmt(frac * scale_max)
        if not text or text in labels:  # a count has no tick at 0.5
            continue
        labels.append(text)
        y = top + height - frac * height
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#bdbdbd" '
                   'stroke-width="0.5"/><text x="%d" y="%.1f" font-size="11" '
                   'text-anchor="end">%s</text>'
                   % (frame.x0, y, frame.x1, y, frame.x0 - 6, y + 4,
                      esc(text)))
    bar_w = frame.cell_w(3.0)
    for i, (label, colour, pts) in enumerate(series):
        for k, v, tip in pts:
            h = height * float(v) / scale_max
            # A zero of the first series still gets a mark on the axis
            # ("resumed, cost nothing"); the series over it show only what
            # is not zero.
            if v == 0 and i > 0:
                continue
            out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" '
                       'fill="%s"><title>%s</title></rect>'
                       % (frame.x(k) - bar_w / 2, top + height - max(h, 2),
                          bar_w, max(h, 2), colour, esc(tip)))
    # The legend, in a row of its own under the axis label.
    legend_y = top + height + 56
    legend_x = frame.x0
    for label, colour, pts in series:
        out.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>'
                   '<text x="%d" y="%d" font-size="12">%s</text>'
                   % (legend_x, legend_y, colour, legend_x + 14, legend_y + 9,
                      esc(label)))
        legend_x += 14 + 7 * len(label) + 20
    out.append(frame.commit(commit_point))
    out.append(frame.x_axis())
    return _svg(top + height + 70, title, "".join(out))
