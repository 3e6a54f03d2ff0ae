#!/bin/sh
# SPDX-License-Identifier: MIT
# test-sanitizers.sh BUILD_DIR: build the cmocka unit tests with the replay
# library and the harness under ASan + UBSan (make -f tests/fuzz/fuzz.mk
# asan-unit, objects kept in BUILD_DIR/asan) and run them; a sanitizer
# report fails the test even when every assertion passed.  The shim and the
# helpers the tests start stay the normal BUILD_DIR ones.
#
# Failing twin: three planted cmocka tests whose assertions pass, with a
# heap over-read, a signed overflow and a leak, built by the same rule;
# asan-unit must fail on each and name the file and line.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_cmd clang make pkg-config
pp_need_build
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || pp_fail "cd $top"
pkg-config --exists cmocka || pp_skip "cmocka not installed (tools/deps.sh)"
[ -d "$PP_BUILD/tests/helpers" ] || pp_fail "$PP_BUILD/tests/helpers missing (run make)"

printf 'int main(void) { return 0; }\n' >"$PP_TMP/probe.c"
clang -fsanitize=address,undefined -o "$PP_TMP/probe" "$PP_TMP/probe.c" \
    >"$PP_TMP/probe.log" 2>&1 ||
    pp_skip "clang cannot link -fsanitize=address,undefined: $(head -n 3 "$PP_TMP/probe.log")"

start=$(date +%s)
make --no-print-directory -j2 -f tests/fuzz/fuzz.mk asan-build \
    BUILD="$PP_BUILD" >"$PP_TMP/build.log" 2>&1 ||
    { cat "$PP_TMP/build.log"; pp_fail "asan-build failed"; }
make --no-print-directory -f tests/fuzz/fuzz.mk asan-unit \
    BUILD="$PP_BUILD" >"$PP_TMP/unit.log" 2>&1
rc=$?
grep -v "^  ASANCC\|^  ASANLD" "$PP_TMP/unit.log"
[ "$rc" -eq 0 ] || pp_fail "asan-unit failed (see above)"
grep -l "runtime error\|ERROR: AddressSanitizer" "$PP_BUILD"/asan/tests/*.log \
    >"$PP_TMP/dirty" 2>/dev/null && pp_fail "sanitizer report in $(cat "$PP_TMP/dirty")"
pp_log "asan-unit: every unit test clean under ASan+UBSan ($(($(date +%s) - start)) s)"

# --- failing twin ---------------------------------------------------------
mkdir -p "$PP_TMP/unit"
cat >"$PP_TMP/unit/test-planted-asan.c" <<'EOC'
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Passes its assertion, but reads one byte past a heap block. */
static void
test_overread(void **state)
{
    char *p = malloc(8);
    memcpy(p, "plugpul", 8);
    volatile char c = p[strlen(p) + 1];
    assert_true(c == c);
    free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_overread) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
EOC
cat >"$PP_TMP/unit/test-planted-ubsan.c" <<'EOC'
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/* Passes its assertion, but overflows a signed int. */
static void
test_overflow(void **state)
{
    volatile int big = INT_MAX;
    int r = big + 1;
    assert_true(r == r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_overflow) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
EOC
cat >"$PP_TMP/unit/test-planted-leak.c" <<'EOC'
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

static void *volatile sink;

/* Passes its assertion, but loses the only pointer to a heap block. */
static void
test_leak(void **state)
{
    sink = malloc(4096);
    assert_non_null(sink);
    sink = NULL;
}

int
main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_leak) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
EOC
make --no-print-directory -f tests/fuzz/fuzz.mk asan-unit BUILD="$PP_BUILD" \
    ASAN_UNIT_DIR="$PP_TMP/unit" ASAN_TEST_OUT="$PP_TMP/tests" \
    >"$PP_TMP/twin.log" 2>&1 &&
    pp_fail "twin: asan-unit passed planted sanitizer bugs"
grep -q "asan-unit: failed: test-planted-asan test-planted-leak test-planted-ubsan" "$PP_TMP/twin.log" ||
    pp_fail "twin: asan-unit did not fail all three planted tests: $(tail -n 20 "$PP_TMP/twin.log")"
grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" "$PP_TMP/twin.log" ||
    pp_fail "twin: no ASan report for the over-read"
grep -q "test-planted-asan.c:14" "$PP_TMP/twin.log" ||
    pp_fail "twin: the ASan report does not name test-planted-asan.c:14"
grep -q "ERROR: LeakSanitizer: detected memory leaks" "$PP_TMP/twin.log" &&
    grep -q "in test_leak .*test-planted-leak.c:13" "$PP_TMP/twin.log" ||
    pp_fail "twin: no LeakSanitizer report naming test-planted-leak.c:13"
grep -q "test-planted-ubsan.c:12:.*runtime error: signed integer overflow" "$PP_TMP/twin.log" ||
    pp_fail "twin: no UBSan report naming test-planted-ubsan.c:12"
pp_log "twin: planted over-read, signed overflow and leak each fail asan-unit, with file:line"
