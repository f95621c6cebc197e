import Layers
import Tensor
import TestSupport
import XCTest

/// Layers against gradients TensorFlow computed (`Tests/Fixtures/layer_*`).
final class KerasLayerFixtureTests: XCTestCase {
    /// Asserts `actual` matches `expected` within `tolerance` relative to the reference's scale.
    func assertClose(_ actual: Tensor?, _ expected: Tensor, tolerance: Float = 1e-5, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        guard let actual else { return XCTFail("\(what): no value", file: file, line: line) }
        XCTAssertEqual(actual.shape, expected.shape, what, file: file, line: line)
        guard actual.shape == expected.shape else { return }
        let scale = max(expected.scalars.map(abs).max() ?? 0, 1e-3)
        let error = actual.maxAbsDifference(expected) / scale
        XCTAssertLessThanOrEqual(error, tolerance, "\(what): relative error \(error)", file: file, line: line)
    }

    func checkConv(_ prefix: String, stride: Int, padding: Padding) throws {
        let x = try Fixtures.tensor("\(prefix)_x"), kernel = try Fixtures.tensor("\(prefix)_kernel")
        var rng = SeededGenerator(seed: 1)
        let conv = try Conv2D(name: prefix, inputChannels: kernel.shape[2], filters: kernel.shape[3],
                          kernelSize: (kernel.shape[0], kernel.shape[1]), stride: (stride, stride),
                          padding: padding, activation: .linear, rng: &rng)
        conv.kernel.value = kernel
        conv.bias!.value = try Fixtures.tensor("\(prefix)_bias")
        let input = x.requiringGradient()
        let y = try conv(input)
        assertClose(y, try Fixtures.tensor("\(prefix)_y"), "\(prefix) y")
        y.backward(seed: try Fixtures.tensor("\(prefix)_dy"))
        assertClose(input.gradient, try Fixtures.tensor("\(prefix)_dx"), "\(prefix) dx")
        assertClose(conv.kernel.gradient, try Fixtures.tensor("\(prefix)_dkernel"), "\(prefix) dkernel")
        assertClose(conv.bias!.gradient, try Fixtures.tensor("\(prefix)_dbias"), "\(prefix) dbias")
    }

    func testConvSameStride1MatchesKeras() throws { try checkConv("layer_conv_same_s1", stride: 1, padding: .same) }

    func testConvValidStride2MatchesKeras() throws { try checkConv("layer_conv_valid_s2", stride: 2, padding: .valid) }

    func testMaxPoolMatchesKeras() throws {
        let input = try Fixtures.tensor("layer_maxpool_x").requiringGradient()
        let y = try MaxPool2D(name: "pool")(input)
        assertClose(y, try Fixtures.tensor("layer_maxpool_y"), "maxpool y")
        y.backward(seed: try Fixtures.tensor("layer_maxpool_dy"))
        assertClose(input.gradient, try Fixtures.tensor("layer_maxpool_dx"), "maxpool dx")
    }

    func testWeightedCrossEntropyMatchesKeras() throws {
        let logits = try Fixtures.tensor("layer_weighted_ce_logits").requiringGradient()
        let targets = try Fixtures.tensor("layer_weighted_ce_y")
        let weights = try Fixtures.tensor("layer_weighted_ce_sample_weight").scalars
        let loss = try SoftmaxCrossEntropy.weighted(logits: logits, targets: targets, sampleWeights: weights)
        assertClose(loss.reshaped([1]), try Fixtures.tensor("layer_weighted_ce_loss").reshaped([1]), "loss")
        loss.backward()
        assertClose(logits.gradient, try Fixtures.tensor("layer_weighted_ce_dlogits"), "dlogits")
    }
}
