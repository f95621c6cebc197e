import Foundation
import Layers
import Tensor

/// Writes a model's weights to a file for `fit` (`TrainingConfiguration.saveWeights`): `best.h5`
/// whenever the monitored metric improves and `weights.h5` at the end, each in the run's
/// `outputDirectory`. It is called with the model, the file, the class names in output (label)
/// order and the input shape `[height, width, channels]`, so that the file can describe the model.
/// KerasFiles' `KerasWeights.saver(format:metadata:)` makes one that writes Keras weights files
/// with Rubble's metadata attributes; Train itself writes no weights format.
public typealias WeightsSaver = @Sendable (_ model: any Layer, _ url: URL, _ classNames: [String], _ inputShape: [Int]) throws -> Void

/// How `Trainer.fit` runs: epochs, batching, class weights, caching, outputs.
///
/// The defaults follow Keras' `fit`: batch 32, shuffled every epoch, no class weights, best
/// model chosen on `val_loss`. Everything that changes the numbers (batch size, shuffling,
/// seed, class weights, augmentation) is recorded in a checkpoint and checked on resume.
public struct TrainingConfiguration: Sendable {
    /// Total epochs; `fit` on a restored trainer runs the ones not yet completed.
    public var epochs: Int
    /// Examples per step; the last batch of an epoch may be smaller (Keras keeps it).
    public var batchSize: Int
    /// Visit the training examples in a new seeded order every epoch
    /// (`epochOrder(count:epoch:seed:)`); `false` keeps example order (Keras `shuffle=False`).
    public var shuffle: Bool
    /// Seeds the per-epoch order and the per-batch augmentation.
    public var seed: UInt64
    /// One weight per class (Keras `class_weight`); `nil` weighs every example 1. They weigh
    /// the training loss only; validation loss is unweighted, as in Keras.
    public var classWeights: [Float]?
    /// Random changes to training images; `nil` (or an identity augmentation) for none.
    public var augmentation: Augmentation?
    /// Compute the frozen prefix once per image and train from the cached features, when the
    /// model and the augmentation allow it (see `FrozenPrefix` and `FeatureCache`). The result
    /// is the same as without the cache.
    public var featureCache: Bool
    /// Bytes of cached features kept in memory (training and validation together); beyond it
    /// features spill to an unlinked temporary file.
    public var cacheMemoryBudget: Int
    /// Where the spill file goes; `nil`: `outputDirectory`, else the temporary directory.
    public var cacheDirectory: URL?
    /// The metric that picks the best epoch (`best.h5`) and drives early stopping.
    public var monitor: Monitor
    /// Stop when `monitor` has not improved for this many epochs (Keras `EarlyStopping`
    /// with `min_delta=0`); `nil` never stops early.
    public var earlyStoppingPatience: Int?
    /// The run directory: `history.csv`, `best.h5`, `weights.h5` (final; both through
    /// `saveWeights`) and `checkpoint/`. `nil` writes nothing.
    public var outputDirectory: URL?
    /// Progress on standard error. `.silent` by default: the library prints nothing unless
    /// asked (the command-line tool asks for `.automatic`). `fit`'s `callbacks` report to code.
    public var progress: ProgressMode
    /// Batches prepared ahead of the compute by the background loader.
    public var prefetchDepth: Int
    /// `[height, width, channels]`, recorded in the checkpoint and handed to `saveWeights`; `nil`
    /// takes the shape of the first training example.
    public var inputShape: [Int]?
    /// Writes `best.h5` and `weights.h5` into `outputDirectory` (see ``WeightsSaver``), e.g.
    /// `KerasWeights.saver(metadata:)` from KerasFiles. Required with an `outputDirectory`:
    /// `fit` refuses to start without one (`TrainingError.invalidConfiguration`) rather than
    /// leave a run without its weights files; a saver that does nothing (`{ _, _, _, _ in }`)
    /// asks for a run directory with only the history and the checkpoint. Not used without an
    /// `outputDirectory`.
    public var saveWeights: WeightsSaver?

    public init(epochs: Int = 10, batchSize: Int = 32, shuffle: Bool = true, seed: UInt64 = 0,
                classWeights: [Float]? = nil, augmentation: Augmentation? = nil, featureCache: Bool = true,
                cacheMemoryBudget: Int = 2 << 30, cacheDirectory: URL? = nil, monitor: Monitor = .validationLoss,
                earlyStoppingPatience: Int? = nil, outputDirectory: URL? = nil, progress: ProgressMode = .silent,
                prefetchDepth: Int = 2, inputShape: [Int]? = nil, saveWeights: WeightsSaver? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.classWeights = classWeights
        self.augmentation = augmentation
        self.featureCache = featureCache
        self.cacheMemoryBudget = cacheMemoryBudget
        self.cacheDirectory = cacheDirectory
        self.monitor = monitor
        self.earlyStoppingPatience = earlyStoppingPatience
        self.outputDirectory = outputDirectory
        self.progress = progress
        self.prefetchDepth = prefetchDepth
        self.inputShape = inputShape
        self.saveWeights = saveWeights
    }

    /// The augmentation actually applied: `nil` when absent or an identity.
    var effectiveAugmentation: Augmentation? {
        guard let augmentation, !augmentation.isIdentity else { return nil }
        return augmentation
    }

    /// Checks the values that have to be positive or well formed.
    func validate(classes: Int) throws {
        guard epochs >= 0 else { throw TrainingError.invalidConfiguration("epochs must be >= 0, got \(epochs)") }
        guard batchSize >= 1 else {
            throw TrainingError.invalidConfiguration("batch size must be >= 1, got \(batchSize)")
        }
        if let classWeights {
            guard classWeights.count == classes else {
                throw TrainingError.invalidConfiguration(
                    "\(classWeights.count) class weights for \(classes) classes")
            }
            guard classWeights.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw TrainingError.invalidConfiguration("class weights must be finite and >= 0: \(classWeights)")
            }
        }
        if let patience = earlyStoppingPatience, patience < 1 {
            throw TrainingError.invalidConfiguration("early-stopping patience must be >= 1, got \(patience)")
        }
        guard cacheMemoryBudget >= 0 else {
            throw TrainingError.invalidConfiguration("cache memory budget must be >= 0")
        }
        if let outputDirectory, saveWeights == nil {
            throw TrainingError.invalidConfiguration(
                "the output directory \(outputDirectory.path) needs saveWeights to write best.h5 and weights.h5 "
                    + "(KerasFiles' KerasWeights.saver(metadata:) writes Keras files; { _, _, _, _ in } writes none)")
        }
    }
}

/// A metric of the history (`loss`, `accuracy`, `val_loss`, `val_accuracy`,
/// `precision_<class>`, `recall_<class>`) and whether lower or higher is better.
public struct Monitor: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Mode: String, Sendable, Hashable, Codable { case min, max }

    public var metric: String
    public var mode: Mode

    /// `mode` defaults as Keras' `"auto"`: `min` for names containing "loss", else `max`.
    public init(_ metric: String, mode: Mode? = nil) {
        self.metric = metric
        self.mode = mode ?? (metric.contains("loss") ? .min : .max)
    }

    public static let validationLoss = Monitor("val_loss")
    public static let validationAccuracy = Monitor("val_accuracy")

    public var description: String { "\(metric) (\(mode == .min ? "lower" : "higher") is better)" }

    /// Whether `value` improves on `best` (strictly, as Keras with `min_delta=0`); NaN never does.
    public func isImprovement(_ value: Double, over best: Double?) -> Bool {
        guard !value.isNaN else { return false }
        guard let best else { return true }
        return mode == .min ? value < best : value > best
    }

    /// Whether `record` carries this metric given `classNames` (for checking before training).
    func isKnown(classNames: [String]) -> Bool {
        let names = ["loss", "accuracy", "val_loss", "val_accuracy"]
            + classNames.flatMap { ["precision_\($0)", "recall_\($0)", "val_precision_\($0)", "val_recall_\($0)"] }
        return names.contains(metric)
    }
}

/// Where progress goes.
public enum ProgressMode: Sendable, Equatable {
    /// A `\r`-updated line when standard error is a terminal, plain lines otherwise.
    case automatic
    /// Always plain lines (one every few seconds and one per epoch).
    case plain
    /// Nothing.
    case silent
}

/// Why training stopped with an error.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss of a training step (1-based `epoch` and `step`) is NaN or infinite. Training
    /// stops before that step's update; the checkpoint of the last completed epoch is intact.
    case nonFiniteLoss(epoch: Int, step: Int)
    /// The gradients of a training step are NaN or infinite although its loss is finite (a bad
    /// input value the forward pass hid). Training stops before that step's update.
    case nonFiniteGradient(epoch: Int, step: Int)
    /// The validation loss of `epoch` is NaN or infinite (no checkpoint was written for it).
    case nonFiniteValidationLoss(epoch: Int)
    /// The weights became NaN or infinite during `epoch` (no checkpoint was written for it).
    case nonFiniteWeights(epoch: Int)
    /// The model has no trainable parameter.
    case nothingToTrain
    /// A configuration value is out of range.
    case invalidConfiguration(String)
    /// The examples do not fit the model or each other (class names, shapes).
    case dataMismatch(String)
    /// A checkpoint could not be read or does not belong to this model / configuration.
    case checkpoint(String)
    /// `Trainer.cancel()` stopped training before step `step` of `epoch`; the files of the
    /// last completed epoch are intact.
    case cancelled(epoch: Int, step: Int)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(epoch, step):
            return "the training loss became NaN or infinite at epoch \(epoch), step \(step) "
                + "(learning rate too high, or a bad input?); training stopped before that update"
        case let .nonFiniteGradient(epoch, step):
            return "the gradients became NaN or infinite at epoch \(epoch), step \(step) (a bad input value?); "
                + "training stopped before that update"
        case let .nonFiniteValidationLoss(epoch):
            return "the validation loss of epoch \(epoch) is NaN or infinite; training stopped"
        case let .nonFiniteWeights(epoch):
            return "the weights became NaN or infinite during epoch \(epoch); training stopped"
        case .nothingToTrain:
            return "the model has no trainable parameters (is everything frozen?)"
        case let .invalidConfiguration(message):
            return "invalid training configuration: \(message)"
        case let .dataMismatch(message):
            return "data does not fit: \(message)"
        case let .checkpoint(message):
            return "checkpoint: \(message)"
        case let .cancelled(epoch, step):
            return "training was cancelled before step \(step) of epoch \(epoch); the last completed epoch's files are intact"
        }
    }
}
