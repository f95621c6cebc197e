import Tensor

/// Layer normalisation over the last axis: Keras' `LayerNormalization(axis=-1)` and PyTorch's
/// `nn.LayerNorm(d)`. `y = (x - mean) / √(var + epsilon) · gamma + beta` with each position's
/// own mean and biased variance over its `d` features; the same in training and inference.
/// Weights in Keras' order: `gamma`, `beta` (PyTorch's `weight`, `bias`), both `[d]`.
public final class LayerNormalization: ShapePreservingLayer {
    public let name: String
    public let gamma: Parameter
    public let beta: Parameter
    public let epsilon: Float

    /// `epsilon` defaults to PyTorch's 1e-5 (Keras' default is 1e-3: pass it for Keras models).
    public init(name: String, features: Int, epsilon: Float = 1e-5) throws {
        guard features >= 1 else {
            throw LayerError.invalidConfiguration(layer: name, setting: "features \(features)", requirement: "must be >= 1")
        }
        guard epsilon > 0, epsilon.isFinite else {
            throw LayerError.invalidConfiguration(layer: name, setting: "epsilon \(epsilon)", requirement: "must be finite and > 0")
        }
        self.name = name
        gamma = Parameter(name: "gamma", value: Tensor(repeating: 1, shape: [features]))
        beta = Parameter(name: "beta", value: Tensor(zeros: [features]))
        self.epsilon = epsilon
    }

    public var features: Int { gamma.shape[0] }
    public var parameters: [Parameter] { [gamma, beta] }

    /// `[..., features]` -> the same shape.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.rank >= 1, input.shape.dims.last == features else {
            throw LayerError.shapeMismatch(layer: name, expected: "[..., \(features)]", got: input.shape)
        }
        return input.layerNormalized(gamma: gamma.tracked, beta: beta.tracked, epsilon: epsilon)
    }

    /// `a + b` and its normalisation in one pass (a residual add followed by this norm), both
    /// `[..., features]`.
    public func normalizingSum(_ a: Tensor, _ b: Tensor) throws -> (sum: Tensor, normalized: Tensor) {
        guard a.rank >= 1, a.shape.dims.last == features, b.shape == a.shape else {
            throw LayerError.shapeMismatch(layer: name, expected: "two of [..., \(features)], the same",
                                           got: a.shape == b.shape ? a.shape : b.shape)
        }
        return a.addingLayerNormalized(b, gamma: gamma.tracked, beta: beta.tracked, epsilon: epsilon)
    }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard inputs.count == 1, inputs[0].rank >= 1, inputs[0].dims.last == features else {
            throw LayerError.shapeMismatch(layer: name, expected: "[..., \(features)]", got: inputs.first ?? [])
        }
        return inputs[0]
    }
}
