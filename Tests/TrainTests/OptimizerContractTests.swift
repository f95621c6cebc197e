import Tensor
import Train
import XCTest

/// What every optimizer promises: which parameters it touches, learning-rate changes,
/// iteration counting and checkpointable state.
final class OptimizerContractTests: XCTestCase {
    /// One instance of each optimizer, configured to use every kind of state.
    func allOptimizers() throws -> [any Optimizer] {
        [try RMSprop(learningRate: 1e-2), try RMSprop(learningRate: 1e-2, momentum: 0.9, centered: true),
         try RMSprop(learningRate: 1e-2, epsilonOutsideSquareRoot: true), try SGD(learningRate: 0.1),
         try SGD(learningRate: 0.1, momentum: 0.9, nesterov: true), try Adam(learningRate: 1e-2),
         try Adam(learningRate: 1e-2, amsgrad: true)]
    }

    func testFrozenAndGradientlessParametersAreUnchanged() throws {
        for optimizer in try allOptimizers() {
            let name = String(describing: type(of: optimizer))
            let trained = Parameter(name: "trained", value: Tensor([1, 2], shape: [2]))
            let frozen = Parameter(name: "frozen", value: Tensor([3, 4], shape: [2]))
            let idle = Parameter(name: "idle", value: Tensor([5, 6], shape: [2]))
            setGradient(trained, [0.5, -0.5])
            setGradient(frozen, [0.5, -0.5])
            frozen.isTrainable = false
            optimizer.step([trained, frozen, idle])
            XCTAssertEqual(frozen.value.scalars, [3, 4], "\(name): frozen parameter moved")
            XCTAssertEqual(idle.value.scalars, [5, 6], "\(name): parameter without gradient moved")
            if (optimizer as? SGD)?.momentum == 0 { XCTAssertEqual(trained.value.scalars, [0.95, 2.05], "\(name): step") }
            XCTAssertLessThan(trained.value.scalars[0], 1, "\(name): trained parameter did not move down")
            XCTAssertGreaterThan(trained.value.scalars[1], 2, "\(name): trained parameter did not move up")
            // Gradients are left for the caller to zero; skipped parameters keep no state.
            XCTAssertEqual(trained.gradient?.scalars, [0.5, -0.5], "\(name): gradient was cleared")
            XCTAssertEqual(frozen.gradient?.scalars, [0.5, -0.5], "\(name): frozen gradient was cleared")
            XCTAssertTrue(optimizer.state(of: frozen).isEmpty, "\(name): state for a frozen parameter")
            XCTAssertTrue(optimizer.state(of: idle).isEmpty, "\(name): state for a parameter without gradient")
            XCTAssertEqual(optimizer.state(of: trained).count, optimizer.slotNames.count, name)
            XCTAssertEqual(optimizer.iterations, 1, name)
        }
    }

    func testParameterListedTwiceIsUpdatedOnce() throws {
        let optimizer = try SGD(learningRate: 0.1)
        let parameter = Parameter(name: "w", value: Tensor([1], shape: [1]))
        setGradient(parameter, [1])
        optimizer.step([parameter, parameter])
        XCTAssertEqual(parameter.value.scalars[0], 0.9, accuracy: 1e-7)
    }

    /// The learning rate is read at each step: a schedule of 1e-2, 1e-3, 5e-2 must match the
    /// reference run with the same schedule.
    func testLearningRateChangeBetweenStepsTakesEffect() throws {
        let start: [Float] = [0.5, -0.25, 0.1]
        let gradients: [[Float]] = [[0.2, -1.5, 0.03], [0.1, 0.4, -0.02], [-0.3, -0.8, 0.05]]
        let rates: [Float] = [1e-2, 1e-3, 5e-2]
        let doubles = rates.map(Double.init)
        assertHistory(runSteps(try RMSprop(momentum: 0.5), start: start, gradients: gradients, learningRates: rates),
                      Reference.rmsprop(start: start, gradients: gradients, learningRates: doubles, momentum: 0.5),
                      tolerance: 1e-6, "RMSprop")
        assertHistory(runSteps(try SGD(momentum: 0.9), start: start, gradients: gradients, learningRates: rates),
                      Reference.sgd(start: start, gradients: gradients, learningRates: doubles, momentum: 0.9),
                      tolerance: 1e-6, "SGD")
        assertHistory(runSteps(try Adam(), start: start, gradients: gradients, learningRates: rates),
                      Reference.adam(start: start, gradients: gradients, learningRates: doubles),
                      tolerance: 1e-6, "Adam")
        // And the schedule matters: a constant rate ends elsewhere.
        let constant = runSteps(try Adam(), start: start, gradients: gradients, learningRates: [1e-2, 1e-2, 1e-2])
        let scheduled = runSteps(try Adam(), start: start, gradients: gradients, learningRates: rates)
        XCTAssertGreaterThan(abs(constant[2][0] - scheduled[2][0]), 1e-3)
    }

    /// Two steps, snapshot, two more; a new optimizer restored from the snapshot onto copies of
    /// the parameters continues bit for bit. Adam without the restore (fresh moments and
    /// iteration count) does not.
    func testSnapshotRestoreContinuesIdentically() throws {
        let factories: [() throws -> any Optimizer] = [
            { try RMSprop(learningRate: 1e-2, momentum: 0.9, centered: true) }, { try RMSprop(epsilonOutsideSquareRoot: true) },
            { try SGD(learningRate: 0.1, momentum: 0.9, nesterov: true) }, { try Adam(learningRate: 1e-2, amsgrad: true) },
        ]
        for make in factories {
            let original = try make()
            let name = String(describing: type(of: original))
            let resumed = try make()
            let run = try snapshotRoundTrip(original, resumed: resumed)
            XCTAssertEqual(run.snapshot.iterations, 2)
            XCTAssertEqual(run.iterationsAfterRestore, 2, name)
            XCTAssertEqual(run.learningRateAfterRestore, original.learningRate, name)
            XCTAssertEqual(run.copies[0].value.scalars, run.a.value.scalars, "\(name): a differs after restore")
            XCTAssertEqual(run.copies[1].value.scalars, run.b.value.scalars, "\(name): b differs after restore")
            for key in original.slotNames {
                XCTAssertEqual(resumed.state(of: run.copies[1])[key]?.scalars, original.state(of: run.b)[key]?.scalars,
                               "\(name): slot \(key)")
            }
        }
    }

    /// Restoring an empty state starts a parameter over (fresh moments, and here iteration 0),
    /// while the kept state changes the next step: so the bitwise comparison above can fail.
    func testClearedStateEqualsFreshOptimizerAndKeptStateDiffers() throws {
        func parameter() -> Parameter { Parameter(name: "w", value: Tensor([0.5, -0.25], shape: [2])) }
        let kept = try Adam(learningRate: 1e-2), cleared = try Adam(learningRate: 1e-2), fresh = try Adam(learningRate: 1e-2)
        let u = parameter(), v = parameter()
        for (optimizer, p) in [(kept, u), (cleared, v)] {
            setGradient(p, [1, 1])
            optimizer.step([p])
        }
        try cleared.restore(OptimizerSnapshot(iterations: 0, learningRate: 1e-2, states: [[:]]), for: [v])
        let w = Parameter(name: "w", value: v.value)
        for (optimizer, p) in [(kept, u), (cleared, v), (fresh, w)] {
            setGradient(p, [0.1, 0.1])
            optimizer.step([p])
        }
        XCTAssertEqual(v.value.scalars, w.value.scalars, "cleared state should act like a fresh optimizer")
        // Fresh: the step is lr = 1e-2. Kept: m = 0.1, v = 0.001009, alpha = 2.3532e-3 -> 7.408e-3.
        XCTAssertEqual(w.value.scalars[0] - u.value.scalars[0], -(1e-2 - 7.408e-3), accuracy: 2e-5)
    }

    func testRestoreRejectsBadState() throws {
        let optimizer = try RMSprop(momentum: 0.9)
        let parameter = Parameter(name: "kernel", value: Tensor(zeros: [2, 3]))
        let good = Tensor(zeros: [2, 3])
        XCTAssertThrowsError(try optimizer.restoreState(["velocity": good], for: parameter)) { error in
            XCTAssertEqual(error as? OptimizerError, .missingSlot(parameter: "kernel", slot: "momentum"))
        }
        XCTAssertThrowsError(try optimizer.restoreState(["velocity": good, "momentum": Tensor(zeros: [3, 2])],
                                                        for: parameter)) { error in
            XCTAssertEqual(error as? OptimizerError,
                           .shapeMismatch(parameter: "kernel", slot: "momentum", expected: [2, 3], got: [3, 2]))
            XCTAssertTrue("\(error)".contains("kernel"))
        }
        XCTAssertThrowsError(try optimizer.restoreState(["velocity": good, "momentum": good, "rms": good],
                                                        for: parameter)) { error in
            XCTAssertEqual(error as? OptimizerError,
                           .unknownSlot(parameter: "kernel", slot: "rms", known: ["velocity", "momentum"]))
        }
        XCTAssertThrowsError(try optimizer.restore(OptimizerSnapshot(iterations: 1, learningRate: 1, states: []),
                                                   for: [parameter]))
        XCTAssertNoThrow(try optimizer.restoreState(["velocity": good, "momentum": good], for: parameter))
        XCTAssertEqual(optimizer.state(of: parameter)["momentum"]?.shape, [2, 3])
    }

    /// Restored velocity is used: RMSprop with velocity v0 takes lr * g / sqrt(rho*v0 + (1-rho)g² + eps).
    func testRestoredStateIsUsed() throws {
        let optimizer = try RMSprop(learningRate: 0.1)
        let parameter = Parameter(name: "w", value: Tensor([0], shape: [1]))
        try optimizer.restoreState(["velocity": Tensor([9], shape: [1])], for: parameter)
        setGradient(parameter, [1])
        optimizer.step([parameter])
        // v = 8.1 + 0.1 = 8.2; w = -0.1 / sqrt(8.2 + 1e-7) = -0.034922
        XCTAssertEqual(parameter.value.scalars[0], -0.1 / (8.2 as Float).squareRoot(), accuracy: 1e-6)
    }

    func testResetStateForgetsEverything() throws {
        let optimizer = try Adam()
        let parameter = Parameter(name: "w", value: Tensor([0], shape: [1]))
        setGradient(parameter, [1])
        optimizer.step([parameter])
        optimizer.step([parameter])
        XCTAssertEqual(optimizer.iterations, 2)
        optimizer.resetState()
        XCTAssertEqual(optimizer.iterations, 0)
        XCTAssertTrue(optimizer.state(of: parameter).isEmpty)
        let before = parameter.value.scalars[0]
        optimizer.step([parameter])
        XCTAssertEqual(parameter.value.scalars[0] - before, -1e-3, accuracy: 1e-6, "first step after reset moves by lr")
    }

    /// Tensors large enough to be split across threads give the same result as the reference.
    func testLargeTensorsMatchReference() throws {
        var rng = SeededGenerator(seed: 7)
        let count = 100_003
        let start = (0..<count).map { _ in rng.nextUnit() - 0.5 }
        let gradients = (0..<2).map { _ in (0..<count).map { _ in rng.nextNormal() } }
        let lrs = [1e-2, 1e-2]
        let rms = runSteps(try RMSprop(learningRate: 1e-2, momentum: 0.9), start: start, gradients: gradients)
        assertLargeClose(rms.last!, Reference.rmsprop(start: start, gradients: gradients, learningRates: lrs,
                                                      momentum: 0.9).last!, "RMSprop")
        let adam = runSteps(try Adam(learningRate: 1e-2), start: start, gradients: gradients)
        assertLargeClose(adam.last!, Reference.adam(start: start, gradients: gradients, learningRates: lrs).last!, "Adam")
        let sgd = runSteps(try SGD(learningRate: 1e-2, momentum: 0.9, nesterov: true), start: start, gradients: gradients)
        assertLargeClose(sgd.last!, Reference.sgd(start: start, gradients: gradients, learningRates: lrs,
                                                  momentum: 0.9, nesterov: true).last!, "SGD")
    }

    /// One assertion for a whole large vector (the worst element), to keep failures readable.
    func assertLargeClose(_ actual: [Float], _ expected: [Double], _ what: String,
                          file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        let worst = zip(actual, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
        XCTAssertLessThan(worst, 2e-6, "\(what): worst error", file: file, line: line)
    }
}
