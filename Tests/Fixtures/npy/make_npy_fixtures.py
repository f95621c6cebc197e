"""Writes the .npy files NPYFileTests reads (numpy 2.4; no other dependency).

    python3 make_npy_fixtures.py --out Tests/Fixtures/npy

Each array is small and its values are spelled out in Tests/TensorTests/NPYFileTests.swift.
"""
import argparse
import os

import numpy as np
from numpy.lib import format as npformat

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
out = parser.parse_args().out
os.makedirs(out, exist_ok=True)


def save(name, array, version=None):
    with open(os.path.join(out, name + ".npy"), "wb") as f:
        npformat.write_array(f, array, version=version, allow_pickle=False)


save("f4_2x3", np.arange(6, dtype="<f4").reshape(2, 3) * np.float32(0.5) - np.float32(1))
save("f8_3", np.array([1.5, -2.25, 1e-3], dtype="<f8"))
save("i8_2x2", np.array([[0, 1], [2, 255]], dtype="<i8"))
save("i4_4", np.array([-7, 0, 3, 2**31 - 1], dtype="<i4"))
save("u1_2x2x2", np.arange(8, dtype=np.uint8).reshape(2, 2, 2) * np.uint8(30))
save("b1_3", np.array([True, False, True]))
save("f4_scalar", np.array(3.25, dtype="<f4"))
save("f4_0x3", np.zeros((0, 3), dtype="<f4"))
save("f4_v2", np.array([1, 2, 3], dtype="<f4"), version=(2, 0))
save("f4_v3", np.array([[4], [5]], dtype="<f4"), version=(3, 0))
save("f4_depth_4x6", (np.arange(24, dtype="<f4").reshape(4, 6) + 1) * np.float32(0.25))
# Refused: Fortran order, big-endian, half precision, a structured dtype.
save("f4_fortran_2x3", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
save("f4_bigendian", np.array([1, 2], dtype=">f4"))
save("f2", np.array([1, 2], dtype="<f2"))
save("structured", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
