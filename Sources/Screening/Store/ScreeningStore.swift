import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The screening store: the one storage interface of `rubble screen`, `rubble worker` and
/// `rubble export`, over any ``SQLDatabase`` (SQLite embedded by default, PostgreSQL for
/// several machines). Photos, their preparation and duplicate decisions, the queue of jobs,
/// results per model, panels, verdicts, runs and workers (``StoreSchema``).
///
/// Every method is one transaction: a crash (even SIGKILL) leaves what was committed and never
/// half a batch. Nothing is rewritten wholesale: a photo's rows are inserted once and its job
/// updated in place.
public final class ScreeningStore {
    public let database: any SQLDatabase
    public var location: String { database.location }
    var dialect: SQLDialect { database.dialect }

    /// Opens the store, applying migrations; throws before any change for a store of a newer schema.
    public init(_ database: any SQLDatabase) throws {
        self.database = database
        try StoreSchema.migrate(database)
    }

    /// Runs `body` in a transaction, turning driver errors into ``StoreError/failed(location:operation:reason:)``.
    func write<T>(_ operation: String, exclusive: Bool = false, _ body: (any SQLExecutor) throws -> T) throws -> T {
        do {
            return try database.transaction(exclusive: exclusive, body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.failed(location: location, operation: operation, reason: "\(error)")
        }
    }

    /// Runs `body`, which only reads, in a transaction that takes no write lock.
    func read<T>(_ operation: String, _ body: (any SQLExecutor) throws -> T) throws -> T {
        do {
            return try database.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.failed(location: location, operation: operation, reason: "\(error)")
        }
    }

    // MARK: - Settings, models, runs

    /// The stream-wide `key`: set to `value` by the first caller, afterwards it must equal `value`.
    public func fixSetting(_ key: String, to value: String) throws {
        try write("setting \(key)", exclusive: true) { db in
            if let stored = try db.scalar("SELECT value FROM settings WHERE key = ?", [.text(key)])?.text {
                guard stored == value else {
                    throw StoreError.settingMismatch(location: location, key: key, stored: stored, requested: value)
                }
            } else {
                try db.execute("INSERT INTO settings (key, value) VALUES (?, ?)", [.text(key), .text(value)])
            }
        }
    }

    public func setting(_ key: String) throws -> String? {
        try write("setting \(key)") { db in try db.scalar("SELECT value FROM settings WHERE key = ?", [.text(key)])?.text }
    }

    /// The model's id, registering it on first use.
    public func register(_ model: StoredModel) throws -> Int {
        let names = model.classNames.joined(separator: "\n")
        return try write("registering the model", exclusive: true) { db in
            if let row = try db.query("SELECT id, class_names FROM models WHERE fingerprint = ?", [.text(model.fingerprint)]).first {
                guard row.text(1) == names else {
                    throw StoreError.modelMismatch(location: location, fingerprint: model.fingerprint,
                                                   reason: "stored with classes \(row.text(1)?.split(separator: "\n") ?? []), "
                                                       + "now \(model.classNames)")
                }
                guard let id = row.int(0) else { throw StoreError.corruptRow(location: location, table: "models", detail: "id is not a number") }
                return id
            }
            let rows = try db.query("INSERT INTO models (fingerprint, description, class_names, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                                    [.text(model.fingerprint), .text(model.description), .text(names), .text(StoreClock.timestamp())])
            guard let id = rows.first?.int(0) else { throw StoreError.corruptRow(location: location, table: "models", detail: "no id returned") }
            return id
        }
    }

    /// Every model of the store, oldest first.
    public func models() throws -> [(id: Int, model: StoredModel)] {
        try write("reading the models") { db in
            try db.query("SELECT id, fingerprint, description, class_names FROM models ORDER BY id").compactMap { row in
                guard let id = row.int(0), let fingerprint = row.text(1), let names = row.text(3) else { return nil }
                return (id, StoredModel(fingerprint: fingerprint, description: row.text(2) ?? "",
                                        classNames: names.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)))
            }
        }
    }

    /// Starts a run of `modelID` over `folder` with `options`; returns its id.
    public func startRun(modelID: Int, folder: String, options: RunOptions) throws -> Int {
        let json = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        return try write("starting the run") { db in
            let rows = try db.query("""
                INSERT INTO runs (model_id, folder, options, host, pid, started_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id
                """, [SQLValue(modelID), .text(folder), .text(json), .text(Self.hostName), SQLValue(Int(getpid())),
                      .text(StoreClock.timestamp())])
            guard let id = rows.first?.int(0) else { throw StoreError.corruptRow(location: location, table: "runs", detail: "no id returned") }
            return id
        }
    }

    public func finishRun(_ id: Int) throws {
        try write("finishing the run") { db in
            try db.execute("UPDATE runs SET finished_at = ? WHERE id = ?", [.text(StoreClock.timestamp()), SQLValue(id)])
        }
    }

    /// The options run `id` was started with.
    public func runOptions(_ id: Int) throws -> RunOptions {
        let json = try write("reading run \(id)") { db in try db.scalar("SELECT options FROM runs WHERE id = ?", [SQLValue(id)])?.text }
        guard let json, let options = try? JSONDecoder().decode(RunOptions.self, from: Data(json.utf8)) else {
            throw StoreError.corruptRow(location: location, table: "runs", detail: "run \(id) has no readable options")
        }
        return options
    }

    /// The latest run's model (for `rubble export` without a model choice).
    public func latestRunModel() throws -> Int? {
        try write("reading the runs") { db in try db.scalar("SELECT model_id FROM runs ORDER BY id DESC LIMIT 1")?.int }
    }

    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A model as the store knows it: results are kept per fingerprint.
public struct StoredModel: Sendable, Equatable {
    /// Identifies what decides the probabilities: architecture, input size, preprocessing,
    /// classes and the weights' digest.
    public var fingerprint: String
    public var description: String
    public var classNames: [String]

    public init(fingerprint: String, description: String, classNames: [String]) {
        self.fingerprint = fingerprint
        self.description = description
        self.classNames = classNames
    }
}

/// What a run asks of every worker that takes its photos (stored with the run as JSON).
public struct RunOptions: Codable, Sendable, Equatable {
    public var positive: Int
    public var threshold: Float
    public var minimumSide: Int
    /// Draw Grad-CAM panels of flagged photos.
    public var explain: Bool

    public init(positive: Int, threshold: Float, minimumSide: Int, explain: Bool) {
        self.positive = positive
        self.threshold = threshold
        self.minimumSide = minimumSide
        self.explain = explain
    }
}
