#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run a shipped CI file's plugpull commands locally, as its CI would.

    ci-files-run.py gitlab|github FILE PLUGPULL_BIN SOURCE_ROOT WORKDIR

Parses FILE (ci/gitlab/plugpull.yml or ci/github/action.yml), checks its
structure (the hidden job .plugpull and its variables, the stages record,
judge, merge, report, the judge's parallel:, the JUnit report; the
composite action's inputs and steps), then runs every command line that
starts with `plugpull`, in the order CI would, with the variables or
inputs at their defaults (the known-findings path taken relative to
SOURCE_ROOT), in WORKDIR, with PLUGPULL_BIN's directory first in PATH.
The judge line runs once per shard (CI_NODE_INDEX, or the action's loop
variable `shard`, 1..N).  A line's ` || rc=$?` tail (a shard's exit 1 is
the merge's verdict) is dropped: each command must exit 0 here.

Exit status: 0 every command succeeded; 1 the file's structure is wrong;
otherwise the status of the first command that failed (named on stderr).
"""

import os
import re
import subprocess
import sys

import yaml

DEFAULTS = {
    "scenario": "",
    "model": "ordered",
    "shards": "2",
    "budget": "2m",
    "known": "scenarios/known-findings.conf",
}
STAGES = ["record", "judge", "merge", "report"]
VAR_RE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def bad(msg):
    print(f"ci-files-run: structure: {msg}", file=sys.stderr)
    sys.exit(1)


def lines_of(script):
    """The shell lines of a script: a list (GitLab) or a block (GitHub)."""
    if script is None:
        return []
    if isinstance(script, str):
        script = [script]
    out = []
    for item in script:
        out.extend(str(item).splitlines())
    return out


def plugpull_lines(script):
    return [ln.strip() for ln in lines_of(script) if ln.strip().startswith("plugpull ")]


def gitlab(doc, root):
    """The (command, env, shard variable, shard count) runs of a GitLab file."""
    if not isinstance(doc, dict):
        bad("not a mapping")
    base = doc.get(".plugpull")
    if not isinstance(base, dict):
        bad("no hidden job .plugpull")
    var = base.get("variables") or {}
    for name in DEFAULTS:
        key = "PLUGPULL_" + name.upper()
        if key not in var:
            bad(f".plugpull has no variable {key}")
        if str(var[key]) != DEFAULTS[name]:
            bad(f".plugpull: {key} defaults to '{var[key]}', want '{DEFAULTS[name]}'")
    stages = doc.get("stages")
    if stages != STAGES:
        bad(f"stages are {stages}, want {STAGES}")
    jobs = {k: v for k, v in doc.items()
            if isinstance(v, dict) and not k.startswith(".") and "script" in v}
    by_stage = {s: [] for s in STAGES}
    for name, job in jobs.items():
        if job.get("extends") != ".plugpull":
            bad(f"job {name} does not extend .plugpull")
        if job.get("stage") not in by_stage:
            bad(f"job {name} has stage {job.get('stage')}")
        by_stage[job["stage"]].append((name, job))
    for s in STAGES:
        if len(by_stage[s]) != 1:
            bad(f"stage {s} has {len(by_stage[s])} jobs, want 1")
    judge = by_stage["judge"][0][1]
    if not isinstance(judge.get("parallel"), int):
        bad("the judge job has no parallel: N")
    if str(judge["parallel"]) != str(var["PLUGPULL_SHARDS"]):
        bad("the judge job's parallel: differs from PLUGPULL_SHARDS")
    junit = [n for n, j in jobs.items()
             if ((j.get("artifacts") or {}).get("reports") or {}).get("junit")]
    if not junit:
        bad("no job publishes artifacts: reports: junit:")
    env = {k: str(v) for k, v in var.items()}
    env["PLUGPULL_KNOWN"] = os.path.join(root, env["PLUGPULL_KNOWN"])
    env["PLUGPULL_SRC"] = root
    runs = []
    for s in STAGES:
        name, job = by_stage[s][0]
        script = (lines_of(job.get("before_script", base.get("before_script")))
                  + lines_of(job["script"]) + lines_of(job.get("after_script")))
        n = job.get("parallel")
        for cmd in plugpull_lines(script):
            if n is not None and "CI_NODE_INDEX" in cmd:
                runs.append((cmd, dict(env, CI_NODE_TOTAL=str(n)), "CI_NODE_INDEX", n))
            else:
                runs.append((cmd, env, None, 0))
    return runs


def github(doc, root):
    """The runs of a GitHub composite action."""
    if not isinstance(doc, dict):
        bad("not a mapping")
    inputs = doc.get("inputs") or {}
    for name, want in DEFAULTS.items():
        if name not in inputs:
            bad(f"no input {name}")
        if str((inputs[name] or {}).get("default", "")) != want:
            bad(f"input {name} defaults to '{inputs[name].get('default')}', want '{want}'")
    runs_ = doc.get("runs") or {}
    if runs_.get("using") != "composite":
        bad("not a composite action")
    steps = runs_.get("steps") or []
    text = "\n".join(str(s.get("run", "")) for s in steps)
    if not re.search(r"tools/deps\.sh\"? build sim report", text):
        bad("no step installs the deps sets build sim report")
    if "make " not in text:
        bad("no step builds with make")
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    if not uploads or "junit.xml" not in str(uploads[0].get("with", {}).get("path", "")):
        bad("no actions/upload-artifact step uploads junit.xml")
    values = {k: str((v or {}).get("default", "")) for k, v in inputs.items()}
    values["known"] = os.path.join(root, values["known"])

    def subst(s):
        def one(m):
            expr = m.group(1).strip()
            if not expr.startswith("inputs."):
                bad(f"expression ${{{{ {expr} }}}} is not an input")
            key = expr[len("inputs."):]
            if key not in values:
                bad(f"no input {key}")
            return values[key]
        return re.sub(r"\$\{\{(.*?)\}\}", one, s)

    runs = []
    for s in steps:
        if "run" not in s:
            continue
        env = {k: subst(str(v)) for k, v in (s.get("env") or {}).items()}
        for cmd in plugpull_lines(subst(str(s["run"]))):
            if re.search(r"\$\{?shard\b", cmd):
                runs.append((cmd, env, "shard", int(values["shards"])))
            else:
                runs.append((cmd, env, None, 0))
    return runs


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("gitlab", "github"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    kind, path, binary, root, workdir = sys.argv[1:]
    with open(path) as f:
        doc = yaml.safe_load(f)
    runs = gitlab(doc, root) if kind == "gitlab" else github(doc, root)
    if not runs:
        bad("no plugpull command")
    bindir = os.path.dirname(os.path.abspath(binary))
    for cmd, env, shard_var, n in runs:
        cmd = cmd.split(" || ")[0]
        defined = set(env) | ({shard_var} if shard_var else set())
        for name in VAR_RE.findall(cmd):
            if name not in defined:
                bad(f"'{cmd}' uses ${name}, which the file does not set")
        for k in range(1, n + 1) if shard_var else [None]:
            e = dict(os.environ, **env)
            e["PATH"] = bindir + os.pathsep + e.get("PATH", "")
            if shard_var:
                e[shard_var] = str(k)
            shown = cmd if k is None else f"{cmd}   [{shard_var}={k}]"
            print(f"ci-files-run: {shown}", flush=True)
            rc = subprocess.run(["sh", "-c", cmd], cwd=workdir, env=e).returncode
            if rc != 0:
                print(f"ci-files-run: FAILED (exit {rc}): {shown}", file=sys.stderr)
                sys.exit(rc)
    sys.exit(0)


if __name__ == "__main__":
    main()
