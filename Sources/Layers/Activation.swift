import Tensor

/// The activations Keras layers take as an argument (`activation="swish"`).
public enum Activation: String, Sendable, CaseIterable {
    case linear, relu, softmax, sigmoid, swish
    /// The exact (erf) GELU of PyTorch and Hugging Face's `hidden_act: gelu`.
    case gelu

    public func apply(_ x: Tensor) -> Tensor {
        switch self {
        case .linear: return x
        case .relu: return x.relu()
        case .softmax: return x.softmax()
        case .sigmoid: return x.sigmoid()
        case .swish: return x.swish()
        case .gelu: return x.gelu()
        }
    }
}

/// Keras' `Activation` layer (`Activation("relu", name="conv1_relu")`).
public final class ActivationLayer: ShapePreservingLayer {
    public let name: String
    public let activation: Activation
    public init(name: String, _ activation: Activation) {
        self.name = name
        self.activation = activation
    }
    public var parameters: [Parameter] { [] }
    public var kerasClassName: String { "Activation" }
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor { activation.apply(input) }
}

/// Keras' `ReLU` layer: `max(x, 0)`, capped at `maxValue` when given (`ReLU(6.0)` in MobileNetV2).
public final class ReLU: ShapePreservingLayer {
    public let name: String
    /// `6` for ReLU6; `nil` for no cap.
    public let maxValue: Float?

    /// Only caps of 6 (ReLU6) and none are supported.
    public init(name: String = "re_lu", maxValue: Float? = nil) {
        self.name = name
        self.maxValue = maxValue
    }
    public var parameters: [Parameter] { [] }
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        guard let maxValue else { return input.relu() }
        guard maxValue == 6 else {
            throw LayerError.invalidConfiguration(layer: name, setting: "max value \(maxValue)", requirement: "must be 6 or none")
        }
        return input.relu6()
    }
}

/// Softmax over the last axis as a layer of its own.
public final class Softmax: SoftmaxOutputLayer, ShapePreservingLayer {
    public let name: String
    public init(name: String = "softmax") { self.name = name }
    public var parameters: [Parameter] { [] }
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor { input.softmax() }
    public func logits(_ input: Tensor, training: Bool) throws -> Tensor { input }
}
