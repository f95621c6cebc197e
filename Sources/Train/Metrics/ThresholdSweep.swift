import AtomicFiles
import Foundation

/// Precision and recall of both classes as the decision threshold on the positive class's
/// probability moves from 0.00 to 1.00 in steps of 0.01 (the paper's Figure 3): an example is
/// predicted positive when `p_pos >= t` (compared as `Float`, `t = Float(i) / 100`), else negative.
///
/// With more than two classes the "negative class" is every other class together, named `rest`.
///
/// Precision of a class that is never predicted at a threshold is **undefined**: it is `nil`
/// here, an empty field in ``csv`` and a gap in the plotted line (``Plots/thresholdSweep(_:chosen:title:)``),
/// never a made-up 0 (at high thresholds nothing is predicted positive, at threshold 0 nothing
/// negative). Recall of a class without examples is 0 and F1 is `2TP / (2TP + FP + FN)`, 0 when
/// that is 0/0, as scikit-learn's `zero_division=0`.
public struct ThresholdSweep: Sendable, Hashable, Codable {
    /// One threshold's scores.
    public struct Row: Sendable, Hashable, Codable {
        public var threshold: Double
        /// `nil` when nothing is predicted negative at this threshold.
        public var negativePrecision: Double?
        public var negativeRecall: Double
        /// `nil` when nothing is predicted positive at this threshold.
        public var positivePrecision: Double?
        public var positiveRecall: Double
        /// F1 of the positive class.
        public var positiveF1: Double
        /// Share of all examples classified correctly.
        public var accuracy: Double
    }

    public let negativeName: String
    public let positiveName: String
    /// 101 rows, thresholds 0.00, 0.01, ..., 1.00.
    public let rows: [Row]

    /// - Parameters: `positiveScores[i]` is example `i`'s probability of the positive class;
    ///   `positives[i]` whether it truly is positive.
    public init(positiveScores: [Float], positives: [Bool], negativeName: String, positiveName: String,
                steps: Int = 100) {
        precondition(positiveScores.count == positives.count, "\(positiveScores.count) scores for \(positives.count) labels")
        precondition(steps > 0)
        self.negativeName = negativeName
        self.positiveName = positiveName
        let n = positives.count
        func ratio(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : Double(a) / Double(b) }
        rows = (0...steps).map { i in
            let t = Float(i) / Float(steps)
            var tp = 0, fp = 0, fn = 0, tn = 0
            for (score, positive) in zip(positiveScores, positives) {
                switch (score >= t, positive) {
                case (true, true): tp += 1
                case (true, false): fp += 1
                case (false, true): fn += 1
                case (false, false): tn += 1
                }
            }
            return Row(threshold: Double(i) / Double(steps),
                       negativePrecision: ratio(tn, tn + fn), negativeRecall: ratio(tn, tn + fp) ?? 0,
                       positivePrecision: ratio(tp, tp + fp), positiveRecall: ratio(tp, tp + fn) ?? 0,
                       positiveF1: ratio(2 * tp, 2 * tp + fp + fn) ?? 0,
                       accuracy: n == 0 ? 0 : Double(tp + tn) / Double(n))
        }
    }

    /// Sweep for `probabilities` (`[n][K]`) and true `labels` with class `positive` as positive.
    public init(probabilities: [[Float]], labels: [Int], classNames: [String], positive: Int) throws {
        guard positive >= 0 && positive < classNames.count else {
            throw MetricsError.invalid("positive class \(positive) outside 0..<\(classNames.count)")
        }
        guard probabilities.count == labels.count else {
            throw MetricsError.invalid("\(probabilities.count) predictions for \(labels.count) labels")
        }
        guard probabilities.allSatisfy({ $0.count == classNames.count }) else {
            throw MetricsError.invalid("every prediction needs \(classNames.count) probabilities")
        }
        let negativeName = classNames.count == 2 ? classNames[1 - positive] : "rest"
        self.init(positiveScores: probabilities.map { $0[positive] }, positives: labels.map { $0 == positive },
                  negativeName: negativeName, positiveName: classNames[positive])
    }

    /// The indices of the **best-F1 plateau**: the run of consecutive thresholds whose
    /// positive-class F1 equals the largest F1 of the sweep (within 1e-12). When several
    /// separate runs reach the maximum, the longest one; among equally long ones, the first
    /// (lowest thresholds).
    public var bestF1Plateau: ClosedRange<Int> {
        let best = rows.map(\.positiveF1).max() ?? 0
        func isBest(_ i: Int) -> Bool { abs(rows[i].positiveF1 - best) <= 1e-12 }
        var chosen: ClosedRange<Int>?
        var i = 0
        while i < rows.count {
            guard isBest(i) else { i += 1; continue }
            var j = i
            while j + 1 < rows.count && isBest(j + 1) { j += 1 }
            if j - i + 1 > chosen?.count ?? 0 { chosen = i...j }  // strictly longer: the first wins ties
            i = j + 1
        }
        return chosen ?? 0...0
    }

    /// The suggested threshold's row: the **middle of the best-F1 plateau**
    /// (``bestF1Plateau``), not its first point, so that the suggestion sits as far as the
    /// data allow from the thresholds where F1 drops. With an odd number of thresholds on the
    /// plateau it is the middle one (0.30...0.50 gives 0.40); with an even number, the lower of
    /// the two middle ones (0.21...0.30 gives 0.25). `metrics.json` (`bestThreshold`), the
    /// text report and the sweep plot all report this row.
    public var bestF1: Row {
        let plateau = bestF1Plateau
        return rows[plateau.lowerBound + (plateau.count - 1) / 2]
    }

    /// The row for threshold `t` (nearest step).
    public func row(at t: Double) -> Row {
        let steps = rows.count - 1
        return rows[min(max(Int((t * Double(steps)).rounded()), 0), steps)]
    }

    /// `threshold,precision_<neg>,recall_<neg>,precision_<pos>,recall_<pos>` then one line per
    /// threshold (threshold with 2 decimals, scores with 6). An undefined precision is an empty
    /// field (`0.99,0.512000,1.000000,,0.000000`). Class names with commas, quotes or spaces
    /// are quoted as CSV requires.
    public var csv: String {
        func field(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == " " })
                ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        func score(_ value: Double?) -> String { value.map { String(format: "%.6f", $0) } ?? "" }
        var lines = ["threshold," + ["precision_\(negativeName)", "recall_\(negativeName)",
                                     "precision_\(positiveName)", "recall_\(positiveName)"].map(field).joined(separator: ",")]
        for row in rows {
            lines.append([String(format: "%.2f", row.threshold), score(row.negativePrecision), score(row.negativeRecall),
                          score(row.positivePrecision), score(row.positiveRecall)].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes ``csv`` atomically.
    public func writeCSV(to url: URL) throws {
        try AtomicFile.write(Data(csv.utf8), to: url)
    }
}
