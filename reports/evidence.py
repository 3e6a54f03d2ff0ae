# SPDX-License-Identifier: MIT
"""evidence: one judged crash state, or one power-cut cycle, as HTML.

render_case: what the oracle wrote into a simulation case file
(harness/oracle/oracle.c, pp_judgement_to_json): which boot entry the bootloader
would take, or why none boots; each entry's tree against the known commits
with the files that differ; the repo's refs and problems; the resumed
update; and the command that replays the case.

render_vm_case: what a VM cycle's case file says (harness/vm/vm-out.c): where
the power was cut, what each boot did, the end of the serial console of
every boot that failed, the evidence the harness gathered in the guest,
the kept disk image and the command that replays the cycle.
"""

import os

from pagekit import (chip, console_text, esc, human_bytes, kv_table,
                     table)

# How much of a failed boot's serial console a page shows.
SERIAL_TAIL_LINES = 40
SERIAL_TAIL_BYTES = 256 * 1024


def _short(checksum):
    return esc(checksum[:12] + "\u2026") if checksum else esc(None)


def _boot(ev):
    booted = ev.get("booted", -1)
    lines = []
    if ev.get("loader_error"):
        lines.append("<p><b>Nothing boots:</b> %s</p>" % esc(ev["loader_error"]))
    elif booted is None or booted < 0:
        lines.append("<p><b>Nothing boots:</b> no entry is bootable.</p>")
    else:
        fell = " (fell back: the default entry does not boot)" \
            if ev.get("fell_back") else ""
        lines.append("<p><b>Boots entry %d</b>%s; backend %s, bootversion %s.</p>"
                     % (booted, fell, esc(ev.get("backend")),
                        esc(ev.get("bootversion"))))
    rows = []
    for e in ev.get("entries", []):
        tree = e.get("tree") or {}
        if not tree.get("checked"):
            tree_text = "not checked"
        elif tree.get("error"):
            tree_text = "error: " + esc(tree["error"])
        else:
            tree_text = "v%s, %s, %d diff(s)" % (
                esc(tree.get("version") or "?"),
                "complete" if tree.get("complete") else "<b>incomplete</b>",
                tree.get("n_diffs", 0))
            if not tree.get("known"):
                tree_text += ", <b>not a known version</b>"
        rows.append([
            esc(e.get("index")),
            "<b>yes</b>" if e.get("booted") else "",
            "<code>%s</code>" % esc(e.get("source")),
            "yes" if e.get("bootable") else "<b>no</b>: " + esc(e.get("boot_error")),
            "<code>%s</code>" % esc(e.get("deploy_path")),
            _short(e.get("commit")),
            tree_text,
        ])
    if rows:
        lines.append(table([("#", True), ("booted", False), ("source", False),
                            ("bootable", False), ("deployment", False),
                            ("commit", False), ("tree", False)], rows))
    return "".join(lines)


def _diffs(ev):
    out = []
    for e in ev.get("entries", []):
        tree = e.get("tree") or {}
        diffs = tree.get("diffs") or []
        if not diffs:
            continue
        rows = [["<code>%s</code>" % esc(d.get("path")), esc(d.get("kind")),
                 esc(d.get("detail"))]
                for d in diffs]
        more = tree.get("n_diffs", len(diffs)) - len(diffs)
        out.append("<h3>Entry %s: files that differ from version %s</h3>"
                   % (esc(e.get("index")), esc(tree.get("version"))))
        out.append(table([("path", False), ("kind", False), ("detail", False)],
                         rows))
        if more > 0:
            out.append('<p class="small">and %d more</p>' % more)
    return "".join(out)


def _repo(ev):
    repo = ev.get("repo") or {}
    if not repo.get("checked"):
        return ""
    out = ["<h3>Repo: %s</h3>" % ("consistent" if repo.get("ok")
                                  else "<b>%d problem(s)</b>"
                                  % repo.get("n_problems", 0))]
    problems = repo.get("problems") or []
    if problems:
        out.append("<ul>%s</ul>" % "".join("<li><code>%s</code></li>" % esc(p)
                                           for p in problems))
    refs = repo.get("refs") or []
    if refs:
        out.append(table([("ref", False), ("commit", False), ("partial", False)],
                         [["<code>%s</code>" % esc(r.get("name")),
                           _short(r.get("commit")),
                           "yes" if r.get("partial") else ""] for r in refs]))
    out.append('<p class="small">%d commit(s), %d object(s) checked; %d staging '
               "dir(s), %s of staging</p>"
               % (repo.get("commits_checked", 0), repo.get("objects_checked", 0),
                  repo.get("staging_dirs", 0),
                  human_bytes(repo.get("staging_bytes", 0))))
    return "".join(out)


def _resume(resume):
    if not resume or not resume.get("checked"):
        return ""
    return "<h3>Resumed update</h3>" + kv_table([
        ("exit status", esc(resume.get("exit_status"))),
        ("downloaded", "%s, %s object(s)" % (
            human_bytes(resume.get("bytes_downloaded", 0)),
            esc(resume.get("objects_downloaded")))),
        ("re-downloaded", "%s object(s) already durable before the cut (of %s)"
         % (esc(resume.get("objects_redownloaded")),
            esc(resume.get("objects_durable_before")))),
        ("error", "<code>%s</code>" % esc(resume.get("error"))),
    ])


def render_case(point, case, command):
    """point: its entry of points.json; case: its case file (or None)."""
    head = ('<summary>%s <b>%s</b> &middot; %s &middot; k=%d &middot; %s</summary>'
            % (chip(point["outcome"]), esc(point["id"]), esc(point["phase"]),
               point["k"], esc(point["reason"])))
    body = ["<p>Call in flight at the cut: <code>%s</code></p>"
            % esc(point.get("call"))]
    if case is None:
        body.append('<p class="note">No case file for this case.</p>')
    else:
        state = case.get("state") or {}
        body.append("<p>Crash state <code>%s</code>: %s operation(s) persisted, "
                    "%s dropped.</p>" % (esc(state.get("name")),
                                         esc(state.get("ops_persisted")),
                                         esc(state.get("ops_dropped"))))
        ev = case.get("evidence") or {}
        body.append(_boot(ev))
        body.append(_diffs(ev))
        body.append(_repo(ev))
        body.append(_resume(case.get("resume")))
    body.append("<h3>Replay</h3><pre>%s</pre>" % esc(command))
    return "<details>%s%s</details>" % (head, "".join(body))


def serial_tail(path, n=SERIAL_TAIL_LINES):
    """The last n lines of a serial log as a terminal shows them; and
    whether earlier lines were left out."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(size - SERIAL_TAIL_BYTES, 0))
        data = f.read()
    lines = console_text(data.decode("utf-8", "replace")).split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if size > SERIAL_TAIL_BYTES:
        lines = lines[1:]       # the first may be cut in the middle
    return lines[-n:], len(lines) > n or size > SERIAL_TAIL_BYTES


def _commit_text(commit, case, none_text):
    if not commit:
        return none_text
    if commit == case.get("from_commit"):
        which = "the old tree (from-commit)"
    elif commit == case.get("to_commit"):
        which = "the new tree (to-commit)"
    else:
        which = "<b>neither the old nor the new tree</b>"
    return "%s %s" % (which, _short(commit))


def _found_note(found, tried, recorded):
    """Say so when a file was found elsewhere than where the case file
    says (the result directory was moved or copied)."""
    if found is None or found == tried[0]:
        return ""
    return (' <span class="small">(the case file names <code>%s</code>; read '
            "from the copy in this result directory)</span>" % esc(recorded))


def _failed_boot(b, case_id, camp):
    out = ["<h3>Boot %s failed</h3><p><b>%s</b></p>"
           % (esc(b.get("name")), esc(b.get("failure")))]
    recorded = b.get("serial_log")
    found, tried = camp.find_file(recorded, case_id)
    if found is None:
        out.append('<p class="note">serial log not found: <code>%s</code>'
                   "</p>" % esc(", ".join(tried) if tried else recorded))
        return "".join(out)
    try:
        lines, more = serial_tail(found)
    except OSError as e:
        out.append('<p class="note">serial log not readable: <code>%s</code>: '
                   "%s</p>" % (esc(found), esc(e.strerror or e)))
        return "".join(out)
    out.append('<p class="small">%s of the serial console, <code>%s</code>%s:'
               "</p><pre>%s</pre>"
               % ("The last %d lines" % len(lines) if more
                  else "All %d lines" % len(lines), esc(found),
                  _found_note(found, tried, recorded), esc("\n".join(lines))))
    return "".join(out)


def _boots_table(boots):
    rows = []
    for b in boots:
        secs = b.get("seconds_to_agent")
        failed = "failure" in b
        rows.append([
            esc(b.get("name")),
            "\u2014" if failed or not isinstance(secs, (int, float)) or secs < 0
            else "%.1f" % secs,
            ("<b>failed</b>: %s" % esc(b.get("failure"))) if failed
            else "<code>%s</code>" % esc(b.get("agent")),
        ])
    return table([("boot", False), ("s to agent", True), ("result", False)],
                 rows)


def _cut_text(case):
    parts = ["cut <code>%s</code>" % esc(case.get("cut"))]
    if case.get("cut_rule"):
        parts.append("rule <code>%s</code>" % esc(case["cut_rule"]))
    if case.get("cut_call"):
        parts.append("call <code>%s</code>" % esc(case["cut_call"]))
    text = ", ".join(parts)
    if isinstance(case.get("cut_offset_s"), (int, float)):
        text += " at %.3f s into the update" % case["cut_offset_s"]
        if case.get("window_s"):
            text += " (window %.2f s)" % case["window_s"]
    if case.get("update_done_before_cut"):
        text += "; <b>the update had already ended</b>"
    if case.get("qemu_at_cut"):
        text += "; QEMU %s" % esc(case["qemu_at_cut"])
    return text


def _disk(case, camp):
    recorded = case.get("disk")
    if not recorded:
        return "<p>No disk image was kept for this cycle.</p>"
    found, tried = camp.find_file(recorded, case.get("id"))
    disk = found or (recorded if os.path.isabs(recorded)
                     else os.path.join(camp.dir, recorded))
    missing = "" if found else ' <b>(not found here)</b>'
    return ("<p>The disk after the cut is kept: <code>%s</code>%s%s. Inspect "
            "it with:</p><pre>plugpull inspect %s</pre>"
            % (esc(disk), missing, _found_note(found, tried, recorded),
               esc(disk)))


def render_vm_case(point, case, camp):
    """point: its entry of points.json; case: its case file (or None);
    camp: the Campaign (where relative paths and replays start)."""
    phase = point["phase"] + (" (estimated)" if point.get("phase_estimated")
                              else "")
    head = ("<summary>%s <b>%s</b> &middot; %s &middot; %s &middot; %s"
            "</summary>" % (chip(point["outcome"]), esc(point["id"]),
                            esc(phase), esc(camp.where(point)),
                            esc(point["reason"])))
    body = []
    if case is None:
        body.append('<p class="note">No case file for this cycle; its serial '
                    "logs are in <code>cases/%s/</code>.</p>" % esc(point["id"]))
    else:
        body.append("<p>%s.</p>" % _cut_text(case))
        if case.get("crash_line"):
            body.append("<p>The shim in the guest: <code>%s</code></p>"
                        % esc(case["crash_line"]))
        body.append(kv_table([
            ("booted after the cut", _commit_text(
                case.get("booted_after_cut"), case,
                "<b>nothing</b>: the boot did not reach the agent")),
            ("booted at the end", _commit_text(
                case.get("booted_final"), case,
                "\u2014 (no boot after the resume, or it did not reach the "
                "agent)")),
            ("boot to verdict", "%.1f s" % case["boot_to_verdict_s"]
             if isinstance(case.get("boot_to_verdict_s"), (int, float))
             else esc(None)),
            ("resumed update", "downloaded %s" % human_bytes(
                case.get("resume_bytes", 0))
             if point.get("resumed") else "not run or failed"),
        ]))
        boots = [b for b in case.get("boots") or [] if isinstance(b, dict)]
        body.append("<h3>Boots</h3>" + _boots_table(boots))
        failed = [b for b in boots if "failure" in b]
        for b in failed:
            body.append(_failed_boot(b, point["id"], camp))
        if not failed:
            body.append('<p class="small">Every boot reached the agent; the '
                        "verdict comes from what the guest reported (below)."
                        "</p>")
        if case.get("evidence"):
            body.append("<h3>Evidence</h3><pre>%s</pre>"
                        % esc(console_text(case["evidence"]).strip("\n")))
        body.append("<h3>Disk</h3>" + _disk(case, camp))
    body.append("<h3>Replay</h3><pre>%s</pre>"
                % esc(camp.replay_command(point["id"])))
    if case is not None and case.get("command"):
        note = ""
        if case.get("cut") == "random-time":
            note = (" A random-time cut lands at the same time, not on the "
                    "same call: the replayed verdict may differ.")
        body.append('<p class="small">It runs the cycle again alone, with '
                    "the same draw: <code>%s</code>.%s</p>"
                    % (esc(case["command"]), esc(note)))
    return "<details>%s%s</details>" % (head, "".join(body))
