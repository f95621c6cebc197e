import Foundation
import Layers
import Tensor
import TestSupport
import XCTest

/// Rescaling and Normalization (EfficientNet's input layers): values, Keras' weights, gradients.
final class PreprocessingLayerTests: XCTestCase {
    func testRescalingValues() throws {
        let rescale = try Rescaling(scale: 1 / 255)
        XCTAssertEqual(rescale.kerasClassName, "Rescaling")
        XCTAssertTrue(rescale.parameters.isEmpty)
        XCTAssertEqual(rescale.name, "rescaling")
        let x = Tensor([0, 51, 127.5, 255, 10, 200], shape: [1, 1, 2, 3])
        assertValues(try rescale(x), [0, 0.2, 0.5, 1, 10 / 255, 200 / 255], tolerance: 1e-7, "x / 255")
        XCTAssertEqual(try rescale.outputShape(for: [2, 9, 9, 3]), [2, 9, 9, 3])

        let shifted = try Rescaling(scale: 1 / 127.5, offset: -1)
        assertValues(try shifted(x), x.scalars.map { $0 / 127.5 - 1 }, tolerance: 1e-6, "x / 127.5 - 1")

        // Per channel (EfficientNet with ImageNet weights rescales by 1 / sqrt(stddev)).
        let perChannel = try Rescaling(scale: [1, 2, 4], offset: [0, 0.5, -1])
        assertValues(try perChannel(x), [0, 102.5, 509, 255, 20.5, 799], tolerance: 1e-4, "per-channel")
        assertShapeMismatch(layer: "rescaling", got: [1, 2]) { try perChannel(Tensor(zeros: [1, 2])) }
        XCTAssertThrowsError(try perChannel.outputShape(for: [1, 4]))
    }

    func testRescalingGradient() throws {
        for layer in [try Rescaling(scale: 0.25, offset: 3), try Rescaling(scale: [0.5, -2, 3], offset: [1])] {
            let errors = try GradientCheck.layerErrors(layer, inputs: [randomTensor([2, 3, 2, 3], seed: 1)])
            XCTAssertEqual(Array(errors.keys), ["input0"])
            assertGradientError(errors["input0"]!, below: 1e-3, "rescaling dX")
        }
        let input = randomTensor([4, 3], seed: 2).requiringGradient()
        try Rescaling(scale: [0.5, -2, 3])(input).sum().backward()
        assertValues(input.gradient, [Float](repeating: 0, count: 4).flatMap { _ in [0.5, -2, 3] }, tolerance: 0,
                     "dX = scale")
    }

    func testRescalingRefusesBadSettings() {
        XCTAssertThrowsError(try Rescaling(name: "r", scale: [])) {
            XCTAssertEqual("\($0)", "layer 'r': scale [] must have at least one value")
        }
        XCTAssertThrowsError(try Rescaling(name: "r", scale: .nan)) {
            XCTAssertEqual("\($0)", "layer 'r': scale [nan] must be finite")
        }
        XCTAssertThrowsError(try Rescaling(name: "r", scale: [1, 2], offset: [1, 2, 3])) {
            XCTAssertEqual($0 as? LayerError, .invalidConfiguration(
                layer: "r", setting: "scale of 2 values and offset of 3",
                requirement: "must have one value or the same number (one per channel)"))
        }
    }

    func testNormalizationMatchesKerasFormula() throws {
        // EfficientNet's ImageNet statistics (what the fixtures set).
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        let norm = try Normalization(channels: 3, mean: mean, variance: std.map { $0 * $0 }, count: 1000)
        XCTAssertEqual(norm.kerasClassName, "Normalization")
        XCTAssertEqual(norm.parameters.map(\.name), ["mean", "variance", "count"])
        XCTAssertEqual(norm.parameters.map(\.role), [.state, .state, .state])
        XCTAssertFalse(norm.isTrainable)
        XCTAssertEqual(norm.count.shape, [], "count is a scalar")
        XCTAssertEqual(norm.count.value.scalar, 1000)
        norm.setTrainable(true)
        XCTAssertFalse(norm.parameters.contains { $0.isTrainable }, "state stays untrainable")

        let x = randomTensor([2, 4, 4, 3], low: 0, high: 1, seed: 3)
        let expected = x.scalars.enumerated().map { i, v -> Float in
            let k = i % 3
            let sd = max(Double(std[k] * std[k]).squareRoot(), 1e-7)
            return Float((Double(v) - Double(mean[k])) / sd)
        }
        assertValues(try norm(x), expected, tolerance: 2e-6, "(x - mean) / sqrt(variance)")
        assertValues(try norm(x, training: true), expected, tolerance: 2e-6, "training changes nothing")
        assertShapeMismatch(layer: "normalization", got: [2, 4]) { try norm(Tensor(zeros: [2, 4])) }

        // The 1e-7 floor is on the standard deviation: a zero variance divides by 1e-7.
        let floored = try Normalization(channels: 2, mean: [1, 0], variance: [0, 1e-16])
        assertValues(try floored(Tensor([1.5, 2e-7], shape: [1, 2])), [5e6, 2], tolerance: 1, "floor 1e-7")
        XCTAssertEqual(try floored(Tensor([1.5, 2e-7], shape: [1, 2]))[flat: 0] / 5e6, 1, accuracy: 1e-6)
        // Keras' initial state is the identity map.
        let initial = try Normalization(channels: 3)
        assertValues(initial.mean.value, [0, 0, 0], tolerance: 0, "mean starts at 0")
        assertValues(initial.variance.value, [1, 1, 1], tolerance: 0, "variance starts at 1")
        XCTAssertEqual(initial.count.value.scalar, 0)
        assertValues(try initial(x), x.scalars, tolerance: 0, "identity")
        // Loaded state is read at call time.
        initial.mean.value = Tensor([1, 2, 3], shape: [3])
        initial.variance.value = Tensor([4, 4, 4], shape: [3])
        assertValues(try initial(Tensor([3, 4, 5], shape: [1, 3])), [1, 1, 1], tolerance: 1e-7, "after loading")
    }

    func testNormalizationGradientIsToTheInputOnly() throws {
        let norm = try Normalization(channels: 3, mean: [0.5, -1, 2], variance: [0.25, 4, 0.01])
        let errors = try GradientCheck.layerErrors(norm, inputs: [randomTensor([2, 3, 3, 3], seed: 4)], epsilon: 5e-2)
        XCTAssertEqual(Array(errors.keys), ["input0"])
        assertGradientError(errors["input0"]!, below: 1e-3, "normalization dX")
        let input = randomTensor([2, 3], seed: 5).requiringGradient()
        try norm(input).sum().backward()
        assertValues(input.gradient, [2, 0.5, 10, 2, 0.5, 10], tolerance: 1e-5, "dX = 1 / std")
        XCTAssertNil(norm.mean.gradient)
        XCTAssertNil(norm.variance.gradient)
    }

    func testNormalizationRefusesBadSettings() {
        XCTAssertThrowsError(try Normalization(name: "n", channels: 0)) {
            XCTAssertEqual("\($0)", "layer 'n': channels 0 must be >= 1")
        }
        XCTAssertThrowsError(try Normalization(name: "n", channels: 3, mean: [0, 0])) {
            XCTAssertEqual("\($0)", "layer 'n': mean of 2 values must have one per channel (3)")
        }
        XCTAssertThrowsError(try Normalization(name: "n", channels: 2, variance: [1, -1])) {
            XCTAssertEqual("\($0)", "layer 'n': variance [1.0, -1.0] must be finite and >= 0")
        }
        XCTAssertThrowsError(try Normalization(name: "n", channels: 1, mean: [.infinity])) {
            XCTAssertEqual("\($0)", "layer 'n': mean [inf] must be finite")
        }
    }
}
