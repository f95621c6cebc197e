import Tensor
import Train
import XCTest

/// Adam against Keras' update rule, including the bias correction.
final class AdamTests: XCTestCase {
    let start: [Float] = [0.5, -0.25, 0.1, 2]
    let gradients: [[Float]] = [[0.2, -1.5, 3e-3, 0], [0.1, 0.4, -2e-3, 1], [-0.3, -0.8, 5e-3, -0.5]]

    func testDefaultsAreKeras() throws {
        let adam = try Adam()
        XCTAssertEqual(adam.learningRate, 1e-3)
        XCTAssertEqual(adam.beta1, 0.9)
        XCTAssertEqual(adam.beta2, 0.999)
        XCTAssertEqual(adam.epsilon, 1e-7)
        XCTAssertEqual(adam.slotNames, ["momentum", "velocity"])
    }

    /// With bias correction the first step is lr * g / (|g| + eps / sqrt(1 - beta2)) ~ lr * sign(g),
    /// whatever the gradient's size.
    func testFirstStepMovesEachWeightByLearningRate() throws {
        let w0: [Float] = [1, 1, 1, 1, 0]
        let g: [Float] = [100, -0.01, 3, -1e-3, 1e-5]
        let history = runSteps(try Adam(learningRate: 1e-3), start: w0, gradients: [g])
        let moved = zip(history[0], w0).map { $0 - $1 }
        for (i, step) in moved.enumerated() {
            XCTAssertEqual(abs(step), 1e-3, accuracy: i == 4 ? 5e-4 : 4e-6, "[\(i)] moved by \(step)")
        }
        let damping = 1e-7 / (1 - Double(Float(0.999))).squareRoot()
        assertClose(moved, g.map { -1e-3 * Double($0) / (abs(Double($0)) + damping) }, tolerance: 1e-7)
    }

    /// By hand, w = 0, g = 1 then 0.5 (lr 1e-3): step 1 moves by lr (so w = -1e-3);
    /// step 2: m = 0.14, v = 0.001249, alpha = 1e-3 * sqrt(0.001999) / 0.19 = 2.35317e-4,
    /// w -= alpha * 0.14 / sqrt(0.001249) = 9.32177e-4 -> w = -1.932177e-3.
    func testHandComputedSteps() throws {
        let history = runSteps(try Adam(), start: [0], gradients: [[1], [0.5]]).map { $0[0] }
        assertClose(history, [-1e-3, -1.932177e-3], tolerance: 1e-8)
    }

    func testThreeStepsMatchReference() throws {
        let history = runSteps(try Adam(learningRate: 1e-2), start: start, gradients: gradients)
        assertHistory(history, Reference.adam(start: start, gradients: gradients, learningRates: [1e-2, 1e-2, 1e-2]),
                      tolerance: 1e-6)
    }

    func testAMSGradMatchesReference() throws {
        // beta2 0.9 so that v falls within three steps and the running maximum matters.
        let optimizer = try Adam(learningRate: 1e-2, beta2: 0.9, amsgrad: true)
        XCTAssertEqual(optimizer.slotNames, ["momentum", "velocity", "velocity_hat"])
        let falling: [[Float]] = [[2, -1], [0.01, 0.01], [0.01, -0.01]]
        let history = runSteps(optimizer, start: [0.3, 0.3], gradients: falling)
        assertHistory(history, Reference.adam(start: [0.3, 0.3], gradients: falling, learningRates: [1e-2, 1e-2, 1e-2],
                                              beta2: 0.9, amsgrad: true), tolerance: 1e-6)
        let plain = runSteps(try Adam(learningRate: 1e-2, beta2: 0.9), start: [0.3, 0.3], gradients: falling)
        XCTAssertGreaterThan(abs(plain[2][0] - history[2][0]), 1e-4, "AMSGrad should damp steps after a large gradient")
    }

    /// alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t) with t = iterations + 1, and the betas
    /// rounded to float32 first as Keras does (1 - 0.999f = 0.99998713e-3).
    func testCorrectedLearningRateFollowsIterations() throws {
        let adam = try Adam(learningRate: 1e-3)
        let b1 = Double(Float(0.9)), b2 = Double(Float(0.999))
        XCTAssertEqual(Double(adam.correctedLearningRate), 3.16225662e-4, accuracy: 1e-12)
        adam.iterations = 9
        let t = 10.0
        XCTAssertEqual(Double(adam.correctedLearningRate),
                       1e-3 * (1 - pow(b2, t)).squareRoot() / (1 - pow(b1, t)), accuracy: 5e-11)
    }
}
