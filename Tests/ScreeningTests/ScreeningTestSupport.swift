import Foundation
import Inference
import KerasFiles
import Layers
import PostgresStore
import Screening
import SQLiteStore
import TestSupport
import Vision
import XCTest
import Zoo

/// A fresh temporary folder, removed when the test ends.
func temporaryFolder(_ test: XCTestCase, _ name: String = "screen") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// A synthetic "photo": smooth colour gradients and a few rectangles, different per `seed`.
func syntheticPhoto(width: Int, height: Int, seed: Int) -> RGBImage {
    let a = Double(seed % 7 + 1), b = Double(seed % 5 + 2)
    let rx = (seed * 37) % max(width / 2, 1), ry = (seed * 53) % max(height / 2, 1)
    return RGBImage(width: width, height: height) { x, y in
        let inside = x >= rx && x < rx + width / 3 && y >= ry && y < ry + height / 3
        let u = Double(x) / Double(width), v = Double(y) / Double(height)
        let r = 127.5 + 127.5 * sin(a * u * 3 + v * b)
        let g = 127.5 + 127.5 * cos(b * v * 2 - u * a)
        let bl = inside ? Double((seed * 71) % 256) : 127.5 + 127.5 * sin((u + v) * (a + b))
        return (UInt8(r.rounded()), UInt8(g.rounded()), UInt8(bl.rounded()))
    }
}

func write(_ image: RGBImage, to url: URL, jpegQuality: Int? = nil) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    if let q = jpegQuality {
        try ImageEncoder.writeJPEG(image, to: url, quality: q)
    } else {
        try ImageEncoder.writePNG(image, to: url)
    }
}

/// The small baseline CNN (48x48 input, 2 classes), saved with class names and loaded back as
/// the command-line tool would.
func tinyModel(in folder: URL, classNames: [String] = ["damage", "no_damage"]) throws -> (Sequential, URL) {
    let model = try Architecture.baseline.makeClassifier(imageSize: 48, hiddenUnits: 8, classes: classNames.count, seed: 3)
    let url = folder.appendingPathComponent("tiny.h5")
    try KerasWeights.save(model, to: url, metadata: ModelMetadata(classNames: classNames, inputShape: [48, 48, 3]))
    let loaded = try Architecture.baseline.makeClassifier(imageSize: 48, hiddenUnits: 8, classes: classNames.count, seed: 99)
    try KerasWeights.load(url, into: loaded)
    return (loaded, url)
}

/// `report.html`'s cards: data-path of every `<article class="card">`, HTML entities decoded.
func reportCards(_ html: String) -> [(path: String, p: Double, label: String)] {
    let pattern = #"<article class="card" data-path="([^"]*)" data-name="[^"]*" data-p="([0-9.]+)" data-label="([^"]*)"(?: data-severity="[0-9.]*")?>"#
    let regex = try! NSRegularExpression(pattern: pattern)
    let ns = html as NSString
    return regex.matches(in: html, range: NSRange(location: 0, length: ns.length)).map { m in
        (unescapeHTML(ns.substring(with: m.range(at: 1))), Double(ns.substring(with: m.range(at: 2)))!,
         unescapeHTML(ns.substring(with: m.range(at: 3))))
    }
}

/// `report.html`'s cards' `data-severity` by `data-path` (HTML entities decoded); cards without the attribute are left out.
func reportSeverities(_ html: String) -> [String: String] {
    let pattern = #"<article class="card" data-path="([^"]*)" [^>]*data-severity="([0-9.]*)">"#
    let regex = try! NSRegularExpression(pattern: pattern)
    let ns = html as NSString
    var out: [String: String] = [:]
    for m in regex.matches(in: html, range: NSRange(location: 0, length: ns.length)) {
        out[unescapeHTML(ns.substring(with: m.range(at: 1)))] = ns.substring(with: m.range(at: 2))
    }
    return out
}

func unescapeHTML(_ s: String) -> String {
    s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
        .replacingOccurrences(of: "&amp;", with: "&")
}

/// `results.csv` as header + rows of named fields.
func readResults(_ folder: URL) throws -> (header: [String], rows: [[String: String]]) {
    let text = try String(contentsOf: folder.appendingPathComponent("results.csv"), encoding: .utf8)
    let table = CSVFormat.parse(text)
    let header = try XCTUnwrap(table.first)
    let rows = table.dropFirst().map { fields -> [String: String] in
        XCTAssertEqual(fields.count, header.count, "every row has every column: \(fields)")
        return Dictionary(uniqueKeysWithValues: zip(header, fields))
    }
    return (header, rows)
}

/// The classes of the screening tests' tiny model.
let screeningClassNames = ["damage", "no_damage"]

extension XCTestCase {
    /// A screener over `tinyModel` with the two test classes, batches of 4.
    func screener(out: URL, modelFolder: URL, threshold: Float, configure: (inout ScreenOptions) -> Void = { _ in }) throws -> Screener {
        let (model, _) = try tinyModel(in: modelFolder)
        var options = ScreenOptions(classNames: screeningClassNames, positive: 0)
        options.threshold = threshold
        options.batchSize = 4
        configure(&options)
        return try storeScreener(model: model, pipeline: ImagePipeline(imageSize: 48), options: options, output: out)
    }
}

/// A screener over an SQLite store beside `output` (`<output>.sqlite`: opening it creates
/// nothing in the output folder), for a model identified by `fingerprint` (the same fingerprint
/// resumes an earlier run's results). With `options.overwrite` the store starts afresh, as
/// `rubble screen --overwrite` does with its default store.
func storeScreener(model: any Layer, pipeline: ImagePipeline, options: ScreenOptions, output: URL,
                   assessor: (any DamageAssessor)? = nil, relevance: RelevanceFilter? = nil,
                   fingerprint: String = "test-model") throws -> Screener {
    let path = output.standardizedFileURL.path + ".sqlite"
    if options.overwrite {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
    try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
    let store = try ScreeningStore(SQLiteDatabase(path: path))
    return try Screener(model: model, pipeline: pipeline, options: options, output: output, store: store,
                        identity: StoredModel(fingerprint: fingerprint, description: "test", classNames: options.classNames),
                        relevance: relevance, assessor: assessor)
}

extension XCTestCase {
    /// The stores a test runs on: SQLite always, PostgreSQL when `RUBBLE_POSTGRES_URL` names a database (emptied first).
    func databases(_ name: String) throws -> [(String, () throws -> any SQLDatabase)] {
        let root = try temporaryFolder(self, name)
        var out: [(String, () throws -> any SQLDatabase)] = [
            ("sqlite", { try SQLiteDatabase(path: root.appendingPathComponent("store.sqlite").path) }),
        ]
        if let url = ProcessInfo.processInfo.environment["RUBBLE_POSTGRES_URL"] {
            // A fresh schema per test: drop every table first.
            let db = try PostgresDatabase(url: url)
            try db.transaction(exclusive: true) { db in
                for table in ["users", "images", "panels", "results", "jobs", "decisions", "preparations", "verdicts", "workers", "runs", "photos",
                              "models", "settings", "migrations"] {
                    try db.execute("DROP TABLE IF EXISTS \(table) CASCADE")
                }
            }
            db.close()
            out.append(("postgres", { try PostgresDatabase(url: url) }))
        }
        return out
    }

    func worker(_ store: ScreeningStore, modelID: Int, name: String) throws -> ScreenWorker {
        let (model, _) = try tinyModel(in: try temporaryFolder(self, "model"))
        let w = try ScreenWorker(store: store, modelID: modelID, classNames: screeningClassNames, model: model,
                                 pipeline: ImagePipeline(imageSize: 48), duplicateThreshold: 10, name: name)
        w.batchSize = 4
        w.leaseSeconds = 2
        w.overlap = false
        return w
    }
}
