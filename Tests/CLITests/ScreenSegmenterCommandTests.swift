import Foundation
import KerasFiles
import TestSupport
import Vision
import XCTest
import Zoo

/// `rubble screen --segmenter` with the fixture SegFormer (3 damage classes, 64x64 input): the
/// severity column of flagged photos, the segment panels, the summary, and the refusals that
/// come before any work.
final class ScreenSegmenterCommandTests: XCTestCase {
    let segmenter = Fixtures.url("segformer/segformer").path
    static let oldHeader = ["path", "digest", "phash", "duplicate_of", "p_damage", "p_intact", "label", "milliseconds", "error"]

    /// The tiny baseline CNN (48x48, head 8) saved with its description.
    private func weights(in folder: URL) throws -> URL {
        let model = try Architecture.baseline.makeClassifier(imageSize: 48, hiddenUnits: 8, classes: 2, seed: 5)
        let url = folder.appendingPathComponent("tiny.h5")
        try KerasWeights.save(model, to: url, metadata: ModelMetadata(classNames: ["damage", "intact"], inputShape: [48, 48, 3],
                                                                      architecture: "baseline", head: "8"))
        return url
    }

    /// Five distinct PNGs, 96x80 and up.
    private func photos(in folder: URL) throws -> [String] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try (0..<5).map { seed in
            let picture = RGBImage(width: 96 + 8 * seed, height: 80) { x, y in
                (UInt8((x * (seed + 3) + y * 7) % 256), UInt8((y * (seed * 5 + 1)) % 256), UInt8((x ^ y ^ (seed * 37)) % 256))
            }
            let name = "photo\(seed).png"
            try ImageEncoder.writePNG(picture, to: folder.appendingPathComponent(name))
            return name
        }
    }

    private func table(_ out: URL) throws -> (header: [String], rows: [[String: String]]) {
        let text = try String(contentsOf: out.appendingPathComponent("results.csv"), encoding: .utf8)
        let table = parseCSV(text)
        let header = try XCTUnwrap(table.first)
        for row in table { XCTAssertEqual(row.count, header.count, "every row has every column: \(row)") }
        return (header, table.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) })
    }

    func testSeverityOfFlaggedPhotosAndTheirSegmentPanels() throws {
        let root = try temporaryDirectory(self)
        let folder = root.appendingPathComponent("photos")
        let names = try photos(in: folder)
        let model = try weights(in: root)
        func screen(_ out: URL, _ extra: [String]) throws -> ToolRunner.Outcome {
            try ToolRunner.run(["screen", folder.path, "--weights", model.path, "--min-size", "0", "--out", out.path] + extra)
        }

        // Without --segmenter the columns stay as they were.
        let plainOut = root.appendingPathComponent("plain")
        let plain = try screen(plainOut, ["--threshold", "0"])
        XCTAssertEqual(plain.status, 0, plain.standardError)
        let (plainHeader, plainRows) = try table(plainOut)
        XCTAssertEqual(plainHeader, Self.oldHeader + ["latitude", "longitude", "taken_at"])
        XCTAssertFalse(plain.standardError.contains("severity"), plain.standardError)
        let scores = plainRows.compactMap { Float($0["p_damage"]!) }.sorted()
        XCTAssertEqual(scores.count, 5)
        let threshold = scores[2]

        let out = root.appendingPathComponent("out")
        let run = try screen(out, ["--threshold", "\(threshold)", "--segmenter", segmenter])
        XCTAssertEqual(run.status, 0, run.standardError)
        let (header, rows) = try table(out)
        XCTAssertEqual(header, Self.oldHeader + ["severity", "latitude", "longitude", "taken_at"],
                       "severity after the old columns, then the EXIF ones")
        XCTAssertEqual(rows.count, 5)
        var flagged = 0, total = 0.0
        for row in rows {
            let name = (row["path"]! as NSString).lastPathComponent
            let stem = (name as NSString).deletingPathExtension
            let panel = out.appendingPathComponent("segment/\(stem)_segment.png")
            let p = try XCTUnwrap(Float(row["p_damage"]!))
            if p >= threshold {
                flagged += 1
                // Every class of the fixture is a structure class: each flagged photo gets a score.
                let severity = try XCTUnwrap(Double(row["severity"]!), "\(name): \(row["severity"]!)")
                XCTAssertTrue((0...1).contains(severity), "\(name): \(severity)")
                XCTAssertEqual(row["severity"]!.split(separator: ".").last?.count, 6, "6 decimals")
                total += severity
                let picture = try ImageDecoder.decode(contentsOf: panel)
                XCTAssertGreaterThan(picture.width, 2 * 64, "photo and overlay side by side")
            } else {
                XCTAssertEqual(row["severity"], "", "\(name) is not flagged")
                XCTAssertFalse(FileManager.default.fileExists(atPath: panel.path), "no panel for \(name)")
            }
        }
        XCTAssertTrue(flagged >= 1 && flagged < 5, "\(flagged) flagged")
        let panels = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("segment").path)
        XCTAssertEqual(panels.count, flagged)
        XCTAssertEqual(Set(names.map { ($0 as NSString).deletingPathExtension + "_segment.png" }).intersection(panels).count, flagged)
        let mean = String(format: "%.3f", total / Double(flagged))
        XCTAssertTrue(run.standardError.contains("\(flagged) of \(flagged) flagged scored for severity (mean \(mean))"),
                      run.standardError)
        XCTAssertTrue(run.standardError.contains("\(flagged) segmentation panels"), run.standardError)
        XCTAssertTrue(run.standardError.split(separator: "\n").contains { $0.hasPrefix("severity ") },
                      "the stage table has the severity stage: \(run.standardError)")
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: " data-severity=\"0.").count - 1, flagged, "a severity on every card")
        XCTAssertTrue(html.contains("src=\"./segment/"), "the segment panels are shown")
    }

    /// A bad segmenter folder, class values for other classes, and the segmenter flags without
    /// --segmenter are refused before anything is written.
    func testBadSegmenterIsRefusedBeforeAnyWork() throws {
        let root = try temporaryDirectory(self)
        let folder = root.appendingPathComponent("photos")
        _ = try photos(in: folder)
        let model = try weights(in: root)
        let notAModel = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: notAModel, withIntermediateDirectories: true)
        let otherType = root.appendingPathComponent("vit")
        try FileManager.default.createDirectory(at: otherType, withIntermediateDirectories: true)
        try Data(#"{"model_type": "vit", "id2label": {"0": "a"}}"#.utf8).write(to: otherType.appendingPathComponent("config.json"))
        let cases: [(arguments: [String], status: Int32?, message: String)] = [
            (["--segmenter", notAModel.path], 1, "config.json"),
            (["--segmenter", otherType.path], 1, "segformer"),
            (["--segmenter", segmenter, "--class-values", "wall=1"], 1, "'wall' is not one of the model's classes"),
            (["--class-values", "debris=1"], 64, "need --segmenter"),
            (["--segmenter", segmenter, "--segmenter-input-size", "8"], 64, "--segmenter-input-size 8"),
        ]
        for (n, c) in cases.enumerated() {
            let out = root.appendingPathComponent("out\(n)")
            let outcome = try ToolRunner.run(["screen", folder.path, "--weights", model.path, "--out", out.path] + c.arguments)
            XCTAssertEqual(outcome.status, c.status, "\(c.arguments): \(outcome.standardError)")
            XCTAssertTrue(outcome.standardError.contains(c.message), "\(c.arguments): \(outcome.standardError)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(c.arguments): nothing written")
        }
    }
}
