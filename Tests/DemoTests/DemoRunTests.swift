import Foundation
import Inference
import TestSupport
@testable import Demo
import Train
import XCTest

/// The demo's held-out test split, its reports and the choices made on validation only.
final class DemoRunTests: XCTestCase {
    /// One small demo run shared by the tests (training is the slow part).
    nonisolated(unsafe) private static var shared: (result: DemoResult, options: DemoOptions)?

    private func demo() throws -> (result: DemoResult, options: DemoOptions) {
        if let shared = Self.shared { return shared }
        let directory = DemoTestData.temporaryDirectory()
        let options = DemoOptions(directory: directory, images: 160, imageSize: 48, epochs: 4, batchSize: 16, seed: 2,
                                  progress: .silent)
        let run = (try Demo.run(options), options)
        Self.shared = run
        return run
    }

    override class func tearDown() {
        if let shared { try? FileManager.default.removeItem(at: shared.options.directory) }
        shared = nil
        super.tearDown()
    }
    /// `path,label,p0,p1,predicted` rows of a predictions.csv (the demo's paths have no commas).
    private func predictions(_ url: URL) throws -> [(path: String, label: String, p: [Float], predicted: String)] {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "path,label,p0,p1,predicted")
        return lines.dropFirst().map { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return (f[0], f[1], [Float(f[2])!, Float(f[3])!], f[4])
        }
    }

    private func json(_ url: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    private func number(_ value: Any?) -> Double { (value as? NSNumber)?.doubleValue ?? .nan }

    func testHeldOutTestSplitAndItsReports() throws {
        let (result, options) = try demo()

        // 60/20/20 per class (90 intact, 70 rubble), disjoint by file, covering every image.
        let ids = { (s: Subset) in Set((0..<s.count).map(s.identifier)) }
        let training = ids(result.training), validation = ids(result.validation), test = ids(result.test)
        XCTAssertEqual([training.count, validation.count, test.count], [96, 32, 32])
        XCTAssertEqual(result.test.classCounts, [18, 14])
        XCTAssertEqual(result.validation.classCounts, [18, 14])
        XCTAssertTrue(training.isDisjoint(with: validation) && training.isDisjoint(with: test) && validation.isDisjoint(with: test))
        let files = try ["intact", "rubble"].flatMap { kind in
            try FileManager.default.contentsOfDirectory(atPath: result.dataDirectory.appendingPathComponent(kind).path)
                .map { result.dataDirectory.appendingPathComponent(kind).appendingPathComponent($0).path }
        }
        XCTAssertEqual(training.union(validation).union(test), Set(files))
        // the same seed gives the same split
        let examples = try ImageFolderExamples(directory: result.dataDirectory, pipeline: ImagePipeline(imageSize: 48))
        let again = try Demo.threeWaySplit(examples, options: options)
        XCTAssertEqual([ids(again.training), ids(again.validation), ids(again.test)], [training, validation, test])

        // run/test/ holds the test set's reports; the validation ones stay in run/.
        for file in result.files { XCTAssertTrue(FileManager.default.fileExists(atPath: file.path), file.path) }
        let testRows = try predictions(result.testDirectory.appendingPathComponent("predictions.csv"))
        let validationRows = try predictions(result.runDirectory.appendingPathComponent("predictions.csv"))
        XCTAssertEqual(Set(testRows.map(\.path)), test)
        XCTAssertEqual(Set(validationRows.map(\.path)), validation)

        // test/metrics.json agrees with test/predictions.csv (argmax decisions) and the evaluation.
        let metrics = try json(result.testDirectory.appendingPathComponent("metrics.json"))
        XCTAssertEqual(metrics["split"] as? String, "test")
        XCTAssertEqual(metrics["decision"] as? String, "argmax")
        XCTAssertEqual((metrics["count"] as? NSNumber)?.intValue, 32)
        let correct = testRows.filter { $0.label == $0.predicted }.count
        XCTAssertEqual(number(metrics["accuracy"]), Double(correct) / 32, accuracy: 1e-12)
        XCTAssertEqual(result.testReport.accuracy, Double(correct) / 32, accuracy: 1e-12)
        XCTAssertEqual(result.testEvaluation.accuracy, Double(correct) / 32, accuracy: 1e-12)
        var counts = [[0, 0], [0, 0]]
        let names = result.classNames
        for row in testRows { counts[names.firstIndex(of: row.label)!][names.firstIndex(of: row.predicted)!] += 1 }
        XCTAssertEqual(metrics["confusionMatrix"] as? [[Int]], counts)
        XCTAssertEqual(result.testReport.confusionMatrix, counts)
        for (i, row) in testRows.enumerated() {
            XCTAssertEqual(row.path, result.test.identifier(i))
            XCTAssertEqual(row.label, names[result.test.labels[i]])
            XCTAssertEqual(row.predicted, names[result.testEvaluation.predictions[i]], row.path)
        }

        // The threshold is chosen on validation (the plateau middle) and reported the same everywhere.
        let validationMetrics = try json(result.runDirectory.appendingPathComponent("metrics.json"))
        let suggested = number((validationMetrics["bestThreshold"] as? [String: Any])?["threshold"])
        XCTAssertEqual(suggested, result.suggestedThreshold, accuracy: 1e-12)
        XCTAssertEqual(result.report.bestThreshold.threshold, result.suggestedThreshold)
        let label = String(format: "suggested t = %.2f", suggested)
        let plot = try String(contentsOf: result.runDirectory.appendingPathComponent("threshold_sweep.svg"), encoding: .utf8)
        XCTAssertTrue(plot.contains(label), label)
        // the test sweep marks the validation's threshold, not its own best
        let testPlot = try String(contentsOf: result.testDirectory.appendingPathComponent("threshold_sweep.svg"), encoding: .utf8)
        XCTAssertTrue(testPlot.contains(String(format: ">t = %.2f (chosen on validation)<", suggested)))
        XCTAssertFalse(testPlot.contains("suggested t ="))
        XCTAssertTrue(result.report.text.contains(String(format: "at threshold %.2f", suggested)), result.report.text)
        let validationSweep = try ThresholdSweep(probabilities: result.evaluation.probabilities, labels: result.evaluation.labels,
                                                 classNames: names, positive: result.positive)
        XCTAssertEqual(validationSweep.bestF1.threshold, suggested)

        // The test numbers at that threshold: recomputed from the test probabilities (p >= t as Float).
        let at = try XCTUnwrap(metrics["atValidationThreshold"] as? [String: Any])
        XCTAssertEqual(number(at["threshold"]), suggested, accuracy: 1e-12)
        let t = Float(Int((suggested * 100).rounded())) / 100
        let flagged = result.testEvaluation.probabilities.map { $0[result.positive] >= t }
        let positive = testRows.map { $0.label == names[result.positive] }
        let tp = zip(flagged, positive).filter { $0 && $1 }.count, fp = zip(flagged, positive).filter { $0 && !$1 }.count
        let fn = zip(flagged, positive).filter { !$0 && $1 }.count
        XCTAssertEqual(number(at["recall"]), Double(tp) / Double(tp + fn), accuracy: 1e-12)
        if tp + fp > 0 {
            XCTAssertEqual(number(at["precision"]), Double(tp) / Double(tp + fp), accuracy: 1e-12)
        } else {
            XCTAssertTrue(at["precision"] is NSNull)
        }
        XCTAssertEqual(number(at["f1"]), Double(2 * tp) / Double(2 * tp + fp + fn), accuracy: 1e-12)
        XCTAssertEqual(result.testAtSuggestedThreshold.positiveRecall, Double(tp) / Double(tp + fn), accuracy: 1e-12)

        // Training curves: the best epoch, the monitor, which loss is class-weighted.
        XCTAssertEqual(result.bestEpoch, result.history.bestEpoch(by: .validationLoss))
        XCTAssertEqual(result.monitor, "val_loss")
        let curves = try String(contentsOf: result.runDirectory.appendingPathComponent("training_curves.svg"), encoding: .utf8)
        XCTAssertTrue(curves.contains(">best epoch \(result.bestEpoch!) (val_loss)<"))
        XCTAssertTrue(curves.contains("training loss class-weighted; validation loss (val_loss) unweighted"))
    }

    func testGradCAMSelectionTakesEveryMisclassifiedTestImageUpToTheCap() throws {
        var result = try demo().result
        // The real selection: every misclassified test image (up to 8), then 2 correct ones per class.
        let predicted = result.testEvaluation.predictions
        let wrong = result.testEvaluation.labels.indices.filter { predicted[$0] != result.testEvaluation.labels[$0] }
        let selection = result.gradCAMSelection()
        XCTAssertEqual(Set(selection.filter(\.misclassified).map(\.index)).count, min(wrong.count, 8))
        XCTAssertTrue(Set(selection.filter(\.misclassified).map(\.index)).isSubset(of: wrong))
        XCTAssertTrue(selection.filter { !$0.misclassified }.allSatisfy { !wrong.contains($0.index) })

        // Hand-made test probabilities: 5 wrong (confidence 0.9, 0.6, 0.8, 0.7, 0.95), the rest right.
        let labels = result.testEvaluation.labels
        let wrongConfidence: [Int: Float] = [0: 0.9, 2: 0.6, 4: 0.8, 6: 0.7, 8: 0.95]
        result.testEvaluation.probabilities = labels.indices.map { i in
            let p = wrongConfidence[i] ?? 0.85
            let predicted = wrongConfidence[i] == nil ? labels[i] : 1 - labels[i]
            return predicted == 1 ? [1 - p, p] : [p, 1 - p]
        }
        let all = result.gradCAMSelection()
        XCTAssertEqual(all.filter(\.misclassified).map(\.index), [8, 0, 4, 6, 2])   // most confidently wrong first
        let correct = all.filter { !$0.misclassified }.map(\.index)
        XCTAssertEqual(correct.count, 4)
        for label in 0..<2 { XCTAssertEqual(correct.filter { labels[$0] == label }.count, 2) }
        XCTAssertTrue(correct.allSatisfy { wrongConfidence[$0] == nil })
        XCTAssertEqual(result.gradCAMSelection(misclassifiedCap: 3, correctPerClass: 1).map(\.misclassified),
                       [true, true, true, false, false])
        XCTAssertEqual(result.gradCAMSelection(misclassifiedCap: 3).filter(\.misclassified).map(\.index), [8, 0, 4])
    }

    func testClosingHintRunsAsWritten() throws {
        let executable = CommandHint.executablePath()
        XCTAssertTrue(executable.hasPrefix("/"), executable)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: executable), executable)
        XCTAssertEqual(CommandHint.executablePath(arguments: ["./bin/rubble"], environment: [:]).first, "/")
        XCTAssertEqual(CommandHint.quoted("/opt/rubble-1.0/rubble"), "/opt/rubble-1.0/rubble")
        XCTAssertEqual(CommandHint.quoted("/tmp/my demo/it's"), #"'/tmp/my demo/it'\''s'"#)
        XCTAssertEqual(CommandHint.quoted(""), "''")
        XCTAssertEqual(CommandHint.commandLine(["/x/rubble", "train", "--out", "a b"]), "/x/rubble train --out 'a b'")
    }
}
