import Foundation
import Inference
import Layers
import PostgresStore
import Screening
import SQLiteStore
import Tensor
import TestSupport
import Vision
import XCTest

/// The store under the screen: arrivals, leases, the decision point, several workers (one of
/// which dies), reruns and hostile paths. On SQLite always; on PostgreSQL too when
/// `RUBBLE_POSTGRES_URL` names a database (`.ci/run` starts a throwaway cluster and sets it).
final class StoreWorkerTests: XCTestCase {
    /// 30 photos: 18 distinct, 6 byte-identical copies, 6 near duplicates (re-encoded at
    /// another JPEG quality), interleaved so duplicates fall into other workers' batches.
    func makeStream(in folder: URL) throws -> Int {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for i in 0..<18 {
            let image = syntheticPhoto(width: 160, height: 160, seed: i * 11 + 1)
            let name = folder.appendingPathComponent(String(format: "p%03d_a.jpg", i))
            try write(image, to: name, jpegQuality: 90)
            if i % 3 == 0 {
                // A byte-identical copy that arrives five photos later.
                try FileManager.default.copyItem(at: name, to: folder.appendingPathComponent(String(format: "p%03d_c.jpg", i + 5)))
            }
            if i % 3 == 1 {
                // The same picture at another quality, seven photos later.
                try write(image, to: folder.appendingPathComponent(String(format: "p%03d_n.jpg", i + 7)), jpegQuality: 60)
            }
        }
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).count
    }

    /// Queues `folder` as a screen does; returns the model and run ids.
    func enqueue(_ folder: URL, into store: ScreeningStore) throws -> (model: Int, run: Int) {
        let model = try store.register(StoredModel(fingerprint: "tiny", description: "tiny", classNames: screeningClassNames))
        let run = try store.startRun(modelID: model, folder: folder.path,
                                     options: RunOptions(positive: 0, threshold: 0.5, minimumSide: 0, explain: false))
        let files = try PhotoDirectory.scan(folder).map(\.file)
        _ = try store.enqueue(PhotoIntake.read(files), modelID: model, runID: run)
        return (model, run)
    }

    /// (path, status, duplicate_of, label) of every row, in arrival order.
    func answers(_ store: ScreeningStore, model: Int) throws -> [String] {
        try store.rows(modelID: model, classCount: 2).map {
            "\(($0.row.path as NSString).lastPathComponent) \($0.status.rawValue) "
                + "\(($0.row.duplicateOf as NSString).lastPathComponent) \($0.row.duplicateKind ?? "-") \($0.row.label)"
        }
    }

    func testThreeWorkersOneDyingGiveTheSingleWorkerAnswers() throws {
        let photos = try temporaryFolder(self, "stream")
        let count = try makeStream(in: photos)
        for (kind, open) in try databases("workers") {
            // The reference: one worker, in arrival order.
            let single = try ScreeningStore(open())
            let ids = try enqueue(photos, into: single)
            let one = try worker(single, modelID: ids.model, name: "single")
            try one.drain()
            let reference = try answers(single, model: ids.model)
            XCTAssertEqual(reference.count, count, kind)
            XCTAssertEqual(reference.filter { $0.contains(" exact") }.count, 6, "\(kind): \(reference)")
            XCTAssertEqual(reference.filter { $0.contains(" near") }.count, 6, "\(kind): \(reference)")
            single.database.close()

            // Three workers on another store of the same stream; one claims a batch and dies.
            for table in try databases("workers-\(kind)") where table.0 == kind {
                let store = try ScreeningStore(table.1())
                let ids = try enqueue(photos, into: store)
                let dead = try store.claim(modelID: ids.model, worker: "dead", limit: 4, leaseSeconds: 1.5)
                XCTAssertEqual(dead.count, 4)
                let group = DispatchGroup()
                let failures = LockedErrors()
                for n in 0..<3 {
                    let connection = try ScreeningStore(table.1())
                    let w = try worker(connection, modelID: ids.model, name: "w\(n)")
                    let box = UncheckedBox(w)
                    DispatchQueue.global().async(group: group) {
                        do { try box.value.drain() } catch { failures.add(error) }
                    }
                }
                XCTAssertEqual(group.wait(timeout: .now() + 120), .success, "\(kind): the workers finished")
                XCTAssertEqual(failures.errors.map { "\($0)" }, [], kind)
                XCTAssertEqual(try answers(store, model: ids.model), reference, "\(kind): the same answers as one worker")
                let counts = try store.tableCounts()
                XCTAssertEqual(counts["results"], count, "\(kind): exactly one result per photo")
                XCTAssertEqual(counts["decisions"], count, kind)
                XCTAssertEqual(try store.queueDepth(modelID: ids.model), 0, kind)
                // The dead worker's late answer is refused: its lease was taken over.
                var late = PhotoResult(job: dead[0].job, photo: dead[0].photo, status: .error)
                late.error = "late"
                XCTAssertEqual(try store.complete([late], worker: "dead", modelID: ids.model), 0, kind)
            }
        }
    }

    func testHostilePathsSurviveTheStoreAndTheExport() throws {
        let root = try temporaryFolder(self, "paths")
        for (kind, open) in try databases("paths") {
            let store = try ScreeningStore(open())
            let model = try store.register(StoredModel(fingerprint: "m", description: "m", classNames: screeningClassNames))
            let run = try store.startRun(modelID: model, folder: "f", options: RunOptions(positive: 0, threshold: 0.5, minimumSide: 0, explain: false))
            let names: [[UInt8]] = [Array("a,b \"q\".jpg".utf8), Array("line\nbreak.jpg".utf8), [0x66, 0xFF, 0xFE, 0x2E, 0x6A, 0x70, 0x67]]
            var arrivals: [PhotoArrival] = []
            for (i, bytes) in names.enumerated() {
                var a = PhotoArrival(path: FileName.escape(bytes), pathBytes: [0x2F] + bytes, filePath: [0x2F] + bytes,
                                     digest: String(repeating: "\(i)", count: 64))
                a.latitude = 37.5 + Double(i)
                a.longitude = -122.25
                a.takenAt = "2023-02-06T04:17:3\(i)"
                arrivals.append(a)
            }
            let queued = try store.enqueue(arrivals, modelID: model, runID: run)
            XCTAssertEqual(queued.map(\.queued), [true, true, true], kind)
            XCTAssertEqual(try store.enqueue(arrivals, modelID: model, runID: run).map(\.queued), [false, false, false],
                           "\(kind): the same (path, digest) is never queued twice")
            let jobs = try store.claim(modelID: model, worker: "w", limit: 10, leaseSeconds: 60)
            XCTAssertEqual(jobs.map(\.filePath), names.map { [0x2F] + $0 }, "\(kind): the bytes of every name come back")
            try store.complete(jobs.map { job in
                var r = PhotoResult(job: job.job, photo: job.photo, status: .done)
                r.probabilities = [0.75, 0.25]
                r.label = "damage"
                r.flagged = true
                return r
            }, worker: "w", modelID: model)
            let out = root.appendingPathComponent(kind)
            var export = ScreenExport(store: store, modelID: model, classNames: screeningClassNames, output: out, positive: 0,
                                      threshold: 0.5, modelDescription: "m")
            try export.refresh(force: true, running: false)
            let (header, rows) = try readResults(out)
            XCTAssertEqual(Array(header.suffix(3)), ["latitude", "longitude", "taken_at"], kind)
            XCTAssertEqual(rows.map { $0["path"]! }, names.map(FileName.escape), kind)
            XCTAssertEqual(rows.map { $0["latitude"]! }, ["37.500000", "38.500000", "39.500000"], kind)
            XCTAssertEqual(rows.map { $0["taken_at"]! }, (0..<3).map { "2023-02-06T04:17:3\($0)" }, kind)
            XCTAssertEqual(rows.map { $0["p_damage"]! }, ["0.750000", "0.750000", "0.750000"], kind)
            XCTAssertEqual(export.summary.flagged, 3, kind)
        }
    }

    func testAStoreOfANewerSchemaIsRefusedUnchanged() throws {
        let root = try temporaryFolder(self, "schema")
        let path = root.appendingPathComponent("s.sqlite").path
        let store = try ScreeningStore(SQLiteDatabase(path: path))
        try store.database.transaction(exclusive: true) { db in
            try db.execute("INSERT INTO migrations (version, applied_at) VALUES (99, 'later')")
        }
        store.database.close()
        XCTAssertThrowsError(try ScreeningStore(SQLiteDatabase(path: path))) { error in
            XCTAssertEqual(error as? StoreError, .newerSchema(location: path, found: 99, known: StoreSchema.version))
            XCTAssertTrue("\(error)".contains("upgrade Rubble"), "\(error)")
        }
        XCTAssertThrowsError(try PostgresDatabase(url: "postgres://nobody@127.0.0.1:1/none")) { error in
            guard case .unreachable(let location, _)? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(location, "postgres://nobody@127.0.0.1:1/none")
        }
        XCTAssertThrowsError(try PostgresDatabase(url: "postgres://127.0.0.1/db")) { error in
            XCTAssertTrue("\(error)".contains("no user name"), "\(error)")
        }
    }

    func testAStoppedScreenRerunEndsAsAnUninterruptedOne() throws {
        let root = try temporaryFolder(self, "rerun")
        let photos = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        _ = try makeStream(in: photos)
        let modelFolder = root.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: modelFolder, withIntermediateDirectories: true)
        let whole = root.appendingPathComponent("whole"), parts = root.appendingPathComponent("parts")
        _ = try screener(out: whole, modelFolder: modelFolder, threshold: 0.3).run(directory: photos)
        // Stopped after its first batch, then rerun: the second run skips what the first answered.
        let first = try screener(out: parts, modelFolder: modelFolder, threshold: 0.3)
        var batches = 0
        first.progress = { _ in batches += 1 }
        let stopped = try first.run(directory: photos) { batches >= 1 }
        XCTAssertTrue(stopped.stopped)
        XCTAssertLessThan(try readResults(parts).rows.count, 30)
        let second = try screener(out: parts, modelFolder: modelFolder, threshold: 0.3).run(directory: photos)
        XCTAssertGreaterThanOrEqual(second.resumed, 4, "the first batch is not screened again")
        let a = try readResults(whole).rows, b = try readResults(parts).rows
        XCTAssertEqual(a.count, 30)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.filter { $0.key != "milliseconds" }, y.filter { $0.key != "milliseconds" })
        }
        XCTAssertEqual(second.images, 30, "the summary counts the whole folder once")
    }

    /// EXIF read from JPEGs with known tags reaches the store and results.csv; malformed EXIF
    /// and a PNG give empty fields, never a failed photo.
    func testEXIFFieldsReachTheResults() throws {
        let root = try temporaryFolder(self, "exif")
        let photos = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        for name in ["exif_ne_full_mm.jpg", "exif_sw_digitized_mm.jpg", "exif_invalid_values_mm.jpg"] {
            try FileManager.default.copyItem(at: Fixtures.url("exif/\(name)"), to: photos.appendingPathComponent(name))
        }
        try write(syntheticPhoto(width: 40, height: 40, seed: 2), to: photos.appendingPathComponent("plain.png"))
        var options = ScreenOptions(classNames: screeningClassNames, positive: 0)
        options.minimumSide = 0
        options.explain = false
        let out = root.appendingPathComponent("out")
        _ = try storeScreener(model: FixedOutputModel([[0.4, 0.6]]), pipeline: ImagePipeline(imageSize: 48), options: options,
                              output: out).run(directory: photos)
        let rows = Dictionary(uniqueKeysWithValues: try readResults(out).rows.map { (($0["path"]! as NSString).lastPathComponent, $0) })
        XCTAssertEqual(rows["exif_ne_full_mm.jpg"].map { [$0["latitude"]!, $0["longitude"]!, $0["taken_at"]!] },
                       ["37.175139", "37.037569", "2023-02-06T04:17:35+03:00"])
        XCTAssertEqual(rows["exif_sw_digitized_mm.jpg"].map { [$0["latitude"]!, $0["longitude"]!, $0["taken_at"]!] },
                       ["-33.449000", "-70.650300", "2010-02-27T03:34:08-03:00"])
        for name in ["exif_invalid_values_mm.jpg", "plain.png"] {
            XCTAssertEqual(rows[name].map { [$0["latitude"]!, $0["longitude"]!, $0["taken_at"]!, $0["error"]!] }, ["", "", "", ""], name)
            XCTAssertEqual(rows[name]?["label"], "no_damage", name)
        }
    }

    func testTheRelevancyStageSkipsTheDamageModel() throws {
        let root = try temporaryFolder(self, "relevance")
        let photos = root.appendingPathComponent("photos")
        for i in 0..<6 { try write(syntheticPhoto(width: 160, height: 160, seed: i * 17 + 3), to: photos.appendingPathComponent("\(i).png")) }
        var options = ScreenOptions(classNames: screeningClassNames, positive: 0)
        options.threshold = 0
        options.batchSize = 8
        options.explain = false
        // Relevant, irrelevant, ... in path order.
        let filter = try RelevanceFilter(model: FixedOutputModel([[0.2, 0.8], [0.9, 0.1]]), pipeline: ImagePipeline(imageSize: 32),
                                         classNames: ["irrelevant", "relevant"], relevantClass: 1, threshold: 0.5)
        let damage = FixedOutputModel([[0.7, 0.3]])
        let out = root.appendingPathComponent("out")
        let summary = try storeScreener(model: damage, pipeline: ImagePipeline(imageSize: 48), options: options, output: out,
                                        relevance: filter).run(directory: photos)
        let rows = try readResults(out).rows
        XCTAssertEqual(rows.map { $0["label"]! }, ["damage", "irrelevant", "damage", "irrelevant", "damage", "irrelevant"])
        XCTAssertEqual(rows.map { $0["relevance"]! }, ["0.800000", "0.100000", "0.800000", "0.100000", "0.800000", "0.100000"])
        XCTAssertEqual(rows.filter { $0["label"] == "irrelevant" }.map { $0["p_damage"]! }, ["", "", ""])
        XCTAssertEqual(summary.irrelevant, 3)
        XCTAssertEqual(summary.classified, 3)
        XCTAssertEqual(summary.flagged, 3, "irrelevant photos are never flagged")
        XCTAssertTrue(summary.line.contains("3 irrelevant"), summary.line)
        XCTAssertEqual(damage.seen, 3, "the damage model saw the relevant photos only")
    }
}

final class LockedErrors: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Error] = []
    func add(_ e: Error) { lock.lock(); list.append(e); lock.unlock() }
    var errors: [Error] { lock.lock(); defer { lock.unlock() }; return list }
}

final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
