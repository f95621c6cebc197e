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

/// `rubble screen` over a store, `rubble worker` and `rubble export` as processes: workers of
/// which one is SIGKILLed mid-run, a screen killed and rerun. On an SQLite file always, on
/// PostgreSQL too when `RUBBLE_POSTGRES_URL` is set (`.ci/run` sets it).
final class StoreCommandTests: XCTestCase {
    private func weights(in folder: URL) throws -> URL {
        let model = try Architecture.baseline.makeClassifier(imageSize: 48, hiddenUnits: 8, classes: 2, seed: 5)
        let url = folder.appendingPathComponent("tiny.h5")
        try KerasWeights.save(model, to: url, metadata: ModelMetadata(classNames: ["damage", "intact"], inputShape: [48, 48, 3],
                                                                      architecture: "baseline", head: "8"))
        return url
    }

    /// `count` photos: distinct ones, byte-identical copies (every 6th) and near duplicates
    /// (every 6th, a copy with a few pixels changed), so both kinds cross worker batches.
    private func writeStream(_ count: Int, in folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var distinct: [RGBImage] = []
        var generator = SeededGenerator(seed: 7)
        for i in 0..<count {
            let url = folder.appendingPathComponent(String(format: "%04d.png", i))
            if i % 6 == 5, let source = distinct.randomElement(using: &generator) {
                try ImageEncoder.writePNG(source, to: url)
            } else if i % 6 == 2, let source = distinct.last {
                var near = source
                for k in 0..<6 { near[x: k * 7, y: k * 5] = (255, 0, 0) }
                try ImageEncoder.writePNG(near, to: url)
            } else {
                let seed = i * 13 + 1
                let image = RGBImage(width: 64, height: 64) { x, y in
                    (UInt8((x * (seed % 9 + 2) + y * 3 + seed) % 256), UInt8((y * (seed % 7 + 1) + x) % 256),
                     UInt8(((x / 8) ^ (y / 8) ^ seed) * 29 % 256))
                }
                distinct.append(image)
                try ImageEncoder.writePNG(image, to: url)
            }
        }
    }

    private func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = ToolRunner.executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// `results.csv` rows without the timing column, keyed by file name.
    private func answers(_ folder: URL) throws -> [String] {
        let text = try String(contentsOf: folder.appendingPathComponent("results.csv"), encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false)
        guard let ms = header.firstIndex(of: "milliseconds") else { return [] }
        return lines.map { line in
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            fields.remove(at: ms)
            return fields.map { ($0 as NSString).lastPathComponent }.joined(separator: ",")
        }
    }

    /// The rows of `a` and `b` that differ (empty when they are the same).
    private func differences(_ a: [String], _ b: [String]) -> [String] {
        var out = zip(a, b).filter { $0 != $1 }.map { "\($0) != \($1)" }
        if a.count != b.count { out.append("\(a.count) rows != \(b.count) rows") }
        return Array(out.prefix(5))
    }

    private func stores(_ root: URL) -> [(String, String)] {
        var out = [("sqlite", "sqlite:" + root.appendingPathComponent("shared.sqlite").path)]
        if let url = ProcessInfo.processInfo.environment["RUBBLE_POSTGRES_URL"] { out.append(("postgres", url)) }
        return out
    }

    func testThreeWorkersOneKilledGiveTheSingleWorkerAnswers() throws {
        let root = try temporaryDirectory(self)
        let photos = root.appendingPathComponent("photos")
        try writeStream(300, in: photos)
        let model = try weights(in: root)
        let common = ["--weights", model.path, "--min-size", "0", "--no-gradcam", "--threshold", "0.3", "--batch-size", "8"]
        let single = try ToolRunner.run(["screen", photos.path, "--out", root.appendingPathComponent("single").path] + common)
        XCTAssertEqual(single.status, 0, single.standardError)
        let reference = try answers(root.appendingPathComponent("single"))
        XCTAssertEqual(reference.count, 300)
        XCTAssertGreaterThan(reference.filter { $0.contains(",exact") || $0.contains("png,,") }.count, 0)

        for (kind, db) in stores(root) {
            if kind == "postgres" { try resetPostgres(db) }
            let out = root.appendingPathComponent("out-\(kind)")
            let screen = try start(["screen", photos.path, "--db", db, "--out", out.path] + common)
            let workerFlags = ["worker", "--db", db, "--weights", model.path, "--batch-size", "8", "--lease-seconds", "3",
                               "--poll-interval", "0.2", "--max-seconds", "300"]
            var workers = try (0..<3).map { try start(workerFlags + ["--name", "w\($0)"]) }
            // SIGKILL one worker mid-run (it may hold a claimed batch), start nothing in its place.
            usleep(1_500_000)
            kill(workers[1].processIdentifier, SIGKILL)
            screen.waitUntilExit()
            XCTAssertEqual(screen.terminationStatus, 0, "\(kind): the screen returned once every photo had an answer")
            for w in workers where w.isRunning { w.terminate() }
            for w in workers { w.waitUntilExit() }
            workers.removeAll()
            XCTAssertEqual(differences(try answers(out), reference), [], "\(kind): the same answers, duplicates included, as one worker")
            let export = try ToolRunner.run(["export", "--db", db, "--out", root.appendingPathComponent("export-\(kind)").path])
            XCTAssertEqual(export.status, 0, export.standardError)
            XCTAssertEqual(differences(try answers(root.appendingPathComponent("export-\(kind)")), reference), [], "\(kind): rubble export")
        }
    }

    func testAKilledScreenRerunEndsAsAnUninterruptedOne() throws {
        let root = try temporaryDirectory(self)
        let photos = root.appendingPathComponent("photos")
        try writeStream(160, in: photos)
        let model = try weights(in: root)
        let common = ["--weights", model.path, "--min-size", "0", "--threshold", "0.3", "--batch-size", "4"]
        let whole = root.appendingPathComponent("whole"), parts = root.appendingPathComponent("parts")
        XCTAssertEqual(try ToolRunner.run(["screen", photos.path, "--out", whole.path] + common).status, 0)
        let killed = try start(["screen", photos.path, "--out", parts.path] + common)
        usleep(1_200_000)
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        let rerun = try ToolRunner.run(["screen", photos.path, "--out", parts.path] + common)
        XCTAssertEqual(rerun.status, 0, rerun.standardError)
        XCTAssertEqual(differences(try answers(parts), try answers(whole)), [], "the store after kill + rerun equals an uninterrupted run's")
        let panels = { (folder: URL) in
            try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("gradcam").path).sorted()
        }
        XCTAssertEqual(try panels(parts), try panels(whole))
    }

    /// `--relevance-weights`: a first model whose "relevant" class is below the threshold labels
    /// a photo irrelevant; the damage model, Grad-CAM and the flag skip it; the summary counts it.
    func testTheRelevancyFilterLabelsPhotosIrrelevant() throws {
        let root = try temporaryDirectory(self)
        let photos = root.appendingPathComponent("photos")
        try writeStream(6, in: photos)
        let model = try weights(in: root)
        // The same tiny model as the relevancy filter, its class "intact" taken for "relevant".
        for (threshold, irrelevant) in [("0", 0), ("1", 4)] {
            let out = root.appendingPathComponent("out-\(threshold)")
            let outcome = try ToolRunner.run(["screen", photos.path, "--weights", model.path, "--min-size", "0", "--threshold", "0",
                                              "--relevance-weights", model.path, "--relevant-class", "intact",
                                              "--relevance-threshold", threshold, "--out", out.path])
            XCTAssertEqual(outcome.status, 0, outcome.standardError)
            XCTAssertTrue(outcome.standardError.contains(", \(irrelevant) irrelevant"), outcome.standardError)
            let text = try String(contentsOf: out.appendingPathComponent("results.csv"), encoding: .utf8)
            let lines = text.split(separator: "\n")
            XCTAssertTrue(lines[0].hasSuffix(",error,latitude,longitude,taken_at,relevance"), String(lines[0]))
            XCTAssertEqual(lines.filter { $0.contains(",irrelevant,") }.count, irrelevant, text)
            let panels = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("gradcam").path)
            XCTAssertEqual(panels.count, 4 - irrelevant, "irrelevant photos (and the 2 duplicates) get no Grad-CAM panel")
        }
        let bad = try ToolRunner.run(["screen", photos.path, "--weights", model.path, "--relevance-weights", model.path,
                                      "--relevant-class", "people", "--out", root.appendingPathComponent("bad").path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.standardError.contains("--relevant-class people is not a class of"), bad.standardError)
    }

    func testAStoreThatCannotBeReachedIsAClearErrorBeforeAnyWork() throws {
        let root = try temporaryDirectory(self)
        let photos = root.appendingPathComponent("photos")
        try writeStream(3, in: photos)
        let model = try weights(in: root)
        let out = root.appendingPathComponent("out")
        let outcome = try ToolRunner.run(["screen", photos.path, "--weights", model.path, "--out", out.path,
                                          "--db", "postgres://nobody@127.0.0.1:1/none"])
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(outcome.standardError.contains("postgres://nobody@127.0.0.1:1/none: cannot open the store"), outcome.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("results.csv").path))
        let worker = try ToolRunner.run(["worker", "--weights", model.path])
        XCTAssertNotEqual(worker.status, 0)
        XCTAssertTrue(worker.standardError.contains("--db is required"), worker.standardError)
        let bad = try ToolRunner.run(["export", "--db", "mysql://x/y", "--out", out.path])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.standardError.contains("unknown scheme"), bad.standardError)
    }

    private func resetPostgres(_ url: String) throws {
        let psql = Process()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        psql.arguments = [url, "-q", "-c", "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"]
        psql.standardOutput = FileHandle.nullDevice
        try psql.run()
        psql.waitUntilExit()
        XCTAssertEqual(psql.terminationStatus, 0, "psql could reset \(url)")
    }
}
