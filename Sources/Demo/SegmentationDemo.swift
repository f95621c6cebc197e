import Foundation
import HuggingFaceFiles
import Segmentation
import SegmentationTraining
import Tensor
import Train
import Vision

/// Settings of the demo's segmentation part: synthetic facades (``SyntheticFacades``) and a
/// small SegFormer trained on them from random weights.
public struct SegmentationDemoOptions: Sendable {
    /// Facades to draw (a quarter of them validate).
    public var facades: Int
    /// Side of the drawn scenes, in pixels.
    public var facadeSize: Int
    /// The model's input side (random scale 0.5-2, crop and flip for training).
    public var inputSize: Int
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var validationFraction: Double
    /// The SegFormer: MiT-style, shrunk (``tiny``) so that the defaults train in under a minute on
    /// two cores (about 50 s on a 2-core Xeon, validation mIoU about 0.7).
    public var model: SegformerConfiguration

    /// Hidden sizes 16/32/48/64, one block a stage, 1/1/2/2 heads, decoder 64 (219 k weights), the
    /// facade classes, no dropout or drop path.
    public static let tiny = SegformerConfiguration(
        depths: [1, 1, 1, 1], hiddenSizes: [16, 32, 48, 64], numAttentionHeads: [1, 1, 2, 2],
        classifierDropoutProb: 0, dropPathRate: 0, decoderHiddenSize: 64, classNames: SyntheticFacades.classNames)

    public init(facades: Int = 192, facadeSize: Int = 96, inputSize: Int = 96, epochs: Int = 30, batchSize: Int = 8,
                learningRate: Float = 3e-3, validationFraction: Double = 0.25,
                model: SegformerConfiguration = SegmentationDemoOptions.tiny) {
        self.facades = facades
        self.facadeSize = facadeSize
        self.inputSize = inputSize
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.validationFraction = validationFraction
        self.model = model
    }
}

/// What the segmentation part produced.
public struct SegmentationDemoResult: Sendable {
    /// `facades/`: `images/` and `masks/`.
    public var dataDirectory: URL
    /// `segmentation/`: `history.csv`, `metrics.json`, `best/`, `last/`, `checkpoint/`.
    public var runDirectory: URL
    /// `segmentation/best`: the Hugging Face folder of the best epoch (highest validation mIoU).
    public var modelDirectory: URL
    public var training: SegmentationTrainingResult
    public var seconds: Double
}

extension Demo {
    /// Draws `options.facades` facades into `directory/facades`, trains a SegFormer of
    /// `options.model` from random weights (seeded by `seed`) with ``SegmentationTrainer`` into
    /// `directory/segmentation`, and reports the best validation mIoU. Only the demo's own
    /// folders are replaced: the facade images and masks, and the segmentation run's checkpoint
    /// (a fresh run each time).
    public static func runSegmentation(_ options: SegmentationDemoOptions, in directory: URL, seed: UInt64 = 0,
                                       progress: ProgressMode = .silent,
                                       log: (String) -> Void = { _ in }) throws -> SegmentationDemoResult {
        let clock = ContinuousClock.now
        let data = directory.appendingPathComponent("facades")
        let run = directory.appendingPathComponent("segmentation")
        let fm = FileManager.default
        for folder in ["images", "masks"] { try? fm.removeItem(at: data.appendingPathComponent(folder)) }
        try SyntheticFacades(width: options.facadeSize, height: options.facadeSize, seed: seed)
            .write(to: data, count: options.facades)
        log("wrote \(options.facades) synthetic facades with masks (\(options.facadeSize)x\(options.facadeSize), classes "
            + SyntheticFacades.classNames.joined(separator: ", ") + "; background ignored) to \(data.path)")

        let files = SegmentationRunFiles(directory: run)
        try? fm.removeItem(at: files.checkpoint)  // a fresh run each time
        let dataset = try SegmentationDataset(directory: data, numLabels: SyntheticFacades.classNames.count)
        let model = try Segformer(configuration: options.model, seed: seed)
        let processor = try ImageProcessor(configuration: .segformerDefaults, inputSize: options.inputSize)
        let configuration = SegmentationTrainingConfiguration(
            epochs: options.epochs, batchSize: options.batchSize, learningRate: options.learningRate,
            validationFraction: options.validationFraction, seed: seed, outputDirectory: run, progress: progress)
        let trainer = try SegmentationTrainer(model: model, processor: processor, configuration: configuration)
        let parameters = model.weights.reduce(0) { $0 + $1.value.count }
        log("training a SegFormer (hidden sizes \(options.model.hiddenSizes.map(String.init).joined(separator: "/")), "
            + "\(parameters) weights, random start) at \(options.inputSize)x\(options.inputSize) for \(options.epochs) epochs")
        let result = try trainer.fit(dataset)
        return SegmentationDemoResult(dataDirectory: data, runDirectory: run, modelDirectory: files.best, training: result,
                                      seconds: TrainingProgress.seconds(ContinuousClock.now - clock))
    }
}
