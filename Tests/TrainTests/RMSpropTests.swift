import Tensor
import Train
import XCTest

/// RMSprop against the Keras formulas (ARCHITECTURE.md §5).
final class RMSpropTests: XCTestCase {
    let start: [Float] = [0.5, -0.25, 0.1, 2]
    let gradients: [[Float]] = [[0.2, -1.5, 3e-3, 0], [0.1, 0.4, -2e-3, 1], [-0.3, -0.8, 5e-3, -0.5]]

    func testDefaultsAreKeras() throws {
        let optimizer = try RMSprop()
        XCTAssertEqual(optimizer.learningRate, 1e-3)
        XCTAssertEqual(optimizer.rho, 0.9)
        XCTAssertEqual(optimizer.momentum, 0)
        XCTAssertEqual(optimizer.epsilon, 1e-7)
        XCTAssertFalse(optimizer.epsilonOutsideSquareRoot)
        XCTAssertEqual(optimizer.slotNames, ["velocity"])
    }

    /// Literal values worked out by hand: w = 1, g = 1, 1, -0.5, lr 1e-3.
    /// v1 = 0.1, v2 = 0.19, v3 = 0.196; w -= 1e-3 * g / sqrt(v + 1e-7).
    func testHandComputedStepsEpsilonInside() throws {
        let history = runSteps(try RMSprop(), start: [1], gradients: [[1], [1], [-0.5]])
        assertClose(history.map { $0[0] }, [0.99683772392, 0.99454356719, 0.99567295178], tolerance: 3e-7)
    }

    /// Tiny gradients (w = 0, g = 1e-4, 1e-4, -5e-5), where g² is near epsilon, by hand.
    /// v1 = 1e-9, v2 = 1.9e-9, v3 = 1.96e-9. Inside: w -= 1e-7 / sqrt(1.01e-7) = 3.14658e-4, ...
    /// Outside: w -= 1e-7 / (sqrt(1e-9) + 1e-7) = 3.15231e-3, ...: about ten times larger.
    func testHandComputedTinyGradientsBothPlacements() throws {
        let tiny: [[Float]] = [[1e-4], [1e-4], [-5e-5]]
        let inside = runSteps(try RMSprop(), start: [0], gradients: tiny).map { $0[0] }
        let outside = runSteps(try RMSprop(epsilonOutsideSquareRoot: true), start: [0], gradients: tiny).map { $0[0] }
        assertClose(inside, [-3.14658388e-4, -6.27924133e-4, -4.71337354e-4], tolerance: 1e-9)
        assertClose(outside, [-3.15230918e-3, -5.44121541e-3, -4.31437580e-3], tolerance: 1e-8)
    }

    func testThreeStepsMatchReferenceEpsilonInside() throws {
        let history = runSteps(try RMSprop(), start: start, gradients: gradients)
        let expected = Reference.rmsprop(start: start, gradients: gradients, learningRates: [1e-3, 1e-3, 1e-3])
        assertHistory(history, expected, tolerance: 1e-6)
    }

    func testThreeStepsMatchReferenceEpsilonOutside() throws {
        let history = runSteps(try RMSprop(epsilonOutsideSquareRoot: true), start: start, gradients: gradients)
        let expected = Reference.rmsprop(start: start, gradients: gradients, learningRates: [1e-3, 1e-3, 1e-3],
                                         epsilonOutside: true)
        assertHistory(history, expected, tolerance: 1e-6)
    }

    /// With tiny gradients (g² near epsilon) the two placements give very different steps.
    func testEpsilonPlacementsDiffer() throws {
        let tiny: [[Float]] = [[1e-4, -2e-4], [1e-4, -2e-4]]
        let inside = runSteps(try RMSprop(), start: [0, 0], gradients: tiny)
        let outside = runSteps(try RMSprop(epsilonOutsideSquareRoot: true), start: [0, 0], gradients: tiny)
        let lrs = [1e-3, 1e-3]
        assertHistory(inside, Reference.rmsprop(start: [0, 0], gradients: tiny, learningRates: lrs), tolerance: 1e-8)
        assertHistory(outside, Reference.rmsprop(start: [0, 0], gradients: tiny, learningRates: lrs, epsilonOutside: true),
                      tolerance: 1e-8)
        // First step by hand: v = 1e-9; inside 1e-7 / sqrt(1.01e-7) = 3.1466e-4,
        // outside 1e-7 / (3.1623e-5 + 1e-7) = 3.1523e-3: ten times larger.
        XCTAssertEqual(Double(inside[0][0]), -3.1466e-4, accuracy: 1e-7)
        XCTAssertEqual(Double(outside[0][0]), -3.1523e-3, accuracy: 1e-6)
        XCTAssertGreaterThan(abs(outside[1][0] - inside[1][0]), 1e-3)
    }

    func testMomentumMatchesReference() throws {
        let optimizer = try RMSprop(learningRate: 1e-2, momentum: 0.9)
        XCTAssertEqual(optimizer.slotNames, ["velocity", "momentum"])
        let history = runSteps(optimizer, start: start, gradients: gradients)
        let expected = Reference.rmsprop(start: start, gradients: gradients, learningRates: [1e-2, 1e-2, 1e-2],
                                         momentum: 0.9)
        assertHistory(history, expected, tolerance: 1e-6)
        // Momentum carries the first step on: step 2 moves further than plain RMSprop's.
        let plain = runSteps(try RMSprop(learningRate: 1e-2), start: start, gradients: gradients)
        XCTAssertGreaterThan(abs(history[1][0] - plain[1][0]), 1e-3)
    }

    /// Legacy tf.keras used TensorFlow's fused kernel when momentum > 0, which keeps epsilon
    /// inside the root; so does the flag here.
    func testEpsilonOutsideWithMomentumFollowsLegacyKernel() throws {
        let tiny: [[Float]] = [[1e-4, -2e-4], [3e-4, 1e-4]]
        let legacy = runSteps(try RMSprop(momentum: 0.5, epsilonOutsideSquareRoot: true), start: [0, 0], gradients: tiny)
        let expected = Reference.rmsprop(start: [0, 0], gradients: tiny, learningRates: [1e-3, 1e-3], momentum: 0.5)
        assertHistory(legacy, expected, tolerance: 1e-8)
    }

    func testCenteredMatchesReference() throws {
        let optimizer = try RMSprop(momentum: 0.5, centered: true)
        XCTAssertEqual(optimizer.slotNames, ["velocity", "momentum", "average_gradient"])
        let history = runSteps(optimizer, start: start, gradients: gradients)
        let expected = Reference.rmsprop(start: start, gradients: gradients, learningRates: [1e-3, 1e-3, 1e-3],
                                         momentum: 0.5, centered: true)
        assertHistory(history, expected, tolerance: 1e-6)
        let plainCentered = runSteps(try RMSprop(centered: true), start: start, gradients: gradients)
        assertHistory(plainCentered, Reference.rmsprop(start: start, gradients: gradients,
                                                       learningRates: [1e-3, 1e-3, 1e-3], centered: true),
                      tolerance: 1e-6)
    }

    /// The velocity slot holds exactly rho * v + (1 - rho) * g².
    func testVelocityState() throws {
        let optimizer = try RMSprop()
        let parameter = Parameter(name: "w", value: Tensor([1, 1], shape: [2]))
        for g: [Float] in [[2, -1], [1, 3]] {
            setGradient(parameter, g)
            optimizer.step([parameter])
        }
        let velocity = optimizer.state(of: parameter)["velocity"]
        // 0.9 * (0.1 * 4) + 0.1 * 1 = 0.46; 0.9 * (0.1 * 1) + 0.1 * 9 = 0.99
        assertClose(velocity?.scalars ?? [], [0.46, 0.99], tolerance: 1e-6)
        XCTAssertEqual(optimizer.iterations, 2)
    }
}
