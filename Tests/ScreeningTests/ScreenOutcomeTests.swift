import Foundation
import GradCAM
import Inference
import Layers
import Screening
import Tensor
import TestSupport
import Vision
import XCTest
import Glibc

/// What a screening run makes of troublesome photos: non-finite outputs, reduced decodes,
/// files that fail while still being written.
final class ScreenOutcomeTests: XCTestCase {

    /// A model whose output is NaN or infinite for some photos: those are error rows, never a
    /// label, never "not flagged"; when it happens to every photo the summary says so.
    func testNonFiniteOutputsAreErrorRows() throws {
        let root = try temporaryFolder(self)
        let photos = root.appendingPathComponent("photos")
        for i in 0..<6 { try write(syntheticPhoto(width: 160, height: 160, seed: i * 5), to: photos.appendingPathComponent("\(i).png")) }
        func run(_ outputs: [[Float]], out: String) throws -> (ScreenSummary, [[String: String]], [String]) {
            var options = ScreenOptions(classNames: screeningClassNames, positive: 0)
            options.threshold = 0
            options.batchSize = 4
            options.explain = false
            let s = try storeScreener(model: FixedOutputModel(outputs), pipeline: ImagePipeline(imageSize: 48), options: options,
                                 output: root.appendingPathComponent(out))
            var warnings: [String] = []
            s.warn = { warnings.append($0) }
            let summary = try s.run(directory: photos)
            return (summary, try readResults(root.appendingPathComponent(out)).rows, warnings)
        }
        let (summary, rows, warnings) = try run([[0.3, 0.7], [.nan, .nan], [.infinity, 0], [0.9, 0.1]], out: "mixed")
        XCTAssertEqual(rows.map { ($0["path"]! as NSString).lastPathComponent }, ["0.png", "1.png", "2.png", "3.png", "4.png", "5.png"])
        for (i, row) in rows.enumerated() {
            if i % 4 == 1 || i % 4 == 2 {
                let values = i % 4 == 1 ? "p_damage=nan, p_no_damage=nan" : "p_damage=inf, p_no_damage=0.0"
                XCTAssertEqual(row["error"], "\(row["path"]!): the model's output is not finite (\(values)): not classified; "
                               + "the weights or the model are broken")
                XCTAssertEqual(row["label"], "")
                XCTAssertEqual(row["p_damage"], "")
            } else {
                XCTAssertEqual(row["error"], "")
                XCTAssertFalse(row["label"]!.isEmpty)
            }
        }
        XCTAssertEqual(summary.nonFinite, 3, "1.png, 2.png and 5.png")
        XCTAssertEqual(summary.classified, 3)
        XCTAssertEqual(summary.flagged, 3, "threshold 0 flags every finite row and no other")
        XCTAssertFalse(summary.modelFailedOnEveryPhoto)
        XCTAssertTrue(summary.line.hasSuffix(", 3 with non-finite model output"))
        XCTAssertEqual(warnings.count, 3)
        XCTAssertEqual(reportCards(try String(contentsOf: root.appendingPathComponent("mixed/report.html"), encoding: .utf8)).count, 3)

        let (all, allRows, _) = try run([[.nan, .nan]], out: "all")
        XCTAssertTrue(all.modelFailedOnEveryPhoto)
        XCTAssertEqual(all.flagged, 0)
        XCTAssertEqual(all.classified, 0)
        XCTAssertTrue(allRows.allSatisfy { $0["error"]!.contains("not finite") && $0["label"] == "" })
    }

    /// The screen keeps only the model input and a panel-sized thumbnail of each photo; the
    /// input is exactly what the pipeline makes of the decoded photo.
    func testPhotosAreReducedRightAfterDecoding() throws {
        let root = try temporaryFolder(self)
        let picture = syntheticPhoto(width: 1200, height: 900, seed: 4)
        try write(picture, to: root.appendingPathComponent("big.png"))
        try write(picture, to: root.appendingPathComponent("big.jpg"), jpegQuality: 90)
        let pipeline = ImagePipeline(imageSize: 48)
        let preparer = PhotoPreparer(decodeAtLeast: 48, modelInput: pipeline, thumbnail: GradCAMPanel())
        var times = StageTimes()
        let files = try PhotoDirectory.scan(root).map(\.file)
        let photos = preparer.prepare(files, times: &times)
        for photo in photos {
            guard case .ready(_, let reduced?) = photo.state else { return XCTFail("\(photo.file.path): \(photo.state)") }
            let decoded = try ImageDecoder.decode(contentsOf: photo.file.url, atLeast: (48, 48))
            XCTAssertEqual(reduced.decodedWidth, decoded.width)
            XCTAssertEqual(reduced.input, pipeline.tensor([decoded]).scalars, "the same input as the pipeline's")
            let tile = GradCAMPanel().tileSize(for: decoded)
            XCTAssertEqual(reduced.thumbnail.map { [$0.width, $0.height] }, [tile.width, tile.height], "the panel tile, not the photo")
            XCTAssertEqual(tile.height, 224)
        }
        XCTAssertEqual(times["decode"]?.items, 2)
        XCTAssertEqual(times["hash"]?.items, 2)
    }

    /// --follow: a photo handed out while still empty or half-written fails, and is screened
    /// again (its row replaced) once it is complete.
    func testFollowRetriesPhotosThatFailedWhileBeingWritten() throws {
        let root = try temporaryFolder(self)
        let photos = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        let out = root.appendingPathComponent("out")
        let s = try screener(out: out, modelFolder: root, threshold: 0) {
            $0.follow = true
            $0.pollInterval = 0.05
            $0.stableSeconds = 0.2  // an empty file: 1 s
            $0.maxSeconds = 60
        }
        let full = try ImageEncoder.jpeg(syntheticPhoto(width: 200, height: 160, seed: 9), quality: 90)
        try full.prefix(full.count / 2).write(to: photos.appendingPathComponent("half.jpg"))
        try Data().write(to: photos.appendingPathComponent("empty.png"))
        let box = RunBox()
        let screener = UncheckedSendable(s)
        let thread = Thread {
            do { box.summary = try screener.value.run(directory: photos) { box.shouldStop } } catch { box.error = error }
        }
        thread.start()
        defer { box.requestStop(); while !thread.isFinished { usleep(20_000) } }
        func waitFor(_ what: String, _ condition: ([[String: String]]) -> Bool) throws {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                if let rows = try? readResults(out).rows, condition(rows) { return }
                usleep(50_000)
            }
            XCTFail("timed out waiting for \(what): \((try? readResults(out).rows) ?? [])")
        }
        func row(_ rows: [[String: String]], _ name: String) -> [String: String]? { rows.first { $0["path"]!.hasSuffix("/" + name) } }
        try waitFor("the two failures") { rows in
            (row(rows, "half.jpg")?["error"]?.contains("truncated") ?? false) && (row(rows, "empty.png")?["error"]?.contains("empty file") ?? false)
        }
        try full.write(to: photos.appendingPathComponent("half.jpg"))
        try ImageEncoder.writePNG(syntheticPhoto(width: 180, height: 160, seed: 10), to: photos.appendingPathComponent("empty.png"))
        try waitFor("the retried rows") { rows in
            rows.count == 2 && rows.allSatisfy { $0["error"] == "" && !$0["label"]!.isEmpty }
        }
        box.requestStop()
        while !thread.isFinished { usleep(20_000) }
        XCTAssertNil(box.error)
        let summary = try XCTUnwrap(box.summary)
        XCTAssertEqual(summary.images, 2)
        XCTAssertEqual(summary.unreadable, 0)
        XCTAssertEqual(summary.classified, 2)
        XCTAssertEqual(try readResults(out).rows.map { ($0["path"]! as NSString).lastPathComponent }, ["half.jpg", "empty.png"],
                       "rows replaced in place: half.jpg was handed out first (an empty file waits longer)")
    }
}

/// A run on another thread and its stop switch.
final class RunBox: @unchecked Sendable {
    var summary: ScreenSummary?
    var error: Error?
    private var stop = false
    private let lock = NSLock()
    var shouldStop: Bool { lock.lock(); defer { lock.unlock() }; return stop }
    func requestStop() { lock.lock(); stop = true; lock.unlock() }
}

/// A "model" that answers row `n` of every batch with `outputs[n % outputs.count]`.
final class FixedOutputModel: Layer {
    let name = "fixed"
    let outputs: [[Float]]
    var parameters: [Parameter] { [] }
    init(_ outputs: [[Float]]) { self.outputs = outputs }
    private(set) var seen = 0
    func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        let n = input.shape[0]
        let k = outputs[0].count
        var values: [Float] = []
        for i in 0..<n { values += outputs[(seen + i) % outputs.count] }
        seen += n
        return Tensor(values, shape: Shape([n, k]))
    }
}

/// Panel file stems as the screen names them (`street/p5.png` -> `p5`).
enum GradCAMStem {
    static func of(_ path: String) -> String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }
}
