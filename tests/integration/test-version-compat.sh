#!/bin/sh
# SPDX-License-Identifier: MIT
# A recording or a shard made by an incompatible plugpull is refused.
#
# One recording (sample:10), one shard of it (1/1).  Both record the
# harness version and format.  The same files with another harness_format
# (as a future plugpull would write them): sim --recording and merge exit
# 2 naming both versions.  Without harness_format (a plugpull from before
# versions were recorded, same manifest format): read, with a note.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd jq

camp="--points sample:10 --resume-updates none"
# shellcheck disable=SC2086
"$PP_BIN" sim --known "$PP_KNOWN" --record-only $camp --out "$PP_TMP/rec" >"$PP_TMP/rec.log" 2>&1 ||
    { cat "$PP_TMP/rec.log"; pp_fail "record-only"; }
v=$("$PP_BIN" --version | cut -d' ' -f2)
[ "$(jq -r .tool_version "$PP_TMP/rec/recording.json")" = "$v" ] || pp_fail "recording.json: no tool_version $v"
[ "$(jq -r .harness_format "$PP_TMP/rec/recording.json")" = 1 ] || pp_fail "recording.json: no harness_format"
"$PP_BIN" sim --known "$PP_KNOWN" --recording "$PP_TMP/rec" --shard 1/1 --out "$PP_TMP/s1" >"$PP_TMP/s1.log" 2>&1
[ $? -le 1 ] || { cat "$PP_TMP/s1.log"; pp_fail "shard 1/1"; }
[ "$(jq -r .tool_version "$PP_TMP/s1/summary.json")" = "$v" ] || pp_fail "summary.json: no tool_version"
"$PP_BIN" merge "$PP_TMP/s1" --out "$PP_TMP/m" >"$PP_TMP/m.log" 2>&1
[ $? -le 1 ] || { cat "$PP_TMP/m.log"; pp_fail "merge of a compatible shard"; }
pp_log "recording and shard record plugpull $v, harness format 1; merged"

# --- twin: a future harness format ---------------------------------------------
cp -a "$PP_TMP/rec" "$PP_TMP/rec-new"
jq '.harness_format = 2 | .tool_version = "9.0.0"' "$PP_TMP/rec/recording.json" >"$PP_TMP/rec-new/recording.json"
"$PP_BIN" sim --known "$PP_KNOWN" --recording "$PP_TMP/rec-new" --out "$PP_TMP/x" >"$PP_TMP/x.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || { cat "$PP_TMP/x.log"; pp_fail "a recording of harness format 2: exit $rc, want 2"; }
grep -q "recording.json: this recording was made by plugpull 9.0.0 (harness format 2), which this plugpull $v (harness format 1) cannot read" "$PP_TMP/x.log" ||
    pp_fail "recording of format 2: $(cat "$PP_TMP/x.log")"
[ ! -e "$PP_TMP/x/summary.json" ] || pp_fail "an incompatible recording was judged"
cp -a "$PP_TMP/s1" "$PP_TMP/s1-new"
jq '.harness_format = 2 | .tool_version = "9.0.0"' "$PP_TMP/s1/summary.json" >"$PP_TMP/s1-new/summary.json"
"$PP_BIN" merge "$PP_TMP/s1-new" --out "$PP_TMP/xm" >"$PP_TMP/x.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || { cat "$PP_TMP/x.log"; pp_fail "a shard of harness format 2: exit $rc, want 2"; }
grep -q "summary.json: this shard was made by plugpull 9.0.0 (harness format 2), which this plugpull $v (harness format 1) cannot read" "$PP_TMP/x.log" ||
    pp_fail "shard of format 2: $(cat "$PP_TMP/x.log")"
[ ! -e "$PP_TMP/xm" ] || pp_fail "a refused merge wrote results"
pp_log "harness format 2: sim --recording and merge exit 2 naming both versions"

# --- made before versions were recorded: read, with a note ---------------------
cp -a "$PP_TMP/rec" "$PP_TMP/rec-old"
jq 'del(.harness_format, .tool_version, .trace_format)' "$PP_TMP/rec/recording.json" >"$PP_TMP/rec-old/recording.json"
"$PP_BIN" sim --known "$PP_KNOWN" --recording "$PP_TMP/rec-old" --out "$PP_TMP/old" >"$PP_TMP/old.log" 2>&1
rc=$?
[ "$rc" -le 1 ] || { cat "$PP_TMP/old.log"; pp_fail "a recording from before versions: exit $rc"; }
grep -q "note: .*older than version records" "$PP_TMP/old.log" || pp_fail "no note: $(cat "$PP_TMP/old.log")"
pp_log "a recording from before versions were recorded: read, with a note"
