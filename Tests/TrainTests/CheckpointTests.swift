import Foundation
import Layers
import Tensor
import TestSupport
import Train
import XCTest
import Zoo

/// Checkpoints: a resumed run equals an uninterrupted one bit for bit, and a failing run
/// leaves the last good checkpoint alone.
final class CheckpointTests: XCTestCase {
    struct Run {
        var weights: [String: Tensor]
        var history: History
        var bestEpoch: Int?
    }

    /// Trains `epochs` epochs; with `stopAfter`, stops there and continues in a new trainer
    /// (new model with other initial weights, new optimizer) restored from the checkpoint.
    func run(epochs: Int, stopAfter: Int?, makeModel: () throws -> Sequential,
             configuration: TrainingConfiguration, training: TensorExamples, validation: TensorExamples?) throws -> Run {
        let directory = TrainerTestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = configuration
        configuration.outputDirectory = directory
        configuration.saveWeights = TrainerTestData.saveWeights
        configuration.epochs = stopAfter ?? epochs
        let first = Trainer(model: try makeModel(), optimizer: try RMSprop(learningRate: 2e-3), configuration: configuration)
        try first.fit(training, validation: validation)
        guard stopAfter != nil else {
            return Run(weights: TrainerTestData.weights(of: first.model), history: first.history, bestEpoch: first.bestEpoch)
        }
        configuration.epochs = epochs
        let model = try makeModel()
        for parameter in model.parameters { parameter.value = Tensor(repeating: 0.5, shape: parameter.shape) }
        let second = Trainer(model: model, optimizer: try RMSprop(learningRate: 2e-3), configuration: configuration)
        try second.restoreCheckpoint(from: directory.appendingPathComponent("checkpoint"))
        XCTAssertEqual(second.completedEpochs, stopAfter)
        try second.fit(training, validation: validation)
        return Run(weights: TrainerTestData.weights(of: model), history: second.history, bestEpoch: second.bestEpoch)
    }

    func assertSame(_ a: Run, _ b: Run, _ message: String) {
        XCTAssertTrue(TrainerTestData.identical(a.weights, b.weights),
                      "\(message): weights differ by up to \(TrainerTestData.maxDifference(a.weights, b.weights))")
        XCTAssertEqual(a.history.records.map(\.withoutTiming), b.history.records.map(\.withoutTiming), message)
        XCTAssertEqual(a.bestEpoch, b.bestEpoch, message)
    }

    /// Mini VGG19 with dropout in the head, shuffled, cached, with validation.
    func testResumedRunEqualsUninterruptedRun() throws {
        let training = try TrainerTestData.squares(count: 14, size: 64, seed: 21)
        let validation = try TrainerTestData.squares(count: 5, size: 64, seed: 22)
        let configuration = TrainingConfiguration(batchSize: 4, seed: 77, classWeights: [0.8897, 1.1414], progress: .silent)
        let make = { try TrainerTestData.miniTransfer(.vgg19, dropoutRate: 0.4) }
        let whole = try run(epochs: 3, stopAfter: nil, makeModel: make, configuration: configuration,
                            training: training, validation: validation)
        let resumed = try run(epochs: 3, stopAfter: 1, makeModel: make, configuration: configuration,
                              training: training, validation: validation)
        XCTAssertEqual(whole.history.records.count, 3)
        assertSame(whole, resumed, "vgg19 cached")
    }

    /// The small CNN with dropout and augmentation (no cache): the augmentation seeds and the
    /// dropout generator continue too.
    func testResumeWithAugmentationAndDropout() throws {
        let training = try TrainerTestData.squares(count: 20, seed: 31)
        var configuration = TrainingConfiguration(batchSize: 6, seed: 5, progress: .silent)
        configuration.augmentation = try Augmentation(parsing: "flip,shift=0.1,brightness=0.2")
        let make = { try TrainerTestData.smallModel(dropoutRate: 0.5) }
        let whole = try run(epochs: 4, stopAfter: nil, makeModel: make, configuration: configuration,
                            training: training, validation: nil)
        let resumed = try run(epochs: 4, stopAfter: 2, makeModel: make, configuration: configuration,
                              training: training, validation: nil)
        assertSame(whole, resumed, "augmented")
    }

    /// An injected NaN input stops training at its step; so does a NaN loss (here from a NaN
    /// bias, as after a divergence). The checkpoint, history and best weights of the last good
    /// epoch are untouched, the weights never take the bad update, and training can go on
    /// from that checkpoint.
    func testNonFiniteLossStopsAndKeepsTheLastGoodCheckpoint() throws {
        let directory = TrainerTestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let clean = try TrainerTestData.squares(count: 12, seed: 41)
        let perImage = 16 * 16 * 3
        var poisonedImages = clean.images
        for i in 0..<perImage { poisonedImages[flat: 5 * perImage + i] = .nan }  // image 5: batch 2 of 4-image batches
        let poisoned = try TensorExamples(images: poisonedImages, labels: clean.labels, classNames: clean.classNames)

        let model = try TrainerTestData.smallModel()
        let trainer = Trainer(model: model, optimizer: try RMSprop(learningRate: 1e-3),
                              configuration: TrainingConfiguration(epochs: 1, batchSize: 4, shuffle: false,
                                                                   outputDirectory: directory, progress: .silent,
                                                                   saveWeights: TrainerTestData.saveWeights))
        try trainer.fit(clean)
        let files = ["checkpoint/trainer.ckpt", "history.csv", "best.h5", "weights.h5"]
        let before = try files.map { try Data(contentsOf: directory.appendingPathComponent($0)) }

        // The NaN image: NaN passes through every ReLU (as in TensorFlow), so the loss of that
        // batch is NaN and the step is refused before its update.
        trainer.configuration.epochs = 3
        for cache in [true, false] {
            trainer.configuration.featureCache = cache
            XCTAssertThrowsError(try trainer.fit(poisoned)) { error in
                XCTAssertEqual(error as? TrainingError, .nonFiniteLoss(epoch: 2, step: 2), "cache \(cache)")
            }
            XCTAssertTrue(TrainerTestData.weights(of: model).values.allSatisfy(\.isFinite))
        }
        // A NaN loss.
        let bias = (model.layers.last as! Dense).bias
        bias.value = Tensor(repeating: .nan, shape: bias.shape)
        XCTAssertThrowsError(try trainer.fit(clean)) { error in
            XCTAssertEqual(error as? TrainingError, .nonFiniteLoss(epoch: 2, step: 1))
        }
        let after = try files.map { try Data(contentsOf: directory.appendingPathComponent($0)) }
        XCTAssertEqual(before, after)

        let restarted = try Trainer(model: TrainerTestData.smallModel(seed: 8), optimizer: try RMSprop(learningRate: 1e-3),
                                configuration: trainer.configuration)
        try restarted.restoreCheckpoint(from: directory.appendingPathComponent("checkpoint"))
        XCTAssertEqual(try restarted.fit(clean).records.count, 3)
        XCTAssertTrue(restarted.history.records.allSatisfy { $0.loss.isFinite })

        // trainOnBatch reports the step too, and does not update on a bad step.
        let single = try Trainer(model: TrainerTestData.smallModel(), optimizer: try SGD(learningRate: 0.1),
                             configuration: TrainingConfiguration(progress: .silent))
        let initial = TrainerTestData.weights(of: single.model)
        try single.trainOnBatch(inputs: try clean.inputs([0]), labels: [clean.labels[0]])
        let afterOne = TrainerTestData.weights(of: single.model)
        XCTAssertFalse(TrainerTestData.identical(initial, afterOne))
        XCTAssertThrowsError(try single.trainOnBatch(inputs: try poisoned.inputs([4, 5]), labels: [1, 1])) { error in
            XCTAssertEqual(error as? TrainingError, .nonFiniteLoss(epoch: 1, step: 2))
        }
        XCTAssertTrue(TrainerTestData.identical(afterOne, TrainerTestData.weights(of: single.model)))
    }

    /// A single NaN pixel can vanish in the forward pass (max-pooling skips it) and still turn
    /// the gradients into NaN: that step is refused too, before its update.
    func testNaNHiddenFromTheLossStillStopsBeforeTheUpdate() throws {
        let clean = try TrainerTestData.squares(count: 8, seed: 45)
        var images = clean.images
        images[flat: 3 * 16 * 16 * 3 + 5 * 16 * 3 + 7 * 3 + 1] = .nan
        let poisoned = try TensorExamples(images: images, labels: clean.labels, classNames: clean.classNames)
        let model = try TrainerTestData.smallModel()
        let trainer = Trainer(model: model, optimizer: try RMSprop(learningRate: 1e-3),
                              configuration: TrainingConfiguration(epochs: 1, batchSize: 2, shuffle: false, progress: .silent))
        XCTAssertThrowsError(try trainer.fit(poisoned)) { error in
            switch error as? TrainingError {
            case .nonFiniteLoss(1, 2)?, .nonFiniteGradient(1, 2)?: break
            default: XCTFail("\(error)")
            }
        }
        XCTAssertTrue(TrainerTestData.weights(of: model).values.allSatisfy(\.isFinite))
    }

    /// A diverging learning rate ends in a non-finite loss error, never in a NaN checkpoint.
    func testDivergingLearningRateNeverCheckpointsNaN() throws {
        let directory = TrainerTestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try TrainerTestData.squares(count: 12, seed: 43)
        let trainer = try Trainer(model: TrainerTestData.smallModel(), optimizer: try SGD(learningRate: 1e30),
                              configuration: TrainingConfiguration(epochs: 5, batchSize: 4, outputDirectory: directory,
                                                                   progress: .silent, saveWeights: TrainerTestData.saveWeights))
        do {
            try trainer.fit(data, validation: data)
        } catch let error as TrainingError {
            switch error {
            case .nonFiniteLoss, .nonFiniteValidationLoss, .nonFiniteWeights: break
            default: XCTFail("unexpected \(error)")
            }
        }
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("checkpoint/trainer.ckpt").path) {
            let checkpoint = try TrainingCheckpoint.read(from: directory.appendingPathComponent("checkpoint"))
            XCTAssertTrue(checkpoint.history.records.allSatisfy { $0.loss.isFinite && ($0.validationLoss?.isFinite ?? true) })
        }
    }

    func testResumeRefusesOtherSettings() throws {
        let directory = TrainerTestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try TrainerTestData.squares(count: 8, seed: 51)
        var configuration = TrainingConfiguration(epochs: 1, batchSize: 4, outputDirectory: directory, progress: .silent,
                                                  saveWeights: TrainerTestData.saveWeights)
        try Trainer(model: TrainerTestData.smallModel(), optimizer: try RMSprop(), configuration: configuration).fit(data)
        configuration.epochs = 2
        configuration.batchSize = 2
        let trainer = try Trainer(model: TrainerTestData.smallModel(), optimizer: try RMSprop(), configuration: configuration)
        try trainer.restoreCheckpoint(from: directory.appendingPathComponent("checkpoint"))
        XCTAssertThrowsError(try trainer.fit(data)) { error in
            guard case .checkpoint(let message)? = error as? TrainingError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("batch size"), message)
        }
        // Another optimizer or model is refused when restoring.
        XCTAssertThrowsError(try Trainer(model: TrainerTestData.smallModel(), optimizer: try Adam(), configuration: configuration)
            .restoreCheckpoint(from: directory.appendingPathComponent("checkpoint")))
        XCTAssertThrowsError(try Trainer(model: try TrainerTestData.miniTransfer(.vgg16, loadWeights: false), optimizer: try RMSprop(),
                                         configuration: configuration)
            .restoreCheckpoint(from: directory.appendingPathComponent("checkpoint")))
    }

    func testCheckpointFileRoundTrip() throws {
        let directory = TrainerTestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try TrainerTestData.squares(count: 8, seed: 61)
        let model = try TrainerTestData.smallModel(dropoutRate: 0.5)
        let trainer = Trainer(model: model, optimizer: try Adam(learningRate: 3e-3), configuration: TrainingConfiguration(
            epochs: 2, batchSize: 4, seed: 0xFEDC_BA98_7654_3210, outputDirectory: directory, progress: .silent,
            saveWeights: TrainerTestData.saveWeights))
        try trainer.fit(data, validation: data)
        let checkpoint = try TrainingCheckpoint.read(from: directory.appendingPathComponent("checkpoint"))
        XCTAssertEqual(checkpoint.completedEpochs, 2)
        XCTAssertEqual(checkpoint.settings.seed, 0xFEDC_BA98_7654_3210)
        XCTAssertEqual(checkpoint.history, trainer.history)
        XCTAssertEqual(checkpoint.optimizer.iterations, 4)
        XCTAssertEqual(checkpoint.optimizerType, "Adam")
        XCTAssertEqual(checkpoint.parameterNames.first, "conv1/kernel")
        let dropout = model.flattenedLayers.compactMap { $0 as? Dropout }.first!
        XCTAssertEqual(checkpoint.dropoutGenerators.map(\.name), ["dropout"])
        XCTAssertEqual(checkpoint.dropoutGenerators.first?.generator, dropout.generator)
        let weights = TrainerTestData.weights(of: model)
        for (name, value) in zip(checkpoint.parameterNames, checkpoint.parameters) {
            XCTAssertEqual(value.scalars.map(\.bitPattern), weights[name]!.scalars.map(\.bitPattern), name)
        }
        // A finished run resumed with the same epoch count trains nothing more.
        let again = try Trainer(model: TrainerTestData.smallModel(dropoutRate: 0.5), optimizer: try Adam(learningRate: 3e-3),
                            configuration: trainer.configuration)
        try again.restoreCheckpoint(from: directory.appendingPathComponent("checkpoint"))
        XCTAssertEqual(try again.fit(data, validation: data).records.count, 2)
        XCTAssertTrue(TrainerTestData.identical(TrainerTestData.weights(of: again.model), weights))
        XCTAssertEqual(again.optimizer.iterations, 4)

        // A damaged file is reported, not trusted.
        let url = TrainingCheckpoint.url(in: directory.appendingPathComponent("checkpoint"))
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count / 2).write(to: url)
        XCTAssertThrowsError(try TrainingCheckpoint.read(from: directory.appendingPathComponent("checkpoint")))
    }
}
