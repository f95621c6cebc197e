import Foundation
import Layers
import Tensor

/// MobileNetV2 without its top, as `keras.applications.MobileNetV2(include_top=False)` builds
/// it (tf_keras `applications/mobilenet_v2.py`): `Conv1` 3x3/2 -> `bn_Conv1` -> `Conv1_relu`
/// (ReLU6), the `expanded_conv_` block, inverted residual blocks `block_1_` .. `block_16_`
/// (`expand`, `expand_BN`, `expand_relu`, [`pad`], `depthwise`, `depthwise_BN`,
/// `depthwise_relu`, `project`, `project_BN`, [`add`]), then `Conv_1` -> `Conv_1_bn` ->
/// `out_relu`. No conv has a bias; BatchNorm epsilon 1e-3, momentum 0.999.
public struct MobileNetV2Configuration: Sendable, Equatable {
    public var inputSize: Int
    /// The width multiplier (Keras' `alpha`): 0.35, 0.5, 0.75, 1.0, 1.3 or 1.4 for ImageNet
    /// weights, any positive value otherwise.
    public var alpha: Double
    public var name: String

    public static let minimumInputSize = 32

    /// Keras names the model `mobilenetv2_<alpha, 2 decimals>_<rows>`.
    public init(inputSize: Int = 224, alpha: Double = 1.0, name: String? = nil) {
        self.inputSize = inputSize
        self.alpha = alpha
        self.name = name ?? "mobilenetv2_" + String(format: "%.2f", alpha) + "_\(inputSize)"
    }
}

public enum MobileNetV2 {
    public static let lastLayer = "out_relu"

    /// (filters, stride, expansion) of blocks 0..16.
    static let blocks: [(filters: Int, stride: Int, expansion: Int)] = [
        (16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
        (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6),
        (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6),
    ]

    /// Keras' `_make_divisible`: round to a multiple of `divisor`, never more than 10 % down.
    static func makeDivisible(_ value: Double, _ divisor: Int = 8) -> Int {
        var rounded = max(divisor, Int(value + Double(divisor) / 2) / divisor * divisor)
        if Double(rounded) < 0.9 * value { rounded += divisor }
        return rounded
    }

    public static func make(_ c: MobileNetV2Configuration, seed: UInt64 = 0) throws -> Graph {
        guard c.inputSize >= MobileNetV2Configuration.minimumInputSize, c.alpha > 0, c.alpha.isFinite else {
            throw ModelConfigurationError(model: c.name, setting: "input size \(c.inputSize), alpha \(c.alpha)",
                                          requirement: "needs input >= \(MobileNetV2Configuration.minimumInputSize) and alpha > 0")
        }
        var b = BackboneBuilder(inputSize: c.inputSize, momentum: 0.999, epsilon: 1e-3, seed: seed)
        var x = try b.conv("Conv1", b.input, filters: makeDivisible(32 * c.alpha), kernel: 3, stride: 2,
                           padding: .same, useBias: false)
        x = try b.batchNorm("bn_Conv1", x)
        x = try b.relu6("Conv1_relu", x)
        for (id, spec) in blocks.enumerated() {
            x = try invertedResidual(&b, x, filters: spec.filters, stride: spec.stride, expansion: spec.expansion,
                                     alpha: c.alpha, id: id)
        }
        let lastFilters = c.alpha > 1 ? makeDivisible(1280 * c.alpha) : 1280
        x = try b.conv("Conv_1", x, filters: lastFilters, kernel: 1, padding: .valid, useBias: false)
        x = try b.batchNorm("Conv_1_bn", x)
        x = try b.relu6("out_relu", x)
        return try b.build(name: c.name, output: x)
    }

    static func invertedResidual(_ b: inout BackboneBuilder, _ input: GraphValue, filters: Int, stride: Int,
                                 expansion: Int, alpha: Double, id: Int) throws -> GraphValue {
        let inChannels = b.channels(input)
        let pointwise = makeDivisible(Double(Int(Double(filters) * alpha)))
        let prefix = id == 0 ? "expanded_conv_" : "block_\(id)_"
        var x = input
        if id != 0 {
            x = try b.conv(prefix + "expand", x, filters: expansion * inChannels, kernel: 1, useBias: false)
            x = try b.batchNorm(prefix + "expand_BN", x)
            x = try b.relu6(prefix + "expand_relu", x)
        }
        if stride == 2 { x = try b.zeroPadding(prefix + "pad", x, b.correctPad(x, kernel: 3)) }
        x = try b.depthwise(prefix + "depthwise", x, kernel: 3, stride: stride, padding: stride == 1 ? .same : .valid)
        x = try b.batchNorm(prefix + "depthwise_BN", x)
        x = try b.relu6(prefix + "depthwise_relu", x)
        x = try b.conv(prefix + "project", x, filters: pointwise, kernel: 1, useBias: false)
        x = try b.batchNorm(prefix + "project_BN", x)
        if inChannels == pointwise && stride == 1 { x = try b.add(Add(name: prefix + "add"), input, x) }
        return x
    }
}
