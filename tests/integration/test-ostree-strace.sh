#!/bin/sh
# SPDX-License-Identifier: MIT
# test-ostree-strace.sh: does the shim see every mutating call a real
# `ostree pull` makes?  The kernel's view (strace) is the reference.
#
# A fixture repo is served by `plugpull serve` on 127.0.0.1 and pulled into
# a fresh bare repo once, under the shim in trace mode and under
# `strace -f -y` at the same time: what reached the kernel and what the
# shim traced are counts of the same calls.  Per-call counts must be
# equal for:
#   fsync fdatasync syncfs rename* link* symlink* unlink*/rmdir mkdir*
#   fchmod fchown fchownat fallocate utimensat/futimens, and openat with
#   write intent (O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_TMPFILE);
# and for writes to regular files (write/pwrite/writev; strace -y names the
# fd, pipes, sockets, eventfds and /dev are left out) the total bytes must
# be equal, while the number of write calls may differ by up to 20% (a
# tolerance from when two runs were compared: the downloads are written to
# a tmpfile one received chunk at a time, and how the kernel splits a TCP
# stream into reads differs from run to run; one run gives equal counts).
#
# Failing twin: a run under eatmydata (libeatmydata first in LD_PRELOAD, the
# shim last) must trace 0 sync calls while strace of that same run shows
# that none reached the kernel either; and comparing that trace with the
# first strace must be reported as a mismatch, which proves the comparison
# can fail.
set -u
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_cmd ostree strace jq
pp_need_build

EATMYDATA=/usr/lib/x86_64-linux-gnu/libeatmydata.so
[ -f "$EATMYDATA" ] || EATMYDATA=$(ls /usr/lib/*/libeatmydata.so 2>/dev/null | head -n 1)

pp_fixture "$PP_TMP/fx" --no-sysroot --payload-kb 1024
pp_serve "$PP_TMP/fx/srv"
ref=$(pp_json_get "$PP_TMP/fx.json" .ref)
pp_log "serving $PP_TMP/fx/srv on $PP_URL, ref $ref"

export OSTREE_BOOTID=0123456789abcdef0123456789abcdef
export OSTREE_SKIP_CACHE=1
export TMPDIR=$PP_TMP/dl
mkdir -p "$TMPDIR"

# new_repo NAME: a fresh bare repo with the remote (not part of the runs
# compared).
new_repo() {
    ostree --repo="$PP_TMP/$1" init --mode=bare &&
        ostree --repo="$PP_TMP/$1" remote add --no-gpg-verify origin "$PP_URL/repo" ||
        pp_fail "creating repo $1"
}

STRACE_CALLS=fsync,fdatasync,syncfs,rename,renameat,renameat2,link,linkat,symlink,symlinkat,unlink,unlinkat,rmdir,mkdir,mkdirat,fchmod,fchown,fchownat,fallocate,utimensat,write,pwrite64,writev,pwritev,pwritev2,open,openat,creat

# strace_counts PREFIX EXCLUDE: "category count" lines from the per-process
# files PREFIX.* of `strace -ff -y`, and "write_bytes N".  -ff keeps every
# call on one line (no <unfinished ...> interleaving).  EXCLUDE is an awk
# regex of lines to leave out: ostree's console output, which this script
# redirects to a regular file and which ostree prints with stdio (libc's
# internal write, which no LD_PRELOAD shim can see: STYLE.md rule 2; it is
# not state under test), and the shim's own trace file.
strace_counts() {
    cat "$1".* | awk -v exclude="$2" '
        function cat_of(name) {
            if (name ~ /^(fsync|fdatasync|syncfs|fallocate|fchmod|fchown|fchownat)$/) return name
            if (name ~ /^(rename|renameat|renameat2)$/) return "rename"
            if (name ~ /^(link|linkat)$/) return "link"
            if (name ~ /^(symlink|symlinkat)$/) return "symlink"
            if (name ~ /^(unlink|unlinkat|rmdir)$/) return "unlink"
            if (name ~ /^(mkdir|mkdirat)$/) return "mkdir"
            if (name == "utimensat") return "utimens"
            if (name ~ /^(write|pwrite64|writev|pwritev|pwritev2)$/) return "write"
            if (name ~ /^(open|openat|creat)$/) return "open"
            return ""
        }
        /^[a-z_0-9]+\(/ {
            name = $0; sub(/\(.*/, "", name)
            c = cat_of(name)
            if (c == "") next
            if (exclude != "" && $0 ~ exclude) next
            if (c == "write") {
                path = $0
                if (!match(path, /^[a-z0-9]+\([0-9]+</)) next
                path = substr(path, RLENGTH + 1); sub(/>.*/, "", path)
                if (path !~ /^\// || path ~ /^\/dev\//) next
                ret = $0; sub(/.* = /, "", ret); sub(/ .*/, "", ret)
                if (ret + 0 > 0) bytes += ret
            }
            if (c == "open" && name != "creat" &&
                $0 !~ /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_TMPFILE/) next
            n[c]++
        }
        END {
            for (c in n) print c, n[c]
            print "write_bytes", bytes + 0
        }' | sort
}

# shim_counts TRACE: the same categories from a cfaultinject trace.
shim_counts() {
    "$PP_BIN" trace summary --json "$1" >"$1.json" ||
        pp_fail "plugpull trace summary $1"
    jq -r '.calls | to_entries[] | "\(.key) \(.value)"' "$1.json" | awk '
        function cat_of(name) {
            if (name ~ /^(fsync|fdatasync|syncfs|fallocate|fchmod|fchown|fchownat)$/) return name
            if (name ~ /^(rename|renameat|renameat2)$/) return "rename"
            if (name ~ /^(link|linkat)$/) return "link"
            if (name ~ /^(symlink|symlinkat)$/) return "symlink"
            if (name ~ /^(unlink|unlinkat|rmdir)$/) return "unlink"
            if (name ~ /^(mkdir|mkdirat)$/) return "mkdir"
            if (name ~ /^(utimensat|futimens)$/) return "utimens"
            if (name ~ /^(write|pwrite|pwrite64|writev|pwritev|pwritev2|pwritev64|pwritev64v2)$/) return "write"
            if (name ~ /^(open|open64|openat|openat64|creat|creat64|__open_2|__open64_2|__openat_2|__openat64_2)$/) return "open"
            return ""
        }
        { c = cat_of($1); if (c != "") n[c] += $2 }
        END { for (c in n) print c, n[c] }'
    echo "write_bytes $(jq -r .bytes_written "$1.json")"
}

CATS="fsync fdatasync syncfs rename link symlink unlink mkdir fchmod fchown fchownat fallocate utimens open write write_bytes"

# compare KERNEL SHIM LABEL: print a table; return 1 on a mismatch.
compare() {
    rc=0
    printf '%s\n' "  $3"
    printf '  %-12s %8s %8s  %s\n' call strace shim verdict
    for c in $CATS; do
        k=$(awk -v c="$c" '$1 == c { print $2 }' "$1")
        s=$(awk -v c="$c" '$1 == c { print $2 }' "$2")
        k=${k:-0}
        s=${s:-0}
        verdict=equal
        if [ "$c" = write ]; then
            # Count tolerance (see the header): |k - s| <= 20% of k.
            if awk -v k="$k" -v s="$s" 'BEGIN { d = k - s; if (d < 0) d = -d; exit !(d > 0.2 * k) }'; then
                verdict="DIFFERS by more than 20%"
                rc=1
            elif [ "$k" != "$s" ]; then
                verdict="within 20% (chunking)"
            fi
        elif [ "$k" != "$s" ]; then
            verdict=MISMATCH
            rc=1
        fi
        printf '  %-12s %8s %8s  %s\n' "$c" "$k" "$s" "$verdict"
    done
    return $rc
}

# --- one run, seen twice: strace (the kernel) and the shim's trace.  Two
# separate runs were compared before, and ostree does not make the same
# calls every time (one run in CI made one more O_TMPFILE open and
# fchmod than the other).  The shim's own trace file is left out of the
# kernel's count; with no other interposer preloaded the shim makes no
# probe calls.
new_repo r-shim
strace -f -ff -y -qq -o "$PP_TMP/st" -e trace=$STRACE_CALLS \
    env LD_PRELOAD="$PP_SHIM" CFAULTINJECT="mode=trace;trace=$PP_TMP/t.cfit" \
    ostree --repo="$PP_TMP/r-shim" pull origin "$ref" >"$PP_TMP/pull2.out" 2>&1 ||
    pp_fail "ostree pull under the shim and strace: $(cat "$PP_TMP/pull2.out")"
strace_counts "$PP_TMP/st" 'pull[0-9][.]out>|t[.]cfit' >"$PP_TMP/kernel.counts"
shim_counts "$PP_TMP/t.cfit" >"$PP_TMP/shim.counts"
pp_log "run: $(tail -n 1 "$PP_TMP/pull2.out")"

ostree --repo="$PP_TMP/r-shim" fsck -q >/dev/null 2>&1 ||
    pp_fail "ostree fsck of the repo pulled under the shim"
pp_log "repo pulled under the shim passes ostree fsck"

if ! compare "$PP_TMP/kernel.counts" "$PP_TMP/shim.counts" \
        "ostree pull: strace (kernel) vs shim trace"; then
    pp_fail "the shim's trace does not match what reached the kernel"
fi
pp_log "PASS: every sync and namespace call strace saw, the shim traced, with equal counts"

# --- failing twin: eatmydata swallows the sync calls before the shim
if [ -z "$EATMYDATA" ] || [ ! -f "$EATMYDATA" ]; then
    pp_log "libeatmydata not installed: skipping the eatmydata twin (install eatmydata)"
    exit 0
fi
new_repo r-eat
strace -f -ff -y -qq -o "$PP_TMP/eat" -e trace=$STRACE_CALLS \
    env LD_PRELOAD="$EATMYDATA:$PP_SHIM" CFAULTINJECT="mode=trace;trace=$PP_TMP/eat.cfit" \
    ostree --repo="$PP_TMP/r-eat" pull origin "$ref" >"$PP_TMP/pull3.out" 2>&1 ||
    pp_fail "ostree pull under eatmydata: $(cat "$PP_TMP/pull3.out")"
strace_counts "$PP_TMP/eat" 'pull[0-9][.]out>|eat[.]cfit' >"$PP_TMP/eat-kernel.counts"
shim_counts "$PP_TMP/eat.cfit" >"$PP_TMP/eat-shim.counts"
for c in fsync fdatasync syncfs; do
    k=$(awk -v c="$c" '$1 == c { print $2 }' "$PP_TMP/eat-kernel.counts")
    s=$(awk -v c="$c" '$1 == c { print $2 }' "$PP_TMP/eat-shim.counts")
    [ "${k:-0}" = 0 ] || pp_fail "eatmydata: strace saw ${k} $c calls reach the kernel"
    [ "${s:-0}" = 0 ] || pp_fail "eatmydata: the shim traced ${s} $c calls that eatmydata swallowed"
done
pp_log "eatmydata run: 0 fsync/fdatasync/syncfs traced by the shim, 0 reached the kernel"

if compare "$PP_TMP/kernel.counts" "$PP_TMP/eat-shim.counts" \
        "failing twin: the strace above vs the eatmydata trace (must mismatch)"; then
    pp_fail "the comparison did not notice the sync calls eatmydata removed"
fi
pp_log "PASS: the comparison reports the missing sync calls (failing twin)"
exit 0
