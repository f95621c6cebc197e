import ArgumentParser
import Demo
import Foundation
import GradCAM
import Tensor
import Train
import Vision

/// `rubble demo`: the whole workflow on generated data, in a few minutes.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate a small synthetic data set, train the baseline CNN on it, evaluate and plot.",
        discussion: """
            Draws seeded synthetic scenes -- intact facades (a flat wall with a regular grid of \
            windows) and rubble (irregular debris, broken wall edges), about 56 % / 44 % like the \
            paper's data -- as PNGs into DIR/data/{intact,rubble}, splits them (seeded, per class) \
            into 60 % training, 20 % validation and 20 % held-out test, trains the paper's baseline \
            CNN at 64x64 with balanced class weights, picks the best epoch (val_loss) and the \
            suggested threshold (middle of the best-F1 plateau) on validation only, and writes \
            everything `rubble train` writes into DIR/run (validation reports), the same reports \
            for the test set into DIR/run/test (metrics.json adds the test numbers at the \
            validation threshold), and Grad-CAM panels of test images into DIR/run/gradcam: every \
            misclassified one (up to 8, named *_misclassified_gradcam.png) and two correct ones \
            per class.
            """)

    @Option(help: "Output directory.")
    var out: String = "rubble-demo"

    @Option(help: "Training epochs.")
    var epochs: Int = 8

    @Option(help: "Seed of the scenes, the split and the initial weights.")
    var seed: UInt64 = 0

    @Option(help: "Number of synthetic images.")
    var images: Int = 600

    @Option(help: "Image size in pixels.")
    var imageSize: Int = 64

    func validate() throws {
        guard epochs >= 1, images >= 20, imageSize >= 48 else {
            throw ValidationError("--epochs >= 1, --images >= 20 and --image-size >= 48 (the baseline CNN needs it) please")
        }
    }

    func run() throws {
        let clock = ContinuousClock.now
        let directory = URL(fileURLWithPath: out)
        var options = DemoOptions(directory: directory, images: images, imageSize: imageSize, epochs: epochs, seed: seed)
        options.progress = .automatic
        let result: DemoResult
        do {
            result = try Demo.run(options) { RunOutput.line($0) }
        } catch {
            warn("\(error)")
            throw ExitCode.failure
        }
        let best = result.bestEpoch.map(String.init) ?? "-"
        RunOutput.line("\nvalidation (\(result.validation.count) images), best epoch \(best) (\(result.monitor)); "
                       + "the epoch and the threshold are chosen here:")
        RunOutput.line(result.report.text)
        RunOutput.line("\ntest (\(result.test.count) images held out: not trained on, not used to choose the epoch or the threshold; "
                       + "its own best-F1 threshold is for reference only):")
        RunOutput.line(result.testReport.text)
        let row = result.testAtSuggestedThreshold
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        RunOutput.line("at the threshold suggested on validation, p(\(result.classNames[result.positive])) >= "
                       + String(format: "%.2f", result.suggestedThreshold) + ", test: precision "
                       + (row.positivePrecision.map(f) ?? "undefined (nothing predicted positive)")
                       + ", recall \(f(row.positiveRecall)), F1 \(f(row.positiveF1)), accuracy \(f(row.accuracy))")

        var panels: [(url: URL, misclassified: Bool)] = []
        do {
            panels = try writeGradCAMPanels(result)
        } catch {
            warn("Grad-CAM panels skipped: \(error)")
        }
        let elapsed = ContinuousClock.now - clock
        RunOutput.line("\ndone in \(elapsed.components.seconds) s. Look at:")
        RunOutput.line("  \(pad("data")) \(result.dataDirectory.path)/{intact,rubble}")
        let runPath = result.runDirectory.path + "/"
        for file in result.files {
            let name = file.path.hasPrefix(runPath) ? String(file.path.dropFirst(runPath.count)) : file.lastPathComponent
            RunOutput.line("  \(pad(name)) \(file.path)")
        }
        if let first = panels.first {
            let wrong = panels.filter(\.misclassified).count
            RunOutput.line("  \(pad("Grad-CAM panels")) \(first.url.deletingLastPathComponent().path)/ (\(panels.count) test images, "
                           + "\(wrong) misclassified: *_misclassified_gradcam.png)")
        }
        RunOutput.line("\nTrain on your own photos the same way, e.g.\n  "
                       + CommandHint.demoTrainCommand(executable: CommandHint.executablePath(), result: result, options: options))
    }

    private func pad(_ text: String) -> String { text + String(repeating: " ", count: max(0, 28 - text.count)) }

    /// Both classes' Grad-CAM maps next to the photo for the test images of
    /// ``DemoResult/gradCAMSelection(misclassifiedCap:correctPerClass:)``: the misclassified
    /// ones are named `<stem>_misclassified_gradcam.png` and headed "MISCLASSIFIED".
    private func writeGradCAMPanels(_ result: DemoResult) throws -> [(url: URL, misclassified: Bool)] {
        let folder = result.runDirectory.appendingPathComponent("gradcam")
        try? FileManager.default.removeItem(at: folder)  // no panels left over from an earlier run
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let explainer = try GradCAM(model: result.model)
        let panel = GradCAMPanel(tileHeight: 192)
        var written: [(url: URL, misclassified: Bool)] = []
        for (index, misclassified) in result.gradCAMSelection() {
            let input = try result.test.inputs([index])
            let maps = try explainer.explainEveryClass(input)
            let heat = maps.enumerated().map { c, r in
                ClassHeatMap(classIndex: c, values: r.map(0), width: r.width, height: r.height,
                             probability: r.probabilities(0)[c])
            }
            let path = URL(fileURLWithPath: result.test.identifier(index))
            let image = try ImageDecoder.decode(contentsOf: path)
            let truth = result.classNames[result.test.labels[index]]
            let predicted = result.testEvaluation.predictions[index]
            // Short enough for the panel's large font; truth and prediction are on the tiles.
            let header = (misclassified ? "MISCLASSIFIED (test) " : "test: ") + path.lastPathComponent
            let picture = panel.render(image: image, maps: heat, classNames: result.classNames,
                                       predicted: predicted, truth: truth, header: header)
            let stem = path.deletingPathExtension().lastPathComponent
            let url = folder.appendingPathComponent(stem + (misclassified ? "_misclassified" : "") + "_gradcam.png")
            try ImageEncoder.writePNG(picture, to: url)
            written.append((url, misclassified))
        }
        return written
    }
}
