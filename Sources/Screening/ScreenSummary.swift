import Foundation
import Vision

/// Counts and stage times of a finished (or stopped) run.
public struct ScreenSummary: Sendable {
    public init() {}

    public var images = 0
    public var classified = 0
    public var flagged = 0
    public var explained = 0
    public var exactDuplicates = 0
    public var nearDuplicates = 0
    public var tooSmall = 0
    public var unreadable = 0
    /// Photos the model was run on whose probabilities were not finite (NaN or infinite):
    /// error rows, neither classified nor flagged.
    public var nonFinite = 0
    public var seconds = 0.0
    public var stopped = false
    public var times = StageTimes(["read+digest", "decode", "hash", "dedup", "classify", "explain", "write"])

    /// One line of counts.
    public var line: String {
        "\(images) photos: \(classified) classified, \(flagged) flagged, \(exactDuplicates) exact and "
            + "\(nearDuplicates) near duplicates, \(tooSmall) too small, \(unreadable) unreadable"
            + (nonFinite > 0 ? ", \(nonFinite) with non-finite model output" : "")
    }

    /// Whether the model was run on photos and gave non-finite output for every one of them
    /// (broken weights: a run that classified nothing must not look like a clean one).
    public var modelFailedOnEveryPhoto: Bool { nonFinite > 0 && classified == 0 }

    /// The per-stage table plus the end-to-end rate (photos handled per second of wall time).
    public var table: String { times.table(total: (images, seconds)) }
}

