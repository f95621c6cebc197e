import Foundation
import Tensor
import Train
import XCTest

/// AdamW against the PyTorch formula written out in double precision, its defaults and
/// range checks, and which parameters its weight decay touches.
final class AdamWTests: XCTestCase {
    /// `torch.optim.AdamW`'s algorithm, step by step (t = 1, 2, ...):
    /// ```
    /// θ ← θ − γλθ
    /// m ← β1 m + (1 − β1) g;   v ← β2 v + (1 − β2) g²
    /// m̂ = m / (1 − β1^t);      v̂ = v / (1 − β2^t)
    /// θ ← θ − γ m̂ / (√v̂ + ε̂)
    /// ```
    /// with ε̂ = ε / √(1 − β2^t): Keras adds ε to √v rather than to √v̂, which is exactly
    /// PyTorch's formula with that ε̂ (for the gradients here the two placements differ by
    /// less than 1e-9 anyway).
    static func pytorchAdamW(start: [Float], gradients: [[Float]], learningRates: [Double], weightDecay: Double,
                             beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7) -> [[Double]] {
        var theta = start.map(Double.init)
        var m = [Double](repeating: 0, count: theta.count), v = m
        var history: [[Double]] = []
        for (index, g32) in gradients.enumerated() {
            let t = Double(index + 1), lr = learningRates[index]
            let correction1 = 1 - pow(beta1, t), correction2 = 1 - pow(beta2, t)
            let epsilonHat = epsilon / correction2.squareRoot()
            for i in theta.indices {
                let g = Double(g32[i])
                theta[i] -= lr * weightDecay * theta[i]
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                let mHat = m[i] / correction1, vHat = v[i] / correction2
                theta[i] -= lr * mHat / (vHat.squareRoot() + epsilonHat)
            }
            history.append(theta)
        }
        return history
    }

    let start: [Float] = [0.5, -0.25, 2, -3]
    let gradients: [[Float]] = [[0.2, -1.5, 0.03, 0], [0.1, 0.4, -0.02, 1], [-0.3, -0.8, 0.05, -0.5]]

    func testDefaultsAreKeras3() throws {
        let adamW = try AdamW()
        XCTAssertEqual(adamW.learningRate, 1e-3)
        XCTAssertEqual(adamW.weightDecay, 0.004)
        XCTAssertEqual(adamW.beta1, 0.9)
        XCTAssertEqual(adamW.beta2, 0.999)
        XCTAssertEqual(adamW.epsilon, 1e-7)
        XCTAssertFalse(adamW.amsgrad)
        XCTAssertNil(adamW.learningRateSchedule)
        XCTAssertEqual(adamW.slotNames, ["momentum", "velocity"])
        XCTAssertEqual(try AdamW(amsgrad: true).slotNames, ["momentum", "velocity", "velocity_hat"])
    }

    /// Three steps with a weight decay large enough to matter (lr·λ = 5e-3 per step), in
    /// float32 against the double-precision PyTorch reference.
    func testThreeStepsMatchPyTorchFormula() throws {
        let optimizer = try AdamW(learningRate: 0.05, weightDecay: 0.1)
        let history = runSteps(optimizer, start: start, gradients: gradients)
        let reference = Self.pytorchAdamW(start: start, gradients: gradients, learningRates: [0.05, 0.05, 0.05],
                                          weightDecay: 0.1)
        assertHistory(history, reference, tolerance: 2e-6, "AdamW")
        // The decay is there: plain Adam ends elsewhere, by about lr·λ·Σθ for the large weights.
        let adam = runSteps(try Adam(learningRate: 0.05), start: start, gradients: gradients)
        XCTAssertGreaterThan(abs(adam[2][2] - history[2][2]), 0.02)
        XCTAssertEqual(optimizer.iterations, 3)
    }

    /// Step 1 by hand: θ = 2, g = 0.03, lr = 0.05, λ = 0.1. Decay: 2 − 0.05·0.1·2 = 1.99; the
    /// bias-corrected Adam step is lr·g / (|g| + ε/√(1−β2)) = 0.05 · 0.03 / (0.03 + 3.1623e-6).
    func testFirstStepByHand() throws {
        let history = runSteps(try AdamW(learningRate: 0.05, weightDecay: 0.1), start: [2], gradients: [[0.03]])
        let epsilonHat = 1e-7 / (1 - Double(Float(0.999))).squareRoot()
        XCTAssertEqual(Double(history[0][0]), 1.99 - 0.05 * 0.03 / (0.03 + epsilonHat), accuracy: 1e-6)
    }

    /// With a schedule, each step's decay and Adam step use that step's rate.
    func testScheduledRateDrivesDecayAndStep() throws {
        let schedule = try StepDecay(initialLearningRate: 0.05, stepSize: 2, gamma: 0.5)
        let optimizer = try AdamW(learningRate: 1, weightDecay: 0.1, schedule: schedule)
        let history = runSteps(optimizer, start: start, gradients: gradients)
        let reference = Self.pytorchAdamW(start: start, gradients: gradients, learningRates: [0.05, 0.05, 0.025],
                                          weightDecay: 0.1)
        assertHistory(history, reference, tolerance: 2e-6, "scheduled AdamW")
    }

    func testZeroWeightDecayIsAdamBitForBit() throws {
        for amsgrad in [false, true] {
            let adamW = runSteps(try AdamW(learningRate: 1e-2, weightDecay: 0, amsgrad: amsgrad), start: start,
                                 gradients: gradients)
            let adam = runSteps(try Adam(learningRate: 1e-2, amsgrad: amsgrad), start: start, gradients: gradients)
            XCTAssertEqual(adamW, adam, "amsgrad \(amsgrad)")
        }
    }

    func testAMSGradWithDecayMatchesReference() throws {
        // AMSGrad's running maximum, then the decay: the reference is Adam's with the decay folded in.
        let optimizer = try AdamW(learningRate: 1e-2, weightDecay: 0.5, beta2: 0.9, amsgrad: true)
        let falling: [[Float]] = [[2, -1], [0.01, 0.01], [0.01, -0.01]]
        let history = runSteps(optimizer, start: [0.3, 0.3], gradients: falling)
        var w = [0.3, 0.3], m = [0.0, 0.0], v = m, vHat = m
        let beta1 = Double(Float(0.9)), beta2 = Double(Float(0.9))
        for (step, g32) in falling.enumerated() {
            let t = Double(step + 1)
            let alpha = 1e-2 * (1 - pow(beta2, t)).squareRoot() / (1 - pow(beta1, t))
            for i in w.indices {
                let g = Double(g32[i])
                w[i] -= w[i] * 0.5 * 1e-2
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                vHat[i] = max(vHat[i], v[i])
                w[i] -= alpha * m[i] / (vHat[i].squareRoot() + 1e-7)
            }
            assertClose(history[step], w, tolerance: 1e-6, "step \(step + 1)")
        }
    }

    /// Only the parameters the step updates are decayed: frozen weights (even with a
    /// gradient), weights without a gradient and layer state (moving statistics) keep their
    /// values and get no optimizer state.
    func testWeightDecayTouchesOnlyUpdatedParameters() throws {
        let optimizer = try AdamW(learningRate: 0.5, weightDecay: 0.5)  // would shrink by 25% per step
        let trained = Parameter(name: "kernel", value: Tensor([1, 2], shape: [2]))
        let frozen = Parameter(name: "frozen", value: Tensor([3, 4], shape: [2]))
        let idle = Parameter(name: "idle", value: Tensor([5, 6], shape: [2]))
        let movingMean = Parameter(name: "moving_mean", value: Tensor([7, 8], shape: [2]), role: .state)
        setGradient(frozen, [0.5, -0.5])
        frozen.isTrainable = false
        movingMean.isTrainable = true  // state stays untrainable whatever is asked
        XCTAssertFalse(movingMean.isTrainable)
        for _ in 0..<3 {
            setGradient(trained, [0.5, -0.5])
            optimizer.step([trained, frozen, idle, movingMean])
        }
        XCTAssertEqual(frozen.value.scalars, [3, 4])
        XCTAssertEqual(idle.value.scalars, [5, 6])
        XCTAssertEqual(movingMean.value.scalars, [7, 8])
        for parameter in [frozen, idle, movingMean] {
            XCTAssertTrue(optimizer.state(of: parameter).isEmpty, parameter.name)
        }
        // The trained weight was decayed and stepped: 1 → 0.75·1 − 0.5 → ..., by the reference.
        let reference = Self.pytorchAdamW(start: [1, 2], gradients: Array(repeating: [0.5, -0.5], count: 3),
                                          learningRates: [0.5, 0.5, 0.5], weightDecay: 0.5)
        assertClose(trained.value.scalars, reference[2], tolerance: 1e-6, "trained")
        XCTAssertEqual(optimizer.state(of: trained).count, 2)
    }

    func testHyperparametersAreChecked() {
        let cases: [(String, () throws -> any Optimizer)] = [
            ("AdamW weight decay -0.01 must be a finite number >= 0", { try AdamW(weightDecay: -0.01) }),
            ("AdamW weight decay nan must be a finite number >= 0", { try AdamW(weightDecay: .nan) }),
            ("AdamW weight decay inf must be a finite number >= 0", { try AdamW(weightDecay: .infinity) }),
            ("AdamW learning rate -1.0 must be a finite number >= 0", { try AdamW(learningRate: -1) }),
            ("AdamW beta1 1.0 must be in [0, 1)", { try AdamW(beta1: 1) }),
            ("AdamW beta2 -0.1 must be in [0, 1)", { try AdamW(beta2: -0.1) }),
            ("AdamW epsilon 0.0 must be a finite number > 0", { try AdamW(epsilon: 0) }),
        ]
        for (message, make) in cases {
            XCTAssertThrowsError(try make(), message) { error in
                XCTAssertEqual("\(error)", message)
                guard case .invalidHyperparameter(optimizer: "AdamW", name: _, value: _, requirement: _)? = error as? OptimizerError
                else { return XCTFail("\(error) is not an invalid AdamW hyperparameter") }
            }
        }
        XCTAssertNoThrow(try AdamW(weightDecay: 0))
    }
}
