import Foundation
import Layers
import Tensor

/// The model's outputs on a labelled set and the summary numbers `fit` records.
public struct Evaluation: Sendable {
    public var classNames: [String]
    /// The examples' labels, in example order.
    public var labels: [Int]
    /// Softmax probabilities, one row of `classNames.count` per example.
    public var probabilities: [[Float]]
    /// Unweighted mean cross-entropy (Keras' `val_loss`: class weights apply to training only).
    public var loss: Double

    /// Argmax of each row.
    public var predictions: [Int] { BinaryMetrics.argmax(probabilities) }

    /// Fraction of examples whose argmax is the label.
    public var accuracy: Double {
        guard !labels.isEmpty else { return 0 }
        return Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// Counts of (label, argmax prediction).
    public var confusionMatrix: ConfusionMatrix {
        (try? ConfusionMatrix(classNames: classNames, truth: labels, predicted: predictions))
            ?? ConfusionMatrix(classNames: classNames)
    }

    /// Per class: precision and recall of the argmax predictions (0 where undefined).
    public var precisionPerClass: [Double] { confusionMatrix.perClass.map(\.precision) }
    public var recallPerClass: [Double] { confusionMatrix.perClass.map(\.recall) }
}

extension Evaluation {
    /// Runs `model` on `examples` in batches (example order, no augmentation, no gradients),
    /// decoding the next batch while the current one is computed.
    public init(model: any Layer, examples: any LabelledExamples, batchSize: Int = 32,
                progress: ProgressMode = .silent) throws {
        let reporter = TrainingProgress(mode: progress)
        reporter.begin(phase: "evaluating")
        defer { reporter.clear() }
        self = try Self.compute(split: try FrozenPrefix(model), examples: examples, store: nil, progress: reporter,
                                batchSize: batchSize, prefetchDepth: 2)
    }

    /// Evaluation in example order; with a `store`, the prefix's output is taken from it, or
    /// computed and put into it when it is not complete yet.
    static func compute(split: FrozenPrefix, examples: any LabelledExamples, store: FeatureStore?,
                        progress: TrainingProgress, batchSize: Int, prefetchDepth: Int) throws -> Evaluation {
        let batches = Trainer.batches(Array(0..<examples.count), size: max(1, batchSize))
        let cached = store?.isComplete ?? false
        let loader = Prefetcher(count: batches.count, depth: prefetchDepth) { i -> Tensor in
            if cached, let store { return try store.gather(batches[i]) }
            return try examples.inputs(batches[i])
        }
        defer { loader.finish() }
        let labels = examples.labels
        let classes = examples.classNames.count
        var probabilities: [[Float]] = []
        probabilities.reserveCapacity(examples.count)
        var lossSum = 0.0
        let unweighted = SoftmaxCrossEntropy()
        for (i, batch) in batches.enumerated() {
            let x = try loader.next()
            let batchLabels = batch.map { labels[$0] }
            let (loss, probs): (Float, Tensor) = try withoutGradients {
                let features = cached ? x : try split.features(x, training: false)
                if !cached, let store { try store.store(features, for: batch) }
                let logits = try split.logits(features: features, training: false)
                guard logits.rank == 2, logits.shape[1] == classes else {
                    throw TrainingError.dataMismatch(
                        "the model gives outputs of shape \(logits.shape) for \(classes) classes \(examples.classNames)")
                }
                return (try unweighted(logits: logits, labels: batchLabels).scalar, logits.softmax())
            }
            lossSum += Double(loss) * Double(batch.count)
            let values = probs.scalars
            for row in 0..<batch.count { probabilities.append(Array(values[row * classes..<(row + 1) * classes])) }
            progress.update(done: i + 1, of: batches.count, images: probabilities.count)
        }
        return Evaluation(classNames: examples.classNames, labels: labels, probabilities: probabilities,
                          loss: examples.count > 0 ? lossSum / Double(examples.count) : 0)
    }
}

extension Trainer {
    /// The model's probabilities and loss on `examples`, in batches of `batchSize` (default
    /// the configuration's), without recording gradients and without augmentation.
    ///
    /// `usingFitCache`: `examples` is the validation set of the last `fit`, whose cached
    /// prefix output is then reused (no image is decoded again).
    public func evaluate(_ examples: any LabelledExamples, batchSize: Int? = nil,
                         usingFitCache: Bool = false) throws -> Evaluation {
        let store = usingFitCache ? validationStore.flatMap { $0.count == examples.count && $0.isComplete ? $0 : nil } : nil
        return try evaluate(examples, split: try FrozenPrefix(model), store: store, progress: TrainingProgress(mode: .silent),
                            batchSize: batchSize)
    }

    func evaluate(_ examples: any LabelledExamples, split: FrozenPrefix, store: FeatureStore?,
                  progress: TrainingProgress, batchSize: Int? = nil) throws -> Evaluation {
        try Evaluation.compute(split: split, examples: examples, store: store, progress: progress,
                               batchSize: batchSize ?? configuration.batchSize, prefetchDepth: configuration.prefetchDepth)
    }

    /// Frees the feature cache the last `fit` kept (memory and spill file).
    public func releaseFeatureCache() {
        featureCache = nil
        validationStore = nil
    }

    // MARK: - Checkpoints

    /// The model's parameters with qualified names (`vgg19/block5_conv1/kernel`), in the order
    /// of `model.parameters`.
    var namedParameters: [(name: String, parameter: Parameter)] {
        func walk(_ layer: any Layer, _ path: [String]) -> [(name: String, parameter: Parameter)] {
            if let container = layer as? any LayerContainer {
                return container.layers.flatMap { walk($0, path + [container.name]) }
            }
            return layer.parameters.map { ((path + [layer.name, $0.name]).joined(separator: "/"), $0) }
        }
        if let container = model as? any LayerContainer { return container.layers.flatMap { walk($0, []) } }
        return walk(model, [])
    }

    /// The trainer's state now, for `settings` (those of the `fit` in progress).
    func checkpoint(settings: TrainingCheckpoint.Settings) -> TrainingCheckpoint {
        let named = namedParameters
        return TrainingCheckpoint(
            completedEpochs: completedEpochs, settings: settings, parameterNames: named.map(\.name),
            parameters: named.map { $0.parameter.value }, optimizerType: String(describing: type(of: optimizer)),
            optimizer: optimizer.snapshot(of: named.map(\.parameter)),
            learningRateSchedule: optimizer.learningRateSchedule.map { String(describing: $0) },
            dropoutGenerators: model.flattenedLayers.compactMap { $0 as? Dropout }.map { ($0.name, $0.generator) },
            history: history, bestValue: bestValue, bestEpoch: bestEpoch,
            epochsWithoutImprovement: epochsWithoutImprovement)
    }

    /// Restores the state saved in `directory/trainer.ckpt` (see `TrainingCheckpoint`): the
    /// next `fit` continues the interrupted run exactly (same batches, same updates), as long
    /// as it is given the same data and settings (checked).
    public func restoreCheckpoint(from directory: URL) throws {
        try restore(TrainingCheckpoint.read(from: directory))
    }

    /// Restores a checkpoint's weights, optimizer state, dropout generators, history and
    /// early-stopping state. Nothing changes if it does not fit the model.
    public func restore(_ checkpoint: TrainingCheckpoint) throws {
        let named = namedParameters
        guard checkpoint.parameterNames == named.map(\.name) else {
            let missing = Set(named.map(\.name)).subtracting(checkpoint.parameterNames).sorted()
            let extra = Set(checkpoint.parameterNames).subtracting(named.map(\.name)).sorted()
            throw TrainingError.checkpoint("its parameters do not match the model's (model only: "
                + "\(missing.prefix(4).joined(separator: ", ")); checkpoint only: \(extra.prefix(4).joined(separator: ", ")))")
        }
        for ((name, parameter), value) in zip(named, checkpoint.parameters) where parameter.shape != value.shape {
            throw TrainingError.checkpoint("\(name) has shape \(value.shape) in the checkpoint, \(parameter.shape) in the model")
        }
        let type = String(describing: Swift.type(of: optimizer))
        guard checkpoint.optimizerType == type else {
            throw TrainingError.checkpoint("it was written with \(checkpoint.optimizerType), this trainer uses \(type)")
        }
        let schedule = optimizer.learningRateSchedule.map { String(describing: $0) }
        guard checkpoint.learningRateSchedule == schedule else {
            throw TrainingError.checkpoint("its learning-rate schedule is \(checkpoint.learningRateSchedule ?? "none"), "
                                           + "this trainer's optimizer has \(schedule ?? "none")")
        }
        let dropouts = model.flattenedLayers.compactMap { $0 as? Dropout }
        guard dropouts.map(\.name) == checkpoint.dropoutGenerators.map(\.name) else {
            throw TrainingError.checkpoint("its dropout layers \(checkpoint.dropoutGenerators.map(\.name)) "
                                           + "differ from the model's \(dropouts.map(\.name))")
        }
        let previous = named.map { $0.parameter.value }
        for ((_, parameter), value) in zip(named, checkpoint.parameters) { parameter.value = value }
        do {
            try optimizer.restore(checkpoint.optimizer, for: named.map(\.parameter))
        } catch {
            for ((_, parameter), value) in zip(named, previous) { parameter.value = value }
            throw TrainingError.checkpoint("optimizer state: \(error)")
        }
        for (layer, saved) in zip(dropouts, checkpoint.dropoutGenerators) { layer.generator = saved.generator }
        history = checkpoint.history
        bestValue = checkpoint.bestValue
        bestEpoch = checkpoint.bestEpoch
        epochsWithoutImprovement = checkpoint.epochsWithoutImprovement
        restoredSettings = checkpoint.settings
        looseSteps = 0
    }
}
