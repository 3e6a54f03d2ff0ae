#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/deps-sets.sh ROOT [SET...]: what each set of tools/deps.sh costs on
# a fresh Debian 12, by apt's own resolution in a throwaway chroot made by
#   mmdebstrap --variant=apt bookworm ROOT
# Prints one table row per set (packages apt would install, MB to
# download, MB installed).  Installs nothing; needs root for chroot.
# A set list such as "build sim report" is one argument.
set -eu
root=${1:?usage: bench/deps-sets.sh ROOT [SET...]}
shift
[ $# -gt 0 ] || set -- build sim vm report test all "build sim report"
here=$(cd "$(dirname "$0")/.." && pwd)
chroot "$root" apt-get update -qq >/dev/null
# to_mb "12.3 MB" | "456 kB" | "7 B"
to_mb() {
    awk -v v="$1" -v u="$2" 'BEGIN {
        f = (u == "kB") ? 1/1000 : (u == "B") ? 1/1000000 : (u == "GB") ? 1000 : 1;
        printf "%.1f", v * f }'
}
echo "| set | packages | MB download | MB installed |"
echo "|---|---:|---:|---:|"
for set in "$@"; do
    # shellcheck disable=SC2086
    pkgs=$(sh "$here/tools/deps.sh" --list $set)
    # shellcheck disable=SC2086
    n=$(chroot "$root" apt-get install -s --no-install-recommends $pkgs |
        grep -c '^Inst ')
    # shellcheck disable=SC2086
    out=$(chroot "$root" apt-get install --no-install-recommends --assume-no $pkgs 2>&1 || true)
    get=$(echo "$out" | sed -n 's/^Need to get \([0-9.,]*\) \([kMG]*B\).*/\1 \2/p' | tr -d ,)
    use=$(echo "$out" | sed -n 's/^After this operation, \([0-9.,]*\) \([kMG]*B\).*/\1 \2/p' | tr -d ,)
    # shellcheck disable=SC2086
    echo "| $set | $n | $(to_mb $get) | $(to_mb $use) |"
done
