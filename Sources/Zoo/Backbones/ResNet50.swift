import Layers
import Tensor

/// ResNet50 without its top, as `keras.applications.ResNet50(include_top=False)` builds it
/// (tf_keras `applications/resnet.py`): `conv1_pad` (3) -> `conv1_conv` 7x7/2 valid ->
/// `conv1_bn` -> `conv1_relu` -> `pool1_pad` (1) -> `pool1_pool` 3x3/2, then four stacks of
/// bottleneck blocks `convN_blockM_{0,1,2,3}_{conv,bn}`, `_{1,2}_relu`, `_add`, `_out`.
/// Convolutions have biases; BatchNorm epsilon 1.001e-5, momentum 0.99.
public struct ResNet50Configuration: Sendable, Equatable {
    public var inputSize: Int
    /// Bottleneck filters of stacks conv2..conv5 (the outputs are 4x these): Keras' 64, 128,
    /// 256, 512; the reference fixture uses 1/8 of that.
    public var widths: [Int]
    /// Blocks per stack: 3, 4, 6, 3.
    public var blocks: [Int]
    /// Filters of `conv1_conv`: 64, whatever the widths (Keras hard-codes it).
    public var stemFilters: Int
    public var name: String

    public static let standardWidths = [64, 128, 256, 512]
    public static let minimumInputSize = 32

    public init(inputSize: Int = 224, widths: [Int] = ResNet50Configuration.standardWidths,
                blocks: [Int] = [3, 4, 6, 3], stemFilters: Int? = nil, name: String = "resnet50") {
        self.inputSize = inputSize
        self.widths = widths
        self.blocks = blocks
        self.stemFilters = stemFilters ?? 64
        self.name = name
    }
}

public enum ResNet50 {
    /// The last layer of the base: Grad-CAM's default target.
    public static let lastLayer = "conv5_block3_out"

    public static func make(_ c: ResNet50Configuration, seed: UInt64 = 0) throws -> Graph {
        guard c.inputSize >= ResNet50Configuration.minimumInputSize, c.widths.count == 4, c.blocks.count == 4,
              c.widths.allSatisfy({ $0 >= 1 }), c.blocks.allSatisfy({ $0 >= 1 }) else {
            throw ModelConfigurationError(model: c.name, setting: "input size \(c.inputSize), widths \(c.widths), blocks \(c.blocks)",
                                          requirement: "needs input >= \(ResNet50Configuration.minimumInputSize) and 4 stacks of >= 1 block")
        }
        var b = BackboneBuilder(inputSize: c.inputSize, momentum: 0.99, epsilon: 1.001e-5, seed: seed)
        var x = try b.zeroPadding("conv1_pad", b.input, ((3, 3), (3, 3)))
        x = try b.conv("conv1_conv", x, filters: c.stemFilters, kernel: 7, stride: 2, padding: .valid)
        x = try b.batchNorm("conv1_bn", x)
        x = try b.activation("conv1_relu", x, .relu)
        x = try b.zeroPadding("pool1_pad", x, ((1, 1), (1, 1)))
        x = try b.add(MaxPool2D(name: "pool1_pool", poolSize: (3, 3), stride: (2, 2)), x)
        for (stack, (filters, count)) in zip(c.widths, c.blocks).enumerated() {
            let name = "conv\(stack + 2)"
            x = try block(&b, x, filters: filters, stride: stack == 0 ? 1 : 2, shortcut: true, name: name + "_block1")
            for i in 1..<count {
                x = try block(&b, x, filters: filters, stride: 1, shortcut: false, name: name + "_block\(i + 1)")
            }
        }
        return try b.build(name: c.name, output: x)
    }

    /// Keras' `block1`: a bottleneck with a projection shortcut (`_0_conv`) or the identity.
    static func block(_ b: inout BackboneBuilder, _ input: GraphValue, filters: Int, stride: Int, shortcut: Bool,
                      name: String) throws -> GraphValue {
        var skip = input
        if shortcut {
            skip = try b.conv(name + "_0_conv", input, filters: 4 * filters, kernel: 1, stride: stride, padding: .valid)
            skip = try b.batchNorm(name + "_0_bn", skip)
        }
        var x = try b.conv(name + "_1_conv", input, filters: filters, kernel: 1, stride: stride, padding: .valid)
        x = try b.batchNorm(name + "_1_bn", x)
        x = try b.activation(name + "_1_relu", x, .relu)
        x = try b.conv(name + "_2_conv", x, filters: filters, kernel: 3, padding: .same)
        x = try b.batchNorm(name + "_2_bn", x)
        x = try b.activation(name + "_2_relu", x, .relu)
        x = try b.conv(name + "_3_conv", x, filters: 4 * filters, kernel: 1, padding: .valid)
        x = try b.batchNorm(name + "_3_bn", x)
        x = try b.add(Add(name: name + "_add"), skip, x)
        return try b.activation(name + "_out", x, .relu)
    }
}
