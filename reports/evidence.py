"""evidence: one judged crash state as HTML.

Renders what the oracle wrote into a case file (harness/oracle.c,
pp_judgement_to_json): which boot entry the bootloader would take, or why
none boots; each entry's tree against the known commits with the files
that differ; the repo's refs and problems; the resumed update; and the
command that replays the case.
"""

from pagekit import chip, esc, human_bytes, kv_table, table


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
