import Tensor

/// A layer of two or more inputs (`Add`, `Multiply`, `Concatenate`): it runs through
/// `forward(_:training:)`; a single-input call is refused.
public protocol MergeLayer: Layer {}

extension MergeLayer {
    public var parameters: [Parameter] { [] }
    public var inputArity: Int? { nil }

    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        throw LayerError.wrongInputCount(layer: name, expected: ">= 2", got: 1)
    }
}

/// Keras' `Add`: the elementwise sum of two or more inputs of the same shape (a residual
/// connection).
public final class Add: MergeLayer {
    public let name: String
    public init(name: String) { self.name = name }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        try MergeShapes.broadcast(inputs, layer: name)
    }

    public func forward(_ inputs: [Tensor], training: Bool) throws -> Tensor {
        _ = try outputShape(for: inputs.map(\.shape))
        return inputs.dropFirst().reduce(inputs[0]) { $0 + $1 }
    }
}

/// Keras' `Multiply`: the elementwise product of two or more inputs, broadcasting as NumPy
/// does (squeeze-and-excitation multiplies `[batch, h, w, c]` by `[batch, 1, 1, c]`).
public final class Multiply: MergeLayer {
    public let name: String
    public init(name: String) { self.name = name }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        try MergeShapes.broadcast(inputs, layer: name)
    }

    public func forward(_ inputs: [Tensor], training: Bool) throws -> Tensor {
        let shape = try outputShape(for: inputs.map(\.shape))
        // The ops broadcast the right operand into the left one's shape: put the full-size input first.
        var ordered = inputs
        if let full = ordered.firstIndex(where: { $0.shape == shape }), full != 0 { ordered.swapAt(0, full) }
        return ordered.dropFirst().reduce(ordered[0]) { $0 * $1 }
    }
}

/// Keras' `Concatenate` along the last axis (channels): inputs must agree on every other axis.
public final class Concatenate: MergeLayer {
    public let name: String
    public init(name: String) { self.name = name }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard inputs.count >= 2 else { throw LayerError.wrongInputCount(layer: name, expected: ">= 2", got: inputs.count) }
        let first = inputs[0]
        guard first.rank >= 1 else {
            throw LayerError.shapeMismatch(layer: name, expected: "inputs of rank >= 1", got: first)
        }
        for shape in inputs.dropFirst() where shape.rank != first.rank || shape.dims.dropLast() != first.dims.dropLast() {
            throw LayerError.shapeMismatch(layer: name, expected: "\(Array(first.dims.dropLast())) + [channels]", got: shape)
        }
        return Shape(first.dims.dropLast() + [inputs.reduce(0) { $0 + $1.dims[$1.rank - 1] }])
    }

    public func forward(_ inputs: [Tensor], training: Bool) throws -> Tensor {
        let shape = try outputShape(for: inputs.map(\.shape))
        let widths = inputs.map { $0.shape[$0.rank - 1] }
        let total = shape[shape.rank - 1]
        let rows = shape.count / max(total, 1)
        let output = Tensor(unsafeUninitializedShape: shape) { out in
            var offset = 0
            for (input, width) in zip(inputs, widths) {
                input.withUnsafeBufferPointer { x in
                    for r in 0..<rows {
                        (out.baseAddress! + r * total + offset).update(from: x.baseAddress! + r * width, count: width)
                    }
                }
                offset += width
            }
        }
        var pullbacks: [(Tensor, Pullback)] = []
        var offset = 0
        for (input, width) in zip(inputs, widths) {
            let start = offset
            pullbacks.append((input, { grad in
                Tensor(unsafeUninitializedShape: input.shape) { dx in
                    grad.withUnsafeBufferPointer { g in
                        for r in 0..<rows {
                            (dx.baseAddress! + r * width).update(from: g.baseAddress! + r * total + start, count: width)
                        }
                    }
                }
            }))
            offset += width
        }
        return output.recordingGradient(from: pullbacks)
    }
}

enum MergeShapes {
    /// The common broadcast shape of `inputs`, or a `shapeMismatch` naming the layer.
    static func broadcast(_ inputs: [Shape], layer: String) throws -> Shape {
        guard inputs.count >= 2 else { throw LayerError.wrongInputCount(layer: layer, expected: ">= 2", got: inputs.count) }
        var shape = inputs[0]
        for other in inputs.dropFirst() {
            guard let joined = Shape.broadcast(shape, other) else {
                throw LayerError.shapeMismatch(layer: layer, expected: "a shape that broadcasts with \(shape)", got: other)
            }
            shape = joined
        }
        return shape
    }
}
