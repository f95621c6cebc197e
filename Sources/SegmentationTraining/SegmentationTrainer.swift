import Segmentation
import Foundation
import HuggingFaceFiles
import Layers
import Tensor
import Train
import Vision

/// Trains a ``Segformer`` on a ``SegmentationDataset`` as the Hugging Face / mmseg SegFormer
/// recipe does, with checkpoints that resume exactly.
///
/// - **Data**: a seeded split (``SegmentationDataset/split(validationFraction:seed:)``); every
///   mask is read once before training: a class index >= `numLabels` other than 255 is an error
///   naming the file, and training masks whose labelled pixels are all of one class are refused
///   unless ``SegmentationTrainingConfiguration/allowSingleClass``.
/// - **Epoch**: the training pairs in a seeded shuffle of the epoch; batches of `batchSize`
///   (the last may be smaller) augmented by ``SegmentationAugmentation`` (draws seeded by the
///   seed, the epoch and the pair) to the processor's size, decoded on a background thread.
/// - **Step**: forward in training mode (dropout / drop path on, the decode head's BatchNorm on
///   batch statistics, `batchNormSteps` + 1), ``PixelCrossEntropy`` of the logits upsampled to
///   the labels' size — `sum(w[y] * CE) / sum(w[y])` over the pixels not labelled 255 — then
///   backward and one AdamW step at the rate of ``PolynomialDecay`` (power 1, to 0 over the
///   run's steps). A non-finite loss or gradient stops training before the update; a batch
///   whose pixels are all ignored is skipped.
/// - **After each epoch**: validation (``SegmentationEvaluation``: loss, pixel accuracy, mIoU,
///   per-class IoU), `history.csv`, `metrics.json` (best and latest epoch), `best/` when the
///   mIoU improved, and `checkpoint/`, each written atomically, the checkpoint last; `last/` when
///   `fit` returns. A crash leaves the previous epoch's files whole, and the next `fit` with
///   ``SegmentationTrainingConfiguration/resume`` recomputes exactly what was lost.
public final class SegmentationTrainer {
    public let model: Segformer
    public let processor: ImageProcessor
    /// What the saved folders' `preprocessor_config.json` says (``processor`` described).
    public let preprocessing: ImageProcessorConfiguration
    public let configuration: SegmentationTrainingConfiguration
    /// Created by ``fit(_:)`` (its schedule needs the run's step count).
    public private(set) var optimizer: AdamW?
    public private(set) var history: SegmentationHistory
    public private(set) var bestEpoch: Int?
    public private(set) var stepsTaken = 0

    private var bestMatrix: PixelConfusionMatrix?
    private var lastMatrix: PixelConfusionMatrix?

    /// - Parameters:
    ///   - preprocessing: the processor configuration the model came with (its other keys are
    ///     kept); saved folders describe `processor` with it. Default: SegFormer's.
    /// - Throws: ``SegmentationTrainingError/invalidSetting(name:value:requirement:)`` for a
    ///   processor that does not resize (training crops need a fixed size) or a bad setting.
    public init(model: Segformer, processor: ImageProcessor,
                preprocessing: ImageProcessorConfiguration = .segformerDefaults,
                configuration: SegmentationTrainingConfiguration = SegmentationTrainingConfiguration()) throws {
        guard processor.doResize else {
            throw SegmentationTrainingError.invalidSetting(name: "image processor do_resize", value: "false",
                                                           requirement: "must be on: batches need one input size")
        }
        try configuration.validate(classes: model.classCount)
        self.model = model
        self.processor = processor
        self.preprocessing = preprocessing.describing(processor)
        self.configuration = configuration
        history = SegmentationHistory(classNames: model.classNames)
    }

    /// Whether `directory` holds a checkpoint to resume.
    public static func hasCheckpoint(in directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: SegmentationRunFiles(directory: directory).checkpointFile.path)
    }

    // MARK: - Data checks

    /// Labelled pixels per class over the masks of `dataset`, every mask read once (in parallel).
    /// - Throws: ``SegmentationDataError/labelOutOfRange(mask:value:numLabels:x:y:)`` naming the
    ///   first offending file (in name order), or what reading a mask throws.
    public static func classPixels(of dataset: SegmentationDataset) throws -> [Int] {
        var results = [Result<[Int], any Error>?](repeating: nil, count: dataset.count)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedSendable(buffer)
            Parallel.forEachRange(dataset.count) { range in
                for i in range { out.value[i] = Result { try Self.classPixels(ofMask: dataset.pairs[i].mask, dataset: dataset) } }
            }
        }
        var total = [Int](repeating: 0, count: dataset.numLabels)
        for result in results {
            guard let result else { throw SegmentationDataError.invalidArgument("a mask was not read") }
            for (c, n) in try result.get().enumerated() { total[c] += n }
        }
        return total
    }

    private static func classPixels(ofMask url: URL, dataset: SegmentationDataset) throws -> [Int] {
        let mask: ClassMask
        do {
            mask = try ClassMask.read(contentsOf: url, limits: dataset.limits)
        } catch let error as ImageError {
            throw SegmentationDataError.unreadable(error)
        }
        var counts = [Int](repeating: 0, count: 256)
        for value in mask.indices { counts[Int(value)] += 1 }
        if let bad = (dataset.numLabels..<255).first(where: { counts[$0] > 0 }),
           let at = mask.indices.firstIndex(of: UInt8(bad)) {
            throw SegmentationDataError.labelOutOfRange(mask: url.path, value: bad, numLabels: dataset.numLabels,
                                                        x: at % mask.width, y: at / mask.width)
        }
        return Array(counts.prefix(dataset.numLabels))
    }

    // MARK: - fit

    /// Trains until the run's epochs (or its step budget) are done, or until
    /// ``SegmentationTrainingConfiguration/stopAfterEpochs``; see the type for the recipe.
    /// With ``SegmentationTrainingConfiguration/resume`` it first restores the checkpoint in the
    /// output directory and checks that every setting and the data are the same.
    /// - Throws: ``SegmentationTrainingError`` (bad settings, single-class data, NaN, a
    ///   checkpoint that does not fit), ``SegmentationDataError`` (data), `HuggingFaceError`
    ///   (writing folders); files of earlier epochs are never damaged.
    @discardableResult
    public func fit(_ dataset: SegmentationDataset) throws -> SegmentationTrainingResult {
        let config = configuration
        guard dataset.numLabels == model.classCount else {
            throw SegmentationTrainingError.dataMismatch(
                "\(dataset.directory.path): the data set is read with \(dataset.numLabels) classes but the model has "
                    + "\(model.classCount) (\(model.classNames.joined(separator: ", ")))")
        }
        let files = config.outputDirectory.map(SegmentationRunFiles.init(directory:))
        if let files {
            let exists = FileManager.default.fileExists(atPath: files.checkpointFile.path)
            if config.resume && !exists { throw SegmentationTrainingError.noCheckpoint(directory: files.checkpoint.path) }
            if !config.resume && exists { throw SegmentationTrainingError.wouldOverwrite(directory: files.directory.path) }
        }
        let (training, validation) = try dataset.split(validationFraction: config.validationFraction, seed: config.seed)
        let progress = TrainingProgress(mode: config.progress)

        // Every mask once: labels in range, more than one class, something to validate on.
        progress.begin(phase: "reading masks")
        let classPixels = try Self.classPixels(of: training)
        let validationPixels = try Self.classPixels(of: validation)
        let present = classPixels.indices.filter { classPixels[$0] > 0 }
        if present.isEmpty {
            throw SegmentationTrainingError.dataMismatch(
                "\(dataset.directory.path): the \(training.count) training masks hold no labelled pixel (all 255)")
        }
        if present.count == 1 && !config.allowSingleClass {
            throw SegmentationTrainingError.singleClass(className: model.classNames[present[0]], pixels: classPixels[present[0]],
                                                        masks: training.count, directory: dataset.directory.path)
        }
        guard validationPixels.contains(where: { $0 > 0 }) else {
            throw SegmentationTrainingError.dataMismatch(
                "\(dataset.directory.path): the \(validation.count) validation masks hold no labelled pixel (all 255)")
        }

        // The run's length and optimizer.
        let stepsPerEpoch = (training.count + config.batchSize - 1) / config.batchSize
        let totalSteps = min(config.epochs * stepsPerEpoch, config.maxSteps ?? Int.max)
        let runEpochs = (totalSteps + stepsPerEpoch - 1) / stepsPerEpoch
        let schedule = try PolynomialDecay(initialLearningRate: config.learningRate, decaySteps: totalSteps,
                                           endLearningRate: 0, power: 1)
        let optimizer = try AdamW(learningRate: config.learningRate, weightDecay: config.weightDecay, beta1: config.beta1,
                                  beta2: config.beta2, epsilon: config.epsilon, epsilonPlacement: .pytorch,
                                  schedule: schedule)
        self.optimizer = optimizer
        model.encoder.setTrainable(!config.freezeEncoder)
        model.decodeHead.setTrainable(true)
        let settings = runSettings(training: training, validation: validation, totalSteps: totalSteps,
                                   optimizer: optimizer, schedule: schedule)
        let stateDict = model.torchStateDict
        var resumedEpochs = 0
        if config.resume, let files {
            let checkpoint = try SegmentationCheckpoint.read(from: files.checkpoint)
            let differences = settings.differences(from: checkpoint.settings)
            guard differences.isEmpty else {
                throw SegmentationTrainingError.settingsDiffer(file: files.checkpointFile.path, differences: differences)
            }
            try restore(checkpoint, stateDict: stateDict, optimizer: optimizer, file: files.checkpointFile.path)
            resumedEpochs = history.records.count
            progress.message("resuming after epoch \(resumedEpochs) of \(runEpochs) (step \(stepsTaken) of \(totalSteps))")
        } else {
            // Dropout and drop path draw from generators seeded by the run's seed.
            for (k, dropout) in dropoutLayers.enumerated() {
                dropout.generator = SeededGenerator(seed: SeededGenerator.mixing(config.seed, 0xD0_0000 &+ UInt64(k)))
            }
            history = SegmentationHistory(classNames: model.classNames)
            bestEpoch = nil
            stepsTaken = 0
        }
        if let files { try FileManager.default.createDirectory(at: files.directory, withIntermediateDirectories: true) }

        let names = Dictionary(stateDict.map { (ObjectIdentifier($0.parameter), $0.name) }, uniquingKeysWith: { a, _ in a })
        let trainable = model.parameters.filter(\.isTrainable)
        guard !trainable.isEmpty else {
            throw SegmentationTrainingError.invalidSetting(name: "trainable parameters", value: "0", requirement: "must not be 0")
        }
        let lossFunction = PixelCrossEntropy(classWeights: config.classWeights, ignoreIndex: Int32(ClassMask.ignoreIndex))
        let stopEpoch = min(runEpochs, config.stopAfterEpochs ?? runEpochs)
        var skipped = 0

        while history.records.count < stopEpoch {
            let epoch = history.records.count + 1
            let start = ContinuousClock.now
            let order = Self.epochOrder(count: training.count, seed: config.seed, epoch: epoch)
            let batches = Array(stride(from: 0, to: order.count, by: config.batchSize)
                .map { Array(order[$0..<min($0 + config.batchSize, order.count)]) }
                .prefix(max(0, totalSteps - stepsTaken)))
            let (augmentation, seed, processor) = (config.augmentation, config.seed, self.processor)
            let loader = Prefetcher(count: batches.count, depth: config.prefetchDepth) { i in
                try training.trainingBatch(batches[i], processor: processor, augmentation: augmentation, seed: seed,
                                           epoch: epoch)
            }
            progress.begin(epoch: epoch, of: runEpochs, phase: "step")
            var lossSum = 0.0, seen = 0, steps = 0, done = 0
            var rate = Double(optimizer.currentLearningRate)
            do {
                for (i, indices) in batches.enumerated() {
                    let batch = try loader.next()
                    let stepRate = optimizer.currentLearningRate
                    if let loss = try step(batch, trainable: trainable, loss: lossFunction, optimizer: optimizer,
                                           names: names, epoch: epoch, step: i + 1) {
                        lossSum += Double(loss) * Double(indices.count)
                        seen += indices.count
                        steps += 1
                        rate = Double(stepRate)
                    } else {
                        skipped += 1
                    }
                    stepsTaken += 1
                    done += indices.count
                    progress.update(done: i + 1, of: batches.count, images: done,
                                    loss: seen > 0 ? lossSum / Double(seen) : nil)
                }
            } catch {
                loader.finish()
                progress.message("stopped: \(error)")
                throw error
            }
            loader.finish()
            if let bad = model.parameters.first(where: { !$0.value.isFinite }) {
                let name = names[ObjectIdentifier(bad)] ?? bad.name
                progress.message("stopped: \(name) is not finite")
                throw SegmentationTrainingError.nonFiniteWeights(epoch: epoch, parameter: name)
            }
            progress.begin(epoch: epoch, of: runEpochs, phase: "validating")
            let evaluation = try SegmentationEvaluation.evaluate(
                model, on: validation, processor: processor, batchSize: config.batchSize,
                prefetchDepth: config.prefetchDepth) { done, total in
                progress.update(done: done, of: total, images: 0)
            }
            guard evaluation.loss.isFinite else {
                progress.message("stopped: the validation loss is not finite")
                throw SegmentationTrainingError.nonFiniteValidationLoss(epoch: epoch)
            }
            let metrics = evaluation.metrics
            let record = SegmentationEpochRecord(
                epoch: epoch, loss: seen > 0 ? lossSum / Double(seen) : .nan, validationLoss: evaluation.loss,
                pixelAccuracy: metrics.pixelAccuracy, meanIoU: metrics.meanIoU, perClassIoU: metrics.perClassIoU,
                learningRate: rate, steps: steps, seconds: TrainingProgress.seconds(ContinuousClock.now - start))
            guard record.loss.isFinite else {
                throw SegmentationTrainingError.dataMismatch(
                    "epoch \(epoch): every batch had only ignored pixels after the crop: nothing was trained")
            }
            let improved = !metrics.meanIoU.isNaN
                && (bestEpoch.flatMap { e in history.records.first { $0.epoch == e }?.meanIoU }.map { metrics.meanIoU > $0 } ?? true)
            history.records.append(record)
            lastMatrix = metrics.matrix
            if improved {
                bestEpoch = epoch
                bestMatrix = metrics.matrix
            }
            if let files {
                if improved { try SegformerFolder.save(model, preprocessing: preprocessing, to: files.best) }
                try history.writeCSV(to: files.history)
                try writeMetrics(to: files.metrics)
                try checkpoint(settings: settings, stateDict: stateDict, optimizer: optimizer).write(to: files.checkpoint)
            }
            progress.message(Self.summary(record, of: runEpochs, improved: improved))
        }
        if let files {
            try SegformerFolder.save(model, preprocessing: preprocessing, to: files.last)
            if !history.records.isEmpty { try writeMetrics(to: files.metrics) }
        }
        return SegmentationTrainingResult(
            history: history, bestEpoch: bestEpoch, bestMetrics: bestMatrix.map(SegmentationMetrics.init),
            finalMetrics: lastMatrix.map(SegmentationMetrics.init), trainingPairs: training.count,
            validationPairs: validation.count, trainingClassPixels: classPixels, totalSteps: totalSteps,
            stepsTaken: stepsTaken, runEpochs: runEpochs, resumedEpochs: resumedEpochs, skippedBatches: skipped)
    }

    /// One step; `nil` when every pixel of the batch is ignored (nothing to learn, no update).
    private func step(_ batch: SegmentationBatch, trainable: [Parameter], loss lossFunction: PixelCrossEntropy,
                      optimizer: AdamW, names: [ObjectIdentifier: String], epoch: Int, step: Int) throws -> Float? {
        for parameter in trainable { parameter.zeroGradient() }
        defer { for parameter in trainable { parameter.zeroGradient() } }
        let logits: Tensor
        if configuration.freezeEncoder {
            let states = try withoutGradients { try model.hiddenStates(batch.pixelValues, training: true) }
            logits = try model.decodeHead.logits(hiddenStates: states, training: true)
        } else {
            logits = try model(batch.pixelValues, training: true)
        }
        if model.decodeHead.norm.usesBatchStatistics(training: true) { model.batchNormSteps += 1 }
        let loss: Tensor
        do {
            loss = try lossFunction.loss(logits: logits, labels: batch.labelsInt32, height: batch.labelHeight,
                                         width: batch.labelWidth)
        } catch SegmentationError.noLabelledPixels {
            return nil
        }
        let value = loss.scalar
        guard value.isFinite else { throw SegmentationTrainingError.nonFiniteLoss(epoch: epoch, step: step, value: value) }
        loss.backward()
        if let bad = trainable.first(where: { !($0.gradient?.isFinite ?? true) }) {
            throw SegmentationTrainingError.nonFiniteGradient(epoch: epoch, step: step,
                                                              parameter: names[ObjectIdentifier(bad)] ?? bad.name)
        }
        optimizer.step(trainable)
        return value
    }

    /// The training pairs of `epoch` in a seeded shuffle (a pure function of seed and epoch).
    static func epochOrder(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var order = Array(0..<count)
        var rng = SeededGenerator(seed: SeededGenerator.mixing(SeededGenerator.mixing(seed, 0x5E6_0FF1E),
                                                               UInt64(bitPattern: Int64(epoch))))
        rng.shuffle(&order)
        return order
    }

    private var dropoutLayers: [Dropout] { model.flattenedLayers.compactMap { $0 as? Dropout } }

    // MARK: - Files

    /// `metrics.json`: `{"monitor": "mean_iou", "best_epoch", "final_epoch", "best": {...},
    /// "final": {...}}`, each inner object ``SegmentationMetrics/jsonData(classNames:)``'s.
    private func writeMetrics(to url: URL) throws {
        func object(_ matrix: PixelConfusionMatrix?) throws -> JSONValue {
            guard let matrix else { return .null }
            return try JSONValue(parsing: SegmentationMetrics(matrix).jsonData(classNames: model.classNames))
        }
        var root: [String: JSONValue] = ["monitor": .string("mean_iou")]
        root["best_epoch"] = bestEpoch.map { .integer(Int64($0)) } ?? .null
        root["final_epoch"] = history.records.last.map { .integer(Int64($0.epoch)) } ?? .null
        root["best"] = try object(bestMatrix)
        root["final"] = try object(lastMatrix)
        root["class_names"] = .array(model.classNames.map(JSONValue.string))
        try JSONFile.write(root, to: url)
    }

    private func runSettings(training: SegmentationDataset, validation: SegmentationDataset, totalSteps: Int,
                             optimizer: AdamW, schedule: PolynomialDecay) -> SegmentationRunSettings {
        var model = self.model.configuration
        model.otherKeys = [:]
        let p = processor
        let processorText = "\(p.width)x\(p.height) \(p.resample.rawValue) (\(p.backend.rawValue)), rescale "
            + "\(p.doRescale ? "\(p.rescaleFactor)" : "off"), normalize \(p.doNormalize ? "mean \(p.mean) std \(p.std)" : "off")"
        let optimizerText = "AdamW(learningRate: \(optimizer.learningRate), weightDecay: \(optimizer.weightDecay), "
            + "beta1: \(optimizer.beta1), beta2: \(optimizer.beta2), epsilon: \(optimizer.epsilon), pytorch)"
        return SegmentationRunSettings(
            model: model, processor: processorText, batchSize: configuration.batchSize, epochs: configuration.epochs,
            maxSteps: configuration.maxSteps, totalSteps: totalSteps, seedHex: String(configuration.seed, radix: 16),
            validationFraction: configuration.validationFraction, classWeights: configuration.classWeights,
            augmentation: configuration.augmentation, optimizer: optimizerText, schedule: schedule.description,
            freezeEncoder: configuration.freezeEncoder, trainingPairs: training.count, validationPairs: validation.count,
            dataFingerprint: Self.fingerprint(training, validation))
    }

    /// FNV-1a over the training and validation names.
    static func fingerprint(_ training: SegmentationDataset, _ validation: SegmentationDataset) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in [training, validation] {
            for byte in part.pairs.map(\.name).joined(separator: "\n").utf8 + [0] {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        return String(hash, radix: 16)
    }

    private func checkpoint(settings: SegmentationRunSettings, stateDict: [TorchTensor],
                            optimizer: AdamW) -> SegmentationCheckpoint {
        SegmentationCheckpoint(
            completedEpochs: history.records.count, stepsTaken: stepsTaken, settings: settings,
            tensors: stateDict.map { ($0.name, $0.parameter.value) },
            optimizer: optimizer.snapshot(of: stateDict.map(\.parameter)), batchNormSteps: model.batchNormSteps,
            dropoutGenerators: dropoutLayers.map { ($0.name, $0.generator) }, history: history, bestEpoch: bestEpoch,
            bestConfusion: bestMatrix?.counts, lastConfusion: lastMatrix?.counts)
    }

    /// Everything of `checkpoint` into the model, the optimizer and this trainer, after
    /// checking that it fits (nothing is changed when it does not).
    private func restore(_ checkpoint: SegmentationCheckpoint, stateDict: [TorchTensor], optimizer: AdamW,
                         file: String) throws {
        func damaged(_ field: String, _ reason: String) -> SegmentationTrainingError {
            .damagedCheckpoint(file: file, field: field, reason: reason)
        }
        guard checkpoint.tensors.map(\.name) == stateDict.map(\.name) else {
            let missing = Set(stateDict.map(\.name)).subtracting(checkpoint.tensors.map(\.name)).sorted()
            let extra = Set(checkpoint.tensors.map(\.name)).subtracting(stateDict.map(\.name)).sorted()
            throw damaged("tensors", "they do not match the model's (model only: \(missing.prefix(4).joined(separator: ", ")); "
                          + "checkpoint only: \(extra.prefix(4).joined(separator: ", ")))")
        }
        for (tensor, stored) in zip(stateDict, checkpoint.tensors) where tensor.parameter.shape != stored.value.shape {
            throw damaged("model/\(tensor.name)", "shape \(stored.value.shape), the model's is \(tensor.parameter.shape)")
        }
        let dropouts = dropoutLayers
        guard checkpoint.dropoutGenerators.map(\.name) == dropouts.map(\.name) else {
            throw damaged("dropout", "\(checkpoint.dropoutGenerators.count) generators for the model's \(dropouts.count) dropout layers")
        }
        let classes = model.classCount
        let matrices = try [checkpoint.bestConfusion, checkpoint.lastConfusion].map { counts in
            try counts.map { counts -> PixelConfusionMatrix in
                do { return try PixelConfusionMatrix(classCount: classes, counts: counts) } catch {
                    throw damaged("confusion", "\(error)")
                }
            }
        }
        guard (checkpoint.bestEpoch == nil) == (matrices[0] == nil),
              (checkpoint.completedEpochs == 0) == (matrices[1] == nil) else {
            throw damaged("confusion", "the confusion matrices do not match the epochs done")
        }
        try optimizer.restore(checkpoint.optimizer, for: stateDict.map(\.parameter))
        for (tensor, stored) in zip(stateDict, checkpoint.tensors) { tensor.parameter.value = stored.value }
        for (layer, stored) in zip(dropouts, checkpoint.dropoutGenerators) { layer.generator = stored.generator }
        model.batchNormSteps = checkpoint.batchNormSteps
        history = checkpoint.history
        bestEpoch = checkpoint.bestEpoch
        stepsTaken = checkpoint.stepsTaken
        bestMatrix = matrices[0]
        lastMatrix = matrices[1]
    }

    /// `epoch 3/10  loss 0.5123  val_loss 0.6012  pixel_acc 0.8123  mIoU 0.5512  lr 4.2e-05  12.3 s  best`.
    static func summary(_ record: SegmentationEpochRecord, of epochs: Int, improved: Bool) -> String {
        var parts = ["epoch \(record.epoch)/\(epochs)", String(format: "loss %.4f", record.loss),
                     String(format: "val_loss %.4f", record.validationLoss),
                     String(format: "pixel_acc %.4f", record.pixelAccuracy), String(format: "mIoU %.4f", record.meanIoU),
                     String(format: "lr %.3g", record.learningRate), String(format: "%.1f s", record.seconds)]
        if improved { parts.append("best mIoU") }
        return parts.joined(separator: "  ")
    }
}
