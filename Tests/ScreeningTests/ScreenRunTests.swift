import Foundation
import GradCAM
import Layers
import Screening
import Tensor
import TestSupport
import Vision
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `rubble screen`'s library side on a small folder with a tiny model: duplicates dropped,
/// damaged files reported, results.csv complete, report.html listing every flagged photo.
final class ScreenRunTests: XCTestCase {
    static let classNames = screeningClassNames

    /// 8 distinct photos (JPEG and PNG, one in a sub-folder), an exact copy, a re-encoded near
    /// copy, a small photo, and damaged files.
    func makePhotos(in folder: URL) throws {
        for i in 0..<8 {
            let picture = syntheticPhoto(width: 200 + 8 * i, height: 160 + 4 * i, seed: i * 13 + 1)
            let name = i == 5 ? "street/p\(i).png" : "p\(i).jpg"
            try write(picture, to: folder.appendingPathComponent(name), jpegQuality: i == 5 ? nil : 90)
        }
        try FileManager.default.copyItem(at: folder.appendingPathComponent("p1.jpg"), to: folder.appendingPathComponent("p1_copy.jpg"))
        let p4 = try ImageDecoder.decode(contentsOf: folder.appendingPathComponent("p4.jpg"))
        try write(p4, to: folder.appendingPathComponent("p4_reencoded.jpg"), jpegQuality: 60)
        try write(syntheticPhoto(width: 120, height: 90, seed: 77), to: folder.appendingPathComponent("small.jpg"), jpegQuality: 90)
        try Data("<html>not a photo</html>".utf8).write(to: folder.appendingPathComponent("corrupt.jpg"))
        let jpeg = try Data(contentsOf: folder.appendingPathComponent("p2.jpg"))
        try jpeg.prefix(jpeg.count / 3).write(to: folder.appendingPathComponent("truncated.jpg"))
        var garbled = jpeg
        for i in stride(from: 700, to: garbled.count - 2, by: 5) { garbled[i] = 0xFF }
        try garbled.write(to: folder.appendingPathComponent("garbled.jpg"))
        try Data("GIF89a".utf8).write(to: folder.appendingPathComponent("anim.gif"))
    }


    func testScreenWritesResultsAndReport() throws {
        let root = try temporaryFolder(self)
        let photos = root.appendingPathComponent("photos")
        try makePhotos(in: photos)
        let out = root.appendingPathComponent("out")
        var warnings: [String] = []
        let first = try screener(out: out, modelFolder: root, threshold: 0)
        first.warn = { warnings.append($0) }
        let summary = try first.run(directory: photos)

        // results.csv: fixed columns, one row per photo, in sorted path order
        let (header, rows) = try readResults(out)
        XCTAssertEqual(header, ["path", "digest", "phash", "duplicate_of", "p_damage", "p_no_damage", "label", "milliseconds", "error",
                                "latitude", "longitude", "taken_at"], "the old columns, then the EXIF ones appended")
        let names = rows.map { String($0["path"]!.dropFirst(photos.relativePath.count + 1)) }
        XCTAssertEqual(names, ["anim.gif", "corrupt.jpg", "garbled.jpg", "p0.jpg", "p1.jpg", "p1_copy.jpg", "p2.jpg", "p3.jpg",
                               "p4.jpg", "p4_reencoded.jpg", "p6.jpg", "p7.jpg", "small.jpg", "street/p5.png", "truncated.jpg"])
        func row(_ name: String) -> [String: String] { rows[names.firstIndex(of: name)!] }

        // damaged files: a row with the reason, nothing else; the run went on
        for bad in ["anim.gif", "corrupt.jpg", "garbled.jpg", "truncated.jpg"] {
            XCTAssertFalse(row(bad)["error"]!.isEmpty, bad)
            XCTAssertTrue(row(bad)["error"]!.contains(bad), "the error names the file: \(row(bad)["error"]!)")
            XCTAssertEqual(row(bad)["p_damage"], "")
            XCTAssertEqual(row(bad)["label"], "")
        }
        XCTAssertEqual(row("corrupt.jpg")["digest"]?.count, 64, "readable bytes still get a digest")
        XCTAssertEqual(warnings.count, 4)
        XCTAssertTrue(row("small.jpg")["error"]!.hasPrefix("too small: 120x90"))

        // duplicates: no probabilities, duplicate_of names the kept photo
        XCTAssertEqual(row("p1_copy.jpg")["duplicate_of"], row("p1.jpg")["path"])
        XCTAssertEqual(row("p1_copy.jpg")["digest"], row("p1.jpg")["digest"])
        XCTAssertEqual(row("p4_reencoded.jpg")["duplicate_of"], row("p4.jpg")["path"])
        XCTAssertNotEqual(row("p4_reencoded.jpg")["digest"], row("p4.jpg")["digest"])
        for dup in ["p1_copy.jpg", "p4_reencoded.jpg"] {
            XCTAssertEqual(row(dup)["p_damage"], "")
            XCTAssertEqual(row(dup)["label"], "")
            XCTAssertEqual(row(dup)["error"], "")
        }

        // classified photos
        let classified = ["p0.jpg", "p1.jpg", "p2.jpg", "p3.jpg", "p4.jpg", "p6.jpg", "p7.jpg", "street/p5.png"]
        for name in classified {
            let r = row(name)
            let p0 = try XCTUnwrap(Float(r["p_damage"]!)), p1 = try XCTUnwrap(Float(r["p_no_damage"]!))
            XCTAssertEqual(p0 + p1, 1, accuracy: 1e-4)
            XCTAssertEqual(r["label"], p0 >= p1 ? "damage" : "no_damage")
            XCTAssertEqual(r["phash"]?.count, 16)
            XCTAssertEqual(r["duplicate_of"], "")
            XCTAssertEqual(r["error"], "")
            XCTAssertNotNil(Double(r["milliseconds"]!))
        }
        XCTAssertEqual(summary.images, 15)
        XCTAssertEqual(summary.classified, 8)
        XCTAssertEqual(summary.exactDuplicates, 1)
        XCTAssertEqual(summary.nearDuplicates, 1)
        XCTAssertEqual(summary.tooSmall, 1)
        XCTAssertEqual(summary.unreadable, 4)
        XCTAssertEqual(summary.flagged, 8, "threshold 0 flags every classified photo")

        // Grad-CAM panels and the report list every flagged photo
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        let cards = reportCards(html)
        XCTAssertEqual(Set(cards.map(\.path)), Set(classified.map { row($0)["path"]! }))
        for name in classified {
            let panel = out.appendingPathComponent("gradcam/\(GradCAMStem.of(name))_gradcam.png")
            XCTAssertNoThrow(try ImageDecoder.size(contentsOf: panel), "panel of \(name)")
            XCTAssertTrue(html.contains("src=\"./gradcam/\(GradCAMStem.of(name))_gradcam.png\""))
        }
        XCTAssertTrue(html.contains("<script>"), "inline script")
        XCTAssertFalse(html.contains("http://") || html.contains("https://"), "self-contained: no network references")

        // A second run at the median probability flags exactly the photos at or above it.
        let scores = classified.map { Double(row($0)["p_damage"]!)! }.sorted()
        let median = Float(scores[scores.count / 2])
        let out2 = root.appendingPathComponent("out2")
        let second = try screener(out: out2, modelFolder: root, threshold: median)
        let summary2 = try second.run(directory: photos)
        let rows2 = try readResults(out2).rows
        let expected = Set(rows2.filter { Float($0["p_damage"]!).map { $0 >= median } ?? false }.map { $0["path"]! })
        let cards2 = reportCards(try String(contentsOf: out2.appendingPathComponent("report.html"), encoding: .utf8))
        XCTAssertEqual(Set(cards2.map(\.path)), expected)
        XCTAssertEqual(cards2.count, summary2.flagged)
        XCTAssertTrue(expected.count > 0 && expected.count < classified.count)
        for card in cards2 { XCTAssertGreaterThanOrEqual(card.p, Double(median) - 1e-6) }
        let panels = try FileManager.default.contentsOfDirectory(atPath: out2.appendingPathComponent("gradcam").path)
        XCTAssertEqual(panels.count, expected.count, "panels only for flagged photos")
    }

    /// The stage table has every stage and sensible numbers.
    func testStageTimes() throws {
        let root = try temporaryFolder(self)
        let photos = root.appendingPathComponent("photos")
        for i in 0..<5 { try write(syntheticPhoto(width: 180, height: 160, seed: i * 7), to: photos.appendingPathComponent("\(i).jpg"), jpegQuality: 85) }
        let s = try screener(out: root.appendingPathComponent("out"), modelFolder: root, threshold: 1.0) { $0.overlap = false }
        let summary = try s.run(directory: photos)
        XCTAssertEqual(summary.times["decode"]?.items, 5)
        XCTAssertEqual(summary.times["hash"]?.items, 5)
        XCTAssertEqual(summary.times["classify"]?.items, 5)
        XCTAssertEqual(summary.times["explain"]?.items, 0)
        XCTAssertTrue(summary.table.contains("end to end"))
        XCTAssertEqual(summary.flagged, 0)
        let html = try String(contentsOf: root.appendingPathComponent("out/report.html"), encoding: .utf8)
        XCTAssertTrue(reportCards(html).isEmpty)
        XCTAssertTrue(html.contains("No photo flagged yet."))
    }

    /// Follow mode: photos that arrive later are screened once each, a photo still being
    /// written is left until its size is stable, and a stop request ends the run cleanly.
    func testFollowPicksUpNewPhotosOnce() throws {
        let root = try temporaryFolder(self)
        let photos = root.appendingPathComponent("photos")
        try write(syntheticPhoto(width: 200, height: 160, seed: 1), to: photos.appendingPathComponent("a.jpg"), jpegQuality: 90)
        let out = photos.appendingPathComponent("out")  // inside the watched folder: must be skipped
        let s = try screener(out: out, modelFolder: root, threshold: 0) {
            $0.follow = true
            $0.pollInterval = 0.3  // the slow write below takes 0.1 s: two polls cannot both fall inside it
            $0.maxSeconds = 20
        }
        final class Box: @unchecked Sendable {
            var summary: ScreenSummary?
            var error: Error?
            var stop = false
            let lock = NSLock()
            var shouldStop: Bool { lock.lock(); defer { lock.unlock() }; return stop }
        }
        let box = Box()
        let screener = UncheckedSendable(s)
        let thread = Thread {
            do { box.summary = try screener.value.run(directory: photos) { box.shouldStop } } catch { box.error = error }
        }
        thread.start()
        func waitForRows(_ n: Int) throws {
            let deadline = Date().addingTimeInterval(15)
            while Date() < deadline {
                if let rows = try? readResults(out).rows, rows.count >= n { return }
                usleep(50_000)
            }
            XCTFail("timed out waiting for \(n) rows")
        }
        try waitForRows(1)
        // a photo written slowly, in two halves
        let b = try ImageEncoder.jpeg(syntheticPhoto(width: 220, height: 170, seed: 2), quality: 90)
        let bURL = photos.appendingPathComponent("later/b.jpg")
        try FileManager.default.createDirectory(at: bURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        try b.prefix(b.count / 2).write(to: bURL)
        usleep(100_000)
        let handle = try FileHandle(forWritingTo: bURL)
        handle.seekToEndOfFile()
        handle.write(b.suffix(from: b.count / 2))
        try handle.close()
        try write(syntheticPhoto(width: 200, height: 160, seed: 3), to: photos.appendingPathComponent("c.png"))
        try waitForRows(3)
        usleep(900_000)  // several more polls: nothing is screened twice
        box.lock.lock(); box.stop = true; box.lock.unlock()
        while !thread.isFinished { usleep(20_000) }
        XCTAssertNil(box.error)
        let summary = try XCTUnwrap(box.summary)
        XCTAssertTrue(summary.stopped)
        let rows = try readResults(out).rows
        // in processing order: b.jpg became ready only once its size had settled, maybe after c.png
        XCTAssertEqual(rows.map { ($0["path"]! as NSString).lastPathComponent }.sorted(), ["a.jpg", "b.jpg", "c.png"])
        XCTAssertTrue(rows.allSatisfy { $0["error"] == "" }, "the half-written photo was not read early: \(rows)")
        XCTAssertEqual(summary.images, 3)
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertEqual(reportCards(html).count, 3)
        XCTAssertTrue(html.contains("run finished"))
    }

    /// In follow mode a folder that disappears is waited for, and its new photos are screened
    /// once it is back.
    func testFollowSurvivesTheFolderDisappearingAndComingBack() throws {
        let root = try temporaryFolder(self)
        let photos = root.appendingPathComponent("photos"), out = root.appendingPathComponent("out")
        try write(syntheticPhoto(width: 160, height: 160, seed: 1), to: photos.appendingPathComponent("a.png"))
        let s = try screener(out: out, modelFolder: root, threshold: 0.5) {
            $0.follow = true
            $0.pollInterval = 0.05
            $0.stableSeconds = 0
            $0.maxSeconds = 60
        }
        s.exportInterval = 0.05
        let warnings = LockedErrors()
        s.warn = { warnings.add(ScreenError.invalidOption($0)) }
        let box = UncheckedBox(s)
        final class Outcome: @unchecked Sendable { var stop = false; var summary: ScreenSummary?; var error: Error? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            do { outcome.summary = try box.value.run(directory: photos) { outcome.stop } } catch { outcome.error = error }
            done.signal()
        }
        func wait(until condition: () -> Bool) {
            let deadline = Date().addingTimeInterval(30)
            while !condition() && Date() < deadline { usleep(20_000) }
        }
        wait { ((try? readResults(out).rows.count) ?? 0) >= 1 }
        try FileManager.default.removeItem(at: photos)
        wait { warnings.errors.contains { "\($0)".contains("waiting for the folder to come back") } }
        try write(syntheticPhoto(width: 160, height: 160, seed: 1), to: photos.appendingPathComponent("a.png"))
        try write(syntheticPhoto(width: 160, height: 160, seed: 9), to: photos.appendingPathComponent("b.png"))
        wait { ((try? readResults(out).rows.count) ?? 0) >= 2 }
        outcome.stop = true
        done.wait()
        XCTAssertNil(outcome.error)
        XCTAssertEqual(try readResults(out).rows.map { ($0["path"]! as NSString).lastPathComponent }, ["a.png", "b.png"])
        XCTAssertTrue(warnings.errors.contains { "\($0)".contains("is back") }, "\(warnings.errors)")
        XCTAssertEqual(outcome.summary?.images, 2)
    }

    /// --max-seconds bounds a follow run with nothing to do.
    func testMaxSecondsEndsAnIdleFollowRun() throws {
        let root = try temporaryFolder(self)
        let photos = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        let s = try screener(out: root.appendingPathComponent("out"), modelFolder: root, threshold: 0.5) {
            $0.follow = true
            $0.pollInterval = 0.1
            $0.maxSeconds = 0.5
        }
        let start = Date()
        let summary = try s.run(directory: photos)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(summary.images, 0)
        XCTAssertEqual(try readResults(root.appendingPathComponent("out")).header.count, 12)
    }

    func testMissingFolderIsAnErrorAndNothingIsWritten() throws {
        let root = try temporaryFolder(self)
        let s = try screener(out: root.appendingPathComponent("out"), modelFolder: root, threshold: 0.5)
        XCTAssertThrowsError(try s.run(directory: root.appendingPathComponent("nope"))) { error in
            XCTAssertEqual(error as? ScreenError, .notADirectory(root.appendingPathComponent("nope").path))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("out").path), "no output folder made")
    }

    /// Options that would make a run misbehave are refused when the screener is made.
    func testNonFiniteOptionsAreRefused() throws {
        let root = try temporaryFolder(self)
        let cases: [(String, (inout ScreenOptions) -> Void)] = [
            ("maximum run time nan", { $0.maxSeconds = .nan }),
            ("maximum run time inf", { $0.maxSeconds = .infinity }),
            ("poll interval nan", { $0.pollInterval = .nan }),
            ("poll interval inf", { $0.pollInterval = .infinity }),
            ("stable time nan", { $0.stableSeconds = .nan }),
            ("threshold nan", { $0.threshold = .nan }),
        ]
        for (expected, configure) in cases {
            XCTAssertThrowsError(try screener(out: root, modelFolder: root, threshold: 0.5, configure: configure)) { error in
                XCTAssertTrue("\(error)".hasPrefix(expected), "\(error)")
            }
        }
    }

    /// A second run into the same output folder (same store) continues the first: nothing is
    /// screened again and results.csv stays the same. A folder holding the results of a run
    /// without this store is refused before anything is written, also when the folder to
    /// screen is missing; with `overwrite` (a fresh store) the results and old panels are replaced.
    func testARerunContinuesAndEarlierResultsAreNeverReplacedUnasked() throws {
        let root = try temporaryFolder(self)
        let photos = root.appendingPathComponent("photos")
        for i in 0..<3 { try write(syntheticPhoto(width: 200, height: 160, seed: i * 13 + 1), to: photos.appendingPathComponent("\(i).png")) }
        let out = root.appendingPathComponent("out")
        _ = try screener(out: out, modelFolder: root, threshold: 0).run(directory: photos)
        let csv = try Data(contentsOf: out.appendingPathComponent("results.csv"))
        let panels = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("gradcam").path).sorted()
        XCTAssertEqual(panels.count, 3)
        let again = try screener(out: out, modelFolder: root, threshold: 0).run(directory: photos)
        XCTAssertEqual(again.resumed, 3, "every photo was already screened by this model")
        XCTAssertEqual(again.images, 3)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("results.csv")), csv, "the same results, not counted twice")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("gradcam").path).sorted(), panels)

        // Another folder with these files but a new store: refused, nothing touched.
        let other = root.appendingPathComponent("other")
        try FileManager.default.copyItem(at: out, to: other)
        let html = try Data(contentsOf: other.appendingPathComponent("report.html"))
        for directory in [photos, root.appendingPathComponent("missing")] {
            XCTAssertThrowsError(try screener(out: other, modelFolder: root, threshold: 0).run(directory: directory)) { error in
                if directory == photos {
                    XCTAssertEqual(error as? ScreenError, .outputHoldsResults(other.appendingPathComponent("results.csv").path))
                    XCTAssertTrue("\(error)".contains("give --overwrite"), "\(error)")
                } else {
                    XCTAssertEqual(error as? ScreenError, .notADirectory(directory.path))
                }
            }
            XCTAssertEqual(try Data(contentsOf: other.appendingPathComponent("results.csv")), csv)
            XCTAssertEqual(try Data(contentsOf: other.appendingPathComponent("report.html")), html)
        }
        // Only a report left (results.csv removed by hand): still refused.
        try FileManager.default.moveItem(at: other.appendingPathComponent("results.csv"), to: root.appendingPathComponent("saved.csv"))
        XCTAssertThrowsError(try screener(out: other, modelFolder: root, threshold: 0).run(directory: photos)) { error in
            XCTAssertEqual(error as? ScreenError, .outputHoldsResults(other.appendingPathComponent("report.html").path))
        }
        // overwrite: a fresh run, flagging nothing this time; the old panels are gone.
        try FileManager.default.removeItem(at: photos.appendingPathComponent("2.png"))
        let summary = try screener(out: out, modelFolder: root, threshold: 1.0) { $0.overwrite = true }.run(directory: photos)
        XCTAssertEqual(summary.images, 2)
        XCTAssertEqual(try readResults(out).rows.count, 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("gradcam").path), [])
    }

    /// Leftover temporaries of an interrupted write are removed when the next run starts.
    func testLeftoverTemporariesAreRemovedAtStart() throws {
        let root = try temporaryFolder(self)
        let photos = root.appendingPathComponent("photos")
        try write(syntheticPhoto(width: 160, height: 160, seed: 1), to: photos.appendingPathComponent("a.png"))
        let out = root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out.appendingPathComponent("gradcam"), withIntermediateDirectories: true)
        let leftovers = [".results.csv.2147483646.1.tmp", ".report.html.2147483646.2.tmp", "gradcam/.a_gradcam.png.2147483646.3.tmp"]
        for name in leftovers + [".keep", "gradcam/.b_gradcam.png.\(getpid()).4.tmp"] {
            try Data("half".utf8).write(to: out.appendingPathComponent(name))
        }
        var warnings: [String] = []
        let s = try screener(out: out, modelFolder: root, threshold: 1.0)
        s.warn = { warnings.append($0) }
        _ = try s.run(directory: photos)
        for name in leftovers { XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), name) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(".keep").path), "not ours: kept")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("gradcam/.b_gradcam.png.\(getpid()).4.tmp").path),
                      "its writer is still running: kept")
        XCTAssertEqual(warnings, ["removed 3 temporary files left in \(out.path) by an interrupted run"])
    }
}
