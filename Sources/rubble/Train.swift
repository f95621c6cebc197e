import ArgumentParser
import Foundation
import Inference
import KerasFiles
import Layers
import Tensor
import Train
import Vision
import Zoo

/// `rubble train`: fine-tune a model on a folder of labelled photos.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train (fine-tune) a classifier on a folder of labelled photos and/or verified labels.",
        discussion: """
            DIR holds one sub-folder per class (e.g. damage/ and no_damage/) of JPEG/PNG photos. \
            --labels FILE.csv adds photos a person verified: report.html's export \
            (path,predicted,verified_label) or a path,label file; paths relative to the CSV's folder, \
            then to --labels-root. With --data they must use its classes and are merged with it \
            (a photo byte-identical to a --data photo is left out, or refused if its class differs); \
            without it the classes are the labels, sorted (or --classes in that order). \
            The paper's set-up is the default: VGG19 at 150x150, blocks 1-4 frozen, a Dense(256) head, \
            RMSprop lr 1e-5, balanced class weights, the best epoch chosen on val_loss.

            RUN_DIR receives weights.h5 (final weights, Keras 2 layout), best.h5 (best epoch), \
            history.csv, metrics.json, threshold_sweep.csv, training_curves.svg, threshold_sweep.svg, \
            predictions.csv (validation, best weights), classes.json and checkpoint/ (written every \
            epoch; continue an interrupted run with --resume and the same options).

            With the frozen blocks' output unchanged from epoch to epoch (no --augment), it is \
            computed once per image and cached (memory up to --cache-mb, then a temporary file); \
            --no-cache turns that off. The numbers are the same either way.
            """)

    @Option(help: "Training folder: one sub-folder of images per class (this, --labels, or both).")
    var data: String?

    @Option(help: "Verified labels (CSV): report.html's export path,predicted,verified_label, or path,label. Rows without a verdict are skipped.")
    var labels: String?

    @OptionGroup(title: "Verdicts from a store (instead of --labels)") var store: StoreOptions

    @Option(help: "Folder the relative paths of --labels are under when they are not next to the CSV file (e.g. where `rubble screen` ran).")
    var labelsRoot: String?

    @Option(help: "The classes in label order, comma-separated (default: the --data folders, else the --labels labels, sorted).")
    var classes: String?

    /// `--classes` as names.
    var classList: [String]? {
        classes.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    @Option(help: "Validation folder with the same classes (instead of --val-split).")
    var val: String?

    @Option(help: "Fraction of --data held out for validation when --val is not given (0 for none).")
    var valSplit: Double = 0.2

    @Option(help: "Model family: vgg19, vgg16, baseline, resnet50, mobilenetv2 or efficientnetb0.")
    var arch: Architecture = .vgg19

    @Option(name: .customLong("head"), help: "The head: N for Flatten-Dense(N)-Dense(classes) (VGG, baseline; default 256), or gap for GlobalAveragePooling2D-Dense(classes) (default for resnet50, mobilenetv2, efficientnetb0).",
            transform: ClassifierHead.parseFlag)
    var headOption: ClassifierHead?

    /// `--head`, or the architecture's default.
    var head: ClassifierHead { headOption ?? arch.defaultHead }

    @Option(help: "MobileNetV2's width multiplier (Keras' alpha; ImageNet files exist for 0.35, 0.5, 0.75, 1.0, 1.3, 1.4).")
    var alpha: Double = 1.0

    @Option(help: "Dropout rate after the hidden Dense layer (none by default).")
    var dropout: Float?

    @Option(help: "Keras weights (.h5 / .weights.h5) to start from: a no-top base (e.g. ImageNet) or a whole model, matched by layer name.")
    var weights: String?

    @Option(help: "Freeze every layer up to and including this Keras layer name or prefix (defaults: VGG block4, resnet50 conv4_block6_out, mobilenetv2 block_15_add, efficientnetb0 block6d_add; 'none' trains everything).")
    var freezeThrough: String?

    @Option(help: "Epochs to train (in total, when resuming).")
    var epochs: Int = 10

    @Option(help: "Images per step.")
    var batchSize: Int = 32

    @Option(help: "Learning rate.")
    var lr: Float = 1e-5

    @Option(help: "Optimizer: rmsprop, sgd, adam or adamw.")
    var optimizer: OptimizerChoice = .rmsprop

    @Option(help: "AdamW's decoupled weight decay (default 0.004, as Keras 3); only with --optimizer adamw.")
    var weightDecay: Float?

    @Option(help: ArgumentHelp("Learning-rate schedule over the optimizer steps: constant (--lr throughout), cosine or step.",
                               discussion: "cosine: Keras' CosineDecay from --lr to --lr x --cosine-alpha over --decay-steps, "
                                   + "after --warmup-steps rising linearly from 0 to --lr. step: --lr x --lr-gamma^floor(step / --lr-step-size)."))
    var lrSchedule: ScheduleChoice = .constant

    @Option(help: "cosine: steps rising linearly from 0 to --lr before the decay (default 0).")
    var warmupSteps: Int?

    @Option(help: "cosine: steps of the decay (default: the run's steps after the warmup, from --epochs; give it to resume with other --epochs).")
    var decaySteps: Int?

    @Option(help: "cosine: the final rate as a fraction of --lr (default 0).")
    var cosineAlpha: Float?

    @Option(help: "step: optimizer steps between two reductions of the rate.")
    var lrStepSize: Int?

    @Option(help: "step: the factor of each reduction (default 0.1).")
    var lrGamma: Float?

    @Flag(help: "RMSprop with epsilon outside the square root (tf.keras before TF 2.11, as in the paper's time).")
    var rmspropLegacyEpsilon = false

    @Option(help: "Class weights: balanced, none, or one per class (e.g. 0.8897,1.1414).")
    var classWeight: String = "balanced"

    @Flag(help: "Keep the training images in folder order instead of reshuffling every epoch.")
    var noShuffle = false

    @Option(help: "Seed of the validation split, the shuffling, the augmentation and the initial weights.")
    var seed: UInt64 = 0

    @Option(help: "Model input height and width.")
    var imageSize: Int = 150

    @Option(name: .customLong("preprocess"), help: "Pixel preprocessing: unit (x/255), caffe (ImageNet BGR mean subtraction), tf (x/127.5-1) or raw (0-255) (default: unit for VGG and the baseline, else what Keras' preprocess_input does for --arch).")
    var preprocessOption: PreprocessingChoice?

    /// `--preprocess`, or the architecture's default.
    var preprocess: PreprocessingChoice { preprocessOption ?? .default(for: arch) }

    @Option(help: "Resize filter: bilinear or nearest.")
    var resize: ResizeChoice = .bilinear

    @Flag(help: "Do not cache the frozen layers' output.")
    var noCache = false

    @Option(help: "Memory for cached features in MB (the rest spills to a temporary file).")
    var cacheMb: Int = 2048

    @Option(help: "Training augmentation, e.g. flip,shift=0.1,rotate=10,brightness=0.2,contrast=0.2,night=0.3 (turns the cache off).")
    var augment: String?

    @Option(help: "The positive class for the threshold sweep and PR/ROC (default: damage/damaged, else the last class).")
    var positive: String?

    @Option(help: "Stop after this many epochs without improvement of --monitor.")
    var earlyStopping: Int?

    @Option(help: "Metric that picks best.h5 and drives early stopping: val_loss, val_accuracy, loss, accuracy, precision_<class>, recall_<class>.")
    var monitor: String = "val_loss"

    @Flag(help: "Continue the run in --out from its checkpoint.")
    var resume = false

    @Option(help: "Run directory.")
    var out: String

    enum OptimizerChoice: String, ExpressibleByArgument, CaseIterable { case rmsprop, sgd, adam, adamw }

    enum ScheduleChoice: String, ExpressibleByArgument, CaseIterable { case constant, cosine, step }

    func validate() throws {
        if data == nil && labels == nil && store.url == nil {
            throw ValidationError("give the training data: --data DIR (one sub-folder per class), --labels FILE.csv or --db URL, "
                                  + "or --data with one of the others")
        }
        if labels != nil && store.url != nil { throw ValidationError("give --labels or --db, not both") }
        if labelsRoot != nil && labels == nil { throw ValidationError("--labels-root belongs to --labels") }
        if let classList {
            guard classList.count >= 2, !classList.contains(where: \.isEmpty), Set(classList).count == classList.count else {
                throw ValidationError("--classes must name at least 2 different classes, comma-separated, got '\(classes ?? "")'")
            }
        }
        if val != nil && valSplit != 0.2 && valSplit != 0 {
            throw ValidationError("give either --val or --val-split, not both")
        }
        guard valSplit >= 0 && valSplit < 1 else { throw ValidationError("--val-split must be in [0, 1)") }
        for (flag, value) in [("--epochs", epochs), ("--batch-size", batchSize)] where value < 1 {
            throw ValidationError("\(flag) must be >= 1, got \(value)")
        }
        try ModelOptions.validateImageSize(imageSize, arch: arch)
        try ModelOptions.validateAlpha(alpha)
        if alpha != 1.0 && arch != .mobilenetv2 { throw ValidationError("--alpha is MobileNetV2's: give it with --arch mobilenetv2") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
        if let dropout, !(dropout >= 0 && dropout < 1) {
            throw ValidationError("--dropout must be in [0, 1), got \(dropout) (1 would drop every unit and train nothing)")
        }
        guard cacheMb >= 0 else { throw ValidationError("--cache-mb must be >= 0, got \(cacheMb)") }
        if let earlyStopping, earlyStopping < 1 { throw ValidationError("--early-stopping must be >= 1") }
        if weightDecay != nil && optimizer != .adamw {
            throw ValidationError("--weight-decay is AdamW's: give it with --optimizer adamw")
        }
        if let weightDecay, !(weightDecay.isFinite && weightDecay >= 0) {
            throw ValidationError("--weight-decay must be a finite number >= 0, got \(weightDecay)")
        }
        let cosineFlags = [("--warmup-steps", warmupSteps != nil), ("--decay-steps", decaySteps != nil),
                           ("--cosine-alpha", cosineAlpha != nil)]
        if lrSchedule != .cosine, let flag = cosineFlags.first(where: \.1)?.0 {
            throw ValidationError("\(flag) belongs to --lr-schedule cosine")
        }
        if lrSchedule != .step, let flag = [("--lr-step-size", lrStepSize != nil), ("--lr-gamma", lrGamma != nil)]
            .first(where: \.1)?.0 {
            throw ValidationError("\(flag) belongs to --lr-schedule step")
        }
        if let warmupSteps, warmupSteps < 0 { throw ValidationError("--warmup-steps must be >= 0, got \(warmupSteps)") }
        if let decaySteps, decaySteps < 1 { throw ValidationError("--decay-steps must be >= 1, got \(decaySteps)") }
        if let cosineAlpha, !(cosineAlpha >= 0 && cosineAlpha <= 1) {
            throw ValidationError("--cosine-alpha must be in [0, 1], got \(cosineAlpha)")
        }
        if lrSchedule == .step {
            guard let lrStepSize else { throw ValidationError("--lr-schedule step needs --lr-step-size") }
            guard lrStepSize >= 1 else { throw ValidationError("--lr-step-size must be >= 1, got \(lrStepSize)") }
        }
        if let lrGamma, !(lrGamma >= 0 && lrGamma <= 1) {
            throw ValidationError("--lr-gamma must be in [0, 1], got \(lrGamma)")
        }
    }

    /// Errors are reported by `Rubble.main` (`rubble: error: ...`).
    func run() throws {
        try train()
    }

    private func train() throws {
        let runDirectory = try OutputFolder.url(out)
        let checkpointDirectory = runDirectory.appendingPathComponent("checkpoint")
        let hasCheckpoint = FileManager.default.fileExists(atPath: TrainingCheckpoint.url(in: checkpointDirectory).path)
        if resume && !hasCheckpoint {
            throw ValidationError("--resume: no checkpoint in \(checkpointDirectory.path)")
        }
        if !resume && hasCheckpoint {
            throw ValidationError("\(runDirectory.path) already holds a run (checkpoint/); continue it with --resume "
                                  + "or choose another --out")
        }

        // Data.
        let pipeline = ImagePipeline(imageSize: imageSize, resize: resize.method, preprocessing: preprocess.preprocessing)
        let folder = try data.map { try ImageFolderExamples(directory: URL(fileURLWithPath: $0), pipeline: pipeline, classNames: classList) }
        if let folder, let data, !folder.skipped.isEmpty {
            warn("skipped \(folder.skipped.count) non-image file(s) in \(data), e.g. \(folder.skipped[0].path): \(folder.skipped[0].reason)")
        }
        let all: any LabelledExamples
        if labels != nil || store.url != nil {
            let verified = try labels.map { try VerifiedLabels.load(csv: URL(fileURLWithPath: $0),
                                                                    root: labelsRoot.map { URL(fileURLWithPath: $0) }) }
                ?? store.verifiedLabels(uploadsIn: URL(fileURLWithPath: out).appendingPathComponent("uploads"))
            let merged = try VerifiedDataset(verified, mergingWith: folder, classNames: classList, pipeline: pipeline)
            RunOutput.line("labels: " + merged.summary)
            all = merged.examples
        } else {
            all = folder!
        }
        let training: any LabelledExamples
        var validation: (any LabelledExamples)?
        if let val {
            training = all
            validation = try ImageFolderExamples(directory: URL(fileURLWithPath: val), pipeline: pipeline,
                                                 classNames: all.classNames)
        } else if valSplit > 0 {
            let split = try all.split(validationFraction: valSplit, seed: seed)
            training = split.training
            validation = split.validation
        } else {
            training = all
        }
        let classNames = all.classNames
        try Trainer.checkClasses(training)
        let positiveIndex = try BinaryMetrics.positiveClassIndex(classNames, requested: positive)
        let weighting = try ClassWeights(parsing: classWeight)
        let classWeights = try weighting.weights(for: training)
        RunOutput.line("data: \(training.count) training images" + (validation.map { ", \($0.count) validation images" } ?? ", no validation")
              + " in classes " + classNames.joined(separator: ", ") + " (positive: \(classNames[positiveIndex]))")
        RunOutput.line(try weighting.summary(classNames: classNames, classCounts: training.classCounts))

        // Model.
        let backbone = BackboneOptions(alpha: alpha,
                                       imageNetRescaling: try weights.map { try KerasWeights.hasImageNetRescaling(URL(fileURLWithPath: $0)) } ?? false)
        let model = try arch.makeClassifier(imageSize: imageSize, head: head, classes: classNames.count,
                                            dropoutRate: dropout, freezeThrough: nil, backbone: backbone, seed: seed)
        let freeze = freezeThrough ?? arch.defaultFreezeThrough ?? "none"
        if freeze != "none" { try model.freeze(through: freeze) }
        if resume {
            RunOutput.line("resuming from \(checkpointDirectory.path) (its weights replace any --weights)")
        } else if let weights {
            let report = try KerasWeights.load(URL(fileURLWithPath: weights), into: model, options: .byName)
            guard !report.loaded.isEmpty else {
                throw ValidationError("no layer of \(weights) matches the \(arch.rawValue) model's layer names")
            }
            RunOutput.line("weights: " + report.description.replacingOccurrences(of: "\n", with: "\n  "))
        } else if arch != .baseline {
            warn("no --weights given: \(arch.rawValue) starts from random weights (give an ImageNet no-top file to fine-tune)")
        }
        let split = try FrozenPrefix(model)
        let trainable = model.parameters.filter(\.isTrainable).reduce(0) { $0 + $1.shape.count }
        let frozen = model.parameters.filter { !$0.isTrainable }.reduce(0) { $0 + $1.shape.count }
        RunOutput.line("model: \(arch.rawValue), \(imageSize)x\(imageSize), head \(head); \(trainable) trainable and \(frozen) "
              + "frozen parameters; training from \(split.trainable.first?.name ?? "-")")

        // Training.
        let schedule = try learningRateSchedule(
            steps: epochs * ((training.count + batchSize - 1) / batchSize))
        if let schedule { RunOutput.line("learning rate: \(schedule)") }
        let optimizer: any Optimizer
        switch self.optimizer {
        case .rmsprop:
            optimizer = try RMSprop(learningRate: lr, epsilonOutsideSquareRoot: rmspropLegacyEpsilon, schedule: schedule)
        case .sgd: optimizer = try SGD(learningRate: lr, schedule: schedule)
        case .adam: optimizer = try Adam(learningRate: lr, schedule: schedule)
        case .adamw: optimizer = try AdamW(learningRate: lr, weightDecay: weightDecay ?? 0.004, schedule: schedule)
        }
        let configuration = TrainingConfiguration(
            epochs: epochs, batchSize: batchSize, shuffle: !noShuffle, seed: seed,
            classWeights: weighting == .none ? nil : classWeights, augmentation: try augment.flatMap(Augmentation.parseOptional),
            featureCache: !noCache, cacheMemoryBudget: cacheMb << 20, monitor: Monitor(monitor),
            earlyStoppingPatience: earlyStopping, outputDirectory: runDirectory, progress: .automatic,
            inputShape: [imageSize, imageSize, 3],
            saveWeights: KerasWeights.saver(metadata: ModelMetadata(
                architecture: arch.rawValue, head: head.description, preprocessing: preprocess.rawValue,
                resize: resize.rawValue, positiveClass: classNames[positiveIndex],
                alpha: arch == .mobilenetv2 ? String(alpha) : nil)))
        let trainer = Trainer(model: model, optimizer: optimizer, configuration: configuration)
        if resume {
            try trainer.restoreCheckpoint(from: checkpointDirectory)
            // The checkpoint carries the optimizer's learning rate; a different --lr would be ignored.
            guard trainer.optimizer.learningRate == lr else {
                throw ValidationError("--lr \(lr) differs from the learning rate of the run in \(runDirectory.path) "
                                      + "(\(trainer.optimizer.learningRate)): resume with --lr \(trainer.optimizer.learningRate), "
                                      + "or start a new run in another --out")
            }
            RunOutput.line("checkpoint: \(trainer.completedEpochs) of \(epochs) epochs done")
        }
        if !split.prefix.isEmpty || configuration.featureCache {
            let reason = noCache ? "off (--no-cache)" : configuration.augmentation.map { _ in "off (augmentation)" }
                ?? "on (\(split.prefix.isEmpty ? "decoded images" : "output of \(split.prefix.last!.name)"), \(cacheMb) MB in memory)"
            RunOutput.line("feature cache: \(reason)")
        }
        let history = try trainer.fit(training, validation: validation)
        if trainer.stoppedEarly { RunOutput.line("stopped early after epoch \(trainer.completedEpochs)") }

        // Reports on the best epoch's weights.
        let best = runDirectory.appendingPathComponent("best.h5")
        try RunReports.writeTrainingCurves(history, of: trainer, to: runDirectory.appendingPathComponent(RunReports.curvesPlotFile))
        try RunReports.writeClasses(classNames, positive: positiveIndex, inputShape: [imageSize, imageSize, 3],
                                    classWeights: classWeights, to: runDirectory.appendingPathComponent(RunReports.classesFile))
        if let validation {
            if FileManager.default.fileExists(atPath: best.path) { try KerasWeights.load(best, into: model) }
            let evaluation = try trainer.evaluate(validation, usingFitCache: true)
            let report = try RunReports.writeEvaluation(
                evaluation, identifiers: (0..<validation.count).map(validation.identifier), positive: positiveIndex,
                to: runDirectory)
            RunOutput.line("\nvalidation, best epoch \(trainer.bestEpoch.map(String.init) ?? "-") (\(trainer.effectiveMonitorName(hasValidation: true))):")
            RunOutput.line(report.text)
        }
        RunOutput.line("\nwrote \(runDirectory.path)/: weights.h5 (final), best.h5, history.csv, "
              + (validation != nil ? "metrics.json, threshold_sweep.csv, threshold_sweep.svg, predictions.csv, " : "")
              + "training_curves.svg, classes.json, checkpoint/")
    }
}

extension TrainCommand {
    /// The schedule `--lr-schedule` asks for (`nil` for constant), for a run of `steps`
    /// optimizer steps in all.
    func learningRateSchedule(steps: Int) throws -> (any LearningRateSchedule)? {
        switch lrSchedule {
        case .constant:
            return nil
        case .cosine:
            let warmup = warmupSteps ?? 0
            let decay = decaySteps ?? steps - warmup
            guard decay >= 1 else {
                throw ValidationError("--warmup-steps \(warmup) leaves no steps to decay over (the run has \(steps) steps); "
                                      + "lower it or give --decay-steps")
            }
            return try CosineDecay(initialLearningRate: warmup > 0 ? 0 : lr, decaySteps: decay, alpha: cosineAlpha ?? 0,
                                   warmupTarget: warmup > 0 ? lr : nil, warmupSteps: warmup)
        case .step:
            return try StepDecay(initialLearningRate: lr, stepSize: lrStepSize ?? 1, gamma: lrGamma ?? 0.1)
        }
    }
}

extension Trainer {
    /// The metric name `fit` monitors (a `val_` metric falls back without validation).
    func effectiveMonitorName(hasValidation: Bool) -> String {
        let metric = configuration.monitor.metric
        return !hasValidation && metric.hasPrefix("val_") ? String(metric.dropFirst(4)) : metric
    }
}

/// Lines on standard output, written at once (not held in a buffer while training progress
/// goes to standard error), so a log of both reads in order.
enum RunOutput {
    static func line(_ text: String = "") {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
