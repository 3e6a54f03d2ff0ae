#!/bin/sh
# SPDX-License-Identifier: MIT
# Bad input to the simulation tier: a clear message, the right exit
# status, nothing lost, nothing left running.  Each refusal has a twin
# that is accepted.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
scen_dir=$(cd "$(dirname "$0")/../../scenarios" && pwd)

# --- a malformed scenario: every problem, with file and line (the example
# of scenarios/README.md, exactly) -------------------------------------
cat >"$PP_TMP/broken.conf" <<'CONF'
[crash]
points = all
model = ordred
[verify]
resumes = all
CONF
(cd "$PP_TMP" && "$PP_BIN" scenario check broken.conf) >"$PP_TMP/out" 2>&1
rc=$?
cat "$PP_TMP/out"
[ "$rc" -eq 2 ] || pp_fail "scenario check of a broken file exited $rc, want 2"
sed -n '/^```$/,/^```$/p' "$scen_dir/README.md" | sed -n '3,4p' >"$PP_TMP/want"
cmp -s "$PP_TMP/out" "$PP_TMP/want" || {
    diff "$PP_TMP/want" "$PP_TMP/out"
    pp_fail "scenario errors differ from the README's example"
}
"$PP_BIN" sim --scenario "$PP_TMP/broken.conf" --out "$PP_TMP/never" >/dev/null 2>&1
[ $? -eq 2 ] || pp_fail "sim with a broken scenario: want exit 2"
[ ! -e "$PP_TMP/never/summary.json" ] || pp_fail "a broken scenario produced results"
# twin: every shipped scenario is accepted
"$PP_BIN" scenario check "$scen_dir"/*.conf >/dev/null || pp_fail "a shipped scenario is rejected"
pp_log "malformed scenario: all problems with file:line, exit 2; shipped ones accepted"

# --- the scenario reference is generated from the parser's table ---------
sed -n '/^<!-- BEGIN KEYS/,/^<!-- END KEYS/p' "$scen_dir/README.md" | sed '1d;$d' >"$PP_TMP/doc-readme"
"$PP_BIN" scenario doc >"$PP_TMP/doc-table"
cmp -s "$PP_TMP/doc-readme" "$PP_TMP/doc-table" || {
    diff "$PP_TMP/doc-readme" "$PP_TMP/doc-table"
    pp_fail "scenarios/README.md is out of date: run make scenario-doc"
}
pp_log "scenarios/README.md matches the key table"

# --- a missing client binary ------------------------------------------------
"$PP_BIN" sim --ostree /no/such/ostree --out "$PP_TMP/noclient" >"$PP_TMP/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "missing client: exit $rc, want 2"
grep -q "/no/such/ostree is missing" "$PP_TMP/out" || pp_fail "missing client: message: $(cat "$PP_TMP/out")"
pp_log "missing client: $(cat "$PP_TMP/out")"

# --- results are never overwritten -------------------------------------------
mkdir -p "$PP_TMP/used" && echo precious >"$PP_TMP/used/summary.json"
"$PP_BIN" sim --out "$PP_TMP/used" >"$PP_TMP/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "non-empty --out: exit $rc, want 2"
[ "$(cat "$PP_TMP/used/summary.json")" = precious ] || pp_fail "an earlier result was overwritten"
pp_log "non-empty --out refused: $(cat "$PP_TMP/out")"

# --- a port in use ---------------------------------------------------------------
mkdir -p "$PP_TMP/www"
"$PP_BIN" serve "$PP_TMP/www" --port-file "$PP_TMP/port" >/dev/null 2>&1 &
PP_PIDS="$PP_PIDS $!"
i=0
while [ ! -s "$PP_TMP/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(cat "$PP_TMP/port")
[ -n "$port" ] || pp_fail "serve did not report its port"
"$PP_BIN" serve "$PP_TMP/www" --port "$port" >"$PP_TMP/out" 2>&1
rc=$?
[ "$rc" -eq 3 ] || pp_fail "port in use: exit $rc, want 3"
grep -q "Address already in use" "$PP_TMP/out" || pp_fail "port in use: $(cat "$PP_TMP/out")"
pp_log "port in use: $(cat "$PP_TMP/out")"

# --- a full work directory (root only: a small tmpfs) -----------------------
if [ "$(id -u)" = 0 ] && mkdir -p "$PP_TMP/small" && mount -t tmpfs -o size=3m tmpfs "$PP_TMP/small" 2>/dev/null; then
    "$PP_BIN" sim --out "$PP_TMP/small/out" >"$PP_TMP/out" 2>&1
    rc=$?
    umount "$PP_TMP/small"
    [ "$rc" -eq 3 ] || pp_fail "full disk: exit $rc, want 3: $(cat "$PP_TMP/out")"
    grep -q "No space left on device" "$PP_TMP/out" || pp_fail "full disk: $(cat "$PP_TMP/out")"
    pp_log "full work directory: exit 3: $(tail -1 "$PP_TMP/out")"
else
    pp_log "full work directory: not checked (needs root to mount a small tmpfs)"
fi

# --- SIGINT mid-run: finished cases kept, nothing left running ---------------
# PLUGPULL_TEST_HOLD_AFTER=2: no case starts after the second until the
# signal comes, so it lands mid-campaign however fast the cases are.
PLUGPULL_TEST_HOLD_AFTER=2 "$PP_BIN" sim --jobs 1 --out "$PP_TMP/int" >"$PP_TMP/int.log" 2>&1 &
pid=$!
PP_PIDS="$PP_PIDS $pid"
i=0
while [ "$(ls "$PP_TMP/int/work/done" 2>/dev/null | grep -c '\.json$')" -lt 2 ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$PP_TMP/int.log"; pp_fail "the campaign to interrupt ended early"; }
    i=$((i + 1))
    [ "$i" -lt 6000 ] || pp_fail "no 2 cases judged after 600 s"
    sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
tail -2 "$PP_TMP/int.log"
[ "$rc" -eq 130 ] || pp_fail "SIGINT: exit $rc, want 130"
python3 - "$PP_TMP/int/summary.json" <<'PY' || pp_fail "SIGINT: summary"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["interrupted"] is True, s
assert 0 < s["cases"] < s["points_chosen"], (s["cases"], s["points_chosen"])
print("interrupted summary: %d of %d cases kept" % (s["cases"], s["points_chosen"]))
PY
sleep 0.5
left=$(pgrep -f "$PP_TMP/int" || true)
[ -z "$left" ] || pp_fail "processes left running after SIGINT: $left"
pp_log "SIGINT: exit 130, finished cases kept, nothing left running"
