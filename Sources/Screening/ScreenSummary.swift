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
    /// Photos the relevancy filter labelled `irrelevant` (the damage model skipped them).
    public var irrelevant = 0
    /// Whether the run had a relevancy filter.
    public var filtersRelevance = false
    /// Photos of this screen already answered by an earlier run (skipped by digest).
    public var resumed = 0
    /// Photos the model was run on whose probabilities were not finite (NaN or infinite):
    /// error rows, neither classified nor flagged.
    public var nonFinite = 0
    /// Whether the run assessed the damage severity of flagged photos (a ``DamageAssessor`` was given).
    public var assessesSeverity = false
    /// Flagged photos the assessor answered for (with or without structure in view).
    public var assessed = 0
    /// Flagged photos that got a severity (structure in view); ``severityTotal`` sums their scores.
    public var scored = 0
    public var severityTotal = 0.0
    /// Severity panels written (`segment/<stem>_segment.png`).
    public var severityPanels = 0
    public var seconds = 0.0
    public var stopped = false
    public var times = StageTimes(["read+digest", "decode", "hash", "dedup", "classify", "explain", "write"])

    /// The mean severity of the scored photos (nil when none was scored).
    public var meanSeverity: Double? { scored > 0 ? severityTotal / Double(scored) : nil }

    /// One line of counts.
    public var line: String {
        "\(images) photos: \(classified) classified, \(flagged) flagged, \(exactDuplicates) exact and "
            + "\(nearDuplicates) near duplicates, \(tooSmall) too small, \(unreadable) unreadable"
            + (filtersRelevance ? ", \(irrelevant) irrelevant" : "")
            + (nonFinite > 0 ? ", \(nonFinite) with non-finite model output" : "")
            + (assessesSeverity ? ", \(severityLine)" : "")
    }

    /// `3 of 4 flagged scored for severity (mean 0.42)`: how many flagged photos got a severity
    /// (the others had no structure in view, or could not be assessed), and their mean.
    public var severityLine: String {
        "\(scored) of \(flagged) flagged scored for severity"
            + (meanSeverity.map { String(format: " (mean %.3f)", $0) } ?? "")
    }

    /// Whether the model was run on photos and gave non-finite output for every one of them
    /// (broken weights: a run that classified nothing must not look like a clean one).
    public var modelFailedOnEveryPhoto: Bool { nonFinite > 0 && classified == 0 }

    /// The per-stage table plus the end-to-end rate (photos handled per second of wall time).
    public var table: String { times.table(total: (images, seconds)) }
}

