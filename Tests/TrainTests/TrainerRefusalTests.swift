import Foundation
import Layers
import Tensor
import Train
import XCTest
import Zoo

/// `fit` refuses data a classifier cannot learn from, and hands control to callbacks.
final class TrainerRefusalTests: XCTestCase {
    private func trainer(_ model: Sequential? = nil, epochs: Int = 2) throws -> Trainer {
        Trainer(model: try model ?? TrainerTestData.smallModel(), optimizer: try SGD(learningRate: 0.05),
                configuration: TrainingConfiguration(epochs: epochs, batchSize: 4))
    }

    func testOneClassIsRefusedWithItsName() throws {
        let images = Tensor(repeating: 0.5, shape: [4, 16, 16, 3])
        let data = try TensorExamples(images: images, labels: [0, 0, 0, 0], classNames: ["damage"])
        XCTAssertThrowsError(try trainer().fit(data)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("1 class (damage)") && text.contains("at least 2"), text)
        }
    }

    func testClassWithoutExamplesIsNamed() throws {
        let images = Tensor(repeating: 0.5, shape: [4, 16, 16, 3])
        let data = try TensorExamples(images: images, labels: [0, 2, 0, 2], classNames: ["a", "empty", "c"])
        var model: Sequential?
        var rng = SeededGenerator(seed: 1)
        model = try Sequential([Flatten(), Dense(name: "out", inputSize: 768, outputSize: 3, activation: .softmax, rng: &rng)])
        XCTAssertThrowsError(try trainer(model).fit(data)) { error in
            XCTAssertEqual(error as? TrainingError,
                           .dataMismatch("no training examples of class empty (each class needs at least one)"))
        }
    }

    func testOutputWidthMustEqualClassCount() throws {
        var rng = SeededGenerator(seed: 2)
        let threeOutputs = try Sequential([Flatten(), Dense(name: "out", inputSize: 768, outputSize: 3,
                                                            activation: .softmax, rng: &rng)])
        let data = try TrainerTestData.squares(count: 8, seed: 4)
        let before = threeOutputs.parameters.map(\.value.scalars)
        XCTAssertThrowsError(try trainer(threeOutputs).fit(data)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("[1, 3]") && text.contains("2 classes"), text)
        }
        XCTAssertEqual(threeOutputs.parameters.map(\.value.scalars), before, "nothing was trained")
    }

    func testCallbacksSeeEveryStepAndCanStop() throws {
        final class Recorder: TrainingCallback {
            var steps: [(Int, Int, Int)] = []
            var epochs: [Int] = []
            func batchEnded(epoch: Int, step: Int, of steps: Int, result: Trainer.BatchResult) {
                self.steps.append((epoch, step, steps))
                XCTAssertTrue(result.loss.isFinite)
            }
            func epochEnded(_ record: EpochRecord, improved: Bool, trainer: Trainer) -> TrainingDecision {
                epochs.append(record.epoch)
                return record.epoch == 2 ? .stop : .continue
            }
        }
        let recorder = Recorder()
        let data = try TrainerTestData.squares(count: 10, seed: 5)
        let trainer = try trainer(epochs: 5)
        let history = try trainer.fit(data, callbacks: [recorder])
        XCTAssertEqual(recorder.epochs, [1, 2])
        XCTAssertEqual(history.records.count, 2)
        XCTAssertTrue(trainer.stoppedByCallback)
        XCTAssertFalse(trainer.stoppedEarly)
        // 10 examples in batches of 4: 3 steps per epoch.
        XCTAssertEqual(recorder.steps.map(\.0), [1, 1, 1, 2, 2, 2])
        XCTAssertEqual(recorder.steps.map(\.1), [1, 2, 3, 1, 2, 3])
        XCTAssertTrue(recorder.steps.allSatisfy { $0.2 == 3 })
    }

    func testCancelStopsBeforeTheNextStepAndKeepsTheCompletedEpochs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-cancel-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try TrainerTestData.squares(count: 12, seed: 6)
        let trainer = try trainer(epochs: 4)
        trainer.configuration.outputDirectory = directory
        trainer.configuration.saveWeights = TrainerTestData.saveWeights
        final class CancelInEpochTwo: TrainingCallback {
            let trainer: Trainer
            init(_ trainer: Trainer) { self.trainer = trainer }
            func batchEnded(epoch: Int, step: Int, of steps: Int, result: Trainer.BatchResult) {
                if epoch == 2 && step == 1 { trainer.cancel() }
            }
        }
        XCTAssertThrowsError(try trainer.fit(data, callbacks: [CancelInEpochTwo(trainer)])) { error in
            XCTAssertEqual(error as? TrainingError, .cancelled(epoch: 2, step: 2))
        }
        XCTAssertEqual(trainer.completedEpochs, 1)
        let history = try String(contentsOf: directory.appendingPathComponent("history.csv"), encoding: .utf8)
        XCTAssertEqual(history.split(separator: "\n").count, 2, "header and epoch 1: \(history)")
        // The request was consumed: the same trainer continues.
        try trainer.fit(data)
        XCTAssertEqual(trainer.completedEpochs, 4)
    }

    /// A run directory without a way to write its weights files is refused before any work,
    /// naming the setting; a saver that writes nothing leaves history and checkpoint only.
    func testOutputDirectoryNeedsAWeightsSaver() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-saver-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try TrainerTestData.squares(count: 8, seed: 7)
        let refused = try trainer(epochs: 1)
        refused.configuration.outputDirectory = directory
        XCTAssertThrowsError(try refused.fit(data)) { error in
            guard case .invalidConfiguration(let message)? = error as? TrainingError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("saveWeights"), message)
        }
        XCTAssertEqual(refused.completedEpochs, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path))

        let quiet = try trainer(epochs: 1)
        quiet.configuration.outputDirectory = directory
        quiet.configuration.saveWeights = { _, _, _, _ in }
        try quiet.fit(data)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertEqual(files, ["checkpoint", "history.csv"])
    }

    /// `fit` hands the saver `best.h5` when the monitor improves and `weights.h5` at the end,
    /// with the data's class names and the input shape.
    func testSaverGetsBothFilesWithClassNamesAndInputShape() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-saver-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        final class Calls: @unchecked Sendable { var list: [(String, [String], [Int])] = [] }
        let calls = Calls()
        let trainer = try trainer(epochs: 1)
        trainer.configuration.outputDirectory = directory
        trainer.configuration.saveWeights = { _, url, classNames, inputShape in
            calls.list.append((url.lastPathComponent, classNames, inputShape))
        }
        let data = try TrainerTestData.squares(count: 8, seed: 8)
        try trainer.fit(data)
        XCTAssertEqual(calls.list.map(\.0), ["best.h5", "weights.h5"])
        for call in calls.list {
            XCTAssertEqual(call.1, data.classNames)
            XCTAssertEqual(call.2, Array(try data.inputs([0]).shape.dims.dropFirst()))
        }
    }
}
