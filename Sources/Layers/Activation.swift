import Tensor

/// The activations Keras layers take as an argument.
public enum Activation: String, Sendable, CaseIterable {
    case linear, relu, softmax

    public func apply(_ x: Tensor) -> Tensor {
        switch self {
        case .linear: return x
        case .relu: return x.relu()
        case .softmax: return x.softmax()
        }
    }
}

/// `max(x, 0)` as a layer of its own.
public final class ReLU: ShapePreservingLayer {
    public let name: String
    public init(name: String = "re_lu") { self.name = name }
    public var parameters: [Parameter] { [] }
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor { input.relu() }
}

/// Softmax over the last axis as a layer of its own.
public final class Softmax: SoftmaxOutputLayer, ShapePreservingLayer {
    public let name: String
    public init(name: String = "softmax") { self.name = name }
    public var parameters: [Parameter] { [] }
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor { input.softmax() }
    public func logits(_ input: Tensor, training: Bool) throws -> Tensor { input }
}
