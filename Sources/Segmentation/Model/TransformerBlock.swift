import Layers
import Tensor

/// One SegFormer encoder layer (`SegformerLayer`): `x + DropPath(Attention(LN(x)))`, then
/// `x + DropPath(MixFFN(LN(x)))`. Drop path (stochastic depth) drops a sample's whole branch in
/// training with the block's rate and scales kept branches by `1 / (1 - rate)`.
public final class TransformerBlock: CompositeLayer {
    public let name: String
    public let attentionNorm: LayerNormalization
    public let attention: EfficientSelfAttention
    public let feedForwardNorm: LayerNormalization
    public let feedForward: MixFFN
    /// `nil` when the block's drop-path rate is 0.
    public let dropPath: (attention: Dropout, feedForward: Dropout)?

    /// `name` is the module path, e.g. `segformer.encoder.block.0.1`.
    init(name: String, hiddenSize: Int, heads: Int, reductionRatio: Int, mlpRatio: Int, activation: Activation,
         dropPathRate: Float, seed: UInt64, rng: inout SeededGenerator) throws {
        self.name = name
        attentionNorm = try LayerNormalization(name: "\(name).layer_norm_1", features: hiddenSize)
        attention = try EfficientSelfAttention(name: "\(name).attention", hiddenSize: hiddenSize, heads: heads,
                                               reductionRatio: reductionRatio, rng: &rng)
        feedForwardNorm = try LayerNormalization(name: "\(name).layer_norm_2", features: hiddenSize)
        feedForward = try MixFFN(name: "\(name).mlp", hiddenSize: hiddenSize, expandedSize: hiddenSize * mlpRatio,
                                 activation: activation, rng: &rng)
        if dropPathRate > 0 {
            dropPath = (try Dropout(name: "\(name).drop_path.attention", rate: dropPathRate, seed: seed, noiseShape: .perSample),
                        try Dropout(name: "\(name).drop_path.mlp", rate: dropPathRate, seed: seed &+ 1, noiseShape: .perSample))
        } else {
            dropPath = nil
        }
    }

    public var layers: [any Layer] {
        [attentionNorm, attention, feedForwardNorm, feedForward] + (dropPath.map { [$0.attention, $0.feedForward] } ?? [])
    }

    /// `[batch, height, width, hidden]` -> the same shape.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        var branch = try attention(attentionNorm(input, training: training), training: training)
        if let dropPath { branch = try dropPath.attention(branch, training: training) }
        let (x, normalized) = try feedForwardNorm.normalizingSum(input, branch)
        var ffn = try feedForward(normalized, training: training)
        if let dropPath { ffn = try dropPath.feedForward(ffn, training: training) }
        return x + ffn
    }
}
