/// The few things the screening store needs from a SQL database, so that one schema and one
/// set of statements serve SQLite (embedded, the default) and PostgreSQL (several machines).
/// The drivers live in their own targets (`SQLiteStore` on GRDB, `PostgresStore` on
/// postgres-nio), so a user of `Screening` builds neither.
///
/// Statements use `?` placeholders for bound values, never values spliced into the text; a
/// driver whose database numbers its placeholders (`$1`, PostgreSQL) rewrites them.
public protocol SQLDatabase: AnyObject {
    /// Which database it is (types and the few statements that differ).
    var dialect: SQLDialect { get }
    /// Where it is, for messages (a file path, or a URL without its password).
    var location: String { get }
    /// Runs `body` in one transaction that holds the store's write lock (SQLite: `BEGIN
    /// IMMEDIATE`; PostgreSQL: a transaction plus `pg_advisory_xact_lock` when `exclusive`):
    /// committed when `body` returns, rolled back when it throws.
    func transaction<T>(exclusive: Bool, _ body: (any SQLExecutor) throws -> T) throws -> T
    /// Runs `body`, which only reads, in one transaction that takes no write lock (SQLite: a
    /// deferred transaction reading a snapshot of the WAL, so readers never wait for writers
    /// nor for each other; PostgreSQL: an ordinary transaction).
    func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T
    /// Closes the connection (further calls throw).
    func close()
}

extension SQLDatabase {
    public func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T { try transaction(exclusive: false, body) }
}

/// Runs statements inside a transaction.
public protocol SQLExecutor {
    func execute(_ sql: String, _ values: [SQLValue]) throws
    /// The rows `sql` returns, each as its column values in order.
    func query(_ sql: String, _ values: [SQLValue]) throws -> [SQLRow]
}

extension SQLExecutor {
    public func execute(_ sql: String) throws { try execute(sql, []) }
    public func query(_ sql: String) throws -> [SQLRow] { try query(sql, []) }
    /// The first column of the first row (nil when there is no row or it is NULL).
    public func scalar(_ sql: String, _ values: [SQLValue] = []) throws -> SQLValue? {
        let rows = try query(sql, values)
        guard let first = rows.first?.values.first, first != .null else { return nil }
        return first
    }
}

public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres

    /// The column type of an auto-numbered primary key.
    var serialKey: String { self == .sqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY" }
    /// The column type of raw bytes.
    var bytes: String { self == .sqlite ? "BLOB" : "BYTEA" }
    /// The column type of a double.
    var double: String { self == .sqlite ? "REAL" : "DOUBLE PRECISION" }
    /// `FOR UPDATE SKIP LOCKED` where rows can be locked (PostgreSQL); SQLite's write
    /// transaction already excludes every other writer.
    var skipLocked: String { self == .sqlite ? "" : " FOR UPDATE SKIP LOCKED" }
}

/// One value bound to, or read from, a statement.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case bytes([UInt8])

    public init(_ value: Int) { self = .integer(Int64(value)) }
    public init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    public init(_ value: Double?) { self = value.map { .real($0) } ?? .null }
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    public init(_ value: Bool) { self = .integer(value ? 1 : 0) }

    public var int: Int? {
        switch self {
        case .integer(let v): return Int(v)
        case .real(let v) where v.rounded() == v && abs(v) < 9e15: return Int(v)
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case .integer(let v): return Double(v)
        case .real(let v): return v
        default: return nil
        }
    }

    public var text: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    public var bytes: [UInt8]? {
        switch self {
        case .bytes(let b): return b
        case .text(let s): return Array(s.utf8)
        default: return nil
        }
    }
}

/// One row of a result, its columns in statement order.
public struct SQLRow: Sendable {
    public let values: [SQLValue]
    public init(_ values: [SQLValue]) { self.values = values }

    public subscript(_ column: Int) -> SQLValue { column < values.count ? values[column] : .null }
    public func int(_ column: Int) -> Int? { self[column].int }
    public func double(_ column: Int) -> Double? { self[column].double }
    public func text(_ column: Int) -> String? { self[column].text }
    public func bytes(_ column: Int) -> [UInt8]? { self[column].bytes }
}
