import Foundation
import Layers
import Tensor

/// EfficientNetB0 without its top, as `keras.applications.EfficientNetB0(include_top=False)`
/// builds it (tf_keras `applications/efficientnet.py`): `rescaling` (1/255) -> `normalization`
/// [-> `rescaling_1` (1/sqrt(stddev)), only in graphs built for ImageNet weights] ->
/// `stem_conv_pad` -> `stem_conv` 3x3/2 -> `stem_bn` -> `stem_activation` (swish), MBConv blocks
/// `block1a_` .. `block7a_` (`expand_conv`, `expand_bn`, `expand_activation`, [`dwconv_pad`],
/// `dwconv`, `bn`, `activation`, `se_squeeze`, `se_reshape`, `se_reduce` (swish), `se_expand`
/// (sigmoid), `se_excite`, `project_conv`, `project_bn`, [`drop`, `add`]), `top_conv` ->
/// `top_bn` -> `top_activation`. BatchNorm epsilon 1e-3, momentum 0.99. Input: raw 0-255 RGB.
public struct EfficientNetConfiguration: Sendable, Equatable {
    public var inputSize: Int
    public var widthCoefficient: Double
    public var depthCoefficient: Double
    /// Keras' `drop_connect_rate`: the per-sample dropout rate of the last block's residual
    /// branch, scaled linearly from 0 at the first block (0.2 in EfficientNetB0).
    public var dropConnectRate: Float
    /// Insert the `Rescaling(1/sqrt(stddev))` layer tf_keras adds when it builds the model for
    /// ImageNet weights (the published `efficientnetb0_notop.h5` was saved from that graph;
    /// ``WeightsFile`` layer names tell which graph a file came from).
    public var imageNetRescaling: Bool
    public var name: String

    public static let minimumInputSize = 32

    public init(inputSize: Int = 224, widthCoefficient: Double = 1, depthCoefficient: Double = 1,
                dropConnectRate: Float = 0.2, imageNetRescaling: Bool = false, name: String = "efficientnetb0") {
        self.inputSize = inputSize
        self.widthCoefficient = widthCoefficient
        self.depthCoefficient = depthCoefficient
        self.dropConnectRate = dropConnectRate
        self.imageNetRescaling = imageNetRescaling
        self.name = name
    }
}

public enum EfficientNet {
    public static let lastLayer = "top_activation"
    /// ImageNet channel statistics Keras' EfficientNet normalises with.
    static let imageNetMean: [Float] = [0.485, 0.456, 0.406]
    static let imageNetStddev: [Float] = [0.229, 0.224, 0.225]

    /// Keras' `DEFAULT_BLOCKS_ARGS`: kernel, repeats, filters in, filters out, expansion, stride.
    static let stages: [(kernel: Int, repeats: Int, filtersIn: Int, filtersOut: Int, expansion: Int, stride: Int)] = [
        (3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2), (3, 3, 40, 80, 6, 2),
        (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1),
    ]
    static let seRatio = 0.25

    public static func make(_ c: EfficientNetConfiguration, seed: UInt64 = 0) throws -> Graph {
        guard c.inputSize >= EfficientNetConfiguration.minimumInputSize, c.widthCoefficient > 0,
              c.depthCoefficient > 0, (0..<1).contains(c.dropConnectRate) else {
            throw ModelConfigurationError(model: c.name, setting: "input size \(c.inputSize), width \(c.widthCoefficient), "
                                          + "depth \(c.depthCoefficient), drop connect \(c.dropConnectRate)",
                                          requirement: "needs input >= \(EfficientNetConfiguration.minimumInputSize), positive coefficients and a rate in [0, 1)")
        }
        func roundFilters(_ filters: Int) -> Int {
            let scaled = Double(filters) * c.widthCoefficient
            var rounded = max(8, Int(scaled + 4) / 8 * 8)
            if Double(rounded) < 0.9 * scaled { rounded += 8 }
            return rounded
        }
        func roundRepeats(_ repeats: Int) -> Int { Int((c.depthCoefficient * Double(repeats)).rounded(.up)) }

        var b = BackboneBuilder(inputSize: c.inputSize, momentum: 0.99, epsilon: 1e-3, seed: seed)
        var x = try b.add(try Rescaling(name: "rescaling", scale: 1 / 255), b.input)
        x = try b.add(try Normalization(name: "normalization", channels: 3, mean: imageNetMean,
                                        variance: imageNetStddev.map { $0 * $0 }), x)
        if c.imageNetRescaling {
            x = try b.add(try Rescaling(name: "rescaling_1", scale: imageNetStddev.map { 1 / $0.squareRoot() }), x)
        }
        x = try b.zeroPadding("stem_conv_pad", x, b.correctPad(x, kernel: 3))
        x = try b.conv("stem_conv", x, filters: roundFilters(32), kernel: 3, stride: 2, padding: .valid, useBias: false)
        x = try b.batchNorm("stem_bn", x)
        x = try b.activation("stem_activation", x, .swish)

        let total = Double(stages.reduce(0) { $0 + roundRepeats($1.repeats) })
        var index = 0
        for (i, stage) in stages.enumerated() {
            let filtersOut = roundFilters(stage.filtersOut)
            for j in 0..<roundRepeats(stage.repeats) {
                let filtersIn = j == 0 ? roundFilters(stage.filtersIn) : filtersOut
                let name = "block\(i + 1)\(Character(UnicodeScalar(UInt8(97 + j))))_"
                x = try block(&b, x, name: name, filtersIn: filtersIn, filtersOut: filtersOut, kernel: stage.kernel,
                              stride: j == 0 ? stage.stride : 1, expansion: stage.expansion,
                              dropRate: c.dropConnectRate * Float(Double(index) / total), seed: seed &+ UInt64(index))
                index += 1
            }
        }
        x = try b.conv("top_conv", x, filters: roundFilters(1280), kernel: 1, useBias: false)
        x = try b.batchNorm("top_bn", x)
        x = try b.activation("top_activation", x, .swish)
        return try b.build(name: c.name, output: x)
    }

    static func block(_ b: inout BackboneBuilder, _ input: GraphValue, name: String, filtersIn: Int, filtersOut: Int,
                      kernel: Int, stride: Int, expansion: Int, dropRate: Float, seed: UInt64) throws -> GraphValue {
        let filters = filtersIn * expansion
        var x = input
        if expansion != 1 {
            x = try b.conv(name + "expand_conv", x, filters: filters, kernel: 1, useBias: false)
            x = try b.batchNorm(name + "expand_bn", x)
            x = try b.activation(name + "expand_activation", x, .swish)
        }
        if stride == 2 { x = try b.zeroPadding(name + "dwconv_pad", x, b.correctPad(x, kernel: kernel)) }
        x = try b.depthwise(name + "dwconv", x, kernel: kernel, stride: stride, padding: stride == 2 ? .valid : .same)
        x = try b.batchNorm(name + "bn", x)
        x = try b.activation(name + "activation", x, .swish)

        let squeezed = max(1, Int(Double(filtersIn) * seRatio))
        var se = try b.add(GlobalAveragePooling2D(name: name + "se_squeeze"), x)
        se = try b.add(try Reshape(name: name + "se_reshape", targetShape: [1, 1, filters]), se)
        se = try b.conv(name + "se_reduce", se, filters: squeezed, kernel: 1, activation: .swish)
        se = try b.conv(name + "se_expand", se, filters: filters, kernel: 1, activation: .sigmoid)
        x = try b.add(Multiply(name: name + "se_excite"), x, se)

        x = try b.conv(name + "project_conv", x, filters: filtersOut, kernel: 1, useBias: false)
        x = try b.batchNorm(name + "project_bn", x)
        if stride == 1 && filtersIn == filtersOut {
            if dropRate > 0 {
                x = try b.add(try Dropout(name: name + "drop", rate: dropRate, seed: seed, noiseShape: .perSample), x)
            }
            x = try b.add(Add(name: name + "add"), x, input)
        }
        return x
    }
}
