import Layers
import Tensor

/// A VGG16 / VGG19 as `keras.applications` builds it: 5 blocks of 3x3 "same" ReLU
/// convolutions, each followed by a 2x2 max-pool, with Keras' layer names (`block1_conv1` ..
/// `block5_conv4`, `block1_pool` .. `block5_pool`; with the top also `flatten`, `fc1`, `fc2`,
/// `predictions`) so that Keras weights files load by name.
public struct VGGConfiguration: Sendable, Equatable {
    public enum Depth: String, Sendable, CaseIterable {
        case vgg16, vgg19

        /// Convolutions in blocks 1-5.
        public var convolutionsPerBlock: [Int] {
            switch self {
            case .vgg16: return [2, 2, 3, 3, 3]
            case .vgg19: return [2, 2, 4, 4, 4]
            }
        }

        /// The last convolution (Grad-CAM's usual target): `block5_conv3` / `block5_conv4`.
        public var lastConvolution: String { "block5_conv\(convolutionsPerBlock[4])" }
    }

    /// Keras' channel widths of blocks 1-5.
    public static let standardWidths = [64, 128, 256, 512, 512]
    /// The reference fixtures' mini VGG (`Tests/Fixtures`, 64x64 input).
    public static let miniWidths = [8, 16, 16, 32, 32]

    public var depth: Depth
    public var inputHeight: Int
    public var inputWidth: Int
    public var inputChannels: Int
    /// Filters of blocks 1-5.
    public var widths: [Int]
    /// Adds `flatten`, `fc1`, `fc2` (ReLU) and `predictions` (softmax).
    public var includeTop: Bool
    /// Units of `fc1` and `fc2` (4096 in Keras).
    public var fullyConnectedUnits: Int
    public var classes: Int
    /// The model's name (a weights file's group for the base): `vgg16` / `vgg19` by default.
    public var name: String

    public init(depth: Depth, inputSize: Int = 150, widths: [Int] = VGGConfiguration.standardWidths,
                includeTop: Bool = false, fullyConnectedUnits: Int = 4096, classes: Int = 1000,
                name: String? = nil) {
        self.depth = depth
        inputHeight = inputSize
        inputWidth = inputSize
        inputChannels = 3
        self.widths = widths
        self.includeTop = includeTop
        self.fullyConnectedUnits = fullyConnectedUnits
        self.classes = classes
        self.name = name ?? depth.rawValue
    }

    /// The smallest input side: five 2x2 poolings need 32 pixels.
    public static let minimumInputSize = 32

    /// `[height, width, channels]` of one input image.
    public var inputShape: [Int] { [inputHeight, inputWidth, inputChannels] }

    /// `[height, width, channels]` after `block5_pool` (each pool floors: 150 -> 75 -> 37 -> 18 -> 9 -> 4).
    public var featureShape: [Int] {
        var h = inputHeight, w = inputWidth
        for _ in 0..<5 { h /= 2; w /= 2 }
        return [h, w, widths[4]]
    }
}

public enum VGG {
    /// Builds the model; kernels Glorot-uniform and biases zero, as Keras initialises them.
    /// Throws `ModelConfigurationError` for widths that are not five positive numbers or an
    /// input smaller than `VGGConfiguration.minimumInputSize`.
    public static func make(_ configuration: VGGConfiguration, rng: inout SeededGenerator) throws -> Sequential {
        let c = configuration
        guard c.widths.count == 5, c.widths.allSatisfy({ $0 >= 1 }) else {
            throw ModelConfigurationError(model: c.name, setting: "widths \(c.widths)",
                                          requirement: "must be five numbers >= 1 (one per block)")
        }
        let minimum = VGGConfiguration.minimumInputSize
        guard c.inputHeight >= minimum && c.inputWidth >= minimum && c.inputChannels >= 1 else {
            throw ModelConfigurationError(
                model: c.name, setting: "input size \(c.inputHeight)x\(c.inputWidth)x\(c.inputChannels)",
                requirement: "must be at least \(minimum)x\(minimum) (five 2x2 poolings)")
        }
        var layers: [any Layer] = []
        var channels = c.inputChannels
        for (block, convolutions) in c.depth.convolutionsPerBlock.enumerated() {
            for index in 1...convolutions {
                layers.append(try Conv2D(name: "block\(block + 1)_conv\(index)", inputChannels: channels,
                                     filters: c.widths[block], kernelSize: (3, 3), stride: (1, 1), padding: .same,
                                     activation: .relu, rng: &rng))
                channels = c.widths[block]
            }
            layers.append(MaxPool2D(name: "block\(block + 1)_pool"))
        }
        if c.includeTop {
            let features = c.featureShape.reduce(1, *)
            layers.append(Flatten(name: "flatten"))
            layers.append(try Dense(name: "fc1", inputSize: features, outputSize: c.fullyConnectedUnits,
                                activation: .relu, rng: &rng))
            layers.append(try Dense(name: "fc2", inputSize: c.fullyConnectedUnits, outputSize: c.fullyConnectedUnits,
                                activation: .relu, rng: &rng))
            layers.append(try Dense(name: "predictions", inputSize: c.fullyConnectedUnits, outputSize: c.classes,
                                activation: .softmax, rng: &rng))
        }
        return try Sequential(name: c.name, layers)
    }

    public static func vgg16(inputSize: Int = 150, widths: [Int] = VGGConfiguration.standardWidths,
                             includeTop: Bool = false, classes: Int = 1000,
                             rng: inout SeededGenerator) throws -> Sequential {
        try make(VGGConfiguration(depth: .vgg16, inputSize: inputSize, widths: widths, includeTop: includeTop,
                              classes: classes), rng: &rng)
    }

    public static func vgg19(inputSize: Int = 150, widths: [Int] = VGGConfiguration.standardWidths,
                             includeTop: Bool = false, classes: Int = 1000,
                             rng: inout SeededGenerator) throws -> Sequential {
        try make(VGGConfiguration(depth: .vgg19, inputSize: inputSize, widths: widths, includeTop: includeTop,
                              classes: classes), rng: &rng)
    }
}
