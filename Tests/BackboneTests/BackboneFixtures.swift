import Foundation
import KerasFiles
import Layers
import Tensor
import TestSupport
import Zoo

/// The reduced backbones of `Tests/Fixtures/keras_backbones/` (see its generator), built the
/// way the fixture script builds them.
enum Backbone: String, CaseIterable {
    case resnet50, mobilenetv2, efficientnetb0

    static let inputSize = 96

    func base() throws -> Graph {
        switch self {
        case .resnet50:
            return try ResNet50.make(ResNet50Configuration(inputSize: Self.inputSize, widths: [8, 16, 32, 64]))
        case .mobilenetv2:
            return try MobileNetV2.make(MobileNetV2Configuration(inputSize: Self.inputSize, alpha: 0.35))
        case .efficientnetb0:
            return try EfficientNet.make(EfficientNetConfiguration(inputSize: Self.inputSize, widthCoefficient: 0.25,
                                                                   depthCoefficient: 0.34, dropConnectRate: 0))
        }
    }

    /// The last frozen layer of the fixture's two training steps (its trainable prefixes start after it).
    var freezeThrough: String {
        switch self {
        case .resnet50: return "conv4_block6_out"
        case .mobilenetv2: return "block_15_add"
        case .efficientnetb0: return "block6b_add"
        }
    }

    var gradCAMLayer: String {
        switch self {
        case .resnet50: return "conv5_block3_out"
        case .mobilenetv2: return "out_relu"
        case .efficientnetb0: return "top_activation"
        }
    }

    /// Base + GAP + Dense(2, softmax), frozen as in the fixture, with the fixture's initial weights.
    func transfer(loadWeights: Bool = true) throws -> Sequential {
        var rng = SeededGenerator(seed: 5)
        let model = try TransferModel.pooled(base: try base(), inputShape: [Self.inputSize, Self.inputSize, 3],
                                             classes: 2, name: "\(rawValue)_transfer", rng: &rng)
        try model.freeze(through: freezeThrough)
        if loadWeights { try KerasWeights.load(url("transfer.h5"), into: model) }
        return model
    }

    func url(_ suffix: String) -> URL { Fixtures.url("keras_backbones/\(rawValue)_\(suffix)") }
    func tensor(_ suffix: String) throws -> Tensor { try NPY.read(url(suffix + ".npy")) }
}

/// Largest `|a - b|` relative to the largest `|b|` (at least 1).
func relativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
    let scale = max(1, b.scalars.map(abs).max() ?? 0)
    return a.maxAbsDifference(b) / scale
}
