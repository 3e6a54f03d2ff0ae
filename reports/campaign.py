# SPDX-License-Identifier: MIT
"""campaign: read the result directory of `plugpull sim` or `plugpull run`.

The contract is harness/sim/sim-out.h (and, for the VM tier, harness/vm/vm-out.h):
DIR/summary.json, DIR/points.json (every judged crash point, or every
power-cut cycle) and DIR/cases/<id>.json (every failing case and a sample
of passing ones; every cycle for the VM tier).  A directory that lacks one
of the first two, or whose points are not what the harness writes, is not
a campaign: CampaignError, which the commands turn into exit status 2.

The two tiers differ in where a case lies on the x axis:

  sim  "k", the index of the call in the trace at which the power was cut;
  vm   "time_s", the seconds into the update at which QEMU was killed ("k"
       is the same in milliseconds, for ordering), with phase bands from
       the calibration run's timeline ("phase_start_s") when there was one.
"""

import glob
import json
import numbers
import os


class CampaignError(Exception):
    """DIR is not a readable plugpull result directory."""


def _load_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise CampaignError("%s: no %s (not a plugpull result directory?)"
                            % (path, what))
    except (OSError, ValueError) as e:
        raise CampaignError("%s: cannot read %s: %s" % (path, what, e))


def _is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _json_kind(v):
    return {dict: "an object", list: "an array", str: "a string",
            bool: "a boolean", type(None): "null"}.get(type(v), "a number")


class Campaign:
    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        if not os.path.isdir(self.dir):
            raise CampaignError("%s: not a directory" % directory)
        summary_path = os.path.join(self.dir, "summary.json")
        points_path = os.path.join(self.dir, "points.json")
        self.summary = _load_json(summary_path, "summary.json")
        points = _load_json(points_path, "points.json")
        for path, doc in ((summary_path, self.summary), (points_path, points)):
            if not isinstance(doc, dict):
                raise CampaignError("%s: %s, not an object: not what plugpull "
                                    "sim or plugpull run writes"
                                    % (path, _json_kind(doc)))
        if not isinstance(points.get("cases"), list):
            raise CampaignError("%s: no 'cases' array" % points_path)
        self.tier = points.get("tier") or self.summary.get("tier") or "sim"
        self.vm = self.tier == "vm"
        pos_key = "time_s" if self.vm else "k"
        for i, c in enumerate(points["cases"]):
            if not isinstance(c, dict):
                raise CampaignError("%s: case %d is %s, not an object"
                                    % (points_path, i, _json_kind(c)))
            for key in ("id", "outcome"):
                if not isinstance(c.get(key), str):
                    raise CampaignError("%s: case %d has no '%s' string"
                                        % (points_path, i, key))
            if not _is_number(c.get(pos_key)) or (not self.vm and
                                                  not isinstance(c["k"], int)):
                raise CampaignError("%s: case %d (%s) has no numeric '%s' "
                                    "(tier %s)" % (points_path, i, c["id"],
                                                   pos_key, self.tier))
            if not isinstance(c.get("phase"), str):
                c["phase"] = "unknown"
            c.setdefault("reason", "")
        self.points = sorted(points["cases"],
                             key=lambda c: (c[pos_key], c["id"]))
        trace = self.summary.get("trace", {})
        self.records = points.get("trace_records", trace.get("records", 0))
        self.commit_point = points.get("commit_point",
                                       trace.get("commit_point", -1))
        # VM tier: the update window and the calibration's phase timeline.
        self.window_s = points.get("window_s", self.summary.get("window_s", 0))
        if not _is_number(self.window_s):
            self.window_s = 0.0
        cal = self.summary.get("calibration")
        starts = points.get("phase_start_s")
        if starts is None and isinstance(cal, dict):
            starts = cal.get("phase_start_s")
        self.phase_start_s = starts if isinstance(starts, dict) else {}
        self.case_files = {}
        for path in glob.glob(os.path.join(self.dir, "cases", "*.json")):
            try:
                with open(path, encoding="utf-8") as f:
                    case = json.load(f)
            except (OSError, ValueError):
                continue        # shown as "case file unreadable"
            if isinstance(case, dict):
                self.case_files[case.get("id")] = case

    def pos(self, c):
        """Where case c lies on the x axis (a call index or seconds)."""
        return c["time_s"] if self.vm else c["k"]

    def where(self, c):
        """Its position as text: 'k=123' or 't=2.210 s'."""
        return ("t=%.3f s" % c["time_s"]) if self.vm else ("k=%d" % c["k"])

    def axis_span(self):
        """The x axis runs from 0 to this: the trace's length, or the update
        window (a little beyond the latest cut, if that is later)."""
        if not self.vm:
            return self.records
        latest = max([c["time_s"] for c in self.points] + [0.0])
        return max(float(self.window_s), latest * 1.05)

    def failing(self):
        """Failures that fail the run: not those a known finding excuses
        (an expired finding excuses nothing)."""
        return [c for c in self.points
                if c["outcome"] != "pass" and not self.is_known(c)]

    @staticmethod
    def is_known(c):
        k = c.get("known")
        return isinstance(k, dict) and not k.get("expired")

    def known(self):
        """Failures a known finding excuses (points.json "known")."""
        return [c for c in self.points
                if c["outcome"] != "pass" and self.is_known(c)]

    def find_file(self, path, case_id=None):
        """A file a case file names (a serial log, a kept disk): (the path
        where it is, or None; the paths tried).  An absolute path is taken
        as it is, a relative one as relative to DIR.  If it is not there
        (the directory was moved or copied since the run), where the
        harness would have put it under DIR: the same last two or three
        components (cases/<id>/<boot>.serial, work/<id>.img), or the
        name in DIR/cases/<id>/."""
        if not path:
            return None, []
        tried = [path if os.path.isabs(path) else os.path.join(self.dir, path)]
        parts = [p for p in path.split(os.sep) if p not in ("", ".", "..")]
        for n in (3, 2):
            if len(parts) >= n:
                tried.append(os.path.join(self.dir, *parts[-n:]))
        if case_id:
            tried.append(os.path.join(self.dir, "cases", case_id, parts[-1]
                                      if parts else path))
        tried = list(dict.fromkeys(os.path.normpath(p) for p in tried))
        for p in tried:
            if os.path.isfile(p):
                return p, tried
        return None, tried

    def replay_command(self, case_id):
        """The command that reproduces a case, runnable from anywhere."""
        if self.vm:
            # `plugpull replay` runs the case file's replay.run_argv.
            return "cd %s && plugpull replay cases/%s.json" % (self.dir, case_id)
        case = self.case_files.get(case_id)
        recorded = case.get("command") if case else None
        if recorded is None:
            recorded = "plugpull replay cases/%s.json" % case_id
        return "cd %s && %s" % (self.dir, recorded)
