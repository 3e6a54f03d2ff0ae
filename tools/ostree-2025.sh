#!/bin/sh
# SPDX-License-Identifier: MIT
# ostree-2025.sh DIR: a second OSTree client under test, Debian 13's ostree
# 2025.2, next to the host's own (Debian 12: 2022.7), without touching the
# host's packages.
#
# 2025.2 carries the fix of ostree#3392 (swap_bootloader() freezes and thaws
# /boot right after the rename of boot/loader.tmp onto boot/loader); 2022.7
# only fsyncs boot/.  Running the same campaign on both shows the
# difference.
#
# What it does, all under DIR (e.g. build/ostree-2025):
#
#   DIR/apt/      a private apt state: its own sources list (trixie main, on
#                 the mirror the host already uses for its own release),
#                 lists, cache, an empty dpkg status and no configuration
#                 parts.  Nothing of the host's apt or dpkg state is written
#                 (/var/lib/apt, /var/cache/apt, /var/lib/dpkg); only its
#                 sources are read, for the mirror's URI, and its archive
#                 keyring, to check the trixie index's signature.
#   DIR/debs/     ostree, libostree-1-1 and every library they need, as apt
#                 resolves them from an empty system (`apt-get install -s`),
#                 keeping the packages of section libs: no maintainer
#                 scripts run, so gnupg, debconf, adduser... are not needed.
#   DIR/root/     those packages unpacked with dpkg-deb -x (a merged-/usr
#                 tree: usr/bin/ostree, usr/lib/x86_64-linux-gnu/...).
#   DIR/ostree    the wrapper: runs DIR/root/usr/bin/ostree with trixie's
#                 dynamic loader and only the private root's libraries
#                 (ld.so --library-path, not LD_LIBRARY_PATH, so that a
#                 program it runs is the host's, with the host's libraries;
#                 it inherits only GIO_MODULE_DIR and GCONV_PATH).  LD_PRELOAD passes through: the loader honours
#                 it when run as a command, so plugpull's shim, built on
#                 Debian 12's glibc, loads into the trixie process (glibc is
#                 backwards compatible).  GIO modules and gconv modules come
#                 from the private root, never from the host's directories.
#   DIR/packages.txt  the packages and versions in DIR/root.  The index and
#                 the .deb files are removed once DIR/root is checked.
#   DIR/stamp     written last: when it is there (and names this version of
#                 the recipe and DIR itself) the script does nothing.
#
# Environment: PP_DEBIAN_MIRROR overrides the archive's URI (default: the
# one the host's apt uses for its own release).
#
# Exit status: 0 ready; 2 bad usage; 3 the archive is unreachable or has no
# ostree 2025.x for trixie (tests skip on it); 1 any other failure.
# POSIX sh; needs apt-get, apt-cache, dpkg-deb.  Run as root or as a user:
# nothing outside DIR is written.
set -eu

RECIPE=2
SUITE=trixie
ARCH=amd64
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

die() {
    echo "ostree-2025: $*" >&2
    exit 1
}
unreachable() {
    echo "ostree-2025: $*" >&2
    exit 3
}

[ $# -eq 1 ] || {
    echo "usage: $0 DIR" >&2
    exit 2
}
mkdir -p "$1"
DIR=$(cd "$1" && pwd)

# The stamp names the recipe and DIR: the wrapper holds DIR's absolute
# path, so a moved DIR is prepared again.
if [ -f "$DIR/stamp" ] && [ "$(cat "$DIR/stamp")" = "recipe $RECIPE $DIR" ] &&
    [ -x "$DIR/ostree" ]; then
    echo "ostree-2025: $DIR is complete"
    exit 0
fi
rm -f "$DIR/stamp"

for c in apt-get apt-cache dpkg-deb; do
    command -v "$c" >/dev/null 2>&1 || die "$c not found"
done

# The archive: the URI the host's apt reads its own release's main from.
mirror=${PP_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
    # shellcheck disable=SC1091
    host_suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    # shellcheck disable=SC2016 # apt's format, not the shell's
    mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT) $(IDENTIFIER)' 2>/dev/null |
        awk -v s="$host_suite" '$2 == s && $3 == "main" && $4 == "Packages" { print $1; exit }')
fi
[ -n "$mirror" ] || unreachable "no Debian archive in the host's apt sources (set PP_DEBIAN_MIRROR)"

# --- private apt state -----------------------------------------------------
A=$DIR/apt
mkdir -p "$A/state/lists/partial" "$A/cache/archives/partial" \
    "$A/etc/apt.conf.d" "$A/etc/sources.list.d" "$A/etc/preferences.d"
: >"$A/state/status"
echo "deb [signed-by=$KEYRING] $mirror $SUITE main" >"$A/etc/sources.list"
set -- \
    -o "Dir::State=$A/state" \
    -o "Dir::State::status=$A/state/status" \
    -o "Dir::Cache=$A/cache" \
    -o "Dir::Etc::SourceList=$A/etc/sources.list" \
    -o "Dir::Etc::SourceParts=$A/etc/sources.list.d" \
    -o "Dir::Etc::Parts=$A/etc/apt.conf.d" \
    -o "Dir::Etc::Preferences=$A/etc/preferences" \
    -o "Dir::Etc::PreferencesParts=$A/etc/preferences.d" \
    -o "APT::Architecture=$ARCH" \
    -o "APT::Architectures::=$ARCH" \
    -o "APT::Sandbox::User=root" \
    -o "Acquire::Languages=none"

t0=$(date +%s)
apt-get "$@" -q update >"$A/update.log" 2>&1 ||
    unreachable "apt-get update of $SUITE failed: $(tail -3 "$A/update.log")"
grep -q '^[WE]: ' "$A/update.log" &&
    unreachable "apt-get update of $SUITE: $(grep '^[WE]: ' "$A/update.log" | head -2)"
cand=$(apt-cache "$@" policy ostree | awk '/Candidate:/ { print $2 }')
case $cand in
2025.*) ;;
*) unreachable "$SUITE offers ostree '${cand:-none}', not 2025.x" ;;
esac

# --- the packages: ostree, libostree-1-1 and their libraries ----------------
all=$(apt-get "$@" -q install -s --no-install-recommends ostree libostree-1-1 |
    awk '/^Inst / { print $2 }')
[ -n "$all" ] || die "apt cannot resolve ostree libostree-1-1 on $SUITE"
# shellcheck disable=SC2086
pkgs=$(apt-cache "$@" show --no-all-versions $all |
    awk '/^Package:/ { p = $2 } /^Section:/ && ($2 == "libs" || p == "ostree") { print p }')

rm -rf "$DIR/debs.new"
mkdir -p "$DIR/debs.new"
# shellcheck disable=SC2086
(cd "$DIR/debs.new" && apt-get "$@" -q download $pkgs) >"$A/download.log" 2>&1 ||
    unreachable "apt-get download failed: $(tail -3 "$A/download.log")"
rm -rf "$DIR/debs"
mv "$DIR/debs.new" "$DIR/debs"
t1=$(date +%s)

rm -rf "$DIR/root"
mkdir -p "$DIR/root"
for f in "$DIR"/debs/*.deb; do
    dpkg-deb -x "$f" "$DIR/root"
done
t2=$(date +%s)

R=$DIR/root
L=$R/usr/lib/x86_64-linux-gnu
LDSO=$L/ld-linux-x86-64.so.2
if [ ! -x "$R/usr/bin/ostree" ] || [ ! -x "$LDSO" ]; then
    die "no usr/bin/ostree or loader in $R"
fi
mkdir -p "$L/gio/modules"

# Every library must come from the private root.
"$LDSO" --library-path "$L" --list "$R/usr/bin/ostree" >"$A/ldd.txt" 2>&1 ||
    die "the loader cannot list ostree's libraries: $(tail -3 "$A/ldd.txt")"
stray=$(awk '$2 == "=>" && index($3, "/") == 1 && index($3, R "/") != 1 { print $1 " => " $3 }
             $2 == "=>" && $3 == "not" { print $1 " not found" }' R="$R" "$A/ldd.txt")
[ -z "$stray" ] || die "libraries not from $R: $stray"

# --- the wrapper --------------------------------------------------------------
cat >"$DIR/ostree.new" <<EOF
#!/bin/sh
# Debian 13's ostree ($cand), run from $R with its own
# loader and libraries; written by tools/ostree-2025.sh.
R='$R'
L="\$R/usr/lib/x86_64-linux-gnu"
GIO_MODULE_DIR="\$L/gio/modules"
GCONV_PATH="\$L/gconv"
export GIO_MODULE_DIR GCONV_PATH
exec "\$L/ld-linux-x86-64.so.2" --library-path "\$L" "\$R/usr/bin/ostree" "\$@"
EOF
chmod 755 "$DIR/ostree.new"
mv "$DIR/ostree.new" "$DIR/ostree"

v=$("$DIR/ostree" --version 2>&1) || die "$DIR/ostree --version failed: $v"
echo "$v" | grep -q "Version: '2025\." || die "$DIR/ostree --version: $v"

# What the root holds, then drop what only served to build it (the index
# and the .deb files: about 40 MiB).
for f in "$DIR"/debs/*.deb; do
    # shellcheck disable=SC2016 # dpkg's format, not the shell's
    dpkg-deb -W --showformat='${Package} ${Version}\n' "$f"
done >"$DIR/packages.txt"
bytes=$(du -cb "$DIR"/debs/*.deb | tail -1 | cut -f1)
rm -rf "$DIR/debs" "$A/state/lists" "$A/cache"
echo "ostree-2025: ostree $cand from $SUITE in $DIR/ostree:" \
    "$(echo "$pkgs" | wc -w) packages, $((bytes / 1024)) KiB downloaded" \
    "(index and packages in $((t1 - t0)) s), root $(du -sk "$R" | cut -f1) KiB unpacked in $((t2 - t1)) s"
echo "recipe $RECIPE $DIR" >"$DIR/stamp"
