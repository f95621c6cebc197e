#!/usr/bin/env python3
"""Writes the EXIF test photos of Tests/Fixtures/exif/ (read by Tests/VisionTests/EXIFFixtureTests.swift).

Each is a 16x16 JPEG with known tags: capture times with and without UTC offsets, GPS positions
in all four hemispheres, orientations. piexif writes big-endian ("MM") EXIF, Pillow's own
Image.Exif little-endian ("II"), so both byte orders come from a writer other than Rubble.

    python3 -m venv /tmp/venv-exif && /tmp/venv-exif/bin/pip install pillow piexif
    /tmp/venv-exif/bin/python Tests/Fixtures/exif/make_exif_fixtures.py   # writes next to itself

Written with Pillow 13.0.0 and piexif 1.1.3; the output is deterministic. It also writes the EXIF
fuzzer's seeds, Fuzz/corpus/exif/ (these JPEGs, and a few Exif segments alone).
"""
import io
import os
import struct

import piexif
from PIL import Image, TiffImagePlugin

HERE = os.path.dirname(os.path.abspath(__file__))


def base_image():
    """A 16x16 gradient, so the JPEG is not a flat block."""
    image = Image.new("RGB", (16, 16))
    image.putdata([(x * 16, y * 16, (x + y) * 8) for y in range(16) for x in range(16)])
    return image


def dms(degrees, minutes, seconds_numerator, seconds_denominator):
    """GPS degrees/minutes/seconds as the three EXIF rationals."""
    return ((degrees, 1), (minutes, 1), (seconds_numerator, seconds_denominator))


def write_piexif(name, zeroth=None, exif=None, gps=None):
    """A JPEG with an EXIF APP1 written by piexif (big-endian, "MM")."""
    blob = piexif.dump({"0th": zeroth or {}, "Exif": exif or {}, "GPS": gps or {}, "1st": {}, "thumbnail": None})
    base_image().save(os.path.join(HERE, name), "JPEG", quality=90, exif=blob)


def write_pillow(name, orientation, date_time_original, offset_time_original, latitude, longitude):
    """A JPEG with an EXIF APP1 written by Pillow's Image.Exif (little-endian, "II")."""
    exif = Image.Exif()
    exif.endian = "<"
    exif[0x0112] = orientation
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = date_time_original
    exif_ifd[0x9011] = offset_time_original
    gps = exif.get_ifd(0x8825)
    gps[0x0000] = b"\x02\x03\x00\x00"
    gps[0x0001], gps[0x0002] = latitude[0], tuple(TiffImagePlugin.IFDRational(n, d) for n, d in latitude[1])
    gps[0x0003], gps[0x0004] = longitude[0], tuple(TiffImagePlugin.IFDRational(n, d) for n, d in longitude[1])
    blob = exif.tobytes()
    assert blob.startswith(b"Exif\x00\x00II"), blob[:8]
    base_image().save(os.path.join(HERE, name), "JPEG", quality=90, exif=blob)


def ifd(order, entries):
    """A TIFF IFD of (tag, type, count, 4 value bytes) entries, then a zero next-IFD offset."""
    out = struct.pack(order + "H", len(entries))
    for tag, kind, count, value in entries:
        out += struct.pack(order + "HHI", tag, kind, count) + value
    return out + b"\x00\x00\x00\x00"


def maker_notes():
    """(vendor, Make, MakerNote bytes) for Canon, Olympus, Nikon (type 3), Fuji, Pentax and Apple."""
    short = lambda order, v: struct.pack(order + "HH", v, 0)
    entries = lambda order: [(0x0001, 3, 1, short(order, 7)), (0x0002, 3, 1, short(order, 42)),
                             (0x0003, 4, 1, struct.pack(order + "I", 123456))]
    return [
        ("canon", b"Canon", ifd(">", entries(">"))),
        ("olympus", b"OLYMPUS IMAGING CORP.", b"OLYMP\x00\x01\x00" + ifd(">", entries(">"))),
        ("nikon", b"NIKON CORPORATION",
         b"Nikon\x00\x02\x10\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + ifd(">", entries(">"))),
        ("fuji", b"FUJIFILM", b"FUJIFILM" + struct.pack("<I", 12) + ifd("<", entries("<"))),
        ("pentax", b"PENTAX Corporation", b"AOC\x00MM" + ifd(">", entries(">"))),
        ("apple", b"Apple", b"Apple iOS\x00\x00\x01MM" + ifd(">", entries(">"))),
    ]


def write_seeds():
    """The fuzzer's seed corpus (Fuzz/corpus/exif/): every fixture JPEG, and the Exif payload of
    some alone (the harness reads input that does not start with FF D8 as a payload)."""
    seeds = os.path.join(HERE, "..", "..", "..", "Fuzz", "corpus", "exif")
    os.makedirs(seeds, exist_ok=True)
    for name in sorted(os.listdir(HERE)):
        if not name.endswith(".jpg"):
            continue
        with open(os.path.join(HERE, name), "rb") as f:
            data = f.read()
        with open(os.path.join(seeds, name), "wb") as f:
            f.write(data)
        start = data.find(b"Exif\x00\x00")
        if start >= 4 and name.startswith(("exif_ne", "exif_nw", "makernote_canon", "makernote_nikon")):
            length = struct.unpack(">H", data[start - 2:start])[0] - 2
            with open(os.path.join(seeds, name[:-4] + ".segment"), "wb") as f:
                f.write(data[start:start + length])


def main():
    # Kahramanmaras, 6 February 2023: everything present, north-east. 37°10'30.5" N, 37°02'15.25" E.
    write_piexif(
        "exif_ne_full_mm.jpg",
        zeroth={piexif.ImageIFD.Orientation: 6, piexif.ImageIFD.DateTime: b"2023:02:07 10:00:00"},
        exif={piexif.ExifIFD.DateTimeOriginal: b"2023:02:06 04:17:35",
              piexif.ExifIFD.DateTimeDigitized: b"2023:02:06 04:17:36",
              piexif.ExifIFD.OffsetTimeOriginal: b"+03:00"},
        gps={piexif.GPSIFD.GPSVersionID: (2, 3, 0, 0),
             piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: dms(37, 10, 305, 10),
             piexif.GPSIFD.GPSLongitudeRef: b"E", piexif.GPSIFD.GPSLongitude: dms(37, 2, 1525, 100)})
    # Santiago de Chile: south-west; no DateTimeOriginal, so DateTimeDigitized (with its offset).
    # 33°26'56.4" S, 70°39'01.08" W.
    write_piexif(
        "exif_sw_digitized_mm.jpg",
        zeroth={piexif.ImageIFD.Orientation: 3},
        exif={piexif.ExifIFD.DateTimeDigitized: b"2010:02:27 03:34:08",
              piexif.ExifIFD.OffsetTimeDigitized: b"-03:00"},
        gps={piexif.GPSIFD.GPSLatitudeRef: b"S", piexif.GPSIFD.GPSLatitude: dms(33, 26, 564, 10),
             piexif.GPSIFD.GPSLongitudeRef: b"W", piexif.GPSIFD.GPSLongitude: dms(70, 39, 108, 100)})
    # Christchurch: south-east; only IFD0's DateTime, no offset, orientation 1.
    # 43°31'48" S, 172°38'13" E.
    write_piexif(
        "exif_se_datetime_mm.jpg",
        zeroth={piexif.ImageIFD.Orientation: 1, piexif.ImageIFD.DateTime: b"2011:02:22 12:51:00"},
        gps={piexif.GPSIFD.GPSLatitudeRef: b"S", piexif.GPSIFD.GPSLatitude: dms(43, 31, 48, 1),
             piexif.GPSIFD.GPSLongitudeRef: b"E", piexif.GPSIFD.GPSLongitude: dms(172, 38, 13, 1)})
    # Port-au-Prince: north-west, written by Pillow (little-endian). 18°32'36.6" N, 72°20'07.2" W.
    write_pillow("exif_nw_pillow_ii.jpg", orientation=8,
                 date_time_original="2010:01:12 16:53:10", offset_time_original="-05:00",
                 latitude=("N", dms(18, 32, 366, 10)), longitude=("W", dms(72, 20, 72, 10)))
    # Values that must all read as absent: the "unknown" date of the EXIF specification, a zero
    # seconds denominator in the latitude, an orientation of 9.
    write_piexif(
        "exif_invalid_values_mm.jpg",
        zeroth={piexif.ImageIFD.Orientation: 9},
        exif={piexif.ExifIFD.DateTimeOriginal: b"0000:00:00 00:00:00"},
        gps={piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: ((10, 1), (0, 1), (5, 0)),
             piexif.GPSIFD.GPSLongitudeRef: b"E", piexif.GPSIFD.GPSLongitude: dms(20, 0, 0, 1)})
    # No EXIF at all (JFIF only).
    base_image().save(os.path.join(HERE, "no_exif.jpg"), "JPEG", quality=90)
    # An XMP APP1 before the Exif APP1: the marker walk must skip it and find the second.
    exif_jpeg = os.path.join(HERE, "exif_ne_full_mm.jpg")
    with open(exif_jpeg, "rb") as f:
        data = f.read()
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta xmlns:x='adobe:ns:meta/'/>"
    segment = b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp
    assert data[:2] == b"\xff\xd8"
    with open(os.path.join(HERE, "exif_after_xmp.jpg"), "wb") as f:
        f.write(data[:2] + segment + data[2:])
    # Maker notes of the vendors libexif parses (Canon by the Make tag, the others by a header
    # inside the note), each a small IFD of inline values: the reader must ignore them, and the
    # fuzzer starts from them (Fuzz/corpus/exif/).
    for vendor, make, note in maker_notes():
        write_piexif(
            f"makernote_{vendor}_mm.jpg",
            zeroth={piexif.ImageIFD.Make: make, piexif.ImageIFD.Orientation: 5},
            exif={piexif.ExifIFD.DateTimeOriginal: b"2019:07:06 03:19:53", piexif.ExifIFD.MakerNote: note},
            gps={piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: dms(35, 46, 12, 1),
                 piexif.GPSIFD.GPSLongitudeRef: b"W", piexif.GPSIFD.GPSLongitude: dms(117, 36, 0, 1)})
    write_seeds()
    # Checks: every file decodes and carries what was written.
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".jpg"):
            with Image.open(os.path.join(HERE, name)) as image:
                image.load()
                assert image.size == (16, 16)


if __name__ == "__main__":
    main()
