import Layers
import Tensor

/// One DINOv2 transformer layer (`Dinov2Layer`): `x + LayerScale(Attention(LN(x)))`, then
/// `x + LayerScale(MLP(LN(x)))`, both norms with the configuration's `layer_norm_eps`. Drop
/// path is not modelled (inference: it is the identity).
public final class Dinov2Layer: CompositeLayer {
    public let name: String
    public let attentionNorm: LayerNormalization
    public let attention: Dinov2Attention
    public let attentionScale: LayerScale
    public let feedForwardNorm: LayerNormalization
    public let feedForward: Dinov2MLP
    public let feedForwardScale: LayerScale

    /// `name` is the module path, e.g. `backbone.encoder.layer.0`.
    init(name: String, hiddenSize: Int, heads: Int, mlpSize: Int, epsilon: Float, layerScale: Float,
         rng: inout SeededGenerator) throws {
        self.name = name
        attentionNorm = try LayerNormalization(name: "\(name).norm1", features: hiddenSize, epsilon: epsilon)
        attention = try Dinov2Attention(name: "\(name).attention", hiddenSize: hiddenSize, heads: heads, rng: &rng)
        attentionScale = LayerScale(name: "\(name).layer_scale1", features: hiddenSize, value: layerScale)
        feedForwardNorm = try LayerNormalization(name: "\(name).norm2", features: hiddenSize, epsilon: epsilon)
        feedForward = try Dinov2MLP(name: "\(name).mlp", hiddenSize: hiddenSize, expandedSize: mlpSize, rng: &rng)
        feedForwardScale = LayerScale(name: "\(name).layer_scale2", features: hiddenSize, value: layerScale)
    }

    public var layers: [any Layer] { [attentionNorm, attention, attentionScale, feedForwardNorm, feedForward, feedForwardScale] }

    /// `[batch, tokens, hidden]` -> the same shape. Without gradients each LayerScale runs in
    /// place on its branch, fused with the residual add after the MLP (the one after attention
    /// is fused into the second norm).
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        if !training && !Autograd.isRecording {
            var branch = try attention(attentionNorm(input, training: false), training: false)
            branch.scaleChannels(by: attentionScale.lambda.value)
            let (x, normalized) = try feedForwardNorm.normalizingSum(input, branch)
            var ffn = try feedForward(normalized, training: false)
            ffn.scaleChannels(by: feedForwardScale.lambda.value, adding: x)
            return ffn
        }
        let branch = try attentionScale(attention(attentionNorm(input, training: training), training: training), training: training)
        let (x, normalized) = try feedForwardNorm.normalizingSum(input, branch)
        return x + (try feedForwardScale(feedForward(normalized, training: training), training: training))
    }
}
