import Foundation
import Tensor
import Train
import XCTest

/// The schedules' values at chosen steps, their range checks, and optimizers driven by them.
final class LearningRateScheduleTests: XCTestCase {
    func assertRate(_ schedule: any LearningRateSchedule, _ step: Int, _ expected: Double, accuracy: Double = 1e-7,
                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Double(schedule.learningRate(atStep: step)), expected, accuracy: accuracy,
                       "\(schedule) at step \(step)", file: file, line: line)
    }

    func testConstant() throws {
        let constant = try ConstantLearningRate(1e-3)
        for step in [0, 1, 1000] { assertRate(constant, step, Double(Float(1e-3)), accuracy: 0) }
    }

    /// Keras' CosineDecay without warmup: initial · ((1 − α) · ½(1 + cos(π s / decaySteps)) + α).
    func testCosineDecayWithoutWarmup() throws {
        let cosine = try CosineDecay(initialLearningRate: 0.1, decaySteps: 100, alpha: 0.2)
        assertRate(cosine, 0, 0.1)
        assertRate(cosine, 50, 0.1 * (0.8 * 0.5 + 0.2))            // mid: the average of start and end
        assertRate(cosine, 25, 0.1 * (0.8 * 0.5 * (1 + cos(Double.pi / 4)) + 0.2))
        assertRate(cosine, 100, 0.1 * 0.2)                          // end: alpha · initial
        assertRate(cosine, 5000, 0.1 * 0.2)                         // and it stays there
        let toZero = try CosineDecay(initialLearningRate: 0.1, decaySteps: 10)
        assertRate(toZero, 10, 0)
        assertRate(toZero, 11, 0)
    }

    /// With warmup (Keras' warmup_target / warmup_steps): linear from the initial rate to the
    /// target over the warmup, then the cosine from the target to alpha · target.
    func testCosineDecayWithWarmup() throws {
        let cosine = try CosineDecay(initialLearningRate: 0, decaySteps: 100, alpha: 0.1, warmupTarget: 0.1, warmupSteps: 10)
        assertRate(cosine, 0, 0)                         // warmup start
        assertRate(cosine, 1, 0.01)
        assertRate(cosine, 5, 0.05)
        assertRate(cosine, 9, 0.09)
        assertRate(cosine, 10, 0.1)                      // warmup end = decay start
        assertRate(cosine, 35, 0.1 * (0.9 * 0.5 * (1 + cos(Double.pi * 25 / 100)) + 0.1))
        assertRate(cosine, 60, 0.1 * (0.9 * 0.5 + 0.1))  // mid cosine
        assertRate(cosine, 110, 0.01)                    // end with alpha
        assertRate(cosine, 10_000, 0.01)
        // A warmup that starts above zero, and one that falls.
        let from = try CosineDecay(initialLearningRate: 0.02, decaySteps: 4, warmupTarget: 0.1, warmupSteps: 4)
        assertRate(from, 2, 0.06)
        let falling = try CosineDecay(initialLearningRate: 0.1, decaySteps: 4, warmupTarget: 0.05, warmupSteps: 2)
        assertRate(falling, 1, 0.075)
        // Keras: a warmup target without warmup steps decays from the target at once.
        let noSteps = try CosineDecay(initialLearningRate: 1, decaySteps: 10, warmupTarget: 0.5)
        assertRate(noSteps, 0, 0.5)
        assertRate(noSteps, 5, 0.25)
    }

    /// PyTorch's StepLR: initial · γ^⌊step / stepSize⌋.
    func testStepDecayBoundaries() throws {
        let step = try StepDecay(initialLearningRate: 0.1, stepSize: 3, gamma: 0.5)
        assertRate(step, 0, Double(Float(0.1)), accuracy: 1e-12)
        assertRate(step, 2, Double(Float(0.1)), accuracy: 1e-12)      // last step of the first period
        assertRate(step, 3, Double(Float(0.05)), accuracy: 1e-9)      // first reduction
        assertRate(step, 5, Double(Float(0.05)), accuracy: 1e-9)
        assertRate(step, 6, Double(Float(0.025)), accuracy: 1e-9)
        assertRate(step, 30, 0.1 * pow(0.5, 10), accuracy: 1e-9)
        XCTAssertEqual(try StepDecay(initialLearningRate: 1, stepSize: 1).gamma, 0.1, "PyTorch's default gamma")
        assertRate(try StepDecay(initialLearningRate: 1, stepSize: 1), 2, 0.01, accuracy: 1e-7)
    }

    /// Keras' PolynomialDecay (cycle=False) / the SegFormer recipe's "poly" schedule.
    func testPolynomialDecay() throws {
        let linear = try PolynomialDecay(initialLearningRate: 6e-5, decaySteps: 100)
        assertRate(linear, 0, Double(Float(6e-5)), accuracy: 1e-12)
        assertRate(linear, 25, 4.5e-5, accuracy: 1e-11)
        assertRate(linear, 100, 0, accuracy: 1e-15)
        assertRate(linear, 500, 0, accuracy: 1e-15)          // stays at the end rate
        let squared = try PolynomialDecay(initialLearningRate: 1, decaySteps: 10, endLearningRate: 0.1, power: 2)
        assertRate(squared, 5, 0.9 * 0.25 + 0.1, accuracy: 1e-7)
        XCTAssertThrowsError(try PolynomialDecay(initialLearningRate: 1, decaySteps: 0))
        XCTAssertThrowsError(try PolynomialDecay(initialLearningRate: 1, decaySteps: 5, power: 0))
    }

    func testParametersAreChecked() {
        let cases: [(String, () throws -> any LearningRateSchedule)] = [
            ("ConstantLearningRate learning rate -1.0 must be a finite number >= 0", { try ConstantLearningRate(-1) }),
            ("ConstantLearningRate learning rate nan must be a finite number >= 0", { try ConstantLearningRate(.nan) }),
            ("CosineDecay initial learning rate inf must be a finite number >= 0",
             { try CosineDecay(initialLearningRate: .infinity, decaySteps: 10) }),
            ("CosineDecay decay steps 0 must be >= 1", { try CosineDecay(initialLearningRate: 0.1, decaySteps: 0) }),
            ("CosineDecay alpha 1.5 must be in [0, 1]", { try CosineDecay(initialLearningRate: 0.1, decaySteps: 10, alpha: 1.5) }),
            ("CosineDecay alpha nan must be in [0, 1]", { try CosineDecay(initialLearningRate: 0.1, decaySteps: 10, alpha: .nan) }),
            ("CosineDecay warmup steps -1 must be >= 0",
             { try CosineDecay(initialLearningRate: 0, decaySteps: 10, warmupTarget: 0.1, warmupSteps: -1) }),
            ("CosineDecay warmup target -0.1 must be a finite number >= 0",
             { try CosineDecay(initialLearningRate: 0, decaySteps: 10, warmupTarget: -0.1, warmupSteps: 5) }),
            ("CosineDecay warmup steps 5 need a warmup target (the rate to warm up to)",
             { try CosineDecay(initialLearningRate: 0, decaySteps: 10, warmupSteps: 5) }),
            ("StepDecay step size 0 must be >= 1", { try StepDecay(initialLearningRate: 0.1, stepSize: 0) }),
            ("StepDecay gamma 2.0 must be in [0, 1]", { try StepDecay(initialLearningRate: 0.1, stepSize: 3, gamma: 2) }),
            ("StepDecay initial learning rate -0.1 must be a finite number >= 0",
             { try StepDecay(initialLearningRate: -0.1, stepSize: 3) }),
        ]
        for (message, make) in cases {
            XCTAssertThrowsError(try make(), message) { error in
                XCTAssertEqual("\(error)", message)
                XCTAssertNotNil(error as? LearningRateScheduleError, "\(error) is not a LearningRateScheduleError")
            }
        }
    }

    /// Step `iterations` runs at the schedule's rate for `iterations`: the same numbers as the
    /// reference fed those rates, for every optimizer; `learningRate` itself is not used.
    func testOptimizersFollowTheSchedule() throws {
        let schedule = try CosineDecay(initialLearningRate: 0, decaySteps: 3, alpha: 0.1, warmupTarget: 0.02, warmupSteps: 2)
        let rates = (0..<5).map { Double(schedule.learningRate(atStep: $0)) }
        XCTAssertEqual(rates[0], 0)
        XCTAssertEqual(rates[2], Double(Float(0.02)), accuracy: 1e-12)
        let start: [Float] = [0.5, -0.25, 0.1]
        let gradients: [[Float]] = [[0.2, -1.5, 0.03], [0.1, 0.4, -0.02], [-0.3, -0.8, 0.05], [0.7, 0.1, -0.04],
                                    [0.2, 0.2, 0.2]]
        let rmsprop = try RMSprop(learningRate: 99, momentum: 0.5, schedule: schedule)
        XCTAssertEqual(rmsprop.currentLearningRate, 0)
        assertHistory(runSteps(rmsprop, start: start, gradients: gradients),
                      Reference.rmsprop(start: start, gradients: gradients, learningRates: rates, momentum: 0.5),
                      tolerance: 1e-6, "RMSprop")
        XCTAssertEqual(rmsprop.learningRate, 99, "the configured rate is kept")
        XCTAssertEqual(Double(rmsprop.currentLearningRate), Double(schedule.learningRate(atStep: 5)))
        assertHistory(runSteps(try SGD(learningRate: 99, momentum: 0.9, nesterov: true, schedule: schedule), start: start,
                               gradients: gradients),
                      Reference.sgd(start: start, gradients: gradients, learningRates: rates, momentum: 0.9, nesterov: true),
                      tolerance: 1e-6, "SGD")
        let adam = try Adam(learningRate: 99, schedule: schedule)
        assertHistory(runSteps(adam, start: start, gradients: gradients),
                      Reference.adam(start: start, gradients: gradients, learningRates: rates), tolerance: 1e-6, "Adam")
        adam.iterations = 2
        XCTAssertEqual(Double(adam.correctedLearningRate),
                       0.02 * (1 - pow(Double(Float(0.999)), 3)).squareRoot() / (1 - pow(Double(Float(0.9)), 3)),
                       accuracy: 1e-9, "bias correction of the scheduled rate")
        // A schedule set later takes over from the next step; removed, learningRate is back.
        let sgd = try SGD(learningRate: 0.1)
        sgd.learningRateSchedule = try ConstantLearningRate(0.5)
        XCTAssertEqual(sgd.currentLearningRate, 0.5)
        sgd.learningRateSchedule = nil
        XCTAssertEqual(sgd.currentLearningRate, 0.1)
    }
}
