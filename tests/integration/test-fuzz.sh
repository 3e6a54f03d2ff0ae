#!/bin/sh
# SPDX-License-Identifier: MIT
# test-fuzz.sh BUILD_DIR: build the libFuzzer targets of tests/fuzz/ and run
# each for FUZZ_TIME (20) seconds over its seed corpus; any crash, leak,
# timeout or sanitizer report fails.  The corpus holds deliberately corrupt
# traces, scenarios and CFAULTINJECT strings: that they run clean is the
# success.
#
# Failing twin: the trace target rebuilt in a temporary directory with
# -DPP_FUZZ_PLANTED_OOB (a heap over-read behind a condition no seed meets)
# must be caught by the same fuzz-short rule within FUZZ_TWIN_TIME (60)
# seconds (it takes about one), with an ASan report and a reproducer that
# crashes the planted binary and not the real one.  Skips when clang or its libFuzzer runtime is missing.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_cmd clang make pkg-config
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || pp_fail "cd $top"
[ -f "$PP_BUILD/gen/cfi-calls.c" ] || pp_fail "$PP_BUILD/gen missing (run make)"

# libFuzzer ships with Debian's clang (libclang-rt-14-dev); probe it.
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' \
    >"$PP_TMP/probe.c"
clang -fsanitize=fuzzer,address -o "$PP_TMP/probe" "$PP_TMP/probe.c" \
    >"$PP_TMP/probe.log" 2>&1 ||
    pp_skip "clang cannot link -fsanitize=fuzzer: $(head -n 3 "$PP_TMP/probe.log")"

fuzz_time=${FUZZ_TIME:-20}
out=$PP_BUILD/fuzz
start=$(date +%s)
make --no-print-directory -j3 -f tests/fuzz/fuzz.mk fuzz-build fuzz-short \
    BUILD="$PP_BUILD" FUZZ_TIME="$fuzz_time" >"$PP_TMP/short.log" 2>&1
rc=$?
cat "$PP_TMP/short.log"
[ "$rc" -eq 0 ] || pp_fail "fuzz-short found a crash or failed (see above)"
for t in trace scenario config; do
    grep -q "^Done [0-9]* runs in" "$out/$t.log" ||
        pp_fail "fuzz-$t did not finish its run: $(tail -n 3 "$out/$t.log")"
    grep -q "INITED.*corp: [1-9][0-9]*/" "$out/$t.log" ||
        pp_fail "fuzz-$t did not load its seed corpus"
done
pp_log "fuzz-short: 3 targets, $fuzz_time s each, no crash ($(($(date +%s) - start)) s)"

# The corrupt seeds, one by one, with the real binary: exit 0 each.
n=0
for f in tests/fuzz/corpus/trace/bad-* tests/fuzz/corpus/scenario/bad-* \
         tests/fuzz/corpus/config/bad-*; do
    t=$(basename "$(dirname "$f")")
    "$out/fuzz-$t" "$f" >"$PP_TMP/one.log" 2>&1 ||
        pp_fail "fuzz-$t crashed on the corrupt seed $f: $(grep -m 3 ERROR "$PP_TMP/one.log")"
    n=$((n + 1))
done
pp_log "each of the $n corrupt seeds runs clean on its own"

# --- failing twin: a planted heap over-read must be found -----------------
twin_time=${FUZZ_TWIN_TIME:-60}
start=$(date +%s)
make --no-print-directory -f tests/fuzz/fuzz.mk fuzz-short BUILD="$PP_BUILD" \
    FUZZ_OUT="$PP_TMP/twin" FUZZ_TARGETS=trace FUZZ_TIME="$twin_time" \
    FUZZ_EXTRA_CFLAGS=-DPP_FUZZ_PLANTED_OOB >"$PP_TMP/twin.log" 2>&1 &&
    pp_fail "twin: fuzz-short passed although fuzz-trace has a planted over-read"
took=$(($(date +%s) - start))
grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" "$PP_TMP/twin.log" ||
    pp_fail "twin: no ASan heap-buffer-overflow report: $(tail -n 20 "$PP_TMP/twin.log")"
grep -q "fuzz-trace.c:[0-9]*" "$PP_TMP/twin.log" ||
    pp_fail "twin: the report does not point into fuzz-trace.c"
grep -q "fuzz-trace: reproducer" "$PP_TMP/twin.log" ||
    pp_fail "twin: fuzz-short did not name the reproducer"
# The fuzzer found it: the seeds alone do not reach the planted bug.
"$PP_TMP/twin/fuzz-trace" -runs=0 tests/fuzz/corpus/trace \
    >"$PP_TMP/seeds.log" 2>&1 ||
    pp_fail "twin: the seeds themselves reach the planted bug (make it rarer)"
crash=$(ls "$PP_TMP"/twin/artifacts/trace/crash-* 2>/dev/null | head -n 1)
[ -n "$crash" ] || pp_fail "twin: no crash-* artifact written"
"$PP_TMP/twin/fuzz-trace" "$crash" >"$PP_TMP/replay.log" 2>&1 &&
    pp_fail "twin: the reproducer $crash does not crash the planted binary"
"$out/fuzz-trace" "$crash" >"$PP_TMP/replay.log" 2>&1 ||
    pp_fail "twin: the reproducer crashes the real fuzz-trace too: $(grep -m 3 ERROR "$PP_TMP/replay.log")"
pp_log "twin: planted over-read found, reported and reproduced in $took s"
