#!/bin/sh
# SPDX-License-Identifier: MIT
# test-sim-lost-update.sh: a client that exited 0 promised the update; a
# crash state after its exit that boots the old version (or, for a pull,
# has the ref it wrote back at the old commit) is `lost-update`
# (harness/sim/sim-promise.h, cfaultinject/MODELS.md §6).
#
# Pass side: real ostree 2022.7 on the default campaign (upgrade, ordered,
# barrier points, which end with the point after the client's exit) and
# on a pull under ordered: no lost-update.
#
# Failing twins: the same client whose syncs are all swallowed (Debian's
# eatmydata, appended after the shim, MODELS.md §3a):
#  - under the default model `ordered` the campaign fails (exit 1), but
#    NOT with lost-update: the end state boots the NEW tree and is
#    repo-corrupt.  Why: the shim performs ostree's FIFREEZE of /boot
#    (#1345 or so, just before the swap of boot/loader) with the C
#    library's own syncfs, which is a barrier even under eatmydata, so
#    the new deployment and loader.1 are durable; the swap is a rename,
#    an entry operation that `ordered` keeps whether synced or not.  What
#    is lost is the data of the deployment refs ostree writes in cleanup
#    after the freeze (refs/heads/ostree/0/1/{0,1}: names kept, contents
#    not), hence repo-corrupt, which outranks lost-update;
#  - under `strict` the swap's rename never became durable (the fsync of
#    boot/ after it was swallowed): the end state, and only it, boots the
#    old tree complete: lost-update;
#  - a pull under `strict`: the ref's rename never became durable:
#    lost-update at the end point.
#
# Every campaign here judges the states as the kernel reads the disk
# ([device] bootloader-replays-journal = true): as U-Boot reads it, the
# end state of 2022.7 under eatmydata (whose syncfs is swallowed, so no
# checkpoint follows the swap) is ostree#3392's brick, which outranks a
# lost update and is test-ostree-3392's subject.
set -u
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_cmd eatmydata jq
pp_need_build
kv=$PP_TMP/kernel-view.conf
sed -e '/^known = /d' \
    -e 's/^\[device\]$/[device]\nbootloader-replays-journal = true/' \
    "$(cd "$(dirname "$0")/../../scenarios" && pwd)/default-upgrade.conf" >"$kv"
grep -q '^bootloader-replays-journal = true' "$kv" || pp_fail "kernel-view scenario not made"

eat=$PP_TMP/eat-ostree
cat >"$eat" <<'SH'
#!/bin/sh
exec eatmydata /usr/bin/ostree "$@"
SH
chmod +x "$eat"

# campaign NAME WANT_RC OPTIONS...: run sim into $PP_TMP/NAME.
campaign() {
    name=$1
    want=$2
    shift 2
    "$PP_BIN" sim --out "$PP_TMP/$name" "$@" >"$PP_TMP/$name.log" 2>&1
    rc=$?
    grep -E '^[0-9]+ passed' "$PP_TMP/$name.log"
    [ "$rc" -eq "$want" ] ||
        { tail -20 "$PP_TMP/$name.log"; pp_fail "$name: sim exited $rc, want $want"; }
}

# check NAME PYTHON-ASSERTIONS: s = summary, p = points, end = the case at
# the end point (k = the trace's records), lost = the lost-update cases.
check() {
    python3 - "$PP_TMP/$1" "$2" <<'PY' || pp_fail "$1: outcomes"
import json, os, sys
out, code = sys.argv[1], sys.argv[2]
s = json.load(open(os.path.join(out, "summary.json")))
p = json.load(open(os.path.join(out, "points.json")))["cases"]
n = s["trace"]["records"]
end = [c for c in p if c["k"] == n]
assert len(end) == 1, "the end point %d is not among the crash points" % n
end = end[0]
lost = [c for c in p if c["outcome"] == "lost-update"]
assert s["outcomes"]["lost-update"] == len(lost), s["outcomes"]
exec(code)
print("  %d cases, %s; end #%d: %s" % (s["cases"], {k: v for k, v in
      s["outcomes"].items() if v}, n, end["outcome"]))
PY
}

# --- pass: the default campaign, real ostree --------------------------------
campaign default 0 --scenario "$kv"
check default '
assert s["outcomes"]["lost-update"] == 0
assert end["outcome"] == "pass"'
pp_log "real ostree, default campaign: no lost-update, the end point passes"

# --- twin: eatmydata, the default model ordered ------------------------------
campaign eat-ordered 1 --scenario "$kv" --ostree "$eat" --resume-updates none
check eat-ordered '
assert s["outcomes"]["lost-update"] == 0, "ordered keeps the swap: see the header"
assert end["outcome"] == "repo-corrupt", end
ev = json.load(open(os.path.join(out, "cases", end["id"] + ".json")))["evidence"]
boots = ev["entries"][ev["booted"]]["commit"]
rp = json.load(open(os.path.join(out, "cases", end["id"] + ".json")))["replay"]
assert boots == rp["to_commit"], ("the end state boots", boots)'
pp_log "eatmydata, ordered: fails, the end state boots the new tree (repo-corrupt, not lost-update)"

# --- twin: eatmydata, strict ---------------------------------------------------
campaign eat-strict 1 --scenario "$kv" --ostree "$eat" --model strict --resume-updates none
check eat-strict '
assert end["outcome"] == "lost-update", end
assert [c["k"] for c in lost] == [n], [c["k"] for c in lost]
assert "the old version" in end["reason"], end["reason"]
assert end["phase"] == "cleanup", end
import xml.etree.ElementTree as ET
f = ET.parse(os.path.join(out, "junit.xml")).getroot().findall(".//failure")
assert [x.get("type") for x in f] == ["lost-update"], [x.get("type") for x in f]'
# The case replays to the same verdict.
"$PP_BIN" replay "$PP_TMP/eat-strict/cases/strict-k$(printf %06d "$(jq .trace.records "$PP_TMP/eat-strict/summary.json")")-s0.json" \
    >"$PP_TMP/replay.log" 2>&1
rc=$?
grep -q "recorded verdict: lost-update; replayed: lost-update (same)" "$PP_TMP/replay.log" ||
    { cat "$PP_TMP/replay.log"; pp_fail "replay of the lost-update case (exit $rc)"; }
pp_log "eatmydata, strict: lost-update at the end point, and only there"

# --- pull: real ostree under ordered passes; eatmydata under strict loses ----
scen=$kv
sed -e 's/^action = upgrade$/action = pull/' -e 's/^resume = .*/resume = none/' \
    -e 's/^name = .*/name = pull-only/' -e '/^known = /d' "$scen" >"$PP_TMP/pull.conf"
grep -q '^action = pull$' "$PP_TMP/pull.conf" || pp_fail "pull scenario not made"
campaign pull 0 --scenario "$PP_TMP/pull.conf"
check pull '
assert s["outcomes"]["lost-update"] == 0 and end["outcome"] == "pass"'
campaign pull-eat-strict 1 --scenario "$PP_TMP/pull.conf" --ostree "$eat" --model strict
check pull-eat-strict '
assert end["outcome"] == "lost-update", end
assert "written ref" in end["reason"] and "the old commit" in end["reason"], end'
pp_log "pull: real ostree under ordered keeps its ref; under eatmydata and strict the ref is lost"
pp_log PASS
