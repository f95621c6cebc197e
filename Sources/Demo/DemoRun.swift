import Foundation
import Inference
import KerasFiles
import Layers
import Tensor
import Train
import Vision
import Zoo

/// Settings of the end-to-end demo (`rubble demo`).
public struct DemoOptions: Sendable {
    /// Everything goes below it: `data/{intact,rubble}` and `run/`.
    public var directory: URL
    /// Synthetic scenes to draw, about 56 % intact and 44 % rubble like the paper's set.
    public var images: Int
    public var imageSize: Int
    public var epochs: Int
    public var batchSize: Int
    public var seed: UInt64
    /// Share of all images that picks the best epoch and the suggested threshold.
    public var validationFraction: Double
    /// Share of all images held out until the end: never trained on, never used to choose
    /// the epoch or the threshold.
    public var testFraction: Double
    public var learningRate: Float
    public var progress: ProgressMode
    /// The segmentation part (synthetic facades, a small SegFormer), run after the classifier;
    /// `nil` leaves it out.
    public var segmentation: SegmentationDemoOptions?

    public init(directory: URL, images: Int = 600, imageSize: Int = 64, epochs: Int = 8, batchSize: Int = 16,
                seed: UInt64 = 0, validationFraction: Double = 0.2, testFraction: Double = 0.2,
                learningRate: Float = 1e-3, progress: ProgressMode = .silent,
                segmentation: SegmentationDemoOptions? = nil) {
        self.directory = directory
        self.images = images
        self.imageSize = imageSize
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.validationFraction = validationFraction
        self.testFraction = testFraction
        self.learningRate = learningRate
        self.progress = progress
        self.segmentation = segmentation
    }
}

/// What the demo produced.
public struct DemoResult {
    public var dataDirectory: URL
    public var runDirectory: URL
    /// `run/test`: the held-out test set's report files.
    public var testDirectory: URL
    public var classNames: [String]
    /// The positive class (`rubble`).
    public var positive: Int
    public var classWeights: [Float]
    public var training: Subset
    public var validation: Subset
    /// Held out: disjoint from ``training`` and ``validation``.
    public var test: Subset
    public var history: History
    /// The epoch whose weights `best.h5` holds, and the metric that chose it.
    public var bestEpoch: Int?
    public var monitor: String
    /// Validation results of the best epoch's weights.
    public var evaluation: Evaluation
    public var report: EvaluationReport
    /// Test results of the best epoch's weights (argmax decisions, as ``report``).
    public var testEvaluation: Evaluation
    public var testReport: EvaluationReport
    /// The threshold suggested on validation (``EvaluationReport/BestThreshold``) and the test
    /// set's numbers at it (the row of the test sweep).
    public var suggestedThreshold: Double
    public var testAtSuggestedThreshold: ThresholdSweep.Row
    /// The baseline CNN with the best epoch's weights loaded.
    public var model: Sequential
    /// Every file written into the run directory.
    public var files: [URL]
    /// The segmentation part's results, when ``DemoOptions/segmentation`` asked for it.
    public var segmentation: SegmentationDemoResult? = nil

    /// Test images to explain with Grad-CAM: every misclassified one (argmax, as ``testReport``
    /// counts them), most confidently wrong first, up to `misclassifiedCap`; then the first
    /// `correctPerClass` correctly classified ones of each class. Indices into ``test``.
    public func gradCAMSelection(misclassifiedCap: Int = 8, correctPerClass: Int = 2)
        -> [(index: Int, misclassified: Bool)] {
        let predicted = testEvaluation.predictions, labels = testEvaluation.labels
        let wrong = labels.indices.filter { predicted[$0] != labels[$0] }
            .sorted { testEvaluation.probabilities[$0][predicted[$0]] > testEvaluation.probabilities[$1][predicted[$1]] }
        var chosen = wrong.prefix(max(0, misclassifiedCap)).map { (index: $0, misclassified: true) }
        for label in classNames.indices {
            chosen += labels.indices.filter { labels[$0] == label && predicted[$0] == label }
                .prefix(max(0, correctPerClass)).map { (index: $0, misclassified: false) }
        }
        return chosen
    }
}

/// The whole workflow on synthetic data, small enough for a laptop: draw a labelled image
/// folder of intact facades and rubble, split it (seeded, stratified) into training,
/// validation and a held-out test set (60/20/20 by default), train the paper's baseline CNN
/// with balanced class weights, pick the best epoch and the threshold on validation, then
/// report validation (`run/`) and test (`run/test/`) and write the plots. With
/// ``DemoOptions/segmentation``, then the segmentation part (``runSegmentation(_:in:seed:progress:log:)``).
public enum Demo {
    /// Runs the demo; `log` receives the lines a person would want to read.
    public static func run(_ options: DemoOptions, log: (String) -> Void = { _ in }) throws -> DemoResult {
        guard options.validationFraction > 0, options.testFraction > 0,
              options.validationFraction + options.testFraction < 1 else {
            throw DatasetError.invalidArgument("validation (\(options.validationFraction)) and test (\(options.testFraction)) "
                                               + "fractions must be positive and leave images for training")
        }
        let data = options.directory.appendingPathComponent("data")
        let run = options.directory.appendingPathComponent("run")
        let testDirectory = run.appendingPathComponent("test")
        let fm = FileManager.default
        for kind in SyntheticScenes.Kind.allCases {  // only the demo's own folders are replaced
            try? fm.removeItem(at: data.appendingPathComponent(kind.rawValue))
        }
        let clock = ContinuousClock.now
        let counts = try SyntheticScenes.writeDataset(to: data, count: options.images, size: options.imageSize,
                                                      seed: options.seed)
        log("wrote \(counts.intact) intact and \(counts.rubble) rubble scenes (\(options.imageSize)x\(options.imageSize) PNG) "
            + "to \(data.path) in " + String(format: "%.1f s", seconds(ContinuousClock.now - clock)))

        let examples = try ImageFolderExamples(directory: data, pipeline: ImagePipeline(imageSize: options.imageSize))
        let split = try threeWaySplit(examples, options: options)
        let weights = try ClassWeights.balanced.weights(for: split.training)
        log("training on \(split.training.count) images, validating on \(split.validation.count) (best epoch, threshold), "
            + "testing on \(split.test.count) held out; "
            + (try ClassWeights.balanced.summary(classNames: examples.classNames, classCounts: split.training.classCounts)))

        let model = try Architecture.baseline.makeClassifier(imageSize: options.imageSize, hiddenUnits: 64,
                                                             classes: examples.classNames.count, seed: options.seed)
        try? fm.removeItem(at: run.appendingPathComponent("checkpoint"))  // a fresh run each time
        let configuration = TrainingConfiguration(
            epochs: options.epochs, batchSize: options.batchSize, seed: options.seed, classWeights: weights,
            outputDirectory: run, progress: options.progress, inputShape: [options.imageSize, options.imageSize, 3],
            saveWeights: KerasWeights.saver())
        let trainer = Trainer(model: model, optimizer: try RMSprop(learningRate: options.learningRate),
                              configuration: configuration)
        let history = try trainer.fit(split.training, validation: split.validation)

        let best = run.appendingPathComponent("best.h5")
        try KerasWeights.load(best, into: model)
        let evaluation = try trainer.evaluate(split.validation, usingFitCache: true)
        trainer.releaseFeatureCache()
        let testEvaluation = try trainer.evaluate(split.test)
        let positive = try BinaryMetrics.positiveClassIndex(examples.classNames, requested: SyntheticScenes.Kind.rubble.rawValue)
        let report = try RunReports.writeEvaluation(
            evaluation, identifiers: (0..<split.validation.count).map(split.validation.identifier), positive: positive,
            to: run, title: "Demo, validation set: precision and recall vs threshold")

        // The test set is scored at the threshold chosen on validation, never at its own best.
        let suggested = report.bestThreshold.threshold
        let testSweep = try ThresholdSweep(probabilities: testEvaluation.probabilities, labels: testEvaluation.labels,
                                           classNames: examples.classNames, positive: positive)
        let atSuggested = testSweep.row(at: suggested)
        let testReport = try RunReports.writeEvaluation(
            testEvaluation, identifiers: (0..<split.test.count).map(split.test.identifier), positive: positive,
            to: testDirectory, title: "Demo, held-out test set: precision and recall vs threshold",
            extra: ["split": "test", "atValidationThreshold": RunReports.json(atSuggested)],
            marked: suggested, markedLabel: "chosen on validation")

        try RunReports.writeTrainingCurves(history, of: trainer, to: run.appendingPathComponent(RunReports.curvesPlotFile),
                                           title: "Synthetic demo: baseline CNN")
        try RunReports.writeClasses(examples.classNames, positive: positive,
                                    inputShape: [options.imageSize, options.imageSize, 3], classWeights: weights,
                                    to: run.appendingPathComponent(RunReports.classesFile))
        let reportFiles = [RunReports.metricsFile, RunReports.sweepFile, RunReports.sweepPlotFile, RunReports.predictionsFile]
        let files = reportFiles.map { run.appendingPathComponent($0) }
            + reportFiles.map { testDirectory.appendingPathComponent($0) }
            + [RunReports.curvesPlotFile, RunReports.classesFile, "history.csv", "best.h5", "weights.h5",
               "checkpoint/\(TrainingCheckpoint.fileName)"].map { run.appendingPathComponent($0) }
        let monitor = trainer.effectiveMonitor(hasValidation: true).metric
        let segmentation = try options.segmentation.map {
            try runSegmentation($0, in: options.directory, seed: options.seed, progress: options.progress, log: log)
        }
        return DemoResult(dataDirectory: data, runDirectory: run, testDirectory: testDirectory,
                          classNames: examples.classNames, positive: positive, classWeights: weights,
                          training: split.training, validation: split.validation, test: split.test, history: history,
                          bestEpoch: trainer.bestEpoch, monitor: monitor, evaluation: evaluation, report: report,
                          testEvaluation: testEvaluation, testReport: testReport, suggestedThreshold: suggested,
                          testAtSuggestedThreshold: atSuggested, model: model, files: files, segmentation: segmentation)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    /// Training, validation and test parts of `examples`: the test part is split off first
    /// (stratified, seeded), then validation from the rest, so each is its share of all images
    /// (rounded per class) and the three are disjoint.
    static func threeWaySplit(_ examples: any LabelledExamples, options: DemoOptions)
        throws -> (training: Subset, validation: Subset, test: Subset) {
        let outer = try examples.split(validationFraction: options.testFraction, seed: options.seed ^ 0x7E57, stratified: true)
        let inner = try outer.training.split(validationFraction: options.validationFraction / (1 - options.testFraction),
                                             seed: options.seed, stratified: true)
        return (inner.training, inner.validation, outer.validation)
    }
}
