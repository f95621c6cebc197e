import ArgumentParser
import Demo
import Foundation
import GradCAM
import Segmentation
import SegmentationTraining
import Tensor
import Train
import Vision

/// `rubble demo`: the whole workflow on generated data, in a few minutes.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate small synthetic data sets, train the baseline CNN and a small SegFormer on them, evaluate and plot.",
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

            Then segmentation: --facades synthetic street scenes with exact masks (undamaged \
            structure, damaged structure, debris; sky, ground, trees and cars are background, \
            ignored) into DIR/facades/{images,masks}, and a small SegFormer (hidden sizes \
            16/32/48/64, 219 k weights) trained on them from random weights as \
            `rubble train-segmenter` trains (AdamW, polynomial decay, mmseg augmentation, 96x96 \
            input) into DIR/segmentation: history.csv, metrics.json, best/ and last/ (Hugging Face \
            folders), checkpoint/. It prints the validation mean IoU. --no-segmentation skips it.
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

    @Option(help: "Number of synthetic facades for the segmentation part.")
    var facades: Int = 192

    @Option(help: "Training epochs of the segmentation part.")
    var segmentationEpochs: Int = 30

    @Flag(help: "Leave out the segmentation part.")
    var noSegmentation = false

    func validate() throws {
        guard epochs >= 1, images >= 20, imageSize >= 48 else {
            throw ValidationError("--epochs >= 1, --images >= 20 and --image-size >= 48 (the baseline CNN needs it) please")
        }
        guard facades >= 8, facades <= 100_000, segmentationEpochs >= 1 else {
            throw ValidationError("--facades must be in 8...100000 and --segmentation-epochs >= 1")
        }
    }

    func run() throws {
        let clock = ContinuousClock.now
        let directory = URL(fileURLWithPath: out)
        var options = DemoOptions(directory: directory, images: images, imageSize: imageSize, epochs: epochs, seed: seed)
        options.progress = .automatic
        if !noSegmentation {
            options.segmentation = SegmentationDemoOptions(facades: facades, epochs: segmentationEpochs)
        }
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
        if let segmentation = result.segmentation {
            printSegmentation(segmentation)
        }
        let elapsed = ContinuousClock.now - clock
        RunOutput.line("\ndone in \(elapsed.components.seconds) s. Look at:")
        RunOutput.line("  \(pad("data")) \(result.dataDirectory.path)/{intact,rubble}")
        let runPath = result.runDirectory.path + "/"
        for file in result.files {
            let name = file.path.hasPrefix(runPath) ? String(file.path.dropFirst(runPath.count)) : file.lastPathComponent
            RunOutput.line("  \(pad(name)) \(file.path)")
        }
        if let segmentation = result.segmentation {
            RunOutput.line("  \(pad("facades")) \(segmentation.dataDirectory.path)/{images,masks}")
            let files = SegmentationRunFiles(directory: segmentation.runDirectory)
            for (name, url) in [("segmentation model (HF)", files.best), ("segmentation last (HF)", files.last),
                                ("segmentation history", files.history), ("segmentation metrics", files.metrics)] {
                RunOutput.line("  \(pad(name)) \(url.path)")
            }
        }
        if let first = panels.first {
            let wrong = panels.filter(\.misclassified).count
            RunOutput.line("  \(pad("Grad-CAM panels")) \(first.url.deletingLastPathComponent().path)/ (\(panels.count) test images, "
                           + "\(wrong) misclassified: *_misclassified_gradcam.png)")
        }
        RunOutput.line("\nTrain on your own photos the same way, e.g.\n  "
                       + CommandHint.demoTrainCommand(executable: CommandHint.executablePath(), result: result, options: options))
    }

    private func printSegmentation(_ segmentation: SegmentationDemoResult) {
        let training = segmentation.training
        RunOutput.line("\nsegmentation (\(training.trainingPairs) training and \(training.validationPairs) validation facades, "
                       + String(format: "%.0f s", segmentation.seconds) + "):")
        guard let best = training.bestMetrics, let epoch = training.bestEpoch else {
            RunOutput.line("  no epoch finished")
            return
        }
        RunOutput.line(String(format: "  validation mean IoU %.4f, pixel accuracy %.4f (best epoch %d of %d)",
                              best.meanIoU, best.pixelAccuracy, epoch, training.history.records.count))
        for (name, iou) in zip(SyntheticFacades.classNames, best.perClassIoU) {
            RunOutput.line("  IoU \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) "
                           + (iou.isNaN ? "-" : String(format: "%.4f", iou)))
        }
        RunOutput.line("  model: \(segmentation.modelDirectory.path) (Hugging Face folder: config.json, model.safetensors, "
                       + "preprocessor_config.json)")
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
