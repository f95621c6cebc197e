#!/usr/bin/env bash
# Checks `rubble serve` end to end with its verification page in a real headless browser.
#
#   scripts/check-serve.sh             # after scripts/test.sh (reuses its release build)
#   RUBBLE=path/to/rubble scripts/check-serve.sh
#   KEEP=dir scripts/check-serve.sh    # keep the files (screenshot: dir/serve.png, log: dir/serve.log)
#
# 1. chromium (installed if missing, scripts/browser-lib.sh) and the tool (release build);
# 2. `rubble demo` trains a tiny model on synthetic scenes (seconds);
# 3. `rubble users add`: a verifier and an uploader, tokens from the last line of the output;
# 4. `rubble serve --listen 127.0.0.1:0` on a fresh SQLite store (port from its first line);
# 5. uploads, as a field app sends them: 12 geotagged photos, one exact copy, one file that is
#    not a photo (refused with 415); waits until the in-process worker answered every photo;
# 6. scripts/check-serve-page.py drives Chromium over the DevTools protocol: signs in, sees the
#    cards, confirms one with the `c` key, reads that verdict back through the API, sees the land
#    and the points on the map, takes a 1280x900 screenshot;
# 7. the screenshot is decoded: not blank, the Grad-CAM panels' colours present.
# Exits non-zero only when a check fails (or a tool cannot be had).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "check-serve: $*"; }
fail() { echo "check-serve: FAILED: $*" >&2; [ -f "${work:-/nonexistent}/serve.log" ] && tail -20 "$work/serve.log" >&2; exit 1; }
start=$(date +%s)

# --- 1. browser and tool ---------------------------------------------------------------------------
. scripts/browser-lib.sh
browser=$(find_browser_or_install) || fail "chromium could not be installed"
command -v python3 >/dev/null || fail "python3 is needed to drive the browser"
work=${KEEP:-$(mktemp -d -t rubble-check-serve.XXXXXX)}
mkdir -p "$work"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${RUBBLE:-}" ]; then
  scratch=${SCRATCH:-.build}
  swift build -c release -Xswiftc -enable-testing --scratch-path "$scratch" --product rubble >"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log"; fail "swift build"; }
  RUBBLE="$scratch/release/rubble"
fi
[ -x "$RUBBLE" ] || fail "no rubble executable at $RUBBLE"

# --- 2. a model ------------------------------------------------------------------------------------
say "training a tiny model on synthetic scenes (rubble demo)"
"$RUBBLE" demo --out "$work/demo" --images 160 --epochs 8 --image-size 96 >"$work/demo.log" 2>&1 \
  || { cat "$work/demo.log"; fail "rubble demo"; }

# --- 3. accounts -------------------------------------------------------------------------------------
store="$work/event.sqlite"
verifier=$("$RUBBLE" users add ana --role verifier --db "$store" | tail -1)
uploader=$("$RUBBLE" users add field-app --role uploader --db "$store" | tail -1)
[[ "$verifier" == rbl_* && "$uploader" == rbl_* ]] || fail "rubble users add did not print a token on its last line"

# --- 4. the server -----------------------------------------------------------------------------------
"$RUBBLE" serve --db "$store" --listen 127.0.0.1:0 --arch baseline --head 64 --weights "$work/demo/run/best.h5" \
  --positive rubble --threshold 0 --min-size 0 --batch-size 8 >"$work/serve.log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 600); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -1 || true)
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || fail "rubble serve exited"
  sleep 0.1
done
[ -n "$url" ] || fail "rubble serve did not say where it listens"
say "rubble serve listening at $url"

# --- 5. uploads ----------------------------------------------------------------------------------------
python3 - "$url" "$uploader" "$verifier" "$work/demo/data" <<'PYEOF' || fail "uploads"
import json, os, sys, time, urllib.error, urllib.request
url, uploader, verifier, data = sys.argv[1:]
def call(method, path, token, body=None):
    req = urllib.request.Request(url + path, data=body, method=method, headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=30) as r: return r.status, r.read()
    except urllib.error.HTTPError as e: return e.code, e.read()
files = sorted(os.path.join(data, "rubble", f) for f in os.listdir(os.path.join(data, "rubble")))[:8]
files += sorted(os.path.join(data, "intact", f) for f in os.listdir(os.path.join(data, "intact")))[:4]
ids = []
for n, path in enumerate(files + files[:1]):
    lat, lon = 36.0 + (n % 4) * 0.7, 35.5 + (n // 4) * 1.1    # around the 2023 Kahramanmaras epicentres
    status, body = call("POST", f"/api/v1/photos?latitude={lat}&longitude={lon}&source=field-app", uploader, open(path, "rb").read())
    assert status == 202, (status, body)
    ids.append(json.loads(body)["id"])
status, body = call("POST", "/api/v1/photos", uploader, b"GIF89a not a photo")
assert status == 415, (status, body)
deadline = time.time() + 120
while time.time() < deadline:
    status, body = call("GET", "/api/v1/photos?limit=500", verifier)
    photos = {p["id"]: p for p in json.loads(body)["photos"]}
    if all(photos.get(i, {}).get("status") not in (None, "queued") for i in ids): break
    time.sleep(0.5)
else:
    sys.exit(f"photos still queued after 120 s: {[i for i in ids if photos.get(i, {}).get('status') == 'queued']}")
done = [i for i in ids if photos[i]["status"] == "done"]
copy = photos[ids[-1]]
assert len(done) == 12, [photos[i]["status"] for i in ids]
assert copy["status"] == "duplicate" and copy["duplicate_of"] == ids[0], copy
print(f"check-serve: {len(ids)} uploads answered: 12 classified and flagged, the copy a duplicate of photo {ids[0]}; a GIF refused (415)")
PYEOF

# --- 6. the page ------------------------------------------------------------------------------------------
shot="$work/serve.png"
python3 scripts/check-serve-page.py --url "$url" --token "$verifier" --screenshot "$shot" --browser "$browser" \
  | sed 's/^/    /' || fail "the verification page (scripts/check-serve-page.py)"

# --- 7. the screenshot ------------------------------------------------------------------------------------
screenshot_colours "$shot" check-serve 1000 500 || fail "the screenshot looks blank"
if [ -n "${KEEP:-}" ]; then say "screenshot: $shot"; fi
say "passed in $(( $(date +%s) - start )) s"
