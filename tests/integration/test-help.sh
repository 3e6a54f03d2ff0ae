#!/bin/sh
# SPDX-License-Identifier: MIT
# Every subcommand answers --help and -h with its usage, exit 0.
#
# The subcommands are those `plugpull --help` lists (its "commands:"
# table), so a new command is tested without touching this file; a
# command whose --help lists subcommands (trace, scenario, image) has each
# of them walked the same way.  The usage must name the command as it is
# typed: "plugpull SUB", "plugpull SUB SUBSUB".  plugpull --version and
# plugpull version print "plugpull VERSION", exit 0.
# Twins: an unknown option exits 2 for every command and subcommand (and
# no usage line on stdout says otherwise); an unknown subcommand exits 2.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build

"$PP_BIN" --help >"$PP_TMP/top" 2>&1 || pp_fail "plugpull --help exited $?"
cmds=$(sed -n '/^commands:/,/^$/{s/^  \([a-z][a-z-]*\) .*/\1/p}' "$PP_TMP/top")
n=$(echo "$cmds" | wc -w)
[ "$n" -ge 10 ] || pp_fail "plugpull --help lists $n commands: $(cat "$PP_TMP/top")"

# check_help "SUB [SUBSUB]": --help and -h exit 0 and name it; an unknown
# option exits 2.
check_help() {
    for opt in --help -h; do
        # shellcheck disable=SC2086
        "$PP_BIN" $1 $opt >"$PP_TMP/out" 2>"$PP_TMP/err"
        rc=$?
        [ "$rc" -eq 0 ] || pp_fail "plugpull $1 $opt exited $rc: $(cat "$PP_TMP/err")"
        grep -q "plugpull $1 " "$PP_TMP/out" ||
            grep -q "plugpull $1\$" "$PP_TMP/out" ||
            pp_fail "plugpull $1 $opt does not say 'plugpull $1': $(head -5 "$PP_TMP/out")"
    done
    # shellcheck disable=SC2086
    "$PP_BIN" $1 --no-such-option-xyz >"$PP_TMP/out" 2>"$PP_TMP/err"
    rc=$?
    [ "$rc" -eq 2 ] || pp_fail "plugpull $1 --no-such-option-xyz exited $rc, want 2"
    grep -q "no-such-option-xyz" "$PP_TMP/err" ||
        pp_fail "plugpull $1 --no-such-option-xyz: the error does not name it: $(cat "$PP_TMP/err")"
}

nsub=0
for c in $cmds; do
    check_help "$c"
    "$PP_BIN" "$c" --help >"$PP_TMP/out" 2>&1
    # A command with subcommands lists them as "  plugpull CMD SUB ...".
    subs=$(sed -n "/^subcommands:/,/^\$/{s/^  plugpull $c \\([a-z][a-z-]*\\).*/\\1/p}" "$PP_TMP/out")
    for s in $subs; do
        check_help "$c $s"
        nsub=$((nsub + 1))
    done
    if [ -n "$subs" ]; then
        "$PP_BIN" "$c" no-such-subcommand >/dev/null 2>"$PP_TMP/err"
        rc=$?
        [ "$rc" -eq 2 ] || pp_fail "plugpull $c no-such-subcommand exited $rc, want 2"
        grep -q "unknown subcommand 'no-such-subcommand'" "$PP_TMP/err" ||
            pp_fail "plugpull $c no-such-subcommand: $(cat "$PP_TMP/err")"
    fi
done
for c in trace scenario image; do
    echo "$cmds" | grep -qx "$c" || pp_fail "plugpull --help does not list $c"
done
[ "$nsub" -ge 6 ] || pp_fail "only $nsub subcommands found under trace, scenario, image"
pp_log "$n commands and $nsub subcommands: --help and -h exit 0 naming them; an unknown option exits 2"

# scenario check reads --help as an option, never as a file to check
(cd "$PP_TMP" && "$PP_BIN" scenario check --help) >"$PP_TMP/out" 2>&1 ||
    pp_fail "scenario check --help: $(cat "$PP_TMP/out")"
grep -q "\-\-help: " "$PP_TMP/out" && pp_fail "scenario check read --help as a file"

v=$("$PP_BIN" --version) || pp_fail "plugpull --version exited $?"
echo "$v" | grep -Eq '^plugpull [A-Za-z0-9._+~-]+$' || pp_fail "plugpull --version printed '$v'"
[ "$("$PP_BIN" version)" = "$v" ] || pp_fail "plugpull version differs from --version"
pp_log "$v"
