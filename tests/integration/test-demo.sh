#!/bin/sh
# SPDX-License-Identifier: MIT
# `plugpull demo`, the first half of `make demo`: a real ostree upgrade
# traced, its crash points summarised, states around the commit point
# materialised.  The boot state each model leaves must be the one the
# update path implies: before the commit rename the old loader, after it
# the new one (process-kill and ordered), and under strict the old one
# until the fsync of boot/ that follows the rename.
. "$(dirname "$0")/lib.sh"
pp_init "$@"

"$PP_BIN" demo --out "$PP_TMP/demo" >"$PP_TMP/out" 2>&1
rc=$?
cat "$PP_TMP/out"
[ "$rc" -eq 0 ] || pp_fail "demo exited $rc"
grep -q "^commit point: call #[0-9]* renameat boot/loader.tmp -> boot/loader (bootconfig swap)" "$PP_TMP/out" ||
    pp_fail "no bootconfig commit point found"
k=$(sed -n 's/^commit point: call #\([0-9]*\) .*/\1/p' "$PP_TMP/out")
before=$(grep "^  process-kill  k=$k " "$PP_TMP/out" | sed 's/.*boot\/loader -> \(loader\.[01]\).*/\1/')
after=$(grep "^  process-kill  k=$((k + 1)) " "$PP_TMP/out" | sed 's/.*boot\/loader -> \(loader\.[01]\).*/\1/')
strict_after=$(grep "^  strict        k=$((k + 1)) " "$PP_TMP/out" | sed 's/.*boot\/loader -> \(loader\.[01]\).*/\1/')
[ -n "$before" ] && [ -n "$after" ] || pp_fail "sample states missing"
[ "$before" != "$after" ] || pp_fail "the commit rename did not switch the loader ($before)"
[ "$strict_after" = "$before" ] || pp_fail "strict kept the unsynced rename ($strict_after)"
pp_log "commit point #$k: $before -> $after; strict keeps $strict_after until boot/ is fsynced"

# twin: a bad option is a usage error
"$PP_BIN" demo --payload-kb -5 --out "$PP_TMP/x" >/dev/null 2>&1
[ $? -eq 2 ] || pp_fail "bad --payload-kb: want exit 2"
