#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every tests/integration/test-*.sh with the build directory as $1.
# A script exits 0 (pass), 77 (skipped, with the reason on stderr) or
# anything else (fail).  The closing line counts them.
set -u
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0
skipped=0
failed_names=""
for t in "$here"/integration/test-*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    echo "=== $name"
    start=$(date +%s)
    sh "$t" "$build"
    rc=$?
    end=$(date +%s)
    case $rc in
        0) passed=$((passed + 1)); echo "--- PASS $name ($((end - start)) s)" ;;
        77) skipped=$((skipped + 1)); echo "--- SKIP $name" ;;
        *) failed=$((failed + 1)); failed_names="$failed_names $name"
           echo "--- FAIL $name (exit $rc, $((end - start)) s)" ;;
    esac
done
echo "integration: $passed passed, $failed failed, $skipped skipped"
if [ "$failed" -ne 0 ]; then
    echo "failed:$failed_names"
    exit 1
fi
