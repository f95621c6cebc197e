import Foundation
import KerasFiles
import Layers
import Tensor
import TestSupport
import Train
import XCTest
import Zoo

/// Models and data the trainer tests share.
enum TrainerTestData {
    /// The Keras fixtures' mini VGG transfer model (64x64 input, head 16), blocks 1-4 frozen,
    /// with the fixture's initial weights.
    static func miniTransfer(_ depth: VGGConfiguration.Depth, dropoutRate: Float? = nil,
                             loadWeights: Bool = true) throws -> Sequential {
        var rng = SeededGenerator(seed: 1)
        let model = try TransferModel.vgg(
            VGGConfiguration(depth: depth, inputSize: 64, widths: VGGConfiguration.miniWidths),
            head: TransferHead(hiddenUnits: 16, dropoutRate: dropoutRate, classes: 2, dropoutSeed: 5),
            freezeThrough: "block4", rng: &rng)
        if loadWeights { try KerasWeights.load(Fixtures.url("\(depth.rawValue)_transfer.h5"), into: model) }
        return model
    }

    /// `x_train` / `y_train` (8 images, one-hot labels -> class indices).
    static func fixtureExamples() throws -> TensorExamples {
        let x = try Fixtures.tensor("x_train"), y = try Fixtures.tensor("y_train")
        let classes = y.shape[1]
        let labels = (0..<y.shape[0]).map { row in (0..<classes).max { y[flat: row * classes + $0] < y[flat: row * classes + $1] }! }
        return try TensorExamples(images: x, labels: labels, classNames: ["intact", "rubble"])
    }

    /// `fit_b3_e2_epoch_losses` of `manifest.json` (copied from the Keras fixtures).
    static func manifestFitLosses(_ depth: VGGConfiguration.Depth) throws -> [Double] {
        let data = try Data(contentsOf: Fixtures.url("manifest.json"))
        let root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let nets = root["nets"] as! [String: Any]
        let net = nets[depth.rawValue] as! [String: Any]
        return (net["fit_b3_e2_epoch_losses"] as! [NSNumber]).map(\.doubleValue)
    }

    /// `count` images `size` x `size` of noise in [0, 0.5); class 1 (every other one, plus a
    /// few extra so the classes are not balanced) has a bright square.
    static func squares(count: Int, size: Int = 16, seed: UInt64) throws -> TensorExamples {
        var rng = SeededGenerator(seed: seed)
        var labels: [Int] = []
        let side = max(2, size / 4)
        let images = Tensor(shape: [count, size, size, 3]) { pixels in
            for n in 0..<count {
                let label = n % 3 == 0 ? 0 : 1
                labels.append(label)
                let base = n * size * size * 3
                for i in 0..<(size * size * 3) { pixels[base + i] = 0.5 * rng.nextUnit() }
                guard label == 1 else { continue }
                let top = Int(rng.next() % UInt64(size - side)), left = Int(rng.next() % UInt64(size - side))
                for y in top..<(top + side) {
                    for x in left..<(left + side) {
                        for c in 0..<3 { pixels[base + (y * size + x) * 3 + c] = 0.9 + 0.1 * rng.nextUnit() }
                    }
                }
            }
        }
        return try TensorExamples(images: images, labels: labels, classNames: ["intact", "rubble"])
    }

    /// A small CNN for 16x16 input whose first convolution is frozen (a cacheable prefix
    /// `conv1, pool1`), optionally with dropout in the head.
    static func smallModel(seed: UInt64 = 3, dropoutRate: Float? = nil) throws -> Sequential {
        var rng = SeededGenerator(seed: seed)
        var layers: [any Layer] = [
            try Conv2D(name: "conv1", inputChannels: 3, filters: 8, activation: .relu, rng: &rng),
            MaxPool2D(name: "pool1"),
            try Conv2D(name: "conv2", inputChannels: 8, filters: 8, activation: .relu, rng: &rng),
            MaxPool2D(name: "pool2"),
            Flatten(),
            try Dense(name: "dense", inputSize: 4 * 4 * 8, outputSize: 16, activation: .relu, rng: &rng),
        ]
        if let dropoutRate { layers.append(try Dropout(name: "dropout", rate: dropoutRate, seed: 11)) }
        layers.append(try Dense(name: "dense_1", inputSize: 16, outputSize: 2, activation: .softmax, rng: &rng))
        let model = try Sequential(layers)
        model.layers[0].setTrainable(false)
        return model
    }

    /// Every parameter's value by qualified name (`vgg19/block5_conv1/kernel`), as the trainer
    /// and the weights files name them.
    static func weights(of model: any Layer) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        func walk(_ layer: any Layer, _ path: [String]) {
            if let container = layer as? any LayerContainer {
                for child in container.layers { walk(child, path + [container.name]) }
                return
            }
            for parameter in layer.parameters {
                result[(path + [layer.name, parameter.name]).joined(separator: "/")] = parameter.value
            }
        }
        if let root = model as? any LayerContainer {  // the outer model's own name is left out
            for child in root.layers { walk(child, []) }
        } else {
            walk(model, [])
        }
        return result
    }

    /// The model's weights as `KerasWeights.tensors(in:)` reads them back after `save`.
    static func savedTensors(of model: any Layer) throws -> [String: Tensor] {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.h5")
        try KerasWeights.save(model, to: url)
        return try KerasWeights.tensors(in: url)
    }

    /// Whether two weight sets are equal bit for bit.
    static func identical(_ a: [String: Tensor], _ b: [String: Tensor]) -> Bool {
        a.keys.sorted() == b.keys.sorted() && a.allSatisfy { key, value in
            value.shape == b[key]!.shape && value.scalars.map(\.bitPattern) == b[key]!.scalars.map(\.bitPattern)
        }
    }

    /// Largest absolute difference over all tensors.
    static func maxDifference(_ a: [String: Tensor], _ b: [String: Tensor]) -> Float {
        a.reduce(0) { max($0, $1.value.maxAbsDifference(b[$1.key]!)) }
    }

    /// What `rubble train` gives `fit`: Keras 2 files with the class names and the input shape.
    static let saveWeights: WeightsSaver = KerasWeights.saver()

    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rubble-trainer-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

final class TrainerTests: XCTestCase {
    func testHistoryCSVColumnsAndRunFiles() throws {
        let directory = TrainerTestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let training = try TrainerTestData.squares(count: 24, seed: 1)
        let validation = try TrainerTestData.squares(count: 12, seed: 2)
        let model = try TrainerTestData.smallModel()
        let trainer = Trainer(model: model, optimizer: try RMSprop(learningRate: 1e-3), configuration: TrainingConfiguration(
            epochs: 2, batchSize: 8, classWeights: [1.5, 0.75], outputDirectory: directory, progress: .silent,
            saveWeights: TrainerTestData.saveWeights))
        let history = try trainer.fit(training, validation: validation)
        XCTAssertEqual(history.records.map(\.epoch), [1, 2])

        let text = try String(contentsOf: directory.appendingPathComponent("history.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "epoch,loss,accuracy,val_loss,val_accuracy,precision_intact,recall_intact,"
                                    + "precision_rubble,recall_rubble,seconds,images_per_s")
        XCTAssertEqual(lines.count, 3)
        let cells = lines[1].split(separator: ",", omittingEmptySubsequences: false)
        XCTAssertEqual(cells.count, 11)
        XCTAssertEqual(cells[0], "1")
        XCTAssertEqual(Double(cells[1])!, history.records[0].loss, accuracy: 1e-6)
        XCTAssertNotNil(history.records[0].validationLoss)
        XCTAssertEqual(history.records[0].precision?.count, 2)
        XCTAssertEqual(try History.readCSV(directory.appendingPathComponent("history.csv")).records.map(\.epoch), [1, 2])

        for file in ["best.h5", "weights.h5", "checkpoint/trainer.ckpt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent(file).path), file)
        }
        let metadata = try KerasWeights.metadata(of: directory.appendingPathComponent("weights.h5"))
        XCTAssertEqual(metadata.classNames, ["intact", "rubble"])
        XCTAssertEqual(metadata.inputShape, [16, 16, 3])
        // Final weights are the model's.
        let final = try TrainerTestData.smallModel(seed: 99)
        try KerasWeights.load(directory.appendingPathComponent("weights.h5"), into: final)
        XCTAssertTrue(TrainerTestData.identical(TrainerTestData.weights(of: final), TrainerTestData.weights(of: model)))
        // No temporary files left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [])
    }

    /// `best.h5` holds the weights of the epoch with the lowest validation loss.
    func testBestWeightsAreTheBestEpochs() throws {
        let directory = TrainerTestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let training = try TrainerTestData.squares(count: 24, seed: 3)
        let validation = try TrainerTestData.squares(count: 12, seed: 4)
        let model = try TrainerTestData.smallModel()
        let trainer = Trainer(model: model, optimizer: try RMSprop(learningRate: 3e-2), configuration: TrainingConfiguration(
            epochs: 0, batchSize: 6, outputDirectory: directory, progress: .silent, saveWeights: TrainerTestData.saveWeights))
        var snapshots: [[String: Tensor]] = []
        for epochs in 1...5 {  // fit continues where the last call stopped
            trainer.configuration.epochs = epochs
            try trainer.fit(training, validation: validation)
            snapshots.append(TrainerTestData.weights(of: model))
        }
        let losses = trainer.history.records.map { $0.validationLoss! }
        let best = losses.indices.min { losses[$0] < losses[$1] }! + 1
        XCTAssertEqual(trainer.bestEpoch, best)
        XCTAssertEqual(trainer.history.bestEpoch(by: .validationLoss), best)
        let loaded = try TrainerTestData.smallModel(seed: 42)
        try KerasWeights.load(directory.appendingPathComponent("best.h5"), into: loaded)
        XCTAssertTrue(TrainerTestData.identical(TrainerTestData.weights(of: loaded), snapshots[best - 1]),
                      "best.h5 is not epoch \(best)'s weights (val losses \(losses))")
    }

    /// With nothing changing (learning rate 0) the monitored metric never improves after
    /// epoch 1: patience 2 stops after epoch 3, as Keras' EarlyStopping does.
    func testEarlyStoppingStopsAtTheRightEpoch() throws {
        let training = try TrainerTestData.squares(count: 12, seed: 5)
        let validation = try TrainerTestData.squares(count: 6, seed: 6)
        for monitor in [Monitor.validationLoss, Monitor.validationAccuracy] {
            let trainer = try Trainer(model: TrainerTestData.smallModel(), optimizer: try SGD(learningRate: 0),
                                  configuration: TrainingConfiguration(epochs: 10, batchSize: 4, monitor: monitor,
                                                                       earlyStoppingPatience: 2, progress: .silent))
            let history = try trainer.fit(training, validation: validation)
            XCTAssertEqual(history.records.count, 3, "\(monitor)")
            XCTAssertTrue(trainer.stoppedEarly)
            XCTAssertEqual(trainer.bestEpoch, 1)
        }
        // Without patience it runs every epoch.
        let trainer = try Trainer(model: TrainerTestData.smallModel(), optimizer: try SGD(learningRate: 0),
                              configuration: TrainingConfiguration(epochs: 4, batchSize: 4, progress: .silent))
        XCTAssertEqual(try trainer.fit(training, validation: validation).records.count, 4)
        XCTAssertFalse(trainer.stoppedEarly)
    }

    /// Training lowers the loss and beats chance on a separable task; evaluation agrees with
    /// the recorded validation numbers.
    func testFitLearnsAndEvaluateMatchesHistory() throws {
        let training = try TrainerTestData.squares(count: 96, seed: 7)
        let validation = try TrainerTestData.squares(count: 24, seed: 8)
        let trainer = try Trainer(model: TrainerTestData.smallModel(), optimizer: try Adam(learningRate: 1e-2),
                              configuration: TrainingConfiguration(epochs: 10, batchSize: 8, seed: 3, progress: .silent))
        let history = try trainer.fit(training, validation: validation)
        XCTAssertLessThan(history.records.last!.loss, history.records.first!.loss)
        XCTAssertGreaterThan(history.records.last!.validationAccuracy!, 0.8)
        let evaluation = try trainer.evaluate(validation)
        XCTAssertEqual(evaluation.loss, history.records.last!.validationLoss!, accuracy: 1e-6)
        XCTAssertEqual(evaluation.accuracy, history.records.last!.validationAccuracy!)
        XCTAssertEqual(evaluation.probabilities.count, 24)
        for row in evaluation.probabilities { XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5) }
    }

    /// Augmentation turns the cache off and still trains; the same seed gives the same run.
    func testAugmentedTrainingIsUncachedAndRepeatable() throws {
        let training = try TrainerTestData.squares(count: 16, seed: 9)
        func run() throws -> (Trainer, [String: Tensor]) {
            let model = try TrainerTestData.smallModel()
            let trainer = Trainer(model: model, optimizer: try RMSprop(learningRate: 1e-3), configuration: TrainingConfiguration(
                epochs: 2, batchSize: 8, seed: 4, augmentation: try Augmentation(parsing: "flip,shift=0.1"),
                progress: .silent))
            try trainer.fit(training)
            return (trainer, TrainerTestData.weights(of: model))
        }
        let (first, a) = try run()
        let (_, b) = try run()
        XCTAssertNil(first.featureCache)
        XCTAssertNotNil(first.featureCacheSkipReason)
        XCTAssertTrue(TrainerTestData.identical(a, b))
    }

    func testConfigurationErrors() throws {
        let training = try TrainerTestData.squares(count: 8, seed: 1)
        func fit(_ configuration: TrainingConfiguration, model: Sequential? = nil) -> (any Error)? {
            do {
                try Trainer(model: model ?? TrainerTestData.smallModel(), optimizer: try SGD(),
                            configuration: configuration).fit(training)
                return nil
            } catch { return error }
        }
        XCTAssertEqual(fit(TrainingConfiguration(batchSize: 0, progress: .silent)) as? TrainingError,
                       .invalidConfiguration("batch size must be >= 1, got 0"))
        XCTAssertNotNil(fit(TrainingConfiguration(classWeights: [1, 2, 3], progress: .silent)) as? TrainingError)
        XCTAssertNotNil(fit(TrainingConfiguration(monitor: Monitor("val_f7"), progress: .silent)) as? TrainingError)
        let frozen = try TrainerTestData.smallModel()
        frozen.setTrainable(false)
        XCTAssertEqual(fit(TrainingConfiguration(epochs: 1, progress: .silent), model: frozen) as? TrainingError,
                       .nothingToTrain)
    }

    /// Without validation data, `val_loss` falls back to `loss` for choosing the best epoch.
    func testMonitorFallsBackWithoutValidation() throws {
        let trainer = try Trainer(model: TrainerTestData.smallModel(), optimizer: try RMSprop(learningRate: 1e-3),
                              configuration: TrainingConfiguration(epochs: 2, batchSize: 8, progress: .silent))
        let history = try trainer.fit(try TrainerTestData.squares(count: 16, seed: 2))
        XCTAssertNil(history.records[0].validationLoss)
        XCTAssertEqual(trainer.bestEpoch, history.bestEpoch(by: Monitor("loss")))
        XCTAssertTrue(history.csv.hasPrefix("epoch,loss,accuracy,val_loss,val_accuracy,"))
    }
}
