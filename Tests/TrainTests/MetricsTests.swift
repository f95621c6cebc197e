import AtomicFiles
import Foundation
import Tensor
import Train
import XCTest

final class MetricsTests: XCTestCase {
    // rows = truth, columns = prediction
    let matrix = try! ConfusionMatrix(classNames: ["a", "b", "c"], counts: [[5, 2, 1], [1, 6, 1], [0, 2, 7]])

    func testConfusionMatrixPerClassMetrics() {
        let m = matrix.perClass
        // a: TP 5, predicted 6, actual 8
        XCTAssertEqual(m[0].precision, 5.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(m[0].recall, 5.0 / 8, accuracy: 1e-12)
        XCTAssertEqual(m[0].f1, 2 * (5.0 / 6) * (5.0 / 8) / (5.0 / 6 + 5.0 / 8), accuracy: 1e-12) // 0.714286
        XCTAssertEqual(m[0].support, 8)
        // b: TP 6, predicted 10, actual 8
        XCTAssertEqual(m[1].precision, 0.6, accuracy: 1e-12)
        XCTAssertEqual(m[1].recall, 0.75, accuracy: 1e-12)
        XCTAssertEqual(m[1].f1, 2.0 / 3, accuracy: 1e-12)
        // c: TP 7, predicted 9, actual 9
        XCTAssertEqual(m[2].precision, 7.0 / 9, accuracy: 1e-12)
        XCTAssertEqual(m[2].recall, 7.0 / 9, accuracy: 1e-12)
        XCTAssertEqual(m[2].support, 9)
        XCTAssertEqual(matrix.accuracy, 18.0 / 25, accuracy: 1e-12)
        XCTAssertEqual(matrix.total, 25)
        // scikit-learn precision_recall_fscore_support(average="macro" / "weighted")
        XCTAssertEqual(matrix.macro.precision, 0.737037037037037, accuracy: 1e-12)
        XCTAssertEqual(matrix.macro.recall, 0.7175925925925926, accuracy: 1e-12)
        XCTAssertEqual(matrix.macro.f1, 0.7195767195767195, accuracy: 1e-12)
        XCTAssertEqual(matrix.weighted.precision, 0.7386666666666667, accuracy: 1e-12)
        XCTAssertEqual(matrix.weighted.f1, 0.7219047619047619, accuracy: 1e-12)
    }

    func testConfusionMatrixFromLabelsAndZeroDivision() throws {
        let m = try ConfusionMatrix(classNames: ["x", "y"], truth: [0, 0, 1, 1, 1], predicted: [0, 0, 0, 0, 0])
        XCTAssertEqual(m.counts, [[2, 0], [3, 0]])
        XCTAssertEqual(m.metrics(forClass: 1).precision, 0)   // never predicted
        XCTAssertEqual(m.metrics(forClass: 1).recall, 0)
        XCTAssertEqual(m.metrics(forClass: 1).f1, 0)
        XCTAssertEqual(m.metrics(forClass: 0).precision, 0.4, accuracy: 1e-12)
        XCTAssertThrowsError(try ConfusionMatrix(classNames: ["x"], truth: [0, 1], predicted: [0, 0]))
        XCTAssertThrowsError(try ConfusionMatrix(classNames: ["x"], truth: [0], predicted: [0, 0]))
        XCTAssertTrue(m.table.contains("truth \\ pred"))
    }

    func testROCAUCAndAveragePrecisionMatchScikitLearn() throws {
        // roc_auc_score / average_precision_score examples; values from scikit-learn 1.x
        func check(_ y: [Int], _ s: [Float], auc: Double, ap: Double, line: UInt = #line) {
            let positives = y.map { $0 == 1 }
            XCTAssertEqual(BinaryMetrics.rocAUC(scores: s, positives: positives)!, auc, accuracy: 1e-12, line: line)
            XCTAssertEqual(BinaryMetrics.averagePrecision(scores: s, positives: positives)!, ap, accuracy: 1e-12, line: line)
        }
        check([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], auc: 0.75, ap: 5.0 / 6)
        // a positive-negative tie at 0.5 counts 1/2: (0.5 + 1 + 1 + 1) / 4; AP = 0.5*1 + 0.5*(2/3)
        check([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9], auc: 0.875, ap: 5.0 / 6)
        // ties of 3 and 4; hand trapezoid 25/36, AP = 1/6 + 1/6 + (2/6)(4/6) + (2/6)(6/11)
        check([1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1], [0.9, 0.8, 0.7, 0.7, 0.7, 0.6, 0.3, 0.3, 0.3, 0.3, 0.1, 0.95],
              auc: 25.0 / 36, ap: 1.0 / 6 + 1.0 / 6 + 2.0 / 9 + 2.0 / 11)
        check([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1], auc: 1, ap: 1)
        check([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1], auc: 0, ap: 5.0 / 12)    // 0.5 * (1/3) + 0.5 * (2/4)
        XCTAssertNil(BinaryMetrics.rocAUC(scores: [0.1, 0.2], positives: [true, true]))
        XCTAssertNil(BinaryMetrics.averagePrecision(scores: [0.1, 0.2], positives: [false, false]))
        XCTAssertEqual(BinaryMetrics.averagePrecision(scores: [0.1, 0.2], positives: [true, true]), 1)
        let curve = BinaryMetrics.rocCurve(scores: [0.1, 0.4, 0.35, 0.8], positives: [false, false, true, true])
        XCTAssertEqual(curve.map(\.fpr), [0, 0, 0.5, 0.5, 1])
        XCTAssertEqual(curve.map(\.tpr), [0, 0.5, 0.5, 1, 1])
    }

    func testPositiveClassChoice() throws {
        XCTAssertEqual(try BinaryMetrics.positiveClassIndex(["damage", "no_damage"]), 0)
        XCTAssertEqual(try BinaryMetrics.positiveClassIndex(["damaged", "intact"]), 0)
        XCTAssertEqual(try BinaryMetrics.positiveClassIndex(["no", "yes"]), 1)
        XCTAssertEqual(try BinaryMetrics.positiveClassIndex(["Damage", "other"]), 1)   // exact name only
        XCTAssertEqual(try BinaryMetrics.positiveClassIndex(["damage", "no_damage"], requested: "no_damage"), 1)
        XCTAssertThrowsError(try BinaryMetrics.positiveClassIndex(["damage", "no_damage"], requested: "rubble")) {
            XCTAssertEqual($0 as? MetricsError, .unknownClass("rubble", classes: ["damage", "no_damage"]))
            XCTAssertEqual("\($0)", "unknown class 'rubble' (classes: damage, no_damage)")
        }
    }

    /// 4 damage (positive) and 4 no-damage photos.
    let probabilities: [[Float]] = [[0.95, 0.05], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7],   // damage
                                    [0.55, 0.45], [0.2, 0.8], [0.1, 0.9], [0.05, 0.95]] // no damage
    let labels = [0, 0, 0, 0, 1, 1, 1, 1]

    func testThresholdSweepValuesAndMonotonicity() throws {
        let sweep = try ThresholdSweep(probabilities: probabilities, labels: labels, classNames: ["damage", "no_damage"], positive: 0)
        XCTAssertEqual(sweep.rows.count, 101)
        XCTAssertEqual(sweep.positiveName, "damage")
        XCTAssertEqual(sweep.negativeName, "no_damage")
        // t = 0: everything damage, nothing no_damage: its precision is undefined, not 0
        let t0 = sweep.rows[0]
        XCTAssertEqual([t0.positivePrecision, t0.positiveRecall, t0.negativeRecall], [0.5, 1, 0])
        XCTAssertNil(t0.negativePrecision)
        // t = 0.5: damage predicted for 0.95, 0.8, 0.6, 0.55 -> TP 3, FP 1, FN 1, TN 3
        let t50 = sweep.row(at: 0.5)
        XCTAssertEqual(t50.threshold, 0.5)
        XCTAssertEqual([t50.positivePrecision, t50.positiveRecall, t50.negativePrecision, t50.negativeRecall], [0.75, 0.75, 0.75, 0.75])
        // t = 0.56: 0.55 drops out -> TP 3, FP 0, FN 1, TN 4
        let t56 = sweep.row(at: 0.56)
        XCTAssertEqual(t56.positivePrecision, 1)
        XCTAssertEqual(t56.positiveRecall, 0.75)
        XCTAssertEqual(try XCTUnwrap(t56.negativePrecision), 0.8, accuracy: 1e-12)
        XCTAssertEqual(t56.negativeRecall, 1)
        // t = 0.80 keeps p >= 0.8 (inclusive): TP 2
        XCTAssertEqual(sweep.row(at: 0.8).positiveRecall, 0.5)
        XCTAssertEqual(sweep.row(at: 0.81).positiveRecall, 0.25)
        // t > 0.95: nothing predicted damage: precision undefined (nil), recall and F1 0
        let t100 = sweep.rows[100]
        XCTAssertEqual([t100.positiveRecall, t100.positiveF1, t100.negativePrecision, t100.negativeRecall], [0, 0, 0.5, 1])
        XCTAssertEqual(sweep.rows.indices.filter { sweep.rows[$0].positivePrecision == nil }, Array(96...100))
        // and below 0.06 nothing is predicted no_damage (the lowest score is 0.05)
        XCTAssertEqual(sweep.rows.indices.filter { sweep.rows[$0].negativePrecision == nil }, Array(0...5))
        XCTAssertEqual(sweep.row(at: 0.95).positivePrecision, 1)
        for (a, b) in zip(sweep.rows, sweep.rows.dropFirst()) {
            XCTAssertLessThanOrEqual(b.positiveRecall, a.positiveRecall)
            XCTAssertGreaterThanOrEqual(b.negativeRecall, a.negativeRecall)
            XCTAssertEqual(b.threshold - a.threshold, 0.01, accuracy: 1e-9)
        }
        // best F1: t in (0.20, 0.30] gives TP 4 FP 1 -> F1 8/9 (TP 3 FP 0 above 0.55 only 6/7);
        // the plateau is 0.21...0.30 (10 thresholds), its middle the lower of 0.25 and 0.26
        XCTAssertEqual(sweep.bestF1Plateau, 21...30)
        XCTAssertEqual(sweep.bestF1.threshold, 0.25, accuracy: 1e-12)
        XCTAssertEqual(sweep.bestF1.positiveF1, 8.0 / 9, accuracy: 1e-12)
    }

    func testThresholdSweepCSV() throws {
        let sweep = try ThresholdSweep(probabilities: probabilities, labels: labels, classNames: ["damage", "no_damage"], positive: 0)
        let lines = sweep.csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 102)
        XCTAssertEqual(lines[0], "threshold,precision_no_damage,recall_no_damage,precision_damage,recall_damage")
        // undefined precision: an empty field, never 0 (5 fields on every line)
        XCTAssertEqual(lines[1], "0.00,,0.000000,0.500000,1.000000")
        XCTAssertEqual(lines[51], "0.50,0.750000,0.750000,0.750000,0.750000")
        XCTAssertEqual(lines[96], "0.95,0.571429,1.000000,1.000000,0.250000")
        XCTAssertEqual(lines[97], "0.96,0.500000,1.000000,,0.000000")
        XCTAssertEqual(lines[101], "1.00,0.500000,1.000000,,0.000000")
        XCTAssertTrue(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 5 })
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(getpid()).csv")
        defer { try? FileManager.default.removeItem(at: url) }
        try sweep.writeCSV(to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), sweep.csv)
    }

    func testEvaluationReportAndJSON() throws {
        let report = try EvaluationReport(probabilities: Tensor(probabilities.flatMap { $0 }, shape: [8, 2]), labels: labels,
                                          classNames: ["damage", "no_damage"],
                                          positive: try BinaryMetrics.positiveClassIndex(["damage", "no_damage"]), loss: 0.25)
        XCTAssertEqual(report.confusionMatrix, [[3, 1], [1, 3]])
        XCTAssertEqual(report.accuracy, 0.75)
        XCTAssertEqual(report.positiveClass, "damage")
        // damage scores 0.95 0.8 0.6 0.3 vs 0.55 0.2 0.1 0.05: 15 of 16 pairs ordered
        XCTAssertEqual(report.rocAUC!, 15.0 / 16, accuracy: 1e-12)
        XCTAssertEqual(report.averagePrecision!, 0.25 * (1 + 1 + 1 + 0.8), accuracy: 1e-12)
        // the suggested threshold is the plateau's middle, the same in the report, its text and JSON
        XCTAssertEqual(report.bestThreshold.threshold, 0.25, accuracy: 1e-12)
        XCTAssertEqual(report.bestThreshold.plateauLow!, 0.21, accuracy: 1e-12)
        XCTAssertEqual(report.bestThreshold.plateauHigh!, 0.30, accuracy: 1e-12)
        XCTAssertEqual(report.bestThreshold.precision!, 0.8, accuracy: 1e-12)
        XCTAssertEqual(report.bestThreshold.recall, 1)
        XCTAssertTrue(report.text.contains("ROC-AUC 0.9375"), report.text)
        XCTAssertTrue(report.text.contains("best F1 0.8889 at threshold 0.25 (middle of the best-F1 plateau 0.21-0.30)"),
                      report.text)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-metrics-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("metrics.json")
        try report.write(to: url)
        try report.write(to: url)   // overwrite
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["metrics.json"]) // no temp left
        let data = try Data(contentsOf: url)
        XCTAssertEqual(try JSONDecoder().decode(EvaluationReport.self, from: data), report)
        let text = String(decoding: data, as: UTF8.self)
        let keys = ["\"accuracy\"", "\"averagePrecision\"", "\"bestThreshold\"", "\"classNames\"", "\"confusionMatrix\"",
                    "\"count\"", "\"loss\"", "\"macro\"", "\"perClass\"", "\"positiveClass\"", "\"rocAUC\"", "\"weighted\""]
        let positions = keys.map { text.range(of: $0)!.lowerBound }
        XCTAssertEqual(positions, positions.sorted(), "keys are sorted")
        XCTAssertThrowsError(try AtomicFile.write("x", to: directory.appendingPathComponent("missing/metrics.json"))) {
            XCTAssertTrue("\($0)".contains("missing/metrics.json"), "\($0)")
        }
    }
}
