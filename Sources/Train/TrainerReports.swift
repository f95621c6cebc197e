import AtomicFiles
import Foundation

/// The files a training or evaluation run leaves for people: metrics, threshold sweep, plots,
/// per-image predictions, class list. Shared by `rubble train`, `rubble evaluate` and the demo
/// so that they write the same thing; the numbers come from `EvaluationReport`,
/// `ThresholdSweep` and `Plots`.
public enum RunReports {
    /// File names inside a run or evaluation directory.
    public static let metricsFile = "metrics.json"
    public static let sweepFile = "threshold_sweep.csv"
    public static let sweepPlotFile = "threshold_sweep.svg"
    public static let predictionsFile = "predictions.csv"
    public static let curvesPlotFile = "training_curves.svg"
    public static let classesFile = "classes.json"

    /// The metrics of `evaluation` with `positive` as the positive class. With two classes and
    /// a `threshold`, an example is predicted positive when its positive-class probability is
    /// at least `threshold` (the confusion matrix and per-class numbers follow it); otherwise
    /// by argmax.
    public static func report(_ evaluation: Evaluation, positive: Int, threshold: Double? = nil) throws -> EvaluationReport {
        let predicted = predictions(evaluation, positive: positive, threshold: threshold)
        let matrix = try ConfusionMatrix(classNames: evaluation.classNames, truth: evaluation.labels, predicted: predicted)
        let sweep = try ThresholdSweep(probabilities: evaluation.probabilities, labels: evaluation.labels,
                                       classNames: evaluation.classNames, positive: positive)
        let scores = evaluation.probabilities.map { $0[positive] }
        let positives = evaluation.labels.map { $0 == positive }
        return EvaluationReport(matrix: matrix, positive: positive,
                                rocAUC: BinaryMetrics.rocAUC(scores: scores, positives: positives),
                                averagePrecision: BinaryMetrics.averagePrecision(scores: scores, positives: positives),
                                sweep: sweep, loss: evaluation.loss)
    }

    /// Predicted class per example: thresholded on the positive class with two classes and a
    /// threshold, argmax otherwise.
    public static func predictions(_ evaluation: Evaluation, positive: Int, threshold: Double?) -> [Int] {
        guard let threshold, evaluation.classNames.count == 2 else { return evaluation.predictions }
        return evaluation.probabilities.map { Double($0[positive]) >= threshold ? positive : 1 - positive }
    }

    /// Writes `metrics.json` (the report plus `threshold` and `decision`, and any `extra`
    /// top-level keys), `threshold_sweep.csv`, `threshold_sweep.svg` and `predictions.csv`
    /// (`path,label,p0,p1,...,predicted`) into `directory`; returns the report.
    ///
    /// The sweep plot marks this set's suggested threshold, or `marked` (named by
    /// `markedLabel`, e.g. a threshold chosen on another set) when given.
    @discardableResult
    public static func writeEvaluation(_ evaluation: Evaluation, identifiers: [String], positive: Int,
                                       threshold: Double? = nil, to directory: URL,
                                       title: String? = nil, extra: [String: Any] = [:],
                                       marked: Double? = nil, markedLabel: String? = nil) throws -> EvaluationReport {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let report = try self.report(evaluation, positive: positive, threshold: threshold)
        var json = try JSONSerialization.jsonObject(with: try report.jsonData()) as? [String: Any] ?? [:]
        json["threshold"] = threshold ?? NSNull()
        json["decision"] = threshold != nil && evaluation.classNames.count == 2 ? "p(positive) >= threshold" : "argmax"
        json.merge(extra) { _, new in new }
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: directory.appendingPathComponent(metricsFile))

        let sweep = try ThresholdSweep(probabilities: evaluation.probabilities, labels: evaluation.labels,
                                       classNames: evaluation.classNames, positive: positive)
        try sweep.writeCSV(to: directory.appendingPathComponent(sweepFile))
        try Plots.thresholdSweep(sweep, chosen: marked, chosenLabel: markedLabel, title: title)
            .write(to: directory.appendingPathComponent(sweepPlotFile))
        try AtomicFile.write(predictionsCSV(evaluation, identifiers: identifiers, positive: positive, threshold: threshold),
                              to: directory.appendingPathComponent(predictionsFile))
        return report
    }

    /// One sweep row as JSON: `threshold`, `precision` (`null` when undefined), `recall`,
    /// `f1`, `accuracy` (the positive class's, as in `bestThreshold`).
    public static func json(_ row: ThresholdSweep.Row) -> [String: Any] {
        ["threshold": row.threshold, "precision": row.positivePrecision ?? NSNull(), "recall": row.positiveRecall,
         "f1": row.positiveF1, "accuracy": row.accuracy]
    }

    /// `path,label,p0,p1,...,predicted`: one line per example, labels and predictions as class names.
    public static func predictionsCSV(_ evaluation: Evaluation, identifiers: [String], positive: Int,
                                      threshold: Double?) -> String {
        let predicted = predictions(evaluation, positive: positive, threshold: threshold)
        let names = evaluation.classNames
        var lines = [(["path", "label"] + names.indices.map { "p\($0)" } + ["predicted"]).joined(separator: ",")]
        for (i, row) in evaluation.probabilities.enumerated() {
            let path = i < identifiers.count ? identifiers[i] : "#\(i)"
            lines.append(([field(path), field(names[evaluation.labels[i]])] + row.map { String(format: "%.6f", $0) }
                          + [field(names[predicted[i]])]).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The paper's training curves (loss and accuracy, training solid, validation dashed).
    ///
    /// - Parameters:
    ///   - bestEpoch: marked in every panel as `best epoch N (monitor)` (the epoch `best.h5` holds).
    ///   - monitor: the metric that picked it, e.g. `val_loss`.
    ///   - classWeighted: whether the training loss was class-weighted; the subtitle says so
    ///     and that the validation loss is unweighted (as in Keras). `nil` (not known) says
    ///     only what is always true.
    public static func writeTrainingCurves(_ history: History, to url: URL, title: String? = nil,
                                           bestEpoch: Int? = nil, monitor: String? = nil,
                                           classWeighted: Bool? = nil) throws {
        var metrics: [String: [Double]] = ["loss": history.records.map(\.loss),
                                           "accuracy": history.records.map(\.accuracy)]
        let validated = history.records.allSatisfy({ $0.validationLoss != nil }) && !history.records.isEmpty
        if validated {
            metrics["val_loss"] = history.records.map { $0.validationLoss! }
            metrics["val_accuracy"] = history.records.map { $0.validationAccuracy ?? .nan }
        }
        try Plots.trainingCurves(metrics, title: title, bestEpoch: bestEpoch, monitor: monitor,
                                 subtitle: lossWeightingNote(classWeighted: classWeighted, validation: validated))
            .write(to: url)
    }

    /// The curves of `trainer`'s last `fit`: its best epoch and monitor, and whether its
    /// configuration weighs classes (weights that are all 1 do not count).
    public static func writeTrainingCurves(_ history: History, of trainer: Trainer, to url: URL,
                                           title: String? = nil) throws {
        let validated = history.records.contains { $0.validationLoss != nil }
        let weighted = trainer.configuration.classWeights.map { !$0.allSatisfy { $0 == 1 } } ?? false
        try writeTrainingCurves(history, to: url, title: title, bestEpoch: trainer.bestEpoch,
                                monitor: trainer.effectiveMonitor(hasValidation: validated).metric,
                                classWeighted: weighted)
    }

    /// Which of the plotted losses are class-weighted, in words.
    static func lossWeightingNote(classWeighted: Bool?, validation: Bool) -> String {
        let unweightedValidation = validation ? "; validation loss (val_loss) unweighted, as in Keras" : ""
        switch classWeighted {
        case true?: return "training loss class-weighted" + unweightedValidation
        case false?: return "no class weights: " + (validation ? "training and validation losses" : "training loss")
            + " unweighted"
        case nil: return "training loss class-weighted when class weights are used" + unweightedValidation
        }
    }

    /// `classes.json`: class names in label order, the positive class, input shape, class weights.
    public static func writeClasses(_ classNames: [String], positive: Int, inputShape: [Int], classWeights: [Float]?,
                                    to url: URL) throws {
        var json: [String: Any] = ["class_names": classNames, "positive_class": classNames[positive],
                                   "input_shape": inputShape]
        // Each weight as its shortest float32 form (0.8897, not 0.88970001...).
        json["class_weights"] = classWeights.map { $0.map { Double("\($0)") ?? Double($0) } } ?? NSNull()
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: url)
    }

    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
