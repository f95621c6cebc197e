import HuggingFaceFiles
import Layers
import Tensor

/// SegFormer for semantic segmentation (`SegformerForSemanticSegmentation`, any MiT size b0-b5):
/// the Mix Transformer encoder and the all-MLP decode head, built from a Hugging Face
/// `config.json`. Layers are named by their PyTorch module paths
/// (`segformer.encoder.block.0.1.attention.self.query`), so the weights load by name.
///
/// Activations are NHWC: pixel values `[batch, height, width, 3]` (normalised as the image
/// processor does), logits `[batch, height / 4, width / 4, classes]` (Hugging Face's are NCHW).
/// Every LayerNorm uses PyTorch's default epsilon 1e-5, as transformers' modules construct them
/// (`nn.LayerNorm(hidden_size)`); `config.layer_norm_eps` is not read by the PyTorch model.
public final class Segformer: CompositeLayer {
    public let name = "segformer"
    public let configuration: SegformerConfiguration
    public let encoder: MixTransformerEncoder
    public let decodeHead: SegformerDecodeHead
    /// PyTorch's `num_batches_tracked` of the decode head's BatchNorm, carried through to saved folders.
    public var batchNormSteps: Int64 = 0

    /// Random weights (Keras-style initialisers), seeded: load a folder for real ones. The
    /// configuration is validated first (`HuggingFaceError.invalidConfig` names the key).
    public init(configuration: SegformerConfiguration, seed: UInt64 = 0) throws {
        try configuration.validate(file: "SegFormer configuration")
        self.configuration = configuration
        var rng = SeededGenerator(seed: seed)
        let activation = try Segformer.activation(configuration.hiddenAct)
        let totalBlocks = configuration.depths.reduce(0, +)
        var stages: [EncoderStage] = []
        var inputChannels = configuration.numChannels
        var blockIndex = 0
        for stage in 0..<configuration.numEncoderBlocks {
            let hidden = configuration.hiddenSizes[stage]
            let embedding = try OverlapPatchEmbedding(
                name: "segformer.encoder.patch_embeddings.\(stage)", inputChannels: inputChannels, hiddenSize: hidden,
                patchSize: configuration.patchSizes[stage], stride: configuration.strides[stage], rng: &rng)
            var blocks: [TransformerBlock] = []
            for index in 0..<configuration.depths[stage] {
                // Stochastic depth grows linearly from 0 to drop_path_rate over all blocks (torch.linspace).
                let rate = totalBlocks > 1 ? Float(configuration.dropPathRate) * Float(blockIndex) / Float(totalBlocks - 1) : 0
                blocks.append(try TransformerBlock(
                    name: "segformer.encoder.block.\(stage).\(index)", hiddenSize: hidden,
                    heads: configuration.numAttentionHeads[stage], reductionRatio: configuration.srRatios[stage],
                    mlpRatio: configuration.mlpRatios[stage], activation: activation, dropPathRate: rate,
                    seed: seed &+ UInt64(2 * blockIndex + 1), rng: &rng))
                blockIndex += 1
            }
            let norm = try LayerNormalization(name: "segformer.encoder.layer_norm.\(stage)", features: hidden)
            stages.append(EncoderStage(name: "segformer.encoder.stage.\(stage)", embedding: embedding, blocks: blocks, norm: norm))
            inputChannels = hidden
        }
        encoder = MixTransformerEncoder(stages: stages)
        decodeHead = try SegformerDecodeHead(stageSizes: configuration.hiddenSizes, decoderSize: configuration.decoderHiddenSize,
                                             classes: configuration.numLabels,
                                             dropoutRate: Float(configuration.classifierDropoutProb),
                                             seed: seed &+ 7919, rng: &rng)
    }

    public var layers: [any Layer] { [encoder, decodeHead] }
    public var classNames: [String] { configuration.classNames }
    public var classCount: Int { configuration.numLabels }

    /// `[batch, height, width, channels]` -> logits `[batch, height / 4, width / 4, classes]`
    /// (sizes rounded as the strided convolutions round them). Inference of several images runs
    /// them one at a time, side by side on the cores (``Tensor/itemByItem(_:_:)``): nothing in
    /// the model mixes images without gradients, and one image's activations stay in cache.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        if !training && !Autograd.isRecording && input.rank == 4 && input.shape[0] > 1 {
            return try Tensor.itemByItem(input) { try self.logits(of: $0, training: false) }
        }
        return try logits(of: input, training: training)
    }

    private func logits(of input: Tensor, training: Bool) throws -> Tensor {
        try decodeHead.logits(hiddenStates: hiddenStates(input, training: training), training: training)
    }

    /// The encoder's stage outputs, NHWC.
    public func hiddenStates(_ input: Tensor, training: Bool) throws -> [Tensor] {
        guard input.rank == 4, input.shape[3] == configuration.numChannels else {
            throw LayerError.shapeMismatch(layer: name, expected: "[batch, height, width, \(configuration.numChannels)]",
                                           got: input.shape)
        }
        return try encoder.hiddenStates(input, training: training)
    }

    static func activation(_ name: String) throws -> Activation {
        switch name {
        case "gelu": return .gelu
        case "relu": return .relu
        default:
            throw LayerError.invalidConfiguration(layer: "segformer", setting: "hidden_act \(name)", requirement: "must be gelu or relu")
        }
    }
}
