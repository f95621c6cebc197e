import Tensor

/// A step of a model: maps its input batch (or, for merge layers such as `Add`, several) to an
/// output batch, and describes itself: its Keras class, its output shape, its weights and
/// state in Keras' variable order, and whether it is deterministic.
///
/// Layers are reference types so that a model, its optimizer and a weights loader all see
/// the same parameters.
public protocol Layer: AnyObject {
    /// The Keras layer name (`block5_conv1`, `dense_1`): weights files match on it.
    var name: String { get }
    /// This layer's own weights and state in Keras' order (kernel, then bias; gamma, beta,
    /// moving_mean, moving_variance); containers list all of theirs.
    var parameters: [Parameter] { get }
    /// The output for `input`; `training` switches dropout (and batch statistics) on.
    func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor

    /// The Keras class this layer corresponds to (`Conv2D`, `BatchNormalization`): weights files
    /// and `rubble inspect` use it.
    var kerasClassName: String { get }
    /// Output shape (batch included) for inputs of these shapes, without running the layer.
    func outputShape(for inputs: [Shape]) throws -> Shape
    /// Whether the same input always gives the same output in training mode too (false for
    /// dropout): a frozen deterministic prefix can be cached.
    var isDeterministic: Bool { get }
    /// How many inputs the layer takes: 1, or `nil` for any number >= 2 (merge layers).
    var inputArity: Int? { get }
    /// The output for `inputs` (one tensor for ordinary layers): what the graph executor calls.
    func forward(_ inputs: [Tensor], training: Bool) throws -> Tensor
}

extension Layer {
    /// Inference-mode call.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try self(input, training: false)
    }

    public var kerasClassName: String { String(describing: type(of: self)) }
    public var isDeterministic: Bool { true }
    public var inputArity: Int? { 1 }

    public func forward(_ inputs: [Tensor], training: Bool) throws -> Tensor {
        guard inputs.count == 1 else {
            throw LayerError.wrongInputCount(layer: name, expected: "1", got: inputs.count)
        }
        return try self(inputs[0], training: training)
    }

    /// By default the layer is run once on a batch of zeros (layers with cheap shape rules
    /// override this).
    public func outputShape(for inputs: [Shape]) throws -> Shape {
        try withoutGradients { try forward(inputs.map { Tensor(zeros: $0) }, training: false).shape }
    }

    /// The output shape for one input of `input`.
    public func outputShape(for input: Shape) throws -> Shape { try outputShape(for: [input]) }

    /// Whether any of this layer's weights is trainable.
    public var isTrainable: Bool { parameters.contains { $0.isTrainable } }

    /// Freezes (or unfreezes) every weight of this layer; state stays non-trainable.
    public func setTrainable(_ trainable: Bool) {
        for parameter in parameters where parameter.role == .weight { parameter.isTrainable = trainable }
    }

    /// The weights (trainable or frozen), without state.
    public var weights: [Parameter] { parameters.filter { $0.role == .weight } }
    /// The state the layer updates itself (BatchNorm moving statistics).
    public var state: [Parameter] { parameters.filter { $0.role == .state } }
}

/// A layer made of named sub-layers (`Sequential`, `Graph`, a base inside a transfer model).
public protocol LayerContainer: Layer {
    var layers: [any Layer] { get }
}

extension Layer {
    /// This layer and, for containers, every layer inside it, depth first.
    public var flattenedLayers: [any Layer] {
        guard let container = self as? any LayerContainer else { return [self] }
        return container.layers.flatMap { $0.flattenedLayers }
    }
}

/// A layer whose output shape equals its input shape (activations, dropout, BatchNorm).
public protocol ShapePreservingLayer: Layer {}

extension ShapePreservingLayer {
    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard inputs.count == 1 else {
            throw LayerError.wrongInputCount(layer: name, expected: "1", got: inputs.count)
        }
        return inputs[0]
    }
}

/// A shape-preserving layer with per-channel values (BatchNormalization, Normalization, a
/// per-channel Rescaling): its input's last axis must have `requiredChannels` entries.
public protocol ChannelwiseLayer: ShapePreservingLayer {
    /// The channel count the layer's values need; `nil` when any count works.
    var requiredChannels: Int? { get }
    /// The smallest input rank (2 where a batch axis is needed besides the channels).
    var minimumRank: Int { get }
}

extension ChannelwiseLayer {
    public var minimumRank: Int { 1 }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard inputs.count == 1 else {
            throw LayerError.wrongInputCount(layer: name, expected: "1", got: inputs.count)
        }
        try checkChannels(inputs[0])
        return inputs[0]
    }

    /// Throws `shapeMismatch` unless `shape` ends in `requiredChannels`.
    func checkChannels(_ shape: Shape) throws {
        let batch = minimumRank >= 2 ? "batch, " : ""
        guard shape.rank >= minimumRank else {
            throw LayerError.shapeMismatch(layer: name, expected: "[\(batch)..., \(requiredChannels.map(String.init) ?? "channels")]", got: shape)
        }
        guard let channels = requiredChannels else { return }
        guard shape.rank >= 1, shape[shape.rank - 1] == channels else {
            throw LayerError.shapeMismatch(layer: name, expected: "[\(batch)..., \(channels)]", got: shape)
        }
    }
}
