import HuggingFaceFiles
import Layers
import Tensor

/// Depth Anything (`DepthAnythingForDepthEstimation`, V1 and V2, any size): the DINOv2 backbone,
/// the DPT neck and the depth head, built from a Hugging Face `config.json`. Layers are named by
/// their PyTorch module paths as the published files store them
/// (`backbone.encoder.layer.0.attention.attention.query`), so the weights load by name.
///
/// Pixel values are NHWC `[batch, height, width, 3]`, normalised as the image processor does;
/// sides that are not multiples of the patch size (14) are floored to whole patches. The output
/// is `[batch, 14·⌊height/14⌋, 14·⌊width/14⌋]`: relative inverse depth (larger is nearer) for
/// `depth_estimation_type: relative`, metres for `metric` — transformers' `predicted_depth`.
/// Every LayerNorm of the backbone uses the configuration's `layer_norm_eps` (1e-6).
public final class DepthAnything: CompositeLayer {
    public let name = "depth_anything"
    public let configuration: DepthAnythingConfiguration
    public let backbone: Dinov2Backbone
    public let neck: DepthNeck
    public let head: DepthHead

    /// Random weights (Keras-style initialisers, seeded): load a folder for real ones. The
    /// configuration is validated first (`HuggingFaceError.invalidConfig` names the key), which
    /// bounds the parameters it may allocate (``DepthAnythingConfiguration/maximumParameters``).
    public init(configuration: DepthAnythingConfiguration, seed: UInt64 = 0) throws {
        try configuration.validate(file: "Depth Anything configuration")
        self.configuration = configuration
        var rng = SeededGenerator(seed: seed)
        backbone = try Dinov2Backbone(configuration: configuration.backbone,
                                      initializerRange: Float(configuration.initializerRange), rng: &rng)
        neck = try DepthNeck(configuration: configuration, rng: &rng)
        head = try DepthHead(configuration: configuration, rng: &rng)
    }

    public var layers: [any Layer] { [backbone, neck, head] }

    /// The patch side (14).
    public var patchSize: Int { configuration.patchSize }

    /// `[batch, height, width, 3]` -> `[batch, 14·⌊height/14⌋, 14·⌊width/14⌋]`. Inference of several
    /// images runs them one at a time, side by side on the cores (``Tensor/itemByItem(_:_:)``):
    /// nothing in the model mixes images, and one image's activations stay in cache.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        let channels = configuration.backbone.numChannels
        guard input.rank == 4, input.shape[3] == channels, input.shape[1] >= patchSize, input.shape[2] >= patchSize else {
            throw LayerError.shapeMismatch(layer: name, expected: "[batch, height >= \(patchSize), width >= \(patchSize), \(channels)]",
                                           got: input.shape)
        }
        if !training && !Autograd.isRecording && input.shape[0] > 1 {
            return try Tensor.itemByItem(input) { try self.depth(of: $0, training: false) }
        }
        return try depth(of: input, training: training)
    }

    private func depth(of input: Tensor, training: Bool) throws -> Tensor {
        let (height, width) = (input.shape[1] / patchSize, input.shape[2] / patchSize)
        let states = try backbone.features(input, training: training)
        let fused = try neck.fused(states, height: height, width: width, training: training)
        let index = configuration.headInIndex < 0 ? fused.count + configuration.headInIndex : configuration.headInIndex
        return try head.depth(fused[index], height: height, width: width, training: training)
    }
}
