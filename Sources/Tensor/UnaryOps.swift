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
    /// -104 and exactly 1 above about 17 in float32. Gradient `g y (1 - y)`.
    public func sigmoid() -> Tensor {
        let out = Tensor.map(self) { Tensor.logistic($0) }
        let y = out.detached
        return out.recordingGradient(from: self) { grad in
            Tensor.zip(grad, y, "sigmoid'") { g, y in g * (y * (1 - y)) }
        }
    }

    /// Swish / SiLU, `x · sigmoid(x)` (Keras `swish`, `tf.nn.silu`). The gradient is computed
    /// from `x`: `g s (1 + x (1 - s))` with `s = sigmoid(x)`, finite for any finite `x`.
    public func swish() -> Tensor {
        let x = detached
        return Tensor.map(self) { $0 * Tensor.logistic($0) }.recordingGradient(from: self) { grad in
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
    /// `hidden_act: gelu`; not the tanh approximation), with `erf` from ``VectorMath`` (within
    /// 1.5e-7). Gradient `g (Φ(x) + x φ(x))`.
    public func gelu() -> Tensor {
        let x = detached
        let out = Tensor.vectorMap(self) { v in 0.5 * v * (1 + VectorMath.erf(v * Float(0.5.squareRoot()))) }
        return out.recordingGradient(from: self) { grad in
            let derivative = Tensor.vectorMap(x) { v in
                let cdf = 0.5 * (1 + VectorMath.erf(v * Float(0.5.squareRoot())))
                let pdf = VectorMath.exp(-0.5 * v * v) * Float(1 / (2 * Double.pi).squareRoot())
                return cdf + v * pdf
            }
            return Tensor.zip(grad, derivative, "gelu'") { $0 * $1 }
        }
    }

    /// `body` on every element, eight at a time, split over the cores.
    static func vectorMap(_ x: Tensor, _ body: (VectorMath.Vector) -> VectorMath.Vector) -> Tensor {
        let out = Tensor.uninitialized(x.shape)
        let src = UncheckedSendable(x.storage.base), dst = UncheckedSendable(out.storage.base)
        let blocks = (x.count + 7) / 8
        Parallel.forEachRange(blocks, grain: elementwiseGrain / 8) { range in
            let start = range.lowerBound * 8, end = Swift.min(range.upperBound * 8, x.count)
            VectorMath.apply(src.value + start, dst.value + start, count: end - start, body)
        }
        return out
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
