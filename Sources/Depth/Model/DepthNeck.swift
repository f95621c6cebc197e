import HuggingFaceFiles
import Layers
import Tensor

/// Depth Anything's DPT neck (`DepthAnythingNeck`): the reassemble stage, a 3x3 convolution
/// without bias per stage to the fusion width (`neck.convs.i`), and the fusion stage.
public final class DepthNeck: CompositeLayer {
    public let name = "neck"
    public let reassemble: ReassembleStage
    public let convolutions: [Conv2D]
    public let fusion: FusionStage

    init(configuration c: DepthAnythingConfiguration, rng: inout SeededGenerator) throws {
        reassemble = try ReassembleStage(configuration: c, rng: &rng)
        convolutions = try c.neckHiddenSizes.enumerated().map { index, channels in
            try Conv2D(name: "neck.convs.\(index)", inputChannels: channels, filters: c.fusionHiddenSize,
                       activation: .linear, useBias: false, rng: &rng)
        }
        fusion = try FusionStage(stages: c.neckHiddenSizes.count, channels: c.fusionHiddenSize, rng: &rng)
    }

    public var layers: [any Layer] { [reassemble] + convolutions + [fusion] }

    /// A neck of one stage on one hidden state (use ``fused(_:height:width:training:)``).
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.rank == 3 else { throw LayerError.shapeMismatch(layer: name, expected: "[batch, tokens, hidden]", got: input.shape) }
        let patches = input.shape[1] - 1
        guard let last = try fused([input], height: 1, width: patches, training: training).last else { return input }
        return last
    }

    /// - Parameters:
    ///   - states: the backbone's hidden states, `[batch, 1 + height·width, hidden]` each.
    ///   - height, width: the patch grid.
    /// - Returns: the fused maps, coarsest first, `[batch, h_i, w_i, fusion]`.
    public func fused(_ states: [Tensor], height: Int, width: Int, training: Bool) throws -> [Tensor] {
        let maps = try reassemble.maps(states, height: height, width: width, training: training)
        let projected = try zip(maps, convolutions).map { try $1($0, training: training) }
        return try fusion.fused(projected, training: training)
    }
}
