import Layers
import Tensor

/// SegFormer's efficient self-attention (`SegformerEfficientSelfAttention` + `SegformerSelfOutput`):
/// multi-head attention whose keys and values come from the input reduced spatially by a strided
/// convolution of kernel = stride = `reductionRatio`, then LayerNorm (none when the ratio is 1),
/// followed by the output projection.
public final class EfficientSelfAttention: CompositeLayer {
    public let name: String
    public let heads: Int
    public let query: Dense, key: Dense, value: Dense
    /// The spatial reduction of keys and values (`sr`) and its LayerNorm; `nil` at ratio 1.
    public let reduction: (convolution: Conv2D, norm: LayerNormalization)?
    public let output: Dense

    /// `name` is the module path of the block's `attention`, e.g. `segformer.encoder.block.0.1.attention`.
    init(name: String, hiddenSize: Int, heads: Int, reductionRatio: Int, rng: inout SeededGenerator) throws {
        self.name = name
        self.heads = heads
        let path = "\(name).self"
        query = try Dense(name: "\(path).query", inputSize: hiddenSize, outputSize: hiddenSize, rng: &rng)
        key = try Dense(name: "\(path).key", inputSize: hiddenSize, outputSize: hiddenSize, rng: &rng)
        value = try Dense(name: "\(path).value", inputSize: hiddenSize, outputSize: hiddenSize, rng: &rng)
        if reductionRatio > 1 {
            reduction = (try Conv2D(name: "\(path).sr", inputChannels: hiddenSize, filters: hiddenSize,
                                    kernelSize: (reductionRatio, reductionRatio), stride: (reductionRatio, reductionRatio),
                                    padding: .valid, activation: .linear, rng: &rng),
                         try LayerNormalization(name: "\(path).layer_norm", features: hiddenSize))
        } else {
            reduction = nil
        }
        output = try Dense(name: "\(name).output.dense", inputSize: hiddenSize, outputSize: hiddenSize, rng: &rng)
    }

    public var layers: [any Layer] {
        [query, key, value] + (reduction.map { [$0.convolution, $0.norm] } ?? []) + [output]
    }

    /// `[batch, height, width, hidden]` -> the same shape.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.rank == 4 else {
            throw LayerError.shapeMismatch(layer: name, expected: "[batch, height, width, channels]", got: input.shape)
        }
        let (batch, channels) = (input.shape[0], input.shape[3])
        let queries = try query(input, training: training).reshaped([batch, input.shape[1] * input.shape[2], channels])
        var source = input
        if let reduction {
            source = try reduction.norm(reduction.convolution(input, training: training), training: training)
        }
        let tokens = source.shape[1] * source.shape[2]
        let keys = try key(source, training: training).reshaped([batch, tokens, channels])
        let values = try value(source, training: training).reshaped([batch, tokens, channels])
        let context = Tensor.multiHeadAttention(query: queries, key: keys, value: values, heads: heads)
        return try output(context.reshaped(input.shape), training: training)
    }
}
