import Demo
import Foundation
import XCTest
@testable import Segmentation

/// The demo's segmentation part, shrunk: it draws facades, trains, and saves a Hugging Face
/// folder that loads exactly.
final class SegmentationDemoTests: XCTestCase {
    func testSegmentationDemoWritesALoadableModel() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-segdemo-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let options = SegmentationDemoOptions(facades: 12, facadeSize: 64, inputSize: 64, epochs: 2, batchSize: 4)
        var lines: [String] = []
        let result = try Demo.runSegmentation(options, in: directory, seed: 1) { lines.append($0) }
        XCTAssertEqual(result.training.history.records.count, 2)
        XCTAssertEqual(result.training.validationPairs, 3)
        XCTAssertNotNil(result.training.bestMetrics)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: result.dataDirectory.appendingPathComponent("masks").path).count, 12)
        let model = try SegformerFolder.load(result.modelDirectory)
        XCTAssertEqual(model.classNames, SyntheticFacades.classNames)
        XCTAssertEqual(model.configuration.hiddenSizes, [16, 32, 48, 64])
        XCTAssertTrue(lines.contains { $0.contains("12 synthetic facades") }, "\(lines)")
        // A second run replaces the demo's own run instead of refusing it.
        XCTAssertEqual(try Demo.runSegmentation(options, in: directory, seed: 1).training.history.records.count, 2)
    }
}
