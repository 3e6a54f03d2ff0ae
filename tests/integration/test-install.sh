#!/bin/sh
# SPDX-License-Identifier: MIT
# make install end to end: install with PREFIX=TMP/prefix (compiled into
# the binary), then run the installed binary from elsewhere, where it
# cannot find the build tree: demo, a short sim with the installed known
# findings, report, scenario check of the installed scenarios; the man
# page and the completion are installed and work; the image build's cache
# is under $XDG_CACHE_HOME/plugpull, not beside the binary; DESTDIR
# stages the same tree elsewhere; make uninstall removes every file.
# Twin: with the installed shim removed, sim fails with exit 3 (the
# harness is broken, not the command line: 2 is for usage errors) and a
# message naming the missing shim.
#
# The build tree's plugpull is relinked with TMP/prefix compiled in
# (harmless there: the build tree wins), then relinked with the default
# PREFIX at exit.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd help2man python3 strings

src=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$PP_TMP/prefix
inst=$prefix/bin/plugpull
share=$prefix/share/plugpull

restore_build() {
    make -C "$src" --no-print-directory BUILD="$PP_BUILD" programs \
        >"$PP_TMP/restore.log" 2>&1 ||
        { cat "$PP_TMP/restore.log" >&2; echo "$PP_NAME: relinking $PP_BUILD failed" >&2; }
    pp_cleanup
}
trap restore_build EXIT

t0=$(date +%s)
make -C "$src" --no-print-directory BUILD="$PP_BUILD" PREFIX="$prefix" install \
    >"$PP_TMP/install.log" 2>&1 ||
    { cat "$PP_TMP/install.log"; pp_fail "make install PREFIX=$prefix"; }
pp_log "make install: $(($(date +%s) - t0)) s"

for f in bin/plugpull lib/plugpull/libcfaultinject.so \
    share/plugpull/reports/report.py share/plugpull/images/build-image.sh \
    share/plugpull/scenarios/known-findings.conf \
    share/man/man1/plugpull.1 share/bash-completion/completions/plugpull; do
    [ -f "$prefix/$f" ] || pp_fail "$prefix/$f not installed"
done
[ -x "$share/images/build-image.sh" ] || pp_fail "build-image.sh not executable"
strings "$inst" | grep -qx "$share" || pp_fail "$share is not compiled into $inst"

# Away from the build tree, with no override: the installed paths only.
unset PLUGPULL_REPORTS PLUGPULL_IMAGES PLUGPULL_SCENARIOS PLUGPULL_SHIM
work=$PP_TMP/work
mkdir -p "$work"
cd "$work" || pp_fail "cd $work"

"$inst" demo --out "$PP_TMP/demo" >"$PP_TMP/demo.log" 2>&1 ||
    { tail -20 "$PP_TMP/demo.log"; pp_fail "installed plugpull demo"; }
grep -q "commit point" "$PP_TMP/demo.log" || pp_fail "demo printed no commit point"
pp_log "installed demo: ok"

"$inst" sim --points sample:5 --known "$share/scenarios/known-findings.conf" \
    --out "$PP_TMP/sim" >"$PP_TMP/sim.log" 2>&1 ||
    { tail -20 "$PP_TMP/sim.log"; pp_fail "installed plugpull sim"; }
tail -1 "$PP_TMP/sim.log"
[ -f "$PP_TMP/sim/summary.json" ] || pp_fail "sim wrote no summary.json"

"$inst" report "$PP_TMP/sim" >"$PP_TMP/report.log" 2>&1 ||
    { cat "$PP_TMP/report.log"; pp_fail "installed plugpull report"; }
[ -s "$PP_TMP/sim/report.html" ] || pp_fail "report wrote no report.html"
pp_log "installed report: ok (reports from $share/reports)"

"$inst" scenario check "$share"/scenarios/*.conf >"$PP_TMP/check.log" 2>&1 ||
    { cat "$PP_TMP/check.log"; pp_fail "installed plugpull scenario check"; }
n=$(grep -c ": ok" "$PP_TMP/check.log")
pp_log "installed scenario check: $n files ok"

# The man page renders and names every command.
if command -v man >/dev/null 2>&1; then
    MANWIDTH=80 man -l "$prefix/share/man/man1/plugpull.1" >"$PP_TMP/man.txt" 2>"$PP_TMP/man.err" ||
        { cat "$PP_TMP/man.err"; pp_fail "man -l plugpull.1"; }
    for c in sim demo report "scenario check" "trace record" "image build"; do
        grep -q "plugpull $c" "$PP_TMP/man.txt" || pp_fail "the man page has no 'plugpull $c'"
    done
    pp_log "man page: ok"
fi

# The completion completes commands, subcommands, options, option values.
if command -v bash >/dev/null 2>&1; then
    out=$(bash -c '
        . "$1"
        t() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); _plugpull
              echo "${COMPREPLY[*]}"; }
        t plugpull si; t plugpull trace ""; t plugpull sim --kn
        t plugpull sim --model st; t plugpull image build --ca' \
        sh "$prefix/share/bash-completion/completions/plugpull") ||
        pp_fail "sourcing the completion failed"
    want="sim
dump record summary
--known
strict
--cache"
    [ "$out" = "$want" ] || pp_fail "completion: got [$out], want [$want]"
    pp_log "bash completion: ok"
fi

# The image build's cache: under $XDG_CACHE_HOME/plugpull once installed
# (a stand-in images/ records what the script is given).
mkdir -p "$PP_TMP/fake-images"
cat >"$PP_TMP/fake-images/build-image.sh" <<'EOF'
echo "$@" >"$(dirname "$0")/args"
exit 3
EOF
XDG_CACHE_HOME=$PP_TMP/xdg PLUGPULL_IMAGES=$PP_TMP/fake-images \
    "$inst" image build --out "$PP_TMP/img" >/dev/null 2>&1
args=$(cat "$PP_TMP/fake-images/args" 2>/dev/null)
case "$args" in
*"--cache $PP_TMP/xdg/plugpull/image-cache"*) ;;
*) pp_fail "image build's cache is not under XDG_CACHE_HOME: $args" ;;
esac
case "$args" in
*"--shim $prefix/lib/plugpull/libcfaultinject.so"*) ;;
*) pp_fail "image build is not given the installed shim: $args" ;;
esac
pp_log "image cache: $PP_TMP/xdg/plugpull/image-cache"

# --- twin: the installed shim is missing -------------------------------------
mv "$prefix/lib/plugpull/libcfaultinject.so" "$PP_TMP/shim.so"
"$inst" sim --points sample:3 --out "$PP_TMP/sim-noshim" >"$PP_TMP/noshim.log" 2>&1
rc=$?
mv "$PP_TMP/shim.so" "$prefix/lib/plugpull/libcfaultinject.so"
[ "$rc" -eq 3 ] || { cat "$PP_TMP/noshim.log"; pp_fail "sim without its shim exited $rc, want 3"; }
grep -q "shim not found at $prefix/lib/plugpull/libcfaultinject.so" "$PP_TMP/noshim.log" ||
    { cat "$PP_TMP/noshim.log"; pp_fail "the message does not name the missing shim"; }
pp_log "twin: no shim -> exit 3: $(grep 'shim not found' "$PP_TMP/noshim.log")"

cd "$src" || pp_fail "cd $src"

# --- DESTDIR stages the same tree; uninstall removes every file -------------
make -C "$src" --no-print-directory BUILD="$PP_BUILD" PREFIX="$prefix" \
    DESTDIR="$PP_TMP/stage" install >"$PP_TMP/stage.log" 2>&1 ||
    { cat "$PP_TMP/stage.log"; pp_fail "make install DESTDIR"; }
a=$(cd "$prefix" && find . -type f | sort)
b=$(cd "$PP_TMP/stage$prefix" && find . -type f | sort)
[ "$a" = "$b" ] || pp_fail "DESTDIR staged a different file list"
make -C "$src" --no-print-directory BUILD="$PP_BUILD" PREFIX="$prefix" \
    uninstall >"$PP_TMP/uninstall.log" 2>&1 ||
    { cat "$PP_TMP/uninstall.log"; pp_fail "make uninstall"; }
left=$(find "$prefix" -type f | head -5)
[ -z "$left" ] || pp_fail "make uninstall left: $left"
pp_log "DESTDIR and uninstall: ok"
