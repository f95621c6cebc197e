import HuggingFaceFiles
import Layers
import Tensor

/// DINOv2's embeddings (`Dinov2Embeddings`): a `patch x patch` convolution of stride `patch`
/// (`patch_embeddings.projection`; sizes that are not multiples of the patch are floored, as
/// PyTorch's convolution floors them), then the class token and position embeddings.
public final class Dinov2Embeddings: CompositeLayer {
    public let name: String
    public let projection: Conv2D
    public let tokens: TokenEmbeddings

    init(name: String, configuration c: Dinov2Configuration, initializerRange: Float, rng: inout SeededGenerator) throws {
        self.name = name
        projection = try Conv2D(name: "\(name).patch_embeddings.projection", inputChannels: c.numChannels,
                                filters: c.hiddenSize, kernelSize: (c.patchSize, c.patchSize),
                                stride: (c.patchSize, c.patchSize), padding: .valid, activation: .linear, rng: &rng)
        tokens = TokenEmbeddings(name: name, channels: c.hiddenSize, grid: c.positionGrid, maskToken: c.useMaskToken,
                                 initializerRange: initializerRange, rng: &rng)
    }

    public var layers: [any Layer] { [projection, tokens] }

    /// Pixels `[batch, height, width, channels]` -> tokens `[batch, 1 + (height/p)·(width/p), hidden]`.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        try tokens(projection(input, training: training), training: training)
    }
}

/// The DINOv2 backbone of Depth Anything (`Dinov2Backbone`): embeddings, transformer layers and
/// the final LayerNorm, which is applied to each hidden state handed to the neck
/// (`apply_layernorm`). Tokens are `[batch, 1 + h·w, hidden]`, the class token first and the
/// patches in row order (PyTorch's `flatten(2).transpose(1, 2)`).
public final class Dinov2Backbone: CompositeLayer {
    public let name = "backbone"
    public let configuration: Dinov2Configuration
    public let embeddings: Dinov2Embeddings
    public let encoderLayers: [Dinov2Layer]
    public let norm: LayerNormalization

    init(configuration c: Dinov2Configuration, initializerRange: Float, rng: inout SeededGenerator) throws {
        configuration = c
        embeddings = try Dinov2Embeddings(name: "backbone.embeddings", configuration: c, initializerRange: initializerRange,
                                          rng: &rng)
        let epsilon = Float(c.layerNormEps)
        encoderLayers = try (0..<c.numHiddenLayers).map { index in
            try Dinov2Layer(name: "backbone.encoder.layer.\(index)", hiddenSize: c.hiddenSize, heads: c.numAttentionHeads,
                            mlpSize: c.mlpHiddenSize, epsilon: epsilon, layerScale: Float(c.layerscaleValue), rng: &rng)
        }
        norm = try LayerNormalization(name: "backbone.layernorm", features: c.hiddenSize, epsilon: epsilon)
    }

    public var layers: [any Layer] { [embeddings] + encoderLayers + [norm] }

    /// The last feature map (the neck uses ``features(_:training:)``).
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        guard let last = try features(input, training: training).last else { return input }
        return last
    }

    /// The hidden states of `configuration.outIndices` (0: the embeddings, `i`: after layer `i`),
    /// each through the final LayerNorm when `apply_layernorm`: `[batch, 1 + h·w, hidden]`
    /// each, in index order (what `feature_maps` holds).
    public func features(_ input: Tensor, training: Bool) throws -> [Tensor] {
        let wanted = Set(configuration.outIndices)
        let last = configuration.outIndices.max() ?? 0
        var x = try embeddings(input, training: training)
        var features: [Tensor] = []
        func keep(_ state: Tensor) throws {
            features.append(configuration.applyLayernorm ? try norm(state, training: training) : state)
        }
        if wanted.contains(0) { try keep(x) }
        for (index, layer) in encoderLayers.enumerated() where index < last {
            x = try layer(x, training: training)
            if wanted.contains(index + 1) { try keep(x) }
        }
        return features
    }
}
