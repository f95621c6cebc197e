import Foundation
import Vision

/// What `rubble screen` does and how.
public struct ScreenOptions: Sendable {
    /// Class names, in the model's output order.
    public var classNames: [String]
    /// Index of the class whose probability decides what is flagged (e.g. "damage").
    public var positive: Int
    /// A photo is flagged (explained, shown in the report) when p(positive) >= threshold.
    public var threshold: Float = 0.5
    /// Near-duplicate radius in bits of pHash (imagehash's 64-bit pHash; 10 is the crisis-image default).
    public var duplicateThreshold = 10
    /// Photos smaller than this on either side (from the header) are skipped; 0 keeps all.
    public var minimumSide = 150
    /// Photos per forward pass.
    public var batchSize = 32
    /// Write Grad-CAM panels for flagged photos.
    public var explain = true
    /// Grad-CAM layer (nil: the last convolution).
    public var gradCAMLayer: String?
    /// Keep watching the folder for new photos until stopped.
    public var follow = false
    /// Seconds between polls of the folder in follow mode.
    public var pollInterval = 1.0
    /// Stop after this many seconds (the batch in progress is finished first).
    public var maxSeconds: Double?
    /// With ``follow``: seconds a photo's size, modification time and identity must stay
    /// unchanged (wall-clock time) before it is read; an empty file waits five times as long.
    public var stableSeconds = 2.0
    /// Decode and hash the next batch on another thread while the model runs.
    public var overlap = true
    /// Replace the `results.csv`, `report.html` and Grad-CAM panels of an earlier run in the
    /// output folder; without it such a folder is refused before anything is written.
    public var overwrite = false
    /// Follow symbolic links, also to files and folders outside the screened folder (see
    /// ``PhotoDirectory``); without it a link is read only when it leads to a photo inside.
    public var followSymlinks = false
    /// A description of the model for the report.
    public var modelDescription = "model"

    public init(classNames: [String], positive: Int) {
        self.classNames = classNames
        self.positive = positive
    }
}
