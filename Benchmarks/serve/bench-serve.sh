#!/usr/bin/env bash
# Loads `rubble serve` on loopback with wrk (Debian's) while its worker classifies in the
# background, and prints what a team would ask: how many uploads a second the intake takes,
# their p50/p99 latency, and whether that latency stays flat while the queue grows.
#
#   Benchmarks/serve/bench-serve.sh                 # release build, VGG19 150x150 (random weights)
#   ARCH=mobilenetv2 SIZE=224 Benchmarks/serve/bench-serve.sh
#   SECONDS_EACH=20 CONNECTIONS=8 Benchmarks/serve/bench-serve.sh
#   WORKERS=0 Benchmarks/serve/bench-serve.sh     # the intake alone (nothing classifies)
#
# 1. PHOTOS distinct JPEGs of about 200 KB (1000x750, ImageMagick plasma fractal with Gaussian noise, one seed each);
# 2. a fresh SQLite store, an uploader and a verifier, `rubble serve --workers 1`;
# 3. wrk POST /api/v1/photos, two windows of SECONDS_EACH back to back (the queue grows: the
#    model answers far fewer photos a second than the intake takes), then GET /api/v1/photos?limit=50
#    with the worker still busy; the queue depth before and after each window (from /healthz).
set -euo pipefail
cd "$(dirname "$0")/../.."
arch=${ARCH:-vgg19} size=${SIZE:-150} workers=${WORKERS:-1} each=${SECONDS_EACH:-15} connections=${CONNECTIONS:-8} count=${PHOTOS:-300}
say() { echo "bench-serve: $*"; }
for tool in wrk curl; do
  command -v $tool >/dev/null || { say "installing $tool"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $tool >/dev/null; }
done
magick=/usr/bin/convert   # ImageMagick's (another `convert` may come first on PATH)
"$magick" -version 2>/dev/null | grep -q ImageMagick \
  || { say "installing imagemagick"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq imagemagick >/dev/null; }
work=$(mktemp -d -t rubble-bench-serve.XXXXXX)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
rubble=${RUBBLE:-.build/release/rubble}
[ -x "$rubble" ] || swift build -c release --product rubble >/dev/null

say "drawing $count JPEGs of 1000x750"
mkdir -p "$work/photos"
for i in $(seq 1 "$count"); do
  "$magick" -seed "$i" -size 1000x750 plasma:fractal -attenuate 0.6 +noise Gaussian -quality 85 "$work/photos/$i.jpg"
done
ls "$work"/photos/*.jpg > "$work/photos.txt"
say "mean size $(( $(cat "$work"/photos/*.jpg | wc -c) / count / 1000 )) KB"

store="$work/event.sqlite"
uploader=$("$rubble" users add wrk --role uploader --db "$store" | tail -1)
verifier=$("$rubble" users add ana --role verifier --db "$store" | tail -1)
"$rubble" serve --db "$store" --listen 127.0.0.1:0 --arch "$arch" --image-size "$size" --random-weights \
  --workers "$workers" --rate-limit 1000000 >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -1)
[ -n "$url" ] || { cat "$work/serve.log"; exit 1; }
say "$url: $arch ${size}x${size}, $workers in-process worker(s), CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) ($(nproc) cores)"
depth() { curl -s "$url/healthz" | python3 -c 'import json, sys; print(json.load(sys.stdin)["queue_depth"])'; }
answered() { curl -s -H "Authorization: Bearer $verifier" "$url/metrics" | awk '$1 == "rubble_photos{status=\"done\"}" { print $2 }'; }
load() {  # load NAME SCRIPT
  local before; before=$(depth)
  local out; out=$(PHOTOS="$work/photos.txt" TOKEN="$2" wrk -t1 -c"$connections" -d"${each}s" --latency -s "Benchmarks/serve/$3" "$url" 2>&1)
  local rps p50 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
  p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
  p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
  local errors; errors=$(echo "$out" | awk '/Non-2xx/ { print $4 }')
  printf "%-34s %10s req/s   p50 %8s   p99 %8s   queue %6s -> %-6s non-2xx %s\n" "$1" "$rps" "$p50" "$p99" "$before" "$(depth)" "${errors:-0}"
}
echo
printf "%-34s %16s   %12s   %12s   %s\n" "load ($connections connections, ${each} s)" "throughput" "latency" "" "queue depth"
load "POST /api/v1/photos (window 1)" "$uploader" upload.lua
load "POST /api/v1/photos (window 2)" "$uploader" upload.lua
load "GET /api/v1/photos?limit=50" "$verifier" list.lua
say "the worker answered $(answered) photos meanwhile (the rest of the $count distinct ones and the repeats wait in the queue)"
