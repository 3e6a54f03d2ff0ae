#!/bin/sh
# SPDX-License-Identifier: MIT
# The harness keeps its layering (README, Layout): common -> oracle, server
# -> sim, vm, postmortem -> cli, nothing running back up, checked from the
# #include lines by tools/check-layers.py.  Twin: a copy of harness/ with
# one include planted against the rule must be refused, naming the line.
# Also: every source file carries an SPDX licence line.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
top=$(cd "$(dirname "$0")/../.." && pwd)

out=$(python3 "$top/tools/check-layers.py" "$top/harness") ||
    pp_fail "the tree breaks its layering:
$out"
pp_log "tree: $(echo "$out" | tail -n 1)"

cp -r "$top/harness" "$PP_TMP/harness"
sed -i '0,/^#include "common\/util.h"/s//#include "sim\/sim.h"\n&/' \
    "$PP_TMP/harness/common/util.c"
grep -q '^#include "sim/sim.h"' "$PP_TMP/harness/common/util.c" ||
    pp_fail "twin: could not plant the include"
if out=$(python3 "$top/tools/check-layers.py" "$PP_TMP/harness"); then
    pp_fail "twin: common/util.c including sim/sim.h was accepted"
fi
echo "$out" | grep -q 'common/util.c:[0-9]*: common may not include "sim/sim.h"' ||
    pp_fail "twin: the breach was not named: $out"
pp_log "twin: a planted upward include is refused and named"

missing=$(cd "$top" && git ls-files '*.c' '*.h' '*.py' '*.sh' 'Makefile' \
    '*.mk' 2>/dev/null | while read -r f; do
        head -n 3 "$f" | grep -q 'SPDX-License-Identifier:' || echo "$f"
    done)
[ -z "$missing" ] || pp_fail "source files without an SPDX line:
$missing"
pp_log "every source file has an SPDX line"
