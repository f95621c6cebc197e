"""Float64 references for the backbone fixtures written by make_backbone_fixtures.py.

The float32 outputs that script saved carry TensorFlow's own float32 rounding (oneDNN kernels),
which on the MobileNetV2 fixture reaches 7e-6 in the probabilities: as much as the tolerance of
1e-5 that Rubble's tests hold their own float32 results to. This script rebuilds the same nets
with tf_keras in float64, loads NET_transfer.h5 and writes what float32 implementations should
approach:
  NET_probs_f64.npy, NET_logits_f64.npy   [4, 2] float64, on NET_x.npy (inference mode)
Usage: python make_float64_references.py --dir DIR   (DIR holds the fixtures; tf_keras 2.21)"""
import os, argparse
os.environ["TF_USE_LEGACY_KERAS"] = "1"; os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np, tensorflow as tf, tf_keras as keras
from tf_keras.src.applications import resnet, efficientnet

ap = argparse.ArgumentParser(); ap.add_argument("--dir", required=True); d = ap.parse_args().dir
keras.backend.set_floatx("float64")


def mini_resnet50(S):
    def stack_fn(x):
        x = resnet.stack1(x, 8, 3, stride1=1, name="conv2")
        x = resnet.stack1(x, 16, 4, name="conv3")
        x = resnet.stack1(x, 32, 6, name="conv4")
        return resnet.stack1(x, 64, 3, name="conv5")
    return resnet.ResNet(stack_fn, False, True, "resnet50", include_top=False, weights=None, input_shape=(S, S, 3))


NETS = {  # the same builders and trainable prefixes as make_backbone_fixtures.py (the weight order depends on them)
    "resnet50": (lambda S: mini_resnet50(S), ("conv5_",)),
    "mobilenetv2": (lambda S: keras.applications.MobileNetV2(input_shape=(S, S, 3), alpha=0.35, include_top=False, weights=None),
                    ("block_16_", "Conv_1")),
    "efficientnetb0": (lambda S: efficientnet.EfficientNet(0.25, 0.34, S, dropout_rate=0.0, drop_connect_rate=0.0, model_name="efficientnetb0",
                                                           include_top=False, weights=None, input_shape=(S, S, 3)), ("block7", "top_")),
}
for name, (build, trainable) in NETS.items():
    base = build(96)
    for l in base.layers:
        l.trainable = l.name.startswith(trainable)
    m = keras.Sequential([base, keras.layers.GlobalAveragePooling2D(name="global_average_pooling2d"),
                          keras.layers.Dense(2, activation="softmax", name="dense")], name=f"{name}_transfer")
    m.build((None, 96, 96, 3))
    m.load_weights(f"{d}/{name}_transfer.h5")
    x = np.load(f"{d}/{name}_x.npy").astype(np.float64)
    features = m.layers[1](base(x, training=False)).numpy()
    kernel, bias = m.layers[2].get_weights()
    logits = features @ kernel + bias
    probs = m.predict(x, verbose=0)
    assert np.allclose(tf.nn.softmax(logits).numpy(), probs, atol=1e-12)
    np.save(f"{d}/{name}_probs_f64.npy", probs); np.save(f"{d}/{name}_logits_f64.npy", logits)
    print(name, "float32 fixture vs float64:", np.abs(np.load(f"{d}/{name}_probs.npy") - probs).max(), flush=True)
    keras.backend.clear_session()
