import Foundation
import Demo
import KerasFiles
import Layers
import Tensor
import TestSupport
import Train
import Vision
import XCTest
import Zoo

/// The demo at a tiny size, through the library function `rubble demo` calls.
final class DemoTests: XCTestCase {
    func testScenesAreSeededAndDiffer() throws {
        let a = SyntheticScenes.render(.intact, size: 48, seed: 3)
        XCTAssertEqual(a, SyntheticScenes.render(.intact, size: 48, seed: 3))
        XCTAssertNotEqual(a, SyntheticScenes.render(.intact, size: 48, seed: 4))
        XCTAssertNotEqual(a, SyntheticScenes.render(.rubble, size: 48, seed: 3))
        XCTAssertEqual(a.width, 48)
        XCTAssertEqual(a.height, 48)
    }

    func testTinyDemoLearnsAndWritesEverything() throws {
        let directory = DemoTestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try Demo.run(DemoOptions(directory: directory, images: 240, imageSize: 48, epochs: 8,
                                              batchSize: 16, seed: 1, progress: .silent))
        XCTAssertEqual(result.classNames, ["intact", "rubble"])
        XCTAssertEqual(result.training.count + result.validation.count + result.test.count, 240)
        XCTAssertEqual(result.training.classCounts.reduce(0, +), result.training.count)
        // 44 % rubble: intact gets the smaller weight.
        XCTAssertLessThan(result.classWeights[0], 1)
        XCTAssertGreaterThan(result.classWeights[1], 1)
        XCTAssertEqual(result.history.records.count, 8)
        // Better than always answering the majority class (56 %).
        XCTAssertGreaterThan(result.report.accuracy, 0.7, "validation accuracy \(result.report.accuracy)")
        XCTAssertGreaterThan(result.report.rocAUC ?? 0, 0.75)

        for file in result.files {
            XCTAssertTrue(FileManager.default.fileExists(atPath: file.path), file.path)
        }
        let run = result.runDirectory
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("metrics.json")))
            as! [String: Any]
        XCTAssertEqual(metrics["positiveClass"] as? String, "rubble")
        XCTAssertEqual((metrics["accuracy"] as? NSNumber)?.doubleValue ?? -1, result.report.accuracy, accuracy: 1e-12)
        let history = try History.readCSV(run.appendingPathComponent("history.csv"))
        XCTAssertEqual(history.records.map(\.epoch), Array(1...8))
        let predictions = try String(contentsOf: run.appendingPathComponent("predictions.csv"), encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(predictions.first, "path,label,p0,p1,predicted")
        XCTAssertEqual(predictions.count, 1 + result.validation.count)
        let sweep = try String(contentsOf: run.appendingPathComponent("threshold_sweep.csv"), encoding: .utf8)
        XCTAssertTrue(sweep.hasPrefix("threshold,precision_intact,recall_intact,precision_rubble,recall_rubble\n"))
        for plot in ["training_curves.svg", "threshold_sweep.svg"] {
            let svg = try String(contentsOf: run.appendingPathComponent(plot), encoding: .utf8)
            XCTAssertTrue(svg.contains("<svg") && svg.contains("</svg>"), plot)
        }
        let metadata = try KerasWeights.metadata(of: run.appendingPathComponent("best.h5"))
        XCTAssertEqual(metadata.classNames, ["intact", "rubble"])
        XCTAssertEqual(metadata.inputShape, [48, 48, 3])
        let images = try FileManager.default.contentsOfDirectory(atPath: result.dataDirectory.appendingPathComponent("rubble").path)
        XCTAssertEqual(images.count, 106)  // 44 % of 240
        XCTAssertEqual(try ImageDecoder.size(contentsOf: result.dataDirectory.appendingPathComponent("rubble/\(images.sorted()[0])")).width, 48)
    }
}
