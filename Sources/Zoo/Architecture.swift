import Layers
import Tensor

/// The model families the command-line tool builds by name.
public enum Architecture: String, Sendable, CaseIterable {
    case vgg16, vgg19, baseline

    /// A classifier for `size` x `size` RGB input: a VGG base (no top) with the paper's transfer
    /// head of `hiddenUnits`, blocks frozen through `freezeThrough`; or the baseline CNN with a
    /// Dense(`hiddenUnits`) layer, all trainable.
    public func makeClassifier(imageSize size: Int, hiddenUnits: Int, classes: Int, dropoutRate: Float? = nil,
                               freezeThrough: String? = "block4", seed: UInt64 = 0) throws -> Sequential {
        guard (minimumInputSize...ModelMetadata.maximumInputSize).contains(size) else {
            throw ModelConfigurationError(model: rawValue, setting: "input size \(size)",
                                          requirement: "must be in \(minimumInputSize)...\(ModelMetadata.maximumInputSize)")
        }
        for (setting, value) in [("hidden units", hiddenUnits), ("classes", classes)] where value < 1 {
            throw ModelConfigurationError(model: rawValue, setting: "\(setting) \(value)", requirement: "must be >= 1")
        }
        var rng = SeededGenerator(seed: seed)
        switch self {
        case .vgg16, .vgg19:
            let configuration = VGGConfiguration(depth: self == .vgg16 ? .vgg16 : .vgg19, inputSize: size)
            return try TransferModel.vgg(
                configuration, head: TransferHead(hiddenUnits: hiddenUnits, dropoutRate: dropoutRate, classes: classes),
                freezeThrough: freezeThrough, rng: &rng)
        case .baseline:
            return try BaselineCNN.make(BaselineCNNConfiguration(inputSize: size, denseUnits: hiddenUnits,
                                                                 dropoutRate: dropoutRate, classes: classes),
                                        rng: &rng)
        }
    }

    /// The smallest input side the architecture takes: VGG's five 2x2 poolings need 32; the
    /// baseline CNN's four valid 3x3 convolutions, each followed by a 2x2 pooling, need 46.
    public var minimumInputSize: Int {
        switch self {
        case .vgg16, .vgg19: return VGGConfiguration.minimumInputSize
        case .baseline: return BaselineCNNConfiguration().minimumInputSize
        }
    }

    /// The name of the last convolution layer (Grad-CAM's default target).
    public var lastConvolution: String {
        switch self {
        case .vgg16: return VGGConfiguration.Depth.vgg16.lastConvolution
        case .vgg19: return VGGConfiguration.Depth.vgg19.lastConvolution
        case .baseline: return "conv2d_3"
        }
    }
}
