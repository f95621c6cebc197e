import Tensor
import TestSupport
import XCTest
@testable import Layers

/// LayerNormalization, Dense over the last axis of any rank, and composite layers in the executor.
final class LayerNormalizationTests: XCTestCase {
    func testLayerNormalizationGradientsAndShape() throws {
        let norm = try LayerNormalization(name: "ln", features: 5)
        var rng = SeededGenerator(seed: 3)
        norm.gamma.value = Tensor.uniform([5], low: 0.5, high: 1.5, using: &rng)
        norm.beta.value = Tensor.uniform([5], low: -0.5, high: 0.5, using: &rng)
        let x = randomTensor([2, 3, 4, 5], low: -2, high: 2, seed: 4)
        XCTAssertEqual(try norm.outputShape(for: [x.shape]), x.shape)
        let errors = try GradientCheck.layerErrors(norm, inputs: [x])
        XCTAssertEqual(Set(errors.keys), ["input0", "gamma", "beta"])
        for (name, error) in errors { assertGradientError(error, "layer norm \(name)") }
        XCTAssertThrowsError(try norm(Tensor(zeros: [2, 4]))) { error in
            guard case LayerError.shapeMismatch(layer: "ln", _, _) = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try LayerNormalization(name: "bad", features: 3, epsilon: 0))
    }

    func testDenseAppliesToTheLastAxisOfAnyRank() throws {
        var rng = SeededGenerator(seed: 5)
        let dense = try Dense(name: "d", inputSize: 4, outputSize: 3, rng: &rng)
        dense.bias.value = Tensor([0.1, -0.2, 0.3], shape: [3])
        let x = randomTensor([2, 5, 4], low: -1, high: 1, seed: 6)
        let y = try dense(x)
        XCTAssertEqual(y.shape, [2, 5, 3])
        XCTAssertEqual(try dense.outputShape(for: [[2, 5, 4]]), [2, 5, 3])
        let flat = try dense(x.reshaped([10, 4]))
        XCTAssertEqual(y.scalars, flat.scalars, "rank 3 equals the same rows as a matrix")
        for (name, error) in try GradientCheck.layerErrors(dense, inputs: [x]) { assertGradientError(error, "dense rank 3 \(name)") }
    }

    /// A composite (ordinary Swift over sub-layers) runs as one step of the executor, can be
    /// stopped at by name, and exposes its sub-layers' parameters.
    final class Residual: CompositeLayer {
        let name: String
        let norm: LayerNormalization
        let dense: Dense
        init(name: String) throws {
            self.name = name
            var rng = SeededGenerator(seed: 9)
            norm = try LayerNormalization(name: "\(name).norm", features: 4)
            dense = try Dense(name: "\(name).dense", inputSize: 4, outputSize: 4, rng: &rng)
        }
        var layers: [any Layer] { [norm, dense] }
        func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
            input + (try dense(norm(input, training: training), training: training))
        }
    }

    func testCompositeLayersRunAsOneStep() throws {
        let block = try Residual(name: "block")
        let model = try Sequential(name: "model", [block, ActivationLayer(name: "out", .relu)])
        let plan = try ExecutionPlan(model)
        XCTAssertEqual(plan.steps.count, 2)
        XCTAssertEqual(model.parameters.count, 4)
        XCTAssertEqual(model.flattenedLayers.map(\.name), ["block.norm", "block.dense", "out"])
        let x = randomTensor([3, 4], low: -1, high: 1, seed: 10)
        let expected = try block(x).relu()
        XCTAssertEqual(try plan.forward(x, training: false).scalars, expected.scalars)
    }
}
