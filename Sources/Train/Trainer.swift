import Foundation
import Layers
import Tensor

/// Trains a classifier the way Keras' `fit` does, with checkpoints that resume exactly and a
/// cache of the frozen prefix's output.
///
/// Per step: the frozen prefix runs without recording gradients (or its output comes from
/// the `FeatureCache`), the trainable layers run with autograd, the class-weighted softmax
/// cross-entropy of the logits is the loss (`sum(w_i CE_i) / batch`, computed before the
/// update, as Keras reports it), `backward()`, then one optimizer step. An epoch's loss is the
/// mean of its batch losses weighted by batch size.
///
/// ```swift
/// let trainer = Trainer(model: model, optimizer: RMSprop(learningRate: 1e-5),
///                       configuration: TrainingConfiguration(epochs: 20, classWeights: [0.8897, 1.1414],
///                                                            outputDirectory: runDirectory,
///                                                            saveWeights: KerasWeights.saver()))  // KerasFiles
/// let history = try trainer.fit(training, validation: validation)
/// ```
public final class Trainer {
    public let model: any Layer
    public let optimizer: any Optimizer
    public var configuration: TrainingConfiguration
    /// Completed epochs (restored from a checkpoint, extended by `fit`).
    public internal(set) var history = History(classNames: [])
    /// Best value of the monitored metric so far, and its 1-based epoch.
    public internal(set) var bestValue: Double?
    public internal(set) var bestEpoch: Int?
    /// Epochs since the monitored metric last improved.
    public internal(set) var epochsWithoutImprovement = 0
    /// Whether the last `fit` ended because of early stopping.
    public private(set) var stoppedEarly = false
    /// Whether the last `fit` ended because a callback asked it to.
    public private(set) var stoppedByCallback = false
    /// Set by `cancel()` from any thread, read between steps.
    private let cancellation = CancellationRequest()
    /// The cache the last `fit` used (`nil` when it could not or was told not to cache).
    public internal(set) var featureCache: FeatureCache?
    /// Why the last `fit` did not cache, when it did not.
    public private(set) var featureCacheSkipReason: String?
    /// The validation features of the last `fit` (for `evaluate(_:usingFitCache:)`).
    var validationStore: FeatureStore?
    /// Settings of the checkpoint this trainer was restored from, checked by the next `fit`.
    var restoredSettings: TrainingCheckpoint.Settings?
    /// Steps taken by `trainOnBatch` since the last completed epoch (for error messages).
    var looseSteps = 0

    public init(model: any Layer, optimizer: any Optimizer,
                configuration: TrainingConfiguration = TrainingConfiguration()) {
        self.model = model
        self.optimizer = optimizer
        self.configuration = configuration
    }

    /// Epochs completed so far.
    public var completedEpochs: Int { history.records.count }

    /// Asks a running `fit` (or the next one) to stop before its next step; safe to call from
    /// any thread. `fit` then throws `TrainingError.cancelled` with the files of the last
    /// completed epoch (checkpoint, history, best) intact, so `restoreCheckpoint(from:)`
    /// continues from there.
    public func cancel() { cancellation.request() }

    /// The outcome of one training step.
    public struct BatchResult: Sendable, Equatable {
        /// The class-weighted loss, computed before the update.
        public var loss: Float
        /// Examples whose argmax matched the label (before the update).
        public var correct: Int
        public var count: Int
        public var accuracy: Double { count == 0 ? 0 : Double(correct) / Double(count) }
    }

    /// One step on `inputs` (`[n, h, w, c]`) with integer `labels`, like Keras'
    /// `train_on_batch`: returns the loss of the weights before the update, then updates.
    /// Uses `configuration.classWeights`. Throws `TrainingError.nonFiniteLoss` (and leaves the
    /// weights untouched) when the loss is NaN or infinite.
    @discardableResult
    public func trainOnBatch(inputs: Tensor, labels: [Int]) throws -> BatchResult {
        let split = try FrozenPrefix(model)
        guard split.trainable.contains(where: { $0.isTrainable }) else { throw TrainingError.nothingToTrain }
        looseSteps += 1
        return try step(split, features: try split.features(inputs, training: true), labels: labels,
                        loss: SoftmaxCrossEntropy(classWeights: configuration.classWeights),
                        epoch: completedEpochs + 1, step: looseSteps)
    }

    /// Forward, loss, backward and update on the prefix's output `features`.
    func step(_ split: FrozenPrefix, features: Tensor, labels: [Int], loss lossFunction: SoftmaxCrossEntropy,
              epoch: Int, step: Int) throws -> BatchResult {
        let parameters = split.trainable.flatMap(\.parameters).filter(\.isTrainable)
        for parameter in parameters { parameter.zeroGradient() }
        let logits = try split.logits(features: features, training: true)
        let loss = try lossFunction(logits: logits, labels: labels)
        let value = loss.scalar
        guard value.isFinite else { throw TrainingError.nonFiniteLoss(epoch: epoch, step: step) }
        let correct = zip(logits.argmaxLastAxis(), labels).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
        loss.backward()
        // A NaN that the forward pass hid (max-pool and ReLU can drop it) still poisons the
        // gradients: refuse to apply them.
        if parameters.contains(where: { !($0.gradient?.isFinite ?? true) }) {
            for parameter in parameters { parameter.zeroGradient() }
            throw TrainingError.nonFiniteGradient(epoch: epoch, step: step)
        }
        optimizer.step(parameters)
        for parameter in parameters { parameter.zeroGradient() }
        return BatchResult(loss: value, correct: correct, count: labels.count)
    }

    // MARK: - fit

    /// Trains until `configuration.epochs` epochs are complete (continuing a restored run),
    /// validating after every epoch. With an `outputDirectory` it writes, every epoch,
    /// `history.csv`, `best.h5` when the monitored metric improved and `checkpoint/` — each
    /// atomically — and `weights.h5` at the end; the two weights files through
    /// `configuration.saveWeights` (with the class names and the input shape). Stops early when `earlyStoppingPatience` epochs pass without improvement.
    ///
    /// A NaN or infinite loss stops training with `TrainingError.nonFiniteLoss(epoch:step:)`
    /// before that step's update (NaN gradients under a finite loss: `.nonFiniteGradient`; a
    /// NaN validation loss or overflowed weights at the end of an epoch: `.nonFiniteValidationLoss`
    /// / `.nonFiniteWeights`). The files of the last completed epoch (checkpoint, history,
    /// best) are left as they were; `restoreCheckpoint(from:)` continues from there.
    ///
    /// Batches are decoded on a background thread, `prefetchDepth` ahead of the compute.
    ///
    /// Refuses data a classifier cannot learn from: fewer than two classes, a class without
    /// training examples, or a model whose output width is not the number of classes.
    ///
    /// `callbacks` hear about every step and epoch; one that returns `.stop` from
    /// `epochEnded` ends training after that epoch (as Keras' `model.stop_training = True`).
    /// `cancel()` stops it before the next step.
    @discardableResult
    public func fit(_ training: any LabelledExamples, validation: (any LabelledExamples)? = nil,
                    callbacks: [any TrainingCallback] = []) throws -> History {
        let config = configuration
        let classNames = training.classNames
        try config.validate(classes: classNames.count)
        guard training.count > 0 else { throw TrainingError.dataMismatch("no training examples") }
        try Self.checkClasses(training)
        if let validation {
            guard validation.classNames == classNames else {
                throw TrainingError.dataMismatch(
                    "validation classes \(validation.classNames) differ from training classes \(classNames)")
            }
        }
        let split = try FrozenPrefix(model)
        guard split.trainable.contains(where: { $0.isTrainable }) else { throw TrainingError.nothingToTrain }
        let monitor = effectiveMonitor(hasValidation: validation != nil)
        guard monitor.isKnown(classNames: classNames) else {
            throw TrainingError.invalidConfiguration(
                "unknown metric '\(config.monitor.metric)' to monitor; use loss, accuracy, val_loss, val_accuracy, "
                    + "precision_<class> or recall_<class> with classes \(classNames)")
        }
        if history.records.isEmpty { history = History(classNames: classNames) }
        guard history.classNames == classNames else {
            throw TrainingError.checkpoint("the run's classes \(history.classNames) differ from the data's \(classNames)")
        }
        let inputShape = try config.inputShape ?? Array(training.inputs([0]).shape.dims.dropFirst())
        let settings = TrainingCheckpoint.Settings(
            batchSize: config.batchSize, shuffle: config.shuffle, seed: config.seed, classWeights: config.classWeights,
            augmentation: config.effectiveAugmentation, monitor: monitor, trainingCount: training.count,
            classNames: classNames, inputShape: inputShape)
        if let restored = restoredSettings { try Self.check(settings, against: restored) }
        try checkOutputWidth(inputShape: inputShape, classes: classNames.count)
        let files = try config.outputDirectory.map { try RunFiles(directory: $0) }
        let progress = TrainingProgress(mode: config.progress)
        stoppedEarly = false
        stoppedByCallback = false
        looseSteps = 0

        // The cache of the frozen prefix's output, when the output cannot change.
        var trainingStore: FeatureStore?
        var validationStore: FeatureStore?
        featureCache = nil
        featureCacheSkipReason = nil
        if !config.featureCache {
            featureCacheSkipReason = "turned off"
        } else if config.effectiveAugmentation != nil {
            featureCacheSkipReason = "augmentation changes the inputs every epoch"
        } else if !split.isCacheable {
            featureCacheSkipReason = "the frozen prefix contains dropout"
        } else if completedEpochs < config.epochs {
            let cache = FeatureCache(memoryBudget: config.cacheMemoryBudget,
                                     spillDirectory: config.cacheDirectory ?? config.outputDirectory
                                         ?? FileManager.default.temporaryDirectory)
            let featureShape = try split.featureShape(forInput: inputShape)
            trainingStore = try cache.makeStore(count: training.count, featureShape: featureShape)
            if let validation {
                validationStore = try cache.makeStore(count: validation.count, featureShape: featureShape)
            }
            featureCache = cache
        }
        self.validationStore = validationStore
        // The training features are not needed after `fit` (also when it throws); the
        // validation ones stay for `evaluate(_:usingFitCache:)` until `releaseFeatureCache()`.
        defer { if let store = trainingStore { featureCache?.release(store) } }

        let trainingLoss = SoftmaxCrossEntropy(classWeights: config.classWeights)
        let labels = training.labels
        while completedEpochs < config.epochs {
            if let patience = config.earlyStoppingPatience, epochsWithoutImprovement >= patience {
                stoppedEarly = true
                break
            }
            let epoch = completedEpochs + 1
            let epochStart = ContinuousClock.now

            if let store = trainingStore, !store.isComplete {
                try fillCache(store, from: training, split: split, epoch: epoch, progress: progress)
            }
            let order = config.shuffle ? epochOrder(count: training.count, epoch: epoch, seed: config.seed)
                                       : Array(0..<training.count)
            let batches = Self.batches(order, size: config.batchSize)
            let augmentation = config.effectiveAugmentation
            let epochSeed = SeededGenerator.mixing(config.seed, UInt64(epoch))
            let store = trainingStore
            let loader = Prefetcher(count: batches.count, depth: config.prefetchDepth) { i -> Tensor in
                if let store { return try store.gather(batches[i]) }
                return try training.inputs(batches[i], augmentation: augmentation, seed: SeededGenerator.mixing(epochSeed, UInt64(i)))
            }
            progress.begin(epoch: epoch, of: config.epochs, phase: "step")
            var lossSum = 0.0, correct = 0, seen = 0
            do {
                for (i, batch) in batches.enumerated() {
                    if cancellation.consume() { throw TrainingError.cancelled(epoch: epoch, step: i + 1) }
                    let x = try loader.next()
                    let features = store != nil ? x : try split.features(x, training: true)
                    let result = try step(split, features: features, labels: batch.map { labels[$0] },
                                          loss: trainingLoss, epoch: epoch, step: i + 1)
                    lossSum += Double(result.loss) * Double(batch.count)
                    correct += result.correct
                    seen += batch.count
                    progress.update(done: i + 1, of: batches.count, images: seen, loss: lossSum / Double(seen),
                                    accuracy: Double(correct) / Double(seen))
                    for callback in callbacks {
                        callback.batchEnded(epoch: epoch, step: i + 1, of: batches.count, result: result)
                    }
                }
            } catch {
                loader.finish()
                progress.message("stopped: \(error)")
                throw error
            }
            loader.finish()
            let trainingSeconds = TrainingProgress.seconds(ContinuousClock.now - epochStart)

            var record = EpochRecord(epoch: epoch, loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen))
            if let validation {
                progress.begin(epoch: epoch, of: config.epochs, phase: "validating")
                let result = try evaluate(validation, split: split, store: validationStore, progress: progress)
                guard result.loss.isFinite else {
                    progress.message("stopped: validation loss is not finite")
                    throw TrainingError.nonFiniteValidationLoss(epoch: epoch)
                }
                record.validationLoss = result.loss
                record.validationAccuracy = result.accuracy
                record.precision = result.precisionPerClass
                record.recall = result.recallPerClass
            }
            // Never checkpoint weights that overflowed even if the losses so far looked finite.
            if let bad = split.trainable.flatMap(\.parameters).first(where: { !$0.value.isFinite }) {
                progress.message("stopped: \(bad.name) weights are not finite")
                throw TrainingError.nonFiniteWeights(epoch: epoch)
            }
            record.seconds = TrainingProgress.seconds(ContinuousClock.now - epochStart)
            record.imagesPerSecond = trainingSeconds > 0 ? Double(training.count) / trainingSeconds : 0

            let value = record.value(of: monitor.metric, classNames: classNames)
            let improved = value.map { monitor.isImprovement($0, over: bestValue) } ?? false
            if improved {
                bestValue = value
                bestEpoch = epoch
                epochsWithoutImprovement = 0
                if let files, let save = config.saveWeights { try save(model, files.best, classNames, inputShape) }
            } else {
                epochsWithoutImprovement += 1
            }
            history.records.append(record)
            if let files {
                try history.writeCSV(to: files.history)
                try checkpoint(settings: settings).write(to: files.checkpoint)
            }
            progress.epochEnded(record, of: config.epochs, improved: improved, monitor: monitor)
            let decisions = callbacks.map { $0.epochEnded(record, improved: improved, trainer: self) }
            if decisions.contains(.stop) && completedEpochs < config.epochs {
                stoppedByCallback = true
                progress.message("stopped by a callback after epoch \(epoch)")
                break
            }
        }
        if let patience = config.earlyStoppingPatience, epochsWithoutImprovement >= patience,
           completedEpochs < config.epochs {
            stoppedEarly = true
            progress.message("early stopping: \(monitor.metric) has not improved for \(patience) epochs "
                             + "(best \(bestEpoch.map(String.init) ?? "-"))")
        }
        if let files, let save = config.saveWeights { try save(model, files.final, classNames, inputShape) }
        return history
    }

    /// At least two classes, each with a training example (a one-class "classifier" reaches
    /// accuracy 1.0 and has learnt nothing).
    /// `fit` calls it first; call it yourself to refuse such data before other work.
    public static func checkClasses(_ training: any LabelledExamples) throws {
        let names = training.classNames
        guard names.count >= 2 else {
            throw TrainingError.dataMismatch(
                "the training data has \(names.count) class\(names.count == 1 ? " (\(names[0]))" : "es"); "
                    + "a classifier needs at least 2, each with at least one example (one sub-folder per class)")
        }
        let empty = zip(names, training.classCounts).filter { $0.1 == 0 }.map(\.0)
        guard empty.isEmpty else {
            throw TrainingError.dataMismatch(
                "no training examples of class\(empty.count == 1 ? "" : "es") \(empty.joined(separator: ", ")) "
                    + "(each class needs at least one)")
        }
    }

    /// The model's output must have one value per class.
    func checkOutputWidth(inputShape: [Int], classes: Int) throws {
        let output = try model.outputShape(for: Shape([1] + inputShape))
        guard output.rank == 2, output[1] == classes else {
            throw TrainingError.dataMismatch(
                "the model's output \(output) does not have one value per class: the data has \(classes) classes")
        }
    }

    /// The monitor `fit` uses: without validation data a `val_` metric falls back to its
    /// training counterpart (`val_loss` -> `loss`).
    public func effectiveMonitor(hasValidation: Bool) -> Monitor {
        var monitor = configuration.monitor
        if !hasValidation, monitor.metric.hasPrefix("val_") {
            monitor = Monitor(String(monitor.metric.dropFirst(4)), mode: monitor.mode)
        }
        return monitor
    }

    /// Computes the prefix's output for every example, in example order and batches of
    /// `batchSize`: the same batches however the run was started or resumed.
    private func fillCache(_ store: FeatureStore, from examples: any LabelledExamples, split: FrozenPrefix,
                           epoch: Int, progress: TrainingProgress) throws {
        let batches = Self.batches(Array(0..<examples.count), size: configuration.batchSize)
        let loader = Prefetcher(count: batches.count, depth: configuration.prefetchDepth) { i in
            try examples.inputs(batches[i])
        }
        defer { loader.finish() }
        progress.begin(epoch: epoch, of: configuration.epochs, phase: "caching features")
        var done = 0
        for (i, batch) in batches.enumerated() {
            try store.store(try split.features(try loader.next(), training: true), for: batch)
            done += batch.count
            progress.update(done: i + 1, of: batches.count, images: done)
        }
    }

    static func batches(_ order: [Int], size: Int) -> [[Int]] {
        stride(from: 0, to: order.count, by: size).map { Array(order[$0..<min($0 + size, order.count)]) }
    }

    static func check(_ settings: TrainingCheckpoint.Settings, against restored: TrainingCheckpoint.Settings) throws {
        var differences: [String] = []
        func compare<T: Equatable>(_ name: String, _ a: T, _ b: T) {
            if a != b { differences.append("\(name) \(b) (checkpoint) vs \(a) (now)") }
        }
        compare("batch size", settings.batchSize, restored.batchSize)
        compare("shuffle", settings.shuffle, restored.shuffle)
        compare("seed", settings.seed, restored.seed)
        compare("class weights", settings.classWeights, restored.classWeights)
        compare("augmentation", settings.augmentation, restored.augmentation)
        compare("monitor", settings.monitor, restored.monitor)
        compare("training examples", settings.trainingCount, restored.trainingCount)
        compare("classes", settings.classNames, restored.classNames)
        if let a = settings.inputShape, let b = restored.inputShape { compare("input shape", a, b) }
        guard differences.isEmpty else {
            throw TrainingError.checkpoint("cannot resume with different settings: " + differences.joined(separator: "; "))
        }
    }
}

/// The files of a run directory.
struct RunFiles {
    let directory: URL
    var history: URL { directory.appendingPathComponent("history.csv") }
    var best: URL { directory.appendingPathComponent("best.h5") }
    var final: URL { directory.appendingPathComponent("weights.h5") }
    var checkpoint: URL { directory.appendingPathComponent("checkpoint") }

    init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
}
