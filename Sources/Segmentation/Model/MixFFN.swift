import Layers
import Tensor

/// SegFormer's Mix-FFN (`SegformerMixFFN`): dense -> 3x3 depthwise convolution (padding 1, with
/// bias) -> GELU (fused into the convolution's output pass in inference) -> dense. The convolution gives the tokens their position, so SegFormer needs
/// no position embeddings.
public final class MixFFN: CompositeLayer {
    public let name: String
    public let expand: Dense
    public let depthwise: DepthwiseConv2D
    public let activation: Activation
    public let project: Dense

    /// `name` is the module path of the block's `mlp`.
    init(name: String, hiddenSize: Int, expandedSize: Int, activation: Activation, rng: inout SeededGenerator) throws {
        self.name = name
        expand = try Dense(name: "\(name).dense1", inputSize: hiddenSize, outputSize: expandedSize, rng: &rng)
        depthwise = try DepthwiseConv2D(name: "\(name).dwconv.dwconv", inputChannels: expandedSize, kernelSize: (3, 3),
                                        padding: .same, rng: &rng)
        self.activation = activation
        project = try Dense(name: "\(name).dense2", inputSize: expandedSize, outputSize: hiddenSize, rng: &rng)
    }

    public var layers: [any Layer] { [expand, depthwise, project] }

    /// `[batch, height, width, hidden]` -> the same shape.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        let hidden = try depthwise(expand(input, training: training), training: training, then: activation)
        return try project(hidden, training: training)
    }
}
