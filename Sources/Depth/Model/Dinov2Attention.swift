import Layers
import Tensor

/// DINOv2's self-attention (`Dinov2Attention` as stored: `attention.attention.{query,key,value}`
/// and `attention.output.dense`): multi-head scaled dot-product attention over all tokens, the
/// class token included, then the output projection.
public final class Dinov2Attention: CompositeLayer {
    public let name: String
    public let heads: Int
    public let query: Dense, key: Dense, value: Dense
    public let output: Dense
    private let packedProjection = PackedProjection()

    /// `name` is the module path of the layer's `attention`, e.g. `backbone.encoder.layer.0.attention`.
    init(name: String, hiddenSize: Int, heads: Int, rng: inout SeededGenerator) throws {
        self.name = name
        self.heads = heads
        query = try Dense(name: "\(name).attention.query", inputSize: hiddenSize, outputSize: hiddenSize, rng: &rng)
        key = try Dense(name: "\(name).attention.key", inputSize: hiddenSize, outputSize: hiddenSize, rng: &rng)
        value = try Dense(name: "\(name).attention.value", inputSize: hiddenSize, outputSize: hiddenSize, rng: &rng)
        output = try Dense(name: "\(name).output.dense", inputSize: hiddenSize, outputSize: hiddenSize, rng: &rng)
    }

    public var layers: [any Layer] { [query, key, value, output] }

    /// `[batch, tokens, hidden]` -> the same shape. Without gradients the three projections are
    /// one GEMM (``PackedProjection``) whose output the attention reads in place.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.rank == 3, input.shape[2] == query.inputSize else {
            throw LayerError.shapeMismatch(layer: name, expected: "[batch, tokens, \(query.inputSize)]", got: input.shape)
        }
        if !training && !Autograd.isRecording {
            let (weight, bias) = packedProjection.packed([query, key, value])
            let (batch, tokens, channels) = (input.shape[0], input.shape[1], input.shape[2])
            let qkv = Tensor.linear(input.reshaped([batch * tokens, channels]), weight: weight, bias: bias)
            let context = Tensor.multiHeadAttention(packed: qkv.reshaped([batch, tokens, 3 * query.outputSize]), heads: heads)
            return try output(context, training: false)
        }
        let context = Tensor.multiHeadAttention(query: try query(input, training: training),
                                                key: try key(input, training: training),
                                                value: try value(input, training: training), heads: heads)
        return try output(context, training: training)
    }
}
