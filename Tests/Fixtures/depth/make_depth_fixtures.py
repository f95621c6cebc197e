"""Reference fixtures for Depth Anything in Rubble (issue 16), written by transformers 5 + PyTorch + torchvision.
Usage: python make_depth_fixtures.py   (from anywhere; writes into this folder)

Reads the small random Depth Anything of ../segformer/depth (written by ../segformer/make_segformer_fixtures.py:
DINOv2 hidden 32, 4 layers, 2 heads, patch 14, image_size 56 = a 4x4 patch grid; neck 8/16/24/32, fusion 16,
head 8, relative) and the pictures ../img_97x61.png and ../img_hash_20x13.png. Writes (all float32 unless said):

Position embeddings interpolated to grids other than the config's 4x4 (bicubic, align_corners=False):
  pos_embed_3x5.npy   [1, 16, 32]  Dinov2Embeddings.interpolate_pos_encoding for a 42x70 input (CLS first)
  pos_embed_6x7.npy   [1, 43, 32]  the same for 84x98 (upsampling)
The model on a batch of two 42x70 inputs (a 3x5 grid):
  grid_pixel_values.npy  [2, 3, 42, 70]  NCHW, already normalised
  grid_features.npy      [4, 2, 16, 32]  the backbone's feature maps (out_indices 1..4, layernormed, CLS first)
  grid_predicted.npy     [2, 42, 70]     predicted_depth (relative inverse depth)
The whole pipeline on a photo (AutoImageProcessor = DPTImageProcessor, torchvision backend, size 56, keep aspect
ratio, multiple of 14, bicubic, ImageNet mean/std):
  pipeline_pixel_values.npy  [1, 3, 56, 84]  the processor's output for img_97x61.png
  pipeline_predicted.npy     [1, 56, 84]     predicted_depth of the model on it
More DPTImageProcessor outputs (torchvision backend):
  processed_upscale.npy  [1, 3, 42, 70]  size 70x70, keep_aspect_ratio, multiple of 14, bicubic, on img_hash_20x13.png
  processed_exact.npy    [1, 3, 30, 45]  size 30x45, no aspect ratio, multiple 1, bicubic, mean/std 0.5, on img_97x61.png
  dpt_sizes.json         get_resize_output_image_size(...) for many (height, width, size, keep, multiple): Python's
                         round() is round-half-even, e.g. 13x20 to 140 keeping the ratio gives 84x140, not 98x140
torch.nn.functional.interpolate(mode="bicubic") on bicubic_input.npy [1, 5, 4, 6] (NCHW):
  bicubic_<h>x<w>.npy, bicubic_<h>x<w>_corners.npy (align_corners=True)
nn.ConvTranspose2d (PyTorch layouts: x/y NCHW, weight [in, out, kh, kw]) for cases k4s4 (3->5 channels, stride 4,
no padding), k3s2p1 (4->3, kernel 3, stride 2, padding 1), k2s2 (2->2): convt_<case>_{x,weight,bias,y,dy,dx,dweight,
dbias}.npy with dy a random output gradient and dx, dweight, dbias the gradients of sum(y * dy)."""
import json, os
import numpy as np, torch
from PIL import Image
from transformers import AutoImageProcessor, DepthAnythingForDepthEstimation, DPTImageProcessor
from transformers.models.dpt.image_processing_dpt import get_resize_output_image_size
import transformers, torchvision

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.dirname(here)
torch.set_num_threads(2); torch.use_deterministic_algorithms(True); torch.manual_seed(16)
save = lambda name, array: np.save(os.path.join(here, name), np.ascontiguousarray(array))
model = DepthAnythingForDepthEstimation.from_pretrained(os.path.join(fixtures, "segformer", "depth")).eval()
mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1); std = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)

# Position embeddings on other grids.
embeddings = model.backbone.embeddings
with torch.no_grad():
    for (h, w) in [(42, 70), (84, 98)]:
        tokens = torch.zeros(1, 1 + (h // 14) * (w // 14), 32)
        save(f"pos_embed_{h // 14}x{w // 14}.npy", embeddings.interpolate_pos_encoding(tokens, h, w).numpy())

# The model on a 3x5 grid, batch 2 (smooth pictures, so the ReLU head is not all zero).
yy, xx = np.mgrid[0:42, 0:70].astype(np.float32)
pictures = np.stack([np.stack([0.5 + 0.4 * np.sin(xx / (6 + 3 * k) + k), 0.5 + 0.4 * np.cos(yy / (5 + k) - 2 * k),
                               0.3 + 0.2 * np.sin((xx + yy) / 9)], 0) for k in range(2)])
rs = np.random.RandomState(16)
grid = ((np.clip(pictures + 0.05 * rs.uniform(-1, 1, pictures.shape), 0, 1) - mean) / std).astype(np.float32)
with torch.no_grad():
    features = model.backbone(torch.from_numpy(grid)).feature_maps
    predicted = model(pixel_values=torch.from_numpy(grid)).predicted_depth
save("grid_pixel_values.npy", grid)
save("grid_features.npy", torch.stack(list(features)).numpy())
save("grid_predicted.npy", predicted.numpy())

# The pipeline on a photo.
processor = AutoImageProcessor.from_pretrained(os.path.join(fixtures, "segformer", "depth"))
photo = Image.open(os.path.join(fixtures, "img_97x61.png")).convert("RGB")
inputs = processor(images=photo, return_tensors="pt")
with torch.no_grad():
    pipeline = model(**inputs).predicted_depth
save("pipeline_pixel_values.npy", inputs["pixel_values"].numpy().astype(np.float32))
save("pipeline_predicted.npy", pipeline.numpy())

# More processor outputs.
small = Image.open(os.path.join(fixtures, "img_hash_20x13.png")).convert("RGB")
upscale = DPTImageProcessor(size={"height": 70, "width": 70}, keep_aspect_ratio=True, ensure_multiple_of=14,
                            resample=Image.BICUBIC, image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225])
save("processed_upscale.npy", upscale(images=small, return_tensors="np")["pixel_values"].astype(np.float32))
exact = DPTImageProcessor(size={"height": 30, "width": 45}, keep_aspect_ratio=False, ensure_multiple_of=1,
                          resample=Image.BICUBIC)
save("processed_exact.npy", exact(images=photo, return_tensors="np")["pixel_values"].astype(np.float32))
cases = []
for (h, w) in [(61, 97), (13, 20), (20, 13), (3000, 4000), (4000, 3000), (480, 640), (518, 518), (35, 20), (1, 1),
               (10, 10000), (7, 7), (100, 21)]:
    for (size, keep, multiple) in [((518, 518), True, 14), ((56, 56), True, 14), ((140, 140), True, 14),
                                   ((70, 98), True, 14), ((70, 98), False, 14), ((384, 384), False, 1), ((20, 20), True, 14)]:
        out = get_resize_output_image_size(torch.zeros(3, h, w), size, keep, multiple)
        cases.append({"height": h, "width": w, "size": list(size), "keep_aspect_ratio": keep, "multiple": multiple,
                      "out": [int(out.height), int(out.width)]})
json.dump({"transformers": transformers.__version__, "cases": cases}, open(os.path.join(here, "dpt_sizes.json"), "w"), indent=0)

# PyTorch's bicubic interpolation.
source = torch.randn(1, 5, 4, 6)
save("bicubic_input.npy", source.numpy())
for (h, w) in [(3, 5), (7, 9), (4, 6), (1, 1), (2, 11)]:
    save(f"bicubic_{h}x{w}.npy", torch.nn.functional.interpolate(source, size=(h, w), mode="bicubic", align_corners=False).numpy())
save("bicubic_7x9_corners.npy", torch.nn.functional.interpolate(source, size=(7, 9), mode="bicubic", align_corners=True).numpy())

# Transposed convolutions and their gradients.
for name, (cin, cout, k, s, p, shape) in {"k4s4": (3, 5, 4, 4, 0, (2, 3, 3, 2)), "k3s2p1": (4, 3, 3, 2, 1, (1, 4, 4, 5)),
                                         "k2s2": (2, 2, 2, 2, 0, (1, 2, 3, 3))}.items():
    layer = torch.nn.ConvTranspose2d(cin, cout, kernel_size=k, stride=s, padding=p)
    with torch.no_grad(): layer.bias.add_(0.1 * torch.randn(cout))
    x = torch.randn(*shape, requires_grad=True)
    y = layer(x); dy = torch.randn(y.shape)
    (y * dy).sum().backward()
    for part, value in [("x", x), ("weight", layer.weight), ("bias", layer.bias), ("y", y), ("dy", dy), ("dx", x.grad),
                        ("dweight", layer.weight.grad), ("dbias", layer.bias.grad)]:
        save(f"convt_{name}_{part}.npy", value.detach().numpy())

json.dump({"generator": "make_depth_fixtures.py", "transformers": transformers.__version__, "torch": torch.__version__,
           "torchvision": torchvision.__version__, "processor": type(processor).__name__,
           "pipeline_input": list(inputs["pixel_values"].shape)}, open(os.path.join(here, "manifest.json"), "w"), indent=1)
print("written", here, type(processor).__name__, tuple(inputs["pixel_values"].shape), tuple(predicted.shape))
