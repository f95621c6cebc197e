import Segmentation
import Train

/// What ``SegmentationTrainer/fit(_:)`` did.
public struct SegmentationTrainingResult: Sendable {
    public var history: SegmentationHistory
    /// The epoch of the highest validation mIoU, and its metrics (`nil` before any epoch).
    public var bestEpoch: Int?
    public var bestMetrics: SegmentationMetrics?
    /// The last completed epoch's validation metrics and loss.
    public var finalMetrics: SegmentationMetrics?
    public var trainingPairs: Int
    public var validationPairs: Int
    /// Labelled pixels of each class in the training masks (as stored, before augmentation).
    public var trainingClassPixels: [Int]
    /// Steps (batches) of the whole run, and how many are done.
    public var totalSteps: Int
    public var stepsTaken: Int
    /// Epochs of the whole run; ``completed`` once all are done.
    public var runEpochs: Int
    public var completed: Bool { history.records.count >= runEpochs }
    /// Epochs that came from the checkpoint (0 for a fresh run).
    public var resumedEpochs: Int
    /// Batches skipped in this call because every pixel of them was ignored after the crop.
    public var skippedBatches: Int
}
