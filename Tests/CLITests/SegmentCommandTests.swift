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
        XCTAssertEqual(lines.first, "path,fraction_undamaged_structure,fraction_damaged_structure,fraction_debris,severity,milliseconds,"
                       + "severity_depth_weighted")
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[2].hasPrefix("\"" + second.path + "\","), lines[2])
        let fields = lines[1].split(separator: ",").map(String.init)
        let fractions = fields[1...3].compactMap(Double.init)
        XCTAssertEqual(fractions.reduce(0, +), 1, accuracy: 1e-5)
        // `severity` is unweighted: 0.5 * damaged + debris; a constant depth map weighs every pixel alike.
        XCTAssertEqual(Double(fields[4]) ?? -1, 0.5 * fractions[1] + fractions[2], accuracy: 1e-5)
        XCTAssertEqual(Double(fields[6]) ?? -1, 0.5 * fractions[1] + fractions[2], accuracy: 1e-5)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("img_97x61_depth.npy").path))
    }

    /// `--depth-model`: the depth model's output as `<stem>_depth.npy` (transformers' predicted_depth
    /// for the preprocessed photo), a third panel tile, and `severity_depth_weighted` equal to the
    /// formula with depth = min(100, max(d) / d) resampled to the photo.
    func testDepthModelWritesDepthAndWeightsTheScore() throws {
        let directory = try temporaryDirectory(self)
        let out = directory.appendingPathComponent("out"), plain = directory.appendingPathComponent("plain")
        let photos = [Fixtures.url("img_97x61.png").path, Fixtures.url("img_other.png").path]
        let outcome = try ToolRunner.run(["segment", "--model", model, "--depth-model", Fixtures.url("segformer/depth").path,
                                          "--out", out.path, "--batch-size", "2", "--"] + photos)
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        XCTAssertEqual(try ToolRunner.run(["segment", "--model", model, "--out", plain.path, "--", photos[0]]).status, 0)

        let depth = try NPYFile.read(out.appendingPathComponent("img_97x61_depth.npy"))
        let expected = try Fixtures.tensor("depth/pipeline_predicted")
        XCTAssertEqual(depth.shape, [56, 84], "the model's input resolution for a 97x61 photo at 56")
        let scale = expected.scalars.map(abs).max() ?? 1
        XCTAssertLessThan(depth.reshaped([1, 56, 84]).maxAbsDifference(expected) / scale, 1e-4)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("img_other_depth.npy").path))
        let panel = try ImageDecoder.decode(contentsOf: out.appendingPathComponent("img_97x61_segment.png"))
        let plainPanel = try ImageDecoder.decode(contentsOf: plain.appendingPathComponent("img_97x61_segment.png"))
        XCTAssertGreaterThan(panel.width, plainPanel.width + 100, "a third tile")

        let lines = try String(contentsOf: out.appendingPathComponent("segments.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasSuffix(",severity,milliseconds,severity_depth_weighted"), lines[0])
        XCTAssertEqual(lines.count, 3)
        let fields = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(fields.count, 7)
        let mask = try ClassMask.read(contentsOf: out.appendingPathComponent("img_97x61_mask.png"))
        // The relative depth by hand: min(100, max(d) / d), resampled bilinearly to 97x61.
        let disparity = depth.scalars, largest = disparity.max() ?? 0
        let relative = disparity.map { min(100, largest / max($0, largest / 100)) }
        let fitted = Resize.resizeMap(relative, width: 84, height: 56, toWidth: 97, toHeight: 61, method: .bilinear)
        var weighted = 0.0, area = 0.0, plainSum = 0.0
        for (p, c) in mask.indices.enumerated() {
            let a = Double(fitted[p]) * Double(fitted[p]), v = [0, 0.5, 1][Int(c)]
            weighted += a * v; area += a; plainSum += v
        }
        XCTAssertEqual(Double(fields[4]) ?? -1, plainSum / Double(mask.indices.count), accuracy: 2e-6, "severity is unweighted")
        XCTAssertEqual(Double(fields[6]) ?? -1, weighted / area, accuracy: 2e-6, "severity_depth_weighted")
        XCTAssertTrue(outcome.standardOutput.contains("depth-weighted"), outcome.standardOutput)
    }

    func testDepthModelRefusals() throws {
        let directory = try temporaryDirectory(self)
        let image = Fixtures.url("img_97x61.png").path
        let both = try ToolRunner.run(["segment", "--model", model, "--depth", image, "--depth-model", Fixtures.url("segformer/depth").path,
                                       "--", image])
        XCTAssertEqual(both.status, 64)
        XCTAssertTrue(both.standardError.contains("--depth and --depth-model"), both.standardError)
        // A SegFormer folder given as the depth model: both model types and the file are named.
        let wrong = try ToolRunner.run(["segment", "--model", model, "--depth-model", model,
                                        "--out", directory.appendingPathComponent("o").path, "--", image])
        XCTAssertNotEqual(wrong.status, 0)
        for part in ["segformer", "depth_anything", "config.json"] {
            XCTAssertTrue(wrong.standardError.contains(part), wrong.standardError)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("o/segments.csv").path),
                       "nothing is segmented with a wrong depth model")
        // A 300x2 strip rounds to 0 rows at the depth model's 56 in multiples of 14: reported with
        // its path and both sizes, the other photo still segmented, exit status 1.
        let strip = directory.appendingPathComponent("strip.png")
        try ImageEncoder.writePNG(RGBImage(width: 300, height: 2, pixels: [UInt8](repeating: 128, count: 1800)), to: strip)
        let out = directory.appendingPathComponent("o3")
        let partial = try ToolRunner.run(["segment", "--model", model, "--depth-model", Fixtures.url("segformer/depth").path,
                                          "--out", out.path, "--", strip.path, image])
        XCTAssertEqual(partial.status, 1, partial.standardError)
        XCTAssertTrue(partial.standardError.contains("strip.png") && partial.standardError.contains("300x2"), partial.standardError)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("img_97x61_depth.npy").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("strip_depth.npy").path))
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
