#!/bin/sh
# Report end to end on vtest frames: a faded stream (desaturated, tinted,
# lifted), a partial correction as the baseline, a near-inverse as the "ML"
# result, a tiny Train for a real run directory and model. The page must be
# one self-contained file (every image a data: URI that decodes), hold its
# sections, give the same numbers as `reel compare`, mark ML best, be skipped
# when unchanged, and run its script in headless Chromium (skipped, saying
# why, only when Chromium cannot be installed).
. tests/graph/lib.sh
T=$(mktemp -d /tmp/reel-report.XXXXXX)
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3

cat > "$T/g.lua" <<LUA
local reel = require "reel"
local src = reel.Read { "data/vtest/vtest.####.png", range = {1, 40} }
-- the middle 384x288 of the frames: a quarter of the pixels keeps the test quick
local truth = reel.Crop { reel.Shuffle { src, out = "R=a.R,G=a.G,B=a.B" }, box = {192, 144, 576, 432},
                          reformat = true }
local faded = reel.Grade { reel.Saturation { truth, saturation = 0.45 }, name = "faded",
  multiply = {1.02, 0.93, 0.78}, offset = {0.04, 0.03, 0.0} }
local baseline = reel.Grade { faded, name = "baseline", multiply = {0.98, 1.04, 1.2},
  offset = {-0.03, -0.02, 0.0} }
local ml = reel.Grade { reel.Saturation { reel.Grade { faded, multiply = {1/1.02, 1/0.93, 1/0.78},
  offset = {-0.04/1.02, -0.03/0.93, 0.0} }, saturation = 1.9 }, name = "ml" }
local model = reel.Train { input = faded, target = truth, frames = {1, 10, 20}, steps = 20,
  batch = 2, patch = 64, size = "small", lr = 3e-3, seed = 5, contact_every = 5,
  run_dir = "$T/run" }
local function held(img, name)
  return reel.Write { reel.FrameRange { img, range = {30, 31} }, path = "$T/px/" .. name .. ".####.exr",
                      pixeltype = "float", compression = "none" }
end
return {
  qc = reel.Report { source = faded, ml = ml, baseline = baseline, reference = truth,
    model = model, dataset = reel.FrameHold { faded, frames = {1, 10, 20} }, frames = {30, 31},
    path = "$T/out/report.html", title = "vtest fade QC", name = "qc", thumb = 320 },
  held(faded, "source"), held(baseline, "baseline"), held(ml, "ml"), held(truth, "reference"),
}
LUA

reel render "$T/g.lua" --cache "$T/c" > "$T/r1.out" 2> "$T/r1.err"
rc=$?
check "the graph with a Report renders" [ $rc = 0 ]
[ $rc = 0 ] || tail -5 "$T/r1.err" >&2
check "the page is written, in a directory made for it" [ -s "$T/out/report.html" ]
check "Report says where it wrote the page" grep -q "Report 'qc'.*wrote $T/out/report.html" "$T/r1.err"
check "no thumbnail scratch file is left beside it" [ "$(ls "$T/out")" = report.html ]
ls -l "$T/out/report.html" | awk '{printf "page: %.2f MB\n", $5 / 1048576}' >&2

reel render "$T/g.lua" --cache "$T/c" --stats-json "$T/r2.json" > /dev/null 2> "$T/r2.err"
check "an unchanged page is skipped (nothing computed)" [ "$(stat_of "$T/r2.json" computed)" = 0 ]
check "... and not rewritten" sh -c "! grep -q wrote '$T/r2.err'"

# reel report renders the Report only; -o picks one by name
cp "$T/out/report.html" "$T/first.html"
rm "$T/out/report.html" "$T/px/ml.0030.exr"
reel report "$T/g.lua" --cache "$T/c" -o qc > /dev/null 2> "$T/r3.err"
check "reel report -o qc rewrites the page" [ -s "$T/out/report.html" ]
check "reel report renders no Write" [ ! -f "$T/px/ml.0030.exr" ]
reel report "$T/g.lua" --cache "$T/c" -o nope > /dev/null 2> "$T/r4.err"
rc=$?
check "reel report -o with an unknown name: exit 2, saying so" \
  sh -c "[ $rc = 2 ] && grep -q 'no Report node is named nope' '$T/r4.err'"
reel render "$T/g.lua" --cache "$T/c" > /dev/null 2>&1
check "the Writes' files are all there for reel compare" [ "$(ls "$T/px" | wc -l)" = 8 ]

# reel compare on the written frames: the numbers the table must show
for f in 0030 0031; do
  for w in source baseline ml; do
    reel compare --json "$T/px/$w.$f.exr" "$T/px/reference.$f.exr" > "$T/cmp-$w-$f.json" 2>&1
  done
done

check "the page: self-contained, sections, images, metrics equal reel compare, ML best" \
  $PY - "$T" <<'PY'
import base64, html.parser, io, json, re, sys
from PIL import Image
T = sys.argv[1]
page = open(T + "/out/report.html", encoding="utf-8").read()
bad = []
def need(ok, what):
    if not ok:
        bad.append(what)

class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.imgs, self.links, self.svgs, self.rows = set(), [], [], [], []
        self.gnodes, self.tag_stack, self.scripts, self.wipes = [], [], 0, []
        self.row = None
        self.cell = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a: self.ids.add(a["id"])
        if tag == "img": self.imgs.append(a)
        if tag in ("link", "iframe", "object", "embed"): self.links.append(tag)
        if tag == "script":
            self.scripts += 1
            if "src" in a: self.links.append("script src")
        if "href" in a and not a["href"].startswith("#"): self.links.append(a["href"])
        if tag == "svg": self.svgs.append(a.get("class", ""))
        if tag == "g" and a.get("class") == "gnode": self.gnodes.append(a.get("data-type"))
        if tag == "div" and a.get("class") == "wipe": self.wipes.append(a)
        if tag == "tr" and "data-image" in a:
            self.row = {"frame": a["data-frame"], "image": a["data-image"], "cells": {}}
            self.rows.append(self.row)
        if tag == "td" and self.row is not None and "data-metric" in a:
            self.cell = [a["data-metric"], float(a["data-value"]), "best" in a.get("class", ""), ""]
            self.row["cells"][a["data-metric"]] = self.cell
    def handle_endtag(self, tag):
        if tag == "td": self.cell = None
    def handle_data(self, d):
        if self.cell is not None: self.cell[3] += d

p = P()
p.feed(page)
p.close()
for s in ("provenance", "graph", "dataset", "training", "frames", "metrics", "frame-30", "frame-31"):
    need(s in p.ids, "section " + s)
need("<title>vtest fade QC</title>" in page, "title")
need(T + "/g.lua" in page and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page), "provenance: graph file, date")
need("run_dir: " + T + "/run" in page and "small U-Net" in page, "provenance: the model's information")
need(re.search(r'class="summary">mean of 2 frames: chroma PSNR source [\d.]+, baseline [\d.]+, ML [\d.]+ dB', page), "summary line")
need(not p.links, "no external references: %s" % p.links)
need(p.scripts == 1, "one inline script")
need(p.svgs.count("graphsvg") == 1 and p.svgs.count("losssvg") == 1, "graph and loss SVGs: %s" % p.svgs)
types = sorted(set(p.gnodes))
need(len(p.gnodes) == 20 and types == ["Crop", "FrameHold", "FrameRange", "Grade", "Read", "Report",
     "Saturation", "Shuffle", "Train", "Write"], "graph boxes: %d %s" % (len(p.gnodes), types))
need(page.count("<polyline class=\"avg\"") == 1, "loss moving average")
# images: 3 dataset + 4 contact sheets + 2 frames x 4; every one a decodable data: URI
need(len(p.imgs) == 15, "15 images, got %d" % len(p.imgs))
roles = [i.get("data-role") for i in p.imgs if i.get("data-role")]
need(roles == ["source", "baseline", "ml", "reference"] * 2, "thumbnail order: %s" % roles)
for i in p.imgs:
    m = re.match(r"data:(image/(png|jpeg));base64,([A-Za-z0-9+/=]+)$", i.get("src", ""))
    if not m:
        need(False, "img src is not a data: URI: %.60s" % i.get("src", ""))
        continue
    raw = base64.b64decode(m.group(3), validate=True)
    im = Image.open(io.BytesIO(raw))
    im.load()
    need(im.format == {"png": "PNG", "jpeg": "JPEG"}[m.group(2)] and im.size[0] > 0, "decodes: %s" % i.get("alt"))
    if i.get("data-role"):
        need(im.size == (320, 240), "thumbnail 320x240 (thumb = 320), got %s" % (im.size,))
need(len(p.wipes) == 2 and all(w.get("data-top") == "ml" for w in p.wipes), "a wipe per frame, ML over source")
# metrics: the table's values are reel compare's, ML best in every column
cols = ["psnr", "psnr_chroma", "de2000_mean", "de2000_p95", "ssim"]
rows = {(r["frame"], r["image"]): r["cells"] for r in p.rows}
need(len(rows) == 9, "9 metric rows (2 frames and the mean, 3 images)")
worst_v = worst_t = 0
for f in ("30", "31"):
    for w in ("source", "baseline", "ml"):
        ref = json.load(open("%s/cmp-%s-00%s.json" % (T, w, f)))
        for c in cols:
            cell = rows[(f, w)][c]
            dv, dt = abs(cell[1] - ref[c]), abs(float(cell[3]) - ref[c])
            worst_v, worst_t = max(worst_v, dv), max(worst_t, dt)
            need(dv <= 1e-6 and dt <= 1e-3, "frame %s %s %s: page %s (shown %s), reel compare %s" % (f, w, c, cell[1], cell[3], ref[c]))
for w in ("source", "baseline", "ml"):
    for c in cols:
        mean = sum(rows[(f, w)][c][1] for f in ("30", "31")) / 2
        need(abs(rows[("mean", w)][c][1] - mean) <= 1e-6, "mean of %s %s" % (w, c))
for f in ("30", "31", "mean"):
    for c in cols:
        need(rows[(f, "ml")][c][2] and not rows[(f, "source")][c][2] and not rows[(f, "baseline")][c][2],
             "ML alone is best: frame %s %s" % (f, c))
need(rows[("mean", "ml")]["psnr_chroma"][1] > rows[("mean", "baseline")]["psnr_chroma"][1] + 3,
     "ML's chroma PSNR well above the baseline's")
print("page: %d images, %d graph boxes; largest difference from reel compare: %.2g (values), %.2g (as shown)" % (len(p.imgs), len(p.gnodes), worst_v, worst_t), file=sys.stderr)
for b in bad:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# headless Chromium: the script ran (wipes built, every image decoded) and the page draws
if ! command -v chromium > /dev/null 2>&1; then
  tools/install-deps.sh > "$T/deps.log" 2>&1 || true
fi
if command -v chromium > /dev/null 2>&1; then
  CH="chromium --headless --no-sandbox --disable-gpu --user-data-dir=$T/chrome --virtual-time-budget=5000"
  timeout 60 $CH --dump-dom "file://$T/out/report.html" > "$T/dom.html" 2> "$T/chrome.err"
  check "Chromium: the script ran and every image decoded (<body data-report=ready>)" \
    grep -q '<body[^>]* data-images="19" data-report="ready"' "$T/dom.html"
  check "Chromium: both wipes built (slider and two pickers each)" \
    sh -c "[ \$(grep -o 'class=\"wipe\"[^>]*data-ready=\"1\"' '$T/dom.html' | wc -l) = 2 ] &&
           [ \$(grep -o 'type=\"range\"' '$T/dom.html' | wc -l) = 2 ] &&
           [ \$(grep -o '<select>' '$T/dom.html' | wc -l) = 4 ]"
  timeout 60 $CH --hide-scrollbars --window-size=1280,2400 --screenshot="$T/shot.png" \
    "file://$T/out/report.html" > /dev/null 2>> "$T/chrome.err"
  check "Chromium: the screenshot is a page, not a blank" $PY - "$T/shot.png" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
colours = len(set(im.resize((320, 600)).getdata()))
print("screenshot %dx%d, %d colours" % (im.size + (colours,)), file=sys.stderr)
sys.exit(0 if im.size == (1280, 2400) and colours > 2000 else 1)
PY
else
  echo "skip: Chromium checks: chromium is not installed and tools/install-deps.sh could not install it" >&2
fi

# a page with only a source and a reference (no model, dataset, ML or
# baseline), on a crop so that it is quick; --verify rebuilds it and finds
# the content it recorded (Train is left out here: its model carries the
# date it was made, so a fresh training never equals the cached one)
cat > "$T/v.lua" <<LUA
local reel = require "reel"
local src = reel.Read { "data/vtest/vtest.####.png", range = {1, 40} }
local small = reel.Crop { reel.Shuffle { src, out = "R=a.R,G=a.G,B=a.B" }, box = {0, 0, 192, 144},
                          reformat = true }
return reel.Report { source = reel.Saturation { small, saturation = 0.5 }, reference = small,
                     frames = {30}, path = "$T/v/report.html", thumb = 96, format = "png" }
LUA
reel render "$T/v.lua" --cache "$T/c" > /dev/null 2> "$T/v1.err"
check "a page with only source and reference" $PY - "$T/v/report.html" <<'PY'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
ok = (page.count("<img ") == 2 and page.count("data:image/png;base64,") == 2 and
      'id="dataset"' not in page and 'id="training"' not in page and
      page.count('class="wipe"') == 1 and page.count("data-metric=\"psnr\"") == 2)
sys.exit(0 if ok else 1)
PY
reel render "$T/v.lua" --cache "$T/c" --verify --stats-json "$T/v.json" > /dev/null 2> "$T/v2.err"
rc=$?
verified=$(stat_of "$T/v.json" verified)
check "--verify rebuilds the page and finds the content it recorded" \
  test "$rc" = 0 -a "${verified:-0}" -ge 1
[ $rc = 0 ] || tail -3 "$T/v2.err" >&2

# errors name the node and what to do
sed -e 's/frames = {30, 31}/frames = {30, 99}/' "$T/g.lua" > "$T/e1.lua"
reel render "$T/e1.lua" --cache "$T/c" > /dev/null 2> "$T/e1.err"
check "a held-out frame outside the clips is refused (exit 2), naming it" \
  sh -c "[ $? = 2 ] && grep -q \"Report 'qc'.*99 is not a frame of 'source' (1-40)\" '$T/e1.err'"
sed -e 's|out/report.html|out/report.txt|' "$T/g.lua" > "$T/e2.lua"
reel render "$T/e2.lua" --cache "$T/c" > /dev/null 2> "$T/e2.err"
check "a path that is not .html is refused (exit 2)" \
  sh -c "[ $? = 2 ] && grep -q 'should end in .html' '$T/e2.err'"
finish
