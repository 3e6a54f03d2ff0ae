# SPDX-License-Identifier: MIT
"""pagekit: what every plugpull HTML page shares.

Escaping, the vocabulary (outcomes, phases and their colours), number
formatting, a table helper, the page shell with its inline style sheet, and
the atomic write.  A page must stand alone: no network, no external style
sheet, script or font, so that it can be attached to a CI run and opened
years later.  Python standard library only.
"""

import html
import os
import re
import tempfile

# The oracle's verdicts, in the order of harness/sim/sim-out.c's summary.
OUTCOMES = ("pass", "brick", "hang", "wrong-tree", "repo-corrupt",
            "lost-update", "no-rollback", "stuck", "redownload",
            "needs-intervention")
OUTCOME_COLOURS = {
    "pass": "#2e7d32",
    "brick": "#b71c1c",
    "hang": "#4e342e",
    "wrong-tree": "#e65100",
    "repo-corrupt": "#6a1b9a",
    "lost-update": "#ad1457",
    "no-rollback": "#c79100",
    "stuck": "#1565c0",
    "redownload": "#00838f",
    "needs-intervention": "#5d4037",
}
OUTCOME_MEANINGS = {
    "pass": "boots a complete known-good tree; a resumed update ends on the new version",
    "brick": "nothing boots",
    "hang": "the device stops answering: a silent console before the agent, or a command that never ends (VM tier)",
    "wrong-tree": "boots an incomplete, mixed or unknown tree",
    "repo-corrupt": "a ref points at a commit with missing or corrupt objects",
    "lost-update": "after the client reported success, boots the old version (or, a pull, the ref it wrote is gone or old)",
    "no-rollback": "the rollback entry is lost",
    "stuck": "the resumed update fails or does not end on the new version",
    "redownload": "the resumed update fetched again what was already durable",
    "needs-intervention": "(dpkg) a package half-installed, unpacked or half-configured: someone must run dpkg --configure -a",
}

# The phases of an update (harness/common/phases.h), in trace order.
PHASES = ("pull", "deploy", "bootloader", "cleanup")
PHASE_COLOURS = {
    "pull": "#e3f2fd",
    "deploy": "#e8f5e9",
    "bootloader": "#fff3e0",
    "cleanup": "#f3e5f5",
}

STYLE = """
body { font: 14px/1.45 "DejaVu Sans", Arial, sans-serif; color: #212121;
       margin: 0 auto; max-width: 1180px; padding: 16px 24px; }
h1 { font-size: 22px; margin: 4px 0 12px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 14px 0 6px; }
.banner { padding: 14px 18px; border-radius: 6px; color: #fff; }
.banner .big { font-size: 26px; font-weight: bold; }
.banner.ok { background: #2e7d32; }
.banner.bad { background: #b71c1c; }
.banner.warn { background: #8d6e00; }
.banner .meta { margin-top: 6px; font-size: 14px; opacity: 0.95; }
.note { background: #fff8e1; border-left: 4px solid #ffb300;
        padding: 6px 10px; margin: 10px 0; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left;
         vertical-align: top; overflow-wrap: break-word; }
td code { overflow-wrap: anywhere; }
th { background: #f5f5f5; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.chip { display: inline-block; padding: 1px 8px; border-radius: 10px;
        color: #fff; font-size: 12px; font-weight: bold; white-space: nowrap; }
.counts .chip { font-size: 14px; margin: 2px 6px 2px 0; padding: 3px 10px; }
.zero { opacity: 0.35; }
code, pre { font: 12px/1.4 "DejaVu Sans Mono", monospace; }
pre { background: #f5f5f5; padding: 6px 8px; overflow-x: auto;
      white-space: pre-wrap; word-break: break-all; margin: 4px 0; }
details { border: 1px solid #ddd; border-radius: 4px; margin: 6px 0;
          padding: 4px 10px; }
details > summary { cursor: pointer; }
.kv th { width: 170px; }
svg { display: block; margin: 6px 0; }
.small { font-size: 12px; color: #616161; }
"""


def esc(value):
    """Text for HTML, None shown as an em dash."""
    if value is None:
        return "\u2014"
    return html.escape(str(value), quote=True)


# Terminal control in console text: CSI sequences (colours, cursor moves),
# OSC strings, character-set selections, other two-byte escapes.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)"
                      r"|[()#][0-9A-Za-z]|[^78\n])")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def console_text(text):
    """What a terminal would show of a serial console or a progress bar,
    as plain text: CR-LF ends a line; a bare CR and ESC 8 (restore the
    cursor saved by ESC 7) return to the start of the line, so the last
    write wins; a backspace erases; other escapes and controls go."""
    text = text.replace("\r\n", "\n").replace("\x1b7", "").replace("\x1b8", "\r")
    text = _ESCAPES.sub("", text)
    lines = []
    for line in text.split("\n"):
        parts = [p for p in line.split("\r") if p.strip()]
        line = parts[-1] if parts else ""
        while "\b" in line:
            i = line.index("\b")
            line = line[:max(i - 1, 0)] + line[i + 1:]
        lines.append(_CONTROLS.sub("", line))
    return "\n".join(lines)


def human_bytes(n):
    """1234567 -> '1.2 MiB'."""
    n = float(n or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024
    return "%d B" % n


def signed(n, fmt="%d"):
    """A difference with its sign: +3, -2, 0."""
    text = fmt % n
    return ("+" + text) if n > 0 else text


def signed_bytes(n):
    """A difference of sizes with its sign: +1.2 MiB, -396 B."""
    if n == 0:
        return "0"
    return ("+" if n > 0 else "-") + human_bytes(abs(n))


def chip(outcome):
    colour = OUTCOME_COLOURS.get(outcome, "#757575")
    return '<span class="chip" style="background:%s">%s</span>' % (
        colour, esc(outcome))


def table(headers, rows, cls=""):
    """headers: [(label, is_numeric)]; rows: lists of HTML cells."""
    out = ['<table class="%s"><tr>' % cls]
    for label, numeric in headers:
        out.append('<th%s>%s</th>' % (' class="num"' if numeric else "",
                                      esc(label)))
    out.append("</tr>")
    for row in rows:
        out.append("<tr>")
        for (label, numeric), cell in zip(headers, row):
            out.append('<td%s>%s</td>' % (' class="num"' if numeric else "",
                                          cell))
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def kv_table(pairs):
    """A two-column table of (label, HTML value)."""
    rows = "".join("<tr><th>%s</th><td>%s</td></tr>" % (esc(k), v)
                   for k, v in pairs)
    return '<table class="kv">%s</table>' % rows


def page(title, body):
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width">'
            "<title>%s</title><style>%s</style></head>\n<body>\n%s\n"
            '<p class="small">Written by plugpull; this page is self-contained '
            "(no network, no scripts).</p>\n</body></html>\n"
            % (esc(title), STYLE, body))


def write_atomic(path, text):
    """Write path through a temporary file in its directory, fsync, rename:
    a reader never sees half a page (plugpull keeps the promise it tests)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".html", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
