"""SegFormer inference: Rubble next to PyTorch eager (transformers) in the same run, interleaved rounds.

Run it in a throwaway virtualenv outside the repository (PyPI: torch, transformers, safetensors):
    python3 -m venv /tmp/venv-torch && /tmp/venv-torch/bin/pip install torch transformers safetensors
    swift build -c release --product rubble
    /tmp/venv-torch/bin/python Benchmarks/compare/segformer_pytorch.py --rubble .build/release/rubble [--rounds 3]

transformers builds SegFormer-B0 (SegformerConfig's defaults: MiT-b0, decoder 256) with 3 labels and random
weights and saves it with save_pretrained into a temporary folder; Rubble loads the same folder
(`rubble bench segment --model DIR --json`). Both run the forward pass to the logits at 1/4 resolution on
--threads threads (torch.set_num_threads; Rubble's RUBBLE_THREADS and OPENBLAS_NUM_THREADS), fp32, inference
mode. Per round and batch size: PyTorch is warmed up twice and timed over 5 passes (15 at batch 1), the median
kept; then Rubble's own benchmark does the same. The table prints the median over rounds of each engine's
images/s and of their per-round ratio. Both run the same saved model; that their logits agree is checked by the
test suite (SegformerFixtureTests, SegmenterTests), not here."""
import argparse, json, os, subprocess, sys, tempfile, time
import numpy as np, torch
from transformers import SegformerConfig, SegformerForSemanticSegmentation

ap = argparse.ArgumentParser()
ap.add_argument("--rubble", required=True); ap.add_argument("--size", type=int, default=512)
ap.add_argument("--batches", type=int, nargs="*", default=[1, 8]); ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=3)
a = ap.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(0)
config = SegformerConfig(num_labels=3, id2label={0: "undamaged_structure", 1: "damaged_structure", 2: "debris"},
                         label2id={"undamaged_structure": 0, "damaged_structure": 1, "debris": 2})
model = SegformerForSemanticSegmentation(config).eval()
folder = tempfile.mkdtemp(prefix="segformer-b0-"); model.save_pretrained(folder, safe_serialization=True)
env = dict(os.environ, RUBBLE_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))

def torch_images_per_s(batch):
    x = torch.randn(batch, 3, a.size, a.size)
    with torch.inference_mode():
        for _ in range(2): model(pixel_values=x)
        samples = []
        for _ in range(15 if batch == 1 else 5):
            start = time.perf_counter(); model(pixel_values=x); samples.append(time.perf_counter() - start)
    return batch / sorted(samples)[len(samples) // 2]

def rubble_images_per_s(batch):
    out = subprocess.run([a.rubble, "bench", "segment", "--model", folder, "--size", str(a.size), "--batches", str(batch),
                          "--json"], env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)[0]["images_per_s"]

median = lambda v: sorted(v)[len(v) // 2]
print(f"torch {torch.__version__}, {a.threads} threads, SegFormer-B0 {a.size}x{a.size}, {a.rounds} interleaved rounds",
      file=sys.stderr)
rows = {b: {"torch": [], "rubble": [], "ratio": []} for b in a.batches}
for r in range(a.rounds):
    for b in a.batches:
        t = torch_images_per_s(b); s = rubble_images_per_s(b)
        rows[b]["torch"].append(t); rows[b]["rubble"].append(s); rows[b]["ratio"].append(s / t)
        print(f"round {r + 1} batch {b}: torch {t:.2f} rubble {s:.2f} images/s", file=sys.stderr, flush=True)
print("engine           size  batch   images/s")
for b in a.batches:
    print(f"pytorch-eager   {a.size:5d}  {b:5d}  {median(rows[b]['torch']):9.2f}")
    print(f"rubble          {a.size:5d}  {b:5d}  {median(rows[b]['rubble']):9.2f}   ratio {median(rows[b]['ratio']):.2f}x")
