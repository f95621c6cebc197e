import Demo
import Foundation
import HuggingFaceFiles
import Layers
import Tensor
import Train
import Vision
import XCTest
@testable import SegmentationTraining
import Segmentation

/// `SegmentationTrainer` on seeded synthetic facades (`SyntheticFacades`, 3 classes + ignored
/// background) with a tiny SegFormer at 64 x 64: it learns, resumes bit for bit, writes its
/// files, and refuses what would give a wrong answer.
final class SegmentationTrainerTests: XCTestCase {
    /// Hidden sizes 8/16/24/32, one block a stage, decoder 16: about 20 k parameters.
    static func tinyConfiguration(dropout: Bool = false) -> SegformerConfiguration {
        SegformerConfiguration(depths: [1, 1, 1, 1], hiddenSizes: [8, 16, 24, 32], numAttentionHeads: [1, 1, 2, 2],
                               classifierDropoutProb: dropout ? 0.1 : 0, dropPathRate: dropout ? 0.1 : 0,
                               decoderHiddenSize: 16, classNames: SyntheticFacades.classNames)
    }

    static func processor() throws -> ImageProcessor {
        try ImageProcessor(configuration: .segformerDefaults, inputSize: 64)
    }

    /// `count` facades of 64 x 64 in a fresh folder.
    func facades(_ count: Int, seed: UInt64 = 0) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-segtrain-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        try SyntheticFacades(width: 64, height: 64, seed: seed).write(to: url, count: count)
        return url
    }

    func runDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-segrun-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func dataset(_ url: URL) throws -> SegmentationDataset {
        try SegmentationDataset(directory: url, numLabels: SyntheticFacades.classNames.count)
    }

    func trainer(_ configuration: SegmentationTrainingConfiguration, dropout: Bool = false,
                 seed: UInt64 = 1) throws -> SegmentationTrainer {
        let model = try Segformer(configuration: Self.tinyConfiguration(dropout: dropout), seed: seed)
        return try SegmentationTrainer(model: model, processor: try Self.processor(), configuration: configuration)
    }

    // MARK: - Learning

    /// 24 facades (18 train, 6 validate), 5 epochs of batches of 3 at lr 4e-3, random crops
    /// without rescaling or flips: the epoch loss falls by 30 % and the best validation mIoU
    /// beats 0.35 (a model that predicts one class everywhere scores at most 1/3 x that class's
    /// IoU, under 0.25 here; the untrained model scores about 0.1-0.2). About 15 s in debug.
    func testTrainingLowersTheLossAndRaisesMeanIoU() throws {
        let data = try dataset(facades(24))
        let configuration = SegmentationTrainingConfiguration(epochs: 5, batchSize: 3, learningRate: 4e-3,
                                                              validationFraction: 0.25, seed: 3,
                                                              augmentation: .coverAndCrop)
        let result = try trainer(configuration).fit(data)
        let records = result.history.records
        XCTAssertEqual(records.count, 5)
        XCTAssertEqual(result.trainingPairs, 18)
        XCTAssertEqual(result.validationPairs, 6)
        XCTAssertTrue(result.trainingClassPixels.allSatisfy { $0 > 0 }, "\(result.trainingClassPixels)")
        let first = try XCTUnwrap(records.first), last = try XCTUnwrap(records.last)
        XCTAssertLessThan(last.loss, 0.7 * first.loss, "\(records.map(\.loss))")
        let best = try XCTUnwrap(result.bestMetrics)
        XCTAssertGreaterThan(best.meanIoU, 0.35, "mIoU per epoch \(records.map(\.meanIoU))")
        XCTAssertGreaterThan(best.pixelAccuracy, 0.6)
        XCTAssertEqual(result.bestEpoch, result.history.bestEpoch)
        XCTAssertEqual(best.meanIoU, records.map(\.meanIoU).max())
        // The schedule decays linearly to 0 over the 30 steps: the last runs at lr / 30.
        XCTAssertEqual(result.totalSteps, 30)
        XCTAssertEqual(last.learningRate, 4e-3 / 30, accuracy: 1e-9)
    }

    // MARK: - Resume

    /// 3 epochs in one go, and 1 epoch + a resumed 2 in a fresh process-like trainer (new model
    /// object, weights from the checkpoint): every tensor, the BatchNorm step count and the
    /// history agree exactly (dropout and drop path on, so their generators are checkpointed too).
    func testResumeEqualsAnUninterruptedRunBitForBit() throws {
        let data = try dataset(facades(10, seed: 5))
        var configuration = SegmentationTrainingConfiguration(epochs: 3, batchSize: 4, learningRate: 1e-3,
                                                              validationFraction: 0.2, seed: 9)
        let straight = runDirectory(), interrupted = runDirectory()
        configuration.outputDirectory = straight
        let a = try trainer(configuration, dropout: true)
        try a.fit(data)

        configuration.outputDirectory = interrupted
        configuration.stopAfterEpochs = 1
        let partial = try trainer(configuration, dropout: true).fit(data)
        XCTAssertEqual(partial.history.records.count, 1)
        XCTAssertFalse(partial.completed)
        configuration.stopAfterEpochs = nil
        configuration.resume = true
        let b = try trainer(configuration, dropout: true, seed: 77)  // other initial weights: replaced by the checkpoint
        let resumed = try b.fit(data)
        XCTAssertEqual(resumed.resumedEpochs, 1)
        XCTAssertTrue(resumed.completed)

        for (x, y) in zip(a.model.torchStateDict, b.model.torchStateDict) {
            XCTAssertEqual(x.name, y.name)
            XCTAssertEqual(x.parameter.value.scalars.map(\.bitPattern), y.parameter.value.scalars.map(\.bitPattern), x.name)
        }
        XCTAssertEqual(a.model.batchNormSteps, b.model.batchNormSteps)
        XCTAssertEqual(a.model.batchNormSteps, 6)  // 8 training pairs in batches of 4 for 3 epochs: one forward a step
        XCTAssertEqual(a.history.records.map(\.withoutTiming), b.history.records.map(\.withoutTiming))
        XCTAssertEqual(a.optimizer?.iterations, b.optimizer?.iterations)
        XCTAssertEqual(a.bestEpoch, b.bestEpoch)
        for name in ["best/model.safetensors", "last/model.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: straight.appendingPathComponent(name)),
                           try Data(contentsOf: interrupted.appendingPathComponent(name)), name)
        }

        // Changing a setting is refused, naming it; so is a fresh run over the checkpoint.
        configuration.batchSize = 2
        XCTAssertThrowsError(try trainer(configuration).fit(data)) { error in
            guard case let SegmentationTrainingError.settingsDiffer(_, differences) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(differences.contains { $0.hasPrefix("batch size 4 (checkpoint) vs 2 (now)") }, "\(differences)")
        }
        configuration.batchSize = 4
        configuration.resume = false
        XCTAssertThrowsError(try trainer(configuration).fit(data)) { error in
            XCTAssertEqual(error as? SegmentationTrainingError, .wouldOverwrite(directory: interrupted.path))
        }
        configuration.outputDirectory = runDirectory()
        configuration.resume = true
        XCTAssertThrowsError(try trainer(configuration).fit(data)) { error in
            guard case SegmentationTrainingError.noCheckpoint = error else { return XCTFail("\(error)") }
        }
    }

    /// A step budget of 3 with 2 steps an epoch: 2 epochs, the second of 1 step; with the
    /// encoder frozen only the decode head moves.
    func testStepBudgetAndFrozenEncoder() throws {
        let data = try dataset(facades(8, seed: 4))
        let configuration = SegmentationTrainingConfiguration(epochs: 10, maxSteps: 3, batchSize: 3, learningRate: 1e-3,
                                                              validationFraction: 0.25, freezeEncoder: true)
        let trainer = try self.trainer(configuration)
        let before = trainer.model.torchStateDict.map { ($0.name, $0.parameter.value.scalars) }
        let result = try trainer.fit(data)
        XCTAssertEqual(result.runEpochs, 2)
        XCTAssertEqual(result.history.records.map(\.steps), [2, 1])
        XCTAssertEqual(result.totalSteps, 3)
        XCTAssertEqual(trainer.optimizer?.iterations, 3)
        XCTAssertTrue(result.completed)
        for ((name, old), tensor) in zip(before, trainer.model.torchStateDict) {
            if name.hasPrefix("segformer.encoder.") {
                XCTAssertEqual(old, tensor.parameter.value.scalars, "\(name) is frozen")
            } else if name.hasSuffix(".weight") {
                XCTAssertNotEqual(old, tensor.parameter.value.scalars, "\(name) is trained")
            }
        }
    }

    // MARK: - Files

    func testRunFilesHistoryMetricsAndFolders() throws {
        let data = try dataset(facades(8, seed: 2))
        let run = runDirectory()
        let configuration = SegmentationTrainingConfiguration(epochs: 2, batchSize: 3, learningRate: 1e-3,
                                                              validationFraction: 0.25, seed: 1, outputDirectory: run)
        let trainer = try self.trainer(configuration)
        let result = try trainer.fit(data)
        let files = SegmentationRunFiles(directory: run)

        let lines = try String(contentsOf: files.history, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "epoch,loss,val_loss,pixel_accuracy,mean_iou,iou_undamaged_structure,"
                       + "iou_damaged_structure,iou_debris,learning_rate,seconds")
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[1].hasPrefix("1,"), lines[1])
        XCTAssertEqual(lines[1].split(separator: ",", omittingEmptySubsequences: false).count, 10)

        let metrics = try JSONFile.readObject(at: files.metrics)
        XCTAssertEqual(Set(metrics.keys), ["monitor", "best_epoch", "final_epoch", "best", "final", "class_names"])
        XCTAssertEqual(metrics["monitor"], .string("mean_iou"))
        XCTAssertEqual(metrics["final_epoch"]?.intValue, 2)
        XCTAssertEqual(metrics["best_epoch"]?.intValue, result.bestEpoch)
        guard case let .object(final)? = metrics["final"], case let .object(best)? = metrics["best"] else {
            return XCTFail("best and final must be objects: \(metrics)")
        }
        for object in [final, best] {
            XCTAssertEqual(Set(object.keys), ["pixel_accuracy", "mean_iou", "mean_accuracy", "per_class_iou",
                                              "per_class_accuracy", "confusion_matrix", "class_names", "pixels"])
        }
        XCTAssertEqual(final["mean_iou"]?.doubleValue ?? -1, result.history.records[1].meanIoU, accuracy: 1e-12)

        // best/ and last/ are Hugging Face folders that load exactly, with the training processor.
        for folder in [files.best, files.last] {
            let loaded = try SegformerFolder.load(folder)
            XCTAssertEqual(loaded.classNames, SyntheticFacades.classNames)
            let preprocessing = try ImageProcessorConfiguration.load(folder: folder)
            XCTAssertEqual(preprocessing.size, .exact(height: 64, width: 64))
            XCTAssertEqual(try ImageProcessor(configuration: preprocessing), try Self.processor())
        }
        let last = try SegformerFolder.load(files.last)
        for (x, y) in zip(trainer.model.torchStateDict, last.torchStateDict) {
            XCTAssertEqual(x.parameter.value.scalars, y.parameter.value.scalars, x.name)
        }
        XCTAssertEqual(last.batchNormSteps, trainer.model.batchNormSteps)
        XCTAssertTrue(FileManager.default.fileExists(atPath: files.checkpointFile.path))
    }

    // MARK: - Refusals

    func testMaskClassOutOfRangeIsAnErrorNamingTheFile() throws {
        let folder = try facades(6)
        let bad = folder.appendingPathComponent("masks/facade_00004.png")
        var mask = try ClassMask.read(contentsOf: bad)
        let indices = mask.indices.enumerated().map { $0.offset == 130 ? UInt8(7) : $0.element }
        mask = try ClassMask(width: mask.width, height: mask.height, indices: indices)
        try mask.write(to: bad)
        let configuration = SegmentationTrainingConfiguration(epochs: 1, batchSize: 2, validationFraction: 0.5)
        XCTAssertThrowsError(try trainer(configuration).fit(dataset(folder))) { error in
            XCTAssertEqual(error as? SegmentationDataError,
                           .labelOutOfRange(mask: bad.path, value: 7, numLabels: 3, x: 130 % 64, y: 130 / 64))
            XCTAssertTrue("\(error)".contains("facade_00004.png"), "\(error)")
        }
    }

    func testSingleClassMasksAreRefusedUnlessAllowed() throws {
        let folder = try facades(6)
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("masks").path) {
            let url = folder.appendingPathComponent("masks/\(name)")
            let mask = try ClassMask.read(contentsOf: url)
            try ClassMask(width: mask.width, height: mask.height, indices: mask.indices.map { $0 == 255 ? 255 : 0 })
                .write(to: url)
        }
        var configuration = SegmentationTrainingConfiguration(epochs: 1, batchSize: 3, learningRate: 1e-3,
                                                              validationFraction: 0.5)
        XCTAssertThrowsError(try trainer(configuration).fit(dataset(folder))) { error in
            guard case let SegmentationTrainingError.singleClass(className, _, masks, _) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(className, "undamaged_structure")
            XCTAssertEqual(masks, 3)
        }
        configuration.allowSingleClass = true
        XCTAssertEqual(try trainer(configuration).fit(dataset(folder)).history.records.count, 1)
    }

    /// A NaN weight makes the first loss NaN: training stops with an error before any update,
    /// and no checkpoint or model folder is written.
    func testNaNLossStopsTraining() throws {
        let data = try dataset(facades(6))
        let run = runDirectory()
        let configuration = SegmentationTrainingConfiguration(epochs: 2, batchSize: 3, validationFraction: 0.5,
                                                              outputDirectory: run)
        let trainer = try self.trainer(configuration)
        let kernel = trainer.model.decodeHead.classifier.kernel
        kernel.value = Tensor(kernel.value.scalars.enumerated().map { $0.offset == 0 ? .nan : $0.element },
                              shape: kernel.shape)
        XCTAssertThrowsError(try trainer.fit(data)) { error in
            guard case let SegmentationTrainingError.nonFiniteLoss(epoch, step, value) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(epoch, 1)
            XCTAssertEqual(step, 1)
            XCTAssertTrue(value.isNaN)
        }
        XCTAssertEqual(trainer.optimizer?.iterations, 0)
        let files = SegmentationRunFiles(directory: run)
        for url in [files.checkpointFile, files.best, files.last, files.history] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: url.path), url.path)
        }
    }

    func testBadSettingsAreRefused() throws {
        let model = try Segformer(configuration: Self.tinyConfiguration())
        let processor = try Self.processor()
        func refused(_ configuration: SegmentationTrainingConfiguration, _ name: String,
                     file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try SegmentationTrainer(model: model, processor: processor, configuration: configuration),
                                 file: file, line: line) { error in
                guard case let SegmentationTrainingError.invalidSetting(setting, _, _) = error else {
                    return XCTFail("\(error)", file: file, line: line)
                }
                XCTAssertEqual(setting, name, file: file, line: line)
            }
        }
        refused(SegmentationTrainingConfiguration(epochs: 0), "epochs")
        refused(SegmentationTrainingConfiguration(batchSize: 0), "batch size")
        refused(SegmentationTrainingConfiguration(learningRate: .nan), "learning rate")
        refused(SegmentationTrainingConfiguration(validationFraction: 0), "validation fraction")
        refused(SegmentationTrainingConfiguration(classWeights: [1, 2]), "class weights")
        refused(SegmentationTrainingConfiguration(classWeights: [1, -1, 1]), "class weights")
        refused(SegmentationTrainingConfiguration(resume: true), "resume")
    }

    /// A damaged checkpoint is refused with the file and the field, never trusted.
    func testDamagedCheckpointIsRefused() throws {
        let data = try dataset(facades(6))
        let run = runDirectory()
        var configuration = SegmentationTrainingConfiguration(epochs: 2, batchSize: 3, validationFraction: 0.5,
                                                              outputDirectory: run, stopAfterEpochs: 1)
        try trainer(configuration).fit(data)
        let files = SegmentationRunFiles(directory: run)
        let file = try SafeTensorsFile(contentsOf: files.checkpointFile)
        var writer = SafeTensorsWriter(metadata: file.metadata.merging(
            [SegmentationCheckpoint.metadataKey: "{\"format\": 1}"]) { $1 })
        for name in file.names { writer.add(name, try file.floatTensor(name)) }
        try writer.write(to: files.checkpointFile)
        configuration.resume = true
        configuration.stopAfterEpochs = nil
        XCTAssertThrowsError(try trainer(configuration).fit(data)) { error in
            guard case let SegmentationTrainingError.damagedCheckpoint(path, field, _) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(path, files.checkpointFile.path)
            XCTAssertEqual(field, SegmentationCheckpoint.metadataKey)
        }
    }

    // MARK: - Image processor from preprocessor_config.json

    func testImageProcessorFromPreprocessorConfiguration() throws {
        XCTAssertEqual(try ImageProcessor(configuration: .segformerDefaults), try ImageProcessor.segformer(height: 512, width: 512))
        XCTAssertEqual(try ImageProcessor(configuration: .segformerDefaults, inputSize: 64),
                       try ImageProcessor.segformer(height: 64, width: 64))
        var configuration = ImageProcessorConfiguration.segformerDefaults
        configuration.imageMean = [0.5]
        configuration.imageStd = [0.25]
        configuration.resample = .bicubic
        configuration.size = .exact(height: 96, width: 128)
        let processor = try ImageProcessor(configuration: configuration, backend: .pil)
        XCTAssertEqual(processor, try ImageProcessor(height: 96, width: 128, resample: .bicubic, backend: .pil,
                                                     mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]))
        XCTAssertEqual(configuration.describing(processor).size, .exact(height: 96, width: 128))

        configuration.size = .shortestEdge(384, longestEdge: nil)
        XCTAssertThrowsError(try ImageProcessor(configuration: configuration, file: "x/preprocessor_config.json")) { error in
            guard case let HuggingFaceError.invalidConfig(file, key, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "x/preprocessor_config.json")
            XCTAssertEqual(key, "size")
        }
        XCTAssertEqual(try ImageProcessor(configuration: configuration, inputSize: 32, backend: .pil).height, 32)
        configuration.size = .exact(height: 64, width: 64)
        configuration.resample = .lanczos
        XCTAssertThrowsError(try ImageProcessor(configuration: configuration)) { error in  // torchvision has no lanczos
            guard case let HuggingFaceError.invalidConfig(_, key, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "resample")
        }
        configuration.resample = .bilinear
        configuration.imageMean = [0.1, 0.2]
        XCTAssertThrowsError(try ImageProcessor(configuration: configuration))
    }
}
