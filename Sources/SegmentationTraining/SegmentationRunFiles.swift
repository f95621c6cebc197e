import Foundation
import Segmentation
import Train

/// The files of a segmentation run directory.
public struct SegmentationRunFiles: Sendable {
    public let directory: URL
    public init(directory: URL) { self.directory = directory }
    /// One line per epoch (``SegmentationHistory/csvHeader``).
    public var history: URL { directory.appendingPathComponent("history.csv") }
    /// The best epoch's and the last epoch's validation metrics.
    public var metrics: URL { directory.appendingPathComponent("metrics.json") }
    /// Hugging Face folders: the best epoch's model (highest validation mIoU) and the last one.
    public var best: URL { directory.appendingPathComponent("best", isDirectory: true) }
    public var last: URL { directory.appendingPathComponent("last", isDirectory: true) }
    public var checkpoint: URL { directory.appendingPathComponent("checkpoint", isDirectory: true) }
    public var checkpointFile: URL { SegmentationCheckpoint.url(in: checkpoint) }
}
