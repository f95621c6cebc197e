import CKernels
import Foundation

/// Elementwise functions of one tensor (any shape, result of the same shape) with gradients
/// as TensorFlow defines them: activations of MobileNet / EfficientNet style models and the
/// square roots of normalisation layers. NaN passes through every one of them.
extension Tensor {
    /// `√x`. Gradient `g / (2√x)` (infinite at 0, as in TensorFlow).
    public func sqrt() -> Tensor {
        let out = Tensor.map(self) { $0.squareRoot() }
        let y = out.detached
        return out.recordingGradient(from: self) { grad in
            Tensor.zip(grad, y, "sqrt'") { g, y in g * 0.5 / y }
        }
    }

    /// `1 / √x`. Gradient `-g y³ / 2` from the output `y` (TensorFlow's `RsqrtGrad`).
    public func rsqrt() -> Tensor {
        let out = Tensor.map(self) { 1 / $0.squareRoot() }
        let y = out.detached
        return out.recordingGradient(from: self) { grad in
            Tensor.zip(grad, y, "rsqrt'") { g, y in -0.5 * g * (y * y * y) }
        }
    }

    /// The logistic function `1 / (1 + e⁻ˣ)`, evaluated without overflow: exactly 0 below about
    /// -104 and exactly 1 above about 17 in float32 (``Kernels``). Gradient `g y (1 - y)`.
    public func sigmoid() -> Tensor {
        let out = Tensor.kernelMap(self, rubble_sigmoid)
        let y = out.detached
        return out.recordingGradient(from: self) { grad in
            Tensor.zip(grad, y, "sigmoid'") { g, y in g * (y * (1 - y)) }
        }
    }

    /// Swish / SiLU, `x · sigmoid(x)` (Keras `swish`, `tf.nn.silu`). The gradient is computed
    /// from `x`: `g s (1 + x (1 - s))` with `s = sigmoid(x)`, finite for any finite `x`.
    public func swish() -> Tensor {
        let x = detached
        return Tensor.kernelMap(self, rubble_swish).recordingGradient(from: self) { grad in
            Tensor.zip(grad, x, "swish'") { g, x in
                let s = Tensor.logistic(x)
                return g * (s * (1 + x * (1 - s)))
            }
        }
    }

    /// `min(max(x, 0), 6)`. The gradient passes strictly inside `(0, 6)` and is 0 elsewhere,
    /// including at 0 and 6 (TensorFlow's `Relu6Grad`).
    public func relu6() -> Tensor {
        let x = detached
        return Tensor.map(self) { Tensor.clampToSix($0) }.recordingGradient(from: self) { grad in
            Tensor.zip(grad, x, "relu6'") { g, x in x > 0 && x < 6 ? g : 0 }
        }
    }

    /// Hard sigmoid `relu6(x + 3) / 6`: 0 for x <= -3, 1 for x >= 3, `x/6 + 1/2` between. This
    /// is Keras 3's `keras.activations.hard_sigmoid` and the `hard_sigmoid` of tf_keras'
    /// MobileNetV3 (`ReLU(6.)(x + 3.) * (1. / 6.)`), the one pretrained MobileNetV3 weights need.
    /// It is *not* tf_keras 2.x's `keras.activations.hard_sigmoid`, which is
    /// `clip(0.2 x + 0.5, 0, 1)`. Gradient `g / 6` strictly inside `(-3, 3)`, 0 elsewhere.
    public func hardSigmoid() -> Tensor {
        let x = detached
        return Tensor.map(self) { Tensor.clampToSix($0 + 3) / 6 }.recordingGradient(from: self) { grad in
            Tensor.zip(grad, x, "hardSigmoid'") { g, x in
                let t = x + 3
                return t > 0 && t < 6 ? g / 6 : 0
            }
        }
    }

    /// GELU in its exact form, `x Φ(x) = x (1 + erf(x / √2)) / 2` (PyTorch's `gelu`, Hugging Face's
    /// `hidden_act: gelu`; not the tanh approximation), with `erf` from ``Kernels`` (within
    /// 5e-7). Gradient `g (Φ(x) + x φ(x))`.
    public func gelu() -> Tensor {
        let x = detached
        return Tensor.kernelMap(self, rubble_gelu).recordingGradient(from: self) { grad in
            precondition(grad.shape == x.shape, "gelu': gradient \(grad.shape) for \(x.shape)")
            let dx = Tensor.uninitialized(x.shape)
            let xs = UncheckedSendable(x.storage.base), gs = UncheckedSendable(grad.storage.base)
            let ds = UncheckedSendable(dx.storage.base)
            Parallel.forEachRange(x.count, grain: Tensor.elementwiseGrain) { range in
                let start = range.lowerBound
                rubble_gelu_backward(xs.value + start, gs.value + start, ds.value + start, range.count)
            }
            return dx
        }
    }

    /// `1 / (1 + e⁻ˣ)` through `eˣ / (1 + eˣ)` for negative `x`, so `exp` never overflows.
    @inline(__always)
    static func logistic(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }

    /// `min(max(x, 0), 6)`, NaN passing through.
    @inline(__always)
    static func clampToSix(_ x: Float) -> Float { x < 0 ? 0 : (x > 6 ? 6 : x) }
}
