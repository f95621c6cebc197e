import HuggingFaceFiles
import Layers
import Tensor

/// Depth Anything's head (`DepthAnythingDepthEstimationHead`): a 3x3 convolution halving the
/// fusion width, bilinear upsampling (`align_corners=True`) to `patch` times the patch grid (the
/// input's size, floored to whole patches), a 3x3 convolution with ReLU, a 1x1 convolution to
/// one channel, then ReLU (relative depth) or a sigmoid (metric depth), times `max_depth`. Both
/// 3x3 convolutions run Winograd F(4x4, 3x3) (`Conv2D.preferredAlgorithm`).
public final class DepthHead: CompositeLayer {
    public let name = "head"
    public let reduce: Conv2D
    public let refine: Conv2D
    public let output: Conv2D
    public let type: DepthAnythingConfiguration.DepthEstimationType
    public let maxDepth: Float
    public let patchSize: Int

    init(configuration c: DepthAnythingConfiguration, rng: inout SeededGenerator) throws {
        let features = c.fusionHiddenSize
        reduce = try Conv2D(name: "head.conv1", inputChannels: features, filters: features / 2, activation: .linear, rng: &rng)
        refine = try Conv2D(name: "head.conv2", inputChannels: features / 2, filters: c.headHiddenSize, activation: .relu, rng: &rng)
        output = try Conv2D(name: "head.conv3", inputChannels: c.headHiddenSize, filters: 1, kernelSize: (1, 1),
                            padding: .valid, activation: c.depthEstimationType == .relative ? .relu : .sigmoid, rng: &rng)
        // Thin 3x3 layers at the full resolution: Winograd F(4x4) runs them 2.5-3x faster than
        // im2col (measured at 518x518, 64 -> 32 and 32 -> 32 channels), below the rule's 64 channels.
        reduce.preferredAlgorithm = .winograd4
        refine.preferredAlgorithm = .winograd4
        type = c.depthEstimationType
        maxDepth = Float(c.maxDepth)
        patchSize = c.patchSize
    }

    public var layers: [any Layer] { [reduce, refine, output] }

    /// A fused map `[batch, h, w, fusion]` whose patch grid is `h / 8 x w / 8` (what the neck gives).
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.rank == 4 else { throw LayerError.shapeMismatch(layer: name, expected: "[batch, h, w, channels]", got: input.shape) }
        return try depth(input, height: input.shape[1] / 8, width: input.shape[2] / 8, training: training)
    }

    /// - Parameters:
    ///   - input: the fused map the head reads, `[batch, h, w, fusion]`.
    ///   - height, width: the patch grid.
    /// - Returns: `[batch, patch·height, patch·width]`.
    public func depth(_ input: Tensor, height: Int, width: Int, training: Bool) throws -> Tensor {
        let reduced = try reduce(input, training: training)
        let upsampled = reduced.resizedBilinear(height: patchSize * height, width: patchSize * width, alignCorners: true)
        var depth = try output(refine(upsampled, training: training), training: training)
        if maxDepth != 1 { depth = depth * maxDepth }
        return depth.reshaped([depth.shape[0], depth.shape[1], depth.shape[2]])
    }
}
