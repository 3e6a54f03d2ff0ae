#!/bin/sh
# SPDX-License-Identifier: MIT
# test-fio-verify.sh: the shim must not change what a write-heavy client
# writes.  fio writes 16 MiB in 4 KiB random pwrites (psync engine) with
# crc32c verification (it reads every block back and checks it), once with
# the shim in passthrough mode and once in trace mode; both must verify
# clean, and the trace must hold exactly one pwrite record per block
# (16 MiB / 4 KiB = 4096) carrying 16 MiB in total.
#
# Failing twin: the same job with a fault rule that makes the 100th pwrite
# fail with EIO must make fio report an error: the passes above are not
# vacuous, fio notices when the shim interferes.
set -u
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_cmd fio jq
pp_need_build

size_mb=16
blocks=$((size_mb * 1024 / 4))
data=$PP_TMP/data
job="--name=pp-verify --filename=$data --size=${size_mb}M --rw=randwrite --bs=4k --ioengine=psync --verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 --randrepeat=1 --output-format=json"

# Lay the file out without the shim, so the traced run holds only the
# job's own pwrites (fio would otherwise write the layout with write()).
fio $job --create_only=1 >/dev/null 2>&1 || pp_fail "fio layout of $data"

# fio_ok OUT.json: fio finished with no error and verified every block.
fio_ok() {
    err=$(jq -r '.jobs[0].error' "$1" 2>/dev/null)
    [ "$err" = 0 ]
}

pp_shim_run "" passthrough fio $job >"$PP_TMP/pass.json" 2>"$PP_TMP/pass.err" ||
    pp_fail "fio under the shim (passthrough) failed: $(cat "$PP_TMP/pass.err")"
fio_ok "$PP_TMP/pass.json" || pp_fail "fio (passthrough) reported an error"
pp_log "passthrough: fio wrote and verified ${size_mb} MiB (crc32c), no error"

trace=$PP_TMP/t.cfit
pp_shim_run "$trace" trace fio $job >"$PP_TMP/trace.json" 2>"$PP_TMP/trace.err" ||
    pp_fail "fio under the shim (trace) failed: $(cat "$PP_TMP/trace.err")"
fio_ok "$PP_TMP/trace.json" || pp_fail "fio (trace) reported an error"
pp_log "trace: fio wrote and verified ${size_mb} MiB (crc32c), no error"

"$PP_BIN" trace summary --json "$trace" >"$PP_TMP/summary.json" ||
    pp_fail "plugpull trace summary $trace"
pwrites=$(jq '[.calls | to_entries[] | select(.key | test("^pwrite")) | .value] | add // 0' "$PP_TMP/summary.json")
bytes=$(jq '.bytes_written' "$PP_TMP/summary.json")
truncated=$(jq '.truncated' "$PP_TMP/summary.json")
pp_log "trace: $pwrites pwrite records, $bytes bytes written, truncated=$truncated (expected $blocks records, $((size_mb * 1048576)) bytes)"
[ "$truncated" = false ] || pp_fail "the trace is truncated"
[ "$pwrites" = "$blocks" ] || pp_fail "expected $blocks pwrite records, the trace has $pwrites"
[ "$bytes" = $((size_mb * 1048576)) ] || pp_fail "expected $((size_mb * 1048576)) bytes written, the trace has $bytes"

# --- failing twin: an injected EIO must be noticed by fio
# No path= in the rule: path globs match only calls that carry a path, and
# pwrite carries an fd (the fd-to-path of the trace is not used by rules).
fault_cfg="mode=fault;[rule];action=fault;calls=pwrite64,pwrite;nth=100;errno=EIO"
CFAULTINJECT=$fault_cfg LD_PRELOAD=${LD_PRELOAD:+$LD_PRELOAD:}$PP_SHIM \
    fio $job >"$PP_TMP/fault.json" 2>"$PP_TMP/fault.err"
rc=$?
if [ "$rc" = 0 ] && fio_ok "$PP_TMP/fault.json"; then
    pp_fail "failing twin: fio passed although the 100th pwrite was failed with EIO"
fi
pp_log "failing twin: an injected EIO on the 100th pwrite makes fio fail (exit $rc): $(grep -h -m1 -o 'Input/output error' "$PP_TMP/fault.err" "$PP_TMP/fault.json" | head -n 1)"
pp_log "PASS"
exit 0
