"""Depth Anything inference: Rubble next to PyTorch eager (transformers) in the same run, interleaved rounds.

Run it in a throwaway virtualenv outside the repository (PyPI: torch, transformers, safetensors):
    python3 -m venv /tmp/venv-torch && /tmp/venv-torch/bin/pip install torch transformers safetensors
    swift build -c release --product rubble
    /tmp/venv-torch/bin/python Benchmarks/compare/depth_anything_pytorch.py --rubble .build/release/rubble [--rounds 3]

transformers builds Depth Anything V2 Small (Depth-Anything-V2-Small-hf's config.json: DINOv2-Small, hidden 384,
12 layers, 6 heads, patch 14, image 518, out_indices 3/6/9/12; neck 48/96/192/384, reassemble factors 4/2/1/0.5,
fusion 64, head 32, relative depth) with random weights, locally (no hub download), and saves it with
save_pretrained into a temporary folder; Rubble loads the same folder (`rubble bench depth --model DIR --json`).
Both run the forward pass to predicted_depth at the input resolution on --threads threads
(torch.set_num_threads; Rubble's RUBBLE_THREADS and OPENBLAS_NUM_THREADS), fp32, inference mode, on random
--size x --size inputs (518: a 37x37 patch grid, the position embeddings' own). Per round and batch size: PyTorch
is warmed up twice and timed over 5 passes (15 at batch 1), the median kept; then Rubble's own benchmark does the
same. The table prints the median over rounds of each engine's latency (ms per batch) and of their per-round ratio
(Rubble's latency over PyTorch's: below 1 is faster). That the two agree is checked by the test suite
(DepthAnythingFixtureTests, DepthPreprocessorTests), not here."""
import argparse, json, os, subprocess, sys, tempfile, time
import torch
from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

ap = argparse.ArgumentParser()
ap.add_argument("--rubble", required=True); ap.add_argument("--size", type=int, default=518)
ap.add_argument("--batches", type=int, nargs="*", default=[1]); ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=3)
a = ap.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(0)
backbone = Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, patch_size=14, image_size=518,
                        out_features=["stage3", "stage6", "stage9", "stage12"], out_indices=[3, 6, 9, 12],
                        reshape_hidden_states=False)
config = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=384, neck_hidden_sizes=[48, 96, 192, 384],
                             reassemble_factors=[4, 2, 1, 0.5], fusion_hidden_size=64, head_hidden_size=32,
                             depth_estimation_type="relative")
model = DepthAnythingForDepthEstimation(config).eval()
folder = tempfile.mkdtemp(prefix="depth-anything-v2-s-"); model.save_pretrained(folder, safe_serialization=True)
env = dict(os.environ, RUBBLE_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))

def torch_ms(batch):
    x = torch.randn(batch, 3, a.size, a.size)
    with torch.inference_mode():
        for _ in range(2): model(pixel_values=x)
        samples = []
        for _ in range(15 if batch == 1 else 5):
            start = time.perf_counter(); model(pixel_values=x); samples.append(time.perf_counter() - start)
    return 1e3 * sorted(samples)[len(samples) // 2]

def rubble_ms(batch):
    out = subprocess.run([a.rubble, "bench", "depth", "--model", folder, "--size", str(a.size), "--batches", str(batch),
                          "--json"], env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)[0]["ms_per_batch"]

median = lambda v: sorted(v)[len(v) // 2]
print(f"torch {torch.__version__}, {a.threads} threads, Depth Anything V2 Small {a.size}x{a.size}, {a.rounds} interleaved rounds",
      file=sys.stderr)
rows = {b: {"torch": [], "rubble": [], "ratio": []} for b in a.batches}
for r in range(a.rounds):
    for b in a.batches:
        t = torch_ms(b); s = rubble_ms(b)
        rows[b]["torch"].append(t); rows[b]["rubble"].append(s); rows[b]["ratio"].append(s / t)
        print(f"round {r + 1} batch {b}: torch {t:.1f} rubble {s:.1f} ms", file=sys.stderr, flush=True)
print("engine           size  batch   ms/batch")
for b in a.batches:
    print(f"pytorch-eager   {a.size:5d}  {b:5d}  {median(rows[b]['torch']):9.1f}")
    print(f"rubble          {a.size:5d}  {b:5d}  {median(rows[b]['rubble']):9.1f}   latency ratio {median(rows[b]['ratio']):.2f}x")
