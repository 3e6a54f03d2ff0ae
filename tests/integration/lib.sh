# SPDX-License-Identifier: MIT
# lib.sh: shell helpers shared by the integration tests.  POSIX sh; source
# it after setting nothing:
#
#   . "$(dirname "$0")/lib.sh"
#   pp_init "$@"          # BUILD dir from $1, temp dir, cleanup trap
#
# Exit statuses follow tests/run-integration.sh: 0 pass, 77 skip (reason on
# stderr), anything else fail.

# pp_init BUILD_DIR: set PP_BUILD, PP_BIN, PP_SHIM, PP_TMP (removed at
# exit together with every server pp_serve started).
pp_init() {
    PP_BUILD=$(cd "${1:-build}" 2>/dev/null && pwd) ||
        pp_fail "build directory '${1:-build}' not found"
    PP_BIN=$PP_BUILD/plugpull
    PP_SHIM=$PP_BUILD/libcfaultinject.so
    # The shipped known findings (ostree#3392 on Debian 12's 2022.7): a
    # campaign that is not about them passes it, as CI would.
    PP_KNOWN=$(cd "$(dirname "$0")/../.." && pwd)/scenarios/known-findings.conf
    PP_NAME=$(basename "$0" .sh)
    PP_PIDS=""
    # Under /var/tmp, not /tmp: on a tmpfs /tmp, fsync costs nothing and
    # xattrs or O_TMPFILE may behave differently from the disk under test.
    PP_TMP=$(mktemp -d "${PP_TMPDIR:-/var/tmp}/pp-$PP_NAME.XXXXXX") ||
        pp_fail "mktemp failed"
    trap pp_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

pp_cleanup() {
    for pid in $PP_PIDS; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    PP_PIDS=""
    if [ -n "${PP_TMP:-}" ] && [ -z "${PP_KEEP:-}" ]; then
        rm -rf "$PP_TMP"
    elif [ -n "${PP_TMP:-}" ]; then
        echo "$PP_NAME: kept $PP_TMP (PP_KEEP set)" >&2
    fi
}

# pp_log MSG...: a line of what was checked.
pp_log() {
    echo "$PP_NAME: $*"
}

pp_fail() {
    echo "$PP_NAME: FAIL: $*" >&2
    exit 1
}

pp_skip() {
    echo "$PP_NAME: SKIP: $*" >&2
    exit 77
}

# pp_need_cmd CMD...: skip unless every command is installed.
pp_need_cmd() {
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || pp_skip "$c not installed (tools/deps.sh)"
    done
}

# pp_need_build: fail unless plugpull and the shim were built.
pp_need_build() {
    [ -x "$PP_BIN" ] || pp_fail "$PP_BIN missing (run make)"
    [ -f "$PP_SHIM" ] || pp_fail "$PP_SHIM missing (run make)"
}

# pp_fixture DIR [ARGS...]: build a fixture with plugpull fixture; its JSON
# description goes to DIR.json.
pp_fixture() {
    d=$1
    shift
    "$PP_BIN" fixture --out "$d" "$@" >"$d.json" ||
        pp_fail "plugpull fixture --out $d $* failed"
}

# pp_serve DIR [ARGS...]: serve DIR with plugpull serve on a free port in
# the background; sets PP_PORT and PP_URL (http://127.0.0.1:PORT).
pp_serve() {
    d=$1
    shift
    pf=$PP_TMP/serve.$$.$(date +%s%N).port
    "$PP_BIN" serve "$d" --port 0 --port-file "$pf" "$@" 2>>"$PP_TMP/serve.log" &
    pid=$!
    PP_PIDS="$PP_PIDS $pid"
    i=0
    while [ ! -s "$pf" ]; do
        kill -0 "$pid" 2>/dev/null ||
            pp_fail "plugpull serve $d exited: $(cat "$PP_TMP/serve.log")"
        i=$((i + 1))
        [ "$i" -lt 100 ] || pp_fail "plugpull serve $d: no port file after 10 s"
        sleep 0.1
    done
    PP_PORT=$(cat "$pf")
    PP_URL=http://127.0.0.1:$PP_PORT
}

# pp_shim_run TRACE|'' MODE CMD...: run CMD with the shim last in
# LD_PRELOAD; MODE is passthrough or trace (then TRACE is written).
pp_shim_run() {
    t=$1
    m=$2
    shift 2
    cfg="mode=$m"
    [ -n "$t" ] && cfg="$cfg;trace=$t"
    CFAULTINJECT=$cfg LD_PRELOAD=${LD_PRELOAD:+$LD_PRELOAD:}$PP_SHIM "$@"
}

# pp_json_get FILE JQ_FILTER: one value out of a JSON file.
pp_json_get() {
    jq -r "$2" "$1"
}

# pp_need_image DIR: plugpull image build --out DIR (reused when up to date);
# skip when a package it needs is missing (exit 2 names it), fail on any
# other error, and when it leaves no disk.img or manifest.json.
pp_need_image() {
    _rc=0
    "$PP_BIN" image build --out "$1" >"$PP_TMP/image-build.out" 2>"$PP_TMP/image-build.err" || _rc=$?
    case $_rc in
    0) ;;
    2) pp_skip "image build: $(grep -m1 'missing' "$PP_TMP/image-build.err" || tail -1 "$PP_TMP/image-build.err")" ;;
    *)
        cat "$PP_TMP/image-build.err" >&2
        pp_fail "plugpull image build exited $_rc"
        ;;
    esac
    [ -f "$1/disk.img" ] && [ -f "$1/manifest.json" ] ||
        pp_fail "image build left no disk.img or manifest.json in $1"
}

# pp_debian_firmware SIZE DIR: build (or reuse, it is cached) a
# Debian-built firmware of SIZE (small, vm, full) into DIR with
# images/build-debian-firmware.sh; skip when the Debian archive cannot be
# reached, fail on anything else.
pp_debian_firmware() {
    if ! sh "$(dirname "$0")/../../images/build-debian-firmware.sh" --size "$1" \
        "$2" >"$PP_TMP/fwbuild" 2>&1; then
        if grep -qiE 'could not resolve|temporary failure|unable to connect|network is unreachable|failed to fetch' "$PP_TMP/fwbuild"; then
            pp_skip "the Debian archive is unreachable: the $1 firmware cannot be built"
        fi
        tail -5 "$PP_TMP/fwbuild"
        pp_fail "images/build-debian-firmware.sh --size $1 failed"
    fi
}

# pp_small_firmware DIR: the small firmware (pp_debian_firmware small DIR).
pp_small_firmware() {
    pp_debian_firmware small "$1"
}
