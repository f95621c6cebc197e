import Layers
import Tensor

/// One stage of the Mix Transformer encoder: patch embedding, transformer blocks, LayerNorm.
public final class EncoderStage: CompositeLayer {
    public let name: String
    public let embedding: OverlapPatchEmbedding
    public let blocks: [TransformerBlock]
    public let norm: LayerNormalization

    init(name: String, embedding: OverlapPatchEmbedding, blocks: [TransformerBlock], norm: LayerNormalization) {
        self.name = name
        self.embedding = embedding
        self.blocks = blocks
        self.norm = norm
    }

    public var layers: [any Layer] { [embedding] + blocks + [norm] }

    /// `[batch, height, width, in]` -> `[batch, height / stride, width / stride, hidden]`
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        var x = try embedding(input, training: training)
        for block in blocks { x = try block(x, training: training) }
        return try norm(x, training: training)
    }
}

/// SegFormer's hierarchical encoder (MiT, `SegformerEncoder`): four stages at 1/4, 1/8, 1/16 and
/// 1/32 of the input, each stage's output the next one's input.
public final class MixTransformerEncoder: CompositeLayer {
    public let name = "segformer.encoder"
    public let stages: [EncoderStage]

    init(stages: [EncoderStage]) { self.stages = stages }

    public var layers: [any Layer] { stages }

    /// The last stage's output.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        try hiddenStates(input, training: training).last ?? input
    }

    /// Every stage's output, NHWC: `[batch, height / 4, width / 4, hidden_0]`, ... (Hugging Face's
    /// `hidden_states`, which are NCHW).
    public func hiddenStates(_ input: Tensor, training: Bool) throws -> [Tensor] {
        var states: [Tensor] = []
        var x = input
        for stage in stages {
            x = try stage(x, training: training)
            states.append(x)
        }
        return states
    }
}
