"""OpenVINO's throughput on the backbones `rubble bench models` times, for a ratio in the same session.

Run it in a throwaway virtualenv outside the repository, next to `rubble bench models`:
    python3 -m venv /tmp/venv-compare
    /tmp/venv-compare/bin/pip install tensorflow-cpu==2.21.* tf_keras==2.21.* openvino
    /tmp/venv-compare/bin/python Benchmarks/compare/backbones_openvino.py [--threads 2]
    .build/release/rubble bench models
Each model is built by tf_keras (`keras.applications`, include_top=False, random weights), converted with
openvino.convert_model for a fixed input shape, compiled for the CPU in f32 with the given threads, warmed up
three times, then timed (15 runs at batch 1, 5 at batch 32; the median). Printed as the rows of
`rubble bench models`: model, size, batch, images/s, ms per batch."""
import os, time, argparse
os.environ["TF_USE_LEGACY_KERAS"] = "1"; os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np, tf_keras as keras, openvino as ov

ap = argparse.ArgumentParser(); ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--cases", nargs="*", default=["224:1", "224:32", "150:32"])
args = ap.parse_args()
MODELS = {
    "resnet50": lambda s: keras.applications.ResNet50(include_top=False, weights=None, input_shape=(s, s, 3)),
    "mobilenetv2": lambda s: keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(s, s, 3)),
    "efficientnetb0": lambda s: keras.applications.EfficientNetB0(include_top=False, weights=None, input_shape=(s, s, 3)),
}
core = ov.Core()
print(f"OpenVINO {ov.__version__}, {args.threads} threads, f32")
print("model           size  batch   images/s   ms/batch")
for name, build in MODELS.items():
    for case in args.cases:
        size, batch = (int(v) for v in case.split(":"))
        compiled = core.compile_model(ov.convert_model(build(size), input=[(batch, size, size, 3)]), "CPU",
                                      {"INFERENCE_NUM_THREADS": args.threads, "INFERENCE_PRECISION_HINT": "f32"})
        request = compiled.create_infer_request()
        x = np.random.rand(batch, size, size, 3).astype(np.float32)
        for _ in range(3): request.infer([x])
        samples = []
        for _ in range(15 if batch == 1 else 5):
            start = time.perf_counter(); request.infer([x]); samples.append(time.perf_counter() - start)
        seconds = sorted(samples)[len(samples) // 2]
        print(f"{name:14s} {size:5d}  {batch:5d}  {batch / seconds:9.2f}  {seconds * 1e3:9.2f}", flush=True)
        keras.backend.clear_session()
