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

/// `rubble screen` (and `dedup`) on the inputs of issue 11's red-team pass: broken weights,
/// a re-run into an earlier run's folder, names that are not UTF-8, links and folders that
/// cannot or must not be read, the output folder inside the screened one, markup in class and
/// file names, leftovers of an interrupted write, non-finite flag values, photo bombs.
final class ScreenHostileInputTests: XCTestCase {
    // MARK: - Helpers

    /// The tiny baseline CNN (48x48, head 8) saved with its description, so `--weights` is
    /// all the tool needs. With `every`, each parameter is set to that value (1e30 makes the
    /// logits overflow to infinity and the softmax NaN, with finite weights).
    private func weights(in folder: URL, classNames: [String] = ["damage", "intact"], every value: Float? = nil,
                         name: String = "tiny.h5") throws -> URL {
        let model = try Architecture.baseline.makeClassifier(imageSize: 48, hiddenUnits: 8, classes: classNames.count, seed: 5)
        if let value {
            for parameter in model.parameters { parameter.value = Tensor(repeating: value, shape: parameter.shape) }
        }
        let url = folder.appendingPathComponent(name)
        try KerasWeights.save(model, to: url, metadata: ModelMetadata(classNames: classNames, inputShape: [48, 48, 3],
                                                                      architecture: "baseline", head: "8"))
        return url
    }

    /// A small PNG, different for each seed.
    private func photo(_ seed: Int, size: Int = 64) throws -> Data {
        let picture = RGBImage(width: size, height: size) { x, y in
            (UInt8((x * (seed + 3) + y * 7) % 256), UInt8((y * (seed * 5 + 1)) % 256), UInt8((x ^ y ^ (seed * 37)) % 256))
        }
        return try ImageEncoder.png(picture)
    }

    private func writePhotos(_ names: [String], in folder: URL) throws {
        for (i, name) in names.enumerated() {
            let url = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try photo(i * 11 + 2).write(to: url)
        }
    }

    /// Runs the tool, optionally through `prefix` (e.g. setpriv, /usr/bin/time).
    private func run(_ arguments: [String], prefix: [String] = [], environment: [String: String] = [:]) throws -> ToolRunner.Outcome {
        guard !prefix.isEmpty else { return try ToolRunner.run(arguments, environment: environment) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: prefix[0])
        process.arguments = Array(prefix.dropFirst()) + [ToolRunner.executable.path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let errorData = Box()
        let reader = Thread { errorData.data = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return ToolRunner.Outcome(status: process.terminationStatus, standardOutput: String(decoding: output, as: UTF8.self),
                                  standardError: String(decoding: errorData.data, as: UTF8.self))
    }

    private func screen(_ directory: URL, out: URL, weights: URL, _ extra: [String] = [],
                        prefix: [String] = []) throws -> ToolRunner.Outcome {
        try run(["screen", directory.path, "--weights", weights.path, "--min-size", "0", "--out", out.path] + extra, prefix: prefix)
    }

    /// results.csv rows as dictionaries (RFC 4180).
    private func results(_ out: URL) throws -> [[String: String]] {
        let text = try String(contentsOf: out.appendingPathComponent("results.csv"), encoding: .utf8)
        let table = parseCSV(text)
        let header = try XCTUnwrap(table.first)
        XCTAssertEqual(Array(header.prefix(4)), ["path", "digest", "phash", "duplicate_of"])
        XCTAssertEqual(Array(header.suffix(6)), ["label", "milliseconds", "error", "latitude", "longitude", "taken_at"])
        return table.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    private func row(_ rows: [[String: String]], endingWith suffix: String) -> [String: String]? {
        rows.first { $0["path"]?.hasSuffix(suffix) ?? false }
    }

    private func assertHex64(_ text: String?, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(text?.count, 64, file: file, line: line)
        XCTAssertTrue(text?.allSatisfy(\.isHexDigit) ?? false, file: file, line: line)
    }

    // MARK: - Non-finite model output

    func testNonFiniteModelOutputGivesErrorRowsAndAFailingExit() throws {
        let root = try temporaryDirectory(self)
        let photos = root.appendingPathComponent("photos")
        try writePhotos(["a.png", "b.png", "c.png"], in: photos)
        let broken = try weights(in: root, every: 1e30)
        let out = root.appendingPathComponent("out")
        let outcome = try screen(photos, out: out, weights: broken, ["--threshold", "0"])
        XCTAssertEqual(outcome.status, 1, outcome.standardError)
        XCTAssertTrue(outcome.standardError.contains("rubble: error: the model's output was not finite (NaN or infinite) "
                                                     + "for every one of the 3 photos it was run on, so none was classified"),
                      outcome.standardError)
        let rows = try results(out)
        XCTAssertEqual(rows.count, 3)
        for r in rows {
            XCTAssertEqual(r["label"], "", "never a label")
            XCTAssertEqual(r["p_damage"], "")
            XCTAssertTrue(r["error"]!.hasPrefix(r["path"]! + ": the model's output is not finite (p_damage=nan, p_intact=nan)"),
                          r["error"]!)
            assertHex64(r["digest"])
        }
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertFalse(html.contains("<article class=\"card\""), "nothing flagged")
        XCTAssertTrue(html.contains("<b>3</b> with non-finite model output"))

        // The same photos with sound weights: exit 0, labels.
        let good = try screen(photos, out: root.appendingPathComponent("good"), weights: try weights(in: root, name: "good.h5"))
        XCTAssertEqual(good.status, 0, good.standardError)
        XCTAssertTrue(try results(root.appendingPathComponent("good")).allSatisfy { $0["error"] == "" && $0["label"] != "" })
    }

    // MARK: - Earlier results

    /// A rerun into the same folder continues from its store; a folder holding the results of a
    /// run without its store is refused before anything is written, and left as it was.
    func testRerunIntoAnEarlierRunsFolderIsRefusedAndLeavesItIntact() throws {
        let root = try temporaryDirectory(self)
        let photos = root.appendingPathComponent("photos")
        try writePhotos(["a.png", "b.png", "c.png"], in: photos)
        let model = try weights(in: root)
        let out = root.appendingPathComponent("out")
        let first = try screen(photos, out: out, weights: model, ["--threshold", "0"])
        XCTAssertEqual(first.status, 0, first.standardError)
        let csv = try Data(contentsOf: out.appendingPathComponent("results.csv"))
        let panels = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("gradcam").path).sorted()
        XCTAssertFalse(panels.isEmpty)

        let resumed = try screen(photos, out: out, weights: model, ["--threshold", "0"])
        XCTAssertEqual(resumed.status, 0, resumed.standardError)
        XCTAssertTrue(resumed.standardError.contains("3 photos were already screened by this model"), resumed.standardError)
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("results.csv")), csv, "a rerun counts nothing twice")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("gradcam").path).sorted(), panels)

        // The files of a run whose store is gone (or of a Rubble without one) are never replaced unasked.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(at: out.appendingPathComponent("rubble.sqlite" + suffix)) }
        let html = try Data(contentsOf: out.appendingPathComponent("report.html"))
        func assertUntouched(_ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("results.csv")), csv, what, file: file, line: line)
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("report.html")), html, what, file: file, line: line)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("gradcam").path).sorted(),
                           panels, what, file: file, line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("rubble.sqlite").path), what,
                           file: file, line: line)
        }
        let again = try screen(photos, out: out, weights: model)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.standardError.contains("rubble: error: \(out.appendingPathComponent("results.csv").path) already exists"),
                      again.standardError)
        XCTAssertTrue(again.standardError.contains("give --overwrite to replace them"), again.standardError)
        try assertUntouched("a plain re-run")

        let missing = try screen(root.appendingPathComponent("no-such-folder"), out: out, weights: model, ["--overwrite"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.standardError.contains("no-such-folder: not a folder"), missing.standardError)
        try assertUntouched("a missing folder, even with --overwrite")

        let badModel = try screen(photos, out: out, weights: root.appendingPathComponent("missing.h5"), ["--overwrite"])
        XCTAssertNotEqual(badModel.status, 0)
        try assertUntouched("a missing weights file, even with --overwrite")

        let badFlag = try screen(photos, out: out, weights: model, ["--overwrite", "--max-seconds", "nan"])
        XCTAssertEqual(badFlag.status, 64)
        try assertUntouched("a bad flag")

        // A missing folder into a fresh --out creates nothing.
        let fresh = root.appendingPathComponent("fresh")
        XCTAssertEqual(try screen(root.appendingPathComponent("no-such-folder"), out: fresh, weights: model).status, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh.path))

        // --overwrite replaces the results (and the old panels).
        try FileManager.default.removeItem(at: photos.appendingPathComponent("c.png"))
        let overwrite = try screen(photos, out: out, weights: model, ["--overwrite", "--threshold", "1"])
        XCTAssertEqual(overwrite.status, 0, overwrite.standardError)
        XCTAssertEqual(try results(out).map { ($0["path"]! as NSString).lastPathComponent }, ["a.png", "b.png"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("gradcam").path), [])
    }

    func testLeftoverTemporariesInOutAreRemovedAtTheNextStart() throws {
        let root = try temporaryDirectory(self)
        let photos = root.appendingPathComponent("photos")
        try writePhotos(["a.png"], in: photos)
        let out = root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out.appendingPathComponent("gradcam"), withIntermediateDirectories: true)
        // What AtomicFile leaves when the process dies between writing and renaming
        // (`.<name>.<pid>.<random>.tmp`; pid 2147483646 is not running).
        let leftovers = [".results.csv.2147483646.77.tmp", ".report.html.2147483646.78.tmp", "gradcam/.a_gradcam.png.2147483646.79.tmp"]
        for name in leftovers + [".keep", "notes.txt"] { try Data("half".utf8).write(to: out.appendingPathComponent(name)) }
        let outcome = try screen(photos, out: out, weights: try weights(in: root))
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        XCTAssertTrue(outcome.standardError.contains("removed 3 temporary files left in \(out.path) by an interrupted run"),
                      outcome.standardError)
        for name in leftovers { XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), name) }
        let kept = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".") || $0 == "notes.txt" }
        XCTAssertEqual(Set(kept), [".keep", "notes.txt"])
    }

    func testNonFiniteTimesAreRefused() throws {
        let root = try temporaryDirectory(self)
        let model = try weights(in: root)
        let out = root.appendingPathComponent("out")
        for (flag, value, says) in [("--max-seconds", "nan", "--max-seconds must be a number of seconds >= 0, got nan"),
                                    ("--max-seconds", "inf", "--max-seconds must be a number of seconds >= 0, got inf"),
                                    ("--poll-interval", "nan", "--poll-interval must be a positive number of seconds, got nan"),
                                    ("--poll-interval", "inf", "--poll-interval must be a positive number of seconds, got inf"),
                                    ("--stable-seconds", "nan", "--stable-seconds must be a number of seconds >= 0, got nan")] {
            // (without --follow: the old tool then ran once and exited 0 instead of looping forever)
            let outcome = try screen(root, out: out, weights: model, [flag, value])
            XCTAssertEqual(outcome.status, 64, "\(flag) \(value): \(outcome.standardError)")
            XCTAssertTrue(outcome.standardError.contains("rubble: error: " + says), outcome.standardError)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        }
    }

    // MARK: - File names, links, folders

    func testANameThatIsNotUTF8IsScreenedAndShownEscaped() throws {
        let root = try temporaryDirectory(self)
        let photos = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        let bytes = try photo(1)
        let name: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".png".utf8)  // Latin-1 "café.png"
        let path = Array(photos.path.utf8) + [0x2F] + name + [0]
        let fd = path.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) } }
        XCTAssertGreaterThanOrEqual(fd, 0)
        bytes.withUnsafeBytes { XCTAssertEqual(write(fd, $0.baseAddress!, $0.count), bytes.count) }
        close(fd)
        try bytes.write(to: photos.appendingPathComponent("plain.png"))  // the same bytes

        let out = root.appendingPathComponent("out")
        let outcome = try screen(photos, out: out, weights: try weights(in: root), ["--threshold", "0", "--no-gradcam"])
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        let rows = try results(out)
        XCTAssertEqual(rows.map { $0["path"]! }, [photos.path + "/caf\\xE9.png", photos.path + "/plain.png"])
        // The report shows the escaped name and links the file by its bytes, percent-encoded.
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("data-path=\"\(photos.path)/caf\\xE9.png\""))
        XCTAssertTrue(attributes(html, ["src"]).contains("../photos/caf%E9.png"), "\(attributes(html, ["src"]))")
        assertHex64(rows[0]["digest"])
        XCTAssertEqual(rows[0]["digest"], rows[1]["digest"], "the bytes were read")
        XCTAssertFalse(rows[0]["label"]!.isEmpty)
        XCTAssertEqual(rows[1]["duplicate_of"], photos.path + "/caf\\xE9.png")

        let dedup = try run(["dedup", "--json", photos.path])
        XCTAssertEqual(dedup.status, 0, dedup.standardError)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(dedup.standardOutput.utf8)) as? [String: Any])
        let images = try XCTUnwrap(document["images"] as? [[String: Any]])
        XCTAssertEqual(images.map { $0["path"] as? String }, [photos.path + "/caf\\xE9.png", photos.path + "/plain.png"])
        XCTAssertEqual(images.map { $0["status"] as? String }, ["kept", "exact"])
    }

    func testBrokenLinksAndUnreadableFoldersAreErrorRows() throws {
        let root = try temporaryDirectory(self)
        let photos = root.appendingPathComponent("photos")
        try writePhotos(["a.png", "locked/b.png"], in: photos)
        try FileManager.default.createSymbolicLink(atPath: photos.appendingPathComponent("gone.png").path,
                                                   withDestinationPath: "deleted.png")
        let locked = photos.appendingPathComponent("locked")
        XCTAssertEqual(chmod(locked.path, 0), 0)
        addTeardownBlock { chmod(locked.path, 0o755) }
        // Root reads a chmod 000 folder anyway: run the tool without the capabilities that allow it.
        var prefix: [String] = []
        if geteuid() == 0 {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
                throw XCTSkip("running as root without setpriv: a chmod 000 folder stays readable")
            }
            prefix = ["/usr/bin/setpriv", "--bounding-set=-dac_override,-dac_read_search"]
        }
        let model = try weights(in: root)
        let out = root.appendingPathComponent("out")
        let outcome = try screen(photos, out: out, weights: model, prefix: prefix)
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        let rows = try results(out)
        XCTAssertEqual(rows.map { ($0["path"]! as NSString).lastPathComponent }, ["a.png", "gone.png", "locked"])
        let gone = try XCTUnwrap(row(rows, endingWith: "/gone.png"))
        XCTAssertEqual(gone["error"], photos.path + "/gone.png: broken symbolic link: its target deleted.png does not exist")
        XCTAssertEqual(gone["digest"], "")
        let folder = try XCTUnwrap(row(rows, endingWith: "/locked"))
        XCTAssertEqual(folder["error"],
                       photos.path + "/locked: cannot read the folder (Permission denied); the photos in it were not screened")
        XCTAssertTrue(outcome.standardError.contains("locked: cannot read the folder"), "and a warning says so")

        let dedup = try run(["dedup", photos.path], prefix: prefix)
        XCTAssertEqual(dedup.status, 0, dedup.standardError)
        XCTAssertTrue(dedup.standardOutput.contains("3 images: 1 unique, 0 exact duplicates, 0 near duplicates"), dedup.standardOutput)
        XCTAssertTrue(dedup.standardOutput.hasSuffix("2 unreadable\n"), dedup.standardOutput)
    }

    func testALinkLeadingOutsideTheFolderIsNotReadUnlessAskedFor() throws {
        let root = try temporaryDirectory(self)
        let photos = root.appendingPathComponent("photos")
        try writePhotos(["a.png"], in: photos)
        let secret = root.appendingPathComponent("secret.png")
        try photo(99).write(to: secret)
        try FileManager.default.createSymbolicLink(atPath: photos.appendingPathComponent("shadow.png").path, withDestinationPath: secret.path)
        try FileManager.default.createSymbolicLink(atPath: photos.appendingPathComponent("alias.png").path, withDestinationPath: "a.png")
        let model = try weights(in: root)

        let out = root.appendingPathComponent("out")
        let outcome = try screen(photos, out: out, weights: model)
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        let rows = try results(out)
        let shadow = try XCTUnwrap(row(rows, endingWith: "/shadow.png"))
        XCTAssertEqual(shadow["digest"], "", "never read: no digest of the target")
        XCTAssertEqual(shadow["phash"], "")
        XCTAssertEqual(shadow["error"], photos.path + "/shadow.png: symbolic link to \(secret.path), outside the screened folder; "
                       + "not read (give --follow-symlinks to read it)")
        let alias = try XCTUnwrap(row(rows, endingWith: "/alias.png"))
        XCTAssertEqual(alias["duplicate_of"], photos.path + "/a.png", "a link inside the folder is read")

        let followed = root.appendingPathComponent("followed")
        XCTAssertEqual(try screen(photos, out: followed, weights: model, ["--follow-symlinks"]).status, 0)
        let shadow2 = try XCTUnwrap(row(try results(followed), endingWith: "/shadow.png"))
        assertHex64(shadow2["digest"])
        XCTAssertEqual(shadow2["error"], "")
        XCTAssertFalse(shadow2["label"]!.isEmpty)
    }

    func testTheOutputFolderInsideTheScreenedFolderIsNotScreened() throws {
        let root = try temporaryDirectory(self)
        let photos = root.appendingPathComponent("photos")
        try writePhotos(["a.png", "b.png", "day2/c.png"], in: photos)
        let model = try weights(in: root)
        for out in [photos.appendingPathComponent("out"), photos] {
            let outcome = try screen(photos, out: out, weights: model, ["--threshold", "0", "--overwrite"])
            XCTAssertEqual(outcome.status, 0, outcome.standardError)
            XCTAssertEqual(try results(out).map { String($0["path"]!.dropFirst(photos.path.count + 1)) }, ["a.png", "b.png", "day2/c.png"],
                           "--out \(out.path): its panels are not screened")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("gradcam").path).count, 3)
            if out != photos { try FileManager.default.removeItem(at: out) }  // next: --out is the screened folder itself
        }
    }

    // MARK: - The report

    func testTheReportIsSafeWithHostileClassAndFileNames() throws {
        let root = try temporaryDirectory(self)
        let photos = root.appendingPathComponent("photos")
        try writePhotos(["javascript:alert(1).png", "JaVaScRiPt:x.png", "ok.png"], in: photos)
        let classNames = ["<!--<script>", "</script><script>alert(1)</script>\u{2028}\u{2029}"]
        let model = try weights(in: root, classNames: classNames)
        for extra in [["--no-gradcam"], []] {
            // --out is the screened folder: the photos' links are then bare file names.
            let outcome = try screen(photos, out: photos, weights: model, ["--threshold", "0", "--overwrite"] + extra)
            XCTAssertEqual(outcome.status, 0, outcome.standardError)
            let html = try String(contentsOf: photos.appendingPathComponent("report.html"), encoding: .utf8)
            XCTAssertEqual(html.components(separatedBy: "<article class=\"card\"").count - 1, 3, "every photo flagged")
            let links = attributes(html, ["href", "src"])
            XCTAssertFalse(links.isEmpty)
            for link in links {
                XCTAssertFalse(link.lowercased().trimmingCharacters(in: .whitespaces).hasPrefix("javascript:"), link)
                XCTAssertTrue(link == "#" || link.hasPrefix("./") || link.hasPrefix("../") || link.hasPrefix("file:///"), link)
            }
            if extra.isEmpty {
                XCTAssertTrue(links.contains("./gradcam/javascript%3Aalert%281%29_gradcam.png"), "\(links)")
            } else {
                XCTAssertTrue(links.contains("./javascript%3Aalert%281%29.png"), "\(links)")
            }
            XCTAssertEqual(html.components(separatedBy: "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; "
                                                         + "script-src &#39;sha256-").count - 1, 1, "the CSP meta tag")
            XCTAssertEqual(html.components(separatedBy: "<script").count - 1, 2, "only the page's two script elements")
            XCTAssertFalse(html.contains("<!--"))
            let start = try XCTUnwrap(html.range(of: "<script type=\"application/json\" id=\"classes\">"))
            let end = try XCTUnwrap(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
            let json = String(html[start.upperBound..<end.lowerBound])
            XCTAssertFalse(json.unicodeScalars.contains { "<>&\u{2028}\u{2029}".unicodeScalars.contains($0) }, json)
            XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String], classNames)
        }
    }

    // MARK: - Memory

    /// Eight large PNGs (12 Mpx, 36 MB each once decoded) in one batch: the peak resident size
    /// grows with the number of cores (one decode alive per core), not with the batch.
    func testLargePhotosAreNotAllHeldAtOnce() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/time") else { throw XCTSkip("no /usr/bin/time to measure the peak") }
        let root = try temporaryDirectory(self)
        let photos = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        let big = RGBImage(width: 4000, height: 3000) { x, y in (UInt8(x & 255), UInt8(y & 255), UInt8((x + y) & 255)) }
        var png = try ImageEncoder.png(big, compressionLevel: 1)
        for i in 0..<8 {
            png.append(UInt8(i))  // after IEND: ignored by decoders, but a different digest (not an exact copy)
            try png.write(to: photos.appendingPathComponent("big\(i).png"))
        }
        let model = try weights(in: root)
        func peakMB(_ arguments: [String]) throws -> Double {
            let report = root.appendingPathComponent("time-\(UUID().uuidString).txt")
            let outcome = try run(arguments, prefix: ["/usr/bin/time", "-f", "%M", "-o", report.path],
                                  environment: ["RUBBLE_THREADS": "2"])
            XCTAssertEqual(outcome.status, 0, outcome.standardError)
            let text = try String(contentsOf: report, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return (Double(text.split(separator: "\n").last.map(String.init) ?? "") ?? .infinity) / 1024
        }
        let empty = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let idle = try peakMB(["screen", empty.path, "--weights", model.path, "--out", root.appendingPathComponent("o1").path])
        let screenPeak = try peakMB(["screen", photos.path, "--weights", model.path, "--batch-size", "8", "--min-size", "0",
                                     "--out", root.appendingPathComponent("o2").path])
        let dedupPeak = try peakMB(["dedup", photos.path])
        let decoded = 4000.0 * 3000 * 3 / 1_048_576  // 34 MB
        // Two decodes alive (plus the grayscale copy and the file's bytes each) stay well under
        // four; all eight at once would be eight.
        XCTAssertLessThan(screenPeak - idle, 4 * decoded, "screen: peak \(screenPeak) MB, idle \(idle) MB")
        XCTAssertLessThan(dedupPeak - idle, 4 * decoded, "dedup: peak \(dedupPeak) MB, idle \(idle) MB")
        print("peak resident MB: idle \(idle), screen \(screenPeak), dedup \(dedupPeak) (one decode \(decoded))")
    }
}

/// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines.
func parseCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
    var chars = Array(text.unicodeScalars)[...]
    while let c = chars.popFirst() {
        if quoted {
            if c == "\"" {
                if chars.first == "\"" { field.unicodeScalars.append("\""); chars.removeFirst() } else { quoted = false }
            } else {
                field.unicodeScalars.append(c)
            }
        } else if c == "\"" {
            quoted = true
        } else if c == "," {
            row.append(field)
            field = ""
        } else if c == "\n" {
            row.append(field)
            rows.append(row)
            row = []
            field = ""
        } else if c != "\r" {
            field.unicodeScalars.append(c)
        }
    }
    if !field.isEmpty || !row.isEmpty { rows.append(row + [field]) }
    return rows
}

/// Every value of the named attributes in `html`, entities decoded.
func attributes(_ html: String, _ names: [String]) -> [String] {
    let regex = try! NSRegularExpression(pattern: "\\s(?:\(names.joined(separator: "|")))=\"([^\"]*)\"")
    let ns = html as NSString
    return regex.matches(in: html, range: NSRange(location: 0, length: ns.length)).map {
        ns.substring(with: $0.range(at: 1)).replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
