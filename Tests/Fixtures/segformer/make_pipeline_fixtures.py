"""The whole transformers pipeline on a photo, for `rubble segment`'s parity test (SegmenterTests).
Usage: python make_pipeline_fixtures.py   (in this folder; transformers 5 + torch + torchvision + PIL)

Reads the fixture model `segformer/` (written by make_segformer_fixtures.py) and `../img_97x61.png`, runs
AutoImageProcessor.from_pretrained (SegformerImageProcessor, 64x64, torchvision backend in transformers 5),
the model in eval mode, and post_process_semantic_segmentation(target_sizes=[(61, 97)]). Writes:
  pipeline_logits.npy  [3, 16, 16] float32: logits[0] (NCHW, what `rubble segment` writes as _logits.npy)
  pipeline_mask.npy    [61, 97] uint8: the class of every pixel at the photo's size"""
import numpy as np, torch
from PIL import Image
from transformers import AutoImageProcessor, SegformerForSemanticSegmentation

torch.set_num_threads(2)
model = SegformerForSemanticSegmentation.from_pretrained("segformer").eval()
processor = AutoImageProcessor.from_pretrained("segformer")
image = Image.open("../img_97x61.png").convert("RGB")
inputs = processor(images=image, return_tensors="pt")
with torch.no_grad():
    outputs = model(**inputs)
mask = processor.post_process_semantic_segmentation(outputs, target_sizes=[(image.height, image.width)])[0]
np.save("pipeline_logits.npy", outputs.logits[0].numpy().astype(np.float32))
np.save("pipeline_mask.npy", mask.numpy().astype(np.uint8))
print(type(processor).__name__, outputs.logits.shape, mask.shape, np.bincount(mask.numpy().ravel(), minlength=3))
