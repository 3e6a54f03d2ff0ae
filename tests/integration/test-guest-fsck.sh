#!/bin/sh
# SPDX-License-Identifier: MIT
# images/guest-fsck.c, the VM tier's repo check in the built-in image,
# built here as the image build builds it and run on a real bare repo:
#  1. v1 committed and listed as the baseline (what the image build
#     writes), v2 committed after it: the check passes, hashes exactly
#     v2's new objects and finds v1's present;
#  2. twin: one of v2's objects corrupted: guest-fsck exits 1 naming it,
#     as `ostree fsck` exits 1;
#  3. twin: one of v1's objects removed: exit 1 naming it (the walk is
#     fsck's: every object reachable from a commit must be there);
#  4. a v1 object corrupted in place passes, and `ostree fsck` does not:
#     the baseline's objects are not hashed again.  That is the design
#     (ostree never rewrites an object and a cut loses only the guest's
#     new writes: guest-fsck.c), and this proves the speed comes from it;
#  5. an empty baseline hashes every reachable object;
#  6. v2's root dirtree with its first bytes overwritten, as
#     test-vm-run's --sabotage corrupt-new-tree does: the garbage still
#     parses and names file objects that do not exist, and the error must
#     name the dirtree, the cause, on every run (objects are checked in a
#     fixed order, metadata first; in hash-table order a CI run named the
#     made-up file object instead).
. "$(dirname "$0")/lib.sh"
pp_init "$@"
top=$(cd "$(dirname "$0")/../.." && pwd)
pp_need_cmd cc
pkg-config --exists ostree-1 || pp_skip "no ostree-1 headers (libostree-dev)"

gf=$PP_TMP/guest-fsck
# shellcheck disable=SC2046
cc -std=gnu11 -O2 -o "$gf" "$top/images/guest-fsck.c" \
    $(pkg-config --cflags --libs ostree-1) || pp_fail "building guest-fsck"

R=$PP_TMP/repo
ostree --repo="$R" init --mode=bare-user-only >/dev/null || pp_fail "ostree init"
mkdir -p "$PP_TMP/t/usr/bin"
i=0
while [ $i -lt 20 ]; do
    echo "v1 file $i" >"$PP_TMP/t/usr/bin/f$i"
    i=$((i + 1))
done
ostree --repo="$R" commit --branch=os --tree=dir="$PP_TMP/t" >/dev/null || pp_fail "commit v1"
(cd "$R/objects" && find . -type f -o -type l) | sed 's|^\./||' | LC_ALL=C sort >"$PP_TMP/baseline"
n1=$(wc -l <"$PP_TMP/baseline")
echo "v2 new file" >"$PP_TMP/t/usr/bin/new"
echo "v1 file 0, changed" >"$PP_TMP/t/usr/bin/f0"
ostree --repo="$R" commit --branch=os --tree=dir="$PP_TMP/t" >/dev/null || pp_fail "commit v2"
(cd "$R/objects" && find . -type f -o -type l) | sed 's|^\./||' | LC_ALL=C sort >"$PP_TMP/all"
new=$(LC_ALL=C comm -13 "$PP_TMP/baseline" "$PP_TMP/all")
n_new=$(echo "$new" | wc -l)

# 1
out=$("$gf" "$R" "$PP_TMP/baseline" 2>&1) || pp_fail "clean repo: $out"
echo "$out"
echo "$out" | grep -q "2 commits (0 partial, skipped)" || pp_fail "1: not 2 commits: $out"
echo "$out" | grep -q " $n_new hashed " || pp_fail "1: want $n_new hashed: $out"
echo "$out" | grep -q " $n1 present " || pp_fail "1: want $n1 present: $out"

# 2: a v2 file object corrupted
cp -a "$R" "$PP_TMP/r2"
obj=$(echo "$new" | grep '\.file$' | head -1)
[ -n "$obj" ] || pp_fail "2: v2 wrote no file object"
printf 'x' >>"$PP_TMP/r2/objects/$obj"
out=$("$gf" "$PP_TMP/r2" "$PP_TMP/baseline" 2>&1) && pp_fail "2: a corrupt new object passed: $out"
echo "$out" | grep -q "$obj" || pp_fail "2: the error does not name $obj: $out"
ostree fsck --repo="$PP_TMP/r2" >/dev/null 2>&1 && pp_fail "2: ostree fsck passed it too"

# 3: a v1 dirtree or file removed (reachable from v1)
cp -a "$R" "$PP_TMP/r3"
gone=$(grep '\.file$' "$PP_TMP/baseline" | head -1)
rm "$PP_TMP/r3/objects/$gone"
out=$("$gf" "$PP_TMP/r3" "$PP_TMP/baseline" 2>&1) && pp_fail "3: a missing object passed: $out"
echo "$out" | grep -q "$gone is missing" || pp_fail "3: the error does not name $gone: $out"

# 4: a v1 object corrupted in place: not hashed
cp -a "$R" "$PP_TMP/r4"
old=$(grep '\.file$' "$PP_TMP/baseline" | tail -1)
printf 'x' >>"$PP_TMP/r4/objects/$old"
"$gf" "$PP_TMP/r4" "$PP_TMP/baseline" >/dev/null 2>&1 || pp_fail "4: a baseline object was hashed"
ostree fsck --repo="$PP_TMP/r4" >/dev/null 2>&1 && pp_fail "4: ostree fsck missed the corruption"
# ...and without the baseline it is found.
: >"$PP_TMP/empty"
out=$("$gf" "$PP_TMP/r4" "$PP_TMP/empty" 2>&1) && pp_fail "5: an empty baseline did not hash $old"
echo "$out" | grep -q "$old" || pp_fail "5: the error does not name $old: $out"

# 6: v2's root dirtree spoilt at its start, several different trees so
# that one lucky order cannot pass it
for k in 1 2 3 4 5; do
    echo "v3 file $k" >"$PP_TMP/t/usr/bin/g$k"
    ostree --repo="$R" commit --branch=os --tree=dir="$PP_TMP/t" >/dev/null || pp_fail "6: commit"
    rm -rf "$PP_TMP/r6"
    cp -a "$R" "$PP_TMP/r6"
    root=$(ostree --repo="$R" ls -d -C os / | awk '{print $5}')
    obj=$(echo "$root" | cut -c1-2)/$(echo "$root" | cut -c3-).dirtree
    [ -f "$PP_TMP/r6/objects/$obj" ] || pp_fail "6: no root dirtree $obj"
    printf 'plugpull-spoilt\000' | dd of="$PP_TMP/r6/objects/$obj" bs=16 count=1 conv=notrunc 2>/dev/null
    # guest-fsck's baseline is v1's: everything after it is hashed
    out=$("$gf" "$PP_TMP/r6" "$PP_TMP/baseline" 2>&1) && pp_fail "6: a spoilt dirtree passed: $out"
    echo "$out" | grep -q "$obj: .*Corrupted dirtree object" ||
        pp_fail "6: round $k: the error does not name the dirtree $obj: $out"
    [ $k -eq 1 ] && echo "$out"
done

# usage
"$gf" "$R" >/dev/null 2>&1
[ $? -eq 2 ] || pp_fail "usage: want exit 2"
pp_log "guest-fsck: hashes what is new, finds a corrupt new object and a missing old one"
