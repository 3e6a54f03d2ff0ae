#!/bin/sh
# SPDX-License-Identifier: MIT
# test-ostree-tests-transparency.sh: libostree's own installed tests
# (Debian package ostree-tests) must pass as often with the shim loaded
# (passthrough mode, and trace mode) as without it.
#
# Each test runs the way gnome-desktop-testing-runner would (its .test
# file's Exec line, in a fresh empty working directory, which libtest.sh
# uses as its tmpdir), inside `unshare --user --map-root-user`: the admin
# tests run `ostree admin deploy` on directory sysroots, and as real root
# ostree would FIFREEZE the host's root filesystem.  In the namespace
# FIFREEZE fails with EPERM and ostree falls back to syncfs.
#
# The subset (chosen from a run of the installed tests, alphabetically up
# to test-l*, on Debian 12 as root in a user namespace; timings without the
# shim; the whole suite takes far longer than the CI budget):
#   - admin tests that passed in under 7 s: the deploy/upgrade path
#     (bootloader swap, /etc merge, karg changes, whiteouts, locking,
#     pull+deploy), which is what plugpull exercises;
#   - repo tests: archive-z2, auto-summary, fsck --delete, local pull with
#     depth, commit timestamps;
#   - a few C unit tests of libostree (test-basic-c, test-repo,
#     test-checksum, test-mutable-tree) and test-concurrency.py (parallel
#     commits in several processes, i.e. the shim's shared trace).
# Left out: tests that fail here without the shim (test-basic-root.sh:
# needs real root for xattrs; test-corruption.sh; tests needing FUSE,
# avahi or a boot), and the slow ones (test-admin-deploy-grub2/syslinux/
# none/uboot, test-basic-user*.sh: 18-37 s each) to stay in the CI budget
# of about 2 minutes.  PP_OSTREE_TESTS="a b c" overrides the list, and
# PP_OSTREE_TESTS=all runs every installed test.
#
# Trace mode records with data=digest: the tests write hundreds of MB and
# the content of the writes is not what this test is about.
#
# Failing twin: one test run with a fault rule that fails every fsync,
# fdatasync and syncfs with EIO must fail, so that a pass here is not the
# runner ignoring failures.
set -u
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_cmd ostree unshare
pp_need_build

TESTS_DIR=/usr/share/installed-tests/libostree
[ -d "$TESTS_DIR" ] || pp_skip "ostree-tests is not installed ($TESTS_DIR missing)"
unshare --user --map-root-user true 2>/dev/null ||
    pp_skip "user namespaces are not available (unshare -r failed)"

DEFAULT_TESTS="
test-admin-deploy-switch.sh
test-admin-deploy-clean.sh
test-admin-deploy-karg.sh
test-admin-deploy-etcmerge-cornercases.sh
test-admin-deploy-whiteouts.sh
test-admin-upgrade-not-backwards.sh
test-admin-pull-deploy-commit.sh
test-admin-locking.sh
test-archivez.sh
test-auto-summary.sh
test-fsck-delete.sh
test-local-pull-depth.sh
test-commit-timestamp.sh
test-concurrency.py
test-basic-c
test-repo
test-checksum
test-mutable-tree
"
case ${PP_OSTREE_TESTS:-} in
    "") tests=$DEFAULT_TESTS ;;
    all) tests=$(cd "$TESTS_DIR" && ls *.test | sed 's/\.test$//') ;;
    *) tests=$PP_OSTREE_TESTS ;;
esac

# run-one.sh CONFIG NAME: run test NAME under CONFIG (none, passthrough,
# trace, fault) in a fresh empty directory; appends "NAME CONFIG rc
# seconds" to $PP_TMP/results.  A script file, not a function, so that
# xargs can run two at a time; it reads PP_TMP, PP_SHIM, TESTS_DIR from
# the environment.
cat >"$PP_TMP/run-one.sh" <<'RUNNER'
cfg=$1
name=$2
exec_line=$(sed -n 's/^Exec=//p' "$TESTS_DIR/$name.test")
w=$PP_TMP/work/$cfg-$name
mkdir -p "$w"
case $cfg in
    none) shim_env="" ;;
    passthrough) shim_env="LD_PRELOAD=$PP_SHIM CFAULTINJECT=mode=passthrough" ;;
    trace) shim_env="LD_PRELOAD=$PP_SHIM CFAULTINJECT=mode=trace;data=digest;trace=$PP_TMP/traces/$name.cfit" ;;
    fault) shim_env="LD_PRELOAD=$PP_SHIM CFAULTINJECT=mode=fault;[rule];action=fault;calls=fsync,fdatasync,syncfs;errno=EIO" ;;
esac
start=$(date +%s)
# shellcheck disable=SC2086
(cd "$w" && timeout 300 unshare --user --map-root-user \
    env $shim_env sh -c "$exec_line" >"$PP_TMP/logs/$cfg-$name.log" 2>&1)
rc=$?
echo "$name $cfg $rc $(($(date +%s) - start))" >>"$PP_TMP/results"
rm -rf "$w"
RUNNER
export PP_TMP PP_SHIM TESTS_DIR

mkdir -p "$PP_TMP/work" "$PP_TMP/logs" "$PP_TMP/traces"
: >"$PP_TMP/results"
n=0
for name in $tests; do
    [ -f "$TESTS_DIR/$name.test" ] || pp_fail "no installed test $name"
    n=$((n + 1))
done
pp_log "running $n installed libostree tests x 3 configurations (none, passthrough, trace)"

# Two tests at a time (two cores); the three configurations of one test
# run one after the other, so drift in the machine affects them alike.
for name in $tests; do
    echo "$name"
done | xargs -P 2 -I{} sh -c 'for c in none passthrough trace; do sh "$0" "$c" {}; done' \
    "$PP_TMP/run-one.sh"

printf '  %-45s %6s %12s %6s\n' test none passthrough trace
for name in $tests; do
    r() { awk -v n="$name" -v c="$1" '$1 == n && $2 == c { print ($3 == 0 ? "pass" : "FAIL(" $3 ")") }' "$PP_TMP/results"; }
    printf '  %-45s %6s %12s %6s\n' "$name" "$(r none)" "$(r passthrough)" "$(r trace)"
done
count() { awk -v c="$1" '$2 == c && $3 == 0' "$PP_TMP/results" | wc -l; }
p_none=$(count none)
p_pass=$(count passthrough)
p_trace=$(count trace)
pp_log "passed: $p_none/$n without the shim, $p_pass/$n passthrough, $p_trace/$n trace"

# Same set, not just the same number: a test that fails only under the
# shim is a failure even if another one happened to fail without it.
for name in $tests; do
    base=$(awk -v n="$name" '$1 == n && $2 == "none" { print $3 }' "$PP_TMP/results")
    for cfg in passthrough trace; do
        got=$(awk -v n="$name" -v c="$cfg" '$1 == n && $2 == c { print $3 }' "$PP_TMP/results")
        if [ "${base:-x}" = 0 ] && [ "${got:-x}" != 0 ] &&
            [ "$name" = test-concurrency.py ]; then
            # Its processes race on the repo's locks with timeouts of their
            # own: on a machine loaded by other work one run in passthrough
            # failed once in many (a child exited 1), and passed 4 of 4
            # runs again.  One more run, said out loud; a second failure
            # fails the test.
            echo "--- $PP_TMP/logs/$cfg-$name.log (tail, first run)" >&2
            tail -n 15 "$PP_TMP/logs/$cfg-$name.log" >&2
            pp_log "$name failed once in $cfg mode: running it again"
            sh "$PP_TMP/run-one.sh" "$cfg" "$name"
            got=$(awk -v n="$name" -v c="$cfg" '$1 == n && $2 == c { v = $3 } END { print v }' "$PP_TMP/results")
        fi
        if [ "${base:-x}" = 0 ] && [ "${got:-x}" != 0 ]; then
            echo "--- $PP_TMP/logs/$cfg-$name.log (tail)" >&2
            tail -n 15 "$PP_TMP/logs/$cfg-$name.log" >&2
            pp_fail "$name passes without the shim but fails in $cfg mode"
        fi
    done
done
[ "$p_none" -gt 0 ] || pp_fail "no test passed even without the shim"
[ "$p_none" = "$p_pass" ] && [ "$p_none" = "$p_trace" ] ||
    pp_fail "pass counts differ: $p_none none, $p_pass passthrough, $p_trace trace"
traced=$(cat "$PP_TMP"/traces/*.cfit 2>/dev/null | wc -c)
pp_log "trace mode wrote $(ls "$PP_TMP"/traces | wc -l) traces, $traced bytes"

# --- failing twin: failing every sync call must make a committing test fail
twin=test-admin-deploy-switch.sh
sh "$PP_TMP/run-one.sh" fault "$twin"
set -- $(awk -v n="$twin" '$1 == n && $2 == "fault"' "$PP_TMP/results")
if [ "$3" = 0 ]; then
    pp_fail "failing twin: $twin passed although every fsync/fdatasync/syncfs failed with EIO"
fi
pp_log "failing twin: $twin fails (exit $3) when the shim fails every sync call with EIO: $(grep -h -m1 -i 'input/output error' "$PP_TMP/logs/fault-$twin.log" | cut -c1-120)"
pp_log "PASS"
exit 0
