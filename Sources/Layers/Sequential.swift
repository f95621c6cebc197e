import Tensor

/// Layers applied in order, like Keras' `Sequential`.
public final class Sequential: LayerContainer {
    public let name: String
    public private(set) var layers: [any Layer] {
        didSet { planCache.invalidate() }
    }
    private let planCache = PlanCache()

    /// Throws `LayerError.duplicateLayerName` when two layers (at any depth) share a name:
    /// weights files, freezing and Grad-CAM find layers by name.
    public init(name: String = "sequential", _ layers: [any Layer]) throws {
        self.name = name
        self.layers = layers
        try Self.checkUniqueNames(flattenedLayers, model: name)
    }

    /// Adds `layer` at the end; throws `LayerError.duplicateLayerName` if its name (or a
    /// nested layer's) is taken.
    public func append(_ layer: any Layer) throws {
        try Self.checkUniqueNames(flattenedLayers + ((layer as? any LayerContainer)?.flattenedLayers ?? [layer]),
                                  model: name)
        layers.append(layer)
    }

    static func checkUniqueNames(_ layers: [any Layer], model: String) throws {
        var seen = Set<String>()
        for layer in layers where !seen.insert(layer.name).inserted {
            throw LayerError.duplicateLayerName(layer.name, model: model)
        }
    }

    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }
    public var isDeterministic: Bool { layers.allSatisfy { $0.isDeterministic } }

    /// The plan this model runs through (built once, rebuilt after `append`).
    public func plan() throws -> ExecutionPlan { try planCache.plan(for: self) }

    /// Outside training and gradient recording, through the inference plan (batch
    /// normalisation folded into convolutions, activations fused, dropout skipped).
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        if Self.runsInferencePlan(training: training) {
            return try planCache.inferencePlan(for: self).forward(input, training: false)
        }
        return try plan().forward(input, training: training)
    }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard inputs.count == 1 else { throw LayerError.wrongInputCount(layer: name, expected: "1", got: inputs.count) }
        return try layers.reduce(inputs[0]) { try $1.outputShape(for: [$0]) }
    }

    /// The output before the final softmax (a final `Dense` with softmax gives its
    /// pre-activation; a final `Softmax` layer is skipped). Losses take these.
    public func logits(_ input: Tensor, training: Bool = false) throws -> Tensor {
        if Self.runsInferencePlan(training: training) {
            return try planCache.inferencePlan(for: self).logits(input, training: false)
        }
        return try plan().logits(input, training: training)
    }

    /// The layer (at any depth) with this name.
    public func layer(named name: String) throws -> any Layer {
        guard let found = flattenedLayers.first(where: { $0.name == name }) else {
            throw LayerError.unknownLayer(name)
        }
        return found
    }

    /// Whether `name` is `prefix` itself or starts with `prefix_` (`block1` matches
    /// `block1_conv1`, not `block10_conv1`).
    static func name(_ name: String, isIn prefix: String) -> Bool {
        name == prefix || name.hasPrefix(prefix + "_")
    }

    /// Freezes every layer up to and including the last one named `prefix` or `prefix_…`
    /// (`"block4"` freezes blocks 1-4 of a VGG), and unfreezes the rest.
    @discardableResult
    public func freeze(through prefix: String) throws -> [String] {
        let all = flattenedLayers
        guard let last = all.lastIndex(where: { Self.name($0.name, isIn: prefix) }) else {
            throw LayerError.unknownLayer(prefix)
        }
        for (index, layer) in all.enumerated() { layer.setTrainable(index > last) }
        return all[...last].map(\.name)
    }

    /// Freezes or unfreezes the layers named `prefix` or `prefix_…`.
    public func setTrainable(_ trainable: Bool, layersWithPrefix prefix: String) throws {
        let matching = flattenedLayers.filter { Self.name($0.name, isIn: prefix) }
        guard !matching.isEmpty else { throw LayerError.unknownLayer(prefix) }
        for layer in matching { layer.setTrainable(trainable) }
    }
}
