# Shared by scripts/check-report.sh and scripts/check-serve.sh (sourced, not run).

# Prints the path of Debian's Chromium, installing it (apt-get) if it is missing; fails if it cannot.
find_browser_or_install() {
  local found
  found=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
  if [ -z "$found" ]; then
    echo "browser: installing chromium (apt-get)" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
    found=$(command -v chromium || command -v chromium-browser || true)
  fi
  [ -n "$found" ] || return 1
  echo "$found"
}

# screenshot_colours PNG PREFIX MIN_COLOURS MIN_WARM: decodes an 8-bit RGB(A) PNG with python3's
# zlib, prints its size, distinct colours and heat-map (jet red/yellow) pixels, and fails unless
# there are at least MIN_COLOURS colours and MIN_WARM warm pixels (a page that is not blank and
# shows Grad-CAM panels).
screenshot_colours() {
  python3 - "$@" <<'PYEOF'
import sys, zlib, struct
path, prefix, min_colours, min_warm = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR": ihdr = struct.unpack(">IIBBBBB", body)
    if kind == b"IDAT": idat += body
    pos += 12 + n
w, h, depth, ctype = ihdr[0], ihdr[1], ihdr[2], ihdr[3]
assert depth == 8 and ctype in (2, 6), f"unexpected PNG format depth {depth} type {ctype}"
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
rows, prev, i = [], bytearray(stride), 0
for y in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line)); prev = line
colours, warm = set(), 0
for line in rows:
    for x in range(0, stride, bpp):
        r, g, b = line[x], line[x + 1], line[x + 2]
        colours.add((r, g, b))
        if r > 180 and b < 90 and r - b > 120: warm += 1   # jet's reds/yellows of the heat maps
print(f"{prefix}: screenshot {w}x{h}: {len(colours)} distinct colours, {warm} heat-map pixels")
sys.exit(0 if len(colours) >= min_colours and warm >= min_warm else 1)
PYEOF
}
