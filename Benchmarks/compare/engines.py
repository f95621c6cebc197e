"""Rubble next to the CPU engines a user would pick instead: TensorFlow (oneDNN), ONNX Runtime and OpenVINO,
on the same Keras models, same thread count, interleaved rounds, medians. Run it through compare.sh, which
makes the throwaway virtualenv:
    Benchmarks/compare/compare.sh [--models vgg19 resnet50 mobilenetv2] [--cases 150:32 150:1] [--rounds 3]

Each model is keras.applications' base without the top (tf_keras 2.21, random weights: speed does not depend
on the values), built for a fixed input shape. TensorFlow runs it as a tf.function (XLA off, oneDNN on, intra-op
threads = --threads, inter-op 1). The same model is exported to ONNX with tf2onnx (opset 17) for ONNX Runtime
(CPUExecutionProvider, intra_op_num_threads = --threads, all graph optimisations) and converted by
openvino.convert_model for OpenVINO (CPU, f32, INFERENCE_NUM_THREADS = --threads). Rubble runs
`rubble bench models --json` with RUBBLE_THREADS = --threads. Per round, every engine is warmed up three times
and timed over --runs passes at batch >= 8 (5x as many at batch 1), the median kept; the engines take turns
within a round, and the table gives the median over rounds of images/s, and of Rubble's per-round ratio to the
best other engine of that round."""
import argparse, json, os, platform, statistics, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("--rubble", required=True)
ap.add_argument("--models", nargs="*", default=["vgg19"])
ap.add_argument("--cases", nargs="*", default=["150:32", "150:1"], help="size:batch")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--json", help="also write the rows to this file")
a = ap.parse_args()

os.environ.update(TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="1",
                  OMP_NUM_THREADS=str(a.threads))
import numpy as np
import tensorflow as tf
import tf_keras as keras
import onnxruntime as ort
import openvino as ov
import tf2onnx

tf.config.threading.set_intra_op_parallelism_threads(a.threads)
tf.config.threading.set_inter_op_parallelism_threads(1)
APPLICATIONS = {
    "vgg16": keras.applications.VGG16, "vgg19": keras.applications.VGG19, "resnet50": keras.applications.ResNet50,
    "mobilenetv2": keras.applications.MobileNetV2, "efficientnetb0": keras.applications.EfficientNetB0,
}


def timed(call, batch):
    for _ in range(3):
        call()
    samples = []
    for _ in range(a.runs * (5 if batch == 1 else 1)):
        start = time.perf_counter(); call(); samples.append(time.perf_counter() - start)
    return batch / statistics.median(samples)


def engines(name, size, batch):
    """One callable per engine for this model and input shape."""
    keras.backend.clear_session()
    model = APPLICATIONS[name](include_top=False, weights=None, input_shape=(size, size, 3))
    x = np.random.default_rng(0).uniform(-1, 1, (batch, size, size, 3)).astype(np.float32)
    function = tf.function(lambda t: model(t, training=False), jit_compile=False)
    tensor = tf.constant(x)
    spec = (tf.TensorSpec((batch, size, size, 3), tf.float32, name="input"),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=17)
    options = ort.SessionOptions()
    options.intra_op_num_threads = a.threads; options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: x}
    compiled = ov.Core().compile_model(ov.convert_model(model, input=[(batch, size, size, 3)]), "CPU",
                                       {"INFERENCE_NUM_THREADS": a.threads, "INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    return {
        "tensorflow": lambda: function(tensor).numpy(),
        "onnxruntime": lambda: session.run(None, feed),
        "openvino": lambda: request.infer([x]),
    }


def rubble(name, size, batch):
    env = dict(os.environ, RUBBLE_THREADS=str(a.threads))
    env.pop("OMP_NUM_THREADS", None)
    out = subprocess.run([a.rubble, "bench", "models", "--models", name, "--cases", f"{size}:{batch}", "--runs",
                          str(a.runs), "--json"], env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)[0]["images_per_s"]


cases = [(m, *map(int, c.split(":"))) for m in a.models for c in a.cases]
built = {case: engines(*case) for case in cases}
names = ["tensorflow", "onnxruntime", "openvino", "rubble"]
results = {case: {n: [] for n in names} for case in cases}
ratios = {case: [] for case in cases}
for r in range(a.rounds):
    for case in cases:
        row = results[case]
        for engine, call in built[case].items():
            row[engine].append(timed(call, case[2]))
        row["rubble"].append(rubble(*case))
        best = max(row[e][-1] for e in names[:-1])
        ratios[case].append(row["rubble"][-1] / best)
        print(f"round {r + 1}: {case[0]} {case[1]}x{case[1]} batch {case[2]}: " +
              ", ".join(f"{e} {row[e][-1]:.1f}" for e in names), file=sys.stderr, flush=True)

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print(f"{cpu}, {a.threads} threads, fp32; images/s, median of {a.rounds} interleaved rounds")
print(f"TensorFlow {tf.__version__}, ONNX Runtime {ort.__version__}, OpenVINO {ov.__version__}")
print(f"{'model':14s} {'size':>4s} {'batch':>5s} " + " ".join(f"{n:>11s}" for n in names) + "   rubble/best")
rows = []
for case in cases:
    medians = {n: statistics.median(results[case][n]) for n in names}
    ratio = statistics.median(ratios[case])
    print(f"{case[0]:14s} {case[1]:4d} {case[2]:5d} " + " ".join(f"{medians[n]:11.2f}" for n in names) +
          f"   {ratio:6.2f}x")
    rows.append({"model": case[0], "image_size": case[1], "batch": case[2], "images_per_s": medians,
                 "rubble_over_best": ratio})
if a.json:
    with open(a.json, "w") as f:
        json.dump({"cpu": cpu, "threads": a.threads, "rows": rows}, f, indent=2)
