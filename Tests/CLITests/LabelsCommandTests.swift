import Foundation
import KerasFiles
import Layers
import Tensor
import Vision
import XCTest
import Zoo
#if canImport(Glibc)
import Glibc
#endif

/// The retraining loop closed: `rubble screen` writes the paths, a person's verdicts come back
/// as report.html's `verified_labels.csv`, and `rubble train --labels` / `rubble evaluate
/// --labels` use them.
final class LabelsCommandTests: XCTestCase {
    /// A 48x48 PNG, different for each seed; class 0 and class 1 look different.
    private func photo(_ seed: Int, damaged: Bool) throws -> Data {
        try ImageEncoder.png(RGBImage(width: 48, height: 48) { x, y in
            damaged ? (UInt8((y * 5 + seed * 13) % 256), 200, UInt8((x * seed) % 256))
                : (40, UInt8((x * seed + y) % 256), UInt8((x * 5 + seed * 11) % 256))
        })
    }

    /// Writes `data` at the byte path `path` (names need not be UTF-8).
    private func write(_ data: Data, to path: [UInt8]) {
        let fd = (path + [0]).withUnsafeBufferPointer {
            $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY | O_TRUNC, 0o644) }
        }
        XCTAssertGreaterThanOrEqual(fd, 0)
        data.withUnsafeBytes { _ = Glibc.write(fd, $0.baseAddress!, $0.count) }
        close(fd)
    }

    /// `root/data/{damage,intact}/{0,1,2}.png` and `root/photos/` with six photos (one named in
    /// Latin-1, one with a comma, one a byte-for-byte copy of `data/intact/0.png`).
    private func makeFolders(_ root: URL) throws {
        for (name, damaged) in [("damage", true), ("intact", false)] {
            let folder = root.appendingPathComponent("data/\(name)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0..<3 { try photo(i + 1, damaged: damaged).write(to: folder.appendingPathComponent("\(i).png")) }
        }
        let photos = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        try photo(7, damaged: true).write(to: photos.appendingPathComponent("a.png"))
        try photo(8, damaged: false).write(to: photos.appendingPathComponent("b, with comma.png"))
        write(try photo(9, damaged: true), to: Array(photos.path.utf8) + Array("/caf".utf8) + [0xE9] + Array(".png".utf8))
        try FileManager.default.copyItem(at: root.appendingPathComponent("data/intact/0.png"),
                                         to: photos.appendingPathComponent("same-as-data.png"))
        try photo(10, damaged: false).write(to: photos.appendingPathComponent("unverified.png"))
        try photo(11, damaged: false).write(to: photos.appendingPathComponent("e.png"))
    }

    /// The verdicts a person gives, by file name (empty: not verified).
    private let verdicts = ["a.png": "damage", "b, with comma.png": "intact", "caf\\xE9.png": "damage",
                            "same-as-data.png": "intact", "unverified.png": "", "e.png": "intact"]

    /// A baseline model (48x48, head 4) for classes `intact, damage` whose output ignores the
    /// photo: the last layer's kernel is zero and its bias `bias`.
    private func constantModel(bias: [Float], in folder: URL, name: String) throws -> URL {
        let model = try Architecture.baseline.makeClassifier(imageSize: 48, hiddenUnits: 4, classes: 2, seed: 1)
        let last = try model.layer(named: "dense_1").parameters
        last[0].value = Tensor(repeating: 0, shape: last[0].shape)
        last[1].value = Tensor(bias, shape: [2])
        let url = folder.appendingPathComponent(name)
        try KerasWeights.save(model, to: url, metadata: ModelMetadata(classNames: ["intact", "damage"], inputShape: [48, 48, 3],
                                                                      architecture: "baseline", head: "4"))
        return url
    }

    /// Screens `root/photos` from `root` (so results.csv has `photos/...` paths, as a user's run
    /// would) and writes the export report.html would give for `verdicts` into
    /// `root/downloads/verified_labels.csv` (a browser's download folder).
    private func screenAndVerify(_ root: URL) throws -> URL {
        let weights = try constantModel(bias: [0, 1], in: root, name: "screen.h5")
        let screen = try ToolRunner.run(["screen", "photos", "--weights", weights.path, "--min-size", "0", "--threshold", "0",
                                         "--no-gradcam", "--out", "out"], in: root)
        XCTAssertEqual(screen.status, 0, screen.standardError)
        let table = parseCSV(try String(contentsOf: root.appendingPathComponent("out/results.csv"), encoding: .utf8))
        let header = try XCTUnwrap(table.first)
        let path = try XCTUnwrap(header.firstIndex(of: "path")), label = try XCTUnwrap(header.firstIndex(of: "label"))
        XCTAssertEqual(table.count, 7, "\(table)")
        func field(_ text: String) -> String {
            text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        var lines = ["path,predicted,verified_label"]
        for row in table.dropFirst() {
            let name = String(row[path].dropFirst("photos/".count))
            let verdict = try XCTUnwrap(verdicts[name], "results.csv path \(row[path])")
            lines.append([row[path], row[label], verdict].map(field).joined(separator: ","))
        }
        XCTAssertTrue(lines.contains { $0.hasPrefix("photos/caf\\xE9.png,") && $0.hasSuffix(",damage") }, "\(lines)")
        let downloads = root.appendingPathComponent("downloads")
        try FileManager.default.createDirectory(at: downloads, withIntermediateDirectories: true)
        let csv = downloads.appendingPathComponent("verified_labels.csv")
        try (lines.joined(separator: "\n") + "\n").write(to: csv, atomically: true, encoding: .utf8)
        return csv
    }

    private func json(_ url: URL) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    func testTrainsFromTheReportsExportMergedWithDataAndAlone() throws {
        let root = try temporaryDirectory(self)
        try makeFolders(root)
        let csv = try screenAndVerify(root)
        let common = ["train", "--labels", csv.path, "--labels-root", root.path, "--arch", "baseline", "--head", "4",
                      "--image-size", "48", "--val-split", "0", "--epochs", "2", "--batch-size", "4", "--lr", "1e-3"]

        // Merged: 6 folder photos + 5 verdicts (one row unverified), one of them a copy of a folder photo.
        let run = root.appendingPathComponent("merged")
        let merged = try ToolRunner.run(common + ["--data", root.appendingPathComponent("data").path, "--out", run.path])
        XCTAssertEqual(merged.status, 0, merged.standardError)
        XCTAssertTrue(merged.standardOutput.contains("labels: \(csv.path): 5 verified photos (damage 2, intact 3); "
                                                     + "1 row without a verdict skipped; merged with "
                                                     + "\(root.appendingPathComponent("data").path) (6 photos): 4 added, "
                                                     + "1 left out as duplicates (1 of folder photos, 0 of other verified photos); "
                                                     + "10 photos\n"), merged.standardOutput)
        XCTAssertTrue(merged.standardOutput.contains("data: 10 training images, no validation in classes damage, intact"),
                      merged.standardOutput)
        XCTAssertTrue(merged.standardOutput.contains("damage 1.0000 (5 images), intact 1.0000 (5 images)"), merged.standardOutput)
        XCTAssertEqual(try json(run.appendingPathComponent("classes.json"))["class_names"] as? [String], ["damage", "intact"])
        let history = try String(contentsOf: run.appendingPathComponent("history.csv"), encoding: .utf8)
        XCTAssertEqual(history.split(separator: "\n").count, 3, history)

        // Alone, in the order --classes gives: the 5 verified photos, none left out.
        let alone = root.appendingPathComponent("alone")
        let only = try ToolRunner.run(common + ["--classes", "intact,damage", "--out", alone.path])
        XCTAssertEqual(only.status, 0, only.standardError)
        XCTAssertTrue(only.standardOutput.contains("data: 5 training images, no validation in classes intact, damage"),
                      only.standardOutput)
        XCTAssertEqual(try json(alone.appendingPathComponent("classes.json"))["class_names"] as? [String], ["intact", "damage"])
        XCTAssertEqual(try String(contentsOf: alone.appendingPathComponent("history.csv"), encoding: .utf8)
            .split(separator: "\n").count, 3)
    }

    func testEvaluateCountsTheModelsAnswersAgainstTheVerdicts() throws {
        let root = try temporaryDirectory(self)
        try makeFolders(root)
        let csv = try screenAndVerify(root)
        // 5 verdicts: intact 3, damage 2 (the copy of a folder photo counts: there is no folder here).
        for (bias, matrix) in [([Float(0), 10], [[0, 3], [0, 2]]), ([10, 0], [[3, 0], [2, 0]])] {
            let weights = try constantModel(bias: bias, in: root, name: "constant-\(bias[0]).h5")
            let out = root.appendingPathComponent("eval-\(bias[0])")
            let outcome = try ToolRunner.run(["evaluate", "--weights", weights.path, "--labels", csv.path,
                                              "--labels-root", root.path, "--out", out.path])
            XCTAssertEqual(outcome.status, 0, outcome.standardError)
            let text = outcome.standardOutput
            XCTAssertTrue(text.contains("labels: \(csv.path): 5 verified photos (damage 2, intact 3); 1 row without a verdict skipped; 5 photos"), text)
            XCTAssertTrue(text.contains("5 images in "), text)
            XCTAssertTrue(text.contains("truth \\ pred    intact    damage\n"
                                        + "    intact         \(matrix[0][0])         \(matrix[0][1])\n"
                                        + "    damage         \(matrix[1][0])         \(matrix[1][1])"), text)
            XCTAssertTrue(text.contains(String(format: "accuracy %.4f on 5 examples", Double(matrix[0][0] + matrix[1][1]) / 5)), text)
            XCTAssertEqual(try json(out.appendingPathComponent("metrics.json"))["confusionMatrix"] as? [[Int]], matrix)
            let predictions = try String(contentsOf: out.appendingPathComponent("predictions.csv"), encoding: .utf8)
            XCTAssertTrue(predictions.contains("\n\(root.path)/photos/caf\\xE9.png,damage,"), predictions)
            XCTAssertTrue(predictions.contains("\n\"\(root.path)/photos/b, with comma.png\",intact,"), predictions)
            XCTAssertEqual(predictions.split(separator: "\n").count, 6)
        }
    }

    /// The verdicts go into the screen's store (`rubble verdicts`), and `--db` trains and
    /// evaluates on every photo with a verdict, as `--labels` does on the CSV.
    func testVerdictsInTheStoreTrainAndEvaluateAsTheCSVDoes() throws {
        let root = try temporaryDirectory(self)
        try makeFolders(root)
        let csv = try screenAndVerify(root)
        let db = "sqlite:" + root.appendingPathComponent("out/rubble.sqlite").path
        let stored = try ToolRunner.run(["verdicts", "--db", db, "--verifier", "ana", csv.path], in: root)
        XCTAssertEqual(stored.status, 0, stored.standardError)
        XCTAssertTrue(stored.standardError.contains("5 verdicts by ana stored"), stored.standardError)
        // A later verdict supersedes an earlier one: e.png becomes damage, then back to intact.
        let again = root.appendingPathComponent("again.csv")
        try "path,label\nphotos/e.png,damage\n".write(to: again, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ToolRunner.run(["verdicts", "--db", db, "--verifier", "ben", again.path], in: root).status, 0)
        try "path,label\nphotos/e.png,intact\n".write(to: again, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ToolRunner.run(["verdicts", "--db", db, "--verifier", "ana", again.path], in: root).status, 0)
        let weights = try constantModel(bias: [0, 10], in: root, name: "constant.h5")
        let out = root.appendingPathComponent("eval-db")
        let evaluated = try ToolRunner.run(["evaluate", "--weights", weights.path, "--db", db, "--out", out.path])
        XCTAssertEqual(evaluated.status, 0, evaluated.standardError)
        XCTAssertEqual(try json(out.appendingPathComponent("metrics.json"))["confusionMatrix"] as? [[Int]], [[0, 3], [0, 2]],
                       "the same five verdicts as the CSV's")
        let run = root.appendingPathComponent("trained-db")
        let trained = try ToolRunner.run(["train", "--db", db, "--data", root.appendingPathComponent("data").path, "--arch", "baseline",
                                          "--head", "4", "--image-size", "48", "--val-split", "0", "--epochs", "1", "--batch-size", "4",
                                          "--out", run.path])
        XCTAssertEqual(trained.status, 0, trained.standardError)
        XCTAssertTrue(trained.standardOutput.contains("data: 10 training images, no validation in classes damage, intact"),
                      trained.standardOutput)
        // A path the store does not know is refused with its line; nothing is stored.
        try "path,label\nphotos/a.png,damage\nphotos/nowhere.png,intact\n".write(to: again, atomically: true, encoding: .utf8)
        let unknown = try ToolRunner.run(["verdicts", "--db", db, "--verifier", "ana", again.path], in: root)
        XCTAssertEqual(unknown.status, 64, unknown.standardError)
        XCTAssertTrue(unknown.standardError.contains("line 3: the store"), unknown.standardError)
        XCTAssertTrue(unknown.standardError.contains("has no photo photos/nowhere.png"), unknown.standardError)
    }

    func testBadLabelsAndFlagsAreRefused() throws {
        let root = try temporaryDirectory(self)
        try makeFolders(root)
        let csv = root.appendingPathComponent("labels.csv")
        try "path,label\nphotos/a.png,damage\nphotos/e.png,damaged\n".write(to: csv, atomically: true, encoding: .utf8)
        let data = root.appendingPathComponent("data").path
        let cases: [([String], String)] = [
            (["train", "--labels", csv.path, "--data", data, "--out", root.appendingPathComponent("r1").path],
             "rubble: error: \(csv.path), line 3: unknown label 'damaged' (the classes are damage, intact)"),
            (["train", "--out", root.appendingPathComponent("r2").path], "give the training data"),
            (["train", "--data", data, "--labels-root", root.path, "--out", root.appendingPathComponent("r3").path],
             "--labels-root belongs to --labels"),
            (["train", "--labels", csv.path, "--classes", "damage", "--out", root.appendingPathComponent("r4").path],
             "--classes must name at least 2 different classes"),
            (["evaluate", "--random-weights", "--data", data, "--labels", csv.path, "--out", root.appendingPathComponent("e").path],
             "give one of --data, --labels and --db"),
        ]
        for (arguments, expected) in cases {
            let outcome = try ToolRunner.run(arguments)
            XCTAssertNotEqual(outcome.status, 0, "\(arguments)")
            XCTAssertTrue(outcome.standardError.contains(expected), "expected '\(expected)' in: \(outcome.standardError)")
        }
        // A verdict that contradicts the folder (the same bytes in class intact) names both files.
        try "path,label\nphotos/same-as-data.png,damage\n".write(to: csv, atomically: true, encoding: .utf8)
        let contradiction = try ToolRunner.run(["train", "--labels", csv.path, "--data", data, "--out",
                                                root.appendingPathComponent("r5").path])
        XCTAssertNotEqual(contradiction.status, 0)
        XCTAssertTrue(contradiction.standardError.contains("\(csv.path), line 2: \(root.path)/photos/same-as-data.png is labelled "
                                                           + "'damage', but the same photo (byte for byte) is \(data)/intact/0.png "
                                                           + "in class 'intact'"), contradiction.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("r5/history.csv").path))
    }
}
