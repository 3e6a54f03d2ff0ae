#!/bin/sh
# SPDX-License-Identifier: MIT
# fio-shim.sh: what does the cfaultinject shim cost a write-heavy client?
#
#   sh bench/fio-shim.sh BUILD_DIR [RUNS] [OUT.md]
#
# Workload: fio 4 KiB random writes, psync engine, fsync every 32 writes,
# over a 256 MiB file on the local disk (/var/tmp, or $PP_BENCH_DIR; never
# tmpfs: with no device under it the sync calls would cost nothing and the
# shim would look worse than it is).  Three configurations:
#   none         fio alone
#   passthrough  LD_PRELOAD=shim, CFAULTINJECT=mode=passthrough
#   trace        LD_PRELOAD=shim, CFAULTINJECT=mode=trace;trace=FILE, with
#                the trace file on the same disk as the data file
#   trace-shm    the same with the trace file on /dev/shm (tmpfs): what the
#                shim itself costs once its trace no longer competes with
#                the workload for the disk (the trace keeps every written
#                byte, so on the same disk it doubles the bytes written)
# The configurations are interleaved (none, passthrough, trace, none, ...)
# so that drift in the disk or the page cache hits all three alike; each
# runs RUNS times (default 5) and the median write bandwidth is reported,
# with the ratios passthrough/none and trace/none.
#
# Writes a markdown fragment (the table, command lines, raw numbers) to
# OUT.md (default: stdout).
set -eu

build=$(cd "${1:?usage: fio-shim.sh BUILD_DIR [RUNS] [OUT.md]}" && pwd)
runs=${2:-5}
out=${3:-/dev/stdout}
shim=$build/libcfaultinject.so
size=${PP_BENCH_SIZE:-256M}

[ -f "$shim" ] || { echo "fio-shim: no shim at $shim (run make)" >&2; exit 2; }
command -v fio >/dev/null || { echo "fio-shim: fio not installed" >&2; exit 2; }

base=${PP_BENCH_DIR:-/var/tmp}
dir=$(mktemp -d "$base/pp-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
fstype=$(df --output=fstype "$dir" | tail -n 1)
case $fstype in
    tmpfs|ramfs) echo "fio-shim: $dir is on $fstype, not a disk" >&2; exit 2 ;;
esac

data=$dir/data
trace=$dir/trace.cfit
shm=$(mktemp -d /dev/shm/pp-bench.XXXXXX)
trap 'rm -rf "$dir" "$shm"' EXIT INT TERM
fio_args="--name=pp-bench --filename=$data --size=$size --rw=randwrite --bs=4k --ioengine=psync --fsync=32 --randrepeat=1 --output-format=json"

# Lay the file out once, without the shim, so that every measured run
# overwrites existing blocks and no run pays for (or traces) the layout.
fio $fio_args --create_only=1 >/dev/null

# run_one CONFIG N: one fio run; appends "CONFIG N BW_KiB IOPS RECORDS" to
# $dir/raw.
run_one() {
    cfg=$1
    n=$2
    rm -f "$trace" "$shm/trace.cfit"
    sync
    case $cfg in
        none)
            fio $fio_args >"$dir/out.json" ;;
        passthrough)
            CFAULTINJECT="mode=passthrough" LD_PRELOAD="$shim" \
                fio $fio_args >"$dir/out.json" ;;
        trace)
            CFAULTINJECT="mode=trace;trace=$trace" LD_PRELOAD="$shim" \
                fio $fio_args >"$dir/out.json" ;;
        trace-shm)
            CFAULTINJECT="mode=trace;trace=$shm/trace.cfit" LD_PRELOAD="$shim" \
                fio $fio_args >"$dir/out.json" ;;
    esac
    set -- $(jq -r '.jobs[0].write | "\(.bw) \(.iops)"' "$dir/out.json")
    tsize=0
    [ -f "$trace" ] && tsize=$(stat -c %s "$trace")
    [ -f "$shm/trace.cfit" ] && tsize=$(stat -c %s "$shm/trace.cfit")
    echo "$cfg $n $1 $2 $tsize" >>"$dir/raw"
    echo "fio-shim: run $n $cfg: $1 KiB/s, trace $tsize bytes" >&2
}

: >"$dir/raw"
i=1
while [ "$i" -le "$runs" ]; do
    for cfg in none passthrough trace trace-shm; do
        run_one "$cfg" "$i"
    done
    i=$((i + 1))
done

# median CONFIG: median bandwidth (KiB/s) of that configuration's runs.
median() {
    awk -v c="$1" '$1 == c { print $3 }' "$dir/raw" | sort -n |
        awk '{ v[NR] = $1 } END {
                 if (NR % 2) print v[(NR + 1) / 2];
                 else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
m_none=$(median none)
m_pass=$(median passthrough)
m_trace=$(median trace)
m_shm=$(median trace-shm)
r_shm=$(awk -v a="$m_shm" -v b="$m_none" 'BEGIN { printf "%.3f", a / b }')
goal_shm=$(awk -v r="$r_shm" 'BEGIN { print (r >= 0.90) ? "met" : "NOT met" }')
r_pass=$(awk -v a="$m_pass" -v b="$m_none" 'BEGIN { printf "%.3f", a / b }')
r_trace=$(awk -v a="$m_trace" -v b="$m_none" 'BEGIN { printf "%.3f", a / b }')
goal_pass=$(awk -v r="$r_pass" 'BEGIN { print (r >= 0.98) ? "met" : "NOT met" }')
goal_trace=$(awk -v r="$r_trace" 'BEGIN { print (r >= 0.90) ? "met" : "NOT met" }')
tsize=$(awk '$1 == "trace" { print $5; exit }' "$dir/raw")

{
    echo "### fio: 4 KiB random writes, psync, fsync every 32 writes"
    echo
    echo "Data and trace on $fstype ($(df -P "$dir" | awk 'NR == 2 { print $1 }')), $size file, $runs interleaved runs per configuration."
    echo
    echo '```'
    echo "none:        fio $fio_args" | sed "s|$dir|\$DIR|g"
    echo "passthrough: CFAULTINJECT=mode=passthrough LD_PRELOAD=build/libcfaultinject.so fio ..."
    echo "trace:       CFAULTINJECT='mode=trace;trace=\$DIR/trace.cfit' LD_PRELOAD=build/libcfaultinject.so fio ..."
    echo "trace-shm:   CFAULTINJECT='mode=trace;trace=/dev/shm/.../trace.cfit' LD_PRELOAD=build/libcfaultinject.so fio ..."
    echo '```'
    echo
    echo "| configuration | median write bandwidth (KiB/s) | ratio to none | goal | met? |"
    echo "|---|---:|---:|---:|---|"
    echo "| none | $m_none | 1.000 | | |"
    echo "| passthrough | $m_pass | $r_pass | >= 0.98 | $goal_pass |"
    echo "| trace | $m_trace | $r_trace | >= 0.90 | $goal_trace |"
    echo "| trace, trace file on tmpfs | $m_shm | $r_shm | >= 0.90 | $goal_shm |"
    echo
    echo "Trace file of one trace run: $tsize bytes."
    echo
    echo "Raw runs (configuration, run, KiB/s, IOPS, trace bytes), in the order they ran:"
    echo
    echo '```'
    cat "$dir/raw"
    echo '```'
} >"$out"
