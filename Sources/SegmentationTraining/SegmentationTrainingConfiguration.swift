import Segmentation
import Foundation
import Train

/// How ``SegmentationTrainer`` trains: the SegFormer fine-tuning recipe by default (AdamW
/// lr 6e-5, weight decay 0.01, betas 0.9 / 0.999, epsilon 1e-8 added as PyTorch adds it;
/// polynomial decay of power 1 to 0 over the run's steps; mmseg's random scale 0.5-2, crop and
/// flip).
public struct SegmentationTrainingConfiguration: Sendable {
    /// Epochs of the whole run (a resumed run counts the epochs already done).
    public var epochs: Int
    /// A budget of steps (batches) for the whole run: training ends after `epochs` epochs or
    /// this many steps, whichever comes first (the last epoch may then be shorter).
    public var maxSteps: Int?
    public var batchSize: Int
    public var learningRate: Float
    public var weightDecay: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    /// Share of the pairs held out for validation (seeded split), in (0, 1).
    public var validationFraction: Double
    /// Seeds the split, the shuffles, the augmentation and the dropout / drop-path draws.
    public var seed: UInt64
    /// One weight per class for the training loss, or `nil` (every weight 1).
    public var classWeights: [Float]?
    public var augmentation: SegmentationAugmentation
    /// Trains the decode head only: the encoder's weights are frozen (its output gets no
    /// gradient, so a step costs about a forward pass of the encoder).
    public var freezeEncoder: Bool
    /// Permits training masks whose labelled pixels are all of one class (refused by default:
    /// such a model predicts that class everywhere and scores perfectly on the same data).
    public var allowSingleClass: Bool
    /// `history.csv`, `metrics.json`, `best/`, `last/` and `checkpoint/` go here (nothing is
    /// written without it).
    public var outputDirectory: URL?
    /// Continue the run in `outputDirectory` from its checkpoint (the settings must match).
    public var resume: Bool
    /// Stop after this many completed epochs of the run (the checkpoint then continues it), e.g.
    /// to spread a long run over sessions; `nil` runs to the end.
    public var stopAfterEpochs: Int?
    public var progress: ProgressMode
    /// Training batches decoded and augmented ahead of the compute, on a background thread.
    public var prefetchDepth: Int

    public init(epochs: Int = 10, maxSteps: Int? = nil, batchSize: Int = 8, learningRate: Float = 6e-5,
                weightDecay: Float = 0.01, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                validationFraction: Double = 0.2, seed: UInt64 = 0, classWeights: [Float]? = nil,
                augmentation: SegmentationAugmentation = .mmseg, freezeEncoder: Bool = false,
                allowSingleClass: Bool = false, outputDirectory: URL? = nil, resume: Bool = false,
                stopAfterEpochs: Int? = nil, progress: ProgressMode = .silent, prefetchDepth: Int = 2) {
        self.epochs = epochs
        self.maxSteps = maxSteps
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.validationFraction = validationFraction
        self.seed = seed
        self.classWeights = classWeights
        self.augmentation = augmentation
        self.freezeEncoder = freezeEncoder
        self.allowSingleClass = allowSingleClass
        self.outputDirectory = outputDirectory
        self.resume = resume
        self.stopAfterEpochs = stopAfterEpochs
        self.progress = progress
        self.prefetchDepth = prefetchDepth
    }

    /// Checks every value against what a run can use.
    /// - Throws: ``SegmentationTrainingError/invalidSetting(name:value:requirement:)``.
    public func validate(classes: Int) throws {
        func fail(_ name: String, _ value: Any, _ requirement: String) -> SegmentationTrainingError {
            .invalidSetting(name: name, value: "\(value)", requirement: requirement)
        }
        guard epochs >= 1 else { throw fail("epochs", epochs, "must be >= 1") }
        if let maxSteps, maxSteps < 1 { throw fail("step budget", maxSteps, "must be >= 1") }
        guard batchSize >= 1 else { throw fail("batch size", batchSize, "must be >= 1") }
        guard learningRate.isFinite, learningRate > 0 else { throw fail("learning rate", learningRate, "must be a finite number > 0") }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw fail("weight decay", weightDecay, "must be a finite number >= 0") }
        guard beta1 >= 0, beta1 < 1 else { throw fail("beta1", beta1, "must be in [0, 1)") }
        guard beta2 >= 0, beta2 < 1 else { throw fail("beta2", beta2, "must be in [0, 1)") }
        guard epsilon.isFinite, epsilon > 0 else { throw fail("epsilon", epsilon, "must be a finite number > 0") }
        guard validationFraction > 0, validationFraction < 1 else {
            throw fail("validation fraction", validationFraction, "must be between 0 and 1 (exclusive): the run is judged on it")
        }
        if let classWeights {
            guard classWeights.count == classes, classWeights.allSatisfy({ $0.isFinite && $0 >= 0 }),
                  classWeights.contains(where: { $0 > 0 }) else {
                throw fail("class weights", classWeights, "must be \(classes) finite numbers >= 0 (one per class, not all 0)")
            }
        }
        if let stopAfterEpochs, stopAfterEpochs < 1 { throw fail("stop after epochs", stopAfterEpochs, "must be >= 1") }
        guard prefetchDepth >= 1 else { throw fail("prefetch depth", prefetchDepth, "must be >= 1") }
        if resume && outputDirectory == nil {
            throw fail("resume", true, "needs an output directory holding the run's checkpoint")
        }
    }
}
