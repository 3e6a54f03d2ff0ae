"""campaign: read the result directory of `plugpull sim`.

The contract is harness/simout.h: DIR/summary.json, DIR/points.json (every
judged crash point) and DIR/cases/<id>.json (every failing case and a
sample of passing ones).  A directory that lacks one of the first two is
not a campaign: CampaignError, which the commands turn into exit status 2.
"""

import glob
import json
import os


class CampaignError(Exception):
    """DIR is not a readable plugpull result directory."""


def _load_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise CampaignError("%s: no %s (not a plugpull sim result directory?)"
                            % (path, what))
    except (OSError, ValueError) as e:
        raise CampaignError("%s: cannot read %s: %s" % (path, what, e))


class Campaign:
    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        if not os.path.isdir(self.dir):
            raise CampaignError("%s: not a directory" % directory)
        self.summary = _load_json(os.path.join(self.dir, "summary.json"),
                                  "summary.json")
        points = _load_json(os.path.join(self.dir, "points.json"),
                            "points.json")
        if not isinstance(self.summary, dict) or not isinstance(points, dict) \
                or not isinstance(points.get("cases"), list):
            raise CampaignError("%s: summary.json or points.json is not what "
                                "plugpull sim writes" % directory)
        self.points = sorted(points["cases"], key=lambda c: c["k"])
        trace = self.summary.get("trace", {})
        self.records = points.get("trace_records", trace.get("records", 0))
        self.commit_point = points.get("commit_point",
                                       trace.get("commit_point", -1))
        self.case_files = {}
        for path in glob.glob(os.path.join(self.dir, "cases", "*.json")):
            try:
                with open(path, encoding="utf-8") as f:
                    case = json.load(f)
            except (OSError, ValueError):
                continue        # shown as "case file unreadable"
            self.case_files[case.get("id")] = case

    def failing(self):
        return [c for c in self.points if c["outcome"] != "pass"]

    def replay_command(self, case_id):
        """The command that reproduces a case, runnable from anywhere."""
        case = self.case_files.get(case_id)
        recorded = case.get("command") if case else None
        if recorded is None:
            recorded = "plugpull replay cases/%s.json" % case_id
        return "cd %s && %s" % (self.dir, recorded)
