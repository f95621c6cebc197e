#!/usr/bin/env bash
# Checks `rubble screen`'s report.html in a real headless browser (Debian's Chromium).
#
#   scripts/check-report.sh            # after scripts/test.sh (reuses its release build)
#   RUBBLE=path/to/rubble scripts/check-report.sh
#   SCRATCH=.build-other scripts/check-report.sh   # build into another scratch folder
#   KEEP=dir scripts/check-report.sh   # keep the generated files (screenshot: dir/report.png)
#
# 1. installs chromium if missing (apt-get; not part of scripts/setup.sh: only this check needs it);
# 2. `rubble demo` draws a small synthetic data set and trains the baseline CNN on it (seconds);
# 3. `rubble screen` on a folder of those photos plus an exact copy, a re-encoded near copy, a
#    corrupt and a truncated file, with Grad-CAM panels and the report;
# 4. checks results.csv (columns, errors, duplicates) and report.html (one card per flagged photo);
# 5. chromium --dump-dom: the script ran and the gallery shows every card;
# 6. chromium on a self-test page that drives the report in an iframe (sort, label filter,
#    threshold slider, confirm/reject marks, the exported CSV read back from its Blob URL);
# 7. chromium --screenshot at 1280x900, decoded with python3's zlib: the page is not blank
#    (many distinct colours, the panels' heat-map colours present);
# 8. `rubble screen --segmenter` (the small fixture SegFormer): results.csv gains a column
#    `severity` after `error`, a number in [0, 1] for flagged photos and empty for the others, one
#    segment/<stem>_segment.png per flagged photo, and in chromium every card has its severity,
#    its segmentation thumbnail loads, and sorting by severity orders the cards.
# Prints what it checked; exits non-zero only when a check fails (or a tool cannot be had).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "check-report: $*"; }
fail() { echo "check-report: FAILED: $*" >&2; exit 1; }
start=$(date +%s)

# --- 1. a browser -----------------------------------------------------------------------------
. scripts/browser-lib.sh
browser=$(find_browser_or_install) || fail "chromium could not be installed"
command -v python3 >/dev/null || fail "python3 is needed to decode the screenshot"
say "browser: $browser ($("$browser" --version 2>/dev/null | head -1))"

work=${KEEP:-$(mktemp -d -t rubble-check-report.XXXXXX)}
mkdir -p "$work"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT

# --- 2. the tool --------------------------------------------------------------------------------
if [ -z "${RUBBLE:-}" ]; then
  scratch=${SCRATCH:-.build}
  # the same flags as scripts/test.sh, so after the test run this is (nearly) a no-op
  swift build -c release -Xswiftc -enable-testing --scratch-path "$scratch" --product rubble >"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log"; fail "swift build"; }
  say "$(tail -1 "$work/build.log")"
  RUBBLE="$scratch/release/rubble"
fi
[ -x "$RUBBLE" ] || fail "no rubble executable at $RUBBLE"
browse() {  # chromium, headless, bounded in time, quiet
  timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --no-default-browser-check --disable-extensions --allow-file-access-from-files \
    --user-data-dir="$work/chromium-profile" "$@" 2>>"$work/chromium.log"
}

say "training a tiny model on synthetic scenes (rubble demo)"
"$RUBBLE" demo --out "$work/demo" --images 160 --epochs 8 --image-size 96 >"$work/demo.log" 2>&1 \
  || { cat "$work/demo.log"; fail "rubble demo"; }
weights="$work/demo/run/best.h5"
[ -f "$weights" ] || fail "no $weights"

# --- 3. a folder to screen ------------------------------------------------------------------------
photos="$work/photos"
mkdir -p "$photos/day1" "$photos/day2"
n=0
rubble=("$work/demo/data/rubble/"*.png) intact=("$work/demo/data/intact/"*.png)  # globs sort by name
[ "${#rubble[@]}" -ge 8 ] && [ "${#intact[@]}" -ge 8 ] || fail "rubble demo drew too few scenes"
for f in "${rubble[@]:0:8}"; do cp "$f" "$photos/day1/r_$(basename "$f")"; n=$((n+1)); done
for f in "${intact[@]:0:8}"; do cp "$f" "$photos/day2/i_$(basename "$f")"; n=$((n+1)); done
first=$(basename "$(printf '%s\n' "$photos/day1/"*.png | head -1)")
cp "$photos/day1/$first" "$photos/day2/zz_exact_copy.png"
printf 'this is not a photo\n' > "$photos/day2/corrupt.jpg"
head -c 300 "$photos/day1/$first" > "$photos/day2/truncated.png"
total=$((n + 3))
out="$work/out"
screen() {  # screen() THRESHOLD
  say "screening $total files ($n photos, 1 exact copy, 2 damaged), flagging p(rubble) >= $1"
  rm -rf "$out"
  "$RUBBLE" screen "$photos" --arch baseline --head 64 --weights "$weights" --positive rubble \
    --threshold "$1" --min-size 0 --batch-size 8 --out "$out" >"$work/screen.log" 2>&1 \
    || { cat "$work/screen.log"; fail "rubble screen"; }
  sed 's/^/    /' "$work/screen.log"
}
threshold=0.5
screen $threshold
# columns: path,digest,phash,duplicate_of,p_intact,p_rubble,label,milliseconds,error,latitude,longitude,taken_at (no commas in these paths)
flagged() { awk -F, -v t="$threshold" 'NR > 1 && $6 != "" && $6 + 0 >= t + 0 { n++ } END { print n + 0 }' "$out/results.csv"; }
if [ "$(flagged)" -lt 3 ]; then  # a model that learned little: flag everything so the page has cards
  threshold=0
  screen $threshold
fi

# --- 4. the files ----------------------------------------------------------------------------------
header=$(head -1 "$out/results.csv")
[ "$header" = "path,digest,phash,duplicate_of,p_intact,p_rubble,label,milliseconds,error,latitude,longitude,taken_at" ] \
  || fail "results.csv header: $header"
rows=$(($(wc -l < "$out/results.csv") - 1))
[ "$rows" -eq "$total" ] || fail "results.csv has $rows rows, expected $total"
errors=$(grep -c -E 'corrupt\.jpg|truncated\.png' "$out/results.csv" || true)
[ "$errors" -eq 2 ] || fail "the damaged files should be 2 error rows, found $errors"
grep -q "zz_exact_copy.png,[0-9a-f]\{64\},[0-9a-f]*,$photos/day1/$first," "$out/results.csv" \
  || fail "the exact copy is not marked as a duplicate of day1/$first"
classified=$(awk -F, 'NR > 1 && $7 != "" { n++ } END { print n + 0 }' "$out/results.csv")
expected=$(flagged)
cards=$(grep -c '<article class="card"' "$out/report.html" || true)
panels=$(ls "$out/gradcam" | grep -c '_gradcam\.png$' || true)
say "results.csv: $rows rows, $classified classified, $expected with p(rubble) >= $threshold, 2 errors, 1 exact duplicate; report.html: $cards cards; $panels Grad-CAM panels"
[ "$classified" -eq "$n" ] || fail "$classified of $n distinct photos classified"
[ "$cards" -eq "$expected" ] || fail "the report has $cards cards for $expected flagged photos"
[ "$panels" -eq "$expected" ] || fail "$panels panels for $expected flagged photos"
for p in $(awk -F, -v t="$threshold" 'NR > 1 && $6 != "" && $6 + 0 >= t + 0 { print $1 }' "$out/results.csv"); do
  grep -q "data-path=\"$p\"" "$out/report.html" || fail "flagged photo $p is not in the report"
done
grep -q -E 'https?://' "$out/report.html" && fail "report.html references the network"

# --- 5. the DOM after the script ran -----------------------------------------------------------
url="file://$out/report.html"
browse --virtual-time-budget=5000 --dump-dom "$url" > "$work/dom.html" || fail "chromium --dump-dom (see $work/chromium.log)"
grep -q 'id="gallery"[^>]*data-ready="1"' "$work/dom.html" || fail "the report's script did not run (no data-ready on the gallery)"
shown=$(grep -o 'data-shown="[0-9]*"' "$work/dom.html" | head -1 | tr -dc 0-9)
rendered=$(grep -o '<article class="card[^"]*"[^>]*>' "$work/dom.html" | grep -vc ' hidden' || true)
say "dump-dom: script ran, gallery shows $shown of $cards cards ($rendered visible <article> elements)"
[ "$shown" = "$cards" ] && [ "$rendered" -eq "$cards" ] || fail "the gallery rendered $shown/$rendered items, expected $cards"

# --- 6. interaction, driven from a page that loads the report in an iframe ----------------------
cat > "$out/selftest.html" <<'EOF'
<!DOCTYPE html><html><body><pre id="result">pending</pre>
<iframe id="f" src="report.html" style="width:1200px;height:800px"></iframe>
<script>
function fail(m) { document.getElementById("result").textContent = "FAIL " + m; }
document.getElementById("f").addEventListener("load", function () {
  try {
    var d = this.contentDocument, w = this.contentWindow;
    w.localStorage.clear();
    var g = d.getElementById("gallery");
    if (g.dataset.ready !== "1") return fail("not ready");
    function cards() { return Array.prototype.slice.call(g.querySelectorAll("article.card")); }
    function visible() { return cards().filter(function (c) { return !c.hidden; }); }
    function set(id, v, ev) { var e = d.getElementById(id); e.value = v; e.dispatchEvent(new w.Event(ev || "change")); }
    var n = cards().length, log = [];
    set("sort", "p-desc");
    var ps = visible().map(function (c) { return parseFloat(c.dataset.p); });
    for (var i = 1; i < ps.length; i++) if (ps[i] > ps[i - 1]) return fail("not sorted by p");
    set("sort", "name-asc");
    var names = visible().map(function (c) { return c.dataset.name.toLowerCase(); });
    for (i = 1; i < names.length; i++) if (names[i] < names[i - 1]) return fail("not sorted by name");
    log.push("sorted by p and by name");
    set("label-filter", "rubble");
    var rubble = visible().length;
    if (!visible().every(function (c) { return c.dataset.label === "rubble"; })) return fail("label filter");
    set("label-filter", "intact");
    if (visible().length + rubble !== n) return fail("label filter counts");
    set("label-filter", "");
    log.push("label filter " + rubble + " rubble / " + (n - rubble) + " intact");
    var sorted = cards().map(function (c) { return parseFloat(c.dataset.p); }).sort(function (a, b) { return a - b; });
    var t = sorted[Math.floor(n / 2)];
    set("threshold", String(Math.ceil(t * 100) / 100), "input");
    var above = cards().filter(function (c) { return parseFloat(c.dataset.p) >= parseFloat(d.getElementById("threshold").value) - 1e-9; }).length;
    if (visible().length !== above) return fail("slider shows " + visible().length + ", expected " + above);
    log.push("slider at " + d.getElementById("threshold").value + " shows " + above);
    set("threshold", d.getElementById("threshold").min, "input");
    if (visible().length !== n) return fail("slider reset");
    var c0 = visible()[0], c1 = visible()[1];
    c0.querySelector("button.confirm").click();
    c1.querySelector("button.reject").click();
    if (!c0.classList.contains("confirmed") || !c1.classList.contains("rejected")) return fail("marks");
    set("mark-filter", "rejected");
    if (visible().length !== 1) return fail("mark filter");
    set("mark-filter", "");
    var a = d.getElementById("export");
    if (a.getAttribute("download") !== "verified_labels.csv" || a.href.indexOf("blob:") !== 0) return fail("export link " + a.href);
    fetch(a.href).then(function (r) { return r.text(); }).then(function (text) {
      var lines = text.trim().split("\n");
      if (lines[0] !== "path,predicted,verified_label" || lines.length !== 3) return fail("csv " + JSON.stringify(text));
      var other = c1.dataset.label === "rubble" ? "intact" : "rubble";
      var want = [c0.dataset.path + "," + c0.dataset.label + "," + c0.dataset.label,
                  c1.dataset.path + "," + c1.dataset.label + "," + other].sort();
      if (JSON.stringify(lines.slice(1).sort()) !== JSON.stringify(want)) return fail("csv rows " + JSON.stringify(lines));
      log.push("confirm/reject exported as " + lines.length + " CSV lines");
      document.getElementById("result").textContent = "PASS " + log.join("; ");
    }, function (e) { fail("fetch " + e); });
  } catch (e) { fail(String(e)); }
});
</script></body></html>
EOF
browse --virtual-time-budget=10000 --dump-dom "file://$out/selftest.html" > "$work/selftest.html" || fail "chromium (self-test)"
result=$(grep -o '<pre id="result">[^<]*' "$work/selftest.html" | sed 's/<pre id="result">//')
say "interaction self-test: $result"
case "$result" in PASS*) ;; *) fail "interaction self-test: $result" ;; esac
rm -f "$out/selftest.html"

# --- 7. a screenshot ------------------------------------------------------------------------------
shot="$work/report.png"
browse --hide-scrollbars --window-size=1280,900 --virtual-time-budget=5000 --screenshot="$shot" "$url" >/dev/null \
  || fail "chromium --screenshot"
[ -s "$shot" ] || fail "no screenshot written"
screenshot_colours "$shot" check-report 1000 500 || fail "the screenshot looks blank"
if [ -n "${KEEP:-}" ]; then say "screenshot: $shot"; else say "screenshot checked (set KEEP=DIR to keep it and the other files)"; fi

# --- 8. damage severity with a segmenter ----------------------------------------------------------
segmenter=Tests/Fixtures/segformer/segformer
[ -f "$segmenter/config.json" ] || fail "no fixture segmenter at $segmenter"
sout="$work/out-severity"
say "screening again with --segmenter $segmenter"
"$RUBBLE" screen "$photos" --arch baseline --head 64 --weights "$weights" --positive rubble \
  --threshold "$threshold" --min-size 0 --batch-size 8 --out "$sout" --segmenter "$segmenter" >"$work/screen-severity.log" 2>&1 \
  || { cat "$work/screen-severity.log"; fail "rubble screen --segmenter"; }
grep -q "flagged scored for severity" "$work/screen-severity.log" || fail "the summary does not mention the severity"
header=$(head -1 "$sout/results.csv")
[ "$header" = "path,digest,phash,duplicate_of,p_intact,p_rubble,label,milliseconds,error,severity,latitude,longitude,taken_at" ] \
  || fail "results.csv header with --segmenter: $header"
# (python3's csv: error messages hold commas)
counts=$(python3 - "$sout/results.csv" "$threshold" <<'EOF2'
import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
t, flagged, bad = float(sys.argv[2]), 0, []
for r in rows:
    is_flagged = r["p_rubble"] != "" and float(r["p_rubble"]) >= t
    s = r["severity"]
    if is_flagged:
        flagged += 1
        if not (re.fullmatch(r"[0-9]+\.[0-9]{6}", s) and 0 <= float(s) <= 1): bad.append("flagged without a severity: " + r["path"])
    elif s != "":
        bad.append("severity for a photo not flagged: " + r["path"])
if bad: sys.exit("; ".join(bad))
print(flagged)
EOF2
) || fail "results.csv severity column"
sflagged=$counts
spanels=$(ls "$sout/segment" | grep -c '_segment\.png$' || true)
[ "$spanels" -eq "$sflagged" ] || fail "$spanels segment panels for $sflagged flagged photos"
say "results.csv: severity for all $sflagged flagged photos, empty for the rest; $spanels segment panels"
cat > "$sout/selftest.html" <<'EOF2'
<!DOCTYPE html><html><body><pre id="result">pending</pre>
<iframe id="f" src="report.html" style="width:1200px;height:800px"></iframe>
<script>
function fail(m) { document.getElementById("result").textContent = "FAIL " + m; }
document.getElementById("f").addEventListener("load", function () {
  try {
    var d = this.contentDocument, w = this.contentWindow;
    var g = d.getElementById("gallery");
    if (g.dataset.ready !== "1") return fail("not ready");
    var cards = Array.prototype.slice.call(g.querySelectorAll("article.card"));
    if (!cards.length) return fail("no cards");
    if (!cards.every(function (c) { return /^[0-9.]+$/.test(c.dataset.severity || ""); })) return fail("a card without severity");
    var thumbs = Array.prototype.slice.call(g.querySelectorAll(".seg img"));
    if (thumbs.length !== cards.length) return fail(thumbs.length + " segmentation thumbnails for " + cards.length + " cards");
    if (!thumbs.every(function (i) { return i.complete && i.naturalWidth > 0; })) return fail("a segmentation thumbnail did not load");
    var sort = d.getElementById("sort");
    sort.value = "s-desc"; sort.dispatchEvent(new w.Event("change"));
    if (sort.value !== "s-desc") return fail("no severity sort option");
    var s = Array.prototype.slice.call(g.querySelectorAll("article.card")).map(function (c) { return parseFloat(c.dataset.severity); });
    for (var i = 1; i < s.length; i++) if (s[i] > s[i - 1]) return fail("not sorted by severity: " + s.join(","));
    document.getElementById("result").textContent = "PASS " + cards.length + " cards with severity and thumbnail; sorted by severity";
  } catch (e) { fail(String(e)); }
});
</script></body></html>
EOF2
browse --virtual-time-budget=10000 --dump-dom "file://$sout/selftest.html" > "$work/selftest-severity.html" || fail "chromium (severity self-test)"
result=$(grep -o '<pre id="result">[^<]*' "$work/selftest-severity.html" | sed 's/<pre id="result">//')
say "severity self-test: $result"
case "$result" in PASS*) ;; *) fail "severity self-test: $result" ;; esac
rm -f "$sout/selftest.html"
say "all checks passed in $(( $(date +%s) - start )) s"
