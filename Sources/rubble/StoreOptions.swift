import ArgumentParser
import Foundation
import PostgresStore
import Screening
import SQLiteStore

/// `--db`: where the screening store is. `PATH` or `sqlite:PATH` (an SQLite file, created if
/// missing), or `postgres://user@host:port/database` (several machines on one stream).
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"),
            help: ArgumentHelp("The store: PATH or sqlite:PATH (SQLite), or postgres://user@host:port/database (password in PGPASSWORD) (default for screen: OUT/\(Self.defaultFileName)).",
                               valueName: "url"))
    var url: String?

    /// The store file `rubble screen` keeps in OUT when no `--db` is given.
    static let defaultFileName = "rubble.sqlite"

    /// The SQLite file `url` names (nil for PostgreSQL), or the default in `output`.
    func sqlitePath(defaultIn output: URL?) throws -> String? {
        guard let url else { return output.map { $0.appendingPathComponent(Self.defaultFileName).path } }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return nil }
        let path = url.hasPrefix("sqlite:") ? String(url.dropFirst("sqlite:".count)) : url
        guard !path.isEmpty else { throw StoreError.invalidURL(url, reason: "no file path") }
        if path.contains("://") { throw StoreError.invalidURL(url, reason: "unknown scheme") }
        return path
    }

    init() {}

    init(url: String) { self.url = url }

    /// Opens the store (migrating it); every failure is a clear error before any work.
    func open(defaultIn output: URL? = nil) throws -> ScreeningStore {
        try ScreeningStore(openDatabase(defaultIn: output))
    }

    /// The database the URL names, not yet migrated.
    func openDatabase(defaultIn output: URL? = nil) throws -> any SQLDatabase {
        if let path = try sqlitePath(defaultIn: output) {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            return try SQLiteDatabase(path: path)
        }
        guard let url else { throw ValidationError("--db is required") }
        return try PostgresDatabase(url: url)
    }

    /// Deletes the default SQLite store in `output` (with its WAL files): `--overwrite`.
    static func removeDefault(in output: URL) {
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(at: output.appendingPathComponent(defaultFileName + suffix))
        }
    }
}

extension LoadedModel {
    /// What decides this model's probabilities, as the store's fingerprint: architecture, input
    /// size, preprocessing, classes and the weights file's SHA-256. Random weights are a new
    /// model every time (their results never count as "already screened").
    func storedModel(weights: String?, description: String, classNames: [String]) throws -> StoredModel {
        let digest: String
        if let weights {
            guard let data = FileManager.default.contents(atPath: weights) else {
                throw ValidationError("\(weights): cannot read the weights file")
            }
            digest = SHA256.hash(data).hex
        } else {
            digest = "random-" + UUID().uuidString
        }
        let identity = [architecture.rawValue, "\(pipeline.imageSize)", "\(pipeline.preprocessing)", "\(pipeline.resize)",
                        classNames.joined(separator: ","), digest].joined(separator: "|")
        return StoredModel(fingerprint: SHA256.hash(Data(identity.utf8)).hex, description: description, classNames: classNames)
    }
}
