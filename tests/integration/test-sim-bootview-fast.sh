#!/bin/sh
# SPDX-License-Identifier: MIT
# The bootloader's view built cheaply gives the verdicts of the view built
# in full (cfaultinject/MODELS.md §5, "Only boot/").
#
# One recording of the default campaign (every barrier point, resumes
# off: the points where ostree 2022.7 bricks in the cleanup phase are
# among them), judged twice: as the simulation does it (the boot/-only
# view, or the kernel's view standing for both when nothing that shapes
# boot/ differs) and with PLUGPULL_BOOTVIEW_FULL=1 (every bootloader's
# view materialised in full).  Per point, outcome and reason must be the
# same; both shortcuts must have been taken; the bricks must be there.
# The same on seed 7, whose states draw partial checkpoints (MODELS.md
# §4a, the subset).
# Twin: a deliberately broken boot/-only view
# (PLUGPULL_BOOTVIEW_BREAK=drop-loader: no boot/loader) must make the
# comparison fail.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd python3

record() { # REC: record the campaign $camp into $PP_TMP/REC
    # shellcheck disable=SC2086
    "$PP_BIN" sim --record-only $camp --out "$PP_TMP/$1" >"$PP_TMP/$1.log" 2>&1 ||
        { cat "$PP_TMP/$1.log"; pp_fail "record-only failed"; }
    rec=$PP_TMP/$1
}
camp="--points barriers --resume-updates none --jobs 2"
record rec

judge() { # NAME [VAR=VALUE]: judge the recording into $PP_TMP/NAME
    name=$1
    shift
    # shellcheck disable=SC2086
    env "$@" "$PP_BIN" sim --recording "$rec" $camp --out "$PP_TMP/$name" \
        >"$PP_TMP/$name.log" 2>&1
    rc=$?
    [ "$rc" -le 1 ] || { tail -5 "$PP_TMP/$name.log"; pp_fail "$name: sim exited $rc"; }
    [ -s "$PP_TMP/$name/points.json" ] || pp_fail "$name: no points.json"
}

# compare A B: per point outcome and reason; prints a summary, exit 1 on a
# difference.
compare() {
    python3 - "$PP_TMP/$1" "$PP_TMP/$2" <<'PY'
import json, sys
def load(d):
    return {c["id"]: (c["outcome"], c["reason"])
            for c in json.load(open(d + "/points.json"))["cases"]}
a, b = load(sys.argv[1]), load(sys.argv[2])
bad = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
bricks = sum(1 for v in b.values() if v[0] == "brick")
print("%d points, %d bricks in the full run, %d differ" % (len(b), bricks, len(bad)))
for k in bad[:3]:
    print("  %s: %s | full: %s" % (k, a.get(k), b.get(k)))
sys.exit(1 if bad or not a else 0)
PY
}

judge fast
judge full PLUGPULL_BOOTVIEW_FULL=1
compare fast full || pp_fail "the fast bootloader's view changed a verdict or a reason"

python3 - "$PP_TMP/fast" "$PP_TMP/full" <<'PY' || pp_fail "coverage of the check"
import glob, json, sys
fast, full = sys.argv[1], sys.argv[2]
bricks = [c for c in json.load(open(full + "/points.json"))["cases"]
          if c["outcome"] == "brick"]
if not bricks:
    sys.exit("no brick among the points: the check would not cover ostree#3392")
if not any("the bootloader (no journal replay)" in c["reason"] for c in bricks):
    sys.exit("no brick is seen through the bootloader's view")
same = two = 0
for f in glob.glob(fast + "/cases/*.json"):
    bv = json.load(open(f)).get("evidence", {}).get("boot_view")
    if bv is None:
        continue
    if bv.get("same_as_kernel"):
        same += 1
        if "same as kernel" not in bv["note"]:
            sys.exit("%s: same_as_kernel without the note" % f)
    else:
        two += 1
print("%d bricks; case files: %d judged with the kernel's view for both, "
      "%d with a boot/-only view" % (len(bricks), same, two))
if same == 0 or two == 0:
    sys.exit("one of the two shortcuts was never taken")
PY

# --- twin: a broken filter is caught ----------------------------------------
judge broken PLUGPULL_BOOTVIEW_BREAK=drop-loader
if compare broken full; then
    pp_fail "twin: a boot/-only view without boot/loader went unnoticed"
fi
pp_log "twin: the broken view is caught"

# --- seed 7: partial checkpoints ----------------------------------------------
camp="--seed 7 --points barriers --resume-updates none --jobs 2"
record rec7
judge fast7
judge full7 PLUGPULL_BOOTVIEW_FULL=1
compare fast7 full7 || pp_fail "seed 7: the fast bootloader's view changed a verdict or a reason"
pp_log "fast and full bootloader views agree on every point"
