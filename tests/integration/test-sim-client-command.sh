#!/bin/sh
# SPDX-License-Identifier: MIT
# test-sim-client-command: [client] command, the update command of a client
# that is not the ostree CLI: a template whose placeholders are replaced
# within each word after the shell-style split.
#
#   1. a wrapper script (its name has a space: one argument) taking
#      {sysroot} {os} and running `ostree admin upgrade` gives the same
#      campaign as the default command: same exit, same counts (the
#      traced update and the resumes both run it);
#      twin: the same wrapper given {os} {sysroot} refuses its arguments,
#      and the campaign stops on the failed traced update (exit 3): the
#      template is what runs;
#   2. an unknown placeholder {nope} is a scenario error: exit 2, naming
#      the file and line.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
unshare --user --map-root-user true 2>/dev/null ||
    pp_skip "user namespaces are not available (unshare -r failed)"

wrapper="$PP_TMP/my wrapper.sh"
cat >"$wrapper" <<'SH'
#!/bin/sh
# an update client that is not the ostree CLI: checks its arguments first
[ $# = 2 ] && [ -d "$1/ostree/repo" ] && [ ! -d "$2" ] ||
    { echo "wrapper: bad arguments: $*" >&2; exit 9; }
exec ostree admin upgrade --sysroot="$1" --os="$2"
SH
chmod +x "$wrapper"

scen() {   # scen NAME COMMAND-LINE
    {
        echo "[scenario]"
        echo "name = $1"
        echo "[crash]"
        echo "points = sample:6"
        echo "seed = 7"
        echo "[verify]"
        echo "resume = sample:2"
        [ -z "$2" ] || { echo "[client]"; echo "$2"; }
    } >"$PP_TMP/$1.conf"
}
summary() {   # the counts of a campaign
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join("%s=%s" % (k, d.get(k)) for k in ("passed","failed","known","cases")))' "$1/summary.json" 2>/dev/null ||
        grep -o '"\(passed\|failed\|known\|cases\)": *[0-9]*' "$1/summary.json" | tr '\n' ' '
}

scen default ""
rc_a=0
"$PP_BIN" sim --scenario "$PP_TMP/default.conf" --known "$PP_KNOWN" --out "$PP_TMP/a" \
    >"$PP_TMP/a.log" 2>&1 || rc_a=$?
scen wrapped "command = \"$wrapper\" {sysroot} {os}"
rc_b=0
"$PP_BIN" sim --scenario "$PP_TMP/wrapped.conf" --known "$PP_KNOWN" --out "$PP_TMP/b" \
    >"$PP_TMP/b.log" 2>&1 || rc_b=$?
[ -f "$PP_TMP/a/summary.json" ] || { tail -5 "$PP_TMP/a.log" >&2; pp_fail "the default campaign left no summary (exit $rc_a)"; }
[ -f "$PP_TMP/b/summary.json" ] || { tail -5 "$PP_TMP/b.log" >&2; pp_fail "the wrapped campaign left no summary (exit $rc_b)"; }
sa=$(summary "$PP_TMP/a")
sb=$(summary "$PP_TMP/b")
[ "$rc_a" = "$rc_b" ] && [ "$sa" = "$sb" ] ||
    pp_fail "the wrapper's campaign differs: default exit $rc_a ($sa), wrapper exit $rc_b ($sb)"
pp_log "1. the wrapper ({sysroot} {os}) gives the default's campaign: exit $rc_a, $sa"

scen swapped "command = \"$wrapper\" {os} {sysroot}"
rc=0
"$PP_BIN" sim --scenario "$PP_TMP/swapped.conf" --out "$PP_TMP/c" >"$PP_TMP/c.log" 2>&1 || rc=$?
[ "$rc" = 3 ] && grep -q "wrapper: bad arguments" "$PP_TMP/c.log" ||
    { tail -5 "$PP_TMP/c.log" >&2; pp_fail "twin: swapped placeholders: exit $rc, want 3 and the wrapper's refusal"; }
pp_log "1. twin: the wrapper given {os} {sysroot} refuses, the campaign stops (exit 3)"

scen nope "command = ostree admin upgrade --sysroot={nope}"
rc=0
"$PP_BIN" sim --scenario "$PP_TMP/nope.conf" --out "$PP_TMP/d" >"$PP_TMP/d.log" 2>&1 || rc=$?
line=$(grep -n '^command' "$PP_TMP/nope.conf" | cut -d: -f1)
[ "$rc" = 2 ] && grep -q "nope.conf:$line: .*unknown placeholder {nope}" "$PP_TMP/d.log" ||
    { cat "$PP_TMP/d.log" >&2; pp_fail "{nope}: exit $rc, want 2 and nope.conf:$line"; }
pp_log "2. {nope} is refused: $(grep -m1 'unknown placeholder' "$PP_TMP/d.log")"
pp_log "PASS"
