import HuggingFaceFiles
import Layers
import Tensor

/// One reassemble layer of the DPT neck (`DepthAnythingReassembleLayer`): a 1x1 convolution to
/// the stage's width (`projection`), then the stage's resize (`resize`): a transposed
/// convolution of kernel = stride = factor for factors > 1, nothing for 1, a 3x3 convolution of
/// stride `int(1 / factor)` with padding 1 for factors < 1.
public final class ReassembleLayer: CompositeLayer {
    public let name: String
    public let projection: Conv2D
    /// The upsampling of factors > 1.
    public let upsample: Conv2DTranspose?
    /// The zero padding (1) and strided convolution of factors < 1.
    public let downsample: (padding: ZeroPadding2D, convolution: Conv2D)?

    /// `name` is the module path, e.g. `neck.reassemble_stage.layers.0`.
    init(name: String, hiddenSize: Int, channels: Int, resize: DepthAnythingConfiguration.Resize,
         rng: inout SeededGenerator) throws {
        self.name = name
        projection = try Conv2D(name: "\(name).projection", inputChannels: hiddenSize, filters: channels,
                                kernelSize: (1, 1), padding: .valid, activation: .linear, rng: &rng)
        switch resize {
        case let .up(factor):
            upsample = try Conv2DTranspose(name: "\(name).resize", inputChannels: channels, filters: channels,
                                           kernelSize: (factor, factor), stride: (factor, factor), rng: &rng)
            downsample = nil
        case .none:
            upsample = nil
            downsample = nil
        case let .down(stride):
            upsample = nil
            downsample = (try ZeroPadding2D(name: "\(name).resize.pad", padding: 1),
                          try Conv2D(name: "\(name).resize", inputChannels: channels, filters: channels, kernelSize: (3, 3),
                                     stride: (stride, stride), padding: .valid, activation: .linear, rng: &rng))
        }
    }

    public var layers: [any Layer] {
        [projection] + (upsample.map { [$0] } ?? []) + (downsample.map { [$0.padding, $0.convolution] } ?? [])
    }

    /// `[batch, h, w, hidden]` -> `[batch, h', w', channels]` (`h' = 4h` for factor 4, `⌊(h - 1)/2⌋ + 1` for 0.5).
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        let projected = try projection(input, training: training)
        if let upsample { return try upsample(projected, training: training) }
        if let downsample {
            return try downsample.convolution(downsample.padding(projected, training: training), training: training)
        }
        return projected
    }
}

/// The DPT neck's reassemble stage (`DepthAnythingReassembleStage`): each backbone hidden state
/// without its class token (Depth Anything drops it: no readout projection), viewed as the
/// `h x w` patch map it is, through its reassemble layer.
public final class ReassembleStage: CompositeLayer {
    public let name = "neck.reassemble_stage"
    public let stages: [ReassembleLayer]

    init(configuration c: DepthAnythingConfiguration, rng: inout SeededGenerator) throws {
        stages = try c.neckHiddenSizes.enumerated().map { index, channels in
            try ReassembleLayer(name: "neck.reassemble_stage.layers.\(index)", hiddenSize: c.reassembleHiddenSize,
                                channels: channels, resize: c.resize(ofStage: index), rng: &rng)
        }
    }

    public var layers: [any Layer] { stages }

    /// One hidden state only is not meaningful: use ``maps(_:height:width:training:)``.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.rank == 3, stages.count == 1 else {
            throw LayerError.wrongInputCount(layer: name, expected: "\(stages.count) hidden states", got: 1)
        }
        let patches = input.shape[1] - 1
        return try maps([input], height: 1, width: patches, training: training)[0]
    }

    /// - Parameter states: `[batch, 1 + height·width, hidden]` each, one per stage.
    /// - Returns: one NHWC map per stage.
    public func maps(_ states: [Tensor], height: Int, width: Int, training: Bool) throws -> [Tensor] {
        guard states.count == stages.count else {
            throw LayerError.wrongInputCount(layer: name, expected: "\(stages.count) hidden states", got: states.count)
        }
        return try zip(states, stages).map { state, stage in
            guard state.rank == 3, state.shape[1] == 1 + height * width else {
                throw LayerError.shapeMismatch(layer: stage.name, expected: "[batch, 1 + \(height)·\(width), hidden]",
                                               got: state.shape)
            }
            let (batch, channels) = (state.shape[0], state.shape[2])
            let patches = state.slicingTokens(1..<state.shape[1]).reshaped([batch, height, width, channels])
            return try stage(patches, training: training)
        }
    }
}
