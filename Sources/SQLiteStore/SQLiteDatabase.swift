import Foundation
import GRDB
import Screening

/// The screening store's embedded database: one SQLite file through GRDB, in WAL mode (readers
/// never block the writer; a process killed at any moment leaves every committed transaction).
/// Several processes of one machine may share the file: each writing transaction starts with
/// `BEGIN IMMEDIATE`, which takes the write lock at once (waiting up to ``busySeconds``), so the
/// store's decisions are serialised without a lock upgrade that could fail half-way; reads
/// (``read(_:)``) are deferred transactions on a snapshot and wait for no one.
public final class SQLiteDatabase: SQLDatabase {
    public let dialect = SQLDialect.sqlite
    public let location: String
    /// How long a transaction waits for another process's write lock.
    public static let busySeconds: TimeInterval = 60
    private let queue: DatabaseQueue

    /// Opens (creating if needed) the database file at `path`.
    public init(path: String) throws {
        location = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busySeconds)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            // In WAL mode NORMAL keeps every transaction across a process crash; only a power
            // loss can take back the last ones.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw StoreError.unreachable(location: path, reason: Self.reason(error))
        }
    }

    public func transaction<T>(exclusive: Bool, _ body: (any SQLExecutor) throws -> T) throws -> T {
        // Writers of this process queue on a lock of their own: SQLite's busy handler would
        // have them sleep (1, 2, 5 ... 100 ms) while another thread holds the file's write lock.
        let writers = Self.writers(of: location)
        writers.lock()
        defer { writers.unlock() }
        return try run(.immediate, body)
    }

    private func run<T>(_ kind: Database.TransactionKind, _ body: (any SQLExecutor) throws -> T) throws -> T {
        var result: T?
        try queue.inTransaction(kind) { db in
            result = try body(Executor(db: db))
            return .commit
        }
        guard let result else { throw StoreError.failed(location: location, operation: "a transaction", reason: "no result") }
        return result
    }

    private static let registry = NSLock()
    nonisolated(unsafe) private static var locks: [String: NSLock] = [:]

    /// The one lock of every connection of this process to the file at `path`.
    private static func writers(of path: String) -> NSLock {
        let key = URL(fileURLWithPath: path).standardizedFileURL.path
        registry.lock()
        defer { registry.unlock() }
        if let lock = locks[key] { return lock }
        let lock = NSLock()
        locks[key] = lock
        return lock
    }

    public func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T { try run(.deferred, body) }

    public func close() {
        try? queue.close()
    }

    static func reason(_ error: Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        return "\(error)"
    }

    private struct Executor: SQLExecutor {
        let db: Database

        func execute(_ sql: String, _ values: [SQLValue]) throws {
            try db.execute(sql: sql, arguments: Self.arguments(values))
        }

        func query(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow] {
            try Row.fetchAll(db, sql: sql, arguments: Self.arguments(values)).map { row in
                SQLRow(row.databaseValues.map { value in
                    switch value.storage {
                    case .null: return .null
                    case .int64(let v): return .integer(v)
                    case .double(let v): return .real(v)
                    case .string(let v): return .text(v)
                    case .blob(let data): return .bytes([UInt8](data))
                    }
                })
            }
        }

        static func arguments(_ values: [SQLValue]) -> StatementArguments {
            StatementArguments(values.map { value -> DatabaseValue in
                switch value {
                case .null: return .null
                case .integer(let v): return v.databaseValue
                case .real(let v): return v.databaseValue
                case .text(let v): return v.databaseValue
                case .bytes(let v): return Data(v).databaseValue
                }
            })
        }
    }
}
