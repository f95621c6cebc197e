import ArgumentParser
import Foundation
import Inference
import Train
import Vision

/// `rubble evaluate`: metrics of a trained model on a labelled folder.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a trained model on a folder of labelled photos.",
        discussion: """
            DIR holds one sub-folder per class; their names must be the classes stored in the \
            weights file (when it stores them). Writes metrics.json (confusion matrix, per-class \
            precision/recall/F1, ROC-AUC, PR-AUC as average precision, best-F1 threshold), \
            threshold_sweep.csv, threshold_sweep.svg and predictions.csv \
            (path,label,p0,p1,...,predicted) to --out, and prints a summary.

            With two classes, an image is predicted positive when p(positive) >= --threshold.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Folder of labelled images: one sub-folder per class.")
    var data: String

    @Option(help: "Decision threshold on the positive class's probability (two classes).")
    var threshold: Double = 0.5

    @Option(help: "The positive class (default: damage/damaged, else the last class).")
    var positive: String?

    @Option(help: "Images per forward pass.")
    var batchSize: Int = 32

    @Option(help: "Output directory.")
    var out: String

    func validate() throws {
        guard threshold >= 0 && threshold <= 1 else { throw ValidationError("--threshold must be in [0, 1]") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be >= 1") }
    }

    /// Errors are reported by `Rubble.main` (`rubble: error: ...`).
    func run() throws {
        try evaluate()
    }

    private func evaluate() throws {
        let directory = try OutputFolder.url(out)
        let loaded = try model.load()
        let storedClasses = loaded.classNames
        let examples = try ImageFolderExamples(directory: URL(fileURLWithPath: data), pipeline: loaded.pipeline,
                                               classNames: storedClasses)
        if !examples.skipped.isEmpty {
            warn("skipped \(examples.skipped.count) non-image file(s), e.g. \(examples.skipped[0].path): \(examples.skipped[0].reason)")
        }
        if storedClasses == nil {
            warn("the weights file stores no class names; taking the folder's: " + examples.classNames.joined(separator: ", "))
        }
        let positiveIndex = try loaded.positiveIndex(requested: positive, classNames: examples.classNames)
        let clock = ContinuousClock.now
        let evaluation = try Evaluation(model: loaded.network, examples: examples, batchSize: batchSize, progress: .automatic)
        if let bad = evaluation.probabilities.firstIndex(where: { !$0.allSatisfy(\.isFinite) }) {
            throw InferenceError.nonFiniteOutput(file: examples.files[bad].path)
        }
        let elapsed = ContinuousClock.now - clock
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let report = try RunReports.writeEvaluation(
            evaluation, identifiers: examples.files.map(\.path), positive: positiveIndex,
            threshold: examples.classNames.count == 2 ? threshold : nil, to: directory,
            marked: examples.classNames.count == 2 ? threshold : nil,
            markedLabel: examples.classNames.count == 2 ? String(format: "decision t = %.2f (--threshold)", threshold) : nil)

        RunOutput.line("\(examples.count) images in \(String(format: "%.1f", seconds)) s "
              + "(\(String(format: "%.1f", Double(examples.count) / max(seconds, 1e-9))) images/s)")
        if examples.classNames.count == 2 {
            let name = examples.classNames[positiveIndex]
            RunOutput.line("decision: \(name) when p(\(name)) >= " + String(format: "%.2f", threshold))
        }
        RunOutput.line(report.text)
        RunOutput.line("\nwrote \(directory.path)/: metrics.json, threshold_sweep.csv, threshold_sweep.svg, predictions.csv")
    }
}
