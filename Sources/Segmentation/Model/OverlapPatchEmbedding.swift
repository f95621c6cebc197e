import Layers
import Tensor

/// SegFormer's overlapping patch embedding (`SegformerOverlapPatchEmbeddings`): a convolution of
/// kernel `patch`, stride `stride` and symmetric zero padding `patch / 2` (PyTorch's
/// `padding=patch // 2`), then LayerNorm over channels.
public final class OverlapPatchEmbedding: CompositeLayer {
    public let name: String
    public let padding: ZeroPadding2D
    public let projection: Conv2D
    public let norm: LayerNormalization

    /// `name` is the module path, e.g. `segformer.encoder.patch_embeddings.0`.
    init(name: String, inputChannels: Int, hiddenSize: Int, patchSize: Int, stride: Int,
         rng: inout SeededGenerator) throws {
        self.name = name
        padding = try ZeroPadding2D(name: "\(name).pad", padding: patchSize / 2)
        projection = try Conv2D(name: "\(name).proj", inputChannels: inputChannels, filters: hiddenSize,
                                kernelSize: (patchSize, patchSize), stride: (stride, stride), padding: .valid,
                                activation: .linear, rng: &rng)
        norm = try LayerNormalization(name: "\(name).layer_norm", features: hiddenSize)
    }

    public var layers: [any Layer] { [padding, projection, norm] }

    /// `[batch, height, width, in]` -> `[batch, height', width', hidden]`
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        try norm(projection(padding(input, training: training), training: training), training: training)
    }
}
