import Foundation
import Tensor
import TestSupport
import Vision
import XCTest

/// `rubble segment` as a user runs it: the files and columns other tools read, depth maps,
/// bad images and bad folders.
final class SegmentCommandTests: XCTestCase {
    let model = Fixtures.url("segformer/segformer").path

    func testWritesLogitsMasksPanelsAndTheCSV() throws {
        let directory = try temporaryDirectory(self)
        let out = directory.appendingPathComponent("out")
        // A path with a comma must survive the CSV; two photos share a stem.
        let odd = directory.appendingPathComponent("a,b")
        try FileManager.default.createDirectory(at: odd, withIntermediateDirectories: true)
        let second = odd.appendingPathComponent("img_97x61.png")
        try FileManager.default.copyItem(at: Fixtures.url("img_97x61.png"), to: second)
        let depth = directory.appendingPathComponent("depth.npy")
        try NPYFile.data(Tensor([Float](repeating: 2, count: 61 * 97), shape: [61, 97])).write(to: depth)
        let outcome = try ToolRunner.run(["segment", "--model", model, "--out", out.path,
                                          "--depth", depth.path, depth.path, "--",
                                          Fixtures.url("img_97x61.png").path, second.path])
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        for stem in ["img_97x61", "img_97x61-2"] {
            let logits = try NPYFile.read(out.appendingPathComponent("\(stem)_logits.npy"))
            XCTAssertEqual(logits.shape, [3, 16, 16], "[classes, h/4, w/4] of the 64x64 input")
            let mask = try ClassMask.read(contentsOf: out.appendingPathComponent("\(stem)_mask.png"))
            XCTAssertEqual(mask.width, 97); XCTAssertEqual(mask.height, 61)
            XCTAssertTrue(mask.indices.allSatisfy { $0 < 3 })
            let panel = try ImageDecoder.decode(contentsOf: out.appendingPathComponent("\(stem)_segment.png"))
            XCTAssertGreaterThan(panel.width, 2 * 97)
        }
        let csv = try String(contentsOf: out.appendingPathComponent("segments.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "path,fraction_undamaged_structure,fraction_damaged_structure,fraction_debris,severity,milliseconds")
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[2].hasPrefix("\"" + second.path + "\","), lines[2])
        let fields = lines[1].split(separator: ",").map(String.init)
        let fractions = fields[1...3].compactMap(Double.init)
        XCTAssertEqual(fractions.reduce(0, +), 1, accuracy: 1e-5)
        // A constant depth map leaves the score as without one: 0.5 * damaged + debris.
        XCTAssertEqual(Double(fields[4]) ?? -1, 0.5 * fractions[1] + fractions[2], accuracy: 1e-5)
    }

    func testBadImagesAreReportedAndTheOthersStillSegmented() throws {
        let directory = try temporaryDirectory(self)
        let bad = directory.appendingPathComponent("broken.jpg")
        try Data("not an image".utf8).write(to: bad)
        let out = directory.appendingPathComponent("out")
        let outcome = try ToolRunner.run(["segment", "--model", model, "--out", out.path, bad.path, Fixtures.url("img_other.png").path])
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(outcome.standardError.contains("broken.jpg"), outcome.standardError)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("img_other_mask.png").path))
        let csv = try String(contentsOf: out.appendingPathComponent("segments.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 2)
    }

    func testRefusals() throws {
        let directory = try temporaryDirectory(self)
        let image = Fixtures.url("img_97x61.png").path
        let noConfig = try ToolRunner.run(["segment", "--model", directory.path, "--out", directory.appendingPathComponent("o").path, image])
        XCTAssertNotEqual(noConfig.status, 0)
        XCTAssertTrue(noConfig.standardError.contains("config.json"), noConfig.standardError)
        let counts = try ToolRunner.run(["segment", "--model", model, "--depth", image, "--", image, image])
        XCTAssertEqual(counts.status, 64)
        XCTAssertTrue(counts.standardError.contains("one per image"), counts.standardError)
        let tall = directory.appendingPathComponent("tall.npy")
        try NPYFile.data(Tensor(zeros: [40, 20])).write(to: tall)
        let aspect = try ToolRunner.run(["segment", "--model", model, "--out", directory.appendingPathComponent("o2").path,
                                         "--depth", tall.path, "--", image])
        XCTAssertNotEqual(aspect.status, 0)
        XCTAssertTrue(aspect.standardError.contains("tall.npy"), aspect.standardError)
    }
}
