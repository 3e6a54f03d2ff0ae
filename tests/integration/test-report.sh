#!/bin/sh
# SPDX-License-Identifier: MIT
# plugpull report: the HTML report of a sim run.
#
# Two small campaigns (40 sampled crash points each): the fsync-disabled
# self-check, which fails, and the default upgrade, which passes.  For
# each, `plugpull report DIR` must write DIR/report.html atomically (no
# temporary left), as one self-contained page (no URL, no script, no
# external file), with the verdict, the plots as inline SVG, every failing
# case id with its replay command, and the per-phase table.  Then headless
# Chromium must render it to a PNG that is not blank (that part only is
# skipped, said on stderr, when chromium is not installed).
# The VM tier, from the fixture tests/data/vm-result (no QEMU): a page
# against the seconds into the update, with the calibration's phase bands,
# and the failing cycle's boots, serial-log tail, kept disk and replay
# command; its serial log found by a relative path, an absolute one, or
# (directory moved) under DIR; "serial log not found" when it is gone; a
# run without calibration ("unknown" phases, no bands) renders too.
# Failing twins: a directory without summary.json, one with a broken
# points.json, a VM one whose points.json is not an object and one whose
# cycle has no time_s give exit 2 and say why; no report.html is left.
. "$(dirname "$0")/lib.sh"
pp_init "$@"
pp_need_build
pp_need_cmd python3

# --- two campaigns -------------------------------------------------------
bad=$PP_TMP/bad
good=$PP_TMP/good
"$PP_BIN" sim --known "$PP_KNOWN" --scenario "$(dirname "$0")/../../scenarios/fsync-disabled.conf" \
    --points sample:40 --out "$bad" >"$PP_TMP/bad.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { tail -5 "$PP_TMP/bad.log"; pp_fail "fsync-disabled sim exited $rc, want 1"; }
"$PP_BIN" sim --known "$PP_KNOWN" --points sample:40 --out "$good" >"$PP_TMP/good.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || { tail -5 "$PP_TMP/good.log"; pp_fail "default sim exited $rc, want 0"; }

# --- the reports ---------------------------------------------------------
for d in "$bad" "$good"; do
    "$PP_BIN" report "$d" >"$PP_TMP/report.log" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || { cat "$PP_TMP/report.log"; pp_fail "report $d exited $rc, want 0"; }
    [ -s "$d/report.html" ] || pp_fail "$d/report.html missing"
    left=$(find "$d" -maxdepth 1 -name '.tmp-*')
    [ -z "$left" ] || pp_fail "temporary files left in $d: $left"
done

python3 - "$bad" "$good" <<'PY' || pp_fail "report content"
import json, os, re, sys

def check(d, want_failures):
    page = open(os.path.join(d, "report.html"), encoding="utf-8").read()
    s = json.load(open(os.path.join(d, "summary.json")))
    points = json.load(open(os.path.join(d, "points.json")))["cases"]
    # Self-contained: no URL, no script, nothing loaded from elsewhere.
    # A known finding's tracker link is shown as text, never followed.
    text = page
    for f in s.get("known_findings", []):
        assert f["link"] in page, "the known finding's link is not shown"
        text = text.replace(f["link"], "")
    assert not re.search(r"https?://", text), "a URL in the page"
    for bad in ("<script", "<link", "<img", "<iframe", " src=", "url("):
        assert bad not in page, "external reference: " + bad
    failing = [c for c in points if c["outcome"] != "pass" and not c.get("known")]
    assert (len(failing) > 0) == want_failures, (d, len(failing))
    if want_failures:
        banner = "%d failure(s) in %d crash points" % (s["failed"], s["cases"])
    else:
        banner = "PASS: %d crash points, 0 failures" % s["cases"]
    assert banner in page, "verdict missing: " + banner
    for text in (s["scenario"]["name"], s["model"], s["client"]["version"],
                 "Outcome against crash point", "Resume cost against crash point",
                 "By phase", "commit #%d" % s["trace"]["commit_point"]):
        assert text in page, "missing: " + text
    svgs = page.count("<svg ")
    assert svgs >= 3, "%d plots, want 3 (outcome, bytes, objects)" % svgs
    # Every judged point has its tick (with a tooltip naming it).
    for c in points:
        assert "<title>%s k=%d" % (c["id"], c["k"]) in page, "no tick for " + c["id"]
    # Every failing case: its id, its evidence and its replay command.
    for c in failing:
        assert "<b>%s</b>" % c["id"] in page, "failing case missing: " + c["id"]
        case = json.load(open(os.path.join(d, "cases", c["id"] + ".json")))
        cmd = "cd %s &amp;&amp; %s" % (os.path.abspath(d), case["command"])
        assert cmd in page, "replay command missing: " + cmd
        assert case["state"]["name"] in page, "crash state missing: " + c["id"]
    return len(failing), svgs

nb, sb = check(sys.argv[1], True)
ng, sg = check(sys.argv[2], False)
print("report content: %d failing cases listed with replay commands, %d and %d plots"
      % (nb, sb, sg))
PY

# --- failing twins: not a result directory --------------------------------
mkdir "$PP_TMP/empty"
"$PP_BIN" report "$PP_TMP/empty" >"$PP_TMP/twin.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "report of a directory without summary.json exited $rc, want 2"
grep -q "no summary.json" "$PP_TMP/twin.log" || pp_fail "no diagnostic: $(cat "$PP_TMP/twin.log")"
[ ! -e "$PP_TMP/empty/report.html" ] || pp_fail "a report was written for an empty directory"

mkdir "$PP_TMP/broken"
cp "$good/summary.json" "$PP_TMP/broken/"
echo '{"cases": [' >"$PP_TMP/broken/points.json"
"$PP_BIN" report "$PP_TMP/broken" >"$PP_TMP/twin2.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "report with a broken points.json exited $rc, want 2"
grep -q "points.json" "$PP_TMP/twin2.log" || pp_fail "no diagnostic: $(cat "$PP_TMP/twin2.log")"
[ ! -e "$PP_TMP/broken/report.html" ] || pp_fail "a report was written from a broken points.json"
pp_log "reports written and checked; twins exit 2"

# --- the VM tier, from its fixture ----------------------------------------
fixture=$(cd "$(dirname "$0")/../data/vm-result" && pwd)
vm=$PP_TMP/vm
cp -r "$fixture" "$vm"
vm_report() {   # vm_report DIR: plugpull report DIR must exit 0
    "$PP_BIN" report "$1" >"$PP_TMP/vm-report.log" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || { cat "$PP_TMP/vm-report.log"; pp_fail "report $1 exited $rc, want 0"; }
    [ -s "$1/report.html" ] || pp_fail "$1/report.html missing"
}
vm_report "$vm"
left=$(find "$vm" -maxdepth 1 -name '.tmp-*')
[ -z "$left" ] || pp_fail "temporary files left in $vm: $left"

# The same cycle's serial log named by an absolute path; by the absolute
# path of a directory since moved; gone.  A kept disk that exists.  A run
# without calibration whose cuts' phase is unknown.
for v in abs moved gone nocal; do
    cp -r "$fixture" "$PP_TMP/vm-$v"
done
python3 - "$PP_TMP" <<'PY' || pp_fail "VM fixture variants"
import json, os, sys
tmp = sys.argv[1]

def edit(d, name, fn):
    path = os.path.join(tmp, d, name)
    doc = json.load(open(path))
    fn(doc)
    json.dump(doc, open(path, "w"), indent=1)

def serial(path):
    def fn(case):
        for b in case["boots"]:
            if "failure" in b:
                b["serial_log"] = path
    return fn

case = "cases/vm-c0002-s1.json"
edit("vm-abs", case, serial(os.path.join(tmp, "vm-abs", "cases", "vm-c0002-s1",
                                         "B-after-cut.serial")))
edit("vm-moved", case, serial("/nonexistent/vm1/cases/vm-c0002-s1/B-after-cut.serial"))
os.mkdir(os.path.join(tmp, "vm-moved", "work"))
open(os.path.join(tmp, "vm-moved", "work", "vm-c0002-s1.img"), "w").close()
os.unlink(os.path.join(tmp, "vm-gone", "cases", "vm-c0002-s1", "B-after-cut.serial"))

def no_calibration(points):
    points.pop("phase_start_s")
    points["window_s"], points["trace_records"], points["commit_point"] = 0.0, 0, -1
    for c in points["cases"]:
        c["phase"], c["phase_estimated"] = "unknown", False
edit("vm-nocal", "points.json", no_calibration)
edit("vm-nocal", "summary.json", lambda s: (s.pop("calibration"), s.update(window_s=0)))
PY
for v in abs moved gone nocal; do
    vm_report "$PP_TMP/vm-$v"
done

python3 - "$vm" "$PP_TMP" <<'PY' || pp_fail "VM report content"
import json, os, re, sys
d, tmp = sys.argv[1], sys.argv[2]

def read(d):
    return open(os.path.join(d, "report.html"), encoding="utf-8").read()

page = read(d)
s = json.load(open(os.path.join(d, "summary.json")))
points = json.load(open(os.path.join(d, "points.json")))["cases"]
assert not re.search(r"https?://", page), "a URL in the page"
for bad in ("<script", "<link", "<img", "<iframe", " src=", "url("):
    assert bad not in page, "external reference: " + bad
banner = "%d failure(s) in %d power-cut cycles" % (s["failed"], s["cycles"])
assert banner in page, "verdict missing: " + banner
# The run: tier, bootloader, cut, seed, cycles, speed, window.
for text in ("vm: QEMU", s["bootloader"], s["cut"], "cycles per hour",
             "%.1f" % s["cycles_per_hour"], "mean boot-to-verdict",
             "%.1f s" % s["mean_boot_to_verdict_s"], "%.2f s" % s["window_s"]):
    assert text in page, "run info missing: " + text
# The x axis in seconds, the phase bands of the calibration, the caption.
assert "seconds into the update" in page, "no seconds axis"
assert "crash point k" not in page, "a sim axis on a VM page"
for phase in ("pull", "deploy", "bootloader", "cleanup"):
    assert re.search(r'<rect [^>]*><title>%s: [0-9.]+\.\.[0-9.]+ s</title>' % phase,
                     page), "no band for " + phase
    assert '>%s</text>' % phase in page, "no band label " + phase
assert "Phase estimated from the calibration" in page, "estimated phases not said"
assert "after-update" in page, "the after-update cycle is missing from the table"
assert ">hang</span>" in page, "the outcome hang is not listed"
for c in points:
    assert "<title>%s t=%.3f s %s" % (c["id"], c["time_s"], c["outcome"]) in page, \
        "no tick for " + c["id"]
# The failing cycle: its failed boot, the tail of that boot's serial log
# (the first lines of a 45-line log left out, terminal control resolved),
# the evidence, the disk and the replay command.
failing = [c for c in points if c["outcome"] != "pass"]
assert len(failing) == 1 and failing[0]["id"] == "vm-c0002-s1", failing
case = json.load(open(os.path.join(d, "cases", "vm-c0002-s1.json")))
for text in ("<b>vm-c0002-s1</b>", "Boot B-after-cut failed",
             "The last 40 lines of the serial console",
             "PLUGPULL-UBOOT error: /boot/ostree/", "Config file not found",
             "Hit any key to stop autoboot:  0", "=&gt; </pre>",
             "14 metadata, 17 content objects fetched",
             "plugpull inspect %s" % case["disk"], "(not found here)",
             "cd %s &amp;&amp; plugpull replay cases/vm-c0002-s1.json" % d):
    assert text in page, "failing cycle: missing " + repr(text)
assert "U-Boot 2023.01" not in page, "more than the tail of the serial log"
for ctl in ("\x1b", "\x08", "\r", "[1m"):
    assert ctl not in page, "terminal control left in the page: %r" % ctl

# The variants.
p = read(os.path.join(tmp, "vm-abs"))
assert "Config file not found" in p and "read from the copy" not in p, "absolute serial_log"
p = read(os.path.join(tmp, "vm-moved"))
assert "Config file not found" in p, "moved directory: serial log not found under DIR"
assert "the case file names <code>/nonexistent/vm1/" in p, "moved directory: not said"
assert "(not found here)" not in p, "moved directory: disk under DIR/work not found"
p = read(os.path.join(tmp, "vm-gone"))
assert "serial log not found" in p and "Config file not found" not in p, "gone serial log"
p = read(os.path.join(tmp, "vm-nocal"))
assert "No calibration run, so no phase bands" in p and "<td>unknown</td>" in p, "no calibration"
assert not re.search(r"<title>(pull|deploy|bootloader|cleanup): ", p), "bands without calibration"
print("VM report: seconds axis, 4 phase bands, %d ticks, the failing cycle's "
      "serial tail, disk and replay; relative, absolute, moved, gone, no "
      "calibration" % len(points))
PY

# --- failing twins of the VM page -------------------------------------------
mkdir "$PP_TMP/vm-list"
cp "$fixture/summary.json" "$PP_TMP/vm-list/"
python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["cases"]))' \
    "$fixture/points.json" >"$PP_TMP/vm-list/points.json"
"$PP_BIN" report "$PP_TMP/vm-list" >"$PP_TMP/twin3.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "report with a points.json that is an array exited $rc, want 2"
grep -q "points.json: an array, not an object" "$PP_TMP/twin3.log" ||
    pp_fail "no diagnostic: $(cat "$PP_TMP/twin3.log")"
[ ! -e "$PP_TMP/vm-list/report.html" ] || pp_fail "a report was written from an array"

cp -r "$fixture" "$PP_TMP/vm-notime"
python3 -c 'import json, sys; p = json.load(open(sys.argv[1])); del p["cases"][2]["time_s"]; print(json.dumps(p))' \
    "$fixture/points.json" >"$PP_TMP/vm-notime/points.json"
"$PP_BIN" report "$PP_TMP/vm-notime" >"$PP_TMP/twin4.log" 2>&1
rc=$?
[ "$rc" -eq 2 ] || pp_fail "report with a VM cycle without time_s exited $rc, want 2"
grep -q "case 2 (vm-c0002-s1) has no numeric 'time_s' (tier vm)" "$PP_TMP/twin4.log" ||
    pp_fail "no diagnostic: $(cat "$PP_TMP/twin4.log")"
[ ! -e "$PP_TMP/vm-notime/report.html" ] || pp_fail "a report was written without time_s"
pp_log "VM report from the fixture checked; its twins exit 2"

# --- the screenshot --------------------------------------------------------
chromium=${PP_CHROMIUM:-/usr/bin/chromium}
# Only this part needs chromium (tools/deps.sh test): without it the part
# is skipped, said on stderr, and the checks above still decide the test.
if [ ! -x "$chromium" ]; then
    echo "$PP_NAME: SKIP: the screenshot: $chromium not installed (tools/deps.sh test): reports checked, not rendered" >&2
    exit 0
fi
# shoot PAGE PNG: a 1280x2000 screenshot, no network, a fresh profile.
shoot() {
    profile=$(mktemp -d "$PP_TMP/chromium.XXXXXX")
    timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --user-data-dir="$profile" --screenshot="$2" \
        --window-size=1280,2000 "file://$1" >"$PP_TMP/chromium.log" 2>&1
    [ -s "$2" ] || { tail -5 "$PP_TMP/chromium.log"; pp_fail "chromium wrote no screenshot of $1"; }
}
for d in "$bad" "$good" "$vm"; do
    shoot "$d/report.html" "$d/report.png"
done

# The PNG checker (stdlib only): decode, then want the size asked for,
# many colours, and the banner's colour (red for failures, green for a
# pass) really drawn.
cat >"$PP_TMP/pngcheck.py" <<'PY'
import struct, sys, zlib

def decode(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path + ": not a PNG"
    pos, idat = 8, []
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype)
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    lo, hi = int.from_bytes(b"\x7f" * stride, "big"), int.from_bytes(b"\x80" * stride, "big")
    prev, rows = bytes(stride), []
    for y in range(h):
        f, line = raw[y * (stride + 1)], raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        if f == 0:
            cur = line
        elif f == 2:    # Up: byte-wise add without carries, on one big int
            a, b = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
            cur = (((a & lo) + (b & lo)) ^ ((a ^ b) & hi)).to_bytes(stride, "big")
        else:
            out = bytearray(line)
            for i in range(stride):
                left = out[i - bpp] if i >= bpp else 0
                up = prev[i]
                if f == 1:
                    p = left
                elif f == 3:
                    p = (left + up) >> 1
                else:       # Paeth
                    ul = prev[i - bpp] if i >= bpp else 0
                    pa, pb, pc = abs(up - ul), abs(left - ul), abs(left + up - 2 * ul)
                    p = left if pa <= pb and pa <= pc else (up if pb <= pc else ul)
                out[i] = (out[i] + p) & 0xFF
            cur = bytes(out)
        rows.append(cur)
        prev = cur
    return w, h, bpp, rows

# Arguments: PNG COLOUR[,COLOUR...] pairs; the first colour is the
# banner's, the others must be drawn too (the VM page's phase bands).
for path, want_colours in zip(sys.argv[1::2], sys.argv[2::2]):
    banner, *others = want_colours.split(",")
    w, h, bpp, rows = decode(path)
    assert (w, h) == (1280, 2000), (path, w, h)
    colours = set()
    for row in rows[::4]:
        for x in range(0, len(row), bpp * 2):
            colours.add(row[x:x + 3])
    assert len(colours) > 50, "%s: only %d colours: blank?" % (path, len(colours))
    for c in [banner] + others:
        assert bytes.fromhex(c[1:]) in colours, "%s: colour %s not drawn" % (path, c)
    print("%s: %dx%d, %d colours, %s drawn" % (path, w, h, len(colours),
                                              " ".join([banner] + others)))
PY
# The VM page: the red banner, and the bands of pull, deploy and cleanup
# (pagekit.PHASE_COLOURS; bootloader's is a pixel or two wide).
python3 "$PP_TMP/pngcheck.py" "$bad/report.png" "#b71c1c" "$good/report.png" "#2e7d32" \
    "$vm/report.png" "#b71c1c,#e3f2fd,#e8f5e9,#f3e5f5" ||
    pp_fail "screenshot"

# Its failing twin: a blank page must not pass for a rendered report.
echo '<!DOCTYPE html><html><body></body></html>' >"$PP_TMP/blank.html"
shoot "$PP_TMP/blank.html" "$PP_TMP/blank.png"
if python3 "$PP_TMP/pngcheck.py" "$PP_TMP/blank.png" "#2e7d32" >"$PP_TMP/blank.log" 2>&1; then
    pp_fail "the screenshot check passed a blank page"
fi
grep -q "colours: blank" "$PP_TMP/blank.log" ||
    pp_fail "blank page: no diagnostic: $(tail -2 "$PP_TMP/blank.log")"
pp_log "report pages render in headless chromium"
