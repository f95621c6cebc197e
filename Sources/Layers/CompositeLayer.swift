import Tensor

/// A layer whose forward pass is ordinary Swift over named sub-layers and tensor ops, as PyTorch
/// modules are written (a transformer block, an attention layer). The executor runs it as one
/// step, so it can be stopped at or tapped by its own name; `flattenedLayers`, `parameters`,
/// freezing and checkpoints see every sub-layer inside it.
public protocol CompositeLayer: LayerContainer {}

extension CompositeLayer {
    /// Every sub-layer's weights and state, in `layers` order.
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    /// Deterministic when every sub-layer is.
    public var isDeterministic: Bool { layers.allSatisfy(\.isDeterministic) }
    /// The class name (composites have no Keras counterpart).
    public var kerasClassName: String { String(describing: type(of: self)) }
}
