import Layers
import Tensor

/// DPT's pre-activation residual unit (`DepthAnythingPreActResidualLayer`):
/// `x + conv2(ReLU(conv1(ReLU(x))))`, both 3x3 convolutions with padding 1 and a bias.
public final class ResidualConvUnit: CompositeLayer {
    public let name: String
    /// With the second ReLU fused into its output pass.
    public let first: Conv2D
    public let second: Conv2D

    /// `name` is the module path, e.g. `neck.fusion_stage.layers.0.residual_layer1`.
    init(name: String, channels: Int, rng: inout SeededGenerator) throws {
        self.name = name
        first = try Conv2D(name: "\(name).convolution1", inputChannels: channels, filters: channels, activation: .relu, rng: &rng)
        second = try Conv2D(name: "\(name).convolution2", inputChannels: channels, filters: channels, activation: .linear, rng: &rng)
    }

    public var layers: [any Layer] { [first, second] }

    /// `[batch, h, w, channels]` -> the same shape.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        input + (try second(first(input.relu(), training: training), training: training))
    }
}

/// One fusion block of the DPT neck (`DepthAnythingFeatureFusionLayer`): the coarser fused map
/// plus a residual unit of this stage's map (resized bilinearly with `align_corners=False` when
/// their sizes differ), a second residual unit, bilinear upsampling with `align_corners=True` to
/// the next stage's size (twice the size for the last block), and a 1x1 convolution.
///
/// Without gradients the 1x1 convolution runs before the upsampling, at a quarter of the pixels:
/// bilinear weights sum to 1, so resizing commutes with a per-pixel affine map (equal up to
/// rounding).
public final class FeatureFusionLayer: CompositeLayer {
    public let name: String
    public let projection: Conv2D
    public let residual: ResidualConvUnit
    public let refine: ResidualConvUnit

    /// `name` is the module path, e.g. `neck.fusion_stage.layers.0`.
    init(name: String, channels: Int, rng: inout SeededGenerator) throws {
        self.name = name
        projection = try Conv2D(name: "\(name).projection", inputChannels: channels, filters: channels, kernelSize: (1, 1),
                                padding: .valid, activation: .linear, rng: &rng)
        residual = try ResidualConvUnit(name: "\(name).residual_layer1", channels: channels, rng: &rng)
        refine = try ResidualConvUnit(name: "\(name).residual_layer2", channels: channels, rng: &rng)
    }

    public var layers: [any Layer] { [projection, residual, refine] }

    /// The first block's step: ``fuse(_:residual:size:training:)`` without a residual, doubling the size.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        try fuse(input, residual: nil, size: nil, training: training)
    }

    /// - Parameters:
    ///   - input: the coarser fused map (or the coarsest stage's map), `[batch, h, w, channels]`.
    ///   - residual: this stage's map, `nil` for the first block.
    ///   - size: the next stage's `(height, width)`; `nil` doubles `h` and `w`.
    public func fuse(_ input: Tensor, residual stageMap: Tensor?, size: (height: Int, width: Int)?,
                     training: Bool) throws -> Tensor {
        var x = input
        if var stageMap {
            if stageMap.shape != x.shape {
                stageMap = stageMap.resizedBilinear(height: x.shape[1], width: x.shape[2], alignCorners: false)
            }
            x = x + (try residual(stageMap, training: training))
        }
        x = try refine(x, training: training)
        let (height, width) = size.map { ($0.height, $0.width) } ?? (2 * x.shape[1], 2 * x.shape[2])
        if !training && !Autograd.isRecording {
            return try projection(x, training: false).resizedBilinear(height: height, width: width, alignCorners: true)
        }
        return try projection(x.resizedBilinear(height: height, width: width, alignCorners: true), training: training)
    }
}

/// The DPT neck's fusion stage (`DepthAnythingFeatureFusionStage`): the maps from the coarsest
/// (last) to the finest, each block fusing the previous block's output with its stage's map.
public final class FusionStage: CompositeLayer {
    public let name = "neck.fusion_stage"
    public let blocks: [FeatureFusionLayer]

    init(stages: Int, channels: Int, rng: inout SeededGenerator) throws {
        blocks = try (0..<stages).map {
            try FeatureFusionLayer(name: "neck.fusion_stage.layers.\($0)", channels: channels, rng: &rng)
        }
    }

    public var layers: [any Layer] { blocks }

    /// The fusion of one map (a stage of one).
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        guard let last = try fused([input], training: training).last else { return input }
        return last
    }

    /// - Parameter maps: the neck's maps, finest first, `[batch, h_i, w_i, channels]`.
    /// - Returns: every block's output, coarsest first (the last is the finest, twice the finest map's size).
    public func fused(_ maps: [Tensor], training: Bool) throws -> [Tensor] {
        guard maps.count == blocks.count else {
            throw LayerError.wrongInputCount(layer: name, expected: "\(blocks.count) maps", got: maps.count)
        }
        let coarseFirst = Array(maps.reversed())
        var outputs: [Tensor] = []
        for (index, (map, block)) in zip(coarseFirst, blocks).enumerated() {
            let size = index + 1 < coarseFirst.count ? (coarseFirst[index + 1].shape[1], coarseFirst[index + 1].shape[2]) : nil
            outputs.append(try block.fuse(outputs.last ?? map, residual: outputs.isEmpty ? nil : map,
                                          size: size.map { (height: $0.0, width: $0.1) }, training: training))
        }
        return outputs
    }
}
