import Foundation
import Layers
import Tensor
import TestSupport
import XCTest
import Zoo
@testable import KerasFiles

/// The mini transfer models loaded from Keras' files reproduce Keras' outputs on `x_infer`.
final class KerasReferenceTests: XCTestCase {
    func check(_ depth: VGGConfiguration.Depth, file: String) throws {
        let net = depth.rawValue
        let model = try Mini.transfer(depth)
        try KerasWeights.load(Fixtures.url(file), into: model)
        let x = try Fixtures.tensor("x_infer")

        let probabilities = try withoutGradients { try model(x) }
        let expectedProbabilities = try Fixtures.tensor("\(net)_probs")
        XCTAssertEqual(probabilities.shape, expectedProbabilities.shape)
        XCTAssertLessThanOrEqual(probabilities.maxAbsDifference(expectedProbabilities), 1e-5, "\(file) probabilities")

        let logits = try withoutGradients { try model.logits(x) }
        let expectedLogits = try Fixtures.tensor("\(net)_logits")
        let scale = max(expectedLogits.scalars.map(abs).max() ?? 0, 1e-6)
        XCTAssertLessThanOrEqual(logits.maxAbsDifference(expectedLogits) / scale, 1e-4, "\(file) logits")

        let base = try XCTUnwrap(model.layers.first as? Sequential)
        var activation = x
        for layer in base.layers {
            activation = try withoutGradients { try layer(activation) }
            if layer.name == depth.lastConvolution { break }
        }
        let expectedLastConv = try Fixtures.tensor("\(net)_lastconv")
        XCTAssertEqual(activation.shape, expectedLastConv.shape)
        XCTAssertLessThanOrEqual(activation.maxAbsDifference(expectedLastConv), 1e-4, "\(file) \(depth.lastConvolution)")
    }

    func testMiniVGG16MatchesKeras() throws { try check(.vgg16, file: "vgg16_transfer.h5") }

    func testMiniVGG19MatchesKeras() throws { try check(.vgg19, file: "vgg19_transfer.h5") }

    func testMiniVGG19FromKeras3FileMatchesKeras() throws { try check(.vgg19, file: "vgg19_transfer.weights.h5") }
}
