import Foundation
import Inference
import KerasFiles
import Layers
import Tensor
import TestSupport
import Train
import Vision
import XCTest
import Zoo

/// `rubble predict` as a user runs it: CSV/JSON shape, class names from the weights file,
/// bad images reported without stopping the others.
final class PredictCommandTests: XCTestCase {
    /// A seeded baseline CNN saved with class names, and the probabilities the library gives.
    func makeModel(in directory: URL) throws -> (weights: URL, model: Sequential) {
        let model = try Architecture.baseline.makeClassifier(imageSize: 64, hiddenUnits: 16, classes: 2, seed: 3)
        let weights = directory.appendingPathComponent("baseline.h5")
        try KerasWeights.save(model, to: weights,
                              metadata: ModelMetadata(classNames: ["intact", "damage"], inputShape: [64, 64, 3]))
        return (weights, model)
    }

    func testCSVHasOneRowPerReadableImageAndReportsBadOnes() throws {
        let directory = try temporaryDirectory(self)
        let (weights, model) = try makeModel(in: directory)
        let bad = directory.appendingPathComponent("broken.jpg")
        try Data("not an image".utf8).write(to: bad)
        let good = [Fixtures.url("img_97x61.png"), Fixtures.url("img_97x61_q90.jpg")]

        let outcome = try ToolRunner.run(["predict", "--arch", "baseline", "--head", "16", "--weights", weights.path,
                                          good[0].path, bad.path, good[1].path])
        XCTAssertEqual(outcome.status, 1, "a failed image makes the exit status 1")
        XCTAssertTrue(outcome.standardError.contains("broken.jpg"), outcome.standardError)

        let lines = outcome.standardOutput.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "path,p0,p1,label")
        XCTAssertEqual(lines.count, 3, outcome.standardOutput)

        // The tool's probabilities equal the library's on the same input pipeline.
        let pipeline = ImagePipeline(imageSize: 64)
        let images = try good.map { try ImageDecoder.decode(contentsOf: $0, atLeast: (64, 64)) }
        let expected = try withoutGradients { try model(pipeline.tensor(images)) }.scalars
        for (row, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",").map(String.init)
            XCTAssertEqual(fields[0], good[row].path)
            let p = fields[1...2].compactMap(Float.init)
            XCTAssertEqual(p.count, 2)
            XCTAssertEqual(p[0], expected[row * 2], accuracy: 1e-5)
            XCTAssertEqual(p[1], expected[row * 2 + 1], accuracy: 1e-5)
            XCTAssertEqual(p[0] + p[1], 1, accuracy: 1e-5)
            XCTAssertEqual(fields[3], p[1] > p[0] ? "damage" : "intact")
        }
    }

    func testJSONAndMissingWeightsFileError() throws {
        let directory = try temporaryDirectory(self)
        let (weights, _) = try makeModel(in: directory)
        let outcome = try ToolRunner.run(["predict", "--arch", "baseline", "--head", "16", "--weights", weights.path,
                                          "--format", "json", Fixtures.url("img_97x61.png").path])
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        let rows = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [[String: Any]]
        XCTAssertEqual(rows?.count, 1)
        XCTAssertEqual((rows?.first?["probabilities"] as? [Double])?.count, 2)

        let missing = try ToolRunner.run(["predict", "--arch", "baseline", "--weights",
                                          directory.appendingPathComponent("nope.h5").path,
                                          Fixtures.url("img_97x61.png").path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.standardError.contains("nope.h5"), missing.standardError)
    }

    func testWrongArchitectureForWeightsIsAClearError() throws {
        let directory = try temporaryDirectory(self)
        let (weights, _) = try makeModel(in: directory)
        let outcome = try ToolRunner.run(["predict", "--arch", "baseline", "--head", "32", "--weights", weights.path,
                                          Fixtures.url("img_97x61.png").path])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.standardError.contains("dense"), outcome.standardError)
        XCTAssertTrue(outcome.standardError.contains("baseline.h5"), outcome.standardError)
    }
}
