#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian package end to end: build it out of tree (a copy of the
# source without build/ and .git) with dpkg-buildpackage -b -us -uc, check
# its contents and relations, install it on this machine with dpkg -i, run
# the installed /usr/bin/plugpull from elsewhere (--help, scenario check
# of /usr/share/plugpull/scenarios, a short sim), then purge it: a trap
# purges it whatever happens, so the host is left as found.
#
# Skips (77) when dpkg-buildpackage or debhelper is missing or the build
# dependencies are not installed (tools/deps.sh installs them: a test does
# not), when not root (dpkg -i), and when a plugpull package is already
# installed (installing over it would not leave the host as found).
. "$(dirname "$0")/lib.sh"
pp_init "$@"

src=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$src/debian/control" ] || pp_fail "$src/debian/control missing"
pp_need_cmd dpkg-buildpackage dh dpkg-checkbuilddeps dpkg-deb
[ "$(id -u)" = 0 ] || pp_skip "not root: dpkg -i needs root"
status=$(dpkg-query -W -f='${Status}' plugpull 2>/dev/null || true)
case "$status" in
"" | "unknown ok not-installed" | "deinstall ok not-installed" | "purge ok not-installed") ;;
*) pp_skip "a plugpull package is already on this machine ($status): not touching it" ;;
esac
( cd "$src" && dpkg-checkbuilddeps ) >"$PP_TMP/builddeps.log" 2>&1 ||
    pp_skip "$(cat "$PP_TMP/builddeps.log") (tools/deps.sh installs them)"

# --- build, out of tree ------------------------------------------------------
copy=$PP_TMP/src/plugpull
mkdir -p "$copy"
tar -C "$src" --exclude=./build --exclude=./.git -cf - . | tar -C "$copy" -xf - ||
    pp_fail "copying the source to $copy"
t0=$(date +%s)
( cd "$copy" && dpkg-buildpackage -b -us -uc ) >"$PP_TMP/build.log" 2>&1 ||
    { tail -30 "$PP_TMP/build.log"; pp_fail "dpkg-buildpackage -b -us -uc"; }
build_s=$(($(date +%s) - t0))
deb=$(ls "$PP_TMP"/src/plugpull_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || pp_fail "no plugpull_*.deb in $PP_TMP/src"
pp_log "built $(basename "$deb") in $build_s s"

dpkg-deb -c "$deb" >"$PP_TMP/contents" || pp_fail "dpkg-deb -c"
for f in ./usr/bin/plugpull ./usr/lib/plugpull/libcfaultinject.so \
    ./usr/share/plugpull/reports/report.py ./usr/share/plugpull/images/build-image.sh \
    ./usr/share/plugpull/scenarios/known-findings.conf \
    ./usr/share/man/man1/plugpull.1.gz ./usr/share/bash-completion/completions/plugpull \
    ./usr/share/doc/plugpull/copyright; do
    grep -q " $f\$" "$PP_TMP/contents" || pp_fail "$f not in the package"
done
depends=$(dpkg-deb -f "$deb" Depends)
recommends=$(dpkg-deb -f "$deb" Recommends)
for d in libc6 libglib2.0-0 libostree-1-1 ostree python3; do
    case ", $depends," in *", $d"[\ ,]*) ;; *) pp_fail "Depends lacks $d: $depends" ;; esac
done
for r in qemu-system-x86 u-boot-qemu e2fsprogs busybox-static; do
    case ", $recommends," in *", $r,"*) ;; *) pp_fail "Recommends lacks $r: $recommends" ;; esac
done
pp_log "Depends: $depends"

# --- install on this machine, always purged --------------------------------
installed=""
purge() {
    if [ -n "$installed" ]; then
        dpkg -P plugpull >"$PP_TMP/purge.log" 2>&1 ||
            { cat "$PP_TMP/purge.log" >&2; echo "$PP_NAME: dpkg -P plugpull failed" >&2; }
        installed=""
    fi
    pp_cleanup
}
trap purge EXIT

# dpkg -i, again while another dpkg holds the lock (a shared machine).
tries=0
installed=1
until dpkg -i "$deb" >"$PP_TMP/install.log" 2>&1; do
    tries=$((tries + 1))
    if grep -q "lock" "$PP_TMP/install.log" && [ "$tries" -lt 10 ]; then
        sleep 10
        continue
    fi
    cat "$PP_TMP/install.log"
    pp_fail "dpkg -i $(basename "$deb")"
done
pp_log "installed with dpkg -i"

unset PLUGPULL_REPORTS PLUGPULL_IMAGES PLUGPULL_SCENARIOS PLUGPULL_SHIM
mkdir -p "$PP_TMP/work"
cd "$PP_TMP/work" || pp_fail "cd $PP_TMP/work"
[ "$(command -v plugpull)" = /usr/bin/plugpull ] ||
    pp_fail "plugpull in PATH is $(command -v plugpull), not /usr/bin/plugpull"

/usr/bin/plugpull --help >"$PP_TMP/help" 2>&1 || pp_fail "plugpull --help"
grep -q "^  sim " "$PP_TMP/help" || pp_fail "plugpull --help lists no sim"

/usr/bin/plugpull scenario check /usr/share/plugpull/scenarios/*.conf \
    >"$PP_TMP/check.log" 2>&1 ||
    { cat "$PP_TMP/check.log"; pp_fail "plugpull scenario check /usr/share/plugpull/scenarios/*.conf"; }
pp_log "scenario check: $(grep -c ': ok' "$PP_TMP/check.log") files ok"

t0=$(date +%s)
/usr/bin/plugpull sim --points sample:3 \
    --known /usr/share/plugpull/scenarios/known-findings.conf \
    --out "$PP_TMP/sim" >"$PP_TMP/sim.log" 2>&1 ||
    { tail -20 "$PP_TMP/sim.log"; pp_fail "/usr/bin/plugpull sim --points sample:3"; }
pp_log "sim ($(($(date +%s) - t0)) s): $(tail -1 "$PP_TMP/sim.log")"
/usr/bin/plugpull report "$PP_TMP/sim" >"$PP_TMP/report.log" 2>&1 ||
    { cat "$PP_TMP/report.log"; pp_fail "/usr/bin/plugpull report"; }

cd / || pp_fail "cd /"
dpkg -P plugpull >"$PP_TMP/purge.log" 2>&1 ||
    { cat "$PP_TMP/purge.log"; pp_fail "dpkg -P plugpull"; }
installed=""
[ ! -e /usr/bin/plugpull ] || pp_fail "/usr/bin/plugpull left after dpkg -P"
[ ! -e /usr/share/plugpull ] || pp_fail "/usr/share/plugpull left after dpkg -P"
[ ! -e /usr/lib/plugpull ] || pp_fail "/usr/lib/plugpull left after dpkg -P"
pp_log "purged: the host is as found"
