import Layers
import Tensor

/// The paper's classifier head on a convolutional base:
/// Flatten -> Dense(hiddenUnits, ReLU) [-> Dropout] -> Dense(classes, softmax).
public struct TransferHead: Sendable, Equatable {
    public var hiddenUnits: Int
    /// `nil` for no dropout layer.
    public var dropoutRate: Float?
    public var classes: Int
    public var dropoutSeed: UInt64

    public init(hiddenUnits: Int = 256, dropoutRate: Float? = nil, classes: Int = 2, dropoutSeed: UInt64 = 0) {
        self.hiddenUnits = hiddenUnits
        self.dropoutRate = dropoutRate
        self.classes = classes
        self.dropoutSeed = dropoutSeed
    }
}

/// A base model with a new head, nested the way Keras nests it:
/// `Sequential("sequential", [vgg19, flatten, dense, (dropout), dense_1])`, where `vgg19` is
/// itself a `Sequential`. A weights file then has one `vgg19` group holding the base's layers,
/// as Keras' `save_weights` writes it.
public enum TransferModel {
    /// Wraps `base` (whose input is `inputShape` = `[height, width, channels]`) with `head`.
    /// The head's layers are named as a Keras Sequential names fresh layers: `flatten`,
    /// `dense`, `dropout`, `dense_1`.
    public static func make(base: Sequential, inputShape: [Int], head: TransferHead = TransferHead(),
                            name: String = "sequential", rng: inout SeededGenerator) throws -> Sequential {
        let features = try base.outputShape(for: Shape([1] + inputShape)).count
        var layers: [any Layer] = [
            base,
            Flatten(name: "flatten"),
            try Dense(name: "dense", inputSize: features, outputSize: head.hiddenUnits, activation: .relu, rng: &rng),
        ]
        if let rate = head.dropoutRate {
            layers.append(try Dropout(name: "dropout", rate: rate, seed: head.dropoutSeed))
        }
        layers.append(try Dense(name: "dense_1", inputSize: head.hiddenUnits, outputSize: head.classes,
                            activation: .softmax, rng: &rng))
        return try Sequential(name: name, layers)
    }

    /// A VGG base (no top) with `head`, frozen through the layers whose names start with
    /// `freezeThrough` (`"block4"`: blocks 1-4 frozen, block 5 and the head trainable, as in
    /// the paper); `nil` leaves everything trainable.
    public static func vgg(_ configuration: VGGConfiguration, head: TransferHead = TransferHead(),
                           freezeThrough: String? = "block4", name: String = "sequential",
                           rng: inout SeededGenerator) throws -> Sequential {
        var base = configuration
        base.includeTop = false
        let model = try make(base: try VGG.make(base, rng: &rng), inputShape: base.inputShape, head: head, name: name,
                             rng: &rng)
        if let freezeThrough { try model.freeze(through: freezeThrough) }
        return model
    }

    /// A pooled backbone (ResNet50, MobileNetV2, EfficientNetB0) with the head a Keras
    /// Sequential names `global_average_pooling2d` -> [`dropout`] -> `dense` (softmax):
    /// `Sequential(name, [base, global_average_pooling2d, (dropout), dense])`, the layout of
    /// the reference fixtures and of tf_keras' `save_weights` (one group for the base).
    public static func pooled(base: any Layer, inputShape: [Int], classes: Int, dropoutRate: Float? = nil,
                              dropoutSeed: UInt64 = 0, name: String = "sequential",
                              rng: inout SeededGenerator) throws -> Sequential {
        let features = try base.outputShape(for: Shape([1] + inputShape))
        guard features.rank == 4 else {
            throw LayerError.shapeMismatch(layer: base.name, expected: "a [batch, h, w, channels] output", got: features)
        }
        var layers: [any Layer] = [base, GlobalAveragePooling2D(name: "global_average_pooling2d")]
        if let rate = dropoutRate { layers.append(try Dropout(name: "dropout", rate: rate, seed: dropoutSeed)) }
        layers.append(try Dense(name: "dense", inputSize: features[3], outputSize: classes, activation: .softmax, rng: &rng))
        return try Sequential(name: name, layers)
    }
}
