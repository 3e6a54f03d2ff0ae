#!/bin/sh
# SPDX-License-Identifier: MIT
# firmware-record.sh: record `ostree admin upgrade` of a real Debian-built
# firmware (images/build-debian-firmware.sh) under the shim, and time what
# the harness then does with one of its crash states.
#
#   sh bench/firmware-record.sh [--size full|small] [--build DIR]
#                               [--cache DIR] [--out DIR]
#
#   --size   the firmware (default full; small is minbase, no kernel)
#   --build  where plugpull and the shim are (default build)
#   --cache  the firmware cache (default BUILD/firmware/debian-SIZE;
#            built, or reused when up to date)
#   --out    the work directory (default BUILD/firmware/record-SIZE;
#            emptied first; kept afterwards for a look)
#
# What it does, as root (the client always runs in plugpull's user
# namespace, which as root maps every uid and gid 0..65535, so the
# firmware's owners are kept; never outside one, as ostree admin freezes
# the filesystem of /boot when it is not told skip-sync):
#   1. the server: an archive repo with v1 and v2 (pull-local from the
#      cache), ref "firmware" at v1, served by `plugpull serve` on
#      127.0.0.1;
#   2. the device: a directory sysroot as the fixture makes one (init-fs,
#      os-init debian, BLS, remote "origin", pull, deploy v1), each step
#      in the namespace (through `plugpull trace record --data none`, a
#      throwaway trace: plugpull has no other way to run a command there);
#   3. publish v2 (reset the ref), copy the sysroot (the snapshot the crash
#      states start from) and trace the upgrade as `plugpull sim` records
#      one: own boot id, TMPDIR outside the sysroot, mutable deployments;
#   4. `plugpull trace summary`, then the time of one `plugpull crashstate`
#      (ordered model, cut at the middle call) and one `plugpull inspect
#      --repo` of that state.
# The figures are printed and written to OUT/figures.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
size=full
build=$here/build
cache=""
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --cache) cache=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "usage: $0 [--size full|small] [--build DIR] [--cache DIR] [--out DIR]" >&2; exit 2 ;;
    esac
done
build=$(cd "$build" && pwd)
cache=${cache:-$build/firmware/debian-$size}
out=${out:-$build/firmware/record-$size}
pp=$build/plugpull
[ -x "$pp" ] || { echo "firmware-record: $pp missing (make)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "firmware-record: run as root" >&2; exit 2; }

now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{printf "%.2f", $1 - $2}'; }
fig() { echo "$1=$2" | tee -a "$out/figures"; }

t=$(now)
sh "$here/images/build-debian-firmware.sh" --size "$size" "$cache"
v1=$(cat "$cache/v1.commit")
v2=$(cat "$cache/v2.commit")

rm -rf "$out"
mkdir -p "$out/srv" "$out/tmp" "$out/setup"
: > "$out/figures"
fig firmware_ready_s "$(since "$t")"
sed 's/^/firmware_/' "$cache/info" >> "$out/figures"

# --- 1. the server -----------------------------------------------------------
srv=$out/srv/repo
t=$(now)
ostree --repo="$srv" init --mode=archive-z2
ostree --repo="$srv" pull-local "$cache/repo" "$v1" "$v2"
ostree --repo="$srv" refs --create=firmware "$v1"
ostree --repo="$srv" summary -u
fig server_repo_s "$(since "$t")"
"$pp" serve "$out/srv" --port 0 --port-file "$out/port" 2>"$out/serve.log" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true' EXIT
i=0
while [ ! -s "$out/port" ]; do
    kill -0 "$serve_pid" 2>/dev/null || { cat "$out/serve.log" >&2; exit 3; }
    i=$((i + 1)); [ "$i" -lt 100 ] || { echo "firmware-record: no port" >&2; exit 3; }
    sleep 0.1
done
url=http://127.0.0.1:$(cat "$out/port")/repo

# --- 2. the device -------------------------------------------------------------
sysroot=$out/sysroot
repo=$sysroot/ostree/repo
n=0
device() {
    n=$((n + 1))
    "$pp" trace record --userns --data none --out "$out/setup/$n.cfit" -- \
        env OSTREE_SYSROOT_DEBUG=mutable-deployments OSTREE_SYSROOT_OPTS=skip-sync \
        ostree "$@" >/dev/null 2>"$out/setup/$n.err" \
        || { echo "firmware-record: ostree $*:" >&2; cat "$out/setup/$n.err" >&2; exit 3; }
    rm -f "$out/setup/$n.cfit"
}
mkdir -p "$sysroot"
t=$(now)
device admin init-fs "$sysroot"
device admin os-init --sysroot="$sysroot" debian
device config --repo="$repo" set sysroot.bootloader none
device remote add --repo="$repo" --no-gpg-verify origin "$url" firmware
t1=$(now)
device pull --repo="$repo" origin firmware
fig device_pull_v1_s "$(since "$t1")"
t1=$(now)
device admin deploy --sysroot="$sysroot" --os=debian --karg=rw origin:firmware
fig device_deploy_v1_s "$(since "$t1")"
fig device_setup_s "$(since "$t")"

# --- 3. publish v2, trace the upgrade ----------------------------------------
ostree --repo="$srv" reset firmware "$v2"
ostree --repo="$srv" summary -u
t=$(now)
cp -a --reflink=auto "$sysroot" "$out/snapshot"
fig snapshot_copy_s "$(since "$t")"
trace=$out/upgrade.cfit
t=$(now)
"$pp" trace record --userns --out "$trace" -- \
    env OSTREE_BOOTID="$(cat /proc/sys/kernel/random/uuid)" TMPDIR="$out/tmp" \
    OSTREE_SYSROOT_DEBUG=mutable-deployments \
    ostree admin upgrade --sysroot="$sysroot" --os=debian \
    >"$out/upgrade.out" 2>"$out/upgrade.err" \
    || { cat "$out/upgrade.out" "$out/upgrade.err" >&2; exit 3; }
fig upgrade_traced_s "$(since "$t")"
fig trace_bytes "$(stat -c %s "$trace")"
booted=$(ls "$sysroot/ostree/deploy/debian/deploy" | grep "^$v2\." || true)
[ -n "$booted" ] || { echo "firmware-record: v2 was not deployed" >&2; exit 3; }

# --- 4. what the harness does with it -----------------------------------------
"$pp" trace summary "$trace" | tee "$out/summary.txt"
"$pp" trace summary --json "$trace" > "$out/summary.json"
calls=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["records"])' "$out/summary.json" 2>/dev/null || echo "")
barriers=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["points_barriers"])' "$out/summary.json" 2>/dev/null || echo "")
fig traced_calls "$calls"
fig barrier_points "$barriers"
k=$(( ${calls:-0} / 2 ))
t=$(now)
"$pp" crashstate --trace "$trace" -k "$k" --model ordered --root "$sysroot" \
    --snapshot "$out/snapshot" --out "$out/state" >/dev/null
fig crashstate_k "$k"
fig crashstate_s "$(since "$t")"
t=$(now)
rc=0
"$pp" inspect --repo "$srv" "$out/state" > "$out/inspect.txt" || rc=$?
fig inspect_s "$(since "$t")"
fig inspect_exit "$rc"
head -5 "$out/inspect.txt"
