import Layers
import Tensor

/// The classifier head on a base: the paper's Flatten-Dense(N)-Dense(classes) or the pooled
/// GlobalAveragePooling2D-Dense(classes) (`--head N` / `--head gap`).
public enum ClassifierHead: Sendable, Equatable, CustomStringConvertible {
    case dense(hiddenUnits: Int)
    case pooled

    /// `"256"` or `"gap"`, as `--head` and the `rubble_head` attribute spell it.
    public var description: String {
        switch self {
        case .dense(let units): return String(units)
        case .pooled: return "gap"
        }
    }

    /// Parses `"gap"` or a positive unit count; `nil` otherwise.
    public init?(_ text: String) {
        if text == "gap" { self = .pooled; return }
        guard let units = Int(text), units >= 1 else { return nil }
        self = .dense(hiddenUnits: units)
    }
}

/// Settings of the pooled backbones beyond their input size.
public struct BackboneOptions: Sendable, Equatable {
    /// MobileNetV2's width multiplier.
    public var alpha: Double
    /// Build EfficientNet with the extra `Rescaling(1/sqrt(stddev))` layer tf_keras inserts
    /// only for ImageNet weights. Whether a weights file was saved from such a graph is
    /// `KerasWeights.hasImageNetRescaling(_:)` (KerasFiles).
    public var imageNetRescaling: Bool

    public init(alpha: Double = 1.0, imageNetRescaling: Bool = false) {
        self.alpha = alpha
        self.imageNetRescaling = imageNetRescaling
    }
}

/// The model families the command-line tool builds by name.
public enum Architecture: String, Sendable, CaseIterable {
    case vgg16, vgg19, baseline, resnet50, mobilenetv2, efficientnetb0

    /// The largest input side the builders take (and the `rubble` tool accepts): 4096, the
    /// same bound `ModelMetadata.maximumInputSize` (KerasFiles) puts on a weights file.
    public static let maximumInputSize = 4096

    /// Whether the base ends in a feature map that is pooled (ResNet, MobileNet, EfficientNet):
    /// their default head is ``ClassifierHead/pooled``.
    public var isPooledBackbone: Bool {
        switch self {
        case .vgg16, .vgg19, .baseline: return false
        case .resnet50, .mobilenetv2, .efficientnetb0: return true
        }
    }

    /// The head `--head` defaults to: Dense(256) for VGG (the paper's), pooled otherwise.
    public var defaultHead: ClassifierHead { isPooledBackbone ? .pooled : .dense(hiddenUnits: 256) }

    /// The pixel preprocessing the architecture takes by default: `unit` (x/255, the paper's)
    /// for VGG and the baseline; for the others what Keras' `preprocess_input` does: `caffe`
    /// for ResNet50, `tf` (x/127.5 - 1) for MobileNetV2, `raw` (0-255; the model rescales
    /// inside) for EfficientNet.
    public var defaultPreprocessing: String {
        switch self {
        case .vgg16, .vgg19, .baseline: return "unit"
        case .resnet50: return "caffe"
        case .mobilenetv2: return "tf"
        case .efficientnetb0: return "raw"
        }
    }

    /// The layer the base is frozen through by default: VGG blocks 1-4 (the paper); for the
    /// pooled backbones everything before the last stage (`conv4_block6_out`, `block_15_add`,
    /// `block6d_add`), as in the reference fixtures.
    public var defaultFreezeThrough: String? {
        switch self {
        case .vgg16, .vgg19: return "block4"
        case .baseline: return nil
        case .resnet50: return "conv4_block6_out"
        case .mobilenetv2: return "block_15_add"
        case .efficientnetb0: return "block6d_add"
        }
    }

    /// The base alone (no head), with random weights.
    public func makeBase(imageSize size: Int, backbone: BackboneOptions = BackboneOptions(), seed: UInt64 = 0) throws -> any Layer {
        var rng = SeededGenerator(seed: seed)
        switch self {
        case .vgg16, .vgg19:
            var configuration = VGGConfiguration(depth: self == .vgg16 ? .vgg16 : .vgg19, inputSize: size)
            configuration.includeTop = false
            return try VGG.make(configuration, rng: &rng)
        case .baseline:
            throw ModelConfigurationError(model: rawValue, setting: "base", requirement: "does not exist: the baseline CNN has no separate base")
        case .resnet50: return try ResNet50.make(ResNet50Configuration(inputSize: size), seed: seed)
        case .mobilenetv2: return try MobileNetV2.make(MobileNetV2Configuration(inputSize: size, alpha: backbone.alpha), seed: seed)
        case .efficientnetb0: return try EfficientNet.make(EfficientNetConfiguration(inputSize: size, imageNetRescaling: backbone.imageNetRescaling), seed: seed)
        }
    }

    /// A classifier for `size` x `size` RGB input: a VGG base (no top) with the paper's transfer
    /// head of `hiddenUnits`, blocks frozen through `freezeThrough`; or the baseline CNN with a
    /// Dense(`hiddenUnits`) layer, all trainable.
    public func makeClassifier(imageSize size: Int, hiddenUnits: Int, classes: Int, dropoutRate: Float? = nil,
                               freezeThrough: String? = "block4", seed: UInt64 = 0) throws -> Sequential {
        try makeClassifier(imageSize: size, head: .dense(hiddenUnits: hiddenUnits), classes: classes,
                           dropoutRate: dropoutRate, freezeThrough: freezeThrough, seed: seed)
    }

    /// A classifier with `head`; `freezeThrough` names the last frozen layer (or a VGG block
    /// prefix such as `block4`); `nil` leaves everything trainable.
    public func makeClassifier(imageSize size: Int, head: ClassifierHead, classes: Int, dropoutRate: Float? = nil,
                               freezeThrough: String?, backbone: BackboneOptions = BackboneOptions(),
                               seed: UInt64 = 0) throws -> Sequential {
        guard (minimumInputSize...Self.maximumInputSize).contains(size) else {
            throw ModelConfigurationError(model: rawValue, setting: "input size \(size)",
                                          requirement: "must be in \(minimumInputSize)...\(Self.maximumInputSize)")
        }
        if case .dense(let units) = head, units < 1 {
            throw ModelConfigurationError(model: rawValue, setting: "hidden units \(units)", requirement: "must be >= 1")
        }
        guard classes >= 1 else {
            throw ModelConfigurationError(model: rawValue, setting: "classes \(classes)", requirement: "must be >= 1")
        }
        var rng = SeededGenerator(seed: seed)
        let model: Sequential
        switch (self, head) {
        case (.baseline, .dense(let units)):
            return try BaselineCNN.make(BaselineCNNConfiguration(inputSize: size, denseUnits: units,
                                                                 dropoutRate: dropoutRate, classes: classes),
                                        rng: &rng)
        case (.baseline, .pooled):
            throw ModelConfigurationError(model: rawValue, setting: "head gap", requirement: "is not available (the baseline has a Dense head)")
        case (.vgg16, .dense(let units)), (.vgg19, .dense(let units)):
            let configuration = VGGConfiguration(depth: self == .vgg16 ? .vgg16 : .vgg19, inputSize: size)
            return try TransferModel.vgg(
                configuration, head: TransferHead(hiddenUnits: units, dropoutRate: dropoutRate, classes: classes),
                freezeThrough: freezeThrough, rng: &rng)
        case (_, .dense(let units)):
            throw ModelConfigurationError(model: rawValue, setting: "head \(units)",
                                          requirement: "is not available: \(rawValue) takes the pooled head (--head gap)")
        case (_, .pooled):
            let base = try makeBase(imageSize: size, backbone: backbone, seed: seed)
            model = try TransferModel.pooled(base: base, inputShape: [size, size, 3], classes: classes,
                                             dropoutRate: dropoutRate, rng: &rng)
        }
        if let freezeThrough { try model.freeze(through: freezeThrough) }
        return model
    }

    /// The smallest input side the architecture takes: VGG's five 2x2 poolings need 32; the
    /// baseline CNN's four valid 3x3 convolutions, each followed by a 2x2 pooling, need 46;
    /// Keras' `obtain_input_shape` asks 32 of the pooled backbones.
    public var minimumInputSize: Int {
        switch self {
        case .vgg16, .vgg19: return VGGConfiguration.minimumInputSize
        case .baseline: return BaselineCNNConfiguration().minimumInputSize
        case .resnet50, .mobilenetv2, .efficientnetb0: return 32
        }
    }

    /// The layer Grad-CAM takes by default: VGG's last convolution, the baseline's last
    /// convolution, or the last layer of a pooled base (`conv5_block3_out`, `out_relu`,
    /// `top_activation`).
    public var lastConvolution: String {
        switch self {
        case .vgg16: return VGGConfiguration.Depth.vgg16.lastConvolution
        case .vgg19: return VGGConfiguration.Depth.vgg19.lastConvolution
        case .baseline: return "conv2d_3"
        case .resnet50: return ResNet50.lastLayer
        case .mobilenetv2: return MobileNetV2.lastLayer
        case .efficientnetb0: return EfficientNet.lastLayer
        }
    }

    /// Grad-CAM's default layer when none is named: the base's last layer for the pooled
    /// backbones; `nil` (the last `Conv2D`) for VGG and the baseline.
    public var defaultGradCAMLayer: String? { isPooledBackbone ? lastConvolution : nil }
}
