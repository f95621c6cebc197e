import AtomicFiles
import Foundation
import Tensor

/// Everything `rubble evaluate` reports about predictions on a labelled set, as written to
/// `metrics.json` (keys sorted, so files diff cleanly).
///
/// Predicted class = the most probable one (argmax; the first on ties). Precision of a class
/// never predicted is 0 (scikit-learn's `zero_division=0`), recall of a class with no examples is 0;
/// the threshold sweep behind ``bestThreshold`` leaves such a precision undefined instead.
/// ROC-AUC and average precision are `null` when undefined (only one kind of example present).
public struct EvaluationReport: Sendable, Codable, Equatable {
    /// The positive class's suggested threshold: the middle of the best-F1 plateau of the
    /// sweep (``ThresholdSweep/bestF1``; the same value the sweep plot marks and ``text`` prints).
    public struct BestThreshold: Sendable, Codable, Equatable {
        public var threshold: Double
        public var f1: Double
        /// `nil` (JSON `null`) when nothing is predicted positive at the threshold, which can
        /// only happen when the best F1 is 0.
        public var precision: Double?
        public var recall: Double
        /// The first and last threshold of the best-F1 plateau (`threshold` is its middle);
        /// `nil` in reports written before they were recorded.
        public var plateauLow: Double?
        public var plateauHigh: Double?

        /// Writes an undefined precision as `null` rather than leaving the key out.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(threshold, forKey: .threshold)
            try container.encode(f1, forKey: .f1)
            try container.encode(precision, forKey: .precision)
            try container.encode(recall, forKey: .recall)
            try container.encodeIfPresent(plateauLow, forKey: .plateauLow)
            try container.encodeIfPresent(plateauHigh, forKey: .plateauHigh)
        }
    }

    public var classNames: [String]
    public var count: Int
    public var accuracy: Double
    /// `[K]`, class order.
    public var perClass: [ClassMetrics]
    public var macro: AveragedMetrics
    public var weighted: AveragedMetrics
    /// `[K][K]`, rows = truth, columns = prediction.
    public var confusionMatrix: [[Int]]
    public var positiveClass: String
    /// ROC-AUC of the positive class's probability (scikit-learn `roc_auc_score`).
    public var rocAUC: Double?
    /// Average precision (PR-AUC) of the positive class (scikit-learn `average_precision_score`).
    public var averagePrecision: Double?
    public var bestThreshold: BestThreshold
    /// Mean loss, if the caller measured it.
    public var loss: Double?

    /// Computes the report from per-example probabilities `[n][K]` and true labels `[n]`.
    /// - Parameter positive: the positive class index (see ``BinaryMetrics/positiveClassIndex(_:requested:)``).
    public init(probabilities: [[Float]], labels: [Int], classNames: [String], positive: Int, loss: Double? = nil) throws {
        let matrix = try ConfusionMatrix(classNames: classNames, truth: labels,
                                         predicted: BinaryMetrics.argmax(probabilities))
        let sweep = try ThresholdSweep(probabilities: probabilities, labels: labels, classNames: classNames,
                                       positive: positive)
        let scores = probabilities.map { $0[positive] }
        let positives = labels.map { $0 == positive }
        self.init(matrix: matrix, positive: positive, rocAUC: BinaryMetrics.rocAUC(scores: scores, positives: positives),
                  averagePrecision: BinaryMetrics.averagePrecision(scores: scores, positives: positives),
                  sweep: sweep, loss: loss)
    }

    /// From a model output tensor `[n, K]` of probabilities.
    public init(probabilities: Tensor, labels: [Int], classNames: [String], positive: Int, loss: Double? = nil) throws {
        guard probabilities.rank == 2, probabilities.shape[1] == classNames.count else {
            throw MetricsError.invalid("probabilities \(probabilities.shape) for \(classNames.count) classes")
        }
        let k = classNames.count
        let values = probabilities.scalars
        let rows = (0..<probabilities.shape[0]).map { Array(values[$0 * k..<($0 + 1) * k]) }
        try self.init(probabilities: rows, labels: labels, classNames: classNames, positive: positive, loss: loss)
    }

    /// Assembles a report from parts already computed.
    public init(matrix: ConfusionMatrix, positive: Int, rocAUC: Double?, averagePrecision: Double?,
                sweep: ThresholdSweep, loss: Double? = nil) {
        classNames = matrix.classNames
        count = matrix.total
        accuracy = matrix.accuracy
        perClass = matrix.perClass
        macro = matrix.macro
        weighted = matrix.weighted
        confusionMatrix = matrix.counts
        positiveClass = matrix.classNames[positive]
        self.rocAUC = rocAUC
        self.averagePrecision = averagePrecision
        let best = sweep.bestF1
        let plateau = sweep.bestF1Plateau
        bestThreshold = BestThreshold(threshold: best.threshold, f1: best.positiveF1,
                                      precision: best.positivePrecision, recall: best.positiveRecall,
                                      plateauLow: sweep.rows[plateau.lowerBound].threshold,
                                      plateauHigh: sweep.rows[plateau.upperBound].threshold)
        self.loss = loss
    }

    /// Pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Writes `metrics.json` (or any name) atomically.
    public func write(to url: URL) throws {
        try AtomicFile.write(try jsonData(), to: url)
    }

    /// " (middle of the best-F1 plateau 0.21-0.30)" when the plateau is wider than one step.
    private var plateauText: String {
        guard let low = bestThreshold.plateauLow, let high = bestThreshold.plateauHigh, high > low else { return "" }
        return String(format: " (middle of the best-F1 plateau %.2f-%.2f)", low, high)
    }

    /// Several lines for the terminal: accuracy, per-class table, macro averages, AUCs, confusion matrix.
    public var text: String {
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        let width = max(10, (classNames.map(\.count).max() ?? 0) + 2)
        func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        var lines = ["accuracy \(f(accuracy)) on \(count) examples" + (loss.map { ", loss \(f($0))" } ?? "")]
        lines.append(pad("", width) + pad("precision", 11) + pad("recall", 9) + pad("f1", 9) + pad("support", 9))
        for c in perClass {
            lines.append(pad(c.name, width) + pad(f(c.precision), 11) + pad(f(c.recall), 9) + pad(f(c.f1), 9)
                         + pad(String(c.support), 9))
        }
        lines.append(pad("macro avg", width) + pad(f(macro.precision), 11) + pad(f(macro.recall), 9) + pad(f(macro.f1), 9)
                     + pad(String(count), 9))
        lines.append("positive class '\(positiveClass)': ROC-AUC \(rocAUC.map(f) ?? "n/a"), "
                     + "average precision \(averagePrecision.map(f) ?? "n/a"), best F1 \(f(bestThreshold.f1)) at threshold "
                     + String(format: "%.2f", bestThreshold.threshold) + plateauText)
        if let matrix = try? ConfusionMatrix(classNames: classNames, counts: confusionMatrix) {
            lines.append(matrix.table)
        }
        return lines.joined(separator: "\n")
    }
}
