#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sim-run-line.py: one line of figures for a `plugpull sim` run of the
compare benchmarks (bench/farm-compare.sh, bench/recording-compare.sh).

  sim-run-line.py OUT MODE ROUND LOAD

OUT is the run's results directory, with OUT.time beside it written by
`/usr/bin/time -f "%U %S %M"`; LOAD the load average at its start.
Prints "MODE key=value ...": states, judged states (not sharing a
verdict), states/minute, median materialise / judge / remove seconds per
judged state, CPU seconds (user + system), peak RSS, the load average at
the start and now, and the outcomes (name:count,...; no spaces, so the
line splits on blanks into key=value pairs).
"""
import collections
import json
import statistics
import sys


def main(argv):
    out, mode, rnd, load = argv[1:5]
    cases = json.load(open(out + "/points.json"))["cases"]
    s = json.load(open(out + "/summary.json"))
    judged = [c for c in cases if "shares_verdict_with" not in c]

    def med(k):
        return statistics.median(c["time"][k] for c in judged)

    u, sy, rss = open(out + ".time").read().split()[-3:]
    oc = collections.Counter(c["outcome"] for c in cases)
    print("%s round=%s states=%d judged=%d states_per_minute=%.1f "
          "materialise_s=%.3f judge_s=%.3f remove_s=%.3f cpu_s=%.1f "
          "peak_rss_mib=%.0f load_start=%s load_end=%s outcomes=%s"
          % (mode, rnd, len(cases), len(judged), s["states_per_minute"],
             med("materialise_s"), med("judge_s"), med("remove_s"),
             float(u) + float(sy), int(rss) / 1024, load,
             open("/proc/loadavg").read().split()[0],
             ",".join("%s:%d" % kv for kv in sorted(oc.items()))))


if __name__ == "__main__":
    main(sys.argv)
