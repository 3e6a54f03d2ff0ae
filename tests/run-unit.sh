#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every cmocka unit test binary in BUILD/tests; fail if any fails.
# Each binary prints cmocka's own summary; the last line here is the total.
set -u
build=${1:-build}
passed=0
failed=0
failed_names=""
for t in "$build"/tests/test-*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    echo "=== $name"
    if PLUGPULL_BUILD="$build" "$t"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failed_names="$failed_names $name"
    fi
done
echo "unit test programs: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
    echo "failed:$failed_names"
    exit 1
fi
