import ArgumentParser
import Foundation
import Inference
import Train
import Vision

/// `rubble evaluate`: metrics of a trained model on a labelled folder.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a trained model on a folder of labelled photos or on verified labels.",
        discussion: """
            DIR holds one sub-folder per class; their names must be the classes stored in the \
            weights file (when it stores them). Instead of DIR, --labels FILE.csv measures the model \
            against the photos a person verified (report.html's export path,predicted,verified_label, \
            or path,label; rows without a verdict skipped, byte-identical copies counted once; relative \
            paths next to the CSV file, then under --labels-root). Writes metrics.json (confusion matrix, per-class \
            precision/recall/F1, ROC-AUC, PR-AUC as average precision, best-F1 threshold), \
            threshold_sweep.csv, threshold_sweep.svg and predictions.csv \
            (path,label,p0,p1,...,predicted) to --out, and prints a summary.

            With two classes, an image is predicted positive when p(positive) >= --threshold.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Folder of labelled images: one sub-folder per class (or --labels).")
    var data: String?

    @Option(help: "Verified labels (CSV): report.html's export path,predicted,verified_label, or path,label (or --data).")
    var labels: String?

    @OptionGroup(title: "Verdicts from a store (instead of --labels): the model against every photo a person verified") var store: StoreOptions

    @Option(help: "Folder the relative paths of --labels are under when they are not next to the CSV file (e.g. where `rubble screen` ran).")
    var labelsRoot: String?

    @Option(help: "Decision threshold on the positive class's probability (two classes).")
    var threshold: Double = 0.5

    @Option(help: "The positive class (default: damage/damaged, else the last class).")
    var positive: String?

    @Option(help: "Images per forward pass.")
    var batchSize: Int = 32

    @Option(help: "Output directory.")
    var out: String

    func validate() throws {
        switch [data != nil, labels != nil, store.url != nil].filter({ $0 }).count {
        case 0: throw ValidationError("give the photos to measure on: --data DIR (one sub-folder per class), --labels FILE.csv or --db URL")
        case 1: break
        default: throw ValidationError("give one of --data, --labels and --db")
        }
        if labelsRoot != nil && labels == nil { throw ValidationError("--labels-root belongs to --labels") }
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
        let examples: any LabelledExamples
        if let data {
            let folder = try ImageFolderExamples(directory: URL(fileURLWithPath: data), pipeline: loaded.pipeline,
                                                 classNames: storedClasses)
            if !folder.skipped.isEmpty {
                warn("skipped \(folder.skipped.count) non-image file(s), e.g. \(folder.skipped[0].path): \(folder.skipped[0].reason)")
            }
            if storedClasses == nil {
                warn("the weights file stores no class names; taking the folder's: " + folder.classNames.joined(separator: ", "))
            }
            examples = folder
        } else {
            let verified = try labels.map { try VerifiedLabels.load(csv: URL(fileURLWithPath: $0),
                                                                    root: labelsRoot.map { URL(fileURLWithPath: $0) }) }
                ?? store.verifiedLabels(uploadsIn: URL(fileURLWithPath: out).appendingPathComponent("uploads"))
            let dataset = try VerifiedDataset(verified, classNames: storedClasses, pipeline: loaded.pipeline)
            if storedClasses == nil {
                warn("the weights file stores no class names; taking the labels' (sorted): "
                     + dataset.examples.classNames.joined(separator: ", "))
                guard dataset.examples.classNames.count == loaded.classCount else {
                    throw ValidationError("\(labels ?? store.url ?? "") has \(dataset.examples.classNames.count) labels but the model "
                                          + "\(loaded.classCount) classes; give a weights file that names its classes")
                }
            }
            RunOutput.line("labels: " + dataset.summary)
            examples = dataset.examples
        }
        let positiveIndex = try loaded.positiveIndex(requested: positive, classNames: examples.classNames)
        let clock = ContinuousClock.now
        let evaluation = try Evaluation(model: loaded.network, examples: examples, batchSize: batchSize, progress: .automatic)
        if let bad = evaluation.probabilities.firstIndex(where: { !$0.allSatisfy(\.isFinite) }) {
            throw InferenceError.nonFiniteOutput(file: examples.identifier(bad))
        }
        let elapsed = ContinuousClock.now - clock
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let report = try RunReports.writeEvaluation(
            evaluation, identifiers: (0..<examples.count).map(examples.identifier), positive: positiveIndex,
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
