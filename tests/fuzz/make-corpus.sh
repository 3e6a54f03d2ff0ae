#!/bin/sh
# SPDX-License-Identifier: MIT
# make-corpus.sh BUILD_DIR: regenerate the seed corpora under
# tests/fuzz/corpus/.  Real traces are recorded with BUILD_DIR's shim from
# a few shell one-liners (each < 20 KB); malformed traces, scenarios and
# CFAULTINJECT strings come from make-corpus.py.  Run from the top of the
# tree; the output is meant to be committed, so runs are not needed in CI.
set -eu
build=$(cd "${1:-build}" && pwd)
shim=$build/libcfaultinject.so
[ -f "$shim" ] || { echo "make-corpus: $shim missing (run make)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /var/tmp/pp-corpus.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
out=$here/corpus/trace
mkdir -p "$out"

# rec NAME CONFIG SCRIPT: record SCRIPT under the shim with CONFIG (the
# trace= key is added), keep the trace as trace/real-NAME.cfit.
rec() {
    CFAULTINJECT="trace=$tmp/$1.cfit;$2" LD_PRELOAD=$shim \
        sh -c "cd $tmp && $3" >/dev/null 2>&1 || true
    cp "$tmp/$1.cfit" "$out/real-$1.cfit"
}
rec basic 'mode=trace' 'echo x > f; mv f g; sync'
rec digest 'mode=trace;data=digest' \
    'echo hello > f; ln f h; rm h; mkdir d; rmdir d; chmod 600 f; ln -s f s; rm s'
rec none 'mode=trace;data=none' 'printf abc > f; truncate -s 100 f; touch f'
rec fault 'mode=fault;[rule];ops=fsync;errno=EIO' \
    'echo x > f; sync f; dd if=/dev/zero of=z bs=512 count=2 conv=fsync'
rec short 'mode=fault;[rule];calls=write;short=yes;nth=2' \
    '(echo one; echo two; echo three) > f'
rec crash 'mode=crash;[rule];ops=rename;timing=after' 'echo x > f; mv f g'
rec copy 'mode=trace' \
    'cp /etc/hostname c; fallocate -l 4096 c3; sync -f c3; chown 0:0 c3'
# Under eatmydata (appended after the shim): interposer notes and flagged
# sync records.
if command -v eatmydata >/dev/null 2>&1; then
    rec interposed 'mode=trace' 'eatmydata sh -c "echo x > f; sync f; sync"'
fi
python3 "$here/make-corpus.py" "$here/corpus"
