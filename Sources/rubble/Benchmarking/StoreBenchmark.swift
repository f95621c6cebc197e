import ArgumentParser
import Foundation
import Screening
import Vision

/// `rubble bench store`: what the store costs per photo, without a model: the statements and
/// transactions a screen issues for each photo (arrival, claim, preparation, decision, result),
/// timed on SQLite or PostgreSQL, so the figure can be set beside the model's classify time.
struct BenchStore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Time the screening store's work per photo (arrivals, claims, decisions, results) on SQLite or PostgreSQL.")

    @OptionGroup var store: StoreOptions

    @Option(help: "Photos per run.")
    var photos: Int = 2000

    @Option(help: "Photos per claimed batch.")
    var batchSize: Int = 32

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    func validate() throws {
        if !(1...1_000_000).contains(photos) { throw ValidationError("--photos must be in 1...1000000") }
        if batchSize < 1 { throw ValidationError("--batch-size must be >= 1") }
    }

    func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-bench-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = store.url ?? "sqlite:" + folder.appendingPathComponent("bench.sqlite").path
        let counting = try CountingDatabase(StoreOptions(url: url).openDatabase())
        let opened = try ScreeningStore(counting)
        let fingerprint = "bench-\(UUID().uuidString)"
        let model = try opened.register(StoredModel(fingerprint: fingerprint, description: "bench", classNames: ["damage", "intact"]))
        let run = try opened.startRun(modelID: model, folder: "bench", options: RunOptions(positive: 0, threshold: 0.5, minimumSide: 0, explain: false))
        var state = DuplicateState(threshold: 10)
        try opened.decide(&state)
        counting.reset()
        var times: [String: Double] = [:]
        func timed<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
            let start = ContinuousClock.now
            defer {
                let d = ContinuousClock.now - start
                times[stage, default: 0] += Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            }
            return try body()
        }
        var generator = SystemRandomNumberGenerator()
        let runTag = UUID().uuidString
        for start in stride(from: 0, to: photos, by: batchSize) {
            let n = min(batchSize, photos - start)
            // One in ten photos repeats an earlier picture (a near or exact duplicate's hash).
            let arrivals = (0..<n).map { i -> PhotoArrival in
                let name = Array("/bench/\(runTag)/\(start + i).jpg".utf8)
                return PhotoArrival(path: String(decoding: name, as: UTF8.self), pathBytes: name, filePath: name,
                                    digest: SHA256.hash(name).hex)
            }
            _ = try timed("enqueue") { try opened.enqueue(arrivals, modelID: model, runID: run) }
            let jobs = try timed("claim") { try opened.claim(modelID: model, worker: "bench", limit: n, leaseSeconds: 60) }
            try timed("record") {
                try opened.record(jobs.map { job in
                    var record = PreparationRecord(photo: job.photo, outcome: .ready)
                    record.hash = PerceptualHash(bits: job.photo % 10 == 9 ? UInt64(job.photo - 9) &* 0x9E37_79B9_7F4A_7C15
                                                 : UInt64.random(in: .min ... .max, using: &generator))
                    return record
                })
            }
            try timed("decide") { try opened.decide(&state) }
            try timed("complete") {
                try opened.complete(jobs.map { job in
                    var result = PhotoResult(job: job.job, photo: job.photo, status: .done)
                    result.probabilities = [0.25, 0.75]
                    result.label = "intact"
                    return result
                }, worker: "bench", modelID: model)
            }
            try timed("heartbeat") { try opened.heartbeat(worker: "bench", modelID: model, photos: n, busySeconds: 0) }
        }
        let total = times.values.reduce(0, +)
        let stages = ["enqueue", "claim", "record", "decide", "complete", "heartbeat"]
        if json {
            var object: [String: Any] = ["store": counting.dialect.rawValue, "photos": photos, "batch": batchSize,
                                         "ms_per_photo": total * 1000 / Double(photos),
                                         "statements_per_photo": Double(counting.statements) / Double(photos),
                                         "transactions_per_photo": Double(counting.transactions) / Double(photos)]
            for s in stages { object["ms_per_photo_\(s)"] = (times[s] ?? 0) * 1000 / Double(photos) }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("store \(counting.location) (\(counting.dialect.rawValue)), \(photos) photos in batches of \(batchSize)")
            for s in stages {
                print(s.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: "%8.3f ms/photo", (times[s] ?? 0) * 1000 / Double(photos)))
            }
            print(String(format: "total     %8.3f ms/photo (%.0f photos/s); %.1f statements and %.2f transactions per photo",
                         total * 1000 / Double(photos), Double(photos) / total, Double(counting.statements) / Double(photos),
                         Double(counting.transactions) / Double(photos)))
        }
        counting.close()
    }
}

/// Counts the statements and transactions going to a database (for `bench store`).
final class CountingDatabase: SQLDatabase {
    let base: any SQLDatabase
    private(set) var statements = 0
    private(set) var transactions = 0
    var dialect: SQLDialect { base.dialect }
    var location: String { base.location }

    init(_ base: any SQLDatabase) { self.base = base }

    func reset() {
        statements = 0
        transactions = 0
    }

    func transaction<T>(exclusive: Bool, _ body: (any SQLExecutor) throws -> T) throws -> T {
        transactions += 1
        return try base.transaction(exclusive: exclusive) { executor in
            try body(Counting(base: executor, owner: self))
        }
    }

    func close() { base.close() }

    private struct Counting: SQLExecutor {
        let base: any SQLExecutor
        let owner: CountingDatabase
        func execute(_ sql: String, _ values: [SQLValue]) throws {
            owner.statements += 1
            try base.execute(sql, values)
        }
        func query(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
            owner.statements += 1
            return try base.query(sql, values)
        }
    }
}
