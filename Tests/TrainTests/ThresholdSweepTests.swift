import Foundation
import Tensor
import Train
import XCTest

/// The suggested threshold (middle of the best-F1 plateau) and undefined precision, on
/// hand-made scores whose sweeps can be worked out on paper.
final class ThresholdSweepTests: XCTestCase {
    func testSuggestedThresholdIsTheMiddleOfTheBestF1Plateau() throws {
        // Positives 0.9, 0.8, 0.5; negatives 0.295, 0.1, 0.05. For 0.30 <= t <= 0.50 exactly the
        // positives are predicted positive (F1 1); at 0.29 the negative 0.295 joins (F1 6/7),
        // at 0.51 the positive 0.5 drops out (F1 0.8). Plateau 0.30...0.50 -> 0.40, not 0.30.
        let sweep = ThresholdSweep(positiveScores: [0.9, 0.8, 0.5, 0.295, 0.1, 0.05],
                                   positives: [true, true, true, false, false, false],
                                   negativeName: "intact", positiveName: "rubble")
        XCTAssertEqual(sweep.bestF1Plateau, 30...50)
        XCTAssertEqual(sweep.rows[29].positiveF1, 6.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(sweep.rows[51].positiveF1, 0.8, accuracy: 1e-12)
        XCTAssertEqual(sweep.bestF1.threshold, 0.40, accuracy: 1e-12)
        XCTAssertEqual(sweep.bestF1.positiveF1, 1)

        // The report, its JSON and its text carry the same value.
        let probabilities = [0.9, 0.8, 0.5, 0.295, 0.1, 0.05].map { p -> [Float] in [1 - Float(p), Float(p)] }
        let report = try EvaluationReport(probabilities: probabilities, labels: [1, 1, 1, 0, 0, 0],
                                          classNames: ["intact", "rubble"], positive: 1)
        XCTAssertEqual(report.bestThreshold.threshold, 0.40, accuracy: 1e-12)
        XCTAssertEqual([report.bestThreshold.plateauLow, report.bestThreshold.plateauHigh], [0.30, 0.50])
        XCTAssertTrue(report.text.contains("at threshold 0.40 (middle of the best-F1 plateau 0.30-0.50)"), report.text)
        let json = try JSONSerialization.jsonObject(with: report.jsonData()) as! [String: Any]
        let best = json["bestThreshold"] as! [String: Any]
        XCTAssertEqual((best["threshold"] as! NSNumber).doubleValue, 0.40, accuracy: 1e-12)
        XCTAssertEqual((best["plateauLow"] as! NSNumber).doubleValue, 0.30, accuracy: 1e-12)
    }

    func testLongestPlateauWinsThenTheFirst() {
        // Scores from high to low: p 0.9, n 0.7, n 0.6, p 0.5. F1 2/3 for t <= 0.50 (TP 2, FP 2;
        // 51 thresholds) and again for 0.71...0.90 (TP 1, FN 1; 20 thresholds), lower between.
        let longest = ThresholdSweep(positiveScores: [0.9, 0.7, 0.6, 0.5], positives: [true, false, false, true],
                                     negativeName: "n", positiveName: "p")
        XCTAssertEqual(longest.rows[80].positiveF1, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(longest.rows[60].positiveF1, 0.4, accuracy: 1e-12)
        XCTAssertEqual(longest.bestF1Plateau, 0...50)
        XCTAssertEqual(longest.bestF1.threshold, 0.25, accuracy: 1e-12)

        // Steps of 0.1; scores p 1.0, n 0.65, n 0.55, p 0.35: F1 2/3 on 0.0...0.3 and on
        // 0.7...1.0, four thresholds each: the first run wins, its middle is the lower of 0.1, 0.2.
        let tie = ThresholdSweep(positiveScores: [1.0, 0.65, 0.55, 0.35], positives: [true, false, false, true],
                                 negativeName: "n", positiveName: "p", steps: 10)
        XCTAssertEqual(tie.rows.map { ($0.positiveF1 * 1000).rounded() / 1000 },
                       [0.667, 0.667, 0.667, 0.667, 0.4, 0.4, 0.5, 0.667, 0.667, 0.667, 0.667])
        XCTAssertEqual(tie.bestF1Plateau, 0...3)
        XCTAssertEqual(tie.bestF1.threshold, 0.1, accuracy: 1e-12)

        // A single best threshold is its own plateau.
        let single = ThresholdSweep(positiveScores: [0.62, 0.615], positives: [true, false],
                                    negativeName: "n", positiveName: "p")
        XCTAssertEqual(single.bestF1Plateau, 62...62)
        XCTAssertEqual(single.bestF1.threshold, 0.62, accuracy: 1e-12)
    }

    func testUndefinedPrecisionIsNotZero() throws {
        // Every score in 0.2...0.6: nothing is predicted positive above 0.6, nothing negative at 0.
        let sweep = ThresholdSweep(positiveScores: [0.6, 0.4, 0.3, 0.2], positives: [true, true, false, false],
                                   negativeName: "intact", positiveName: "rubble")
        for row in sweep.rows {
            if row.threshold > 0.605 {
                XCTAssertNil(row.positivePrecision, "t \(row.threshold)")
                XCTAssertEqual(row.positiveRecall, 0)
                XCTAssertEqual(row.positiveF1, 0)
            } else {
                XCTAssertNotNil(row.positivePrecision, "t \(row.threshold)")
            }
            XCTAssertEqual(row.negativePrecision == nil, row.threshold <= 0.2, "t \(row.threshold)")
        }
        let lines = sweep.csv.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[0], "threshold,precision_intact,recall_intact,precision_rubble,recall_rubble")
        XCTAssertEqual(lines[1], "0.00,,0.000000,0.500000,1.000000")
        XCTAssertEqual(lines[21], "0.20,,0.000000,0.500000,1.000000")
        XCTAssertEqual(lines[22], "0.21,1.000000,0.500000,0.666667,1.000000")
        XCTAssertEqual(lines[61], "0.60,0.666667,1.000000,1.000000,0.500000")
        XCTAssertEqual(lines[62], "0.61,0.500000,1.000000,,0.000000")
        XCTAssertEqual(lines[101], "1.00,0.500000,1.000000,,0.000000")
        XCTAssertEqual(lines[102], "")  // the file ends with a newline
        // the empty field is parsed as missing, not as 0
        let precision = lines[1...101].map { $0.split(separator: ",", omittingEmptySubsequences: false)[3] }
        XCTAssertEqual(precision.filter(\.isEmpty).count, 40)
        XCTAssertFalse(precision.contains("0.000000"))

        // With no positives F1 is 0 everywhere: the plateau is the whole sweep, its middle 0.50,
        // where nothing is predicted positive: the report's precision is null, not 0.
        let report = try EvaluationReport(probabilities: [[0.9, 0.1], [0.8, 0.2]], labels: [0, 0],
                                          classNames: ["intact", "rubble"], positive: 1)
        XCTAssertEqual(report.bestThreshold.threshold, 0.5)
        XCTAssertNil(report.bestThreshold.precision)
        let best = (try JSONSerialization.jsonObject(with: report.jsonData()) as! [String: Any])["bestThreshold"] as! [String: Any]
        XCTAssertTrue(best["precision"] is NSNull, "\(best)")
        XCTAssertEqual(try JSONDecoder().decode(EvaluationReport.self, from: report.jsonData()), report)

        // Codable round trip keeps nil as nil.
        let decoded = try JSONDecoder().decode(ThresholdSweep.self, from: JSONEncoder().encode(sweep))
        XCTAssertEqual(decoded, sweep)
        XCTAssertNil(decoded.rows[100].positivePrecision)
    }
}
