#!/usr/bin/env python3
"""Write Sources/ScreeningServer/Page/world.json, the land outlines of the map
on the verification page served by `rubble serve`.

Data: Natural Earth 1:110m admin-0 countries (public domain), as shipped in the
PyPI wheel geopandas==0.14.4, file
geopandas/datasets/naturalearth_lowres/naturalearth_lowres.shp
(geopandas dropped these files in 1.0, so the version is pinned).

Run (from the repository root; needs Python 3 and pip, reaches PyPI only):

    python3 scripts/make-world-outline.py            # writes the default path
    python3 scripts/make-world-outline.py --out X.json

The script downloads the wheel with `pip download --no-deps` into a temporary
folder outside the repository (nothing is installed), reads the shapefile with
the small stdlib reader below (polygon records only), simplifies each ring
(Douglas-Peucker, --tolerance degrees), quantises to 0.1 degree and writes:

    {"source": "...", "scale": 10,
     "rings": [[x0, y0, dx1, dy1, dx2, dy2, ...], ...]}

x0, y0 are the first vertex as integer longitude*scale, latitude*scale; every
following pair is the difference to the previous vertex (integers). A ring is
closed implicitly (the last vertex joins the first). Rings that collapse to
fewer than 3 distinct points are dropped.
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import zipfile

PACKAGE = "geopandas==0.14.4"
MEMBER = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres.shp"
SCALE = 10  # 0.1 degree


def download_shapefile(workdir):
    """pip download the wheel into workdir and return the .shp bytes."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
         "--only-binary", ":all:", "-d", workdir, PACKAGE],
        check=True,
    )
    wheels = [f for f in os.listdir(workdir) if f.endswith(".whl")]
    if len(wheels) != 1:
        sys.exit(f"expected one wheel in {workdir}, found {wheels}")
    with zipfile.ZipFile(os.path.join(workdir, wheels[0])) as wheel:
        return wheel.read(MEMBER)


def read_polygon_rings(data):
    """Yield each ring [(lon, lat), ...] of the polygon records of a .shp file.

    Format (ESRI Shapefile Technical Description): 100-byte header, then
    records of an 8-byte big-endian header (number, content length in 16-bit
    words) and content starting with a little-endian int32 shape type.
    Polygon (5) content: type, bbox (4 doubles), numParts, numPoints,
    parts[numParts] (int32 start indices), points[numPoints] (x, y doubles).
    """
    code, = struct.unpack(">i", data[0:4])
    if code != 9994:
        sys.exit("not a shapefile")
    offset = 100
    while offset + 8 <= len(data):
        _, length_words = struct.unpack(">ii", data[offset:offset + 8])
        content = data[offset + 8:offset + 8 + 2 * length_words]
        offset += 8 + 2 * length_words
        shape_type, = struct.unpack("<i", content[0:4])
        if shape_type == 0:
            continue  # null shape
        if shape_type not in (5, 15, 25):
            sys.exit(f"unexpected shape type {shape_type}")
        num_parts, num_points = struct.unpack("<ii", content[36:44])
        parts = list(struct.unpack(f"<{num_parts}i", content[44:44 + 4 * num_parts]))
        base = 44 + 4 * num_parts
        coords = struct.unpack(f"<{2 * num_points}d", content[base:base + 16 * num_points])
        points = list(zip(coords[0::2], coords[1::2]))
        parts.append(num_points)
        for start, end in zip(parts, parts[1:]):
            yield points[start:end]


def simplify(points, tolerance):
    """Douglas-Peucker on an open polyline (iterative), keeps both ends."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        dx, dy = bx - ax, by - ay
        norm = (dx * dx + dy * dy) ** 0.5
        best, best_index = -1.0, None
        for i in range(first + 1, last):
            px, py = points[i]
            if norm == 0:
                dist = ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5
            else:
                dist = abs(dy * (px - ax) - dx * (py - ay)) / norm
            if dist > best:
                best, best_index = dist, i
        if best_index is not None and best > tolerance:
            keep[best_index] = True
            stack.append((first, best_index))
            stack.append((best_index, last))
    return [p for p, k in zip(points, keep) if k]


def encode_ring(ring, tolerance):
    """Simplify, quantise and delta-encode one ring, or None if degenerate."""
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring = ring[:-1]
    # Split the closed ring in two halves so both ends of each stay fixed.
    half = len(ring) // 2
    simplified = simplify(ring[:half + 1], tolerance)[:-1] + simplify(ring[half:] + ring[:1], tolerance)[:-1]
    quantised = []
    for lon, lat in simplified:
        q = (round(lon * SCALE), round(lat * SCALE))
        if not quantised or quantised[-1] != q:
            quantised.append(q)
    while len(quantised) > 1 and quantised[-1] == quantised[0]:
        quantised.pop()
    if len(set(quantised)) < 3:
        return None
    out = [quantised[0][0], quantised[0][1]]
    for (px, py), (x, y) in zip(quantised, quantised[1:]):
        out += [x - px, y - py]
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "Sources", "ScreeningServer", "Page", "world.json")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=default_out)
    parser.add_argument("--tolerance", type=float, default=0.08,
                        help="Douglas-Peucker tolerance in degrees (default 0.08)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="world-outline-") as workdir:
        shp = download_shapefile(workdir)
    rings = [r for r in (encode_ring(ring, args.tolerance) for ring in read_polygon_rings(shp)) if r]
    document = {
        "source": f"Natural Earth 1:110m admin-0 countries (public domain), from PyPI {PACKAGE} {MEMBER}",
        "format": "rings: [x0, y0, dx, dy, ...] integers, degrees*scale, delta-encoded after the first vertex, closed implicitly",
        "scale": SCALE,
        "rings": rings,
    }
    text = json.dumps(document, separators=(",", ":"))
    # One ring a line keeps diffs readable.
    text = text.replace("],[", "],\n[")
    with open(args.out, "w") as f:
        f.write(text + "\n")
    points = sum(len(r) // 2 for r in rings)
    print(f"wrote {args.out}: {len(rings)} rings, {points} points, {len(text)} bytes")


if __name__ == "__main__":
    main()
