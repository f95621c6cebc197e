import Foundation
import Tensor
import Train
import XCTest

/// The state every optimizer keeps through the one shared implementation: which parameters
/// get state, the slot names checkpoints rely on, snapshot/restore round trips (with and
/// without a schedule), reset; and a trainer checkpoint with AdamW and a cosine schedule.
final class OptimizerStateTests: XCTestCase {
    /// Every optimizer configuration, with the slot names (and order) checkpoints hold.
    func configurations(schedule: (any LearningRateSchedule)? = nil) throws -> [(any Optimizer, [String])] {
        [(try RMSprop(learningRate: 1e-2, schedule: schedule), ["velocity"]),
         (try RMSprop(learningRate: 1e-2, momentum: 0.9, schedule: schedule), ["velocity", "momentum"]),
         (try RMSprop(learningRate: 1e-2, momentum: 0.9, centered: true, schedule: schedule),
          ["velocity", "momentum", "average_gradient"]),
         (try RMSprop(learningRate: 1e-2, centered: true, schedule: schedule), ["velocity", "average_gradient"]),
         (try RMSprop(epsilonOutsideSquareRoot: true, schedule: schedule), ["velocity"]),
         (try SGD(learningRate: 0.1, schedule: schedule), []),
         (try SGD(learningRate: 0.1, momentum: 0.9, schedule: schedule), ["momentum"]),
         (try SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, schedule: schedule), ["momentum"]),
         (try Adam(learningRate: 1e-2, schedule: schedule), ["momentum", "velocity"]),
         (try Adam(learningRate: 1e-2, amsgrad: true, schedule: schedule), ["momentum", "velocity", "velocity_hat"]),
         (try AdamW(learningRate: 1e-2, weightDecay: 0.1, schedule: schedule), ["momentum", "velocity"]),
         (try AdamW(learningRate: 1e-2, weightDecay: 0.1, amsgrad: true, schedule: schedule),
          ["momentum", "velocity", "velocity_hat"])]
    }

    func name(_ optimizer: any Optimizer) -> String {
        "\(type(of: optimizer)) \(optimizer.slotNames)"
    }

    func testSlotNamesAreTheCheckpointsNames() throws {
        for (optimizer, names) in try configurations() {
            XCTAssertEqual(optimizer.slotNames, names, name(optimizer))
            let parameter = Parameter(name: "w", value: Tensor([1, 2], shape: [2]))
            setGradient(parameter, [0.5, -0.5])
            optimizer.step([parameter])
            XCTAssertEqual(optimizer.state(of: parameter).keys.sorted(), names.sorted(), name(optimizer))
        }
    }

    /// Frozen parameters (even with a gradient), parameters without a gradient and state
    /// parameters are never touched and get no state, for every optimizer.
    func testOnlyTrainableParametersWithGradientsAreTouched() throws {
        for (optimizer, _) in try configurations() {
            let trained = Parameter(name: "trained", value: Tensor([1, 2], shape: [2]))
            let frozen = Parameter(name: "frozen", value: Tensor([3, 4], shape: [2]))
            let idle = Parameter(name: "idle", value: Tensor([5, 6], shape: [2]))
            let state = Parameter(name: "moving_variance", value: Tensor([7, 8], shape: [2]), role: .state)
            setGradient(frozen, [0.5, -0.5])
            frozen.isTrainable = false
            for _ in 0..<2 {
                setGradient(trained, [0.5, -0.5])
                optimizer.step([trained, frozen, idle, state, trained])
            }
            XCTAssertEqual(frozen.value.scalars, [3, 4], name(optimizer))
            XCTAssertEqual(idle.value.scalars, [5, 6], name(optimizer))
            XCTAssertEqual(state.value.scalars, [7, 8], name(optimizer))
            for parameter in [frozen, idle, state] {
                XCTAssertTrue(optimizer.state(of: parameter).isEmpty, "\(name(optimizer)): state for \(parameter.name)")
            }
            XCTAssertLessThan(trained.value.scalars[0], 1, name(optimizer))
            XCTAssertGreaterThan(trained.value.scalars[1], 2, name(optimizer))
            XCTAssertEqual(optimizer.iterations, 2, name(optimizer))
        }
    }

    /// Two steps, snapshot, two more; a new optimizer restored from the snapshot onto copies of
    /// the parameters takes the same two steps bit for bit, for every configuration, with a
    /// constant rate and in the middle of a warmup-plus-cosine schedule.
    func testSnapshotRestoreGivesIdenticalNextSteps() throws {
        let schedule = try CosineDecay(initialLearningRate: 1e-3, decaySteps: 3, alpha: 0.1, warmupTarget: 2e-2,
                                       warmupSteps: 3)
        for scheduled in [false, true] {
            let originals = try configurations(schedule: scheduled ? schedule : nil).map(\.0)
            let fresh = try configurations(schedule: scheduled ? schedule : nil).map(\.0)
            for (original, resumed) in zip(originals, fresh) {
                let label = "\(name(original)) scheduled \(scheduled)"
                let run = try snapshotRoundTrip(original, resumed: resumed)
                XCTAssertEqual(run.iterationsAfterRestore, 2, label)
                XCTAssertEqual(run.currentLearningRateAfterRestore,
                               scheduled ? schedule.learningRate(atStep: 2) : original.learningRate, label)
                XCTAssertEqual(run.copies[0].value.scalars.map(\.bitPattern), run.a.value.scalars.map(\.bitPattern), label)
                XCTAssertEqual(run.copies[1].value.scalars.map(\.bitPattern), run.b.value.scalars.map(\.bitPattern), label)
                XCTAssertEqual(resumed.iterations, original.iterations, label)
                for key in original.slotNames {
                    XCTAssertEqual(resumed.state(of: run.copies[0])[key]?.scalars, original.state(of: run.a)[key]?.scalars,
                                   "\(label): slot \(key)")
                }
            }
        }
    }

    func testResetStateForgetsEverythingForEveryOptimizer() throws {
        for (optimizer, names) in try configurations() {
            let parameter = Parameter(name: "w", value: Tensor([0.5], shape: [1]))
            setGradient(parameter, [1])
            optimizer.step([parameter])
            XCTAssertEqual(optimizer.state(of: parameter).count, names.count)
            optimizer.resetState()
            XCTAssertEqual(optimizer.iterations, 0, name(optimizer))
            XCTAssertTrue(optimizer.state(of: parameter).isEmpty, name(optimizer))
        }
    }

    /// A trainer with AdamW and a warmup-plus-cosine schedule, stopped after one epoch and
    /// continued from its checkpoint by a new trainer, ends bit for bit where an
    /// uninterrupted run does; the checkpoint records the schedule and refuses another.
    func testCheckpointResumesTheScheduleExactly() throws {
        let training = try TrainerTestData.squares(count: 12, seed: 51)
        func optimizer() throws -> AdamW {
            try AdamW(learningRate: 1e-2, weightDecay: 0.05,
                      schedule: try CosineDecay(initialLearningRate: 0, decaySteps: 6, alpha: 0.1, warmupTarget: 1e-2,
                                                warmupSteps: 3))
        }
        func configuration(epochs: Int, directory: URL) -> TrainingConfiguration {
            TrainingConfiguration(epochs: epochs, batchSize: 4, seed: 3, outputDirectory: directory, progress: .silent,
                                  saveWeights: TrainerTestData.saveWeights)
        }
        let wholeDirectory = TrainerTestData.temporaryDirectory(), partDirectory = TrainerTestData.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: wholeDirectory)
            try? FileManager.default.removeItem(at: partDirectory)
        }
        let whole = Trainer(model: try TrainerTestData.smallModel(), optimizer: try optimizer(),
                            configuration: configuration(epochs: 3, directory: wholeDirectory))
        try whole.fit(training)
        XCTAssertEqual(whole.optimizer.iterations, 9)

        let first = Trainer(model: try TrainerTestData.smallModel(), optimizer: try optimizer(),
                            configuration: configuration(epochs: 1, directory: partDirectory))
        try first.fit(training)
        let checkpointDirectory = partDirectory.appendingPathComponent("checkpoint")
        let checkpoint = try TrainingCheckpoint.read(from: checkpointDirectory)
        XCTAssertEqual(checkpoint.optimizerType, "AdamW")
        XCTAssertEqual(checkpoint.optimizer.iterations, 3)
        XCTAssertEqual(checkpoint.learningRateSchedule, String(describing: try optimizer().learningRateSchedule!))

        let second = Trainer(model: try TrainerTestData.smallModel(seed: 9), optimizer: try optimizer(),
                             configuration: configuration(epochs: 3, directory: partDirectory))
        try second.restoreCheckpoint(from: checkpointDirectory)
        XCTAssertEqual(second.optimizer.currentLearningRate, 1e-2, "step 3 is the end of the warmup")
        try second.fit(training)
        XCTAssertTrue(TrainerTestData.identical(TrainerTestData.weights(of: whole.model),
                                                TrainerTestData.weights(of: second.model)),
                      "differ by \(TrainerTestData.maxDifference(TrainerTestData.weights(of: whole.model), TrainerTestData.weights(of: second.model)))")

        // Another schedule, or none, is refused; so is plain Adam for an AdamW run.
        let others: [any Optimizer] = [
            try AdamW(learningRate: 1e-2, weightDecay: 0.05,
                      schedule: try CosineDecay(initialLearningRate: 0, decaySteps: 7, alpha: 0.1, warmupTarget: 1e-2,
                                                warmupSteps: 3)),
            try AdamW(learningRate: 1e-2, weightDecay: 0.05),
            try Adam(learningRate: 1e-2, schedule: try optimizer().learningRateSchedule),
        ]
        for other in others {
            let refused = Trainer(model: try TrainerTestData.smallModel(), optimizer: other,
                                  configuration: configuration(epochs: 3, directory: partDirectory))
            XCTAssertThrowsError(try refused.restoreCheckpoint(from: checkpointDirectory)) { error in
                guard case .checkpoint(let message)? = error as? TrainingError else { return XCTFail("\(error)") }
                XCTAssertTrue(message.contains("schedule") || message.contains("AdamW"), message)
            }
        }
    }
}
