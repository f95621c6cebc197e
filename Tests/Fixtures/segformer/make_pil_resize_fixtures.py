#!/usr/bin/env python3
"""PIL resize references for Vision's PILResample / ImageProcessor / ClassMask tests
(Tests/VisionTests/PILResampleTests.swift). Run in Tests/Fixtures/segformer:

    python3 -m venv /tmp/venv-pil && /tmp/venv-pil/bin/pip install pillow==13.0.0 numpy
    (cd Tests/Fixtures/segformer && /tmp/venv-pil/bin/python make_pil_resize_fixtures.py)

Written with Pillow 13.0.0 and numpy 2.4. Inputs: ../img_97x61.png (the RGB fixture of
make_mini_fixtures.py) and two files written here. Outputs (uint8 unless said, HWC row-major):
  pil_<filter>_<W>x<H>.npy        Image.open("../img_97x61.png").resize((W, H), filter): downscales
                                  (antialiased), upscales, mixed ones, and shapes whose height shrinks
                                  more than twice as much as the width (Pillow 13 runs the vertical
                                  pass first there)
  pil_gray_bilinear_40x25.npy     the same image .convert("L").resize((40, 25), BILINEAR) [25, 40]
  mask_97x61_p.png                a palette ("P") mask: indices 0..5 in blocks and stripes, 255 at a
                                  border, a 256-colour palette (indices != colours)
  mask_97x61_p_indices.npy        np.array(Image.open(mask_97x61_p.png)) [61, 97]: the indices
  mask_nearest_<W>x<H>.npy        Image.open(mask_97x61_p.png).resize((W, H), NEAREST) as indices
  depth_16bit.png, depth_16bit.npy  a 16-bit grayscale PNG (mode "I;16") and its values as float32
  processed_bicubic_140x98.npy    transformers' resize -> rescale -> normalize replicated with numpy
                                  (image_transforms.rescale: float64 product cast to float32;
                                  normalize: float32 (x - mean) / std) on PIL's bicubic 140x98,
                                  mean 0.5, std 0.5 (DPT's defaults) [98, 140, 3] float32
"""
import numpy as np
from PIL import Image

src = Image.open("../img_97x61.png").convert("RGB")
assert src.size == (97, 61)
F = {"nearest": Image.NEAREST, "box": Image.BOX, "bilinear": Image.BILINEAR, "hamming": Image.HAMMING,
     "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}
cases = [
    ("bilinear", 40, 25), ("bilinear", 150, 211), ("bilinear", 64, 64), ("bilinear", 90, 20), ("bilinear", 150, 30),
    ("bilinear", 97, 30), ("bilinear", 50, 61),
    ("bicubic", 40, 25), ("bicubic", 140, 98), ("bicubic", 90, 20), ("bicubic", 13, 200),
    ("lanczos", 50, 70), ("hamming", 33, 20), ("box", 30, 17), ("nearest", 40, 25), ("nearest", 150, 211),
]
for name, w, h in cases:
    np.save(f"pil_{name}_{w}x{h}.npy", np.asarray(src.resize((w, h), F[name]), dtype=np.uint8))
np.save("pil_gray_bilinear_40x25.npy", np.asarray(src.convert("L").resize((40, 25), Image.BILINEAR), dtype=np.uint8))

# palette mask: classes in blocks and stripes, 255 (ignore) along the left border
yy, xx = np.mgrid[0:61, 0:97]
indices = ((xx // 13 + yy // 9) % 6).astype(np.uint8)
indices[(xx + 2 * yy) % 23 == 0] = 5
indices[:, :3] = 255
mask = Image.fromarray(indices, mode="L").convert("P")  # keeps the values as indices
mask.putpalette([(7 * i) % 256 for i in range(3 * 256)])
mask.save("mask_97x61_p.png")
back = Image.open("mask_97x61_p.png")
assert back.mode == "P"
np.save("mask_97x61_p_indices.npy", np.asarray(back, dtype=np.uint8))
assert (np.asarray(back) == indices).all()
for w, h in [(40, 25), (150, 211), (64, 64)]:
    np.save(f"mask_nearest_{w}x{h}.npy", np.asarray(back.resize((w, h), Image.NEAREST), dtype=np.uint8))

# 16-bit depth map
depth = ((xx * 613 + yy * 1031) % 65536).astype(np.uint16)
depth[0, 0], depth[-1, -1] = 65535, 0
Image.fromarray(depth).save("depth_16bit.png")
read = np.asarray(Image.open("depth_16bit.png"))
assert (read == depth).all(), "16-bit round trip"
np.save("depth_16bit.npy", read.astype(np.float32))

# transformers' rescale + normalize on a bicubic resize (DPT-like statistics)
resized = np.asarray(src.resize((140, 98), Image.BICUBIC))
rescaled = (resized.astype(np.float64) * (1 / 255)).astype(np.float32)
mean, std = np.array([0.5] * 3, dtype=np.float32), np.array([0.5] * 3, dtype=np.float32)
np.save("processed_bicubic_140x98.npy", ((rescaled - mean) / std).astype(np.float32))
print("ok")
