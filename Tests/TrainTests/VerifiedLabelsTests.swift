import Foundation
import Markup
@testable import Train
import Vision
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Files for the verified-labels tests: a temporary folder, photos in it (also under names
/// that are not UTF-8), CSV files.
class VerifiedLabelsTestCase: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("rubble-verified-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    /// A small PNG, different for each seed.
    func photo(_ seed: Int, size: Int = 16) throws -> Data {
        try ImageEncoder.png(RGBImage(width: size, height: size) { x, y in
            (UInt8((x * (seed + 3) + y * 7) % 256), UInt8((y * (seed * 5 + 1)) % 256), UInt8((x ^ y ^ (seed * 37)) % 256))
        })
    }

    /// Writes `data` at `relative` (bytes, so names need not be UTF-8) under `root`; returns the absolute path.
    @discardableResult
    func write(_ data: Data, at relative: [UInt8]) throws -> [UInt8] {
        let path = Array(root.path.utf8) + [0x2F] + relative
        var folder = path
        while let slash = folder.lastIndex(of: 0x2F), slash > 0 {
            folder = Array(folder[..<slash])
            if mkdirAll(folder) { break }
        }
        let fd = (path + [0]).withUnsafeBufferPointer {
            $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY | O_TRUNC, 0o644) }
        }
        XCTAssertGreaterThanOrEqual(fd, 0, "cannot create \(FileName.escape(path))")
        data.withUnsafeBytes { _ = Glibc.write(fd, $0.baseAddress!, $0.count) }
        close(fd)
        return path
    }

    @discardableResult
    func write(_ data: Data, at relative: String) throws -> [UInt8] { try write(data, at: Array(relative.utf8)) }

    /// Creates `folder` and its parents (UTF-8 parents only); true when it exists afterwards.
    private func mkdirAll(_ folder: [UInt8]) -> Bool {
        let text = String(decoding: folder, as: UTF8.self)
        return (try? FileManager.default.createDirectory(atPath: text, withIntermediateDirectories: true)) != nil
    }

    /// Writes a CSV file at `relative` under `root`; returns its URL.
    @discardableResult
    func csv(_ text: String, at relative: String = "labels.csv") throws -> URL {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url
    }

    /// The error `body` throws, as `VerifiedLabelsError`; fails if it throws nothing or something else.
    func labelsError(_ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) -> VerifiedLabelsError? {
        do {
            _ = try body()
            XCTFail("no error", file: file, line: line)
        } catch let error as VerifiedLabelsError {
            return error
        } catch {
            XCTFail("\(type(of: error)): \(error)", file: file, line: line)
        }
        return nil
    }

    /// Asserts that the message names every part in `parts`.
    func assertMessage(_ error: VerifiedLabelsError?, names parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        let message = error.map(String.init(describing:)) ?? "(no error)"
        for part in parts {
            XCTAssertTrue(message.contains(part), "'\(part)' missing from: \(message)", file: file, line: line)
        }
    }
}

/// `VerifiedLabels.load(csv:root:)`: both layouts, RFC 4180 quoting, Rubble's file-name
/// escapes, where relative paths are looked for, and every refusal naming file, line and value.
final class VerifiedLabelsTests: VerifiedLabelsTestCase {
    func testReportExportWithQuotingEscapesAndRowsWithoutAVerdict() throws {
        try write(try photo(1), at: "photos/day1/a.jpg")
        try write(try photo(2), at: "photos/with, comma \"and quotes\".png")
        try write(try photo(3), at: "photos/two\nlines.png")
        let latin1 = try write(try photo(4), at: Array("photos/caf".utf8) + [0xE9] + Array(".png".utf8))
        try write(try photo(5), at: "photos/back\\slash.png")
        try write(try photo(6), at: "photos/unverified.png")
        // As report.html's script writes it (csvField: quote when a comma, quote, CR or LF is in it).
        let url = try csv("""
            path,predicted,verified_label
            photos/day1/a.jpg,damage,damage
            "photos/with, comma ""and quotes"".png",damage,no_damage
            "photos/two\\x0Alines.png",no_damage,damage
            photos/caf\\xE9.png,damage,no_damage
            photos/back\\\\slash.png,damage,damage
            photos/unverified.png,damage,

            """)
        let labels = try VerifiedLabels.load(csv: url)
        XCTAssertEqual(labels.entries.map(\.label), ["damage", "no_damage", "damage", "no_damage", "damage"])
        XCTAssertEqual(labels.entries.map(\.shownPath), [
            root.path + "/photos/day1/a.jpg", root.path + "/photos/with, comma \"and quotes\".png",
            root.path + "/photos/two\\x0Alines.png", root.path + "/photos/caf\\xE9.png", root.path + "/photos/back\\\\slash.png",
        ])
        XCTAssertEqual(labels.entries[3].path, latin1, "the exact bytes of a name that is not UTF-8")
        XCTAssertEqual(labels.entries.map(\.source.line), [2, 3, 4, 5, 6])
        XCTAssertEqual(labels.skippedWithoutLabel, 1)
        XCTAssertEqual(labels.origin, url.relativePath)
        XCTAssertTrue(labels.summary.hasSuffix(": 5 verified photos (damage 3, no_damage 2); 1 row without a verdict skipped"),
                      labels.summary)
    }

    func testPathLabelLayoutWithAQuotedLineBreakCRLFAndAByteOrderMark() throws {
        try write(try photo(1), at: "a.png")
        try write(try photo(2), at: "new\nline.png")
        try write(try photo(3), at: "b.png")
        // A field holding a raw line break (a hand-written file) moves the line numbers on.
        let url = try csv("\u{FEFF}Label , PATH\r\n damage ,a.png\r\nintact,\"new\nline.png\"\r\nintact,b.png\r\n")
        let labels = try VerifiedLabels.load(csv: url)
        XCTAssertEqual(labels.entries.map(\.label), ["damage", "intact", "intact"], "labels trimmed")
        XCTAssertEqual(labels.entries.map(\.shownPath), [root.path + "/a.png", root.path + "/new\\x0Aline.png", root.path + "/b.png"])
        XCTAssertEqual(labels.entries.map(\.source.line), [2, 3, 5])
        XCTAssertEqual(labels.entries[2].source.description, url.relativePath + ", line 5")
    }

    func testRelativePathsAreLookedForNextToTheFileThenUnderTheRoot() throws {
        let screened = root.appendingPathComponent("screened")
        try write(try photo(1), at: "screened/photos/a.png")
        try write(try photo(2), at: "downloads/b.png")
        let url = try csv("path,label\nphotos/a.png,damage\nb.png,intact\n\(root.path)/screened/photos/a.png,damage\n",
                          at: "downloads/labels.csv")
        let error = labelsError { try VerifiedLabels.load(csv: url) }
        XCTAssertEqual(error, .missingFile(.init(file: url.relativePath, line: 2), value: "photos/a.png",
                                           tried: [root.path + "/downloads/photos/a.png"]))
        assertMessage(error, names: [url.relativePath + ", line 2", "'photos/a.png'", "--labels-root"])

        let labels = try VerifiedLabels.load(csv: url, root: screened)
        XCTAssertEqual(labels.entries.map(\.shownPath), [screened.path + "/photos/a.png", root.path + "/downloads/b.png"])
        XCTAssertEqual(labels.repeatedRows, 1, "the absolute path names the same photo with the same label")

        // A relative path naming different files in both places is not guessed.
        try write(try photo(3), at: "screened/b.png")
        let ambiguous = labelsError { try VerifiedLabels.load(csv: url, root: screened) }
        assertMessage(ambiguous, names: [url.relativePath + ", line 3", "'b.png'", root.path + "/downloads/b.png",
                                         screened.path + "/b.png"])
    }

    func testWrongHeadersAreRefused() throws {
        for (text, found) in [("path,digest,phash,duplicate_of,p_damage,p_intact,label,milliseconds,error\n", "path,digest"),
                              ("file,label\n", "file,label"), ("path,label,label\n", "path,label,label"),
                              ("a.png,damage\n", "a.png,damage"), ("path,predicted\n", "path,predicted")] {
            let url = try csv(text)
            let error = labelsError { try VerifiedLabels.load(csv: url) }
            guard case .wrongHeader(let file, _) = error else { XCTFail("\(String(describing: error))"); continue }
            XCTAssertEqual(file, url.relativePath)
            assertMessage(error, names: [url.relativePath + ", line 1", found, "path,predicted,verified_label", "path,label"])
        }
        let results = labelsError { try VerifiedLabels.load(csv: try csv("path,digest,phash,label\n")) }
        assertMessage(results, names: ["results.csv", "prediction"])
        let empty = labelsError { try VerifiedLabels.load(csv: try csv("")) }
        assertMessage(empty, names: ["labels.csv", "empty"])
    }

    func testEveryRowProblemNamesTheFileTheLineAndTheValue() throws {
        try write(try photo(1), at: "a.png")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("folder.png"), withIntermediateDirectories: true)
        let cases: [(String, [String])] = [
            ("path,label\na.png,damage\nb.png,damage\n", ["line 3", "'b.png'", root.path + "/b.png"]),
            ("path,label\na.png,damage,extra\n", ["line 2", "3 fields, expected 2"]),
            ("path,label\n,damage\n", ["line 2", "the path is empty"]),
            ("path,label\na\\q.png,damage\n", ["line 2", "'a\\q.png'", "\\\\"]),
            ("path,label\nfolder.png,damage\n", ["line 2", "'folder.png'", "a folder"]),
            ("path,label\na.png,damage\n\"b.png,damage\n", ["line 3", "never closed"]),
            ("path,label\na.png,dam\"age\n", ["line 2", "quote"]),
            ("path,label\n\"a.png\"x,damage\n", ["line 2", "after the closing quote"]),
            ("path,label\na.png,damage\n./a.png,intact\n", ["line 3", "'intact'", "'damage'", "line 2", root.path + "/a.png"]),
            ("path,predicted,verified_label\na.png,damage,\n", ["no verified photos", "1 row without a verdict"]),
            ("path,label\n", ["no verified photos"]),
        ]
        for (text, parts) in cases {
            let url = try csv(text)
            assertMessage(labelsError { try VerifiedLabels.load(csv: url) }, names: [url.relativePath] + parts)
        }
        // Not UTF-8: the line of the first bad byte.
        let url = root.appendingPathComponent("latin1.csv")
        try Data(Array("path,label\na.png,damage\ncaf".utf8) + [0xE9] + Array(".png,intact\n".utf8)).write(to: url)
        let error = labelsError { try VerifiedLabels.load(csv: url) }
        XCTAssertEqual(error, .notUTF8(file: url.relativePath, line: 3))
        assertMessage(error, names: ["latin1.csv, line 3", "\\xHH"])
        let missing = labelsError { try VerifiedLabels.load(csv: root.appendingPathComponent("none.csv")) }
        assertMessage(missing, names: ["none.csv", "cannot read"])
    }

    func testEntriesFromAnotherSourceKeepTheirOrigin() throws {
        let a = try write(try photo(1), at: "a.png")
        let source = VerifiedLabels.Source(file: "sqlite:out/rubble.db", record: "photo 17")
        XCTAssertEqual(source.description, "sqlite:out/rubble.db (photo 17)")
        let labels = try VerifiedLabels(origin: "sqlite:out/rubble.db", entries: [
            .init(path: a, label: "damage", source: source),
            .init(url: URL(fileURLWithPath: String(decoding: a, as: UTF8.self)), label: "damage",
                  source: .init(file: "sqlite:out/rubble.db", record: "photo 18")),
        ], skippedWithoutLabel: 4)
        XCTAssertEqual(labels.entries.count, 1)
        XCTAssertEqual(labels.repeatedRows, 1)
        XCTAssertEqual(labels.labels, ["damage"])
        let conflict = labelsError {
            try VerifiedLabels(origin: "db", entries: [.init(path: a, label: "damage", source: source),
                                                       .init(path: a, label: "intact", source: .init(file: "db", record: "photo 3"))])
        }
        assertMessage(conflict, names: ["db (photo 3)", "'intact'", "'damage'", "photo 17"])
        XCTAssertEqual(labelsError { try VerifiedLabels(origin: "db", entries: [], skippedWithoutLabel: 2) },
                       .empty(origin: "db", skipped: 2))
    }
}
