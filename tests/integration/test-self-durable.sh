#!/bin/sh
# SPDX-License-Identifier: MIT
# plugpull writes its own results the way it tells ostree to write, proved
# with its own shim and its own power-loss models: after a power cut at any
# point of a campaign, each result file (campaign.json, cases/*.json,
# work/done/*.json, points.json, summary.json, junit.xml) is absent, or
# byte for byte a version the run wrote (the previous one or the new one),
# never empty or torn; a done record never promises a case file that is
# gone; and once the run has exited, every result file survives.
#
# How: a recording is made without the shim (sim --record-only), then a
# short campaign judges it under the shim in trace mode (sim --recording
# --resume-updates none: no client is run, so the traced process only
# materialises states on /dev/shm, outside the traced root, and writes its
# results).  Its one child (the copy of the snapshot) inherits the trace
# configuration and writes only on /dev/shm too; a client sim started
# would get its own CFAULTINJECT from pp_client_run, not this trace.
# plugpull crashstate then builds the directory a power cut leaves:
#   - process-kill right after each rename into a result name: the
#     versions of that file the run wrote (a rename is atomic, so a
#     process kill never shows a partial result);
#   - strict (only what a barrier made durable) after every barrier that
#     touches the root, and at the end;
#   - ordered (ext4 data=ordered: names persist at once, data only when
#     fsynced) around every record that touches the root.
# The states only change at those cuts, so every distinct state is judged.
#
# Why two models: strict alone cannot tell the old write path from the new
# one at a cut inside the run.  Without a directory fsync no name made by
# the old path is ever durable, so under strict every result is simply
# absent, which is allowed.  What strict does show is the end: the old path
# exits with every result still lost ("lost", the check at the last cut).
# ordered shows the other half: the rename persists but the unsynced data
# does not, so the old path leaves empty result files ("empty"), the
# zero-length-file failure of ext4.
#
# Failing twin: PLUGPULL_TEST_WRITE_UNSAFE=1 (test only, see
# harness/common/durable.c) brings back the old path (g_file_set_contents,
# no directory fsync); the same check must report empty and lost files.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd python3

camp="--points sample:6 --resume-updates none --jobs 1"
rec=$PP_TMP/rec
# shellcheck disable=SC2086
"$PP_BIN" sim --known "$PP_KNOWN" --record-only $camp --out "$rec" >"$PP_TMP/rec.log" 2>&1 ||
    { cat "$PP_TMP/rec.log"; pp_fail "sim --record-only failed"; }
mkdir "$PP_TMP/empty" || pp_fail "mkdir"

# run NAME [ENV=VALUE]: the campaign under the shim; root $PP_TMP/NAME,
# results in its D, trace $PP_TMP/NAME.cfit and its dump NAME.dump.
run() {
    root=$PP_TMP/$1
    mkdir "$root" || pp_fail "mkdir $root"
    # shellcheck disable=SC2086
    "$PP_BIN" trace record --out "$PP_TMP/$1.cfit" -- env $2 \
        "$PP_BIN" sim --known "$PP_KNOWN" --recording "$rec" $camp --out "$root/D" \
        >"$PP_TMP/$1.log" 2>&1 ||
        { cat "$PP_TMP/$1.log"; pp_fail "$1: the traced campaign failed"; }
    "$PP_BIN" trace dump "$PP_TMP/$1.cfit" >"$PP_TMP/$1.dump" ||
        pp_fail "$1: trace dump"
}

# check NAME: judge every crash state of NAME's trace; prints the problems
# and a count of each kind; exits 1 when there is any.
check() {
    python3 - "$PP_BIN" "$PP_TMP/$1.cfit" "$PP_TMP/$1.dump" "$PP_TMP/$1" \
        "$PP_TMP/empty" "$PP_TMP/$1.states" <<'PY'
import collections, os, re, shutil, subprocess, sys

pp, trace, dump, root, snapshot, states = sys.argv[1:]
final = os.path.join(root, "D")
os.makedirs(states, exist_ok=True)
# Not a result: the note naming sim's tmpfs scratch directory (see
# pp_campaign_note_scratch).
SCRATCH = {"work/scratch-dir"}
LINE = re.compile(r'^#(\d+) (\d+)/\d+ \w+\((\w+)\)(.*)$')
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')

def under(p):
    return p == root or p.startswith(root + "/")

records = []
for line in open(dump):
    m = LINE.match(line)
    if m is None:
        continue
    i, pid, op, rest = int(m.group(1)), m.group(2), m.group(3), m.group(4)
    fd = re.search(r'\bfd=(\d+)', rest)
    res = re.search(r' = (-?\d+)', rest)
    records.append((i, pid, op, QUOTED.findall(rest),
                    fd.group(1) if fd else None,
                    res.group(1) if res else None))
n = len(records)
fds = {}
touch = set()        # records that change something under root
barrier = set()      # barriers among them
renames = []         # (record, result name relative to D)
for i, pid, op, paths, fd, res in records:
    bound = fds.get((pid, fd)) if fd is not None else None
    if op == "open" and paths and res not in (None, "-1"):
        fds[(pid, res)] = paths[0]
    if op in ("sync", "syncfs"):
        touch.add(i)
        barrier.add(i)
    if any(under(p) for p in paths) or (bound is not None and under(bound)):
        touch.add(i)
        if op in ("fsync", "fdatasync"):
            barrier.add(i)
        if op == "rename" and len(paths) == 2 and res == "0":
            renames.append((i, os.path.relpath(paths[1], final)))
    if op == "close" and fd is not None:
        fds.pop((pid, fd), None)

def crashstate(k, model):
    out = os.path.join(states, "%s-%d" % (model, k))
    r = subprocess.run([pp, "crashstate", "--trace", trace, "--k", str(k),
                        "--model", model, "--root", root, "--snapshot",
                        snapshot, "--out", out], capture_output=True,
                       text=True)
    if r.returncode != 0:
        sys.exit("crashstate %d %s: %s" % (k, model, r.stderr))
    files = {}
    d = os.path.join(out, "D")
    for dirpath, _, names in os.walk(d):
        for f in names:
            p = os.path.join(dirpath, f)
            files[os.path.relpath(p, d)] = open(p, "rb").read()
    shutil.rmtree(out)
    return files

def is_temp(rel, names):
    # g_file_set_contents' temporary: NAME + "." + 6 characters.
    return len(rel) > 7 and rel[-7] == "." and rel[:-7] in names

# The versions of each result file: what it held right after each rename.
versions = collections.defaultdict(set)
for i, rel in renames:
    if rel not in SCRATCH:
        versions[rel].add(crashstate(i + 1, "process-kill")[rel])
finals = {}
for dirpath, _, names in os.walk(final):
    for f in names:
        p = os.path.join(dirpath, f)
        finals[os.path.relpath(p, final)] = open(p, "rb").read()
pk = crashstate(n, "process-kill")
if pk != finals:
    sys.exit("process-kill at the end is not the results directory")
for rel, data in finals.items():
    if rel not in SCRATCH and data not in versions[rel]:
        sys.exit("%s: the final file is not a version renamed in" % rel)

problems = collections.Counter()
def problem(kind, model, k, rel, what):
    problems[kind] += 1
    if problems[kind] <= 3:
        print("  %s: %s at cut %d/%d: %s %s" % (kind, model, k, n, rel, what))

def judge(model, k):
    st = crashstate(k, model)
    for rel, data in sorted(st.items()):
        if rel in SCRATCH or is_temp(rel, SCRATCH | set(versions)):
            continue
        if rel not in versions:
            problem("unknown", model, k, rel, "is no result the run wrote")
        elif data not in versions[rel]:
            # empty: no byte of data persisted (a persisted fallocate
            # leaves zeros); torn: some did.
            problem("empty" if data.count(0) == len(data) else "torn",
                    model, k, rel, "(%d bytes%s) is no version the run "
                    "wrote" % (len(data), ", zeros" if data else ""))
    for rel in st:
        m = re.match(r'^work/done/(.+\.json)$', rel)
        case = "cases/" + m.group(1) if m else None
        if (m and st[rel] in versions[rel] and case in finals
                and st.get(case) not in versions[case]):
            problem("unkept-promise", model, k, rel,
                    "says its case is kept, %s is %s" % (
                        case, "absent" if case not in st else "not complete"))
    if k == n:
        for rel, data in finals.items():
            if rel not in SCRATCH and st.get(rel) != data:
                problem("lost", model, k, rel, "after the run exited is %s" % (
                    "absent" if rel not in st else "%d bytes" % len(st[rel])))

cuts = {0, n}
strict = sorted(cuts | {i + 1 for i in barrier})
ordered = sorted(cuts | {c for i in touch for c in (i, i + 1)})
for k in strict:
    judge("strict", k)
for k in ordered:
    judge("ordered", k)
print("  %d records, %d result files, %d writes; %d strict and %d ordered "
      "states judged; problems: %s" % (
          n, len(versions), len(renames), len(strict), len(ordered),
          ", ".join("%s %d" % kv for kv in sorted(problems.items()))
          or "none"))
sys.exit(1 if problems else 0)
PY
}

passed=0
failed=0

run durable ""
if check durable >"$PP_TMP/durable.check"; then
    passed=$((passed + 1))
    pp_log "durable write path: every crash state holds"
else
    failed=$((failed + 1))
    pp_log "FAIL: durable write path:"
fi
cat "$PP_TMP/durable.check"

run unsafe PLUGPULL_TEST_WRITE_UNSAFE=1
check unsafe >"$PP_TMP/unsafe.check"
rc=$?
cat "$PP_TMP/unsafe.check"
if [ "$rc" -eq 1 ] && grep -q "problems:.*empty [1-9]" "$PP_TMP/unsafe.check" &&
    grep -q "problems:.*lost [1-9]" "$PP_TMP/unsafe.check"; then
    passed=$((passed + 1))
    pp_log "twin (old write path): empty and lost result files found"
else
    failed=$((failed + 1))
    pp_log "FAIL: twin (old write path, exit $rc): want empty and lost files"
fi

pp_log "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
